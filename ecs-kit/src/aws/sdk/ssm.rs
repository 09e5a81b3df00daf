//! SsmApi adapter (scaffolding: being written).
#![allow(unused_variables)]

use async_trait::async_trait;
use aws_sdk_ssm::Client;

use crate::aws::*;

/// [`SsmApi`] over `aws-sdk-ssm`.
#[derive(Debug, Clone)]
pub struct SsmSdk {
    #[allow(dead_code)]
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
        todo!("SsmSdk: not written yet")
    }
}
