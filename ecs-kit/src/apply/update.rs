//! In-place updates of the platform's resources: each converges one live object to its
//! declaration with the calls AWS offers for the fields that changed, and nothing else.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::{Clients, Tags};
use crate::diff::Change;
use crate::graph::props::{ImageSource, RefOr, Route, RouteTarget, SecurityGroupRule};
use crate::graph::{Properties, Resource, ResourceType};
use crate::observe::LiveResource;
use crate::walk::StepError;

use super::{lit, resolve, resolve_value, step_error, Known};

/// Types whose every mutable field [`converge`] can change in place. The file system's
/// throughput mode is the one field ecs-kit cannot change yet.
pub(super) fn can_update(change: &Change) -> bool {
    use ResourceType as T;
    match change.resource_type {
        T::FileSystem => change.fields.iter().all(|f| f.path.starts_with("tags")),
        _ => true,
    }
}

/// The live resource's properties with the stack's own references resolved to the AWS
/// ids they had when it was read (`known` before anything was replaced).
fn live_props(live: &LiveResource, known: &Known) -> Result<Properties, StepError> {
    let mut json = serde_json::to_value(&live.properties).map_err(|e| StepError::Fatal(e.to_string()))?;
    resolve_value(&mut json, known).map_err(StepError::Retryable)?;
    Properties::from_json(live.resource_type, json).map_err(|e| StepError::Fatal(e.to_string()))
}

fn lits(values: &[RefOr<String>]) -> Result<Vec<String>, StepError> {
    values.iter().map(lit).collect()
}

fn set_of(values: &[String]) -> BTreeSet<String> {
    values.iter().cloned().collect()
}

/// Whether two rules allow the same traffic (AWS keeps one rule per permission, whatever
/// its description).
fn same_permission(a: &SecurityGroupRule, b: &SecurityGroupRule) -> bool {
    (&a.ip_protocol, a.from_port, a.to_port, &a.peer) == (&b.ip_protocol, b.from_port, b.to_port, &b.peer)
}

/// Rules in `a` whose permission `b` lacks.
fn missing(a: &[SecurityGroupRule], b: &[SecurityGroupRule]) -> Vec<SecurityGroupRule> {
    a.iter().filter(|r| !b.iter().any(|x| same_permission(r, x))).cloned().collect()
}

/// Rules of `want` that `have` holds with another description, as (have's, want's).
fn redescribed(
    want: &[SecurityGroupRule],
    have: &[SecurityGroupRule],
) -> (Vec<SecurityGroupRule>, Vec<SecurityGroupRule>) {
    want.iter()
        .filter_map(|w| {
            have.iter()
                .find(|h| same_permission(w, h) && h.description != w.description)
                .map(|h| (h.clone(), w.clone()))
        })
        .unzip()
}

fn route_target(route: &Route) -> Result<String, StepError> {
    match &route.target {
        RouteTarget::GatewayId(g) | RouteTarget::NatGatewayId(g) => lit(g),
    }
}

/// Changes `live` in place until it matches `desired`: properties first, then tags.
/// `desired`'s references resolve through `known` (successors of replaced resources
/// included), `live`'s through `original` (what they referred to when read).
pub(super) async fn converge(
    desired: &Resource,
    live: &LiveResource,
    known: &Known,
    original: &Known,
    clients: &Clients,
) -> Result<(), StepError> {
    let want = resolve(desired, known).map_err(StepError::Retryable)?;
    let have = live_props(live, original)?;
    let id = live.aws_id.clone();
    let arn = live.arn.clone().unwrap_or_else(|| id.clone());
    match (want, have) {
        (Properties::Vpc(w), Properties::Vpc(h)) => {
            if (w.enable_dns_support, w.enable_dns_hostnames) != (h.enable_dns_support, h.enable_dns_hostnames) {
                clients
                    .ec2
                    .modify_vpc_dns(id.clone(), w.enable_dns_support, w.enable_dns_hostnames)
                    .await
                    .map_err(step_error)?;
            }
        }
        (Properties::Subnet(w), Properties::Subnet(h)) => {
            if w.map_public_ip_on_launch != h.map_public_ip_on_launch {
                clients.ec2.modify_subnet_public_ip(id.clone(), w.map_public_ip_on_launch).await.map_err(step_error)?;
            }
        }
        (Properties::RouteTable(w), Properties::RouteTable(h)) => {
            let have_routes: BTreeMap<&str, &Route> =
                h.routes.iter().map(|r| (r.destination_cidr_block.as_str(), r)).collect();
            for route in &w.routes {
                match have_routes.get(route.destination_cidr_block.as_str()) {
                    None => clients.ec2.create_route(id.clone(), route.clone()).await.map_err(step_error)?,
                    Some(old) if route_target(old)? != route_target(route)? => {
                        clients.ec2.replace_route(id.clone(), route.clone()).await.map_err(step_error)?;
                    }
                    Some(_) => {}
                }
            }
            for route in h
                .routes
                .iter()
                .filter(|r| !w.routes.iter().any(|x| x.destination_cidr_block == r.destination_cidr_block))
            {
                clients.ec2.delete_route(id.clone(), route.destination_cidr_block.clone()).await.map_err(step_error)?;
            }
            let (want_subnets, have_subnets) = (set_of(&lits(&w.subnet_ids)?), set_of(&lits(&h.subnet_ids)?));
            for subnet in want_subnets.difference(&have_subnets) {
                clients.ec2.associate_route_table(id.clone(), subnet.clone()).await.map_err(step_error)?;
            }
            for subnet in have_subnets.difference(&want_subnets) {
                let association = live.attrs.get(&format!("assoc:{subnet}")).cloned().ok_or_else(|| {
                    StepError::Fatal(format!("no association id of subnet {subnet} with route table {id}"))
                })?;
                clients.ec2.disassociate_route_table(association).await.map_err(step_error)?;
            }
        }
        (Properties::SecurityGroup(w), Properties::SecurityGroup(h)) => {
            // Authorize first, so traffic allowed in both versions never drops.
            let (add_in, add_out) = (missing(&w.ingress, &h.ingress), missing(&w.egress, &h.egress));
            if !add_in.is_empty() {
                clients.ec2.authorize_ingress(id.clone(), add_in).await.map_err(step_error)?;
            }
            if !add_out.is_empty() {
                clients.ec2.authorize_egress(id.clone(), add_out).await.map_err(step_error)?;
            }
            // A new description is the same permission again: out, then in.
            let (old_in, new_in) = redescribed(&w.ingress, &h.ingress);
            if !old_in.is_empty() {
                clients.ec2.revoke_ingress(id.clone(), old_in).await.map_err(step_error)?;
                clients.ec2.authorize_ingress(id.clone(), new_in).await.map_err(step_error)?;
            }
            let (old_out, new_out) = redescribed(&w.egress, &h.egress);
            if !old_out.is_empty() {
                clients.ec2.revoke_egress(id.clone(), old_out).await.map_err(step_error)?;
                clients.ec2.authorize_egress(id.clone(), new_out).await.map_err(step_error)?;
            }
            let (drop_in, drop_out) = (missing(&h.ingress, &w.ingress), missing(&h.egress, &w.egress));
            if !drop_in.is_empty() {
                clients.ec2.revoke_ingress(id.clone(), drop_in).await.map_err(step_error)?;
            }
            if !drop_out.is_empty() {
                clients.ec2.revoke_egress(id.clone(), drop_out).await.map_err(step_error)?;
            }
        }
        (Properties::LaunchTemplate(w), Properties::LaunchTemplate(h)) => {
            let mut comparable = w.clone();
            comparable.image = h.image.clone();
            let image_changed = match (&w.image, &h.image) {
                (ImageSource::ImageId(a), ImageSource::ImageId(b)) => a != b,
                _ => false,
            };
            if comparable != h || image_changed {
                let image_id = match (&w.image, &h.image) {
                    (ImageSource::ImageId(a), _) => a.clone(),
                    (_, ImageSource::ImageId(b)) => b.clone(),
                    (ImageSource::SsmParameter { name, .. }, _) => {
                        clients.ssm.get_parameter(name.clone()).await.map_err(step_error)?.ok_or_else(|| {
                            StepError::Fatal(format!("the SSM parameter {name} naming the AMI does not exist"))
                        })?
                    }
                };
                // One token per content: a retried step does not add a second version.
                let content = serde_json::to_string(&w).unwrap_or_default();
                let token = crate::model::names::fit(&format!("{}-{content}", w.launch_template_name), 64);
                let version = clients
                    .ec2
                    .create_launch_template_version(id.clone(), w, image_id, token)
                    .await
                    .map_err(step_error)?;
                clients.ec2.set_default_launch_template_version(id.clone(), version).await.map_err(step_error)?;
            }
        }
        (Properties::Role(w), Properties::Role(h)) => {
            let role = w.role_name.clone();
            if w.assume_role_policy != h.assume_role_policy {
                clients
                    .iam
                    .update_assume_role_policy(role.clone(), w.assume_role_policy.clone())
                    .await
                    .map_err(step_error)?;
            }
            if w.description != h.description {
                clients.iam.update_role_description(role.clone(), w.description.clone()).await.map_err(step_error)?;
            }
            let (want_arns, have_arns) = (set_of(&w.managed_policy_arns), set_of(&h.managed_policy_arns));
            for policy in want_arns.difference(&have_arns) {
                clients.iam.attach_role_policy(role.clone(), policy.clone()).await.map_err(step_error)?;
            }
            for policy in have_arns.difference(&want_arns) {
                clients.iam.detach_role_policy(role.clone(), policy.clone()).await.map_err(step_error)?;
            }
            for (name, doc) in &w.inline_policies {
                if h.inline_policies.get(name) != Some(doc) {
                    clients.iam.put_role_policy(role.clone(), name.clone(), doc.clone()).await.map_err(step_error)?;
                }
            }
            for name in h.inline_policies.keys().filter(|n| !w.inline_policies.contains_key(*n)) {
                clients.iam.delete_role_policy(role.clone(), name.clone()).await.map_err(step_error)?;
            }
        }
        (Properties::InstanceProfile(w), Properties::InstanceProfile(h)) => {
            let (new, old) = (lit(&w.role_name)?, lit(&h.role_name)?);
            if new != old {
                let profile = w.instance_profile_name.clone();
                // An apply stopped between creating the profile and adding its role left
                // it empty.
                if !old.is_empty() {
                    clients.iam.remove_role_from_instance_profile(profile.clone(), old).await.map_err(step_error)?;
                }
                clients.iam.add_role_to_instance_profile(profile, new).await.map_err(step_error)?;
            }
        }
        (Properties::AutoScalingGroup(w), Properties::AutoScalingGroup(h)) => {
            // The desired capacity is written only when the declaration owns it and it changed.
            let set_desired = !w.desired_capacity_managed_by_ecs && w.desired_capacity != h.desired_capacity;
            let mut comparable = w.clone();
            if !set_desired {
                comparable.desired_capacity = h.desired_capacity;
            }
            if comparable != h {
                clients.autoscaling.update_auto_scaling_group(w, set_desired).await.map_err(step_error)?;
            }
        }
        (Properties::CapacityProvider(w), Properties::CapacityProvider(h)) => {
            if w != h {
                clients.ecs.update_capacity_provider(w).await.map_err(step_error)?;
            }
        }
        (Properties::Cluster(w), Properties::Cluster(h)) => {
            if w.container_insights != h.container_insights {
                clients
                    .ecs
                    .update_cluster_settings(w.cluster_name.clone(), w.container_insights.clone())
                    .await
                    .map_err(step_error)?;
            }
            if w.capacity_providers != h.capacity_providers
                || w.default_capacity_provider_strategy != h.default_capacity_provider_strategy
            {
                clients
                    .ecs
                    .put_cluster_capacity_providers(
                        w.cluster_name.clone(),
                        lits(&w.capacity_providers)?,
                        w.default_capacity_provider_strategy.clone(),
                    )
                    .await
                    .map_err(step_error)?;
            }
        }
        (Properties::MountTarget(w), Properties::MountTarget(h)) => {
            let groups = lits(&w.security_groups)?;
            if set_of(&groups) != set_of(&lits(&h.security_groups)?) {
                clients.efs.modify_mount_target_security_groups(id.clone(), groups).await.map_err(step_error)?;
            }
        }
        (Properties::LoadBalancer(w), Properties::LoadBalancer(h)) => {
            if w.idle_timeout_seconds != h.idle_timeout_seconds {
                clients.elb.set_idle_timeout(arn.clone(), w.idle_timeout_seconds).await.map_err(step_error)?;
            }
            let groups = lits(&w.security_groups)?;
            if set_of(&groups) != set_of(&lits(&h.security_groups)?) {
                clients.elb.set_security_groups(arn.clone(), groups).await.map_err(step_error)?;
            }
            let subnets = lits(&w.subnets)?;
            if set_of(&subnets) != set_of(&lits(&h.subnets)?) {
                clients.elb.set_subnets(arn.clone(), subnets).await.map_err(step_error)?;
            }
        }
        (Properties::TargetGroup(w), Properties::TargetGroup(h)) => {
            if w.health_check != h.health_check {
                clients.elb.modify_target_group(arn.clone(), w.health_check.clone()).await.map_err(step_error)?;
            }
            if w.deregistration_delay_seconds != h.deregistration_delay_seconds {
                clients
                    .elb
                    .set_deregistration_delay(arn.clone(), w.deregistration_delay_seconds)
                    .await
                    .map_err(step_error)?;
            }
        }
        (Properties::Listener(w), Properties::Listener(h)) => {
            if w != h {
                clients.elb.modify_listener(arn.clone(), w).await.map_err(step_error)?;
            }
        }
        (Properties::ListenerRule(w), Properties::ListenerRule(h)) => {
            if w.priority != h.priority {
                clients.elb.set_rule_priorities(vec![(arn.clone(), w.priority)]).await.map_err(step_error)?;
            }
            if w.path_patterns != h.path_patterns || w.target_group_arn != h.target_group_arn {
                clients.elb.modify_rule(arn.clone(), w).await.map_err(step_error)?;
            }
        }
        (Properties::LogGroup(w), Properties::LogGroup(h)) => {
            if w.retention_in_days != h.retention_in_days {
                clients.logs.put_retention_policy(w.log_group_name, w.retention_in_days).await.map_err(step_error)?;
            }
        }
        // Only tags of these can change in place; the rest is replacement.
        (Properties::InternetGateway(_), _)
        | (Properties::Eip(_), _)
        | (Properties::NatGateway(_), _)
        | (Properties::AccessPoint(_), _)
        | (Properties::FileSystem(_), _) => {}
        _ => return Err(StepError::Fatal(format!("updating a {} in place is not written yet", desired.resource_type))),
    }
    converge_tags(desired, live, clients).await
}

/// Sets the tags `desired` has and `live` lacks or holds otherwise, and removes the
/// ones `live` has beyond them (tags AWS adds itself are never touched).
pub(super) async fn converge_tags(desired: &Resource, live: &LiveResource, clients: &Clients) -> Result<(), StepError> {
    use ResourceType as T;
    let set: Tags = desired
        .tags
        .iter()
        .filter(|(k, v)| live.tags.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unset: Vec<String> = live
        .tags
        .keys()
        .filter(|k| !desired.tags.contains_key(*k) && !crate::diff::aws_added_tag(k))
        .cloned()
        .collect();
    if set.is_empty() && unset.is_empty() {
        return Ok(());
    }
    let id = live.aws_id.clone();
    let arn = live.arn.clone().unwrap_or_else(|| id.clone());
    let t = live.resource_type;
    match t {
        T::Vpc
        | T::InternetGateway
        | T::Subnet
        | T::Eip
        | T::NatGateway
        | T::RouteTable
        | T::SecurityGroup
        | T::LaunchTemplate => {
            if !set.is_empty() {
                clients.ec2.create_tags(vec![id.clone()], set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.ec2.delete_tags(vec![id], unset).await.map_err(step_error)?;
            }
        }
        T::IamRole => {
            // IAM tags roles by name; the live id is the role id (`AROA…`).
            let name = match &live.properties {
                Properties::Role(p) => p.role_name.clone(),
                _ => desired.name.clone(),
            };
            if !set.is_empty() {
                clients.iam.tag_role(name.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.iam.untag_role(name, unset).await.map_err(step_error)?;
            }
        }
        T::AutoScalingGroup => {
            if !set.is_empty() {
                clients.autoscaling.create_or_update_tags(id.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.autoscaling.delete_tags(id, unset).await.map_err(step_error)?;
            }
        }
        T::CapacityProvider | T::Cluster | T::TaskDefinition | T::EcsService => {
            if !set.is_empty() {
                clients.ecs.tag_resource(arn.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.ecs.untag_resource(arn, unset).await.map_err(step_error)?;
            }
        }
        T::LoadBalancer | T::TargetGroup | T::Listener | T::ListenerRule => {
            if !set.is_empty() {
                clients.elb.add_tags(vec![arn.clone()], set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.elb.remove_tags(vec![arn], unset).await.map_err(step_error)?;
            }
        }
        T::FileSystem | T::AccessPoint | T::MountTarget => {
            if !set.is_empty() {
                clients.efs.tag_resource(id.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.efs.untag_resource(id, unset).await.map_err(step_error)?;
            }
        }
        T::LogGroup => {
            if !set.is_empty() {
                clients.logs.tag_resource(arn.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.logs.untag_resource(arn, unset).await.map_err(step_error)?;
            }
        }
        T::InstanceProfile => {
            let name = desired.name.clone();
            if !set.is_empty() {
                clients.iam.tag_instance_profile(name.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.iam.untag_instance_profile(name, unset).await.map_err(step_error)?;
            }
        }
    }
    Ok(())
}
