//! `efs:mount-target`: untaggable, owned through its file system; one per zone.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::Found;
use crate::graph::props::MountTargetProps;
use crate::graph::ResourceType;
use crate::graph::{Graph, LogicalId, Properties, RefOr, Resource};
use crate::resources::LiveResource;
use crate::resources::PhysicalIndex;
use crate::resources::{gone_ok, lit, lits, step_error, until_gone, wait_until, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct MountTarget;

#[async_trait]
impl Kind for MountTarget {
    type Props = MountTargetProps;
    const SCHEMA: Schema = Schema {
        read_after: &[crate::graph::ResourceType::FileSystem],
        replace_on: &["file_system_id", "subnet_id"],
        ..Schema::new(Tagging::None, 9)
    };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<MountTargetProps>, AwsError> {
        // Those of the stack's file system.
        let mut read = Read::default();
        for fs in cx.earlier(ResourceType::FileSystem) {
            read.found.extend(cx.clients.efs.describe_mount_targets(fs.id.clone()).await?);
        }
        Ok(read)
    }

    /// The desired mount target in the same subnet, else one named after its AWS id.
    fn identify(found: &Found<MountTargetProps>, graph: &Graph, index: &PhysicalIndex<'_>) -> Option<LogicalId> {
        let subnet = match &found.props.subnet_id {
            RefOr::Value(v) => index.get(v).next().map(|(id, _)| id.clone()),
            RefOr::Ref(r) => Some(r.id.clone()),
        };
        let desired = graph.resources().iter().find(|r| match &*r.properties {
            Properties::MountTarget(p) => {
                subnet.as_ref().is_some_and(|s| matches!(&p.subnet_id, RefOr::Ref(x) if &x.id == s))
            }
            _ => false,
        });
        Some(desired.map_or_else(|| LogicalId::new(format!("mount-target/{}", found.id)), |r| r.id.clone()))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: MountTargetProps) -> Result<Physical, StepError> {
        let efs = &cx.clients.efs;
        let fs = lit(&p.file_system_id)?;
        // Mount targets have no tags and no client token: a retried step finds the one
        // an earlier attempt made in the subnet (AWS allows one per zone).
        let subnet = RefOr::Value(lit(&p.subnet_id)?);
        let made = efs.describe_mount_targets(fs.clone()).await.map_err(step_error)?;
        let made = made.into_iter().find(|m| m.props.subnet_id == subnet && m.state.as_deref() != Some("deleting"));
        let id = match made {
            Some(m) => m.id,
            None => efs.create_mount_target(p).await.map_err(step_error)?,
        };
        wait_until(&format!("mount target {id} to be available"), cx.waits, || async {
            let found = efs.describe_mount_targets(fs.clone()).await.map_err(step_error)?;
            Ok(found.iter().find(|m| m.id == id).and_then(|m| m.state.as_deref()) == Some("available"))
        })
        .await?;
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: MountTargetProps,
        h: MountTargetProps,
    ) -> Result<Option<Physical>, StepError> {
        let groups = lits(&w.security_groups)?;
        let have: BTreeSet<String> = lits(&h.security_groups)?.into_iter().collect();
        if groups.iter().cloned().collect::<BTreeSet<_>>() != have {
            cx.clients
                .efs
                .modify_mount_target_security_groups(live.aws_id.clone(), groups)
                .await
                .map_err(step_error)?;
        }
        Ok(None)
    }

    /// Gone once its file system no longer lists it (the file system waits for that).
    async fn delete(cx: &Cx<'_>, live: &LiveResource, p: MountTargetProps) -> Result<(), StepError> {
        let (efs, id, fs) = (&cx.clients.efs, live.aws_id.clone(), lit(&p.file_system_id)?);
        gone_ok(efs.delete_mount_target(id.clone()).await)?;
        until_gone(&format!("mount target {id}"), cx.waits, || async {
            Ok(efs.describe_mount_targets(fs.clone()).await?.iter().all(|m| m.id != id))
        })
        .await
    }
}
