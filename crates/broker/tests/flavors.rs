use std::sync::Arc;
use std::sync::atomic::Ordering;

use spread_banana::Dialect;
use spread_broker::{BrokerOptions, RemoteCacheRef};
use spread_flavors::{Copyable, LocalCacheable, RemoteCopy, allow_copy, cache, copy};
use spread_jelly::{Error, Value};
use spread_security::SecurityOptions;

use crate::support::{Counter, Seen, counter_security, pair_in, per_dialect, tables};

fn holder_options() -> BrokerOptions {
    BrokerOptions::default().with_security(counter_security())
}

/// A pair whose server keeps a cache of a fresh owner's Counter.
async fn owner_with_one_observer(dialect: Dialect) -> (crate::support::Pair, Arc<Counter>) {
    let p = pair_in(dialect, BrokerOptions::default(), holder_options());
    let root = p.root().await;
    let owner = Arc::new(Counter::default());
    root.call_remote("keep", vec![cache(owner.clone())])
        .await
        .unwrap();
    (p, owner)
}

per_dialect! {
    #[tokio::test]
    async fn one_observer_per_peer_however_many_sends_and_the_lifecycle_ends_cleanly(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), holder_options());
        let root = p.root().await;
        let owner = Arc::new(Counter::default());
        let sent = || cache(owner.clone());

        root.call_remote("keep", vec![sent()]).await.unwrap();
        root.call_remote("keep", vec![sent()]).await.unwrap();
        assert_eq!(
            owner.observers.lock().unwrap().len(),
            1,
            "the second send is a cached token"
        );
        assert_eq!(p.server.stats().remote_caches, 1);

        // Updates reach the holder's copy.
        let observer = owner.observers.lock().unwrap()[0].clone();
        observer
            .call_remote("set", vec![Value::from(7)])
            .await
            .unwrap();

        // Sent back, the cache is the owner's own object.
        let back = root.call_remote("firstKept", vec![]).await.unwrap();
        // Equal means the same object: the owner's own Cacheable.
        assert_eq!(
            back.downcast_ref::<LocalCacheable>(),
            Some(&LocalCacheable::new(owner.clone()))
        );

        // Both handles dropped: one stoppedObserving, then uncache.
        root.call_remote("dropKept", vec![]).await.unwrap();
        // The owner's table empties as it runs stoppedObserving.
        tables(&p.client, |s| s.caches == 0).await;
        assert_eq!(owner.stopped.load(Ordering::SeqCst), 1);
        tables(&p.server, |s| s.remote_caches == 0).await;
        assert!(owner.observers.lock().unwrap().is_empty());
    }
}

per_dialect! {
    #[tokio::test]
    async fn the_holder_reads_its_copy_as_updates_arrive(dialect: Dialect) {
        let (p, owner) = owner_with_one_observer(dialect).await;
        let seen = || {
            let kept = p.root.kept.lock().unwrap();
            let handle = kept[0]
                .downcast_ref::<RemoteCacheRef>()
                .expect("the server holds a cache handle");
            handle
                .get::<Seen>()
                .expect("built as the registered type")
                .0
                .load(Ordering::SeqCst)
        };
        assert_eq!(seen(), 0, "the first state");
        let observer = owner.observers.lock().unwrap()[0].clone();
        for n in [3, 42] {
            observer
                .call_remote("set", vec![Value::from(n)])
                .await
                .unwrap();
            assert_eq!(seen(), n as usize);
        }
    }
}

per_dialect! {
    #[tokio::test]
    async fn stopped_observing_runs_when_the_connection_drops(dialect: Dialect) {
        let (p, owner) = owner_with_one_observer(dialect).await;
        p.server.close();
        // Observers have stopped by the time the connection reports closed.
        p.client.closed().await;
        assert_eq!(owner.stopped.load(Ordering::SeqCst), 1);
        assert!(owner.observers.lock().unwrap().is_empty());
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Both(i64);

impl Copyable for Both {
    fn type_to_copy(&self) -> &str {
        "test.Both"
    }
    fn state_to_copy(&self) -> Result<Value, Error> {
        Ok(Value::from(self.0))
    }
}

impl RemoteCopy for Both {
    fn from_copyable_state(state: Value) -> Result<Self, Error> {
        state
            .as_i64()
            .map(Both)
            .ok_or_else(|| Error::custom("expected an int"))
    }
}

per_dialect! {
    /// A type that is both Copyable and RemoteCopy round-trips unchanged.
    #[tokio::test]
    async fn a_copyable_remote_copy_round_trips_unchanged(dialect: Dialect) {
        let mut client_security = SecurityOptions::new();
        allow_copy::<Both>(&mut client_security, "test.Both").unwrap();
        let mut server_security = SecurityOptions::new();
        allow_copy::<Both>(&mut server_security, "test.Both").unwrap();
        let p = pair_in(dialect,
            BrokerOptions::default().with_security(client_security),
            BrokerOptions::default().with_security(server_security),
        );
        let root = p.root().await;
        let back = root.call_remote("echo", vec![copy(Both(7))]).await.unwrap();
        let Value::Object(object) = back else {
            panic!("{back:?}")
        };
        assert_eq!(object.downcast_ref::<Both>(), Some(&Both(7)));
    }
}

per_dialect! {
    /// A cache class may only arrive in the cache form: in the copy form there
    /// is nothing to keep up to date, and nothing is built.
    #[tokio::test]
    async fn a_cache_class_sent_as_a_copy_is_refused(dialect: Dialect) {
        #[derive(Debug)]
        struct Impostor;

        impl Copyable for Impostor {
            fn type_to_copy(&self) -> &str {
                "test.Counter"
            }
            fn state_to_copy(&self) -> Result<Value, Error> {
                Ok(Value::from(0))
            }
        }

        let p = pair_in(dialect, BrokerOptions::default(), holder_options());
        let root = p.root().await;
        match root.call_remote("keep", vec![copy(Impostor)]).await {
            Err(spread_broker::CallError::Remote(e)) => {
                assert!(e.remote_type.ends_with("TypeError"), "{e:?}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p.server.stats().remote_caches, 0);
    }
}

per_dialect! {
    /// The holder's cache table is bounded: an owner cannot make it grow
    /// without end by never releasing its caches.
    #[tokio::test]
    async fn the_holders_cache_table_is_bounded(dialect: Dialect) {
        let holder = holder_options().with_max_local_objects(2);
        let p = pair_in(dialect, BrokerOptions::default(), holder);
        let root = p.root().await;
        let owners: Vec<Arc<Counter>> = (0..3).map(|_| Arc::new(Counter::default())).collect();
        for owner in &owners[..2] {
            root.call_remote("keep", vec![cache(owner.clone())])
                .await
                .unwrap();
        }
        let third = root
            .call_remote("keep", vec![cache(owners[2].clone())])
            .await;
        assert!(third.is_err(), "{third:?}");
        assert_eq!(p.server.stats().remote_caches, 2);
    }
}
