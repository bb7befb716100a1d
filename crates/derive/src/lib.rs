//! Derive macros for spread (see the `spread` facade, feature `derive`).
//!
//! - `#[derive(Copyable)]` and `#[derive(RemoteCopy)]`: the state a type
//!   sends as a copy, and how it is built from the state that arrives, as
//!   Twisted's default `getStateToCopy`/`setCopyableState` do it: a dict of
//!   the fields with text keys, in field order.
//! - `#[remote]` on an impl block: the dispatch of a `Referenceable`, a
//!   perspective (an avatar), a `Viewable` or a `RemoteCache` from its
//!   `async fn`s, with Twisted's camelCase names.
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
//! Every method of the block is remote, and must be `async fn(&self, ...)`.
//! Its wire name is its name in camelCase (`take_pond` is `"takePond"`), or
//! `#[pb(name = "...")]`. Arguments come by position or keyword and convert
//! with `FromValue`; results with `IntoValue` (`Result`'s `Err` is the
//! remote error). A wrong call gets the `TypeError` Python would raise,
//! naming the method as Twisted's prefix and the wire name
//! (`remote_takePond() missing 1 required positional argument: 'pond'`).
//! `#[remote(crate = "...")]` names the facade for re-exporters, as
//! `#[pb(crate)]` does. The argument chooses what the block implements,
//! one of four kinds:
//!
//! `#[remote]`: a `Referenceable`, Twisted's `remote_*` methods. An unknown
//! method gets Twisted's `NoSuchMethod`.
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
//! `#[remote(perspective)]`: a `Referenceable` too, but with Twisted's
//! `perspective_*` methods: the avatar a realm returns after a login
//! (`pb.Avatar`). An unknown method gets the `AttributeError` of
//! `Avatar.perspectiveMessageReceived`:
//! `'User' object has no attribute 'perspective_fly'`.
//!
//! ```ignore
//! #[spread::remote(perspective)]
//! impl User {
//!     async fn join_group(&self, group: String) -> Result<Group, RemoteError> { ... }
//! }
//! ```
//!
//! `#[remote(view)]`: a `Viewable`, Twisted's `view_*` methods, whose first
//! parameter after `&self` is the calling perspective: the one the
//! viewable was sent for (`ViewPoint`). Typed `Option<Perspective>`, it is
//! `None` when the viewable was sent outside any perspective; typed
//! `Perspective`, such a call is refused with a `TypeError`. The call's
//! arguments are the parameters after it. An unknown method gets the
//! `AttributeError` of `ViewPoint.remoteMessageReceived`:
//! `'Board' object has no attribute 'view_erase'`.
//!
//! ```ignore
//! #[spread::remote(view)]
//! impl Board {
//!     async fn post(&self, who: Option<Perspective>, text: String) { ... }
//!     async fn delete_post(&self, who: Perspective, index: i64) -> Result<(), RemoteError> { ... }
//! }
//! ```
//!
//! `#[remote(cache)]`: a `RemoteCache`, Twisted's `observe_*` methods,
//! which the cacheable's observers call.
//!
//! ```ignore
//! #[spread::remote(cache)]
//! impl Mirror {
//!     async fn set_color(&self, color: String) { ... }   // observe_setColor
//! }
//! ```

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

/// Implements `spread::Referenceable` (`#[remote]`, and
/// `#[remote(perspective)]` for an avatar), `spread::Viewable`
/// (`#[remote(view)]`) or `spread::RemoteCache` (`#[remote(cache)]`) for
/// the type of an impl block, dispatching to its `async fn`s: see the
/// crate docs.
#[proc_macro_attribute]
pub fn remote(args: TokenStream, item: TokenStream) -> TokenStream {
    remote::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
