//! DR014 unreachable-target.

use crate::context::{Context, Node, Resource};
use crate::eval::Value;
use crate::finding::{Finding, Severity};
use crate::model::{
    self, ClusterSpec, PolicySpec, RdsSpec, ReplicationSpec, RetentionSpec, S3Spec, Step,
};
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR014",
    name: "unreachable-target",
    severity: Severity::Error,
    summary: "a dr_policy whose settings cannot meet its RPO/RTO (the tier model)",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Judges each `dr_policy` with drkit's tier model, the same one the provider runs at
`terraform plan`: what region-loss RPO and RTO its mechanisms can deliver against the
declared `rpo` and `rto`. For example `rpo = "0"` needs synchronous multi-region storage,
an RPO or RTO under an hour needs a cross-region read replica, an S3 RPO under 15 minutes
is impossible and 15m to 1h needs Replication Time Control, and `compliance = true` needs
seven years of expiry and an archive transition.

## Why is this bad?
A target that the settings cannot meet is a promise nobody keeps. It is found at the
worst moment: when the business asks why an hour of orders is gone against a
five-minute RPO.

## Example
```hcl
resource "dr_policy" "orders" {
  name = "orders"
  rpo  = "5m"
  rto  = "30m"

  rds {
    instance_identifier     = "orders"
    backup_retention_days   = 14
  }
}
```

Use instead:
```hcl
resource "dr_policy" "orders" {
  name = "orders"
  rpo  = "5m"
  rto  = "30m"

  rds {
    instance_identifier   = "orders"
    backup_retention_days = 14
    cross_region_replica {
      region = "us-west-2"
    }
  }
}
```

## Fix safety
No automatic fix: either the mechanism or the target must change, which is a decision.

## References
- [drkit tier model](../../README.md)
- [AWS: Disaster recovery options in the cloud](https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html)
"#;

/// The provider's default retention when a policy's `rds` block omits it.
const DEFAULT_RETENTION_DAYS: u32 = 7;

/// Pushes DR014 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for p in ctx.managed(&["dr_policy"]) {
        if p.body.has_dynamic() {
            continue;
        }
        let assessment = model::assess_with_clusters(&spec(p), &cluster_specs(p));
        // Owners are DR012's concern; here only what keeps the targets out of reach.
        let Some(first) = assessment
            .findings
            .iter()
            .find(|f| f.severity == model::Severity::Error)
        else {
            continue;
        };
        let at = locate(&p.body, &first.path).unwrap_or(p.header);
        let errors = assessment
            .findings
            .iter()
            .filter(|f| f.severity == model::Severity::Error)
            .count();
        let more = if errors > 1 {
            format!(" (and {} more)", errors - 1)
        } else {
            String::new()
        };
        out.push(ctx.finding(&META, p, at, format!("{}{more}", first.message), None));
    }
}

fn days(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_f64)
        .filter(|d| *d >= 0.0)
        .map(|d| d as u32)
}

fn known_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// The policy as the tier model sees it; unknown values stay `None`.
pub fn spec(p: &Resource) -> PolicySpec {
    let duration = |k: &str| p.str(k).and_then(|s| s.parse().ok());
    let rds = p
        .body
        .blocks("rds")
        .map(|b| RdsSpec {
            backup_retention_days: match b.value("backup_retention_days") {
                None => Some(DEFAULT_RETENTION_DAYS),
                v => days(v),
            },
            region: p.region.clone(),
            replica_region: b
                .block("cross_region_replica")
                .map(|c| known_str(c.value("region"))),
            backups_region: b
                .block("cross_region_backups")
                .map(|c| known_str(c.value("region"))),
        })
        .collect();
    let mut compliance_known = true;
    let s3 = p
        .body
        .blocks("s3")
        .map(|b| S3Spec {
            versioning: match b.value("versioning") {
                None => Some(true),
                v => v.and_then(Value::as_bool),
            },
            region: p.region.clone(),
            replication: b.block("replication").map(|r| ReplicationSpec {
                destination_region: known_str(r.value("destination_region")),
                replication_time_control: match r.value("replication_time_control") {
                    None => Some(false),
                    v => v.and_then(Value::as_bool),
                },
            }),
            retention: {
                let blocks: Vec<&Node> = b.blocks("retention").collect();
                if blocks.is_empty() {
                    None
                } else {
                    let (expire, archives, known) = retention(&blocks);
                    compliance_known &= known;
                    Some(RetentionSpec {
                        expire_days: expire,
                        archives: known.then_some(archives),
                    })
                }
            },
        })
        .collect();
    PolicySpec {
        rpo: duration("rpo"),
        rto: duration("rto"),
        owners: match p.value("owners") {
            None => Some(0),
            Some(v) => v.as_list().map(<[Value]>::len),
        },
        compliance: match p.value("compliance") {
            None => Some(false),
            Some(v) if compliance_known => v.as_bool(),
            Some(_) => None,
        },
        rds,
        s3,
    }
}

/// The policy's `rds_cluster` blocks (Aurora) as the tier model sees them. A
/// `global_secondary` without `region` goes to the provider's `dr_region`, which the
/// configuration may not show: its region is then unknown, never guessed.
pub fn cluster_specs(p: &Resource) -> Vec<ClusterSpec> {
    p.body
        .blocks("rds_cluster")
        .map(|b| {
            let secondary = b.block("global_secondary");
            ClusterSpec {
                backup_retention_days: match b.value("backup_retention_days") {
                    None => Some(DEFAULT_RETENTION_DAYS),
                    v => days(v),
                },
                region: p.region.clone(),
                global_secondary_region: secondary.map(|g| known_str(g.value("region"))),
                secondary_instance: secondary.and_then(|g| match g.value("instance_class") {
                    None | Some(Value::Null) => Some(false),
                    Some(v) => v.as_str().map(|_| true),
                }),
            }
        })
        .collect()
}

/// Longest expiry (days), whether something archives, and whether all values were known.
fn retention(blocks: &[&Node]) -> (Option<u32>, bool, bool) {
    let mut expire: Option<u32> = None;
    let mut archives = false;
    let mut known = true;
    for b in blocks {
        for (key, per) in [
            ("expire_days", 1),
            ("daily", 1),
            ("weekly", 7),
            ("monthly", 31),
            ("yearly", 366),
        ] {
            match b.value(key) {
                None | Some(Value::Null) => {}
                Some(v) => match days(Some(v)) {
                    Some(d) => expire = Some(expire.unwrap_or(0).max(d * per)),
                    None => known = false,
                },
            }
        }
        if b.value("archive_after_days").is_some()
            || b.value("yearly").is_some()
            || b.value("monthly").is_some()
        {
            archives = true;
        }
    }
    (expire, archives, known)
}

/// The location of a model finding's path (`rds[0].cross_region_replica`) in the block.
fn locate(body: &Node, path: &[Step]) -> Option<crate::finding::Location> {
    let mut node = body;
    let mut loc = None;
    let mut steps = path.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Attr(name) = step else { continue };
        let index = match steps.peek() {
            Some(Step::Index(i)) => *i,
            _ => 0,
        };
        if let Some(child) = node.blocks(name).nth(index) {
            loc = Some(child.loc);
            node = child;
        } else if let Some(attr) = node.attr(name) {
            return Some(attr.loc);
        } else {
            return loc;
        }
    }
    loc
}
