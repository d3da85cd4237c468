//! `terraform show -json` output as a [`Context`]: Terraform's resolved values, references
//! from the configuration for values only known after apply, regions from provider configs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use crate::context::{Attr, Context, IgnoreChanges, Mode, Node, Resource, RuleOptions};
use crate::eval::{Reference, Value};
use crate::finding::Location;
use crate::load::file_start;
use crate::options::LintOptions;

/// At most this many instance addresses are listed per resource.
const MAX_INSTANCES: usize = 100;

/// Plans bigger than this are refused (bounded memory).
const MAX_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// Reads a plan (or state) JSON file into a context.
pub fn load(path: &Path, options: &LintOptions) -> Result<Context, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > MAX_PLAN_BYTES {
        return Err(format!(
            "plan is {} MB, over the limit of 512 MB",
            size >> 20
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    from_json(path, &bytes, options)
}

/// A plan (or state) JSON text into a context; its resources point at `path`.
pub fn from_json(path: &Path, bytes: &[u8], options: &LintOptions) -> Result<Context, String> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "not JSON at line {} column {}: {e}; create it with `terraform show -json tfplan > plan.json`",
            e.line(),
            e.column()
        )
    })?;
    let root = json
        .pointer("/planned_values/root_module")
        .or_else(|| json.pointer("/values/root_module"))
        .ok_or("no planned_values.root_module: is this `terraform show -json` output of a plan?")?;
    let config = json.pointer("/configuration");
    let regions = provider_regions(config);
    let mut config_resources = HashMap::new();
    if let Some(c) = config.and_then(|c| c.get("root_module")) {
        collect_config(c, "", &mut config_resources);
    }
    let mut resources = Vec::new();
    collect_values(root, path, &regions, &config_resources, &mut resources);
    Ok(Context::new(
        resources,
        RuleOptions::from(options),
        Default::default(),
    ))
}

/// Region per provider config key (`aws`, `aws.dr`, `module.db:aws`).
fn provider_regions(config: Option<&Json>) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    if let Some(Json::Object(pc)) = config.and_then(|c| c.get("provider_config")) {
        for (key, p) in pc {
            let region = p
                .pointer("/expressions/region/constant_value")
                .and_then(Json::as_str)
                .map(str::to_string);
            out.insert(key.clone(), region);
        }
    }
    out
}

struct ConfigResource<'a> {
    provider_key: Option<String>,
    expressions: Option<&'a serde_json::Map<String, Json>>,
    ignore_changes: IgnoreChanges,
}

fn collect_config<'a>(
    module: &'a Json,
    prefix: &str,
    out: &mut HashMap<String, ConfigResource<'a>>,
) {
    for r in module
        .get("resources")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let Some(addr) = r.get("address").and_then(Json::as_str) else {
            continue;
        };
        out.insert(
            format!("{prefix}{addr}"),
            ConfigResource {
                provider_key: r
                    .get("provider_config_key")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                expressions: r.get("expressions").and_then(Json::as_object),
                ignore_changes: IgnoreChanges::None,
            },
        );
    }
    if let Some(Json::Object(calls)) = module.get("module_calls") {
        for (name, call) in calls {
            if let Some(m) = call.get("module") {
                collect_config(m, &format!("{prefix}module.{name}."), out);
            }
        }
    }
}

fn collect_values(
    module: &Json,
    file: &Path,
    regions: &HashMap<String, Option<String>>,
    config: &HashMap<String, ConfigResource<'_>>,
    out: &mut Vec<Resource>,
) {
    for r in module
        .get("resources")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(address), Some(kind), Some(name)) = (
            r.get("address").and_then(Json::as_str),
            r.get("type").and_then(Json::as_str),
            r.get("name").and_then(Json::as_str),
        ) else {
            continue;
        };
        let full = address;
        let address = strip_indexes(address);
        if let Some(first) = out
            .iter_mut()
            .find(|e: &&mut Resource| e.address == address)
        {
            // One entry per address; its count/for_each instances are listed.
            if full != address && first.instances.len() < MAX_INSTANCES {
                first.instances.push(full.to_string());
            }
            continue;
        }
        let mode = if r.get("mode").and_then(Json::as_str) == Some("data") {
            Mode::Data
        } else {
            Mode::Managed
        };
        let module_prefix = address
            .rfind(if mode == Mode::Data { "data." } else { kind })
            .map_or(String::new(), |i| address[..i].to_string());
        let cfg = config.get(&address);
        let mut body = node(r.get("values").unwrap_or(&Json::Null));
        // Values known only after apply: use the configuration's references.
        if let Some(exprs) = cfg.and_then(|c| c.expressions) {
            for (key, e) in exprs {
                let Some(first) = e
                    .get("references")
                    .and_then(Json::as_array)
                    .and_then(|refs| {
                        refs.iter()
                            .filter_map(Json::as_str)
                            .find(|r| is_resource_address(r))
                    })
                else {
                    continue;
                };
                let missing = body.value(key).is_none_or(|v| matches!(v, Value::Null));
                if missing {
                    let attr = Attr {
                        value: Value::Ref(Reference {
                            address: format!("{module_prefix}{}", strip_indexes(first)),
                            attr: Vec::new(),
                        }),
                        loc: file_start(),
                        value_loc: file_start(),
                        origin: None,
                    };
                    body.attrs.retain(|(k, _)| k != key);
                    body.attrs.push((key.clone(), attr));
                }
            }
        }
        let provider_key = cfg.and_then(|c| c.provider_key.clone());
        let region = match body.value("region") {
            Some(Value::String(r)) => Some(r.clone()),
            _ => provider_key.and_then(|k| {
                regions
                    .get(&k)
                    .or_else(|| k.rsplit(':').next().and_then(|short| regions.get(short)))
                    .cloned()
                    .flatten()
            }),
        };
        let instances = if full == address.as_str() {
            Vec::new()
        } else {
            vec![full.to_string()]
        };
        out.push(Resource {
            instances,
            mode,
            kind: kind.to_string(),
            name: name.to_string(),
            expanded: r.get("index").is_some(),
            address,
            module: module_prefix.into(),
            file: file.to_path_buf(),
            header: file_start(),
            body,
            region,
            ignore_changes: cfg.map_or(IgnoreChanges::None, |c| c.ignore_changes.clone()),
            calls: Arc::from(Vec::new()),
        });
    }
    for child in module
        .get("child_modules")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        collect_values(child, file, regions, config, out);
    }
}

/// A resource's values: lists of objects are nested blocks, the rest attributes.
fn node(values: &Json) -> Node {
    let mut n = Node {
        loc: file_start(),
        ..Node::default()
    };
    if let Json::Object(map) = values {
        for (k, v) in map {
            match v {
                Json::Array(items)
                    if !items.is_empty() && items.iter().all(Json::is_object) && k != "tags" =>
                {
                    for item in items {
                        n.blocks.push((k.clone(), node(item)));
                    }
                }
                Json::Null => {}
                _ => n.attrs.push((
                    k.clone(),
                    Attr {
                        value: Value::from_json(v),
                        loc: file_start(),
                        value_loc: file_start(),
                        origin: None,
                    },
                )),
            }
        }
    }
    n
}

/// `aws_db_instance.main` or `data.x.y`: a reference to a whole resource (Terraform lists
/// `aws_db_instance.main.arn` and `aws_db_instance.main` both).
fn is_resource_address(r: &str) -> bool {
    let stripped = strip_indexes(r);
    let segments: Vec<&str> = stripped.split('.').collect();
    match segments.as_slice() {
        ["data", kind, _] => kind.contains('_'),
        [kind, _] => kind.contains('_'),
        _ => false,
    }
}

/// `module.a["x"].aws_db_instance.main[0]` → `module.a.aws_db_instance.main`.
fn strip_indexes(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0;
    let mut in_string = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Where a resource of the configuration is written: what a plan's finding points at.
#[derive(Debug, Clone)]
pub struct Block {
    /// The file.
    pub file: PathBuf,
    /// The block header.
    pub header: Location,
    /// Its top-level attributes as written in this block (not those a caller passed).
    pub attributes: Vec<(String, Location)>,
    /// The `module` blocks that instantiate it, outermost first (file, header line).
    pub calls: Arc<[(PathBuf, u32)]>,
}

/// The resource blocks of the configuration in `dir` (the root module a plan was made
/// from, its local modules, and the remote ones `terraform init` fetched), by address
/// without index (`module.db.aws_db_instance.this`). Files that cannot be parsed are
/// left out: the plan's findings then point at their address.
pub fn config_blocks(dir: &Path, var_files: &[PathBuf]) -> HashMap<String, Block> {
    let (modules, _) = crate::source::discover(&[dir.to_path_buf()]);
    let real = crate::load::RealPaths::default();
    let (texts, _) = crate::load::read_all(&modules, &real);
    let dir_files = crate::load::dir_index(&modules, &real);
    let mut loader = crate::load::Loader::new(&texts, &dir_files, &real, var_files);
    loader
        .root(dir)
        .into_iter()
        .map(|r| {
            let attributes = r
                .body
                .attrs
                .iter()
                .filter(|(_, a)| a.origin.is_none())
                .map(|(k, a)| (k.clone(), a.loc))
                .collect();
            let block = Block {
                file: r.file,
                header: r.header,
                attributes,
                calls: r.calls,
            };
            (r.address, block)
        })
        .collect()
}

/// Whether `dir` holds a Terraform configuration (a `*.tf` or `*.tf.json` file).
pub fn is_configuration(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            (name.ends_with(".tf") || name.ends_with(".tf.json"))
                && e.file_type().is_ok_and(|t| !t.is_dir())
        })
    })
}

impl Block {
    /// Where a finding with `message` points: the attribute the message opens with
    /// (`deletion_protection is false: ...`) when the block writes it, else the header.
    pub fn location_for(&self, message: &str) -> Location {
        let first = message
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        self.attributes
            .iter()
            .find(|(k, _)| k == first)
            .map_or(self.header, |(_, loc)| *loc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_their_indexes() {
        assert_eq!(
            strip_indexes("module.a[\"x]\"].aws_db_instance.main[0]"),
            "module.a.aws_db_instance.main"
        );
    }
}
