//! The engine's entry points: files → parse → module instances → rules → report.

use std::fs;
use std::path::Path;

use crate::context::{Context, RuleOptions};
use crate::finding::{FileError, Finding, Report};
use crate::load::Loader;
use crate::options::LintOptions;
use crate::{plan, rules, source};

/// Lints the `.tf` files and directories of `options.paths`.
///
/// Every directory with `.tf` files is a module; directories that another linted module
/// calls as a local module are linted through that call (at `module.NAME.` addresses),
/// the others as root modules. Unreadable or malformed files are reported in
/// [`Report::errors`]; every other file is still linted.
pub fn lint(options: &LintOptions) -> Report {
    let (modules, mut errors) = source::discover(&options.paths);
    let mut loader = Loader::new(&modules, &options.var_files);
    let dirs: Vec<_> = modules.keys().cloned().collect();
    let called = loader.called_dirs(&dirs);
    let roots: Vec<_> = dirs
        .iter()
        .filter(|dir| !fs::canonicalize(dir).is_ok_and(|c| called.contains(&c)))
        .map(|dir| loader.root(dir))
        .collect();
    errors.append(&mut loader.errors);
    let files = loader.file_count();
    let sources = loader.sources();
    let mut findings = Vec::new();
    for resources in roots {
        let ctx = Context::new(resources, RuleOptions::from(options), sources.clone());
        findings.extend(run_rules(&ctx, options));
    }
    finish(findings, errors, files)
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
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.resource.clone())));
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    errors.dedup();
    Report {
        findings,
        errors,
        files,
    }
}
