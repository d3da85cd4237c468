//! The MySQL/MariaDB side of a drill: scratch databases, the `mariadb`/`mysql` client,
//! verification queries and the freshness query over the MySQL protocol (`mysql_async`).
//!
//! The password goes to the client crate through its API and to the client program through
//! `MYSQL_PWD` in the child's environment, never on a command line. Sessions use UTC
//! (`time_zone = '+00:00'`): `TIMESTAMP` values read as UTC and `DATETIME` values are taken
//! to be UTC, which is how `freshness_sql` dates them. No TLS, as for PostgreSQL targets.
//! MySQL 8's default `caching_sha2_password` works without TLS: the client crate fetches
//! the server's RSA key for the full authentication.

use std::path::PathBuf;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, Value};

use crate::{Engine, Target};

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An error as the report shows it: the server's message and code, or the driver's error.
pub(crate) fn error_text(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("{} (error {})", s.message, s.code),
        other => other.to_string(),
    }
}

/// Connects to `target`, in `database` unless it is empty.
pub async fn connect(target: &Target, database: &str) -> Result<Conn, String> {
    let mut opts = OptsBuilder::default()
        .ip_or_hostname(target.host.clone())
        .tcp_port(target.port)
        .user(Some(target.username.clone()))
        .pass(target.password.as_ref().map(|p| p.expose().to_string()))
        // The crate would otherwise switch a loopback connection to the server's socket.
        .prefer_socket(false)
        .init(vec!["SET time_zone = '+00:00'"]);
    if !database.is_empty() {
        opts = opts.db_name(Some(database));
    }
    let at = if database.is_empty() {
        format!("{}@{}:{}", target.username, target.host, target.port)
    } else {
        format!(
            "{}@{}:{}/{database}",
            target.username, target.host, target.port
        )
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("cannot connect to {at}: {}", error_text(&e))),
        Err(_) => Err(format!(
            "cannot connect to {at}: no answer within {}s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// `name` quoted as a MySQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

async fn execute(target: &Target, sql: &str) -> Result<(), String> {
    let mut conn = connect(target, "").await?;
    let done = conn.query_drop(sql).await.map_err(|e| error_text(&e));
    let _ = conn.disconnect().await;
    done
}

/// Creates the scratch database.
pub async fn create_scratch(target: &Target, name: &str) -> Result<(), String> {
    execute(target, &format!("CREATE DATABASE {}", quote_ident(name)))
        .await
        .map_err(|e| format!("cannot create the scratch database {name}: {e}"))
}

/// Drops the scratch database.
pub async fn drop_scratch(target: &Target, name: &str) -> Result<(), String> {
    execute(
        target,
        &format!("DROP DATABASE IF EXISTS {}", quote_ident(name)),
    )
    .await
    .map_err(|e| format!("cannot drop the scratch database {name}: {e}"))
}

/// Marks the scratch database `name` as in use for as long as the returned connection
/// lives (a named lock, `GET_LOCK`), so that other drills' sweeps leave it alone.
pub async fn hold(target: &Target, name: &str) -> Result<Conn, String> {
    let mut conn = connect(target, "").await?;
    let got: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, 10)", (name,))
        .await
        .map_err(|e| {
            format!(
                "cannot lock the scratch database name {name}: {}",
                error_text(&e)
            )
        })?;
    if got.flatten() != Some(1) {
        return Err(format!(
            "the scratch database name {name} is locked by another session: is the same drill running twice?"
        ));
    }
    Ok(conn)
}

/// Drops scratch databases left by interrupted drills: those whose named lock is free.
pub async fn sweep(target: &Target) -> Vec<String> {
    let Ok(mut conn) = connect(target, "").await else {
        return Vec::new();
    };
    let names: Vec<String> = conn
        .query(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'drkit\\_drill\\_%'",
        )
        .await
        .unwrap_or_default();
    let mut removed = Vec::new();
    for name in names {
        // A running drill (here or in another process) holds its database's lock.
        let free: Option<Option<i64>> = conn
            .exec_first("SELECT GET_LOCK(?, 0)", (&name,))
            .await
            .unwrap_or(None);
        if free.flatten() != Some(1) {
            continue;
        }
        if conn
            .query_drop(format!("DROP DATABASE IF EXISTS {}", quote_ident(&name)))
            .await
            .is_ok()
        {
            removed.push(format!(
                "scratch database {name} on {}:{}",
                target.host, target.port
            ));
        }
        let _ = conn.exec_drop("SELECT RELEASE_LOCK(?)", (&name,)).await;
    }
    let _ = conn.disconnect().await;
    removed
}

/// The first column of the first row of `sql` (None for NULL or no row), and the number of
/// rows; text as the `mysql` client prints it.
pub async fn first_value(conn: &mut Conn, sql: &str) -> Result<(Option<String>, usize), String> {
    let rows: Vec<Row> = conn.query(sql).await.map_err(|e| error_text(&e))?;
    let first = rows
        .first()
        .and_then(|r| r.as_ref(0))
        .and_then(|v| match v {
            Value::NULL => None,
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            other => Some(other.as_sql(true).trim_matches('\'').to_string()),
        });
    Ok((first, rows.len()))
}

/// Age in seconds of the timestamp `sql` returns (`SELECT max(created_at) FROM orders`),
/// measured by the server's clock in UTC.
pub async fn freshness(target: &Target, database: &str, sql: &str) -> Result<f64, String> {
    let mut conn = connect(target, database).await?;
    let wrapped = format!(
        "SELECT TIMESTAMPDIFF(MICROSECOND, ({}), UTC_TIMESTAMP(6)) / 1000000",
        sql.trim().trim_end_matches(';')
    );
    let value = first_value(&mut conn, &wrapped)
        .await
        .map_err(|e| format!("freshness_sql failed: {e}"));
    let _ = conn.disconnect().await;
    let (value, _) = value?;
    value
        .ok_or_else(|| "freshness_sql returned NULL: no data to date the restore by".to_string())?
        .parse::<f64>()
        .map_err(|e| format!("freshness_sql: {e}"))
}

/// The client program for `engine`: `mariadb` for MariaDB and `mysql` for MySQL, each
/// falling back to the other (Debian's `mysql` is MariaDB's client), on PATH or in
/// `/usr/bin`.
pub(crate) fn client_program(engine: Engine) -> Result<PathBuf, String> {
    let order = if engine == Engine::Mariadb {
        ["mariadb", "mysql"]
    } else {
        ["mysql", "mariadb"]
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .collect();
    order
        .iter()
        .find_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()))
        .ok_or_else(|| {
            "neither `mariadb` nor `mysql` is on PATH: install the client (Debian: mariadb-client; MySQL: mysql-client)".to_string()
        })
}

/// The client connected to `database` on `target`, option files ignored (they could
/// override the password), TCP even for `localhost`, the password in `MYSQL_PWD`.
pub(crate) fn client_command(
    target: &Target,
    database: &str,
) -> Result<tokio::process::Command, String> {
    let program = client_program(target.engine)?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg("--no-defaults")
        .arg(format!("--host={}", target.host))
        .arg(format!("--port={}", target.port))
        .arg(format!("--user={}", target.username))
        .arg("--protocol=TCP")
        .arg(format!("--database={database}"))
        .env_remove("MYSQL_PWD")
        .env_remove("MYSQL_HOST")
        .env_remove("MYSQL_TCP_PORT")
        .env_remove("MYSQL_UNIX_PORT")
        .kill_on_drop(true);
    if let Some(p) = &target.password {
        cmd.env("MYSQL_PWD", p.expose());
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_backticks() {
        assert_eq!(quote_ident("drkit_drill_1"), "`drkit_drill_1`");
        assert_eq!(quote_ident("a`b"), "`a``b`");
    }
}
