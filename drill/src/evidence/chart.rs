//! RTO and RPO over time as inline SVG, drawn by plotters: measured values per run (green
//! passed, red failed) and the target each run had (dashed).

use plotters::prelude::*;
use time::OffsetDateTime;

use super::html::Point;

const SIZE: (u32, u32) = (520, 240);

/// The chart, or a note when no run has a figure.
pub(crate) fn svg(caption: &str, points: &[Point]) -> String {
    let measured: Vec<(f64, f64, bool)> = points
        .iter()
        .filter_map(|p| Some((p.at, p.measured?, p.passed)))
        .collect();
    let targets: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((p.at, p.target?)))
        .collect();
    if measured.is_empty() && targets.is_empty() {
        return "<p>No figures measured yet.</p>".into();
    }
    let mut out = String::new();
    if draw(&mut out, caption, &measured, &targets).is_err() {
        return "<p>The chart could not be drawn.</p>".into();
    }
    out
}

fn draw(
    out: &mut String,
    caption: &str,
    measured: &[(f64, f64, bool)],
    targets: &[(f64, f64)],
) -> Result<(), Box<dyn std::error::Error>> {
    let times = measured
        .iter()
        .map(|m| m.0)
        .chain(targets.iter().map(|t| t.0));
    let (mut x0, mut x1) = times.fold((f64::MAX, f64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    // One run, or runs within minutes: half a day either side keeps the axis readable.
    if x1 - x0 < 3600.0 {
        x0 -= 43_200.0;
        x1 += 43_200.0;
    }
    let pad = (x1 - x0) * 0.05;
    let (x0, x1) = (x0 - pad, x1 + pad);
    let top = measured
        .iter()
        .map(|m| m.1)
        .chain(targets.iter().map(|t| t.1))
        .fold(1.0f64, f64::max)
        * 1.2;
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, 0f64..top)?;
    let day_only = x1 - x0 > 3.0 * 86_400.0;
    let label = move |t: &f64| {
        OffsetDateTime::from_unix_timestamp(*t as i64).map_or(String::new(), |d| {
            if day_only {
                format!("{}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
            } else {
                format!(
                    "{:02}-{:02} {:02}:{:02}",
                    d.month() as u8,
                    d.day(),
                    d.hour(),
                    d.minute()
                )
            }
        })
    };
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&label)
        .draw()?;
    if !targets.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(
                targets.iter().copied(),
                6,
                4,
                RED.stroke_width(2),
            ))?
            .label("target")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(2)));
    }
    if !measured.is_empty() {
        chart
            .draw_series(LineSeries::new(
                measured.iter().map(|m| (m.0, m.1)),
                BLUE.stroke_width(2),
            ))?
            .label("measured")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
        chart.draw_series(measured.iter().map(|m| {
            let colour = if m.2 { GREEN.mix(0.9) } else { RED.mix(0.9) };
            Circle::new((m.0, m.1), 4, colour.filled())
        }))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
