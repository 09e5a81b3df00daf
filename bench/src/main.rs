//! ecs-kit's benchmark, on the in-memory fake cloud (no AWS account, no SDK build):
//!
//! ```text
//! cargo run --release -p ecs-kit-bench            # every scenario
//! cargo run --release -p ecs-kit-bench -- quick   # without the 5,000-service run
//! cargo run --release -p ecs-kit-bench -- profile 1000 5   # one plan's phases, then 5 more
//! ```
//!
//! `profile N R` prints the CPU and the allocations of each phase of a no-op plan of N
//! services (build, graph, observe, diff, digest, the whole plan), then of R more plans:
//! a run to read with a profiler.
//!
//! It prints one table: per scenario and number of services, the AWS calls per service
//! (as the fake counts them: one per call of ecs-kit's AWS traits), the makespan in
//! virtual time (tokio's paused clock; the fake's default waits for AWS and 100 ms per
//! call where latency is on), the critical path of the same steps, their ratio, the CPU
//! time of this thread and the peak memory of the process.
//!
//! Scenarios:
//! - `noop-plan`: the plan of an applied, untouched stack (discovery plus diff);
//! - `apply`: an apply from nothing, 100 ms per call, the fake's default waits (NAT
//!   90 s, load balancer 60 s, EFS 10 s, mount targets 60 s, deployments 60 s) at the
//!   default parallelism; the critical path is that of the step durations of an
//!   unbounded run;
//! - `image-update`: one service's image changed, then applied;
//! - `cpu:*`: the same at scale without latency or waits: build + graph, plan from
//!   nothing, apply, no-op plan (build, graph and plan; the median of 5, after the
//!   apply in the same process);
//! - `rolling:*`: a rolling deploy of 2 services x 2 tasks in the fake with AWS's
//!   semantics (new targets healthy after threshold x interval, old ones draining for
//!   the deregistration delay), with ecs-kit's defaults and with AWS's own (5 checks
//!   x 30 s, 300 s draining).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_kit::apply::{apply, ApplyOptions};
use ecs_kit::aws::Clients;
use ecs_kit::graph::{Graph, LogicalId};
use ecs_kit::testing::{FakeCloud, Timing};
use ecs_kit::walk::{Event, Observer};
use ecs_kit::{Cluster, FileSystem, HealthCheck, LoadBalancer, Network, Service, Stack};
use tokio::time::Instant;

/// The example's two services, then `extra` more without routes (workers).
fn stack(services: usize, aws_defaults: bool) -> Stack {
    let check = |path: &str| {
        let hc = HealthCheck::new(path);
        if aws_defaults {
            hc.interval(Duration::from_secs(30)).healthy_threshold(5)
        } else {
            hc
        }
    };
    let web = |s: Service| if aws_defaults { s.deregistration_delay(Duration::from_secs(300)) } else { s };
    let mut b = Stack::builder("bench")
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5).desired_instances(2))
        .load_balancer(LoadBalancer::public())
        .file_system(FileSystem::encrypted())
        .service(web(Service::new("product-web", "registry.example.com/microservices/product-web:latest", 8000)
            .count(2)
            .path("/")
            .health_check(check("/"))))
        .service(web(Service::new("products", "registry.example.com/microservices/products:latest", 8001)
            .count(2)
            .path("/products")
            .health_check(check("/products"))));
    for i in 2..services {
        b = b.service(Service::new(format!("worker{i}"), "nginx:1.25", 8080).count(1).memory(64).cpu(16));
    }
    b.build().expect("a valid stack")
}

/// CPU time of this thread so far (the runtime is single-threaded), from the thread's
/// CPU clock: to the nanosecond, where the scheduler's statistics move in ticks.
fn cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

/// The system allocator, counting allocations (for `profile`: CPU at this scale is
/// mostly allocating and freeing).
#[global_allocator]
static ALLOCATOR: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Allocations (and reallocations) so far.
fn allocations() -> usize {
    let stats = ALLOCATOR.stats();
    stats.allocations + stats.reallocations
}

/// Resets the process's peak resident memory (Linux `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last [`reset_peak`], in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// A step's start and end.
type Span = (Option<Instant>, Option<Instant>);

/// When each step started and ended, in virtual time.
#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<BTreeMap<LogicalId, Span>>>);

impl Observer for Timeline {
    fn event(&self, event: &Event) {
        let mut t = self.0.lock().unwrap();
        match event {
            Event::Started { id } => t.entry(id.clone()).or_default().0 = Some(Instant::now()),
            Event::Done { id, .. } => t.entry(id.clone()).or_default().1 = Some(Instant::now()),
            _ => {}
        }
    }
}

impl Timeline {
    /// First start to last end.
    fn makespan(&self) -> Duration {
        let t = self.0.lock().unwrap();
        let first = t.values().filter_map(|(s, _)| *s).min();
        let last = t.values().filter_map(|(_, e)| *e).max();
        match (first, last) {
            (Some(f), Some(l)) => l - f,
            _ => Duration::ZERO,
        }
    }

    /// Each step's duration.
    fn durations(&self) -> BTreeMap<LogicalId, Duration> {
        let t = self.0.lock().unwrap();
        t.iter().filter_map(|(id, (s, e))| Some((id.clone(), (*e)? - (*s)?))).collect()
    }
}

/// The longest chain of `durations` along the graph's dependencies (an apply from
/// nothing: every step is a resource's create).
fn critical_path(graph: &Graph, durations: &BTreeMap<LogicalId, Duration>) -> Duration {
    let mut finish: BTreeMap<&LogicalId, Duration> = BTreeMap::new();
    for r in graph.resources() {
        // Dependency order: every dependency is finished first.
        let start = r.depends_on.iter().filter_map(|d| finish.get(d)).max().copied().unwrap_or_default();
        finish.insert(&r.id, start + durations.get(&r.id).copied().unwrap_or_default());
    }
    finish.values().max().copied().unwrap_or_default()
}

/// Calls per AWS service since the last reset, e.g. `ec2 12, ecs 7`.
fn calls(clients: &Clients) -> (u64, String) {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    for c in clients.calls.snapshot() {
        *by.entry(c.service.to_lowercase()).or_default() += c.calls;
    }
    let text = by.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", ");
    (by.values().sum(), text)
}

/// One line of the table.
struct Row {
    scenario: String,
    services: usize,
    calls: (u64, String),
    makespan: Option<Duration>,
    critical: Option<Duration>,
    cpu: Duration,
    peak: f64,
}

fn print(rows: &[Row]) {
    println!("| scenario | services | AWS calls (per service) | makespan | critical path | ratio | CPU ms | peak MB |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    let secs = |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
    for r in rows {
        let ratio = match (r.makespan, r.critical) {
            (Some(m), Some(c)) if !c.is_zero() => format!("{:.2}x", m.as_secs_f64() / c.as_secs_f64()),
            _ => "-".into(),
        };
        let calls = if r.calls.0 == 0 { "-".to_owned() } else { format!("{} ({})", r.calls.0, r.calls.1) };
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.0} |",
            r.scenario,
            r.services,
            calls,
            secs(r.makespan),
            secs(r.critical),
            ratio,
            r.cpu.as_secs_f64() * 1000.0,
            r.peak
        );
    }
}

fn options(parallelism: usize) -> ApplyOptions {
    ApplyOptions { parallelism, ..ApplyOptions::default() }
}

/// Applies `stack` and checks that every step succeeded.
async fn apply_ok(stack: &Stack, clients: &Clients, options: ApplyOptions, timeline: &Timeline) {
    let report = apply(stack, clients, options, None, timeline).await.expect("apply");
    assert!(report.report.succeeded(), "apply failed: {:?}", report.report);
}

/// Apply from nothing with latency and the default waits: makespan at the default
/// parallelism against the critical path of an unbounded run.
async fn apply_from_empty(services: usize) -> Row {
    let stack = stack(services, false);
    let graph = Graph::from_stack(&stack).expect("graph");
    let run = |parallelism: usize| {
        let stack = stack.clone();
        async move {
            let cloud = FakeCloud::new("us-west-2");
            cloud.set_latency(Duration::from_millis(100));
            let clients = cloud.clients();
            let timeline = Timeline::default();
            let cpu0 = cpu();
            apply_ok(&stack, &clients, options(parallelism), &timeline).await;
            (timeline, calls(&clients), cpu() - cpu0)
        }
    };
    reset_peak();
    let (unbounded, _, _) = run(100_000).await;
    let (bounded, calls, cpu) = run(0).await;
    Row {
        scenario: "apply from empty (100 ms/call)".into(),
        services,
        calls,
        makespan: Some(bounded.makespan()),
        critical: Some(critical_path(&graph, &unbounded.durations())),
        cpu,
        peak: peak_mb(),
    }
}

/// The no-op plan of an applied stack, and an image update of one service.
async fn noop_and_update(services: usize) -> Vec<Row> {
    let stack_ = stack(services, false);
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&stack_, &clients, options(0), &Timeline::default()).await;
    cloud.set_latency(Duration::from_millis(100));
    clients.calls.reset();
    reset_peak();
    let (cpu0, t0) = (cpu(), Instant::now());
    let plan = ecs_kit::plan::plan(&stack_, &clients).await.expect("plan");
    let (cpu1, wall) = (cpu() - cpu0, t0.elapsed());
    assert!(!plan.has_changes(), "an applied stack plans no changes");
    let noop = Row {
        scenario: "no-op plan (100 ms/call)".into(),
        services,
        calls: calls(&clients),
        makespan: Some(wall),
        critical: None,
        cpu: cpu1,
        peak: peak_mb(),
    };
    let mut changed = stack(services, false);
    changed.services[1].image = "registry.example.com/microservices/products:1.5".into();
    clients.calls.reset();
    let timeline = Timeline::default();
    let (cpu0, t0) = (cpu(), Instant::now());
    apply_ok(&changed, &clients, options(0), &timeline).await;
    let update = Row {
        scenario: "image update, one service (100 ms/call)".into(),
        services,
        calls: calls(&clients),
        makespan: Some(t0.elapsed()),
        critical: None,
        cpu: cpu() - cpu0,
        peak: peak_mb(),
    };
    vec![noop, update]
}

/// Build, plan, apply and no-op plan at scale, no latency, no waits.
async fn at_scale(services: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row = |scenario: &str, calls: (u64, String), cpu: Duration| {
        rows.push(Row {
            scenario: scenario.into(),
            services,
            calls,
            makespan: None,
            critical: None,
            cpu,
            peak: peak_mb(),
        });
    };
    reset_peak();
    let cpu0 = cpu();
    let s = stack(services, false);
    let graph = Graph::from_stack(&s).expect("graph");
    row(&format!("cpu: build + graph ({} resources)", graph.resources().len()), (0, String::new()), cpu() - cpu0);
    let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
    let clients = cloud.clients();
    let cpu0 = cpu();
    let plan = ecs_kit::plan::plan(&s, &clients).await.expect("plan");
    assert!(plan.has_changes());
    row("cpu: plan from empty", calls(&clients), cpu() - cpu0);
    clients.calls.reset();
    let cpu0 = cpu();
    apply_ok(&s, &clients, options(0), &Timeline::default()).await;
    row("cpu: apply from empty", calls(&clients), cpu() - cpu0);
    // The median of 5 (one run varies with what the heap holds); the plan builds the
    // graph itself.
    let mut times = Vec::new();
    let mut noop = (0, String::new());
    for _ in 0..5 {
        clients.calls.reset();
        let cpu0 = cpu();
        let s = stack(services, false);
        let plan = ecs_kit::plan::plan(&s, &clients).await.expect("plan");
        assert!(!plan.has_changes(), "an applied stack plans no changes");
        drop((plan, s));
        times.push(cpu() - cpu0);
        noop = calls(&clients);
    }
    times.sort();
    row("cpu: build + graph + no-op plan (median of 5)", noop, times[2]);
    rows
}

/// A rolling deploy of both services of the example (2 tasks each): time from the
/// apply's start to both services stable.
async fn rolling(aws_defaults: bool) -> Row {
    let timing = Timing { health_checks: true, ..Timing::default() };
    let cloud = FakeCloud::new("us-west-2").with_timing(timing);
    let clients = cloud.clients();
    let first = stack(2, aws_defaults);
    apply_ok(&first, &clients, options(0), &Timeline::default()).await;
    let mut next = stack(2, aws_defaults);
    for s in &mut next.services {
        s.image = s.image.replace(":latest", ":2");
    }
    cloud.set_latency(Duration::from_millis(100));
    clients.calls.reset();
    let timeline = Timeline::default();
    let cpu0 = cpu();
    let t0 = Instant::now();
    apply_ok(&next, &clients, options(0), &timeline).await;
    let label = if aws_defaults {
        "rolling deploy 2x2, AWS defaults (5 x 30 s checks, 300 s draining)"
    } else {
        "rolling deploy 2x2, ecs-kit defaults"
    };
    Row {
        scenario: label.into(),
        services: 2,
        calls: calls(&clients),
        makespan: Some(t0.elapsed()),
        critical: None,
        cpu: cpu() - cpu0,
        peak: peak_mb(),
    }
}

/// `profile N`: where a no-op plan of N services spends its CPU.
async fn profile(services: usize) {
    let s = stack(services, false);
    let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
    let clients = cloud.clients();
    let mut lap = {
        let mut last = (cpu(), allocations());
        move |what: &str| {
            let now = (cpu(), allocations());
            println!(
                "{what:<24} {:>8.1} ms {:>9} allocations",
                (now.0 - last.0).as_secs_f64() * 1000.0,
                now.1 - last.1
            );
            last = (cpu(), allocations());
        }
    };
    apply_ok(&s, &clients, options(0), &Timeline::default()).await;
    lap("apply");
    let s = stack(services, false);
    lap("build");
    let graph = Graph::from_stack(&s).expect("graph");
    lap("graph");
    let live = ecs_kit::observe::observe(&s, &clients).await.expect("observe");
    lap("observe");
    let changes = ecs_kit::diff::diff(&graph, &live, &ecs_kit::diff::Context::default());
    lap("diff");
    let digest = ecs_kit::plan::digest(&live);
    lap("digest");
    let plan = ecs_kit::plan::plan(&s, &clients).await.expect("plan");
    lap("plan");
    // `profile N R`: R more no-op plans, for a profiler to see them above the apply.
    let repeat: usize =
        std::env::args().skip_while(|a| a != "profile").nth(2).and_then(|r| r.parse().ok()).unwrap_or(0);
    for _ in 0..repeat {
        let s = stack(services, false);
        drop(ecs_kit::plan::plan(&s, &clients).await.expect("plan"));
    }
    if repeat > 0 {
        lap(&format!("{repeat} more plans"));
    }
    drop((changes, digest, plan, live, graph));
    lap("drop");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.iter().position(|a| a == "profile").and_then(|i| args.get(i + 1)?.parse().ok()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
        runtime.expect("a runtime").block_on(profile(n));
        return;
    }
    let quick = args.iter().any(|a| a == "quick");
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().expect("a runtime");
    let rows = runtime.block_on(async {
        let mut rows = Vec::new();
        for n in [2, 10] {
            rows.extend(noop_and_update(n).await);
        }
        for n in [2, 10, 50] {
            rows.push(apply_from_empty(n).await);
        }
        rows.push(rolling(false).await);
        rows.push(rolling(true).await);
        let scales: &[usize] = if quick { &[100, 1000] } else { &[100, 1000, 5000] };
        for n in scales {
            rows.extend(at_scale(*n).await);
        }
        rows
    });
    print(&rows);
}
