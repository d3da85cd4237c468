//! `--fix` and `--diff`: apply the safe fixes, lint again, and write the files (atomically)
//! or show what would change.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};

use super::engine;
use super::flags::{CheckArgs, Settings};
use super::run::{lint_once, write_output, LintResult};
use crate::fix::applicable;
use crate::render::display_path;
use crate::{FileError, Finding};

pub(super) type Diff = (PathBuf, String, String);

/// `--fix`: apply safe fixes (several passes while they keep changing files), re-lint and
/// return the remaining report, the number of findings fixed, and for `--diff` the changes.
pub(super) fn fix(args: &CheckArgs, settings: &Settings) -> Result<(LintResult, usize, Vec<Diff>)> {
    let first = lint_once(args, settings);
    let key = |f: &Finding| (f.rule, f.resource.clone(), f.file.clone());
    let fixable_at_start: BTreeSet<_> = first
        .report
        .findings
        .iter()
        .filter(|f| applicable(f))
        .map(key)
        .collect();

    let mut current = first;
    let mut write_errors = Vec::new();
    let mut diffs = Vec::new();
    for _ in 0..crate::fix::PASSES {
        let mut by_file: BTreeMap<PathBuf, Vec<Finding>> = BTreeMap::new();
        for f in current.report.findings.iter().filter(|f| applicable(f)) {
            by_file.entry(f.file.clone()).or_default().push(f.clone());
        }
        let mut changed = false;
        for (file, findings) in by_file {
            // Never into modules `terraform init` downloaded: the next init overwrites them
            // (the engine gives their findings no edits; this holds whatever it gives).
            if write_errors.iter().any(|e: &FileError| e.file == file)
                || crate::context::is_downloaded(&file)
            {
                continue;
            }
            let Some(before) = current.sources.get(&file) else {
                continue;
            };
            let after = (engine().fix)(before, &findings);
            if after == before {
                continue;
            }
            if args.diff {
                diffs.push((file, before.to_string(), after));
                continue;
            }
            match write_atomic(&file, after.as_bytes()) {
                Ok(()) => changed = true,
                Err(e) => write_errors.push(FileError {
                    file: file.clone(),
                    line: None,
                    column: None,
                    message: format!("cannot write the fixes: {e:#}"),
                }),
            }
        }
        if args.diff || !changed {
            break;
        }
        current = lint_once(args, settings);
    }
    if args.diff {
        let fixed = current
            .report
            .findings
            .iter()
            .filter(|f| applicable(f))
            .filter(|f| diffs.iter().any(|d| d.0 == f.file))
            .count();
        return Ok((current, fixed, diffs));
    }
    let remaining: BTreeSet<_> = current.report.findings.iter().map(key).collect();
    let fixed = fixable_at_start.difference(&remaining).count();
    current.report.errors.extend(write_errors);
    Ok((current, fixed, diffs))
}

/// Replaces `path` with `bytes` atomically: a temporary file beside the real one (after
/// following symlinks), the original permissions, then a rename.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let real =
        fs::canonicalize(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let dir = real
        .parent()
        .ok_or_else(|| anyhow!("{} has no directory", real.display()))?;
    let name = real
        .file_name()
        .ok_or_else(|| anyhow!("{} has no file name", real.display()))?
        .to_string_lossy();
    let permissions = fs::metadata(&real)?.permissions();
    let tmp = dir.join(format!(".{name}.drlint-{}.tmp", std::process::id()));
    let write = || -> Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::set_permissions(&tmp, permissions.clone())?;
        fs::rename(&tmp, &real)?;
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// `--fix --diff`: unified diffs on the output, a summary on stderr. Exit 1 when there is
/// something to fix, 2 on file errors, else 0.
pub(super) fn print_diffs(
    args: &CheckArgs,
    result: &LintResult,
    diffs: &[Diff],
    fixable: usize,
) -> Result<ExitCode> {
    let color = args.output.is_none()
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && io::stdout().is_terminal();
    let mut out = String::new();
    for (file, before, after) in diffs {
        let name = display_path(file);
        let diff = similar::TextDiff::from_lines(before.as_str(), after.as_str());
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string();
        for line in text.split_inclusive('\n') {
            let paint = match line.as_bytes().first() {
                _ if !color => None,
                Some(b'+') if !line.starts_with("+++") => Some("32"),
                Some(b'-') if !line.starts_with("---") => Some("31"),
                Some(b'@') => Some("36"),
                _ => None,
            };
            match paint {
                Some(code) => out.push_str(&format!(
                    "\x1b[{code}m{}\x1b[0m\n",
                    line.trim_end_matches('\n')
                )),
                None => out.push_str(line),
            }
        }
    }
    write_output(args.output.as_deref(), out.as_bytes())?;
    for e in &result.report.errors {
        let pos = e.line.map(|l| format!(":{l}")).unwrap_or_default();
        say!("error: {}{pos}: {}", display_path(&e.file), e.message);
    }
    if diffs.is_empty() {
        say!("drlint: no safe fixes to apply");
    } else {
        say!(
            "drlint: would fix {fixable} finding{} in {} file{} (run `drlint --fix` to apply)",
            if fixable == 1 { "" } else { "s" },
            diffs.len(),
            if diffs.len() == 1 { "" } else { "s" }
        );
    }
    Ok(if !result.report.errors.is_empty() {
        ExitCode::from(2)
    } else if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
