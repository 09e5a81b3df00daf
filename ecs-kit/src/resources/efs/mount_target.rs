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
        let mut found = Vec::new();
        for fs in cx.earlier(ResourceType::FileSystem) {
            found.extend(cx.clients.efs.describe_mount_targets(fs.id.clone()).await?);
        }
        with_security_groups(cx.clients, found).await.map(Read::of)
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
        let made =
            made.into_iter().find(|m| m.props.subnet_id == subnet && !crate::resources::is_gone(m.state.as_deref()));
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

/// `found` with their security groups: their network interfaces', all in one EC2 call;
/// one DescribeMountTargetSecurityGroups each for those EC2 does not answer (an
/// identity without `ec2:DescribeNetworkInterfaces`, an interface not yet listed). A
/// mount target deleted meanwhile is left out.
async fn with_security_groups(
    clients: &crate::aws::Clients,
    mut found: Vec<Found<MountTargetProps>>,
) -> Result<Vec<Found<MountTargetProps>>, AwsError> {
    let interfaces: Vec<String> = found.iter().filter_map(|m| m.attrs.get("network_interface_id").cloned()).collect();
    let mut groups = if interfaces.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        match crate::aws::retry_transient(|| clients.ec2.describe_network_interface_groups(interfaces.clone())).await {
            Err(e) if e.kind == crate::aws::ErrorKind::AccessDenied => {
                tracing::info!("{e}: mount targets' security groups are read one by one instead");
                std::collections::BTreeMap::new()
            }
            other => other?,
        }
    };
    let mut gone = BTreeSet::new();
    for m in &mut found {
        let of_interface = m.attrs.get("network_interface_id").and_then(|eni| groups.remove(eni));
        let mut ids = match of_interface {
            Some(ids) => ids,
            None => match clients.efs.describe_mount_target_security_groups(m.id.clone()).await {
                Ok(ids) => ids,
                // Deleted since the list (another step deleting its sibling, say): gone.
                Err(e) if e.kind == crate::aws::ErrorKind::NotFound => {
                    gone.insert(m.id.clone());
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        ids.sort();
        m.props.security_groups = ids.into_iter().map(RefOr::Value).collect();
    }
    found.retain(|m| !gone.contains(&m.id));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::aws::{AwsError, ErrorKind, MockEc2Api, MockEfsApi};

    fn target(id: &str, eni: Option<&str>) -> Found<MountTargetProps> {
        let mut f = Found::new(
            id,
            MountTargetProps {
                file_system_id: RefOr::Value("fs-1".into()),
                subnet_id: RefOr::Value("subnet-1".into()),
                security_groups: Vec::new(),
            },
        );
        if let Some(eni) = eni {
            f.attrs.insert("network_interface_id".into(), eni.into());
        }
        f
    }

    fn clients(ec2: MockEc2Api, efs: MockEfsApi) -> crate::aws::Clients {
        let mut clients = crate::testing::FakeCloud::new("us-west-2").clients();
        clients.ec2 = Arc::new(ec2);
        clients.efs = Arc::new(efs);
        clients
    }

    fn groups(found: &[Found<MountTargetProps>]) -> Vec<(&str, Vec<RefOr<String>>)> {
        found.iter().map(|f| (f.id.as_str(), f.props.security_groups.clone())).collect()
    }

    #[tokio::test]
    async fn groups_come_from_the_interfaces_at_once_and_one_by_one_for_the_rest() {
        let mut ec2 = MockEc2Api::new();
        ec2.expect_describe_network_interface_groups()
            .withf(|ids| *ids == ["eni-1", "eni-2", "eni-3"])
            .times(1)
            .returning(|_| Ok(BTreeMap::from([("eni-1".to_owned(), vec!["sg-b".to_owned(), "sg-a".to_owned()])])));
        let mut efs = MockEfsApi::new();
        // eni-2 not listed yet: asked of EFS; fsmt-3 deleted since the list: left out.
        efs.expect_describe_mount_target_security_groups()
            .withf(|id| id == "fsmt-2")
            .times(1)
            .returning(|_| Ok(vec!["sg-c".to_owned()]));
        efs.expect_describe_mount_target_security_groups()
            .withf(|id| id == "fsmt-3")
            .times(1)
            .returning(|_| Err(AwsError::new(ErrorKind::NotFound, "efs", "DescribeMountTargetSecurityGroups", "gone")));
        let found =
            vec![target("fsmt-1", Some("eni-1")), target("fsmt-2", Some("eni-2")), target("fsmt-3", Some("eni-3"))];
        let read = with_security_groups(&clients(ec2, efs), found).await.unwrap();
        let v = |s: &str| RefOr::Value(s.to_owned());
        assert_eq!(groups(&read), [("fsmt-1", vec![v("sg-a"), v("sg-b")]), ("fsmt-2", vec![v("sg-c")])]);
    }

    #[tokio::test]
    async fn without_leave_to_read_interfaces_each_mount_target_is_asked() {
        let mut ec2 = MockEc2Api::new();
        ec2.expect_describe_network_interface_groups().times(1).returning(|_| {
            Err(AwsError::new(ErrorKind::AccessDenied, "ec2", "DescribeNetworkInterfaces", "not authorized"))
        });
        let mut efs = MockEfsApi::new();
        efs.expect_describe_mount_target_security_groups().times(2).returning(|_| Ok(vec!["sg-a".to_owned()]));
        let found = vec![target("fsmt-1", Some("eni-1")), target("fsmt-2", None)];
        let read = with_security_groups(&clients(ec2, efs), found).await.unwrap();
        assert_eq!(read.len(), 2);
        assert!(read.iter().all(|m| m.props.security_groups == [RefOr::Value("sg-a".to_owned())]));
    }
}
