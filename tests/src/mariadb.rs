//! A throwaway MariaDB server on a free loopback port, stopped and deleted when dropped.
//!
//! `mariadb-install-db` creates the data directory in a temporary directory
//! (`$TMPDIR/drkit-mariadb-*`), then `mariadbd` runs on it with no option files
//! (`--no-defaults`). As root the directory belongs to the `mysql` user and the server
//! drops to it (`--user=mysql`). Grants are checked: the root accounts reachable over TCP
//! are removed, and tests connect as [`MariaDb::user`] with a random password, so a wrong
//! password is refused as on a real server. With [`MariaDbOptions::binlog`] the binary log
//! is on (row format, as RDS and most production servers write it).
//!
//! Time zones are explicit, never the test machine's: the server's `time_zone` is UTC (as
//! on RDS) unless [`MariaDbOptions::time_zone`] says otherwise, and the client tools run
//! with `TZ=UTC` ([`MariaDb::dump_in_zone`] dumps as a host in another zone would), so a
//! CI runner whose clock is not UTC sees the same dates as any other.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::tools;

/// The user tests connect as: all privileges, password authentication.
const USER: &str = "drkit";

/// How a [`MariaDb`] is started.
#[derive(Debug, Clone, Default)]
pub struct MariaDbOptions {
    /// Write a binary log (`log_bin`, `binlog_format = ROW`, `server_id = 1`).
    pub binlog: bool,
    /// Accept TLS connections only over TCP, as RDS for MySQL 8.4 (`require_secure_transport
    /// = ON`): a certificate for `localhost` (DNS name only) signed by a throwaway CA
    /// ([`MariaDb::ca_file`]).
    pub tls_only: bool,
    /// The server's `time_zone` as an offset (`+05:30`); `None` is UTC.
    pub time_zone: Option<String>,
}

/// A running MariaDB server with password authentication for [`MariaDb::user`].
pub struct MariaDb {
    dir: TempDir,
    child: Child,
    port: u16,
    password: String,
    tls_only: bool,
}

impl MariaDb {
    /// A server without a binary log.
    pub fn start() -> Result<MariaDb> {
        MariaDb::start_with(MariaDbOptions::default())
    }

    /// A server with its binary log on.
    pub fn start_with_binlog() -> Result<MariaDb> {
        MariaDb::start_with(MariaDbOptions {
            binlog: true,
            ..MariaDbOptions::default()
        })
    }

    /// `mariadb-install-db` in a temporary directory, then `mariadbd` on 127.0.0.1; waits
    /// until it answers and creates the test user.
    pub fn start_with(options: MariaDbOptions) -> Result<MariaDb> {
        let install = tools::mariadb_program("mariadb-install-db")?;
        let server = tools::mariadb_program("mariadbd")?;
        let dir = tempfile::Builder::new()
            .prefix("drkit-mariadb-")
            .tempdir()?;
        let as_root = tools::is_root();
        if as_root {
            let (uid, gid) = tools::system_user_ids("mysql").context(
                "running as root, but there is no `mysql` user to run mariadbd as: install Debian's mariadb-server",
            )?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let data = dir.path().join("data");
        // Parallel tests each bootstrap a server: native AIO contexts are a machine-wide
        // limit (fs.aio-max-nr) that a few dozen InnoDB instances exhaust, and a bootstrap
        // that could not get one fails. Synchronous I/O is plenty for a test server; a
        // failed bootstrap is retried in a fresh data directory, and the error says why.
        let mut failure = String::new();
        for attempt in 1..=3 {
            if data.exists() {
                std::fs::remove_dir_all(&data)?;
            }
            let mut cmd = Command::new(&install);
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .args([
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--innodb-use-native-aio=0",
                ])
                .current_dir(dir.path());
            if as_root {
                cmd.arg("--user=mysql");
            }
            let out = cmd
                .output()
                .with_context(|| format!("running {}", install.display()))?;
            if out.status.success() {
                failure.clear();
                break;
            }
            failure = format!(
                "mariadb-install-db failed ({}, attempt {attempt} of 3):\n{}{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                error_logs(&data)
            );
            std::thread::sleep(Duration::from_millis(200 * attempt));
        }
        if !failure.is_empty() {
            bail!("{failure}");
        }
        let password = crate::postgres::random_password();
        let tls = dir.path().join("tls");
        if options.tls_only {
            std::fs::create_dir(&tls)?;
            crate::test_ca::make_certificates_for(&tls, "DNS:localhost")?;
            if as_root {
                // The server reads its key as `mysql`.
                let (uid, gid) = tools::system_user_ids("mysql").context("no `mysql` user")?;
                for f in ["", "server.pem", "server.key"] {
                    std::os::unix::fs::chown(tls.join(f), Some(uid), Some(gid))?;
                }
            }
        }
        let mut last = None;
        // A port can be taken between the probe and the server's bind: try a few times.
        for _ in 0..3 {
            let port = tools::free_port()?;
            let mut cmd = Command::new(&server);
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(format!(
                    "--socket={}",
                    dir.path().join("mysqld.sock").display()
                ))
                .arg(format!(
                    "--pid-file={}",
                    dir.path().join("mariadbd.pid").display()
                ))
                .arg(format!("--log-error={}", log_path(dir.path()).display()))
                .arg(format!("--port={port}"))
                .args([
                    "--bind-address=127.0.0.1",
                    "--skip-name-resolve",
                    // The server lives for one test: durability buys nothing here.
                    "--innodb-flush-log-at-trx-commit=0",
                    "--innodb-buffer-pool-size=64M",
                    "--sync-binlog=0",
                    // See the bootstrap above: AIO contexts are scarce with many servers.
                    "--innodb-use-native-aio=0",
                ])
                .arg(format!(
                    "--default-time-zone={}",
                    options.time_zone.as_deref().unwrap_or("+00:00")
                ))
                // The server's SYSTEM zone and its log's dates: not the machine's TZ either.
                .env("TZ", "UTC")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if as_root {
                cmd.arg("--user=mysql");
            }
            if options.tls_only {
                // Over the socket (root's way in) TLS is not needed: it is local.
                cmd.arg(format!("--ssl-cert={}", tls.join("server.pem").display()))
                    .arg(format!("--ssl-key={}", tls.join("server.key").display()))
                    .arg("--require-secure-transport=ON");
            }
            if options.binlog {
                // Relative to the data directory, which the server's user owns.
                cmd.args([
                    "--log-bin=mysql-bin",
                    "--server-id=1",
                    "--binlog-format=ROW",
                ]);
            }
            let mut child = cmd
                .spawn()
                .with_context(|| format!("starting {}", server.display()))?;
            match wait_ready(&mut child, dir.path(), Duration::from_secs(60)) {
                Ok(()) => {
                    let db = MariaDb {
                        dir,
                        child,
                        port,
                        password,
                        tls_only: options.tls_only,
                    };
                    db.create_user()?;
                    return Ok(db);
                }
                Err(e) => {
                    last = Some(e);
                    stop(&mut child);
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("mariadbd did not start")))
    }

    /// The test user, and no root account reachable over TCP (`mariadb-install-db` creates
    /// passwordless ones for 127.0.0.1, ::1 and the host name).
    fn create_user(&self) -> Result<()> {
        let roots = self
            .root_sql("SELECT host FROM mysql.user WHERE user = 'root' AND host <> 'localhost'")?;
        let mut sql = String::new();
        for host in roots.lines().filter(|h| !h.is_empty()) {
            sql.push_str(&format!("DROP USER 'root'@'{host}';"));
        }
        sql.push_str(&format!(
            "CREATE USER '{USER}'@'%' IDENTIFIED BY '{}'; GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;",
            self.password
        ));
        self.root_sql(&sql).map(drop)
    }

    /// SQL as root over the private socket (the only way root gets in).
    fn root_sql(&self, sql: &str) -> Result<String> {
        root_sql(self.dir.path(), sql)
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The test user (all privileges).
    pub fn user(&self) -> &str {
        USER
    }

    /// The test user's password (random per server).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The CA that signed a TLS-only server's certificate (PEM); `None` without TLS.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls_only
            .then(|| self.dir.path().join("tls").join("ca.pem"))
    }

    /// The data directory (the binary logs are in it).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `Command` for a client tool (`mariadb`, `mariadb-dump`, `mariadb-binlog`) with
    /// host, port, user and password (through `MYSQL_PWD`) set; option files ignored. It
    /// runs with `TZ=UTC`: `mariadb-dump` dates its `-- Dump completed on` line and
    /// `mariadb-binlog` its event headers in the local zone.
    pub fn client(&self, tool: &str) -> Result<Command> {
        let mut cmd = Command::new(tools::mariadb_program(tool)?);
        cmd.env("TZ", "UTC")
            .arg("--no-defaults")
            .arg(format!("--host={}", self.host()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--user={USER}"))
            .arg("--protocol=TCP")
            .env("MYSQL_PWD", &self.password);
        if self.tls_only {
            cmd.arg("--ssl");
        }
        Ok(cmd)
    }

    /// Runs `sql` with `mariadb --batch` (in `database` when given) and returns its
    /// trimmed, tab-separated output without column names; an SQL error is an `Err`.
    pub fn sql(&self, database: Option<&str>, sql: &str) -> Result<String> {
        let mut cmd = self.client("mariadb")?;
        cmd.args(["--batch", "--skip-column-names"]);
        if let Some(db) = database {
            cmd.arg(format!("--database={db}"));
        }
        cmd.args(["-e", sql]);
        batch_output(cmd)
    }

    /// `mariadb-dump` with `args` (e.g. `["--single-transaction", "shop"]`): its stdout,
    /// dated in UTC (the drill's default `dump_time_zone`).
    pub fn dump(&self, args: &[&str]) -> Result<Vec<u8>> {
        self.dump_in_zone("UTC", args)
    }

    /// [`MariaDb::dump`] as a host whose clock is in `tz` (a `TZ` value: `Asia/Kolkata`, or
    /// POSIX `XST-5:30` for +05:30 without tzdata) writes it.
    pub fn dump_in_zone(&self, tz: &str, args: &[&str]) -> Result<Vec<u8>> {
        let out = self
            .client("mariadb-dump")?
            .env("TZ", tz)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("running mariadb-dump")?;
        if !out.status.success() {
            bail!(
                "mariadb-dump failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out.stdout)
    }

    /// The names of the databases on the server.
    pub fn databases(&self) -> Result<Vec<String>> {
        Ok(self
            .sql(None, "SHOW DATABASES")?
            .lines()
            .map(str::to_string)
            .collect())
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("server.log")
}

/// Waits until the server in `dir` answers on its socket.
fn wait_ready(child: &mut Child, dir: &Path, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let log = || std::fs::read_to_string(log_path(dir)).unwrap_or_default();
        if let Some(status) = child.try_wait()? {
            bail!("mariadbd exited with {status} before answering:\n{}", log());
        }
        if root_sql(dir, "SELECT 1").is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("mariadbd did not answer within {timeout:?}:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SQL as root over the private socket of the server in `dir`.
fn root_sql(dir: &Path, sql: &str) -> Result<String> {
    let mut cmd = Command::new(tools::mariadb_program("mariadb")?);
    cmd.arg("--no-defaults")
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .args(["--user=root", "--batch", "--skip-column-names", "-e", sql]);
    batch_output(cmd)
}

/// Runs a `mariadb --batch` command: its trimmed output, or its error as an `Err`.
fn batch_output(mut cmd: Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .context("running mariadb")?;
    if !out.status.success() {
        bail!(
            "mariadb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// SIGTERM (mariadbd's normal shutdown), then SIGKILL when it takes too long.
fn stop(child: &mut Child) {
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The server error logs in a data directory (`*.err`), for a failed bootstrap's message.
fn error_logs(data: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(data) else {
        return String::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "err"))
        .filter_map(|p| {
            std::fs::read_to_string(&p)
                .ok()
                .map(|t| format!("--- {}\n{t}", p.display()))
        })
        .collect()
}
