//! The `provider "dr"` block: region resolution and its own validation, through terraform.

use drkit_testkit::Terraform;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-dr");

const POLICY: &str = r#"
resource "dr_policy" "p" {
  name   = "p"
  rpo    = "1h"
  rto    = "4h"
  owners = ["alice", "bob"]
}
"#;

fn terraform(provider: &str) -> Terraform {
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(drkit_testkit::tools::offline_aws_env());
    tf.write(
        "main.tf",
        &format!(
            "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n\n{provider}\n{POLICY}"
        ),
    )
    .unwrap();
    tf
}

#[test]
fn without_any_region_plan_says_where_to_set_one() {
    let mut tf = terraform("provider \"dr\" {}\n");
    tf.env("AWS_REGION", "").env("AWS_DEFAULT_REGION", "");
    let out = tf.plan_expect_error("No AWS region").unwrap();
    assert!(
        out.contains("set `region` in the provider \"dr\" block"),
        "{out}"
    );
}

#[test]
fn the_region_comes_from_the_environment_when_the_block_has_none() {
    let mut tf = terraform("provider \"dr\" {\n  dr_region = \"us-west-2\"\n}\n");
    tf.env("AWS_REGION", "eu-west-1");
    let out = tf.run(&["plan"]).unwrap();
    assert!(out.success(), "{out}");
}

#[test]
fn provider_settings_are_validated_on_their_attribute() {
    for (block, message, line) in [
        (
            "provider \"dr\" {\n  region    = \"us-east-1\"\n  dr_region = \"us-east-1\"\n}\n",
            "dr_region equals region",
            "dr_region = \"us-east-1\"",
        ),
        (
            "provider \"dr\" {\n  region      = \"us-east-1\"\n  max_retries = -1\n}\n",
            "Invalid max_retries",
            "max_retries = -1",
        ),
        (
            "provider \"dr\" {\n  region = \"US East\"\n}\n",
            "Invalid region",
            "region = \"US East\"",
        ),
        (
            "provider \"dr\" {\n  region = \"us-east-1\"\n  endpoints {\n    s3 = \"localhost:4566\"\n  }\n}\n",
            "Invalid endpoint URL",
            "s3 = \"localhost:4566\"",
        ),
        (
            "provider \"dr\" {\n  region = \"us-east-1\"\n  endpoints {\n    kms = \"kms.internal\"\n  }\n}\n",
            "Invalid endpoint URL",
            "kms = \"kms.internal\"",
        ),
    ] {
        let tf = terraform(block);
        let out = tf.plan_expect_error(message).unwrap();
        assert!(out.contains(line), "{message}: points at {line:?}:\n{out}");
    }
}

#[test]
fn tf_log_shows_the_providers_own_log() {
    let mut tf = terraform(
        "provider \"dr\" {\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n}\n",
    );
    tf.env("TF_LOG", "DEBUG");
    let out = tf.run(&["plan"]).unwrap();
    assert!(out.success(), "{out}");
    assert!(
        out.stderr.contains("dr provider configured"),
        "the provider's tracing output reaches Terraform's log:\n{}",
        out.stderr
            .lines()
            .filter(|l| l.contains("terraform-provider-dr"))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
