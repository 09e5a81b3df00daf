//! Creates a stack resource by resource straight through the adapters, in dependency
//! order, resolving references as it goes: the ground truth that observe must read back.

use std::time::Duration;

use ecs_kit::apply::{create_resource, Known, Waits};
use ecs_kit::aws::Clients;
use ecs_kit::graph::Graph;

/// Creates every resource of `graph` through `clients`, one at a time.
pub async fn create_all(graph: &Graph, clients: &Clients) -> Known {
    let mut known = Known::new();
    let zones = clients.ec2.describe_availability_zones().await.expect("zones");
    let waits = Waits { every: Duration::from_millis(100), timeout: Duration::from_secs(30) };
    for resource in graph.resources() {
        let physical = create_resource(resource, &graph.stack, &known, clients, &zones, waits)
            .await
            .unwrap_or_else(|e| panic!("create {}: {e}", resource.id));
        known.insert(resource.id.clone(), physical);
    }
    known
}
