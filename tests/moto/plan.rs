//! plan against moto: through the command line, as a user runs it.

use ecs_kit::cli::{self, NoKnobs};
use ecs_kit::graph::Graph;
use ecs_kit::{service, Cluster, FileSystem, LoadBalancer, Network, Stack, StackBuilder};

use super::create::create_all;
use super::harness::{clients, unique_stack};

pub(super) fn seed(name: &str, products_image: &str) -> StackBuilder {
    Stack::builder(name)
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5))
        .load_balancer(LoadBalancer::public())
        .file_system(FileSystem::encrypted())
        .service(service! { name: "product-web", image: "registry.example.com/microservices/product-web:latest", port: 8000, count: 2, path: "/" })
        .service(service! { name: "products", image: products_image, port: 8001, count: 2, path: "/products",
            policies: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] })
}

/// Runs the command line `args` on `stack` against moto, as a program without a person
/// at a terminal: exit code, stdout and stderr.
pub(super) fn run(args: &[&str], stack: StackBuilder) -> (u8, String, String) {
    let mut parsed = cli::parse::<NoKnobs, _, _>(std::iter::once("product-web").chain(args.iter().copied()))
        .expect("valid arguments");
    parsed.interactive = Some(false);
    parsed.colour = Some(false);
    parsed.signals = Some(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::execute_with(&parsed, stack, Some(clients()), &mut out, &mut err).unwrap_or_else(|e| {
        err.extend(format!("error: {e}").bytes());
        1
    });
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[test]
fn a_new_stack_plans_every_resource_as_create() {
    let (code, out, err) = run(
        &["plan", "--detailed-exitcode"],
        seed(&unique_stack("plan-new"), "registry.example.com/microservices/products:latest"),
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.ends_with("Plan: 41 to add, 0 to change, 0 to replace, 0 to destroy.\n"), "{out}");
}

#[test]
fn an_unchanged_stack_plans_no_changes_and_an_image_change_two_updates() {
    let name = unique_stack("plan-same");
    let image = "registry.example.com/microservices/products:latest";
    let stack = seed(&name, image).build().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(create_all(&Graph::from_stack(&stack).unwrap(), &clients()));

    let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("No changes"), "{out}");

    let (code, out, err) =
        run(&["plan", "--json", "--detailed-exitcode"], seed(&name, "registry.example.com/microservices/products:2.0"));
    assert_eq!(code, 2, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["summary"], serde_json::json!({"add": 0, "change": 2, "replace": 0, "destroy": 0}));
    let changed: Vec<(&str, &str, &str)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| (c["id"].as_str().unwrap(), c["action"].as_str().unwrap(), c["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changed,
        [
            ("task-definition/products", "update", "image changed"),
            ("service/products", "update", "task definition changed")
        ]
    );
}

#[test]
fn the_example_stack_applies_from_empty_then_plans_no_changes_and_rolls_out_an_image() {
    let name = unique_stack("apply");
    let first = "registry.example.com/microservices/products:latest";
    let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, first));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Plan: 41 to add, 0 to change, 0 to replace, 0 to destroy."), "{out}");
    assert!(out.ends_with("Apply: 41 done, 0 failed, 0 skipped.\n"), "{out}");

    let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, first));
    assert_eq!(code, 0, "an apply must leave nothing to change:\n{out}{err}");

    let second = "registry.example.com/microservices/products:2.0";
    let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, second));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{out}");
    let (code, out, _) = run(&["plan", "--detailed-exitcode"], seed(&name, second));
    assert_eq!(code, 0, "{out}");

    // Applying again changes nothing.
    let (code, out, _) = run(&["apply", "--auto-approve"], seed(&name, second));
    assert_eq!(code, 0);
    assert!(out.starts_with("No changes"), "{out}");
}

#[test]
fn apply_without_a_terminal_and_without_auto_approve_changes_nothing() {
    let name = unique_stack("refuse");
    let image = "registry.example.com/microservices/products:latest";
    let (code, out, err) = run(&["apply"], seed(&name, image));
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains(
            "apply needs confirmation: answer `yes` on a terminal, or pass --auto-approve; nothing was changed"
        ),
        "{err}"
    );
    assert!(out.contains("Plan: 41 to add"), "the plan is shown first: {out}");
    let (code, out, _) = run(&["plan", "--detailed-exitcode"], seed(&name, image));
    assert_eq!(code, 2);
    assert!(out.ends_with("Plan: 41 to add, 0 to change, 0 to replace, 0 to destroy.\n"), "nothing was created: {out}");
}

#[test]
fn destroy_keeps_data_unless_asked_and_never_touches_foreign_resources() {
    use ecs_kit::aws::Tags;
    use ecs_kit::graph::props::VpcProps;

    let name = unique_stack("destroy");
    let image = "registry.example.com/microservices/products:latest";
    let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");

    // Look-alikes that are not the stack's: a log group under its prefix and a VPC with
    // its Name tag.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = clients();
    let foreign_group = format!("/ecs/{name}/someone-elses");
    runtime
        .block_on(aws.logs.create_log_group(foreign_group.clone(), Tags::from([("owner".into(), "someone".into())])))
        .unwrap();
    let vpc = VpcProps { cidr_block: "10.99.0.0/16".into(), enable_dns_support: true, enable_dns_hostnames: true };
    let foreign_vpc =
        runtime.block_on(aws.ec2.create_vpc(vpc, Tags::from([("Name".into(), format!("{name}-vpc"))]))).unwrap();
    let foreign_role = format!("{name}-us-west-2-someone-elses");
    let role = ecs_kit::graph::props::RoleProps {
        role_name: foreign_role.clone(),
        path: "/".into(),
        description: "not the stack's".into(),
        assume_role_policy: serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        managed_policy_arns: vec![],
        inline_policies: Default::default(),
    };
    runtime.block_on(aws.iam.create_role(role, Tags::new())).unwrap();

    // Without a terminal and without --auto-approve, destroy shows what it would delete
    // and refuses.
    let (code, out, err) = run(&["destroy"], seed(&name, image));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("Destroy: 38 to destroy;"), "{out}");
    assert!(err.contains("destroy needs confirmation: answer `yes` on a terminal, or pass --auto-approve"), "{err}");
    let (code, out, _) = run(&["plan", "--detailed-exitcode"], seed(&name, image));
    assert_eq!(code, 0, "nothing was deleted: {out}");

    let (code, out, err) = run(&["destroy", "--auto-approve"], seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    let kept = "kept: file-system, log-group/product-web, log-group/products (pass --delete-data to delete them)";
    assert!(out.contains(&format!("Destroy: 38 to destroy; {kept}.")), "{out}");
    assert!(out.contains(&format!("Destroy: 38 deleted, 0 failed, 0 skipped; {kept}.")), "{out}");
    let stack = seed(&name, image).build().unwrap();
    let live = runtime.block_on(ecs_kit::observe::observe(&stack, &aws)).unwrap();
    let left: Vec<&str> = live.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(left, ["file-system", "log-group/product-web", "log-group/products"]);

    let (code, out, err) = run(&["destroy", "--auto-approve", "--delete-data"], seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Destroy: 3 deleted, 0 failed, 0 skipped."), "{out}");
    let live = runtime.block_on(ecs_kit::observe::observe(&stack, &aws)).unwrap();
    assert!(live.is_empty(), "{:#?}", live.resources);
    let (code, out, _) = run(&["destroy", "--auto-approve", "--delete-data"], seed(&name, image));
    assert_eq!((code, out.as_str()), (0, "\nDestroy: 0 to destroy.\n"));

    // The look-alikes are still there.
    let groups = runtime.block_on(aws.logs.describe_log_groups(format!("/ecs/{name}/"))).unwrap();
    assert_eq!(groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), [foreign_group.as_str()]);
    let vpcs = runtime
        .block_on(aws.ec2.describe_vpcs(vec![ecs_kit::aws::Filter::new("vpc-id", [foreign_vpc.clone()])]))
        .unwrap();
    assert_eq!(vpcs.len(), 1);
    let roles = runtime.block_on(aws.iam.get_roles(vec![foreign_role.clone()], None)).unwrap();
    assert_eq!(roles.iter().map(|r| r.props.role_name.as_str()).collect::<Vec<_>>(), [foreign_role.as_str()]);
}

#[test]
fn a_removed_service_is_deleted_and_nothing_else_with_its_logs_only_when_asked() {
    let name = unique_stack("remove");
    let image = "registry.example.com/microservices/products:latest";
    let with_reviews = || {
        seed(&name, image)
            .service(service! { name: "reviews", image: "nginx:1.25", port: 8002, path: "/reviews", memory: 128 })
    };
    let (code, out, err) = run(&["apply", "--auto-approve"], with_reviews());
    assert_eq!(code, 0, "{out}{err}");

    // Its log group holds data: without --delete-data nothing happens.
    let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, image));
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("the plan destroys data (log-group/reviews): pass --delete-data to allow it; nothing was changed"),
        "{err}"
    );
    let (code, _, _) = run(&["plan", "--detailed-exitcode"], with_reviews());
    assert_eq!(code, 0, "nothing was changed");

    let (code, out, err) = run(&["apply", "--auto-approve", "--delete-data"], seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Plan: 0 to add, 0 to change, 0 to replace, 7 to destroy."), "{out}");
    for id in [
        "service/reviews",
        "task-definition/reviews",
        "log-group/reviews",
        "listener-rule/reviews",
        "target-group/reviews",
        "access-point/reviews",
        "role/task/reviews",
    ] {
        assert!(out.contains(&format!("  - {id} ")), "{id} in:\n{out}");
    }
    let (code, out, _) = run(&["plan", "--detailed-exitcode"], seed(&name, image));
    assert_eq!(code, 0, "{out}");
}

/// The per-service lines of `--stats` on stderr: (AWS service, calls), and the total.
fn stats(err: &str) -> (u64, Vec<(String, u64)>) {
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
fn no_op_plan_call_budget() {
    // The example's no-op plan, counted by the SDK adapters' interceptor (every HTTP
    // call, each page included) and printed by `plan --stats`; then with 8 more services.
    let mut totals = Vec::new();
    for extra in [0usize, 8] {
        let name = unique_stack("plan-calls");
        let image = "registry.example.com/microservices/products:latest";
        let mut declared = seed(&name, image);
        for i in 0..extra {
            declared = declared.service(service! { name: format!("svc{i}"), image: "nginx:1.25", port: 8080, path: format!("/svc{i}"), memory: 64, cpu: 16 });
        }
        let stack = declared.clone().build().unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(create_all(&Graph::from_stack(&stack).unwrap(), &clients()));
        let (code, out, err) = run(&["plan", "--detailed-exitcode", "--stats"], declared);
        assert_eq!(code, 0, "{out}{err}");
        let (total, services) = stats(&err);
        assert_eq!(services.iter().map(|(_, n)| n).sum::<u64>(), total, "{err}");
        println!("no-op plan, {} services: {err}", 2 + extra);
        assert!(!err.contains("DescribeTaskDefinition"), "the recorded revisions are not read again: {err}");
        // The tags of the load balancer, the target groups and the log groups from the
        // tagging index in one call; of the listener and rules (moto's index lacks
        // them), 20 a DescribeTags.
        assert!(err.contains("GetResources 1"), "the tagging index, once: {err}");
        assert!(err.contains("DescribeTags 1,"), "the listener's and rules' tags at once: {err}");
        assert!(!err.contains("ListTagsForResource"), "the log groups' tags are indexed: {err}");
        assert!(err.contains("DescribeNetworkInterfaces 1"), "both mount targets' groups at once: {err}");
        assert!(!err.contains("DescribeMountTargetSecurityGroups"), "{err}");
        assert!(!err.contains("DescribeLaunchTemplateVersions"), "the template records its version: {err}");
        assert!(!err.contains("DescribeAvailabilityZones"), "every subnet exists: {err}");
        assert!(!err.contains("ListRoles"), "descriptions are not read: {err}");
        totals.push(total);
    }
    // Measured: 33 for the example (EC2 11, ELBv2 8, ECS 5, EFS 3, IAM 2, Logs 1,
    // Auto Scaling 1, Application Auto Scaling 1, Resource Groups Tagging 1), and 1 more
    // per routed service: its target group's attributes (no batch form in AWS). The
    // mount targets' security groups are their network interfaces', read in one call.
    // The revision each service runs is recorded on it, and the launch template's
    // default version on the template, so neither is read; the zones are not read when
    // every subnet exists; nor are the roles' descriptions (ListRoles).
    assert!(totals[0] <= 33, "the example's no-op plan made {} calls", totals[0]);
    // 8 more services: 8 target groups' attributes; their rules' tags fit the one
    // DescribeTags (20 a call) and their groups' and log groups' the one GetResources.
    assert!(totals[1] - totals[0] <= 8, "8 more services cost {} more calls", totals[1] - totals[0]);
}

#[test]
fn changes_made_outside_are_seen_by_the_batched_reads_and_reverted() {
    // A mount target's security groups (read from its network interface) and a log
    // group's tags (read from the tagging index) changed outside ecs-kit.
    use ecs_kit::graph::{Properties, RefOr, ResourceType};
    let name = unique_stack("outside");
    let image = "registry.example.com/microservices/products:latest";
    let stack = seed(&name, image).build().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = clients();
    runtime.block_on(create_all(&Graph::from_stack(&stack).unwrap(), &aws));
    let live = runtime.block_on(ecs_kit::observe::observe(&stack, &aws)).unwrap();
    let target = live.resources.iter().find(|r| r.resource_type == ResourceType::MountTarget).unwrap();
    let Properties::MountTarget(p) = &*target.properties else { panic!() };
    let other = live
        .resources
        .iter()
        .find(|r| {
            r.resource_type == ResourceType::SecurityGroup
                && !p.security_groups.iter().any(|g| matches!(g, RefOr::Ref(x) if x.id == r.id))
        })
        .unwrap();
    runtime
        .block_on(aws.efs.modify_mount_target_security_groups(target.aws_id.clone(), vec![other.aws_id.clone()]))
        .unwrap();
    let group = live.get("log-group/products").unwrap();
    let tags = ecs_kit::aws::Tags::from([("owner".to_owned(), "someone".to_owned())]);
    runtime.block_on(aws.logs.tag_resource(group.arn.clone().unwrap(), tags)).unwrap();

    let (code, out, err) = run(&["plan", "--json", "--detailed-exitcode"], seed(&name, image));
    assert_eq!(code, 2, "{out}{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changed: Vec<(&str, &str)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| (c["id"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(changed, [("log-group/products", "update"), (target.id.as_str(), "update")], "{out}");

    let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, image));
    assert_eq!(code, 0, "converged: {out}{err}");
}
