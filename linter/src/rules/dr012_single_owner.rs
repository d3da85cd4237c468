//! DR012 single-owner.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR012",
    name: "single-owner",
    severity: Severity::Error,
    summary: "a dr_policy with fewer than two owners",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds `dr_policy` resources whose `owners` list has fewer than two entries (or is missing).

## Why is this bad?
Recovery is done by people. With one owner, a holiday, a sick day or a resignation means
nobody knows the runbook, has the access, or feels responsible when the pager goes off.

## Example
```hcl
resource "dr_policy" "orders" {
  name   = "orders"
  owners = ["alice@example.com"]
}
```

Use instead:
```hcl
resource "dr_policy" "orders" {
  name   = "orders"
  owners = ["alice@example.com", "team-orders-oncall@example.com"]
}
```

## Fix safety
No automatic fix: owners are people.

## References
- [Google SRE book: Managing incidents](https://sre.google/sre-book/managing-incidents/)
"#;

/// Pushes DR012 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for p in ctx.managed(&["dr_policy"]) {
        match p.body.attr("owners") {
            Some(a) => {
                if let Some(list) = a.value.as_list() {
                    if list.len() < 2 {
                        out.push(ctx.finding(&META, p, a.loc, format!(
                            "{} owner{}: one absence means nobody can run the recovery; name at least two",
                            list.len(), if list.len() == 1 { "" } else { "s" }
                        ), None));
                    }
                }
            }
            None => out.push(ctx.finding(
                &META,
                p,
                p.header,
                "no owners: name at least two people or teams who can run the recovery".into(),
                None,
            )),
        }
    }
}
