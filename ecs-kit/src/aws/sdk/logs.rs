//! CloudWatch Logs adapter.

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;

use super::{err, tag_pairs};
use crate::aws::{AwsResult, Found, LogEvent, LogPage, LogsApi, Tags};
use crate::graph::props::LogGroupProps;

const SERVICE: &str = "logs";

/// [`LogsApi`] over `aws-sdk-cloudwatchlogs`.
#[derive(Debug, Clone)]
pub struct LogsSdk {
    client: Client,
}

impl LogsSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        LogsSdk { client }
    }

    /// The ARN tagging calls take: without the `:*` DescribeLogGroups appends.
    fn tagging_arn(arn: &str) -> String {
        arn.strip_suffix(":*").unwrap_or(arn).to_owned()
    }
}

#[async_trait]
impl LogsApi for LogsSdk {
    async fn describe_log_groups(&self, prefix: String) -> AwsResult<Vec<Found<LogGroupProps>>> {
        let groups: Vec<_> = self
            .client
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeLogGroups"))?;
        Ok(groups
            .iter()
            .filter_map(|group| {
                let name = group.log_group_name()?;
                let mut item = Found::new(
                    name,
                    LogGroupProps {
                        log_group_name: name.to_owned(),
                        retention_in_days: group.retention_in_days().and_then(|d| u32::try_from(d).ok()).unwrap_or(0),
                    },
                );
                item.arn = group.log_group_arn().or(group.arn()).map(Self::tagging_arn);
                Some(item)
            })
            .collect())
    }

    async fn list_tags(&self, arn: String) -> AwsResult<Tags> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(err(SERVICE, "ListTagsForResource"))?;
        Ok(out.tags().cloned().unwrap_or_default().into_iter().collect())
    }

    async fn create_log_group(&self, name: String, tags: Tags) -> AwsResult<()> {
        let mut call = self.client.create_log_group().log_group_name(name);
        for (k, v) in tag_pairs(&tags) {
            call = call.tags(k, v);
        }
        call.send().await.map_err(err(SERVICE, "CreateLogGroup"))?;
        Ok(())
    }

    async fn put_retention_policy(&self, name: String, days: u32) -> AwsResult<()> {
        self.client
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(err(SERVICE, "PutRetentionPolicy"))?;
        Ok(())
    }

    async fn delete_log_group(&self, name: String) -> AwsResult<()> {
        self.client.delete_log_group().log_group_name(name).send().await.map_err(err(SERVICE, "DeleteLogGroup"))?;
        Ok(())
    }

    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()> {
        let mut call = self.client.tag_resource().resource_arn(arn);
        for (k, v) in tag_pairs(&tags) {
            call = call.tags(k, v);
        }
        call.send().await.map_err(err(SERVICE, "TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()> {
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(err(SERVICE, "UntagResource"))?;
        Ok(())
    }

    async fn filter_log_events(
        &self,
        group: String,
        start_ms: Option<i64>,
        pattern: Option<String>,
        next_token: Option<String>,
    ) -> AwsResult<LogPage> {
        let out = self
            .client
            .filter_log_events()
            .log_group_name(group)
            .set_start_time(start_ms)
            .set_filter_pattern(pattern)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(err(SERVICE, "FilterLogEvents"))?;
        let mut events: Vec<LogEvent> = out
            .events()
            .iter()
            .map(|e| LogEvent {
                id: e.event_id().unwrap_or_default().to_owned(),
                timestamp_ms: e.timestamp().unwrap_or_default(),
                stream: e.log_stream_name().unwrap_or_default().to_owned(),
                message: e.message().unwrap_or_default().to_owned(),
            })
            .collect();
        events.sort_by_key(|e| e.timestamp_ms);
        Ok(LogPage { events, next_token: out.next_token().map(str::to_owned) })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
    use aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_cloudwatchlogs::types::error::ResourceAlreadyExistsException;
    use aws_sdk_cloudwatchlogs::types::LogGroup;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::ErrorKind;

    fn group(name: &str, retention: Option<i32>) -> LogGroup {
        LogGroup::builder()
            .log_group_name(name)
            .set_retention_in_days(retention)
            .arn(format!("arn:aws:logs:us-west-2:123456789012:log-group:{name}:*"))
            .build()
    }

    #[tokio::test]
    async fn describe_follows_pages_and_tags_are_read_by_arn() {
        let pages = mock!(Client::describe_log_groups)
            .sequence()
            .output(|| {
                DescribeLogGroupsOutput::builder().log_groups(group("/ecs/s/a", Some(30))).next_token("t").build()
            })
            .output(|| DescribeLogGroupsOutput::builder().log_groups(group("/ecs/s/b", None)).build())
            .build();
        let tags = mock!(Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some("arn:aws:logs:us-west-2:123456789012:log-group:/ecs/s/a"))
            .then_output(|| ListTagsForResourceOutput::builder().tags("ecs-kit:stack", "s").build());
        let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&pages, &tags]);
        let logs = LogsSdk::new(client);
        let found = logs.describe_log_groups("/ecs/s/".into()).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].props, LogGroupProps { log_group_name: "/ecs/s/a".into(), retention_in_days: 30 });
        assert!(found[0].tags.is_empty(), "tags are read apart");
        assert_eq!(tags.num_calls(), 0);
        let arn = found[0].arn.clone().unwrap();
        assert_eq!(arn, "arn:aws:logs:us-west-2:123456789012:log-group:/ecs/s/a", "without `:*`");
        assert_eq!(found[1].props.retention_in_days, 0, "no retention policy reads as 0");
        assert_eq!(pages.num_calls(), 2);
        let read = logs.list_tags(arn).await.unwrap();
        assert_eq!(read.get("ecs-kit:stack").map(String::as_str), Some("s"));
        assert_eq!(tags.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_existing_group_is_already_exists() {
        let rule = mock!(Client::create_log_group).then_error(|| {
            CreateLogGroupError::ResourceAlreadyExistsException(
                ResourceAlreadyExistsException::builder()
                    .message("exists")
                    // As the SDK's deserializer fills it from the response.
                    .meta(ErrorMetadata::builder().code("ResourceAlreadyExistsException").message("exists").build())
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_cloudwatchlogs, [&rule]);
        let e = LogsSdk::new(client).create_log_group("/ecs/s/a".into(), Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists);
        assert_eq!(e.code.as_deref(), Some("ResourceAlreadyExistsException"));
        assert_eq!(e.operation, "CreateLogGroup");
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_transient() {
        let rule = mock!(Client::delete_log_group).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(r#"{"__type":"ThrottlingException","message":"slow down"}"#),
            )
        });
        let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&rule], |c| c
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled()));
        let e = LogsSdk::new(client).delete_log_group("/ecs/s/a".into()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Throttled, "{e}");
        assert!(e.kind.is_transient());
    }
}
