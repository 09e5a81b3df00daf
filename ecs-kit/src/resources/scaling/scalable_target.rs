//! `application-autoscaling:scalable-target`: an ECS service's desired count handed to
//! the autoscaler between a minimum and a maximum. Registering again updates it.

use async_trait::async_trait;

use super::{owned_resource_ids, service_name};
use crate::aws::{AwsError, Found};
use crate::graph::props::ScalableTargetProps;
use crate::graph::{Graph, LogicalId, RefOr, Resource, ResourceType};
use crate::model::{ID_TAG, STACK_TAG};
use crate::resources::{gone_ok, step_error, Cx, Kind, LiveResource, Physical, PhysicalIndex, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct ScalableTarget;

/// Registers `p`: creates or updates the target.
async fn register(cx: &Cx<'_>, r: &Resource, p: ScalableTargetProps) -> Result<Physical, StepError> {
    // Tagged where AWS takes tags at registration; ownership does not rest on them.
    let tags = [(STACK_TAG.to_owned(), cx.stack.to_owned()), (ID_TAG.to_owned(), r.id.to_string())].into();
    let arn = cx.clients.scaling.register_scalable_target(p.clone(), tags).await.map_err(step_error)?;
    Ok(Physical {
        id: p.resource_id,
        arn: Some(arn).filter(|a| !a.is_empty()),
        name: Some(r.name.clone()),
        dns_name: None,
        digest: None,
    })
}

#[async_trait]
impl Kind for ScalableTarget {
    type Props = ScalableTargetProps;
    const SCHEMA: Schema = Schema {
        read_after: &[ResourceType::EcsService],
        replace_on: &["service_namespace", "resource_id", "scalable_dimension"],
        ..Schema::new(Tagging::None, 0)
    };

    fn summary(p: &ScalableTargetProps) -> String {
        format!("{} to {} tasks, count owned by the autoscaler", p.min_capacity, p.max_capacity)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ScalableTargetProps>, AwsError> {
        let ids = owned_resource_ids(cx);
        if ids.is_empty() {
            return Ok(Read::default());
        }
        let found =
            cx.clients.scaling.describe_scalable_targets(ids.iter().map(|(id, _)| id.clone()).collect()).await?;
        let arns: std::collections::HashMap<&str, &Option<String>> =
            ids.iter().map(|(id, arn)| (id.as_str(), arn)).collect();
        let found = found
            .into_iter()
            .map(|mut t| {
                let arn = arns.get(t.props.resource_id.as_str()).and_then(|arn| (*arn).clone());
                t.props.service_arn = RefOr::Value(arn.unwrap_or_default());
                t
            })
            .collect();
        Ok(Read::of(found))
    }

    fn identify(found: &Found<ScalableTargetProps>, _graph: &Graph, _index: &PhysicalIndex<'_>) -> Option<LogicalId> {
        Some(LogicalId::new(format!("scalable-target/{}", service_name(&found.props.resource_id))))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ScalableTargetProps) -> Result<Physical, StepError> {
        register(cx, r, p).await
    }

    async fn update(
        cx: &Cx<'_>,
        r: &Resource,
        _live: &LiveResource,
        w: ScalableTargetProps,
        _h: ScalableTargetProps,
    ) -> Result<Option<Physical>, StepError> {
        register(cx, r, w).await?;
        Ok(None)
    }

    /// Deregisters the target (AWS deletes its policies with it).
    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: ScalableTargetProps) -> Result<(), StepError> {
        gone_ok(cx.clients.scaling.deregister_scalable_target(p.resource_id).await)
    }
}
