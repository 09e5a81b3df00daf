//! Deleting every resource a stack owns, in a safe order, keeping data unless asked.
//!
//! Only what [`crate::observe`] reports as the stack's (its ownership tag, or a mount
//! target of its file system) is deleted; anything else is never touched. The EFS file
//! system and the log groups are kept unless `delete_data` is set, and the report says
//! what was kept. The order follows AWS's dependencies: services first (which drains
//! their targets), then the load balancer's rules and listeners, the load balancer and
//! target groups, task definitions, the capacity provider (detached from the cluster),
//! the Auto Scaling group (its instances terminated), the cluster and launch template,
//! the instance profile, roles, EFS access points and mount targets, route tables, NAT
//! gateways, addresses, the internet gateway, security groups, subnets and the VPC.
//! Steps of one rank run concurrently; "in use" answers while AWS drains ENIs are
//! retried.

use std::sync::Arc;

use serde::Serialize;

use crate::apply::{known_from, resolve_value, wait_until, Known, Waits};
use crate::aws::{AwsError, Clients, ErrorKind, Filter};
use crate::graph::{Graph, LogicalId, Properties, ResourceType};
use crate::model::Stack;
use crate::observe::{observe, LiveResource};
use crate::plan::PlanError;
use crate::walk::{walk, Observer, Report, RetryPolicy, Step, StepError, WalkOptions};

/// The rank of a type in the destroy order: every resource of a lower rank is deleted
/// before any of a higher one.
pub(crate) fn rank(t: ResourceType) -> u8 {
    use ResourceType as T;
    match t {
        T::EcsService => 0,
        T::ListenerRule | T::TaskDefinition => 1,
        T::Listener => 2,
        T::LoadBalancer | T::TargetGroup => 3,
        T::CapacityProvider => 4,
        T::AutoScalingGroup => 5,
        T::Cluster | T::LaunchTemplate => 6,
        T::InstanceProfile => 7,
        T::IamRole => 8,
        T::AccessPoint | T::MountTarget => 9,
        T::FileSystem | T::LogGroup | T::RouteTable => 10,
        T::NatGateway => 11,
        T::Eip => 12,
        T::InternetGateway => 13,
        T::SecurityGroup => 14,
        T::Subnet => 15,
        T::Vpc => 16,
    }
}

/// Whether a type holds data that destroy keeps unless asked.
fn is_data(t: ResourceType) -> bool {
    matches!(t, ResourceType::FileSystem | ResourceType::LogGroup)
}

/// Options of [`destroy`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestroyOptions {
    /// Delete the file system and the log groups too.
    pub delete_data: bool,
    /// Steps at once (0 means the default, 10).
    pub parallelism: usize,
    /// Retries of retryable failures (dependencies still draining).
    pub retry: RetryPolicy,
    /// Waits for AWS.
    pub waits: Waits,
}

/// What destroy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestroyReport {
    /// Outcome per deleted resource.
    pub report: Report,
    /// Data kept (without `delete_data`).
    pub kept: Vec<LogicalId>,
}

/// The ids of the data kept (unless `delete_data`) and the resources to delete.
fn split(resources: Vec<LiveResource>, delete_data: bool) -> (Vec<LogicalId>, Vec<LiveResource>) {
    let (kept, doomed): (Vec<LiveResource>, Vec<LiveResource>) =
        resources.into_iter().partition(|r| is_data(r.resource_type) && !delete_data);
    (kept.into_iter().map(|r| r.id).collect(), doomed)
}

/// What destroy would delete and keep, without changing anything.
///
/// # Errors
/// [`PlanError`] when reading the live stack fails.
pub async fn targets(
    stack: &Stack,
    clients: &Clients,
    delete_data: bool,
) -> Result<(Vec<LiveResource>, Vec<LogicalId>), PlanError> {
    let live = observe(stack, clients).await.map_err(PlanError::from)?;
    let (kept, doomed) = split(live.resources, delete_data);
    Ok((doomed, kept))
}

fn step_error(e: AwsError) -> StepError {
    let hinted = format!("{e} (hint: {})", e.hint());
    match e.kind {
        ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Conflict => StepError::Retryable(hinted),
        _ => StepError::Fatal(hinted),
    }
}

/// `Ok` for a delete whose object is already gone.
fn gone_ok(r: Result<(), AwsError>) -> Result<(), StepError> {
    match r {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other.map_err(step_error),
    }
}

/// Polls until `check` says the object is gone.
async fn until_gone<F, Fut>(what: &str, waits: Waits, mut check: F) -> Result<(), StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, AwsError>>,
{
    wait_until(&format!("{what} to be gone"), waits, || {
        let answer = check();
        async move { answer.await.map_err(step_error) }
    })
    .await
}

fn text(v: &serde_json::Value) -> Result<String, StepError> {
    v.as_str().map(str::to_owned).ok_or_else(|| StepError::Fatal(format!("expected a string, found {v}")))
}

/// Deletes one live resource.
pub(crate) async fn delete_one(
    r: &LiveResource,
    known: &Known,
    cluster: Option<&str>,
    clients: &Clients,
    waits: Waits,
) -> Result<(), StepError> {
    let mut props = serde_json::to_value(&r.properties).map_err(|e| StepError::Fatal(e.to_string()))?;
    resolve_value(&mut props, known).map_err(StepError::Fatal)?;
    let id = r.aws_id.clone();
    match &r.properties {
        Properties::Service(p) => {
            let cluster = text(&props["cluster"])?;
            gone_ok(clients.ecs.delete_service(cluster.clone(), p.service_name.clone(), true).await)?;
            let service = p.service_name.clone();
            until_gone(&format!("service {service}"), waits, || async {
                let found = clients.ecs.describe_services(cluster.clone(), vec![service.clone()]).await?;
                Ok(found.iter().all(|s| matches!(s.status.status.as_str(), "INACTIVE")))
            })
            .await
        }
        Properties::ListenerRule(_) => gone_ok(clients.elb.delete_rule(id).await),
        Properties::Listener(_) => gone_ok(clients.elb.delete_listener(id).await),
        Properties::LoadBalancer(p) => {
            gone_ok(clients.elb.delete_load_balancer(id).await)?;
            let name = p.name.clone();
            until_gone(&format!("load balancer {name}"), waits, || async {
                Ok(clients.elb.describe_load_balancers(vec![name.clone()]).await?.is_empty())
            })
            .await
        }
        Properties::TargetGroup(_) => gone_ok(clients.elb.delete_target_group(id).await),
        Properties::TaskDefinition(p) => {
            for arn in clients.ecs.list_task_definitions(p.family.clone(), "ACTIVE".into()).await.map_err(step_error)? {
                gone_ok(clients.ecs.deregister_task_definition(arn).await)?;
            }
            Ok(())
        }
        Properties::CapacityProvider(p) => {
            if let Some(cluster) = cluster {
                gone_ok(clients.ecs.put_cluster_capacity_providers(cluster.to_owned(), vec![], vec![]).await)?;
            }
            gone_ok(clients.ecs.delete_capacity_provider(p.name.clone()).await)
        }
        Properties::AutoScalingGroup(p) => {
            gone_ok(clients.autoscaling.delete_auto_scaling_group(p.auto_scaling_group_name.clone(), true).await)?;
            let name = p.auto_scaling_group_name.clone();
            until_gone(&format!("Auto Scaling group {name}"), waits, || async {
                Ok(clients.autoscaling.describe_auto_scaling_groups(vec![name.clone()]).await?.is_empty())
            })
            .await
        }
        Properties::Cluster(p) => gone_ok(clients.ecs.delete_cluster(p.cluster_name.clone()).await),
        Properties::LaunchTemplate(_) => gone_ok(clients.ec2.delete_launch_template(id).await),
        Properties::AccessPoint(_) => gone_ok(clients.efs.delete_access_point(id).await),
        Properties::MountTarget(_) => {
            let fs = text(&props["file_system_id"])?;
            gone_ok(clients.efs.delete_mount_target(id.clone()).await)?;
            until_gone(&format!("mount target {id}"), waits, || async {
                Ok(clients.efs.describe_mount_targets(fs.clone()).await?.iter().all(|m| m.id != id))
            })
            .await
        }
        Properties::FileSystem(_) => gone_ok(clients.efs.delete_file_system(id).await),
        Properties::InstanceProfile(p) => {
            if let Ok(role) = text(&props["role_name"]) {
                gone_ok(clients.iam.remove_role_from_instance_profile(p.instance_profile_name.clone(), role).await)?;
            }
            gone_ok(clients.iam.delete_instance_profile(p.instance_profile_name.clone()).await)
        }
        Properties::Role(p) => {
            for arn in &p.managed_policy_arns {
                gone_ok(clients.iam.detach_role_policy(p.role_name.clone(), arn.clone()).await)?;
            }
            for name in p.inline_policies.keys() {
                gone_ok(clients.iam.delete_role_policy(p.role_name.clone(), name.clone()).await)?;
            }
            gone_ok(clients.iam.delete_role(p.role_name.clone()).await)
        }
        Properties::LogGroup(p) => gone_ok(clients.logs.delete_log_group(p.log_group_name.clone()).await),
        Properties::NatGateway(_) => {
            gone_ok(clients.ec2.delete_nat_gateway(id.clone()).await)?;
            let filter = vec![Filter::new("nat-gateway-id", [id.clone()])];
            until_gone(&format!("NAT gateway {id}"), waits, || async {
                let found = clients.ec2.describe_nat_gateways(filter.clone()).await?;
                Ok(found.iter().all(|n| n.state.as_deref() == Some("deleted")))
            })
            .await
        }
        Properties::Eip(_) => gone_ok(clients.ec2.release_address(id).await),
        Properties::RouteTable(_) => {
            for association in r.attrs.iter().filter(|(k, _)| k.starts_with("assoc:")).map(|(_, v)| v.clone()) {
                gone_ok(clients.ec2.disassociate_route_table(association).await)?;
            }
            gone_ok(clients.ec2.delete_route_table(id).await)
        }
        Properties::InternetGateway(_) => {
            if let Ok(vpc) = text(&props["vpc_id"]) {
                if !vpc.is_empty() {
                    gone_ok(clients.ec2.detach_internet_gateway(id.clone(), vpc).await)?;
                }
            }
            gone_ok(clients.ec2.delete_internet_gateway(id).await)
        }
        Properties::SecurityGroup(_) => gone_ok(clients.ec2.delete_security_group(id).await),
        Properties::Subnet(_) => gone_ok(clients.ec2.delete_subnet(id).await),
        Properties::Vpc(_) => gone_ok(clients.ec2.delete_vpc(id).await),
    }
}

/// Errors that stop a destroy before it deletes anything.
#[derive(Debug, thiserror::Error)]
pub enum DestroyError {
    /// Reading the live stack failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// What the stack owns changed since the list the caller approved.
    #[error("what the stack owns changed since it was shown ({}); nothing was deleted: run destroy again", .0.join("; "))]
    Stale(Vec<String>),
    /// The stack's lock is held by another apply or destroy, or SSM failed (see
    /// [`crate::lock`]).
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
}

/// Deletes every resource `stack` owns (keeping its data unless
/// `options.delete_data`), reporting progress to `observer`. With `approved` (the ids
/// [`targets`] listed for a person to confirm), the live stack must still hold exactly
/// those, else nothing is deleted.
///
/// The stack's [lock](crate::lock) is held from before the live stack is read until
/// the end, failures included.
///
/// # Errors
/// [`DestroyError::Locked`] when another apply or destroy holds the lock,
/// [`DestroyError::Plan`] when reading the live stack fails, [`DestroyError::Stale`]
/// when it no longer matches `approved`; failures of single deletions are in the
/// report.
pub async fn destroy<O: Observer + Clone + 'static>(
    stack: &Stack,
    clients: &Clients,
    options: DestroyOptions,
    approved: Option<&[LogicalId]>,
    observer: &O,
) -> Result<DestroyReport, DestroyError> {
    let lock = crate::lock::Lock::acquire(clients, stack, crate::lock::Operation::Destroy).await?;
    let result = destroy_locked(stack, clients, options, approved, observer).await;
    if let Err(e) = lock.release().await {
        tracing::warn!("{e}: the lock may still be held; `unlock` breaks it");
    }
    result
}

async fn destroy_locked<O: Observer + Clone + 'static>(
    stack: &Stack,
    clients: &Clients,
    options: DestroyOptions,
    approved: Option<&[LogicalId]>,
    observer: &O,
) -> Result<DestroyReport, DestroyError> {
    let graph = Graph::from_stack(stack).map_err(PlanError::from)?;
    let live = observe(stack, clients).await.map_err(PlanError::from)?;
    let known = known_from(&live, &graph);
    let cluster = live.get("cluster").map(|c| c.aws_id.clone());
    let (kept, doomed) = split(live.resources, options.delete_data);
    if let Some(approved) = approved {
        let fresh: std::collections::BTreeSet<&LogicalId> = doomed.iter().map(|r| &r.id).collect();
        let shown: std::collections::BTreeSet<&LogicalId> = approved.iter().collect();
        let mut differences: Vec<String> = fresh.difference(&shown).map(|id| format!("{id} appeared")).collect();
        differences.extend(shown.difference(&fresh).map(|id| format!("{id} is gone")));
        if !differences.is_empty() {
            return Err(DestroyError::Stale(differences));
        }
    }
    let steps: Vec<Step<LiveResource>> = doomed
        .iter()
        .map(|r| Step {
            id: r.id.clone(),
            deps: doomed
                .iter()
                .filter(|o| rank(o.resource_type) < rank(r.resource_type))
                .map(|o| o.id.clone())
                .collect(),
            payload: r.clone(),
        })
        .collect();
    let shared = Arc::new((clients.clone(), known, cluster, options.waits));
    let walk_options = WalkOptions {
        parallelism: if options.parallelism == 0 { 10 } else { options.parallelism },
        retry: options.retry,
        stop_after: None,
    };
    let report = walk(steps, &walk_options, observer, move |step: &Step<LiveResource>| {
        let shared = Arc::clone(&shared);
        let resource = step.payload.clone();
        async move {
            let (clients, known, cluster, waits) = &*shared;
            delete_one(&resource, known, cluster.as_deref(), clients, *waits).await
        }
    })
    .await;
    Ok(DestroyReport { report, kept })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_rank_and_dependencies_go_first() {
        // For every desired dependency edge, the dependent is deleted first.
        let g = Graph::from_stack(&crate::model::seed().build().unwrap()).unwrap();
        for r in g.resources() {
            for d in &r.depends_on {
                let dep = g.get(d.as_str()).unwrap();
                let (a, b) = (rank(r.resource_type), rank(dep.resource_type));
                // A capacity provider goes before the cluster it is associated with: its
                // delete step detaches it first. Security groups referring to each other
                // go at once: AWS's DependencyViolation is retried until the referrer
                // is gone. Everything else follows the graph.
                let detached =
                    r.resource_type == ResourceType::Cluster && dep.resource_type == ResourceType::CapacityProvider;
                let peers =
                    r.resource_type == ResourceType::SecurityGroup && dep.resource_type == ResourceType::SecurityGroup;
                assert!(a < b || detached || peers, "{} ({a}) must be deleted before {} ({b})", r.id, d);
            }
        }
    }

    /// Deletes that must let go of something first make exactly these calls, in this
    /// order: the internet gateway detached from its VPC, the route table's
    /// associations, the capacity provider detached from the cluster, the role out of
    /// its instance profile, a role's policies before the role.
    #[tokio::test(start_paused = true)]
    async fn deletes_that_detach_first_make_their_calls_in_order() {
        use crate::aws::{MockAutoScalingApi, MockEc2Api, MockEcsApi, MockEfsApi, MockElbApi, MockIamApi};
        use crate::aws::{MockLogsApi, MockSsmApi};
        use mockall::Sequence;

        // A live stack, made by apply against the fake cloud, to delete pieces of.
        let stack = crate::model::seed().build().unwrap();
        let fake = crate::testing::FakeCloud::new("us-west-2").clients();
        let made = crate::apply::apply(&stack, &fake, Default::default(), None, &()).await.unwrap();
        assert!(made.report.succeeded(), "{:#?}", made.report);
        let live = observe(&stack, &fake).await.unwrap();
        let known = known_from(&live, &Graph::from_stack(&stack).unwrap());
        let get = |id: &str| live.get(id).unwrap_or_else(|| panic!("{id}")).clone();
        let aws_id = |id: &str| get(id).aws_id;
        let owned = |v: &str| v.to_owned();

        let mut seq = Sequence::new();
        let (mut ec2, mut ecs, mut iam) = (MockEc2Api::new(), MockEcsApi::new(), MockIamApi::new());
        let (igw, vpc) = (aws_id("internet-gateway"), aws_id("vpc"));
        ec2.expect_detach_internet_gateway()
            .withf(move |g, v| (g, v) == (&igw, &vpc))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        let igw = aws_id("internet-gateway");
        ec2.expect_delete_internet_gateway()
            .withf(move |g| g == &igw)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));
        let table = get("route-table/public");
        let associations: Vec<String> =
            table.attrs.iter().filter(|(k, _)| k.starts_with("assoc:")).map(|(_, v)| v.clone()).collect();
        assert_eq!(associations.len(), 2, "{table:?}");
        for association in associations {
            ec2.expect_disassociate_route_table()
                .withf(move |a| a == &association)
                .times(1)
                .in_sequence(&mut seq)
                .returning(|_| Ok(()));
        }
        let table_id = table.aws_id.clone();
        ec2.expect_delete_route_table()
            .withf(move |t| t == &table_id)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));
        let cluster = aws_id("cluster");
        let detached = cluster.clone();
        ecs.expect_put_cluster_capacity_providers()
            .withf(move |c, providers, strategy| c == &detached && providers.is_empty() && strategy.is_empty())
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(()));
        ecs.expect_delete_capacity_provider()
            .withf(|name| name == "cp-mcsv-poc" || name.starts_with("mcsv-poc"))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));
        let Properties::InstanceProfile(profile) = get("instance-profile").properties else { panic!() };
        let Properties::Role(instance_role) = get("role/instance").properties else { panic!() };
        let (p1, r1) = (profile.instance_profile_name.clone(), instance_role.role_name.clone());
        iam.expect_remove_role_from_instance_profile()
            .withf(move |p, r| (p, r) == (&p1, &r1))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        let p2 = profile.instance_profile_name.clone();
        iam.expect_delete_instance_profile()
            .withf(move |p| p == &p2)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));
        let Properties::Role(task_role) = get("role/task/products").properties else { panic!() };
        assert_eq!(task_role.managed_policy_arns, [owned("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")]);
        assert!(!task_role.inline_policies.is_empty());
        let role = task_role.role_name.clone();
        let r = role.clone();
        iam.expect_detach_role_policy()
            .withf(move |name, arn| name == &r && arn == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        for policy in task_role.inline_policies.keys() {
            let (r, policy) = (role.clone(), policy.clone());
            iam.expect_delete_role_policy()
                .withf(move |name, p| name == &r && p == &policy)
                .times(1)
                .in_sequence(&mut seq)
                .returning(|_, _| Ok(()));
        }
        let r = role.clone();
        iam.expect_delete_role().withf(move |name| name == &r).times(1).in_sequence(&mut seq).returning(|_| Ok(()));

        let clients = Clients {
            region: "us-west-2".into(),
            ec2: Arc::new(ec2),
            ecs: Arc::new(ecs),
            elb: Arc::new(MockElbApi::new()),
            efs: Arc::new(MockEfsApi::new()),
            iam: Arc::new(iam),
            logs: Arc::new(MockLogsApi::new()),
            ssm: Arc::new(MockSsmApi::new()),
            autoscaling: Arc::new(MockAutoScalingApi::new()),
            calls: crate::aws::CallCounter::default(),
        };
        for id in
            ["internet-gateway", "route-table/public", "capacity-provider", "instance-profile", "role/task/products"]
        {
            delete_one(&get(id), &known, Some(&cluster), &clients, Waits::default()).await.unwrap();
        }
    }

    #[test]
    fn only_the_file_system_and_log_groups_are_data() {
        let data: Vec<ResourceType> = ResourceType::ALL.into_iter().filter(|t| is_data(*t)).collect();
        assert_eq!(data, [ResourceType::FileSystem, ResourceType::LogGroup]);
    }
}
