//! The one skeleton of the point-in-time drills (`postgres_pitr`, `mysql_binlog`): what
//! differs by engine is a [`PitrEngine`] (planning the archive sequence, fetching the base,
//! starting the engine's server, replaying to the target); the temporary directory, the
//! server's lifetime, the verify phase and the teardown are here, once.
//!
//! ```text
//! fetch    (engine) plan the base and the archive sequence, then download
//! restore  (engine) restore the base into the temporary directory, start the server
//! replay   (engine) replay the archive up to the target; the RPO from the last replayed
//! verify   verify blocks and freshness_sql on the copy, freshness against the target
//! teardown stop the server (and the fetch-ahead), remove the directory: on every path,
//!          failure, timeout and cancellation included
//! ```

use time::OffsetDateTime;
use tokio::time::Instant;

use crate::pitr_server::{self, Workdir};
use crate::{guarded, CancellationToken, DrillReport, DrillSpec, Target, TeardownStep};

/// Lines of the server log kept in a failure report.
pub(crate) const LOG_TAIL: usize = 20;

/// A temporary server a drill started: teardown stops it.
pub(crate) trait TemporaryServer {
    /// Its pid, for the teardown record.
    fn pid(&self) -> u32;
    /// Its port on 127.0.0.1, for the teardown record.
    fn port(&self) -> u16;
    /// Stops it (gently first); says how it went.
    async fn stop(&mut self) -> Result<String, String>;
}

impl TemporaryServer for pitr_server::Server {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn port(&self) -> u16 {
        self.port
    }
    async fn stop(&mut self) -> Result<String, String> {
        pitr_server::Server::stop(self).await
    }
}

impl TemporaryServer for crate::mysql_server::MysqlServer {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn port(&self) -> u16 {
        self.port
    }
    async fn stop(&mut self) -> Result<String, String> {
        crate::mysql_server::MysqlServer::stop(self).await
    }
}

/// A drill's limits, shared by its phases.
pub(crate) struct Steps<'a> {
    pub spec: &'a DrillSpec,
    pub cancel: &'a CancellationToken,
    pub deadline: Instant,
}

impl Steps<'_> {
    /// `fut`, stopped by cancellation and the drill's timeout (`what` names it then).
    pub async fn guarded<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        guarded(self.cancel, self.deadline, what, fut).await
    }
}

/// What the engine started, which teardown stops: set as soon as each is running.
pub(crate) struct Started<S, F> {
    /// The temporary server.
    pub server: Option<S>,
    /// A background download replay reads from (the WAL fetch-ahead); stopped first.
    pub fetcher: Option<F>,
}

/// The recovered copy, for the verify phase.
pub(crate) struct Recovered {
    /// The copy as a check target.
    pub target: Target,
    /// The database the checks run in.
    pub database: String,
    /// The point recovered to; `None` for the archive's end (`latest`).
    pub point: Option<OffsetDateTime>,
}

/// The engine's half of a point-in-time drill.
pub(crate) trait PitrEngine {
    /// The report's section on the recovery (`pitr`, `binlog`).
    type Details;
    /// The temporary server.
    type Server: TemporaryServer;
    /// A background download replay reads from (`()` where there is none).
    type Fetcher;
    /// How the teardown record names the server.
    const SERVER: &'static str;
    /// What the directory holds, for the teardown record.
    const WORKDIR_HOLDS: &'static str;

    /// The temporary directory, owned by the user the server runs as.
    fn workdir(&self, run_id: &str) -> Result<Workdir, String>;
    /// Everything up to a recovered copy: fetch, restore, replay (their phases and
    /// figures, the RPO); what it starts goes into `started` at once.
    async fn recover(
        &self,
        steps: &Steps<'_>,
        dir: &Workdir,
        report: &mut DrillReport,
        details: &mut Self::Details,
        started: &mut Started<Self::Server, Self::Fetcher>,
    ) -> Result<Recovered, String>;
    /// Teardown's figures, before the fetcher and the server stop: what replay read, and
    /// the server log's last lines when the drill failed.
    fn settle(
        &self,
        dir: &Workdir,
        fetcher: Option<&Self::Fetcher>,
        log_tail: Option<Vec<String>>,
        details: &mut Self::Details,
    );
    /// Puts the section into the report.
    fn record(report: &mut DrillReport, details: Self::Details);
}

/// Runs a point-in-time drill of `engine` in a temporary directory it removes, whatever
/// happens.
pub(crate) async fn run<E: PitrEngine>(
    engine: &E,
    steps: Steps<'_>,
    report: &mut DrillReport,
    mut details: E::Details,
) -> Result<(), String> {
    let dir = engine.workdir(&steps.spec.run_id)?;
    let mut started = Started {
        server: None,
        fetcher: None,
    };
    let result = match engine
        .recover(&steps, &dir, report, &mut details, &mut started)
        .await
    {
        Ok(copy) => verify(&steps, &copy, report).await,
        Err(e) => Err(e),
    };

    // Teardown, whatever happened above (cancellation included).
    report.phase("teardown");
    let log_tail = result
        .is_err()
        .then(|| pitr_server::log_tail(&dir, LOG_TAIL));
    engine.settle(&dir, started.fetcher.as_ref(), log_tail, &mut details);
    drop(started.fetcher.take());
    if let Some(s) = started.server.as_mut() {
        let stopped = s.stop().await;
        report.teardown.push(TeardownStep {
            what: format!("{} (pid {}, port {})", E::SERVER, s.pid(), s.port()),
            ok: stopped.is_ok(),
            error: stopped.err(),
        });
    }
    let removed = dir.remove();
    report.teardown.push(TeardownStep {
        what: format!("{} in {}", E::WORKDIR_HOLDS, dir.root.display()),
        ok: removed.is_ok(),
        error: removed.err(),
    });
    E::record(report, details);
    report.end_phase();
    result
}

/// The verify phase: checks on the copy; freshness measured from the point recovered to
/// (freshness() measures against now, a past target moves the reference back).
async fn verify(
    steps: &Steps<'_>,
    copy: &Recovered,
    report: &mut DrillReport,
) -> Result<(), String> {
    report.phase("verify");
    crate::copy_checks::verify_and_measure_freshness(
        &copy.target,
        &copy.database,
        steps.spec,
        steps.cancel,
        steps.deadline,
        report,
        || {
            copy.point
                .map_or(0.0, |t| (OffsetDateTime::now_utc() - t).as_seconds_f64())
        },
    )
    .await
}

/// The age of the newest archived file when the archive was listed, to the millisecond:
/// what a disaster would lose right now.
pub(crate) fn archive_lag_seconds(uploaded: OffsetDateTime) -> f64 {
    ((OffsetDateTime::now_utc() - uploaded).as_seconds_f64() * 1000.0).round() / 1000.0
}
