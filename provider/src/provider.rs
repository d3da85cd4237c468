//! The `provider "dr"` block, and the one place resources and data sources are registered.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, Diagnostics, DynamicDataSource, DynamicResource, Provider};

use crate::aws::{
    AwsClients, AwsSettings, Endpoints, SharedClients, DEFAULT_MAX_RETRIES, DEFAULT_READ_BUDGET,
};
use crate::diagnostics;
use crate::shape::{is_http_url, is_region_name};
use crate::{data_sources, resources};

/// The provider: AWS clients per region, shared by every resource once configured.
#[derive(Debug, Default)]
pub struct DrProvider {
    clients: SharedClients,
}

impl DrProvider {
    /// A provider whose clients are filled in `configure`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cell resources read their AWS clients from.
    pub fn shared_clients(&self) -> SharedClients {
        self.clients.clone()
    }
}

/// The `endpoints` block of the provider.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct EndpointsConfig {
    /// Custom RDS endpoint URL.
    #[serde(default)]
    pub rds: Value<String>,
    /// Custom S3 endpoint URL.
    #[serde(default)]
    pub s3: Value<String>,
    /// Custom CloudWatch endpoint URL.
    #[serde(default)]
    pub cloudwatch: Value<String>,
    /// Custom KMS endpoint URL.
    #[serde(default)]
    pub kms: Value<String>,
    /// Custom EC2 endpoint URL.
    #[serde(default)]
    pub ec2: Value<String>,
}

/// Shortest and longest `read_budget`: under a second no AWS call completes reliably, and
/// over five minutes a plan is no longer interactive.
const READ_BUDGET_SECS: std::ops::RangeInclusive<u64> = 1..=300;

/// The `provider "dr"` block.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// Primary region.
    #[serde(default)]
    pub region: Value<String>,
    /// Default DR region.
    #[serde(default)]
    pub dr_region: Value<String>,
    /// Shared-config profile.
    #[serde(default)]
    pub profile: Value<String>,
    /// Retries per API call.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub max_retries: Value<i64>,
    /// Custom endpoints. (A `dynamic "endpoints"` block is unknown while variables are:
    /// `single_block` decodes that case, which `serde_as_vec` cannot.)
    #[serde(default, with = "crate::schema_helpers::single_block")]
    pub endpoints: Value<EndpointsConfig>,
    /// Time per optional read, e.g. `10s`.
    #[serde(default)]
    pub read_budget: Value<String>,
}

fn known(v: &Value<String>) -> Option<String> {
    v.as_ref_option().filter(|s| !s.is_empty()).cloned()
}

impl ProviderConfig {
    /// `read_budget` parsed; `Err` with the message when it is not a duration in range.
    fn read_budget(&self) -> Result<Option<std::time::Duration>, String> {
        let Value::Value(text) = &self.read_budget else {
            return Ok(None);
        };
        let d = text
            .parse::<drlint::model::Duration>()
            .map_err(|e| e.to_string())?;
        if !READ_BUDGET_SECS.contains(&d.as_secs()) {
            return Err(format!(
                "read_budget = {text:?} is outside 1s to 5m: it is the time each optional read \
                 of a plan may take (default {}s).",
                DEFAULT_READ_BUDGET.as_secs()
            ));
        }
        Ok(Some(std::time::Duration::from_secs(d.as_secs())))
    }

    /// Checks shapes and reports each problem on its attribute.
    fn check(&self, diags: &mut Diagnostics) {
        if let Err(why) = self.read_budget() {
            diags.add_error(diagnostics::error(
                "Invalid read_budget",
                why,
                AttributePath::new("read_budget"),
            ));
        }
        if let Some(d) = crate::schema_helpers::not_whole(
            &self.max_retries,
            "max_retries",
            AttributePath::new("max_retries"),
        ) {
            diags.add_error(d);
        } else if let Value::Value(n) = self.max_retries {
            if !(0..=100).contains(&n) {
                diags.add_error(diagnostics::error(
                    "Invalid max_retries",
                    format!("max_retries = {n}: use a number from 0 to 100 (default {DEFAULT_MAX_RETRIES})."),
                    AttributePath::new("max_retries"),
                ));
            }
        }
        for (name, v) in [("region", &self.region), ("dr_region", &self.dr_region)] {
            if let Value::Value(r) = v {
                if !is_region_name(r) {
                    diags.add_error(diagnostics::error(
                        format!("Invalid {name}"),
                        format!("{r:?} is not an AWS region name such as \"us-east-1\"."),
                        AttributePath::new(name),
                    ));
                }
            }
        }
        if self.profile == Value::Value(String::new()) {
            diags.add_error(diagnostics::error(
                "Invalid profile",
                "profile = \"\" names no profile: name one of ~/.aws/config, or remove the \
                 argument to use AWS_PROFILE or `default`.",
                AttributePath::new("profile"),
            ));
        }
        if let (Value::Value(a), Value::Value(b)) = (&self.region, &self.dr_region) {
            if a == b {
                diags.add_error(diagnostics::error(
                    "dr_region equals region",
                    format!(
                        "The DR region must differ from the primary region ({a}): copies in the \
                         primary's own region die with it."
                    ),
                    AttributePath::new("dr_region"),
                ));
            }
        }
        if let Value::Value(ep) = &self.endpoints {
            for (name, v) in [
                ("rds", &ep.rds),
                ("s3", &ep.s3),
                ("cloudwatch", &ep.cloudwatch),
                ("kms", &ep.kms),
                ("ec2", &ep.ec2),
            ] {
                if let Value::Value(url) = v {
                    if !is_http_url(url) {
                        diags.add_error(diagnostics::error(
                            "Invalid endpoint URL",
                            format!(
                                "{url:?} must be an http:// or https:// URL with a host, such as \
                                 \"http://127.0.0.1:5000\"."
                            ),
                            AttributePath::new("endpoints").index(0).attribute(name),
                        ));
                    }
                }
            }
        }
    }

    /// The settings for [`AwsClients::load`].
    pub fn settings(&self) -> AwsSettings {
        let endpoints = match &self.endpoints {
            Value::Value(ep) => Endpoints {
                rds: known(&ep.rds),
                s3: known(&ep.s3),
                cloudwatch: known(&ep.cloudwatch),
                kms: known(&ep.kms),
                ec2: known(&ep.ec2),
            },
            _ => Endpoints::default(),
        };
        AwsSettings {
            region: known(&self.region),
            dr_region: known(&self.dr_region),
            profile: known(&self.profile),
            endpoints,
            max_retries: self
                .max_retries
                .as_ref_option()
                .map(|n| (*n).clamp(0, 100) as u32),
            read_budget: self.read_budget().ok().flatten(),
        }
    }
}

fn optional(attr_type: AttributeType, text: &str) -> Attribute {
    Attribute {
        attr_type,
        description: Description::markdown(text),
        constraint: AttributeConstraint::Optional,
        ..Default::default()
    }
}

#[async_trait::async_trait]
impl Provider for DrProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::markdown(
                    "drkit: disaster recovery as code. Declares RPO/RTO per data store \
                     (`dr_policy`), applies the AWS settings that meet them, and drills \
                     restores (`dr_drill`). Credentials come from the standard AWS chain \
                     and are never stored in state.",
                ),
                attributes: map! {
                    "region" => optional(AttributeType::String,
                        "Primary AWS region, where the instances and buckets a policy names live. \
                         Defaults to the AWS environment (`AWS_REGION`, `AWS_DEFAULT_REGION`, \
                         or the profile's region)."),
                    "dr_region" => optional(AttributeType::String,
                        "Default disaster-recovery region for copies (replicas, replicated \
                         backups, replication destinations) whose block names no region. \
                         Must differ from `region`."),
                    "profile" => optional(AttributeType::String,
                        "AWS shared-config profile to take credentials and region from \
                         (`~/.aws/config`, `~/.aws/credentials`). Defaults to `AWS_PROFILE` \
                         or `default`."),
                    "max_retries" => optional(AttributeType::Number,
                        "How many times one API call is retried on throttling, 5xx and network \
                         errors, with exponential backoff and jitter. Default 25, as in the \
                         Terraform AWS provider."),
                    "read_budget" => optional(AttributeType::String,
                        "Time each optional read of a plan may take, retries included \
                         (`dr_status` figures and preflight, the runbook's \"what you would lose \
                         now\"): e.g. `10s` (default), from `1s` to `5m`. A connection that \
                         cannot be made is not retried for these reads; what is not read in time \
                         is reported unknown with the reason. Apply's required calls keep \
                         `max_retries`.")
                },
                blocks: map! {
                    "endpoints" => NestedBlock::Optional(Block {
                        description: Description::markdown(
                            "Custom service endpoints, for LocalStack, moto or a proxy. S3 uses \
                             path-style addressing when its endpoint is set."),
                        attributes: map! {
                            "rds" => optional(AttributeType::String, "RDS endpoint URL, e.g. `http://127.0.0.1:5000`."),
                            "s3" => optional(AttributeType::String, "S3 endpoint URL, e.g. `http://127.0.0.1:5000`."),
                            "cloudwatch" => optional(AttributeType::String, "CloudWatch endpoint URL, e.g. `http://127.0.0.1:5000`: the metrics `dr_status` reads."),
                            "kms" => optional(AttributeType::String, "KMS endpoint URL, e.g. `http://127.0.0.1:5000`: the keys `dr_status`'s preflight describes and the key that signs `dr_drill` evidence."),
                            "ec2" => optional(AttributeType::String, "EC2 endpoint URL, e.g. `http://127.0.0.1:5000`: the security groups `dr_status`'s `restore_target` preflight describes.")
                        },
                        ..Default::default()
                    })
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        config.check(diags);
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        config.check(diags);
        if !diags.errors.is_empty() {
            return None;
        }
        if config.region.is_unknown()
            || config.dr_region.is_unknown()
            || config.profile.is_unknown()
        {
            diags.add_error(diagnostics::error(
                "Provider configuration depends on unknown values",
                "region, dr_region and profile must be known at plan time: set them from \
                 variables or locals, not from attributes of resources created in the same apply.",
                AttributePath::root(),
            ));
            return None;
        }
        match AwsClients::load(config.settings()).await {
            Ok(clients) => {
                tracing::info!(?clients, "dr provider configured");
                // A second configure (never done by Terraform) keeps the first clients.
                let _ = self.clients.set(clients);
                Some(())
            }
            Err(err) => {
                diags.add_error(diagnostics::error(
                    "No AWS region",
                    err.to_string(),
                    AttributePath::new("region"),
                ));
                None
            }
        }
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(map! {
            "policy" => resources::dr_policy::DrPolicy::new(self.shared_clients()),
            "drill" => resources::dr_drill::DrDrill::new(self.shared_clients())
        })
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(map! {
            "runbook" => data_sources::dr_runbook::DrRunbook::new(self.shared_clients()),
            "status" => data_sources::dr_status::DrStatus::new(self.shared_clients())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_primary_and_dr_region_is_an_error_on_dr_region() {
        let config = ProviderConfig {
            region: Value::Value("us-east-1".into()),
            dr_region: Value::Value("us-east-1".into()),
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        config.check(&mut diags);
        assert_eq!(diags.errors.len(), 1);
        assert_eq!(diags.errors[0].attribute, AttributePath::new("dr_region"));
    }

    #[test]
    fn read_budget_defaults_to_none_and_is_bounded() {
        let with = |b: &str| ProviderConfig {
            read_budget: Value::Value(b.into()),
            ..Default::default()
        };
        assert_eq!(ProviderConfig::default().settings().read_budget, None);
        assert_eq!(
            with("30s").settings().read_budget,
            Some(std::time::Duration::from_secs(30))
        );
        for bad in ["0", "10m", "soon"] {
            let mut diags = Diagnostics::default();
            with(bad).check(&mut diags);
            assert_eq!(diags.errors.len(), 1, "{bad}");
            assert_eq!(diags.errors[0].attribute, AttributePath::new("read_budget"));
        }
    }
}
