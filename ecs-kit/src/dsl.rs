//! What a user writes: builders for the stack and its parts.
//!
//! Every builder takes its required data in `new(..)` (or a named constructor), has
//! chained `#[must_use]` setters, and leaves defaults to the model: nothing is checked
//! here. [`StackBuilder::build`] (in [`crate::model`]) validates the whole declaration
//! at once and fills in every default.
//!
//! ```
//! use ecs_kit::{Cluster, FileSystem, LoadBalancer, Network, Service, Stack};
//!
//! let stack = Stack::builder("mcsv-poc")
//!     .region("us-west-2")
//!     .network(Network::new("10.10.0.0/16").availability_zones(2))
//!     .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5))
//!     .load_balancer(LoadBalancer::public())
//!     .file_system(FileSystem::encrypted())
//!     .service(Service::new("product-web", "registry.example.com/shop/product-web:1.4", 8000).count(2).path("/"))
//!     .build()
//!     .expect("a valid stack");
//! assert_eq!(stack.services.len(), 1);
//! ```

use std::time::Duration;

/// The declaration of a whole stack; finish it with [`StackBuilder::build`].
///
/// Start one with [`crate::Stack::builder`].
#[derive(Debug, Clone)]
pub struct StackBuilder {
    pub(crate) name: String,
    pub(crate) region: Option<String>,
    pub(crate) network: Network,
    pub(crate) cluster: Cluster,
    pub(crate) load_balancer: Option<LoadBalancer>,
    pub(crate) file_system: Option<FileSystem>,
    pub(crate) services: Vec<Service>,
    pub(crate) tags: Vec<(String, String)>,
    /// Problems found while the builder was changed (see [`StackBuilder::invalid`]).
    pub(crate) problems: Vec<ValidationError>,
}

impl StackBuilder {
    /// A stack named `name` (lowercase letters, digits and `-`; it prefixes every AWS
    /// name and is stored in the `ecs-kit:stack` tag), with the seed template's network
    /// and a `t3.small` cluster of 2 to 5 instances until told otherwise.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        StackBuilder {
            name: name.into(),
            region: None,
            network: Network::new("10.10.0.0/16"),
            cluster: Cluster::ec2("t3.small"),
            load_balancer: None,
            file_system: None,
            services: Vec::new(),
            tags: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// The AWS region the stack lives in (required), e.g. `us-west-2`.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The VPC and its subnets.
    #[must_use]
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// The ECS cluster and the EC2 instances it runs on.
    #[must_use]
    pub fn cluster(mut self, cluster: Cluster) -> Self {
        self.cluster = cluster;
        self
    }

    /// An Application Load Balancer routing each service's path.
    #[must_use]
    pub fn load_balancer(mut self, load_balancer: LoadBalancer) -> Self {
        self.load_balancer = Some(load_balancer);
        self
    }

    /// An encrypted EFS file system: every container gets its own directory of it at `/mnt`.
    #[must_use]
    pub fn file_system(mut self, file_system: FileSystem) -> Self {
        self.file_system = Some(file_system);
        self
    }

    /// Adds a service (see also the [`crate::service!`] macro).
    #[must_use]
    pub fn service(mut self, service: Service) -> Self {
        self.services.push(service);
        self
    }

    /// The names of the services declared so far, in order.
    #[must_use]
    pub fn service_names(&self) -> Vec<&str> {
        self.services.iter().map(|s| s.name.as_str()).collect()
    }

    /// Changes the declared service `name` with `change`, e.g. to override its image from
    /// a command-line flag. When no service has that name, [`StackBuilder::build`]
    /// reports an error on `field` (the flag, say `--image`) listing the declared names.
    #[must_use]
    pub fn with_service(mut self, field: &str, name: &str, change: impl FnOnce(Service) -> Service) -> Self {
        match self.services.iter().position(|s| s.name == name) {
            Some(i) => {
                let service = self.services.remove(i);
                self.services.insert(i, change(service));
            }
            None => {
                let names = self.service_names().iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                let name = crate::model::image::quoted(name);
                self = self.invalid(field, format!("no service is named {name}: the services are {names}"));
            }
        }
        self
    }

    /// Changes the cluster with `change` (flags overriding the code's cluster).
    #[must_use]
    pub fn with_cluster(mut self, change: impl FnOnce(Cluster) -> Cluster) -> Self {
        self.cluster = change(self.cluster);
        self
    }

    /// Changes the load balancer with `change`; without one declared, `change` gets
    /// [`LoadBalancer::public`].
    #[must_use]
    pub fn with_load_balancer(mut self, change: impl FnOnce(LoadBalancer) -> LoadBalancer) -> Self {
        self.load_balancer = Some(change(self.load_balancer.take().unwrap_or_else(LoadBalancer::public)));
        self
    }

    /// Records a problem with an input the program read (a flag, a file), so that
    /// [`StackBuilder::build`] reports it as `field: message` with the declaration's own
    /// problems. Say in `message` what to do about it.
    #[must_use]
    pub fn invalid(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.problems.push(ValidationError { field: field.into(), message: message.into() });
        self
    }

    /// Adds a tag to every resource of the stack that AWS lets us tag. Keys may not
    /// start with `ecs-kit:` or `aws:`.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }
}

/// How NAT gateways are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatGateways {
    /// One NAT gateway per availability zone: a zone outage keeps the others online.
    #[default]
    PerZone,
    /// One NAT gateway for all private subnets: cheaper, one zone's outage cuts egress.
    Single,
}

/// The VPC: its CIDR block, how many availability zones it spans and its subnets.
///
/// As in the seed template, zone `i` gets the public subnet `cidrsubnet(cidr, bits, i)`
/// and the private subnet `cidrsubnet(cidr, bits, i + zones)` with `bits` = 8.
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) cidr: String,
    pub(crate) az_count: Option<u8>,
    pub(crate) zones: Vec<String>,
    pub(crate) subnet_bits: Option<u8>,
    pub(crate) dns_support: Option<bool>,
    pub(crate) dns_hostnames: Option<bool>,
    pub(crate) nat: Option<NatGateways>,
}

impl Network {
    /// A VPC with the CIDR block `cidr` (e.g. `10.10.0.0/16`), over 2 availability zones.
    #[must_use]
    pub fn new(cidr: impl Into<String>) -> Self {
        Network {
            cidr: cidr.into(),
            az_count: None,
            zones: Vec::new(),
            subnet_bits: None,
            dns_support: None,
            dns_hostnames: None,
            nat: None,
        }
    }

    /// How many availability zones to span (1 to 6, at least 2 with a load balancer;
    /// default 2). The first `count` zones of the region, in name order, are used.
    #[must_use]
    pub fn availability_zones(mut self, count: u8) -> Self {
        self.az_count = Some(count);
        self
    }

    /// Names the zones to use instead of counting them (`["us-west-2a", "us-west-2c"]`).
    #[must_use]
    pub fn zones<I, S>(mut self, zones: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.zones = zones.into_iter().map(Into::into).collect();
        self
    }

    /// Bits added to the VPC prefix for each subnet (default 8: a /16 gives /24 subnets).
    #[must_use]
    pub fn subnet_bits(mut self, bits: u8) -> Self {
        self.subnet_bits = Some(bits);
        self
    }

    /// DNS resolution in the VPC (default on).
    #[must_use]
    pub fn dns_support(mut self, enabled: bool) -> Self {
        self.dns_support = Some(enabled);
        self
    }

    /// DNS host names for instances (default on).
    #[must_use]
    pub fn dns_hostnames(mut self, enabled: bool) -> Self {
        self.dns_hostnames = Some(enabled);
        self
    }

    /// NAT gateway layout (default [`NatGateways::PerZone`]).
    #[must_use]
    pub fn nat_gateways(mut self, nat: NatGateways) -> Self {
        self.nat = Some(nat);
        self
    }
}

/// Which AMI the cluster's instances boot.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmiPolicy {
    /// Resolve the latest ECS-optimized AMI when the launch template is created, then
    /// keep it: a newer AMI never forces new instances (the default).
    #[default]
    KeepExisting,
    /// Follow the latest ECS-optimized AMI: every apply that finds a newer one creates a
    /// launch template version with it (instances roll as the group replaces them).
    Latest,
    /// Always this AMI id.
    Pinned(String),
}

/// The ECS cluster on an Auto Scaling group of ECS-optimized EC2 instances in the
/// private subnets.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) instance_type: String,
    pub(crate) min: Option<u32>,
    pub(crate) max: Option<u32>,
    pub(crate) desired: Option<u32>,
    pub(crate) key_name: Option<String>,
    pub(crate) admin_cidr: Option<String>,
    pub(crate) ami: Option<AmiPolicy>,
    pub(crate) ami_parameter: Option<String>,
    pub(crate) container_insights: Option<bool>,
    pub(crate) managed_scaling: Option<bool>,
}

impl Cluster {
    /// A cluster on instances of type `instance_type` (e.g. `t3.small`); 2 to 5
    /// instances, 2 desired, until told otherwise.
    #[must_use]
    pub fn ec2(instance_type: impl Into<String>) -> Self {
        Cluster {
            instance_type: instance_type.into(),
            min: None,
            max: None,
            desired: None,
            key_name: None,
            admin_cidr: None,
            ami: None,
            ami_parameter: None,
            container_insights: None,
            managed_scaling: None,
        }
    }

    /// The EC2 instance type (replaces the one given to [`Cluster::ec2`]).
    #[must_use]
    pub fn instance_type(mut self, instance_type: impl Into<String>) -> Self {
        self.instance_type = instance_type.into();
        self
    }

    /// Minimum size of the Auto Scaling group (default 2).
    #[must_use]
    pub fn min_instances(mut self, n: u32) -> Self {
        self.min = Some(n);
        self
    }

    /// Maximum size of the Auto Scaling group (default 5).
    #[must_use]
    pub fn max_instances(mut self, n: u32) -> Self {
        self.max = Some(n);
        self
    }

    /// Desired size of the Auto Scaling group when it is created (default: the
    /// minimum). With managed scaling on, ECS owns it afterwards.
    #[must_use]
    pub fn desired_instances(mut self, n: u32) -> Self {
        self.desired = Some(n);
        self
    }

    /// An EC2 key pair for SSH to the instances; needs [`Cluster::admin_cidr`] too.
    #[must_use]
    pub fn key_name(mut self, key_name: impl Into<String>) -> Self {
        self.key_name = Some(key_name.into());
        self
    }

    /// The only CIDR SSH is opened to; needs [`Cluster::key_name`] too.
    #[must_use]
    pub fn admin_cidr(mut self, cidr: impl Into<String>) -> Self {
        self.admin_cidr = Some(cidr.into());
        self
    }

    /// Which AMI the instances boot (default [`AmiPolicy::KeepExisting`]).
    #[must_use]
    pub fn ami(mut self, policy: AmiPolicy) -> Self {
        self.ami = Some(policy);
        self
    }

    /// The public SSM parameter naming the ECS-optimized AMI (default
    /// `/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id`; use the
    /// `arm64` one for Graviton instance types).
    #[must_use]
    pub fn ami_parameter(mut self, name: impl Into<String>) -> Self {
        self.ami_parameter = Some(name.into());
        self
    }

    /// CloudWatch Container Insights for the cluster (default off).
    #[must_use]
    pub fn container_insights(mut self, enabled: bool) -> Self {
        self.container_insights = Some(enabled);
        self
    }

    /// ECS managed scaling of the Auto Scaling group through the capacity provider
    /// (default on: ECS adds instances when tasks do not fit).
    #[must_use]
    pub fn managed_scaling(mut self, enabled: bool) -> Self {
        self.managed_scaling = Some(enabled);
        self
    }
}

/// Whether the load balancer faces the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Reachable from the internet, in the public subnets.
    InternetFacing,
    /// Reachable from inside the VPC only, in the private subnets.
    Internal,
}

/// The Application Load Balancer in front of the services.
///
/// Plain HTTP on port 80 until [`LoadBalancer::https`] is given; then the services'
/// rules sit on an HTTPS listener on port 443 and port 80 answers 301 to HTTPS:
///
/// ```
/// use ecs_kit::LoadBalancer;
/// let lb = LoadBalancer::public()
///     .https("arn:aws:acm:us-west-2:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666")
///     .certificate("arn:aws:acm:us-west-2:123456789012:certificate/9f8e7d6c-1111-2222-3333-444455556666")
///     .tls_policy("ELBSecurityPolicy-TLS13-1-2-Res-2021-06");
/// ```
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    pub(crate) scheme: Scheme,
    pub(crate) port: Option<u16>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) https: Option<String>,
    pub(crate) certificates: Vec<String>,
    pub(crate) tls_policy: Option<String>,
    pub(crate) redirect_http: Option<bool>,
    pub(crate) test_listener: Option<TestListener>,
}

impl LoadBalancer {
    fn new(scheme: Scheme) -> Self {
        LoadBalancer {
            scheme,
            port: None,
            idle_timeout: None,
            https: None,
            certificates: Vec::new(),
            tls_policy: None,
            redirect_http: None,
            test_listener: None,
        }
    }

    /// An internet-facing load balancer in the public subnets.
    #[must_use]
    pub fn public() -> Self {
        LoadBalancer::new(Scheme::InternetFacing)
    }

    /// An internal load balancer in the private subnets, reachable from the VPC only.
    #[must_use]
    pub fn internal() -> Self {
        LoadBalancer::new(Scheme::Internal)
    }

    /// Internet-facing or internal (replaces the constructor's choice).
    #[must_use]
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// The HTTP listener's port (default 80). With HTTPS, the port that redirects.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Idle connection timeout (default 60 s, 1 to 4000 s).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Terminates TLS on port 443 with this default certificate: an ACM certificate
    /// (`arn:aws:acm:REGION:ACCOUNT:certificate/ID`, in the stack's region) or an IAM
    /// server certificate (`arn:aws:iam::ACCOUNT:server-certificate/NAME`). The
    /// services' rules move to the HTTPS listener; port 80 redirects (see
    /// [`LoadBalancer::redirect_http`]). Given twice, the last one is the default.
    #[must_use]
    pub fn https(mut self, certificate_arn: impl Into<String>) -> Self {
        self.https = Some(certificate_arn.into());
        self
    }

    /// One more certificate on the HTTPS listener, chosen by SNI for the host names it
    /// covers (a listener certificate; needs [`LoadBalancer::https`]).
    #[must_use]
    pub fn certificate(mut self, certificate_arn: impl Into<String>) -> Self {
        self.certificates.push(certificate_arn.into());
        self
    }

    /// The HTTPS listener's security policy (default
    /// `ELBSecurityPolicy-TLS13-1-2-2021-06`: TLS 1.3 and 1.2; needs [`LoadBalancer::https`]).
    #[must_use]
    pub fn tls_policy(mut self, policy: impl Into<String>) -> Self {
        self.tls_policy = Some(policy.into());
        self
    }

    /// Whether the HTTP port answers every request with a 301 to the same URL on
    /// HTTPS (default `true`). With `false` there is no HTTP listener at all and the
    /// security group opens only 443: HTTPS only, nothing served in clear text. Needs
    /// [`LoadBalancer::https`].
    #[must_use]
    pub fn redirect_http(mut self, redirect: bool) -> Self {
        self.redirect_http = Some(redirect);
        self
    }

    /// A second listener for test traffic of blue/green, canary and linear deployments
    /// (a port, or a [`TestListener`] saying who may reach it). Each service whose
    /// strategy shifts traffic gets a rule on it, matching its path and host, that ECS
    /// moves to the new tasks before production traffic (`TEST_TRAFFIC_SHIFT`), so that
    /// a lifecycle hook or a person can try the new revision first. Requests matching
    /// no such rule get 404. It speaks the production listener's protocol (HTTPS with
    /// its certificates when [`LoadBalancer::https`] is given).
    ///
    /// ```
    /// use ecs_kit::{LoadBalancer, TestListener};
    /// // Internal: reachable from the VPC unless told otherwise.
    /// let internal = LoadBalancer::internal().test_listener(8080);
    /// // Internet-facing: name who may reach it.
    /// let public = LoadBalancer::public().test_listener(TestListener::new(8080).allow("203.0.113.0/24"));
    /// # let _ = (internal, public);
    /// ```
    #[must_use]
    pub fn test_listener(mut self, listener: impl Into<TestListener>) -> Self {
        self.test_listener = Some(listener.into());
        self
    }
}

/// The load balancer's listener for test traffic (see [`LoadBalancer::test_listener`]):
/// its port and who may reach it.
///
/// By default nobody outside the VPC: on an internal load balancer the listener is open
/// to the VPC's CIDR block; an internet-facing one needs at least one [`TestListener::allow`]
/// (traffic from inside the VPC reaches its public addresses through the NAT gateways,
/// so the VPC's block would let nothing in). A test listener is never opened to the
/// world unless `0.0.0.0/0` is written, which `build()` warns about.
///
/// ```
/// use ecs_kit::TestListener;
/// let test = TestListener::new(8443).allow("203.0.113.0/24").allow("198.51.100.7/32");
/// # let _ = test;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestListener {
    pub(crate) port: u16,
    pub(crate) allow: Vec<String>,
}

impl TestListener {
    /// A test listener on `port` (not a port of the production listeners).
    #[must_use]
    pub fn new(port: u16) -> Self {
        TestListener { port, allow: Vec::new() }
    }

    /// An IPv4 CIDR block allowed to reach the test listener (repeatable; replaces the
    /// default, the VPC's block on an internal load balancer).
    #[must_use]
    pub fn allow(mut self, cidr: impl Into<String>) -> Self {
        self.allow.push(cidr.into());
        self
    }
}

impl From<u16> for TestListener {
    fn from(port: u16) -> Self {
        TestListener::new(port)
    }
}

/// EFS throughput mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThroughputMode {
    /// Throughput grows with the size stored (the API default).
    #[default]
    Bursting,
    /// Throughput scales with the workload, paid per use.
    Elastic,
}

/// The EFS file system shared by the services, always encrypted at rest; every
/// container mounts its own directory `/<service>` of it at `/mnt`, through an access
/// point, with encryption in transit and IAM authorization.
#[derive(Debug, Clone)]
pub struct FileSystem {
    pub(crate) kms_key_id: Option<String>,
    pub(crate) throughput_mode: Option<ThroughputMode>,
    pub(crate) posix_user: Option<(u32, u32)>,
}

impl FileSystem {
    /// An encrypted file system (with the AWS-managed key unless [`FileSystem::kms_key`]).
    #[must_use]
    pub fn encrypted() -> Self {
        FileSystem { kms_key_id: None, throughput_mode: None, posix_user: None }
    }

    /// A customer-managed KMS key (ARN or id) to encrypt with.
    #[must_use]
    pub fn kms_key(mut self, key: impl Into<String>) -> Self {
        self.kms_key_id = Some(key.into());
        self
    }

    /// Throughput mode (default [`ThroughputMode::Bursting`]).
    #[must_use]
    pub fn throughput_mode(mut self, mode: ThroughputMode) -> Self {
        self.throughput_mode = Some(mode);
        self
    }

    /// The POSIX user and group containers act as on the file system, owning each
    /// service's directory (default 1000:1000).
    #[must_use]
    pub fn posix_user(mut self, uid: u32, gid: u32) -> Self {
        self.posix_user = Some((uid, gid));
        self
    }
}

/// Who owns a service's desired task count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "owner", content = "count")]
pub enum DesiredCount {
    /// The stack: every apply sets the service to this count.
    Fixed(u32),
    /// Something outside ecs-kit (an autoscaler, a pipeline): the service is created
    /// with this count and ecs-kit never changes it afterwards.
    External(u32),
}

/// Where a secret's value comes from; the container gets it as an environment variable
/// (`valueFrom`), and the task execution role is allowed to read exactly these.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Secret {
    /// An SSM Parameter Store parameter, by name (`/prod/db/password`) or ARN.
    Ssm(String),
    /// A Secrets Manager secret, by ARN (optionally with `:json-key:version-stage:version-id`).
    SecretsManager(String),
}

impl Secret {
    /// An SSM parameter by name or ARN.
    #[must_use]
    pub fn ssm(parameter: impl Into<String>) -> Self {
        Secret::Ssm(parameter.into())
    }

    /// A Secrets Manager secret by ARN.
    #[must_use]
    pub fn secrets_manager(arn: impl Into<String>) -> Self {
        Secret::SecretsManager(arn.into())
    }
}

/// What a deployment does when new tasks keep failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitBreaker {
    /// Stop the deployment and roll back to the last working task definition (default).
    #[default]
    Rollback,
    /// Stop the deployment and leave it failed.
    Stop,
    /// No circuit breaker: ECS keeps trying.
    Off,
}

/// How a service's new revision replaces the running one: ECS's deployment strategies.
///
/// Rolling (the default) replaces tasks a few at a time. The others start a full set of
/// new tasks behind a second target group ecs-kit creates, and ECS moves the listener
/// rule's weights from the old tasks to the new ones: all at once ([`Deployment::blue_green`]),
/// a canary share first ([`Deployment::canary`]), or in equal steps ([`Deployment::linear`]).
/// After the last shift both sets run for the bake time, then the old set is stopped;
/// a circuit breaker or an alarm ([`Service::rollback_alarm`]) rolls back until then.
/// These need the service behind the load balancer.
///
/// ```
/// use std::time::Duration;
/// use ecs_kit::{Deployment, Service};
/// let minutes = |m: u64| Duration::from_secs(60 * m);
/// let web = Service::new("web", "nginx:1.27", 80)
///     .path("/")
///     .deployment(Deployment::canary(5.0, minutes(10)).bake(minutes(15)))
///     .rollback_alarm("web-5xx");
/// # let _ = web;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deployment {
    pub(crate) kind: DeploymentKind,
    /// The canary share or the linear step, in percent.
    pub(crate) percent: Option<f64>,
    /// The bake after the canary or after each linear step.
    pub(crate) step_bake: Option<Duration>,
    /// The bake once all traffic has shifted.
    pub(crate) bake: Option<Duration>,
}

/// Which strategy a [`Deployment`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeploymentKind {
    Rolling,
    BlueGreen,
    Canary,
    Linear,
}

impl Deployment {
    fn new(kind: DeploymentKind, percent: Option<f64>, step_bake: Option<Duration>, bake: Option<Duration>) -> Self {
        Deployment { kind, percent, step_bake, bake }
    }

    /// Tasks replaced a few at a time, within [`Service::min_healthy_percent`] and
    /// [`Service::max_percent`] (the default).
    #[must_use]
    pub fn rolling() -> Self {
        Deployment::new(DeploymentKind::Rolling, None, None, None)
    }

    /// Blue/green: the new tasks start behind the alternate target group; once they are
    /// healthy all production traffic shifts to them, both sets run for `bake` (whole
    /// minutes, at most 24 h), then the old set stops.
    #[must_use]
    pub fn blue_green(bake: Duration) -> Self {
        Deployment::new(DeploymentKind::BlueGreen, None, None, Some(bake))
    }

    /// Canary: `percent` of production traffic (0.1 to 100, in steps of 0.1) shifts to
    /// the new tasks, ECS waits `canary_bake` (whole minutes, at most 24 h), then shifts
    /// the rest; then the bake of [`Deployment::bake`] (none unless set).
    #[must_use]
    pub fn canary(percent: f64, canary_bake: Duration) -> Self {
        Deployment::new(DeploymentKind::Canary, Some(percent), Some(canary_bake), None)
    }

    /// Linear: traffic shifts `step_percent` at a time (3 to 100, in steps of 0.1),
    /// waiting `step_bake` after each step but the last (whole minutes, at most 24 h);
    /// then the bake of [`Deployment::bake`] (none unless set).
    #[must_use]
    pub fn linear(step_percent: f64, step_bake: Duration) -> Self {
        Deployment::new(DeploymentKind::Linear, Some(step_percent), Some(step_bake), None)
    }

    /// How long old and new tasks both run once all traffic has shifted (whole minutes,
    /// at most 24 h); the blue/green bake time.
    #[must_use]
    pub fn bake(mut self, bake: Duration) -> Self {
        self.bake = Some(bake);
        self
    }
}

/// A Lambda function ECS invokes at stages of every deployment of a service
/// (`deploymentConfiguration.lifecycleHooks`), e.g. to run smoke tests against the
/// [test listener](LoadBalancer::test_listener) before production traffic moves.
///
/// The function answers `{"hookStatus": "SUCCEEDED"}` to let the deployment go on,
/// `"FAILED"` to roll it back, or `"IN_PROGRESS"` to be asked again (after
/// `callBackDelay` seconds, 30 by default); an error or anything else rolls back too.
/// ECS invokes it with a role ecs-kit creates for the stack (`role/ecs-hooks`, trusted
/// by `ecs.amazonaws.com`, allowed `lambda:InvokeFunction` on exactly the functions the
/// stack's hooks name). ECS also invokes hooks when it creates the service: a function
/// may answer `SUCCEEDED` at once when the service has only one deployment.
///
/// ```
/// use std::time::Duration;
/// use ecs_kit::{Deployment, HookStage, LifecycleHook, Service};
/// let smoke = LifecycleHook::lambda(
///     "arn:aws:lambda:eu-west-1:123456789012:function:shop-smoke-tests",
///     [HookStage::PostTestTrafficShift],
/// )
/// .details(r#"{"path": "/health", "expect": 200}"#);
/// let web = Service::new("web", "registry.example.com/shop/web:1.4", 8000)
///     .path("/")
///     .deployment(Deployment::blue_green(Duration::from_secs(600)))
///     .lifecycle_hook(smoke);
/// # let _ = web;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleHook {
    pub(crate) function_arn: String,
    pub(crate) stages: Vec<crate::graph::props::HookStage>,
    pub(crate) details: Option<String>,
}

impl LifecycleHook {
    /// The Lambda function `function_arn` (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`,
    /// optionally `:ALIAS` or `:VERSION`), invoked at each of `stages`.
    #[must_use]
    pub fn lambda(
        function_arn: impl Into<String>,
        stages: impl IntoIterator<Item = crate::graph::props::HookStage>,
    ) -> Self {
        LifecycleHook { function_arn: function_arn.into(), stages: stages.into_iter().collect(), details: None }
    }

    /// JSON handed to the function with every invocation (`hookDetails`), e.g. what to test.
    #[must_use]
    pub fn details(mut self, json: impl Into<String>) -> Self {
        self.details = Some(json.into());
        self
    }
}

/// The target group health check of a service.
///
/// Converts from a path: `HealthCheck::from("/health")`.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub(crate) path: String,
    pub(crate) interval: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) healthy_threshold: Option<u32>,
    pub(crate) unhealthy_threshold: Option<u32>,
    pub(crate) matcher: Option<String>,
    pub(crate) grace_period: Option<Duration>,
}

impl HealthCheck {
    /// A health check requesting `path` (must start with `/`).
    #[must_use]
    pub fn new(path: impl Into<String>) -> Self {
        HealthCheck {
            path: path.into(),
            interval: None,
            timeout: None,
            healthy_threshold: None,
            unhealthy_threshold: None,
            matcher: None,
            grace_period: None,
        }
    }

    /// Time between checks (default 15 s, 5 to 300 s).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Time to wait for an answer (default 5 s, 2 to 120 s, less than the interval).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Successes before a target is healthy (default 2, 2 to 10).
    #[must_use]
    pub fn healthy_threshold(mut self, n: u32) -> Self {
        self.healthy_threshold = Some(n);
        self
    }

    /// Failures before a target is unhealthy (default 3, 2 to 10).
    #[must_use]
    pub fn unhealthy_threshold(mut self, n: u32) -> Self {
        self.unhealthy_threshold = Some(n);
        self
    }

    /// HTTP codes that count as healthy: `200`, `200,302` or `200-299` (default `200`).
    #[must_use]
    pub fn matcher(mut self, codes: impl Into<String>) -> Self {
        self.matcher = Some(codes.into());
        self
    }

    /// How long ECS ignores failing health checks of a new task (default 30 s).
    #[must_use]
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = Some(grace);
        self
    }
}

impl From<&str> for HealthCheck {
    fn from(path: &str) -> Self {
        HealthCheck::new(path)
    }
}

impl From<String> for HealthCheck {
    fn from(path: String) -> Self {
        HealthCheck::new(path)
    }
}

/// One service: a container image run as an ECS service, optionally behind the load
/// balancer at a path. The [`crate::service!`] macro writes these calls for you.
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) port: u16,
    pub(crate) count: Option<DesiredCount>,
    pub(crate) cpu: Option<u32>,
    pub(crate) memory: Option<u32>,
    pub(crate) path: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) health_check: Option<HealthCheck>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) secrets: Vec<(String, Secret)>,
    pub(crate) policies: Vec<String>,
    pub(crate) inline_policies: Vec<(String, String)>,
    pub(crate) deregistration_delay: Option<Duration>,
    pub(crate) log_retention_days: Option<u32>,
    pub(crate) min_healthy_percent: Option<u32>,
    pub(crate) max_percent: Option<u32>,
    pub(crate) circuit_breaker: Option<CircuitBreaker>,
    pub(crate) deployment: Option<Deployment>,
    pub(crate) alarms: Vec<String>,
    pub(crate) hooks: Vec<LifecycleHook>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) capacity: Option<Capacity>,
    pub(crate) autoscaling: Option<Autoscaling>,
    pub(crate) image_owner: crate::graph::props::ImageOwner,
}

impl Service {
    /// A service `name` running `image` (a full reference:
    /// `registry/namespace/name:tag` or `...@sha256:...`) listening on `port`.
    #[must_use]
    pub fn new(name: impl Into<String>, image: impl Into<String>, port: u16) -> Self {
        Service {
            name: name.into(),
            image: image.into(),
            port,
            count: None,
            cpu: None,
            memory: None,
            path: None,
            host: None,
            health_check: None,
            env: Vec::new(),
            secrets: Vec::new(),
            policies: Vec::new(),
            inline_policies: Vec::new(),
            deregistration_delay: None,
            log_retention_days: None,
            min_healthy_percent: None,
            max_percent: None,
            circuit_breaker: None,
            deployment: None,
            alarms: Vec::new(),
            hooks: Vec::new(),
            tags: Vec::new(),
            capacity: None,
            autoscaling: None,
            image_owner: crate::graph::props::ImageOwner::Stack,
        }
    }

    /// The image to run, owned by the stack (replaces the one given to
    /// [`Service::new`], and an [`Service::external_image`]): every apply deploys it.
    #[must_use]
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = image.into();
        self.image_owner = crate::graph::props::ImageOwner::Stack;
        self
    }

    /// The image to start with; afterwards a pipeline owns the image (CI registers and
    /// deploys new ones) and ecs-kit keeps whatever image the service runs, so an apply
    /// that changes something else never reverts an image CI deployed. The plan says
    /// which image it keeps. A later [`Service::image`] (the `--image` knob) gives the
    /// image back to the stack for that run.
    #[must_use]
    pub fn external_image(mut self, initial: impl Into<String>) -> Self {
        self.image = initial.into();
        self.image_owner = crate::graph::props::ImageOwner::Pipeline;
        self
    }

    /// Tasks to run, owned by the stack (default 1).
    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(DesiredCount::Fixed(count));
        self
    }

    /// Tasks to start with; afterwards an autoscaler or pipeline owns the count and
    /// ecs-kit never changes it.
    #[must_use]
    pub fn external_count(mut self, initial: u32) -> Self {
        self.count = Some(DesiredCount::External(initial));
        self
    }

    /// CPU units reserved for the container (1024 = one vCPU; default 256).
    #[must_use]
    pub fn cpu(mut self, units: u32) -> Self {
        self.cpu = Some(units);
        self
    }

    /// Memory limit of the container in MiB (default 512).
    #[must_use]
    pub fn memory(mut self, mib: u32) -> Self {
        self.memory = Some(mib);
        self
    }

    /// The load balancer path (e.g. `/products`; `/` for the default service); the
    /// rule matches the path and everything under it. Without a path, the service is
    /// not behind the load balancer.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The host name the service answers on the load balancer (`api.example.com`; ALB
    /// wildcards `*` and `?` allowed, matched without regard to case), alone (every
    /// path of that host) or with [`Service::path`] (that path of that host). Rules
    /// with a host are evaluated before rules without one.
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The target group health check (default: the service's path).
    #[must_use]
    pub fn health_check(mut self, check: impl Into<HealthCheck>) -> Self {
        self.health_check = Some(check.into());
        self
    }

    /// An environment variable (besides `ENDPOINT`, which ecs-kit sets to the load
    /// balancer's DNS name).
    #[must_use]
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// An environment variable read from a secret store when the task starts.
    #[must_use]
    pub fn secret(mut self, name: impl Into<String>, secret: Secret) -> Self {
        self.secrets.push((name.into(), secret));
        self
    }

    /// Attaches an IAM managed policy (by ARN) to this service's own task role.
    #[must_use]
    pub fn policy(mut self, arn: impl Into<String>) -> Self {
        self.policies.push(arn.into());
        self
    }

    /// Adds an inline policy (a JSON policy document) to this service's task role.
    #[must_use]
    pub fn inline_policy(mut self, name: impl Into<String>, document: impl Into<String>) -> Self {
        self.inline_policies.push((name.into(), document.into()));
        self
    }

    /// How long the load balancer lets in-flight requests finish when a task leaves
    /// (default 30 s, 0 to 3600 s).
    #[must_use]
    pub fn deregistration_delay(mut self, delay: Duration) -> Self {
        self.deregistration_delay = Some(delay);
        self
    }

    /// Days the service's log group keeps events (default 30; one of CloudWatch's
    /// allowed values: 1, 3, 5, 7, 14, 30, 60, 90, ...).
    #[must_use]
    pub fn log_retention_days(mut self, days: u32) -> Self {
        self.log_retention_days = Some(days);
        self
    }

    /// Share of tasks that must stay healthy during a rolling deployment (default 50).
    #[must_use]
    pub fn min_healthy_percent(mut self, percent: u32) -> Self {
        self.min_healthy_percent = Some(percent);
        self
    }

    /// Upper bound of running tasks during a deployment, in percent (default 200).
    #[must_use]
    pub fn max_percent(mut self, percent: u32) -> Self {
        self.max_percent = Some(percent);
        self
    }

    /// The deployment circuit breaker (default [`CircuitBreaker::Rollback`]).
    #[must_use]
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.circuit_breaker = Some(breaker);
        self
    }

    /// The deployment strategy (default [`Deployment::rolling`]).
    #[must_use]
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = Some(deployment);
        self
    }

    /// A CloudWatch alarm (by name) that fails a deployment of this service when it
    /// goes to `ALARM`, and rolls it back (repeatable; with any strategy).
    #[must_use]
    pub fn rollback_alarm(mut self, name: impl Into<String>) -> Self {
        self.alarms.push(name.into());
        self
    }

    /// A Lambda function ECS invokes at stages of every deployment of this service
    /// (repeatable); see [`LifecycleHook`].
    #[must_use]
    pub fn lifecycle_hook(mut self, hook: LifecycleHook) -> Self {
        self.hooks.push(hook);
        self
    }

    /// A tag on this service's resources, besides the stack's tags.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Where the tasks run (default [`Capacity::Ec2`], the cluster's instances).
    #[must_use]
    pub fn capacity(mut self, capacity: Capacity) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Runs the tasks on Fargate ([`Capacity::Fargate`]): `cpu` and `memory` become the
    /// task's size and must be one of Fargate's combinations.
    #[must_use]
    pub fn fargate(self) -> Self {
        self.capacity(Capacity::Fargate)
    }

    /// Scales the task count between `min` and `max` with target tracking on the
    /// average CPU utilization (60 %) unless [`Service::autoscaling`] says otherwise.
    /// The autoscaler owns the count: the service starts with its `count` (at least
    /// `min`), and ecs-kit never resets what the autoscaler set.
    #[must_use]
    pub fn autoscale(mut self, min: u32, max: u32) -> Self {
        let scaling = self.autoscaling.take().unwrap_or_else(|| Autoscaling::new(min, max));
        self.autoscaling = Some(Autoscaling { min, max, ..scaling });
        self
    }

    /// Scales the task count as `scaling` declares (targets and cooldowns).
    #[must_use]
    pub fn autoscaling(mut self, scaling: Autoscaling) -> Self {
        self.autoscaling = Some(scaling);
        self
    }
}

/// Where a service's tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// On the cluster's EC2 instances, bridge networking, dynamic host ports (default).
    #[default]
    Ec2,
    /// On Fargate: each task has its own network interface (`awsvpc`) in the private
    /// subnets, without a public IP, and its own security group open to the load
    /// balancer only; the target group registers task IPs.
    Fargate,
    /// As [`Capacity::Fargate`], on spare capacity AWS may reclaim (with two minutes'
    /// notice), at a discount.
    FargateSpot,
}

impl Capacity {
    /// Whether the tasks run on Fargate (on-demand or Spot).
    #[must_use]
    pub fn is_fargate(self) -> bool {
        matches!(self, Capacity::Fargate | Capacity::FargateSpot)
    }
}

/// What target tracking keeps at its target value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMetric {
    /// The service's average CPU utilization, in percent.
    Cpu,
    /// The service's average memory utilization, in percent.
    Memory,
    /// Requests per task through the load balancer, per minute (needs a path or host).
    RequestsPerTarget,
}

/// Service autoscaling: the task count between `min` and `max`, moved by target
/// tracking policies (CPU at 60 % unless told otherwise).
///
/// ```
/// use ecs_kit::{Autoscaling, Service};
/// use std::time::Duration;
/// let web = Service::new("web", "nginx:1.27", 80).path("/").autoscaling(
///     Autoscaling::new(2, 10).cpu(50).requests_per_target(1000).scale_in_cooldown(Duration::from_secs(600)),
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Autoscaling {
    pub(crate) min: u32,
    pub(crate) max: u32,
    pub(crate) targets: Vec<(ScalingMetric, u32)>,
    pub(crate) scale_in_cooldown: Option<Duration>,
    pub(crate) scale_out_cooldown: Option<Duration>,
}

impl Autoscaling {
    /// Between `min` and `max` tasks.
    #[must_use]
    pub fn new(min: u32, max: u32) -> Self {
        Autoscaling { min, max, targets: Vec::new(), scale_in_cooldown: None, scale_out_cooldown: None }
    }

    /// Keeps the average CPU utilization at `percent` (1 to 100).
    #[must_use]
    pub fn cpu(mut self, percent: u32) -> Self {
        self.targets.push((ScalingMetric::Cpu, percent));
        self
    }

    /// Keeps the average memory utilization at `percent` (1 to 100).
    #[must_use]
    pub fn memory(mut self, percent: u32) -> Self {
        self.targets.push((ScalingMetric::Memory, percent));
        self
    }

    /// Keeps the load balancer's requests per task at `requests` a minute.
    #[must_use]
    pub fn requests_per_target(mut self, requests: u32) -> Self {
        self.targets.push((ScalingMetric::RequestsPerTarget, requests));
        self
    }

    /// Time after a scale-in before the next one (default 300 s, 0 to 3600 s).
    #[must_use]
    pub fn scale_in_cooldown(mut self, cooldown: Duration) -> Self {
        self.scale_in_cooldown = Some(cooldown);
        self
    }

    /// Time after a scale-out before the next one (default 60 s, 0 to 3600 s).
    #[must_use]
    pub fn scale_out_cooldown(mut self, cooldown: Duration) -> Self {
        self.scale_out_cooldown = Some(cooldown);
        self
    }
}

/// One problem of a declaration: where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidationError {
    /// Path of the field, e.g. `services[1].port` or `network.cidr`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
