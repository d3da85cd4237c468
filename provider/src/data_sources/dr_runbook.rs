//! `data "dr_runbook"`: the failover runbook of a policy, as markdown, from the live AWS
//! resources the policy manages (found by its `drkit:policy` tag, or named explicitly)
//! and, optionally, the last drill's report. Its "what you would lose now" line takes the
//! figures `dr_status` reports, from the same discovery ([`crate::status`]).
//!
//! Order: state, schema, read, helpers. Rendering is pure, in [`crate::runbook`].

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, DataSource, Diagnostics};

use crate::aws::AwsClients;
use crate::aws::SharedClients;
use crate::diagnostics::{add_aws_error, error};
use crate::policy::claims::{parse_targets_tag, TARGETS_TAG};
use crate::policy::{rds, rds_cluster, s3};
use crate::runbook::{self, Bucket, Cluster, Input, Instance, Secondary};
use crate::status;

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
        validate(diags, &config);
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
        let clients = crate::aws::clients(&self.clients, diags)?;
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
        // One discovery serves the runbook and its live "what you would lose" line.
        let now = time::OffsetDateTime::now_utc();
        let inventory = status::discover::discover(clients, &policy).await;
        let explicit = list(&config.rds_instances).is_some() && list(&config.buckets).is_some();
        if !inventory.problems.is_empty() && !explicit {
            diags.add_error(error(
                "Could not list the policy's resources",
                format!(
                    "Finding what carries the tag drkit:policy = {policy:?} failed after every retry: {}. Plan again later, or raise `max_retries`.",
                    inventory.problems.join("; ")
                ),
                AttributePath::new("policy_id"),
            ));
            return None;
        }
        let ids = match list(&config.rds_instances) {
            Some(ids) => ids,
            None => inventory
                .instances
                .iter()
                .map(|i| i.identifier.clone())
                .collect(),
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
        for id in inventory.clusters.iter().map(|c| c.identifier.clone()) {
            if let Some(c) = cluster(diags, clients, &id, &mut targets_tag).await {
                input.clusters.push(c);
            }
        }
        let buckets = match list(&config.buckets) {
            Some(b) => b,
            None => inventory.buckets.clone(),
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
        // The exposure line is an optional read: bounded by `read_budget`.
        let measured = status::measure::measure_inventory(
            clients.optional_reads(),
            &policy,
            &inventory,
            status::DEFAULT_WINDOW,
            now,
        )
        .await;
        input.exposure = Some(runbook::Exposure::from_measurement(&measured));
        let mut state = config;
        state.id = Value::Value(policy);
        state.markdown = Value::Value(runbook::render(&input));
        Some(state)
    }
}

/// True for a DNS name of two labels or more (`db.orders.example.com`, trailing dot and a
/// leading `*.` allowed).
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let name = name.strip_prefix("*.").unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

/// True for a Route 53 hosted zone ID (`Z0123456789ABCDEFGHIJ`, optionally `/hostedzone/...`).
fn is_hosted_zone_id(id: &str) -> bool {
    let id = id.strip_prefix("/hostedzone/").unwrap_or(id);
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Shapes of the arguments; they go into the runbook's commands verbatim.
fn validate(diags: &mut Diagnostics, c: &RunbookState) {
    for (attr, v, advice) in [
        (
            "policy_id",
            &c.policy_id,
            "pass the policy, e.g. dr_policy.orders.id.",
        ),
        (
            "title",
            &c.title,
            "write a title, or remove it for the default.",
        ),
        (
            "notify",
            &c.notify,
            "name a channel or list, e.g. #orders-incident, or remove it.",
        ),
    ] {
        if v.as_ref_option().is_some_and(|s| s.trim().is_empty()) {
            diags.add_error(error(
                format!("Invalid {attr}"),
                format!("{attr} is empty: {advice}"),
                AttributePath::new(attr),
            ));
        }
    }
    type Shape = fn(&str) -> bool;
    for (attr, list, shape, what) in [
        (
            "rds_instances",
            &c.rds_instances,
            crate::shape::is_rds_identifier as Shape,
            "an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter",
        ),
        (
            "buckets",
            &c.buckets,
            crate::shape::is_bucket_name as Shape,
            "an S3 bucket name: 3–63 lowercase letters, digits, '.' or '-'",
        ),
    ] {
        for (i, v) in list.as_ref_option().into_iter().flatten().enumerate() {
            if let Value::Value(name) = v {
                if !shape(name) {
                    diags.add_error(error(
                        format!("Invalid {attr}"),
                        format!("{attr}[{i}] = {name:?} is not {what}."),
                        AttributePath::new(attr).index(i as i64),
                    ));
                }
            }
        }
    }
    if let Some(record) = c.dns_record.as_ref_option() {
        if !is_dns_name(record) {
            diags.add_error(error(
                "Invalid dns_record",
                format!("dns_record = {record:?} is not a DNS name such as \"db.orders.example.com\"; the runbook repoints it."),
                AttributePath::new("dns_record"),
            ));
        }
    }
    if let Some(zone) = c.hosted_zone_id.as_ref_option() {
        if !is_hosted_zone_id(zone) {
            diags.add_error(error(
                "Invalid hosted_zone_id",
                format!("hosted_zone_id = {zone:?} is not a Route 53 hosted zone ID such as \"Z0123456789ABCDEFGHIJ\" (aws route53 list-hosted-zones)."),
                AttributePath::new("hosted_zone_id"),
            ));
        } else if c.dns_record.is_null() {
            diags.add_error(error(
                "hosted_zone_id without dns_record",
                "hosted_zone_id says where dns_record lives, and the runbook repoints dns_record: set dns_record to the name the applications use, or remove hosted_zone_id.",
                AttributePath::new("hosted_zone_id"),
            ));
        }
    }
}

/// A cluster with its global secondary, as the runbook needs it.
async fn cluster(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    id: &str,
    targets_tag: &mut Option<String>,
) -> Option<Cluster> {
    let primary = clients.primary_region().to_string();
    let client = clients.rds(&primary).await;
    let live = match rds_cluster::describe(&client, id).await {
        Ok(Some(live)) => live,
        Ok(None) => return None,
        Err(e) => {
            add_aws_error(
                diags,
                "Could not read the policy's DB cluster",
                AttributePath::new("policy_id"),
                &e,
            );
            return None;
        }
    };
    *targets_tag = targets_tag.take().or(live.tags.get(TARGETS_TAG).cloned());
    let mut secondary = None;
    if let Some(gid) = &live.global_cluster {
        match rds_cluster::describe_global(&client, gid).await {
            Ok(Some(global)) => {
                if let Some(arn) = global.members.iter().find(|a| **a != live.arn) {
                    let region = rds::arn_region(arn).unwrap_or(&primary).to_string();
                    let identifier = rds::arn_name(arn).to_string();
                    let has_instance =
                        rds_cluster::describe(&clients.rds(&region).await, &identifier)
                            .await
                            .ok()
                            .flatten()
                            .is_some_and(|s| !s.members.is_empty());
                    secondary = Some(Secondary {
                        identifier,
                        region,
                        arn: arn.clone(),
                        has_instance,
                    });
                }
            }
            Ok(None) => {}
            Err(e) => add_aws_error(
                diags,
                "Could not read the policy's global cluster",
                AttributePath::new("policy_id"),
                &e,
            ),
        }
    }
    Some(Cluster {
        identifier: live.identifier.clone(),
        region: primary,
        engine: live
            .engine
            .clone()
            .unwrap_or_else(|| "aurora-postgresql".into()),
        retention_days: live.retention,
        global: live.global_cluster.clone(),
        secondary,
    })
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
