//! Shared error wording: every diagnostic the provider shows for an AWS failure says what
//! failed, what to do about it, and quotes the original AWS error code and message.
//!
//! Resources keep AWS failures as [`AwsError`] (`?` works on SDK errors through
//! [`AwsError::from_sdk`]) and turn them into diagnostics at the edge with [`add_aws_error`],
//! on the attribute path the user would change.

use std::fmt;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

/// The broad reasons an AWS call fails, each with its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credentials lack a permission, or are missing/expired.
    AccessDenied,
    /// The instance, bucket or snapshot does not exist (in that region).
    NotFound,
    /// The resource is busy (e.g. an RDS instance still `modifying`) or in a state that
    /// forbids the operation.
    InvalidState,
    /// Still throttled after every retry.
    Throttled,
    /// The endpoint could not be reached, or the call timed out.
    Network,
    /// The request was rejected as invalid.
    InvalidRequest,
    /// The service kept answering with a server error (5xx) after every retry.
    ServerError,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Classifies an AWS error code.
    pub fn from_code(code: &str) -> Self {
        match code {
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidAccessKeyId"
            | "KMSKeyNotAccessibleFault" => ErrorKind::AccessDenied,
            "DBInstanceNotFound"
            | "DBInstanceNotFoundFault"
            | "DBSnapshotNotFound"
            | "DBSnapshotNotFoundFault"
            | "DBInstanceAutomatedBackupNotFound"
            | "DBInstanceAutomatedBackupNotFoundFault"
            | "DBClusterNotFoundFault"
            | "GlobalClusterNotFoundFault"
            | "NoSuchBucket"
            | "NoSuchKey"
            | "NotFound"
            | "NoSuchReplicationConfiguration"
            | "NoSuchLifecycleConfiguration"
            | "ServerSideEncryptionConfigurationNotFoundError"
            | "KMSKeyNotFound"
            | "DBSubnetGroupNotFoundFault"
            | "DBParameterGroupNotFound"
            | "DBClusterParameterGroupNotFound"
            | "InvalidGroup.NotFound"
            | "NotFoundException" => ErrorKind::NotFound,
            "InvalidDBInstanceState"
            | "InvalidDBInstanceStateFault"
            | "InvalidDBInstanceAutomatedBackupState"
            | "InvalidDBInstanceAutomatedBackupStateFault"
            | "OperationAborted"
            | "InvalidBucketState"
            | "DBInstanceAlreadyExists"
            | "DBInstanceAlreadyExistsFault"
            | "InvalidDBSnapshotState"
            | "InvalidDBSnapshotStateFault"
            | "InvalidDBClusterStateFault"
            | "InvalidGlobalClusterStateFault"
            | "DBClusterAlreadyExistsFault"
            | "GlobalClusterAlreadyExistsFault" => ErrorKind::InvalidState,
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "TooManyRequestsException" => ErrorKind::Throttled,
            "InvalidParameterValue"
            | "InvalidParameterCombination"
            | "InvalidRequest"
            | "InvalidArgument"
            | "MalformedXML"
            | "MalformedPolicy"
            | "ValidationError" => ErrorKind::InvalidRequest,
            _ => ErrorKind::Other,
        }
    }

    /// What the user should do about this kind of failure.
    pub fn advice(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => {
                "Check that the credentials the provider uses (the standard AWS chain, or \
                 `profile`) are valid and allow this action on this resource, including any \
                 KMS key it needs; an SCP or permission boundary can also deny it."
            }
            ErrorKind::NotFound => {
                "Check the name and the region: the resource must exist in the region the \
                 provider looks in (`region` for sources, the block's `region` or \
                 `dr_region` for copies). If it was deleted outside Terraform, recreate or \
                 restore it, or remove it from the configuration."
            }
            ErrorKind::InvalidState => {
                "The resource is busy or in a state that forbids this change (for example an \
                 RDS instance still `modifying`, `backing-up` or `rebooting`). Wait until it \
                 is `available` and apply again; the provider picks up where it stopped."
            }
            ErrorKind::Throttled => {
                "AWS kept throttling the call after every retry. Apply again later, lower \
                 `-parallelism`, or raise `max_retries` in the provider block."
            }
            ErrorKind::Network => {
                "The AWS endpoint could not be reached or did not answer in time. Check the \
                 network, proxy settings and any `endpoints` override, then apply again."
            }
            ErrorKind::InvalidRequest => {
                "AWS rejected the settings. Check the attribute named in this message \
                 against what the service accepts (engine, instance class, KMS key region)."
            }
            ErrorKind::ServerError => {
                "The service kept answering with a server error after every retry (see \
                 `max_retries`). Apply again later; with an emulator such as LocalStack or \
                 moto, the operation may not be implemented there."
            }
            ErrorKind::Other => "Check the AWS error below; apply again once it is resolved.",
        }
    }
}

/// A failed AWS call, with the error code and message AWS returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The API operation, e.g. `ModifyDBInstance`.
    pub operation: String,
    /// The AWS error code, e.g. `InvalidDBInstanceState`.
    pub code: Option<String>,
    /// The AWS error message.
    pub message: Option<String>,
    /// The classification that chooses the advice.
    pub kind: ErrorKind,
}

impl AwsError {
    /// Captures an SDK error (service error, dispatch failure or timeout).
    pub fn from_sdk<E>(operation: &str, err: aws_sdk_rds::error::SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        use aws_sdk_rds::error::SdkError;
        let (kind, code, message) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().map(str::to_string);
                let status = service.raw().status().as_u16();
                let kind = match code.as_deref() {
                    Some(code) => ErrorKind::from_code(code),
                    None if status >= 500 => ErrorKind::ServerError,
                    None if status == 403 => ErrorKind::AccessDenied,
                    None if status == 404 => ErrorKind::NotFound,
                    None => ErrorKind::Other,
                };
                let message = match (e.message(), &code) {
                    (Some(m), _) => Some(m.to_string()),
                    (None, Some(_)) => None,
                    // No AWS error document (an HTML page, an empty body): say what came back.
                    (None, None) => Some(format!("HTTP {status} without an AWS error document")),
                };
                (kind, code, message)
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (
                ErrorKind::Network,
                None,
                Some(aws_smithy_types::error::display::DisplayErrorContext(&err).to_string()),
            ),
            _ => (
                ErrorKind::Other,
                None,
                Some(aws_smithy_types::error::display::DisplayErrorContext(&err).to_string()),
            ),
        };
        AwsError {
            operation: operation.to_string(),
            code,
            message,
            kind,
        }
    }

    /// An error with a known code, for failures detected by the provider itself.
    pub fn new(operation: &str, code: &str, message: impl Into<String>) -> Self {
        AwsError {
            operation: operation.to_string(),
            code: Some(code.to_string()),
            message: Some(message.into()),
            kind: ErrorKind::from_code(code),
        }
    }

    /// True when the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True for an exact AWS error code.
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        match (&self.code, &self.message) {
            (Some(code), Some(msg)) => write!(f, ": {code}: {msg}"),
            (Some(code), None) => write!(f, ": {code}"),
            (None, Some(msg)) => write!(f, ": {msg}"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for AwsError {}

/// `?` on any SDK call: `client.op().send().await.map_err(aws("Op"))?`.
pub fn aws<E>(operation: &'static str) -> impl FnOnce(aws_sdk_rds::error::SdkError<E>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| AwsError::from_sdk(operation, err)
}

/// The diagnostic for a failed AWS call: `summary` names what the provider was doing
/// ("Could not modify RDS instance \"db1\""), the detail gives the advice for this kind of
/// error and quotes AWS.
pub fn aws_diagnostic(
    summary: impl Into<String>,
    attribute: AttributePath,
    err: &AwsError,
) -> Diagnostic {
    Diagnostic {
        summary: summary.into().into(),
        detail: format!("{}\n\nAWS said: {err}", err.kind.advice()).into(),
        attribute,
    }
}

/// Adds [`aws_diagnostic`] as an error.
pub fn add_aws_error(
    diags: &mut Diagnostics,
    summary: impl Into<String>,
    attribute: AttributePath,
    err: &AwsError,
) {
    diags.add_error(aws_diagnostic(summary, attribute, err));
}

/// The error for a resource used before `configure` ran (or after it failed).
pub fn not_configured() -> Diagnostic {
    Diagnostic {
        summary: "The dr provider is not configured".into(),
        detail: "This operation needs AWS access, but the provider \"dr\" block has not been \
                 configured (or configuring it failed: see the error above). Check `region` \
                 and the AWS credentials, and make sure the provider configuration does not \
                 depend on values known only after apply."
            .into(),
        attribute: AttributePath::root(),
    }
}

/// A plain error with an attribute path, built without tf-provider's backtrace capture so
/// messages stay stable for snapshots.
pub fn error(
    summary: impl Into<String>,
    detail: impl Into<String>,
    attribute: AttributePath,
) -> Diagnostic {
    Diagnostic {
        summary: summary.into().into(),
        detail: detail.into().into(),
        attribute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_choose_the_advice() {
        assert_eq!(
            ErrorKind::from_code("InvalidDBInstanceState"),
            ErrorKind::InvalidState
        );
        assert_eq!(ErrorKind::from_code("NoSuchBucket"), ErrorKind::NotFound);
        assert_eq!(
            ErrorKind::from_code("AccessDenied"),
            ErrorKind::AccessDenied
        );
        assert!(ErrorKind::InvalidState.advice().contains("available"));
    }

    #[test]
    fn diagnostic_quotes_aws() {
        let err = AwsError::new(
            "ModifyDBInstance",
            "InvalidDBInstanceState",
            "Instance db1 is not available",
        );
        let d = aws_diagnostic(
            "Could not modify RDS instance \"db1\"",
            AttributePath::new("rds").index(0),
            &err,
        );
        assert!(d.detail.contains("Wait until it is `available`"));
        assert!(d
            .detail
            .ends_with("AWS said: ModifyDBInstance failed: InvalidDBInstanceState: Instance db1 is not available"));
    }
}
