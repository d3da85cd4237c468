//! Arbitrary bytes as `main.tf` (then `terraform.tfvars` and a local module after NUL
//! bytes, and the whole input as plan JSON) through parse, load and eval, the rules,
//! suppressions and every output format. The checks live in `drlint::fuzz::lint_source`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| drlint::fuzz::lint_source(data));
