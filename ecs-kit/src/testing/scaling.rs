//! The fake's Application Auto Scaling: scalable targets of ECS services and their
//! target tracking policies. As in AWS, a target registers only for an active service,
//! registering again updates it, and deregistering deletes its policies.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{aws_error, push, Fake, FakeResource};
use crate::aws::{AwsResult, Found, ScalingApi, Tags};
use crate::graph::props::{ScalableTargetProps, ScalingPolicyProps};
use crate::graph::{RefOr, ResourceType};

const SERVICE: &str = "application-autoscaling";

#[derive(Debug, Clone)]
struct Target {
    props: ScalableTargetProps,
    arn: String,
    tags: Tags,
}

#[derive(Debug, Clone)]
struct Policy {
    props: ScalingPolicyProps,
    label: Option<String>,
    arn: String,
}

/// Targets by resource id; policies by resource id and name.
#[derive(Debug, Default)]
pub(crate) struct ScalingState {
    targets: BTreeMap<String, Target>,
    policies: BTreeMap<(String, String), Policy>,
}

impl ScalingState {
    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (id, t) in &self.targets {
            push(out, ResourceType::ScalableTarget, id, Some(id), None, &t.tags);
        }
        // Policies take no tags; shown with their target's, so a stack's snapshot has them.
        for (id, name) in self.policies.keys() {
            let tags = self.targets.get(id).map(|t| t.tags.clone()).unwrap_or_default();
            push(out, ResourceType::ScalingPolicy, name, Some(name), None, &tags);
        }
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> crate::aws::AwsError {
    aws_error(SERVICE, operation, code, message)
}

fn invalid(operation: &str, message: impl Into<String>) -> crate::aws::AwsError {
    err(operation, "ValidationException", message)
}

/// `service/CLUSTER/SERVICE` split, or a validation error.
fn service_of<'a>(operation: &str, resource_id: &'a str) -> AwsResult<(&'a str, &'a str)> {
    let mut parts = resource_id.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("service"), Some(cluster), Some(service), None) if !cluster.is_empty() && !service.is_empty() => {
            Ok((cluster, service))
        }
        _ => Err(invalid(operation, format!("Unsupported resource id {resource_id}"))),
    }
}

#[async_trait]
impl ScalingApi for Fake {
    async fn describe_scalable_targets(&self, resource_ids: Vec<String>) -> AwsResult<Vec<Found<ScalableTargetProps>>> {
        let s = self.begin(SERVICE, "DescribeScalableTargets").await?;
        Ok(resource_ids
            .iter()
            .filter_map(|id| s.scaling.targets.get(id))
            .map(|t| {
                let mut f = Found::new(
                    t.props.resource_id.clone(),
                    ScalableTargetProps { service_arn: RefOr::Value(String::new()), ..t.props.clone() },
                );
                f.arn = Some(t.arn.clone());
                f
            })
            .collect())
    }

    async fn register_scalable_target(&self, props: ScalableTargetProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "RegisterScalableTarget";
        let mut s = self.begin(SERVICE, OP).await?;
        let (cluster, service) = service_of(OP, &props.resource_id)?;
        if props.service_namespace != "ecs" || props.scalable_dimension != crate::graph::SCALABLE_DIMENSION {
            return Err(invalid(OP, "Unsupported service namespace, resource type or scalable dimension"));
        }
        if props.min_capacity > props.max_capacity {
            return Err(invalid(OP, "Minimum capacity cannot be greater than maximum capacity"));
        }
        if !s.ecs.has_active_service(cluster, service) {
            return Err(invalid(OP, format!("ECS service doesn't exist: {}", props.resource_id)));
        }
        let id = props.resource_id.clone();
        let arn = match s.scaling.targets.get(&id) {
            Some(t) => t.arn.clone(),
            None => {
                let n = s.hex(32);
                self.arn("application-autoscaling", &format!("scalable-target/{n}"))
            }
        };
        let tags = s.scaling.targets.get(&id).map_or(tags, |t| t.tags.clone());
        s.scaling.targets.insert(id, Target { props, arn: arn.clone(), tags });
        Ok(arn)
    }

    async fn deregister_scalable_target(&self, resource_id: String) -> AwsResult<()> {
        const OP: &str = "DeregisterScalableTarget";
        let mut s = self.begin(SERVICE, OP).await?;
        if s.scaling.targets.remove(&resource_id).is_none() {
            return Err(err(OP, "ObjectNotFoundException", format!("No scalable target found for {resource_id}")));
        }
        s.scaling.policies.retain(|(id, _), _| *id != resource_id);
        Ok(())
    }

    async fn describe_scaling_policies(&self, resource_id: String) -> AwsResult<Vec<Found<ScalingPolicyProps>>> {
        let s = self.begin(SERVICE, "DescribeScalingPolicies").await?;
        Ok(s.scaling
            .policies
            .iter()
            .filter(|((id, _), _)| *id == resource_id)
            .map(|(_, p)| {
                let mut f = Found::new(
                    p.props.policy_name.clone(),
                    ScalingPolicyProps { load_balancer_arn: None, target_group_arn: None, ..p.props.clone() },
                );
                f.arn = Some(p.arn.clone());
                if let Some(label) = &p.label {
                    f.attrs.insert("resource_label".into(), label.clone());
                }
                f
            })
            .collect())
    }

    async fn put_scaling_policy(&self, props: ScalingPolicyProps, resource_label: Option<String>) -> AwsResult<String> {
        const OP: &str = "PutScalingPolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.scaling.targets.contains_key(&props.resource_id) {
            return Err(err(
                OP,
                "ObjectNotFoundException",
                format!("No scalable target registered for {}", props.resource_id),
            ));
        }
        let requests = props.predefined_metric_type == "ALBRequestCountPerTarget";
        if requests != resource_label.is_some() {
            return Err(invalid(OP, "ResourceLabel is required for ALBRequestCountPerTarget, and only for it"));
        }
        let key = (props.resource_id.clone(), props.policy_name.clone());
        let arn = match s.scaling.policies.get(&key) {
            Some(p) => p.arn.clone(),
            None => {
                let n = s.hex(32);
                self.arn(
                    "autoscaling",
                    &format!("scalingPolicy:{n}:resource/ecs/{}:policyName/{}", props.resource_id, props.policy_name),
                )
            }
        };
        s.scaling.policies.insert(key, Policy { props, label: resource_label, arn: arn.clone() });
        Ok(arn)
    }

    async fn delete_scaling_policy(&self, policy_name: String, resource_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteScalingPolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        if s.scaling.policies.remove(&(resource_id.clone(), policy_name.clone())).is_none() {
            return Err(err(
                OP,
                "ObjectNotFoundException",
                format!("No scaling policy found: {policy_name} of {resource_id}"),
            ));
        }
        Ok(())
    }
}
