//! `ecs:task-definition`: immutable revisions; a change registers a new one (an update),
//! and deleting deregisters every active revision of the family.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::{Clients, Found};
use crate::graph::props::{ImageOwner, TaskDefinitionProps};
use crate::graph::{Graph, LogicalId, Properties, RefOr, Resource, ResourceType};
use crate::model::REVISION_TAG;
use crate::observe::LiveStack;
use crate::plan::Kept;
use crate::resources::LiveResource;
use crate::resources::{
    content_digest, gone_ok, json_digest, step_error, Cx, Kind, Physical, Schema, Tagging, DIGEST_ATTR,
};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct TaskDefinition;

/// Registers a revision of `p`, carrying the declared tags; its digest goes with it, for
/// the service that runs it to record.
async fn register(cx: &Cx<'_>, r: &Resource, p: TaskDefinitionProps) -> Result<Physical, StepError> {
    let digest = content_digest(&(&p, &r.tags));
    let arn = cx.clients.ecs.register_task_definition(p, r.tags.clone()).await.map_err(step_error)?;
    Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: Some(digest) })
}

/// Each of the stack's own services with the task definition revision it runs: the
/// service, the revision's ARN, its family and its revision number.
fn running_revisions<'c>(
    cx: &'c ReadCx<'_>,
) -> impl Iterator<Item = (&'c Found<Properties>, &'c str, &'c str, &'c str)> + 'c {
    cx.earlier(ResourceType::EcsService).filter(|s| cx.owned(&s.tags)).filter_map(|service| {
        let Properties::Service(p) = &service.props else { return None };
        let RefOr::Value(arn) = &p.task_definition else { return None };
        // arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION
        let (family, revision) = arn.rsplit('/').next()?.rsplit_once(':')?;
        Some((service, arn.as_str(), family, revision))
    })
}

/// The revisions the stack's services record they run, by family: (task definition
/// ARN, content digest). A record naming another revision than the one the service
/// runs (a deployment made outside ecs-kit, a rollback) is no record.
fn recorded<'c>(cx: &'c ReadCx<'_>) -> BTreeMap<&'c str, (&'c str, &'c str)> {
    running_revisions(cx)
        .filter_map(|(service, arn, family, running)| {
            let (revision, digest) = service.tags.get(REVISION_TAG)?.split_once(' ')?;
            (running == revision).then_some((family, (arn, digest)))
        })
        .collect()
}

/// The revisions the stack's services run, by family, for the families whose image the
/// pipeline owns (`ImageOwner::Pipeline`): read at that revision, not the family's
/// latest, since CI may have registered a later one it has not deployed.
fn pipeline_revisions<'c>(cx: &'c ReadCx<'_>, desired: &BTreeMap<&str, &Resource>) -> BTreeMap<&'c str, &'c str> {
    running_revisions(cx)
        .filter(|(_, _, family, _)| {
            desired.get(family).is_some_and(
                |r| matches!(&*r.properties, Properties::TaskDefinition(p) if p.image_owner == ImageOwner::Pipeline),
            )
        })
        .map(|(_, arn, family, _)| (family, arn))
        .collect()
}

/// Whether `td`, a revision without the stack's tag, is one the pipeline registered:
/// the one the stack's own service runs, of a family whose image the declaration gives
/// to the pipeline, and without any stack's tag (CI's deploy actions register revisions
/// without tags). Such a revision is read as the family's, with the declared tags: it
/// is never changed (revisions are immutable) and its tags are never written, so the
/// plan compares its content, and a revision with CI's image and the declared rest is
/// no change. A later change registers a new revision, with the tags, as usual.
fn pipelines_revision(
    td: &mut Found<TaskDefinitionProps>,
    running: &BTreeMap<&str, &str>,
    desired: &BTreeMap<&str, &Resource>,
) -> bool {
    let family = td.props.family.as_str();
    let (Some(arn), Some(desired)) = (running.get(family), desired.get(family)) else { return false };
    if td.arn.as_deref() != Some(*arn) || td.tags.contains_key(crate::model::STACK_TAG) {
        return false;
    }
    td.tags = desired.tags.clone();
    td.attrs.insert("registered_by".into(), "the pipeline, without the stack's tags".into());
    true
}

/// The revision of `family` a service records, when the declaration resolved with
/// `physical` has the recorded digest: it is its declaration, references included, and
/// its properties are left empty for observe to take the declaration's (see
/// [`Read::declarations`]).
fn from_record<'a>(
    family: &str,
    records: &BTreeMap<&str, (&str, &str)>,
    desired: &BTreeMap<&str, &Resource>,
    physical: impl Fn(&str, crate::graph::Attr) -> Option<&'a str>,
) -> Option<Found<TaskDefinitionProps>> {
    let (arn, digest) = records.get(family)?;
    let desired = desired.get(family)?;
    if crate::resources::json_resolved(&(&desired.properties, &desired.tags), physical, json_digest)? != *digest {
        return None;
    }
    let revision = arn.rsplit(':').next()?;
    // Observe takes the declaration itself (see `Read::declarations`).
    let empty = TaskDefinitionProps {
        family: String::new(),
        task_role_arn: RefOr::Value(String::new()),
        execution_role_arn: RefOr::Value(String::new()),
        network_mode: String::new(),
        requires_compatibilities: Vec::new(),
        container_definitions: Vec::new(),
        volumes: Vec::new(),
        cpu: None,
        memory: None,
        image_owner: ImageOwner::Stack,
    };
    let mut found = Found::new(format!("{family}:{revision}"), empty);
    found.arn = Some((*arn).to_owned());
    found.state = Some("ACTIVE".into());
    found.tags = desired.tags.clone();
    found.attrs.insert(DIGEST_ATTR.into(), (*digest).to_owned());
    Some(found)
}

#[async_trait]
impl Kind for TaskDefinition {
    type Props = TaskDefinitionProps;
    const SCHEMA: Schema = Schema {
        names_only: true,
        new_revision: true,
        topics: &[(".image", "image")],
        // The services' records of the revisions they run.
        read_after: &[ResourceType::EcsService],
        ..Schema::new(Tagging::Ecs, 1)
    };

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

    /// The revision a service of the stack runs is known without reading it when the
    /// service records it (`ecs-kit:revision`: the revision and its content digest) and
    /// the declaration, resolved with what the earlier kinds found, has that digest:
    /// revisions are immutable. Every other family (a service deployed outside ecs-kit,
    /// a declaration that changed, a family whose service is gone) is described: its
    /// latest active revision.
    async fn read(cx: &ReadCx<'_>) -> Result<Read<TaskDefinitionProps>, AwsError> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        // Families of services no longer declared are still ours to clean up; another
        // stack whose name extends ours shares the prefix, and its tags tell it apart.
        let ecs = &cx.clients.ecs;
        let mut read = Read::default();
        let families = ecs.list_task_definition_families(format!("{}-", cx.stack.name), "ACTIVE".into()).await?;
        let records = recorded(cx);
        let earlier = if records.is_empty() { crate::FastMap::default() } else { cx.by_id() };
        let desired: BTreeMap<&str, &Resource> =
            cx.desired(ResourceType::TaskDefinition).map(|r| (r.name.as_str(), r)).collect();
        let mut unknown = Vec::new();
        for family in families {
            match from_record(&family, &records, &desired, |id, attr| cx.physical(&earlier, id, attr)) {
                Some(found) => {
                    read.declarations.insert(found.id.clone());
                    read.found.push(found);
                }
                None => unknown.push(family),
            }
        }
        // A family whose image the pipeline owns is read at the revision its service
        // runs, which CI may have registered (see `pipelines_revision`).
        let running = pipeline_revisions(cx, &desired);
        let described: Vec<_> = stream::iter(unknown)
            .map(|family| {
                let revision = running.get(family.as_str()).map_or(family, |arn| (*arn).to_owned());
                ecs.describe_task_definition(revision)
            })
            .buffer_unordered(crate::resources::READ_CONCURRENCY)
            .try_collect()
            .await?;
        for mut td in described.into_iter().flatten() {
            if !cx.owned(&td.tags) && !pipelines_revision(&mut td, &running, &desired) {
                continue;
            }
            td.attrs.insert(DIGEST_ATTR.into(), content_digest(&(&td.props, &td.tags)));
            read.found.push(td);
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
    let latest = live.get(id.as_str()).and_then(|r| match &*r.properties {
        Properties::TaskDefinition(p) => Some((p.clone(), r.aws_id.clone())),
        _ => None,
    });
    let named = live.get(&service).and_then(|r| match &*r.properties {
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
        .filter_map(|r| match &*r.properties {
            Properties::TaskDefinition(p) if p.image_owner == ImageOwner::Pipeline => {
                p.container_definitions.first().map(|c| (r.id.clone(), c.name.clone()))
            }
            _ => None,
        })
        .collect();
    let mut kept = Vec::new();
    for (id, container) in owned {
        let Some((image, arn)) = running_image(&id, &container, live, clients).await? else { continue };
        let Some(Properties::TaskDefinition(p)) =
            graph.get_mut(id.as_str()).map(|r| std::sync::Arc::make_mut(&mut r.properties))
        else {
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
