//! Module directories that several root modules instantiate, parsed once.
//!
//! Each root module is linted with its own loader so that parsed files live only while
//! their root is linted. A module repository breaks that economy: each of its `examples/`
//! is a root that calls the repository's root module, which calls its submodules, so every
//! example would parse the same files again. The quick scan's module calls tell, before
//! any root is linted, which roots reach a common directory: such roots are linted as one
//! batch, one after another on one thread, which parses the common directories once and
//! drops them after the batch's last root that reaches them. One thread both allocates and
//! frees them (glibc serialises frees from another thread on the allocating thread's arena
//! lock), and no lock is needed. The scan only plans: a directory it missed is parsed per
//! root as before.

// Fx maps (see Cargo.toml): keyed by directories.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::FileError;
use crate::source::SourceFile;

/// At most this many roots in a batch, so that a monorepo whose hundred environments call
/// the same modules still lints on all cores (each batch parses the modules once).
const MAX_BATCH: usize = 8;

/// Local module calls the quick scan saw: caller directory → called directories, both
/// canonical.
#[derive(Debug, Default)]
pub struct ModuleCalls {
    callees: HashMap<PathBuf, HashSet<PathBuf>>,
    called: HashSet<PathBuf>,
}

impl ModuleCalls {
    pub fn add(&mut self, caller: PathBuf, callee: PathBuf) {
        self.called.insert(callee.clone());
        self.callees.entry(caller).or_default().insert(callee);
    }

    /// Whether some module calls `dir` (canonical).
    pub fn is_called(&self, dir: &Path) -> bool {
        self.called.contains(dir)
    }

    /// The directories `root` reaches through module calls, itself excluded.
    fn reach(&self, root: &Path) -> HashSet<PathBuf> {
        let mut seen = HashSet::default();
        let mut todo = vec![root.to_path_buf()];
        while let Some(dir) = todo.pop() {
            for callee in self.callees.get(&dir).into_iter().flatten() {
                if callee != root && seen.insert(callee.clone()) {
                    todo.push(callee.clone());
                }
            }
        }
        seen
    }
}

/// The parse results of one directory's files, in the directory's file order.
pub type ParsedDir = Vec<(PathBuf, Result<Arc<SourceFile>, FileError>)>;

/// Roots (canonical) grouped into batches: roots that reach a common directory share a
/// batch, up to [`MAX_BATCH`] of them.
pub struct Batches {
    /// Each batch: indices into the roots, in order.
    pub batches: Vec<Vec<usize>>,
    reach: Vec<HashSet<PathBuf>>,
}

impl Batches {
    pub fn plan(roots: &[PathBuf], calls: &ModuleCalls) -> Self {
        let reach: Vec<HashSet<PathBuf>> = roots.iter().map(|r| calls.reach(r)).collect();
        // Union-find over roots, joined by the directories they reach.
        let mut parent: Vec<usize> = (0..roots.len()).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        let mut first_reacher: HashMap<&PathBuf, usize> = HashMap::default();
        for (i, dirs) in reach.iter().enumerate() {
            for d in dirs {
                let j = *first_reacher.entry(d).or_insert(i);
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of: HashMap<usize, usize> = HashMap::default();
        for i in 0..roots.len() {
            let g = find(&mut parent, i);
            let at = *group_of.entry(g).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[at].push(i);
        }
        let batches = groups
            .iter()
            .flat_map(|g| g.chunks(MAX_BATCH))
            .map(<[usize]>::to_vec)
            .collect();
        Batches { batches, reach }
    }

    /// The directories root `i` reaches through module calls.
    pub fn reach(&self, i: usize) -> &HashSet<PathBuf> {
        &self.reach[i]
    }

    /// The directories that two or more roots of `batch` reach, to be parsed once.
    pub fn shared(&self, batch: &[usize]) -> SharedParses {
        let mut uses: HashMap<&PathBuf, usize> = HashMap::default();
        for &i in batch {
            for d in &self.reach[i] {
                *uses.entry(d).or_default() += 1;
            }
        }
        let slots: HashMap<PathBuf, (usize, Option<Arc<ParsedDir>>)> = uses
            .into_iter()
            .filter(|&(_, n)| n >= 2)
            .map(|(d, n)| (d.clone(), (n, None)))
            .collect();
        let reach = batch
            .iter()
            .map(|&i| {
                let shared = self.reach[i].iter().filter(|d| slots.contains_key(*d));
                (i, shared.cloned().collect())
            })
            .collect();
        SharedParses { slots, reach }
    }
}

/// One batch's directories that two or more of its roots reach, with the parse of those
/// first asked for. Owned by the thread that lints the batch.
#[derive(Debug, Default)]
pub struct SharedParses {
    /// Directory → (roots of the batch yet to finish that reach it, its parse once made).
    slots: HashMap<PathBuf, (usize, Option<Arc<ParsedDir>>)>,
    /// Root index → the shared directories it reaches.
    reach: HashMap<usize, Vec<PathBuf>>,
}

impl SharedParses {
    /// The parse of `dir` (canonical) when it is shared in this batch; the first ask
    /// parses it with `parse`.
    pub fn get(&mut self, dir: &Path, parse: impl FnOnce() -> ParsedDir) -> Option<Arc<ParsedDir>> {
        let (_, parsed) = self.slots.get_mut(dir)?;
        Some(parsed.get_or_insert_with(|| Arc::new(parse())).clone())
    }

    /// Root `root` of the batch is done: drops the parses no later root of it needs.
    pub fn release(&mut self, root: usize) {
        for d in self.reach.remove(&root).into_iter().flatten() {
            if let Some((left, _)) = self.slots.get_mut(&d) {
                *left -= 1;
                if *left == 0 {
                    self.slots.remove(&d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(edges: &[(&str, &str)]) -> ModuleCalls {
        let mut calls = ModuleCalls::default();
        for (from, to) in edges {
            calls.add(PathBuf::from(from), PathBuf::from(to));
        }
        calls
    }

    #[test]
    fn roots_reaching_a_common_directory_share_a_batch_and_its_parse() {
        // Two examples of a module repository reach /m and /m/sub; /infra reaches nothing.
        let calls = calls(&[("/m/ex/a", "/m"), ("/m/ex/b", "/m"), ("/m", "/m/sub")]);
        let roots: Vec<PathBuf> = ["/infra", "/m/ex/a", "/m/ex/b"].map(PathBuf::from).into();
        let plan = Batches::plan(&roots, &calls);
        assert_eq!(plan.batches, [vec![0], vec![1, 2]]);

        let mut shared = plan.shared(&plan.batches[1]);
        let parses = std::cell::Cell::new(0);
        let parse = || {
            parses.set(parses.get() + 1);
            ParsedDir::new()
        };
        assert!(shared.get(Path::new("/m"), parse).is_some());
        shared.release(1);
        // Still needed by root 2: not parsed again.
        assert!(shared.get(Path::new("/m"), parse).is_some());
        assert_eq!(parses.get(), 1);
        shared.release(2);
        // Dropped after the last root that needs it; an unshared directory is not held.
        assert!(shared.get(Path::new("/m"), parse).is_none());
        assert!(shared.get(Path::new("/infra"), parse).is_none());
        assert_eq!(parses.get(), 1);
    }

    #[test]
    fn a_monorepo_of_many_environments_is_split_into_batches() {
        let edges: Vec<(String, String)> = (0..20)
            .map(|i| (format!("/envs/{i:02}"), "/modules/db".to_string()))
            .collect();
        let edges: Vec<(&str, &str)> = edges
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let roots: Vec<PathBuf> = edges.iter().map(|(a, _)| PathBuf::from(a)).collect();
        let plan = Batches::plan(&roots, &calls(&edges));
        let sizes: Vec<usize> = plan.batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [MAX_BATCH, MAX_BATCH, 20 - 2 * MAX_BATCH]);
    }
}
