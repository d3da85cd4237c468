//! What a drill measured: phases, RTO/RPO against targets, verification results and
//! teardown, as JSON (state and `report_file`), markdown (beside it) and a chat line
//! (the Slack message is in `slack.rs`, its delivery in `webhook.rs`).

use std::time::Instant;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::DrillSpec;

/// One phase: fetch, restore, verify or teardown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// `fetch`, `restore`, `verify`, `teardown`.
    pub name: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it took.
    pub seconds: f64,
}

/// One verification query's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyResult {
    /// Its name.
    pub name: String,
    /// The SQL.
    pub sql: String,
    /// The expectation, as written.
    pub expect: String,
    /// First column of the first row (or the row count for `rows` expectations).
    pub value: Option<String>,
    /// Whether it met the expectation.
    pub passed: bool,
    /// When it ran (RFC 3339).
    pub at: String,
    /// The database error, if the query failed.
    pub error: Option<String>,
    /// A `command` check's last lines of output (stdout and stderr), password redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl VerifyResult {
    /// What the check returned: its value, else the database error, else "no value".
    pub fn got(&self) -> &str {
        self.value
            .as_deref()
            .or(self.error.as_deref())
            .unwrap_or("no value")
    }
}

/// One teardown step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeardownStep {
    /// What was removed.
    pub what: String,
    /// Whether it worked.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
}

/// The figures of an earlier run, for trends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it started.
    pub started_at: String,
    /// Measured RTO.
    pub measured_rto_seconds: Option<f64>,
    /// Measured RPO.
    pub measured_rpo_seconds: Option<f64>,
    /// RTO met.
    pub rto_met: Option<bool>,
    /// RPO met.
    pub rpo_met: Option<bool>,
    /// Everything passed.
    pub passed: bool,
}

/// Everything a drill measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillReport {
    /// Drill name.
    pub name: String,
    /// Run id (names and tags of what it created).
    pub run_id: String,
    /// `postgres_dump`, `postgres_pitr`, `mysql_dump`, `mysql_binlog` or `rds`.
    pub source_kind: String,
    /// What was restored: the object key and its time, or the restore point.
    pub restored_from: Option<String>,
    /// The point in time the restored data represents (RFC 3339).
    pub restore_point: Option<String>,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End, teardown included (RFC 3339).
    pub finished_at: Option<String>,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Start of the restore to the last verification passing (teardown excluded).
    pub measured_rto_seconds: Option<f64>,
    /// Age of the newest data recovered.
    pub measured_rpo_seconds: Option<f64>,
    /// What dated the recovered data for the RPO: the object's `LastModified`, a dump's
    /// completion trailer, `freshness_sql`, the last replayed transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_from: Option<String>,
    /// Target RTO.
    pub target_rto_seconds: Option<f64>,
    /// Target RPO.
    pub target_rpo_seconds: Option<f64>,
    /// Where the targets came from when the drill did not set them (the policy's tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets_from: Option<String>,
    /// Measured RTO within target (None without a target or a figure).
    pub rto_met: Option<bool>,
    /// Measured RPO within target.
    pub rpo_met: Option<bool>,
    /// Verification results.
    pub verify_results: Vec<VerifyResult>,
    /// Teardown steps.
    pub teardown: Vec<TeardownStep>,
    /// Notes found on the way (e.g. retention shorter than promised).
    pub notes: Vec<String>,
    /// Earlier runs (filled by the caller).
    pub history: Vec<HistoryEntry>,
    /// What a `postgres_pitr` drill restored and how replay went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr: Option<crate::PitrDetails>,
    /// What a `mysql_binlog` drill restored and how replay went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog: Option<crate::BinlogDetails>,
    #[serde(skip)]
    clock: Option<Clock>,
}

#[derive(Debug, Clone, PartialEq)]
struct Clock {
    start: Instant,
    restore_start: Option<Instant>,
    last_verified: Option<Instant>,
    phase_start: Option<(String, Instant, OffsetDateTime)>,
}

pub(crate) fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// The target line of a point-in-time recovery section (`latest` without a time).
pub(crate) fn target_line(target_time: Option<&str>, random: bool) -> String {
    format!(
        "- target: {}{}\n",
        target_time.unwrap_or("latest"),
        if random { " (chosen at random)" } else { "" }
    )
}

/// The last-replayed line of a point-in-time recovery section: what replay recovered last
/// (`what`: `commit`, `transaction`) and the archive's lag.
pub(crate) fn last_replayed_line(what: &str, last: Option<&str>, lag: Option<f64>) -> String {
    format!(
        "- last replayed {what}: {}; archive lag: {}\n",
        last.unwrap_or("-"),
        lag.map_or("-".into(), |s| format!("{s:.1}s"))
    )
}

/// A temporary server's last log lines as a markdown block (nothing when there are none).
pub(crate) fn log_tail_markdown(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut md = String::from("\nServer log (last lines):\n\n```\n");
    for l in lines {
        md.push_str(l);
        md.push('\n');
    }
    md.push_str("```\n");
    md
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl DrillReport {
    pub(crate) fn start(spec: &DrillSpec) -> Self {
        DrillReport {
            name: spec.name.clone(),
            run_id: spec.run_id.clone(),
            source_kind: match spec.source {
                crate::Source::Rds(_) | crate::Source::RdsCluster(_) => "rds".into(),
                crate::Source::PostgresDump(_) => "postgres_dump".into(),
                crate::Source::PostgresPitr(_) => "postgres_pitr".into(),
                crate::Source::MysqlDump(_) => "mysql_dump".into(),
                crate::Source::MysqlBinlog(_) => "mysql_binlog".into(),
            },
            restored_from: None,
            restore_point: None,
            started_at: now_rfc3339(),
            finished_at: None,
            phases: Vec::new(),
            measured_rto_seconds: None,
            measured_rpo_seconds: None,
            rpo_from: None,
            target_rto_seconds: spec.targets.rto.map(|d| d.as_secs_f64()),
            target_rpo_seconds: spec.targets.rpo.map(|d| d.as_secs_f64()),
            targets_from: None,
            rto_met: None,
            rpo_met: None,
            verify_results: Vec::new(),
            teardown: Vec::new(),
            notes: Vec::new(),
            history: Vec::new(),
            pitr: None,
            binlog: None,
            clock: Some(Clock {
                start: Instant::now(),
                restore_start: None,
                last_verified: None,
                phase_start: None,
            }),
        }
    }

    /// Starts a phase (ending the current one).
    pub(crate) fn phase(&mut self, name: &str) {
        self.end_phase();
        if let Some(c) = &mut self.clock {
            let now = Instant::now();
            if name == "fetch" || (name == "restore" && c.restore_start.is_none()) {
                c.restore_start.get_or_insert(now);
            }
            c.phase_start = Some((name.to_string(), now, OffsetDateTime::now_utc()));
        }
    }

    pub(crate) fn end_phase(&mut self) {
        if let Some((name, start, at)) = self.clock.as_mut().and_then(|c| c.phase_start.take()) {
            self.phases.push(Phase {
                name,
                started_at: rfc3339(at),
                seconds: round3(start.elapsed().as_secs_f64()),
            });
        }
    }

    pub(crate) fn verified(&mut self) {
        if let Some(c) = &mut self.clock {
            c.last_verified = Some(Instant::now());
        }
    }

    pub(crate) fn set_rpo(&mut self, seconds: f64) {
        self.measured_rpo_seconds = Some(round3(seconds.max(0.0)));
    }

    pub(crate) fn finish(&mut self, spec: &DrillSpec) {
        self.end_phase();
        if let Some(c) = &self.clock {
            let all_passed = self.verify_results.iter().all(|v| v.passed);
            if let (Some(start), Some(end), true) = (c.restore_start, c.last_verified, all_passed) {
                self.measured_rto_seconds = Some(round3((end - start).as_secs_f64()));
            }
        }
        self.rto_met = match (self.measured_rto_seconds, spec.targets.rto) {
            (Some(m), Some(t)) => Some(m <= t.as_secs_f64()),
            _ => None,
        };
        self.rpo_met = match (self.measured_rpo_seconds, spec.targets.rpo) {
            (Some(m), Some(t)) => Some(m <= t.as_secs_f64()),
            _ => None,
        };
        self.finished_at = Some(now_rfc3339());
    }

    /// Whether every verification passed and every target with a figure was met.
    pub fn passed(&self) -> bool {
        self.measured_rto_seconds.is_some()
            && self.verify_results.iter().all(|v| v.passed)
            && self.rto_met != Some(false)
            && self.rpo_met != Some(false)
    }

    /// This run as a history entry.
    pub fn history_entry(&self) -> HistoryEntry {
        HistoryEntry {
            started_at: self.started_at.clone(),
            measured_rto_seconds: self.measured_rto_seconds,
            measured_rpo_seconds: self.measured_rpo_seconds,
            rto_met: self.rto_met,
            rpo_met: self.rpo_met,
            passed: self.passed(),
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// A markdown summary for humans (written beside the JSON report).
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "# DR drill `{}`: {}\n\n",
            self.name,
            if self.passed() { "passed" } else { "FAILED" }
        );
        md.push_str(&format!(
            "Run `{}` of a `{}` restore, started {}.\n\n",
            self.run_id, self.source_kind, self.started_at
        ));
        if let Some(from) = &self.restored_from {
            md.push_str(&format!("Restored from: {from}\n\n"));
        }
        md.push_str("| | measured | target | met |\n|---|---|---|---|\n");
        md.push_str(&format!(
            "| RTO | {} | {} | {} |\n| RPO | {} | {} | {} |\n\n",
            secs(self.measured_rto_seconds),
            secs(self.target_rto_seconds),
            met(self.rto_met),
            secs(self.measured_rpo_seconds),
            secs(self.target_rpo_seconds),
            met(self.rpo_met)
        ));
        if let Some(from) = &self.rpo_from {
            md.push_str(&format!("RPO dated by {from}.\n\n"));
        }
        if let Some(from) = &self.targets_from {
            md.push_str(&format!("Targets from {from}.\n\n"));
        }
        md.push_str("## Phases\n\n| phase | seconds |\n|---|---|\n");
        for p in &self.phases {
            md.push_str(&format!("| {} | {:.3} |\n", p.name, p.seconds));
        }
        if !self.verify_results.is_empty() {
            md.push_str(
                "\n## Verification\n\n| check | expect | value | result |\n|---|---|---|---|\n",
            );
            for v in &self.verify_results {
                md.push_str(&format!(
                    "| {} | `{}` | {} | {} |\n",
                    v.name,
                    v.expect,
                    v.value.as_deref().or(v.error.as_deref()).unwrap_or("-"),
                    if v.passed { "pass" } else { "FAIL" }
                ));
            }
            for v in self.verify_results.iter().filter(|v| v.output.is_some()) {
                md.push_str(&format!(
                    "\nOutput of `{}` (`{}`, last lines):\n\n```text\n{}\n```\n",
                    v.name,
                    v.sql,
                    v.output.as_deref().unwrap_or_default()
                ));
            }
        }
        if let Some(pitr) = &self.pitr {
            md.push_str(&pitr.to_markdown());
        }
        if let Some(binlog) = &self.binlog {
            md.push_str(&binlog.to_markdown());
        }
        md.push_str("\n## Teardown\n\n");
        for t in &self.teardown {
            md.push_str(&format!(
                "- {} {}{}\n",
                if t.ok { "removed" } else { "NOT removed" },
                t.what,
                t.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        }
        if !self.notes.is_empty() {
            md.push_str("\n## Notes\n\n");
            for n in &self.notes {
                md.push_str(&format!("- {n}\n"));
            }
        }
        if !self.history.is_empty() {
            md.push_str(
                "\n## History\n\n| started | RTO (s) | RPO (s) | passed |\n|---|---|---|---|\n",
            );
            for h in &self.history {
                md.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    h.started_at,
                    secs(h.measured_rto_seconds),
                    secs(h.measured_rpo_seconds),
                    if h.passed { "yes" } else { "no" }
                ));
            }
        }
        md
    }

    /// One line for a chat tool.
    pub fn chat_text(&self) -> String {
        format!(
            "{} DR drill {}: RTO {} (target {}), RPO {} (target {}), {}/{} checks passed",
            if self.passed() { "✅" } else { "❌" },
            self.name,
            secs(self.measured_rto_seconds),
            secs(self.target_rto_seconds),
            secs(self.measured_rpo_seconds),
            secs(self.target_rpo_seconds),
            self.verify_results.iter().filter(|v| v.passed).count(),
            self.verify_results.len()
        )
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn secs(s: Option<f64>) -> String {
    s.map_or("-".into(), |s| format!("{s:.1}s"))
}

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "-",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_replayed_line_says_what_and_the_lag_or_a_dash() {
        assert_eq!(
            last_replayed_line("commit", Some("2026-12-07T01:02:03Z"), Some(12.345)),
            "- last replayed commit: 2026-12-07T01:02:03Z; archive lag: 12.3s\n"
        );
        assert_eq!(
            last_replayed_line("transaction", None, None),
            "- last replayed transaction: -; archive lag: -\n"
        );
    }
}
