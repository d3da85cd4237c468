//! Records in S3: written under Object Lock, listed and read back per drill with their
//! signatures, lock retention and how many versions each key has.

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockMode};
use base64::Engine;
use md5::Digest;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{aws_error, Link, Location, LockMode, Record, Signature};
use crate::postgres_pitr::list;

/// Writes `body` locked in `mode` until `until`. Object Lock puts must carry a checksum:
/// Content-MD5, and a SHA-256 that S3 keeps with the object.
pub(crate) async fn put_locked(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    mode: LockMode,
    until: OffsetDateTime,
) -> Result<(), String> {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let md5 = b64(&md5::Md5::digest(&body));
    let content_type = if key.ends_with(".json") {
        "application/json"
    } else {
        "application/vnd.drkit.evidence-signature+json"
    };
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .content_md5(md5)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .object_lock_mode(ObjectLockMode::from(mode.as_str()))
        .object_lock_retain_until_date(aws_smithy_types::DateTime::from_secs(
            until.unix_timestamp(),
        ))
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| format!("cannot write s3://{bucket}/{key}: {}", aws_error(&e)))?;
    Ok(())
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("cannot read s3://{bucket}/{key}: {}", aws_error(&e)))?;
    out.body
        .collect()
        .await
        .map(|b| b.into_bytes().to_vec())
        .map_err(|e| format!("cannot read s3://{bucket}/{key}: {e}"))
}

/// The newest record of a drill (the one the next record links to), `None` for none:
/// the one whose drill finished last. Not the last written: a record edited or put back
/// later must not become the head of the chain.
pub(crate) async fn latest_link(
    s3: &aws_sdk_s3::Client,
    location: &Location,
    drill: &str,
) -> Result<Option<Link>, String> {
    let records = list(s3, &location.bucket, &location.chain_prefix(drill)).await?;
    let mut best: Option<(Option<OffsetDateTime>, Link)> = None;
    for l in records.iter().filter(|l| l.key.ends_with(".json")) {
        let bytes = get(s3, &location.bucket, &l.key).await?;
        let finished = serde_json::from_slice::<Record>(&bytes)
            .ok()
            .and_then(|r| r.report.finished_at)
            .and_then(|f| OffsetDateTime::parse(&f, &Rfc3339).ok());
        let link = Link {
            run_id: run_id_of(&l.key, ".json").to_string(),
            sha256: super::sha256_hex(&bytes),
        };
        if best
            .as_ref()
            .is_none_or(|(f, b)| (finished, &link.run_id) > (*f, &b.run_id))
        {
            best = Some((finished, link));
        }
    }
    Ok(best.map(|(_, link)| link))
}

fn run_id_of<'a>(key: &'a str, ext: &str) -> &'a str {
    let file = key.rsplit('/').next().unwrap_or(key);
    file.strip_suffix(ext).unwrap_or(file)
}

/// Object Lock retention of one object version, as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockState {
    /// `COMPLIANCE`, `GOVERNANCE`.
    pub mode: String,
    /// Locked until then.
    pub retain_until: OffsetDateTime,
}

/// A record read back from S3, with everything needed to judge it.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// Its run id (the file name).
    pub run_id: String,
    /// `s3://bucket/key` of the `.json`.
    pub uri: String,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// Parsed, or why it is not a record.
    pub record: Result<Record, String>,
    /// The `.sig` beside it: `None` when missing, `Some(Err)` when unreadable.
    pub signature: Option<Result<Signature, String>>,
    /// Versions of the `.json` key (more than one: it was overwritten); `None` when the
    /// versions could not be listed.
    pub versions: Option<usize>,
    /// Versions of the `.sig` key.
    pub signature_versions: Option<usize>,
    /// Lock of the `.json` (`Ok(None)`: not locked), when asked for.
    pub lock: Option<Result<Option<LockState>, String>>,
    /// Lock of the `.sig`.
    pub signature_lock: Option<Result<Option<LockState>, String>>,
}

impl StoredRecord {
    /// When its drill finished (else started), for ordering (unparsable records sort
    /// first); `None` when the record does not parse.
    pub fn finished(&self) -> Option<OffsetDateTime> {
        let r = self.record.as_ref().ok()?;
        let f = r
            .report
            .finished_at
            .as_deref()
            .unwrap_or(&r.report.started_at);
        OffsetDateTime::parse(f, &Rfc3339).ok()
    }
}

/// The records of one drill, oldest first (by when each drill finished, the order they
/// were written in).
#[derive(Debug, Clone)]
pub struct Chain {
    /// The drill's folder name.
    pub drill: String,
    /// Its records.
    pub records: Vec<StoredRecord>,
}

/// Reads every drill's records below `location` (only `drill` when given); `locks` also
/// reads each object's Object Lock retention (the audit needs it, the report does not).
pub async fn load_chains(
    s3: &aws_sdk_s3::Client,
    location: &Location,
    drill: Option<&str>,
    locks: bool,
) -> Result<Vec<Chain>, String> {
    let prefix = match drill {
        Some(d) => location.chain_prefix(d),
        None => location.prefix.clone(),
    };
    let keys = list(s3, &location.bucket, &prefix).await?;
    let versions = versions(s3, &location.bucket, &prefix).await;
    let mut by_drill: BTreeMap<String, Vec<StoredRecord>> = BTreeMap::new();
    let present: std::collections::HashSet<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    for listed in keys.iter().filter(|l| l.key.ends_with(".json")) {
        let Some(rest) = listed.key.strip_prefix(&location.prefix) else {
            continue;
        };
        // `<drill>/<run_id>.json`; anything deeper or shallower is not a record.
        let Some((name, file)) = rest.split_once('/') else {
            continue;
        };
        if file.contains('/') {
            continue;
        }
        let run_id = run_id_of(file, ".json").to_string();
        let bytes = get(s3, &location.bucket, &listed.key).await?;
        let record = serde_json::from_slice::<Record>(&bytes)
            .map_err(|e| format!("not a drkit evidence record: {e}"));
        let sig_key = format!("{}{name}/{run_id}.sig", location.prefix);
        let signature = if present.contains(sig_key.as_str()) {
            Some(get(s3, &location.bucket, &sig_key).await.and_then(|b| {
                serde_json::from_slice::<Signature>(&b)
                    .map_err(|e| format!("not a drkit signature file: {e}"))
            }))
        } else {
            None
        };
        let count = |k: &str| versions.as_ref().map(|v| v.get(k).copied().unwrap_or(0));
        let (lock, signature_lock) = if locks {
            (
                Some(lock_of(s3, &location.bucket, &listed.key).await),
                match signature {
                    Some(_) => Some(lock_of(s3, &location.bucket, &sig_key).await),
                    None => None,
                },
            )
        } else {
            (None, None)
        };
        by_drill
            .entry(name.to_string())
            .or_default()
            .push(StoredRecord {
                run_id,
                uri: location.uri(&listed.key),
                versions: count(&listed.key),
                signature_versions: count(&sig_key),
                bytes,
                record,
                signature,
                lock,
                signature_lock,
            });
    }
    Ok(by_drill
        .into_iter()
        .map(|(drill, mut records)| {
            records.sort_by(|a, b| (a.finished(), &a.run_id).cmp(&(b.finished(), &b.run_id)));
            Chain { drill, records }
        })
        .collect())
}

/// Versions per key below `prefix` (delete markers included: a "deleted" record is one
/// too); `None` when they cannot be listed.
async fn versions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Option<BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .ok()?;
        for v in page.versions() {
            *out.entry(v.key().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
        for m in page.delete_markers() {
            *out.entry(m.key().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
        if page.is_truncated() != Some(true) {
            return Some(out);
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
        key_marker.as_ref()?;
    }
}

/// The Object Lock retention of the current version of `key`, from HeadObject (it
/// carries the lock headers to whoever may read them; moto has no GetObjectRetention).
async fn lock_of(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<LockState>, String> {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the retention of s3://{bucket}/{key}: {}",
                aws_error(&e)
            )
        })?;
    Ok(head.object_lock_retain_until_date().and_then(|until| {
        Some(LockState {
            mode: head
                .object_lock_mode()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            retain_until: OffsetDateTime::from_unix_timestamp(until.secs()).ok()?,
        })
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_ids_are_file_names() {
        assert_eq!(super::run_id_of("drills/orders/r-1.json", ".json"), "r-1");
        assert_eq!(super::run_id_of("r-1.sig", ".sig"), "r-1");
    }
}
