//! DR013 no-runbook.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR013",
    name: "no-runbook",
    severity: Severity::Warning,
    summary: "a dr_policy with neither runbook_url nor a dr_runbook",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds `dr_policy` resources with no `runbook_url` and no `dr_runbook` data source whose
`policy_id` references them.

## Why is this bad?
During an outage nobody should be working out the failover commands. A runbook says who
decides, what to run in which region, how to verify and whom to tell; `dr_runbook`
renders one from the policy, so it names the real identifiers and stays current.

## Example
```hcl
resource "dr_policy" "orders" {
  name = "orders"
}
```

Use instead:
```hcl
data "dr_runbook" "orders" {
  policy_id = dr_policy.orders.id
}
```

## Fix safety
No automatic fix.

## References
- [drkit `dr_runbook`](../data-sources/dr_runbook.md)
"#;

/// Pushes DR013 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let runbooks: Vec<_> = ctx.data("dr_runbook").collect();
    if runbooks.iter().any(|r| {
        r.value("policy_id")
            .is_some_and(|v| !v.is_known() && v.as_ref().is_none())
    }) {
        return;
    }
    // The policies a runbook names, once.
    let with_runbook: rustc_hash::FxHashSet<&str> = runbooks
        .iter()
        .filter_map(|r| r.value("policy_id").and_then(|v| v.as_ref()))
        .map(|r| r.address.as_str())
        .collect();
    for p in ctx.managed(&["dr_policy"]) {
        if p.value("runbook_url")
            .is_some_and(|v| !matches!(v, crate::eval::Value::Null))
        {
            continue;
        }
        let has_runbook = with_runbook.contains(p.address.as_str());
        if !has_runbook {
            out.push(
                ctx.finding(
                    &META,
                    p,
                    p.header,
                    "no runbook: set runbook_url or add a dr_runbook data source for this policy"
                        .into(),
                    None,
                ),
            );
        }
    }
}
