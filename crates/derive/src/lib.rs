//! Derive macros for spread (see the `spread` facade, feature `derive`).
//!
//! - `#[derive(Copyable)]` and `#[derive(RemoteCopy)]`: the state a type
//!   sends as a copy, and how it is built from the state that arrives, as
//!   Twisted's default `getStateToCopy`/`setCopyableState` do it: a dict of
//!   the fields with text keys, in field order.
//! - `#[remote]` on an impl block: the dispatch of a `Referenceable` (or
//!   `RemoteCache`) from its `async fn`s, with Twisted's camelCase names.
//!
//! Generated code names everything through the `spread` facade
//! (`#[pb(crate = "...")]` changes the path for re-exporters). Errors point
//! at the offending tokens, and all of them are reported at once.
//!
//! # Attributes of the derives
//!
//! | where | attribute | meaning |
//! |---|---|---|
//! | struct | `#[pb(class = "module.Class")]` | the wire class name; by default the type's Rust path with `.` for `::` |
//! | struct | `#[pb(crate = "path")]` | where the facade is, for re-exporters (default `::spread`) |
//! | field | `#[pb(rename = "wireName")]` | the key in the state (default: the field's name, as Python attributes are snake_case too) |
//! | field | `#[pb(skip)]` | local-only: never sent, `Default::default()` on arrival |
//! | field | `#[pb(default)]` | `Default::default()` when the arriving state lacks it |
//! | field | `#[pb(with = "module")]` | `module::to_value(&field)` and `module::from_value(&value)` instead of the conversion traits |
//! | field | `#[pb(serde)]` | the serde bridge (`spread::jelly::to_value`/`from_value`) instead of the conversion traits |
//!
//! Fields convert with `FromValue` and `IntoValue`, the traits of method
//! arguments and results, so a copy can hold Python's basic types (ints,
//! floats, `String`, `bytes::Bytes`, `Option`, `Vec`, tuples, maps with
//! `String` keys), `Value`, other derived copies, references and caches.
//! A sent field is cloned (the state is made from `&self`), so it must be
//! `Clone`. Only structs with named fields and no type parameters can
//! derive: one wire class names one concrete type.
//!
//! `#[derive(Copyable)]` also implements `IntoValue` (the type is sent by
//! copy), and `#[derive(RemoteCopy)]` implements `FromValue` (the object
//! that arrived, cloned: that needs `Clone`), so the type can be a
//! `#[remote]` method's argument or result, and a field of another copy.
//!
//! # `#[remote]`
//!
//! ```ignore
//! #[spread::remote]
//! impl Receiver {
//!     async fn take_pond(&self, pond: ReceiverPond) -> String { ... }   // wire name "takePond"
//!     #[pb(name = "checkDucks")]
//!     async fn ducks(&self) -> Result<Vec<String>, RemoteError> { ... }
//! }
//! ```
//!
//! Every method of the block is remote, and must be `async fn(&self, ...)`.
//! Arguments come by position or keyword and convert with `FromValue`;
//! results with `IntoValue` (`Result`'s `Err` is the remote error). A wrong
//! call gets the `TypeError` Python would raise. `#[remote(cache)]`
//! implements `RemoteCache` (`observe_*`) instead of `Referenceable`
//! (`remote_*`). Perspectives and viewables are not supported yet.

mod ast;
mod attr;
mod copy;
mod ctxt;
mod remote;

use proc_macro::TokenStream;

/// Implements `spread::Copyable` and `spread::IntoValue`: see the crate docs.
#[proc_macro_derive(Copyable, attributes(pb))]
pub fn derive_copyable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    copy::expand_copyable(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `spread::RemoteCopy` and `spread::FromValue`: see the crate docs.
#[proc_macro_derive(RemoteCopy, attributes(pb))]
pub fn derive_remote_copy(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    copy::expand_remote_copy(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `spread::Referenceable` (or, with `#[remote(cache)]`,
/// `spread::RemoteCache`) for the type of an impl block, dispatching to its
/// `async fn`s: see the crate docs.
#[proc_macro_attribute]
pub fn remote(args: TokenStream, item: TokenStream) -> TokenStream {
    remote::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
