//! `#[remote]`: the dispatch of a Referenceable, a perspective (an avatar),
//! a Viewable or a RemoteCache from the `async fn`s of an impl block.
//!
//! As the derives do, it records every problem in a [`Ctxt`] with its span
//! and goes on, so that all of them are reported together, and on error it
//! still emits the block and a stub trait impl (see [`expand`]).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, PathArguments, ReturnType,
    Type,
};

use crate::attr::{self, Namespace, PB_ITEMS};
use crate::ctxt::Ctxt;

/// `#[remote(cache)]`: implement `RemoteCache`.
const CACHE: &str = "cache";
/// `#[remote(crate = "...")]`: where the facade is.
const CRATE: &str = "crate";
/// `#[remote(perspective)]`: an avatar's `perspective_*` methods.
const PERSPECTIVE: &str = "perspective";
/// `#[remote(view)]`: implement `Viewable`.
const VIEW: &str = "view";
/// `#[pb(name = "...")]` on a method: its wire name.
const NAME: &str = "name";

/// The items of `#[remote(...)]`, for the shared attribute helpers.
const REMOTE_ITEMS: Namespace = Namespace {
    item: "remote argument",
    attr: "remote",
};

/// What the block implements.
#[derive(Clone, Copy)]
enum Kind {
    /// `remote_*` methods: `Referenceable`.
    Referenceable,
    /// `perspective_*` methods: `Referenceable`, as the avatar a realm
    /// returns after a login (Twisted's `pb.Avatar`).
    Perspective,
    /// `view_*` methods, told the calling perspective: `Viewable`.
    View,
    /// `observe_*` methods: `RemoteCache`.
    Cache,
}

impl Kind {
    /// The prefix Twisted puts before a method's wire name, for `TypeError`s.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Referenceable => "remote_",
            Kind::Perspective => "perspective_",
            Kind::View => "view_",
            Kind::Cache => "observe_",
        }
    }

    /// The trait the block implements, and its dispatch method.
    fn trait_and_method(self) -> (TokenStream, TokenStream) {
        match self {
            Kind::Referenceable | Kind::Perspective => {
                (quote!(Referenceable), quote!(remote_message))
            }
            Kind::View => (quote!(Viewable), quote!(view_message)),
            Kind::Cache => (quote!(RemoteCache), quote!(observe_message)),
        }
    }

    /// The error for a method the block does not have, with `call` in
    /// scope: what Twisted raises for each. `type_name` is the Python class
    /// name its `AttributeError`s show.
    fn unknown(self, krate: &syn::Path, type_name: &str) -> TokenStream {
        match self {
            Kind::Referenceable => {
                quote!(#krate::flavors::RemoteError::no_such_method(&call.method))
            }
            Kind::Perspective => quote!(
                #krate::flavors::__private::no_such_perspective_method(#type_name, &call.method)
            ),
            Kind::View => {
                quote!(#krate::flavors::__private::no_such_view_method(#type_name, &call.method))
            }
            Kind::Cache => quote!(#krate::flavors::__private::no_such_observer(&call.method)),
        }
    }
}

/// The arguments of `#[remote(...)]`.
struct Args {
    kind: Kind,
    krate: syn::Path,
}

/// Reads `#[remote(...)]`, recording every problem in `cx` and going on
/// with the next argument, so that all of them are reported at once.
fn parse_args(cx: &Ctxt, args: TokenStream) -> Args {
    let mut parsed = Args {
        kind: Kind::Referenceable,
        krate: attr::default_crate_path(),
    };
    let mut kind_seen: Option<&'static str> = None;
    let mut crate_seen = false;
    let parser = syn::meta::parser(|meta| {
        let kind = if meta.path.is_ident(CACHE) {
            Some((CACHE, Kind::Cache))
        } else if meta.path.is_ident(PERSPECTIVE) {
            Some((PERSPECTIVE, Kind::Perspective))
        } else if meta.path.is_ident(VIEW) {
            Some((VIEW, Kind::View))
        } else {
            None
        };
        if let Some((name, kind)) = kind {
            if attr::flag(cx, REMOTE_ITEMS, name, &meta)? {
                match kind_seen {
                    Some(seen) if seen == name => cx.error_spanned_by(
                        &meta.path,
                        format!("duplicate remote argument `{name}`"),
                    ),
                    Some(seen) => cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "remote argument `{name}` cannot be combined with `{seen}`: \
                             a block implements one kind of object"
                        ),
                    ),
                    None => {
                        kind_seen = Some(name);
                        parsed.kind = kind;
                    }
                }
            }
        } else if meta.path.is_ident(CRATE) {
            if let Some(s) = attr::get_lit_str(cx, REMOTE_ITEMS, CRATE, &meta)? {
                if crate_seen {
                    cx.error_spanned_by(&meta.path, "duplicate remote argument `crate`");
                }
                crate_seen = true;
                match s.parse_with(syn::Path::parse_mod_style) {
                    Ok(path) => parsed.krate = path,
                    Err(_) => cx.error_spanned_by(
                        &s,
                        "remote argument `crate` must be a path, such as \
                         `crate = \"my_crate::spread\"`",
                    ),
                }
            }
        } else {
            cx.error_spanned_by(
                &meta.path,
                "unknown remote argument: expected `cache`, `perspective`, `view` \
                 or `crate = \"...\"`",
            );
            attr::skip_value(&meta)?;
        }
        Ok(())
    });
    // Only malformed syntax (not `name`, `name = expr` or `name(...)`)
    // stops the parser; it is recorded like the rest.
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(e);
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

/// The wire name from `#[pb(name = "...")]`, removing every `#[pb]`
/// attribute from the method (rustc does not know them), and recording
/// each problem in them.
fn take_name(cx: &Ctxt, method: &mut ImplItemFn) -> Option<String> {
    let mut name: Option<LitStr> = None;
    let mut kept = Vec::new();
    for attr in method.attrs.drain(..) {
        if !attr.path().is_ident(attr::PB) {
            kept.push(attr);
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(NAME) {
                // #[pb(name = "wireName")]
                if let Some(s) = attr::get_lit_str(cx, PB_ITEMS, NAME, &meta)? {
                    if s.value().is_empty() {
                        cx.error_spanned_by(&s, "pb attribute `name` must not be empty");
                    } else if name.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate pb attribute `name`");
                    } else {
                        name = Some(s);
                    }
                }
            } else {
                let path = meta.path.to_token_stream().to_string().replace(' ', "");
                cx.error_spanned_by(
                    &meta.path,
                    format!("unknown pb method attribute `{path}`: expected `name = \"...\"`"),
                );
                attr::skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(e) = parsed {
            cx.syn_error(e);
        }
    }
    method.attrs = kept;
    name.map(|s| s.value())
}

/// How a view method takes the calling perspective.
enum PerspectiveParam {
    /// `Option<Perspective>`: `None` outside any perspective.
    Optional,
    /// `Perspective`: a call outside any perspective is refused.
    Required,
}

/// The kind of perspective parameter `ty` is, judged by its written form
/// (`Perspective` or `Option<Perspective>`, paths allowed), or `None` for
/// another type.
fn perspective_param(ty: &Type) -> Option<PerspectiveParam> {
    let last = match ty {
        Type::Group(group) => return perspective_param(&group.elem),
        Type::Paren(paren) => return perspective_param(&paren.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last()?,
        _ => return None,
    };
    if last.ident == "Perspective" && last.arguments.is_none() {
        return Some(PerspectiveParam::Required);
    }
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => {
            match perspective_param(inner)? {
                PerspectiveParam::Required => Some(PerspectiveParam::Optional),
                PerspectiveParam::Optional => None,
            }
        }
        _ => None,
    }
}

/// What a view method must take after `&self`, for its errors.
const VIEW_FIRST_PARAM: &str = "the first parameter of a view method, after `&self`, must be the \
     calling perspective: `perspective: Option<Perspective>` (`None` when the viewable was \
     sent outside any perspective) or `perspective: Perspective`";

/// The method's wire name, and its arm of the dispatch `match`: `None` if
/// the method has errors, which are all recorded in `cx`. A view's arm
/// reads the perspective, `perspective` in scope, before the arguments.
fn arm(
    cx: &Ctxt,
    method: &mut ImplItemFn,
    krate: &syn::Path,
    kind: Kind,
) -> (String, Option<TokenStream>) {
    let prefix = kind.prefix();
    let wire = take_name(cx, method).unwrap_or_else(|| camel_case(&method.sig.ident.to_string()));
    let sig = &method.sig;
    let mut ok = true;
    let mut error = |span: Span, msg: &str| {
        cx.syn_error(syn::Error::new(span, msg));
        ok = false;
    };
    if sig.asyncness.is_none() {
        error(sig.fn_token.span(), "remote methods must be `async fn`");
    }
    if !sig.generics.params.is_empty() {
        error(sig.generics.span(), "remote methods cannot be generic");
    }
    let has_receiver = matches!(sig.inputs.first(), Some(FnArg::Receiver(_)));
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(other) => error(other.span(), "remote methods take `&self` first"),
        None => error(sig.ident.span(), "remote methods take `&self` first"),
    }
    let mut params = sig.inputs.iter().skip(1);
    // A view's perspective: the local that holds it, and how it is read.
    let mut perspective = None;
    let mut missing_perspective = false;
    if let Kind::View = kind {
        match params.next() {
            Some(FnArg::Typed(typed)) => {
                let ty = &typed.ty;
                // Spanned on the type, so that a `Perspective` that is not
                // spread's is reported there.
                match perspective_param(ty) {
                    Some(PerspectiveParam::Optional) => {
                        perspective = Some(quote_spanned! {ty.span()=>
                            let __perspective: #ty = perspective;
                        });
                    }
                    Some(PerspectiveParam::Required) => {
                        perspective = Some(quote_spanned! {ty.span()=>
                            let __perspective: #ty = #krate::flavors::__private::require_perspective(
                                perspective, &call.method, #prefix,
                            )?;
                        });
                    }
                    None => error(ty.span(), VIEW_FIRST_PARAM),
                }
            }
            // A second receiver is rustc's to report.
            Some(FnArg::Receiver(_)) => {}
            // Without `&self` first, the missing receiver is the error.
            None if has_receiver => {
                cx.error_spanned_by(sig, VIEW_FIRST_PARAM);
                missing_perspective = true;
            }
            None => {}
        }
    }
    let mut names = Vec::new();
    let mut reads = Vec::new();
    let mut passes = Vec::new();
    if perspective.is_some() {
        passes.push(format_ident!("__perspective"));
    }
    for (index, input) in params.enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        let Pat::Ident(pat) = &*typed.pat else {
            error(
                typed.pat.span(),
                "remote method parameters must be plain names",
            );
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
    if !ok || missing_perspective {
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
            #perspective
            #(#reads)*
            let __result = self.#ident(#(#passes),*).await;
            #into
        }
    };
    (wire, Some(arm))
}

/// Removes the `#[pb]` attributes of a block's methods without reading
/// them, for a block that is refused as a whole.
fn strip_pb_attrs(block: &mut ItemImpl) {
    for item in &mut block.items {
        if let ImplItem::Fn(method) = item {
            method.attrs.retain(|a| !a.path().is_ident(attr::PB));
        }
    }
}

/// `#[remote]`: the impl block unchanged (but for its `#[pb]` attributes)
/// and the trait impl. With errors, they are all reported together, the
/// block is still emitted, and so is a stub trait impl whose dispatch only
/// answers an error, so that using the type as a `Referenceable` (or a
/// `Viewable`, or a cache) adds no "trait not implemented" errors to the
/// real ones; a
/// generic block gets no stub, since its bounds are unknown.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let args = parse_args(&cx, args);
    let mut block: ItemImpl = match syn::parse2(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            cx.error_spanned_by(
                first_token(&item),
                "#[remote] goes on an inherent impl block",
            );
            // The item stays as it was written: only this error shows.
            let mut out = compile_errors(cx);
            out.extend(item);
            return Ok(out);
        }
    };
    let krate = &args.krate;
    let kind = args.kind;
    let is_generic = !block.generics.params.is_empty();
    if is_generic {
        cx.error_spanned_by(
            &block.generics,
            "#[remote] does not support generic impl blocks",
        );
    }

    let mut arms = Vec::new();
    if let Some((_, path, _)) = &block.trait_ {
        cx.error_spanned_by(
            path,
            "#[remote] goes on an inherent impl block, not a trait impl",
        );
        // The methods are the trait's: nothing to say about them.
        strip_pb_attrs(&mut block);
    } else {
        let mut wire_names: Vec<String> = Vec::new();
        for item in &mut block.items {
            if let ImplItem::Fn(method) = item {
                let span = method.sig.ident.span();
                let (wire, arm) = arm(&cx, method, krate, kind);
                arms.extend(arm);
                if wire_names.contains(&wire) {
                    cx.syn_error(syn::Error::new(
                        span,
                        format!("two methods map to the wire name `{wire}`"),
                    ));
                }
                wire_names.push(wire);
            }
        }
    }

    let unknown = kind.unknown(krate, &type_name(&block.self_ty));
    let dispatch = match cx.check() {
        Ok(()) => quote! {
            // Arguments are moved out of the call as they are read, so the
            // name is matched on a copy.
            let mut call = call;
            let method = call.method.clone();
            match method.as_str() {
                #(#arms)*
                _ => ::std::result::Result::Err(#unknown),
            }
        },
        Err(err) => {
            let mut out = err.into_compile_error();
            out.extend(quote!(#block));
            if !is_generic {
                out.extend(trait_impl(
                    &block.self_ty,
                    krate,
                    kind,
                    quote!(::std::result::Result::Err(#unknown)),
                ));
            }
            return Ok(out);
        }
    };
    let trait_impl = trait_impl(&block.self_ty, krate, kind, dispatch);
    Ok(quote! {
        #block
        #trait_impl
    })
}

/// The trait impl for `self_ty`, whose dispatch future runs `dispatch`
/// with `call` in scope (and, for a view, `perspective`). The kinds differ
/// only in the trait, its method, and what an unknown name gets.
fn trait_impl(self_ty: &Type, krate: &syn::Path, kind: Kind, dispatch: TokenStream) -> TokenStream {
    let (trait_name, method_name) = kind.trait_and_method();
    // A view's dispatch is told who calls; a block without methods (or the
    // stub) does not read it.
    let perspective = match kind {
        Kind::View => quote! {
            #[allow(unused_variables)]
            perspective: ::std::option::Option<#krate::flavors::Perspective>,
        },
        _ => TokenStream::new(),
    };
    // The paths through the facade are absolute, and a `crate = "crate::..."`
    // path may name a trait the user imported: not an unused qualification.
    quote! {
        #[allow(unused_qualifications)]
        const _: () = {
            #[automatically_derived]
            impl #krate::flavors::#trait_name for #self_ty {
                fn #method_name(
                    self: ::std::sync::Arc<Self>,
                    #perspective
                    call: #krate::flavors::Call,
                ) -> #krate::flavors::BoxFuture<::std::result::Result<#krate::jelly::Value, #krate::flavors::RemoteError>> {
                    ::std::boxed::Box::pin(async move {
                        #dispatch
                    })
                }
            }
        };
    }
}

/// The Python class name of `self_ty` in Twisted's `AttributeError`s,
/// `type(self).__name__`: the last segment of its path, without generics.
fn type_name(self_ty: &Type) -> String {
    match self_ty {
        Type::Group(group) => type_name(&group.elem),
        Type::Paren(paren) => type_name(&paren.elem),
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(last) => last.ident.to_string(),
            None => String::new(),
        },
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

/// Every error recorded, as `compile_error!`s.
fn compile_errors(cx: Ctxt) -> TokenStream {
    cx.check()
        .err()
        .map(syn::Error::into_compile_error)
        .unwrap_or_default()
}

/// The first token of an item, for an error about the item as a whole that
/// should not underline all of it.
fn first_token(item: &TokenStream) -> TokenStream {
    item.clone().into_iter().take(1).collect()
}

#[cfg(test)]
mod tests {
    use super::{PerspectiveParam, camel_case, perspective_param, type_name};

    #[test]
    fn perspective_parameters_are_read_by_their_written_type() {
        let param = |ty: &str| perspective_param(&syn::parse_str(ty).unwrap());
        for required in ["Perspective", "spread::Perspective", "(Perspective)"] {
            assert!(matches!(param(required), Some(PerspectiveParam::Required)));
        }
        for optional in [
            "Option<Perspective>",
            "std::option::Option<spread::Perspective>",
        ] {
            assert!(matches!(param(optional), Some(PerspectiveParam::Optional)));
        }
        for other in [
            "String",
            "Option<String>",
            "Option<Option<Perspective>>",
            "Perspective<u8>",
            "&Perspective",
            "Vec<Perspective>",
        ] {
            assert!(param(other).is_none(), "{other}");
        }
    }

    #[test]
    fn type_names_are_pythons_class_names() {
        let name = |ty: &str| type_name(&syn::parse_str(ty).unwrap());
        assert_eq!(name("User"), "User");
        assert_eq!(name("crate::chat::Board"), "Board");
    }

    #[test]
    fn snake_case_becomes_camel_case() {
        assert_eq!(camel_case("take_pond"), "takePond");
        assert_eq!(camel_case("check_ducks"), "checkDucks");
        assert_eq!(camel_case("shutdown"), "shutdown");
        assert_eq!(camel_case("add_duck_2"), "addDuck2");
    }
}
