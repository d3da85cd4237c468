//! The real `terraform` CLI starts the provider binary through `dev_overrides`, reads its
//! schema and validates a configuration: the plugin protocol works end to end.

use drkit_testkit::Terraform;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-dr");

#[test]
fn terraform_reads_the_provider_schema_through_dev_overrides() {
    let tf = Terraform::new(PROVIDER).unwrap();
    tf.write(
        "main.tf",
        r#"
terraform {
  required_providers {
    dr = { source = "drkit/dr" }
  }
}
"#,
    )
    .unwrap();
    let out = tf.run_ok(&["providers", "schema", "-json"]).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let provider = &schema["provider_schemas"]["registry.terraform.io/drkit/dr"];
    let attributes = provider["provider"]["block"]["attributes"]
        .as_object()
        .expect("the provider block has attributes");
    for name in ["region", "dr_region", "profile"] {
        assert!(
            attributes.contains_key(name),
            "provider attribute {name} missing"
        );
    }
    assert!(
        provider["resource_schemas"]["dr_policy"].is_object(),
        "dr_policy is served: {provider}"
    );
}

#[test]
fn terraform_validates_a_configuration_and_reports_an_unknown_attribute() {
    let tf = Terraform::new(PROVIDER).unwrap();
    tf.write(
        "main.tf",
        r#"
terraform {
  required_providers {
    dr = { source = "drkit/dr" }
  }
}

provider "dr" {
  region    = "us-east-1"
  dr_region = "us-west-2"
}
"#,
    )
    .unwrap();
    let out = tf.run_ok(&["validate"]).unwrap();
    assert!(out.stdout.contains("The configuration is valid"), "{out}");

    tf.write(
        "main.tf",
        r#"
terraform {
  required_providers {
    dr = { source = "drkit/dr" }
  }
}

provider "dr" {
  regoin = "us-east-1"
}

# Terraform validates a provider block only when a resource uses the provider.
resource "dr_policy" "p" {
  name = "p"
  rpo  = "1h"
  rto  = "4h"
}
"#,
    )
    .unwrap();
    let out = tf.run(&["validate"]).unwrap();
    assert!(
        !out.success(),
        "a misspelt provider argument must fail validation"
    );
    assert!(out.combined().contains("regoin"), "{out}");
    assert!(
        out.combined().contains("main.tf line 9"),
        "points at file:line: {out}"
    );
}
