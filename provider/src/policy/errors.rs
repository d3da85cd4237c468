//! How a failed AWS call becomes a Terraform diagnostic, for every phase that calls AWS.

use tf_provider::{AttributePath, Diagnostic};

use crate::diagnostics::{aws_diagnostic, AwsError};

/// The outcome of one apply or release step: an error diagnostic stops it.
pub(super) type Step_ = Result<(), Diagnostic>;

pub(super) fn aws_err(summary: String, path: AttributePath) -> impl FnOnce(AwsError) -> Diagnostic {
    move |e| aws_diagnostic(summary, path, &e)
}
