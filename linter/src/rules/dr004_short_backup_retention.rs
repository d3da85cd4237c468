//! DR004 short-backup-retention.

use crate::context::{Context, Resource};
use crate::finding::{Applicability, Finding, Fix, Severity};
use crate::fix;
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR004",
    name: "short-backup-retention",
    severity: Severity::Error,
    summary: "backup_retention_period missing, 0, or under the minimum",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds `aws_db_instance` and `aws_rds_cluster` resources whose `backup_retention_period`
is missing, 0 (automated backups off) or below the minimum (7 days by default;
`min_retention_days` in `.drlint.toml`). A null value (`default = null` in a module, an
explicit `null`) is missing: the AWS default of 1 day applies. Read replicas are skipped:
their source's backups are what counts.

drlint knows the engine: on RDS for MySQL and MariaDB (`engine = "mysql"` or
`"mariadb"`), a retention of 0 also turns the binary log off, so no read replica can be
created from the instance (AWS refuses `replicate_source_db` pointing at it, and the
finding names the replicas in the configuration that would fail) and there is no
point-in-time restore. DB clusters (`aws_rds_cluster`: Aurora, MySQL-compatible
included, and Multi-AZ DB clusters) keep 1 to 35 days: AWS refuses 0, and the finding says
so; an Aurora MySQL cluster's binary log is a cluster parameter (`binlog_format`), not
tied to retention.

## Why is this bad?
Retention is how far back you can restore. Corruption and bad migrations are usually
found days later; with one day of retention, the last clean restore point is already
gone. With 0 there is no point-in-time restore at all, and on MySQL and MariaDB no read
replica either: replication reads the binary log, which RDS keeps only while automated
backups are on.

## Example
```hcl
resource "aws_db_instance" "main" {
  backup_retention_period = 1
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  backup_retention_period = 14
}
```

## Fix safety
Not fixed automatically: the right retention is a cost and compliance decision. The
finding suggests the configured minimum.

## References
- [Backup retention period](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html#USER_WorkingWithAutomatedBackups.BackupRetention)
- [CreateDBCluster: BackupRetentionPeriod, 1 to 35](https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html)
- [Working with MySQL read replicas](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MySQL.Replication.ReadReplicas.html) (automatic backups must be on for the source)
"#;

/// Pushes DR004 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let min = ctx.options.min_retention_days;
    for db in ctx.managed(facts::DATABASES) {
        if facts::is_copy(ctx, db) {
            continue;
        }
        let setting = db.body.setting("backup_retention_period");
        let (at, message) = match setting {
            Some(a) => match a.value.as_f64() {
                // A DB cluster (Aurora or Multi-AZ) keeps 1 to 35 days: AWS refuses 0.
                Some(d) if d < 1.0 && db.kind == "aws_rds_cluster" => (a.loc,
                    "backup_retention_period = 0: a DB cluster keeps automated backups 1 to 35 days, so AWS refuses the apply; choose the retention".to_string()),
                Some(d) if d < 1.0 => (a.loc, format!(
                    "backup_retention_period = 0 turns automated backups off: there is nothing to restore{}",
                    binary_log_off(ctx, db)
                )),
                Some(d) if d < f64::from(min) => (a.loc, format!(
                    "backups are kept {d} day{}, under the minimum of {min}: corruption found later cannot be undone",
                    if d == 1.0 { "" } else { "s" }
                )),
                Some(_) => continue,
                None => {
                    ctx.unknown_attr(&META, db, "backup_retention_period", a);
                    continue;
                }
            },
            // Not set (not written, or null): the AWS default is 1 day. Reported under a
            // minimum above that, or as unchosen at 1.
            None => {
                let (at, unset) = db.body.unset("backup_retention_period", db.header);
                let message = if min > 1 {
                    format!("{unset}: the default keeps 1 day at most; set at least {min}")
                } else {
                    format!("{unset}: retention is left to the AWS default of 1 day, which nobody chose; write it down")
                };
                (at, message)
            }
        };
        let fix = Fix {
            description: format!("set backup_retention_period = {min} or more (up to 35)"),
            edits: Vec::new(),
            applicability: Applicability::Unsafe,
        };
        out.push(match setting {
            Some(a) => fix::finding_on_value(ctx, &META, db, a, at, message, Some(fix)),
            None => ctx.finding(&META, db, at, message, Some(fix)),
        });
    }
}

/// What else a retention of 0 turns off, by engine: RDS for MySQL and MariaDB keep their
/// binary log only while automated backups are on, and read replicas and point-in-time
/// restore need it. Names the replicas in the configuration that AWS would refuse.
fn binary_log_off(ctx: &Context, db: &Resource) -> String {
    let engine = db.str("engine").map(str::to_ascii_lowercase);
    if db.kind != "aws_db_instance" || !matches!(engine.as_deref(), Some("mysql" | "mariadb")) {
        return String::new();
    }
    let replicas: Vec<&str> = ctx
        .managed_of("aws_db_instance")
        .filter(|r| {
            r.value("replicate_source_db")
                .is_some_and(|v| ctx.names(v, db) == Some(true))
        })
        .map(|r| r.address.as_str())
        .collect();
    let engine = if engine.as_deref() == Some("mysql") {
        "MySQL"
    } else {
        "MariaDB"
    };
    let mut out = format!(
        "; on {engine} it also turns the binary log off, so no read replica can be created from it and there is no point-in-time restore"
    );
    if !replicas.is_empty() {
        out.push_str(&format!(
            " (AWS refuses the replica{} {})",
            if replicas.len() == 1 { "" } else { "s" },
            replicas.join(", ")
        ));
    }
    out
}
