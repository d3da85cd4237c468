//! terraform-provider-dr: disaster recovery as code for Terraform and OpenTofu.
//!
//! `dr_policy` declares RPO/RTO and applies the settings that meet them, `dr_drill` restores
//! a backup and measures the real RTO/RPO, `dr_runbook` renders the failover runbook.

pub mod provider;
