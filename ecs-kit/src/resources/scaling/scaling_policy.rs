//! `application-autoscaling:scaling-policy`: a target tracking policy of a service's
//! scalable target (CPU, memory, or the load balancer's requests per target).
//! PutScalingPolicy creates or replaces it in place.

use async_trait::async_trait;

use super::service_name;
use crate::aws::{AwsError, Found};
use crate::graph::props::ScalingPolicyProps;
use crate::graph::{scaling_policy_id, Graph, LogicalId, Properties, RefOr, Resource, ResourceType};
use crate::resources::{gone_ok, lit, step_error, Cx, Kind, LiveResource, Physical, PhysicalIndex, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct ScalingPolicy;

/// The metric key of a logical id from AWS's metric type.
fn metric_key(metric: &str) -> &'static str {
    match metric {
        "ECSServiceAverageMemoryUtilization" => "memory",
        "ALBRequestCountPerTarget" => "requests",
        _ => "cpu",
    }
}

/// Puts the policy, with the ALB resource label from the resolved ARNs.
async fn put(cx: &Cx<'_>, r: &Resource, p: ScalingPolicyProps) -> Result<Physical, StepError> {
    let label = match (&p.load_balancer_arn, &p.target_group_arn) {
        (Some(lb), Some(tg)) => {
            let (lb, tg) = (lit(lb)?, lit(tg)?);
            Some(
                ScalingPolicyProps::resource_label(&lb, &tg)
                    .ok_or_else(|| StepError::Fatal(format!("{}: no ALB resource label in {lb} and {tg}", r.id)))?,
            )
        }
        _ => None,
    };
    let name = p.policy_name.clone();
    let arn = cx.clients.scaling.put_scaling_policy(p, label).await.map_err(step_error)?;
    Ok(Physical { id: name.clone(), arn: Some(arn), name: Some(name), dns_name: None, digest: None })
}

#[async_trait]
impl Kind for ScalingPolicy {
    type Props = ScalingPolicyProps;
    const SCHEMA: Schema = Schema {
        read_after: &[ResourceType::ScalableTarget, ResourceType::LoadBalancer, ResourceType::TargetGroup],
        replace_on: &[
            "policy_name",
            "service_namespace",
            "resource_id",
            "scalable_dimension",
            "predefined_metric_type",
        ],
        ..Schema::new(Tagging::None, 0)
    };

    fn summary(p: &ScalingPolicyProps) -> String {
        let unit = if p.predefined_metric_type == "ALBRequestCountPerTarget" { " requests/min per task" } else { " %" };
        format!(
            "{} at {}{unit}, cooldowns in {} s / out {} s",
            p.predefined_metric_type, p.target_value, p.scale_in_cooldown, p.scale_out_cooldown
        )
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ScalingPolicyProps>, AwsError> {
        // The policies of the stack's own targets, named after the stack.
        let prefix = format!("{}-", cx.stack.name);
        let arns = |t: ResourceType| -> Vec<String> { cx.earlier(t).filter_map(|f| f.arn.clone()).collect() };
        let (lbs, tgs) = (arns(ResourceType::LoadBalancer), arns(ResourceType::TargetGroup));
        let mut read = Read::default();
        for target in cx.earlier(ResourceType::ScalableTarget) {
            let Properties::ScalableTarget(t) = &target.props else { continue };
            for mut p in cx.clients.scaling.describe_scaling_policies(t.resource_id.clone()).await? {
                if !p.props.policy_name.starts_with(&prefix) {
                    continue;
                }
                // `app/NAME/ID/targetgroup/NAME/ID`: back to the two ARNs it was made of.
                if let Some(label) = p.attrs.get("resource_label") {
                    let lb =
                        lbs.iter().find(|a| a.split_once(":loadbalancer/").is_some_and(|(_, t)| label.starts_with(t)));
                    let tg = tgs.iter().find(|a| a.rsplit_once(':').is_some_and(|(_, t)| label.ends_with(t)));
                    p.props.load_balancer_arn = Some(RefOr::Value(lb.cloned().unwrap_or_default()));
                    p.props.target_group_arn = Some(RefOr::Value(tg.cloned().unwrap_or_default()));
                }
                read.found.push(p);
            }
        }
        Ok(read)
    }

    fn identify(found: &Found<ScalingPolicyProps>, _graph: &Graph, _index: &PhysicalIndex<'_>) -> Option<LogicalId> {
        let p = &found.props;
        Some(scaling_policy_id(service_name(&p.resource_id), metric_key(&p.predefined_metric_type)))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ScalingPolicyProps) -> Result<Physical, StepError> {
        put(cx, r, p).await
    }

    async fn update(
        cx: &Cx<'_>,
        r: &Resource,
        _live: &LiveResource,
        w: ScalingPolicyProps,
        _h: ScalingPolicyProps,
    ) -> Result<Option<Physical>, StepError> {
        put(cx, r, w).await?;
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: ScalingPolicyProps) -> Result<(), StepError> {
        gone_ok(cx.clients.scaling.delete_scaling_policy(p.policy_name, p.resource_id).await)
    }
}
