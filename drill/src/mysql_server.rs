//! The temporary MariaDB server of a `mysql_binlog` drill, in a PITR drill directory
//! ([`crate::pitr_server::Workdir`], swept the same way when a drill is killed).
//!
//! `mariadb-install-db` creates an empty data directory, `mariadbd` runs on it with no
//! option files (`--no-defaults`) on a free loopback port and a private socket, without a
//! binary log (the copy must never look like a source) and without replication. As root,
//! the directory belongs to the `mysql` user and both run as it (`setpriv`). The accounts
//! the bootstrap makes reachable over TCP are removed; checks connect as `drkit` with a
//! random password that lives as long as the server.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::pitr_server::Workdir;
use crate::{Engine, Secret, Target};

/// The user checks connect as.
const USER: &str = "drkit";
/// How long a fresh server may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The server programs of one installation.
#[derive(Debug, Clone)]
pub(crate) struct Programs {
    /// `mariadbd` (or `mysqld`).
    pub server: PathBuf,
    /// `mariadb-install-db` (or `mysql_install_db`).
    pub install_db: PathBuf,
    /// `mariadb-binlog` (or `mysqlbinlog`).
    pub binlog: PathBuf,
}

/// Finds the programs in `configured`, else on PATH, `/usr/sbin`, `/usr/bin`.
pub(crate) fn programs(configured: Option<&Path>) -> Result<Programs, String> {
    let dirs: Vec<PathBuf> = match configured {
        Some(d) => vec![d.to_path_buf()],
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain(["/usr/sbin", "/usr/bin"].map(PathBuf::from))
                .collect()
        }
    };
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| dirs.iter().map(|d| d.join(n)).find(|p| p.is_file()))
            .ok_or_else(|| {
                format!(
                    "{} not found in {}: a mysql_binlog drill starts a temporary MariaDB server (Debian: mariadb-server, mariadb-client)",
                    names[0],
                    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":")
                )
            })
    };
    Ok(Programs {
        server: find(&["mariadbd", "mysqld"])?,
        install_db: find(&["mariadb-install-db", "mysql_install_db"])?,
        binlog: find(&["mariadb-binlog", "mysqlbinlog"])?,
    })
}

/// The running temporary server.
#[derive(Debug)]
pub(crate) struct MysqlServer {
    child: tokio::process::Child,
    /// Its pid.
    pub pid: u32,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    password: Secret,
}

/// The pid file, where the sweep looks for a leftover server.
pub(crate) const PID_FILE: &str = "mariadbd.pid";

fn socket(dir: &Workdir) -> PathBuf {
    dir.socket_dir().join("mysqld.sock")
}

/// Bootstraps the data directory and starts the server; returns once it answers and the
/// check user exists.
pub(crate) async fn start(dir: &Workdir, progs: &Programs) -> Result<MysqlServer, String> {
    let data = dir.data();
    // The server's temporary tables go to the drill's directory, not a shared /tmp where
    // other servers' names can collide.
    let tmp = dir.root.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    dir.chown(&tmp)?;
    let mut failure = String::new();
    for attempt in 1..=3 {
        if attempt > 1 {
            // A failed bootstrap leaves a half-made data directory: start from an empty one.
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir(&data).map_err(|e| format!("{}: {e}", data.display()))?;
            dir.chown(&data)?;
        }
        let mut install = dir.command(&progs.install_db);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--innodb-use-native-aio=0",
            ])
            .env("TMPDIR", &tmp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let out = install
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", progs.install_db.display()))?;
        if out.status.success() {
            failure.clear();
            break;
        }
        failure = format!(
            "{} failed ({}, attempt {attempt} of 3): {}",
            progs.install_db.display(),
            out.status,
            last_lines(&String::from_utf8_lossy(&out.stderr), 5)
        );
    }
    if !failure.is_empty() {
        return Err(failure);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
        .port();
    let mut cmd = dir.command(&progs.server);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", socket(dir).display()))
        .arg(format!("--pid-file={}", dir.root.join(PID_FILE).display()))
        .arg(format!("--log-error={}", dir.log().display()))
        .arg(format!("--port={port}"))
        .arg(format!("--tmpdir={}", tmp.display()))
        .args([
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            // The copy must not write binlogs nor connect to a source.
            "--skip-log-bin",
            "--skip-slave-start",
            // A throwaway copy: durability per commit buys nothing and costs replay time.
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
            "--max-allowed-packet=1073741824",
            // Native AIO contexts are a machine-wide limit several servers can exhaust.
            "--innodb-use-native-aio=0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", progs.server.display()))?;
    let pid = child.id().unwrap_or_default();
    let mut server = MysqlServer {
        child,
        pid,
        port,
        password: Secret::new(random_password()),
    };
    server.wait_ready(dir).await?;
    server.create_user(dir).await?;
    Ok(server)
}

fn random_password() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect()
}

/// The last `n` non-empty lines of `text`, joined for one message.
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

impl MysqlServer {
    /// The server as a check target: `drkit` over TCP, in `database`.
    pub fn target(&self, database: &str) -> Target {
        Target {
            engine: Engine::Mariadb,
            host: "127.0.0.1".into(),
            port: self.port,
            database: database.to_string(),
            username: USER.into(),
            password: Some(self.password.clone()),
            pg_bin_dir: None,
            // Its own loopback server: nothing to encrypt against.
            tls: crate::Tls::disabled(),
        }
    }

    /// The exit status, once the server has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SQL as root over the private socket (the only way root gets in).
    async fn root_sql(&self, dir: &Workdir, sql: &str) -> Result<String, String> {
        let client = crate::mysql::client_program(Engine::Mariadb)?;
        let out = tokio::process::Command::new(client)
            .arg("--no-defaults")
            .arg(format!("--socket={}", socket(dir).display()))
            .args(["--user=root", "--batch", "--skip-column-names", "-e", sql])
            .env_remove("MYSQL_PWD")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    async fn wait_ready(&mut self, dir: &Workdir) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "the temporary MariaDB server exited at start ({status}): {}",
                    crate::pitr_server::log_tail(dir, 5).join(" | ")
                ));
            }
            if self.root_sql(dir, "SELECT 1").await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "the temporary MariaDB server did not answer within {}s",
                    READY_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The check user, and no passwordless root reachable over TCP.
    async fn create_user(&self, dir: &Workdir) -> Result<(), String> {
        let roots = self
            .root_sql(
                dir,
                "SELECT host FROM mysql.user WHERE user = 'root' AND host <> 'localhost'",
            )
            .await?;
        let mut sql = String::new();
        for host in roots.lines().filter(|h| !h.is_empty()) {
            sql.push_str(&format!("DROP USER 'root'@'{}';", host.replace('\'', "''")));
        }
        sql.push_str(&format!(
            "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{}'; GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1' WITH GRANT OPTION;",
            self.password.expose()
        ));
        self.root_sql(dir, &sql)
            .await
            .map(drop)
            .map_err(|e| format!("preparing the temporary MariaDB server: {e}"))
    }

    /// Stops the server: SIGTERM (a normal shutdown), then SIGKILL.
    pub async fn stop(&mut self) -> Result<String, String> {
        for (signal, mode, wait) in [
            ("TERM", "normal shutdown", Duration::from_secs(60)),
            ("KILL", "killed", Duration::from_secs(10)),
        ] {
            if self.exited().is_some() {
                return Ok("already stopped".into());
            }
            crate::pitr_server::signal_pid(self.pid, signal).await;
            if tokio::time::timeout(wait, self.child.wait()).await.is_ok() {
                return Ok(mode.into());
            }
        }
        Err(format!("mariadbd {} did not exit", self.pid))
    }
}
