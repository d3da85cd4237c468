//! The provider and dr_policy examples are `terraform fmt`-clean and validate with the
//! built provider; the Registry docs are rendered from the schema and up to date
//! (`DRKIT_BLESS=1 cargo test -p terraform-provider-dr --test policy_docs` rewrites them).

use std::path::{Path, PathBuf};

use drkit_testkit::Terraform;
use terraform_provider_dr::docs;
use terraform_provider_dr::provider::DrProvider;
use tf_provider::{Diagnostics, Provider};

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-dr");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn examples_are_fmt_clean_and_validate_with_the_provider() {
    let tf = Terraform::new(PROVIDER).unwrap();
    for dir in [
        "examples/provider",
        "examples/resources/dr_policy",
        "examples/resources/dr_drill",
        "examples/data-sources/dr_status",
    ] {
        let path = repo().join(dir);
        let out = tf
            .run(&["fmt", "-check", "-diff", path.to_str().unwrap()])
            .unwrap();
        assert!(out.success(), "{dir} is not terraform fmt-clean:\n{out}");
    }
    tf.write("provider.tf", &read("examples/provider/provider.tf"))
        .unwrap();
    tf.write(
        "resource.tf",
        &read("examples/resources/dr_policy/resource.tf"),
    )
    .unwrap();
    tf.write("drill.tf", &read("examples/resources/dr_drill/resource.tf"))
        .unwrap();
    tf.write("pitr.tf", &read("examples/resources/dr_drill/pitr.tf"))
        .unwrap();
    tf.write("mysql.tf", &read("examples/resources/dr_drill/mysql.tf"))
        .unwrap();
    tf.write(
        "evidence.tf",
        &read("examples/resources/dr_drill/evidence.tf"),
    )
    .unwrap();
    tf.write("vpc.tf", &read("examples/resources/dr_drill/vpc.tf"))
        .unwrap();
    tf.write(
        "runbook.tf",
        &read("examples/data-sources/dr_runbook/data-source.tf"),
    )
    .unwrap();
    tf.write(
        "status.tf",
        &read("examples/data-sources/dr_status/data-source.tf"),
    )
    .unwrap();
    let out = tf.run(&["validate"]).unwrap();
    assert!(out.success(), "{out}");
    assert!(out.stdout.contains("The configuration is valid"), "{out}");
    let import = read("examples/resources/dr_policy/import.sh");
    assert!(import
        .contains("terraform import dr_policy.orders 'orders:rds=orders-db:s3=orders-backups'"));
}

#[test]
fn the_aurora_example_is_fmt_clean_and_validates() {
    let tf = Terraform::new(PROVIDER).unwrap();
    let dir = repo().join("examples/aurora");
    let out = tf
        .run(&["fmt", "-check", "-diff", dir.to_str().unwrap()])
        .unwrap();
    assert!(
        out.success(),
        "examples/aurora is not terraform fmt-clean:\n{out}"
    );
    tf.write("main.tf", &read("examples/aurora/main.tf"))
        .unwrap();
    let out = tf.run(&["validate"]).unwrap();
    assert!(out.stdout.contains("The configuration is valid"), "{out}");
}

#[test]
fn the_quickstart_is_fmt_clean_and_validates() {
    let tf = Terraform::new(PROVIDER).unwrap();
    let dir = repo().join("examples/quickstart");
    let out = tf
        .run(&["fmt", "-check", "-diff", dir.to_str().unwrap()])
        .unwrap();
    assert!(
        out.success(),
        "examples/quickstart is not terraform fmt-clean:\n{out}"
    );
    for name in [
        "main.tf",
        "variables.tf",
        "drill.tf",
        "outputs.tf",
        "status.tf",
    ] {
        tf.write(name, &read(&format!("examples/quickstart/{name}")))
            .unwrap();
    }
    let out = tf.run(&["validate"]).unwrap();
    assert!(out.stdout.contains("The configuration is valid"), "{out}");
}

fn check(path: &str, rendered: String) {
    let full = repo().join(path);
    if std::env::var_os("DRKIT_BLESS").is_some() {
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, &rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(
        committed == rendered,
        "{path} is out of date with the schema or its template: run \
         DRKIT_BLESS=1 cargo test -p terraform-provider-dr --test policy_docs"
    );
}

/// The hand-written guides of `docs/guides/` (every `.md` but the generated index).
fn guides() -> Vec<docs::Guide> {
    let dir = repo().join("docs/guides");
    let mut guides: Vec<docs::Guide> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .map(|p| {
            let file = p.file_name().unwrap().to_string_lossy().to_string();
            docs::Guide::read(&file, &std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    guides.sort_by(|a, b| a.file.cmp(&b.file));
    guides
}

#[test]
fn every_guide_has_registry_front_matter() {
    let guides = guides();
    assert!(guides.len() >= 7, "{guides:#?}");
    let missing: Vec<&str> = guides
        .iter()
        .filter(|g| {
            !read(&format!("docs/guides/{}", g.file)).starts_with("---\npage_title: ")
                || g.subcategory.is_empty()
                || g.description.is_empty()
        })
        .map(|g| g.file.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "these guides need the Registry's front matter at the top, e.g.\n---\n\
         page_title: \"Drills of encrypted dumps\"\nsubcategory: \"Drills\"\n\
         description: |-\n  One line on what the guide achieves.\n---\n\
         (subcategory groups the guides' index: Drills, Operations, drlint): {missing:?}"
    );
}

#[test]
fn registry_docs_are_rendered_from_the_schema() {
    let provider = DrProvider::new()
        .schema(&mut Diagnostics::default())
        .unwrap();
    let guides = guides();
    check(
        "docs/index.md",
        docs::render(
            &read("provider/templates/index.md.tmpl"),
            &provider.block,
            &read("examples/provider/provider.tf"),
            "",
        )
        .replace("{{guides}}", &docs::guides_markdown(&guides, "guides/")),
    );
    check(
        "docs/guides/README.md",
        read("provider/templates/guides/README.md.tmpl")
            .replace("{{guides}}", &docs::guides_markdown(&guides, "")),
    );
    check(
        "docs/resources/dr_policy.md",
        docs::render(
            &read("provider/templates/resources/dr_policy.md.tmpl"),
            &terraform_provider_dr::resources::dr_policy::schema().block,
            &read("examples/resources/dr_policy/resource.tf"),
            &read("examples/resources/dr_policy/import.sh"),
        ),
    );
    check(
        "docs/resources/dr_drill.md",
        docs::render(
            &read("provider/templates/resources/dr_drill.md.tmpl"),
            &terraform_provider_dr::resources::dr_drill::schema().block,
            &read("examples/resources/dr_drill/resource.tf"),
            "",
        ),
    );
    check(
        "docs/data-sources/dr_status.md",
        docs::render(
            &read("provider/templates/data-sources/dr_status.md.tmpl"),
            &terraform_provider_dr::data_sources::dr_status::schema().block,
            &read("examples/data-sources/dr_status/data-source.tf"),
            "",
        ),
    );
    check(
        "docs/data-sources/dr_runbook.md",
        docs::render(
            &read("provider/templates/data-sources/dr_runbook.md.tmpl"),
            &terraform_provider_dr::data_sources::dr_runbook::schema().block,
            &read("examples/data-sources/dr_runbook/data-source.tf"),
            "",
        ),
    );
}
