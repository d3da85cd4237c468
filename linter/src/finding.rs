//! What linting produces: findings, file errors and the report that carries both, with the
//! rule metadata they are named by ([`RuleMeta`]) and [`module_path()`].
//! The engine fills these; renderers, suppressions and the severity gate only read them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How bad a finding is; ordered so that `--fail-on` compares with `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a gate set to warning or error.
    Note,
    /// Worth fixing.
    Warning,
    /// Breaks recovery.
    Error,
}

impl Severity {
    /// The lowercase name used in config, JSON and SARIF mapping.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "note" | "info" => Ok(Severity::Note),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity {other:?}: use \"note\", \"warning\" or \"error\""
            )),
        }
    }
}

/// A 1-based line and column (columns count characters, not bytes) plus the byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Byte offset of the start in the file.
    pub start: usize,
    /// Byte offset of the end in the file (exclusive).
    pub end: usize,
}

/// One text replacement in one file; a fix is a list of them, applied back to front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// Byte range to replace.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// Replacement text.
    pub text: String,
}

/// Whether `--fix` may apply a fix without asking (ruff's applicability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Keeps the meaning the user wanted; `--fix` applies it.
    Safe,
    /// Changes behaviour (e.g. may recreate a resource); shown, never applied.
    Unsafe,
}

/// A suggested change: a description always, edits when the change is mechanical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// What to do, for humans: `set deletion_protection = true`.
    pub description: String,
    /// Mechanical edits to the finding's file; empty when the fix needs judgement.
    pub edits: Vec<Edit>,
    /// Whether `--fix` may apply it.
    pub applicability: Applicability,
}

/// True when `a` and `b` are in the same file, compared as bytes: findings come in runs of
/// one file (a rule's, a configuration's), and per-file work is done once per run with
/// `findings.chunk_by(same_file)`.
pub fn same_file(a: &Finding, b: &Finding) -> bool {
    a.file.as_os_str() == b.file.as_os_str()
}

/// One rule violation at one Terraform address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule code, e.g. `DR003`.
    pub rule: &'static str,
    /// Rule name, e.g. `missing-deletion-protection`.
    pub name: &'static str,
    /// Effective severity (after configuration).
    pub severity: Severity,
    /// Terraform address without count/for_each index, with `module.NAME.` prefixes.
    pub resource: String,
    /// File, as given or found (relative to the linted path when it was relative).
    pub file: PathBuf,
    /// Where to point: the offending attribute, or the block header when it is missing.
    pub location: Location,
    /// 1-based line of the enclosing block's header; `# drlint:ignore` above the block
    /// suppresses every finding inside it.
    pub block_line: u32,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it.
    pub fix: Option<Fix>,
    /// Other lines where a `# drlint:ignore` covers this finding: the header lines of the
    /// `module` blocks that instantiate its module, outermost first, with their files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress_at: Vec<(PathBuf, u32)>,
    /// The file of the resource's block when the finding points elsewhere, at the variable
    /// default or `module` block that decides the value: a run on named files (pre-commit)
    /// reports the finding when this file is named, too.
    #[serde(skip)]
    pub resource_file: Option<PathBuf>,
}

/// A resource a rule could not judge because a value is unknown before apply (a variable
/// without a default, an attribute known only after apply): no finding, and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unjudged {
    /// Rule code.
    pub rule: &'static str,
    /// The resource's address.
    pub resource: String,
    /// Where the unknown value is written (or the resource's header).
    pub file: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// What was unknown: `deletion_protection = var.protect: var.protect has no value`.
    pub what: String,
}

/// A file that could not be read or parsed; linting goes on with the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line where known.
    pub line: Option<u32>,
    /// 1-based column where known.
    pub column: Option<u32>,
    /// What went wrong and, where it helps, what to do.
    pub message: String,
}

/// Everything one lint run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Findings, sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// Files that could not be linted.
    pub errors: Vec<FileError>,
    /// How many `.tf` and `.tf.json` files were read.
    pub files: usize,
    /// With a plan linted (`--plan`) instead of files: the plan, for the summary.
    pub plan: Option<LintedPlan>,
    /// With [`crate::LintOptions::explain_unknown`]: what each rule could not judge.
    pub unknown: Vec<Unjudged>,
    /// Things worth knowing that are neither findings nor errors (remote module calls
    /// not followed for want of `terraform init`). Printed to standard error.
    pub notes: Vec<String>,
    /// The texts of the files read from disk (shared, not copied), by the path findings
    /// name them with: what the CLI shows snippets from and reads suppressions in, so that
    /// no file is read twice: the `.tf` and `.tf.json` files of the modules linted. Empty for plans.
    pub texts: crate::path_map::PathMap<crate::file_text::FileText>,
    /// The instance addresses of the findings' resources, by [`Finding::resource`], where
    /// `count`/`for_each` keys are known (`module.db[0].aws_db_instance.this`); a resource
    /// not listed is named by its address alone.
    pub instances: std::collections::BTreeMap<String, Vec<String>>,
}

/// A plan linted in place of configuration files: which, and how many resources it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintedPlan {
    /// The plan's JSON file.
    pub path: std::path::PathBuf,
    /// Its resources and data sources, by address (the instances of one `count` or
    /// `for_each` count once); `None` when it could not be read.
    pub resources: Option<usize>,
}

/// The module path of an address without index: `module.a.module.b.` of
/// `module.a.module.b.aws_db_instance.x`, empty in the root module.
pub fn module_path(address: &str) -> &str {
    let mut end = 0;
    while let Some(rest) = address[end..].strip_prefix("module.") {
        match rest.find('.') {
            Some(dot) => end += "module.".len() + dot + 1,
            None => break,
        }
    }
    &address[..end]
}

/// What a rule is, for listings, docs and configuration: the engine's rules and DR000,
/// which the suppression layer itself reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// `DR003`.
    pub code: &'static str,
    /// `missing-deletion-protection`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it finds.
    pub summary: &'static str,
    /// The doc page (markdown sections).
    pub doc: &'static str,
    /// Whether `--fix` can fix it.
    pub fixable: bool,
}
