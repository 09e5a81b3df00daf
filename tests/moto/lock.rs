//! The stack lock against moto: concurrent applies of one stack, and `unlock` of a lock
//! left by a killed process.

use std::sync::{Arc, Barrier};

use ecs_kit::aws::Filter;
use ecs_kit::graph::{Graph, ResourceType};
use ecs_kit::lock::Holder;

use super::harness::{clients, unique_stack};
use super::plan::{run, seed};

const IMAGE: &str = "registry.example.com/microservices/products:latest";

/// How many live EC2 objects of each network type, and load balancers of the stack's
/// name, the account holds for stack `name`.
fn network_counts(name: &str) -> Vec<(ResourceType, usize)> {
    let aws = clients();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let owned = || vec![Filter::tag("ecs-kit:stack", name)];
    // moto ignores some tag filters (NAT gateways'): count by the tags read back.
    let ours = |tags: &ecs_kit::aws::Tags| tags.get("ecs-kit:stack").map(String::as_str) == Some(name);
    let graph = Graph::from_stack(&seed(name, IMAGE).build().unwrap()).unwrap();
    let lb_name = graph.get("load-balancer").unwrap().name.clone();
    runtime.block_on(async {
        let nat = aws.ec2.describe_nat_gateways(owned()).await.unwrap();
        macro_rules! count {
            ($call:expr) => {
                $call.await.unwrap().iter().filter(|f| ours(&f.tags)).count()
            };
        }
        vec![
            (ResourceType::Vpc, count!(aws.ec2.describe_vpcs(owned()))),
            (ResourceType::Subnet, count!(aws.ec2.describe_subnets(owned()))),
            (ResourceType::InternetGateway, count!(aws.ec2.describe_internet_gateways(owned()))),
            (ResourceType::Eip, count!(aws.ec2.describe_addresses(owned()))),
            (
                ResourceType::NatGateway,
                nat.iter()
                    .filter(|n| ours(&n.tags) && !matches!(n.state.as_deref(), Some("deleted" | "deleting" | "failed")))
                    .count(),
            ),
            (ResourceType::RouteTable, count!(aws.ec2.describe_route_tables(owned()))),
            (ResourceType::SecurityGroup, count!(aws.ec2.describe_security_groups(owned()))),
            // Load balancers by the stack's name: a duplicate would have the same one.
            (ResourceType::LoadBalancer, aws.elb.describe_load_balancers(vec![lb_name]).await.unwrap().len()),
        ]
    })
}

fn declared_counts(name: &str) -> Vec<(ResourceType, usize)> {
    let graph = Graph::from_stack(&seed(name, IMAGE).build().unwrap()).unwrap();
    [
        ResourceType::Vpc,
        ResourceType::Subnet,
        ResourceType::InternetGateway,
        ResourceType::Eip,
        ResourceType::NatGateway,
        ResourceType::RouteTable,
        ResourceType::SecurityGroup,
        ResourceType::LoadBalancer,
    ]
    .into_iter()
    .map(|t| (t, graph.resources().iter().filter(|r| r.resource_type == t).count()))
    .collect()
}

#[test]
fn two_applies_started_at_once_one_runs_the_other_fails_at_once_naming_the_holder() {
    let name = unique_stack("lock-race");
    let start = Arc::new(Barrier::new(2));
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (name, start) = (name.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                run(&["apply", "--auto-approve"], seed(&name, IMAGE))
            })
        })
        .collect();
    let mut results: Vec<(u8, String, String)> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    results.sort_by_key(|(code, _, _)| *code);
    let [(won, won_out, won_err), (lost, lost_out, lost_err)] = &results[..] else { unreachable!() };
    assert_eq!((*won, *lost), (0, 1), "exactly one runs:\n{won_out}{won_err}\n---\n{lost_out}{lost_err}");
    assert!(won_out.ends_with("Apply: 41 done, 0 failed, 0 skipped.\n"), "{won_out}");
    // The loser planned (plan takes no lock), then failed at once: no step started.
    assert!(lost_out.contains("Plan: "), "{lost_out}");
    assert!(!lost_out.contains("Apply:"), "{lost_out}");
    let lines: Vec<&str> = lost_err.lines().filter(|l| !l.starts_with("warning: ")).collect();
    assert_eq!(lines.len(), 1, "only the error, no progress: {lost_err}");
    let holder = format!("(process {}, apply) since ", std::process::id());
    assert!(lost_err.contains(&format!("error: stack {name} is locked by ")), "{lost_err}");
    assert!(lost_err.contains(&holder), "{lost_err}");
    assert!(lost_err.contains("wait for that apply to finish, or if that process is gone, run `unlock`"), "{lost_err}");

    // One copy of everything, and the lock is gone.
    assert_eq!(network_counts(&name), declared_counts(&name));
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, IMAGE));
    assert_eq!(code, 0, "{out}{err}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lock = runtime.block_on(clients().ssm.get_parameter(format!("/ecs-kit/{name}/lock"))).unwrap();
    assert_eq!(lock, None);

    // A lock left by a killed process: destroy fails naming it; unlock without a
    // terminal refuses; unlock --auto-approve breaks it; then destroy runs.
    let stale = Holder {
        token: "feedfacefeedfacefeedfacefeedface".into(),
        user: "ci".into(),
        host: "runner-3".into(),
        pid: 999_999,
        operation: "apply".into(),
        since: 1_764_620_496,
        version: "0.1.0".into(),
    };
    runtime
        .block_on(clients().ssm.put_parameter(
            format!("/ecs-kit/{name}/lock"),
            serde_json::to_string(&stale).unwrap(),
            false,
        ))
        .unwrap();
    let (code, _, err) = run(&["destroy", "--auto-approve", "--delete-data"], seed(&name, IMAGE));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "error: stack {name} is locked by ci on runner-3 (process 999999, apply) since 2025-12-01T20:21:36Z, "
        )),
        "{err}"
    );
    assert_eq!(network_counts(&name), declared_counts(&name), "nothing was deleted");

    let (code, out, err) = run(&["unlock"], seed(&name, IMAGE));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with(&format!("Stack {name} is locked by ci on runner-3 (process 999999, apply)")), "{out}");
    assert!(err.contains("unlock needs confirmation: answer `yes` on a terminal, or pass --auto-approve"), "{err}");
    let (code, out, err) = run(&["unlock", "--auto-approve"], seed(&name, IMAGE));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with(&format!("Unlocked stack {name}.\n")), "{out}");
    let (code, out, _) = run(&["unlock"], seed(&name, IMAGE));
    assert_eq!((code, out), (0, format!("Stack {name} is not locked.\n")));

    let (code, out, err) = run(&["destroy", "--auto-approve", "--delete-data"], seed(&name, IMAGE));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("Destroy: 41 deleted, 0 failed, 0 skipped.\n"), "{out}");
    let lock = runtime.block_on(clients().ssm.get_parameter(format!("/ecs-kit/{name}/lock"))).unwrap();
    assert_eq!(lock, None, "destroy released its lock");
}

/// Issue #10: an apply from nothing stopped as a crash would stop it (running steps
/// abandoned where they are, the rest not started) at several points, then applied
/// again: one copy of everything, nothing left to change, the lock released.
#[test]
fn an_apply_stopped_at_any_point_is_completed_by_the_next_with_one_copy_of_everything() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for k in [3, 12, 25] {
        let name = unique_stack(&format!("crash-{k}"));
        let stack = seed(&name, IMAGE).build().unwrap();
        let aws = clients();
        let options = ecs_kit::apply::ApplyOptions { stop_after: Some(k), ..Default::default() };
        let stopped = runtime.block_on(ecs_kit::apply::apply(&stack, &aws, options, None, &())).unwrap();
        assert!(!stopped.report.succeeded(), "stopped after {k} steps: {:#?}", stopped.report);
        let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, IMAGE));
        assert_eq!(code, 0, "after a stop at {k}:\n{out}{err}");
        assert_eq!(network_counts(&name), declared_counts(&name), "after a stop at {k}");
        let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, IMAGE));
        assert_eq!(code, 0, "after a stop at {k}:\n{out}{err}");
        let lock = runtime.block_on(aws.ssm.get_parameter(format!("/ecs-kit/{name}/lock"))).unwrap();
        assert_eq!(lock, None, "after a stop at {k}");
        let (code, out, err) = run(&["destroy", "--auto-approve", "--delete-data"], seed(&name, IMAGE));
        assert_eq!(code, 0, "{out}{err}");
    }
}
