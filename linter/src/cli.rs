//! The command line: parse arguments, merge them with `.drlint.toml`, lint, apply inline
//! suppressions, fix, render, and choose the exit status.
//!
//! Exit status: 0 clean, 1 findings at or above `--fail-on`, 2 usage, configuration or file
//! errors (after reporting everything that could be linted).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline;
use crate::config::{self, Config, Exclude, FailOn};
use crate::finding::same_file;
use crate::fix::applicable;
use crate::path_map::PathMap;
use crate::render::{self, display_path, Format, Output, RuleInfo, Sources};
use crate::suppress::{self, Suppressed};
use crate::{FileError, Finding, LintOptions, Report, Severity};

/// `eprintln!` without the panic when standard error is a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

const AFTER_HELP: &str = "\
Exit status: 0 no findings at or above --fail-on, 1 findings at or above it,
2 usage, configuration or file errors (everything else is still reported).
`--fail-on never` never exits 1, but still exits 2 on: a usage error (unknown flag, rule
code or severity), a bad .drlint.toml or --baseline file, a path that does not exist or
holds no Terraform files, a file that cannot be read or parsed, a module whose source
directory is missing, a plan that cannot be read, and a report or baseline that cannot
be written.

Adopting drlint on an existing repository: `drlint --write-baseline drlint-baseline.json`
records today's findings; `drlint --baseline drlint-baseline.json` then reports only new
ones, and notes the entries whose finding was fixed (stale).

Inline: `# drlint:ignore DR003 reason` on the line above a block or attribute (rule
codes, not names); `# drlint:ignore DR003 until=2027-03-31 reason` expires after that day.
A comment meant as a suppression that is none (`# drlint-ignore DR003`, a rule's name) is
DR902, with what to write.
Remote modules are linted after `terraform init` (.terraform/modules/modules.json).
Docs: drlint explain DR003 (or ALL), and docs/drlint.md.";

#[derive(Parser, Debug)]
#[command(
    name = "drlint",
    version,
    about = "Lint Terraform for disaster-recovery anti-patterns.",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every rule: code, name, default severity, whether --fix fixes it, summary.
    Rules {
        /// `text` (a table) or `json`.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Print a rule's documentation: what it finds, why it matters, an example, the fix.
    Explain {
        /// Rule code (`DR003`), name (`missing-deletion-protection`), prefix (`DR01`) or
        /// `ALL`.
        rule: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
enum FormatArg {
    #[default]
    Text,
    Json,
    Sarif,
    Junit,
    Github,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Junit => Format::Junit,
            FormatArg::Github => Format::Github,
        }
    }
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Files or directories to lint (directories are searched for `*.tf` and `*.tf.json`). Default: `.`
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,

    /// Lint `terraform show -json` output instead of source files.
    #[arg(long, value_name = "PLAN_JSON", conflicts_with_all = ["paths", "fix"])]
    plan: Option<PathBuf>,

    /// With --plan: the configuration directory the plan was made from, so that findings
    /// point at each resource's block (file:line). Default: the plan file's directory when
    /// it holds `*.tf` files; without one, findings name their resource address only.
    #[arg(long, value_name = "DIR", requires = "plan")]
    config_dir: Option<PathBuf>,

    /// Report only findings that this baseline file does not list (see --write-baseline);
    /// its entries that no finding matches any more are noted as stale. Replaces the
    /// configuration's `baseline`.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,

    /// Record every finding of this run in FILE (a sorted JSON baseline) and exit 0 unless
    /// a file could not be linted; writing it again drops stale entries.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fix", "baseline"])]
    write_baseline: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,

    /// Apply safe fixes in place, then report what remains.
    #[arg(long)]
    fix: bool,

    /// With --fix: print a unified diff of the fixes and write nothing.
    #[arg(long, requires = "fix")]
    diff: bool,

    /// Configuration file (default: the nearest `.drlint.toml` up to the repository root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Ignore every `.drlint.toml`.
    #[arg(long, conflicts_with = "config")]
    no_config: bool,

    /// A `*.tfvars` file whose values override variable defaults (repeatable, in order).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,

    /// Rules to run: codes, prefixes (`DR01`) or `ALL`, comma-separated. Replaces the
    /// configuration's `select`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    select: Option<Vec<String>>,

    /// Rules to skip, comma-separated; added to the configuration's `ignore`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    ignore: Vec<String>,

    /// Override a rule's severity, e.g. `--severity DR010=error` (repeatable).
    #[arg(long, value_name = "CODE=LEVEL")]
    severity: Vec<String>,

    /// Exit 1 when a finding is at or above this level: note, warning, error or never
    /// (`never` still exits 2 on errors: see below).
    #[arg(long, value_name = "LEVEL", value_parser = parse_fail_on)]
    fail_on: Option<FailOn>,

    /// Minimum `backup_retention_period` in days for DR004 (default 7).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=35))]
    min_retention_days: Option<u32>,

    /// A region that counts as a DR region for DR010 (repeatable).
    #[arg(long = "dr-region", value_name = "REGION")]
    dr_regions: Vec<String>,

    /// Leave matching files out of the report (glob, repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Write the report to FILE instead of standard output (the summary line and errors
    /// still go to standard error).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// No colours (also when NO_COLOR is set or output is not a terminal).
    #[arg(long)]
    no_color: bool,

    /// Also list, on standard error, what each rule could not judge because a value is
    /// unknown before apply (what `--plan` would add). Never a finding.
    #[arg(long)]
    explain_unknown: bool,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.parse()
}

/// What the command line needs from the engine. `main` fills it from the library's API
/// (`drlint::lint`, `drlint::lint_plan`, `drlint::rules::RULES`, `drlint::fix::apply`); tests
/// can pass a stand-in.
pub struct Engine {
    /// Lints `.tf` files and directories.
    pub lint: fn(&LintOptions) -> Report,
    /// Lints `terraform show -json` output.
    pub lint_plan: fn(&Path, &LintOptions) -> Report,
    /// The engine's rules; DR000 is added here.
    pub rules: Vec<RuleInfo>,
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
fn catalog() -> &'static [RuleInfo] {
    &engine().rules
}

fn find_rule(code_or_name: &str) -> Option<&'static RuleInfo> {
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

/// Everything a lint run needs, after merging flags and configuration.
struct Settings {
    options: LintOptions,
    /// Codes that run (select minus ignore), DR000 included when it runs.
    active: Vec<&'static str>,
    fail_on: FailOn,
    exclude: Vec<Exclude>,
    /// DR000's severity, or None when it does not run.
    dr000: Option<Severity>,
    /// DR900's (expired suppressions) severity, or None when it does not run.
    expired: Option<Severity>,
    /// DR901's (unused suppressions) severity, or None when it does not run.
    unused: Option<Severity>,
    /// DR902's (malformed suppressions) severity, or None when it does not run.
    malformed: Option<Severity>,
    /// The baseline to apply (`--baseline`, else the configuration's `baseline`); the run
    /// then notes which directories it linted in full.
    baseline: Option<PathBuf>,
}

fn check(args: CheckArgs) -> Result<ExitCode> {
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
fn say_errors(errors: &[FileError]) {
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
fn write_baseline(path: &Path, result: &LintResult) -> Result<ExitCode> {
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
fn explain_unknown(report: &Report) {
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
fn append_step_summary(output: &Output<'_>) {
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

fn exit_code(report: &Report, fail_on: FailOn) -> ExitCode {
    if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if report.findings.iter().any(|f| fail_on.trips(f.severity)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
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

/// Merges `.drlint.toml` and flags: flags win, then the file, then defaults.
fn settings(args: &CheckArgs) -> Result<Settings> {
    let start = match (&args.plan, args.paths.first()) {
        (Some(plan), _) => plan.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, Some(p)) => p.clone(),
        (None, None) => PathBuf::from("."),
    };
    let config = if args.no_config {
        Config::default()
    } else if let Some(path) = &args.config {
        if !path.is_file() {
            return Err(UsageError(format!("--config {}: no such file", path.display())).into());
        }
        config::load(path, catalog())?
    } else if let Some(path) = config::discover(&start) {
        config::load(&path, catalog())?
    } else {
        Config::default()
    };

    let expand = |flag: &str, items: &[String]| -> Result<Vec<String>> {
        let mut codes = Vec::new();
        for item in items.iter().filter(|i| !i.trim().is_empty()) {
            for code in config::expand_selector(item, catalog())
                .map_err(|m| UsageError(format!("--{flag}: {m}")))?
            {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        Ok(codes)
    };
    let cli_select = args
        .select
        .as_deref()
        .map(|s| expand("select", s))
        .transpose()?;
    let cli_ignore = expand("ignore", &args.ignore)?;

    let select = cli_select
        .clone()
        .or(config.select.clone())
        .unwrap_or_default();
    // An explicit --select of a code overrides the file's ignore of it.
    let mut ignore: Vec<String> = config
        .ignore
        .iter()
        .filter(|c| !cli_select.as_ref().is_some_and(|s| s.contains(c)))
        .cloned()
        .collect();
    ignore.extend(cli_ignore);

    let mut severity: BTreeMap<String, Severity> = config.severity.clone();
    for item in &args.severity {
        let (code, level) = item.split_once('=').ok_or_else(|| {
            UsageError(format!(
                "--severity {item:?}: write CODE=LEVEL, e.g. DR010=error"
            ))
        })?;
        let rule = find_rule(code).ok_or_else(|| {
            UsageError(format!(
                "--severity: {}",
                config::unknown_code_message(code, catalog())
            ))
        })?;
        let level: Severity = level
            .trim()
            .parse()
            .map_err(|m| UsageError(format!("--severity {item}: {m}")))?;
        severity.insert(rule.code.to_string(), level);
    }

    for region in &args.dr_regions {
        config::check_region(region).map_err(|m| UsageError(format!("--dr-region: {m}")))?;
    }
    let dr_regions = if args.dr_regions.is_empty() {
        config.dr_regions.clone().unwrap_or_default()
    } else {
        args.dr_regions.clone()
    };

    let mut var_files = config.var_files.clone();
    var_files.extend(args.var_files.iter().cloned());
    for file in &var_files {
        if !file.is_file() {
            return Err(UsageError(format!("var file {}: no such file", file.display())).into());
        }
    }

    if let Some(dir) = args.config_dir.as_ref().filter(|d| !d.is_dir()) {
        return Err(
            UsageError(format!("--config-dir {}: no such directory", dir.display())).into(),
        );
    }

    let cwd = std::env::current_dir().unwrap_or_default();
    let mut exclude = config.exclude.clone();
    for pattern in &args.exclude {
        exclude
            .push(Exclude::new(pattern, &cwd).map_err(|m| UsageError(format!("--exclude: {m}")))?);
    }

    let runs = |code: &str| {
        (select.is_empty() || select.iter().any(|c| c == code)) && !ignore.iter().any(|c| c == code)
    };
    let active: Vec<&'static str> = catalog()
        .iter()
        .map(|r| r.code)
        .filter(|c| runs(c))
        .collect();
    let layer_severity = |rule: &RuleInfo| {
        runs(rule.code).then(|| severity.get(rule.code).copied().unwrap_or(rule.severity))
    };
    let dr000 = layer_severity(&suppress::RULE);
    let expired = layer_severity(&suppress::EXPIRED_RULE);
    let unused = layer_severity(&suppress::UNUSED_RULE);
    let malformed = layer_severity(&suppress::MALFORMED_RULE);

    // DR000 and DR900 to DR902 belong to this layer; the engine only sees its own codes. When
    // they alone are selected the engine gets them anyway, which selects none of its rules.
    let is_engine_code = |c: &String| !suppress::RULES.iter().any(|r| r.code == c);
    let engine_select: Vec<String> = if select.iter().all(|c| !is_engine_code(c)) {
        select.clone()
    } else {
        select
            .iter()
            .filter(|c| is_engine_code(c))
            .cloned()
            .collect()
    };
    let engine_ignore: Vec<String> = ignore
        .iter()
        .filter(|c| is_engine_code(c))
        .cloned()
        .collect();
    let mut engine_severity = severity.clone();
    engine_severity.retain(|c, _| is_engine_code(c));

    let defaults = LintOptions::default();
    let options = LintOptions {
        paths: if args.paths.is_empty() {
            defaults.paths.clone()
        } else {
            args.paths.clone()
        },
        var_files,
        select: engine_select,
        ignore: engine_ignore,
        severity: engine_severity,
        min_retention_days: args
            .min_retention_days
            .or(config.min_retention_days)
            .unwrap_or(defaults.min_retention_days),
        dr_regions,
        explain_unknown: args.explain_unknown,
        // `--fix` lints several times in one process; a plain check once.
        exits_after: !args.fix,
        config_dir: plan_config_dir(args),
    };
    Ok(Settings {
        options,
        active,
        fail_on: args
            .fail_on
            .or(config.fail_on)
            .unwrap_or(FailOn::At(Severity::Warning)),
        exclude,
        dr000,
        expired,
        unused,
        malformed,
        // `--write-baseline` records every finding: no baseline hides any.
        baseline: if args.write_baseline.is_some() {
            None
        } else {
            args.baseline.clone().or(config.baseline.clone())
        },
    })
}

/// The configuration directory of `--plan`: `--config-dir`, else the plan file's own
/// directory when it holds a configuration.
fn plan_config_dir(args: &CheckArgs) -> Option<PathBuf> {
    let plan = args.plan.as_deref()?;
    if let Some(dir) = &args.config_dir {
        return Some(dir.clone());
    }
    let dir = match plan.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    crate::plan::is_configuration(&dir).then_some(dir)
}

/// A lint run after configuration filters and inline suppressions.
struct LintResult {
    report: Report,
    suppressed: Vec<Suppressed>,
    sources: Sources,
    /// The directories whose every file this run reported on (for stale baseline
    /// entries); `None` when only some files were named.
    linted_dirs: Option<BTreeSet<PathBuf>>,
}

fn lint_once(args: &CheckArgs, settings: &Settings) -> LintResult {
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
fn has_terraform_files(dir: &Path, visited: &mut BTreeSet<PathBuf>) -> bool {
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
fn postprocess(mut report: Report, settings: &Settings) -> LintResult {
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
fn openable(file: &Path, paths: &[PathBuf]) -> PathBuf {
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
fn clean_dots(file: &Path) -> PathBuf {
    file.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

type Diff = (PathBuf, String, String);

/// `--fix`: apply safe fixes (several passes while they keep changing files), re-lint and
/// return the remaining report, the number of findings fixed, and for `--diff` the changes.
fn fix(args: &CheckArgs, settings: &Settings) -> Result<(LintResult, usize, Vec<Diff>)> {
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
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
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
fn print_diffs(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let e = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&e));
    }

    #[test]
    fn bail_is_not_a_broken_pipe() {
        let e: anyhow::Error = (|| -> Result<()> { anyhow::bail!("x") })().unwrap_err();
        assert!(!is_broken_pipe(&e));
    }

    fn install_fake_engine() {
        fn no_report(_: &LintOptions) -> Report {
            Report::default()
        }
        fn no_plan(_: &Path, _: &LintOptions) -> Report {
            Report::default()
        }
        fn no_fix(source: &str, _: &[Finding]) -> String {
            source.to_string()
        }
        let _ = ENGINE.set(Engine {
            lint: no_report,
            lint_plan: no_plan,
            rules: crate::render::testing::rules(),
            fix: no_fix,
        });
    }

    fn settings_for(args: &[&str]) -> Result<Settings> {
        install_fake_engine();
        let cli = Cli::try_parse_from(std::iter::once("drlint").chain(args.iter().copied()))?;
        settings(&cli.check)
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("drlint.toml");
        fs::write(
            &config,
            "select = [\"DR010\"]\nignore = [\"DR003\"]\nmin_retention_days = 14\nfail_on = \"note\"\n[severity]\nDR010 = \"error\"\n",
        )
        .unwrap();
        let config = config.to_str().unwrap();
        let from_file = settings_for(&["--config", config]).unwrap();
        assert_eq!(from_file.options.select, ["DR010"]);
        assert_eq!(from_file.options.ignore, ["DR003"]);
        assert_eq!(from_file.options.min_retention_days, 14);
        assert_eq!(
            from_file.options.severity.get("DR010"),
            Some(&Severity::Error)
        );
        assert_eq!(from_file.fail_on, FailOn::At(Severity::Note));
        assert_eq!(from_file.active, ["DR010"]);

        let flags = settings_for(&[
            "--config",
            config,
            "--select",
            "DR003,DR010",
            "--severity",
            "DR010=note",
            "--min-retention-days",
            "30",
            "--fail-on",
            "error",
            "--ignore",
            "DR000",
        ])
        .unwrap();
        assert_eq!(flags.options.select, ["DR003", "DR010"]);
        assert!(
            flags.options.ignore.is_empty(),
            "{:?}",
            flags.options.ignore
        );
        assert_eq!(flags.options.severity.get("DR010"), Some(&Severity::Note));
        assert_eq!(flags.options.min_retention_days, 30);
        assert_eq!(flags.fail_on, FailOn::At(Severity::Error));
        assert_eq!(flags.active, ["DR003", "DR010"]);
        assert_eq!(flags.dr000, None);
    }

    #[test]
    fn defaults_without_a_file() {
        let s = settings_for(&["--no-config"]).unwrap();
        assert!(s.options.select.is_empty() && s.options.ignore.is_empty());
        assert_eq!(s.options.min_retention_days, 7);
        assert_eq!(s.fail_on, FailOn::At(Severity::Warning));
        assert_eq!(
            s.active,
            ["DR000", "DR003", "DR010", "DR900", "DR901", "DR902"]
        );
        assert_eq!(s.dr000, Some(Severity::Warning));
        assert_eq!(s.expired, Some(Severity::Warning));
        assert_eq!(s.unused, Some(Severity::Warning));
        assert_eq!(s.malformed, Some(Severity::Warning));
    }

    #[test]
    fn the_engine_never_sees_dr000() {
        let s = settings_for(&[
            "--no-config",
            "--select",
            "DR000,DR003",
            "--severity",
            "DR000=error",
        ])
        .unwrap();
        assert_eq!(s.options.select, ["DR003"]);
        assert!(s.options.severity.is_empty());
        assert_eq!(s.dr000, Some(Severity::Error));
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for args in [
            &["--no-config", "--select", "DR999"][..],
            &["--no-config", "--severity", "DR003"],
            &["--no-config", "--severity", "DR003=loud"],
            &["--no-config", "--dr-region", "Mars"],
            &["--no-config", "--var-file", "/nonexistent/x.tfvars"],
            &["--config", "/nonexistent/drlint.toml"],
        ] {
            let e = settings_for(args)
                .err()
                .unwrap_or_else(|| panic!("{args:?} accepted"));
            assert!(e.downcast_ref::<UsageError>().is_some(), "{args:?}: {e}");
        }
    }

    #[test]
    fn postprocess_applies_exclude_severity_and_scoping() {
        use crate::finding::Location;
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.tf");
        let b = dir.path().join("b.tf");
        fs::write(&a, "resource \"x\" \"y\" {}\n").unwrap();
        fs::write(&b, "resource \"x\" \"z\" {}\n").unwrap();
        let finding = |file: &Path, rule: &'static str| Finding {
            rule,
            name: "n",
            severity: Severity::Warning,
            resource: "x.y".into(),
            file: file.to_path_buf(),
            location: Location {
                line: 1,
                column: 1,
                start: 0,
                end: 1,
            },
            block_line: 1,
            message: "m".into(),
            fix: None,
            suppress_at: Vec::new(),
        };
        let report = Report {
            findings: vec![
                finding(&a, "DR010"),
                finding(&b, "DR010"),
                finding(&a, "DR999"),
            ],
            errors: vec![],
            files: 2,
            ..Report::default()
        };
        let a_str = a.to_str().unwrap();
        let s = settings_for(&["--no-config", a_str, "--severity", "DR010=error"]).unwrap();
        let out = postprocess(report, &s);
        // Only the named file, only known active rules, the configured severity.
        assert_eq!(out.report.findings.len(), 1, "{:?}", out.report.findings);
        assert_eq!(out.report.findings[0].file, a);
        assert_eq!(out.report.findings[0].severity, Severity::Error);
    }

    #[test]
    fn exit_codes_follow_the_gate() {
        let mut report = Report::default();
        assert_eq!(
            exit_code(&report, FailOn::At(Severity::Warning)),
            ExitCode::SUCCESS
        );
        report.findings.push(Finding {
            rule: "DR010",
            name: "n",
            severity: Severity::Warning,
            resource: String::new(),
            file: PathBuf::from("a.tf"),
            location: Default::default(),
            block_line: 1,
            message: String::new(),
            fix: None,
            suppress_at: Vec::new(),
        });
        assert_eq!(
            exit_code(&report, FailOn::At(Severity::Warning)),
            ExitCode::from(1)
        );
        assert_eq!(
            exit_code(&report, FailOn::At(Severity::Error)),
            ExitCode::SUCCESS
        );
        assert_eq!(exit_code(&report, FailOn::Never), ExitCode::SUCCESS);
        report.errors.push(FileError {
            file: PathBuf::from("b.tf"),
            line: None,
            column: None,
            message: String::new(),
        });
        assert_eq!(exit_code(&report, FailOn::Never), ExitCode::from(2));
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_keep_permissions_and_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("db.tf");
        fs::write(&real, "old\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.tf");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new\n").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        assert!(write_atomic(&dir.path().join("missing.tf"), b"x").is_err());
    }

    #[test]
    fn openable_paths_are_relative_to_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("db")).unwrap();
        fs::write(dir.path().join("db/main.tf"), "").unwrap();
        // The engine reported the file relative to the linted directory.
        let found = openable(Path::new("./db/main.tf"), &[dir.path().to_path_buf()]);
        assert_eq!(found, dir.path().join("db/main.tf"));
        let unknown = openable(Path::new("./nowhere.tf"), &[dir.path().to_path_buf()]);
        assert_eq!(unknown, PathBuf::from("nowhere.tf"));
    }
}
