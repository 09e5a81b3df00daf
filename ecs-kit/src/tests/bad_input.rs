//! Bad input, catalogued: every invalid declaration ecs-kit promises to refuse, with the
//! field it names and the message (which says what to do), each refused before the first
//! AWS call; then hostile strings in every string field, which never panic.
//!
//! Four kinds of input: builder declarations (run through the `plan` verb), the
//! `StackKnobs` flags of the example (parsed by `cli::parse`), whole command lines, and
//! saved-plan files handed to `apply FILE`. The `service!` macro's compile errors are
//! trybuild cases under `ecs-kit-macros/tests/ui/fail`; [`MACRO_CASES`] lists them with
//! the message each must hold. Each case runs against a fake cloud whose call counter must
//! stay at zero.

use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;

use crate::cli::{self, StackKnobs};
use crate::dsl::{
    AmiPolicy, Cluster, Deployment, FileSystem, HealthCheck, LifecycleHook, LoadBalancer, Network, Secret, Service,
    StackBuilder, TestListener,
};
use crate::graph::props::HookStage;
use crate::model::{seed, Stack};
use crate::testing::FakeCloud;

/// What a case hands to ecs-kit.
enum Input {
    /// A declaration, run as `plan`.
    Builder(Box<StackBuilder>),
    /// The seed stack with these `StackKnobs` flags after `plan`.
    Knobs(Vec<String>),
    /// A whole command line (program name first) on the seed stack.
    Args(Vec<String>),
    /// `apply FILE` on the seed stack, FILE holding this (or being this).
    SavedPlan(Saved),
}

/// A saved-plan file.
enum Saved {
    Missing,
    Directory,
    Bytes(Vec<u8>),
}

struct Case {
    what: &'static str,
    input: Input,
    /// The field (or flag, or file) the error names.
    field: &'static str,
    /// A part of the message, saying what is wrong or what to do.
    message: &'static str,
}

fn b(what: &'static str, input: StackBuilder, field: &'static str, message: &'static str) -> Case {
    Case { what, input: Input::Builder(Box::new(input)), field, message }
}

fn k(what: &'static str, flags: &[&str], field: &'static str, message: &'static str) -> Case {
    Case { what, input: Input::Knobs(flags.iter().map(|s| (*s).to_owned()).collect()), field, message }
}

fn a(what: &'static str, args: &[&str], field: &'static str, message: &'static str) -> Case {
    Case { what, input: Input::Args(args.iter().map(|s| (*s).to_owned()).collect()), field, message }
}

fn f(what: &'static str, file: Saved, message: &'static str) -> Case {
    Case { what, input: Input::SavedPlan(file), field: "saved plan", message }
}

fn svc(name: &str, path: &str) -> Service {
    Service::new(name, "nginx:1.25", 8080).path(path)
}

fn extra(s: Service) -> StackBuilder {
    seed().service(s)
}

/// A Lambda function's ARN.
const HOOK: &str = "arn:aws:lambda:us-west-2:123456789012:function:smoke-tests";

/// The seed stack with `products` deployed blue/green.
fn bg() -> StackBuilder {
    seed().with_service("test", "products", |s| s.deployment(Deployment::blue_green(Duration::from_secs(300))))
}

fn region(name: &str) -> StackBuilder {
    Stack::builder(name).region("us-west-2")
}

fn saved(doc: &serde_json::Value) -> Saved {
    Saved::Bytes(serde_json::to_vec(doc).unwrap())
}

/// A plan file as `plan --out` writes it, for `stack` in `region`.
fn plan_doc(stack: &str, region: &str) -> serde_json::Value {
    serde_json::json!({"format": "ecs-kit-plan/1", "stack": stack, "region": region,
        "desired": {"stack": stack, "resources": []}, "plan": {"stack": stack, "changes": []}})
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    let long = "x".repeat(65);
    let many_tags = (0..48).fold(seed(), |b, i| b.tag(format!("k{i}"), "v"));
    let many_policies = (0..11)
        .fold(Service::new("w", "nginx:1.25", 1), |s, i| s.policy(format!("arn:aws:iam::123456789012:policy/p{i}")));
    let hundred_and_one = (0..99).fold(seed(), |b, i| b.service(svc(&format!("s{i}"), &format!("/s{i}"))));
    let resources: Vec<String> = (0..400).map(|i| format!("arn:aws:s3:::bucket-{i}/*")).collect();
    let big_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]}).to_string();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        // ------------------------------------------------------------------ stack
        b(
            "stack name with a space",
            Stack::builder("Bad Name").region("us-west-2"),
            "name",
            "not a valid stack name: use 1 to 64 lowercase letters",
        ),
        b(
            "stack name of 65 characters",
            Stack::builder(long.clone()).region("us-west-2"),
            "name",
            "1 to 64 lowercase letters",
        ),
        b("stack name ending in -", region("shop-"), "name", "not ending with `-`"),
        b("stack name starting internal-", region("internal-tools"), "name", "may not start with `internal-`"),
        b("empty stack name", region(""), "name", "not a valid stack name"),
        b("no region", Stack::builder("shop"), "region", "not set: add `.region(\"us-west-2\")`"),
        b(
            "region that is not one",
            Stack::builder("shop").region("mars-1"),
            "region",
            "not an AWS region name: use one such as `us-west-2`",
        ),
        b(
            "reserved ecs-kit tag",
            seed().tag("ecs-kit:stack", "x"),
            "tags[\"ecs-kit:stack\"]",
            "ecs-kit's own ownership tags; rename the tag",
        ),
        b("reserved aws tag", seed().tag("aws:cost", "x"), "tags[\"aws:cost\"]", "reserved by AWS; rename the tag"),
        b("Name tag", seed().tag("Name", "x"), "tags[\"Name\"]", "set by ecs-kit"),
        b("tag given twice", seed().tag("team", "a").tag("team", "b"), "tags[\"team\"]", "tag set twice; keep one"),
        b("empty tag key", seed().tag("", "x"), "tags[\"\"]", "1 to 128 characters long"),
        b("tag value of 257 characters", seed().tag("k", "v".repeat(257)), "tags[\"k\"]", "at most 256: shorten it"),
        b("50 tags per resource", many_tags, "services[0].tags", "AWS allows 50 per resource; drop some"),
        // ---------------------------------------------------------------- network
        b(
            "CIDR without prefix",
            seed().network(Network::new("10.10.0.0")),
            "network.cidr",
            "not an IPv4 CIDR block: write one such as `10.10.0.0/16`",
        ),
        b(
            "CIDR with host bits",
            seed().network(Network::new("10.10.1.0/16")),
            "network.cidr",
            "has host bits set; use `10.10.0.0/16`",
        ),
        b(
            "CIDR larger than /16",
            seed().network(Network::new("10.0.0.0/8")),
            "network.cidr",
            "AWS VPCs are /16 to /28",
        ),
        b(
            "subnets smaller than /28",
            seed().network(Network::new("10.10.0.0/24")),
            "network.subnet_bits",
            "use a larger VPC",
        ),
        b(
            "no subnet bits",
            seed().network(Network::new("10.10.0.0/16").subnet_bits(0)),
            "network.subnet_bits",
            "fewer subnet bits",
        ),
        b(
            "subnet bits overflowing the prefix",
            seed().network(Network::new("10.10.0.0/16").subnet_bits(250)),
            "network.subnet_bits",
            "AWS subnets are /16 to /28",
        ),
        b(
            "VPC too small for the zones",
            seed().network(Network::new("10.10.0.0/16").availability_zones(6).subnet_bits(3)),
            "network.cidr",
            "too small: 12 subnets",
        ),
        b(
            "zero zones",
            seed().network(Network::new("10.10.0.0/16").availability_zones(0)),
            "network.availability_zones",
            "use 1 to 6 availability zones",
        ),
        b(
            "seven zones",
            seed().network(Network::new("10.10.0.0/16").availability_zones(7)),
            "network.availability_zones",
            "use 1 to 6",
        ),
        b(
            "one zone behind a load balancer",
            seed().network(Network::new("10.10.0.0/16").availability_zones(1)),
            "network.availability_zones",
            "at least two zones: use `.availability_zones(2)`",
        ),
        b(
            "zone of another region",
            seed().network(Network::new("10.10.0.0/16").zones(["us-west-2a", "eu-west-1b"])),
            "network.zones[1]",
            "not a zone of region `us-west-2`: name one such as `us-west-2a`",
        ),
        b(
            "zone listed twice",
            seed().network(Network::new("10.10.0.0/16").zones(["us-west-2a", "us-west-2a"])),
            "network.zones[1]",
            "listed twice; list each zone once",
        ),
        b(
            "zones and a count that disagree",
            seed().network(Network::new("10.10.0.0/16").zones(["us-west-2a", "us-west-2b"]).availability_zones(3)),
            "network.availability_zones",
            "give one or the other",
        ),
        // ---------------------------------------------------------------- cluster
        b(
            "instance type without a size",
            seed().cluster(Cluster::ec2("small")),
            "cluster.instance_type",
            "not an EC2 instance type: use one such as `t3.small`",
        ),
        b(
            "minimum above maximum",
            seed().cluster(Cluster::ec2("t3.small").min_instances(3).max_instances(2)),
            "cluster.min_instances",
            "lower the minimum or raise the maximum",
        ),
        b(
            "maximum of zero",
            seed().cluster(Cluster::ec2("t3.small").min_instances(0).max_instances(0)),
            "cluster.max_instances",
            "0 instances can run no task: use at least 1",
        ),
        b(
            "desired outside the range",
            seed().cluster(Cluster::ec2("t3.small").desired_instances(9)),
            "cluster.desired_instances",
            "set it within, or leave it out",
        ),
        b(
            "key name without admin CIDR",
            seed().cluster(Cluster::ec2("t3.small").key_name("ops")),
            "cluster.admin_cidr",
            "SSH needs both; add `.admin_cidr(",
        ),
        b(
            "admin CIDR without key name",
            seed().cluster(Cluster::ec2("t3.small").admin_cidr("203.0.113.7/32")),
            "cluster.key_name",
            "SSH needs both; add `.key_name(",
        ),
        b(
            "admin CIDR that is not one",
            seed().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("my laptop")),
            "cluster.admin_cidr",
            "not an IPv4 CIDR block: write one such as `203.0.113.7/32`",
        ),
        b(
            "admin CIDR with host bits",
            seed().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("203.0.113.7/24")),
            "cluster.admin_cidr",
            "has host bits set; use `203.0.113.0/24`",
        ),
        b(
            "empty key name",
            seed().cluster(Cluster::ec2("t3.small").key_name("").admin_cidr("203.0.113.7/32")),
            "cluster.key_name",
            "1 to 255 characters long: give the name of an EC2 key pair",
        ),
        b(
            "pinned AMI that is not an id",
            seed().cluster(Cluster::ec2("t3.small").ami(AmiPolicy::Pinned("ubuntu".into()))),
            "cluster.ami",
            "not an AMI id: write one such as `ami-0123456789abcdef0`",
        ),
        b(
            "AMI parameter that is not a path",
            seed().cluster(Cluster::ec2("t3.small").ami_parameter("image_id")),
            "cluster.ami_parameter",
            "not an SSM parameter name",
        ),
        // ---------------------------------------------------------- load balancer
        b(
            "listener port 0",
            seed().load_balancer(LoadBalancer::public().port(0)),
            "load_balancer.port",
            "0 is not a port: use 1 to 65535",
        ),
        b(
            "idle timeout of 0 s",
            seed().load_balancer(LoadBalancer::public().idle_timeout(Duration::ZERO)),
            "load_balancer.idle_timeout",
            "whole seconds from 1 to 4000",
        ),
        b(
            "idle timeout of 5000 s",
            seed().load_balancer(LoadBalancer::public().idle_timeout(Duration::from_secs(5000))),
            "load_balancer.idle_timeout",
            "whole seconds from 1 to 4000",
        ),
        b(
            "no service at /",
            region("s").load_balancer(LoadBalancer::public()).service(svc("api", "/api")),
            "services",
            "exactly one service at `/`",
        ),
        b("two services at /", extra(svc("other", "/")), "services[2].path", "a second service at `/`"),
        b(
            "101 services with paths behind one load balancer",
            hundred_and_one,
            "services",
            "101 services have a path, but one Application Load Balancer takes at most 100 target groups",
        ),
        // ------------------------------------------------------------ file system
        b(
            "empty KMS key",
            seed().file_system(FileSystem::encrypted().kms_key("")),
            "file_system.kms_key",
            "is empty: give a KMS key id or ARN",
        ),
        // ---------------------------------------------------------------- service
        b(
            "service name with capitals",
            extra(Service::new("Upper_Case", "nginx:1.25", 1)),
            "services[2].name",
            "not a valid service name",
        ),
        b(
            "service name of 65 characters",
            extra(Service::new(long.clone(), "nginx:1.25", 1)),
            "services[2].name",
            "1 to 64 lowercase letters",
        ),
        b(
            "two services of one name",
            extra(svc("products", "/other")),
            "services[2].name",
            "also the name of services[1]; service names must be unique",
        ),
        b(
            "empty image",
            extra(Service::new("w", "", 1)),
            "services[2].image",
            "is empty: give a full image reference `[registry/]repository:tag`",
        ),
        b(
            "image with capitals",
            extra(Service::new("w", "Registry/App:latest", 1)),
            "services[2].image",
            "not an image reference: expected `[registry/]repository[:tag][@digest]`",
        ),
        b(
            "image with a space",
            extra(Service::new("w", "nginx :1.25", 1)),
            "services[2].image",
            "contains whitespace or control characters: remove them",
        ),
        b("image with a NUL", extra(Service::new("w", "nginx\0:1.25", 1)), "services[2].image", "control characters"),
        b(
            "image with a short digest",
            extra(Service::new("w", "nginx@sha256:abc", 1)),
            "services[2].image",
            "not an image reference",
        ),
        b(
            "container port 0",
            extra(Service::new("w", "nginx:1.25", 0)),
            "services[2].port",
            "0 is not a port: use the port the container listens on",
        ),
        b(
            "cpu above 10 vCPUs",
            extra(Service::new("w", "nginx:1.25", 1).cpu(20_000)),
            "services[2].cpu",
            "CPU units (1024 = one vCPU) must be from 0 to 10240",
        ),
        b(
            "memory below 6 MiB",
            extra(Service::new("w", "nginx:1.25", 1).memory(2)),
            "services[2].memory",
            "memory in MiB must be from 6 to",
        ),
        b(
            "memory bigger than an instance",
            extra(Service::new("w", "nginx:1.25", 1).memory(4096)),
            "services[2].memory",
            "does not fit a t3.small",
        ),
        b(
            "cpu bigger than an instance",
            extra(Service::new("w", "nginx:1.25", 1).cpu(4096)),
            "services[2].cpu",
            "do not fit a t3.small (2048 units); lower it or use a larger instance type",
        ),
        b(
            "variable name starting with a digit",
            extra(Service::new("w", "nginx:1.25", 1).env("1BAD", "x")),
            "services[2].env[\"1BAD\"]",
            "not a valid variable name",
        ),
        b(
            "variable name with a dash",
            extra(Service::new("w", "nginx:1.25", 1).env("DB-HOST", "x")),
            "services[2].env[\"DB-HOST\"]",
            "use letters, digits and `_`",
        ),
        b(
            "ENDPOINT set by hand",
            extra(Service::new("w", "nginx:1.25", 1).env("ENDPOINT", "x")),
            "services[2].env[\"ENDPOINT\"]",
            "set by ecs-kit to the load balancer's DNS name; use another name",
        ),
        b(
            "variable in env and secrets",
            extra(Service::new("w", "nginx:1.25", 1).env("DB", "x").secret("DB", Secret::ssm("/db"))),
            "services[2].secrets[\"DB\"]",
            "set twice (env and secrets share one namespace); keep one",
        ),
        b(
            "SSM secret that is no name",
            extra(Service::new("w", "nginx:1.25", 1).secret("PASS", Secret::ssm("bad name!"))),
            "services[2].secrets[\"PASS\"]",
            "neither an SSM parameter name nor a parameter ARN",
        ),
        b(
            "Secrets Manager secret that is no ARN",
            extra(Service::new("w", "nginx:1.25", 1).secret("TOKEN", Secret::secrets_manager("db-password"))),
            "services[2].secrets[\"TOKEN\"]",
            "not a Secrets Manager ARN",
        ),
        b(
            "policy by name",
            extra(Service::new("w", "nginx:1.25", 1).policy("AmazonS3ReadOnlyAccess")),
            "services[2].policies[0]",
            "write `arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess`",
        ),
        b(
            "policy that is no ARN",
            extra(Service::new("w", "nginx:1.25", 1).policy("s3 read please")),
            "services[2].policies[0]",
            "not an IAM policy ARN; write one such as",
        ),
        b(
            "11 managed policies",
            extra(many_policies),
            "services[2].policies",
            "AWS attaches at most 10 to a role; merge some into an inline policy",
        ),
        b(
            "inline policy that is not JSON",
            extra(Service::new("w", "nginx:1.25", 1).inline_policy("p", "{not json")),
            "services[2].inline_policies[\"p\"]",
            "not JSON",
        ),
        b(
            "inline policy without Statement",
            extra(Service::new("w", "nginx:1.25", 1).inline_policy("q", "{}")),
            "services[2].inline_policies[\"q\"]",
            "no `Statement`; write an IAM policy document",
        ),
        b(
            "inline policy named ecs-kit-",
            extra(Service::new("w", "nginx:1.25", 1).inline_policy("ecs-kit-efs", r#"{"Statement": []}"#)),
            "services[2].inline_policies[\"ecs-kit-efs\"]",
            "may not start with `ecs-kit`",
        ),
        b(
            "inline policy given twice",
            extra(
                Service::new("w", "nginx:1.25", 1)
                    .inline_policy("p", r#"{"Statement": []}"#)
                    .inline_policy("p", r#"{"Statement": []}"#),
            ),
            "services[2].inline_policies[\"p\"]",
            "set twice; keep one",
        ),
        b(
            "inline policy with a character IAM refuses",
            extra(Service::new("w", "nginx:1.25", 1).inline_policy("p", r#"{"Statement": [], "Sid": "€"}"#)),
            "services[2].inline_policies[\"p\"]",
            "IAM policies take only tab, line breaks and U+0020 to U+00FF",
        ),
        b(
            "inline policies over 10,240 characters",
            extra(Service::new("w", "nginx:1.25", 1).inline_policy("big", big_policy)),
            "services[2].inline_policies",
            "IAM allows 10240 for all inline policies of a role",
        ),
        b(
            "path without a load balancer",
            region("s").service(svc("api", "/")),
            "services[0].path",
            "the stack has no load balancer: add `.load_balancer(LoadBalancer::public())` or remove the path",
        ),
        b("path without /", extra(svc("w", "w")), "services[2].path", "not a load balancer path: start with `/`"),
        b("path with a trailing /", extra(svc("w", "/w/")), "services[2].path", "no trailing `/`"),
        b("path with a wildcard", extra(svc("w", "/w*")), "services[2].path", "no wildcards"),
        b(
            "path longer than a rule pattern",
            extra(svc("w", &format!("/{}", "p".repeat(130)))),
            "services[2].path",
            "must be at most 128 characters; shorten it",
        ),
        b(
            "two services on one path",
            extra(svc("catalogue", "/products")),
            "services[2].path",
            "also the path of services[1] (products); give each service its own path",
        ),
        b(
            "health check without a path",
            region("s").service(Service::new("w", "busybox:1.36", 1).health_check("/h")),
            "services[0].health_check",
            "needs a load balancer path: add `path` or remove the health check",
        ),
        b(
            "deregistration delay without a path",
            region("s").service(Service::new("w", "busybox:1.36", 1).deregistration_delay(Duration::from_secs(5))),
            "services[0].deregistration_delay",
            "only applies behind the load balancer",
        ),
        b(
            "health check path without /",
            extra(svc("w", "/w").health_check("health")),
            "services[2].health_check.path",
            "must start with `/` (e.g. `/health`)",
        ),
        b(
            "health check every 4 s",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").interval(Duration::from_secs(4)))),
            "services[2].health_check.interval",
            "whole seconds from 5 to 300",
        ),
        b(
            "health check timeout of 1.5 s",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").timeout(Duration::from_millis(1500)))),
            "services[2].health_check.timeout",
            "whole seconds from 2 to 120",
        ),
        b(
            "health check timeout not below the interval",
            extra(
                svc("w", "/w").health_check(
                    HealthCheck::new("/h").interval(Duration::from_secs(5)).timeout(Duration::from_secs(5)),
                ),
            ),
            "services[2].health_check.timeout",
            "not shorter than the interval (5 s); lower the timeout",
        ),
        b(
            "healthy threshold of 1",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").healthy_threshold(1))),
            "services[2].health_check.healthy_threshold",
            "from 2 to 10",
        ),
        b(
            "unhealthy threshold of 11",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").unhealthy_threshold(11))),
            "services[2].health_check.unhealthy_threshold",
            "from 2 to 10",
        ),
        b(
            "matcher with a 600",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").matcher("200-600"))),
            "services[2].health_check.matcher",
            "not a list of HTTP codes from 200 to 499",
        ),
        b(
            "matcher that is words",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").matcher("ok"))),
            "services[2].health_check.matcher",
            "write one such as `200`",
        ),
        b(
            "grace period of 3 hours",
            extra(svc("w", "/w").health_check(HealthCheck::new("/h").grace_period(Duration::from_secs(3 * 3600)))),
            "services[2].health_check.grace_period",
            "whole seconds from 0 to 7200",
        ),
        b(
            "deregistration delay of 4000 s",
            extra(svc("w", "/w").deregistration_delay(Duration::from_secs(4000))),
            "services[2].deregistration_delay",
            "whole seconds from 0 to 3600",
        ),
        b(
            "log retention of 31 days",
            extra(Service::new("w", "nginx:1.25", 1).log_retention_days(31)),
            "services[2].log_retention_days",
            "not a CloudWatch retention period; use one of",
        ),
        b(
            "minimum healthy of 101 %",
            extra(Service::new("w", "nginx:1.25", 1).min_healthy_percent(101)),
            "services[2].min_healthy_percent",
            "from 0 to 100",
        ),
        b(
            "maximum of 50 %",
            extra(Service::new("w", "nginx:1.25", 1).max_percent(50)),
            "services[2].max_percent",
            "from 100 to 400",
        ),
        b(
            "deployment that can neither stop nor start",
            extra(Service::new("w", "nginx:1.25", 1).min_healthy_percent(100).max_percent(100)),
            "services[2].max_percent",
            "neither stop nor start a task; raise max_percent",
        ),
        b(
            "test listener on the production listener's port",
            bg().with_load_balancer(|lb| lb.test_listener(TestListener::new(80).allow("203.0.113.0/24"))),
            "load_balancer.test_listener.port",
            "80 is the HTTP listener's port: test traffic needs a port of its own",
        ),
        b(
            "test listener of an internet-facing load balancer open to nobody",
            bg().with_load_balancer(|lb| lb.test_listener(8080)),
            "load_balancer.test_listener.allow",
            "name who may with `TestListener::new(port).allow(",
        ),
        b(
            "test listener open to a block with host bits",
            bg().with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.7/24"))),
            "load_balancer.test_listener.allow[0]",
            "has host bits set; use `203.0.113.0/24`",
        ),
        b(
            "test listener open to something not a CIDR block",
            bg().with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("office"))),
            "load_balancer.test_listener.allow[0]",
            "is not an IPv4 CIDR block",
        ),
        b(
            "test listener without a strategy shifting traffic",
            seed().with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.0/24"))),
            "load_balancer.test_listener",
            "no service has one: give a service such a `.deployment(..)`, or remove the test listener",
        ),
        b(
            "lifecycle hook naming no Lambda function",
            bg().with_service("test", "products", |s| s.lifecycle_hook(LifecycleHook::lambda("smoke-tests", [HookStage::PostScaleUp]))),
            "services[1].lifecycle_hooks[0].function_arn",
            "is not a Lambda function ARN: write one such as",
        ),
        b(
            "lifecycle hook at a traffic stage of a rolling deployment",
            seed().with_service("test", "products", |s| {
                s.lifecycle_hook(LifecycleHook::lambda(HOOK, [HookStage::PostProductionTrafficShift]))
            }),
            "services[1].lifecycle_hooks[0].stages[0]",
            "never comes in a rolling deployment",
        ),
        b(
            "lifecycle hook details that are not JSON",
            bg().with_service("test", "products", |s| {
                s.lifecycle_hook(LifecycleHook::lambda(HOOK, [HookStage::PostScaleUp]).details("path=/health"))
            }),
            "services[1].lifecycle_hooks[0].details",
            "is not JSON",
        ),
        b(
            "service tag reserved by ecs-kit",
            extra(Service::new("w", "nginx:1.25", 1).tag("ecs-kit:id", "x")),
            "services[2].tags[\"ecs-kit:id\"]",
            "ecs-kit's own ownership tags",
        ),
        // ------------------------------------------------------------------ knobs
        k(
            "--image of an unknown service",
            &["--image", "web=nginx:1"],
            "--image",
            "no service is named `web`: the services are `product-web`, `products`",
        ),
        k(
            "--image given twice",
            &["--image", "products=a:1", "--image", "products=b:1"],
            "--image",
            "service `products` is given twice: give each service once",
        ),
        k(
            "--count that is no number",
            &["--count", "products=many"],
            "--count <SERVICE=N>",
            "`many` for service `products`",
        ),
        k("--count too big", &["--count", "products=4294967296"], "--count <SERVICE=N>", "number too large"),
        k("--count of an unknown service", &["--count", "web=2"], "--count", "no service is named `web`"),
        k(
            "--image without =",
            &["--image", "nginx:1"],
            "--image <SERVICE=REF>",
            "is not SERVICE=VALUE: write the service's name, `=`, then the value",
        ),
        k(
            "--image without a service",
            &["--image", "=nginx:1"],
            "--image <SERVICE=REF>",
            "names no service: write SERVICE=VALUE",
        ),
        k(
            "--image that is empty",
            &["--image", "products="],
            "services[1].image",
            "is empty: give a full image reference",
        ),
        k("--image with a space", &["--image", "products=nginx :1"], "services[1].image", "contains whitespace"),
        k(
            "--image with shell metacharacters",
            &["--image", "products=$(reboot)"],
            "services[1].image",
            "not an image reference",
        ),
        k(
            "--image with a command line in it",
            &["--image", "products=nginx; rm -rf /"],
            "services[1].image",
            "contains whitespace or control characters",
        ),
        k(
            "--key-name without --admin-cidr",
            &["--key-name", "ops"],
            "--admin-cidr <CIDR>",
            "required arguments were not provided",
        ),
        k(
            "--admin-cidr without --key-name",
            &["--admin-cidr", "203.0.113.0/24"],
            "--key-name <NAME>",
            "required arguments were not provided",
        ),
        k(
            "--admin-cidr that is no CIDR",
            &["--key-name", "ops", "--admin-cidr", "0.0.0.0"],
            "cluster.admin_cidr",
            "not an IPv4 CIDR block",
        ),
        b(
            "Fargate cpu that is no Fargate size",
            extra(svc("w", "/w").fargate().cpu(300)),
            "services[2].cpu",
            "300 CPU units is not a Fargate task size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384",
        ),
        b(
            "Fargate memory that does not go with the cpu",
            extra(svc("w", "/w").fargate().cpu(256).memory(4096)),
            "services[2].memory",
            "4096 MiB is not a Fargate size for 256 CPU units, which take 512, 1024, 2048 MiB: set memory to one of them, or change cpu",
        ),
        b(
            "Fargate memory off the step",
            extra(svc("w", "/w").capacity(crate::dsl::Capacity::FargateSpot).cpu(1024).memory(2500)),
            "services[2].memory",
            "which take 2048 to 8192 in steps of 1024 MiB",
        ),
        b(
            "autoscaling to at most 0 tasks",
            extra(svc("w", "/w").autoscale(0, 0)),
            "services[2].autoscaling.max",
            "needs at least 1 task at most",
        ),
        b(
            "autoscaling on a CPU target above 100 %",
            extra(svc("w", "/w").autoscaling(crate::dsl::Autoscaling::new(1, 3).cpu(120))),
            "services[2].autoscaling.targets[0]",
            "120 is out of range: a utilization target in percent must be from 1 to 100",
        ),
        b(
            "autoscaling on requests without the load balancer",
            extra(Service::new("w", "nginx:1.25", 8080).autoscaling(crate::dsl::Autoscaling::new(1, 3).requests_per_target(100))),
            "services[2].autoscaling.targets[0]",
            "requests per target are counted by the load balancer",
        ),
        b(
            "autoscaling on one metric twice",
            extra(svc("w", "/w").autoscaling(crate::dsl::Autoscaling::new(1, 3).memory(50).memory(70))),
            "services[2].autoscaling.targets[1]",
            "memory is targeted twice: keep one target per metric",
        ),
        b(
            "a scale-in cooldown over an hour",
            extra(svc("w", "/w").autoscaling(crate::dsl::Autoscaling::new(1, 3).scale_in_cooldown(Duration::from_secs(7200)))),
            "services[2].autoscaling.scale_in_cooldown",
            "use whole seconds from 0 to 3600 s",
        ),
        k("--fargate of an unknown service", &["--fargate", "web"], "--fargate", "no service is named `web`"),
        k(
            "--fargate given twice",
            &["--fargate", "products", "--fargate", "products"],
            "--fargate",
            "service `products` is given twice",
        ),
        k("--autoscale without a range", &["--autoscale", "products=6"], "--autoscale <SERVICE=MIN:MAX>", "is not MIN:MAX"),
        k(
            "--autoscale with a range that is no number",
            &["--autoscale", "products=two:6"],
            "--autoscale <SERVICE=MIN:MAX>",
            "the minimum `two` of `two:6` is not a task count",
        ),
        k(
            "--autoscale with the minimum above the maximum",
            &["--autoscale", "products=6:2"],
            "services[1].autoscaling.min",
            "the minimum 6 is above the maximum 2: swap them",
        ),
        k("--autoscale of an unknown service", &["--autoscale", "web=1:2"], "--autoscale", "no service is named `web`"),
        k(
            "--autoscale below the --count",
            &["--autoscale", "products=3:6", "--count", "products=2"],
            "services[1].count",
            "2 tasks to start with is outside the autoscaling range 3..=6",
        ),
        k("--asg-min above the maximum", &["--asg-min", "9"], "cluster.min_instances", "9 is above max_instances 5"),
        k(
            "--asg-max of 0",
            &["--asg-min", "0", "--asg-max", "0"],
            "cluster.max_instances",
            "0 instances can run no task",
        ),
        k("--asg-max negative", &["--asg-max=-1"], "--asg-max <N>", "-1 is not in 0..=4294967295"),
        k(
            "--asg-desired outside the range",
            &["--asg-desired", "50"],
            "cluster.desired_instances",
            "50 is outside min_instances..=max_instances (2..=5)",
        ),
        k(
            "--instance-type without a size",
            &["--instance-type", "large"],
            "cluster.instance_type",
            "not an EC2 instance type",
        ),
        a(
            "--internal without a load balancer",
            &["x", "plan", "--internal"],
            "--internal",
            "the stack declares no load balancer: drop the flag, or declare one",
        ),
        a(
            "--region of another region",
            &["x", "--region", "eu-west-1", "plan"],
            "--region eu-west-1",
            "disagrees with the stack's region us-west-2: a stack lives in one region",
        ),
        a("unknown flag", &["x", "plan", "--bogus"], "--bogus", "unexpected argument"),
        a("no verb", &["x"], "Usage: x [OPTIONS] <COMMAND>", "plan      Show what apply would change"),
        a(
            "--timeout that is no duration",
            &["x", "apply", "--timeout", "forever"],
            "--timeout <DURATION>",
            "invalid value 'forever'",
        ),
        a(
            "--parallelism that is no number",
            &["x", "apply", "--parallelism", "lots"],
            "--parallelism <N>",
            "invalid digit",
        ),
        // ------------------------------------------------------------- saved plans
        f("a plan file that does not exist", Saved::Missing, "cannot read it"),
        f("a directory for a plan file", Saved::Directory, "cannot read it"),
        f("a plan file that is not UTF-8", Saved::Bytes(vec![0xff, 0xfe, 0x00]), "cannot read it"),
        f("an empty plan file", Saved::Bytes(Vec::new()), "not a saved plan (EOF while parsing"),
        f("a plan file of garbage", Saved::Bytes(b"rm -rf / ; echo pwned".to_vec()), "make one with plan --out"),
        f("a plan file nested 10,000 deep", Saved::Bytes(deep.into_bytes()), "recursion limit exceeded"),
        f(
            "a plan file of {}",
            saved(&serde_json::json!({})),
            "not a saved plan of this ecs-kit (format null): make one with plan --out",
        ),
        f("a plan file of []", saved(&serde_json::json!([])), "not a saved plan of this ecs-kit (format null)"),
        f(
            "a plan file of another format",
            saved(&serde_json::json!({"format": "ecs-kit-plan/0"})),
            "format \"ecs-kit-plan/0\"",
        ),
        f(
            "a plan file of another stack",
            saved(&plan_doc("other", "us-west-2")),
            "made for stack \"other\" in \"us-west-2\", not mcsv-poc in us-west-2",
        ),
        f(
            "a plan file of another region",
            saved(&plan_doc("mcsv-poc", "eu-west-1")),
            "in \"eu-west-1\", not mcsv-poc in us-west-2",
        ),
        f(
            "a plan file without its plan",
            saved(&serde_json::json!({"format": "ecs-kit-plan/1", "stack": "mcsv-poc", "region": "us-west-2"})),
            "incomplete",
        ),
    ]
}

/// The compile errors of `service!`, as trybuild cases: the file and a part of its
/// expected compiler output (the exact output is pinned by the `.stderr` file).
const MACRO_CASES: &[(&str, &str)] = &[
    ("bad_env_name", "invalid environment variable name \"1ST-REGION\" in `env`: use letters, digits and `_`"),
    ("bad_image", "invalid image \"\": it is empty; write a full reference"),
    ("bad_image", "invalid image \"nginx :1.27\": it contains white space or control characters"),
    ("bad_service_name", "invalid service name \"Product_Web\": it must start with a lowercase letter"),
    ("bad_service_name", "invalid service name \"product_web\": it may only contain lowercase letters, digits and `-`"),
    ("bad_service_name", "it has 65 characters, at most 64 are allowed"),
    ("bad_service_name", "invalid service name \"\": it is empty"),
    ("count_conflict", "conflicting keys `count` and `external_count`"),
    ("image_conflict", "conflicting keys `image` and `external_image`: use `image` for an image the stack deploys"),
    ("duplicate_env_name", "environment variable \"DB_PASSWORD\" is set twice: it is already set in `env`"),
    ("duplicate_key", "duplicate key `port`"),
    ("env_not_a_map", "`env` takes a map of string literals to values, e.g."),
    ("health_check_without_slash", "`health_check` must start with `/`: write \"/health\" instead of \"health\""),
    ("many_errors", "invalid service name \"9lives\""),
    ("many_errors", "port `0` is out of range"),
    ("many_errors", "`path` must start with `/`: write \"/\" instead of \"\""),
    ("many_errors", "invalid environment variable name \"bad name\""),
    ("many_errors", "environment variable \"OK\" is set twice"),
    ("many_errors", "unknown key `colour`, expected one of"),
    ("many_errors", "conflicting keys `external_count` and `count`"),
    ("many_errors", "duplicate key `path`"),
    ("many_errors", "missing required key `image` (or `external_image`) in `service!`; add it"),
    ("map_key_not_literal", "the keys of `env` must be string literals"),
    ("map_key_not_literal", "the keys of `tags` must be string literals"),
    ("missing_keys", "missing required keys `image` (or `external_image`), `port` in `service!`; add them"),
    ("path_without_slash", "`path` must start with `/`: write \"/products\" instead of \"products\""),
    ("port_out_of_range", "port `70000` is out of range: port must be between 1 and 65535"),
    ("port_out_of_range", "port `-1` is out of range"),
    ("unknown_key", "unknown key `replicas`, expected one of `name`, `image`, `external_image`, `port`"),
];

/// Runs one case against a fresh fake cloud: exit code, stdout and stderr, and the AWS
/// calls made.
fn run(case: &Case, dir: &std::path::Path) -> (u8, String, String, u64) {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let (args, stack): (Vec<String>, StackBuilder) = match &case.input {
        Input::Builder(b) => (vec!["x".into(), "plan".into()], (**b).clone()),
        Input::Knobs(flags) => {
            let mut args = vec!["x".to_owned(), "plan".to_owned()];
            args.extend(flags.iter().cloned());
            (args, seed())
        }
        Input::Args(args) => {
            let mut declared = seed();
            if args.iter().any(|a| a == "--internal") {
                declared.load_balancer = None;
                declared.services.iter_mut().for_each(|s| s.path = None);
            }
            (args.clone(), declared)
        }
        Input::SavedPlan(file) => {
            let path: PathBuf = dir.join(case.what.replace(' ', "-"));
            match file {
                Saved::Missing => {}
                Saved::Directory => std::fs::create_dir_all(&path).unwrap(),
                Saved::Bytes(bytes) => std::fs::write(&path, bytes).unwrap(),
            }
            (vec!["x".into(), "apply".into(), path.display().to_string()], seed())
        }
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = match cli::parse::<StackKnobs, _, _>(&args) {
        Err(e) => {
            err.extend(e.render().to_string().bytes());
            u8::from(e.use_stderr())
        }
        Ok(mut parsed) => {
            parsed.interactive = Some(false);
            parsed.colour = Some(false);
            let stack = parsed.verb.knobs().apply(stack);
            match cli::execute_with(&parsed, stack, Some(clients.clone()), &mut out, &mut err) {
                Ok(code) => code,
                Err(e) => {
                    err.extend(format!("error: {e}\n").bytes());
                    1
                }
            }
        }
    };
    assert!(cloud.call_log().is_empty(), "{}: AWS was called: {:?}", case.what, cloud.call_log());
    (code, String::from_utf8(out).unwrap(), String::from_utf8_lossy(&err).into_owned(), clients.calls.total())
}

#[test]
fn every_bad_input_is_refused_before_the_first_aws_call_naming_the_field_and_the_fix() {
    let cases = cases();
    let dir = std::env::temp_dir().join(format!("ecs-kit-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let (code, out, err, calls) = run(case, &dir);
        let named = err.contains(case.field) && err.contains(case.message);
        if code != 1 || calls != 0 || !named {
            failures.push(format!(
                "{}: exit {code}, {calls} AWS calls, expected `{}` and `{}` in:\n{err}{out}",
                case.what, case.field, case.message
            ));
        }
        // A declaration's problems are also named exactly by `build()` itself.
        if let Input::Builder(b) = &case.input {
            let e = (**b).clone().build().expect_err(case.what);
            if !e.errors().iter().any(|p| p.field == case.field && p.message.contains(case.message)) {
                failures
                    .push(format!("{}: build() has no `{}: ...{}...` in:\n{e}", case.what, case.field, case.message));
            }
            let text = e.to_string();
            // Lowercase: no capitalised word first (a name such as `ENDPOINT` may lead).
            let capitalised = |m: &str| {
                let mut chars = m.chars();
                chars.next().is_some_and(char::is_uppercase) && chars.next().is_some_and(char::is_lowercase)
            };
            if text.ends_with('.') || e.errors().iter().any(|p| capitalised(&p.message)) {
                failures.push(format!("{}: messages are lowercase without a trailing period:\n{text}", case.what));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
    // What the catalogue counts, with the macro's compile errors.
    let count = cases.len() + MACRO_CASES.len();
    assert!(count >= 60, "{count} invalid declarations catalogued");
}

#[test]
fn every_macro_case_is_a_trybuild_case_with_its_message() {
    let ui = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ecs-kit-macros/tests/ui/fail");
    for (file, message) in MACRO_CASES {
        let stderr =
            std::fs::read_to_string(ui.join(format!("{file}.stderr"))).unwrap_or_else(|e| panic!("{file}.stderr: {e}"));
        assert!(ui.join(format!("{file}.rs")).exists(), "{file}.rs");
        assert!(stderr.contains(message), "{file}.stderr lacks {message:?}:\n{stderr}");
    }
}

// ------------------------------------------------------------------------ warnings

/// Allowed, but probably not meant: each declaration builds, with this warning.
fn warning_cases() -> Vec<(&'static str, StackBuilder, &'static str, &'static str)> {
    vec![
        ("an unknown size of a known family", seed_pinned().cluster(Cluster::ec2("t3.gigantic")), "cluster.instance_type", "t3 comes in nano, micro, small, medium, large, xlarge, 2xlarge; check the spelling"),
        ("a type ecs-kit does not know", seed_pinned().cluster(Cluster::ec2("p3.2xlarge")), "cluster.instance_type", "cannot check that tasks fit it: check the spelling"),
        ("a password in a plain variable", seed_pinned().service(Service::new("w", "nginx:1.25", 1).env("DB_PASSWORD", "hunter2")), "services[2].env[\"DB_PASSWORD\"]", "`DB_PASSWORD` looks like a secret: plain variables are stored in clear text in the task definition"),
        ("the fix for a plain secret", seed_pinned().service(Service::new("w", "nginx:1.25", 1).env("API_TOKEN", "t")), "services[2].env[\"API_TOKEN\"]", "declare it under `secrets:` (`.secret(\"API_TOKEN\", Secret::ssm(\"/prod/api-token\"))`)"),
        ("an access key in a plain variable", seed_pinned().service(Service::new("w", "nginx:1.25", 1).env("AWS_KEY", "AKIAIOSFODNN7EXAMPLE")), "services[2].env[\"AWS_KEY\"]", "looks like an AWS access key id"),
        ("a password in a URL", seed_pinned().service(Service::new("w", "nginx:1.25", 1).env("DATABASE_URL", "postgres://app:hunter2@db.internal/shop")), "services[2].env[\"DATABASE_URL\"]", "a URL with a password in it"),
        ("the mutable tag latest", seed_pinned().service(Service::new("w", "nginx:latest", 1)), "services[2].image", "`nginx:latest` uses the mutable tag `latest`: pin a version tag (`nginx:1.4.2`) or a digest (`nginx@sha256:...`)"),
        ("an image without a tag", seed_pinned().service(Service::new("w", "registry.example.com:5000/team/app", 1)), "services[2].image", "has no tag, so it means `:latest`, which moves: pin a version tag"),
        ("SSH open to the world", seed_pinned().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("0.0.0.0/0")), "cluster.admin_cidr", "opens SSH to the whole internet"),
        ("tasks that do not fit the minimum", seed_pinned().service(Service::new("w", "nginx:1.25", 1).count(10).memory(1024)), "cluster.min_instances", "some tasks will wait for capacity"),
        ("more NAT gateways than Elastic IPs", seed_pinned().network(Network::new("10.10.0.0/16").availability_zones(6)), "network.nat_gateways", "6 NAT gateways need 6 Elastic IP addresses, and AWS allows 5 per region by default"),
    ]
}

/// The seed stack with its images pinned, so that it builds without warnings.
fn seed_pinned() -> StackBuilder {
    let mut b = seed();
    for s in &mut b.services {
        s.image = s.image.replace(":latest", ":1.4.2");
    }
    b
}

#[test]
fn the_pinned_seed_builds_without_warnings() {
    let stack = seed_pinned().build().unwrap();
    assert!(stack.warnings().is_empty(), "{:?}", stack.warnings());
}

#[test]
fn probable_mistakes_build_with_a_warning_naming_the_field_and_the_fix() {
    let mut failures = Vec::new();
    for (what, declared, field, message) in warning_cases() {
        match declared.build() {
            Err(e) => failures.push(format!("{what}: refused: {e}")),
            Ok(stack) => {
                if !stack.warnings().iter().any(|w| w.field == field && w.message.contains(message)) {
                    failures.push(format!("{what}: no warning `{field}: ...{message}...` in {:?}", stack.warnings()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn warnings_are_printed_by_every_verb_and_keep_json_clean() {
    let declared = || {
        seed_pinned()
            .service(Service::new("w", "nginx:latest", 1).env("DB_PASSWORD", "hunter2"))
            .cluster(Cluster::ec2("t3.gigantic"))
    };
    let cloud = FakeCloud::new("us-west-2");
    let verbs =
        [&["x", "synth"][..], &["x", "synth", "--json"], &["x", "plan"], &["x", "plan", "--json"], &["x", "apply"]];
    for args in verbs {
        let mut parsed = cli::parse::<cli::NoKnobs, _, _>(args).unwrap();
        parsed.interactive = Some(false);
        parsed.colour = Some(false);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        match cli::execute_with(&parsed, declared(), Some(cloud.clients()), &mut out, &mut err) {
            Ok(code) => assert_eq!(code, 0, "{args:?}"),
            // Without a terminal and --auto-approve, apply shows the plan and refuses.
            Err(e) => assert!(args[1] == "apply" && matches!(e, cli::CliError::NotApproved("apply")), "{args:?}: {e}"),
        }
        let err = String::from_utf8(err).unwrap();
        for line in [
            "warning: services[2].image: `nginx:latest` uses the mutable tag `latest`",
            "warning: services[2].env[\"DB_PASSWORD\"]: `DB_PASSWORD` looks like a secret",
            "warning: cluster.instance_type: `t3.gigantic` is not an EC2 instance type",
        ] {
            assert!(err.contains(line), "{args:?}: no {line:?} in:\n{err}");
        }
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("warning"), "{args:?}: warnings go to stderr, not stdout:\n{out}");
        if args.contains(&"--json") {
            serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{args:?}: {e}:\n{out}"));
        }
    }
}

// ---------------------------------------------------------------- hostile strings

/// Strings no field should choke on.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("$(rm -rf /); `reboot` | cat /etc/passwd > /dev/null && echo $HOME".to_owned()),
        Just(r#"{"a": "\"}, ], \\u0000 \n \t'"#.to_owned()),
        Just("\0".to_owned()),
        Just("a\0b".to_owned()),
        Just("x".repeat(10_000)),
        Just("é".repeat(10_000)),
        Just("产品-web".to_owned()),
        Just("🦀/🦀:🦀".to_owned()),
        Just("\u{202e}gnp.exe".to_owned()),
        Just("../../../etc/passwd".to_owned()),
        Just("%s%s%n{}{0}".to_owned()),
        Just("/".to_owned()),
        Just(" ".to_owned()),
        Just("\r\n".to_owned()),
        ".{0,64}",
        "[\\x00-\\x1f\"'\\\\`$;|&<>{}\\[\\]]{0,32}",
    ]
}

/// Number of string fields [`with_field`] can set.
const STRING_FIELDS: usize = 32;

/// The seed stack with string field `index` set to `value` (every other field valid).
fn with_field(index: usize, value: &str) -> StackBuilder {
    let v = value.to_owned();
    let svc = |s: Service| seed().service(s);
    let base = || Service::new("w", "nginx:1.25", 8080).path("/w");
    match index {
        0 => Stack::builder(v).region("us-west-2"),
        1 => Stack::builder("shop").region(v),
        2 => seed().network(Network::new(v)),
        3 => seed().network(Network::new("10.10.0.0/16").zones([v.clone(), v])),
        4 => seed().cluster(Cluster::ec2(v)),
        5 => seed().cluster(Cluster::ec2("t3.small").key_name(v).admin_cidr("203.0.113.7/32")),
        6 => seed().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr(v)),
        7 => seed().cluster(Cluster::ec2("t3.small").ami(AmiPolicy::Pinned(v))),
        8 => seed().cluster(Cluster::ec2("t3.small").ami_parameter(v)),
        9 => seed().file_system(FileSystem::encrypted().kms_key(v)),
        10 => seed().tag(v, "x"),
        11 => seed().tag("k", v),
        12 => svc(Service::new(v, "nginx:1.25", 8080)),
        13 => svc(Service::new("w", v, 8080)),
        14 => svc(Service::new("w", "nginx:1.25", 8080).path(v)),
        15 => svc(base().health_check(v)),
        16 => svc(base().health_check(HealthCheck::new("/h").matcher(v))),
        17 => svc(base().env(v, "x")),
        18 => svc(base().env("VALUE", v)),
        19 => svc(base().secret(v, Secret::ssm("/p"))),
        20 => svc(base().secret("S", Secret::ssm(v))),
        21 => svc(base().secret("S", Secret::secrets_manager(v))),
        22 => svc(base()
            .secret("S", Secret::secrets_manager(format!("arn:aws:secretsmanager:us-west-2:123456789012:secret:{v}")))),
        23 => svc(base().policy(v)),
        24 => svc(base().policy(format!("arn:aws:iam::aws:policy/{v}"))),
        25 => svc(base().inline_policy(v, r#"{"Statement": []}"#)),
        26 => svc(base().inline_policy("p", v)),
        27 => svc(base().inline_policy("p", serde_json::json!({"Statement": [], "Sid": v}).to_string())),
        28 => svc(base().tag(v, "x")),
        29 => svc(base().tag("k", v)),
        30 => svc(base().env(format!("DB_{v}"), v)),
        _ => seed().with_service("--image", &v, |s| s),
    }
}

/// Builds `declared` and, when it is valid, everything synth and plan print from it:
/// nothing may panic.
fn exercise(declared: StackBuilder) {
    match declared.build() {
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
            // Messages quote long values short.
            for p in e.errors() {
                assert!(p.message.chars().count() < 2_000, "{}: a message of {} characters", p.field, p.message.len());
            }
        }
        Ok(stack) => {
            for w in stack.warnings() {
                let _ = w.to_string();
            }
            let graph = crate::graph::Graph::from_stack(&stack).expect("a valid stack expands");
            let _ = cli::render_tree(&stack, &graph);
            let json = serde_json::to_string(&graph).unwrap();
            let back: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(back["stack"], stack.name.as_str());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn hostile_strings_in_any_field_never_panic(index in 0..STRING_FIELDS, value in hostile()) {
        exercise(with_field(index, &value));
    }

    #[test]
    fn hostile_strings_in_every_field_at_once_never_panic(value in hostile()) {
        let v = value.as_str();
        exercise(
            Stack::builder(v)
                .region(v)
                .network(Network::new(v).zones([v]))
                .cluster(Cluster::ec2(v).key_name(v).admin_cidr(v).ami(AmiPolicy::Pinned(v.into())).ami_parameter(v))
                .load_balancer(LoadBalancer::public())
                .file_system(FileSystem::encrypted().kms_key(v))
                .tag(v, v)
                .service(
                    Service::new(v, v, 8080)
                        .path(v)
                        .health_check(HealthCheck::new(v).matcher(v))
                        .env(v, v)
                        .secret(format!("{v}1"), Secret::ssm(v))
                        .secret(format!("{v}2"), Secret::secrets_manager(v))
                        .policy(v)
                        .inline_policy(v, v)
                        .tag(v, v),
                )
                .with_service(v, v, |s| s.image(v)),
        );
    }

    #[test]
    fn hostile_knob_values_never_panic(value in hostile()) {
        for flag in ["--image", "--count", "--instance-type", "--key-name", "--admin-cidr", "--asg-max"] {
            let with_service = format!("products={value}");
            let given = if matches!(flag, "--image" | "--count") { with_service.as_str() } else { value.as_str() };
            let mut args = vec!["x", "synth", flag, given];
            if flag == "--key-name" {
                args.extend(["--admin-cidr", "203.0.113.7/32"]);
            } else if flag == "--admin-cidr" {
                args.extend(["--key-name", "ops"]);
            }
            if let Ok(parsed) = cli::parse::<StackKnobs, _, _>(&args) {
                exercise(parsed.verb.knobs().apply(seed()));
            }
        }
    }

    #[test]
    fn any_sizes_and_counts_never_panic(
        bits in any::<u8>(), zones in any::<u8>(), count in any::<u32>(), memory in any::<u32>(),
        cpu in any::<u32>(), min in any::<u32>(), max in any::<u32>(), port in any::<u16>(),
        retention in any::<u32>(), percent in any::<u32>(), seconds in any::<u64>(),
    ) {
        exercise(
            seed()
                .network(Network::new("10.10.0.0/16").subnet_bits(bits).availability_zones(zones))
                .cluster(Cluster::ec2("t3.small").min_instances(min).max_instances(max))
                .load_balancer(LoadBalancer::public().port(port).idle_timeout(Duration::from_secs(seconds)))
                .service(
                    Service::new("w", "nginx:1.25", port)
                        .count(count)
                        .memory(memory)
                        .cpu(cpu)
                        .log_retention_days(retention)
                        .min_healthy_percent(percent)
                        .max_percent(percent)
                        .path("/w")
                        .deregistration_delay(Duration::from_secs(seconds)),
                ),
        );
    }
}
