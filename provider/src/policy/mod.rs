//! The logic behind `dr_policy`, in the order data flows: `validate` (shapes, then
//! drlint's tier model) -> `plan` (defaults, ownership, live checks) -> `apply` (AWS calls,
//! only what differs) -> `observe` (read back: findings, drift, import) -> `lifecycle`
//! (destroy, import IDs).
//!
//! The modules form four layers, and each imports only from the layers below it and from
//! the modules listed before it in its own (`crate::layering` checks this):
//!
//! 1. vocabulary: [`blocks`] (attribute paths, defaults, allowed values), `errors` (AWS
//!    errors as diagnostics), [`claims`] (ownership tags and the per-run registry);
//! 2. AWS adapters, the calls and their types, nothing of plans: [`rds_settings`] (the four
//!    source settings as values), [`rds_wait`], [`rds`], [`rds_cluster`], [`s3`];
//! 3. pure decisions, no AWS client: [`windows`], [`retention`], `validate`, `sync`,
//!    [`source_settings`], `desired`, `defaults`, `live_checks`;
//! 4. orchestration, the phases that call AWS: `release` (what instances and clusters share
//!    at release), `aurora` (`rds_cluster` blocks through every phase), `plan`,
//!    `lifecycle`, `apply`, `observe`.
//!
//! What DB instances and Aurora clusters share is written once: the four source settings in
//! [`source_settings`] and [`rds_settings`], waiting for `available` in [`rds_wait`], the
//! live checks in `live_checks`, release in `release`.

// Layer 1: vocabulary.
pub mod blocks;
pub mod claims;
mod errors;
// Layer 2: AWS adapters.
pub mod rds;
pub mod rds_cluster;
pub mod rds_settings;
pub mod rds_wait;
pub mod s3;
// Layer 3: pure decisions.
mod defaults;
mod desired;
mod live_checks;
pub mod retention;
pub mod source_settings;
mod sync;
mod validate;
pub mod windows;
// Layer 4: orchestration.
mod apply;
mod aurora;
mod lifecycle;
mod observe;
mod plan;
mod release;

pub use apply::apply;
pub use blocks::{model_path, DEFAULT_RETENTION_DAYS, DEFAULT_TIMEOUT};
pub use desired::{
    timeout, Desired, DesiredBackups, DesiredCluster, DesiredRds, DesiredReplica, DesiredS3,
    DesiredSecondary,
};
pub use lifecycle::{destroy, import_state};
pub use observe::{read, refresh_computed};
pub use plan::plan;
pub use validate::{assess_policy, cluster_specs, model_spec, validate};

#[cfg(test)]
mod tests;
