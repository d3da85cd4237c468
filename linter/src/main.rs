//! The `drlint` command: a thin shell over the `drlint` library (see `drlint::cli`).

use std::process::ExitCode;

use drlint::cli::{self, Engine};

fn main() -> ExitCode {
    pad_heap_growth();
    cli::run(Engine {
        lint: drlint::lint,
        lint_plan: drlint::lint_plan,
        rules: drlint::rules::RULES.to_vec(),
        fix: drlint::fix::apply,
    })
}

/// A lint thread's heap grows as a batch's syntax trees are built, and glibc grows a
/// thread's heap by what each allocation needs, with an `mprotect` each time: some 900 at
/// 1,000 files, against 50 for the parse alone, about 3% of the wall time. Growing by 4 MB
/// at a time makes that a handful. Address space only: untouched pages cost no memory
/// (peak RSS at 10,000 files is the same).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn pad_heap_growth() {
    // SAFETY: `mallopt` sets one of glibc's allocator parameters and is safe to call at
    // any time; this runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pad_heap_growth() {}
