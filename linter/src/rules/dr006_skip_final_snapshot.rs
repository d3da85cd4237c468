//! DR006 skip-final-snapshot.

use crate::context::{Context, Resource};
use crate::decided::{self, Decided};
use crate::eval::Value;
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

Copies are skipped (DR004 and DR005 skip read replicas too): RDS takes no final snapshot of a read
replica (`replicate_source_db`, or an `aws_rds_cluster` with
`replication_source_identifier`) nor of a secondary cluster of an Aurora global database,
and deleting one with `skip_final_snapshot = false` fails. A secondary is an
`aws_rds_cluster` with `global_cluster_identifier` that is not the global cluster's
writer: another member of the same global cluster is its primary (the global cluster's
`source_db_cluster_identifier`, or the member with master credentials or a
`snapshot_identifier`), or it has no master credentials and no snapshot of its own (as
the secondary region's cluster in the provider's and `terraform-aws-rds-aurora`'s
examples: the data comes from the primary).

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

`skip_final_snapshot` written as an expression is fixed where its value is decided (the
literal a caller passes, a variable's literal default, or an argument added to the
`module` block that passes nothing) only when the resource already has a
`final_snapshot_identifier`, since the fix would otherwise span two places; a value from
a `local`, a condition or a `.tfvars` file gets no fix, and the finding says where it
comes from. See [drlint --fix](../drlint.md#where-a-fix-is-written).

## References
- [Deleting a DB instance: final snapshot](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html)
- [DeleteDBInstance `SkipFinalSnapshot`](https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html):
  "If you delete a read replica [...], you must enable this setting."
- [Terraform AWS provider `aws_rds_global_cluster`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/rds_global_cluster):
  the secondary cluster of its examples has no credentials and `skip_final_snapshot = true`
"#;

/// Pushes DR006 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // Blocks seen more than once: a module called several times instantiates them again.
    let mut instances: rustc_hash::FxHashMap<(&std::path::Path, usize), usize> = Default::default();
    for db in ctx.managed(facts::DATABASES) {
        *instances.entry((&db.file, db.header.start)).or_default() += 1;
    }
    for db in ctx.managed(facts::DATABASES) {
        if takes_no_final_snapshot(ctx, db) {
            continue;
        }
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
        if !matches!(
            decided::of(ctx, db, attr),
            Decided::Here | Decided::Argument
        ) {
            // Decided elsewhere (a variable's default, a caller): set there when the
            // resource already names its final snapshot; else the fix spans two places.
            let mut f = fix::finding_setting(
                ctx,
                &META,
                db,
                &db.body,
                "skip_final_snapshot",
                "false",
                attr.loc,
                message(),
                "set skip_final_snapshot = false".into(),
            );
            if db.body.attr("final_snapshot_identifier").is_none() {
                if let Some(fix) = &mut f.fix {
                    fix.edits.clear();
                    fix.applicability = Applicability::Unsafe;
                    fix.description
                        .push_str(", and add a final_snapshot_identifier");
                }
            }
            out.push(f);
            continue;
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

/// A copy RDS takes no final snapshot of: a read replica, or a secondary cluster of an
/// Aurora global database (known from the other members, or alone by having no master
/// credentials and no snapshot: a writer needs one or the other).
fn takes_no_final_snapshot(ctx: &Context, db: &Resource) -> bool {
    if facts::is_copy(ctx, db) {
        return true;
    }
    let set = |k: &str| db.value(k).is_some_and(Value::is_given);
    db.kind == "aws_rds_cluster"
        && set("global_cluster_identifier")
        && !matches!(facts::global_role(ctx, db), Some(facts::GlobalRole::Primary(s)) if !s.is_empty())
        && !facts::WRITER_ATTRIBUTES.iter().any(|k| set(k))
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
