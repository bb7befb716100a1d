//! PB over TLS, with rustls: [`connect_tls`] and [`serve_tls`] (Twisted's
//! `connectSSL`/`listenSSL` with a `PBClientFactory`/`PBServerFactory`).
//!
//! Servers' certificates are verified by default, against the roots the
//! client is given; only [`danger::no_server_verification`] turns that off.
//! A server may require client certificates
//! ([`ServerTls::require_client_certificates`]).
//!
//! ```no_run
//! use spread_broker::tls::{connect_tls, ClientTls};
//! use spread_broker::BrokerOptions;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tls = ClientTls::from_pem_file("ca.pem")?;
//! let broker = connect_tls(("127.0.0.1", 8800), "localhost", &tls, BrokerOptions::default()).await?;
//! let root = broker.root_object().await?;
//! root.call_remote("echo", vec![spread_jelly::Value::from("over tls")]).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::{Broker, Server, log_end, serve_upgraded};
use crate::{BrokerOptions, Role};

/// Why a TLS setting could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A PEM file holds no certificate, or no private key.
    #[error("{path} holds no {what}")]
    Missing {
        /// The file.
        path: PathBuf,
        /// `"certificate"` or `"private key"`.
        what: &'static str,
    },
    /// rustls refused the certificates or the key.
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
    /// The roots for client certificates are unusable.
    #[error("client certificate roots: {0}")]
    ClientRoots(#[from] rustls::server::VerifierBuilderError),
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let read = |source| TlsError::Read {
        path: path.to_owned(),
        source,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| read(io::Error::other(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read(io::Error::other(e)))?;
    if certificates.is_empty() {
        return Err(TlsError::Missing {
            path: path.to_owned(),
            what: "certificate",
        });
    }
    Ok(certificates)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Missing {
            path: path.to_owned(),
            what: "private key",
        },
        e => TlsError::Read {
            path: path.to_owned(),
            source: io::Error::other(e),
        },
    })
}

fn roots(certificates: Vec<CertificateDer<'static>>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates {
        roots.add(certificate)?;
    }
    Ok(roots)
}

/// The provider rustls is built with here (ring), whatever else the
/// program links.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client's TLS settings: the roots it trusts, and its own certificate
/// if the server asks for one.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientTls")
    }
}

impl ClientTls {
    /// Trusts servers whose certificates chain to one of `roots`.
    pub fn new(roots_: Vec<CertificateDer<'static>>) -> Result<ClientTls, TlsError> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots(roots_)?)
            .with_no_client_auth();
        Ok(ClientTls {
            config: Arc::new(config),
        })
    }

    /// Trusts the certificates in a PEM file.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<ClientTls, TlsError> {
        ClientTls::new(certificates(path.as_ref())?)
    }

    /// Trusts `roots` and presents `chain` (with its `key`) to servers that
    /// ask for a client certificate.
    pub fn with_client_certificate(
        roots_: Vec<CertificateDer<'static>>,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ClientTls, TlsError> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots(roots_)?)
            .with_client_auth_cert(chain, key)?;
        Ok(ClientTls {
            config: Arc::new(config),
        })
    }

    /// [`ClientTls::with_client_certificate`] from PEM files.
    pub fn with_client_certificate_pem(
        roots: impl AsRef<Path>,
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<ClientTls, TlsError> {
        ClientTls::with_client_certificate(
            certificates(roots.as_ref())?,
            certificates(certificate.as_ref())?,
            private_key(key.as_ref())?,
        )
    }
}

/// A server's TLS settings: its certificate chain and key, and whether it
/// requires client certificates.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("ServerTls")
            .field("chain", &self.chain.len())
            .finish()
    }
}

impl ServerTls {
    /// Serves with `chain` (the server's certificate first) and its `key`.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ServerTls, TlsError> {
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key.clone_key())?;
        Ok(ServerTls {
            config: Arc::new(config),
            chain,
            key: Arc::new(key),
        })
    }

    /// [`ServerTls::new`] from PEM files.
    pub fn from_pem_files(
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<ServerTls, TlsError> {
        ServerTls::new(
            certificates(certificate.as_ref())?,
            private_key(key.as_ref())?,
        )
    }

    /// Requires every client to present a certificate that chains to one
    /// of `roots`; a client without one fails its handshake.
    pub fn require_client_certificates(
        self,
        roots_: Vec<CertificateDer<'static>>,
    ) -> Result<ServerTls, TlsError> {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots(roots_)?), provider())
                .build()?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        Ok(ServerTls {
            config: Arc::new(config),
            ..self
        })
    }

    /// [`ServerTls::require_client_certificates`] from a PEM file.
    pub fn require_client_certificates_pem(
        self,
        roots: impl AsRef<Path>,
    ) -> Result<ServerTls, TlsError> {
        let roots = certificates(roots.as_ref())?;
        self.require_client_certificates(roots)
    }
}

/// Connects to a PB server over TLS, verifying its certificate for
/// `server_name` (a DNS name or an IP address), and returns the broker, its
/// task spawned on the current tokio runtime. A certificate that does not
/// verify fails the connection with an `InvalidData` error that says why;
/// a handshake that does not finish within [`HANDSHAKE_TIMEOUT`], with
/// `TimedOut`.
pub async fn connect_tls(
    addr: impl ToSocketAddrs,
    server_name: &str,
    tls: &ClientTls,
    options: BrokerOptions,
) -> io::Result<Broker> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let connector = TlsConnector::from(tls.config.clone());
    // A server that accepts and never finishes the handshake must not hold
    // the caller for ever.
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        connector.connect(name, stream).await
    })
    .await
    .unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the TLS handshake did not finish in time",
        ))
    })?;
    let (broker, driver) = Broker::new(stream, Role::Client, options);
    tokio::spawn(log_end(driver));
    Ok(broker)
}

/// Serves `listener` over TLS: [`crate::serve`], each connection first
/// completing its TLS handshake (a failed one is logged and dropped).
pub fn serve_tls(listener: TcpListener, tls: ServerTls, options: BrokerOptions) -> Server {
    serve_tls_with(listener, tls, options, |_| None)
}

/// Serves `listener` over TLS with a root made per connection:
/// [`crate::serve_with`] over TLS.
pub fn serve_tls_with<F>(
    listener: TcpListener,
    tls: ServerTls,
    options: BrokerOptions,
    root_for: F,
) -> Server
where
    F: Fn(&Broker) -> Option<Arc<dyn spread_flavors::Referenceable>> + Send + Sync + 'static,
{
    let acceptor = TlsAcceptor::from(tls.config);
    serve_upgraded(listener, options, root_for, move |stream| {
        let accept = acceptor.accept(stream);
        // A peer that never finishes its handshake must not hold a task
        // and a socket for ever.
        Box::pin(async move {
            tokio::time::timeout(HANDSHAKE_TIMEOUT, accept)
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the TLS handshake did not finish in time",
                    ))
                })
        })
    })
}

/// How long either side waits for a TLS handshake to finish.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Settings that turn off what keeps TLS safe. Named for what they are.
pub mod danger {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

    use super::{ClientTls, TlsError, provider};

    /// A client that accepts any server certificate, unverified: anyone
    /// on the path can read and change the traffic. For tests against a
    /// throwaway server only.
    pub fn no_server_verification() -> Result<ClientTls, TlsError> {
        let provider = provider();
        let config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
            .with_no_client_auth();
        Ok(ClientTls {
            config: Arc::new(config),
        })
    }

    /// Checks signatures (so the handshake is real) but not who signed.
    #[derive(Debug)]
    struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AcceptAnything {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}
