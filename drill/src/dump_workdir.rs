//! What the two dump drills (`postgres_dump`, `mysql_dump`) share around their restore:
//! the download directory a sweep can find, and the teardown steps of the scratch database
//! and of that directory.

use tempfile::TempDir;

use crate::{DrillReport, Target, TeardownStep};

/// A directory for the download (`$TMPDIR/drkit-drill-*`) with this process as its owner:
/// a drill killed before its teardown leaves it, and the next sweep removes it.
pub(crate) fn create() -> Result<TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix(crate::pitr_server::DUMP_DIR_PREFIX)
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    crate::pitr_server::write_owner_marker(dir.path())?;
    Ok(dir)
}

/// Records the drop of the scratch database `scratch` on `target`.
pub(crate) fn record_scratch_drop(
    report: &mut DrillReport,
    target: &Target,
    scratch: &str,
    dropped: Result<(), String>,
) {
    report.teardown.push(TeardownStep {
        what: format!(
            "scratch database {scratch} on {}:{}",
            target.host, target.port
        ),
        ok: dropped.is_ok(),
        error: dropped.err(),
    });
}

/// Removes the download directory and records it.
pub(crate) fn remove(report: &mut DrillReport, dir: TempDir) {
    let path = dir.path().display().to_string();
    let removed = dir.close();
    report.teardown.push(TeardownStep {
        what: format!("downloaded dump in {path}"),
        ok: removed.is_ok(),
        error: removed.err().map(|e| e.to_string()),
    });
}
