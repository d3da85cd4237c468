//! The command line's unit tests: flags against settings, the gate, atomic writes.

use super::check::*;
use super::fixes::*;
use super::flags::*;
use super::run::*;
use super::*;
use crate::config::FailOn;
use crate::{FileError, Severity};
use std::fs;
use std::path::PathBuf;

#[test]
fn cli_definition_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}

#[test]
fn broken_pipe_is_recognised_through_context() {
    let e = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
    assert!(is_broken_pipe(&e));
}

#[test]
fn bail_is_not_a_broken_pipe() {
    let e: anyhow::Error = (|| -> Result<()> { anyhow::bail!("x") })().unwrap_err();
    assert!(!is_broken_pipe(&e));
}

fn install_fake_engine() {
    fn no_report(_: &LintOptions) -> Report {
        Report::default()
    }
    fn no_plan(_: &Path, _: &LintOptions) -> Report {
        Report::default()
    }
    fn no_fix(source: &str, _: &[Finding]) -> String {
        source.to_string()
    }
    let _ = ENGINE.set(Engine {
        lint: no_report,
        lint_plan: no_plan,
        rules: crate::render::testing::rules(),
        fix: no_fix,
    });
}

fn settings_for(args: &[&str]) -> Result<Settings> {
    install_fake_engine();
    let cli = Cli::try_parse_from(std::iter::once("drlint").chain(args.iter().copied()))?;
    settings(&cli.check)
}

#[test]
fn flags_override_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("drlint.toml");
    fs::write(
        &config,
        "select = [\"DR010\"]\nignore = [\"DR003\"]\nmin_retention_days = 14\nfail_on = \"note\"\n[severity]\nDR010 = \"error\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let from_file = settings_for(&["--config", config]).unwrap();
    assert_eq!(from_file.options.select, ["DR010"]);
    assert_eq!(from_file.options.ignore, ["DR003"]);
    assert_eq!(from_file.options.min_retention_days, 14);
    assert_eq!(
        from_file.options.severity.get("DR010"),
        Some(&Severity::Error)
    );
    assert_eq!(from_file.fail_on, FailOn::At(Severity::Note));
    assert_eq!(from_file.active, ["DR010"]);

    let flags = settings_for(&[
        "--config",
        config,
        "--select",
        "DR003,DR010",
        "--severity",
        "DR010=note",
        "--min-retention-days",
        "30",
        "--fail-on",
        "error",
        "--ignore",
        "DR000",
    ])
    .unwrap();
    assert_eq!(flags.options.select, ["DR003", "DR010"]);
    assert!(
        flags.options.ignore.is_empty(),
        "{:?}",
        flags.options.ignore
    );
    assert_eq!(flags.options.severity.get("DR010"), Some(&Severity::Note));
    assert_eq!(flags.options.min_retention_days, 30);
    assert_eq!(flags.fail_on, FailOn::At(Severity::Error));
    assert_eq!(flags.active, ["DR003", "DR010"]);
    assert_eq!(flags.dr000, None);
}

#[test]
fn defaults_without_a_file() {
    let s = settings_for(&["--no-config"]).unwrap();
    assert!(s.options.select.is_empty() && s.options.ignore.is_empty());
    assert_eq!(s.options.min_retention_days, 7);
    assert_eq!(s.fail_on, FailOn::At(Severity::Warning));
    assert_eq!(
        s.active,
        ["DR000", "DR003", "DR010", "DR900", "DR901", "DR902"]
    );
    assert_eq!(s.dr000, Some(Severity::Warning));
    assert_eq!(s.expired, Some(Severity::Warning));
    assert_eq!(s.unused, Some(Severity::Warning));
    assert_eq!(s.malformed, Some(Severity::Warning));
}

#[test]
fn the_engine_never_sees_dr000() {
    let s = settings_for(&[
        "--no-config",
        "--select",
        "DR000,DR003",
        "--severity",
        "DR000=error",
    ])
    .unwrap();
    assert_eq!(s.options.select, ["DR003"]);
    assert!(s.options.severity.is_empty());
    assert_eq!(s.dr000, Some(Severity::Error));
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["--no-config", "--select", "DR999"][..],
        &["--no-config", "--severity", "DR003"],
        &["--no-config", "--severity", "DR003=loud"],
        &["--no-config", "--dr-region", "Mars"],
        &["--no-config", "--var-file", "/nonexistent/x.tfvars"],
        &["--config", "/nonexistent/drlint.toml"],
    ] {
        let e = settings_for(args)
            .err()
            .unwrap_or_else(|| panic!("{args:?} accepted"));
        assert!(e.downcast_ref::<UsageError>().is_some(), "{args:?}: {e}");
    }
}

#[test]
fn postprocess_applies_exclude_severity_and_scoping() {
    use crate::finding::Location;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tf");
    let b = dir.path().join("b.tf");
    fs::write(&a, "resource \"x\" \"y\" {}\n").unwrap();
    fs::write(&b, "resource \"x\" \"z\" {}\n").unwrap();
    let finding = |file: &Path, rule: &'static str| Finding {
        rule,
        name: "n",
        severity: Severity::Warning,
        resource: "x.y".into(),
        file: file.to_path_buf(),
        location: Location {
            line: 1,
            column: 1,
            start: 0,
            end: 1,
        },
        block_line: 1,
        message: "m".into(),
        fix: None,
        suppress_at: Vec::new(),
        resource_file: None,
    };
    let report = Report {
        findings: vec![
            finding(&a, "DR010"),
            finding(&b, "DR010"),
            finding(&a, "DR999"),
        ],
        errors: vec![],
        files: 2,
        ..Report::default()
    };
    let a_str = a.to_str().unwrap();
    let s = settings_for(&["--no-config", a_str, "--severity", "DR010=error"]).unwrap();
    let out = postprocess(report, &s);
    // Only the named file, only known active rules, the configured severity.
    assert_eq!(out.report.findings.len(), 1, "{:?}", out.report.findings);
    assert_eq!(out.report.findings[0].file, a);
    assert_eq!(out.report.findings[0].severity, Severity::Error);
}

#[test]
fn exit_codes_follow_the_gate() {
    let mut report = Report::default();
    assert_eq!(
        exit_code(&report, FailOn::At(Severity::Warning)),
        ExitCode::SUCCESS
    );
    report.findings.push(Finding {
        rule: "DR010",
        name: "n",
        severity: Severity::Warning,
        resource: String::new(),
        file: PathBuf::from("a.tf"),
        location: Default::default(),
        block_line: 1,
        message: String::new(),
        fix: None,
        suppress_at: Vec::new(),
        resource_file: None,
    });
    assert_eq!(
        exit_code(&report, FailOn::At(Severity::Warning)),
        ExitCode::from(1)
    );
    assert_eq!(
        exit_code(&report, FailOn::At(Severity::Error)),
        ExitCode::SUCCESS
    );
    assert_eq!(exit_code(&report, FailOn::Never), ExitCode::SUCCESS);
    report.errors.push(FileError {
        file: PathBuf::from("b.tf"),
        line: None,
        column: None,
        message: String::new(),
    });
    assert_eq!(exit_code(&report, FailOn::Never), ExitCode::from(2));
}

#[cfg(unix)]
#[test]
fn atomic_writes_keep_permissions_and_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("db.tf");
    fs::write(&real, "old\n").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.tf");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write_atomic(&link, b"new\n").unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    assert!(write_atomic(&dir.path().join("missing.tf"), b"x").is_err());
}

#[test]
fn openable_paths_are_relative_to_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("db")).unwrap();
    fs::write(dir.path().join("db/main.tf"), "").unwrap();
    // The engine reported the file relative to the linted directory.
    let found = openable(Path::new("./db/main.tf"), &[dir.path().to_path_buf()]);
    assert_eq!(found, dir.path().join("db/main.tf"));
    let unknown = openable(Path::new("./nowhere.tf"), &[dir.path().to_path_buf()]);
    assert_eq!(unknown, PathBuf::from("nowhere.tf"));
}
