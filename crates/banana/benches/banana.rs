//! Encode and decode throughput on shapes PB traffic actually has.
//!
//! Run with `cargo bench -p spread-banana`; timings on shared 2-core
//! machines are noisy, so compare instruction counts to settle a claim.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spread_banana::{Decoder, Dialect, Encoder, Limits, Sexp, TokenDecoder};

fn unicode(text: String) -> Sexp {
    Sexp::list([Sexp::from("unicode"), Sexp::from(text.into_bytes())])
}

fn small_ints() -> Sexp {
    Sexp::List((0..10_000).map(|i| Sexp::Int(i % 1000)).collect())
}

/// What jelly makes of a dict of 1 000 str -> str entries of 20 characters.
fn str_dict() -> Sexp {
    let mut items = vec![Sexp::from("dictionary")];
    items.extend((0..1_000).map(|i| {
        Sexp::list([
            unicode(format!("key-{i:016}")),
            unicode(format!("value-{i:014}")),
        ])
    }));
    Sexp::List(items)
}

fn big_string() -> Sexp {
    Sexp::from(vec![0x5a; 640 * 1024])
}

/// 1 000 of what jelly makes of a small Copyable-like instance.
fn instances() -> Sexp {
    let instance = || {
        let attr = |name: &'static str, value: Sexp| {
            Sexp::list([Sexp::list([Sexp::from("unicode"), Sexp::from(name)]), value])
        };
        Sexp::list([
            Sexp::from("mod.Cls"),
            Sexp::list([
                Sexp::from("dictionary"),
                attr("a", Sexp::from(1)),
                attr("b", unicode("text".to_owned())),
                attr("c", Sexp::from(1.5)),
                attr(
                    "d",
                    Sexp::list([
                        Sexp::from("list"),
                        Sexp::from(1),
                        Sexp::from(2),
                        Sexp::from(3),
                    ]),
                ),
            ]),
        ])
    };
    Sexp::List((0..1_000).map(|_| instance()).collect())
}

fn nested() -> Sexp {
    (0..50).fold(Sexp::from(1), |inner, _| Sexp::list([inner]))
}

/// Encoding, decoding into a tree, and decoding into tokens, in Banana's
/// `pb` dialect (groups named by the workload) and in spread's msgpack one
/// (the same names after `msgpack_`).
fn codec(c: &mut Criterion) {
    let inputs = [
        ("ints_10k", small_ints()),
        ("str_dict_1k", str_dict()),
        ("bytes_640k", big_string()),
        ("instances_1k", instances()),
        ("nested_50", nested()),
    ];
    for (dialect, prefix) in [(Dialect::Pb, ""), (Dialect::Msgpack, "msgpack_")] {
        let encoder = Encoder::new(dialect);
        for (name, sexp) in &inputs {
            let mut wire = Vec::new();
            encoder
                .encode(sexp, &mut wire)
                .expect("bench inputs encode");

            let mut group = c.benchmark_group(format!("{prefix}{name}"));
            group.throughput(Throughput::Bytes(wire.len() as u64));
            let mut out = Vec::with_capacity(wire.len());
            group.bench_function("encode", |b| {
                b.iter(|| {
                    out.clear();
                    encoder.encode(black_box(sexp), &mut out).unwrap();
                })
            });
            let mut decoder = Decoder::new(Limits::default()).with_dialect(dialect);
            group.bench_function("decode", |b| {
                b.iter_batched_ref(
                    || BytesMut::from(&wire[..]),
                    |buf| decoder.decode(buf).unwrap(),
                    BatchSize::LargeInput,
                )
            });
            // Into the reused flat buffer; the node is read as a whole tree
            // would be walked, to the count of its top-level elements.
            let mut tokens = TokenDecoder::new(Limits::default()).with_dialect(dialect);
            group.bench_function("decode_tokens", |b| {
                b.iter_batched_ref(
                    || BytesMut::from(&wire[..]),
                    |buf| {
                        let node = tokens.decode(buf).unwrap().unwrap();
                        node.as_list().map_or(0, |items| items.len())
                    },
                    BatchSize::LargeInput,
                )
            });
            group.finish();
        }
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
