//! Typed properties of each resource type.
//!
//! Field names follow the AWS API in snake_case. A value known only once another
//! resource exists is a [`RefOr::Ref`], serialized `{"ref": ID, "attr": ATTR}`.
//!
//! The properties of the types that grow with new features (load balancing, ECS, the
//! launch template, the Auto Scaling group, the file system) are `#[non_exhaustive]`:
//! read their fields freely; a new field is not a breaking change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::LogicalId;

/// An attribute of another resource, known after it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attr {
    /// Its AWS id (`vpc-…`, `subnet-…`, `fs-…`, …).
    Id,
    /// Its ARN.
    Arn,
    /// Its name.
    Name,
    /// The load balancer's DNS name.
    DnsName,
}

/// A reference to an attribute of another resource of the graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ref {
    /// The resource referred to.
    #[serde(rename = "ref")]
    pub id: LogicalId,
    /// Which of its attributes.
    pub attr: Attr,
}

/// A literal value, or a reference to an attribute of another resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RefOr<T> {
    /// Known only after `Ref.id` exists.
    Ref(Ref),
    /// Known now.
    Value(T),
}

impl<T> RefOr<T> {
    /// A reference to `attr` of the resource `id`.
    #[must_use]
    pub fn to(id: &LogicalId, attr: Attr) -> Self {
        RefOr::Ref(Ref { id: id.clone(), attr })
    }
}

/// `ec2:vpc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcProps {
    /// IPv4 CIDR block.
    pub cidr_block: String,
    /// DNS resolution.
    pub enable_dns_support: bool,
    /// DNS host names.
    pub enable_dns_hostnames: bool,
}

/// `ec2:internet-gateway` (attached to the VPC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGatewayProps {
    /// The VPC it is attached to.
    pub vpc_id: RefOr<String>,
}

/// An availability zone: named, or the n-th available zone of the region in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AvailabilityZone {
    /// A zone name such as `us-west-2a`.
    Name(String),
    /// Resolved at apply time.
    Index {
        /// Position among the region's available zones, sorted by name.
        zone_index: u8,
    },
}

/// `ec2:subnet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetProps {
    /// The VPC.
    pub vpc_id: RefOr<String>,
    /// IPv4 CIDR block.
    pub cidr_block: String,
    /// Zone.
    pub availability_zone: AvailabilityZone,
    /// Whether instances get a public address (public subnets only).
    pub map_public_ip_on_launch: bool,
}

/// `ec2:eip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EipProps {
    /// Always `vpc`.
    pub domain: String,
}

/// `ec2:nat-gateway`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGatewayProps {
    /// The public subnet it sits in.
    pub subnet_id: RefOr<String>,
    /// Its elastic IP.
    pub allocation_id: RefOr<String>,
    /// Always `public`.
    pub connectivity_type: String,
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteTarget {
    /// An internet gateway.
    GatewayId(RefOr<String>),
    /// A NAT gateway.
    NatGatewayId(RefOr<String>),
}

/// A route of a route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination.
    pub destination_cidr_block: String,
    /// Target.
    #[serde(flatten)]
    pub target: RouteTarget,
}

/// `ec2:route-table` with its routes (besides `local`) and subnet associations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableProps {
    /// The VPC.
    pub vpc_id: RefOr<String>,
    /// Routes.
    pub routes: Vec<Route>,
    /// Subnets associated with the table.
    pub subnet_ids: Vec<RefOr<String>>,
}

/// Where a security group rule allows traffic from (ingress) or to (egress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    /// An IPv4 CIDR block.
    CidrIpv4(String),
    /// Another security group.
    SecurityGroupId(RefOr<String>),
}

/// One security group rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    /// `tcp`, `udp` or `-1` (all).
    pub ip_protocol: String,
    /// First port (-1 with protocol `-1`).
    pub from_port: i32,
    /// Last port (-1 with protocol `-1`).
    pub to_port: i32,
    /// The other side.
    #[serde(flatten)]
    pub peer: Peer,
    /// What the rule is for.
    pub description: String,
}

/// `ec2:security-group` with its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupProps {
    /// Group name, unique in the VPC.
    pub group_name: String,
    /// Description (immutable).
    pub description: String,
    /// The VPC.
    pub vpc_id: RefOr<String>,
    /// Inbound rules.
    pub ingress: Vec<SecurityGroupRule>,
    /// Outbound rules (the default allow-all egress is removed when not listed).
    pub egress: Vec<SecurityGroupRule>,
}

/// Where the instances' AMI comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// The AMI named by a public SSM parameter, resolved at apply time.
    SsmParameter {
        /// Parameter name.
        name: String,
        /// `true`: follow the parameter on every apply; `false`: keep the AMI the launch
        /// template already has.
        follow_latest: bool,
    },
    /// This AMI.
    ImageId(String),
}

/// Instance metadata options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataOptions {
    /// `required`: IMDSv2 only.
    pub http_tokens: String,
    /// 1: containers in bridge mode cannot reach the instance role's credentials.
    pub http_put_response_hop_limit: u32,
    /// `enabled`.
    pub http_endpoint: String,
}

/// `ec2:launch-template`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LaunchTemplateProps {
    /// Template name.
    pub launch_template_name: String,
    /// AMI.
    pub image: ImageSource,
    /// Instance type.
    pub instance_type: String,
    /// Instance profile ARN.
    pub iam_instance_profile_arn: RefOr<String>,
    /// Security groups.
    pub security_group_ids: Vec<RefOr<String>>,
    /// SSH key pair, if any.
    pub key_name: Option<String>,
    /// IMDS options.
    pub metadata_options: MetadataOptions,
    /// User data (plain text; base64 on the wire).
    pub user_data: String,
    /// Tags given to the instances and volumes launched.
    pub instance_tags: BTreeMap<String, String>,
}

/// `iam:role` with its trust policy and policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleProps {
    /// Role name.
    pub role_name: String,
    /// Path.
    pub path: String,
    /// Description: set when the role is made, not read back (see `IamApi::get_roles`).
    pub description: String,
    /// Trust policy.
    pub assume_role_policy: serde_json::Value,
    /// Attached managed policies, sorted.
    pub managed_policy_arns: Vec<String>,
    /// Inline policies by name.
    pub inline_policies: BTreeMap<String, serde_json::Value>,
}

/// `iam:instance-profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfileProps {
    /// Profile name.
    pub instance_profile_name: String,
    /// Path.
    pub path: String,
    /// The one role, by name.
    pub role_name: RefOr<String>,
}

/// `autoscaling:group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AutoScalingGroupProps {
    /// Group name.
    pub auto_scaling_group_name: String,
    /// Launch template id.
    pub launch_template_id: RefOr<String>,
    /// `$Default`: the template's default version.
    pub launch_template_version: String,
    /// Minimum size.
    pub min_size: u32,
    /// Maximum size.
    pub max_size: u32,
    /// Desired capacity at creation.
    pub desired_capacity: u32,
    /// ECS managed scaling owns the desired capacity after creation.
    pub desired_capacity_managed_by_ecs: bool,
    /// Private subnets.
    pub subnet_ids: Vec<RefOr<String>>,
    /// `EC2`.
    pub health_check_type: String,
    /// Seconds before health checks count.
    pub health_check_grace_period: u32,
    /// Scale-in protection of new instances.
    pub new_instances_protected_from_scale_in: bool,
}

/// ECS managed scaling of a capacity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedScaling {
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// Target utilisation in percent.
    pub target_capacity: u32,
    /// Smallest step.
    pub minimum_scaling_step_size: u32,
    /// Largest step.
    pub maximum_scaling_step_size: u32,
    /// Seconds a new instance takes to count.
    pub instance_warmup_period: u32,
}

/// `ecs:capacity-provider`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CapacityProviderProps {
    /// Name.
    pub name: String,
    /// The Auto Scaling group.
    pub auto_scaling_group_arn: RefOr<String>,
    /// Managed scaling.
    pub managed_scaling: ManagedScaling,
    /// `ENABLED` or `DISABLED`.
    pub managed_termination_protection: String,
    /// `ENABLED` or `DISABLED`.
    pub managed_draining: String,
}

/// One entry of a capacity provider strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyItem {
    /// Capacity provider name.
    pub capacity_provider: RefOr<String>,
    /// Relative weight.
    pub weight: u32,
    /// Tasks placed here first.
    pub base: u32,
}

/// `ecs:cluster` with its capacity provider association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClusterProps {
    /// Cluster name.
    pub cluster_name: String,
    /// Container Insights: `enabled` or `disabled`.
    pub container_insights: String,
    /// Associated capacity providers.
    pub capacity_providers: Vec<RefOr<String>>,
    /// Default strategy.
    pub default_capacity_provider_strategy: Vec<StrategyItem>,
}

/// `efs:file-system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileSystemProps {
    /// Creation token (identity).
    pub creation_token: String,
    /// Always true.
    pub encrypted: bool,
    /// Customer KMS key, if any.
    pub kms_key_id: Option<String>,
    /// `generalPurpose`.
    pub performance_mode: String,
    /// `bursting` or `elastic`.
    pub throughput_mode: String,
}

/// `efs:mount-target` (untaggable: owned through its file system).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountTargetProps {
    /// The file system.
    pub file_system_id: RefOr<String>,
    /// The private subnet.
    pub subnet_id: RefOr<String>,
    /// Security groups.
    pub security_groups: Vec<RefOr<String>>,
}

/// POSIX identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosixUser {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// The root directory of an access point, created on first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootDirectory {
    /// Path on the file system.
    pub path: String,
    /// Owner user id.
    pub owner_uid: u32,
    /// Owner group id.
    pub owner_gid: u32,
    /// Octal permissions.
    pub permissions: String,
}

/// `efs:access-point` (immutable: any change is a replacement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPointProps {
    /// The file system.
    pub file_system_id: RefOr<String>,
    /// Client token (identity on retries).
    pub client_token: String,
    /// Identity of every request through it.
    pub posix_user: PosixUser,
    /// Its root.
    pub root_directory: RootDirectory,
}

/// `elbv2:load-balancer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoadBalancerProps {
    /// Name (≤ 32).
    pub name: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    /// `application`.
    #[serde(rename = "type")]
    pub lb_type: String,
    /// `ipv4`.
    pub ip_address_type: String,
    /// One subnet per zone.
    pub subnets: Vec<RefOr<String>>,
    /// Security groups.
    pub security_groups: Vec<RefOr<String>>,
    /// `idle_timeout.timeout_seconds`.
    pub idle_timeout_seconds: u32,
}

/// A target group health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealthCheck {
    /// `HTTP`.
    pub protocol: String,
    /// `traffic-port`.
    pub port: String,
    /// Path.
    pub path: String,
    /// Seconds between checks.
    pub interval_seconds: u32,
    /// Seconds to wait.
    pub timeout_seconds: u32,
    /// Successes to be healthy.
    pub healthy_threshold_count: u32,
    /// Failures to be unhealthy.
    pub unhealthy_threshold_count: u32,
    /// HTTP codes.
    pub matcher: String,
}

/// `elbv2:target-group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TargetGroupProps {
    /// Name (≤ 32).
    pub name: String,
    /// `HTTP`.
    pub protocol: String,
    /// The container port (targets register on dynamic host ports).
    pub port: u16,
    /// The VPC.
    pub vpc_id: RefOr<String>,
    /// `instance`.
    pub target_type: String,
    /// Health check.
    pub health_check: TargetHealthCheck,
    /// `deregistration_delay.timeout_seconds`.
    pub deregistration_delay_seconds: u32,
}

/// `elbv2:listener`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListenerProps {
    /// The load balancer.
    pub load_balancer_arn: RefOr<String>,
    /// `HTTP` or `HTTPS`.
    pub protocol: String,
    /// Port.
    pub port: u16,
    /// Default action: forward to this target group (none when it redirects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_target_group_arn: Option<RefOr<String>>,
    /// Default action: redirect (port 80 answering 301 to HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Redirect>,
    /// Default action: a fixed response (the test listener's 404 for requests no
    /// test rule matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_response: Option<FixedResponse>,
    /// The default certificate (HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    /// The security policy (HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_policy: Option<String>,
}

/// A listener's redirect action: same host, path and query, another protocol and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// `HTTPS`.
    pub protocol: String,
    /// The port redirected to (`443`).
    pub port: String,
    /// `HTTP_301`.
    pub status_code: String,
}

/// A listener's fixed-response action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedResponse {
    /// The HTTP status code (`404`).
    pub status_code: String,
    /// `text/plain`.
    pub content_type: String,
    /// The body.
    pub message_body: String,
}

/// `elbv2:listener-rule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListenerRuleProps {
    /// The listener.
    pub listener_arn: RefOr<String>,
    /// Priority (lower is evaluated first).
    pub priority: u32,
    /// `path-pattern` values (none: any path).
    pub path_patterns: Vec<String>,
    /// `host-header` values (none: any host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_headers: Vec<String>,
    /// Forward to this target group.
    pub target_group_arn: RefOr<String>,
    /// Forward also to this one (weight 0 at first), for ECS to shift traffic between
    /// the two; the one with the larger weight reads as `target_group_arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_target_group_arn: Option<RefOr<String>>,
}

/// `elbv2:listener-certificate`: a certificate served by SNI beside the listener's default one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerCertificateProps {
    /// The HTTPS listener.
    pub listener_arn: RefOr<String>,
    /// The certificate (ACM or IAM server certificate ARN).
    pub certificate_arn: String,
}

/// `logs:log-group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGroupProps {
    /// Name.
    pub log_group_name: String,
    /// Retention in days.
    pub retention_in_days: u32,
}

/// A container environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// Value.
    pub value: RefOr<String>,
}

/// A container secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretVar {
    /// Variable name.
    pub name: String,
    /// Parameter or secret ARN/name.
    pub value_from: String,
}

/// A port mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Container port.
    pub container_port: u16,
    /// 0: a dynamic host port.
    pub host_port: u16,
    /// `tcp`.
    pub protocol: String,
}

/// Log configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfiguration {
    /// `awslogs`.
    pub log_driver: String,
    /// Driver options.
    pub options: BTreeMap<String, RefOr<String>>,
}

/// A mount point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountPoint {
    /// Volume name.
    pub source_volume: String,
    /// Path in the container.
    pub container_path: String,
    /// Read-only.
    pub read_only: bool,
}

/// The task's one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerDefinition {
    /// Container name (the service name).
    pub name: String,
    /// Image reference.
    pub image: String,
    /// CPU units.
    pub cpu: u32,
    /// Memory limit in MiB.
    pub memory: u32,
    /// Always true.
    pub essential: bool,
    /// Port mappings.
    pub port_mappings: Vec<PortMapping>,
    /// Environment, sorted by name.
    pub environment: Vec<EnvVar>,
    /// Secrets, sorted by name.
    pub secrets: Vec<SecretVar>,
    /// Logs.
    pub log_configuration: LogConfiguration,
    /// Mounts.
    pub mount_points: Vec<MountPoint>,
}

/// An EFS volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EfsVolume {
    /// The file system.
    pub file_system_id: RefOr<String>,
    /// `ENABLED`.
    pub transit_encryption: String,
    /// The service's access point.
    pub access_point_id: RefOr<String>,
    /// `ENABLED`: mount with the task role.
    pub iam: String,
}

/// A task volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Name.
    pub name: String,
    /// EFS configuration.
    pub efs_volume_configuration: EfsVolume,
}

/// `ecs:task-definition` (a change registers a new revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskDefinitionProps {
    /// Family.
    pub family: String,
    /// The service's task role.
    pub task_role_arn: RefOr<String>,
    /// The shared execution role.
    pub execution_role_arn: RefOr<String>,
    /// `bridge`.
    pub network_mode: String,
    /// `EC2`.
    pub requires_compatibilities: Vec<String>,
    /// The container.
    pub container_definitions: Vec<ContainerDefinition>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Task-level CPU units (Fargate tasks; AWS reports it as a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Task-level memory in MiB (Fargate tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// Who owns the container's image (declared, not read back; absent in JSON when
    /// the stack owns it).
    #[serde(default, skip_serializing_if = "ImageOwner::is_stack")]
    pub image_owner: ImageOwner,
}

/// Who owns a service's image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageOwner {
    /// ecs-kit deploys the declared image on every apply.
    #[default]
    Stack,
    /// A pipeline deploys images: ecs-kit keeps the one the service runs (the declared
    /// one is the first).
    Pipeline,
}

impl ImageOwner {
    /// Whether the stack owns it.
    #[must_use]
    pub fn is_stack(&self) -> bool {
        *self == ImageOwner::Stack
    }
}

/// The service's place behind the load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceLoadBalancer {
    /// Target group.
    pub target_group_arn: RefOr<String>,
    /// Container.
    pub container_name: String,
    /// Container port.
    pub container_port: u16,
    /// What ECS needs to shift traffic itself (blue/green, canary, linear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<AdvancedLoadBalancer>,
}

/// `loadBalancers[].advancedConfiguration`: the second target group ECS starts the new
/// revision behind, the listener rules whose weights it moves, and the role it moves
/// them with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvancedLoadBalancer {
    /// The alternate target group.
    pub alternate_target_group_arn: RefOr<String>,
    /// The rule production traffic takes (forwarding to both target groups).
    pub production_listener_rule: RefOr<String>,
    /// The rule test traffic takes, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener_rule: Option<RefOr<String>>,
    /// The role ECS calls Elastic Load Balancing with.
    pub role_arn: RefOr<String>,
}

/// A percentage in tenths (ECS takes multiples of 0.1): `Percent::tenths(55)` is 5.5 %.
/// Serialized as a number (`5.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u32);

impl Percent {
    /// `tenths` tenths of a percent.
    #[must_use]
    pub const fn tenths(tenths: u32) -> Self {
        Percent(tenths)
    }

    /// The nearest multiple of 0.1 to `percent`.
    #[must_use]
    pub fn from_f64(percent: f64) -> Self {
        // Negative and NaN become 0; validation bounds the rest.
        let tenths = (percent * 10.0).round();
        Percent(if tenths.is_nan() || tenths < 0.0 { 0 } else { tenths.min(f64::from(u32::MAX)) as u32 })
    }

    /// The value in tenths.
    #[must_use]
    pub fn in_tenths(self) -> u32 {
        self.0
    }

    /// The value as ECS takes it.
    #[must_use]
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 % 10 == 0 {
            write!(f, "{}%", self.0 / 10)
        } else {
            write!(f, "{}.{}%", self.0 / 10, self.0 % 10)
        }
    }
}

impl Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Percent::from_f64)
    }
}

/// How ECS replaces a service's tasks (`deploymentConfiguration.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStrategy {
    /// Tasks replaced a few at a time.
    #[default]
    Rolling,
    /// A full new set of tasks; all traffic shifted at once, then a bake.
    BlueGreen,
    /// A share of traffic first, a bake, then the rest.
    Canary,
    /// Traffic shifted in equal steps with a bake after each.
    Linear,
}

impl DeploymentStrategy {
    /// AWS's spelling (`BLUE_GREEN`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStrategy::Rolling => "ROLLING",
            DeploymentStrategy::BlueGreen => "BLUE_GREEN",
            DeploymentStrategy::Canary => "CANARY",
            DeploymentStrategy::Linear => "LINEAR",
        }
    }

    /// The strategy AWS spells `s` (unknown: rolling).
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "BLUE_GREEN" => DeploymentStrategy::BlueGreen,
            "CANARY" => DeploymentStrategy::Canary,
            "LINEAR" => DeploymentStrategy::Linear,
            _ => DeploymentStrategy::Rolling,
        }
    }
}

/// `canaryConfiguration` / `linearConfiguration`: a share of traffic and the bake after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficStep {
    /// The share of production traffic shifted (the canary, or each linear step).
    pub percent: Percent,
    /// Minutes ECS waits after shifting it.
    pub bake_time_in_minutes: u32,
}

/// `deploymentConfiguration.alarms`: CloudWatch alarms that fail the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentAlarms {
    /// Alarm names.
    pub alarm_names: Vec<String>,
    /// Roll back when one fires.
    pub rollback: bool,
}

/// Deployment circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentCircuitBreaker {
    /// On.
    pub enable: bool,
    /// Roll back on failure.
    pub rollback: bool,
}

/// Deployment configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeploymentConfiguration {
    /// Minimum healthy percent.
    pub minimum_healthy_percent: u32,
    /// Maximum percent.
    pub maximum_percent: u32,
    /// Circuit breaker.
    pub deployment_circuit_breaker: DeploymentCircuitBreaker,
    /// The strategy (rolling unless said).
    #[serde(default, skip_serializing_if = "is_rolling")]
    pub strategy: DeploymentStrategy,
    /// Minutes old and new tasks run side by side once all traffic has shifted
    /// (blue/green, canary, linear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_time_in_minutes: Option<u32>,
    /// The canary (strategy `CANARY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<TrafficStep>,
    /// Each linear step (strategy `LINEAR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<TrafficStep>,
    /// Alarms that fail the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<DeploymentAlarms>,
    /// Lambda functions ECS invokes at stages of a deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_hooks: Vec<LifecycleHookProps>,
}

/// A stage of a service deployment at which ECS can invoke a lifecycle hook
/// (`DeploymentLifecycleHookStage`), in the order a deployment passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HookStage {
    /// When a deployment starts while more than one service revision is active.
    ReconcileService,
    /// Before the new tasks start (the old ones take all traffic).
    PreScaleUp,
    /// Once the new tasks run, before any traffic moves.
    PostScaleUp,
    /// While test traffic moves to the new tasks (again on rollback).
    TestTrafficShift,
    /// Once the new tasks take all test traffic, before production traffic moves.
    PostTestTrafficShift,
    /// Before production traffic moves (canary and linear: before every step).
    PreProductionTrafficShift,
    /// While production traffic moves (canary and linear: at every step; again on rollback).
    ProductionTrafficShift,
    /// Once the new tasks take all production traffic, before the bake.
    PostProductionTrafficShift,
}

impl HookStage {
    /// Every stage, in the order a deployment passes them.
    pub const ALL: [HookStage; 8] = [
        HookStage::ReconcileService,
        HookStage::PreScaleUp,
        HookStage::PostScaleUp,
        HookStage::TestTrafficShift,
        HookStage::PostTestTrafficShift,
        HookStage::PreProductionTrafficShift,
        HookStage::ProductionTrafficShift,
        HookStage::PostProductionTrafficShift,
    ];

    /// AWS's spelling (`POST_TEST_TRAFFIC_SHIFT`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            HookStage::ReconcileService => "RECONCILE_SERVICE",
            HookStage::PreScaleUp => "PRE_SCALE_UP",
            HookStage::PostScaleUp => "POST_SCALE_UP",
            HookStage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            HookStage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            HookStage::PreProductionTrafficShift => "PRE_PRODUCTION_TRAFFIC_SHIFT",
            HookStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            HookStage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
        }
    }

    /// The stage AWS spells `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        HookStage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }

    /// Whether the stage is about moving load balancer traffic (it never comes in a
    /// rolling deployment).
    #[must_use]
    pub fn shifts_traffic(self) -> bool {
        !matches!(self, HookStage::ReconcileService | HookStage::PreScaleUp | HookStage::PostScaleUp)
    }
}

impl std::fmt::Display for HookStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `deploymentConfiguration.lifecycleHooks[]`: a Lambda function ECS invokes (with the
/// role it assumes to) at some stages of every deployment; its answer `FAILED` rolls
/// the deployment back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleHookProps {
    /// The Lambda function's ARN.
    pub hook_target_arn: String,
    /// The role ECS assumes to invoke it.
    pub role_arn: RefOr<String>,
    /// The stages, in the order a deployment passes them.
    pub lifecycle_stages: Vec<HookStage>,
    /// JSON handed to the function with every invocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_details: Option<serde_json::Value>,
}

fn is_rolling(s: &DeploymentStrategy) -> bool {
    *s == DeploymentStrategy::Rolling
}

impl DeploymentConfiguration {
    /// A rolling deployment with these percentages and circuit breaker.
    #[must_use]
    pub fn rolling(minimum_healthy_percent: u32, maximum_percent: u32, breaker: DeploymentCircuitBreaker) -> Self {
        DeploymentConfiguration {
            minimum_healthy_percent,
            maximum_percent,
            deployment_circuit_breaker: breaker,
            strategy: DeploymentStrategy::Rolling,
            bake_time_in_minutes: None,
            canary: None,
            linear: None,
            alarms: None,
            lifecycle_hooks: Vec::new(),
        }
    }
}

/// A task placement strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementStrategy {
    /// `spread` or `binpack`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Field.
    pub field: String,
}

/// Who owns an ECS service's desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountOwner {
    /// ecs-kit sets it on every apply.
    Stack,
    /// Set at creation only.
    External,
}

/// `ecs:service`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceProps {
    /// Service name.
    pub service_name: String,
    /// Cluster.
    pub cluster: RefOr<String>,
    /// Task definition revision.
    pub task_definition: RefOr<String>,
    /// Desired tasks.
    pub desired_count: u32,
    /// Who owns the desired count.
    pub desired_count_owner: CountOwner,
    /// Capacity provider strategy.
    pub capacity_provider_strategy: Vec<StrategyItem>,
    /// Load balancer attachment.
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Deployment configuration.
    pub deployment_configuration: DeploymentConfiguration,
    /// Seconds failing health checks are ignored after a task starts (with a load balancer).
    pub health_check_grace_period_seconds: Option<u32>,
    /// Placement.
    pub placement_strategy: Vec<PlacementStrategy>,
    /// `SERVICE`: tasks carry the service's tags.
    pub propagate_tags: String,
    /// ECS-managed tags on tasks.
    pub enable_ecs_managed_tags: bool,
    /// `awsvpc` for Fargate tasks (each its own network interface); none for bridge
    /// networking on the cluster's instances. Read back from the network configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// The tasks' subnets and security groups (awsvpc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<AwsVpcConfiguration>,
    /// The Fargate platform version (`LATEST`: 1.4.0 or later, which EFS volumes need).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
}

/// Where awsvpc tasks get their network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AwsVpcConfiguration {
    /// Subnets (the private ones).
    pub subnets: Vec<RefOr<String>>,
    /// Security groups (the service's own).
    pub security_groups: Vec<RefOr<String>>,
    /// `DISABLED`: no public IP.
    pub assign_public_ip: String,
}

/// `application-autoscaling:scalable-target`: a service's desired count as the autoscaler's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScalableTargetProps {
    /// `ecs`.
    pub service_namespace: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    /// Fewest tasks.
    pub min_capacity: u32,
    /// Most tasks.
    pub max_capacity: u32,
    /// The ECS service it scales (its existence orders the registration after it).
    pub service_arn: RefOr<String>,
}

/// `application-autoscaling:scaling-policy`: a target tracking policy of a scalable target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScalingPolicyProps {
    /// Policy name (`<stack>-<service>-<metric>`).
    pub policy_name: String,
    /// `ecs`.
    pub service_namespace: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    /// `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization` or
    /// `ALBRequestCountPerTarget`.
    pub predefined_metric_type: String,
    /// The target value.
    pub target_value: u32,
    /// Seconds after a scale-in before the next.
    pub scale_in_cooldown: u32,
    /// Seconds after a scale-out before the next.
    pub scale_out_cooldown: u32,
    /// For requests per target: the load balancer whose requests count
    /// (the resource label is `app/...` of its ARN and `targetgroup/...` of the target group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_arn: Option<RefOr<String>>,
    /// For requests per target: the service's target group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<RefOr<String>>,
}

impl ScalingPolicyProps {
    /// The ALB resource label of `ALBRequestCountPerTarget`
    /// (`app/NAME/ID/targetgroup/NAME/ID`) from the two resolved ARNs.
    #[must_use]
    pub fn resource_label(load_balancer_arn: &str, target_group_arn: &str) -> Option<String> {
        let lb = load_balancer_arn.split_once(":loadbalancer/")?.1;
        let tg = target_group_arn.rsplit_once(':')?.1;
        tg.starts_with("targetgroup/").then(|| format!("{lb}/{tg}"))
    }
}

macro_rules! properties {
    ($($variant:ident = $name:literal, $pv:ident($props:ident) => $kind:path;)*) => {
        /// The properties of a resource, one variant per type (serialized as the variant's
        /// own object; read back with [`Properties::from_json`], which is told the type).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum Properties {
            $(
                #[doc = concat!("`", $name, "`")]
                $pv($props),
            )*
        }

        impl Properties {
            /// The properties of a resource of type `resource_type` from their JSON form.
            ///
            /// # Errors
            /// When `value` does not have the shape of that type's properties.
            pub fn from_json(
                resource_type: super::ResourceType,
                value: serde_json::Value,
            ) -> Result<Properties, serde_json::Error> {
                Ok(match resource_type {
                    $(super::ResourceType::$variant => Properties::$pv(serde_json::from_value(value)?),)*
                })
            }

            /// The type these properties are of.
            #[must_use]
            pub fn resource_type(&self) -> super::ResourceType {
                match self {
                    $(Properties::$pv(_) => super::ResourceType::$variant,)*
                }
            }
        }
    };
}
crate::resources::registry!(properties);
