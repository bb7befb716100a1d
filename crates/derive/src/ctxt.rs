//! The error accumulator: every problem found in the input is recorded with
//! its span, and all of them are reported together at the end (serde's
//! `internals/ctxt.rs`).

use std::cell::Cell;
use std::fmt::Display;

use quote::ToTokens;

/// Collects the errors of one derive. Parsing goes on after an error, so
/// that a user fixing a struct sees every mistake at once; [`Ctxt::check`]
/// ends the collection.
#[derive(Default)]
pub(crate) struct Ctxt {
    /// A `Cell` rather than a `RefCell`: taken and put back, so recording
    /// an error can never panic, and `&Ctxt` can be shared by the parsers.
    errors: Cell<Vec<syn::Error>>,
}

impl Ctxt {
    /// An empty accumulator.
    pub(crate) fn new() -> Ctxt {
        Ctxt::default()
    }

    /// Records `msg`, pointing at the tokens of `obj`.
    pub(crate) fn error_spanned_by<A: ToTokens, T: Display>(&self, obj: A, msg: T) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Records an error that already has its span (from the parser).
    pub(crate) fn syn_error(&self, err: syn::Error) {
        let mut errors = self.errors.take();
        errors.push(err);
        self.errors.set(errors);
    }

    /// Ends the collection: `Ok` if nothing was recorded, or all the
    /// errors combined into one, each keeping its span.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for rest in errors {
            combined.combine(rest);
        }
        Err(combined)
    }
}
