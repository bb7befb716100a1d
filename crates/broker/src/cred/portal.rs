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

use super::double_hash;
use crate::RemoteReference;

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

    /// Runs `logout` once, when the login ends: the client releases its
    /// perspective, or the connection closes.
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
        let expected = double_hash(hashed, &self.challenge);
        // Every byte is compared, whatever the first difference: the time
        // taken says nothing about how close a guess was.
        self.response.len() == expected.len()
            && expected
                .iter()
                .zip(self.response.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
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
        // An unknown user costs the same hashing as a known one, so timing
        // does not tell which names exist.
        let known = match self.users.get(credentials.username()) {
            Some(password) => credentials.check_password(password),
            None => {
                let _ = credentials.check_password(b"");
                false
            }
        };
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
/// PB root by [`Portal::root`] (Twisted's `PBServerFactory(portal)`).
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

/// One of Twisted's cred errors, with its bases as its own client sees
/// them (`twisted.cred.error`), so that a Twisted caller's `check()` and
/// `trap()` match.
fn cred_error(class: &str, bases: &[&str], message: &str) -> RemoteError {
    let mut e = RemoteError::new(format!("twisted.cred.error.{class}"), message);
    e.parents.splice(
        1..1,
        bases.iter().map(|b| format!("twisted.cred.error.{b}")),
    );
    e
}

/// Twisted's `UnauthorizedLogin()`: a wrong password or an unknown user.
fn unauthorized() -> RemoteError {
    cred_error("UnauthorizedLogin", &["LoginFailed", "Unauthorized"], "")
}

/// Twisted's `UnhandledCredentials`: no checker takes these credentials,
/// in Twisted's words for PB's two kinds of credentials.
fn unhandled(anonymous: bool) -> RemoteError {
    let interfaces = if anonymous {
        "twisted.cred.credentials.IAnonymous"
    } else {
        "twisted.cred.credentials.IUsernameHashedPassword, \
         twisted.spread.pb.IUsernameMD5Password, twisted.spread.interfaces.IJellyable"
    };
    cred_error(
        "UnhandledCredentials",
        &["LoginFailed"],
        &format!("No checker for {interfaces}"),
    )
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

    /// The root to serve (Twisted's `PBServerFactory(portal)`): give it to
    /// [`BrokerOptions::with_root`](crate::BrokerOptions::with_root).
    pub fn root(self: &Arc<Portal>) -> Arc<dyn Referenceable> {
        Arc::new(PortalRoot {
            portal: self.clone(),
        })
    }

    async fn login(
        &self,
        credentials: Option<Credentials>,
        mind: Value,
    ) -> Result<Value, RemoteError> {
        let avatar_id = match credentials {
            Some(credentials) => Some(self.check(credentials).await?),
            None if self.anonymous => None,
            None => return Err(unhandled(true)),
        };
        let mind = match mind {
            Value::None => None,
            other => Some(RemoteReference::from_value(&other)?),
        };
        let avatar = self.realm.request_avatar(Login { avatar_id, mind }).await?;
        // The login lasts as long as its avatar is held: the logout runs
        // when the client releases it or the connection closes, whichever
        // comes first (Twisted's `_localCleanup` and `notifyOnDisconnect`).
        let logout = avatar.logout;
        Ok(Value::from(LocalReferenceable::for_perspective(
            avatar.perspective,
            move || {
                if let Some(logout) = logout {
                    logout();
                }
            },
        )))
    }

    /// Asks the checkers in turn; the first that vouches wins. If none
    /// does, a checker's own error is reported before a refusal: a user
    /// database that did not answer is not a wrong password.
    async fn check(&self, credentials: Credentials) -> Result<String, RemoteError> {
        let mut error = None;
        let mut refused = false;
        for checker in &self.checkers {
            match checker.check(credentials.clone()).await {
                Ok(id) => return Ok(id),
                Err(LoginFailure::Unauthorized) => refused = true,
                Err(LoginFailure::Error(e)) => error = error.or(Some(e)),
            }
        }
        match (error, refused) {
            (Some(e), _) => Err(e),
            (None, true) => Err(unauthorized()),
            (None, false) => Err(unhandled(false)),
        }
    }
}

/// What a portal serves as each connection's root (Twisted's
/// `_PortalWrapper`): `login` and `loginAnonymous`.
struct PortalRoot {
    portal: Arc<Portal>,
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
        // Distinct byte names must stay distinct: no lossy decoding.
        Value::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| unauthorized()),
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
                        username,
                        challenge: Mutex::new(Some(challenge.clone())),
                    };
                    Ok(Value::Tuple(vec![
                        Value::Bytes(challenge),
                        reference(Arc::new(challenger)),
                    ]))
                }
                "loginAnonymous" => {
                    let mind = take(&mut call, 0);
                    self.portal.login(None, mind).await
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
    username: String,
    /// Taken by the first response: a challenge is answered once, so a
    /// peer cannot guess at it.
    challenge: Mutex<Option<Bytes>>,
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
                    let challenge = self
                        .challenge
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .take()
                        .ok_or_else(unauthorized)?;
                    let credentials = Credentials {
                        username: self.username.clone(),
                        challenge,
                        response,
                    };
                    self.portal.login(Some(credentials), mind).await
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}
