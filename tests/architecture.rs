//! The shape of the code, checked on every run:
//! - the layer order ARCHITECTURE.md states: a top-level module of `src/` refers only to
//!   modules on lower lines of that list (so the modules cannot import each other in a
//!   circle, and nothing imports upward);
//! - no `match` over drivers (`Driver::`) or check ids (`CheckId::`) in `src/` has a
//!   catch-all arm (`_`, or a bare binding), so a new driver or check does not compile until
//!   every such match says what it does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::visit::Visit;

const ARCHITECTURE: &str = include_str!("../ARCHITECTURE.md");

/// The layers as ARCHITECTURE.md lists them between its markers, lowest first.
fn layers() -> Vec<Vec<String>> {
    let start = ARCHITECTURE
        .find("<!-- layers -->")
        .expect("ARCHITECTURE.md marks its layer list with <!-- layers -->");
    let end = ARCHITECTURE[start..]
        .find("<!-- /layers -->")
        .expect("and ends it with <!-- /layers -->")
        + start;
    ARCHITECTURE[start..end]
        .lines()
        .filter_map(|line| {
            let (number, names) = line.trim().split_once(". ")?;
            number.parse::<u32>().ok()?;
            Some(
                names
                    .split(',')
                    .map(|n| n.trim().trim_matches('`').to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
            )
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files.sort();
    files
}

/// `catalog` for `src/catalog/data.rs` and `src/catalog.rs`; `None` for the crate root.
fn top_module(file: &Path) -> Option<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = file.strip_prefix(&src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// Every `crate::NAME` a file refers to, comments left out, with the line of each.
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let mut refs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                refs.push((number + 1, name));
            }
            rest = after;
        }
        // `use crate::{a, b}` names several modules at once.
        if let Some(at) = code.find("crate::{") {
            let group = &code[at + "crate::{".len()..];
            for part in group.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    refs.push((number + 1, name));
                }
            }
        }
    }
    refs
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let layers = layers();
    assert!(
        layers.len() >= 5,
        "the layer list was not found: {layers:?}"
    );
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (n.as_str(), i)))
        .collect();
    let mut violations = Vec::new();
    let mut seen_modules = std::collections::BTreeSet::new();
    for file in src_files() {
        let Some(module) = top_module(&file) else {
            continue;
        };
        seen_modules.insert(module.clone());
        let Some(&own) = rank.get(module.as_str()) else {
            violations.push(format!(
                "{}: module '{module}' is in no layer",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, target) in crate_refs(&text) {
            if target == module {
                continue;
            }
            match rank.get(target.as_str()) {
                Some(&theirs) if theirs < own => {}
                Some(_) => violations.push(format!(
                    "{}:{line}: {module} (layer {}) refers to {target} (layer {}): a module \
                     imports only layers below its own",
                    file.display(),
                    own + 1,
                    rank[target.as_str()] + 1
                )),
                // A crate-root item (`crate::run`) or a re-export is not a module.
                None if target.chars().next().is_some_and(char::is_uppercase) => {}
                None => violations.push(format!(
                    "{}:{line}: '{target}' is in no layer of ARCHITECTURE.md",
                    file.display()
                )),
            }
        }
    }
    for name in rank.keys() {
        assert!(
            seen_modules.contains(*name),
            "ARCHITECTURE.md lists '{name}', which is not a module of src/"
        );
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// A file's matches whose arms name `Driver::` or `CheckId::` variants and also catch all.
struct CatchAll {
    found: Vec<String>,
}

fn names_a_variant(pat: &syn::Pat) -> bool {
    let text = quote_pat(pat);
    text.contains("Driver ::") || text.contains("CheckId ::")
}

fn quote_pat(pat: &syn::Pat) -> String {
    pat.to_token_stream().to_string()
}

/// Whether an arm's pattern matches anything in the position of the matched value.
fn catches_all(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Wild(_) => true,
        syn::Pat::Ident(ident) => ident.subpat.is_none(),
        syn::Pat::Tuple(tuple) => tuple.elems.iter().any(catches_all),
        syn::Pat::Or(or) => or.cases.iter().any(catches_all),
        syn::Pat::Paren(inner) => catches_all(&inner.pat),
        _ => false,
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.to_token_stream().to_string().contains("cfg (test)"))
}

/// The files of `file`'s `#[cfg(test)] mod NAME;` declarations (with their `#[path]`).
fn test_only_files(file: &Path, tree: &syn::File) -> Vec<PathBuf> {
    let dir = file.parent().unwrap();
    // A `mod x;` inside `src/a.rs` or `src/a/mod.rs` lives in `src/a/`.
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let base = if matches!(stem, "mod" | "lib" | "main") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    tree.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.content.is_none() && is_cfg_test(&m.attrs) => {
                let path = m.attrs.iter().find_map(|a| match &a.meta {
                    syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(text),
                            ..
                        }) => Some(dir.join(text.value())),
                        _ => None,
                    },
                    _ => None,
                });
                Some(path.unwrap_or_else(|| base.join(format!("{}.rs", m.ident))))
            }
            _ => None,
        })
        .collect()
}

impl<'ast> Visit<'ast> for CatchAll {
    // Tests may match loosely: only the code that ships is held to it.
    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        if !is_cfg_test(&node.attrs) {
            syn::visit::visit_item_mod(self, node);
        }
    }

    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        if !is_cfg_test(&node.attrs) {
            syn::visit::visit_item_fn(self, node);
        }
    }

    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        let over_ids = node.arms.iter().any(|arm| names_a_variant(&arm.pat));
        if over_ids {
            for arm in &node.arms {
                if catches_all(&arm.pat) {
                    self.found.push(quote_pat(&arm.pat));
                }
            }
        }
        syn::visit::visit_expr_match(self, node);
    }
}

#[test]
fn no_match_over_drivers_or_check_ids_has_a_catch_all_arm() {
    let mut found = Vec::new();
    let mut matches_seen = 0;
    let files = src_files();
    let trees: Vec<(PathBuf, String, syn::File)> = files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            let tree = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            (file, text, tree)
        })
        .collect();
    let test_only: Vec<PathBuf> = trees
        .iter()
        .flat_map(|(file, _, tree)| test_only_files(file, tree))
        .collect();
    assert!(
        test_only.iter().any(|f| f.ends_with("report/tests.rs")),
        "test-only files were not found: {test_only:?}"
    );
    for (file, text, tree) in &trees {
        if test_only.contains(file) {
            continue;
        }
        let mut visitor = CatchAll { found: Vec::new() };
        visitor.visit_file(tree);
        matches_seen += text.matches("Driver::").count();
        found.extend(
            visitor
                .found
                .into_iter()
                .map(|arm| format!("{}: `{arm} =>`", file.display())),
        );
    }
    assert!(matches_seen > 20, "the drivers' matches were not found");
    assert!(
        found.is_empty(),
        "catch-all arms over drivers or check ids (name each variant instead):\n{}",
        found.join("\n")
    );
}

/// The checker itself: it finds a catch-all where there is one.
#[test]
fn the_catch_all_check_sees_a_catch_all() {
    let code = "fn f(d: Driver) -> u8 { match d { Driver::Connect => 1, _ => 2 } }\n\
                fn g(c: CheckId, s: State) -> u8 { match (c, s) { (CheckId::Raw, State::Open) => 1, (other, _) => 2 } }\n\
                fn h(c: CheckId) -> u8 { match c { CheckId::Raw => 1, CheckId::Npap | CheckId::Lst => 2 } }";
    let tree = syn::parse_file(code).unwrap();
    let mut visitor = CatchAll { found: Vec::new() };
    visitor.visit_file(&tree);
    assert_eq!(visitor.found, ["_", "(other , _)"]);
}
