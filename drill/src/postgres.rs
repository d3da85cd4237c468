//! The PostgreSQL side of a drill: scratch databases, `pg_restore`/`psql`, verification
//! queries and the freshness query (run by [`crate::copy_checks`]). The password goes to
//! clients through their API and to the tools through `PGPASSWORD` in the child's
//! environment, never on a command line.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio_postgres::config::SslMode;
use tokio_postgres::{NoTls, SimpleQueryMessage};

use crate::postgres_tls::MakeRustls;
use crate::tls::TlsMode;

use crate::Target;

/// Prefix of scratch databases.
pub const SCRATCH_PREFIX: &str = "drkit_drill_";

/// The scratch database name of a run (lowercase, safe as an identifier).
pub fn scratch_name(run_id: &str) -> String {
    format!("{SCRATCH_PREFIX}{}", crate::name_safe(run_id, '_'))
}

/// Connects to `database` on `target`.
pub async fn connect(target: &Target, database: &str) -> Result<tokio_postgres::Client, String> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&target.username)
        .dbname(database)
        .application_name("drkit-drill")
        .connect_timeout(std::time::Duration::from_secs(10));
    if let Some(p) = &target.password {
        config.password(p.expose());
    }
    let tls = &target.tls;
    config.ssl_mode(match tls.mode {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
    });
    let cannot = |e: &tokio_postgres::Error| {
        let message = pg_error(e);
        format!(
            "cannot connect to {}@{}:{}/{database}: {message}{}",
            target.username,
            target.host,
            target.port,
            tls.explain(&message)
        )
    };
    // The connection task drives the socket; the two arms differ in its stream type.
    let client = if tls.mode == TlsMode::Disable {
        let (client, connection) = config.connect(NoTls).await.map_err(|e| cannot(&e))?;
        tokio::spawn(connection);
        client
    } else {
        let make = MakeRustls::new(tls.client_config()?);
        let (client, connection) = config.connect(make).await.map_err(|e| cannot(&e))?;
        tokio::spawn(connection);
        client
    };
    Ok(client)
}

/// The server's message, or the client's error with its causes ("error performing TLS
/// handshake: invalid peer certificate: UnknownIssuer").
fn pg_error(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the scratch database.
pub async fn create_scratch(target: &Target, name: &str) -> Result<(), String> {
    let client = connect(target, &target.database).await?;
    client
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
        .await
        .map_err(|e| {
            format!(
                "cannot create the scratch database {name}: {}",
                pg_error(&e)
            )
        })
}

/// Drops the scratch database, disconnecting whoever is still in it.
pub async fn drop_scratch(target: &Target, name: &str) -> Result<(), String> {
    let client = connect(target, &target.database).await?;
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .await
        .map_err(|e| format!("cannot drop the scratch database {name}: {}", pg_error(&e)))
}

/// Drops scratch databases left by interrupted drills.
pub async fn sweep(target: &Target) -> Vec<String> {
    let Ok(client) = connect(target, &target.database).await else {
        return Vec::new();
    };
    let Ok(rows) = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'drkit\\_drill\\_%'",
            &[],
        )
        .await
    else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        // A running drill (here or in another process) holds its database's lock; only
        // databases whose drill is gone are leftovers.
        let free = client
            .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&name])
            .await
            .is_ok_and(|r| r.get::<_, bool>(0));
        if !free {
            continue;
        }
        if drop_scratch(target, &name).await.is_ok() {
            removed.push(format!(
                "scratch database {name} on {}:{}",
                target.host, target.port
            ));
        }
        let _ = client
            .query_one("SELECT pg_advisory_unlock(hashtext($1))", &[&name])
            .await;
    }
    removed
}

/// Marks the scratch database `name` as in use for as long as the returned connection
/// lives (a session advisory lock), so that other drills' sweeps leave it alone.
pub async fn hold(target: &Target, name: &str) -> Result<tokio_postgres::Client, String> {
    let client = connect(target, &target.database).await?;
    client
        .query_one("SELECT pg_advisory_lock(hashtext($1))", &[&name])
        .await
        .map_err(|e| {
            format!(
                "cannot lock the scratch database name {name}: {}",
                pg_error(&e)
            )
        })?;
    Ok(client)
}

/// Where `tool` (`pg_restore`, `psql`) is.
pub fn tool(target: &Target, name: &str) -> PathBuf {
    if let Some(dir) = &target.pg_bin_dir {
        return dir.join(name);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    // Debian keeps the server tools out of PATH; take the newest major version.
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.components()
            .nth(4)
            .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().unwrap_or_else(|| PathBuf::from(name))
}

/// Dump formats a drill restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// `pg_dump -Fc`: restored with `pg_restore --jobs`.
    Custom,
    /// Plain SQL: run with `psql`.
    Plain,
}

/// Restores `file` into `database` with the right tool.
pub async fn restore(
    target: &Target,
    database: &str,
    file: &Path,
    format: DumpFormat,
) -> Result<(), String> {
    let mut cmd = match format {
        DumpFormat::Custom => {
            let jobs = std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(1, 8);
            let mut c = tokio::process::Command::new(tool(target, "pg_restore"));
            c.args(["--no-owner", "--no-privileges", "--exit-on-error"])
                .arg(format!("--jobs={jobs}"))
                .arg("--dbname")
                .arg(database)
                .arg(file);
            c
        }
        DumpFormat::Plain => {
            let mut c = tokio::process::Command::new(tool(target, "psql"));
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname"])
                .arg(database)
                .arg("-f")
                .arg(file);
            c
        }
    };
    connection_env(&mut cmd, target);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let tool_name = if format == DumpFormat::Custom {
        "pg_restore"
    } else {
        "psql"
    };
    let out = cmd.output().await.map_err(|e| {
        format!("cannot run {tool_name}: {e} (set target.pg_bin_dir or put it on PATH)")
    })?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        Err(format!(
            "{tool_name} failed ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ))
    }
}

/// The first column of the first row of `sql` (None for NULL or no row), and the number of
/// rows; text as `psql` prints it.
pub async fn first_value(
    client: &tokio_postgres::Client,
    sql: &str,
) -> Result<(Option<String>, usize), String> {
    let messages = client.simple_query(sql).await.map_err(|e| pg_error(&e))?;
    let rows: Vec<_> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    let first = rows.first().and_then(|r| r.get(0)).map(str::to_string);
    Ok((first, rows.len()))
}

/// A `pg_restore`/`psql` command with the target's connection in its environment (the
/// password in the child's environment only).
pub(crate) fn tool_command(target: &Target, name: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(tool(target, name));
    connection_env(&mut cmd, target);
    cmd
}

/// The target's connection in a libpq tool's environment: host, port, user, the password
/// (never on the command line) and the TLS setting (`PGSSLMODE`, `PGSSLROOTCERT`).
fn connection_env(cmd: &mut tokio::process::Command, target: &Target) {
    cmd.env("PGHOST", &target.host)
        .env("PGPORT", target.port.to_string())
        .env("PGUSER", &target.username)
        .env("PGAPPNAME", "drkit-drill")
        .env_remove("PGPASSWORD")
        .kill_on_drop(true);
    tls_env(cmd, &target.tls);
    if let Some(p) = &target.password {
        cmd.env("PGPASSWORD", p.expose());
    }
}

/// `PGSSLMODE` and `PGSSLROOTCERT` of `tls` (libpq's own names; the caller's are replaced).
/// Without `tls_ca_file`, `verify-*` get the system bundle: libpq would otherwise look for
/// `~/.postgresql/root.crt`, and its `sslrootcert=system` needs libpq 16.
pub(crate) fn tls_env(cmd: &mut tokio::process::Command, tls: &crate::Tls) {
    cmd.env("PGSSLMODE", tls.mode.as_str())
        .env_remove("PGSSLROOTCERT");
    if let Some(ca) = tls.ca_bundle_for_tools() {
        cmd.env("PGSSLROOTCERT", ca);
    }
}

/// Age in seconds of the timestamp `sql` returns (`SELECT max(created_at) FROM orders`).
pub async fn freshness(target: &Target, database: &str, sql: &str) -> Result<f64, String> {
    let client = connect(target, database).await?;
    let wrapped = format!(
        "SELECT EXTRACT(EPOCH FROM (now() - ({})::timestamptz))::float8",
        sql.trim().trim_end_matches(';')
    );
    let row = client
        .query_one(&wrapped, &[])
        .await
        .map_err(|e| format!("freshness_sql failed: {}", pg_error(&e)))?;
    row.try_get::<_, Option<f64>>(0)
        .map_err(|e| format!("freshness_sql: {e}"))?
        .ok_or_else(|| "freshness_sql returned NULL: no data to date the restore by".to_string())
}
