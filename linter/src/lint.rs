//! The engine's entry points: files → parse → module instances → rules → report.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::context::{Context, RuleOptions};
use crate::finding::{FileError, Finding, Report};
use crate::load::Loader;
use crate::options::LintOptions;
use crate::{load, plan, rules, source};

/// Lints the `.tf` files and directories of `options.paths`.
///
/// Every directory with `.tf` files is a module; directories that another linted module
/// calls as a local module are linted through that call (at `module.NAME.` addresses),
/// the others as root modules. Unreadable or malformed files are reported in
/// [`Report::errors`]; every other file is still linted.
pub fn lint(options: &LintOptions) -> Report {
    let (modules, mut errors) = source::discover(&options.paths);
    // Read everything once on all cores; a quick scan proposes the root modules.
    let (texts, called) = load::read_all(&modules);
    let dir_files = load::dir_index(&modules);
    let dirs: Vec<PathBuf> = modules.keys().cloned().collect();
    let roots: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| !called.contains(&load::canonical(d)))
        .cloned()
        .collect();
    let mut outcomes = lint_roots(&roots, &texts, &dir_files, options);
    // A directory the scan took for a called module that no parsed `module` block reached
    // is a root after all.
    let reached: HashSet<PathBuf> = outcomes
        .iter()
        .flat_map(|o| o.instantiated.iter().cloned())
        .collect();
    let missed: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| called.contains(&load::canonical(d)) && !reached.contains(&load::canonical(d)))
        .cloned()
        .collect();
    outcomes.extend(lint_roots(&missed, &texts, &dir_files, options));
    let mut files = HashSet::new();
    let mut findings = Vec::new();
    for o in outcomes {
        findings.extend(o.findings);
        errors.extend(o.errors);
        files.extend(o.files);
    }
    finish(findings, errors, files.len())
}

/// What linting one root module gave.
struct RootOutcome {
    findings: Vec<Finding>,
    errors: Vec<FileError>,
    files: HashSet<PathBuf>,
    instantiated: HashSet<PathBuf>,
}

/// Lints root modules in parallel, each with its own loader (bounded memory).
fn lint_roots(
    roots: &[PathBuf],
    texts: &load::Texts,
    dir_files: &HashMap<PathBuf, Vec<PathBuf>>,
    options: &LintOptions,
) -> Vec<RootOutcome> {
    source::parallel_map(roots, |dir| {
        let mut loader = Loader::new(texts, dir_files, &options.var_files);
        let resources = loader.root(dir);
        let ctx = Context::new(resources, RuleOptions::from(options), loader.sources());
        RootOutcome {
            findings: run_rules(&ctx, options),
            errors: std::mem::take(&mut loader.errors),
            files: std::mem::take(&mut loader.seen_files),
            instantiated: std::mem::take(&mut loader.instantiated),
        }
    })
}

/// Lints `terraform show -json` output: the same rules on Terraform's resolved values.
pub fn lint_plan(path: &Path, options: &LintOptions) -> Report {
    match plan::load(path, options) {
        Ok(ctx) => finish(run_rules(&ctx, options), Vec::new(), 0),
        Err(message) => Report {
            errors: vec![FileError {
                file: path.to_path_buf(),
                line: None,
                column: None,
                message,
            }],
            ..Report::default()
        },
    }
}

/// Runs the selected rules; one finding per rule and address (the first in the file).
pub fn run_rules(ctx: &Context, options: &LintOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in rules::ALL {
        let code = rule.meta.code;
        let selected = options.select.is_empty() || options.select.iter().any(|c| c == code);
        if !selected || options.ignore.iter().any(|c| c == code) {
            continue;
        }
        let mut out = Vec::new();
        (rule.check)(ctx, &mut out);
        for f in &mut out {
            if let Some(&s) = options.severity.get(code) {
                f.severity = s;
            }
        }
        // One finding per rule and address within this configuration (the first).
        out.sort_by(|a, b| (&a.file, a.location.start).cmp(&(&b.file, b.location.start)));
        let mut seen = std::collections::HashSet::new();
        out.retain(|f| seen.insert(f.resource.clone()));
        findings.extend(out);
    }
    findings
}

fn finish(mut findings: Vec<Finding>, mut errors: Vec<FileError>, files: usize) -> Report {
    findings.sort_by(|a, b| {
        (
            &a.file,
            a.location.line,
            a.location.column,
            a.rule,
            &a.resource,
        )
            .cmp(&(
                &b.file,
                b.location.line,
                b.location.column,
                b.rule,
                &b.resource,
            ))
    });
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    errors.dedup();
    Report {
        findings,
        errors,
        files,
    }
}
