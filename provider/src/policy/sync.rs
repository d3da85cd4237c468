//! Read's comparison of one state value with the live one, shared by every block type.

use tf_provider::value::Value;

/// Compares a state value with the live one: fills it when unknown (or when importing),
/// records a finding and, when `write`, takes the live value when they differ.
pub(super) struct Sync<'f> {
    pub(super) findings: &'f mut Vec<String>,
    pub(super) write: bool,
    pub(super) import: bool,
}

impl Sync<'_> {
    pub(super) fn field<T: Clone + PartialEq + std::fmt::Debug>(
        &mut self,
        v: &mut Value<T>,
        default: Option<T>,
        live: T,
        what: impl FnOnce() -> String,
    ) {
        let want = match v {
            Value::Unknown => {
                *v = Value::Value(live);
                return;
            }
            Value::Null if self.import => {
                *v = Value::Value(live);
                return;
            }
            Value::Null => match default {
                Some(d) => d,
                None => return,
            },
            Value::Value(x) => x.clone(),
        };
        if want != live {
            self.findings
                .push(format!("{}: is {live:?}, the policy sets {want:?}", what()));
            if self.write {
                *v = Value::Value(live);
            }
        }
    }
}
