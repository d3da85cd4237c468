//! `data "dr_runbook"`: the failover runbook of a policy, as markdown, from the live AWS
//! resources the policy manages (found by its `drkit:policy` tag, or named explicitly)
//! and, optionally, the last drill's report.
//!
//! Order: state, schema, read, helpers. Rendering is pure, in [`crate::runbook`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, DataSource, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::{add_aws_error, error};
use crate::policy::claims::{parse_targets_tag, OWNER_TAG, TARGETS_TAG};
use crate::policy::{rds, s3};
use crate::provider::{self as dr_provider, SharedClients};
use crate::runbook::{self, Bucket, Input, Instance};

/// The data source's state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookState {
    /// Same as `policy_id`.
    #[serde(default)]
    pub id: Value<String>,
    /// Policy name (`dr_policy.x.id`).
    #[serde(default)]
    pub policy_id: Value<String>,
    /// RDS instances to cover instead of the tagged ones.
    #[serde(default)]
    pub rds_instances: Value<Vec<Value<String>>>,
    /// Buckets to cover instead of the tagged ones.
    #[serde(default)]
    pub buckets: Value<Vec<Value<String>>>,
    /// `dr_drill.x.report`.
    #[serde(default)]
    pub drill_report: Value<String>,
    /// Title.
    #[serde(default)]
    pub title: Value<String>,
    /// DNS name the applications use.
    #[serde(default)]
    pub dns_record: Value<String>,
    /// Route 53 zone of `dns_record`.
    #[serde(default)]
    pub hosted_zone_id: Value<String>,
    /// Where to announce.
    #[serde(default)]
    pub notify: Value<String>,
    /// The runbook.
    #[serde(default)]
    pub markdown: Value<String>,
}

use crate::schema_helpers::attr;

/// The `dr_runbook` schema.
pub fn schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, Required};
    use AttributeType::{List, String as Str};
    Schema {
        version: 0,
        block: Block {
            description: Description::markdown(
                "The failover runbook of a `dr_policy` as markdown: detection signals, the exact \
                 commands for its instances and buckets (promote the replica in its region, \
                 repoint DNS, switch buckets), verification, notification, the targets and the \
                 last drill's figures. Ready for `local_file` or a wiki.",
            ),
            attributes: map! {
                "id" => attr(Str, Computed, "The policy name."),
                "policy_id" => attr(Str, Required, "The policy (`dr_policy.x.id`): its instances and buckets are found by their `drkit:policy` tag."),
                "rds_instances" => attr(List(Box::new(Str)), Optional, "Cover these RDS instances (primary region) instead of the tagged ones."),
                "buckets" => attr(List(Box::new(Str)), Optional, "Cover these buckets instead of the tagged ones."),
                "drill_report" => attr(Str, Optional, "The last drill's `report` (`dr_drill.x.report`): its figures and checks go into the runbook."),
                "title" => attr(Str, Optional, "Title. Default `Failover runbook: <policy>`."),
                "dns_record" => attr(Str, Optional, "DNS name the applications use for the database; the runbook repoints it."),
                "hosted_zone_id" => attr(Str, Optional, "Route 53 hosted zone of `dns_record`: the runbook then gives the exact `change-resource-record-sets` command."),
                "notify" => attr(Str, Optional, "Where to announce the failover, e.g. `#orders-incident`."),
                "markdown" => attr(Str, Computed, "The runbook."),
            },
            ..Default::default()
        },
    }
}

/// `data "dr_runbook"`.
#[derive(Debug, Clone)]
pub struct DrRunbook {
    clients: SharedClients,
}

impl DrRunbook {
    /// A runbook data source over the provider's shared clients.
    pub fn new(clients: SharedClients) -> Self {
        DrRunbook { clients }
    }
}

#[async_trait::async_trait]
impl DataSource for DrRunbook {
    type State<'a> = RunbookState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(report) = config.drill_report.as_ref_option() {
            if serde_json::from_str::<drkit_drill::DrillReport>(report).is_err() {
                diags.add_error(error(
                    "Invalid drill_report",
                    "drill_report takes a dr_drill's `report` attribute (its JSON), e.g. dr_drill.orders.report.",
                    AttributePath::new("drill_report"),
                ));
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let clients = dr_provider::clients(&self.clients, diags)?;
        let policy = config.policy_id.as_ref_option()?.clone();
        let list = |v: &Value<Vec<Value<String>>>| -> Option<Vec<String>> {
            v.as_ref_option().map(|l| {
                l.iter()
                    .filter_map(|x| x.as_ref_option().cloned())
                    .collect()
            })
        };
        let mut input = Input {
            title: config
                .title
                .as_ref_option()
                .cloned()
                .unwrap_or_else(|| format!("Failover runbook: {policy}")),
            policy: policy.clone(),
            dns_record: config.dns_record.as_ref_option().cloned(),
            hosted_zone_id: config.hosted_zone_id.as_ref_option().cloned(),
            notify: config.notify.as_ref_option().cloned(),
            drill: config
                .drill_report
                .as_ref_option()
                .and_then(|r| serde_json::from_str(r).ok()),
            ..Input::default()
        };
        let mut targets_tag = None;
        let ids = match list(&config.rds_instances) {
            Some(ids) => ids,
            None => tagged_instances(diags, clients, &policy).await?,
        };
        let primary = clients.primary_region().to_string();
        let rds_client = clients.rds(&primary).await;
        for id in ids {
            match rds::describe(&rds_client, &id).await {
                Ok(Some(live)) => {
                    targets_tag = targets_tag.or(live.tags.get(TARGETS_TAG).cloned());
                    input.instances.push(Instance {
                        identifier: live.identifier.clone(),
                        region: primary.clone(),
                        replicas: live
                            .replicas
                            .iter()
                            .map(|r| {
                                let region = rds::arn_region(r).unwrap_or(&primary).to_string();
                                (rds::arn_name(r).to_string(), region)
                            })
                            .collect(),
                        retention_days: live.retention,
                        backup_regions: live
                            .backup_replications
                            .iter()
                            .filter_map(|a| rds::arn_region(a).map(str::to_string))
                            .collect(),
                    });
                }
                Ok(None) => diags.add_error(error(
                    "RDS instance not found",
                    format!("No RDS instance {id:?} in {primary}."),
                    AttributePath::new("rds_instances"),
                )),
                Err(e) => {
                    add_aws_error(
                        diags,
                        "Could not read the policy's RDS instance",
                        AttributePath::new("policy_id"),
                        &e,
                    );
                }
            }
        }
        let buckets = match list(&config.buckets) {
            Some(b) => b,
            None => tagged_buckets(diags, clients, &policy).await?,
        };
        let s3_client = clients.s3(&primary).await;
        for name in buckets {
            match s3::describe(&s3_client, &name).await {
                Ok(Some(live)) => {
                    targets_tag = targets_tag.or(live
                        .tags
                        .iter()
                        .find(|(k, _)| k == TARGETS_TAG)
                        .map(|(_, v)| v.clone()));
                    let destination = match &live.replication {
                        Some(r) => {
                            let dest = r
                                .destination_bucket
                                .trim_start_matches("arn:aws:s3:::")
                                .to_string();
                            let region = bucket_region(&s3_client, &dest).await;
                            Some((dest, region))
                        }
                        None => None,
                    };
                    input.buckets.push(Bucket {
                        name: name.clone(),
                        region: primary.clone(),
                        destination,
                        versioning: live.versioning.clone(),
                    });
                }
                Ok(None) => diags.add_error(error(
                    "Bucket not found",
                    format!("No bucket {name:?}."),
                    AttributePath::new("buckets"),
                )),
                Err(e) => add_aws_error(
                    diags,
                    "Could not read the policy's bucket",
                    AttributePath::new("policy_id"),
                    &e,
                ),
            }
        }
        if let Some(tag) = targets_tag {
            let t = parse_targets_tag(&tag);
            input.rpo = t.rpo;
            input.rto = t.rto;
            input.owners = t.owners.unwrap_or_default();
            input.runbook_url = t.runbook_url;
        }
        if !diags.errors.is_empty() {
            return None;
        }
        let mut state = config;
        state.id = Value::Value(policy);
        state.markdown = Value::Value(runbook::render(&input));
        Some(state)
    }
}

async fn tagged_instances(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    policy: &str,
) -> Option<Vec<String>> {
    let client = clients.rds(clients.primary_region()).await;
    let mut out = Vec::new();
    let mut pages = client.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                for db in page.db_instances() {
                    let owned = db
                        .tag_list()
                        .iter()
                        .any(|t| t.key() == Some(OWNER_TAG) && t.value() == Some(policy));
                    if owned {
                        out.extend(db.db_instance_identifier().map(str::to_string));
                    }
                }
            }
            Err(e) => {
                add_aws_error(
                    diags,
                    "Could not list RDS instances",
                    AttributePath::new("policy_id"),
                    &crate::diagnostics::AwsError::from_sdk("DescribeDBInstances", e),
                );
                return None;
            }
        }
    }
    Some(out)
}

async fn tagged_buckets(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    policy: &str,
) -> Option<Vec<String>> {
    let client = clients.s3(clients.primary_region()).await;
    let listed = match client.list_buckets().send().await {
        Ok(l) => l,
        Err(e) => {
            diags.add_error(error(
                "Could not list buckets",
                format!(
                    "ListBuckets failed: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                ),
                AttributePath::new("policy_id"),
            ));
            return None;
        }
    };
    let mut out = Vec::new();
    for b in listed.buckets() {
        let Some(name) = b.name() else { continue };
        if let Ok(tags) = client.get_bucket_tagging().bucket(name).send().await {
            let tags: HashMap<&str, &str> = tags
                .tag_set()
                .iter()
                .map(|t| (t.key(), t.value()))
                .collect();
            if tags.get(OWNER_TAG) == Some(&policy) {
                out.push(name.to_string());
            }
        }
    }
    Some(out)
}

async fn bucket_region(client: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    let out = client
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    // S3 reports us-east-1 as an empty location.
    Some(match out.location_constraint() {
        Some(c) if !c.as_str().is_empty() => c.as_str().to_string(),
        _ => "us-east-1".to_string(),
    })
}
