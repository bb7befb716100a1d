//! `#[remote(perspective)]` and `#[remote(view)]` at run time, without a
//! network: the dispatch future is called directly, as a broker calls it.
//! Wire names, the perspective a view method receives, and the errors
//! Twisted's `Avatar.perspectiveMessageReceived` and
//! `ViewPoint.remoteMessageReceived` raise.

use std::sync::Arc;

use spread::{Call, Dict, Perspective, Referenceable, RemoteError, Value, Viewable, remote};

/// An avatar, as a realm returns it after a login.
struct User {
    name: String,
}

#[remote(perspective)]
impl User {
    async fn join_group(&self, group: String, silently: bool) -> String {
        let how = if silently { "quietly " } else { "" };
        format!("{} {how}joined {group}", self.name)
    }

    #[pb(name = "whoAmI")]
    async fn name(&self) -> String {
        self.name.clone()
    }
}

/// A viewable whose methods may be called outside any perspective.
struct Board;

#[remote(view)]
impl Board {
    async fn post(&self, perspective: Option<Perspective>, text: String) -> String {
        let who = perspective
            .as_ref()
            .map_or("nobody", Perspective::avatar_id);
        format!("{who}: {text}")
    }

    #[pb(name = "poster")]
    async fn avatar_name(&self, perspective: Option<Perspective>) -> Option<String> {
        let perspective = perspective?;
        perspective.avatar::<User>().map(|user| user.name.clone())
    }

    /// Needs a login.
    async fn delete_post(&self, who: Perspective, index: i64) -> String {
        format!("{} deleted post {index}", who.avatar_id())
    }
}

fn call(method: &str, args: Vec<Value>) -> Call {
    call_kw(method, args, Dict::new())
}

fn call_kw(method: &str, args: Vec<Value>, kwargs: Dict) -> Call {
    Call {
        method: method.to_owned(),
        args,
        kwargs,
    }
}

async fn perspective_call(user: &Arc<User>, call: Call) -> Result<Value, RemoteError> {
    user.clone().remote_message(call).await
}

async fn view_call(perspective: Option<&Perspective>, call: Call) -> Result<Value, RemoteError> {
    Arc::new(Board)
        .view_message(perspective.cloned(), call)
        .await
}

fn alice() -> Perspective {
    Perspective::new(
        "alice",
        Arc::new(User {
            name: "Alice".to_owned(),
        }),
    )
}

fn type_error(result: Result<Value, RemoteError>) -> String {
    match result {
        Err(e) => {
            assert_eq!(e.remote_type, "builtins.TypeError", "{e:?}");
            e.value
        }
        other => panic!("expected a TypeError, got {other:?}"),
    }
}

fn user() -> Arc<User> {
    Arc::new(User {
        name: "alice".to_owned(),
    })
}

#[tokio::test]
async fn perspective_methods_dispatch_by_camel_case_name() {
    let user = user();
    let answer = perspective_call(
        &user,
        call("joinGroup", vec![Value::from("ducks"), Value::from(false)]),
    )
    .await
    .unwrap();
    assert_eq!(answer, Value::from("alice joined ducks"));
    let kwargs = Dict::from_iter([(Value::from("silently"), Value::from(true))]);
    let answer = perspective_call(
        &user,
        call_kw("joinGroup", vec![Value::from("geese")], kwargs),
    )
    .await
    .unwrap();
    assert_eq!(answer, Value::from("alice quietly joined geese"));
    // `#[pb(name)]` replaces the camelCase name.
    let answer = perspective_call(&user, call("whoAmI", vec![]))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("alice"));
}

#[tokio::test]
async fn wrong_perspective_calls_give_pythons_type_errors() {
    let user = user();
    let missing = type_error(perspective_call(&user, call("joinGroup", vec![])).await);
    assert_eq!(
        missing,
        "perspective_joinGroup() missing 1 required positional argument: 'group'"
    );
    let extra = type_error(perspective_call(&user, call("whoAmI", vec![Value::from(1)])).await);
    assert_eq!(
        extra,
        "perspective_whoAmI() takes 0 positional arguments but 1 were given"
    );
    let wrong = type_error(perspective_call(&user, call("joinGroup", vec![Value::from(1)])).await);
    assert!(
        wrong.starts_with("perspective_joinGroup() argument 'group': "),
        "{wrong}"
    );
    let kwargs = Dict::from_iter([(Value::from("loudly"), Value::from(true))]);
    let unexpected = type_error(
        perspective_call(
            &user,
            call_kw("joinGroup", vec![Value::from("ducks")], kwargs),
        )
        .await,
    );
    assert!(
        unexpected.starts_with("perspective_joinGroup() got an unexpected keyword argument"),
        "{unexpected}"
    );
}

#[tokio::test]
async fn unknown_perspective_methods_are_attribute_errors() {
    // Avatar.perspectiveMessageReceived: getattr(self, "perspective_%s" % message).
    let err = perspective_call(&user(), call("fly", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.remote_type, "builtins.AttributeError");
    assert_eq!(
        err.value,
        "'User' object has no attribute 'perspective_fly'"
    );
    // The Rust name is not a wire name.
    let err = perspective_call(&user(), call("join_group", vec![]))
        .await
        .unwrap_err();
    assert_eq!(
        err.value,
        "'User' object has no attribute 'perspective_join_group'"
    );
}

#[tokio::test]
async fn view_methods_receive_the_calling_perspective() {
    let alice = alice();
    let answer = view_call(Some(&alice), call("post", vec![Value::from("quack")]))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("alice: quack"));
    // The perspective is the one the viewable was sent for, avatar and all.
    let answer = view_call(Some(&alice), call("poster", vec![]))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("Alice"));
    // Arguments after the perspective come by position or keyword.
    let kwargs = Dict::from_iter([(Value::from("index"), Value::from(3))]);
    let answer = view_call(Some(&alice), call_kw("deletePost", vec![], kwargs))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("alice deleted post 3"));
}

#[tokio::test]
async fn view_methods_outside_any_perspective_get_none() {
    let answer = view_call(None, call("post", vec![Value::from("quack")]))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("nobody: quack"));
    let answer = view_call(None, call("poster", vec![])).await.unwrap();
    assert_eq!(answer, Value::None);
}

#[tokio::test]
async fn a_view_method_taking_perspective_refuses_none() {
    let refused = type_error(view_call(None, call("deletePost", vec![Value::from(1)])).await);
    assert_eq!(
        refused,
        "view_deletePost() needs a logged-in perspective, but the viewable was sent \
         outside any perspective"
    );
}

#[tokio::test]
async fn wrong_view_calls_give_pythons_type_errors() {
    let alice = alice();
    // The perspective is not one of the call's arguments.
    let missing = type_error(view_call(Some(&alice), call("post", vec![])).await);
    assert_eq!(
        missing,
        "view_post() missing 1 required positional argument: 'text'"
    );
    let extra = type_error(view_call(Some(&alice), call("poster", vec![Value::from(1)])).await);
    assert_eq!(
        extra,
        "view_poster() takes 0 positional arguments but 1 were given"
    );
    let wrong =
        type_error(view_call(Some(&alice), call("deletePost", vec![Value::from("x")])).await);
    assert!(
        wrong.starts_with("view_deletePost() argument 'index': "),
        "{wrong}"
    );
}

#[tokio::test]
async fn unknown_view_methods_are_attribute_errors() {
    // ViewPoint.remoteMessageReceived: getattr(self.object, "view_%s" % message).
    let err = view_call(Some(&alice()), call("erase", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.remote_type, "builtins.AttributeError");
    assert_eq!(err.value, "'Board' object has no attribute 'view_erase'");
}

/// The facade reached through a re-export, as a crate wrapping spread would.
mod reexport {
    pub(crate) use spread as inner;
}

struct WrappedAvatar;

#[remote(perspective, crate = "crate::perspective_pass::reexport::inner")]
impl WrappedAvatar {
    async fn ping(&self) -> &'static str {
        "pong"
    }
}

struct WrappedView;

#[remote(crate = "crate::perspective_pass::reexport::inner", view)]
impl WrappedView {
    async fn ping(&self, _perspective: Option<Perspective>) -> &'static str {
        "pong"
    }
}

#[tokio::test]
async fn the_crate_argument_reaches_the_facade_through_a_re_export() {
    let answer = Arc::new(WrappedAvatar)
        .remote_message(call("ping", vec![]))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("pong"));
    let answer = Arc::new(WrappedView)
        .view_message(None, call("ping", vec![]))
        .await
        .unwrap();
    assert_eq!(answer, Value::from("pong"));
}
