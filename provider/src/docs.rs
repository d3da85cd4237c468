//! Registry-layout documentation rendered from the schema, so descriptions are written
//! once (in the schema) and the docs cannot drift from the code.
//!
//! A page is a hand-written template (`provider/templates/...`) with three markers:
//! `{{example}}` (an `examples/` file), `{{schema}}` (the argument and attribute
//! reference, in the layout tfplugindocs produces) and `{{import}}` (an `import.sh`).
//! The provider page and the guides' index also take `{{guides}}`: a list of the
//! hand-written guides in `docs/guides/`, from their Registry front matter.
//! `tests/policy_docs.rs` checks the committed pages; `DRKIT_BLESS=1` rewrites them.

use std::fmt::Write;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, NestedBlock};

fn type_name(t: &AttributeType) -> String {
    match t {
        AttributeType::String => "String".into(),
        AttributeType::Number => "Number".into(),
        AttributeType::Bool => "Boolean".into(),
        AttributeType::List(inner) => format!("List of {}", type_name(inner)),
        AttributeType::Set(inner) => format!("Set of {}", type_name(inner)),
        AttributeType::Map(inner) => format!("Map of {}", type_name(inner)),
        AttributeType::Any => "Dynamic".into(),
        _ => "Object".into(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A nested block's schema and how tfplugindocs names its kind.
pub fn nested(b: &NestedBlock) -> (&Block, &'static str) {
    match b {
        NestedBlock::Single(b) => (b, "Block, Required"),
        NestedBlock::List(b) => (b, "Block List"),
        NestedBlock::Set(b) => (b, "Block Set"),
        NestedBlock::Map(b) => (b, "Block Map"),
        NestedBlock::Group(b) => (b, "Block"),
        NestedBlock::Optional(b) => (b, "Block List, Max: 1"),
    }
}

fn attribute_line(out: &mut String, name: &str, a: &Attribute) {
    let _ = writeln!(
        out,
        "- `{name}` ({}{}) {}",
        type_name(&a.attr_type),
        if a.sensitive { ", Sensitive" } else { "" },
        one_line(&a.description.content)
    );
}

fn block_body(
    out: &mut String,
    block: &Block,
    anchor: &str,
    heading: &str,
    later: &mut Vec<(String, String, Block)>,
) {
    let mut names: Vec<&String> = block.attributes.keys().collect();
    names.sort();
    let mut blocks: Vec<&String> = block.blocks.keys().collect();
    blocks.sort();
    let groups = [
        ("Required", &[AttributeConstraint::Required][..]),
        (
            "Optional",
            &[
                AttributeConstraint::Optional,
                AttributeConstraint::OptionalComputed,
            ][..],
        ),
        ("Read-Only", &[AttributeConstraint::Computed][..]),
    ];
    for (title, constraints) in groups {
        let mut section = String::new();
        for name in &names {
            let a = &block.attributes[*name];
            if constraints.contains(&a.constraint) {
                attribute_line(&mut section, name, a);
            }
        }
        if title == "Optional" {
            for name in &blocks {
                let (b, kind) = nested(&block.blocks[*name]);
                let id = format!("{anchor}--{name}");
                let _ = writeln!(
                    section,
                    "- `{name}` ({kind}) {} (see [below for nested schema](#nestedblock{id}))",
                    one_line(&b.description.content)
                );
                later.push((
                    id,
                    format!(
                        "{}{name}",
                        if anchor.is_empty() {
                            String::new()
                        } else {
                            format!("{}.", anchor.trim_start_matches("--").replace("--", "."))
                        }
                    ),
                    b.clone(),
                ));
            }
        }
        if !section.is_empty() {
            let _ = write!(
                out,
                "{heading}{title}{}\n\n{section}\n",
                if heading.is_empty() { ":" } else { "" }
            );
        }
    }
}

/// The "Schema" section of a page, in tfplugindocs' layout.
pub fn schema_markdown(block: &Block) -> String {
    let mut out = String::from("## Schema\n\n");
    let mut later = Vec::new();
    block_body(&mut out, block, "", "### ", &mut later);
    while !later.is_empty() {
        let mut next = Vec::new();
        for (id, path, b) in later {
            let _ = write!(
                out,
                "<a id=\"nestedblock{id}\"></a>\n### Nested Schema for `{path}`\n\n"
            );
            block_body(&mut out, &b, &id, "", &mut next);
        }
        later = next;
    }
    out.trim_end().to_string() + "\n"
}

/// Fills a page template: `{{example}}`, `{{schema}}` and `{{import}}`.
pub fn render(template: &str, schema: &Block, example: &str, import: &str) -> String {
    template
        .replace("{{example}}", &format!("```terraform\n{}```", example))
        .replace("{{import}}", &format!("```shell\n{}```", import))
        .replace("{{schema}}", schema_markdown(schema).trim_end())
}

/// A hand-written guide of `docs/guides/`, as its front matter describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guide {
    /// The file name, e.g. `postgres-pitr.md`.
    pub file: String,
    /// `page_title`, else the first `# ` heading, else the file name.
    pub title: String,
    /// `subcategory`: the group the Registry lists it under ("" when none).
    pub subcategory: String,
    /// The first line of `description`.
    pub description: String,
}

impl Guide {
    /// Reads a guide's front matter (the Registry's `---` YAML block of `key: value` lines
    /// and `description: |-` followed by indented text).
    pub fn read(file: &str, text: &str) -> Guide {
        let mut guide = Guide {
            file: file.to_string(),
            title: String::new(),
            subcategory: String::new(),
            description: String::new(),
        };
        let unquote = |v: &str| v.trim().trim_matches('"').to_string();
        let mut lines = text.lines();
        if text.starts_with("---") {
            lines.next();
            let mut in_description = false;
            for line in lines.by_ref() {
                if line.trim_end() == "---" {
                    break;
                }
                if in_description && line.starts_with(' ') {
                    if guide.description.is_empty() {
                        guide.description = line.trim().to_string();
                    }
                    continue;
                }
                in_description = false;
                match line.split_once(':') {
                    Some(("page_title", v)) => guide.title = unquote(v),
                    Some(("subcategory", v)) => guide.subcategory = unquote(v),
                    Some(("description", v)) if v.trim() == "|-" || v.trim() == "|" => {
                        in_description = true
                    }
                    Some(("description", v)) => guide.description = unquote(v),
                    _ => {}
                }
            }
        }
        if guide.title.is_empty() {
            guide.title = lines
                .find_map(|l| l.strip_prefix("# "))
                .map(str::trim)
                .unwrap_or(file)
                .to_string();
        }
        guide
    }
}

/// The guides as a Markdown list grouped by subcategory (groups and guides sorted by
/// title), each linked as `{link_prefix}{file}`.
pub fn guides_markdown(guides: &[Guide], link_prefix: &str) -> String {
    let mut sorted = guides.to_vec();
    sorted.sort_by(|a, b| (&a.subcategory, &a.title).cmp(&(&b.subcategory, &b.title)));
    let mut out = String::new();
    let mut group = None;
    for g in &sorted {
        if group != Some(&g.subcategory) {
            if group.is_some() {
                out.push('\n');
            }
            if !g.subcategory.is_empty() {
                let _ = writeln!(out, "**{}**\n", g.subcategory);
            }
            group = Some(&g.subcategory);
        }
        let _ = write!(out, "- [{}]({link_prefix}{})", g.title, g.file);
        if !g.description.is_empty() {
            let _ = write!(out, ": {}", g.description);
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guides_are_listed_by_group_from_their_front_matter() {
        let pitr = Guide::read(
            "postgres-pitr.md",
            "---\npage_title: \"PostgreSQL PITR drills\"\nsubcategory: \"Drills\"\n\
             description: |-\n  Replay a WAL archive.\n  More.\n---\n\n# PostgreSQL PITR drills\n",
        );
        assert_eq!(pitr.title, "PostgreSQL PITR drills");
        assert_eq!(pitr.description, "Replay a WAL archive.");
        // A guide written without front matter still gets its heading as title.
        let plain = Guide::read("adopting.md", "# Adopting drlint\n\ntext\n");
        assert_eq!(plain.title, "Adopting drlint");
        let lint = Guide::read(
            "lint.md",
            "---\npage_title: Lint\nsubcategory: drlint\ndescription: Gate merges.\n---\n",
        );
        assert_eq!(
            guides_markdown(&[lint, plain, pitr], "guides/"),
            "- [Adopting drlint](guides/adopting.md)\n\n**Drills**\n\n\
             - [PostgreSQL PITR drills](guides/postgres-pitr.md): Replay a WAL archive.\n\n\
             **drlint**\n\n- [Lint](guides/lint.md): Gate merges."
        );
    }

    #[test]
    fn nested_blocks_get_their_own_section() {
        let md = schema_markdown(&crate::resources::dr_policy::schema().block);
        assert!(md.contains("### Required\n\n- `name` (String)"), "{md}");
        assert!(md.contains("- `rds` (Block List)"), "{md}");
        assert!(
            md.contains("### Nested Schema for `rds.cross_region_replica`"),
            "{md}"
        );
        assert!(
            md.contains("<a id=\"nestedblock--s3--retention\"></a>"),
            "{md}"
        );
    }
}
