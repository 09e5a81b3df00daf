//! Resource Groups Tagging API adapter.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_resourcegroupstagging::types::TagFilter;
use aws_sdk_resourcegroupstagging::Client;

use super::err;
use crate::aws::{AwsResult, TaggingApi, Tags};

const SERVICE: &str = "tagging";
/// The most `GetResources` returns a page.
const RESOURCES_PER_PAGE: i32 = 100;

/// [`TaggingApi`] over `aws-sdk-resourcegroupstagging`.
#[derive(Debug, Clone)]
pub struct TaggingSdk {
    client: Client,
}

impl TaggingSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        TaggingSdk { client }
    }
}

#[async_trait]
impl TaggingApi for TaggingSdk {
    async fn get_resources(&self, key: String, value: String, types: Vec<String>) -> AwsResult<BTreeMap<String, Tags>> {
        let mappings: Vec<_> = self
            .client
            .get_resources()
            .tag_filters(TagFilter::builder().key(key).values(value).build())
            .set_resource_type_filters(Some(types))
            .resources_per_page(RESOURCES_PER_PAGE)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "GetResources"))?;
        Ok(mappings
            .into_iter()
            .filter_map(|m| {
                let tags = m.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
                Some((m.resource_arn?, tags))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
    use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    use super::*;

    fn mapping(arn: &str, id: &str) -> ResourceTagMapping {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
        ResourceTagMapping::builder()
            .resource_arn(arn)
            .tags(tag("ecs-kit:stack", "s"))
            .tags(tag("ecs-kit:id", id))
            .build()
    }

    #[tokio::test]
    async fn get_resources_filters_by_the_tag_and_follows_pages() {
        let pages = mock!(Client::get_resources)
            .match_requests(|r| {
                let filter = &r.tag_filters()[0];
                filter.key() == Some("ecs-kit:stack")
                    && filter.values() == ["s"]
                    && r.resource_type_filters() == ["elasticloadbalancing", "logs"]
                    && r.resources_per_page() == Some(100)
            })
            .sequence()
            .output(|| {
                GetResourcesOutput::builder()
                    .resource_tag_mapping_list(mapping("arn:aws:logs:us-west-2:1:log-group:/ecs/s/a", "log-group/a"))
                    .pagination_token("t")
                    .build()
            })
            .output(|| {
                GetResourcesOutput::builder()
                    .resource_tag_mapping_list(mapping("arn:aws:elasticloadbalancing:tg", "target-group/a"))
                    .pagination_token("")
                    .build()
            })
            .build();
        let client = mock_client!(aws_sdk_resourcegroupstagging, RuleMode::Sequential, [&pages]);
        let found = TaggingSdk::new(client)
            .get_resources("ecs-kit:stack".into(), "s".into(), vec!["elasticloadbalancing".into(), "logs".into()])
            .await
            .unwrap();
        assert_eq!(pages.num_calls(), 2);
        assert_eq!(found.len(), 2);
        assert_eq!(found["arn:aws:elasticloadbalancing:tg"]["ecs-kit:id"], "target-group/a");
        assert_eq!(found["arn:aws:logs:us-west-2:1:log-group:/ecs/s/a"]["ecs-kit:stack"], "s");
    }
}
