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
//!   `Value::Str`: `{"color": "green", "numFrogs": 7}`, what Twisted's
//!   `__dict__` gives. Each value is `IntoValue::into_value` of a clone of
//!   the field (the state is made from `&self`; see below), or the field's
//!   `with` module, or `spread::jelly::to_value` for `serde`. A field's
//!   error is `ErrorKind::Custom` placed at its wire name.
//! - `IntoValue` (with `Copyable`): `spread::copy(self)`, so the type can
//!   be a `#[remote]` method's result and a field of another derived copy.
//! - `RemoteCopy`: `from_copyable_state` reads a `Value::Dict` (through a
//!   `Value::Shared`), moving each field out by `Dict::remove_str` (text or
//!   bytes keys) into `FromValue::from_owned`, or the field's `with` module,
//!   or `spread::jelly::from_value` for `serde`. A missing field is
//!   `ErrorKind::MissingField(wire_name)` unless it is `default`; a skipped
//!   field is `Default::default()`; a field of the wrong type gives an error
//!   placed at the wire name (`FromValue`'s Python exception as
//!   `ErrorKind::Custom`, or the `with` module's or the serde bridge's error
//!   with the wire name added to its path); keys of no field are ignored; a
//!   state that is not a dict is `ErrorKind::UnexpectedShape`.
//! - `FromValue` (with `RemoteCopy`), so that `#[remote]` methods can take
//!   the type as an argument and other derived copies can hold it: a
//!   `Value::Object` holding this type (what a registered copy arrives as),
//!   read through a `Value::Shared`, and cloned: **the type must be
//!   `Clone`**, and the error otherwise is rustc's "the trait bound `T:
//!   Clone` is not satisfied" on its name. Anything else is a `TypeError`
//!   naming the expected class.
//!
//! # Why fields go through `FromValue` and `IntoValue`
//!
//! Those are the traits of everything that crosses a connection: Python's
//! types, `Value`, other copies, and the broker's references and caches.
//! Serde could not carry the last three, which are Rust objects inside the
//! value. The sending side has only `&self`, and `IntoValue` takes `self`,
//! so each sent field is cloned first (**sent fields must be `Clone`**): a
//! by-reference trait would have avoided the clone, but every type that is
//! `IntoValue` today (the broker's `RemoteReference` among them) would then
//! need a second impl, and the clone is cheap for the types a state holds
//! (references are `Arc`s, `Bytes` is shared; a large `Vec` is copied once).
//!
//! The conversion calls carry the span of the field's type, so a type
//! without `FromValue`, `IntoValue` or `Clone` is reported on the field.
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
        let convert = match (&attrs.with, &attrs.serde) {
            (Some(with), _) => quote_spanned! {with.span()=>
                #with::to_value(&self.#member).map_err(|__e| __e.within(#wire_name))
            },
            (None, Some(_)) => quote_spanned! {ty.span()=>
                #krate::jelly::to_value::<#ty>(&self.#member)
                    .map_err(|__e| __e.within(#wire_name))
            },
            (None, None) => {
                let into = quote_spanned! {ty.span()=>
                    <#ty as #krate::IntoValue>::into_value(
                        <#ty as ::core::clone::Clone>::clone(&self.#member),
                    )
                };
                quote! {
                    #into.map_err(|__e| #krate::flavors::__private::field_error(__e, #wire_name))
                }
            }
        };
        let key = key(krate, wire_name);
        quote! {
            __state.push(#key, #convert?);
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

        #[automatically_derived]
        impl #krate::IntoValue for #ident #where_clause {
            /// Sent by copy.
            fn into_value(self) -> ::core::result::Result<#krate::Value, #krate::RemoteError> {
                ::core::result::Result::Ok(#krate::copy(self))
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

    // The fields are moved out of the state, unless none is read from it.
    let mutability = if cont.fields.iter().all(|f| f.attrs.skip) {
        quote!()
    } else {
        quote!(mut)
    };
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
        let convert = match (&attrs.with, &attrs.serde) {
            (Some(with), _) => quote_spanned! {with.span()=>
                #with::from_value(&__value).map_err(|__e| __e.within(#wire_name))
            },
            (None, Some(_)) => quote_spanned! {ty.span()=>
                #krate::jelly::from_value::<#ty>(&__value).map_err(|__e| __e.within(#wire_name))
            },
            (None, None) => {
                let from = quote_spanned! {ty.span()=>
                    <#ty as #krate::FromValue>::from_owned(__value)
                };
                quote! {
                    #from.map_err(|__e| #krate::flavors::__private::field_error(__e, #wire_name))
                }
            }
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
            #member: match __state.remove_str(#wire_name) {
                ::core::option::Option::Some(__value) => #convert?,
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
                let #mutability __state = match __state {
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

/// The stub `Copyable` and `IntoValue` impls emitted next to errors.
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

        #[automatically_derived]
        impl #krate::IntoValue for #ident {
            fn into_value(self) -> ::core::result::Result<#krate::Value, #krate::RemoteError> {
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
