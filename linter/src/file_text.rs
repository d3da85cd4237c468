//! A file's bytes as read, shared between the parser, the report and the renderers.
//! Parsing it is [`crate::source`]'s job (`FileText::parse` lives there); [`Sources`] holds
//! the texts of the files findings point into, for snippets, suppressions and baselines.

use std::path::Path;
use std::sync::Arc;

/// A file's bytes as read: as text when they are UTF-8 (nearly always), so that the
/// parsed file shares them instead of copying them again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileText {
    Utf8(Arc<str>),
    Bytes(Arc<[u8]>),
}

impl FileText {
    pub fn new(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => FileText::Utf8(Arc::from(text)),
            Err(e) => FileText::Bytes(Arc::from(e.into_bytes())),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            FileText::Utf8(t) => t.as_bytes(),
            FileText::Bytes(b) => b,
        }
    }
}

/// Source text of the files findings point into, read once.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Looked up once or twice per finding.
    files: crate::path_map::PathMap<Option<Arc<str>>>,
}

impl Sources {
    /// Files larger than this are not read back for snippets and suppressions.
    const MAX_BYTES: u64 = 8 * 1024 * 1024;

    /// Reads each file once; unreadable, huge or non-UTF-8 files are remembered as absent.
    pub fn load<'a>(files: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut sources = Sources::default();
        for file in files {
            sources.insert(file);
        }
        sources
    }

    /// Reads one more file unless already known.
    pub fn insert(&mut self, file: &Path) {
        if self.files.contains_key(file) {
            return;
        }
        let text = std::fs::metadata(file)
            .ok()
            .filter(|m| m.is_file() && m.len() <= Self::MAX_BYTES)
            .and_then(|_| std::fs::read_to_string(file).ok())
            .map(Arc::from);
        self.files.insert(file.to_path_buf(), text);
    }

    /// Takes `text` as the file's text when given (what the engine read, shared, not
    /// copied), else reads it.
    pub fn insert_read(&mut self, file: &Path, text: Option<&FileText>) {
        if self.files.contains_key(file) {
            return;
        }
        match text {
            Some(FileText::Utf8(t)) if t.len() as u64 <= Self::MAX_BYTES => {
                self.files.insert(file.to_path_buf(), Some(t.clone()));
            }
            Some(_) => {
                self.files.insert(file.to_path_buf(), None);
            }
            None => self.insert(file),
        }
    }

    /// Adds text for a file without reading it (tests, and text already in memory).
    pub fn insert_text(&mut self, file: &Path, text: String) {
        self.files.insert(file.to_path_buf(), Some(Arc::from(text)));
    }

    /// The file's text, when it could be read.
    pub fn get(&self, file: &Path) -> Option<&str> {
        self.files.get(file).and_then(|t| t.as_deref())
    }
}
