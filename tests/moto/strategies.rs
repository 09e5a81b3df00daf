//! Deployment strategies against moto, which has none (it never schedules tasks nor
//! shifts traffic): a stack declaring one applies, converges and rolls out an image,
//! moto keeping what it is sent; the fake cloud carries the strategies' behaviour.

use std::time::Duration;

use ecs_kit::graph::props::RefOr;
use ecs_kit::{Deployment, HookStage, LifecycleHook, StackBuilder, TestListener};

use super::harness::{clients, unique_stack};
use super::plan::{run, seed};

#[test]
fn a_blue_green_service_applies_converges_and_rolls_out_an_image() {
    let name = unique_stack("bluegreen");
    let stack = |image: &str| {
        seed(&name, image).with_service("test", "products", |s| {
            s.deployment(Deployment::blue_green(Duration::from_secs(5 * 60))).rollback_alarm("products-5xx")
        })
    };
    // The alternate target group and ECS's role besides the example's 41.
    applies_and_converges(&stack, FIRST, 43);
    rolls_out(&stack, SECOND);
}

const FIRST: &str = "registry.example.com/microservices/products:1.0";
const SECOND: &str = "registry.example.com/microservices/products:2.0";

/// `stack(image)` applies from nothing, `adds` resources, and then plans no change.
fn applies_and_converges(stack: &dyn Fn(&str) -> StackBuilder, image: &str, adds: usize) {
    let (code, out, err) = run(&["apply", "--auto-approve"], stack(image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("Plan: {adds} to add, 0 to change, 0 to replace, 0 to destroy.")), "{out}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], stack(image));
    assert_eq!(code, 0, "an apply must leave nothing to change:\n{out}{err}");
}

/// `stack(image)` rolls out the new image (a new revision and the service), then plans no change.
fn rolls_out(stack: &dyn Fn(&str) -> StackBuilder, image: &str) {
    let (code, out, err) = run(&["apply", "--auto-approve"], stack(image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{out}");
    let (code, out, _) = run(&["plan", "--detailed-exitcode"], stack(image));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_test_listener_and_a_lifecycle_hook_apply_converge_and_roll_out() {
    let name = unique_stack("hooks");
    let smoke = "arn:aws:lambda:us-west-2:123456789012:function:shop-smoke-tests";
    let stack = |image: &str| {
        seed(&name, image)
            .with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.0/24")))
            .with_service("test", "products", |s| {
                s.deployment(Deployment::canary(10.0, Duration::from_secs(5 * 60))).lifecycle_hook(
                    LifecycleHook::lambda(smoke, [HookStage::PostTestTrafficShift])
                        .details(r#"{"path": "/products", "expect": 200}"#),
                )
            })
    };
    // Besides the example's 41: the alternate target group, ECS's two roles (load
    // balancers, hooks), the test listener and the products rule on it.
    applies_and_converges(&stack, FIRST, 46);

    // What moto holds: the hook (after UpdateService: moto drops it on CreateService),
    // the test rule, the 404 of the test listener.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let clients = clients();
    let service =
        runtime.block_on(clients.ecs.describe_services(name.clone(), vec!["products".into()])).unwrap().remove(0);
    let hooks = &service.found.props.deployment_configuration.lifecycle_hooks;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(
        (hooks[0].hook_target_arn.as_str(), hooks[0].lifecycle_stages.as_slice()),
        (smoke, &[HookStage::PostTestTrafficShift][..])
    );
    assert_eq!(hooks[0].hook_details, Some(serde_json::json!({"path": "/products", "expect": 200})));
    let advanced = service.found.props.load_balancers[0].advanced.clone().unwrap();
    assert!(advanced
        .test_listener_rule
        .is_some_and(|r| matches!(r, RefOr::Value(arn) if arn.contains(":listener-rule/"))));
    rolls_out(&stack, SECOND);

    // Back to rolling: what the strategy needed goes, the service forwards to its own group.
    let rolling = seed(&name, SECOND);
    let (code, out, err) = run(&["apply", "--auto-approve"], rolling);
    assert_eq!(code, 0, "{out}{err}");
    for gone in [
        "target-group/products/alternate",
        "listener-rule/products/test",
        "listener/test",
        "role/ecs-load-balancers",
        "role/ecs-hooks",
    ] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(&format!("- {gone} "))), "{gone}:\n{out}");
    }
    assert!(out.contains("Plan: 0 to add, 3 to change, 0 to replace, 5 to destroy."), "{out}");
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, SECOND));
    assert_eq!(code, 0, "back on rolling, nothing is left to change:\n{out}{err}");
}
