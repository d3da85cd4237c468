//! A throwaway PostgreSQL cluster on a free loopback port, stopped and deleted when dropped.
//!
//! `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user
//! (commands run through `runuser`); as anyone else it belongs to that user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::tools;

/// A running PostgreSQL server with password (SCRAM) authentication for `postgres`.
pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    password: String,
    as_postgres_user: bool,
    tls_only: bool,
}

impl Postgres {
    /// initdb in a temporary directory, then start the server on 127.0.0.1 and wait for it.
    pub fn start() -> Result<Postgres> {
        Postgres::start_with_tls(false)
    }

    /// A server that accepts TLS connections only, as RDS with `rds.force_ssl = 1`: `ssl =
    /// on` with a certificate for `localhost` (DNS name only, so `127.0.0.1` is another
    /// host to `verify-full`) signed by a throwaway CA ([`Postgres::ca_file`]), and a
    /// pg_hba.conf of `hostssl` lines only.
    pub fn start_tls_only() -> Result<Postgres> {
        Postgres::start_with_tls(true)
    }

    fn start_with_tls(tls_only: bool) -> Result<Postgres> {
        let bin = tools::pg_bin_dir()?;
        let as_postgres_user = tools::is_root();
        let dir = tempfile::Builder::new().prefix("drkit-pg-").tempdir()?;
        let password = random_password();
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n"))?;
        if as_postgres_user {
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))?;
        }
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            password,
            as_postgres_user,
            tls_only,
        };
        let data = pg.data_dir();
        pg.run_server_tool(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "--pwfile",
                path_str(&pwfile)?,
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        std::fs::remove_file(&pwfile)?;
        if tls_only {
            pg.configure_tls_only()?;
        }
        let mut last = None;
        for _ in 0..3 {
            pg.port = tools::free_port()?;
            // fsync off: the cluster lives for one test; durability buys nothing here.
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
                pg.port,
                pg.dir.path().display()
            );
            let log = pg.dir.path().join("server.log");
            match pg.run_server_tool(
                "pg_ctl",
                &[
                    "-D",
                    path_str(&data)?,
                    "-l",
                    path_str(&log)?,
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            ) {
                Ok(()) => return Ok(pg),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    /// The certificate and key in the data directory (the server's user owns them, the
    /// key mode 0600 as the server demands), `ssl = on`, and only `hostssl` entries.
    fn configure_tls_only(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let tls = self.dir.path().join("tls");
        std::fs::create_dir(&tls)?;
        crate::test_ca::make_certificates_for(&tls, "DNS:localhost")?;
        let data = self.data_dir();
        for (from, to) in [("server.pem", "server.crt"), ("server.key", "server.key")] {
            let dest = data.join(to);
            std::fs::copy(tls.join(from), &dest)?;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600))?;
            if self.as_postgres_user {
                let (uid, gid) = postgres_ids()?;
                std::os::unix::fs::chown(&dest, Some(uid), Some(gid))?;
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)?;
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text)?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all scram-sha-256\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all ::1/128 scram-sha-256\n",
        )?;
        Ok(())
    }

    /// The CA that signed a TLS-only server's certificate (PEM); `None` without TLS.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls_only
            .then(|| self.dir.path().join("tls").join("ca.pem"))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run_server_tool(&self, tool: &str, args: &[&str]) -> Result<()> {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&program);
            cmd
        } else {
            Command::new(&program)
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .with_context(|| format!("running {}", program.display()))?;
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            bail!(
                "{tool} failed ({}):\n{}{}\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser, `postgres`.
    pub fn user(&self) -> &str {
        "postgres"
    }

    /// The superuser's password (random per cluster).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The directory with the client tools (`psql`, `pg_dump`, `pg_restore`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// A libpq connection string for `database`, without the password (pass it through
    /// `PGPASSWORD`, as the drill does).
    pub fn conninfo(&self, database: &str) -> String {
        format!(
            "host={} port={} user={} dbname={database}",
            self.host(),
            self.port,
            self.user()
        )
    }

    /// A `Command` for a client tool with host, port, user and password set in the environment.
    pub fn client(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        cmd.env("PGHOST", self.host())
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", self.user())
            .env("PGPASSWORD", &self.password)
            .env_remove("PGDATABASE");
        cmd
    }

    /// Runs `sql` with `psql -At` against `database` and returns its trimmed output;
    /// an SQL error is an `Err` with psql's message.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String> {
        let out = self
            .client("psql")
            .args([
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The names of the databases on the server, for checking that scratch ones are gone.
    pub fn databases(&self) -> Result<Vec<String>> {
        Ok(self
            .psql("postgres", "SELECT datname FROM pg_database ORDER BY 1")?
            .lines()
            .map(str::to_string)
            .collect())
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> Result<u32> {
        let pidfile = std::fs::read_to_string(self.data_dir().join("postmaster.pid"))?;
        pidfile
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .context("postmaster.pid has no pid")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir()).map(str::to_string) {
            let _ = self.run_server_tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        }
    }
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("path is not UTF-8: {}", path.display()))
}

fn postgres_ids() -> Result<(u32, u32)> {
    tools::system_user_ids("postgres").context("running as root, but there is no `postgres` user to own the cluster (initdb refuses root): install Debian's postgresql-15")
}

/// Not cryptographic: it only keeps test servers from sharing a password.
pub(crate) fn random_password() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mixed = nanos ^ (u128::from(std::process::id()) << 64);
    format!(
        "drkit-{:x}",
        mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
    )
}
