//! Cred login between two Rust brokers: refusals are typed, a checker may
//! look users up asynchronously, and logout runs when the connection goes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use spread_broker::cred::{
    Avatar, Checker, Credentials, InMemoryChecker, Login, LoginError, LoginFailure, Portal, Realm,
};
use spread_broker::{Broker, BrokerOptions, Role};
use spread_flavors::FromValue;
use spread_flavors::{BoxFuture, Call, Perspective, Referenceable, RemoteError};
use spread_jelly::Value;

/// A perspective that says who it is.
struct User(String);

impl Referenceable for User {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "whoami" => Ok(Value::from(self.0.as_str())),
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

/// A realm that counts logouts.
#[derive(Default)]
struct Users {
    logouts: Arc<AtomicUsize>,
}

impl Realm for Users {
    fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>> {
        let logouts = self.logouts.clone();
        Box::pin(async move {
            let name = login.avatar_id.unwrap_or_else(|| "anonymous".into());
            let perspective = Perspective::new(name.clone(), Arc::new(User(name)));
            Ok(Avatar::new(perspective).on_logout(move || {
                logouts.fetch_add(1, Ordering::SeqCst);
            }))
        })
    }
}

/// A checker that looks users up "elsewhere": it answers after yielding,
/// and knows a password only by its MD5 digest.
struct Directory {
    asked: Mutex<Vec<String>>,
}

impl Checker for Directory {
    fn check(&self, credentials: Credentials) -> BoxFuture<Result<String, LoginFailure>> {
        self.asked
            .lock()
            .unwrap()
            .push(credentials.username().to_owned());
        Box::pin(async move {
            tokio::task::yield_now().await;
            // md5("rabbit")
            let digest = [
                0xa5, 0x1e, 0x47, 0xf6, 0x46, 0x37, 0x5a, 0xb6, 0xbf, 0x5d, 0xd2, 0xc4, 0x2d, 0x3e,
                0x61, 0x81,
            ];
            match credentials.username() {
                "bob" if credentials.check_md5_password(&digest) => Ok("bob".into()),
                _ => Err(LoginFailure::Unauthorized),
            }
        })
    }
}

fn pair(portal: Portal) -> (Broker, Broker) {
    let portal = Arc::new(portal);
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (server, serving) = Broker::new(
        b,
        Role::Server,
        BrokerOptions::default().with_root(portal.root()),
    );
    let (client, connecting) = Broker::new(a, Role::Client, BrokerOptions::default());
    tokio::spawn(serving);
    tokio::spawn(connecting);
    (client, server)
}

async fn whoami(me: &spread_broker::RemoteReference) -> Value {
    me.call_remote("whoami", vec![]).await.unwrap()
}

#[tokio::test]
async fn logins_refusals_and_logout() {
    let users = Users::default();
    let logouts = users.logouts.clone();
    let portal = Portal::new(users)
        .with_checker(InMemoryChecker::new().with_user("alice", "wonderland"))
        .with_checker(Directory {
            asked: Mutex::new(Vec::new()),
        });
    let (client, server) = pair(portal);
    // The first checker that vouches wins; the second looks bob up.
    let alice = client.login("alice", "wonderland", None).await.unwrap();
    assert_eq!(whoami(&alice).await, Value::from("alice"));
    let bob = client.login("bob", "rabbit", None).await.unwrap();
    assert_eq!(whoami(&bob).await, Value::from("bob"));
    for (user, password) in [("alice", "rabbit"), ("carol", "x")] {
        match client.login(user, password, None).await {
            Err(LoginError::Unauthorized(e)) => {
                assert_eq!(e.remote_type, "twisted.cred.error.UnauthorizedLogin");
                assert!(e.is("twisted.cred.error.LoginFailed"));
            }
            other => panic!("{user}: {other:?}"),
        }
    }
    // This portal allows no anonymous logins.
    match client.login_anonymous(None).await {
        Err(LoginError::NotAllowed(e)) => {
            assert_eq!(e.remote_type, "twisted.cred.error.UnhandledCredentials");
            assert!(e.is("twisted.cred.error.LoginFailed"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(logouts.load(Ordering::SeqCst), 0);
    // Releasing a perspective ends its login, as Twisted's decref does.
    drop(bob);
    server.wait_for_stats(|s| s.local_objects == 1).await;
    assert_eq!(logouts.load(Ordering::SeqCst), 1);
    // The rest log out when the connection closes, before it reports
    // closed.
    client.close();
    server.closed().await;
    assert_eq!(logouts.load(Ordering::SeqCst), 2);
    drop(alice);
}

/// A challenge is answered once: a peer cannot keep guessing at it, and a
/// right answer after a wrong one is refused too.
#[tokio::test]
async fn a_challenge_takes_one_response() {
    let portal = Portal::new(Users::default())
        .with_checker(InMemoryChecker::new().with_user("alice", "wonderland"));
    let (client, _server) = pair(portal);
    let root = client.root_object().await.unwrap();
    let challenged = root
        .call_remote("login", vec![Value::from(&b"alice"[..])])
        .await
        .unwrap();
    let Value::Tuple(items) = challenged else {
        panic!("{challenged:?}")
    };
    let challenger = spread_broker::RemoteReference::from_value(&items[1]).unwrap();
    let wrong = Value::from(&[0u8; 16][..]);
    for _ in 0..2 {
        match challenger
            .call_remote("respond", vec![wrong.clone(), Value::None])
            .await
        {
            Err(spread_broker::CallError::Remote(e)) => {
                assert_eq!(e.remote_type, "twisted.cred.error.UnauthorizedLogin")
            }
            other => panic!("{other:?}"),
        }
    }
    // A fresh login still works.
    assert!(client.login("alice", "wonderland", None).await.is_ok());
}

/// One avatar object given to two logins: each login is its own entry,
/// served for its own perspective.
#[tokio::test]
async fn two_logins_of_one_avatar_stay_apart() {
    struct Shared(Arc<User>);

    impl Realm for Shared {
        fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>> {
            let avatar = self.0.clone();
            Box::pin(async move {
                let name = login.avatar_id.unwrap_or_default();
                Ok(Avatar::new(Perspective::new(name, avatar)))
            })
        }
    }

    let portal = Portal::new(Shared(Arc::new(User("the avatar".into())))).with_checker(
        InMemoryChecker::new()
            .with_user("alice", "wonderland")
            .with_user("bob", "rabbit"),
    );
    let (client, server) = pair(portal);
    let alice = client.login("alice", "wonderland", None).await.unwrap();
    let bob = client.login("bob", "rabbit", None).await.unwrap();
    assert!(!alice.is_same_object(&bob));
    server.wait_for_stats(|s| s.local_objects == 2).await;
}

#[tokio::test]
async fn anonymous_logins_where_allowed() {
    let (client, _server) = pair(Portal::new(Users::default()).allow_anonymous());
    let me = client.login_anonymous(None).await.unwrap();
    assert_eq!(whoami(&me).await, Value::from("anonymous"));
}
