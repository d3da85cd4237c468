//! The temporary PostgreSQL server of a PITR drill and the directory it lives in.
//!
//! The directory (`$TMPDIR/drkit-pitr-<run>-XXXXXX`, mode 0700) holds the data directory,
//! the WAL spool, a private socket directory, the downloads, the server log and an `owner`
//! marker with the drill process's pid and start time. As root, PostgreSQL refuses to run,
//! so the directory and everything the server touches belong to `postgres`, and the server
//! and `tar` run as that user (`setpriv`, which execs in place: the child is the
//! postmaster itself).
//!
//! [`sweep`] finds directories whose owner process is gone (a killed drill), stops the
//! server still running in them and removes them; a directory whose owner lives is never
//! touched.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Prefix of the drill directories in the temporary directory.
pub const DIR_PREFIX: &str = "drkit-pitr-";
/// Prefix of a `postgres_dump` drill's download directory, swept the same way.
pub const DUMP_DIR_PREFIX: &str = "drkit-drill-";
const OWNER_FILE: &str = "owner";

/// True when this process runs as root.
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// uid and gid of the system user `user` the temporary server runs as when the drill runs
/// as root (`postgres`, `mysql`).
pub fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&user) && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .ok_or_else(|| format!("running as root, but there is no `{user}` user to run the temporary server as (the server refuses root): create it (its server package does) or run the drill as a non-root user"))
}

/// The identity of a process: its pid and its start time (clock ticks since boot), so a
/// reused pid is not mistaken for the drill.
fn process_identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    Some(format!("{pid} {}", fields.get(19)?))
}

/// Marks `dir` as this process's: the sweep removes it once the process is gone (killed
/// before its teardown ran), never while it runs.
pub fn write_owner_marker(dir: &Path) -> Result<(), String> {
    let me = process_identity(std::process::id()).unwrap_or_default();
    std::fs::write(dir.join(OWNER_FILE), me).map_err(|e| format!("{}: {e}", dir.display()))
}

/// The drill's working directory.
#[derive(Debug)]
pub struct Workdir {
    /// Its path.
    pub root: PathBuf,
    /// Owner of what the server touches (uid, gid) when running as root.
    pub owner: Option<(u32, u32)>,
}

impl Workdir {
    /// Creates the directory with its owner marker and sub-directories.
    pub fn create(run_id: &str) -> Result<Workdir, String> {
        Workdir::create_for(run_id, "postgres")
    }

    /// [`Workdir::create`] for a server that runs as `user` when the drill runs as root.
    pub fn create_for(run_id: &str, user: &str) -> Result<Workdir, String> {
        let owner = if is_root() {
            Some(user_ids(user)?)
        } else {
            None
        };
        let root = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", crate::name_safe(run_id, '-')))
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            .keep();
        let dir = Workdir { root, owner };
        write_owner_marker(&dir.root)?;
        for sub in ["data", "spool", "sock", "download"] {
            let p = dir.root.join(sub);
            std::fs::create_dir(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            set_mode(&p, 0o700)?;
            if sub != "download" {
                dir.chown(&p)?;
            }
        }
        dir.chown(&dir.root)?;
        Ok(dir)
    }

    /// Gives `path` to the server's user (a no-op when not root).
    pub fn chown(&self, path: &Path) -> Result<(), String> {
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    /// The WAL spool.
    pub fn spool(&self) -> PathBuf {
        self.root.join("spool")
    }
    /// The private socket directory.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("sock")
    }
    /// Where the base backup is downloaded (only the drill reads it).
    pub fn downloads(&self) -> PathBuf {
        self.root.join("download")
    }
    /// The server's log.
    pub fn log(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Removes the directory.
    pub fn remove(&self) -> Result<(), String> {
        std::fs::remove_dir_all(&self.root).map_err(|e| format!("{}: {e}", self.root.display()))
    }

    /// A command that runs as the server's user.
    pub fn command(&self, program: &Path) -> tokio::process::Command {
        let mut cmd = if let Some((uid, gid)) = self.owner {
            let mut c = tokio::process::Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg("--")
                .arg(program);
            c
        } else {
            tokio::process::Command::new(program)
        };
        // The server and the tools must not pick up the caller's connection settings.
        for var in [
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGPASSWORD",
            "PGDATABASE",
            "PGDATA",
        ] {
            cmd.env_remove(var);
        }
        cmd.current_dir(&self.root).stdin(Stdio::null());
        cmd
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

/// Extracts a `.tar.gz` into `into` as the server's user (`tar` reads it on stdin, so the
/// download itself stays the drill's).
pub async fn extract(dir: &Workdir, archive: &Path, into: &Path) -> Result<(), String> {
    let file = std::fs::File::open(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let gz = archive.extension().is_some_and(|e| e == "gz");
    let mut cmd = dir.command(Path::new("tar"));
    cmd.arg(if gz { "-xzf" } else { "-xf" })
        .arg("-")
        .arg("-C")
        .arg(into)
        .stdin(Stdio::from(file))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = cmd
        .output()
        .await
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "extracting {} failed: {}",
            archive.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Where the server binaries of major version `major` are: `configured`, else Debian's
/// `/usr/lib/postgresql/<major>/bin`.
pub fn bin_dir(configured: Option<&Path>, major: &str) -> Result<PathBuf, String> {
    let dir = configured.map_or_else(
        || PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
        Path::to_path_buf,
    );
    let postgres = dir.join("postgres");
    if !postgres.is_file() {
        return Err(format!(
            "the base backup is PostgreSQL {major}, but {} does not exist: install PostgreSQL {major}'s server (Debian: postgresql-{major}) or set pg_bin_dir",
            postgres.display()
        ));
    }
    let out = std::process::Command::new(&postgres)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", postgres.display()))?;
    let version = String::from_utf8_lossy(&out.stdout);
    let found = version
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.split('.').next())
        .unwrap_or("");
    if found != major {
        return Err(format!(
            "the base backup is PostgreSQL {major}, but {} is {}: a server only replays WAL of its own major version; point pg_bin_dir at PostgreSQL {major}",
            postgres.display(),
            version.trim()
        ));
    }
    Ok(dir)
}

/// The running temporary server.
#[derive(Debug)]
pub struct Server {
    child: tokio::process::Child,
    /// The postmaster's pid.
    pub pid: u32,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

/// Starts the postmaster on a free loopback port with the private socket directory. The
/// settings on the command line win over the backup's configuration: above all
/// `archive_mode = off`, so the copy never archives into the production archive.
pub async fn start(dir: &Workdir, bin: &Path, hba: &Path) -> Result<Server, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
        .port();
    let log = std::fs::File::create(dir.log()).map_err(|e| e.to_string())?;
    let mut cmd = dir.command(&bin.join("postgres"));
    cmd.arg("-D").arg(dir.data());
    let settings = [
        format!("port={port}"),
        "listen_addresses=127.0.0.1".to_string(),
        format!("unix_socket_directories={}", dir.socket_dir().display()),
        format!("hba_file={}", hba.display()),
        "archive_mode=off".into(),
        "archive_command=".into(),
        "logging_collector=off".into(),
        "log_destination=stderr".into(),
        "ssl=off".into(),
        // The drill reads the server's messages ("recovery ended before configured recovery
        // target was reached") and shows its log: English and UTC, whatever the backup's
        // postgresql.conf says (a German lc_messages would hide the fallback).
        "lc_messages=C".into(),
        "log_timezone=UTC".into(),
        "hot_standby=on".into(),
        "cluster_name=drkit-pitr".into(),
    ];
    for s in &settings {
        cmd.arg("-c").arg(s);
    }
    cmd.stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.join("postgres").display()))?;
    let pid = child.id().unwrap_or_default();
    Ok(Server { child, pid, port })
}

impl Server {
    /// The exit status, once the postmaster has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the server: fast shutdown, then immediate, then SIGKILL. Returns how it went.
    pub async fn stop(&mut self) -> Result<String, String> {
        for (signal, mode, wait) in [
            ("INT", "fast", Duration::from_secs(30)),
            ("QUIT", "immediate", Duration::from_secs(10)),
            ("KILL", "killed", Duration::from_secs(10)),
        ] {
            if self.exited().is_some() {
                return Ok("already stopped".into());
            }
            signal_pid(self.pid, signal).await;
            if tokio::time::timeout(wait, self.child.wait()).await.is_ok() {
                return Ok(format!("{mode} shutdown"));
            }
        }
        Err(format!("postmaster {} did not exit", self.pid))
    }
}

pub(crate) async fn signal_pid(pid: u32, signal: &str) {
    let _ = tokio::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// The last `n` lines of the server log.
pub fn log_tail(dir: &Workdir, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(dir.log()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// Removes the directories of drills whose process is gone, stopping the server left
/// running in them. Returns what it removed.
pub async fn sweep() -> Vec<String> {
    sweep_in(&std::env::temp_dir()).await
}

/// [`sweep`] in `parent`.
pub async fn sweep_in(parent: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(DIR_PREFIX) || n.starts_with(DUMP_DIR_PREFIX));
        let Ok(marker) = std::fs::read_to_string(path.join(OWNER_FILE)) else {
            continue;
        };
        if !is_ours {
            continue;
        }
        let owner_alive = marker
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .and_then(process_identity)
            .is_some_and(|now| now == marker.trim());
        if owner_alive {
            continue;
        }
        let mut what = format!("drill directory {}", path.display());
        if let Some(pid) = leftover_postmaster(&path.join("data")) {
            for (signal, wait) in [("QUIT", 50), ("KILL", 50)] {
                signal_pid(pid, signal).await;
                for _ in 0..wait {
                    if process_identity(pid).is_none() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if process_identity(pid).is_none() {
                    break;
                }
            }
            what.push_str(&format!(" and its server (pid {pid})"));
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            removed.push(what);
        }
    }
    removed
}

/// The pid of a server still running on `data` (a postmaster's `postmaster.pid`, a
/// `mysql_binlog` drill's `mariadbd.pid` beside it), checked against its command line, so
/// a reused pid is left alone.
fn leftover_postmaster(data: &Path) -> Option<u32> {
    let mariadb = data
        .parent()
        .map(|root| root.join(crate::mysql_server::PID_FILE));
    let pid: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .or_else(|| std::fs::read_to_string(mariadb?).ok())?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    (process_identity(pid).is_some() && cmdline.contains(&*data.to_string_lossy())).then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sweep_removes_dead_owners_directories_and_leaves_live_ones() {
        let parent = tempfile::tempdir().unwrap();
        let dead = parent.path().join(format!("{DIR_PREFIX}dead"));
        let live = parent.path().join(format!("{DIR_PREFIX}live"));
        let other = parent.path().join("someone-else");
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).unwrap();
        }
        // A pid that cannot be running (above pid_max's maximum).
        std::fs::write(dead.join(OWNER_FILE), "4194305 1").unwrap();
        std::fs::write(
            live.join(OWNER_FILE),
            process_identity(std::process::id()).unwrap(),
        )
        .unwrap();
        std::fs::write(other.join(OWNER_FILE), "4194305 1").unwrap();
        let removed = sweep_in(parent.path()).await;
        assert_eq!(removed.len(), 1, "{removed:?}");
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }
}
