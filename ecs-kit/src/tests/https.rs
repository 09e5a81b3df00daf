//! HTTPS and host routing across the layers: what `build()` refuses, the graph it
//! expands to (ports, listeners, rules, certificates), and apply-then-plan on the fake
//! cloud (an HTTPS stack with hosts; adding and removing an extra certificate).

use crate::apply::{apply, ApplyOptions};
use crate::destroy::{destroy, DestroyOptions};
use crate::diff::Action;
use crate::dsl::{LoadBalancer, Service, StackBuilder};
use crate::graph::props::{ListenerProps, ListenerRuleProps, Peer, Redirect, RefOr, SecurityGroupProps};
use crate::graph::{Graph, Properties, ResourceType};
use crate::model::{seed, Stack, ValidationErrors, DEFAULT_TLS_POLICY};
use crate::plan::plan;
use crate::testing::FakeCloud;
use crate::walk::RetryPolicy;

const CERT: &str = "arn:aws:acm:us-west-2:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
const CERT2: &str = "arn:aws:acm:us-west-2:123456789012:certificate/9f8e7d6c-1111-2222-3333-444455556666";
const IAM_CERT: &str = "arn:aws:iam::123456789012:server-certificate/legacy/shop";

/// The seed stack with an HTTPS load balancer built by `lb` and `products` at a host.
fn https(lb: impl FnOnce(LoadBalancer) -> LoadBalancer) -> StackBuilder {
    seed()
        .with_load_balancer(|_| lb(LoadBalancer::public().https(CERT)))
        .with_service("test", "products", |s| s.host("api.example.com"))
}

fn graph(b: StackBuilder) -> Graph {
    Graph::from_stack(&b.build().expect("valid")).expect("consistent")
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

fn listener(g: &Graph, id: &str) -> ListenerProps {
    match &*g.get(id).unwrap_or_else(|| panic!("{id} missing")).properties {
        Properties::Listener(p) => p.clone(),
        other => panic!("{id}: {other:?}"),
    }
}

fn rule(g: &Graph, id: &str) -> ListenerRuleProps {
    match &*g.get(id).unwrap_or_else(|| panic!("{id} missing")).properties {
        Properties::ListenerRule(p) => p.clone(),
        other => panic!("{id}: {other:?}"),
    }
}

/// The load balancer group's ingress, as `(from, to, cidr)`.
fn lb_ingress(g: &Graph) -> Vec<(i32, i32, String)> {
    let Properties::SecurityGroup(SecurityGroupProps { ingress, .. }) =
        &*g.get("security-group/load-balancer").unwrap().properties
    else {
        panic!("not a security group")
    };
    ingress
        .iter()
        .map(|r| match &r.peer {
            Peer::CidrIpv4(cidr) => (r.from_port, r.to_port, cidr.clone()),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn certificates_policies_and_hosts_are_checked_all_at_once_naming_the_field_and_the_fix() {
    let e = errors(
        seed()
            .with_load_balancer(|_| {
                LoadBalancer::public()
                    .https("arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111")
                    .certificate("not-an-arn")
                    .certificate("arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111")
                    .tls_policy("TLS-1.3-only")
                    .port(443)
            })
            .with_service("test", "products", |s| s.host("api..example.com"))
            .with_service("test", "product-web", |s| s.host(format!("{}.example.com", "a".repeat(130)))),
    );
    assert_problem(&e, "load_balancer.https", "is in region `eu-west-1` but the stack lives in `us-west-2`");
    assert_problem(&e, "load_balancer.https", "request or import the certificate in `us-west-2`");
    assert_problem(&e, "load_balancer.certificates[0]", "`not-an-arn` is not a certificate ARN: write `arn:aws:acm:us-west-2:123456789012:certificate/ID` (ACM) or `arn:aws:iam::123456789012:server-certificate/NAME` (IAM)");
    assert_problem(&e, "load_balancer.certificates[1]", "is given twice (the default certificate counts)");
    assert_problem(
        &e,
        "load_balancer.tls_policy",
        "`TLS-1.3-only` is not an ELB security policy name: use one such as `ELBSecurityPolicy-TLS13-1-2-2021-06`",
    );
    assert_problem(&e, "load_balancer.port", "443 is the HTTPS listener's port");
    assert_problem(&e, "services[1].host", "`api..example.com` is not a host name");
    assert_problem(&e, "services[0].host", "at most 128 characters");
    // Every message is lowercase at the start and has no trailing period.
    for p in e.errors() {
        assert!(!p.message.ends_with('.') && !p.message.starts_with(char::is_uppercase), "{p}");
    }
}

#[test]
fn https_settings_without_https_and_hosts_without_a_load_balancer_are_errors() {
    let e = errors(
        seed().with_load_balancer(|lb| lb.certificate(CERT).tls_policy(DEFAULT_TLS_POLICY).redirect_http(false)),
    );
    for field in ["load_balancer.certificates", "load_balancer.tls_policy", "load_balancer.redirect_http"] {
        assert_problem(&e, field, "add `.https(certificate_arn)` to the load balancer");
    }
    let e = errors(
        Stack::builder("shop")
            .region("us-west-2")
            .service(Service::new("api", "nginx:1.27", 80).host("api.example.com")),
    );
    assert_problem(&e, "services[0].host", "the stack has no load balancer");
}

#[test]
fn wildcards_iam_certificates_and_routes_that_share_a_path_on_other_hosts_are_valid() {
    let stack = seed()
        .with_load_balancer(|_| LoadBalancer::internal().https(IAM_CERT).certificate(CERT2))
        .service(Service::new("admin", "nginx:1.27", 8002).host("*.Admin.example.com").path("/products"))
        .service(Service::new("beta", "nginx:1.27", 8003).host("b?ta.example.com"))
        .build()
        .unwrap();
    let admin = stack.service("admin").unwrap().routing.as_ref().unwrap();
    assert_eq!(admin.host.as_deref(), Some("*.admin.example.com"), "hosts match without regard to case");
    let beta = stack.service("beta").unwrap().routing.as_ref().unwrap();
    assert_eq!((beta.path.as_str(), beta.health_check.path.as_str()), ("/", "/"));
    let https = stack.load_balancer.as_ref().unwrap().https.as_ref().unwrap();
    assert_eq!((https.port, https.tls_policy.as_str(), https.redirect_http), (443, DEFAULT_TLS_POLICY, true));
}

#[test]
fn the_same_route_twice_and_no_default_route_are_errors() {
    let e = errors(
        seed()
            .service(Service::new("a", "nginx:1.27", 8002).host("api.example.com"))
            .service(Service::new("b", "nginx:1.27", 8003).host("api.example.com")),
    );
    assert_problem(&e, "services[3].host", "the host `api.example.com` is also the route of services[2] (a)");
    // A host at `/` is not the default route.
    let e = errors(seed().with_service("test", "product-web", |s| s.host("www.example.com")));
    assert_problem(&e, "services", "exactly one service at `/` without a host");
}

#[test]
fn with_https_the_rules_sit_on_the_https_listener_and_port_80_redirects() {
    let g = graph(https(|lb| lb));
    let tls = listener(&g, "listener/https");
    assert_eq!((tls.protocol.as_str(), tls.port), ("HTTPS", 443));
    assert_eq!(tls.certificate_arn.as_deref(), Some(CERT));
    assert_eq!(tls.ssl_policy.as_deref(), Some(DEFAULT_TLS_POLICY));
    assert_eq!(
        tls.default_target_group_arn,
        Some(RefOr::to(&crate::graph::LogicalId::new("target-group/product-web"), crate::graph::Attr::Arn))
    );
    let http = listener(&g, "listener/http");
    assert_eq!(
        (http.port, http.default_target_group_arn, http.redirect),
        (80, None, Some(Redirect { protocol: "HTTPS".into(), port: "443".into(), status_code: "HTTP_301".into() }))
    );
    let products = rule(&g, "listener-rule/products");
    assert!(matches!(&products.listener_arn, RefOr::Ref(r) if r.id.as_str() == "listener/https"), "{products:?}");
    assert_eq!(products.host_headers, ["api.example.com"]);
    assert_eq!(products.path_patterns, ["/products", "/products/*"]);
    let deps: Vec<&str> = g.get("listener-rule/products").unwrap().depends_on.iter().map(|d| d.as_str()).collect();
    assert_eq!(deps, ["listener/https", "target-group/products"]);
    assert_eq!(lb_ingress(&g), [(80, 80, "0.0.0.0/0".to_owned()), (443, 443, "0.0.0.0/0".to_owned())]);
    // Services wait for what attaches their target group.
    let svc = &g.get("service/product-web").unwrap().depends_on;
    assert!(svc.iter().any(|d| d.as_str() == "listener/https"), "{svc:?}");
}

#[test]
fn without_the_redirect_there_is_no_http_listener_and_only_443_is_open() {
    let g = graph(https(|lb| lb.redirect_http(false)));
    assert!(g.get("listener/http").is_none());
    assert_eq!(lb_ingress(&g), [(443, 443, "0.0.0.0/0".to_owned())]);
    // Internal: open to the VPC only, as for plain HTTP.
    let g = graph(https(|_| LoadBalancer::internal().https(CERT)));
    assert_eq!(lb_ingress(&g), [(80, 80, "10.10.0.0/16".to_owned()), (443, 443, "10.10.0.0/16".to_owned())]);
}

#[test]
fn extra_certificates_are_listener_certificates_named_after_their_arn() {
    let g = graph(https(|lb| lb.certificate(CERT2).certificate(IAM_CERT)));
    let certs: Vec<(&str, &str)> = g
        .resources()
        .iter()
        .filter(|r| r.resource_type == ResourceType::ListenerCertificate)
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(
        certs,
        [
            (
                "listener-certificate/9f8e7d6c-1111-2222-3333-444455556666",
                "mcsv-poc-certificate-9f8e7d6c-1111-2222-3333-444455556666"
            ),
            ("listener-certificate/legacy/shop", "mcsv-poc-certificate-legacy-shop"),
        ]
    );
    let r = g.get("listener-certificate/legacy/shop").unwrap();
    assert!(r.tags.is_empty(), "untaggable: owned through the listener");
    assert_eq!(r.depends_on.iter().map(|d| d.as_str()).collect::<Vec<_>>(), ["listener/https"]);
}

#[test]
fn host_rules_come_before_path_rules_and_plain_priorities_do_not_move() {
    let plain = graph(seed());
    let before = rule(&plain, "listener-rule/products").priority;
    let g = graph(
        seed()
            .service(Service::new("api", "nginx:1.27", 8002).host("api.example.com"))
            .service(Service::new("api-v1", "nginx:1.27", 8003).host("api.example.com").path("/v1"))
            .service(Service::new("wild", "nginx:1.27", 8004).host("*.example.com")),
    );
    let p = |id: &str| rule(&g, id).priority;
    assert_eq!(p("listener-rule/products"), before, "adding host rules renumbers no path rule");
    assert!(p("listener-rule/api-v1") < p("listener-rule/api"), "a host's path before its catch-all");
    assert!(p("listener-rule/api") < p("listener-rule/products"), "host rules before path rules");
    assert!((25_001..=25_999).contains(&p("listener-rule/wild")));
    let all: std::collections::BTreeSet<u32> =
        ["products", "api", "api-v1", "wild"].iter().map(|s| p(&format!("listener-rule/{s}"))).collect();
    assert_eq!(all.len(), 4, "no two rules share a priority");
    assert!(rule(&g, "listener-rule/api").path_patterns.is_empty(), "a host alone matches every path");
    // Deterministic: the same declaration gives the same numbers.
    assert_eq!(
        graph(seed().service(Service::new("api", "nginx:1.27", 8002).host("api.example.com")))
            .get("listener-rule/api")
            .unwrap()
            .properties,
        g.get("listener-rule/api").unwrap().properties
    );
}

fn options() -> ApplyOptions {
    ApplyOptions { retry: RetryPolicy { seed: 3, ..RetryPolicy::default() }, ..ApplyOptions::default() }
}

async fn converge(stack: &Stack, clients: &crate::aws::Clients) {
    let report = apply(stack, clients, options(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:#?}", report.report.outcomes);
    let again = plan(stack, clients).await.unwrap();
    assert!(!again.has_changes(), "{}", again.render());
}

fn changes(p: &crate::plan::Plan) -> Vec<(String, Action)> {
    p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.id.to_string(), c.action)).collect()
}

#[tokio::test(start_paused = true)]
async fn an_https_stack_with_hosts_applies_then_plans_no_changes_and_destroys_to_nothing() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = https(|lb| lb.certificate(CERT2)).build().unwrap();
    converge(&stack, &clients).await;
    assert_eq!(cloud.snapshot().count(ResourceType::ListenerCertificate), 1);
    let report =
        destroy(&stack, &clients, DestroyOptions { delete_data: true, ..DestroyOptions::default() }, None, &())
            .await
            .unwrap();
    assert!(report.report.succeeded(), "{:#?}", report.report.outcomes);
    let left: Vec<_> = cloud.snapshot().of_stack(&stack.name).map(|r| r.resource_type).collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(cloud.snapshot().count(ResourceType::ListenerCertificate), 0);
}

#[tokio::test(start_paused = true)]
async fn adding_and_removing_an_extra_certificate_touches_only_it() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let one = https(|lb| lb).build().unwrap();
    converge(&one, &clients).await;
    let two = https(|lb| lb.certificate(CERT2)).build().unwrap();
    let add = plan(&two, &clients).await.unwrap();
    let id = "listener-certificate/9f8e7d6c-1111-2222-3333-444455556666";
    assert_eq!(changes(&add), [(id.to_owned(), Action::Create)], "{}", add.render());
    converge(&two, &clients).await;
    let remove = plan(&one, &clients).await.unwrap();
    assert_eq!(changes(&remove), [(id.to_owned(), Action::Delete)], "{}", remove.render());
    converge(&one, &clients).await;
    assert_eq!(cloud.snapshot().count(ResourceType::ListenerCertificate), 0);
}

#[tokio::test(start_paused = true)]
async fn turning_https_on_updates_port_80_in_place_and_moves_the_rules() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    converge(&seed().build().unwrap(), &clients).await;
    let secure = https(|lb| lb).build().unwrap();
    let p = plan(&secure, &clients).await.unwrap();
    let got = changes(&p);
    assert!(got.contains(&("listener/http".to_owned(), Action::Update)), "{}", p.render());
    assert!(got.contains(&("listener/https".to_owned(), Action::Create)), "{}", p.render());
    assert!(got.contains(&("listener-rule/products".to_owned(), Action::Replace)), "{}", p.render());
    assert!(got.contains(&("security-group/load-balancer".to_owned(), Action::Update)), "{}", p.render());
    converge(&secure, &clients).await;
    // And back to plain HTTP.
    converge(&seed().build().unwrap(), &clients).await;
}

#[test]
fn the_service_macro_takes_a_host_alone_or_with_a_path() {
    let stack = seed()
        .service(crate::service! { name: "api", image: "nginx:1.27", port: 8002, host: "api.example.com" })
        .service(crate::service! { name: "v1", image: "nginx:1.27", port: 8003, host: "api.example.com", path: "/v1" })
        .build()
        .unwrap();
    let route = |n: &str| {
        let r = stack.service(n).unwrap().routing.as_ref().unwrap();
        (r.host.clone().unwrap(), r.path.clone())
    };
    assert_eq!(route("api"), ("api.example.com".to_owned(), "/".to_owned()));
    assert_eq!(route("v1"), ("api.example.com".to_owned(), "/v1".to_owned()));
}

#[tokio::test(start_paused = true)]
async fn a_foreign_listener_certificates_on_the_stack_load_balancer_are_left_alone() {
    let cloud = FakeCloud::new("us-west-2");
    let clients = cloud.clients();
    let stack = https(|lb| lb).build().unwrap();
    converge(&stack, &clients).await;
    // Someone adds a listener of their own, with an extra certificate, to the stack's
    // load balancer.
    let snapshot = cloud.snapshot();
    let lb = snapshot.live(ResourceType::LoadBalancer).next().unwrap().id.clone();
    let theirs = ListenerProps {
        load_balancer_arn: RefOr::Value(lb),
        protocol: "HTTPS".into(),
        port: 8443,
        default_target_group_arn: None,
        redirect: None,
        fixed_response: Some(crate::graph::props::FixedResponse {
            status_code: "404".into(),
            content_type: "text/plain".into(),
            message_body: String::new(),
        }),
        certificate_arn: Some(CERT.into()),
        ssl_policy: Some(DEFAULT_TLS_POLICY.into()),
    };
    let someone = crate::aws::Tags::from([("owner".into(), "someone".into())]);
    let listener = clients.elb.create_listener(theirs, someone).await.unwrap();
    clients.elb.add_listener_certificates(listener.clone(), vec![CERT2.into()]).await.unwrap();
    // Not the stack's: neither planned for deletion nor deleted.
    let p = plan(&stack, &clients).await.unwrap();
    assert!(!p.has_changes(), "{}", p.render());
    converge(&stack, &clients).await;
    let certificates = clients.elb.describe_listener_certificates(listener).await.unwrap();
    assert_eq!(certificates.len(), 1, "{certificates:?}");
}
