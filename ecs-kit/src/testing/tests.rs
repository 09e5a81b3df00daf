//! Tests of the fake cloud itself, and of the engine (plan, apply, destroy) against it.

use std::time::Duration;

use super::*;
use crate::apply::{apply, ApplyOptions, ApplyReport, Waits};
use crate::destroy::{destroy, DestroyOptions};
use crate::diff::Action;
use crate::graph::props::{RoleProps, VpcProps};
use crate::graph::{Graph, LogicalId, RefOr};
use crate::model::Stack;
use crate::plan::{plan, Plan};
use crate::walk::{Outcome, RetryPolicy};

fn vpc(cidr: &str) -> VpcProps {
    VpcProps { cidr_block: cidr.into(), enable_dns_support: true, enable_dns_hostnames: true }
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn role(name: &str) -> RoleProps {
    RoleProps {
        role_name: name.into(),
        path: "/".into(),
        description: String::new(),
        assume_role_policy: serde_json::json!({"Version": "2012-10-17", "Statement": []}),
        managed_policy_arns: vec![],
        inline_policies: Default::default(),
    }
}

// ---------------------------------------------------------------- the fake itself

#[tokio::test(start_paused = true)]
async fn ids_arns_and_tag_filters_look_like_aws() {
    let cloud = FakeCloud::new("us-west-2");
    let c = cloud.clients();
    let ours = c.ec2.create_vpc(vpc("10.0.0.0/16"), tags(&[("team", "a")])).await.unwrap();
    let theirs = c.ec2.create_vpc(vpc("10.1.0.0/16"), tags(&[("team", "b")])).await.unwrap();
    assert!(ours.starts_with("vpc-") && ours.len() == 21, "{ours}");
    assert_ne!(ours, theirs);
    let found = c.ec2.describe_vpcs(vec![Filter::tag("team", "a")]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ours);
    assert_eq!(found[0].props.cidr_block, "10.0.0.0/16");
    // A new VPC has DNS host names off until asked.
    assert!(!found[0].props.enable_dns_hostnames);
    let arn = c.iam.create_role(role("r1"), Tags::new()).await.unwrap();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:role/r1"));
    let err = c.ec2.describe_vpcs(vec![Filter::new("bogus", ["x"])]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
}

#[tokio::test(start_paused = true)]
async fn names_conflict_and_tokens_make_creates_idempotent() {
    let cloud = FakeCloud::new("us-west-2");
    let c = cloud.clients();
    c.iam.create_role(role("app"), Tags::new()).await.unwrap();
    assert_eq!(c.iam.create_role(role("APP"), Tags::new()).await.unwrap_err().kind, ErrorKind::AlreadyExists);
    c.logs.create_log_group("/ecs/x".into(), Tags::new()).await.unwrap();
    assert_eq!(c.logs.create_log_group("/ecs/x".into(), Tags::new()).await.unwrap_err().kind, ErrorKind::AlreadyExists);

    let v = c.ec2.create_vpc(vpc("10.0.0.0/16"), Tags::new()).await.unwrap();
    let a = c.ec2.create_route_table(v.clone(), "token-1".into(), Tags::new()).await.unwrap();
    let b = c.ec2.create_route_table(v.clone(), "token-1".into(), Tags::new()).await.unwrap();
    assert_eq!(a, b, "the same client token makes no second table");
    c.ec2.create_security_group("web".into(), "d".into(), v.clone(), Tags::new()).await.unwrap();
    let dup = c.ec2.create_security_group("web".into(), "d".into(), v, Tags::new()).await.unwrap_err();
    assert_eq!(dup.kind, ErrorKind::AlreadyExists);
    assert_eq!(dup.code.as_deref(), Some("InvalidGroup.Duplicate"));
}

#[tokio::test(start_paused = true)]
async fn deletes_of_things_in_use_are_dependency_violations() {
    let cloud = FakeCloud::new("us-west-2");
    let c = cloud.clients();
    let v = c.ec2.create_vpc(vpc("10.0.0.0/16"), Tags::new()).await.unwrap();
    let subnet = c
        .ec2
        .create_subnet(
            crate::graph::props::SubnetProps {
                vpc_id: RefOr::Value(v.clone()),
                cidr_block: "10.0.1.0/24".into(),
                availability_zone: crate::graph::props::AvailabilityZone::Name("us-west-2a".into()),
                map_public_ip_on_launch: false,
            },
            Tags::new(),
        )
        .await
        .unwrap();
    let igw = c.ec2.create_internet_gateway(Tags::new()).await.unwrap();
    c.ec2.attach_internet_gateway(igw.clone(), v.clone()).await.unwrap();
    assert_eq!(c.ec2.delete_vpc(v.clone()).await.unwrap_err().kind, ErrorKind::Conflict);
    assert_eq!(c.ec2.delete_internet_gateway(igw.clone()).await.unwrap_err().kind, ErrorKind::Conflict);
    c.ec2.detach_internet_gateway(igw.clone(), v.clone()).await.unwrap();
    c.ec2.delete_internet_gateway(igw).await.unwrap();
    assert_eq!(c.ec2.delete_vpc(v.clone()).await.unwrap_err().kind, ErrorKind::Conflict, "the subnet is left");
    c.ec2.delete_subnet(subnet).await.unwrap();
    c.ec2.delete_vpc(v).await.unwrap();
    assert!(cloud.snapshot().resources.is_empty(), "{:?}", cloud.snapshot());

    c.iam.create_role(role("app"), Tags::new()).await.unwrap();
    c.iam.put_role_policy("app".into(), "p".into(), serde_json::json!({"Version": "2012-10-17"})).await.unwrap();
    assert_eq!(c.iam.delete_role("app".into()).await.unwrap_err().kind, ErrorKind::Conflict);
}

#[tokio::test(start_paused = true)]
async fn nat_gateways_become_available_with_time_and_stay_listed_when_deleted() {
    let cloud = FakeCloud::new("us-west-2");
    let c = cloud.clients();
    let v = c.ec2.create_vpc(vpc("10.0.0.0/16"), Tags::new()).await.unwrap();
    let igw = c.ec2.create_internet_gateway(Tags::new()).await.unwrap();
    c.ec2.attach_internet_gateway(igw, v.clone()).await.unwrap();
    let subnet = c
        .ec2
        .create_subnet(
            crate::graph::props::SubnetProps {
                vpc_id: RefOr::Value(v),
                cidr_block: "10.0.0.0/24".into(),
                availability_zone: crate::graph::props::AvailabilityZone::Name("us-west-2b".into()),
                map_public_ip_on_launch: true,
            },
            Tags::new(),
        )
        .await
        .unwrap();
    let eip = c.ec2.allocate_address(Tags::new()).await.unwrap();
    let props = crate::graph::props::NatGatewayProps {
        subnet_id: RefOr::Value(subnet),
        allocation_id: RefOr::Value(eip.clone()),
        connectivity_type: "public".into(),
    };
    let nat = c.ec2.create_nat_gateway(props.clone(), "t".into(), Tags::new()).await.unwrap();
    assert_eq!(c.ec2.create_nat_gateway(props, "t".into(), Tags::new()).await.unwrap(), nat);
    let state =
        |c: Clients| async move { c.ec2.describe_nat_gateways(vec![]).await.unwrap()[0].state.clone().unwrap() };
    assert_eq!(state(c.clone()).await, "pending");
    tokio::time::sleep(Timing::default().nat_gateway).await;
    assert_eq!(state(c.clone()).await, "available");
    assert_eq!(c.ec2.release_address(eip.clone()).await.unwrap_err().kind, ErrorKind::Conflict);
    c.ec2.delete_nat_gateway(nat).await.unwrap();
    assert_eq!(state(c.clone()).await, "deleting");
    tokio::time::sleep(Timing::default().nat_gateway).await;
    assert_eq!(state(c.clone()).await, "deleted");
    c.ec2.release_address(eip).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn faults_latency_visibility_and_the_call_log() {
    let cloud = FakeCloud::new("us-west-2");
    let c = cloud.clients();
    cloud.fail("CreateVpc", ErrorKind::Throttled, 2);
    cloud.set_latency(Duration::from_millis(250));
    let start = Instant::now();
    for _ in 0..2 {
        let e = c.ec2.create_vpc(vpc("10.0.0.0/16"), Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert!(e.kind.is_transient());
    }
    cloud.hide_after_create("CreateVpc", 1);
    c.ec2.create_vpc(vpc("10.0.0.0/16"), Tags::new()).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(750), "every call waited its latency");
    assert!(c.ec2.describe_vpcs(vec![]).await.unwrap().is_empty(), "not visible yet");
    assert_eq!(c.ec2.describe_vpcs(vec![]).await.unwrap().len(), 1);
    assert_eq!(cloud.call_log(), ["CreateVpc", "CreateVpc", "CreateVpc", "DescribeVpcs", "DescribeVpcs"]);
    assert_eq!(c.calls.total(), 5);
    assert!(cloud.pending_faults().is_empty());
}

// ---------------------------------------------------------------- the engine

/// Options for engine tests: a fixed jitter seed, waits as in production.
fn options() -> ApplyOptions {
    ApplyOptions {
        parallelism: 10,
        retry: RetryPolicy { seed: 7, ..RetryPolicy::default() },
        waits: Waits::default(),
        ..ApplyOptions::default()
    }
}

fn seed() -> Stack {
    crate::model::seed().build().unwrap()
}

/// The steps that did not end done, with their outcome.
fn not_done(report: &crate::walk::Report) -> Vec<(String, Outcome)> {
    report
        .outcomes
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Done { .. }))
        .map(|(id, o)| (id.to_string(), o.clone()))
        .collect()
}

async fn apply_ok(stack: &Stack, clients: &Clients) -> ApplyReport {
    let report = apply(stack, clients, options(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", not_done(&report.report));
    report
}

/// The changes of `plan` that are not no-ops, as `(id, action)`.
fn changes(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.id.to_string(), c.action)).collect()
}

async fn assert_converged(stack: &Stack, clients: &Clients) {
    let plan = plan(stack, clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
}

/// Live objects of the stack per type must match the graph exactly (one VPC, one NAT
/// per zone, ...): nothing duplicated, nothing missing.
fn assert_exactly_the_graph(cloud: &FakeCloud, stack: &Stack) {
    let graph = Graph::from_stack(stack).unwrap();
    let snapshot = cloud.snapshot();
    let mut have: BTreeMap<ResourceType, usize> = BTreeMap::new();
    for r in snapshot.of_stack(&stack.name) {
        // Every revision of a family carries the tags; count families.
        if r.resource_type != ResourceType::TaskDefinition || r.state.as_deref() == Some("ACTIVE") {
            *have.entry(r.resource_type).or_insert(0) += 1;
        }
    }
    // Mount targets cannot carry tags: count those of the stack's file systems.
    have.insert(ResourceType::MountTarget, snapshot.count(ResourceType::MountTarget));
    // Task definitions: one family each, however many revisions.
    let families: BTreeSet<&str> = snapshot
        .of_stack(&stack.name)
        .filter(|r| r.resource_type == ResourceType::TaskDefinition)
        .filter_map(|r| r.name.as_deref())
        .collect();
    have.insert(ResourceType::TaskDefinition, families.len());
    let mut want = graph.count_by_type();
    want.retain(|_, n| *n > 0);
    have.retain(|_, n| *n > 0);
    assert_eq!(have, want, "live objects of the stack per type");
}

#[tokio::test(start_paused = true)]
async fn apply_from_empty_then_plan_has_no_changes() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = seed();
    let first = plan(&stack, &clients).await.unwrap();
    let graph = Graph::from_stack(&stack).unwrap();
    assert_eq!(first.summary.add, graph.resources().len());
    let report = apply_ok(&stack, &clients).await;
    assert_eq!(report.report.outcomes.len(), graph.resources().len());
    assert_converged(&stack, &clients).await;
    assert_exactly_the_graph(&cloud, &stack);
    for name in ["product-web", "products"] {
        let service = cloud.service(name).unwrap();
        assert_eq!((service.status.deployments.len(), service.status.running), (1, 2), "{service:?}");
        assert!(service.status.events[0].message.contains("has reached a steady state"), "{service:?}");
    }
    // A second apply changes nothing: its only writes take and release the stack lock.
    cloud.clear_call_log();
    let again = apply_ok(&stack, &clients).await;
    assert!(again.report.outcomes.is_empty());
    let writes: Vec<String> = cloud
        .call_log()
        .into_iter()
        .filter(|op| !["Describe", "List", "Get"].iter().any(|p| op.starts_with(p)))
        .collect();
    assert_eq!(writes, ["PutParameter", "DeleteParameter"]);
    assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None);
}

#[tokio::test(start_paused = true)]
async fn an_image_change_is_one_new_revision_and_one_service_update() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    let v2 =
        crate::model::seed_with_image("products", "registry.example.com/microservices/products:v2").build().unwrap();
    let plan = plan(&v2, &clients).await.unwrap();
    assert_eq!(
        changes(&plan),
        [("task-definition/products".to_owned(), Action::Update), ("service/products".to_owned(), Action::Update)],
        "{}",
        plan.render()
    );
    assert_eq!((plan.summary.add, plan.summary.change, plan.summary.replace, plan.summary.destroy), (0, 2, 0, 0));
    let report = apply_ok(&v2, &clients).await;
    let applied: Vec<String> = report.report.outcomes.keys().map(ToString::to_string).collect();
    assert_eq!(applied, ["service/products", "task-definition/products"]);
    assert_converged(&v2, &clients).await;
    // A new revision; the engine leaves the old one registered (running tasks and
    // rollbacks may still need it).
    let snapshot = cloud.snapshot();
    assert_eq!(snapshot.revisions("mcsv-poc-products"), [(1, "ACTIVE".to_owned()), (2, "ACTIVE".to_owned())]);
    assert_eq!(snapshot.revisions("mcsv-poc-product-web"), [(1, "ACTIVE".to_owned())]);
    let service = cloud.service("products").unwrap();
    assert!(service.task_definition.ends_with("task-definition/mcsv-poc-products:2"), "{service:?}");
    assert_eq!((service.status.deployments.len(), service.status.running), (1, 2));
    assert_exactly_the_graph(&cloud, &v2);
}

#[tokio::test(start_paused = true)]
async fn removing_a_service_deletes_its_resources_and_nothing_else() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = seed();
    apply_ok(&stack, &clients).await;
    let smaller = crate::model::seed_without("products").build().unwrap();
    let before: BTreeSet<String> =
        Graph::from_stack(&stack).unwrap().resources().iter().map(|r| r.id.to_string()).collect();
    let after: BTreeSet<String> =
        Graph::from_stack(&smaller).unwrap().resources().iter().map(|r| r.id.to_string()).collect();
    let gone: BTreeSet<String> = before.difference(&after).cloned().collect();
    assert!(gone.contains("service/products") && gone.contains("log-group/products"), "{gone:?}");

    let plan = plan(&smaller, &clients).await.unwrap();
    let planned: BTreeSet<String> = changes(&plan)
        .into_iter()
        .map(|(id, action)| {
            assert_eq!(action, Action::Delete, "{id}: {}", plan.render());
            id
        })
        .collect();
    assert_eq!(planned, gone, "{}", plan.render());

    // The log group is data: refused without delete_data, and nothing changes.
    cloud.clear_call_log();
    let refused = apply(&smaller, &clients, options(), None, &()).await.unwrap_err();
    assert!(matches!(&refused, crate::apply::ApplyError::DataLoss(ids) if ids == &["log-group/products"]), "{refused}");
    // Reads only, but for the stack lock taken and released.
    assert!(cloud.call_log().iter().all(|op| op.starts_with("Describe")
        || op.starts_with("List")
        || op.starts_with("Get")
        || op == "PutParameter"
        || op == "DeleteParameter"));
    assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None);

    let report = apply(&smaller, &clients, ApplyOptions { delete_data: true, ..options() }, None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", not_done(&report.report));
    let deleted: BTreeSet<String> = report.report.outcomes.keys().map(ToString::to_string).collect();
    assert_eq!(deleted, gone);
    assert_converged(&smaller, &clients).await;
    assert_exactly_the_graph(&cloud, &smaller);
    let snapshot = cloud.snapshot();
    assert!(snapshot.revisions("mcsv-poc-products").iter().all(|(_, s)| s == "INACTIVE"), "{snapshot:?}");
    assert_eq!(cloud.service("products").unwrap().status.status, "INACTIVE");
    assert_eq!(cloud.service("product-web").unwrap().status.running, 2);
}

#[tokio::test(start_paused = true)]
async fn a_failed_deployment_is_reported_with_the_ecs_events() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    cloud.fail_deployments_of("products");
    let broken = crate::model::seed_with_image("products", "registry.example.com/microservices/products:broken")
        .build()
        .unwrap();
    let report = apply(&broken, &clients, options(), None, &()).await.unwrap();
    assert!(matches!(report.report.outcomes[&"task-definition/products".into()], Outcome::Done { .. }));
    let Outcome::Failed { error, attempts } = &report.report.outcomes[&"service/products".into()] else {
        panic!("{:#?}", report.report)
    };
    assert_eq!(*attempts, 1, "a failed deployment is not retried");
    assert!(error.contains("deployment of products failed"), "{error}");
    assert!(error.contains("ECS deployment circuit breaker: tasks failed to start."), "{error}");
    assert!(error.contains("(service products) (deployment ecs-svc/"), "{error}");
    assert!(error.contains("deployment failed: tasks failed to start."), "{error}");
    // ECS rolled the service back to the revision that worked.
    let service = cloud.service("products").unwrap();
    assert!(service.task_definition.ends_with(":1"), "{service:?}");
    // The next plan still wants the new image deployed.
    let plan = plan(&broken, &clients).await.unwrap();
    assert_eq!(changes(&plan), [("service/products".to_owned(), Action::Update)], "{}", plan.render());
    // Once the image works, apply converges.
    cloud.heal_deployments_of("products");
    apply_ok(&broken, &clients).await;
    assert_converged(&broken, &clients).await;
}

#[tokio::test(start_paused = true)]
async fn throttling_outages_and_late_visibility_are_retried_to_success() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = seed();
    cloud.fail("CreateVpc", ErrorKind::Throttled, 2);
    cloud.fail("CreateTargetGroup", ErrorKind::Unavailable, 1);
    cloud.fail("RegisterTaskDefinition", ErrorKind::Throttled, 1);
    cloud.fail("CreateLogGroup", ErrorKind::Unavailable, 1);
    cloud.fail("PutRolePolicy", ErrorKind::Throttled, 1);
    cloud.fail("DescribeServices", ErrorKind::Unavailable, 2);
    cloud.fail("DescribeMountTargets", ErrorKind::Throttled, 1);
    cloud.hide_after_create("CreateNatGateway", 3);
    cloud.hide_after_create("CreateLoadBalancer", 2);
    cloud.hide_after_create("CreateAutoScalingGroup", 1);
    let report = apply(&stack, &clients, options(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", not_done(&report.report));
    assert!(cloud.pending_faults().is_empty(), "{:?}", cloud.pending_faults());
    let retried: BTreeSet<String> = report
        .report
        .outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Done { attempts } if *attempts > 1))
        .map(|(id, _)| id.to_string())
        .collect();
    assert!(retried.contains("vpc"), "{retried:?}");
    assert_converged(&stack, &clients).await;
    assert_exactly_the_graph(&cloud, &stack);
}

#[tokio::test(start_paused = true)]
async fn an_apply_stopped_after_any_step_is_completed_by_the_next() {
    let stack = seed();
    let steps = Graph::from_stack(&stack).unwrap().resources().len();
    // One step at a time calling AWS, the steps waiting for AWS meanwhile may finish
    // beside the k-th; ten at a time, the steps running at the stop are abandoned
    // half-way (in their waits) and others may have finished too; with slow calls,
    // abandoned in the middle of AWS calls as well.
    let variants = [(1, Duration::ZERO), (10, Duration::ZERO), (10, Duration::from_millis(100))];
    for ((parallelism, latency), k) in variants.into_iter().flat_map(|v| (1..=steps).map(move |k| (v, k))) {
        let cloud = FakeCloud::new("us-west-2");
        cloud.set_latency(latency);
        let clients = cloud.clients();
        let run = ApplyOptions { parallelism, ..options() };
        let stopped = apply(&stack, &clients, ApplyOptions { stop_after: Some(k), ..run }, None, &()).await.unwrap();
        let done = stopped.report.ids(|o| matches!(o, Outcome::Done { .. })).len();
        assert!(done >= k, "k = {k}, parallelism {parallelism}, latency {latency:?}: {done}");
        let report = apply(&stack, &clients, run, None, &()).await.unwrap();
        assert!(report.report.succeeded(), "k = {k}: {:#?}", not_done(&report.report));
        let plan = plan(&stack, &clients).await.unwrap();
        assert!(!plan.has_changes(), "k = {k}: {}", plan.render());
        assert_exactly_the_graph(&cloud, &stack);
        let snapshot = cloud.snapshot();
        // Nothing leaked without the stack's tags either.
        assert_eq!(snapshot.count(ResourceType::Eip), 2, "k = {k}");
        assert_eq!(snapshot.count(ResourceType::NatGateway), 2, "k = {k}");
        assert_eq!(snapshot.count(ResourceType::Vpc), 1, "k = {k}");
        assert_eq!(snapshot.count(ResourceType::LoadBalancer), 1, "k = {k}");
        assert_eq!(snapshot.count(ResourceType::IamRole), 4, "k = {k}");
        // Besides the stack's own objects, only its two untaggable mount targets.
        let live = snapshot.resources.iter().filter(|r| r.is_live()).count();
        assert_eq!(live, snapshot.of_stack("mcsv-poc").count() + 2, "k = {k}");
    }
}

#[tokio::test(start_paused = true)]
async fn destroy_keeps_data_unless_asked_and_never_touches_foreign_objects() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = seed();
    // Foreign objects, some under the stack's own name prefixes.
    let other = tags(&[(crate::model::STACK_TAG, "other")]);
    let foreign_vpc = clients.ec2.create_vpc(vpc("10.10.0.0/16"), other.clone()).await.unwrap();
    clients.iam.create_role(role("mcsv-poc-us-west-2-someone-else"), Tags::new()).await.unwrap();
    clients.logs.create_log_group("/ecs/mcsv-poc/someone-else".into(), Tags::new()).await.unwrap();
    let foreign = cloud.snapshot();
    apply_ok(&stack, &clients).await;

    let options =
        DestroyOptions { retry: RetryPolicy { seed: 7, ..RetryPolicy::default() }, ..DestroyOptions::default() };
    // A list approved before something appeared is refused, and nothing is deleted.
    let (shown, _) = crate::destroy::targets(&stack, &clients, false).await.unwrap();
    let mut shown: Vec<LogicalId> = shown.into_iter().map(|r| r.id).collect();
    let unseen = shown.remove(0);
    let stale = destroy(&stack, &clients, options, Some(&shown), &()).await.unwrap_err();
    assert!(stale.to_string().contains(&format!("{unseen} appeared")), "{stale}");
    assert_converged(&stack, &clients).await;
    let report = destroy(&stack, &clients, options, None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", not_done(&report.report));
    let kept: Vec<String> = report.kept.iter().map(ToString::to_string).collect();
    assert_eq!(kept, ["file-system", "log-group/product-web", "log-group/products"]);
    let left: BTreeMap<ResourceType, usize> =
        cloud.snapshot().of_stack("mcsv-poc").fold(BTreeMap::new(), |mut m, r| {
            *m.entry(r.resource_type).or_insert(0) += 1;
            m
        });
    assert_eq!(left, BTreeMap::from([(ResourceType::FileSystem, 1), (ResourceType::LogGroup, 2)]));
    // Destroying again is a no-op for what is gone.
    let again = destroy(&stack, &clients, options, None, &()).await.unwrap();
    assert!(again.report.outcomes.is_empty(), "{:#?}", again.report);

    let options = DestroyOptions { delete_data: true, ..options };
    let report = destroy(&stack, &clients, options, None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", not_done(&report.report));
    assert!(report.kept.is_empty());
    let live: Vec<FakeResource> = cloud.snapshot().resources.into_iter().filter(FakeResource::is_live).collect();
    let foreign: Vec<FakeResource> = foreign.resources.into_iter().filter(FakeResource::is_live).collect();
    assert_eq!(live, foreign, "only the foreign objects are left");
    assert!(live.iter().any(|r| r.id == foreign_vpc));
    assert!(observe_is_empty(&stack, &clients).await);
}

async fn observe_is_empty(stack: &Stack, clients: &Clients) -> bool {
    crate::observe::observe(stack, clients).await.unwrap().is_empty()
}

/// The changes of `plan` that are replacements, with whether the old object goes first.
fn replacements(plan: &Plan) -> Vec<(String, bool)> {
    plan.changes.iter().filter(|c| c.action == Action::Replace).map(|c| (c.id.to_string(), c.delete_first)).collect()
}

#[tokio::test(start_paused = true)]
async fn an_internal_load_balancer_replaces_the_public_one_and_what_hangs_on_it() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    let public_arn = cloud
        .snapshot()
        .of_stack("mcsv-poc")
        .find(|r| r.resource_type == ResourceType::LoadBalancer)
        .unwrap()
        .id
        .clone();
    let internal = crate::model::seed().load_balancer(crate::dsl::LoadBalancer::internal()).build().unwrap();
    let plan = plan(&internal, &clients).await.unwrap();
    // The name is unique: the old one goes first, and with it what refers to it.
    assert_eq!(
        replacements(&plan),
        [
            ("load-balancer".to_owned(), true),
            ("listener/http".to_owned(), true),
            ("listener-rule/products".to_owned(), true),
        ],
        "{}",
        plan.render()
    );
    let lb = plan.changes.iter().find(|c| c.id.as_str() == "load-balancer").unwrap();
    assert_eq!(lb.reason, "scheme cannot change in place; the old one is deleted first");
    // ENDPOINT changes: new revisions, rolled out.
    let updated: BTreeSet<String> =
        changes(&plan).into_iter().filter(|(_, a)| *a == Action::Update).map(|(id, _)| id).collect();
    for id in ["task-definition/product-web", "task-definition/products", "service/product-web", "service/products"] {
        assert!(updated.contains(id), "{id}: {}", plan.render());
    }
    let report = apply_ok(&internal, &clients).await;
    // Each replacement is the old object's delete and the successor's create.
    for id in ["load-balancer", "load-balancer (old)", "listener/http (old)", "listener-rule/products (old)"] {
        assert!(report.report.outcomes.contains_key(&LogicalId::new(id)), "{id}: {:?}", report.report.outcomes.keys());
    }
    assert_converged(&internal, &clients).await;
    assert_exactly_the_graph(&cloud, &internal);
    let snapshot = cloud.snapshot();
    let lbs: Vec<&FakeResource> =
        snapshot.resources.iter().filter(|r| r.resource_type == ResourceType::LoadBalancer && r.is_live()).collect();
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    assert_ne!(lbs[0].id, public_arn, "a new load balancer");
    // And back to public.
    apply_ok(&seed(), &clients).await;
    assert_converged(&seed(), &clients).await;
}

/// Issue #10: one apply removes a service and adds another at the same path. Their
/// rules want the same priority on the listener, which AWS gives only one rule at a
/// time: the old rule goes first, then the new one is created.
#[tokio::test(start_paused = true)]
async fn a_service_replaced_by_another_at_its_path_frees_the_rule_priority_first() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    let renamed = crate::model::seed_without("products")
        .service(
            crate::dsl::Service::new("catalog", "registry.example.com/microservices/catalog:1.0", 8001)
                .count(2)
                .path("/products"),
        )
        .build()
        .unwrap();
    let plan = plan(&renamed, &clients).await.unwrap();
    let rule = |id: &str| plan.changes.iter().find(|c| c.id.as_str() == id).map(|c| c.action);
    assert_eq!(rule("listener-rule/products"), Some(Action::Delete), "{}", plan.render());
    assert_eq!(rule("listener-rule/catalog"), Some(Action::Create), "{}", plan.render());
    // The old service's log group is data: its delete needs --delete-data.
    let applied = apply(&renamed, &clients, ApplyOptions { delete_data: true, ..options() }, None, &()).await.unwrap();
    assert!(applied.report.succeeded(), "{:#?}", not_done(&applied.report));
    assert_converged(&renamed, &clients).await;
    assert_exactly_the_graph(&cloud, &renamed);
    let log = cloud.call_log();
    let deleted = log.iter().position(|op| op == "DeleteRule").expect("the old rule is deleted");
    let created = log.iter().rposition(|op| op == "CreateRule").expect("the new rule is created");
    assert!(deleted < created, "the old rule must go before its priority is taken again: {log:?}");
}

#[tokio::test(start_paused = true)]
async fn a_new_port_replaces_the_target_group_and_the_service_bound_to_it() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    let moved = crate::model::seed_without("products")
        .service(
            crate::dsl::Service::new("products", "registry.example.com/microservices/products:latest", 9001)
                .count(2)
                .path("/products")
                .policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        )
        .build()
        .unwrap();
    let plan = plan(&moved, &clients).await.unwrap();
    assert_eq!(
        replacements(&plan),
        [
            ("target-group/products".to_owned(), true),
            ("listener-rule/products".to_owned(), true),
            ("service/products".to_owned(), true),
        ],
        "{}",
        plan.render()
    );
    let service = plan.changes.iter().find(|c| c.id.as_str() == "service/products").unwrap();
    assert!(service.reason.starts_with("refers to target-group/products, which is replaced"), "{}", service.reason);
    apply_ok(&moved, &clients).await;
    assert_converged(&moved, &clients).await;
    assert_exactly_the_graph(&cloud, &moved);
    let service = cloud.service("products").unwrap();
    assert_eq!((service.status.status.as_str(), service.status.running), ("ACTIVE", 2), "{service:?}");
}

#[tokio::test(start_paused = true)]
async fn an_access_point_is_replaced_new_one_first_and_the_old_one_deleted_once_unused() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    let other_user =
        crate::model::seed().file_system(crate::dsl::FileSystem::encrypted().posix_user(2000, 2000)).build().unwrap();
    let plan = plan(&other_user, &clients).await.unwrap();
    assert_eq!(
        replacements(&plan),
        [("access-point/product-web".to_owned(), false), ("access-point/products".to_owned(), false)],
        "{}",
        plan.render()
    );
    let order = Order::default();
    let report = apply(&other_user, &clients, options(), None, &order).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", not_done(&report.report));
    assert_converged(&other_user, &clients).await;
    assert_exactly_the_graph(&cloud, &other_user);
    // The new access points first; each old one only once the role's policy, the task
    // definition and the service (stable on the new revision) had moved off it.
    let events = order.0.lock().unwrap().clone();
    let at = |what: &str| events.iter().position(|e| e == what).unwrap_or_else(|| panic!("{what} in {events:?}"));
    for s in ["product-web", "products"] {
        assert!(at(&format!("done access-point/{s}")) < at(&format!("started task-definition/{s}")), "{events:?}");
        for user in [format!("role/task/{s}"), format!("task-definition/{s}"), format!("service/{s}")] {
            assert!(at(&format!("done {user}")) < at(&format!("started access-point/{s} (old)")), "{user}: {events:?}");
        }
    }
}

/// Records when steps start and finish, in order.
#[derive(Clone, Default)]
struct Order(Arc<Mutex<Vec<String>>>);

impl crate::walk::Observer for Order {
    fn event(&self, event: &crate::walk::Event) {
        use crate::walk::Event;
        let line = match event {
            Event::Started { id } => format!("started {id}"),
            Event::Done { id, .. } => format!("done {id}"),
            _ => return,
        };
        self.0.lock().unwrap().push(line);
    }
}

#[tokio::test(start_paused = true)]
async fn knobs_turned_after_the_first_apply_are_updated_in_place_and_back() {
    use crate::dsl::{Cluster, HealthCheck, LoadBalancer};
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let first = seed();
    apply_ok(&first, &clients).await;
    let turned = crate::model::seed()
        .cluster(
            Cluster::ec2("t3.medium").min_instances(2).max_instances(7).key_name("ops").admin_cidr("203.0.113.0/24"),
        )
        .load_balancer(LoadBalancer::public().idle_timeout(Duration::from_secs(120)))
        .tag("team", "shop")
        .with_service("test", "product-web", |s| {
            s.health_check(HealthCheck::new("/healthz").interval(Duration::from_secs(30)))
                .deregistration_delay(Duration::from_secs(10))
                .log_retention_days(7)
                .policy("arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
        })
        .build()
        .unwrap();
    let plan = plan(&turned, &clients).await.unwrap();
    assert_eq!((plan.summary.add, plan.summary.replace, plan.summary.destroy), (0, 0, 0), "{}", plan.render());
    for id in [
        "launch-template",
        "autoscaling-group",
        "security-group/instances",
        "target-group/product-web",
        "role/task/product-web",
        "load-balancer",
        "vpc",
    ] {
        assert!(changes(&plan).contains(&(id.to_owned(), Action::Update)), "{id}: {}", plan.render());
    }
    apply_ok(&turned, &clients).await;
    assert_converged(&turned, &clients).await;
    // Back: rules revoked, the policy detached, the tags removed.
    apply_ok(&first, &clients).await;
    assert_converged(&first, &clients).await;
    assert_exactly_the_graph(&cloud, &first);
}

// ---------------------------------------------------------------- the fault matrix

/// What a phase of the matrix runs: its preparation (not faulted) and itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Apply the seed stack from nothing.
    Create,
    /// Apply the seed stack, then roll out a new image of one service.
    Update,
    /// Apply the seed stack, then destroy it with its data.
    Destroy,
}

/// One fault of the matrix.
#[derive(Debug, Clone, Copy)]
enum Injected {
    Throttled,
    Unavailable,
    TimedOut,
    /// The object a create makes is not listed by the next describes.
    NotYetVisible,
}

/// The stack the fault matrix runs: the seed with `products` on Fargate, autoscaled on
/// CPU and on requests per target, so that every kind's calls are faulted.
fn matrix() -> crate::dsl::StackBuilder {
    crate::model::seed().with_service("test", "products", |s| {
        s.fargate().autoscaling(crate::dsl::Autoscaling::new(2, 4).cpu(60).requests_per_target(500))
    })
}

fn updated() -> Stack {
    matrix()
        .with_service("test", "products", |s| s.image("registry.example.com/microservices/products:1.6"))
        .build()
        .unwrap()
}

/// Runs `phase` on a fresh cloud, `inject` applied after its preparation; the calls it
/// made and how many step attempts were retries.
async fn run_phase(phase: Phase, inject: impl FnOnce(&FakeCloud)) -> (FakeCloud, Vec<String>, u32) {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    if phase != Phase::Create {
        apply_ok(&matrix().build().unwrap(), &clients).await;
    }
    cloud.clear_call_log();
    inject(&cloud);
    let report = match phase {
        Phase::Create => apply_ok(&matrix().build().unwrap(), &clients).await.report,
        Phase::Update => apply_ok(&updated(), &clients).await.report,
        Phase::Destroy => {
            let options = DestroyOptions { delete_data: true, retry: options().retry, ..DestroyOptions::default() };
            let done = destroy(&matrix().build().unwrap(), &clients, options, None, &()).await.unwrap();
            assert!(done.report.succeeded(), "{:#?}", not_done(&done.report));
            done.report
        }
    };
    let retries =
        report.outcomes.values().map(|o| if let Outcome::Done { attempts } = o { attempts - 1 } else { 0 }).sum();
    (cloud.clone(), cloud.call_log(), retries)
}

/// Issue #10: for every AWS operation each phase calls (taken from the fake's call log,
/// so a new call is covered without listing it), throttling, a 5xx, a timeout and, for
/// creates, an object not yet visible: every run completes with exactly the declared
/// objects, the injected faults are all met, and the retries stay bounded.
#[tokio::test(start_paused = true)]
async fn every_operation_survives_throttling_outages_timeouts_and_late_visibility() {
    let mut survived = 0;
    for phase in [Phase::Create, Phase::Update, Phase::Destroy] {
        let (_, log, baseline) = run_phase(phase, |_| {}).await;
        let operations: BTreeSet<String> = log.into_iter().collect();
        assert!(operations.len() > 5, "{phase:?} calls {operations:?}");
        // The matrix's stack makes every kind's calls, Application Auto Scaling's included.
        let scaling = match phase {
            Phase::Create => ["RegisterScalableTarget", "PutScalingPolicy"],
            Phase::Update => ["DescribeScalableTargets", "DescribeScalingPolicies"],
            Phase::Destroy => ["DeregisterScalableTarget", "DeleteScalingPolicy"],
        };
        assert!(scaling.iter().all(|op| operations.contains(*op)), "{phase:?} calls {operations:?}");
        for op in &operations {
            let creates = ["Create", "Register", "Allocate", "Put"].iter().any(|p| op.starts_with(p));
            let faults: Vec<Injected> = [Injected::Throttled, Injected::Unavailable, Injected::TimedOut]
                .into_iter()
                .chain(creates.then_some(Injected::NotYetVisible))
                .collect();
            for fault in faults {
                // Shown with a failure: which run it was.
                eprintln!("{phase:?} {op} {fault:?}");
                let (cloud, _, retries) = run_phase(phase, |cloud| match fault {
                    Injected::Throttled => cloud.fail(op, ErrorKind::Throttled, 2),
                    Injected::Unavailable => cloud.fail(op, ErrorKind::Unavailable, 2),
                    Injected::TimedOut => cloud.time_out(op, 2),
                    Injected::NotYetVisible => cloud.hide_after_create(op, 2),
                })
                .await;
                assert!(cloud.pending_faults().is_empty(), "{phase:?} {op} {fault:?}: {:?}", cloud.pending_faults());
                // Two faults cost their two retries and a few more of steps they delay
                // (a security group deleted later meets its peer's DependencyViolation).
                assert!(retries <= baseline + 10, "{phase:?} {op} {fault:?}: {retries} retries, {baseline} without");
                let clients = cloud.clients();
                match phase {
                    Phase::Create => assert_exactly_the_graph(&cloud, &matrix().build().unwrap()),
                    Phase::Update => assert_exactly_the_graph(&cloud, &updated()),
                    Phase::Destroy => {
                        let snapshot = cloud.snapshot();
                        let left: Vec<_> = snapshot
                            .of_stack("mcsv-poc")
                            .filter(|r| !crate::resources::is_gone(r.state.as_deref()))
                            .map(|r| r.id.clone())
                            .collect();
                        assert!(left.is_empty(), "{phase:?} {op} {fault:?}: left {left:?}");
                    }
                }
                if phase != Phase::Destroy {
                    let stack = if phase == Phase::Create { matrix().build().unwrap() } else { updated() };
                    // Time passes: what was hidden after its create shows up (the fake
                    // counts describes, not seconds).
                    for _ in 0..2 {
                        crate::observe::observe(&stack, &clients).await.unwrap();
                    }
                    assert_converged(&stack, &clients).await;
                }
                survived += 1;
            }
        }
    }
    // The matrix is not empty by accident: the three phases make dozens of calls.
    assert!(survived > 150, "{survived} faulted runs");
}

/// Permanent errors fail the step at once (one attempt) with AWS's error and a hint;
/// a dependency truly missing fails within the short not-found window, not the budget.
#[tokio::test(start_paused = true)]
async fn permanent_errors_fail_at_once_and_missing_dependencies_fail_early() {
    for (kind, hint) in [(ErrorKind::AccessDenied, "permission"), (ErrorKind::Invalid, "refused a value")] {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        cloud.fail("CreateVpc", kind, 1);
        let report = apply(&seed(), &clients, options(), None, &()).await.unwrap().report;
        let Some(Outcome::Failed { error, attempts }) = report.outcomes.get(&LogicalId::new("vpc")) else {
            panic!("{:#?}", report.outcomes.get(&LogicalId::new("vpc")));
        };
        assert_eq!(*attempts, 1, "{kind:?}: {error}");
        assert!(error.contains("CreateVpc") && error.contains(hint), "{kind:?}: {error}");
    }
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    cloud.fail("CreateVpc", ErrorKind::NotFound, 1000);
    let started = tokio::time::Instant::now();
    let report = apply(&seed(), &clients, options(), None, &()).await.unwrap().report;
    let Some(Outcome::Failed { error, .. }) = report.outcomes.get(&LogicalId::new("vpc")) else { panic!() };
    assert!(error.contains("still not found"), "{error}");
    assert!(started.elapsed() <= crate::walk::MISSING_WINDOW + Duration::from_secs(5), "{:?}", started.elapsed());
}

/// A stack whose services all run on Fargate: no instances, and the whole cycle works.
#[tokio::test(start_paused = true)]
async fn an_all_fargate_stack_runs_without_instances_and_destroys_to_nothing() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = crate::model::seed()
        .with_service("test", "products", crate::dsl::Service::fargate)
        .with_service("test", "product-web", |s| s.capacity(crate::dsl::Capacity::FargateSpot))
        .build()
        .unwrap();
    apply_ok(&stack, &clients).await;
    assert_converged(&stack, &clients).await;
    assert_exactly_the_graph(&cloud, &stack);
    let snapshot = cloud.snapshot();
    for t in [
        ResourceType::LaunchTemplate,
        ResourceType::AutoScalingGroup,
        ResourceType::CapacityProvider,
        ResourceType::InstanceProfile,
    ] {
        assert_eq!(snapshot.of_stack("mcsv-poc").filter(|r| r.resource_type == t).count(), 0, "{t}");
    }
    let options = DestroyOptions { delete_data: true, ..DestroyOptions::default() };
    assert!(destroy(&stack, &clients, options, None, &()).await.unwrap().report.succeeded());
    let left: Vec<_> = cloud
        .snapshot()
        .of_stack("mcsv-poc")
        .filter(|r| !crate::resources::is_gone(r.state.as_deref()))
        .map(|r| r.id.clone())
        .collect();
    assert!(left.is_empty(), "left {left:?}");
}

/// The autoscaler's count stands: a plan after it moved the service is a no-op, and an
/// image change deploys without resetting the count. Destroy deregisters the target.
#[tokio::test(start_paused = true)]
async fn the_autoscalers_count_is_never_reset() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = matrix().build().unwrap();
    apply_ok(&stack, &clients).await;
    assert_converged(&stack, &clients).await;
    assert_eq!(cloud.service("products").unwrap().status.desired, 2, "started at the minimum");
    // The autoscaler scales out.
    clients
        .ecs
        .update_service(crate::aws::ServiceUpdate {
            cluster: "mcsv-poc".into(),
            service: "products".into(),
            desired_count: Some(4),
            ..crate::aws::ServiceUpdate::default()
        })
        .await
        .unwrap();
    assert_converged(&stack, &clients).await;
    apply_ok(&updated(), &clients).await;
    assert_eq!(cloud.service("products").unwrap().status.desired, 4, "the deployment kept the autoscaler's count");
    let targets = clients.scaling.describe_scalable_targets(vec!["service/mcsv-poc/products".into()]).await.unwrap();
    assert_eq!((targets[0].props.min_capacity, targets[0].props.max_capacity), (2, 4));
    let policies = clients.scaling.describe_scaling_policies("service/mcsv-poc/products".into()).await.unwrap();
    assert_eq!(policies.len(), 2);
    assert!(policies.iter().any(|p| p.attrs.get("resource_label").is_some_and(|l| l.starts_with("app/mcsv-poc/"))));
    let options = DestroyOptions { delete_data: true, ..DestroyOptions::default() };
    assert!(destroy(&updated(), &clients, options, None, &()).await.unwrap().report.succeeded());
    assert!(clients
        .scaling
        .describe_scalable_targets(vec!["service/mcsv-poc/products".into()])
        .await
        .unwrap()
        .is_empty());
    assert!(clients.scaling.describe_scaling_policies("service/mcsv-poc/products".into()).await.unwrap().is_empty());
}

/// Moving a service from EC2 to Fargate and back converges each way.
#[tokio::test(start_paused = true)]
async fn a_service_moves_between_ec2_and_fargate() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed(), &clients).await;
    let fargate = crate::model::seed().with_service("test", "products", crate::dsl::Service::fargate).build().unwrap();
    let p = plan(&fargate, &clients).await.unwrap();
    let replaced: Vec<_> = changes(&p).into_iter().filter(|(_, a)| *a == Action::Replace).map(|(id, _)| id).collect();
    assert_eq!(replaced, ["target-group/products", "listener-rule/products", "service/products"]);
    apply_ok(&fargate, &clients).await;
    assert_converged(&fargate, &clients).await;
    assert_exactly_the_graph(&cloud, &fargate);
    apply_ok(&seed(), &clients).await;
    assert_converged(&seed(), &clients).await;
    assert_exactly_the_graph(&cloud, &seed());
}
