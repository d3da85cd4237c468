//! The logic behind `dr_policy`, in the order data flows: `validate` (shapes, then
//! drlint's tier model) -> `plan` (defaults, ownership, live checks) -> `apply` (AWS calls,
//! only what differs) -> `observe` (read back: findings, drift, import) -> `lifecycle`
//! (destroy, import IDs). Pure parts need no server; the AWS calls live in [`rds`],
//! [`rds_cluster`] and [`s3`], ownership in [`claims`], lifecycle rules in [`retention`],
//! windows in [`windows`]. What DB instances and Aurora clusters share is written once:
//! the four source settings in [`source_settings`], waiting for `available` in
//! [`rds_wait`]; `aurora` handles `rds_cluster` blocks through every phase.

pub mod claims;
pub mod rds;
pub mod rds_cluster;
pub mod rds_wait;
pub mod retention;
pub mod s3;
pub mod source_settings;
pub mod windows;

use std::time::Duration;

use drlint::model::Step;
use tf_provider::AttributePath;

/// Default automated backup retention (drlint's minimum).
pub const DEFAULT_RETENTION_DAYS: i64 = 7;
/// Default create/update timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Storage classes S3 accepts for replicas and transitions.
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];
const ARCHIVE_CLASSES: &[&str] = &[
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
];

mod apply;
mod aurora;
mod desired;
mod lifecycle;
mod observe;
mod plan;
mod validate;

pub use apply::apply;
pub use desired::{
    timeout, Desired, DesiredBackups, DesiredCluster, DesiredRds, DesiredReplica, DesiredS3,
    DesiredSecondary,
};
pub use lifecycle::{destroy, import_state};
pub use observe::{read, refresh_computed};
pub use plan::plan;
pub use validate::{assess_policy, cluster_specs, model_spec, validate};

// ---------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------

fn rds_path(i: usize) -> AttributePath {
    AttributePath::new("rds").index(i as i64)
}

fn s3_path(j: usize) -> AttributePath {
    AttributePath::new("s3").index(j as i64)
}

fn cluster_path(i: usize) -> AttributePath {
    AttributePath::new("rds_cluster").index(i as i64)
}

/// Blocks with at most one element: Terraform addresses them as a list (`[0]`).
const SINGLE_BLOCKS: &[&str] = &[
    "cross_region_replica",
    "cross_region_backups",
    "replication",
    "encryption",
    "global_secondary",
    "timeouts",
];

/// The Terraform attribute path of a tier-model finding.
pub fn model_path(steps: &[Step]) -> AttributePath {
    let mut path = AttributePath::root();
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Attr(name) => {
                path.add_attribute(*name);
                if SINGLE_BLOCKS.contains(name) && n + 1 < steps.len() {
                    path.add_index(0);
                }
            }
            Step::Index(i) => {
                path.add_index(*i as i64);
            }
        }
    }
    // Terraform shows the source of attributes, not of blocks: a finding about a whole
    // `rds` or `s3` block points at the attribute naming the resource, one about the
    // retention blocks at the first of them.
    match steps {
        [Step::Attr("rds"), Step::Index(_)] => {
            path.add_attribute("instance_identifier");
        }
        [Step::Attr("s3"), Step::Index(_)] => {
            path.add_attribute("bucket");
        }
        [Step::Attr("rds_cluster"), Step::Index(_)] => {
            path.add_attribute("cluster_identifier");
        }
        [Step::Attr("s3"), Step::Index(_), Step::Attr("retention")] => {
            path.add_index(0);
        }
        _ => {}
    }
    path
}

#[cfg(test)]
mod tests;
