//! Jelly + Banana, end to end: value → bytes ("encode", straight to bytes
//! with `spread_jelly::encode`; "encode_tree", through `to_sexp` and
//! `Encoder::encode`) and bytes → value ("decode", through
//! `TokenDecoder`'s flat tokens and `from_node`, as the broker reads;
//! "decode_tree", through a `Sexp` tree with `Decoder` and `from_sexp`), on
//! the workloads of the project's benchmark plan. The first of each pair is
//! what `cargo xtask bench` sets beside Twisted.

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use spread_banana::{Decoder, Dialect, Encoder, Limits, TokenDecoder};
use spread_jelly::{AllowAll, Dict, Instance, Value, encode, from_node, from_sexp, to_sexp};

fn workloads() -> Vec<(&'static str, Value)> {
    let ints = Value::List((0..10_000).map(|i| Value::from(i % 1000)).collect());
    let dict = Value::Dict(
        (0..1_000)
            .map(|i| {
                (
                    Value::from(format!("key-{i:016}")),
                    Value::from(format!("value-{i:014}")),
                )
            })
            .collect::<Dict>(),
    );
    let bytes = Value::Bytes(vec![0xa5; 655_360].into());
    let instances = Value::List(
        (0..1_000)
            .map(|i| {
                let state = Dict::from_iter([
                    (Value::from("count"), Value::from(i)),
                    (Value::from("name"), Value::from(format!("pond {i}"))),
                    (Value::from("depth"), Value::from(f64::from(i) * 0.5)),
                    (
                        Value::from("frogs"),
                        Value::List(vec![Value::from(1), Value::from(2), Value::from(3)]),
                    ),
                ]);
                Value::from(Instance::new("bench.Pond", state))
            })
            .collect(),
    );
    let nested = (0..50).fold(Value::from(1), |inner, _| Value::List(vec![inner]));
    vec![
        ("10k_small_ints", ints),
        ("1k_str_dict", dict),
        ("640k_bytes", bytes),
        ("1k_instances", instances),
        ("nested_50", nested),
    ]
}

fn bench(c: &mut Criterion) {
    let encoder = Encoder::new(Dialect::Pb);
    for (name, value) in workloads() {
        let mut wire = Vec::new();
        encoder
            .encode(&to_sexp(&value).unwrap(), &mut wire)
            .unwrap();
        let mut direct = Vec::new();
        encode(&value, &encoder, &mut direct).unwrap();
        assert!(direct == wire, "the direct path writes the tree's bytes");
        let mut group = c.benchmark_group("jelly");
        group.throughput(Throughput::Bytes(wire.len() as u64));
        let mut out = Vec::with_capacity(wire.len());
        group.bench_with_input(BenchmarkId::new("encode", name), &value, |b, value| {
            b.iter(|| {
                out.clear();
                encode(value, &encoder, &mut out).unwrap();
            })
        });
        group.bench_with_input(BenchmarkId::new("encode_tree", name), &value, |b, value| {
            b.iter(|| {
                out.clear();
                encoder.encode(&to_sexp(value).unwrap(), &mut out).unwrap();
            })
        });
        group.bench_with_input(BenchmarkId::new("decode_tree", name), &wire, |b, wire| {
            let mut decoder = Decoder::new(Limits::default()).with_dialect(Dialect::Pb);
            b.iter(|| {
                let mut buf = BytesMut::from(&wire[..]);
                let sexp = decoder.decode(&mut buf).unwrap().unwrap();
                from_sexp(&sexp, &AllowAll).unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("decode", name), &wire, |b, wire| {
            let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
            b.iter(|| {
                let mut buf = BytesMut::from(&wire[..]);
                let node = decoder.decode(&mut buf).unwrap().unwrap();
                from_node(node, &AllowAll).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
