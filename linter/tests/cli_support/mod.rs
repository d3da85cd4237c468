//! Shared helpers for the CLI tests: a temporary project with `.tf` files and a way to run
//! the real `drlint` binary in it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A temporary directory that looks like a repository root (it has `.git`), so config
/// discovery never wanders above it.
pub struct Project {
    dir: tempfile::TempDir,
    root: PathBuf,
}

/// What one run of drlint produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical tempdir");
        std::fs::create_dir(root.join(".git")).expect(".git");
        Self { dir, root }
    }

    /// A project without the `.git` marker (for discovery tests).
    pub fn bare() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical tempdir");
        Self { dir, root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `content` to `rel`, creating directories.
    pub fn file(&self, rel: &str, content: &str) -> &Self {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, content).expect("write fixture");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).expect("read")
    }

    /// Runs drlint with `args` in the project root.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args)
    }

    /// Runs drlint with `args` in `rel` below the project root.
    pub fn run_in(&self, rel: &str, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_drlint"))
            .args(args)
            .current_dir(self.root.join(rel))
            .env_remove("NO_COLOR")
            .env_remove("GITHUB_STEP_SUMMARY")
            .stdin(Stdio::null())
            .output()
            .expect("run drlint");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "drlint panicked: {}",
            run.stderr
        );
        run
    }

    /// Replaces the temporary directory in `text` with `[TMP]`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root.display().to_string(), "[TMP]")
    }
}

/// The real terraform CLI (`TERRAFORM` or `/usr/local/bin/terraform`); tests that need it
/// fail loudly, never skip, when it is missing.
pub fn terraform() -> PathBuf {
    let path = std::env::var_os("TERRAFORM")
        .map_or_else(|| PathBuf::from("/usr/local/bin/terraform"), PathBuf::from);
    assert!(
        path.is_file(),
        "terraform is needed by this test: install it at {} or set TERRAFORM",
        path.display()
    );
    path
}

/// A database with deletion protection switched off (DR003, fixable) and no copy in another
/// region (DR010, a warning).
pub const DB_TF: &str = r#"resource "aws_db_instance" "main" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  deletion_protection = false
}
"#;

/// A database that only misses deletion protection (DR003, added by --fix).
pub const DB_NO_PROTECTION_TF: &str = r#"resource "aws_db_instance" "reports" {
  identifier     = "reports"
  engine         = "postgres"
  instance_class = "db.t3.micro"
}
"#;

/// Malformed HCL.
pub const BROKEN_TF: &str = "resource \"aws_s3_bucket\" \"b\" {{{\n";
