//! The howto's `cache_sender`: a `MasterDuckPond` sent as a live cache; its
//! changes reach the receiver's copy through observers.
//!
//! `cargo run -p spread-examples --example cache_sender -- [PORT] [--no-shutdown]`
//!
//! Prints `I have [N] ducks` as the pond changes, and `stoppedObserving`
//! when the receiver drops its copy.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use spread::{
    BrokerOptions, Cacheable, CallError, Observer, Perspective, RemoteReference, Value, cache,
    connect,
};

struct MasterDuckPond {
    ducks: Mutex<Vec<String>>,
    observers: Mutex<Vec<Observer>>,
}

impl MasterDuckPond {
    fn count(&self) {
        println!("I have [{}] ducks", self.ducks.lock().unwrap().len());
    }

    // ANCHOR: add_duck
    fn add_duck(&self, duck: &str) {
        self.ducks.lock().unwrap().push(duck.to_owned());
        for observer in self.observers.lock().unwrap().iter() {
            observer.notify("addDuck", vec![Value::from(duck)]);
        }
    }
    // ANCHOR_END: add_duck

    fn remove_duck(&self, duck: &str) {
        self.ducks.lock().unwrap().retain(|d| d != duck);
        for observer in self.observers.lock().unwrap().iter() {
            observer.notify("removeDuck", vec![Value::from(duck)]);
        }
    }
}

// ANCHOR: cacheable
impl Cacheable for MasterDuckPond {
    fn type_to_copy(&self) -> &str {
        "cache_classes.MasterDuckPond"
    }

    /// As the howto's pond: the state is just the list of ducks.
    fn state_to_cache_and_observe_for(
        &self,
        _perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, spread::jelly::Error> {
        self.observers.lock().unwrap().push(observer);
        let ducks = self.ducks.lock().unwrap();
        Ok(Value::List(
            ducks.iter().map(|d| Value::from(d.as_str())).collect(),
        ))
    }

    fn stopped_observing(&self, _perspective: Option<&Perspective>, observer: &Observer) {
        println!("stoppedObserving");
        self.observers.lock().unwrap().retain(|o| o != observer);
    }
}
// ANCHOR_END: cacheable

async fn shutdown(root: &RemoteReference, no_shutdown: bool) {
    if !no_shutdown {
        let _ = root.call_remote("shutdown", vec![]).await;
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, no_shutdown) = common::port_and_flag("--no-shutdown")?;
    let pond = Arc::new(MasterDuckPond {
        ducks: Mutex::new(vec!["one duck".into(), "two duck".into()]),
        observers: Mutex::new(Vec::new()),
    });
    pond.count();

    let broker = connect(("127.0.0.1", port), BrokerOptions::default()).await?;
    let root = broker.root_object().await?;
    // ANCHOR: phases
    let sent = cache(pond.clone());
    match root.call_remote("takePond", vec![sent]).await {
        Ok(_) => {}
        Err(CallError::Remote(e)) if e.is("twisted.spread.jelly.InsecureJelly") => {
            println!("error during takePond:");
            println!(" InsecureJelly");
            shutdown(&root, no_shutdown).await;
            std::process::exit(2);
        }
        Err(e) => bail!("takePond failed: {e}"),
    }
    pond.add_duck("ugly duckling");
    pond.count();
    root.call_remote("checkDucks", vec![]).await?;
    pond.remove_duck("one duck");
    pond.count();
    root.call_remote("checkDucks", vec![]).await?;
    root.call_remote("ignorePond", vec![]).await?;
    // ANCHOR_END: phases
    // The receiver's decache reaches us as stoppedObserving, which has run
    // by the time the broker's table of caches is empty.
    let waited = broker.wait_for_stats(|s| s.caches == 0);
    if tokio::time::timeout(Duration::from_secs(5), waited)
        .await
        .is_err()
    {
        bail!("no stoppedObserving within 5 s");
    }
    anyhow::ensure!(pond.observers.lock().unwrap().is_empty());
    shutdown(&root, no_shutdown).await;
    Ok(())
}
