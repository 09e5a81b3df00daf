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
mod resolves;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use build::{scaling_policy_id, SCALABLE_DIMENSION};
pub use props::{Attr, Properties, Ref, RefOr};
pub(crate) use resolves::Resolves;

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

/// A resource's stable, readable id within its stack (`subnet/private/1`). Shared:
/// a clone (the graph's dependencies and references, the live view, the plan) is a
/// reference count, not a copy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalId(std::sync::Arc<str>);

impl LogicalId {
    /// An id from its text.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        LogicalId(std::sync::Arc::from(id.into()))
    }

    /// The id's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for LogicalId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LogicalId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(LogicalId::new)
    }
}

/// The graph's index key: an id, searched by its text (private, so that maps of the
/// public [`LogicalId`] keep inferring their key type from `.into()`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct IndexKey(LogicalId);

impl std::borrow::Borrow<str> for IndexKey {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for LogicalId {
    fn from(s: &str) -> Self {
        LogicalId(std::sync::Arc::from(s))
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
    /// Typed properties (shared with the live view of a resource that matches them).
    pub properties: std::sync::Arc<Properties>,
    /// Tags, ecs-kit's ownership tags included (empty for untaggable types).
    pub tags: BTreeMap<String, String>,
}

impl Resource {
    /// Every reference its properties make to other resources.
    #[must_use]
    pub fn refs(&self) -> BTreeSet<Ref> {
        refs_in(&self.properties)
    }
}

/// A reference in compact JSON: [`Ref`] serializes as `{"ref":"<id>","attr":"<attr>"}`,
/// or with its keys sorted (`{"attr":..,"ref":..}`) inside a JSON value such as a
/// policy document. A literal string holding these characters has its quotes escaped,
/// so the bytes occur nowhere else, and an id's own quotes are escaped too.
const REF_FORMS: [(&[u8], &[u8]); 2] = [(br#"{"ref":""#, br#"","attr":""#), (br#"{"attr":""#, br#"","ref":""#)];

/// Every reference in `value`, read from its compact JSON without building a JSON tree.
pub(crate) fn refs_in(value: &impl Serialize) -> BTreeSet<Ref> {
    let mut found = BTreeSet::new();
    let json = serde_json::to_vec(value).unwrap_or_default();
    for_each_ref(&json, |r, _| {
        found.insert(r);
    });
    found
}

/// Calls `f` with each reference in `json` (compact JSON) and the byte range it spans.
pub(crate) fn for_each_ref(json: &[u8], mut f: impl FnMut(Ref, std::ops::Range<usize>)) {
    for_each_ref_text(json, |id, attr, span| f(Ref { id: LogicalId::from(id), attr }, span));
}

/// [`for_each_ref`] with each reference's id as text, borrowed from `json` where it has
/// no escapes: nothing is allocated for a reference that is only looked up.
pub(crate) fn for_each_ref_text(json: &[u8], mut f: impl FnMut(&str, Attr, std::ops::Range<usize>)) {
    use std::sync::LazyLock;
    static HEADS: LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        LazyLock::new(|| REF_FORMS.map(|(head, _)| memchr::memmem::Finder::new(head)));
    // The next occurrence of each form's head at or after `at` (none: past the end).
    let next = |form: usize, at: usize| HEADS[form].find(&json[at..]).map_or(usize::MAX, |i| at + i);
    let mut heads = [next(0, 0), next(1, 0)];
    loop {
        let form = usize::from(heads[1] < heads[0]);
        let start = heads[form];
        if start == usize::MAX {
            return;
        }
        let head = REF_FORMS[form].0;
        let mut resume = start + head.len();
        if let Some((id, attr, end)) = ref_at(json, start, form) {
            f(&id, attr, start..end);
            resume = end;
        }
        for (form, at) in heads.iter_mut().enumerate() {
            if *at < resume {
                *at = next(form, resume);
            }
        }
    }
}

/// The reference of the form `REF_FORMS[form]` starting at `start` (its id and
/// attribute), and where it ends.
fn ref_at(json: &[u8], start: usize, form: usize) -> Option<(std::borrow::Cow<'_, str>, Attr, usize)> {
    use std::sync::LazyLock;
    // Built once: a finder's setup costs more than most searches.
    static MIDDLES: LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        LazyLock::new(|| REF_FORMS.map(|(_, middle)| memchr::memmem::Finder::new(middle)));
    static END: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new(b"\"}"));
    let (head, middle) = REF_FORMS[form];
    let first = start + head.len();
    let second = MIDDLES[form].find(&json[first..]).map(|i| first + i + middle.len())?;
    let end = END.find(&json[second..]).map(|i| second + i + 2)?;
    // The attribute is a bare word: no further key hides behind it.
    let attr = if head[2] == b'r' { &json[second..end - 2] } else { &json[first..second - middle.len()] };
    if attr.contains(&b'"') {
        return None;
    }
    let id = if head[2] == b'r' { &json[first..second - middle.len()] } else { &json[second..end - 2] };
    let attr = match attr {
        b"id" => Attr::Id,
        b"arn" => Attr::Arn,
        b"name" => Attr::Name,
        b"dns_name" => Attr::DnsName,
        _ => return None,
    };
    // An id without escapes is its own text; the rare other one is unescaped by serde.
    let id = match std::str::from_utf8(id) {
        Ok(text) if !id.contains(&b'\\') => std::borrow::Cow::Borrowed(text),
        _ => std::borrow::Cow::Owned(serde_json::from_slice::<Ref>(&json[start..end]).ok()?.id.as_str().to_owned()),
    };
    Some((id, attr, end))
}

/// Every reference in a JSON tree: what [`refs_in`] finds in the text.
#[cfg(test)]
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
    index: crate::FastMap<IndexKey, usize>,
    /// Positions in id order.
    #[serde(skip)]
    by_id: Vec<usize>,
    /// Each position's place in id order.
    #[serde(skip)]
    rank: Vec<usize>,
}

impl Graph {
    /// Every resource of `stack`.
    ///
    /// # Errors
    /// [`GraphError`] if the expansion is inconsistent (a bug: a cycle names its loop).
    pub fn from_stack(stack: &Stack) -> Result<Graph, GraphError> {
        // ecs-kit's own expansion declares every reference as a dependency (every test
        // build checks it); reading each resource's JSON for that costs a large part of
        // planning a big stack, so release builds trust it.
        Graph::checked(stack.name.clone(), build::resources(stack), cfg!(debug_assertions))
    }

    /// A graph of `resources`, checked (unique ids, dependencies present, references
    /// declared as dependencies, no cycle) and sorted in dependency order.
    ///
    /// # Errors
    /// The first [`GraphError`] found; a cycle names its loop.
    pub fn new(stack: String, resources: Vec<Resource>) -> Result<Graph, GraphError> {
        Graph::checked(stack, resources, true)
    }

    /// [`Graph::new`], checking that references are declared dependencies only when
    /// `check_refs`.
    fn checked(stack: String, resources: Vec<Resource>, check_refs: bool) -> Result<Graph, GraphError> {
        // Ranks by id: the order every check and tie-break uses (positions are sorted,
        // the resources move once, into their dependency order).
        let mut by_id: Vec<usize> = (0..resources.len()).collect();
        by_id.sort_by(|&a, &b| resources[a].id.cmp(&resources[b].id));
        if let Some(pair) = by_id.windows(2).find(|pair| resources[pair[0]].id == resources[pair[1]].id) {
            return Err(GraphError::DuplicateId(resources[pair[0]].id.clone()));
        }
        let rank: crate::FastMap<&str, usize> =
            by_id.iter().enumerate().map(|(rank, &i)| (resources[i].id.as_str(), rank)).collect();
        let mut deps = Dependencies::default();
        for &i in &by_id {
            let r = &resources[i];
            for d in &r.depends_on {
                let Some(&at) = rank.get(d.as_str()) else {
                    return Err(GraphError::MissingDependency { from: r.id.clone(), missing: d.clone() });
                };
                deps.targets.push(at);
            }
            deps.ends.push(deps.targets.len());
            if let Some(to) = check_refs.then(|| r.refs()).into_iter().flatten().find(|x| !r.depends_on.contains(&x.id))
            {
                return Err(GraphError::UndeclaredReference { from: r.id.clone(), to: to.id });
            }
        }
        drop(rank);
        let order = topological_order(&deps).map_err(|ranks| GraphError::Cycle {
            cycle: ranks.into_iter().map(|rank| resources[by_id[rank]].id.clone()).collect(),
        })?;
        let mut slots: Vec<Option<Resource>> = resources.into_iter().map(Some).collect();
        let resources: Vec<Resource> =
            order.iter().map(|&rank| slots[by_id[rank]].take().expect("each position is ordered once")).collect();
        let index = resources.iter().enumerate().map(|(i, r)| (IndexKey(r.id.clone()), i)).collect();
        // `order` holds each position's rank; inverted, the positions in id order.
        let mut by_id = vec![0; order.len()];
        for (position, &rank) in order.iter().enumerate() {
            by_id[rank] = position;
        }
        Ok(Graph { stack, resources, index, by_id, rank: order })
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

    /// Where `id` falls in the graph's id order: `Ok` with the rank of the graph's
    /// resource of that id, or `Err` with how many of the graph's ids sort before it.
    pub(crate) fn rank(&self, id: &str) -> Result<usize, usize> {
        match self.index.get(id) {
            Some(&position) => Ok(self.rank[position]),
            None => Err(self.by_id.partition_point(|&p| self.resources[p].id.as_str() < id)),
        }
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

/// Each resource's dependencies (by rank), all in one list: resource `i`'s are
/// `targets[ends[i - 1]..ends[i]]`.
#[derive(Default)]
struct Dependencies {
    targets: Vec<usize>,
    ends: Vec<usize>,
}

impl Dependencies {
    /// How many resources.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The dependencies of resource `i`.
    fn of(&self, i: usize) -> &[usize] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.targets[start..self.ends[i]]
    }
}

/// The resources in dependency order, the lowest rank first among those ready; `Err`
/// holds the ranks of a cycle, its first one repeated at its end.
fn topological_order(deps: &Dependencies) -> Result<Vec<usize>, Vec<usize>> {
    use std::cmp::Reverse;
    let n = deps.len();
    let mut waiting: Vec<usize> = (0..n).map(|i| deps.of(i).len()).collect();
    // Dependents, in the same one-list form.
    let mut dependents = Dependencies { targets: vec![0; deps.targets.len()], ends: vec![0; n] };
    for &d in &deps.targets {
        dependents.ends[d] += 1;
    }
    for i in 1..n {
        dependents.ends[i] += dependents.ends[i - 1];
    }
    let mut fill: Vec<usize> = (0..n).map(|i| if i == 0 { 0 } else { dependents.ends[i - 1] }).collect();
    for i in 0..n {
        for &d in deps.of(i) {
            dependents.targets[fill[d]] = i;
            fill[d] += 1;
        }
    }
    let mut ready: std::collections::BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &dependent in dependents.of(i) {
            waiting[dependent] -= 1;
            if waiting[dependent] == 0 {
                ready.push(Reverse(dependent));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every resource left waits on another one left: walk until one repeats.
    let mut done = vec![false; n];
    order.iter().for_each(|&i| done[i] = true);
    let start = (0..n).find(|&i| !done[i]).expect("some resource is left");
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = *deps.of(current).iter().find(|&&d| !done[d]).expect("a left resource waits on a left one");
        if let Some(pos) = path.iter().position(|&p| p == next) {
            let mut cycle = path.split_off(pos);
            cycle.push(next);
            return Err(cycle);
        }
        path.push(next);
        current = next;
    }
}

#[cfg(test)]
mod tests;
