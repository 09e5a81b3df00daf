//! `ecs:service`: a rolling deployment on every change, settled once stable as AWS's
//! services-stable waiter defines it.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::{Deployment, ServiceUpdate};
use crate::graph::props::{AwsVpcConfiguration, CountOwner, ServiceProps, StrategyItem};
use crate::graph::{LogicalId, ResourceType};
use crate::graph::{RefOr, Resource};
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{client_token, gone_ok, lit, step_error, until_gone, wait_until, Cx, Kind, Physical, Schema};
use crate::resources::{is_gone, Read, ReadCx};
use crate::resources::{Tagging, Waits};
use crate::walk::StepError;

pub(crate) struct Service;

/// Sets what UpdateService can change (some implementations, moto among them, drop
/// these on create).
async fn update_service(cx: &Cx<'_>, p: &ServiceProps, desired_count: Option<u32>) -> Result<(), StepError> {
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
        deployment_configuration: Some(p.deployment_configuration),
        capacity_provider_strategy: Some(strategy),
        health_check_grace_period_seconds: p.health_check_grace_period_seconds,
        placement_strategy: Some(p.placement_strategy.clone()),
        enable_ecs_managed_tags: Some(p.enable_ecs_managed_tags),
        network_configuration: p.network_configuration.as_ref().map(resolved_network).transpose()?,
        platform_version: p.platform_version.clone(),
        ..ServiceUpdate::default()
    };
    cx.clients.ecs.update_service(update).await.map_err(step_error)
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

/// Waits until the service is stable (one deployment, running == desired), failing on a
/// circuit-breaker rollback (rollout FAILED, or the service moved off the task
/// definition deployed), with its events. New ECS events are noted as they arrive.
pub(crate) async fn wait_stable(
    cx: &Cx<'_>,
    cluster: &str,
    service: &str,
    task_definition: &str,
    waits: Waits,
) -> Result<(), StepError> {
    // ECS events already there before the wait are not news.
    let seen = Mutex::new(None::<BTreeSet<String>>);
    wait_until(&format!("service {service} to be stable"), waits, || async {
        let found =
            cx.clients.ecs.describe_services(cluster.to_owned(), vec![service.to_owned()]).await.map_err(step_error)?;
        let Some(live) = found.first() else { return Ok(false) };
        let s = &live.status;
        {
            let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let first = seen.is_none();
            let known = seen.get_or_insert_with(Default::default);
            let mut news: Vec<_> = s.events.iter().filter(|e| known.insert(e.id.clone()) && !first).collect();
            news.sort_by_key(|e| e.at_epoch_seconds);
            for e in news {
                crate::walk::note(&e.message);
            }
        }
        let events = || s.events.iter().take(5).map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
        // Only the deployment this apply started counts: an earlier failed rollout stays
        // listed (ACTIVE, rollout FAILED) while it drains under a newer deployment.
        let failed = |d: &&Deployment| d.rollout_state.as_deref() == Some("FAILED");
        if let Some(failed) = s.deployments.iter().filter(|d| d.status == "PRIMARY").find(failed) {
            return Err(StepError::Fatal(format!(
                "deployment of {service} failed ({}): {}",
                failed.rollout_reason.clone().unwrap_or_default(),
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
                    "deployment of {service} failed ({reason}) and was rolled back to {current}: {}",
                    events()
                )));
            }
        }
        Ok(s.deployments.len() == 1 && s.running == s.desired)
    })
    .await
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
        let Some(cluster) = cx.earlier(ResourceType::Cluster).next().map(|c| c.id.clone()) else { return Ok(read) };
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
            read.found.push(service.found);
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ServiceProps) -> Result<Physical, StepError> {
        let (token, digest) = client_token(cx.stack, r, &p);
        let prefix: String = token.chars().filter(char::is_ascii_alphanumeric).take(28).collect();
        let arn = cx
            .clients
            .ecs
            .create_service(p.clone(), format!("{prefix}{digest}"), r.tags.clone())
            .await
            .map_err(step_error)?;
        update_service(cx, &p, Some(p.desired_count)).await?;
        Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None })
    }

    /// A rolling deployment (the count only where the stack owns it).
    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: ServiceProps,
        _h: ServiceProps,
    ) -> Result<Option<Physical>, StepError> {
        let count = (w.desired_count_owner == CountOwner::Stack).then_some(w.desired_count);
        update_service(cx, &w, count).await?;
        Ok(None)
    }

    async fn settle(cx: &Cx<'_>, _r: &Resource, p: &ServiceProps) -> Result<(), StepError> {
        wait_stable(cx, &lit(&p.cluster)?, &p.service_name, &lit(&p.task_definition)?, cx.waits).await
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
