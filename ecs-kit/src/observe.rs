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

use futures_util::future::join_all;
use futures_util::StreamExt as _;

use crate::aws::{AwsError, Clients, ServiceStatus, Tags};
use crate::graph::{Attr, Graph, GraphError, LogicalId, Properties, Ref, Resolves, Resource, ResourceType};
use crate::model::{Stack, ID_TAG, STACK_TAG};
use crate::resources::{is_gone, PhysicalIndex, Raw, ReadCx, Tagging};

pub use crate::resources::LiveResource;

pub use crate::resources::Conflict;

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
        // Observe sorts them by id; a list built otherwise is searched through.
        match self.resources.binary_search_by(|r| r.id.as_str().cmp(id)) {
            Ok(i) => Some(&self.resources[i]),
            Err(_) if self.resources.is_sorted_by(|a, b| a.id <= b.id) => None,
            Err(_) => self.resources.iter().find(|r| r.id.as_str() == id),
        }
    }

    /// The physical identities of the live resources (names from `graph`, the stack's
    /// desired resources).
    #[must_use]
    pub fn known(&self, graph: &Graph) -> crate::resources::Known {
        self.resources
            .iter()
            .map(|r| {
                let name = graph.get(r.id.as_str()).map(|g| g.name.clone());
                let dns_name = r.attrs.get("dns_name").cloned();
                let digest = r.attrs.get(crate::resources::DIGEST_ATTR).cloned();
                let physical =
                    crate::resources::Physical { id: r.aws_id.clone(), arn: r.arn.clone(), name, dns_name, digest };
                (r.id.clone(), physical)
            })
            .collect()
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

/// Reads every live resource `stack` owns: each type through its kind, those whose
/// read needs another's live objects (a listener's load balancer) after it, the rest
/// at once. Every tag is read from its own service (not from the Resource Groups
/// Tagging API's index, which lags; [`crate::plan`] uses it, and reads the tags again
/// from their services before a plan with changes stands).
///
/// # Errors
/// [`ObserveError`] when an AWS call fails (after the SDK's own retries), or the clients
/// are for another region.
pub async fn observe(stack: &Stack, clients: &Clients) -> Result<LiveStack, ObserveError> {
    let graph = Graph::from_stack(stack)?;
    Ok(observe_taking(stack, &graph, clients, true, TagSource::Direct).await?.0)
}

/// Where observe takes the tags of the types that read them late
/// ([`crate::resources::Schema::late_tags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagSource {
    /// The Resource Groups Tagging API's index first (one paged call for all), and
    /// their own API for the objects it lacks. The index lags: a plan with changes
    /// reads what it gave again ([`confirmed`]).
    Index,
    /// Their own API only.
    Direct,
}

/// [`observe`] with the stack's graph already built, taking late tags from `source`;
/// with the ARNs of the objects whose tags came from the index.
pub(crate) async fn observe_with(
    stack: &Stack,
    graph: &Graph,
    clients: &Clients,
    source: TagSource,
) -> Result<(LiveStack, BTreeSet<String>), ObserveError> {
    observe_taking(stack, graph, clients, true, source).await
}

/// [`observe_with`]; `take_declared`: take the declaration for what AWS has exactly as
/// declared (else every object is mapped to the graph's terms, the longer way).
async fn observe_taking(
    stack: &Stack,
    graph: &Graph,
    clients: &Clients,
    take_declared: bool,
    source: TagSource,
) -> Result<(LiveStack, BTreeSet<String>), ObserveError> {
    if !clients.region.is_empty() && clients.region != stack.region {
        return Err(ObserveError::Region { clients: clients.region.clone(), stack: stack.region.clone() });
    }
    // The tagging index is read beside the types (it needs none of them): its answer
    // costs no round trip of its own.
    let index = async {
        match source {
            TagSource::Index => index_tags(stack, clients).await.map(Some),
            TagSource::Direct => Ok(None),
        }
    };
    let reads = async {
        let mut found: Vec<Raw> = Vec::new();
        let mut conflicts = Vec::new();
        let mut services = BTreeMap::new();
        for wave in read_waves() {
            let reads = {
                let cx = ReadCx { stack, graph, clients, earlier: &found };
                join_all(wave.iter().map(|t| read_retrying(*t, &cx))).await
            };
            for (t, read) in wave.into_iter().zip(reads) {
                let read = read?;
                let (as_declared, declarations) = (read.as_declared, read.declarations);
                let mut claims: crate::FastMap<String, LogicalId> = read.claims.into_iter().collect();
                found.extend(read.found.into_iter().map(|f| {
                    let as_declared = as_declared.contains(&f.id);
                    let declaration = declarations.contains(&f.id);
                    let claim = claims.remove(&f.id);
                    Raw { resource_type: t, found: f, as_declared, declaration, claim }
                }));
                conflicts.extend(read.conflicts);
                services.extend(read.services);
            }
        }
        Ok::<_, AwsError>((found, conflicts, services))
    };
    let (reads, index) = futures_util::future::join(reads, index).await;
    let (mut found, mut conflicts, services) = reads?;
    let (late, indexed) = late_tags(stack, graph, clients, &mut found, index?).await?;
    conflicts.extend(late);
    // Conflicts in the registry's order, whatever order the reads ran in.
    conflicts.sort_by_key(|c: &Conflict| ResourceType::ALL.iter().position(|t| *t == c.resource_type));
    Ok((assemble(graph, found, conflicts, services, take_declared), indexed))
}

/// The ARN by which the tagging APIs know an object.
fn tag_arn(found: &crate::aws::Found<Properties>) -> &str {
    found.arn.as_deref().unwrap_or(&found.id)
}

/// Reads the tags of the objects whose types leave them late ([`Schema::late_tags`]):
/// from `index` (the tagging index's answer) where it has them, else from their own
/// APIs; returns the conflicts (objects holding a name a desired resource needs,
/// [`Raw::claim`], without the stack's tag) and the ARNs of the objects whose tags came
/// from the index.
///
/// [`Schema::late_tags`]: crate::resources::Schema
async fn late_tags(
    stack: &Stack,
    graph: &Graph,
    clients: &Clients,
    found: &mut [Raw],
    index: Option<BTreeMap<String, Tags>>,
) -> Result<(Vec<Conflict>, BTreeSet<String>), AwsError> {
    let late: Vec<usize> =
        (0..found.len()).filter(|&i| crate::resources::schema(found[i].resource_type).late_tags).collect();
    let mut indexed = BTreeSet::new();
    if !late.is_empty() {
        let mut index = index.unwrap_or_default();
        let mut missing = Vec::new();
        for &i in &late {
            let f = &mut found[i].found;
            match index.remove(tag_arn(f)) {
                Some(tags) => {
                    f.tags = tags;
                    indexed.insert(tag_arn(f).to_owned());
                }
                None => missing.push((crate::resources::schema(found[i].resource_type).tagging, tag_arn(f).to_owned())),
            }
        }
        let mut direct = direct_tags(clients, missing).await?;
        for &i in &late {
            let f = &mut found[i].found;
            match direct.remove(tag_arn(f)) {
                Some(Some(tags)) => f.tags = tags,
                // Deleted since it was listed.
                Some(None) => f.state = Some("deleted".to_owned()),
                None => {}
            }
        }
    }
    let conflicts = late
        .iter()
        .map(|&i| &found[i])
        .filter(|r| !is_gone(r.found.state.as_deref()) && r.found.tags.get(STACK_TAG) != Some(&stack.name))
        .filter_map(|r| {
            let id = r.claim.as_ref()?;
            let name = graph.get(id.as_str()).map(|g| g.name.clone()).unwrap_or_default();
            Some(crate::resources::conflict(id.as_str(), r.resource_type, &name))
        })
        .collect();
    Ok((conflicts, indexed))
}

/// The tags the Resource Groups Tagging API's index holds for the objects of the types
/// that read their tags late and carry the stack's tag, by ARN; none when it cannot be
/// read (the credentials may not, an endpoint without it, AWS failing): the index only
/// saves calls, the objects' own APIs answer then.
async fn index_tags(stack: &Stack, clients: &Clients) -> Result<BTreeMap<String, Tags>, AwsError> {
    let filters: BTreeSet<&str> = ResourceType::ALL
        .iter()
        .map(|t| crate::resources::schema(*t))
        .filter(|s| s.late_tags)
        .filter_map(|s| s.tagging.index_filter())
        .collect();
    let filters: Vec<String> = filters.into_iter().map(str::to_owned).collect();
    let read = || clients.tagging.get_resources(STACK_TAG.to_owned(), stack.name.clone(), filters.clone());
    match crate::aws::retry_transient(read).await {
        // No leave to read it, or no credentials or network at all (the other reads
        // meet the same and say so): quietly, under `-v`.
        Err(e) if e.kind == crate::aws::ErrorKind::AccessDenied || e.kind.is_transient() => {
            tracing::info!(
                "{e}: tags are read from each service instead (grant tag:GetResources to read them in one call)"
            );
            Ok(BTreeMap::new())
        }
        // An endpoint without it, say.
        Err(e) => {
            tracing::warn!("{e}: tags are read from each service instead");
            Ok(BTreeMap::new())
        }
        ok => ok,
    }
}

/// How many log groups' tags are read at once when the index lacks them.
const TAG_READS_AT_ONCE: usize = 4;

/// The tags of `objects` (how each is tagged, its ARN) read from their own APIs: ELB's
/// together (DescribeTags takes 20 of any kind a call), log groups' one by one,
/// [`TAG_READS_AT_ONCE`] at a time. `None`: the object no longer exists (an ELB object
/// DescribeTags leaves out, a log group not found).
pub(crate) async fn direct_tags(
    clients: &Clients,
    objects: Vec<(Tagging, String)>,
) -> Result<BTreeMap<String, Option<Tags>>, AwsError> {
    let mut elb = Vec::new();
    let mut logs = Vec::new();
    for (tagging, arn) in objects {
        match tagging {
            Tagging::Elb => elb.push(arn),
            Tagging::Logs => logs.push(arn),
            t => {
                return Err(AwsError::new(
                    crate::aws::ErrorKind::Invalid,
                    "ecs-kit",
                    "observe",
                    format!("no late tag read for {t:?}"),
                ))
            }
        }
    }
    let mut out = BTreeMap::new();
    if !elb.is_empty() {
        // One DescribeTags leaves out what no longer exists.
        let mut tags = crate::aws::retry_transient(|| clients.elb.describe_tags(elb.clone())).await?;
        out.extend(elb.into_iter().map(|arn| {
            let t = tags.remove(&arn);
            (arn, t)
        }));
    }
    // A few at a time: a stack of hundreds of services must not meet CloudWatch Logs'
    // request rate all at once.
    let reads = futures_util::stream::iter(logs.into_iter().map(|arn| async move {
        let read = crate::aws::retry_transient(|| clients.logs.list_tags(arn.clone())).await;
        (arn, read)
    }))
    .buffer_unordered(TAG_READS_AT_ONCE)
    .collect::<Vec<_>>()
    .await;
    for (arn, read) in reads {
        match read {
            Ok(tags) => out.insert(arn, Some(tags)),
            Err(e) if e.kind == crate::aws::ErrorKind::NotFound => out.insert(arn, None),
            Err(e) => return Err(e),
        };
    }
    Ok(out)
}

/// Whether the tags of every object of `live` whose tags came from the index (`indexed`,
/// by ARN) are what their own APIs say now.
///
/// # Errors
/// An AWS call failed.
pub(crate) async fn confirmed(
    live: &LiveStack,
    indexed: &BTreeSet<String>,
    clients: &Clients,
) -> Result<bool, AwsError> {
    // The ARN the index and the tag reads know it by, as `tag_arn` for what was found.
    let arn = |r: &'_ LiveResource| -> String { r.arn.clone().unwrap_or_else(|| r.aws_id.clone()) };
    let objects: Vec<(&LiveResource, String)> =
        live.resources.iter().map(|r| (r, arn(r))).filter(|(_, arn)| indexed.contains(arn)).collect();
    if objects.is_empty() {
        return Ok(true);
    }
    let read =
        objects.iter().map(|(r, arn)| (crate::resources::schema(r.resource_type).tagging, arn.clone())).collect();
    let now = direct_tags(clients, read).await?;
    // AWS's own tags (`aws:...`) are no part of ownership, and the index may leave them out.
    let ours = |tags: &Tags| -> Tags {
        tags.iter().filter(|(k, _)| !k.starts_with("aws:")).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    Ok(objects.iter().all(|(r, arn)| now.get(arn).and_then(Option::as_ref).map(ours) == Some(ours(&r.tags))))
}

/// Reads of one type, retried while AWS throttles or fails.
async fn read_retrying(t: ResourceType, cx: &ReadCx<'_>) -> Result<crate::resources::Read<Properties>, AwsError> {
    crate::aws::retry_transient(|| crate::resources::read(t, cx)).await
}

/// The types in waves: each wave's reads need only what earlier waves found.
fn read_waves() -> Vec<Vec<ResourceType>> {
    let mut wave_of: BTreeMap<ResourceType, usize> = BTreeMap::new();
    let mut left: Vec<ResourceType> = ResourceType::ALL.to_vec();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            let after = crate::resources::schema(*t).read_after;
            if !after.iter().all(|a| wave_of.contains_key(a)) {
                return true;
            }
            let wave = after.iter().map(|a| wave_of[a] + 1).max().unwrap_or(0);
            wave_of.insert(*t, wave);
            false
        });
        assert!(left.len() < before, "read_after of {left:?} loops");
    }
    let mut waves: Vec<Vec<ResourceType>> = vec![Vec::new(); wave_of.values().max().map_or(0, |m| m + 1)];
    for t in ResourceType::ALL {
        waves[wave_of[&t]].push(t);
    }
    waves
}

/// Logical ids, ownership of untaggable mount targets, and references.
fn assemble(
    graph: &Graph,
    found: Vec<Raw>,
    conflicts: Vec<Conflict>,
    services: BTreeMap<LogicalId, ServiceStatus>,
    take_declared: bool,
) -> LiveStack {
    // Each owned object with its logical id and the graph's resource of that id (and
    // type), looked up once.
    let mut live: Vec<(LogicalId, Raw, Option<&Resource>)> = Vec::with_capacity(found.len());
    let mut untagged = Vec::new();
    for item in found {
        if is_gone(item.found.state.as_deref()) {
            continue;
        }
        if crate::resources::schema(item.resource_type).tagging == Tagging::None {
            untagged.push(item);
            continue;
        }
        let Some(tag) = item.found.tags.get(ID_TAG) else { continue };
        if item.found.tags.get(STACK_TAG).map(String::as_str) != Some(graph.stack.as_str()) {
            continue;
        }
        // The graph's id where it has one: shared, not copied.
        let (id, desired) = match graph.get(tag) {
            Some(r) => (r.id.clone(), Some(r).filter(|r| r.resource_type == item.resource_type)),
            None => (LogicalId::from(tag.as_str()), None),
        };
        live.push((id, item, desired));
    }

    // The fields that declare rather than describe come from the declaration.
    let declared = |(_, item, desired): &mut (LogicalId, Raw, Option<&Resource>)| {
        if let Some(desired) = desired {
            crate::resources::declared(&mut item.found.props, &desired.properties);
        }
    };
    live.iter_mut().for_each(declared);

    // An untaggable object (a mount target) is ours through its owned parent; its kind
    // tells its logical id from what the others stand for.
    let mut index = physical_index(&live, graph);
    let mut identified: Vec<(LogicalId, Raw, Option<&Resource>)> = untagged
        .into_iter()
        .filter_map(|item| {
            let id = crate::resources::identify(&item.found, graph, &index)?;
            let desired = graph.get(id.as_str()).filter(|r| r.resource_type == item.resource_type);
            Some((id, item, desired))
        })
        .collect();
    identified.iter_mut().for_each(declared);
    index.extend(identified.iter().map(|(id, item, _)| (item.found.id.as_str(), id, Attr::Id)));
    let all = || live.iter().chain(&identified);

    // Each live item's properties in the graph's terms; positions by logical id resolve
    // the desired properties to compare with.
    let position: crate::FastMap<&str, &Raw> = all().map(|(id, item, _)| (id.as_str(), item)).collect();
    let physical = |id: &str, attr: Attr| -> Option<&str> {
        let f = &position.get(id)?.found;
        match attr {
            Attr::Id => Some(&f.id),
            Attr::Arn => f.arn.as_deref(),
            Attr::Name => graph.get(id).map(|g| g.name.as_str()),
            Attr::DnsName => f.attrs.get("dns_name").map(String::as_str),
        }
    };
    // `None`: the found properties as they are.
    let properties: Vec<Option<std::sync::Arc<Properties>>> = all()
        .map(|(id, item, desired)| {
            match desired {
                // Known to be its declaration (its found properties left empty): shared.
                Some(d) if item.declaration => Some(d.properties.clone()),
                // Known to be its declaration, it carries it already.
                Some(_) if take_declared && item.as_declared => None,
                // What AWS has is the declaration with its references resolved: the live
                // properties in the graph's terms are the declared ones, shared, no
                // mapping needed.
                Some(d) if take_declared && unchanged(&d.properties, &item.found.props, physical) => {
                    Some(d.properties.clone())
                }
                _ => Some(in_graph_terms(id, item.resource_type, &item.found.props, graph, &index).into()),
            }
        })
        .collect();
    drop((position, index));
    live.extend(identified);

    // By logical id, duplicates in the order found: ranks in the graph's id order
    // (an id the graph lacks takes the place its text falls at) sort the positions,
    // and each object then moves once, into its place.
    let ranks: Vec<(usize, bool)> = live
        .iter()
        .map(|(id, _, _)| match graph.rank(id.as_str()) {
            Ok(rank) => (rank, true),
            Err(place) => (place, false),
        })
        .collect();
    let mut order: Vec<usize> = (0..live.len()).collect();
    order.sort_unstable_by(|&a, &b| ranks[a].cmp(&ranks[b]).then_with(|| live[a].0.cmp(&live[b].0)).then(a.cmp(&b)));
    let mut slots: Vec<_> = live.into_iter().zip(properties).map(|((id, item, _), p)| Some((id, item, p))).collect();
    let mut resources = Vec::with_capacity(order.len());
    resources.extend(order.into_iter().filter_map(|i| slots[i].take()).map(|(id, item, properties)| LiveResource {
        id,
        resource_type: item.resource_type,
        aws_id: item.found.id,
        arn: item.found.arn,
        state: item.found.state,
        properties: properties.unwrap_or_else(|| item.found.props.into()),
        tags: item.found.tags,
        attrs: item.found.attrs,
    }));
    LiveStack { stack: graph.stack.clone(), resources, conflicts, services }
}

/// Physical value -> the references it can stand for (a role and its instance profile
/// share a name, for one): a taggable object's id, ARN, DNS name and name, an
/// untaggable one's id.
fn physical_index<'a>(live: &'a [(LogicalId, Raw, Option<&Resource>)], graph: &'a Graph) -> PhysicalIndex<'a> {
    let mut entries = Vec::with_capacity(live.len() * 4);
    for (id, item, _) in live {
        let f = &item.found;
        entries.push((f.id.as_str(), id, Attr::Id));
        if crate::resources::schema(item.resource_type).tagging == Tagging::None {
            continue;
        }
        if let Some(arn) = &f.arn {
            entries.push((arn.as_str(), id, Attr::Arn));
        }
        if let Some(dns) = f.attrs.get("dns_name") {
            entries.push((dns.as_str(), id, Attr::DnsName));
        }
        if let Some(r) = graph.get(id.as_str()) {
            entries.push((r.name.as_str(), id, Attr::Name));
        }
    }
    PhysicalIndex::new(entries)
}

/// Whether the live properties `found` are the desired ones with every reference
/// resolved through `physical`, compared field by field ([`Resolves`]). A `false` only
/// means taking the longer way ([`in_graph_terms`]).
fn unchanged<'a>(desired: &Properties, found: &Properties, physical: impl Fn(&str, Attr) -> Option<&'a str>) -> bool {
    desired.resolves_to(found, &physical)
}

/// The live properties `found` of `id` with the physical values the desired properties
/// hold as references replaced by those references, and the declared-only fields of the
/// desired ones.
fn in_graph_terms(
    id: &LogicalId,
    t: ResourceType,
    found: &Properties,
    graph: &Graph,
    index: &PhysicalIndex<'_>,
) -> Properties {
    let template = graph.get(id.as_str()).and_then(|r| serde_json::to_value(&*r.properties).ok());
    let mut json = serde_json::to_value(found).unwrap_or_default();
    to_refs(&mut json, template.as_ref(), index);
    // Mapping only swaps strings for references where the graph has references, so the
    // shape stays valid; keep AWS's form if it ever does not.
    let mut properties = Properties::from_json(t, json).unwrap_or_else(|_| found.clone());
    if let Some(desired) = graph.get(id.as_str()) {
        crate::resources::declared(&mut properties, &desired.properties);
    }
    properties
}

/// Replaces physical values in `value` by references to the stack's resources, at the
/// places where the desired `template` has a reference: a literal field that happens to
/// hold a name (a log group's own name) stays a literal. A value that belongs to the
/// resource the template names takes the template's attribute (a cluster ARN where a
/// name is declared); one that belongs to another resource becomes a reference to it,
/// so diff reports the difference in logical terms.
fn to_refs(value: &mut serde_json::Value, template: Option<&serde_json::Value>, index: &PhysicalIndex<'_>) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let Some(wanted) =
                template.filter(|t| t.get("ref").is_some()).and_then(|t| serde_json::from_value::<Ref>(t.clone()).ok())
            else {
                return;
            };
            let candidates: Vec<(&LogicalId, Attr)> = index.get(s).collect();
            let of = |(id, attr): &(&LogicalId, Attr)| Ref { id: (*id).clone(), attr: *attr };
            let chosen = candidates
                .iter()
                .find(|(id, _)| **id == wanted.id)
                .map(|_| wanted.clone())
                // Another resource's: by the template's attribute where it has one.
                .or_else(|| candidates.iter().find(|(_, attr)| *attr == wanted.attr).map(of))
                .or_else(|| candidates.first().map(of));
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
    use crate::aws::{Filter, Found, Tags};

    fn index() -> PhysicalIndex<'static> {
        // What the index borrows lives as long as the test process.
        let r = |value: &'static str, id: &str, attr: Attr| -> (&'static str, &'static LogicalId, Attr) {
            (value, Box::leak(Box::new(LogicalId::new(id))), attr)
        };
        PhysicalIndex::new(vec![
            r("vpc-1", "vpc", Attr::Id),
            r("subnet-a", "subnet/public/0", Attr::Id),
            r("subnet-b", "subnet/public/1", Attr::Id),
            r("arn:aws:ecs:us-west-2:1:cluster/shop", "cluster", Attr::Arn),
            r("shop", "cluster", Attr::Name),
            r("shop", "cluster", Attr::Id),
            r("shop-lb-1.elb.amazonaws.com", "load-balancer", Attr::DnsName),
            r("shop-instance", "role/instance", Attr::Name),
            r("shop-instance", "instance-profile", Attr::Name),
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
        ec2.expect_list_launch_templates().returning(|_| Ok(vec![]));
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
            scaling: std::sync::Arc::new(crate::aws::MockScalingApi::new()),
            tagging: std::sync::Arc::new(crate::aws::MockTaggingApi::new()),
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

    /// Taking the declaration for what AWS has exactly as declared gives what mapping
    /// AWS's values to the graph's terms gives, on stacks of every feature, untouched
    /// and after changes made outside ecs-kit.
    #[tokio::test(start_paused = true)]
    async fn the_declaration_taken_for_what_aws_has_as_declared_is_what_mapping_gives() {
        use crate::dsl::{Deployment, LoadBalancer};
        let cert = "arn:aws:acm:us-west-2:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
        let stacks = [
            crate::model::seed(),
            crate::model::seed()
                .with_load_balancer(|_| LoadBalancer::public().https(cert))
                .with_service("test", "products", |s| s.host("api.example.com").fargate().autoscale(2, 6))
                .with_service("test", "product-web", |s| {
                    s.deployment(Deployment::canary(10.0, std::time::Duration::from_secs(300)))
                }),
        ];
        for declared in stacks {
            let stack = declared.build().unwrap();
            let graph = Graph::from_stack(&stack).unwrap();
            let cloud = crate::testing::FakeCloud::new("us-west-2");
            let clients = cloud.clients();
            let applied = crate::apply::apply(&stack, &clients, Default::default(), None, &()).await.unwrap();
            assert!(applied.report.succeeded(), "{:?}", applied.report);
            let taken = observe_taking(&stack, &graph, &clients, true, TagSource::Index).await.unwrap().0;
            let mapped = observe_taking(&stack, &graph, &clients, false, TagSource::Index).await.unwrap().0;
            assert_eq!(taken, mapped);
            let same = |id: &str| taken.get(id).is_some_and(|r| graph.get(id).unwrap().properties == r.properties);
            for id in ["service/products", "task-definition/products", "role/task/products", "access-point/products"] {
                assert!(same(id), "{id} reads back as declared");
            }

            // Changed outside ecs-kit: a role's policy and a service's count.
            let role = graph.get("role/task/products").unwrap();
            clients
                .iam
                .put_role_policy(
                    role.name.clone(),
                    "extra".into(),
                    serde_json::json!({"Version": "2012-10-17", "Statement": []}),
                )
                .await
                .unwrap();
            let update = crate::aws::ServiceUpdate {
                cluster: stack.name.clone(),
                service: "product-web".into(),
                desired_count: Some(7),
                ..crate::aws::ServiceUpdate::default()
            };
            clients.ecs.update_service(update).await.unwrap();
            let taken = observe_taking(&stack, &graph, &clients, true, TagSource::Index).await.unwrap().0;
            let mapped = observe_taking(&stack, &graph, &clients, false, TagSource::Index).await.unwrap().0;
            assert_eq!(taken, mapped);
            let same = |id: &str| taken.get(id).is_some_and(|r| graph.get(id).unwrap().properties == r.properties);
            assert!(!same("role/task/products") && !same("service/product-web"));
        }
    }

    /// The live view is sorted by logical id, objects the stack no longer declares (ids
    /// the graph lacks) included, wherever their ids fall among the declared ones.
    #[tokio::test(start_paused = true)]
    async fn live_objects_are_in_id_order_with_leftovers_among_declared_ones() {
        let worker = |name: &str| crate::dsl::Service::new(name, "nginx:1.25", 8080).count(1).memory(64).cpu(16);
        let with =
            |names: &[&str]| names.iter().fold(crate::model::seed(), |b, n| b.service(worker(n))).build().unwrap();
        let cloud = crate::testing::FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let before = with(&["a1", "c3", "e5"]);
        let applied = crate::apply::apply(&before, &clients, Default::default(), None, &()).await.unwrap();
        assert!(applied.report.succeeded(), "{:?}", applied.report);
        let after = with(&["b2", "d4"]);
        let live = observe(&after, &clients).await.unwrap();
        let ids: Vec<&str> = live.resources.iter().map(|r| r.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
        let graph = Graph::from_stack(&after).unwrap();
        assert!(ids.contains(&"service/c3") && graph.get("service/c3").is_none(), "a leftover is read");
        assert!(ids.contains(&"service/product-web") && ids.contains(&"log-group/a1"));
        assert!(live.get("service/e5").is_some(), "a leftover is found by its id");
    }

    /// The load balancer's tags come late too: without the stack's, it is a conflict.
    #[tokio::test(start_paused = true)]
    async fn a_load_balancer_without_the_stack_tag_is_a_conflict_once_its_tags_are_read() {
        let stack = crate::model::seed().build().unwrap();
        let cloud = crate::testing::FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let applied = crate::apply::apply(&stack, &clients, Default::default(), None, &()).await.unwrap();
        assert!(applied.report.succeeded(), "{:?}", applied.report);
        let lb = observe(&stack, &clients).await.unwrap().get("load-balancer").unwrap().aws_id.clone();
        // Someone takes it over: the name is theirs now.
        clients.elb.remove_tags(vec![lb.clone()], vec![STACK_TAG.into()]).await.unwrap();
        let live = observe(&stack, &clients).await.unwrap();
        assert!(live.get("load-balancer").is_none(), "never claimed");
        let conflicts: Vec<&str> = live.conflicts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(conflicts, ["load-balancer"]);
        let plan = crate::plan::plan(&stack, &clients).await.unwrap();
        assert_eq!(plan.conflicts.len(), 1, "{}", plan.render());
        // Tagged again: ours, with one DescribeTags for it and the other ELB objects.
        clients.elb.add_tags(vec![lb], Tags::from([(STACK_TAG.into(), stack.name.clone())])).await.unwrap();
        clients.calls.reset();
        let live = observe(&stack, &clients).await.unwrap();
        assert!(live.conflicts.is_empty(), "{:?}", live.conflicts);
        assert!(live.get("load-balancer").is_some());
        let tags: u64 =
            clients.calls.snapshot().iter().filter(|c| c.operation == "DescribeTags").map(|c| c.calls).sum();
        assert_eq!(tags, 1);
    }

    /// A target group holding a declared group's name is the stack's only with its tag,
    /// which comes late (with the listeners' and rules'): without it, a conflict.
    #[tokio::test(start_paused = true)]
    async fn a_foreign_target_group_with_a_declared_name_is_a_conflict_once_its_tags_are_read() {
        let stack = crate::model::seed().build().unwrap();
        let graph = Graph::from_stack(&stack).unwrap();
        let cloud = crate::testing::FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let applied = crate::apply::apply(&stack, &clients, Default::default(), None, &()).await.unwrap();
        assert!(applied.report.succeeded(), "{:?}", applied.report);
        // Its own target group gone, someone else's under the same name.
        let live = observe(&stack, &clients).await.unwrap();
        let ours = live.get("target-group/products").unwrap();
        let crate::graph::Properties::TargetGroup(props) = ours.properties.as_ref().clone() else { panic!() };
        let service = crate::aws::ServiceUpdate {
            cluster: stack.name.clone(),
            service: "products".into(),
            load_balancers: Some(vec![]),
            ..crate::aws::ServiceUpdate::default()
        };
        clients.ecs.update_service(service).await.unwrap();
        let rule = live.get("listener-rule/products").unwrap().aws_id.clone();
        clients.elb.delete_rule(rule).await.unwrap();
        clients.elb.delete_target_group(ours.aws_id.clone()).await.unwrap();
        let vpc = live.get("vpc").unwrap().aws_id.clone();
        let foreign = crate::graph::props::TargetGroupProps { vpc_id: crate::graph::RefOr::Value(vpc), ..props };
        clients.elb.create_target_group(foreign, Tags::from([("owner".into(), "someone".into())])).await.unwrap();

        let live = observe(&stack, &clients).await.unwrap();
        assert!(live.get("target-group/products").is_none(), "never claimed");
        let conflicts: Vec<&str> = live.conflicts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(conflicts, ["target-group/products"]);
        let name = &graph.get("target-group/products").unwrap().name;
        assert!(live.conflicts[0].reason.contains(&format!("`{name}`")), "{}", live.conflicts[0].reason);
        // Ours again (tagged as the stack tags it): no conflict.
        let foreign = live.conflicts[0].name.clone();
        let found = clients.elb.describe_target_groups(vec![foreign]).await.unwrap();
        let tags = graph.get("target-group/products").unwrap().tags.clone();
        clients.elb.add_tags(vec![found[0].id.clone()], tags).await.unwrap();
        let live = observe(&stack, &clients).await.unwrap();
        assert!(live.conflicts.is_empty(), "{:?}", live.conflicts);
        assert!(live.get("target-group/products").is_some());
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

    /// The fake's CloudWatch Logs, counting the `ListTagsForResource` calls in flight.
    struct InFlight {
        inner: Clients,
        now: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl crate::aws::LogsApi for InFlight {
        async fn describe_log_groups(
            &self,
            prefix: String,
        ) -> crate::aws::AwsResult<Vec<Found<crate::graph::props::LogGroupProps>>> {
            self.inner.logs.describe_log_groups(prefix).await
        }
        async fn list_tags(&self, arn: String) -> crate::aws::AwsResult<Tags> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.now.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(now, SeqCst);
            let tags = self.inner.logs.list_tags(arn).await;
            self.now.fetch_sub(1, SeqCst);
            tags
        }
        async fn create_log_group(&self, name: String, tags: Tags) -> crate::aws::AwsResult<()> {
            self.inner.logs.create_log_group(name, tags).await
        }
        async fn put_retention_policy(&self, name: String, days: u32) -> crate::aws::AwsResult<()> {
            self.inner.logs.put_retention_policy(name, days).await
        }
        async fn delete_log_group(&self, name: String) -> crate::aws::AwsResult<()> {
            self.inner.logs.delete_log_group(name).await
        }
        async fn tag_resource(&self, arn: String, tags: Tags) -> crate::aws::AwsResult<()> {
            self.inner.logs.tag_resource(arn, tags).await
        }
        async fn untag_resource(&self, arn: String, keys: Vec<String>) -> crate::aws::AwsResult<()> {
            self.inner.logs.untag_resource(arn, keys).await
        }
        async fn filter_log_events(
            &self,
            group: String,
            start_ms: Option<i64>,
            pattern: Option<String>,
            next_token: Option<String>,
        ) -> crate::aws::AwsResult<crate::aws::LogPage> {
            self.inner.logs.filter_log_events(group, start_ms, pattern, next_token).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn log_groups_tags_are_read_a_few_at_a_time() {
        let cloud = crate::testing::FakeCloud::new("us-west-2");
        cloud.set_latency(std::time::Duration::from_millis(50));
        let fake = cloud.clients();
        let mut arns = Vec::new();
        for i in 0..12 {
            let name = format!("/ecs/s/{i}");
            fake.logs.create_log_group(name.clone(), owned_tags(&format!("log-group/{i}"))).await.unwrap();
            arns.push((Tagging::Logs, format!("arn:aws:logs:us-west-2:{}:log-group:{name}", crate::testing::ACCOUNT)));
        }
        let logs = std::sync::Arc::new(InFlight { inner: fake.clone(), now: 0.into(), most: 0.into() });
        let clients = Clients { logs: logs.clone(), ..fake };
        let tags = direct_tags(&clients, arns).await.unwrap();
        assert_eq!(tags.len(), 12);
        assert!(tags.values().all(|t| t.as_ref().and_then(|t| t.get(STACK_TAG)).is_some()), "{tags:?}");
        assert_eq!(logs.most.load(std::sync::atomic::Ordering::SeqCst), TAG_READS_AT_ONCE);
    }
}
