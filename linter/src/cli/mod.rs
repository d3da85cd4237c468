//! The command line: parse arguments, merge them with `.drlint.toml`, lint, apply inline
//! suppressions, fix, render, and choose the exit status.
//!
//! Exit status: 0 clean, 1 findings at or above `--fail-on`, 2 usage, configuration or file
//! errors (after reporting everything that could be linted).

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::config;
use crate::render::{self, RuleMeta};
use crate::{Finding, LintOptions, Report};
use check::check;
use flags::{Cli, Command, RulesFormat};

/// `eprintln!` without the panic when standard error is a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

mod check;
mod fixes;
mod flags;
mod run;
#[cfg(test)]
mod tests;

/// What the command line needs from the engine. `main` fills it from the library's API
/// (`drlint::lint`, `drlint::lint_plan`, `drlint::rules::RULES`, `drlint::fix::apply`); tests
/// can pass a stand-in.
pub struct Engine {
    /// Lints `.tf` files and directories.
    pub lint: fn(&LintOptions) -> Report,
    /// Lints `terraform show -json` output.
    pub lint_plan: fn(&Path, &LintOptions) -> Report,
    /// The engine's rules; DR000 is added here.
    pub rules: Vec<RuleMeta>,
    /// Applies the safe edits of `findings` to `source`.
    pub fix: fn(&str, &[Finding]) -> String,
}

static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();

fn engine() -> &'static Engine {
    ENGINE
        .get()
        .expect("cli::run installs the engine before anything else")
}

/// Runs drlint with the process's arguments and returns its exit status.
pub fn run(engine: Engine) -> ExitCode {
    let _ = ENGINE.set(Engine {
        rules: render::catalog_with(engine.rules),
        ..engine
    });
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Some(Command::Rules { format }) => list_rules(format),
        Some(Command::Explain { rule }) => explain(&rule),
        None => check(cli.check),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            say!("drlint: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Every rule: the engine's plus DR000, sorted by code.
fn catalog() -> &'static [RuleMeta] {
    &engine().rules
}

fn find_rule(code_or_name: &str) -> Option<&'static RuleMeta> {
    render::find_rule(catalog(), code_or_name)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// A usage problem found after parsing (bad rule code, missing var file): exit 2.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn list_rules(format: RulesFormat) -> Result<ExitCode> {
    let mut out = String::new();
    match format {
        RulesFormat::Json => {
            let rules: Vec<serde_json::Value> = catalog()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "name": r.name,
                        "severity": r.severity.as_str(),
                        "fixable": r.fixable,
                        "summary": r.summary,
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&rules)?;
            out.push('\n');
        }
        RulesFormat::Text => {
            let name_width = catalog().iter().map(|r| r.name.len()).max().unwrap_or(4);
            out.push_str(&format!(
                "{:<6} {:<name_width$} {:<8} {:<7} {}\n",
                "CODE", "NAME", "SEVERITY", "FIXABLE", "SUMMARY"
            ));
            for r in catalog() {
                out.push_str(&format!(
                    "{:<6} {:<name_width$} {:<8} {:<7} {}\n",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    if r.fixable { "yes" } else { "no" },
                    r.summary
                ));
            }
        }
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `drlint explain CODE`: a rule's doc page; several, separated by a rule, for `ALL` or a
/// prefix (`DR01`).
fn explain(code: &str) -> Result<ExitCode> {
    let codes = match find_rule(code) {
        Some(rule) => vec![rule.code.to_string()],
        None => match config::expand_selector(code, catalog()) {
            Ok(codes) => codes,
            Err(message) => {
                say!("drlint: error: {message}");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let mut out = String::new();
    for (i, rule) in codes.iter().filter_map(|c| find_rule(c)).enumerate() {
        if i > 0 {
            out.push_str("\n---\n\n");
        }
        // Pages of several rules each say which rule they are.
        if codes.len() > 1 && !rule.doc.starts_with("# ") {
            out.push_str(&format!("# {} {}\n\n", rule.code, rule.name));
        }
        out.push_str(rule.doc);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
