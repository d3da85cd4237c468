//! DR006 skip-final-snapshot.

use crate::context::{Context, Resource};
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

The name follows the identifier as it is written: `"orders-final"` for
`identifier = "orders"`, but `"${var.identifier}-final"` for `identifier =
var.identifier` and `"db-${count.index}-final"` for `identifier = "db-${count.index}"`, so
that every instance of a module called several times, or of a `count` or `for_each`, names
its own snapshot (a shared name fails the second deletion). Where there is no identifier
to follow and the block has several instances, the finding comes without a fix.

## References
- [Deleting a DB instance: final snapshot](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html)
"#;

/// Pushes DR006 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // Blocks seen more than once: a module called several times instantiates them again.
    let mut instances: rustc_hash::FxHashMap<(&std::path::Path, usize), usize> = Default::default();
    for db in ctx.managed(facts::DATABASES) {
        *instances.entry((&db.file, db.header.start)).or_default() += 1;
    }
    for db in ctx.managed(facts::DATABASES) {
        // Null is not set: the default (false) takes a final snapshot.
        let Some(attr) = db.body.setting("skip_final_snapshot") else {
            continue;
        };
        match attr.value.as_bool() {
            Some(true) => {}
            Some(false) => continue,
            None => {
                ctx.unknown_attr(&META, db, "skip_final_snapshot", attr);
                continue;
            }
        }
        let mut edits = vec![fix::replace_value(attr, "false")];
        if db.body.attr("final_snapshot_identifier").is_none() {
            let several = db.expanded || instances[&(db.file.as_path(), db.header.start)] > 1;
            let Some(insert) = ctx.source(&db.file).and_then(|src| {
                let name = snapshot_name(db, src, several)?;
                fix::insert_attribute(src, &db.body, "final_snapshot_identifier", &name)
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

/// The final snapshot's name, as HCL, after the identifier as it is written: a literal
/// for a literal, the identifier's own expression with `-final` otherwise, so that each
/// instance names its own. `None` when the name cannot be told apart per instance
/// (`several` instances and a literal or no identifier) or the expression is not one line.
fn snapshot_name(db: &Resource, source: &str, several: bool) -> Option<String> {
    let key = if db.kind == "aws_rds_cluster" {
        "cluster_identifier"
    } else {
        "identifier"
    };
    let Some(id) = db.body.attr(key) else {
        return (!several)
            .then(|| fix::string_literal(&format!("{}-final", db.name.replace('_', "-"))));
    };
    let text = source.get(id.value_loc.start..id.value_loc.end)?.trim();
    if text.contains('\n') || text.starts_with("<<") || text.is_empty() {
        return None;
    }
    let quoted = text.len() >= 2 && text.starts_with('"') && text.ends_with('"');
    let template = text.contains("${") || text.contains("%{");
    match (quoted, template) {
        // `"orders"`: every instance has this identifier, so it names one database.
        (true, false) => {
            let name = id.value.as_str()?;
            (!several).then(|| fix::string_literal(&format!("{name}-final")))
        }
        // `"db-${count.index}"`: the same template, one suffix longer.
        (true, true) => Some(format!("{}-final\"", &text[..text.len() - 1])),
        // `var.identifier`, `local.name`, `each.key`: interpolated.
        (false, _) => Some(format!("\"${{{text}}}-final\"")),
    }
}

fn message() -> String {
    "skip_final_snapshot = true: deleting the database keeps no last snapshot".into()
}
