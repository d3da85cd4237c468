//! The crate's module order as a checked property (see the crate doc): a module may name
//! `crate::<module>` only for modules before it in [`LAYERS`], so no two modules import
//! each other. Reads the source files, so a new backward `use` fails `cargo test`.

use std::path::{Path, PathBuf};

/// The top-level modules, bottom first, in named layers. A file under `src/<module>` (or
/// `src/<module>.rs`) may name `crate::<other>` only when `<other>` stands earlier in this
/// list or is its own module. Test modules are exempt: a test may drive the whole crate.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "vocabulary",
        &[
            "path_map",
            "model",
            "json_config",
            "eval",
            "file_text",
            "finding",
            "options",
            "source",
        ],
    ),
    (
        "engine",
        &[
            "context",
            "decided",
            "fix",
            "rules",
            "shared_parses",
            "load",
            "plan",
            "lint",
        ],
    ),
    ("output", &["suppress", "baseline", "render", "config"]),
    ("shell", &["cli", "fuzz", "lib", "main"]),
];

/// The position of a top-level module in [`LAYERS`], with its layer's name.
fn position(module: &str) -> Option<(usize, &'static str)> {
    LAYERS
        .iter()
        .flat_map(|(layer, modules)| modules.iter().map(move |m| (*m, *layer)))
        .enumerate()
        .find(|(_, (m, _))| *m == module)
        .map(|(i, (_, layer))| (i, layer))
}

/// The module that `crate::<name>` reaches: a module, or an item the crate root re-exports
/// (`pub use lint::{lint, ..}`, `pub use finding::{Finding, ..}`), read from `lib.rs`.
fn module_of(name: &str, reexports: &[(String, String)]) -> Option<String> {
    if position(name).is_some() {
        return Some(name.to_string());
    }
    reexports
        .iter()
        .find(|(item, _)| item == name)
        .map(|(_, module)| module.clone())
}

/// `(item, module)` for each `pub use module::{item, ..};` of `lib.rs`.
fn root_reexports(lib: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        for item in items
            .trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace())
            .split(',')
        {
            let item = item.trim();
            if !item.is_empty() {
                found.push((item.to_string(), module.trim().to_string()));
            }
        }
    }
    found
}

/// Every name `text` reaches through `crate::` outside test modules and comments, with
/// its line: `crate::a::b` gives `a`; `use crate::{a, b::c}` gives `a` and `b`, also when
/// the group goes on over several lines.
fn crate_names(text: &str) -> Vec<(usize, String)> {
    names_after(text, "crate::")
}

/// [`crate_names`] for any path prefix (`super::`).
fn names_after(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let lines = lines_outside_test_modules(text);
    let mut found = Vec::new();
    for (i, &(n, line)) in lines.iter().enumerate() {
        for (at, _) in line.match_indices(prefix) {
            if line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // `other_crate::x` or `$crate::x`
            }
            let rest = &line[at + prefix.len()..];
            let Some(group) = rest.strip_prefix('{') else {
                found.push((n, leading_name(rest)));
                continue;
            };
            let mut text = group.to_string();
            for (_, next) in &lines[i + 1..] {
                if text.matches('}').count() > text.matches('{').count() {
                    break; // the group closed
                }
                text.push_str(next);
            }
            let mut depth = 0;
            let mut item = String::new();
            for c in text.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push((n, leading_name(&item)));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.push((n, leading_name(&item)));
        }
    }
    found.retain(|(_, name)| !name.is_empty() && name != "self");
    found
}

fn leading_name(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The lines of `text` outside `#[cfg(test)] mod name { .. }` blocks and `//` comments,
/// numbered from 1, comments after code cut off. Relies on rustfmt's layout: a module's
/// closing brace stands alone at its indentation.
fn lines_outside_test_modules(text: &str) -> Vec<(usize, &str)> {
    let mut kept = Vec::new();
    let mut cfg_test = false;
    let mut test_module_end: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if let Some(end) = &test_module_end {
            if line == end {
                test_module_end = None;
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]" {
            cfg_test = true;
            continue;
        }
        let is_module = ["mod ", "pub mod ", "pub(crate) mod "]
            .iter()
            .any(|p| trimmed.starts_with(p));
        if cfg_test && is_module && trimmed.ends_with('{') {
            let indent = &line[..line.len() - line.trim_start().len()];
            test_module_end = Some(format!("{indent}}}"));
            cfg_test = false;
            continue;
        }
        if !trimmed.starts_with("#[") {
            cfg_test = false;
        }
        let code = trimmed.split("//").next().unwrap_or_default();
        if !code.is_empty() {
            kept.push((n + 1, code));
        }
    }
    kept
}

/// Files that are whole test modules: `#[cfg(test)] mod name;` in `dir/mod.rs` or `dir.rs`.
fn is_test_file(src: &Path, file: &Path) -> bool {
    let (Some(dir), Some(stem)) = (file.parent(), file.file_stem()) else {
        return false;
    };
    let declaration = format!("#[cfg(test)]\nmod {};", stem.to_string_lossy());
    [dir.join("mod.rs"), dir.with_extension("rs")]
        .iter()
        .filter(|parent| parent.starts_with(src) && parent.as_path() != file)
        .filter_map(|parent| std::fs::read_to_string(parent).ok())
        .any(|text| text.replace("\r\n", "\n").contains(&declaration))
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

#[test]
fn every_module_imports_only_modules_before_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let reexports = root_reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "layering.rs" || is_test_file(&src, file) {
            continue;
        }
        let own_name = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let Some((own, own_layer)) = position(own_name) else {
            wrong.push(format!(
                "{rel}: {own_name} is in no layer; add it to LAYERS"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line, name) in crate_names(&text) {
            let Some(module) = module_of(&name, &reexports) else {
                wrong.push(format!("{rel}:{line}: crate::{name} is in no layer"));
                continue;
            };
            let (theirs, their_layer) = position(&module).unwrap();
            if theirs > own {
                wrong.push(format!(
                    "{rel}:{line}: {own_name} ({own_layer}) imports crate::{name}, from \
                     {module} ({their_layer}), which comes after it"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the order of LAYERS:\n{}",
        wrong.join("\n")
    );
}

/// Inside a module directory, the same direction between its files, bottom first: a file
/// may name a sibling (`super::x`) only when the sibling stands earlier. The directory's
/// `mod.rs` (declarations and dispatch) and its test modules are exempt.
const SIBLINGS: &[(&str, &[&str])] = &[("cli", &["flags", "run", "fixes", "check"])];

#[test]
fn files_of_a_module_import_only_earlier_siblings() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for (dir, order) in SIBLINGS {
        let mut files = Vec::new();
        rust_files(&src.join(dir), &mut files);
        for file in &files {
            let stem = file.file_stem().unwrap().to_string_lossy().to_string();
            if stem == "mod" || is_test_file(&src, file) {
                continue;
            }
            let Some(own) = order.iter().position(|m| *m == stem) else {
                wrong.push(format!("{dir}/{stem}.rs: in no order; add it to SIBLINGS"));
                continue;
            };
            let text = std::fs::read_to_string(file).unwrap();
            for (line, name) in names_after(&text, "super::") {
                match order.iter().position(|m| *m == name) {
                    Some(theirs) if theirs >= own => wrong.push(format!(
                        "{dir}/{stem}.rs:{line}: imports {dir}::{name}, which comes after it"
                    )),
                    _ => {} // an earlier sibling, or an item of the parent
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the order of SIBLINGS:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_paths_groups_and_reexports_but_not_tests() {
    let text = "\
use crate::finding::{Finding, Location};
use crate::{
    lint_plan,
    render::{self, Format},
};
pub use crate::path_map::display_path; // crate::ignored

fn f() {
    other_crate::rules::x();
    crate::suppress::apply();
}

#[cfg(test)]
mod tests {
    use crate::cli::run;
}
";
    let names: Vec<(usize, String)> = crate_names(text);
    let names: Vec<(usize, &str)> = names.iter().map(|(n, m)| (*n, m.as_str())).collect();
    assert_eq!(
        names,
        [
            (1, "finding"),
            (2, "lint_plan"),
            (2, "render"),
            (6, "path_map"),
            (10, "suppress")
        ]
    );
    let reexports =
        root_reexports("pub use lint::{lint, lint_plan};\npub use options::LintOptions;");
    assert_eq!(module_of("lint_plan", &reexports).as_deref(), Some("lint"));
    assert_eq!(
        module_of("LintOptions", &reexports).as_deref(),
        Some("options")
    );
    assert_eq!(module_of("render", &reexports).as_deref(), Some("render"));
}
