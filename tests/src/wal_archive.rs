//! A PostgreSQL 15 cluster with continuous archiving into a moto S3 bucket, for PITR drills:
//! `archive_mode = on` and an `archive_command` that uploads each segment as `%f`, the
//! way the seed's `aws s3 cp %p s3://wal-archive/%f` does (an S3 PUT of the file, with
//! `curl` because the archiver runs as `postgres`, which cannot reach the project's
//! virtualenv), plus real `pg_basebackup -Ft -z` runs uploaded as one folder each.
//!
//! Autovacuum is off so that the only transactions in the WAL are the test's own: their
//! commit times are the truth a measured RPO is compared with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::tools;

/// How `archive_command` stores segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalCompression {
    /// `%f` as written.
    None,
    /// `%f.gz`.
    Gzip,
    /// `%f.zst`.
    Zstd,
}

/// A running archiving cluster; stopped and deleted when dropped.
pub struct ArchivingPostgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl ArchivingPostgres {
    /// initdb, then start with archiving into `s3://bucket/prefix` on the moto at
    /// `moto_port` (the bucket must exist).
    pub fn start(
        moto_port: u16,
        bucket: &str,
        prefix: &str,
        compression: WalCompression,
    ) -> Result<ArchivingPostgres> {
        let bin = tools::pg_bin_dir()?;
        if tools::find_on_path("curl").is_none() {
            bail!("curl not found: the test archive_command uploads WAL with it (apt-get install curl)");
        }
        let as_postgres_user = tools::is_root();
        let dir = tempfile::Builder::new().prefix("drkit-pg-").tempdir()?;
        if as_postgres_user {
            chown_postgres(dir.path())?;
        }
        let pg = ArchivingPostgres {
            dir,
            bin,
            port: tools::free_port()?,
            as_postgres_user,
        };
        let data = pg.data_dir();
        pg.run(
            "initdb",
            &[
                "-D",
                s(&data)?,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        let url = format!("http://127.0.0.1:{moto_port}/{bucket}/{prefix}");
        let archive_command = match compression {
            WalCompression::None => format!("curl -sfS -T %p {url}%f"),
            WalCompression::Gzip => format!("gzip -1 -c %p | curl -sfS -T - {url}%f.gz"),
            WalCompression::Zstd => format!("zstd -1 -q -c %p | curl -sfS -T - {url}%f.zst"),
        };
        let conf = format!(
            "\n# drkit test: continuous archiving into moto\nwal_level = replica\narchive_mode = on\narchive_command = '{}'\nautovacuum = off\nfsync = off\nlisten_addresses = ''\nunix_socket_directories = '{}'\nport = {}\nlog_timezone = 'UTC'\ntimezone = 'UTC'\n",
            archive_command.replace('\'', "''"),
            pg.dir.path().display(),
            pg.port
        );
        let mut text = std::fs::read_to_string(data.join("postgresql.conf"))?;
        text.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), text)?;
        let log = pg.dir.path().join("server.log");
        pg.run(
            "pg_ctl",
            &["-D", s(&data)?, "-l", s(&log)?, "-w", "-t", "60", "start"],
        )?;
        Ok(pg)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.current_dir(self.dir.path())
            .env_remove("PGPASSWORD")
            .env_remove("PGDATABASE");
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<String> {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .with_context(|| format!("running {tool}"))?;
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            bail!(
                "{tool} failed ({}): {}{}\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The server binaries' directory.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// Runs `sql` with `psql -At` in `database`, returning its output.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String> {
        let socket = self.dir.path().display().to_string();
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &socket,
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
        )
    }

    /// Commits one transaction inserting `value` into `table (v int, at timestamptz)` and
    /// returns its time (clock_timestamp() inside it, within a millisecond of the commit).
    pub fn commit_row(&self, database: &str, table: &str, value: i64) -> Result<f64> {
        let out = self.psql(
            database,
            &format!("INSERT INTO {table} (v, at) VALUES ({value}, clock_timestamp()) RETURNING extract(epoch FROM at)"),
        )?;
        out.lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .with_context(|| format!("no commit time in {out:?}"))
    }

    /// Switches to a new segment and waits until the archiver has uploaded the old one.
    pub fn switch_and_archive(&self) -> Result<String> {
        let segment = self.psql("postgres", "SELECT pg_walfile_name(pg_switch_wal())")?;
        self.wait_archived(&segment)?;
        Ok(segment)
    }

    /// Waits until `segment` (or a later one) has been archived.
    pub fn wait_archived(&self, segment: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let row = self.psql(
                "postgres",
                "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver",
            )?;
            let (last, failed) = row.split_once('|').unwrap_or((&row, "0"));
            // `last` may be a backup history file (`<segment>.<offset>.backup`), which
            // says nothing about its segment.
            let seg = &last[..last.len().min(24)];
            let done = seg > segment || (seg == segment && !last.contains('.'));
            if done {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "segment {segment} not archived within 60 s ({failed} archive failures):\n{}",
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `pg_basebackup -Ft -z` and returns the directory holding `base.tar.gz`,
    /// `pg_wal.tar.gz` and `backup_manifest` (kept until the cluster is dropped).
    pub fn base_backup(&self, name: &str) -> Result<PathBuf> {
        let out = self.dir.path().join(format!("basebackup-{name}"));
        let socket = self.dir.path().display().to_string();
        let port = self.port.to_string();
        self.run(
            "pg_basebackup",
            &[
                "-h",
                &socket,
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                s(&out)?,
                "-Ft",
                "-z",
                "-c",
                "fast",
            ],
        )?;
        Ok(out)
    }

    /// The postmaster's pid.
    pub fn pid(&self) -> Result<u32> {
        std::fs::read_to_string(self.data_dir().join("postmaster.pid"))?
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .context("postmaster.pid has no pid")
    }
}

impl Drop for ArchivingPostgres {
    fn drop(&mut self) {
        if let Ok(data) = s(&self.data_dir()).map(str::to_string) {
            let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        }
    }
}

/// Uploads every file of a base backup directory to `s3://bucket/folder/`.
pub async fn upload_base_backup(
    s3: &aws_sdk_s3::Client,
    dir: &Path,
    bucket: &str,
    folder: &str,
) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("file name")?;
        let key = format!("{}/{name}", folder.trim_end_matches('/'));
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from(std::fs::read(
                &path,
            )?))
            .send()
            .await
            .with_context(|| format!("uploading {key}"))?;
        keys.push(key);
    }
    Ok(keys)
}

fn s(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("path is not UTF-8: {}", path.display()))
}

fn chown_postgres(path: &Path) -> Result<()> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.first() == Some(&"postgres") && f.len() > 3 {
            std::os::unix::fs::chown(path, Some(f[2].parse()?), Some(f[3].parse()?))?;
            return Ok(());
        }
    }
    bail!("running as root, but there is no `postgres` user to own the cluster: install Debian's postgresql-15")
}

/// An S3 client (path-style) for a moto at `endpoint`, for processes that did not start it.
pub async fn s3_client(endpoint: &str, region: &str) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "drkit-testkit",
        ))
        .http_client(http)
        .load()
        .await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
