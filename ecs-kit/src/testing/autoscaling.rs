//! The fake's EC2 Auto Scaling: groups whose instances exist as a count.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{aws_error, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, Timing};
use crate::aws::{literal, AutoScalingApi, AwsResult, Found, Tags};
use crate::graph::props::{AutoScalingGroupProps, RefOr};
use crate::graph::ResourceType;

const SERVICE: &str = "autoscaling";
/// The tag ECS puts on a group its managed scaling drives.
pub(crate) const ECS_MANAGED_TAG: &str = "AmazonECSManaged";
/// The status of a group being deleted.
const DELETING: &str = "Delete in progress";

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub arn: String,
    props: AutoScalingGroupProps,
    /// Launched instances.
    pub instances: u32,
    deleting: Option<Instant>,
    meta: Meta,
}

impl Group {
    /// Its launch template.
    pub fn template(&self) -> RefOr<String> {
        self.props.launch_template_id.clone()
    }

    /// Whether new instances are protected from scale-in.
    pub fn protected_from_scale_in(&self) -> bool {
        self.props.new_instances_protected_from_scale_in
    }
}

/// Groups by name.
#[derive(Debug, Default)]
pub(crate) struct AsgState {
    pub groups: BTreeMap<String, Group>,
}

impl AsgState {
    pub fn advance(&mut self, now: Instant, timing: Timing) {
        self.groups.retain(|_, g| {
            g.deleting.is_none_or(|since| now.saturating_duration_since(since) < timing.auto_scaling_group_delete)
        });
    }

    /// Whether a group's instances run in `subnet`.
    pub fn uses_subnet(&self, subnet: &str) -> bool {
        self.groups
            .values()
            .any(|g| g.instances > 0 && g.props.subnet_ids.iter().any(|s| matches!(s, RefOr::Value(v) if v == subnet)))
    }

    /// The launch templates of groups with instances.
    pub fn templates_in_use(&self) -> Vec<String> {
        self.groups
            .values()
            .filter(|g| g.instances > 0)
            .filter_map(|g| match &g.props.launch_template_id {
                RefOr::Value(v) => Some(v.clone()),
                RefOr::Ref(_) => None,
            })
            .collect()
    }

    /// The group whose ARN is `arn`.
    pub fn by_arn(&mut self, arn: &str) -> Option<&mut Group> {
        self.groups.values_mut().find(|g| g.arn == arn && g.deleting.is_none())
    }

    /// Marks the group as driven by ECS managed scaling, as ECS does.
    pub fn mark_managed(&mut self, arn: &str) {
        if let Some(g) = self.by_arn(arn) {
            g.meta.tags.insert(ECS_MANAGED_TAG.into(), String::new());
        }
    }

    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (name, g) in &self.groups {
            let state = g.deleting.map(|_| DELETING);
            push(out, ResourceType::AutoScalingGroup, name, Some(name), state, &g.meta.tags);
        }
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> crate::aws::AwsError {
    aws_error(SERVICE, operation, code, message)
}

fn missing(operation: &str, name: &str) -> crate::aws::AwsError {
    let mut e = err(operation, "ValidationError", format!("AutoScalingGroup name not found - no such group: {name}"));
    e.kind = crate::aws::ErrorKind::NotFound;
    e
}

/// Checks the template, subnets and sizes of `props` against the cloud.
fn check(s: &super::State, props: &AutoScalingGroupProps, desired: Option<u32>, operation: &str) -> AwsResult<()> {
    let template = literal(&props.launch_template_id, SERVICE, operation)?;
    if !s.ec2.templates.contains_key(template) {
        return Err(err(operation, "ValidationError", format!("The launch template {template} does not exist")));
    }
    if props.subnet_ids.is_empty() {
        return Err(err(operation, "ValidationError", "at least one subnet is needed"));
    }
    for subnet in &props.subnet_ids {
        let subnet = literal(subnet, SERVICE, operation)?;
        if !s.ec2.subnets.contains_key(subnet) {
            return Err(err(operation, "ValidationError", format!("The subnet ID '{subnet}' does not exist")));
        }
    }
    if props.min_size > props.max_size || desired.is_some_and(|d| d < props.min_size || d > props.max_size) {
        return Err(err(operation, "ValidationError", "min <= desired <= max does not hold"));
    }
    Ok(())
}

#[async_trait]
impl AutoScalingApi for Fake {
    async fn describe_auto_scaling_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<AutoScalingGroupProps>>> {
        let mut s = self.begin(SERVICE, "DescribeAutoScalingGroups").await?;
        let mut out = Vec::new();
        for (name, g) in &mut s.autoscaling.groups {
            if !names.contains(name) || !visible(&mut g.meta) {
                continue;
            }
            let mut props = g.props.clone();
            props.desired_capacity = g.instances;
            props.desired_capacity_managed_by_ecs = g.meta.tags.contains_key(ECS_MANAGED_TAG);
            let mut subnets: Vec<RefOr<String>> = props.subnet_ids.clone();
            subnets.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            subnets.dedup();
            props.subnet_ids = subnets;
            let mut f = Found::new(name.clone(), props);
            f.arn = Some(g.arn.clone());
            f.state = g.deleting.map(|_| DELETING.to_owned());
            f.tags = g.meta.tags.clone();
            f.attrs.insert("instances".into(), g.instances.to_string());
            out.push(f);
        }
        Ok(out)
    }

    async fn create_auto_scaling_group(&self, props: AutoScalingGroupProps, tags: Tags) -> AwsResult<()> {
        const OP: &str = "CreateAutoScalingGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        let name = props.auto_scaling_group_name.clone();
        if s.autoscaling.groups.contains_key(&name) {
            return Err(err(
                OP,
                "AlreadyExists",
                format!("AutoScalingGroup by this name already exists - A group with the name {name} already exists"),
            ));
        }
        check(&s, &props, Some(props.desired_capacity), OP)?;
        let uuid = format!("{}-{}-{}-{}-{}", s.hex(8), s.hex(4), s.hex(4), s.hex(4), s.hex(12));
        let arn = self.arn("autoscaling", &format!("autoScalingGroup:{uuid}:autoScalingGroupName/{name}"));
        let meta = s.meta(OP, tags);
        let instances = props.desired_capacity;
        s.autoscaling.groups.insert(name, Group { arn, props, instances, deleting: None, meta });
        Ok(())
    }

    async fn update_auto_scaling_group(&self, props: AutoScalingGroupProps, set_desired: bool) -> AwsResult<()> {
        const OP: &str = "UpdateAutoScalingGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        let name = props.auto_scaling_group_name.clone();
        let current = match s.autoscaling.groups.get(&name) {
            Some(g) if g.deleting.is_none() => g.instances,
            _ => return Err(missing(OP, &name)),
        };
        let desired = if set_desired { props.desired_capacity } else { current.clamp(props.min_size, props.max_size) };
        check(&s, &props, Some(desired), OP)?;
        if let Some(g) = s.autoscaling.groups.get_mut(&name) {
            g.props = props;
            g.instances = desired;
        }
        Ok(())
    }

    async fn delete_auto_scaling_group(&self, name: String, force: bool) -> AwsResult<()> {
        const OP: &str = "DeleteAutoScalingGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        let timing = s.timing;
        let group = s.autoscaling.groups.get_mut(&name).ok_or_else(|| missing(OP, &name))?;
        if group.deleting.is_some() {
            return Err(err(OP, "ScalingActivityInProgress", "the group is being deleted"));
        }
        if group.instances > 0 && !force {
            return Err(err(
                OP,
                "ResourceInUse",
                "You cannot delete an AutoScalingGroup while there are instances still in the group.",
            ));
        }
        group.deleting = Some(Instant::now());
        s.autoscaling.advance(Instant::now(), timing);
        Ok(())
    }

    async fn create_or_update_tags(&self, name: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "CreateOrUpdateTags";
        let mut s = self.begin(SERVICE, OP).await?;
        merge_tags(&mut s.autoscaling.groups.get_mut(&name).ok_or_else(|| missing(OP, &name))?.meta.tags, tags);
        Ok(())
    }

    async fn delete_tags(&self, name: String, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "DeleteTags";
        let mut s = self.begin(SERVICE, OP).await?;
        remove_tags(&mut s.autoscaling.groups.get_mut(&name).ok_or_else(|| missing(OP, &name))?.meta.tags, &keys);
        Ok(())
    }
}
