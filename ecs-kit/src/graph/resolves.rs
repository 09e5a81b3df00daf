//! Whether declared properties, with their references resolved, are what AWS has:
//! compared field by field, without writing either side as JSON.
//!
//! Observe asks this of every owned object it reads (see `observe::unchanged`): when the
//! answer is yes, the live view shares the declaration instead of mapping AWS's values
//! back to references. A `false` only costs that longer way, so a type compared with
//! `==` where it could hold a reference is slow, never wrong. A `true` must mean what
//! the JSON of the resolved declaration would say: every field is compared, and the
//! macros below name each one in a pattern without `..`, so a new field does not compile
//! until it is listed here.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::props::*;
use super::Attr;

/// The physical value of an attribute of a resource of the graph, by logical id.
pub(crate) type Physical<'f, 'p> = &'f dyn Fn(&str, Attr) -> Option<&'p str>;

/// Declared properties compared with what AWS has (see the module's documentation).
pub(crate) trait Resolves {
    /// Whether `self` with each reference replaced by its value in `physical` equals
    /// `found`. A reference `physical` has no value for never resolves.
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool;
}

/// Types that hold no reference: equal or not.
macro_rules! by_eq {
    ($($t:ty),* $(,)?) => {
        $(impl Resolves for $t {
            fn resolves_to<'p>(&self, found: &Self, _: Physical<'_, 'p>) -> bool {
                self == found
            }
        })*
    };
}

/// Structs that hold references, field by field.
macro_rules! by_fields {
    ($($t:ident { $($f:ident),* $(,)? })*) => {
        $(impl Resolves for $t {
            fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
                // Every field named: a field added to the type is a compile error here.
                let $t { $($f),* } = self;
                $( $f.resolves_to(&found.$f, physical) )&&*
            }
        })*
    };
}

by_eq!(String, bool, u8, u16, u32, i32);
by_eq!(
    VpcProps,
    EipProps,
    AvailabilityZone,
    ImageSource,
    MetadataOptions,
    ManagedScaling,
    FileSystemProps,
    PosixUser,
    RootDirectory,
    TargetHealthCheck,
    Redirect,
    FixedResponse,
    LogGroupProps,
    SecretVar,
    PortMapping,
    MountPoint,
    ImageOwner,
    DeploymentStrategy,
    TrafficStep,
    DeploymentAlarms,
    DeploymentCircuitBreaker,
    HookStage,
    PlacementStrategy,
    CountOwner,
);

by_fields! {
    InternetGatewayProps { vpc_id }
    SubnetProps { vpc_id, cidr_block, availability_zone, map_public_ip_on_launch }
    NatGatewayProps { subnet_id, allocation_id, connectivity_type }
    Route { destination_cidr_block, target }
    RouteTableProps { vpc_id, routes, subnet_ids }
    SecurityGroupRule { ip_protocol, from_port, to_port, peer, description }
    SecurityGroupProps { group_name, description, vpc_id, ingress, egress }
    LaunchTemplateProps {
        launch_template_name, image, instance_type, iam_instance_profile_arn, security_group_ids, key_name,
        metadata_options, user_data, instance_tags,
    }
    RoleProps { role_name, path, description, assume_role_policy, managed_policy_arns, inline_policies }
    InstanceProfileProps { instance_profile_name, path, role_name }
    AutoScalingGroupProps {
        auto_scaling_group_name, launch_template_id, launch_template_version, min_size, max_size, desired_capacity,
        desired_capacity_managed_by_ecs, subnet_ids, health_check_type, health_check_grace_period,
        new_instances_protected_from_scale_in,
    }
    CapacityProviderProps { name, auto_scaling_group_arn, managed_scaling, managed_termination_protection, managed_draining }
    StrategyItem { capacity_provider, weight, base }
    ClusterProps { cluster_name, container_insights, capacity_providers, default_capacity_provider_strategy }
    MountTargetProps { file_system_id, subnet_id, security_groups }
    AccessPointProps { file_system_id, client_token, posix_user, root_directory }
    LoadBalancerProps { name, scheme, lb_type, ip_address_type, subnets, security_groups, idle_timeout_seconds }
    TargetGroupProps { name, protocol, port, vpc_id, target_type, health_check, deregistration_delay_seconds }
    ListenerProps {
        load_balancer_arn, protocol, port, default_target_group_arn, redirect, fixed_response, certificate_arn,
        ssl_policy,
    }
    ListenerRuleProps { listener_arn, priority, path_patterns, host_headers, target_group_arn, alternate_target_group_arn }
    ListenerCertificateProps { listener_arn, certificate_arn }
    EnvVar { name, value }
    LogConfiguration { log_driver, options }
    ContainerDefinition {
        name, image, cpu, memory, essential, port_mappings, environment, secrets, log_configuration, mount_points,
    }
    EfsVolume { file_system_id, transit_encryption, access_point_id, iam }
    Volume { name, efs_volume_configuration }
    TaskDefinitionProps {
        family, task_role_arn, execution_role_arn, network_mode, requires_compatibilities, container_definitions,
        volumes, cpu, memory, image_owner,
    }
    ServiceLoadBalancer { target_group_arn, container_name, container_port, advanced }
    AdvancedLoadBalancer { alternate_target_group_arn, production_listener_rule, test_listener_rule, role_arn }
    DeploymentConfiguration {
        minimum_healthy_percent, maximum_percent, deployment_circuit_breaker, strategy, bake_time_in_minutes, canary,
        linear, alarms, lifecycle_hooks,
    }
    LifecycleHookProps { hook_target_arn, role_arn, lifecycle_stages, hook_details }
    ServiceProps {
        service_name, cluster, task_definition, desired_count, desired_count_owner, capacity_provider_strategy,
        load_balancers, deployment_configuration, health_check_grace_period_seconds, placement_strategy,
        propagate_tags, enable_ecs_managed_tags, network_mode, network_configuration, platform_version,
    }
    AwsVpcConfiguration { subnets, security_groups, assign_public_ip }
    ScalableTargetProps { service_namespace, resource_id, scalable_dimension, min_capacity, max_capacity, service_arn }
    ScalingPolicyProps {
        policy_name, service_namespace, resource_id, scalable_dimension, predefined_metric_type, target_value,
        scale_in_cooldown, scale_out_cooldown, load_balancer_arn, target_group_arn,
    }
}

impl Resolves for RefOr<String> {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        match (self, found) {
            (RefOr::Ref(r), RefOr::Value(v)) => physical(r.id.as_str(), r.attr) == Some(v.as_str()),
            _ => self == found,
        }
    }
}

impl Resolves for RouteTarget {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        match (self, found) {
            (RouteTarget::GatewayId(a), RouteTarget::GatewayId(b))
            | (RouteTarget::NatGatewayId(a), RouteTarget::NatGatewayId(b)) => a.resolves_to(b, physical),
            _ => false,
        }
    }
}

impl Resolves for Peer {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        match (self, found) {
            (Peer::CidrIpv4(a), Peer::CidrIpv4(b)) => a == b,
            (Peer::SecurityGroupId(a), Peer::SecurityGroupId(b)) => a.resolves_to(b, physical),
            _ => false,
        }
    }
}

impl<T: Resolves> Resolves for Option<T> {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        match (self, found) {
            (Some(a), Some(b)) => a.resolves_to(b, physical),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T: Resolves> Resolves for Vec<T> {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        self.len() == found.len() && self.iter().zip(found).all(|(a, b)| a.resolves_to(b, physical))
    }
}

impl<T: Resolves> Resolves for BTreeMap<String, T> {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        self.len() == found.len()
            && self.iter().zip(found).all(|((ka, a), (kb, b))| ka == kb && a.resolves_to(b, physical))
    }
}

/// A JSON document (a policy): a reference inside is the object its JSON text would
/// hold, `{"attr": .., "ref": ..}`, and resolves to a string.
impl Resolves for serde_json::Value {
    fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
        use serde_json::Value;
        if let Some((id, attr)) = self.as_object().and_then(reference) {
            return matches!(found, Value::String(s) if physical(id, attr) == Some(s.as_str()));
        }
        match (self, found) {
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && va.resolves_to(vb, physical))
            }
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.resolves_to(y, physical))
            }
            _ => self == found,
        }
    }
}

/// The reference a JSON object is: exactly the keys `ref` (an id) and `attr` (an
/// attribute), as [`Ref`] writes itself.
fn reference(object: &serde_json::Map<String, serde_json::Value>) -> Option<(&str, Attr)> {
    if object.len() != 2 {
        return None;
    }
    let id = object.get("ref")?.as_str()?;
    let attr = Attr::deserialize(object.get("attr")?).ok()?;
    Some((id, attr))
}

macro_rules! properties_resolve {
    ($($variant:ident = $name:literal, $pv:ident($props:ident) => $kind:path;)*) => {
        impl Resolves for Properties {
            fn resolves_to<'p>(&self, found: &Self, physical: Physical<'_, 'p>) -> bool {
                match (self, found) {
                    $((Properties::$pv(a), Properties::$pv(b)) => a.resolves_to(b, physical),)*
                    _ => false,
                }
            }
        }
    };
}
crate::resources::registry!(properties_resolve);
