//! The house rules a reader can repeat: in every crate's `src/`, no file over 400 lines, each file opens with a `//!`
//! line saying what it is for, and no import circle between modules (one file's module reaching another's while that
//! one reaches back, directly or around a longer loop).
//!
//! The circle check reads `use` items and inline `crate::`/`super::`/`self::` paths, resolves each to the deepest
//! module file it names, and looks for cycles among files. A module reaching its own ancestor or descendant is not a
//! circle (a parent declares its children and re-exports them; children use what their parent holds); `#[cfg(test)]`
//! modules written inline are left out, since tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;
const CRATES: [&str; 4] = ["src", "runtime/src", "macros/src", "macros/core/src"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("a source folder").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The module path of a file below a crate's `src/`: `lib.rs` is `[]`, `a/mod.rs` is `[a]`, `a/b.rs` is `[a, b]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "main.rs" | "mod.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// The source without comments, string and char literals (replaced by spaces), so paths in prose are not read.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next.is_some_and(|n| n != '\\') && chars.get(i + 2) == Some(&'\'') {
            i += 3; // 'x'
            out.push(' ');
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` without inline `#[cfg(test)] mod name { ... }` blocks.
fn without_test_modules(code: &str) -> String {
    let mut out = code.to_owned();
    while let Some(at) = out.find("#[cfg(test)]") {
        let rest = &out[at + "#[cfg(test)]".len()..];
        let trimmed = rest.trim_start();
        let is_inline_mod = trimmed.starts_with("mod ") && {
            let header_end = trimmed.find(['{', ';']).unwrap_or(trimmed.len());
            trimmed[header_end..].starts_with('{')
        };
        if !is_inline_mod {
            // A test-only item of another kind (or `mod tests;`, whose file is read on its own): keep it, mark seen.
            out.replace_range(at..at + "#[cfg(test)]".len(), "            ");
            continue;
        }
        let open = at + "#[cfg(test)]".len() + (rest.len() - trimmed.len()) + trimmed.find('{').unwrap();
        let mut depth = 0;
        let mut end = open;
        for (offset, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + offset + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(at..end, "");
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path starting with `crate`, `super` or `self` in `code`: `use` trees expanded, inline paths read up to
/// their last `::` segment.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let tokens = tokenize(code);
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let end = tokens[i..].iter().position(|t| t == ";").map_or(tokens.len(), |p| i + p);
            expand_use(&tokens[i + 1..end], &[], &mut found);
            i = end;
        } else if ["crate", "super", "self"].contains(&tokens[i].as_str())
            && tokens.get(i + 1).is_some_and(|t| t == "::")
        {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t == "::")
                && tokens.get(j + 1).is_some_and(|t| t.chars().all(is_ident_char))
            {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            found.push(path);
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_ident_char(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_owned());
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// Expands one `use` tree (`a::{b, c::{d, e}}`) below `prefix` into full paths.
fn expand_use(tokens: &[String], prefix: &[String], found: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        match token {
            "::" | "pub" | "(" | ")" | "in" => i += 1,
            "{" => {
                // Split the group at top-level commas.
                let mut depth = 0;
                let mut start = i + 1;
                let mut j = i;
                while j < tokens.len() {
                    match tokens[j].as_str() {
                        "{" => depth += 1,
                        "}" => {
                            depth -= 1;
                            if depth == 0 {
                                expand_use(&tokens[start..j], &path, found);
                                break;
                            }
                        }
                        "," if depth == 1 => {
                            expand_use(&tokens[start..j], &path, found);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                return;
            }
            "as" | "*" => break,
            _ if token.chars().all(is_ident_char) => {
                path.push(token.to_owned());
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !path.is_empty() {
        found.push(path);
    }
}

/// The deepest module file that `path`, written in module `current`, names; `None` for paths outside the crate.
fn resolve(path: &[String], current: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => current.to_vec(),
        "super" => current.to_vec(),
        _ => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        base.pop();
    }
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    for segment in rest {
        base.push(segment.clone());
        if !modules.contains(&base) {
            base.pop();
            break;
        }
    }
    Some(base)
}

fn is_prefix(short: &[String], long: &[String]) -> bool {
    short.len() <= long.len() && long[..short.len()] == *short
}

type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// The module graph of one crate: an edge for each module that reaches another, not its ancestor or descendant.
fn graph_of(sources: &[(Vec<String>, String)]) -> Graph {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = Graph::new();
    for (module, text) in sources {
        let code = without_test_modules(&code_only(text));
        let edges = graph.entry(module.clone()).or_default();
        for path in paths(&code) {
            let Some(target) = resolve(&path, module, &modules) else { continue };
            if !is_prefix(&target, module) && !is_prefix(module, &target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// The circles in `graph`: each strongly connected set of more than one module (Tarjan).
fn circles(graph: &Graph) -> Vec<Vec<Vec<String>>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        found: Vec<Vec<Vec<String>>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a Vec<String>) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let Some((next, _)) = self.graph.get_key_value(next) else { continue };
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                loop {
                    let member = self.stack.pop().unwrap();
                    self.on_stack.remove(member);
                    component.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found
}

fn sources_of(src: &Path) -> Vec<(PathBuf, Vec<String>, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            let module = module_of(src, &file);
            (file, module, text)
        })
        .collect()
}

fn shown(module: &[String]) -> String {
    match module.is_empty() {
        true => "crate".to_owned(),
        false => module.join("::"),
    }
}

#[test]
fn no_source_file_is_over_400_lines_and_each_says_what_it_is_for() {
    let mut problems = Vec::new();
    for crate_src in CRATES {
        for (file, _, text) in sources_of(&root().join(crate_src)) {
            let shown = file.strip_prefix(root()).unwrap().display().to_string();
            let lines = text.lines().count();
            if lines > MAX_LINES {
                problems.push(format!("{shown}: {lines} lines (split it by concern, at most {MAX_LINES})"));
            }
            if !text.trim_start().starts_with("//!") {
                problems.push(format!("{shown}: the first line should be a `//!` saying what the file is for"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_import_circle_between_modules() {
    let mut problems = Vec::new();
    for crate_src in CRATES {
        let sources: Vec<_> = sources_of(&root().join(crate_src)).into_iter().map(|(_, m, t)| (m, t)).collect();
        for circle in circles(&graph_of(&sources)) {
            let names: Vec<String> = circle.iter().map(|m| shown(m)).collect();
            problems.push(format!("{crate_src}: modules reach each other in a circle: {}", names.join(" <-> ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_circle_check_sees_a_circle_and_lets_parents_and_children_be() {
    let file = |module: &str, text: &str| {
        let module = if module.is_empty() { Vec::new() } else { module.split("::").map(str::to_owned).collect() };
        (module, text.to_owned())
    };
    let sources = vec![
        file("", "//! root\nmod a; mod b; mod c; pub use a::A;"),
        file("a", "//! a\nuse crate::{b::B, c};\npub struct A; mod inner;"),
        file("a::inner", "//! a child\nuse super::A; // a child using its parent: no circle"),
        file("b", "//! b\nuse super::c::C;\npub struct B;\n#[cfg(test)]\nmod tests { use crate::a::A; }"),
        file("c", "//! c\npub struct C; fn f() -> crate::a::A { crate::a::A } // 'use crate::b' in prose"),
    ];
    let found = circles(&graph_of(&sources));
    let names: Vec<Vec<String>> = found.iter().map(|c| c.iter().map(|m| shown(m)).collect()).collect();
    assert_eq!(names, vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]], "a -> b -> c -> a only");

    let without_loop = vec![sources[0].clone(), sources[1].clone(), sources[2].clone(), sources[3].clone()];
    assert!(circles(&graph_of(&without_loop)).is_empty(), "b's test module reaching a is no circle");
}
