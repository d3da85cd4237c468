//! Writing one run's record: link it to the drill's newest record, sign it, and put the
//! record and its signature under Object Lock.

use std::time::Duration;

use time::OffsetDateTime;

use super::{signing, store, Destination, Link, Record, Retention};
use crate::DrillReport;

/// What the report alone does not say about a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// The drill: its records' folder.
    pub drill: String,
    /// The policy it exercises.
    pub policy: String,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// Where a record went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// `s3://bucket/<prefix><drill>/<run_id>.json`.
    pub record_uri: String,
    /// The `.sig` beside it.
    pub signature_uri: String,
    /// SHA-256 of the record's bytes.
    pub sha256: String,
    /// The record it links to.
    pub previous: Option<Link>,
}

/// Writes the record of `report`. The signature is made before anything is written, so a
/// KMS failure leaves no unsigned record; the next run links to whatever record exists.
pub async fn write(
    dest: &Destination,
    s3: &aws_sdk_s3::Client,
    kms: &aws_sdk_kms::Client,
    ctx: &RunContext,
    report: &DrillReport,
) -> Result<Written, String> {
    let previous = store::latest_link(s3, &dest.location, &ctx.drill).await?;
    let until = OffsetDateTime::now_utc()
        + Duration::from_secs(u64::from(dest.config.retain_days) * 86_400);
    // Whole seconds: S3 keeps retention dates to the second.
    let until = until.replace_nanosecond(0).unwrap_or(until);
    let retention = Retention {
        mode: dest.config.lock_mode.as_str().to_string(),
        retain_days: dest.config.retain_days,
        retain_until: crate::report::rfc3339(until),
    };
    let record = Record::new(
        ctx,
        report,
        previous.clone(),
        retention,
        dest.key_arn.clone(),
    );
    let bytes = record.to_bytes();
    let sha256 = super::sha256_hex(&bytes);
    let signature = signing::sign(kms, &dest.key_arn, &dest.algorithm, &sha256).await?;
    let sig_bytes = serde_json::to_vec_pretty(&signature).map_err(|e| e.to_string())?;
    let loc = &dest.location;
    let record_key = loc.record_key(&ctx.drill, &report.run_id);
    let sig_key = loc.signature_key(&ctx.drill, &report.run_id);
    let mode = dest.config.lock_mode;
    store::put_locked(s3, &loc.bucket, &record_key, bytes, mode, until).await?;
    store::put_locked(s3, &loc.bucket, &sig_key, sig_bytes, mode, until)
        .await
        .map_err(|e| {
            format!(
                "the record {} was written unsigned: {e}",
                loc.uri(&record_key)
            )
        })?;
    Ok(Written {
        record_uri: loc.uri(&record_key),
        signature_uri: loc.uri(&sig_key),
        sha256,
        previous,
    })
}
