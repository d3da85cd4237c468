//! The evidence report: one self-contained HTML file (inline CSS and SVG, no script, no
//! network) or its JSON. Per drill the history, RTO and RPO over time against their
//! targets, and what failed; per control the records that answer it. Every text from a
//! record is escaped: a drill named `<script>` is shown, never run.

use std::fmt::Write;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{Audit, Chain, Record};

/// One run as the report shows it.
#[derive(Debug, Clone, Serialize)]
struct Row<'a> {
    drill: &'a str,
    run_id: &'a str,
    uri: &'a str,
    started_at: &'a str,
    finished_at: Option<&'a str>,
    passed: bool,
    source: String,
    measured_rto_seconds: Option<f64>,
    target_rto_seconds: Option<f64>,
    rto_met: Option<bool>,
    measured_rpo_seconds: Option<f64>,
    target_rpo_seconds: Option<f64>,
    rpo_met: Option<bool>,
    /// What failed: the error, failed checks, missed targets, what was not torn down.
    failures: Vec<String>,
    /// Integrity problems the audit found (empty: verified).
    integrity: Vec<String>,
    #[serde(skip)]
    at: Option<OffsetDateTime>,
}

fn rows<'a>(chain: &'a Chain, audit: &'a Audit) -> Vec<Row<'a>> {
    chain
        .records
        .iter()
        .filter_map(|s| {
            let r: &Record = s.record.as_ref().ok()?;
            let integrity = audit
                .records
                .iter()
                .filter(|a| a.uri == s.uri)
                .flat_map(|a| {
                    a.problems
                        .iter()
                        .map(|p| format!("{}: {}", p.kind, p.detail))
                })
                .collect();
            Some(row(&chain.drill, &s.run_id, &s.uri, r, integrity))
        })
        .collect()
}

fn row<'a>(
    drill: &'a str,
    run_id: &'a str,
    uri: &'a str,
    r: &'a Record,
    integrity: Vec<String>,
) -> Row<'a> {
    let rep = &r.report;
    let mut failures: Vec<String> = r.error.iter().cloned().collect();
    for v in rep.verify_results.iter().filter(|v| !v.passed) {
        failures.push(format!(
            "check {:?}: got {}, expected {}",
            v.name,
            v.got(),
            v.expect
        ));
    }
    for (what, met, m, t) in [
        (
            "RTO",
            rep.rto_met,
            rep.measured_rto_seconds,
            rep.target_rto_seconds,
        ),
        (
            "RPO",
            rep.rpo_met,
            rep.measured_rpo_seconds,
            rep.target_rpo_seconds,
        ),
    ] {
        if met == Some(false) {
            failures.push(format!("{what} {} over its target {}", secs(m), secs(t)));
        }
    }
    for t in rep.teardown.iter().filter(|t| !t.ok) {
        failures.push(format!("not torn down: {}", t.what));
    }
    let source = match (&rep.restored_from, &rep.restore_point) {
        (Some(f), Some(p)) => format!("{} {f} (recovery point {p})", rep.source_kind),
        (Some(f), None) => format!("{} {f}", rep.source_kind),
        (None, Some(p)) => format!("{} (recovery point {p})", rep.source_kind),
        (None, None) => rep.source_kind.clone(),
    };
    Row {
        drill,
        run_id,
        uri,
        started_at: &rep.started_at,
        finished_at: rep.finished_at.as_deref(),
        passed: r.passed,
        source,
        measured_rto_seconds: rep.measured_rto_seconds,
        target_rto_seconds: rep.target_rto_seconds,
        rto_met: rep.rto_met,
        measured_rpo_seconds: rep.measured_rpo_seconds,
        target_rpo_seconds: rep.target_rpo_seconds,
        rpo_met: rep.rpo_met,
        failures,
        integrity,
        at: OffsetDateTime::parse(&rep.started_at, &Rfc3339).ok(),
    }
}

/// A control and which records answer it.
struct Control {
    id: &'static str,
    title: &'static str,
    asks: &'static str,
    answers: fn(&Row) -> bool,
}

const CONTROLS: &[Control] = &[
    Control {
        id: "SOC 2 A1.3",
        title: "Recovery plan testing",
        asks: "Recovery plan procedures supporting system recovery are tested to help meet the entity's availability commitments.",
        answers: |_| true,
    },
    Control {
        id: "ISO/IEC 27001:2022 A.8.13",
        title: "Information backup",
        asks: "Backup copies of information are maintained and regularly tested.",
        answers: |r| !r.source.is_empty(),
    },
    Control {
        id: "ISO/IEC 27001:2022 A.5.30",
        title: "ICT readiness for business continuity",
        asks: "ICT readiness is planned, implemented, maintained and tested based on business continuity objectives (recovery time and point objectives).",
        answers: |r| r.target_rto_seconds.is_some() || r.target_rpo_seconds.is_some(),
    },
    Control {
        id: "PCI DSS 4.0 12.10.2",
        title: "Incident response plan tested at least every 12 months",
        asks: "The security incident response plan, business recovery and continuity procedures included, is reviewed and tested at least once every 12 months.",
        answers: |r| r.at.is_some_and(|t| OffsetDateTime::now_utc() - t < time::Duration::days(366)),
    },
    Control {
        id: "DORA Art. 12",
        title: "Backup, restoration and recovery (RTS 2024/1774)",
        asks: "Backup restoration and recovery procedures are tested periodically, with recovery time and point measured against the objectives, and the results kept.",
        answers: |r| r.measured_rto_seconds.is_some() || r.measured_rpo_seconds.is_some(),
    },
];

/// The report as JSON, for other tools.
pub fn report_json(source: &str, chains: &[Chain], audit: &Audit) -> serde_json::Value {
    let drills: Vec<serde_json::Value> = chains
        .iter()
        .map(|c| serde_json::json!({ "drill": c.drill, "runs": rows(c, audit) }))
        .collect();
    let all: Vec<Row> = chains.iter().flat_map(|c| rows(c, audit)).collect();
    let controls: Vec<serde_json::Value> = CONTROLS
        .iter()
        .map(|k| {
            let runs: Vec<serde_json::Value> = all
                .iter()
                .filter(|r| (k.answers)(r))
                .map(|r| serde_json::json!({ "drill": r.drill, "run_id": r.run_id, "passed": r.passed }))
                .collect();
            serde_json::json!({ "control": k.id, "title": k.title, "runs": runs })
        })
        .collect();
    serde_json::json!({
        "source": source,
        "generated_at": crate::report::now_rfc3339(),
        "drkit_version": env!("CARGO_PKG_VERSION"),
        "verified": audit.bad().count() == 0 && audit.errors.is_empty(),
        "integrity_errors": audit.errors,
        "drills": drills,
        "controls": controls,
    })
}

/// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn secs(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s >= 3600.0 => format!("{:.1} h", s / 3600.0),
        Some(s) if s >= 120.0 => format!("{:.1} min", s / 60.0),
        Some(s) => format!("{s:.1} s"),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:72rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.8rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0;width:520px}figcaption{font-size:.8rem;color:#57606a}
.summary{background:#f6f8fa;padding:.6rem 1rem;border-radius:6px}code{font-size:.85rem}";

/// The report as one self-contained HTML file.
pub fn report_html(source: &str, chains: &[Chain], audit: &Audit) -> String {
    let mut h = String::new();
    let bad = audit.bad().count();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>DR drill evidence</title><style>{STYLE}</style></head><body>\
         <h1>DR drill evidence</h1><p class=\"summary\">Records under <code>{}</code>, \
         generated {} by drkit {}: {} records of {} drills. Integrity: {}</p>",
        esc(source),
        esc(&crate::report::now_rfc3339()),
        env!("CARGO_PKG_VERSION"),
        audit.records.len(),
        chains.len(),
        if bad == 0 && audit.errors.is_empty() {
            "<span class=\"pass\">every record's signature, hash chain and lock verified</span>"
                .to_string()
        } else if bad > 0 {
            format!("<span class=\"fail\">{bad} records failed verification (see the Integrity column)</span>")
        } else {
            format!(
                "<span class=\"fail\">not verified: {}</span>",
                esc(&audit.errors.join("; "))
            )
        }
    );
    h.push_str("<nav><ul>");
    for (i, c) in chains.iter().enumerate() {
        let _ = write!(h, "<li><a href=\"#drill-{i}\">{}</a></li>", esc(&c.drill));
    }
    h.push_str("<li><a href=\"#controls\">Controls</a></li></ul></nav>");
    for (i, c) in chains.iter().enumerate() {
        drill_section(&mut h, i, &rows(c, audit));
    }
    controls_section(&mut h, chains, audit);
    h.push_str("</body></html>\n");
    h
}

fn drill_section(h: &mut String, i: usize, rows: &[Row]) {
    let drill = rows.first().map_or("", |r| r.drill);
    let passed = rows.iter().filter(|r| r.passed).count();
    let last_pass = rows
        .iter()
        .rev()
        .find(|r| r.passed)
        .map_or("never", |r| r.started_at);
    let _ = write!(
        h,
        "<section id=\"drill-{i}\"><h2>Drill {}</h2><p>{} runs, {passed} passed; last passing run {}.</p><div class=\"charts\">",
        esc(drill),
        rows.len(),
        esc(last_pass)
    );
    for (what, pick) in [
        (
            "RTO",
            (|r: &Row| (r.measured_rto_seconds, r.target_rto_seconds))
                as fn(&Row) -> (Option<f64>, Option<f64>),
        ),
        ("RPO", |r: &Row| {
            (r.measured_rpo_seconds, r.target_rpo_seconds)
        }),
    ] {
        let points: Vec<Point> = rows
            .iter()
            .filter_map(|r| {
                let (m, t) = pick(r);
                Some(Point {
                    at: r.at?.unix_timestamp() as f64,
                    measured: m,
                    target: t,
                    passed: r.passed,
                })
            })
            .collect();
        let _ = write!(
            h,
            "<figure class=\"chart\" data-chart=\"{what}\">{}<figcaption>Measured {what} per run (points: green passed, red failed) against the target (dashed)</figcaption></figure>",
            super::chart::svg(&format!("{what} (seconds)"), &points)
        );
    }
    h.push_str("</div><table class=\"history\"><tr><th>Run</th><th>Started</th><th>Source and recovery point</th><th>RTO (target)</th><th>RPO (target)</th><th>Result</th><th>Integrity</th></tr>");
    for r in rows.iter().rev() {
        let _ = write!(
            h,
            "<tr id=\"run-{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} ({})</td><td>{} ({})</td><td class=\"{}\">{}</td><td class=\"{}\">{}</td></tr>",
            esc(r.run_id),
            esc(r.run_id),
            esc(r.started_at),
            esc(&r.source),
            secs(r.measured_rto_seconds),
            secs(r.target_rto_seconds),
            secs(r.measured_rpo_seconds),
            secs(r.target_rpo_seconds),
            if r.passed { "pass" } else { "fail" },
            if r.passed { "passed" } else { "FAILED" },
            if r.integrity.is_empty() { "pass" } else { "fail" },
            if r.integrity.is_empty() { "verified".to_string() } else { esc(&r.integrity.join("; ")) },
        );
    }
    h.push_str("</table>");
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.failures.is_empty()).collect();
    if !failed.is_empty() {
        h.push_str("<h3>Failures</h3><ul>");
        for r in failed.iter().rev() {
            let _ = write!(
                h,
                "<li><code>{}</code> ({}): {}</li>",
                esc(r.run_id),
                esc(r.started_at),
                esc(&r.failures.join("; "))
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
}

fn controls_section(h: &mut String, chains: &[Chain], audit: &Audit) {
    let all: Vec<Row> = chains.iter().flat_map(|c| rows(c, audit)).collect();
    h.push_str("<section id=\"controls\"><h2>Controls</h2>");
    for k in CONTROLS {
        let runs: Vec<&Row> = all.iter().filter(|r| (k.answers)(r)).collect();
        let passed = runs.iter().filter(|r| r.passed).count();
        let _ = write!(
            h,
            "<h3>{}: {}</h3><p>{}</p><p>{} records answer it, {passed} of them passing drills.</p><table><tr><th>Drill</th><th>Run</th><th>Started</th><th>Result</th><th>Record</th></tr>",
            esc(k.id),
            esc(k.title),
            esc(k.asks),
            runs.len()
        );
        for r in runs.iter().rev() {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"{}\">{}</td><td><code>{}</code></td></tr>",
                esc(r.drill),
                esc(r.run_id),
                esc(r.started_at),
                if r.passed { "pass" } else { "fail" },
                if r.passed { "passed" } else { "FAILED" },
                esc(r.uri)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

/// One run on a chart.
pub(crate) struct Point {
    pub at: f64,
    pub measured: Option<f64>,
    pub target: Option<f64>,
    pub passed: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            super::esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
