//! terraform-provider-dr: disaster recovery as code for Terraform and OpenTofu.
//!
//! `dr_policy` declares RPO/RTO and applies the settings that meet them, `dr_drill` restores
//! a backup and measures the real RTO/RPO, `dr_runbook` renders the failover runbook,
//! `dr_status` measures the live RPO for `check` blocks.
//!
//! Layout: [`provider`] (the provider block, registration), [`aws`] (the client cache),
//! [`diagnostics`] (shared error wording), [`resources`] (one module per resource),
//! [`status`] (the live RPO per mechanism, behind `dr_status` and `dr_runbook`).

pub mod aws;
pub mod data_sources;
pub mod diagnostics;
pub mod docs;
pub mod drill;
pub mod drill_targets;
pub mod policy;
pub mod provider;
pub mod resources;
pub mod runbook;
pub mod schema_helpers;
pub mod shape;
pub mod state;
pub mod status;
