//! Baselines, to adopt drlint on a repository that already has findings (Checkov's
//! `--create-baseline`, ruff's `--add-noqa`): `--write-baseline FILE` records today's
//! findings, `--baseline FILE` reports only the others.
//!
//! An entry is keyed by rule, resource address, attribute and the module directory the
//! finding is in, never by line: edits elsewhere in a file, or moving a block to another
//! file of the same directory, keep it. The directory is part of the key because two
//! root modules may both hold `aws_db_instance.main`. An entry no finding matches any more
//! is stale (the finding was fixed): it is reported as a note, and the next
//! `--write-baseline` leaves it out.
//!
//! The file is JSON, sorted, one entry per finding, with a version field:
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [
//!     {
//!       "rule": "DR003",
//!       "resource": "module.db.aws_db_instance.this",
//!       "attribute": "deletion_protection",
//!       "directory": "modules/db"
//!     }
//!   ]
//! }
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::file_text::Sources;
use crate::finding::Finding;
use crate::path_map::display_path;

/// The format version this drlint writes and reads.
pub const VERSION: u32 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// Rule code.
    pub rule: String,
    /// Terraform address without index.
    pub resource: String,
    /// The attribute or nested block the finding points at; `null` for the whole block.
    pub attribute: Option<String>,
    /// The directory of the file the finding is in, relative to the baseline file's
    /// directory, with `/` separators (`.` for the same directory, `..` above it).
    pub directory: String,
}

impl Entry {
    /// `DR003 module.db.aws_db_instance.this (deletion_protection) in modules/db`.
    pub fn describe(&self) -> String {
        let attribute = self
            .attribute
            .as_deref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        format!(
            "{} {}{attribute} in {}",
            self.rule, self.resource, self.directory
        )
    }

    /// The sort order of the file: by directory, resource, rule, attribute.
    fn order(&self) -> (&str, &str, &str, Option<&str>) {
        (
            &self.directory,
            &self.resource,
            &self.rule,
            self.attribute.as_deref(),
        )
    }
}

/// The file's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// A baseline read from a file.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// What applying a baseline left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The baseline file, as given.
    pub path: PathBuf,
    /// Findings the baseline accepted (not reported).
    pub matched: usize,
    /// Entries no finding matched: fixed since the baseline was written.
    pub stale: Vec<Entry>,
}

/// Reads a baseline; the error says what is wrong with the file.
pub fn read(path: &Path) -> Result<Baseline, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("baseline {}: cannot read: {e}", path.display()))?;
    let file: File = serde_json::from_str(&text).map_err(|e| {
        format!(
            "baseline {}: not a drlint baseline ({e}); write one with `drlint --write-baseline {}`",
            path.display(),
            path.display()
        )
    })?;
    if file.version != VERSION {
        return Err(format!(
            "baseline {}: version {} is not supported (this drlint reads version {VERSION}); write it again with `drlint --write-baseline`",
            path.display(),
            file.version
        ));
    }
    Ok(Baseline {
        path: path.to_path_buf(),
        entries: file.findings,
    })
}

/// Writes `findings` as a baseline at `path` (sorted, pretty, a final newline).
pub fn write(path: &Path, findings: &[Finding], sources: &Sources) -> std::io::Result<usize> {
    let mut keys = Keys::new(sources, path);
    let mut entries: Vec<Entry> = findings.iter().map(|f| keys.entry(f)).collect();
    // Equal keys stay, one per finding: two roots' findings at one address.
    entries.sort_by(|a, b| a.order().cmp(&b.order()));
    let n = entries.len();
    let mut text = serde_json::to_string_pretty(&File {
        version: VERSION,
        findings: entries,
    })
    .map_err(std::io::Error::other)?;
    text.push('\n');
    fs::write(path, text)?;
    Ok(n)
}

/// Removes from `findings` those `baseline` accepts. Entries no finding matched are stale
/// when `judged` says their directory and rule were linted in full this run.
pub fn apply(
    findings: &mut Vec<Finding>,
    baseline: &Baseline,
    sources: &Sources,
    judged: impl Fn(&Entry) -> bool,
) -> Outcome {
    let mut keys = Keys::new(sources, &baseline.path);
    // How many findings each entry accepts (a key written twice accepts two).
    let mut left: BTreeMap<&Entry, usize> = BTreeMap::new();
    for e in &baseline.entries {
        *left.entry(e).or_default() += 1;
    }
    let mut accepted = vec![false; findings.len()];
    for (i, f) in findings.iter().enumerate() {
        if let Some(n) = left.get_mut(&keys.entry(f)).filter(|n| **n > 0) {
            *n -= 1;
            accepted[i] = true;
        }
    }
    // A finding that points at the variable default or `module` block deciding its value
    // was written at the resource's own block by earlier drlint versions (and while the value
    // was set there): an entry for the same rule and resource in the resource's
    // directory still accepts it, whatever attribute it names, so that moving where the
    // finding points does not break a gate that was green.
    for (i, f) in findings.iter().enumerate() {
        let Some(file) = f.resource_file.as_deref().filter(|_| !accepted[i]) else {
            continue;
        };
        let directory = keys.directory(file);
        let there = left.iter_mut().find(|(e, n)| {
            **n > 0 && e.rule == f.rule && e.resource == f.resource && e.directory == directory
        });
        if let Some((_, n)) = there {
            *n -= 1;
            accepted[i] = true;
        }
    }
    let matched = accepted.iter().filter(|a| **a).count();
    let mut verdicts = accepted.into_iter();
    findings.retain(|_| !verdicts.next().unwrap_or(false));
    let stale = left
        .into_iter()
        .filter(|(e, n)| *n > 0 && judged(e))
        .map(|(e, _)| e.clone())
        .collect();
    Outcome {
        path: baseline.path.clone(),
        matched,
        stale,
    }
}

/// The directory baseline paths are relative to: the baseline file's, resolved.
fn base_dir(baseline: &Path) -> PathBuf {
    let parent = match baseline.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::canonicalize(&parent).unwrap_or(parent)
}

/// A directory as an entry names it: relative to `base` (with `..` where it lies beside
/// it), `/`-separated; as drlint shows it when either cannot be resolved.
pub fn directory_key(dir: &Path, base: &Path) -> String {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(resolved) = fs::canonicalize(dir) else {
        return display_path(dir);
    };
    let words = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let (to, from) = (words(&resolved), words(base));
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut parts = vec!["..".to_string(); from.len() - common];
    parts.extend(to[common..].iter().cloned());
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The directory key of `baseline`'s entries for a directory linted this run.
pub fn directory_key_for(dir: &Path, baseline: &Path) -> String {
    directory_key(dir, &base_dir(baseline))
}

/// Makes the baseline entries of findings, resolving each directory once.
struct Keys<'a> {
    sources: &'a Sources,
    base: PathBuf,
    dirs: BTreeMap<PathBuf, String>,
}

impl<'a> Keys<'a> {
    fn new(sources: &'a Sources, baseline: &Path) -> Self {
        Keys {
            sources,
            base: base_dir(baseline),
            dirs: BTreeMap::new(),
        }
    }

    /// The baseline entry of a finding.
    fn entry(&mut self, f: &Finding) -> Entry {
        Entry {
            rule: f.rule.to_string(),
            resource: f.resource.clone(),
            attribute: attribute(f, self.sources),
            directory: self.directory(&f.file),
        }
    }

    /// The directory key of `file`'s directory.
    fn directory(&mut self, file: &Path) -> String {
        let dir = file.parent().unwrap_or(Path::new("."));
        match self.dirs.get(dir) {
            Some(d) => d.clone(),
            None => {
                let d = directory_key(dir, &self.base);
                self.dirs.insert(dir.to_path_buf(), d.clone());
                d
            }
        }
    }
}

/// The attribute or nested block a finding points at: the word at its position, unless
/// that is the block's own header (`resource`, `data`, `module`) or there is no position.
fn attribute(f: &Finding, sources: &Sources) -> Option<String> {
    if f.location.line == 0 || f.location.line == f.block_line {
        return None;
    }
    let text = sources.get(&f.file)?;
    let start = f.location.start.min(text.len());
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    // A finding at a value (`default = true`) is keyed by the attribute holding it.
    let from = if text[line_start..start].trim().is_empty() {
        start
    } else {
        line_start + (text[line_start..].len() - text[line_start..].trim_start().len())
    };
    // A JSON configuration's key is quoted: `"deletion_protection": false`.
    let word: String = text[from..]
        .trim_start_matches('"')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!word.is_empty() && !matches!(word.as_str(), "resource" | "data" | "module")).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Severity};

    fn finding(file: &Path, rule: &'static str, start: usize, line: u32) -> Finding {
        Finding {
            rule,
            name: "n",
            severity: Severity::Error,
            resource: "aws_db_instance.main".into(),
            file: file.to_path_buf(),
            location: Location {
                line,
                column: 3,
                start,
                end: start + 1,
            },
            block_line: 1,
            message: "m".into(),
            fix: None,
            suppress_at: Vec::new(),
            resource_file: None,
        }
    }

    /// A directory with `main.tf` holding [`TF`], and its text.
    fn one_file() -> (tempfile::TempDir, std::path::PathBuf, Sources) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("main.tf");
        fs::write(&file, TF).unwrap();
        let mut sources = Sources::default();
        sources.insert(&file);
        (dir, file, sources)
    }

    const TF: &str = "resource \"aws_db_instance\" \"main\" {\n  deletion_protection = false\n}\n";

    #[test]
    fn entries_name_the_attribute_not_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db/main.tf");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, TF).unwrap();
        let mut sources = Sources::default();
        sources.insert(&file);
        let at = TF.find("deletion").unwrap();
        let mut keys = Keys::new(&sources, &dir.path().join("baseline.json"));
        let e = keys.entry(&finding(&file, "DR003", at, 2));
        assert_eq!(e.attribute.as_deref(), Some("deletion_protection"));
        assert_eq!(e.directory, "db");
        let header = keys.entry(&finding(&file, "DR010", 0, 1));
        assert_eq!(header.attribute, None);
        // At the value: the attribute that holds it.
        let value = keys.entry(&finding(&file, "DR003", TF.find("false").unwrap(), 2));
        assert_eq!(value.attribute.as_deref(), Some("deletion_protection"));
    }

    #[test]
    fn a_written_baseline_accepts_its_findings_and_reports_stale_entries() {
        let (dir, file, sources) = one_file();
        let at = TF.find("deletion").unwrap();
        let path = dir.path().join("drlint-baseline.json");
        let both = [
            finding(&file, "DR003", at, 2),
            finding(&file, "DR010", 0, 1),
        ];
        assert_eq!(write(&path, &both, &sources).unwrap(), 2);
        let baseline = read(&path).unwrap();
        // DR010 was fixed, DR005 is new.
        let mut now = vec![
            finding(&file, "DR003", at, 2),
            finding(&file, "DR005", 0, 1),
        ];
        let outcome = apply(&mut now, &baseline, &sources, |_| true);
        assert_eq!(outcome.matched, 1);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].rule, "DR005");
        assert_eq!(outcome.stale.len(), 1);
        assert_eq!(outcome.stale[0].rule, "DR010");
    }

    /// A baseline written while DR004 pointed at `backup_retention_period = var.days` in
    /// the module still accepts the finding once it points at the variable's default (or
    /// at the caller's `module` block, in another directory), and the entry is not stale.
    #[test]
    fn an_entry_at_the_resource_accepts_the_finding_that_moved_to_its_deciding_value() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("modules/db/main.tf");
        let variables = dir.path().join("modules/db/variables.tf");
        let root = dir.path().join("main.tf");
        fs::create_dir_all(module.parent().unwrap()).unwrap();
        let resource =
            "resource \"aws_db_instance\" \"main\" {\n  backup_retention_period = var.days\n}\n";
        let variable = "variable \"days\" {\n  default = 0\n}\n";
        let call = "module \"db\" {\n  source = \"./modules/db\"\n  days = 0\n}\n";
        let mut sources = Sources::default();
        for (file, text) in [(&module, resource), (&variables, variable), (&root, call)] {
            fs::write(file, text).unwrap();
            sources.insert(file);
        }
        let path = dir.path().join("drlint-baseline.json");
        let old = finding(&module, "DR004", resource.find("backup").unwrap(), 2);
        write(&path, &[old], &sources).unwrap();
        let baseline = read(&path).unwrap();
        assert_eq!(
            baseline.entries[0].attribute.as_deref(),
            Some("backup_retention_period")
        );
        for (file, at) in [
            (&variables, variable.find("default").unwrap()),
            (&root, call.find("days").unwrap()),
        ] {
            let mut moved = finding(file, "DR004", at, 2);
            moved.resource_file = Some(module.clone());
            let mut now = vec![moved.clone()];
            let outcome = apply(&mut now, &baseline, &sources, |_| true);
            assert_eq!((outcome.matched, now.len()), (1, 0), "{}", file.display());
            assert!(outcome.stale.is_empty());
            // Another rule, or a finding decided at its own block, is not accepted so.
            let mut other = vec![Finding {
                rule: "DR016",
                ..moved.clone()
            }];
            assert_eq!(apply(&mut other, &baseline, &sources, |_| true).matched, 0);
            let mut unmoved = vec![Finding {
                resource_file: None,
                ..moved
            }];
            assert_eq!(
                apply(&mut unmoved, &baseline, &sources, |_| true).matched,
                0
            );
        }
    }

    /// JSON configuration syntax quotes its keys: the key is the attribute.
    #[test]
    fn a_json_key_is_the_attribute() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cdk.tf.json");
        let json = "{\"resource\": {\"aws_db_instance\": {\"db\": {\n  \"deletion_protection\": false\n}}}}\n";
        fs::write(&file, json).unwrap();
        let mut sources = Sources::default();
        sources.insert(&file);
        let at = json.find("\"deletion").unwrap();
        let mut keys = Keys::new(&sources, &dir.path().join("baseline.json"));
        let e = keys.entry(&finding(&file, "DR003", at, 2));
        assert_eq!(e.attribute.as_deref(), Some("deletion_protection"));
    }

    /// Two root modules calling one module under one name, with different values: two
    /// findings at one address and attribute, two entries, both accepted.
    #[test]
    fn equal_keys_are_kept_one_per_finding() {
        let (dir, file, sources) = one_file();
        let at = TF.find("deletion").unwrap();
        let mut twice = vec![
            finding(&file, "DR003", at, 2),
            finding(&file, "DR003", at, 2),
        ];
        twice[1].message = "another root's value".into();
        let path = dir.path().join("b.json");
        assert_eq!(write(&path, &twice, &sources).unwrap(), 2);
        let outcome = apply(&mut twice, &read(&path).unwrap(), &sources, |_| true);
        assert_eq!((outcome.matched, twice.len()), (2, 0));
        assert!(outcome.stale.is_empty());
    }

    #[test]
    fn directories_are_relative_to_the_baseline_file() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["ci", "infra/db"] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let base = base_dir(&dir.path().join("ci/baseline.json"));
        assert_eq!(
            directory_key(&dir.path().join("infra/db"), &base),
            "../infra/db"
        );
        assert_eq!(directory_key(&dir.path().join("ci"), &base), ".");
        let root = base_dir(&dir.path().join("baseline.json"));
        assert_eq!(
            directory_key(&dir.path().join("infra/db"), &root),
            "infra/db"
        );
    }

    #[test]
    fn other_versions_and_shapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        fs::write(&path, "{\"version\": 2, \"findings\": []}").unwrap();
        assert!(read(&path).unwrap_err().contains("version 2"));
        fs::write(&path, "[]").unwrap();
        assert!(read(&path).unwrap_err().contains("not a drlint baseline"));
    }
}
