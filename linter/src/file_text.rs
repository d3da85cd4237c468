//! A file's bytes as read, shared between the parser, the report and the renderers.
//! Parsing it is [`crate::source`]'s job (`FileText::parse` lives there).

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
