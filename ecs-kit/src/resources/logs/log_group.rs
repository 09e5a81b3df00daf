//! `logs:log-group`: data, kept unless `--delete-data`.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::ErrorKind;
use crate::graph::props::LogGroupProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct LogGroup;

#[async_trait]
impl Kind for LogGroup {
    type Props = LogGroupProps;
    const SCHEMA: Schema = Schema {
        replace_on: &["log_group_name"],
        holds_data: true,
        // Tags in one call with the load balancer's (the tagging index), or one
        // ListTagsForResource each.
        late_tags: true,
        ..Schema::new(Tagging::Logs, 10)
    };

    fn summary(p: &LogGroupProps) -> String {
        format!("{} days", p.retention_in_days)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<LogGroupProps>, AwsError> {
        // Under the stack's prefix. Tags come late: which are ours, and which hold a
        // declared group's name without being ours, is decided then.
        let found = cx.clients.logs.describe_log_groups(format!("/ecs/{}/", cx.stack.name)).await?;
        Ok(cx.claiming(ResourceType::LogGroup, found, |g| Some(g.props.log_group_name.as_str())))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: LogGroupProps) -> Result<Physical, StepError> {
        let logs = &cx.clients.logs;
        let group = p.log_group_name.clone();
        match logs.create_log_group(group.clone(), r.tags.clone()).await {
            // A retry after a lost answer; the group is ours only if it carries the tags.
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                let found = logs.describe_log_groups(group.clone()).await.map_err(step_error)?;
                let ours = match found.into_iter().find(|g| g.id == group) {
                    Some(g) => {
                        let tags = logs.list_tags(g.arn.unwrap_or_default()).await.map_err(step_error)?;
                        tags.get(crate::model::STACK_TAG).map(String::as_str) == Some(cx.stack)
                    }
                    None => false,
                };
                if !ours {
                    return Err(StepError::Fatal(format!("log group {group} exists and is not this stack's")));
                }
            }
            other => other.map_err(step_error)?,
        }
        logs.put_retention_policy(group.clone(), p.retention_in_days).await.map_err(step_error)?;
        Ok(Physical { id: group.clone(), arn: None, name: Some(group), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: LogGroupProps,
        h: LogGroupProps,
    ) -> Result<Option<Physical>, StepError> {
        if w.retention_in_days != h.retention_in_days {
            cx.clients.logs.put_retention_policy(w.log_group_name, w.retention_in_days).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: LogGroupProps) -> Result<(), StepError> {
        gone_ok(cx.clients.logs.delete_log_group(p.log_group_name).await)
    }
}
