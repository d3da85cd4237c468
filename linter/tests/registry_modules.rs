//! Registry modules as `terraform init` lays them out, linted as users run drlint on
//! them. The modules are small copies of the shapes of terraform-aws-modules' s3-bucket,
//! rds (v3.5.0) and rds-aurora (`registry_fixtures/README.md`), each in a git repository
//! that the real `terraform get` fetches into `.terraform/modules/`.

mod cli_support;

use std::path::Path;

use cli_support::Project;

/// Copies `registry_fixtures/NAME` into a new git repository.
fn module_repo(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let repo = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/registry_fixtures")
        .join(name);
    copy(&from, repo.path());
    cli_support::git_commit_all(repo.path());
    repo
}

/// A root module `infra/` whose `module` blocks (`caller`, with `SOURCE` for the module's
/// git URL) are laid out by `terraform get`.
fn project(module: &str, caller: &str) -> (Project, tempfile::TempDir) {
    let repo = module_repo(module);
    let source = format!(
        "git::file://{}",
        repo.path().canonicalize().unwrap().display()
    );
    let p = Project::new();
    p.file("infra/main.tf", &caller.replace("SOURCE", &source));
    cli_support::terraform_get(&p.root().join("infra"));
    (p, repo)
}

/// `RULE resource file:line message`, one line per finding, in report order.
fn findings(p: &Project, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--no-config", "--format", "json"];
    all.extend_from_slice(args);
    all.push("infra");
    let run = p.run(&all);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{} {}",
                f["rule"].as_str().unwrap(),
                f["resource"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"],
                f["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn s3_bucket_without_a_versioning_input_is_unversioned() {
    let (p, _repo) = project(
        "s3-bucket",
        "module \"backups\" {\n  source = \"SOURCE\"\n\n  bucket = \"orders-backups\"\n}\n",
    );
    let found = findings(&p, &["--select", "DR008"]);
    // The module's versioning resource has count = 0: there is none, and one finding
    // says so for the one bucket.
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "DR008 module.backups.aws_s3_bucket.this infra/.terraform/modules/backups/main.tf:"
        ),
        "{found:#?}"
    );
}

#[test]
fn s3_bucket_versioning_inputs_go_through_the_modules_try_chain() {
    for (input, want) in [
        ("{ enabled = true }", None),
        ("{ status = \"enabled\" }", None),
        ("{ status = true }", None),
        ("{ enabled = false }", Some("Suspended")),
        ("{ status = \"Suspended\" }", Some("Suspended")),
    ] {
        let caller = format!(
            "module \"backups\" {{\n  source = \"SOURCE\"\n\n  bucket     = \"orders-backups\"\n  versioning = {input}\n}}\n"
        );
        let (p, _repo) = project("s3-bucket", &caller);
        let found = findings(&p, &["--select", "DR008"]);
        match want {
            None => assert!(found.is_empty(), "{input}: {found:#?}"),
            Some(status) => {
                assert_eq!(found.len(), 1, "{input}: {found:#?}");
                assert!(
                    found[0].starts_with("DR008 module.backups.aws_s3_bucket_versioning.this ")
                        && found[0].contains(&format!("is {status}")),
                    "{input}: {found:#?}"
                );
            }
        }
    }
}

#[test]
fn rds_3_5_reports_the_instance_its_engine_creates_once_per_rule() {
    for (engine, block) in [("postgres", "this"), ("sqlserver-ex", "this_mssql")] {
        let caller = format!(
            "module \"db\" {{\n  source = \"SOURCE\"\n\n  identifier = \"orders\"\n  engine     = \"{engine}\"\n}}\n"
        );
        let (p, _repo) = project("rds-3.5", &caller);
        let found = findings(&p, &["--select", "DR003,DR004,DR005"]);
        let want = format!("module.db.module.db_instance.aws_db_instance.{block} ");
        assert_eq!(found.len(), 3, "{engine}: {found:#?}");
        for rule in ["DR003", "DR004", "DR005"] {
            let of_rule: Vec<&String> = found.iter().filter(|f| f.starts_with(rule)).collect();
            assert_eq!(of_rule.len(), 1, "{engine} {rule}: {found:#?}");
            assert!(of_rule[0].contains(&want), "{engine} {rule}: {found:#?}");
        }
    }
}

#[test]
fn rds_aurora_null_defaults_are_the_aws_defaults() {
    let (p, _repo) = project(
        "rds-aurora",
        "module \"aurora\" {\n  source = \"SOURCE\"\n\n  name   = \"orders\"\n  engine = \"aurora-postgresql\"\n}\n",
    );
    let found = findings(&p, &["--select", "DR003,DR004,DR005,DR017"]);
    insta::assert_snapshot!(found.join("\n"));
    // Nothing was left unjudged for being null: null is not unknown.
    let run = p.run(&[
        "--no-config",
        "--explain-unknown",
        "--select",
        "DR003,DR004,DR005,DR017",
        "infra",
    ]);
    assert!(
        !run.stdout.contains("has no default") && !run.stderr.contains("has no default"),
        "{run:?}"
    );
}

#[test]
fn rds_aurora_settings_from_the_caller_are_judged_at_the_caller() {
    let (p, _repo) = project(
        "rds-aurora",
        "module \"aurora\" {\n  source = \"SOURCE\"\n\n  name                     = \"orders\"\n  engine                   = \"aurora-postgresql\"\n  deletion_protection      = true\n  backup_retention_period  = 14\n  delete_automated_backups = false\n  copy_tags_to_snapshot    = true\n}\n",
    );
    let found = findings(&p, &["--select", "DR003,DR004,DR005,DR017"]);
    assert!(found.is_empty(), "{found:#?}");
}

/// The DR region's provider and the primary's, as the modules' cross-region examples
/// declare them.
const TWO_REGIONS: &str = "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nprovider \"aws\" {\n  alias  = \"dr\"\n  region = \"us-west-2\"\n}\n\n";

#[test]
fn rds_3_5_cross_region_replica_needs_a_key_of_its_region() {
    // The module's storage is encrypted; the source is the primary's ARN in us-east-1.
    for (key, want) in [
        ("", true),
        ("  kms_key_id          = null\n", true),
        (
            "  kms_key_id          = \"arn:aws:kms:us-west-2:123456789012:key/0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a\"\n",
            false,
        ),
    ] {
        let caller = format!(
            "{TWO_REGIONS}module \"replica\" {{\n  source    = \"SOURCE\"\n  providers = {{ aws = aws.dr }}\n\n  identifier          = \"orders-dr\"\n  engine              = \"postgres\"\n  replicate_source_db = \"arn:aws:rds:us-east-1:123456789012:db:orders\"\n{key}}}\n"
        );
        let (p, _repo) = project("rds-3.5", &caller);
        let found = findings(&p, &["--select", "DR019"]);
        if want {
            // At the caller's argument: the module is not the user's to edit.
            assert_eq!(found.len(), 1, "{key}: {found:#?}");
            assert!(
                found[0].starts_with(
                    "DR019 module.replica.module.db_instance.aws_db_instance.this infra/main.tf:"
                ) && found[0].contains("set kms_key_id to the ARN of a KMS key in us-west-2"),
                "{key}: {found:#?}"
            );
        } else {
            assert!(found.is_empty(), "{key}: {found:#?}");
        }
    }
    // The same region (the module's replica example): the source's key is used.
    let (p, _repo) = project(
        "rds-3.5",
        &format!("{TWO_REGIONS}module \"replica\" {{\n  source = \"SOURCE\"\n\n  identifier          = \"orders-read\"\n  engine              = \"postgres\"\n  replicate_source_db = \"arn:aws:rds:us-east-1:123456789012:db:orders\"\n}}\n"),
    );
    let found = findings(&p, &["--select", "DR019"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn rds_aurora_global_secondary_and_cross_region_replica_need_a_key_of_their_region() {
    let global = "resource \"aws_rds_global_cluster\" \"this\" {\n  global_cluster_identifier = \"orders\"\n  engine                    = \"aurora-postgresql\"\n  storage_encrypted         = true\n}\n\nmodule \"primary\" {\n  source = \"SOURCE\"\n\n  name                      = \"orders-use1\"\n  engine                    = \"aurora-postgresql\"\n  global_cluster_identifier = aws_rds_global_cluster.this.id\n}\n\n";
    let secondary = |key: &str| {
        format!(
            "{TWO_REGIONS}{global}module \"secondary\" {{\n  source    = \"SOURCE\"\n  providers = {{ aws = aws.dr }}\n\n  name                      = \"orders-usw2\"\n  engine                    = \"aurora-postgresql\"\n  global_cluster_identifier = aws_rds_global_cluster.this.id\n{key}}}\n"
        )
    };
    let (p, _repo) = project("rds-aurora", &secondary(""));
    let found = findings(&p, &["--select", "DR019"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("DR019 module.secondary.aws_rds_cluster.this infra/main.tf:")
            && found[0].contains("KMS key in us-west-2"),
        "{found:#?}"
    );
    // The module's global-cluster example: a key of the secondary's region.
    let (p, _repo) = project(
        "rds-aurora",
        &(secondary("  kms_key_id                = aws_kms_key.secondary.arn\n")
            + "\nresource \"aws_kms_key\" \"secondary\" {\n  provider = aws.dr\n}\n"),
    );
    let found = findings(&p, &["--select", "DR019"]);
    assert!(found.is_empty(), "{found:#?}");

    // A cross-region read replica cluster: the module encrypts by default.
    let replica = |key: &str| {
        format!(
            "{TWO_REGIONS}module \"replica\" {{\n  source    = \"SOURCE\"\n  providers = {{ aws = aws.dr }}\n\n  name                          = \"orders-usw2\"\n  engine                        = \"aurora-mysql\"\n  replication_source_identifier = \"arn:aws:rds:us-east-1:123456789012:cluster:orders\"\n{key}}}\n"
        )
    };
    let (p, _repo) = project("rds-aurora", &replica(""));
    let found = findings(&p, &["--select", "DR019"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    let (p, _repo) = project(
        "rds-aurora",
        &replica("  storage_encrypted             = false\n"),
    );
    let found = findings(&p, &["--select", "DR019"]);
    assert!(
        found.is_empty(),
        "an unencrypted replica of an unknown source: {found:#?}"
    );
}
