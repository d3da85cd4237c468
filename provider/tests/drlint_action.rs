//! The drlint GitHub Action's script (`scripts/drlint-action.sh`, behind `action.yml`), run
//! locally as far as it goes without GitHub: it downloads the release tarball that
//! `scripts/release` made (over file://), checks its .sha256, writes SARIF, sets its outputs
//! in `$GITHUB_OUTPUT`, and exits with drlint's status.

mod release_support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use drkit_testkit::tools;
use release_support::*;

/// A database with no deletion protection (DR003, an error) among other findings.
const UNSAFE_TF: &str = r#"resource "aws_db_instance" "orders" {
  identifier              = "orders"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  backup_retention_period = 1
}
"#;

/// Where the action runs: a repository to lint, a cache, an output file, a release URL.
struct Run {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Run {
    fn new(release_url: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/db")).unwrap();
        std::fs::write(dir.path().join("repo/db/main.tf"), UNSAFE_TF).unwrap();
        let env = vec![
            ("INPUT_RELEASE_URL".into(), release_url.to_string()),
            ("INPUT_PATHS".into(), "db".into()),
            ("INPUT_SARIF_FILE".into(), "reports/drlint.sarif".into()),
            (
                "DRLINT_CACHE_DIR".into(),
                dir.path().join("cache").display().to_string(),
            ),
            (
                "GITHUB_OUTPUT".into(),
                dir.path().join("github_output").display().to_string(),
            ),
        ];
        Run { dir, env }
    }

    fn set(&mut self, key: &str, value: &str) -> &mut Run {
        self.env.push((key.into(), value.into()));
        self
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Runs the script in the repository; PATH may be replaced.
    fn run(&self) -> Output {
        let mut cmd = Command::new(tools::repo_root().join("scripts/drlint-action.sh"));
        cmd.current_dir(self.repo());
        for key in [
            "INPUT_VERSION",
            "INPUT_FAIL_ON",
            "INPUT_BINARY",
            "INPUT_INSTALL",
            "INPUT_ARGS",
            "INPUT_ANNOTATIONS",
            "CARGO_TARGET_DIR",
        ] {
            cmd.env_remove(key);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.output().unwrap()
    }

    /// What the script wrote to `$GITHUB_OUTPUT`.
    fn outputs(&self) -> BTreeMap<String, String> {
        std::fs::read_to_string(self.dir.path().join("github_output"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A release directory laid out as GitHub serves it: `vVERSION/<asset>`; returns its URL.
fn publish(release: &Release) -> String {
    let root = release.scratch("github-releases");
    let tag = root.join(format!("v{VERSION}"));
    std::fs::create_dir_all(&tag).unwrap();
    for name in [drlint_tarball(), format!("{}.sha256", drlint_tarball())] {
        std::fs::copy(release.file(&name), tag.join(&name)).unwrap();
    }
    format!("file://{}", root.display())
}

/// The number of findings drlint itself reports for the directory, as JSON.
fn findings_of(dir: &Path) -> usize {
    let drlint = Path::new(PROVIDER).parent().unwrap().join("drlint");
    let out = Command::new(drlint)
        .args(["--format", "json", "--fail-on", "never", "db"])
        .current_dir(dir)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"].as_array().unwrap().len()
}

#[test]
fn the_action_downloads_the_release_checks_its_sha256_and_leaves_sarif_for_upload() {
    let release = Release::cut_unsigned();
    let mut run = Run::new(&publish(&release));
    run.set("INPUT_FAIL_ON", "error");

    let out = run.run();
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings at error fail: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("v{VERSION}/{}", drlint_tarball())),
        "{stderr}"
    );

    // The SARIF report, where the input said, for upload-sarif.
    let sarif_path = run.repo().join("reports/drlint.sarif");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["semanticVersion"],
        VERSION
    );
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"DR003"), "{rules:?}");

    // The outputs a workflow reads.
    let outputs = run.outputs();
    let cached = run
        .dir
        .path()
        .join(format!("cache/{VERSION}/x86_64-unknown-linux-gnu/drlint"));
    assert_eq!(
        outputs.get("sarif-file").map(String::as_str),
        Some(sarif_path.to_str().unwrap())
    );
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("1"));
    assert_eq!(
        outputs.get("findings"),
        Some(&findings_of(&run.repo()).to_string())
    );
    assert_eq!(
        outputs.get("drlint-path").map(String::as_str),
        Some(cached.to_str().unwrap())
    );
    assert_eq!(
        outputs.get("drlint-version").map(String::as_str),
        Some(VERSION)
    );
    // Annotations for the pull request, as workflow commands on stdout.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::error file=db/main.tf"), "{stdout}");

    // A second run reuses the verified binary; `fail-on: never` reports without failing.
    run.set("INPUT_FAIL_ON", "never");
    let again = run.run();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains(&format!("using cached {}", cached.display())),
        "{}",
        text(&again)
    );
}

#[test]
fn the_action_refuses_a_download_that_does_not_match_its_sha256() {
    let release = Release::cut_unsigned();
    let url = publish(&release);
    // Swap the tarball for another file; the published .sha256 stays.
    let tarball = release
        .scratch("github-releases")
        .join(format!("v{VERSION}/{}", drlint_tarball()));
    std::fs::write(&tarball, b"not the release").unwrap();

    let run = Run::new(&url);
    let out = run.run();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not match its published SHA-256")
            && stderr.contains("refusing to run it"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("building it instead"),
        "no fallback on a bad checksum"
    );
    assert!(!run
        .dir
        .path()
        .join("cache")
        .join(VERSION)
        .join("x86_64-unknown-linux-gnu/drlint")
        .exists());
    assert!(!run.repo().join("reports/drlint.sarif").exists());
}

#[test]
fn without_a_release_the_action_builds_drlint_from_its_checkout_with_cargo() {
    let empty = tempfile::tempdir().unwrap();
    let url = format!("file://{}", empty.path().display());

    // install: download fails clearly when there is no release.
    let mut run = Run::new(&url);
    run.set("INPUT_INSTALL", "download");
    let out = run.run();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("no drlint {VERSION} release")),
        "{}",
        text(&out)
    );

    // install: auto builds instead. A full release build of drlint here would take
    // minutes, so `cargo` is a recorder that drops the test build where cargo would.
    let bin = tempfile::tempdir().unwrap();
    let record = bin.path().join("cargo-args");
    let drlint = Path::new(PROVIDER).parent().unwrap().join("drlint");
    let fake = bin.path().join("cargo");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {record}\nwhile [ $# -gt 0 ]; do\n  \
             [ \"$1\" = --target-dir ] && dir=$2\n  shift\ndone\n\
             mkdir -p \"$dir/release\" && cp {drlint} \"$dir/release/drlint\"\n",
            record = record.display(),
            drlint = drlint.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut run = Run::new(&url);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run.set("PATH", &path).set("INPUT_FAIL_ON", "never");
    let out = run.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("building it instead"),
        "{}",
        text(&out)
    );
    let args = std::fs::read_to_string(&record).unwrap();
    let args: Vec<&str> = args.lines().collect();
    let manifest = tools::repo_root().join("Cargo.toml");
    assert_eq!(
        &args[..7],
        [
            "build",
            "--locked",
            "--release",
            "-p",
            "drlint",
            "--manifest-path",
            manifest.to_str().unwrap()
        ],
        "{args:?}"
    );
    assert!(run.repo().join("reports/drlint.sarif").is_file());
    assert_eq!(
        run.outputs().get("drlint-version").map(String::as_str),
        Some(VERSION)
    );
}

#[test]
fn a_preinstalled_binary_is_used_as_is_and_a_clean_repository_passes() {
    let drlint = Path::new(PROVIDER).parent().unwrap().join("drlint");
    let mut run = Run::new("file:///nonexistent");
    std::fs::write(
        run.repo().join("db/main.tf"),
        "variable \"region\" {\n  default = \"us-east-1\"\n}\n",
    )
    .unwrap();
    run.set("INPUT_BINARY", drlint.to_str().unwrap())
        .set("INPUT_ANNOTATIONS", "false");
    let out = run.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let outputs = run.outputs();
    assert_eq!(outputs.get("findings").map(String::as_str), Some("0"));
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("0"));
    assert_eq!(
        outputs.get("drlint-path").map(String::as_str),
        Some(drlint.to_str().unwrap())
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.repo().join("reports/drlint.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));

    // A bad input is a usage error naming it, before anything runs.
    run.set("INPUT_FAIL_ON", "sometimes");
    let out = run.run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("fail-on must be note, warning, error or never, not \"sometimes\""),
        "{}",
        text(&out)
    );
}

/// The hooks of `.pre-commit-hooks.yaml` as (id, entry, language).
fn pre_commit_hooks() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(tools::repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    text.split("\n- id:")
        .skip(1)
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.trim().strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            let id = block.lines().next().unwrap().trim().to_string();
            (id, field("entry"), field("language"))
        })
        .collect()
}

#[test]
fn the_pre_commit_hooks_run_the_release_drlint_from_path() {
    let release = Release::cut_unsigned();
    let unpacked = release.scratch("drlint");
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(release.file(&drlint_tarball()))
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(untar.success());
    // PATH holds the release's drlint and the system, nothing from this build.
    let path = format!(
        "{}:/usr/bin:/bin",
        unpacked
            .join(format!("drlint-{VERSION}-x86_64-unknown-linux-gnu"))
            .display()
    );

    let hooks = pre_commit_hooks();
    let ids: Vec<&str> = hooks.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, ["drlint", "drlint-fix"]);
    for (id, entry, language) in &hooks {
        assert_eq!(language, "system", "{id} runs the drlint on PATH");
        assert!(entry.starts_with("drlint"), "{id}: {entry}");
    }

    // As pre-commit runs a system hook: the entry, split on spaces, then the staged files.
    let run_hook = |id: &str, repo: &Path| {
        let (_, entry, _) = hooks.iter().find(|(i, _, _)| i == id).unwrap();
        let mut words = entry.split_whitespace();
        Command::new(words.next().unwrap())
            .args(words)
            .arg("db/main.tf")
            .current_dir(repo)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let repo = release.scratch("repo");
    std::fs::create_dir_all(repo.join("db")).unwrap();
    std::fs::write(repo.join("db/main.tf"), UNSAFE_TF).unwrap();
    let lint = run_hook("drlint", &repo);
    assert_eq!(lint.status.code(), Some(1), "{}", text(&lint));
    assert!(
        String::from_utf8_lossy(&lint.stdout).contains("DR003"),
        "{}",
        text(&lint)
    );

    let fix = run_hook("drlint-fix", &repo);
    assert!(fix.status.code().is_some(), "{}", text(&fix));
    let fixed = std::fs::read_to_string(repo.join("db/main.tf")).unwrap();
    assert!(fixed.contains("deletion_protection"), "{fixed}");
}
