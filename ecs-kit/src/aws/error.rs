//! AWS errors, classified so the engine decides retry versus fail in one place.

use std::fmt;

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The object does not exist (or is not visible yet).
    NotFound,
    /// An object with this identity exists already.
    AlreadyExists,
    /// Too many requests: retry later.
    Throttled,
    /// The object is in use or in a state that forbids the call (dependency violation,
    /// resource in use, delete conflict): retry once what holds it is gone.
    Conflict,
    /// The credentials may not make this call.
    AccessDenied,
    /// The request is invalid: retrying does not help.
    Invalid,
    /// AWS or the network failed (5xx, timeout, connection refused): retry.
    Unavailable,
    /// Something just made is not usable yet: AWS's eventual consistency (a new role
    /// that ECS cannot assume yet, a new instance profile that EC2 does not know yet).
    NotYetUsable,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// The kind of an AWS error from its code, HTTP status and message: as
    /// [`ErrorKind::classify`], and an invalid request that names a role or instance
    /// profile just made (IAM's changes take seconds to reach other services) is
    /// [`ErrorKind::NotYetUsable`].
    ///
    /// ```
    /// use ecs_kit::aws::ErrorKind;
    /// let m = "Value (arn:aws:iam::1:instance-profile/x) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN";
    /// assert_eq!(ErrorKind::classify_message(Some("InvalidParameterValue"), Some(400), m), ErrorKind::NotYetUsable);
    /// assert_eq!(ErrorKind::classify_message(Some("InvalidParameterValue"), Some(400), "bad port"), ErrorKind::Invalid);
    /// ```
    #[must_use]
    pub fn classify_message(code: Option<&str>, status: Option<u16>, message: &str) -> ErrorKind {
        let kind = ErrorKind::classify(code, status);
        let propagating = ["instance profile", "Instance Profile", "assume"].iter().any(|n| message.contains(n));
        if kind == ErrorKind::Invalid && propagating {
            ErrorKind::NotYetUsable
        } else {
            kind
        }
    }

    /// Whether a retry of the same call may succeed.
    #[must_use]
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }

    /// The kind of an AWS error from its code and HTTP status.
    ///
    /// ```
    /// use ecs_kit::aws::ErrorKind;
    /// assert_eq!(ErrorKind::classify(Some("InvalidVpcID.NotFound"), Some(400)), ErrorKind::NotFound);
    /// assert_eq!(ErrorKind::classify(Some("DependencyViolation"), Some(400)), ErrorKind::Conflict);
    /// assert_eq!(ErrorKind::classify(None, Some(503)), ErrorKind::Unavailable);
    /// ```
    #[must_use]
    pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
        let code = code.unwrap_or_default();
        let has = |needles: &[&str]| needles.iter().any(|n| code.contains(n));
        if has(&["Throttl", "RequestLimitExceeded", "TooManyRequests", "SlowDown"]) || status == Some(429) {
            ErrorKind::Throttled
        } else if has(&["NotFound", "NoSuchEntity", "NotFoundException"]) {
            ErrorKind::NotFound
        } else if has(&["AlreadyExists", "Duplicate", "EntityAlreadyExists", "RouteAlreadyExists"]) {
            ErrorKind::AlreadyExists
        } else if has(&[
            "DependencyViolation",
            "ResourceInUse",
            "DeleteConflict",
            "InUse",
            "ClusterContains",
            "ScalingActivityInProgress",
            "IncorrectState",
            "ConcurrentModification",
            "IdempotentParameterMismatch",
            "Conflict",
            "UpdateInProgress",
        ]) || status == Some(409)
        {
            ErrorKind::Conflict
        } else if has(&[
            "AccessDenied",
            "UnauthorizedOperation",
            "AuthFailure",
            "InvalidClientTokenId",
            "UnrecognizedClient",
            "ExpiredToken",
            "SignatureDoesNotMatch",
            "MissingAuthenticationToken",
        ]) || status == Some(403)
        {
            ErrorKind::AccessDenied
        } else if has(&["ServiceUnavailable", "InternalError", "InternalFailure", "ServerException", "Unavailable"])
            || status.is_some_and(|s| s >= 500)
        {
            ErrorKind::Unavailable
        } else if has(&["Invalid", "Validation", "Malformed", "MissingParameter", "ClientException", "BadRequest"])
            || status == Some(400)
        {
            ErrorKind::Invalid
        } else if status == Some(404) {
            ErrorKind::NotFound
        } else {
            ErrorKind::Other
        }
    }
}

impl ErrorKind {
    /// What a person can do about a failure of this kind.
    #[must_use]
    pub fn hint(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "a resource it needs is missing: run plan to see what apply would create",
            ErrorKind::AlreadyExists => {
                "an object of that name exists and is not this stack's: delete or rename it, or rename the stack"
            }
            ErrorKind::Throttled => "AWS is throttling the calls: run again with a lower --parallelism",
            ErrorKind::Conflict => "something still uses the object or it is changing: run again once it settles",
            ErrorKind::AccessDenied => {
                "the credentials lack this permission: grant it to the role or user running ecs-kit, or use --profile"
            }
            ErrorKind::Invalid => "AWS refused a value: check the declared value the message names",
            ErrorKind::Unavailable => {
                "AWS or the network failed: check the connection (and --endpoint-url), then run again; apply resumes"
            }
            ErrorKind::NotYetUsable => "AWS has not made a new object usable yet: run again in a minute",
            ErrorKind::Other => "run again; if it persists, report it with this message",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Conflict => "conflict",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::Invalid => "invalid request",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::NotYetUsable => "not yet usable",
            ErrorKind::Other => "error",
        })
    }
}

/// A failed AWS call: its kind, where it happened, and AWS's own code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service} {operation}: {kind}{}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(), message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
pub struct AwsError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// The AWS service, e.g. `ec2`.
    pub service: String,
    /// The operation, e.g. `CreateVpc`.
    pub operation: String,
    /// AWS's error code, when it sent one.
    pub code: Option<String>,
    /// AWS's message, when it sent one.
    pub message: Option<String>,
}

impl AwsError {
    /// An error of `kind` from `service`'s `operation`.
    #[must_use]
    pub fn new(kind: ErrorKind, service: &str, operation: &str, message: impl Into<String>) -> Self {
        AwsError {
            kind,
            service: service.to_owned(),
            operation: operation.to_owned(),
            code: None,
            message: Some(message.into()),
        }
    }

    /// The same error with AWS's code.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Whether the object was not found.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// [`AwsError::code`] of a call that found no credentials anywhere in the chain
    /// (environment, profile files, SSO, container or instance role); kind
    /// [`ErrorKind::AccessDenied`].
    pub const NO_CREDENTIALS: &'static str = "NoCredentials";
    /// [`AwsError::code`] of a call whose named profile (`--profile`, `AWS_PROFILE`) is
    /// in neither AWS file; kind [`ErrorKind::AccessDenied`].
    pub const PROFILE_NOT_FOUND: &'static str = "ProfileNotFound";
    /// [`AwsError::code`] of a call whose credentials provider failed (an expired SSO
    /// session, a failing `credential_process`, a profile AWS cannot use); kind
    /// [`ErrorKind::AccessDenied`].
    pub const CREDENTIALS_FAILED: &'static str = "CredentialsFailed";
    /// [`AwsError::code`] of a call that could not reach its endpoint (connection
    /// refused, no route, DNS); kind [`ErrorKind::Unavailable`].
    pub const UNREACHABLE: &'static str = "Unreachable";
    /// [`AwsError::code`] of a call that timed out; kind [`ErrorKind::Unavailable`].
    pub const TIMED_OUT: &'static str = "TimedOut";

    /// What a person can do about this failure: for credentials, profiles and
    /// endpoints, the fix of its very cause; otherwise [`ErrorKind::hint`].
    ///
    /// ```
    /// use ecs_kit::aws::{AwsError, ErrorKind};
    /// let e = AwsError::new(ErrorKind::AccessDenied, "ec2", "DescribeVpcs", "no credentials")
    ///     .with_code(AwsError::NO_CREDENTIALS);
    /// assert!(e.hint().starts_with("set AWS_PROFILE or pass --profile"));
    /// ```
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self.code.as_deref() {
            Some(AwsError::NO_CREDENTIALS) => {
                "set AWS_PROFILE or pass --profile, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run \
                 `aws configure` or `aws sso login`"
            }
            Some(AwsError::PROFILE_NOT_FOUND) => {
                "pass --profile (or set AWS_PROFILE to) a profile of ~/.aws/config or ~/.aws/credentials; \
                 `aws configure list-profiles` lists them"
            }
            Some(AwsError::CREDENTIALS_FAILED) => {
                "renew the credentials (`aws sso login` for an SSO profile) or fix the profile's settings, then \
                 run again"
            }
            Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired") => {
                "the credentials have expired: renew them (`aws sso login`, or fresh session credentials), then \
                 run again"
            }
            Some(
                "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "UnrecognizedClient"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature"
                | "AuthFailure"
                | "MissingAuthenticationToken",
            ) => {
                "AWS does not accept these credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
                 the profile (--profile, AWS_PROFILE)"
            }
            Some(AwsError::UNREACHABLE | AwsError::TIMED_OUT) => {
                "check the network connection, and the endpoint (--endpoint-url or AWS_ENDPOINT_URL) if one is \
                 set, then run again; apply resumes"
            }
            _ => self.kind.hint(),
        }
    }
}

/// The result of an AWS call.
pub type AwsResult<T> = Result<T, AwsError>;

#[cfg(test)]
mod tests {
    use super::ErrorKind::{self, *};

    #[test]
    fn classification_table() {
        let cases: &[(Option<&str>, Option<u16>, ErrorKind)] = &[
            (Some("InvalidSubnetID.NotFound"), Some(400), NotFound),
            (Some("NoSuchEntity"), Some(404), NotFound),
            (Some("ClusterNotFoundException"), Some(400), NotFound),
            (Some("ResourceNotFoundException"), Some(400), NotFound),
            (Some("LoadBalancerNotFound"), Some(400), NotFound),
            (Some("FileSystemNotFound"), Some(404), NotFound),
            (Some("EntityAlreadyExists"), Some(409), AlreadyExists),
            (Some("InvalidGroup.Duplicate"), Some(400), AlreadyExists),
            (Some("DuplicateTargetGroupName"), Some(400), AlreadyExists),
            (Some("ResourceAlreadyExistsException"), Some(400), AlreadyExists),
            (Some("FileSystemAlreadyExists"), Some(409), AlreadyExists),
            (Some("AlreadyExists"), Some(400), AlreadyExists),
            (Some("Throttling"), Some(400), Throttled),
            (Some("ThrottlingException"), Some(400), Throttled),
            (Some("RequestLimitExceeded"), Some(503), Throttled),
            (None, Some(429), Throttled),
            (Some("DependencyViolation"), Some(400), Conflict),
            (Some("ResourceInUse"), Some(400), Conflict),
            (Some("DeleteConflict"), Some(409), Conflict),
            (Some("FileSystemInUse"), Some(409), Conflict),
            (Some("ClusterContainsServicesException"), Some(400), Conflict),
            (Some("ScalingActivityInProgress"), Some(400), Conflict),
            (Some("PriorityInUse"), Some(400), Conflict),
            (Some("IdempotentParameterMismatch"), Some(400), Conflict),
            (Some("AccessDenied"), Some(403), AccessDenied),
            (Some("UnauthorizedOperation"), Some(403), AccessDenied),
            (Some("InvalidClientTokenId"), Some(403), AccessDenied),
            (Some("ValidationError"), Some(400), Invalid),
            (Some("InvalidParameterValue"), Some(400), Invalid),
            (Some("InvalidParameterException"), Some(400), Invalid),
            (Some("MalformedPolicyDocument"), Some(400), Invalid),
            (Some("ClientException"), Some(400), Invalid),
            (Some("InternalError"), Some(500), Unavailable),
            (Some("ServiceUnavailable"), Some(503), Unavailable),
            (None, Some(502), Unavailable),
            (None, None, Other),
            (Some("Weird"), Some(418), Other),
        ];
        for (code, status, kind) in cases {
            assert_eq!(ErrorKind::classify(*code, *status), *kind, "{code:?} {status:?}");
        }
    }

    #[test]
    fn transient_kinds() {
        assert!(Throttled.is_transient() && Unavailable.is_transient());
        assert!(!Invalid.is_transient() && !Conflict.is_transient() && !NotFound.is_transient());
    }

    #[test]
    fn credential_and_endpoint_failures_name_their_own_fix() {
        use super::AwsError;
        let hint = |code: &str| AwsError::new(AccessDenied, "ec2", "DescribeVpcs", "x").with_code(code).hint();
        assert!(hint(AwsError::NO_CREDENTIALS).contains("set AWS_PROFILE or pass --profile"));
        assert!(hint(AwsError::PROFILE_NOT_FOUND).contains("aws configure list-profiles"));
        assert!(hint("ExpiredToken").starts_with("the credentials have expired"));
        assert!(hint("ExpiredTokenException").starts_with("the credentials have expired"));
        assert!(hint("InvalidClientTokenId").starts_with("AWS does not accept these credentials"));
        assert!(hint(AwsError::UNREACHABLE).contains("--endpoint-url"));
        // Other denials keep the kind's hint: a permission is missing.
        assert_eq!(hint("AccessDenied"), AccessDenied.hint());
        assert_eq!(hint("UnauthorizedOperation"), AccessDenied.hint());
        assert_eq!(ErrorKind::classify(Some("ExpiredToken"), Some(400)), AccessDenied);
        assert_eq!(ErrorKind::classify(Some("UnrecognizedClientException"), Some(400)), AccessDenied);
    }

    #[test]
    fn display_keeps_code_and_message() {
        let e = super::AwsError::new(Conflict, "ec2", "DeleteVpc", "has dependencies").with_code("DependencyViolation");
        assert_eq!(e.to_string(), "ec2 DeleteVpc: conflict (DependencyViolation): has dependencies");
    }
}
