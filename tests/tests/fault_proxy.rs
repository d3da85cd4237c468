//! The fault proxy really injects each fault, as the AWS SDK sees it, and the faults that
//! come "after the effect" let the request reach moto. Without this, a convergence test
//! through the proxy could pass because nothing was injected.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use drkit_testkit::{Fault, FaultConfig, FaultProxy, Moto};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An S3 client through `proxy` that never retries, so each fault reaches the caller.
async fn s3_without_retries(moto: &Moto, proxy: &FaultProxy) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&moto.sdk_config("us-east-1").await)
        .endpoint_url(proxy.endpoint())
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn only(kind: Fault) -> FaultConfig {
    FaultConfig {
        rate: 1.0,
        kinds: vec![kind],
        slow: Duration::from_millis(200),
        seed: 3,
    }
}

async fn bucket_exists(moto: &Moto, name: &str) -> bool {
    moto.s3("us-east-1")
        .await
        .head_bucket()
        .bucket(name)
        .send()
        .await
        .is_ok()
}

#[test]
fn each_fault_reaches_the_sdk_and_after_effect_faults_still_act() {
    let moto = Moto::start().unwrap();
    runtime().block_on(async {
        for (i, kind) in Fault::ALL.into_iter().enumerate() {
            let proxy = FaultProxy::start(moto.port(), only(kind)).unwrap();
            let s3 = s3_without_retries(&moto, &proxy).await;
            let bucket = format!("fault-{i}");
            let result = s3.create_bucket().bucket(&bucket).send().await;
            let code = match &result {
                Err(SdkError::ServiceError(e)) => e.err().code().map(str::to_string),
                _ => None,
            };
            match kind {
                Fault::Throttle => assert_eq!(code.as_deref(), Some("SlowDown"), "{result:?}"),
                Fault::ServerError | Fault::ServerErrorAfterEffect => {
                    assert_eq!(code.as_deref(), Some("InternalError"), "{result:?}")
                }
                Fault::Reset | Fault::ResetAfterEffect => assert!(
                    matches!(result, Err(SdkError::DispatchFailure(_))),
                    "a reset is a dispatch failure: {result:?}"
                ),
                Fault::Slow => assert!(result.is_ok(), "{result:?}"),
                Fault::CutBody => unreachable!("not among Fault::ALL"),
            }
            let acted = matches!(
                kind,
                Fault::Slow | Fault::ServerErrorAfterEffect | Fault::ResetAfterEffect
            );
            assert_eq!(
                bucket_exists(&moto, &bucket).await,
                acted,
                "{kind:?}: did the request reach moto?"
            );
            assert_eq!(proxy.fault_counts().get(&kind), Some(&1), "{kind:?}");
        }
    });
}

#[test]
fn without_faults_the_proxy_is_transparent_and_labels_requests() {
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    runtime().block_on(async {
        let s3 = s3_without_retries(&moto, &proxy).await;
        s3.create_bucket().bucket("plain").send().await.unwrap();
        s3.put_object()
            .bucket("plain")
            .key("k")
            .body(vec![7u8; 100_000].into())
            .send()
            .await
            .unwrap();
        let got = s3
            .get_object()
            .bucket("plain")
            .key("k")
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_length(), Some(100_000));
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.len(), 100_000);
        let head = s3
            .head_object()
            .bucket("plain")
            .key("k")
            .send()
            .await
            .unwrap();
        assert_eq!(
            head.content_length(),
            Some(100_000),
            "HEAD keeps its length"
        );

        let rds = aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::config::Builder::from(&moto.sdk_config("us-east-1").await)
                .endpoint_url(proxy.endpoint())
                .build(),
        );
        rds.describe_db_instances().send().await.unwrap();
    });
    let labels: Vec<String> = proxy.seen().into_iter().map(|s| s.label).collect();
    assert_eq!(
        labels,
        [
            "s3:PUT /plain/",
            "s3:PUT /plain/k?x-id=PutObject",
            "s3:GET /plain/k?x-id=GetObject",
            "s3:HEAD /plain/k",
            "rds:DescribeDBInstances"
        ]
    );
    assert!(proxy.fault_counts().is_empty());
}

#[test]
fn a_held_request_has_acted_and_waits_for_release() {
    let moto = Moto::start().unwrap();
    let proxy = std::sync::Arc::new(FaultProxy::start(moto.port(), FaultConfig::none()).unwrap());
    proxy.hold_after("s3:PUT /held/");
    let rt = runtime();
    let client = rt.block_on(s3_without_retries(&moto, &proxy));
    let call = std::thread::spawn(move || {
        runtime().block_on(async { client.create_bucket().bucket("held").send().await.is_ok() })
    });
    let label = proxy.wait_held(Duration::from_secs(30)).unwrap();
    assert_eq!(label, "s3:PUT /held/");
    assert!(
        rt.block_on(bucket_exists(&moto, "held")),
        "held after the effect"
    );
    assert!(!call.is_finished(), "the client is still waiting");
    proxy.release();
    assert!(call.join().unwrap(), "the answer arrives after release");
}

#[test]
fn a_cut_body_arrives_in_part_and_then_fails() {
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    runtime().block_on(async {
        let s3 = s3_without_retries(&moto, &proxy).await;
        s3.create_bucket().bucket("cut").send().await.unwrap();
        s3.put_object()
            .bucket("cut")
            .key("dump")
            .body(vec![1u8; 200_000].into())
            .send()
            .await
            .unwrap();
        proxy.inject_once("s3:GET /cut/dump", Fault::CutBody);
        let got = s3.get_object().bucket("cut").key("dump").send().await;
        let got = got.expect("the head arrives whole");
        assert_eq!(got.content_length(), Some(200_000));
        assert!(got.body.collect().await.is_err(), "the body is cut off");
    });
    assert_eq!(proxy.fault_counts().get(&Fault::CutBody), Some(&1));
}
