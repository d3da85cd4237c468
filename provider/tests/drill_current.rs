//! `drill_interval` and `dr_status`'s `last_drill_at`, `last_drill_passed` and
//! `drill_current` through terraform against moto: a drill of the policy records its
//! outcome on the policy's resources (read back with the SDK), the status sees it, a drill
//! older than the interval warns on a plan's `check` block, and a new drill clears it.

mod policy_support;

use drkit_testkit::{Moto, Terraform};
use policy_support::{plan_warning, provider_block, seed_db, tag_db, PRIMARY, PROVIDER};
use serde_json::Value as Json;

const POLICY: &str = r#"
resource "dr_policy" "orders" {
  name           = "orders"
  rpo            = "4h"
  rto            = "4h"
  owners         = ["alice@example.com", "bob@example.com"]
  drill_interval = "30d"

  rds {
    instance_identifier = "orders-db"
    cross_region_replica {}
  }
}

data "dr_status" "orders" {
  policy_id = dr_policy.orders.id
}

output "status" {
  value = data.dr_status.orders
}

check "orders_drilled" {
  assert {
    condition     = data.dr_status.orders.drill_current
    error_message = "orders: no passing drill within drill_interval (last drill: ${coalesce(data.dr_status.orders.last_drill_at, "never")})"
  }
}
"#;

const DRILL: &str = r#"
resource "dr_drill" "orders" {
  policy_id = dr_policy.orders.id

  rds {
    instance_identifier = "orders-db"
  }
}
"#;

fn status(tf: &Terraform) -> Json {
    let out = tf.run_ok(&["output", "-json", "status"]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

async fn tags(moto: &Moto) -> Vec<(String, String)> {
    let rds = moto.rds(PRIMARY).await;
    let db = rds
        .describe_db_instances()
        .db_instance_identifier("orders-db")
        .send()
        .await
        .unwrap();
    db.db_instances()[0]
        .tag_list()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_is_recorded_on_the_policy_and_an_old_one_warns_until_drilled_again() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write("main.tf", &format!("{}{POLICY}", provider_block(&moto)))
        .unwrap();
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], false, "{s:#}");
    assert_eq!(s["last_drill_at"], Json::Null);
    assert_eq!(s["last_drill_passed"], Json::Null);
    assert!(
        tag(&tags(&moto).await, "drkit:targets")
            .unwrap()
            .contains(" drill=30d"),
        "the interval is recorded with the targets"
    );
    let warning = plan_warning(&tf);
    assert!(
        warning.contains("orders: no passing drill within drill_interval (last drill: never)"),
        "{warning}"
    );

    // A drill of the policy runs and passes: it records itself on the policy's instance.
    tf.write(
        "main.tf",
        &format!("{}{POLICY}{DRILL}", provider_block(&moto)),
    )
    .unwrap();
    tf.apply().unwrap();
    let run_id = tf.resource("dr_drill.orders").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = tags(&moto).await;
    let last = tag(&t, "drkit:last-drill").expect("drkit:last-drill on the source");
    assert!(last.contains("passed=true"), "{last}");
    assert!(last.ends_with(&format!("drill={run_id}")), "{last}");
    assert_eq!(tag(&t, "drkit:last-passed-drill"), Some(last));
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], true, "{s:#}");
    assert_eq!(s["last_drill_passed"], true);
    let at = s["last_drill_at"].as_str().unwrap();
    assert!(last.starts_with(&format!("at={at}")), "{last} vs {at}");
    assert_eq!(plan_warning(&tf), "");

    // 40 days later (the record aged by hand): beyond the 30-day interval, the plan warns.
    let old = "at=2026-01-01T00:00:00Z passed=true drill=old-run";
    tag_db(
        &moto,
        "orders-db",
        &[("drkit:last-drill", old), ("drkit:last-passed-drill", old)],
    )
    .await;
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(
            "orders: no passing drill within drill_interval (last drill: 2026-01-01T00:00:00Z)"
        ),
        "{warning}"
    );

    // Drilled again: current, the warning goes.
    tf.run_ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-replace=dr_drill.orders",
    ])
    .unwrap();
    assert_eq!(plan_warning(&tf), "");
    // (The output of the replacing apply was read before the drill ran.)
    tf.apply().unwrap();
    assert_eq!(status(&tf)["drill_current"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_drill_interval_is_an_error_on_its_attribute() {
    let moto = Moto::start().unwrap();
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(&moto),
            POLICY.replace("drill_interval = \"30d\"", "drill_interval = \"12h\"")
        ),
    )
    .unwrap();
    let err = tf.plan_expect_error("Invalid drill_interval").unwrap();
    assert!(err.contains("outside 1d to 3650d"), "{err}");
}
