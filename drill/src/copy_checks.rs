//! The verify phase on a restored copy, whatever its engine: the `verify` blocks in order
//! (queries over the copy's protocol, `command` checks with its environment), then
//! `freshness_sql`. Shared by the dump, PITR and RDS drills.

use crate::report::now_rfc3339;
use crate::{
    guarded, mysql, postgres, CancellationToken, Check, DrillReport, DrillSpec, Expect, Target,
    Verify, VerifyResult,
};

/// A session on the copy, opened when the first query needs it.
enum Session {
    Postgres(tokio_postgres::Client),
    Mysql(mysql_async::Conn),
}

impl Session {
    async fn open(target: &Target, database: &str) -> Result<Session, String> {
        Ok(if target.engine.is_mysql() {
            Session::Mysql(mysql::connect(target, database).await?)
        } else {
            Session::Postgres(postgres::connect(target, database).await?)
        })
    }

    async fn first_value(&mut self, sql: &str) -> Result<(Option<String>, usize), String> {
        match self {
            Session::Postgres(c) => postgres::first_value(c, sql).await,
            Session::Mysql(c) => mysql::first_value(c, sql).await,
        }
    }

    async fn close(self) {
        if let Session::Mysql(c) = self {
            let _ = c.disconnect().await;
        }
    }
}

/// Runs the verifications (queries and commands) in order, recording each result; stops at
/// the first failure.
pub(crate) async fn verify(
    target: &Target,
    database: &str,
    checks: &[Verify],
    report: &mut DrillReport,
) -> Result<(), String> {
    if checks.is_empty() {
        report.verified();
        return Ok(());
    }
    // Connected only when a query needs it: a command-only drill opens no session.
    let mut session: Option<Session> = None;
    for check in checks {
        let result = match &check.check {
            Check::Sql { sql, expect } => {
                let s = match &mut session {
                    Some(s) => s,
                    None => session.insert(Session::open(target, database).await?),
                };
                sql_check(s, &check.name, sql, expect).await
            }
            Check::Command(command) => {
                crate::command_check::run(&check.name, command, target, database).await
            }
        };
        let passed = result.passed;
        report.verify_results.push(result);
        if passed {
            report.verified();
        } else {
            break; // the caller turns a failed check into a failed drill
        }
    }
    if let Some(s) = session {
        s.close().await;
    }
    Ok(())
}

async fn sql_check(session: &mut Session, name: &str, sql: &str, expect: &Expect) -> VerifyResult {
    let at = now_rfc3339();
    let (value, rows, error) = match session.first_value(sql).await {
        Ok((value, rows)) => (value, rows, None),
        Err(e) => (None, 0, Some(e)),
    };
    let passed = error.is_none() && expect.check(value.as_deref(), rows);
    let shown = if expect.rows {
        Some(rows.to_string())
    } else {
        value
    };
    VerifyResult {
        name: name.to_string(),
        sql: sql.to_string(),
        expect: expect.to_string(),
        value: shown,
        passed,
        at,
        error,
        output: None,
    }
}

/// Age in seconds of the timestamp `sql` returns, over the copy's protocol.
async fn freshness(target: &Target, database: &str, sql: &str) -> Result<f64, String> {
    if target.engine.is_mysql() {
        mysql::freshness(target, database, sql).await
    } else {
        postgres::freshness(target, database, sql).await
    }
}

/// The verify phase on a restored copy: the `verify` blocks, then, when they all passed,
/// `freshness_sql`. The age of its newest row, less `point_age()` (how long ago the
/// restored point was, read after the query; 0 for the latest), is the measured RPO.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn verify_and_measure_freshness(
    target: &Target,
    database: &str,
    spec: &DrillSpec,
    cancel: &CancellationToken,
    deadline: tokio::time::Instant,
    report: &mut DrillReport,
    point_age: impl FnOnce() -> f64,
) -> Result<(), String> {
    guarded(
        cancel,
        deadline,
        "verification",
        verify(target, database, &spec.verify, report),
    )
    .await?;
    let Some(sql) = &spec.freshness_sql else {
        return Ok(());
    };
    if report.verify_results.iter().all(|v| v.passed) {
        let newest_age = guarded(
            cancel,
            deadline,
            "the freshness query",
            freshness(target, database, sql),
        )
        .await?;
        report.set_rpo(newest_age - point_age());
        report
            .notes
            .push(format!("RPO measured by freshness_sql: {sql}"));
        report.rpo_from = Some("freshness_sql".into());
    }
    Ok(())
}
