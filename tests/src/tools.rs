//! Where the external tools are, and free ports. Each lookup fails with the command that
//! installs the missing piece.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The repository root (the workspace that contains this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The project's tool directory, where `scripts/setup` puts the moto virtualenv.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("DRKIT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools"))
}

/// The `moto_server` executable from the project's virtualenv.
pub fn moto_server() -> Result<PathBuf> {
    let path = tools_dir().join("venv/bin/moto_server");
    if !path.is_file() {
        bail!(
            "moto_server not found at {}: run `scripts/setup` (it creates the virtualenv with the pinned moto[server])",
            path.display()
        );
    }
    Ok(path)
}

/// A Python 3 interpreter: the project's virtualenv's (made by `scripts/setup`), else
/// `python3` on PATH.
pub fn python() -> Result<PathBuf> {
    let venv = tools_dir().join("venv/bin/python");
    if venv.is_file() {
        return Ok(venv);
    }
    find_on_path("python3").context(
        "no Python 3: run `scripts/setup` (it creates the project's virtualenv) or install python3",
    )
}

/// The `terraform` CLI: `$DRKIT_TERRAFORM`, else `terraform` on PATH.
pub fn terraform() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("DRKIT_TERRAFORM") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "DRKIT_TERRAFORM={} does not exist: point it at the terraform binary",
                path.display()
            );
        }
        return Ok(path);
    }
    find_on_path("terraform").context(
        "no `terraform` on PATH: the acceptance tests drive the real Terraform CLI; install \
         Terraform >= 1.5 (or set DRKIT_TERRAFORM to its path)",
    )
}

/// The directory with PostgreSQL's server binaries (`initdb`, `pg_ctl`, `postgres`).
pub fn pg_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DRKIT_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let candidate = PathBuf::from("/usr/lib/postgresql/15/bin");
    if candidate.join("initdb").is_file() {
        return Ok(candidate);
    }
    if let Some(initdb) = find_on_path("initdb") {
        return Ok(initdb.parent().unwrap_or(Path::new("/")).to_path_buf());
    }
    bail!(
        "PostgreSQL 15 server binaries not found (looked in /usr/lib/postgresql/15/bin and PATH): \
         install Debian's postgresql-15 or set DRKIT_PG_BIN"
    )
}

/// A MariaDB program (`mariadbd`, `mariadb-install-db`, `mariadb`, `mariadb-dump`,
/// `mariadb-binlog`): `$DRKIT_MARIADB_BIN/<name>`, else PATH, else `/usr/sbin` and `/usr/bin`
/// (Debian puts `mariadbd` in `/usr/sbin`, outside a user's PATH).
pub fn mariadb_program(name: &str) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DRKIT_MARIADB_BIN") {
        return Ok(PathBuf::from(dir).join(name));
    }
    find_on_path(name)
        .or_else(|| {
            ["/usr/sbin", "/usr/bin"]
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
        })
        .with_context(|| {
            format!(
                "{name} not found (PATH, /usr/sbin, /usr/bin): run `scripts/setup` (it installs Debian's mariadb-server and mariadb-client) or set DRKIT_MARIADB_BIN"
            )
        })
}

/// uid and gid of the system user `name` (`postgres`, `mysql`), from /etc/passwd.
pub fn system_user_ids(name: &str) -> Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.first() == Some(&name) && fields.len() > 3 {
            return Ok((fields[2].parse()?, fields[3].parse()?));
        }
    }
    bail!("no user {name:?} in /etc/passwd")
}

/// A program on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A TCP port on 127.0.0.1 that was free a moment ago. The OS does not hand the same
/// ephemeral port out again at once, so the small race with the server's bind is acceptable.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// True when this process runs as root (initdb then needs `runuser -u postgres`).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// True while process `pid` runs (a zombie counts as gone: it no longer does anything).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Environment for a terraform run that must make no AWS call of consequence: fake
/// credentials, no instance metadata lookups, no shared config files.
pub fn offline_aws_env() -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}
