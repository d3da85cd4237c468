//! drlint parses what Terraform parses: every `.tf` file of the examples and the rule
//! fixtures that `terraform fmt` accepts (its parser is Terraform's own) parses in drlint
//! too. A file Terraform accepts and drlint refuses would drop a whole file from a lint
//! with exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn terraform() -> PathBuf {
    let path = std::env::var_os("TERRAFORM")
        .map_or_else(|| PathBuf::from("/usr/local/bin/terraform"), PathBuf::from);
    assert!(
        path.is_file(),
        "terraform is needed for the parse corpus test: install it at {} or set TERRAFORM",
        path.display()
    );
    path
}

fn tf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == ".terraform") {
                continue;
            }
            tf_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "tf") {
            out.push(path);
        }
    }
}

/// Whether Terraform's own parser accepts the file (`fmt` exits 2 on a syntax error).
fn terraform_parses(file: &Path) -> bool {
    Command::new(terraform())
        .args(["fmt", "-write=false", "-list=false", "-no-color"])
        .arg(file)
        .output()
        .expect("run terraform fmt")
        .status
        .success()
}

#[test]
fn every_file_terraform_accepts_in_examples_and_fixtures_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    tf_files(&root.join("../examples"), &mut files);
    tf_files(&root.join("tests/fixtures"), &mut files);
    files.sort();
    assert!(files.len() > 50, "only {} files found", files.len());
    let mut accepted = 0;
    let mut refused = Vec::new();
    for file in &files {
        if !terraform_parses(file) {
            continue;
        }
        accepted += 1;
        if let Err(e) = drlint::source::read_and_parse(file) {
            refused.push(format!(
                "{}:{}: {}",
                file.display(),
                e.line.unwrap_or(0),
                e.message
            ));
        }
    }
    assert!(
        refused.is_empty(),
        "Terraform parses these, drlint does not:\n{}",
        refused.join("\n")
    );
    // The repeated-key fixture is in the corpus, and Terraform accepts it.
    assert!(files
        .iter()
        .any(|f| f.to_string_lossy().contains("repeated_key")));
    assert!(
        accepted * 10 >= files.len() * 9,
        "{accepted} of {}",
        files.len()
    );
}
