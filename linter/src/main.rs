//! The `drlint` command: a thin shell over the `drlint` library (see `drlint::cli`).

use std::process::ExitCode;

use drlint::cli::{self, Engine};
use drlint::render::RuleInfo;

fn main() -> ExitCode {
    cli::run(Engine {
        lint: drlint::lint,
        lint_plan: drlint::lint_plan,
        rules: drlint::rules::RULES.iter().map(RuleInfo::from).collect(),
        fix: drlint::fix::apply,
    })
}
