//! A release installs the way users install it: `scripts/release` packages the test build
//! in the Terraform Registry's layout, signs the sums with a throwaway GPG key, and the real
//! `terraform init` installs the zip from a filesystem mirror and from a network mirror over
//! HTTPS (no `dev_overrides`), records it in `.terraform.lock.hcl`, and plans and applies a
//! `dr_policy` against moto. The hashes and the signature are checked with tools of our own
//! (sha2, gpg), not taken from Terraform's word.

mod policy_support;
mod release_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use drkit_testkit::{
    filesystem_mirror_config, network_mirror_config, Moto, StaticHttps, Terraform,
};
use release_support::*;

/// The mirror directory of `drkit/dr` under a mirror root.
fn provider_dir(mirror: &Path) -> std::path::PathBuf {
    mirror.join("registry.terraform.io/drkit/dr")
}

/// `main.tf` requiring exactly the released version, with a policy on one bucket.
fn config(moto: &Moto) -> String {
    let provider = policy_support::provider_block(moto).replace(
        r#"dr = { source = "drkit/dr" }"#,
        &format!(r#"dr = {{ source = "drkit/dr", version = "{VERSION}" }}"#),
    );
    format!(
        r#"{provider}
resource "dr_policy" "backups" {{
  name   = "backups"
  rpo    = "4h"
  rto    = "8h"
  owners = ["sre@example.com", "dba@example.com"]

  s3 {{
    bucket = "orders-backups"
    replication {{
      destination_bucket = "orders-backups-dr"
      role_arn           = "{role}"
    }}
  }}
}}
"#,
        role = policy_support::ROLE
    )
}

/// Terraform wraps its messages at 78 columns: compare with single spaces.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A working directory whose CLI config installs from the filesystem mirror at `mirror`.
fn from_filesystem_mirror(mirror: &Path, main_tf: &str) -> Terraform {
    let tf = Terraform::with_cli_config(&filesystem_mirror_config(mirror)).unwrap();
    tf.write("main.tf", main_tf).unwrap();
    tf
}

#[test]
fn a_release_is_in_registry_layout_signed_and_reproducible() {
    let (release, gpg, fingerprint) = Release::cut_signed();
    let prefix = prefix();

    // Exactly the registry's files, plus drlint's tarball and the public key.
    let mut files: Vec<String> = std::fs::read_dir(&release.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected = vec![
        format!("{prefix}_SHA256SUMS"),
        format!("{prefix}_SHA256SUMS.sig"),
        format!("{prefix}_linux_amd64.zip"),
        format!("{prefix}_manifest.json"),
        format!("{prefix}_signing-key.asc"),
        drlint_tarball(),
        format!("{}.sha256", drlint_tarball()),
        drkit_tarball(),
        format!("{}.sha256", drkit_tarball()),
    ];
    expected.sort();
    assert_eq!(files, expected, "{}", release.log);
    assert!(
        release
            .log
            .contains("linux_arm64: SKIPPED: --bin-dir packages the host's build only"),
        "the skipped platform is named: {}",
        release.log
    );

    // The manifest declares protocol 6.0, as the registry reads it.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(release.file(&format!("{prefix}_manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    // The sums list the zip and the manifest with their real SHA-256.
    let sums_file = release.file(&format!("{prefix}_SHA256SUMS"));
    let sums = sums(&sums_file);
    let names: Vec<&str> = sums.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [zip_name(), format!("{prefix}_manifest.json")],
        "sums: {sums:?}"
    );
    for (hash, name) in &sums {
        assert_eq!(hash, &sha256_hex(&release.file(name)), "{name}");
    }

    // The zip holds one executable, terraform-provider-dr_vVERSION: the test build itself.
    let unpacked = release.scratch("unpacked");
    unzip(&release.zip(), &unpacked);
    let entries: Vec<_> = std::fs::read_dir(&unpacked)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, [exe_name()]);
    let exe = unpacked.join(exe_name());
    assert_eq!(
        std::fs::metadata(&exe).unwrap().permissions().mode() & 0o111,
        0o111,
        "the provider is executable once unzipped"
    );
    assert_eq!(sha256_hex(&exe), sha256_hex(Path::new(PROVIDER)));
    let printed = Command::new(&exe).arg("--version").output().unwrap();
    assert!(printed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout).trim(),
        format!("terraform-provider-dr {VERSION}")
    );

    // A verifier with only the public key: the signature is good, and by this key.
    let verifier = GpgHome::new();
    verifier.ok(&[
        "--import",
        release
            .file(&format!("{prefix}_signing-key.asc"))
            .to_str()
            .unwrap(),
    ]);
    let sig = release.file(&format!("{prefix}_SHA256SUMS.sig"));
    let good = verifier.run(&[
        "--status-fd",
        "1",
        "--verify",
        sig.to_str().unwrap(),
        sums_file.to_str().unwrap(),
    ]);
    assert!(
        good.status.success(),
        "gpg --verify: {}",
        String::from_utf8_lossy(&good.stderr)
    );
    let status = String::from_utf8_lossy(&good.stdout);
    assert!(
        status.contains(&format!("[GNUPG:] VALIDSIG {fingerprint}")),
        "{status}"
    );
    // A binary (not armored) detached signature, as the registry expects.
    assert_ne!(std::fs::read(&sig).unwrap()[0], b'-');

    // One changed hash in the sums and the signature fails.
    let tampered = release
        .scratch("tampered")
        .join(format!("{prefix}_SHA256SUMS"));
    let text = std::fs::read_to_string(&sums_file).unwrap();
    let flipped = if text.starts_with('0') { "1" } else { "0" };
    std::fs::write(&tampered, format!("{flipped}{}", &text[1..])).unwrap();
    let bad = verifier.run(&[
        "--status-fd",
        "1",
        "--verify",
        sig.to_str().unwrap(),
        tampered.to_str().unwrap(),
    ]);
    assert!(
        !bad.status.success(),
        "a tampered SHA256SUMS must not verify"
    );
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("[GNUPG:] BADSIG"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );

    // drlint's tarball: its .sha256 checks with sha256sum, and it runs.
    let check = Command::new("sha256sum")
        .args([
            "--check",
            "--strict",
            &format!("{}.sha256", drlint_tarball()),
        ])
        .current_dir(&release.out)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let drlint_dir = release.scratch("drlint");
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(release.file(&drlint_tarball()))
        .arg("-C")
        .arg(&drlint_dir)
        .status()
        .unwrap();
    assert!(untar.success());
    let drlint = drlint_dir
        .join(format!("drlint-{VERSION}-x86_64-unknown-linux-gnu"))
        .join("drlint");
    let printed = Command::new(&drlint).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout).trim(),
        format!("drlint {VERSION}")
    );

    // drkit's tarball: the same, with its documentation as README.md.
    let drkit_dir = release.scratch("drkit");
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(release.file(&drkit_tarball()))
        .arg("-C")
        .arg(&drkit_dir)
        .status()
        .unwrap();
    assert!(untar.success());
    let unpacked = drkit_dir.join(format!("drkit-{VERSION}-x86_64-unknown-linux-gnu"));
    let printed = Command::new(unpacked.join("drkit"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout).trim(),
        format!("drkit {VERSION}")
    );
    let readme = std::fs::read_to_string(unpacked.join("README.md")).unwrap();
    assert!(readme.contains("drkit evidence verify"), "{readme}");

    // The same binaries and commit give byte-identical archives, hence the same zh: hashes.
    let again = Release::cut_signed_with(&gpg, &fingerprint, &[]);
    assert_eq!(sha256_hex(&again.zip()), sha256_hex(&release.zip()));
    assert_eq!(
        sha256_hex(&again.file(&drlint_tarball())),
        sha256_hex(&release.file(&drlint_tarball()))
    );
}

#[test]
fn the_release_refuses_a_version_other_than_the_workspace_s_and_a_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_release(&dir.path().join("dist"), &["--unsigned"], &[], "9.9.9");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "asked for 9.9.9 but the workspace is {VERSION}: set\n  [workspace.package] version = \"9.9.9\""
        )),
        "{stderr}"
    );

    let out = run_release(&dir.path().join("dist"), &[], &[], VERSION);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no signing key: set DRKIT_GPG_KEY_ID"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("dist").exists(),
        "nothing is written when the release is refused"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn terraform_init_installs_the_release_zip_from_a_filesystem_mirror_and_plans_a_policy() {
    let (release, _gpg, _) = Release::cut_signed();
    let moto = Moto::start().unwrap();
    policy_support::seed_bucket(&moto, "orders-backups", policy_support::PRIMARY, false).await;
    policy_support::seed_bucket(&moto, "orders-backups-dr", policy_support::DR, true).await;
    let main_tf = config(&moto);

    // The packed layout: the release zip as is, under registry.terraform.io/drkit/dr/.
    let mirror = release.scratch("mirror");
    std::fs::create_dir_all(provider_dir(&mirror)).unwrap();
    std::fs::copy(release.zip(), provider_dir(&mirror).join(zip_name())).unwrap();
    let mut tf = from_filesystem_mirror(&mirror, &main_tf);
    tf.envs(moto.env());
    let init = tf.run_ok(&["init", "-input=false"]).unwrap();
    assert!(
        init.stdout
            .contains(&format!("Installed drkit/dr v{VERSION}")),
        "{init}"
    );

    // The lock file pins the version and the h1: hash of the zip's contents.
    let unpacked = release.scratch("unpacked");
    unzip(&release.zip(), &unpacked);
    let h1 = h1_of_dir(&unpacked);
    let (version, hashes) = locked(&tf.dir().join(".terraform.lock.hcl"));
    assert_eq!(version, VERSION);
    assert_eq!(
        hashes,
        vec![h1.clone()],
        "a filesystem mirror yields h1: only"
    );
    let installed = tf.dir().join(format!(
        ".terraform/providers/registry.terraform.io/drkit/dr/{VERSION}/linux_amd64/{}",
        exe_name()
    ));
    assert_eq!(sha256_hex(&installed), sha256_hex(Path::new(PROVIDER)));

    // The installed plugin (not a dev override) plans and applies, and logs its version.
    let mut plan = tf.command(&["plan", "-input=false"]);
    // Terraform logs a plugin's plain stderr lines at DEBUG.
    plan.env("TF_LOG_PROVIDER", "DEBUG");
    let plan = plan.output().unwrap();
    let stdout = String::from_utf8_lossy(&plan.stdout);
    let stderr = String::from_utf8_lossy(&plan.stderr);
    assert!(plan.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("dr_policy.backups will be created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("terraform-provider-dr {VERSION} starting")),
        "the plugin logs its version at start: {stderr}"
    );
    assert!(
        !stdout.contains("Provider development overrides are in effect"),
        "{stdout}"
    );
    tf.apply().unwrap();
    assert_eq!(
        moto.versioning_status(policy_support::PRIMARY, "orders-backups")
            .await
            .unwrap()
            .as_deref(),
        Some("Enabled"),
        "the installed provider turned versioning on, as read through the S3 API"
    );

    // `terraform providers lock` against the mirror records the same hash.
    let locker = from_filesystem_mirror(&mirror, &main_tf);
    locker
        .run_ok(&[
            "providers",
            "lock",
            &format!("-fs-mirror={}", mirror.display()),
            "-platform=linux_amd64",
        ])
        .unwrap();
    assert_eq!(
        locked(&locker.dir().join(".terraform.lock.hcl")).1,
        vec![h1.clone()]
    );

    // The unpacked layout (VERSION/linux_amd64/terraform-provider-dr_vVERSION) installs
    // the same package: same h1:.
    let unpacked_mirror = release.scratch("unpacked-mirror");
    let platform_dir = provider_dir(&unpacked_mirror).join(format!("{VERSION}/linux_amd64"));
    unzip(&release.zip(), &platform_dir);
    let tf2 = from_filesystem_mirror(&unpacked_mirror, &main_tf);
    tf2.run_ok(&["init", "-input=false"]).unwrap();
    assert_eq!(
        locked(&tf2.dir().join(".terraform.lock.hcl")).1,
        vec![h1.clone()]
    );

    // A lock file pinned to the zh: hash from the signed SHA256SUMS installs the zip, and
    // Terraform adds the h1: it computed.
    let zh = format!("zh:{}", sha256_hex(&release.zip()));
    let pinned_sums = sums(&release.file(&format!("{}_SHA256SUMS", prefix())));
    assert!(pinned_sums
        .iter()
        .any(|(hash, name)| name == &zip_name() && format!("zh:{hash}") == zh));
    let lock = |hash: &str| {
        format!(
            "provider \"registry.terraform.io/drkit/dr\" {{\n  version     = \"{VERSION}\"\n  \
             constraints = \"{VERSION}\"\n  hashes = [\n    \"{hash}\",\n  ]\n}}\n"
        )
    };
    let tf3 = from_filesystem_mirror(&mirror, &main_tf);
    tf3.write(".terraform.lock.hcl", &lock(&zh)).unwrap();
    tf3.run_ok(&["init", "-input=false"]).unwrap();
    let mut both = locked(&tf3.dir().join(".terraform.lock.hcl")).1;
    both.sort();
    assert_eq!(both, [h1.clone(), zh.clone()]);

    // A zip that is not the released one is refused against that lock file.
    let forged_mirror = release.scratch("forged-mirror");
    let forged_stage = release.scratch("forged-stage");
    let exe = forged_stage.join(exe_name());
    std::fs::copy(unpacked.join(exe_name()), &exe).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&exe)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"tampered"))
        .unwrap();
    std::fs::create_dir_all(provider_dir(&forged_mirror)).unwrap();
    let zipped = Command::new("zip")
        .arg("-q")
        .arg(provider_dir(&forged_mirror).join(zip_name()))
        .arg(exe_name())
        .current_dir(&forged_stage)
        .status()
        .unwrap();
    assert!(zipped.success());
    let tf4 = from_filesystem_mirror(&forged_mirror, &main_tf);
    tf4.write(".terraform.lock.hcl", &lock(&zh)).unwrap();
    let refused = tf4.run(&["init", "-input=false"]).unwrap();
    assert!(
        !refused.success(),
        "a forged zip must not install: {refused}"
    );
    assert!(
        flat(&refused.combined()).contains(
            "doesn't match any of the checksums previously recorded in the dependency lock file"
        ),
        "{refused}"
    );
}

#[test]
fn terraform_init_installs_the_release_from_a_network_mirror_over_https_with_a_test_ca() {
    let release = Release::cut_unsigned();

    // The network mirror protocol: index.json lists versions, VERSION.json the archives with
    // their hashes; the zip itself sits beside them.
    let root = release.scratch("network-mirror");
    let dir = provider_dir(&root);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(release.zip(), dir.join(zip_name())).unwrap();
    std::fs::write(
        dir.join("index.json"),
        serde_json::json!({"versions": {VERSION: {}}}).to_string(),
    )
    .unwrap();
    let zh = format!("zh:{}", sha256_hex(&release.zip()));
    let write_version_json = |hash: &str| {
        std::fs::write(
            dir.join(format!("{VERSION}.json")),
            serde_json::json!({"archives": {"linux_amd64": {
                "url": zip_name(), "hashes": [hash]}}})
            .to_string(),
        )
        .unwrap();
    };
    write_version_json(&zh);
    let server = StaticHttps::start(&root).unwrap();

    let main_tf = r#"terraform {
  required_providers {
    dr = { source = "drkit/dr" }
  }
}
"#;
    let mut tf = Terraform::with_cli_config(&network_mirror_config(&server.url())).unwrap();
    tf.env("SSL_CERT_FILE", server.ca_file().to_str().unwrap());
    tf.write("main.tf", main_tf).unwrap();
    let init = tf.run_ok(&["init", "-input=false"]).unwrap();
    assert!(
        init.stdout.contains(&format!(
            "Installed drkit/dr v{VERSION} (verified checksum)"
        )),
        "{init}"
    );
    let unpacked = release.scratch("unpacked");
    unzip(&release.zip(), &unpacked);
    let (version, hashes) = locked(&tf.dir().join(".terraform.lock.hcl"));
    assert_eq!(version, VERSION);
    assert_eq!(hashes, [h1_of_dir(&unpacked)]);
    assert!(
        server.requests().contains(&format!(
            "GET /registry.terraform.io/drkit/dr/{}",
            zip_name()
        )),
        "{:?}",
        server.requests()
    );
    // The plugin Terraform installed answers the schema request.
    let schema = tf.run_ok(&["providers", "schema", "-json"]).unwrap();
    assert!(schema.stdout.contains("\"dr_policy\""), "{schema}");

    // The mirror's zh: hash is checked against the archive: a wrong one is refused.
    let wrong = format!("zh:{}", "0".repeat(64));
    write_version_json(&wrong);
    let mut tf2 = Terraform::with_cli_config(&network_mirror_config(&server.url())).unwrap();
    tf2.env("SSL_CERT_FILE", server.ca_file().to_str().unwrap());
    tf2.write("main.tf", main_tf).unwrap();
    let refused = tf2.run(&["init", "-input=false"]).unwrap();
    assert!(!refused.success(), "{refused}");
    assert!(
        flat(&refused.combined()).contains("doesn't match the expected checksum"),
        "{refused}"
    );

    // Without the test CA, Terraform does not trust the mirror.
    write_version_json(&zh);
    let tf3 = Terraform::with_cli_config(&network_mirror_config(&server.url())).unwrap();
    tf3.write("main.tf", main_tf).unwrap();
    let untrusted = tf3.run(&["init", "-input=false"]).unwrap();
    assert!(!untrusted.success(), "{untrusted}");
    assert!(untrusted.combined().contains("certificate"), "{untrusted}");
}
