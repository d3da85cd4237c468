//! The crate's layering as a checked property: each layer imports only the layers below it
//! (see the crate doc). Reads the source files, so a new upward `use` fails `cargo test`.

use std::path::{Path, PathBuf};

/// Layers from the bottom up: a file may name `crate::<module>` only for modules in its own
/// layer or below. Paths are relative to `src/`; a directory covers every file under it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base",
        &["shape.rs", "diagnostics.rs", "schema_helpers.rs", "aws.rs"],
    ),
    ("state", &["state"]),
    (
        "logic",
        &[
            "policy",
            "status",
            "drill.rs",
            "drill_targets.rs",
            "runbook.rs",
        ],
    ),
    ("adapters", &["resources", "data_sources"]),
    (
        "registration",
        &["provider.rs", "docs.rs", "lib.rs", "main.rs"],
    ),
];

/// The layer of a module named in `crate::<module>` or of a file under `src/`.
fn layer_of(name: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, members)| {
        members.iter().any(|m| {
            let module = m.trim_end_matches(".rs");
            name == *m || name == module || name.starts_with(&format!("{m}/"))
        })
    })
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

/// Every `crate::<module>` named outside comments in `text`.
fn crate_modules(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            if line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `some_crate::`
            }
            let rest = &line[at + "crate::".len()..];
            let module: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !module.is_empty() {
                found.push((n + 1, module));
            }
        }
        if line.contains("use crate::{") {
            found.push((n + 1, "{grouped}".into()));
        }
    }
    found
}

#[test]
fn every_module_imports_only_its_own_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "layering.rs" {
            continue;
        }
        let Some(own) = layer_of(&rel) else {
            upward.push(format!("{rel}: in no layer; add it to LAYERS"));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line, module) in crate_modules(&text) {
            if module == "{grouped}" {
                // `use crate::{a, b}` names modules this check cannot see: only the top may.
                if own < LAYERS.len() - 1 {
                    upward.push(format!("{rel}:{line}: grouped `use crate::{{..}}`"));
                }
                continue;
            }
            match layer_of(&module) {
                Some(theirs) if theirs > own => upward.push(format!(
                    "{rel}:{line}: {} layer imports crate::{module} ({} layer)",
                    LAYERS[own].0, LAYERS[theirs].0
                )),
                Some(_) => {}
                None => upward.push(format!("{rel}:{line}: crate::{module} is in no layer")),
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn no_glob_imports_of_crate_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut globs = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            // Globs over siblings or crate modules hide where a name comes from. (`use
            // super::*;` remains in `mod tests` and, for now, in policy's submodules.)
            if l.starts_with("use self::") && l.contains('*')
                || l.starts_with("use crate::") && l.contains('*')
            {
                globs.push(format!("{}:{}: {l}", file.display(), n + 1));
            }
        }
    }
    assert!(globs.is_empty(), "glob imports:\n{}", globs.join("\n"));
}
