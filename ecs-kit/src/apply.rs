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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::aws::Clients;
use crate::diff::{Action, Change};
use crate::graph::{Graph, LogicalId, Resource, ResourceType};
use crate::model::Stack;
use crate::observe::LiveStack;
use crate::plan::Plan;
use crate::walk::{walk, Observer, Report, RetryPolicy, Step, StepError, WalkOptions};

/// The type's rank in the one delete order.
fn rank(t: ResourceType) -> u8 {
    crate::resources::schema(t).delete_rank
}

use crate::resources::Cx;
pub use crate::resources::{resolve, Known, Physical, Waits};

/// The physical identities of the live resources of `graph`'s stack.
#[must_use]
pub fn known_from(live: &LiveStack, graph: &Graph) -> Known {
    live.known(graph)
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
    let cx = Cx { clients, stack, known, original: known, zones, waits, cluster: None, retrying: false };
    crate::resources::create(&cx, resource).await
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
        Action::Update => {
            let paths: Vec<&str> = change.fields.iter().map(|f| f.path.as_str()).collect();
            crate::resources::can_update(change.resource_type, &paths)
        }
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
    crate::graph::refs_in(&r.properties).into_iter().map(|r| r.id).collect()
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
    let early = free_unique_keys(&mut steps, &doomed, &live.known(graph));
    let building: Vec<LogicalId> =
        steps.iter().filter(|s| !matches!(s.payload, Work::Delete(..))).map(|s| s.id.clone()).collect();
    for (r, refs) in &doomed {
        let now = early.contains(&r.id);
        let mut deps = if now || refs.iter().any(&first) { Vec::new() } else { building.clone() };
        deps.extend(
            doomed
                .iter()
                .filter(|(o, _)| rank(o.resource_type) < rank(r.resource_type) && (!now || early.contains(&o.id)))
                .map(|(o, _)| o.id.clone()),
        );
        steps.push(Step { id: r.id.clone(), deps, payload: Work::Delete((*r).clone(), true) });
    }
    steps
}

/// A new resource that takes what only one object can hold at a time (a rule's
/// priority) from one no longer declared is created once that one is deleted;
/// those deletes go first. Returns their ids.
fn free_unique_keys(
    steps: &mut [Step<Work>],
    doomed: &[(&crate::observe::LiveResource, BTreeSet<LogicalId>)],
    known: &Known,
) -> BTreeSet<LogicalId> {
    // Compared in AWS's terms: an undeclared object's references are AWS ids.
    let key = |t: ResourceType, props: &crate::graph::Properties| {
        let mut json = serde_json::to_value(props).ok()?;
        crate::resources::resolve_where_known(&mut json, known);
        crate::resources::unique_key(&crate::graph::Properties::from_json(t, json).ok()?)
    };
    let held: BTreeMap<_, &LogicalId> =
        doomed.iter().filter_map(|(r, _)| key(r.resource_type, &r.properties).map(|k| (k, &r.id))).collect();
    let mut early = BTreeSet::new();
    for step in steps.iter_mut() {
        let Work::Create(r) = &step.payload else { continue };
        if let Some(old) = key(r.resource_type, &r.properties).and_then(|k| held.get(&k)) {
            step.deps.push((*old).clone());
            early.insert((*old).clone());
        }
    }
    early
}

/// Options of [`apply`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Steps calling AWS at once (0 means the default, 10); steps waiting for AWS
    /// between polls do not count (see [`crate::walk`]).
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
    let original = live.known(&graph);
    let known = Arc::new(Mutex::new(original.clone()));
    let shared = Arc::new((clients.clone(), ctx.zones.clone(), stack.name.clone(), options.waits, cluster, original));
    let walk_options = WalkOptions {
        parallelism: if options.parallelism == 0 { 10 } else { options.parallelism },
        retry: options.retry,
        stop_after: options.stop_after,
    };
    // Steps attempted before: a create that failed half-way may have made its object.
    let attempted = Arc::new(Mutex::new(BTreeSet::<LogicalId>::new()));
    let report = walk(steps, &walk_options, observer, move |step: &Step<Work>| {
        let (known, shared) = (Arc::clone(&known), Arc::clone(&shared));
        let retrying = !attempted.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(step.id.clone());
        let work = step.payload.clone();
        async move {
            let (clients, zones, stack, waits, cluster, original) = &*shared;
            // What the step's references name now (a delete resolves with `original`):
            // a copy of those entries only, not of the whole map.
            let snapshot: Known = match &work {
                Work::Create(r) | Work::Update(r, _) => {
                    let known = known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    r.refs().into_iter().filter_map(|x| Some((x.id.clone(), known.get(&x.id)?.clone()))).collect()
                }
                Work::Delete(..) => Known::new(),
            };
            let cluster = cluster.as_deref();
            let cx = Cx { clients, stack, known: &snapshot, original, zones, waits: *waits, cluster, retrying };
            let (id, physical) = match work {
                Work::Create(r) => (r.id.clone(), Some(crate::resources::create(&cx, &r).await?)),
                Work::Update(r, l) => (r.id.clone(), crate::resources::update(&cx, &r, &l).await?),
                Work::Delete(r, forget) => {
                    crate::resources::delete(&cx, &r).await?;
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
