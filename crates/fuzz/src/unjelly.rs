//! Unjelly of arbitrary Banana bytes under the strict default security.

use spread_banana::{Limits, decode_all};
use spread_jelly::{Value, from_sexp, to_sexp};
use spread_security::SecurityOptions;

use crate::split_dialect;

/// Decodes `data` as Banana (the first byte picks the dialect) and unjellies
/// every expression with [`SecurityOptions::new`], what a broker uses unless
/// told otherwise.
///
/// Checks that unjelly never panics, and that a value it accepts jellies and
/// unjellies again to an equal value. The first pass may differ from the
/// input, as Jelly's forms are not canonical (a `reference` met once is
/// sent plainly), so the check is that the second pass changes nothing.
pub fn unjelly(data: &[u8]) {
    let (dialect, stream) = split_dialect(data);
    let Ok(expressions) = decode_all(stream, dialect, Limits::default()) else {
        return;
    };
    let security = SecurityOptions::new();
    for expression in &expressions {
        let Ok(value) = from_sexp(expression, &security) else {
            continue;
        };
        let once = again(&value, &security);
        let twice = again(&once, &security);
        assert_eq!(once, twice, "jelly and unjelly are not stable on {value:?}");
    }
}

/// Jellies `value` and unjellies the result under the same security.
fn again(value: &Value, security: &SecurityOptions) -> Value {
    let sexp = to_sexp(value).expect("an unjellied value can be jellied");
    from_sexp(&sexp, security).expect("a jellied value can be unjellied")
}
