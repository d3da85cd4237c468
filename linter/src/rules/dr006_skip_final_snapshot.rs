//! DR006 skip-final-snapshot.

use crate::context::Context;
use crate::finding::{Applicability, Edit, Finding, Fix, Severity};
use crate::fix;
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR006",
    name: "skip-final-snapshot",
    severity: Severity::Error,
    summary: "skip_final_snapshot = true",
    doc: DOC,
    fixable: true,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds `aws_db_instance` and `aws_rds_cluster` resources with `skip_final_snapshot = true`.

## Why is this bad?
When the database is deleted (by a destroy, a replacement or a mistake), no final
snapshot is taken: the last state of the data is gone for good. The setting is common in
tutorials and test code, and travels from there into production.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier          = "orders"
  skip_final_snapshot = true
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  identifier                = "orders"
  skip_final_snapshot       = false
  final_snapshot_identifier = "orders-final"
}
```

## Fix safety
Safe: `--fix` sets `skip_final_snapshot = false` and, when missing, adds a
`final_snapshot_identifier` (AWS requires one when a final snapshot is taken) named after
the database. Both are in-place changes that only matter at deletion.

## References
- [Deleting a DB instance: final snapshot](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html)
"#;

/// Pushes DR006 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for db in ctx.managed(facts::DATABASES) {
        let Some(attr) = db.body.attr("skip_final_snapshot") else {
            continue;
        };
        if attr.value.as_bool() != Some(true) {
            continue;
        }
        let mut edits = vec![fix::replace_value(attr, "false")];
        if db.body.attr("final_snapshot_identifier").is_none() {
            // Instances of a count/for_each would share one literal name.
            if db.expanded {
                out.push(ctx.finding(&META, db, attr.loc, message(), None));
                continue;
            }
            let base = db
                .identity()
                .map_or_else(|| db.name.replace('_', "-"), str::to_string);
            let Some(insert) = ctx.source(&db.file).and_then(|src| {
                fix::insert_attribute(
                    src,
                    &db.body,
                    "final_snapshot_identifier",
                    &fix::string_literal(&format!("{base}-final")),
                )
            }) else {
                out.push(ctx.finding(&META, db, attr.loc, message(), None));
                continue;
            };
            edits.push(insert);
        }
        edits.sort_by_key(|e: &Edit| e.start);
        let fix = Fix {
            description: "set skip_final_snapshot = false (with a final_snapshot_identifier)"
                .into(),
            edits,
            applicability: Applicability::Safe,
        };
        out.push(ctx.finding(&META, db, attr.loc, message(), Some(fix)));
    }
}

fn message() -> String {
    "skip_final_snapshot = true: deleting the database keeps no last snapshot".into()
}
