//! SSM Parameter Store adapter (the public ECS-optimized AMI parameters, the stack lock).

use async_trait::async_trait;
use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;

use super::sdk_error;
use crate::aws::{AwsResult, ErrorKind, SsmApi};

const SERVICE: &str = "ssm";

/// [`SsmApi`] over `aws-sdk-ssm`.
#[derive(Debug, Clone)]
pub struct SsmSdk {
    client: Client,
}

impl SsmSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        SsmSdk { client }
    }
}

#[async_trait]
impl SsmApi for SsmSdk {
    async fn get_parameter(&self, name: String) -> AwsResult<Option<String>> {
        match self.client.get_parameter().name(name).send().await {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_owned)),
            Err(e) => {
                let e = sdk_error(SERVICE, "GetParameter", e);
                if e.code.as_deref() == Some("ParameterNotFound") || e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn put_parameter(&self, name: String, value: String, overwrite: bool) -> AwsResult<()> {
        let request =
            self.client.put_parameter().name(name).value(value).r#type(ParameterType::String).overwrite(overwrite);
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut e = sdk_error(SERVICE, "PutParameter", e);
                if e.code.as_deref() == Some("ParameterAlreadyExists") {
                    e.kind = ErrorKind::AlreadyExists;
                }
                Err(e)
            }
        }
    }

    async fn delete_parameter(&self, name: String) -> AwsResult<bool> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = sdk_error(SERVICE, "DeleteParameter", e);
                if e.code.as_deref() == Some("ParameterNotFound") || e.is_not_found() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
    use aws_sdk_ssm::types::error::ParameterNotFound;
    use aws_sdk_ssm::types::Parameter;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    #[tokio::test]
    async fn reads_a_parameter_and_treats_a_missing_one_as_none() {
        let found = mock!(Client::get_parameter).match_requests(|r| r.name() == Some("/ami")).then_output(|| {
            GetParameterOutput::builder()
                .parameter(Parameter::builder().name("/ami").value("ami-0123456789abcdef0").build())
                .build()
        });
        let missing = mock!(Client::get_parameter).then_error(|| {
            GetParameterError::ParameterNotFound(
                ParameterNotFound::builder().meta(ErrorMetadata::builder().code("ParameterNotFound").build()).build(),
            )
        });
        let ssm = SsmSdk::new(mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&found, &missing]));
        assert_eq!(ssm.get_parameter("/ami".into()).await.unwrap().as_deref(), Some("ami-0123456789abcdef0"));
        assert_eq!(ssm.get_parameter("/nope".into()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_create_only_write_of_an_existing_parameter_is_already_exists() {
        use aws_sdk_ssm::operation::delete_parameter::{DeleteParameterError, DeleteParameterOutput};
        use aws_sdk_ssm::operation::put_parameter::{PutParameterError, PutParameterOutput};
        use aws_sdk_ssm::types::error::ParameterAlreadyExists;

        let created = mock!(Client::put_parameter)
            .match_requests(|r| {
                r.name() == Some("/ecs-kit/shop/lock")
                    && r.overwrite() == Some(false)
                    && r.r#type() == Some(&ParameterType::String)
            })
            .then_output(|| PutParameterOutput::builder().version(1).build());
        let exists = mock!(Client::put_parameter).then_error(|| {
            PutParameterError::ParameterAlreadyExists(
                ParameterAlreadyExists::builder()
                    .meta(ErrorMetadata::builder().code("ParameterAlreadyExists").build())
                    .build(),
            )
        });
        let deleted = mock!(Client::delete_parameter)
            .match_requests(|r| r.name() == Some("/ecs-kit/shop/lock"))
            .then_output(|| DeleteParameterOutput::builder().build());
        let gone = mock!(Client::delete_parameter).then_error(|| {
            DeleteParameterError::ParameterNotFound(
                ParameterNotFound::builder().meta(ErrorMetadata::builder().code("ParameterNotFound").build()).build(),
            )
        });
        let ssm = SsmSdk::new(mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&created, &exists, &deleted, &gone]));
        ssm.put_parameter("/ecs-kit/shop/lock".into(), "{}".into(), false).await.unwrap();
        let e = ssm.put_parameter("/ecs-kit/shop/lock".into(), "{}".into(), false).await.unwrap_err();
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::AlreadyExists, Some("ParameterAlreadyExists")), "{e}");
        assert!(ssm.delete_parameter("/ecs-kit/shop/lock".into()).await.unwrap());
        assert!(!ssm.delete_parameter("/ecs-kit/shop/lock".into()).await.unwrap());
    }
}
