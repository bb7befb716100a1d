//! Logging in: Twisted's `twisted.cred` over PB (`pb.py`'s
//! `PBClientFactory.login`, `_PortalRoot`, `_PortalWrapper` and
//! `_PortalAuthChallenger`).
//!
//! A client logs in with [`Broker::login`](crate::Broker::login) (or
//! [`Broker::login_anonymous`](crate::Broker::login_anonymous)) and gets a
//! reference to its perspective; a server serves a [`Portal`], which checks
//! credentials with its [`Checker`]s and asks its [`Realm`] for the avatar
//! of each login.
//!
//! The password never crosses the wire: the server sends a random
//! challenge, and the client answers `md5(md5(password) + challenge)`, as
//! Twisted's `pb.respond` does.
//!
//! ```
//! use std::sync::Arc;
//! use spread_broker::cred::{Avatar, InMemoryChecker, Login, Portal, Realm};
//! use spread_broker::{connect, serve, BrokerOptions};
//! use spread_flavors::{BoxFuture, Call, Perspective, Referenceable, RemoteError};
//! use spread_jelly::Value;
//!
//! /// A logged-in user: `perspective_whoami()`.
//! struct User(String);
//!
//! impl Referenceable for User {
//!     fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
//!         Box::pin(async move {
//!             match call.method.as_str() {
//!                 "whoami" => Ok(Value::from(self.0.as_str())),
//!                 _ => Err(RemoteError::no_such_method(&call.method)),
//!             }
//!         })
//!     }
//! }
//!
//! struct Users;
//!
//! impl Realm for Users {
//!     fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>> {
//!         let name = login.avatar_id.unwrap_or_else(|| "anonymous".into());
//!         Box::pin(async move {
//!             Ok(Avatar::new(Perspective::new(name.clone(), Arc::new(User(name)))))
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let portal = Arc::new(
//!     Portal::new(Users).with_checker(InMemoryChecker::new().with_user("alice", "wonderland")),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = serve(listener, BrokerOptions::default().with_root(portal.root()));
//!
//! let broker = connect(addr, BrokerOptions::default()).await?;
//! let alice = broker.login("alice", "wonderland", None).await?;
//! assert_eq!(alice.call_remote("whoami", vec![]).await?, Value::from("alice"));
//! assert!(broker.login("alice", "rabbit", None).await.is_err());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod client;
mod portal;

// The public interface is:
pub use self::client::LoginError;
pub use self::portal::{
    Avatar, Checker, Credentials, InMemoryChecker, Login, LoginFailure, Portal, Realm,
};

use md5::{Digest, Md5};

/// Twisted's `pb.respond`: `md5(md5(password) + challenge)`.
fn respond(challenge: &[u8], password: &[u8]) -> [u8; 16] {
    double_hash(&Md5::digest(password), challenge)
}

/// `md5(hashed + challenge)`.
fn double_hash(hashed: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(hashed);
    md5.update(challenge);
    md5.finalize().into()
}

/// The error types Twisted's cred raises, as they travel.
const UNAUTHORIZED_LOGIN: &str = "twisted.cred.error.UnauthorizedLogin";
const UNHANDLED_CREDENTIALS: &str = "twisted.cred.error.UnhandledCredentials";

#[cfg(test)]
mod tests {
    use super::*;

    /// Session 2 of the spec's traces: Twisted's client answered the
    /// challenge `c9d24d7f...` for the password `pass` with `a86b6ce5...`.
    #[test]
    fn the_response_is_twisteds() {
        let challenge = b"\xc9\xd2M\x7f3\x01\x8aH\x10j\xfe/\x06.\xbf\x96";
        let expected = b"\xa8kl\xe5\xcb\x9b\xae\xeb\xb03\xec\xf8\xf1\xfe\xcb\xc2";
        assert_eq!(&respond(challenge, b"pass"), expected);
    }
}
