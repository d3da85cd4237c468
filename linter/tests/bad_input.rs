//! Pathological inputs: every bad file is a clear error (exit 2) and every other file is
//! still linted and reported. (A hang fails through nextest's timeout; speed is measured
//! in bench/, never asserted here.)

use std::path::Path;
use std::process::Command;

const GOOD: &str = "resource \"aws_db_instance\" \"ok\" {\n  deletion_protection = false\n}\n";

fn drlint(dir: &Path) -> (i32, serde_json::Value) {
    drlint_on(dir, &["."])
}

fn drlint_on(dir: &Path, paths: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_drlint"))
        .args(["--format", "json", "--select", "DR003", "--no-config"])
        .args(paths)
        .current_dir(dir)
        .output()
        .expect("run drlint");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn project(bad_name: &str, bad: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::create_dir(dir.path().join("good")).unwrap();
    std::fs::write(dir.path().join("good/main.tf"), GOOD).unwrap();
    std::fs::create_dir(dir.path().join("bad")).unwrap();
    std::fs::write(dir.path().join("bad").join(bad_name), bad).unwrap();
    dir
}

/// The bad file is an error with `what` in its message, the good file is still linted.
fn assert_reported(dir: &Path, what: &str) -> serde_json::Value {
    let (code, json) = drlint(dir);
    assert_eq!(code, 2, "{json:#}");
    let errors = json["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains(what)),
        "no error mentioning {what:?}: {json:#}"
    );
    assert_eq!(json["findings"][0]["file"], "good/main.tf", "{json:#}");
    json
}

#[test]
fn invalid_utf8_is_an_error_with_its_line() {
    let dir = project("latin1.tf", b"# caf\xe9\nresource \"a\" \"b\" {}\n");
    let json = assert_reported(dir.path(), "UTF-8");
    assert_eq!(json["errors"][0]["line"], 1);
}

#[test]
fn binary_files_are_refused() {
    let dir = project("blob.tf", &[0x7f, b'E', b'L', b'F', 0, 1, 2, 3]);
    assert_reported(dir.path(), "binary");
}

#[test]
fn huge_files_are_refused_without_reading_them() {
    let dir = project("small.tf", b"");
    let big = std::fs::File::create(dir.path().join("bad/huge.tf")).unwrap();
    big.set_len(100 * 1024 * 1024).unwrap(); // sparse: 100 MB on paper
    assert_reported(dir.path(), "over the 50 MB limit");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let dir = project("deep.tf", deep.as_bytes());
    assert_reported(dir.path(), "nesting");
}

/// hcl-edit parsed a failing term after a chain of binary operators twice, at every level:
/// 40 levels were 2^40 parses (third_party/hcl-edit/README.md).
#[test]
fn nested_operator_chains_that_do_not_parse_fail_at_once() {
    let text = format!("x {{\n{}", "  s = a + b + {\n".repeat(40));
    let dir = project("chains.tf", text.as_bytes());
    let json = assert_reported(dir.path(), "cannot parse HCL");
    assert_eq!(json["errors"][0]["line"], 2, "{json:#}");
}

#[test]
fn malformed_hcl_points_at_the_line() {
    let dir = project("broken.tf", b"resource \"a\" \"b\" {\n  x = \n}\n");
    let json = assert_reported(dir.path(), "cannot parse HCL");
    assert_eq!(json["errors"][0]["line"], 2);
}

#[test]
fn symlink_loops_and_broken_links_do_not_hang() {
    let dir = project("ok.tf", b"");
    std::os::unix::fs::symlink(dir.path().join("bad"), dir.path().join("bad/loop")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/target.tf", dir.path().join("bad/dangling.tf"))
        .unwrap();
    let (code, json) = drlint(dir.path());
    assert_eq!(code, 2, "{json:#}");
    assert!(
        json["errors"].to_string().contains("dangling.tf"),
        "{json:#}"
    );
    assert_eq!(json["findings"].as_array().unwrap().len(), 1, "{json:#}");
}

#[test]
fn a_directory_reached_twice_is_linted_once_under_the_first_path_in_walk_order() {
    // `b_link` (a symlink to `z_real`) sorts before it; `a/deep` is walked before the
    // top-level `m_link` that points at it. Each real directory is linted once, under the
    // path a walk in sorted order reaches it by first.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["a/deep", "z_real"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
        std::fs::write(root.join(d).join("main.tf"), GOOD).unwrap();
    }
    std::os::unix::fs::symlink(root.join("z_real"), root.join("b_link")).unwrap();
    std::os::unix::fs::symlink(root.join("a/deep"), root.join("m_link")).unwrap();
    let (_, json) = drlint_on(root, &["."]);
    let mut files: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    assert_eq!(files, ["a/deep/main.tf", "b_link/main.tf"], "{json:#}");
}

#[test]
fn crlf_bom_and_long_lines_lint_normally() {
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend_from_slice(
        b"resource \"aws_db_instance\" \"crlf\" {\r\n  deletion_protection = false\r\n}\r\n",
    );
    text.extend_from_slice(
        format!(
            "locals {{\r\n  long = \"{}\"\r\n}}\r\n",
            "x".repeat(1_000_000)
        )
        .as_bytes(),
    );
    let dir = project("crlf.tf", &text);
    let (code, json) = drlint(dir.path());
    assert_eq!(code, 1, "{json:#}");
    let crlf: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == "bad/crlf.tf")
        .collect();
    assert_eq!(crlf.len(), 1, "{json:#}");
    assert_eq!(
        (crlf[0]["line"].as_u64(), crlf[0]["column"].as_u64()),
        (Some(2), Some(3))
    );
}

/// `n` databases in one file, every other one without deletion protection.
fn databases(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "resource \"aws_db_instance\" \"db{i}\" {{\n  deletion_protection = {}\n}}\n",
            i % 2 == 0
        ));
    }
    text
}

#[test]
fn many_resources_in_one_file_stay_bounded() {
    let text = databases(20_000);
    let dir = project("many.tf", text.as_bytes());
    let (code, json) = drlint(dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        10_001,
        "half of them, plus good/"
    );
}

#[test]
fn a_hundred_thousand_resources_in_one_file_are_linted() {
    let text = databases(100_000);
    let dir = project("many.tf", text.as_bytes());
    let (code, json) = drlint(dir.path());
    assert_eq!(code, 1);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 50_001, "half of them, plus good/");
    assert!(findings
        .iter()
        .any(|f| f["resource"] == "aws_db_instance.db99999" && f["line"] == 299_999));
    assert_eq!(json["files"], 2);
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// A FIFO with no writer blocks whoever opens it, and /dev/zero never ends: neither is
/// opened, whether found by the walk or named on the command line.
#[test]
fn fifos_and_devices_named_tf_are_errors_not_hangs() {
    let dir = project("ok.tf", b"");
    mkfifo(&dir.path().join("bad/pipe.tf"));
    mkfifo(&dir.path().join("bad/pipe.auto.tfvars"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("bad/zero.tf")).unwrap();
    for paths in [&["."][..], &["bad/pipe.tf", "bad/zero.tf", "bad", "good"]] {
        let (code, json) = drlint_on(dir.path(), paths);
        assert_eq!(code, 2, "{paths:?}: {json:#}");
        let errors = json["errors"].to_string();
        for what in [
            "bad/pipe.tf\",\"line\":null,\"message\":\"cannot read: a FIFO",
            "bad/zero.tf\",\"line\":null,\"message\":\"cannot read: a device",
            "bad/pipe.auto.tfvars\",\"line\":null,\"message\":\"cannot read: a FIFO",
        ] {
            assert!(errors.contains(what), "{paths:?}: no {what:?} in {json:#}");
        }
        assert_eq!(json["findings"][0]["file"], "good/main.tf", "{json:#}");
    }
}

/// Tests run as root, so permissions cannot make a file unreadable; /proc/self/mem can:
/// reading it from offset 0 fails with EIO.
#[test]
fn a_file_whose_read_fails_is_an_error() {
    let dir = project("ok.tf", b"");
    std::os::unix::fs::symlink("/proc/self/mem", dir.path().join("bad/mem.tf")).unwrap();
    let json = assert_reported(dir.path(), "cannot read: Input/output error");
    assert_eq!(json["errors"][0]["file"], "bad/mem.tf", "{json:#}");
}
