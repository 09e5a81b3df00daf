//! Deployment strategies against moto, which has none (it never schedules tasks nor
//! shifts traffic): a stack declaring one applies, converges and rolls out an image,
//! moto keeping what it is sent; the fake cloud carries the strategies' behaviour.

use std::time::Duration;

use ecs_kit::Deployment;

use super::harness::unique_stack;
use super::plan::{run, seed};

#[test]
fn a_blue_green_service_applies_converges_and_rolls_out_an_image() {
    let name = unique_stack("bluegreen");
    let stack = |image: &str| {
        seed(&name, image).with_service("test", "products", |s| {
            s.deployment(Deployment::blue_green(Duration::from_secs(5 * 60))).rollback_alarm("products-5xx")
        })
    };
    let first = "registry.example.com/microservices/products:1.0";
    let (code, out, err) = run(&["apply", "--auto-approve"], stack(first));
    assert_eq!(code, 0, "{out}{err}");
    // The alternate target group and ECS's role besides the example's 41.
    assert!(out.contains("Plan: 43 to add, 0 to change, 0 to replace, 0 to destroy."), "{out}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], stack(first));
    assert_eq!(code, 0, "an apply must leave nothing to change:\n{out}{err}");

    let second = "registry.example.com/microservices/products:2.0";
    let (code, out, err) = run(&["apply", "--auto-approve"], stack(second));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{out}");
    let (code, out, _) = run(&["plan", "--detailed-exitcode"], stack(second));
    assert_eq!(code, 0, "{out}");
}
