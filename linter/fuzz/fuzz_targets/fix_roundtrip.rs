//! `--fix` on arbitrary files: the fixed text re-parses, makes no new finding, and a second
//! `--fix` changes nothing. The checks live in `drlint::fuzz::fix_roundtrip`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| drlint::fuzz::fix_roundtrip(data));
