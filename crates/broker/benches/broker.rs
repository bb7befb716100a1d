//! A call's round trip over loopback TCP, beside the floor it cannot beat: a
//! raw tokio ping-pong of the same small message on the same machine.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use spread_broker::{BrokerOptions, connect, serve};
use spread_flavors::{BoxFuture, Call, Referenceable, RemoteError};
use spread_jelly::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Echo;

impl Referenceable for Echo {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move { Ok(call.args.into_iter().next().unwrap_or(Value::None)) })
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("round_trip");

    // The floor: 16 bytes there and back on a raw socket.
    let (mut client, _server) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut buf = [0u8; 16];
            while s.read_exact(&mut buf).await.is_ok() {
                if s.write_all(&buf).await.is_err() {
                    break;
                }
            }
        });
        let client = TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        (client, server)
    });
    group.bench_function("raw_tokio_ping_pong", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut buf = [7u8; 16];
                client.write_all(&buf).await.unwrap();
                client.read_exact(&mut buf).await.unwrap();
            })
        })
    });

    let (root, _server) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve(listener, BrokerOptions::default().with_root(Arc::new(Echo)));
        let broker = connect(addr, BrokerOptions::default()).await.unwrap();
        (broker.root_object().await.unwrap(), server)
    });
    group.bench_function("call_remote_echo_int", |b| {
        b.iter(|| {
            rt.block_on(root.call_remote("echo", vec![Value::from(1)]))
                .unwrap()
        })
    });
    group.bench_function("100_pipelined_calls", |b| {
        b.iter(|| {
            rt.block_on(async {
                let calls: Vec<_> = (0..100)
                    .map(|i| {
                        let root = root.clone();
                        tokio::spawn(
                            async move { root.call_remote("echo", vec![Value::from(i)]).await },
                        )
                    })
                    .collect();
                for call in calls {
                    call.await.unwrap().unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
