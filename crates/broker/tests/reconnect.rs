use std::sync::Arc;
use std::time::Duration;

use spread_broker::{Backoff, BrokerOptions, Reconnecting, connect, serve};
use spread_jelly::Value;

use crate::support::TestRoot;

fn options() -> BrokerOptions {
    BrokerOptions::default().with_root(Arc::new(TestRoot::default()))
}

/// The client comes back when a server returns on the same port, and
/// stops for good when asked.
#[tokio::test]
async fn a_reconnecting_client_comes_back_after_the_server_returns() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = serve(listener, options());
    let client = Reconnecting::new(
        move || connect(addr, BrokerOptions::default()),
        Backoff::new(Duration::from_millis(5), Duration::from_millis(50)),
    );
    let first = client.broker().await.unwrap();
    let root = first.root_object().await.unwrap();
    assert_eq!(
        root.call_remote("echo", vec![Value::from(1)])
            .await
            .unwrap(),
        Value::from(1)
    );

    server.shutdown().await;
    first.closed().await;
    // Attempts fail while nothing listens; the client keeps trying.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let server = serve(listener, options());
    let second = tokio::time::timeout(Duration::from_secs(10), client.broker())
        .await
        .expect("never reconnected")
        .unwrap();
    assert!(!second.is_closed());
    let root = second.root_object().await.unwrap();
    assert_eq!(
        root.call_remote("echo", vec![Value::from(2)])
            .await
            .unwrap(),
        Value::from(2)
    );

    client.stop();
    second.closed().await;
    assert!(client.broker().await.is_none());
    assert!(client.current().is_none());
    server.shutdown().await;
}

/// A failed attempt waits the backoff's delay, which grows and is capped.
#[test]
fn backoff_grows_to_its_cap() {
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    let delays: Vec<Duration> = (0..12).map(|n| backoff.delay(n)).collect();
    assert!(delays[0] <= Duration::from_millis(110));
    assert!(delays[3] >= Duration::from_millis(300));
    assert!(delays.iter().all(|d| *d <= Duration::from_millis(1100)));
    assert!(delays[11] >= Duration::from_millis(900));
}
