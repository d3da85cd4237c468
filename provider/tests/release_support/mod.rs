//! Shared setup of the release tests: a throwaway GPG key, `scripts/release` run on the
//! test build (`--bin-dir`, no second cargo build), and the hashes Terraform records,
//! computed independently of Terraform.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use drkit_testkit::tools;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The version being released: the workspace's, which the binaries print.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The provider binary under test.
pub const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-dr");

/// `terraform-provider-dr_VERSION`, the prefix of every provider release file.
pub fn prefix() -> String {
    format!("terraform-provider-dr_{VERSION}")
}

/// The provider's linux_amd64 archive name.
pub fn zip_name() -> String {
    format!("{}_linux_amd64.zip", prefix())
}

/// The executable inside the archive.
pub fn exe_name() -> String {
    format!("terraform-provider-dr_v{VERSION}")
}

/// drlint's linux_amd64 tarball name.
pub fn drlint_tarball() -> String {
    format!("drlint-{VERSION}-x86_64-unknown-linux-gnu.tar.gz")
}

/// drkit's (the evidence CLI's) linux_amd64 tarball name.
pub fn drkit_tarball() -> String {
    format!("drkit-{VERSION}-x86_64-unknown-linux-gnu.tar.gz")
}

/// A GnuPG home in a temporary directory; its agent is stopped when dropped.
pub struct GpgHome {
    dir: TempDir,
}

impl GpgHome {
    /// An empty keyring.
    pub fn new() -> GpgHome {
        // gpg-agent's socket path must stay short: a temp dir directly under /tmp.
        let dir = tempfile::Builder::new()
            .prefix("drkit-gpg-")
            .tempdir_in("/tmp")
            .expect("temp GNUPGHOME");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        GpgHome { dir }
    }

    /// A keyring with a new passphrase-less RSA signing key (RSA: what the Terraform
    /// Registry accepts); returns it and the key's fingerprint.
    pub fn with_signing_key() -> (GpgHome, String) {
        let home = GpgHome::new();
        home.ok(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            "drkit release test <release-test@drkit.invalid>",
            "rsa3072",
            "sign",
            "1d",
        ]);
        let listing = home.ok(&["--with-colons", "--list-secret-keys"]);
        let fingerprint = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|rest| rest.trim_matches(':').to_string())
            })
            .expect("the new key has a fingerprint");
        (home, fingerprint)
    }

    /// The GNUPGHOME directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `gpg --batch ARGS` in this home.
    pub fn run(&self, args: &[&str]) -> Output {
        let gpg = tools::find_on_path("gpg")
            .expect("gpg not found on PATH: run scripts/setup (it installs Debian's gpg)");
        Command::new(gpg)
            .arg("--batch")
            .args(args)
            .env("GNUPGHOME", self.dir.path())
            .output()
            .expect("running gpg")
    }

    /// `gpg --batch ARGS`, which must succeed.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "gpg {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.dir.path())
            .output();
    }
}

/// A release cut by `scripts/release` from the test build.
pub struct Release {
    dir: TempDir,
    /// The release's output directory.
    pub out: PathBuf,
    /// What the script printed (its summary is on stderr).
    pub log: String,
}

impl Release {
    /// Runs `scripts/release VERSION --bin-dir <test build>` with `extra` arguments and
    /// `env`, into a new directory; panics with the script's output when it fails.
    pub fn cut(extra: &[&str], env: &[(&str, &Path)]) -> Release {
        let dir = tempfile::Builder::new()
            .prefix("drkit-release-")
            .tempdir()
            .unwrap();
        let out = dir.path().join("dist");
        let result = run_release(&out, extra, env, VERSION);
        assert!(
            result.status.success(),
            "scripts/release failed:\n{}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
        Release {
            dir,
            out,
            log: String::from_utf8_lossy(&result.stderr).into_owned(),
        }
    }

    /// Signed with a throwaway key: the release and the keyring that signed it.
    pub fn cut_signed() -> (Release, GpgHome, String) {
        let (gpg, fingerprint) = GpgHome::with_signing_key();
        let release = Release::cut_signed_with(&gpg, &fingerprint, &[]);
        (release, gpg, fingerprint)
    }

    /// Signed by `fingerprint` from `gpg`, with `extra` arguments.
    pub fn cut_signed_with(gpg: &GpgHome, fingerprint: &str, extra: &[&str]) -> Release {
        let key = PathBuf::from(fingerprint);
        Release::cut(
            extra,
            &[("GNUPGHOME", gpg.path()), ("DRKIT_GPG_KEY_ID", &key)],
        )
    }

    /// Without a signature (tests that only install).
    pub fn cut_unsigned() -> Release {
        Release::cut(&["--unsigned"], &[])
    }

    /// A file of the release.
    pub fn file(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// The provider's linux_amd64 zip.
    pub fn zip(&self) -> PathBuf {
        self.file(&zip_name())
    }

    /// A scratch directory that lives as long as the release.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }
}

/// `scripts/release` with the test build as the binaries, whatever its outcome.
pub fn run_release(out: &Path, extra: &[&str], env: &[(&str, &Path)], version: &str) -> Output {
    let script = tools::repo_root().join("scripts/release");
    let bin_dir = Path::new(PROVIDER).parent().unwrap();
    assert!(
        bin_dir.join("drlint").is_file(),
        "{} has no drlint: build the workspace first (cargo build --workspace, as scripts/test does)",
        bin_dir.display()
    );
    assert!(
        bin_dir.join("drkit").is_file(),
        "{} has no drkit: build the workspace first (cargo build --workspace, as scripts/test does)",
        bin_dir.display()
    );
    let mut cmd = Command::new(script);
    cmd.arg("--bin-dir")
        .arg(bin_dir)
        .arg("--out")
        .arg(out)
        .args(extra)
        .arg(version)
        // The key must come from what the test passes, never from the user's keyring.
        .env_remove("DRKIT_GPG_KEY_ID")
        .env_remove("DRKIT_GPG_PRIVATE_KEY")
        .env_remove("DRKIT_GPG_PASSPHRASE")
        .env_remove("DRKIT_RELEASE_BIN_DIR")
        .env("GNUPGHOME", "/nonexistent-gnupg-home");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("running scripts/release")
}

/// Lowercase hex SHA-256 of a file.
pub fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    hex(&Sha256::digest(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Terraform's `h1:` hash (Go's dirhash Hash1) of a directory of files: the SHA-256 of the
/// sorted lines `<sha256 hex>  <relative path>\n`, base64. What the lock file records.
pub fn h1_of_dir(dir: &Path) -> String {
    let mut names: Vec<String> = Vec::new();
    collect_files(dir, dir, &mut names);
    names.sort();
    let mut summary = String::new();
    for name in &names {
        summary.push_str(&format!("{}  {name}\n", sha256_hex(&dir.join(name))));
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
    )
}

fn collect_files(root: &Path, dir: &Path, names: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(root, &path, names);
        } else {
            let rel = path.strip_prefix(root).unwrap();
            names.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Unpacks `zip` into `dir` with the real `unzip`, as a user does.
pub fn unzip(zip: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let unzip = tools::find_on_path("unzip")
        .expect("unzip not found on PATH: run scripts/setup (it installs Debian's unzip)");
    let out = Command::new(unzip)
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(dir)
        .output()
        .expect("running unzip");
    assert!(
        out.status.success(),
        "unzip {}: {}",
        zip.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `"..."` hash strings of the `drkit/dr` entry in a `.terraform.lock.hcl`, and its
/// `version`.
pub fn locked(lock_file: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(lock_file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", lock_file.display()));
    let block = text
        .split("provider \"registry.terraform.io/drkit/dr\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no drkit/dr in the lock file:\n{text}"));
    let version = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("version"))
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or_else(|| panic!("no version in the lock file:\n{text}"))
        .to_string();
    let hashes = block
        .split("hashes = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no hashes in the lock file:\n{text}"))
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    (version, hashes)
}

/// `sha256sum`-style `HASH  NAME` lines of a sums file, as pairs.
pub fn sums(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let (hash, name) = l
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a sums line: {l:?}"));
            (hash.to_string(), name.to_string())
        })
        .collect()
}
