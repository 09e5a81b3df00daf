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
    // type read (the scalable targets too; their policies only when there are some), the
    // zones and the AMI; each added service: its task definition.
    let (example, calls) = no_op_plan_calls(0).await;
    assert!(example <= 28, "the example's no-op plan made {example} calls: {calls:?}");
    // 60 more: past the 50 resource ids DescribeScalableTargets takes at once.
    let (more, _) = no_op_plan_calls(60).await;
    assert!(more - example <= 60, "60 more services cost {} more calls", more - example);
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
            let words: Vec<&str> = l.split_whitespace().collect();
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
