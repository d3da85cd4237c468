//! `verify { command = [...] }`: an integration test run against the restored copy.
//!
//! The command gets `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER` and `PGPASSWORD` of the copy
//! (every libpq client, `psql` and most test suites read them), or for a MySQL or MariaDB
//! copy `MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_PWD` (read by the `mysql`/`mariadb` clients),
//! `MYSQL_DATABASE` and `MYSQL_USER` (the names Docker images and test suites use). The TLS
//! setting comes along: `PGSSLMODE` and `PGSSLROOTCERT` (read by libpq), or `MYSQL_SSL_MODE`
//! (MySQL's `--ssl-mode` names) and `MYSQL_SSL_CA` for the test to pass on. It runs
//! in its own process group under a time limit, and passes when it exits 0. When it times out, fails, or the
//! drill is interrupted, the whole group is killed, so a test suite's children do not
//! outlive the drill. The last lines of its output go into the report, the password
//! replaced by `***`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::report::now_rfc3339;
use crate::{Target, VerifyResult};

/// Lines of output kept for the report.
pub const OUTPUT_LINES: usize = 20;
/// The limit of a command check when the configuration sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A command run against the restored copy.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandCheck {
    /// Program and arguments (no shell: write `["sh", "-c", "..."]` for one).
    pub argv: Vec<String>,
    /// Limit; the process group is killed after it.
    pub timeout: Duration,
    /// Working directory; default the drill process's (Terraform's working directory).
    pub working_dir: Option<PathBuf>,
}

impl CommandCheck {
    /// The command line as a shell would show it.
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|a| {
                if !a.is_empty()
                    && a.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
                {
                    a.clone()
                } else {
                    format!("'{}'", a.replace('\'', r"'\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Kills a process group when dropped (a timeout, a failure, or the drill's future dropped
/// on cancellation): what the command started must not outlive the drill.
struct GroupGuard(Option<rustix::process::Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            // ESRCH: the group is gone already.
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
    }
}

/// Runs `check` against `database` on `target` and returns its result.
pub(crate) async fn run(
    name: &str,
    check: &CommandCheck,
    target: &Target,
    database: &str,
) -> VerifyResult {
    let at = now_rfc3339();
    let password = target.password.as_ref().map(|p| p.expose().to_string());
    let redact = |s: &str| match &password {
        Some(p) if !p.is_empty() => s.replace(p.as_str(), "***"),
        _ => s.to_string(),
    };
    let result =
        |value: Option<String>, passed: bool, error: Option<String>, output: String| VerifyResult {
            name: name.to_string(),
            sql: redact(&check.display()),
            expect: "exit 0".into(),
            value,
            passed,
            at: at.clone(),
            error: error.map(|e| redact(&e)),
            output: Some(redact(&output)).filter(|o| !o.is_empty()),
        };
    let Some((program, args)) = check.argv.split_first() else {
        return result(None, false, Some("empty command".into()), String::new());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    // The caller's own connection settings never reach the test: only the copy's.
    for var in [
        "PGPASSWORD",
        "PGSERVICE",
        "DATABASE_URL",
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
        "MYSQL_DATABASE",
        "MYSQL_USER",
        "MYSQL_SSL_MODE",
        "MYSQL_SSL_CA",
    ] {
        cmd.env_remove(var);
    }
    let password_var = if target.engine.is_mysql() {
        cmd.env("MYSQL_HOST", &target.host)
            .env("MYSQL_TCP_PORT", target.port.to_string())
            .env("MYSQL_DATABASE", database)
            .env("MYSQL_USER", &target.username)
            // No client reads these: tests pass them on (`--ssl-mode="$MYSQL_SSL_MODE"`).
            .env("MYSQL_SSL_MODE", target.tls.mode.mysql_name());
        if let Some(ca) = target.tls.ca_bundle_for_tools() {
            cmd.env("MYSQL_SSL_CA", ca);
        }
        "MYSQL_PWD"
    } else {
        cmd.env("PGHOST", &target.host)
            .env("PGPORT", target.port.to_string())
            .env("PGDATABASE", database)
            .env("PGUSER", &target.username);
        crate::postgres::tls_env(&mut cmd, &target.tls);
        "PGPASSWORD"
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(p) = &target.password {
        cmd.env(password_var, p.expose());
    }
    if let Some(dir) = &check.working_dir {
        cmd.current_dir(dir);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let cwd = check
                .working_dir
                .clone()
                .or_else(|| std::env::current_dir().ok())
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            return result(
                None,
                false,
                Some(format!("cannot run {program:?} (in {cwd}): {e}")),
                String::new(),
            );
        }
    };
    let guard = GroupGuard(
        child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32)),
    );
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let readers = [
        child.stdout.take().map(|s| collect(s, tail.clone())),
        child.stderr.take().map(|s| collect(s, tail.clone())),
    ];
    let waited = tokio::time::timeout(check.timeout, child.wait()).await;
    // Whatever the outcome, nothing the command started survives it.
    drop(guard);
    for r in readers.into_iter().flatten() {
        // The pipes close with the group; a grandchild holding one is dead by now too.
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
    }
    let output = tail
        .lock()
        .map(|t| t.iter().cloned().collect::<Vec<String>>().join("\n"))
        .unwrap_or_default();
    match waited {
        Err(_) => result(
            Some("timed out".into()),
            false,
            Some(format!(
                "no exit within {}s: the command and its process group were killed",
                check.timeout.as_secs_f64()
            )),
            output,
        ),
        Ok(Err(e)) => result(None, false, Some(e.to_string()), output),
        Ok(Ok(status)) => {
            let value = match status.code() {
                Some(code) => format!("exit {code}"),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    format!("killed by signal {}", status.signal().unwrap_or_default())
                }
            };
            result(Some(value), status.success(), None, output)
        }
    }
}

/// Reads lines into `tail`, keeping the last [`OUTPUT_LINES`].
fn collect(
    stream: impl AsyncRead + Unpin + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut t) = tail.lock() {
                if t.len() == OUTPUT_LINES {
                    t.pop_front();
                }
                t.push_back(line.chars().take(500).collect());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_is_shown_quoted_where_needed() {
        let c = CommandCheck {
            argv: vec!["./smoke.sh".into(), "--fast".into(), "it's".into()],
            timeout: DEFAULT_TIMEOUT,
            working_dir: None,
        };
        assert_eq!(c.display(), r"./smoke.sh --fast 'it'\''s'");
    }
}
