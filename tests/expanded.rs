//! Keeps `examples/expanded/<name>.rs` in step with the macros: each is its example with `#[handler_supervised]`,
//! `#[self_supervised]` and the stagewise derives expanded (by the same pure expansion the macros run) and
//! pretty-printed. An example is a file `examples/<name>.rs` or a folder `examples/<name>/` with a `main.rs`; a
//! folder's render holds those of its files that use the macros. The test fails when one is stale and names the
//! command that refreshes them.

use std::fs;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Item, Meta, Token};

const REFRESH: &str = "STAGEWISE_BLESS=1 cargo test --test expanded";
const ATTRS: &[&str] = &["handler_supervised", "self_supervised"];
const DERIVES: &[&str] = &["Stage", "EventVariant", "VariantName"];

fn last_segment(path: &syn::Path) -> String {
    path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default()
}

/// Removes our derives from `attrs`, returning the expansions to append after the item.
fn take_derives(attrs: &mut Vec<syn::Attribute>, item: impl Fn(&[syn::Attribute]) -> TokenStream) -> Vec<Item> {
    let mut ours = Vec::new();
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Meta::List(list) = &mut attr.meta else { continue };
        let paths = list.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated).expect("derive list");
        let (mine, rest): (Vec<_>, Vec<_>) =
            paths.into_iter().partition(|p| DERIVES.contains(&last_segment(p).as_str()));
        ours.extend(mine.into_iter().map(|p| last_segment(&p)));
        let rest: Punctuated<syn::Path, Token![,]> = rest.into_iter().collect();
        list.tokens = rest.to_token_stream();
    }
    attrs.retain(|a| !matches!(&a.meta, Meta::List(l) if a.path().is_ident("derive") && l.tokens.is_empty()));
    let input = item(attrs);
    ours.iter()
        .flat_map(|derive| {
            let tokens = match derive.as_str() {
                "Stage" => stagewise_macros_core::derive_stage(input.clone()),
                "EventVariant" => stagewise_macros_core::derive_event_variant(input.clone()),
                _ => stagewise_macros_core::derive_variant_name(input.clone()),
            };
            syn::parse2::<syn::File>(tokens).expect("derive output parses").items
        })
        .collect()
}

fn expand_items(items: Vec<Item>) -> Vec<Item> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Enum(mut e) => {
                let ours = e.attrs.iter().position(|a| ATTRS.contains(&last_segment(a.path()).as_str()));
                if let Some(pos) = ours {
                    let attr = e.attrs.remove(pos);
                    let handler = last_segment(attr.path()) == "handler_supervised";
                    let args = match attr.meta {
                        Meta::List(list) => list.tokens,
                        _ => TokenStream::new(),
                    };
                    let tokens = if handler {
                        stagewise_macros_core::handler_supervised(args, e.to_token_stream())
                    } else {
                        stagewise_macros_core::self_supervised(args, e.to_token_stream())
                    };
                    let expanded: syn::File = syn::parse2(tokens).expect("expansion parses");
                    out.extend(expand_items(expanded.items));
                } else {
                    let mut attrs = std::mem::take(&mut e.attrs);
                    let extra = take_derives(&mut attrs, |attrs| {
                        let mut e = e.clone();
                        e.attrs = attrs.to_vec();
                        e.to_token_stream()
                    });
                    e.attrs = attrs;
                    out.push(Item::Enum(e));
                    out.extend(extra);
                }
            }
            Item::Struct(mut s) => {
                let mut attrs = std::mem::take(&mut s.attrs);
                let extra = take_derives(&mut attrs, |attrs| {
                    let mut s = s.clone();
                    s.attrs = attrs.to_vec();
                    s.to_token_stream()
                });
                s.attrs = attrs;
                out.push(Item::Struct(s));
                out.extend(extra);
            }
            Item::Mod(mut m) => {
                if let Some((brace, items)) = m.content.take() {
                    m.content = Some((brace, expand_items(items)));
                }
                out.push(Item::Mod(m));
            }
            other => out.push(other),
        }
    }
    out
}

/// The render of one source file, or `None` when it uses none of the macros.
fn render_file(source: &str) -> Option<String> {
    let mut file = syn::parse_file(source).expect("example parses");
    let before = prettyplease::unparse(&file);
    file.items = expand_items(file.items);
    let body = prettyplease::unparse(&file);
    (body != before).then_some(body)
}

/// The render of an example from its files (path under `examples/`, source), or `None` when none of them uses the
/// macros (a hand-written example). A folder example's renders follow one another, each under its own path.
fn render(files: &[(String, String)]) -> Option<String> {
    let rendered: Vec<(&str, String)> =
        files.iter().filter_map(|(path, source)| Some((path.as_str(), render_file(source)?))).collect();
    let from: Vec<String> = rendered.iter().map(|(path, _)| format!("examples/{path}")).collect();
    let body = match rendered.as_slice() {
        [] => return None,
        [(_, body)] => body.clone(),
        several => {
            several.iter().map(|(path, body)| format!("// examples/{path}\n\n{body}")).collect::<Vec<_>>().join("\n")
        }
    };
    Some(format!(
        "// @generated from {} by tests/expanded.rs: the stagewise macros expanded, nothing else.\n\
         // Not compiled. Refresh with `{REFRESH}`.\n\n{body}",
        from.join(", ")
    ))
}

/// The examples under `root/examples`, sorted by name: each with its `.rs` files (path under `examples/`, source).
fn examples(root: &Path) -> Vec<(String, Vec<(String, String)>)> {
    let read = |path: &Path| fs::read_to_string(path).unwrap();
    let mut entries: Vec<_> = fs::read_dir(root.join("examples")).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    let mut out = Vec::new();
    for path in entries {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.extension().is_some_and(|e| e == "rs") {
            out.push((name.clone(), vec![(format!("{name}.rs"), read(&path))]));
        } else if path.join("main.rs").is_file() {
            let mut files: Vec<_> = fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).collect();
            files.retain(|f| f.extension().is_some_and(|e| e == "rs"));
            files.sort();
            let files = files
                .iter()
                .map(|f| (format!("{name}/{}", f.file_name().unwrap().to_str().unwrap()), read(f)))
                .collect();
            out.push((name, files));
        }
    }
    out
}

#[test]
fn expanded_examples_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("STAGEWISE_BLESS").is_some();
    let mut stale = Vec::new();
    let mut rendered = Vec::new();
    for (name, files) in examples(root) {
        let Some(fresh) = render(&files) else { continue };
        let target = root.join("examples/expanded").join(format!("{name}.rs"));
        rendered.push(format!("{name}.rs"));
        if fs::read_to_string(&target).ok().as_deref() != Some(fresh.as_str()) {
            if bless {
                fs::create_dir_all(target.parent().unwrap()).unwrap();
                fs::write(&target, fresh).unwrap();
            } else {
                stale.push(format!("examples/expanded/{name}.rs"));
            }
        }
    }
    assert!(!rendered.is_empty(), "no example uses the macros");
    let orphans: Vec<String> = fs::read_dir(root.join("examples/expanded"))
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let orphans: Vec<&String> = orphans.iter().filter(|f| !rendered.contains(f)).collect();
    assert!(orphans.is_empty(), "examples/expanded has renders of no example: {orphans:?}; delete them");
    assert!(stale.is_empty(), "stale expanded examples: {stale:?}\nrefresh them with `{REFRESH}` and commit the diff");
}
