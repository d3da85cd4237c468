//! The crate's layering as a checked property: each layer imports only the layers below it
//! (see the crate doc). Reads the source files, so a new upward `use` fails `cargo test`.

use std::path::{Path, PathBuf};

/// Named layers, bottom first, each a list of modules.
type Layers = &'static [(&'static str, &'static [&'static str])];

/// Layers from the bottom up: a file may name `crate::<module>` only for modules in its own
/// layer or below. Paths are relative to `src/`; a directory covers every file under it.
const LAYERS: Layers = &[
    (
        "base",
        &[
            "shape.rs",
            "diagnostics.rs",
            "schema_helpers.rs",
            "aws.rs",
            "restore_placement.rs",
        ],
    ),
    ("state", &["state"]),
    (
        "logic",
        &[
            "policy",
            "status",
            "drill.rs",
            "drill_record.rs",
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

/// Inside a module directory, the same direction between siblings: its files in layers,
/// bottom first, and in each layer in the order they may import one another. A file may
/// name a sibling (`super::x`, `crate::<dir>::x`) only when the sibling stands earlier in
/// this list. The directory's `mod.rs` (declarations and re-exports) and its test modules
/// are exempt. `policy/mod.rs` says what each layer is for.
const SIBLING_LAYERS: &[(&str, Layers)] = &[(
    "policy",
    &[
        ("vocabulary", &["blocks", "errors", "claims"]),
        (
            "AWS adapters",
            &["rds_settings", "rds_wait", "rds", "rds_cluster", "s3"],
        ),
        (
            "pure decisions",
            &[
                "windows",
                "retention",
                "validate",
                "sync",
                "source_settings",
                "desired",
                "defaults",
                "live_checks",
            ],
        ),
        (
            "orchestration",
            &["release", "aurora", "plan", "lifecycle", "apply", "observe"],
        ),
    ],
)];

/// The siblings a file in `dir` names outside its test modules: `super::x`,
/// `super::{x, y::z}` (also across lines) and `crate::<dir>::x`, with their line.
fn sibling_modules(text: &str, dir: &str) -> Vec<(usize, String)> {
    let crate_prefix = format!("crate::{dir}::");
    let lines = lines_outside_test_modules(text);
    let mut found = Vec::new();
    for (i, &(n, line)) in lines.iter().enumerate() {
        let line = line.split("//").next().unwrap_or_default();
        for prefix in ["super::", crate_prefix.as_str()] {
            for (at, _) in line.match_indices(prefix) {
                if line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue; // `a::super::x` or `other_crate::policy::x`: not a sibling
                }
                let rest = &line[at + prefix.len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    // A group may go on over the next lines until its braces close.
                    let mut text = group.to_string();
                    let mut next = i + 1;
                    while text.matches('{').count() >= text.matches('}').count()
                        && next < lines.len()
                    {
                        text.push_str(lines[next].1);
                        next += 1;
                    }
                    let mut depth = 0;
                    let mut item = String::new();
                    for c in text.chars() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => break,
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                found.push((n, item.clone()));
                                item.clear();
                                continue;
                            }
                            _ => {}
                        }
                        item.push(c);
                    }
                    found.push((n, item));
                } else {
                    found.push((n, rest.to_string()));
                }
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(n, path)| {
            let name: String = path
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "self").then_some((n, name))
        })
        .collect()
}

#[test]
fn sibling_modules_import_only_earlier_siblings() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_files = test_module_files(&src, &files);
    let mut wrong = Vec::new();
    for (dir, layers) in SIBLING_LAYERS {
        let order: Vec<(&str, &str)> = layers
            .iter()
            .flat_map(|(layer, modules)| modules.iter().map(move |m| (*m, *layer)))
            .collect();
        let position = |name: &str| order.iter().position(|(m, _)| *m == name);
        for file in files.iter().filter(|f| f.parent() == Some(&src.join(dir))) {
            let stem = file.file_stem().unwrap().to_string_lossy().to_string();
            if stem == "mod" || test_files.contains(file) {
                continue;
            }
            let Some(own) = position(&stem) else {
                wrong.push(format!(
                    "{dir}/{stem}.rs: in no layer; add it to SIBLING_LAYERS"
                ));
                continue;
            };
            let text = std::fs::read_to_string(file).unwrap();
            for (line, sibling) in sibling_modules(&text, dir) {
                let Some(theirs) = position(&sibling) else {
                    continue; // an item of the parent or of another crate path, not a sibling
                };
                if theirs >= own {
                    wrong.push(format!(
                        "{dir}/{stem}.rs:{line}: imports {dir}::{sibling} ({} layer), which \
                         does not come before {stem} ({} layer)",
                        order[theirs].1, order[own].1
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the order of SIBLING_LAYERS:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_sibling_check_sees_paths_groups_and_crate_paths_but_not_tests() {
    let text = "\
use super::rds::{tag, tag_map};
use super::{
    aurora,
    claims::{Claims, OWNER_TAG},
    self,
};
use crate::policy::s3::Rule;
use crate::status::x;

fn f() {
    super::windows::parse(); // super::ignored
    other_crate::super_thing();
}

#[cfg(test)]
mod tests {
    use super::apply;
}
";
    let names: Vec<(usize, String)> = sibling_modules(text, "policy");
    let names: Vec<(usize, &str)> = names.iter().map(|(n, m)| (*n, m.as_str())).collect();
    assert_eq!(
        names,
        [
            (1, "rds"),
            (2, "aurora"),
            (2, "claims"),
            (7, "s3"),
            (11, "windows")
        ]
    );
}

/// The lines of `text` outside `#[cfg(test)] mod name { .. }` blocks and outside `//`
/// comments, numbered from 1. Relies on rustfmt's layout: a module's closing brace stands
/// alone at its indentation.
fn lines_outside_test_modules(text: &str) -> Vec<(usize, &str)> {
    let mut kept = Vec::new();
    let mut cfg_test = false;
    // The closing line of the test module we are in, e.g. "}" or "    }".
    let mut test_module_end: Option<String> = None;
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
        kept.push((n + 1, trimmed));
    }
    kept
}

/// The `use` statements of `text` that import with a glob (`*`), with the line each starts
/// on, leaving out those inside a `#[cfg(test)] mod name { .. }` (where `use super::*;` is
/// the usual way to reach the code under test). Multi-line `use` groups are joined first.
fn glob_imports_outside_tests(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut statement: Option<(usize, String)> = None;
    for (n, trimmed) in lines_outside_test_modules(text) {
        let starts_use = trimmed.starts_with("use ")
            || trimmed.starts_with("pub use ")
            || trimmed.starts_with("pub(crate) use ")
            || trimmed.starts_with("pub(super) use ");
        if statement.is_none() && starts_use {
            statement = Some((n, String::new()));
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
