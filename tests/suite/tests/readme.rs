//! The README's server-and-client example, kept compiling and passing (it
//! binds a free port here instead of 8800).

use std::sync::Arc;

use spread::{
    BrokerOptions, Copyable, RemoteCopy, SecurityOptions, Value, allow_remote_copy, connect, copy,
    remote, serve,
};

#[derive(Debug, Clone, Copyable, RemoteCopy)]
#[pb(class = "copy_sender.CopyPond")]
struct Pond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
}

struct Receiver;

#[remote]
impl Receiver {
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
    async fn take_pond(&self, pond: Pond) -> String {
        pond.color
    }
}

#[tokio::test]
async fn the_readme_example_runs() -> Result<(), Box<dyn std::error::Error>> {
    let mut security = SecurityOptions::new();
    allow_remote_copy::<Pond>(&mut security, "copy_sender.CopyPond")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = serve(
        listener,
        BrokerOptions::default()
            .with_security(security)
            .with_root(Arc::new(Receiver)),
    );

    let root = connect(addr, BrokerOptions::default())
        .await?
        .root_object()
        .await?;
    assert_eq!(
        root.call_remote("add", vec![Value::from(2), Value::from(3)])
            .await?,
        Value::from(5)
    );
    let pond = copy(Pond {
        color: "green".into(),
        num_frogs: 7,
    });
    assert_eq!(
        root.call_remote("takePond", vec![pond]).await?,
        Value::from("green")
    );
    server.shutdown().await;
    Ok(())
}

/// The README's login example ("Logging in"), on a free port.
mod login {
    use std::sync::Arc;

    use spread::cred::{Avatar, InMemoryChecker, Login, Portal, Realm};
    use spread::{
        BoxFuture, BrokerOptions, Perspective, RemoteError, Value, connect, remote, serve,
    };

    struct User {
        name: String,
    }

    #[remote(perspective)]
    impl User {
        async fn whoami(&self) -> String {
            self.name.clone()
        }
    }

    struct Users;

    impl Realm for Users {
        fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>> {
            let name = login.avatar_id.unwrap_or_else(|| "anonymous".into());
            let user = Arc::new(User { name: name.clone() });
            Box::pin(async move { Ok(Avatar::new(Perspective::new(name, user))) })
        }
    }

    #[tokio::test]
    async fn the_readme_login_example_runs() -> Result<(), Box<dyn std::error::Error>> {
        let portal = Arc::new(
            Portal::new(Users)
                .with_checker(InMemoryChecker::new().with_user("alice", "wonderland")),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = serve(listener, BrokerOptions::default().with_root(portal.root()));

        let broker = connect(addr, BrokerOptions::default()).await?;
        let alice = broker.login("alice", "wonderland", None).await?;
        assert_eq!(
            alice.call_remote("whoami", vec![]).await?,
            Value::from("alice")
        );
        // And what the README does not show: a wrong password is refused.
        assert!(matches!(
            broker.login("alice", "rabbit", None).await,
            Err(spread::cred::LoginError::Unauthorized(_))
        ));
        server.shutdown().await;
        Ok(())
    }
}
