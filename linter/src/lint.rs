//! The engine's entry points: files → parse → module instances → rules → report.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

// An Fx set (see Cargo.toml) for the addresses a rule reports; paths are in PathMap/PathSet.
use rustc_hash::FxHashSet as HashSet;

use crate::context::{Context, RuleOptions};
use crate::finding::{same_file, FileError, Finding, LintedPlan, Report};
use crate::load::Loader;
use crate::options::LintOptions;
use crate::path_map::{sort_key, PathMap, PathSet};
use crate::shared_parses::{Batches, ModuleCalls};
use crate::{load, plan, rules, source};

/// Lints the `.tf` and `.tf.json` files and directories of `options.paths`.
///
/// Every directory with `.tf` or `.tf.json` files is a module; directories that another linted module
/// calls as a local module are linted through that call (at `module.NAME.` addresses),
/// the others as root modules. Unreadable or malformed files are reported in
/// [`Report::errors`]; every other file is still linted.
pub fn lint(options: &LintOptions) -> Report {
    let (modules, errors) = source::discover(&options.paths);
    let real = load::RealPaths::default();
    // Read everything once on all cores; a quick scan proposes the root modules.
    let (texts, called) = load::read_all(&modules, &real);
    let dir_files = load::dir_index(&modules, &real);
    let auto_tfvars = load::auto_tfvars_index(&modules);
    let dirs: Vec<PathBuf> = modules.keys().cloned().collect();
    let world = World {
        texts: &texts,
        dir_files: &dir_files,
        auto_tfvars: Some(&auto_tfvars),
        real: &real,
        reads_disk: true,
    };
    let mut report = lint_world(&world, &dirs, &called, errors, options);
    report.texts = tf_texts(texts);
    report
}

/// The configuration files read, for [`Report::texts`]: the same entries, without
/// rehashing.
fn tf_texts(texts: load::Texts) -> PathMap<source::FileText> {
    texts.filter_map(|path, text| {
        if source::is_config_file(path) {
            text.ok()
        } else {
            None
        }
    })
}

/// Lints files held in memory, by path and content, as [`lint`] lints files on disk: each
/// directory with `.tf` or `.tf.json` files is a module, and `.tfvars` (or `.tfvars.json`) files are
/// variable files (`terraform.tfvars` and `*.auto.tfvars` beside a root module load
/// themselves; `options.var_files` names others among `files`). Nothing is read from disk:
/// a module call to a directory without files here finds an empty module.
/// `options.paths` is not used. For tests, fuzzing and tools that already hold the text.
pub fn lint_in_memory(files: &[(PathBuf, Vec<u8>)], options: &LintOptions) -> Report {
    let mut texts = load::Texts::default();
    let real = load::RealPaths::default();
    let mut dir_files: PathMap<Vec<PathBuf>> = PathMap::default();
    let mut called = ModuleCalls::default();
    let mut dirs = Vec::new();
    for (path, bytes) in files {
        texts.insert(path.clone(), Ok(source::FileText::new(bytes.clone())));
        if !source::is_config_file(path) {
            continue;
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Ok(text) = std::str::from_utf8(bytes) {
            for src in load::module_calls(path, text) {
                called.add(real.of(&dir), real.of(&dir.join(src)));
            }
        }
        if !dirs.contains(&dir) {
            dirs.push(dir.clone());
        }
        let listed = dir_files.entry(real.of(&dir)).or_default();
        if !listed.contains(path) {
            listed.push(path.clone());
            listed.sort();
        }
    }
    dirs.sort();
    let world = World {
        texts: &texts,
        dir_files: &dir_files,
        auto_tfvars: None,
        real: &real,
        reads_disk: false,
    };
    let mut report = lint_world(&world, &dirs, &called, Vec::new(), options);
    report.texts = tf_texts(texts);
    report
}

/// The files a lint run sees: their bytes, the configuration files of each module directory
/// (canonical), and whether files beyond them may be read from disk.
struct World<'a> {
    texts: &'a load::Texts,
    dir_files: &'a PathMap<Vec<PathBuf>>,
    /// `terraform.tfvars` and `*.auto.tfvars` by module directory, where the walk saw them.
    auto_tfvars: Option<&'a PathMap<Vec<PathBuf>>>,
    real: &'a load::RealPaths,
    reads_disk: bool,
}

/// Lints the module directories `dirs`; `called` are the local module calls the quick scan
/// saw.
fn lint_world(
    world: &World<'_>,
    dirs: &[PathBuf],
    called: &ModuleCalls,
    mut errors: Vec<FileError>,
    options: &LintOptions,
) -> Report {
    let roots: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| !called.is_called(&world.real.of(d)))
        .cloned()
        .collect();
    let mut outcomes = without_called(
        &roots,
        lint_roots(&roots, world, called, options),
        world.real,
    );
    // A directory the scan took for a called module that no parsed `module` block reached
    // is a root after all.
    let reached: PathSet = outcomes
        .iter()
        .flat_map(|o| o.instantiated.iter().map(Path::to_path_buf))
        .collect();
    let missed: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| {
            let real = world.real.of(d);
            called.is_called(&real) && !reached.contains(&real)
        })
        .cloned()
        .collect();
    outcomes.extend(without_called(
        &missed,
        lint_roots(&missed, world, called, options),
        world.real,
    ));
    let mut files = PathSet::default();
    let mut findings = Vec::with_capacity(outcomes.iter().map(|o| o.findings.len()).sum());
    let mut skipped_remote = HashSet::default();
    let mut unknown = Vec::new();
    let mut instances: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for o in outcomes {
        unknown.extend(o.unknown);
        for (address, list) in o.instances {
            instances.entry(address).or_default().extend(list);
        }
        findings.extend(o.findings);
        errors.extend(o.errors);
        files.extend(o.files);
        skipped_remote.extend(o.skipped_remote);
    }
    let mut report = finish(findings, errors, files.len());
    report.unknown = sorted_unjudged(unknown, options);
    for list in instances.values_mut() {
        list.sort();
        list.dedup();
    }
    report.instances = instances;
    if !skipped_remote.is_empty() {
        let n = skipped_remote.len();
        report.notes.push(format!(
            "{n} remote module call{s} (registry or git source) {were} not followed: run `terraform init` so that .terraform/modules/modules.json lists {them}, then lint again",
            s = if n == 1 { "" } else { "s" },
            were = if n == 1 { "was" } else { "were" },
            them = if n == 1 { "it" } else { "them" },
        ));
    }
    report
}

/// The outcomes of `roots` without those of roots that another root's parsed `module`
/// block instantiated. The quick scan can miss a call (a brace in a comment or string
/// before the `module` block, a one-line block), and such a module linted as a root too
/// would report its resources twice, at two addresses, with fixes that conflict. Roots
/// that instantiate each other (a module cycle) are kept.
fn without_called(
    roots: &[PathBuf],
    mut outcomes: Vec<RootOutcome>,
    real: &load::RealPaths,
) -> Vec<RootOutcome> {
    let index: PathMap<usize> = roots
        .iter()
        .enumerate()
        .map(|(i, d)| (real.of(d), i))
        .collect();
    let mut called = vec![false; roots.len()];
    for (j, o) in outcomes.iter().enumerate() {
        for &i in o.instantiated.iter().filter_map(|d| index.get(d)) {
            let mutual = outcomes[i].instantiated.contains(&real.of(&roots[j]));
            if i != j && !mutual {
                called[i] = true;
            }
        }
    }
    let mut called = called.into_iter();
    outcomes.retain(|_| !called.next().unwrap_or(false));
    outcomes
}

/// What linting one root module gave.
struct RootOutcome {
    findings: Vec<Finding>,
    errors: Vec<FileError>,
    files: PathSet,
    instantiated: PathSet,
    /// Remote module calls no `modules.json` lists (file, line of the `module` block).
    skipped_remote: HashSet<(PathBuf, u32)>,
    /// What the rules could not judge (with `explain_unknown`).
    unknown: Vec<crate::finding::Unjudged>,
    /// Instance addresses of the findings' resources ([`Report::instances`]).
    instances: Vec<(String, Vec<String>)>,
}

/// Lints root modules in parallel, each with its own loader (bounded memory); roots that
/// reach a common module directory are linted one after another, parsing it once
/// ([`Batches`]). Outcomes are in the order of `roots`.
fn lint_roots(
    roots: &[PathBuf],
    world: &World<'_>,
    called: &ModuleCalls,
    options: &LintOptions,
) -> Vec<RootOutcome> {
    let canonical: Vec<PathBuf> = roots.iter().map(|r| world.real.of(r)).collect();
    let plan = Batches::plan(&canonical, called);
    // The biggest batches first (files to read, counting every module instance), so that
    // the last batch to finish is a small one.
    let files_in = |dir: &PathBuf| world.dir_files.get(dir).map_or(0, Vec::len);
    let cost = |batch: &Vec<usize>| -> usize {
        let reached = |i: usize| plan.reach(i).iter().map(files_in).sum::<usize>();
        batch
            .iter()
            .map(|&i| files_in(&canonical[i]) + reached(i))
            .sum()
    };
    let mut order: Vec<&Vec<usize>> = plan.batches.iter().collect();
    order.sort_by_key(|b| std::cmp::Reverse(cost(b)));
    // Each thread frees a root's configuration when it starts the next one; the last one
    // it built is left to the process's exit when the caller exits after this run.
    let leave = |left: Option<Leftovers>| {
        if options.exits_after {
            std::mem::forget(left);
        }
    };
    let linted = source::parallel_map_heavy_with(
        &order,
        || None,
        |left, &batch| {
            let shared = RefCell::new(plan.shared(batch));
            let mut out = Vec::with_capacity(batch.len());
            for &i in batch {
                drop(left.take());
                let loader = if world.reads_disk {
                    Loader::new(world.texts, world.dir_files, world.real, &options.var_files)
                } else {
                    Loader::in_memory(world.texts, world.dir_files, world.real, &options.var_files)
                };
                let mut loader = loader.with_shared(&shared);
                if let Some(found) = world.auto_tfvars {
                    loader = loader.with_auto_tfvars(found);
                }
                let resources = loader.root(&roots[i]);
                let ctx = Context::new(resources, RuleOptions::from(options), loader.sources())
                    .with_trees(loader.trees());
                let findings = run_rules(&ctx, options);
                let instances = instances_of(&ctx, &findings);
                out.push((
                    i,
                    RootOutcome {
                        findings,
                        errors: std::mem::take(&mut loader.errors),
                        files: std::mem::take(&mut loader.seen_files),
                        instantiated: std::mem::take(&mut loader.instantiated),
                        skipped_remote: std::mem::take(&mut loader.skipped_remote),
                        unknown: ctx.take_unjudged(),
                        instances,
                    },
                ));
                *left = Some(Leftovers {
                    _ctx: ctx,
                    _files: loader.take_files(),
                });
                drop(loader);
                shared.borrow_mut().release(i);
            }
            out
        },
        leave,
    );
    let mut outcomes: Vec<(usize, RootOutcome)> = linted.into_iter().flatten().collect();
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// What linting a root built that outlives it until the thread lints the next root: its
/// configuration and its syntax trees.
struct Leftovers {
    _ctx: Context,
    _files: load::ParsedFiles,
}

/// Reorders `items` in place so that `items[k]` becomes the old `items[order[k]]`;
/// `order` is a permutation. Each cycle of it is followed once, by swaps.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut at = start;
        while order[at] != at {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Lints `terraform show -json` output: the same rules on Terraform's resolved values.
pub fn lint_plan(path: &Path, options: &LintOptions) -> Report {
    plan_report(path, plan::load(path, options), options)
}

/// Lints `terraform show -json` output held in memory; `path` names it in the report.
pub fn lint_plan_json(path: &Path, json: &[u8], options: &LintOptions) -> Report {
    plan_report(path, plan::from_json(path, json, options), options)
}

/// What the rules could not judge, of the selected rules, by file, line and rule, once.
fn sorted_unjudged(
    mut unknown: Vec<crate::finding::Unjudged>,
    options: &LintOptions,
) -> Vec<crate::finding::Unjudged> {
    unknown.retain(|u| {
        (options.select.is_empty() || options.select.iter().any(|c| c == u.rule))
            && !options.ignore.iter().any(|c| c == u.rule)
    });
    unknown.sort_by(|a, b| {
        (&a.file, a.location.line, a.rule, &a.resource, &a.what).cmp(&(
            &b.file,
            b.location.line,
            b.rule,
            &b.resource,
            &b.what,
        ))
    });
    unknown.dedup_by(|a, b| (a.rule, &a.resource, &a.what) == (b.rule, &b.resource, &b.what));
    unknown
}

fn plan_report(path: &Path, ctx: Result<Context, String>, options: &LintOptions) -> Report {
    match ctx {
        Ok(ctx) => {
            let mut findings = run_rules(&ctx, options);
            let report_instances = instances_of(&ctx, &findings);
            locate_plan_findings(&mut findings, options);
            let mut report = finish(findings, Vec::new(), 0);
            report.plan = Some(LintedPlan {
                path: path.to_path_buf(),
                resources: Some(ctx.resources.len()),
            });
            report.unknown = sorted_unjudged(ctx.take_unjudged(), options);
            report.instances = report_instances.into_iter().collect();
            report
        }
        Err(message) => Report {
            errors: vec![FileError {
                file: path.to_path_buf(),
                line: None,
                column: None,
                message,
            }],
            plan: Some(LintedPlan {
                path: path.to_path_buf(),
                resources: None,
            }),
            ..Report::default()
        },
    }
}

/// Points a plan's findings at their resource's block in the configuration when
/// `options.config_dir` is given, else at no position in the plan (their address says
/// which resource). A plan is not edited: no finding of it carries edits.
fn locate_plan_findings(findings: &mut [Finding], options: &LintOptions) {
    let blocks = options
        .config_dir
        .as_deref()
        .map(|dir| plan::config_blocks(dir, &options.var_files))
        .unwrap_or_default();
    // A resource the configuration's own values do not instantiate (`count` from a
    // variable the plan set in a .tfvars file) is found by its local address
    // (`aws_db_instance.this`) when one block alone has it.
    let mut by_local: rustc_hash::FxHashMap<&str, Option<plan::Block>> = Default::default();
    for (address, block) in &blocks {
        by_local
            .entry(local(address))
            .and_modify(|seen| {
                if seen
                    .as_ref()
                    .is_some_and(|b| (&b.file, b.header.line) != (&block.file, block.header.line))
                {
                    *seen = None;
                }
            })
            .or_insert_with(|| Some(block.clone()));
    }
    for f in findings {
        if let Some(fix) = &mut f.fix {
            fix.edits.clear();
        }
        match blocks
            .get(&f.resource)
            .or_else(|| by_local.get(local(&f.resource))?.as_ref())
        {
            Some(block) => {
                f.file = block.file.clone();
                f.location = block.location_for(&f.message);
                f.block_line = block.header.line;
                f.suppress_at = block.calls.to_vec();
            }
            None => {
                f.location = crate::finding::Location::default();
                f.block_line = 0;
            }
        }
    }
}

/// An address without its module path: `aws_db_instance.this` of
/// `module.db.aws_db_instance.this`.
fn local(address: &str) -> &str {
    &address[crate::finding::module_path(address).len()..]
}

/// The instance addresses of the resources `findings` name, where known.
fn instances_of(ctx: &Context, findings: &[Finding]) -> Vec<(String, Vec<String>)> {
    // Most configurations have no known instance keys: no lookup per finding then.
    if ctx.resources.iter().all(|r| r.instances.is_empty()) {
        return Vec::new();
    }
    let mut seen = HashSet::default();
    findings
        .iter()
        .filter(|f| seen.insert(f.resource.as_str()))
        .filter_map(|f| {
            let res = ctx.get(&f.resource).filter(|r| !r.instances.is_empty())?;
            Some((f.resource.clone(), res.instances.clone()))
        })
        .collect()
}

/// Runs the selected rules; one finding per rule and address (the first in the file).
pub fn run_rules(ctx: &Context, options: &LintOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in rules::ALL {
        let code = rule.meta.code;
        let selected = options.select.is_empty() || options.select.iter().any(|c| c == code);
        if !selected || options.ignore.iter().any(|c| c == code) {
            continue;
        }
        let mut out = Vec::new();
        (rule.check)(ctx, &mut out);
        for f in &mut out {
            if let Some(&s) = options.severity.get(code) {
                f.severity = s;
            }
            no_edits_in_json(f);
        }
        // One finding per rule and address within this configuration (the first).
        // Equal bytes are equal paths: most findings share their file, and comparing paths
        // component by component was most of this sort.
        out.sort_by(|a, b| {
            let file = if a.file.as_os_str() == b.file.as_os_str() {
                std::cmp::Ordering::Equal
            } else {
                a.file.cmp(&b.file)
            };
            file.then(a.location.start.cmp(&b.location.start))
        });
        let mut seen = HashSet::default();
        let keep: Vec<bool> = out
            .iter()
            .map(|f| seen.insert(f.resource.as_str()))
            .collect();
        let mut keep = keep.into_iter();
        out.retain(|_| keep.next().unwrap_or(true));
        findings.extend(out);
    }
    findings
}

/// `--fix` edits HCL text only: a finding in a `.tf.json` file keeps its advice and loses
/// its edits (such files are generated, by CDK for Terraform or a script: the fix belongs
/// in the generator, and a hand edit would be overwritten by the next synth).
fn no_edits_in_json(finding: &mut Finding) {
    if !crate::json_config::is_json_config(&finding.file) {
        return;
    }
    if let Some(fix) = finding.fix.as_mut().filter(|f| !f.edits.is_empty()) {
        fix.edits.clear();
        fix.description
            .push_str(" (no --fix for JSON configuration: change the program that generates it)");
    }
}

fn finish(mut findings: Vec<Finding>, mut errors: Vec<FileError>, files: usize) -> Report {
    // By file first, in `Path`'s order: one key per finding, compared as bytes (the
    // component-by-component comparison was most of this sort). The findings are then
    // moved into that order where they are: a copy of them all would be a copy of some
    // hundreds of kilobytes into fresh pages.
    // One key per run of findings in one file.
    let mut group_keys: Vec<Vec<u8>> = Vec::new();
    let mut keys: Vec<usize> = Vec::with_capacity(findings.len());
    for run in findings.chunk_by(same_file) {
        keys.extend(std::iter::repeat_n(group_keys.len(), run.len()));
        group_keys.push(sort_key(&run[0].file));
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&findings[i], &findings[j]);
        (
            &group_keys[keys[i]],
            a.location.line,
            a.location.column,
            a.rule,
            &a.resource,
            &a.message,
        )
            .cmp(&(
                &group_keys[keys[j]],
                b.location.line,
                b.location.column,
                b.rule,
                &b.resource,
                &b.message,
            ))
    });
    permute(&mut findings, order);
    // Two root modules calling one module under the same name (examples/a and examples/b
    // both with `module "db" { source = "../../" }`) find the same thing at the same
    // address and line: report it once, and fix it once.
    findings.dedup_by(|a, b| {
        (&a.file, a.location.start, a.rule, &a.resource, &a.message)
            == (&b.file, b.location.start, b.rule, &b.resource, &b.message)
    });
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    errors.dedup();
    Report {
        findings,
        errors,
        files,
        ..Report::default()
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    /// Every permutation of up to six items, against gathering them into a new vector.
    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        fn all(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![Vec::new()];
            }
            let mut out = Vec::new();
            for p in all(n - 1) {
                for at in 0..=p.len() {
                    let mut q = p.clone();
                    q.insert(at, n - 1);
                    out.push(q);
                }
            }
            out
        }
        for n in 0..=6 {
            for order in all(n) {
                let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
                let want: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
                let mut got = items;
                permute(&mut got, order.clone());
                assert_eq!(got, want, "{order:?}");
            }
        }
    }
}
