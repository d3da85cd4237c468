//! The KMS keys a DR copy needs, in the copy's region: a cross-region read replica's, an
//! Aurora global secondary's, replicated automated backups'. A copy encrypted with a key
//! that is disabled or pending deletion cannot be promoted, restored or read
//! (`kms:DescribeKey`: `KeyState` must be `Enabled`).

use aws_sdk_kms::types::KeyState;
use futures::future::join_all;

use super::Check;
use crate::aws::AwsClients;
use crate::diagnostics::{aws, AwsError};
use crate::policy::rds::{arn_name, arn_region};
use crate::status::discover::Inventory;
use crate::status::{aurora_global, read_failure};

const CHECK: &str = "kms_key";

/// What `DescribeKey` answered: the key's state and its deletion date, if any.
type KeyAnswer = Result<Option<(Option<KeyState>, Option<String>)>, AwsError>;

/// A copy in another region and what its key lookup found.
struct Copy {
    /// `replica rds:us-west-2:orders-db-dr`.
    what: String,
    region: String,
    /// The copy's key, `None` when it is not encrypted; `Err` when the copy could not be read.
    key: Result<Option<String>, AwsError>,
}

/// One check per key of a DR copy of the policy's instances and clusters.
pub async fn checks(clients: &AwsClients, inv: &Inventory) -> Vec<Check> {
    let primary = clients.primary_region().to_string();
    let mut reads = Vec::new();
    for db in &inv.instances {
        for r in db.replicas.iter().filter(|r| arn_region(r).is_some()) {
            let region = arn_region(r).unwrap_or(&primary).to_string();
            let id = arn_name(r).to_string();
            reads.push(Box::pin(async move {
                let client = clients.rds(&region).await;
                let key = client
                    .describe_db_instances()
                    .db_instance_identifier(&id)
                    .send()
                    .await
                    .map_err(aws("DescribeDBInstances"))
                    .map(|o| {
                        o.db_instances()
                            .first()
                            .filter(|d| d.storage_encrypted() == Some(true))
                            .and_then(|d| d.kms_key_id().map(str::to_string))
                    });
                Copy {
                    what: format!("replica rds:{region}:{id}"),
                    region,
                    key,
                }
            })
                as std::pin::Pin<
                    Box<dyn std::future::Future<Output = Copy> + Send>,
                >);
        }
        for arn in &db.backup_replications {
            let region = arn_region(arn).unwrap_or(&primary).to_string();
            let arn = arn.clone();
            let source = db.identifier.clone();
            reads.push(Box::pin(async move {
                let client = clients.rds(&region).await;
                let key = client
                    .describe_db_instance_automated_backups()
                    .db_instance_automated_backups_arn(&arn)
                    .send()
                    .await
                    .map_err(aws("DescribeDBInstanceAutomatedBackups"))
                    .map(|o| {
                        o.db_instance_automated_backups()
                            .first()
                            .filter(|b| b.encrypted() == Some(true))
                            .and_then(|b| b.kms_key_id().map(str::to_string))
                    });
                Copy {
                    what: format!("replicated backups rds-backups:{region}:{source}"),
                    region,
                    key,
                }
            }));
        }
    }
    if !inv.clusters.is_empty() {
        let client = clients.rds(&primary).await;
        for c in &inv.clusters {
            let secondaries = match aurora_global::secondaries(&client, &c.arn).await {
                Ok(s) => s,
                Err(e) => {
                    reads.push(Box::pin(std::future::ready(Copy {
                        what: format!("global secondaries of rds:{primary}:{}", c.identifier),
                        region: primary.clone(),
                        key: Err(e),
                    })));
                    continue;
                }
            };
            for arn in secondaries {
                let region = arn_region(&arn).unwrap_or(&primary).to_string();
                let id = arn_name(&arn).to_string();
                reads.push(Box::pin(async move {
                    let client = clients.rds(&region).await;
                    let key = client
                        .describe_db_clusters()
                        .db_cluster_identifier(&id)
                        .send()
                        .await
                        .map_err(aws("DescribeDBClusters"))
                        .map(|o| {
                            o.db_clusters()
                                .first()
                                .filter(|c| c.storage_encrypted() == Some(true))
                                .and_then(|c| c.kms_key_id().map(str::to_string))
                        });
                    Copy {
                        what: format!("global secondary rds:{region}:{id}"),
                        region,
                        key,
                    }
                }));
            }
        }
    }
    let copies = join_all(reads).await;
    join_all(copies.into_iter().map(|copy| check(clients, copy)))
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The check of one copy's key; `None` for an unencrypted copy (no key to check).
async fn check(clients: &AwsClients, copy: Copy) -> Option<Check> {
    let budget = clients.read_budget();
    let key = match copy.key {
        Ok(Some(key)) => key,
        Ok(None) => return None,
        Err(e) => {
            return Some(Check::new(
                CHECK,
                copy.what.clone(),
                None,
                format!(
                    "{}: its key could not be read: {}",
                    copy.what,
                    read_failure("RDS", &copy.region, budget, &e)
                ),
            ))
        }
    };
    // A key ARN names its region; a bare key id or alias is in the copy's region.
    let region = arn_region(&key).unwrap_or(&copy.region).to_string();
    let client = clients.kms(&region).await;
    let answer = client
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .map_err(aws("DescribeKey"));
    Some(verdict(
        &copy.what,
        &key,
        &region,
        answer.map(|o| {
            o.key_metadata().map(|m| {
                (
                    m.key_state().cloned(),
                    m.deletion_date().map(|d| d.to_string()),
                )
            })
        }),
        budget,
    ))
}

/// Pure verdict: the key's state as `DescribeKey` reported it.
fn verdict(
    what: &str,
    key: &str,
    region: &str,
    answer: KeyAnswer,
    budget: std::time::Duration,
) -> Check {
    match answer {
        Ok(Some((Some(KeyState::Enabled), _))) => Check::new(
            CHECK,
            key,
            Some(true),
            format!("{what}: key {key} is Enabled in {region}"),
        ),
        Ok(Some((Some(KeyState::PendingDeletion), when))) => Check::new(
            CHECK,
            key,
            Some(false),
            format!(
                "{what}: key {key} is PendingDeletion in {region}{}: the copy cannot be restored once it is deleted; cancel with `aws kms cancel-key-deletion`",
                when.map(|w| format!(" (deleted on {w})")).unwrap_or_default()
            ),
        ),
        Ok(Some((Some(state), _))) => Check::new(
            CHECK,
            key,
            Some(false),
            format!(
                "{what}: key {key} is {} in {region}: the copy cannot be read or promoted until it is Enabled",
                state.as_str()
            ),
        ),
        Ok(_) => Check::new(
            CHECK,
            key,
            None,
            format!("{what}: DescribeKey returned no key state for {key}"),
        ),
        Err(e) if e.is_not_found() => Check::new(
            CHECK,
            key,
            Some(false),
            format!("{what}: key {key} does not exist in {region} ({e})"),
        ),
        Err(e) => Check::new(
            CHECK,
            key,
            None,
            format!(
                "{what}: key {key} could not be described: {}",
                read_failure("KMS", region, budget, &e)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-west-2:1:key/k";

    fn v(answer: KeyAnswer) -> Check {
        verdict(
            "replica rds:us-west-2:db-dr",
            KEY,
            "us-west-2",
            answer,
            std::time::Duration::from_secs(10),
        )
    }

    #[test]
    fn only_an_enabled_key_passes_and_the_state_is_named() {
        assert_eq!(v(Ok(Some((Some(KeyState::Enabled), None)))).ok, Some(true));
        let disabled = v(Ok(Some((Some(KeyState::Disabled), None))));
        assert_eq!(disabled.ok, Some(false));
        assert!(disabled
            .detail
            .contains(&format!("key {KEY} is Disabled in us-west-2")));
        let pending = v(Ok(Some((
            Some(KeyState::PendingDeletion),
            Some("2027-01-01T00:00:00Z".into()),
        ))));
        assert_eq!(pending.ok, Some(false));
        assert!(pending
            .detail
            .contains("PendingDeletion in us-west-2 (deleted on 2027-01-01"));
    }

    #[test]
    fn a_missing_key_fails_and_a_denied_read_is_unknown() {
        let gone = v(Err(AwsError::new(
            "DescribeKey",
            "NotFoundException",
            "no key",
        )));
        assert_eq!(gone.ok, Some(false), "{gone:?}");
        let denied = v(Err(AwsError::new(
            "DescribeKey",
            "AccessDeniedException",
            "no",
        )));
        assert_eq!(denied.ok, None);
        assert!(denied.detail.contains("AccessDeniedException"));
    }
}
