//! A drill's outcome as a Slack incoming-webhook message: `text` (what notifications and
//! clients without blocks show) and Block Kit `blocks`: the verdict, RTO and RPO against
//! their targets, the phases, the failed checks and the notes.
//!
//! Slack's limits are kept: a header of at most 150 characters, section texts of at most
//! 3,000, ten fields of at most 2,000, fifty blocks.

use serde_json::{json, Value};

use crate::DrillReport;

const SECTION_LIMIT: usize = 3000;

/// The message for a Slack incoming webhook.
pub fn message(report: &DrillReport) -> Value {
    let passed = report.passed();
    let verdict = if passed { "passed" } else { "FAILED" };
    let icon = if passed { ":white_check_mark:" } else { ":x:" };
    let mut blocks = vec![json!({
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": cut(&format!("DR drill {}: {verdict}", report.name), 150),
            "emoji": true
        }
    })];
    let checks_passed = report.verify_results.iter().filter(|v| v.passed).count();
    let mut fields = vec![
        field(
            "RTO",
            &figure(
                report.measured_rto_seconds,
                report.target_rto_seconds,
                report.rto_met,
            ),
        ),
        field(
            "RPO",
            &figure(
                report.measured_rpo_seconds,
                report.target_rpo_seconds,
                report.rpo_met,
            ),
        ),
        field(
            "Checks",
            &format!("{checks_passed}/{} passed", report.verify_results.len()),
        ),
        field("Source", &format!("`{}`", report.source_kind)),
    ];
    if let Some(from) = &report.restored_from {
        fields.push(field("Restored from", from));
    }
    if let Some(from) = &report.targets_from {
        fields.push(field("Targets from", from));
    }
    blocks.push(json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": format!("{icon} *{verdict}* · run `{}`", report.run_id) },
        "fields": fields
    }));
    if !report.phases.is_empty() {
        let phases: Vec<String> = report
            .phases
            .iter()
            .map(|p| format!("`{}` {}", p.name, duration(p.seconds)))
            .collect();
        blocks.push(section(&format!("*Phases*  {}", phases.join("  ·  "))));
    }
    let failed: Vec<String> = report
        .verify_results
        .iter()
        .filter(|v| !v.passed)
        .map(|v| {
            format!(
                "• *{}*: got {}, expected `{}`",
                v.name,
                v.value
                    .as_deref()
                    .or(v.error.as_deref())
                    .unwrap_or("no value"),
                v.expect
            )
        })
        .collect();
    if !failed.is_empty() {
        blocks.push(section(&format!("*Failed checks*\n{}", failed.join("\n"))));
    }
    let torn: Vec<String> = report
        .teardown
        .iter()
        .filter(|t| !t.ok)
        .map(|t| {
            format!(
                "• {} ({})",
                t.what,
                t.error.as_deref().unwrap_or("unknown error")
            )
        })
        .collect();
    if !torn.is_empty() {
        blocks.push(section(&format!(
            "*Not torn down* (the next drill removes it)\n{}",
            torn.join("\n")
        )));
    }
    if !report.notes.is_empty() {
        let notes: Vec<String> = report.notes.iter().map(|n| format!("• {n}")).collect();
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": cut(&notes.join("\n"), SECTION_LIMIT) }]
        }));
    }
    json!({ "text": report.chat_text(), "blocks": blocks })
}

fn field(name: &str, value: &str) -> Value {
    json!({ "type": "mrkdwn", "text": cut(&format!("*{name}*\n{value}"), 2000) })
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": cut(text, SECTION_LIMIT) } })
}

/// `12.3s (target 15m) ✓`.
fn figure(measured: Option<f64>, target: Option<f64>, met: Option<bool>) -> String {
    let m = measured.map_or("not measured".to_string(), duration);
    let Some(t) = target.map(duration) else {
        return format!("{m} (no target)");
    };
    let mark = match met {
        Some(true) => " :white_check_mark:",
        Some(false) => " :x: *missed*",
        None => "",
    };
    format!("{m} (target {t}){mark}")
}

/// Seconds as people read them: `0.4s`, `12.3s`, `14m 05s`, `2h 03m`.
fn duration(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{}h {:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(0.42), "0.4s");
        assert_eq!(duration(845.0), "14m 05s");
        assert_eq!(duration(7380.0), "2h 03m");
    }

    #[test]
    fn long_texts_are_cut_to_slack_limits() {
        let long = "x".repeat(5000);
        assert_eq!(cut(&long, 3000).chars().count(), 3000);
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn a_figure_names_measured_target_and_verdict() {
        assert_eq!(
            figure(Some(12.34), Some(900.0), Some(true)),
            "12.3s (target 15m 00s) :white_check_mark:"
        );
        assert_eq!(figure(None, None, None), "not measured (no target)");
    }
}
