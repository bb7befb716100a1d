//! `spread proxy`: forwards PB connections byte for byte and prints every
//! frame in both directions, with calls and their answers matched.

mod annotate;
mod output;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use spread::banana::{Dialect, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::decode::Reader;

use self::annotate::Session;
use self::output::Output;

const AFTER_HELP: &str = "\
Listens on 127.0.0.1:LISTEN_PORT (0: any free port) and prints
`listening on 127.0.0.1:PORT` first. Each accepted connection is forwarded to
UPSTREAM unchanged in both directions, and every frame is printed as

  #CONN DIR  SECONDS  [SUMMARY  ]S-EXPRESSION

DIR is C->S (client to server) or S->C, SECONDS the time since the connection
was accepted, S-EXPRESSION as `spread decode` prints it. SUMMARY names PB's
commands: `dialect offer`, `dialect choice pb`, `version 6`,
`message 3 root.echo`, `answer 3 (to message 3 echo)`, `error 4 (to message 4
fail)`, `decref 2`, ... Decoding follows the handshake: none until the client's
choice, then the chosen dialect, both ways (pb, none, or spread-msgpack between
two spread peers). Traffic that is not Banana is still
forwarded; a `malformed` line says where and why decoding stopped, and `raw`
lines show the hex of every byte from that frame on. Colour only on a terminal
(and not with NO_COLOR set). Stop with Ctrl-C.

With --json, one object per line: frames as
  {\"conn\":1,\"dir\":\"C->S\",\"t\":0.0021,\"frame\":\"[b'message', ...]\",
   \"kind\":\"message\",\"request\":1,\"method\":\"echo\",\"summary\":\"message 1 root.echo\"}
(kind, request, method and summary where known; an answer or error carries the
method of the call it answers), {\"conn\",\"dir\",\"t\",\"malformed\",\"offset\",
\"frame_offset\"}, {\"conn\",\"dir\",\"t\",\"raw\"} and connection events
{\"conn\",\"t\",\"event\",\"detail\"}.

Examples:
  spread proxy 8801 127.0.0.1:8800
  spread proxy 0 pbserver.example:8789 --json | jq -c 'select(.kind == \"error\")'";

/// `spread proxy`'s arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// The port to listen on at 127.0.0.1; 0 picks a free one.
    listen_port: u16,
    /// The PB server to forward to, as HOST:PORT.
    #[arg(value_name = "UPSTREAM_HOST:PORT", value_parser = parse_upstream)]
    upstream: String,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    json: bool,
}

/// Checks HOST:PORT now, so a typo is a usage error and not a failure at
/// the first connection; the name itself is resolved at each connection.
fn parse_upstream(value: &str) -> Result<String, String> {
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| "expected HOST:PORT".to_owned())?;
    if host.is_empty() {
        return Err("expected HOST:PORT, the host is empty".to_owned());
    }
    port.parse::<u16>()
        .map_err(|e| format!("bad port {port:?}: {e}"))?;
    Ok(value.to_owned())
}

/// Runs `spread proxy`.
pub(crate) fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("spread proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> ExitCode {
    let listener = match TcpListener::bind(("127.0.0.1", args.listen_port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "spread proxy: cannot listen on 127.0.0.1:{}: {e}",
                args.listen_port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = match listener.local_addr() {
        Ok(addr) => addr.port(),
        Err(e) => {
            eprintln!("spread proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts wait for this line before connecting, so it must not sit in
    // a buffer.
    {
        let mut stdout = io::stdout().lock();
        let _ = writeln!(stdout, "listening on 127.0.0.1:{port}");
        let _ = stdout.flush();
    }
    let output = Output::start(args.json);
    let upstream: Arc<str> = Arc::from(args.upstream);
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    next_id += 1;
                    let connection = Connection {
                        id: next_id,
                        started: Instant::now(),
                        output: output.clone(),
                    };
                    tokio::spawn(connection.run(client, peer, Arc::clone(&upstream)));
                }
                Err(e) => {
                    eprintln!("spread proxy: accept: {e}");
                    // Out of file descriptors, typically: retrying at once
                    // would spin, so give connections a moment to close.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    ExitCode::SUCCESS
}

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dir {
    /// From the client that connected to the proxy, to the server.
    ClientToServer,
    /// From the server back to the client.
    ServerToClient,
}

impl Dir {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dir::ClientToServer => "C->S",
            Dir::ServerToClient => "S->C",
        }
    }

    pub(crate) fn opposite(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
}

/// One proxied connection.
#[derive(Debug, Clone)]
struct Connection {
    id: u64,
    started: Instant,
    output: Output,
}

impl Connection {
    async fn run(self, client: TcpStream, peer: SocketAddr, upstream: Arc<str>) {
        let server = match TcpStream::connect(&*upstream).await {
            Ok(server) => server,
            Err(e) => {
                self.event("failed", format!("cannot connect to {upstream}: {e}"))
                    .await;
                return;
            }
        };
        self.event("open", format!("client {peer}, server {upstream}"))
            .await;
        // PB's frames are small and each waits for an answer: Nagle's
        // algorithm in the proxy would add delays the peers never see
        // when talking directly.
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let session = Arc::new(Mutex::new(Session::default()));
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let up = self.pump(Dir::ClientToServer, client_read, server_write, &session);
        let down = self.pump(Dir::ServerToClient, server_read, client_write, &session);
        // The first error ends both directions: dropping the halves closes
        // both sockets, so each peer sees the other go away.
        match tokio::try_join!(up, down) {
            Ok(_) => self.event("closed", String::new()).await,
            Err(e) => self.event("closed", format!("{e}")).await,
        }
    }

    /// Forwards one direction until its end of stream, printing frames.
    ///
    /// Each read is decoded and printed before it is written on: the
    /// client's dialect choice must switch the server's direction before
    /// the server can answer it. Nothing is read while a write waits, so a
    /// peer that does not read slows its sender down, through the proxy.
    async fn pump(
        &self,
        dir: Dir,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        session: &Mutex<Session>,
    ) -> io::Result<()> {
        let mut reader = Reader::new(Limits::default(), Dialect::None, dir == Dir::ClientToServer);
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = from.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            let t = self.started.elapsed();
            let lines = {
                let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
                session.describe(dir, &mut reader, &chunk[..n])
            };
            for line in lines {
                self.output.send(self.id, dir, t, line).await;
            }
            to.write_all(&chunk[..n]).await?;
        }
        if let Some(truncated) = reader.truncated() {
            let detail = format!(
                "{} closed mid-frame: frame {} starts at byte {} and only {} bytes of it arrived",
                dir.name(),
                truncated.index,
                truncated.frame_start,
                truncated.len
            );
            self.event("truncated", detail).await;
        }
        // A closed side closes the other: pass the end of stream on. The
        // other direction goes on until its own end, as TCP allows.
        to.shutdown().await
    }

    async fn event(&self, event: &'static str, detail: String) {
        self.output
            .event(self.id, self.started.elapsed(), event, detail)
            .await;
    }
}

#[cfg(test)]
mod tests;
