//! The WAL and binlog archives a `dr_status` names, each listed once per read: an archive's
//! figure (its newest file's age) and its continuity check (preflight) judge the same
//! listing. A large archive has thousands of objects, a page of a thousand per request:
//! listing it twice doubled the plan's slowest read.

use std::collections::HashMap;

use drkit_drill::selection::Listed;
use futures::stream::{self, StreamExt};

use super::discover::MAX_IN_FLIGHT;
use super::measure::Inputs;
use super::wal_archive;
use crate::aws::AwsClients;
use crate::diagnostics::AwsError;

/// An archive's objects (pages followed), or why they could not be listed.
pub type Listing = Result<Vec<Listed>, AwsError>;

/// Every archive of [`Inputs`] (WAL archives and binlog archives), listed, by URI.
#[derive(Debug, Clone, Default)]
pub struct ArchiveListings {
    by_uri: HashMap<String, Listing>,
}

impl ArchiveListings {
    /// Lists every archive `inputs` names, each URI once, at once (bounded). A URI that is
    /// not `s3://bucket/prefix` is not listed: its figure and check say so.
    pub async fn read(clients: &AwsClients, inputs: &Inputs) -> ArchiveListings {
        let mut uris: Vec<String> = inputs
            .wal_archives
            .iter()
            .chain(inputs.binlog_archives.iter().map(|b| &b.binlog_uri))
            .filter(|uri| wal_archive::parse_uri(uri).is_some())
            .cloned()
            .collect();
        uris.sort_unstable();
        uris.dedup();
        let by_uri = stream::iter(uris)
            .map(|uri| async move {
                let (bucket, prefix) = wal_archive::parse_uri(&uri).expect("filtered above");
                let client = clients.s3(clients.primary_region()).await;
                let listing = wal_archive::list(&client, bucket, prefix).await;
                (uri, listing)
            })
            .buffer_unordered(MAX_IN_FLIGHT)
            .collect()
            .await;
        ArchiveListings { by_uri }
    }

    /// The listing of `uri`; an error for a URI [`ArchiveListings::read`] did not list.
    pub fn get(&self, uri: &str) -> Result<&[Listed], AwsError> {
        match self.by_uri.get(uri) {
            Some(Ok(objects)) => Ok(objects),
            Some(Err(e)) => Err(e.clone()),
            None => Err(AwsError::new(
                "ListObjectsV2",
                "InvalidArgument",
                format!("{uri:?} is not an s3://bucket/prefix URI"),
            )),
        }
    }
}
