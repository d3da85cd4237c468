//! The documentation stays true to the code: every fenced HCL block in the pages parses,
//! every example lints clean (or says with a reasoned suppression why not), and every drlint
//! flag a page names exists.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every Markdown page users read: `docs/` (recursively), the README and the examples' READMEs.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut pages);
    walk(&repo().join("examples"), &mut pages);
    pages.sort();
    pages
}

/// The fenced blocks of a Markdown page: (info string, first line number, text); a fence
/// never closed is `UNCLOSED info`, a line starting with backticks inside a fence that does
/// not close it is `STRAY line`.
fn fences(text: &str) -> Vec<(String, usize, String)> {
    let mut found = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some((info.trim().to_string(), n + 2, String::new()));
                }
            }
            Some((_, _, body)) => {
                // CommonMark: a closing fence has nothing after its backticks.
                if trimmed.starts_with("```") && trimmed.trim_end().trim_matches('`').is_empty() {
                    found.push(open.take().unwrap());
                } else if trimmed.starts_with("```") {
                    // Meant as a close or a new fence, but read as content: the page breaks.
                    found.push((format!("STRAY {trimmed}"), n + 1, String::new()));
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    if let Some((info, line, _)) = open {
        found.push((format!("UNCLOSED {info}"), line, String::new()));
    }
    found
}

#[test]
fn every_fence_is_closed_and_every_hcl_fence_parses() {
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let rel = page.strip_prefix(repo()).unwrap().display().to_string();
        for (info, line, body) in fences(&text) {
            if let Some(info) = info.strip_prefix("UNCLOSED ") {
                wrong.push(format!("{rel}:{line}: ```{info} is never closed"));
                continue;
            }
            if let Some(stray) = info.strip_prefix("STRAY ") {
                wrong.push(format!(
                    "{rel}:{line}: {stray:?} inside a fence is not a closing fence (text after \
                     the backticks): the rest of the page renders as code"
                ));
                continue;
            }
            if !["hcl", "terraform", "tf"].contains(&info.as_str()) {
                continue;
            }
            // The CLI configuration (`.terraformrc`) is read by HCL 1, which allows quoted
            // keys such as `"drkit/dr" = ...`; HCL 2 does not.
            if body.contains("provider_installation") {
                continue;
            }
            if let Err(e) = hcl_edit::parser::parse_body(&body) {
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                wrong.push(format!("{rel}:{line}: ```{info} does not parse: {first}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_fence_reader_sees_unclosed_fences() {
    let text = "a\n```hcl\nx = 1\n```\n\n```text\nnever closed\n``` by text after it\n";
    let found = fences(text);
    assert_eq!(found[0], ("hcl".into(), 3, "x = 1\n".into()));
    assert_eq!(
        found[1],
        ("STRAY ``` by text after it".into(), 8, String::new())
    );
    assert_eq!(found[2].0, "UNCLOSED text");
}

/// Every example configuration is clean, except `examples/drlint/bad`, which exists to trip
/// every rule: run as users run it (the CLI applies suppressions, which must give a reason).
#[test]
fn every_example_lints_clean() {
    let examples = repo().join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("drlint"))
        .collect();
    paths.sort();
    paths.push(examples.join("drlint/fixed"));
    let out = Command::new(env!("CARGO_BIN_EXE_drlint"))
        .args(["--no-config", "--format", "json"])
        .args(&paths)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        serde_json::to_string_pretty(&report).unwrap(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
}

/// `--flag` tokens in lines that run drlint: inline code spans and fenced lines starting
/// with `drlint`.
fn drlint_flags(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut commands: Vec<&str> = line
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|span| span.starts_with("drlint "))
            .collect();
        let trimmed = line.trim_start().trim_start_matches("$ ");
        if trimmed.starts_with("drlint ") {
            commands.push(trimmed);
        }
        for command in commands {
            for word in command.split_whitespace() {
                let word = word.trim_matches(|c: char| "\"'(),;".contains(c));
                if let Some(flag) = word.strip_prefix("--") {
                    let name: String = flag
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    if !name.is_empty() {
                        found.push((n + 1, format!("--{name}")));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_drlint_flag_a_page_names_exists() {
    let help = Command::new(env!("CARGO_BIN_EXE_drlint"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let rel = page.strip_prefix(repo()).unwrap().display().to_string();
        for (line, flag) in drlint_flags(&text) {
            let known = help
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| w == flag);
            if !known {
                missing.push(format!("{rel}:{line}: {flag} is not a drlint flag"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_flag_reader_reads_commands_only() {
    let text = "Run `drlint --fix --diff .` or `cargo build --locked`.\n\
                ```sh\n$ drlint --format=sarif -o out.sarif\npg_dump --no-owner\n```\n";
    let flags: Vec<String> = drlint_flags(text).into_iter().map(|(_, f)| f).collect();
    assert_eq!(flags, ["--fix", "--diff", "--format"]);
}
