//! DR005 automated-backups-deleted.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::fix;
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR005",
    name: "automated-backups-deleted",
    severity: Severity::Error,
    summary: "delete_automated_backups not set to false",
    doc: DOC,
    fixable: true,
};

/// The rule's documentation page.
pub const DOC: &str = concat!(
    r#"## What it does
Finds `aws_db_instance` and `aws_rds_cluster` resources that do not set
`delete_automated_backups = false`. The provider's default is `true` for both. Read
replicas are skipped.

## Why is this bad?
With the default, deleting the instance deletes its automated backups with it: the one
event you need backups for is the one that destroys them. Retained automated backups
stay restorable for their retention period after the instance is gone.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier = "orders"
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  identifier = "orders"

  delete_automated_backups = false
}
```

## Fix safety
Safe: `--fix` sets `delete_automated_backups = false`, an in-place change.

"#,
    fixed_where_decided!(),
    r#"
## References
- [Retaining automated backups](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html#USER_WorkingWithAutomatedBackups.Retaining)
"#
);

/// Pushes DR005 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for db in ctx.managed(facts::DATABASES) {
        if facts::is_copy(ctx, db) {
            continue;
        }
        let (at, message) = match db.body.attr("delete_automated_backups") {
            Some(a) => match a.value.as_bool() {
                Some(true) => (a.loc, format!("delete_automated_backups = true: deleting the {} deletes its backups too", what(db))),
                Some(false) => continue,
                None => {
                    ctx.unknown_attr(&META, db, "delete_automated_backups", a);
                    continue;
                }
            },
            None => (db.header, format!("delete_automated_backups is not set to false: by default deleting the {} deletes its backups too", what(db))),
        };
        out.push(fix::finding_setting(
            ctx,
            &META,
            db,
            &db.body,
            "delete_automated_backups",
            "false",
            at,
            message,
            "set delete_automated_backups = false".into(),
        ));
    }
}

fn what(db: &crate::context::Resource) -> &'static str {
    if db.kind == "aws_rds_cluster" {
        "cluster"
    } else {
        "instance"
    }
}
