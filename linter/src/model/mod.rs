//! drkit's DR knowledge: durations and the RPO/RTO tier model. The provider depends on this
//! module so that `drlint` and `terraform plan` judge a policy alike.

mod duration;
mod tier;

pub use duration::{Duration, DurationError};
pub use tier::*;
