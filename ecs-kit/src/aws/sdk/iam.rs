//! IamApi adapter (scaffolding: being written).
#![allow(unused_variables)]

use async_trait::async_trait;
use aws_sdk_iam::Client;

use crate::aws::*;
use crate::graph::props::*;

/// [`IamApi`] over `aws-sdk-iam`.
#[derive(Debug, Clone)]
pub struct IamSdk {
    #[allow(dead_code)]
    client: Client,
}

impl IamSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        IamSdk { client }
    }
}

#[async_trait]
impl IamApi for IamSdk {
    async fn get_roles(&self, names: Vec<String>) -> AwsResult<Vec<Found<RoleProps>>> {
        todo!("IamSdk: not written yet")
    }

    async fn create_role(&self, props: RoleProps, tags: Tags) -> AwsResult<String> {
        todo!("IamSdk: not written yet")
    }

    async fn update_assume_role_policy(&self, role_name: String, document: serde_json::Value) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn update_role_description(&self, role_name: String, description: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn put_role_policy(
        &self,
        role_name: String,
        policy_name: String,
        document: serde_json::Value,
    ) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn delete_role_policy(&self, role_name: String, policy_name: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn attach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn detach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn tag_role(&self, role_name: String, tags: Tags) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn untag_role(&self, role_name: String, keys: Vec<String>) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn delete_role(&self, role_name: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn get_instance_profile(&self, name: String) -> AwsResult<Option<Found<InstanceProfileProps>>> {
        todo!("IamSdk: not written yet")
    }

    async fn create_instance_profile(&self, name: String, path: String, tags: Tags) -> AwsResult<String> {
        todo!("IamSdk: not written yet")
    }

    async fn add_role_to_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn remove_role_from_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }

    async fn delete_instance_profile(&self, name: String) -> AwsResult<()> {
        todo!("IamSdk: not written yet")
    }
}
