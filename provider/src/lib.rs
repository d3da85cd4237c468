//! terraform-provider-dr: disaster recovery as code for Terraform and OpenTofu.
//!
//! `dr_policy` declares RPO/RTO and applies the settings that meet them, `dr_drill` restores
//! a backup and measures the real RTO/RPO, `dr_runbook` renders the failover runbook,
//! `dr_status` measures the live RPO for `check` blocks.
//!
//! Layers, each importing only the ones below it (checked by a unit test, `layering.rs`):
//!
//! 1. base: [`shape`] (shape checks on single strings: regions, URLs, identifiers, KMS
//!    keys), [`diagnostics`] (shared error wording), [`schema_helpers`] (schema builders
//!    and serde codecs), [`aws`] (the client cache and the cell resources share it through);
//! 2. [`state`]: what Terraform stores for each resource, as serde types;
//! 3. logic: [`policy`] (validate, plan, apply, read for `dr_policy`), [`drill`],
//!    [`drill_evidence`] (its signed evidence records) and
//!    [`drill_targets`] (mapping `dr_drill` onto the drill engine), [`status`] (the live RPO
//!    per mechanism), [`runbook`] (the failover runbook);
//! 4. adapters: [`resources`] and [`data_sources`], one module per Terraform type: schema,
//!    validation of its own attributes, and the calls into the logic;
//! 5. registration: [`provider`] (the provider block, the one place types are registered)
//!    and [`docs`] (Registry docs rendered from the schemas).

pub mod aws;
pub mod data_sources;
pub mod diagnostics;
pub mod docs;
pub mod drill;
pub mod drill_evidence;
pub mod drill_record;
pub mod drill_targets;
pub mod policy;
pub mod provider;
pub mod resources;
pub mod restore_placement;
pub mod runbook;
pub mod schema_helpers;
pub mod shape;
pub mod state;
pub mod status;

#[cfg(test)]
mod layering;
