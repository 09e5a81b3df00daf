//! Plans: the changes that would converge AWS to a stack, explained.
//!
//! [`plan`] observes the live stack, diffs it with the desired graph and returns a
//! [`Plan`]: every resource's [`Change`] in dependency order (deletions last, dependents
//! first), a summary, and the conflicts that block an apply. Its human form is
//! [`Plan::render`]; its JSON form (`serde_json::to_string(&plan)`) is the contract other
//! tools read:
//! `{"stack", "changes": [{"id", "type", "action", "reason", "fields": [{"path", "old", "new"}]}], "summary": {"add", "change", "replace", "destroy"}, "conflicts": [...]}`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::aws::{AwsError, Clients};
use crate::diff::{diff, Action, Change, Context};
use crate::graph::{Graph, GraphError};
use crate::model::{AmiPolicy, Stack, Zones};
use crate::observe::{Conflict, ObserveError};

/// Counts of a plan's changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Resources to create.
    pub add: usize,
    /// Resources to update in place.
    pub change: usize,
    /// Resources to replace.
    pub replace: usize,
    /// Resources to delete.
    pub destroy: usize,
}

/// The changes that would converge AWS to a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Stack name.
    pub stack: String,
    /// One change per resource, no-ops included, in execution order.
    pub changes: Vec<Change>,
    /// Counts.
    pub summary: Summary,
    /// Foreign resources holding names the stack needs: an apply would fail.
    pub conflicts: Vec<Conflict>,
    /// SHA-256 of the live resources the plan was computed from (ids, AWS ids, tags and
    /// stable attributes; see [`digest`]): apply refuses an approved or saved plan when
    /// the fresh one's differs. Empty for a plan made without reading AWS.
    pub live_digest: String,
    /// Values kept as they are live because someone else owns them (an image a
    /// pipeline deploys), with why; absent from JSON when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Kept>,
}

/// A value the plan keeps as it is live, because the declaration hands it to someone
/// else (a pipeline's image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kept {
    /// The resource.
    pub id: crate::graph::LogicalId,
    /// The field (`image`).
    pub field: String,
    /// The value kept.
    pub value: String,
    /// Why, and what to do to change it.
    pub reason: String,
}

impl Plan {
    /// A plan of `changes`, counted.
    #[must_use]
    pub fn new(stack: String, changes: Vec<Change>, conflicts: Vec<Conflict>) -> Plan {
        let mut summary = Summary::default();
        for c in &changes {
            match c.action {
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete => summary.destroy += 1,
                Action::NoOp => {}
            }
        }
        Plan { stack, changes, summary, conflicts, live_digest: String::new(), kept: Vec::new() }
    }

    /// Whether applying would change anything.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Changes that destroy data (the file system or log groups replaced or deleted):
    /// applying them needs `--delete-data`.
    pub fn data_loss(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| {
            crate::resources::schema(c.resource_type).holds_data && matches!(c.action, Action::Replace | Action::Delete)
        })
    }

    /// The human form: one line per change with its glyph, id, type and reason, the
    /// changed fields as `old -> new`, and the summary line.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let changes: Vec<&Change> = self.changes.iter().filter(|c| c.action != Action::NoOp).collect();
        if changes.is_empty() {
            let _ = writeln!(out, "No changes: stack {} matches its declaration.", self.stack);
        } else {
            let _ = writeln!(out, "Stack {}:\n", self.stack);
        }
        for c in changes {
            let line =
                format!("{:>3} {:<30} {:<22} {}", c.action.glyph(), c.id.as_str(), c.resource_type.as_str(), c.reason);
            let _ = writeln!(out, "{}", line.trim_end());
            for f in &c.fields {
                let _ = writeln!(out, "        {}: {} -> {}", f.path, short(&f.old), short(&f.new));
            }
        }
        for k in &self.kept {
            let _ = writeln!(out, "{:>3} {:<30} keeps {} {} ({})", "=", k.id.as_str(), k.field, k.value, k.reason);
        }
        for c in &self.conflicts {
            let _ = writeln!(out, "\nconflict: {} ({}): {}", c.id, c.resource_type, c.reason);
        }
        let loss: Vec<String> = self.data_loss().map(|c| c.id.to_string()).collect();
        if !loss.is_empty() {
            let _ = writeln!(out, "\nThis plan destroys data ({}): apply needs --delete-data.", loss.join(", "));
        }
        let s = self.summary;
        let _ = writeln!(
            out,
            "\nPlan: {} to add, {} to change, {} to replace, {} to destroy.",
            s.add, s.change, s.replace, s.destroy
        );
        out
    }
}

/// A JSON value in a plan line: strings bare, references as `(known after apply)`.
fn short(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "(none)".into(),
        serde_json::Value::String(s) => format!("{s:?}"),
        v if v.get("ref").is_some() => format!(
            "(known after apply: {}.{})",
            v["ref"].as_str().unwrap_or_default(),
            v["attr"].as_str().unwrap_or_default()
        ),
        v => v.to_string(),
    }
}

/// Errors of [`plan`].
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Reading the live stack failed.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The stack's graph is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Observes `stack`'s live resources through `clients` and plans the changes that
/// converge them to the declaration.
///
/// # Errors
/// [`PlanError`] when an AWS call fails.
pub async fn plan(stack: &Stack, clients: &Clients) -> Result<Plan, PlanError> {
    Ok(prepare(stack, clients).await?.plan)
}

/// A plan with what it was computed from, for the executor.
pub(crate) struct Prepared {
    /// The desired resources.
    pub graph: Graph,
    /// The live resources.
    pub live: crate::observe::LiveStack,
    /// Zones and AMI resolved in AWS.
    pub context: Context,
    /// The plan.
    pub plan: Plan,
}

/// Observes, resolves the apply-time values the diff needs, and diffs.
///
/// Tags of load balancers, target groups and log groups come from the Resource Groups
/// Tagging API's index, in one call. The index lags behind tag changes, so a plan that
/// changes anything has the tags of every object whose tags came from the index read
/// again from the object's own API: not only those it changes, since a change can act
/// on an object it leaves alone (a rule forwarding to a target group, a service
/// registering tasks in it), and a foreign object holding a declared name must be a
/// conflict that stops the apply. If any differs (a tag changed or removed a moment
/// ago), the stack is observed again reading every tag directly, and planned from that.
/// So nothing is changed, or acted on, on the index's word alone; a plan without
/// changes, which changes nothing, costs the index's one call.
pub(crate) async fn prepare(stack: &Stack, clients: &Clients) -> Result<Prepared, PlanError> {
    use crate::observe::TagSource;
    let (prepared, indexed) = prepare_reading(stack, clients, TagSource::Index).await?;
    if !prepared.plan.has_changes() || crate::observe::confirmed(&prepared.live, &indexed, clients).await? {
        return Ok(prepared);
    }
    tracing::info!("the tagging index is behind a tag change: every tag is read from its own API");
    Ok(prepare_reading(stack, clients, TagSource::Direct).await?.0)
}

/// [`prepare`] with the late tags from `source`; with the ARNs of the objects whose tags
/// came from the index.
async fn prepare_reading(
    stack: &Stack,
    clients: &Clients,
    source: crate::observe::TagSource,
) -> Result<(Prepared, std::collections::BTreeSet<String>), PlanError> {
    let mut graph = Graph::from_stack(stack)?;
    let (live, indexed) = crate::observe::observe_with(stack, &graph, clients, source).await?;
    let kept = crate::resources::keep_pipeline_images(&mut graph, &live, clients).await?;
    let mut context = Context::default();
    // Zones by index are resolved for subnets still to make: one that exists keeps its
    // zone (a change in the region's list of zones never moves a subnet).
    if matches!(stack.network.zones, Zones::Count(_)) && crate::resources::ec2::zones_needed(&graph, &live) {
        context.zones = crate::aws::retry_transient(|| clients.ec2.describe_availability_zones()).await?;
    }
    if stack.cluster.ami == AmiPolicy::Latest {
        let name = &stack.cluster.ami_parameter;
        context.latest_ami = crate::aws::retry_transient(|| clients.ssm.get_parameter(name.clone())).await?;
    }
    let mut plan = Plan::new(stack.name.clone(), diff(&graph, &live, &context), live.conflicts.clone());
    plan.live_digest = digest(&live);
    plan.kept = kept;
    Ok((Prepared { graph, live, context, plan }, indexed))
}

/// Attributes AWS changes on its own while a stack runs (instance and task counts, a
/// capacity provider's last update): not part of what a plan depends on.
const VOLATILE: [&str; 7] = [
    "instances",
    "registered_instances",
    "active_services",
    "running_tasks",
    "update_status",
    "update_status_reason",
    "number_of_mount_targets",
];

/// SHA-256 (hex) of what `live` holds that a plan depends on beyond its changes (the
/// objects' identities, tags and stable attributes), independent of the order in which
/// AWS listed objects and list members. Properties are left out: every difference
/// that matters is in the plan's changes, and what does not (a count an autoscaler
/// owns, the size ECS gives an Auto Scaling group) changes all the time.
#[must_use]
pub fn digest(live: &crate::observe::LiveStack) -> String {
    use sha2::{Digest, Sha256};
    #[derive(Serialize)]
    struct Identity<'a> {
        id: &'a crate::graph::LogicalId,
        #[serde(rename = "type")]
        resource_type: crate::graph::ResourceType,
        aws_id: &'a str,
        tags: &'a crate::aws::Tags,
        attrs: Stable<'a>,
    }
    /// The attributes without the volatile ones, written as the map of them would be.
    struct Stable<'a>(&'a std::collections::BTreeMap<String, String>);
    impl Serialize for Stable<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().filter(|(k, _)| !VOLATILE.contains(&k.as_str())))
        }
    }
    // In a canonical order, whatever order AWS listed them in (ids are unique but for
    // duplicates, which their AWS ids tell apart).
    let mut resources: Vec<&crate::observe::LiveResource> = live.resources.iter().collect();
    resources.sort_by(|a, b| (&a.id, a.resource_type, &a.aws_id).cmp(&(&b.id, b.resource_type, &b.aws_id)));
    let mut conflicts: Vec<&crate::observe::Conflict> = live.conflicts.iter().collect();
    conflicts.sort_by(|a, b| (&a.id, a.resource_type, &a.name).cmp(&(&b.id, b.resource_type, &b.name)));
    let mut hash = Sha256::new();
    // Each object's JSON is written into one buffer and hashed whole: the hash takes
    // a few large updates, not one per JSON token.
    let mut json = Vec::with_capacity(4096);
    for r in resources {
        let identity = Identity {
            id: &r.id,
            resource_type: r.resource_type,
            aws_id: &r.aws_id,
            tags: &r.tags,
            attrs: Stable(&r.attrs),
        };
        json.clear();
        // Serializing these plain types into memory cannot fail.
        let _ = serde_json::to_writer(&mut json, &identity);
        hash.update(&json);
    }
    json.clear();
    let _ = serde_json::to_writer(&mut json, &conflicts);
    hash.update(&json);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Stack {
    /// The plan that would converge AWS to this stack (see [`plan`]).
    ///
    /// # Errors
    /// [`PlanError`] when an AWS call fails.
    pub async fn plan(&self, clients: &Clients) -> Result<Plan, PlanError> {
        plan(self, clients).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::FieldChange;
    use crate::graph::{LogicalId, ResourceType};

    /// The live digest of a small live stack, as every version since saved plans has
    /// written it: a plan saved by one version is checked by the next.
    #[test]
    fn the_live_digest_keeps_its_form() {
        use crate::graph::{props::LogGroupProps, Properties};
        let resource = |id: &str, aws_id: &str, attrs: &[(&str, &str)]| crate::observe::LiveResource {
            id: LogicalId::new(id),
            resource_type: ResourceType::LogGroup,
            aws_id: aws_id.into(),
            arn: None,
            state: None,
            properties: Properties::LogGroup(LogGroupProps { log_group_name: aws_id.into(), retention_in_days: 7 })
                .into(),
            tags: [("ecs-kit:id".to_owned(), id.to_owned()), ("Name".to_owned(), "a \"quoted\" é".to_owned())].into(),
            attrs: attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        let live = crate::observe::LiveStack {
            stack: "shop".into(),
            // Out of order, and with a volatile attribute, which the digest leaves out.
            resources: vec![
                resource("log-group/b", "/ecs/shop/b", &[("running_tasks", "3"), ("z", "1")]),
                resource("log-group/a", "/ecs/shop/a", &[("created", "2026")]),
            ],
            conflicts: vec![crate::resources::conflict("log-group/c", ResourceType::LogGroup, "/ecs/shop/c")],
            services: Default::default(),
        };
        // Computed by the version before the digest was streamed per object.
        assert_eq!(digest(&live), "63bab5ab07ae8099cd1cd66481928ee74d4093633dfff3fd4c097949c8319b98");
    }

    fn change(id: &str, t: ResourceType, action: Action, reason: &str, fields: Vec<FieldChange>) -> Change {
        Change { id: LogicalId::new(id), resource_type: t, action, reason: reason.into(), fields, delete_first: false }
    }

    #[test]
    fn summary_and_human_form() {
        let plan = Plan::new(
            "shop".into(),
            vec![
                change("vpc", ResourceType::Vpc, Action::NoOp, "", vec![]),
                change("log-group/web", ResourceType::LogGroup, Action::Create, "not found in AWS", vec![]),
                change(
                    "task-definition/web",
                    ResourceType::TaskDefinition,
                    Action::Update,
                    "image changed",
                    vec![FieldChange {
                        path: "container_definitions[0].image".into(),
                        old: "web:1".into(),
                        new: "web:2".into(),
                    }],
                ),
                change(
                    "service/web",
                    ResourceType::EcsService,
                    Action::Update,
                    "task definition changed",
                    vec![FieldChange {
                        path: "task_definition".into(),
                        old: "(current)".into(),
                        new: serde_json::json!({"ref": "task-definition/web", "attr": "arn"}),
                    }],
                ),
                change(
                    "target-group/web",
                    ResourceType::TargetGroup,
                    Action::Replace,
                    "port cannot change in place",
                    vec![],
                ),
                change("file-system", ResourceType::FileSystem, Action::Delete, "no longer declared", vec![]),
            ],
            vec![],
        );
        assert_eq!(plan.summary, Summary { add: 1, change: 2, replace: 1, destroy: 1 });
        assert!(plan.has_changes());
        let text = plan.render();
        assert!(text.contains("  + log-group/web "), "{text}");
        assert!(text.contains("  ~ task-definition/web            ecs:task-definition    image changed\n"), "{text}");
        assert!(text.contains("        container_definitions[0].image: \"web:1\" -> \"web:2\"\n"), "{text}");
        assert!(
            text.contains("task_definition: \"(current)\" -> (known after apply: task-definition/web.arn)"),
            "{text}"
        );
        assert!(text.contains("-/+ target-group/web"), "{text}");
        assert!(text.contains("  - file-system"), "{text}");
        assert!(text.contains("apply needs --delete-data"), "{text}");
        assert!(text.ends_with("Plan: 1 to add, 2 to change, 1 to replace, 1 to destroy.\n"), "{text}");
        assert!(!text.contains(" vpc "), "no-ops are not listed: {text}");

        let json: serde_json::Value = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["summary"], serde_json::json!({"add": 1, "change": 2, "replace": 1, "destroy": 1}));
        assert_eq!(
            json["changes"][0],
            serde_json::json!({"id": "vpc", "type": "ec2:vpc", "action": "no-op", "reason": "", "fields": []})
        );
        assert_eq!(
            json["changes"][2]["fields"][0],
            serde_json::json!({"path": "container_definitions[0].image", "old": "web:1", "new": "web:2"})
        );
    }

    #[test]
    fn an_empty_plan_says_so() {
        let plan = Plan::new("shop".into(), vec![change("vpc", ResourceType::Vpc, Action::NoOp, "", vec![])], vec![]);
        assert!(!plan.has_changes());
        assert_eq!(plan.render(), "No changes: stack shop matches its declaration.\n\nPlan: 0 to add, 0 to change, 0 to replace, 0 to destroy.\n");
    }
}
