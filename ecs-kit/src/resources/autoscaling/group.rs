//! `autoscaling:group` of ECS-optimized instances in the private subnets.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::ErrorKind;
use crate::graph::props::AutoScalingGroupProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{adopt, gone_ok, step_error, until_gone, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Group;

#[async_trait]
impl Kind for Group {
    type Props = AutoScalingGroupProps;
    const SCHEMA: Schema = Schema { replace_on: &["auto_scaling_group_name"], ..Schema::new(Tagging::AutoScaling, 5) };

    fn normalise(w: &mut AutoScalingGroupProps, h: &AutoScalingGroupProps, _ctx: &Context) {
        if w.desired_capacity_managed_by_ecs {
            w.desired_capacity = h.desired_capacity;
        }
    }

    fn declared(live: &mut AutoScalingGroupProps, desired: &AutoScalingGroupProps) {
        live.desired_capacity_managed_by_ecs = desired.desired_capacity_managed_by_ecs;
    }

    fn summary(p: &AutoScalingGroupProps) -> String {
        format!("{}..{} instances, {} at start", p.min_size, p.max_size, p.desired_capacity)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<AutoScalingGroupProps>, AwsError> {
        let names = cx.desired_name("autoscaling-group").into_iter().collect();
        let found = cx.clients.autoscaling.describe_auto_scaling_groups(names).await?;
        Ok(cx.by_name("autoscaling-group", ResourceType::AutoScalingGroup, found))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: AutoScalingGroupProps) -> Result<Physical, StepError> {
        let autoscaling = &cx.clients.autoscaling;
        let group = p.auto_scaling_group_name.clone();
        match autoscaling.create_auto_scaling_group(p.clone(), r.tags.clone()).await {
            // A retry after the group was made (it was not visible yet, or a later call
            // of this step failed).
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                let found = autoscaling.describe_auto_scaling_groups(vec![group.clone()]).await.map_err(step_error)?;
                adopt(e, found.first().map(|g| &g.tags), cx.stack)?;
            }
            other => other.map_err(step_error)?,
        }
        // Some implementations (moto) ignore a grace period of 0 on create.
        autoscaling.update_auto_scaling_group(p, false).await.map_err(step_error)?;
        let found = autoscaling.describe_auto_scaling_groups(vec![group.clone()]).await.map_err(step_error)?;
        let arn = found
            .first()
            .and_then(|g| g.arn.clone())
            .ok_or_else(|| StepError::Retryable(format!("group {group} not visible yet")))?;
        Ok(Physical { id: group.clone(), arn: Some(arn), name: Some(group), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: AutoScalingGroupProps,
        h: AutoScalingGroupProps,
    ) -> Result<Option<Physical>, StepError> {
        // The desired capacity is written only when the declaration owns it and it changed.
        let set_desired = !w.desired_capacity_managed_by_ecs && w.desired_capacity != h.desired_capacity;
        let mut comparable = w.clone();
        if !set_desired {
            comparable.desired_capacity = h.desired_capacity;
        }
        if comparable != h {
            cx.clients.autoscaling.update_auto_scaling_group(w, set_desired).await.map_err(step_error)?;
        }
        Ok(None)
    }

    /// Its instances are terminated with it.
    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: AutoScalingGroupProps) -> Result<(), StepError> {
        let autoscaling = &cx.clients.autoscaling;
        let name = p.auto_scaling_group_name;
        gone_ok(autoscaling.delete_auto_scaling_group(name.clone(), true).await)?;
        until_gone(&format!("Auto Scaling group {name}"), cx.waits, || async {
            Ok(autoscaling.describe_auto_scaling_groups(vec![name.clone()]).await?.is_empty())
        })
        .await
    }
}
