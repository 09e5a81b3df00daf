//! Reading the live stack from AWS.
//!
//! [`observe`] finds every live resource a stack owns, in as few calls as AWS allows,
//! and returns it in the graph's typed shape ([`LiveResource::properties`]), with AWS
//! ids replaced by references to the logical ids they belong to, so that diff can
//! compare desired and live field by field.
//!
//! Ownership: a resource is the stack's when it carries the tag `ecs-kit:stack=<stack>`;
//! its logical id is its `ecs-kit:id` tag. Untaggable mount targets are owned through
//! their file system. A resource found under a name the stack needs but without the
//! stack's tag is a [`Conflict`]: it is reported, never adopted. Deleted resources that
//! AWS still lists (NAT gateways `deleted`, clusters and services `INACTIVE`, ...) are
//! absent.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::aws::{AwsError, Clients, Filter, Found, ServiceStatus, Tags};
use crate::graph::props::MountTargetProps;
use crate::graph::{Attr, Graph, GraphError, LogicalId, Properties, Ref, ResourceType};
use crate::model::{Stack, ID_TAG, STACK_TAG};

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
    /// references to their logical ids.
    pub properties: Properties,
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

/// Everything live that a stack owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveStack {
    /// Stack name.
    pub stack: String,
    /// Owned live resources, by logical id.
    pub resources: Vec<LiveResource>,
    /// Foreign resources holding names the stack needs.
    pub conflicts: Vec<Conflict>,
    /// Deployments, counts and events of the live ECS services, by logical id.
    pub services: BTreeMap<LogicalId, ServiceStatus>,
}

impl LiveStack {
    /// The live resource with logical id `id`.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&LiveResource> {
        self.resources.iter().find(|r| r.id.as_str() == id)
    }

    /// Whether nothing of the stack is live.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// Errors of [`observe`].
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The stack's graph is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The clients talk to another region than the stack's.
    #[error("the clients are for region {clients} but the stack lives in {stack}")]
    Region {
        /// The clients' region.
        clients: String,
        /// The stack's region.
        stack: String,
    },
}

/// What one describe call found, before ownership and references are sorted out.
struct Raw {
    resource_type: ResourceType,
    found: Found<Properties>,
}

fn raw<P>(resource_type: ResourceType, wrap: fn(P) -> Properties, found: Vec<Found<P>>) -> impl Iterator<Item = Raw> {
    found.into_iter().map(move |f| Raw { resource_type, found: map_found(f, wrap) })
}

/// States in which AWS still lists an object that is gone or going.
fn is_gone(state: Option<&str>) -> bool {
    matches!(state, Some("deleted" | "deleting" | "failed" | "INACTIVE" | "DRAINING" | "DELETE_IN_PROGRESS" | "error"))
}

/// Reads every live resource `stack` owns.
///
/// # Errors
/// [`ObserveError`] when an AWS call fails (after the SDK's own retries), or the clients
/// are for another region.
pub async fn observe(stack: &Stack, clients: &Clients) -> Result<LiveStack, ObserveError> {
    if !clients.region.is_empty() && clients.region != stack.region {
        return Err(ObserveError::Region { clients: clients.region.clone(), stack: stack.region.clone() });
    }
    let graph = Graph::from_stack(stack)?;
    let desired_name = |id: &str| graph.get(id).map(|r| r.name.clone());
    let mut found: Vec<Raw> = Vec::new();
    let mut conflicts = Vec::new();
    let owned = |tags: &Tags| tags.get(STACK_TAG).map(String::as_str) == Some(stack.name.as_str());
    let ours = vec![Filter::tag(STACK_TAG, &stack.name)];

    // EC2: one tag-filtered call per type; the launch template by its name, which is
    // unique in the region, so a foreign template holding it shows as a conflict.
    let template_name = desired_name("launch-template").unwrap_or_default();
    let (vpcs, igws, subnets, eips, nats, tables, groups, templates) = tokio::join!(
        clients.ec2.describe_vpcs(ours.clone()),
        clients.ec2.describe_internet_gateways(ours.clone()),
        clients.ec2.describe_subnets(ours.clone()),
        clients.ec2.describe_addresses(ours.clone()),
        clients.ec2.describe_nat_gateways(ours.clone()),
        clients.ec2.describe_route_tables(ours.clone()),
        clients.ec2.describe_security_groups(ours.clone()),
        clients.ec2.describe_launch_templates(vec![Filter::new("launch-template-name", [template_name.clone()])]),
    );
    found.extend(raw(ResourceType::Vpc, Properties::Vpc, vpcs?));
    found.extend(raw(ResourceType::InternetGateway, Properties::InternetGateway, igws?));
    found.extend(raw(ResourceType::Subnet, Properties::Subnet, subnets?));
    found.extend(raw(ResourceType::Eip, Properties::Eip, eips?));
    found.extend(raw(ResourceType::NatGateway, Properties::NatGateway, nats?));
    found.extend(raw(ResourceType::RouteTable, Properties::RouteTable, tables?));
    found.extend(raw(ResourceType::SecurityGroup, Properties::SecurityGroup, groups?));
    for template in templates? {
        if owned(&template.tags) {
            found.extend(raw(ResourceType::LaunchTemplate, Properties::LaunchTemplate, vec![template]));
        } else {
            conflicts.push(conflict("launch-template", ResourceType::LaunchTemplate, &template_name));
        }
    }

    // IAM: the roles and the instance profile by their deterministic names.
    let role_names: Vec<String> =
        graph.resources().iter().filter(|r| r.resource_type == ResourceType::IamRole).map(|r| r.name.clone()).collect();
    let role_prefix = crate::model::names::stack_name(&stack.name, &stack.region, usize::MAX) + "-";
    // The prefix finds the task roles of services no longer declared.
    for role in clients.iam.get_roles(role_names.clone(), Some(role_prefix)).await? {
        if owned(&role.tags) {
            found.extend(raw(ResourceType::IamRole, Properties::Role, vec![role]));
        } else if let Some(r) = graph
            .resources()
            .iter()
            .find(|r| r.resource_type == ResourceType::IamRole && r.name == role.props.role_name)
        {
            conflicts.push(conflict(r.id.as_str(), ResourceType::IamRole, &role.props.role_name));
        }
    }
    if let Some(name) = desired_name("instance-profile") {
        if let Some(profile) = clients.iam.get_instance_profile(name.clone()).await? {
            if owned(&profile.tags) {
                found.extend(raw(ResourceType::InstanceProfile, Properties::InstanceProfile, vec![profile]));
            } else {
                conflicts.push(conflict("instance-profile", ResourceType::InstanceProfile, &name));
            }
        }
    }

    // Auto Scaling and ECS by name.
    let by_name = |id: &str| desired_name(id).into_iter().collect::<Vec<_>>();
    let (groups, providers, clusters) = tokio::join!(
        clients.autoscaling.describe_auto_scaling_groups(by_name("autoscaling-group")),
        clients.ecs.describe_capacity_providers(by_name("capacity-provider")),
        clients.ecs.describe_clusters(by_name("cluster")),
    );
    let mut cluster_live = None;
    for (id, resource_type, items) in [
        (
            "autoscaling-group",
            ResourceType::AutoScalingGroup,
            raw(ResourceType::AutoScalingGroup, Properties::AutoScalingGroup, groups?).collect::<Vec<_>>(),
        ),
        (
            "capacity-provider",
            ResourceType::CapacityProvider,
            raw(ResourceType::CapacityProvider, Properties::CapacityProvider, providers?).collect(),
        ),
        ("cluster", ResourceType::Cluster, raw(ResourceType::Cluster, Properties::Cluster, clusters?).collect()),
    ] {
        for item in items.into_iter().filter(|i| !is_gone(i.found.state.as_deref())) {
            if owned(&item.found.tags) {
                if resource_type == ResourceType::Cluster {
                    cluster_live = Some(item.found.id.clone());
                }
                found.push(item);
            } else {
                conflicts.push(conflict(id, resource_type, &desired_name(id).unwrap_or_default()));
            }
        }
    }

    // ECS services of the stack's own cluster, and the task definitions they run.
    let mut statuses = BTreeMap::new();
    let mut families = BTreeSet::new();
    if let Some(cluster) = cluster_live {
        let arns = clients.ecs.list_services(cluster.clone()).await?;
        let names: Vec<String> = arns.iter().filter_map(|a| a.rsplit('/').next()).map(str::to_owned).collect();
        if !names.is_empty() {
            for service in clients.ecs.describe_services(cluster, names).await? {
                if is_gone(Some(service.status.status.as_str())) || !owned(&service.found.tags) {
                    continue;
                }
                if let Some(id) = service.found.tags.get(ID_TAG) {
                    statuses.insert(LogicalId::new(id.clone()), service.status);
                }
                found.push(Raw {
                    resource_type: ResourceType::EcsService,
                    found: map_found(service.found, Properties::Service),
                });
            }
        }
    }
    // Families of services no longer declared are still ours to clean up; another
    // stack whose name extends ours shares the prefix, and its tags tell it apart.
    families.extend(clients.ecs.list_task_definition_families(format!("{}-", stack.name), "ACTIVE".into()).await?);
    for family in families {
        if let Some(td) = clients.ecs.describe_task_definition(family).await? {
            if owned(&td.tags) {
                found.extend(raw(ResourceType::TaskDefinition, Properties::TaskDefinition, vec![td]));
            }
        }
    }

    // EFS by creation token, then its mount targets and access points.
    if let Some(token) = desired_name("file-system") {
        for fs in clients.efs.describe_file_systems(token.clone()).await? {
            if is_gone(fs.state.as_deref()) {
                continue;
            }
            if !owned(&fs.tags) {
                conflicts.push(conflict("file-system", ResourceType::FileSystem, &token));
                continue;
            }
            let (targets, points) = tokio::join!(
                clients.efs.describe_mount_targets(fs.id.clone()),
                clients.efs.describe_access_points(fs.id.clone())
            );
            found.extend(raw(ResourceType::MountTarget, Properties::MountTarget, targets?));
            found.extend(raw(ResourceType::AccessPoint, Properties::AccessPoint, points?));
            found.extend(raw(ResourceType::FileSystem, Properties::FileSystem, vec![fs]));
        }
    }

    // Load balancer by name; its listeners and rules; target groups by name.
    if let Some(name) = desired_name("load-balancer") {
        for lb in clients.elb.describe_load_balancers(vec![name.clone()]).await? {
            if !owned(&lb.tags) {
                conflicts.push(conflict("load-balancer", ResourceType::LoadBalancer, &name));
                continue;
            }
            for listener in clients.elb.describe_listeners(lb.id.clone()).await? {
                let rules = clients.elb.describe_rules(listener.id.clone()).await?;
                found.extend(raw(ResourceType::ListenerRule, Properties::ListenerRule, rules));
                found.extend(raw(ResourceType::Listener, Properties::Listener, vec![listener]));
            }
            found.extend(raw(ResourceType::LoadBalancer, Properties::LoadBalancer, vec![lb]));
        }
    }
    let target_groups: Vec<&crate::graph::Resource> =
        graph.resources().iter().filter(|r| r.resource_type == ResourceType::TargetGroup).collect();
    let mut tg_names: BTreeSet<String> = target_groups.iter().map(|r| r.name.clone()).collect();
    // Target groups of rules no longer declared are still ours to delete.
    for item in &found {
        if let Properties::ListenerRule(rule) = &item.found.props {
            if let crate::graph::RefOr::Value(arn) = &rule.target_group_arn {
                if let Some(name) = arn.split('/').nth(1) {
                    tg_names.insert(name.to_owned());
                }
            }
        }
    }
    if !tg_names.is_empty() {
        for tg in clients.elb.describe_target_groups(tg_names.into_iter().collect()).await? {
            if owned(&tg.tags) {
                found.extend(raw(ResourceType::TargetGroup, Properties::TargetGroup, vec![tg]));
            } else {
                // arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/HASH
                let name = tg.id.split('/').nth(1).unwrap_or_default();
                if let Some(r) = target_groups.iter().find(|r| r.name == name) {
                    conflicts.push(conflict(r.id.as_str(), ResourceType::TargetGroup, &r.name));
                }
            }
        }
    }

    // Log groups under the stack's prefix.
    let log_prefix = format!("/ecs/{}/", stack.name);
    for group in clients.logs.describe_log_groups(log_prefix).await? {
        if owned(&group.tags) {
            found.extend(raw(ResourceType::LogGroup, Properties::LogGroup, vec![group]));
        } else if let Some(r) = graph.resources().iter().find(|r| r.name == group.props.log_group_name) {
            conflicts.push(conflict(r.id.as_str(), ResourceType::LogGroup, &group.props.log_group_name));
        }
    }

    Ok(assemble(&graph, found, conflicts, statuses))
}

fn map_found<P>(f: Found<P>, wrap: fn(P) -> Properties) -> Found<Properties> {
    Found { id: f.id, arn: f.arn, state: f.state, props: wrap(f.props), tags: f.tags, attrs: f.attrs }
}

fn conflict(id: &str, resource_type: ResourceType, name: &str) -> Conflict {
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

/// Logical ids, ownership of untaggable mount targets, and references.
fn assemble(
    graph: &Graph,
    found: Vec<Raw>,
    conflicts: Vec<Conflict>,
    services: BTreeMap<LogicalId, ServiceStatus>,
) -> LiveStack {
    let mut live: Vec<(LogicalId, Raw)> = Vec::new();
    let mut mount_targets = Vec::new();
    for item in found {
        if is_gone(item.found.state.as_deref()) {
            continue;
        }
        if item.resource_type == ResourceType::MountTarget {
            mount_targets.push(item);
            continue;
        }
        let Some(id) = item.found.tags.get(ID_TAG).cloned() else { continue };
        if item.found.tags.get(STACK_TAG).map(String::as_str) != Some(graph.stack.as_str()) {
            continue;
        }
        live.push((LogicalId::new(id), item));
    }

    // Physical value -> the references it can stand for (a role and its instance
    // profile share a name, for one).
    let mut index: PhysicalIndex = BTreeMap::new();
    let mut add = |value: &str, id: &LogicalId, attr: Attr| {
        index.entry(value.to_owned()).or_default().push(Ref { id: id.clone(), attr });
    };
    for (id, item) in &live {
        let f = &item.found;
        add(&f.id, id, Attr::Id);
        if let Some(arn) = &f.arn {
            add(arn, id, Attr::Arn);
        }
        if let Some(dns) = f.attrs.get("dns_name") {
            add(dns, id, Attr::DnsName);
        }
        if let Some(r) = graph.get(id.as_str()) {
            add(&r.name, id, Attr::Name);
        }
    }

    // A mount target belongs to the file system of the stack; its logical id is the
    // desired mount target in the same subnet, else one named after its AWS id.
    for item in mount_targets {
        let Properties::MountTarget(MountTargetProps { subnet_id, .. }) = &item.found.props else { continue };
        let subnet = match subnet_id {
            crate::graph::RefOr::Value(v) => index.get(v).and_then(|refs| refs.first()).map(|r| r.id.clone()),
            crate::graph::RefOr::Ref(r) => Some(r.id.clone()),
        };
        let id = graph
            .resources()
            .iter()
            .find(|r| match &r.properties {
                Properties::MountTarget(p) => {
                    subnet.as_ref().is_some_and(|s| matches!(&p.subnet_id, crate::graph::RefOr::Ref(x) if &x.id == s))
                }
                _ => false,
            })
            .map_or_else(|| LogicalId::new(format!("mount-target/{}", item.found.id)), |r| r.id.clone());
        index.entry(item.found.id.clone()).or_default().push(Ref { id: id.clone(), attr: Attr::Id });
        live.push((id, item));
    }

    let mut resources: Vec<LiveResource> = live
        .into_iter()
        .map(|(id, item)| {
            let template = graph.get(id.as_str()).and_then(|r| serde_json::to_value(&r.properties).ok());
            let mut json = serde_json::to_value(&item.found.props).unwrap_or_default();
            to_refs(&mut json, template.as_ref(), &index);
            // Mapping only swaps strings for references where the graph has references,
            // so the shape stays valid; keep AWS's form if it ever does not.
            let mut properties = Properties::from_json(item.resource_type, json).unwrap_or(item.found.props);
            declarations_only(&mut properties, graph.get(id.as_str()).map(|r| &r.properties));
            LiveResource {
                id,
                resource_type: item.resource_type,
                aws_id: item.found.id,
                arn: item.found.arn,
                state: item.found.state,
                properties,
                tags: item.found.tags,
                attrs: item.found.attrs,
            }
        })
        .collect();
    resources.sort_by(|a, b| a.id.cmp(&b.id));
    LiveStack { stack: graph.stack.clone(), resources, conflicts, services }
}

/// Fields that declare who owns a value rather than describe AWS state (who owns an ECS
/// service's desired count, whether ECS scales the Auto Scaling group) cannot be read
/// from AWS: the live resource carries the declared ones.
fn declarations_only(live: &mut Properties, desired: Option<&Properties>) {
    match (live, desired) {
        (Properties::Service(l), Some(Properties::Service(d))) => l.desired_count_owner = d.desired_count_owner,
        (Properties::AutoScalingGroup(l), Some(Properties::AutoScalingGroup(d))) => {
            l.desired_capacity_managed_by_ecs = d.desired_capacity_managed_by_ecs;
        }
        _ => {}
    }
}

/// Physical values (ids, ARNs, names, DNS names) and the references they stand for.
type PhysicalIndex = BTreeMap<String, Vec<Ref>>;

/// Replaces physical values in `value` by references to the stack's resources, at the
/// places where the desired `template` has a reference: a literal field that happens to
/// hold a name (a log group's own name) stays a literal. A value that belongs to the
/// resource the template names takes the template's attribute (a cluster ARN where a
/// name is declared); one that belongs to another resource becomes a reference to it,
/// so diff reports the difference in logical terms.
fn to_refs(value: &mut serde_json::Value, template: Option<&serde_json::Value>, index: &PhysicalIndex) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let Some(wanted) =
                template.filter(|t| t.get("ref").is_some()).and_then(|t| serde_json::from_value::<Ref>(t.clone()).ok())
            else {
                return;
            };
            let Some(candidates) = index.get(s.as_str()) else { return };
            let chosen = candidates
                .iter()
                .find(|r| r.id == wanted.id)
                .map(|_| wanted.clone())
                .or_else(|| candidates.first().cloned());
            if let Some(r) = chosen {
                *value = serde_json::to_value(r).unwrap_or_default();
            }
        }
        Value::Array(items) => {
            let t_items = template.and_then(Value::as_array);
            // Lists of references match by content, not position: try each template item.
            for (i, item) in items.iter_mut().enumerate() {
                let by_position = t_items.and_then(|t| t.get(i));
                let mut candidate = item.clone();
                to_refs(&mut candidate, by_position, index);
                if let Some(ts) = t_items {
                    if !ts.contains(&candidate) {
                        for t in ts {
                            let mut other = item.clone();
                            to_refs(&mut other, Some(t), index);
                            if &other == t {
                                candidate = other;
                                break;
                            }
                        }
                    }
                }
                *item = candidate;
            }
            if let Some(ts) = t_items {
                // The same elements as the template: take its order, so lists diff equal.
                if items.len() == ts.len()
                    && items.iter().all(|i| ts.contains(i))
                    && ts.iter().all(|t| items.contains(t))
                {
                    items.clone_from(ts);
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                to_refs(v, template.and_then(|t| t.get(k)), index);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn r(id: &str, attr: Attr) -> Ref {
        Ref { id: LogicalId::new(id), attr }
    }

    fn index() -> PhysicalIndex {
        BTreeMap::from([
            ("vpc-1".to_owned(), vec![r("vpc", Attr::Id)]),
            ("subnet-a".to_owned(), vec![r("subnet/public/0", Attr::Id)]),
            ("subnet-b".to_owned(), vec![r("subnet/public/1", Attr::Id)]),
            ("arn:aws:ecs:us-west-2:1:cluster/shop".to_owned(), vec![r("cluster", Attr::Arn)]),
            ("shop".to_owned(), vec![r("cluster", Attr::Name), r("cluster", Attr::Id)]),
            ("shop-lb-1.elb.amazonaws.com".to_owned(), vec![r("load-balancer", Attr::DnsName)]),
            ("shop-instance".to_owned(), vec![r("role/instance", Attr::Name), r("instance-profile", Attr::Name)]),
        ])
    }

    fn refjson(id: &str, attr: &str) -> serde_json::Value {
        json!({"ref": id, "attr": attr})
    }

    #[test]
    fn physical_values_become_references_where_the_graph_has_references() {
        let template = json!({"vpc_id": refjson("vpc", "id"), "endpoint": refjson("load-balancer", "dns_name"), "other": refjson("vpc", "id"), "cluster_name": "shop"});
        let mut live = json!({"vpc_id": "vpc-1", "endpoint": "shop-lb-1.elb.amazonaws.com", "other": "vpc-unknown", "cluster_name": "shop"});
        to_refs(&mut live, Some(&template), &index());
        assert_eq!(
            live,
            json!({"vpc_id": refjson("vpc", "id"), "endpoint": refjson("load-balancer", "dns_name"), "other": "vpc-unknown", "cluster_name": "shop"}),
            "unknown values and literal fields stay as AWS has them"
        );
        let mut orphan = json!({"vpc_id": "vpc-1"});
        to_refs(&mut orphan, None, &index());
        assert_eq!(orphan, json!({"vpc_id": "vpc-1"}), "without a template nothing is guessed");
    }

    #[test]
    fn a_shared_name_resolves_to_the_resource_the_graph_names() {
        let template = json!({"role_name": refjson("role/instance", "name")});
        let mut live = json!({"role_name": "shop-instance"});
        to_refs(&mut live, Some(&template), &index());
        assert_eq!(live, template);
    }

    #[test]
    fn a_value_of_another_resource_refers_to_that_resource() {
        let template = json!({"subnet": refjson("subnet/public/0", "id")});
        let mut live = json!({"subnet": "subnet-b"});
        to_refs(&mut live, Some(&template), &index());
        assert_eq!(live, json!({"subnet": refjson("subnet/public/1", "id")}));
    }

    #[test]
    fn an_arn_where_a_name_is_declared_takes_the_declared_attribute() {
        let template = json!({"cluster": refjson("cluster", "name")});
        let mut live = json!({"cluster": "arn:aws:ecs:us-west-2:1:cluster/shop"});
        to_refs(&mut live, Some(&template), &index());
        assert_eq!(live, template);
    }

    #[test]
    fn lists_of_references_take_the_declared_order() {
        let template = json!({"subnets": [refjson("subnet/public/0", "id"), refjson("subnet/public/1", "id")]});
        let mut live = json!({"subnets": ["subnet-b", "subnet-a"]});
        to_refs(&mut live, Some(&template), &index());
        assert_eq!(live, template);
        // A different set keeps AWS's order, mapped where known, for diff to report.
        let mut live = json!({"subnets": ["subnet-b", "subnet-x"]});
        to_refs(&mut live, Some(&template), &index());
        assert_eq!(live, json!({"subnets": [refjson("subnet/public/1", "id"), "subnet-x"]}));
    }

    /// Clients whose every describe finds nothing; `tweak` adds expectations first.
    fn quiet_clients(tweak: impl FnOnce(&mut crate::aws::MockEc2Api, &mut crate::aws::MockEcsApi)) -> Clients {
        use crate::aws::*;
        let mut ec2 = MockEc2Api::new();
        let mut ecs = MockEcsApi::new();
        tweak(&mut ec2, &mut ecs);
        ec2.expect_describe_vpcs().returning(|_| Ok(vec![]));
        ec2.expect_describe_internet_gateways().returning(|_| Ok(vec![]));
        ec2.expect_describe_subnets().returning(|_| Ok(vec![]));
        ec2.expect_describe_addresses().returning(|_| Ok(vec![]));
        ec2.expect_describe_nat_gateways().returning(|_| Ok(vec![]));
        ec2.expect_describe_route_tables().returning(|_| Ok(vec![]));
        ec2.expect_describe_security_groups().returning(|_| Ok(vec![]));
        ec2.expect_describe_launch_templates().returning(|_| Ok(vec![]));
        ecs.expect_describe_capacity_providers().returning(|_| Ok(vec![]));
        ecs.expect_list_task_definition_families().returning(|_, _| Ok(vec![]));
        let mut iam = MockIamApi::new();
        iam.expect_get_roles().returning(|_, _| Ok(vec![]));
        iam.expect_get_instance_profile().returning(|_| Ok(None));
        let mut autoscaling = MockAutoScalingApi::new();
        autoscaling.expect_describe_auto_scaling_groups().returning(|_| Ok(vec![]));
        let mut efs = MockEfsApi::new();
        efs.expect_describe_file_systems().returning(|_| Ok(vec![]));
        let mut elb = MockElbApi::new();
        elb.expect_describe_load_balancers().returning(|_| Ok(vec![]));
        elb.expect_describe_target_groups().returning(|_| Ok(vec![]));
        let mut logs = MockLogsApi::new();
        logs.expect_describe_log_groups().withf(|p| p == "/ecs/mcsv-poc/").returning(|_| Ok(vec![]));
        Clients {
            region: "us-west-2".into(),
            ec2: std::sync::Arc::new(ec2),
            ecs: std::sync::Arc::new(ecs),
            elb: std::sync::Arc::new(elb),
            efs: std::sync::Arc::new(efs),
            iam: std::sync::Arc::new(iam),
            logs: std::sync::Arc::new(logs),
            ssm: std::sync::Arc::new(MockSsmApi::new()),
            autoscaling: std::sync::Arc::new(autoscaling),
            calls: crate::aws::CallCounter::default(),
        }
    }

    fn owned_tags(id: &str) -> Tags {
        Tags::from([(STACK_TAG.to_owned(), "mcsv-poc".to_owned()), (ID_TAG.to_owned(), id.to_owned())])
    }

    #[tokio::test]
    async fn deleted_and_inactive_objects_are_absent_and_not_explored() {
        use crate::graph::props::{ClusterProps, NatGatewayProps};
        let stack = crate::model::seed().build().unwrap();
        let clients = quiet_clients(|ec2, ecs| {
            ec2.expect_describe_nat_gateways().times(1).returning(|filters| {
                assert_eq!(filters, vec![Filter::tag(STACK_TAG, "mcsv-poc")]);
                let mut nat = Found::new(
                    "nat-1",
                    NatGatewayProps {
                        subnet_id: "subnet-1".to_owned().into_value(),
                        allocation_id: "eipalloc-1".to_owned().into_value(),
                        connectivity_type: "public".into(),
                    },
                );
                nat.state = Some("deleted".into());
                nat.tags = owned_tags("nat-gateway/0");
                Ok(vec![nat])
            });
            ecs.expect_describe_clusters().times(1).returning(|names| {
                assert_eq!(names, ["mcsv-poc"]);
                let mut cluster = Found::new(
                    "arn:aws:ecs:us-west-2:1:cluster/mcsv-poc",
                    ClusterProps {
                        cluster_name: "mcsv-poc".into(),
                        container_insights: "disabled".into(),
                        capacity_providers: vec![],
                        default_capacity_provider_strategy: vec![],
                    },
                );
                cluster.state = Some("INACTIVE".into());
                cluster.tags = owned_tags("cluster");
                Ok(vec![cluster])
            });
            // No expectation for list_services: calling it would fail the test.
        });
        let live = observe(&stack, &clients).await.unwrap();
        assert!(live.is_empty(), "{:#?}", live.resources);
        assert!(live.conflicts.is_empty());
    }

    #[tokio::test]
    async fn clients_of_another_region_are_refused() {
        let stack = crate::model::seed().build().unwrap();
        let mut clients = quiet_clients(|_, _| {});
        clients.region = "eu-west-1".into();
        let e = observe(&stack, &clients).await.unwrap_err();
        assert_eq!(e.to_string(), "the clients are for region eu-west-1 but the stack lives in us-west-2");
    }

    trait IntoValue {
        fn into_value(self) -> crate::graph::RefOr<String>;
    }

    impl IntoValue for String {
        fn into_value(self) -> crate::graph::RefOr<String> {
            crate::graph::RefOr::Value(self)
        }
    }

    #[test]
    fn gone_states() {
        for s in ["deleted", "INACTIVE", "DRAINING", "deleting", "failed"] {
            assert!(is_gone(Some(s)), "{s}");
        }
        for s in ["available", "ACTIVE", "pending", "creating"] {
            assert!(!is_gone(Some(s)), "{s}");
        }
        assert!(!is_gone(None));
    }
}
