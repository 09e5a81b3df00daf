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

use crate::aws::Clients;
use crate::graph::{Graph, LogicalId, ResourceType};
use crate::model::Stack;
use crate::observe::{observe, LiveResource};
use crate::plan::PlanError;
use crate::resources::{Cx, Known, Waits};
use crate::walk::{walk, Observer, Report, RetryPolicy, Step, StepError, WalkOptions};

/// The type's rank in the one delete order (its schema's): every resource of a lower
/// rank is deleted before any of a higher one.
fn rank(t: ResourceType) -> u8 {
    crate::resources::schema(t).delete_rank
}

/// Whether a type holds data that destroy keeps unless asked.
fn is_data(t: ResourceType) -> bool {
    crate::resources::schema(t).holds_data
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

/// Deletes one live resource through its kind.
async fn delete_one(
    r: &LiveResource,
    known: &Known,
    cluster: Option<&str>,
    clients: &Clients,
    waits: Waits,
) -> Result<(), StepError> {
    let cx = Cx { clients, stack: "", known, original: known, zones: &[], waits, cluster, retrying: false };
    crate::resources::delete(&cx, r).await
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
    let known = live.known(&graph);
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
    use crate::graph::Properties;

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
        let known = live.known(&Graph::from_stack(&stack).unwrap());
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
        let Properties::InstanceProfile(profile) = get("instance-profile").properties.as_ref().clone() else {
            panic!()
        };
        let Properties::Role(instance_role) = get("role/instance").properties.as_ref().clone() else { panic!() };
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
        let Properties::Role(task_role) = get("role/task/products").properties.as_ref().clone() else { panic!() };
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
            scaling: Arc::new(crate::aws::MockScalingApi::new()),
            tagging: Arc::new(crate::aws::MockTaggingApi::new()),
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
