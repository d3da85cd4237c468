//! A Terraform working directory wired to the freshly built provider by `dev_overrides`, or
//! to a release in a filesystem or network mirror.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::tools;

/// What one `terraform` command did.
#[derive(Debug)]
pub struct Output {
    /// The exit status.
    pub status: ExitStatus,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
}

impl Output {
    /// True when terraform exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Standard output followed by standard error: where to look for a message.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A temporary Terraform working directory using the provider binary under test.
pub struct Terraform {
    dir: TempDir,
    terraform: PathBuf,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
}

/// Subcommands that take `-no-color` (others reject unknown flags).
const TAKES_NO_COLOR: &[&str] = &[
    "apply", "destroy", "import", "init", "plan", "refresh", "show", "validate", "output", "state",
];

impl Terraform {
    /// A working directory whose CLI config overrides `drkit/dr` with `provider_binary`
    /// (pass `env!("CARGO_BIN_EXE_terraform-provider-dr")`).
    pub fn new(provider_binary: impl AsRef<Path>) -> Result<Terraform> {
        let binary = provider_binary.as_ref();
        if binary.file_name().and_then(|n| n.to_str()) != Some("terraform-provider-dr") {
            bail!(
                "dev_overrides needs a binary named terraform-provider-dr, got {}",
                binary.display()
            );
        }
        if !binary.is_file() {
            bail!(
                "provider binary {} does not exist: build it first",
                binary.display()
            );
        }
        let terraform = tools::terraform()?;
        let dir = tempfile::Builder::new().prefix("drkit-tf-").tempdir()?;
        let cli_config = dir.path().join(".terraformrc");
        let provider_dir = binary
            .parent()
            .context("provider binary has no directory")?;
        std::fs::write(&cli_config, dev_overrides_config(provider_dir))?;
        Ok(Terraform {
            dir,
            terraform,
            cli_config,
            env: Vec::new(),
        })
    }

    /// A working directory whose CLI configuration is `cli_config`, as written: a
    /// `provider_installation` with a `filesystem_mirror` or `network_mirror`, so that
    /// `terraform init` installs `drkit/dr` the way users install it (no `dev_overrides`).
    pub fn with_cli_config(cli_config: &str) -> Result<Terraform> {
        let terraform = tools::terraform()?;
        let dir = tempfile::Builder::new().prefix("drkit-tf-").tempdir()?;
        let path = dir.path().join(".terraformrc");
        std::fs::write(&path, cli_config)?;
        Ok(Terraform {
            dir,
            terraform,
            cli_config: path,
            env: Vec::new(),
        })
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every later command.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets several environment variables, such as [`crate::Moto::env`].
    pub fn envs(&mut self, vars: impl IntoIterator<Item = (String, String)>) -> &mut Self {
        self.env.extend(vars);
        self
    }

    /// Writes a file into the working directory (creating parent directories).
    pub fn write(&self, name: &str, contents: &str) -> Result<PathBuf> {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Runs `terraform ARGS` and returns what it did, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        let out = self
            .command(args)
            .output()
            .with_context(|| format!("running {}", self.terraform.display()))?;
        Ok(Output {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// `terraform ARGS` ready to run in this directory with the provider override, for tests
    /// that drive the process themselves (interrupts).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args);
        if args.first().is_some_and(|sub| TAKES_NO_COLOR.contains(sub)) {
            cmd.arg("-no-color");
        }
        cmd.current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `terraform ARGS` and fails with its whole output unless it exits 0.
    pub fn run_ok(&self, args: &[&str]) -> Result<Output> {
        let out = self.run(args)?;
        if !out.success() {
            bail!("terraform {} failed:\n{out}", args.join(" "));
        }
        Ok(out)
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> Result<Output> {
        self.run_ok(&["apply", "-auto-approve", "-input=false"])
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&self) -> Result<Output> {
        self.run_ok(&["destroy", "-auto-approve", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: `Ok(true)` when there is nothing to change,
    /// `Ok(false)` with changes, `Err` when the plan fails.
    pub fn plan_is_empty(&self) -> Result<bool> {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false"])?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(2) => Ok(false),
            _ => bail!("terraform plan failed:\n{out}"),
        }
    }

    /// Fails with the plan's text unless a plan shows no changes.
    pub fn assert_plan_empty(&self) -> Result<()> {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false"])?;
        match out.status.code() {
            Some(0) => Ok(()),
            Some(2) => bail!("expected an empty plan, got changes:\n{}", out.stdout),
            _ => bail!("terraform plan failed:\n{out}"),
        }
    }

    /// Runs `terraform plan` expecting it to fail with `expected` in its output; returns the
    /// output (for snapshots of the diagnostic).
    pub fn plan_expect_error(&self, expected: &str) -> Result<String> {
        let out = self.run(&["plan", "-input=false"])?;
        if out.success() {
            bail!("expected plan to fail with {expected:?}, but it succeeded:\n{out}");
        }
        let text = out.combined();
        if !text.contains(expected) {
            bail!("plan failed, but without {expected:?}:\n{out}");
        }
        Ok(text)
    }

    /// `terraform show -json` of the current state.
    pub fn show_json(&self) -> Result<serde_json::Value> {
        let out = self.run_ok(&["show", "-json"])?;
        serde_json::from_str(&out.stdout).context("terraform show -json printed invalid JSON")
    }

    /// The attribute values of the resource at `address` in the state, e.g. `dr_policy.db`.
    pub fn resource(&self, address: &str) -> Result<serde_json::Value> {
        let state = self.show_json()?;
        let resources = state
            .pointer("/values/root_module/resources")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r.get("address").and_then(|a| a.as_str()) == Some(address))
            .and_then(|r| r.get("values").cloned())
            .with_context(|| format!("no resource {address} in the state"))
    }
}

/// A CLI configuration that installs `drkit/dr` from a filesystem mirror at `mirror_dir`
/// (packed `.zip` archives or unpacked directories, in Terraform's mirror layout) and
/// nothing else from anywhere: the configuration a release's README tells users to write.
pub fn filesystem_mirror_config(mirror_dir: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/drkit/dr\"]\n  }}\n}}\n",
        hcl_string(mirror_dir)
    )
}

/// A CLI configuration that installs `drkit/dr` from the network mirror at `url` (HTTPS).
pub fn network_mirror_config(url: &str) -> String {
    format!(
        "provider_installation {{\n  network_mirror {{\n    url     = \"{url}\"\n    include = [\"registry.terraform.io/drkit/dr\"]\n  }}\n}}\n"
    )
}

fn hcl_string(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// A CLI configuration that installs `drkit/dr` from `provider_dir` and everything else as usual.
pub fn dev_overrides_config(provider_dir: &Path) -> String {
    let dir = provider_dir
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"drkit/dr\" = \"{dir}\"\n  }}\n  direct {{}}\n}}\n"
    )
}
