//! Data sources of the `dr` provider, one module each; registered in `provider.rs`.

pub mod dr_runbook;
pub mod dr_status;
pub mod restore_target;
