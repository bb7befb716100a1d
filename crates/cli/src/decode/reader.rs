//! An incremental Banana (or msgpack) reader that follows PB's dialect
//! handshake and knows the stream offset of every frame, shared by `decode`
//! and `proxy`.

use bytes::{Buf, Bytes, BytesMut};
use spread::banana::{DecodeError, Decoder, Dialect, Limits, Sexp};

/// Frames out of one direction of a Banana stream, fed as bytes arrive.
///
/// PB's handshake is the reason this exists beside [`Decoder`]: a session
/// starts in the `none` dialect (the server's offer, the client's choice)
/// and continues in the chosen one, so with `handshake` set, the first
/// top-level bare byte string naming a dialect (`b'pb'`, `b'none'` or
/// `b'spread-msgpack'`, the client's choice) switches to that dialect for
/// the frames after it.
/// The other direction, which carries no choice, is switched from outside
/// with [`Reader::set_dialect`].
#[derive(Debug)]
pub(crate) struct Reader {
    decoder: Decoder,
    /// What has arrived and the decoder has not consumed yet.
    buf: BytesMut,
    /// A copy of every byte since the start of the frame being decoded: the
    /// decoder drops bytes as tokens complete and clears them on error, but
    /// an error report needs them to say where in the frame it went wrong,
    /// and the proxy shows them raw. At most one frame plus one read.
    frame: BytesMut,
    /// The stream offset of the frame's first byte.
    frame_start: u64,
    /// Frames decoded so far.
    frames: u64,
    /// Whether a bare dialect name, before any choice, is the choice.
    handshake: bool,
    /// Whether a dialect has been chosen (in this stream or from outside).
    chosen: bool,
    /// A dialect to switch to at the next frame boundary.
    pending_dialect: Option<Dialect>,
    /// A dialect the stream is in, after the server's offer if it starts
    /// with one (see [`Reader::offer_then`]).
    offer_then: Option<Dialect>,
    /// Set after a decode error: the stream cannot be resynchronised.
    failed: bool,
}

/// One complete frame.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The frame.
    pub(crate) sexp: Sexp,
    /// The dialect this frame chose, if it was the handshake's choice.
    pub(crate) choice: Option<Dialect>,
}

/// Where and why a stream stopped decoding.
#[derive(Debug)]
pub(crate) struct Malformed {
    /// The frame's number, from 1.
    pub(crate) index: u64,
    /// The stream offset of the frame's first byte.
    pub(crate) frame_start: u64,
    /// The stream offset of the token the decoder refused.
    pub(crate) token_start: u64,
    /// Why.
    pub(crate) error: DecodeError,
    /// Every byte of the frame received so far, from its first byte.
    pub(crate) raw: Bytes,
}

/// A stream that ended inside a frame.
#[derive(Debug)]
pub(crate) struct Truncated {
    /// The frame's number, from 1.
    pub(crate) index: u64,
    /// The stream offset of the frame's first byte.
    pub(crate) frame_start: u64,
    /// How many bytes of it arrived.
    pub(crate) len: usize,
}

impl Reader {
    /// A reader starting in `dialect`; with `handshake`, the client's
    /// dialect choice in the stream switches it.
    pub(crate) fn new(limits: Limits, dialect: Dialect, handshake: bool) -> Reader {
        Reader {
            decoder: Decoder::new(limits).with_dialect(dialect),
            buf: BytesMut::new(),
            frame: BytesMut::new(),
            frame_start: 0,
            frames: 0,
            handshake,
            chosen: false,
            pending_dialect: None,
            offer_then: None,
            failed: false,
        }
    }

    /// A server's stream in `dialect`, which may start with the offer in
    /// Banana (what `--dialect msgpack` decodes). A msgpack frame starts
    /// with the high byte of its length, 0 for any frame within the
    /// default limits; the offer starts with its count of names, never 0.
    pub(crate) fn offer_then(mut self, dialect: Dialect) -> Reader {
        self.offer_then = Some(dialect);
        self
    }

    /// Appends bytes that arrived; ignored once the stream has failed.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(bytes);
            self.frame.extend_from_slice(bytes);
        }
    }

    /// Switches to `dialect` from the next frame on: the dialect the other
    /// direction chose.
    pub(crate) fn set_dialect(&mut self, dialect: Dialect) {
        self.chosen = true;
        self.pending_dialect = Some(dialect);
    }

    /// Whether the dialect has been chosen.
    pub(crate) fn is_chosen(&self) -> bool {
        self.chosen
    }

    /// Whether a decode error stopped this stream.
    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }

    /// The next complete frame; `Ok(None)` when more bytes are needed (or
    /// the stream has failed). After an `Err` the reader stays failed.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Decoded>, Malformed> {
        if self.failed {
            return Ok(None);
        }
        // No offer first: the dialect from the start. Otherwise the offer
        // is decoded in Banana, and the dialect set once it is through.
        if self.frames == 0
            && self.buf.first() == Some(&0)
            && let Some(dialect) = self.offer_then.take()
        {
            self.decoder.set_dialect(dialect);
        }
        // A dialect only changes between frames, and between frames no list
        // is open, so no token of this frame has been read in the old one.
        if !self.decoder.is_mid_expression()
            && let Some(dialect) = self.pending_dialect.take()
        {
            self.decoder.set_dialect(dialect);
        }
        match self.decoder.decode(&mut self.buf) {
            Ok(Some(sexp)) => {
                let len = self.frame.len() - self.buf.len();
                self.frame.advance(len);
                self.frame_start += len as u64;
                self.frames += 1;
                let choice = if self.handshake && !self.chosen {
                    sexp.as_bytes().and_then(Dialect::from_name)
                } else {
                    None
                };
                if let Some(dialect) = choice {
                    self.chosen = true;
                    self.decoder.set_dialect(dialect);
                }
                if let Some(dialect) = self.offer_then.take() {
                    self.decoder.set_dialect(dialect);
                }
                Ok(Some(Decoded { sexp, choice }))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                self.failed = true;
                let token_start = self.frame_start + self.locate_error();
                self.buf.clear();
                Err(Malformed {
                    index: self.frames + 1,
                    frame_start: self.frame_start,
                    token_start,
                    error,
                    raw: self.frame.split().freeze(),
                })
            }
        }
    }

    /// The frame the stream ended in, if it ended inside one.
    pub(crate) fn truncated(&self) -> Option<Truncated> {
        if self.failed || self.frame.is_empty() {
            return None;
        }
        Some(Truncated {
            index: self.frames + 1,
            frame_start: self.frame_start,
            len: self.frame.len(),
        })
    }

    /// The offset within the current frame of the token that failed.
    ///
    /// The decoder forgets its position on error, so the frame is decoded
    /// again one byte at a time by a fresh decoder in the same state: the
    /// bytes it has consumed when the error appears are the tokens before
    /// the bad one. Linear in the frame, and only run once per stream.
    fn locate_error(&self) -> u64 {
        let mut decoder = Decoder::new(*self.decoder.limits()).with_dialect(self.decoder.dialect());
        let mut buf = BytesMut::new();
        for (fed, &byte) in self.frame.iter().enumerate() {
            let token_start = fed - buf.len();
            buf.extend_from_slice(&[byte]);
            match decoder.decode(&mut buf) {
                Ok(None) => {}
                Err(_) => return token_start as u64,
                // Cannot happen (this frame failed), but a complete frame
                // would mean the error is somewhere after it.
                Ok(Some(_)) => return fed as u64 + 1,
            }
        }
        0
    }
}
