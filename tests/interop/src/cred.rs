//! The Rust twin of `tests/interop/python/cred_server.py`: the same portal,
//! realm, perspective methods, viewable and per-perspective Cacheable, for
//! Twisted's `cred_client.py` to log in to. Its docstring is the
//! specification; what the Python server prints, this one records in a
//! shared log.

use std::sync::{Arc, Mutex};

use spread::cred::{Avatar, InMemoryChecker, Login, Portal, Realm};
use spread::{
    BoxFuture, Cacheable, Observer, Perspective, RemoteError, RemoteReference, Value, remote,
    viewable,
};
use spread_jelly::{Dict, Error};

/// What happened, in order: `login alice`, `stopped observing alice`,
/// `logout alice`, as the Python server prints.
pub type Log = Arc<Mutex<Vec<String>>>;

fn say(log: &Log, line: String) {
    log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// The portal: alice/wonderland, bob/rabbit, and anonymous logins.
pub fn portal(log: Log) -> Arc<Portal> {
    let shared = Arc::new(Shared {
        view: Arc::new(View),
        board: Arc::new(Board {
            notes: Mutex::new(vec!["welcome".into()]),
            observers: Mutex::new(Vec::new()),
            log: log.clone(),
        }),
        log,
    });
    Arc::new(
        Portal::new(Accounts(shared))
            .with_checker(
                InMemoryChecker::new()
                    .with_user("alice", "wonderland")
                    .with_user("bob", "rabbit"),
            )
            .allow_anonymous(),
    )
}

struct Shared {
    view: Arc<View>,
    board: Arc<Board>,
    log: Log,
}

struct Accounts(Arc<Shared>);

impl Realm for Accounts {
    fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let id = login.avatar_id.unwrap_or_else(|| "anonymous".into());
            say(&shared.log, format!("login {id}"));
            let account = Account {
                id: id.clone(),
                mind: login.mind,
                shared: shared.clone(),
            };
            let log = shared.log.clone();
            Ok(Avatar::new(Perspective::new(id.clone(), Arc::new(account)))
                .on_logout(move || say(&log, format!("logout {id}"))))
        })
    }
}

/// One login's perspective.
struct Account {
    id: String,
    mind: Option<RemoteReference>,
    shared: Arc<Shared>,
}

#[remote(perspective)]
impl Account {
    async fn whoami(&self) -> String {
        self.id.clone()
    }

    async fn echo(&self, x: Value) -> Value {
        x
    }

    async fn call_me_back(&self, x: Value) -> Result<Value, RemoteError> {
        match &self.mind {
            Some(mind) => Ok(mind.call_remote("hello", vec![x]).await?),
            None => Ok(Value::None),
        }
    }

    async fn fail(&self, msg: String) -> Result<(), RemoteError> {
        Err(RemoteError::value_error(msg))
    }

    async fn get_view(&self) -> Value {
        viewable(self.shared.view.clone())
    }

    async fn get_board(&self) -> Value {
        spread::cache(self.shared.board.clone())
    }

    async fn post(&self, note: String) -> i64 {
        let board = &self.shared.board;
        board
            .notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(note.clone());
        let observers = board.observers.lock().unwrap_or_else(|e| e.into_inner());
        for (_, observer) in observers.iter() {
            // Sent now, before this call's answer; the answers are not needed.
            drop(observer.call_remote("post", vec![Value::from(note.as_str())]));
        }
        observers.len() as i64
    }
}

// ANCHOR: view
/// The shared viewable: `view_whoami(perspective, greeting)`.
struct View;

#[remote(view)]
impl View {
    async fn whoami(&self, perspective: Option<Perspective>, greeting: Value) -> Value {
        let id = perspective.as_ref().map_or("", |p| p.avatar_id());
        Value::List(vec![greeting, Value::from(id)])
    }
}
// ANCHOR_END: view

/// The shared board: each perspective gets its own state.
struct Board {
    notes: Mutex<Vec<String>>,
    observers: Mutex<Vec<(String, Observer)>>,
    log: Log,
}

impl Cacheable for Board {
    fn type_to_copy(&self) -> &str {
        "cred_server.Board"
    }

    fn state_to_cache_and_observe_for(
        &self,
        perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, Error> {
        let viewer = perspective.map_or("", |p| p.avatar_id()).to_owned();
        let notes = self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.observers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((viewer.clone(), observer));
        Ok(Value::Dict(Dict::from_iter([
            (Value::from("viewer"), Value::from(viewer)),
            (
                Value::from("notes"),
                Value::List(notes.into_iter().map(Value::from).collect()),
            ),
        ])))
    }

    fn stopped_observing(&self, perspective: Option<&Perspective>, observer: &Observer) {
        let viewer = perspective.map_or("", |p| p.avatar_id());
        say(&self.log, format!("stopped observing {viewer}"));
        self.observers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(_, o)| o != observer);
    }
}
