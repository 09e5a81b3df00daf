//! Validation: each rule, and that every problem is reported at once.

use std::time::Duration;

use super::*;
use crate::dsl::{Cluster, HealthCheck, LoadBalancer, Network, Service};

fn errors(b: StackBuilder) -> ValidationErrors {
    b.build().expect_err("the declaration is invalid")
}

fn svc(name: &str, path: &str) -> Service {
    Service::new(name, "nginx:1.25", 8080).path(path)
}

/// Asserts one problem on `field` whose message mentions `needle`.
#[track_caller]
fn assert_problem(e: &ValidationErrors, field: &str, needle: &str) {
    assert!(
        e.errors().iter().any(|p| p.field == field && p.message.contains(needle)),
        "no problem on {field} mentioning {needle:?} in:\n{e}"
    );
}

#[test]
fn the_seed_stack_is_valid_with_defaults_filled_in() {
    let stack = seed().build().unwrap();
    assert_eq!(stack.network.cidr.to_string(), "10.10.0.0/16");
    assert!(stack.network.dns_support && stack.network.dns_hostnames);
    assert_eq!((stack.cluster.min_instances, stack.cluster.max_instances, stack.cluster.desired_instances), (2, 5, 2));
    assert_eq!(stack.cluster.ami, AmiPolicy::KeepExisting);
    let products = stack.service("products").unwrap();
    let routing = products.routing.as_ref().unwrap();
    assert_eq!(routing.health_check.path, "/products");
    assert_eq!(routing.deregistration_delay_seconds, 30);
    assert_eq!(products.log_retention_days, 30);
    assert_eq!(products.deployment.min_healthy_percent, 50);
    assert_eq!(products.deployment.max_percent, 200);
    assert_eq!(products.deployment.circuit_breaker, CircuitBreaker::Rollback);
    assert_eq!((products.cpu, products.memory), (256, 512));
    // The seed template's images are on `:latest`: allowed, and warned about.
    let fields: Vec<&str> = stack.warnings().iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["services[0].image", "services[1].image"], "{:?}", stack.warnings());
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = errors(
        Stack::builder("Bad Name")
            .network(Network::new("10.10.0.0/33").availability_zones(9))
            .load_balancer(LoadBalancer::public())
            .tag("ecs-kit:owner", "me")
            .service(svc("a", "/x").port_zero())
            .service(svc("a", "/x")),
    );
    for field in [
        "name",
        "region",
        "network.cidr",
        "network.availability_zones",
        "tags[\"ecs-kit:owner\"]",
        "services[0].port",
        "services[1].name",
        "services[1].path",
        "services",
    ] {
        assert!(e.has(field), "missing {field} in:\n{e}");
    }
    let text = e.to_string();
    assert!(text.starts_with("invalid stack declaration ("), "{text}");
    assert!(!text.ends_with('.'), "messages have no trailing period: {text}");
}

trait PortZero {
    fn port_zero(self) -> Self;
}

impl PortZero for Service {
    fn port_zero(mut self) -> Self {
        self.port = 0;
        self
    }
}

#[test]
fn duplicate_service_names() {
    let e = errors(seed().service(svc("products", "/other")));
    assert_problem(&e, "services[2].name", "also the name of services[1]");
}

#[test]
fn two_services_on_one_path() {
    let e = errors(seed().service(svc("catalogue", "/products")));
    assert_problem(&e, "services[2].path", "also the path of services[1] (products)");
}

#[test]
fn exactly_one_service_at_root_with_a_load_balancer() {
    let e = errors(seed().service(svc("other", "/")));
    assert_problem(&e, "services[2].path", "a second service at `/`");
    let e = errors(
        Stack::builder("s").region("us-west-2").load_balancer(LoadBalancer::public()).service(svc("api", "/api")),
    );
    assert_problem(&e, "services", "exactly one service at `/`");
    let e = errors(Stack::builder("s").region("us-west-2").load_balancer(LoadBalancer::public()));
    assert_problem(&e, "services", "exactly one service at `/`");
}

#[test]
fn a_path_needs_a_load_balancer() {
    let e = errors(Stack::builder("s").region("us-west-2").service(svc("api", "/")));
    assert_problem(&e, "services[0].path", "no load balancer");
    let e = errors(Stack::builder("s").region("us-west-2").service(Service::new("w", "busybox", 1).health_check("/h")));
    assert_problem(&e, "services[0].health_check", "needs a load balancer path");
}

#[test]
fn vpc_cidr_must_be_valid_and_big_enough() {
    let net = |n: Network| errors(seed().network(n));
    assert_problem(&net(Network::new("10.10.0.0")), "network.cidr", "not an IPv4 CIDR block");
    assert_problem(&net(Network::new("10.10.1.0/16")), "network.cidr", "use `10.10.0.0/16`");
    assert_problem(&net(Network::new("10.0.0.0/8")), "network.cidr", "/16 to /28");
    // /24 + 8 bits = /32 subnets: smaller than AWS allows.
    assert_problem(&net(Network::new("10.10.0.0/24")), "network.subnet_bits", "use a larger VPC");
    // 6 zones need 12 subnets; 3 bits give 8.
    assert_problem(
        &net(Network::new("10.10.0.0/16").availability_zones(6).subnet_bits(3)),
        "network.cidr",
        "too small",
    );
    // /20 with 4 bits: 16 /24 blocks, enough for 6 zones.
    assert!(seed().network(Network::new("10.10.0.0/20").availability_zones(6).subnet_bits(4)).build().is_ok());
}

#[test]
fn availability_zone_count() {
    for n in [0, 7] {
        let e = errors(seed().network(Network::new("10.10.0.0/16").availability_zones(n)));
        assert_problem(&e, "network.availability_zones", "use 1 to 6");
    }
    let e = errors(seed().network(Network::new("10.10.0.0/16").availability_zones(1)));
    assert_problem(&e, "network.availability_zones", "at least two zones");
    // Without a load balancer one zone is fine.
    let ok =
        Stack::builder("s").region("us-west-2").network(Network::new("10.10.0.0/16").availability_zones(1)).build();
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn named_zones_must_belong_to_the_region() {
    let e = errors(seed().network(Network::new("10.10.0.0/16").zones(["us-west-2a", "eu-west-1b", "us-west-2a"])));
    assert_problem(&e, "network.zones[1]", "not a zone of region `us-west-2`");
    assert_problem(&e, "network.zones[2]", "listed twice");
    let stack = seed().network(Network::new("10.10.0.0/16").zones(["us-west-2a", "us-west-2c"])).build().unwrap();
    assert_eq!(stack.network.az_count, 2);
}

#[test]
fn key_name_and_admin_cidr_come_together() {
    let e = errors(seed().cluster(Cluster::ec2("t3.small").key_name("ops")));
    assert_problem(&e, "cluster.admin_cidr", "SSH needs both");
    let e = errors(seed().cluster(Cluster::ec2("t3.small").admin_cidr("203.0.113.7/32")));
    assert_problem(&e, "cluster.key_name", "SSH needs both");
    let e = errors(seed().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("203.0.113.7")));
    assert_problem(&e, "cluster.admin_cidr", "not an IPv4 CIDR block");
    let stack = seed().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("203.0.113.7/32")).build().unwrap();
    assert_eq!(stack.cluster.ssh.unwrap().admin_cidr.to_string(), "203.0.113.7/32");
    let open = seed().cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("0.0.0.0/0")).build().unwrap();
    assert!(open.warnings().iter().any(|w| w.field == "cluster.admin_cidr"));
}

#[test]
fn reserved_and_bad_tags() {
    let e =
        errors(seed().tag("ecs-kit:stack", "x").tag("aws:foo", "x").tag("team", "a").tag("team", "b").tag("Name", "x"));
    assert_problem(&e, "tags[\"ecs-kit:stack\"]", "ecs-kit's own");
    assert_problem(&e, "tags[\"aws:foo\"]", "reserved by AWS");
    assert_problem(&e, "tags[\"team\"]", "set twice");
    assert_problem(&e, "tags[\"Name\"]", "set by ecs-kit");
    let e = errors(seed().service(Service::new("w", "busybox", 1).tag("ecs-kit:id", "x")));
    assert_problem(&e, "services[2].tags[\"ecs-kit:id\"]", "ecs-kit's own");
    let mut many = seed();
    for i in 0..48 {
        many = many.tag(format!("k{i}"), "v");
    }
    let e = errors(many);
    assert_problem(&e, "services[0].tags", "AWS allows 50 per resource");
}

#[test]
fn long_names_are_shortened_not_refused() {
    let stack = Stack::builder("a-stack-name-that-is-quite-long-indeed")
        .region("us-west-2")
        .load_balancer(LoadBalancer::public())
        .service(svc("a-service-with-a-long-name-too", "/"))
        .build()
        .unwrap();
    assert_eq!(stack.name.len(), 38);
    let long = "x".repeat(65);
    let e = errors(Stack::builder(long).region("us-west-2"));
    assert_problem(&e, "name", "1 to 64 lowercase letters");
    let e = errors(Stack::builder("internal-tools").region("us-west-2"));
    assert_problem(&e, "name", "internal-");
    let e = errors(seed().service(Service::new("Upper_Case", "busybox", 1)));
    assert_problem(&e, "services[2].name", "lowercase letters");
}

#[test]
fn cpu_and_memory() {
    let e = errors(seed().service(Service::new("big", "busybox", 1).cpu(20000).memory(2)));
    assert_problem(&e, "services[2].cpu", "from 0 to 10240");
    assert_problem(&e, "services[2].memory", "from 6 to");
    // Bigger than a t3.small can ever hold.
    let e = errors(seed().service(Service::new("big", "busybox", 1).cpu(4096).memory(4096)));
    assert_problem(&e, "services[2].memory", "does not fit a t3.small");
    assert_problem(&e, "services[2].cpu", "do not fit a t3.small");
}

#[test]
fn counts_that_do_not_fit_the_minimum_capacity_are_warned_not_refused() {
    let stack = seed().service(Service::new("batch", "busybox:1.36", 1).count(10).memory(1024)).build().unwrap();
    let w: Vec<_> = stack.warnings().iter().filter(|w| !w.field.ends_with(".image")).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "cluster.min_instances");
    assert!(w[0].message.contains("12288 MiB"), "{}", w[0].message);
    // Counts and sizes whose products overflow 32 bits are warned about, not a panic.
    let huge = seed().service(Service::new("w", "busybox:1.36", 1).count(u32::MAX).memory(1024)).build().unwrap();
    assert!(huge.warnings().iter().any(|w| w.field == "cluster.min_instances"));
}

#[test]
fn image_references() {
    let e = errors(seed().service(Service::new("w", "Registry/App:latest", 1)).service(Service::new("v", "", 1)));
    assert_problem(&e, "services[2].image", "not an image reference");
    assert_problem(&e, "services[3].image", "empty");
}

#[test]
fn environment_and_secrets() {
    let e = errors(
        seed().service(
            Service::new("w", "busybox", 1)
                .env("1BAD", "x")
                .env("ENDPOINT", "x")
                .env("DB", "x")
                .secret("DB", Secret::ssm("/db"))
                .secret("TOKEN", Secret::secrets_manager("not-an-arn"))
                .secret("PASS", Secret::ssm("bad name!")),
        ),
    );
    assert_problem(&e, "services[2].env[\"1BAD\"]", "not a valid variable name");
    assert_problem(&e, "services[2].env[\"ENDPOINT\"]", "set by ecs-kit");
    assert_problem(&e, "services[2].secrets[\"DB\"]", "set twice");
    assert_problem(&e, "services[2].secrets[\"TOKEN\"]", "not a Secrets Manager ARN");
    assert_problem(&e, "services[2].secrets[\"PASS\"]", "SSM parameter name");
    // ENDPOINT is the user's own when there is no load balancer.
    assert!(Stack::builder("s")
        .region("us-west-2")
        .service(Service::new("w", "busybox", 1).env("ENDPOINT", "x"))
        .build()
        .is_ok());
}

#[test]
fn policies() {
    let e = errors(
        seed().service(
            Service::new("w", "busybox", 1)
                .policy("AmazonS3ReadOnlyAccess")
                .inline_policy("p", "{not json")
                .inline_policy("q", "{}")
                .inline_policy("ecs-kit-efs", r#"{"Statement": []}"#),
        ),
    );
    assert_problem(&e, "services[2].policies[0]", "write `arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess`");
    assert_problem(&e, "services[2].inline_policies[\"p\"]", "not JSON");
    assert_problem(&e, "services[2].inline_policies[\"q\"]", "no `Statement`");
    assert_problem(&e, "services[2].inline_policies[\"ecs-kit-efs\"]", "may not start with `ecs-kit`");
}

#[test]
fn health_check_and_deployment_ranges() {
    let check = HealthCheck::new("/h")
        .interval(Duration::from_secs(5))
        .timeout(Duration::from_millis(5500))
        .healthy_threshold(1)
        .matcher("200-600");
    let e = errors(
        seed().service(
            svc("w", "/w")
                .health_check(check)
                .deregistration_delay(Duration::from_secs(4000))
                .log_retention_days(31)
                .min_healthy_percent(100)
                .max_percent(100),
        ),
    );
    assert_problem(&e, "services[2].health_check.timeout", "whole seconds from 2 to 120");
    assert_problem(&e, "services[2].health_check.healthy_threshold", "from 2 to 10");
    assert_problem(&e, "services[2].health_check.matcher", "200 to 499");
    assert_problem(&e, "services[2].deregistration_delay", "0 to 3600");
    assert_problem(&e, "services[2].log_retention_days", "not a CloudWatch retention period");
    assert_problem(&e, "services[2].max_percent", "neither stop nor start");
    let e = errors(
        seed().service(
            svc("w", "/w")
                .health_check(HealthCheck::new("/h").interval(Duration::from_secs(5)).timeout(Duration::from_secs(5))),
        ),
    );
    assert_problem(&e, "services[2].health_check.timeout", "not shorter than the interval");
    let e = errors(seed().service(svc("w", "w")));
    assert_problem(&e, "services[2].path", "start with `/`");
}

#[test]
fn cluster_sizes_and_ami() {
    let e = errors(
        seed().cluster(Cluster::ec2("small").min_instances(3).max_instances(2).ami(AmiPolicy::Pinned("ubuntu".into()))),
    );
    assert_problem(&e, "cluster.instance_type", "not an EC2 instance type");
    assert_problem(&e, "cluster.min_instances", "above max_instances");
    assert_problem(&e, "cluster.ami", "not an AMI id");
}

#[test]
fn quotas_a_declaration_can_break_are_checked_before_any_call() {
    // 100 services with a path fit one load balancer; 101 do not.
    let with = |n: usize| (2..n).fold(seed(), |b, i| b.service(svc(&format!("s{i}"), &format!("/s{i}"))));
    assert!(with(100).build().is_ok());
    let e = errors(with(101));
    assert_problem(
        &e,
        "services",
        "101 services have a path, but one Application Load Balancer takes at most 100 target groups",
    );
    assert_problem(&e, "services", "100 listener rules by default (101 target groups and 100 rules needed)");
    // Services without a path need no target group.
    assert!(with(100).service(Service::new("worker", "busybox:1.36", 1)).build().is_ok());
    // Inline policies of a role: 10,240 characters, white space not counted.
    let statement = |n: usize| {
        let resources: Vec<String> = (0..n).map(|i| format!("arn:aws:s3:::b/{i:04}")).collect();
        serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]})
            .to_string()
    };
    assert!(seed().service(Service::new("w", "busybox:1.36", 1).inline_policy("p", statement(400))).build().is_ok());
    let e = errors(seed().service(Service::new("w", "busybox:1.36", 1).inline_policy("p", statement(600))));
    assert_problem(&e, "services[2].inline_policies", "with ecs-kit's own file system policy: IAM allows 10240");
}

#[test]
fn unknown_instance_types_are_warned_not_refused() {
    let stack = seed().cluster(Cluster::ec2("t3.gigantic")).build().unwrap();
    assert!(stack.warnings().iter().any(|w| w.field == "cluster.instance_type" && w.message.contains("t3 comes in")));
    let stack = seed().cluster(Cluster::ec2("t3.large")).build().unwrap();
    assert!(!stack.warnings().iter().any(|w| w.field == "cluster.instance_type"));
}

#[test]
fn secret_looking_plain_variables_are_warned() {
    let stack = seed()
        .service(Service::new("w", "busybox:1.36", 1).env("DB_PASSWORD", "hunter2").env("DB_HOST", "db.internal"))
        .build()
        .unwrap();
    let fields: Vec<&str> = stack.warnings().iter().map(|w| w.field.as_str()).filter(|f| f.contains(".env")).collect();
    assert_eq!(fields, ["services[2].env[\"DB_PASSWORD\"]"]);
    assert!(looks_secret("aws_secret_access_key") && !looks_secret("PORT"));
}

#[test]
fn external_counts_start_at_their_initial_value() {
    let stack = seed().service(Service::new("w", "busybox", 1).external_count(3)).build().unwrap();
    let w = stack.service("w").unwrap();
    assert_eq!(w.desired_count, DesiredCount::External(3));
    assert_eq!(w.initial_count(), 3);
}

#[test]
fn listener_rule_priorities_put_deeper_paths_first_and_do_not_move() {
    let stack = seed().service(svc("admin", "/products/admin")).build().unwrap();
    let prio = |s: &Stack, n: &str| s.service(n).unwrap().routing.as_ref().unwrap().priority.unwrap();
    assert!(prio(&stack, "admin") < prio(&stack, "products"));
    assert_eq!(stack.service("product-web").unwrap().routing.as_ref().unwrap().priority, None);
    // Adding services never renumbers the others.
    let mut more = seed();
    for i in 0..20 {
        more = more.service(svc(&format!("s{i}"), &format!("/s{i}")));
    }
    let more = more.build().unwrap();
    assert_eq!(prio(&more, "products"), prio(&seed().build().unwrap(), "products"));
    let mut all: Vec<u32> = more.services.iter().filter_map(|s| s.routing.as_ref()?.priority).collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "priorities are unique");
    assert!(all.iter().all(|p| (1..=50000).contains(p)));
}
