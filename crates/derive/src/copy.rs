//! `#[derive(Copyable)]` and `#[derive(RemoteCopy)]`: Twisted's default
//! `getStateToCopy` and `setCopyableState` for a struct with named fields.
//!
//! # What is generated
//!
//! For
//!
//! ```text
//! #[derive(Debug, Clone, Copyable, RemoteCopy)]
//! #[pb(class = "copy_sender.CopyPond")]
//! struct CopyPond {
//!     color: String,
//!     #[pb(rename = "numFrogs")]
//!     num_frogs: i64,
//!     #[pb(skip)]
//!     password: String,
//! }
//! ```
//!
//! - `Copyable`: `type_to_copy` is the `class` (or the default, see
//!   [`crate::attr`]); `state_to_copy` is a `Value::Dict` with one entry per
//!   field that is not skipped, in field order, keyed by the wire name as a
//!   `Value::Str`, each value from `spread::to_value` (serde) or the field's
//!   `with` module: `{"color": "green", "numFrogs": 7}`, what Twisted's
//!   `__dict__` gives.
//! - `RemoteCopy`: `from_copyable_state` reads a `Value::Dict` (through a
//!   `Value::Shared`), each field by `Dict::get_str` (text or bytes keys)
//!   and `spread::from_value` or `with`. A missing field is
//!   `ErrorKind::MissingField(wire_name)` unless it is `default`; a skipped
//!   field is `Default::default()`; a field of the wrong type gives the
//!   bridge's error with the wire name added to its path; keys of no field
//!   are ignored; a state that is not a dict is `ErrorKind::UnexpectedShape`.
//! - `FromValue` (with `RemoteCopy`), so that `#[remote]` methods can take
//!   the type as an argument: a `Value::Object` holding this type (what a
//!   registered copy arrives as), read through a `Value::Shared`, and
//!   cloned: **the type must be `Clone`**, and the error otherwise is
//!   rustc's "the trait bound `T: Clone` is not satisfied" on its name.
//!   Anything else is a `TypeError` naming the expected class.
//!
//! Everything is in `const _: () = { ... };`, `#[automatically_derived]`,
//! and names the facade by absolute paths (`::spread::...`, or the
//! `crate = "..."` path). When the input has errors, they are all reported,
//! along with stub impls so that the uses of the type do not add more.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::ast::{Container, Field};
use crate::ctxt::Ctxt;

/// `#[derive(Copyable)]`.
pub(crate) fn expand_copyable(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    Ok(match cx.check() {
        Ok(()) => wrap(copyable_impl(&cont)),
        Err(err) => fail(err, &cont, copyable_stub),
    })
}

/// `#[derive(RemoteCopy)]`, which implements `FromValue` too.
pub(crate) fn expand_remote_copy(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    Ok(match cx.check() {
        Ok(()) => wrap(remote_copy_impl(&cont)),
        Err(err) => fail(err, &cont, remote_copy_stub),
    })
}

/// The generated items, out of the user's namespace.
fn wrap(items: TokenStream) -> TokenStream {
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications)]
        const _: () = {
            #items
        };
    }
}

/// The errors, and stub impls so that code using the type compiles on: a
/// generic type gets none, since its bounds are unknown.
fn fail(
    err: syn::Error,
    cont: &Container<'_>,
    stub: fn(&Container<'_>) -> TokenStream,
) -> TokenStream {
    let errors = err.into_compile_error();
    if cont.is_generic {
        return errors;
    }
    let stub = wrap(stub(cont));
    quote! {
        #errors
        #stub
    }
}

/// The wire name as a `Value::Str` key.
fn key(krate: &syn::Path, wire: &str) -> TokenStream {
    quote!(#krate::Value::Str(::std::string::String::from(#wire)))
}

fn copyable_impl(cont: &Container<'_>) -> TokenStream {
    let Container {
        ident,
        attrs,
        where_clause,
        ..
    } = cont;
    let krate = &attrs.krate;

    let class = match &attrs.class {
        Some(lit) => quote!(#lit),
        None => {
            let name = ident.unraw().to_string();
            quote! {
                static CLASS: ::std::sync::OnceLock<::std::string::String> =
                    ::std::sync::OnceLock::new();
                CLASS
                    .get_or_init(|| {
                        ::std::format!(
                            "{}.{}",
                            ::core::module_path!().replace("::", "."),
                            #name,
                        )
                    })
                    .as_str()
            }
        }
    };

    let sent: Vec<&Field<'_>> = cont.fields.iter().filter(|f| !f.attrs.skip).collect();
    let capacity = sent.len();
    let mutability = if sent.is_empty() {
        quote!()
    } else {
        quote!(mut)
    };
    let pushes = sent.iter().map(|field| {
        let Field {
            ident: member,
            ty,
            wire_name,
            attrs,
        } = field;
        let convert = match &attrs.with {
            Some(with) => quote_spanned!(with.span()=> #with::to_value(&self.#member)),
            None => quote_spanned!(ty.span()=> #krate::to_value(&self.#member)),
        };
        let key = key(krate, wire_name);
        quote! {
            __state.push(
                #key,
                #convert.map_err(|__e| __e.within(#wire_name))?,
            );
        }
    });

    quote! {
        #[automatically_derived]
        impl #krate::Copyable for #ident #where_clause {
            fn type_to_copy(&self) -> &::core::primitive::str {
                #class
            }

            fn state_to_copy(
                &self,
            ) -> ::core::result::Result<#krate::Value, #krate::jelly::Error> {
                let #mutability __state = #krate::Dict::with_capacity(#capacity);
                #(#pushes)*
                ::core::result::Result::Ok(#krate::Value::Dict(__state))
            }
        }
    }
}

fn remote_copy_impl(cont: &Container<'_>) -> TokenStream {
    let Container {
        ident,
        attrs,
        where_clause,
        ..
    } = cont;
    let krate = &attrs.krate;
    let error = quote!(#krate::jelly::Error);
    let kind = quote!(#krate::jelly::ErrorKind);

    let inits = cont.fields.iter().map(|field| {
        let Field {
            ident: member,
            ty,
            wire_name,
            attrs,
        } = field;
        // The span of the field's type, so that a type without `Default`
        // is reported on the field.
        let default = quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default());
        if attrs.skip {
            return quote!(#member: #default,);
        }
        let convert = match &attrs.with {
            Some(with) => quote_spanned!(with.span()=> #with::from_value(__value)),
            None => quote_spanned!(ty.span()=> #krate::from_value::<#ty>(__value)),
        };
        let missing = if attrs.default {
            default
        } else {
            quote! {
                return ::core::result::Result::Err(
                    #error::new(#kind::MissingField(::std::string::String::from(#wire_name)))
                        .within(#wire_name),
                )
            }
        };
        quote! {
            #member: match __state.get_str(#wire_name) {
                ::core::option::Option::Some(__value) => {
                    #convert.map_err(|__e| __e.within(#wire_name))?
                }
                ::core::option::Option::None => #missing,
            },
        }
    });

    // What `FromValue` errors call the type: its wire class when known.
    let expected = match &attrs.class {
        Some(lit) => lit.value(),
        None => ident.unraw().to_string(),
    };
    let clone = quote_spanned!(ident.span()=> <#ident as ::core::clone::Clone>::clone);
    let type_error = quote!(#krate::RemoteError::type_error);

    quote! {
        #[automatically_derived]
        impl #krate::RemoteCopy for #ident #where_clause {
            fn from_copyable_state(
                __state: #krate::Value,
            ) -> ::core::result::Result<Self, #error> {
                // A dict that has an identity (it is referenced elsewhere in
                // the message) arrives shared: read through it.
                let __state = match __state {
                    #krate::Value::Shared(__shared) => __shared
                        .with(::core::clone::Clone::clone)
                        .ok_or_else(|| #error::new(#kind::DanglingReference))?,
                    __other => __other,
                };
                let __state = match &__state {
                    #krate::Value::Dict(__dict) => __dict,
                    __other => {
                        return ::core::result::Result::Err(#error::new(#kind::UnexpectedShape {
                            expected: ::std::string::String::from("dict"),
                            found: ::std::string::String::from(__other.type_name()),
                        }));
                    }
                };
                ::core::result::Result::Ok(Self {
                    #(#inits)*
                })
            }
        }

        #[automatically_derived]
        impl #krate::FromValue for #ident #where_clause {
            fn from_value(
                __value: &#krate::Value,
            ) -> ::core::result::Result<Self, #krate::RemoteError> {
                match __value {
                    #krate::Value::Object(__object) => match __object.downcast_ref::<Self>() {
                        ::core::option::Option::Some(__copy) => ::core::result::Result::Ok(#clone(__copy)),
                        ::core::option::Option::None => ::core::result::Result::Err(#type_error(
                            ::std::format!("expected {}, got an object of class {}", #expected, __object.class()),
                        )),
                    },
                    #krate::Value::Shared(__shared) => __shared
                        .with(<Self as #krate::FromValue>::from_value)
                        .unwrap_or_else(|| ::core::result::Result::Err(#type_error(
                            ::std::format!("expected {}, got a reference to a value that no longer exists", #expected),
                        ))),
                    __other => ::core::result::Result::Err(#type_error(
                        ::std::format!("expected {}, got {}", #expected, __other.type_name()),
                    )),
                }
            }
        }
    }
}

/// The stub `Copyable` impl emitted next to errors.
fn copyable_stub(cont: &Container<'_>) -> TokenStream {
    let krate = &cont.attrs.krate;
    let ident = cont.ident;
    let span = Span::call_site();
    quote_spanned! {span=>
        #[automatically_derived]
        impl #krate::Copyable for #ident {
            fn type_to_copy(&self) -> &::core::primitive::str {
                ::core::unimplemented!()
            }
            fn state_to_copy(
                &self,
            ) -> ::core::result::Result<#krate::Value, #krate::jelly::Error> {
                ::core::unimplemented!()
            }
        }
    }
}

/// The stub `RemoteCopy` and `FromValue` impls emitted next to errors.
fn remote_copy_stub(cont: &Container<'_>) -> TokenStream {
    let krate = &cont.attrs.krate;
    let ident = cont.ident;
    quote! {
        #[automatically_derived]
        impl #krate::RemoteCopy for #ident {
            fn from_copyable_state(
                _: #krate::Value,
            ) -> ::core::result::Result<Self, #krate::jelly::Error> {
                ::core::unimplemented!()
            }
        }

        #[automatically_derived]
        impl #krate::FromValue for #ident {
            fn from_value(
                _: &#krate::Value,
            ) -> ::core::result::Result<Self, #krate::RemoteError> {
                ::core::unimplemented!()
            }
        }
    }
}
