//! The frames that carry jellied values, written straight into the output
//! buffer: a call's arguments and an answer's result are jellied into
//! Banana bytes as they are walked, with no s-expression built in between
//! (the per-call allocations that tree cost showed in the server profile).
//! The bytes are those `Frame::into_sexp` plus the encoder would give.
//! The msgpack dialect, whose frames are written whole, takes the tree path
//! instead ([`Core::write_tree`]).

use bytes::Bytes;
use spread_banana::{Dialect, EncodeBuf, Encoder, Sexp, Word};
use spread_flavors::Perspective;
use spread_jelly::{Error as JellyError, Value, encode_nested, to_sexp_with};

use super::objects::Taken;
use super::tokens::PbInvoker;
use super::{Core, Handles, ObjectId};

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
        if self.encoder.dialect() == Dialect::Msgpack {
            let head = vec![Sexp::from("answer"), Sexp::Int(request)];
            return self.write_tree(head, &[result], perspective, handles, taken);
        }
        let encoder = self.encoder;
        let start = self.out.encoded_len();
        let written = (|| {
            encoder.encode_list_header(3, 0, &mut self.out)?;
            encoder.encode_word(Word::new(b"answer"), &mut self.out)?;
            encoder.encode_int(request, &mut self.out)?;
            let mut invoker = PbInvoker {
                objects: &mut self.objects,
                perspective,
                max_objects: self.options.max_local_objects,
                handles,
                taken,
            };
            encode_nested(result, &encoder, &mut invoker, 1, &mut self.out)
        })();
        if written.is_err() {
            self.out.truncate_encoded(start);
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
        if self.encoder.dialect() == Dialect::Msgpack {
            let mut head = match call.to {
                Addressee::Object(object) => vec![
                    Sexp::from("message"),
                    Sexp::Int(call.request),
                    object.to_sexp(),
                ],
                Addressee::Cache(luid) => vec![
                    Sexp::from("cachemessage"),
                    Sexp::Int(call.request),
                    Sexp::Int(luid),
                ],
            };
            head.push(Sexp::Bytes(Bytes::copy_from_slice(call.method)));
            head.push(Sexp::Int(i64::from(call.answer)));
            return self.write_tree(head, &[call.args, call.kwargs], None, handles, taken);
        }
        let encoder: Encoder = self.encoder;
        let start = self.out.encoded_len();
        let written = (|| {
            let out = &mut self.out;
            encoder.encode_list_header(7, 0, out)?;
            match call.to {
                Addressee::Object(object) => {
                    encoder.encode_word(Word::new(b"message"), out)?;
                    encoder.encode_int(call.request, out)?;
                    match object {
                        ObjectId::Name(name) => encoder.encode_bytes(name, out)?,
                        ObjectId::Luid(luid) => encoder.encode_int(*luid, out)?,
                    }
                }
                Addressee::Cache(luid) => {
                    encoder.encode_word(Word::new(b"cachemessage"), out)?;
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
            Ok(())
        })();
        if written.is_err() {
            self.out.truncate_encoded(start);
        }
        written
    }

    /// Writes `head` followed by the jellied `payloads` as one frame built
    /// as a tree: the msgpack dialect frames whole expressions, so its
    /// frames cannot be written token by token. The invoker is asked as on
    /// the Banana path, one jelly call per payload. On error nothing is
    /// written.
    fn write_tree(
        &mut self,
        mut head: Vec<Sexp>,
        payloads: &[&Value],
        perspective: Option<&Perspective>,
        handles: &dyn Handles,
        taken: &mut Taken,
    ) -> Result<(), JellyError> {
        for payload in payloads {
            let mut invoker = PbInvoker {
                objects: &mut self.objects,
                perspective,
                max_objects: self.options.max_local_objects,
                handles,
                taken: &mut *taken,
            };
            head.push(to_sexp_with(payload, &mut invoker)?);
        }
        Ok(self.encoder.encode(&Sexp::List(head), &mut self.out)?)
    }
}
