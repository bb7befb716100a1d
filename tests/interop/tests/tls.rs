//! The login examples over TLS against Twisted's own TLS, both ways, with
//! certificates made on the fly: verified, refused when they do not verify,
//! and client certificates required by the Rust server.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use spread::BrokerOptions;
use spread::tls::{ServerTls, serve_tls};
use spread_interop::certs::Certs;
use spread_interop::peer::{Process, debug_dir, python, workspace_root};

/// Starts a server that prints `listening on 127.0.0.1:PORT`; its port.
fn start(command: Command) -> (Process, u16) {
    let server = Process::spawn(command);
    let port = server.port();
    (server, port)
}

/// Runs a client to the end: its exit code and stdout.
fn run(mut command: Command) -> (i32, String) {
    let out = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn script(python: &Path, name: &str) -> Command {
    let mut command = Command::new(python);
    command.arg(workspace_root().join("tests/interop/python").join(name));
    command
}

fn example(name: &str) -> Command {
    Command::new(debug_dir().join("examples").join(name))
}

const LOGGED_IN: &str =
    "logged in as alice\nwhoami -> 'alice'\necho -> 'hello'\ncallMeBack -> 'hello, there'\n";

#[test]
fn login_examples_over_tls_interoperate_with_twisted() {
    let Some(python) = python().unwrap() else {
        eprintln!("SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it");
        return;
    };
    let certs = Certs::generate();
    let (cert, key) = (certs.path("server.pem"), certs.path("server-key.pem"));
    let servers: [(&str, Command); 2] = [
        ("Twisted server", {
            let mut c = script(&python, "login_server.py");
            c.args(["0", "--tls", &cert, &key]);
            c
        }),
        ("Rust server", {
            let mut c = example("login_server");
            c.args(["0", "--tls", &cert, &key]);
            c
        }),
    ];
    for (what, server) in servers {
        let (_server, port) = start(server);
        let port = port.to_string();
        let clients: [(&str, Command); 2] = [
            ("Rust client", example("login_client")),
            ("Twisted client", script(&python, "login_client.py")),
        ];
        for (who, mut client) in clients {
            client.args([&port, "alice", "wonderland", "--tls", &certs.path("ca.pem")]);
            assert_eq!(run(client), (0, LOGGED_IN.to_owned()), "{who} to {what}");
        }
        // Over TLS as without: a wrong password is refused as Twisted refuses it.
        for mut client in [example("login_client"), script(&python, "login_client.py")] {
            client.args([&port, "alice", "rabbit", "--tls", &certs.path("ca.pem")]);
            let (code, out) = run(client);
            assert_eq!(code, 1, "{what}: {out}");
            assert!(out.starts_with("UnauthorizedLogin:"), "{what}: {out}");
        }
        // A server certificate the client cannot verify: refused, not hung.
        for mut client in [example("login_client"), script(&python, "login_client.py")] {
            client.args([
                &port,
                "alice",
                "wonderland",
                "--tls",
                &certs.path("other-ca.pem"),
            ]);
            let (code, out) = run(client);
            assert_eq!(code, 2, "{what}: an unverified server was accepted: {out}");
        }
    }
}

/// A Rust portal that requires client certificates: Twisted's client gets
/// in with one and is refused without.
#[test]
fn the_rust_server_requires_twisteds_client_certificate() {
    let Some(python) = python().unwrap() else {
        eprintln!("SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it");
        return;
    };
    let certs = Certs::generate();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, port) = runtime.block_on(async {
        let tls = ServerTls::from_pem_files(certs.path("server.pem"), certs.path("server-key.pem"))
            .unwrap()
            .require_client_certificates_pem(certs.path("ca.pem"))
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let portal = spread_interop::cred::portal(log);
        let server = serve_tls(
            listener,
            tls,
            BrokerOptions::default().with_root(portal.root()),
        );
        (server, port)
    });
    let client = |with_certificate: bool| {
        let mut c = script(&python, "login_client.py");
        c.args([
            &port.to_string(),
            "alice",
            "wonderland",
            "--tls",
            &certs.path("ca.pem"),
        ]);
        if with_certificate {
            c.args([
                "--client-cert",
                &certs.path("client.pem"),
                &certs.path("client-key.pem"),
            ]);
        }
        run(c)
    };
    let (code, out) = client(true);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("logged in as alice"), "{out}");
    let (code, out) = client(false);
    assert_eq!(code, 2, "a client without a certificate got in: {out}");
    runtime.block_on(server.shutdown());
}
