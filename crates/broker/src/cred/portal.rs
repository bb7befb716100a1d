//! The server's side of a login: a portal of credential checkers and a
//! realm (Twisted's `Portal`, `_PortalRoot`, `_PortalWrapper` and
//! `_PortalAuthChallenger`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use md5::{Digest, Md5};
use spread_flavors::{
    BoxFuture, Call, FromValue, LocalReferenceable, Perspective, Referenceable, RemoteError,
    reference,
};
use spread_jelly::Value;

use super::{UNAUTHORIZED_LOGIN, UNHANDLED_CREDENTIALS, double_hash};
use crate::{Broker, RemoteReference};

/// One login, as the realm is asked for its avatar.
#[derive(Debug)]
#[non_exhaustive]
pub struct Login {
    /// Who logged in, as a checker vouched for it; `None` for an anonymous
    /// login (Twisted's `ANONYMOUS`).
    pub avatar_id: Option<String>,
    /// The client's object the avatar may call (Twisted's `mind`), if it
    /// gave one.
    pub mind: Option<RemoteReference>,
}

/// What a realm gives a login: its perspective, and what to run when it
/// logs out (Twisted's `(interface, avatar, logout)`).
pub struct Avatar {
    perspective: Perspective,
    logout: Option<Box<dyn FnOnce() + Send>>,
}

impl Avatar {
    /// An avatar with nothing to do at logout.
    pub fn new(perspective: Perspective) -> Avatar {
        Avatar {
            perspective,
            logout: None,
        }
    }

    /// Runs `logout` once, when the connection that logged in closes.
    #[must_use]
    pub fn on_logout(mut self, logout: impl FnOnce() + Send + 'static) -> Avatar {
        self.logout = Some(Box::new(logout));
        self
    }
}

impl fmt::Debug for Avatar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Avatar")
            .field("perspective", &self.perspective)
            .field("logout", &self.logout.is_some())
            .finish()
    }
}

/// Makes the avatar of each login: Twisted's `IRealm`.
pub trait Realm: Send + Sync + 'static {
    /// The avatar for `login`, or the error the client gets instead.
    fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>>;
}

/// Why a checker did not vouch for some credentials.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginFailure {
    /// Wrong password or unknown user: the client gets Twisted's
    /// `UnauthorizedLogin`.
    Unauthorized,
    /// The check itself failed (a user database that did not answer); the
    /// client gets this error.
    Error(RemoteError),
}

/// A username and the client's answer to this login's challenge: what a
/// [`Checker`] is given (Twisted's `IUsernameHashedPassword` and
/// `IUsernameMD5Password`, which `_PortalAuthChallenger` provides).
#[derive(Clone, Debug)]
pub struct Credentials {
    username: String,
    challenge: Bytes,
    response: Bytes,
}

impl Credentials {
    /// The username the client gave.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Whether the client knew `password`.
    pub fn check_password(&self, password: &[u8]) -> bool {
        self.check_md5_password(&Md5::digest(password))
    }

    /// Whether the client knew the password whose MD5 digest is `hashed`,
    /// for user databases that keep only that.
    pub fn check_md5_password(&self, hashed: &[u8]) -> bool {
        double_hash(hashed, &self.challenge)[..] == self.response[..]
    }
}

/// Checks credentials: Twisted's `ICredentialsChecker`. It may look users
/// up anywhere, taking as long as it needs.
pub trait Checker: Send + Sync + 'static {
    /// The avatar id these credentials log in as.
    fn check(&self, credentials: Credentials) -> BoxFuture<Result<String, LoginFailure>>;
}

/// Usernames and passwords in memory (Twisted's
/// `InMemoryUsernamePasswordDatabaseDontUse`): the avatar id is the
/// username.
#[derive(Clone, Default)]
pub struct InMemoryChecker {
    users: HashMap<String, Vec<u8>>,
}

impl InMemoryChecker {
    /// A checker that knows nobody yet.
    pub fn new() -> InMemoryChecker {
        InMemoryChecker::default()
    }

    /// Adds a user.
    #[must_use]
    pub fn with_user(mut self, username: &str, password: &str) -> InMemoryChecker {
        self.users
            .insert(username.to_owned(), password.as_bytes().to_vec());
        self
    }
}

impl fmt::Debug for InMemoryChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the passwords.
        f.debug_struct("InMemoryChecker")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Checker for InMemoryChecker {
    fn check(&self, credentials: Credentials) -> BoxFuture<Result<String, LoginFailure>> {
        let known = self
            .users
            .get(credentials.username())
            .is_some_and(|password| credentials.check_password(password));
        Box::pin(async move {
            if known {
                Ok(credentials.username)
            } else {
                Err(LoginFailure::Unauthorized)
            }
        })
    }
}

/// Checks logins and makes their avatars: Twisted's `Portal`, served as a
/// PB root by [`Portal::root_for`] (Twisted's `PBServerFactory(portal)`).
pub struct Portal {
    realm: Arc<dyn Realm>,
    checkers: Vec<Arc<dyn Checker>>,
    anonymous: bool,
}

impl fmt::Debug for Portal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Portal")
            .field("checkers", &self.checkers.len())
            .field("anonymous", &self.anonymous)
            .finish()
    }
}

/// Twisted's `UnauthorizedLogin`, with its bases, as its own client sees it.
fn unauthorized() -> RemoteError {
    let mut e = RemoteError::new(UNAUTHORIZED_LOGIN, "");
    e.parents.splice(
        1..1,
        [
            "twisted.cred.error.LoginFailed".to_owned(),
            "twisted.cred.error.Unauthorized".to_owned(),
        ],
    );
    e
}

impl Portal {
    /// A portal whose logins `realm` gives avatars to; add checkers for
    /// credentials, and allow anonymous logins if wanted.
    pub fn new(realm: impl Realm) -> Portal {
        Portal {
            realm: Arc::new(realm),
            checkers: Vec::new(),
            anonymous: false,
        }
    }

    /// Adds a credentials checker; the first that vouches for a login wins.
    #[must_use]
    pub fn with_checker(mut self, checker: impl Checker) -> Portal {
        self.checkers.push(Arc::new(checker));
        self
    }

    /// Allows logins without credentials (Twisted's `AllowAnonymousAccess`);
    /// the realm gets them with no avatar id.
    #[must_use]
    pub fn allow_anonymous(mut self) -> Portal {
        self.anonymous = true;
        self
    }

    /// The root to serve on `broker`'s connection: what
    /// [`serve_with`](crate::serve_with) asks for each connection.
    pub fn root_for(self: &Arc<Portal>, broker: &Broker) -> Arc<dyn Referenceable> {
        Arc::new(PortalRoot {
            portal: self.clone(),
            broker: broker.clone(),
        })
    }

    async fn login(
        &self,
        credentials: Option<Credentials>,
        mind: Value,
        broker: &Broker,
    ) -> Result<Value, RemoteError> {
        let avatar_id = match credentials {
            Some(credentials) => {
                let mut refused = None;
                let mut vouched = None;
                for checker in &self.checkers {
                    match checker.check(credentials.clone()).await {
                        Ok(id) => {
                            vouched = Some(id);
                            break;
                        }
                        Err(failure) => refused = Some(failure),
                    }
                }
                match (vouched, refused) {
                    (Some(id), _) => Some(id),
                    (None, Some(LoginFailure::Error(e))) => return Err(e),
                    (None, Some(LoginFailure::Unauthorized)) => return Err(unauthorized()),
                    (None, None) => {
                        return Err(RemoteError::new(
                            UNHANDLED_CREDENTIALS,
                            "No checker for twisted.cred.credentials.IUsernameHashedPassword",
                        ));
                    }
                }
            }
            None if self.anonymous => None,
            None => {
                return Err(RemoteError::new(
                    UNHANDLED_CREDENTIALS,
                    "No checker for twisted.cred.credentials.IAnonymous",
                ));
            }
        };
        let mind = match mind {
            Value::None => None,
            other => Some(RemoteReference::from_value(&other)?),
        };
        let avatar = self.realm.request_avatar(Login { avatar_id, mind }).await?;
        if let Some(logout) = avatar.logout {
            // Once, when the connection closes; at once if it already has.
            let logout = Mutex::new(Some(logout));
            broker.notify_on_disconnect(move || {
                if let Some(logout) = logout.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    logout();
                }
            });
        }
        Ok(Value::from(LocalReferenceable::for_perspective(
            avatar.perspective,
        )))
    }
}

/// What a portal serves as each connection's root (Twisted's
/// `_PortalWrapper`): `login` and `loginAnonymous`.
struct PortalRoot {
    portal: Arc<Portal>,
    broker: Broker,
}

/// Twisted's `pb.challenge()`: sixteen random bytes.
fn challenge() -> Result<Bytes, RemoteError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(%e, "no randomness for a login challenge");
        RemoteError::new("builtins.OSError", "no randomness for a login challenge")
    })?;
    Ok(Bytes::copy_from_slice(&bytes))
}

/// A username as Twisted's clients send it: bytes (or text, from ours).
fn text(value: &Value) -> Result<String, RemoteError> {
    match value {
        Value::Bytes(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::Str(s) => Ok(s.clone()),
        other => Err(RemoteError::type_error(format!(
            "a username must be bytes, not {}",
            other.type_name()
        ))),
    }
}

impl Referenceable for PortalRoot {
    fn remote_message(self: Arc<Self>, mut call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "login" => {
                    let username = text(call.arg(0)?)?;
                    let challenge = challenge()?;
                    let challenger = Challenger {
                        portal: self.portal.clone(),
                        broker: self.broker.clone(),
                        username,
                        challenge: challenge.clone(),
                    };
                    Ok(Value::Tuple(vec![
                        Value::Bytes(challenge),
                        reference(Arc::new(challenger)),
                    ]))
                }
                "loginAnonymous" => {
                    let mind = take(&mut call, 0);
                    self.portal.login(None, mind, &self.broker).await
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

/// Argument `index`, moved out of the call (`None` when absent).
fn take(call: &mut Call, index: usize) -> Value {
    call.args
        .get_mut(index)
        .map(|v| std::mem::replace(v, Value::None))
        .unwrap_or(Value::None)
}

/// One login's challenge, awaiting the client's response (Twisted's
/// `_PortalAuthChallenger`).
struct Challenger {
    portal: Arc<Portal>,
    broker: Broker,
    username: String,
    challenge: Bytes,
}

impl Referenceable for Challenger {
    fn remote_message(self: Arc<Self>, mut call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "respond" => {
                    let response = match call.arg(0)? {
                        Value::Bytes(b) => b.clone(),
                        other => {
                            return Err(RemoteError::type_error(format!(
                                "a response must be bytes, not {}",
                                other.type_name()
                            )));
                        }
                    };
                    let mind = take(&mut call, 1);
                    let credentials = Credentials {
                        username: self.username.clone(),
                        challenge: self.challenge.clone(),
                        response,
                    };
                    self.portal
                        .login(Some(credentials), mind, &self.broker)
                        .await
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}
