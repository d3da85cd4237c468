//! `postgres_dump` drills: the newest object under an S3 prefix (custom format or plain SQL,
//! gzipped or not) is restored into a scratch database, verified, and dropped.

use std::io::Read;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use crate::dump_drill::{self, DumpEngine, DumpObject};
use crate::encrypted_dump;
use crate::postgres::{self, DumpFormat};
use crate::{CancellationToken, Clients, DrillReport, DrillSpec, DumpSource, Target};

/// A downloaded dump ready to restore.
enum Prepared<'a> {
    /// Plain or unzipped on disk.
    File(PathBuf, DumpFormat),
    /// Still encrypted on disk; decrypted while streamed.
    Encrypted(PathBuf, encrypted_dump::Sniffed, &'a crate::Decrypt),
}

/// `s3://bucket/prefix` → (bucket, prefix).
pub fn parse_s3_uri(uri: &str) -> Result<(String, String), String> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or_else(|| format!("s3_uri {uri:?} must start with s3://"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("s3_uri {uri:?} names no bucket"));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

pub(crate) async fn run(
    spec: &DrillSpec,
    dump: &DumpSource,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let Some(target) = &spec.target else {
        return Err(
            "a postgres_dump drill needs a target block: the server to restore onto".into(),
        );
    };
    let object = DumpObject {
        s3_uri: &dump.s3_uri,
        region: &dump.region,
    };
    dump_drill::run(
        &Postgres { dump },
        object,
        spec,
        target,
        clients,
        cancel,
        report,
    )
    .await
}

/// The PostgreSQL half of a dump drill: `pg_restore`/`psql`.
struct Postgres<'a> {
    dump: &'a DumpSource,
}

impl<'a> DumpEngine for Postgres<'a> {
    type Lock = tokio_postgres::Client;
    type Prepared = Prepared<'a>;

    async fn hold(&self, target: &Target, scratch: &str, _: &str) -> Result<Self::Lock, String> {
        postgres::hold(target, scratch).await
    }

    async fn prepare(
        &self,
        downloaded: PathBuf,
        object: &str,
        report: &mut DrillReport,
    ) -> Result<Prepared<'a>, String> {
        // Encrypted dumps stay encrypted on disk and are decrypted into the restore's stdin.
        Ok(match &self.dump.decrypt {
            Some(settings) => {
                let sniffed = encrypted_dump::sniff(&downloaded, settings, object).await?;
                report.notes.push(format!(
                    "{object} decrypted ({:?}) while streamed into the restore; no plaintext copy on disk",
                    settings.cipher
                ));
                Prepared::Encrypted(downloaded, sniffed, settings)
            }
            None => {
                let (file, format) = tokio::task::spawn_blocking(move || prepare(&downloaded))
                    .await
                    .map_err(|e| format!("inspecting the dump: {e}"))??;
                Prepared::File(file, format)
            }
        })
    }

    async fn create_scratch(&self, target: &Target, scratch: &str, _: &str) -> Result<(), String> {
        postgres::create_scratch(target, scratch).await
    }

    async fn restore(
        &self,
        target: &Target,
        scratch: &str,
        prepared: &Prepared<'a>,
        object: &str,
        _: &mut DrillReport,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> Result<(), String> {
        match prepared {
            Prepared::Encrypted(path, sniffed, settings) => {
                encrypted_dump::restore(target, scratch, path, settings, *sniffed, object).await
            }
            Prepared::File(file, format) => postgres::restore(target, scratch, file, *format).await,
        }
    }

    async fn drop_scratch(&self, target: &Target, scratch: &str) -> Result<(), String> {
        postgres::drop_scratch(target, scratch).await
    }

    async fn release(&self, lock: Self::Lock) {
        drop(lock);
    }
}

/// The object the drill restores under `prefix` ([`crate::selection::dump`]) and its
/// `LastModified`.
pub(crate) async fn newest_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<(String, OffsetDateTime), String> {
    let listed = crate::postgres_pitr::list(s3, bucket, prefix).await?;
    let dump = crate::selection::dump(prefix, &listed)
        .ok_or_else(|| format!("no backup under s3://{bucket}/{prefix}: nothing to restore"))?;
    Ok((dump.key.clone(), dump.modified))
}

/// Downloads an object to `to`. A connection lost midway (the SDK retries a request, not a
/// body it has started to hand over) resumes where it stopped, with a `Range` request
/// pinned to the same object by its ETag, as often as the client's retry configuration
/// allows: a multi-gigabyte dump should not need a perfect connection.
pub(crate) async fn download(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    to: &Path,
) -> Result<(), String> {
    let attempts = s3
        .config()
        .retry_config()
        .map_or(1, |r| r.max_attempts())
        .max(1);
    let mut file = tokio::fs::File::create(to)
        .await
        .map_err(|e| e.to_string())?;
    let (mut written, mut etag, mut attempt) = (0u64, None::<String>, 1);
    loop {
        let mut req = s3.get_object().bucket(bucket).key(key);
        if written > 0 {
            req = req
                .range(format!("bytes={written}-"))
                .set_if_match(etag.clone());
        }
        let obj = req.send().await.map_err(|e| {
            format!(
                "cannot download s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
        if etag.is_none() {
            etag = obj.e_tag().map(str::to_string);
        }
        let mut body = obj.body;
        let cut = loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    file.write_all(&chunk).await.map_err(|e| e.to_string())?;
                    written += chunk.len() as u64;
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        match cut {
            None => return file.flush().await.map_err(|e| e.to_string()),
            Some(e) if attempt < attempts => {
                tracing::warn!(bucket, key, written, attempt, error = %e, "download cut off; resuming");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt as u64)).await;
            }
            Some(e) => {
                let at = format!("after {written} bytes, {attempt} attempts");
                return Err(format!("downloading s3://{bucket}/{key}: {e} ({at})"));
            }
        }
    }
}

/// Unzips a gzipped dump and tells custom format (`PGDMP` header) from plain SQL.
fn prepare(path: &Path) -> Result<(PathBuf, DumpFormat), String> {
    let mut head = [0u8; 5];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("cannot read the dump: {e}"))?;
    let path = if n >= 2 && head[..2] == [0x1f, 0x8b] {
        let out = path.with_extension("unzipped");
        let input = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let mut decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(input));
        let mut output = std::fs::File::create(&out).map_err(|e| e.to_string())?;
        std::io::copy(&mut decoder, &mut output)
            .map_err(|e| format!("the dump is not valid gzip: {e}"))?;
        std::fs::remove_file(path).ok();
        out
    } else {
        path.to_path_buf()
    };
    let mut head = [0u8; 5];
    let n = std::fs::File::open(&path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| e.to_string())?;
    let format = if n == 5 && &head == b"PGDMP" {
        DumpFormat::Custom
    } else {
        DumpFormat::Plain
    };
    Ok((path, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_split_into_bucket_and_prefix() {
        assert_eq!(
            parse_s3_uri("s3://b/daily/").unwrap(),
            ("b".into(), "daily/".into())
        );
        assert_eq!(parse_s3_uri("s3://b").unwrap(), ("b".into(), "".into()));
        assert!(parse_s3_uri("https://b/x").is_err());
        assert!(parse_s3_uri("s3:///x").is_err());
    }

    #[test]
    fn gzip_and_custom_format_are_recognised() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.sql");
        std::fs::write(&plain, "SELECT 1;").unwrap();
        assert_eq!(prepare(&plain).unwrap().1, DumpFormat::Plain);
        let gz = dir.path().join("b");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(b"PGDMP\x01\x0e").unwrap();
        enc.finish().unwrap();
        let (path, format) = prepare(&gz).unwrap();
        assert_eq!(format, DumpFormat::Custom);
        assert_eq!(std::fs::read(path).unwrap()[..5], *b"PGDMP");
    }
}
