//! How a failed AWS call becomes a Terraform diagnostic, for every phase that calls AWS, and
//! the "not found" answers that are no failure.

use tf_provider::{AttributePath, Diagnostic};

use crate::diagnostics::{aws_diagnostic, AwsError};

/// The outcome of one apply or release step: an error diagnostic stops it.
pub(super) type Step_ = Result<(), Diagnostic>;

pub(super) fn aws_err(summary: String, path: AttributePath) -> impl FnOnce(AwsError) -> Diagnostic {
    move |e| aws_diagnostic(summary, path, &e)
}

/// A describe call's answer with "not found" as `None`.
pub(super) fn absent_if_not_found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A delete call's answer with "not found" as done: a retried call whose first attempt
/// went through, or something deleted meanwhile.
pub(super) fn done_if_gone<T>(r: Result<T, AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}
