//! `mysql_dump` drills: the newest `mysqldump`/`mariadb-dump` file under an S3 prefix (or
//! the object a URI names exactly), plain or gzip, optionally `openssl enc`-encrypted, is
//! streamed into the `mariadb`/`mysql` client against a scratch database, verified, and
//! dropped.
//!
//! ```text
//! fetch    list, lock the scratch name (proves the credentials), download, recognise
//! restore  CREATE DATABASE drkit_drill_<run>; file -> decrypt -> gunzip -> rewrite -> client
//! verify   verify blocks and freshness_sql in the scratch database
//! teardown DROP DATABASE, remove the download: on every path
//! ```
//!
//! RPO: the dump's own `-- Dump completed on` line dates it. `mysqldump` writes the local
//! time of the dumping host without an offset: it is read in `dump_time_zone` (UTC unless
//! set). A date later than the object's upload cannot be right (the host's zone is east of
//! the one assumed) and falls back to `LastModified`, as does a dump without the line's date
//! (`--skip-dump-date`, `--skip-comments`); the report says which dated it.

use std::path::{Path, PathBuf};

use time::{OffsetDateTime, UtcOffset};

use crate::dump_drill::{self, DumpEngine, DumpObject};
use crate::mysql_stream::{self, FeedError, Head, Rewriter, Trailer};
use crate::report::rfc3339;
use crate::{mysql, CancellationToken, Clients, Decrypt, DrillReport, DrillSpec, Target};

/// A `mysqldump`/`mariadb-dump` file in S3.
#[derive(Debug, Clone)]
pub struct MysqlDumpSource {
    /// `s3://bucket/prefix/`: the newest object below is restored; a URI naming an object
    /// exactly restores that object.
    pub s3_uri: String,
    /// Region of the bucket.
    pub region: String,
    /// The dump is an `openssl enc` file: how to decrypt it (streamed, never on disk in
    /// plaintext).
    pub decrypt: Option<Decrypt>,
    /// The time zone of the dumping host's clock, in which `-- Dump completed on` is
    /// written; UTC by default.
    pub dump_time_zone: UtcOffset,
}

/// `dump_time_zone`: `UTC` (or `Z`) or a fixed offset `+HH:MM`/`-HH:MM`. Zone names
/// (`Europe/Berlin`) are refused: their offset changes with daylight saving time, and the
/// completion line does not say which applied.
pub fn parse_utc_offset(s: &str) -> Result<UtcOffset, String> {
    if matches!(s, "UTC" | "Z" | "utc") {
        return Ok(UtcOffset::UTC);
    }
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(s, format).map_err(|_| {
        format!("dump_time_zone = {s:?}: write \"UTC\" or the dumping host's UTC offset such as \"+02:00\" or \"-05:00\" (a zone name is ambiguous across daylight saving time)")
    })
}

/// A completion time later than the upload by more than this is not believed.
const UPLOAD_SLACK_SECONDS: i64 = 60;

pub(crate) async fn run(
    spec: &DrillSpec,
    src: &MysqlDumpSource,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let target = match &spec.target {
        Some(t) if t.engine.is_mysql() => t,
        Some(t) => {
            return Err(format!(
                "a mysql_dump drill restores onto a MySQL or MariaDB server, but target.engine is {}: set engine = \"mysql\" or \"mariadb\"",
                t.engine
            ))
        }
        None => {
            return Err(
                "a mysql_dump drill needs a target block: the MySQL or MariaDB server to restore onto".into(),
            )
        }
    };
    let object = DumpObject {
        s3_uri: &src.s3_uri,
        region: &src.region,
    };
    dump_drill::run(
        &Mysql { src },
        object,
        spec,
        target,
        clients,
        cancel,
        report,
    )
    .await
}

/// The MySQL/MariaDB half of a dump drill: the dump streamed into the client.
struct Mysql<'a> {
    src: &'a MysqlDumpSource,
}

impl DumpEngine for Mysql<'_> {
    type Lock = mysql_async::Conn;
    type Prepared = (PathBuf, Head);

    async fn hold(
        &self,
        target: &Target,
        scratch: &str,
        object: &str,
    ) -> Result<Self::Lock, String> {
        mysql::hold(target, scratch)
            .await
            .map_err(|e| format!("{object}: {e}"))
    }

    async fn prepare(
        &self,
        downloaded: PathBuf,
        object: &str,
        report: &mut DrillReport,
    ) -> Result<Self::Prepared, String> {
        let head = {
            let (path, decrypt, object) = (
                downloaded.clone(),
                self.src.decrypt.clone(),
                object.to_string(),
            );
            tokio::task::spawn_blocking(move || {
                mysql_stream::sniff(&path, decrypt.as_ref(), &object)
            })
            .await
            .map_err(|e| format!("inspecting the dump: {e}"))??
        };
        if let Some(d) = &self.src.decrypt {
            report.notes.push(format!(
                "{object} decrypted ({:?}) while streamed into the restore; no plaintext copy on disk",
                d.cipher
            ));
        }
        match &head.header {
            Some(h) => report.notes.push(format!("{object} was written by {h}")),
            None => report.notes.push(format!(
                "{object} has no mysqldump header comment (--skip-comments?): a cut-off dump cannot be told from a complete one, and it is dated by its LastModified"
            )),
        }
        Ok((downloaded, head))
    }

    async fn create_scratch(
        &self,
        target: &Target,
        scratch: &str,
        object: &str,
    ) -> Result<(), String> {
        mysql::create_scratch(target, scratch)
            .await
            .map_err(|e| format!("{object}: {e}"))
    }

    async fn restore(
        &self,
        target: &Target,
        scratch: &str,
        (downloaded, head): &Self::Prepared,
        object: &str,
        report: &mut DrillReport,
        modified: OffsetDateTime,
        listed_at: OffsetDateTime,
    ) -> Result<(), String> {
        let rewriter = restore(target, scratch, downloaded, self.src, head, object).await?;
        if let Some(db) = &rewriter.source_database {
            report.notes.push(format!(
                "{object} creates its own database `{db}` (mysqldump --databases): its {} database statements were pointed at the scratch database {scratch}",
                rewriter.rewritten
            ));
        }
        if rewriter.gtid_purged_skipped > 0 {
            report.notes.push(format!(
                "{object} sets @@GLOBAL.GTID_PURGED (mysqldump --set-gtid-purged, the default on a server with GTIDs): left out, a drill does not change the target server's replication state"
            ));
        }
        date_by_trailer(report, &rewriter.trailer(), self.src, modified, listed_at);
        Ok(())
    }

    async fn drop_scratch(&self, target: &Target, scratch: &str) -> Result<(), String> {
        mysql::drop_scratch(target, scratch).await
    }

    async fn release(&self, lock: Self::Lock) {
        let _ = lock.disconnect().await;
    }
}

/// Streams the dump into the client; returns the rewriter (what it saw at the end). A cut
/// dump fails here, after the client ran what it got: the scratch database takes it.
async fn restore(
    target: &Target,
    scratch: &str,
    path: &Path,
    src: &MysqlDumpSource,
    head: &Head,
    object: &str,
) -> Result<Rewriter, String> {
    use std::process::Stdio;
    use tokio::io::AsyncReadExt;

    let mut cmd = mysql::client_command(target, scratch)?;
    cmd.args([
        "--batch",
        "--binary-mode",
        // The server's max_allowed_packet still applies; the client's must not be lower.
        "--max-allowed-packet=1073741824",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let tool = cmd.as_std().get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {tool}: {e}"))?;
    let stdin = child
        .stdin
        .take()
        .ok_or("no stdin")?
        .into_owned_fd()
        .map_err(|e| e.to_string())?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let errors = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    });
    let plain = mysql_stream::open_plain(path, src.decrypt.as_ref(), head.gzip)
        .map_err(|e| format!("{object}: {e}"))?;
    let mut rewriter = Rewriter::new(scratch);
    let fed = tokio::task::spawn_blocking(move || {
        let out = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::from(stdin));
        let fed = mysql_stream::feed(plain, &mut rewriter, out);
        (fed, rewriter)
    });
    let (fed, rewriter) = fed.await.map_err(|e| format!("streaming the dump: {e}"))?;
    let input_error = |e: &str| {
        if src.decrypt.is_some() && e.contains("bad decrypt") {
            format!("cannot decrypt {object}: {e}")
        } else if head.gzip {
            format!("{object} does not decompress (cut off or corrupt gzip): {e}")
        } else {
            format!("{object}: {e}")
        }
    };
    if let Err(FeedError::Input(e)) = &fed {
        // The stream is bad: the client must not run what it has left.
        let _ = child.kill().await;
        return Err(input_error(e));
    }
    let status = child.wait().await.map_err(|e| format!("{tool}: {e}"))?;
    let stderr = errors.await.unwrap_or_default();
    let cut = head.header.is_some() && rewriter.trailer() == Trailer::Missing;
    let truncated = format!(
        "{object} is truncated: it ends without mysqldump's `-- Dump completed` line (it was cut off, or is still being written)"
    );
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
        let tool = Path::new(&tool)
            .file_name()
            .map_or(tool.clone(), |n| n.to_string_lossy().into_owned());
        return Err(if cut {
            format!("{truncated}; {tool} failed ({status}): {tail}")
        } else {
            format!("{tool} failed ({status}) restoring {object}: {tail}")
        });
    }
    if let Err(FeedError::Pipe(e)) = fed {
        return Err(format!("{tool} stopped reading {object}: {e}"));
    }
    if cut {
        return Err(format!(
            "{truncated}; what it held was restored, and dropped"
        ));
    }
    Ok(rewriter)
}

/// Dates the dump by its completion line when it has a believable one.
fn date_by_trailer(
    report: &mut DrillReport,
    trailer: &Trailer,
    src: &MysqlDumpSource,
    modified: OffsetDateTime,
    listed_at: OffsetDateTime,
) {
    let object = report.restored_from.clone().unwrap_or_default();
    match trailer {
        Trailer::At(local) => {
            let completed = local.assume_offset(src.dump_time_zone);
            let zone = src
                .dump_time_zone
                .format(time::macros::format_description!(
                    "[offset_hour sign:mandatory]:[offset_minute]"
                ))
                .unwrap_or_default();
            let local = local
                .format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second]"
                ))
                .unwrap_or_default();
            if (completed - modified).whole_seconds() > UPLOAD_SLACK_SECONDS {
                report.notes.push(format!(
                    "{object} says it completed at {local} (read as UTC{zone}), after its upload at {}: the dumping host's clock is not in that zone; dated by LastModified instead (set dump_time_zone to the host's UTC offset)",
                    rfc3339(modified)
                ));
                return;
            }
            report.restore_point = Some(rfc3339(completed));
            report.set_rpo((listed_at - completed).as_seconds_f64());
            report.rpo_from = Some(format!(
                "the dump's `-- Dump completed on {local}` line, read as UTC{zone}"
            ));
        }
        Trailer::Undated => report.notes.push(format!(
            "{object} ends with an undated `-- Dump completed` (--skip-dump-date): dated by LastModified"
        )),
        // A dump without comments; a cut one has failed the restore already.
        Trailer::Missing => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    fn report() -> DrillReport {
        let spec = DrillSpec {
            name: "t".into(),
            source: crate::Source::MysqlDump(source(offset!(UTC))),
            target: None,
            verify: Vec::new(),
            freshness_sql: None,
            targets: crate::Targets {
                rpo: None,
                rto: None,
            },
            timeout: std::time::Duration::from_secs(1),
            run_id: "t".into(),
        };
        let mut r = DrillReport::start(&spec);
        r.restored_from = Some("s3://b/k".into());
        r
    }

    fn source(zone: UtcOffset) -> MysqlDumpSource {
        MysqlDumpSource {
            s3_uri: "s3://b/".into(),
            region: "us-east-1".into(),
            decrypt: None,
            dump_time_zone: zone,
        }
    }

    #[test]
    fn time_zones_are_utc_or_fixed_offsets() {
        assert_eq!(parse_utc_offset("UTC").unwrap(), UtcOffset::UTC);
        assert_eq!(parse_utc_offset("+02:00").unwrap(), offset!(+2));
        assert_eq!(parse_utc_offset("-05:30").unwrap(), offset!(-5:30));
        assert!(parse_utc_offset("Europe/Berlin")
            .unwrap_err()
            .contains("+02:00"));
        assert!(parse_utc_offset("2").is_err());
    }

    #[test]
    fn the_completion_line_dates_the_dump_in_its_hosts_zone() {
        let modified = datetime!(2026-12-06 18:21:00 UTC);
        let listed = datetime!(2026-12-06 19:00:00 UTC);
        let trailer = Trailer::At(datetime!(2026-12-06 18:20:00));
        let mut r = report();
        date_by_trailer(&mut r, &trailer, &source(offset!(UTC)), modified, listed);
        assert_eq!(r.measured_rpo_seconds, Some(2400.0));
        assert!(r.rpo_from.as_deref().unwrap().contains("UTC+00:00"));
        // A host two hours east of UTC wrote 20:20 for 18:20 UTC.
        let mut r = report();
        let east = Trailer::At(datetime!(2026-12-06 20:20:00));
        date_by_trailer(&mut r, &east, &source(offset!(+2)), modified, listed);
        assert_eq!(r.measured_rpo_seconds, Some(2400.0));
        // Read as UTC, that time is after the upload: not believed.
        let mut r = report();
        date_by_trailer(&mut r, &east, &source(offset!(UTC)), modified, listed);
        assert_eq!(r.measured_rpo_seconds, None);
        assert!(r.notes[0].contains("set dump_time_zone"), "{:?}", r.notes);
    }
}
