//! The evaluated configuration rules query: every resource and data source of every module
//! instance, at its Terraform address, with attribute values evaluated (variables, locals,
//! tfvars, module arguments), its region resolved through provider aliases, and the exact
//! location of each attribute for diagnostics and fixes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) mod index;

use crate::eval::Value;
use crate::finding::RuleMeta;
use crate::finding::{Finding, Fix, Location};
use crate::options::LintOptions;
use crate::path_map::PathMap;

/// Managed resource or data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `resource "type" "name"`.
    Managed,
    /// `data "type" "name"`.
    Data,
}

/// One attribute: its value and where it is written.
#[derive(Debug, Clone)]
pub struct Attr {
    /// The evaluated value.
    pub value: Value,
    /// `key = value`, the whole attribute.
    pub loc: Location,
    /// Just the value expression.
    pub value_loc: Location,
    /// Where the value came from when the module's caller passed it (`= var.x`): findings
    /// and fixes on this attribute go to the caller's argument.
    pub origin: Option<Arc<Origin>>,
}

/// A module caller's argument: `deletion_protection = false` in a `module` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The caller's file.
    pub file: PathBuf,
    /// `key = value` in the `module` block.
    pub loc: Location,
    /// The value expression.
    pub value_loc: Location,
    /// The header line of the `module` block (a `# drlint:ignore` above it covers this).
    pub block_line: u32,
}

/// A block body: a resource's, or a nested block's.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Attributes in source order.
    pub attrs: Vec<(String, Attr)>,
    /// Nested blocks in source order, with their type name.
    pub blocks: Vec<(String, Node)>,
    /// The block, from its type name to its closing brace.
    pub loc: Location,
    /// A `dynamic` block: present, but how many and with which values is unknown.
    pub dynamic: bool,
}

impl Node {
    /// The attribute `name`, if written (its value may be null: see [`Node::setting`]).
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, a)| a)
    }

    /// The attribute `name` when it sets a value: written, and not null. An argument whose
    /// value is null (`= var.x` where the variable defaults to null) is not set, as if it
    /// were not written: the provider's default applies. Unknown values are settings.
    pub fn setting(&self, name: &str) -> Option<&Attr> {
        self.attr(name).filter(|a| !a.value.is_null())
    }

    /// The value of `name`; `None` when the argument is not set (not written, or null).
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.setting(name).map(|a| &a.value)
    }

    /// Where and how a finding names the argument `name`, which is not set: at the
    /// attribute and `NAME is null` when it is written with a null value, at `header`
    /// and `no NAME` when it is not written.
    pub fn unset(&self, name: &str, header: Location) -> (Location, String) {
        match self.attr(name) {
            Some(a) => (a.loc, format!("{name} is null (not set)")),
            None => (header, format!("no {name}")),
        }
    }

    /// The known boolean value of `name`: `Some(None)` when written but unknown.
    pub fn bool(&self, name: &str) -> Option<Option<bool>> {
        self.value(name).map(Value::as_bool)
    }

    /// Nested blocks of type `name` (dynamic ones included, flagged).
    pub fn blocks<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.blocks
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, n)| n)
    }

    /// The first nested block of type `name`.
    pub fn block<'a>(&'a self, name: &'a str) -> Option<&'a Node> {
        self.blocks(name).next()
    }

    /// True when some nested block of any depth is dynamic: its content is unknown.
    pub fn has_dynamic(&self) -> bool {
        self.blocks
            .iter()
            .any(|(_, n)| n.dynamic || n.has_dynamic())
    }
}

/// Which attribute changes Terraform is told to ignore (`lifecycle { ignore_changes }`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IgnoreChanges {
    /// None ignored.
    #[default]
    None,
    /// `ignore_changes = all`.
    All,
    /// These top-level attributes.
    Some(Vec<String>),
    /// Written but not readable statically.
    Unknown,
}

impl IgnoreChanges {
    /// Whether a change to `attr` is ignored (unknown counts as ignored: no false positive).
    pub fn covers(&self, attr: &str) -> bool {
        match self {
            IgnoreChanges::None => false,
            IgnoreChanges::All | IgnoreChanges::Unknown => true,
            IgnoreChanges::Some(list) => list.iter().any(|a| a == attr),
        }
    }
}

/// A resource or data source of one module instance.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Managed or data.
    pub mode: Mode,
    /// Resource type, e.g. `aws_db_instance`.
    pub kind: String,
    /// Local name, e.g. `main`.
    pub name: String,
    /// Address without index: `module.db.aws_db_instance.main`, `data.dr_runbook.x`.
    pub address: String,
    /// The module prefix of the address (`""` for the root module).
    pub module: std::sync::Arc<str>,
    /// The file it is written in.
    pub file: PathBuf,
    /// The block header (type name) position.
    pub header: Location,
    /// The evaluated body.
    pub body: Node,
    /// The region it lives in, when known (provider alias resolved).
    pub region: Option<String>,
    /// Has `count` or `for_each`: one block, possibly many instances.
    pub expanded: bool,
    /// `lifecycle { ignore_changes }`.
    pub ignore_changes: IgnoreChanges,
    /// The `module` blocks that instantiate its module, outermost first: file and header
    /// line. A `# drlint:ignore` above one of them covers the resource's findings.
    pub calls: Arc<[(PathBuf, u32)]>,
    /// The addresses of its instances with their keys (`module.db[0].aws_db_instance.this`)
    /// where `count`/`for_each` are known; empty when [`Resource::address`] names it.
    pub instances: Vec<String>,
}

impl Resource {
    /// The value of a top-level attribute; `None` when not written.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.body.value(name)
    }

    /// The known string value of a top-level attribute.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.value(name).and_then(Value::as_str)
    }

    /// The name AWS knows it by, when written as a known string: `identifier`,
    /// `cluster_identifier` or `bucket` (for buckets), or the `dr_policy` name.
    pub fn identity(&self) -> Option<&str> {
        match self.kind.as_str() {
            "aws_db_instance" => self.str("identifier"),
            "aws_rds_cluster" => self.str("cluster_identifier"),
            "aws_s3_bucket" => self.str("bucket"),
            "dr_policy" => self.str("name"),
            _ => None,
        }
    }
}

/// Options the rules read.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// DR004's minimum retention in days.
    pub min_retention_days: u32,
    /// Regions that count as DR regions (empty: any other region).
    pub dr_regions: Vec<String>,
    /// Collect what rules could not judge ([`Context::unknown`]).
    pub explain_unknown: bool,
}

impl From<&LintOptions> for RuleOptions {
    fn from(o: &LintOptions) -> Self {
        RuleOptions {
            min_retention_days: o.min_retention_days,
            dr_regions: o.dr_regions.clone(),
            explain_unknown: o.explain_unknown,
        }
    }
}

/// Everything the rules see.
#[derive(Debug)]
pub struct Context {
    /// Every resource and data source of every module instance.
    pub resources: Vec<Resource>,
    /// Rule options.
    pub options: RuleOptions,
    index: rustc_hash::FxHashMap<String, usize>,
    sources: Arc<PathMap<Arc<str>>>,
    /// The loader's parsed files, when the context comes from configuration files: what
    /// asks for a module's syntax again reads it here instead of parsing it again.
    trees: Option<Arc<PathMap<Arc<crate::source::SourceFile>>>>,
    /// What the rules look up, built on first use.
    facts: std::sync::OnceLock<index::Index>,
    /// What rules could not judge, when asked for ([`RuleOptions::explain_unknown`]).
    unjudged: std::sync::Mutex<Vec<crate::finding::Unjudged>>,
}

impl Context {
    /// Builds the context; `sources` are the file texts fixes are computed against.
    pub fn new(
        resources: Vec<Resource>,
        options: RuleOptions,
        sources: Arc<PathMap<Arc<str>>>,
    ) -> Self {
        let index = resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.address.clone(), i))
            .collect();
        Context {
            resources,
            options,
            index,
            sources,
            trees: None,
            facts: std::sync::OnceLock::new(),
            unjudged: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Records that rule `meta` could not judge `res` because `attr` (named `name`) is
    /// unknown before apply; says why from the expression as written. Only with
    /// `--explain-unknown`; never a finding.
    pub fn unknown_attr(&self, meta: &RuleMeta, res: &Resource, name: &str, attr: &Attr) {
        if !self.options.explain_unknown {
            return;
        }
        let text = self
            .expression_text(res, attr)
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "?".into());
        let why =
            match (&attr.value, text.strip_prefix("var.")) {
                (Value::Ref(r), _) => format!("{} is known only after apply", r.address),
                (_, Some(var))
                    if var
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-') =>
                {
                    match &attr.origin {
                    Some(o) => format!(
                        "the value the module's caller passes for var.{var} ({}:{}) cannot be evaluated before apply",
                        o.file.display(),
                        o.loc.line
                    ),
                    None => format!("var.{var} has no default and no value from a .tfvars file or the module's caller"),
                }
                }
                _ => "it cannot be evaluated before apply".to_string(),
            };
        self.unknown(meta, res, attr.loc, format!("{name} = {text}: {why}"));
    }

    /// Records that rule `meta` could not judge `res`, and why. Only with
    /// `--explain-unknown`; never a finding.
    pub fn unknown(&self, meta: &RuleMeta, res: &Resource, at: Location, what: String) {
        if !self.options.explain_unknown {
            return;
        }
        self.unjudged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(crate::finding::Unjudged {
                rule: meta.code,
                resource: res.address.clone(),
                file: res.file.clone(),
                location: at,
                what,
            });
    }

    /// What rules recorded with [`Context::unknown`].
    pub fn take_unjudged(&self) -> Vec<crate::finding::Unjudged> {
        std::mem::take(&mut *self.unjudged.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The indexes rules look up instead of scanning every resource.
    pub(crate) fn facts(&self) -> &index::Index {
        self.facts.get_or_init(|| index::Index::new(self))
    }

    /// Managed resources of the given types, in configuration order.
    pub fn managed<'a>(&'a self, kinds: &'a [&'a str]) -> impl Iterator<Item = &'a Resource> + 'a {
        let mut at: Vec<usize> = kinds
            .iter()
            .flat_map(|k| self.facts().managed_of(k).iter().copied())
            .collect();
        if kinds.len() > 1 {
            at.sort_unstable();
            at.dedup();
        }
        at.into_iter().map(move |i| &self.resources[i])
    }

    /// Managed resources of one type.
    pub fn managed_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.facts()
            .managed_of(kind)
            .iter()
            .map(move |&i| &self.resources[i])
    }

    /// Data sources of the given type.
    pub fn data<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.facts()
            .data_of(kind)
            .iter()
            .map(move |&i| &self.resources[i])
    }

    /// The resource at `address`.
    pub fn get(&self, address: &str) -> Option<&Resource> {
        self.index.get(address).map(|&i| &self.resources[i])
    }

    /// The resource a value references (`aws_db_instance.main.arn`), if it is one.
    pub fn target(&self, value: &Value) -> Option<&Resource> {
        value.as_ref().and_then(|r| self.get(&r.address))
    }

    /// The position in [`Context::resources`] of the resource at `address`.
    pub(crate) fn position(&self, address: &str) -> Option<usize> {
        self.index.get(address).copied()
    }

    /// The position in [`Context::resources`] of the resource a value references.
    pub(crate) fn target_index(&self, value: &Value) -> Option<usize> {
        value
            .as_ref()
            .and_then(|r| self.index.get(&r.address).copied())
    }

    /// Whether `value` names `res`: a reference to it, its identity, or its ARN.
    /// `None` when that cannot be known (unknown value).
    pub fn names(&self, value: &Value, res: &Resource) -> Option<bool> {
        match value {
            Value::Ref(r) => Some(r.address == res.address),
            Value::String(s) => {
                let id = res.identity()?;
                Some(s == id || arn_resource_name(s) == Some(id))
            }
            _ => None,
        }
    }

    /// The region a value points at: the referenced resource's region, or the region in
    /// an ARN. `None` when unknown.
    pub fn region_of(&self, value: &Value) -> Option<String> {
        match value {
            Value::Ref(_) => self.target(value).and_then(|r| r.region.clone()),
            Value::String(s) => arn_region(s).map(str::to_string),
            _ => None,
        }
    }

    /// The source text of `attr`'s value expression in `res` (`var.name`), when the file
    /// text is at hand (not for plans).
    pub fn expression_text<'a>(&'a self, res: &Resource, attr: &Attr) -> Option<&'a str> {
        self.source(&res.file)?
            .get(attr.value_loc.start..attr.value_loc.end)
    }

    /// The file text a finding's fix edits.
    pub fn source(&self, file: &Path) -> Option<&str> {
        self.sources.get(file).map(|s| &**s)
    }

    /// With the loader's parsed files (see [`Context::tree`]).
    pub fn with_trees(mut self, trees: Arc<PathMap<Arc<crate::source::SourceFile>>>) -> Self {
        self.trees = Some(trees);
        self
    }

    /// The syntax tree the loader parsed `file` into, when it did.
    pub fn tree(&self, file: &Path) -> Option<&hcl_edit::structure::Body> {
        self.trees.as_ref()?.get(file).map(|f| &f.body)
    }

    /// The text of `file` as shared: a cache that holds it keeps its address taken.
    pub fn shared_source(&self, file: &Path) -> Option<&Arc<str>> {
        self.sources.get(file)
    }

    /// The `.tf` files read in directory `dir` (one module's), sorted by name.
    pub fn sources_in(&self, dir: &Path) -> Vec<(&Path, &Arc<str>)> {
        let mut found: Vec<(&Path, &Arc<str>)> = self
            .sources
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir) && p.extension().is_some_and(|e| e == "tf"))
            .collect();
        found.sort();
        found
    }

    /// Whether `region` is acceptable as a DR region for a primary in `primary`.
    pub fn is_dr_region(&self, primary: &str, region: &str) -> bool {
        region != primary
            && (self.options.dr_regions.is_empty()
                || self.options.dr_regions.iter().any(|r| r == region))
    }

    /// A finding of rule `meta` on `res`, pointing at `at`.
    pub fn finding(
        &self,
        meta: &RuleMeta,
        res: &Resource,
        at: Location,
        message: String,
        fix: Option<Fix>,
    ) -> Finding {
        let mut finding = Finding {
            rule: meta.code,
            name: meta.name,
            severity: meta.severity,
            resource: res.address.clone(),
            file: res.file.clone(),
            location: at,
            block_line: res.header.line,
            message,
            fix,
            suppress_at: res.calls.to_vec(),
            resource_file: None,
        };
        // A value the caller passed: the finding and its fix belong at the argument. Not
        // DR015's: its fix (remove the attribute, or ignore_changes) is in the module.
        let from_caller = (meta.code != "DR015").then_some(()).and_then(|()| {
            res.body
                .attrs
                .iter()
                .map(|(_, a)| a)
                .find(|a| a.origin.is_some() && (a.loc == at || a.value_loc == at))
        });
        if let Some(attr) = from_caller {
            if let Some(origin) = &attr.origin {
                redirect(&mut finding, attr, origin);
            }
        }
        // `--fix` never writes into modules `terraform init` downloaded.
        if is_downloaded(&finding.file) {
            if let Some(fix) = &mut finding.fix {
                fix.edits.clear();
            }
        }
        finding
    }
}

/// Points `finding` at the caller's argument `origin` instead of `attr` in the module;
/// an edit of the attribute's value becomes an edit of the argument's value, and a fix
/// with any other edit keeps only its description.
fn redirect(finding: &mut Finding, attr: &Attr, origin: &Origin) {
    finding.location = if finding.location == attr.value_loc {
        origin.value_loc
    } else {
        origin.loc
    };
    finding.file = origin.file.clone();
    finding.block_line = origin.block_line;
    if let Some(fix) = &mut finding.fix {
        let all_values = fix
            .edits
            .iter()
            .all(|e| (e.start, e.end) == (attr.value_loc.start, attr.value_loc.end));
        if all_values {
            for e in &mut fix.edits {
                (e.start, e.end) = (origin.value_loc.start, origin.value_loc.end);
            }
        } else {
            fix.edits.clear();
        }
    }
}

/// Whether `file` is inside a `.terraform` directory (modules `terraform init` fetched).
pub fn is_downloaded(file: &Path) -> bool {
    // Once per finding: most paths do not contain the name at all, and one byte search
    // (with a searcher built once) says so without walking the components.
    static NAME: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b".terraform"));
    NAME.find(file.as_os_str().as_encoded_bytes()).is_some()
        && file
            .components()
            .any(|c| c.as_os_str() == std::ffi::OsStr::new(".terraform"))
}

/// The region part of an ARN (`arn:aws:rds:eu-west-1:123:db:x` → `eu-west-1`).
pub fn arn_region(s: &str) -> Option<&str> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    (!region.is_empty()).then_some(region)
}

/// The name at the end of an ARN (`...:db:orders` → `orders`, `arn:aws:s3:::b` → `b`).
pub fn arn_resource_name(s: &str) -> Option<&str> {
    if !s.starts_with("arn:") {
        return None;
    }
    s.rsplit([':', '/']).next().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_give_region_and_name() {
        assert_eq!(
            arn_region("arn:aws:rds:eu-west-1:1:db:orders"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_region("orders"), None);
        assert_eq!(
            arn_resource_name("arn:aws:rds:eu-west-1:1:db:orders"),
            Some("orders")
        );
        assert_eq!(arn_resource_name("arn:aws:s3:::bucket"), Some("bucket"));
    }
}
