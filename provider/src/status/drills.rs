//! Whether the policy's drills are current: when the newest drill ran, whether it passed,
//! and whether the newest passing drill is younger than the policy's `drill_interval`.
//!
//! Read from what each drill records on its policy's resources: after every run a
//! `dr_drill` with a `policy_id` tags the instances, clusters and buckets carrying
//! `drkit:policy` with `drkit:last-drill = at=RFC3339 passed=BOOL drill=RUN_ID`, and a
//! passing run also `drkit:last-passed-drill` (see [`crate::drill_record`]). The newest
//! value across the resources wins.
//!
//! When the policy's drills keep evidence (`dr_status`'s `evidence_uris`, or the
//! `drkit:drill-evidence` tag they write), the signed records decide instead, and these
//! tags are not read: see [`super::evidence`].

use time::OffsetDateTime;

use super::discover::DrillTags;

/// The drill status of `policy`: from the evidence records when any location is known
/// (`evidence_uris`, or the `drkit:drill-evidence` tag), else from the outcome tags.
pub async fn status(
    clients: &crate::aws::AwsClients,
    policy: &str,
    tags: &DrillTags,
    evidence_uris: &[String],
    interval_secs: u64,
    now: OffsetDateTime,
) -> DrillStatus {
    let mut locations = DrillTags::default();
    locations.add_evidence(evidence_uris.iter().map(String::as_str));
    locations.add_evidence(tags.evidence.iter().map(String::as_str));
    if locations.evidence.is_empty() {
        return DrillStatus::from_runs(&Runs::from_tags(tags), interval_secs, now);
    }
    super::evidence::status(clients, policy, &locations.evidence, interval_secs, now).await
}

/// Default `drill_interval`: a quarterly drill, as most DR plans require.
pub const DEFAULT_INTERVAL_SECS: u64 = 90 * 86_400;

/// One drill run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// When it finished.
    pub at: OffsetDateTime,
    /// Whether it passed.
    pub passed: bool,
}

/// Every run found: the newest of any outcome and the newest passing ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runs {
    /// From `drkit:last-drill`.
    pub last: Vec<Run>,
    /// From `drkit:last-passed-drill`.
    pub last_passed: Vec<Run>,
}

impl Runs {
    /// The runs the tags record; values that do not parse are ignored.
    pub fn from_tags(tags: &DrillTags) -> Runs {
        Runs {
            last: tags.last.iter().filter_map(|v| parse(v)).collect(),
            last_passed: tags
                .last_passed
                .iter()
                .filter_map(|v| parse(v))
                .filter(|r| r.passed)
                .collect(),
        }
    }
}

/// `at=2026-12-06T18:00:00Z passed=true drill=...`.
pub fn parse(value: &str) -> Option<Run> {
    let mut at = None;
    let mut passed = None;
    for part in value.split_whitespace() {
        match part.split_once('=') {
            Some(("at", v)) => {
                at = OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).ok()
            }
            Some(("passed", v)) => passed = Some(v == "true"),
            _ => {}
        }
    }
    Some(Run {
        at: at?,
        passed: passed?,
    })
}

/// The tag value of a run.
pub fn tag_value(at: &str, passed: bool, drill: &str) -> String {
    format!("at={at} passed={passed} drill={drill}")
}

/// What `dr_status` reports about drills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillStatus {
    /// The newest run's end; `None` when no drill was recorded.
    pub last_at: Option<OffsetDateTime>,
    /// Whether the newest run passed.
    pub last_passed: Option<bool>,
    /// The newest passing run is younger than the interval; `None` when that is unknown
    /// (evidence that could not be read or checked).
    pub current: Option<bool>,
    /// Why `current` is what it is.
    pub detail: String,
    /// What `summary` must say: evidence records that do not count and why, evidence that
    /// could not be read.
    pub problems: Vec<String>,
}

impl DrillStatus {
    /// Judges `runs` against `interval_secs` at `now`.
    pub fn from_runs(runs: &Runs, interval_secs: u64, now: OffsetDateTime) -> DrillStatus {
        let newest = runs.last.iter().max_by_key(|r| r.at);
        let newest_pass = runs
            .last_passed
            .iter()
            .chain(runs.last.iter().filter(|r| r.passed))
            .map(|r| r.at)
            .max();
        let interval = super::human(interval_secs as f64);
        let (current, detail) = match newest_pass {
            Some(at) => {
                let age = super::age(now, at);
                if age <= interval_secs as f64 {
                    (
                        true,
                        format!("the newest passing drill is {} old (interval {interval})", super::human(age)),
                    )
                } else {
                    (
                        false,
                        format!(
                            "drill overdue: the newest passing drill finished {} ({} ago), beyond the {interval} drill_interval",
                            super::rfc3339(at),
                            super::human(age)
                        ),
                    )
                }
            }
            None if newest.is_some() => (
                false,
                "no drill of the policy has passed; the newest failed".to_string(),
            ),
            None => (
                false,
                "no drill of the policy is recorded (a dr_drill with policy_id records each run on the policy's resources)".to_string(),
            ),
        };
        DrillStatus {
            last_at: newest.map(|r| r.at),
            last_passed: newest.map(|r| r.passed),
            current: Some(current),
            detail,
            problems: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000 + days)
    }

    fn run(days: i64, passed: bool) -> Run {
        Run {
            at: at(days),
            passed,
        }
    }

    #[test]
    fn tag_values_round_trip() {
        let v = tag_value("2026-12-06T18:00:00Z", true, "run-1");
        assert_eq!(v, "at=2026-12-06T18:00:00Z passed=true drill=run-1");
        let r = parse(&v).unwrap();
        assert!(r.passed);
        assert_eq!(parse("at=yesterday passed=true"), None);
    }

    #[test]
    fn current_needs_a_passing_drill_within_the_interval() {
        let interval = DEFAULT_INTERVAL_SECS;
        let none = DrillStatus::from_runs(&Runs::default(), interval, at(0));
        assert_eq!(none.current, Some(false));
        assert_eq!(none.last_at, None);

        let fresh = Runs {
            last: vec![run(-10, true)],
            last_passed: vec![run(-10, true)],
        };
        let s = DrillStatus::from_runs(&fresh, interval, at(0));
        assert_eq!(s.current, Some(true), "{s:?}");
        assert_eq!(s.last_passed, Some(true));

        let old = DrillStatus::from_runs(&fresh, interval, at(81));
        assert_eq!(old.current, Some(false));
        assert!(old.detail.starts_with("drill overdue"), "{}", old.detail);

        // A failing drill after a passing one: the last run failed, the pass still counts.
        let failed_after = Runs {
            last: vec![run(-1, false)],
            last_passed: vec![run(-10, true)],
        };
        let s = DrillStatus::from_runs(&failed_after, interval, at(0));
        assert_eq!(s.last_passed, Some(false));
        assert_eq!(s.current, Some(true));

        let only_failed = Runs {
            last: vec![run(-1, false)],
            last_passed: vec![],
        };
        assert_eq!(
            DrillStatus::from_runs(&only_failed, interval, at(0)).current,
            Some(false)
        );
    }
}
