//! ElbApi adapter (scaffolding: being written).
#![allow(unused_variables)]

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::Client;

use crate::aws::*;
use crate::graph::props::*;

/// [`ElbApi`] over `aws-sdk-elasticloadbalancingv2`.
#[derive(Debug, Clone)]
pub struct ElbSdk {
    #[allow(dead_code)]
    client: Client,
}

impl ElbSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        ElbSdk { client }
    }
}

#[async_trait]
impl ElbApi for ElbSdk {
    async fn describe_load_balancers(&self, names: Vec<String>) -> AwsResult<Vec<Found<LoadBalancerProps>>> {
        todo!("ElbSdk: not written yet")
    }

    async fn create_load_balancer(&self, props: LoadBalancerProps, tags: Tags) -> AwsResult<(String, String)> {
        todo!("ElbSdk: not written yet")
    }

    async fn set_idle_timeout(&self, arn: String, seconds: u32) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn set_security_groups(&self, arn: String, group_ids: Vec<String>) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn set_subnets(&self, arn: String, subnet_ids: Vec<String>) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn delete_load_balancer(&self, arn: String) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn describe_target_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<TargetGroupProps>>> {
        todo!("ElbSdk: not written yet")
    }

    async fn create_target_group(&self, props: TargetGroupProps, tags: Tags) -> AwsResult<String> {
        todo!("ElbSdk: not written yet")
    }

    async fn modify_target_group(&self, arn: String, health_check: TargetHealthCheck) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn set_deregistration_delay(&self, arn: String, seconds: u32) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn delete_target_group(&self, arn: String) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn describe_target_health(&self, arn: String) -> AwsResult<Vec<TargetHealth>> {
        todo!("ElbSdk: not written yet")
    }

    async fn describe_listeners(&self, load_balancer_arn: String) -> AwsResult<Vec<Found<ListenerProps>>> {
        todo!("ElbSdk: not written yet")
    }

    async fn create_listener(&self, props: ListenerProps, tags: Tags) -> AwsResult<String> {
        todo!("ElbSdk: not written yet")
    }

    async fn modify_listener(&self, arn: String, props: ListenerProps) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn delete_listener(&self, arn: String) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn describe_rules(&self, listener_arn: String) -> AwsResult<Vec<Found<ListenerRuleProps>>> {
        todo!("ElbSdk: not written yet")
    }

    async fn create_rule(&self, props: ListenerRuleProps, tags: Tags) -> AwsResult<String> {
        todo!("ElbSdk: not written yet")
    }

    async fn modify_rule(&self, arn: String, props: ListenerRuleProps) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn set_rule_priorities(&self, priorities: Vec<(String, u32)>) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn delete_rule(&self, arn: String) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn add_tags(&self, arns: Vec<String>, tags: Tags) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }

    async fn remove_tags(&self, arns: Vec<String>, keys: Vec<String>) -> AwsResult<()> {
        todo!("ElbSdk: not written yet")
    }
}
