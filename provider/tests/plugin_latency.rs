//! The plugin answers RPCs without the ~40 ms delayed-ACK stall of gRPC over TCP without
//! TCP_NODELAY (the vendored tf-provider serves on a Unix socket): planning 50 resources
//! one at a time costs about what Terraform's built-in `terraform_data` costs.

use std::time::{Duration, Instant};

use drkit_testkit::Terraform;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-dr");

fn timed_plan(resources: &str) -> Duration {
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    tf.write(
        "main.tf",
        &format!(
            "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n\nprovider \"dr\" {{\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n}}\n\n{resources}"
        ),
    )
    .unwrap();
    // Warm up (first start of terraform and the plugin).
    tf.run_ok(&["plan", "-parallelism=1"]).unwrap();
    let start = Instant::now();
    tf.run_ok(&["plan", "-parallelism=1"]).unwrap();
    start.elapsed()
}

#[test]
fn fifty_resources_plan_as_fast_as_builtin_ones() {
    let mut policies = String::new();
    let mut builtin = String::new();
    for i in 0..50 {
        policies.push_str(&format!(
            "resource \"dr_policy\" \"p{i}\" {{\n  name   = \"p{i}\"\n  rpo    = \"1h\"\n  rto    = \"4h\"\n  owners = [\"a\", \"b\"]\n}}\n"
        ));
        builtin.push_str(&format!(
            "resource \"terraform_data\" \"d{i}\" {{\n  input = {i}\n}}\n"
        ));
    }
    let dr = timed_plan(&policies);
    let baseline = timed_plan(&builtin);
    eprintln!(
        "plan of 50 resources, -parallelism=1: dr_policy {dr:?}, terraform_data {baseline:?}"
    );
    // With the delayed-ACK stall, 50 resources x 2-3 RPCs x 40 ms add 4-6 s.
    assert!(
        dr < baseline * 3 + Duration::from_millis(1500),
        "plan of 50 dr_policy took {dr:?}, terraform_data {baseline:?}"
    );
}
