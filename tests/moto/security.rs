//! Security defaults on the live result: a stack applied through the command line, its
//! objects read back through the AWS traits (not through observe), and checked: only the
//! listener open to the world, no public IPs, IMDSv2 with a hop limit of 1, EFS encrypted
//! at rest and in transit with IAM authorization, each role holding only what it needs.

use std::collections::{BTreeMap, BTreeSet};

use ecs_kit::aws::{Clients, Filter};
use ecs_kit::graph::props::{Peer, RefOr};
use ecs_kit::graph::Graph;
use ecs_kit::model::{ID_TAG, STACK_TAG};
use ecs_kit::{service, Cluster, Secret, StackBuilder};

use super::harness::{clients, unique_stack};
use super::plan::{run, seed};

const IMAGE: &str = "registry.example.com/microservices/products:1.4.2";

fn declared(name: &str) -> StackBuilder {
    seed(name, IMAGE)
        .cluster(
            Cluster::ec2("t3.small").min_instances(2).max_instances(5).key_name("ops").admin_cidr("203.0.113.7/32"),
        )
        .service(service! {
            name: "worker", image: "registry.example.com/microservices/worker:1.0", port: 9000,
            secrets: {
                "DB_PASSWORD" => Secret::ssm("/shop/db-password"),
                "API_KEY" => Secret::secrets_manager("arn:aws:secretsmanager:us-west-2:123456789012:secret:api-AbCdEf"),
            },
        })
}

fn value(v: &RefOr<String>) -> &str {
    match v {
        RefOr::Value(v) => v,
        RefOr::Ref(r) => panic!("a live object holds a reference to {}", r.id),
    }
}

/// The live id of each of the stack's EC2 objects of one kind, by logical id.
fn by_id<P>(found: &[ecs_kit::aws::Found<P>]) -> BTreeMap<String, String> {
    found.iter().map(|f| (f.tags.get(ID_TAG).cloned().unwrap_or_default(), f.id.clone())).collect()
}

async fn check(name: &str, graph: &Graph, aws: &Clients) {
    let mine = || vec![Filter::tag(STACK_TAG, name)];

    // Only the listener's port is open to the world, and only on the load balancer's group.
    let groups = aws.ec2.describe_security_groups(mine()).await.unwrap();
    assert_eq!(groups.len(), 3, "load balancer, instances, file system");
    let group_ids = by_id(&groups);
    for g in &groups {
        let id = g.tags[ID_TAG].as_str();
        for rule in &g.props.ingress {
            match &rule.peer {
                Peer::CidrIpv4(cidr) if cidr == "0.0.0.0/0" => {
                    assert_eq!(id, "security-group/load-balancer", "{rule:?}");
                    assert_eq!((rule.ip_protocol.as_str(), rule.from_port, rule.to_port), ("tcp", 80, 80));
                }
                Peer::CidrIpv4(cidr) => {
                    assert_eq!((id, cidr.as_str(), rule.from_port), ("security-group/instances", "203.0.113.7/32", 22));
                }
                Peer::SecurityGroupId(source) => {
                    let from = match id {
                        "security-group/instances" => "security-group/load-balancer",
                        "security-group/file-system" => "security-group/instances",
                        other => panic!("{other} admits a group: {rule:?}"),
                    };
                    assert_eq!(value(source), group_ids[from], "{id}");
                }
            }
        }
    }

    // No public IPs: no subnet hands them out, and the instances live in the private ones.
    let subnets = aws.ec2.describe_subnets(mine()).await.unwrap();
    assert_eq!(subnets.len(), 4);
    assert!(subnets.iter().all(|s| !s.props.map_public_ip_on_launch), "{subnets:#?}");
    let private: BTreeSet<&str> =
        subnets.iter().filter(|s| s.tags[ID_TAG].starts_with("subnet/private/")).map(|s| s.id.as_str()).collect();
    let asg_name = graph.get("autoscaling-group").unwrap().name.clone();
    let asgs = aws.autoscaling.describe_auto_scaling_groups(vec![asg_name]).await.unwrap();
    let asg_subnets: BTreeSet<&str> = asgs[0].props.subnet_ids.iter().map(value).collect();
    assert_eq!(asg_subnets, private, "instances run in the private subnets");

    // IMDSv2 required, hop limit 1.
    let templates = aws.ec2.describe_launch_templates(mine()).await.unwrap();
    assert_eq!(templates.len(), 1);
    let metadata = &templates[0].props.metadata_options;
    assert_eq!(
        (metadata.http_tokens.as_str(), metadata.http_put_response_hop_limit, metadata.http_endpoint.as_str()),
        ("required", 1, "enabled")
    );
    assert_eq!(
        templates[0].props.security_group_ids.iter().map(value).collect::<Vec<_>>(),
        [group_ids["security-group/instances"].as_str()]
    );

    // EFS: encrypted at rest; each task mounts it with TLS and IAM through its own access point.
    let token = graph.get("file-system").unwrap().name.clone();
    let file_systems = aws.efs.describe_file_systems(token).await.unwrap();
    assert_eq!(file_systems.len(), 1);
    assert!(file_systems[0].props.encrypted, "encrypted at rest");
    let access_points = by_id(&aws.efs.describe_access_points(file_systems[0].id.clone()).await.unwrap());
    for svc in ["product-web", "products", "worker"] {
        let family = graph.get(&format!("task-definition/{svc}")).unwrap().name.clone();
        let td = aws.ecs.describe_task_definition(family).await.unwrap().expect("registered");
        let volume = &td.props.volumes[0].efs_volume_configuration;
        assert_eq!((volume.transit_encryption.as_str(), volume.iam.as_str()), ("ENABLED", "ENABLED"), "{svc}");
        assert_eq!(value(&volume.access_point_id), access_points[&format!("access-point/{svc}")], "{svc}");

        // Each task role: its own managed policies, and the file system through its own
        // access point only.
        let role_name = graph.get(&format!("role/task/{svc}")).unwrap().name.clone();
        let role = &aws.iam.get_roles(vec![role_name], None).await.unwrap()[0].props;
        let managed: Vec<&str> = role.managed_policy_arns.iter().map(String::as_str).collect();
        let expected: &[&str] =
            if svc == "products" { &["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] } else { &[] };
        assert_eq!(managed, expected, "{svc}");
        assert_eq!(role.inline_policies.keys().collect::<Vec<_>>(), ["ecs-kit-efs"], "{svc}");
        let statement = &role.inline_policies["ecs-kit-efs"]["Statement"][0];
        let access_point = statement["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"].as_str().unwrap();
        let own = &access_points[&format!("access-point/{svc}")];
        assert!(access_point.ends_with(&format!("access-point/{own}")), "{svc}: {access_point}");
        assert!(statement["Resource"].as_str().unwrap().ends_with(&format!("file-system/{}", file_systems[0].id)));
    }

    // The execution role: image pulls and logs (the AWS-managed policy), and exactly the
    // declared secrets.
    let exec_name = graph.get("role/execution").unwrap().name.clone();
    let exec = &aws.iam.get_roles(vec![exec_name], None).await.unwrap()[0].props;
    assert_eq!(exec.managed_policy_arns, ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]);
    let granted: BTreeSet<String> = exec.inline_policies["ecs-kit-secrets"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|st| {
            let action = st["Action"].as_str().unwrap().to_owned();
            st["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| format!("{action} {}", r.as_str().unwrap()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        granted,
        BTreeSet::from([
            "secretsmanager:GetSecretValue arn:aws:secretsmanager:us-west-2:123456789012:secret:api-AbCdEf".to_owned(),
            "ssm:GetParameters arn:aws:ssm:us-west-2:*:parameter/shop/db-password".to_owned(),
        ])
    );
}

#[test]
fn the_applied_stack_keeps_the_security_defaults() {
    let name = unique_stack("security");
    let (code, out, err) = run(&["apply", "--auto-approve"], declared(&name));
    assert_eq!(code, 0, "{out}{err}");
    let graph = Graph::from_stack(&declared(&name).build().unwrap()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(check(&name, &graph, &clients()));
}
