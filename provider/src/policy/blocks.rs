//! The vocabulary of the `dr_policy` schema that every layer of `policy` shares: where its
//! blocks are (Terraform attribute paths), its defaults, and the values S3 allows. No AWS
//! call and no decision lives here.

use std::time::Duration;

use drlint::model::Step;
use tf_provider::AttributePath;

/// Default automated backup retention (drlint's minimum).
pub const DEFAULT_RETENTION_DAYS: i64 = 7;
/// Default create/update timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Storage classes S3 accepts for replicas and transitions.
pub(super) const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];
/// Storage classes an archive transition may move objects to.
pub(super) const ARCHIVE_CLASSES: &[&str] = &[
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
];

/// The path of the `i`th `rds` block.
pub(super) fn rds_path(i: usize) -> AttributePath {
    AttributePath::new("rds").index(i as i64)
}

/// The path of the `j`th `s3` block.
pub(super) fn s3_path(j: usize) -> AttributePath {
    AttributePath::new("s3").index(j as i64)
}

/// The path of the `i`th `rds_cluster` block.
pub(super) fn cluster_path(i: usize) -> AttributePath {
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
