//! The fake's EFS: file systems, mount targets, access points.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{aws_error, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, Timing};
use crate::aws::{literal, AwsResult, EfsApi, Found, Tags};
use crate::graph::props::{AccessPointProps, FileSystemProps, MountTargetProps, RefOr};
use crate::graph::ResourceType;

const SERVICE: &str = "efs";

#[derive(Debug, Clone)]
pub(crate) struct FileSystem {
    arn: String,
    props: FileSystemProps,
    state: String,
    since: Instant,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct MountTarget {
    fs: String,
    subnet: String,
    zone: String,
    groups: Vec<String>,
    ip: String,
    state: String,
    since: Instant,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessPoint {
    arn: String,
    props: AccessPointProps,
    meta: Meta,
}

/// EFS objects by id.
#[derive(Debug, Default)]
pub(crate) struct EfsState {
    systems: BTreeMap<String, FileSystem>,
    targets: BTreeMap<String, MountTarget>,
    points: BTreeMap<String, AccessPoint>,
}

impl EfsState {
    pub fn advance(&mut self, now: Instant, timing: Timing) {
        for fs in self.systems.values_mut() {
            if fs.state == "creating" && now.saturating_duration_since(fs.since) >= timing.file_system {
                fs.state = "available".into();
                fs.since = now;
            }
        }
        self.systems
            .retain(|_, fs| !(fs.state == "deleting" && now.saturating_duration_since(fs.since) >= timing.file_system));
        for mt in self.targets.values_mut() {
            if mt.state == "creating" && now.saturating_duration_since(mt.since) >= timing.mount_target {
                mt.state = "available".into();
                mt.since = now;
            }
        }
        self.targets.retain(|_, mt| {
            !(mt.state == "deleting" && now.saturating_duration_since(mt.since) >= timing.mount_target)
        });
    }

    /// Whether a mount target's network interface sits in `subnet`.
    pub fn uses_subnet(&self, subnet: &str) -> bool {
        self.targets.values().any(|m| m.subnet == subnet)
    }

    /// Whether a mount target's network interface has `group`.
    pub fn uses_group(&self, group: &str) -> bool {
        self.targets.values().any(|m| m.groups.iter().any(|g| g == group))
    }

    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (id, fs) in &self.systems {
            push(out, ResourceType::FileSystem, id, Some(&fs.props.creation_token), Some(&fs.state), &fs.meta.tags);
        }
        for (id, mt) in &self.targets {
            push(out, ResourceType::MountTarget, id, None, Some(&mt.state), &mt.meta.tags);
        }
        for (id, ap) in &self.points {
            push(out, ResourceType::AccessPoint, id, Some(&ap.props.client_token), Some("available"), &ap.meta.tags);
        }
    }

    fn tags_of(&mut self, id: &str) -> Option<&mut Tags> {
        if let Some(fs) = self.systems.get_mut(id) {
            return Some(&mut fs.meta.tags);
        }
        self.points.get_mut(id).map(|a| &mut a.meta.tags)
    }
}

fn err(operation: &str, code: &str, status: u16, message: impl Into<String>) -> crate::aws::AwsError {
    let mut e = aws_error(SERVICE, operation, code, message);
    e.kind = crate::aws::ErrorKind::classify(Some(code), Some(status));
    e
}

fn no_fs(operation: &str, id: &str) -> crate::aws::AwsError {
    err(operation, "FileSystemNotFound", 404, format!("File system '{id}' does not exist."))
}

fn no_mount_target(operation: &str, id: &str) -> crate::aws::AwsError {
    err(operation, "MountTargetNotFound", 404, format!("Mount target '{id}' does not exist."))
}

/// The network interface EFS made for the mount target `id` (`fsmt-X`: `eni-X`).
pub(crate) fn interface_of(id: &str) -> String {
    format!("eni-{}", id.strip_prefix("fsmt-").unwrap_or(id))
}

impl EfsState {
    /// The security groups of the mount target whose network interface is `eni`.
    pub fn interface_groups(&self, eni: &str) -> Option<Vec<String>> {
        self.targets.iter().find(|(id, _)| interface_of(id) == eni).map(|(_, mt)| mt.groups.clone())
    }
}

fn lit(v: &RefOr<String>, operation: &str) -> AwsResult<String> {
    literal(v, SERVICE, operation).map(str::to_owned)
}

#[async_trait]
impl EfsApi for Fake {
    async fn describe_file_systems(&self, creation_token: String) -> AwsResult<Vec<Found<FileSystemProps>>> {
        let mut s = self.begin(SERVICE, "DescribeFileSystems").await?;
        let counts: BTreeMap<String, usize> = s.efs.targets.values().fold(BTreeMap::new(), |mut m, t| {
            *m.entry(t.fs.clone()).or_insert(0) += 1;
            m
        });
        let mut out = Vec::new();
        for (id, fs) in &mut s.efs.systems {
            if fs.props.creation_token != creation_token || !visible(&mut fs.meta) {
                continue;
            }
            let mut f = Found::new(id.clone(), fs.props.clone());
            f.arn = Some(fs.arn.clone());
            f.state = Some(fs.state.clone());
            f.tags = fs.meta.tags.clone();
            f.attrs.insert("number_of_mount_targets".into(), counts.get(id).copied().unwrap_or(0).to_string());
            out.push(f);
        }
        Ok(out)
    }

    async fn create_file_system(&self, props: FileSystemProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateFileSystem";
        let mut s = self.begin(SERVICE, OP).await?;
        if let Some((id, _)) = s.efs.systems.iter().find(|(_, fs)| fs.props.creation_token == props.creation_token) {
            // AWS answers 409 with the existing id.
            return Err(err(
                OP,
                "FileSystemAlreadyExists",
                409,
                format!("File system '{id}' already exists with creation token '{}'", props.creation_token),
            ));
        }
        let id = s.id("fs");
        let arn = self.arn("elasticfilesystem", &format!("file-system/{id}"));
        let meta = s.meta(OP, tags);
        let mut props = props;
        if props.encrypted && props.kms_key_id.is_none() {
            props.kms_key_id = Some(self.arn("kms", "key/aws-elasticfilesystem-default"));
        }
        s.efs
            .systems
            .insert(id.clone(), FileSystem { arn, props, state: "creating".into(), since: Instant::now(), meta });
        let timing = s.timing;
        s.efs.advance(Instant::now(), timing);
        Ok(id)
    }

    async fn delete_file_system(&self, file_system_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteFileSystem";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.efs.systems.contains_key(&file_system_id) {
            return Err(no_fs(OP, &file_system_id));
        }
        if s.efs.targets.values().any(|t| t.fs == file_system_id) {
            return Err(err(OP, "FileSystemInUse", 409, format!("File system '{file_system_id}' has mount targets.")));
        }
        if s.efs.points.values().any(|p| p.props.file_system_id == RefOr::Value(file_system_id.clone())) {
            return Err(err(OP, "FileSystemInUse", 409, format!("File system '{file_system_id}' has access points.")));
        }
        let timing = s.timing;
        if let Some(fs) = s.efs.systems.get_mut(&file_system_id) {
            fs.state = "deleting".into();
            fs.since = Instant::now();
        }
        s.efs.advance(Instant::now(), timing);
        Ok(())
    }

    async fn describe_mount_targets(&self, file_system_id: String) -> AwsResult<Vec<Found<MountTargetProps>>> {
        const OP: &str = "DescribeMountTargets";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.efs.systems.contains_key(&file_system_id) {
            return Err(no_fs(OP, &file_system_id));
        }
        let mut out = Vec::new();
        for (id, mt) in &mut s.efs.targets {
            if mt.fs != file_system_id || !visible(&mut mt.meta) {
                continue;
            }
            let mut f = Found::new(
                id.clone(),
                MountTargetProps {
                    file_system_id: RefOr::Value(mt.fs.clone()),
                    subnet_id: RefOr::Value(mt.subnet.clone()),
                    security_groups: Vec::new(),
                },
            );
            f.state = Some(mt.state.clone());
            f.attrs.insert("availability_zone".into(), mt.zone.clone());
            f.attrs.insert("ip_address".into(), mt.ip.clone());
            f.attrs.insert("network_interface_id".into(), interface_of(id));
            out.push(f);
        }
        Ok(out)
    }

    async fn describe_mount_target_security_groups(&self, mount_target_id: String) -> AwsResult<Vec<String>> {
        const OP: &str = "DescribeMountTargetSecurityGroups";
        let s = self.begin(SERVICE, OP).await?;
        let mt = s.efs.targets.get(&mount_target_id).ok_or_else(|| no_mount_target(OP, &mount_target_id))?;
        Ok(mt.groups.clone())
    }

    async fn create_mount_target(&self, props: MountTargetProps) -> AwsResult<String> {
        const OP: &str = "CreateMountTarget";
        let mut s = self.begin(SERVICE, OP).await?;
        let fs = lit(&props.file_system_id, OP)?;
        let subnet = lit(&props.subnet_id, OP)?;
        let groups = props.security_groups.iter().map(|g| lit(g, OP)).collect::<AwsResult<Vec<_>>>()?;
        match s.efs.systems.get(&fs) {
            None => return Err(no_fs(OP, &fs)),
            Some(x) if x.state != "available" => {
                return Err(err(
                    OP,
                    "IncorrectFileSystemLifeCycleState",
                    409,
                    format!("File system '{fs}' is {}.", x.state),
                ))
            }
            Some(_) => {}
        }
        let Some(sub) = s.ec2.subnets.get(&subnet).cloned() else {
            return Err(err(OP, "SubnetNotFound", 400, format!("The subnet ID '{subnet}' does not exist")));
        };
        for g in &groups {
            match s.ec2.groups.get(g) {
                Some(x) if x.vpc == sub.vpc => {}
                _ => {
                    return Err(err(
                        OP,
                        "SecurityGroupNotFound",
                        400,
                        format!("The security group '{g}' does not exist in the subnet's VPC"),
                    ))
                }
            }
        }
        if s.efs.targets.values().any(|t| t.fs == fs && t.zone == sub.zone) {
            return Err(err(
                OP,
                "MountTargetConflict",
                409,
                format!("mount target already exists in this AZ ({})", sub.zone),
            ));
        }
        if s.efs.targets.values().any(|t| t.fs == fs && s.ec2.subnets.get(&t.subnet).is_some_and(|x| x.vpc != sub.vpc))
        {
            return Err(err(OP, "MountTargetConflict", 409, "the file system has mount targets in another VPC"));
        }
        let id = s.id("fsmt");
        let n = s.next();
        let meta = s.meta(OP, Tags::new());
        s.efs.targets.insert(
            id.clone(),
            MountTarget {
                fs,
                subnet,
                zone: sub.zone,
                groups,
                ip: format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256),
                state: "creating".into(),
                since: Instant::now(),
                meta,
            },
        );
        let timing = s.timing;
        s.efs.advance(Instant::now(), timing);
        Ok(id)
    }

    async fn modify_mount_target_security_groups(
        &self,
        mount_target_id: String,
        group_ids: Vec<String>,
    ) -> AwsResult<()> {
        const OP: &str = "ModifyMountTargetSecurityGroups";
        let mut s = self.begin(SERVICE, OP).await?;
        for g in &group_ids {
            if !s.ec2.groups.contains_key(g) {
                return Err(err(OP, "SecurityGroupNotFound", 400, format!("The security group '{g}' does not exist")));
            }
        }
        let mt = s.efs.targets.get_mut(&mount_target_id).ok_or_else(|| {
            err(OP, "MountTargetNotFound", 404, format!("Mount target '{mount_target_id}' does not exist."))
        })?;
        if mt.state != "available" {
            return Err(err(
                OP,
                "IncorrectMountTargetState",
                409,
                format!("Mount target '{mount_target_id}' is {}.", mt.state),
            ));
        }
        mt.groups = group_ids;
        Ok(())
    }

    async fn delete_mount_target(&self, mount_target_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteMountTarget";
        let mut s = self.begin(SERVICE, OP).await?;
        let timing = s.timing;
        let mt = s.efs.targets.get_mut(&mount_target_id).ok_or_else(|| {
            err(OP, "MountTargetNotFound", 404, format!("Mount target '{mount_target_id}' does not exist."))
        })?;
        if mt.state != "deleting" {
            mt.state = "deleting".into();
            mt.since = Instant::now();
        }
        s.efs.advance(Instant::now(), timing);
        Ok(())
    }

    async fn describe_access_points(&self, file_system_id: String) -> AwsResult<Vec<Found<AccessPointProps>>> {
        const OP: &str = "DescribeAccessPoints";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.efs.systems.contains_key(&file_system_id) {
            return Err(no_fs(OP, &file_system_id));
        }
        let wanted = RefOr::Value(file_system_id);
        let mut out = Vec::new();
        for (id, ap) in &mut s.efs.points {
            if ap.props.file_system_id != wanted || !visible(&mut ap.meta) {
                continue;
            }
            let mut f = Found::new(id.clone(), ap.props.clone());
            f.arn = Some(ap.arn.clone());
            f.state = Some("available".into());
            f.tags = ap.meta.tags.clone();
            out.push(f);
        }
        Ok(out)
    }

    async fn create_access_point(&self, props: AccessPointProps, tags: Tags) -> AwsResult<(String, String)> {
        const OP: &str = "CreateAccessPoint";
        let mut s = self.begin(SERVICE, OP).await?;
        let fs = lit(&props.file_system_id, OP)?;
        if props.client_token.is_empty() || props.client_token.len() > 64 {
            return Err(err(OP, "ValidationException", 400, "ClientToken must have 1 to 64 characters"));
        }
        if let Some((id, ap)) = s.efs.points.iter().find(|(_, a)| a.props.client_token == props.client_token) {
            if ap.props == props {
                return Ok((id.clone(), ap.arn.clone()));
            }
            return Err(err(OP, "IdempotentParameterMismatch", 400, "the client token was used with other parameters"));
        }
        match s.efs.systems.get(&fs) {
            None => return Err(no_fs(OP, &fs)),
            Some(x) if x.state != "available" => {
                return Err(err(
                    OP,
                    "IncorrectFileSystemLifeCycleState",
                    409,
                    format!("File system '{fs}' is {}.", x.state),
                ))
            }
            Some(_) => {}
        }
        let id = s.id("fsap");
        let arn = self.arn("elasticfilesystem", &format!("access-point/{id}"));
        let meta = s.meta(OP, tags);
        s.efs.points.insert(id.clone(), AccessPoint { arn: arn.clone(), props, meta });
        Ok((id, arn))
    }

    async fn delete_access_point(&self, access_point_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteAccessPoint";
        let mut s = self.begin(SERVICE, OP).await?;
        s.efs.points.remove(&access_point_id).ok_or_else(|| {
            err(OP, "AccessPointNotFound", 404, format!("Access point '{access_point_id}' does not exist."))
        })?;
        Ok(())
    }

    async fn tag_resource(&self, resource_id: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagResource";
        let mut s = self.begin(SERVICE, OP).await?;
        let t = s.efs.tags_of(&resource_id).ok_or_else(|| no_fs(OP, &resource_id))?;
        merge_tags(t, tags);
        Ok(())
    }

    async fn untag_resource(&self, resource_id: String, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "UntagResource";
        let mut s = self.begin(SERVICE, OP).await?;
        let t = s.efs.tags_of(&resource_id).ok_or_else(|| no_fs(OP, &resource_id))?;
        remove_tags(t, &keys);
        Ok(())
    }
}
