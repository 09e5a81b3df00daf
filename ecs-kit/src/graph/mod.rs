//! The desired resources: one typed resource per AWS object, with a stable logical id
//! and its dependencies.
//!
//! [`Graph::from_stack`] expands a validated [`Stack`] into every AWS resource of the
//! platform. Logical ids are readable paths (`vpc`, `subnet/public/0`,
//! `target-group/products`) stored in the `ecs-kit:id` tag, so they never change
//! between versions; golden tests pin them.
//!
//! ```
//! use ecs_kit::{graph::{Graph, ResourceType}, service, LoadBalancer, Stack};
//! let stack = Stack::builder("shop")
//!     .region("us-west-2")
//!     .load_balancer(LoadBalancer::public())
//!     .service(service! { name: "web", image: "nginx:1.25", port: 80, path: "/" })
//!     .build()?;
//! let graph = Graph::from_stack(&stack)?;
//! let service = graph.get("service/web").expect("declared");
//! assert_eq!(service.resource_type, ResourceType::EcsService);
//! assert!(service.depends_on.iter().any(|d| d.as_str() == "task-definition/web"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
pub mod props;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use build::{scaling_policy_id, SCALABLE_DIMENSION};
pub use props::{Attr, Properties, Ref, RefOr};

use crate::model::Stack;

macro_rules! resource_types {
    ($($variant:ident = $name:literal, $pv:ident($props:ident) => $kind:path;)*) => {
        /// The closed set of resource types, named as in every JSON output (`ec2:vpc`, ...).
        /// The list is the registry of the internal `resources` module.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ResourceType {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl ResourceType {
            /// Every type, in the order of DESIGN.md.
            pub const ALL: [ResourceType; [$(ResourceType::$variant),*].len()] = [$(ResourceType::$variant),*];

            /// The type's name, e.g. `ec2:vpc`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ResourceType::$variant => $name,)*
                }
            }
        }
    };
}
crate::resources::registry!(resource_types);

impl ResourceType {
    /// Whether AWS lets the resource carry tags. Untaggable resources (mount targets,
    /// listener certificates) are owned through their owned parent.
    #[must_use]
    pub fn taggable(self) -> bool {
        crate::resources::schema(self).tagging != crate::resources::Tagging::None
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The logical id of the listener certificate `arn` (`listener-certificate/<id>`: the
/// ACM certificate's id, or the IAM server certificate's path and name), so that adding
/// or removing one certificate never renames the others.
#[must_use]
pub fn listener_certificate_id(arn: &str) -> LogicalId {
    let tail = arn
        .split_once(":certificate/")
        .or_else(|| arn.split_once(":server-certificate/"))
        .map_or(arn, |(_, tail)| tail);
    LogicalId::new(format!("listener-certificate/{tail}"))
}

/// The logical id of the extra certificate `arn` on the test listener:
/// `test-listener-certificate/` and what [`listener_certificate_id`] takes of the ARN.
#[must_use]
pub fn test_listener_certificate_id(arn: &str) -> LogicalId {
    let production = listener_certificate_id(arn);
    LogicalId::new(format!("test-{}", production.as_str()))
}

/// A resource's stable, readable id within its stack (`subnet/private/1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogicalId(String);

impl LogicalId {
    /// An id from its text.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        LogicalId(id.into())
    }

    /// The id's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for LogicalId {
    fn from(s: &str) -> Self {
        LogicalId(s.to_owned())
    }
}

/// One desired AWS resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Stable logical id.
    pub id: LogicalId,
    /// Type.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// The AWS name (or `Name` tag) it has.
    pub name: String,
    /// Resources that must exist first, sorted.
    pub depends_on: Vec<LogicalId>,
    /// Typed properties.
    pub properties: Properties,
    /// Tags, ecs-kit's ownership tags included (empty for untaggable types).
    pub tags: BTreeMap<String, String>,
}

impl Resource {
    /// Every reference its properties make to other resources.
    #[must_use]
    pub fn refs(&self) -> BTreeSet<Ref> {
        let mut found = BTreeSet::new();
        collect_refs(&serde_json::to_value(&self.properties).unwrap_or_default(), &mut found);
        found
    }
}

pub(crate) fn collect_refs(value: &serde_json::Value, found: &mut BTreeSet<Ref>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.len() == 2 && map.contains_key("ref") && map.contains_key("attr") {
                if let Ok(r) = serde_json::from_value::<Ref>(value.clone()) {
                    found.insert(r);
                    return;
                }
            }
            map.values().for_each(|v| collect_refs(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

/// A problem in a graph's structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Resources depend on each other in a loop.
    #[error("dependency cycle: {}", cycle.iter().map(LogicalId::as_str).collect::<Vec<_>>().join(" -> "))]
    Cycle {
        /// The loop, its first id repeated at the end.
        cycle: Vec<LogicalId>,
    },
    /// A resource depends on one that is not in the graph.
    #[error("{from} depends on {missing}, which is not in the graph")]
    MissingDependency {
        /// The dependent resource.
        from: LogicalId,
        /// The absent one.
        missing: LogicalId,
    },
    /// A resource refers to another it does not depend on.
    #[error("{from} refers to {to} without depending on it")]
    UndeclaredReference {
        /// The referring resource.
        from: LogicalId,
        /// The resource referred to.
        to: LogicalId,
    },
    /// Two resources share an id.
    #[error("two resources have the id {0}")]
    DuplicateId(LogicalId),
}

/// The desired resources of a stack, in dependency order (id as tie-break).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    /// Stack name.
    pub stack: String,
    resources: Vec<Resource>,
    /// Position of each id in `resources`.
    #[serde(skip)]
    index: BTreeMap<String, usize>,
}

impl Graph {
    /// Every resource of `stack`.
    ///
    /// # Errors
    /// [`GraphError`] if the expansion is inconsistent (a bug: a cycle names its loop).
    pub fn from_stack(stack: &Stack) -> Result<Graph, GraphError> {
        Graph::new(stack.name.clone(), build::resources(stack))
    }

    /// A graph of `resources`, checked (unique ids, dependencies present, references
    /// declared as dependencies, no cycle) and sorted in dependency order.
    ///
    /// # Errors
    /// The first [`GraphError`] found; a cycle names its loop.
    pub fn new(stack: String, resources: Vec<Resource>) -> Result<Graph, GraphError> {
        let mut by_id: BTreeMap<LogicalId, Resource> = BTreeMap::new();
        for r in resources {
            let id = r.id.clone();
            if by_id.insert(id.clone(), r).is_some() {
                return Err(GraphError::DuplicateId(id));
            }
        }
        for r in by_id.values() {
            if let Some(missing) = r.depends_on.iter().find(|d| !by_id.contains_key(*d)) {
                return Err(GraphError::MissingDependency { from: r.id.clone(), missing: missing.clone() });
            }
            if let Some(to) = r.refs().into_iter().find(|x| !r.depends_on.contains(&x.id)) {
                return Err(GraphError::UndeclaredReference { from: r.id.clone(), to: to.id });
            }
        }
        let order = topological_order(&by_id)?;
        let resources: Vec<Resource> =
            order.into_iter().map(|id| by_id.remove(&id).expect("ordered ids exist")).collect();
        let index = resources.iter().enumerate().map(|(i, r)| (r.id.as_str().to_owned(), i)).collect();
        Ok(Graph { stack, resources, index })
    }

    /// The resources in dependency order.
    #[must_use]
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resource with id `id`.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.index.get(id).map(|i| &self.resources[*i])
    }

    /// The resource with id `id`, to change: the plan resolves in it values someone
    /// else owns (a pipeline's image).
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Resource> {
        self.index.get(id).map(|i| &mut self.resources[*i])
    }

    /// How many resources of each type.
    #[must_use]
    pub fn count_by_type(&self) -> BTreeMap<ResourceType, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.resources {
            *counts.entry(r.resource_type).or_insert(0) += 1;
        }
        counts
    }

    /// The resources that depend on `id`, directly.
    pub fn dependents<'a>(&'a self, id: &'a LogicalId) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.depends_on.contains(id))
    }
}

/// Kahn's algorithm, always taking the smallest ready id, so the order is the same on
/// every run; on a cycle, the loop found by walking dependencies.
fn topological_order(by_id: &BTreeMap<LogicalId, Resource>) -> Result<Vec<LogicalId>, GraphError> {
    let mut waiting: BTreeMap<&LogicalId, usize> = by_id.iter().map(|(id, r)| (id, r.depends_on.len())).collect();
    let mut dependents: BTreeMap<&LogicalId, Vec<&LogicalId>> = BTreeMap::new();
    for r in by_id.values() {
        for d in &r.depends_on {
            dependents.entry(d).or_default().push(&r.id);
        }
    }
    let mut ready: BTreeSet<&LogicalId> = waiting.iter().filter(|(_, n)| **n == 0).map(|(id, _)| *id).collect();
    let mut order = Vec::with_capacity(by_id.len());
    while let Some(id) = ready.pop_first() {
        order.push(id.clone());
        for dependent in dependents.get(id).into_iter().flatten() {
            let n = waiting.get_mut(dependent).expect("every id is waiting");
            *n -= 1;
            if *n == 0 {
                ready.insert(dependent);
            }
        }
    }
    if order.len() == by_id.len() {
        return Ok(order);
    }
    // Every resource left waits on another one left: walk until an id repeats.
    let done: BTreeSet<&LogicalId> = order.iter().collect();
    let start = by_id.keys().find(|id| !done.contains(id)).expect("some id is left");
    let mut path = vec![start.clone()];
    let mut current = start;
    loop {
        let next = by_id[current].depends_on.iter().find(|d| !done.contains(d)).expect("a left id waits on a left id");
        if let Some(pos) = path.iter().position(|p| p == next) {
            let mut cycle = path.split_off(pos);
            cycle.push(next.clone());
            return Err(GraphError::Cycle { cycle });
        }
        path.push(next.clone());
        current = next;
    }
}

#[cfg(test)]
mod tests;
