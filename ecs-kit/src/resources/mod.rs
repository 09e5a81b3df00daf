//! One place per resource type: what ecs-kit knows about each AWS type, and the one
//! registry that lists them.
//!
//! Every type has a file under a folder of its AWS service (`ec2/vpc.rs`,
//! `elbv2/target_group.rs`, ...) holding, for that type alone:
//! - its [`Schema`] as data: the fields that force a replacement, whether a successor can
//!   exist beside the object it replaces, its rank in the delete order, whether it holds
//!   data that is kept unless asked, how AWS tags it, whether its references only name
//!   other objects;
//! - its normalisation before diff ([`Kind::normalise`]) and the fields that declare
//!   ownership rather than describe AWS ([`Kind::declared`]);
//! - its one-line summary in `synth` ([`Kind::summary`]);
//! - its create (with the waits AWS needs before it is usable), in-place update and
//!   delete ([`Kind::create`], [`Kind::update`], [`Kind::delete`]).
//!
//! The engine (observe, diff, plan, apply, destroy) knows no type: it asks the registry.
//!
//! # Adding a resource type
//! 1. Its properties: a `...Props` struct in [`crate::graph::props`] (serde, the AWS
//!    field names in snake_case, [`crate::graph::RefOr`] where another resource's
//!    attribute goes).
//! 2. Its file: `resources/<service>/<type>.rs` with a unit struct implementing [`Kind`]
//!    (schema, create, update, delete; the defaults of the rest fit most types). The
//!    AWS calls it needs go on the service's trait in [`crate::aws`], its SDK adapter
//!    (`aws/sdk/`) and the fake cloud (`testing/`).
//! 3. One line in the registry ([`registry!`] below): the type's variant, its name in
//!    JSON (`service:type`), its properties' variant and struct, and its kind. The
//!    [`crate::graph::ResourceType`] variant, `ALL`, the name, [`crate::graph::Properties`]
//!    and every dispatch come from that line; a kind that lacks a verb does not compile.
//! 4. Build it in `graph/build.rs` from the model (and the model and DSL fields that
//!    declare it). Its read is its kind's [`Kind::read`]: observe, diff, plan, apply and
//!    destroy need no change.
//!
//! Tests: the engine's fake-cloud tests (apply then plan is a no-op, destroy leaves
//! nothing, the fault matrix over every call) cover it once the graph builds it; add an
//! aws-smithy-mocks test of its adapter calls and a moto test where moto supports it.
//! The `elbv2:listener-certificate` type is a small, complete example.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::aws::{literal, AwsError, Clients, ErrorKind, Filter, Found, ServiceStatus, Tags};
use crate::graph::{Attr, Graph, LogicalId, Properties, Ref, RefOr, Resource, ResourceType};
use crate::model::{Stack, STACK_TAG};
use crate::walk::StepError;

pub(crate) mod autoscaling;
pub(crate) mod ec2;
pub(crate) mod ecs;
pub(crate) mod efs;
pub(crate) mod elbv2;
pub(crate) mod iam;
pub(crate) mod logs;
pub(crate) mod scaling;

/// Calls the macro `$m` with every resource type, one line each:
/// `Variant = "service:type", PropsVariant(PropsStruct) => path::to::Kind`.
/// The order is DESIGN.md's, and it is the order of [`ResourceType::ALL`].
macro_rules! registry {
    ($m:ident) => {
        $m! {
            Vpc = "ec2:vpc", Vpc(VpcProps) => ec2::vpc::Vpc;
            InternetGateway = "ec2:internet-gateway", InternetGateway(InternetGatewayProps) => ec2::internet_gateway::InternetGateway;
            Subnet = "ec2:subnet", Subnet(SubnetProps) => ec2::subnet::Subnet;
            Eip = "ec2:eip", Eip(EipProps) => ec2::eip::Eip;
            NatGateway = "ec2:nat-gateway", NatGateway(NatGatewayProps) => ec2::nat_gateway::NatGateway;
            RouteTable = "ec2:route-table", RouteTable(RouteTableProps) => ec2::route_table::RouteTable;
            SecurityGroup = "ec2:security-group", SecurityGroup(SecurityGroupProps) => ec2::security_group::SecurityGroup;
            LaunchTemplate = "ec2:launch-template", LaunchTemplate(LaunchTemplateProps) => ec2::launch_template::LaunchTemplate;
            IamRole = "iam:role", Role(RoleProps) => iam::role::Role;
            InstanceProfile = "iam:instance-profile", InstanceProfile(InstanceProfileProps) => iam::instance_profile::InstanceProfile;
            AutoScalingGroup = "autoscaling:group", AutoScalingGroup(AutoScalingGroupProps) => autoscaling::group::Group;
            CapacityProvider = "ecs:capacity-provider", CapacityProvider(CapacityProviderProps) => ecs::capacity_provider::CapacityProvider;
            Cluster = "ecs:cluster", Cluster(ClusterProps) => ecs::cluster::Cluster;
            FileSystem = "efs:file-system", FileSystem(FileSystemProps) => efs::file_system::FileSystem;
            MountTarget = "efs:mount-target", MountTarget(MountTargetProps) => efs::mount_target::MountTarget;
            AccessPoint = "efs:access-point", AccessPoint(AccessPointProps) => efs::access_point::AccessPoint;
            LoadBalancer = "elbv2:load-balancer", LoadBalancer(LoadBalancerProps) => elbv2::load_balancer::LoadBalancer;
            TargetGroup = "elbv2:target-group", TargetGroup(TargetGroupProps) => elbv2::target_group::TargetGroup;
            Listener = "elbv2:listener", Listener(ListenerProps) => elbv2::listener::Listener;
            ListenerRule = "elbv2:listener-rule", ListenerRule(ListenerRuleProps) => elbv2::listener_rule::ListenerRule;
            ListenerCertificate = "elbv2:listener-certificate", ListenerCertificate(ListenerCertificateProps) => elbv2::listener_certificate::ListenerCertificate;
            LogGroup = "logs:log-group", LogGroup(LogGroupProps) => logs::log_group::LogGroup;
            TaskDefinition = "ecs:task-definition", TaskDefinition(TaskDefinitionProps) => ecs::task_definition::TaskDefinition;
            EcsService = "ecs:service", Service(ServiceProps) => ecs::service::Service;
            ScalableTarget = "application-autoscaling:scalable-target", ScalableTarget(ScalableTargetProps) => scaling::scalable_target::ScalableTarget;
            ScalingPolicy = "application-autoscaling:scaling-policy", ScalingPolicy(ScalingPolicyProps) => scaling::scaling_policy::ScalingPolicy;
        }
    };
}
pub(crate) use registry;

pub(crate) use ecs::task_definition::keep_pipeline_images;

/// How AWS tags a type: which API sets and removes its tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagging {
    /// EC2 CreateTags/DeleteTags by id.
    Ec2,
    /// IAM TagRole/UntagRole by role name.
    IamRole,
    /// IAM TagInstanceProfile/UntagInstanceProfile by name.
    IamInstanceProfile,
    /// Auto Scaling CreateOrUpdateTags/DeleteTags by group name.
    AutoScaling,
    /// ECS TagResource/UntagResource by ARN.
    Ecs,
    /// ELBv2 AddTags/RemoveTags by ARN.
    Elb,
    /// EFS TagResource/UntagResource by id.
    Efs,
    /// CloudWatch Logs TagResource/UntagResource by ARN.
    Logs,
    /// Untaggable: owned through its owned parent.
    None,
}

impl Tagging {
    /// The Resource Groups Tagging API's filter for the objects tagged this way whose
    /// tags observe reads late ([`Schema::late_tags`]), where the index has them.
    pub(crate) fn index_filter(self) -> Option<&'static str> {
        match self {
            Tagging::Elb => Some("elasticloadbalancing"),
            Tagging::Logs => Some("logs"),
            _ => None,
        }
    }
}

/// What the engine knows of a type, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schema {
    /// Top-level fields AWS cannot change in place: a change means replacement.
    pub replace_on: &'static [&'static str],
    /// Whether a successor can exist beside the object it replaces: nothing of it is
    /// unique (a name, a listener's port, a rule's priority, a subnet's CIDR, a mount
    /// target's zone, a route table's associations).
    pub coexists: bool,
    /// Its rank in the delete order: every resource of a lower rank is deleted before
    /// any of a higher one (services first, the VPC last).
    pub delete_rank: u8,
    /// Whether it holds data that destroy keeps and apply does not delete or replace
    /// without `--delete-data`.
    pub holds_data: bool,
    /// How AWS tags it.
    pub tagging: Tagging,
    /// Whether its references only name other objects (a task definition revision, a
    /// role's policies): a delete-first replacement of what it names does not make it
    /// let go first, AWS deletes the named object all the same.
    pub names_only: bool,
    /// Whether an update makes a new object (a task definition revision): what refers
    /// to it changes with it.
    pub new_revision: bool,
    /// Parts of changed paths named by a topic in an update's reason
    /// (`container_definitions[0].image` is "image changed").
    pub topics: &'static [(&'static str, &'static str)],
    /// The types whose live objects its read needs (a listener's load balancer).
    pub read_after: &'static [ResourceType],
    /// Whether replacing it with the old one deleted first interrupts traffic (a
    /// service's tasks stop before the new service's start); the plan says so.
    pub interrupts: bool,
    /// Whether its read leaves the tags to observe, which reads those of every such type
    /// together once all types are read: from the Resource Groups Tagging API's index in
    /// one paged call, and the objects the index lacks from their own API (ELB's
    /// DescribeTags takes 20 objects of any kind; a log group's are read one by one).
    /// Ownership, and conflicts over names (from [`Read::claims`]), are decided then.
    pub late_tags: bool,
}

impl Schema {
    /// A schema with the common answers: replaced on nothing, no coexistence, rank 0,
    /// no data, untagged, references that hold on.
    pub(crate) const fn new(tagging: Tagging, delete_rank: u8) -> Schema {
        Schema {
            replace_on: &[],
            coexists: false,
            delete_rank,
            holds_data: false,
            tagging,
            names_only: false,
            new_revision: false,
            topics: &[],
            read_after: &[],
            interrupts: false,
            late_tags: false,
        }
    }
}

/// Values known only in AWS that the comparison needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The region's available zones, sorted: resolves zones declared by index.
    pub zones: Vec<String>,
    /// The AMI the SSM parameter names now, for stacks that follow the latest AMI.
    pub latest_ami: Option<String>,
}

/// Whether tag `key` is none of the declaration's business: AWS's own (the reserved
/// `aws:` prefix, `AmazonECSManaged` on Auto Scaling groups of managed-scaling capacity
/// providers) and ecs-kit's bookkeeping ([`crate::model::REVISION_TAG`]). Diff ignores
/// them and tag convergence leaves them alone.
pub(crate) fn unmanaged_tag(key: &str) -> bool {
    key.starts_with("aws:") || key == "AmazonECSManaged" || key == crate::model::REVISION_TAG
}

/// A live resource owned by the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveResource {
    /// Logical id (from the `ecs-kit:id` tag, or derived for untaggable resources).
    pub id: LogicalId,
    /// Type.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// AWS id (`vpc-…`, an ARN for ELB objects, the name where AWS has no id).
    pub aws_id: String,
    /// ARN, where AWS has one.
    pub arn: Option<String>,
    /// Lifecycle state as AWS reports it.
    pub state: Option<String>,
    /// Properties in the graph's shape; AWS ids of the stack's own resources appear as
    /// references to their logical ids. Shared with the graph's resource when they are
    /// its declaration.
    pub properties: std::sync::Arc<Properties>,
    /// Tags.
    pub tags: Tags,
    /// Further attributes (`dns_name`, `default_version`, ...).
    pub attrs: BTreeMap<String, String>,
}

/// A resource that holds a name the stack needs but is not the stack's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The logical id that wants the name.
    pub id: LogicalId,
    /// Type.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// The contested AWS name.
    pub name: String,
    /// What to do about it.
    pub reason: String,
}

/// What one describe call found, before ownership and references are sorted out.
pub(crate) struct Raw {
    /// Its type.
    pub resource_type: ResourceType,
    /// What AWS said.
    pub found: Found<Properties>,
    /// Whether its properties are its declaration's, resolved (see [`Read::as_declared`]).
    pub as_declared: bool,
    /// Whether it is its declaration, its properties left empty (see [`Read::declarations`]).
    pub declaration: bool,
    /// Of a type whose tags come late: the logical id whose name it holds (see
    /// [`Read::claims`]); ownership is decided once its tags are read.
    pub claim: Option<LogicalId>,
}

/// What a kind's read found: its objects (owned ones, except untaggable types whose
/// parent proves them ours), the foreign objects holding names the stack needs, and the
/// ECS services' deployments.
pub(crate) struct Read<P> {
    /// The objects found.
    pub found: Vec<Found<P>>,
    /// Foreign holders of the stack's names.
    pub conflicts: Vec<Conflict>,
    /// Deployments, counts and events of live ECS services, by logical id.
    pub services: BTreeMap<LogicalId, ServiceStatus>,
    /// The AWS ids of the objects found that are known to be exactly their declaration
    /// with its references resolved (an immutable revision whose digest the read
    /// checked): their found properties are the declaration itself, references
    /// included, and observe takes them as they are.
    pub as_declared: std::collections::BTreeSet<String>,
    /// The AWS ids of the objects found that are exactly their declaration (an immutable
    /// revision whose digest the read checked): the read leaves their properties empty
    /// and observe takes the declaration's, shared, not copied.
    pub declarations: std::collections::BTreeSet<String>,
    /// Of a type whose tags come late ([`Schema::late_tags`]): the AWS ids of objects
    /// found holding the name a desired resource needs, with its logical id; one
    /// without the stack's tag is a conflict.
    pub claims: Vec<(String, LogicalId)>,
}

impl<P> Default for Read<P> {
    fn default() -> Self {
        Read {
            found: Vec::new(),
            conflicts: Vec::new(),
            services: BTreeMap::new(),
            as_declared: std::collections::BTreeSet::new(),
            declarations: std::collections::BTreeSet::new(),
            claims: Vec::new(),
        }
    }
}

impl<P> Read<P> {
    /// Just these objects.
    pub(crate) fn of(found: Vec<Found<P>>) -> Self {
        Read { found, ..Read::default() }
    }
}

/// What a kind's read works with.
pub(crate) struct ReadCx<'a> {
    /// The stack.
    pub stack: &'a Stack,
    /// Its desired resources.
    pub graph: &'a Graph,
    /// The AWS clients.
    pub clients: &'a Clients,
    /// What the kinds read before it found (those of its schema's `read_after`).
    pub earlier: &'a [Raw],
}

impl ReadCx<'_> {
    /// Whether `tags` carry the stack's ownership tag.
    pub(crate) fn owned(&self, tags: &Tags) -> bool {
        tags.get(STACK_TAG).map(String::as_str) == Some(self.stack.name.as_str())
    }

    /// The AWS name of the desired resource `id`.
    pub(crate) fn desired_name(&self, id: &str) -> Option<String> {
        self.graph.get(id).map(|r| r.name.clone())
    }

    /// The desired resources of type `t`.
    pub(crate) fn desired(&self, t: ResourceType) -> impl Iterator<Item = &Resource> {
        self.graph.resources().iter().filter(move |r| r.resource_type == t)
    }

    /// What an earlier kind of type `t` found.
    pub(crate) fn earlier(&self, t: ResourceType) -> impl Iterator<Item = &Found<Properties>> {
        self.earlier.iter().filter(move |r| r.resource_type == t).map(|r| &r.found)
    }

    /// The tag filter finding the stack's own objects.
    pub(crate) fn ours(&self) -> Vec<Filter> {
        vec![Filter::tag(STACK_TAG, &self.stack.name)]
    }

    /// Sorts objects found by name: the stack's own ones are found, a foreign one
    /// holding the name the desired resource `id` needs is a conflict; gone ones are
    /// absent.
    pub(crate) fn by_name<P>(&self, id: &str, t: ResourceType, items: Vec<Found<P>>) -> Read<P> {
        let mut read = Read::default();
        for item in items.into_iter().filter(|i| !is_gone(i.state.as_deref())) {
            if self.owned(&item.tags) {
                read.found.push(item);
            } else {
                read.conflicts.push(conflict(id, t, &self.desired_name(id).unwrap_or_default()));
            }
        }
        read
    }

    /// `items` of type `t`, a type whose tags come late ([`Schema::late_tags`]): all
    /// found, and each holding a declared object's name (its `name`) claimed for that
    /// object's logical id. Which are ours, and which claimants are foreign (conflicts),
    /// is decided once the tags are read.
    pub(crate) fn claiming<P>(
        &self,
        t: ResourceType,
        items: Vec<Found<P>>,
        name: impl Fn(&Found<P>) -> Option<&str>,
    ) -> Read<P> {
        let declared: BTreeMap<&str, &LogicalId> = self.desired(t).map(|r| (r.name.as_str(), &r.id)).collect();
        let mut read = Read::default();
        for item in items {
            if let Some(id) = name(&item).and_then(|n| declared.get(n)) {
                read.claims.push((item.id.clone(), (*id).clone()));
            }
            read.found.push(item);
        }
        read
    }
}

impl<'a> ReadCx<'a> {
    /// What the earlier kinds found that the stack owns, by logical id: resolves the
    /// desired properties of a type read after them to the AWS values they would read
    /// back with ([`ReadCx::physical`]). An object whose tags come late stands for the
    /// name it holds until they are read (one that turns out foreign is a conflict, and
    /// no apply runs).
    pub(crate) fn by_id(&self) -> crate::FastMap<&'a str, &'a Found<Properties>> {
        self.earlier
            .iter()
            .filter_map(|r| {
                let id = if self.owned(&r.found.tags) {
                    r.found.tags.get(crate::model::ID_TAG)?.as_str()
                } else {
                    r.claim.as_ref()?.as_str()
                };
                Some((id, &r.found))
            })
            .collect()
    }

    /// The physical value of attribute `attr` of `id` among `found` (from
    /// [`ReadCx::by_id`]; names from the graph).
    pub(crate) fn physical(
        &self,
        found: &crate::FastMap<&'a str, &'a Found<Properties>>,
        id: &str,
        attr: Attr,
    ) -> Option<&'a str> {
        let f = found.get(id)?;
        match attr {
            Attr::Id => Some(&f.id),
            Attr::Arn => f.arn.as_deref(),
            Attr::Name => self.graph.get(id).map(|g| g.name.as_str()),
            Attr::DnsName => f.attrs.get("dns_name").map(String::as_str),
        }
    }
}

/// How many reads of single objects (a task definition each) one kind has in flight.
pub(crate) const READ_CONCURRENCY: usize = 8;

/// The attribute (of [`Found::attrs`] and [`LiveResource::attrs`]) holding an immutable
/// object's content digest ([`content_digest`]).
pub(crate) const DIGEST_ATTR: &str = "digest";

/// A digest of `value` (properties with references resolved, and tags): equal digests,
/// equal content. The first 16 hex digits of the SHA-256 of its JSON.
pub(crate) fn content_digest<T: Serialize>(value: &T) -> String {
    json_digest(&serde_json::to_vec(value).unwrap_or_default())
}

/// [`content_digest`] of a value's compact JSON.
pub(crate) fn json_digest(json: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    Sha256::digest(json).iter().take(8).fold(String::with_capacity(16), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// States in which AWS still lists an object that is gone or going.
pub(crate) fn is_gone(state: Option<&str>) -> bool {
    matches!(state, Some("deleted" | "deleting" | "failed" | "INACTIVE" | "DRAINING" | "DELETE_IN_PROGRESS" | "error"))
}

/// The conflict of a foreign `resource_type` named `name` with the desired `id`.
pub(crate) fn conflict(id: &str, resource_type: ResourceType, name: &str) -> Conflict {
    Conflict {
        id: LogicalId::new(id),
        resource_type,
        name: name.to_owned(),
        reason: format!(
            "a {resource_type} named `{name}` exists without this stack's `{STACK_TAG}` tag: ecs-kit never adopts or changes it; \
             delete or rename it, or rename the stack"
        ),
    }
}

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
    /// A digest of the content of an immutable object (a task definition revision),
    /// where its kind records one.
    pub digest: Option<String>,
}

/// Physical values (ids, ARNs, names, DNS names) and the references they stand for.
#[derive(Debug, Default)]
pub(crate) struct PhysicalIndex<'a> {
    /// By value; the references of one value in the order they were added.
    entries: Vec<(&'a str, &'a LogicalId, Attr)>,
}

impl<'a> PhysicalIndex<'a> {
    /// An index of `entries`: (physical value, logical id, attribute).
    pub(crate) fn new(entries: Vec<(&'a str, &'a LogicalId, Attr)>) -> Self {
        let mut index = PhysicalIndex { entries };
        index.entries.sort_by(|a, b| a.0.cmp(b.0));
        index
    }

    /// Adds more entries.
    pub(crate) fn extend(&mut self, more: impl IntoIterator<Item = (&'a str, &'a LogicalId, Attr)>) {
        self.entries.extend(more);
        // Stable, and quick on what is sorted but for a tail.
        self.entries.sort_by(|a, b| a.0.cmp(b.0));
    }

    /// The references `value` can stand for, in the order they were added.
    pub(crate) fn get<'s>(&'s self, value: &'s str) -> impl Iterator<Item = (&'a LogicalId, Attr)> + 's {
        let start = self.entries.partition_point(|e| e.0 < value);
        self.entries[start..].iter().take_while(move |e| e.0 == value).map(|e| (e.1, e.2))
    }
}

/// Physical identities by logical id.
pub type Known = BTreeMap<LogicalId, Physical>;

/// How long and how often a step waits for AWS.
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

/// What a step of apply or destroy works with.
pub(crate) struct Cx<'a> {
    /// The AWS clients.
    pub clients: &'a Clients,
    /// The stack's name (ownership tag value, client tokens).
    pub stack: &'a str,
    /// Physical identities now: successors of replaced resources included.
    pub known: &'a Known,
    /// Physical identities when the live stack was read: what live references meant.
    pub original: &'a Known,
    /// The region's available zones, sorted: resolves zones declared by index.
    pub zones: &'a [String],
    /// Waits for AWS.
    pub waits: Waits,
    /// The live cluster's name, if any.
    pub cluster: Option<&'a str>,
    /// Whether the step ran before and failed: a create without a client token looks
    /// for the object its earlier attempt may have made before making another.
    pub retrying: bool,
}

/// A live resource of `resource`'s id from what a describe found.
pub(crate) fn live_from(resource: &Resource, found: Found<Properties>) -> LiveResource {
    LiveResource {
        id: resource.id.clone(),
        resource_type: resource.resource_type,
        aws_id: found.id,
        arn: found.arn,
        state: found.state,
        properties: found.props.into(),
        tags: found.tags,
        attrs: found.attrs,
    }
}

impl Cx<'_> {
    /// The filters finding the object that `resource`'s earlier attempt made: the
    /// stack's and the logical id's tags, which EC2 sets at creation.
    pub(crate) fn made_earlier(&self, resource: &Resource) -> Vec<Filter> {
        vec![Filter::tag(STACK_TAG, self.stack), Filter::tag(crate::model::ID_TAG, resource.id.as_str())]
    }
}

/// One resource type: its schema, normalisation and verbs. `Props` is its variant of
/// [`Properties`]; every reference in the properties a verb receives is resolved to its
/// AWS value.
#[async_trait]
pub(crate) trait Kind: Send + Sync + 'static {
    /// The type's properties.
    type Props: Clone + PartialEq + Send + Sync + Serialize + DeserializeOwned + 'static;

    /// The type's schema.
    const SCHEMA: Schema;

    /// Resolves, in the desired properties, values known only in AWS (a zone by index,
    /// the AMI to keep), and applies to them what the declaration hands to someone else
    /// (a count an autoscaler owns), so that an untouched stack diffs equal.
    fn normalise(_want: &mut Self::Props, _have: &Self::Props, _ctx: &Context) {}

    /// Copies into the live properties the fields that declare who owns a value rather
    /// than describe AWS (they cannot be read back).
    fn declared(_live: &mut Self::Props, _desired: &Self::Props) {}

    /// A short description for `synth`'s tree (empty: none).
    fn summary(_props: &Self::Props) -> String {
        String::new()
    }

    /// Whether apply can make this update in place (the fields that changed, by path).
    fn can_update(_paths: &[&str]) -> bool {
        true
    }

    /// Finds the stack's live objects of this type, in as few calls as AWS allows (tag
    /// filters, deterministic names, batched describes), and foreign objects holding
    /// the names it needs.
    async fn read(cx: &ReadCx<'_>) -> Result<Read<Self::Props>, AwsError>;

    /// The logical id of a live object AWS cannot tag (owned through its parent), from
    /// what the stack's other live objects stand for (`index`: physical value ->
    /// references). Taggable types carry theirs in the `ecs-kit:id` tag.
    fn identify(_found: &Found<Self::Props>, _graph: &Graph, _index: &PhysicalIndex<'_>) -> Option<LogicalId> {
        None
    }

    /// What AWS lets only one object hold at a time that two logical ids can want (a
    /// rule's priority on its listener, derived from its path): a new resource with the
    /// key of one no longer declared is created only once that one is deleted, and that
    /// delete goes first. Only for objects AWS deletes whatever still uses them (names
    /// derive from logical ids, so they do not collide).
    fn unique_key(_props: &Self::Props) -> Option<String> {
        None
    }

    /// Creates the object and waits until AWS reports it usable.
    async fn create(cx: &Cx<'_>, resource: &Resource, props: Self::Props) -> Result<Physical, StepError>;

    /// Changes the live object in place to `want` (from `have`, its live properties with
    /// references as they were read); `None` keeps its physical identity, `Some` is a
    /// new one (a task definition revision). Tags are converged after it.
    async fn update(
        cx: &Cx<'_>,
        resource: &Resource,
        live: &LiveResource,
        want: Self::Props,
        have: Self::Props,
    ) -> Result<Option<Physical>, StepError>;

    /// Deletes the live object (`props`: its properties with references as read) and
    /// waits until it is gone where something after it needs that.
    async fn delete(cx: &Cx<'_>, live: &LiveResource, props: Self::Props) -> Result<(), StepError>;

    /// Waits, after a create or an update and its tags, until the change has settled
    /// (a service's deployment is stable). Most types are usable once their create
    /// returns.
    async fn settle(_cx: &Cx<'_>, _resource: &Resource, _props: &Self::Props) -> Result<(), StepError> {
        Ok(())
    }
}

/// Generates the type-agnostic dispatch from the registry.
macro_rules! dispatch {
    ($($variant:ident = $name:literal, $pv:ident($props:ident) => $kind:path;)*) => {
        /// The schema of type `t`.
        pub(crate) fn schema(t: ResourceType) -> &'static Schema {
            match t {
                $(ResourceType::$variant => &<$kind as Kind>::SCHEMA,)*
            }
        }

        /// `want` normalised against `have` (both of one type).
        pub(crate) fn normalise(want: &mut Properties, have: &Properties, ctx: &Context) {
            match (want, have) {
                $((Properties::$pv(w), Properties::$pv(h)) => <$kind as Kind>::normalise(w, h, ctx),)*
                _ => {}
            }
        }

        /// Copies the declared-only fields of `desired` into `live`.
        pub(crate) fn declared(live: &mut Properties, desired: &Properties) {
            match (live, desired) {
                $((Properties::$pv(l), Properties::$pv(d)) => <$kind as Kind>::declared(l, d),)*
                _ => {}
            }
        }

        /// `synth`'s one-line description of `props`.
        pub(crate) fn summary(props: &Properties) -> String {
            match props {
                $(Properties::$pv(p) => <$kind as Kind>::summary(p),)*
            }
        }

        /// Reads the live objects of type `t`.
        pub(crate) async fn read(t: ResourceType, cx: &ReadCx<'_>) -> Result<Read<Properties>, AwsError> {
            match t {
                $(ResourceType::$variant => {
                    let read = <$kind as Kind>::read(cx).await?;
                    let found = read
                        .found
                        .into_iter()
                        .map(|f| Found { id: f.id, arn: f.arn, state: f.state, props: Properties::$pv(f.props), tags: f.tags, attrs: f.attrs })
                        .collect();
                    Ok(Read {
                        found,
                        conflicts: read.conflicts,
                        services: read.services,
                        as_declared: read.as_declared,
                        declarations: read.declarations,
                        claims: read.claims,
                    })
                })*
            }
        }

        /// What only one object of its type can hold at a time (see [`Kind::unique_key`]).
        pub(crate) fn unique_key(props: &Properties) -> Option<(ResourceType, String)> {
            match props {
                $(Properties::$pv(p) => <$kind as Kind>::unique_key(p).map(|k| (ResourceType::$variant, k)),)*
            }
        }

        /// The logical id of an untaggable live object.
        pub(crate) fn identify(found: &Found<Properties>, graph: &Graph, index: &PhysicalIndex<'_>) -> Option<LogicalId> {
            match &found.props {
                $(Properties::$pv(p) => {
                    let typed = Found { id: found.id.clone(), arn: found.arn.clone(), state: found.state.clone(), props: p.clone(), tags: found.tags.clone(), attrs: found.attrs.clone() };
                    <$kind as Kind>::identify(&typed, graph, index)
                })*
            }
        }

        /// Whether apply can update a resource of type `t` in place, given the paths that changed.
        pub(crate) fn can_update(t: ResourceType, paths: &[&str]) -> bool {
            match t {
                $(ResourceType::$variant => <$kind as Kind>::can_update(paths),)*
            }
        }

        /// Creates `resource` (its references resolved through `cx.known`).
        pub(crate) async fn create(cx: &Cx<'_>, resource: &Resource) -> Result<Physical, StepError> {
            match resolve(resource, cx.known).map_err(StepError::Retryable)? {
                $(Properties::$pv(p) => {
                    let physical = <$kind as Kind>::create(cx, resource, p.clone()).await?;
                    <$kind as Kind>::settle(cx, resource, &p).await?;
                    Ok(physical)
                })*
            }
        }

        /// Updates `live` in place to `resource`, then its tags.
        pub(crate) async fn update(
            cx: &Cx<'_>,
            resource: &Resource,
            live: &LiveResource,
        ) -> Result<Option<Physical>, StepError> {
            let want = resolve(resource, cx.known).map_err(StepError::Retryable)?;
            let have = resolve_live(live, cx.original)?;
            let tagging = schema(resource.resource_type).tagging;
            match (want, have) {
                $((Properties::$pv(w), Properties::$pv(h)) => {
                    let physical = <$kind as Kind>::update(cx, resource, live, w.clone(), h).await?;
                    // A new object (a task definition revision) carries its tags already.
                    if physical.is_none() {
                        converge_tags(cx.clients, tagging, &resource.tags, live).await?;
                    }
                    <$kind as Kind>::settle(cx, resource, &w).await?;
                    Ok(physical)
                })*
                _ => Err(StepError::Fatal(format!("{} changed type", resource.id))),
            }
        }

        /// Deletes `live` (its references resolved as they were read).
        pub(crate) async fn delete(cx: &Cx<'_>, live: &LiveResource) -> Result<(), StepError> {
            match resolve_live(live, cx.original)? {
                $(Properties::$pv(p) => <$kind as Kind>::delete(cx, live, p).await,)*
            }
        }
    };
}
registry!(dispatch);

/// Replaces every reference in `value` by its physical value from `known`.
pub(crate) fn resolve_value(value: &mut serde_json::Value, known: &Known) -> Result<(), String> {
    use serde_json::Value;
    match value {
        Value::Object(map) if map.len() == 2 && map.contains_key("ref") && map.contains_key("attr") => {
            let r: Ref = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
            let p = known.get(&r.id).ok_or_else(|| format!("{} does not exist yet", r.id))?;
            let text = p.attr(r.attr).ok_or_else(|| format!("{} has no {:?}", r.id, r.attr))?;
            *value = Value::String(text.to_owned());
            Ok(())
        }
        Value::Object(map) => map.values_mut().try_for_each(|v| resolve_value(v, known)),
        Value::Array(items) => items.iter_mut().try_for_each(|v| resolve_value(v, known)),
        _ => Ok(()),
    }
}

/// Replaces the references in `value` whose physical value `known` has; the others
/// (to objects not made yet) stay references.
pub(crate) fn resolve_where_known(value: &mut serde_json::Value, known: &Known) {
    use serde_json::Value;
    match value {
        Value::Object(map) if map.len() == 2 && map.contains_key("ref") && map.contains_key("attr") => {
            let mut resolved = value.clone();
            if resolve_value(&mut resolved, known).is_ok() {
                *value = resolved;
            }
        }
        Value::Object(map) => map.values_mut().for_each(|v| resolve_where_known(v, known)),
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_where_known(v, known)),
        _ => {}
    }
}

/// `value` as compact JSON with every reference replaced by the physical value
/// `lookup` gives it, written as the literal string would be: equal to the JSON of the
/// resolved value, without building a JSON tree; handed to `with`. `None` when a
/// reference has no value.
///
/// The text is written into two buffers kept per thread (as large as the largest
/// properties written, a few kilobytes), not into two new ones on every call: a plan
/// of 1,000 services makes about a thousand calls.
pub(crate) fn json_resolved<'a, R>(
    value: &impl Serialize,
    lookup: impl Fn(&str, Attr) -> Option<&'a str>,
    with: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    thread_local! {
        static BUFFERS: std::cell::Cell<(Vec<u8>, Vec<u8>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
    }
    // Taken, not borrowed: a nested call (none today) would start from empty buffers.
    let (mut json, mut out) = BUFFERS.take();
    json.clear();
    out.clear();
    let result = serde_json::to_writer(&mut json, value).ok().and_then(|()| {
        let mut copied = 0;
        let mut missing = false;
        crate::graph::for_each_ref_text(&json, |id, attr, span| {
            let Some(text) = lookup(id, attr) else {
                missing = true;
                return;
            };
            out.extend_from_slice(&json[copied..span.start]);
            missing |= serde_json::to_writer(&mut out, text).is_err();
            copied = span.end;
        });
        if missing {
            return None;
        }
        if copied == 0 {
            // No reference: the text as written.
            return Some(with(&json));
        }
        out.extend_from_slice(&json[copied..]);
        Some(with(&out))
    });
    BUFFERS.set((json, out));
    result
}

impl Physical {
    /// Its value of `attr`, if it has one.
    pub(crate) fn attr(&self, attr: Attr) -> Option<&str> {
        match attr {
            Attr::Id => Some(&self.id),
            Attr::Arn => self.arn.as_deref(),
            Attr::Name => self.name.as_deref(),
            Attr::DnsName => self.dns_name.as_deref(),
        }
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

/// The live resource's properties with the stack's own references resolved to the AWS
/// ids they had when it was read. A reference that cannot be resolved (what it named
/// is gone) becomes an empty string.
fn resolve_live(live: &LiveResource, known: &Known) -> Result<Properties, StepError> {
    let mut json = serde_json::to_value(&live.properties).map_err(|e| StepError::Fatal(e.to_string()))?;
    resolve_value(&mut json, known).map_err(StepError::Retryable)?;
    Properties::from_json(live.resource_type, json).map_err(|e| StepError::Fatal(e.to_string()))
}

/// The one decision on retrying an AWS failure, by its kind: throttling, outages,
/// objects in use or changing, and objects not visible yet (AWS's eventual
/// consistency, a new role not yet usable) are worth another attempt; the rest is final.
/// The hint stays with the text: it is the message when retries run out.
pub(crate) fn step_error(e: AwsError) -> StepError {
    // A client token reused with other parameters stays so: no retry helps.
    if e.code.as_deref() == Some("IdempotentParameterMismatch") {
        return StepError::Fatal(format!("{e} (hint: {})", ErrorKind::Invalid.hint()));
    }
    let hinted = format!("{e} (hint: {})", e.hint());
    match e.kind {
        ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Conflict => StepError::Retryable(hinted),
        // Eventual consistency hides fresh objects for seconds, not minutes.
        ErrorKind::NotFound => StepError::Missing(hinted),
        ErrorKind::NotYetUsable => StepError::Retryable(e.to_string()),
        _ => StepError::Fatal(hinted),
    }
}

/// `Ok` for a delete whose object is already gone.
pub(crate) fn gone_ok(r: Result<(), AwsError>) -> Result<(), StepError> {
    match r {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other.map_err(step_error),
    }
}

/// After a create answered `already_exists`: `Ok` when the object holding the name
/// carries `stack`'s ownership tag (an earlier attempt of the same step made it), a
/// retry while it is not visible yet, the original error when it is foreign.
pub(crate) fn adopt(already_exists: AwsError, tags: Option<&Tags>, stack: &str) -> Result<(), StepError> {
    match tags {
        Some(tags) if tags.get(crate::model::STACK_TAG).map(String::as_str) == Some(stack) => Ok(()),
        Some(_) => Err(step_error(already_exists)),
        None => Err(StepError::Retryable(already_exists.to_string())),
    }
}

/// The literal value of a resolved reference.
pub(crate) fn lit(v: &RefOr<String>) -> Result<String, StepError> {
    literal(v, "ecs-kit", "apply").map(str::to_owned).map_err(|e| StepError::Fatal(e.to_string()))
}

/// The literal values of resolved references.
pub(crate) fn lits(values: &[RefOr<String>]) -> Result<Vec<String>, StepError> {
    values.iter().map(lit).collect()
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
        // Between polls the step holds none of the walk's slots.
        crate::walk::idle(tokio::time::sleep(waits.every)).await;
    }
}

/// Polls until `check` says the object is gone.
pub(crate) async fn until_gone<F, Fut>(what: &str, waits: Waits, mut check: F) -> Result<(), StepError>
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

/// The client token of a create: the stack and logical id, and a digest of the
/// resolved properties, so that a retried create is idempotent and a replacement is a
/// new object, not the old one again.
pub(crate) fn client_token(stack: &str, resource: &Resource, props: &impl Serialize) -> (String, String) {
    let digest = crate::model::names::digest8(&serde_json::to_string(props).unwrap_or_default());
    let token =
        format!("{}-{digest}", crate::model::names::fit(&format!("{stack}-{}", resource.id), 55)).replace('/', "-");
    (token, digest)
}

/// Sets the tags `desired` has and `live` lacks or holds otherwise, and removes the
/// ones `live` has beyond them (tags AWS adds itself are never touched).
pub(crate) async fn converge_tags(
    clients: &Clients,
    tagging: Tagging,
    desired: &BTreeMap<String, String>,
    live: &LiveResource,
) -> Result<(), StepError> {
    let set: Tags =
        desired.iter().filter(|(k, v)| live.tags.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let unset: Vec<String> =
        live.tags.keys().filter(|k| !desired.contains_key(*k) && !unmanaged_tag(k)).cloned().collect();
    if set.is_empty() && unset.is_empty() {
        return Ok(());
    }
    let id = live.aws_id.clone();
    let arn = live.arn.clone().unwrap_or_else(|| id.clone());
    // IAM tags by name; a role's live id is its role id (`AROA…`).
    let name = match &*live.properties {
        Properties::Role(p) => p.role_name.clone(),
        Properties::InstanceProfile(p) => p.instance_profile_name.clone(),
        _ => id.clone(),
    };
    // Each tagging API: the call that sets, the one that removes, and the key.
    macro_rules! converge {
        ($api:ident, $set:ident, $unset:ident, $key:expr) => {{
            let key = $key;
            if !set.is_empty() {
                clients.$api.$set(key.clone(), set).await.map_err(step_error)?;
            }
            if !unset.is_empty() {
                clients.$api.$unset(key, unset).await.map_err(step_error)?;
            }
        }};
    }
    match tagging {
        Tagging::Ec2 => converge!(ec2, create_tags, delete_tags, vec![id]),
        Tagging::IamRole => converge!(iam, tag_role, untag_role, name),
        Tagging::IamInstanceProfile => converge!(iam, tag_instance_profile, untag_instance_profile, name),
        Tagging::AutoScaling => converge!(autoscaling, create_or_update_tags, delete_tags, id),
        Tagging::Ecs => converge!(ecs, tag_resource, untag_resource, arn),
        Tagging::Elb => converge!(elb, add_tags, remove_tags, vec![arn]),
        Tagging::Efs => converge!(efs, tag_resource, untag_resource, id),
        Tagging::Logs => converge!(logs, tag_resource, untag_resource, arn),
        Tagging::None => {}
    }
    Ok(())
}

/// A value as `synth` shows it: a literal, or `<id.attr>` for a reference.
pub(crate) fn shown(value: &RefOr<String>) -> String {
    match value {
        RefOr::Value(v) => v.clone(),
        RefOr::Ref(r) => format!(
            "<{}.{}>",
            r.id,
            serde_json::to_value(r.attr).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        ),
    }
}
