//! `spread decode`: Banana bytes (raw or hex), or spread's msgpack frames,
//! printed as s-expressions, one frame per line, in the form the PB session
//! traces use.

mod reader;
mod repr;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use spread::banana::{DecodeError, Dialect, Limits};

pub(crate) use self::reader::{Decoded, Malformed, Reader};
pub(crate) use self::repr::Repr;

/// The input file could not be read (`EX_NOINPUT`).
const NO_INPUT: u8 = 66;
/// The input is not Banana, or not hex with `--hex`.
const MALFORMED: u8 = 1;

const AFTER_HELP: &str = "\
Dialects:
  auto     (default) follow PB's handshake: decode in `none` until a frame that
           is a bare dialect name (the client's choice, b'pb', b'none' or
           b'spread-msgpack'), then in that dialect. This fits a client's stream
           or a whole session in time order.
  pb       the pb vocabulary throughout; use it for a server's stream alone,
           which holds no choice (its offer decodes the same in either dialect).
  none     no vocabulary throughout; a vocabulary token is an error.
  msgpack  spread's own dialect between two spread peers (length-prefixed
           MessagePack frames); use it for a server's stream alone. A first
           frame that is not msgpack (its first byte is not 0) is taken as the
           server's offer, in Banana, as it is sent.

Output: one line per frame, as Python prints what Twisted decodes: byte strings
as b'...', integers, floats, lists in [...]. On malformed input the frames before
it are printed, then stderr says at which byte offset (of the decoded bytes, not
of the hex text) and why decoding stopped, and the exit status is 1. Input that
ends inside a frame is reported the same way. An unreadable file exits 66.

Examples:
  spread decode --hex <<< '02827062 028013870681'
  spread decode --dialect pb capture-server-to-client.bin
  printf '\\x02\\x82pb' | spread decode";

/// `spread decode`'s arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// Which dialect to decode in (see below).
    #[arg(long, value_enum, default_value_t = DialectArg::Auto)]
    dialect: DialectArg,
    /// The input is hex digits (whitespace ignored), not raw bytes.
    #[arg(long)]
    hex: bool,
    /// The file to read; standard input when absent or `-`.
    file: Option<PathBuf>,
}

/// `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DialectArg {
    /// `none` until the client's dialect choice, then the chosen one.
    Auto,
    /// The pb vocabulary from the first byte.
    Pb,
    /// No vocabulary at all.
    None,
    /// Spread's `spread-msgpack` frames.
    Msgpack,
}

impl DialectArg {
    /// A reader set up for this choice.
    fn reader(self) -> Reader {
        let limits = Limits::default();
        match self {
            DialectArg::Auto => Reader::new(limits, Dialect::None, true),
            DialectArg::Pb => Reader::new(limits, Dialect::Pb, false),
            DialectArg::None => Reader::new(limits, Dialect::None, false),
            DialectArg::Msgpack => {
                Reader::new(limits, Dialect::None, false).offer_then(Dialect::Msgpack)
            }
        }
    }
}

/// Runs `spread decode`.
pub(crate) fn run(args: Args) -> ExitCode {
    let input: Box<dyn Read> = match &args.file {
        Some(path) if path.as_os_str() != "-" => match File::open(path) {
            Ok(file) => Box::new(file),
            Err(e) => {
                eprintln!("spread decode: cannot read {}: {e}", path.display());
                return ExitCode::from(NO_INPUT);
            }
        },
        _ => Box::new(io::stdin().lock()),
    };
    let stdout = io::stdout().lock();
    let stderr = io::stderr().lock();
    ExitCode::from(decode(input, stdout, stderr, args.dialect, args.hex))
}

/// Decodes `input` to `out`, reports to `err`, and returns the exit status.
///
/// Reads and prints as input arrives, so a live stream can be piped in.
pub(crate) fn decode(
    mut input: impl Read,
    mut out: impl Write,
    mut err: impl Write,
    dialect: DialectArg,
    hex: bool,
) -> u8 {
    let mut reader = dialect.reader();
    let mut hex_text = hex.then(HexText::default);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writeln!(err, "spread decode: reading input: {e}");
                return NO_INPUT;
            }
        };
        let (bytes, hex_error) = match &mut hex_text {
            Some(text) => text.push(&chunk[..n]),
            None => (chunk[..n].to_vec(), None),
        };
        reader.push(&bytes);
        if let Err(status) = print_frames(&mut reader, &mut out, &mut err, dialect) {
            return status;
        }
        if let Some(message) = hex_error {
            let _ = writeln!(err, "spread decode: {message}");
            return MALFORMED;
        }
    }
    if let Some(text) = &hex_text
        && let Some(message) = text.finish()
    {
        let _ = writeln!(err, "spread decode: {message}");
        return MALFORMED;
    }
    if let Some(t) = reader.truncated() {
        let _ = writeln!(
            err,
            "spread decode: input ended mid-frame: frame {} starts at byte {} and only {} bytes of it arrived",
            t.index, t.frame_start, t.len
        );
        return MALFORMED;
    }
    0
}

/// Prints every complete frame; `Err(status)` when decoding must stop.
fn print_frames(
    reader: &mut Reader,
    out: &mut impl Write,
    err: &mut impl Write,
    dialect: DialectArg,
) -> Result<(), u8> {
    loop {
        match reader.next_frame() {
            Ok(Some(decoded)) => {
                if let Err(e) = writeln!(out, "{}", Repr(&decoded.sexp)) {
                    // A closed pipe (`| head`) is the reader being done.
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        return Err(0);
                    }
                    let _ = writeln!(err, "spread decode: writing output: {e}");
                    return Err(MALFORMED);
                }
            }
            Ok(None) => break,
            Err(malformed) => {
                let _ = out.flush();
                let _ = writeln!(err, "spread decode: {}", describe(&malformed));
                if dialect == DialectArg::Auto
                    && matches!(malformed.error, DecodeError::VocabWithoutDialect { .. })
                {
                    let _ = writeln!(
                        err,
                        "spread decode: hint: a server's stream holds no dialect choice; try --dialect pb"
                    );
                }
                if dialect == DialectArg::Auto
                    && malformed.raw.first() == Some(&0)
                    && matches!(malformed.error, DecodeError::UnknownTypeByte { .. })
                {
                    // A msgpack frame's length (high byte 0) reads as a
                    // Banana header, and its first marker as a type byte
                    // Banana lacks.
                    let _ = writeln!(
                        err,
                        "spread decode: hint: between two spread peers the frames after the offer may be msgpack; try --dialect msgpack"
                    );
                }
                return Err(MALFORMED);
            }
        }
    }
    // Flushed per read, so piped-in live traffic shows up as it arrives.
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(0),
        _ => Ok(()),
    }
}

/// One line saying where and why decoding stopped.
pub(crate) fn describe(malformed: &Malformed) -> String {
    format!(
        "cannot decode frame {} (starting at byte {}): at byte {}: {}",
        malformed.index, malformed.frame_start, malformed.token_start, malformed.error
    )
}

/// Hex text turned into bytes across reads, whitespace ignored.
#[derive(Debug, Default)]
struct HexText {
    /// The high nibble of a byte whose low nibble has not arrived yet.
    high: Option<u8>,
    /// Characters read so far, to say where a bad one is.
    offset: u64,
    /// Set after a bad character: the rest is ignored.
    failed: bool,
}

impl HexText {
    /// The bytes in `text`, and an error message if a character in it is
    /// neither a hex digit nor whitespace (the bytes before it still count).
    fn push(&mut self, text: &[u8]) -> (Vec<u8>, Option<String>) {
        let mut bytes = Vec::with_capacity(text.len() / 2);
        if self.failed {
            return (bytes, None);
        }
        for &c in text {
            self.offset += 1;
            if c.is_ascii_whitespace() {
                continue;
            }
            let Some(nibble) = char::from(c).to_digit(16) else {
                self.failed = true;
                let shown = char::from(c).escape_default();
                let at = self.offset - 1;
                return (
                    bytes,
                    Some(format!("not a hex digit: '{shown}' at character {at}")),
                );
            };
            let nibble = nibble as u8;
            match self.high.take() {
                Some(high) => bytes.push(high << 4 | nibble),
                None => self.high = Some(nibble),
            }
        }
        (bytes, None)
    }

    /// An error message if the text ended inside a byte.
    fn finish(&self) -> Option<String> {
        (!self.failed && self.high.is_some())
            .then(|| "odd number of hex digits: the last byte is missing a digit".to_owned())
    }
}
