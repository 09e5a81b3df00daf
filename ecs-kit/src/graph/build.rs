//! Expansion of a validated stack into its resources.

use std::collections::BTreeMap;

use serde_json::json;

use super::props::*;
use super::{LogicalId, Resource, ResourceType};
use crate::model::names::{
    self, ECS_NAME_MAX, EFS_TOKEN_MAX, ELB_NAME_MAX, IAM_ROLE_NAME_MAX, LAUNCH_TEMPLATE_NAME_MAX,
};
use crate::model::StrategySpec;
use crate::model::{
    AmiPolicy, Capacity, CircuitBreaker, DesiredCount, LoadBalancerSpec, NatGateways, ScalingMetric, Scheme, Secret,
    ServiceSpec, Stack, Zones, ENDPOINT_VAR, ID_TAG, STACK_TAG,
};

/// The first port Docker hands out for dynamic host ports, and the last.
const DYNAMIC_PORTS: (i32, i32) = (32768, 65535);
const NFS_PORT: i32 = 2049;
const ANYWHERE: &str = "0.0.0.0/0";

fn id(text: &str) -> LogicalId {
    LogicalId::from(text)
}

/// An id written from `args` into a buffer kept per thread, then shared: one
/// allocation, where `format!` first makes a `String` the id copies.
fn id_of(args: std::fmt::Arguments<'_>) -> LogicalId {
    use std::fmt::Write;
    thread_local! {
        static TEXT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
    }
    let mut text = TEXT.take();
    text.clear();
    // Writing into a `String` cannot fail.
    let _ = text.write_fmt(args);
    let id = LogicalId::from(text.as_str());
    TEXT.set(text);
    id
}

fn r(id: &LogicalId, attr: Attr) -> RefOr<String> {
    RefOr::to(id, attr)
}

fn lit(value: impl Into<String>) -> RefOr<String> {
    RefOr::Value(value.into())
}

fn trust(service: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// Accumulates resources with their tags.
struct Builder<'a> {
    stack: &'a Stack,
    out: Vec<Resource>,
}

impl Builder<'_> {
    fn name(&self, suffix: &str, max: usize) -> String {
        names::stack_name(&self.stack.name, suffix, max)
    }

    fn add(
        &mut self,
        rid: &LogicalId,
        resource_type: ResourceType,
        name: String,
        deps: &[&LogicalId],
        properties: Properties,
        service_tags: Option<&BTreeMap<String, String>>,
    ) {
        let mut depends_on: Vec<LogicalId> = deps.iter().map(|d| (*d).clone()).collect();
        depends_on.sort();
        depends_on.dedup();
        let mut tags = BTreeMap::new();
        if resource_type.taggable() {
            let copy = |(k, v): (&String, &String)| (k.clone(), v.clone());
            tags.extend(self.stack.tags.iter().map(copy));
            if let Some(extra) = service_tags {
                tags.extend(extra.iter().map(copy));
            }
            tags.insert("Name".to_owned(), name.clone());
            tags.insert(STACK_TAG.to_owned(), self.stack.name.clone());
            tags.insert(ID_TAG.to_owned(), rid.as_str().to_owned());
        }
        self.out.push(Resource {
            id: rid.clone(),
            resource_type,
            name,
            depends_on,
            properties: properties.into(),
            tags,
        });
    }
}

/// Whether the stack needs EC2 container instances: some service runs on EC2 (or no
/// service is declared yet, and the cluster is the instances'). A stack whose services
/// all run on Fargate has no launch template, Auto Scaling group, EC2 capacity provider
/// or instance role.
fn needs_instances(stack: &Stack) -> bool {
    stack.services.is_empty() || stack.services.iter().any(|s| !s.capacity.is_fargate())
}

/// Every resource of the platform.
pub(super) fn resources(stack: &Stack) -> Vec<Resource> {
    let mut b = Builder { stack, out: Vec::new() };
    let net = network(&mut b);
    let sgs = security_groups(&mut b, &net);
    let efs = file_system(&mut b, &net, &sgs);
    let iam = roles(&mut b, efs.as_ref());
    let compute = compute(&mut b, &net, &sgs, &iam);
    let lb = load_balancer(&mut b, &net, &sgs);
    for service in &stack.services {
        ecs_service(&mut b, service, &net, &sgs, &iam, &compute, efs.as_ref(), lb.as_ref());
        autoscaling(&mut b, service, lb.as_ref());
    }
    b.out
}

struct Net {
    vpc: LogicalId,
    public: Vec<LogicalId>,
    private: Vec<LogicalId>,
    private_routes: Vec<LogicalId>,
    igw: LogicalId,
}

fn network(b: &mut Builder<'_>) -> Net {
    let spec = &b.stack.network;
    let vpc = id("vpc");
    b.add(
        &vpc,
        ResourceType::Vpc,
        b.name("vpc", 255),
        &[],
        Properties::Vpc(VpcProps {
            cidr_block: spec.cidr.to_string(),
            enable_dns_support: spec.dns_support,
            enable_dns_hostnames: spec.dns_hostnames,
        }),
        None,
    );
    let igw = id("internet-gateway");
    b.add(
        &igw,
        ResourceType::InternetGateway,
        b.name("igw", 255),
        &[&vpc],
        Properties::InternetGateway(InternetGatewayProps { vpc_id: r(&vpc, Attr::Id) }),
        None,
    );
    let zone = |i: u8| match &spec.zones {
        Zones::Named(names) => AvailabilityZone::Name(names[usize::from(i)].clone()),
        Zones::Count(_) => AvailabilityZone::Index { zone_index: i },
    };
    let mut public = Vec::new();
    let mut private = Vec::new();
    for i in 0..spec.az_count {
        for (tier, cidr, list) in
            [("public", spec.public_subnet(i), &mut public), ("private", spec.private_subnet(i), &mut private)]
        {
            let sid = id_of(format_args!("subnet/{tier}/{i}"));
            b.add(
                &sid,
                ResourceType::Subnet,
                b.name(&format!("{tier}-{i}"), 255),
                &[&vpc],
                Properties::Subnet(SubnetProps {
                    vpc_id: r(&vpc, Attr::Id),
                    cidr_block: cidr.to_string(),
                    availability_zone: zone(i),
                    map_public_ip_on_launch: false,
                }),
                None,
            );
            list.push(sid);
        }
    }
    let mut nats = Vec::new();
    for i in 0..spec.nat_count() {
        let eip = id_of(format_args!("eip/{i}"));
        b.add(
            &eip,
            ResourceType::Eip,
            b.name(&format!("nat-{i}"), 255),
            &[],
            Properties::Eip(EipProps { domain: "vpc".into() }),
            None,
        );
        let nat = id_of(format_args!("nat-gateway/{i}"));
        let subnet = &public[usize::from(i)];
        b.add(
            &nat,
            ResourceType::NatGateway,
            b.name(&format!("nat-{i}"), 255),
            &[subnet, &eip, &igw],
            Properties::NatGateway(NatGatewayProps {
                subnet_id: r(subnet, Attr::Id),
                allocation_id: r(&eip, Attr::Id),
                connectivity_type: "public".into(),
            }),
            None,
        );
        nats.push(nat);
    }
    let public_rt = id("route-table/public");
    let mut deps: Vec<&LogicalId> = vec![&vpc, &igw];
    deps.extend(public.iter());
    b.add(
        &public_rt,
        ResourceType::RouteTable,
        b.name("public", 255),
        &deps,
        Properties::RouteTable(RouteTableProps {
            vpc_id: r(&vpc, Attr::Id),
            routes: vec![Route {
                destination_cidr_block: ANYWHERE.into(),
                target: RouteTarget::GatewayId(r(&igw, Attr::Id)),
            }],
            subnet_ids: public.iter().map(|s| r(s, Attr::Id)).collect(),
        }),
        None,
    );
    let mut private_routes = Vec::new();
    for (i, subnet) in private.iter().enumerate() {
        let rt = id_of(format_args!("route-table/private/{i}"));
        let nat = match spec.nat {
            NatGateways::PerZone => &nats[i],
            NatGateways::Single => &nats[0],
        };
        b.add(
            &rt,
            ResourceType::RouteTable,
            b.name(&format!("private-{i}"), 255),
            &[&vpc, nat, subnet],
            Properties::RouteTable(RouteTableProps {
                vpc_id: r(&vpc, Attr::Id),
                routes: vec![Route {
                    destination_cidr_block: ANYWHERE.into(),
                    target: RouteTarget::NatGatewayId(r(nat, Attr::Id)),
                }],
                subnet_ids: vec![r(subnet, Attr::Id)],
            }),
            None,
        );
        private_routes.push(rt);
    }
    Net { vpc, public, private, private_routes, igw }
}

struct Sgs {
    load_balancer: Option<LogicalId>,
    instances: Option<LogicalId>,
    file_system: Option<LogicalId>,
    /// Each Fargate service's own group, by service name.
    services: BTreeMap<String, LogicalId>,
}

fn rule(protocol: &str, ports: (i32, i32), peer: Peer, description: &str) -> SecurityGroupRule {
    SecurityGroupRule {
        ip_protocol: protocol.into(),
        from_port: ports.0,
        to_port: ports.1,
        peer,
        description: description.into(),
    }
}

fn security_groups(b: &mut Builder<'_>, net: &Net) -> Sgs {
    let vpc_cidr = b.stack.network.cidr.to_string();
    let sg = |b: &mut Builder<'_>, suffix: &str, description: &str, deps: &[&LogicalId], ingress, egress| {
        let sid = id_of(format_args!("security-group/{suffix}"));
        let name = b.name(&suffix.replace('/', "-"), 255);
        let mut all = vec![&net.vpc];
        all.extend_from_slice(deps);
        b.add(
            &sid,
            ResourceType::SecurityGroup,
            name.clone(),
            &all,
            Properties::SecurityGroup(SecurityGroupProps {
                group_name: name,
                description: description.into(),
                vpc_id: r(&net.vpc, Attr::Id),
                ingress,
                egress,
            }),
            None,
        );
        sid
    };
    let load_balancer = b.stack.load_balancer.clone().map(|lb| {
        let source = match lb.scheme {
            Scheme::InternetFacing => ANYWHERE.to_owned(),
            Scheme::Internal => vpc_cidr.clone(),
        };
        let port = i32::from(lb.port);
        let ingress = match &lb.https {
            None => vec![rule("tcp", (port, port), Peer::CidrIpv4(source), "HTTP listener")],
            Some(https) => {
                let tls = i32::from(https.port);
                let mut rules = Vec::new();
                if https.redirect_http {
                    rules.push(rule(
                        "tcp",
                        (port, port),
                        Peer::CidrIpv4(source.clone()),
                        "HTTP listener, redirecting to HTTPS",
                    ));
                }
                rules.push(rule("tcp", (tls, tls), Peer::CidrIpv4(source), "HTTPS listener"));
                rules
            }
        };
        let mut ingress = ingress;
        if let Some(test) = &lb.test_listener {
            let port = i32::from(test.port);
            for cidr in &test.allowed {
                ingress.push(rule(
                    "tcp",
                    (port, port),
                    Peer::CidrIpv4(cidr.to_string()),
                    "test listener: test traffic of deployments",
                ));
            }
        }
        let mut egress = Vec::new();
        if needs_instances(b.stack) {
            egress.push(rule("tcp", DYNAMIC_PORTS, Peer::CidrIpv4(vpc_cidr.clone()), "to tasks on dynamic host ports"));
        }
        // Fargate tasks listen on their container port at their own address.
        let mut ports: Vec<u16> = b
            .stack
            .services
            .iter()
            .filter(|s| s.capacity.is_fargate() && s.routing.is_some())
            .map(|s| s.port)
            .filter(|p| !(DYNAMIC_PORTS.0..=DYNAMIC_PORTS.1).contains(&i32::from(*p)) || !needs_instances(b.stack))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        for p in ports {
            let p = i32::from(p);
            egress.push(rule(
                "tcp",
                (p, p),
                Peer::CidrIpv4(vpc_cidr.clone()),
                "to Fargate tasks on their container port",
            ));
        }
        sg(b, "load-balancer", "ecs-kit: load balancer", &[], ingress, egress)
    });
    let mut ingress = Vec::new();
    if let Some(lb) = &load_balancer {
        ingress.push(rule(
            "tcp",
            DYNAMIC_PORTS,
            Peer::SecurityGroupId(r(lb, Attr::Id)),
            "dynamic host ports from the load balancer",
        ));
    }
    if let Some(ssh) = &b.stack.cluster.ssh {
        ingress.push(rule("tcp", (22, 22), Peer::CidrIpv4(ssh.admin_cidr.to_string()), "SSH from the admin CIDR"));
    }
    let lb_dep: Vec<&LogicalId> = load_balancer.iter().collect();
    let all_out = || vec![rule("-1", (-1, -1), Peer::CidrIpv4(ANYWHERE.into()), "all outbound")];
    let instances = needs_instances(b.stack)
        .then(|| sg(b, "instances", "ecs-kit: container instances", &lb_dep, ingress, all_out()));
    // A Fargate service's tasks: their port open to the load balancer's group only.
    let mut services = BTreeMap::new();
    for service in b.stack.services.iter().filter(|s| s.capacity.is_fargate()) {
        let mut ingress = Vec::new();
        if let (Some(lb), Some(_)) = (&load_balancer, &service.routing) {
            let p = i32::from(service.port);
            ingress.push(rule(
                "tcp",
                (p, p),
                Peer::SecurityGroupId(r(lb, Attr::Id)),
                "container port from the load balancer",
            ));
        }
        let suffix = format!("service/{}", service.name);
        let sid = sg(b, &suffix, &format!("ecs-kit: Fargate tasks of {}", service.name), &lb_dep, ingress, all_out());
        services.insert(service.name.clone(), sid);
    }
    let file_system = b.stack.file_system.is_some().then(|| {
        let mut ingress = Vec::new();
        let mut deps = Vec::new();
        if let Some(instances) = &instances {
            ingress.push(rule(
                "tcp",
                (NFS_PORT, NFS_PORT),
                Peer::SecurityGroupId(r(instances, Attr::Id)),
                "NFS from the container instances",
            ));
            deps.push(instances);
        }
        for (name, sid) in &services {
            ingress.push(rule(
                "tcp",
                (NFS_PORT, NFS_PORT),
                Peer::SecurityGroupId(r(sid, Attr::Id)),
                &format!("NFS from the Fargate tasks of {name}"),
            ));
            deps.push(sid);
        }
        sg(b, "file-system", "ecs-kit: EFS mount targets", &deps, ingress, Vec::new())
    });
    Sgs { load_balancer, instances, file_system, services }
}

struct Efs {
    file_system: LogicalId,
    mount_targets: Vec<LogicalId>,
}

fn access_point_id(service: &str) -> LogicalId {
    id_of(format_args!("access-point/{service}"))
}

fn file_system(b: &mut Builder<'_>, net: &Net, sgs: &Sgs) -> Option<Efs> {
    let spec = b.stack.file_system.clone()?;
    let fs = id("file-system");
    let token = b.name("efs", EFS_TOKEN_MAX);
    b.add(
        &fs,
        ResourceType::FileSystem,
        token.clone(),
        &[],
        Properties::FileSystem(FileSystemProps {
            creation_token: token,
            encrypted: true,
            kms_key_id: spec.kms_key_id.clone(),
            performance_mode: "generalPurpose".into(),
            throughput_mode: match spec.throughput_mode {
                crate::model::ThroughputMode::Bursting => "bursting".into(),
                crate::model::ThroughputMode::Elastic => "elastic".into(),
            },
        }),
        None,
    );
    let sg = sgs.file_system.as_ref().expect("a file system has its security group");
    let mut mount_targets = Vec::new();
    for (i, subnet) in net.private.iter().enumerate() {
        let mt = id_of(format_args!("mount-target/{i}"));
        b.add(
            &mt,
            ResourceType::MountTarget,
            b.name(&format!("efs-{i}"), 255),
            &[&fs, subnet, sg],
            Properties::MountTarget(MountTargetProps {
                file_system_id: r(&fs, Attr::Id),
                subnet_id: r(subnet, Attr::Id),
                security_groups: vec![r(sg, Attr::Id)],
            }),
            None,
        );
        mount_targets.push(mt);
    }
    for service in &b.stack.services {
        let ap = access_point_id(&service.name);
        b.add(
            &ap,
            ResourceType::AccessPoint,
            b.name(&service.name, 255),
            &[&fs],
            Properties::AccessPoint(AccessPointProps {
                file_system_id: r(&fs, Attr::Id),
                client_token: b.name(&service.name, EFS_TOKEN_MAX),
                posix_user: PosixUser { uid: spec.posix_uid, gid: spec.posix_gid },
                root_directory: RootDirectory {
                    path: format!("/{}", service.name),
                    owner_uid: spec.posix_uid,
                    owner_gid: spec.posix_gid,
                    permissions: "0755".into(),
                },
            }),
            Some(&service.tags),
        );
    }
    Some(Efs { file_system: fs, mount_targets })
}

struct Iam {
    instance_profile: Option<LogicalId>,
    execution: LogicalId,
    /// The role ECS shifts traffic with, when a service needs it.
    traffic: Option<LogicalId>,
    /// The role ECS invokes lifecycle hooks with, when a service has some.
    hooks: Option<LogicalId>,
}

fn task_role_id(service: &str) -> LogicalId {
    id_of(format_args!("role/task/{service}"))
}

/// The ARN a secret's `valueFrom` resolves to, for the execution role's policy.
fn secret_arn(stack: &Stack, secret: &Secret) -> String {
    match secret {
        Secret::Ssm(p) if p.starts_with("arn:") => p.clone(),
        Secret::Ssm(p) => {
            format!("arn:{}:ssm:{}:*:parameter/{}", stack.partition(), stack.region, p.trim_start_matches('/'))
        }
        // A Secrets Manager ARN may carry `:json-key:stage:version` after the secret.
        Secret::SecretsManager(arn) => arn.split(':').take(7).collect::<Vec<_>>().join(":"),
    }
}

fn roles(b: &mut Builder<'_>, efs: Option<&Efs>) -> Iam {
    let stack = b.stack;
    let partition = stack.partition();
    let role_name =
        |suffix: &str| names::stack_name(&stack.name, &format!("{}-{suffix}", stack.region), IAM_ROLE_NAME_MAX);
    let role = |b: &mut Builder<'_>,
                rid: &LogicalId,
                name: String,
                description: String,
                principal: &str,
                managed: Vec<String>,
                inline: BTreeMap<String, serde_json::Value>,
                deps: &[&LogicalId],
                tags: Option<&BTreeMap<String, String>>| {
        b.add(
            rid,
            ResourceType::IamRole,
            name.clone(),
            deps,
            Properties::Role(RoleProps {
                role_name: name,
                path: "/".into(),
                description,
                assume_role_policy: trust(principal),
                managed_policy_arns: managed,
                inline_policies: inline,
            }),
            tags,
        );
    };

    // The container instances' role, when there are instances.
    let instance_profile = if needs_instances(stack) {
        let instance_role = id("role/instance");
        role(
            b,
            &instance_role,
            role_name("instance"),
            format!("ecs-kit {}: container instances", stack.name),
            "ec2.amazonaws.com",
            vec![format!("arn:{partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")],
            BTreeMap::new(),
            &[],
            None,
        );
        let instance_profile = id("instance-profile");
        let profile_name = role_name("instance");
        b.add(
            &instance_profile,
            ResourceType::InstanceProfile,
            profile_name.clone(),
            &[&instance_role],
            Properties::InstanceProfile(InstanceProfileProps {
                instance_profile_name: profile_name,
                path: "/".into(),
                role_name: r(&instance_role, Attr::Name),
            }),
            None,
        );
        Some(instance_profile)
    } else {
        None
    };
    let mut secret_arns: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for service in &stack.services {
        for secret in service.secrets.values() {
            let action = match secret {
                Secret::Ssm(_) => "ssm:GetParameters",
                Secret::SecretsManager(_) => "secretsmanager:GetSecretValue",
            };
            secret_arns.entry(action).or_default().push(secret_arn(stack, secret));
        }
    }
    let mut execution_inline = BTreeMap::new();
    if !secret_arns.is_empty() {
        let statements: Vec<serde_json::Value> = secret_arns
            .into_iter()
            .map(|(action, mut arns)| {
                arns.sort();
                arns.dedup();
                json!({ "Effect": "Allow", "Action": action, "Resource": arns })
            })
            .collect();
        execution_inline
            .insert("ecs-kit-secrets".to_owned(), json!({ "Version": "2012-10-17", "Statement": statements }));
    }
    let execution = id("role/execution");
    role(
        b,
        &execution,
        role_name("execution"),
        format!("ecs-kit {}: task execution (image pulls, logs, secrets)", stack.name),
        "ecs-tasks.amazonaws.com",
        vec![format!("arn:{partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")],
        execution_inline,
        &[],
        None,
    );

    for service in &stack.services {
        let mut inline = service.inline_policies.clone();
        let mut deps = Vec::new();
        let ap = access_point_id(&service.name);
        if let Some(efs) = efs {
            inline.insert(
                "ecs-kit-efs".to_owned(),
                json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                        "Resource": r(&efs.file_system, Attr::Arn),
                        "Condition": { "StringEquals": { "elasticfilesystem:AccessPointArn": r(&ap, Attr::Arn) } }
                    }]
                }),
            );
            deps.push(&efs.file_system);
            deps.push(&ap);
        }
        role(
            b,
            &task_role_id(&service.name),
            role_name(&format!("task-{}", service.name)),
            format!("ecs-kit {}: tasks of {}", stack.name, service.name),
            "ecs-tasks.amazonaws.com",
            service.policies.clone(),
            inline,
            &deps,
            Some(&service.tags),
        );
    }
    // The role ECS moves load balancer traffic with, for blue/green, canary and linear.
    let shifting = stack.services.iter().any(|s| s.deployment.strategy.shifts_traffic());
    let traffic = (shifting && stack.load_balancer.is_some()).then(|| {
        let rid = id(TRAFFIC_ROLE);
        role(
            b,
            &rid,
            role_name("ecs-load-balancers"),
            format!("ecs-kit {}: ECS shifting load balancer traffic during deployments", stack.name),
            "ecs.amazonaws.com",
            vec![format!("arn:{partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")],
            BTreeMap::new(),
            &[],
            None,
        );
        rid
    });
    // The role ECS invokes lifecycle hooks with: allowed to invoke exactly the
    // functions the stack's hooks name. Not the load balancers' role: hooks come with
    // rolling deployments too, and each role keeps to its one purpose.
    let mut functions: Vec<&str> =
        stack.services.iter().flat_map(|s| s.deployment.hooks.iter().map(|h| h.function_arn.as_str())).collect();
    functions.sort_unstable();
    functions.dedup();
    let hooks = (!functions.is_empty()).then(|| {
        let rid = id(HOOKS_ROLE);
        let invoke = json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": functions }]
        });
        role(
            b,
            &rid,
            role_name("ecs-hooks"),
            format!("ecs-kit {}: ECS invoking deployment lifecycle hooks", stack.name),
            "ecs.amazonaws.com",
            Vec::new(),
            BTreeMap::from([(HOOKS_POLICY.to_owned(), invoke)]),
            &[],
            None,
        );
        rid
    });
    Iam { instance_profile, execution, traffic, hooks }
}

/// The logical id of the role ECS invokes lifecycle hooks with.
const HOOKS_ROLE: &str = "role/ecs-hooks";
/// Its inline policy.
pub(crate) const HOOKS_POLICY: &str = "ecs-kit-hooks";

/// The logical id of the role ECS shifts load balancer traffic with.
const TRAFFIC_ROLE: &str = "role/ecs-load-balancers";

/// The logical id of a service's alternate target group (blue/green, canary, linear).
fn alternate_target_group_id(service: &str) -> LogicalId {
    id_of(format_args!("target-group/{service}/alternate"))
}

struct Compute {
    cluster: LogicalId,
    /// The EC2 capacity provider, when there are instances.
    capacity_provider: Option<LogicalId>,
}

/// The capacity providers AWS manages for Fargate, named in a strategy as they are.
const FARGATE: &str = "FARGATE";
const FARGATE_SPOT: &str = "FARGATE_SPOT";

fn compute(b: &mut Builder<'_>, net: &Net, sgs: &Sgs, iam: &Iam) -> Compute {
    let stack = b.stack;
    let cluster_name = names::fit(&stack.name, ECS_NAME_MAX);
    let cp = match (&iam.instance_profile, &sgs.instances) {
        (Some(profile), Some(instances)) => Some(instances_group(b, net, profile, instances, &cluster_name)),
        _ => None,
    };
    // Fargate's providers beside the instances' (sorted as AWS lists them).
    let mut providers = Vec::new();
    if stack.services.iter().any(|s| s.capacity.is_fargate()) {
        providers.push(lit(FARGATE));
        providers.push(lit(FARGATE_SPOT));
    }
    let default = match &cp {
        Some(cp) => r(cp, Attr::Name),
        None => lit(FARGATE),
    };
    providers.extend(cp.iter().map(|cp| r(cp, Attr::Name)));
    let cluster = id("cluster");
    let deps: Vec<&LogicalId> = cp.iter().collect();
    b.add(
        &cluster,
        ResourceType::Cluster,
        cluster_name.clone(),
        &deps,
        Properties::Cluster(ClusterProps {
            cluster_name,
            container_insights: if stack.cluster.container_insights { "enabled" } else { "disabled" }.into(),
            capacity_providers: providers,
            default_capacity_provider_strategy: vec![StrategyItem { capacity_provider: default, weight: 1, base: 0 }],
        }),
        None,
    );
    Compute { cluster, capacity_provider: cp }
}

/// The container instances: launch template, Auto Scaling group and the capacity
/// provider ECS scales it through. Returns the capacity provider.
fn instances_group(
    b: &mut Builder<'_>,
    net: &Net,
    instance_profile: &LogicalId,
    instances_sg: &LogicalId,
    cluster_name: &str,
) -> LogicalId {
    let stack = b.stack;
    let spec = &stack.cluster;
    let lt = id("launch-template");
    let lt_name = b.name("instances", LAUNCH_TEMPLATE_NAME_MAX);
    let mut instance_tags = stack.tags.clone();
    instance_tags.insert("Name".into(), b.name("instance", 255));
    instance_tags.insert(STACK_TAG.into(), stack.name.clone());
    b.add(
        &lt,
        ResourceType::LaunchTemplate,
        lt_name.clone(),
        &[instance_profile, instances_sg],
        Properties::LaunchTemplate(LaunchTemplateProps {
            launch_template_name: lt_name,
            image: match &spec.ami {
                AmiPolicy::Pinned(ami) => ImageSource::ImageId(ami.clone()),
                policy => ImageSource::SsmParameter { name: spec.ami_parameter.clone(), follow_latest: *policy == AmiPolicy::Latest },
            },
            instance_type: spec.instance_type.clone(),
            iam_instance_profile_arn: r(instance_profile, Attr::Arn),
            security_group_ids: vec![r(instances_sg, Attr::Id)],
            key_name: spec.ssh.as_ref().map(|s| s.key_name.clone()),
            metadata_options: MetadataOptions { http_tokens: "required".into(), http_put_response_hop_limit: 1, http_endpoint: "enabled".into() },
            user_data: format!("#!/bin/bash\ncat >> /etc/ecs/ecs.config <<'EOF'\nECS_CLUSTER={cluster_name}\nECS_ENABLE_CONTAINER_METADATA=true\nEOF\n"),
            instance_tags,
        }),
        None,
    );
    let asg = id("autoscaling-group");
    let asg_name = b.name("instances", 255);
    let mut deps = vec![&lt];
    deps.extend(net.private.iter());
    // Instances need their route to the internet (ECS, ECR) before they can register.
    deps.extend(net.private_routes.iter());
    b.add(
        &asg,
        ResourceType::AutoScalingGroup,
        asg_name.clone(),
        &deps,
        Properties::AutoScalingGroup(AutoScalingGroupProps {
            auto_scaling_group_name: asg_name,
            launch_template_id: r(&lt, Attr::Id),
            launch_template_version: "$Default".into(),
            min_size: spec.min_instances,
            max_size: spec.max_instances,
            desired_capacity: spec.desired_instances,
            desired_capacity_managed_by_ecs: spec.managed_scaling,
            subnet_ids: net.private.iter().map(|s| r(s, Attr::Id)).collect(),
            health_check_type: "EC2".into(),
            health_check_grace_period: 0,
            new_instances_protected_from_scale_in: false,
        }),
        None,
    );
    let cp = id("capacity-provider");
    let cp_name = names::capacity_provider_name(&stack.name);
    b.add(
        &cp,
        ResourceType::CapacityProvider,
        cp_name.clone(),
        &[&asg],
        Properties::CapacityProvider(CapacityProviderProps {
            name: cp_name,
            auto_scaling_group_arn: r(&asg, Attr::Arn),
            managed_scaling: ManagedScaling {
                status: if spec.managed_scaling { "ENABLED" } else { "DISABLED" }.into(),
                target_capacity: 100,
                minimum_scaling_step_size: 1,
                maximum_scaling_step_size: 10000,
                instance_warmup_period: 300,
            },
            managed_termination_protection: "DISABLED".into(),
            managed_draining: "ENABLED".into(),
        }),
        None,
    );
    cp
}

struct Lb {
    load_balancer: LogicalId,
    listener: LogicalId,
    /// The listener for test traffic, when declared.
    test_listener: Option<LogicalId>,
}

/// The logical id of a service's rule on the test listener.
fn test_rule_id(service: &str) -> LogicalId {
    id_of(format_args!("listener-rule/{service}/test"))
}

fn target_group_id(service: &str) -> LogicalId {
    id_of(format_args!("target-group/{service}"))
}

/// The priority of the default service's catch-all rule when ECS shifts its traffic:
/// the last one a listener takes, after every rule validation numbers.
const CATCH_ALL_PRIORITY: u32 = 50_000;

fn load_balancer(b: &mut Builder<'_>, net: &Net, sgs: &Sgs) -> Option<Lb> {
    let stack = b.stack;
    let spec = stack.load_balancer.clone()?;
    let sg = sgs.load_balancer.as_ref().expect("a load balancer has its security group");
    let subnets = match spec.scheme {
        Scheme::InternetFacing => &net.public,
        Scheme::Internal => &net.private,
    };
    let lb = id("load-balancer");
    let lb_name = names::fit(&stack.name, ELB_NAME_MAX);
    let mut deps: Vec<&LogicalId> = vec![sg, &net.igw];
    deps.extend(subnets.iter());
    b.add(
        &lb,
        ResourceType::LoadBalancer,
        lb_name.clone(),
        &deps,
        Properties::LoadBalancer(LoadBalancerProps {
            name: lb_name,
            scheme: match spec.scheme {
                Scheme::InternetFacing => "internet-facing",
                Scheme::Internal => "internal",
            }
            .into(),
            lb_type: "application".into(),
            ip_address_type: "ipv4".into(),
            subnets: subnets.iter().map(|s| r(s, Attr::Id)).collect(),
            security_groups: vec![r(sg, Attr::Id)],
            idle_timeout_seconds: spec.idle_timeout_seconds,
        }),
        None,
    );
    let mut root = None;
    for service in &stack.services {
        let Some(routing) = &service.routing else { continue };
        let tg = target_group_id(&service.name);
        let hc = &routing.health_check;
        // The alternate target group is the same but for its name.
        let mut groups = vec![(tg.clone(), service.name.clone())];
        if service.deployment.strategy.shifts_traffic() {
            groups.push((alternate_target_group_id(&service.name), format!("{}-alt", service.name)));
        }
        for (tg, suffix) in groups {
            b.add(
                &tg,
                ResourceType::TargetGroup,
                b.name(&suffix, ELB_NAME_MAX),
                &[&net.vpc],
                Properties::TargetGroup(TargetGroupProps {
                    name: b.name(&suffix, ELB_NAME_MAX),
                    protocol: "HTTP".into(),
                    port: service.port,
                    vpc_id: r(&net.vpc, Attr::Id),
                    // Fargate tasks register by their own IP; EC2 tasks by instance and host port.
                    target_type: if service.capacity.is_fargate() { "ip" } else { "instance" }.into(),
                    health_check: TargetHealthCheck {
                        protocol: "HTTP".into(),
                        port: "traffic-port".into(),
                        path: hc.path.clone(),
                        interval_seconds: hc.interval_seconds,
                        timeout_seconds: hc.timeout_seconds,
                        healthy_threshold_count: hc.healthy_threshold,
                        unhealthy_threshold_count: hc.unhealthy_threshold,
                        matcher: hc.matcher.clone(),
                    },
                    deregistration_delay_seconds: routing.deregistration_delay_seconds,
                }),
                Some(&service.tags),
            );
        }
        if routing.is_default() {
            root = Some(tg);
        }
    }
    let root = root.expect("validation guarantees a service at /");
    let listener = listeners(b, &spec, &lb, &root);
    let test_listener = spec.test_listener.as_ref().map(|t| self::test_listener(b, &spec, t.port, &lb));
    for service in &stack.services {
        let shifting = service.deployment.strategy.shifts_traffic();
        // ECS shifts traffic on a rule, never on a listener's default action: the
        // default service gets a catch-all rule, evaluated last.
        let Some(routing) = service.routing.as_ref().filter(|r| !r.is_default() || shifting) else { continue };
        let tg = target_group_id(&service.name);
        let alternate = shifting.then(|| alternate_target_group_id(&service.name));
        let (priority, path_patterns) = if routing.is_default() {
            (CATCH_ALL_PRIORITY, vec!["/*".to_owned()])
        } else if routing.path == "/" {
            (routing.priority.expect("validation assigns priorities"), Vec::new())
        } else {
            (
                routing.priority.expect("validation assigns priorities"),
                vec![routing.path.clone(), format!("{}/*", routing.path)],
            )
        };
        let props = ListenerRuleProps {
            listener_arn: r(&listener, Attr::Arn),
            priority,
            path_patterns,
            host_headers: routing.host.iter().cloned().collect(),
            target_group_arn: r(&tg, Attr::Arn),
            alternate_target_group_arn: alternate.as_ref().map(|a| r(a, Attr::Arn)),
        };
        // On the test listener, the same rule: ECS moves its weights first.
        if let (Some(test), true) = (&test_listener, shifting) {
            let mut deps = vec![test, &tg];
            deps.extend(alternate.as_ref());
            let test_props = ListenerRuleProps { listener_arn: r(test, Attr::Arn), ..props.clone() };
            b.add(
                &test_rule_id(&service.name),
                ResourceType::ListenerRule,
                b.name(&format!("{}-test", service.name), 255),
                &deps,
                Properties::ListenerRule(test_props),
                Some(&service.tags),
            );
        }
        let mut deps = vec![&listener, &tg];
        deps.extend(alternate.as_ref());
        b.add(
            &id_of(format_args!("listener-rule/{}", service.name)),
            ResourceType::ListenerRule,
            b.name(&service.name, 255),
            &deps,
            Properties::ListenerRule(props),
            Some(&service.tags),
        );
    }
    Some(Lb { load_balancer: lb, listener, test_listener })
}

/// The body of the test listener's answer to requests no test rule matches.
pub(crate) const NO_TEST_ROUTE: &str = "no test route: only services whose deployment shifts traffic have one";

/// The listener for test traffic: the production listener's protocol (HTTPS with the
/// same certificates and policy), a fixed 404 unless a service's test rule matches.
fn test_listener(b: &mut Builder<'_>, spec: &LoadBalancerSpec, port: u16, lb: &LogicalId) -> LogicalId {
    let test = id("listener/test");
    let https = spec.https.as_ref();
    b.add(
        &test,
        ResourceType::Listener,
        b.name("test", 255),
        &[lb],
        Properties::Listener(ListenerProps {
            load_balancer_arn: r(lb, Attr::Arn),
            protocol: if https.is_some() { "HTTPS" } else { "HTTP" }.into(),
            port,
            default_target_group_arn: None,
            redirect: None,
            fixed_response: Some(FixedResponse {
                status_code: "404".into(),
                content_type: "text/plain".into(),
                message_body: NO_TEST_ROUTE.into(),
            }),
            certificate_arn: https.map(|h| h.certificate_arn.clone()),
            ssl_policy: https.map(|h| h.tls_policy.clone()),
        }),
        None,
    );
    sni_certificates(b, &test, https.map(|h| h.extra_certificates.as_slice()).unwrap_or_default(), true);
    test
}

/// The extra (SNI) certificates of the HTTPS listener `listener` (the test listener's
/// when `test`), each a resource of its own.
fn sni_certificates(b: &mut Builder<'_>, listener: &LogicalId, arns: &[String], test: bool) {
    for arn in arns {
        let own = super::listener_certificate_id(arn);
        let suffix = own.as_str().trim_start_matches("listener-certificate/").replace('/', "-");
        let (cid, name) = if test {
            (super::test_listener_certificate_id(arn), format!("test-certificate-{suffix}"))
        } else {
            (own, format!("certificate-{suffix}"))
        };
        b.add(
            &cid,
            ResourceType::ListenerCertificate,
            b.name(&name, 255),
            &[listener],
            Properties::ListenerCertificate(ListenerCertificateProps {
                listener_arn: r(listener, Attr::Arn),
                certificate_arn: arn.clone(),
            }),
            None,
        );
    }
}

/// The listeners: plain HTTP forwarding to the default service; or, with HTTPS, the
/// HTTPS listener forwarding (with its extra certificates) and, unless turned off, the
/// HTTP one redirecting to it. Returns the listener the services' rules sit on.
fn listeners(b: &mut Builder<'_>, spec: &LoadBalancerSpec, lb: &LogicalId, root: &LogicalId) -> LogicalId {
    let http = id("listener/http");
    let Some(https) = &spec.https else {
        b.add(
            &http,
            ResourceType::Listener,
            b.name("http", 255),
            &[lb, root],
            Properties::Listener(ListenerProps {
                load_balancer_arn: r(lb, Attr::Arn),
                protocol: "HTTP".into(),
                port: spec.port,
                default_target_group_arn: Some(r(root, Attr::Arn)),
                redirect: None,
                fixed_response: None,
                certificate_arn: None,
                ssl_policy: None,
            }),
            None,
        );
        return http;
    };
    let tls = id("listener/https");
    b.add(
        &tls,
        ResourceType::Listener,
        b.name("https", 255),
        &[lb, root],
        Properties::Listener(ListenerProps {
            load_balancer_arn: r(lb, Attr::Arn),
            protocol: "HTTPS".into(),
            port: https.port,
            default_target_group_arn: Some(r(root, Attr::Arn)),
            redirect: None,
            fixed_response: None,
            certificate_arn: Some(https.certificate_arn.clone()),
            ssl_policy: Some(https.tls_policy.clone()),
        }),
        None,
    );
    if https.redirect_http {
        b.add(
            &http,
            ResourceType::Listener,
            b.name("http", 255),
            &[lb],
            Properties::Listener(ListenerProps {
                load_balancer_arn: r(lb, Attr::Arn),
                protocol: "HTTP".into(),
                port: spec.port,
                default_target_group_arn: None,
                redirect: Some(Redirect {
                    protocol: "HTTPS".into(),
                    port: https.port.to_string(),
                    status_code: "HTTP_301".into(),
                }),
                fixed_response: None,
                certificate_arn: None,
                ssl_policy: None,
            }),
            None,
        );
    }
    sni_certificates(b, &tls, &https.extra_certificates, false);
    tls
}

#[allow(clippy::too_many_arguments)]
fn ecs_service(
    b: &mut Builder<'_>,
    service: &ServiceSpec,
    net: &Net,
    sgs: &Sgs,
    iam: &Iam,
    compute: &Compute,
    efs: Option<&Efs>,
    lb: Option<&Lb>,
) {
    let stack = b.stack;
    let tags = Some(&service.tags);
    let log_group = id_of(format_args!("log-group/{}", service.name));
    let log_group_name = format!("/ecs/{}/{}", stack.name, service.name);
    b.add(
        &log_group,
        ResourceType::LogGroup,
        log_group_name.clone(),
        &[],
        Properties::LogGroup(LogGroupProps { log_group_name, retention_in_days: service.log_retention_days }),
        tags,
    );

    let task_role = task_role_id(&service.name);
    let mut environment: Vec<EnvVar> =
        service.env.iter().map(|(k, v)| EnvVar { name: k.clone(), value: lit(v) }).collect();
    let mut td_deps = vec![&task_role, &iam.execution, &log_group];
    if let Some(lb) = lb {
        environment.push(EnvVar { name: ENDPOINT_VAR.into(), value: r(&lb.load_balancer, Attr::DnsName) });
        td_deps.push(&lb.load_balancer);
    }
    environment.sort_by(|a, b| a.name.cmp(&b.name));
    let ap = access_point_id(&service.name);
    let (mount_points, volumes) = match efs {
        Some(efs) => {
            td_deps.push(&efs.file_system);
            td_deps.push(&ap);
            (
                vec![MountPoint { source_volume: "efs".into(), container_path: "/mnt".into(), read_only: false }],
                vec![Volume {
                    name: "efs".into(),
                    efs_volume_configuration: EfsVolume {
                        file_system_id: r(&efs.file_system, Attr::Id),
                        transit_encryption: "ENABLED".into(),
                        access_point_id: r(&ap, Attr::Id),
                        iam: "ENABLED".into(),
                    },
                }],
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let family = b.name(&service.name, ECS_NAME_MAX);
    let td = id_of(format_args!("task-definition/{}", service.name));
    let fargate = service.capacity.is_fargate();
    b.add(
        &td,
        ResourceType::TaskDefinition,
        family.clone(),
        &td_deps,
        Properties::TaskDefinition(TaskDefinitionProps {
            family,
            task_role_arn: r(&task_role, Attr::Arn),
            execution_role_arn: r(&iam.execution, Attr::Arn),
            network_mode: if fargate { "awsvpc" } else { "bridge" }.into(),
            requires_compatibilities: vec![if fargate { "FARGATE" } else { "EC2" }.into()],
            container_definitions: vec![ContainerDefinition {
                name: service.name.clone(),
                image: service.image.clone(),
                cpu: service.cpu,
                memory: service.memory,
                essential: true,
                // awsvpc: the host port is the container port; bridge: a dynamic one.
                port_mappings: vec![PortMapping {
                    container_port: service.port,
                    host_port: if fargate { service.port } else { 0 },
                    protocol: "tcp".into(),
                }],
                environment,
                secrets: service
                    .secrets
                    .iter()
                    .map(|(k, s)| SecretVar {
                        name: k.clone(),
                        value_from: match s {
                            Secret::Ssm(p) | Secret::SecretsManager(p) => p.clone(),
                        },
                    })
                    .collect(),
                log_configuration: LogConfiguration {
                    log_driver: "awslogs".into(),
                    options: BTreeMap::from([
                        ("awslogs-group".to_owned(), r(&log_group, Attr::Name)),
                        ("awslogs-region".to_owned(), lit(&stack.region)),
                        ("awslogs-stream-prefix".to_owned(), lit(&service.name)),
                    ]),
                },
                mount_points,
            }],
            volumes,
            cpu: fargate.then(|| service.cpu.to_string()),
            memory: fargate.then(|| service.memory.to_string()),
            image_owner: service.image_owner,
        }),
        tags,
    );

    let mut deps = vec![&compute.cluster, &td];
    let own_sg = sgs.services.get(&service.name);
    let provider = match (service.capacity, &compute.capacity_provider) {
        (Capacity::Fargate, _) => lit(FARGATE),
        (Capacity::FargateSpot, _) => lit(FARGATE_SPOT),
        (Capacity::Ec2, Some(cp)) => {
            deps.push(cp);
            r(cp, Attr::Name)
        }
        (Capacity::Ec2, None) => unreachable!("an EC2 service has the instances' capacity provider"),
    };
    deps.extend(own_sg);
    if fargate {
        deps.extend(net.private.iter());
    }
    deps.extend(net.private_routes.iter());
    if let Some(efs) = efs {
        deps.extend(efs.mount_targets.iter());
    }
    // Ids of what routes to the service, made only for a routed one.
    let (tg, rule, alternate, test_rule);
    let mut load_balancers = Vec::new();
    let strategy = service.deployment.strategy;
    if let (Some(lb), Some(routing)) = (lb, &service.routing) {
        tg = target_group_id(&service.name);
        rule = id_of(format_args!("listener-rule/{}", service.name));
        alternate = alternate_target_group_id(&service.name);
        test_rule = test_rule_id(&service.name);
        deps.push(&tg);
        // The target group must be attached to the load balancer before the service.
        let shifting = strategy.shifts_traffic() && iam.traffic.is_some();
        deps.push(if routing.is_default() && !shifting { &lb.listener } else { &rule });
        let tested = lb.test_listener.is_some();
        let advanced = match (&iam.traffic, shifting) {
            (Some(role), true) => {
                deps.push(&alternate);
                deps.push(role);
                if tested {
                    deps.push(&test_rule);
                }
                Some(AdvancedLoadBalancer {
                    alternate_target_group_arn: r(&alternate, Attr::Arn),
                    production_listener_rule: r(&rule, Attr::Arn),
                    test_listener_rule: tested.then(|| r(&test_rule, Attr::Arn)),
                    role_arn: r(role, Attr::Arn),
                })
            }
            _ => None,
        };
        load_balancers.push(ServiceLoadBalancer {
            target_group_arn: r(&tg, Attr::Arn),
            container_name: service.name.clone(),
            container_port: service.port,
            advanced,
        });
    }
    if let (Some(role), false) = (&iam.hooks, service.deployment.hooks.is_empty()) {
        deps.push(role);
    }
    let breaker = service.deployment.circuit_breaker;
    b.add(
        &id_of(format_args!("service/{}", service.name)),
        ResourceType::EcsService,
        service.name.clone(),
        &deps,
        Properties::Service(ServiceProps {
            service_name: service.name.clone(),
            cluster: r(&compute.cluster, Attr::Name),
            task_definition: r(&td, Attr::Arn),
            desired_count: service.initial_count(),
            desired_count_owner: match service.desired_count {
                DesiredCount::Fixed(_) => CountOwner::Stack,
                DesiredCount::External(_) => CountOwner::External,
            },
            capacity_provider_strategy: vec![StrategyItem { capacity_provider: provider, weight: 1, base: 0 }],
            load_balancers,
            deployment_configuration: deployment_configuration(
                service,
                DeploymentCircuitBreaker {
                    enable: breaker != CircuitBreaker::Off,
                    rollback: breaker == CircuitBreaker::Rollback,
                },
                iam.hooks.as_ref(),
            ),
            health_check_grace_period_seconds: service.routing.as_ref().map(|r| r.health_check.grace_period_seconds),
            // Fargate spreads tasks over the subnets' zones itself and takes no strategy.
            placement_strategy: if fargate {
                Vec::new()
            } else {
                vec![
                    PlacementStrategy { kind: "spread".into(), field: "attribute:ecs.availability-zone".into() },
                    PlacementStrategy { kind: "spread".into(), field: "instanceId".into() },
                ]
            },
            propagate_tags: "SERVICE".into(),
            enable_ecs_managed_tags: true,
            network_mode: fargate.then(|| "awsvpc".into()),
            network_configuration: own_sg.map(|sg| AwsVpcConfiguration {
                subnets: net.private.iter().map(|s| r(s, Attr::Id)).collect(),
                security_groups: vec![r(sg, Attr::Id)],
                assign_public_ip: "DISABLED".into(),
            }),
            platform_version: fargate.then(|| "LATEST".into()),
        }),
        tags,
    );
}

/// The service's scalable target and its target tracking policies, when it autoscales.
fn autoscaling(b: &mut Builder<'_>, service: &ServiceSpec, lb: Option<&Lb>) {
    let Some(spec) = &service.autoscaling else { return };
    let stack = b.stack;
    let svc = id_of(format_args!("service/{}", service.name));
    let resource_id = format!("service/{}/{}", names::fit(&stack.name, ECS_NAME_MAX), service.name);
    let target = id_of(format_args!("scalable-target/{}", service.name));
    b.add(
        &target,
        ResourceType::ScalableTarget,
        b.name(&service.name, 255),
        &[&svc],
        Properties::ScalableTarget(ScalableTargetProps {
            service_namespace: "ecs".into(),
            resource_id: resource_id.clone(),
            scalable_dimension: SCALABLE_DIMENSION.into(),
            min_capacity: spec.min,
            max_capacity: spec.max,
            service_arn: r(&svc, Attr::Arn),
        }),
        Some(&service.tags),
    );
    let tg = target_group_id(&service.name);
    for t in &spec.targets {
        let (key, metric) = match t.metric {
            ScalingMetric::Cpu => ("cpu", "ECSServiceAverageCPUUtilization"),
            ScalingMetric::Memory => ("memory", "ECSServiceAverageMemoryUtilization"),
            ScalingMetric::RequestsPerTarget => ("requests", "ALBRequestCountPerTarget"),
        };
        let requests = t.metric == ScalingMetric::RequestsPerTarget;
        let (lb_arn, tg_arn) = match lb.filter(|_| requests) {
            Some(lb) => (Some(r(&lb.load_balancer, Attr::Arn)), Some(r(&tg, Attr::Arn))),
            None => (None, None),
        };
        let mut deps = vec![&target];
        if let (Some(lb), true) = (lb, lb_arn.is_some()) {
            deps.push(&tg);
            deps.push(&lb.load_balancer);
        }
        let name = b.name(&format!("{}-{key}", service.name), 255);
        b.add(
            &scaling_policy_id(&service.name, key),
            ResourceType::ScalingPolicy,
            name.clone(),
            &deps,
            Properties::ScalingPolicy(ScalingPolicyProps {
                policy_name: name,
                service_namespace: "ecs".into(),
                resource_id: resource_id.clone(),
                scalable_dimension: SCALABLE_DIMENSION.into(),
                predefined_metric_type: metric.into(),
                target_value: t.value,
                scale_in_cooldown: spec.scale_in_cooldown_seconds,
                scale_out_cooldown: spec.scale_out_cooldown_seconds,
                load_balancer_arn: lb_arn,
                target_group_arn: tg_arn,
            }),
            None,
        );
    }
}

/// The dimension of an ECS service's task count.
pub(crate) const SCALABLE_DIMENSION: &str = "ecs:service:DesiredCount";

/// The logical id of a service's policy on metric `key` (`cpu`, `memory`, `requests`).
pub(crate) fn scaling_policy_id(service: &str, key: &str) -> LogicalId {
    id_of(format_args!("scaling-policy/{service}/{key}"))
}

/// The service's `deploymentConfiguration`: percentages, breaker, strategy and alarms.
fn deployment_configuration(
    service: &ServiceSpec,
    breaker: DeploymentCircuitBreaker,
    hooks_role: Option<&LogicalId>,
) -> DeploymentConfiguration {
    let d = &service.deployment;
    let mut c = DeploymentConfiguration::rolling(d.min_healthy_percent, d.max_percent, breaker);
    match d.strategy {
        StrategySpec::Rolling => {}
        StrategySpec::BlueGreen { bake_minutes } => {
            c.strategy = DeploymentStrategy::BlueGreen;
            c.bake_time_in_minutes = Some(bake_minutes);
        }
        StrategySpec::Canary { percent, canary_bake_minutes, bake_minutes } => {
            c.strategy = DeploymentStrategy::Canary;
            c.bake_time_in_minutes = Some(bake_minutes);
            c.canary = Some(TrafficStep { percent, bake_time_in_minutes: canary_bake_minutes });
        }
        StrategySpec::Linear { step, step_bake_minutes, bake_minutes } => {
            c.strategy = DeploymentStrategy::Linear;
            c.bake_time_in_minutes = Some(bake_minutes);
            c.linear = Some(TrafficStep { percent: step, bake_time_in_minutes: step_bake_minutes });
        }
    }
    if !d.alarms.is_empty() {
        c.alarms = Some(DeploymentAlarms { alarm_names: d.alarms.clone(), rollback: true });
    }
    if let Some(role) = hooks_role {
        c.lifecycle_hooks = d
            .hooks
            .iter()
            .map(|h| LifecycleHookProps {
                hook_target_arn: h.function_arn.clone(),
                role_arn: r(role, Attr::Arn),
                lifecycle_stages: h.stages.clone(),
                hook_details: h.details.clone(),
            })
            .collect();
    }
    c
}
