//! Application Auto Scaling adapter (ECS services' task counts).

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalableTarget, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client;

use super::{err, tag_pairs};
use crate::aws::{AwsError, AwsResult, ErrorKind, Found, ScalingApi, Tags};
use crate::graph::props::{ScalableTargetProps, ScalingPolicyProps};
use crate::graph::RefOr;

const SERVICE: &str = "application-autoscaling";
/// DescribeScalableTargets takes at most 50 resource ids.
const TARGETS_PER_CALL: usize = 50;

/// [`ScalingApi`] over `aws-sdk-applicationautoscaling`.
#[derive(Debug, Clone)]
pub struct ScalingSdk {
    client: Client,
}

impl ScalingSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        ScalingSdk { client }
    }
}

fn dimension() -> ScalableDimension {
    ScalableDimension::from(crate::graph::SCALABLE_DIMENSION)
}

fn uint(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A "no such target/policy" answered as a validation error (as some implementations,
/// moto among them, do) is a not-found.
fn not_found_too(e: AwsError) -> AwsError {
    let message = e.message.as_deref().unwrap_or_default();
    if e.kind == ErrorKind::Invalid && (message.contains("No scalable target") || message.contains("No scaling policy"))
    {
        AwsError { kind: ErrorKind::NotFound, ..e }
    } else {
        e
    }
}

fn target_props(t: &ScalableTarget) -> Found<ScalableTargetProps> {
    let mut found = Found::new(
        t.resource_id(),
        ScalableTargetProps {
            service_namespace: t.service_namespace().as_str().to_owned(),
            resource_id: t.resource_id().to_owned(),
            scalable_dimension: t.scalable_dimension().as_str().to_owned(),
            min_capacity: uint(t.min_capacity()),
            max_capacity: uint(t.max_capacity()),
            // The service the target scales, by its resource id; the kind maps it.
            service_arn: RefOr::Value(String::new()),
        },
    );
    found.arn = t.scalable_target_arn().map(str::to_owned);
    found
}

fn policy_props(p: &ScalingPolicy) -> Found<ScalingPolicyProps> {
    let tt = p.target_tracking_scaling_policy_configuration();
    let predefined = tt.and_then(TargetTrackingScalingPolicyConfiguration::predefined_metric_specification);
    let cooldown = |c: Option<i32>| c.map_or(0, uint);
    let mut found = Found::new(
        p.policy_name(),
        ScalingPolicyProps {
            policy_name: p.policy_name().to_owned(),
            service_namespace: p.service_namespace().as_str().to_owned(),
            resource_id: p.resource_id().to_owned(),
            scalable_dimension: p.scalable_dimension().as_str().to_owned(),
            predefined_metric_type: predefined
                .map(|m| m.predefined_metric_type().as_str().to_owned())
                .unwrap_or_default(),
            // Targets are whole numbers in the graph.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            target_value: tt.map_or(0, |t| t.target_value().round().max(0.0) as u32),
            scale_in_cooldown: cooldown(tt.and_then(TargetTrackingScalingPolicyConfiguration::scale_in_cooldown)),
            scale_out_cooldown: cooldown(tt.and_then(TargetTrackingScalingPolicyConfiguration::scale_out_cooldown)),
            load_balancer_arn: None,
            target_group_arn: None,
        },
    );
    found.arn = Some(p.policy_arn().to_owned());
    if let Some(label) = predefined.and_then(PredefinedMetricSpecification::resource_label) {
        found.attrs.insert("resource_label".into(), label.to_owned());
    }
    found
}

#[async_trait]
impl ScalingApi for ScalingSdk {
    async fn describe_scalable_targets(&self, resource_ids: Vec<String>) -> AwsResult<Vec<Found<ScalableTargetProps>>> {
        let mut found = Vec::new();
        for batch in resource_ids.chunks(TARGETS_PER_CALL) {
            let targets = self
                .client
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .set_resource_ids(Some(batch.to_vec()))
                .scalable_dimension(dimension())
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(err(SERVICE, "DescribeScalableTargets"))?;
            found.extend(targets.iter().map(target_props));
        }
        Ok(found)
    }

    async fn register_scalable_target(&self, props: ScalableTargetProps, tags: Tags) -> AwsResult<String> {
        let mut call = self
            .client
            .register_scalable_target()
            .service_namespace(ServiceNamespace::from(props.service_namespace.as_str()))
            .resource_id(props.resource_id)
            .scalable_dimension(ScalableDimension::from(props.scalable_dimension.as_str()))
            .min_capacity(int(props.min_capacity))
            .max_capacity(int(props.max_capacity));
        for (k, v) in tag_pairs(&tags) {
            call = call.tags(k, v);
        }
        let out = call.send().await.map_err(err(SERVICE, "RegisterScalableTarget"))?;
        Ok(out.scalable_target_arn().unwrap_or_default().to_owned())
    }

    async fn deregister_scalable_target(&self, resource_id: String) -> AwsResult<()> {
        self.client
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(dimension())
            .send()
            .await
            .map_err(|e| not_found_too(err(SERVICE, "DeregisterScalableTarget")(e)))?;
        Ok(())
    }

    async fn describe_scaling_policies(&self, resource_id: String) -> AwsResult<Vec<Found<ScalingPolicyProps>>> {
        let policies = self
            .client
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(dimension())
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeScalingPolicies"))?;
        Ok(policies.iter().map(policy_props).collect())
    }

    async fn put_scaling_policy(&self, props: ScalingPolicyProps, resource_label: Option<String>) -> AwsResult<String> {
        const OP: &str = "PutScalingPolicy";
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(props.predefined_metric_type.as_str()))
            .set_resource_label(resource_label)
            .build()
            .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, OP, e.to_string()))?;
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(f64::from(props.target_value))
            .predefined_metric_specification(metric)
            .scale_in_cooldown(int(props.scale_in_cooldown))
            .scale_out_cooldown(int(props.scale_out_cooldown))
            .build()
            .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, OP, e.to_string()))?;
        let out = self
            .client
            .put_scaling_policy()
            .policy_name(props.policy_name)
            .service_namespace(ServiceNamespace::from(props.service_namespace.as_str()))
            .resource_id(props.resource_id)
            .scalable_dimension(ScalableDimension::from(props.scalable_dimension.as_str()))
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(out.policy_arn().to_owned())
    }

    async fn delete_scaling_policy(&self, policy_name: String, resource_id: String) -> AwsResult<()> {
        self.client
            .delete_scaling_policy()
            .policy_name(policy_name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(dimension())
            .send()
            .await
            .map_err(|e| not_found_too(err(SERVICE, "DeleteScalingPolicy")(e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
    use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    use super::*;

    fn policy() -> ScalingPolicyProps {
        ScalingPolicyProps {
            policy_name: "shop-web-requests".into(),
            service_namespace: "ecs".into(),
            resource_id: "service/shop/web".into(),
            scalable_dimension: "ecs:service:DesiredCount".into(),
            predefined_metric_type: "ALBRequestCountPerTarget".into(),
            target_value: 1000,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            load_balancer_arn: None,
            target_group_arn: None,
        }
    }

    const LABEL: &str = "app/shop/50dc6c495c0c9188/targetgroup/shop-web/943f017f100becff";

    #[tokio::test]
    async fn put_scaling_policy_sends_target_tracking_with_the_label() {
        let put = mock!(Client::put_scaling_policy)
            .match_requests(|r| {
                let c = r.target_tracking_scaling_policy_configuration().expect("target tracking");
                let m = c.predefined_metric_specification().expect("predefined");
                r.policy_type() == Some(&PolicyType::TargetTrackingScaling)
                    && r.resource_id() == Some("service/shop/web")
                    && c.target_value() == 1000.0
                    && c.scale_in_cooldown() == Some(300)
                    && c.scale_out_cooldown() == Some(60)
                    && m.predefined_metric_type() == &MetricType::AlbRequestCountPerTarget
                    && m.resource_label() == Some(LABEL)
            })
            .then_output(|| PutScalingPolicyOutput::builder().policy_arn("arn:policy").build().expect("output"));
        let sdk = ScalingSdk::new(mock_client!(aws_sdk_applicationautoscaling, RuleMode::MatchAny, [&put]));
        let arn = sdk.put_scaling_policy(policy(), Some(LABEL.into())).await.expect("put");
        assert_eq!(arn, "arn:policy");
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn describe_scaling_policies_reads_back_what_put_sends() {
        let read = mock!(Client::describe_scaling_policies).then_output(|| {
            let metric = PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::AlbRequestCountPerTarget)
                .resource_label(LABEL)
                .build()
                .expect("metric");
            let config = TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(1000.0)
                .predefined_metric_specification(metric)
                .scale_in_cooldown(300)
                .scale_out_cooldown(60)
                .build()
                .expect("config");
            DescribeScalingPoliciesOutput::builder()
                .scaling_policies(
                    ScalingPolicy::builder()
                        .policy_arn("arn:policy")
                        .policy_name("shop-web-requests")
                        .service_namespace(ServiceNamespace::Ecs)
                        .resource_id("service/shop/web")
                        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                        .policy_type(PolicyType::TargetTrackingScaling)
                        .target_tracking_scaling_policy_configuration(config)
                        .creation_time(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .expect("policy"),
                )
                .build()
        });
        let sdk = ScalingSdk::new(mock_client!(aws_sdk_applicationautoscaling, RuleMode::MatchAny, [&read]));
        let found = sdk.describe_scaling_policies("service/shop/web".into()).await.expect("read");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].props, policy());
        assert_eq!(found[0].attrs.get("resource_label").map(String::as_str), Some(LABEL));
        assert_eq!(found[0].arn.as_deref(), Some("arn:policy"));
    }
}
