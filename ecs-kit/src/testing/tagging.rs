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

/// Each object of the index as the objects are now (type, ARN, tags): the load
/// balancers, target groups and log groups that carry tags (as moto indexes them; AWS
/// may index listeners and rules too).
fn each_indexed(s: &State, each: &mut dyn FnMut(&'static str, &str, &Tags)) {
    let mut tagged = |t: &'static str, arn: &str, tags: &Tags| {
        if !tags.is_empty() {
            each(t, arn, tags);
        }
    };
    s.elb.indexed(&mut tagged);
    s.logs.indexed(&mut tagged);
}

/// The index as the objects are now, to freeze.
pub(crate) fn index(s: &State) -> Vec<Indexed> {
    let mut out = Vec::new();
    each_indexed(s, &mut |resource_type, arn, tags| {
        out.push(Indexed { resource_type, arn: arn.to_owned(), tags: tags.clone() });
    });
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
        let mut out = BTreeMap::new();
        let mut answer = |t: &str, arn: &str, tags: &Tags| {
            if matches(t, &types) && tags.get(&key) == Some(&value) {
                out.insert(arn.to_owned(), tags.clone());
            }
        };
        match &s.tag_index {
            Some(frozen) => frozen.iter().for_each(|i| answer(i.resource_type, &i.arn, &i.tags)),
            None => each_indexed(&s, &mut answer),
        }
        Ok(out)
    }
}
