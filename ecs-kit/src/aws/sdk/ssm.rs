//! SSM Parameter Store adapter (the public ECS-optimized AMI parameters).

use async_trait::async_trait;
use aws_sdk_ssm::Client;

use super::sdk_error;
use crate::aws::{AwsResult, SsmApi};

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
}
