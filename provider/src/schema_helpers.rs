//! Small builders for schemas, shared by every resource and data source: each attribute
//! and block carries the markdown description the docs are generated from.

use std::collections::HashMap;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, Description};

/// An attribute with its description.
pub fn attr(attr_type: AttributeType, constraint: AttributeConstraint, text: &str) -> Attribute {
    Attribute {
        attr_type,
        description: Description::markdown(text),
        constraint,
        ..Default::default()
    }
}

/// A block with its description and attributes.
pub fn block(text: &str, attributes: HashMap<String, Attribute>) -> Block {
    Block {
        description: Description::markdown(text),
        attributes,
        ..Default::default()
    }
}
