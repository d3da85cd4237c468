//! Registry-layout documentation rendered from the schema, so descriptions are written
//! once (in the schema) and the docs cannot drift from the code.
//!
//! A page is a hand-written template (`provider/templates/...`) with three markers:
//! `{{example}}` (an `examples/` file), `{{schema}}` (the argument and attribute
//! reference, in the layout tfplugindocs produces) and `{{import}}` (an `import.sh`).
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

fn nested(b: &NestedBlock) -> (&Block, &'static str) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
