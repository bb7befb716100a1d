//! The client's side of a login: Twisted's `PBClientFactory.login`.

use std::sync::Arc;

use spread_flavors::{FromValue, Referenceable, RemoteError, reference};
use spread_jelly::Value;

use super::{UNAUTHORIZED_LOGIN, UNHANDLED_CREDENTIALS, respond};
use crate::{Broker, CallError, RemoteReference};

/// Why a login did not give a perspective.
///
/// How to react: [`LoginError::Unauthorized`] means the credentials were
/// refused (ask again); [`LoginError::NotAllowed`] that the portal takes no
/// such login at all (an anonymous login it does not allow: a setup
/// matter); [`LoginError::Call`] that the connection or the server failed
/// (reconnect, or look at the server); [`LoginError::NotAPortal`] that the
/// server does not serve a cred portal at its root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The server refused the credentials: Twisted's `UnauthorizedLogin`
    /// (a wrong password, an unknown user).
    #[error("unauthorized login: {0}")]
    Unauthorized(Box<RemoteError>),
    /// The portal has no checker for this kind of login: Twisted's
    /// `UnhandledCredentials` (an anonymous login it does not allow).
    #[error("login not allowed: {0}")]
    NotAllowed(Box<RemoteError>),
    /// The calls of the login failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The server's root answered something other than a portal's
    /// challenge or perspective.
    #[error("the server's root is not a cred portal: {what}")]
    NotAPortal {
        /// What was wrong with its answer.
        what: String,
    },
}

impl From<LoginError> for RemoteError {
    /// What a remote method's caller gets when a login the method made
    /// failed: the server's refusal as it came.
    fn from(e: LoginError) -> RemoteError {
        match e {
            LoginError::Unauthorized(e) | LoginError::NotAllowed(e) => *e,
            LoginError::Call(e) => e.into(),
            e @ LoginError::NotAPortal { .. } => RemoteError::type_error(e.to_string()),
        }
    }
}

/// A refusal becomes [`LoginError::Unauthorized`] or
/// [`LoginError::NotAllowed`]; any other failure stays a call error.
fn refused(e: CallError) -> LoginError {
    match e {
        CallError::Remote(remote) if remote.is(UNAUTHORIZED_LOGIN) => {
            LoginError::Unauthorized(remote)
        }
        CallError::Remote(remote) if remote.is(UNHANDLED_CREDENTIALS) => {
            LoginError::NotAllowed(remote)
        }
        other => LoginError::Call(other),
    }
}

fn perspective(answer: &Value) -> Result<RemoteReference, LoginError> {
    RemoteReference::from_value(answer).map_err(|_| LoginError::NotAPortal {
        what: format!("the login gave {}, not a perspective", answer.type_name()),
    })
}

impl Broker {
    /// Logs in to the server's portal with a username and password
    /// (Twisted's `PBClientFactory.login(UsernamePassword(..), mind)`), and
    /// gives the reference to the perspective the server's realm made.
    /// `mind` is an object of ours the server may call (Twisted's `client`);
    /// the password itself is never sent.
    ///
    /// See [the module's example](crate::cred).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        mind: Option<Arc<dyn Referenceable>>,
    ) -> Result<RemoteReference, LoginError> {
        let root = self.root_object().await?;
        // Twisted's usernames are bytes on the wire.
        let username = Value::from(username.as_bytes());
        let challenged = root
            .call_remote("login", vec![username])
            .await
            .map_err(refused)?;
        let (challenge, challenger) = match &challenged {
            Value::Tuple(items) | Value::List(items) => match &items[..] {
                [Value::Bytes(challenge), challenger] => (
                    challenge.clone(),
                    RemoteReference::from_value(challenger).map_err(|_| {
                        LoginError::NotAPortal {
                            what: "the challenge came without a challenger".into(),
                        }
                    })?,
                ),
                _ => {
                    return Err(LoginError::NotAPortal {
                        what: "the login did not answer a challenge".into(),
                    });
                }
            },
            other => {
                return Err(LoginError::NotAPortal {
                    what: format!("the login answered {}", other.type_name()),
                });
            }
        };
        drop(challenged);
        let response = Value::from(&respond(&challenge, password.as_bytes())[..]);
        let mind = mind.map_or(Value::None, reference);
        let answer = challenger
            .call_remote("respond", vec![response, mind])
            .await
            .map_err(refused)?;
        perspective(&answer)
    }

    /// Logs in without credentials (Twisted's `PBClientFactory.login(
    /// Anonymous(), mind)`), where the server's portal allows it.
    pub async fn login_anonymous(
        &self,
        mind: Option<Arc<dyn Referenceable>>,
    ) -> Result<RemoteReference, LoginError> {
        let root = self.root_object().await?;
        let mind = mind.map_or(Value::None, reference);
        let answer = root
            .call_remote("loginAnonymous", vec![mind])
            .await
            .map_err(refused)?;
        perspective(&answer)
    }
}
