//! The validated stack: plain data with every default filled in.
//!
//! A [`Stack`] only comes out of [`StackBuilder::build`](crate::dsl::StackBuilder::build),
//! which checks the whole declaration and reports every problem at once (see
//! [`ValidationErrors`]). Everything after this layer can rely on a `Stack` being valid.

pub mod image;
pub mod instance_types;
pub mod names;
mod validate;

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::dsl::StackBuilder;
pub use crate::dsl::{
    AmiPolicy, Capacity, CircuitBreaker, DesiredCount, NatGateways, ScalingMetric, Scheme, Secret, ThroughputMode,
};
pub use crate::graph::props::{HookStage, Percent};

/// Tag key holding the stack name on every resource the stack owns.
pub const STACK_TAG: &str = "ecs-kit:stack";
/// Tag key holding the logical id of a resource.
pub const ID_TAG: &str = "ecs-kit:id";
/// Tag key on an ECS service recording the task definition revision it was deployed
/// with and a digest of that revision's content (`<revision> <digest>`): revisions are
/// immutable, so a plan that finds the service still on that revision, and the
/// declaration resolving to the same digest, knows the revision without reading it.
/// ecs-kit's bookkeeping, not part of the declaration.
pub const REVISION_TAG: &str = "ecs-kit:revision";
/// Prefix reserved for ecs-kit's own tags.
pub const RESERVED_TAG_PREFIX: &str = "ecs-kit:";
/// The default public SSM parameter naming the latest ECS-optimized AMI.
pub const DEFAULT_AMI_PARAMETER: &str = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id";
/// The variable every container gets, set to the load balancer's DNS name.
pub const ENDPOINT_VAR: &str = "ENDPOINT";

/// A validated stack declaration.
///
/// ```
/// use ecs_kit::{service, Stack};
/// let stack = Stack::builder("shop")
///     .region("eu-west-1")
///     .service(service! { name: "worker", image: "busybox:1.36", port: 8080 })
///     .build()?;
/// assert_eq!(stack.services[0].cpu, 256);
/// assert_eq!(stack.network.az_count, 2);
/// # Ok::<(), ecs_kit::ValidationErrors>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stack {
    /// The stack name: prefix of every AWS name, value of the `ecs-kit:stack` tag.
    pub name: String,
    /// The region the stack lives in.
    pub region: String,
    /// VPC and subnets.
    pub network: NetworkSpec,
    /// ECS cluster and its instances.
    pub cluster: ClusterSpec,
    /// The load balancer, if any.
    pub load_balancer: Option<LoadBalancerSpec>,
    /// The shared file system, if any.
    pub file_system: Option<FileSystemSpec>,
    /// Services in declaration order.
    pub services: Vec<ServiceSpec>,
    /// User tags on every taggable resource.
    pub tags: BTreeMap<String, String>,
    /// Things that are allowed but probably not meant (see [`Stack::warnings`]).
    #[serde(skip)]
    warnings: Vec<Warning>,
}

impl Stack {
    /// Starts declaring a stack named `name`.
    #[must_use]
    pub fn builder(name: impl Into<String>) -> StackBuilder {
        StackBuilder::new(name)
    }

    /// Things the declaration allows but that are probably not meant: tasks that do not
    /// fit the cluster's minimum size, an instance type ecs-kit does not know, images on
    /// a mutable tag (`:latest` or none), plain variables that look secret, SSH open to
    /// the world, more NAT gateways than the default Elastic IP quota. The command line
    /// prints them to stderr before every verb.
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The service named `name`.
    #[must_use]
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The AWS partition of the stack's region.
    #[must_use]
    pub fn partition(&self) -> &'static str {
        names::partition(&self.region)
    }
}

/// Availability zones, counted or named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zones {
    /// The first `n` available zones of the region in name order, resolved at apply time.
    Count(u8),
    /// These zones.
    Named(Vec<String>),
}

/// The validated network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkSpec {
    /// VPC CIDR block.
    pub cidr: Ipv4Net,
    /// Zones used.
    pub zones: Zones,
    /// Number of zones (and of public and private subnets each).
    pub az_count: u8,
    /// Bits added to the VPC prefix for each subnet.
    pub subnet_bits: u8,
    /// DNS resolution.
    pub dns_support: bool,
    /// DNS host names.
    pub dns_hostnames: bool,
    /// NAT layout.
    pub nat: NatGateways,
}

impl NetworkSpec {
    /// The `index`-th subnet of the VPC at the subnet prefix length
    /// (Terraform's `cidrsubnet(cidr, subnet_bits, index)`).
    fn subnet(&self, index: u32) -> Ipv4Net {
        let prefix = self.cidr.prefix_len() + self.subnet_bits;
        let size = 1u32 << (32 - u32::from(prefix));
        let base = u32::from(self.cidr.network()) + index * size;
        Ipv4Net::new(base.into(), prefix).expect("validated prefix length")
    }

    /// CIDR of the public subnet in zone `zone` (`cidrsubnet(vpc, bits, zone)`).
    #[must_use]
    pub fn public_subnet(&self, zone: u8) -> Ipv4Net {
        self.subnet(u32::from(zone))
    }

    /// CIDR of the private subnet in zone `zone` (`cidrsubnet(vpc, bits, zone + zones)`).
    #[must_use]
    pub fn private_subnet(&self, zone: u8) -> Ipv4Net {
        self.subnet(u32::from(zone) + u32::from(self.az_count))
    }

    /// Number of NAT gateways.
    #[must_use]
    pub fn nat_count(&self) -> u8 {
        match self.nat {
            NatGateways::PerZone => self.az_count,
            NatGateways::Single => 1,
        }
    }
}

/// SSH access to the instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ssh {
    /// EC2 key pair name.
    pub key_name: String,
    /// The only CIDR SSH is open to.
    pub admin_cidr: Ipv4Net,
}

/// The validated cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClusterSpec {
    /// EC2 instance type.
    pub instance_type: String,
    /// Auto Scaling group minimum.
    pub min_instances: u32,
    /// Auto Scaling group maximum.
    pub max_instances: u32,
    /// Auto Scaling group desired size at creation.
    pub desired_instances: u32,
    /// SSH access, when a key is given.
    pub ssh: Option<Ssh>,
    /// AMI policy.
    pub ami: AmiPolicy,
    /// SSM parameter naming the latest ECS-optimized AMI.
    pub ami_parameter: String,
    /// Container Insights.
    pub container_insights: bool,
    /// ECS managed scaling of the Auto Scaling group.
    pub managed_scaling: bool,
}

/// The validated load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoadBalancerSpec {
    /// Internet-facing or internal.
    pub scheme: Scheme,
    /// HTTP listener port.
    pub port: u16,
    /// Idle timeout in seconds.
    pub idle_timeout_seconds: u32,
    /// TLS termination, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https: Option<HttpsSpec>,
    /// The listener for test traffic of strategies that shift traffic, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener: Option<TestListenerSpec>,
}

/// The validated test listener: a port of its own, open to `allowed` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TestListenerSpec {
    /// Its port.
    pub port: u16,
    /// Who may reach it (the VPC's block by default on an internal load balancer).
    pub allowed: Vec<Ipv4Net>,
}

/// TLS termination on the load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HttpsSpec {
    /// The HTTPS listener's port (443).
    pub port: u16,
    /// The default certificate (ACM or IAM server certificate ARN).
    pub certificate_arn: String,
    /// More certificates, served by SNI, in declaration order.
    pub extra_certificates: Vec<String>,
    /// The security policy.
    pub tls_policy: String,
    /// Whether the HTTP port answers 301 to HTTPS (else there is no HTTP listener).
    pub redirect_http: bool,
}

/// The security policy of an HTTPS listener unless told otherwise: TLS 1.3 and 1.2.
pub const DEFAULT_TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The validated file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileSystemSpec {
    /// Customer-managed KMS key, if any (always encrypted).
    pub kms_key_id: Option<String>,
    /// Throughput mode.
    pub throughput_mode: ThroughputMode,
    /// POSIX user id of the containers on the file system.
    pub posix_uid: u32,
    /// POSIX group id of the containers on the file system.
    pub posix_gid: u32,
}

/// A validated health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HealthCheckSpec {
    /// Path requested.
    pub path: String,
    /// Seconds between checks.
    pub interval_seconds: u32,
    /// Seconds to wait for an answer.
    pub timeout_seconds: u32,
    /// Successes before healthy.
    pub healthy_threshold: u32,
    /// Failures before unhealthy.
    pub unhealthy_threshold: u32,
    /// Healthy HTTP codes.
    pub matcher: String,
    /// Seconds ECS ignores failing checks of a new task.
    pub grace_period_seconds: u32,
}

/// How a service is reached through the load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoutingSpec {
    /// The path (`/` for the default service, and for a service reached by host alone).
    pub path: String,
    /// The host name the rule matches (lowercase; `*` and `?` wildcards), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The listener rule priority (none for the default service).
    pub priority: Option<u32>,
    /// Health check of the target group.
    pub health_check: HealthCheckSpec,
    /// Seconds the load balancer drains a leaving task.
    pub deregistration_delay_seconds: u32,
}

impl RoutingSpec {
    /// Whether the service is the load balancer's default route (path `/`, no host):
    /// the listener forwards to it; every other routed service has a rule.
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.path == "/" && self.host.is_none()
    }
}

/// Deployment settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeploymentSpec {
    /// Minimum healthy percent.
    pub min_healthy_percent: u32,
    /// Maximum percent.
    pub max_percent: u32,
    /// Circuit breaker.
    pub circuit_breaker: CircuitBreaker,
    /// The strategy.
    #[serde(default)]
    pub strategy: StrategySpec,
    /// CloudWatch alarms that fail (and roll back) a deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<String>,
    /// Lambda functions ECS invokes at stages of a deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookSpec>,
}

/// A validated lifecycle hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HookSpec {
    /// The Lambda function's ARN.
    pub function_arn: String,
    /// Its stages, each once, in the order a deployment passes them.
    pub stages: Vec<HookStage>,
    /// JSON handed to the function with every invocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// A validated deployment strategy; bake times in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum StrategySpec {
    /// Tasks replaced a few at a time.
    #[default]
    Rolling,
    /// All traffic shifted once the new tasks are healthy, then `bake_minutes`.
    BlueGreen {
        /// Minutes both sets run after the shift.
        bake_minutes: u32,
    },
    /// `percent` of traffic, `canary_bake_minutes`, the rest, then `bake_minutes`.
    Canary {
        /// The canary's share of traffic.
        percent: Percent,
        /// Minutes at the canary share.
        canary_bake_minutes: u32,
        /// Minutes both sets run after the last shift.
        bake_minutes: u32,
    },
    /// `step` of traffic at a time, `step_bake_minutes` after each, then `bake_minutes`.
    Linear {
        /// Each step's share of traffic.
        step: Percent,
        /// Minutes after each step but the last.
        step_bake_minutes: u32,
        /// Minutes both sets run after the last shift.
        bake_minutes: u32,
    },
}

impl StrategySpec {
    /// Whether ECS shifts load balancer traffic itself (everything but rolling): the
    /// service then has an alternate target group, a rule forwarding to both and a role
    /// for ECS.
    #[must_use]
    pub fn shifts_traffic(&self) -> bool {
        !matches!(self, StrategySpec::Rolling)
    }
}

/// A validated service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceSpec {
    /// Service name (also the container name).
    pub name: String,
    /// Full image reference (the initial one when a pipeline owns the image).
    pub image: String,
    /// Who owns the image: the stack, or a pipeline (then the image the service runs is kept).
    pub image_owner: crate::graph::props::ImageOwner,
    /// Container port.
    pub port: u16,
    /// Desired count and its owner.
    pub desired_count: DesiredCount,
    /// CPU units.
    pub cpu: u32,
    /// Memory limit in MiB.
    pub memory: u32,
    /// Load balancer routing, when the service has a path or a host.
    pub routing: Option<RoutingSpec>,
    /// User environment variables (ENDPOINT is added by the graph).
    pub env: BTreeMap<String, String>,
    /// Secrets by variable name.
    pub secrets: BTreeMap<String, Secret>,
    /// Managed policy ARNs of the task role, sorted.
    pub policies: Vec<String>,
    /// Inline policies of the task role, by name.
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    /// Log retention in days.
    pub log_retention_days: u32,
    /// Deployment settings.
    pub deployment: DeploymentSpec,
    /// The service's own tags (merged over the stack's).
    pub tags: BTreeMap<String, String>,
    /// Where the tasks run.
    #[serde(default, skip_serializing_if = "is_ec2")]
    pub capacity: Capacity,
    /// Service autoscaling, when declared (the count is then the autoscaler's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,
}

fn is_ec2(capacity: &Capacity) -> bool {
    *capacity == Capacity::Ec2
}

/// Validated service autoscaling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AutoscalingSpec {
    /// Fewest tasks.
    pub min: u32,
    /// Most tasks.
    pub max: u32,
    /// Target tracking policies, one per metric, in declaration order (CPU at 60 % by default).
    pub targets: Vec<ScalingTarget>,
    /// Seconds after a scale-in before the next one.
    pub scale_in_cooldown_seconds: u32,
    /// Seconds after a scale-out before the next one.
    pub scale_out_cooldown_seconds: u32,
}

/// One target tracking policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScalingTarget {
    /// The metric kept at the target.
    pub metric: ScalingMetric,
    /// Percent for CPU and memory, requests a minute per task for requests.
    pub value: u32,
}

/// Fargate's task sizes: CPU units and the memory (MiB) each allows.
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>
pub const FARGATE_SIZES: [(u32, u32, u32, u32); 7] = [
    // (cpu, min memory, max memory, step)
    (256, 512, 2048, 512),
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122_880, 8192),
];

/// The memory sizes (MiB) Fargate allows with `cpu` units, if `cpu` is a Fargate size.
#[must_use]
pub fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let (_, min, max, step) = FARGATE_SIZES.iter().find(|(c, ..)| *c == cpu)?;
    // 256 units take 512, 1024 and 2048, not 1536.
    let sizes = (*min..=*max).step_by(*step as usize).filter(|m| cpu != 256 || *m != 1536).collect();
    Some(sizes)
}

impl ServiceSpec {
    /// The task count ecs-kit creates the service with.
    #[must_use]
    pub fn initial_count(&self) -> u32 {
        match self.desired_count {
            DesiredCount::Fixed(n) | DesiredCount::External(n) => n,
        }
    }
}

pub use crate::dsl::ValidationError;

/// Every problem found in a declaration; nothing was sent to AWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid stack declaration ({} problem{}):{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, render(.0))]
pub struct ValidationErrors(pub Vec<ValidationError>);

fn render(errors: &[ValidationError]) -> String {
    errors.iter().map(|e| format!("\n  - {e}")).collect()
}

impl ValidationErrors {
    /// The problems, in declaration order.
    #[must_use]
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// Whether some problem is about `field` (exactly, or a field below it).
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.0
            .iter()
            .any(|e| e.field == field || e.field.strip_prefix(field).is_some_and(|rest| rest.starts_with(['.', '['])))
    }
}

/// Something a declaration allows that is probably not meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Path of the field.
    pub field: String,
    /// What may go wrong.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Whether an environment variable's name says it holds a secret (`DB_PASSWORD`,
/// `API_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `PRIVATE_KEY`, ...). Such plain variables are
/// warned about by `build()` (declare them as secrets instead) and their values are
/// masked in plan output.
///
/// ```
/// use ecs_kit::model::looks_secret;
/// assert!(looks_secret("DB_PASSWORD") && looks_secret("github_token") && looks_secret("STRIPE_API_KEY"));
/// assert!(!looks_secret("DB_HOST") && !looks_secret("RUST_LOG"));
/// ```
#[must_use]
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "PRIVATE", "CREDENTIAL", "API_KEY", "APIKEY", "ACCESS_KEY"]
        .iter()
        .any(|w| upper.contains(w))
}

impl StackBuilder {
    /// Validates the whole declaration and fills in every default.
    ///
    /// # Errors
    /// [`ValidationErrors`] listing every problem at once, each naming the field and
    /// the fix (duplicate service names or paths, no service at `/` behind a load
    /// balancer, a VPC CIDR too small for the subnets, a key name without an admin CIDR,
    /// reserved tag keys, invalid images, cpu, memory, ports, ...), and the fixed AWS
    /// quotas a declaration can break (target groups and rules per load balancer, tags
    /// per resource, managed and inline policy sizes per role, path pattern length).
    pub fn build(self) -> Result<Stack, ValidationErrors> {
        validate::build(self)
    }
}

#[cfg(test)]
mod tests;

/// The seed template's stack, for tests: two services behind a public load balancer.
#[cfg(test)]
pub(crate) fn seed() -> StackBuilder {
    use crate::dsl::{Cluster, FileSystem, LoadBalancer, Network, Service};
    Stack::builder("mcsv-poc")
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5))
        .load_balancer(LoadBalancer::public())
        .file_system(FileSystem::encrypted())
        .service(
            Service::new("product-web", "registry.example.com/microservices/product-web:latest", 8000)
                .count(2)
                .path("/"),
        )
        .service(
            Service::new("products", "registry.example.com/microservices/products:latest", 8001)
                .count(2)
                .path("/products")
                .policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        )
}

/// The seed stack with one service's image replaced, for tests.
#[cfg(test)]
pub(crate) fn seed_with_image(service: &str, image: &str) -> StackBuilder {
    let mut b = seed();
    for s in &mut b.services {
        if s.name == service {
            s.image = image.to_owned();
        }
    }
    b
}

/// The seed stack without one service, for tests.
#[cfg(test)]
pub(crate) fn seed_without(service: &str) -> StackBuilder {
    let mut b = seed();
    b.services.retain(|s| s.name != service);
    b
}
