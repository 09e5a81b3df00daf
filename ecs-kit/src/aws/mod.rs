//! One async trait per AWS service, speaking ecs-kit types, and the [`Clients`] bundle.
//!
//! The engine only talks to AWS through these traits, so it can be tested with mocks
//! (`mocks` feature: `MockEc2Api`, `MockEcsApi`, ... from `mockall`) or any fake. The
//! real adapters over the official `aws-sdk-*` crates live in [`sdk`] (`aws` feature).
//!
//! Creates take the graph's property types ([`crate::graph::props`]) with every
//! reference already resolved to a literal; an unresolved reference is an
//! [`ErrorKind::Invalid`] error. Describes return [`Found`] objects whose properties have
//! the same typed shape, holding AWS ids where the graph holds references.

mod clock;
mod counter;
mod error;
#[cfg(feature = "aws")]
pub mod sdk;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use clock::{epoch_now, epoch_seconds};
pub use counter::{CallCount, CallCounter, ServiceCalls};
pub use error::{AwsError, AwsResult, ErrorKind};

use crate::graph::props::{
    AccessPointProps, AutoScalingGroupProps, AwsVpcConfiguration, CapacityProviderProps, ClusterProps,
    DeploymentConfiguration, DeploymentStrategy, FileSystemProps, InstanceProfileProps, LaunchTemplateProps,
    ListenerCertificateProps, ListenerProps, ListenerRuleProps, LoadBalancerProps, LogGroupProps, MountTargetProps,
    NatGatewayProps, Percent, PlacementStrategy, RefOr, RoleProps, Route, RouteTableProps, ScalableTargetProps,
    ScalingPolicyProps, SecurityGroupProps, SecurityGroupRule, ServiceLoadBalancer, ServiceProps, StrategyItem,
    SubnetProps, TargetGroupProps, TargetHealthCheck, TaskDefinitionProps, VpcProps,
};
use crate::graph::props::{EipProps, InternetGatewayProps};

/// Tags of an AWS object.
pub type Tags = BTreeMap<String, String>;

/// The literal inside `value`, or an [`ErrorKind::Invalid`] error naming the reference
/// that was not resolved before the call.
///
/// # Errors
/// When `value` is still a reference.
pub fn literal<'a>(value: &'a RefOr<String>, service: &str, operation: &str) -> AwsResult<&'a str> {
    match value {
        RefOr::Value(v) => Ok(v),
        RefOr::Ref(r) => Err(AwsError::new(
            ErrorKind::Invalid,
            service,
            operation,
            format!("unresolved reference to {}.{:?}: resolve references before calling AWS", r.id, r.attr),
        )),
    }
}

/// An EC2 describe filter, e.g. `tag:ecs-kit:stack = shop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Filter name (`vpc-id`, `tag:KEY`, `state`, ...).
    pub name: String,
    /// Accepted values.
    pub values: Vec<String>,
}

impl Filter {
    /// A filter on `name` accepting `values`.
    #[must_use]
    pub fn new<I, S>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Filter { name: name.into(), values: values.into_iter().map(Into::into).collect() }
    }

    /// Objects whose tag `key` is `value`.
    #[must_use]
    pub fn tag(key: &str, value: &str) -> Self {
        Filter::new(format!("tag:{key}"), [value])
    }
}

/// A live AWS object read by a describe call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found<P> {
    /// Its AWS id (`vpc-…`, `fs-…`; the name where AWS has no ids: roles' names are
    /// in `props`, log groups and ASGs use their names).
    pub id: String,
    /// Its ARN, where AWS has one.
    pub arn: Option<String>,
    /// Its lifecycle state or status as AWS spells it (`available`, `ACTIVE`, ...).
    pub state: Option<String>,
    /// Its properties, in the graph's shape, AWS ids where the graph has references.
    pub props: P,
    /// Its tags.
    pub tags: Tags,
    /// Further attributes (`dns_name`, `default_version`, `assoc:<subnet-id>`, ...).
    pub attrs: BTreeMap<String, String>,
}

impl<P> Found<P> {
    /// A found object with id `id` and properties `props`, nothing else.
    #[must_use]
    pub fn new(id: impl Into<String>, props: P) -> Self {
        Found { id: id.into(), arn: None, state: None, props, tags: Tags::new(), attrs: BTreeMap::new() }
    }
}

/// One ECS deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Deployment id.
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// Task definition ARN it deploys.
    pub task_definition: String,
    /// Desired tasks.
    pub desired: u32,
    /// Running tasks.
    pub running: u32,
    /// Pending tasks.
    pub pending: u32,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`, when the circuit breaker reports it.
    pub rollout_state: Option<String>,
    /// Why, for a failed rollout.
    pub rollout_reason: Option<String>,
    /// Tasks of this deployment that failed to start or stopped.
    #[serde(default)]
    pub failed_tasks: u32,
    /// When it was created (seconds since the epoch).
    #[serde(default)]
    pub created_at: Option<i64>,
}

/// A service deployment as DescribeServiceDeployments reports it: where it is in its
/// lifecycle, how much traffic the new revision takes, and what rolled it back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceDeployment {
    /// Its ARN.
    pub arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOP_REQUESTED`, `STOPPED`,
    /// `ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `ROLLBACK_FAILED`.
    pub status: String,
    /// Why it has that status, when AWS says.
    pub status_reason: Option<String>,
    /// `RECONCILE_SERVICE`, `SCALE_UP`, `TEST_TRAFFIC_SHIFT`, `PRODUCTION_TRAFFIC_SHIFT`,
    /// `BAKE_TIME`, `CLEAN_UP`, ...
    pub lifecycle_stage: Option<String>,
    /// The strategy and its settings, as the deployment runs them.
    pub configuration: Option<DeploymentConfiguration>,
    /// The service revision deployed.
    pub target_revision: Option<String>,
    /// Tasks of the new revision running.
    pub target_running: u32,
    /// Tasks of the new revision requested.
    pub target_requested: u32,
    /// The share of production traffic the new revision takes, when AWS says.
    pub production_traffic: Option<Percent>,
    /// When it was created, started, last updated and finished (seconds since the epoch).
    pub created_at: Option<i64>,
    /// When it started.
    pub started_at: Option<i64>,
    /// When it last changed (a stage began).
    pub updated_at: Option<i64>,
    /// When it finished.
    pub finished_at: Option<i64>,
    /// Why and when it was rolled back.
    pub rollback: Option<DeploymentRollback>,
    /// Failures the circuit breaker counted, and its threshold.
    pub circuit_breaker: Option<(u32, u32)>,
    /// Alarms that went to `ALARM` during it.
    pub triggered_alarms: Vec<String>,
    /// The lifecycle hooks of its current stage, as `lifecycleHookDetails` reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookStatus>,
}

/// A lifecycle hook's run at a stage of a service deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HookStatus {
    /// Its id in the deployment.
    pub id: String,
    /// The Lambda function's ARN.
    pub target_arn: String,
    /// `IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `AWAITING_ACTION`.
    pub status: String,
}

impl HookStatus {
    /// The function's name (the ARN's `function:NAME[:QUALIFIER]`), for people.
    #[must_use]
    pub fn name(&self) -> &str {
        self.target_arn.split_once(":function:").map_or(&self.target_arn, |(_, name)| name)
    }

    /// Whether it failed the deployment.
    #[must_use]
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "FAILED" | "TIMED_OUT")
    }
}

impl ServiceDeployment {
    /// Whether it is over (successful, stopped or rolled back).
    #[must_use]
    pub fn is_over(&self) -> bool {
        matches!(self.status.as_str(), "SUCCESSFUL" | "STOPPED" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED")
    }

    /// Whether it failed: stopped, or rolled back (or rolling back).
    #[must_use]
    pub fn failed(&self) -> bool {
        self.status.starts_with("ROLLBACK") || self.status.starts_with("STOP") || self.rollback.is_some()
    }
}

impl ServiceDeployment {
    /// Where the deployment is, for a person: `canary 5%, baking, 4 min left`,
    /// `blue/green, starting tasks (1/2 running)`, `rolled back: ...`; `now` in seconds
    /// since the epoch ([`epoch_now`]).
    #[must_use]
    pub fn progress(&self, now: i64) -> String {
        let config = self.configuration.as_ref();
        let strategy = config.map_or(DeploymentStrategy::Rolling, |c| c.strategy);
        let name = match strategy {
            DeploymentStrategy::Rolling => "rolling",
            DeploymentStrategy::BlueGreen => "blue/green",
            DeploymentStrategy::Canary => "canary",
            DeploymentStrategy::Linear => "linear",
        };
        if self.failed() {
            let why = self
                .rollback
                .as_ref()
                .and_then(|r| r.reason.clone())
                .or_else(|| self.status_reason.clone())
                .unwrap_or_else(|| "no reason given".into());
            let what = if self.status.starts_with("ROLLBACK") { "rolled back" } else { "stopped" };
            return format!("{name} {what} ({}): {why}", self.status);
        }
        if self.status == "SUCCESSFUL" {
            return format!("{name} deployment successful");
        }
        let traffic = self.production_traffic.map(|p| format!(" {p}")).unwrap_or_default();
        let left = |minutes: u32| {
            let since = self.updated_at.unwrap_or(now);
            let left = i64::from(minutes) * 60 - (now - since);
            format!("{} min left", (left.max(0) + 59) / 60)
        };
        let stage = self.lifecycle_stage.as_deref().unwrap_or("");
        match (stage, config) {
            ("PRODUCTION_TRAFFIC_SHIFT", Some(c)) if strategy == DeploymentStrategy::Canary => {
                let bake = c.canary.map_or(0, |k| k.bake_time_in_minutes);
                format!("{name}{traffic}, baking, {}", left(bake))
            }
            ("PRODUCTION_TRAFFIC_SHIFT", Some(c)) if strategy == DeploymentStrategy::Linear => {
                let bake = c.linear.map_or(0, |k| k.bake_time_in_minutes);
                format!("{name}{traffic}, baking, {}", left(bake))
            }
            ("BAKE_TIME", Some(c)) => format!("{name}{traffic}, baking, {}", left(c.bake_time_in_minutes.unwrap_or(0))),
            _ => {
                let stage = if stage.is_empty() {
                    "in progress".to_owned()
                } else {
                    stage.to_ascii_lowercase().replace('_', " ")
                };
                let hooks: Vec<String> = self
                    .hooks
                    .iter()
                    .filter(|h| matches!(h.status.as_str(), "IN_PROGRESS" | "AWAITING_ACTION"))
                    .map(|h| format!(", hook {} {}", h.name(), h.status.to_ascii_lowercase().replace('_', " ")))
                    .collect();
                format!(
                    "{name}{traffic}, {stage}{} ({}/{} new tasks running)",
                    hooks.concat(),
                    self.target_running,
                    self.target_requested
                )
            }
        }
    }
}

/// The rollback of a service deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeploymentRollback {
    /// Why.
    pub reason: Option<String>,
    /// When (seconds since the epoch).
    pub started_at: Option<i64>,
    /// The service revision rolled back to.
    pub revision: Option<String>,
}

/// A stopped task of a service, with why it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StoppedTask {
    /// The task ARN.
    pub arn: String,
    /// Its task definition ARN.
    pub task_definition: String,
    /// `stoppedReason` (e.g. `Essential container in task exited`).
    pub reason: Option<String>,
    /// `stopCode` (e.g. `EssentialContainerExited`, `TaskFailedToStart`).
    pub stop_code: Option<String>,
    /// Its containers' exit codes and reasons: `(name, exit code, reason)`.
    pub containers: Vec<(String, Option<i32>, Option<String>)>,
    /// When it stopped (seconds since the epoch).
    pub stopped_at: Option<i64>,
}

impl StoppedTask {
    /// `task 1f2e…: Essential container in task exited (web exit code 1: OOM)`.
    #[must_use]
    pub fn describe(&self) -> String {
        let id = self.arn.rsplit('/').next().unwrap_or(&self.arn);
        let mut text = format!("task {id} stopped: {}", self.reason.as_deref().unwrap_or("no reason given"));
        let containers: Vec<String> = self
            .containers
            .iter()
            .filter(|(_, code, reason)| code.is_some() || reason.is_some())
            .map(|(name, code, reason)| {
                let mut c = name.clone();
                if let Some(code) = code {
                    c.push_str(&format!(" exit code {code}"));
                }
                if let Some(reason) = reason {
                    c.push_str(&format!(": {reason}"));
                }
                c
            })
            .collect();
        if !containers.is_empty() {
            text.push_str(&format!(" ({})", containers.join("; ")));
        }
        text
    }
}

/// An ECS service event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// Event id.
    pub id: String,
    /// When, as seconds since the epoch.
    pub at_epoch_seconds: i64,
    /// The message.
    pub message: String,
}

/// The state of an ECS service beyond its declared properties.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// Desired tasks.
    pub desired: u32,
    /// Running tasks.
    pub running: u32,
    /// Pending tasks.
    pub pending: u32,
    /// Deployments, primary first.
    pub deployments: Vec<Deployment>,
    /// Most recent events first.
    pub events: Vec<ServiceEvent>,
}

/// A live ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveService {
    /// Declared-shape properties and identity.
    pub found: Found<ServiceProps>,
    /// Deployments, counts and events.
    pub status: ServiceStatus,
}

/// A change to an ECS service; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceUpdate {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// New task definition ARN (starts a deployment).
    pub task_definition: Option<String>,
    /// New desired count.
    pub desired_count: Option<u32>,
    /// New deployment configuration.
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// New capacity provider strategy.
    pub capacity_provider_strategy: Option<Vec<StrategyItem>>,
    /// New load balancers.
    pub load_balancers: Option<Vec<ServiceLoadBalancer>>,
    /// New health check grace period.
    pub health_check_grace_period_seconds: Option<u32>,
    /// New placement strategy.
    pub placement_strategy: Option<Vec<PlacementStrategy>>,
    /// New tag propagation.
    pub propagate_tags: Option<String>,
    /// New ECS-managed tags flag.
    pub enable_ecs_managed_tags: Option<bool>,
    /// Start a new deployment even without a change.
    pub force_new_deployment: bool,
    /// New awsvpc network configuration (Fargate tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<AwsVpcConfiguration>,
    /// New Fargate platform version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
}

/// The health of one target of a target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealth {
    /// Instance id.
    pub target_id: String,
    /// Port.
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `initial`, `draining`, ...
    pub state: String,
    /// Why, when not healthy.
    pub reason: Option<String>,
}

/// EC2: VPC, subnets, gateways, addresses, route tables, security groups, launch templates.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Ec2Api: Send + Sync {
    /// Names of the region's available zones, sorted.
    async fn describe_availability_zones(&self) -> AwsResult<Vec<String>>;

    /// VPCs matching `filters`, with their DNS attributes.
    async fn describe_vpcs(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<VpcProps>>>;
    /// Creates a VPC (DNS attributes set separately); returns its id.
    async fn create_vpc(&self, props: VpcProps, tags: Tags) -> AwsResult<String>;
    /// Sets the VPC's DNS support and host names attributes.
    async fn modify_vpc_dns(&self, vpc_id: String, dns_support: bool, dns_hostnames: bool) -> AwsResult<()>;
    /// Deletes a VPC.
    async fn delete_vpc(&self, vpc_id: String) -> AwsResult<()>;

    /// Internet gateways matching `filters` (`vpc_id` from their attachment).
    async fn describe_internet_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<InternetGatewayProps>>>;
    /// Creates an internet gateway; returns its id.
    async fn create_internet_gateway(&self, tags: Tags) -> AwsResult<String>;
    /// Attaches a gateway to a VPC.
    async fn attach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()>;
    /// Detaches a gateway from a VPC.
    async fn detach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()>;
    /// Deletes a gateway.
    async fn delete_internet_gateway(&self, igw_id: String) -> AwsResult<()>;

    /// Subnets matching `filters` (zone as a name).
    async fn describe_subnets(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SubnetProps>>>;
    /// Creates a subnet (its zone given by name); returns its id.
    async fn create_subnet(&self, props: SubnetProps, tags: Tags) -> AwsResult<String>;
    /// Sets whether instances launched in the subnet get a public address.
    async fn modify_subnet_public_ip(&self, subnet_id: String, map_public_ip_on_launch: bool) -> AwsResult<()>;
    /// Deletes a subnet.
    async fn delete_subnet(&self, subnet_id: String) -> AwsResult<()>;

    /// The security groups of each network interface of `ids` that exists, by id
    /// (DescribeNetworkInterfaces filtered by id, 200 ids a call; an EFS mount target's
    /// groups are its interface's).
    async fn describe_network_interface_groups(&self, ids: Vec<String>) -> AwsResult<BTreeMap<String, Vec<String>>>;

    /// Elastic IPs matching `filters`; the id is the allocation id.
    async fn describe_addresses(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<EipProps>>>;
    /// Allocates an elastic IP in the VPC domain; returns its allocation id.
    async fn allocate_address(&self, tags: Tags) -> AwsResult<String>;
    /// Releases an elastic IP.
    async fn release_address(&self, allocation_id: String) -> AwsResult<()>;

    /// NAT gateways matching `filters`, with their state.
    async fn describe_nat_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<NatGatewayProps>>>;
    /// Creates a NAT gateway (idempotent on `client_token`); returns its id.
    async fn create_nat_gateway(&self, props: NatGatewayProps, client_token: String, tags: Tags) -> AwsResult<String>;
    /// Deletes a NAT gateway (asynchronous).
    async fn delete_nat_gateway(&self, nat_gateway_id: String) -> AwsResult<()>;

    /// Route tables matching `filters`: routes without `local`, associated subnets, and
    /// the attributes `assoc:<subnet-id>` (association id) and `main`.
    async fn describe_route_tables(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<RouteTableProps>>>;
    /// Creates an empty route table (idempotent on `client_token`); returns its id.
    async fn create_route_table(&self, vpc_id: String, client_token: String, tags: Tags) -> AwsResult<String>;
    /// Adds a route.
    async fn create_route(&self, route_table_id: String, route: Route) -> AwsResult<()>;
    /// Changes the target of an existing route.
    async fn replace_route(&self, route_table_id: String, route: Route) -> AwsResult<()>;
    /// Removes the route to `destination_cidr_block`.
    async fn delete_route(&self, route_table_id: String, destination_cidr_block: String) -> AwsResult<()>;
    /// Associates a subnet; returns the association id.
    async fn associate_route_table(&self, route_table_id: String, subnet_id: String) -> AwsResult<String>;
    /// Removes an association.
    async fn disassociate_route_table(&self, association_id: String) -> AwsResult<()>;
    /// Deletes a route table.
    async fn delete_route_table(&self, route_table_id: String) -> AwsResult<()>;

    /// Security groups matching `filters`, one rule per (protocol, ports, peer).
    async fn describe_security_groups(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SecurityGroupProps>>>;
    /// Creates a security group without rules (AWS adds its default egress); returns its id.
    async fn create_security_group(
        &self,
        group_name: String,
        description: String,
        vpc_id: String,
        tags: Tags,
    ) -> AwsResult<String>;
    /// Adds inbound rules.
    async fn authorize_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()>;
    /// Adds outbound rules.
    async fn authorize_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()>;
    /// Removes inbound rules.
    async fn revoke_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()>;
    /// Removes outbound rules.
    async fn revoke_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()>;
    /// Deletes a security group.
    async fn delete_security_group(&self, group_id: String) -> AwsResult<()>;

    /// Launch templates matching `filters`, with the data of their default version
    /// (`image` as the AMI id) and the attributes `default_version` and `latest_version`:
    /// [`Ec2Api::list_launch_templates`], then [`Ec2Api::launch_template_data`] of each.
    async fn describe_launch_templates(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<LaunchTemplateProps>>> {
        let mut found = Vec::new();
        for head in self.list_launch_templates(filters).await? {
            // Deleted since the listing: left out.
            let Some(props) = self.launch_template_data(head.id.clone(), head.props.clone()).await? else { continue };
            let Found { id, arn, state, tags, attrs, .. } = head;
            found.push(Found { id, arn, state, props, tags, attrs });
        }
        Ok(found)
    }
    /// Launch templates matching `filters`, without their data: the name as `props`,
    /// tags, and the attributes `default_version` and `latest_version`.
    async fn list_launch_templates(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<String>>>;
    /// The data of the default version of launch template `launch_template_id` named
    /// `name` (`image` as the AMI id); `None` when the template is gone.
    async fn launch_template_data(
        &self,
        launch_template_id: String,
        name: String,
    ) -> AwsResult<Option<LaunchTemplateProps>>;
    /// Creates a launch template booting `image_id` (idempotent on `client_token`); returns its id.
    async fn create_launch_template(
        &self,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
        tags: Tags,
    ) -> AwsResult<String>;
    /// Adds a version; returns its number (not made the default).
    async fn create_launch_template_version(
        &self,
        launch_template_id: String,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
    ) -> AwsResult<i64>;
    /// Makes `version` the default version.
    async fn set_default_launch_template_version(&self, launch_template_id: String, version: i64) -> AwsResult<()>;
    /// Deletes a launch template and all its versions.
    async fn delete_launch_template(&self, launch_template_id: String) -> AwsResult<()>;

    /// Sets tags on EC2 objects.
    async fn create_tags(&self, resource_ids: Vec<String>, tags: Tags) -> AwsResult<()>;
    /// Removes tags from EC2 objects.
    async fn delete_tags(&self, resource_ids: Vec<String>, keys: Vec<String>) -> AwsResult<()>;
}

/// SSM Parameter Store: the public ECS-optimized AMI parameters, and the stack lock
/// ([`crate::lock`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SsmApi: Send + Sync {
    /// The value of parameter `name`, `None` if it does not exist.
    async fn get_parameter(&self, name: String) -> AwsResult<Option<String>>;
    /// Writes the `String` parameter `name`. Without `overwrite`, the write is atomic
    /// create-only: when `name` exists it fails with [`ErrorKind::AlreadyExists`]
    /// (AWS's `ParameterAlreadyExists`) and changes nothing.
    async fn put_parameter(&self, name: String, value: String, overwrite: bool) -> AwsResult<()>;
    /// Deletes parameter `name`; `false` if it did not exist.
    async fn delete_parameter(&self, name: String) -> AwsResult<bool>;
}

/// IAM: roles with their policies, and instance profiles.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IamApi: Send + Sync {
    /// The roles named `names`, and those whose name starts with `prefix`, that exist,
    /// with trust policy, inline and attached policies and tags, in as few calls as IAM
    /// allows (one account-wide listing, not calls per role); attribute
    /// `instance_profiles` lists the profiles holding each role, comma-separated. The
    /// description is left empty: the listing that has policies and tags
    /// (`GetAccountAuthorizationDetails`) has no descriptions, and ecs-kit writes them
    /// when it makes a role without reading them back.
    async fn get_roles(&self, names: Vec<String>, prefix: Option<String>) -> AwsResult<Vec<Found<RoleProps>>>;
    /// Creates a role with its trust policy, description, path and tags; returns its ARN.
    async fn create_role(&self, props: RoleProps, tags: Tags) -> AwsResult<String>;
    /// Replaces the trust policy.
    async fn update_assume_role_policy(&self, role_name: String, document: serde_json::Value) -> AwsResult<()>;
    /// Creates or replaces an inline policy.
    async fn put_role_policy(
        &self,
        role_name: String,
        policy_name: String,
        document: serde_json::Value,
    ) -> AwsResult<()>;
    /// Deletes an inline policy.
    async fn delete_role_policy(&self, role_name: String, policy_name: String) -> AwsResult<()>;
    /// Attaches a managed policy.
    async fn attach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()>;
    /// Detaches a managed policy.
    async fn detach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()>;
    /// Sets tags on a role.
    async fn tag_role(&self, role_name: String, tags: Tags) -> AwsResult<()>;
    /// Removes tags from a role.
    async fn untag_role(&self, role_name: String, keys: Vec<String>) -> AwsResult<()>;
    /// Sets tags on an instance profile.
    async fn tag_instance_profile(&self, profile_name: String, tags: Tags) -> AwsResult<()>;
    /// Removes tags from an instance profile.
    async fn untag_instance_profile(&self, profile_name: String, keys: Vec<String>) -> AwsResult<()>;
    /// Deletes a role (its policies and profiles must be gone).
    async fn delete_role(&self, role_name: String) -> AwsResult<()>;

    /// The instance profile `name` (its role by name), `None` if absent.
    async fn get_instance_profile(&self, name: String) -> AwsResult<Option<Found<InstanceProfileProps>>>;
    /// Creates an instance profile; returns its ARN.
    async fn create_instance_profile(&self, name: String, path: String, tags: Tags) -> AwsResult<String>;
    /// Puts a role in an instance profile.
    async fn add_role_to_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()>;
    /// Takes a role out of an instance profile.
    async fn remove_role_from_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()>;
    /// Deletes an instance profile.
    async fn delete_instance_profile(&self, name: String) -> AwsResult<()>;
}

/// EC2 Auto Scaling.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AutoScalingApi: Send + Sync {
    /// The groups named `names` that exist (id = name), with the attribute `instances`.
    async fn describe_auto_scaling_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<AutoScalingGroupProps>>>;
    /// Creates a group with tags that do not propagate (instances get theirs from the
    /// launch template).
    async fn create_auto_scaling_group(&self, props: AutoScalingGroupProps, tags: Tags) -> AwsResult<()>;
    /// Updates sizes, template and subnets; the desired capacity only when `set_desired`.
    async fn update_auto_scaling_group(&self, props: AutoScalingGroupProps, set_desired: bool) -> AwsResult<()>;
    /// Deletes a group; `force` terminates its instances.
    async fn delete_auto_scaling_group(&self, name: String, force: bool) -> AwsResult<()>;
    /// Sets tags on a group.
    async fn create_or_update_tags(&self, name: String, tags: Tags) -> AwsResult<()>;
    /// Removes tags from a group.
    async fn delete_tags(&self, name: String, keys: Vec<String>) -> AwsResult<()>;
}

/// Application Auto Scaling of ECS services' task counts (service namespace `ecs`,
/// dimension `ecs:service:DesiredCount`).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ScalingApi: Send + Sync {
    /// The scalable targets of these resource ids (`service/CLUSTER/SERVICE`, any number:
    /// the adapter asks AWS 50 at a time) that exist (id = resource id, ARN where AWS
    /// reports one).
    async fn describe_scalable_targets(&self, resource_ids: Vec<String>) -> AwsResult<Vec<Found<ScalableTargetProps>>>;
    /// Registers (or updates) a scalable target, tagged with `tags`; returns its ARN
    /// (empty where the API gives none).
    async fn register_scalable_target(&self, props: ScalableTargetProps, tags: Tags) -> AwsResult<String>;
    /// Deregisters a scalable target (AWS deletes its policies with it).
    async fn deregister_scalable_target(&self, resource_id: String) -> AwsResult<()>;
    /// The scaling policies of resource id `resource_id` (id = policy name, ARN; the
    /// attribute `resource_label` holds an ALB request count's label; the load balancer
    /// and target group ARNs read as `None`).
    async fn describe_scaling_policies(&self, resource_id: String) -> AwsResult<Vec<Found<ScalingPolicyProps>>>;
    /// Creates or replaces a target tracking policy; `resource_label` for
    /// `ALBRequestCountPerTarget`. Returns its ARN.
    async fn put_scaling_policy(&self, props: ScalingPolicyProps, resource_label: Option<String>) -> AwsResult<String>;
    /// Deletes a policy.
    async fn delete_scaling_policy(&self, policy_name: String, resource_id: String) -> AwsResult<()>;
}

/// ECS: capacity providers, clusters, task definitions, services.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EcsApi: Send + Sync {
    /// The capacity providers named `names` (state = status), with tags.
    async fn describe_capacity_providers(&self, names: Vec<String>) -> AwsResult<Vec<Found<CapacityProviderProps>>>;
    /// Creates a capacity provider; returns its ARN.
    async fn create_capacity_provider(&self, props: CapacityProviderProps, tags: Tags) -> AwsResult<String>;
    /// Updates managed scaling, termination protection and draining.
    async fn update_capacity_provider(&self, props: CapacityProviderProps) -> AwsResult<()>;
    /// Deletes a capacity provider.
    async fn delete_capacity_provider(&self, name: String) -> AwsResult<()>;

    /// The clusters named `names` (state = status), with settings, capacity providers,
    /// tags and the attributes `registered_instances`, `active_services`, `running_tasks`.
    async fn describe_clusters(&self, names: Vec<String>) -> AwsResult<Vec<Found<ClusterProps>>>;
    /// Creates a cluster with its settings (capacity providers set separately); returns its ARN.
    async fn create_cluster(&self, props: ClusterProps, tags: Tags) -> AwsResult<String>;
    /// Sets Container Insights (`enabled`/`disabled`).
    async fn update_cluster_settings(&self, cluster: String, container_insights: String) -> AwsResult<()>;
    /// Replaces the cluster's capacity providers and default strategy.
    async fn put_cluster_capacity_providers(
        &self,
        cluster: String,
        providers: Vec<String>,
        strategy: Vec<StrategyItem>,
    ) -> AwsResult<()>;
    /// Deletes a cluster.
    async fn delete_cluster(&self, cluster: String) -> AwsResult<()>;

    /// The latest ACTIVE revision of `family`, or the revision `family:N` / ARN given
    /// (id = `family:revision`, state = status), with tags; `None` if absent.
    async fn describe_task_definition(&self, task_definition: String) -> AwsResult<Option<Found<TaskDefinitionProps>>>;
    /// Registers a new revision; returns its ARN.
    async fn register_task_definition(&self, props: TaskDefinitionProps, tags: Tags) -> AwsResult<String>;
    /// ARNs of the revisions of `family` (the whole family name) with `status`
    /// (`ACTIVE` or `INACTIVE`).
    async fn list_task_definitions(&self, family: String, status: String) -> AwsResult<Vec<String>>;
    /// Task definition families whose name starts with `prefix` and that have a
    /// revision with `status` (`ACTIVE` or `INACTIVE`).
    async fn list_task_definition_families(&self, prefix: String, status: String) -> AwsResult<Vec<String>>;
    /// Deregisters a revision (INACTIVE).
    async fn deregister_task_definition(&self, arn: String) -> AwsResult<()>;
    /// Deletes INACTIVE revisions (at most 10).
    async fn delete_task_definitions(&self, arns: Vec<String>) -> AwsResult<()>;

    /// ARNs of the cluster's services.
    async fn list_services(&self, cluster: String) -> AwsResult<Vec<String>>;
    /// The services named `names` of `cluster` (batched by 10), with status, deployments,
    /// events and tags; missing ones are left out.
    async fn describe_services(&self, cluster: String, names: Vec<String>) -> AwsResult<Vec<LiveService>>;
    /// Creates a service (idempotent on `client_token`); returns its ARN.
    async fn create_service(&self, props: ServiceProps, client_token: String, tags: Tags) -> AwsResult<String>;
    /// Updates a service.
    async fn update_service(&self, update: ServiceUpdate) -> AwsResult<()>;
    /// Deletes a service; `force` deletes it with tasks still running.
    async fn delete_service(&self, cluster: String, service: String, force: bool) -> AwsResult<()>;
    /// ARNs of the service's deployments, newest first (ListServiceDeployments).
    async fn list_service_deployments(&self, cluster: String, service: String) -> AwsResult<Vec<String>>;
    /// The service deployments `arns` (DescribeServiceDeployments, up to 20).
    async fn describe_service_deployments(&self, arns: Vec<String>) -> AwsResult<Vec<ServiceDeployment>>;
    /// The service's tasks stopped lately (ListTasks with desired status STOPPED, then
    /// DescribeTasks), newest first, at most 100.
    async fn stopped_tasks(&self, cluster: String, service: String) -> AwsResult<Vec<StoppedTask>>;

    /// Sets tags on an ECS object.
    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()>;
    /// Removes tags from an ECS object.
    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()>;
}

/// Elastic Load Balancing v2: load balancers, target groups, listeners, rules.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ElbApi: Send + Sync {
    /// The load balancers named `names` (id = arn), with idle timeout and the attribute
    /// `dns_name`; state from AWS (`provisioning`, `active`, ...). Their tags are not
    /// read: [`ElbApi::describe_tags`] reads them with those of other ELB objects.
    async fn describe_load_balancers(&self, names: Vec<String>) -> AwsResult<Vec<Found<LoadBalancerProps>>>;
    /// Creates a load balancer; returns its ARN and DNS name.
    async fn create_load_balancer(&self, props: LoadBalancerProps, tags: Tags) -> AwsResult<(String, String)>;
    /// Sets the idle timeout.
    async fn set_idle_timeout(&self, arn: String, seconds: u32) -> AwsResult<()>;
    /// Replaces the security groups.
    async fn set_security_groups(&self, arn: String, group_ids: Vec<String>) -> AwsResult<()>;
    /// Replaces the subnets.
    async fn set_subnets(&self, arn: String, subnet_ids: Vec<String>) -> AwsResult<()>;
    /// Deletes a load balancer (and its listeners).
    async fn delete_load_balancer(&self, arn: String) -> AwsResult<()>;

    /// The target groups named `names` (id = arn), with deregistration delay and the
    /// attribute `load_balancer_arns`. Their tags are not read: [`ElbApi::describe_tags`]
    /// reads them with those of other ELB objects.
    async fn describe_target_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<TargetGroupProps>>>;
    /// Creates a target group with every property of `props`, the deregistration delay
    /// included (an attribute in AWS, set right after the create); returns its ARN.
    async fn create_target_group(&self, props: TargetGroupProps, tags: Tags) -> AwsResult<String>;
    /// Replaces the health check.
    async fn modify_target_group(&self, arn: String, health_check: TargetHealthCheck) -> AwsResult<()>;
    /// Sets the deregistration delay.
    async fn set_deregistration_delay(&self, arn: String, seconds: u32) -> AwsResult<()>;
    /// Deletes a target group.
    async fn delete_target_group(&self, arn: String) -> AwsResult<()>;
    /// Health of the group's targets.
    async fn describe_target_health(&self, arn: String) -> AwsResult<Vec<TargetHealth>>;

    /// The load balancer's listeners (id = arn). Their tags are not read (see
    /// [`ElbApi::describe_tags`]).
    async fn describe_listeners(&self, load_balancer_arn: String) -> AwsResult<Vec<Found<ListenerProps>>>;
    /// Creates a listener (forwarding to one target group or redirecting; HTTPS with its
    /// default certificate and security policy); returns its ARN.
    async fn create_listener(&self, props: ListenerProps, tags: Tags) -> AwsResult<String>;
    /// Changes port, protocol, default action, default certificate and security policy.
    async fn modify_listener(&self, arn: String, props: ListenerProps) -> AwsResult<()>;
    /// Deletes a listener.
    async fn delete_listener(&self, arn: String) -> AwsResult<()>;

    /// The listener's certificates but the default one (id = listener ARN, a space and
    /// the certificate ARN; arn = the certificate ARN).
    async fn describe_listener_certificates(
        &self,
        listener_arn: String,
    ) -> AwsResult<Vec<Found<ListenerCertificateProps>>>;
    /// Adds certificates to a listener's SNI list (already there: no change).
    async fn add_listener_certificates(&self, listener_arn: String, certificate_arns: Vec<String>) -> AwsResult<()>;
    /// Removes certificates from a listener's SNI list.
    async fn remove_listener_certificates(&self, listener_arn: String, certificate_arns: Vec<String>) -> AwsResult<()>;

    /// The listener's rules but the default one (id = arn). Their tags are not read (see
    /// [`ElbApi::describe_tags`]).
    async fn describe_rules(&self, listener_arn: String) -> AwsResult<Vec<Found<ListenerRuleProps>>>;
    /// Creates a rule (path-pattern and host-header conditions) forwarding to one target
    /// group; returns its ARN.
    async fn create_rule(&self, props: ListenerRuleProps, tags: Tags) -> AwsResult<String>;
    /// Changes a rule's conditions and target group.
    async fn modify_rule(&self, arn: String, props: ListenerRuleProps) -> AwsResult<()>;
    /// Changes rule priorities in one call.
    async fn set_rule_priorities(&self, priorities: Vec<(String, u32)>) -> AwsResult<()>;
    /// Deletes a rule.
    async fn delete_rule(&self, arn: String) -> AwsResult<()>;

    /// The tags of the ELB objects `arns` (load balancers, target groups, listeners and
    /// rules mixed; any number: AWS reads 20 a call), by ARN. An object that is gone has
    /// no entry.
    async fn describe_tags(&self, arns: Vec<String>) -> AwsResult<BTreeMap<String, Tags>>;
    /// Sets tags on objects.
    async fn add_tags(&self, arns: Vec<String>, tags: Tags) -> AwsResult<()>;
    /// Removes tags from objects.
    async fn remove_tags(&self, arns: Vec<String>, keys: Vec<String>) -> AwsResult<()>;
}

/// EFS: file systems, mount targets, access points.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EfsApi: Send + Sync {
    /// The file systems with `creation_token` (state = life cycle state), with tags.
    async fn describe_file_systems(&self, creation_token: String) -> AwsResult<Vec<Found<FileSystemProps>>>;
    /// Creates a file system; returns its id.
    async fn create_file_system(&self, props: FileSystemProps, tags: Tags) -> AwsResult<String>;
    /// Deletes a file system (its mount targets must be gone).
    async fn delete_file_system(&self, file_system_id: String) -> AwsResult<()>;

    /// The file system's mount targets (state = life cycle state, attributes
    /// `availability_zone`, `ip_address`, `network_interface_id`), without their
    /// security groups: those are their network interfaces'
    /// ([`Ec2Api::describe_network_interface_groups`], one call for all), or
    /// [`EfsApi::describe_mount_target_security_groups`] one by one.
    async fn describe_mount_targets(&self, file_system_id: String) -> AwsResult<Vec<Found<MountTargetProps>>>;
    /// A mount target's security groups (DescribeMountTargetSecurityGroups).
    async fn describe_mount_target_security_groups(&self, mount_target_id: String) -> AwsResult<Vec<String>>;
    /// Creates a mount target; returns its id.
    async fn create_mount_target(&self, props: MountTargetProps) -> AwsResult<String>;
    /// Replaces a mount target's security groups.
    async fn modify_mount_target_security_groups(
        &self,
        mount_target_id: String,
        group_ids: Vec<String>,
    ) -> AwsResult<()>;
    /// Deletes a mount target (asynchronous).
    async fn delete_mount_target(&self, mount_target_id: String) -> AwsResult<()>;

    /// The file system's access points (state = life cycle state), with tags.
    async fn describe_access_points(&self, file_system_id: String) -> AwsResult<Vec<Found<AccessPointProps>>>;
    /// Creates an access point (idempotent on its client token); returns its id and ARN.
    async fn create_access_point(&self, props: AccessPointProps, tags: Tags) -> AwsResult<(String, String)>;
    /// Deletes an access point.
    async fn delete_access_point(&self, access_point_id: String) -> AwsResult<()>;

    /// Sets tags on a file system or access point.
    async fn tag_resource(&self, resource_id: String, tags: Tags) -> AwsResult<()>;
    /// Removes tags from a file system or access point.
    async fn untag_resource(&self, resource_id: String, keys: Vec<String>) -> AwsResult<()>;
}

/// CloudWatch Logs: log groups.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LogsApi: Send + Sync {
    /// Log groups whose name starts with `prefix` (id = name, ARN without the `:*` the
    /// API appends; a group without retention reports 0 days), without their tags
    /// ([`LogsApi::list_tags`]).
    async fn describe_log_groups(&self, prefix: String) -> AwsResult<Vec<Found<LogGroupProps>>>;
    /// The tags of the log group with ARN `arn`, as [`LogsApi::describe_log_groups`]
    /// reports it (ListTagsForResource).
    async fn list_tags(&self, arn: String) -> AwsResult<Tags>;
    /// Creates a log group with tags.
    async fn create_log_group(&self, name: String, tags: Tags) -> AwsResult<()>;
    /// Sets the retention in days.
    async fn put_retention_policy(&self, name: String, days: u32) -> AwsResult<()>;
    /// Deletes a log group and its events.
    async fn delete_log_group(&self, name: String) -> AwsResult<()>;
    /// Sets tags on a log group, by the ARN [`LogsApi::describe_log_groups`] reports.
    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()>;
    /// Removes tags from a log group, by ARN.
    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()>;
    /// One page of the events of log group `group`, every stream interleaved, oldest
    /// first, from `start_ms` (epoch milliseconds) on and matching the CloudWatch filter
    /// `pattern` when given (FilterLogEvents); `next_token` continues a page.
    async fn filter_log_events(
        &self,
        group: String,
        start_ms: Option<i64>,
        pattern: Option<String>,
        next_token: Option<String>,
    ) -> AwsResult<LogPage>;
}

/// One CloudWatch Logs event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Its id, unique in the log group.
    pub id: String,
    /// When, in milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// The stream it was written to (one per task with the awslogs driver).
    pub stream: String,
    /// The line.
    pub message: String,
}

/// A page of [`LogsApi::filter_log_events`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// Events, oldest first.
    pub events: Vec<LogEvent>,
    /// The token of the next page, if any.
    pub next_token: Option<String>,
}

/// The Resource Groups Tagging API: the tags of many objects of many services in one
/// paged call.
///
/// Its index is updated after the services' own tags, so it may lack an object tagged a
/// moment ago, and answer a tag changed a moment ago with its old value. Discovery takes
/// it as a fast first answer only: an object it does not list has its tags read from its
/// own service, and an object a plan would change or delete has them read there again
/// before the plan stands ([`crate::plan`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TaggingApi: Send + Sync {
    /// Every object of the services or types `types` (AWS's `ResourceTypeFilters`:
    /// `elasticloadbalancing`, `logs:log-group`, ...) that carries the tag `key` =
    /// `value`, by ARN, with all its tags (`GetResources`, every page).
    async fn get_resources(&self, key: String, value: String, types: Vec<String>) -> AwsResult<BTreeMap<String, Tags>>;
}

/// Every AWS client the engine uses, as trait objects: real adapters
/// ([`Clients::from_env`]), mocks or fakes.
#[derive(Clone)]
pub struct Clients {
    /// The region the clients talk to.
    pub region: String,
    /// EC2.
    pub ec2: Arc<dyn Ec2Api>,
    /// ECS.
    pub ecs: Arc<dyn EcsApi>,
    /// ELBv2.
    pub elb: Arc<dyn ElbApi>,
    /// EFS.
    pub efs: Arc<dyn EfsApi>,
    /// IAM.
    pub iam: Arc<dyn IamApi>,
    /// CloudWatch Logs.
    pub logs: Arc<dyn LogsApi>,
    /// SSM.
    pub ssm: Arc<dyn SsmApi>,
    /// Auto Scaling.
    pub autoscaling: Arc<dyn AutoScalingApi>,
    /// Application Auto Scaling (services' task counts).
    pub scaling: Arc<dyn ScalingApi>,
    /// The Resource Groups Tagging API (many objects' tags at once, for discovery).
    pub tagging: Arc<dyn TaggingApi>,
    /// Calls made through the real adapters, per service and operation.
    pub calls: CallCounter,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients").field("region", &self.region).finish_non_exhaustive()
    }
}

/// How often a read is tried while AWS throttles or fails (5xx, timeouts), beyond the
/// SDK's own retries, backing off from 1 s (1 + 2 + 4 + 8 + 16 s at most).
pub const READ_ATTEMPTS: u32 = 6;

/// `read` retried while it fails with a transient error ([`ErrorKind::is_transient`]),
/// up to [`READ_ATTEMPTS`] attempts: discovery and planning ride out throttling as the
/// steps of an apply do.
///
/// # Errors
/// The last error, or the first one that is not transient.
pub async fn retry_transient<T, F, Fut>(mut read: F) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AwsResult<T>>,
{
    let mut delay = std::time::Duration::from_secs(1);
    let mut attempt = 1;
    loop {
        match read().await {
            Err(e) if e.kind.is_transient() && attempt < READ_ATTEMPTS => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}
