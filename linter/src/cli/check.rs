//! A `check` run: lint with the merged settings, apply configuration filters, inline
//! suppressions and the baseline, render, and choose the exit status.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::fixes::{fix, print_diffs};
use super::flags::{settings, CheckArgs, Settings};
use super::{catalog, engine, find_rule, UsageError};
use crate::baseline;
use crate::config::{self, FailOn};
use crate::finding::same_file;
use crate::path_map::PathMap;
use crate::render::{self, display_path, Format, Output, Sources};
use crate::suppress::{self, Suppressed};
use crate::{FileError, Report};

pub(super) fn check(args: CheckArgs) -> Result<ExitCode> {
    let settings = match settings(&args) {
        Ok(s) => s,
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            say!("drlint: error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) if e.downcast_ref::<config::ConfigError>().is_some() => {
            say!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e),
    };
    let format: Format = args.format.into();
    let root = std::env::current_dir().context("cannot read the working directory")?;

    let baseline = match settings.baseline.as_deref().map(baseline::read).transpose() {
        Ok(b) => b,
        Err(message) => {
            say!("drlint: error: {message}");
            return Ok(ExitCode::from(2));
        }
    };

    let (mut result, fixed, diffs) = if args.fix {
        fix(&args, &settings)?
    } else {
        (lint_once(&args, &settings), 0, Vec::new())
    };

    if args.diff {
        return print_diffs(&args, &result, &diffs, fixed);
    }
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &result);
    }
    let accepted = baseline.map(|b| {
        // Stale only where this run linted the entry's directory in full, for a rule
        // that ran: a run on some files, or with fewer rules, cannot tell.
        let dirs: Option<BTreeSet<String>> = result.linted_dirs.as_ref().map(|dirs| {
            dirs.iter()
                .map(|d| baseline::directory_key_for(d, &b.path))
                .collect()
        });
        baseline::apply(&mut result.report.findings, &b, &result.sources, |e| {
            settings.active.contains(&e.rule.as_str())
                && dirs.as_ref().is_some_and(|d| d.contains(&e.directory))
        })
    });

    let color = args.output.is_none()
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        && io::stdout().is_terminal();
    let output = Output {
        rules: catalog(),
        report: &result.report,
        suppressed: &result.suppressed,
        sources: &result.sources,
        active_rules: &settings.active,
        color,
        fixed,
        root: &root,
        baseline: accepted.as_ref(),
    };
    for note in &result.report.notes {
        say!("drlint: note: {note}");
    }
    if let Some(outcome) = accepted.as_ref().filter(|_| !format.shows_baseline()) {
        for entry in &outcome.stale {
            say!("drlint: note: {}", render::stale_note(entry, &outcome.path));
        }
    }
    if args.explain_unknown {
        explain_unknown(&result.report);
    }
    let mut buf = Vec::new();
    render::render(format, &output, &mut buf)?;
    if fixed > 0 && format != Format::Text {
        say!(
            "drlint: fixed {fixed} finding{}",
            if fixed == 1 { "" } else { "s" }
        );
    }
    write_output(args.output.as_deref(), &buf)?;
    if args.output.is_some() {
        // The report went to a file: what a person at the terminal or a CI log needs
        // still comes here.
        say_errors(&result.report.errors);
        say!("drlint: {}", render::text::summary(&output));
    } else if result.report.files == 0 && args.plan.is_none() {
        // Nothing was linted: the gate failed for want of input, which belongs with the
        // other fatal errors on standard error whatever the format.
        say_errors(&result.report.errors);
    }
    if format == Format::Github {
        append_step_summary(&output);
    }

    let code = exit_code(&result.report, settings.fail_on);
    // The process ends next: the report (every finding, every file's text) is left to the
    // operating system rather than freed one allocation at a time.
    std::mem::forget((result, buf));
    Ok(code)
}

/// Every file error on standard error, one line each.
pub(super) fn say_errors(errors: &[FileError]) {
    for e in errors {
        let pos = e.line.map(|l| format!(":{l}")).unwrap_or_default();
        say!(
            "error: {}{pos}: {}",
            display_path(&e.file),
            e.message.replace('\n', " ")
        );
    }
}

/// `--write-baseline FILE`: every finding of this run into FILE. Exit 0, or 2 when a file
/// could not be linted (its findings are missing from the baseline).
pub(super) fn write_baseline(path: &Path, result: &LintResult) -> Result<ExitCode> {
    for note in &result.report.notes {
        say!("drlint: note: {note}");
    }
    say_errors(&result.report.errors);
    let n = baseline::write(path, &result.report.findings, &result.sources)
        .with_context(|| format!("cannot write the baseline to {}", path.display()))?;
    say!(
        "drlint: wrote {} to {} (findings in {}); lint with `--baseline {}` to report only new ones",
        render::plural(n, "baseline entry"),
        display_path(path),
        render::plural(result.report.files, "file"),
        display_path(path)
    );
    Ok(if result.report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `--explain-unknown`: what each rule could not judge, by rule, on standard error (the
/// report's formats keep their shape).
pub(super) fn explain_unknown(report: &Report) {
    if report.unknown.is_empty() {
        say!("drlint: every rule could judge every resource: no value it needed was unknown");
        return;
    }
    let mut by_rule: BTreeMap<&str, Vec<&crate::Unjudged>> = BTreeMap::new();
    for u in &report.unknown {
        by_rule.entry(u.rule).or_default().push(u);
    }
    say!(
        "drlint: {} resource judgement{} left open: values unknown before apply (set them in a .tfvars file, or lint `terraform show -json` output with --plan):",
        report.unknown.len(),
        if report.unknown.len() == 1 { "" } else { "s" }
    );
    for (rule, items) in by_rule {
        let name = find_rule(rule).map_or("", |r| r.name);
        say!("  {rule} {name}:");
        for u in items {
            say!(
                "    {} ({}:{}:{}): {}",
                u.resource,
                u.file.display(),
                u.location.line,
                u.location.column,
                u.what
            );
        }
    }
}

/// Inside GitHub Actions, lists every finding in the job summary too (the runner shows
/// only the first annotations of a step). Best effort: a failure here changes nothing.
pub(super) fn append_step_summary(output: &Output<'_>) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let text = render::github::step_summary(output);
    let written = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        say!("drlint: warning: cannot write the job summary: {e}");
    }
}

pub(super) fn exit_code(report: &Report, fail_on: FailOn) -> ExitCode {
    if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if report.findings.iter().any(|f| fail_on.trips(f.severity)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

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
        report.findings.retain(|f| is_named(&f.file));
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
