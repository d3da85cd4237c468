//! From parsed files to resources: module instances (root and local modules, with their
//! arguments), variables (defaults, tfvars), locals, provider aliases and regions.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// Fx maps (see Cargo.toml) for names and addresses; paths are in PathMap/PathSet.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span;

use crate::context::{Attr, IgnoreChanges, Mode, Node, Origin, Resource};
use crate::eval::{eval, Names, Scope, Value};
use crate::finding::{FileError, Location};
use crate::path_map::{PathMap, PathSet};
use crate::shared_parses::{ModuleCalls, ParsedDir, SharedParses};
use crate::source::{self, FileText, SourceFile};

/// Module calls nested deeper than this are not followed (cycles, runaway recursion).
const MAX_MODULE_DEPTH: usize = 16;

/// The bytes of every discovered `.tf` and `.tf.json` file, read once (in parallel) by [`read_all`].
pub type Texts = PathMap<Result<FileText, FileError>>;

/// Reads every file of `modules` on all cores; also returns the local module calls their
/// `module` blocks make (canonical), from a quick scan.
pub fn read_all(
    modules: &BTreeMap<PathBuf, source::ModuleDir>,
    real: &RealPaths,
) -> (Texts, ModuleCalls) {
    let all: Vec<PathBuf> = modules.values().flat_map(|m| m.files.clone()).collect();
    // The calls' real paths too: resolving them is a system call or more each.
    let read = source::parallel_map(&all, |p| {
        let text = source::read_limited(p).map(FileText::new);
        let calls: Vec<(PathBuf, PathBuf)> = match &text {
            Ok(FileText::Utf8(t)) => {
                let dir = p.parent().unwrap_or(Path::new(""));
                module_calls(p, t)
                    .into_iter()
                    .map(|src| (real.of(dir), real.of(&dir.join(src))))
                    .collect()
            }
            _ => Vec::new(),
        };
        (text, calls)
    });
    let mut texts = PathMap::with_capacity(all.len());
    let mut called = ModuleCalls::default();
    for (path, (text, calls)) in all.into_iter().zip(read) {
        for (caller, callee) in calls {
            called.add(caller, callee);
        }
        texts.insert(path, text);
    }
    (texts, called)
}

/// The local sources of a file's `module` blocks: a quick scan of a `.tf` file, the
/// `module` object of a `.tf.json` one.
pub fn module_calls(path: &Path, text: &str) -> Vec<String> {
    if crate::json_config::is_json_config(path) {
        crate::json_config::module_sources(text)
    } else {
        source::scan_module_calls(text)
    }
}

/// Loads the modules of one root module and instantiates them into resources. Each root
/// gets its own loader, so parsed files live only while their root is linted.
pub struct Loader<'s> {
    texts: &'s Texts,
    dir_files: &'s PathMap<Vec<PathBuf>>,
    real: &'s RealPaths,
    extra_dirs: PathMap<Vec<PathBuf>>,
    files: PathMap<Option<Arc<SourceFile>>>,
    /// A module directory's parsed files, by the path it was called with.
    loaded: PathMap<Vec<Arc<SourceFile>>>,
    /// Errors of files that could not be read or parsed.
    pub errors: Vec<FileError>,
    /// Resources of the module being instantiated.
    resources: Vec<Resource>,
    var_files: Vec<PathBuf>,
    /// Files read, for the report's count.
    pub seen_files: PathSet,
    /// Module directories (canonical) instantiated through a `module` block.
    pub instantiated: PathSet,
    /// False for [`Loader::in_memory`]: `texts` is the whole world, nothing is read from disk.
    reads_disk: bool,
    /// `terraform.tfvars` and `*.auto.tfvars` of the directories the walk listed
    /// ([`Loader::with_auto_tfvars`]); other directories are listed when they are roots.
    auto_tfvars: Option<&'s PathMap<Vec<PathBuf>>>,
    /// Directories other roots' loaders parse too ([`Loader::with_shared`]).
    shared: Option<&'s RefCell<SharedParses>>,
    /// The root's `.terraform/modules/modules.json`: module key (`db`, `db.sub`) to the
    /// directory `terraform init` put the module in.
    remote: HashMap<String, PathBuf>,
    /// Remote module calls (registry, git, ...) not followed because no `modules.json`
    /// lists them: the `module` block's file and line.
    pub skipped_remote: HashSet<(PathBuf, u32)>,
    /// The instance prefixes of each module prefix, with the keys of the `module` blocks'
    /// `count`/`for_each` where known (`module.db.` -> `module.db[0].`): what findings show.
    instance_prefixes: HashMap<String, Vec<String>>,
}

/// The automatic variable files of the directories the walk listed, by directory.
pub fn auto_tfvars_index(modules: &BTreeMap<PathBuf, source::ModuleDir>) -> PathMap<Vec<PathBuf>> {
    modules
        .iter()
        .filter_map(|(d, m)| Some((d.clone(), m.auto_tfvars.clone()?)))
        .collect()
}

/// Module directories by their real path, with their files.
pub fn dir_index(
    modules: &BTreeMap<PathBuf, source::ModuleDir>,
    real: &RealPaths,
) -> PathMap<Vec<PathBuf>> {
    modules
        .iter()
        .map(|(d, m)| (real.of(d), m.files.clone()))
        .collect()
}

/// The syntax trees a loader held ([`Loader::take_files`]), to be dropped (or left) later.
pub struct ParsedFiles {
    _files: PathMap<Option<Arc<SourceFile>>>,
    _loaded: PathMap<Vec<Arc<SourceFile>>>,
}

impl<'s> Loader<'s> {
    /// A loader over the files read by [`read_all`].
    pub fn new(
        texts: &'s Texts,
        dir_files: &'s PathMap<Vec<PathBuf>>,
        real: &'s RealPaths,
        var_files: &[PathBuf],
    ) -> Self {
        Loader {
            texts,
            dir_files,
            real,
            extra_dirs: PathMap::default(),
            files: PathMap::default(),
            loaded: PathMap::default(),
            errors: Vec::new(),
            resources: Vec::new(),
            var_files: var_files.to_vec(),
            seen_files: PathSet::default(),
            instantiated: PathSet::default(),
            reads_disk: true,
            auto_tfvars: None,
            shared: None,
            remote: HashMap::default(),
            skipped_remote: HashSet::default(),
            instance_prefixes: HashMap::default(),
        }
    }

    /// Takes a root module's automatic variable files from `found` (by directory, as the
    /// walk names it) instead of listing the directory again.
    pub fn with_auto_tfvars(mut self, found: &'s PathMap<Vec<PathBuf>>) -> Self {
        self.auto_tfvars = Some(found);
        self
    }

    /// Takes the directories `shared` holds from it instead of parsing them again.
    pub fn with_shared(mut self, shared: &'s RefCell<SharedParses>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// A loader that reads nothing from disk: `texts` holds every file there is, `.tf`
    /// and `.tfvars` alike (`dir_files` lists the `.tf` ones). A module call to a directory
    /// without files in `texts` finds an empty module; `terraform.tfvars`, `*.auto.tfvars`
    /// and `var_files` are taken from `texts`.
    pub fn in_memory(
        texts: &'s Texts,
        dir_files: &'s PathMap<Vec<PathBuf>>,
        real: &'s RealPaths,
        var_files: &[PathBuf],
    ) -> Self {
        Loader {
            reads_disk: false,
            ..Self::new(texts, dir_files, real, var_files)
        }
    }

    fn store(&mut self, path: PathBuf, result: Result<Arc<SourceFile>, FileError>) {
        self.seen_files.insert(path.clone());
        match result {
            Ok(f) => {
                self.files.insert(path, Some(f));
            }
            Err(e) => {
                self.errors.push(e);
                self.files.insert(path, None);
            }
        }
    }

    /// Parses `paths`: a big root module on all cores, small ones on their root's thread.
    fn parse_all(texts: &Texts, paths: &[PathBuf]) -> ParsedDir {
        let parse = |p: &PathBuf| (p.clone(), Self::parse(texts, p).map(Arc::new));
        if paths.len() >= 64 {
            source::parallel_map(paths, parse)
        } else {
            paths.iter().map(parse).collect()
        }
    }

    fn parse(texts: &Texts, path: &Path) -> Result<SourceFile, FileError> {
        match texts.get(path) {
            Some(Ok(text)) => text.parse(path),
            Some(Err(e)) => Err(e.clone()),
            None => source::read_and_parse(path),
        }
    }

    /// Takes the syntax trees this loader holds, leaving it none.
    pub fn take_files(&mut self) -> ParsedFiles {
        ParsedFiles {
            _files: std::mem::take(&mut self.files),
            _loaded: std::mem::take(&mut self.loaded),
        }
    }

    /// File texts by path, for fixes.
    pub fn sources(&self) -> Arc<PathMap<Arc<str>>> {
        let mut sources = PathMap::with_capacity(self.files.len());
        sources.extend(
            self.files
                .iter()
                .filter_map(|(p, f)| f.as_ref().map(|f| (p.to_path_buf(), f.text.clone()))),
        );
        Arc::new(sources)
    }

    /// The files read so far, parsed, for a [`Context`](crate::context::Context) that
    /// needs their syntax again.
    pub fn trees(&self) -> Arc<PathMap<Arc<SourceFile>>> {
        let mut trees = PathMap::with_capacity(self.files.len());
        trees.extend(
            self.files
                .iter()
                .filter_map(|(p, f)| f.as_ref().map(|f| (p.to_path_buf(), f.clone()))),
        );
        Arc::new(trees)
    }

    fn module_files(&mut self, dir: &Path) -> Vec<Arc<SourceFile>> {
        // A module called again in this root (each example of a module repository calls
        // the root module two or three times): one lookup instead of one per file.
        if let Some(files) = self.loaded.get(dir) {
            return files.clone();
        }
        let files = self.load_module_files(dir);
        self.loaded.insert(dir.to_path_buf(), files.clone());
        files
    }

    fn load_module_files(&mut self, dir: &Path) -> Vec<Arc<SourceFile>> {
        let key = self.real.of(dir);
        let paths = match self
            .dir_files
            .get(&key)
            .or_else(|| self.extra_dirs.get(&key))
        {
            Some(p) => p.clone(),
            None if !self.reads_disk => Vec::new(),
            None => {
                // A module outside the linted paths (`source = "../../modules/db"`).
                let paths = source::tf_files(dir, &mut self.errors);
                self.extra_dirs.insert(key.clone(), paths.clone());
                paths
            }
        };
        let missing: Vec<PathBuf> = paths
            .iter()
            .filter(|p| !self.files.contains_key(p))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let texts = self.texts;
            let shared = self
                .shared
                .and_then(|s| s.borrow_mut().get(&key, || Self::parse_all(texts, &paths)));
            let parsed = match shared {
                Some(all) => {
                    // The same list named both: its bytes are the identity.
                    let want: HashSet<&std::ffi::OsStr> =
                        missing.iter().map(|p| p.as_os_str()).collect();
                    all.iter()
                        .filter(|(p, _)| want.contains(p.as_os_str()))
                        .cloned()
                        .collect()
                }
                None => Self::parse_all(texts, &missing),
            };
            for (p, r) in parsed {
                self.store(p, r);
            }
        }
        paths
            .iter()
            .filter_map(|p| self.files.get(p).cloned().flatten())
            .collect()
    }

    /// Instantiates a root module (variables from tfvars and defaults) and returns its
    /// resources, its called modules' included. Root modules are separate configurations:
    /// rules never link resources across them.
    pub fn root(&mut self, dir: &Path) -> Vec<Resource> {
        let mut inputs = Names::default();
        let mut tfvars = self.auto_tfvars(dir);
        tfvars.extend(self.var_files.iter().cloned());
        for path in tfvars {
            let vars = match self.texts.get(&path) {
                Some(Ok(text)) => parse_tfvars(&path, text.bytes()),
                Some(Err(e)) => Err(e.clone()),
                None if self.reads_disk => read_tfvars(&path),
                None => Err(FileError {
                    file: path.clone(),
                    line: None,
                    column: None,
                    message: "cannot read: no such file".into(),
                }),
            };
            match vars {
                Ok(vars) => inputs.extend(vars),
                Err(e) => self.errors.push(e),
            }
        }
        if self.reads_disk {
            self.remote = remote_modules(dir);
        }
        let providers = HashMap::default();
        self.instantiate(
            dir,
            "",
            Inputs::Root(inputs),
            &Origins::default(),
            &Arc::from(Vec::new()),
            &providers,
            0,
        );
        std::mem::take(&mut self.resources)
    }

    /// `terraform.tfvars`, `terraform.tfvars.json`, then `*.auto.tfvars(.json)` in name
    /// order: what Terraform loads itself.
    fn auto_tfvars(&self, dir: &Path) -> Vec<PathBuf> {
        if let Some(found) = self.auto_tfvars.and_then(|m| m.get(dir)) {
            return found.clone();
        }
        let is_auto = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(source::is_auto_tfvars_name)
        };
        let mut tfvars: Vec<PathBuf> = if self.reads_disk {
            fs::read_dir(dir)
                .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                // `terraform.tfvars` only when it is a file; an auto file that is not one
                // is an error when it is read.
                .filter(|p| {
                    is_auto(p)
                        && (p.is_file()
                            || !matches!(
                                p.file_name().and_then(|n| n.to_str()),
                                Some("terraform.tfvars" | "terraform.tfvars.json")
                            ))
                })
                .collect()
        } else {
            self.texts
                .keys()
                .filter(|p| p.parent() == Some(dir) && is_auto(p))
                .map(Path::to_path_buf)
                .collect()
        };
        source::sort_auto_tfvars(&mut tfvars);
        tfvars
    }

    #[allow(clippy::too_many_arguments)]
    fn instantiate(
        &mut self,
        dir: &Path,
        prefix: &str,
        mut inputs: Inputs<'_>,
        origins: &Origins<'_>,
        calls: &Arc<[(PathBuf, u32)]>,
        inherited: &HashMap<String, Option<String>>,
        depth: usize,
    ) {
        if depth > MAX_MODULE_DEPTH {
            return;
        }
        let files = self.module_files(dir);
        // Variables.
        let mut vars = Names::default();
        // Sized up front: a module repository's root declares some fifty variables.
        vars.reserve(
            files
                .iter()
                .map(|f| blocks_named(&f.body, "variable").count())
                .sum(),
        );
        for file in &files {
            for block in blocks_named(&file.body, "variable") {
                let Some(name) = block.labels.first().map(|l| l.as_str()) else {
                    continue;
                };
                // Declared twice (Terraform refuses it): the first declaration counts, as
                // for resources. The given value moves into the first.
                if vars.contains_key(name) {
                    continue;
                }
                let given = match &mut inputs {
                    Inputs::Root(m) | Inputs::Call(m) => m.remove(name),
                };
                vars.insert(Cow::Borrowed(name), variable_value(&block.body, given));
            }
        }
        // Locals, in passes so that locals may use each other in any order.
        let mut uses_locals = false;
        let local_exprs: Vec<(&str, &Expression)> = files
            .iter()
            .flat_map(|f| {
                blocks_named(&f.body, "locals")
                    .flat_map(|b| attributes(&b.body))
                    .map(move |a| (f, a))
            })
            .map(|(f, a)| {
                // A local whose text never says `local` names no other local: one pass
                // knows it. (Conservative: `local_cidr` also takes the passes.)
                uses_locals = uses_locals
                    || a.value
                        .span()
                        .and_then(|s| f.text.get(s))
                        .is_none_or(|t| memchr::memmem::find(t.as_bytes(), b"local").is_some());
                (a.key.value().as_str(), &a.value)
            })
            .collect();
        let mut locals: Names = local_exprs
            .iter()
            .map(|(k, _)| (Cow::Borrowed(*k), Value::Unknown))
            .collect();
        let passes = if uses_locals { 8 } else { 1 };
        for _ in 0..passes {
            let mut changed = false;
            for (k, e) in &local_exprs {
                let v = eval(
                    e,
                    &Scope {
                        vars: Some(&vars),
                        locals: Some(&locals),
                        prefix,
                        unknown_roots: &[],
                        bound: &[],
                    },
                );
                if locals.get(*k) != Some(&v) {
                    locals.insert(Cow::Borrowed(*k), v);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let scope = Scope {
            vars: Some(&vars),
            locals: Some(&locals),
            prefix,
            unknown_roots: &[],
            bound: &[],
        };
        // Providers: inherited, then this module's own blocks.
        let mut providers = inherited.clone();
        for file in &files {
            for block in blocks_named(&file.body, "provider") {
                let Some(name) = block.labels.first().map(|l| l.as_str()) else {
                    continue;
                };
                let key = match block
                    .body
                    .get_attribute("alias")
                    .map(|a| eval(&a.value, &scope))
                {
                    Some(Value::String(alias)) => format!("{name}.{alias}"),
                    Some(_) => continue,
                    None => name.to_string(),
                };
                let region = block
                    .body
                    .get_attribute("region")
                    .and_then(|a| eval(&a.value, &scope).as_str().map(str::to_string));
                providers.insert(key, region);
            }
        }
        // Resources and data sources. Terraform refuses a second declaration of an address;
        // it is an error here too, and only the first is linted (so that one finding per
        // address means one block, and `--fix` fixes it in one pass).
        // One module prefix for all of this instance's resources.
        let module: Arc<str> = Arc::from(prefix);
        // By (mode, type, name): the prefix is this instance's, the same for all.
        let mut declared: rustc_hash::FxHashMap<(Mode, &str, &str), (&Path, u32)> =
            Default::default();
        for file in &files {
            for block in blocks(&file.body) {
                let mode = match block.ident.value().as_str() {
                    "resource" => Mode::Managed,
                    "data" => Mode::Data,
                    _ => continue,
                };
                let (Some(kind), Some(name)) = (block.labels.first(), block.labels.get(1)) else {
                    continue;
                };
                let (kind, name) = (kind.as_str(), name.as_str());
                let span = block.span().unwrap_or(0..0);
                let at = file.location(span.start, span.end);
                match declared.entry((mode, kind, name)) {
                    std::collections::hash_map::Entry::Occupied(first) => {
                        let (first_file, first_line) = first.get();
                        let what = if mode == Mode::Data {
                            "data"
                        } else {
                            "resource"
                        };
                        self.errors.push(FileError {
                            file: file.path.clone(),
                            line: Some(at.line),
                            column: Some(at.column),
                            message: format!(
                                "duplicate {what} {kind:?} {name:?}: already declared at {}:{first_line} \
                                 (Terraform refuses this; only the first is linted)",
                                first_file.display()
                            ),
                        });
                        continue;
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert((&file.path, at.line));
                    }
                }
                if has_no_instances(&block.body, &scope) {
                    continue;
                }
                let mut res = self.resource(
                    file, block, mode, kind, name, &module, &scope, &providers, origins,
                );
                res.calls = calls.clone();
                res.instances = self.instance_addresses(prefix, &res, &block.body, &scope);
                self.resources.push(res);
            }
        }
        // Module calls: local paths, and remote sources `terraform init` fetched.
        let mut children = Vec::new();
        for file in &files {
            for block in blocks_named(&file.body, "module") {
                let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                let header = block.span().map_or(0, |s| s.start);
                let header_line = file.location(header, header).line;
                let child_dir = match local_source(&block.body) {
                    Some(src) => normalize(&dir.join(src)),
                    None => {
                        let Some(source) = block
                            .body
                            .get_attribute("source")
                            .and_then(|a| a.value.as_str())
                        else {
                            continue;
                        };
                        let key = module_key(prefix, &name);
                        match self.remote.get(&key) {
                            Some(d) => d.clone(),
                            None => {
                                if !source.is_empty() && !has_no_instances(&block.body, &scope) {
                                    self.skipped_remote.insert((file.path.clone(), header_line));
                                }
                                continue;
                            }
                        }
                    }
                };
                if has_no_instances(&block.body, &scope) {
                    // Called, so not a root module of its own; just never instantiated.
                    self.instantiated.insert(self.real.of(&child_dir));
                    continue;
                }
                if self.reads_disk && !child_dir.is_dir() {
                    // Named at the call, so that the error points at what to fix and
                    // `--exclude` of the calling file drops it.
                    let at = file.location(header, header);
                    let hint = if local_source(&block.body).is_some() {
                        "fix `source`, or add the module"
                    } else {
                        "run `terraform init` again: .terraform/modules/modules.json names it"
                    };
                    self.errors.push(FileError {
                        file: file.path.clone(),
                        line: Some(at.line),
                        column: Some(at.column),
                        message: format!(
                            "module {name:?}: its source directory {} does not exist ({hint})",
                            child_dir.display()
                        ),
                    });
                    continue;
                }
                let child_prefix = format!("{prefix}module.{name}.");
                let parents = self
                    .instance_prefixes
                    .get(prefix)
                    .cloned()
                    .unwrap_or_else(|| vec![prefix.to_string()]);
                let keys = instance_keys(&block.body, &scope);
                let shown = parents
                    .iter()
                    .flat_map(|p| match &keys {
                        Some(keys) => keys
                            .iter()
                            .map(|k| format!("{p}module.{name}{k}."))
                            .collect::<Vec<_>>(),
                        None => vec![format!("{p}module.{name}.")],
                    })
                    .take(MAX_INSTANCES)
                    .collect();
                self.instance_prefixes.insert(child_prefix.clone(), shown);
                let mut args = Names::default();
                let mut child_origins = Origins::default();
                child_origins.reserve(block.body.len());
                for attr in attributes(&block.body) {
                    let key = attr.key.value().as_str();
                    if matches!(
                        key,
                        "source" | "version" | "providers" | "count" | "for_each" | "depends_on"
                    ) {
                        continue;
                    }
                    args.insert(Cow::Borrowed(key), eval(&attr.value, &scope));
                    // Passed on unchanged from our own caller: the fix is still there.
                    let inherited = bare_var(&attr.value).and_then(|v| origins.get(v));
                    let origin = match inherited {
                        Some(o) => o.clone(),
                        None => CallerArg {
                            file,
                            attr,
                            block_line: header_line,
                            made: std::cell::OnceCell::new(),
                        },
                    };
                    child_origins.insert(key, origin);
                }
                let mut child_calls = calls.to_vec();
                child_calls.push((file.path.clone(), header_line));
                // Unaliased providers pass down implicitly; `providers = {}` maps explicitly.
                let mut child_providers: HashMap<String, Option<String>> = providers
                    .iter()
                    .filter(|(k, _)| !k.contains('.'))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Some(map) = block.body.get_attribute("providers") {
                    if let Expression::Object(o) = &map.value {
                        for (k, v) in o.iter() {
                            let child_key = match k {
                                ObjectKey::Ident(id) => Some(id.value().as_str().to_string()),
                                ObjectKey::Expression(e) => provider_ref(e),
                            };
                            if let (Some(ck), Some(pk)) = (child_key, provider_ref(v.expr())) {
                                child_providers.insert(ck, providers.get(&pk).cloned().flatten());
                            }
                        }
                    }
                }
                children.push((
                    child_dir,
                    child_prefix,
                    args,
                    child_origins,
                    Arc::<[(PathBuf, u32)]>::from(child_calls),
                    child_providers,
                ));
            }
        }
        for (child_dir, child_prefix, args, child_origins, child_calls, child_providers) in children
        {
            self.instantiated.insert(self.real.of(&child_dir));
            self.instantiate(
                &child_dir,
                &child_prefix,
                Inputs::Call(args),
                &child_origins,
                &child_calls,
                &child_providers,
                depth + 1,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resource(
        &self,
        file: &SourceFile,
        block: &Block,
        mode: Mode,
        kind: &str,
        name: &str,
        module: &Arc<str>,
        scope: &Scope<'_>,
        providers: &HashMap<String, Option<String>>,
        origins: &Origins<'_>,
    ) -> Resource {
        let span = block.span().unwrap_or(0..0);
        let header = file.location(span.start, span.end);
        let body = if crate::rules::READ_KINDS.contains(&kind) {
            node(file, &block.body, span.clone(), scope, origins, 0)
        } else {
            Node {
                loc: header,
                ..Node::default()
            }
        };
        let provider_key = block
            .body
            .get_attribute("provider")
            .and_then(|a| provider_ref(&a.value))
            .map_or_else(
                || Cow::Borrowed(kind.split('_').next().unwrap_or(kind)),
                Cow::Owned,
            );
        // The AWS provider 6 takes `region` per resource.
        let region_attr = block.body.get_attribute("region");
        let region = match region_attr.map(|a| eval(&a.value, scope)).as_ref() {
            Some(Value::String(r)) if kind.starts_with("aws_") => Some(r.clone()),
            Some(_) if kind.starts_with("aws_") => None,
            _ => providers.get(&*provider_key).cloned().flatten(),
        };
        let ignore_changes = blocks_named(&block.body, "lifecycle")
            .next()
            .and_then(|l| l.body.get_attribute("ignore_changes"))
            .map_or(IgnoreChanges::None, |a| ignore_changes(&a.value));
        let expanded = block.body.get_attribute("count").is_some()
            || block.body.get_attribute("for_each").is_some();
        Resource {
            mode,
            kind: kind.to_string(),
            name: name.to_string(),
            address: address(module, mode, kind, name),
            module: module.clone(),
            file: file.path.clone(),
            header,
            body,
            region,
            expanded,
            ignore_changes,
            calls: Arc::from(Vec::new()),
            instances: Vec::new(),
        }
    }

    /// The addresses of `res`'s instances, with the keys of its own and its modules'
    /// `count`/`for_each` where they are known; empty when the address alone names it.
    fn instance_addresses(
        &self,
        prefix: &str,
        res: &Resource,
        body: &Body,
        scope: &Scope<'_>,
    ) -> Vec<String> {
        let keys = instance_keys(body, scope);
        let parents = self.instance_prefixes.get(prefix);
        if keys.is_none() && parents.is_none_or(|p| p.len() == 1 && p[0] == prefix) {
            return Vec::new();
        }
        let local = &res.address[prefix.len()..];
        let own = keys.unwrap_or_else(|| vec![String::new()]);
        let parents = parents.map_or_else(|| vec![prefix.to_string()], Clone::clone);
        parents
            .iter()
            .flat_map(|p| own.iter().map(move |k| format!("{p}{local}{k}")))
            .take(MAX_INSTANCES)
            .collect()
    }
}

/// The arguments a module's caller passed, by variable name: where each is written,
/// borrowed from the caller's syntax tree (no copy per argument).
type Origins<'a> = HashMap<&'a str, CallerArg<'a>>;

/// One argument of a `module` block, made into an [`Origin`] only when an attribute of the
/// module takes it as is (`= var.x`), once per module instance.
#[derive(Clone)]
struct CallerArg<'a> {
    file: &'a SourceFile,
    attr: &'a Attribute,
    block_line: u32,
    made: std::cell::OnceCell<Arc<Origin>>,
}

impl CallerArg<'_> {
    fn origin(&self) -> Arc<Origin> {
        self.made
            .get_or_init(|| {
                let a = self.attr.span().unwrap_or(0..0);
                let v = self.attr.value.span().unwrap_or(a.clone());
                Arc::new(Origin {
                    file: self.file.path.clone(),
                    loc: self.file.location(a.start, a.end),
                    value_loc: self.file.location(v.start, v.end),
                    block_line: self.block_line,
                })
            })
            .clone()
    }
}

/// `var.name` (or `"${var.name}"`) alone: the variable's name.
fn bare_var(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [op]) if v.value().as_str() == "var" => match op.value() {
                TraversalOperator::GetAttr(name) => Some(name.value().as_str()),
                _ => None,
            },
            _ => None,
        },
        Expression::StringTemplate(t) => match t.iter().collect::<Vec<_>>().as_slice() {
            [hcl_edit::template::Element::Interpolation(i)] => bare_var(&i.expr),
            _ => None,
        },
        _ => None,
    }
}

/// The key `modules.json` knows a module call by: `db`, or `db.sub` for `module "sub"`
/// inside `module.db`.
fn module_key(prefix: &str, name: &str) -> String {
    let mut key: String = prefix
        .split('.')
        .filter(|p| !p.is_empty() && *p != "module")
        .collect::<Vec<_>>()
        .join(".");
    if !key.is_empty() {
        key.push('.');
    }
    key.push_str(name);
    key
}

/// Reads `root/.terraform/modules/modules.json`, written by `terraform init`: each module
/// call's key and the directory (relative to the root) its files were put in. Nothing is
/// downloaded; without the file there is nothing to follow.
pub fn remote_modules(root: &Path) -> HashMap<String, PathBuf> {
    let path = root.join(".terraform/modules/modules.json");
    let Ok(bytes) = source::read_limited(&path) else {
        return HashMap::default();
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return HashMap::default();
    };
    let mut out = HashMap::default();
    for m in json
        .get("Modules")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(key), Some(dir)) = (
            m.get("Key").and_then(|k| k.as_str()),
            m.get("Dir").and_then(|d| d.as_str()),
        ) else {
            continue;
        };
        if key.is_empty() {
            continue;
        }
        out.insert(key.to_string(), normalize(&root.join(dir)));
    }
    out
}

/// At most this many instance addresses are listed per resource.
const MAX_INSTANCES: usize = 100;

/// The instance keys of a block's `count` (`[0]`, `[1]`) or `for_each` (`["a"]`) when
/// known before apply; `None` without either or when unknown.
fn instance_keys(body: &Body, scope: &Scope<'_>) -> Option<Vec<String>> {
    if let Some(count) = body.get_attribute("count") {
        return match eval(&count.value, scope) {
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => Some(
                (0..n as usize)
                    .take(MAX_INSTANCES)
                    .map(|i| format!("[{i}]"))
                    .collect(),
            ),
            _ => None,
        };
    }
    let each = body.get_attribute("for_each")?;
    let quoted = |k: &str| format!("[{}]", serde_json::Value::from(k));
    match eval(&each.value, scope) {
        Value::Map(items) => Some(items.keys().map(|k| quoted(k)).collect()),
        Value::List(items) => items
            .iter()
            .map(|v| v.as_str().map(quoted))
            .collect::<Option<Vec<_>>>()
            .map(|mut keys| {
                keys.sort();
                keys.dedup();
                keys
            }),
        _ => None,
    }
}

/// `count = 0` or an empty `for_each`, known before apply (`count = var.create ? 1 : 0`
/// with `create = false`): Terraform creates nothing, so there is nothing to lint, as in
/// TFLint. An unknown count or collection keeps the block.
fn has_no_instances(body: &Body, scope: &Scope<'_>) -> bool {
    if let Some(count) = body.get_attribute("count") {
        // A numeric string converts, as Terraform converts `count`.
        let count = eval(&count.value, scope);
        return count.is_known() && count.as_f64() == Some(0.0);
    }
    if let Some(each) = body.get_attribute("for_each") {
        return match eval(&each.value, scope) {
            Value::List(items) => items.is_empty(),
            Value::Map(items) => items.is_empty(),
            _ => false,
        };
    }
    false
}

/// A variable's value: the one given (null included, unless `nullable = false`), else its
/// default (null is a default: the variable is not set), else unknown; converted to its
/// `type` as Terraform converts it.
fn variable_value(body: &Body, given: Option<Value>) -> Value {
    // One pass over the block (hcl-edit's lookups box an iterator each).
    let (mut default, mut ty, mut nullable) = (None, None, None);
    for a in attributes(body) {
        match a.key.value().as_str() {
            "default" => default = Some(&a.value),
            "type" => ty = Some(&a.value),
            "nullable" => nullable = Some(&a.value),
            _ => {}
        }
    }
    let not_nullable =
        nullable.is_some_and(|n| eval(n, &Scope::default()).as_bool() == Some(false));
    let mut value = match given {
        Some(v) if !(v.is_null() && not_nullable) => v,
        _ => default.map_or(Value::Unknown, |d| eval(d, &Scope::default())),
    };
    if let Some(ty) = ty {
        crate::eval::types::convert(&mut value, ty);
    }
    value
}

/// A resource's address without index: `module.db.aws_db_instance.main`, `data.x.y`.
fn address(prefix: &str, mode: Mode, kind: &str, name: &str) -> String {
    let data = if mode == Mode::Data { "data." } else { "" };
    // Once per resource: pushed, not formatted (`format!` was a tenth of the loader's own
    // instructions for one file of 100,000 resources).
    let mut out = String::with_capacity(prefix.len() + data.len() + kind.len() + 1 + name.len());
    for part in [prefix, data, kind, ".", name] {
        out.push_str(part);
    }
    out
}

enum Inputs<'a> {
    Root(Names<'a>),
    Call(Names<'a>),
}

fn node(
    file: &SourceFile,
    body: &Body,
    span: std::ops::Range<usize>,
    scope: &Scope<'_>,
    origins: &Origins<'_>,
    depth: usize,
) -> Node {
    let mut n = Node {
        loc: file.location(span.start, span.end),
        ..Node::default()
    };
    if depth > 32 {
        return n;
    }
    // Sized up front: a database has some fifty attributes, and growing the vector copies
    // them four times.
    n.attrs.reserve_exact(attributes(body).count());
    for attr in attributes(body) {
        let aspan = attr.span().unwrap_or(span.clone());
        let vspan = attr.value.span().unwrap_or(aspan.clone());
        n.attrs.push((
            attr.key.value().as_str().to_string(),
            Attr {
                value: eval(&attr.value, scope),
                loc: file.location(aspan.start, aspan.end),
                value_loc: file.location(vspan.start, vspan.end),
                origin: if origins.is_empty() {
                    None
                } else {
                    bare_var(&attr.value)
                        .and_then(|v| origins.get(v))
                        .map(CallerArg::origin)
                },
            },
        ));
    }
    for block in blocks(body) {
        let bspan = block.span().unwrap_or(span.clone());
        let ident = block.ident.value().as_str();
        if ident == "dynamic" {
            let Some(label) = block.labels.first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            let iterator = block
                .body
                .get_attribute("iterator")
                .and_then(|a| match &a.value {
                    Expression::Variable(v) => Some(v.value().as_str().to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| label.clone());
            let content = blocks_named(&block.body, "content").next();
            let instances = block
                .body
                .get_attribute("for_each")
                .map(|a| dynamic_instances(eval(&a.value, scope)));
            if let Some(Some(instances)) = instances {
                // A known collection: one block per element, with the iterator's key and
                // value known (none for an empty one).
                for each in instances {
                    let mut bound = scope.bound.to_vec();
                    bound.push((iterator.clone(), each));
                    let inner = Scope {
                        bound: &bound,
                        ..*scope
                    };
                    let child = match content {
                        Some(c) => node(file, &c.body, bspan.clone(), &inner, origins, depth + 1),
                        None => Node {
                            loc: file.location(bspan.start, bspan.end),
                            ..Node::default()
                        },
                    };
                    n.blocks.push((label.clone(), child));
                }
                continue;
            }
            let roots = [iterator];
            let inner = Scope {
                unknown_roots: &roots,
                ..*scope
            };
            let mut child = match content {
                Some(c) => node(file, &c.body, bspan.clone(), &inner, origins, depth + 1),
                None => Node {
                    loc: file.location(bspan.start, bspan.end),
                    ..Node::default()
                },
            };
            child.dynamic = true;
            n.blocks.push((label, child));
        } else {
            n.blocks.push((
                ident.to_string(),
                node(file, &block.body, bspan, scope, origins, depth + 1),
            ));
        }
    }
    n
}

/// A dynamic block's iterator values (`{ key, value }`) over a known `for_each`: the
/// elements of a list or set (the key is the index), the entries of a map. `None` when
/// the collection is unknown or too large to expand.
fn dynamic_instances(each: Value) -> Option<Vec<Value>> {
    const MAX_DYNAMIC: usize = 256;
    let pairs: Vec<(Value, Value)> = match each {
        Value::List(l) if l.len() <= MAX_DYNAMIC => l
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Map(m) if m.len() <= MAX_DYNAMIC => {
            m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
        }
        _ => return None,
    };
    Some(
        pairs
            .into_iter()
            .map(|(key, value)| {
                Value::Map([("key".to_string(), key), ("value".to_string(), value)].into())
            })
            .collect(),
    )
}

/// `aws.dr` or `aws` as a provider key.
fn provider_ref(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Variable(v) => Some(v.value().as_str().to_string()),
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return None;
            };
            match t.operators.as_slice() {
                [op] => match op.value() {
                    TraversalOperator::GetAttr(alias) => Some(format!(
                        "{}.{}",
                        root.value().as_str(),
                        alias.value().as_str()
                    )),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

fn ignore_changes(expr: &Expression) -> IgnoreChanges {
    match expr {
        Expression::Variable(v) if v.value().as_str() == "all" => IgnoreChanges::All,
        Expression::Array(a) => {
            let mut names = Vec::new();
            for e in a.iter() {
                match e {
                    Expression::Variable(v) => names.push(v.value().as_str().to_string()),
                    Expression::Traversal(t) => match &t.expr {
                        Expression::Variable(v) => names.push(v.value().as_str().to_string()),
                        _ => return IgnoreChanges::Unknown,
                    },
                    Expression::String(s) => names.push(s.value().to_string()),
                    _ => return IgnoreChanges::Unknown,
                }
            }
            IgnoreChanges::Some(names)
        }
        _ => IgnoreChanges::Unknown,
    }
}

/// The `source` of a module call when it is a local path.
fn local_source(body: &Body) -> Option<String> {
    let src = body.get_attribute("source")?;
    let s = src.value.as_str()?;
    (s.starts_with("./") || s.starts_with("../")).then(|| s.to_string())
}

/// The key a module directory is known by: its real path, so `./modules/db` reached from
/// the root and `modules/db` found by the walk are one module.
pub fn canonical(dir: &Path) -> PathBuf {
    fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// [`canonical`] paths, each resolved once per lint run: a directory is asked for many
/// times (the scan, the index, every root's loader) and resolving it costs a `readlink`
/// per component of its path. Per run, so that a later run sees a changed filesystem.
#[derive(Debug, Default)]
pub struct RealPaths(std::sync::Mutex<PathMap<PathBuf>>);

impl RealPaths {
    /// The real path of `dir` (`dir` itself when it cannot be resolved).
    pub fn of(&self, dir: &Path) -> PathBuf {
        let cached = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(dir)
            .cloned();
        cached.unwrap_or_else(|| {
            // Resolved outside the lock: two threads may both resolve a path, never wait.
            let real = self.resolve(dir);
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(dir.to_path_buf(), real.clone());
            real
        })
    }

    /// [`canonical`], from the parent's real path: a directory that is not a symlink is
    /// its parent's real path and its name. One `lstat` instead of `realpath`'s `readlink`
    /// of every component, and the parent (the other directories of a repository share
    /// it) is resolved once.
    fn resolve(&self, dir: &Path) -> PathBuf {
        let (Some(parent), Some(std::path::Component::Normal(name))) =
            (dir.parent(), dir.components().next_back())
        else {
            return canonical(dir);
        };
        match fs::symlink_metadata(dir) {
            Ok(meta) if !meta.file_type().is_symlink() => {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                let real_parent = self.of(parent);
                if real_parent.is_absolute() {
                    real_parent.join(name)
                } else {
                    canonical(dir)
                }
            }
            Ok(_) => canonical(dir),
            Err(_) => dir.to_path_buf(),
        }
    }
}

/// `a/./b/../c` → `a/c`, keeping the path relative so findings stay openable.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::with_capacity(path.as_os_str().len());
    // Names pushed since the last `..` or the root: what a `..` may take back.
    let mut names = 0;
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if names > 0 => {
                out.pop();
                names -= 1;
            }
            Component::Normal(_) => {
                out.push(c);
                names += 1;
            }
            other => {
                out.push(other);
                names = 0;
            }
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// Reads a `.tfvars` (HCL) or `.tfvars.json` file.
pub fn read_tfvars(path: &Path) -> Result<Names<'static>, FileError> {
    parse_tfvars(path, &source::read_limited(path)?)
}

/// Parses the text of a `.tfvars` (HCL) or `.tfvars.json` file named `path`.
pub fn parse_tfvars(path: &Path, bytes: &[u8]) -> Result<Names<'static>, FileError> {
    let err = |line: Option<u32>, column: Option<u32>, message: String| FileError {
        file: path.to_path_buf(),
        line,
        column,
        message,
    };
    if path.extension().is_some_and(|e| e == "json") {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            err(
                Some(e.line() as u32),
                Some(e.column() as u32),
                e.to_string(),
            )
        })?;
        let obj = v
            .as_object()
            .ok_or_else(|| err(None, None, "a .tfvars.json file holds one object".into()))?;
        return Ok(obj
            .iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), Value::from_json(v)))
            .collect());
    }
    let file = source::parse_bytes(path, bytes)?;
    Ok(attributes(&file.body)
        .map(|a| {
            (
                Cow::Owned(a.key.value().as_str().to_string()),
                eval(&a.value, &Scope::default()),
            )
        })
        .collect())
}

/// The location of a whole file's start, for findings that have no better place.
pub fn file_start() -> Location {
    Location {
        line: 1,
        column: 1,
        start: 0,
        end: 0,
    }
}

// hcl-edit's body iterators are boxed (`Box<dyn Iterator>`): an allocation per call, and a
// lint asks bodies for their blocks and attributes hundreds of thousands of times.
fn structures(body: &Body) -> impl Iterator<Item = &Structure> {
    (0..body.len()).filter_map(|i| body.get(i))
}

fn attributes(body: &Body) -> impl Iterator<Item = &Attribute> {
    structures(body).filter_map(Structure::as_attribute)
}

fn blocks(body: &Body) -> impl Iterator<Item = &Block> {
    structures(body).filter_map(Structure::as_block)
}

fn blocks_named<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> {
    blocks(body).filter(move |b| b.has_ident(ident))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_keys_are_the_call_names_joined_by_dots() {
        assert_eq!(module_key("", "db"), "db");
        assert_eq!(module_key("module.db.", "instance"), "db.instance");
        assert_eq!(module_key("module.a.module.b.", "c"), "a.b.c");
    }

    #[test]
    fn modules_json_maps_keys_to_directories_below_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join(".terraform/modules")).unwrap();
        fs::write(
            root.join(".terraform/modules/modules.json"),
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},
                {"Key":"db","Source":"registry.terraform.io/terraform-aws-modules/rds/aws","Version":"6.1.0","Dir":".terraform/modules/db"},
                {"Key":"db.db_instance","Source":"./modules/db_instance","Dir":".terraform/modules/db/modules/db_instance"},
                {"Key":"local","Source":"./local","Dir":"local"}]}"#,
        )
        .unwrap();
        let m = remote_modules(root);
        assert_eq!(m.len(), 3);
        assert_eq!(m["db"], root.join(".terraform/modules/db"));
        assert_eq!(
            m["db.db_instance"],
            root.join(".terraform/modules/db/modules/db_instance")
        );
        // No file, or a broken one: nothing to follow, and no error.
        assert!(remote_modules(&root.join("elsewhere")).is_empty());
        fs::write(root.join(".terraform/modules/modules.json"), "{not json").unwrap();
        assert!(remote_modules(root).is_empty());
    }

    #[test]
    fn normalize_takes_back_names_and_keeps_what_it_cannot() {
        for (path, want) in [
            ("a/./b/../c", "a/c"),
            ("./modules/db", "modules/db"),
            ("../a/../b", "../b"),
            ("a/b/../../..", ".."),
            ("a/../../b", "../b"),
            ("/a/../b", "/b"),
            ("/..", "/.."),
            ("./", "."),
            ("a/..", "."),
            ("a//b/", "a/b"),
        ] {
            assert_eq!(normalize(Path::new(path)), Path::new(want), "{path}");
            assert_eq!(normalize(Path::new(path)).as_os_str(), want, "{path}");
        }
    }

    /// Through a symlinked directory, a symlink to a file's directory, `..` and a missing
    /// directory: what `realpath` gives, whichever of them was asked for first.
    #[test]
    fn real_paths_are_what_canonicalize_gives() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("repo/modules/db")).unwrap();
        fs::create_dir_all(root.join("elsewhere/inner")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("repo/linked")).unwrap();
        std::os::unix::fs::symlink("modules", root.join("repo/mods")).unwrap();
        let asked = [
            "repo/modules/db",
            "repo/linked/inner",
            "repo/mods/db",
            "repo/mods",
            "repo/modules/db/..",
            "repo/./modules",
            "repo",
        ];
        for order in [asked.to_vec(), asked.iter().rev().copied().collect()] {
            let real = RealPaths::default();
            for dir in &order {
                let dir = root.join(dir);
                assert_eq!(real.of(&dir), fs::canonicalize(&dir).unwrap(), "{dir:?}");
            }
        }
        let missing = root.join("repo/nope/deeper");
        assert_eq!(RealPaths::default().of(&missing), missing);
        // Relative paths resolve against the working directory, as `realpath` does.
        let here = RealPaths::default().of(Path::new("src"));
        assert_eq!(here, fs::canonicalize("src").unwrap());
    }
}
