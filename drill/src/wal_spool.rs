//! WAL fetched ahead of replay. The drill downloads the planned archive files in parallel
//! (bounded in count, so in disk) into a local spool directory, decompressing `.gz`/`.zst`;
//! the server's `restore_command` is a small shell script that only moves a file out of
//! the spool. So replay never waits one S3 round trip per segment, as with WAL-G's or
//! pgBackRest's asynchronous archive-get.
//!
//! The protocol between the two, in the spool directory:
//! - `NAME.wanted`: NAME is in the plan and will arrive; created for every planned file
//!   before the server starts, removed once NAME is in place (or its download failed).
//! - `NAME`: downloaded and decompressed, renamed into place atomically.
//! - `.waits`: one line per request that had to wait, `NAME START_NS END_NS`.
//!
//! A request for a file that is not planned (the segment after the archive's end, the
//! history file of a timeline that does not exist) finds neither and fails at once, as
//! PostgreSQL needs to end recovery.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

use crate::archive_plan::PlannedFile;
use crate::wal::Compression;

/// The `restore_command` script: `restore_wal.sh %f %p`.
pub fn restore_script(spool: &Path) -> String {
    let spool = spool.display().to_string().replace('\'', r"'\''");
    format!(
        r#"#!/bin/sh
# restore_command of a drkit PITR drill: takes %f from the spool the drill fills ahead.
s='{spool}'
f="$1"
p="$2"
if [ ! -e "$s/$f" ] && [ -e "$s/$f.wanted" ]; then
  t0=$(date +%s%N)
  while [ ! -e "$s/$f" ] && [ -e "$s/$f.wanted" ]; do sleep 0.01; done
  echo "$f $t0 $(date +%s%N)" >> "$s/.waits"
fi
[ -e "$s/$f" ] || exit 1
case "$f" in
  *.history) exec cp "$s/$f" "$p" ;;
  *) exec mv -f "$s/$f" "$p" ;;
esac
"#
    )
}

/// Figures and the first error of a prefetch, shared with the drill.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files downloaded.
    pub files: AtomicU64,
    /// Bytes after decompression.
    pub bytes: AtomicU64,
    /// Bytes as stored in S3.
    pub stored_bytes: AtomicU64,
    /// The first download that failed: replay cannot go on past it.
    pub error: Mutex<Option<String>>,
}

/// A running prefetch; aborted when dropped.
pub struct Prefetch {
    task: tokio::task::JoinHandle<()>,
    /// Shared figures.
    pub progress: Arc<Progress>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Limits of the prefetch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Downloads at once.
    pub parallel: usize,
    /// Files downloaded or downloading but not yet taken by replay.
    pub ahead: usize,
}

impl Limits {
    /// 8 downloads at once, and at most 1 GiB (or 8 files) waiting in the spool.
    pub fn for_segment_size(segment_size: u64) -> Limits {
        let parallel = 8;
        let ahead = ((1u64 << 30) / segment_size.max(1)) as usize;
        Limits {
            parallel,
            ahead: ahead.clamp(parallel, 256),
        }
    }
}

/// Marks every planned file as wanted, then downloads them in order, keeping at most
/// `limits.ahead` in the spool. `owner` (uid, gid) owns the downloaded files.
pub fn start(
    s3: aws_sdk_s3::Client,
    bucket: String,
    files: Vec<PlannedFile>,
    spool: PathBuf,
    limits: Limits,
    owner: Option<(u32, u32)>,
) -> Result<Prefetch, String> {
    for f in &files {
        std::fs::write(spool.join(format!("{}.wanted", f.name)), b"")
            .map_err(|e| format!("cannot write to the spool {}: {e}", spool.display()))?;
    }
    let progress = Arc::new(Progress::default());
    let shared = progress.clone();
    let task = tokio::spawn(async move {
        let mut queue: VecDeque<PlannedFile> = files.into();
        let mut running = JoinSet::new();
        let mut ready: Vec<String> = Vec::new();
        loop {
            // Taken by restore_command: room for more.
            ready.retain(|n| spool.join(n).exists());
            while running.len() < limits.parallel && running.len() + ready.len() < limits.ahead {
                let Some(f) = queue.pop_front() else { break };
                let (s3, bucket, spool, shared) =
                    (s3.clone(), bucket.clone(), spool.clone(), shared.clone());
                running.spawn(async move {
                    let r = fetch_one(&s3, &bucket, &f, &spool, owner, &shared).await;
                    (f.name, r)
                });
            }
            if running.is_empty() && queue.is_empty() {
                return;
            }
            tokio::select! {
                Some(done) = running.join_next(), if !running.is_empty() => match done {
                    Ok((name, Ok(()))) => ready.push(name),
                    Ok((name, Err(e))) => {
                        let _ = std::fs::remove_file(spool.join(format!("{name}.wanted")));
                        shared.error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        return;
                    }
                    Err(e) => {
                        shared.error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e.to_string());
                        return;
                    }
                },
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
    });
    Ok(Prefetch { task, progress })
}

async fn fetch_one(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    f: &PlannedFile,
    spool: &Path,
    owner: Option<(u32, u32)>,
    progress: &Progress,
) -> Result<(), String> {
    let raw = spool.join(format!(".part-{}.raw", f.name));
    let part = spool.join(format!(".part-{}", f.name));
    crate::postgres_dump::download(s3, bucket, &f.key, &raw).await?;
    let stored = tokio::fs::metadata(&raw)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    match f.compression {
        Compression::None => tokio::fs::rename(&raw, &part)
            .await
            .map_err(|e| e.to_string())?,
        Compression::Gzip => {
            let (from, to) = (raw.clone(), part.clone());
            tokio::task::spawn_blocking(move || gunzip(&from, &to))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("s3://{bucket}/{}: not valid gzip: {e}", f.key))?;
            let _ = tokio::fs::remove_file(&raw).await;
        }
        Compression::Zstd => {
            let out = tokio::process::Command::new("zstd")
                .args(["-d", "-q", "-f", "-o"])
                .arg(&part)
                .arg(&raw)
                .stdin(std::process::Stdio::null())
                .output()
                .await
                .map_err(|e| {
                    format!(
                        "cannot run zstd to decompress {}: {e} (install zstd)",
                        f.key
                    )
                })?;
            if !out.status.success() {
                return Err(format!(
                    "s3://{bucket}/{}: not valid zstd: {}",
                    f.key,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            let _ = tokio::fs::remove_file(&raw).await;
        }
    }
    let size = tokio::fs::metadata(&part)
        .await
        .map(|m| m.len())
        .map_err(|e| e.to_string())?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&part, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    // In place first, then no longer "wanted": restore_command never sees neither.
    tokio::fs::rename(&part, spool.join(&f.name))
        .await
        .map_err(|e| e.to_string())?;
    let _ = tokio::fs::remove_file(spool.join(format!("{}.wanted", f.name))).await;
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress.bytes.fetch_add(size, Ordering::Relaxed);
    progress.stored_bytes.fetch_add(stored, Ordering::Relaxed);
    Ok(())
}

fn gunzip(from: &Path, to: &Path) -> std::io::Result<()> {
    let input = std::fs::File::open(from)?;
    let mut decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(input));
    let mut output = std::fs::File::create(to)?;
    std::io::copy(&mut decoder, &mut output)?;
    Ok(())
}

/// Seconds replay waited on downloads, from the script's `.waits` log.
pub fn waited_seconds(spool: &Path) -> f64 {
    let total: f64 = std::fs::read_to_string(spool.join(".waits"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace().skip(1);
            let a: u128 = w.next()?.parse().ok()?;
            let b: u128 = w.next()?.parse().ok()?;
            Some(b.saturating_sub(a) as f64 / 1e9)
        })
        .sum();
    // An empty f64 sum is -0.0; reports show 0.
    if total > 0.0 {
        total
    } else {
        0.0
    }
}

/// Names of the files restore_command has taken (gone from the spool, no longer wanted).
pub fn taken(spool: &Path, files: &[PlannedFile]) -> Vec<PlannedFile> {
    files
        .iter()
        .filter(|f| {
            !f.name.ends_with(".history")
                && !spool.join(&f.name).exists()
                && !spool.join(format!("{}.wanted", f.name)).exists()
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run_script(spool: &Path, name: &str, dest: &Path) -> (bool, Duration) {
        let script = spool.join("restore.sh");
        std::fs::write(&script, restore_script(spool)).unwrap();
        let start = std::time::Instant::now();
        let ok = Command::new("sh")
            .arg(&script)
            .arg(name)
            .arg(dest)
            .status()
            .unwrap()
            .success();
        (ok, start.elapsed())
    }

    #[test]
    fn restore_command_fails_at_once_for_files_not_in_the_plan() {
        let dir = tempfile::tempdir().unwrap();
        let (ok, took) = run_script(dir.path(), "00000002.history", &dir.path().join("x"));
        assert!(!ok);
        assert!(took < Duration::from_millis(500));
    }

    #[test]
    fn restore_command_waits_for_a_wanted_file_and_moves_it() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().to_path_buf();
        let name = "000000010000000000000003";
        std::fs::write(spool.join(format!("{name}.wanted")), b"").unwrap();
        let s = spool.clone();
        let arrive = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(s.join(name), b"wal").unwrap();
            std::fs::remove_file(s.join(format!("{name}.wanted"))).unwrap();
        });
        let dest = spool.join("RECOVERYXLOG");
        let (ok, took) = run_script(&spool, name, &dest);
        arrive.join().unwrap();
        assert!(ok);
        assert!(took >= Duration::from_millis(250));
        assert_eq!(std::fs::read(&dest).unwrap(), b"wal");
        assert!(!spool.join(name).exists(), "moved, not copied");
        let waited = waited_seconds(&spool);
        assert!((0.2..5.0).contains(&waited), "{waited}");
        // A failed download removes the marker: the request fails instead of hanging.
        std::fs::write(spool.join("B.wanted"), b"").unwrap();
        std::fs::remove_file(spool.join("B.wanted")).unwrap();
        assert!(!run_script(&spool, "B", &dest).0);
    }
}
