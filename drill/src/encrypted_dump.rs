//! Restoring an `openssl enc` dump without a plaintext copy on disk: the downloaded
//! ciphertext is decrypted, gunzipped when it is gzip, and piped into `pg_restore` (custom
//! format) or `psql` (plain SQL) on their standard input.
//!
//! The head is decrypted first to recognise the dump: a wrong key, cipher or derivation
//! gives bytes that are neither gzip, a `pg_dump` archive nor SQL text, and fails before
//! the scratch database exists.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::decrypt::{Decrypt, DecryptError, Decryptor, HEADER_LEN};
use crate::postgres::{self, DumpFormat};
use crate::Target;

/// Bytes decrypted to recognise the dump.
const SNIFF: usize = 64 * 1024;
const CHUNK: usize = 256 * 1024;

/// What the decrypted stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniffed {
    /// Gzip under the encryption.
    pub gzip: bool,
    /// The dump inside.
    pub format: DumpFormat,
}

fn wrong_key(object: &str, why: impl std::fmt::Display) -> String {
    format!("cannot decrypt {object}: {why}")
}

/// Decrypts the head of `path` (the object `object`) and tells what the dump is.
pub(crate) async fn sniff(
    path: &Path,
    settings: &Decrypt,
    object: &str,
) -> Result<Sniffed, String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("cannot read the download of {object}: {e}"))?;
    let mut head = Vec::with_capacity(SNIFF + HEADER_LEN);
    (&mut file)
        .take((SNIFF + HEADER_LEN) as u64)
        .read_to_end(&mut head)
        .await
        .map_err(|e| format!("cannot read the download of {object}: {e}"))?;
    let whole = head.len() < SNIFF + HEADER_LEN;
    let mut decryptor = Decryptor::new(settings, &head).map_err(|e| wrong_key(object, e))?;
    let mut plain = Vec::new();
    decryptor.update(&head[HEADER_LEN.min(head.len())..], &mut plain);
    if whole {
        decryptor
            .finish(&mut plain)
            .map_err(|e| wrong_key(object, e))?;
    }
    let gzip = plain.starts_with(&[0x1f, 0x8b]);
    let inner = if gzip {
        let mut gz = flate2::write::MultiGzDecoder::new(Vec::new());
        // A short head ends mid-stream; only an error in what is there counts.
        if let Err(e) = gz.write_all(&plain).and_then(|()| gz.flush()) {
            return Err(wrong_key(
                object,
                format!("the decrypted data is not valid gzip ({e})"),
            ));
        }
        gz.get_ref().clone()
    } else {
        plain
    };
    let format = if inner.starts_with(b"PGDMP") {
        DumpFormat::Custom
    } else if looks_like_sql(&inner) {
        DumpFormat::Plain
    } else {
        return Err(wrong_key(
            object,
            DecryptError::BadDecrypt.to_string()
                + " (the decrypted data is neither gzip, a pg_dump archive nor SQL text)",
        ));
    };
    Ok(Sniffed { gzip, format })
}

/// SQL text: UTF-8 without control characters other than whitespace (random bytes from a
/// wrong key fail this in the first few bytes).
pub(crate) fn looks_like_sql(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(4096)];
    if sample.is_empty() {
        return false;
    }
    // A sample cut inside a multi-byte character is still text.
    let text = match std::str::from_utf8(sample) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

/// Streams `path` decrypted (and gunzipped) into `pg_restore`/`psql` restoring `database`.
pub(crate) async fn restore(
    target: &Target,
    database: &str,
    path: &Path,
    settings: &Decrypt,
    sniffed: Sniffed,
    object: &str,
) -> Result<(), String> {
    let (tool_name, mut cmd) = match sniffed.format {
        // From a pipe: no --jobs (parallel restore needs a seekable file).
        DumpFormat::Custom => {
            let mut c = postgres::tool_command(target, "pg_restore");
            c.args([
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
            ])
            .arg(database);
            ("pg_restore", c)
        }
        DumpFormat::Plain => {
            let mut c = postgres::tool_command(target, "psql");
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname"])
                .arg(database)
                .args(["-f", "-"]);
            ("psql", c)
        }
    };
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        format!("cannot run {tool_name}: {e} (set target.pg_bin_dir or put it on PATH)")
    })?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let errors = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    });
    let fed = feed(path, settings, sniffed.gzip, object, &mut stdin).await;
    drop(stdin);
    if let Err(FeedError::Input(e)) = &fed {
        // The stream is bad: the tool must not commit what it has.
        let _ = child.kill().await;
        return Err(e.clone());
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("{tool_name}: {e}"))?;
    let stderr = errors.await.unwrap_or_default();
    if status.success() {
        if let Err(FeedError::Pipe(e)) = fed {
            return Err(format!("{tool_name} stopped reading its input: {e}"));
        }
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    Err(format!(
        "{tool_name} failed ({status}) restoring the decrypted {object}: {}",
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    ))
}

enum FeedError {
    /// The file does not decrypt or decompress.
    Input(String),
    /// The tool closed its input (it failed; its error says why).
    Pipe(String),
}

async fn feed(
    path: &Path,
    settings: &Decrypt,
    gzip: bool,
    object: &str,
    stdin: &mut tokio::process::ChildStdin,
) -> Result<(), FeedError> {
    let input = |e: String| FeedError::Input(e);
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| input(format!("cannot read the download of {object}: {e}")))?;
    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header)
        .await
        .map_err(|_| input(wrong_key(object, DecryptError::NotSalted)))?;
    let mut decryptor =
        Decryptor::new(settings, &header).map_err(|e| input(wrong_key(object, e)))?;
    let mut gz = gzip.then(|| flate2::write::MultiGzDecoder::new(Vec::new()));
    let mut buf = vec![0u8; CHUNK];
    let mut plain = Vec::with_capacity(CHUNK + 16);
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| input(format!("cannot read the download of {object}: {e}")))?;
        plain.clear();
        if n == 0 {
            decryptor
                .finish(&mut plain)
                .map_err(|e| input(wrong_key(object, e)))?;
        } else {
            decryptor.update(&buf[..n], &mut plain);
        }
        let out: &[u8] = match &mut gz {
            Some(gz) => {
                gz.get_mut().clear();
                gz.write_all(&plain)
                    .and_then(|()| if n == 0 { gz.try_finish() } else { Ok(()) })
                    .map_err(|e| input(format!("{object} decrypts, but is not valid gzip: {e}")))?;
                gz.get_ref()
            }
            None => &plain,
        };
        stdin
            .write_all(out)
            .await
            .map_err(|e| FeedError::Pipe(e.to_string()))?;
        if n == 0 {
            return stdin
                .flush()
                .await
                .map_err(|e| FeedError::Pipe(e.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_text_is_told_from_random_bytes() {
        assert!(looks_like_sql(
            b"--\n-- PostgreSQL database dump\n--\n\nSET x = 0;\n"
        ));
        assert!(!looks_like_sql(&[0x93, 0x11, 0xfe, 0x02, 0x7a, 0x00, 0x41]));
        assert!(!looks_like_sql(b""));
    }
}
