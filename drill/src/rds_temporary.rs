//! What the two kinds of `rds` drill share about their temporary copy, whether it is an
//! instance ([`crate::rds_restore`]) or an Aurora cluster ([`crate::rds_cluster_restore`]):
//! its name and tags, creating it once within the drill's limits and tearing it down, the
//! newest snapshot and the restore point, when it counts as a leftover, waiting for its
//! instance, verifying it, and how an AWS error reads in the report. The restore calls
//! themselves differ per kind (different RDS operations and answers) and stay in the two
//! modules; where the copy goes is [`crate::rds_placement`].

use std::time::Duration;

use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rds::primitives::DateTime;
use aws_sdk_rds::types::{DbInstance, Tag};
use time::OffsetDateTime;

use crate::rds_create::{create_once, Creates};
use crate::report::{rfc3339, TeardownStep};
use crate::{
    guarded, CancellationToken, DrillReport, DrillSpec, Engine, RestoreTime, NAME_PREFIX, TAG_KEY,
};

/// Tag with the Unix time after which a temporary copy counts as a leftover (the drill's
/// time limit): another apply's sweep never deletes a drill still running.
pub const EXPIRES_TAG: &str = "drkit:drill-expires";

/// The temporary copy's identifier for a run (RDS: letters, digits, hyphens; 63 max).
pub fn temp_identifier(run_id: &str) -> String {
    let mut id = format!("{NAME_PREFIX}{}", crate::name_safe(run_id, '-'));
    id.truncate(63);
    id.trim_end_matches('-').to_string()
}

/// A drill's temporary copy while it is made: the client in the region it is restored in,
/// its name, the drill's limits (cancellation, deadline), and whether a create went out.
pub(crate) struct TempCopy<'a> {
    pub rds: &'a aws_sdk_rds::Client,
    pub id: &'a str,
    cancel: &'a CancellationToken,
    deadline: tokio::time::Instant,
    /// A create was sent: teardown deletes the copy, even when the answer was lost after
    /// RDS acted.
    pub created: bool,
}

impl<'a> TempCopy<'a> {
    pub(crate) fn new(
        rds: &'a aws_sdk_rds::Client,
        id: &'a str,
        cancel: &'a CancellationToken,
        timeout: Duration,
    ) -> Self {
        TempCopy {
            rds,
            id,
            cancel,
            deadline: tokio::time::Instant::now() + timeout,
            created: false,
        }
    }

    /// Runs `fut` within the drill's deadline, stopping on cancellation; `what` names it
    /// in the error ("the snapshot restore").
    pub(crate) async fn guard<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        guarded(self.cancel, self.deadline, what, fut).await
    }

    /// Sends the create of `kind` `id` (the copy, or an Aurora copy's instance) once, as
    /// [`create_once`] does (`send` disables the SDK's retries); `op` names the RDS
    /// operation in the error.
    pub(crate) async fn create<T, E, F, Fut>(
        &mut self,
        kind: Creates,
        id: &str,
        what: &str,
        op: &str,
        send: F,
    ) -> Result<(), String>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E>>>,
    {
        self.created = true;
        let rds = self.rds;
        self.guard(what, async move {
            create_once(rds, kind, id, send)
                .await
                .map_err(|e| aws_error(op, e))
        })
        .await
    }
}

/// The teardown phase of an `rds` drill: awaits `delete` when a create went out, and
/// records it as `what`.
pub(crate) async fn tear_down(
    report: &mut DrillReport,
    created: bool,
    what: String,
    delete: impl std::future::Future<Output = Result<bool, String>>,
) {
    report.phase("teardown");
    if created {
        record_teardown(report, what, delete.await);
    }
    report.end_phase();
}

/// The newest of `snapshots` that can be restored (available, or an emulator's without a
/// status).
pub(crate) fn newest_snapshot<T>(
    snapshots: &[T],
    status: impl Fn(&T) -> Option<&str>,
    created: impl Fn(&T) -> Option<&DateTime>,
) -> Option<&T> {
    snapshots
        .iter()
        .filter(|s| matches!(status(s), Some("available") | None))
        .max_by_key(|s| created(s).map(DateTime::secs))
}

/// The point a point-in-time restore asks for: the time given, a random point of the
/// window from `earliest` to `latest`, or `None` for the latest restorable time.
pub(crate) fn chosen_point(
    choice: &RestoreTime,
    earliest: Option<OffsetDateTime>,
    latest: OffsetDateTime,
) -> Option<OffsetDateTime> {
    match choice {
        RestoreTime::At(t) => Some(*t),
        RestoreTime::Random => earliest.map(|e| random_between(e, latest)),
        _ => None,
    }
}

/// Records the restore point and the RPO it means now.
pub(crate) fn record_point(report: &mut DrillReport, point: OffsetDateTime) {
    report.restore_point = Some(rfc3339(point));
    report.set_rpo((OffsetDateTime::now_utc() - point).as_seconds_f64());
}

/// The address and port of an instance, once RDS reports them.
pub(crate) fn endpoint_of(db: &DbInstance) -> Option<(String, u16)> {
    db.endpoint()
        .and_then(|e| Some((e.address()?.to_string(), u16::try_from(e.port()?).ok()?)))
}

/// An AWS error as the report shows it: the operation and the SDK's full context.
pub(crate) fn aws_error(op: &str, e: impl std::error::Error) -> String {
    format!("{op}: {}", aws_sdk_rds::error::DisplayErrorContext(e))
}

/// The tags of a temporary copy: the run, its expiry (the drill's time limit) and the
/// source it copies.
pub(crate) fn copy_tags(spec: &DrillSpec, source_identifier: &str) -> Vec<Tag> {
    let expires = OffsetDateTime::now_utc().unix_timestamp() + spec.timeout.as_secs() as i64;
    vec![
        Tag::builder().key(TAG_KEY).value(&spec.run_id).build(),
        Tag::builder()
            .key(EXPIRES_TAG)
            .value(expires.to_string())
            .build(),
        Tag::builder()
            .key("drkit:source")
            .value(source_identifier)
            .build(),
    ]
}

/// True when `identifier` with `tags` is the copy of an interrupted drill: named and tagged
/// by a drill, and past its expiry (a drill still within its time limit, here or in
/// another apply, is not a leftover).
pub(crate) fn is_leftover(identifier: &str, tags: &[Tag]) -> bool {
    let tagged = tags.iter().any(|t| t.key() == Some(TAG_KEY));
    let expired = tags
        .iter()
        .find(|t| t.key() == Some(EXPIRES_TAG))
        .and_then(|t| t.value()?.parse::<i64>().ok())
        .is_none_or(|at| at < OffsetDateTime::now_utc().unix_timestamp());
    tagged && expired && identifier.starts_with(NAME_PREFIX)
}

/// Notes in the report when the earliest restorable point of `kind` ("instance",
/// "cluster") is younger than the retention the policy promises.
pub(crate) fn note_retention_shortfall(
    report: &mut DrillReport,
    promised_days: Option<u32>,
    earliest: Option<OffsetDateTime>,
    now: OffsetDateTime,
    kind: &str,
) {
    if let (Some(promised), Some(earliest)) = (promised_days, earliest) {
        let have = (now - earliest).whole_days();
        if have < i64::from(promised) {
            report.notes.push(format!(
                "the earliest restorable point is {have} days old, less than the {promised} days of retention promised (the {kind} may be younger than its retention)"
            ));
        }
    }
}

/// Records the deletion of the temporary copy in the report's teardown, unless there was
/// nothing to delete (`Ok(false)`: the restore was refused before it created anything).
pub(crate) fn record_teardown(
    report: &mut DrillReport,
    what: String,
    deleted: Result<bool, String>,
) {
    if deleted != Ok(false) {
        report.teardown.push(TeardownStep {
            what,
            ok: deleted.is_ok(),
            error: deleted.err(),
        });
    }
}

/// Polls instance `id` until it is available (backing off from 0.2 s to 30 s) and returns
/// what RDS reports about it; fails when it reaches a state it does not leave by waiting.
/// `what` names the instance in that error ("the restored instance").
pub(crate) async fn wait_instance_available(
    rds: &aws_sdk_rds::Client,
    id: &str,
    what: &str,
) -> Result<DbInstance, String> {
    let mut delay = Duration::from_millis(200);
    loop {
        let out = rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| aws_error("DescribeDBInstances", e))?;
        if let Some(db) = out.db_instances().first() {
            match db.db_instance_status() {
                Some("available") => return Ok(db.clone()),
                Some(s @ ("failed" | "incompatible-restore" | "incompatible-parameters")) => {
                    return Err(format!("{what} {id} is {s}"))
                }
                _ => {}
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// The verify phase on the restored copy at `endpoint`: the verify blocks, then
/// `freshness_sql` (its age is the measured RPO); without verify blocks the restore alone
/// counts as proven. `kind` ("instance", "cluster") names the copy in errors.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn verify_copy(
    spec: &DrillSpec,
    restore_time: &RestoreTime,
    point: OffsetDateTime,
    endpoint: Option<(String, u16)>,
    engine: Option<&str>,
    kind: &str,
    copy: &TempCopy<'_>,
    report: &mut DrillReport,
) -> Result<(), String> {
    if spec.verify.is_empty() && spec.freshness_sql.is_none() {
        report.verified();
        report
            .notes
            .push("no verify blocks: the restore was proven, the data was not checked".into());
        return Ok(());
    }
    let Some(target) = &spec.target else {
        return Err(
            "verify blocks and freshness_sql on an rds drill need a target block for the credentials".into(),
        );
    };
    let (host, port) =
        endpoint.ok_or_else(|| format!("the restored {kind} has no endpoint to verify against"))?;
    // The copy's engine decides the protocol (`target.engine` only fills in when RDS does
    // not say): an RDS MySQL drill needs no `engine = "mysql"`.
    let engine = match engine {
        Some(name) => Engine::from_rds(name).ok_or_else(|| {
            format!("the restored {kind} runs {name}: verify and freshness_sql speak PostgreSQL and MySQL only; remove them to prove the restore alone")
        })?,
        None => target.engine,
    };
    // A target without `database` defaults to PostgreSQL's `postgres`, which a MySQL copy
    // does not have: connect to none (checks qualify their tables).
    let database =
        if engine.is_mysql() && !target.engine.is_mysql() && target.database == "postgres" {
            String::new()
        } else {
            target.database.clone()
        };
    let restored = crate::Target {
        engine,
        host,
        port,
        database,
        ..target.clone()
    };
    // For `latest`, what a disaster now would lose; for an earlier point, what the copy
    // misses of the data written up to that point.
    crate::copy_checks::verify_and_measure_freshness(
        &restored,
        &restored.database,
        spec,
        copy.cancel,
        copy.deadline,
        report,
        || match restore_time {
            RestoreTime::Latest => 0.0,
            _ => (OffsetDateTime::now_utc() - point).as_seconds_f64(),
        },
    )
    .await
}

/// An RDS timestamp as a `time` value (the epoch when out of range).
pub(crate) fn to_time(t: &aws_sdk_rds::primitives::DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.secs()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A point between `a` and `b` for `restore_time = "random"`.
pub(crate) fn random_between(a: OffsetDateTime, b: OffsetDateTime) -> OffsetDateTime {
    let span = (b - a).whole_seconds().max(0) as u64;
    if span == 0 {
        return b;
    }
    // Time-seeded: a drill needs spread, not cryptographic randomness.
    let seed = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    a + time::Duration::seconds((x % span) as i64)
}
