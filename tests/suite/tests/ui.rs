//! The derives' diagnostics: one compile-fail case per error under
//! `ui/fail/` with its expected `.stderr`, and the pass cases under
//! `ui/pass/`. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p spread-test-suite`, then review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
