//! Graph expansion: counts, dependencies, CIDR layout, golden ids and names, cycles.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use proptest::prelude::*;

use super::props::*;
use super::*;
use crate::dsl::{Cluster, FileSystem, LoadBalancer, NatGateways, Network, Secret, Service, StackBuilder};
use crate::model::{seed, Stack};

fn graph(b: StackBuilder) -> Graph {
    Graph::from_stack(&b.build().expect("valid")).expect("consistent")
}

fn deps(g: &Graph, id: &str) -> Vec<String> {
    g.get(id).unwrap_or_else(|| panic!("{id} missing")).depends_on.iter().map(ToString::to_string).collect()
}

fn stack_with(services: usize, zones: u8, lb: bool) -> StackBuilder {
    let mut b = Stack::builder("shop")
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(zones))
        .file_system(FileSystem::encrypted());
    if lb {
        b = b.load_balancer(LoadBalancer::public());
    }
    for i in 0..services {
        let mut s = Service::new(format!("svc{i}"), "nginx:1.25", 8000);
        if lb {
            s = s.path(if i == 0 { "/".to_owned() } else { format!("/svc{i}") });
        }
        b = b.service(s);
    }
    b
}

/// The expected count of each type for `s` services over `n` zones, all routed.
fn expected_counts(s: usize, n: usize, lb: bool) -> BTreeMap<ResourceType, usize> {
    use ResourceType as T;
    let mut m = BTreeMap::from([
        (T::Vpc, 1),
        (T::InternetGateway, 1),
        (T::Subnet, 2 * n),
        (T::Eip, n),
        (T::NatGateway, n),
        (T::RouteTable, 1 + n),
        (T::SecurityGroup, if lb { 3 } else { 2 }),
        (T::IamRole, 2 + s),
        (T::InstanceProfile, 1),
        (T::LaunchTemplate, 1),
        (T::AutoScalingGroup, 1),
        (T::CapacityProvider, 1),
        (T::Cluster, 1),
        (T::FileSystem, 1),
        (T::MountTarget, n),
        (T::AccessPoint, s),
        (T::LogGroup, s),
        (T::TaskDefinition, s),
        (T::EcsService, s),
    ]);
    if lb {
        m.extend([(T::LoadBalancer, 1), (T::Listener, 1), (T::TargetGroup, s), (T::ListenerRule, s - 1)]);
    }
    m.retain(|_, v| *v > 0);
    m
}

#[test]
fn resource_counts_for_1_2_and_10_services_over_1_to_3_zones() {
    for s in [1, 2, 10] {
        for n in 1..=3u8 {
            let lb = n >= 2;
            let g = graph(stack_with(s, n, lb));
            assert_eq!(g.count_by_type(), expected_counts(s, usize::from(n), lb), "{s} services, {n} zones");
        }
    }
    assert_eq!(graph(seed()).resources().len(), 41);
}

#[test]
fn cidr_layout_is_the_templates() {
    let subnet = |g: &Graph, id: &str| match &*g.get(id).unwrap().properties {
        Properties::Subnet(p) => p.cidr_block.clone(),
        other => panic!("{other:?}"),
    };
    let g = graph(seed());
    assert_eq!(subnet(&g, "subnet/public/0"), "10.10.0.0/24");
    assert_eq!(subnet(&g, "subnet/public/1"), "10.10.1.0/24");
    assert_eq!(subnet(&g, "subnet/private/0"), "10.10.2.0/24");
    assert_eq!(subnet(&g, "subnet/private/1"), "10.10.3.0/24");
    let g = graph(stack_with(1, 3, true));
    let got: Vec<String> = ["public/0", "public/1", "public/2", "private/0", "private/1", "private/2"]
        .iter()
        .map(|s| subnet(&g, &format!("subnet/{s}")))
        .collect();
    assert_eq!(got, ["10.10.0.0/24", "10.10.1.0/24", "10.10.2.0/24", "10.10.3.0/24", "10.10.4.0/24", "10.10.5.0/24"]);
    let g = graph(stack_with(1, 2, true).network(Network::new("172.16.0.0/20").availability_zones(2).subnet_bits(4)));
    assert_eq!(subnet(&g, "subnet/private/1"), "172.16.3.0/24");
}

/// Golden: ids, types and AWS names end up in AWS tags and names; they must never drift.
#[test]
fn golden_ids_types_and_names_of_the_seed_stack() {
    let g = graph(seed());
    let got: Vec<(String, &str, String)> =
        g.resources().iter().map(|r| (r.id.to_string(), r.resource_type.as_str(), r.name.clone())).collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let expected = [
        ("access-point/product-web", "efs:access-point", "mcsv-poc-product-web"),
        ("access-point/products", "efs:access-point", "mcsv-poc-products"),
        ("autoscaling-group", "autoscaling:group", "mcsv-poc-instances"),
        ("capacity-provider", "ecs:capacity-provider", "mcsv-poc-capacity"),
        ("cluster", "ecs:cluster", "mcsv-poc"),
        ("eip/0", "ec2:eip", "mcsv-poc-nat-0"),
        ("eip/1", "ec2:eip", "mcsv-poc-nat-1"),
        ("file-system", "efs:file-system", "mcsv-poc-efs"),
        ("instance-profile", "iam:instance-profile", "mcsv-poc-us-west-2-instance"),
        ("internet-gateway", "ec2:internet-gateway", "mcsv-poc-igw"),
        ("launch-template", "ec2:launch-template", "mcsv-poc-instances"),
        ("listener-rule/products", "elbv2:listener-rule", "mcsv-poc-products"),
        ("listener/http", "elbv2:listener", "mcsv-poc-http"),
        ("load-balancer", "elbv2:load-balancer", "mcsv-poc"),
        ("log-group/product-web", "logs:log-group", "/ecs/mcsv-poc/product-web"),
        ("log-group/products", "logs:log-group", "/ecs/mcsv-poc/products"),
        ("mount-target/0", "efs:mount-target", "mcsv-poc-efs-0"),
        ("mount-target/1", "efs:mount-target", "mcsv-poc-efs-1"),
        ("nat-gateway/0", "ec2:nat-gateway", "mcsv-poc-nat-0"),
        ("nat-gateway/1", "ec2:nat-gateway", "mcsv-poc-nat-1"),
        ("role/execution", "iam:role", "mcsv-poc-us-west-2-execution"),
        ("role/instance", "iam:role", "mcsv-poc-us-west-2-instance"),
        ("role/task/product-web", "iam:role", "mcsv-poc-us-west-2-task-product-web"),
        ("role/task/products", "iam:role", "mcsv-poc-us-west-2-task-products"),
        ("route-table/private/0", "ec2:route-table", "mcsv-poc-private-0"),
        ("route-table/private/1", "ec2:route-table", "mcsv-poc-private-1"),
        ("route-table/public", "ec2:route-table", "mcsv-poc-public"),
        ("security-group/file-system", "ec2:security-group", "mcsv-poc-file-system"),
        ("security-group/instances", "ec2:security-group", "mcsv-poc-instances"),
        ("security-group/load-balancer", "ec2:security-group", "mcsv-poc-load-balancer"),
        ("service/product-web", "ecs:service", "product-web"),
        ("service/products", "ecs:service", "products"),
        ("subnet/private/0", "ec2:subnet", "mcsv-poc-private-0"),
        ("subnet/private/1", "ec2:subnet", "mcsv-poc-private-1"),
        ("subnet/public/0", "ec2:subnet", "mcsv-poc-public-0"),
        ("subnet/public/1", "ec2:subnet", "mcsv-poc-public-1"),
        ("target-group/product-web", "elbv2:target-group", "mcsv-poc-product-web"),
        ("target-group/products", "elbv2:target-group", "mcsv-poc-products"),
        ("task-definition/product-web", "ecs:task-definition", "mcsv-poc-product-web"),
        ("task-definition/products", "ecs:task-definition", "mcsv-poc-products"),
        ("vpc", "ec2:vpc", "mcsv-poc-vpc"),
    ];
    let expected: Vec<(String, &str, String)> =
        expected.iter().map(|(a, b, c)| ((*a).to_owned(), *b, (*c).to_owned())).collect();
    assert_eq!(got_sorted, expected);
    // Dependency order with the id as tie-break: at each step the smallest id whose
    // dependencies are done (access points become ready once the file system is).
    let first: Vec<&str> = got.iter().take(4).map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(first, ["eip/0", "eip/1", "file-system", "access-point/product-web"]);
}

#[test]
fn long_names_are_fitted_to_aws_limits() {
    let g = graph(
        Stack::builder("a-stack-name-that-is-quite-long-indeed")
            .region("ap-southeast-2")
            .load_balancer(LoadBalancer::public())
            .service(Service::new("a-service-with-a-long-name-too", "nginx", 80).path("/")),
    );
    let name = |id: &str| g.get(id).unwrap().name.clone();
    assert_eq!(name("load-balancer"), "a-stack-name-that-is-qu-7945df4e");
    assert_eq!(name("target-group/a-service-with-a-long-name-too").len(), 32);
    assert_eq!(name("role/task/a-service-with-a-long-name-too").len(), 64);
    for r in g.resources() {
        let limit = match r.resource_type {
            ResourceType::LoadBalancer | ResourceType::TargetGroup => 32,
            ResourceType::IamRole | ResourceType::InstanceProfile => 64,
            _ => 255,
        };
        assert!(r.name.len() <= limit, "{} is {} long", r.id, r.name.len());
    }
}

#[test]
fn key_dependencies() {
    let g = graph(seed());
    assert_eq!(deps(&g, "nat-gateway/0"), ["eip/0", "internet-gateway", "subnet/public/0"]);
    assert_eq!(deps(&g, "route-table/private/1"), ["nat-gateway/1", "subnet/private/1", "vpc"]);
    assert_eq!(deps(&g, "listener-rule/products"), ["listener/http", "target-group/products"]);
    assert_eq!(deps(&g, "listener/http"), ["load-balancer", "target-group/product-web"]);
    assert_eq!(deps(&g, "mount-target/1"), ["file-system", "security-group/file-system", "subnet/private/1"]);
    assert_eq!(deps(&g, "cluster"), ["capacity-provider"]);
    assert_eq!(deps(&g, "capacity-provider"), ["autoscaling-group"]);
    assert_eq!(
        deps(&g, "task-definition/products"),
        [
            "access-point/products",
            "file-system",
            "load-balancer",
            "log-group/products",
            "role/execution",
            "role/task/products"
        ]
    );
    assert_eq!(
        deps(&g, "service/products"),
        [
            "capacity-provider",
            "cluster",
            "listener-rule/products",
            "mount-target/0",
            "mount-target/1",
            "route-table/private/0",
            "route-table/private/1",
            "target-group/products",
            "task-definition/products",
        ]
    );
    // The root service hangs on the listener, whose default action is its target group.
    assert!(deps(&g, "service/product-web").contains(&"listener/http".to_owned()));
}

#[test]
fn task_definition_has_endpoint_env_logs_and_efs() {
    let g = graph(seed().service(
        Service::new("w", "busybox", 1).env("B", "2").env("A", "1").secret("PASS", Secret::ssm("/prod/pass")),
    ));
    let json = serde_json::to_value(&*g.get("task-definition/w").unwrap().properties).unwrap();
    let c = &json["container_definitions"][0];
    assert_eq!(
        c["environment"],
        serde_json::json!([
            {"name": "A", "value": "1"},
            {"name": "B", "value": "2"},
            {"name": "ENDPOINT", "value": {"ref": "load-balancer", "attr": "dns_name"}},
        ])
    );
    assert_eq!(c["secrets"], serde_json::json!([{"name": "PASS", "value_from": "/prod/pass"}]));
    assert_eq!(c["port_mappings"], serde_json::json!([{"container_port": 1, "host_port": 0, "protocol": "tcp"}]));
    assert_eq!(
        c["log_configuration"]["options"]["awslogs-group"],
        serde_json::json!({"ref": "log-group/w", "attr": "name"})
    );
    assert_eq!(
        c["mount_points"],
        serde_json::json!([{"source_volume": "efs", "container_path": "/mnt", "read_only": false}])
    );
    assert_eq!(json["volumes"][0]["efs_volume_configuration"]["transit_encryption"], "ENABLED");
    assert_eq!(
        json["volumes"][0]["efs_volume_configuration"]["access_point_id"],
        serde_json::json!({"ref": "access-point/w", "attr": "id"})
    );
    assert_eq!(json["network_mode"], "bridge");
    // The execution role may read exactly the declared secret.
    let exec = serde_json::to_value(&*g.get("role/execution").unwrap().properties).unwrap();
    assert_eq!(
        exec["inline_policies"]["ecs-kit-secrets"]["Statement"],
        serde_json::json!([{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": ["arn:aws:ssm:us-west-2:*:parameter/prod/pass"]}])
    );
}

#[test]
fn access_points_and_task_roles_are_per_service() {
    let g = graph(seed());
    let Properties::AccessPoint(ap) = &*g.get("access-point/products").unwrap().properties else { panic!() };
    assert_eq!(ap.root_directory.path, "/products");
    let Properties::Role(role) = &*g.get("role/task/products").unwrap().properties else { panic!() };
    assert_eq!(role.managed_policy_arns, ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
    let efs = &role.inline_policies["ecs-kit-efs"]["Statement"][0];
    assert_eq!(
        efs["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"],
        serde_json::json!({"ref": "access-point/products", "attr": "arn"})
    );
    let Properties::Role(web) = &*g.get("role/task/product-web").unwrap().properties else { panic!() };
    assert!(web.managed_policy_arns.is_empty(), "the policy is on products only");
}

#[test]
fn security_group_rules() {
    let rules = |g: &Graph, id: &str| match &*g.get(id).unwrap().properties {
        Properties::SecurityGroup(p) => (p.ingress.clone(), p.egress.clone()),
        other => panic!("{other:?}"),
    };
    let g = graph(seed());
    let (lb_in, _) = rules(&g, "security-group/load-balancer");
    assert_eq!((lb_in[0].from_port, &lb_in[0].peer), (80, &Peer::CidrIpv4("0.0.0.0/0".into())));
    let (inst_in, _) = rules(&g, "security-group/instances");
    assert_eq!(inst_in.len(), 1, "no SSH without a key");
    assert_eq!(inst_in[0].peer, Peer::SecurityGroupId(RefOr::to(&"security-group/load-balancer".into(), Attr::Id)));
    let (efs_in, efs_out) = rules(&g, "security-group/file-system");
    assert_eq!((efs_in[0].from_port, efs_in[0].to_port), (2049, 2049));
    assert!(efs_out.is_empty());

    let g = graph(
        seed()
            .load_balancer(LoadBalancer::internal().port(8080))
            .cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("203.0.113.7/32")),
    );
    let (lb_in, _) = rules(&g, "security-group/load-balancer");
    assert_eq!((lb_in[0].from_port, &lb_in[0].peer), (8080, &Peer::CidrIpv4("10.10.0.0/16".into())));
    let (inst_in, _) = rules(&g, "security-group/instances");
    assert!(inst_in.iter().any(|r| r.from_port == 22 && r.peer == Peer::CidrIpv4("203.0.113.7/32".into())));
    let Properties::LoadBalancer(lb) = &*g.get("load-balancer").unwrap().properties else { panic!() };
    assert_eq!(lb.scheme, "internal");
    assert_eq!(
        lb.subnets,
        [RefOr::to(&"subnet/private/0".into(), Attr::Id), RefOr::to(&"subnet/private/1".into(), Attr::Id)]
    );
}

#[test]
fn launch_template_requires_imdsv2_and_joins_the_cluster() {
    let g = graph(seed());
    let Properties::LaunchTemplate(lt) = &*g.get("launch-template").unwrap().properties else { panic!() };
    assert_eq!(lt.metadata_options.http_tokens, "required");
    assert!(lt.user_data.contains("ECS_CLUSTER=mcsv-poc\n"), "{}", lt.user_data);
    assert_eq!(lt.key_name, None);
    assert!(!lt.instance_tags.contains_key(crate::model::ID_TAG), "instances are not resources of the stack");
}

#[test]
fn single_nat_gateway() {
    let g = graph(seed().network(Network::new("10.10.0.0/16").availability_zones(3).nat_gateways(NatGateways::Single)));
    assert_eq!(g.count_by_type()[&ResourceType::NatGateway], 1);
    assert_eq!(deps(&g, "route-table/private/2"), ["nat-gateway/0", "subnet/private/2", "vpc"]);
}

#[test]
fn ownership_and_user_tags() {
    let g = graph(seed().tag("team", "shop").service(Service::new("w", "busybox", 1).tag("tier", "batch")));
    for r in g.resources() {
        if r.resource_type.taggable() {
            assert_eq!(r.tags.get("ecs-kit:stack").map(String::as_str), Some("mcsv-poc"), "{}", r.id);
            assert_eq!(r.tags.get("ecs-kit:id").map(String::as_str), Some(r.id.as_str()));
            assert_eq!(r.tags.get("team").map(String::as_str), Some("shop"), "{}", r.id);
        } else {
            assert!(r.tags.is_empty(), "{} cannot carry tags", r.id);
        }
    }
    assert_eq!(g.get("service/w").unwrap().tags.get("tier").map(String::as_str), Some("batch"));
    assert!(!g.get("service/products").unwrap().tags.contains_key("tier"));
}

#[test]
fn synth_json_shape() {
    let g = graph(seed());
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["stack"], "mcsv-poc");
    let first = &json["resources"][0];
    for key in ["id", "type", "depends_on", "properties"] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
    let types: std::collections::BTreeSet<&str> =
        json["resources"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    let mut all: std::collections::BTreeSet<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
    // Extra certificates come with HTTPS only, scaling with autoscaling only.
    for t in [
        "elbv2:listener-certificate",
        "application-autoscaling:scalable-target",
        "application-autoscaling:scaling-policy",
    ] {
        all.remove(t);
    }
    assert_eq!(types, all, "the seed stack uses every type of the closed set but certificates and scaling");
    let acm = |id: &str| format!("arn:aws:acm:us-west-2:123456789012:certificate/{id}");
    let secure = graph(
        seed().with_load_balancer(|_| LoadBalancer::public().https(acm("a")).certificate(acm("b"))).with_service(
            "test",
            "products",
            |s| s.autoscale(2, 4),
        ),
    );
    let types: std::collections::BTreeSet<ResourceType> = secure.resources().iter().map(|r| r.resource_type).collect();
    assert_eq!(types.len(), ResourceType::ALL.len(), "with HTTPS, an extra certificate and autoscaling: every type");
}

fn bare(id: &str, deps: &[&str]) -> Resource {
    Resource {
        id: id.into(),
        resource_type: ResourceType::Eip,
        name: id.into(),
        depends_on: deps.iter().map(|d| LogicalId::from(*d)).collect(),
        properties: Properties::Eip(EipProps { domain: "vpc".into() }).into(),
        tags: BTreeMap::new(),
    }
}

#[test]
fn a_cycle_is_an_error_naming_it() {
    let err = Graph::new(
        "s".into(),
        vec![bare("a", &["b"]), bare("b", &["c"]), bare("c", &["a"]), bare("d", &[]), bare("e", &["a"])],
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
    let err = Graph::new("s".into(), vec![bare("a", &["a"])]).unwrap_err();
    assert_eq!(err.to_string(), "dependency cycle: a -> a");
}

#[test]
fn structural_errors() {
    let err = Graph::new("s".into(), vec![bare("a", &["missing"])]).unwrap_err();
    assert_eq!(err, GraphError::MissingDependency { from: "a".into(), missing: "missing".into() });
    let err = Graph::new("s".into(), vec![bare("a", &[]), bare("a", &[])]).unwrap_err();
    assert_eq!(err, GraphError::DuplicateId("a".into()));
    let mut b = bare("b", &[]);
    b.properties =
        Properties::InternetGateway(InternetGatewayProps { vpc_id: RefOr::to(&"a".into(), Attr::Id) }).into();
    let err = Graph::new("s".into(), vec![bare("a", &[]), b]).unwrap_err();
    assert_eq!(err, GraphError::UndeclaredReference { from: "b".into(), to: "a".into() });
}

fn arb_stack() -> impl Strategy<Value = StackBuilder> {
    (
        0usize..12,
        1u8..=4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(("[a-z]{1,6}", 0u8..3, any::<bool>()), 0..12),
    )
        .prop_map(|(extra, zones, lb, efs, single_nat, ssh, paths)| {
            let lb = lb && zones >= 2;
            let mut b = Stack::builder("prop").region("eu-central-1").network(
                Network::new("10.0.0.0/16").availability_zones(zones).nat_gateways(if single_nat {
                    NatGateways::Single
                } else {
                    NatGateways::PerZone
                }),
            );
            if ssh {
                b = b.cluster(Cluster::ec2("m5.large").key_name("k").admin_cidr("198.51.100.0/24"));
            }
            if efs {
                b = b.file_system(FileSystem::encrypted());
            }
            if lb {
                b = b.load_balancer(LoadBalancer::public()).service(Service::new("root", "nginx", 80).path("/"));
            }
            for i in 0..extra {
                b = b.service(Service::new(format!("w{i}"), "busybox", 1));
            }
            for (i, (seg, depth, secret)) in paths.into_iter().enumerate() {
                let mut s = Service::new(format!("p{i}"), "nginx", 8080);
                if lb {
                    s = s.path(format!("/{i}{}", format!("/{seg}").repeat(usize::from(depth))));
                }
                if secret {
                    s = s.secret("S", Secret::ssm(format!("/p/{seg}")));
                }
                b = b.service(s);
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every generated graph is acyclic, every dependency exists and comes first, and
    /// every reference is a declared dependency.
    #[test]
    fn generated_graphs_are_consistent(b in arb_stack()) {
        let stack = b.build().expect("generated stacks are valid");
        let g = Graph::from_stack(&stack).expect("acyclic and complete");
        let position: BTreeMap<&LogicalId, usize> = g.resources().iter().enumerate().map(|(i, r)| (&r.id, i)).collect();
        for (i, r) in g.resources().iter().enumerate() {
            for d in &r.depends_on {
                let at = position.get(d).copied();
                prop_assert!(at.is_some(), "{} depends on missing {}", r.id, d);
                prop_assert!(at < Some(i), "{} comes before its dependency {}", r.id, d);
            }
            for reference in r.refs() {
                prop_assert!(r.depends_on.contains(&reference.id), "{} refers to {} without depending on it", r.id, reference.id);
            }
        }
        prop_assert_eq!(g.count_by_type().get(&ResourceType::EcsService).copied().unwrap_or(0), stack.services.len());
    }

    /// The references read from compact JSON are those of the JSON tree, and the JSON
    /// with references resolved in place is that of the resolved properties, whatever
    /// the physical values hold (quotes, backslashes, braces, other scripts).
    #[test]
    fn references_read_and_resolved_from_json_match_the_json_tree(b in arb_stack(), odd in "[a-z\"\\\\{}é/ ]{0,8}") {
        let stack = b.build().expect("generated stacks are valid");
        let g = Graph::from_stack(&stack).expect("acyclic and complete");
        let known = made_up_physical(&g, &odd);
        for r in g.resources() {
            let mut tree = BTreeSet::new();
            crate::graph::collect_refs(&serde_json::to_value(&*r.properties).unwrap(), &mut tree);
            prop_assert_eq!(r.refs(), tree, "{}", r.id);
            let resolved = crate::resources::resolve(r, &known).expect("every id is known");
            let lookup = |id: &str, attr| known.get(&LogicalId::from(id)).and_then(|p| p.attr(attr));
            let json = crate::resources::json_resolved(&*r.properties, lookup, <[u8]>::to_vec);
            prop_assert_eq!(json, Some(serde_json::to_vec(&resolved).unwrap()), "{}", r.id);
        }
    }

    /// Declared properties resolve to what AWS has ([`Resolves`], field by field) exactly
    /// when their JSON with references resolved is AWS's JSON: for the resolved
    /// properties themselves, for each of them with one value changed or one list
    /// shortened, and never when a reference has no physical value.
    ///
    /// [`Resolves`]: crate::graph::Resolves
    #[test]
    fn resolving_field_by_field_agrees_with_the_resolved_json(b in arb_stack(), pick in any::<usize>()) {
        use crate::graph::Resolves;
        let stack = b.build().expect("generated stacks are valid");
        let g = Graph::from_stack(&stack).expect("acyclic and complete");
        let known = made_up_physical(&g, "");
        let lookup = |id: &str, attr| known.get(&LogicalId::from(id)).and_then(|p| p.attr(attr));
        for r in g.resources() {
            let resolved = crate::resources::resolve(r, &known).expect("every id is known");
            prop_assert!(r.properties.resolves_to(&resolved, &lookup), "{} differs from itself resolved", r.id);
            let mut json = serde_json::to_value(&resolved).unwrap();
            let places = changeable(&json);
            prop_assert!(places > 0 && change_at(&mut json, &mut (pick % places)), "{}", r.id);
            if let Ok(changed) = Properties::from_json(r.resource_type, json) {
                let by_json = crate::resources::json_resolved(&*r.properties, lookup, |want| {
                    want == serde_json::to_vec(&changed).unwrap()
                });
                prop_assert_eq!(r.properties.resolves_to(&changed, &lookup), by_json == Some(true), "{}: {:?}", r.id, changed);
            }
            if let Some(first) = r.refs().into_iter().next() {
                let missing = |id: &str, attr| if id == first.id.as_str() { None } else { lookup(id, attr) };
                prop_assert!(!r.properties.resolves_to(&resolved, &missing), "{} resolved without {}", r.id, first.id);
            }
        }
    }
}

#[test]
fn references_in_json_text_are_found_in_either_key_order_and_nowhere_else() {
    let refs = |value: serde_json::Value| crate::graph::refs_in(&value);
    let r = |id: &str, attr: Attr| Ref { id: id.into(), attr };
    assert_eq!(refs(json!({"a": {"ref": "x/1", "attr": "arn"}})), BTreeSet::from([r("x/1", Attr::Arn)]));
    // A JSON value's keys may come sorted.
    let text = br#"{"p":[{"attr":"dns_name","ref":"lb"},{"ref":"q\"r","attr":"id"}]}"#;
    let mut found = Vec::new();
    crate::graph::for_each_ref(text, |x, span| found.push((x, span)));
    assert_eq!(found, vec![(r("lb", Attr::DnsName), 6..36), (r("q\"r", Attr::Id), 37..63)]);
    // Literal text that looks like a reference, an unknown attribute, a third key.
    assert!(refs(json!({"s": "{\"ref\":\"x\",\"attr\":\"id\"}"})).is_empty());
    assert!(refs(json!({"o": {"ref": "x", "attr": "colour"}})).is_empty());
    assert!(refs(json!({"o": {"ref": "x", "attr": "id", "more": "y"}})).is_empty());
    // A reference after a look-alike is still found.
    let both = json!([{"ref": "x", "attr": "colour"}, {"ref": "y", "attr": "name"}]);
    assert_eq!(refs(both), BTreeSet::from([r("y", Attr::Name)]));
}

#[test]
fn properties_read_back_from_their_json() {
    let g = graph(
        seed()
            .cluster(Cluster::ec2("t3.small").key_name("k").admin_cidr("198.51.100.1/32"))
            .service(Service::new("w", "busybox", 1).secret("S", Secret::ssm("/s"))),
    );
    for r in g.resources() {
        let json = serde_json::to_value(&*r.properties).unwrap();
        let back = Properties::from_json(r.resource_type, json.clone());
        assert_eq!(back.as_ref().ok(), Some(&*r.properties), "{}: {back:?}\n{json}", r.id);
    }
}

fn props<'a>(g: &'a Graph, id: &str) -> &'a Properties {
    &g.get(id).unwrap_or_else(|| panic!("{id} missing")).properties
}

#[test]
fn a_fargate_service_gets_awsvpc_its_own_group_an_ip_target_group_and_fargate_capacity() {
    let g = graph(seed().with_service("test", "products", Service::fargate));
    let Properties::TaskDefinition(td) = props(&g, "task-definition/products") else { panic!() };
    assert_eq!(
        (td.network_mode.as_str(), td.requires_compatibilities.as_slice()),
        ("awsvpc", ["FARGATE".to_owned()].as_slice())
    );
    assert_eq!((td.cpu.as_deref(), td.memory.as_deref()), (Some("256"), Some("512")), "task-level size");
    assert_eq!(td.container_definitions[0].port_mappings[0].host_port, 8001, "awsvpc: host port = container port");
    assert_eq!(td.volumes.len(), 1, "EFS mounts on Fargate too");
    let Properties::Service(svc) = props(&g, "service/products") else { panic!() };
    assert_eq!(svc.network_mode.as_deref(), Some("awsvpc"));
    assert_eq!(svc.platform_version.as_deref(), Some("LATEST"), "EFS needs platform 1.4.0 or later");
    assert_eq!(svc.capacity_provider_strategy[0].capacity_provider, RefOr::Value("FARGATE".into()));
    assert!(svc.placement_strategy.is_empty(), "Fargate takes no placement strategy");
    let net = svc.network_configuration.as_ref().expect("awsvpc configuration");
    assert_eq!(net.assign_public_ip, "DISABLED");
    assert_eq!(
        net.subnets,
        vec![
            RefOr::to(&LogicalId::from("subnet/private/0"), Attr::Id),
            RefOr::to(&LogicalId::from("subnet/private/1"), Attr::Id)
        ]
    );
    assert_eq!(net.security_groups, vec![RefOr::to(&LogicalId::from("security-group/service/products"), Attr::Id)]);
    let Properties::SecurityGroup(sg) = props(&g, "security-group/service/products") else { panic!() };
    assert_eq!(sg.group_name, "mcsv-poc-service-products");
    assert_eq!(sg.ingress.len(), 1, "{:?}", sg.ingress);
    assert_eq!((sg.ingress[0].from_port, sg.ingress[0].to_port), (8001, 8001));
    assert_eq!(
        sg.ingress[0].peer,
        Peer::SecurityGroupId(RefOr::to(&LogicalId::from("security-group/load-balancer"), Attr::Id))
    );
    let Properties::SecurityGroup(lb) = props(&g, "security-group/load-balancer") else { panic!() };
    assert!(lb.egress.iter().any(|r| (r.from_port, r.to_port) == (8001, 8001)), "{:?}", lb.egress);
    assert!(lb.egress.iter().any(|r| (r.from_port, r.to_port) == (32768, 65535)), "EC2 tasks still reached");
    let Properties::SecurityGroup(efs) = props(&g, "security-group/file-system") else { panic!() };
    let peers: Vec<_> = efs.ingress.iter().map(|r| r.peer.clone()).collect();
    assert_eq!(
        peers,
        vec![
            Peer::SecurityGroupId(RefOr::to(&LogicalId::from("security-group/instances"), Attr::Id)),
            Peer::SecurityGroupId(RefOr::to(&LogicalId::from("security-group/service/products"), Attr::Id)),
        ],
        "NFS from the instances and from the Fargate tasks"
    );
    let Properties::TargetGroup(tg) = props(&g, "target-group/products") else { panic!() };
    assert_eq!(tg.target_type, "ip");
    let Properties::TargetGroup(web) = props(&g, "target-group/product-web") else { panic!() };
    assert_eq!(web.target_type, "instance", "the EC2 service keeps instance targets");
    let Properties::Cluster(c) = props(&g, "cluster") else { panic!() };
    assert_eq!(c.capacity_providers[..2], [RefOr::Value("FARGATE".into()), RefOr::Value("FARGATE_SPOT".into())]);
    assert_eq!(c.capacity_providers.len(), 3, "beside the instances' provider");
    let Properties::Service(ec2) = props(&g, "service/product-web") else { panic!() };
    assert_eq!(ec2.network_mode, None);
    assert_eq!(ec2.placement_strategy.len(), 2);
    let Properties::TaskDefinition(ec2_td) = props(&g, "task-definition/product-web") else { panic!() };
    assert_eq!(
        (ec2_td.network_mode.as_str(), ec2_td.container_definitions[0].port_mappings[0].host_port),
        ("bridge", 0)
    );
}

#[test]
fn an_all_fargate_stack_has_no_instances() {
    let g = graph(
        seed()
            .with_service("test", "products", Service::fargate)
            .with_service("test", "product-web", |s| s.capacity(crate::dsl::Capacity::FargateSpot)),
    );
    for id in [
        "launch-template",
        "autoscaling-group",
        "capacity-provider",
        "role/instance",
        "instance-profile",
        "security-group/instances",
    ] {
        assert!(g.get(id).is_none(), "{id} in an all-Fargate stack");
    }
    let Properties::Cluster(c) = props(&g, "cluster") else { panic!() };
    assert_eq!(c.capacity_providers, vec![RefOr::Value("FARGATE".into()), RefOr::Value("FARGATE_SPOT".into())]);
    assert_eq!(c.default_capacity_provider_strategy[0].capacity_provider, RefOr::Value("FARGATE".into()));
    let Properties::Service(web) = props(&g, "service/product-web") else { panic!() };
    assert_eq!(web.capacity_provider_strategy[0].capacity_provider, RefOr::Value("FARGATE_SPOT".into()));
    let Properties::SecurityGroup(lb) = props(&g, "security-group/load-balancer") else { panic!() };
    let ports: Vec<_> = lb.egress.iter().map(|r| (r.from_port, r.to_port)).collect();
    assert_eq!(ports, [(8000, 8000), (8001, 8001)], "only the Fargate tasks' ports, no dynamic range");
    let Properties::SecurityGroup(efs) = props(&g, "security-group/file-system") else { panic!() };
    assert_eq!(efs.ingress.len(), 2, "NFS from each service's group");
}

#[test]
fn autoscaling_registers_a_target_after_the_service_and_a_policy_per_metric() {
    use crate::dsl::Autoscaling;
    let g =
        graph(seed().with_service("test", "products", |s| {
            s.autoscaling(Autoscaling::new(2, 6).cpu(50).requests_per_target(900))
        }));
    let Properties::ScalableTarget(t) = props(&g, "scalable-target/products") else { panic!() };
    assert_eq!((t.resource_id.as_str(), t.min_capacity, t.max_capacity), ("service/mcsv-poc/products", 2, 6));
    assert_eq!(deps(&g, "scalable-target/products"), ["service/products"]);
    let Properties::ScalingPolicy(cpu) = props(&g, "scaling-policy/products/cpu") else { panic!() };
    assert_eq!((cpu.predefined_metric_type.as_str(), cpu.target_value), ("ECSServiceAverageCPUUtilization", 50));
    assert_eq!((cpu.scale_in_cooldown, cpu.scale_out_cooldown), (300, 60));
    assert_eq!(cpu.load_balancer_arn, None);
    let Properties::ScalingPolicy(req) = props(&g, "scaling-policy/products/requests") else { panic!() };
    assert_eq!(req.predefined_metric_type, "ALBRequestCountPerTarget");
    assert_eq!(req.load_balancer_arn, Some(RefOr::to(&LogicalId::from("load-balancer"), Attr::Arn)));
    assert_eq!(req.target_group_arn, Some(RefOr::to(&LogicalId::from("target-group/products"), Attr::Arn)));
    assert_eq!(
        deps(&g, "scaling-policy/products/requests"),
        ["load-balancer", "scalable-target/products", "target-group/products"]
    );
    let Properties::Service(svc) = props(&g, "service/products") else { panic!() };
    assert_eq!(
        (svc.desired_count, svc.desired_count_owner),
        (2, CountOwner::External),
        "the autoscaler owns the count"
    );
    // The default: CPU at 60 %.
    let g = graph(seed().with_service("test", "products", |s| s.autoscale(1, 3)));
    let Properties::ScalingPolicy(cpu) = props(&g, "scaling-policy/products/cpu") else { panic!() };
    assert_eq!(cpu.target_value, 60);
    assert!(g.get("scaling-policy/products/requests").is_none());
}

#[test]
fn the_alb_resource_label_comes_from_the_two_arns() {
    let lb = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shop/50dc6c495c0c9188";
    let tg = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-web/943f017f100becff";
    assert_eq!(
        ScalingPolicyProps::resource_label(lb, tg).as_deref(),
        Some("app/shop/50dc6c495c0c9188/targetgroup/shop-web/943f017f100becff")
    );
    assert_eq!(ScalingPolicyProps::resource_label(tg, lb), None);
}

/// How many places [`change_at`] can change in `value`: each leaf and each non-empty list.
fn changeable(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Object(map) => map.values().map(changeable).sum(),
        Value::Array(items) => usize::from(!items.is_empty()) + items.iter().map(changeable).sum::<usize>(),
        _ => 1,
    }
}

/// Changes the `at`-th changeable place of `value` (in [`changeable`]'s order): a string
/// gets a suffix, a number grows, a boolean flips, a null becomes a string, a list loses
/// its last item. Returns whether it got there.
fn change_at(value: &mut serde_json::Value, at: &mut usize) -> bool {
    use serde_json::Value;
    let here = matches!(value, Value::Array(items) if !items.is_empty()) || !value.is_object() && !value.is_array();
    if here {
        if *at == 0 {
            match value {
                Value::String(s) => s.push('x'),
                Value::Number(n) => *value = Value::from(n.as_u64().map_or(1, |n| n + 1)),
                Value::Bool(b) => *b = !*b,
                Value::Null => *value = Value::from("x"),
                Value::Array(items) => drop(items.pop()),
                Value::Object(_) => unreachable!("objects are not changed themselves"),
            }
            return true;
        }
        *at -= 1;
    }
    match value {
        Value::Object(map) => map.values_mut().any(|v| change_at(v, at)),
        Value::Array(items) => items.iter_mut().any(|v| change_at(v, at)),
        _ => false,
    }
}

/// A physical identity for every resource of `g`: `<attribute>-<id>-<odd>`.
fn made_up_physical(g: &Graph, odd: &str) -> crate::resources::Known {
    g.resources()
        .iter()
        .map(|r| {
            let v = |what: &str| format!("{what}-{}-{odd}", r.id);
            let physical = crate::resources::Physical {
                id: v("id"),
                arn: Some(v("arn")),
                name: Some(v("name")),
                dns_name: Some(v("dns")),
                digest: None,
            };
            (r.id.clone(), physical)
        })
        .collect()
}
