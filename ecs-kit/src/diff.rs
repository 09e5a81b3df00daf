//! Desired versus live: per resource no-op, create, update, replace or delete, with the
//! changed fields and a reason.
//!
//! Both sides have the graph's typed shape ([`crate::observe`] maps AWS ids back to
//! logical references), so the comparison is field by field after a few normalisations:
//! values resolved only at apply time (zones by index, the latest AMI), fields a
//! declaration hands to someone else (a desired count owned by an autoscaler, an Auto
//! Scaling group scaled by ECS), and replacement cascading to what refers to a replaced
//! resource.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::graph::props::{AvailabilityZone, CountOwner, ImageSource};
use crate::graph::{Attr, Graph, LogicalId, Properties, Resource, ResourceType};
use crate::observe::{LiveResource, LiveStack};

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing to do.
    NoOp,
    /// Create it.
    Create,
    /// Change it in place.
    Update,
    /// Delete it and create it anew.
    Replace,
    /// Delete it.
    Delete,
}

impl Action {
    /// The glyph of the plan's human form (`+`, `~`, `-/+`, `-`, or a blank).
    #[must_use]
    pub fn glyph(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
}

/// One changed field, by its JSON path in the properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Path such as `container_definitions[0].image` (`tags.team` for tags).
    pub path: String,
    /// Live value (`null` when absent).
    pub old: serde_json::Value,
    /// Desired value (`null` when absent); a reference to a resource being replaced is
    /// `{"ref": ID, "attr": ATTR}`, known after apply.
    pub new: serde_json::Value,
}

/// The verdict on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Logical id.
    pub id: LogicalId,
    /// Type.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// What happens.
    pub action: Action,
    /// Why, in a few words.
    pub reason: String,
    /// Changed fields (empty for no-op, create and delete).
    pub fields: Vec<FieldChange>,
    /// For a replacement: the old object is deleted before its successor is created,
    /// because AWS allows only one of them at a time (a unique name, port or zone), or
    /// because it refers to something replaced that way. Otherwise the successor is
    /// created first and the old object deleted once nothing uses it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delete_first: bool,
}

/// Values known only in AWS that the comparison needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The region's available zones, sorted: resolves zones declared by index.
    pub zones: Vec<String>,
    /// The AMI the SSM parameter names now, for stacks that follow the latest AMI.
    pub latest_ami: Option<String>,
}

/// Fields that AWS cannot change in place: a change means replacement.
fn immutable(t: ResourceType) -> &'static [&'static str] {
    use ResourceType as T;
    match t {
        T::Vpc => &["cidr_block"],
        T::Subnet => &["vpc_id", "cidr_block", "availability_zone"],
        T::Eip => &["domain"],
        T::NatGateway => &["subnet_id", "allocation_id", "connectivity_type"],
        T::RouteTable => &["vpc_id"],
        T::SecurityGroup => &["group_name", "description", "vpc_id"],
        T::LaunchTemplate => &["launch_template_name"],
        T::IamRole => &["role_name", "path"],
        T::InstanceProfile => &["instance_profile_name", "path"],
        T::AutoScalingGroup => &["auto_scaling_group_name"],
        T::CapacityProvider => &["name", "auto_scaling_group_arn"],
        T::Cluster => &["cluster_name"],
        T::FileSystem => &["creation_token", "encrypted", "kms_key_id", "performance_mode"],
        T::MountTarget => &["file_system_id", "subnet_id"],
        // Access points cannot be modified at all.
        T::AccessPoint => &["file_system_id", "posix_user", "root_directory"],
        T::LoadBalancer => &["name", "scheme", "type"],
        T::TargetGroup => &["name", "protocol", "port", "vpc_id", "target_type"],
        T::Listener => &["load_balancer_arn"],
        T::ListenerRule => &["listener_arn"],
        T::LogGroup => &["log_group_name"],
        T::EcsService => &["service_name", "cluster"],
        // A task definition change registers a new revision: an update.
        T::InternetGateway => &["vpc_id"],
        T::TaskDefinition => &[],
    }
}

/// Whether a replacement of type `t` can exist beside the object it replaces: nothing
/// of it is unique (a name, a listener's port, a rule's priority, a subnet's CIDR, a
/// mount target's zone, a route table's subnet associations).
fn coexists(t: ResourceType) -> bool {
    use ResourceType as T;
    matches!(t, T::Vpc | T::InternetGateway | T::Eip | T::NatGateway | T::AccessPoint)
}

/// Variable names whose values are masked in field changes.
fn sensitive(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["PASSWORD", "SECRET", "TOKEN", "PRIVATE", "CREDENTIAL", "API_KEY"].iter().any(|w| upper.contains(w))
}

/// The desired properties with apply-time values resolved and declarations that hand a
/// value to someone else applied to the live side.
fn normalise(desired: &Resource, live: &LiveResource, ctx: &Context) -> (serde_json::Value, serde_json::Value) {
    let mut want = desired.properties.clone();
    let mut have = live.properties.clone();
    match (&mut want, &mut have) {
        (Properties::Subnet(w), Properties::Subnet(h)) => {
            if let AvailabilityZone::Index { zone_index } = w.availability_zone {
                // Unknown zones (no context) keep whatever zone the subnet has.
                w.availability_zone = ctx
                    .zones
                    .get(usize::from(zone_index))
                    .map_or_else(|| h.availability_zone.clone(), |z| AvailabilityZone::Name(z.clone()));
            }
        }
        (Properties::LaunchTemplate(w), Properties::LaunchTemplate(h)) => {
            if let ImageSource::SsmParameter { follow_latest, .. } = &w.image {
                w.image = match (&ctx.latest_ami, follow_latest) {
                    (Some(ami), true) => ImageSource::ImageId(ami.clone()),
                    // Keep the AMI the template has.
                    _ => h.image.clone(),
                };
            }
        }
        (Properties::AutoScalingGroup(w), Properties::AutoScalingGroup(h)) if w.desired_capacity_managed_by_ecs => {
            w.desired_capacity = h.desired_capacity;
        }
        (Properties::Service(w), Properties::Service(h)) if w.desired_count_owner == CountOwner::External => {
            w.desired_count = h.desired_count;
        }
        // The client token apply used carries a digest of the properties.
        (Properties::AccessPoint(w), Properties::AccessPoint(h)) => {
            w.client_token.clone_from(&h.client_token);
        }
        // Encrypted without a declared key: AWS uses its default EFS key and reports it.
        (Properties::FileSystem(w), Properties::FileSystem(h)) if w.encrypted && w.kms_key_id.is_none() => {
            w.kms_key_id.clone_from(&h.kms_key_id);
        }
        _ => {}
    }
    let mut want = serde_json::to_value(&want).unwrap_or_default();
    let mut have = serde_json::to_value(&have).unwrap_or_default();
    if let (Some(w), Some(h)) = (want.as_object_mut(), have.as_object_mut()) {
        w.insert("tags".into(), serde_json::to_value(&desired.tags).unwrap_or_default());
        // Tags AWS services add themselves (ECS marks the Auto Scaling group its managed
        // scaling drives) are not the stack's to diff.
        let live_tags: BTreeMap<&String, &String> = live.tags.iter().filter(|(k, _)| !aws_added_tag(k)).collect();
        h.insert("tags".into(), serde_json::to_value(&live_tags).unwrap_or_default());
    }
    (want, have)
}

/// Whether AWS itself puts tag `key` on resources: the reserved `aws:` prefix, and
/// `AmazonECSManaged` on Auto Scaling groups of managed-scaling capacity providers.
pub(crate) fn aws_added_tag(key: &str) -> bool {
    key.starts_with("aws:") || key == "AmazonECSManaged"
}

/// Every leaf that differs between `old` and `new`, by path.
fn field_changes(path: &str, old: &serde_json::Value, new: &serde_json::Value, out: &mut Vec<FieldChange>) {
    use serde_json::Value;
    if old == new {
        return;
    }
    let is_ref = |v: &Value| v.get("ref").is_some() && v.get("attr").is_some();
    match (old, new) {
        (Value::Object(o), Value::Object(n)) if !is_ref(old) && !is_ref(new) => {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                field_changes(&sub, o.get(k).unwrap_or(&Value::Null), n.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                field_changes(&format!("{path}[{i}]"), a, b, out);
            }
        }
        _ => out.push(FieldChange { path: path.to_owned(), old: old.clone(), new: new.clone() }),
    }
}

/// Masks the values of environment variables whose names look secret.
fn mask(fields: &mut [FieldChange], want: &serde_json::Value) {
    for f in fields {
        let Some(rest) = f.path.strip_prefix("container_definitions[") else { continue };
        let Some((c, tail)) = rest.split_once("].environment[") else { continue };
        let Some((i, _)) = tail.split_once(']') else { continue };
        let name = want["container_definitions"][c.parse::<usize>().unwrap_or(0)]["environment"]
            [i.parse::<usize>().unwrap_or(0)]["name"]
            .as_str()
            .unwrap_or_default();
        if sensitive(name) {
            for v in [&mut f.old, &mut f.new] {
                if !v.is_null() {
                    *v = serde_json::Value::String("(sensitive)".into());
                }
            }
        }
    }
}

/// Whether `fields` touches one of `names` at the top level.
fn touches(fields: &[FieldChange], names: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| {
        let top = f.path.split(['.', '[']).next().unwrap_or_default();
        names.contains(&top).then(|| top.to_owned())
    })
}

fn reason_for_update(t: ResourceType, fields: &[FieldChange]) -> String {
    let tops: BTreeSet<String> = fields
        .iter()
        .map(|f| {
            let p = f.path.as_str();
            if t == ResourceType::TaskDefinition && p.contains(".image") {
                "image".to_owned()
            } else if p.contains("environment") {
                "environment".to_owned()
            } else {
                p.split(['.', '[']).next().unwrap_or_default().to_owned()
            }
        })
        .collect();
    let list: Vec<String> = tops.into_iter().map(|t| t.replace('_', " ")).collect();
    format!("{} changed", list.join(", "))
}

/// Compares the desired `graph` with `live`: one [`Change`] per resource on either side,
/// desired ones in dependency order, deletions after them in reverse dependency order.
#[must_use]
pub fn diff(graph: &Graph, live: &LiveStack, ctx: &Context) -> Vec<Change> {
    let live_by_id: BTreeMap<&LogicalId, &LiveResource> = live.resources.iter().map(|r| (&r.id, r)).collect();
    let mut changes: Vec<Change> = Vec::new();
    let mut replaced: BTreeSet<LogicalId> = BTreeSet::new();
    let mut delete_first: BTreeSet<LogicalId> = BTreeSet::new();
    for desired in graph.resources() {
        let Some(current) = live_by_id.get(&desired.id) else {
            replaced.insert(desired.id.clone());
            changes.push(Change {
                id: desired.id.clone(),
                resource_type: desired.resource_type,
                action: Action::Create,
                reason: "not found in AWS".into(),
                fields: Vec::new(),
                delete_first: false,
            });
            continue;
        };
        let (want, have) = normalise(desired, current, ctx);
        let mut fields = Vec::new();
        field_changes("", &have, &want, &mut fields);
        // What refers to a resource being created or replaced changes with it.
        for r in desired.refs() {
            if replaced.contains(&r.id) && !fields.iter().any(|f| f.new == serde_json::to_value(&r).unwrap_or_default())
            {
                for path in ref_paths(&want, &r, "") {
                    fields.push(FieldChange {
                        path,
                        old: serde_json::Value::String("(current)".into()),
                        new: serde_json::to_value(&r).unwrap_or_default(),
                    });
                }
            }
        }
        mask(&mut fields, &want);
        // Holding on to something deleted before it is re-created means letting go of
        // it first: deleted too, and re-created after it. Task definition revisions and
        // role policies only name things (AWS deletes what they name all the same), and
        // a DNS name is only a value.
        let names_only = matches!(desired.resource_type, ResourceType::TaskDefinition | ResourceType::IamRole);
        let held = (!names_only)
            .then(|| desired.refs().into_iter().find(|r| r.attr != Attr::DnsName && delete_first.contains(&r.id)))
            .flatten();
        let (action, mut reason) = if fields.is_empty() {
            (Action::NoOp, String::new())
        } else if let Some(field) = touches(&fields, immutable(desired.resource_type)) {
            (Action::Replace, format!("{} cannot change in place", field.replace('_', " ")))
        } else if let Some(r) = &held {
            (Action::Replace, format!("refers to {}, which is replaced", r.id))
        } else {
            (Action::Update, reason_for_update(desired.resource_type, &fields))
        };
        let first = action == Action::Replace && (held.is_some() || !coexists(desired.resource_type));
        if action == Action::Replace {
            replaced.insert(desired.id.clone());
            reason.push_str(if first { "; the old one is deleted first" } else { "; the new one is created first" });
        }
        if first {
            delete_first.insert(desired.id.clone());
        }
        if action == Action::Update && desired.resource_type == ResourceType::TaskDefinition {
            // A new revision: what runs it points at a new ARN.
            replaced.insert(desired.id.clone());
        }
        changes.push(Change {
            id: desired.id.clone(),
            resource_type: desired.resource_type,
            action,
            reason,
            fields,
            delete_first: first,
        });
    }
    let mut deletes: Vec<Change> = live
        .resources
        .iter()
        .filter(|r| graph.get(r.id.as_str()).is_none())
        .map(|r| Change {
            id: r.id.clone(),
            resource_type: r.resource_type,
            action: Action::Delete,
            reason: "no longer declared".into(),
            fields: Vec::new(),
            delete_first: false,
        })
        .collect();
    // Live resources have no graph order: delete dependents (later types) first.
    deletes.sort_by_key(|c| {
        (std::cmp::Reverse(ResourceType::ALL.iter().position(|t| *t == c.resource_type)), c.id.clone())
    });
    changes.extend(deletes);
    changes
}

/// Paths in `value` where the reference `r` appears.
fn ref_paths(value: &serde_json::Value, r: &crate::graph::Ref, path: &str) -> Vec<String> {
    use serde_json::Value;
    let target = serde_json::to_value(r).unwrap_or_default();
    if *value == target {
        return vec![path.to_owned()];
    }
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| ref_paths(v, r, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }))
            .collect(),
        Value::Array(items) => {
            items.iter().enumerate().flat_map(|(i, v)| ref_paths(v, r, &format!("{path}[{i}]"))).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
