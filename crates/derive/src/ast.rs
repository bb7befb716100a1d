//! A typed view of the derive input: a struct with named fields and the
//! parsed `#[pb(...)]` attributes, or the errors saying why not.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr;
use crate::ctxt::Ctxt;

/// The start of the errors about the shape of the input.
const ONLY: &str = "Copyable and RemoteCopy can be derived only for structs with named fields";

/// The struct being derived.
pub(crate) struct Container<'a> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// Its `#[pb(...)]` attributes.
    pub(crate) attrs: attr::Container,
    /// Its fields in declaration order (empty when the shape is refused).
    pub(crate) fields: Vec<Field<'a>>,
    /// Whether the type has generic parameters (refused, see
    /// [`Container::from_ast`]).
    pub(crate) is_generic: bool,
    /// The `where` clause, passed through to the impls.
    pub(crate) where_clause: Option<&'a syn::WhereClause>,
}

/// One field of the struct.
pub(crate) struct Field<'a> {
    /// The Rust name.
    pub(crate) ident: &'a Ident,
    /// The type, whose span the generated conversions carry so that a
    /// missing trait points at the field.
    pub(crate) ty: &'a Type,
    /// The key in the state: `rename`, or the Rust name without `r#`.
    pub(crate) wire_name: String,
    /// Its `#[pb(...)]` attributes.
    pub(crate) attrs: attr::Field,
}

impl<'a> Container<'a> {
    /// Reads the input, recording in `cx` every reason it cannot be derived.
    ///
    /// Only structs with named fields are accepted: the state is a dict of
    /// attributes. Generic types are refused, because one wire class name
    /// stands for one concrete Rust type (`allow_remote_copy::<T>` registers
    /// a class per type, and `FromValue` downcasts to it); implement the
    /// traits by hand for a generic type.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Container<'a> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let ident = &input.ident;

        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => fields_from_ast(cx, named.named.iter()),
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        format!(
                            "{ONLY}, not for a tuple struct: the state is a dict keyed \
                             by field name"
                        ),
                    );
                    Vec::new()
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        spanned_pair(data.struct_token, ident),
                        format!(
                            "{ONLY}, not for a unit struct: write `struct {ident} {{}}` \
                             for an empty state"
                        ),
                    );
                    Vec::new()
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    spanned_pair(data.enum_token, ident),
                    format!(
                        "{ONLY}, not for an enum: the state of a copy is a dict of \
                         the fields of one struct"
                    ),
                );
                Vec::new()
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    spanned_pair(data.union_token, ident),
                    format!("{ONLY}, not for a union"),
                );
                Vec::new()
            }
        };

        let is_generic = !input.generics.params.is_empty();
        if is_generic {
            cx.error_spanned_by(
                &input.generics,
                "Copyable and RemoteCopy cannot be derived for a generic type: a wire \
                 class name stands for one concrete type; implement the traits by hand",
            );
        }

        Container {
            ident,
            attrs,
            fields,
            is_generic,
            where_clause: input.generics.where_clause.as_ref(),
        }
    }
}

fn fields_from_ast<'a>(cx: &Ctxt, fields: impl Iterator<Item = &'a syn::Field>) -> Vec<Field<'a>> {
    let mut out = Vec::new();
    // Wire names in use, with the field that took each first.
    let mut seen: HashMap<String, &Ident> = HashMap::new();
    for field in fields {
        let Some(ident) = &field.ident else {
            continue;
        };
        let attrs = attr::Field::from_ast(cx, &field.attrs);
        let wire_name = match &attrs.rename {
            Some(lit) => lit.value(),
            None => ident.unraw().to_string(),
        };
        if !attrs.skip {
            if let Some(first) = seen.get(&wire_name) {
                let msg = format!(
                    "wire name `{wire_name}` is already used by field `{first}`: \
                     rename one of them"
                );
                match &attrs.rename {
                    Some(lit) => cx.error_spanned_by(lit, msg),
                    None => cx.error_spanned_by(ident, msg),
                }
            } else {
                seen.insert(wire_name.clone(), ident);
            }
        }
        out.push(Field {
            ident,
            ty: &field.ty,
            wire_name,
            attrs,
        });
    }
    out
}

/// The keyword and the name of the type, for errors about its shape.
fn spanned_pair(keyword: impl ToTokens, ident: &Ident) -> TokenStream {
    quote!(#keyword #ident)
}
