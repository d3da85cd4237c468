//! What DB instances and Aurora clusters share at release (destroy, or a block removed
//! from the configuration): dropping drkit's tags from a source, and deleting or keeping a
//! copy this policy created.

use std::future::Future;

use tf_provider::{AttributePath, Diagnostics};

use crate::diagnostics::{aws_diagnostic, AwsError};

use super::claims::{CREATED_BY_TAG, OWNER_TAG, TARGETS_TAG};
use super::desired::Desired;
use super::rds;
use super::rds::LiveInstance;
use super::rds_cluster::LiveCluster;

/// A live DB instance or cluster as release sees it: drkit's tags are on its ARN.
pub(super) trait Tagged {
    /// ARN.
    fn arn(&self) -> &str;
    /// The value of tag `key`.
    fn tag(&self, key: &str) -> Option<&String>;
}

impl Tagged for LiveInstance {
    fn arn(&self) -> &str {
        &self.arn
    }

    fn tag(&self, key: &str) -> Option<&String> {
        self.tags.get(key)
    }
}

impl Tagged for LiveCluster {
    fn arn(&self) -> &str {
        &self.arn
    }

    fn tag(&self, key: &str) -> Option<&String> {
        self.tags.get(key)
    }
}

/// A source instance or cluster (`read` from the primary region) at release: it loses the
/// ownership and targets tags when this policy owns it. Failures are warnings: the source
/// keeps its settings either way.
pub(super) async fn untag_source<L: Tagged>(
    diags: &mut Diagnostics,
    client: &aws_sdk_rds::Client,
    read: Result<Option<L>, AwsError>,
    d: &Desired,
    identifier: &str,
    p: &AttributePath,
) {
    match read {
        Ok(Some(live)) if live.tag(OWNER_TAG) == Some(&d.name) => {
            if let Err(e) = rds::remove_tags(client, live.arn(), &[OWNER_TAG, TARGETS_TAG]).await {
                diags.add_warning(aws_diagnostic(
                    format!("Could not remove the drkit tags of {identifier:?}"),
                    p.clone(),
                    &e,
                ));
            }
        }
        Ok(_) => {}
        Err(e) => diags.add_warning(aws_diagnostic(
            format!("Could not read {identifier:?}"),
            p.clone(),
            &e,
        )),
    }
}

/// The copy of a source in the DR region, as release names it.
pub(super) struct CopyOfSource<'a> {
    /// "replica", "secondary cluster".
    pub(super) what: &'static str,
    /// Identifier of the copy.
    pub(super) identifier: &'a str,
    /// Its region.
    pub(super) region: &'a str,
    /// The block declaring it inside the source's block.
    pub(super) block: &'static str,
    /// Path of the source's block.
    pub(super) source_path: AttributePath,
}

/// A copy (`read` in its region) at release: with `delete_replicas` it is deleted through
/// `delete` when this policy created it; else it loses the ownership tag when this policy
/// owns it. Copies someone else created or owns are left alone.
pub(super) async fn release_copy<L, Fut>(
    diags: &mut Diagnostics,
    client: &aws_sdk_rds::Client,
    read: Result<Option<L>, AwsError>,
    d: &Desired,
    delete_replicas: bool,
    copy: CopyOfSource<'_>,
    delete: impl FnOnce(L) -> Fut,
) where
    L: Tagged,
    Fut: Future<Output = Result<(), AwsError>>,
{
    let CopyOfSource {
        what,
        identifier,
        region,
        block,
        source_path: p,
    } = copy;
    match read {
        Ok(Some(live)) if delete_replicas && live.tag(CREATED_BY_TAG) == Some(&d.name) => {
            tracing::info!(copy = %identifier, "deleting {what} (delete_replicas_on_destroy)");
            if let Err(e) = delete(live).await {
                diags.add_error(aws_diagnostic(
                    format!("Could not delete {what} {identifier:?} in {region}"),
                    p.attribute(block),
                    &e,
                ));
            }
        }
        Ok(Some(live)) if live.tag(OWNER_TAG) == Some(&d.name) => {
            if let Err(e) = rds::remove_tags(client, live.arn(), &[OWNER_TAG]).await {
                diags.add_warning(aws_diagnostic(
                    format!("Could not remove the drkit tag of {what} {identifier:?}"),
                    p,
                    &e,
                ));
            }
        }
        Ok(_) => {}
        Err(e) => diags.add_warning(aws_diagnostic(
            format!("Could not read {what} {identifier:?}"),
            p,
            &e,
        )),
    }
}
