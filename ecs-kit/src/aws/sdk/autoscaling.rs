//! EC2 Auto Scaling adapter.

use async_trait::async_trait;
use aws_sdk_autoscaling::types::{AutoScalingGroup, LaunchTemplateSpecification, Tag};
use aws_sdk_autoscaling::Client;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{err, tag_pairs};
use crate::aws::{literal, AutoScalingApi, AwsError, AwsResult, ErrorKind, Found, Tags};
use crate::graph::props::{AutoScalingGroupProps, RefOr};

const SERVICE: &str = "autoscaling";

/// Names per DescribeAutoScalingGroups call.
const NAMES_PER_CALL: usize = 50;
/// Groups per page.
const MAX_RECORDS: i32 = 100;
/// The tag ECS puts on a group whose desired capacity its managed scaling owns.
const ECS_MANAGED_TAG: &str = "AmazonECSManaged";
/// The launch template version used when a group names none.
const DEFAULT_VERSION: &str = "$Default";

/// [`AutoScalingApi`] over `aws-sdk-autoscaling`.
#[derive(Debug, Clone)]
pub struct AutoScalingSdk {
    client: Client,
}

impl AutoScalingSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        AutoScalingSdk { client }
    }
}

/// [`err`], but a missing group is [`ErrorKind::NotFound`]: Auto Scaling reports it as
/// `ValidationError` ("AutoScalingGroup name not found - ...").
fn group_err<E>(operation: &'static str) -> impl Fn(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        let mut e = err(SERVICE, operation)(e);
        if e.code.as_deref() == Some("ValidationError")
            && e.message.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("name not found"))
        {
            e.kind = ErrorKind::NotFound;
        }
        e
    }
}

fn u32_of(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn i32_of(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A group tag: not propagated, instances get their tags from the launch template.
fn group_tag(group: &str, key: &str, value: Option<&str>) -> Tag {
    Tag::builder()
        .resource_id(group)
        .resource_type("auto-scaling-group")
        .key(key)
        .set_value(value.map(str::to_owned))
        .propagate_at_launch(false)
        .build()
}

fn group_tags(group: &str, tags: &Tags) -> Option<Vec<Tag>> {
    if tags.is_empty() {
        None
    } else {
        Some(tag_pairs(tags).map(|(k, v)| group_tag(group, k, Some(v))).collect())
    }
}

fn launch_template(props: &AutoScalingGroupProps, operation: &str) -> AwsResult<LaunchTemplateSpecification> {
    Ok(LaunchTemplateSpecification::builder()
        .launch_template_id(literal(&props.launch_template_id, SERVICE, operation)?)
        .version(&props.launch_template_version)
        .build())
}

fn vpc_zone_identifier(props: &AutoScalingGroupProps, operation: &str) -> AwsResult<String> {
    let ids = props.subnet_ids.iter().map(|s| literal(s, SERVICE, operation)).collect::<AwsResult<Vec<&str>>>()?;
    Ok(ids.join(","))
}

/// A group in the graph's shape, with its tags and the attribute `instances`.
fn group_found(group: &AutoScalingGroup) -> Option<Found<AutoScalingGroupProps>> {
    let name = group.auto_scaling_group_name()?;
    let template = group
        .launch_template()
        .or_else(|| group.mixed_instances_policy()?.launch_template()?.launch_template_specification());
    let mut subnets: Vec<String> = group
        .vpc_zone_identifier()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    subnets.sort();
    subnets.dedup();
    let tags: Tags = group
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    let props = AutoScalingGroupProps {
        auto_scaling_group_name: name.to_owned(),
        launch_template_id: RefOr::Value(
            template.and_then(LaunchTemplateSpecification::launch_template_id).unwrap_or_default().to_owned(),
        ),
        launch_template_version: template
            .and_then(LaunchTemplateSpecification::version)
            .unwrap_or(DEFAULT_VERSION)
            .to_owned(),
        min_size: u32_of(group.min_size()),
        max_size: u32_of(group.max_size()),
        desired_capacity: u32_of(group.desired_capacity()),
        // Not readable: ECS tags the groups its managed scaling drives.
        desired_capacity_managed_by_ecs: tags.contains_key(ECS_MANAGED_TAG),
        subnet_ids: subnets.into_iter().map(RefOr::Value).collect(),
        health_check_type: group.health_check_type().unwrap_or("EC2").to_owned(),
        health_check_grace_period: u32_of(group.health_check_grace_period()),
        new_instances_protected_from_scale_in: group.new_instances_protected_from_scale_in().unwrap_or(false),
    };
    let mut found = Found::new(name, props);
    found.arn = group.auto_scaling_group_arn().map(str::to_owned);
    // Only set while the group is being deleted ("Delete in progress").
    found.state = group.status().map(str::to_owned);
    found.tags = tags;
    found.attrs.insert("instances".into(), group.instances().len().to_string());
    Some(found)
}

#[async_trait]
impl AutoScalingApi for AutoScalingSdk {
    async fn describe_auto_scaling_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<AutoScalingGroupProps>>> {
        // No names would list every group of the region.
        let mut names = names;
        names.sort();
        names.dedup();
        let mut found = Vec::new();
        for chunk in names.chunks(NAMES_PER_CALL) {
            let groups: Vec<AutoScalingGroup> = self
                .client
                .describe_auto_scaling_groups()
                .set_auto_scaling_group_names(Some(chunk.to_vec()))
                .max_records(MAX_RECORDS)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(err(SERVICE, "DescribeAutoScalingGroups"))?;
            found.extend(groups.iter().filter_map(group_found));
        }
        Ok(found)
    }

    async fn create_auto_scaling_group(&self, props: AutoScalingGroupProps, tags: Tags) -> AwsResult<()> {
        const OP: &str = "CreateAutoScalingGroup";
        self.client
            .create_auto_scaling_group()
            .auto_scaling_group_name(&props.auto_scaling_group_name)
            .launch_template(launch_template(&props, OP)?)
            .min_size(i32_of(props.min_size))
            .max_size(i32_of(props.max_size))
            .desired_capacity(i32_of(props.desired_capacity))
            .vpc_zone_identifier(vpc_zone_identifier(&props, OP)?)
            .health_check_type(&props.health_check_type)
            .health_check_grace_period(i32_of(props.health_check_grace_period))
            .new_instances_protected_from_scale_in(props.new_instances_protected_from_scale_in)
            .set_tags(group_tags(&props.auto_scaling_group_name, &tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn update_auto_scaling_group(&self, props: AutoScalingGroupProps, set_desired: bool) -> AwsResult<()> {
        const OP: &str = "UpdateAutoScalingGroup";
        self.client
            .update_auto_scaling_group()
            .auto_scaling_group_name(&props.auto_scaling_group_name)
            .launch_template(launch_template(&props, OP)?)
            .min_size(i32_of(props.min_size))
            .max_size(i32_of(props.max_size))
            .set_desired_capacity(set_desired.then(|| i32_of(props.desired_capacity)))
            .vpc_zone_identifier(vpc_zone_identifier(&props, OP)?)
            .health_check_type(&props.health_check_type)
            .health_check_grace_period(i32_of(props.health_check_grace_period))
            .new_instances_protected_from_scale_in(props.new_instances_protected_from_scale_in)
            .send()
            .await
            .map_err(group_err(OP))?;
        Ok(())
    }

    async fn delete_auto_scaling_group(&self, name: String, force: bool) -> AwsResult<()> {
        self.client
            .delete_auto_scaling_group()
            .auto_scaling_group_name(name)
            .force_delete(force)
            .send()
            .await
            .map_err(group_err("DeleteAutoScalingGroup"))?;
        Ok(())
    }

    async fn create_or_update_tags(&self, name: String, tags: Tags) -> AwsResult<()> {
        let Some(tags) = group_tags(&name, &tags) else { return Ok(()) };
        self.client
            .create_or_update_tags()
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(group_err("CreateOrUpdateTags"))?;
        Ok(())
    }

    async fn delete_tags(&self, name: String, keys: Vec<String>) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let tags = keys.iter().map(|k| group_tag(&name, k, None)).collect();
        self.client.delete_tags().set_tags(Some(tags)).send().await.map_err(group_err("DeleteTags"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_autoscaling::operation::create_auto_scaling_group::{
        CreateAutoScalingGroupError, CreateAutoScalingGroupOutput,
    };
    use aws_sdk_autoscaling::operation::create_or_update_tags::CreateOrUpdateTagsOutput;
    use aws_sdk_autoscaling::operation::delete_auto_scaling_group::{
        DeleteAutoScalingGroupError, DeleteAutoScalingGroupOutput,
    };
    use aws_sdk_autoscaling::operation::delete_tags::DeleteTagsOutput;
    use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
    use aws_sdk_autoscaling::operation::update_auto_scaling_group::UpdateAutoScalingGroupOutput;
    use aws_sdk_autoscaling::types::error::{AlreadyExistsFault, ResourceInUseFault, ScalingActivityInProgressFault};
    use aws_sdk_autoscaling::types::{Instance, LaunchTemplate, LifecycleState, MixedInstancesPolicy, TagDescription};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::ErrorKind;
    use crate::graph::props::{Attr, Ref};
    use crate::graph::LogicalId;

    fn arn(name: &str) -> String {
        format!(
            "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:8f2a1c3e-1111-2222-3333-444455556666:autoScalingGroupName/{name}"
        )
    }

    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(format!("{code} happened")).build()
    }

    fn tag(group: &str, key: &str, value: &str, propagate: bool) -> TagDescription {
        TagDescription::builder()
            .resource_id(group)
            .resource_type("auto-scaling-group")
            .key(key)
            .value(value)
            .propagate_at_launch(propagate)
            .build()
    }

    fn instance(id: &str) -> Instance {
        Instance::builder()
            .instance_id(id)
            .availability_zone("us-west-2a")
            .lifecycle_state(LifecycleState::InService)
            .health_status("Healthy")
            .protected_from_scale_in(false)
            .build()
    }

    fn group(name: &str) -> AutoScalingGroup {
        group_builder(name).build()
    }

    fn group_builder(name: &str) -> aws_sdk_autoscaling::types::builders::AutoScalingGroupBuilder {
        AutoScalingGroup::builder()
            .auto_scaling_group_name(name)
            .auto_scaling_group_arn(arn(name))
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id("lt-0abc")
                    .launch_template_name("shop-instances")
                    .version("$Default")
                    .build(),
            )
            .min_size(1)
            .max_size(4)
            .desired_capacity(2)
            .default_cooldown(300)
            .availability_zones("us-west-2a")
            .availability_zones("us-west-2b")
            .health_check_type("EC2")
            .health_check_grace_period(0)
            .vpc_zone_identifier("subnet-0bbb,subnet-0aaa")
            .new_instances_protected_from_scale_in(false)
    }

    fn value(s: &str) -> RefOr<String> {
        RefOr::Value(s.to_owned())
    }

    fn props(name: &str) -> AutoScalingGroupProps {
        AutoScalingGroupProps {
            auto_scaling_group_name: name.into(),
            launch_template_id: value("lt-0abc"),
            launch_template_version: "$Default".into(),
            min_size: 1,
            max_size: 4,
            desired_capacity: 2,
            desired_capacity_managed_by_ecs: false,
            subnet_ids: vec![value("subnet-0aaa"), value("subnet-0bbb")],
            health_check_type: "EC2".into(),
            health_check_grace_period: 0,
            new_instances_protected_from_scale_in: false,
        }
    }

    #[tokio::test]
    async fn groups_map_to_props() {
        let rule = mock!(Client::describe_auto_scaling_groups)
            .match_requests(|r| r.auto_scaling_group_names() == ["shop-instances"] && r.max_records() == Some(100))
            .then_output(|| {
                let mut g = group_builder("shop-instances");
                g = g
                    .instances(instance("i-0aaa"))
                    .instances(instance("i-0bbb"))
                    .tags(tag("shop-instances", "ecs-kit:stack", "shop", false))
                    .tags(tag("shop-instances", "AmazonECSManaged", "", true));
                DescribeAutoScalingGroupsOutput::builder().auto_scaling_groups(g.build()).build()
            });
        let client = mock_client!(aws_sdk_autoscaling, [&rule]);
        let found =
            AutoScalingSdk::new(client).describe_auto_scaling_groups(vec!["shop-instances".into()]).await.unwrap();
        assert_eq!(
            found,
            vec![Found {
                id: "shop-instances".into(),
                arn: Some(arn("shop-instances")),
                state: None,
                props: AutoScalingGroupProps { desired_capacity_managed_by_ecs: true, ..props("shop-instances") },
                tags: BTreeMap::from([
                    ("AmazonECSManaged".to_owned(), String::new()),
                    ("ecs-kit:stack".to_owned(), "shop".to_owned()),
                ]),
                attrs: BTreeMap::from([("instances".to_owned(), "2".to_owned())]),
            }]
        );
    }

    #[tokio::test]
    async fn a_mixed_instances_policy_gives_the_template_and_a_deleting_group_its_status() {
        let rule = mock!(Client::describe_auto_scaling_groups).then_output(|| {
            let g = group_builder("shop-instances")
                .set_launch_template(None)
                .mixed_instances_policy(
                    MixedInstancesPolicy::builder()
                        .launch_template(
                            LaunchTemplate::builder()
                                .launch_template_specification(
                                    LaunchTemplateSpecification::builder()
                                        .launch_template_id("lt-0mix")
                                        .version("3")
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .status("Delete in progress")
                .build();
            DescribeAutoScalingGroupsOutput::builder().auto_scaling_groups(g).build()
        });
        let client = mock_client!(aws_sdk_autoscaling, [&rule]);
        let found =
            AutoScalingSdk::new(client).describe_auto_scaling_groups(vec!["shop-instances".into()]).await.unwrap();
        assert_eq!(found[0].props.launch_template_id, value("lt-0mix"));
        assert_eq!(found[0].props.launch_template_version, "3");
        assert!(!found[0].props.desired_capacity_managed_by_ecs);
        assert_eq!(found[0].state.as_deref(), Some("Delete in progress"));
        assert_eq!(found[0].attrs.get("instances").map(String::as_str), Some("0"));
    }

    #[tokio::test]
    async fn names_go_50_at_a_time_and_pages_are_followed() {
        // 60 names: a first call of 50 answered in two pages, then a call of 10; the
        // missing names are simply not listed.
        let first = mock!(Client::describe_auto_scaling_groups)
            .match_requests(|r| r.auto_scaling_group_names().len() == 50 && r.next_token().is_none())
            .then_output(|| {
                DescribeAutoScalingGroupsOutput::builder()
                    .auto_scaling_groups(group("g-00"))
                    .auto_scaling_groups(group("g-01"))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::describe_auto_scaling_groups)
            .match_requests(|r| r.auto_scaling_group_names().len() == 50 && r.next_token() == Some("page-2"))
            .then_output(|| DescribeAutoScalingGroupsOutput::builder().auto_scaling_groups(group("g-49")).build());
        let rest = mock!(Client::describe_auto_scaling_groups)
            .match_requests(|r| r.auto_scaling_group_names().len() == 10 && r.max_records() == Some(100))
            .then_output(|| DescribeAutoScalingGroupsOutput::builder().auto_scaling_groups(group("g-59")).build());
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&first, &second, &rest]);
        let names: Vec<String> = (0..60).rev().map(|i| format!("g-{i:02}")).collect();
        let found = AutoScalingSdk::new(client).describe_auto_scaling_groups(names).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["g-00", "g-01", "g-49", "g-59"]);
        assert_eq!((first.num_calls(), second.num_calls(), rest.num_calls()), (1, 1, 1));
    }

    #[tokio::test]
    async fn no_names_make_no_call() {
        let rule = mock!(Client::describe_auto_scaling_groups)
            .then_output(|| DescribeAutoScalingGroupsOutput::builder().auto_scaling_groups(group("other")).build());
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&rule]);
        assert!(AutoScalingSdk::new(client).describe_auto_scaling_groups(vec![]).await.unwrap().is_empty());
        assert_eq!(rule.num_calls(), 0);
    }

    #[tokio::test]
    async fn create_sends_the_template_subnets_and_unpropagated_tags() {
        let rule = mock!(Client::create_auto_scaling_group)
            .match_requests(|r| {
                let lt = r.launch_template();
                r.auto_scaling_group_name() == Some("shop-instances")
                    && lt.and_then(LaunchTemplateSpecification::launch_template_id) == Some("lt-0abc")
                    && lt.and_then(LaunchTemplateSpecification::version) == Some("$Default")
                    && r.min_size() == Some(1)
                    && r.max_size() == Some(4)
                    && r.desired_capacity() == Some(2)
                    && r.vpc_zone_identifier() == Some("subnet-0aaa,subnet-0bbb")
                    && r.health_check_type() == Some("EC2")
                    && r.health_check_grace_period() == Some(0)
                    && r.new_instances_protected_from_scale_in() == Some(false)
                    && r.tags().len() == 2
                    && r.tags().iter().all(|t| {
                        t.propagate_at_launch() == Some(false)
                            && t.resource_id() == Some("shop-instances")
                            && t.resource_type() == Some("auto-scaling-group")
                    })
                    && r.tags()[0].key() == Some("Name")
                    && r.tags()[0].value() == Some("shop")
            })
            .then_output(|| CreateAutoScalingGroupOutput::builder().build());
        let client = mock_client!(aws_sdk_autoscaling, [&rule]);
        let tags =
            Tags::from([("Name".to_owned(), "shop".to_owned()), ("ecs-kit:stack".to_owned(), "shop".to_owned())]);
        AutoScalingSdk::new(client).create_auto_scaling_group(props("shop-instances"), tags).await.unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn update_sets_the_desired_capacity_only_when_asked() {
        let with = mock!(Client::update_auto_scaling_group)
            .match_requests(|r| {
                r.desired_capacity() == Some(2) && r.vpc_zone_identifier() == Some("subnet-0aaa,subnet-0bbb")
            })
            .then_output(|| UpdateAutoScalingGroupOutput::builder().build());
        let without = mock!(Client::update_auto_scaling_group)
            .match_requests(|r| r.desired_capacity().is_none() && r.min_size() == Some(1) && r.max_size() == Some(4))
            .then_output(|| UpdateAutoScalingGroupOutput::builder().build());
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&with, &without]);
        let asg = AutoScalingSdk::new(client);
        asg.update_auto_scaling_group(props("shop-instances"), true).await.unwrap();
        asg.update_auto_scaling_group(props("shop-instances"), false).await.unwrap();
        assert_eq!((with.num_calls(), without.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn an_existing_group_is_already_exists_and_refs_are_refused() {
        let rule = mock!(Client::create_auto_scaling_group).then_error(|| {
            CreateAutoScalingGroupError::AlreadyExistsFault(
                AlreadyExistsFault::builder()
                    .message("AutoScalingGroup by this name already exists")
                    .meta(meta("AlreadyExists"))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&rule]);
        let asg = AutoScalingSdk::new(client);
        let e = asg.create_auto_scaling_group(props("shop-instances"), Tags::new()).await.unwrap_err();
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::AlreadyExists, Some("AlreadyExists")));
        let mut unresolved = props("shop-instances");
        unresolved.subnet_ids.push(RefOr::Ref(Ref { id: LogicalId::new("subnet/private-c"), attr: Attr::Id }));
        let e = asg.create_auto_scaling_group(unresolved, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn delete_forces_when_asked_and_busy_groups_are_conflicts() {
        let forced = mock!(Client::delete_auto_scaling_group)
            .match_requests(|r| r.force_delete() == Some(true))
            .then_output(|| DeleteAutoScalingGroupOutput::builder().build());
        let in_use = mock!(Client::delete_auto_scaling_group)
            .match_requests(|r| r.auto_scaling_group_name() == Some("busy"))
            .then_error(|| {
                DeleteAutoScalingGroupError::ResourceInUseFault(
                    ResourceInUseFault::builder()
                        .message("You cannot delete an AutoScalingGroup while there are instances")
                        .meta(meta("ResourceInUse"))
                        .build(),
                )
            });
        let scaling = mock!(Client::delete_auto_scaling_group).then_error(|| {
            DeleteAutoScalingGroupError::ScalingActivityInProgressFault(
                ScalingActivityInProgressFault::builder()
                    .message("scaling activity in progress")
                    .meta(meta("ScalingActivityInProgress"))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&forced, &in_use, &scaling]);
        let asg = AutoScalingSdk::new(client);
        asg.delete_auto_scaling_group("shop-instances".into(), true).await.unwrap();
        let e = asg.delete_auto_scaling_group("busy".into(), false).await.unwrap_err();
        assert_eq!((e.kind, e.operation.as_str()), (ErrorKind::Conflict, "DeleteAutoScalingGroup"));
        let e = asg.delete_auto_scaling_group("scaling".into(), false).await.unwrap_err();
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::Conflict, Some("ScalingActivityInProgress")));
        assert_eq!((forced.num_calls(), in_use.num_calls(), scaling.num_calls()), (1, 1, 1));
    }

    #[tokio::test]
    async fn a_missing_group_is_not_found_though_aws_says_validation_error() {
        let gone = mock!(Client::delete_auto_scaling_group)
            .match_requests(|r| r.auto_scaling_group_name() == Some("gone"))
            .then_error(|| {
                DeleteAutoScalingGroupError::generic(
                    ErrorMetadata::builder()
                        .code("ValidationError")
                        .message("AutoScalingGroup name not found - AutoScalingGroup 'gone' not found")
                        .build(),
                )
            });
        let invalid = mock!(Client::delete_auto_scaling_group).then_error(|| {
            DeleteAutoScalingGroupError::generic(
                ErrorMetadata::builder().code("ValidationError").message("1 validation error detected").build(),
            )
        });
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&gone, &invalid]);
        let asg = AutoScalingSdk::new(client);
        let e = asg.delete_auto_scaling_group("gone".into(), true).await.unwrap_err();
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::NotFound, Some("ValidationError")));
        let e = asg.delete_auto_scaling_group(String::new(), true).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
    }

    #[tokio::test]
    async fn tags_are_set_and_removed_on_the_group() {
        let set = mock!(Client::create_or_update_tags)
            .match_requests(|r| {
                r.tags().len() == 1
                    && r.tags()[0].resource_id() == Some("shop-instances")
                    && r.tags()[0].key() == Some("team")
                    && r.tags()[0].value() == Some("web")
                    && r.tags()[0].propagate_at_launch() == Some(false)
            })
            .then_output(|| CreateOrUpdateTagsOutput::builder().build());
        let delete = mock!(Client::delete_tags)
            .match_requests(|r| {
                r.tags().len() == 1
                    && r.tags()[0].key() == Some("old")
                    && r.tags()[0].resource_id() == Some("shop-instances")
            })
            .then_output(|| DeleteTagsOutput::builder().build());
        let client = mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, [&set, &delete]);
        let asg = AutoScalingSdk::new(client);
        asg.create_or_update_tags("shop-instances".into(), Tags::from([("team".to_owned(), "web".to_owned())]))
            .await
            .unwrap();
        asg.delete_tags("shop-instances".into(), vec!["old".into()]).await.unwrap();
        asg.create_or_update_tags("shop-instances".into(), Tags::new()).await.unwrap();
        asg.delete_tags("shop-instances".into(), vec![]).await.unwrap();
        assert_eq!((set.num_calls(), delete.num_calls()), (1, 1));
    }
}
