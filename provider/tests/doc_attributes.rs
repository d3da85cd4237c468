//! Every `dr_*` attribute and block a page or an example names exists in the provider's
//! schema: HCL in fenced blocks of `docs/**/*.md`, the README and the examples' READMEs,
//! every `examples/**/*.tf`, references such as `dr_policy.orders.rpo` and
//! `data.dr_status.orders.rpo_met`, paths written in backticks
//! (`postgres_dump[0].decrypt[0].openssl_cipher`), and backticked names one or two letters
//! away from a real one (a misspelling the reader would copy).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::visit::{self, Visit};
use terraform_provider_dr::docs;
use terraform_provider_dr::provider::DrProvider;
use tf_provider::schema::Block;
use tf_provider::{Diagnostics, Provider};

/// The names a schema block accepts: attributes, and nested blocks with their own names.
#[derive(Default, Debug)]
struct Names {
    attributes: BTreeSet<String>,
    blocks: BTreeMap<String, Names>,
}

impl Names {
    fn of(block: &Block) -> Names {
        Names {
            attributes: block.attributes.keys().cloned().collect(),
            blocks: block
                .blocks
                .iter()
                .map(|(name, nested)| (name.clone(), Names::of(docs::nested(nested).0)))
                .collect(),
        }
    }

    /// Every attribute and block name at any depth.
    fn all(&self, out: &mut BTreeSet<String>) {
        out.extend(self.attributes.iter().cloned());
        for (name, b) in &self.blocks {
            out.insert(name.clone());
            b.all(out);
        }
    }

    /// Every nested block called `name`, at any depth.
    fn blocks_named<'a>(&'a self, name: &str, out: &mut Vec<&'a Names>) {
        for (n, b) in &self.blocks {
            if n == name {
                out.push(b);
            }
            b.blocks_named(name, out);
        }
    }
}

/// The provider's schemas by what a configuration calls them: `dr_policy`, `dr_drill`
/// (resources), `data.dr_status`, `data.dr_runbook`, and `provider.dr`.
struct Schemas(BTreeMap<&'static str, Names>);

impl Schemas {
    fn load() -> Schemas {
        use terraform_provider_dr::{data_sources, resources};
        let provider = DrProvider::new()
            .schema(&mut Diagnostics::default())
            .expect("provider schema");
        Schemas(BTreeMap::from([
            (
                "dr_policy",
                Names::of(&resources::dr_policy::schema().block),
            ),
            ("dr_drill", Names::of(&resources::dr_drill::schema().block)),
            (
                "data.dr_status",
                Names::of(&data_sources::dr_status::schema().block),
            ),
            (
                "data.dr_runbook",
                Names::of(&data_sources::dr_runbook::schema().block),
            ),
            ("provider.dr", Names::of(&provider.block)),
        ]))
    }

    fn every_name(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for names in self.0.values() {
            names.all(&mut out);
        }
        out
    }

    fn blocks_named(&self, name: &str) -> Vec<&Names> {
        let mut out = Vec::new();
        for names in self.0.values() {
            names.blocks_named(name, &mut out);
        }
        out
    }
}

/// Meta-arguments Terraform accepts in every resource and data block.
const META_ARGUMENTS: &[&str] = &["count", "for_each", "provider", "depends_on"];
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];

/// Finds names a configuration uses that its schema does not have.
struct Checker<'a> {
    schemas: &'a Schemas,
    wrong: Vec<String>,
}

impl Checker<'_> {
    /// A body of a `dr_*` block (or one of its nested blocks) at `path`.
    fn block_body(&mut self, body: &Body, names: &Names, path: &str, top: bool) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    if !(names.attributes.contains(key) || top && META_ARGUMENTS.contains(&key)) {
                        self.wrong.push(format!("{path}: no argument `{key}`"));
                    }
                    self.expression(&attr.value);
                }
                Structure::Block(block) => {
                    let ident = block.ident.as_str();
                    if ident == "dynamic" {
                        continue;
                    }
                    if let Some(nested) = names.blocks.get(ident) {
                        self.block_body(&block.body, nested, &format!("{path}.{ident}"), false);
                    } else if !(top && META_BLOCKS.contains(&ident)) {
                        self.wrong.push(format!("{path}: no block `{ident}`"));
                    }
                }
            }
        }
    }

    /// A configuration, or a fragment of one (a page shows `postgres_pitr { ... }` alone).
    fn body(&mut self, body: &Body) {
        for structure in body.iter() {
            let Structure::Block(block) = structure else {
                if let Structure::Attribute(attr) = structure {
                    self.expression(&attr.value);
                }
                continue;
            };
            let ident = block.ident.as_str();
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            let key = match (ident, labels.first()) {
                ("resource", Some(t)) => Some(t.to_string()),
                ("data", Some(t)) => Some(format!("data.{t}")),
                ("provider", Some(t)) => Some(format!("provider.{t}")),
                _ => None,
            };
            match key {
                Some(key) if key.contains("dr_") || key == "provider.dr" => {
                    let label = labels.get(1).copied().unwrap_or_default();
                    match self.schemas.0.get(key.as_str()) {
                        Some(names) => self.block_body(
                            &block.body,
                            names,
                            &format!("{key}.{label}").replace("provider.dr.", "provider.dr"),
                            key != "provider.dr",
                        ),
                        None if key.starts_with("dr_") || key.starts_with("data.dr_") => self
                            .wrong
                            .push(format!("{key}: the provider has no such type")),
                        None => visit::visit_body(self, &block.body),
                    }
                }
                // Nested `data "dr_status"` in a `check` block.
                _ if ident == "check" => self.body(&block.body),
                _ if labels.is_empty() && !self.schemas.blocks_named(ident).is_empty() => {
                    self.fragment(ident, &block.body)
                }
                _ => visit::visit_body(self, &block.body),
            }
        }
    }

    /// A block shown on its own: it must fit one of the schema's blocks of that name.
    fn fragment(&mut self, ident: &str, body: &Body) {
        let mut first_errors = None;
        for names in self.schemas.blocks_named(ident) {
            let mut inner = Checker {
                schemas: self.schemas,
                wrong: Vec::new(),
            };
            inner.block_body(body, names, ident, false);
            if inner.wrong.is_empty() {
                return;
            }
            first_errors.get_or_insert(inner.wrong);
        }
        self.wrong.extend(first_errors.unwrap_or_default());
    }

    fn expression(&mut self, expr: &Expression) {
        self.visit_expr(expr);
    }

    /// `dr_policy.NAME.attr...` or `data.dr_status.NAME.attr...`.
    fn traversal_path(&mut self, root: &str, operators: &[&TraversalOperator]) {
        let attrs: Vec<Option<&str>> = operators
            .iter()
            .map(|op| match op {
                TraversalOperator::GetAttr(ident) => Some(ident.as_str()),
                _ => None,
            })
            .collect();
        let (key, rest) = match root {
            "data" => match attrs.first() {
                Some(Some(t)) if t.starts_with("dr_") => (format!("data.{t}"), &operators[1..]),
                _ => return,
            },
            t if t.starts_with("dr_") => (t.to_string(), operators),
            _ => return,
        };
        let Some(names) = self.schemas.0.get(key.as_str()) else {
            self.wrong
                .push(format!("{key}: the provider has no such type"));
            return;
        };
        // rest: NAME, then the attribute path.
        let path: Vec<&TraversalOperator> = rest.iter().skip(1).copied().collect();
        if let Some(problem) = check_path(names, &path) {
            self.wrong.push(format!("{key}: {problem}"));
        }
    }
}

/// Walks `.attr` and `[index]` operators through nested blocks; stops at an attribute
/// (its value is data: a list, an object or JSON).
fn check_path(names: &Names, operators: &[&TraversalOperator]) -> Option<String> {
    let mut current = names;
    let mut path = String::new();
    for op in operators {
        let TraversalOperator::GetAttr(ident) = op else {
            continue;
        };
        let name = ident.as_str();
        if let Some(block) = current.blocks.get(name) {
            current = block;
            path.push_str(name);
            path.push('.');
        } else if current.attributes.contains(name) {
            return None;
        } else {
            return Some(format!("no attribute or block `{path}{name}`"));
        }
    }
    None
}

impl Visit for Checker<'_> {
    fn visit_traversal(&mut self, node: &Traversal) {
        if let Expression::Variable(root) = &node.expr {
            let ops: Vec<&TraversalOperator> = node.operators.iter().map(|op| &**op).collect();
            self.traversal_path(root.as_str(), &ops);
        }
        visit::visit_traversal(self, node);
    }
}

/// What is wrong with an HCL text (a page's fence or an example file).
fn hcl_problems(schemas: &Schemas, text: &str) -> Vec<String> {
    let Ok(body) = hcl_edit::parser::parse_body(text) else {
        // Fences that do not parse are reported by linter/tests/docs.rs.
        return Vec::new();
    };
    let mut checker = Checker {
        schemas,
        wrong: Vec::new(),
    };
    checker.body(&body);
    checker.wrong
}

/// Code spans of a Markdown text outside fences, with their line numbers.
fn code_spans(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        for span in line.split('`').skip(1).step_by(2) {
            out.push((n + 1, span.to_string()));
        }
    }
    out
}

/// Fenced HCL blocks of a Markdown text: (first line, text).
fn hcl_fences(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, bool, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let hcl = ["hcl", "terraform", "tf"].contains(&info.trim());
                    open = Some((n + 2, hcl, String::new()));
                }
            }
            Some((start, hcl, body)) => {
                if trimmed.starts_with("```") {
                    if *hcl {
                        out.push((*start, std::mem::take(body)));
                    }
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    out
}

/// Optimal string alignment distance: how many letters to change, add, drop or swap.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// What is wrong with the code spans of a page.
fn span_problems(schemas: &Schemas, every: &BTreeSet<String>, text: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    for (line, span) in code_spans(text) {
        let span = span.trim();
        // A reference: dr_policy.orders.rpo, data.dr_status.orders.rpo_met.
        if span.starts_with("dr_") || span.starts_with("data.dr_") {
            if let Ok(expr) = hcl_edit::parser::parse_expr(span) {
                let mut checker = Checker {
                    schemas,
                    wrong: Vec::new(),
                };
                checker.expression(&expr);
                wrong.extend(checker.wrong.into_iter().map(|w| format!("{line}: {w}")));
            }
            continue;
        }
        // A path through blocks: target.password_env, evidence[0].s3_uri.
        let is_path = span.contains('.')
            && span
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c));
        if is_path {
            let parts: Vec<&str> = span
                .split('.')
                .map(|p| p.split('[').next().unwrap_or_default())
                .collect();
            // A file name (`evidence.tf`) is no path.
            let extensions = [
                "tf", "md", "json", "sh", "sql", "gz", "zst", "toml", "yml", "yaml", "sig", "html",
            ];
            if extensions.contains(parts.last().unwrap_or(&"")) {
                continue;
            }
            let candidates = schemas.blocks_named(parts[0]);
            if !candidates.is_empty() && !parts[1..].iter().any(|p| p.is_empty()) {
                let ok = candidates.iter().any(|names| {
                    let mut current = *names;
                    for part in &parts[1..] {
                        if let Some(b) = current.blocks.get(*part) {
                            current = b;
                        } else {
                            return current.attributes.contains(*part);
                        }
                    }
                    true
                });
                if !ok {
                    wrong.push(format!("{line}: `{span}`: no such attribute path"));
                }
            }
            continue;
        }
        // A name, or `name = value`: flag a near miss of a real name.
        let name = span.split('=').next().unwrap_or_default().trim();
        let identifier = name.contains('_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !identifier || every.contains(name) {
            continue;
        }
        let limit = if name.len() >= 10 { 2 } else { 1 };
        if let Some(near) = every.iter().find(|real| distance(name, real) <= limit) {
            wrong.push(format!(
                "{line}: `{name}` is no attribute (did you mean `{near}`?)"
            ));
        }
    }
    wrong
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with(".terraform") {
                walk(&path, ext, out);
            }
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_attribute_a_page_or_example_names_exists() {
    let schemas = Schemas::load();
    let every = schemas.every_name();
    let mut wrong = Vec::new();
    let mut pages = vec![repo().join("README.md")];
    walk(&repo().join("docs"), "md", &mut pages);
    walk(&repo().join("examples"), "md", &mut pages);
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let rel = page.strip_prefix(repo()).unwrap().display().to_string();
        for (start, fence) in hcl_fences(&text) {
            for w in hcl_problems(&schemas, &fence) {
                wrong.push(format!("{rel}:{start}: {w}"));
            }
        }
        for w in span_problems(&schemas, &every, &text) {
            wrong.push(format!("{rel}:{w}"));
        }
    }
    let mut examples = Vec::new();
    walk(&repo().join("examples"), "tf", &mut examples);
    assert!(examples.len() > 10, "examples found: {examples:?}");
    for file in examples {
        let text = std::fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(repo()).unwrap().display().to_string();
        for w in hcl_problems(&schemas, &text) {
            wrong.push(format!("{rel}: {w}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_misspelt_attribute_is_found_wherever_it_is_written() {
    let schemas = Schemas::load();
    let every = schemas.every_name();
    let page = r#"
Set `fail_on_target_mis = false` to warn, or read `dr_policy.orders.estimated_rpo`, not
`dr_policy.orders.estimated_rop`; the password comes from `target.pasword_env`, and
`data.dr_status.orders.rpo_met` is fine, as are `pg_restore`, `evidence.tf` and `target.password_env`.

```terraform
resource "dr_drill" "orders" {
  policy_id = dr_policy.orders.idd
  postgres_dump {
    s3_uri = "s3://b/p/"
    decrypt {
      key_env  = "PASS"
      cypher   = "aes-256-cbc"
    }
  }
  verfy {
    name = "x"
  }
  count = 1
}

postgres_pitr {
  base_backup_uri = "s3://b/base/"
  wal_archive_url = "s3://b/wal/"
}

check "live" {
  data "dr_status" "orders" {
    policy_id = dr_policy.orders.id
    windw     = "15m"
  }
  assert {
    condition     = data.dr_status.orders.rpo_mett
    error_message = "${data.dr_status.orders.summary}"
  }
}
```
"#;
    let mut found = Vec::new();
    for (_, fence) in hcl_fences(page) {
        found.extend(hcl_problems(&schemas, &fence));
    }
    found.extend(span_problems(&schemas, &every, page));
    let expected = [
        "dr_policy: no attribute or block `idd`",
        "dr_drill.orders.postgres_dump.decrypt: no argument `cypher`",
        "dr_drill.orders: no block `verfy`",
        "postgres_pitr: no argument `wal_archive_url`",
        "data.dr_status.orders: no argument `windw`",
        "data.dr_status: no attribute or block `rpo_mett`",
        "2: `fail_on_target_mis` is no attribute (did you mean `fail_on_target_miss`?)",
        "3: dr_policy: no attribute or block `estimated_rop`",
        "3: `target.pasword_env`: no such attribute path",
    ];
    for e in expected {
        assert!(found.iter().any(|f| f == e), "{e:?} not in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn near_misses_are_one_or_two_letters() {
    assert_eq!(distance("rpo_met", "rto_met"), 1);
    assert_eq!(distance("pasword_env", "password_env"), 1);
    assert_eq!(distance("windwo", "window"), 1);
    assert!(distance("archive_lag", "wal_archive_uri") > 2);
}
