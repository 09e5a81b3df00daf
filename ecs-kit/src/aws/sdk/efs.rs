//! EFS adapter.

use async_trait::async_trait;
use aws_sdk_efs::types::{
    CreationInfo, PerformanceMode, PosixUser as SdkPosixUser, RootDirectory as SdkRoot, Tag, ThroughputMode,
};
use aws_sdk_efs::Client;

use super::{err, missing};
use crate::aws::{literal, AwsError, AwsResult, EfsApi, ErrorKind, Found, Tags};
use crate::graph::props::{AccessPointProps, FileSystemProps, MountTargetProps, PosixUser, RefOr, RootDirectory};

const SERVICE: &str = "efs";

/// [`EfsApi`] over `aws-sdk-efs`.
#[derive(Debug, Clone)]
pub struct EfsSdk {
    client: Client,
}

impl EfsSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        EfsSdk { client }
    }
}

fn sdk_tags(operation: &str, tags: &Tags) -> AwsResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))
        })
        .collect()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

fn u32_of(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl EfsApi for EfsSdk {
    async fn describe_file_systems(&self, creation_token: String) -> AwsResult<Vec<Found<FileSystemProps>>> {
        let systems = self
            .client
            .describe_file_systems()
            .creation_token(creation_token)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeFileSystems"))?;
        Ok(systems
            .into_iter()
            .map(|fs| {
                let mut found = Found::new(
                    fs.file_system_id(),
                    FileSystemProps {
                        creation_token: fs.creation_token().to_owned(),
                        encrypted: fs.encrypted().unwrap_or(false),
                        kms_key_id: fs.kms_key_id().map(str::to_owned),
                        performance_mode: fs.performance_mode().as_str().to_owned(),
                        throughput_mode: fs.throughput_mode().map_or("bursting", ThroughputMode::as_str).to_owned(),
                    },
                );
                found.arn = fs.file_system_arn().map(str::to_owned);
                found.state = Some(fs.life_cycle_state().as_str().to_owned());
                found.tags = tags_of(fs.tags());
                found.attrs.insert("number_of_mount_targets".into(), fs.number_of_mount_targets().to_string());
                found
            })
            .collect())
    }

    async fn create_file_system(&self, props: FileSystemProps, tags: Tags) -> AwsResult<String> {
        let out = self
            .client
            .create_file_system()
            .creation_token(&props.creation_token)
            .encrypted(props.encrypted)
            .set_kms_key_id(props.kms_key_id)
            .performance_mode(PerformanceMode::from(props.performance_mode.as_str()))
            .throughput_mode(ThroughputMode::from(props.throughput_mode.as_str()))
            .set_tags(Some(sdk_tags("CreateFileSystem", &tags)?))
            .send()
            .await
            .map_err(err(SERVICE, "CreateFileSystem"))?;
        Ok(out.file_system_id().to_owned())
    }

    async fn delete_file_system(&self, file_system_id: String) -> AwsResult<()> {
        self.client
            .delete_file_system()
            .file_system_id(file_system_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteFileSystem"))?;
        Ok(())
    }

    async fn describe_mount_targets(&self, file_system_id: String) -> AwsResult<Vec<Found<MountTargetProps>>> {
        let targets = self
            .client
            .describe_mount_targets()
            .file_system_id(&file_system_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeMountTargets"))?;
        Ok(targets
            .iter()
            .map(|mt| {
                let mut item = Found::new(
                    mt.mount_target_id(),
                    MountTargetProps {
                        file_system_id: RefOr::Value(mt.file_system_id().to_owned()),
                        subnet_id: RefOr::Value(mt.subnet_id().to_owned()),
                        security_groups: Vec::new(),
                    },
                );
                item.state = Some(mt.life_cycle_state().as_str().to_owned());
                for (key, value) in [
                    ("availability_zone", mt.availability_zone_name()),
                    ("ip_address", mt.ip_address()),
                    ("network_interface_id", mt.network_interface_id()),
                ] {
                    if let Some(value) = value {
                        item.attrs.insert(key.to_owned(), value.to_owned());
                    }
                }
                item
            })
            .collect())
    }

    async fn describe_mount_target_security_groups(&self, mount_target_id: String) -> AwsResult<Vec<String>> {
        let out = self
            .client
            .describe_mount_target_security_groups()
            .mount_target_id(mount_target_id)
            .send()
            .await
            .map_err(err(SERVICE, "DescribeMountTargetSecurityGroups"))?;
        Ok(out.security_groups().to_vec())
    }

    async fn create_mount_target(&self, props: MountTargetProps) -> AwsResult<String> {
        const OP: &str = "CreateMountTarget";
        let groups = props
            .security_groups
            .iter()
            .map(|g| literal(g, SERVICE, OP).map(str::to_owned))
            .collect::<AwsResult<Vec<_>>>()?;
        let out = self
            .client
            .create_mount_target()
            .file_system_id(literal(&props.file_system_id, SERVICE, OP)?)
            .subnet_id(literal(&props.subnet_id, SERVICE, OP)?)
            .set_security_groups(Some(groups))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(out.mount_target_id().to_owned())
    }

    async fn modify_mount_target_security_groups(
        &self,
        mount_target_id: String,
        group_ids: Vec<String>,
    ) -> AwsResult<()> {
        self.client
            .modify_mount_target_security_groups()
            .mount_target_id(mount_target_id)
            .set_security_groups(Some(group_ids))
            .send()
            .await
            .map_err(err(SERVICE, "ModifyMountTargetSecurityGroups"))?;
        Ok(())
    }

    async fn delete_mount_target(&self, mount_target_id: String) -> AwsResult<()> {
        self.client
            .delete_mount_target()
            .mount_target_id(mount_target_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteMountTarget"))?;
        Ok(())
    }

    async fn describe_access_points(&self, file_system_id: String) -> AwsResult<Vec<Found<AccessPointProps>>> {
        let points = self
            .client
            .describe_access_points()
            .file_system_id(file_system_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeAccessPoints"))?;
        let mut found = Vec::with_capacity(points.len());
        for ap in points {
            let id = ap.access_point_id().ok_or_else(|| missing(SERVICE, "DescribeAccessPoints", "AccessPointId"))?;
            let root = ap.root_directory();
            let info = root.and_then(SdkRoot::creation_info);
            let mut item = Found::new(
                id,
                AccessPointProps {
                    file_system_id: RefOr::Value(ap.file_system_id().unwrap_or_default().to_owned()),
                    client_token: ap.client_token().unwrap_or_default().to_owned(),
                    posix_user: ap.posix_user().map_or(PosixUser { uid: 0, gid: 0 }, |u| PosixUser {
                        uid: u32_of(u.uid()),
                        gid: u32_of(u.gid()),
                    }),
                    root_directory: RootDirectory {
                        path: root.and_then(SdkRoot::path).unwrap_or("/").to_owned(),
                        owner_uid: info.map_or(0, |i| u32_of(i.owner_uid())),
                        owner_gid: info.map_or(0, |i| u32_of(i.owner_gid())),
                        permissions: info.map_or_else(String::new, |i| i.permissions().to_owned()),
                    },
                },
            );
            item.arn = ap.access_point_arn().map(str::to_owned);
            item.state = ap.life_cycle_state().map(|s| s.as_str().to_owned());
            item.tags = tags_of(ap.tags());
            found.push(item);
        }
        Ok(found)
    }

    async fn create_access_point(&self, props: AccessPointProps, tags: Tags) -> AwsResult<(String, String)> {
        const OP: &str = "CreateAccessPoint";
        let invalid = |e: aws_smithy_types::error::operation::BuildError| {
            AwsError::new(ErrorKind::Invalid, SERVICE, OP, e.to_string())
        };
        let root = &props.root_directory;
        let out = self
            .client
            .create_access_point()
            .client_token(&props.client_token)
            .file_system_id(literal(&props.file_system_id, SERVICE, OP)?)
            .posix_user(
                SdkPosixUser::builder()
                    .uid(i64::from(props.posix_user.uid))
                    .gid(i64::from(props.posix_user.gid))
                    .build()
                    .map_err(invalid)?,
            )
            .root_directory(
                SdkRoot::builder()
                    .path(&root.path)
                    .creation_info(
                        CreationInfo::builder()
                            .owner_uid(i64::from(root.owner_uid))
                            .owner_gid(i64::from(root.owner_gid))
                            .permissions(&root.permissions)
                            .build()
                            .map_err(invalid)?,
                    )
                    .build(),
            )
            .set_tags(Some(sdk_tags(OP, &tags)?))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        let id = out.access_point_id().ok_or_else(|| missing(SERVICE, OP, "AccessPointId"))?;
        let arn = out.access_point_arn().ok_or_else(|| missing(SERVICE, OP, "AccessPointArn"))?;
        Ok((id.to_owned(), arn.to_owned()))
    }

    async fn delete_access_point(&self, access_point_id: String) -> AwsResult<()> {
        self.client
            .delete_access_point()
            .access_point_id(access_point_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteAccessPoint"))?;
        Ok(())
    }

    async fn tag_resource(&self, resource_id: String, tags: Tags) -> AwsResult<()> {
        self.client
            .tag_resource()
            .resource_id(resource_id)
            .set_tags(Some(sdk_tags("TagResource", &tags)?))
            .send()
            .await
            .map_err(err(SERVICE, "TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, resource_id: String, keys: Vec<String>) -> AwsResult<()> {
        self.client
            .untag_resource()
            .resource_id(resource_id)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(err(SERVICE, "UntagResource"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_efs::operation::create_file_system::CreateFileSystemError;
    use aws_sdk_efs::operation::describe_access_points::DescribeAccessPointsOutput;
    use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
    use aws_sdk_efs::operation::describe_mount_target_security_groups::{
        DescribeMountTargetSecurityGroupsError, DescribeMountTargetSecurityGroupsOutput,
    };
    use aws_sdk_efs::operation::describe_mount_targets::DescribeMountTargetsOutput;
    use aws_sdk_efs::types::error::FileSystemAlreadyExists;
    use aws_sdk_efs::types::{AccessPointDescription, FileSystemDescription, LifeCycleState, MountTargetDescription};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn fs(id: &str) -> FileSystemDescription {
        FileSystemDescription::builder()
            .owner_id("123456789012")
            .creation_token("shop-efs")
            .file_system_id(id)
            .file_system_arn(format!("arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/{id}"))
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .life_cycle_state(LifeCycleState::Available)
            .number_of_mount_targets(2)
            .size_in_bytes(aws_sdk_efs::types::FileSystemSize::builder().value(0).build())
            .performance_mode(PerformanceMode::GeneralPurpose)
            .encrypted(true)
            .throughput_mode(ThroughputMode::Elastic)
            .tags(Tag::builder().key("ecs-kit:id").value("file-system").build().unwrap())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn file_systems_map_to_props() {
        let rule = mock!(Client::describe_file_systems)
            .match_requests(|r| r.creation_token() == Some("shop-efs"))
            .then_output(|| DescribeFileSystemsOutput::builder().file_systems(fs("fs-1")).build());
        let found =
            EfsSdk::new(mock_client!(aws_sdk_efs, [&rule])).describe_file_systems("shop-efs".into()).await.unwrap();
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.id, "fs-1");
        assert_eq!(f.state.as_deref(), Some("available"));
        assert_eq!(
            f.props,
            FileSystemProps {
                creation_token: "shop-efs".into(),
                encrypted: true,
                kms_key_id: None,
                performance_mode: "generalPurpose".into(),
                throughput_mode: "elastic".into(),
            }
        );
        assert_eq!(f.tags.get("ecs-kit:id").map(String::as_str), Some("file-system"));
        assert_eq!(f.attrs["number_of_mount_targets"], "2");
    }

    #[tokio::test]
    async fn mount_targets_follow_pages_and_name_their_network_interfaces() {
        let mt = |id: &str, subnet: &str| {
            MountTargetDescription::builder()
                .mount_target_id(id)
                .file_system_id("fs-1")
                .subnet_id(subnet)
                .life_cycle_state(LifeCycleState::Creating)
                .availability_zone_name("us-west-2a")
                .network_interface_id(format!("eni-{id}"))
                .build()
                .unwrap()
        };
        let pages = mock!(Client::describe_mount_targets)
            .sequence()
            .output(move || {
                DescribeMountTargetsOutput::builder().mount_targets(mt("fsmt-1", "subnet-a")).next_marker("m").build()
            })
            .output(move || DescribeMountTargetsOutput::builder().mount_targets(mt("fsmt-2", "subnet-b")).build())
            .build();
        let groups = mock!(Client::describe_mount_target_security_groups)
            .match_requests(|r| r.mount_target_id() == Some("fsmt-1"))
            .then_output(|| {
                DescribeMountTargetSecurityGroupsOutput::builder()
                    .security_groups("sg-2")
                    .security_groups("sg-1")
                    .build()
                    .unwrap()
            });
        let client = mock_client!(aws_sdk_efs, RuleMode::MatchAny, [&pages, &groups]);
        let efs = EfsSdk::new(client);
        let found = efs.describe_mount_targets("fs-1".into()).await.unwrap();
        assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["fsmt-1", "fsmt-2"]);
        assert_eq!(found[1].props.subnet_id, RefOr::Value("subnet-b".into()));
        assert!(found[0].props.security_groups.is_empty(), "read apart");
        assert_eq!(found[0].attrs["network_interface_id"], "eni-fsmt-1");
        assert_eq!(found[0].state.as_deref(), Some("creating"));
        assert_eq!(groups.num_calls(), 0);
        assert_eq!(efs.describe_mount_target_security_groups("fsmt-1".into()).await.unwrap(), ["sg-2", "sg-1"]);
    }

    /// A mount target deleted since it was listed: not found (the read leaves it out).
    #[tokio::test]
    async fn the_security_groups_of_a_deleted_mount_target_are_not_found() {
        let gone = mock!(Client::describe_mount_target_security_groups).then_error(|| {
            DescribeMountTargetSecurityGroupsError::MountTargetNotFound(
                aws_sdk_efs::types::error::MountTargetNotFound::builder()
                    .error_code("MountTargetNotFound")
                    .message("Mount target 'fsmt-2' does not exist.")
                    .meta(
                        ErrorMetadata::builder()
                            .code("MountTargetNotFound")
                            .message("Mount target 'fsmt-2' does not exist.")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
        });
        let client = mock_client!(aws_sdk_efs, [&gone]);
        let e = EfsSdk::new(client).describe_mount_target_security_groups("fsmt-2".into()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    }

    #[tokio::test]
    async fn access_points_map_to_props() {
        let rule = mock!(Client::describe_access_points).then_output(|| {
            DescribeAccessPointsOutput::builder()
                .access_points(
                    AccessPointDescription::builder()
                        .access_point_id("fsap-1")
                        .access_point_arn("arn:aws:elasticfilesystem:us-west-2:123456789012:access-point/fsap-1")
                        .client_token("shop-web")
                        .file_system_id("fs-1")
                        .posix_user(SdkPosixUser::builder().uid(1000).gid(1000).build().unwrap())
                        .root_directory(
                            SdkRoot::builder()
                                .path("/web")
                                .creation_info(
                                    CreationInfo::builder()
                                        .owner_uid(1000)
                                        .owner_gid(1000)
                                        .permissions("0755")
                                        .build()
                                        .unwrap(),
                                )
                                .build(),
                        )
                        .life_cycle_state(LifeCycleState::Available)
                        .build(),
                )
                .build()
        });
        let found =
            EfsSdk::new(mock_client!(aws_sdk_efs, [&rule])).describe_access_points("fs-1".into()).await.unwrap();
        assert_eq!(
            found[0].props,
            AccessPointProps {
                file_system_id: RefOr::Value("fs-1".into()),
                client_token: "shop-web".into(),
                posix_user: PosixUser { uid: 1000, gid: 1000 },
                root_directory: RootDirectory {
                    path: "/web".into(),
                    owner_uid: 1000,
                    owner_gid: 1000,
                    permissions: "0755".into()
                },
            }
        );
        assert_eq!(
            found[0].arn.as_deref(),
            Some("arn:aws:elasticfilesystem:us-west-2:123456789012:access-point/fsap-1")
        );
    }

    #[tokio::test]
    async fn a_taken_creation_token_is_already_exists_and_refs_are_refused() {
        let rule = mock!(Client::create_file_system).then_error(|| {
            CreateFileSystemError::FileSystemAlreadyExists(
                FileSystemAlreadyExists::builder()
                    .error_code("FileSystemAlreadyExists")
                    .file_system_id("fs-1")
                    .meta(ErrorMetadata::builder().code("FileSystemAlreadyExists").build())
                    .build()
                    .unwrap(),
            )
        });
        let efs = EfsSdk::new(mock_client!(aws_sdk_efs, [&rule]));
        let props = FileSystemProps {
            creation_token: "shop-efs".into(),
            encrypted: true,
            kms_key_id: None,
            performance_mode: "generalPurpose".into(),
            throughput_mode: "bursting".into(),
        };
        let e = efs.create_file_system(props, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
        let unresolved = MountTargetProps {
            file_system_id: RefOr::to(&"file-system".into(), crate::graph::Attr::Id),
            subnet_id: RefOr::Value("subnet-a".into()),
            security_groups: vec![],
        };
        let e = efs.create_mount_target(unresolved).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.to_string().contains("unresolved reference to file-system"), "{e}");
    }
}
