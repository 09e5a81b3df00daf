//! An in-memory fake cloud implementing every AWS trait, for tests of the engine and of
//! your own deploy tools.
//!
//! [`FakeCloud`] keeps one region's worth of EC2, ECS, ELBv2, EFS, IAM, CloudWatch Logs,
//! SSM, Auto Scaling and Application Auto Scaling objects behind one lock (and answers
//! the Resource Groups Tagging API from them) and hands out
//! [`Clients`] whose ten trait objects all share it. It behaves like AWS where the
//! engine cares:
//!
//! - AWS-looking ids and ARNs (`vpc-…`, `arn:aws:ecs:us-west-2:123456789012:cluster/…`),
//!   account [`ACCOUNT`];
//! - unique names (roles, log groups, Auto Scaling groups, launch templates, target group
//!   and load balancer names, security group names in a VPC, ...) answer
//!   [`ErrorKind::AlreadyExists`]; client tokens and creation tokens make creates
//!   idempotent where AWS does (NAT gateways, route tables, launch templates, ECS
//!   services, access points; identical load balancers, target groups and listeners);
//! - deletes of things still in use answer [`ErrorKind::Conflict`] (AWS's
//!   `DependencyViolation`, `ResourceInUse`, `DeleteConflict`, ...): a VPC with subnets,
//!   gateways or groups, a subnet holding a NAT gateway, mount target or load balancer, a
//!   cluster with services, a target group a listener forwards to, a role with policies or
//!   in a profile, a file system with mount targets or access points, a security group
//!   another one refers to; a deleted load balancer's network interfaces linger for
//!   [`Timing::eni_linger`], as in AWS;
//! - asynchronous objects change state with time (`tokio::time`, so tests run instantly
//!   under `tokio::time::pause()`): NAT gateways `pending` → `available`, load balancers
//!   `provisioning` → `active`, file systems and mount targets `creating` → `available`,
//!   and deletes pass through `deleting` (NAT gateways stay listed as `deleted`, services
//!   go `DRAINING` → `INACTIVE`, Auto Scaling groups `Delete in progress` → gone);
//! - ECS deployments: a new task definition starts a `PRIMARY` deployment whose rollout
//!   is `IN_PROGRESS` and, after [`Timing::deployment`], `COMPLETED` with every task
//!   running, the old deployment gone and a "has reached a steady state" event. For
//!   services named with [`FakeCloud::fail_deployments_of`] (or
//!   [`FakeCloud::crash_deployments_of`]) the tasks stop with their exit code, the rollout
//!   ends `FAILED` and the circuit breaker rolls the service back to its previous task
//!   definition, with events saying why;
//! - ECS's deployment strategies: blue/green, canary and linear deployments start the new
//!   tasks behind the alternate target group, move the test listener rule's weights to
//!   them once they are healthy (`TEST_TRAFFIC_SHIFT`), then the production rule's on the
//!   strategy's schedule ([`FakeCloud::rule_weights`]), bake, then stop the old tasks; an alarm in `ALARM` ([`FakeCloud::set_alarm`]) or the circuit
//!   breaker rolls back; lifecycle hooks run at their stages, taking and answering what
//!   [`FakeCloud::set_hook_function`] says, a `FAILED` one rolling the deployment back;
//!   ListServiceDeployments and DescribeServiceDeployments report status, lifecycle
//!   stage, traffic share, hooks and rollback;
//! - latency per call ([`FakeCloud::set_latency`]), injected failures
//!   ([`FakeCloud::fail`]) and objects not yet visible to describes right after their
//!   create ([`FakeCloud::hide_after_create`]);
//! - every call is logged ([`FakeCloud::call_log`]) and counted in [`Clients::calls`].
//!
//! [`FakeCloud::snapshot`] lists everything that exists for assertions. Foreign objects
//! (untagged, or another stack's) are made through the clients themselves.
//!
//! ```
//! use ecs_kit::testing::FakeCloud;
//! use ecs_kit::graph::ResourceType;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
//! let cloud = FakeCloud::new("us-west-2");
//! let clients = cloud.clients();
//! let props = ecs_kit::graph::props::VpcProps {
//!     cidr_block: "10.0.0.0/16".into(),
//!     enable_dns_support: true,
//!     enable_dns_hostnames: false,
//! };
//! let id = clients.ec2.create_vpc(props, Default::default()).await?;
//! assert!(id.starts_with("vpc-"));
//! assert_eq!(cloud.snapshot().count(ResourceType::Vpc), 1);
//! assert_eq!(cloud.call_log(), ["CreateVpc"]);
//! # Ok::<(), ecs_kit::aws::AwsError>(())
//! # }).unwrap();
//! ```

mod autoscaling;
mod ec2;
mod ecs;
mod efs;
mod elb;
mod iam;
mod logs;
mod scaling;
mod tagging;

#[cfg(test)]
mod tests;

#[cfg(test)]
use std::collections::BTreeSet;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::aws::{AwsError, AwsResult, CallCounter, Clients, ErrorKind, Filter, Tags};
use crate::graph::ResourceType;

pub use ecs::FakeService;

/// The account id of every ARN the fake makes.
pub const ACCOUNT: &str = "123456789012";

/// The AMI the fake's SSM parameters name unless told otherwise.
pub const DEFAULT_AMI: &str = "ami-0fa1ca0ecd5bdd9a1";

/// How long AWS takes for its asynchronous work, in the fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// A NAT gateway `pending` → `available`; `deleting` → `deleted` likewise.
    pub nat_gateway: Duration,
    /// A load balancer `provisioning` → `active`.
    pub load_balancer: Duration,
    /// A file system `creating` → `available`.
    pub file_system: Duration,
    /// A mount target `creating` → `available`; `deleting` → gone likewise.
    pub mount_target: Duration,
    /// An Auto Scaling group deleted with `force`: `Delete in progress` → gone.
    pub auto_scaling_group_delete: Duration,
    /// An ECS deployment `IN_PROGRESS` → `COMPLETED` (or `FAILED`); a rollback as long.
    pub deployment: Duration,
    /// An ECS service `DRAINING` → `INACTIVE`.
    pub service_drain: Duration,
    /// How long a deleted load balancer's network interfaces keep its subnets,
    /// security groups and the VPC's internet gateway in use.
    pub eni_linger: Duration,
    /// AWS's semantics for deployments of services behind a target group: besides
    /// [`Timing::deployment`] for the tasks to start, the new targets turn healthy after
    /// the target group's healthy threshold x interval, and the old ones drain for its
    /// deregistration delay before the deployment completes.
    pub health_checks: bool,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            nat_gateway: Duration::from_secs(90),
            load_balancer: Duration::from_secs(60),
            file_system: Duration::from_secs(10),
            mount_target: Duration::from_secs(60),
            auto_scaling_group_delete: Duration::from_secs(30),
            deployment: Duration::from_secs(60),
            service_drain: Duration::from_secs(30),
            eni_linger: Duration::from_secs(20),
            health_checks: false,
        }
    }
}

impl Timing {
    /// Everything happens at once: no pending states at all.
    #[must_use]
    pub fn instant() -> Self {
        Timing {
            nat_gateway: Duration::ZERO,
            load_balancer: Duration::ZERO,
            file_system: Duration::ZERO,
            mount_target: Duration::ZERO,
            auto_scaling_group_delete: Duration::ZERO,
            deployment: Duration::ZERO,
            service_drain: Duration::ZERO,
            eni_linger: Duration::ZERO,
            health_checks: false,
        }
    }
}

/// What a Lambda function answers ECS when it runs as a lifecycle hook, in the fake
/// ([`FakeCloud::set_hook_function`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAnswer {
    /// `{"hookStatus": "SUCCEEDED"}`: the deployment goes on.
    Succeeded,
    /// `{"hookStatus": "FAILED"}`: ECS rolls the deployment back.
    Failed,
}

/// Bookkeeping every fake object carries.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// When it was created.
    pub created: Instant,
    /// Describe calls that will still leave it out (not yet visible).
    pub hidden: u32,
    /// Its tags.
    pub tags: Tags,
}

/// An injected failure.
#[derive(Debug, Clone)]
struct Fault {
    kind: ErrorKind,
    remaining: u32,
    /// AWS's code, when not the usual one of `kind`.
    code: Option<&'static str>,
}

/// Everything the fake holds, behind one lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub ec2: ec2::Ec2State,
    pub ecs: ecs::EcsState,
    pub elb: elb::ElbState,
    pub efs: efs::EfsState,
    pub iam: iam::IamState,
    pub logs: logs::LogsState,
    pub autoscaling: autoscaling::AsgState,
    pub scaling: scaling::ScalingState,
    /// What the Resource Groups Tagging API answers while frozen
    /// ([`FakeCloud::freeze_tag_index`]): the index as it was then.
    pub tag_index: Option<Vec<tagging::Indexed>>,
    /// SSM parameters.
    pub parameters: BTreeMap<String, String>,
    /// Id counter.
    serial: u64,
    faults: BTreeMap<String, VecDeque<Fault>>,
    hide: BTreeMap<String, VecDeque<u32>>,
    latency: Duration,
    latency_of: BTreeMap<String, Duration>,
    /// Services whose deployments crash, with the exit code of their container.
    pub failing_services: BTreeMap<String, i32>,
    /// Lambda functions lifecycle hooks may name: what each answers, and after how long.
    pub hook_functions: BTreeMap<String, (HookAnswer, Duration)>,
    pub timing: Timing,
    log: Vec<String>,
    /// Ids held by network interfaces of deleted load balancers, until when.
    pub lingering: Vec<(Instant, Vec<String>)>,
    /// When [`State::advance`] last ran, and whether a call may have changed anything
    /// since: calls at the same instant after only reads need not move time along.
    advanced: Option<Instant>,
    changed: bool,
}

impl State {
    /// A fresh deterministic number.
    pub fn next(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// `digits` hex digits that look random but are not: `vpc-{hex(17)}`.
    pub fn hex(&mut self, digits: usize) -> String {
        hex(&mut self.serial, digits)
    }

    /// An id `prefix-` and 17 hex digits.
    pub fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}-{}", self.hex(17))
    }

    /// The meta of a new object made by `operation`: hidden from the next describes when
    /// [`FakeCloud::hide_after_create`] asked for it.
    pub fn meta(&mut self, operation: &str, tags: Tags) -> Meta {
        let hidden = self.hide.get_mut(operation).and_then(VecDeque::pop_front).unwrap_or(0);
        Meta { created: Instant::now(), hidden, tags }
    }

    /// Whether `id` is held by a lingering network interface.
    pub fn lingers(&self, id: &str) -> bool {
        let now = Instant::now();
        self.lingering.iter().any(|(until, ids)| *until > now && ids.iter().any(|i| i == id))
    }

    /// Moves every asynchronous object along to `now`.
    fn advance(&mut self) {
        let now = Instant::now();
        let timing = self.timing;
        self.ec2.advance(now, timing);
        self.efs.advance(now, timing);
        self.autoscaling.advance(now, timing);
        self.elb.advance(now, timing);
        self.ecs.advance(now, timing, &mut self.serial);
        // ECS moves the production rules' weights as deployments shift traffic.
        for (rule, tg, weight) in self.ecs.traffic() {
            self.elb.set_weight(&rule, &tg, weight);
        }
        self.lingering.retain(|(until, _)| *until > now);
    }
}

/// `digits` hex digits from the counter `serial`, deterministic but random-looking.
pub(crate) fn hex(serial: &mut u64, digits: usize) -> String {
    *serial += 1;
    let mut x = serial.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let text = format!("{x:016x}{:016x}", x.rotate_left(17));
    text.chars().cycle().take(digits).collect()
}

/// Whether a describe may show an object now (and counts the describe if it may not).
pub(crate) fn visible(meta: &mut Meta) -> bool {
    if meta.hidden > 0 {
        meta.hidden -= 1;
        false
    } else {
        true
    }
}

/// An AWS error of `service`'s `operation` with AWS's `code`, classified as the real
/// adapters classify it.
pub(crate) fn aws_error(service: &str, operation: &str, code: &str, message: impl Into<String>) -> AwsError {
    let message = message.into();
    let kind = ErrorKind::classify_message(Some(code), Some(400), &message);
    AwsError::new(kind, service, operation, message).with_code(code)
}

/// Whether tags and filter fields of an object match every EC2 filter.
pub(crate) fn matches(filters: &[Filter], tags: &Tags, field: impl Fn(&str) -> Option<Vec<String>>) -> AwsResult<bool> {
    for f in filters {
        let values: Vec<String> = if let Some(key) = f.name.strip_prefix("tag:") {
            tags.get(key).cloned().into_iter().collect()
        } else if f.name == "tag-key" {
            tags.keys().cloned().collect()
        } else {
            match field(&f.name) {
                Some(v) => v,
                None => {
                    return Err(aws_error(
                        "ec2",
                        "Describe",
                        "InvalidParameterValue",
                        format!("The filter '{}' is invalid", f.name),
                    ))
                }
            }
        };
        if !values.iter().any(|v| f.values.contains(v)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Shared handle of the fake's state; each AWS trait is implemented on it.
#[derive(Debug, Clone)]
pub(crate) struct Fake {
    pub region: String,
    state: Arc<Mutex<State>>,
    calls: CallCounter,
}

impl Fake {
    /// Locks the state (a test that panicked while holding it does not poison others).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a call: logs and counts it, waits its latency, moves time along and
    /// answers an injected failure if one is due; then the state, locked.
    pub async fn begin(&self, service: &str, operation: &str) -> AwsResult<MutexGuard<'_, State>> {
        self.calls.record(service, operation);
        let latency = {
            let mut s = self.lock();
            s.log.push(operation.to_owned());
            s.latency_of.get(operation).copied().unwrap_or(s.latency)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        self.calls.record_time(service, latency);
        let mut s = self.lock();
        let now = Instant::now();
        if s.changed || s.advanced != Some(now) {
            s.advance();
            s.advanced = Some(now);
        }
        // Whatever else than a read may change objects that advance moves along.
        s.changed = !["Describe", "List", "Get"].iter().any(|read| operation.starts_with(read));
        if let Some(queue) = s.faults.get_mut(operation) {
            if let Some(fault) = queue.front_mut() {
                let (kind, given) = (fault.kind, fault.code);
                fault.remaining -= 1;
                if fault.remaining == 0 {
                    queue.pop_front();
                }
                let code = match kind {
                    ErrorKind::Throttled => "ThrottlingException",
                    ErrorKind::Unavailable => "ServiceUnavailable",
                    ErrorKind::NotFound => "NotFound",
                    ErrorKind::AlreadyExists => "AlreadyExists",
                    ErrorKind::Conflict => "ResourceInUse",
                    ErrorKind::AccessDenied => "AccessDenied",
                    ErrorKind::Invalid => "InvalidParameterValue",
                    ErrorKind::NotYetUsable => "InvalidParameterValue",
                    ErrorKind::Other => "InjectedFault",
                };
                let code = given.unwrap_or(code);
                let mut e = AwsError::new(kind, service, operation, "injected by the fake cloud").with_code(code);
                e.kind = kind;
                return Err(e);
            }
        }
        Ok(s)
    }

    /// The ARN `arn:aws:SERVICE:REGION:ACCOUNT:REST`.
    pub fn arn(&self, service: &str, rest: &str) -> String {
        format!("arn:aws:{service}:{}:{ACCOUNT}:{rest}", self.region)
    }
}

/// An in-memory AWS region; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct FakeCloud {
    fake: Fake,
}

impl FakeCloud {
    /// An empty region `region` (zones `a` to `d`), with the default [`Timing`] and
    /// the ECS-optimized AMI parameters set to [`DEFAULT_AMI`].
    #[must_use]
    pub fn new(region: &str) -> Self {
        let mut state = State::default();
        state.ec2.zones = ["a", "b", "c", "d"].iter().map(|z| format!("{region}{z}")).collect();
        for parameter in
            [crate::model::DEFAULT_AMI_PARAMETER, "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"]
        {
            state.parameters.insert(parameter.to_owned(), DEFAULT_AMI.to_owned());
        }
        FakeCloud {
            fake: Fake { region: region.to_owned(), state: Arc::new(Mutex::new(state)), calls: CallCounter::default() },
        }
    }

    /// The same cloud with `timing` for its asynchronous work.
    #[must_use]
    pub fn with_timing(self, timing: Timing) -> Self {
        self.fake.lock().timing = timing;
        self
    }

    /// Clients for the engine: all ten traits share this cloud; [`Clients::calls`]
    /// counts the calls made through them.
    #[must_use]
    pub fn clients(&self) -> Clients {
        let api = Arc::new(self.fake.clone());
        Clients {
            region: self.fake.region.clone(),
            ec2: api.clone(),
            ecs: api.clone(),
            elb: api.clone(),
            efs: api.clone(),
            iam: api.clone(),
            logs: api.clone(),
            ssm: api.clone(),
            autoscaling: api.clone(),
            scaling: api.clone(),
            tagging: api,
            calls: self.fake.calls.clone(),
        }
    }

    /// From now on the Resource Groups Tagging API answers with its index as it is now,
    /// as AWS's lagging index can: objects made later are missing from it, and tags
    /// changed later keep their old values, until [`FakeCloud::thaw_tag_index`]. (Like
    /// moto, the fake's index holds load balancers, target groups and log groups, not
    /// listeners or rules.)
    pub fn freeze_tag_index(&self) {
        let mut s = self.fake.lock();
        s.tag_index = Some(tagging::index(&s));
    }

    /// The Resource Groups Tagging API answers with the objects' current tags again.
    pub fn thaw_tag_index(&self) {
        self.fake.lock().tag_index = None;
    }

    /// Every call waits `latency` (with `tokio::time::sleep`) before it is answered.
    pub fn set_latency(&self, latency: Duration) {
        self.fake.lock().latency = latency;
    }

    /// Calls of `operation` (e.g. `CreateVpc`) wait `latency`, whatever
    /// [`FakeCloud::set_latency`] says.
    pub fn set_latency_of(&self, operation: &str, latency: Duration) {
        self.fake.lock().latency_of.insert(operation.to_owned(), latency);
    }

    /// The next `times` calls of `operation` (AWS's name: `CreateVpc`,
    /// `DescribeNatGateways`, `PutRolePolicy`, ...) fail with `kind` before doing
    /// anything (throttling: [`ErrorKind::Throttled`]; a 5xx: [`ErrorKind::Unavailable`]).
    pub fn fail(&self, operation: &str, kind: ErrorKind, times: u32) {
        if times > 0 {
            let fault = Fault { kind, remaining: times, code: None };
            self.fake.lock().faults.entry(operation.to_owned()).or_default().push_back(fault);
        }
    }

    /// The next `times` calls of `operation` time out, as the SDK reports a request that
    /// got no answer in time ([`ErrorKind::Unavailable`], code `RequestTimeout`).
    pub fn time_out(&self, operation: &str, times: u32) {
        if times > 0 {
            let fault = Fault { kind: ErrorKind::Unavailable, remaining: times, code: Some("RequestTimeout") };
            self.fake.lock().faults.entry(operation.to_owned()).or_default().push_back(fault);
        }
    }

    /// The next object made by `operation` (e.g. `CreateNatGateway`) is left out of the
    /// next `describes` describe calls that would list it (AWS's eventual consistency).
    pub fn hide_after_create(&self, operation: &str, describes: u32) {
        self.fake.lock().hide.entry(operation.to_owned()).or_default().push_back(describes);
    }

    /// Injected failures not yet used, as `(operation, kind, times)`.
    #[must_use]
    pub fn pending_faults(&self) -> Vec<(String, ErrorKind, u32)> {
        let s = self.fake.lock();
        s.faults.iter().flat_map(|(op, q)| q.iter().map(move |f| (op.clone(), f.kind, f.remaining))).collect()
    }

    /// Deployments of the ECS service `name` started from now on fail: tasks do not
    /// start, the circuit breaker marks the rollout `FAILED` and rolls back.
    pub fn fail_deployments_of(&self, name: &str) {
        self.crash_deployments_of(name, 1);
    }

    /// Deployments of the ECS service `name` started from now on crash: every task's
    /// essential container exits with `exit_code` (stopped tasks say so), and the
    /// circuit breaker, when on, fails the deployment and rolls it back.
    pub fn crash_deployments_of(&self, name: &str, exit_code: i32) {
        self.fake.lock().failing_services.insert(name.to_owned(), exit_code);
    }

    /// Puts the CloudWatch alarm `name` in state `ALARM` (`true`) or `OK`: a deployment
    /// in progress whose service lists it fails (and rolls back, as configured).
    pub fn set_alarm(&self, name: &str, in_alarm: bool) {
        let mut s = self.fake.lock();
        if in_alarm {
            s.ecs.alarms.insert(name.to_owned());
        } else {
            s.ecs.alarms.remove(name);
        }
    }

    /// The weights (of 1000) of the target groups the listener rule `arn` forwards to.
    #[must_use]
    pub fn rule_weights(&self, arn: &str) -> Vec<(String, u32)> {
        let mut s = self.fake.lock();
        s.advance();
        s.elb.forwards(arn)
    }

    /// The Lambda function `arn` exists: invoked as a lifecycle hook, it answers `answer`
    /// after `takes` (at every stage of its hook). ECS invokes it with the hook's role,
    /// which must exist, trust `ecs.amazonaws.com` and allow `lambda:InvokeFunction` on
    /// it in an inline policy; otherwise, and for a function the fake does not know, the
    /// hook fails at once (`Function not found`, `AccessDenied`). Hooks run at every
    /// stage they name but `RECONCILE_SERVICE`, which the fake never passes; they are
    /// not run again while a deployment rolls back.
    pub fn set_hook_function(&self, arn: &str, answer: HookAnswer, takes: Duration) {
        self.fake.lock().hook_functions.insert(arn.to_owned(), (answer, takes));
    }

    /// Deployments of `name` succeed again.
    pub fn heal_deployments_of(&self, name: &str) {
        self.fake.lock().failing_services.remove(name);
    }

    /// Writes a line to stream `stream` of log group `group` at `timestamp_ms` (epoch
    /// milliseconds), as a task's log driver does; `false` when the group does not exist.
    pub fn put_log_line(&self, group: &str, stream: &str, timestamp_ms: i64, message: &str) -> bool {
        let mut s = self.fake.lock();
        let serial = s.next();
        s.logs.put(group, stream, timestamp_ms, message, serial)
    }

    /// The region's available zones, in the order DescribeAvailabilityZones lists them
    /// (e.g. one withdrawn).
    pub fn set_zones(&self, zones: &[&str]) {
        self.fake.lock().ec2.zones = zones.iter().map(|z| (*z).to_owned()).collect();
    }

    /// Sets the SSM parameter `name` (e.g. a newer AMI).
    pub fn set_parameter(&self, name: &str, value: &str) {
        self.fake.lock().parameters.insert(name.to_owned(), value.to_owned());
    }

    /// The SSM parameter `name` (e.g. a stack's lock, `/ecs-kit/<stack>/lock`), if set.
    #[must_use]
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.fake.lock().parameters.get(name).cloned()
    }

    /// Every call so far, by AWS operation name, in order.
    #[must_use]
    pub fn call_log(&self) -> Vec<String> {
        self.fake.lock().log.clone()
    }

    /// Forgets the call log.
    pub fn clear_call_log(&self) {
        self.fake.lock().log.clear();
    }

    /// The ECS service `name` (of any cluster) as the fake holds it, if any.
    #[must_use]
    pub fn service(&self, name: &str) -> Option<FakeService> {
        let mut s = self.fake.lock();
        s.advance();
        s.ecs.service_view(name)
    }

    /// Everything in the cloud now, deleted objects AWS still lists included.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let mut s = self.fake.lock();
        s.advance();
        let mut out = Vec::new();
        s.ec2.snapshot(&mut out);
        s.iam.snapshot(&mut out);
        s.autoscaling.snapshot(&mut out);
        s.ecs.snapshot(&mut out);
        s.efs.snapshot(&mut out);
        s.elb.snapshot(&mut out);
        s.logs.snapshot(&mut out);
        s.scaling.snapshot(&mut out);
        Snapshot { resources: out }
    }
}

/// One object of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeResource {
    /// Its type.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// Its id (the name where AWS has none, `family:revision` for task definitions).
    pub id: String,
    /// Its name, where it has one.
    pub name: Option<String>,
    /// Its state as AWS spells it, where it has one.
    pub state: Option<String>,
    /// Its tags.
    pub tags: Tags,
}

impl FakeResource {
    /// Whether AWS would list it as existing (not `deleted`, `INACTIVE`, `deleting`, ...).
    #[must_use]
    pub fn is_live(&self) -> bool {
        !matches!(
            self.state.as_deref(),
            Some(
                "deleted"
                    | "deleting"
                    | "INACTIVE"
                    | "DRAINING"
                    | "DELETE_IN_PROGRESS"
                    | "Delete in progress"
                    | "failed"
            )
        )
    }
}

/// Everything a [`FakeCloud`] holds at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Every object, by type then id.
    pub resources: Vec<FakeResource>,
}

impl Snapshot {
    /// The live objects of `resource_type`.
    pub fn live(&self, resource_type: ResourceType) -> impl Iterator<Item = &FakeResource> {
        self.resources.iter().filter(move |r| r.resource_type == resource_type && r.is_live())
    }

    /// How many live objects of `resource_type` exist.
    #[must_use]
    pub fn count(&self, resource_type: ResourceType) -> usize {
        self.live(resource_type).count()
    }

    /// Live objects per type (types without any left out).
    #[must_use]
    pub fn counts(&self) -> BTreeMap<ResourceType, usize> {
        let mut out = BTreeMap::new();
        for r in self.resources.iter().filter(|r| r.is_live()) {
            *out.entry(r.resource_type).or_insert(0) += 1;
        }
        out
    }

    /// The live objects tagged `ecs-kit:stack=<stack>`.
    pub fn of_stack<'a>(&'a self, stack: &'a str) -> impl Iterator<Item = &'a FakeResource> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.is_live() && r.tags.get(crate::model::STACK_TAG).map(String::as_str) == Some(stack))
    }

    /// The task definition revisions of `family` as `(revision, status)`, oldest first.
    #[must_use]
    pub fn revisions(&self, family: &str) -> Vec<(u32, String)> {
        self.resources
            .iter()
            .filter(|r| r.resource_type == ResourceType::TaskDefinition && r.name.as_deref() == Some(family))
            .filter_map(|r| {
                let revision = r.id.rsplit(':').next()?.parse().ok()?;
                Some((revision, r.state.clone().unwrap_or_default()))
            })
            .collect()
    }
}

/// Pushes a [`FakeResource`].
pub(crate) fn push(
    out: &mut Vec<FakeResource>,
    resource_type: ResourceType,
    id: &str,
    name: Option<&str>,
    state: Option<&str>,
    tags: &Tags,
) {
    out.push(FakeResource {
        resource_type,
        id: id.to_owned(),
        name: name.map(str::to_owned),
        state: state.map(str::to_owned),
        tags: tags.clone(),
    });
}

/// `tags` with `new` merged in.
pub(crate) fn merge_tags(tags: &mut Tags, new: Tags) {
    tags.extend(new);
}

/// `tags` without `keys`.
pub(crate) fn remove_tags(tags: &mut Tags, keys: &[String]) {
    for k in keys {
        tags.remove(k);
    }
}

/// Seconds since the epoch the fake pretends it is at `at`.
pub(crate) fn epoch(at: Instant, origin: Instant) -> i64 {
    // The engine's clock ([`crate::aws::epoch_now`]), so that the times the fake reports
    // agree with it under `tokio::time::pause()`.
    let _ = origin;
    crate::aws::epoch_seconds(at)
}
