//! `docs/rules/` is generated from the rules' own documentation: a stale page fails here.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p drlint --test rule_docs`.

use std::path::{Path, PathBuf};

use drlint::rules::{doc_index, doc_page, RULES};

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules")
}

#[test]
fn rule_pages_are_current() {
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let dir = docs_dir();
    let mut pages: Vec<(PathBuf, String)> = RULES
        .iter()
        .map(|m| (dir.join(format!("{}.md", m.code)), doc_page(m)))
        .collect();
    pages.push((dir.join("index.md"), doc_index()));
    let mut stale = Vec::new();
    for (path, want) in pages {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale rule docs: {stale:?}\nregenerate with `UPDATE_DOCS=1 cargo test -p drlint --test rule_docs`"
    );
}

#[test]
fn every_rule_page_has_the_sections_users_look_for() {
    for m in RULES {
        let page = doc_page(m);
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
            "## Fix safety",
            "## References",
        ] {
            assert!(page.contains(section), "{}: no {section:?}", m.code);
        }
        assert!(page.contains("```hcl"), "{}: no HCL example", m.code);
    }
}
