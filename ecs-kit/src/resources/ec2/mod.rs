//! EC2: the network and the instances' launch template.

pub(crate) mod eip;
pub(crate) mod internet_gateway;
pub(crate) mod launch_template;
pub(crate) mod nat_gateway;
pub(crate) mod route_table;
pub(crate) mod security_group;
pub(crate) mod subnet;
pub(crate) mod vpc;

/// Whether a desired subnet with its zone given by index is not live yet: only then do
/// zones by index need the region's list of zones (a live subnet keeps its zone).
pub(crate) fn zones_needed(graph: &crate::graph::Graph, live: &crate::observe::LiveStack) -> bool {
    use crate::graph::props::{AvailabilityZone, Properties};
    graph.resources().iter().any(|r| {
        matches!(
            &*r.properties,
            Properties::Subnet(p) if matches!(p.availability_zone, AvailabilityZone::Index { .. })
        ) && live.get(r.id.as_str()).is_none()
    })
}
