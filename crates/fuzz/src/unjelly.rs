//! Unjelly of arbitrary Banana bytes under the strict default security.

use bytes::BytesMut;
use spread_banana::{Limits, TokenDecoder, decode_all};
use spread_jelly::{Error, Value, from_node, from_sexp, to_sexp};
use spread_security::SecurityOptions;

use crate::split_dialect;

/// Decodes `data` as Banana (the first byte picks the dialect) and unjellies
/// every expression with [`SecurityOptions::new`], what a broker uses unless
/// told otherwise.
///
/// Checks that unjelly never panics, that unjellying straight from a
/// [`TokenDecoder`]'s tokens gives exactly the same value or error, and
/// that a value it accepts jellies and unjellies again to an equal value. The first pass may differ from the
/// input, as Jelly's forms are not canonical (a `reference` met once is
/// sent plainly), so the check is that the second pass changes nothing.
pub fn unjelly(data: &[u8]) {
    let (dialect, stream) = split_dialect(data);
    let Ok(expressions) = decode_all(stream, dialect, Limits::default()) else {
        return;
    };
    let security = SecurityOptions::new();
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(dialect);
    let mut buf = BytesMut::from(stream);
    for expression in &expressions {
        let node = decoder
            .decode(&mut buf)
            .expect("the token decoder accepts what the tree decoder accepted")
            .expect("and finds the same expressions");
        let tree = from_sexp(expression, &security);
        let flat = from_node(node, &security);
        assert!(
            same_result(&tree, &flat),
            "from_node gave {flat:?} where from_sexp gave {tree:?}"
        );
        let Ok(value) = tree else {
            continue;
        };
        let once = again(&value, &security);
        let twice = again(&once, &security);
        assert_eq!(once, twice, "jelly and unjelly are not stable on {value:?}");
    }
}

fn same_result(a: &Result<Value, Error>, b: &Result<Value, Error>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.kind() == b.kind() && a.path() == b.path(),
        _ => false,
    }
}

/// Jellies `value` and unjellies the result under the same security.
fn again(value: &Value, security: &SecurityOptions) -> Value {
    let sexp = to_sexp(value).expect("an unjellied value can be jellied");
    from_sexp(&sexp, security).expect("a jellied value can be unjellied")
}
