//! `#[remote]` at run time: wire names, arguments by position and keyword,
//! the TypeErrors Python would raise, results and errors, through a broker.

use std::sync::Arc;

use spread::broker::Role;
use spread::{Broker, BrokerOptions, CallError, Dict, RemoteError, Value, remote};

struct Root;

#[remote]
impl Root {
    async fn take_pond(&self, color: String, frogs: i64) -> String {
        format!("{frogs} {color} frogs")
    }

    #[pb(name = "ratio")]
    async fn divide(&self, a: f64, b: f64) -> Result<f64, RemoteError> {
        if b == 0.0 {
            Err(RemoteError::new(
                "builtins.ZeroDivisionError",
                "division by zero",
            ))
        } else {
            Ok(a / b)
        }
    }

    async fn nothing(&self) {}
}

async fn root() -> spread::RemoteReference {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (_server, server) = Broker::new(
        b,
        Role::Server,
        BrokerOptions::default().with_root(Arc::new(Root)),
    );
    let (client, driver) = Broker::new(a, Role::Client, BrokerOptions::default());
    tokio::spawn(server);
    tokio::spawn(driver);
    client.root_object().await.unwrap()
}

fn type_error(result: Result<Value, CallError>) -> String {
    match result {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.remote_type, "builtins.TypeError", "{e:?}");
            e.value
        }
        other => panic!("expected a TypeError, got {other:?}"),
    }
}

#[tokio::test]
async fn remote_methods_dispatch_by_camel_case_name() {
    let root = root().await;
    let answer = root
        .call_remote("takePond", vec![Value::from("green"), Value::from(7)])
        .await
        .unwrap();
    assert_eq!(answer, Value::from("7 green frogs"));
    // By keyword, as Python callers may.
    let kwargs = Dict::from_iter([(Value::from("frogs"), Value::from(3))]);
    let answer = root
        .call_remote_kw("takePond", vec![Value::from("blue")], kwargs)
        .await
        .unwrap();
    assert_eq!(answer, Value::from("3 blue frogs"));
    assert_eq!(
        root.call_remote("ratio", vec![Value::from(1), Value::from(4.0)])
            .await
            .unwrap(),
        Value::from(0.25)
    );
    assert_eq!(
        root.call_remote("nothing", vec![]).await.unwrap(),
        Value::None
    );
    // The Rust name is not a wire name.
    match root.call_remote("take_pond", vec![]).await {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.remote_type, "twisted.spread.flavors.NoSuchMethod")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wrong_arguments_give_pythons_type_errors() {
    let root = root().await;
    let missing = type_error(
        root.call_remote("takePond", vec![Value::from("green")])
            .await,
    );
    assert_eq!(
        missing,
        "remote_takePond() missing 1 required positional argument: 'frogs'"
    );
    let extra = type_error(root.call_remote("nothing", vec![Value::from(1)]).await);
    assert_eq!(
        extra,
        "remote_nothing() takes 0 positional arguments but 1 were given"
    );
    let wrong = type_error(
        root.call_remote("takePond", vec![Value::from(1), Value::from(2)])
            .await,
    );
    assert!(wrong.contains("argument 'color'"), "{wrong}");
    let kwargs = Dict::from_iter([(Value::from("colour"), Value::from("red"))]);
    let unexpected = type_error(root.call_remote_kw("takePond", vec![], kwargs).await);
    assert!(
        unexpected.contains("unexpected keyword argument"),
        "{unexpected}"
    );
}

#[tokio::test]
async fn result_errors_become_remote_errors() {
    let root = root().await;
    match root
        .call_remote("ratio", vec![Value::from(1), Value::from(0)])
        .await
    {
        Err(CallError::Remote(e)) => assert_eq!(e.remote_type, "builtins.ZeroDivisionError"),
        other => panic!("{other:?}"),
    }
}
