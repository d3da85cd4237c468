//! Shared setup of the `dr_policy` acceptance tests: a moto server seeded through the AWS
//! SDK, and a Terraform directory whose provider block points at it.
#![allow(dead_code)]

use drkit_testkit::{Moto, Terraform};

/// The provider binary under test.
pub const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-dr");
/// Primary and DR regions of every test.
pub const PRIMARY: &str = "us-east-1";
pub const DR: &str = "us-west-2";
/// An IAM role ARN for replication (moto does not check it).
pub const ROLE: &str = "arn:aws:iam::123456789012:role/replication";
/// A KMS key of the DR region (moto does not check it).
pub const DR_KEY: &str = "arn:aws:kms:us-west-2:123456789012:key/dr-key";

/// `terraform {}` and `provider "dr"` blocks for `moto`; few retries, so that moto's
/// unimplemented calls fail fast.
pub fn provider_block(moto: &Moto) -> String {
    provider_block_at(moto.endpoint(), 1)
}

/// `terraform {}` and `provider "dr"` blocks for an endpoint (moto, or a proxy in front of
/// it) with `max_retries`.
pub fn provider_block_at(endpoint: &str, max_retries: u32) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    dr = {{ source = "drkit/dr" }}
  }}
}}

provider "dr" {{
  region      = "{PRIMARY}"
  dr_region   = "{DR}"
  max_retries = {max_retries}
  read_budget = "2m" # moto on a loaded test machine can take more than the default 10s
  endpoints {{
    rds        = "{endpoint}"
    s3         = "{endpoint}"
    cloudwatch = "{endpoint}"
    kms        = "{endpoint}"
    ec2        = "{endpoint}"
  }}
}}
"#
    )
}

/// `terraform plan` (which reads data sources again): the text of its check-block warnings
/// with Terraform's line wrapping undone, empty when every check passed. A failed check
/// never fails the plan.
pub fn plan_warning(tf: &Terraform) -> String {
    let plan = tf.run(&["plan", "-input=false", "-no-color"]).unwrap();
    assert!(
        plan.success(),
        "a failed check must not fail the plan:\n{plan}"
    );
    let text = plan.combined();
    match text.find("Warning: Check block assertion failed") {
        Some(at) => text[at..].split_whitespace().collect::<Vec<_>>().join(" "),
        None => String::new(),
    }
}

/// A Terraform directory against `moto` with `resources` as the rest of `main.tf`.
pub fn terraform(moto: &Moto, resources: &str) -> Terraform {
    let mut tf = Terraform::new(PROVIDER).expect("terraform directory");
    tf.envs(moto.env());
    tf.write("main.tf", &format!("{}\n{resources}", provider_block(moto)))
        .expect("write main.tf");
    tf
}

/// Rewrites `main.tf` with new resources.
pub fn rewrite(tf: &Terraform, moto: &Moto, resources: &str) {
    tf.write("main.tf", &format!("{}\n{resources}", provider_block(moto)))
        .expect("write main.tf");
}

/// Sets each `(key, value)` tag on the primary-region instance `id`, as someone with
/// `rds:AddTagsToResource` could (e.g. a drill outcome aged or forged by hand).
pub async fn tag_db(moto: &Moto, id: &str, tags: &[(&str, &str)]) {
    let rds = moto.rds(PRIMARY).await;
    let arn = rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .unwrap()
        .db_instances()[0]
        .db_instance_arn()
        .unwrap()
        .to_string();
    let tags = tags
        .iter()
        .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
    rds.add_tags_to_resource()
        .resource_name(&arn)
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .unwrap();
}

/// Creates a PostgreSQL instance in the primary region with 1 day of backups.
pub async fn seed_db(moto: &Moto, id: &str, encrypted: bool) -> aws_sdk_rds::types::DbInstance {
    let rds = moto.rds(PRIMARY).await;
    let mut req = rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("dr")
        .master_user_password("password1")
        .backup_retention_period(1);
    if encrypted {
        req = req
            .storage_encrypted(true)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/primary-key");
    }
    match req.send().await {
        Ok(out) => out.db_instance.expect("db"),
        // moto makes the instance, then its first automated snapshot. When its answer is
        // lost on a loaded machine, the SDK sends the create again, and moto refuses it for
        // that snapshot: the instance is there, so read it back.
        Err(e)
            if matches!(
                aws_sdk_rds::error::ProvideErrorMetadata::code(&e),
                Some("DBSnapshotAlreadyExists" | "DBInstanceAlreadyExists")
            ) =>
        {
            rds.describe_db_instances()
                .db_instance_identifier(id)
                .send()
                .await
                .expect("describe the db the first create made")
                .db_instances
                .and_then(|d| d.into_iter().next())
                .unwrap_or_else(|| panic!("create db {id}: {e:?}"))
        }
        Err(e) => panic!("create db {id}: {e:?}"),
    }
}

/// Creates a bucket in `region`, optionally versioned.
pub async fn seed_bucket(moto: &Moto, name: &str, region: &str, versioned: bool) {
    let s3 = moto.s3(region).await;
    let mut req = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    req.send().await.expect("create bucket");
    if versioned {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .expect("versioning");
    }
}

/// Reads an instance through the SDK.
pub async fn db(moto: &Moto, region: &str, id: &str) -> Option<aws_sdk_rds::types::DbInstance> {
    moto.rds(region)
        .await
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .ok()
        .and_then(|o| o.db_instances.and_then(|d| d.into_iter().next()))
}

/// Bucket versioning status through the SDK (with the provider's workaround for moto's
/// response root name).
pub async fn versioning(moto: &Moto, bucket: &str) -> Option<String> {
    terraform_provider_dr::policy::s3::versioning_status(&moto.s3(PRIMARY).await, bucket)
        .await
        .expect("versioning status")
}

/// The errors of a failed terraform run, from the first `Error:` on (no paths, no
/// dev_overrides warning): what snapshots record.
pub fn errors_of(output: &str) -> String {
    let start = output.find("Error: ").unwrap_or(0);
    output[start..]
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵']).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The standard policy of the tests: one database with a replica, one bucket with
/// replication (RTC), KMS encryption and both retention forms.
pub fn full_policy(name: &str, db: &str, bucket: &str, dest: &str) -> String {
    format!(
        r#"resource "dr_policy" "{name}" {{
  name   = "{name}"
  rpo    = "15m"
  rto    = "1h"
  owners = ["alice", "bob"]

  rds {{
    instance_identifier   = "{db}"
    backup_retention_days = 14
    backup_window         = "03:00-04:00"
    cross_region_replica {{}}
  }}

  s3 {{
    bucket = "{bucket}"
    encryption {{
      kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/s3-key"
    }}
    replication {{
      destination_bucket       = "{dest}"
      role_arn                 = "{ROLE}"
      storage_class            = "STANDARD_IA"
      replication_time_control = true
      replica_kms_key_id       = "{DR_KEY}"
    }}
    retention {{
      prefix                 = "wal/"
      archive_after_days     = 30
      archive_storage_class  = "GLACIER"
      expire_days            = 90
      noncurrent_expire_days = 7
    }}
    retention {{
      daily   = 30
      weekly  = 12
      monthly = 12
      yearly  = 7
    }}
  }}
}}
"#
    )
}

/// Creates an Aurora PostgreSQL cluster in the primary region with 1 day of backups.
pub async fn seed_cluster(moto: &Moto, id: &str, encrypted: bool) -> aws_sdk_rds::types::DbCluster {
    let rds = moto.rds(PRIMARY).await;
    let mut req = rds
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .master_username("dr")
        .master_user_password("password1")
        .backup_retention_period(1);
    if encrypted {
        req = req
            .storage_encrypted(true)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/primary-key");
    }
    match req.send().await {
        Ok(out) => out.db_cluster.expect("cluster"),
        // A create whose answer was lost on a loaded machine and sent again.
        Err(e)
            if aws_sdk_rds::error::ProvideErrorMetadata::code(&e)
                == Some("DBClusterAlreadyExistsFault") =>
        {
            cluster(moto, PRIMARY, id)
                .await
                .unwrap_or_else(|| panic!("create cluster {id}: {e:?}"))
        }
        Err(e) => panic!("create cluster {id}: {e:?}"),
    }
}

/// Reads a cluster through the SDK.
pub async fn cluster(moto: &Moto, region: &str, id: &str) -> Option<aws_sdk_rds::types::DbCluster> {
    moto.rds(region)
        .await
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .ok()
        .and_then(|o| o.db_clusters.and_then(|d| d.into_iter().next()))
}

/// The ARNs of the members of a global cluster, read through the SDK (moto answers every
/// global cluster whatever the identifier, so it is filtered here).
pub async fn global_members(moto: &Moto, id: &str) -> Option<Vec<String>> {
    let out = moto
        .rds(PRIMARY)
        .await
        .describe_global_clusters()
        .global_cluster_identifier(id)
        .send()
        .await
        .ok()?;
    let g = out
        .global_clusters()
        .iter()
        .find(|g| g.global_cluster_identifier() == Some(id))?;
    let mut members: Vec<String> = g
        .global_cluster_members()
        .iter()
        .filter_map(|m| m.db_cluster_arn().map(str::to_string))
        .collect();
    members.sort();
    Some(members)
}

/// The tags of a cluster, as a map.
pub fn cluster_tags(
    c: &aws_sdk_rds::types::DbCluster,
) -> std::collections::BTreeMap<String, String> {
    c.tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// A policy covering one Aurora cluster with a global secondary (and a reader there).
pub fn cluster_policy(name: &str, cluster: &str) -> String {
    format!(
        r#"resource "dr_policy" "{name}" {{
  name   = "{name}"
  rpo    = "1m"
  rto    = "10m"
  owners = ["alice", "bob"]

  rds_cluster {{
    cluster_identifier    = "{cluster}"
    backup_retention_days = 14
    backup_window         = "05:00-06:00"
    global_secondary {{
      instance_class = "db.r6g.large"
      kms_key_id     = "{DR_KEY}"
    }}
  }}
}}
"#
    )
}
