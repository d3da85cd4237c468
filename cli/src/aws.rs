//! AWS configuration as the AWS CLI reads it: `AWS_PROFILE`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL` (and the shared config and credentials files), with clients per
//! region because the evidence bucket and its key may live outside the default region.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The SDK configuration from the environment.
pub async fn load() -> SdkConfig {
    // rustls on ring, as the provider: no aws-lc or OpenSSL build.
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await
}

/// An S3 client for `region` (`None`: the configured one). Path-style addressing with a
/// custom endpoint, since emulators and proxies rarely resolve `bucket.host`.
pub fn s3(base: &SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let mut conf = aws_sdk_s3::config::Builder::from(base);
    if let Some(r) = region {
        conf = conf.region(Region::new(r.to_string()));
    }
    if base.endpoint_url().is_some() {
        conf = conf.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(conf.build())
}

/// A KMS client for `region` (`""`: the configured one).
pub fn kms(base: &SdkConfig, region: &str) -> aws_sdk_kms::Client {
    let mut conf = aws_sdk_kms::config::Builder::from(base);
    if !region.is_empty() {
        conf = conf.region(Region::new(region.to_string()));
    }
    aws_sdk_kms::Client::from_conf(conf.build())
}
