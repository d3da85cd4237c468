//! Checks an `evidence` block against AWS before anything is written: the bucket has
//! Object Lock, the key is an enabled asymmetric signing key in the bucket's region and
//! offers an algorithm drkit signs with. Each problem names the attribute to fix.

use aws_sdk_kms::types::{KeyState, KeyUsageType, SigningAlgorithmSpec};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::ObjectLockEnabled;

use super::{aws_error, signing, EvidenceConfig, Location};

/// Why evidence cannot be written as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misconfigured {
    /// The attribute of the `evidence` block to fix: `s3_uri`, `kms_key_id`, ...
    pub attribute: &'static str,
    /// One line.
    pub summary: String,
    /// What is wrong and what to do.
    pub detail: String,
    /// The configuration is wrong (rather than AWS unreachable, access denied, or a
    /// bucket or key not there yet: it may be created in the same apply).
    pub definitive: bool,
}

impl std::fmt::Display for Misconfigured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.summary, self.detail)
    }
}

fn wrong(attribute: &'static str, summary: &str, detail: String) -> Misconfigured {
    Misconfigured {
        attribute,
        summary: summary.into(),
        detail,
        definitive: true,
    }
}

fn unreachable(attribute: &'static str, detail: String) -> Misconfigured {
    Misconfigured {
        attribute,
        summary: "Cannot check the evidence destination".into(),
        detail,
        definitive: false,
    }
}

/// A checked destination: where records go and how they are signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// Bucket and prefix.
    pub location: Location,
    /// Region of the bucket and the key.
    pub region: String,
    /// ARN of the signing key.
    pub key_arn: String,
    /// The algorithm records are signed with.
    pub algorithm: SigningAlgorithmSpec,
    /// The block as configured.
    pub config: EvidenceConfig,
}

/// The region of `bucket` (GetBucketLocation answers from any region).
pub async fn bucket_region(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<String, Misconfigured> {
    match s3.get_bucket_location().bucket(bucket).send().await {
        Ok(out) => Ok(match out.location_constraint().map(|c| c.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(r) => r.to_string(),
        }),
        Err(e) if e.code() == Some("NoSuchBucket") => Err(no_bucket(bucket)),
        Err(e) => Err(unreachable(
            "s3_uri",
            format!("GetBucketLocation of {bucket}: {}", aws_error(&e)),
        )),
    }
}

/// Not definitive: the bucket may be created in the same apply.
fn no_bucket(bucket: &str) -> Misconfigured {
    Misconfigured {
        definitive: false,
        ..wrong(
            "s3_uri",
            "Evidence bucket not found",
            format!("There is no bucket {bucket:?}: create it with Object Lock enabled (aws_s3_bucket with object_lock_enabled = true), or name an existing one."),
        )
    }
}

/// Checks `config` against the bucket and key in `region` (the bucket's, from
/// [`bucket_region`]); `s3` and `kms` are clients for that region.
pub async fn prepare(
    s3: &aws_sdk_s3::Client,
    kms: &aws_sdk_kms::Client,
    config: &EvidenceConfig,
    region: &str,
) -> Result<Destination, Misconfigured> {
    let location =
        Location::parse(&config.s3_uri).map_err(|e| wrong("s3_uri", "Invalid s3_uri", e))?;
    check_object_lock(s3, &location.bucket).await?;
    let (key_arn, algorithm) = check_key(kms, &config.kms_key_id, region, &location.bucket).await?;
    Ok(Destination {
        location,
        region: region.to_string(),
        key_arn,
        algorithm,
        config: config.clone(),
    })
}

async fn check_object_lock(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), Misconfigured> {
    let without = || {
        wrong(
            "s3_uri",
            "Evidence bucket without Object Lock",
            format!("Bucket {bucket:?} does not have S3 Object Lock enabled, so its records could be deleted or overwritten and would prove nothing. Object Lock is set when a bucket is created (aws_s3_bucket with object_lock_enabled = true; or enable it on an existing versioned bucket with aws_s3_bucket_object_lock_configuration): write the evidence to such a bucket."),
        )
    };
    match s3
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            let enabled = out
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                == Some(&ObjectLockEnabled::Enabled);
            if enabled {
                Ok(())
            } else {
                Err(without())
            }
        }
        Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => Err(without()),
        Err(e) if e.code() == Some("NoSuchBucket") => Err(no_bucket(bucket)),
        Err(e) => Err(unreachable(
            "s3_uri",
            format!("GetObjectLockConfiguration of {bucket}: {}", aws_error(&e)),
        )),
    }
}

/// The region of a KMS ARN (`arn:aws:kms:REGION:ACCOUNT:key/...`).
fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(2).filter(|r| !r.is_empty())
}

async fn check_key(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    region: &str,
    bucket: &str,
) -> Result<(String, SigningAlgorithmSpec), Misconfigured> {
    let elsewhere = |key_region: &str| {
        wrong(
            "kms_key_id",
            "Signing key in another region",
            format!("Key {key_id:?} is in {key_region}, the evidence bucket {bucket:?} in {region}: use a key in {region}, so the records and the key that proves them live and fail together (a multi-Region replica key of it will do)."),
        )
    };
    if let Some(r) = arn_region(key_id).filter(|r| *r != region) {
        return Err(elsewhere(r));
    }
    let out = match kms.describe_key().key_id(key_id).send().await {
        Ok(out) => out,
        // Not definitive: an alias may be created in the same apply.
        Err(e) if e.code() == Some("NotFoundException") => {
            return Err(Misconfigured {
                definitive: false,
                ..wrong(
                    "kms_key_id",
                    "Signing key not found",
                    format!("There is no KMS key {key_id:?} in {region} (the evidence bucket's region): name an asymmetric SIGN_VERIFY key there by id, ARN or alias/NAME."),
                )
            })
        }
        Err(e) => {
            return Err(unreachable(
                "kms_key_id",
                format!("kms:DescribeKey of {key_id}: {}", aws_error(&e)),
            ))
        }
    };
    let Some(meta) = out.key_metadata() else {
        return Err(unreachable(
            "kms_key_id",
            format!("kms:DescribeKey of {key_id} returned no metadata"),
        ));
    };
    let arn = meta.arn().unwrap_or(key_id).to_string();
    if let Some(r) = arn_region(&arn).filter(|r| *r != region) {
        return Err(elsewhere(r));
    }
    if meta.key_usage() != Some(&KeyUsageType::SignVerify) {
        // Absent means KMS's default, ENCRYPT_DECRYPT.
        let usage = meta.key_usage().map_or("ENCRYPT_DECRYPT", |u| u.as_str());
        let spec = meta.key_spec().map_or("unknown", |s| s.as_str());
        return Err(wrong(
            "kms_key_id",
            "Not a signing key",
            format!("Key {arn} has KeyUsage {usage} (KeySpec {spec}): records are signed with an asymmetric key whose KeyUsage is SIGN_VERIFY (KeySpec ECC_NIST_P256 or RSA_2048/3072/4096), whose public half an auditor can check offline. A symmetric key cannot sign: create one with aws_kms_key {{ key_usage = \"SIGN_VERIFY\", customer_master_key_spec = \"ECC_NIST_P256\" }}."),
        ));
    }
    if meta.key_state() != Some(&KeyState::Enabled) {
        let state = meta.key_state().map_or("unknown", |s| s.as_str());
        return Err(wrong(
            "kms_key_id",
            "Signing key not enabled",
            format!("Key {arn} is {state}: enable it, or name an enabled key."),
        ));
    }
    let offered = meta.signing_algorithms();
    let algorithm = signing::choose_algorithm(offered).ok_or_else(|| {
        let names: Vec<&str> = offered.iter().map(|a| a.as_str()).collect();
        wrong(
            "kms_key_id",
            "Unsupported signing key",
            format!("Key {arn} signs with {} only; drkit signs with ECDSA_SHA_256 (KeySpec ECC_NIST_P256) or RSASSA_PSS_SHA_256 (KeySpec RSA_2048/3072/4096).", names.join(", ")),
        )
    })?;
    Ok((arn, algorithm))
}

#[cfg(test)]
mod tests {
    #[test]
    fn arn_regions() {
        assert_eq!(
            super::arn_region("arn:aws:kms:eu-west-1:123456789012:key/abc"),
            Some("eu-west-1")
        );
        assert_eq!(super::arn_region("alias/evidence"), None);
        assert_eq!(super::arn_region("1234abcd-12ab"), None);
    }
}
