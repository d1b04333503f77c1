//! A test that reads the `use` lines of every file under `src/` and fails on an import cycle
//! between modules (files). Re-exports (`pub use` in a module's own file) are followed to the
//! module that defines the item, so `use super::Action` in `protocol/request.rs` depends on
//! `protocol::action`, not on `protocol` as a whole. Uses inside a file's `#[cfg(test)]`
//! module are left out: they are the tests' own dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module of the library crate with its file's text.
fn modules() -> BTreeMap<Module, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    stack.push(path);
                }
                continue;
            }
            let Ok(relative) = path.strip_prefix(&root) else {
                continue;
            };
            let mut parts: Module = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") || parts == ["lib"] {
                parts.pop();
            }
            if parts == ["main"] || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            out.insert(parts, std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    out
}

/// The `use` statements of a file (whole, across lines), up to its test module, and whether
/// each is a `pub use`.
fn use_statements(text: &str) -> Vec<(bool, String)> {
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut current: Option<(bool, String)> = None;
    for line in code.lines().map(str::trim) {
        if current.is_none() {
            let public = line.starts_with("pub use ") || line.starts_with("pub(crate) use ");
            if !(public || line.starts_with("use ")) {
                continue;
            }
            current = Some((public, String::new()));
        }
        if let Some((public, mut text)) = current.take() {
            text.push_str(line);
            match text.ends_with(';') {
                true => out.push((public, text)),
                false => current = Some((public, text)),
            }
        }
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or_default();
        return vec![path
            .split("::")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()];
    };
    let prefix: Vec<String> = tree
        .get(..open)
        .unwrap_or_default()
        .split("::")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let inner = tree
        .get(open + 1..tree.len().saturating_sub(1))
        .unwrap_or_default();
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(inner.get(start..).unwrap_or_default());
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|rest| prefix.iter().cloned().chain(rest).collect())
        .collect()
}

/// A path of `module`'s use statement made absolute in the crate; `None` for other crates.
fn absolute(module: &Module, path: &[String]) -> Option<Module> {
    let (first, rest) = path.split_first()?;
    let mut base: Module = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => module.get(..module.len().saturating_sub(1))?.to_vec(),
        _ => return None,
    };
    let mut rest = rest.iter().peekable();
    while rest.peek().is_some_and(|s| *s == "super") {
        base.pop();
        rest.next();
    }
    base.extend(rest.filter(|s| *s != "self").cloned());
    Some(base)
}

/// The module a path's item comes from, following re-exports.
fn resolve(path: &Module, modules: &BTreeMap<Module, String>, depth: usize) -> Option<Module> {
    let owner = (0..=path.len())
        .rev()
        .map(|n| path.get(..n).unwrap_or_default().to_vec())
        .find(|m| modules.contains_key(m))?;
    let item = path.get(owner.len());
    if let (Some(item), true) = (item, depth < 8) {
        for (public, statement) in use_statements(modules.get(&owner)?) {
            let tree = statement
                .split_once("use ")
                .map(|(_, t)| t.trim_end_matches(';'));
            for reexport in tree.map(expand).unwrap_or_default() {
                if public && reexport.last() == Some(item) {
                    let mut source = reexport.clone();
                    if !matches!(
                        source.first().map(String::as_str),
                        Some("crate" | "self" | "super")
                    ) {
                        source.insert(0, "self".into());
                    }
                    if let Some(full) = absolute(&owner, &source) {
                        return resolve(&full, modules, depth + 1);
                    }
                }
            }
        }
    }
    Some(owner)
}

/// The import graph: module → the modules its (non-re-export) use lines depend on.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in &modules {
        let targets = edges.entry(module.clone()).or_default();
        for (public, statement) in use_statements(text) {
            let tree = statement
                .split_once("use ")
                .map(|(_, t)| t.trim_end_matches(';'));
            for path in tree.map(expand).unwrap_or_default() {
                let Some(full) = absolute(module, &path) else {
                    continue;
                };
                // A re-export in a module's own file is its children's, not its dependency.
                if public && full.starts_with(module) {
                    continue;
                }
                if let Some(target) = resolve(&full, &modules, 0) {
                    if &target != module && !target.is_empty() {
                        targets.insert(target);
                    }
                }
            }
        }
    }
    edges
}

/// A cycle in `edges`, if there is one.
fn find_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        path: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = path.iter().position(|m| m == node) {
            let mut cycle = path.get(at..).unwrap_or_default().to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycles_between_modules() {
    let edges = graph();
    assert!(edges.len() > 40, "read only {} modules", edges.len());
    assert!(
        edges
            .get(&vec!["actors".to_string(), "services".to_string()])
            .is_some_and(|t| t.contains(&vec!["handlers".to_string()])),
        "the reader misses edges: {edges:?}"
    );
    let cycle = find_cycle(&edges).map(|c| c.iter().map(|m| m.join("::")).collect::<Vec<_>>());
    assert_eq!(cycle, None, "an import cycle");
}

#[test]
fn the_reader_finds_a_cycle_when_there_is_one() {
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(find_cycle(&edges), Some(vec![a.clone(), b, a]));
    assert_eq!(
        expand("super::{a, b::{c, d as e}}"),
        [
            vec!["super", "a"],
            vec!["super", "b", "c"],
            vec!["super", "b", "d"]
        ]
        .map(|p| p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    );
}
