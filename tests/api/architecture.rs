//! The import rules of docs/architecture.md, checked on the source: which
//! layer may use which, and no cycle between the modules of one layer. A
//! `use` (or a path) that breaks a rule fails this test with the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each layer and the layers it may use (besides itself).
const RULES: &[(&str, &[&str])] = &[
    ("domain", &[]),
    // Metric names and recording: used from every layer but the pure one.
    ("observe", &[]),
    ("config", &["domain"]),
    ("db", &["domain", "config", "observe"]),
    ("auth", &["domain", "config"]),
    ("mail", &["domain", "db", "config", "observe"]),
    ("webhooks", &["domain", "db", "config"]),
    (
        "service",
        &[
            "domain", "db", "auth", "mail", "webhooks", "config", "observe",
        ],
    ),
    (
        "jobs",
        &["service", "webhooks", "domain", "db", "config", "observe"],
    ),
    ("state", &["service", "auth", "db", "domain", "config"]),
    (
        "http",
        &["service", "state", "auth", "domain", "config", "observe"],
    ),
    (
        "web",
        &["http", "service", "state", "auth", "domain", "config"],
    ),
    (
        "app",
        &[
            "web", "http", "jobs", "state", "service", "mail", "webhooks", "auth", "db", "domain",
            "config", "observe",
        ],
    ),
    (
        "cli",
        &[
            "app", "web", "http", "jobs", "state", "service", "mail", "webhooks", "auth", "db",
            "domain", "config", "observe",
        ],
    ),
];

/// Layers whose modules must not import each other in a circle.
const ACYCLIC: &[&str] = &[
    "domain", "db", "auth", "mail", "webhooks", "service", "http", "web",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/domain/visit/days.rs` → `["domain", "visit", "days"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code without `#[cfg(test)]` modules (tests may reach anywhere),
/// comments and string literals.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path a file names: `crate::a::b…` and `super::…`.
fn references(module: &[String], text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let rest: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut path: Vec<String> = Vec::new();
            for (i, part) in rest.split("::").filter(|p| !p.is_empty()).enumerate() {
                match (i, part) {
                    (0, "crate") => {}
                    (0, "super") => {
                        path = module.to_vec();
                        path.pop();
                    }
                    (_, "super") => {
                        path.pop();
                    }
                    (_, p) => path.push(p.to_string()),
                }
            }
            found.push(path);
        }
    }
    found
}

#[test]
fn layers_import_only_what_docs_architecture_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let modules: BTreeSet<Vec<String>> = all.iter().map(|f| module_of(&src, f)).collect();
    let rules: BTreeMap<&str, &[&str]> = RULES.iter().copied().collect();
    let mut broken = Vec::new();
    // Edges between the second-level modules of one layer (domain::visit → domain::lesson).
    let mut within: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &all {
        let module = module_of(&src, file);
        let layer = module[0].clone();
        if layer == "lib" || layer == "main" {
            continue;
        }
        let allowed = rules
            .get(layer.as_str())
            .unwrap_or_else(|| panic!("{layer} has no row in RULES"));
        let text = std::fs::read_to_string(file).unwrap();
        for path in references(&module, &code(&text)) {
            let Some(target) = path.first() else { continue };
            // Only paths that name a module of ours (not `crate::Foo` items of lib.rs).
            if !modules.iter().any(|m| m[0] == *target) {
                continue;
            }
            let file_name = file.strip_prefix(&src).unwrap().display().to_string();
            if *target != layer && !allowed.contains(&target.as_str()) {
                broken.push(format!("{file_name}: {layer} uses {}", path.join("::")));
            }
            if *target == layer && module.len() > 1 && path.len() > 1 && path[1] != module[1] {
                // Only the longest prefix that is a module counts.
                if modules
                    .iter()
                    .any(|m| m.len() >= 2 && m[0] == layer && m[1] == path[1])
                {
                    within
                        .entry(layer.clone())
                        .or_default()
                        .entry(module[1].clone())
                        .or_default()
                        .insert(path[1].clone());
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the rules:\n{}",
        broken.join("\n")
    );

    for layer in ACYCLIC {
        let graph = within.remove(*layer).unwrap_or_default();
        if let Some(cycle) = find_cycle(&graph) {
            panic!("a cycle in {layer}: {}", cycle.join(" → "));
        }
    }
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_rules_catch_a_broken_import() {
    // The parser on a made-up file: a domain module that reaches into db,
    // and a `super::` path resolved from a nested module.
    let module = vec!["domain".to_string(), "visit".into(), "days".into()];
    let found = references(
        &module,
        &code("use crate::db::DbConn;\nuse super::per_month;\n// crate::web in a comment\n"),
    );
    assert_eq!(
        found,
        vec![
            vec!["db".to_string(), "DbConn".into()],
            vec!["domain".to_string(), "visit".into(), "per_month".into()],
        ]
    );
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
