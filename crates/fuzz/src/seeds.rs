//! The seed corpus, made from the golden vectors and the session traces
//! that real Twisted produced (`tests/vectors/`), so that fuzzing starts
//! from real traffic rather than from nothing, and no binary blob is
//! committed.

use spread_banana::{Dialect, Limits, Sexp, decode_all, encode_to_vec};

/// `twisted-vectors.json`: 89 values, tokens and frames with their bytes in
/// both of Twisted's dialects (the seeds add msgpack translations).
const VECTORS: &str = include_str!("../../../tests/vectors/twisted-vectors.json");

/// `pb-session-traces.md`: three sessions captured between Twisted peers,
/// every frame in hex.
const TRACES: &str = include_str!("../../../tests/vectors/pb-session-traces.md");

/// The seeds of the target called `name` (empty for an unknown name).
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "banana" => banana(),
        "unjelly" => unjelly(),
        "proto_server" => proto(Role::Server),
        "proto_client" => proto(Role::Client),
        // The generator reads any bytes; real traffic is as good a start as
        // any, and the dialect byte in front of it picks both dialects.
        "round_trip" => banana(),
        _ => Vec::new(),
    }
}

/// Which side a trace frame came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// `S->C`.
    Server,
    /// `C->S`.
    Client,
}

/// One captured conversation: its dialect and its frames after the
/// handshake, with who sent each.
#[derive(Debug)]
struct Session {
    dialect: Dialect,
    frames: Vec<(Role, Vec<u8>)>,
}

/// The first byte of an input picks the dialect (see the targets).
fn dialect_byte(dialect: Dialect) -> u8 {
    match dialect {
        Dialect::Pb => 0,
        Dialect::None => 1,
        Dialect::Msgpack => 4,
    }
}

/// The frames in `bytes` (Banana in `dialect`) as msgpack frames, if they
/// decode: Twisted never sends msgpack, so its traffic is translated.
fn as_msgpack(bytes: &[u8], dialect: Dialect) -> Option<Vec<u8>> {
    let frames = decode_all(bytes, dialect, Limits::default()).ok()?;
    let mut out = Vec::new();
    for frame in &frames {
        out.extend(encode_to_vec(frame, Dialect::Msgpack).ok()?);
    }
    Some(out)
}

/// The Banana bytes of every golden vector, in each dialect it has.
fn vector_bytes() -> Vec<(Dialect, Vec<u8>)> {
    let json: serde_json::Value =
        serde_json::from_str(VECTORS).expect("twisted-vectors.json is JSON");
    let vectors = json["vectors"].as_array().expect("a list of vectors");
    let mut out = Vec::new();
    for vector in vectors {
        for (key, dialect) in [("banana_pb", Dialect::Pb), ("banana_none", Dialect::None)] {
            if let Some(hex) = vector[key].as_str() {
                out.push((dialect, unhex(hex)));
            }
        }
    }
    out
}

fn banana() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut vectors = vector_bytes();
    // Each vector in msgpack too, once (from its pb bytes; its `none` bytes
    // are the same frames).
    let msgpack: Vec<_> = vectors
        .iter()
        .filter(|(dialect, _)| *dialect == Dialect::Pb)
        .filter_map(|(dialect, bytes)| as_msgpack(bytes, *dialect))
        .map(|bytes| (Dialect::Msgpack, bytes))
        .collect();
    vectors.extend(msgpack);
    for (dialect, bytes) in vectors {
        let seed = prefixed(dialect, &bytes);
        // The same bytes under the small limits (bit 1 of the first byte).
        let mut small = seed.clone();
        small[0] |= 2;
        seeds.extend([seed, small]);
    }
    for session in sessions() {
        for role in [Role::Client, Role::Server] {
            let stream: Vec<u8> = session
                .frames
                .iter()
                .filter(|(from, _)| *from == role)
                .flat_map(|(_, bytes)| bytes.iter().copied())
                .collect();
            if !stream.is_empty() {
                seeds.push(prefixed(session.dialect, &stream));
                if let Some(msgpack) = as_msgpack(&stream, session.dialect) {
                    seeds.push(prefixed(Dialect::Msgpack, &msgpack));
                }
            }
        }
    }
    seeds
}

fn unjelly() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vector_bytes()
        .into_iter()
        .map(|(dialect, bytes)| prefixed(dialect, &bytes))
        .collect();
    // The jellied payloads inside the traces' frames: a message's arguments
    // and keywords, an answer's result, an error's failure.
    for session in sessions() {
        for (_, bytes) in &session.frames {
            let Ok(frames) = decode_all(bytes, session.dialect, Limits::default()) else {
                continue;
            };
            for frame in &frames {
                for payload in payloads(frame) {
                    for dialect in [session.dialect, Dialect::Msgpack] {
                        if let Ok(bytes) = encode_to_vec(payload, dialect) {
                            seeds.push(prefixed(dialect, &bytes));
                        }
                    }
                }
            }
        }
    }
    seeds
}

/// The jellied parts of a PB frame.
fn payloads(frame: &Sexp) -> &[Sexp] {
    let Some(items) = frame.as_list() else {
        return &[];
    };
    match items.first().and_then(Sexp::as_bytes) {
        Some(b"message" | b"cachemessage") if items.len() == 7 => &items[5..],
        Some(b"answer" | b"error") if items.len() == 3 => &items[2..],
        _ => &[],
    }
}

/// A session, from the side of the core under test: the peer's frames as
/// records of the `proto` input format, with the driver's actions between
/// them (answering the peer's calls, making the calls the peer's answers
/// are for).
fn proto(side: Role) -> Vec<Vec<u8>> {
    let peer = match side {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut seeds = Vec::new();
    // Each session as it was, and translated to msgpack.
    let translated = sessions().into_iter().filter_map(|session| {
        let frames = session
            .frames
            .iter()
            .map(|(from, bytes)| Some((*from, as_msgpack(bytes, session.dialect)?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Session {
            dialect: Dialect::Msgpack,
            frames,
        })
    });
    let all: Vec<Session> = sessions().into_iter().chain(translated).collect();
    for session in all {
        let mut input = vec![dialect_byte(session.dialect)];
        for (from, bytes) in &session.frames {
            if *from != peer {
                continue;
            }
            if side == Role::Client && is_reply(bytes, session.dialect) {
                // Our call, which this frame answers.
                input.extend_from_slice(&[0x81, 0x00]);
            }
            for chunk in bytes.chunks(0x80) {
                input.push((chunk.len() - 1) as u8);
                input.extend_from_slice(chunk);
            }
            // Answer whatever the frame asked, and send it.
            input.extend_from_slice(&[0xff, 0x83]);
        }
        seeds.push(input);
    }
    // A tour of the shortcut records, in every dialect: the peer hands us a
    // cache and references, calls us, answers our calls with tokens, and
    // releases what we gave it.
    for dialect in [0, 1, 4] {
        seeds.push(vec![
            dialect, //
            0x86, 10, 0x10, // a call with a first cache of luid 1
            0x86, 9, 0x20, // a call with a remote token for luid 2
            0x80, 0, // answer the first: the cache goes back as `lcache`
            0x80, 3, // answer the second with a new Referenceable
            0x81, 0x00, // call the root, wanting an answer (request 1)
            0x86, 0, 0x30, // the answer: a remote token for luid 3
            0x81, 0x00, // request 2
            0x86, 1, 0x41, // the answer: a first cache of luid 4
            0x81, 0x20, // request 3, with a Referenceable argument
            0x86, 5, 0x02, // an error answers it
            0x85, 0x00, 4, 0x0b, 0x06, 0x01, 0x00, // a call with a small value
            0x80, 4, // answered with a Cacheable
            0x86, 7, 0x10, // decache, decref, uncache of luid 1
            0x86, 6, 0x10, //
            0x86, 8, 0x10, //
            0x82, 0, // we release a token
            0xff, 0x83,
        ]);
    }
    seeds
}

fn is_reply(frame: &[u8], dialect: Dialect) -> bool {
    let Ok(frames) = decode_all(frame, dialect, Limits::default()) else {
        return false;
    };
    frames.iter().any(|f| {
        f.as_list()
            .and_then(|items| items.first())
            .and_then(Sexp::as_bytes)
            .is_some_and(|tag| tag == b"answer" || tag == b"error")
    })
}

/// Every session in the traces: the two long ones (a `**#N** `C->S``
/// heading, then a `hex:` line), and each raw probe of session 3 (what was
/// `Sent after reading the offer`, then the `Reply:`, one `hex` line each).
/// The handshake frames (dialect offer and choice, the first `version`) are
/// left out: the `proto` targets do the handshake themselves.
fn sessions() -> Vec<Session> {
    let mut sessions = Vec::new();
    let mut current: Option<Session> = None;
    let mut from = Role::Client;
    for line in TRACES.lines() {
        let trimmed = line.trim_start();
        if line.starts_with("## ") || line.starts_with("### ") {
            sessions.extend(current.take());
            current = Some(Session {
                dialect: Dialect::Pb,
                frames: Vec::new(),
            });
        } else if line.starts_with("**#") {
            from = if line.contains("`S->C`") {
                Role::Server
            } else {
                Role::Client
            };
        } else if line.starts_with("Sent after reading the offer") {
            from = Role::Client;
        } else if line.starts_with("Reply:") {
            from = Role::Server;
        } else if let Some(hex) = trimmed
            .strip_prefix("hex:")
            .or_else(|| trimmed.strip_prefix("hex "))
            && let Some(session) = current.as_mut()
        {
            let bytes = unhex(hex.trim());
            match &bytes[..] {
                // The dialect offer, and the choices.
                b"\x02\x80\x02\x82pb\x04\x82none" | b"\x02\x82pb" => {}
                b"\x04\x82none" => session.dialect = Dialect::None,
                // `["version", 6]` in either dialect.
                b"\x02\x80\x13\x87\x06\x81" | b"\x02\x80\x07\x82version\x06\x81" => {}
                _ => session.frames.push((from, bytes)),
            }
        }
    }
    sessions.extend(current);
    sessions.retain(|s| !s.frames.is_empty());
    sessions
}

fn prefixed(dialect: Dialect, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(dialect_byte(dialect));
    out.extend_from_slice(bytes);
    out
}

/// The bytes of a hex string; the traces and vectors hold only valid ones.
fn unhex(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|d| match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => d - b'A' + 10,
        })
        .collect();
    digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_seeds_from_the_vectors_and_traces() {
        for target in crate::TARGETS {
            assert!(seeds(target.name).len() >= 10, "{}", target.name);
        }
        let sessions = sessions();
        // Sessions 1 and 2, and the raw probes of session 3.
        assert!(sessions.len() >= 20, "{}", sessions.len());
        assert!(sessions.iter().any(|s| s.dialect == Dialect::None));
    }

    #[test]
    fn hex_is_read_as_written() {
        assert_eq!(unhex("02827062"), b"\x02\x82pb");
    }
}
