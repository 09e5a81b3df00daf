//! ECS: the cluster, its capacity provider, and each service with its task definition.

pub(crate) mod capacity_provider;
pub(crate) mod cluster;
pub(crate) mod service;
pub(crate) mod task_definition;
