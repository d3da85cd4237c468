//! DR003 missing-deletion-protection.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::fix;
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR003",
    name: "missing-deletion-protection",
    severity: Severity::Error,
    summary: "a database or Aurora global cluster without deletion_protection = true",
    doc: DOC,
    fixable: true,
};

/// The rule's documentation page.
pub const DOC: &str = concat!(
    r#"## What it does
Finds `aws_db_instance`, `aws_rds_cluster` and `aws_rds_global_cluster` (an Aurora global
database) resources without `deletion_protection = true` (the AWS default is off).

## Why is this bad?
A `terraform destroy` in the wrong workspace, a renamed resource or a module refactor
plans a delete, and one approval later the database and, by default, its automated
backups are gone. Deletion protection makes AWS refuse the delete until someone turns it
off on purpose.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier     = "orders"
  engine         = "postgres"
  instance_class = "db.t3.micro"
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  identifier     = "orders"
  engine         = "postgres"
  instance_class = "db.t3.micro"

  deletion_protection = true
}
```

## Fix safety
Safe: `--fix` sets `deletion_protection = true` (or changes `false` to `true`). It is an
in-place modification; nothing is recreated.

"#,
    fixed_where_decided!(),
    r#"
## References
- [Deleting a DB instance: deletion protection](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection)
"#
);

/// Pushes DR003 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for db in ctx.managed(&[
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
    ]) {
        let (at, message) = match db.body.attr("deletion_protection") {
            Some(a) => match a.value.as_bool() {
                Some(false) => (a.loc, "deletion_protection is false: one mistaken destroy deletes the database".to_string()),
                Some(true) => continue,
                None => {
                    ctx.unknown_attr(&META, db, "deletion_protection", a);
                    continue;
                }
            },
            None => (db.header, "no deletion_protection: one mistaken destroy deletes the database (the AWS default is off)".to_string()),
        };
        out.push(fix::finding_setting(
            ctx,
            &META,
            db,
            &db.body,
            "deletion_protection",
            "true",
            at,
            message,
            "set deletion_protection = true".into(),
        ));
    }
}
