//! `drlint rules` and `drlint explain`.

mod cli_support;

use cli_support::Project;

#[test]
fn rules_lists_every_rule_with_severity_and_fixability() {
    let run = Project::new().run(&["rules"]);
    assert_eq!(run.code, 0, "{run:?}");
    let header = run.stdout.lines().next().unwrap();
    for column in ["CODE", "NAME", "SEVERITY", "FIXABLE", "SUMMARY"] {
        assert!(header.contains(column), "{header}");
    }
    for rule in drlint::rules::RULES {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(rule.code))
            .unwrap_or_else(|| panic!("{} listed", rule.code));
        assert!(line.contains(rule.name), "{line}");
        assert!(line.contains(rule.severity.as_str()), "{line}");
    }
    assert!(run.stdout.contains("DR000  suppression-without-reason"));
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn rules_json_is_machine_readable() {
    let run = Project::new().run(&["rules", "--format", "json"]);
    assert_eq!(run.code, 0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules = v.as_array().unwrap();
    // The engine's rules and the suppression checks DR000, DR900, DR901, DR902.
    assert_eq!(rules.len(), drlint::rules::RULES.len() + 4);
    assert_eq!(rules[0]["code"], "DR000");
    assert_eq!(rules[rules.len() - 1]["code"], "DR902");
    assert!(rules.iter().all(|r| r["fixable"].is_boolean()));
}

#[test]
fn explain_prints_the_rule_doc_page() {
    let run = Project::new().run(&["explain", "DR003"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = drlint::rules::lookup("DR003").unwrap().doc;
    assert_eq!(run.stdout.trim_end(), doc.trim_end());
}

#[test]
fn explain_accepts_lowercase_codes_and_names() {
    let p = Project::new();
    let by_code = p.run(&["explain", "dr003"]);
    let by_name = p.run(&["explain", "missing-deletion-protection"]);
    assert_eq!(by_code.code, 0);
    assert_eq!(by_code.stdout, by_name.stdout);
}

#[test]
fn explain_knows_dr000() {
    let run = Project::new().run(&["explain", "DR000"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("suppression-without-reason"),
        "{}",
        run.stdout
    );
}

#[test]
fn explain_unknown_code_lists_valid_codes_and_exits_2() {
    let run = Project::new().run(&["explain", "DR099"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("unknown rule code \"DR099\""),
        "{}",
        run.stderr
    );
    for rule in drlint::rules::RULES {
        assert!(run.stderr.contains(rule.code), "{}", run.stderr);
    }
}
