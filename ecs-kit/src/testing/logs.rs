//! The fake's CloudWatch Logs (log groups) and SSM (parameters).

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{aws_error, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta};
use crate::aws::{AwsResult, Found, LogEvent, LogPage, LogsApi, SsmApi, Tags};
use crate::graph::props::LogGroupProps;
use crate::graph::ResourceType;

const SERVICE: &str = "logs";

/// The retention periods CloudWatch Logs accepts.
const RETENTIONS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

#[derive(Debug, Clone)]
pub(crate) struct Group {
    arn: String,
    retention: Option<u32>,
    meta: Meta,
    /// Events in the order they were written.
    events: Vec<LogEvent>,
}

/// Log groups by name.
#[derive(Debug, Default)]
pub(crate) struct LogsState {
    groups: BTreeMap<String, Group>,
}

impl LogsState {
    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (name, g) in &self.groups {
            push(out, ResourceType::LogGroup, name, Some(name), None, &g.meta.tags);
        }
    }

    /// The log groups (type, ARN, tags), for the tagging index.
    pub fn indexed(&self, each: &mut dyn FnMut(&'static str, &str, &Tags)) {
        for g in self.groups.values() {
            each("logs:log-group", &g.arn, &g.meta.tags);
        }
    }

    fn by_arn(&mut self, arn: &str) -> Option<&mut Group> {
        self.groups.values_mut().find(|g| g.arn == arn)
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> crate::aws::AwsError {
    aws_error(SERVICE, operation, code, message)
}

fn missing(operation: &str) -> crate::aws::AwsError {
    err(operation, "ResourceNotFoundException", "The specified log group does not exist.")
}

#[async_trait]
impl LogsApi for Fake {
    async fn describe_log_groups(&self, prefix: String) -> AwsResult<Vec<Found<LogGroupProps>>> {
        let mut s = self.begin(SERVICE, "DescribeLogGroups").await?;
        let mut out = Vec::new();
        for (name, g) in &mut s.logs.groups {
            if !name.starts_with(&prefix) || !visible(&mut g.meta) {
                continue;
            }
            let mut f = Found::new(
                name.clone(),
                LogGroupProps { log_group_name: name.clone(), retention_in_days: g.retention.unwrap_or(0) },
            );
            f.arn = Some(g.arn.clone());
            out.push(f);
        }
        Ok(out)
    }

    async fn list_tags(&self, arn: String) -> AwsResult<Tags> {
        const OP: &str = "ListTagsForResource";
        let mut s = self.begin(SERVICE, OP).await?;
        Ok(s.logs.by_arn(&arn).ok_or_else(|| missing(OP))?.meta.tags.clone())
    }

    async fn create_log_group(&self, name: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "CreateLogGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        if name.is_empty() || name.len() > 512 || name.starts_with("aws/") {
            return Err(err(OP, "InvalidParameterException", format!("invalid log group name {name}")));
        }
        if s.logs.groups.contains_key(&name) {
            return Err(err(OP, "ResourceAlreadyExistsException", "The specified log group already exists"));
        }
        let arn = self.arn("logs", &format!("log-group:{name}"));
        let meta = s.meta(OP, tags);
        s.logs.groups.insert(name, Group { arn, retention: None, meta, events: Vec::new() });
        Ok(())
    }

    async fn put_retention_policy(&self, name: String, days: u32) -> AwsResult<()> {
        const OP: &str = "PutRetentionPolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        if !RETENTIONS.contains(&days) {
            return Err(err(OP, "InvalidParameterException", format!("{days} is not a valid retention in days")));
        }
        s.logs.groups.get_mut(&name).ok_or_else(|| missing(OP))?.retention = Some(days);
        Ok(())
    }

    async fn delete_log_group(&self, name: String) -> AwsResult<()> {
        const OP: &str = "DeleteLogGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        s.logs.groups.remove(&name).ok_or_else(|| missing(OP))?;
        Ok(())
    }

    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagResource";
        let mut s = self.begin(SERVICE, OP).await?;
        merge_tags(&mut s.logs.by_arn(&arn).ok_or_else(|| missing(OP))?.meta.tags, tags);
        Ok(())
    }

    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "UntagResource";
        let mut s = self.begin(SERVICE, OP).await?;
        remove_tags(&mut s.logs.by_arn(&arn).ok_or_else(|| missing(OP))?.meta.tags, &keys);
        Ok(())
    }

    /// Pages of [`LOG_PAGE`] events; a filter matches lines containing every one of
    /// its terms (a quoted term as a whole).
    async fn filter_log_events(
        &self,
        group: String,
        start_ms: Option<i64>,
        pattern: Option<String>,
        next_token: Option<String>,
    ) -> AwsResult<LogPage> {
        const OP: &str = "FilterLogEvents";
        let s = self.begin(SERVICE, OP).await?;
        let g = s.logs.groups.get(&group).ok_or_else(|| missing(OP))?;
        let terms = pattern.as_deref().map(terms).unwrap_or_default();
        let mut events: Vec<&LogEvent> = g
            .events
            .iter()
            .filter(|e| start_ms.is_none_or(|t| e.timestamp_ms >= t))
            .filter(|e| terms.iter().all(|t| e.message.contains(t.as_str())))
            .collect();
        events.sort_by_key(|e| e.timestamp_ms);
        let skip: usize = next_token
            .as_deref()
            .map_or(Ok(0), str::parse)
            .map_err(|_| err(OP, "InvalidParameterException", "The specified nextToken is invalid."))?;
        let page: Vec<LogEvent> = events.iter().skip(skip).take(LOG_PAGE).map(|e| (*e).clone()).collect();
        let next = (skip + page.len() < events.len()).then(|| (skip + page.len()).to_string());
        Ok(LogPage { events: page, next_token: next })
    }
}

/// Events per page of the fake's FilterLogEvents (AWS: up to 10,000 or 1 MB).
pub(crate) const LOG_PAGE: usize = 50;

/// The terms of a filter pattern: words, or phrases in double quotes.
fn terms(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in pattern.split('"').enumerate() {
        if i % 2 == 1 {
            out.push(part.to_owned());
        } else {
            out.extend(part.split_whitespace().map(str::to_owned));
        }
    }
    out.retain(|t| !t.is_empty());
    out
}

impl LogsState {
    /// Appends a line to `stream` of `group` at `timestamp_ms`, as a task's log driver
    /// does; `false` when the group does not exist.
    pub fn put(&mut self, group: &str, stream: &str, timestamp_ms: i64, message: &str, serial: u64) -> bool {
        let Some(g) = self.groups.get_mut(group) else { return false };
        g.events.push(LogEvent {
            id: format!("{serial:056}"),
            timestamp_ms,
            stream: stream.to_owned(),
            message: message.to_owned(),
        });
        true
    }
}

#[async_trait]
impl SsmApi for Fake {
    async fn get_parameter(&self, name: String) -> AwsResult<Option<String>> {
        let s = self.begin("ssm", "GetParameter").await?;
        Ok(s.parameters.get(&name).cloned())
    }

    async fn put_parameter(&self, name: String, value: String, overwrite: bool) -> AwsResult<()> {
        let mut s = self.begin("ssm", "PutParameter").await?;
        if value.is_empty() {
            return Err(aws_error("ssm", "PutParameter", "ValidationException", "Value must not be empty."));
        }
        if !overwrite && s.parameters.contains_key(&name) {
            return Err(aws_error(
                "ssm",
                "PutParameter",
                "ParameterAlreadyExists",
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            ));
        }
        s.parameters.insert(name, value);
        Ok(())
    }

    async fn delete_parameter(&self, name: String) -> AwsResult<bool> {
        let mut s = self.begin("ssm", "DeleteParameter").await?;
        Ok(s.parameters.remove(&name).is_some())
    }
}
