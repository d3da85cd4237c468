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
            "drill_evidence.rs",
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

/// The `use` statements of `text` that import with a glob (`*`), with the line each starts
/// on, leaving out those inside a `#[cfg(test)] mod name { .. }` (where `use super::*;` is
/// the usual way to reach the code under test). Multi-line `use` groups are joined first.
/// Relies on rustfmt's layout: a module's closing brace stands alone at its indentation.
fn glob_imports_outside_tests(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut cfg_test = false;
    // The closing line of the test module we are in, e.g. "}" or "    }".
    let mut test_module_end: Option<String> = None;
    let mut statement: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(end) = &test_module_end {
            if line == end {
                test_module_end = None;
            }
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed == "#[cfg(test)]" {
            cfg_test = true;
            continue;
        }
        let is_module = trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ");
        if cfg_test && is_module && trimmed.ends_with('{') {
            let indent = &line[..line.len() - line.trim_start().len()];
            test_module_end = Some(format!("{indent}}}"));
            cfg_test = false;
            continue;
        }
        if !trimmed.starts_with("#[") {
            cfg_test = false;
        }
        let starts_use = trimmed.starts_with("use ")
            || trimmed.starts_with("pub use ")
            || trimmed.starts_with("pub(crate) use ")
            || trimmed.starts_with("pub(super) use ");
        if statement.is_none() && starts_use {
            statement = Some((n + 1, String::new()));
        }
        if let Some((start, text)) = &mut statement {
            text.push_str(trimmed);
            if trimmed.ends_with(';') {
                if text.contains('*') {
                    found.push((*start, text.clone()));
                }
                statement = None;
            }
        }
    }
    found
}

/// Files that are whole test modules: declared as `#[cfg(test)] mod name;` by their parent.
fn test_module_files(src: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut tests = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy();
        // `mod.rs`, `lib.rs` and `main.rs` declare children beside them; `a.rs` in `a/`.
        let dir = if ["mod", "lib", "main"].contains(&stem.as_ref()) {
            file.parent().unwrap().to_path_buf()
        } else {
            file.parent().unwrap().join(stem.as_ref())
        };
        let mut lines = text.lines().map(str::trim).peekable();
        while let Some(line) = lines.next() {
            if line != "#[cfg(test)]" {
                continue;
            }
            let Some(name) = lines
                .peek()
                .and_then(|next| next.strip_prefix("mod "))
                .and_then(|rest| rest.strip_suffix(';'))
            else {
                continue;
            };
            tests.push(dir.join(format!("{name}.rs")));
            tests.push(dir.join(name).join("mod.rs"));
        }
    }
    tests.retain(|t| t.starts_with(src));
    tests
}

#[test]
fn no_glob_imports_outside_test_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_files = test_module_files(&src, &files);
    let mut globs = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let rel = file.strip_prefix(&src).unwrap().display();
        // A glob hides where a name comes from and lets a module lean on whatever its parent
        // happens to import. Test modules may still `use super::*;`.
        if test_files.contains(file) {
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if (l.starts_with("use self::") || l.starts_with("use crate::")) && l.contains('*')
                {
                    globs.push(format!("{rel}:{}: {l}", n + 1));
                }
            }
            continue;
        }
        for (line, statement) in glob_imports_outside_tests(&text) {
            globs.push(format!("{rel}:{line}: {statement}"));
        }
    }
    assert!(globs.is_empty(), "glob imports:\n{}", globs.join("\n"));
}

#[test]
fn the_glob_check_sees_module_level_globs_and_skips_test_modules() {
    let text = "\
//! A module.

use super::*;
use super::plan::{
    a,
    *,
};
use std::fmt;

fn f() {
    use Kind::*;
}

#[cfg(test)]
mod tests {
    use super::*;

    mod inner {
        use super::*;
    }
}

#[cfg(test)]
#[allow(dead_code)]
mod more_tests {
    use super::*;
}

mod not_tests {
    use super::*;
}
";
    let lines: Vec<usize> = glob_imports_outside_tests(text)
        .into_iter()
        .map(|(line, _)| line)
        .collect();
    assert_eq!(lines, [3, 4, 11, 30]);
}

#[test]
fn test_module_files_are_those_declared_under_cfg_test() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_files = test_module_files(&src, &files);
    assert!(test_files.contains(&src.join("policy/tests.rs")));
    assert!(test_files.contains(&src.join("layering.rs")));
    assert!(!test_files.contains(&src.join("policy/apply.rs")));
}
