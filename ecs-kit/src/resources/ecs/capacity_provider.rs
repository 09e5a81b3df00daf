//! `ecs:capacity-provider` over the Auto Scaling group, with managed scaling.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::CapacityProviderProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct CapacityProvider;

#[async_trait]
impl Kind for CapacityProvider {
    type Props = CapacityProviderProps;
    const SCHEMA: Schema = Schema { replace_on: &["name", "auto_scaling_group_arn"], ..Schema::new(Tagging::Ecs, 4) };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<CapacityProviderProps>, AwsError> {
        let names = cx.desired_name("capacity-provider").into_iter().collect();
        let found = cx.clients.ecs.describe_capacity_providers(names).await?;
        Ok(cx.by_name("capacity-provider", ResourceType::CapacityProvider, found))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: CapacityProviderProps) -> Result<Physical, StepError> {
        let (ecs, provider) = (&cx.clients.ecs, p.name.clone());
        let arn = match ecs.create_capacity_provider(p, r.tags.clone()).await {
            // A retry after an answer that was lost: ours if it carries the stack's tag.
            Err(e) if e.kind == crate::aws::ErrorKind::AlreadyExists => {
                let found = ecs.describe_capacity_providers(vec![provider.clone()]).await.map_err(step_error)?;
                let found = found.into_iter().find(|f| !crate::resources::is_gone(f.state.as_deref()));
                crate::resources::adopt(e.clone(), found.as_ref().map(|f| &f.tags), cx.stack)?;
                found.and_then(|f| f.arn).ok_or_else(|| StepError::Retryable(e.to_string()))?
            }
            other => other.map_err(step_error)?,
        };
        Ok(Physical { id: provider.clone(), arn: Some(arn), name: Some(provider), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: CapacityProviderProps,
        h: CapacityProviderProps,
    ) -> Result<Option<Physical>, StepError> {
        if w != h {
            cx.clients.ecs.update_capacity_provider(w).await.map_err(step_error)?;
        }
        Ok(None)
    }

    /// Detached from the cluster first: ECS refuses to delete a provider in use.
    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: CapacityProviderProps) -> Result<(), StepError> {
        if let Some(cluster) = cx.cluster {
            gone_ok(cx.clients.ecs.put_cluster_capacity_providers(cluster.to_owned(), vec![], vec![]).await)?;
        }
        gone_ok(cx.clients.ecs.delete_capacity_provider(p.name).await)
    }
}
