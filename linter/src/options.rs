//! Inputs to a lint run that come from the command line and `.drlint.toml`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::finding::Severity;

/// What to lint and how; the CLI and config layer fill it, the engine reads it.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// Files or directories; directories are walked for `*.tf`.
    pub paths: Vec<PathBuf>,
    /// `*.tfvars` files whose values override variable defaults, in order.
    pub var_files: Vec<PathBuf>,
    /// Rule codes to run; empty means all.
    pub select: Vec<String>,
    /// Rule codes to skip.
    pub ignore: Vec<String>,
    /// Per-rule severity overrides.
    pub severity: BTreeMap<String, Severity>,
    /// DR004's minimum `backup_retention_period`.
    pub min_retention_days: u32,
    /// Regions that count as DR regions for DR010 (empty: any region other than the primary).
    pub dr_regions: Vec<String>,
    /// Collect what each rule could not judge for want of a value known before apply
    /// ([`crate::Report::unknown`]).
    pub explain_unknown: bool,
    /// The process ends right after this run (the `drlint` command): the last
    /// configuration each lint thread built (its resources, index and syntax trees) is
    /// left to the operating system instead of freed one allocation at a time, as rustc
    /// and ruff leave theirs. A caller that goes on running leaves it false.
    pub exits_after: bool,
    /// With a plan: the configuration directory it was made from, so that findings point
    /// at the resource's block (file:line) instead of the plan file.
    pub config_dir: Option<PathBuf>,
}

impl Default for LintOptions {
    fn default() -> Self {
        Self {
            paths: vec![PathBuf::from(".")],
            var_files: Vec::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            severity: BTreeMap::new(),
            min_retention_days: 7,
            dr_regions: Vec::new(),
            explain_unknown: false,
            exits_after: false,
            config_dir: None,
        }
    }
}
