//! `examples/drlint/fixed` is what drlint calls clean; it must also be what the provider
//! accepts. Its `dr_policy` and `dr_drill`, given the values its `aws_*` resources and
//! module would give them, pass `terraform plan` against moto holding those resources: the
//! provider's plan-time checks (the tier model, shapes, and the checks against the live
//! instance and buckets) all run. The `aws_*` resources themselves need the AWS provider,
//! which the tests do not install; drlint and `terraform fmt` cover them.

mod policy_support;

use std::collections::BTreeMap;
use std::path::Path;

use drkit_testkit::Moto;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use policy_support::*;

const EXAMPLE: &str = "examples/drlint/fixed";

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.iter().filter_map(move |s| match s {
        Structure::Block(b) if b.ident.as_str() == ident => Some(b),
        _ => None,
    })
}

fn label(block: &Block, n: usize) -> &str {
    block.labels.get(n).map(|l| l.as_str()).unwrap_or_default()
}

/// The literal string an attribute of `block` is set to.
fn literal(block: &Block, key: &str) -> Option<String> {
    block.body.iter().find_map(|s| match s {
        Structure::Attribute(a) if a.key.as_str() == key => match &a.value {
            Expression::String(s) => Some(s.as_str().to_string()),
            _ => None,
        },
        _ => None,
    })
}

/// What each reference of the example's `dr_*` resources evaluates to: a bucket's name
/// (`aws_s3_bucket.X.bucket` and `.id`) and the db module's `identifier` output, which
/// is the identifier its caller passes.
fn reference_values(main: &Body) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for bucket in blocks(main, "resource").filter(|b| label(b, 0) == "aws_s3_bucket") {
        let name = literal(bucket, "bucket").expect("each bucket has a literal name");
        for attr in ["bucket", "id"] {
            values.insert(
                format!("aws_s3_bucket.{}.{attr}", label(bucket, 1)),
                name.clone(),
            );
        }
    }
    let module_text = read(&format!("{EXAMPLE}/modules/db/main.tf"));
    assert!(
        module_text.contains("identifier                = var.identifier")
            && module_text.contains("value = aws_db_instance.main.identifier"),
        "the db module's identifier output is no longer its input: update this test"
    );
    for call in blocks(main, "module") {
        let id = literal(call, "identifier").expect("the module call names the instance");
        values.insert(format!("module.{}.identifier", label(call, 0)), id);
    }
    values
}

/// The example's `dr_*` resources, their references replaced by the values above.
fn dr_resources(main_text: &str) -> String {
    let main = hcl_edit::parser::parse_body(main_text).expect("the example parses");
    let values = reference_values(&main);
    let mut out = String::new();
    for block in blocks(&main, "resource").filter(|b| label(b, 0).starts_with("dr_")) {
        let span = block.span().expect("a parsed block has its span");
        let mut text = main_text[span].to_string();
        for (reference, value) in &values {
            text = text.replace(reference.as_str(), &format!("{value:?}"));
        }
        assert!(
            !text.contains("aws_") && !text.contains("module."),
            "a reference this test cannot evaluate:\n{text}"
        );
        out.push_str(text.trim());
        out.push_str("\n\n");
    }
    assert!(
        out.contains("resource \"dr_policy\"") && out.contains("resource \"dr_drill\""),
        "{out}"
    );
    out
}

/// moto holding what the example's `aws_*` resources create: the encrypted instance of the
/// db module, the backup bucket, and the versioned destination in the DR region.
async fn seed_the_examples_resources(moto: &Moto, main_text: &str) {
    let main = hcl_edit::parser::parse_body(main_text).unwrap();
    let values = reference_values(&main);
    let module_text = read(&format!("{EXAMPLE}/modules/db/main.tf"));
    let encrypted = module_text.contains("storage_encrypted         = true");
    seed_db(moto, &values["module.orders_db.identifier"], encrypted).await;
    seed_bucket(
        moto,
        &values["aws_s3_bucket.backups.bucket"],
        PRIMARY,
        false,
    )
    .await;
    seed_bucket(moto, &values["aws_s3_bucket.backups_dr.bucket"], DR, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fixed_example_passes_the_providers_plan_checks() {
    let main_text = read(&format!("{EXAMPLE}/main.tf"));
    let moto = Moto::start().unwrap();
    seed_the_examples_resources(&moto, &main_text).await;
    let tf = terraform(&moto, &dr_resources(&main_text));
    let plan = tf.run(&["plan", "-input=false", "-no-color"]).unwrap();
    assert!(
        plan.success(),
        "{EXAMPLE} lints clean but the provider refuses it:\n{}",
        errors_of(&plan.combined())
    );
    assert!(plan.stdout.contains("Plan: 2 to add"), "{plan}");
}

#[test]
fn references_are_replaced_by_the_values_terraform_would_give() {
    let text = dr_resources(&read(&format!("{EXAMPLE}/main.tf")));
    assert!(
        text.contains("instance_identifier   = \"orders\""),
        "{text}"
    );
    assert!(text.contains("bucket = \"orders-backups\""), "{text}");
    assert!(
        text.contains("destination_bucket       = \"orders-backups-dr\""),
        "{text}"
    );
}
