//! Executing a plan: the steps of [`crate::plan`] run through [`crate::walk`].
//!
//! Every action is written: creating every resource type (with the waits AWS needs:
//! NAT gateways and file systems available, load balancers active, services stable),
//! in-place updates (a new task definition revision and the service moved to it as a
//! rolling deployment; security group rules, routes, role policies, launch template
//! versions, Auto Scaling sizes, health checks, tags, ... through the calls AWS has for
//! each), replacements (see [`Change::delete_first`] for their order) and deleting what
//! is no longer declared (after everything else, dependents first; data only with
//! `delete_data`).

mod update;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::aws::{literal, AwsError, Clients, ErrorKind, Filter, ServiceUpdate};
use crate::diff::{Action, Change};
use crate::graph::props::{AvailabilityZone, CountOwner, ImageSource, Peer, SecurityGroupRule};
use crate::graph::{Attr, Graph, LogicalId, Properties, Ref, Resource};
use crate::model::Stack;
use crate::observe::LiveStack;
use crate::plan::Plan;
use crate::walk::{walk, Observer, Report, RetryPolicy, Step, StepError, WalkOptions};

/// What a resource is known by in AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Physical {
    /// AWS id.
    pub id: String,
    /// ARN.
    pub arn: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// DNS name (load balancers).
    pub dns_name: Option<String>,
}

/// Physical identities by logical id.
pub type Known = BTreeMap<LogicalId, Physical>;

/// The physical identities of the live resources of `graph`'s stack.
#[must_use]
pub fn known_from(live: &LiveStack, graph: &Graph) -> Known {
    live.resources
        .iter()
        .map(|r| {
            let name = graph.get(r.id.as_str()).map(|g| g.name.clone());
            (
                r.id.clone(),
                Physical { id: r.aws_id.clone(), arn: r.arn.clone(), name, dns_name: r.attrs.get("dns_name").cloned() },
            )
        })
        .collect()
}

/// Replaces every reference in `value` by its physical value from `known`.
pub(crate) fn resolve_value(value: &mut serde_json::Value, known: &Known) -> Result<(), String> {
    use serde_json::Value;
    match value {
        Value::Object(map) if map.len() == 2 && map.contains_key("ref") && map.contains_key("attr") => {
            let r: Ref = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
            let p = known.get(&r.id).ok_or_else(|| format!("{} does not exist yet", r.id))?;
            let text = match r.attr {
                Attr::Id => Some(p.id.clone()),
                Attr::Arn => p.arn.clone(),
                Attr::Name => p.name.clone(),
                Attr::DnsName => p.dns_name.clone(),
            };
            *value = Value::String(text.ok_or_else(|| format!("{} has no {:?}", r.id, r.attr))?);
            Ok(())
        }
        Value::Object(map) => map.values_mut().try_for_each(|v| resolve_value(v, known)),
        Value::Array(items) => items.iter_mut().try_for_each(|v| resolve_value(v, known)),
        _ => Ok(()),
    }
}

/// `resource`'s properties with every reference replaced by its physical value.
///
/// # Errors
/// When a referenced resource is not in `known` or lacks the attribute.
pub fn resolve(resource: &Resource, known: &Known) -> Result<Properties, String> {
    let mut json = serde_json::to_value(&resource.properties).map_err(|e| e.to_string())?;
    resolve_value(&mut json, known)?;
    Properties::from_json(resource.resource_type, json).map_err(|e| e.to_string())
}

/// Whether another attempt may succeed: throttling and outages; AWS's eventual
/// consistency (a new object not visible yet, a new role or instance profile not yet
/// usable); dependencies still draining.
fn step_error(e: AwsError) -> StepError {
    let text = e.to_string();
    let propagating = text.contains("instance profile") || text.contains("Instance Profile") || text.contains("assume");
    // A client token reused with other parameters stays so: no retry helps.
    if e.code.as_deref() == Some("IdempotentParameterMismatch") {
        return StepError::Fatal(format!("{text} (hint: {})", ErrorKind::Invalid.hint()));
    }
    // Retried, but the hint stays with the text: it is the message when retries run out.
    let hinted = format!("{text} (hint: {})", e.hint());
    match e.kind {
        ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::NotFound | ErrorKind::Conflict => {
            StepError::Retryable(hinted)
        }
        ErrorKind::Invalid if propagating => StepError::Retryable(text),
        _ => StepError::Fatal(hinted),
    }
}

/// After a create answered `already_exists`: `Ok` when the object holding the name
/// carries `stack`'s ownership tag (an earlier attempt of the same step made it), a
/// retry while it is not visible yet, the original error when it is foreign.
fn adopt(already_exists: AwsError, tags: Option<&crate::aws::Tags>, stack: &str) -> Result<(), StepError> {
    match tags {
        Some(tags) if tags.get(crate::model::STACK_TAG).map(String::as_str) == Some(stack) => Ok(()),
        Some(_) => Err(step_error(already_exists)),
        None => Err(StepError::Retryable(already_exists.to_string())),
    }
}

fn lit(v: &crate::graph::RefOr<String>) -> Result<String, StepError> {
    literal(v, "ecs-kit", "apply").map(str::to_owned).map_err(|e| StepError::Fatal(e.to_string()))
}

/// Polls `check` every `waits.every` until it says done (`Ok(true)`), for at most
/// `waits.timeout`.
pub(crate) async fn wait_until<F, Fut>(what: &str, waits: Waits, mut check: F) -> Result<(), StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, StepError>>,
{
    let start = tokio::time::Instant::now();
    crate::walk::waiting(what);
    loop {
        if check().await? {
            return Ok(());
        }
        if start.elapsed() >= waits.timeout {
            return Err(StepError::Fatal(format!("timed out after {:?} waiting for {what}", waits.timeout)));
        }
        tokio::time::sleep(waits.every).await;
    }
}

/// How long and how often apply waits for AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// Poll interval.
    pub every: Duration,
    /// Longest wait for one resource (ECS services: for a deployment to be stable).
    pub timeout: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Waits { every: Duration::from_secs(5), timeout: Duration::from_secs(15 * 60) }
    }
}

/// Creates `resource` through `clients`, resolving its references with `known`, and
/// waits until AWS reports it usable; `zones` resolves zones given by index.
///
/// # Errors
/// A [`StepError`]: retryable for throttling, consistency delays and draining
/// dependencies, fatal otherwise.
pub async fn create_resource(
    resource: &Resource,
    stack: &str,
    known: &Known,
    clients: &Clients,
    zones: &[String],
    waits: Waits,
) -> Result<Physical, StepError> {
    let props = resolve(resource, known).map_err(StepError::Retryable)?;
    let tags = resource.tags.clone();
    let name = Some(resource.name.clone());
    // Client tokens make a retried create idempotent where AWS has them; they carry the
    // properties' digest, so that a replacement is a new object, not the old one again.
    let digest = crate::model::names::digest8(&serde_json::to_string(&props).unwrap_or_default());
    let token =
        format!("{}-{digest}", crate::model::names::fit(&format!("{stack}-{}", resource.id), 55)).replace('/', "-");
    let physical = match props {
        Properties::Vpc(p) => {
            let id = clients.ec2.create_vpc(p.clone(), tags).await.map_err(step_error)?;
            clients
                .ec2
                .modify_vpc_dns(id.clone(), p.enable_dns_support, p.enable_dns_hostnames)
                .await
                .map_err(step_error)?;
            Physical { id, name, ..Physical::default() }
        }
        Properties::InternetGateway(p) => {
            let id = clients.ec2.create_internet_gateway(tags).await.map_err(step_error)?;
            clients.ec2.attach_internet_gateway(id.clone(), lit(&p.vpc_id)?).await.map_err(step_error)?;
            Physical { id, name, ..Physical::default() }
        }
        Properties::Subnet(mut p) => {
            if let AvailabilityZone::Index { zone_index } = p.availability_zone {
                let zone = zones.get(usize::from(zone_index)).ok_or_else(|| {
                    StepError::Fatal(format!(
                        "the region has {} available zones; zone #{zone_index} was asked for",
                        zones.len()
                    ))
                })?;
                p.availability_zone = AvailabilityZone::Name(zone.clone());
            }
            let public = p.map_public_ip_on_launch;
            let id = clients.ec2.create_subnet(p, tags).await.map_err(step_error)?;
            if public {
                clients.ec2.modify_subnet_public_ip(id.clone(), true).await.map_err(step_error)?;
            }
            Physical { id, name, ..Physical::default() }
        }
        Properties::Eip(_) => {
            Physical { id: clients.ec2.allocate_address(tags).await.map_err(step_error)?, name, ..Physical::default() }
        }
        Properties::NatGateway(p) => {
            let id = clients.ec2.create_nat_gateway(p, token, tags).await.map_err(step_error)?;
            let filter = vec![Filter::new("nat-gateway-id", [id.clone()])];
            wait_until(&format!("NAT gateway {id} to be available"), waits, || async {
                let found = clients.ec2.describe_nat_gateways(filter.clone()).await.map_err(step_error)?;
                match found.first().and_then(|n| n.state.as_deref()) {
                    Some("available") => Ok(true),
                    Some("failed") => Err(StepError::Fatal(format!(
                        "NAT gateway {id} failed: {:?}",
                        found[0].attrs.get("failure_message")
                    ))),
                    _ => Ok(false),
                }
            })
            .await?;
            Physical { id, name, ..Physical::default() }
        }
        Properties::RouteTable(p) => {
            let id = clients.ec2.create_route_table(lit(&p.vpc_id)?, token, tags).await.map_err(step_error)?;
            for route in p.routes {
                clients.ec2.create_route(id.clone(), route).await.map_err(step_error)?;
            }
            for subnet in &p.subnet_ids {
                clients.ec2.associate_route_table(id.clone(), lit(subnet)?).await.map_err(step_error)?;
            }
            Physical { id, name, ..Physical::default() }
        }
        Properties::SecurityGroup(p) => {
            let id = clients
                .ec2
                .create_security_group(p.group_name, p.description, lit(&p.vpc_id)?, tags)
                .await
                .map_err(step_error)?;
            if !p.ingress.is_empty() {
                clients.ec2.authorize_ingress(id.clone(), p.ingress).await.map_err(step_error)?;
            }
            // AWS gives a new group an allow-all egress rule without a description:
            // replace it with the declared rules.
            let default = SecurityGroupRule {
                ip_protocol: "-1".into(),
                from_port: -1,
                to_port: -1,
                peer: Peer::CidrIpv4("0.0.0.0/0".into()),
                description: String::new(),
            };
            clients.ec2.revoke_egress(id.clone(), vec![default]).await.map_err(step_error)?;
            if !p.egress.is_empty() {
                clients.ec2.authorize_egress(id.clone(), p.egress).await.map_err(step_error)?;
            }
            Physical { id, name, ..Physical::default() }
        }
        Properties::LaunchTemplate(p) => {
            let image_id = match &p.image {
                ImageSource::ImageId(id) => id.clone(),
                ImageSource::SsmParameter { name, .. } => {
                    clients.ssm.get_parameter(name.clone()).await.map_err(step_error)?.ok_or_else(|| {
                        StepError::Fatal(format!(
                            "the SSM parameter {name} naming the AMI does not exist in this region"
                        ))
                    })?
                }
            };
            let id = clients.ec2.create_launch_template(p, image_id, token, tags).await.map_err(step_error)?;
            Physical { id, name, ..Physical::default() }
        }
        Properties::Role(p) => {
            let role = p.role_name.clone();
            let arn = match clients.iam.create_role(p.clone(), tags).await {
                // A retry after the role was made (a later call of this step failed).
                Err(e) if e.kind == ErrorKind::AlreadyExists => {
                    let found = clients.iam.get_roles(vec![role.clone()], None).await.map_err(step_error)?;
                    let found = found.into_iter().find(|r| r.props.role_name == role);
                    adopt(e, found.as_ref().map(|r| &r.tags), stack)?;
                    found.and_then(|r| r.arn).unwrap_or_default()
                }
                other => other.map_err(step_error)?,
            };
            for (policy, doc) in p.inline_policies {
                clients.iam.put_role_policy(role.clone(), policy, doc).await.map_err(step_error)?;
            }
            for policy in p.managed_policy_arns {
                clients.iam.attach_role_policy(role.clone(), policy).await.map_err(step_error)?;
            }
            Physical { id: role.clone(), arn: Some(arn), name: Some(role), dns_name: None }
        }
        Properties::InstanceProfile(p) => {
            let arn = clients
                .iam
                .create_instance_profile(p.instance_profile_name.clone(), p.path, tags)
                .await
                .map_err(step_error)?;
            clients
                .iam
                .add_role_to_instance_profile(p.instance_profile_name.clone(), lit(&p.role_name)?)
                .await
                .map_err(step_error)?;
            Physical { id: p.instance_profile_name.clone(), arn: Some(arn), name, dns_name: None }
        }
        Properties::AutoScalingGroup(p) => {
            let group = p.auto_scaling_group_name.clone();
            match clients.autoscaling.create_auto_scaling_group(p.clone(), tags).await {
                // A retry after the group was made (it was not visible yet, or a later
                // call of this step failed).
                Err(e) if e.kind == ErrorKind::AlreadyExists => {
                    let found = clients
                        .autoscaling
                        .describe_auto_scaling_groups(vec![group.clone()])
                        .await
                        .map_err(step_error)?;
                    adopt(e, found.first().map(|g| &g.tags), stack)?;
                }
                other => other.map_err(step_error)?,
            }
            // Some implementations (moto) ignore a grace period of 0 on create.
            clients.autoscaling.update_auto_scaling_group(p, false).await.map_err(step_error)?;
            let found =
                clients.autoscaling.describe_auto_scaling_groups(vec![group.clone()]).await.map_err(step_error)?;
            let arn = found
                .first()
                .and_then(|g| g.arn.clone())
                .ok_or_else(|| StepError::Retryable(format!("group {group} not visible yet")))?;
            Physical { id: group.clone(), arn: Some(arn), name: Some(group), dns_name: None }
        }
        Properties::CapacityProvider(p) => {
            let provider = p.name.clone();
            let arn = clients.ecs.create_capacity_provider(p, tags).await.map_err(step_error)?;
            Physical { id: provider.clone(), arn: Some(arn), name: Some(provider), dns_name: None }
        }
        Properties::Cluster(p) => {
            let cluster = p.cluster_name.clone();
            let arn = clients.ecs.create_cluster(p.clone(), tags).await.map_err(step_error)?;
            let providers = p.capacity_providers.iter().map(lit).collect::<Result<Vec<_>, _>>()?;
            clients
                .ecs
                .put_cluster_capacity_providers(cluster.clone(), providers, p.default_capacity_provider_strategy)
                .await
                .map_err(step_error)?;
            Physical { id: cluster.clone(), arn: Some(arn), name: Some(cluster), dns_name: None }
        }
        Properties::FileSystem(p) => {
            let creation_token = p.creation_token.clone();
            let id = clients.efs.create_file_system(p, tags).await.map_err(step_error)?;
            wait_until(&format!("file system {id} to be available"), waits, || async {
                let found = clients.efs.describe_file_systems(creation_token.clone()).await.map_err(step_error)?;
                Ok(found.iter().find(|f| f.id == id).and_then(|f| f.state.as_deref()) == Some("available"))
            })
            .await?;
            let found = clients.efs.describe_file_systems(creation_token).await.map_err(step_error)?;
            let arn = found.into_iter().find(|f| f.id == id).and_then(|f| f.arn);
            Physical { id, arn, name, dns_name: None }
        }
        Properties::MountTarget(p) => {
            let fs = lit(&p.file_system_id)?;
            // Mount targets have no tags and no client token: a retried step finds the
            // one an earlier attempt made in the subnet (AWS allows one per zone).
            let subnet = crate::graph::RefOr::Value(lit(&p.subnet_id)?);
            let made = clients.efs.describe_mount_targets(fs.clone()).await.map_err(step_error)?;
            let made = made.into_iter().find(|m| m.props.subnet_id == subnet && m.state.as_deref() != Some("deleting"));
            let id = match made {
                Some(m) => m.id,
                None => clients.efs.create_mount_target(p).await.map_err(step_error)?,
            };
            wait_until(&format!("mount target {id} to be available"), waits, || async {
                let found = clients.efs.describe_mount_targets(fs.clone()).await.map_err(step_error)?;
                Ok(found.iter().find(|m| m.id == id).and_then(|m| m.state.as_deref()) == Some("available"))
            })
            .await?;
            Physical { id, name, ..Physical::default() }
        }
        Properties::AccessPoint(mut p) => {
            // The token carries the properties' digest, as the others do (diff ignores it).
            p.client_token = format!("{}-{digest}", crate::model::names::fit(&p.client_token, 55));
            let (id, arn) = clients.efs.create_access_point(p, tags).await.map_err(step_error)?;
            Physical { id, arn: Some(arn), name, dns_name: None }
        }
        Properties::LoadBalancer(p) => {
            let lb_name = p.name.clone();
            let idle = p.idle_timeout_seconds;
            let (arn, dns) = clients.elb.create_load_balancer(p, tags).await.map_err(step_error)?;
            clients.elb.set_idle_timeout(arn.clone(), idle).await.map_err(step_error)?;
            wait_until(&format!("load balancer {lb_name} to be active"), waits, || async {
                let found = clients.elb.describe_load_balancers(vec![lb_name.clone()]).await.map_err(step_error)?;
                Ok(found.first().and_then(|l| l.state.as_deref()) == Some("active"))
            })
            .await?;
            Physical { id: arn.clone(), arn: Some(arn), name, dns_name: Some(dns) }
        }
        Properties::TargetGroup(p) => {
            let delay = p.deregistration_delay_seconds;
            let arn = clients.elb.create_target_group(p, tags).await.map_err(step_error)?;
            clients.elb.set_deregistration_delay(arn.clone(), delay).await.map_err(step_error)?;
            Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
        }
        Properties::Listener(p) => {
            let arn = clients.elb.create_listener(p, tags).await.map_err(step_error)?;
            Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
        }
        Properties::ListenerRule(p) => {
            let arn = clients.elb.create_rule(p, tags).await.map_err(step_error)?;
            Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
        }
        Properties::LogGroup(p) => {
            let group = p.log_group_name.clone();
            match clients.logs.create_log_group(group.clone(), tags).await {
                // A retry after a lost answer; the group is ours only if it carries the tags.
                Err(e) if e.kind == ErrorKind::AlreadyExists => {
                    let found = clients.logs.describe_log_groups(group.clone()).await.map_err(step_error)?;
                    let ours = found.iter().any(|g| {
                        g.id == group && g.tags.get(crate::model::STACK_TAG).map(String::as_str) == Some(stack)
                    });
                    if !ours {
                        return Err(StepError::Fatal(format!("log group {group} exists and is not this stack's")));
                    }
                }
                other => other.map_err(step_error)?,
            }
            clients.logs.put_retention_policy(group.clone(), p.retention_in_days).await.map_err(step_error)?;
            Physical { id: group.clone(), arn: None, name: Some(group), dns_name: None }
        }
        Properties::TaskDefinition(p) => {
            let arn = clients.ecs.register_task_definition(p, tags).await.map_err(step_error)?;
            Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
        }
        Properties::Service(p) => {
            let prefix: String = token.chars().filter(char::is_ascii_alphanumeric).take(28).collect();
            let client_token = format!("{prefix}{digest}");
            let arn = clients.ecs.create_service(p.clone(), client_token, tags).await.map_err(step_error)?;
            // Some implementations (moto) drop these on create; UpdateService sets them.
            update_service(clients, &p, Some(p.desired_count)).await?;
            wait_stable(clients, &lit(&p.cluster)?, &p.service_name, &lit(&p.task_definition)?, waits).await?;
            Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
        }
    };
    Ok(physical)
}

async fn update_service(
    clients: &Clients,
    p: &crate::graph::props::ServiceProps,
    desired_count: Option<u32>,
) -> Result<(), StepError> {
    let update = ServiceUpdate {
        cluster: lit(&p.cluster)?,
        service: p.service_name.clone(),
        task_definition: Some(lit(&p.task_definition)?),
        desired_count,
        deployment_configuration: Some(p.deployment_configuration),
        capacity_provider_strategy: Some(
            p.capacity_provider_strategy
                .iter()
                .map(|s| {
                    Ok(crate::graph::props::StrategyItem {
                        capacity_provider: crate::graph::RefOr::Value(lit(&s.capacity_provider)?),
                        weight: s.weight,
                        base: s.base,
                    })
                })
                .collect::<Result<Vec<_>, StepError>>()?,
        ),
        health_check_grace_period_seconds: p.health_check_grace_period_seconds,
        placement_strategy: Some(p.placement_strategy.clone()),
        enable_ecs_managed_tags: Some(p.enable_ecs_managed_tags),
        ..ServiceUpdate::default()
    };
    clients.ecs.update_service(update).await.map_err(step_error)
}

/// Waits until the service is stable as AWS's services-stable waiter defines it (one
/// deployment, running == desired), failing on a circuit-breaker rollback (rollout
/// FAILED, or the service moved off the task definition deployed), with its events.
async fn wait_stable(
    clients: &Clients,
    cluster: &str,
    service: &str,
    task_definition: &str,
    waits: Waits,
) -> Result<(), StepError> {
    // ECS events already there before the wait are not news.
    let seen = Mutex::new(None::<std::collections::BTreeSet<String>>);
    wait_until(&format!("service {service} to be stable"), waits, || async {
        let found =
            clients.ecs.describe_services(cluster.to_owned(), vec![service.to_owned()]).await.map_err(step_error)?;
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
        let failed = |d: &&crate::aws::Deployment| d.rollout_state.as_deref() == Some("FAILED");
        if let Some(failed) = s.deployments.iter().filter(|d| d.status == "PRIMARY").find(failed) {
            return Err(StepError::Fatal(format!(
                "deployment of {service} failed ({}): {}",
                failed.rollout_reason.clone().unwrap_or_default(),
                events()
            )));
        }
        // After a circuit-breaker rollback the service runs the previous revision.
        if let crate::graph::RefOr::Value(current) = &live.found.props.task_definition {
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

/// Applies an in-place update of `resource` (the parts written so far).
async fn update_resource(
    resource: &Resource,
    live: &crate::observe::LiveResource,
    known: &Known,
    original: &Known,
    clients: &Clients,
    waits: Waits,
) -> Result<Option<Physical>, StepError> {
    let props = resolve(resource, known).map_err(StepError::Retryable)?;
    match props {
        // A new revision, carrying the declared tags.
        Properties::TaskDefinition(p) => {
            let arn = clients.ecs.register_task_definition(p, resource.tags.clone()).await.map_err(step_error)?;
            Ok(Some(Physical { id: arn.clone(), arn: Some(arn), name: Some(resource.name.clone()), dns_name: None }))
        }
        Properties::Service(p) => {
            let count = (p.desired_count_owner == CountOwner::Stack).then_some(p.desired_count);
            update_service(clients, &p, count).await?;
            update::converge_tags(resource, live, clients).await?;
            wait_stable(clients, &lit(&p.cluster)?, &p.service_name, &lit(&p.task_definition)?, waits).await?;
            Ok(None)
        }
        _ => {
            update::converge(resource, live, known, original, clients).await?;
            Ok(None)
        }
    }
}

/// One step of an apply.
#[derive(Debug, Clone)]
enum Work {
    /// Create a declared resource.
    Create(Resource),
    /// Update a declared resource in place, from what is live.
    Update(Resource, Box<crate::observe::LiveResource>),
    /// Delete a live object: one no longer declared, or the one a replacement replaces
    /// (`true`: forget its AWS id, which a delete-first replacement's successor takes).
    Delete(crate::observe::LiveResource, bool),
}

/// Whether apply can carry out `change` yet.
fn supported(change: &Change) -> bool {
    match change.action {
        Action::NoOp | Action::Create | Action::Delete | Action::Replace => true,
        Action::Update => update::can_update(change),
    }
}

/// The step that deletes the object a replacement of `id` replaces.
#[must_use]
pub fn old(id: &LogicalId) -> LogicalId {
    LogicalId::new(format!("{id} (old)"))
}

/// What each step of `plan`'s apply does, by step id: `create`, `update`, `delete`; a
/// replacement is a `create` of the successor and a `delete` of `R (old)`.
#[must_use]
pub fn step_actions(plan: &Plan) -> BTreeMap<LogicalId, String> {
    let mut actions = BTreeMap::new();
    for c in &plan.changes {
        let action = match c.action {
            Action::NoOp => continue,
            Action::Replace => {
                actions.insert(old(&c.id), "delete".to_owned());
                Action::Create
            }
            a => a,
        };
        actions.insert(c.id.clone(), format!("{action:?}").to_lowercase());
    }
    actions
}

/// The logical ids a live resource's properties refer to.
fn live_refs(r: &crate::observe::LiveResource) -> BTreeSet<LogicalId> {
    let mut found = BTreeSet::new();
    crate::graph::collect_refs(&serde_json::to_value(&r.properties).unwrap_or_default(), &mut found);
    found.into_iter().map(|r| r.id).collect()
}

/// The steps of `changed` and how they depend on each other. A create or update
/// follows the changed resources it depends on. A replacement is two steps: the
/// successor's create and the old object's delete (`R (old)`); the delete comes first
/// when the change says so (then after the old objects of everything holding on to
/// it), else after the create and after every changed resource that depends on it,
/// directly or not, has moved to the successor. Resources no longer declared are deleted after every create
/// and update (the new things first), dependents first; one that refers to a resource
/// deleted before it is re-created is deleted before that one instead.
fn steps(graph: &Graph, live: &LiveStack, changed: &BTreeMap<LogicalId, Change>) -> Vec<Step<Work>> {
    let is = |id: &LogicalId, action: Action| changed.get(id).is_some_and(|c| c.action == action);
    let first = |id: &LogicalId| changed.get(id).is_some_and(|c| c.action == Action::Replace && c.delete_first);
    // Each undeclared live resource with the ids its properties refer to, read once.
    let doomed: Vec<(&crate::observe::LiveResource, BTreeSet<LogicalId>)> =
        live.resources.iter().filter(|r| is(&r.id, Action::Delete)).map(|r| (r, live_refs(r))).collect();
    let mut steps = Vec::new();
    for r in graph.resources() {
        let Some(change) = changed.get(&r.id) else { continue };
        let mut deps: Vec<LogicalId> = r.depends_on.iter().filter(|d| changed.contains_key(*d)).cloned().collect();
        let work = match change.action {
            Action::Create => Work::Create(r.clone()),
            Action::Replace => {
                let Some(current) = live.get(r.id.as_str()) else { continue };
                let mut old_deps = Vec::new();
                if change.delete_first {
                    deps.push(old(&r.id));
                    old_deps.extend(graph.dependents(&r.id).filter(|d| first(&d.id)).map(|d| old(&d.id)));
                    old_deps.extend(doomed.iter().filter(|(_, refs)| refs.contains(&r.id)).map(|(d, _)| d.id.clone()));
                } else {
                    // Nothing may still use it: every changed resource that depends on it,
                    // directly or not (a service running a task definition that names an
                    // access point), is done first.
                    old_deps.push(r.id.clone());
                    let mut seen: BTreeSet<&LogicalId> = BTreeSet::new();
                    let mut queue = vec![&r.id];
                    while let Some(id) = queue.pop() {
                        for d in graph.dependents(id) {
                            if seen.insert(&d.id) {
                                queue.push(&d.id);
                                if changed.contains_key(&d.id) {
                                    old_deps.push(if is(&d.id, Action::Replace) { old(&d.id) } else { d.id.clone() });
                                }
                            }
                        }
                    }
                }
                let forget = change.delete_first;
                steps.push(Step { id: old(&r.id), deps: old_deps, payload: Work::Delete(current.clone(), forget) });
                Work::Create(r.clone())
            }
            _ => {
                let Some(current) = live.get(r.id.as_str()) else { continue };
                Work::Update(r.clone(), Box::new(current.clone()))
            }
        };
        steps.push(Step { id: r.id.clone(), deps, payload: work });
    }
    let building: Vec<LogicalId> =
        steps.iter().filter(|s| !matches!(s.payload, Work::Delete(..))).map(|s| s.id.clone()).collect();
    for (r, refs) in &doomed {
        let mut deps = if refs.iter().any(&first) { Vec::new() } else { building.clone() };
        deps.extend(
            doomed
                .iter()
                .filter(|(o, _)| crate::destroy::rank(o.resource_type) < crate::destroy::rank(r.resource_type))
                .map(|(o, _)| o.id.clone()),
        );
        steps.push(Step { id: r.id.clone(), deps, payload: Work::Delete((*r).clone(), true) });
    }
    steps
}

/// Options of [`apply`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Steps at once (0 means the default, 10).
    pub parallelism: usize,
    /// Retries of retryable AWS failures.
    pub retry: RetryPolicy,
    /// Waits for AWS.
    pub waits: Waits,
    /// Allow deleting or replacing the file system and log groups.
    pub delete_data: bool,
    /// Stop, as a crash would, once this many steps are done: running steps are
    /// abandoned where they are and the rest is not started (tests of interrupted
    /// applies; `None` runs everything).
    pub stop_after: Option<usize>,
}

/// Errors that stop an apply before it changes anything.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Planning failed.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// Foreign resources hold names the stack needs.
    #[error("{0} conflict(s) with resources this stack does not own; nothing was changed")]
    Conflicts(usize),
    /// The plan has changes apply cannot make yet.
    #[error("apply cannot yet {}; nothing was changed", .0.join(", "))]
    Unsupported(Vec<String>),
    /// AWS (or the declaration) changed since the plan the caller approved.
    #[error("AWS or the declaration changed since the plan was made; nothing was changed: plan again")]
    Stale,
    /// The plan deletes or replaces data and `delete_data` is not set.
    #[error("the plan destroys data ({}): pass --delete-data to allow it; nothing was changed", .0.join(", "))]
    DataLoss(Vec<String>),
    /// The stack's lock is held by another apply or destroy, or SSM failed (see
    /// [`crate::lock`]).
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
}

/// The plan that was applied and how each step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The plan executed.
    pub plan: Plan,
    /// Outcome per changed resource.
    pub report: Report,
}

/// Whether `plan` can be applied (with `delete_data` or not), as [`apply`] checks it
/// before changing anything; front ends ask it before asking for confirmation.
///
/// # Errors
/// [`ApplyError::Conflicts`], [`ApplyError::Unsupported`] or [`ApplyError::DataLoss`].
pub fn check(plan: &Plan, delete_data: bool) -> Result<(), ApplyError> {
    if !plan.conflicts.is_empty() {
        return Err(ApplyError::Conflicts(plan.conflicts.len()));
    }
    let unsupported: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| !supported(c))
        .map(|c| format!("{:?} {}", c.action, c.id).to_lowercase())
        .collect();
    if !unsupported.is_empty() {
        return Err(ApplyError::Unsupported(unsupported));
    }
    let loss: Vec<String> = plan.data_loss().map(|c| c.id.to_string()).collect();
    if !delete_data && !loss.is_empty() {
        return Err(ApplyError::DataLoss(loss));
    }
    Ok(())
}

/// Plans `stack` and executes the plan, reporting progress to `observer`. With
/// `approved`, the fresh plan must have the same changes as that one (the plan a user
/// reviewed), else nothing is done. The stack's [lock](crate::lock) is held from before
/// the live stack is read until the end, failures included; dropping the future
/// releases it in the background ([`crate::lock::wait_for_releases`]).
///
/// # Errors
/// [`ApplyError`] when the lock is held by someone else, planning fails or the plan
/// cannot be executed (conflicts, changes not written yet, AWS changed since the
/// approved plan); then nothing was changed. Failures of single steps are in the
/// returned report.
pub async fn apply<O: Observer + Clone + 'static>(
    stack: &Stack,
    clients: &Clients,
    options: ApplyOptions,
    approved: Option<&Plan>,
    observer: &O,
) -> Result<ApplyReport, ApplyError> {
    let lock = crate::lock::Lock::acquire(clients, stack, crate::lock::Operation::Apply).await?;
    let result = apply_locked(stack, clients, options, approved, observer).await;
    // A failed release leaves the lock for `unlock`; the apply's own result comes first.
    if let Err(e) = lock.release().await {
        tracing::warn!("{e}: the lock may still be held; `unlock` breaks it");
    }
    result
}

async fn apply_locked<O: Observer + Clone + 'static>(
    stack: &Stack,
    clients: &Clients,
    options: ApplyOptions,
    approved: Option<&Plan>,
    observer: &O,
) -> Result<ApplyReport, ApplyError> {
    let crate::plan::Prepared { graph, live, context: ctx, plan } = crate::plan::prepare(stack, clients).await?;
    if approved.is_some_and(|a| a.changes != plan.changes || a.live_digest != plan.live_digest) {
        return Err(ApplyError::Stale);
    }
    check(&plan, options.delete_data)?;
    let changed: BTreeMap<LogicalId, Change> =
        plan.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.id.clone(), c.clone())).collect();
    let steps = steps(&graph, &live, &changed);
    let cluster = live.get("cluster").map(|c| c.aws_id.clone());
    // Deletes resolve the old objects' references as they were.
    let original = known_from(&live, &graph);
    let known = Arc::new(Mutex::new(original.clone()));
    let shared = Arc::new((clients.clone(), ctx.zones.clone(), stack.name.clone(), options.waits, cluster, original));
    let walk_options = WalkOptions {
        parallelism: if options.parallelism == 0 { 10 } else { options.parallelism },
        retry: options.retry,
        stop_after: options.stop_after,
    };
    let report = walk(steps, &walk_options, observer, move |step: &Step<Work>| {
        let (known, shared) = (Arc::clone(&known), Arc::clone(&shared));
        let work = step.payload.clone();
        async move {
            let (clients, zones, stack, waits, cluster, original) = &*shared;
            let snapshot = known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let (id, physical) = match work {
                Work::Create(r) => {
                    (r.id.clone(), Some(create_resource(&r, stack, &snapshot, clients, zones, *waits).await?))
                }
                Work::Update(r, l) => {
                    (r.id.clone(), update_resource(&r, &l, &snapshot, original, clients, *waits).await?)
                }
                Work::Delete(r, forget) => {
                    crate::destroy::delete_one(&r, original, cluster.as_deref(), clients, *waits).await?;
                    if forget {
                        known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&r.id);
                    }
                    return Ok(());
                }
            };
            if let Some(p) = physical {
                known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, p);
            }
            Ok(())
        }
    })
    .await;
    Ok(ApplyReport { plan, report })
}
