//! State types: what Terraform stores for each resource, as serde structs of
//! [`tf_provider::value::Value`] fields. The bottom layer of the crate besides [`crate::shape`]
//! and [`crate::schema_helpers`]: the logic and the resources import these, never the reverse.

pub mod dr_drill;
pub mod dr_policy;
