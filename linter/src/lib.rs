//! drlint: lints Terraform for disaster-recovery anti-patterns.
//!
//! A library first: the `drlint` binary is a thin CLI over it, and `terraform-provider-dr`
//! uses [`model`] to validate `dr_policy` with the same tier model the rules use.

pub mod file_text;
pub mod finding;
pub mod model;
pub mod options;
pub mod path_map;

// The engine: files -> parse -> module instances and values -> rules -> findings.
pub mod context;
pub mod decided;
pub mod eval;
pub mod fix;
#[doc(hidden)]
pub mod fuzz;
pub mod json_config;
mod lint;
pub mod load;
pub mod plan;
pub mod rules;
pub mod shared_parses;
pub mod source;

pub use lint::{lint, lint_in_memory, lint_plan, lint_plan_json, run_rules};

// The user-facing layer: configuration, inline suppressions, baselines, output formats.
pub mod baseline;
pub mod cli;
pub mod config;
pub mod render;
pub mod suppress;

pub use finding::{
    Applicability, Edit, FileError, Finding, Fix, Location, Report, Severity, Unjudged,
};
pub use options::LintOptions;
