//! The proxy's printing: text (coloured on a terminal) or JSON lines,
//! written by one thread so lines from different connections never mix.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::sync::mpsc;

use crate::proxy::Dir;

/// How many lines may wait for the terminal: a bound, so a slow terminal
/// slows the proxy down instead of filling memory.
const QUEUE: usize = 1024;

/// One thing to print about a direction of a connection.
#[derive(Debug)]
pub(crate) enum Line {
    /// A decoded frame.
    Frame {
        /// The s-expression as `spread decode` prints it.
        frame: String,
        /// What it means in PB, if known.
        summary: Option<String>,
        kind: Option<&'static str>,
        request: Option<i64>,
        method: Option<String>,
    },
    /// Decoding stopped.
    Malformed {
        message: String,
        offset: u64,
        frame_offset: u64,
    },
    /// Bytes shown as hex because they could not be decoded.
    Raw { hex: String },
}

/// Where lines go; cheap to clone, one per connection.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    tx: mpsc::Sender<String>,
    json: bool,
    colour: bool,
}

impl Output {
    /// Starts the printing thread.
    pub(crate) fn start(json: bool) -> Output {
        let colour = !json && io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::spawn(move || print_lines(rx));
        Output { tx, json, colour }
    }

    /// Prints a line about a frame or raw bytes.
    pub(crate) async fn send(&self, conn: u64, dir: Dir, t: Duration, line: Line) {
        let text = if self.json {
            json_line(conn, dir, t, line)
        } else {
            self.text_line(conn, dir, t, line)
        };
        // The printer only stops when the process does.
        let _ = self.tx.send(text).await;
    }

    /// Prints a connection event: open, closed, truncated, failed.
    pub(crate) async fn event(&self, conn: u64, t: Duration, event: &str, detail: String) {
        let text = if self.json {
            json!({ "conn": conn, "t": seconds(t), "event": event, "detail": detail }).to_string()
        } else {
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            };
            let text = format!("{event}{detail}");
            format!(
                "#{conn} ---- {:>9.4}s  {}",
                t.as_secs_f64(),
                self.paint("33", &text)
            )
        };
        let _ = self.tx.send(text).await;
    }

    fn text_line(&self, conn: u64, dir: Dir, t: Duration, line: Line) -> String {
        let colour = match dir {
            Dir::ClientToServer => "36",
            Dir::ServerToClient => "35",
        };
        let head = format!(
            "#{conn} {} {:>9.4}s  ",
            self.paint(colour, dir.name()),
            t.as_secs_f64()
        );
        match line {
            Line::Frame {
                frame,
                summary,
                kind,
                ..
            } => match summary {
                Some(summary) => {
                    let style = if kind == Some("error") { "1;31" } else { "1" };
                    format!("{head}{}  {frame}", self.paint(style, &summary))
                }
                None => format!("{head}{frame}"),
            },
            Line::Malformed { message, .. } => {
                format!(
                    "{head}{}",
                    self.paint("1;31", &format!("malformed: {message}"))
                )
            }
            Line::Raw { hex } => format!("{head}{} {hex}", self.paint("31", "raw")),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn json_line(conn: u64, dir: Dir, t: Duration, line: Line) -> String {
    let mut object = json!({ "conn": conn, "dir": dir.name(), "t": seconds(t) });
    let fields = match line {
        Line::Frame {
            frame,
            summary,
            kind,
            request,
            method,
        } => json!({
            "frame": frame,
            "kind": kind,
            "request": request,
            "method": method,
            "summary": summary,
        }),
        Line::Malformed {
            message,
            offset,
            frame_offset,
        } => json!({ "malformed": message, "offset": offset, "frame_offset": frame_offset }),
        Line::Raw { hex } => json!({ "raw": hex }),
    };
    if let (Some(object), Json::Object(fields)) = (object.as_object_mut(), fields) {
        // Unknown fields are left out rather than printed as null.
        object.extend(fields.into_iter().filter(|(_, value)| !value.is_null()));
    }
    object.to_string()
}

/// Seconds with microseconds, as JSON numbers read back well.
fn seconds(t: Duration) -> f64 {
    (t.as_secs_f64() * 1e6).round() / 1e6
}

/// Writes lines as they come, flushing whenever the queue runs dry so a
/// pipe reader sees each line at once without a flush per line under load.
fn print_lines(mut rx: mpsc::Receiver<String>) {
    let stdout = io::stdout();
    let mut ok = true;
    while let Some(line) = rx.blocking_recv() {
        let mut out = stdout.lock();
        // After a write error (the reader went away) lines are dropped, but
        // still taken, so forwarding never waits on a dead terminal.
        ok = ok && writeln!(out, "{line}").is_ok();
        while let Ok(line) = rx.try_recv() {
            ok = ok && writeln!(out, "{line}").is_ok();
        }
        ok = ok && out.flush().is_ok();
    }
}
