//! DR011 no-restore-drill.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR011",
    name: "no-restore-drill",
    severity: Severity::Error,
    summary: "a dr_policy that no dr_drill exercises",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds `dr_policy` resources that no `dr_drill` references through `policy_id`.

## Why is this bad?
A backup is not DR until a restore has been done and timed. Untested backups fail in
the ways nobody looked at: a missing extension, a dump of the wrong database, a key the
DR account cannot use, a restore that takes ten hours against a one-hour RTO. A drill
finds out on a Tuesday afternoon instead of during the outage.

## Example
```hcl
resource "dr_policy" "orders" {
  name = "orders"
  rpo  = "15m"
  rto  = "1h"
}
```

Use instead:
```hcl
resource "dr_drill" "orders" {
  policy_id = dr_policy.orders.id
  interval  = "90d"
  rpo       = "15m"
  rto       = "1h"

  postgres_dump {
    s3_uri = "s3://orders-backups/daily/"
  }
  target {
    host         = "restore-test.internal"
    username     = "drill"
    password_env = "DRILL_PG_PASSWORD"
  }
  verify {
    name   = "orders present"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }
}
```

## Fix safety
No automatic fix: a drill needs a restore target and verification queries.

## References
- [drkit `dr_drill`](../resources/dr_drill.md)
"#;

/// Pushes DR011 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let drills: Vec<_> = ctx.managed(&["dr_drill"]).collect();
    // A drill whose policy cannot be resolved might exercise any policy.
    if let Some(d) = drills.iter().find(|d| {
        d.value("policy_id")
            .is_some_and(|v| !v.is_known() && v.as_ref().is_none())
    }) {
        if let Some(a) = d.body.attr("policy_id") {
            for p in ctx.managed(&["dr_policy"]) {
                ctx.unknown(
                    &META,
                    p,
                    p.header,
                    format!(
                        "{}'s policy_id cannot be known before apply: it may drill this policy",
                        d.address
                    ),
                );
            }
            ctx.unknown_attr(&META, d, "policy_id", a);
        }
        return;
    }
    // What the drills name, once: by reference (address) or by the policy's name.
    let mut addresses = rustc_hash::FxHashSet::default();
    let mut names = rustc_hash::FxHashSet::default();
    for d in &drills {
        match d.value("policy_id") {
            Some(crate::eval::Value::Ref(r)) => {
                addresses.insert(r.address.as_str());
            }
            Some(crate::eval::Value::String(s)) => {
                names.insert(s.as_str());
            }
            _ => {}
        }
    }
    for p in ctx.managed(&["dr_policy"]) {
        let drilled = addresses.contains(p.address.as_str())
            || p.str("name").is_some_and(|n| names.contains(n));
        if !drilled {
            out.push(ctx.finding(&META, p, p.header,
                "no dr_drill exercises this policy: its backups have never been restored and timed".into(), None));
        }
    }
}
