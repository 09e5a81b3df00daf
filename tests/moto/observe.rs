//! observe against moto: an empty account, a stack created through the adapters, and
//! foreign look-alikes that must not be claimed.

use std::collections::BTreeMap;

use ecs_kit::aws::{Clients, Filter, Tags};
use ecs_kit::graph::props::{AvailabilityZone, ImageSource};
use ecs_kit::graph::{Graph, Properties};
use ecs_kit::observe::{observe, LiveStack};
use ecs_kit::{service, Cluster, FileSystem, LoadBalancer, Network, Secret, Stack};

use super::create::create_all;
use super::harness::{clients, unique_stack};

fn stack(name: &str, extra_services: usize) -> Stack {
    let mut b = Stack::builder(name)
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(
            Cluster::ec2("t3.small").min_instances(2).max_instances(5).key_name("ops").admin_cidr("203.0.113.7/32"),
        )
        .load_balancer(LoadBalancer::public())
        .file_system(FileSystem::encrypted())
        .tag("team", "shop")
        .service(service! {
            name: "product-web", image: "registry.example.com/microservices/product-web:latest",
            port: 8000, count: 2, path: "/", env: { "DB_HOST" => "db.internal" },
            secrets: { "DB_PASSWORD" => Secret::ssm("/shop/db-password") },
        })
        .service(service! {
            name: "products", image: "registry.example.com/microservices/products:latest",
            port: 8001, count: 2, path: "/products",
            policies: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
        });
    for i in 0..extra_services {
        b = b.service(service! { name: format!("svc{i}"), image: "nginx:1.25", port: 8080, path: format!("/svc{i}"), memory: 64, cpu: 16 });
    }
    b.build().expect("a valid stack")
}

/// What observe must read back for a resource created from `desired`: the desired
/// properties, with the values the engine resolves at apply time filled in.
async fn expected(graph: &Graph, clients: &Clients) -> BTreeMap<String, serde_json::Value> {
    let zones = clients.ec2.describe_availability_zones().await.unwrap();
    let mut out = BTreeMap::new();
    for r in graph.resources() {
        let mut props = r.properties.as_ref().clone();
        match &mut props {
            Properties::Subnet(p) => {
                if let AvailabilityZone::Index { zone_index } = p.availability_zone {
                    p.availability_zone = AvailabilityZone::Name(zones[usize::from(zone_index)].clone());
                }
            }
            Properties::LaunchTemplate(p) => {
                if let ImageSource::SsmParameter { name, .. } = &p.image {
                    p.image = ImageSource::ImageId(clients.ssm.get_parameter(name.clone()).await.unwrap().unwrap());
                }
            }
            _ => {}
        }
        out.insert(r.id.to_string(), serde_json::to_value(&props).unwrap());
    }
    out
}

fn differences(expected: &BTreeMap<String, serde_json::Value>, live: &LiveStack) -> Vec<String> {
    let mut problems = Vec::new();
    for (id, want) in expected {
        match live.get(id) {
            None => problems.push(format!("{id}: not found")),
            Some(r) => {
                let got = serde_json::to_value(&*r.properties).unwrap();
                let mut want = want.clone();
                // An access point's client token: apply adds 8 hex digits of the digest
                // of its resolved properties to the declared one.
                if let (Some(declared), Some(used)) = (want["client_token"].as_str(), got["client_token"].as_str()) {
                    let digest = used.strip_prefix(declared).and_then(|rest| rest.strip_prefix('-'));
                    if digest.is_some_and(|d| d.len() == 8 && d.chars().all(|c| c.is_ascii_hexdigit())) {
                        want["client_token"] = got["client_token"].clone();
                    }
                }
                if got != want {
                    problems.push(format!("{id}:\n    want {want}\n    got  {got}"));
                }
            }
        }
    }
    for r in &live.resources {
        if !expected.contains_key(r.id.as_str()) {
            problems.push(format!("{}: found but not declared", r.id));
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_account_has_nothing_of_the_stack() {
    let clients = clients();
    let live = observe(&stack(&unique_stack("empty"), 0), &clients).await.expect("observe");
    assert!(live.is_empty(), "{:#?}", live.resources);
    assert!(live.conflicts.is_empty(), "{:#?}", live.conflicts);
    assert!(clients.calls.total() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_created_through_the_adapters_reads_back_equal() {
    let clients = clients();
    let stack = stack(&unique_stack("full"), 0);
    let graph = Graph::from_stack(&stack).unwrap();
    create_all(&graph, &clients).await;
    let want = expected(&graph, &clients).await;
    clients.calls.reset();
    let live = observe(&stack, &clients).await.expect("observe");
    let calls = clients.calls.total();
    let problems = differences(&want, &live);
    assert!(problems.is_empty(), "{} of {} resources differ:\n{}", problems.len(), want.len(), problems.join("\n"));
    assert!(live.conflicts.is_empty(), "{:#?}", live.conflicts);
    assert_eq!(live.services.len(), 2, "service statuses");
    println!("observe of the example stack ({} resources): {calls} AWS calls", want.len());
    for c in clients.calls.snapshot() {
        println!("  {:<28} {:<40} {}", c.service, c.operation, c.calls);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_grow_with_types_not_resources() {
    let clients = clients();
    let mut totals = Vec::new();
    for extra in [0, 48] {
        let stack = stack(&unique_stack("calls"), extra);
        let graph = Graph::from_stack(&stack).unwrap();
        create_all(&graph, &clients).await;
        clients.calls.reset();
        let live = observe(&stack, &clients).await.expect("observe");
        assert_eq!(live.resources.len(), graph.resources().len());
        totals.push((stack.services.len(), graph.resources().len(), clients.calls.total()));
    }
    for (services, resources, calls) in &totals {
        println!("observe: {services} services, {resources} resources: {calls} AWS calls");
    }
    let (small, large) = (totals[0], totals[1]);
    // Per added service: DescribeTargetGroupAttributes and the log group's
    // ListTagsForResource take one item each (AWS has no batch form of them; the task
    // definition revision is recorded on the service, not read); DescribeServices takes
    // 10 names; DescribeTargetGroups 20; one DescribeTags the listener, the rules and the
    // target groups together, 20 at a time.
    let batches = |n: usize, size: usize| n.div_ceil(size) as u64;
    let allowed = 2 * (large.0 - small.0) as u64
        + (batches(large.0, 10) - batches(small.0, 10))
        + (batches(large.0, 20) - batches(small.0, 20))
        + (batches(1 + 2 * large.0, 20) - batches(1 + 2 * small.0, 20));
    assert!(
        large.2 - small.2 <= allowed,
        "{} more calls for {} more services, allowed {allowed}: {totals:?}",
        large.2 - small.2,
        large.0 - small.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_look_alikes_are_not_claimed() {
    let clients = clients();
    let stack = stack(&unique_stack("foreign"), 0);
    let graph = Graph::from_stack(&stack).unwrap();
    let role = graph.get("role/task/products").unwrap();
    let Properties::Role(mut role_props) = role.properties.as_ref().clone() else { panic!() };
    role_props.inline_policies.clear();
    clients.iam.create_role(role_props, Tags::new()).await.expect("foreign role");
    let log_group = graph.get("log-group/products").unwrap().name.clone();
    clients
        .logs
        .create_log_group(log_group, Tags::from([("owner".into(), "someone".into())]))
        .await
        .expect("foreign log group");
    // A VPC of another stack, and one with our name but no ownership tag.
    let Properties::Vpc(vpc) = graph.get("vpc").unwrap().properties.as_ref().clone() else { panic!() };
    let mut other = graph.get("vpc").unwrap().tags.clone();
    other.insert("ecs-kit:stack".into(), format!("{}-other", stack.name));
    let other_vpc = clients.ec2.create_vpc(vpc.clone(), other).await.expect("other stack's vpc");
    // A target group with the name of ours and the tags of someone else.
    let Properties::TargetGroup(mut tg) = graph.get("target-group/products").unwrap().properties.as_ref().clone()
    else {
        panic!()
    };
    tg.vpc_id = ecs_kit::graph::RefOr::Value(other_vpc);
    let someone = Tags::from([("owner".into(), "someone".into())]);
    clients.elb.create_target_group(tg, someone).await.expect("foreign target group");
    clients
        .ec2
        .create_vpc(vpc, Tags::from([("Name".into(), graph.get("vpc").unwrap().name.clone())]))
        .await
        .expect("untagged vpc");

    let live = observe(&stack, &clients).await.expect("observe");
    assert!(live.is_empty(), "foreign resources were claimed: {:#?}", live.resources);
    let conflicts: Vec<&str> = live.conflicts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(conflicts, ["role/task/products", "target-group/products", "log-group/products"]);
    assert!(live.conflicts[0].reason.contains("never adopts"), "{}", live.conflicts[0].reason);
    // The foreign VPCs are still there, untouched.
    let vpcs = clients.ec2.describe_vpcs(vec![Filter::new("cidr", ["10.10.0.0/16"])]).await.unwrap();
    assert!(vpcs.len() >= 2);
}
