//! The moto server harness and the tests that use it.

mod cli;
mod create;
mod fargate;
mod harness;
mod https;
mod lock;
mod observe;
mod ops;
mod plan;
mod security;
mod strategies;
mod update;
