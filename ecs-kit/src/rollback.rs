//! `rollback`: services back to the task definition revision they ran before their
//! last deploy, concurrently, each waited for as apply waits for a deployment.
//!
//! The revision to go back to is found in AWS, without a state file:
//! - while a deployment is still rolling out, the revision of the deployment it
//!   replaces (the newest one still listed that did not fail);
//! - else the newest revision of the service's family below the one it runs, ACTIVE or
//!   INACTIVE. ecs-kit deregisters revisions only when it deletes a service's task
//!   definition, but a pipeline or a person may deregister older ones: AWS does not
//!   let a service move to an INACTIVE revision, so such a revision is registered
//!   again (same content, a new revision number) and the service moves to that.
//!
//! A service named on the command line that is not deployed, or runs the oldest
//! revision of its family, has nothing to roll back to: an error naming it. With no
//! names, such services are skipped (each named with why) and the others roll back;
//! only when none can, it is an error naming each. Rollback is not a toggle: rolling back twice goes two revisions
//! back. The declaration is not changed: the next plan shows the service's revision
//! (and, for a stack-owned image, the image) differing from the declaration.
//!
//! [`rollback`] holds the stack's [lock](crate::lock) like apply.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::aws::{retry_transient, AwsError, Clients, ServiceUpdate};
use crate::graph::{Graph, LogicalId, ResourceType};
use crate::model::Stack;
use crate::walk::{walk, Observer, Report, RetryPolicy, Step, StepError, WalkOptions};

/// One service to roll back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Its logical id (`service/products`).
    pub id: LogicalId,
    /// The service's name.
    pub service: String,
    /// The cluster's name.
    pub cluster: String,
    /// The revision it runs (ARN).
    pub from: String,
    /// The image that revision runs.
    pub from_image: Option<String>,
    /// The revision it goes back to (ARN).
    pub to: String,
    /// The image of that revision.
    pub to_image: Option<String>,
    /// Whether `to` is INACTIVE (deregistered) and is registered again first.
    pub reregister: bool,
    /// The service's deployment configuration (its strategy and bake times), which the
    /// wait follows.
    #[serde(skip)]
    pub deployment: crate::graph::props::DeploymentConfiguration,
}

impl Target {
    /// `family:revision` of an ARN.
    #[must_use]
    pub fn short(arn: &str) -> &str {
        arn.rsplit('/').next().unwrap_or(arn)
    }

    /// The line `rollback` shows for it.
    #[must_use]
    pub fn render(&self) -> String {
        let image = |i: &Option<String>| i.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
        let again = if self.reregister { ", deregistered: registered again as a new revision" } else { "" };
        format!(
            "  ~ {:<30} {}{} -> {}{}{again}",
            self.id.as_str(),
            Self::short(&self.from),
            image(&self.from_image),
            Self::short(&self.to),
            image(&self.to_image)
        )
    }
}

/// Errors that stop a rollback before it changes anything.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    /// A service named on the command line is not declared.
    #[error("service `{given}` is not declared in stack {stack}: give one of {known}")]
    UnknownService {
        /// The name given.
        given: String,
        /// The stack.
        stack: String,
        /// The declared services.
        known: String,
    },
    /// The service is not deployed (or not this stack's).
    #[error("service {service} is not deployed by stack {stack} in this account and region: nothing to roll back")]
    NotDeployed {
        /// The service.
        service: String,
        /// The stack.
        stack: String,
    },
    /// The service runs the oldest revision of its family.
    #[error("service {service} runs {current}, and its family has no earlier revision: nothing to roll back to")]
    NothingBefore {
        /// The service.
        service: String,
        /// The revision it runs.
        current: String,
    },
    /// No declared service can be rolled back (each one's reason, `; `-separated).
    #[error("nothing to roll back: {reasons}")]
    Nothing {
        /// Why, per service.
        reasons: String,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The stack's lock is held by another apply, destroy or rollback, or SSM failed.
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
}

/// `family` and revision number of a task definition ARN (`...:task-definition/f:3`).
fn family_revision(arn: &str) -> Option<(&str, u32)> {
    let (family, revision) = Target::short(arn).rsplit_once(':')?;
    Some((family, revision.parse().ok()?))
}

/// The image of the container named `container` of the revision `arn`.
async fn image_of(clients: &Clients, arn: &str, container: &str) -> Result<Option<String>, AwsError> {
    let found = retry_transient(|| clients.ecs.describe_task_definition(arn.to_owned())).await?;
    Ok(found.and_then(|f| f.props.container_definitions.into_iter().find(|c| c.name == container).map(|c| c.image)))
}

/// Refuses names of services `stack` does not declare, naming the declared ones.
///
/// # Errors
/// [`RollbackError::UnknownService`].
pub fn check_names(stack: &Stack, services: &[String]) -> Result<(), RollbackError> {
    let declared: Vec<&str> = stack.services.iter().map(|s| s.name.as_str()).collect();
    match services.iter().find(|s| !declared.contains(&s.as_str())) {
        Some(given) => Err(RollbackError::UnknownService {
            given: given.clone(),
            stack: stack.name.clone(),
            known: declared.join(", "),
        }),
        None => Ok(()),
    }
}

/// What rolling back would do: the services that go back, and those of a rollback of
/// every service that have nothing to go back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Targets {
    /// The services to roll back.
    pub targets: Vec<Target>,
    /// Services left as they are, with why (not deployed, already on the oldest revision).
    pub skipped: Vec<Skipped>,
}

/// A service a rollback of every service leaves as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The service's name.
    pub service: String,
    /// Why.
    pub reason: String,
}

/// What rolling back `services` (all declared ones when empty) would do, read from AWS
/// without changing anything; unknown names are refused before any call. A named
/// service with nothing to roll back to is an error; with no names, such services are
/// [`Targets::skipped`].
///
/// # Errors
/// [`RollbackError`]: an unknown service, a named one that is not deployed or has
/// nothing to roll back to, no service at all to roll back, an AWS failure.
pub async fn targets(stack: &Stack, clients: &Clients, services: &[String]) -> Result<Targets, RollbackError> {
    check_names(stack, services)?;
    let declared: Vec<&str> = stack.services.iter().map(|s| s.name.as_str()).collect();
    let wanted: BTreeSet<&str> = if services.is_empty() {
        declared.iter().copied().collect()
    } else {
        services.iter().map(String::as_str).collect()
    };
    let graph = Graph::from_stack(stack)
        .map_err(|e| AwsError::new(crate::aws::ErrorKind::Invalid, "ecs-kit", "rollback", e.to_string()))?;
    let cluster = graph
        .resources()
        .iter()
        .find(|r| r.resource_type == ResourceType::Cluster)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let names: Vec<String> =
        stack.services.iter().filter(|s| wanted.contains(s.name.as_str())).map(|s| s.name.clone()).collect();
    let mut live = Vec::new();
    for batch in names.chunks(10) {
        live.extend(retry_transient(|| clients.ecs.describe_services(cluster.clone(), batch.to_vec())).await?);
    }
    let mut out = Targets { targets: Vec::new(), skipped: Vec::new() };
    for name in &names {
        let target = match target(stack, clients, &live, name, &cluster).await {
            Ok(t) => t,
            Err(e @ (RollbackError::NotDeployed { .. } | RollbackError::NothingBefore { .. }))
                if services.is_empty() =>
            {
                out.skipped.push(Skipped { service: name.clone(), reason: e.to_string() });
                continue;
            }
            Err(e) => return Err(e),
        };
        out.targets.push(target);
    }
    if out.targets.is_empty() && !out.skipped.is_empty() {
        let reasons = out.skipped.iter().map(|s| s.reason.clone()).collect::<Vec<_>>().join("; ");
        return Err(RollbackError::Nothing { reasons });
    }
    Ok(out)
}

/// The rollback of the declared service `name` of `cluster`, from what DescribeServices
/// found (`live`).
async fn target(
    stack: &Stack,
    clients: &Clients,
    live: &[crate::aws::LiveService],
    name: &String,
    cluster: &str,
) -> Result<Target, RollbackError> {
    let not_deployed =
        |service: &str| RollbackError::NotDeployed { service: service.to_owned(), stack: stack.name.clone() };
    {
        let Some(svc) = live.iter().find(|s| {
            s.found.props.service_name == *name
                && !crate::resources::is_gone(Some(s.status.status.as_str()))
                && s.found.tags.get(crate::model::STACK_TAG) == Some(&stack.name)
        }) else {
            return Err(not_deployed(name));
        };
        let crate::graph::RefOr::Value(current) = &svc.found.props.task_definition else {
            return Err(not_deployed(name));
        };
        // A deployment still rolling out goes back to the one it replaces.
        let in_flight = svc
            .status
            .deployments
            .iter()
            .filter(|d| d.status != "PRIMARY" && d.rollout_state.as_deref() != Some("FAILED"))
            .map(|d| d.task_definition.clone())
            .find(|td| td != current);
        let (to, reregister) = match in_flight {
            Some(td) => (td, false),
            None => {
                let nothing = || RollbackError::NothingBefore {
                    service: name.clone(),
                    current: Target::short(current).to_owned(),
                };
                let (family, revision) = family_revision(current).ok_or_else(nothing)?;
                let mut earlier: Vec<(u32, String, bool)> = Vec::new();
                for (status, active) in [("ACTIVE", true), ("INACTIVE", false)] {
                    let arns =
                        retry_transient(|| clients.ecs.list_task_definitions(family.to_owned(), status.to_owned()))
                            .await?;
                    earlier.extend(
                        arns.into_iter()
                            .filter_map(|a| family_revision(&a).map(|(_, r)| (r, a.clone(), active)))
                            .filter(|(r, _, _)| *r < revision),
                    );
                }
                let (_, arn, active) = earlier.into_iter().max_by_key(|(r, _, _)| *r).ok_or_else(nothing)?;
                (arn, !active)
            }
        };
        Ok(Target {
            id: LogicalId::new(format!("service/{name}")),
            service: name.clone(),
            cluster: cluster.to_owned(),
            from_image: image_of(clients, current, name).await?,
            to_image: image_of(clients, &to, name).await?,
            from: current.clone(),
            to,
            reregister,
            deployment: svc.found.props.deployment_configuration.clone(),
        })
    }
}

/// Options of [`rollback`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollbackOptions {
    /// Services rolled back at once (0 means the default, 10).
    pub parallelism: usize,
    /// Retries of retryable AWS failures.
    pub retry: RetryPolicy,
    /// Waits for AWS (the services to be stable).
    pub waits: crate::apply::Waits,
}

/// Moves each target's service to its earlier revision (registered again first when it
/// is INACTIVE) and waits until it is stable, all at once, holding the stack's lock.
///
/// # Errors
/// [`RollbackError::Locked`] when another apply, destroy or rollback holds the lock;
/// failures of single services are in the report.
pub async fn rollback<O: Observer + Clone + 'static>(
    stack: &Stack,
    clients: &Clients,
    targets: Vec<Target>,
    options: RollbackOptions,
    observer: &O,
) -> Result<Report, RollbackError> {
    let lock = crate::lock::Lock::acquire(clients, stack, crate::lock::Operation::Rollback).await?;
    let steps: Vec<Step<Target>> =
        targets.into_iter().map(|t| Step { id: t.id.clone(), deps: Vec::new(), payload: t }).collect();
    let walk_options = WalkOptions {
        parallelism: if options.parallelism == 0 { 10 } else { options.parallelism },
        retry: options.retry,
        stop_after: None,
    };
    let shared = std::sync::Arc::new((clients.clone(), stack.name.clone(), options.waits));
    let report = walk(steps, &walk_options, observer, move |step: &Step<Target>| {
        let shared = std::sync::Arc::clone(&shared);
        let target = step.payload.clone();
        async move {
            let (clients, stack, waits) = &*shared;
            roll_back(clients, stack, &target, *waits).await
        }
    })
    .await;
    if let Err(e) = lock.release().await {
        tracing::warn!("{e}: the lock may still be held; `unlock` breaks it");
    }
    Ok(report)
}

/// One service back to its target revision, waited for.
async fn roll_back(clients: &Clients, stack: &str, t: &Target, waits: crate::apply::Waits) -> Result<(), StepError> {
    use crate::resources::step_error;
    let to = if t.reregister {
        let found = clients.ecs.describe_task_definition(t.to.clone()).await.map_err(step_error)?;
        let found = found
            .ok_or_else(|| StepError::Fatal(format!("{} is gone: nothing to roll back to", Target::short(&t.to))))?;
        // An earlier attempt of this step may have registered it again already (its
        // service update then failed): the family's latest revision is that copy when
        // it has the same content. Registering is not idempotent, so look first.
        let latest = clients.ecs.describe_task_definition(found.props.family.clone()).await.map_err(step_error)?;
        match latest.filter(|l| l.arn != found.arn && l.props == found.props && l.tags == found.tags) {
            Some(copy) => copy.arn.unwrap_or(copy.id),
            None => clients.ecs.register_task_definition(found.props, found.tags).await.map_err(step_error)?,
        }
    } else {
        t.to.clone()
    };
    let update = ServiceUpdate {
        cluster: t.cluster.clone(),
        service: t.service.clone(),
        task_definition: Some(to.clone()),
        ..ServiceUpdate::default()
    };
    clients.ecs.update_service(update).await.map_err(step_error)?;
    let known = crate::resources::Known::new();
    let cx = crate::resources::Cx {
        clients,
        stack,
        known: &known,
        original: &known,
        zones: &[],
        waits,
        cluster: Some(&t.cluster),
        retrying: false,
    };
    crate::resources::ecs::service::wait_stable(&cx, &t.cluster, &t.service, &to, waits, &t.deployment).await
}
