//! The fake's Resource Groups Tagging API, answered from the other services' objects.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{Fake, State};
use crate::aws::{AwsResult, TaggingApi, Tags};

const SERVICE: &str = "tagging";

/// One object in the index: its type (`service:type`), ARN and tags.
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    pub resource_type: &'static str,
    pub arn: String,
    pub tags: Tags,
}

/// The index as the objects are now: the load balancers, target groups and log groups
/// that carry tags (as moto indexes them; AWS may index listeners and rules too).
pub(crate) fn index(s: &State) -> Vec<Indexed> {
    let mut out = Vec::new();
    s.elb.indexed(&mut out);
    s.logs.indexed(&mut out);
    out.retain(|i| !i.tags.is_empty());
    out
}

/// Whether `resource_type` is one of `filters` (a service, or a service and a type).
fn matches(resource_type: &str, filters: &[String]) -> bool {
    let service = resource_type.split(':').next().unwrap_or_default();
    filters.is_empty() || filters.iter().any(|f| f == resource_type || f == service)
}

#[async_trait]
impl TaggingApi for Fake {
    async fn get_resources(&self, key: String, value: String, types: Vec<String>) -> AwsResult<BTreeMap<String, Tags>> {
        let s = self.begin(SERVICE, "GetResources").await?;
        let now;
        let index = match &s.tag_index {
            Some(frozen) => frozen,
            None => {
                now = index(&s);
                &now
            }
        };
        Ok(index
            .iter()
            .filter(|i| matches(i.resource_type, &types) && i.tags.get(&key) == Some(&value))
            .map(|i| (i.arn.clone(), i.tags.clone()))
            .collect())
    }
}
