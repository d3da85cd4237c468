//! drlint: lints Terraform for disaster-recovery anti-patterns.
//!
//! A library first: the `drlint` binary is a thin CLI over it, and `terraform-provider-dr`
//! uses [`model`] to validate `dr_policy` with the same tier model the rules use.
//!
//! Modules import one way, bottom first in this order (`LAYERS` in the unit test
//! `layering.rs`, which fails on a `use crate::x` that names a later module, so no two
//! modules import each other):
//! - vocabulary: [`path_map`], [`model`], [`json_config`], [`eval`] (values), [`file_text`]
//!   (bytes as read, and the [`file_text::Sources`] renderers read back), [`finding`] (what
//!   linting produces, [`finding::RuleMeta`]), [`options`], [`source`] (reading and parsing);
//! - engine: [`context`] (what rules query, with its lazily built index), [`decided`],
//!   [`fix`] (building edits), [`rules`], [`shared_parses`], [`load`], [`plan`], and the
//!   entry points [`lint()`] and friends;
//! - output: [`suppress`] (inline suppressions, DR000 and DR900-DR902), [`baseline`],
//!   [`render`], [`config`] (`.drlint.toml`);
//! - shell: [`cli`] (flags -> one lint run -> fixes -> the check command), `fuzz`.

// Vocabulary: types and parsing every other layer shares.
pub mod eval;
pub mod file_text;
pub mod finding;
pub mod json_config;
pub mod model;
pub mod options;
pub mod path_map;
pub mod source;

// The engine: files -> parse -> module instances and values -> rules -> findings.
pub mod context;
pub mod decided;
pub mod fix;
mod lint;
pub mod load;
pub mod plan;
pub mod rules;
pub mod shared_parses;

pub use lint::{lint, lint_in_memory, lint_plan, lint_plan_json, run_rules};

// The user-facing layer: inline suppressions, baselines, output formats, configuration.
pub mod baseline;
pub mod config;
pub mod render;
pub mod suppress;

// The shell over the library.
pub mod cli;
#[doc(hidden)]
pub mod fuzz;

#[cfg(test)]
mod layering;

pub use finding::{
    Applicability, Edit, FileError, Finding, Fix, LintedPlan, Location, Report, Severity, Unjudged,
};
pub use options::LintOptions;
