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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What happened, in order.
    type Events = Arc<Mutex<Vec<String>>>;

    struct FakeServer(Events);

    impl TemporaryServer for FakeServer {
        fn pid(&self) -> u32 {
            7
        }
        fn port(&self) -> u16 {
            5433
        }
        async fn stop(&mut self) -> Result<String, String> {
            self.0.lock().unwrap().push("server stopped".into());
            Ok("stopped".into())
        }
    }

    struct FakeFetcher(Events);

    impl Drop for FakeFetcher {
        fn drop(&mut self) {
            self.0.lock().unwrap().push("fetcher stopped".into());
        }
    }

    #[derive(Default)]
    struct FakeDetails {
        log_tail: Option<Vec<String>>,
        settled_with_fetcher: bool,
    }

    /// How the fake recovery ends.
    #[derive(Clone, Copy)]
    enum Ending {
        Recovered,
        Fails,
        Hangs,
    }

    struct FakeEngine {
        events: Events,
        ending: Ending,
        root: Mutex<Option<std::path::PathBuf>>,
    }

    impl PitrEngine for FakeEngine {
        type Details = FakeDetails;
        type Server = FakeServer;
        type Fetcher = FakeFetcher;
        const SERVER: &'static str = "fake server";
        const WORKDIR_HOLDS: &'static str = "fake files";

        fn workdir(&self, _run_id: &str) -> Result<Workdir, String> {
            let root = tempfile::tempdir().unwrap().keep();
            *self.root.lock().unwrap() = Some(root.clone());
            Ok(Workdir { root, owner: None })
        }

        async fn recover(
            &self,
            steps: &Steps<'_>,
            _dir: &Workdir,
            report: &mut DrillReport,
            _details: &mut FakeDetails,
            started: &mut Started<FakeServer, FakeFetcher>,
        ) -> Result<Recovered, String> {
            started.fetcher = Some(FakeFetcher(self.events.clone()));
            started.server = Some(FakeServer(self.events.clone()));
            report.phase("replay");
            match self.ending {
                Ending::Recovered => Ok(Recovered {
                    target: Target {
                        engine: crate::Engine::Postgres,
                        host: "/nowhere".into(),
                        port: 5433,
                        database: "app".into(),
                        username: "app".into(),
                        password: None,
                        pg_bin_dir: None,
                        tls: crate::Tls::disabled(),
                    },
                    database: "app".into(),
                    point: None,
                }),
                Ending::Fails => Err("replay failed".into()),
                Ending::Hangs => {
                    steps
                        .guarded("the replay", std::future::pending::<Result<(), String>>())
                        .await?;
                    unreachable!()
                }
            }
        }

        fn settle(
            &self,
            _dir: &Workdir,
            fetcher: Option<&FakeFetcher>,
            log_tail: Option<Vec<String>>,
            details: &mut FakeDetails,
        ) {
            details.settled_with_fetcher = fetcher.is_some();
            details.log_tail = log_tail;
        }

        fn record(report: &mut DrillReport, details: FakeDetails) {
            report.notes.push(format!(
                "recorded: log tail kept {}, settled with fetcher {}",
                details.log_tail.is_some(),
                details.settled_with_fetcher
            ));
        }
    }

    async fn drill(
        ending: Ending,
        cancel: &CancellationToken,
    ) -> (
        Result<(), String>,
        DrillReport,
        Vec<String>,
        std::path::PathBuf,
    ) {
        let spec = DrillSpec {
            name: "t".into(),
            source: crate::Source::MysqlBinlog(crate::mysql_binlog::MysqlBinlogSource {
                base_dump_uri: "s3://b/full/".into(),
                binlog_uri: "s3://b/binlog/".into(),
                target_time: crate::archive_plan::TargetTime::Latest,
                region: "us-east-1".into(),
                decrypt: None,
                bin_dir: None,
            }),
            target: None,
            verify: Vec::new(),
            freshness_sql: None,
            targets: crate::Targets {
                rpo: None,
                rto: None,
            },
            timeout: std::time::Duration::from_secs(60),
            run_id: "t".into(),
        };
        let mut report = DrillReport::start(&spec);
        let engine = FakeEngine {
            events: Events::default(),
            ending,
            root: Mutex::new(None),
        };
        let steps = Steps {
            spec: &spec,
            cancel,
            deadline: Instant::now() + spec.timeout,
        };
        let result = run(&engine, steps, &mut report, FakeDetails::default()).await;
        let events = engine.events.lock().unwrap().clone();
        let root = engine.root.lock().unwrap().clone().unwrap();
        (result, report, events, root)
    }

    fn teardown(report: &DrillReport) -> Vec<String> {
        report
            .teardown
            .iter()
            .map(|s| format!("{} ok={}", s.what, s.ok))
            .collect()
    }

    #[tokio::test]
    async fn every_ending_stops_the_fetcher_then_the_server_and_removes_the_directory() {
        for ending in [Ending::Recovered, Ending::Fails, Ending::Hangs] {
            let cancel = CancellationToken::new();
            if matches!(ending, Ending::Hangs) {
                cancel.cancel();
            }
            let (result, report, events, root) = drill(ending, &cancel).await;
            match ending {
                Ending::Recovered => assert_eq!(result, Ok(())),
                Ending::Fails => assert_eq!(result, Err("replay failed".into())),
                Ending::Hangs => assert!(
                    result
                        .as_ref()
                        .unwrap_err()
                        .starts_with("interrupted during the replay"),
                    "{result:?}"
                ),
            }
            assert_eq!(events, ["fetcher stopped", "server stopped"]);
            assert!(!root.exists(), "{} left behind", root.display());
            assert_eq!(
                teardown(&report),
                [
                    "fake server (pid 7, port 5433) ok=true".to_string(),
                    format!("fake files in {} ok=true", root.display()),
                ]
            );
            let failed = result.is_err();
            assert_eq!(
                report.notes.last().unwrap(),
                &format!("recorded: log tail kept {failed}, settled with fetcher true")
            );
            let phases: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
            let expected: &[&str] = if failed {
                &["replay", "teardown"]
            } else {
                &["replay", "verify", "teardown"]
            };
            assert_eq!(phases, expected);
        }
    }
}
