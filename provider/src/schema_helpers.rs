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

/// Serde codec of a Number attribute that takes whole numbers (days, ports, counts).
/// Terraform has one number type, so `7.5` reaches the provider; decoded as a plain
/// `Value<i64>` it would fail the whole configuration with a serde message and no
/// attribute. This codec decodes a fraction (or a number beyond `i64`) as [`NOT_WHOLE`],
/// which validation reports on its attribute through [`not_whole`].
pub mod whole_number {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use tf_provider::value::Value;

    /// What a number that is not a whole `i64` decodes to.
    pub const NOT_WHOLE: i64 = i64::MIN;

    /// The number as Terraform stores it.
    pub fn serialize<S: Serializer>(v: &Value<i64>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    /// A whole number, [`NOT_WHOLE`] for anything else numeric, null or unknown.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value<i64>, D::Error> {
        Ok(match Value::<Whole>::deserialize(d)? {
            Value::Value(Whole(n)) => Value::Value(n),
            Value::Null => Value::Null,
            Value::Unknown => Value::Unknown,
        })
    }

    struct Whole(i64);

    impl<'de> Deserialize<'de> for Whole {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Whole;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a number")
                }
                fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Whole, E> {
                    Ok(Whole(v))
                }
                fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Whole, E> {
                    Ok(Whole(i64::try_from(v).unwrap_or(NOT_WHOLE)))
                }
                fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Whole, E> {
                    let whole = v.fract() == 0.0 && v.abs() < 9.0e18;
                    Ok(Whole(if whole { v as i64 } else { NOT_WHOLE }))
                }
                // cty sends a number that no float64 holds exactly as its decimal text.
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Whole, E> {
                    Ok(Whole(v.parse().unwrap_or(NOT_WHOLE)))
                }
            }
            d.deserialize_any(V)
        }
    }
}

/// The error for a Number attribute given a fraction (see [`whole_number`]); `None` when
/// `v` is whole, null or unknown.
pub fn not_whole(
    v: &tf_provider::value::Value<i64>,
    attr: &str,
    path: tf_provider::AttributePath,
) -> Option<tf_provider::Diagnostic> {
    (*v == tf_provider::value::Value::Value(whole_number::NOT_WHOLE)).then(|| {
        crate::diagnostics::error(
            format!("Invalid {attr}"),
            format!("{attr} takes a whole number; write it without a fraction."),
            path,
        )
    })
}

/// Serde codec of a block that appears at most once. Terraform sends it as a list of zero
/// or one element, or as unknown while a `dynamic` block's `for_each` is not known yet
/// (tf-provider's `serde_as_vec` cannot decode that case).
pub mod single_block {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use tf_provider::value::Value;

    /// `[block]`, `[]`, or unknown.
    pub fn serialize<T: Serialize, S: Serializer>(v: &Value<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Value::Value(block) => [block].serialize(s),
            Value::Null => <[&T; 0]>::default().serialize(s),
            Value::Unknown => Value::<()>::Unknown.serialize(s),
        }
    }

    /// The block, null for an empty (or null) list, unknown for an unknown one.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Value<T>, D::Error> {
        match Value::<Vec<Value<T>>>::deserialize(d)? {
            Value::Unknown => Ok(Value::Unknown),
            Value::Null => Ok(Value::Null),
            Value::Value(list) if list.len() > 1 => Err(D::Error::custom(
                "a block declared at most once appears more than once",
            )),
            Value::Value(list) => Ok(list.into_iter().next().unwrap_or(Value::Null)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::whole_number::NOT_WHOLE;
    use tf_provider::value::Value;

    #[derive(serde::Deserialize)]
    struct Days {
        #[serde(default, with = "super::whole_number")]
        n: Value<i64>,
    }

    fn decode(json: &str) -> Value<i64> {
        serde_json::from_str::<Days>(json).unwrap().n
    }

    #[test]
    fn a_fraction_decodes_to_not_whole_instead_of_failing_the_configuration() {
        assert_eq!(decode(r#"{"n": 7}"#), Value::Value(7));
        assert_eq!(decode(r#"{"n": 7.0}"#), Value::Value(7));
        assert_eq!(decode(r#"{"n": -3}"#), Value::Value(-3));
        assert_eq!(decode(r#"{"n": 7.5}"#), Value::Value(NOT_WHOLE));
        assert_eq!(decode(r#"{"n": 1e30}"#), Value::Value(NOT_WHOLE));
        assert_eq!(decode(r#"{"n": null}"#), Value::Null);
        assert_eq!(decode("{}"), Value::Null);
    }
}
