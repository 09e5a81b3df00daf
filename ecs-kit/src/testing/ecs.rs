//! The fake's ECS: capacity providers, clusters, task definitions, and services whose
//! deployments progress with time (or fail and roll back).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{aws_error, epoch, hex, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, Timing};
use crate::aws::{
    literal, AwsError, AwsResult, Deployment, EcsApi, ErrorKind, Found, LiveService, ServiceEvent, ServiceStatus,
    ServiceUpdate, Tags,
};
use crate::graph::props::{
    CapacityProviderProps, ClusterProps, CountOwner, RefOr, ServiceProps, StrategyItem, TaskDefinitionProps,
};
use crate::graph::ResourceType;

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
    /// How long its rollout takes.
    lasts: Duration,
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
    /// The newest service of each (cluster, name): its index in `services`.
    newest: BTreeMap<(String, String), usize>,
    /// Services that time may still change (a deployment in progress, draining, counts
    /// not reached): the only ones `advance` looks at.
    unsettled: std::collections::BTreeSet<usize>,
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
            self.advance_service(i, now, timing, serial);
            let svc = &self.services[i];
            let settled = svc.status == "INACTIVE"
                || (svc.is_active()
                    && svc.deployments.first().is_none_or(|p| p.rollout != "IN_PROGRESS" && p.running == p.desired));
            if settled {
                self.unsettled.remove(&i);
            }
        }
        // Deleted revisions go once nothing runs them.
        if self.deleting > 0 {
            let used: std::collections::BTreeSet<&str> =
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

    /// Moves the service at `i` along to `now`.
    fn advance_service(&mut self, i: usize, now: Instant, timing: Timing, serial: &mut u64) {
        {
            let svc = &mut self.services[i];
            if svc.status == "DRAINING" && now.saturating_duration_since(svc.since) >= timing.service_drain {
                svc.status = "INACTIVE".into();
                svc.deployments.clear();
                return;
            }
            if !svc.is_active() || svc.deployments.is_empty() {
                return;
            }
            // Settled: nothing to move along (the common case, checked without copies).
            let primary = &svc.deployments[0];
            if primary.rollout != "IN_PROGRESS" && primary.running == primary.desired {
                return;
            }
            let name = svc.name.clone();
            let breaker = svc.props.deployment_configuration.deployment_circuit_breaker;
            let primary = &mut svc.deployments[0];
            let due = now.saturating_duration_since(primary.started) >= primary.lasts;
            if primary.rollout == "IN_PROGRESS" && due {
                let at = primary.started + primary.lasts;
                let id = primary.id.clone();
                if primary.fails && breaker.enable {
                    primary.rollout = "FAILED".into();
                    primary.reason = Some(BREAKER_REASON.into());
                    primary.running = 0;
                    let previous = svc.deployments.iter().skip(1).find(|d| d.rollout != "FAILED").cloned();
                    self.event(
                        i,
                        serial,
                        at,
                        format!("(service {name}) (deployment {id}) deployment failed: tasks failed to start."),
                    );
                    let svc = &mut self.services[i];
                    if let (true, Some(prev)) = (breaker.rollback, previous) {
                        let rollback = Dep {
                            id: format!("ecs-svc/{}", &hex(serial, 19)),
                            status: "PRIMARY".into(),
                            task_definition: prev.task_definition.clone(),
                            desired: svc.props.desired_count,
                            running: prev.running,
                            rollout: "IN_PROGRESS".into(),
                            reason: None,
                            started: at,
                            fails: false,
                            lasts: timing.deployment,
                        };
                        let rollback_id = rollback.id.clone();
                        svc.deployments[0].status = "ACTIVE".into();
                        svc.deployments.retain(|d| d.id != prev.id);
                        svc.deployments.insert(0, rollback);
                        svc.props.task_definition = RefOr::Value(prev.task_definition);
                        self.event(
                            i,
                            serial,
                            at,
                            format!("(service {name}) rolling back to deployment {rollback_id}."),
                        );
                    }
                } else if primary.fails {
                    // Without the circuit breaker ECS keeps trying to start tasks.
                    primary.started = now;
                    self.event(
                        i,
                        serial,
                        at,
                        format!("(service {name}) is unable to consistently start tasks successfully."),
                    );
                } else {
                    primary.rollout = "COMPLETED".into();
                    primary.running = primary.desired;
                    let started = primary.desired;
                    svc.deployments.truncate(1);
                    self.event(i, serial, at, format!("(service {name}) has started {started} tasks."));
                    self.event(i, serial, at, format!("(service {name}) (deployment {id}) deployment completed."));
                    self.event(i, serial, at, format!("(service {name}) has reached a steady state."));
                }
            } else if primary.rollout == "COMPLETED" && primary.running != primary.desired && due {
                let at = primary.started + primary.lasts;
                primary.running = primary.desired;
                self.event(i, serial, at, format!("(service {name}) has reached a steady state."));
            }
        }
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
            .filter(|s| {
                s.is_active() && s.props.load_balancers.iter().any(|l| literal_or_empty(&l.target_group_arn) == tg)
            })
            .map(|s| s.deployments.iter().map(|d| d.running).sum::<u32>())
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

    /// A new deployment of `task_definition` for the service at `index`, the old
    /// primary demoted.
    fn deploy(&mut self, index: usize, task_definition: String) {
        let id = format!("ecs-svc/{}", hex(&mut self.serial, 19));
        let fails = self.failing_services.contains(&self.ecs.services[index].name);
        let lasts = self.deployment_time(index);
        self.ecs.unsettled.insert(index);
        let svc = &mut self.ecs.services[index];
        for d in &mut svc.deployments {
            d.status = "ACTIVE".into();
        }
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
                started: Instant::now(),
                fails,
                lasts,
            },
        );
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
        if let Some(lbs) = update.load_balancers {
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
        if target != primary_td || update.force_new_deployment {
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
