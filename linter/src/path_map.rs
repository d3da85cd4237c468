//! Maps and sets keyed by paths, hashed as bytes; and a sort key for paths.
//!
//! `Path`'s own `Hash` walks a path a byte at a time, so that paths it calls equal
//! (`a//b`, `a/./b`, `a/b/` and `a/b`) hash alike. In the engine's bookkeeping (files
//! by path, module directories, real paths) that walk was 6% of a lint's instructions
//! (callgrind, 1,000 files), and sorting findings by path component by component another
//! 1.5%. Here a key is the path's bytes in canonical form (its
//! components joined, which is what `Path` compares), so hashing is one pass of Fx over
//! the bytes and equality a `memcmp`. The paths the engine builds (the walk's joins,
//! `normalize`, `canonicalize`) are canonical already, so making a key copies nothing.
//!
//! Equality is `Path`'s: `a/b/` finds `a/b`. Iteration yields the canonical form.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use rustc_hash::FxHashMap;

/// A hash map from paths to `V`, with `Path`'s equality and a cheap hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMap<V> {
    map: FxHashMap<OsString, V>,
}

impl<V> Default for PathMap<V> {
    fn default() -> Self {
        PathMap {
            map: FxHashMap::default(),
        }
    }
}

impl<V> PathMap<V> {
    pub fn with_capacity(n: usize) -> Self {
        PathMap {
            map: FxHashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, path: &Path) -> Option<&V> {
        self.map.get(&*key(path))
    }

    pub fn contains_key(&self, path: &Path) -> bool {
        self.map.contains_key(&*key(path))
    }

    pub fn insert(&mut self, path: PathBuf, value: V) -> Option<V> {
        self.map.insert(owned_key(path), value)
    }

    pub fn entry(&mut self, path: PathBuf) -> Entry<'_, OsString, V> {
        self.map.entry(owned_key(path))
    }

    /// The value at `path`, made by `make` when there is none. Unlike [`PathMap::entry`],
    /// copies `path` only then.
    pub fn get_or_insert_with(&mut self, path: &Path, make: impl FnOnce() -> V) -> &mut V {
        let k = key(path);
        if !self.map.contains_key(&*k) {
            self.map.insert(k.clone().into_owned(), make());
        }
        self.map.get_mut(&*k).expect("inserted above")
    }

    /// The entries `f` keeps, with the values it gives; keys are not made again.
    pub fn filter_map<W>(self, mut f: impl FnMut(&Path, V) -> Option<W>) -> PathMap<W> {
        let mut out = PathMap::with_capacity(self.map.len());
        out.map.extend(
            self.map
                .into_iter()
                .filter_map(|(k, v)| f(Path::new(&k), v).map(|w| (k, w))),
        );
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Path, &V)> {
        self.map.iter().map(|(k, v)| (Path::new(k), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Path> {
        self.map.keys().map(Path::new)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values()
    }
}

impl<V> FromIterator<(PathBuf, V)> for PathMap<V> {
    fn from_iter<I: IntoIterator<Item = (PathBuf, V)>>(items: I) -> Self {
        let mut map = PathMap::default();
        map.extend(items);
        map
    }
}

impl<V> Extend<(PathBuf, V)> for PathMap<V> {
    fn extend<I: IntoIterator<Item = (PathBuf, V)>>(&mut self, items: I) {
        self.map
            .extend(items.into_iter().map(|(p, v)| (owned_key(p), v)));
    }
}

impl<V> IntoIterator for PathMap<V> {
    type Item = (PathBuf, V);
    type IntoIter = std::iter::Map<
        std::collections::hash_map::IntoIter<OsString, V>,
        fn((OsString, V)) -> (PathBuf, V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter().map(|(k, v)| (PathBuf::from(k), v))
    }
}

/// A set of paths, with `Path`'s equality and a cheap hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathSet {
    map: PathMap<()>,
}

impl PathSet {
    pub fn with_capacity(n: usize) -> Self {
        PathSet {
            map: PathMap::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn contains(&self, path: &Path) -> bool {
        self.map.contains_key(path)
    }

    /// True if `path` was not in the set.
    pub fn insert(&mut self, path: PathBuf) -> bool {
        self.map.insert(path, ()).is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.map.keys()
    }
}

impl FromIterator<PathBuf> for PathSet {
    fn from_iter<I: IntoIterator<Item = PathBuf>>(items: I) -> Self {
        let mut set = PathSet::default();
        set.extend(items);
        set
    }
}

impl Extend<PathBuf> for PathSet {
    fn extend<I: IntoIterator<Item = PathBuf>>(&mut self, items: I) {
        self.map.extend(items.into_iter().map(|p| (p, ())));
    }
}

impl IntoIterator for PathSet {
    type Item = PathBuf;
    type IntoIter =
        std::iter::Map<<PathMap<()> as IntoIterator>::IntoIter, fn((PathBuf, ())) -> PathBuf>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter().map(|(p, ())| p)
    }
}

/// `path`'s bytes in the form `Path` compares: borrowed when already in it.
fn key(path: &Path) -> Cow<'_, OsStr> {
    if is_canonical(path) {
        Cow::Borrowed(path.as_os_str())
    } else {
        Cow::Owned(path.components().collect::<PathBuf>().into_os_string())
    }
}

fn owned_key(path: PathBuf) -> OsString {
    if is_canonical(&path) {
        path.into_os_string()
    } else {
        path.components().collect::<PathBuf>().into_os_string()
    }
}

/// Bytes that order as `Path` orders (component by component), for sorting many paths:
/// each component is a tag (the root, `.`, `..`, a name, in `Component`'s order) and a
/// name's bytes, ended by a 0, which no name contains. Comparing two keys is a `memcmp`.
pub fn sort_key(path: &Path) -> Vec<u8> {
    // A canonical path's components are its bytes between separators: no walk needed.
    if cfg!(unix) && is_canonical(path) {
        let mut rest = path.as_os_str().as_encoded_bytes();
        let mut key = Vec::with_capacity(rest.len() + 8);
        if let Some(after_root) = rest.strip_prefix(b"/") {
            key.extend_from_slice(&[2, 0]);
            rest = after_root;
        }
        if !rest.is_empty() {
            for name in rest.split(|&b| b == b'/') {
                match name {
                    b"." => key.push(3),
                    b".." => key.push(4),
                    name => {
                        key.push(5);
                        key.extend_from_slice(name);
                    }
                }
                key.push(0);
            }
        }
        return key;
    }
    sort_key_of_components(path)
}

fn sort_key_of_components(path: &Path) -> Vec<u8> {
    let mut key = Vec::with_capacity(path.as_os_str().len() + 8);
    for c in path.components() {
        match c {
            Component::Prefix(p) => {
                key.push(1);
                key.extend_from_slice(p.as_os_str().as_encoded_bytes());
            }
            Component::RootDir => key.push(2),
            Component::CurDir => key.push(3),
            Component::ParentDir => key.push(4),
            Component::Normal(name) => {
                key.push(5);
                key.extend_from_slice(name.as_encoded_bytes());
            }
        }
        key.push(0);
    }
    key
}

/// True when joining `path`'s components gives its bytes back: no `//`, no `.` after the
/// first component, no trailing `/`. One pass over the bytes: paths are short, and a
/// memchr per separator cost more than the loop.
#[cfg(unix)]
pub(crate) fn is_canonical(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    (0..bytes.len()).all(|i| {
        bytes[i] != b'/'
            || match &bytes[i + 1..] {
                [] => i == 0,
                [b'/', ..] | [b'.'] | [b'.', b'/', ..] => false,
                _ => true,
            }
    })
}

/// Elsewhere separators and prefixes vary: always rebuild from the components.
#[cfg(not(unix))]
pub(crate) fn is_canonical(_path: &Path) -> bool {
    false
}

/// A path as shown to users: `/` separators, no leading `./`.
pub fn display_path(path: &Path) -> String {
    // Once per finding: most paths are already in this form (the walk's joins).
    let shown = path.strip_prefix(".").unwrap_or(path);
    if let Some(text) = shown
        .to_str()
        .filter(|t| !t.is_empty() && !t.starts_with("./") && is_canonical(shown))
    {
        if std::path::MAIN_SEPARATOR == '/' {
            return text.to_string();
        }
    }
    display_components(path)
}

/// [`display_path`] the long way: component by component.
fn display_components(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    let joined = parts.join("/");
    if path.has_root() && !joined.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined.replace("//", "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_path_drops_dot_and_uses_slashes() {
        assert_eq!(display_path(Path::new("./db/main.tf")), "db/main.tf");
        assert_eq!(display_path(Path::new("/tmp/x.tf")), "/tmp/x.tf");
        assert_eq!(display_path(Path::new(".")), ".");
    }

    /// The short cut for paths already in shape gives what the components give, for every
    /// path of up to five bytes over `a`, `.` and `/`.
    #[test]
    fn display_path_short_cut_agrees_with_the_components() {
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|p| ['a', '.', '/'].map(|c| format!("{p}{c}")))
                .collect();
            for p in &last {
                let path = Path::new(p);
                assert_eq!(display_path(path), display_components(path), "{p:?}");
            }
        }
    }

    #[test]
    fn paths_compare_as_path_compares_them() {
        let paths = [
            "",
            ".",
            "/",
            "a",
            "a/b",
            "a/b/c",
            "a/bc",
            "a-b",
            "a.b",
            "a/-",
            "a/.b",
            "a/..",
            "a/../b",
            "./a",
            "./-",
            "../a",
            "..",
            "-",
            "-/a",
            ".a",
            "/a",
            "/a/b",
            "//a",
            "a//b",
            "a/./b",
            "a/b/",
            "ab",
            "b",
            "a/b.tf",
            "a/b/main.tf",
            "a/b-c/main.tf",
        ];
        for x in paths {
            for y in paths {
                let (a, b) = (Path::new(x), Path::new(y));
                assert_eq!(
                    sort_key(a).cmp(&sort_key(b)),
                    a.cmp(b),
                    "{x:?} against {y:?}"
                );
            }
        }
    }

    /// Every path of up to five bytes over `a`, `-`, `.` and `/` (the bytes that order
    /// differently as components than as bytes), against every other.
    #[test]
    fn short_paths_order_and_match_as_path_does() {
        let mut paths = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|p| ['a', '-', '.', '/'].map(|c| format!("{p}{c}")))
                .collect();
            paths.extend(last.iter().cloned());
        }
        for x in &paths {
            let a = Path::new(x);
            let ka = sort_key(a);
            assert_eq!(ka, sort_key_of_components(a), "{x:?}");
            for y in &paths {
                let b = Path::new(y);
                assert_eq!(ka.cmp(&sort_key(b)), a.cmp(b), "{x:?} against {y:?}");
                assert_eq!(key(a) == key(b), a == b, "{x:?} against {y:?}");
            }
        }
    }

    #[test]
    fn paths_that_path_calls_equal_are_one_key() {
        let mut map = PathMap::default();
        map.insert(PathBuf::from("infra/prod/"), 1);
        for same in ["infra/prod", "infra//prod", "infra/./prod", "infra/prod/."] {
            assert_eq!(map.get(Path::new(same)), Some(&1), "{same}");
            assert_eq!(Path::new(same), Path::new("infra/prod/"), "{same}");
        }
        map.insert(PathBuf::from("infra//prod"), 2);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(Path::new("infra/prod")), Some(&2));
    }

    #[test]
    fn paths_that_path_calls_different_are_different_keys() {
        // `Path` keeps a leading `.` and `..` (it cannot resolve them without the disk).
        let set: PathSet = ["a", "./a", "/a", "a/b/../c", "a/c", "a.", "a/.b"]
            .into_iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(set.len(), 7);
        for p in ["a", "./a", "/a", "a/b/../c", "a/c", "a.", "a/.b"] {
            assert!(set.contains(Path::new(p)), "{p}");
        }
        assert!(!set.contains(Path::new("b")));
    }

    #[test]
    fn canonical_paths_are_recognised_without_rebuilding_them() {
        for p in [
            "", ".", "/", "a", "./a", "/a/b", "a/.b/c", "a/..", "../a", "a..b/c",
        ] {
            assert!(is_canonical(Path::new(p)), "{p}");
            let rebuilt: PathBuf = Path::new(p).components().collect();
            assert_eq!(rebuilt.as_os_str(), Path::new(p).as_os_str(), "{p}");
        }
        for p in ["a/", "a//b", "a/./b", "a/.", "//a", "././a"] {
            assert!(!is_canonical(Path::new(p)), "{p}");
            let rebuilt: PathBuf = Path::new(p).components().collect();
            assert_ne!(rebuilt.as_os_str(), Path::new(p).as_os_str(), "{p}");
        }
    }
}
