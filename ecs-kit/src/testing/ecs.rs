//! The fake's ECS: capacity providers, clusters, task definitions, and services whose
//! deployments progress with time (or fail and roll back).

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{aws_error, epoch, hex, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, Timing};
use crate::aws::{
    literal, AwsError, AwsResult, Deployment, EcsApi, ErrorKind, Found, LiveService, ServiceEvent, ServiceStatus,
    ServiceUpdate, Tags,
};
use crate::aws::{DeploymentRollback, HookStatus, ServiceDeployment, StoppedTask};
use crate::graph::props::{
    CapacityProviderProps, ClusterProps, CountOwner, RefOr, ServiceProps, StrategyItem, TaskDefinitionProps,
};
use crate::graph::props::{DeploymentConfiguration, DeploymentStrategy, HookStage, Percent, ServiceLoadBalancer};
use crate::graph::ResourceType;
use std::collections::BTreeSet;
use std::time::Duration;

const SERVICE: &str = "ecs";
/// What the circuit breaker says when tasks do not start.
const BREAKER_REASON: &str = "ECS deployment circuit breaker: tasks failed to start.";

#[derive(Debug, Clone)]
pub(crate) struct Provider {
    arn: String,
    props: CapacityProviderProps,
    status: String,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    arn: String,
    insights: String,
    providers: Vec<String>,
    strategy: Vec<StrategyItem>,
    status: String,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskDef {
    arn: String,
    props: TaskDefinitionProps,
    status: String,
    meta: Meta,
}

#[derive(Debug, Clone)]
struct Dep {
    id: String,
    status: String,
    task_definition: String,
    desired: u32,
    running: u32,
    rollout: String,
    reason: Option<String>,
    started: Instant,
    fails: bool,
    /// How long its tasks take to start and pass their health checks.
    lasts: Duration,
    /// Exit code of the essential container when its tasks crash.
    exit_code: i32,
    failed_tasks: u32,
    /// The service deployment (ListServiceDeployments) it belongs to.
    record: String,
    /// Whether it rolls a failed deployment back.
    is_rollback: bool,
    /// The target group its tasks register with.
    tg: Option<String>,
    /// Its share of production traffic, in tenths of a percent.
    traffic: u32,
    /// Its share of test traffic (on the test listener's rule), in tenths of a percent.
    test: u32,
    /// When its tasks were all healthy (traffic shifting starts then).
    healthy_at: Option<Instant>,
    /// Its lifecycle hooks' runs, one per hook and stage.
    hooks: Vec<HookRun>,
}

/// A lifecycle hook at one stage of a deployment: how long the function takes to
/// answer there, and why it fails, if it does.
#[derive(Debug, Clone)]
pub(crate) struct HookRun {
    id: String,
    arn: String,
    stage: HookStage,
    takes: Duration,
    fails: Option<String>,
}

/// What ECS says when a hook fails a deployment.
const HOOK_REASON: &str = "deployment failed: hook execution failure(s) detected";

impl Dep {
    /// Whether time has nothing left to change in it: rolled out, all tasks running.
    fn settled(&self) -> bool {
        self.rollout != "IN_PROGRESS" && self.running == self.desired
    }
}

/// A service deployment as DescribeServiceDeployments reports it.
#[derive(Debug, Clone)]
struct Record {
    arn: String,
    status: String,
    reason: Option<String>,
    stage: String,
    config: DeploymentConfiguration,
    created: Instant,
    updated: Instant,
    finished: Option<Instant>,
    /// Why, when and to which task definition it was rolled back.
    rollback: Option<(String, Instant, String)>,
    triggered: Vec<String>,
    task_definition: String,
    requested: u32,
    running: u32,
    traffic: Option<u32>,
    failures: u32,
    /// The hooks of the current stage and how they are doing.
    hooks: Vec<HookStatus>,
}

#[derive(Debug, Clone)]
pub(crate) struct Svc {
    name: String,
    cluster: String,
    arn: String,
    props: ServiceProps,
    status: String,
    /// Primary first.
    deployments: Vec<Dep>,
    /// Newest first.
    events: Vec<ServiceEvent>,
    token: String,
    since: Instant,
    meta: Meta,
    /// Service deployments, oldest first.
    records: Vec<Record>,
    /// The target group production traffic goes to between deployments.
    serving_tg: Option<String>,
    /// Stopped tasks, newest first.
    stopped: Vec<StoppedTask>,
}

/// A service as the fake holds it, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeService {
    /// Service name.
    pub name: String,
    /// Cluster name.
    pub cluster: String,
    /// The task definition ARN the service runs (after a rollback: the previous one).
    pub task_definition: String,
    /// Status, counts, deployments and events, as DescribeServices reports them.
    pub status: ServiceStatus,
}

/// ECS objects.
#[derive(Debug, Default)]
pub(crate) struct EcsState {
    origin: Option<Instant>,
    providers: BTreeMap<String, Provider>,
    clusters: BTreeMap<String, Cluster>,
    /// By (family, revision).
    task_defs: BTreeMap<(String, u32), TaskDef>,
    /// The last revision number of each family (numbers are never reused).
    revisions: BTreeMap<String, u32>,
    services: Vec<Svc>,
    /// CloudWatch alarms in state `ALARM`.
    pub alarms: BTreeSet<String>,
    /// The newest service of each (cluster, name): its index in `services`.
    newest: BTreeMap<(String, String), usize>,
    /// Services that time may still change (a deployment in progress, draining, counts
    /// not reached): the only ones `advance` looks at.
    unsettled: BTreeSet<usize>,
    /// Revisions deleted (`DELETE_IN_PROGRESS`) not yet gone.
    deleting: usize,
}

impl Svc {
    fn status_view(&self) -> ServiceStatus {
        let deployments: Vec<Deployment> = self
            .deployments
            .iter()
            .map(|d| Deployment {
                id: d.id.clone(),
                status: d.status.clone(),
                task_definition: d.task_definition.clone(),
                desired: d.desired,
                running: d.running,
                pending: d.desired.saturating_sub(d.running).min(if d.rollout == "IN_PROGRESS" {
                    d.desired
                } else {
                    0
                }),
                rollout_state: Some(d.rollout.clone()),
                rollout_reason: d.reason.clone(),
                failed_tasks: d.failed_tasks,
                created_at: self
                    .records
                    .iter()
                    .find(|r| r.arn == d.record)
                    .map(|r| crate::aws::epoch_seconds(r.created)),
            })
            .collect();
        ServiceStatus {
            status: self.status.clone(),
            desired: self.props.desired_count,
            running: deployments.iter().map(|d| d.running).sum(),
            pending: deployments.iter().map(|d| d.pending).sum(),
            deployments,
            events: self.events.clone(),
        }
    }

    fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

impl EcsState {
    fn event(&mut self, index: usize, serial: &mut u64, at: Instant, message: String) {
        let origin = *self.origin.get_or_insert(at);
        let id =
            format!("{}-{}-{}-{}-{}", hex(serial, 8), hex(serial, 4), hex(serial, 4), hex(serial, 4), hex(serial, 12));
        self.services[index].events.insert(0, ServiceEvent { id, at_epoch_seconds: epoch(at, origin), message });
    }

    pub fn advance(&mut self, now: Instant, timing: Timing, serial: &mut u64) {
        self.origin.get_or_insert(now);
        let unsettled: Vec<usize> = self.unsettled.iter().copied().collect();
        for i in unsettled {
            let svc = &mut self.services[i];
            if svc.status == "DRAINING" && now.saturating_duration_since(svc.since) >= timing.service_drain {
                svc.status = "INACTIVE".into();
                svc.deployments.clear();
            } else if svc.is_active() && !svc.deployments.is_empty() {
                // Settled: nothing to move along (the common case, checked without copies).
                if !svc.deployments[0].settled() {
                    self.advance_service(i, now, timing, serial);
                }
            }
            let svc = &self.services[i];
            let settled =
                svc.status == "INACTIVE" || (svc.is_active() && svc.deployments.first().is_none_or(Dep::settled));
            if settled {
                self.unsettled.remove(&i);
            }
        }
        // Deleted revisions go once nothing runs them.
        if self.deleting > 0 {
            let used: BTreeSet<&str> =
                self.services.iter().flat_map(|s| s.deployments.iter().map(|d| d.task_definition.as_str())).collect();
            let gone: Vec<_> = self
                .task_defs
                .iter()
                .filter(|(_, t)| t.status == "DELETE_IN_PROGRESS" && !used.contains(t.arn.as_str()))
                .map(|(k, _)| k.clone())
                .collect();
            self.deleting -= gone.len();
            for k in gone {
                self.task_defs.remove(&k);
            }
        }
    }

    /// Moves the primary deployment of the service at `i` along to `now`.
    fn advance_service(&mut self, i: usize, now: Instant, timing: Timing, serial: &mut u64) {
        let svc = &self.services[i];
        let name = svc.name.clone();
        let config = svc.props.deployment_configuration.clone();
        let primary = &svc.deployments[0];
        if primary.rollout == "IN_PROGRESS" && !primary.is_rollback {
            let triggered: Vec<String> = config
                .alarms
                .iter()
                .flat_map(|a| a.alarm_names.iter())
                .filter(|a| self.alarms.contains(*a))
                .cloned()
                .collect();
            let rollback = config.alarms.as_ref().is_some_and(|a| a.rollback);
            if !triggered.is_empty() && svc.deployments.len() > 1 {
                let reason = format!("CloudWatch alarm {} in ALARM", triggered.join(", "));
                let id = primary.id.clone();
                let record = primary.record.clone();
                self.event(
                    i,
                    serial,
                    now,
                    format!("(service {name}) (deployment {id}) deployment failed: alarm detected."),
                );
                self.fail(i, now, serial, &reason, rollback, timing);
                if let Some(r) = self.services[i].records.iter_mut().find(|r| r.arn == record) {
                    r.triggered = triggered;
                }
                return;
            }
        }
        let svc = &mut self.services[i];
        let breaker = config.deployment_circuit_breaker;
        let primary = &mut svc.deployments[0];
        if primary.rollout == "IN_PROGRESS" && primary.healthy_at.is_none() {
            // PRE_SCALE_UP hooks run before the tasks start.
            let pre = stage_runs(&primary.hooks, HookStage::PreScaleUp);
            let elapsed = now.saturating_duration_since(primary.started);
            let failing = first_failure(&primary.hooks, &pre);
            let record = primary.record.clone();
            let started = primary.started;
            let statuses = statuses(&primary.hooks, &pre, elapsed);
            let took = longest(&primary.hooks, &pre);
            if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
                r.stage = if elapsed < took { "PRE_SCALE_UP" } else { "SCALE_UP" }.into();
                r.hooks = if elapsed < took || failing.is_some() { statuses } else { Vec::new() };
            }
            if let Some(k) = failing.filter(|k| elapsed >= svc.deployments[0].hooks[*k].takes) {
                self.hook_failed(i, started + self.services[i].deployments[0].hooks[k].takes, serial, k, timing);
                return;
            }
        }
        let svc = &mut self.services[i];
        let primary = &mut svc.deployments[0];
        let due = now.saturating_duration_since(primary.started) >= primary.lasts;
        if primary.rollout == "IN_PROGRESS" && primary.healthy_at.is_none() && due {
            let at = primary.started + primary.lasts;
            let id = primary.id.clone();
            if primary.fails {
                // Every task of the attempt starts and its essential container exits.
                primary.failed_tasks += primary.desired.max(1);
                let (td, code, count) = (primary.task_definition.clone(), primary.exit_code, primary.desired.max(1));
                let record = primary.record.clone();
                for _ in 0..count {
                    let task = format!("{}/{}", svc.arn.replace(":service/", ":task/"), hex(serial, 32));
                    svc.stopped.insert(
                        0,
                        StoppedTask {
                            arn: task,
                            task_definition: td.clone(),
                            reason: Some("Essential container in task exited".into()),
                            stop_code: Some("EssentialContainerExited".into()),
                            containers: vec![(name.clone(), Some(code), None)],
                            stopped_at: Some(epoch(at, *self.origin.get_or_insert(at))),
                        },
                    );
                }
                if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
                    r.failures += count;
                }
                if breaker.enable {
                    self.event(
                        i,
                        serial,
                        at,
                        format!("(service {name}) (deployment {id}) deployment failed: tasks failed to start."),
                    );
                    self.fail(i, at, serial, BREAKER_REASON, breaker.rollback, timing);
                } else {
                    // Without the circuit breaker ECS keeps trying to start tasks.
                    svc.deployments[0].started = now;
                    self.event(
                        i,
                        serial,
                        at,
                        format!("(service {name}) is unable to consistently start tasks successfully."),
                    );
                }
                return;
            }
            primary.running = primary.desired;
            primary.healthy_at = Some(at);
            let started = primary.desired;
            self.event(i, serial, at, format!("(service {name}) has started {started} tasks."));
        }
        let svc = &mut self.services[i];
        let serving = svc.serving_tg.clone();
        let tested = svc
            .props
            .load_balancers
            .first()
            .and_then(|l| l.advanced.as_ref())
            .is_some_and(|a| a.test_listener_rule.is_some());
        let primary = &mut svc.deployments[0];
        if primary.rollout == "IN_PROGRESS" {
            let Some(healthy) = primary.healthy_at else { return };
            // Rolling, and rollbacks: done once the tasks are healthy. Otherwise test
            // traffic moves first, then production traffic by the strategy's schedule,
            // then the bake. The first deployment, and one back to the serving group,
            // shift nothing.
            let strategy = config.strategy != DeploymentStrategy::Rolling;
            let shifting = primary.tg.is_some() && primary.tg != serving && !primary.is_rollback && strategy;
            let mode = match (primary.is_rollback, shifting, strategy) {
                (true, ..) => Mode::Rollback,
                (false, true, _) => Mode::Shifting,
                (false, false, true) => Mode::Initial,
                (false, false, false) => Mode::Rolling,
            };
            let course = course(&config, mode, tested, &primary.hooks);
            let elapsed = now.saturating_duration_since(healthy);
            let phase = course.phases.iter().rev().find(|p| elapsed >= p.at);
            let traffic = phase.map_or(0, |p| p.production);
            primary.traffic = traffic;
            primary.test = phase.map_or(0, |p| p.test);
            let end = healthy + course.end;
            let record = primary.record.clone();
            let (running, requested) = (primary.running, primary.desired);
            if let Some((at, k)) = course.failure.filter(|(at, _)| elapsed >= *at) {
                let stage = course.phases.iter().find(|p| p.hooks.contains(&k)).map_or("", |p| p.stage);
                if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
                    r.stage = stage.into();
                    r.running = running;
                }
                self.hook_failed(i, healthy + at, serial, k, timing);
                return;
            }
            if now < end {
                let (stage, since) = phase.map_or(("SCALE_UP", healthy), |p| (p.stage, healthy + p.at));
                let hooks = phase.map(|p| statuses(&primary.hooks, &p.hooks, elapsed - p.at)).unwrap_or_default();
                if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
                    r.stage = stage.into();
                    r.updated = since;
                    r.running = running;
                    r.requested = requested;
                    r.traffic = shifting.then_some(traffic);
                    r.hooks = hooks;
                }
                return;
            }
            let id = primary.id.clone();
            let is_rollback = primary.is_rollback;
            primary.rollout = "COMPLETED".into();
            primary.traffic = 1000;
            primary.test = 1000;
            let tg = primary.tg.clone();
            svc.deployments.truncate(1);
            if tg.is_some() {
                svc.serving_tg = tg;
            }
            if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
                r.status = if is_rollback { "ROLLBACK_SUCCESSFUL" } else { "SUCCESSFUL" }.into();
                // A rollback keeps the stage it failed at and the details of the hook
                // that failed it.
                if !is_rollback {
                    r.stage = "CLEAN_UP".into();
                    r.hooks.clear();
                }
                r.updated = end;
                r.finished = Some(end);
                r.running = running;
                r.requested = requested;
                r.traffic = shifting.then_some(1000);
            }
            self.event(i, serial, end, format!("(service {name}) (deployment {id}) deployment completed."));
            self.event(i, serial, end, format!("(service {name}) has reached a steady state."));
        } else if primary.rollout == "COMPLETED" && primary.running != primary.desired && due {
            let at = primary.started + primary.lasts;
            primary.running = primary.desired;
            self.event(i, serial, at, format!("(service {name}) has reached a steady state."));
        }
    }

    /// The hook run `k` of the primary deployment of the service at `i` failed at `at`:
    /// the hook reports `FAILED` and ECS rolls the deployment back, whatever the circuit
    /// breaker says.
    fn hook_failed(&mut self, i: usize, at: Instant, serial: &mut u64, k: usize, timing: Timing) {
        let (name, primary) = (self.services[i].name.clone(), &self.services[i].deployments[0]);
        let run = primary.hooks[k].clone();
        let (id, record) = (primary.id.clone(), primary.record.clone());
        let failed = HookStatus { id: run.id.clone(), target_arn: run.arn.clone(), status: "FAILED".into() };
        if let Some(r) = self.services[i].records.iter_mut().find(|r| r.arn == record) {
            r.hooks = vec![failed];
        }
        let why = run.fails.unwrap_or_default();
        self.event(
            i,
            serial,
            at,
            format!("(service {name}) (deployment {id}) {HOOK_REASON}: {} at {}: {why}", run.arn, run.stage),
        );
        self.fail(i, at, serial, HOOK_REASON, true, timing);
    }

    /// Fails the primary deployment of the service at `i` for `reason`: rolled back to
    /// the last deployment that worked (traffic back to its tasks at once), or stopped.
    fn fail(&mut self, i: usize, at: Instant, serial: &mut u64, reason: &str, rollback: bool, timing: Timing) {
        let _ = timing;
        let name = self.services[i].name.clone();
        let svc = &mut self.services[i];
        let primary = &mut svc.deployments[0];
        primary.rollout = "FAILED".into();
        primary.reason = Some(reason.to_owned());
        primary.running = 0;
        primary.traffic = 0;
        primary.test = 0;
        let record = primary.record.clone();
        let previous = svc.deployments.iter().skip(1).find(|d| d.rollout != "FAILED").cloned();
        let Some(prev) = previous.filter(|_| rollback) else {
            if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
                r.status = "STOPPED".into();
                r.reason = Some(reason.to_owned());
                r.finished = Some(at);
                r.updated = at;
            }
            return;
        };
        let shifting = prev.tg.is_some() && svc.deployments[0].tg != prev.tg;
        let rollback_dep = Dep {
            id: format!("ecs-svc/{}", &hex(serial, 19)),
            status: "PRIMARY".into(),
            task_definition: prev.task_definition.clone(),
            desired: svc.props.desired_count,
            running: prev.running,
            rollout: "IN_PROGRESS".into(),
            reason: None,
            // Old tasks still run behind their own target group: traffic goes back at once.
            started: at,
            fails: false,
            lasts: timing.deployment,
            exit_code: 0,
            failed_tasks: 0,
            record: record.clone(),
            is_rollback: true,
            tg: prev.tg.clone(),
            traffic: 1000,
            test: 1000,
            healthy_at: if shifting { Some(at) } else { None },
            hooks: Vec::new(),
        };
        let rollback_id = rollback_dep.id.clone();
        svc.deployments[0].status = "ACTIVE".into();
        svc.deployments.retain(|d| d.id != prev.id);
        svc.deployments.insert(0, rollback_dep);
        svc.props.task_definition = RefOr::Value(prev.task_definition.clone());
        if let Some(r) = svc.records.iter_mut().find(|r| r.arn == record) {
            r.status = "ROLLBACK_IN_PROGRESS".into();
            r.reason = Some(reason.to_owned());
            r.rollback = Some((reason.to_owned(), at, prev.task_definition.clone()));
            r.updated = at;
            r.traffic = r.traffic.map(|_| 0);
        }
        self.event(i, serial, at, format!("(service {name}) rolling back to deployment {rollback_id}."));
    }

    /// The production and test traffic shares of the services shifting traffic, as
    /// `(listener rule ARN, target group of the primary deployment, its weight of 1000)`:
    /// the production rule's, and the test rule's when there is one.
    pub fn traffic(&self) -> Vec<(String, String, u32)> {
        let mut out = Vec::new();
        for s in self.services.iter().filter(|s| s.is_active()) {
            let Some(lb) = s.props.load_balancers.first() else { continue };
            let Some(advanced) = &lb.advanced else { continue };
            let Some(primary) = s.deployments.first() else { continue };
            let Some(tg) = &primary.tg else { continue };
            // The serving target group takes all, but while traffic shifts away from it.
            let serves = Some(tg) == s.serving_tg.as_ref();
            let rule = literal_or_empty(&advanced.production_listener_rule);
            out.push((rule, tg.clone(), if serves { 1000 } else { primary.traffic }));
            if let Some(test) = &advanced.test_listener_rule {
                out.push((literal_or_empty(test), tg.clone(), if serves { 1000 } else { primary.test }));
            }
        }
        out
    }

    pub fn service_view(&self, name: &str) -> Option<FakeService> {
        let s = self.services.iter().rev().find(|s| s.name == name)?;
        Some(FakeService {
            name: s.name.clone(),
            cluster: s.cluster.clone(),
            task_definition: literal_or_empty(&s.props.task_definition),
            status: s.status_view(),
        })
    }

    /// Running tasks of active services behind the target group `arn`.
    pub fn tasks_behind(&self, tg: &str) -> u32 {
        self.services
            .iter()
            .filter(|s| s.is_active())
            .flat_map(|s| s.deployments.iter())
            .filter(|d| d.tg.as_deref() == Some(tg))
            .map(|d| d.running)
            .sum()
    }

    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (name, p) in &self.providers {
            push(out, ResourceType::CapacityProvider, name, Some(name), Some(&p.status), &p.meta.tags);
        }
        for (name, c) in &self.clusters {
            push(out, ResourceType::Cluster, name, Some(name), Some(&c.status), &c.meta.tags);
        }
        for ((family, revision), t) in &self.task_defs {
            push(
                out,
                ResourceType::TaskDefinition,
                &format!("{family}:{revision}"),
                Some(family),
                Some(&t.status),
                &t.meta.tags,
            );
        }
        for s in &self.services {
            push(out, ResourceType::EcsService, &s.arn, Some(&s.name), Some(&s.status), &s.meta.tags);
        }
    }

    /// The cluster named or with ARN `cluster`.
    fn cluster_name(&self, cluster: &str) -> Option<String> {
        if self.clusters.contains_key(cluster) {
            return Some(cluster.to_owned());
        }
        self.clusters.iter().find(|(_, c)| c.arn == cluster).map(|(n, _)| n.clone())
    }

    /// The task definition `family`, `family:revision` or its ARN.
    fn task_def_key(&self, reference: &str) -> Option<(String, u32)> {
        let short = reference.rsplit_once("task-definition/").map_or(reference, |(_, rest)| rest);
        match short.rsplit_once(':') {
            Some((family, revision)) => {
                let key = (family.to_owned(), revision.parse().ok()?);
                self.task_defs.contains_key(&key).then_some(key)
            }
            None => self
                .task_defs
                .range((short.to_owned(), 0)..=(short.to_owned(), u32::MAX))
                .filter(|(_, t)| t.status == "ACTIVE")
                .map(|(k, _)| k.clone())
                .next_back(),
        }
    }

    /// Whether the cluster has an active service `name` (Application Auto Scaling
    /// registers targets of those only).
    pub(crate) fn has_active_service(&self, cluster: &str, name: &str) -> bool {
        self.service_index(cluster, name).is_some_and(|i| self.services[i].is_active())
    }

    fn service_index(&self, cluster: &str, name: &str) -> Option<usize> {
        let cluster = self.cluster_name(cluster)?;
        let name = name.rsplit('/').next().unwrap_or(name);
        self.newest.get(&(cluster, name.to_owned())).copied()
    }

    fn tags_of(&mut self, arn: &str) -> Option<&mut Tags> {
        if let Some(c) = self.clusters.values_mut().find(|c| c.arn == arn) {
            return Some(&mut c.meta.tags);
        }
        if let Some(p) = self.providers.values_mut().find(|p| p.arn == arn) {
            return Some(&mut p.meta.tags);
        }
        if let Some(t) = self.task_defs.values_mut().find(|t| t.arn == arn) {
            return Some(&mut t.meta.tags);
        }
        self.services.iter_mut().rev().find(|s| s.arn == arn && s.status != "INACTIVE").map(|s| &mut s.meta.tags)
    }

    /// Whether an active service's strategy names the provider `name`.
    fn provider_in_use(&self, cluster: Option<&str>, name: &str) -> bool {
        self.services
            .iter()
            .filter(|s| s.status != "INACTIVE" && cluster.is_none_or(|c| s.cluster == c))
            .any(|s| s.props.capacity_provider_strategy.iter().any(|i| literal_or_empty(&i.capacity_provider) == name))
    }
}

/// One stretch of a deployment once its tasks are healthy: a lifecycle stage.
#[derive(Debug, Clone)]
struct Phase {
    /// When it begins, after the new tasks turned healthy.
    at: Duration,
    /// The lifecycle stage ServiceDeployment reports.
    stage: &'static str,
    /// The new tasks' share of production traffic, in tenths of a percent.
    production: u32,
    /// Their share of test traffic.
    test: u32,
    /// The hook runs of the stage (indices into the deployment's).
    hooks: Vec<usize>,
}

/// A deployment's course once its tasks are healthy: its phases in order (of several
/// beginning at once, the last one counts), when it is over, and when a hook fails it.
#[derive(Debug, Default)]
struct Course {
    phases: Vec<Phase>,
    end: Duration,
    /// When, and which hook run, fails the deployment.
    failure: Option<(Duration, usize)>,
}

/// How a deployment goes once its tasks are healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Rolling: the POST_SCALE_UP hooks, then done.
    Rolling,
    /// A strategy's first deployment (nothing to shift from): every stage's hooks, no bakes.
    Initial,
    /// A strategy shifting traffic from the serving tasks.
    Shifting,
    /// Back to the tasks that served: nothing to wait for.
    Rollback,
}

impl Course {
    /// A phase at the current end: the stage, its hooks (they all answer before the
    /// next stage), the traffic shares during it.
    fn stage(&mut self, stage: &'static str, hook: HookStage, runs: &[HookRun], production: u32, test: u32) {
        let hooks = stage_runs(runs, hook);
        if self.failure.is_none() {
            self.failure = first_failure(runs, &hooks).map(|k| (self.end + runs[k].takes, k));
        }
        let took = longest(runs, &hooks);
        self.phases.push(Phase { at: self.end, stage, production, test, hooks });
        self.end += took;
    }
}

/// The course of a deployment by `c` in `mode`, as ECS runs its lifecycle stages and
/// hooks: test traffic to the new tasks first (when the service has a test listener
/// rule), then production traffic on the strategy's schedule, then the bake.
fn course(c: &DeploymentConfiguration, mode: Mode, tested: bool, runs: &[HookRun]) -> Course {
    let mut course = Course::default();
    if mode == Mode::Rollback {
        return course;
    }
    course.stage("POST_SCALE_UP", HookStage::PostScaleUp, runs, 0, 0);
    if mode == Mode::Rolling {
        return course;
    }
    let minute = Duration::from_secs(60);
    let test = if tested { 1000 } else { 0 };
    course.stage("TEST_TRAFFIC_SHIFT", HookStage::TestTrafficShift, runs, 0, test);
    course.stage("POST_TEST_TRAFFIC_SHIFT", HookStage::PostTestTrafficShift, runs, 0, test);
    let (steps, bake) = if mode == Mode::Shifting { schedule(c) } else { (vec![(0, 1000)], 0) };
    let (mut offset, mut share) = (0, 0);
    for (at, next) in steps {
        course.end += minute * (at - offset);
        course.stage("PRE_PRODUCTION_TRAFFIC_SHIFT", HookStage::PreProductionTrafficShift, runs, share, test);
        course.stage("PRODUCTION_TRAFFIC_SHIFT", HookStage::ProductionTrafficShift, runs, next, test);
        (offset, share) = (at, next);
    }
    course.stage("POST_PRODUCTION_TRAFFIC_SHIFT", HookStage::PostProductionTrafficShift, runs, 1000, test);
    course.phases.push(Phase { at: course.end, stage: "BAKE_TIME", production: 1000, test, hooks: Vec::new() });
    course.end += minute * bake;
    course
}

/// The runs (indices) at `stage`.
fn stage_runs(runs: &[HookRun], stage: HookStage) -> Vec<usize> {
    (0..runs.len()).filter(|k| runs[*k].stage == stage).collect()
}

/// How long the runs `of` take together: they run at once, the stage waits for all.
fn longest(runs: &[HookRun], of: &[usize]) -> Duration {
    of.iter().map(|k| runs[*k].takes).max().unwrap_or_default()
}

/// The first of the runs `of` to fail, if one does.
fn first_failure(runs: &[HookRun], of: &[usize]) -> Option<usize> {
    of.iter().copied().filter(|k| runs[*k].fails.is_some()).min_by_key(|k| runs[*k].takes)
}

/// How the runs `of` are doing `elapsed` into their stage (`lifecycleHookDetails`).
fn statuses(runs: &[HookRun], of: &[usize], elapsed: Duration) -> Vec<HookStatus> {
    of.iter()
        .map(|k| {
            let run = &runs[*k];
            let status = match (elapsed >= run.takes, run.fails.is_some()) {
                (false, _) => "IN_PROGRESS",
                (true, false) => "SUCCEEDED",
                (true, true) => "FAILED",
            };
            HookStatus { id: run.id.clone(), target_arn: run.arn.clone(), status: status.into() }
        })
        .collect()
}

/// The traffic steps of a strategy, as `(minutes after the new tasks are healthy, share
/// in tenths of a percent)`, and the bake after the last one, in minutes.
fn schedule(c: &DeploymentConfiguration) -> (Vec<(u32, u32)>, u32) {
    let bake = c.bake_time_in_minutes.unwrap_or(0);
    let steps = match (c.strategy, c.canary, c.linear) {
        (DeploymentStrategy::Canary, Some(k), _) => {
            vec![(0, k.percent.in_tenths().min(1000)), (k.bake_time_in_minutes, 1000)]
        }
        (DeploymentStrategy::Linear, _, Some(l)) => {
            let step = l.percent.in_tenths().max(1);
            let mut out = Vec::new();
            let mut share = 0;
            let mut at = 0;
            while share < 1000 {
                share = (share + step).min(1000);
                out.push((at, share));
                at += l.bake_time_in_minutes;
            }
            out
        }
        _ => vec![(0, 1000)],
    };
    (steps, bake)
}

impl Record {
    fn view(&self, origin: Instant) -> ServiceDeployment {
        let at = |t: Instant| Some(epoch(t, origin));
        ServiceDeployment {
            arn: self.arn.clone(),
            status: self.status.clone(),
            status_reason: self.reason.clone(),
            lifecycle_stage: Some(self.stage.clone()),
            configuration: Some(self.config.clone()),
            target_revision: Some(self.task_definition.clone()),
            target_running: self.running,
            target_requested: self.requested,
            production_traffic: self.traffic.map(Percent::tenths),
            created_at: at(self.created),
            started_at: at(self.created),
            updated_at: at(self.updated),
            finished_at: self.finished.and_then(at),
            rollback: self.rollback.as_ref().map(|(reason, when, td)| DeploymentRollback {
                reason: Some(reason.clone()),
                started_at: at(*when),
                revision: Some(td.clone()),
            }),
            circuit_breaker: (self.config.deployment_circuit_breaker.enable)
                .then_some((self.failures, (self.requested / 2).clamp(3, 200))),
            triggered_alarms: self.triggered.clone(),
            hooks: self.hooks.clone(),
        }
    }
}

fn literal_or_empty(v: &RefOr<String>) -> String {
    match v {
        RefOr::Value(v) => v.clone(),
        RefOr::Ref(_) => String::new(),
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> AwsError {
    aws_error(SERVICE, operation, code, message)
}

/// An error whose code ECS shares between several failures (`ClientException`), with
/// the kind the failure has.
fn err_kind(kind: ErrorKind, operation: &str, code: &str, message: impl Into<String>) -> AwsError {
    let mut e = err(operation, code, message);
    e.kind = kind;
    e
}

fn no_cluster(operation: &str) -> AwsError {
    err(operation, "ClusterNotFoundException", "Cluster not found.")
}

fn no_service(operation: &str) -> AwsError {
    err(operation, "ServiceNotFoundException", "Service not found.")
}

fn lit(v: &RefOr<String>, operation: &str) -> AwsResult<String> {
    literal(v, SERVICE, operation).map(str::to_owned)
}

impl super::State {
    /// Container instances registered with `cluster`: those of Auto Scaling groups whose
    /// launch template names the cluster in its user data.
    fn registered_instances(&self, cluster: &str) -> u32 {
        let line = format!("ECS_CLUSTER={cluster}");
        self.autoscaling
            .groups
            .values()
            .filter(|g| {
                let RefOr::Value(t) = g.template() else { return false };
                self.ec2.user_data(&t).is_some_and(|u| u.lines().any(|l| l.trim() == line))
            })
            .map(|g| g.instances)
            .sum()
    }

    /// Checks a capacity provider strategy against the cluster's providers.
    fn check_strategy(&self, cluster: &str, strategy: &[StrategyItem], operation: &str) -> AwsResult<()> {
        let providers = self.ecs.clusters.get(cluster).map(|c| c.providers.clone()).unwrap_or_default();
        for item in strategy {
            let name = lit(&item.capacity_provider, operation)?;
            if !providers.contains(&name) {
                return Err(err(
                    operation,
                    "InvalidParameterException",
                    format!("The specified capacity provider {name} is not in the cluster's capacity provider list."),
                ));
            }
        }
        Ok(())
    }

    /// Checks what ECS checks of a deployment configuration and the load balancers it
    /// shifts traffic on (blue/green, canary, linear).
    fn check_deployment(
        &self,
        config: &DeploymentConfiguration,
        lbs: &[ServiceLoadBalancer],
        operation: &str,
    ) -> AwsResult<()> {
        let invalid = |m: String| Err(err(operation, "InvalidParameterException", m));
        let minutes = |m: Option<u32>| m.is_some_and(|m| m > 1440);
        if minutes(config.bake_time_in_minutes)
            || minutes(config.canary.map(|c| c.bake_time_in_minutes))
            || minutes(config.linear.map(|c| c.bake_time_in_minutes))
        {
            return invalid("Bake time must be between 0 and 1440 minutes.".into());
        }
        match config.strategy {
            DeploymentStrategy::Rolling => return Ok(()),
            DeploymentStrategy::BlueGreen if config.bake_time_in_minutes.is_none() => {
                return invalid("bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy.".into())
            }
            DeploymentStrategy::Canary => match config.canary {
                Some(c) if (1..=1000).contains(&c.percent.in_tenths()) => {}
                _ => return invalid("canaryPercent must be between 0.1 and 100.0.".into()),
            },
            DeploymentStrategy::Linear => match config.linear {
                Some(c) if (30..=1000).contains(&c.percent.in_tenths()) => {}
                _ => return invalid("stepPercent must be between 3.0 and 100.0.".into()),
            },
            DeploymentStrategy::BlueGreen => {}
        }
        for lb in lbs {
            let Some(a) = &lb.advanced else {
                return invalid(format!("advancedConfiguration is required for load balancer with targetGroupArn {} with the {} deployment strategy.", literal_or_empty(&lb.target_group_arn), config.strategy.as_str()));
            };
            let (tg, alternate) =
                (lit(&lb.target_group_arn, operation)?, lit(&a.alternate_target_group_arn, operation)?);
            if tg == alternate || !self.elb.has_target_group(&alternate) {
                return invalid(format!("The alternate target group {alternate} is not valid."));
            }
            let rule = lit(&a.production_listener_rule, operation)?;
            let forwards: Vec<String> = self.elb.forwards(&rule).into_iter().map(|(g, _)| g).collect();
            if !(forwards.contains(&tg) && forwards.contains(&alternate)) {
                return invalid(format!(
                    "The production listener rule {rule} must forward to both target groups {tg} and {alternate}."
                ));
            }
            if let Some(test) = &a.test_listener_rule {
                let test = lit(test, operation)?;
                let forwards: Vec<String> = self.elb.forwards(&test).into_iter().map(|(g, _)| g).collect();
                if !(forwards.contains(&tg) && forwards.contains(&alternate)) {
                    return invalid(format!(
                        "Service deployment rolled back because of invalid networking configuration. Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule: the test listener rule {test} must forward to {tg} and {alternate}."
                    ));
                }
            }
            let role = lit(&a.role_arn, operation)?;
            if !role.starts_with("arn:aws:iam::") {
                return invalid(format!("roleArn {role} is not valid."));
            }
        }
        Ok(())
    }

    /// A new deployment of `task_definition` for the service at `index`, the old
    /// primary demoted.
    fn deploy(&mut self, index: usize, task_definition: String) {
        let id = format!("ecs-svc/{}", hex(&mut self.serial, 19));
        let record_id = hex(&mut self.serial, 20);
        let exit_code = self.failing_services.get(&self.ecs.services[index].name).copied();
        let hooks = self.hook_runs(index);
        // The tasks start once the PRE_SCALE_UP hooks answered.
        let lasts = self.deployment_time(index) + longest(&hooks, &stage_runs(&hooks, HookStage::PreScaleUp));
        self.ecs.unsettled.insert(index);
        let now = Instant::now();
        let svc = &mut self.ecs.services[index];
        for d in &mut svc.deployments {
            d.status = "ACTIVE".into();
        }
        // Behind the load balancer, a strategy shifting traffic starts the new tasks
        // behind the target group not serving; otherwise the one target group.
        let lb = svc.props.load_balancers.first();
        let primary_tg = lb.map(|l| literal_or_empty(&l.target_group_arn));
        let alternate = lb.and_then(|l| l.advanced.as_ref()).map(|a| literal_or_empty(&a.alternate_target_group_arn));
        let tg = match (&svc.serving_tg, &alternate) {
            (Some(serving), Some(alternate))
                if svc.props.deployment_configuration.strategy != DeploymentStrategy::Rolling =>
            {
                Some(if serving == alternate { primary_tg.clone().unwrap_or_default() } else { alternate.clone() })
            }
            _ => primary_tg.clone(),
        };
        if svc.serving_tg.is_none() {
            svc.serving_tg = primary_tg;
        }
        let arn = format!("{}/{record_id}", svc.arn.replace(":service/", ":service-deployment/"));
        svc.records.push(Record {
            arn: arn.clone(),
            status: "IN_PROGRESS".into(),
            reason: None,
            stage: "SCALE_UP".into(),
            config: svc.props.deployment_configuration.clone(),
            created: now,
            updated: now,
            finished: None,
            rollback: None,
            triggered: Vec::new(),
            task_definition: task_definition.clone(),
            requested: svc.props.desired_count,
            running: 0,
            traffic: None,
            failures: 0,
            hooks: Vec::new(),
        });
        svc.deployments.insert(
            0,
            Dep {
                id,
                status: "PRIMARY".into(),
                task_definition,
                desired: svc.props.desired_count,
                running: 0,
                rollout: "IN_PROGRESS".into(),
                reason: None,
                started: now,
                fails: exit_code.is_some(),
                lasts,
                exit_code: exit_code.unwrap_or(0),
                failed_tasks: 0,
                record: arn,
                is_rollback: false,
                tg,
                traffic: 0,
                test: 0,
                healthy_at: None,
                hooks,
            },
        );
    }

    /// The runs of the lifecycle hooks of the service at `index`'s deployment
    /// configuration: one per hook and stage, each answering as its function does in
    /// the fake ([`super::FakeCloud::set_hook_function`]), provided the hook's role may
    /// invoke it.
    fn hook_runs(&mut self, index: usize) -> Vec<HookRun> {
        let hooks = self.ecs.services[index].props.deployment_configuration.lifecycle_hooks.clone();
        let mut runs = Vec::new();
        for h in hooks {
            let role = literal_or_empty(&h.role_arn);
            let (takes, fails) =
                match (self.hook_functions.get(&h.hook_target_arn), self.iam.may_invoke(&role, &h.hook_target_arn)) {
                    (None, _) => (Duration::ZERO, Some(format!("Function not found: {}", h.hook_target_arn))),
                    (Some(_), Err(denied)) => (Duration::ZERO, Some(denied)),
                    (Some((answer, takes)), Ok(())) => (
                        *takes,
                        (*answer == super::HookAnswer::Failed).then(|| "the function answered FAILED".to_owned()),
                    ),
                };
            for stage in &h.lifecycle_stages {
                let id = hex(&mut self.serial, 12);
                runs.push(HookRun { id, arn: h.hook_target_arn.clone(), stage: *stage, takes, fails: fails.clone() });
            }
        }
        runs
    }

    /// How long a new deployment of the service at `index` takes: [`Timing::deployment`],
    /// and with [`Timing::health_checks`] its target group's healthy threshold x
    /// interval, plus its deregistration delay when older tasks are running.
    fn deployment_time(&self, index: usize) -> Duration {
        let svc = &self.ecs.services[index];
        let mut lasts = self.timing.deployment;
        if self.timing.health_checks {
            let tg = svc.props.load_balancers.first().map(|l| literal_or_empty(&l.target_group_arn));
            if let Some((healthy, draining)) = tg.and_then(|tg| self.elb.rollout_times(&tg)) {
                lasts += healthy;
                if svc.deployments.iter().any(|d| d.running > 0) {
                    lasts += draining;
                }
            }
        }
        lasts
    }
}

#[async_trait]
impl EcsApi for Fake {
    async fn describe_capacity_providers(&self, names: Vec<String>) -> AwsResult<Vec<Found<CapacityProviderProps>>> {
        let mut s = self.begin(SERVICE, "DescribeCapacityProviders").await?;
        let mut out = Vec::new();
        for (name, p) in &mut s.ecs.providers {
            if !(names.contains(name) || names.contains(&p.arn)) || !visible(&mut p.meta) {
                continue;
            }
            let mut f = Found::new(name.clone(), p.props.clone());
            f.arn = Some(p.arn.clone());
            f.state = Some(p.status.clone());
            f.tags = p.meta.tags.clone();
            f.attrs.insert(
                "update_status".into(),
                if p.status == "ACTIVE" { "UPDATE_COMPLETE" } else { "DELETE_COMPLETE" }.into(),
            );
            out.push(f);
        }
        Ok(out)
    }

    async fn create_capacity_provider(&self, props: CapacityProviderProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateCapacityProvider";
        let mut s = self.begin(SERVICE, OP).await?;
        let lower = props.name.to_ascii_lowercase();
        if ["aws", "ecs", "fargate"].iter().any(|p| lower.starts_with(p)) {
            return Err(err(
                OP,
                "ClientException",
                "The capacity provider name cannot start with aws, ecs or fargate.",
            ));
        }
        if s.ecs.providers.get(&props.name).is_some_and(|p| p.status == "ACTIVE") {
            return Err(err_kind(
                ErrorKind::AlreadyExists,
                OP,
                "ClientException",
                "A capacity provider with this name already exists.",
            ));
        }
        let asg = lit(&props.auto_scaling_group_arn, OP)?;
        let Some(group) = s.autoscaling.by_arn(&asg) else {
            return Err(err(
                OP,
                "ClientException",
                format!("The specified Auto Scaling group ARN {asg} is not valid."),
            ));
        };
        let protected = group.protected_from_scale_in();
        if s.ecs
            .providers
            .values()
            .any(|p| p.status == "ACTIVE" && p.props.auto_scaling_group_arn == props.auto_scaling_group_arn)
        {
            return Err(err(
                OP,
                "ClientException",
                "The specified Auto Scaling group ARN is already being used by another capacity provider.",
            ));
        }
        if props.managed_termination_protection == "ENABLED" && !protected {
            return Err(err(
                OP,
                "ClientException",
                "Managed termination protection needs scale-in protection on the Auto Scaling group.",
            ));
        }
        if props.managed_scaling.status == "ENABLED" {
            s.autoscaling.mark_managed(&asg);
        }
        let arn = self.arn("ecs", &format!("capacity-provider/{}", props.name));
        let meta = s.meta(OP, tags);
        s.ecs.providers.insert(props.name.clone(), Provider { arn: arn.clone(), props, status: "ACTIVE".into(), meta });
        Ok(arn)
    }

    async fn update_capacity_provider(&self, props: CapacityProviderProps) -> AwsResult<()> {
        const OP: &str = "UpdateCapacityProvider";
        let mut s = self.begin(SERVICE, OP).await?;
        let p = match s.ecs.providers.get_mut(&props.name) {
            Some(p) if p.status == "ACTIVE" => p,
            _ => return Err(err(OP, "ClientException", "The specified capacity provider does not exist.")),
        };
        p.props.managed_scaling = props.managed_scaling;
        p.props.managed_termination_protection = props.managed_termination_protection;
        p.props.managed_draining = props.managed_draining;
        Ok(())
    }

    async fn delete_capacity_provider(&self, name: String) -> AwsResult<()> {
        const OP: &str = "DeleteCapacityProvider";
        let mut s = self.begin(SERVICE, OP).await?;
        if s.ecs.providers.get(&name).is_none_or(|p| p.status != "ACTIVE") {
            return Err(err_kind(
                ErrorKind::NotFound,
                OP,
                "ClientException",
                "The specified capacity provider does not exist.",
            ));
        }
        let associated = s.ecs.clusters.values().any(|c| c.status == "ACTIVE" && c.providers.contains(&name));
        if associated || s.ecs.provider_in_use(None, &name) {
            return Err(err(
                OP,
                "ResourceInUseException",
                "The specified capacity provider is in use and cannot be removed.",
            ));
        }
        if let Some(p) = s.ecs.providers.get_mut(&name) {
            p.status = "INACTIVE".into();
        }
        Ok(())
    }

    async fn describe_clusters(&self, names: Vec<String>) -> AwsResult<Vec<Found<ClusterProps>>> {
        let mut s = self.begin(SERVICE, "DescribeClusters").await?;
        let keys: Vec<String> = s.ecs.clusters.keys().cloned().collect();
        let mut out = Vec::new();
        for name in keys {
            let registered = s.registered_instances(&name);
            let active = s.ecs.services.iter().filter(|x| x.cluster == name && x.is_active()).count();
            let running: u32 = s
                .ecs
                .services
                .iter()
                .filter(|x| x.cluster == name)
                .flat_map(|x| x.deployments.iter().map(|d| d.running))
                .sum();
            let Some(c) = s.ecs.clusters.get_mut(&name) else { continue };
            if !(names.contains(&name) || names.contains(&c.arn)) || !visible(&mut c.meta) {
                continue;
            }
            let mut providers = c.providers.clone();
            providers.sort();
            let mut f = Found::new(
                name.clone(),
                ClusterProps {
                    cluster_name: name.clone(),
                    container_insights: c.insights.clone(),
                    capacity_providers: providers.into_iter().map(RefOr::Value).collect(),
                    default_capacity_provider_strategy: c.strategy.clone(),
                },
            );
            f.arn = Some(c.arn.clone());
            f.state = Some(c.status.clone());
            f.tags = c.meta.tags.clone();
            f.attrs.insert("registered_instances".into(), registered.to_string());
            f.attrs.insert("active_services".into(), active.to_string());
            f.attrs.insert("running_tasks".into(), running.to_string());
            out.push(f);
        }
        Ok(out)
    }

    async fn create_cluster(&self, props: ClusterProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateCluster";
        let mut s = self.begin(SERVICE, OP).await?;
        let name = props.cluster_name.clone();
        if name.is_empty()
            || name.len() > 255
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err(OP, "InvalidParameterException", format!("cluster name {name} is not valid")));
        }
        // An existing cluster of that name is returned as it is.
        if let Some(c) = s.ecs.clusters.get(&name).filter(|c| c.status == "ACTIVE") {
            return Ok(c.arn.clone());
        }
        let arn = self.arn("ecs", &format!("cluster/{name}"));
        let meta = s.meta(OP, tags);
        s.ecs.clusters.insert(
            name,
            Cluster {
                arn: arn.clone(),
                insights: props.container_insights,
                providers: vec![],
                strategy: vec![],
                status: "ACTIVE".into(),
                meta,
            },
        );
        Ok(arn)
    }

    async fn update_cluster_settings(&self, cluster: String, container_insights: String) -> AwsResult<()> {
        const OP: &str = "UpdateCluster";
        let mut s = self.begin(SERVICE, OP).await?;
        let name = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
        let c = s.ecs.clusters.get_mut(&name).filter(|c| c.status == "ACTIVE").ok_or_else(|| no_cluster(OP))?;
        c.insights = container_insights;
        Ok(())
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: String,
        providers: Vec<String>,
        strategy: Vec<StrategyItem>,
    ) -> AwsResult<()> {
        const OP: &str = "PutClusterCapacityProviders";
        let mut s = self.begin(SERVICE, OP).await?;
        let name = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
        if s.ecs.clusters.get(&name).is_none_or(|c| c.status != "ACTIVE") {
            return Err(no_cluster(OP));
        }
        // Fargate's providers are AWS's own, in every account.
        for p in providers.iter().filter(|p| !matches!(p.as_str(), "FARGATE" | "FARGATE_SPOT")) {
            if s.ecs.providers.get(p).is_none_or(|x| x.status != "ACTIVE") {
                return Err(err(OP, "InvalidParameterException", format!("The capacity provider {p} does not exist.")));
            }
            if s.ecs.clusters.iter().any(|(n, c)| *n != name && c.status == "ACTIVE" && c.providers.contains(p)) {
                return Err(err(
                    OP,
                    "InvalidParameterException",
                    format!("The capacity provider {p} is already associated with another cluster."),
                ));
            }
        }
        for item in &strategy {
            let p = lit(&item.capacity_provider, OP)?;
            if !providers.contains(&p) {
                return Err(err(
                    OP,
                    "InvalidParameterException",
                    format!("The default strategy names {p}, which is not in the list."),
                ));
            }
        }
        let current = s.ecs.clusters.get(&name).map(|c| c.providers.clone()).unwrap_or_default();
        for removed in current.iter().filter(|p| !providers.contains(p)) {
            if s.ecs.provider_in_use(Some(&name), removed) {
                return Err(err(
                    OP,
                    "ResourceInUseException",
                    format!("The capacity provider {removed} is in use and cannot be removed."),
                ));
            }
        }
        if let Some(c) = s.ecs.clusters.get_mut(&name) {
            c.providers = providers;
            c.strategy = strategy;
        }
        Ok(())
    }

    async fn delete_cluster(&self, cluster: String) -> AwsResult<()> {
        const OP: &str = "DeleteCluster";
        let mut s = self.begin(SERVICE, OP).await?;
        let name = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
        if s.ecs.clusters.get(&name).is_none_or(|c| c.status != "ACTIVE") {
            return Err(no_cluster(OP));
        }
        if s.ecs.services.iter().any(|x| x.cluster == name && x.status != "INACTIVE") {
            return Err(err(
                OP,
                "ClusterContainsServicesException",
                "The Cluster cannot be deleted while Services are active.",
            ));
        }
        if s.registered_instances(&name) > 0 {
            return Err(err(
                OP,
                "ClusterContainsContainerInstancesException",
                "The Cluster cannot be deleted while Container Instances are active or draining.",
            ));
        }
        if let Some(c) = s.ecs.clusters.get_mut(&name) {
            c.status = "INACTIVE".into();
            c.providers.clear();
            c.strategy.clear();
        }
        Ok(())
    }

    async fn describe_task_definition(&self, task_definition: String) -> AwsResult<Option<Found<TaskDefinitionProps>>> {
        let mut s = self.begin(SERVICE, "DescribeTaskDefinition").await?;
        let Some(key) = s.ecs.task_def_key(&task_definition) else { return Ok(None) };
        let Some(t) = s.ecs.task_defs.get_mut(&key) else { return Ok(None) };
        if !visible(&mut t.meta) {
            return Ok(None);
        }
        let mut f = Found::new(format!("{}:{}", key.0, key.1), t.props.clone());
        f.arn = Some(t.arn.clone());
        f.state = Some(t.status.clone());
        f.tags = t.meta.tags.clone();
        Ok(Some(f))
    }

    async fn register_task_definition(&self, props: TaskDefinitionProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "RegisterTaskDefinition";
        let mut s = self.begin(SERVICE, OP).await?;
        let family = props.family.clone();
        if family.is_empty()
            || family.len() > 255
            || !family.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err(OP, "ClientException", format!("family {family} is not valid")));
        }
        if props.container_definitions.is_empty() {
            return Err(err(OP, "ClientException", "Container list cannot be empty."));
        }
        for role in [&props.task_role_arn, &props.execution_role_arn] {
            let role = lit(role, OP)?;
            if !role.is_empty() && !role.starts_with("arn:aws:iam::") {
                return Err(err(OP, "ClientException", format!("Role is not valid: {role}")));
            }
        }
        for c in &props.container_definitions {
            for e in &c.environment {
                lit(&e.value, OP)?;
            }
            for v in c.log_configuration.options.values() {
                lit(v, OP)?;
            }
        }
        for v in &props.volumes {
            lit(&v.efs_volume_configuration.file_system_id, OP)?;
            lit(&v.efs_volume_configuration.access_point_id, OP)?;
        }
        let revision = {
            let r = s.ecs.revisions.entry(family.clone()).or_insert(0);
            *r += 1;
            *r
        };
        let arn = self.arn("ecs", &format!("task-definition/{family}:{revision}"));
        let meta = s.meta(OP, tags);
        s.ecs.task_defs.insert((family, revision), TaskDef { arn: arn.clone(), props, status: "ACTIVE".into(), meta });
        Ok(arn)
    }

    async fn list_task_definitions(&self, family: String, status: String) -> AwsResult<Vec<String>> {
        let s = self.begin(SERVICE, "ListTaskDefinitions").await?;
        Ok(s.ecs
            .task_defs
            .iter()
            .filter(|((f, _), t)| *f == family && t.status == status)
            .map(|(_, t)| t.arn.clone())
            .collect())
    }

    async fn list_task_definition_families(&self, prefix: String, status: String) -> AwsResult<Vec<String>> {
        let s = self.begin(SERVICE, "ListTaskDefinitionFamilies").await?;
        let mut families: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
        for ((f, _), t) in s.ecs.task_defs.iter().filter(|((f, _), _)| f.starts_with(&prefix)) {
            let e = families.entry(f.as_str()).or_default();
            e.0 |= t.status == "ACTIVE";
            e.1 |= t.status == "INACTIVE";
        }
        Ok(families
            .into_iter()
            .filter(|(_, (active, inactive))| if status == "ACTIVE" { *active } else { !*active && *inactive })
            .map(|(f, _)| f.to_owned())
            .collect())
    }

    async fn deregister_task_definition(&self, arn: String) -> AwsResult<()> {
        const OP: &str = "DeregisterTaskDefinition";
        let mut s = self.begin(SERVICE, OP).await?;
        let short = arn.rsplit_once("task-definition/").map_or(arn.as_str(), |(_, rest)| rest);
        if !short.contains(':') {
            return Err(err(OP, "ClientException", "A revision is needed."));
        }
        let key = s
            .ecs
            .task_def_key(&arn)
            .ok_or_else(|| err(OP, "ClientException", "The specified task definition does not exist."))?;
        if let Some(t) = s.ecs.task_defs.get_mut(&key) {
            if t.status == "ACTIVE" {
                t.status = "INACTIVE".into();
            }
        }
        Ok(())
    }

    async fn delete_task_definitions(&self, arns: Vec<String>) -> AwsResult<()> {
        const OP: &str = "DeleteTaskDefinitions";
        let mut s = self.begin(SERVICE, OP).await?;
        if arns.len() > 10 {
            return Err(err(OP, "ClientException", "At most 10 task definitions can be deleted at once."));
        }
        for arn in &arns {
            let key = s
                .ecs
                .task_def_key(arn)
                .ok_or_else(|| err(OP, "ClientException", format!("{arn}: TASK_DEFINITION_NOT_FOUND")))?;
            if s.ecs.task_defs.get(&key).is_some_and(|t| t.status == "ACTIVE") {
                return Err(err(
                    OP,
                    "ClientException",
                    format!("{arn}: The specified task definition is still in ACTIVE status."),
                ));
            }
        }
        for arn in &arns {
            if let Some(key) = s.ecs.task_def_key(arn) {
                if let Some(t) = s.ecs.task_defs.get_mut(&key) {
                    if t.status != "DELETE_IN_PROGRESS" {
                        t.status = "DELETE_IN_PROGRESS".into();
                        s.ecs.deleting += 1;
                    }
                }
            }
        }
        Ok(())
    }

    async fn list_services(&self, cluster: String) -> AwsResult<Vec<String>> {
        const OP: &str = "ListServices";
        let s = self.begin(SERVICE, OP).await?;
        let name = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
        Ok(s.ecs.services.iter().filter(|x| x.cluster == name && x.is_active()).map(|x| x.arn.clone()).collect())
    }

    async fn describe_services(&self, cluster: String, names: Vec<String>) -> AwsResult<Vec<LiveService>> {
        let mut s = self.begin(SERVICE, "DescribeServices").await?;
        let mut out = Vec::new();
        for name in names {
            let Some(i) = s.ecs.service_index(&cluster, &name) else { continue };
            let cluster_arn = s.ecs.clusters.get(&s.ecs.services[i].cluster).map(|c| c.arn.clone()).unwrap_or_default();
            let svc = &mut s.ecs.services[i];
            if !visible(&mut svc.meta) {
                continue;
            }
            let mut props = svc.props.clone();
            props.cluster = RefOr::Value(cluster_arn);
            props.desired_count_owner = CountOwner::Stack;
            if props.load_balancers.is_empty() {
                props.health_check_grace_period_seconds = None;
            } else {
                props.health_check_grace_period_seconds = Some(props.health_check_grace_period_seconds.unwrap_or(0));
            }
            let mut found = Found::new(svc.name.clone(), props);
            found.arn = Some(svc.arn.clone());
            found.state = Some(svc.status.clone());
            found.tags = svc.meta.tags.clone();
            out.push(LiveService { found, status: svc.status_view() });
        }
        Ok(out)
    }

    async fn create_service(&self, props: ServiceProps, client_token: String, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateService";
        let mut s = self.begin(SERVICE, OP).await?;
        if client_token.is_empty() || client_token.len() > 36 || !client_token.bytes().all(|b| (33..=126).contains(&b))
        {
            return Err(err(
                OP,
                "InvalidParameterException",
                "clientToken must have 1 to 36 printable ASCII characters",
            ));
        }
        let cluster = s.ecs.cluster_name(&lit(&props.cluster, OP)?).ok_or_else(|| no_cluster(OP))?;
        if s.ecs.clusters.get(&cluster).is_none_or(|c| c.status != "ACTIVE") {
            return Err(err(OP, "ClusterNotFoundException", "The referenced cluster was inactive."));
        }
        if let Some(i) = s.ecs.service_index(&cluster, &props.service_name) {
            let existing = &s.ecs.services[i];
            if existing.status != "INACTIVE" {
                if existing.token == client_token && existing.is_active() {
                    return Ok(existing.arn.clone());
                }
                return Err(err(OP, "InvalidParameterException", "Creation of service was not idempotent."));
            }
        }
        let td = lit(&props.task_definition, OP)?;
        let key = s.ecs.task_def_key(&td).ok_or_else(|| err(OP, "ClientException", "TaskDefinition not found."))?;
        let td = s.ecs.task_defs.get(&key).filter(|t| t.status == "ACTIVE").map(|t| t.arn.clone());
        let td = td.ok_or_else(|| err(OP, "ClientException", "TaskDefinition is inactive."))?;
        s.check_strategy(&cluster, &props.capacity_provider_strategy, OP)?;
        s.check_deployment(&props.deployment_configuration, &props.load_balancers, OP)?;
        for lb in &props.load_balancers {
            let tg = lit(&lb.target_group_arn, OP)?;
            if !s.elb.has_target_group(&tg) {
                return Err(err(
                    OP,
                    "InvalidParameterException",
                    format!("Unable to assume role and validate the specified targetGroupArn: {tg}"),
                ));
            }
            if s.elb.load_balancers_of(&tg).is_empty() {
                return Err(err(
                    OP,
                    "InvalidParameterException",
                    format!("The target group with targetGroupArn {tg} does not have an associated load balancer."),
                ));
            }
        }
        let arn = self.arn("ecs", &format!("service/{cluster}/{}", props.service_name));
        let meta = s.meta(OP, tags);
        let mut stored = props;
        stored.task_definition = RefOr::Value(td.clone());
        stored.cluster = RefOr::Value(cluster.clone());
        if stored.propagate_tags.is_empty() {
            stored.propagate_tags = "NONE".into();
        }
        let key = (cluster.clone(), stored.service_name.clone());
        let index = s.ecs.services.len();
        s.ecs.newest.insert(key, index);
        s.ecs.unsettled.insert(index);
        s.ecs.services.push(Svc {
            name: stored.service_name.clone(),
            cluster,
            arn: arn.clone(),
            props: stored,
            status: "ACTIVE".into(),
            deployments: vec![],
            events: vec![],
            token: client_token,
            since: Instant::now(),
            meta,
            records: Vec::new(),
            serving_tg: None,
            stopped: Vec::new(),
        });
        let index = s.ecs.services.len() - 1;
        s.deploy(index, td);
        let (timing, mut serial) = (s.timing, s.serial);
        s.ecs.advance(Instant::now(), timing, &mut serial);
        s.serial = serial;
        Ok(arn)
    }

    async fn update_service(&self, update: ServiceUpdate) -> AwsResult<()> {
        const OP: &str = "UpdateService";
        let mut s = self.begin(SERVICE, OP).await?;
        let cluster = s.ecs.cluster_name(&update.cluster).ok_or_else(|| no_cluster(OP))?;
        let index = s.ecs.service_index(&cluster, &update.service).ok_or_else(|| no_service(OP))?;
        if !s.ecs.services[index].is_active() {
            return Err(err(OP, "ServiceNotActiveException", "Service was not ACTIVE."));
        }
        let td = match &update.task_definition {
            Some(td) => {
                let key =
                    s.ecs.task_def_key(td).ok_or_else(|| err(OP, "ClientException", "TaskDefinition not found."))?;
                let arn = s.ecs.task_defs.get(&key).filter(|t| t.status == "ACTIVE").map(|t| t.arn.clone());
                Some(arn.ok_or_else(|| err(OP, "ClientException", "TaskDefinition is inactive."))?)
            }
            None => None,
        };
        if let Some(strategy) = &update.capacity_provider_strategy {
            s.check_strategy(&cluster, strategy, OP)?;
        }
        {
            let current = &s.ecs.services[index].props;
            let config = update.deployment_configuration.as_ref().unwrap_or(&current.deployment_configuration);
            let lbs = update.load_balancers.as_deref().unwrap_or(&current.load_balancers);
            s.check_deployment(config, lbs, OP)?;
        }
        if let Some(lbs) = &update.load_balancers {
            for lb in lbs {
                let tg = lit(&lb.target_group_arn, OP)?;
                if s.elb.load_balancers_of(&tg).is_empty() {
                    return Err(err(
                        OP,
                        "InvalidParameterException",
                        format!("The target group with targetGroupArn {tg} does not have an associated load balancer."),
                    ));
                }
            }
        }
        let now = Instant::now();
        s.ecs.unsettled.insert(index);
        let svc = &mut s.ecs.services[index];
        let p = &mut svc.props;
        if let Some(n) = update.desired_count {
            if n != p.desired_count {
                p.desired_count = n;
                if let Some(primary) = svc.deployments.first_mut() {
                    primary.desired = n;
                    if primary.rollout == "COMPLETED" {
                        primary.started = now;
                    }
                }
            }
        }
        let p = &mut svc.props;
        if let Some(c) = update.deployment_configuration {
            p.deployment_configuration = c;
        }
        if let Some(strategy) = update.capacity_provider_strategy {
            p.capacity_provider_strategy = strategy;
        }
        // Another load balancer configuration takes new tasks registered by it.
        let mut redeploy = false;
        if let Some(lbs) = update.load_balancers {
            redeploy = lbs != p.load_balancers;
            p.load_balancers = lbs;
        }
        if let Some(g) = update.health_check_grace_period_seconds {
            p.health_check_grace_period_seconds = Some(g);
        }
        if let Some(placement) = update.placement_strategy {
            p.placement_strategy = placement;
        }
        if let Some(t) = update.propagate_tags {
            p.propagate_tags = t;
        }
        if let Some(m) = update.enable_ecs_managed_tags {
            p.enable_ecs_managed_tags = m;
        }
        if let Some(n) = update.network_configuration {
            p.network_configuration = Some(n);
            p.network_mode = Some("awsvpc".into());
        }
        if let Some(v) = update.platform_version {
            p.platform_version = Some(v);
        }
        let current = literal_or_empty(&p.task_definition);
        let primary_td = svc.deployments.first().map(|d| d.task_definition.clone()).unwrap_or_default();
        let target = td.unwrap_or(current);
        if target != primary_td || update.force_new_deployment || redeploy {
            svc.props.task_definition = RefOr::Value(target.clone());
            s.deploy(index, target);
        }
        let (timing, mut serial) = (s.timing, s.serial);
        s.ecs.advance(Instant::now(), timing, &mut serial);
        s.serial = serial;
        Ok(())
    }

    async fn delete_service(&self, cluster: String, service: String, force: bool) -> AwsResult<()> {
        const OP: &str = "DeleteService";
        let mut s = self.begin(SERVICE, OP).await?;
        let cluster = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
        let index = s.ecs.service_index(&cluster, &service).ok_or_else(|| no_service(OP))?;
        s.ecs.unsettled.insert(index);
        let svc = &mut s.ecs.services[index];
        match svc.status.as_str() {
            "ACTIVE" => {}
            "DRAINING" => return Err(err(OP, "ServiceNotActiveException", "Service was not ACTIVE.")),
            _ => return Err(no_service(OP)),
        }
        if svc.props.desired_count > 0 && !force {
            return Err(err(
                OP,
                "InvalidParameterException",
                "The service cannot be stopped while it is scaled above 0.",
            ));
        }
        svc.status = "DRAINING".into();
        svc.props.desired_count = 0;
        svc.since = Instant::now();
        for d in &mut svc.deployments {
            d.desired = 0;
        }
        let (timing, mut serial) = (s.timing, s.serial);
        s.ecs.advance(Instant::now(), timing, &mut serial);
        s.serial = serial;
        Ok(())
    }

    async fn list_service_deployments(&self, cluster: String, service: String) -> AwsResult<Vec<String>> {
        const OP: &str = "ListServiceDeployments";
        let s = self.begin(SERVICE, OP).await?;
        let cluster = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
        let index = s.ecs.service_index(&cluster, &service).ok_or_else(|| no_service(OP))?;
        Ok(s.ecs.services[index].records.iter().rev().map(|r| r.arn.clone()).collect())
    }

    async fn describe_service_deployments(&self, arns: Vec<String>) -> AwsResult<Vec<ServiceDeployment>> {
        const OP: &str = "DescribeServiceDeployments";
        let mut s = self.begin(SERVICE, OP).await?;
        if arns.len() > 20 {
            return Err(err(
                OP,
                "InvalidParameterException",
                "At most 20 service deployments can be described at once.",
            ));
        }
        let origin = *s.ecs.origin.get_or_insert(Instant::now());
        Ok(s.ecs
            .services
            .iter()
            .flat_map(|svc| svc.records.iter())
            .filter(|r| arns.contains(&r.arn))
            .map(|r| r.view(origin))
            .collect())
    }

    async fn stopped_tasks(&self, cluster: String, service: String) -> AwsResult<Vec<StoppedTask>> {
        const OP: &str = "ListTasks";
        let stopped = {
            let s = self.begin(SERVICE, OP).await?;
            let cluster = s.ecs.cluster_name(&cluster).ok_or_else(|| no_cluster(OP))?;
            let Some(index) = s.ecs.service_index(&cluster, &service) else { return Ok(Vec::new()) };
            s.ecs.services[index].stopped.iter().take(100).cloned().collect::<Vec<_>>()
        };
        if stopped.is_empty() {
            return Ok(stopped);
        }
        // DescribeTasks, for the fault matrix and the call counts.
        drop(self.begin(SERVICE, "DescribeTasks").await?);
        Ok(stopped)
    }

    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagResource";
        let mut s = self.begin(SERVICE, OP).await?;
        let t = s
            .ecs
            .tags_of(&arn)
            .ok_or_else(|| err(OP, "ResourceNotFoundException", "The specified resource is not found."))?;
        merge_tags(t, tags);
        Ok(())
    }

    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "UntagResource";
        let mut s = self.begin(SERVICE, OP).await?;
        let t = s
            .ecs
            .tags_of(&arn)
            .ok_or_else(|| err(OP, "ResourceNotFoundException", "The specified resource is not found."))?;
        remove_tags(t, &keys);
        Ok(())
    }
}
