//! `spread call`: connects to a PB server (Rust or Twisted), logs in if
//! asked, calls one method with arguments written as Python literals, and
//! prints the result as Python's `repr` would.
//!
//! The connection uses the default security options, as Twisted's PB does:
//! every basic type and no classes. An answer holding an instance of a class
//! is refused (Twisted's `InsecureJelly`), the broker closes the connection,
//! and `spread call` exits 2 saying so.

mod equality;
mod literal;
pub(crate) mod repr;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use spread::cred::LoginError;
use spread::tls::{ClientTls, connect_tls};
use spread::{Broker, BrokerOptions, CallError, Value};

use crate::exit;

const AFTER_HELP: &str = "\
Each ARG is a Python literal: None, True, False, ints of any size, floats
(1.5, 1e-05, inf, -inf, nan), 'text' and \"text\" with Python's escapes,
b'bytes', [lists], (tuples,), {'dicts': 1}, {sets}, set(), frozenset({..}),
datetime.datetime(..), datetime.date(..), datetime.time(..),
datetime.timedelta(..) and Decimal('..'), nested freely. Quote each one for
the shell. The result is printed on one line as Python's repr prints it.

Exit status: 0 the call answered; 1 the remote method raised (printed as
`RemoteError: TYPE: MESSAGE` on stderr); 2 the connection, the TLS
handshake or the login failed, the answer could not be read, or no answer
came within the timeout; 64 bad arguments.

Examples:
  spread call 127.0.0.1:8800 echo \"'hello'\"
  spread call 127.0.0.1:8800 add 2 3
  spread call 127.0.0.1:8800 echo \"{'a': [1, 2.5, b'x'], 'when': datetime.date(2024, 1, 31)}\"
  spread call 127.0.0.1:8800 echo '(1,)' 'frozenset({1, 2})' \"Decimal('9.95')\" -1
  spread call --login alice:wonderland 127.0.0.1:8800 whoami
  spread call --tls ca.pem --timeout 5 localhost:8800 echo None";

/// `spread call`'s arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// Log in to the server's cred portal and call the perspective it
    /// gives, instead of the root object.
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_login)]
    login: Option<Login>,
    /// Connect over TLS, verifying the server's certificate for HOST
    /// against the CA certificates in this PEM file.
    #[arg(long, value_name = "CA.pem")]
    tls: Option<PathBuf>,
    /// Give up after this many seconds: connecting, logging in and calling.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_timeout)]
    timeout: Duration,
    /// The server's address.
    #[arg(value_name = "HOST:PORT", value_parser = parse_address)]
    address: Address,
    /// The remote method's name, as `callRemote` takes it.
    #[arg(value_name = "METHOD")]
    method: String,
    /// The method's arguments, each one Python literal.
    #[arg(
        value_name = "ARG",
        value_parser = parse_literal,
        allow_hyphen_values = true,
        trailing_var_arg = true
    )]
    args: Vec<Value>,
}

/// A server address: a host name or IP address, and a port.
#[derive(Clone, Debug)]
pub(crate) struct Address {
    /// The host, without the brackets of an IPv6 address.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// `--login`'s username and password.
#[derive(Clone)]
pub(crate) struct Login {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password: `Args` is printed when debugging.
        f.debug_struct("Login").field("user", &self.user).finish()
    }
}

pub(crate) fn parse_address(text: &str) -> Result<Address, String> {
    let bad = || format!("expected HOST:PORT, such as 127.0.0.1:8800 or [::1]:8800, got {text:?}");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').ok_or_else(bad)?,
        None if host.contains(':') => {
            return Err(format!(
                "write an IPv6 address in brackets, as [{host}]:{port}"
            ));
        }
        None => host,
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("{port:?} is not a port number (1 to 65535)"))?;
    Ok(Address {
        host: host.to_owned(),
        port,
    })
}

pub(crate) fn parse_login(text: &str) -> Result<Login, String> {
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(Login {
            user: user.to_owned(),
            password: password.to_owned(),
        }),
        _ => Err("expected USER:PASSWORD, such as alice:wonderland".into()),
    }
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("expected a positive number of seconds, got {text:?}"))
}

pub(crate) fn parse_literal(text: &str) -> Result<Value, String> {
    literal::parse(text).map_err(|e| e.to_string())
}

/// Why `spread call` did not print a result, and which exit status says so.
enum Failure {
    /// The remote method raised: `RemoteError: TYPE: MESSAGE`, exit 1.
    Remote { remote_type: String, value: String },
    /// The connection, the login or the answer failed, or time ran out: exit 2.
    Connection(String),
    /// An argument is unusable (an unreadable CA file, a value too large
    /// to send): exit 64.
    Usage(String),
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Failure {
        match e {
            CallError::Remote(e) => Failure::Remote {
                remote_type: e.remote_type,
                value: e.value,
            },
            // Nothing was sent: the arguments themselves are the problem.
            e @ (CallError::Jelly(_) | CallError::Encode(_)) => Failure::Usage(e.to_string()),
            CallError::Answer(e) => Failure::Connection(format!(
                "cannot read the answer: {e} (spread call accepts the basic types and no \
                 classes, as Twisted's default SecurityOptions do)"
            )),
            e => Failure::Connection(e.to_string()),
        }
    }
}

/// Runs `spread call`.
pub(crate) fn run(args: Args) -> ExitCode {
    // Read before connecting, so that a bad file is a usage error however
    // the server behaves.
    let tls = match &args.tls {
        None => None,
        Some(path) => match ClientTls::from_pem_file(path) {
            Ok(tls) => Some(tls),
            Err(e) => return fail(&Failure::Usage(format!("--tls: {e}"))),
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&Failure::Connection(format!("cannot start tokio: {e}"))),
    };
    let timeout = args.timeout;
    let outcome =
        runtime.block_on(async { tokio::time::timeout(timeout, call(&args, tls.as_ref())).await });
    match outcome {
        Ok(Ok(value)) => {
            let mut stdout = std::io::stdout().lock();
            // A closed stdout (`| head -c0`) is the reader's choice, not a failure of the call.
            let _ = writeln!(stdout, "{}", repr::repr(&value));
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Ok(Err(failure)) => fail(&failure),
        Err(_) => fail(&Failure::Connection(format!(
            "no answer from {} within {} s",
            args.address,
            timeout.as_secs_f64()
        ))),
    }
}

/// Prints why on stderr and gives the exit status.
fn fail(failure: &Failure) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let code = match failure {
        Failure::Remote { remote_type, value } => {
            let _ = writeln!(stderr, "RemoteError: {remote_type}: {value}");
            exit::REMOTE_ERROR
        }
        Failure::Connection(message) => {
            let _ = writeln!(stderr, "spread call: {message}");
            exit::CONNECTION
        }
        Failure::Usage(message) => {
            let _ = writeln!(stderr, "spread call: {message}");
            exit::USAGE
        }
    };
    ExitCode::from(code)
}

/// Connects, logs in if asked, and makes the call.
async fn call(args: &Args, tls: Option<&ClientTls>) -> Result<Value, Failure> {
    let address = (args.address.host.as_str(), args.address.port);
    let options = BrokerOptions::default();
    let connected = match tls {
        None => spread::connect(address, options).await,
        Some(tls) => connect_tls(address, &args.address.host, tls, options).await,
    };
    let broker: Broker = connected
        .map_err(|e| Failure::Connection(format!("cannot connect to {}: {e}", args.address)))?;
    let target = match &args.login {
        Some(login) => broker
            .login(&login.user, &login.password, None)
            .await
            .map_err(|e| login_failure(&login.user, e))?,
        None => broker.root_object().await.map_err(|e| {
            Failure::Connection(format!(
                "cannot get the root object of {}: {e}",
                args.address
            ))
        })?,
    };
    Ok(target.call_remote(&args.method, args.args.clone()).await?)
}

fn login_failure(user: &str, e: LoginError) -> Failure {
    Failure::Connection(format!("login as {user:?} failed: {e}"))
}
