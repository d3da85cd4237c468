//! A `check` run: lint with the merged settings, apply configuration filters, inline
//! suppressions and the baseline, render, and choose the exit status.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::fixes::{fix, print_diffs};
use super::flags::{settings, CheckArgs};
use super::run::{lint_once, write_output, LintResult};
use super::{catalog, find_rule, UsageError};
use crate::baseline;
use crate::config::{self, FailOn};
use crate::render::{self, display_path, Format, Output};
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
