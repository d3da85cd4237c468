//! Where a restore lands, through terraform against moto: `dr_drill`'s `rds` block restores
//! into the subnet group, security groups and parameter groups it names (read back with the
//! AWS SDK while the copy exists), and `dr_status`'s `restore_target` blocks check on every
//! plan that they exist in the region restored to: a group deleted with the SDK makes the
//! plan's `check` block warn naming it, and the warning goes once it is recreated.

mod policy_support;

use std::time::Duration;

use drkit_testkit::{FaultConfig, FaultProxy, Moto, Terraform};
use policy_support::{plan_warning, provider_block, provider_block_at, seed_cluster, seed_db};
use policy_support::{DR, PRIMARY, PROVIDER};
use serde_json::Value as Json;

/// What a restore in `region` needs there, made as an operator would with the SDK: a VPC
/// with two subnets, a security group, a DB subnet group `orders-private`, a DB parameter
/// group `orders-pg15` and a DB cluster parameter group `orders-apg15`. Returns the
/// security group's ID and the VPC's.
async fn network(moto: &Moto, region: &str) -> (String, String) {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config(region).await);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let mut subnets = Vec::new();
    for (i, zone) in ["a", "b"].iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.20.{i}.0/24"))
            .availability_zone(format!("{region}{zone}"))
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet.unwrap().subnet_id.unwrap());
    }
    let sg = ec2
        .create_security_group()
        .group_name("orders-db")
        .description("orders restores")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    moto.rds(region)
        .await
        .create_db_subnet_group()
        .db_subnet_group_name("orders-private")
        .db_subnet_group_description("orders restores")
        .set_subnet_ids(Some(subnets))
        .send()
        .await
        .unwrap();
    parameter_group(moto, region).await;
    moto.rds(region)
        .await
        .create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("orders-apg15")
        .db_parameter_group_family("aurora-postgresql15")
        .description("orders restores")
        .send()
        .await
        .unwrap();
    (sg, vpc)
}

async fn parameter_group(moto: &Moto, region: &str) {
    moto.rds(region)
        .await
        .create_db_parameter_group()
        .db_parameter_group_name("orders-pg15")
        .db_parameter_group_family("postgres15")
        .description("orders restores")
        .send()
        .await
        .unwrap();
}

fn status(tf: &Terraform, name: &str) -> Json {
    let out = tf.run_ok(&["output", "-json", name]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

fn check<'a>(status: &'a Json, check: &str) -> &'a Json {
    status["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no {check} check in {status:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_missing_in_the_dr_region_warns_by_name_until_it_is_recreated() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    let (sg, vpc) = network(&moto, DR).await;
    // A security group of another VPC of the DR region: not where the subnet group is.
    let (other_sg, _) = {
        let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config(DR).await);
        let other_vpc = ec2
            .create_vpc()
            .cidr_block("10.30.0.0/16")
            .send()
            .await
            .unwrap()
            .vpc
            .unwrap()
            .vpc_id
            .unwrap();
        let id = ec2
            .create_security_group()
            .group_name("elsewhere")
            .description("another VPC")
            .vpc_id(&other_vpc)
            .send()
            .await
            .unwrap()
            .group_id
            .unwrap();
        (id, other_vpc)
    };
    let config = |groups: &str| {
        format!(
            r#"{}
resource "dr_policy" "orders" {{
  name   = "orders"
  rpo    = "1h"
  rto    = "4h"
  owners = ["alice@example.com", "bob@example.com"]

  rds {{
    instance_identifier = "orders-db"
    cross_region_replica {{}}
  }}
}}

data "dr_status" "orders" {{
  policy_id = dr_policy.orders.id

  restore_target {{
    region                 = "{DR}"
    db_subnet_group_name   = "orders-private"
    vpc_security_group_ids = [{groups}]
    parameter_group_name   = "orders-pg15"
  }}
}}

# The instance class alone: moto does not list orderable options for postgres.
data "dr_status" "class" {{
  policy_id = dr_policy.orders.id

  restore_target {{
    region         = "{DR}"
    instance_class = "db.t3.micro"
  }}
}}

output "status" {{
  value = data.dr_status.orders
}}

output "class" {{
  value = data.dr_status.class
}}

check "orders_restorable" {{
  assert {{
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }}
}}
"#,
            provider_block(&moto)
        )
    };
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write("main.tf", &config(&format!("\"{sg}\""))).unwrap();
    let applied = tf.apply().unwrap();
    assert!(
        !applied.combined().contains("Check block assertion failed"),
        "{applied}"
    );
    let s = status(&tf, "status");
    assert_eq!(s["restorable"], true, "{s:#}");
    let subnet = check(&s, "db_subnet_group");
    assert_eq!(
        subnet["subject"],
        format!("subnet-group:{DR}:orders-private")
    );
    assert!(
        subnet["detail"].as_str().unwrap().starts_with(&format!(
            "DB subnet group orders-private exists in {DR} (in {vpc}, 2 subnet(s) in {DR}a, {DR}b)"
        )),
        "{subnet}"
    );
    let group = check(&s, "security_group");
    assert_eq!(group["subject"], format!("security-group:{DR}:{sg}"));
    assert_eq!(group["ok"], true, "{group}");
    assert_eq!(check(&s, "db_parameter_group")["ok"], true);
    // moto answers DescribeOrderableDBInstanceOptions for no postgres class: unknown, with
    // the reason, never a pass or a failure.
    let class = status(&tf, "class");
    let c = check(&class, "instance_class");
    assert_eq!(c["ok"], Json::Null, "{c}");
    assert_eq!(class["restorable"], Json::Null);
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("lists no option for postgres there"),
        "{c}"
    );
    assert_eq!(plan_warning(&tf), "");

    // The DR region's subnet group is deleted: a restore there would fail.
    let rds = moto.rds(DR).await;
    rds.delete_db_subnet_group()
        .db_subnet_group_name("orders-private")
        .send()
        .await
        .unwrap();
    assert!(rds
        .describe_db_subnet_groups()
        .db_subnet_group_name("orders-private")
        .send()
        .await
        .is_err());
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!("db_subnet_group subnet-group:{DR}:orders-private: DB subnet group orders-private does not exist in {DR}")),
        "{warning}"
    );
    network_subnet_group(&moto, &vpc).await;
    assert_eq!(plan_warning(&tf), "");

    // The parameter group is deleted.
    rds.delete_db_parameter_group()
        .db_parameter_group_name("orders-pg15")
        .send()
        .await
        .unwrap();
    let listed = rds
        .describe_db_parameter_groups()
        .send()
        .await
        .unwrap()
        .db_parameter_groups()
        .iter()
        .any(|g| g.db_parameter_group_name() == Some("orders-pg15"));
    assert!(!listed);
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!("db_parameter_group parameter-group:{DR}:orders-pg15: DB parameter group orders-pg15 does not exist in {DR}")),
        "{warning}"
    );
    parameter_group(&moto, DR).await;
    assert_eq!(plan_warning(&tf), "");

    // A security group of another VPC: RDS would refuse it.
    tf.write("main.tf", &config(&format!("\"{sg}\", \"{other_sg}\"")))
        .unwrap();
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!(
            "security_group security-group:{DR}:{other_sg}: security group {other_sg} (elsewhere) is in"
        )),
        "{warning}"
    );
    assert!(
        warning.contains(&format!("but DB subnet group orders-private is in {vpc}")),
        "{warning}"
    );
}

/// The subnet group again, in the VPC's existing subnets.
async fn network_subnet_group(moto: &Moto, vpc: &str) {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config(DR).await);
    let subnets: Vec<String> = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    moto.rds(DR)
        .await
        .create_db_subnet_group()
        .db_subnet_group_name("orders-private")
        .db_subnet_group_description("orders restores")
        .set_subnet_ids(Some(subnets))
        .send()
        .await
        .unwrap();
}

/// A Terraform directory whose provider reaches moto through `proxy`, with `resources`.
fn through(moto: &Moto, proxy: &FaultProxy, resources: &str) -> Terraform {
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    let provider = provider_block_at(proxy.endpoint(), 1);
    tf.write("main.tf", &format!("{provider}\n{resources}"))
        .unwrap();
    tf
}

/// Runs `terraform apply` with the proxy holding the answer to the first request matching
/// `hold`; `look` reads moto while the temporary copy exists; then the apply finishes.
async fn apply_holding<F, Fut>(tf: &Terraform, proxy: &FaultProxy, hold: &str, look: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    proxy.hold_after(hold);
    let child = tf
        .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    proxy.wait_held(Duration::from_secs(300)).unwrap();
    look().await;
    proxy.release();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_drill_restores_into_its_subnet_group_security_groups_and_parameter_group() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    let (sg, _) = network(&moto, PRIMARY).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    let tf = through(
        &moto,
        &proxy,
        &format!(
            r#"
resource "dr_drill" "orders" {{
  policy_id = "orders"
  rpo       = "1h"
  rto       = "1h"

  rds {{
    instance_identifier    = "orders-db"
    db_subnet_group_name   = "orders-private"
    vpc_security_group_ids = ["{sg}"]
    parameter_group_name   = "orders-pg15"
  }}
}}

# The drill's own attributes: Terraform resolves them, before and after the first drill.
data "dr_status" "orders" {{
  policy_id = dr_drill.orders.policy_id

  restore_target {{
    db_subnet_group_name   = dr_drill.orders.rds[0].db_subnet_group_name
    vpc_security_group_ids = dr_drill.orders.rds[0].vpc_security_group_ids
    parameter_group_name   = dr_drill.orders.rds[0].parameter_group_name
  }}
}}

output "status" {{
  value = data.dr_status.orders
}}
"#
        ),
    );
    apply_holding(
        &tf,
        &proxy,
        "rds:RestoreDBInstanceToPointInTime",
        || async {
            let copies = moto
                .rds(PRIMARY)
                .await
                .describe_db_instances()
                .send()
                .await
                .unwrap();
            let copy = copies
                .db_instances()
                .iter()
                .find(|d| {
                    d.db_instance_identifier()
                        .is_some_and(|id| id.starts_with("drkit-drill-"))
                })
                .expect("the temporary instance exists while the drill runs");
            assert_eq!(
                copy.db_subnet_group()
                    .and_then(|g| g.db_subnet_group_name()),
                Some("orders-private")
            );
            let groups: Vec<&str> = copy
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .collect();
            assert_eq!(groups, [sg.as_str()]);
            let parameters: Vec<&str> = copy
                .db_parameter_groups()
                .iter()
                .filter_map(|g| g.db_parameter_group_name())
                .collect();
            assert_eq!(parameters, ["orders-pg15"]);
        },
    )
    .await;
    let state = tf.resource("dr_drill.orders").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let report: Json = serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert!(
        report["notes"].to_string().contains(&format!(
            "ran in subnet group orders-private, security groups {sg}, parameter group orders-pg15"
        )),
        "{report:#}"
    );
    let left: Vec<String> = moto
        .rds(PRIMARY)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect();
    assert_eq!(left, ["orders-db"], "the temporary instance is gone");
    let s = status(&tf, "status");
    for name in ["db_subnet_group", "security_group", "db_parameter_group"] {
        let c = check(&s, name);
        assert_eq!(c["ok"], true, "{c}");
        assert!(
            c["subject"]
                .as_str()
                .unwrap()
                .contains(&format!(":{PRIMARY}:")),
            "a drill without region restores in the provider's region: {c}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aurora_drill_restores_into_its_groups_and_its_instance_uses_the_parameter_group() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let (sg, _) = network(&moto, PRIMARY).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    let tf = through(
        &moto,
        &proxy,
        &format!(
            r#"
resource "dr_drill" "orders" {{
  policy_id = "orders"
  rpo       = "1h"
  rto       = "1h"

  rds {{
    cluster_identifier              = "orders"
    instance_class                  = "db.r6g.large"
    db_subnet_group_name            = "orders-private"
    vpc_security_group_ids          = ["{sg}"]
    db_cluster_parameter_group_name = "orders-apg15"
    parameter_group_name            = "orders-pg15"
  }}
}}
"#
        ),
    );
    // The cluster's instance is being created: both exist.
    apply_holding(&tf, &proxy, "rds:CreateDBInstance", || async {
        let rds = moto.rds(PRIMARY).await;
        let clusters = rds.describe_db_clusters().send().await.unwrap();
        let cluster = clusters
            .db_clusters()
            .iter()
            .find(|c| {
                c.db_cluster_identifier()
                    .is_some_and(|id| id.starts_with("drkit-drill-"))
            })
            .expect("the temporary cluster exists while the drill runs");
        assert_eq!(cluster.db_subnet_group(), Some("orders-private"));
        assert_eq!(cluster.db_cluster_parameter_group(), Some("orders-apg15"));
        let groups: Vec<&str> = cluster
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id())
            .collect();
        assert_eq!(groups, [sg.as_str()]);
        let instance = format!("{}-1", cluster.db_cluster_identifier().unwrap());
        let member = rds
            .describe_db_instances()
            .db_instance_identifier(&instance)
            .send()
            .await
            .unwrap();
        let parameters: Vec<&str> = member.db_instances()[0]
            .db_parameter_groups()
            .iter()
            .filter_map(|g| g.db_parameter_group_name())
            .collect();
        assert_eq!(parameters, ["orders-pg15"]);
    })
    .await;
    let state = tf.resource("dr_drill.orders").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let report: Json = serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert!(
        report["notes"]
            .to_string()
            .contains("ran in subnet group orders-private, security groups"),
        "{report:#}"
    );
    assert!(
        report["notes"]
            .to_string()
            .contains("cluster parameter group orders-apg15, parameter group orders-pg15"),
        "{report:#}"
    );
}
