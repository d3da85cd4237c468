//! The documentation stays true to the code: every fenced HCL block in the pages parses,
//! every example lints clean (or says with a reasoned suppression why not), and every drlint
//! flag a page names exists.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files below `dir` (recursively) whose extension is `ext`.
fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// Every Markdown page users read: `docs/` (recursively), the README and the examples' READMEs.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    walk(&repo().join("docs"), "md", &mut pages);
    walk(&repo().join("examples"), "md", &mut pages);
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

/// The lines of a Markdown text outside fenced blocks, with their numbers (from 1).
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            out.push((n, line));
        }
    }
    out
}

/// Relative link targets of a Markdown text outside code: `[text](target)` and
/// `[label]: target`, with their line numbers.
fn relative_links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in prose_lines(text) {
        // Code spans are text, not links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut targets: Vec<&str> = Vec::new();
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            targets.push(rest[..end].split_whitespace().next().unwrap_or_default());
            rest = &rest[end..];
        }
        let trimmed = prose.trim_start();
        if trimmed.starts_with('[') {
            if let Some((_, target)) = trimmed.split_once("]: ") {
                targets.push(target.split_whitespace().next().unwrap_or_default());
            }
        }
        for target in targets {
            let external = target.contains("://") || target.starts_with("mailto:");
            if !target.is_empty() && !external {
                found.push((n + 1, target.to_string()));
            }
        }
    }
    found
}

/// The anchors GitHub gives a page: each heading's slug (lower case, punctuation dropped,
/// spaces as hyphens, `-1`, `-2` for repeats) and every `<a id="...">`.
fn anchors(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (_, line) in prose_lines(text) {
        if let Some(heading) = line.strip_prefix('#') {
            let heading = heading.trim_start_matches('#').trim();
            let slug: String = heading
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect();
            let repeats = found
                .iter()
                .filter(|a| {
                    **a == slug
                        || a.strip_prefix(&format!("{slug}-"))
                            .is_some_and(|n| n.parse::<u32>().is_ok())
                })
                .count();
            found.push(if repeats == 0 {
                slug
            } else {
                format!("{slug}-{repeats}")
            });
        }
        let mut rest = line;
        while let Some(at) = rest.find("<a id=\"") {
            rest = &rest[at + 7..];
            let end = rest.find('"').unwrap_or(rest.len());
            found.push(rest[..end].to_string());
        }
    }
    found
}

/// What is wrong with the relative links of `page`: a file that does not exist, or an
/// anchor its Markdown target does not have.
fn broken_links(page: &Path, text: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    for (line, target) in relative_links(text) {
        let (file, anchor) = match target.split_once('#') {
            Some((file, anchor)) => (file, Some(anchor)),
            None => (target.as_str(), None),
        };
        let path = if file.is_empty() {
            page.to_path_buf()
        } else {
            page.parent().unwrap().join(file)
        };
        if !path.exists() {
            wrong.push(format!("{line}: {target}: no such file"));
            continue;
        }
        if let Some(anchor) = anchor {
            if path.extension().is_some_and(|e| e == "md") {
                let target_text = std::fs::read_to_string(&path).unwrap();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    wrong.push(format!("{line}: {target}: no heading with that anchor"));
                }
            }
        }
    }
    wrong
}

#[test]
fn every_relative_link_between_pages_resolves() {
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let rel = page.strip_prefix(repo()).unwrap().display().to_string();
        wrong.extend(
            broken_links(&page, &text)
                .into_iter()
                .map(|w| format!("{rel}:{w}")),
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_link_reader_finds_missing_files_and_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.md");
    std::fs::write(
        dir.path().join("other.md"),
        "# Other\n\n## Where a fix is `written`\n",
    )
    .unwrap();
    let text = "# Page\n\n## Usage\n\nSee [other](other.md#where-a-fix-is-written), \
                [usage](#usage), [gone](gone.md), [bad](other.md#nowhere), \
                `[not a link](x.md)`, [web](https://example.com/x.md).\n\
                ```md\n[in a fence](fence.md)\n```\n[ref]: missing.md\n";
    std::fs::write(&page, text).unwrap();
    assert_eq!(
        broken_links(&page, text),
        [
            "5: gone.md: no such file",
            "5: other.md#nowhere: no heading with that anchor",
            "9: missing.md: no such file"
        ]
    );
    assert_eq!(
        anchors("# A b\n## A b\n## `--fix` and `.drlint.toml`: CI\n<a id=\"x--y\"></a>\n"),
        ["a-b", "a-b-1", "--fix-and-drlinttoml-ci", "x--y"]
    );
}

/// `docs/....md` and `docs/....md#anchor` references in a text (code, YAML, comments).
fn docs_references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("docs/") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_./#-".contains(c)))
            .unwrap_or(tail.len());
        let reference = tail[..end].trim_end_matches(['.', '#']);
        // `docs/rules/DRNNN.md` in a comment is a pattern, not a page.
        let placeholder = reference.contains("NNN");
        if !placeholder
            && reference
                .split('#')
                .next()
                .is_some_and(|f| f.ends_with(".md"))
        {
            found.push(reference.to_string());
        }
        rest = &tail[end.max(5)..];
    }
    found
}

/// What the code prints or links (`drlint explain`, SARIF `helpUri`, the suppression help,
/// the action's and hooks' comments) points at pages and anchors that exist.
#[test]
fn every_docs_page_the_code_names_exists() {
    let mut files = vec![
        repo().join("action.yml"),
        repo().join(".pre-commit-hooks.yaml"),
    ];
    for crate_dir in ["linter/src", "provider/src", "cli/src", "drill/src"] {
        walk(&repo().join(crate_dir), "rs", &mut files);
    }
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(repo()).unwrap().display().to_string();
        for reference in docs_references(&text) {
            seen += 1;
            let (page, anchor) = match reference.split_once('#') {
                Some((page, anchor)) => (page, Some(anchor)),
                None => (reference.as_str(), None),
            };
            let path = repo().join(page);
            if !path.exists() {
                wrong.push(format!("{rel}: {reference}: no such page"));
            } else if let Some(anchor) = anchor {
                let target = std::fs::read_to_string(&path).unwrap();
                if !anchors(&target).iter().any(|a| a == anchor) {
                    wrong.push(format!("{rel}: {reference}: no heading with that anchor"));
                }
            }
        }
    }
    assert!(seen >= 5, "only {seen} references found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_docs_reference_reader_reads_paths_and_anchors() {
    let text = r#"see docs/drlint.md. and "{REPO}/blob/main/docs/drlint.md#suppressions"; docs/rules/DRNNN.md, docs/rules/ and docs/x.md#a-b"#;
    assert_eq!(
        docs_references(text),
        [
            "docs/drlint.md",
            "docs/drlint.md#suppressions",
            "docs/x.md#a-b"
        ]
    );
}
