//! `dr_drill`'s `evidence { }` against AWS: the destination checked at plan (bucket with
//! Object Lock, asymmetric signing key in its region), each run's record written at apply.

use drkit_drill::evidence::{
    self, Destination, EvidenceConfig, Misconfigured, RunContext, Written,
};
use drkit_drill::DrillReport;
use tf_provider::{AttributePath, Diagnostics};

use crate::aws::{AwsClients, SharedClients};
use crate::diagnostics::error;
use crate::state::dr_drill::DrillState;

/// The block's values, when the drill has one and all are known.
pub fn config(s: &DrillState) -> Option<EvidenceConfig> {
    let e = s.evidence.as_ref_option()?;
    Some(EvidenceConfig {
        s3_uri: e.s3_uri.as_ref_option()?.clone(),
        retain_days: u32::try_from(*e.retain_days.as_ref_option()?).ok()?,
        lock_mode: e.lock_mode.as_ref_option()?.parse().ok()?,
        kms_key_id: e.kms_key_id.as_ref_option()?.clone(),
    })
}

/// The chain's name: `evidence.name`, else `policy_id`.
pub fn chain_name(s: &DrillState) -> Option<String> {
    let named = s
        .evidence
        .as_ref_option()
        .and_then(|e| e.name.as_ref_option().cloned());
    named.or_else(|| s.policy_id.as_ref_option().cloned())
}

/// The checked destination of `config`: the bucket's region first, then the bucket and
/// the key there.
async fn destination(
    clients: &AwsClients,
    config: &EvidenceConfig,
) -> Result<(Destination, aws_sdk_s3::Client, aws_sdk_kms::Client), Misconfigured> {
    let location = evidence::Location::parse(&config.s3_uri).map_err(|e| Misconfigured {
        attribute: "s3_uri",
        summary: "Invalid s3_uri".into(),
        detail: e,
        definitive: true,
    })?;
    let primary = clients.s3(clients.primary_region()).await;
    let region = evidence::bucket_region(&primary, &location.bucket).await?;
    let (s3, kms) = (clients.s3(&region).await, clients.kms(&region).await);
    let dest = evidence::prepare(&s3, &kms, config, &region).await?;
    Ok((dest, s3, kms))
}

/// At plan: a misconfigured destination is an error on its attribute; AWS not answering,
/// or a bucket or key not there yet, is a warning (the apply checks again, and never
/// loses the drill for it).
pub async fn check(shared: &SharedClients, diags: &mut Diagnostics, s: &DrillState) {
    let (Some(config), Some(clients)) = (config(s), shared.get()) else {
        return;
    };
    if let Err(m) = destination(clients, &config).await {
        let path = AttributePath::new("evidence")
            .index(0)
            .attribute(m.attribute);
        if m.definitive {
            diags.add_error(error(m.summary, m.detail, path));
        } else {
            diags.add_warning(error(m.summary, m.detail, path));
        }
    }
}

/// At apply: writes the run's record and signature.
pub async fn write(
    clients: &AwsClients,
    s: &DrillState,
    report: &DrillReport,
    failure: Option<&str>,
) -> Option<Result<Written, String>> {
    let config = config(s)?;
    let ctx = RunContext {
        drill: chain_name(s).unwrap_or_else(|| report.name.clone()),
        policy: s.policy_id.as_ref_option().cloned().unwrap_or_default(),
        error: failure.map(str::to_string),
    };
    Some(match destination(clients, &config).await {
        Ok((dest, s3, kms)) => evidence::write(&dest, &s3, &kms, &ctx, report).await,
        Err(m) => Err(m.to_string()),
    })
}
