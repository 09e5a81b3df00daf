//! `StackBuilder::build`: every check of a declaration, and its defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use std::time::Duration;

use ipnet::Ipv4Net;
use regex::Regex;
use sha2::{Digest, Sha256};

use super::image::quoted;
use super::{
    image, instance_types, looks_secret, AutoscalingSpec, ClusterSpec, DeploymentSpec, FileSystemSpec, HealthCheckSpec,
    HttpsSpec, LoadBalancerSpec, NetworkSpec, RoutingSpec, ScalingTarget, ServiceSpec, Ssh, Stack, TestListenerSpec,
    ValidationError, ValidationErrors, Warning, Zones, DEFAULT_AMI_PARAMETER, DEFAULT_TLS_POLICY, ENDPOINT_VAR,
    RESERVED_TAG_PREFIX,
};
use super::{HookSpec, HookStage, Percent, StrategySpec};
use crate::dsl::{
    AmiPolicy, Autoscaling, Cluster, DesiredCount, FileSystem, HealthCheck, LoadBalancer, Network, Scheme, Secret,
    Service, StackBuilder, TestListener,
};
use crate::dsl::{Deployment, DeploymentKind, LifecycleHook};

/// CloudWatch Logs' allowed retention periods, in days.
pub(crate) const RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/// Tags ecs-kit itself puts on a resource: `ecs-kit:stack`, `ecs-kit:id` and `Name`.
const OWN_TAGS: usize = 3;
/// AWS's limit of tags on one resource.
const MAX_TAGS: usize = 50;
/// Managed policies AWS attaches to one role by default (adjustable up to 20).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>
const MAX_MANAGED_POLICIES: usize = 10;
/// Target groups per Application Load Balancer: 100, not adjustable; and rules per
/// Application Load Balancer, not counting default rules: 100 by default. Each service
/// with a path has a target group; each but the one at `/` a rule.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html>
const MAX_TARGET_GROUPS_PER_ALB: usize = 100;
/// See [`MAX_TARGET_GROUPS_PER_ALB`].
const MAX_RULES_PER_ALB: usize = 100;
/// A host-header value is at most 128 characters.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html>
const MAX_HOST: usize = 128;
/// A path pattern is at most 128 characters.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/add-rule.html>
const MAX_PATH_PATTERN: usize = 128;
/// The inline policies of one role together: at most 10,240 characters, white space
/// not counted (a fixed quota).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>
const MAX_ROLE_INLINE_CHARS: usize = 10_240;
/// What ecs-kit's own `ecs-kit-efs` policy takes of a task role's inline budget, with
/// its file system and access point ARNs resolved (about 380 characters).
const EFS_POLICY_CHARS: usize = 400;
/// Elastic IP addresses per Region: 5 by default (adjustable, and shared with
/// everything else in the account); each NAT gateway holds one.
/// <https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html>
const DEFAULT_EIP_QUOTA: u8 = 5;

macro_rules! re {
    ($name:ident, $pattern:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pattern).expect("a valid pattern"));
    };
}

re!(NAME, r"^[a-z]([a-z0-9-]*[a-z0-9])?$");
re!(REGION, r"^[a-z]{2}(-[a-z]+)+-[0-9]+$");
re!(INSTANCE_TYPE, r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$");
re!(AMI_ID, r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$");
re!(ENV_NAME, r"^[A-Za-z_][A-Za-z0-9_]*$");
re!(PATH, r"^/([A-Za-z0-9_.$~'@:+-]+(/[A-Za-z0-9_.$~'@:+-]+)*)?$");
re!(MATCHER, r"^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$");
re!(POLICY_ARN, r"^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy/[\w+=,.@/-]+$");
re!(POLICY_NAME, r"^[\w+=,.@-]{1,128}$");
re!(SSM_NAME, r"^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$");
re!(SSM_ARN, r"^arn:aws(-[a-z]+)*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$");
re!(SECRET_ARN, r"^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$");
re!(ZONE, r"^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$");
re!(ACM_ARN, r"^arn:aws(-[a-z]+)*:acm:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:certificate/[A-Za-z0-9-]+$");
re!(IAM_CERT_ARN, r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:server-certificate/[\w+=,.@/-]+$");
re!(TLS_POLICY, r"^ELBSecurityPolicy-[A-Za-z0-9-]+$");
re!(
    LAMBDA_ARN,
    r"^arn:aws(-[a-z]+)*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
);
re!(HOST, r"^[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?(\.[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?)*$");

/// Collects problems and warnings while a declaration is checked.
#[derive(Default)]
struct Checker {
    errors: Vec<ValidationError>,
    warnings: Vec<Warning>,
}

impl Checker {
    fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ValidationError { field: field.into(), message: message.into() });
    }

    fn warn(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning { field: field.into(), message: message.into() });
    }

    /// A duration in whole seconds within `range`, or an error.
    fn seconds(
        &mut self,
        field: &str,
        value: Option<Duration>,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> u32 {
        let Some(d) = value else { return default };
        let secs = u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        if d.subsec_nanos() != 0 || !range.contains(&secs) {
            self.error(
                field,
                format!("{d:?} is not allowed: use whole seconds from {} to {} s", range.start(), range.end()),
            );
            return default;
        }
        secs
    }

    fn in_range(&mut self, field: &str, value: u32, range: std::ops::RangeInclusive<u32>, what: &str) {
        if !range.contains(&value) {
            self.error(
                field,
                format!("{value} is out of range: {what} must be from {} to {}", range.start(), range.end()),
            );
        }
    }

    fn tags(&mut self, field: &str, pairs: &[(String, String)]) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        for (key, value) in pairs {
            let at = format!("{field}[{key:?}]");
            if key.starts_with(RESERVED_TAG_PREFIX) {
                self.error(&at, format!("tag keys starting with `{RESERVED_TAG_PREFIX}` are ecs-kit's own ownership tags; rename the tag"));
            } else if key.starts_with("aws:") {
                self.error(&at, "tag keys starting with `aws:` are reserved by AWS; rename the tag");
            } else if key.is_empty() || key.chars().count() > 128 {
                self.error(&at, "tag keys must be 1 to 128 characters long; rename the tag");
            } else if key == "Name" {
                self.error(&at, "the `Name` tag is set by ecs-kit from the stack and resource names; remove it");
            }
            let length = value.chars().count();
            if length > 256 {
                self.error(
                    &at,
                    format!("the value is {length} characters long; tag values are at most 256: shorten it"),
                );
            }
            if tags.insert(key.clone(), value.clone()).is_some() {
                self.error(&at, "tag set twice; keep one");
            }
        }
        tags
    }
}

pub(super) fn build(b: StackBuilder) -> Result<Stack, ValidationErrors> {
    let mut c = Checker { errors: b.problems.clone(), ..Checker::default() };

    if b.name.len() > 64 || !NAME.is_match(&b.name) {
        c.error(
            "name",
            format!(
                "{} is not a valid stack name: use 1 to 64 lowercase letters, digits and `-`, \
                 starting with a letter and not ending with `-` (e.g. `shop-prod`)",
                quoted(&b.name)
            ),
        );
    } else if b.name.starts_with("internal-") {
        c.error(
            "name",
            "stack names may not start with `internal-` (AWS refuses such load balancer names); rename the stack",
        );
    }
    let region = match b.region {
        None => {
            c.error("region", "not set: add `.region(\"us-west-2\")` (the region the stack lives in)");
            String::new()
        }
        Some(r) if !REGION.is_match(&r) => {
            c.error("region", format!("{} is not an AWS region name: use one such as `us-west-2`", quoted(&r)));
            r
        }
        Some(r) => r,
    };
    let tags = c.tags("tags", &b.tags);
    let has_lb = b.load_balancer.is_some();
    let network = network(&mut c, &b.network, &region, has_lb);
    let cluster = cluster(&mut c, &b.cluster);
    let load_balancer = b.load_balancer.as_ref().map(|lb| load_balancer(&mut c, lb, &region, network.cidr));
    let file_system = b.file_system.as_ref().map(|fs| file_system(&mut c, fs));
    let mut services: Vec<ServiceSpec> = b
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| service(&mut c, &format!("services[{i}]"), s, has_lb, b.file_system.is_some(), tags.len()))
        .collect();
    let test = load_balancer.as_ref().is_some_and(|lb| lb.test_listener.is_some());
    cross_service(&mut c, &b.services, &mut services, has_lb, test);
    if test && !services.iter().any(|s| s.deployment.strategy.shifts_traffic()) {
        c.error(
            "load_balancer.test_listener",
            "carries the test traffic of blue/green, canary and linear deployments, and no service has one: \
             give a service such a `.deployment(..)`, or remove the test listener",
        );
    }
    // Test traffic needs a test listener to come in by.
    for (i, s) in services.iter().enumerate() {
        for (j, h) in s.deployment.hooks.iter().enumerate() {
            let testing =
                h.stages.iter().find(|s| matches!(s, HookStage::TestTrafficShift | HookStage::PostTestTrafficShift));
            if let (Some(stage), false) = (testing, test) {
                c.warn(
                    format!("services[{i}].lifecycle_hooks[{j}].stages"),
                    format!("{stage} moves test traffic, but the load balancer has no test listener for it to come in by: add `.test_listener(port)` to the load balancer"),
                );
            }
        }
    }
    fit(&mut c, &cluster, &services);

    if c.errors.is_empty() {
        Ok(Stack {
            name: b.name,
            region,
            network,
            cluster,
            load_balancer,
            file_system,
            services,
            tags,
            warnings: c.warnings,
        })
    } else {
        Err(ValidationErrors(c.errors))
    }
}

fn network(c: &mut Checker, n: &Network, region: &str, has_lb: bool) -> NetworkSpec {
    let fallback: Ipv4Net = "10.10.0.0/16".parse().expect("a valid CIDR");
    let cidr = match n.cidr.parse::<Ipv4Net>() {
        Err(_) => {
            c.error(
                "network.cidr",
                format!("{} is not an IPv4 CIDR block: write one such as `10.10.0.0/16`", quoted(&n.cidr)),
            );
            fallback
        }
        Ok(net) if net.addr() != net.network() => {
            c.error("network.cidr", format!("`{net}` has host bits set; use `{}`", net.trunc()));
            net.trunc()
        }
        Ok(net) if !(16..=28).contains(&net.prefix_len()) => {
            c.error(
                "network.cidr",
                format!("`/{}` is not allowed: AWS VPCs are /16 to /28 (e.g. `10.10.0.0/16`)", net.prefix_len()),
            );
            fallback
        }
        Ok(net) => net,
    };
    let (zones, az_count) = if n.zones.is_empty() {
        let count = n.az_count.unwrap_or(2);
        (Zones::Count(count), count)
    } else {
        let mut seen = BTreeSet::new();
        for (i, zone) in n.zones.iter().enumerate() {
            if !ZONE.is_match(zone) || !zone.starts_with(region) {
                c.error(
                    format!("network.zones[{i}]"),
                    format!(
                        "{} is not a zone of region {}: name one such as `{}a`",
                        quoted(zone),
                        quoted(region),
                        if REGION.is_match(region) { region } else { "us-west-2" }
                    ),
                );
            }
            if !seen.insert(zone) {
                c.error(
                    format!("network.zones[{i}]"),
                    format!("{} is listed twice; list each zone once", quoted(zone)),
                );
            }
        }
        let count = u8::try_from(n.zones.len()).unwrap_or(u8::MAX);
        if n.az_count.is_some_and(|a| a != count) {
            c.error(
                "network.availability_zones",
                format!("says {} but {count} zones are named; give one or the other", n.az_count.unwrap_or_default()),
            );
        }
        (Zones::Named(n.zones.clone()), count)
    };
    if !(1..=6).contains(&az_count) {
        c.error("network.availability_zones", format!("{az_count} is out of range: use 1 to 6 availability zones"));
    } else if has_lb && az_count < 2 {
        c.error(
            "network.availability_zones",
            "an Application Load Balancer needs subnets in at least two zones: use `.availability_zones(2)` or more",
        );
    }
    let subnet_bits = n.subnet_bits.unwrap_or(8);
    let subnet_prefix = cidr.prefix_len().saturating_add(subnet_bits);
    let needed = 2 * u32::from(az_count.clamp(1, 6));
    if subnet_bits == 0 || subnet_prefix > 28 {
        c.error(
            "network.subnet_bits",
            format!(
                "{subnet_bits} bits on a /{} VPC give /{subnet_prefix} subnets; AWS subnets are /16 to /28: \
                 use a larger VPC (e.g. `10.10.0.0/16`) or fewer subnet bits",
                cidr.prefix_len()
            ),
        );
    } else if needed > 1u32.checked_shl(u32::from(subnet_bits)).unwrap_or(u32::MAX) {
        c.error(
            "network.cidr",
            format!(
                "`{cidr}` is too small: {needed} subnets (a public and a private one per zone) do not fit \
                 in {} /{subnet_prefix} blocks; use a larger VPC or more subnet bits",
                1u32 << subnet_bits
            ),
        );
    }
    let nat = n.nat.unwrap_or_default();
    if nat == crate::dsl::NatGateways::PerZone && (1..=6).contains(&az_count) && az_count > DEFAULT_EIP_QUOTA {
        c.warn(
            "network.nat_gateways",
            format!(
                "{az_count} NAT gateways need {az_count} Elastic IP addresses, and AWS allows {DEFAULT_EIP_QUOTA} per region by default: \
                 ask for a higher quota before apply, or use `.nat_gateways(NatGateways::Single)`"
            ),
        );
    }
    NetworkSpec {
        cidr,
        zones,
        az_count,
        subnet_bits,
        dns_support: n.dns_support.unwrap_or(true),
        dns_hostnames: n.dns_hostnames.unwrap_or(true),
        nat,
    }
}

fn cluster(c: &mut Checker, k: &Cluster) -> ClusterSpec {
    if !INSTANCE_TYPE.is_match(&k.instance_type) {
        c.error(
            "cluster.instance_type",
            format!("{} is not an EC2 instance type: use one such as `t3.small`", quoted(&k.instance_type)),
        );
    } else if let Some(warning) = instance_types::unknown(&k.instance_type) {
        c.warn("cluster.instance_type", warning);
    }
    let min = k.min.unwrap_or(2);
    let max = k.max.unwrap_or(min.max(5));
    let desired = k.desired.unwrap_or(min);
    if max == 0 {
        c.error("cluster.max_instances", "0 instances can run no task: use at least 1");
    }
    if min > max {
        c.error(
            "cluster.min_instances",
            format!("{min} is above max_instances {max}: lower the minimum or raise the maximum"),
        );
    }
    if desired < min || desired > max {
        c.error(
            "cluster.desired_instances",
            format!("{desired} is outside min_instances..=max_instances ({min}..={max}): set it within, or leave it out to start at the minimum"),
        );
    }
    let ssh = match (&k.key_name, &k.admin_cidr) {
        (None, None) => None,
        (Some(_), None) => {
            c.error("cluster.admin_cidr", "a key name is set without an admin CIDR: SSH needs both; add `.admin_cidr(\"203.0.113.7/32\")` or remove the key name");
            None
        }
        (None, Some(_)) => {
            c.error("cluster.key_name", "an admin CIDR is set without a key name: SSH needs both; add `.key_name(\"my-key\")` or remove the admin CIDR");
            None
        }
        (Some(key), Some(cidr)) => {
            if key.is_empty() || key.len() > 255 {
                c.error("cluster.key_name", "key names are 1 to 255 characters long: give the name of an EC2 key pair");
            }
            match cidr.parse::<Ipv4Net>() {
                Ok(net) if net.addr() == net.network() => {
                    if net.prefix_len() == 0 {
                        c.warn(
                            "cluster.admin_cidr",
                            "0.0.0.0/0 opens SSH to the whole internet; use your own address (x.x.x.x/32)",
                        );
                    }
                    Some(Ssh { key_name: key.clone(), admin_cidr: net })
                }
                Ok(net) => {
                    c.error("cluster.admin_cidr", format!("`{net}` has host bits set; use `{}`", net.trunc()));
                    None
                }
                Err(_) => {
                    c.error(
                        "cluster.admin_cidr",
                        format!("{} is not an IPv4 CIDR block: write one such as `203.0.113.7/32`", quoted(cidr)),
                    );
                    None
                }
            }
        }
    };
    let ami = k.ami.clone().unwrap_or_default();
    if let AmiPolicy::Pinned(id) = &ami {
        if !AMI_ID.is_match(id) {
            c.error(
                "cluster.ami",
                format!("{} is not an AMI id: write one such as `ami-0123456789abcdef0`", quoted(id)),
            );
        }
    }
    let ami_parameter = k.ami_parameter.clone().unwrap_or_else(|| DEFAULT_AMI_PARAMETER.to_owned());
    if !ami_parameter.starts_with('/') || !SSM_NAME.is_match(&ami_parameter) {
        c.error(
            "cluster.ami_parameter",
            format!(
                "{} is not an SSM parameter name: use one such as `{DEFAULT_AMI_PARAMETER}`",
                quoted(&ami_parameter)
            ),
        );
    }
    ClusterSpec {
        instance_type: k.instance_type.clone(),
        min_instances: min,
        max_instances: max,
        desired_instances: desired,
        ssh,
        ami,
        ami_parameter,
        container_insights: k.container_insights.unwrap_or(false),
        managed_scaling: k.managed_scaling.unwrap_or(true),
    }
}

fn load_balancer(c: &mut Checker, lb: &LoadBalancer, region: &str, vpc: Ipv4Net) -> LoadBalancerSpec {
    let port = lb.port.unwrap_or(80);
    if port == 0 {
        c.error("load_balancer.port", "0 is not a port: use 1 to 65535 (default 80)");
    }
    let https = https(c, lb, port, region);
    let test_listener = lb.test_listener.as_ref().map(|t| test_listener(c, t, lb.scheme, port, https.as_ref(), vpc));
    LoadBalancerSpec {
        scheme: lb.scheme,
        port,
        idle_timeout_seconds: c.seconds("load_balancer.idle_timeout", lb.idle_timeout, 60, 1..=4000),
        https,
        test_listener,
    }
}

/// The test listener: a port no production listener has, open to declared blocks (the
/// VPC's by default on an internal load balancer, never the world by default).
fn test_listener(
    c: &mut Checker,
    t: &TestListener,
    scheme: Scheme,
    http_port: u16,
    https: Option<&HttpsSpec>,
    vpc: Ipv4Net,
) -> TestListenerSpec {
    let at = "load_balancer.test_listener";
    let mut production = Vec::new();
    if https.is_none_or(|h| h.redirect_http) {
        production.push(("the HTTP listener's", http_port));
    }
    if let Some(h) = https {
        production.push(("the HTTPS listener's", h.port));
    }
    if t.port == 0 {
        c.error(format!("{at}.port"), "0 is not a port: use 1 to 65535 (e.g. 8080)");
    } else if let Some((which, _)) = production.iter().find(|(_, p)| *p == t.port) {
        c.error(
            format!("{at}.port"),
            format!("{} is {which} port: test traffic needs a port of its own (e.g. 8080)", t.port),
        );
    }
    let mut allowed = Vec::new();
    for (i, cidr) in t.allow.iter().enumerate() {
        let field = format!("{at}.allow[{i}]");
        match cidr.parse::<Ipv4Net>() {
            Ok(net) if net.addr() != net.network() => {
                c.error(&field, format!("`{net}` has host bits set; use `{}`", net.trunc()));
            }
            Ok(net) if allowed.contains(&net) => c.error(&field, format!("`{net}` is given twice; keep one")),
            Ok(net) => {
                if net.prefix_len() == 0 {
                    c.warn(&field, "0.0.0.0/0 lets the whole internet reach the new revision before it takes production traffic; name the addresses of your testers and hooks");
                }
                allowed.push(net);
            }
            Err(_) => c.error(
                &field,
                format!("{} is not an IPv4 CIDR block: write one such as `203.0.113.0/24`", quoted(cidr)),
            ),
        }
    }
    if t.allow.is_empty() {
        match scheme {
            Scheme::Internal => allowed.push(vpc),
            Scheme::InternetFacing => c.error(
                format!("{at}.allow"),
                "nobody may reach the test listener of an internet-facing load balancer: traffic from the VPC \
                 reaches its public addresses through the NAT gateways, not from the VPC's block; name who may \
                 with `TestListener::new(port).allow(\"203.0.113.0/24\")`",
            ),
        }
    }
    TestListenerSpec { port: t.port, allowed }
}

/// Listener certificates per HTTPS listener, the default one not counted.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html>
const MAX_EXTRA_CERTIFICATES: usize = 25;
/// The HTTPS listener's port.
const HTTPS_PORT: u16 = 443;

fn https(c: &mut Checker, lb: &LoadBalancer, http_port: u16, region: &str) -> Option<HttpsSpec> {
    let Some(default) = &lb.https else {
        let needs = "needs HTTPS: add `.https(certificate_arn)` to the load balancer, or remove it";
        if !lb.certificates.is_empty() {
            c.error(
                "load_balancer.certificates",
                format!("extra certificates are served by the HTTPS listener, which {needs}"),
            );
        }
        if lb.tls_policy.is_some() {
            c.error("load_balancer.tls_policy", format!("a security policy {needs}"));
        }
        if lb.redirect_http.is_some() {
            c.error("load_balancer.redirect_http", format!("redirecting to HTTPS {needs}"));
        }
        return None;
    };
    certificate(c, "load_balancer.https", default, region);
    let mut seen = BTreeSet::from([default.as_str()]);
    for (i, arn) in lb.certificates.iter().enumerate() {
        let field = format!("load_balancer.certificates[{i}]");
        certificate(c, &field, arn, region);
        if !seen.insert(arn.as_str()) {
            c.error(
                field,
                format!("{} is given twice (the default certificate counts): give each certificate once", quoted(arn)),
            );
        }
    }
    if lb.certificates.len() > MAX_EXTRA_CERTIFICATES {
        c.error(
            "load_balancer.certificates",
            format!("{} extra certificates: an HTTPS listener takes at most {MAX_EXTRA_CERTIFICATES} besides its default one; use certificates that cover several names", lb.certificates.len()),
        );
    }
    let tls_policy = lb.tls_policy.clone().unwrap_or_else(|| DEFAULT_TLS_POLICY.to_owned());
    if !TLS_POLICY.is_match(&tls_policy) {
        c.error(
            "load_balancer.tls_policy",
            format!(
                "{} is not an ELB security policy name: use one such as `{DEFAULT_TLS_POLICY}`",
                quoted(&tls_policy)
            ),
        );
    }
    let redirect_http = lb.redirect_http.unwrap_or(true);
    if redirect_http && http_port == HTTPS_PORT {
        c.error(
            "load_balancer.port",
            format!("{HTTPS_PORT} is the HTTPS listener's port: the redirecting HTTP listener needs another one (default 80)"),
        );
    }
    Some(HttpsSpec {
        port: HTTPS_PORT,
        certificate_arn: default.clone(),
        extra_certificates: lb.certificates.clone(),
        tls_policy,
        redirect_http,
    })
}

/// Checks the shape of a certificate ARN: ACM (in the stack's region) or IAM.
fn certificate(c: &mut Checker, field: &str, arn: &str, region: &str) {
    let example = format!("`arn:aws:acm:{}:123456789012:certificate/ID` (ACM) or `arn:aws:iam::123456789012:server-certificate/NAME` (IAM)", if REGION.is_match(region) { region } else { "us-west-2" });
    if let Some(found) = ACM_ARN.captures(arn) {
        let in_region = &found[2];
        if REGION.is_match(region) && in_region != region {
            c.error(
                field,
                format!("{} is in region `{in_region}` but the stack lives in `{region}`: a load balancer only uses ACM certificates of its own region; request or import the certificate in `{region}`", quoted(arn)),
            );
        }
    } else if !IAM_CERT_ARN.is_match(arn) {
        c.error(field, format!("{} is not a certificate ARN: write {example}", quoted(arn)));
    }
}

fn file_system(c: &mut Checker, fs: &FileSystem) -> FileSystemSpec {
    if fs.kms_key_id.as_deref().is_some_and(str::is_empty) {
        c.error("file_system.kms_key", "is empty: give a KMS key id or ARN, or leave it out for the AWS-managed key");
    }
    let (uid, gid) = fs.posix_user.unwrap_or((1000, 1000));
    FileSystemSpec {
        kms_key_id: fs.kms_key_id.clone(),
        throughput_mode: fs.throughput_mode.unwrap_or_default(),
        posix_uid: uid,
        posix_gid: gid,
    }
}

fn health_check(c: &mut Checker, at: &str, h: &HealthCheck) -> HealthCheckSpec {
    if !PATH.is_match(&h.path) {
        c.error(
            format!("{at}.path"),
            format!("{} is not a path: it must start with `/` (e.g. `/health`)", quoted(&h.path)),
        );
    }
    let interval = c.seconds(&format!("{at}.interval"), h.interval, 15, 5..=300);
    let timeout = c.seconds(&format!("{at}.timeout"), h.timeout, 5, 2..=120);
    if timeout >= interval {
        c.error(
            format!("{at}.timeout"),
            format!("{timeout} s is not shorter than the interval ({interval} s); lower the timeout"),
        );
    }
    let healthy = h.healthy_threshold.unwrap_or(2);
    c.in_range(&format!("{at}.healthy_threshold"), healthy, 2..=10, "the healthy threshold");
    let unhealthy = h.unhealthy_threshold.unwrap_or(3);
    c.in_range(&format!("{at}.unhealthy_threshold"), unhealthy, 2..=10, "the unhealthy threshold");
    let matcher = h.matcher.clone().unwrap_or_else(|| "200".into());
    let codes_ok = MATCHER.is_match(&matcher)
        && matcher.split([',', '-']).all(|code| code.parse::<u32>().is_ok_and(|n| (200..=499).contains(&n)));
    if !codes_ok {
        c.error(
            format!("{at}.matcher"),
            format!(
                "{} is not a list of HTTP codes from 200 to 499: write one such as `200`, `200,302` or `200-299`",
                quoted(&matcher)
            ),
        );
    }
    HealthCheckSpec {
        path: h.path.clone(),
        interval_seconds: interval,
        timeout_seconds: timeout,
        healthy_threshold: healthy,
        unhealthy_threshold: unhealthy,
        matcher,
        grace_period_seconds: c.seconds(&format!("{at}.grace_period"), h.grace_period, 30, 0..=7200),
    }
}

fn secret(c: &mut Checker, at: &str, s: &Secret) {
    match s {
        Secret::Ssm(p) if !(SSM_ARN.is_match(p) || SSM_NAME.is_match(p)) => {
            c.error(
                at,
                format!(
                    "{} is neither an SSM parameter name nor a parameter ARN: write one such as `/prod/db/password`",
                    quoted(p)
                ),
            );
        }
        Secret::SecretsManager(arn) if !SECRET_ARN.is_match(arn) => {
            c.error(at, format!("{} is not a Secrets Manager ARN: write one such as `arn:aws:secretsmanager:us-west-2:123456789012:secret:db-AbCdEf`", quoted(arn)));
        }
        _ => {}
    }
}

fn service(c: &mut Checker, at: &str, s: &Service, has_lb: bool, has_fs: bool, stack_tags: usize) -> ServiceSpec {
    if s.name.len() > 64 || !NAME.is_match(&s.name) {
        c.error(
            format!("{at}.name"),
            format!("{} is not a valid service name: use 1 to 64 lowercase letters, digits and `-`, starting with a letter (e.g. `product-web`)", quoted(&s.name)),
        );
    }
    if let Some(problem) = image::problem(&s.image) {
        c.error(format!("{at}.image"), problem);
    } else if let Some(warning) = image::mutable_tag(&s.image) {
        c.warn(format!("{at}.image"), warning);
    }
    if s.port == 0 {
        c.error(format!("{at}.port"), "0 is not a port: use the port the container listens on, 1 to 65535");
    }
    let cpu = s.cpu.unwrap_or(256);
    c.in_range(&format!("{at}.cpu"), cpu, 0..=10240, "CPU units (1024 = one vCPU)");
    let memory = s.memory.unwrap_or(512);
    c.in_range(&format!("{at}.memory"), memory, 6..=1_048_576, "memory in MiB");

    let mut env = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    let mut var_names = BTreeSet::new();
    let vars = s.env.iter().map(|(k, _)| ("env", k)).chain(s.secrets.iter().map(|(k, _)| ("secrets", k)));
    for (kind, name) in vars {
        let field = format!("{at}.{kind}[{name:?}]");
        if !ENV_NAME.is_match(name) {
            c.error(&field, format!("{} is not a valid variable name: use letters, digits and `_`, not starting with a digit (e.g. `DB_HOST`)", quoted(name)));
        } else if has_lb && name == ENDPOINT_VAR {
            c.error(&field, "ENDPOINT is set by ecs-kit to the load balancer's DNS name; use another name");
        }
        if !var_names.insert(name.clone()) {
            c.error(&field, format!("`{name}` is set twice (env and secrets share one namespace); keep one"));
        }
    }
    for (name, value) in &s.env {
        if let Some(warning) = plain_secret(name, value) {
            c.warn(format!("{at}.env[{name:?}]"), warning);
        }
        env.insert(name.clone(), value.clone());
    }
    for (name, value) in &s.secrets {
        secret(c, &format!("{at}.secrets[{name:?}]"), value);
        secrets.insert(name.clone(), value.clone());
    }

    let mut policies = BTreeSet::new();
    for (i, p) in s.policies.iter().enumerate() {
        if !POLICY_ARN.is_match(p) {
            let hint = if POLICY_NAME.is_match(p) {
                format!("; for an AWS-managed policy write `arn:aws:iam::aws:policy/{p}`")
            } else {
                String::new()
            };
            let hint = if hint.is_empty() {
                "; write one such as `arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess`".to_owned()
            } else {
                hint
            };
            c.error(format!("{at}.policies[{i}]"), format!("{} is not an IAM policy ARN{hint}", quoted(p)));
        }
        policies.insert(p.clone());
    }
    if policies.len() > MAX_MANAGED_POLICIES {
        c.error(format!("{at}.policies"), format!("{} managed policies: AWS attaches at most {MAX_MANAGED_POLICIES} to a role; merge some into an inline policy", policies.len()));
    }
    let mut inline_policies = BTreeMap::new();
    for (name, doc) in &s.inline_policies {
        let field = format!("{at}.inline_policies[{name:?}]");
        if !POLICY_NAME.is_match(name) || name.starts_with("ecs-kit") {
            c.error(
                &field,
                "policy names are 1 to 128 of `A-Za-z0-9+=,.@_-` and may not start with `ecs-kit`: rename it",
            );
        }
        // IAM takes tab, line feed, carriage return and U+0020 to U+00FF in a policy.
        // <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>
        if let Some(bad) = doc.chars().find(|&ch| !matches!(ch, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')) {
            c.error(
                &field,
                format!("the document holds {:?} (U+{:04X}): IAM policies take only tab, line breaks and U+0020 to U+00FF; remove it", bad, u32::from(bad)),
            );
        }
        match serde_json::from_str::<serde_json::Value>(doc) {
            Ok(v) if v.get("Statement").is_some() => {
                if inline_policies.insert(name.clone(), v).is_some() {
                    c.error(&field, "set twice; keep one");
                }
            }
            Ok(_) => c.error(&field, "the document has no `Statement`; write an IAM policy document"),
            Err(e) => c.error(&field, format!("the document is not JSON ({e}): write an IAM policy document")),
        }
    }

    let own = if has_fs { EFS_POLICY_CHARS } else { 0 };
    let size: usize = own + inline_policies.values().map(policy_chars).sum::<usize>();
    if size > MAX_ROLE_INLINE_CHARS {
        c.error(
            format!("{at}.inline_policies"),
            format!(
                "about {size} characters{}: IAM allows {MAX_ROLE_INLINE_CHARS} for all inline policies of a role (white space not counted); \
                 move some statements into a managed policy and attach it with `policies`",
                if has_fs { " with ecs-kit's own file system policy" } else { "" }
            ),
        );
    }

    let host = s.host.as_ref().map(|h| {
        let lower = h.to_ascii_lowercase();
        if lower.len() > MAX_HOST || !HOST.is_match(&lower) {
            c.error(
                format!("{at}.host"),
                format!("{} is not a host name: use DNS labels of letters, digits and `-` separated by `.`, at most {MAX_HOST} characters, with the wildcards `*` and `?` if needed (e.g. `api.example.com` or `*.example.com`)", quoted(h)),
            );
        }
        if !has_lb {
            c.error(format!("{at}.host"), "set, but the stack has no load balancer: add `.load_balancer(LoadBalancer::public())` or remove the host");
        }
        lower
    });
    // A host alone routes every path of that host.
    let path = s.path.clone().or_else(|| host.as_ref().map(|_| "/".to_owned()));
    let routing = match (&path, has_lb) {
        (Some(path), true) => {
            if !PATH.is_match(path) {
                c.error(format!("{at}.path"), format!("{} is not a load balancer path: start with `/`, no trailing `/`, no wildcards (e.g. `/products`)", quoted(path)));
            } else if path.len() + 2 > MAX_PATH_PATTERN {
                c.error(
                    format!("{at}.path"),
                    format!("the path is too long: the rule pattern `path/*` must be at most {MAX_PATH_PATTERN} characters; shorten it"),
                );
            }
            let check = s.health_check.clone().unwrap_or_else(|| HealthCheck::new(path.clone()));
            Some(RoutingSpec {
                path: path.clone(),
                host: host.clone(),
                priority: None,
                health_check: health_check(c, &format!("{at}.health_check"), &check),
                deregistration_delay_seconds: c.seconds(
                    &format!("{at}.deregistration_delay"),
                    s.deregistration_delay,
                    30,
                    0..=3600,
                ),
            })
        }
        (Some(_), false) if s.path.is_none() => None,
        (Some(_), false) => {
            c.error(format!("{at}.path"), "set, but the stack has no load balancer: add `.load_balancer(LoadBalancer::public())` or remove the path");
            None
        }
        (None, _) => {
            if s.health_check.is_some() {
                c.error(
                    format!("{at}.health_check"),
                    "a health check needs a load balancer path: add `path` or remove the health check",
                );
            }
            if s.deregistration_delay.is_some() {
                c.error(
                    format!("{at}.deregistration_delay"),
                    "only applies behind the load balancer: add `path` or remove it",
                );
            }
            None
        }
    };

    let log_retention_days = s.log_retention_days.unwrap_or(30);
    if !RETENTION_DAYS.contains(&log_retention_days) {
        c.error(
            format!("{at}.log_retention_days"),
            format!("{log_retention_days} is not a CloudWatch retention period; use one of {RETENTION_DAYS:?}"),
        );
    }
    let min_healthy = s.min_healthy_percent.unwrap_or(50);
    c.in_range(&format!("{at}.min_healthy_percent"), min_healthy, 0..=100, "the minimum healthy percent");
    let max_percent = s.max_percent.unwrap_or(200);
    c.in_range(&format!("{at}.max_percent"), max_percent, 100..=400, "the maximum percent");
    if min_healthy == 100 && max_percent == 100 {
        c.error(format!("{at}.max_percent"), "with min_healthy_percent 100 and max_percent 100 a deployment can neither stop nor start a task; raise max_percent (e.g. 200)");
    }
    let capacity = s.capacity.unwrap_or_default();
    if capacity.is_fargate() {
        fargate_size(c, at, cpu, memory);
    }
    let autoscaling = s.autoscaling.as_ref().map(|a| autoscaling(c, at, a, routing.is_some()));
    let desired_count = match (&autoscaling, s.count) {
        (Some(a), count) => {
            let initial = match count {
                Some(DesiredCount::Fixed(n) | DesiredCount::External(n)) => n,
                None => a.min,
            };
            if !(a.min..=a.max).contains(&initial) {
                c.error(
                    format!("{at}.count"),
                    format!("{initial} tasks to start with is outside the autoscaling range {}..={}: set a count within it, or leave it out to start at the minimum", a.min, a.max),
                );
            }
            // The autoscaler owns the count from the start.
            DesiredCount::External(initial)
        }
        (None, count) => count.unwrap_or(DesiredCount::Fixed(1)),
    };
    let strategy = strategy(c, &format!("{at}.deployment"), s.deployment.as_ref(), routing.is_some());
    let alarms = alarms(c, &format!("{at}.alarms"), &s.alarms);
    let hooks = hooks(c, &format!("{at}.lifecycle_hooks"), &s.hooks, strategy);
    let tags = c.tags(&format!("{at}.tags"), &s.tags);
    let total = stack_tags + tags.len() + OWN_TAGS;
    if total > MAX_TAGS {
        c.error(
            format!("{at}.tags"),
            format!("{total} tags with the stack's and ecs-kit's own: AWS allows {MAX_TAGS} per resource; drop some"),
        );
    }
    ServiceSpec {
        name: s.name.clone(),
        image: s.image.clone(),
        image_owner: s.image_owner,
        port: s.port,
        desired_count,
        cpu,
        memory,
        routing,
        env,
        secrets,
        policies: policies.into_iter().collect(),
        inline_policies,
        log_retention_days,
        deployment: DeploymentSpec {
            min_healthy_percent: min_healthy,
            max_percent,
            circuit_breaker: s.circuit_breaker.unwrap_or_default(),
            strategy,
            alarms,
            hooks,
        },
        tags,
        capacity,
        autoscaling,
    }
}

/// A Fargate task's size must be one of Fargate's CPU and memory combinations.
fn fargate_size(c: &mut Checker, at: &str, cpu: u32, memory: u32) {
    let Some(allowed) = super::fargate_memory(cpu) else {
        let sizes: Vec<String> = super::FARGATE_SIZES.iter().map(|(c, ..)| c.to_string()).collect();
        c.error(
            format!("{at}.cpu"),
            format!("{cpu} CPU units is not a Fargate task size: use one of {} (1024 = one vCPU)", sizes.join(", ")),
        );
        return;
    };
    if !allowed.contains(&memory) {
        let (first, last) = (allowed[0], allowed[allowed.len() - 1]);
        let list = if allowed.len() <= 4 {
            allowed.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        } else {
            format!("{first} to {last} in steps of {}", allowed[1] - allowed[0])
        };
        c.error(
            format!("{at}.memory"),
            format!("{memory} MiB is not a Fargate size for {cpu} CPU units, which take {list} MiB: set memory to one of them, or change cpu"),
        );
    }
}

/// Autoscaling: `min <= max`, targets in range, each metric once, requests per target
/// only behind the load balancer.
fn autoscaling(c: &mut Checker, at: &str, a: &Autoscaling, routed: bool) -> AutoscalingSpec {
    let field = format!("{at}.autoscaling");
    if a.max == 0 {
        c.error(format!("{field}.max"), "0: an autoscaled service needs at least 1 task at most; raise max");
    }
    if a.min > a.max {
        c.error(
            format!("{field}.min"),
            format!("the minimum {} is above the maximum {}: swap them, or raise max", a.min, a.max),
        );
    }
    let mut targets = Vec::new();
    let declared = if a.targets.is_empty() { vec![(crate::dsl::ScalingMetric::Cpu, 60)] } else { a.targets.clone() };
    for (i, (metric, value)) in declared.into_iter().enumerate() {
        let at = format!("{field}.targets[{i}]");
        if targets.iter().any(|t: &ScalingTarget| t.metric == metric) {
            let name = match metric {
                crate::dsl::ScalingMetric::Cpu => "cpu",
                crate::dsl::ScalingMetric::Memory => "memory",
                crate::dsl::ScalingMetric::RequestsPerTarget => "requests per target",
            };
            c.error(&at, format!("{name} is targeted twice: keep one target per metric"));
            continue;
        }
        match metric {
            crate::dsl::ScalingMetric::Cpu | crate::dsl::ScalingMetric::Memory => {
                c.in_range(&at, value, 1..=100, "a utilization target in percent");
            }
            crate::dsl::ScalingMetric::RequestsPerTarget => {
                c.in_range(&at, value, 1..=1_000_000, "requests a minute per task");
                if !routed {
                    c.error(&at, "requests per target are counted by the load balancer: give the service a path or host, or target cpu or memory");
                }
            }
        }
        targets.push(ScalingTarget { metric, value });
    }
    AutoscalingSpec {
        min: a.min,
        max: a.max,
        targets,
        scale_in_cooldown_seconds: c.seconds(&format!("{field}.scale_in_cooldown"), a.scale_in_cooldown, 300, 0..=3600),
        scale_out_cooldown_seconds: c.seconds(
            &format!("{field}.scale_out_cooldown"),
            a.scale_out_cooldown,
            60,
            0..=3600,
        ),
    }
}

/// The longest bake ECS takes: 24 hours.
const MAX_BAKE_MINUTES: u32 = 1440;
/// The longest CloudWatch alarm name.
const MAX_ALARM_NAME: usize = 255;

/// A bake time in whole minutes from 0 to 24 h.
fn bake_minutes(c: &mut Checker, field: &str, d: Option<Duration>) -> u32 {
    let Some(d) = d else { return 0 };
    let minutes = u32::try_from(d.as_secs() / 60).unwrap_or(u32::MAX);
    if d.subsec_nanos() != 0 || d.as_secs() % 60 != 0 || minutes > MAX_BAKE_MINUTES {
        c.error(field, format!("{d:?} is not a bake time ECS takes: use whole minutes from 0 to {MAX_BAKE_MINUTES} (24 h), e.g. `Duration::from_secs(10 * 60)`"));
        return 0;
    }
    minutes
}

/// A traffic share in tenths of a percent within `low ..= 100.0` (ECS takes multiples of 0.1).
fn share(c: &mut Checker, field: &str, percent: Option<f64>, low: u32, what: &str) -> Percent {
    let value = percent.unwrap_or(0.0);
    let p = Percent::from_f64(value);
    let exact = ((value * 10.0) - (value * 10.0).round()).abs() < 1e-6;
    if !value.is_finite() || !exact || !(low..=1000).contains(&p.in_tenths()) {
        c.error(
            field,
            format!(
                "{value} is not a {what} ECS takes: use a multiple of 0.1 from {} to 100",
                Percent::tenths(low).to_string().trim_end_matches('%')
            ),
        );
    }
    p
}

/// The validated strategy. Shifting traffic needs the service behind the load balancer.
fn strategy(c: &mut Checker, at: &str, d: Option<&Deployment>, routed: bool) -> StrategySpec {
    let Some(d) = d else { return StrategySpec::Rolling };
    let bake = bake_minutes(c, &format!("{at}.bake"), d.bake);
    let spec = match d.kind {
        DeploymentKind::Rolling => StrategySpec::Rolling,
        DeploymentKind::BlueGreen => StrategySpec::BlueGreen { bake_minutes: bake },
        DeploymentKind::Canary => StrategySpec::Canary {
            percent: share(c, &format!("{at}.percent"), d.percent, 1, "canary percentage"),
            canary_bake_minutes: bake_minutes(c, &format!("{at}.canary_bake"), d.step_bake),
            bake_minutes: bake,
        },
        DeploymentKind::Linear => StrategySpec::Linear {
            step: share(c, &format!("{at}.step_percent"), d.percent, 30, "linear step"),
            step_bake_minutes: bake_minutes(c, &format!("{at}.step_bake"), d.step_bake),
            bake_minutes: bake,
        },
    };
    if spec.shifts_traffic() && !routed {
        c.error(at, "blue/green, canary and linear deployments shift load balancer traffic: put the service behind the load balancer (`path` or `host`) or use `Deployment::rolling()`");
    }
    spec
}

/// Lifecycle hooks: a Lambda function's ARN, at least one stage, each once, none a
/// rolling deployment never comes to, details that are JSON.
fn hooks(c: &mut Checker, at: &str, hooks: &[LifecycleHook], strategy: StrategySpec) -> Vec<HookSpec> {
    let mut out = Vec::new();
    for (i, h) in hooks.iter().enumerate() {
        let at = format!("{at}[{i}]");
        if !LAMBDA_ARN.is_match(&h.function_arn) {
            c.error(
                format!("{at}.function_arn"),
                format!(
                    "{} is not a Lambda function ARN: write one such as `arn:aws:lambda:us-west-2:123456789012:function:smoke-tests` (optionally `:ALIAS` or `:VERSION`)",
                    quoted(&h.function_arn)
                ),
            );
        }
        if h.stages.is_empty() {
            c.error(format!("{at}.stages"), "no stage: name at least one, e.g. `HookStage::PostTestTrafficShift`");
        }
        let mut stages: Vec<HookStage> = Vec::new();
        for (j, stage) in h.stages.iter().enumerate() {
            if stages.contains(stage) {
                c.error(format!("{at}.stages[{j}]"), format!("{stage} is given twice; keep one"));
                continue;
            }
            if stage.shifts_traffic() && !strategy.shifts_traffic() {
                c.error(
                    format!("{at}.stages[{j}]"),
                    format!("{stage} never comes in a rolling deployment, which moves no load balancer traffic: use RECONCILE_SERVICE, PRE_SCALE_UP or POST_SCALE_UP, or a blue/green, canary or linear deployment"),
                );
            }
            stages.push(*stage);
        }
        stages.sort_unstable();
        let details = h.details.as_ref().and_then(|d| match serde_json::from_str::<serde_json::Value>(d) {
            Ok(v) => Some(v),
            Err(e) => {
                c.error(
                    format!("{at}.details"),
                    format!("is not JSON ({e}): write a JSON document, e.g. `{{\"path\": \"/health\"}}`"),
                );
                None
            }
        });
        out.push(HookSpec { function_arn: h.function_arn.clone(), stages, details });
    }
    out
}

/// Alarm names: 1 to 255 characters, no commas (ECS joins them with `,`), each once.
fn alarms(c: &mut Checker, at: &str, names: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        if name.trim().is_empty() || name.len() > MAX_ALARM_NAME || name.contains(',') {
            c.error(
                format!("{at}[{i}]"),
                format!(
                    "{} is not a CloudWatch alarm name: use 1 to {MAX_ALARM_NAME} characters without `,`",
                    quoted(name)
                ),
            );
        } else if !seen.insert(name.as_str()) {
            c.error(format!("{at}[{i}]"), format!("{} is named twice; keep one", quoted(name)));
        }
    }
    names.to_vec()
}

/// Checks across services: unique names and routes (host and path), exactly one
/// service at `/` without a host behind a load balancer, and the listener rule
/// priorities of the others.
fn cross_service(c: &mut Checker, declared: &[Service], specs: &mut [ServiceSpec], has_lb: bool, test_listener: bool) {
    let mut names = BTreeMap::new();
    let mut routes: BTreeMap<(Option<String>, String), usize> = BTreeMap::new();
    for (i, s) in declared.iter().enumerate() {
        if let Some(first) = names.insert(s.name.as_str(), i) {
            c.error(
                format!("services[{i}].name"),
                format!(
                    "{} is also the name of services[{first}]; service names must be unique: rename one",
                    quoted(&s.name)
                ),
            );
        }
        let Some(routing) = specs.get(i).and_then(|spec| spec.routing.as_ref()) else { continue };
        let key = (routing.host.clone(), routing.path.clone());
        if let Some(first) = routes.insert(key, i) {
            let what = match &routing.host {
                Some(host) if s.path.is_none() => format!("the host {}", quoted(host)),
                Some(host) => format!("the host {} with the path {}", quoted(host), quoted(&routing.path)),
                None => format!("the path {}", quoted(&routing.path)),
            };
            let (field, message) = match &routing.host {
                None => (
                    "path",
                    format!(
                        "{} is also the path of services[{first}] ({}); give each service its own path",
                        quoted(&routing.path),
                        declared[first].name
                    ),
                ),
                Some(_) => (
                    if s.path.is_some() { "path" } else { "host" },
                    format!(
                        "{what} is also the route of services[{first}] ({}); give each service its own host or path",
                        declared[first].name
                    ),
                ),
            };
            c.error(format!("services[{i}].{field}"), message);
        }
    }
    // A shifting service's alternate target group is named `<service>-alt`.
    for (i, s) in declared.iter().enumerate() {
        let Some(base) = s.name.strip_suffix("-alt") else { continue };
        if let Some(&j) = names.get(base) {
            if specs.get(j).is_some_and(|spec| spec.deployment.strategy.shifts_traffic()) {
                c.error(
                    format!("services[{i}].name"),
                    format!("{} is the name of the alternate target group of services[{j}] ({base}), whose deployment shifts traffic: rename this service", quoted(&s.name)),
                );
            }
        }
    }
    // Each routed service has a target group and, but the default one, a rule; a
    // strategy shifting traffic adds the alternate target group (and the default
    // service's catch-all rule), a test listener a rule per such service.
    let routed = specs.iter().filter(|s| s.routing.is_some()).count();
    let shifting = specs.iter().filter(|s| s.routing.is_some() && s.deployment.strategy.shifts_traffic()).count();
    let target_groups = routed + shifting;
    let rules = specs
        .iter()
        .filter(|s| s.routing.as_ref().is_some_and(|r| !r.is_default() || s.deployment.strategy.shifts_traffic()))
        .count()
        + if test_listener { shifting } else { 0 };
    if has_lb && (target_groups > MAX_TARGET_GROUPS_PER_ALB || rules > MAX_RULES_PER_ALB) {
        let extra = if shifting == 0 {
            String::new()
        } else {
            format!(", with what the {shifting} services whose strategy shifts traffic add")
        };
        c.error(
            "services",
            format!(
                "{routed} services have a path, but one Application Load Balancer takes at most {MAX_TARGET_GROUPS_PER_ALB} target groups \
                 (a fixed AWS quota) and {MAX_RULES_PER_ALB} listener rules by default ({target_groups} target groups and {rules} rules needed{extra}): \
                 leave the path out of services that need no load balancer, deploy some of them rolling, or split the stack"
            ),
        );
    }
    if has_lb {
        let roots: Vec<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.routing.as_ref().is_some_and(RoutingSpec::is_default))
            .map(|(i, _)| i)
            .collect();
        match roots.as_slice() {
            [] => c.error("services", "the load balancer needs exactly one service at `/` without a host (its default route); set `path: \"/\"` on one service"),
            [_] => {}
            [_, rest @ ..] => {
                for i in rest {
                    c.error(format!("services[{i}].path"), "a second service at `/`: only one service can be the load balancer's default route; give this one its own path");
                }
            }
        }
    }
    assign_priorities(specs);
}

/// Listener rule priorities that do not depend on the other services (adding a service
/// never renumbers the rest) and put more specific rules first.
///
/// A rule without a host, for a path of depth `d`, gets a priority in the band
/// `(50 - d) * 1000 + 1 ..= (50 - d) * 1000 + 999`, chosen by a hash of the path. A rule
/// with a host comes before those: its band is `(25 - d) * 1000 + ...` (`d` = 0 for a
/// host alone, so a host's paths come before the host's catch-all), chosen by a hash of
/// host and path. Collisions move to the next free number of the band; rules without
/// a host are numbered first, so adding hosts never renumbers them. Paths deeper than
/// 24 segments share the bands of host rules (still unique, no longer ordered after them).
fn assign_priorities(specs: &mut [ServiceSpec]) {
    let mut taken = BTreeSet::new();
    let key = |s: &ServiceSpec| s.routing.as_ref().map(|r| (r.host.is_some(), r.host.clone(), r.path.clone()));
    let mut order: Vec<usize> =
        (0..specs.len()).filter(|&i| specs[i].routing.as_ref().is_some_and(|r| !r.is_default())).collect();
    order.sort_by_key(|&i| key(&specs[i]));
    for i in order {
        let routing = specs[i].routing.as_mut().expect("filtered on routing");
        let segments = if routing.path == "/" { 0 } else { routing.path.matches('/').count() };
        let depth = u32::try_from(segments).unwrap_or(u32::MAX);
        let (band, hashed) = match &routing.host {
            None => ((50 - depth.min(49)) * 1000, routing.path.clone()),
            Some(host) => ((25 - depth.min(24)) * 1000, format!("{host} {}", routing.path)),
        };
        let digest = Sha256::digest(hashed.as_bytes());
        let hash = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let mut offset = hash % 999;
        while !taken.insert(band + 1 + offset) {
            offset = (offset + 1) % 999;
        }
        routing.priority = Some(band + 1 + offset);
    }
}

/// Per-task sizes an instance can never hold are errors; a minimum capacity too small
/// for the declared counts is a warning (managed scaling may add instances).
fn fit(c: &mut Checker, cluster: &ClusterSpec, services: &[ServiceSpec]) {
    let Some(cap) = instance_types::capacity(&cluster.instance_type) else { return };
    let t = &cluster.instance_type;
    // Fargate tasks need no instance.
    for (i, s) in services.iter().enumerate().filter(|(_, s)| !s.capacity.is_fargate()) {
        if s.memory > cap.usable_memory_mib() {
            c.error(
                format!("services[{i}].memory"),
                format!(
                    "{} MiB does not fit a {t} (about {} MiB usable by tasks); lower it or use a larger instance type",
                    s.memory,
                    cap.usable_memory_mib()
                ),
            );
        }
        if s.cpu > cap.cpu_units() {
            c.error(
                format!("services[{i}].cpu"),
                format!(
                    "{} units do not fit a {t} ({} units); lower it or use a larger instance type",
                    s.cpu,
                    cap.cpu_units()
                ),
            );
        }
    }
    // In u64: counts and sizes are the user's, and their products overflow u32.
    let total = |size: fn(&ServiceSpec) -> u32| {
        services
            .iter()
            .filter(|s| !s.capacity.is_fargate())
            .fold(0u64, |sum, s| sum.saturating_add(u64::from(s.initial_count()) * u64::from(size(s))))
    };
    let (memory, cpu) = (total(|s| s.memory), total(|s| s.cpu));
    let n = u64::from(cluster.min_instances);
    if memory > n * u64::from(cap.usable_memory_mib()) || cpu > n * u64::from(cap.cpu_units()) {
        c.warn(
            "cluster.min_instances",
            format!(
                "the services' tasks need {memory} MiB and {cpu} CPU units but {n} {t} instances offer about {} MiB and {} units; \
                 some tasks will wait for capacity (raise min_instances or use a larger type)",
                n * u64::from(cap.usable_memory_mib()),
                n * u64::from(cap.cpu_units())
            ),
        );
    }
}

/// Characters of a policy document as IAM counts them: its JSON without white space.
fn policy_chars(doc: &serde_json::Value) -> usize {
    serde_json::to_string(doc).unwrap_or_default().chars().filter(|ch| !ch.is_whitespace()).count()
}

re!(ACCESS_KEY_ID, r"\b(AKIA|ASIA)[0-9A-Z]{16}\b");
re!(URL_PASSWORD, r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@");

/// Why a plain variable looks like it holds a secret: its name (`DB_PASSWORD`), or its
/// value (an AWS access key id, a URL with a password in it).
fn plain_secret(name: &str, value: &str) -> Option<String> {
    let fix = format!(
        "plain variables are stored in clear text in the task definition, visible to anyone who can describe it; \
         put the value in SSM Parameter Store or Secrets Manager and declare it under `secrets:` \
         (`.secret({name:?}, Secret::ssm(\"/prod/{}\"))`)",
        name.to_ascii_lowercase().replace('_', "-")
    );
    if looks_secret(name) {
        Some(format!("`{name}` looks like a secret: {fix}"))
    } else if ACCESS_KEY_ID.is_match(value) {
        Some(format!("the value looks like an AWS access key id: {fix}; better, drop the key and grant the task role what it needs"))
    } else if URL_PASSWORD.is_match(value) {
        Some(format!("the value is a URL with a password in it: {fix}"))
    } else {
        None
    }
}
