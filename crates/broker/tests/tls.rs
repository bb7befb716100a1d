//! PB over TLS between two Rust brokers, with certificates made on the fly:
//! verified by default, refused when they do not verify, client
//! certificates when the server requires them.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use spread_broker::tls::{ClientTls, ServerTls, connect_tls, danger, serve_tls};
use spread_broker::{BrokerOptions, Server};
use spread_jelly::Value;

use crate::support::TestRoot;

/// A certificate and its key, as rustls takes them.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// A CA, and identities it signed.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert: CertificateDer<'static>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap().der().clone();
        Ca { params, key, cert }
    }

    /// An identity for `names` (DNS names or IP addresses), signed by this CA.
    fn issue(&self, names: &[&str]) -> Identity {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Identity {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

async fn server(tls: ServerTls) -> (Server, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = BrokerOptions::default().with_root(Arc::new(TestRoot::default()));
    (serve_tls(listener, tls, options), port)
}

async fn echo_over(client: &ClientTls, port: u16, name: &str) -> std::io::Result<Value> {
    let broker = connect_tls(("127.0.0.1", port), name, client, BrokerOptions::default()).await?;
    let root = broker.root_object().await.map_err(std::io::Error::other)?;
    root.call_remote("echo", vec![Value::from("over tls")])
        .await
        .map_err(std::io::Error::other)
}

#[tokio::test]
async fn a_verified_server_is_reached_by_name_or_address_and_others_are_refused() {
    let ca = Ca::new("spread test CA");
    let id = ca.issue(&["localhost", "127.0.0.1"]);
    let (server, port) = server(ServerTls::new(id.chain, id.key).unwrap()).await;
    let client = ClientTls::new(vec![ca.cert.clone()]).unwrap();
    for name in ["localhost", "127.0.0.1"] {
        assert_eq!(
            echo_over(&client, port, name).await.unwrap(),
            Value::from("over tls")
        );
    }
    // A name the certificate does not carry, and a CA the client does not
    // trust: both refused, with the reason.
    let wrong_name = echo_over(&client, port, "example.com").await.unwrap_err();
    assert!(
        wrong_name.to_string().contains("certificate"),
        "{wrong_name}"
    );
    let stranger = ClientTls::new(vec![Ca::new("another CA").cert]).unwrap();
    let untrusted = echo_over(&stranger, port, "localhost").await.unwrap_err();
    assert!(untrusted.to_string().contains("certificate"), "{untrusted}");
    // Only the option named for its danger skips verification.
    let reckless = danger::no_server_verification().unwrap();
    assert!(echo_over(&reckless, port, "example.com").await.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_that_requires_client_certificates_gets_them() {
    let ca = Ca::new("spread test CA");
    let id = ca.issue(&["localhost"]);
    let tls = ServerTls::new(id.chain, id.key)
        .unwrap()
        .require_client_certificates(vec![ca.cert.clone()])
        .unwrap();
    let (server, port) = server(tls).await;
    let client_id = ca.issue(&["client.example"]);
    let with =
        ClientTls::with_client_certificate(vec![ca.cert.clone()], client_id.chain, client_id.key)
            .unwrap();
    assert!(echo_over(&with, port, "localhost").await.is_ok());
    // Without one the handshake fails: at connect, or at the first read.
    let without = ClientTls::new(vec![ca.cert.clone()]).unwrap();
    assert!(echo_over(&without, port, "localhost").await.is_err());
    server.shutdown().await;
}

/// A client that connects and never says a word is dropped once the
/// handshake timeout passes (on a paused clock: no real waiting).
#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_handshake_is_dropped() {
    use tokio::io::AsyncReadExt;
    let ca = Ca::new("spread test CA");
    let id = ca.issue(&["localhost"]);
    let (server, port) = server(ServerTls::new(id.chain, id.key).unwrap()).await;
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(
        spread_broker::tls::HANDSHAKE_TIMEOUT * 10,
        silent.read(&mut buf),
    )
    .await
    .expect("the server kept a silent client");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    server.shutdown().await;
}
