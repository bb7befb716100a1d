//! What a frame means in PB: the handshake, commands, and which call an
//! answer or error answers, per connection.

use std::collections::HashMap;
use std::fmt::Write;

use spread::banana::{Dialect, Sexp};
use spread::broker::proto::{Frame, ObjectId};

use crate::decode::{Decoded, Reader, Repr, describe};
use crate::proxy::Dir;
use crate::proxy::output::Line;

/// Bytes per `raw` line: 64 hex digits fit a terminal beside the prefix.
const RAW_LINE: usize = 32;

/// What both directions of one connection know together.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The dialect the client chose, once it has.
    chosen: Option<Dialect>,
    /// Calls still waiting for an answer, by the caller's direction and the
    /// request id (each side numbers its own calls).
    calls: HashMap<(Dir, i64), Call>,
}

/// A call that asked for an answer.
#[derive(Debug)]
struct Call {
    /// `message` or `cachemessage`.
    kind: &'static str,
    method: String,
}

impl Session {
    /// Feeds one read of `dir` to its reader and says what it held.
    pub(crate) fn describe(&mut self, dir: Dir, reader: &mut Reader, bytes: &[u8]) -> Vec<Line> {
        let mut lines = Vec::new();
        if reader.has_failed() {
            raw_lines(bytes, &mut lines);
            return lines;
        }
        // The server answers the choice in the chosen dialect; the client's
        // reader saw the choice before it was forwarded, so it is known by
        // the time any of those bytes arrive.
        if let Some(dialect) = self.chosen
            && !reader.is_chosen()
        {
            reader.set_dialect(dialect);
        }
        reader.push(bytes);
        loop {
            match reader.next_frame() {
                Ok(Some(decoded)) => lines.push(self.frame(dir, decoded)),
                Ok(None) => break,
                Err(malformed) => {
                    lines.push(Line::Malformed {
                        message: describe(&malformed),
                        offset: malformed.token_start,
                        frame_offset: malformed.frame_start,
                    });
                    raw_lines(&malformed.raw, &mut lines);
                    break;
                }
            }
        }
        lines
    }

    fn frame(&mut self, dir: Dir, decoded: Decoded) -> Line {
        let frame = Repr(&decoded.sexp).to_string();
        let mut line = FrameInfo::default();
        if let Some(dialect) = decoded.choice {
            self.chosen = Some(dialect);
            line.kind = Some("choice");
            line.summary = Some(format!(
                "dialect choice {}",
                String::from_utf8_lossy(dialect.name())
            ));
        } else if self.chosen.is_none() {
            if dir == Dir::ServerToClient && is_offer(&decoded.sexp) {
                line.kind = Some("offer");
                line.summary = Some("dialect offer".to_owned());
            }
        } else if let Ok(parsed) = Frame::parse(decoded.sexp) {
            self.command(dir, parsed, &mut line);
        }
        Line::Frame {
            frame,
            summary: line.summary,
            kind: line.kind,
            request: line.request,
            method: line.method,
        }
    }

    fn command(&mut self, dir: Dir, frame: Frame, line: &mut FrameInfo) {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match frame {
            Frame::Version { version } => {
                line.set("version", None, format!("version {version}"));
            }
            Frame::Message {
                request,
                object,
                method,
                answer,
                ..
            } => {
                let object = match object {
                    ObjectId::Name(name) => text(&name),
                    ObjectId::Luid(luid) => luid.to_string(),
                };
                let method = text(&method);
                let mut summary = format!("message {request} {object}.{method}");
                self.call(dir, "message", request, &method, answer, &mut summary);
                line.set("message", Some(request), summary);
                line.method = Some(method);
            }
            Frame::CacheMessage {
                request,
                luid,
                method,
                answer,
                ..
            } => {
                let method = text(&method);
                let mut summary = format!("cachemessage {request} {luid}.{method}");
                self.call(dir, "cachemessage", request, &method, answer, &mut summary);
                line.set("cachemessage", Some(request), summary);
                line.method = Some(method);
            }
            Frame::Answer { request, .. } => self.reply(dir, "answer", request, line),
            Frame::Error { request, .. } => self.reply(dir, "error", request, line),
            Frame::Decref { luid } => line.set("decref", None, format!("decref {luid}")),
            Frame::Decache { luid } => line.set("decache", None, format!("decache {luid}")),
            Frame::Uncache { luid } => line.set("uncache", None, format!("uncache {luid}")),
            Frame::DidNotUnderstand { .. } => {
                line.set("didNotUnderstand", None, "didNotUnderstand".to_owned());
            }
            // `Frame` is non-exhaustive: a command added later is shown bare.
            _ => {}
        }
    }

    /// Remembers a call that wants an answer.
    fn call(
        &mut self,
        dir: Dir,
        kind: &'static str,
        request: i64,
        method: &str,
        answer: bool,
        summary: &mut String,
    ) {
        if answer {
            let method = method.to_owned();
            self.calls.insert((dir, request), Call { kind, method });
        } else {
            summary.push_str(" (no answer wanted)");
        }
    }

    /// Matches an answer or error with the call it answers, which went the
    /// other way.
    fn reply(&mut self, dir: Dir, kind: &'static str, request: i64, line: &mut FrameInfo) {
        let mut summary = format!("{kind} {request}");
        match self.calls.remove(&(dir.opposite(), request)) {
            Some(call) => {
                let _ = write!(summary, " (to {} {request} {})", call.kind, call.method);
                line.method = Some(call.method);
            }
            None => summary.push_str(" (to no call seen)"),
        }
        line.set(kind, Some(request), summary);
    }
}

/// What is known of a frame beyond its s-expression.
#[derive(Debug, Default)]
struct FrameInfo {
    kind: Option<&'static str>,
    request: Option<i64>,
    method: Option<String>,
    summary: Option<String>,
}

impl FrameInfo {
    fn set(&mut self, kind: &'static str, request: Option<i64>, summary: String) {
        self.kind = Some(kind);
        self.request = request;
        self.summary = Some(summary);
    }
}

/// The server's offer: a list of dialect names.
fn is_offer(sexp: &Sexp) -> bool {
    sexp.as_list()
        .is_some_and(|items| items.iter().all(|item| item.as_bytes().is_some()))
}

fn raw_lines(bytes: &[u8], lines: &mut Vec<Line>) {
    for piece in bytes.chunks(RAW_LINE) {
        let mut hex = String::with_capacity(piece.len() * 2);
        for byte in piece {
            let _ = write!(hex, "{byte:02x}");
        }
        lines.push(Line::Raw { hex });
    }
}
