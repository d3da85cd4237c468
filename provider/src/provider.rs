//! The `provider "dr"` block, and the one place resources and data sources are registered.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, Diagnostics, DynamicDataSource, DynamicResource, Provider};

/// The provider: AWS clients per region, shared by every resource once configured.
#[derive(Debug, Default)]
pub struct DrProvider;

/// The `provider "dr"` block.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ProviderConfig {
    #[serde(default)]
    pub region: Value<String>,
    #[serde(default)]
    pub dr_region: Value<String>,
    #[serde(default)]
    pub profile: Value<String>,
    #[serde(default)]
    pub max_retries: Value<i64>,
}

#[async_trait::async_trait]
impl Provider for DrProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let optional_string = |text: &str| Attribute {
            attr_type: AttributeType::String,
            description: Description::plain(text),
            constraint: AttributeConstraint::Optional,
            ..Default::default()
        };
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::plain("drkit: disaster recovery as code."),
                attributes: map! {
                    "region" => optional_string("Primary AWS region."),
                    "dr_region" => optional_string("Default disaster-recovery region."),
                    "profile" => optional_string("AWS shared-config profile."),
                },
                ..Default::default()
            },
        })
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(HashMap::new())
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(HashMap::new())
    }
}
