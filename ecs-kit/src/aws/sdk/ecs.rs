//! EcsApi adapter (scaffolding: being written).
#![allow(unused_variables)]

use async_trait::async_trait;
use aws_sdk_ecs::Client;

use crate::aws::*;
use crate::graph::props::*;

/// [`EcsApi`] over `aws-sdk-ecs`.
#[derive(Debug, Clone)]
pub struct EcsSdk {
    #[allow(dead_code)]
    client: Client,
}

impl EcsSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        EcsSdk { client }
    }
}

#[async_trait]
impl EcsApi for EcsSdk {
    async fn describe_capacity_providers(&self, names: Vec<String>) -> AwsResult<Vec<Found<CapacityProviderProps>>> {
        todo!("EcsSdk: not written yet")
    }

    async fn create_capacity_provider(&self, props: CapacityProviderProps, tags: Tags) -> AwsResult<String> {
        todo!("EcsSdk: not written yet")
    }

    async fn update_capacity_provider(&self, props: CapacityProviderProps) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn delete_capacity_provider(&self, name: String) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn describe_clusters(&self, names: Vec<String>) -> AwsResult<Vec<Found<ClusterProps>>> {
        todo!("EcsSdk: not written yet")
    }

    async fn create_cluster(&self, props: ClusterProps, tags: Tags) -> AwsResult<String> {
        todo!("EcsSdk: not written yet")
    }

    async fn update_cluster_settings(&self, cluster: String, container_insights: String) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: String,
        providers: Vec<String>,
        strategy: Vec<StrategyItem>,
    ) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn delete_cluster(&self, cluster: String) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn describe_task_definition(&self, task_definition: String) -> AwsResult<Option<Found<TaskDefinitionProps>>> {
        todo!("EcsSdk: not written yet")
    }

    async fn register_task_definition(&self, props: TaskDefinitionProps, tags: Tags) -> AwsResult<String> {
        todo!("EcsSdk: not written yet")
    }

    async fn list_task_definitions(&self, family: String, status: String) -> AwsResult<Vec<String>> {
        todo!("EcsSdk: not written yet")
    }

    async fn deregister_task_definition(&self, arn: String) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn delete_task_definitions(&self, arns: Vec<String>) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn list_services(&self, cluster: String) -> AwsResult<Vec<String>> {
        todo!("EcsSdk: not written yet")
    }

    async fn describe_services(&self, cluster: String, names: Vec<String>) -> AwsResult<Vec<LiveService>> {
        todo!("EcsSdk: not written yet")
    }

    async fn create_service(&self, props: ServiceProps, client_token: String, tags: Tags) -> AwsResult<String> {
        todo!("EcsSdk: not written yet")
    }

    async fn update_service(&self, update: ServiceUpdate) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn delete_service(&self, cluster: String, service: String, force: bool) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }

    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()> {
        todo!("EcsSdk: not written yet")
    }
}
