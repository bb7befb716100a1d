//! Banana framing as a tokio-util codec.

use std::io;

use bytes::BytesMut;
use spread_banana::{
    DecodeError, Decoder as BananaDecoder, Dialect, EncodeError, Encoder as BananaEncoder, Limits,
    Sexp,
};
use tokio_util::codec::{Decoder, Encoder};

/// Frames a byte stream into Banana expressions and back: one PB frame is one
/// top-level expression. The dialect can change between frames (PB switches
/// right after the dialect choice, mid-buffer).
///
/// ```
/// use bytes::BytesMut;
/// use spread_banana::{Dialect, Limits, Sexp};
/// use spread_broker::BananaCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = BananaCodec::new(Limits::default());
/// codec.set_dialect(Dialect::Pb);
/// let mut buf = BytesMut::new();
/// codec.encode(&Sexp::list([Sexp::from("version"), Sexp::from(6)]), &mut buf)?;
/// assert_eq!(&buf[..], [0x02, 0x80, 0x13, 0x87, 0x06, 0x81]);
/// assert!(codec.decode(&mut buf)?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BananaCodec {
    decoder: BananaDecoder,
    encoder: BananaEncoder,
}

impl BananaCodec {
    /// A codec in the `none` dialect (no dialect chosen yet).
    pub fn new(limits: Limits) -> BananaCodec {
        BananaCodec {
            decoder: BananaDecoder::new(limits),
            encoder: BananaEncoder::new(Dialect::None).with_limits(limits),
        }
    }

    /// Switches both directions to `dialect`.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.decoder.set_dialect(dialect);
        self.encoder.set_dialect(dialect);
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.decoder.dialect()
    }
}

/// A codec failure: tokio-util wants IO errors to fit in the same type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Malformed input.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An expression Banana cannot send.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Decoder for BananaCodec {
    type Item = Sexp;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Sexp>, CodecError> {
        Ok(self.decoder.decode(src)?)
    }
}

impl Encoder<&Sexp> for BananaCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Sexp, dst: &mut BytesMut) -> Result<(), CodecError> {
        Ok(self.encoder.encode(item, dst)?)
    }
}
