//! The real adapters over the official `aws-sdk-*` crates.
//!
//! Each adapter wraps one SDK client, so a test can hand it a client mocked with
//! `aws-smithy-mocks`; [`Clients::from_env`] builds all of them from `aws-config`
//! (profile, region, credentials chain, `AWS_ENDPOINT_URL`) with a call counter.

mod autoscaling;
mod ec2;
mod ecs;
mod efs;
mod elb;
mod iam;
mod logs;
mod scaling;
mod ssm;
mod tagging;

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use autoscaling::AutoScalingSdk;
pub use ec2::Ec2Sdk;
pub use ecs::EcsSdk;
pub use efs::EfsSdk;
pub use elb::ElbSdk;
pub use iam::IamSdk;
pub use logs::LogsSdk;
pub use scaling::ScalingSdk;
pub use ssm::SsmSdk;
pub use tagging::TaggingSdk;

use super::{AwsError, CallCounter, Clients, ErrorKind};

/// Where and as whom to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// The region (the stack's).
    pub region: String,
    /// A credentials profile; `None` follows `AWS_PROFILE`, then `default`.
    pub profile: Option<String>,
    /// An endpoint for every service (a local emulator); `None` follows `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
}

/// Counts every SDK operation (each page of a paginated call is one) and the time
/// until its answer (retries included).
#[derive(Debug, Clone)]
struct Counting(CallCounter);

/// When the operation started, kept in its configuration bag.
#[derive(Debug, Clone)]
struct Started(std::time::Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Counting {
    fn name(&self) -> &'static str {
        "ecs-kit-call-counter"
    }

    // Not `read_before_execution`: client-level interceptors run that hook before the
    // operation's configuration (and its `Metadata`) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.0.record(metadata.service(), metadata.name());
        }
        cfg.interceptor_state().store_put(Started(std::time::Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(metadata), Some(started)) = (cfg.load::<Metadata>(), cfg.load::<Started>()) {
            self.0.record_time(metadata.service(), started.0.elapsed());
        }
        Ok(())
    }
}

/// Loads the shared SDK configuration for `options`.
pub async fn load_config(options: &ConnectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(options.region.clone()));
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

impl Clients {
    /// The real adapters, configured from the environment as the AWS CLI is
    /// (credentials chain, profile, `AWS_ENDPOINT_URL`), in `options.region`; every
    /// call is counted in [`Clients::calls`].
    pub async fn from_env(options: &ConnectOptions) -> Clients {
        Clients::from_config(&load_config(options).await)
    }

    /// The real adapters over an SDK configuration you loaded yourself.
    #[must_use]
    pub fn from_config(config: &SdkConfig) -> Clients {
        let calls = CallCounter::default();
        let counting = Counting(calls.clone());
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf($sdk::config::Builder::from(config).interceptor(counting.clone()).build())
            };
        }
        Clients {
            region: config.region().map(ToString::to_string).unwrap_or_default(),
            ec2: Arc::new(Ec2Sdk::new(client!(aws_sdk_ec2))),
            ecs: Arc::new(EcsSdk::new(client!(aws_sdk_ecs))),
            elb: Arc::new(ElbSdk::new(client!(aws_sdk_elasticloadbalancingv2))),
            efs: Arc::new(EfsSdk::new(client!(aws_sdk_efs))),
            iam: Arc::new(IamSdk::new(client!(aws_sdk_iam))),
            logs: Arc::new(LogsSdk::new(client!(aws_sdk_cloudwatchlogs))),
            ssm: Arc::new(SsmSdk::new(client!(aws_sdk_ssm))),
            autoscaling: Arc::new(AutoScalingSdk::new(client!(aws_sdk_autoscaling))),
            scaling: Arc::new(ScalingSdk::new(client!(aws_sdk_applicationautoscaling))),
            tagging: Arc::new(TaggingSdk::new(client!(aws_sdk_resourcegroupstagging))),
            calls,
        }
    }
}

/// Maps an SDK error to a classified [`AwsError`], keeping AWS's code and message. A
/// failure before AWS answered (no credentials, an unknown profile, an unreachable
/// endpoint, a timeout) gets one of the codes [`AwsError::NO_CREDENTIALS`], ... and a
/// one-line message; the SDK's full detail is logged at `debug` level (`-v`).
pub(crate) fn sdk_error<E>(service: &str, operation: &str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    tracing::debug!(service, operation, "AWS call failed: {}", DisplayErrorContext(&err));
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (kind, code, message) = match &err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let code = err.code().map(str::to_owned);
            let message = err.message().map(str::to_owned).or_else(|| Some(causes(&err)));
            let kind = ErrorKind::classify_message(code.as_deref(), status, message.as_deref().unwrap_or_default());
            (kind, code, message)
        }
        SdkError::TimeoutError(_) => {
            (ErrorKind::Unavailable, Some(AwsError::TIMED_OUT.to_owned()), Some("the call timed out".to_owned()))
        }
        _ => {
            let (kind, code, message) = before_aws(&err);
            (kind, code.map(str::to_owned), Some(message))
        }
    };
    AwsError { kind, service: service.to_owned(), operation: operation.to_owned(), code, message }
}

/// The kind, ecs-kit code and one-line message of a failure before AWS answered.
fn before_aws(err: &(dyn std::error::Error + 'static)) -> (ErrorKind, Option<&'static str>, String) {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    let chain = || std::iter::successors(Some(err), |e| e.source());
    if let Some(credentials) = chain().find_map(|e| e.downcast_ref::<CredentialsError>()) {
        return match credentials {
            CredentialsError::CredentialsNotLoaded(_) => {
                // The chain's error keeps each provider's reason only in its debug form.
                let detail = format!("{credentials:?}");
                match profile_not_defined(&detail) {
                    Some(profile) => (
                        ErrorKind::AccessDenied,
                        Some(AwsError::PROFILE_NOT_FOUND),
                        format!("the profile `{profile}` is not defined in ~/.aws/config or ~/.aws/credentials"),
                    ),
                    None => (
                        ErrorKind::AccessDenied,
                        Some(AwsError::NO_CREDENTIALS),
                        "no AWS credentials were found in the environment, the profile files, SSO or an instance \
                         or container role"
                            .to_owned(),
                    ),
                }
            }
            CredentialsError::ProviderTimedOut(_) => {
                (ErrorKind::Unavailable, Some(AwsError::TIMED_OUT), "loading the AWS credentials timed out".to_owned())
            }
            _ => (
                ErrorKind::AccessDenied,
                Some(AwsError::CREDENTIALS_FAILED),
                format!("the AWS credentials could not be loaded: {}", causes(credentials)),
            ),
        };
    }
    let connector = chain().find_map(|e| e.downcast_ref::<ConnectorError>());
    if connector.is_some_and(ConnectorError::is_timeout) {
        return (ErrorKind::Unavailable, Some(AwsError::TIMED_OUT), "the call timed out".to_owned());
    }
    match connector {
        Some(c) if c.is_io() => (
            ErrorKind::Unavailable,
            Some(AwsError::UNREACHABLE),
            format!("cannot reach the endpoint: {}", chain().last().map(ToString::to_string).unwrap_or_default()),
        ),
        _ => (ErrorKind::Unavailable, None, causes(err)),
    }
}

/// The profile named in the credentials chain's "profile `NAME` was not defined".
fn profile_not_defined(detail: &str) -> Option<&str> {
    let rest = &detail[detail.find("profile `")? + "profile `".len()..];
    let (name, after) = rest.split_once('`')?;
    after.starts_with(" was not defined").then_some(name)
}

/// An error and its sources, `: `-separated, without the SDK's debug dump; a source
/// that only repeats its parent's text is left out.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in std::iter::successors(Some(err), |e| e.source()) {
        let text = e.to_string();
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// `Result::map_err` into [`sdk_error`]: `.await.map_err(err("ec2", "CreateVpc"))?`.
pub(crate) fn err<E>(service: &'static str, operation: &'static str) -> impl Fn(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| sdk_error(service, operation, e)
}

/// An error for an AWS answer that lacks a field the adapter needs.
#[allow(dead_code)] // used by the adapters being written
pub(crate) fn missing(service: &str, operation: &str, field: &str) -> AwsError {
    AwsError::new(ErrorKind::Other, service, operation, format!("the response has no {field}"))
}

/// `(key, value)` pairs of tags, sorted (for SDK tag builders).
pub(crate) fn tag_pairs(tags: &super::Tags) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_and_errors_are_wired_per_service() {
        // A client built from a config with a dead endpoint fails fast with Unavailable;
        // the call was counted.
        let config = SdkConfig::builder()
            .region(Region::new("us-west-2"))
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::for_tests(),
            ))
            .build();
        let clients = Clients::from_config(&config);
        assert_eq!(clients.region, "us-west-2");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = rt.block_on(clients.logs.describe_log_groups("/x".into())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
        assert_eq!(err.operation, "DescribeLogGroups");
        // One line naming the cause, not the SDK's debug dump.
        assert_eq!(err.code.as_deref(), Some(AwsError::UNREACHABLE), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("logs DescribeLogGroups: unavailable (Unreachable): cannot reach the endpoint: "),
            "{text}"
        );
        assert!(text.to_lowercase().contains("connection refused"), "{text}");
        assert!(
            !text.contains('\n') && !text.contains("DispatchFailure") && !text.contains("ConnectorError"),
            "{text}"
        );
        assert!(err.hint().contains("--endpoint-url"));
        let calls = clients.calls.snapshot();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].operation, "DescribeLogGroups");
    }

    /// A credentials provider that fails as `make` says.
    #[derive(Debug)]
    struct Failing(fn() -> aws_credential_types::provider::error::CredentialsError);

    impl aws_credential_types::provider::ProvideCredentials for Failing {
        fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err((self.0)()))
        }
    }

    fn failing_call(make: fn() -> aws_credential_types::provider::error::CredentialsError) -> AwsError {
        let config = SdkConfig::builder()
            .region(Region::new("us-west-2"))
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Failing(make)))
            .build();
        let clients = Clients::from_config(&config);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(clients.ssm.get_parameter("/x".into())).unwrap_err()
    }

    #[test]
    fn credential_failures_name_their_cause_in_one_line() {
        use aws_credential_types::provider::error::CredentialsError;
        let e = failing_call(|| CredentialsError::not_loaded("no providers in chain provided credentials"));
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::AccessDenied, Some(AwsError::NO_CREDENTIALS)), "{e}");
        assert_eq!(
            e.to_string(),
            "ssm GetParameter: access denied (NoCredentials): no AWS credentials were found in the environment, \
             the profile files, SSO or an instance or container role"
        );
        assert!(!e.kind.is_transient(), "a missing credential is not retried");

        let e = failing_call(|| {
            CredentialsError::not_loaded("profile `staging` was not defined: could not find source profile")
        });
        assert_eq!(e.code.as_deref(), Some(AwsError::PROFILE_NOT_FOUND), "{e}");
        assert!(
            e.to_string().ends_with("the profile `staging` is not defined in ~/.aws/config or ~/.aws/credentials"),
            "{e}"
        );

        let e = failing_call(|| CredentialsError::provider_error("the SSO session has expired"));
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::AccessDenied, Some(AwsError::CREDENTIALS_FAILED)), "{e}");
        assert!(e.to_string().contains("the AWS credentials could not be loaded: "), "{e}");
        assert!(e.to_string().contains("the SSO session has expired"), "{e}");
        assert!(e.hint().contains("aws sso login"));
    }

    #[test]
    fn the_profile_name_is_read_from_the_chain_detail() {
        assert_eq!(profile_not_defined("x: profile `dev-1` was not defined: y"), Some("dev-1"));
        assert_eq!(profile_not_defined("profile `dev` had no credentials"), None);
        assert_eq!(profile_not_defined("nothing"), None);
    }
}
