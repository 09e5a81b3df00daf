//! Application Auto Scaling: a service's task count between bounds (the scalable
//! target) and the target tracking policies that move it. Neither is tagged here (moto
//! has no tagging for them, and policies take no tags): both are owned through the ECS
//! service their resource id (`service/CLUSTER/SERVICE`) names.

pub(crate) mod scalable_target;
pub(crate) mod scaling_policy;

use crate::graph::Properties;
use crate::resources::ReadCx;

/// The resource ids of the stack's services that a target or policy may scale: each
/// owned live service of the stack's cluster, and each declared one (an interrupted
/// destroy may have deleted a service before its target), with the service's ARN where
/// it is live. Only when the stack's own cluster was found.
pub(crate) fn owned_resource_ids(cx: &ReadCx<'_>) -> Vec<(String, Option<String>)> {
    let Some(cluster) = cx.earlier(crate::graph::ResourceType::Cluster).next() else { return Vec::new() };
    let Properties::Cluster(c) = &cluster.props else { return Vec::new() };
    let id = |service: &str| format!("service/{}/{service}", c.cluster_name);
    let mut ids: Vec<(String, Option<String>)> = Vec::new();
    let mut live = std::collections::HashSet::new();
    for s in cx.earlier(crate::graph::ResourceType::EcsService) {
        if let Properties::Service(p) = &s.props {
            live.insert(p.service_name.as_str());
            ids.push((id(&p.service_name), s.arn.clone()));
        }
    }
    for r in cx.desired(crate::graph::ResourceType::EcsService) {
        if !live.contains(r.name.as_str()) {
            ids.push((id(&r.name), None));
        }
    }
    ids
}

/// The service a resource id names (its last segment).
pub(crate) fn service_name(resource_id: &str) -> &str {
    resource_id.rsplit('/').next().unwrap_or(resource_id)
}
