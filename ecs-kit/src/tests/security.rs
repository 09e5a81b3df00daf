//! Security defaults, checked on the graph of the example stack and variations of it:
//! only the listener is open to the world, no public IPs on instances, IMDSv2 with a hop
//! limit of 1, EFS encrypted at rest and in transit with IAM authorization, least
//! privilege for every role, and secrets never in what synth and plan print.
//! (`tests/moto/security.rs` checks the same on the live objects.)

use std::collections::{BTreeMap, BTreeSet};

use crate::cli::{self, NoKnobs};
use crate::dsl::{Cluster, FileSystem, LoadBalancer, Network, Secret, Service, StackBuilder};
use crate::graph::props::{Attr, Peer, RefOr, RoleProps, SecurityGroupProps};
use crate::graph::{Graph, LogicalId, Properties, Resource, ResourceType};
use crate::model::Stack;
use crate::testing::{FakeCloud, Timing};

const WORLD: &str = "0.0.0.0/0";
const EXECUTION_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const INSTANCE_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";

/// The stack of `examples/product-web.rs`.
fn example() -> StackBuilder {
    Stack::builder("mcsv-poc")
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5).desired_instances(2))
        .load_balancer(LoadBalancer::public())
        .file_system(FileSystem::encrypted())
        .service(
            Service::new("product-web", "registry.example.com/microservices/product-web:latest", 8000)
                .count(2)
                .path("/")
                .health_check("/"),
        )
        .service(
            Service::new("products", "registry.example.com/microservices/products:latest", 8001)
                .count(2)
                .path("/products")
                .health_check("/products")
                .policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        )
}

/// The example with secrets, an inline policy, a worker without a path and SSH.
fn with_secrets() -> StackBuilder {
    example()
        .cluster(Cluster::ec2("t3.small").key_name("ops").admin_cidr("203.0.113.7/32"))
        .service(
            Service::new("worker", "registry.example.com/microservices/worker:1.0", 9000)
                .secret("DB_PASSWORD", Secret::ssm("/shop/db-password"))
                .secret(
                    "API_KEY",
                    Secret::secrets_manager("arn:aws:secretsmanager:us-west-2:123456789012:secret:api-AbCdEf:key::"),
                )
                .inline_policy(
                    "queue",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"arn:aws:sqs:us-west-2:123456789012:jobs"}]}"#,
                ),
        )
        .service(
            Service::new("admin", "registry.example.com/microservices/admin:1.0", 9001)
                .path("/admin")
                .secret("ADMIN_TOKEN", Secret::ssm("arn:aws:ssm:us-west-2:123456789012:parameter/shop/admin-token")),
        )
}

/// The example and variations of it, by name.
fn variations() -> Vec<(&'static str, StackBuilder)> {
    let mut no_lb = example();
    no_lb.load_balancer = None;
    no_lb.services.iter_mut().for_each(|s| {
        s.path = None;
        s.health_check = None;
    });
    let mut no_fs = example();
    no_fs.file_system = None;
    vec![
        ("the example", example()),
        ("secrets, SSH and a worker", with_secrets()),
        ("an internal load balancer", example().load_balancer(LoadBalancer::internal())),
        ("a listener on 8080", example().load_balancer(LoadBalancer::public().port(8080))),
        ("three zones", example().network(Network::new("10.20.0.0/16").availability_zones(3))),
        ("no load balancer", no_lb),
        ("no file system", no_fs),
    ]
}

fn built(declared: StackBuilder) -> (Stack, Graph) {
    let stack = declared.build().expect("a valid stack");
    let graph = Graph::from_stack(&stack).expect("a consistent graph");
    (stack, graph)
}

fn of_type(graph: &Graph, t: ResourceType) -> impl Iterator<Item = &Resource> {
    graph.resources().iter().filter(move |r| r.resource_type == t)
}

fn to(id: &str, attr: Attr) -> RefOr<String> {
    RefOr::to(&LogicalId::new(id), attr)
}

fn role<'a>(graph: &'a Graph, id: &str) -> &'a RoleProps {
    match &*graph.get(id).unwrap_or_else(|| panic!("{id}")).properties {
        Properties::Role(p) => p,
        other => panic!("{id} is {other:?}"),
    }
}

/// The principals a role's trust policy lets assume it.
fn principals(role: &RoleProps) -> Vec<String> {
    role.assume_role_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow");
            assert_eq!(s["Action"], "sts:AssumeRole");
            s["Principal"]["Service"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn only_the_listener_port_is_open_to_the_world() {
    for (what, declared) in variations() {
        let (stack, graph) = built(declared);
        let lb = stack.load_balancer.as_ref();
        for r in of_type(&graph, ResourceType::SecurityGroup) {
            let Properties::SecurityGroup(SecurityGroupProps { ingress, egress, .. }) = &*r.properties else {
                panic!()
            };
            // The fixed quota: 60 inbound and 60 outbound rules per security group.
            // <https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html>
            assert!(ingress.len() <= 60 && egress.len() <= 60, "{what}: {}", r.id);
            for rule in ingress {
                let Peer::CidrIpv4(cidr) = &rule.peer else { continue };
                if cidr != WORLD {
                    continue;
                }
                let lb = lb.unwrap_or_else(|| panic!("{what}: {} open to the world without a load balancer", r.id));
                assert_eq!(r.id.as_str(), "security-group/load-balancer", "{what}: {rule:?}");
                assert_eq!(lb.scheme, crate::dsl::Scheme::InternetFacing, "{what}: an internal one is not open");
                let port = i32::from(lb.port);
                assert_eq!((rule.ip_protocol.as_str(), rule.from_port, rule.to_port), ("tcp", port, port), "{what}");
            }
        }
        // What else comes in: the instances from the load balancer (dynamic host ports)
        // and SSH from the admin CIDR only; the file system NFS from the instances only.
        let sg = |id: &str| match graph.get(id).map(|r| &*r.properties) {
            Some(Properties::SecurityGroup(p)) => Some(p.clone()),
            _ => None,
        };
        let instances = sg("security-group/instances").unwrap();
        for rule in &instances.ingress {
            match &rule.peer {
                Peer::SecurityGroupId(g) => {
                    assert_eq!(g, &to("security-group/load-balancer", Attr::Id), "{what}");
                    assert_eq!((rule.from_port, rule.to_port), (32768, 65535), "{what}");
                }
                Peer::CidrIpv4(cidr) => {
                    let ssh = stack.cluster.ssh.as_ref().unwrap_or_else(|| panic!("{what}: {rule:?} without SSH"));
                    assert_eq!(
                        (cidr.as_str(), rule.from_port, rule.to_port),
                        (ssh.admin_cidr.to_string().as_str(), 22, 22)
                    );
                }
            }
        }
        if let Some(fs) = sg("security-group/file-system") {
            assert_eq!(fs.ingress.len(), 1, "{what}");
            assert_eq!(fs.ingress[0].peer, Peer::SecurityGroupId(to("security-group/instances", Attr::Id)));
            assert_eq!((fs.ingress[0].from_port, fs.ingress[0].to_port), (2049, 2049));
            assert!(fs.egress.is_empty(), "{what}: mount targets send nothing");
        }
        if let Some(lb_sg) = sg("security-group/load-balancer") {
            let vpc = stack.network.cidr.to_string();
            assert!(lb_sg.egress.iter().all(|r| r.peer == Peer::CidrIpv4(vpc.clone())), "{what}: to the VPC only");
        }
    }
}

#[test]
fn instances_get_no_public_ip_and_imds_v2_with_a_hop_limit_of_1() {
    for (what, declared) in variations() {
        let (stack, graph) = built(declared);
        for r in of_type(&graph, ResourceType::Subnet) {
            let Properties::Subnet(p) = &*r.properties else { panic!() };
            assert!(!p.map_public_ip_on_launch, "{what}: {} hands out public IPs", r.id);
        }
        let Some(Properties::AutoScalingGroup(asg)) = graph.get("autoscaling-group").map(|r| &*r.properties) else {
            panic!("{what}: no Auto Scaling group")
        };
        let private: Vec<RefOr<String>> =
            (0..stack.network.az_count).map(|i| to(&format!("subnet/private/{i}"), Attr::Id)).collect();
        assert_eq!(asg.subnet_ids, private, "{what}: instances run in the private subnets only");
        let Some(Properties::LaunchTemplate(lt)) = graph.get("launch-template").map(|r| &*r.properties) else {
            panic!("{what}: no launch template")
        };
        assert_eq!(lt.metadata_options.http_tokens, "required", "{what}: IMDSv2 only");
        assert_eq!(lt.metadata_options.http_put_response_hop_limit, 1, "{what}: containers cannot reach IMDS");
        assert_eq!(lt.metadata_options.http_endpoint, "enabled", "{what}");
        assert_eq!(lt.security_group_ids, vec![to("security-group/instances", Attr::Id)], "{what}");
        // Each private subnet's only way out is a NAT gateway, never the internet gateway.
        for r in of_type(&graph, ResourceType::RouteTable).filter(|r| r.id.as_str().starts_with("route-table/private/"))
        {
            let Properties::RouteTable(p) = &*r.properties else { panic!() };
            let json = serde_json::to_value(&p.routes).unwrap().to_string();
            assert!(json.contains("nat-gateway/") && !json.contains("internet-gateway"), "{what}: {json}");
        }
    }
}

#[test]
fn the_file_system_is_encrypted_at_rest_and_in_transit_with_iam_authorization() {
    for (what, declared) in variations() {
        let (stack, graph) = built(declared);
        let Some(Properties::FileSystem(fs)) = graph.get("file-system").map(|r| &*r.properties) else {
            assert!(stack.file_system.is_none(), "{what}");
            for r in of_type(&graph, ResourceType::TaskDefinition) {
                let Properties::TaskDefinition(td) = &*r.properties else { panic!() };
                assert!(td.volumes.is_empty(), "{what}");
            }
            continue;
        };
        assert!(fs.encrypted, "{what}: encrypted at rest");
        for s in &stack.services {
            let Some(Properties::TaskDefinition(td)) =
                graph.get(&format!("task-definition/{}", s.name)).map(|r| &*r.properties)
            else {
                panic!()
            };
            assert_eq!(td.volumes.len(), 1, "{what}");
            let efs = &td.volumes[0].efs_volume_configuration;
            assert_eq!(efs.transit_encryption, "ENABLED", "{what}: {}", s.name);
            assert_eq!(efs.iam, "ENABLED", "{what}: {}", s.name);
            assert_eq!(efs.file_system_id, to("file-system", Attr::Id));
            assert_eq!(efs.access_point_id, to(&format!("access-point/{}", s.name), Attr::Id), "its own access point");
            let Some(Properties::AccessPoint(ap)) =
                graph.get(&format!("access-point/{}", s.name)).map(|r| &*r.properties)
            else {
                panic!()
            };
            assert_eq!(ap.root_directory.path, format!("/{}", s.name), "{what}: its own directory");
        }
    }
}

#[test]
fn each_task_role_holds_only_its_service_policies_and_its_own_access_point() {
    for (what, declared) in variations() {
        let (stack, graph) = built(declared);
        for s in &stack.services {
            let task = role(&graph, &format!("role/task/{}", s.name));
            assert_eq!(principals(task), ["ecs-tasks.amazonaws.com"], "{what}");
            assert_eq!(task.managed_policy_arns, s.policies, "{what}: {}: exactly its own managed policies", s.name);
            let mut expected: BTreeSet<String> = s.inline_policies.keys().cloned().collect();
            if stack.file_system.is_some() {
                expected.insert("ecs-kit-efs".into());
            }
            assert_eq!(task.inline_policies.keys().cloned().collect::<BTreeSet<_>>(), expected, "{what}: {}", s.name);
            for (name, doc) in &s.inline_policies {
                assert_eq!(&task.inline_policies[name], doc, "{what}");
            }
            if let Some(efs) = task.inline_policies.get("ecs-kit-efs") {
                let statements = efs["Statement"].as_array().unwrap();
                assert_eq!(statements.len(), 1);
                let st = &statements[0];
                assert_eq!(st["Effect"], "Allow");
                assert_eq!(
                    st["Action"],
                    serde_json::json!(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"])
                );
                assert_eq!(st["Resource"], serde_json::to_value(to("file-system", Attr::Arn)).unwrap());
                assert_eq!(
                    st["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"],
                    serde_json::to_value(to(&format!("access-point/{}", s.name), Attr::Arn)).unwrap(),
                    "{what}: only through its own access point"
                );
            }
            // Nothing of the other services: their access points, policies or secrets.
            let text = serde_json::to_string(task).unwrap();
            for other in stack.services.iter().filter(|o| o.name != s.name) {
                assert!(
                    !text.contains(&format!("access-point/{}\"", other.name)),
                    "{what}: {} names {}",
                    s.name,
                    other.name
                );
                for p in other.policies.iter().filter(|p| !s.policies.contains(p)) {
                    assert!(!text.contains(p.as_str()), "{what}: {} holds {p}", s.name);
                }
                for secret in other.secrets.values() {
                    let (Secret::Ssm(v) | Secret::SecretsManager(v)) = secret;
                    assert!(!text.contains(v.trim_start_matches('/')), "{what}: {} may read {v}", s.name);
                }
            }
            // The task definition takes this role, and the shared execution role.
            let Some(Properties::TaskDefinition(td)) =
                graph.get(&format!("task-definition/{}", s.name)).map(|r| &*r.properties)
            else {
                panic!()
            };
            assert_eq!(td.task_role_arn, to(&format!("role/task/{}", s.name), Attr::Arn));
            assert_eq!(td.execution_role_arn, to("role/execution", Attr::Arn));
        }
    }
}

#[test]
fn the_execution_role_may_pull_images_write_logs_and_read_exactly_the_declared_secrets() {
    for (what, declared) in variations() {
        let (stack, graph) = built(declared);
        let exec = role(&graph, "role/execution");
        assert_eq!(principals(exec), ["ecs-tasks.amazonaws.com"], "{what}");
        // ECR pulls and log writes, nothing else (the AWS-managed policy for it).
        assert_eq!(exec.managed_policy_arns, [EXECUTION_POLICY], "{what}");
        let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for s in &stack.services {
            for secret in s.secrets.values() {
                let (action, arn) = match secret {
                    Secret::Ssm(p) if p.starts_with("arn:") => ("ssm:GetParameters", p.clone()),
                    Secret::Ssm(p) => (
                        "ssm:GetParameters",
                        format!("arn:aws:ssm:us-west-2:*:parameter/{}", p.trim_start_matches('/')),
                    ),
                    // Without the `:json-key:stage:version` suffix.
                    Secret::SecretsManager(a) => {
                        ("secretsmanager:GetSecretValue", a.split(':').take(7).collect::<Vec<_>>().join(":"))
                    }
                };
                expected.entry(action).or_default().insert(arn);
            }
        }
        if expected.is_empty() {
            assert!(exec.inline_policies.is_empty(), "{what}: {:?}", exec.inline_policies);
            continue;
        }
        assert_eq!(exec.inline_policies.keys().collect::<Vec<_>>(), ["ecs-kit-secrets"], "{what}");
        let mut granted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for st in exec.inline_policies["ecs-kit-secrets"]["Statement"].as_array().unwrap() {
            assert_eq!(st["Effect"], "Allow", "{what}");
            let action = st["Action"].as_str().unwrap();
            let action = *["ssm:GetParameters", "secretsmanager:GetSecretValue"]
                .iter()
                .find(|a| **a == action)
                .unwrap_or_else(|| panic!("{what}: the execution role may {action}"));
            for arn in st["Resource"].as_array().unwrap() {
                let arn = arn.as_str().unwrap();
                assert!(arn.starts_with("arn:aws:") && !arn.ends_with('*'), "{what}: {arn}");
                granted.entry(action).or_default().insert(arn.to_owned());
            }
        }
        assert_eq!(granted, expected, "{what}: exactly the declared secrets");
        // The instances' role: the ECS agent's policy, nothing inline.
        let instance = role(&graph, "role/instance");
        assert_eq!(principals(instance), ["ec2.amazonaws.com"]);
        assert_eq!(instance.managed_policy_arns, [INSTANCE_POLICY]);
        assert!(instance.inline_policies.is_empty());
    }
}

/// Runs the command line `args` on `declared` against `cloud`: exit code and all output.
fn run(cloud: &FakeCloud, args: &[&str], declared: StackBuilder) -> (u8, String) {
    let mut parsed = cli::parse::<NoKnobs, _, _>(std::iter::once("x").chain(args.iter().copied())).unwrap();
    parsed.interactive = Some(false);
    parsed.colour = Some(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::execute_with(&parsed, declared, Some(cloud.clients()), &mut out, &mut err)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&err)));
    (code, String::from_utf8(out).unwrap() + &String::from_utf8(err).unwrap())
}

#[test]
fn secrets_never_appear_in_synth_plan_or_apply_output() {
    const STORED: &str = "hunter2-the-stored-secret";
    let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
    cloud.set_parameter("/shop/db-password", STORED);
    let declared =
        |token: &str| with_secrets().service(Service::new("legacy", "nginx:1.25", 80).env("API_TOKEN", token));
    let mut seen = String::new();
    for args in [
        &["synth"][..],
        &["synth", "--json"],
        &["plan"],
        &["plan", "--json"],
        &["apply", "--auto-approve", "--json", "--timeout", "2m"],
    ] {
        let (code, out) = run(&cloud, args, declared("plain-old-token"));
        assert_eq!(code, 0, "{args:?}:\n{out}");
        seen.push_str(&out);
    }
    assert!(seen.contains("/shop/db-password"), "the secret's reference is shown");
    // A secret-looking plain variable changed: plan shows that it changed, not the values.
    for args in [&["plan"][..], &["plan", "--json"]] {
        let (code, out) = run(&cloud, args, declared("plain-new-token"));
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("task-definition/legacy") && out.contains("(sensitive)"), "{args:?}:\n{out}");
        for value in ["plain-old-token", "plain-new-token"] {
            assert!(!out.contains(value), "{args:?} shows {value}:\n{out}");
        }
        seen.push_str(&out);
    }
    assert!(!seen.contains(STORED), "a secret's value was printed:\n{seen}");
}
