//! One lint run: the engine over the files `check` names, then what the engine may not
//! know (configuration filters, paths made openable, inline suppressions); and where its
//! output goes. `check` and `--fix` both run it.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::engine;
use super::flags::{CheckArgs, Settings};
use crate::finding::same_file;
use crate::path_map::PathMap;
use crate::render::{display_path, Sources};
use crate::suppress::{self, Suppressed};
use crate::{FileError, LintedPlan, Report};

pub(super) fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(path) => fs::write(path, bytes)
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// A lint run after configuration filters and inline suppressions.
pub(super) struct LintResult {
    pub(super) report: Report,
    pub(super) suppressed: Vec<Suppressed>,
    pub(super) sources: Sources,
    /// The directories whose every file this run reported on (for stale baseline
    /// entries); `None` when only some files were named.
    pub(super) linted_dirs: Option<BTreeSet<PathBuf>>,
}

pub(super) fn lint_once(args: &CheckArgs, settings: &Settings) -> LintResult {
    let mut options = settings.options.clone();
    let mut missing = Vec::new();
    if args.plan.is_none() {
        // A path that does not exist is a file error; the others are still linted.
        options.paths.retain(|p| {
            let exists = p.exists();
            if !exists {
                missing.push(FileError {
                    file: p.clone(),
                    line: None,
                    column: None,
                    message: "no such file or directory".into(),
                });
            }
            exists
        });
    }
    let mut report = match &args.plan {
        Some(plan) if !plan.is_file() => Report {
            errors: vec![FileError {
                file: plan.clone(),
                line: None,
                column: None,
                message:
                    "no such plan file: create it with `terraform show -json tfplan > plan.json`"
                        .into(),
            }],
            plan: Some(LintedPlan {
                path: plan.clone(),
                resources: None,
            }),
            ..Report::default()
        },
        Some(plan) => (engine().lint_plan)(plan, &options),
        None if options.paths.is_empty() => Report::default(),
        None => (engine().lint)(&options),
    };
    report.errors.splice(0..0, missing);
    if args.plan.is_none() && (report.files == 0 || options.paths.len() > 1) {
        for path in options.paths.iter().filter(|p| p.is_dir()) {
            if !has_terraform_files(path, &mut BTreeSet::new()) {
                report.errors.push(FileError {
                    file: path.clone(),
                    line: None,
                    column: None,
                    message: format!(
                        "no Terraform files under {} (no *.tf or *.tf.json file in it or below): a mistyped path or an empty checkout",
                        display_path(path)
                    ),
                });
            }
        }
    }
    postprocess(report, settings)
}

/// Whether `dir` or a directory below it holds a `*.tf` or `*.tf.json` file, looking
/// where the engine looks (not in hidden directories such as `.terraform`, nor in
/// `node_modules`), each real directory once (symlink loops).
pub(super) fn has_terraform_files(dir: &Path, visited: &mut BTreeSet<PathBuf>) -> bool {
    let real = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !visited.insert(real) {
        return false;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if path.is_dir() {
            if !name.starts_with('.') && name != "node_modules" {
                subdirs.push(path);
            }
        } else if name.ends_with(".tf") || name.ends_with(".tf.json") {
            return true;
        }
    }
    subdirs.iter().any(|d| has_terraform_files(d, visited))
}

/// Applies what the engine may not know about: paths made openable from the working
/// directory, `exclude`, rule selection and severities (idempotent if the engine did it),
/// then suppressions.
pub(super) fn postprocess(mut report: Report, settings: &Settings) -> LintResult {
    let opts = &settings.options;
    // Once per file, not per finding: each answer costs a `stat` or more. `texts` is
    // keyed by the engine's names, so remember which openable path each one became.
    let mut opened: PathMap<PathBuf> = PathMap::default();
    let mut engine_name: PathMap<PathBuf> = PathMap::default();
    let texts = std::mem::take(&mut report.texts);
    let mut openable_once = |file: &Path| {
        let o = opened
            .get_or_insert_with(file, || {
                // A file the engine read under this name opens under it: no `stat`.
                if texts.contains_key(file) {
                    clean_dots(file)
                } else {
                    openable(file, &opts.paths)
                }
            })
            .clone();
        engine_name.get_or_insert_with(&o, || file.to_path_buf());
        o
    };
    // Findings come grouped by file: the previous answer serves the next finding without
    // a lookup (146,040 findings in one file made these lookups a tenth of a lint), and a
    // path that is already openable is left as it is instead of copied.
    let mut last: Option<(PathBuf, PathBuf)> = None;
    let mut openable_last = |file: &mut PathBuf| {
        if !matches!(&last, Some((from, _)) if from.as_os_str() == file.as_os_str()) {
            last = Some((file.clone(), openable_once(file)));
        }
        if let Some((_, to)) = &last {
            if to.as_os_str() != file.as_os_str() {
                *file = to.clone();
            }
        }
    };
    for f in &mut report.findings {
        openable_last(&mut f.file);
        for (file, _) in &mut f.suppress_at {
            openable_last(file);
        }
        if let Some(file) = &mut f.resource_file {
            openable_last(file);
        }
    }
    for e in &mut report.errors {
        e.file = openable_once(&e.file);
    }
    for u in &mut report.unknown {
        u.file = openable_once(&u.file);
    }
    // The files this run reports on, for stale baseline entries (only with a baseline).
    let linted_files: Vec<PathBuf> = texts
        .keys()
        .filter(|_| settings.baseline.is_some())
        .map(&mut openable_once)
        .collect();
    // The files whose suppressions are judged as a whole (DR900, DR901, DR902): those that
    // mention drlint (a `drlint:ignore`, or something meant as one) the engine read.
    let with_suppressions: Vec<PathBuf> = if settings.expired.is_some()
        || settings.unused.is_some()
        || settings.malformed.is_some()
    {
        // `drlint`, `Drlint`, `DRLINT`: two passes over the bytes, not one per spelling.
        let mentions = |bytes: &[u8]| {
            memchr::memmem::find(bytes, b"rlint").is_some()
                || memchr::memmem::find(bytes, b"RLINT").is_some()
        };
        let mut files: Vec<PathBuf> = texts
            .iter()
            .filter(|(_, t)| mentions(t.bytes()))
            .map(|(p, _)| p.to_path_buf())
            .collect();
        files.sort();
        files.into_iter().map(|f| openable_once(&f)).collect()
    } else {
        Vec::new()
    };
    let read = |file: &Path| engine_name.get(file).and_then(|name| texts.get(name));
    // Named files (the pre-commit use) are linted with their module for context, but
    // only findings in the named files and directories are reported.
    let named: Option<Vec<PathBuf>> = opts.paths.iter().any(|p| p.is_file()).then(|| {
        opts.paths
            .iter()
            .filter_map(|p| fs::canonicalize(p).ok())
            .collect()
    });
    let is_named = |file: &Path| {
        named.as_ref().is_none_or(|named| {
            fs::canonicalize(file).map_or(true, |file| {
                named.iter().any(|n| {
                    if n.is_dir() {
                        file.starts_with(n)
                    } else {
                        &file == n
                    }
                })
            })
        })
    };
    if named.is_some() {
        // A finding moved to where its value is decided (a variable's default in
        // variables.tf) still belongs to the named file that holds its resource.
        report
            .findings
            .retain(|f| is_named(&f.file) || f.resource_file.as_deref().is_some_and(is_named));
        report.unknown.retain(|u| is_named(&u.file));
    }
    let excluded = |file: &Path| settings.exclude.iter().any(|g| g.matches(file));
    // A directory whose files are left out by `exclude` cannot tell a fixed finding.
    let linted_dirs: BTreeSet<PathBuf> = linted_files
        .iter()
        .filter(|f| !excluded(f))
        .map(|f| f.parent().map(Path::to_path_buf).unwrap_or_default())
        .collect();
    report.unknown.retain(|u| !excluded(&u.file));
    // Never judged inside modules `terraform init` downloaded: not the user's to edit.
    let judged: Vec<PathBuf> = with_suppressions
        .into_iter()
        .filter(|f| !excluded(f) && is_named(f) && !crate::context::is_downloaded(f))
        .collect();
    report.findings.retain(|f| !excluded(&f.file));
    report.errors.retain(|e| !excluded(&e.file));
    report
        .findings
        .retain(|f| settings.active.contains(&f.rule));
    for f in &mut report.findings {
        if let Some(&severity) = opts.severity.get(f.rule) {
            f.severity = severity;
        }
    }

    let mut sources = Sources::default();
    for run in report.findings.chunk_by(same_file) {
        // One lookup per run of findings in one file.
        sources.insert_read(&run[0].file, read(&run[0].file));
        for (file, _) in run.iter().flat_map(|f| &f.suppress_at) {
            sources.insert_read(file, read(file));
        }
    }
    for file in &judged {
        sources.insert_read(file, read(file));
    }
    for e in &report.errors {
        if e.line.is_some() {
            sources.insert_read(&e.file, read(&e.file));
        }
    }
    let outcome = suppress::apply_with(
        std::mem::take(&mut report.findings),
        &sources,
        &suppress::Checks {
            reasonless: settings.dr000,
            expired: settings.expired,
            unused: settings.unused,
            malformed: settings.malformed,
            active: &settings.active,
            files: &judged,
            today: suppress::today(),
        },
    );
    report.findings = outcome.kept;
    crate::suppress::keep_suppressed_instances(&mut report.findings, &outcome.suppressed);
    report
        .errors
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    LintResult {
        report,
        suppressed: outcome.suppressed,
        sources,
        linted_dirs: named.is_none().then_some(linted_dirs),
    }
}

/// The engine may report files relative to the linted directory; make them relative to
/// the working directory (what terminals, editors and CI annotations open).
pub(super) fn openable(file: &Path, paths: &[PathBuf]) -> PathBuf {
    let cleaned = clean_dots(file);
    if file.is_absolute() || cleaned.exists() {
        return cleaned;
    }
    for base in paths {
        let dir = if base.is_dir() {
            base.as_path()
        } else {
            base.parent().unwrap_or(Path::new(""))
        };
        let candidate: PathBuf = dir
            .join(&cleaned)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        if candidate.exists() {
            return candidate;
        }
    }
    cleaned
}

/// `file` without its `.` components (`./db/./main.tf` → `db/main.tf`).
pub(super) fn clean_dots(file: &Path) -> PathBuf {
    file.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}
