//! `ecs:cluster` with its capacity provider association.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::ClusterProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, lits, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Cluster;

#[async_trait]
impl Kind for Cluster {
    type Props = ClusterProps;
    const SCHEMA: Schema = Schema { replace_on: &["cluster_name"], ..Schema::new(Tagging::Ecs, 6) };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ClusterProps>, AwsError> {
        let names = cx.desired_name("cluster").into_iter().collect();
        let found = cx.clients.ecs.describe_clusters(names).await?;
        Ok(cx.by_name("cluster", ResourceType::Cluster, found))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ClusterProps) -> Result<Physical, StepError> {
        let ecs = &cx.clients.ecs;
        let cluster = p.cluster_name.clone();
        let arn = ecs.create_cluster(p.clone(), r.tags.clone()).await.map_err(step_error)?;
        let providers = lits(&p.capacity_providers)?;
        ecs.put_cluster_capacity_providers(cluster.clone(), providers, p.default_capacity_provider_strategy)
            .await
            .map_err(step_error)?;
        Ok(Physical { id: cluster.clone(), arn: Some(arn), name: Some(cluster), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: ClusterProps,
        h: ClusterProps,
    ) -> Result<Option<Physical>, StepError> {
        let ecs = &cx.clients.ecs;
        if w.container_insights != h.container_insights {
            ecs.update_cluster_settings(w.cluster_name.clone(), w.container_insights.clone())
                .await
                .map_err(step_error)?;
        }
        if w.capacity_providers != h.capacity_providers
            || w.default_capacity_provider_strategy != h.default_capacity_provider_strategy
        {
            ecs.put_cluster_capacity_providers(
                w.cluster_name.clone(),
                lits(&w.capacity_providers)?,
                w.default_capacity_provider_strategy.clone(),
            )
            .await
            .map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: ClusterProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ecs.delete_cluster(p.cluster_name).await)
    }
}
