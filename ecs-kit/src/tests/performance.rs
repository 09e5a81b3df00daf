//! What performance can be checked without timing anything: call budgets of a no-op
//! plan on the fake cloud, and the shape of `--stats`. Speed itself is measured by the
//! benchmark (`cargo run --release -p ecs-kit-bench`), never asserted here.

use std::time::Duration;

use crate::apply::{apply, ApplyOptions};
use crate::aws::Clients;
use crate::cli::{self, NoKnobs};
use crate::dsl::{Service, StackBuilder};
use crate::testing::{FakeCloud, Timing};

/// The example, with `extra` more services without routes.
fn example(extra: usize) -> StackBuilder {
    let mut b = crate::model::seed();
    for i in 0..extra {
        b = b.service(Service::new(format!("worker{i}"), "nginx:1.25", 8080));
    }
    b
}

/// An applied `stack` on a fake without waits, and its clients with the counts reset.
async fn applied(stack: &crate::Stack) -> (FakeCloud, Clients) {
    let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
    let clients = cloud.clients();
    let report = apply(stack, &clients, ApplyOptions::default(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:?}", report.report);
    clients.calls.reset();
    (cloud, clients)
}

/// Calls of a no-op plan of the example with `extra` more services, and which.
async fn no_op_plan_calls(extra: usize) -> (u64, Vec<crate::aws::CallCount>) {
    let stack = example(extra).build().unwrap();
    let (_cloud, clients) = applied(&stack).await;
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    (clients.calls.total(), clients.calls.snapshot())
}

#[tokio::test(start_paused = true)]
async fn a_no_op_plan_stays_within_its_call_budget() {
    // Calls of ecs-kit's AWS traits (one may be several HTTP calls in the SDK adapters:
    // the moto test `no_op_plan_call_budget` counts those). The example: one call per
    // type read (the scalable targets too; their policies only when there are some), one
    // GetResources for the tags of the load balancer, target groups and log groups, and
    // one DescribeTags for what the index lacks (the listener and rules: the fake indexes
    // as moto does), one DescribeNetworkInterfaces for both mount targets' security
    // groups; no task definition (the services record theirs), no launch template
    // version (the template records its own), no zones (every subnet exists).
    let (example, calls) = no_op_plan_calls(0).await;
    println!("example: {example} calls");
    assert!(example <= 28, "the example's no-op plan made {example} calls: {calls:?}");
    for read in
        ["DescribeTaskDefinition", "DescribeLaunchTemplateVersions", "DescribeAvailabilityZones", "ListTagsForResource"]
    {
        assert!(!calls.iter().any(|c| c.operation == read), "{read}: {calls:?}");
    }
    for tags in ["DescribeTags", "GetResources"] {
        assert_eq!(calls.iter().filter(|c| c.operation == tags).map(|c| c.calls).sum::<u64>(), 1, "{calls:?}");
    }
    // 60 more: past the 50 resource ids DescribeScalableTargets takes at once.
    let (more, calls) = no_op_plan_calls(60).await;
    println!("60 more: {more} calls");
    assert!(more - example <= 8, "60 more services cost {} more calls: {calls:?}", more - example);
}

#[tokio::test(start_paused = true)]
async fn zones_are_read_only_for_subnets_to_make_and_a_subnet_keeps_its_zone() {
    use crate::dsl::Network;
    let stack = example(0).build().unwrap();
    let (cloud, clients) = applied(&stack).await;
    // The region withdraws a zone the stack uses: its subnets stay where they are.
    cloud.set_zones(&["us-west-2b", "us-west-2c", "us-west-2d"]);
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(count(&clients, "DescribeAvailabilityZones"), 0, "{:?}", clients.calls.snapshot());

    // Subnets to make need the list: a new stack in the same region reads it once and
    // places its subnets in the first zones listed now.
    let other = crate::Stack::builder("other")
        .region("us-west-2")
        .network(Network::new("10.20.0.0/16").availability_zones(2))
        .cluster(crate::dsl::Cluster::ec2("t3.small"))
        .service(Service::new("web", "nginx:1.25", 80))
        .build()
        .unwrap();
    clients.calls.reset();
    let plan = crate::plan::plan(&other, &clients).await.unwrap();
    assert_eq!(count(&clients, "DescribeAvailabilityZones"), 1, "{:?}", clients.calls.snapshot());
    let report = apply(&other, &clients, ApplyOptions::default(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:?}\n{}", report.report, plan.render());
    let zones = |stack: &'static str| {
        let clients = clients.clone();
        async move {
            let mut zones: Vec<String> = clients
                .ec2
                .describe_subnets(vec![crate::aws::Filter::tag(crate::model::STACK_TAG, stack)])
                .await
                .unwrap()
                .into_iter()
                .filter_map(|s| match s.props.availability_zone {
                    crate::graph::props::AvailabilityZone::Name(z) => Some(z),
                    crate::graph::props::AvailabilityZone::Index { .. } => None,
                })
                .collect();
            zones.sort();
            zones.dedup();
            zones
        }
    };
    assert_eq!(zones("mcsv-poc").await, ["us-west-2a", "us-west-2b"]);
    assert_eq!(zones("other").await, ["us-west-2b", "us-west-2c"]);
    assert!(!crate::plan::plan(&other, &clients).await.unwrap().has_changes());
}

/// The example's products service as DescribeServices finds it.
async fn service(clients: &Clients) -> crate::aws::Found<crate::graph::props::ServiceProps> {
    let found = clients.ecs.describe_services("mcsv-poc".into(), vec!["products".into()]).await.unwrap();
    found.into_iter().next().unwrap().found
}

/// How often the no-op plan's discovery called `operation`.
fn count(clients: &Clients, operation: &str) -> u64 {
    clients.calls.snapshot().iter().filter(|c| c.operation == operation).map(|c| c.calls).sum()
}

#[tokio::test(start_paused = true)]
async fn a_revision_a_service_records_is_known_without_reading_it_and_nothing_else_is() {
    use crate::aws::{ServiceUpdate, Tags};
    use crate::model::REVISION_TAG;
    let stack = crate::model::seed().build().unwrap();
    let (_cloud, clients) = applied(&stack).await;
    let products = service(&clients).await;
    let record = products.tags.get(REVISION_TAG).cloned().unwrap_or_default();
    assert!(record.starts_with("1 ") && record.len() == 2 + 16, "{record:?} on {:?}", products.tags);

    // Untouched: no revision is read, and the plan is a no-op.
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(count(&clients, "DescribeTaskDefinition"), 0);

    // A record that does not match the declaration (forged, or of another content):
    // the revision is read, and the truth is the same.
    let arn = products.arn.clone().unwrap();
    let forged: Tags = [(REVISION_TAG.to_owned(), "1 0123456789abcdef".to_owned())].into();
    clients.ecs.tag_resource(arn.clone(), forged).await.unwrap();
    clients.calls.reset();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(count(&clients, "DescribeTaskDefinition"), 1, "{:?}", clients.calls.snapshot());

    // A deployment made outside ecs-kit (revision 2, another image): the record names
    // revision 1, the service runs 2, so the plan reads what runs and reverts it.
    let mut td = clients.ecs.describe_task_definition("mcsv-poc-products".into()).await.unwrap().unwrap();
    td.props.container_definitions[0].image = "registry.example.com/microservices/products:ci-7".into();
    let ci = clients.ecs.register_task_definition(td.props, td.tags).await.unwrap();
    let update = ServiceUpdate {
        cluster: "mcsv-poc".into(),
        service: "products".into(),
        task_definition: Some(ci),
        ..ServiceUpdate::default()
    };
    clients.ecs.update_service(update).await.unwrap();
    let good: Tags = [(REVISION_TAG.to_owned(), record)].into();
    clients.ecs.tag_resource(arn, good).await.unwrap();
    clients.calls.reset();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    let text = plan.render();
    assert!(text.contains("products:ci-7"), "the plan names the image it replaces:\n{text}");
    assert!(plan.has_changes());
    assert_eq!(count(&clients, "DescribeTaskDefinition"), 1, "{:?}", clients.calls.snapshot());

    // Applying it records the new revision; the next plan reads nothing again.
    let report = apply(&stack, &clients, ApplyOptions::default(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:?}", report.report);
    let record = service(&clients).await.tags.get(REVISION_TAG).cloned().unwrap_or_default();
    assert!(record.starts_with("3 "), "{record:?}");
    clients.calls.reset();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(count(&clients, "DescribeTaskDefinition"), 0, "{:?}", clients.calls.snapshot());

    // A changed declaration: the digest differs, so the revision is read for the diff.
    let changed =
        crate::model::seed_with_image("products", "registry.example.com/microservices/products:1.5").build().unwrap();
    let plan = crate::plan::plan(&changed, &clients).await.unwrap();
    assert!(plan.render().contains("products:1.5"), "{}", plan.render());
    assert_eq!(count(&clients, "DescribeTaskDefinition"), 1, "{:?}", clients.calls.snapshot());
}

/// Runs the command line `args` on `declared` against `clients`: exit code, stdout, stderr.
fn run(clients: &Clients, args: &[&str], declared: StackBuilder) -> (u8, String, String) {
    let mut parsed = cli::parse::<NoKnobs, _, _>(std::iter::once("x").chain(args.iter().copied())).unwrap();
    parsed.interactive = Some(false);
    parsed.colour = Some(false);
    parsed.signals = Some(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::execute_with(&parsed, declared, Some(clients.clone()), &mut out, &mut err)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&err)));
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// The per-service lines of `--stats`: (service, calls).
fn stats_lines(err: &str) -> (u64, Vec<(String, u64)>) {
    let mut lines = err.lines().skip_while(|l| !l.starts_with("Stats: "));
    let head = lines.next().unwrap_or_else(|| panic!("no stats in:\n{err}"));
    let total = head["Stats: ".len()..].split_whitespace().next().unwrap().parse().unwrap();
    let services = lines
        .take_while(|l| !l.trim_start().starts_with("waiting for AWS"))
        .map(|l| {
            // `  calls  seconds  service: operation calls, ...`
            let (head, _) = l.split_once(':').unwrap_or_else(|| panic!("no operations in {l:?}"));
            let words: Vec<&str> = head.split_whitespace().collect();
            (words[2..].join(" "), words[0].parse().unwrap())
        })
        .collect();
    (total, services)
}

#[test]
fn plan_and_apply_stats_count_the_calls_per_service_and_the_waits() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stack = example(0).build().unwrap();
    let (cloud, clients) = runtime.block_on(applied(&stack));
    cloud.set_latency(Duration::from_millis(2));
    let (code, out, err) = run(&clients, &["plan", "--stats"], example(0));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("No changes"), "the plan itself is unchanged:\n{out}");
    let (total, services) = stats_lines(&err);
    let expected: Vec<(String, u64)> = clients.calls.by_service().into_iter().map(|s| (s.service, s.calls)).collect();
    assert_eq!(services, expected, "{err}");
    // Each service's line lists its operations with their counts.
    for c in clients.calls.snapshot() {
        let line = err.lines().find(|l| l.contains(&format!(" {}: ", c.service))).unwrap();
        assert!(line.contains(&format!("{} {}", c.operation, c.calls)), "{c:?} in {line}");
    }
    assert_eq!(total, clients.calls.total());
    assert_eq!(services.iter().map(|(_, n)| n).sum::<u64>(), total);
    // Every call waited its latency: the time in calls is at least calls x 2 ms.
    let in_calls = clients.calls.by_service().iter().map(|s| s.time).sum::<Duration>();
    assert!(in_calls >= Duration::from_millis(2 * total), "{in_calls:?} for {total} calls");
    assert!(err.contains("waiting for AWS: ") && !err.contains("settle"), "{err}");

    // An image update applied: the calls of plan and apply, and the steps' waits.
    clients.calls.reset();
    let changed = crate::model::seed_with_image("products", "registry.example.com/microservices/products:1.5");
    let (code, out, err) = run(&clients, &["apply", "--auto-approve", "--stats"], changed);
    assert_eq!(code, 0, "{out}{err}");
    let (total, services) = stats_lines(&err);
    assert_eq!(total, clients.calls.total(), "{err}");
    assert!(services.iter().any(|(s, n)| s == "ecs" && *n > 0), "{err}");
    assert!(err.contains("in steps waiting for objects to settle"), "{err}");
    // Without --stats: nothing of it.
    let (_, out, err) = run(&clients, &["plan"], crate::model::seed());
    assert!(!out.contains("Stats:") && !err.contains("Stats:"), "{out}{err}");
}

#[tokio::test(start_paused = true)]
async fn a_launch_template_records_its_default_version_and_follows_the_latest_ami() {
    use crate::dsl::Cluster;
    use crate::graph::props::ImageSource;
    let cluster = Cluster::ec2("t3.small").min_instances(2).max_instances(5).ami(crate::AmiPolicy::Latest);
    let stack = example(0).cluster(cluster).build().unwrap();
    let (cloud, clients) = applied(&stack).await;
    let template = || async {
        let name = crate::graph::Graph::from_stack(&stack).unwrap().get("launch-template").unwrap().name.clone();
        let filter = vec![crate::aws::Filter::new("launch-template-name", [name])];
        clients.ec2.describe_launch_templates(filter).await.unwrap().remove(0)
    };
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(count(&clients, "DescribeLaunchTemplateVersions"), 0, "{:?}", clients.calls.snapshot());

    // A newer AMI: a new default version boots it, and records it; the next one gets a
    // version of its own (not the last one's, by its client token).
    for (ami, version) in [("ami-0feedface0000001", "2"), ("ami-0feedface0000002", "3")] {
        cloud.set_parameter(crate::model::DEFAULT_AMI_PARAMETER, ami);
        let report = apply(&stack, &clients, ApplyOptions::default(), None, &()).await.unwrap();
        assert!(report.report.succeeded(), "{:?}", report.report);
        let t = template().await;
        assert_eq!(t.props.image, ImageSource::ImageId(ami.into()));
        assert_eq!(t.attrs.get("default_version").map(String::as_str), Some(version));
        clients.calls.reset();
        let plan = crate::plan::plan(&stack, &clients).await.unwrap();
        assert!(!plan.has_changes(), "{}", plan.render());
        assert_eq!(count(&clients, "DescribeLaunchTemplateVersions"), 0, "{:?}", clients.calls.snapshot());
    }
    let t = template().await;

    // A default version made outside ecs-kit is read, and put back.
    let mut props = t.props.clone();
    props.instance_type = "t3.large".into();
    let outside = clients
        .ec2
        .create_launch_template_version(t.id.clone(), props, "ami-0feedface0000002".into(), "outside".into())
        .await
        .unwrap();
    clients.ec2.set_default_launch_template_version(t.id.clone(), outside).await.unwrap();
    clients.calls.reset();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert_eq!(count(&clients, "DescribeLaunchTemplateVersions"), 1, "{:?}", clients.calls.snapshot());
    let changed: Vec<&str> =
        plan.changes.iter().filter(|c| c.action != crate::diff::Action::NoOp).map(|c| c.id.as_str()).collect();
    assert_eq!(changed, ["launch-template"], "{}", plan.render());
    let report = apply(&stack, &clients, ApplyOptions::default(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:?}", report.report);
    assert_eq!(template().await.props.instance_type, "t3.small");
    clients.calls.reset();
    assert!(!crate::plan::plan(&stack, &clients).await.unwrap().has_changes());
    assert_eq!(count(&clients, "DescribeLaunchTemplateVersions"), 0, "{:?}", clients.calls.snapshot());
}
