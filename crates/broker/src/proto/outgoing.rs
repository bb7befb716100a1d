//! The frames that carry jellied values, written straight into the output
//! buffer: a call's arguments and an answer's result are jellied into the
//! dialect's bytes as they are walked, with no s-expression built in
//! between (the per-call allocations that tree cost showed in the server
//! profile). The bytes are those `Frame::into_sexp` plus the encoder would
//! give, in Banana and in msgpack alike (whose frame length
//! `Encoder::end_frame` fills in).

use spread_banana::{EncodeBuf, Encoder, Word};
use spread_flavors::Perspective;
use spread_jelly::{Error as JellyError, Value, encode_nested};

use super::objects::Taken;
use super::tokens::PbInvoker;
use super::{Core, Handles, ObjectId};

// Resolved at compile time: `Word::new` looks the vocabulary up.
const ANSWER: Word = Word::new(b"answer");
const MESSAGE: Word = Word::new(b"message");
const CACHE_MESSAGE: Word = Word::new(b"cachemessage");

/// Where a call goes, as its frame names it.
pub(super) enum Addressee<'a> {
    /// `["message", request, object, ...]`.
    Object(&'a ObjectId),
    /// `["cachemessage", request, luid, ...]`.
    Cache(i64),
}

/// The head and payloads of one outgoing call.
pub(super) struct OutgoingCall<'a> {
    pub(super) request: i64,
    pub(super) to: Addressee<'a>,
    pub(super) method: &'a [u8],
    pub(super) answer: bool,
    /// The arguments, as a tuple.
    pub(super) args: &'a Value,
    /// The keyword arguments, as a dict.
    pub(super) kwargs: &'a Value,
}

impl<R> Core<R> {
    /// Writes `["answer", request, result]`. On error nothing is written.
    pub(super) fn write_answer(
        &mut self,
        request: i64,
        result: &Value,
        perspective: Option<&Perspective>,
        handles: &dyn Handles,
        taken: &mut Taken,
    ) -> Result<(), JellyError> {
        let encoder = self.encoder;
        let frame = encoder.begin_frame(&mut self.out);
        let written = (|| {
            encoder.encode_list_header(3, 0, &mut self.out)?;
            encoder.encode_word(ANSWER, &mut self.out)?;
            encoder.encode_int(request, &mut self.out)?;
            let mut invoker = PbInvoker {
                objects: &mut self.objects,
                perspective,
                max_objects: self.options.max_local_objects,
                handles,
                taken,
            };
            encode_nested(result, &encoder, &mut invoker, 1, &mut self.out)?;
            Ok(encoder.end_frame(frame, &mut self.out)?)
        })();
        if written.is_err() {
            self.out.truncate_encoded(frame.offset());
        }
        written
    }

    /// Writes a `message` or `cachemessage` frame. Arguments and keywords
    /// are two jelly calls, with their own reference ids, as Twisted sends
    /// them. On error nothing is written.
    pub(super) fn write_call(
        &mut self,
        call: OutgoingCall<'_>,
        handles: &dyn Handles,
        taken: &mut Taken,
    ) -> Result<(), JellyError> {
        let encoder: Encoder = self.encoder;
        let frame = encoder.begin_frame(&mut self.out);
        let written = (|| {
            let out = &mut self.out;
            encoder.encode_list_header(7, 0, out)?;
            match call.to {
                Addressee::Object(object) => {
                    encoder.encode_word(MESSAGE, out)?;
                    encoder.encode_int(call.request, out)?;
                    match object {
                        ObjectId::Name(name) => encoder.encode_bytes(name, out)?,
                        ObjectId::Luid(luid) => encoder.encode_int(*luid, out)?,
                    }
                }
                Addressee::Cache(luid) => {
                    encoder.encode_word(CACHE_MESSAGE, out)?;
                    encoder.encode_int(call.request, out)?;
                    encoder.encode_int(luid, out)?;
                }
            }
            encoder.encode_bytes(call.method, out)?;
            encoder.encode_int(i64::from(call.answer), out)?;
            for payload in [call.args, call.kwargs] {
                let mut invoker = PbInvoker {
                    objects: &mut self.objects,
                    perspective: None,
                    max_objects: self.options.max_local_objects,
                    handles,
                    taken: &mut *taken,
                };
                encode_nested(payload, &encoder, &mut invoker, 1, &mut self.out)?;
            }
            Ok(encoder.end_frame(frame, &mut self.out)?)
        })();
        if written.is_err() {
            self.out.truncate_encoded(frame.offset());
        }
        written
    }
}
