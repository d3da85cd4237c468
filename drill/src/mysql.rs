//! The MySQL/MariaDB side of a drill: scratch databases, the `mariadb`/`mysql` client,
//! verification queries and the freshness query over the MySQL protocol (`mysql_async`).
//!
//! The password goes to the client crate through its API and to the client program through
//! `MYSQL_PWD` in the child's environment, never on a command line. Sessions use UTC
//! (`time_zone = '+00:00'`): `TIMESTAMP` values read as UTC and `DATETIME` values are taken
//! to be UTC, which is how `freshness_sql` dates them. TLS follows the target's `tls_mode`
//! (rustls on ring); MySQL 8's default `caching_sha2_password` also works without TLS: the
//! client crate fetches the server's RSA key for the full authentication.

use std::path::PathBuf;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, SslOpts, Value};

use crate::tls::{Tls, TlsMode};
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

/// The client crate's TLS options of `tls` (none for `disable`): `prefer` and `require`
/// accept any certificate (libpq's meaning), `verify-full` checks the chain and the host
/// name; the CAs are `tls_ca_file`'s or the system's, never the crate's built-in bundle.
/// `verify-ca` asks the crate to skip the name, but mysql_async 0.36 recognises the name
/// error by a text rustls 0.23.46 no longer prints: the name is checked too (tested, and
/// said in the guide).
fn ssl_opts(tls: &Tls) -> Result<Option<SslOpts>, String> {
    if tls.mode == TlsMode::Disable {
        return Ok(None);
    }
    if !tls.mode.verifies() {
        // The crate builds its verifier from its roots even when it accepts any
        // certificate: keep its built-in ones, unused.
        return Ok(Some(
            SslOpts::default().with_danger_accept_invalid_certs(true),
        ));
    }
    let roots = match &tls.ca_file {
        Some(path) => {
            crate::tls::read_ca_file(path)?;
            vec![path.clone().into()]
        }
        None => crate::tls::system_certificates()
            .into_iter()
            .map(|c| c.to_vec().into())
            .collect(),
    };
    Ok(Some(
        SslOpts::default()
            .with_disable_built_in_roots(true)
            .with_root_certs(roots)
            .with_danger_skip_domain_validation(tls.mode == TlsMode::VerifyCa),
    ))
}

/// Whether a `prefer` connection to `host:port` found TLS, for the client program, which
/// has no "prefer" of its own (MariaDB's `--ssl` insists on TLS).
static PREFER_FOUND_TLS: std::sync::Mutex<Vec<(String, u16, bool)>> =
    std::sync::Mutex::new(Vec::new());

fn remember_prefer(target: &Target, tls: bool) {
    if let Ok(mut seen) = PREFER_FOUND_TLS.lock() {
        seen.retain(|(h, p, _)| !(h == &target.host && *p == target.port));
        seen.push((target.host.clone(), target.port, tls));
    }
}

fn prefer_found_tls(target: &Target) -> Option<bool> {
    let seen = PREFER_FOUND_TLS.lock().ok()?;
    seen.iter()
        .find(|(h, p, _)| h == &target.host && *p == target.port)
        .map(|(_, _, tls)| *tls)
}

/// Connects to `target`, in `database` unless it is empty, with its TLS setting; `prefer`
/// falls back to plain text when the server offers no TLS.
pub async fn connect(target: &Target, database: &str) -> Result<Conn, String> {
    let tls = &target.tls;
    let at = if database.is_empty() {
        format!("{}@{}:{}", target.username, target.host, target.port)
    } else {
        format!(
            "{}@{}:{}/{database}",
            target.username, target.host, target.port
        )
    };
    let ssl = ssl_opts(tls)?;
    let encrypted = ssl.is_some();
    match connect_with(target, database, ssl).await {
        Err(ConnectError::Driver(mysql_async::Error::Driver(
            mysql_async::DriverError::NoClientSslFlagFromServer,
        ))) if tls.mode == TlsMode::Prefer => {
            let conn = connect_with(target, database, None)
                .await
                .map_err(|e| e.explain(&at, tls))?;
            remember_prefer(target, false);
            Ok(conn)
        }
        Ok(conn) => {
            if tls.mode == TlsMode::Prefer {
                remember_prefer(target, encrypted);
            }
            Ok(conn)
        }
        Err(e) => Err(e.explain(&at, tls)),
    }
}

/// Why a connection attempt failed.
enum ConnectError {
    Driver(mysql_async::Error),
    Timeout,
}

impl ConnectError {
    fn explain(&self, at: &str, tls: &Tls) -> String {
        match self {
            ConnectError::Driver(e) => {
                let text = error_text(e);
                format!("cannot connect to {at}: {text}{}", tls.explain(&text))
            }
            ConnectError::Timeout => format!(
                "cannot connect to {at}: no answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            ),
        }
    }
}

async fn connect_with(
    target: &Target,
    database: &str,
    ssl: Option<SslOpts>,
) -> Result<Conn, ConnectError> {
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
    opts = opts.ssl_opts(ssl);
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(ConnectError::Driver(e)),
        Err(_) => Err(ConnectError::Timeout),
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
    cmd.args(client_tls_args(
        target,
        is_mariadb_client(cmd.as_std().get_program()),
    ));
    if let Some(p) = &target.password {
        cmd.env("MYSQL_PWD", p.expose());
    }
    Ok(cmd)
}

/// Whether `program` is MariaDB's client (Debian's `mysql` is): its TLS options differ from
/// MySQL's. Asked once per program (`--version`).
fn is_mariadb_client(program: &std::ffi::OsStr) -> bool {
    static SEEN: std::sync::Mutex<Vec<(std::ffi::OsString, bool)>> =
        std::sync::Mutex::new(Vec::new());
    if let Some(known) = SEEN.lock().ok().and_then(|s| {
        s.iter()
            .find(|(p, _)| p.as_os_str() == program)
            .map(|(_, m)| *m)
    }) {
        return known;
    }
    let mariadb = std::process::Command::new(program)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("MariaDB"))
        // Cannot tell: MariaDB's is what Debian and the drill's own servers have.
        .unwrap_or(true);
    if let Ok(mut s) = SEEN.lock() {
        s.push((program.to_owned(), mariadb));
    }
    mariadb
}

/// The client program's TLS options for the target's `tls_mode`. MySQL's client takes
/// `--ssl-mode` (5.7 and later). MariaDB's (10.x, 11.x) takes `--ssl`, which insists on
/// TLS, `--ssl-ca` and `--ssl-verify-server-cert`, which checks the chain and the name
/// together: for `verify-ca` it checks neither (the drill's own connection, made first,
/// checked the chain), and for `prefer` it follows what that connection found.
fn client_tls_args(target: &Target, mariadb: bool) -> Vec<String> {
    let tls = &target.tls;
    let mut args = Vec::new();
    if mariadb {
        let encrypt = match tls.mode {
            TlsMode::Disable => false,
            TlsMode::Prefer => prefer_found_tls(target) == Some(true),
            _ => true,
        };
        if !encrypt {
            args.push("--skip-ssl".to_string());
            return args;
        }
        args.push("--ssl".into());
        if tls.mode == TlsMode::VerifyFull {
            args.push("--ssl-verify-server-cert".into());
        } else {
            // MariaDB 11.4's client verifies by default; prefer/require do not.
            args.push("--skip-ssl-verify-server-cert".into());
        }
    } else {
        args.push(format!("--ssl-mode={}", tls.mode.mysql_name()));
    }
    if let Some(ca) = tls.ca_bundle_for_tools() {
        args.push(format!("--ssl-ca={}", ca.display()));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(mode: TlsMode, ca: Option<&str>) -> Target {
        Target {
            engine: Engine::Mariadb,
            host: "db.example".into(),
            port: 3306,
            database: String::new(),
            username: "drill".into(),
            password: None,
            pg_bin_dir: None,
            tls: Tls {
                mode,
                ca_file: ca.map(Into::into),
            },
        }
    }

    #[test]
    fn each_client_gets_its_own_spelling_of_the_tls_mode() {
        let full = target(TlsMode::VerifyFull, Some("/etc/rds/global-bundle.pem"));
        assert_eq!(
            client_tls_args(&full, true),
            [
                "--ssl",
                "--ssl-verify-server-cert",
                "--ssl-ca=/etc/rds/global-bundle.pem"
            ]
        );
        assert_eq!(
            client_tls_args(&full, false),
            [
                "--ssl-mode=VERIFY_IDENTITY",
                "--ssl-ca=/etc/rds/global-bundle.pem"
            ]
        );
        let require = target(TlsMode::Require, None);
        assert_eq!(
            client_tls_args(&require, true),
            ["--ssl", "--skip-ssl-verify-server-cert"]
        );
        assert_eq!(client_tls_args(&require, false), ["--ssl-mode=REQUIRED"]);
        let disable = target(TlsMode::Disable, None);
        assert_eq!(client_tls_args(&disable, true), ["--skip-ssl"]);
        assert_eq!(client_tls_args(&disable, false), ["--ssl-mode=DISABLED"]);
        // prefer follows what the drill's own connection found.
        let prefer = target(TlsMode::Prefer, None);
        assert_eq!(client_tls_args(&prefer, true), ["--skip-ssl"]);
        remember_prefer(&prefer, true);
        assert_eq!(
            client_tls_args(&prefer, true),
            ["--ssl", "--skip-ssl-verify-server-cert"]
        );
        assert_eq!(client_tls_args(&prefer, false), ["--ssl-mode=PREFERRED"]);
    }

    #[test]
    fn identifiers_are_quoted_with_backticks() {
        assert_eq!(quote_ident("drkit_drill_1"), "`drkit_drill_1`");
        assert_eq!(quote_ident("a`b"), "`a``b`");
    }
}
