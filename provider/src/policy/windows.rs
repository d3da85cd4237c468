//! RDS time windows: the daily backup window (`hh24:mi-hh24:mi`, UTC) and the weekly
//! maintenance window (`ddd:hh24:mi-ddd:hh24:mi`). RDS rejects a backup window that
//! overlaps the maintenance window, so the provider checks it at plan time.

const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A daily window in minutes after midnight UTC; `end` may be smaller than `start` when
/// the window crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    /// Start, minutes after 00:00 UTC.
    pub start: u32,
    /// End, minutes after 00:00 UTC.
    pub end: u32,
}

/// A weekly window in minutes after Monday 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyWindow {
    /// Start, minutes after Monday 00:00 UTC.
    pub start: u32,
    /// End, minutes after Monday 00:00 UTC.
    pub end: u32,
}

fn hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn length(start: u32, end: u32, period: u32) -> u32 {
    (end + period - start) % period
}

/// Parses a backup window such as `03:00-04:00`; the message says what is wrong.
pub fn parse_backup_window(text: &str) -> Result<DailyWindow, String> {
    let bad = || {
        format!(
            "{text:?} is not a backup window: use \"hh24:mi-hh24:mi\" in UTC, such as \
             \"03:00-04:00\""
        )
    };
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let w = DailyWindow {
        start: hhmm(a).ok_or_else(bad)?,
        end: hhmm(b).ok_or_else(bad)?,
    };
    if length(w.start, w.end, DAY) < 30 {
        return Err(format!(
            "backup window {text:?} is shorter than the 30 minutes RDS requires"
        ));
    }
    Ok(w)
}

fn day_hhmm(text: &str) -> Option<u32> {
    let (day, rest) = text.split_once(':')?;
    let d = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day))? as u32;
    Some(d * DAY + hhmm(rest)?)
}

/// Parses a maintenance window such as `sun:05:00-sun:06:00`.
pub fn parse_maintenance_window(text: &str) -> Option<WeeklyWindow> {
    let mut parts = text.splitn(2, '-');
    let start = day_hhmm(parts.next()?)?;
    let end = day_hhmm(parts.next()?)?;
    Some(WeeklyWindow { start, end })
}

fn overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    // Both intervals are within [0, 2*WEEK) with start < end.
    a.0 < b.1 && b.0 < a.1
}

/// Splits a weekly interval that may wrap around Sunday midnight into plain intervals.
fn weekly_intervals(start: u32, end: u32) -> Vec<(u32, u32)> {
    if start < end {
        vec![(start, end)]
    } else {
        vec![(start, WEEK), (0, end)]
    }
}

/// True when the daily backup window meets the weekly maintenance window on any day.
pub fn windows_overlap(backup: DailyWindow, maintenance: WeeklyWindow) -> bool {
    let maint = weekly_intervals(maintenance.start, maintenance.end);
    (0..7).any(|day| {
        let start = day * DAY + backup.start;
        let end = start + length(backup.start, backup.end, DAY);
        weekly_intervals(start % WEEK, end % WEEK)
            .iter()
            .any(|b| maint.iter().any(|m| overlaps(*b, *m)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_window_shapes() {
        assert_eq!(
            parse_backup_window("03:00-04:00"),
            Ok(DailyWindow {
                start: 180,
                end: 240
            })
        );
        assert!(parse_backup_window("23:45-00:30").is_ok());
        for bad in [
            "3:00-4:00",
            "03:00",
            "25:00-26:00",
            "03:00-03:10",
            "mon:03:00-mon:04:00",
        ] {
            assert!(parse_backup_window(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_on_the_maintenance_day_only_matters() {
        let maint = parse_maintenance_window("sun:05:00-sun:06:00").unwrap();
        assert!(windows_overlap(
            parse_backup_window("05:30-06:30").unwrap(),
            maint
        ));
        assert!(!windows_overlap(
            parse_backup_window("03:00-04:00").unwrap(),
            maint
        ));
        assert!(!windows_overlap(
            parse_backup_window("06:00-07:00").unwrap(),
            maint
        ));
    }

    #[test]
    fn windows_crossing_midnight_and_the_week_end() {
        let maint = parse_maintenance_window("sun:23:30-mon:00:30").unwrap();
        assert!(windows_overlap(
            parse_backup_window("00:00-01:00").unwrap(),
            maint
        ));
        assert!(windows_overlap(
            parse_backup_window("23:00-23:45").unwrap(),
            maint
        ));
        assert!(!windows_overlap(
            parse_backup_window("01:00-02:00").unwrap(),
            maint
        ));
        let wed = parse_maintenance_window("wed:06:38-wed:07:08").unwrap();
        assert!(windows_overlap(
            parse_backup_window("06:50-07:30").unwrap(),
            wed
        ));
    }
}
