//! The command line's flags: clap's definitions of `drlint`, its subcommands and `check`'s
//! arguments, and their merge with `.drlint.toml` into the [`Settings`] a run uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use super::{catalog, find_rule, UsageError};
use crate::config::{self, Config, Exclude, FailOn};
use crate::render::{Format, RuleMeta};
use crate::suppress::{self};
use crate::{LintOptions, Severity};

pub(super) const AFTER_HELP: &str = "\
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
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Command>,
    #[command(flatten)]
    pub(super) check: CheckArgs,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
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
pub(super) enum RulesFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) enum FormatArg {
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
pub(super) struct CheckArgs {
    /// Files or directories to lint (directories are searched for `*.tf` and `*.tf.json`). Default: `.`
    #[arg(value_name = "PATHS")]
    pub(super) paths: Vec<PathBuf>,

    /// Lint `terraform show -json` output instead of source files.
    #[arg(long, value_name = "PLAN_JSON", conflicts_with_all = ["paths", "fix"])]
    pub(super) plan: Option<PathBuf>,

    /// With --plan: the configuration directory the plan was made from, so that findings
    /// point at each resource's block (file:line). Default: the plan file's directory when
    /// it holds `*.tf` files; without one, findings name their resource address only.
    #[arg(long, value_name = "DIR", requires = "plan")]
    pub(super) config_dir: Option<PathBuf>,

    /// Report only findings that this baseline file does not list (see --write-baseline);
    /// its entries that no finding matches any more are noted as stale. Replaces the
    /// configuration's `baseline`.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub(super) baseline: Option<PathBuf>,

    /// Record every finding of this run in FILE (a sorted JSON baseline) and exit 0 unless
    /// a file could not be linted; writing it again drops stale entries.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fix", "baseline"])]
    pub(super) write_baseline: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    pub(super) format: FormatArg,

    /// Apply safe fixes in place, then report what remains.
    ///
    /// Fixed files keep their line endings, byte-order mark and final newline (or its
    /// absence). `terraform fmt` removes a byte-order mark, so `terraform fmt -check` fails
    /// on any file that starts with one, fixed or not.
    #[arg(long)]
    pub(super) fix: bool,

    /// With --fix: print a unified diff of the fixes and write nothing.
    #[arg(long, requires = "fix")]
    pub(super) diff: bool,

    /// Configuration file (default: the nearest `.drlint.toml` up to the repository root).
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,

    /// Ignore every `.drlint.toml`.
    #[arg(long, conflicts_with = "config")]
    pub(super) no_config: bool,

    /// A `*.tfvars` file whose values override variable defaults (repeatable, in order).
    #[arg(long = "var-file", value_name = "FILE")]
    pub(super) var_files: Vec<PathBuf>,

    /// Rules to run: codes, prefixes (`DR01`) or `ALL`, comma-separated. Replaces the
    /// configuration's `select`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub(super) select: Option<Vec<String>>,

    /// Rules to skip, comma-separated; added to the configuration's `ignore`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub(super) ignore: Vec<String>,

    /// Override a rule's severity, e.g. `--severity DR010=error` (repeatable).
    #[arg(long, value_name = "CODE=LEVEL")]
    pub(super) severity: Vec<String>,

    /// Exit 1 when a finding is at or above this level: note, warning, error or never
    /// (`never` still exits 2 on errors: see below).
    #[arg(long, value_name = "LEVEL", value_parser = parse_fail_on)]
    pub(super) fail_on: Option<FailOn>,

    /// Minimum `backup_retention_period` in days for DR004 (default 7).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=35))]
    pub(super) min_retention_days: Option<u32>,

    /// A region that counts as a DR region for DR010 (repeatable).
    #[arg(long = "dr-region", value_name = "REGION")]
    pub(super) dr_regions: Vec<String>,

    /// Leave matching files out of the report (glob, repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(super) exclude: Vec<String>,

    /// Write the report to FILE instead of standard output (the summary line and errors
    /// still go to standard error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(super) output: Option<PathBuf>,

    /// No colours (also when NO_COLOR is set or output is not a terminal).
    #[arg(long)]
    pub(super) no_color: bool,

    /// Also list, on standard error, what each rule could not judge because a value is
    /// unknown before apply (what `--plan` would add). Never a finding.
    #[arg(long)]
    pub(super) explain_unknown: bool,
}

pub(super) fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.parse()
}

/// Everything a lint run needs, after merging flags and configuration.
pub(super) struct Settings {
    pub(super) options: LintOptions,
    /// Codes that run (select minus ignore), DR000 included when it runs.
    pub(super) active: Vec<&'static str>,
    pub(super) fail_on: FailOn,
    pub(super) exclude: Vec<Exclude>,
    /// DR000's severity, or None when it does not run.
    pub(super) dr000: Option<Severity>,
    /// DR900's (expired suppressions) severity, or None when it does not run.
    pub(super) expired: Option<Severity>,
    /// DR901's (unused suppressions) severity, or None when it does not run.
    pub(super) unused: Option<Severity>,
    /// DR902's (malformed suppressions) severity, or None when it does not run.
    pub(super) malformed: Option<Severity>,
    /// The baseline to apply (`--baseline`, else the configuration's `baseline`); the run
    /// then notes which directories it linted in full.
    pub(super) baseline: Option<PathBuf>,
}

/// Merges `.drlint.toml` and flags: flags win, then the file, then defaults.
pub(super) fn settings(args: &CheckArgs) -> Result<Settings> {
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
    let layer_severity = |rule: &RuleMeta| {
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
pub(super) fn plan_config_dir(args: &CheckArgs) -> Option<PathBuf> {
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
