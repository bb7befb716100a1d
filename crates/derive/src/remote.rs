//! `#[remote]`: a Referenceable's (or RemoteCache's) dispatch from the
//! `async fn`s of an impl block.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, ReturnType};

/// What the block implements.
enum Kind {
    /// `remote_*` methods: `Referenceable`.
    Referenceable,
    /// `observe_*` methods: `RemoteCache`.
    Cache,
}

struct Args {
    kind: Kind,
    krate: syn::Path,
}

fn parse_args(args: TokenStream, errors: &mut Vec<syn::Error>) -> Args {
    let mut parsed = Args {
        kind: Kind::Referenceable,
        krate: syn::parse_quote!(::spread),
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("cache") {
            parsed.kind = Kind::Cache;
            Ok(())
        } else if meta.path.is_ident("crate") {
            let path: LitStr = meta.value()?.parse()?;
            parsed.krate = path.parse()?;
            Ok(())
        } else if meta.path.is_ident("perspective") || meta.path.is_ident("view") {
            Err(meta.error("perspectives and viewables are not supported yet: only `#[remote]` and `#[remote(cache)]`"))
        } else {
            Err(meta.error("unknown remote argument: expected `cache` or `crate = \"...\"`"))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }
    parsed
}

/// `take_pond` → `takePond`, as Twisted's Python names are written.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for (i, c) in name.trim_start_matches('_').chars().enumerate() {
        if c == '_' && i > 0 {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The wire name from `#[pb(name = "...")]`, removing the attribute.
fn take_name(method: &mut ImplItemFn, errors: &mut Vec<syn::Error>) -> Option<String> {
    let mut name = None;
    let mut kept = Vec::new();
    for attr in method.attrs.drain(..) {
        if !attr.path().is_ident("pb") {
            kept.push(attr);
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let value: LitStr = meta.value()?.parse()?;
                if name.replace(value.value()).is_some() {
                    return Err(meta.error("duplicate pb attribute `name`"));
                }
                Ok(())
            } else {
                Err(meta.error("unknown pb method attribute: expected `name = \"...\"`"))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    method.attrs = kept;
    name
}

/// The method's wire name, and its arm of the dispatch `match` (`None` if
/// errors stop it).
fn arm(
    method: &mut ImplItemFn,
    krate: &syn::Path,
    prefix: &str,
    errors: &mut Vec<syn::Error>,
) -> (String, Option<TokenStream>) {
    let wire =
        take_name(method, errors).unwrap_or_else(|| camel_case(&method.sig.ident.to_string()));
    let sig = &method.sig;
    let mut ok = true;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span(),
            "remote methods must be `async fn`",
        ));
        ok = false;
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "remote methods cannot be generic",
        ));
        ok = false;
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(other) => {
            errors.push(syn::Error::new(
                other.span(),
                "remote methods take `&self` first",
            ));
            ok = false;
        }
        None => {
            errors.push(syn::Error::new(
                sig.ident.span(),
                "remote methods take `&self` first",
            ));
            ok = false;
        }
    }
    let mut names = Vec::new();
    let mut reads = Vec::new();
    let mut passes = Vec::new();
    for (index, input) in sig.inputs.iter().skip(1).enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        let Pat::Ident(pat) = &*typed.pat else {
            errors.push(syn::Error::new(
                typed.pat.span(),
                "remote method parameters must be plain names",
            ));
            ok = false;
            continue;
        };
        let name = pat.ident.to_string();
        let local = format_ident!("__arg_{}", index);
        let ty = &typed.ty;
        // Spanned on the type, so that a type without FromValue is reported there.
        reads.push(quote_spanned! {ty.span()=>
            let #local: #ty = #krate::flavors::__private::arg::<#ty>(&mut call, #index, #name, #prefix)?;
        });
        names.push(name);
        passes.push(local);
    }
    if !ok {
        return (wire, None);
    }
    let ident = &sig.ident;
    let result_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let into = quote_spanned! {result_span=> #krate::flavors::IntoValue::into_value(__result) };
    let arm = quote! {
        #wire => {
            #krate::flavors::__private::check_arity(&call, &[#(#names),*], #prefix)?;
            #(#reads)*
            let __result = self.#ident(#(#passes),*).await;
            #into
        }
    };
    (wire, Some(arm))
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Vec::new();
    let args = parse_args(args, &mut errors);
    let mut block: ItemImpl = syn::parse2(item)?;
    if let Some((_, path, _)) = &block.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "#[remote] goes on an inherent impl block, not a trait impl",
        ));
    }
    if !block.generics.params.is_empty() {
        errors.push(syn::Error::new(
            block.generics.span(),
            "#[remote] does not support generic impl blocks",
        ));
    }
    let krate = &args.krate;
    let prefix = match args.kind {
        Kind::Referenceable => "remote_",
        Kind::Cache => "observe_",
    };
    let mut arms = Vec::new();
    let mut wire_names: Vec<(String, Span)> = Vec::new();
    for item in &mut block.items {
        if let ImplItem::Fn(method) = item {
            let span = method.sig.ident.span();
            let (wire, arm) = arm(method, krate, prefix, &mut errors);
            arms.extend(arm);
            if wire_names.iter().any(|(w, _)| *w == wire) {
                errors.push(syn::Error::new(
                    span,
                    format!("two methods map to the wire name `{wire}`"),
                ));
            }
            wire_names.push((wire, span));
        }
    }
    let mut errors = errors.into_iter();
    if let Some(mut first) = errors.next() {
        // In source order, all at once.
        for e in errors {
            first.combine(e);
        }
        // The block itself still compiles, so that only these errors show.
        let mut out = first.into_compile_error();
        out.extend(quote!(#block));
        return Ok(out);
    }
    let self_ty = &block.self_ty;
    // The two kinds differ only in the trait, its method, and what an
    // unknown name gets.
    let (trait_name, method_name, unknown) = match args.kind {
        Kind::Referenceable => (
            quote!(Referenceable),
            quote!(remote_message),
            quote!(#krate::flavors::RemoteError::no_such_method(&call.method)),
        ),
        Kind::Cache => (
            quote!(RemoteCache),
            quote!(observe_message),
            quote!(#krate::flavors::__private::no_such_observer(&call.method)),
        ),
    };
    let trait_impl = quote! {
        #[automatically_derived]
        impl #krate::flavors::#trait_name for #self_ty {
            fn #method_name(
                self: ::std::sync::Arc<Self>,
                call: #krate::flavors::Call,
            ) -> #krate::flavors::BoxFuture<::std::result::Result<#krate::jelly::Value, #krate::flavors::RemoteError>> {
                ::std::boxed::Box::pin(async move {
                    // Arguments are moved out of the call as they are read,
                    // so the name is matched on a copy.
                    let mut call = call;
                    let method = call.method.clone();
                    match method.as_str() {
                        #(#arms)*
                        _ => ::std::result::Result::Err(#unknown),
                    }
                })
            }
        }
    };
    Ok(quote! {
        #block
        const _: () = {
            #trait_impl
        };
    })
}

#[cfg(test)]
mod tests {
    use super::camel_case;

    #[test]
    fn snake_case_becomes_camel_case() {
        assert_eq!(camel_case("take_pond"), "takePond");
        assert_eq!(camel_case("check_ducks"), "checkDucks");
        assert_eq!(camel_case("shutdown"), "shutdown");
        assert_eq!(camel_case("add_duck_2"), "addDuck2");
    }
}
