#!/usr/bin/env bash
# Turns on the drlint binary's CLI and its integration tests once the engine's API exists
# (drlint::lint, drlint::lint_plan, drlint::rules::{RULES, lookup}, drlint::fix::apply).
# Run from the repository root, then review the new snapshots before committing.
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=linter/tests/pending_engine
cp "$here/main.rs.in" linter/src/main.rs
git mv "$here"/cli_*.rs linter/tests/
git mv "$here/cli_support" linter/tests/cli_support
INSTA_UPDATE=always cargo test -p drlint --tests || true
echo "Now read linter/tests/snapshots/*.snap, then: cargo test -p drlint"
