//! The benchmark's floor for any plugin: a provider, served by the same tf-provider stack
//! as `dr`, with resources that do nothing. `dr_null` has two attributes; `dr_wide` has
//! `dr_policy`'s schema (54 attributes, nested blocks) and takes the same configuration.
//! `bench/provider` plans N of each beside N `dr_policy` and N built-in `terraform_data`:
//! what Terraform spends on a plugin resource before the plugin does any work, and how
//! much of that the schema's size decides.
//! Not a product: it only exists under the benchmark's `dev_overrides`.

use std::collections::HashMap;
use std::marker::PhantomData;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use terraform_provider_dr::resources::dr_policy;
use terraform_provider_dr::state::dr_policy::PolicyState;
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, Diagnostics, DynamicResource, Provider, Resource};

/// A state a do-nothing resource can hold: what it plans for a create, and what its
/// schema is.
trait Nothing: Default + Clone + Serialize + for<'de> Deserialize<'de> + Send + Sync + 'static {
    fn schema() -> Schema;
    /// The planned state of a create, from the proposed one.
    fn planned(proposed: Self) -> Self;
    /// The state a create returns, from the planned one.
    fn created(planned: Self) -> Self;
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct NullState {
    #[serde(default)]
    id: Value<String>,
    #[serde(default)]
    input: Value<String>,
}

impl Nothing for NullState {
    fn schema() -> Schema {
        let attr = |constraint, text: &str| Attribute {
            attr_type: AttributeType::String,
            description: Description::plain(text),
            constraint,
            ..Default::default()
        };
        Schema {
            version: 0,
            block: Block {
                description: Description::plain("does nothing (benchmark floor)"),
                attributes: map! {
                    "id" => attr(AttributeConstraint::Computed, "the input, once created"),
                    "input" => attr(AttributeConstraint::Optional, "any string")
                },
                ..Default::default()
            },
        }
    }

    fn planned(proposed: Self) -> Self {
        NullState {
            id: Value::Unknown,
            ..proposed
        }
    }

    fn created(planned: Self) -> Self {
        let id = match &planned.input {
            Value::Value(s) => s.clone(),
            _ => "null".to_string(),
        };
        NullState {
            id: Value::Value(id),
            ..planned
        }
    }
}

/// `dr_policy`'s schema and state, and none of its work: computed attributes stay as
/// proposed (null), the id is the name.
impl Nothing for PolicyState {
    fn schema() -> Schema {
        dr_policy::schema()
    }

    fn planned(proposed: Self) -> Self {
        PolicyState {
            id: proposed.name.clone(),
            ..proposed
        }
    }

    fn created(planned: Self) -> Self {
        planned
    }
}

/// A resource that keeps what Terraform gives it.
struct DoNothing<S>(PhantomData<S>);

#[async_trait]
impl<S: Nothing> Resource for DoNothing<S> {
    type State<'a> = S;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(S::schema())
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((state, private_state))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((S::planned(proposed_state), ValueEmpty::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        // The proposed state already carries the prior computed values.
        let _ = prior_state;
        Some((proposed_state, prior_private_state, Vec::new()))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(prior_private_state)
    }

    async fn create<'a>(
        &self,
        _diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((S::created(planned_state), planned_private_state))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((planned_state, planned_private_state))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        Some(())
    }
}

struct NullProvider;

#[async_trait]
impl Provider for NullProvider {
    type Config<'a> = ValueEmpty;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block::default(),
        })
    }

    async fn configure<'a>(
        &self,
        _diags: &mut Diagnostics,
        _terraform_version: String,
        _config: Self::Config<'a>,
    ) -> Option<()> {
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(map! {
            "null" => DoNothing::<NullState>(PhantomData),
            "wide" => DoNothing::<PolicyState>(PhantomData)
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tf_provider::serve("dr", NullProvider).await
}
