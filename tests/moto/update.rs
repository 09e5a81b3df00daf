//! In-place updates against moto: every knob a CI job turns, applied, then no changes.

use ecs_kit::{service, Cluster, FileSystem, HealthCheck, LoadBalancer, Network, Stack, StackBuilder};

use super::harness::{clients, unique_stack};
use super::plan::run;

/// The example stack with the knobs a later apply turns.
fn stack(name: &str, changed: bool) -> StackBuilder {
    let mut cluster = Cluster::ec2("t3.small").min_instances(2).max_instances(5);
    let mut web = service! { name: "product-web", image: "registry.example.com/microservices/product-web:latest",
    port: 8000, count: 2, path: "/" };
    let mut products = service! { name: "products", image: "registry.example.com/microservices/products:latest",
    port: 8001, count: 2, path: "/products", policies: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] };
    let mut lb = LoadBalancer::public();
    let builder = Stack::builder(name).region("us-west-2");
    if changed {
        cluster = cluster.instance_type("t3.medium").max_instances(7).key_name("ops").admin_cidr("203.0.113.0/24");
        web = web
            .health_check(HealthCheck::new("/healthz").interval(std::time::Duration::from_secs(30)))
            .deregistration_delay(std::time::Duration::from_secs(10))
            .log_retention_days(7)
            .policy("arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess");
        products = products.tag("tier", "backend");
        lb = lb.idle_timeout(std::time::Duration::from_secs(120));
        // No stack-wide tag here: moto's DescribeLaunchTemplates answers the tags a
        // template was created with, whatever CreateTags did since (AWS answers the
        // current ones). The fake cloud's test of the same knobs adds one.
    }
    builder
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(cluster)
        .load_balancer(lb)
        .file_system(FileSystem::encrypted())
        .service(web)
        .service(products)
}

#[test]
fn knobs_turned_after_the_first_apply_are_updated_in_place() {
    let name = unique_stack("update");
    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], stack(&name, false));
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(&["plan", "--detailed-exitcode"], stack(&name, true));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("0 to add") && out.contains("0 to replace, 0 to destroy."), "all in place:\n{out}");
    for id in [
        "launch-template",
        "autoscaling-group",
        "security-group/instances",
        "target-group/product-web",
        "log-group/product-web",
        "role/task/product-web",
        "load-balancer",
        "service/products",
    ] {
        assert!(out.contains(&format!("  ~ {id} ")), "{id} is updated in place:\n{out}");
    }

    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], stack(&name, true));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" 0 failed, 0 skipped."), "{out}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], stack(&name, true));
    assert_eq!(code, 0, "the updates converged:\n{out}{err}");

    // And back again: rules revoked, policies detached, tags removed.
    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], stack(&name, false));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], stack(&name, false));
    assert_eq!(code, 0, "back to the first declaration:\n{out}{err}");
}

#[test]
fn an_internal_load_balancer_replaces_the_public_one_old_first() {
    let name = unique_stack("lb-scheme");
    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], stack(&name, false));
    assert_eq!(code, 0, "{out}{err}");
    let internal = || stack(&name, false).load_balancer(LoadBalancer::internal());

    let (code, out, err) = run(&["plan", "--detailed-exitcode"], internal());
    assert_eq!(code, 2, "{out}{err}");
    for id in ["load-balancer", "listener/http", "listener-rule/products"] {
        assert!(out.contains(&format!("-/+ {id} ")), "{id} is replaced:\n{out}");
    }
    assert!(out.contains("scheme cannot change in place; the old one is deleted first"), "{out}");
    assert!(out.contains("Plan: 0 to add, 5 to change, 3 to replace, 0 to destroy."), "{out}");

    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], internal());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Apply: 11 done, 0 failed, 0 skipped."), "three replacements are six steps:\n{out}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], internal());
    assert_eq!(code, 0, "the replacement converged:\n{out}{err}");
    let stack = internal().build().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let live = runtime.block_on(ecs_kit::observe::observe(&stack, &clients())).unwrap();
    let Some(ecs_kit::graph::Properties::LoadBalancer(lb)) =
        live.get("load-balancer").map(|r| r.properties.as_ref().clone())
    else {
        panic!("no load balancer: {:#?}", live.resources)
    };
    assert_eq!(lb.scheme, "internal");
}
