//! The `#[pb(...)]` attributes of `#[derive(Copyable)]` and
//! `#[derive(RemoteCopy)]`, modelled on serde's.
//!
//! # Grammar
//!
//! On the struct:
//!
//! - `class = "module.Class"`: the wire class name that `type_to_copy`
//!   gives (Twisted's `getTypeToCopy`), a dotted Python name. Without it the
//!   name is the Rust path of the type with `.` for `::`, such as
//!   `my_app.ponds.CopyPond` for `my_app::ponds::CopyPond`. `RemoteCopy`
//!   does not need it (the class is given at registration) but names it in
//!   its `FromValue` errors.
//! - `crate = "path"`: where the `spread` facade is, for crates that
//!   re-export it (default `::spread`).
//!
//! On a field:
//!
//! - `rename = "wireName"`: the key of the field in the state. The default
//!   is the Rust field name as written (`r#type` gives `type`): there is no
//!   automatic camelCase, since Python attributes are usually snake_case.
//! - `skip`: a local-only field (a password, a cache): not sent, and filled
//!   from `Default::default()` on arrival, so its type must be `Default`.
//! - `default`: a field missing from the arriving state is
//!   `Default::default()` instead of an error; it is sent as usual.
//! - `with = "module"`: converts the field with `module::to_value(&T) ->
//!   Result<Value, jelly::Error>` and `module::from_value(&Value) ->
//!   Result<T, jelly::Error>` instead of `IntoValue` and `FromValue`.
//! - `serde`: converts the field with the serde bridge
//!   (`spread::jelly::to_value` and `from_value`) instead of `IntoValue`
//!   and `FromValue`, for a type that has only serde's traits.
//!
//! `skip` cannot be combined with `rename`, `default`, `with` or `serde`: a
//! skipped field is never on the wire, and is always filled from `Default`.
//! `with` and `serde` cannot be combined: a field converts one way. An
//! attribute given twice, an unknown attribute, a value of the wrong form
//! and two fields with the same wire name are errors.
//!
//! Parsing never stops at the first problem: every error is recorded in the
//! [`Ctxt`] with its span, and parsing goes on with the next attribute.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, LitStr, Path, Token};

use crate::ctxt::Ctxt;

/// The attribute namespace.
pub(crate) const PB: &str = "pb";
/// Container: the wire class name.
const CLASS: &str = "class";
/// Container: the path of the facade.
const CRATE: &str = "crate";
/// Field: the wire name.
const RENAME: &str = "rename";
/// Field: local only.
const SKIP: &str = "skip";
/// Field: may be missing on arrival.
const DEFAULT: &str = "default";
/// Field: a custom conversion module.
const WITH: &str = "with";
/// Field: converted with the serde bridge.
const SERDE: &str = "serde";

/// Where a list of attribute items is written, so that the helpers below
/// name it in their messages: `#[pb(...)]` here, `#[remote(...)]` for the
/// arguments of `#[remote]`.
#[derive(Clone, Copy)]
pub(crate) struct Namespace {
    /// What one item is called: `pb attribute`.
    pub(crate) item: &'static str,
    /// The attribute that holds the items: `pb`.
    pub(crate) attr: &'static str,
}

/// The items of `#[pb(...)]`, on structs, fields and remote methods.
pub(crate) const PB_ITEMS: Namespace = Namespace {
    item: "pb attribute",
    attr: PB,
};

/// The facade's path when `crate = "..."` is not given.
pub(crate) fn default_crate_path() -> Path {
    syn::parse_quote!(::spread)
}

/// One attribute's value, remembering where it was set so that a second
/// occurrence, or a conflict with another attribute, can point at it.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: &'static str,
    tokens: TokenStream,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: &'static str) -> Self {
        Attr {
            cx,
            name,
            tokens: TokenStream::new(),
            value: None,
        }
    }

    fn set<A: ToTokens>(&mut self, obj: A, value: T) {
        let tokens = obj.into_token_stream();
        if self.value.is_some() {
            let msg = format!("duplicate pb attribute `{}`", self.name);
            self.cx.error_spanned_by(tokens, msg);
        } else {
            self.tokens = tokens;
            self.value = Some(value);
        }
    }

    fn is_set(&self) -> bool {
        self.value.is_some()
    }

    fn get(self) -> Option<T> {
        self.value
    }
}

/// Attributes of the struct.
pub(crate) struct Container {
    /// `class = "..."`, checked to be a dotted Python name.
    pub(crate) class: Option<LitStr>,
    /// `crate = "..."`, or `::spread`.
    pub(crate) krate: Path,
}

impl Container {
    /// Reads the `#[pb(...)]` attributes of the struct.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Container {
        let mut class = Attr::none(cx, CLASS);
        let mut krate = Attr::none(cx, CRATE);

        for attr in attrs.iter().filter(|a| a.path().is_ident(PB)) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(CLASS) {
                    // #[pb(class = "module.Class")]
                    if let Some(s) = get_lit_str(cx, PB_ITEMS, CLASS, &meta)? {
                        if is_class_name(&s.value()) {
                            class.set(&meta.path, s);
                        } else {
                            cx.error_spanned_by(
                                &s,
                                "pb attribute `class` must be a dotted Python name, \
                                 `module.Class`, as Twisted's getTypeToCopy gives it",
                            );
                        }
                    }
                } else if meta.path.is_ident(CRATE) {
                    // #[pb(crate = "path::to::spread")]
                    if let Some(s) = get_lit_str(cx, PB_ITEMS, CRATE, &meta)? {
                        match s.parse_with(Path::parse_mod_style) {
                            Ok(path) => krate.set(&meta.path, path),
                            Err(_) => cx.error_spanned_by(
                                &s,
                                "pb attribute `crate` must be a path, such as \
                                 `crate = \"my_crate::spread\"`",
                            ),
                        }
                    }
                } else {
                    unknown(cx, "container", &meta)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }

        Container {
            class: class.get(),
            krate: krate.get().unwrap_or_else(default_crate_path),
        }
    }
}

/// Attributes of a field.
pub(crate) struct Field {
    /// `rename = "..."`, kept as the literal so that errors can point at it.
    pub(crate) rename: Option<LitStr>,
    /// `skip`.
    pub(crate) skip: bool,
    /// `default`.
    pub(crate) default: bool,
    /// `with = "module"`, parsed as a path with the literal's span.
    pub(crate) with: Option<Path>,
    /// `serde`, kept as the attribute's name so that the generated call
    /// can point at it.
    pub(crate) serde: Option<Path>,
}

impl Field {
    /// Reads the `#[pb(...)]` attributes of a field, and checks that they
    /// go together.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Field {
        let mut rename = Attr::none(cx, RENAME);
        let mut skip = Attr::none(cx, SKIP);
        let mut default = Attr::none(cx, DEFAULT);
        let mut with = Attr::none(cx, WITH);
        let mut serde = Attr::none(cx, SERDE);

        for attr in attrs.iter().filter(|a| a.path().is_ident(PB)) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(RENAME) {
                    // #[pb(rename = "wireName")]
                    if let Some(s) = get_lit_str(cx, PB_ITEMS, RENAME, &meta)? {
                        if s.value().is_empty() {
                            cx.error_spanned_by(&s, "pb attribute `rename` must not be empty");
                        } else {
                            rename.set(&meta.path, s);
                        }
                    }
                } else if meta.path.is_ident(SKIP) {
                    // #[pb(skip)]
                    if flag(cx, PB_ITEMS, SKIP, &meta)? {
                        skip.set(&meta.path, ());
                    }
                } else if meta.path.is_ident(DEFAULT) {
                    // #[pb(default)]
                    if flag(cx, PB_ITEMS, DEFAULT, &meta)? {
                        default.set(&meta.path, ());
                    }
                } else if meta.path.is_ident(WITH) {
                    // #[pb(with = "module")]
                    if let Some(s) = get_lit_str(cx, PB_ITEMS, WITH, &meta)? {
                        match s.parse_with(Path::parse_mod_style) {
                            Ok(path) => with.set(&meta.path, path),
                            Err(_) => cx.error_spanned_by(
                                &s,
                                "pb attribute `with` must be the path of a module, \
                                 such as `with = \"my_conversions::stamp\"`",
                            ),
                        }
                    }
                } else if meta.path.is_ident(SERDE) {
                    // #[pb(serde)]
                    if flag(cx, PB_ITEMS, SERDE, &meta)? {
                        serde.set(&meta.path, meta.path.clone());
                    }
                } else {
                    unknown(cx, "field", &meta)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }

        // A skipped field is never on the wire: it has no wire name and no
        // conversion, and it is always filled from `Default`.
        if skip.is_set() {
            if rename.is_set() {
                cx.error_spanned_by(
                    &rename.tokens,
                    "pb attribute `skip` cannot be combined with `rename`: \
                     a skipped field is not sent, so it has no wire name",
                );
            }
            if default.is_set() {
                cx.error_spanned_by(
                    &default.tokens,
                    "pb attribute `skip` cannot be combined with `default`: \
                     a skipped field is always filled from `Default`, remove `default`",
                );
            }
            if with.is_set() {
                cx.error_spanned_by(
                    &with.tokens,
                    "pb attribute `skip` cannot be combined with `with`: \
                     a skipped field is never converted",
                );
            }
            if serde.is_set() {
                cx.error_spanned_by(
                    &serde.tokens,
                    "pb attribute `skip` cannot be combined with `serde`: \
                     a skipped field is never converted",
                );
            }
        } else if with.is_set() && serde.is_set() {
            // A field converts one way: the error points at `serde`, the
            // attribute to remove, since `with` says more.
            cx.error_spanned_by(
                &serde.tokens,
                "pb attribute `serde` cannot be combined with `with`: \
                 the `with` module alone converts the field",
            );
        }

        Field {
            rename: rename.get(),
            skip: skip.is_set(),
            default: default.is_set(),
            with: with.get(),
            serde: serde.get(),
        }
    }
}

/// The string of `name = "..."`. Anything else is recorded as an error and
/// gives `None`; the value is consumed either way, so parsing goes on.
pub(crate) fn get_lit_str(
    cx: &Ctxt,
    ns: Namespace,
    name: &str,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!(
                "expected {} `{name}` to have a value: `{name} = \"...\"`",
                ns.item
            ),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut expr: Expr = meta.value()?.parse()?;
    // A literal passed through a `macro_rules!` fragment arrives grouped.
    while let Expr::Group(group) = expr {
        expr = *group.expr;
    }
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(Some(s)),
        other => {
            cx.error_spanned_by(
                other,
                format!(
                    "expected {} `{name}` to be a string: `{name} = \"...\"`",
                    ns.item
                ),
            );
            Ok(None)
        }
    }
}

/// Whether a flag (`skip`, `default`) was written without a value; if it
/// was given one, that is recorded as an error and the value consumed.
pub(crate) fn flag(
    cx: &Ctxt,
    ns: Namespace,
    name: &str,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<bool> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Ok(true);
    }
    cx.error_spanned_by(
        &meta.path,
        format!(
            "{} `{name}` takes no value: write `#[{}({name})]`",
            ns.item, ns.attr
        ),
    );
    skip_value(meta)?;
    Ok(false)
}

/// Records an unknown attribute and consumes its value, if any.
fn unknown(cx: &Ctxt, place: &str, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let path = meta.path.to_token_stream().to_string().replace(' ', "");
    cx.error_spanned_by(&meta.path, format!("unknown pb {place} attribute `{path}`"));
    skip_value(meta)
}

/// Consumes `= expr` or `(...)` after an attribute's name.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// Twisted's form of a class name, `module.Class`: dotted identifiers, as
/// `SecurityOptions` checks them at registration.
fn is_class_name(class: &str) -> bool {
    class.contains('.')
        && class.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}
