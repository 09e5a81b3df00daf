//! # ecs-kit
//!
//! Declare a whole ECS-on-EC2 microservice platform in a small Rust program, and
//! converge AWS to it: a VPC with public and private subnets and NAT gateways, an
//! Application Load Balancer routing each service's path, an ECS cluster on an Auto
//! Scaling group of ECS-optimized instances, encrypted EFS with each container's `/mnt`
//! its own directory, a task role and a log group per service, and rolling deployments.
//!
//! The pipeline, each layer using only the ones before it (the engine, from `observe`
//! on, knows no resource type: it asks the registry of `resources`):
//!
//! | module | what it holds |
//! |---|---|
//! | [`dsl`] | the builders a user writes, and the [`service!`] macro |
//! | [`model`] | the validated [`Stack`]: plain data, every default filled in |
//! | [`graph`] | every desired AWS resource, with stable logical ids and dependencies |
//! | [`aws`] | one mockable async trait per AWS service, and the real SDK adapters |
//! | `resources` | one file per resource type: its schema (what forces a replacement, delete order, data, tagging), normalisation, read, create, update and delete; one registry; internal |
//! | [`observe`] | the live resources a stack owns, in the graph's shape (each type read by its kind) |
//! | [`diff`] | desired versus live: no-op, create, update, replace or delete, per field |
//! | [`plan`] | the ordered, explained changes, in human and JSON form |
//! | [`lock`] | the stack lock held in AWS: one apply or destroy of a stack at a time |
//! | [`walk`] | the executor's core: a DAG of steps run concurrently, with retries |
//! | [`apply`] | executing a plan: the steps and their order; each step is its kind's create, update or delete |
//! | [`destroy`] | deleting what a stack owns in a safe order, keeping data unless asked |
//! | [`status`] | what a deployed stack offers (`outputs`) and how its services are doing |
//! | [`cli`] | the ready-made command line (`synth`, ...) |
//! | [`testing`] | an in-memory fake cloud implementing every AWS trait, for tests |
//!
//! ```
//! use ecs_kit::{service, Cluster, FileSystem, LoadBalancer, Network, Stack};
//!
//! let stack = Stack::builder("mcsv-poc")
//!     .region("us-west-2")
//!     .network(Network::new("10.10.0.0/16").availability_zones(2))
//!     .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5))
//!     .load_balancer(LoadBalancer::public())
//!     .file_system(FileSystem::encrypted())
//!     .service(service! {
//!         name: "product-web", image: "registry.example.com/microservices/product-web:latest",
//!         port: 8000, count: 2, path: "/", health_check: "/",
//!         env: { "DB_HOST" => "db.internal" },
//!     })
//!     .service(service! {
//!         name: "products", image: "registry.example.com/microservices/products:latest",
//!         port: 8001, count: 2, path: "/products",
//!         policies: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
//!     })
//!     .build()?;
//! let graph = ecs_kit::graph::Graph::from_stack(&stack)?;
//! assert!(graph.get("listener-rule/products").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

extern crate self as ecs_kit;

pub mod apply;
pub mod aws;
pub mod cli;
pub mod destroy;
pub mod diff;
pub mod dsl;
pub mod graph;
pub mod lock;
pub mod logs;
pub mod model;
pub mod observe;
pub mod plan;
pub(crate) mod resources;
pub mod rollback;
pub mod status;
pub mod testing;
pub mod verify;
pub mod walk;

/// A hash map with a fast hash, for the maps of ids and physical values a plan builds
/// (looked up, never iterated into output).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

pub use dsl::{
    AmiPolicy, Autoscaling, Capacity, CircuitBreaker, Cluster, Deployment, DesiredCount, FileSystem, HealthCheck,
    LifecycleHook, LoadBalancer, NatGateways, Network, ScalingMetric, Scheme, Secret, Service, StackBuilder,
    TestListener, ThroughputMode,
};
pub use ecs_kit_macros::service;
pub use graph::props::HookStage;
pub use model::{Stack, ValidationError, ValidationErrors, Warning};

/// The README's examples, compiled and run as doc tests.
/// Tests across the layers: bad input refused before AWS, security defaults.
#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
