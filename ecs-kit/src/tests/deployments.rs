//! Deployment strategies and the waits across the layers: what `build()` refuses, what
//! a strategy expands to (the alternate target group, the rule forwarding to both, ECS's
//! role), and on the fake cloud how blue/green, canary and linear deployments shift
//! traffic, how an alarm or the circuit breaker rolls them back, and how the settle wait
//! fails fast naming why (stopped tasks, exit codes) instead of waiting out its timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::apply::{apply, ApplyOptions, ApplyReport, Waits};
use crate::aws::{Clients, ServiceUpdate};
use crate::diff::Action;
use crate::dsl::{CircuitBreaker, Deployment, LifecycleHook, LoadBalancer, Service, StackBuilder, TestListener};
use crate::graph::props::HookStage;
use crate::graph::props::{
    Attr, DeploymentConfiguration, DeploymentStrategy, Peer, Percent, RefOr, ServiceProps, TrafficStep,
};
use crate::graph::{Graph, LogicalId, Properties, ResourceType};
use crate::model::{seed, seed_with_image, Stack, StrategySpec, ValidationErrors};
use crate::plan::plan;
use crate::testing::FakeCloud;
use crate::testing::HookAnswer;
use crate::walk::{Event, Observer, Outcome, RetryPolicy};

fn minutes(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

/// The seed stack with `products` deployed by `deployment`.
fn with(deployment: Deployment) -> StackBuilder {
    seed().with_service("test", "products", |s| s.deployment(deployment))
}

/// The seed stack with `products` deployed by `deployment` at image tag `tag`.
fn at_tag(deployment: Deployment, tag: &str) -> Stack {
    let image = format!("registry.example.com/microservices/products:{tag}");
    seed_with_image("products", &image).with_service("test", "products", |s| s.deployment(deployment)).build().unwrap()
}

fn errors(b: StackBuilder) -> ValidationErrors {
    b.build().expect_err("invalid")
}

#[track_caller]
fn assert_problem(e: &ValidationErrors, field: &str, needle: &str) {
    assert!(
        e.errors().iter().any(|p| p.field == field && p.message.contains(needle)),
        "no problem on {field} mentioning {needle:?} in:\n{e}"
    );
}

fn service_props(g: &Graph, name: &str) -> ServiceProps {
    match &*g.get(&format!("service/{name}")).unwrap().properties {
        Properties::Service(p) => p.clone(),
        other => panic!("{other:?}"),
    }
}

fn r(id: &str, attr: Attr) -> RefOr<String> {
    RefOr::to(&LogicalId::new(id), attr)
}

// ------------------------------------------------------------------ declaration

#[test]
fn strategies_outside_what_ecs_takes_are_refused_naming_the_field() {
    let e = errors(with(Deployment::canary(0.05, minutes(10))));
    assert_problem(&e, "services[1].deployment.percent", "multiple of 0.1 from 0.1 to 100");
    let e = errors(with(Deployment::canary(5.25, minutes(10))));
    assert_problem(&e, "services[1].deployment.percent", "multiple of 0.1");
    let e = errors(with(Deployment::linear(2.0, minutes(1))));
    assert_problem(&e, "services[1].deployment.step_percent", "from 3 to 100");
    let e = errors(with(Deployment::linear(101.0, minutes(1))));
    assert_problem(&e, "services[1].deployment.step_percent", "from 3 to 100");
    let e = errors(with(Deployment::blue_green(Duration::from_secs(90))));
    assert_problem(&e, "services[1].deployment.bake", "whole minutes from 0 to 1440");
    let e = errors(with(Deployment::blue_green(minutes(25 * 60))));
    assert_problem(&e, "services[1].deployment.bake", "whole minutes from 0 to 1440");
    let e = errors(with(Deployment::canary(10.0, minutes(1441))));
    assert_problem(&e, "services[1].deployment.canary_bake", "whole minutes");
    let e = errors(with(Deployment::linear(10.0, Duration::from_millis(60_500))));
    assert_problem(&e, "services[1].deployment.step_bake", "whole minutes");
    // Shifting traffic needs the load balancer.
    let e = errors(
        seed().service(Service::new("worker", "busybox:1.36", 9000).deployment(Deployment::blue_green(minutes(5)))),
    );
    assert_problem(&e, "services[2].deployment", "put the service behind the load balancer");
    // Alarm names ECS can take, each once.
    let e = errors(
        seed().with_service("test", "products", |s| s.rollback_alarm("a,b").rollback_alarm("ok").rollback_alarm("ok")),
    );
    assert_problem(&e, "services[1].alarms[0]", "without `,`");
    assert_problem(&e, "services[1].alarms[2]", "named twice");
    // The alternate target group's name is taken by no other service.
    let e = errors(
        with(Deployment::blue_green(minutes(5)))
            .service(Service::new("products-alt", "registry.example.com/x:1", 8002).path("/alt")),
    );
    assert_problem(&e, "services[2].name", "alternate target group of services[1]");
    // Rolling with alarms is fine, and the limits themselves are allowed.
    seed().with_service("test", "products", |s| s.rollback_alarm("products-5xx")).build().unwrap();
    with(Deployment::canary(0.1, minutes(1440)).bake(minutes(0))).build().unwrap();
    with(Deployment::linear(3.0, minutes(0))).build().unwrap();
}

#[test]
fn a_strategy_expands_to_the_alternate_group_the_rule_to_both_and_the_role_for_ecs() {
    let rolling = Graph::from_stack(&seed().build().unwrap()).unwrap();
    assert!(rolling.get("role/ecs-load-balancers").is_none());
    assert!(rolling.get("target-group/products/alternate").is_none());

    let stack = with(Deployment::canary(5.0, minutes(10)).bake(minutes(15)))
        .with_service("test", "products", |s| s.rollback_alarm("products-5xx"))
        .build()
        .unwrap();
    assert_eq!(
        stack.service("products").unwrap().deployment.strategy,
        StrategySpec::Canary { percent: Percent::tenths(50), canary_bake_minutes: 10, bake_minutes: 15 }
    );
    let g = Graph::from_stack(&stack).unwrap();
    // The alternate target group: the same but for its name.
    let (Properties::TargetGroup(main), Properties::TargetGroup(alt)) = (
        &*g.get("target-group/products").unwrap().properties,
        &*g.get("target-group/products/alternate").unwrap().properties,
    ) else {
        panic!()
    };
    assert_eq!(alt.name, "mcsv-poc-products-alt");
    assert_eq!((alt.port, &alt.target_type, &alt.health_check), (main.port, &main.target_type, &main.health_check));
    // The rule forwards to both.
    let Properties::ListenerRule(rule) = &*g.get("listener-rule/products").unwrap().properties else { panic!() };
    assert_eq!(rule.target_group_arn, r("target-group/products", Attr::Arn));
    assert_eq!(rule.alternate_target_group_arn, Some(r("target-group/products/alternate", Attr::Arn)));
    // ECS's role: trusted by ECS, with AWS's policy for load balancers.
    let Properties::Role(role) = &*g.get("role/ecs-load-balancers").unwrap().properties else { panic!() };
    assert_eq!(role.assume_role_policy["Statement"][0]["Principal"]["Service"], "ecs.amazonaws.com");
    assert_eq!(role.managed_policy_arns, ["arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"]);
    // The service names all of it and waits for it.
    let p = service_props(&g, "products");
    let advanced = p.load_balancers[0].advanced.clone().unwrap();
    assert_eq!(advanced.alternate_target_group_arn, r("target-group/products/alternate", Attr::Arn));
    assert_eq!(advanced.production_listener_rule, r("listener-rule/products", Attr::Arn));
    assert_eq!(advanced.role_arn, r("role/ecs-load-balancers", Attr::Arn));
    let deps: Vec<&str> = g.get("service/products").unwrap().depends_on.iter().map(LogicalId::as_str).collect();
    for needed in ["listener-rule/products", "role/ecs-load-balancers", "target-group/products/alternate"] {
        assert!(deps.contains(&needed), "{deps:?}");
    }
    let c = &p.deployment_configuration;
    assert_eq!(c.strategy, DeploymentStrategy::Canary);
    assert_eq!(c.bake_time_in_minutes, Some(15));
    assert_eq!(c.canary, Some(TrafficStep { percent: Percent::tenths(50), bake_time_in_minutes: 10 }));
    assert_eq!(
        c.alarms.as_ref().map(|a| (a.alarm_names.clone(), a.rollback)),
        Some((vec!["products-5xx".into()], true))
    );
    // The plan's JSON spells the strategy as AWS does.
    let json = serde_json::to_value(c).unwrap();
    assert_eq!((json["strategy"].as_str(), json["canary"]["percent"].as_f64()), (Some("CANARY"), Some(5.0)));
}

#[test]
fn the_default_service_shifts_traffic_on_a_catch_all_rule_evaluated_last() {
    let stack = seed()
        .with_service("test", "product-web", |s| s.deployment(Deployment::linear(10.0, minutes(2))))
        .build()
        .unwrap();
    let g = Graph::from_stack(&stack).unwrap();
    let Properties::ListenerRule(rule) = &*g.get("listener-rule/product-web").unwrap().properties else { panic!() };
    assert_eq!((rule.priority, rule.path_patterns.clone()), (50_000, vec!["/*".to_owned()]));
    assert_eq!(rule.alternate_target_group_arn, Some(r("target-group/product-web/alternate", Attr::Arn)));
    let deps = &g.get("service/product-web").unwrap().depends_on;
    assert!(deps.contains(&LogicalId::new("listener-rule/product-web")), "{deps:?}");
}

// ------------------------------------------------------------------ the test listener

/// The seed stack with `products` deployed by `deployment` and a test listener on 8080
/// open to `203.0.113.0/24`.
fn tested(deployment: Deployment) -> StackBuilder {
    with(deployment).with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.0/24")))
}

#[test]
fn a_test_listener_is_refused_where_it_cannot_work_naming_the_field() {
    let bg = Deployment::blue_green(minutes(5));
    let on = |t: TestListener| with(bg).with_load_balancer(|lb| lb.test_listener(t));
    // Not on a production port: 80 here, 443 (and 80, while it redirects) with HTTPS.
    let e = errors(on(TestListener::new(80).allow("203.0.113.0/24")));
    assert_problem(&e, "load_balancer.test_listener.port", "80 is the HTTP listener's port");
    let cert = "arn:aws:acm:us-west-2:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
    let e = errors(
        with(bg).with_load_balancer(|lb| lb.https(cert).test_listener(TestListener::new(443).allow("10.0.0.0/8"))),
    );
    assert_problem(&e, "load_balancer.test_listener.port", "443 is the HTTPS listener's port");
    let e = errors(on(TestListener::new(0).allow("203.0.113.0/24")));
    assert_problem(&e, "load_balancer.test_listener.port", "0 is not a port");
    // Internet-facing: nobody unless named; the VPC's block would let nothing in.
    let e = errors(on(TestListener::new(8080)));
    assert_problem(&e, "load_balancer.test_listener.allow", "through the NAT gateways");
    let e = errors(on(TestListener::new(8080)
        .allow("203.0.113.9/24")
        .allow("x")
        .allow("10.1.0.0/16")
        .allow("10.1.0.0/16")));
    assert_problem(&e, "load_balancer.test_listener.allow[0]", "use `203.0.113.0/24`");
    assert_problem(&e, "load_balancer.test_listener.allow[1]", "not an IPv4 CIDR block");
    assert_problem(&e, "load_balancer.test_listener.allow[3]", "given twice");
    // Only with a strategy that shifts traffic somewhere.
    let e = errors(seed().with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("10.0.0.0/8"))));
    assert_problem(&e, "load_balancer.test_listener", "no service has one");
    // Open to the world: allowed, with a warning.
    let stack = on(TestListener::new(8080).allow("0.0.0.0/0")).build().unwrap();
    assert!(
        stack.warnings().iter().any(|w| w.field == "load_balancer.test_listener.allow[0]"),
        "{:?}",
        stack.warnings()
    );
    // Internal: the VPC's block unless told otherwise.
    let internal = with(bg).load_balancer(LoadBalancer::internal().test_listener(8080)).build().unwrap();
    let t = internal.load_balancer.unwrap().test_listener.unwrap();
    assert_eq!((t.port, t.allowed), (8080, vec!["10.10.0.0/16".parse().unwrap()]));
}

#[test]
fn a_test_listener_gets_a_rule_per_shifting_service_open_to_the_declared_blocks_only() {
    let stack = tested(Deployment::canary(10.0, minutes(5)))
        .with_service("test", "product-web", |s| s.deployment(Deployment::blue_green(minutes(1))))
        .service(Service::new("rolling", "registry.example.com/x:1", 8002).path("/rolling"))
        .build()
        .unwrap();
    let g = Graph::from_stack(&stack).unwrap();
    // The listener: its own port, 404 for what no test rule matches.
    let Properties::Listener(l) = &*g.get("listener/test").unwrap().properties else { panic!() };
    assert_eq!((l.protocol.as_str(), l.port, l.default_target_group_arn.as_ref()), ("HTTP", 8080, None));
    assert_eq!(l.fixed_response.as_ref().map(|f| f.status_code.as_str()), Some("404"));
    // A rule per shifting service, the production rule's twin on the test listener.
    for service in ["products", "product-web"] {
        let (Properties::ListenerRule(test), Properties::ListenerRule(production)) = (
            &*g.get(&format!("listener-rule/{service}/test")).unwrap().properties,
            &*g.get(&format!("listener-rule/{service}")).unwrap().properties,
        ) else {
            panic!()
        };
        assert_eq!(test.listener_arn, r("listener/test", Attr::Arn));
        assert_eq!(
            (test.priority, &test.path_patterns, &test.target_group_arn, &test.alternate_target_group_arn),
            (
                production.priority,
                &production.path_patterns,
                &production.target_group_arn,
                &production.alternate_target_group_arn
            )
        );
        let advanced = service_props(&g, service).load_balancers[0].advanced.clone().unwrap();
        assert_eq!(advanced.test_listener_rule, Some(r(&format!("listener-rule/{service}/test"), Attr::Arn)));
        let deps = &g.get(&format!("service/{service}")).unwrap().depends_on;
        assert!(deps.contains(&LogicalId::new(format!("listener-rule/{service}/test"))), "{deps:?}");
    }
    assert!(g.get("listener-rule/rolling/test").is_none());
    // The load balancer's group opens 8080 to the declared block only.
    let Properties::SecurityGroup(sg) = &*g.get("security-group/load-balancer").unwrap().properties else { panic!() };
    let test_rules: Vec<_> = sg.ingress.iter().filter(|r| r.from_port == 8080).collect();
    assert_eq!(test_rules.len(), 1, "{:?}", sg.ingress);
    assert_eq!((test_rules[0].to_port, &test_rules[0].peer), (8080, &Peer::CidrIpv4("203.0.113.0/24".into())));
    assert!(sg.ingress.iter().all(|r| r.from_port == 8080 || r.from_port == 80), "{:?}", sg.ingress);

    // With HTTPS, the test listener speaks it with the same certificates.
    let (cert, extra) = (
        "arn:aws:acm:us-west-2:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
        "arn:aws:acm:us-west-2:123456789012:certificate/9f8e7d6c-1111-2222-3333-444455556666",
    );
    let stack = tested(Deployment::blue_green(minutes(1)))
        .with_load_balancer(|lb| lb.https(cert).certificate(extra))
        .build()
        .unwrap();
    let g = Graph::from_stack(&stack).unwrap();
    let Properties::Listener(l) = &*g.get("listener/test").unwrap().properties else { panic!() };
    assert_eq!((l.protocol.as_str(), l.certificate_arn.as_deref()), ("HTTPS", Some(cert)));
    let Properties::ListenerCertificate(c) =
        &*g.get("test-listener-certificate/9f8e7d6c-1111-2222-3333-444455556666").unwrap().properties
    else {
        panic!()
    };
    assert_eq!((c.listener_arn.clone(), c.certificate_arn.as_str()), (r("listener/test", Attr::Arn), extra));
}

#[tokio::test(start_paused = true)]
async fn ecs_moves_test_traffic_to_the_new_tasks_before_production_and_back_on_rollback() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let canary = Deployment::canary(10.0, minutes(10)).bake(minutes(5));
    let stack = |tag: &str| {
        let image = format!("registry.example.com/microservices/products:{tag}");
        seed_with_image("products", &image)
            .with_service("test", "products", |s| s.deployment(canary).rollback_alarm("products-5xx"))
            .with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.0/24")))
            .build()
            .unwrap()
    };
    let v1 = stack("1.0");
    apply_ok(&v1, &clients).await;
    assert_converged(&v1, &clients).await;
    let (test_rule, main, alt) = (
        arn_of(&cloud, "listener-rule/products/test"),
        arn_of(&cloud, "target-group/products"),
        arn_of(&cloud, "target-group/products/alternate"),
    );
    assert_eq!(cloud.rule_weights(&test_rule), [(main.clone(), 1000), (alt.clone(), 0)]);
    let service = &clients.ecs.describe_services("mcsv-poc".into(), vec!["products".into()]).await.unwrap()[0];
    let advanced = service.found.props.load_balancers[0].advanced.clone().unwrap();
    assert_eq!(advanced.test_listener_rule, Some(RefOr::Value(test_rule.clone())));
    // outputs gives the test URL of the service that has one.
    let live = crate::observe::observe(&v1, &clients).await.unwrap();
    let out = crate::status::outputs(&v1, &live).unwrap();
    let dns = out.dns_name.clone().unwrap();
    assert_eq!(out.services[1].test_url, Some(format!("http://{dns}:8080/products")));
    assert_eq!(out.services[0].test_url, None, "product-web deploys rolling");
    assert!(out.render().contains(&format!("  products (test)      http://{dns}:8080/products\n")), "{}", out.render());
    let json = serde_json::to_value(&out).unwrap();
    assert!(json["services"][0].get("test_url").is_none(), "{json}");

    // v2: test traffic goes to the new tasks at once, production 10% then all.
    let samples = Arc::new(Mutex::new(Vec::new()));
    let (sampled, sampler) = (samples.clone(), cloud.clone());
    let test = test_rule.clone();
    let alt2 = alt.clone();
    let (report, production, _) = apply_sampling(&cloud, &stack("2.0"), minutes(20), move |w| {
        sampled.lock().unwrap().push((weight(&sampler, &test, &alt2), w));
    })
    .await;
    assert!(report.report.succeeded(), "{:#?}", report.report);
    assert_eq!(production, [0, 100, 1000]);
    let samples = samples.lock().unwrap().clone();
    // Whenever production has a share, test traffic is all the new tasks'.
    assert!(samples.iter().all(|(test, production)| *production == 0 || *test == 1000), "{samples:?}");
    assert!(samples.contains(&(1000, 100)), "test all new while production is at the canary: {samples:?}");
    assert_eq!(weight(&cloud, &test_rule, &alt), 1000);
    // ECS moved the test rule's weights too: the plan stays clean.
    assert_converged(&stack("2.0"), &clients).await;

    // v3 rolls back on an alarm: test traffic goes back with production.
    let alarm = cloud.clone();
    let (report, production, _) = apply_sampling(&cloud, &stack("3.0"), minutes(20), move |w| {
        if w == 900 {
            alarm.set_alarm("products-5xx", true);
        }
    })
    .await;
    assert!(!report.report.succeeded());
    // The production weights sampled are of the alternate group, which serves now.
    assert_eq!(production, [1000, 900, 1000]);
    assert_eq!(cloud.rule_weights(&test_rule), [(main.clone(), 0), (alt.clone(), 1000)]);
}

// ------------------------------------------------------------------ lifecycle hooks

const SMOKE: &str = "arn:aws:lambda:us-west-2:123456789012:function:shop-smoke-tests";
const APPROVE: &str = "arn:aws:lambda:us-west-2:123456789012:function:shop-approve:live";

#[test]
fn hooks_are_refused_where_ecs_would_refuse_or_never_call_them_naming_the_field() {
    let bg = Deployment::blue_green(minutes(5));
    let hooked = |deployment: Deployment, hook: LifecycleHook| {
        with(deployment).with_service("test", "products", |s| s.lifecycle_hook(hook))
    };
    let e = errors(hooked(bg, LifecycleHook::lambda("shop-smoke-tests", [HookStage::PostScaleUp])));
    assert_problem(&e, "services[1].lifecycle_hooks[0].function_arn", "not a Lambda function ARN");
    let e = errors(hooked(
        bg,
        LifecycleHook::lambda("arn:aws:lambda:us-west-2:123456789012:layer:x", [HookStage::PostScaleUp]),
    ));
    assert_problem(&e, "services[1].lifecycle_hooks[0].function_arn", "not a Lambda function ARN");
    let e = errors(hooked(bg, LifecycleHook::lambda(SMOKE, [])));
    assert_problem(&e, "services[1].lifecycle_hooks[0].stages", "name at least one");
    let e = errors(hooked(bg, LifecycleHook::lambda(SMOKE, [HookStage::PostScaleUp, HookStage::PostScaleUp])));
    assert_problem(&e, "services[1].lifecycle_hooks[0].stages[1]", "POST_SCALE_UP is given twice");
    let e = errors(hooked(bg, LifecycleHook::lambda(SMOKE, [HookStage::PostScaleUp]).details("{not json")));
    assert_problem(&e, "services[1].lifecycle_hooks[0].details", "is not JSON");
    // A rolling deployment moves no traffic: its traffic stages never come.
    let e = errors(hooked(
        Deployment::rolling(),
        LifecycleHook::lambda(SMOKE, [HookStage::PreScaleUp, HookStage::ProductionTrafficShift]),
    ));
    assert_problem(
        &e,
        "services[1].lifecycle_hooks[0].stages[1]",
        "PRODUCTION_TRAFFIC_SHIFT never comes in a rolling deployment",
    );
    assert!(!e.has("services[1].lifecycle_hooks[0].stages[0]"), "{e}");
    hooked(Deployment::rolling(), LifecycleHook::lambda(SMOKE, [HookStage::PreScaleUp, HookStage::PostScaleUp]))
        .build()
        .unwrap();
    // Test stages without a test listener: allowed, with a warning.
    let stack = hooked(bg, LifecycleHook::lambda(SMOKE, [HookStage::PostTestTrafficShift])).build().unwrap();
    assert!(
        stack
            .warnings()
            .iter()
            .any(|w| w.field == "services[1].lifecycle_hooks[0].stages" && w.message.contains("no test listener")),
        "{:?}",
        stack.warnings()
    );
    let stack = tested(bg)
        .with_service("test", "products", |s| {
            s.lifecycle_hook(LifecycleHook::lambda(SMOKE, [HookStage::PostTestTrafficShift]))
        })
        .build()
        .unwrap();
    assert!(stack.warnings().iter().all(|w| !w.field.contains("lifecycle_hooks")), "{:?}", stack.warnings());
}

#[test]
fn hooks_get_a_role_of_their_own_allowed_to_invoke_exactly_their_functions() {
    let no_hooks = Graph::from_stack(&with(Deployment::blue_green(minutes(5))).build().unwrap()).unwrap();
    assert!(no_hooks.get("role/ecs-hooks").is_none());
    assert!(service_props(&no_hooks, "products").deployment_configuration.lifecycle_hooks.is_empty());

    let stack = with(Deployment::canary(5.0, minutes(5)))
        .with_service("test", "products", |s| {
            s.lifecycle_hook(
                LifecycleHook::lambda(SMOKE, [HookStage::PostTestTrafficShift, HookStage::PreScaleUp])
                    .details(r#"{"path": "/products"}"#),
            )
            .lifecycle_hook(LifecycleHook::lambda(APPROVE, [HookStage::PostProductionTrafficShift]))
        })
        .with_service("test", "product-web", |s| {
            s.lifecycle_hook(LifecycleHook::lambda(SMOKE, [HookStage::PostScaleUp]))
        })
        .build()
        .unwrap();
    let g = Graph::from_stack(&stack).unwrap();
    let Properties::Role(role) = &*g.get("role/ecs-hooks").unwrap().properties else { panic!() };
    assert_eq!(role.role_name, "mcsv-poc-us-west-2-ecs-hooks");
    assert_eq!(role.assume_role_policy["Statement"][0]["Principal"]["Service"], "ecs.amazonaws.com");
    assert!(role.managed_policy_arns.is_empty());
    let policy = &role.inline_policies["ecs-kit-hooks"]["Statement"];
    assert_eq!(policy.as_array().unwrap().len(), 1);
    assert_eq!(
        (policy[0]["Effect"].as_str(), policy[0]["Action"].as_str()),
        (Some("Allow"), Some("lambda:InvokeFunction"))
    );
    assert_eq!(policy[0]["Resource"], serde_json::json!([APPROVE, SMOKE]), "each function once, no wildcard");
    // The load balancers' role stays as it was: one purpose each.
    let Properties::Role(traffic) = &*g.get("role/ecs-load-balancers").unwrap().properties else { panic!() };
    assert!(traffic.inline_policies.is_empty());

    let hooks = service_props(&g, "products").deployment_configuration.lifecycle_hooks;
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].hook_target_arn, SMOKE);
    assert_eq!(hooks[0].role_arn, r("role/ecs-hooks", Attr::Arn));
    assert_eq!(
        hooks[0].lifecycle_stages,
        [HookStage::PreScaleUp, HookStage::PostTestTrafficShift],
        "in the order of a deployment"
    );
    assert_eq!(hooks[0].hook_details, Some(serde_json::json!({"path": "/products"})));
    assert_eq!((hooks[1].hook_target_arn.as_str(), hooks[1].hook_details.as_ref()), (APPROVE, None));
    let deps = &g.get("service/products").unwrap().depends_on;
    assert!(deps.contains(&LogicalId::new("role/ecs-hooks")), "{deps:?}");
    // The plan's JSON spells the stages as AWS does.
    let json = serde_json::to_value(&hooks[0]).unwrap();
    assert_eq!(json["lifecycle_stages"], serde_json::json!(["PRE_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT"]));
}

/// The seed stack with `products` on `deployment` at image tag `tag`, a test listener and
/// a hook calling `SMOKE` at `stages`.
fn hooked(deployment: Deployment, tag: &str, stages: &[HookStage]) -> Stack {
    let image = format!("registry.example.com/microservices/products:{tag}");
    seed_with_image("products", &image)
        .with_service("test", "products", |s| {
            s.deployment(deployment).lifecycle_hook(LifecycleHook::lambda(SMOKE, stages.iter().copied()))
        })
        .with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.0/24")))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_hook_after_the_test_shift_holds_production_traffic_until_it_answers() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let bg = Deployment::blue_green(minutes(2));
    cloud.set_hook_function(SMOKE, HookAnswer::Succeeded, minutes(3));
    let stages = [HookStage::PostTestTrafficShift];
    let v1 = hooked(bg, "1.0", &stages);
    apply_ok(&v1, &clients).await;
    assert_converged(&v1, &clients).await;
    let service = &clients.ecs.describe_services("mcsv-poc".into(), vec!["products".into()]).await.unwrap()[0];
    let hooks = &service.found.props.deployment_configuration.lifecycle_hooks;
    assert_eq!((hooks.len(), hooks[0].lifecycle_stages.as_slice()), (1, &stages[..]));

    let (test_rule, alt) =
        (arn_of(&cloud, "listener-rule/products/test"), arn_of(&cloud, "target-group/products/alternate"));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let (sampled, sampler, v2) = (samples.clone(), cloud.clone(), hooked(bg, "2.0", &stages));
    let status = Arc::new(Mutex::new(None));
    let (seen, stack2, clients2) = (status.clone(), v2.clone(), clients.clone());
    let (report, production, notes) = apply_sampling(&cloud, &v2, minutes(15), move |w| {
        let test = weight(&sampler, &test_rule, &alt);
        sampled.lock().unwrap().push((test, w));
        if test == 1000 && w == 0 && seen.lock().unwrap().is_none() {
            *seen.lock().unwrap() = Some((stack2.clone(), clients2.clone()));
        }
    })
    .await;
    assert!(report.report.succeeded(), "{:#?}", report.report);
    assert_eq!(production, [0, 1000]);
    let samples = samples.lock().unwrap().clone();
    // Three minutes (nine 20 s samples) with all test traffic and no production traffic on the new tasks.
    let held = samples.iter().filter(|(test, production)| *test == 1000 && *production == 0).count();
    assert!((8..=10).contains(&held), "{held} samples held: {samples:?}");
    notes.assert_has("blue/green 0%, post test traffic shift, hook shop-smoke-tests in progress");
    assert_converged(&v2, &clients).await;
}

#[tokio::test(start_paused = true)]
async fn status_shows_the_hook_a_deployment_waits_for() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let canary = Deployment::canary(10.0, minutes(5));
    cloud.set_hook_function(SMOKE, HookAnswer::Succeeded, minutes(4));
    let stages = [HookStage::PostTestTrafficShift];
    apply_ok(&hooked(canary, "1.0", &stages), &clients).await;
    let v2 = hooked(canary, "2.0", &stages);
    let (stack2, clients2) = (v2.clone(), clients.clone());
    let handle = tokio::spawn(async move { apply(&stack2, &clients2, options(minutes(15)), None, &()).await.unwrap() });
    // The tasks start in a minute; the hook runs then.
    tokio::time::sleep(minutes(2)).await;
    let text = crate::status::status(&v2, &clients).await.unwrap().render();
    assert!(text.contains("  strategy   canary 0%, post test traffic shift, hook shop-smoke-tests in progress (2/2 new tasks running)"), "{text}");
    assert!(handle.await.unwrap().report.succeeded());
}

#[tokio::test(start_paused = true)]
async fn a_failing_hook_rolls_back_before_production_moves_and_apply_names_it_and_its_stage() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let linear = Deployment::linear(50.0, minutes(1));
    let stages = [HookStage::PostTestTrafficShift];
    cloud.set_hook_function(SMOKE, HookAnswer::Succeeded, Duration::from_secs(30));
    apply_ok(&hooked(linear, "1.0", &stages), &clients).await;
    let (rule, test_rule, main, alt) = (
        arn_of(&cloud, "listener-rule/products"),
        arn_of(&cloud, "listener-rule/products/test"),
        arn_of(&cloud, "target-group/products"),
        arn_of(&cloud, "target-group/products/alternate"),
    );
    cloud.set_hook_function(SMOKE, HookAnswer::Failed, minutes(2));
    let tests = Arc::new(Mutex::new(Vec::new()));
    let (seen, sampler, t) = (tests.clone(), cloud.clone(), test_rule.clone());
    let alt2 = alt.clone();
    let (report, production, notes) = apply_sampling(&cloud, &hooked(linear, "2.0", &stages), minutes(15), move |_| {
        seen.lock().unwrap().push(weight(&sampler, &t, &alt2));
    })
    .await;
    let Outcome::Failed { error, attempts } = &report.report.outcomes[&"service/products".into()] else {
        panic!("{:#?}", report.report)
    };
    assert_eq!(*attempts, 1, "a rolled-back deployment is not retried");
    assert!(error.contains("deployment of products failed: linear rolled back"), "{error}");
    assert!(error.contains("hook execution failure(s) detected"), "{error}");
    assert!(error.contains(&format!("hook {SMOKE} FAILED at POST_TEST_TRAFFIC_SHIFT")), "{error}");
    notes.assert_has(&format!("{SMOKE} at POST_TEST_TRAFFIC_SHIFT: the function answered FAILED"));
    // Production never moved; test traffic came back; the old revision runs.
    assert_eq!(production, [0]);
    assert!(tests.lock().unwrap().contains(&1000));
    assert_eq!(weight(&cloud, &rule, &main), 1000);
    assert_eq!(weight(&cloud, &test_rule, &main), 1000);
    assert!(cloud.service("products").unwrap().task_definition.ends_with(":1"));
    let newest = clients.ecs.list_service_deployments("mcsv-poc".into(), "products".into()).await.unwrap();
    let d = &clients.ecs.describe_service_deployments(vec![newest[0].clone()]).await.unwrap()[0];
    assert!(d.status.starts_with("ROLLBACK"), "{d:?}");
    assert_eq!(
        d.hooks.iter().map(|h| (h.target_arn.as_str(), h.status.as_str())).collect::<Vec<_>>(),
        [(SMOKE, "FAILED")]
    );

    // A rolling service's hook before its tasks start: no task of the new revision ever runs.
    cloud.set_hook_function(SMOKE, HookAnswer::Failed, Duration::from_secs(10));
    let rolling = |tag: &str| {
        seed_with_image("products", &format!("registry.example.com/microservices/products:{tag}"))
            .with_service("test", "products", |s| {
                s.lifecycle_hook(LifecycleHook::lambda(SMOKE, [HookStage::PreScaleUp]))
            })
            .build()
            .unwrap()
    };
    cloud.set_hook_function(SMOKE, HookAnswer::Succeeded, Duration::ZERO);
    apply_ok(&rolling("1.0"), &clients).await;
    cloud.set_hook_function(SMOKE, HookAnswer::Failed, Duration::from_secs(10));
    let report = apply(&rolling("2.0"), &clients, options(minutes(15)), None, &()).await.unwrap();
    let Outcome::Failed { error, .. } = &report.report.outcomes[&"service/products".into()] else {
        panic!("{:#?}", report.report)
    };
    assert!(error.contains(&format!("hook {SMOKE} FAILED at PRE_SCALE_UP")), "{error}");
}

#[tokio::test(start_paused = true)]
async fn the_hooks_role_is_what_lets_ecs_invoke_the_function() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let bg = Deployment::blue_green(minutes(1));
    let stages = [HookStage::PostScaleUp];
    cloud.set_hook_function(SMOKE, HookAnswer::Succeeded, Duration::from_secs(5));
    apply_ok(&hooked(bg, "1.0", &stages), &clients).await;
    // Someone deletes the role's policy; the next deployment (started outside ecs-kit)
    // cannot invoke the hook and rolls back.
    clients.iam.delete_role_policy("mcsv-poc-us-west-2-ecs-hooks".into(), "ecs-kit-hooks".into()).await.unwrap();
    let force = ServiceUpdate {
        cluster: "mcsv-poc".into(),
        service: "products".into(),
        force_new_deployment: true,
        ..ServiceUpdate::default()
    };
    clients.ecs.update_service(force).await.unwrap();
    tokio::time::sleep(minutes(5)).await;
    let service = &clients.ecs.describe_services("mcsv-poc".into(), vec!["products".into()]).await.unwrap()[0];
    let events: Vec<&str> = service.status.events.iter().map(|e| e.message.as_str()).collect();
    assert!(
        events
            .iter()
            .any(|e| e.contains("at POST_SCALE_UP") && e.contains("not authorized to perform lambda:InvokeFunction")),
        "{events:#?}"
    );
    let newest = clients.ecs.list_service_deployments("mcsv-poc".into(), "products".into()).await.unwrap();
    let d = &clients.ecs.describe_service_deployments(vec![newest[0].clone()]).await.unwrap()[0];
    assert!(d.status.starts_with("ROLLBACK"), "{d:?}");
    // The plan puts the policy back before it deploys, and the deployment goes through.
    let v2 = hooked(bg, "2.0", &stages);
    let p = plan(&v2, &clients).await.unwrap();
    let role = p.changes.iter().find(|c| c.id.as_str() == "role/ecs-hooks").unwrap();
    assert_eq!(role.action, Action::Update, "{}", p.render());
    apply_ok(&v2, &clients).await;
    assert_converged(&v2, &clients).await;
}

// ------------------------------------------------------------------ back to rolling

/// The seed stack at image tag `tag` (both services); `products` on a canary with a
/// hook when `products` says so, `product-web` blue/green and a test listener when `web`
/// says so.
fn strategies(tag: &str, products: bool, web: bool) -> Stack {
    let image = format!("registry.example.com/microservices/products:{tag}");
    let web_image = format!("registry.example.com/microservices/product-web:{tag}");
    let mut b = seed_with_image("products", &image).with_service("test", "product-web", |s| s.image(web_image));
    if products {
        b = b.with_service("test", "products", |s| {
            s.deployment(Deployment::canary(10.0, minutes(2)))
                .lifecycle_hook(LifecycleHook::lambda(SMOKE, [HookStage::PostTestTrafficShift]))
        });
    }
    if web {
        b = b
            .with_service("test", "product-web", |s| s.deployment(Deployment::blue_green(minutes(1))))
            .with_load_balancer(|lb| lb.test_listener(TestListener::new(8080).allow("203.0.113.0/24")));
    }
    b.build().unwrap()
}

/// Applies `stack`, checking every 5 s that production traffic of `products` (its rule
/// `rules[0]`) and of the default route (the catch-all rule `rules[1]` while it exists,
/// else the listener's default, `main_web`) only goes to target groups with tasks; the
/// notes of the apply.
async fn apply_without_outage(cloud: &FakeCloud, stack: &Stack, rules: &[String; 2], main_web: &str) -> Notes {
    let (stack2, clients2, notes) = (stack.clone(), cloud.clients(), Notes::default());
    let observer = notes.clone();
    let handle =
        tokio::spawn(async move { apply(&stack2, &clients2, options(minutes(15)), None, &observer).await.unwrap() });
    let clients = cloud.clients();
    let mut outages = Vec::new();
    while !handle.is_finished() {
        let mut groups = Vec::new();
        for rule in rules {
            groups.extend(cloud.rule_weights(rule).into_iter().filter(|(_, w)| *w > 0).map(|(g, _)| g));
        }
        if cloud.rule_weights(&rules[1]).is_empty() {
            groups.push(main_web.to_owned());
        }
        for g in groups {
            if clients.elb.describe_target_health(g.clone()).await.unwrap().is_empty() {
                outages.push(g);
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let report = handle.await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", report.report);
    assert!(outages.is_empty(), "production traffic went to groups without tasks: {outages:?}");
    notes
}

/// The planned action of `id`.
fn action(p: &crate::plan::Plan, id: &str) -> Option<Action> {
    p.changes.iter().find(|c| c.id.as_str() == id).map(|c| c.action)
}

#[tokio::test(start_paused = true)]
async fn back_to_rolling_deletes_what_strategies_needed_without_an_outage_and_converges() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    cloud.set_hook_function(SMOKE, HookAnswer::Succeeded, Duration::from_secs(20));
    apply_ok(&strategies("1.0", true, true), &clients).await;
    // One deployment each: ECS now serves both services from their alternate groups.
    apply_ok(&strategies("2.0", true, true), &clients).await;
    let rules = [arn_of(&cloud, "listener-rule/products"), arn_of(&cloud, "listener-rule/product-web")];
    let (main, main_web) = (arn_of(&cloud, "target-group/products"), arn_of(&cloud, "target-group/product-web"));
    assert_eq!(weight(&cloud, &rules[0], &arn_of(&cloud, "target-group/products/alternate")), 1000);
    assert_eq!(weight(&cloud, &rules[1], &arn_of(&cloud, "target-group/product-web/alternate")), 1000);

    // products back to rolling: its alternate group, its test rule and the hooks' role
    // go; the load balancers' role and the test listener stay for product-web.
    let half = strategies("2.0", false, true);
    let p = plan(&half, &clients).await.unwrap();
    for gone in ["target-group/products/alternate", "listener-rule/products/test", "role/ecs-hooks"] {
        assert_eq!(action(&p, gone), Some(Action::Delete), "{gone}:\n{}", p.render());
    }
    for kept in ["role/ecs-load-balancers", "listener/test", "listener-rule/product-web/test"] {
        assert_eq!(action(&p, kept), Some(Action::NoOp), "{kept}:\n{}", p.render());
    }
    assert_eq!(action(&p, "listener-rule/products"), Some(Action::Update), "{}", p.render());
    assert_eq!((p.summary.add, p.summary.change, p.summary.destroy), (0, 2, 3), "{}", p.render());
    assert!(p.render().contains("  - target-group/products/alternate"), "{}", p.render());
    let notes = apply_without_outage(&cloud, &half, &rules, &main_web).await;
    // ECS moved the traffic back itself, by one more deployment of the canary.
    notes.assert_has("keeps forwarding to both target groups while ECS serves from mcsv-poc-products-alt");
    notes.assert_has("ECS serves products from mcsv-poc-products-alt: one more canary deployment moves traffic back to mcsv-poc-products before the switch to rolling");
    assert_eq!(cloud.rule_weights(&rules[0]), [(main.clone(), 1000)]);
    assert_converged(&half, &clients).await;

    // product-web too, without the test listener: all that strategies needed is gone.
    let rolling = strategies("2.0", false, false);
    let p = plan(&rolling, &clients).await.unwrap();
    for gone in [
        "target-group/product-web/alternate",
        "listener-rule/product-web",
        "listener-rule/product-web/test",
        "listener/test",
        "role/ecs-load-balancers",
    ] {
        assert_eq!(action(&p, gone), Some(Action::Delete), "{gone}:\n{}", p.render());
    }
    assert_eq!((p.summary.add, p.summary.change, p.summary.destroy), (0, 2, 5), "{}", p.render());
    let notes = apply_without_outage(&cloud, &rolling, &rules, &main_web).await;
    notes.assert_has("ECS serves product-web from mcsv-poc-product-web-alt: one more blue/green deployment");
    assert_eq!(cloud.snapshot().count(ResourceType::TargetGroup), 2);
    assert_eq!(cloud.snapshot().count(ResourceType::Listener), 1);
    let roles: Vec<String> = cloud.snapshot().live(ResourceType::IamRole).filter_map(|r| r.name.clone()).collect();
    assert!(roles.iter().all(|r| !r.contains("-ecs-")), "no role for ECS is left: {roles:?}");
    assert_converged(&rolling, &clients).await;
    for name in ["products", "product-web"] {
        let service = &clients.ecs.describe_services("mcsv-poc".into(), vec![name.into()]).await.unwrap()[0];
        let c = &service.found.props.deployment_configuration;
        assert_eq!((c.strategy, c.lifecycle_hooks.len()), (DeploymentStrategy::Rolling, 0), "{name}");
        assert!(service.found.props.load_balancers[0].advanced.is_none(), "{name}");
    }
}

// ------------------------------------------------------------------ the fake cloud

/// Records the notes (ECS events, stopped tasks, deployment progress) of a walk.
#[derive(Clone, Default)]
struct Notes(Arc<Mutex<Vec<String>>>);

impl Observer for Notes {
    fn event(&self, event: &Event) {
        if let Event::Note { message, .. } = event {
            self.0.lock().unwrap().push(message.clone());
        }
    }
}

impl Notes {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    #[track_caller]
    fn assert_has(&self, needle: &str) {
        let all = self.all();
        assert!(all.iter().any(|n| n.contains(needle)), "no note with {needle:?} in {all:#?}");
    }
}

fn options(timeout: Duration) -> ApplyOptions {
    ApplyOptions {
        parallelism: 10,
        retry: RetryPolicy { seed: 7, ..RetryPolicy::default() },
        waits: Waits { timeout, ..Waits::default() },
        ..ApplyOptions::default()
    }
}

async fn apply_ok(stack: &Stack, clients: &Clients) {
    let report = apply(stack, clients, options(minutes(15)), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", report.report);
}

async fn assert_converged(stack: &Stack, clients: &Clients) {
    let plan = plan(stack, clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
}

/// The AWS id (ARN) of the stack's resource `id` in the fake.
fn arn_of(cloud: &FakeCloud, id: &str) -> String {
    let snapshot = cloud.snapshot();
    let found =
        snapshot.of_stack("mcsv-poc").find(|r| r.tags.get(crate::model::ID_TAG).map(String::as_str) == Some(id));
    found.unwrap_or_else(|| panic!("{id} not in the fake")).id.clone()
}

/// The weight (of 1000) the rule `rule` gives the target group `tg`.
fn weight(cloud: &FakeCloud, rule: &str, tg: &str) -> u32 {
    cloud.rule_weights(rule).into_iter().find(|(g, _)| g == tg).map_or(0, |(_, w)| w)
}

/// Applies `stack` in the background, sampling every 20 s (virtual) the weight the
/// products rule gives the alternate target group, and calling `during` with each
/// sample; the report, the distinct weights in order, and the notes.
async fn apply_sampling(
    cloud: &FakeCloud,
    stack: &Stack,
    timeout: Duration,
    mut during: impl FnMut(u32),
) -> (ApplyReport, Vec<u32>, Notes) {
    let (rule, alt) = (arn_of(cloud, "listener-rule/products"), arn_of(cloud, "target-group/products/alternate"));
    let notes = Notes::default();
    let (stack2, clients, observer) = (stack.clone(), cloud.clients(), notes.clone());
    let handle =
        tokio::spawn(async move { apply(&stack2, &clients, options(timeout), None, &observer).await.unwrap() });
    let mut weights = vec![];
    while !handle.is_finished() {
        let w = weight(cloud, &rule, &alt);
        if weights.last() != Some(&w) {
            weights.push(w);
        }
        during(w);
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    let w = weight(cloud, &rule, &alt);
    if weights.last() != Some(&w) {
        weights.push(w);
    }
    (handle.await.unwrap(), weights, notes)
}

#[tokio::test(start_paused = true)]
async fn blue_green_shifts_all_traffic_once_green_is_healthy_bakes_then_drains_blue() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let bg = Deployment::blue_green(minutes(10));
    let v1 = at_tag(bg, "1.0");
    apply_ok(&v1, &clients).await;
    assert_converged(&v1, &clients).await;
    let (rule, main, alt) = (
        arn_of(&cloud, "listener-rule/products"),
        arn_of(&cloud, "target-group/products"),
        arn_of(&cloud, "target-group/products/alternate"),
    );
    assert_eq!(cloud.rule_weights(&rule), [(main.clone(), 1000), (alt.clone(), 0)]);

    let v2 = at_tag(bg, "2.0");
    let (report, weights, notes) = apply_sampling(&cloud, &v2, minutes(15), |_| {}).await;
    assert!(report.report.succeeded(), "{:#?}", report.report);
    // Nothing, then everything: no step between.
    assert_eq!(weights, [0, 1000]);
    notes.assert_has("(service products) deployment: blue/green 100%, baking, 10 min left");
    notes.assert_has("deployment successful");
    // Green serves, blue is drained.
    let health = |tg: &str| {
        let clients = clients.clone();
        let tg = tg.to_owned();
        async move { clients.elb.describe_target_health(tg).await.unwrap().len() }
    };
    assert_eq!((health(&main).await, health(&alt).await), (0, 2));
    let newest = clients.ecs.list_service_deployments("mcsv-poc".into(), "products".into()).await.unwrap();
    let d = clients.ecs.describe_service_deployments(vec![newest[0].clone()]).await.unwrap();
    assert_eq!((d[0].status.as_str(), d[0].lifecycle_stage.as_deref()), ("SUCCESSFUL", Some("CLEAN_UP")));
    // ECS moved the weights: the next plan is still clean.
    assert_converged(&v2, &clients).await;

    // The next deployment goes back to the first target group.
    let v3 = at_tag(bg, "3.0");
    let (report, weights, _) = apply_sampling(&cloud, &v3, minutes(15), |_| {}).await;
    assert!(report.report.succeeded(), "{:#?}", report.report);
    assert_eq!(weights, [1000, 0]);
    assert_eq!(weight(&cloud, &rule, &main), 1000);
    assert_converged(&v3, &clients).await;
}

#[tokio::test(start_paused = true)]
async fn canary_shifts_its_share_bakes_then_shifts_the_rest() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let canary = Deployment::canary(5.0, minutes(10)).bake(minutes(5));
    apply_ok(&at_tag(canary, "1.0"), &clients).await;
    let v2 = at_tag(canary, "2.0");
    let (report, weights, notes) = apply_sampling(&cloud, &v2, minutes(15), |_| {}).await;
    assert!(report.report.succeeded(), "{:#?}", report.report);
    assert_eq!(weights, [0, 50, 1000]);
    notes.assert_has("(service products) deployment: canary 5%, baking, 10 min left");
    notes.assert_has("(service products) deployment: canary 100%, baking, 5 min left");
    assert_converged(&v2, &clients).await;
}

#[tokio::test(start_paused = true)]
async fn linear_shifts_in_equal_steps_with_a_bake_after_each() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let linear = Deployment::linear(25.0, minutes(2));
    apply_ok(&at_tag(linear, "1.0"), &clients).await;
    let v2 = at_tag(linear, "2.0");
    let (report, weights, notes) = apply_sampling(&cloud, &v2, minutes(15), |_| {}).await;
    assert!(report.report.succeeded(), "{:#?}", report.report);
    assert_eq!(weights, [0, 250, 500, 750, 1000]);
    notes.assert_has("linear 25%, baking, 2 min left");
    notes.assert_has("linear 75%, baking, 2 min left");
    assert_converged(&v2, &clients).await;
}

#[tokio::test(start_paused = true)]
async fn an_alarm_during_the_canary_rolls_back_and_apply_fails_naming_it() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let canary = Deployment::canary(10.0, minutes(10));
    let stack = |tag: &str| {
        let image = format!("registry.example.com/microservices/products:{tag}");
        seed_with_image("products", &image)
            .with_service("test", "products", |s| s.deployment(canary).rollback_alarm("products-5xx"))
            .build()
            .unwrap()
    };
    apply_ok(&stack("1.0"), &clients).await;
    let (rule, main) = (arn_of(&cloud, "listener-rule/products"), arn_of(&cloud, "target-group/products"));
    let alarm_cloud = cloud.clone();
    let (report, weights, notes) = apply_sampling(&cloud, &stack("2.0"), minutes(15), move |w| {
        if w == 100 {
            alarm_cloud.set_alarm("products-5xx", true);
        }
    })
    .await;
    assert_eq!(weights, [0, 100, 0], "the canary's share, then back");
    let Outcome::Failed { error, attempts } = &report.report.outcomes[&"service/products".into()] else {
        panic!("{:#?}", report.report)
    };
    assert_eq!(*attempts, 1, "a rolled-back deployment is not retried");
    assert!(error.contains("deployment of products failed: canary rolled back"), "{error}");
    assert!(error.contains("CloudWatch alarm products-5xx in ALARM"), "{error}");
    assert!(error.contains("alarms in ALARM: products-5xx"), "{error}");
    notes.assert_has("deployment failed: alarm detected.");
    // All traffic is back on the old tasks, which run the old revision.
    assert_eq!(weight(&cloud, &rule, &main), 1000);
    assert!(cloud.service("products").unwrap().task_definition.ends_with(":1"));
    let newest = clients.ecs.list_service_deployments("mcsv-poc".into(), "products".into()).await.unwrap();
    let d = &clients.ecs.describe_service_deployments(vec![newest[0].clone()]).await.unwrap()[0];
    assert!(d.status.starts_with("ROLLBACK"), "{d:?}");
    assert_eq!(d.triggered_alarms, ["products-5xx"]);
    assert!(d.rollback.as_ref().and_then(|r| r.reason.as_deref()).unwrap().contains("products-5xx"));
    // The next plan still wants the new image; with the alarm cleared, apply converges.
    let p = plan(&stack("2.0"), &clients).await.unwrap();
    assert!(p.changes.iter().any(|c| c.id.as_str() == "service/products" && c.action == Action::Update));
    cloud.set_alarm("products-5xx", false);
    apply_ok(&stack("2.0"), &clients).await;
    assert_converged(&stack("2.0"), &clients).await;
}

#[tokio::test(start_paused = true)]
async fn the_wait_finds_its_service_deployment_once_then_asks_for_it_alone() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed().build().unwrap(), &clients).await;
    cloud.clear_call_log();
    apply_ok(
        &seed_with_image("products", "registry.example.com/microservices/products:2.0").build().unwrap(),
        &clients,
    )
    .await;
    // The wait's calls: those after the service's update.
    let log = cloud.call_log();
    let wait = &log[log.iter().position(|o| o == "UpdateService").unwrap()..];
    let count = |op: &str| wait.iter().filter(|o| *o == op).count();
    // One poll every 5 s through the fake's 60 s deployment: each reads the service and
    // its deployment; the list of deployments is read until this one is in it.
    let (polls, listed) = (count("DescribeServices"), count("ListServiceDeployments"));
    assert!((10..=16).contains(&polls), "{polls} polls");
    assert!((1..=2).contains(&listed), "{listed} ListServiceDeployments calls for {polls} polls");
    assert_eq!(count("DescribeServiceDeployments"), polls, "{wait:?}");
    assert_converged(
        &seed_with_image("products", "registry.example.com/microservices/products:2.0").build().unwrap(),
        &clients,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_crashing_container_fails_the_apply_at_the_circuit_breaker_naming_exit_code_and_reason() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed().build().unwrap(), &clients).await;
    cloud.crash_deployments_of("products", 137);
    cloud.clear_call_log();
    let broken = seed_with_image("products", "registry.example.com/microservices/products:oom").build().unwrap();
    let notes = Notes::default();
    let report = apply(&broken, &clients, options(minutes(15)), None, &notes).await.unwrap();
    let Outcome::Failed { error, .. } = &report.report.outcomes[&"service/products".into()] else {
        panic!("{:#?}", report.report)
    };
    assert!(error.contains("deployment of products failed: rolling rolled back"), "{error}");
    assert!(error.contains("ECS deployment circuit breaker"), "{error}");
    assert!(error.contains("Essential container in task exited (products exit code 137)"), "{error}");
    // The stopped tasks were reported as they stopped, once each.
    let stopped: Vec<String> = notes.all().into_iter().filter(|n| n.contains("stopped: Essential container")).collect();
    assert_eq!(stopped.len(), 2, "{stopped:#?}");
    assert!(stopped[0].starts_with("(service products) task "), "{stopped:?}");
    // Fast: a handful of polls, not a 15-minute wait (180 polls at 5 s).
    let polls = cloud.call_log().iter().filter(|op| *op == "DescribeServices").count();
    assert!(polls < 30, "{polls} DescribeServices calls");
    let deployments = cloud.call_log().iter().filter(|op| *op == "DescribeServiceDeployments").count();
    assert!(deployments > 0 && deployments < 30, "{deployments} DescribeServiceDeployments calls");
}

#[tokio::test(start_paused = true)]
async fn without_the_circuit_breaker_no_healthy_task_within_the_budget_fails_naming_the_exit_code() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let off = |image: &str| {
        seed_with_image("products", image)
            .with_service("test", "products", |s| s.circuit_breaker(CircuitBreaker::Off))
            .build()
            .unwrap()
    };
    apply_ok(&off("registry.example.com/microservices/products:1.0"), &clients).await;
    cloud.crash_deployments_of("products", 1);
    cloud.clear_call_log();
    let report =
        apply(&off("registry.example.com/microservices/products:2.0"), &clients, options(minutes(5)), None, &())
            .await
            .unwrap();
    let Outcome::Failed { error, .. } = &report.report.outcomes[&"service/products".into()] else {
        panic!("{:#?}", report.report)
    };
    assert!(error.contains("no task of products (mcsv-poc-products:2) was running after 5m"), "{error}");
    assert!(error.contains("exit code 1"), "{error}");
    assert!(error.contains("unable to consistently start tasks"), "{error}");
    // At the budget, not past it: 5 minutes of 5 s polls.
    let polls = cloud.call_log().iter().filter(|op| *op == "DescribeServices").count();
    assert!(polls <= 70, "{polls} DescribeServices calls");
}

#[tokio::test(start_paused = true)]
async fn status_says_where_the_canary_is() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let canary = Deployment::canary(5.0, minutes(10));
    apply_ok(&at_tag(canary, "1.0"), &clients).await;
    let v2 = at_tag(canary, "2.0");
    let (stack2, clients2) = (v2.clone(), clients.clone());
    let handle = tokio::spawn(async move { apply(&stack2, &clients2, options(minutes(15)), None, &()).await.unwrap() });
    let (rule, alt) = (arn_of(&cloud, "listener-rule/products"), arn_of(&cloud, "target-group/products/alternate"));
    while weight(&cloud, &rule, &alt) != 50 {
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    tokio::time::sleep(minutes(6)).await;
    let status = crate::status::status(&v2, &clients).await.unwrap();
    let text = status.render();
    assert!(text.contains("products: changing (ACTIVE)"), "{text}");
    assert!(text.contains("  strategy   canary 5%, baking, 4 min left"), "{text}");
    assert!(handle.await.unwrap().report.succeeded());
    // Done: the rolling service says nothing of a strategy; the canary one says it is done.
    let text = crate::status::status(&v2, &clients).await.unwrap().render();
    assert!(text.contains("  strategy   canary deployment successful"), "{text}");
    assert_eq!(text.matches("strategy").count(), 1, "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_fake_refuses_a_strategy_without_what_ecs_needs() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    apply_ok(&seed().build().unwrap(), &clients).await;
    let update = |c: DeploymentConfiguration| ServiceUpdate {
        cluster: "mcsv-poc".into(),
        service: "products".into(),
        deployment_configuration: Some(c),
        ..ServiceUpdate::default()
    };
    let breaker = crate::graph::props::DeploymentCircuitBreaker { enable: true, rollback: true };
    let mut c = DeploymentConfiguration::rolling(50, 200, breaker);
    c.strategy = DeploymentStrategy::BlueGreen;
    let e = clients.ecs.update_service(update(c.clone())).await.unwrap_err();
    assert!(e.to_string().contains("bakeTimeInMinutes is required"), "{e}");
    c.bake_time_in_minutes = Some(5);
    let e = clients.ecs.update_service(update(c.clone())).await.unwrap_err();
    assert!(e.to_string().contains("advancedConfiguration is required"), "{e}");
    c.strategy = DeploymentStrategy::Canary;
    c.canary = Some(TrafficStep { percent: Percent::tenths(0), bake_time_in_minutes: 5 });
    let e = clients.ecs.update_service(update(c.clone())).await.unwrap_err();
    assert!(e.to_string().contains("canaryPercent must be between 0.1 and 100.0"), "{e}");
    c.bake_time_in_minutes = Some(1441);
    let e = clients.ecs.update_service(update(c)).await.unwrap_err();
    assert!(e.to_string().contains("between 0 and 1440"), "{e}");
    // What ecs-kit declares passes: switching products to blue/green converges.
    let bg = with(Deployment::blue_green(minutes(1))).build().unwrap();
    apply_ok(&bg, &clients).await;
    assert_converged(&bg, &clients).await;
    assert_eq!(cloud.snapshot().count(ResourceType::TargetGroup), 3);
}

#[test]
fn service_macro_declares_a_pipelines_image_and_hooks_as_the_builder_does() {
    let hook = || LifecycleHook::lambda(SMOKE, [HookStage::PostScaleUp]).details(r#"{"k": 1}"#);
    let initial = String::from("registry.example.com/microservices/products:1.0");
    let by_macro = crate::service! {
        name: "products",
        external_image: initial,
        port: 8001,
        path: "/products",
        lifecycle_hooks: [hook()],
    };
    let by_builder = Service::new("products", "registry.example.com/microservices/products:0.1", 8001)
        .path("/products")
        .external_image("registry.example.com/microservices/products:1.0")
        .lifecycle_hook(hook());
    let build = |s: Service| seed().with_service("test", "products", |_| s).build().unwrap();
    let (a, b) = (build(by_macro), build(by_builder));
    let (a, b) = (a.service("products").unwrap(), b.service("products").unwrap());
    assert_eq!((&a.image, a.image_owner), (&b.image, b.image_owner));
    assert_eq!(a.image_owner, crate::graph::props::ImageOwner::Pipeline);
    assert_eq!(a.image, "registry.example.com/microservices/products:1.0");
    assert_eq!(a.deployment, b.deployment);
    assert_eq!(a.deployment.hooks[0].details, Some(serde_json::json!({"k": 1})));
}

#[test]
fn service_macro_declares_the_strategy_and_the_alarms_as_the_builder_does() {
    let by_macro = crate::service! {
        name: "products",
        image: "registry.example.com/microservices/products:latest",
        port: 8001,
        path: "/products",
        deployment: Deployment::linear(10.0, minutes(3)).bake(minutes(2)),
        rollback_alarms: ["products-5xx", "products-latency"],
    };
    let by_builder = Service::new("products", "registry.example.com/microservices/products:latest", 8001)
        .path("/products")
        .deployment(Deployment::linear(10.0, minutes(3)).bake(minutes(2)))
        .rollback_alarm("products-5xx")
        .rollback_alarm("products-latency");
    let build = |s: Service| seed().with_service("test", "products", |_| s).build().unwrap();
    let (a, b) = (build(by_macro), build(by_builder));
    assert_eq!(a.service("products").unwrap().deployment, b.service("products").unwrap().deployment);
    assert_eq!(
        a.service("products").unwrap().deployment.strategy,
        StrategySpec::Linear { step: Percent::tenths(100), step_bake_minutes: 3, bake_minutes: 2 }
    );
    assert_eq!(a.service("products").unwrap().deployment.alarms, ["products-5xx", "products-latency"]);
}
