//! Creates a stack resource by resource straight through the adapters, in dependency
//! order, resolving references as it goes: the ground truth that observe must read back.

use std::collections::BTreeMap;

use ecs_kit::aws::{Clients, Filter, Tags};
use ecs_kit::graph::props::{AvailabilityZone, ImageSource, Peer, SecurityGroupRule};
use ecs_kit::graph::{Attr, Graph, LogicalId, Properties, Ref, Resource};

/// What a created resource is known by.
#[derive(Debug, Default, Clone)]
pub struct Physical {
    pub id: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    pub dns_name: Option<String>,
}

/// Created resources by logical id.
pub type Created = BTreeMap<LogicalId, Physical>;

fn resolve(value: &mut serde_json::Value, created: &Created) {
    use serde_json::Value;
    match value {
        Value::Object(map) if map.len() == 2 && map.contains_key("ref") && map.contains_key("attr") => {
            let r: Ref = serde_json::from_value(value.clone()).expect("a reference");
            let p = created.get(&r.id).unwrap_or_else(|| panic!("{} is not created yet", r.id));
            let text = match r.attr {
                Attr::Id => Some(p.id.clone()),
                Attr::Arn => p.arn.clone(),
                Attr::Name => p.name.clone(),
                Attr::DnsName => p.dns_name.clone(),
            };
            *value = Value::String(text.unwrap_or_else(|| panic!("{} has no {:?}", r.id, r.attr)));
        }
        Value::Object(map) => map.values_mut().for_each(|v| resolve(v, created)),
        Value::Array(items) => items.iter_mut().for_each(|v| resolve(v, created)),
        _ => {}
    }
}

/// The resource's properties with every reference replaced by its physical value.
pub fn resolved(resource: &Resource, created: &Created) -> Properties {
    let mut json = serde_json::to_value(&resource.properties).unwrap();
    resolve(&mut json, created);
    Properties::from_json(resource.resource_type, json).expect("resolved properties keep their shape")
}

/// Creates every resource of `graph` through `clients`.
pub async fn create_all(graph: &Graph, clients: &Clients) -> Created {
    let mut created = Created::new();
    let zones = clients.ec2.describe_availability_zones().await.expect("zones");
    for resource in graph.resources() {
        let tags: Tags = resource.tags.clone();
        let name = Some(resource.name.clone());
        let token = format!("{}-{}", graph.stack, resource.id).replace('/', "-");
        let e = |what: &str| format!("create {} ({what})", resource.id);
        let physical = match resolved(resource, &created) {
            Properties::Vpc(p) => {
                let id =
                    clients.ec2.create_vpc(p.clone(), tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("vpc")));
                clients
                    .ec2
                    .modify_vpc_dns(id.clone(), p.enable_dns_support, p.enable_dns_hostnames)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("dns")));
                Physical { id, name, ..Default::default() }
            }
            Properties::InternetGateway(p) => {
                let id =
                    clients.ec2.create_internet_gateway(tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("igw")));
                let vpc = ecs_kit::aws::literal(&p.vpc_id, "test", "attach").unwrap().to_owned();
                clients
                    .ec2
                    .attach_internet_gateway(id.clone(), vpc)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("attach")));
                Physical { id, name, ..Default::default() }
            }
            Properties::Subnet(mut p) => {
                if let AvailabilityZone::Index { zone_index } = p.availability_zone {
                    p.availability_zone = AvailabilityZone::Name(zones[usize::from(zone_index)].clone());
                }
                let public = p.map_public_ip_on_launch;
                let id =
                    clients.ec2.create_subnet(p, tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("subnet")));
                if public {
                    clients
                        .ec2
                        .modify_subnet_public_ip(id.clone(), true)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("public ip")));
                }
                Physical { id, name, ..Default::default() }
            }
            Properties::Eip(_) => Physical {
                id: clients.ec2.allocate_address(tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("eip"))),
                name,
                ..Default::default()
            },
            Properties::NatGateway(p) => Physical {
                id: clients
                    .ec2
                    .create_nat_gateway(p, token, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("nat"))),
                name,
                ..Default::default()
            },
            Properties::RouteTable(p) => {
                let vpc = ecs_kit::aws::literal(&p.vpc_id, "test", "rt").unwrap().to_owned();
                let id = clients
                    .ec2
                    .create_route_table(vpc, token, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("route table")));
                for route in p.routes {
                    clients
                        .ec2
                        .create_route(id.clone(), route)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("route")));
                }
                for subnet in &p.subnet_ids {
                    let subnet = ecs_kit::aws::literal(subnet, "test", "assoc").unwrap().to_owned();
                    clients
                        .ec2
                        .associate_route_table(id.clone(), subnet)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("association")));
                }
                Physical { id, name, ..Default::default() }
            }
            Properties::SecurityGroup(p) => {
                let vpc = ecs_kit::aws::literal(&p.vpc_id, "test", "sg").unwrap().to_owned();
                let id = clients
                    .ec2
                    .create_security_group(p.group_name, p.description, vpc, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("sg")));
                if !p.ingress.is_empty() {
                    clients
                        .ec2
                        .authorize_ingress(id.clone(), p.ingress)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("ingress")));
                }
                // AWS gives a new group an allow-all egress rule without a description:
                // replace it with the declared rules.
                let default = SecurityGroupRule {
                    ip_protocol: "-1".into(),
                    from_port: -1,
                    to_port: -1,
                    peer: Peer::CidrIpv4("0.0.0.0/0".into()),
                    description: String::new(),
                };
                clients
                    .ec2
                    .revoke_egress(id.clone(), vec![default])
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("revoke default egress")));
                if !p.egress.is_empty() {
                    clients
                        .ec2
                        .authorize_egress(id.clone(), p.egress)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("egress")));
                }
                Physical { id, name, ..Default::default() }
            }
            Properties::LaunchTemplate(p) => {
                let image_id = match &p.image {
                    ImageSource::ImageId(id) => id.clone(),
                    ImageSource::SsmParameter { name, .. } => clients
                        .ssm
                        .get_parameter(name.clone())
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("ami parameter")))
                        .expect("moto knows the ECS AMI parameter"),
                };
                let id = clients
                    .ec2
                    .create_launch_template(p, image_id, token, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("launch template")));
                Physical { id, name, ..Default::default() }
            }
            Properties::Role(p) => {
                let role = p.role_name.clone();
                let arn =
                    clients.iam.create_role(p.clone(), tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("role")));
                for (policy, doc) in p.inline_policies {
                    clients
                        .iam
                        .put_role_policy(role.clone(), policy, doc)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("inline policy")));
                }
                for policy in p.managed_policy_arns {
                    clients
                        .iam
                        .attach_role_policy(role.clone(), policy)
                        .await
                        .unwrap_or_else(|err| panic!("{}: {err}", e("attach policy")));
                }
                Physical { id: role.clone(), arn: Some(arn), name: Some(role), dns_name: None }
            }
            Properties::InstanceProfile(p) => {
                let arn = clients
                    .iam
                    .create_instance_profile(p.instance_profile_name.clone(), p.path, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("profile")));
                let role = ecs_kit::aws::literal(&p.role_name, "test", "profile").unwrap().to_owned();
                clients
                    .iam
                    .add_role_to_instance_profile(p.instance_profile_name.clone(), role)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("add role")));
                Physical { id: p.instance_profile_name.clone(), arn: Some(arn), name, dns_name: None }
            }
            Properties::AutoScalingGroup(p) => {
                let group = p.auto_scaling_group_name.clone();
                clients
                    .autoscaling
                    .create_auto_scaling_group(p.clone(), tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("asg")));
                // moto turns a grace period of 0 into 300 on create (AWS keeps 0); an
                // update converges it, as apply will.
                clients
                    .autoscaling
                    .update_auto_scaling_group(p, false)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("asg update")));
                let found = clients
                    .autoscaling
                    .describe_auto_scaling_groups(vec![group.clone()])
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("describe asg")));
                Physical { id: group.clone(), arn: found[0].arn.clone(), name: Some(group), dns_name: None }
            }
            Properties::CapacityProvider(p) => {
                let provider = p.name.clone();
                let arn = clients
                    .ecs
                    .create_capacity_provider(p, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("capacity provider")));
                Physical { id: provider.clone(), arn: Some(arn), name: Some(provider), dns_name: None }
            }
            Properties::Cluster(p) => {
                let cluster = p.cluster_name.clone();
                let arn = clients
                    .ecs
                    .create_cluster(p.clone(), tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("cluster")));
                let providers = p
                    .capacity_providers
                    .iter()
                    .map(|c| ecs_kit::aws::literal(c, "t", "c").unwrap().to_owned())
                    .collect();
                clients
                    .ecs
                    .put_cluster_capacity_providers(cluster.clone(), providers, p.default_capacity_provider_strategy)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("providers")));
                Physical { id: cluster.clone(), arn: Some(arn), name: Some(cluster), dns_name: None }
            }
            Properties::FileSystem(p) => {
                let token = p.creation_token.clone();
                let id = clients
                    .efs
                    .create_file_system(p, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("file system")));
                let found = clients
                    .efs
                    .describe_file_systems(token)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("describe fs")));
                Physical { id, arn: found[0].arn.clone(), name, dns_name: None }
            }
            Properties::MountTarget(p) => Physical {
                id: clients
                    .efs
                    .create_mount_target(p)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("mount target"))),
                name,
                ..Default::default()
            },
            Properties::AccessPoint(p) => {
                let (id, arn) = clients
                    .efs
                    .create_access_point(p, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("access point")));
                Physical { id, arn: Some(arn), name, dns_name: None }
            }
            Properties::LoadBalancer(p) => {
                let idle = p.idle_timeout_seconds;
                let (arn, dns) = clients
                    .elb
                    .create_load_balancer(p, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("load balancer")));
                clients
                    .elb
                    .set_idle_timeout(arn.clone(), idle)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("idle timeout")));
                Physical { id: arn.clone(), arn: Some(arn), name, dns_name: Some(dns) }
            }
            Properties::TargetGroup(p) => {
                let delay = p.deregistration_delay_seconds;
                let arn = clients
                    .elb
                    .create_target_group(p, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("target group")));
                clients
                    .elb
                    .set_deregistration_delay(arn.clone(), delay)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("deregistration delay")));
                Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
            }
            Properties::Listener(p) => {
                let arn =
                    clients.elb.create_listener(p, tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("listener")));
                Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
            }
            Properties::ListenerRule(p) => {
                let arn = clients.elb.create_rule(p, tags).await.unwrap_or_else(|err| panic!("{}: {err}", e("rule")));
                Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
            }
            Properties::LogGroup(p) => {
                let group = p.log_group_name.clone();
                clients
                    .logs
                    .create_log_group(group.clone(), tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("log group")));
                clients
                    .logs
                    .put_retention_policy(group.clone(), p.retention_in_days)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("retention")));
                Physical { id: group.clone(), arn: None, name: Some(group), dns_name: None }
            }
            Properties::TaskDefinition(p) => {
                let arn = clients
                    .ecs
                    .register_task_definition(p, tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("task definition")));
                Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
            }
            Properties::Service(p) => {
                let arn = clients
                    .ecs
                    .create_service(p.clone(), token.chars().take(36).collect(), tags)
                    .await
                    .unwrap_or_else(|err| panic!("{}: {err}", e("service")));
                // moto's CreateService drops the deployment configuration, strategies,
                // grace period and managed tags (AWS keeps them); UpdateService sets them.
                let update = ecs_kit::aws::ServiceUpdate {
                    cluster: ecs_kit::aws::literal(&p.cluster, "t", "s").unwrap().to_owned(),
                    service: p.service_name.clone(),
                    deployment_configuration: Some(p.deployment_configuration),
                    capacity_provider_strategy: Some(p.capacity_provider_strategy.clone()),
                    health_check_grace_period_seconds: p.health_check_grace_period_seconds,
                    placement_strategy: Some(p.placement_strategy.clone()),
                    enable_ecs_managed_tags: Some(p.enable_ecs_managed_tags),
                    ..Default::default()
                };
                clients.ecs.update_service(update).await.unwrap_or_else(|err| panic!("{}: {err}", e("service update")));
                Physical { id: arn.clone(), arn: Some(arn), name, dns_name: None }
            }
        };
        created.insert(resource.id.clone(), physical);
    }
    created
}

/// An EC2 filter on the stack tag, for assertions.
#[allow(dead_code)]
pub fn stack_filter(stack: &str) -> Vec<Filter> {
    vec![Filter::tag(ecs_kit::model::STACK_TAG, stack)]
}
