//! Every input the fuzz targets (`linter/fuzz/`) ever crashed or hung on, kept in
//! `tests/fuzz_regressions/` and run through the same checks (`drlint::fuzz`): no panic,
//! the report is stable, every output format renders, `--fix` output re-parses, makes no
//! new finding and is idempotent. The fixtures and examples (the fuzz seeds) must pass too.

use std::path::{Path, PathBuf};

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn check(input: &Path) {
    let data = std::fs::read(input).unwrap();
    check_data(&data, &input.display().to_string());
}

fn check_data(data: &[u8], name: &str) {
    for (target, run) in [
        ("lint_source", drlint::fuzz::lint_source as fn(&[u8])),
        ("fix_roundtrip", drlint::fuzz::fix_roundtrip),
    ] {
        if let Err(e) = std::panic::catch_unwind(|| run(data)) {
            let message = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{target} fails on {name}: {message}");
        }
    }
}

#[test]
fn every_fuzz_regression_input_passes_both_targets() {
    let inputs = files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions"));
    assert!(!inputs.is_empty());
    for input in inputs {
        check(&input);
    }
}

#[test]
fn every_fixture_file_passes_both_targets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = Vec::new();
    let mut json = Vec::new();
    let mut dirs = vec![
        root.join("tests/fixtures"),
        root.join("tests/json"),
        root.join("../examples"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                inputs.push(path);
            } else if drlint::json_config::is_json_config(&path) {
                json.push(path);
            }
        }
    }
    inputs.push(root.join("fuzz/seeds/plan.json"));
    assert!(inputs.len() > 50, "{inputs:?}");
    for input in inputs {
        check(&input);
    }
    // A `.tf.json` file is the fourth file of an input, after three NUL bytes.
    assert!(!json.is_empty());
    for path in json {
        let mut data = b"\0\0\0".to_vec();
        data.extend(std::fs::read(&path).unwrap());
        check_data(&data, &path.display().to_string());
    }
}
