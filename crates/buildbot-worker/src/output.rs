//! A command's updates to the master, sent as the Python worker sends them:
//! text cut at line boundaries (a partial line waits for its end), lines
//! longer than 4 096 characters split, and updates gathered for up to 5
//! seconds or 64 KiB, neighbours of one stream joined, one `update` call
//! per gathered item.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use spread::{CallError, Dict, RemoteReference, Value};
use tokio::time::Instant;

/// Bytes gathered before they are sent (Buildbot's `buffer_size`).
const BUFFER_SIZE: usize = 64 * 1024;
/// How long an update may wait to be gathered (Buildbot's `buffer_timeout`).
const BUFFER_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest line sent whole (Buildbot's `max_line_length`).
const MAX_LINE: usize = 4096;
/// Update bytes sent and not yet answered before the next update waits:
/// the master's pace bounds what a fast command queues. A small window
/// would not do: Twisted does not turn Nagle's algorithm off, so the
/// master's answers come in bursts, each after a delayed ACK; the Python
/// worker does not wait for them at all.
const WINDOW_BYTES: usize = 8 << 20;
/// Updates not yet answered before the next one waits (well under the
/// broker's limit of calls in flight).
const WINDOW_CALLS: usize = 1024;

type Answer = Pin<Box<dyn Future<Output = Result<Value, CallError>> + Send>>;

/// What one gathered item carries.
#[derive(Debug)]
enum Item {
    /// `stdout`, `stderr` or `header` text.
    Text(&'static str, String),
    /// A logfile's text.
    Log(String, String),
    /// Anything else: `rc`, `elapsed`, `stat`, `files`, `failure_reason`.
    Status(&'static str, Value),
}

/// The updates of one command, to its `command_ref`.
pub(crate) struct Updates {
    command_ref: RemoteReference,
    lines: Vec<(Stream, LineSplitter)>,
    gathered: Vec<Item>,
    gathered_len: usize,
    deadline: Option<Instant>,
    unanswered: VecDeque<(Answer, usize)>,
    unanswered_bytes: usize,
}

/// Which stream a piece of text belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stream {
    Named(&'static str),
    Log(String),
}

impl Updates {
    pub(crate) fn new(command_ref: RemoteReference) -> Updates {
        Updates {
            command_ref,
            lines: Vec::new(),
            gathered: Vec::new(),
            gathered_len: 0,
            deadline: None,
            unanswered: VecDeque::new(),
            unanswered_bytes: 0,
        }
    }

    /// Text of `stdout`, `stderr` or `header`.
    pub(crate) async fn text(&mut self, key: &'static str, text: &str) {
        if let Some(lines) = self.split(Stream::Named(key), text, false) {
            self.gather(Item::Text(key, lines)).await;
        }
    }

    /// Text of the logfile `name`.
    pub(crate) async fn log(&mut self, name: &str, text: &str) {
        if let Some(lines) = self.split(Stream::Log(name.to_owned()), text, false) {
            self.gather(Item::Log(name.to_owned(), lines)).await;
        }
    }

    /// Any other status: `rc`, `elapsed`, `files`, ...
    pub(crate) async fn status(&mut self, key: &'static str, value: Value) {
        self.gather(Item::Status(key, value)).await;
    }

    /// When what is gathered must be sent, if anything is.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Sends what is gathered (its deadline passed).
    pub(crate) async fn send_gathered(&mut self) {
        let items = std::mem::take(&mut self.gathered);
        self.gathered_len = 0;
        self.deadline = None;
        for item in items {
            self.send(item).await;
        }
    }

    /// Sends every partial line and everything gathered, and waits for the
    /// master's answers: the command is about to complete.
    pub(crate) async fn finish(&mut self) {
        let streams: Vec<Stream> = self.lines.iter().map(|(s, _)| s.clone()).collect();
        for stream in streams {
            if let Some(rest) = self.split(stream.clone(), "", true) {
                let item = match stream {
                    Stream::Named(key) => Item::Text(key, rest),
                    Stream::Log(name) => Item::Log(name, rest),
                };
                self.gather(item).await;
            }
        }
        self.send_gathered().await;
        while let Some((answer, _)) = self.unanswered.pop_front() {
            if let Err(e) = answer.await {
                tracing::debug!(%e, "an update was not answered");
            }
        }
        self.unanswered_bytes = 0;
    }

    fn split(&mut self, stream: Stream, text: &str, flush: bool) -> Option<String> {
        let at = match self.lines.iter().position(|(s, _)| *s == stream) {
            Some(at) => at,
            None => {
                self.lines.push((stream, LineSplitter::default()));
                self.lines.len() - 1
            }
        };
        let splitter = &mut self.lines[at].1;
        if flush {
            splitter.flush()
        } else {
            splitter.append(text)
        }
    }

    async fn gather(&mut self, item: Item) {
        let len = match &item {
            Item::Text(_, text) | Item::Log(_, text) => {
                text.len() + 16 * text.matches('\n').count()
            }
            Item::Status(..) => 20,
        };
        if len > BUFFER_SIZE - self.gathered_len {
            self.send_gathered().await;
        }
        if len > BUFFER_SIZE {
            // Too big to gather: sent in full pieces of whole lines; the
            // last piece is gathered with what follows.
            let mut pieces = pieces(item);
            let last = pieces.pop();
            for piece in pieces {
                self.send(piece).await;
            }
            if let Some(last) = last {
                Box::pin(self.gather(last)).await;
            }
            return;
        }
        let joined = match (self.gathered.last_mut(), &item) {
            (Some(Item::Text(last, text)), Item::Text(key, more)) if last == key => {
                text.push_str(more);
                true
            }
            (Some(Item::Log(last, text)), Item::Log(name, more)) if last == name => {
                text.push_str(more);
                true
            }
            _ => false,
        };
        if !joined {
            self.gathered.push(item);
        }
        self.gathered_len += len;
        self.deadline
            .get_or_insert_with(|| Instant::now() + BUFFER_TIMEOUT);
    }

    /// One `update([[{key: value}, 0]])` call; waits for the oldest answers
    /// when too many are outstanding.
    async fn send(&mut self, item: Item) {
        let size = match &item {
            Item::Text(_, text) | Item::Log(_, text) => text.len(),
            Item::Status(..) => 20,
        };
        let (key, value) = match item {
            Item::Text(key, text) => (key, Value::from(text)),
            Item::Log(name, text) => (
                "log",
                Value::Tuple(vec![Value::from(name), Value::from(text)]),
            ),
            Item::Status(key, value) => (key, value),
        };
        let mut update = Dict::new();
        update.insert(Value::from(key), value);
        let updates = Value::List(vec![Value::List(vec![Value::Dict(update), Value::from(0)])]);
        let answer = self.command_ref.call_remote("update", vec![updates]);
        self.unanswered.push_back((Box::pin(answer), size));
        self.unanswered_bytes += size;
        while self.unanswered_bytes > WINDOW_BYTES || self.unanswered.len() > WINDOW_CALLS {
            let Some((oldest, size)) = self.unanswered.pop_front() else {
                break;
            };
            self.unanswered_bytes -= size;
            if let Err(e) = oldest.await {
                tracing::debug!(%e, "an update was not answered");
            }
        }
    }
}

/// A text item too big to gather, cut into items of whole lines that each
/// fit the buffer.
fn pieces(item: Item) -> Vec<Item> {
    let rebuild = |piece: String| -> Item {
        match &item {
            Item::Text(key, _) => Item::Text(key, piece),
            Item::Log(name, _) => Item::Log(name.clone(), piece),
            Item::Status(key, value) => Item::Status(key, value.clone()),
        }
    };
    let text = match &item {
        Item::Text(_, text) | Item::Log(_, text) => text.clone(),
        Item::Status(..) => return vec![item],
    };
    let mut out = Vec::new();
    let mut piece = String::new();
    let mut cost = 0;
    for line in text.split_inclusive('\n') {
        // Each line counts as its text and 16 bytes, as Buildbot counts it.
        let line_cost = line.len() + 16;
        if cost + line_cost > BUFFER_SIZE && !piece.is_empty() {
            out.push(rebuild(std::mem::take(&mut piece)));
            cost = 0;
        }
        piece.push_str(line);
        cost += line_cost;
    }
    if !piece.is_empty() {
        out.push(rebuild(piece));
    }
    out
}

/// Buildbot's line boundary finder: gives whole lines only, a partial line
/// kept for the next text; the newline forms a terminal uses to move the
/// cursor (`\r\n`, a lone `\r`, `ESC[u`, `ESC[n;mH`, `ESC[2J`, backspaces)
/// count as newlines; lines longer than [`MAX_LINE`] are split.
#[derive(Debug, Default)]
struct LineSplitter {
    partial: String,
}

impl LineSplitter {
    fn append(&mut self, text: &str) -> Option<String> {
        let mut all = std::mem::take(&mut self.partial);
        all.push_str(text);
        let all = normalize_newlines(&all);
        let (whole, partial) = match all.rfind('\n') {
            Some(at) => (&all[..=at], &all[at + 1..]),
            None => ("", all.as_str()),
        };
        let mut out = String::with_capacity(whole.len());
        for line in whole.split_inclusive('\n') {
            push_split(&mut out, line);
        }
        // A partial line that is already too long is sent in pieces.
        let mut partial = partial;
        while partial.chars().count() >= MAX_LINE {
            let cut = char_boundary(partial, MAX_LINE - 1);
            out.push_str(&partial[..cut]);
            out.push('\n');
            partial = &partial[cut..];
        }
        self.partial = partial.to_owned();
        (!out.is_empty()).then_some(out)
    }

    fn flush(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            None
        } else {
            self.append("\n")
        }
    }
}

/// Appends `line` (ending in `\n`), split into pieces of at most
/// [`MAX_LINE`] characters each ending in `\n`.
fn push_split(out: &mut String, mut line: &str) {
    while line.chars().count() > MAX_LINE {
        let cut = char_boundary(line, MAX_LINE - 1);
        out.push_str(&line[..cut]);
        out.push('\n');
        line = &line[cut..];
    }
    out.push_str(line);
}

/// The byte offset of the `n`th character of `s`.
fn char_boundary(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(at, _)| at)
}

/// Buildbot's `newline_re`, `(\r\n|\r(?=.)|\033\[u|\033\[[0-9]+;[0-9]+[Hf]|\033\[2J|\x08+)`,
/// each match made one `\n`.
fn normalize_newlines(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let matched = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
            b'\r' if i + 1 < bytes.len() => 1,
            0x08 => bytes[i..].iter().take_while(|&&b| b == 0x08).count(),
            0x1b => escape_len(&bytes[i..]),
            _ => 0,
        };
        if matched == 0 {
            i += 1;
            continue;
        }
        out.push_str(&text[copied..i]);
        out.push('\n');
        i += matched;
        copied = i;
    }
    out.push_str(&text[copied..]);
    out
}

/// The length of a cursor-moving escape at the start of `b`, or 0.
fn escape_len(b: &[u8]) -> usize {
    if b.starts_with(b"\x1b[u") {
        return 3;
    }
    if b.starts_with(b"\x1b[2J") {
        return 4;
    }
    // ESC [ digits ; digits (H|f)
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.starts_with(b"\x1b[") {
        let first = digits(2);
        if first > 0 && b.get(2 + first) == Some(&b';') {
            let second = digits(3 + first);
            let end = 3 + first + second;
            if second > 0 && matches!(b.get(end), Some(b'H' | b'f')) {
                return end + 1;
            }
        }
    }
    0
}

/// Python's incremental UTF-8 decoder with `errors='replace'`: bytes that
/// end in the middle of a character wait for the rest.
#[derive(Debug, Default)]
pub(crate) struct Utf8Decoder {
    pending: Vec<u8>,
}

impl Utf8Decoder {
    pub(crate) fn decode(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(text);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            out.push('\u{FFFD}');
                            rest = &bad[n..];
                        }
                        // Incomplete at the end: wait for more.
                        None => {
                            rest = bad;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        out
    }

    /// What is left at the end of the stream, replaced.
    pub(crate) fn finish(&mut self) -> String {
        if self.pending.is_empty() {
            String::new()
        } else {
            self.pending.clear();
            '\u{FFFD}'.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_their_end() {
        let mut s = LineSplitter::default();
        assert_eq!(s.append("hel"), None);
        assert_eq!(s.append("lo\nwor").as_deref(), Some("hello\n"));
        assert_eq!(s.append("ld\r\nx\ry\n").as_deref(), Some("world\nx\ny\n"));
        assert_eq!(s.append("tail"), None);
        assert_eq!(s.flush().as_deref(), Some("tail\n"));
        assert_eq!(s.flush(), None);
    }

    #[test]
    fn long_lines_are_split() {
        let mut s = LineSplitter::default();
        let long = "a".repeat(MAX_LINE + 10) + "\n";
        let out = s.append(&long).unwrap();
        let lines: Vec<&str> = out.split_inclusive('\n').collect();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.chars().count() <= MAX_LINE));
        assert_eq!(out.replace('\n', "").len(), MAX_LINE + 10);
    }

    #[test]
    fn big_text_is_cut_into_full_pieces_of_whole_lines() {
        let line = "x".repeat(99) + "\n";
        let text = line.repeat(1500);
        let pieces = pieces(Item::Text("stdout", text.clone()));
        let texts: Vec<&str> = pieces
            .iter()
            .map(|p| match p {
                Item::Text(_, t) => t.as_str(),
                _ => panic!("{p:?}"),
            })
            .collect();
        assert_eq!(texts.concat(), text);
        for t in &texts {
            assert!(t.ends_with('\n'));
            assert!(t.len() + 16 * t.matches('\n').count() <= BUFFER_SIZE);
        }
        // Full pieces: as few as the buffer allows.
        assert_eq!(texts.len(), (text.len() + 16 * 1500).div_ceil(BUFFER_SIZE));
    }

    #[test]
    fn terminal_newlines_count() {
        assert_eq!(
            normalize_newlines("a\x1b[2Jb\x08\x08c\x1b[3;4Hd\r"),
            "a\nb\nc\nd\r"
        );
    }

    #[test]
    fn utf8_split_across_reads_is_joined() {
        let mut d = Utf8Decoder::default();
        let snow = "☃".as_bytes();
        assert_eq!(d.decode(&snow[..1]), "");
        assert_eq!(d.decode(&snow[1..]), "☃");
        assert_eq!(d.decode(b"\xff ok"), "\u{FFFD} ok");
    }
}
