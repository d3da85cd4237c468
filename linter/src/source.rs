//! Finding, reading and parsing `.tf` and `.tf.json` files: directories are walked (symlink loops,
//! unreadable, binary, huge and non-UTF-8 files become [`FileError`]s, never panics), and
//! files are parsed in parallel with hcl-edit, which keeps spans and comments.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::structure::Body;

pub use crate::file_text::FileText;
use crate::finding::{FileError, Location};

/// Files larger than this are refused: no real Terraform file comes close, and a linter in a
/// pre-commit hook must answer in bounded time and memory.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Deeper bracket nesting than this is refused before parsing (the parser recurses).
pub const MAX_NESTING: usize = 256;

/// One parsed `.tf` (or `.tf.json`) file.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as found (joined to the path the user gave).
    pub path: PathBuf,
    /// The text, without a byte-order mark.
    pub text: Arc<str>,
    /// Parsed body.
    pub body: Body,
    /// Byte offset of each line start, for line:column.
    line_starts: Vec<usize>,
    /// The 0-based line of the last location asked for: the loader asks in text order, so
    /// the next answer is mostly on that line or the next one, not a binary search over
    /// every line of the file away.
    line_hint: std::sync::atomic::AtomicUsize,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset, with the byte range.
    pub fn location(&self, start: usize, end: usize) -> Location {
        use std::sync::atomic::Ordering::Relaxed;
        let starts = &self.line_starts;
        let offset = start.min(self.text.len());
        let on = |i: usize| {
            starts.get(i).is_some_and(|&s| s <= offset)
                && starts.get(i + 1).is_none_or(|&next| offset < next)
        };
        let hint = self.line_hint.load(Relaxed);
        let index = if on(hint) {
            hint
        } else if on(hint + 1) {
            hint + 1
        } else {
            starts.partition_point(|&s| s <= offset).max(1) - 1
        };
        self.line_hint.store(index, Relaxed);
        let (line, column) = column_on(&self.text, starts, index, offset);
        Location {
            line,
            column,
            start,
            end,
        }
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    // Counted first: growing the vector line by line reallocates it six times a file.
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut starts = Vec::with_capacity(newlines.clone().count() + 1);
    starts.push(0);
    starts.extend(newlines.map(|i| i + 1));
    starts
}

fn line_col(text: &str, starts: &[usize], offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let index = starts.partition_point(|&s| s <= offset).max(1) - 1;
    column_on(text, starts, index, offset)
}

/// 1-based line and column of `offset` (at most the text's length), on the 0-based line
/// `index`.
fn column_on(text: &str, starts: &[usize], index: usize, offset: usize) -> (u32, u32) {
    let start = starts[index];
    let column = text
        .get(start..offset)
        .map_or(1, |s| s.trim_end_matches('\r').chars().count() + 1);
    ((index + 1) as u32, column as u32)
}

/// A directory's `.tf` and `.tf.json` files: one Terraform module.
#[derive(Debug, Default)]
pub struct ModuleDir {
    /// The module's files, sorted by name.
    pub files: Vec<PathBuf>,
    /// Variable files Terraform loads by themselves when this is a root module:
    /// `terraform.tfvars`, then `*.auto.tfvars` by name. `None` when the walk did not list
    /// the directory (a file named on the command line).
    pub auto_tfvars: Option<Vec<PathBuf>>,
}

/// Walks `paths`: each directory holding `.tf` or `.tf.json` files is a module; a named file brings its
/// whole directory (its module context). Also returns `*.tfvars` found beside root files.
pub fn discover(paths: &[PathBuf]) -> (BTreeMap<PathBuf, ModuleDir>, Vec<FileError>) {
    let mut modules: BTreeMap<PathBuf, ModuleDir> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut visited = BTreeSet::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let mut listed = prefetch(path);
                walk(
                    path,
                    &mut modules,
                    &mut errors,
                    &mut visited,
                    &mut listed,
                    0,
                );
            }
            Ok(meta) if !meta.is_file() => errors.push(FileError {
                file: path.clone(),
                line: None,
                column: None,
                message: not_a_file(&meta.file_type()),
            }),
            Ok(_) => {
                let dir = path
                    .parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                let dir = if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir
                };
                if let std::collections::btree_map::Entry::Vacant(slot) = modules.entry(dir) {
                    let mut files = tf_files(slot.key(), &mut errors);
                    if !files.contains(path) && !files.iter().any(|f| same_file(f, path)) {
                        files.push(path.clone());
                    }
                    slot.insert(ModuleDir {
                        files,
                        auto_tfvars: None,
                    });
                }
            }
            Err(e) => errors.push(FileError {
                file: path.clone(),
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    (modules, errors)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether a file name is a Terraform configuration file: `*.tf`, or `*.tf.json` in
/// Terraform's JSON syntax.
pub fn is_config_name(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// [`is_config_name`] of a path's file name.
pub fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_config_name)
}

/// Whether a file name is one of the variable files Terraform loads by itself beside a
/// root module: `terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars` and
/// `*.auto.tfvars.json`.
pub fn is_auto_tfvars_name(name: &str) -> bool {
    matches!(name, "terraform.tfvars" | "terraform.tfvars.json")
        || name.ends_with(".auto.tfvars")
        || name.ends_with(".auto.tfvars.json")
}

/// Sorts automatic variable files in the order Terraform loads them (later ones win):
/// `terraform.tfvars`, `terraform.tfvars.json`, then the `*.auto.tfvars(.json)` by name.
pub fn sort_auto_tfvars(files: &mut [PathBuf]) {
    files.sort_by_key(|p| {
        let rank = if p.ends_with("terraform.tfvars") {
            0
        } else if p.ends_with("terraform.tfvars.json") {
            1
        } else {
            2
        };
        (rank, p.clone())
    });
}

/// The configuration files (`.tf`, `.tf.json`) directly in `dir`, sorted.
pub fn tf_files(dir: &Path, errors: &mut Vec<FileError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let path = entry.path();
                if is_config_file(&path) && fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                    files.push(clean(&path));
                }
            }
        }
        Err(e) => errors.push(FileError {
            file: dir.to_path_buf(),
            line: None,
            column: None,
            message: format!("cannot read the directory: {e}"),
        }),
    }
    files.sort();
    files
}

fn clean(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => PathBuf::from(rest),
        _ => path.to_path_buf(),
    }
}

/// A directory's identity, whatever path reaches it: device and inode where there are
/// such (one `stat`, where resolving the real path costs a `readlink` per component).
#[cfg(unix)]
type DirId = (u64, u64);
#[cfg(not(unix))]
type DirId = PathBuf;

fn dir_identity(dir: &Path) -> std::io::Result<DirId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(dir).map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        fs::canonicalize(dir)
    }
}

/// One directory as the walk sees it: its identity, and what listing it found.
struct Listing {
    id: Option<DirId>,
    /// The listing, or why the directory could not be read.
    entries: Result<Entries, String>,
}

#[derive(Default)]
struct Entries {
    files: Vec<PathBuf>,
    tfvars: Vec<PathBuf>,
    subdirs: Vec<PathBuf>,
    errors: Vec<FileError>,
}

/// Lists `dir` (no recursion): its `.tf` and `.tf.json` files, automatic variable files and subdirectories,
/// sorted, and the entries that are named so but cannot be read as files.
fn list(dir: &Path) -> Listing {
    let id = dir_identity(dir).ok();
    if id.is_none() {
        return Listing {
            id,
            entries: Err(String::new()),
        };
    }
    let read = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return Listing {
                id,
                entries: Err(format!("cannot read the directory: {e}")),
            }
        }
    };
    let mut out = Entries::default();
    let cleaned = clean(dir);
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // The directory listing says what an entry is; only a symlink needs a `stat`.
        let kind = match entry.file_type() {
            Ok(t) if !t.is_symlink() => Ok(t),
            _ => fs::metadata(&path).map(|m| m.file_type()),
        };
        // As Terraform: every `*.auto.tfvars` entry (one that cannot be read is an error
        // when the directory is a root), `terraform.tfvars` when it is a file.
        let is_file = kind.as_ref().is_ok_and(|t| t.is_file());
        let auto = name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json");
        if auto || (is_auto_tfvars_name(&name) && is_file) {
            out.tfvars.push(cleaned.join(&*name));
        }
        match kind {
            Ok(t) if t.is_dir() => {
                // Terraform's own caches and VCS metadata are not the user's code.
                if !name.starts_with('.') && name != "node_modules" {
                    out.subdirs.push(path);
                }
            }
            Ok(t) if t.is_file() && is_config_name(&name) => out.files.push(clean(&path)),
            Ok(t) if is_config_name(&name) => out.errors.push(FileError {
                file: clean(&path),
                line: None,
                column: None,
                message: not_a_file(&t),
            }),
            Ok(_) => {}
            Err(e) if is_config_name(&name) => out.errors.push(FileError {
                file: clean(&path),
                line: None,
                column: None,
                message: format!("cannot read: {e} (a broken symlink or a symlink loop?)"),
            }),
            Err(_) => {}
        }
    }
    out.files.sort();
    sort_auto_tfvars(&mut out.tfvars);
    out.subdirs.sort();
    Listing {
        id,
        entries: Ok(out),
    }
}

/// Lists the directories below `root` on all cores, a level at a time, each real
/// directory once: a prefetch for [`walk`], which decides what is visited (in the order a
/// sequential walk visits it) and lists on the spot whatever the prefetch did not.
fn prefetch(root: &Path) -> HashMap<PathBuf, Listing> {
    let mut out = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut level = vec![root.to_path_buf()];
    for _ in 0..=MAX_WALK_DEPTH {
        if level.is_empty() {
            break;
        }
        let listings = parallel_map(&level, |d| list(d));
        let mut next = Vec::new();
        for (dir, listing) in level.into_iter().zip(listings) {
            if let (Some(id), Ok(entries)) = (listing.id, &listing.entries) {
                if seen.insert(id) {
                    next.extend(entries.subdirs.iter().cloned());
                }
            }
            out.insert(dir, listing);
        }
        level = next;
    }
    out
}

/// How deep below a named directory the walk goes.
const MAX_WALK_DEPTH: usize = 64;

fn walk(
    dir: &Path,
    modules: &mut BTreeMap<PathBuf, ModuleDir>,
    errors: &mut Vec<FileError>,
    visited: &mut BTreeSet<DirId>,
    listed: &mut HashMap<PathBuf, Listing>,
    depth: usize,
) {
    let listing = listed.remove(dir).unwrap_or_else(|| list(dir));
    // Symlink loops: every real directory is walked once.
    let Some(id) = listing.id else {
        errors.push(FileError {
            file: dir.to_path_buf(),
            line: None,
            column: None,
            message: "cannot resolve the directory (a broken symlink or a symlink loop)".into(),
        });
        return;
    };
    if !visited.insert(id) || depth > MAX_WALK_DEPTH {
        return;
    }
    let entries = match listing.entries {
        Ok(e) => e,
        Err(message) => {
            errors.push(FileError {
                file: dir.to_path_buf(),
                line: None,
                column: None,
                message,
            });
            return;
        }
    };
    errors.extend(entries.errors);
    if !entries.files.is_empty() {
        let module = ModuleDir {
            files: entries.files,
            auto_tfvars: Some(entries.tfvars),
        };
        modules.insert(clean(dir), module);
    }
    for sub in entries.subdirs {
        walk(&sub, modules, errors, visited, listed, depth + 1);
    }
}

/// `f` over `items` on all cores (small batches: files differ a lot in size). Results keep
/// the order of `items`.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    parallel_map_in(items, 4, 8, || (), |(), t| f(t), drop)
}

/// [`parallel_map`] for items that each take long (a root module and its calls): taken one
/// at a time, and in parallel from two items on, so that no core idles at the end.
pub fn parallel_map_heavy<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    parallel_map_in(items, 1, 2, || (), |(), t| f(t), drop)
}

/// [`parallel_map_heavy`] with a state per thread: `start` makes it, `f` takes it with
/// each item, and `end` gets it when the thread has no item left.
pub fn parallel_map_heavy_with<T: Sync, R: Send, S>(
    items: &[T],
    start: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
    end: impl Fn(S) + Sync,
) -> Vec<R> {
    parallel_map_in(items, 1, 2, start, f, end)
}

fn parallel_map_in<T: Sync, R: Send, S>(
    items: &[T],
    chunk: usize,
    min_parallel: usize,
    start: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
    end: impl Fn(S) + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    if threads <= 1 || items.len() < min_parallel {
        let mut state = start();
        let out = items.iter().map(|t| f(&mut state, t)).collect();
        end(state);
        return out;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = Vec::new();
    slots.resize_with(items.len(), || None);
    let slots = std::sync::Mutex::new(slots);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut state = start();
                loop {
                    let first = next.fetch_add(chunk, std::sync::atomic::Ordering::Relaxed);
                    if first >= items.len() {
                        break;
                    }
                    let last = (first + chunk).min(items.len());
                    let done: Vec<R> = items[first..last]
                        .iter()
                        .map(|t| f(&mut state, t))
                        .collect();
                    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                    for (i, r) in done.into_iter().enumerate() {
                        slots[first + i] = Some(r);
                    }
                }
                end(state);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every slot is filled"))
        .collect()
}

/// Reads and parses `paths` on all cores. Results keep the order of `paths`.
pub fn parse_all(paths: &[PathBuf]) -> Vec<Result<SourceFile, FileError>> {
    parallel_map(paths, |p| read_and_parse(p))
}

/// Why a path that is not a regular file is not read: opening a FIFO with no writer
/// blocks forever, and a device never ends.
fn not_a_file(t: &fs::FileType) -> String {
    #[cfg(unix)]
    let kind = {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        }
    };
    #[cfg(not(unix))]
    let kind = {
        let _ = t;
        "not a regular file"
    };
    format!("cannot read: {kind}, not a file (not opened)")
}

/// Opens `path` for reading without blocking: a FIFO without a writer answers at once.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<fs::File> {
    fs::File::open(path)
}

/// Reads a regular file within the size limit; anything else (a FIFO, a socket, a device)
/// is refused before a byte is read.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, FileError> {
    use std::io::Read;
    let err = |message: String| FileError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        message,
    };
    // Opened without blocking, so that a FIFO in place of a file answers at once; then
    // `fstat` on the descriptor, not a second lookup of the path.
    let file = open_nonblocking(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(err(not_a_file(&meta.file_type())));
    }
    // A file that grows after this `stat` is caught by the limit on the read below.
    let len = meta.len();
    if len > MAX_FILE_BYTES {
        return Err(err(format!(
            "file is {} MB, over the {} MB limit: not a hand-written Terraform file",
            len / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(err("file grew over the size limit while being read".into()));
    }
    Ok(bytes)
}

/// The local sources (`./x`, `../x`) of the `module` blocks in a file, found by a quick
/// scan instead of a parse: it only proposes which directories are root modules, and the
/// engine corrects it with what the parse finds.
pub fn scan_module_calls(text: &str) -> Vec<String> {
    // This scan reads every file: jump from one newline or brace to the next (SIMD), and
    // at each line start look at the first word.
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    // Most files call no module: one search says so.
    if memchr::memmem::find(bytes, b"module").is_none() {
        return out;
    }
    let mut depth = 0i32;
    let mut in_module = false;
    let mut line_start = |at: usize, depth: i32, in_module: &mut bool| {
        let rest = text[at..].trim_start_matches([' ', '\t']);
        if depth == 0 {
            *in_module = rest.starts_with("module ") || rest.starts_with("module\t");
        }
        if *in_module && depth == 1 && rest.starts_with("source") {
            let line = rest.split_once('\n').map_or(rest, |(line, _)| line);
            let value = line
                .strip_prefix("source")
                .and_then(|r| r.trim_start().strip_prefix('='))
                .and_then(|v| v.trim_start().strip_prefix('"'))
                .and_then(|q| q.find('"').map(|end| &q[..end]));
            if let Some(src) = value.filter(|s| s.starts_with("./") || s.starts_with("../")) {
                out.push(src.to_string());
            }
        }
    };
    line_start(0, depth, &mut in_module);
    for at in memchr::memchr3_iter(b'\n', b'{', b'}', bytes) {
        match bytes[at] {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ => {
                depth = depth.max(0);
                line_start(at + 1, depth, &mut in_module);
            }
        }
    }
    out
}

impl FileText {
    /// [`parse_bytes`], keeping the text it already holds.
    pub fn parse(&self, path: &Path) -> Result<SourceFile, FileError> {
        match self {
            FileText::Utf8(t)
                if !t.starts_with('\u{feff}') && memchr::memchr(0, t.as_bytes()).is_none() =>
            {
                parse_text(path, t, || t.clone())
            }
            _ => parse_bytes(path, self.bytes()),
        }
    }
}

/// Reads one file and parses it.
pub fn read_and_parse(path: &Path) -> Result<SourceFile, FileError> {
    let bytes = read_limited(path)?;
    parse_bytes(path, &bytes)
}

/// Parses file content; errors carry line:column when known.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<SourceFile, FileError> {
    let err = |line: Option<u32>, column: Option<u32>, message: String| FileError {
        file: path.to_path_buf(),
        line,
        column,
        message,
    };
    // A byte-order mark becomes spaces, so byte offsets still match the file on disk
    // (fixes are applied to the original bytes).
    let unbommed;
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            unbommed = [b"   ".as_slice(), rest].concat();
            unbommed.as_slice()
        }
        None => bytes,
    };
    if let Some(nul) = memchr::memchr(0, bytes) {
        let line = bytes[..nul].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        return Err(err(
            Some(line),
            None,
            "binary file (contains NUL bytes): not Terraform".into(),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let starts = line_starts(std::str::from_utf8(&bytes[..at]).unwrap_or(""));
            let (line, column) =
                line_col(std::str::from_utf8(&bytes[..at]).unwrap_or(""), &starts, at);
            return Err(err(
                Some(line),
                Some(column),
                "not valid UTF-8: Terraform files must be UTF-8".into(),
            ));
        }
    };
    parse_text(path, text, || Arc::from(text))
}

/// The checks and the parse once `text` is known to be UTF-8 without NUL bytes; `keep`
/// gives the text the parsed file holds.
fn parse_text(
    path: &Path,
    text: &str,
    keep: impl FnOnce() -> Arc<str>,
) -> Result<SourceFile, FileError> {
    let err = |line: Option<u32>, column: Option<u32>, message: String| FileError {
        file: path.to_path_buf(),
        line,
        column,
        message,
    };
    if let Some(offset) = too_deep(text) {
        let starts = line_starts(text);
        let (line, column) = line_col(text, &starts, offset);
        return Err(err(
            Some(line),
            Some(column),
            format!("nesting deeper than {MAX_NESTING} levels: refused"),
        ));
    }
    let body = if crate::json_config::is_json_config(path) {
        crate::json_config::parse_body(text).map_err(|e| {
            let starts = line_starts(text);
            let (line, column) = line_col(text, &starts, e.offset);
            err(Some(line), Some(column), e.message)
        })?
    } else {
        hcl_edit::parser::parse_body(text).map_err(|e| {
            let loc = e.location();
            err(
                Some(loc.line() as u32),
                Some(loc.column() as u32),
                format!("cannot parse HCL: {}", e.message()),
            )
        })?
    };
    let text = keep();
    Ok(SourceFile {
        path: path.to_path_buf(),
        line_starts: line_starts(&text),
        line_hint: Default::default(),
        text,
        body,
    })
}

/// Offset where bracket nesting first exceeds [`MAX_NESTING`] (strings are not skipped:
/// a conservative over-count only refuses absurd files).
fn too_deep(text: &str) -> Option<usize> {
    // Fewer openers than the limit cannot nest past it; counting them vectorises.
    let openers = memchr::memchr3_iter(b'{', b'[', b'(', text.as_bytes()).count();
    if openers <= MAX_NESTING {
        return None;
    }
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_characters_and_lines() {
        let f = parse_bytes(Path::new("a.tf"), "a = \"é\"\nb = 2\n".as_bytes()).unwrap();
        let b = f.text.find('b').unwrap();
        assert_eq!(f.location(b, b + 1).line, 2);
        assert_eq!(f.location(b, b + 1).column, 1);
        let q = f.text.rfind('"').unwrap();
        assert_eq!(f.location(q, q + 1).column, 7);
    }

    #[test]
    fn bad_input_is_an_error_with_a_position() {
        let e = parse_bytes(Path::new("x.tf"), b"a = 1\nb = \xff\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(5)));
        let e = parse_bytes(Path::new("x.tf"), b"a = 1\n\0").unwrap_err();
        assert!(e.message.contains("binary"), "{e:?}");
        let e = parse_bytes(Path::new("x.tf"), b"resource \"a\" \"b\" {\n  x = \n}\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
        let deep = format!("a = {}1{}", "[".repeat(1000), "]".repeat(1000));
        let e = parse_bytes(Path::new("x.tf"), deep.as_bytes()).unwrap_err();
        assert!(e.message.contains("nesting"), "{e:?}");
    }

    #[test]
    fn module_calls_are_found_by_the_scan() {
        let text = "module \"db\" {\n  source = \"./modules/db\"\n  x      = { a = 1 }\n}\n\nmodule \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n}\n\nresource \"a\" \"b\" {\n  source = \"./not-a-module\"\n}\n";
        assert_eq!(scan_module_calls(text), ["./modules/db"]);
    }

    #[test]
    fn bom_and_crlf_parse() {
        let f = parse_bytes(Path::new("a.tf"), b"\xEF\xBB\xBFa = 1\r\nb = 2\r\n").unwrap();
        assert!(f.body.get_attribute("b").is_some());
        let b = f.text.find('b').unwrap();
        assert_eq!((f.location(b, b).line, f.location(b, b).column), (2, 1));
        assert_eq!(
            b,
            "\u{feff}a = 1\r\n".len(),
            "offsets match the bytes on disk"
        );
    }
}
