//! `ecs:task-definition`: immutable revisions; a change registers a new one (an update),
//! and deleting deregisters every active revision of the family.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::TaskDefinitionProps;
use crate::graph::Resource;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct TaskDefinition;

/// Registers a revision of `p`, carrying the declared tags.
async fn register(cx: &Cx<'_>, r: &Resource, p: TaskDefinitionProps) -> Result<Physical, StepError> {
    let arn = cx.clients.ecs.register_task_definition(p, r.tags.clone()).await.map_err(step_error)?;
    Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None })
}

#[async_trait]
impl Kind for TaskDefinition {
    type Props = TaskDefinitionProps;
    const SCHEMA: Schema =
        Schema { names_only: true, new_revision: true, topics: &[(".image", "image")], ..Schema::new(Tagging::Ecs, 1) };

    fn summary(p: &TaskDefinitionProps) -> String {
        p.container_definitions
            .iter()
            .map(|c| format!("{} ({} cpu, {} MiB)", c.image, c.cpu, c.memory))
            .collect::<Vec<_>>()
            .join(", ")
            + if p.network_mode == "awsvpc" { ", awsvpc" } else { "" }
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<TaskDefinitionProps>, AwsError> {
        // Families of services no longer declared are still ours to clean up; another
        // stack whose name extends ours shares the prefix, and its tags tell it apart.
        let ecs = &cx.clients.ecs;
        let mut read = Read::default();
        for family in ecs.list_task_definition_families(format!("{}-", cx.stack.name), "ACTIVE".into()).await? {
            if let Some(td) = ecs.describe_task_definition(family).await? {
                if cx.owned(&td.tags) {
                    read.found.push(td);
                }
            }
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: TaskDefinitionProps) -> Result<Physical, StepError> {
        register(cx, r, p).await
    }

    /// A new revision: what runs it moves to the new ARN.
    async fn update(
        cx: &Cx<'_>,
        r: &Resource,
        _live: &LiveResource,
        w: TaskDefinitionProps,
        _h: TaskDefinitionProps,
    ) -> Result<Option<Physical>, StepError> {
        register(cx, r, w).await.map(Some)
    }

    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: TaskDefinitionProps) -> Result<(), StepError> {
        let ecs = &cx.clients.ecs;
        for arn in ecs.list_task_definitions(p.family, "ACTIVE".into()).await.map_err(step_error)? {
            gone_ok(ecs.deregister_task_definition(arn).await)?;
        }
        Ok(())
    }
}
