//! Resources of the `dr` provider, one module each; registered in `provider.rs`.

pub mod dr_drill;
pub mod dr_policy;
