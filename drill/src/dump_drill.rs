//! The one skeleton of the dump drills (`postgres_dump`, `mysql_dump`): what differs by
//! engine is a [`DumpEngine`]; object selection, the download, the RPO from the object,
//! the phases and the teardown are here, once.
//!
//! ```text
//! fetch    list (newest or exact object), hold the scratch name (proves the credentials
//!          before a large download), download, prepare (recognise, decrypt settings)
//! restore  create the scratch database, restore into it (the engine dates the dump)
//! verify   verify blocks and freshness_sql in the scratch database
//! teardown drop the scratch database, release the hold, remove the download: every path
//! ```

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::postgres_dump::{download, newest_object, parse_s3_uri};
use crate::report::rfc3339;
use crate::{guarded, postgres, CancellationToken, Clients, DrillReport, DrillSpec, Target};

/// Where a dump drill's object is.
pub(crate) struct DumpObject<'a> {
    /// `s3://bucket/prefix` (newest below) or the exact object.
    pub s3_uri: &'a str,
    /// Region of the bucket.
    pub region: &'a str,
}

/// What a dump restored on `target` is: the engine's half of a dump drill.
pub(crate) trait DumpEngine {
    /// Held from before the download to the end of teardown: tells concurrent drills (and
    /// sweeps) the scratch database is not a leftover.
    type Lock;
    /// The downloaded dump, recognised and ready to restore.
    type Prepared;

    /// Connects and holds the scratch name; errors name `object`'s drill where it helps.
    async fn hold(
        &self,
        target: &Target,
        scratch: &str,
        object: &str,
    ) -> Result<Self::Lock, String>;
    /// Recognises the downloaded file (format, compression, encryption) and notes it.
    async fn prepare(
        &self,
        downloaded: PathBuf,
        object: &str,
        report: &mut DrillReport,
    ) -> Result<Self::Prepared, String>;
    /// Creates the empty scratch database.
    async fn create_scratch(
        &self,
        target: &Target,
        scratch: &str,
        object: &str,
    ) -> Result<(), String>;
    /// Restores into the scratch database; records what the restore learnt (the dump's
    /// own completion time: `modified` and `listed_at` are the fallback and the reference).
    #[allow(clippy::too_many_arguments)]
    async fn restore(
        &self,
        target: &Target,
        scratch: &str,
        prepared: &Self::Prepared,
        object: &str,
        report: &mut DrillReport,
        modified: OffsetDateTime,
        listed_at: OffsetDateTime,
    ) -> Result<(), String>;
    /// Drops the scratch database.
    async fn drop_scratch(&self, target: &Target, scratch: &str) -> Result<(), String>;
    /// Lets go of the hold.
    async fn release(&self, lock: Self::Lock);
}

/// Runs a dump drill of `engine` from `object` onto `target`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<E: DumpEngine>(
    engine: &E,
    object: DumpObject<'_>,
    spec: &DrillSpec,
    target: &Target,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + spec.timeout;
    let scratch = postgres::scratch_name(&spec.run_id);
    let workdir = crate::dump_workdir::create()?;
    let mut created = false;
    let mut lock = None;
    let result = Body {
        engine,
        spec,
        target,
        scratch: &scratch,
        cancel,
        deadline,
    }
    .run(
        &object,
        clients,
        report,
        workdir.path(),
        &mut created,
        &mut lock,
    )
    .await;

    // Teardown, whatever happened above (cancellation included: this runs after it).
    report.phase("teardown");
    if created {
        let dropped = engine.drop_scratch(target, &scratch).await;
        crate::dump_workdir::record_scratch_drop(report, target, &scratch, dropped);
    }
    if let Some(lock) = lock {
        engine.release(lock).await;
    }
    crate::dump_workdir::remove(report, workdir);
    report.end_phase();
    result
}

/// The phases before the teardown.
struct Body<'a, E> {
    engine: &'a E,
    spec: &'a DrillSpec,
    target: &'a Target,
    scratch: &'a str,
    cancel: &'a CancellationToken,
    deadline: tokio::time::Instant,
}

impl<E: DumpEngine> Body<'_, E> {
    async fn guarded<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        guarded(self.cancel, self.deadline, what, fut).await
    }

    async fn run(
        &self,
        source: &DumpObject<'_>,
        clients: &dyn Clients,
        report: &mut DrillReport,
        workdir: &Path,
        created: &mut bool,
        lock: &mut Option<E::Lock>,
    ) -> Result<(), String> {
        let (engine, target, scratch) = (self.engine, self.target, self.scratch);
        report.phase("fetch");
        let (bucket, prefix) = parse_s3_uri(source.s3_uri)?;
        let s3 = clients.s3(source.region);
        let (key, modified) = self
            .guarded("the fetch", newest_object(&s3, &bucket, &prefix))
            .await?;
        let object = format!("s3://{bucket}/{key}");
        let listed_at = OffsetDateTime::now_utc();
        report.restored_from = Some(object.clone());
        report.restore_point = Some(rfc3339(modified));
        report.set_rpo((listed_at - modified).as_seconds_f64());
        report.rpo_from = Some("the object's LastModified".into());
        // The credentials are proven before a large download.
        *lock = Some(
            self.guarded(
                "connecting to the target",
                engine.hold(target, scratch, &object),
            )
            .await?,
        );
        let downloaded = workdir.join("dump");
        self.guarded("the download", download(&s3, &bucket, &key, &downloaded))
            .await?;
        let prepared = engine.prepare(downloaded, &object, report).await?;

        report.phase("restore");
        self.guarded(
            "creating the scratch database",
            engine.create_scratch(target, scratch, &object),
        )
        .await?;
        *created = true;
        self.guarded(
            "the restore",
            engine.restore(
                target, scratch, &prepared, &object, report, modified, listed_at,
            ),
        )
        .await?;

        report.phase("verify");
        // The dump's newest data is the reference: no earlier point to subtract.
        crate::copy_checks::verify_and_measure_freshness(
            target,
            scratch,
            self.spec,
            self.cancel,
            self.deadline,
            report,
            || 0.0,
        )
        .await
    }
}
