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

use crate::graph::{Attr, Graph, LogicalId, Resource, ResourceType};
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

pub use crate::resources::Context;

/// Variable names whose values are masked in field changes.
/// The same list that makes `build()` warn about a plain secret-looking variable.
fn sensitive(name: &str) -> bool {
    crate::model::looks_secret(name)
}

/// The desired properties with apply-time values resolved and declarations that hand a
/// value to someone else applied to the live side.
/// Properties equal to the live ones are their own normalisation: every kind's
/// normalisation only takes values from the live side or resolves what AWS never
/// reports (a zone index, an AMI parameter).
fn normalised<'a>(
    desired: &'a Resource,
    live: &LiveResource,
    ctx: &Context,
) -> std::borrow::Cow<'a, crate::graph::Properties> {
    // Shared (the live view took the declaration) or equal: nothing to normalise.
    if desired.properties == live.properties {
        return std::borrow::Cow::Borrowed(&desired.properties);
    }
    let mut want = crate::graph::Properties::clone(&desired.properties);
    crate::resources::normalise(&mut want, &live.properties, ctx);
    std::borrow::Cow::Owned(want)
}

/// Whether `desired` (normalised: `want`) and `live` are equal as they are, tags
/// included: no field can differ then, and diff needs no JSON.
fn same(want: &crate::graph::Properties, desired: &Resource, live: &LiveResource) -> bool {
    // The live view shares the declaration where AWS has it: the same value, not compared.
    (std::ptr::eq(want, &*live.properties) || *want == *live.properties)
        && live.tags.iter().filter(|(k, _)| !unmanaged_tag(k)).eq(desired.tags.iter())
}

/// `want` and `live`'s properties as JSON, each with its tags.
fn to_json(
    want: &crate::graph::Properties,
    desired: &Resource,
    live: &LiveResource,
) -> (serde_json::Value, serde_json::Value) {
    let have = &live.properties;
    let mut want = serde_json::to_value(want).unwrap_or_default();
    let mut have = serde_json::to_value(have).unwrap_or_default();
    if let (Some(w), Some(h)) = (want.as_object_mut(), have.as_object_mut()) {
        w.insert("tags".into(), serde_json::to_value(&desired.tags).unwrap_or_default());
        // Tags AWS services add themselves (ECS marks the Auto Scaling group its managed
        // scaling drives) are not the stack's to diff.
        let live_tags: BTreeMap<&String, &String> = live.tags.iter().filter(|(k, _)| !unmanaged_tag(k)).collect();
        h.insert("tags".into(), serde_json::to_value(&live_tags).unwrap_or_default());
    }
    (want, have)
}

pub(crate) use crate::resources::unmanaged_tag;

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
            if let Some((_, topic)) = crate::resources::schema(t).topics.iter().find(|(part, _)| p.contains(part)) {
                (*topic).to_owned()
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
    let live_by_id: crate::FastMap<&LogicalId, &LiveResource> = live.resources.iter().map(|r| (&r.id, r)).collect();
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
        // Nothing it depends on (so nothing it refers to) is new, and it is equal as is.
        let want = normalised(desired, current, ctx);
        if !desired.depends_on.iter().any(|d| replaced.contains(d)) && same(&want, desired, current) {
            changes.push(Change {
                id: desired.id.clone(),
                resource_type: desired.resource_type,
                action: Action::NoOp,
                reason: String::new(),
                fields: Vec::new(),
                delete_first: false,
            });
            continue;
        }
        let (want, have) = to_json(&want, desired, current);
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
        let schema = crate::resources::schema(desired.resource_type);
        let names_only = schema.names_only;
        let held = (!names_only)
            .then(|| desired.refs().into_iter().find(|r| r.attr != Attr::DnsName && delete_first.contains(&r.id)))
            .flatten();
        let (action, mut reason) = if fields.is_empty() {
            (Action::NoOp, String::new())
        } else if let Some(field) = touches(&fields, schema.replace_on) {
            (Action::Replace, format!("{} cannot change in place", field.replace('_', " ")))
        } else if let Some(r) = &held {
            (Action::Replace, format!("refers to {}, which is replaced", r.id))
        } else {
            (Action::Update, reason_for_update(desired.resource_type, &fields))
        };
        let first = action == Action::Replace && (held.is_some() || !schema.coexists);
        if action == Action::Replace {
            replaced.insert(desired.id.clone());
            reason.push_str(if first { "; the old one is deleted first" } else { "; the new one is created first" });
            if first && schema.interrupts {
                reason.push_str(": traffic is interrupted until the new one is up");
            }
        }
        if first {
            delete_first.insert(desired.id.clone());
        }
        if action == Action::Update && schema.new_revision {
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
    // Live resources have no graph order: the one delete order (dependents first).
    deletes.sort_by_key(|c| (crate::resources::schema(c.resource_type).delete_rank, c.id.clone()));
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
