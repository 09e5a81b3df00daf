//! `ecs:service`: a deployment on every change (rolling, blue/green, canary or linear),
//! settled by following the service deployment itself and failing fast when it is
//! rolled back or no task starts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::{Deployment, ServiceDeployment, ServiceUpdate};
use crate::graph::props::{AwsVpcConfiguration, CountOwner, ServiceProps, StrategyItem};
use crate::graph::props::{DeploymentConfiguration, DeploymentStrategy, ServiceLoadBalancer};
use crate::graph::{LogicalId, Properties, ResourceType};
use crate::graph::{RefOr, Resource};
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{client_token, gone_ok, lit, step_error, until_gone, wait_until, Cx, Kind, Physical, Schema};
use crate::resources::{is_gone, Read, ReadCx};
use crate::resources::{Tagging, Waits};
use crate::walk::StepError;

pub(crate) struct Service;

/// Sets what UpdateService can change (some implementations, moto among them, drop
/// these on create); the load balancers only when given (a change of them starts a
/// deployment).
async fn update_service(
    cx: &Cx<'_>,
    p: &ServiceProps,
    desired_count: Option<u32>,
    load_balancers: Option<Vec<ServiceLoadBalancer>>,
) -> Result<(), StepError> {
    let strategy = p
        .capacity_provider_strategy
        .iter()
        .map(|s| {
            Ok(StrategyItem {
                capacity_provider: RefOr::Value(lit(&s.capacity_provider)?),
                weight: s.weight,
                base: s.base,
            })
        })
        .collect::<Result<Vec<_>, StepError>>()?;
    let update = ServiceUpdate {
        cluster: lit(&p.cluster)?,
        service: p.service_name.clone(),
        task_definition: Some(lit(&p.task_definition)?),
        desired_count,
        deployment_configuration: Some(p.deployment_configuration.clone()),
        capacity_provider_strategy: Some(strategy),
        load_balancers,
        health_check_grace_period_seconds: p.health_check_grace_period_seconds,
        placement_strategy: Some(p.placement_strategy.clone()),
        enable_ecs_managed_tags: Some(p.enable_ecs_managed_tags),
        network_configuration: p.network_configuration.as_ref().map(resolved_network).transpose()?,
        platform_version: p.platform_version.clone(),
        ..ServiceUpdate::default()
    };
    cx.clients.ecs.update_service(update).await.map_err(step_error)
}

/// The record ([`crate::model::REVISION_TAG`]) of the revision `p` deploys: its number
/// and the content digest its task definition's step or read knows.
fn revision_record(cx: &Cx<'_>, r: &Resource, p: &ServiceProps) -> Option<(String, String)> {
    let crate::graph::Properties::Service(declared) = &*r.properties else { return None };
    let RefOr::Ref(td) = &declared.task_definition else { return None };
    let digest = cx.known.get(&td.id)?.digest.clone()?;
    let arn = lit(&p.task_definition).ok()?;
    let revision = arn.rsplit(':').next()?;
    Some((crate::model::REVISION_TAG.to_owned(), format!("{revision} {digest}")))
}

/// The network configuration with its references resolved.
fn resolved_network(n: &AwsVpcConfiguration) -> Result<AwsVpcConfiguration, StepError> {
    let values = |v: &[RefOr<String>]| -> Result<Vec<RefOr<String>>, StepError> {
        v.iter().map(|x| lit(x).map(RefOr::Value)).collect()
    };
    Ok(AwsVpcConfiguration {
        subnets: values(&n.subnets)?,
        security_groups: values(&n.security_groups)?,
        assign_public_ip: n.assign_public_ip.clone(),
    })
}

/// Which of the two target groups ECS calls the alternate may change with each
/// deployment: `want` takes `have`'s order when the pair is the same.
fn same_pair(want: &mut ServiceProps, have: &ServiceProps) {
    for (w, h) in want.load_balancers.iter_mut().zip(&have.load_balancers) {
        if let (Some(wa), Some(ha)) = (w.advanced.as_mut(), h.advanced.as_ref()) {
            if wa.alternate_target_group_arn == h.target_group_arn
                && w.target_group_arn == ha.alternate_target_group_arn
            {
                std::mem::swap(&mut wa.alternate_target_group_arn, &mut w.target_group_arn);
            }
        }
    }
}

/// When `w` leaves the strategy `h` shifts traffic by (its load balancer has no
/// advanced configuration any more): the production rule's ARN and the target group
/// the service keeps, both literal.
fn leaving_strategy(w: &ServiceProps, h: &ServiceProps) -> Option<(String, String)> {
    let (want, have) = (w.load_balancers.first()?, h.load_balancers.first()?);
    let advanced = have.advanced.as_ref().filter(|_| want.advanced.is_none())?;
    Some((lit(&advanced.production_listener_rule).ok()?, lit(&want.target_group_arn).ok()?))
}

/// Moves production traffic back to the target group `own` when ECS serves from the
/// other one (the production rule `rule` weighs it heavier): one more deployment by the
/// service's current strategy (its own checks, hooks and rollback), waited for.
async fn traffic_back(cx: &Cx<'_>, h: &ServiceProps, rule: &str, own: &str) -> Result<(), StepError> {
    let elb = cx.clients.elb.as_ref();
    let live = crate::resources::elbv2::listener_rule::live_rule(elb, rule).await.map_err(step_error)?;
    let serving = live.and_then(|(r, _)| lit(&r.target_group_arn).ok());
    let Some(serving) = serving.filter(|s| s != own) else { return Ok(()) };
    let (cluster, td) = (lit(&h.cluster)?, lit(&h.task_definition)?);
    crate::walk::note(&format!(
        "ECS serves {} from {}: one more {} deployment moves traffic back to {} before the switch to rolling",
        h.service_name,
        serving.split('/').nth(1).unwrap_or(&serving),
        h.deployment_configuration.strategy.as_str().to_ascii_lowercase().replace('_', "/"),
        own.split('/').nth(1).unwrap_or(own),
    ));
    let force = ServiceUpdate {
        cluster: cluster.clone(),
        service: h.service_name.clone(),
        force_new_deployment: true,
        ..ServiceUpdate::default()
    };
    cx.clients.ecs.update_service(force).await.map_err(step_error)?;
    wait_stable(cx, &cluster, &h.service_name, &td, cx.waits, &h.deployment_configuration).await
}

/// The minutes a strategy bakes on purpose (after the canary, each linear step, and
/// once all traffic has shifted): a settle wait allows them on top of its budget.
fn planned_minutes(c: &DeploymentConfiguration) -> u64 {
    let bake = u64::from(c.bake_time_in_minutes.unwrap_or(0));
    match c.strategy {
        DeploymentStrategy::Rolling => 0,
        DeploymentStrategy::BlueGreen => bake,
        DeploymentStrategy::Canary => bake + c.canary.map_or(0, |k| u64::from(k.bake_time_in_minutes)),
        DeploymentStrategy::Linear => {
            let Some(l) = c.linear else { return bake };
            let step = u64::from(l.percent.in_tenths().max(1));
            bake + (1000u64.div_ceil(step).saturating_sub(1)) * u64::from(l.bake_time_in_minutes)
        }
    }
}

/// What a settle wait has seen so far.
#[derive(Default)]
struct Watch {
    /// ECS event ids seen (`None` before the first poll: those are not news).
    events: Option<BTreeSet<String>>,
    /// Stopped tasks seen.
    stopped: BTreeSet<String>,
    /// Failed tasks counted by the deployments at the last look at stopped tasks.
    failed_tasks: Option<u32>,
    /// The latest stopped tasks, described.
    last_stopped: Vec<String>,
    /// Whether ListServiceDeployments answers (`None`: not asked yet).
    deployments_api: Option<bool>,
    /// Its transient failures in a row.
    api_failures: u32,
    /// The last progress reported.
    progress: Option<String>,
    /// The lifecycle hooks seen, by id, with the stage they were seen at.
    hooks: BTreeMap<String, (crate::aws::HookStatus, String)>,
    /// The service deployment of this revision, once found: asked for directly after.
    deployment: Option<String>,
}

impl Watch {
    /// `; last stopped: ...` when tasks stopped during the wait.
    fn stopped_text(&self) -> String {
        if self.last_stopped.is_empty() {
            String::new()
        } else {
            format!("; last stopped: {}", self.last_stopped.join("; "))
        }
    }
}

/// Waits until the service's deployment is done, following it as it goes: the service
/// deployment's status and stage (ListServiceDeployments / DescribeServiceDeployments,
/// where AWS has them), the service's events and the stopped tasks' reasons and exit
/// codes, each reported as it happens. Fails as soon as the deployment is rolled back
/// or stopped (circuit breaker, alarm, lifecycle hook), naming why (the hook that failed
/// and the stage it ran at); when no task of the new revision
/// runs within `waits.timeout`; or past `waits.timeout` plus the strategy's bake times.
/// Without the deployment API (moto), done is AWS's services-stable: one deployment,
/// running == desired, and not rolled back.
pub(crate) async fn wait_stable(
    cx: &Cx<'_>,
    cluster: &str,
    service: &str,
    task_definition: &str,
    waits: Waits,
    config: &DeploymentConfiguration,
) -> Result<(), StepError> {
    let watch = Mutex::new(Watch::default());
    let start = tokio::time::Instant::now();
    let budget = waits.timeout;
    let overall = Waits { timeout: budget + Duration::from_secs(60 * planned_minutes(config)), ..waits };
    let ecs = &cx.clients.ecs;
    wait_until(&format!("service {service} to be stable"), overall, || async {
        let found = ecs.describe_services(cluster.to_owned(), vec![service.to_owned()]).await.map_err(step_error)?;
        let Some(live) = found.first() else { return Ok(false) };
        let s = &live.status;
        {
            let mut w = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let first = w.events.is_none();
            let known = w.events.get_or_insert_with(Default::default);
            let mut news: Vec<_> = s.events.iter().filter(|e| known.insert(e.id.clone()) && !first).collect();
            news.sort_by_key(|e| e.at_epoch_seconds);
            for e in news {
                crate::walk::note(&e.message);
            }
        }
        // Stopped tasks, when the deployments count more failed tasks than last time.
        let failed: u32 = s.deployments.iter().map(|d| d.failed_tasks).sum();
        let seen_failed = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).failed_tasks;
        if failed > 0 && seen_failed != Some(failed) {
            // What stopped tasks say is news, not a condition: a failed read waits for the next poll.
            let read = ecs.stopped_tasks(cluster.to_owned(), service.to_owned()).await;
            let mut w = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let tasks = match read {
                Ok(tasks) => {
                    w.failed_tasks = Some(failed);
                    tasks
                }
                Err(e) => {
                    tracing::debug!("{e}: stopped tasks of {service} not read");
                    Vec::new()
                }
            };
            let mut news: Vec<_> = tasks.iter().filter(|t| w.stopped.insert(t.arn.clone())).collect();
            news.sort_by_key(|t| t.stopped_at);
            for t in news {
                let text = t.describe();
                crate::walk::note(&format!("(service {service}) {text}"));
                w.last_stopped.push(text);
            }
            let keep = w.last_stopped.len().saturating_sub(3);
            w.last_stopped.drain(..keep);
        }
        let events = || s.events.iter().take(5).map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
        let stopped = || watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).stopped_text();
        // The service deployment of this revision, where AWS reports them.
        let ours = s.deployments.iter().find(|d| d.task_definition == task_definition);
        if let Some(d) =
            service_deployment(ecs.as_ref(), cluster, service, ours.and_then(|d| d.created_at), &watch).await?
        {
            let progress = d.progress(crate::aws::epoch_now());
            let failed_hooks = {
                let mut w = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if w.progress.as_ref() != Some(&progress) {
                    crate::walk::note(&format!("(service {service}) deployment: {progress}"));
                    w.progress = Some(progress.clone());
                }
                let stage = d.lifecycle_stage.clone().unwrap_or_default();
                for h in &d.hooks {
                    // A hook's stage is the one it was last seen running at; one first seen
                    // done (or failed) ran at the stage of that poll.
                    let at = match w.hooks.get(&h.id) {
                        Some((_, seen)) if h.status != "IN_PROGRESS" => seen.clone(),
                        _ => stage.clone(),
                    };
                    w.hooks.insert(h.id.clone(), (h.clone(), at));
                }
                let failed: String = w
                    .hooks
                    .values()
                    .filter(|(h, _)| h.failed())
                    .map(|(h, at)| format!("; hook {} {} at {at}", h.target_arn, h.status))
                    .collect();
                // When AWS no longer lists the hook that failed, the ones last seen running.
                if failed.is_empty() && d.failed() {
                    w.hooks
                        .values()
                        .filter(|(h, _)| h.status == "IN_PROGRESS")
                        .map(|(h, at)| format!("; hook {} was running at {at}", h.target_arn))
                        .collect()
                } else {
                    failed
                }
            };
            if d.failed() {
                let alarms = if d.triggered_alarms.is_empty() {
                    String::new()
                } else {
                    format!("; alarms in ALARM: {}", d.triggered_alarms.join(", "))
                };
                return Err(StepError::Fatal(format!(
                    "deployment of {service} failed: {progress}{alarms}{failed_hooks}{}; events: {}",
                    stopped(),
                    events()
                )));
            }
        }
        // Only the deployment this apply started counts: an earlier failed rollout stays
        // listed (ACTIVE, rollout FAILED) while it drains under a newer deployment.
        let failed = |d: &&Deployment| d.rollout_state.as_deref() == Some("FAILED");
        if let Some(failed) = s.deployments.iter().filter(|d| d.status == "PRIMARY").find(failed) {
            return Err(StepError::Fatal(format!(
                "deployment of {service} failed ({}){}; events: {}",
                failed.rollout_reason.clone().unwrap_or_default(),
                stopped(),
                events()
            )));
        }
        // After a circuit-breaker rollback the service runs the previous revision.
        if let RefOr::Value(current) = &live.found.props.task_definition {
            if current != task_definition {
                let reason = s
                    .deployments
                    .iter()
                    .filter(|d| d.task_definition == task_definition)
                    .find(failed)
                    .and_then(|d| d.rollout_reason.clone())
                    .unwrap_or_default();
                return Err(StepError::Fatal(format!(
                    "deployment of {service} failed ({reason}) and was rolled back to {current}{}; events: {}",
                    stopped(),
                    events()
                )));
            }
        }
        let done = s.deployments.len() == 1 && s.running == s.desired;
        // No task of the new revision running within the budget: it will not get better.
        if !done && start.elapsed() >= budget && ours.is_none_or(|d| d.running == 0) {
            return Err(StepError::Fatal(format!(
                "no task of {service} ({}) was running after {}{}; events: {}",
                task_definition.rsplit('/').next().unwrap_or(task_definition),
                humantime::format_duration(budget),
                stopped(),
                events()
            )));
        }
        Ok(done)
    })
    .await
}

/// The service deployment created with the ECS deployment `created_at` (the newest
/// one when that is unknown), if AWS reports service deployments; remembers in `watch`
/// when it does not (moto answers ListServiceDeployments with an error).
async fn service_deployment(
    ecs: &dyn crate::aws::EcsApi,
    cluster: &str,
    service: &str,
    created_at: Option<i64>,
    watch: &Mutex<Watch>,
) -> Result<Option<ServiceDeployment>, StepError> {
    let known = {
        let w = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if w.deployments_api == Some(false) {
            return Ok(None);
        }
        w.deployment.clone()
    };
    // Found at an earlier poll: its ARN does not change (a rollback is one of its states).
    if let Some(arn) = known {
        return match ecs.describe_service_deployments(vec![arn]).await {
            Ok(found) => Ok(found.into_iter().next()),
            // Next poll.
            Err(e) if e.kind.is_transient() => Ok(None),
            Err(e) => Err(step_error(e)),
        };
    }
    // Without an answer the wait still knows what services-stable knows: it goes on
    // with DescribeServices alone rather than fail (moto answers with an error, for
    // good; throttling for this poll).
    let arns = match ecs.list_service_deployments(cluster.to_owned(), service.to_owned()).await {
        Ok(arns) => arns,
        // Throttled or unavailable: asked again at the next poll, three times (moto
        // answers 500 for good).
        Err(e)
            if e.kind.is_transient() && {
                let mut w = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                w.api_failures += 1;
                w.api_failures < 3
            } =>
        {
            return Ok(None)
        }
        Err(e) => {
            tracing::debug!("{e}: following {service} by DescribeServices alone");
            watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).deployments_api = Some(false);
            return Ok(None);
        }
    };
    {
        let mut w = watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        w.deployments_api = Some(true);
        w.api_failures = 0;
    }
    // The newest few: the one of this revision is among them.
    let newest: Vec<String> = arns.into_iter().take(5).collect();
    if newest.is_empty() {
        return Ok(None);
    }
    let mut found = match ecs.describe_service_deployments(newest).await {
        Ok(found) => found,
        // Next poll.
        Err(e) if e.kind.is_transient() => return Ok(None),
        Err(e) => return Err(step_error(e)),
    };
    found.sort_by_key(|d| std::cmp::Reverse(d.created_at));
    // Created at (or just after) the ECS deployment of this revision; else the newest.
    let ours =
        created_at.and_then(|at| found.iter().rev().find(|d| d.created_at.is_some_and(|c| c >= at - 5)).cloned());
    if let Some(d) = &ours {
        watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).deployment = Some(d.arn.clone());
    }
    Ok(ours.or_else(|| found.into_iter().next()))
}

#[async_trait]
impl Kind for Service {
    type Props = ServiceProps;
    const SCHEMA: Schema = Schema {
        read_after: &[crate::graph::ResourceType::Cluster],
        // Bridge and awsvpc (EC2 and Fargate) tasks do not mix in one service.
        replace_on: &["service_name", "cluster", "network_mode"],
        interrupts: true,
        ..Schema::new(Tagging::Ecs, 0)
    };

    fn normalise(w: &mut ServiceProps, h: &ServiceProps, _ctx: &Context) {
        if w.desired_count_owner == CountOwner::External {
            w.desired_count = h.desired_count;
        }
        same_pair(w, h);
    }

    fn declared(live: &mut ServiceProps, desired: &ServiceProps) {
        live.desired_count_owner = desired.desired_count_owner;
    }

    fn summary(p: &ServiceProps) -> String {
        let owned = if p.desired_count_owner == CountOwner::External { " at start (count owned outside)" } else { "" };
        // Fargate's providers are named as they are; the instances' is a reference.
        let on = match p.capacity_provider_strategy.first().map(|s| &s.capacity_provider) {
            Some(RefOr::Value(provider)) => format!(" on {provider}"),
            _ => String::new(),
        };
        format!("{} tasks{owned}{on}", p.desired_count)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ServiceProps>, AwsError> {
        // The services of the stack's own cluster.
        let mut read = Read::default();
        let Some((cluster, cluster_name)) = cx.earlier(ResourceType::Cluster).next().map(|c| {
            let name = match &c.props {
                Properties::Cluster(p) => p.cluster_name.clone(),
                _ => c.id.rsplit('/').next().unwrap_or_default().to_owned(),
            };
            (c.id.clone(), name)
        }) else {
            return Ok(read);
        };
        let ecs = &cx.clients.ecs;
        let arns = ecs.list_services(cluster.clone()).await?;
        let names: Vec<String> = arns.iter().filter_map(|a| a.rsplit('/').next()).map(str::to_owned).collect();
        if names.is_empty() {
            return Ok(read);
        }
        for service in ecs.describe_services(cluster, names).await? {
            if is_gone(Some(service.status.status.as_str())) || !cx.owned(&service.found.tags) {
                continue;
            }
            if let Some(id) = service.found.tags.get(crate::model::ID_TAG) {
                read.services.insert(LogicalId::new(id.clone()), service.status);
            }
            let mut found = service.found;
            // AWS names the cluster by its ARN, the declaration by its name: the same one.
            found.props.cluster = RefOr::Value(cluster_name.clone());
            read.found.push(found);
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ServiceProps) -> Result<Physical, StepError> {
        let (token, digest) = client_token(cx.stack, r, &p);
        let prefix: String = token.chars().filter(char::is_ascii_alphanumeric).take(28).collect();
        let mut tags = r.tags.clone();
        tags.extend(revision_record(cx, r, &p));
        let arn =
            cx.clients.ecs.create_service(p.clone(), format!("{prefix}{digest}"), tags).await.map_err(step_error)?;
        update_service(cx, &p, Some(p.desired_count), None).await?;
        Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    /// A deployment of the declared configuration (the count only where the stack owns
    /// it). Back to rolling from a strategy while ECS serves from the alternate target
    /// group, one more deployment by the strategy moves traffic back to the service's
    /// own group first; the production rule then forwards to that group alone.
    async fn update(
        cx: &Cx<'_>,
        r: &Resource,
        live: &LiveResource,
        w: ServiceProps,
        h: ServiceProps,
    ) -> Result<Option<Physical>, StepError> {
        let mut w = w;
        same_pair(&mut w, &h);
        let leaving = leaving_strategy(&w, &h);
        if let Some((rule, own)) = &leaving {
            traffic_back(cx, &h, rule, own).await?;
        }
        let count = (w.desired_count_owner == CountOwner::Stack).then_some(w.desired_count);
        let load_balancers = (w.load_balancers != h.load_balancers).then(|| w.load_balancers.clone());
        update_service(cx, &w, count, load_balancers).await?;
        if let Some((rule, own)) = &leaving {
            let elb = cx.clients.elb.as_ref();
            let narrowed = crate::resources::elbv2::listener_rule::narrow_production_rule(elb, cx.stack, rule, own);
            narrowed.await.map_err(step_error)?;
        }
        if let Some((key, record)) = revision_record(cx, r, &w) {
            if live.tags.get(&key) != Some(&record) {
                // Only a saving for the next plan: without it, that plan reads the revision.
                let arn = live.arn.clone().unwrap_or_else(|| live.aws_id.clone());
                let tags: crate::aws::Tags = [(key, record)].into();
                let tagged = crate::aws::retry_transient(|| cx.clients.ecs.tag_resource(arn.clone(), tags.clone()));
                if let Err(e) = tagged.await {
                    tracing::warn!("recording the task definition revision of {}: {e}", r.id);
                }
            }
        }
        Ok(None)
    }

    async fn settle(cx: &Cx<'_>, _r: &Resource, p: &ServiceProps) -> Result<(), StepError> {
        let (cluster, td) = (lit(&p.cluster)?, lit(&p.task_definition)?);
        wait_stable(cx, &cluster, &p.service_name, &td, cx.waits, &p.deployment_configuration).await
    }

    /// Forced (no scaling to zero first); gone once INACTIVE.
    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: ServiceProps) -> Result<(), StepError> {
        let (ecs, cluster, service) = (&cx.clients.ecs, lit(&p.cluster)?, p.service_name);
        gone_ok(ecs.delete_service(cluster.clone(), service.clone(), true).await)?;
        until_gone(&format!("service {service}"), cx.waits, || async {
            let found = ecs.describe_services(cluster.clone(), vec![service.clone()]).await?;
            Ok(found.iter().all(|s| matches!(s.status.status.as_str(), "INACTIVE")))
        })
        .await
    }
}
