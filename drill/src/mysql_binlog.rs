//! `mysql_binlog` drills: point-in-time recovery of MySQL/MariaDB, the counterpart of
//! `postgres_pitr`. A full dump taken with `--source-data=2` (`--master-data=2`) records the
//! binlog file and position of its snapshot; the archived binlog files from there are
//! replayed with `mariadb-binlog --start-position ... --stop-datetime ...` into a temporary
//! server the drill starts and removes.
//!
//! ```text
//! fetch    list dumps and binlogs, choose the dump and the target, read the dump's
//!          coordinates (a ranged GET of its head), check the sequence -- nothing local yet;
//!          then download the dump and the binlog files
//! restore  bootstrap and start the temporary server, stream the dump into it
//! replay   mariadb-binlog (start position, stop datetime) -> client
//! verify   verify checks and freshness_sql in the dump's first database
//! teardown stop the server, remove the directory: on every path
//! ```
//!
//! Binlog event times have whole seconds: the target is replayed up to and including its
//! second. A transaction is recovered when its commit is at or before the target.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::archive_plan::TargetTime;
use crate::binlog::{self, ArchivedBinlog, BinlogArchive, Coordinates};
use crate::mysql_server::{self, last_lines, MysqlServer, Programs};
use crate::mysql_stream;
use crate::pitr_drill::{self, PitrEngine, Recovered, Started, Steps};
use crate::pitr_server::Workdir;
use crate::postgres_dump::{download, parse_s3_uri};
use crate::postgres_pitr::list;
use crate::report::rfc3339;
use crate::selection::Listed;
use crate::{CancellationToken, Clients, Decrypt, DrillReport, DrillSpec};

/// A `--source-data=2` dump and a binlog archive in S3.
#[derive(Debug, Clone)]
pub struct MysqlBinlogSource {
    /// `s3://bucket/prefix/`: the full dumps (`mysqldump`/`mariadb-dump` with
    /// `--single-transaction --source-data=2`, plain or gzip); an exact object URI pins one.
    pub base_dump_uri: String,
    /// `s3://bucket/prefix/`: the binlog files (`mysql-bin.000042`, optionally `.gz`).
    pub binlog_uri: String,
    /// The point to recover to.
    pub target_time: TargetTime,
    /// Region of both buckets.
    pub region: String,
    /// The dumps are `openssl enc` files: how to decrypt them.
    pub decrypt: Option<Decrypt>,
    /// Directory of `mariadbd`, `mariadb-install-db` and `mariadb-binlog`; default PATH,
    /// `/usr/sbin`, `/usr/bin`.
    pub bin_dir: Option<PathBuf>,
}

/// What a binlog drill restored and how replay went (in the report as `binlog`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BinlogDetails {
    /// The dump restored.
    pub base_dump: String,
    /// Its upload time (it completed before).
    pub base_dump_uploaded: String,
    /// Where replay started: `mysql-bin.000042:1234`.
    pub start: String,
    /// The dump's GTID position, when it wrote one.
    pub gtid: Option<String>,
    /// The point recovered to (RFC 3339); none for `latest`.
    pub target_time: Option<String>,
    /// Whether the target was chosen at random.
    pub target_random: bool,
    /// First and last binlog file replayed.
    pub binlog_range: Vec<String>,
    /// Binlog files read by replay.
    pub files_replayed: usize,
    /// Their bytes (decompressed).
    pub bytes_replayed: u64,
    /// The last transaction replayed at or before the target (RFC 3339).
    pub last_replayed_event: Option<String>,
    /// Age of the newest archived binlog file when the drill listed the archive: what a
    /// disaster would lose right now.
    pub archive_lag_seconds: Option<f64>,
    /// The newest archived binlog file.
    pub newest_binlog: Option<String>,
    /// The databases the dump created, where checks run (the first).
    pub databases: Vec<String>,
    /// The temporary server's log's last lines, when the drill failed.
    pub server_log_tail: Vec<String>,
}

impl BinlogDetails {
    /// A markdown section for the report.
    pub fn to_markdown(&self) -> String {
        let mut md = String::from("\n## Binlog point-in-time recovery\n\n");
        md.push_str(&format!(
            "- base dump: {} (uploaded {}), replay from {}{}\n",
            self.base_dump,
            self.base_dump_uploaded,
            self.start,
            self.gtid
                .as_deref()
                .map_or(String::new(), |g| format!(" (GTID {g})"))
        ));
        md.push_str(&crate::report::target_line(
            self.target_time.as_deref(),
            self.target_random,
        ));
        md.push_str(&format!(
            "- binlogs: {}; {} files, {} bytes replayed\n",
            self.binlog_range.join(" .. "),
            self.files_replayed,
            self.bytes_replayed
        ));
        md.push_str(&crate::report::last_replayed_line(
            "transaction",
            self.last_replayed_event.as_deref(),
            self.archive_lag_seconds,
        ));
        md.push_str(&crate::report::log_tail_markdown(&self.server_log_tail));
        md
    }
}

/// The database the client starts in: the dump's and the binlog's own `USE` statements
/// choose theirs.
const CLIENT_DATABASE: &str = "mysql";
/// Bytes of a dump read for its coordinates (they follow the header and session settings).
const HEAD_BYTES: u64 = 1 << 20;

/// The dump chosen, where replay starts, and what it reads.
struct Plan {
    dump: Listed,
    dump_uri: String,
    coordinates: Coordinates,
    files: Vec<ArchivedBinlog>,
    target: Option<OffsetDateTime>,
    random: bool,
}

pub(crate) async fn run(
    spec: &DrillSpec,
    src: &MysqlBinlogSource,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let deadline = Instant::now() + spec.timeout;
    report.phase("fetch");
    let progs = mysql_server::programs(src.bin_dir.as_deref())?;
    let s3 = clients.s3(&src.region);
    let engine = MysqlBinlog {
        src,
        progs: &progs,
        s3: &s3,
    };
    let steps = Steps {
        spec,
        cancel,
        deadline,
    };
    pitr_drill::run(&engine, steps, report, BinlogDetails::default()).await
}

/// A binlog drill: MySQL's half of the [`pitr_drill`] skeleton.
struct MysqlBinlog<'a> {
    src: &'a MysqlBinlogSource,
    progs: &'a Programs,
    s3: &'a aws_sdk_s3::Client,
}

impl PitrEngine for MysqlBinlog<'_> {
    type Details = BinlogDetails;
    type Server = MysqlServer;
    type Fetcher = ();
    const SERVER: &'static str = "temporary MariaDB server";
    const WORKDIR_HOLDS: &'static str = "data directory and downloads";

    fn workdir(&self, run_id: &str) -> Result<Workdir, String> {
        Workdir::create_for(run_id, "mysql")
    }

    async fn recover(
        &self,
        steps: &Steps<'_>,
        dir: &Workdir,
        report: &mut DrillReport,
        details: &mut BinlogDetails,
        started: &mut Started<MysqlServer, ()>,
    ) -> Result<Recovered, String> {
        let (src, progs, s3) = (self.src, self.progs, self.s3);
        // Everything is checked before anything is downloaded or started.
        let plan = steps
            .guarded(
                "listing the dumps and the binlog archive",
                make_plan(s3, src, dir, details),
            )
            .await?;
        details.base_dump = plan.dump_uri.clone();
        details.base_dump_uploaded = rfc3339(plan.dump.modified);
        details.start = format!("{}:{}", plan.coordinates.file, plan.coordinates.position);
        details.gtid = plan.coordinates.gtid.clone();
        details.target_time = plan.target.map(rfc3339);
        details.target_random = plan.random;
        details.binlog_range = [plan.files.first(), plan.files.last()]
            .iter()
            .flatten()
            .map(|f| f.name.file())
            .collect();
        report.restored_from = Some(plan.dump_uri.clone());
        report.restore_point = plan.target.map(rfc3339);

        let (dump_bucket, _) = parse_s3_uri(&src.base_dump_uri)?;
        let (binlog_bucket, _) = parse_s3_uri(&src.binlog_uri)?;
        let dump_path = dir.downloads().join("dump");
        steps
            .guarded(
                "downloading the dump",
                download(s3, &dump_bucket, &plan.dump.key, &dump_path),
            )
            .await?;
        let mut binlogs = Vec::new();
        for f in &plan.files {
            let path = dir.downloads().join(f.name.file());
            steps
                .guarded(
                    "downloading the binlogs",
                    fetch_binlog(s3, &binlog_bucket, f, &path),
                )
                .await?;
            binlogs.push(path);
        }
        details.files_replayed = binlogs.len();
        details.bytes_replayed = binlogs
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();

        report.phase("restore");
        started.server = Some(
            steps
                .guarded(
                    "starting the temporary server",
                    mysql_server::start(dir, progs),
                )
                .await?,
        );
        let srv = started.server.as_ref().expect("started");
        steps
            .guarded(
                "restoring the dump",
                restore_dump(srv, &dump_path, src.decrypt.as_ref(), &plan.dump_uri),
            )
            .await?;
        let _ = std::fs::remove_file(&dump_path);
        details.databases = steps
            .guarded("listing the restored databases", restored_databases(srv))
            .await?;
        let Some(database) = details.databases.first().cloned() else {
            return Err(format!(
                "{} created no database: it is a dump of one database without --databases (the binlog events name their databases, so the dump must create them: take it with --databases or --all-databases)",
                plan.dump_uri
            ));
        };

        report.phase("replay");
        let last = steps
            .guarded("binlog replay", replay(srv, progs, &plan, &binlogs))
            .await?;
        details.last_replayed_event = last.map(rfc3339);
        let point = plan.target.unwrap_or_else(OffsetDateTime::now_utc);
        match last {
            Some(t) => {
                report.set_rpo((point - t).as_seconds_f64().max(0.0));
                report.rpo_from = Some("the last replayed binlog transaction".into());
            }
            None => {
                // Nothing after the dump: the dump's snapshot is the newest data, and it was
                // taken before its upload.
                report.set_rpo((point - plan.dump.modified).as_seconds_f64().max(0.0));
                report.rpo_from = Some(
                    "the dump's upload (no binlog transaction after its coordinates up to the target)"
                        .into(),
                );
            }
        }
        Ok(Recovered {
            target: srv.target(&database),
            database,
            point: plan.target,
        })
    }

    fn settle(
        &self,
        _dir: &Workdir,
        _fetcher: Option<&()>,
        log_tail: Option<Vec<String>>,
        details: &mut BinlogDetails,
    ) {
        if let Some(tail) = log_tail {
            details.server_log_tail = tail;
        }
    }

    fn record(report: &mut DrillReport, details: BinlogDetails) {
        report.binlog = Some(details);
    }
}

/// Lists both locations, chooses the dump and the target, reads the dump's coordinates and
/// checks the binlog sequence from there. The archive's lag is recorded as soon as it is
/// listed: a plan that fails keeps it.
async fn make_plan(
    s3: &aws_sdk_s3::Client,
    src: &MysqlBinlogSource,
    dir: &Workdir,
    details: &mut BinlogDetails,
) -> Result<Plan, String> {
    let archive = read_archive(s3, &src.binlog_uri).await?;
    let newest = archive.newest();
    details.archive_lag_seconds = newest.map(|o| pitr_drill::archive_lag_seconds(o.uploaded));
    details.newest_binlog = newest.map(|o| o.name.file());
    let (bucket, prefix) = parse_s3_uri(&src.base_dump_uri)?;
    let mut dumps: Vec<Listed> = list(s3, &bucket, &prefix)
        .await?
        .into_iter()
        .filter(|l| !l.key.ends_with('/') && l.size > 0)
        .collect();
    if let Some(exact) = dumps.iter().position(|l| l.key == prefix) {
        dumps = vec![dumps.swap_remove(exact)];
    }
    dumps.sort_by_key(|l| l.modified);
    let (Some(oldest), Some(newest_dump)) = (dumps.first(), dumps.last()) else {
        return Err(format!(
            "no dump under s3://{bucket}/{prefix}: nothing to restore"
        ));
    };
    let newest_binlog = archive.newest().map(|f| f.uploaded);
    let (target, random) = match src.target_time {
        TargetTime::Latest => (None, false),
        TargetTime::At(t) => (Some(t), false),
        TargetTime::Random => {
            let end = newest_binlog
                .unwrap_or(newest_dump.modified)
                .max(oldest.modified);
            let span = (end - oldest.modified).as_seconds_f64();
            (
                Some(oldest.modified + time::Duration::seconds_f64(span * fastrand::f64())),
                true,
            )
        }
    };
    let dump = match target {
        None => newest_dump,
        Some(t) => dumps.iter().rev().find(|d| d.modified <= t).ok_or_else(|| {
            format!(
                "target_time {} is before the oldest dump under s3://{bucket}/{prefix} (uploaded {}): no dump completed before it to replay from",
                rfc3339(t),
                rfc3339(oldest.modified)
            )
        })?,
    };
    let dump_uri = format!("s3://{bucket}/{}", dump.key);
    let coordinates = read_coordinates(s3, &bucket, &dump.key, src.decrypt.as_ref(), dir)
        .await?
        .ok_or_else(|| {
            format!(
                "{dump_uri} has no binlog coordinates (no CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO comment): take the dump with --source-data=2 (MySQL 8.0.26+) or --master-data=2 (MariaDB, older MySQL)"
            )
        })?;
    let files = binlog::replay_files(&archive, &coordinates)
        .map_err(|e| format!("{}: {e}", archive.uri))?
        .into_iter()
        .cloned()
        .collect();
    let plan = Plan {
        dump: Listed {
            key: dump.key.clone(),
            size: dump.size,
            modified: dump.modified,
        },
        dump_uri,
        coordinates,
        files,
        target,
        random,
    };
    Ok(plan)
}

/// The binlog files directly under `uri`.
pub(crate) async fn read_archive(
    s3: &aws_sdk_s3::Client,
    uri: &str,
) -> Result<BinlogArchive, String> {
    let (bucket, prefix) = parse_s3_uri(uri)?;
    let mut archive = BinlogArchive {
        uri: format!("s3://{bucket}/{prefix}"),
        ..BinlogArchive::default()
    };
    for l in list(s3, &bucket, &prefix).await? {
        if let Some(name) = l.key.strip_prefix(&prefix).filter(|n| !n.contains('/')) {
            archive.add(&l.key, name, l.size, l.modified);
        }
    }
    Ok(archive)
}

/// The coordinates in the first bytes of the dump `key` (a ranged GET; decrypted and
/// gunzipped as far as they go).
pub(crate) async fn read_coordinates(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    decrypt: Option<&Decrypt>,
    dir: &Workdir,
) -> Result<Option<Coordinates>, String> {
    let obj = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes=0-{}", HEAD_BYTES - 1))
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
    let head = obj
        .body
        .collect()
        .await
        .map_err(|e| format!("reading s3://{bucket}/{key}: {e}"))?
        .into_bytes();
    let path = dir.downloads().join("head");
    std::fs::write(&path, &head).map_err(|e| format!("{}: {e}", path.display()))?;
    let object = format!("s3://{bucket}/{key}");
    let decrypt = decrypt.cloned();
    let text = tokio::task::spawn_blocking(move || {
        let sniffed = mysql_stream::sniff(&path, decrypt.as_ref(), &object)?;
        let plain = mysql_stream::open_plain(&path, decrypt.as_ref(), sniffed.gzip)?;
        let text = mysql_stream::read_head(plain, HEAD_BYTES as usize * 8)
            .map_err(|e| format!("{object}: {e}"))?;
        let _ = std::fs::remove_file(&path);
        Ok::<_, String>(String::from_utf8_lossy(&text).into_owned())
    })
    .await
    .map_err(|e| format!("reading the dump's head: {e}"))??;
    Ok(binlog::parse_coordinates(&text))
}

/// Downloads one binlog file to `to`, gunzipped.
async fn fetch_binlog(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    file: &ArchivedBinlog,
    to: &Path,
) -> Result<(), String> {
    if !file.name.gzip {
        return download(s3, bucket, &file.key, to).await;
    }
    let gz = to.with_extension("download.gz");
    download(s3, bucket, &file.key, &gz).await?;
    let object = format!("s3://{bucket}/{}", file.key);
    let (gz2, to2) = (gz.clone(), to.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let input = std::fs::File::open(&gz2).map_err(|e| e.to_string())?;
        let mut decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(input));
        let mut out = std::fs::File::create(&to2).map_err(|e| e.to_string())?;
        std::io::copy(&mut decoder, &mut out)
            .map_err(|e| format!("{object} is not valid gzip: {e}"))?;
        let _ = std::fs::remove_file(&gz2);
        Ok::<_, String>(())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Streams the dump into the temporary server as it is (its own database statements
/// create the databases the binlog events name).
async fn restore_dump(
    srv: &MysqlServer,
    path: &Path,
    decrypt: Option<&Decrypt>,
    object: &str,
) -> Result<(), String> {
    let (head, creates_database) = {
        let (path, decrypt, object) = (path.to_path_buf(), decrypt.cloned(), object.to_string());
        tokio::task::spawn_blocking(move || {
            let head = mysql_stream::sniff(&path, decrypt.as_ref(), &object)?;
            let plain = mysql_stream::open_plain(&path, decrypt.as_ref(), head.gzip)?;
            let text = mysql_stream::read_head(plain, HEAD_BYTES as usize)
                .map_err(|e| format!("{object}: {e}"))?;
            let creates = String::from_utf8_lossy(&text).contains("\nCREATE DATABASE ");
            Ok::<_, String>((head, creates))
        })
        .await
        .map_err(|e| e.to_string())??
    };
    if !creates_database {
        // Binlog events name their database: the copy needs the dump to create it.
        return Err(format!(
            "{object} creates no database (a dump of one database without --databases): binlog events name the database they change, so take the dump with --databases (or --all-databases)"
        ));
    }
    let plain =
        mysql_stream::open_plain(path, decrypt, head.gzip).map_err(|e| format!("{object}: {e}"))?;
    let mut client = srv_client(srv, CLIENT_DATABASE)?;
    client.args(["--binary-mode", "--max-allowed-packet=1073741824"]);
    let (tail, status, stderr) = pipe_into(client, move |out| {
        // The last bytes tell a complete dump from a cut one.
        let mut tail = Vec::new();
        let mut reader = std::io::BufReader::with_capacity(256 * 1024, plain);
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            out.write_all(buf)?;
            tail.extend_from_slice(&buf[buf.len().saturating_sub(1024)..]);
            if tail.len() > 4096 {
                tail.drain(..tail.len() - 1024);
            }
            let n = buf.len();
            reader.consume(n);
        }
        Ok(tail)
    })
    .await?;
    let tail = tail.map_err(|e| {
        if decrypt.is_some() && e.to_string().contains("bad decrypt") {
            format!("cannot decrypt {object}: {e}")
        } else {
            format!("{object}: {e}")
        }
    })?;
    let cut =
        head.header.is_some() && !String::from_utf8_lossy(&tail).contains("-- Dump completed");
    if !status.success() {
        return Err(format!(
            "restoring {object} into the temporary server failed ({status}): {stderr}{}",
            if cut {
                " (the dump is truncated: it ends without `-- Dump completed`)"
            } else {
                ""
            }
        ));
    }
    if cut {
        return Err(format!(
            "{object} is truncated: it ends without mysqldump's `-- Dump completed` line (it was cut off, or is still being written)"
        ));
    }
    Ok(())
}

/// The client, as the check user, on the temporary server.
fn srv_client(srv: &MysqlServer, database: &str) -> Result<tokio::process::Command, String> {
    let mut cmd = crate::mysql::client_command(&srv.target(database), database)?;
    cmd.arg("--batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Ok(cmd)
}

/// Runs `client` with `feed` writing its stdin (on a blocking thread); returns what `feed`
/// returned, the client's exit status and its stderr's last lines.
async fn pipe_into<T: Send + 'static>(
    mut client: tokio::process::Command,
    feed: impl FnOnce(&mut dyn Write) -> std::io::Result<T> + Send + 'static,
) -> Result<(std::io::Result<T>, std::process::ExitStatus, String), String> {
    use tokio::io::AsyncReadExt;
    let mut child = client
        .spawn()
        .map_err(|e| format!("cannot run the client: {e}"))?;
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
    let fed = tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::from(stdin));
        let r = feed(&mut out);
        r.and_then(|t| out.flush().map(|_| t))
    })
    .await
    .map_err(|e| e.to_string())?;
    if fed.is_err() {
        // Whatever the client got so far must not be taken as the whole input.
        let _ = child.kill().await;
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    let stderr = errors.await.unwrap_or_default();
    Ok((
        fed,
        status,
        last_lines(&String::from_utf8_lossy(&stderr), 5),
    ))
}

/// The databases the dump created (the system schemas aside).
async fn restored_databases(srv: &MysqlServer) -> Result<Vec<String>, String> {
    use mysql_async::prelude::Queryable;
    let mut conn = crate::mysql::connect(&srv.target(""), "").await?;
    let names: Result<Vec<String>, _> = conn
        .query(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY schema_name",
        )
        .await;
    let _ = conn.disconnect().await;
    names.map_err(|e| crate::mysql::error_text(&e))
}

/// `mariadb-binlog --start-position P [--stop-datetime T+1s] files... | client`; returns
/// the time of the last transaction replayed.
async fn replay(
    srv: &MysqlServer,
    progs: &Programs,
    plan: &Plan,
    files: &[PathBuf],
) -> Result<Option<OffsetDateTime>, String> {
    let mut decoder = std::process::Command::new(&progs.binlog);
    decoder
        .arg("--no-defaults")
        .arg(format!("--start-position={}", plan.coordinates.position));
    if let Some(t) = plan.target {
        decoder.arg(format!("--stop-datetime={}", stop_datetime(t)));
    }
    decoder
        .args(files)
        // --stop-datetime is read in the local zone.
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let tool = progs
        .binlog
        .file_name()
        .map_or("mariadb-binlog".into(), |n| {
            n.to_string_lossy().into_owned()
        });
    let mut child = decoder
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", progs.binlog.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut decoder_err = child.stderr.take().ok_or("no stderr")?;
    let errors = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = std::io::Read::read_to_string(&mut decoder_err, &mut buf);
        buf
    });
    let client = srv_client(srv, CLIENT_DATABASE)?;
    let (fed, status, stderr) = pipe_into(client, move |out| {
        let mut scan = ReplayScan::default();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, stdout);
        let mut line = Vec::with_capacity(4096);
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            scan.line(&line);
            out.write_all(&line)?;
        }
        Ok(scan.finish())
    })
    .await?;
    let decoded = tokio::task::spawn_blocking(move || child.wait())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let decoder_errors = errors.join().unwrap_or_default();
    let range = format!(
        "{} .. {}",
        plan.files
            .first()
            .map(|f| f.name.file())
            .unwrap_or_default(),
        plan.files.last().map(|f| f.name.file()).unwrap_or_default()
    );
    // The decoder's own failure (an exit code, not the SIGPIPE of a client that stopped
    // reading) is the cause: a cut statement then fails the client too.
    if !decoded.success() && decoded.code().is_some() {
        return Err(format!(
            "{tool} failed reading the binlogs {range} ({decoded}): {} (a truncated or corrupt binlog file)",
            last_lines(&decoder_errors, 3)
        ));
    }
    if !status.success() {
        return Err(format!(
            "replaying the binlogs {range} into the temporary server failed ({status}): {stderr}"
        ));
    }
    fed.map_err(|e| format!("replaying the binlogs {range}: {e}"))
}

/// `--stop-datetime`: the second after the target, so the target's own second is replayed
/// (binlog event times have whole seconds).
fn stop_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC) + time::Duration::seconds(1);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Follows `mariadb-binlog`'s output for the time of the last transaction it completed.
/// Each event starts with a header comment `#YYMMDD HH:MM:SS server id ...` (its time,
/// printed in the decoder's zone, UTC here); a transaction (`BEGIN`, `START TRANSACTION`)
/// counts at its `COMMIT` (the Xid event's time), a statement outside one (DDL,
/// `SET TIMESTAMP=` before it) once the next event begins or the output ends. A transaction
/// the stop datetime cut is rolled back by the client and does not count.
#[derive(Debug, Default)]
struct ReplayScan {
    current: Option<OffsetDateTime>,
    statement: Option<OffsetDateTime>,
    in_transaction: bool,
    last: Option<OffsetDateTime>,
}

impl ReplayScan {
    fn line(&mut self, line: &[u8]) {
        match line.first() {
            Some(b'#') => {
                if let Some(t) = event_time(line) {
                    if let Some(s) = self.statement.take() {
                        self.last = Some(s);
                    }
                    self.current = Some(t);
                }
            }
            Some(b'S') if line.starts_with(b"SET TIMESTAMP=") && !self.in_transaction => {
                self.statement = self.current;
            }
            Some(b'B') | Some(b'S')
                if line.starts_with(b"BEGIN") || line.starts_with(b"START TRANSACTION") =>
            {
                self.in_transaction = true;
                self.statement = None;
            }
            Some(b'C') if line.starts_with(b"COMMIT") => {
                if self.in_transaction {
                    self.last = self.current;
                }
                self.in_transaction = false;
            }
            Some(b'R') if line.starts_with(b"ROLLBACK") => {
                self.in_transaction = false;
                self.statement = None;
            }
            _ => {}
        }
    }

    fn finish(self) -> Option<OffsetDateTime> {
        if self.in_transaction {
            self.last
        } else {
            self.statement.or(self.last)
        }
    }
}

/// The time of an event header line `#251206 21:18:15 server id 1 ...` (`%2d` hours:
/// `#251206  9:18:15`).
fn event_time(line: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(line.get(..40.min(line.len()))?).ok()?;
    let rest = text.strip_prefix('#')?;
    let (date, rest) = rest.split_at_checked(6)?;
    if !date.bytes().all(|b| b.is_ascii_digit()) || !rest.starts_with(' ') {
        return None;
    }
    let clock = rest.trim_start().split(' ').next()?;
    let mut hms = clock.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let year = 2000 + date[..2].parse::<i32>().ok()?;
    let month = time::Month::try_from(date[2..4].parse::<u8>().ok()?).ok()?;
    let day = date[4..].parse::<u8>().ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let time = time::Time::from_hms(h, m, s).ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn scan(text: &str) -> Option<OffsetDateTime> {
        let mut s = ReplayScan::default();
        for l in text.split_inclusive('\n') {
            s.line(l.as_bytes());
        }
        s.finish()
    }

    #[test]
    fn the_last_committed_transaction_dates_the_replay() {
        // As mariadb-binlog 10.11 prints a row-format transaction (GTID, rows, Xid).
        let committed = "# at 256\n#251206  9:00:01 server id 1  end_log_pos 298 CRC32 0x1  GTID 0-1-5 trans\n/*!100001 SET @@session.gtid_seq_no=5*//*!*/;\nSTART TRANSACTION\n/*!*/;\n# at 298\n#251206  9:00:01 server id 1  end_log_pos 350 CRC32 0x2  Write_rows: table id 32 flags: STMT_END_F\nBINLOG '\nabc\n'/*!*/;\n# at 350\n#251206  9:00:02 server id 1  end_log_pos 381 CRC32 0x3  Xid = 9\nCOMMIT/*!*/;\n";
        assert_eq!(scan(committed), Some(datetime!(2025-12-06 09:00:02 UTC)));
        // Cut by --stop-datetime inside a transaction: rolled back, not counted.
        let cut = format!("{committed}#251206 10:00:00 server id 1  end_log_pos 420  Query\tthread_id=5\nSET TIMESTAMP=1765015200/*!*/;\nBEGIN\n/*!*/;\nROLLBACK /* added by mysqlbinlog */ /*!*/;\n");
        assert_eq!(scan(&cut), Some(datetime!(2025-12-06 09:00:02 UTC)));
        // A statement outside a transaction (DDL) counts once it is written.
        let ddl = format!("{committed}#251206 11:30:00 server id 1  end_log_pos 500  Query\tthread_id=5\nSET TIMESTAMP=1765020600/*!*/;\nCREATE TABLE t (a int)\n/*!*/;\n");
        assert_eq!(scan(&ddl), Some(datetime!(2025-12-06 11:30:00 UTC)));
        assert_eq!(scan("# at 4\n"), None);
    }

    #[test]
    fn event_headers_at_midnight_month_and_year_ends_and_leap_days() {
        // mysqlbinlog and mariadb-binlog print "%02d%02d%02d %2d:%02d:%02d" (year % 100).
        for (line, at) in [
            (
                "#261231 23:59:59 server id 1  end_log_pos 381",
                datetime!(2026-12-31 23:59:59 UTC),
            ),
            (
                "#270101  0:00:00 server id 1  end_log_pos 381",
                datetime!(2027-01-01 0:00:00 UTC),
            ),
            (
                "#270228  9:05:00 server id 1  end_log_pos 381",
                datetime!(2027-02-28 9:05:00 UTC),
            ),
            (
                "#280229  0:00:01 server id 1  end_log_pos 381",
                datetime!(2028-02-29 0:00:01 UTC),
            ),
        ] {
            assert_eq!(event_time(line.as_bytes()), Some(at), "{line}");
        }
        for line in [
            "#270229  9:05:00 server id 1",
            "# at 4",
            "#26123 23:59:59 server id 1",
        ] {
            assert_eq!(event_time(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn the_stop_datetime_includes_the_targets_second() {
        assert_eq!(
            stop_datetime(datetime!(2026-12-06 23:59:59.5 +01:00)),
            "2026-12-06 23:00:00"
        );
    }
}
