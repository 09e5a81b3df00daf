//! `ecs:task-definition`: immutable revisions; a change registers a new one (an update),
//! and deleting deregisters every active revision of the family.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::Clients;
use crate::graph::props::{ImageOwner, TaskDefinitionProps};
use crate::graph::{Graph, LogicalId, Properties, RefOr, Resource};
use crate::observe::LiveStack;
use crate::plan::Kept;
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

    fn declared(live: &mut TaskDefinitionProps, desired: &TaskDefinitionProps) {
        live.image_owner = desired.image_owner;
    }

    fn summary(p: &TaskDefinitionProps) -> String {
        let owned = if p.image_owner == ImageOwner::Pipeline { " at start (image owned by the pipeline)" } else { "" };
        p.container_definitions
            .iter()
            .map(|c| format!("{} ({} cpu, {} MiB){owned}", c.image, c.cpu, c.memory))
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

/// The image the service of the task definition `id` runs: that of the revision the
/// live service names (read when it is not the family's latest), else the latest's.
async fn running_image(
    id: &LogicalId,
    container: &str,
    live: &LiveStack,
    clients: &Clients,
) -> Result<Option<(String, String)>, AwsError> {
    let of =
        |p: &TaskDefinitionProps| p.container_definitions.iter().find(|c| c.name == container).map(|c| c.image.clone());
    let service = id.as_str().replacen("task-definition/", "service/", 1);
    let latest = live.get(id.as_str()).and_then(|r| match &r.properties {
        Properties::TaskDefinition(p) => Some((p.clone(), r.aws_id.clone())),
        _ => None,
    });
    let named = live.get(&service).and_then(|r| match &r.properties {
        Properties::Service(s) => Some(s.task_definition.clone()),
        _ => None,
    });
    match named {
        Some(RefOr::Value(arn)) if !arn.is_empty() => {
            let found = crate::aws::retry_transient(|| clients.ecs.describe_task_definition(arn.clone())).await?;
            Ok(found.and_then(|f| of(&f.props)).map(|image| (image, arn)))
        }
        _ => Ok(latest.and_then(|(p, arn)| of(&p).map(|image| (image, arn)))),
    }
}

/// Puts into `graph`'s task definitions whose image a pipeline owns the image their
/// service runs, so that neither the plan nor the apply reverts an image CI deployed;
/// returns what was kept. A service not deployed yet starts with the declared image.
///
/// # Errors
/// When reading the revision a service runs fails.
pub(crate) async fn keep_pipeline_images(
    graph: &mut Graph,
    live: &LiveStack,
    clients: &Clients,
) -> Result<Vec<Kept>, AwsError> {
    let owned: Vec<(LogicalId, String)> = graph
        .resources()
        .iter()
        .filter_map(|r| match &r.properties {
            Properties::TaskDefinition(p) if p.image_owner == ImageOwner::Pipeline => {
                p.container_definitions.first().map(|c| (r.id.clone(), c.name.clone()))
            }
            _ => None,
        })
        .collect();
    let mut kept = Vec::new();
    for (id, container) in owned {
        let Some((image, arn)) = running_image(&id, &container, live, clients).await? else { continue };
        let Some(Properties::TaskDefinition(p)) = graph.get_mut(id.as_str()).map(|r| &mut r.properties) else {
            continue;
        };
        let Some(c) = p.container_definitions.iter_mut().find(|c| c.name == container) else { continue };
        let revision = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
        let declared = std::mem::replace(&mut c.image, image.clone());
        let note = if declared == image { String::new() } else { format!("; declared {declared}") };
        kept.push(Kept {
            id,
            field: "image".into(),
            value: image,
            reason: format!("owned by the pipeline: the image {revision} runs{note}; pass --image to deploy another"),
        });
    }
    Ok(kept)
}
