//! ECS adapter: capacity providers, clusters, task definitions, services.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecs::types as ecs;
use aws_sdk_ecs::Client;

use super::{err, missing, sdk_error};
use crate::aws::{
    literal, AwsError, AwsResult, Deployment, EcsApi, ErrorKind, Found, LiveService, ServiceEvent, ServiceStatus,
    ServiceUpdate, Tags,
};
use crate::aws::{DeploymentRollback, HookStatus, ServiceDeployment, StoppedTask};
use crate::graph::props::{AdvancedLoadBalancer, DeploymentAlarms, DeploymentStrategy, Percent, TrafficStep};
use crate::graph::props::{
    AwsVpcConfiguration, CapacityProviderProps, ClusterProps, ContainerDefinition, CountOwner,
    DeploymentCircuitBreaker, DeploymentConfiguration, EfsVolume, EnvVar, ImageOwner, LogConfiguration, ManagedScaling,
    MountPoint, PlacementStrategy, PortMapping, RefOr, SecretVar, ServiceLoadBalancer, ServiceProps, StrategyItem,
    TaskDefinitionProps, Volume,
};
use crate::graph::props::{HookStage, LifecycleHookProps};

const SERVICE: &str = "ecs";
/// Names per DescribeServices call.
const SERVICES_PER_DESCRIBE: usize = 10;
/// Names per DescribeClusters / DescribeCapacityProviders call.
const NAMES_PER_DESCRIBE: usize = 100;
/// Longest CreateService client token.
const MAX_CLIENT_TOKEN: usize = 36;
/// The cluster setting holding Container Insights.
const CONTAINER_INSIGHTS: &str = "containerInsights";

/// [`EcsApi`] over `aws-sdk-ecs`.
#[derive(Debug, Clone)]
pub struct EcsSdk {
    client: Client,
}

impl EcsSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        EcsSdk { client }
    }
}

/// `u32` as the SDK's `i32` (saturating).
fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The SDK's `i32` as `u32` (negative reads as 0).
fn uint(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// A port as `u16` (out of range reads as 0).
fn port(value: Option<i32>) -> u16 {
    value.and_then(|v| u16::try_from(v).ok()).unwrap_or(0)
}

fn tags_from(tags: &[ecs::Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

fn tags_to(tags: &Tags) -> Option<Vec<ecs::Tag>> {
    if tags.is_empty() {
        return None;
    }
    Some(tags.iter().map(|(k, v)| ecs::Tag::builder().key(k).value(v).build()).collect())
}

fn value(s: Option<&str>) -> RefOr<String> {
    RefOr::Value(s.unwrap_or_default().to_owned())
}

fn strategy_from(items: &[ecs::CapacityProviderStrategyItem]) -> Vec<StrategyItem> {
    items
        .iter()
        .map(|i| StrategyItem {
            capacity_provider: RefOr::Value(i.capacity_provider().to_owned()),
            weight: uint(i.weight()),
            base: uint(i.base()),
        })
        .collect()
}

fn strategy_to(items: &[StrategyItem], operation: &str) -> AwsResult<Vec<ecs::CapacityProviderStrategyItem>> {
    items
        .iter()
        .map(|i| {
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider(literal(&i.capacity_provider, SERVICE, operation)?)
                .weight(int(i.weight))
                .base(int(i.base))
                .build()
                .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))
        })
        .collect()
}

fn managed_scaling_to(m: &ManagedScaling) -> ecs::ManagedScaling {
    ecs::ManagedScaling::builder()
        .status(ecs::ManagedScalingStatus::from(m.status.as_str()))
        .target_capacity(int(m.target_capacity))
        .minimum_scaling_step_size(int(m.minimum_scaling_step_size))
        .maximum_scaling_step_size(int(m.maximum_scaling_step_size))
        .instance_warmup_period(int(m.instance_warmup_period))
        .build()
}

/// A capacity provider in the graph's shape; what AWS leaves out reads as its default.
fn capacity_provider_props(cp: &ecs::CapacityProvider) -> CapacityProviderProps {
    let asg = cp.auto_scaling_group_provider();
    let scaling = asg.and_then(ecs::AutoScalingGroupProvider::managed_scaling);
    CapacityProviderProps {
        name: cp.name().unwrap_or_default().to_owned(),
        auto_scaling_group_arn: value(asg.map(ecs::AutoScalingGroupProvider::auto_scaling_group_arn)),
        managed_scaling: ManagedScaling {
            status: scaling.and_then(|s| s.status()).map_or("DISABLED", ecs::ManagedScalingStatus::as_str).to_owned(),
            target_capacity: scaling.and_then(ecs::ManagedScaling::target_capacity).map_or(100, uint),
            minimum_scaling_step_size: scaling.and_then(ecs::ManagedScaling::minimum_scaling_step_size).map_or(1, uint),
            maximum_scaling_step_size: scaling
                .and_then(ecs::ManagedScaling::maximum_scaling_step_size)
                .map_or(10000, uint),
            instance_warmup_period: scaling.and_then(ecs::ManagedScaling::instance_warmup_period).map_or(300, uint),
        },
        managed_termination_protection: asg
            .and_then(|a| a.managed_termination_protection())
            .map_or("DISABLED", ecs::ManagedTerminationProtection::as_str)
            .to_owned(),
        managed_draining: asg
            .and_then(|a| a.managed_draining())
            .map_or("ENABLED", ecs::ManagedDraining::as_str)
            .to_owned(),
    }
}

/// A cluster in the graph's shape: Container Insights `disabled` when unset,
/// capacity providers sorted.
fn cluster_props(c: &ecs::Cluster) -> ClusterProps {
    let insights = c
        .settings()
        .iter()
        .find(|s| s.name().is_some_and(|n| n.as_str() == CONTAINER_INSIGHTS))
        .and_then(ecs::ClusterSetting::value)
        .unwrap_or("disabled");
    let mut providers: Vec<String> = c.capacity_providers().to_vec();
    providers.sort();
    ClusterProps {
        cluster_name: c.cluster_name().unwrap_or_default().to_owned(),
        container_insights: insights.to_owned(),
        capacity_providers: providers.into_iter().map(RefOr::Value).collect(),
        default_capacity_provider_strategy: strategy_from(c.default_capacity_provider_strategy()),
    }
}

fn container_props(c: &ecs::ContainerDefinition) -> ContainerDefinition {
    let mut environment: Vec<EnvVar> = c
        .environment()
        .iter()
        .map(|kv| EnvVar { name: kv.name().unwrap_or_default().to_owned(), value: value(kv.value()) })
        .collect();
    environment.sort_by(|a, b| a.name.cmp(&b.name));
    let mut secrets: Vec<SecretVar> = c
        .secrets()
        .iter()
        .map(|s| SecretVar { name: s.name().to_owned(), value_from: s.value_from().to_owned() })
        .collect();
    secrets.sort_by(|a, b| a.name.cmp(&b.name));
    let log_configuration = c.log_configuration().map_or_else(
        || LogConfiguration { log_driver: String::new(), options: BTreeMap::new() },
        |l| LogConfiguration {
            log_driver: l.log_driver().as_str().to_owned(),
            options: l
                .options()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), RefOr::Value(v.clone()))).collect())
                .unwrap_or_default(),
        },
    );
    ContainerDefinition {
        name: c.name().unwrap_or_default().to_owned(),
        image: c.image().unwrap_or_default().to_owned(),
        cpu: uint(c.cpu()),
        memory: c.memory().or(c.memory_reservation()).map_or(0, uint),
        essential: c.essential().unwrap_or(true),
        port_mappings: c
            .port_mappings()
            .iter()
            .map(|p| PortMapping {
                container_port: port(p.container_port()),
                host_port: port(p.host_port()),
                protocol: p.protocol().map_or("tcp", ecs::TransportProtocol::as_str).to_owned(),
            })
            .collect(),
        environment,
        secrets,
        log_configuration,
        mount_points: c
            .mount_points()
            .iter()
            .map(|m| MountPoint {
                source_volume: m.source_volume().unwrap_or_default().to_owned(),
                container_path: m.container_path().unwrap_or_default().to_owned(),
                read_only: m.read_only().unwrap_or(false),
            })
            .collect(),
    }
}

/// A task definition in the graph's shape. Only EFS volumes have a shape there;
/// others are left out.
fn task_definition_props(td: &ecs::TaskDefinition) -> TaskDefinitionProps {
    TaskDefinitionProps {
        family: td.family().unwrap_or_default().to_owned(),
        task_role_arn: value(td.task_role_arn()),
        execution_role_arn: value(td.execution_role_arn()),
        network_mode: td.network_mode().map_or("bridge", ecs::NetworkMode::as_str).to_owned(),
        requires_compatibilities: td.requires_compatibilities().iter().map(|c| c.as_str().to_owned()).collect(),
        container_definitions: td.container_definitions().iter().map(container_props).collect(),
        volumes: td
            .volumes()
            .iter()
            .filter_map(|v| {
                let efs = v.efs_volume_configuration()?;
                let auth = efs.authorization_config();
                Some(Volume {
                    name: v.name().unwrap_or_default().to_owned(),
                    efs_volume_configuration: EfsVolume {
                        file_system_id: RefOr::Value(efs.file_system_id().to_owned()),
                        transit_encryption: efs
                            .transit_encryption()
                            .map_or("DISABLED", ecs::EfsTransitEncryption::as_str)
                            .to_owned(),
                        access_point_id: value(auth.and_then(ecs::EfsAuthorizationConfig::access_point_id)),
                        iam: auth
                            .and_then(ecs::EfsAuthorizationConfig::iam)
                            .map_or("DISABLED", ecs::EfsAuthorizationConfigIam::as_str)
                            .to_owned(),
                    },
                })
            })
            .collect(),
        cpu: td.cpu().map(str::to_owned),
        memory: td.memory().map(str::to_owned),
        image_owner: ImageOwner::Stack,
    }
}

/// An awsvpc network configuration for the SDK (references resolved).
fn network_to(n: &AwsVpcConfiguration, operation: &str) -> AwsResult<ecs::NetworkConfiguration> {
    let values = |v: &[RefOr<String>]| -> AwsResult<Vec<String>> {
        v.iter().map(|x| literal(x, SERVICE, operation).map(str::to_owned)).collect()
    };
    let awsvpc = ecs::AwsVpcConfiguration::builder()
        .set_subnets(Some(values(&n.subnets)?))
        .set_security_groups(Some(values(&n.security_groups)?))
        .assign_public_ip(ecs::AssignPublicIp::from(n.assign_public_ip.as_str()))
        .build()
        .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))?;
    Ok(ecs::NetworkConfiguration::builder().awsvpc_configuration(awsvpc).build())
}

/// A service's awsvpc configuration in the graph's shape (`DISABLED` when unset).
fn network_from(n: Option<&ecs::NetworkConfiguration>) -> Option<AwsVpcConfiguration> {
    let c = n?.awsvpc_configuration()?;
    Some(AwsVpcConfiguration {
        subnets: c.subnets().iter().map(|v| RefOr::Value(v.clone())).collect(),
        security_groups: c.security_groups().iter().map(|v| RefOr::Value(v.clone())).collect(),
        assign_public_ip: c.assign_public_ip().map_or("DISABLED", ecs::AssignPublicIp::as_str).to_owned(),
    })
}

fn container_to(c: &ContainerDefinition, operation: &str) -> AwsResult<ecs::ContainerDefinition> {
    let mut environment = Vec::with_capacity(c.environment.len());
    for e in &c.environment {
        environment
            .push(ecs::KeyValuePair::builder().name(&e.name).value(literal(&e.value, SERVICE, operation)?).build());
    }
    let mut secrets = Vec::with_capacity(c.secrets.len());
    for s in &c.secrets {
        secrets.push(
            ecs::Secret::builder()
                .name(&s.name)
                .value_from(&s.value_from)
                .build()
                .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))?,
        );
    }
    let mut log =
        ecs::LogConfiguration::builder().log_driver(ecs::LogDriver::from(c.log_configuration.log_driver.as_str()));
    for (k, v) in &c.log_configuration.options {
        log = log.options(k, literal(v, SERVICE, operation)?);
    }
    let mut container = ecs::ContainerDefinition::builder()
        .name(&c.name)
        .image(&c.image)
        .cpu(int(c.cpu))
        .memory(int(c.memory))
        .essential(c.essential)
        .set_port_mappings(Some(
            c.port_mappings
                .iter()
                .map(|p| {
                    ecs::PortMapping::builder()
                        .container_port(i32::from(p.container_port))
                        .host_port(i32::from(p.host_port))
                        .protocol(ecs::TransportProtocol::from(p.protocol.as_str()))
                        .build()
                })
                .collect(),
        ))
        .set_environment(Some(environment))
        .set_secrets(Some(secrets))
        .set_mount_points(Some(
            c.mount_points
                .iter()
                .map(|m| {
                    ecs::MountPoint::builder()
                        .source_volume(&m.source_volume)
                        .container_path(&m.container_path)
                        .read_only(m.read_only)
                        .build()
                })
                .collect(),
        ));
    if !c.log_configuration.log_driver.is_empty() {
        container = container.log_configuration(
            log.build().map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))?,
        );
    }
    Ok(container.build())
}

fn volume_to(v: &Volume, operation: &str) -> AwsResult<ecs::Volume> {
    let efs = &v.efs_volume_configuration;
    let config = ecs::EfsVolumeConfiguration::builder()
        .file_system_id(literal(&efs.file_system_id, SERVICE, operation)?)
        .transit_encryption(ecs::EfsTransitEncryption::from(efs.transit_encryption.as_str()))
        .authorization_config(
            ecs::EfsAuthorizationConfig::builder()
                .access_point_id(literal(&efs.access_point_id, SERVICE, operation)?)
                .iam(ecs::EfsAuthorizationConfigIam::from(efs.iam.as_str()))
                .build(),
        )
        .build()
        .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))?;
    Ok(ecs::Volume::builder().name(&v.name).efs_volume_configuration(config).build())
}

fn load_balancers_to(lbs: &[ServiceLoadBalancer], operation: &str) -> AwsResult<Vec<ecs::LoadBalancer>> {
    lbs.iter()
        .map(|lb| {
            let advanced = match &lb.advanced {
                Some(a) => Some(
                    ecs::AdvancedConfiguration::builder()
                        .alternate_target_group_arn(literal(&a.alternate_target_group_arn, SERVICE, operation)?)
                        .production_listener_rule(literal(&a.production_listener_rule, SERVICE, operation)?)
                        .set_test_listener_rule(
                            a.test_listener_rule
                                .as_ref()
                                .map(|t| literal(t, SERVICE, operation).map(str::to_owned))
                                .transpose()?,
                        )
                        .role_arn(literal(&a.role_arn, SERVICE, operation)?)
                        .build(),
                ),
                None => None,
            };
            Ok(ecs::LoadBalancer::builder()
                .target_group_arn(literal(&lb.target_group_arn, SERVICE, operation)?)
                .container_name(&lb.container_name)
                .container_port(i32::from(lb.container_port))
                .set_advanced_configuration(advanced)
                .build())
        })
        .collect()
}

/// JSON as a Smithy document (`hookDetails`).
fn document(v: &serde_json::Value) -> aws_smithy_types::Document {
    use aws_smithy_types::{Document, Number};
    match v {
        serde_json::Value::Null => Document::Null,
        serde_json::Value::Bool(b) => Document::Bool(*b),
        serde_json::Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap_or_default()),
        }),
        serde_json::Value::String(s) => Document::String(s.clone()),
        serde_json::Value::Array(items) => Document::Array(items.iter().map(document).collect()),
        serde_json::Value::Object(map) => Document::Object(map.iter().map(|(k, v)| (k.clone(), document(v))).collect()),
    }
}

/// A Smithy document as JSON.
fn json(d: &aws_smithy_types::Document) -> serde_json::Value {
    use aws_smithy_types::{Document, Number};
    match d {
        Document::Null => serde_json::Value::Null,
        Document::Bool(b) => serde_json::Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => serde_json::Value::from(*u),
        Document::Number(Number::NegInt(i)) => serde_json::Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Value::from(*f),
        Document::String(s) => serde_json::Value::String(s.clone()),
        Document::Array(items) => serde_json::Value::Array(items.iter().map(json).collect()),
        Document::Object(map) => serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
    }
}

/// A lifecycle hook as ECS takes it: a Lambda function, the role to invoke it with.
fn hook_to(h: &LifecycleHookProps, operation: &str) -> AwsResult<ecs::DeploymentLifecycleHook> {
    Ok(ecs::DeploymentLifecycleHook::builder()
        .target_type(ecs::DeploymentLifecycleHookTargetType::AwsLambda)
        .hook_target_arn(&h.hook_target_arn)
        .role_arn(literal(&h.role_arn, SERVICE, operation)?)
        .set_lifecycle_stages(Some(
            h.lifecycle_stages.iter().map(|s| ecs::DeploymentLifecycleHookStage::from(s.as_str())).collect(),
        ))
        .set_hook_details(h.hook_details.as_ref().map(document))
        .build())
}

/// A lifecycle hook in the graph's shape; stages ecs-kit does not know are left out
/// (the plan then shows the hook as changed).
fn hook_from(h: &ecs::DeploymentLifecycleHook) -> LifecycleHookProps {
    let mut lifecycle_stages: Vec<HookStage> =
        h.lifecycle_stages().iter().filter_map(|s| HookStage::parse(s.as_str())).collect();
    lifecycle_stages.sort_unstable();
    LifecycleHookProps {
        hook_target_arn: h.hook_target_arn().unwrap_or_default().to_owned(),
        role_arn: value(h.role_arn()),
        lifecycle_stages,
        hook_details: h.hook_details().map(json),
    }
}

fn deployment_configuration_to(
    d: &DeploymentConfiguration,
    operation: &str,
) -> AwsResult<ecs::DeploymentConfiguration> {
    let step = |t: &TrafficStep| (t.percent.as_f64(), int(t.bake_time_in_minutes));
    let hooks = d.lifecycle_hooks.iter().map(|h| hook_to(h, operation)).collect::<AwsResult<Vec<_>>>()?;
    Ok(ecs::DeploymentConfiguration::builder()
        .minimum_healthy_percent(int(d.minimum_healthy_percent))
        .maximum_percent(int(d.maximum_percent))
        .deployment_circuit_breaker(
            ecs::DeploymentCircuitBreaker::builder()
                .enable(d.deployment_circuit_breaker.enable)
                .rollback(d.deployment_circuit_breaker.rollback)
                .build(),
        )
        // Always said, rolling included: an update back to rolling must say so (moto,
        // which knows no strategies, stores what it is sent).
        .strategy(ecs::DeploymentStrategy::from(d.strategy.as_str()))
        .set_bake_time_in_minutes(d.bake_time_in_minutes.map(int))
        .set_canary_configuration(
            d.canary.as_ref().map(step).map(|(p, m)| {
                ecs::CanaryConfiguration::builder().canary_percent(p).canary_bake_time_in_minutes(m).build()
            }),
        )
        .set_linear_configuration(
            d.linear
                .as_ref()
                .map(step)
                .map(|(p, m)| ecs::LinearConfiguration::builder().step_percent(p).step_bake_time_in_minutes(m).build()),
        )
        .set_alarms(d.alarms.as_ref().map(|a| {
            ecs::DeploymentAlarms::builder()
                .set_alarm_names(Some(a.alarm_names.clone()))
                .enable(true)
                .rollback(a.rollback)
                .build()
                .expect("alarm names, enable and rollback are set")
        }))
        // Always a list, empty when there are none: hooks removed from the declaration
        // are removed from the service.
        .set_lifecycle_hooks(Some(hooks))
        .build())
}

/// The SDK's deployment configuration in the graph's shape (AWS's defaults where absent).
fn deployment_configuration_from(dc: Option<&ecs::DeploymentConfiguration>) -> DeploymentConfiguration {
    let breaker = dc.and_then(ecs::DeploymentConfiguration::deployment_circuit_breaker);
    let mut c = DeploymentConfiguration::rolling(
        dc.and_then(ecs::DeploymentConfiguration::minimum_healthy_percent).map_or(100, uint),
        dc.and_then(ecs::DeploymentConfiguration::maximum_percent).map_or(200, uint),
        DeploymentCircuitBreaker {
            enable: breaker.is_some_and(ecs::DeploymentCircuitBreaker::enable),
            rollback: breaker.is_some_and(ecs::DeploymentCircuitBreaker::rollback),
        },
    );
    let Some(dc) = dc else { return c };
    c.strategy = dc.strategy().map_or(DeploymentStrategy::Rolling, |s| DeploymentStrategy::parse(s.as_str()));
    if c.strategy != DeploymentStrategy::Rolling {
        c.bake_time_in_minutes = dc.bake_time_in_minutes().map(uint);
    }
    if c.strategy == DeploymentStrategy::Canary {
        c.canary = dc.canary_configuration().map(|k| TrafficStep {
            percent: Percent::from_f64(k.canary_percent().unwrap_or(5.0)),
            bake_time_in_minutes: k.canary_bake_time_in_minutes().map_or(10, uint),
        });
    }
    if c.strategy == DeploymentStrategy::Linear {
        c.linear = dc.linear_configuration().map(|k| TrafficStep {
            percent: Percent::from_f64(k.step_percent().unwrap_or(10.0)),
            bake_time_in_minutes: k.step_bake_time_in_minutes().map_or(6, uint),
        });
    }
    c.alarms = dc
        .alarms()
        .filter(|a| a.enable())
        .map(|a| DeploymentAlarms { alarm_names: a.alarm_names().to_vec(), rollback: a.rollback() });
    c.lifecycle_hooks = dc.lifecycle_hooks().iter().map(hook_from).collect();
    c
}

/// A service deployment in ecs-kit's shape.
fn service_deployment_from(d: &ecs::ServiceDeployment) -> ServiceDeployment {
    let secs = |t: Option<&aws_smithy_types::DateTime>| t.map(aws_smithy_types::DateTime::secs);
    let target = d.target_service_revision();
    ServiceDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_owned(),
        status: d.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        status_reason: d.status_reason().map(str::to_owned),
        lifecycle_stage: d.lifecycle_stage().map(|s| s.as_str().to_owned()),
        configuration: d.deployment_configuration().map(|c| deployment_configuration_from(Some(c))),
        target_revision: target.and_then(ecs::ServiceRevisionSummary::arn).map(str::to_owned),
        target_running: target.map_or(0, |t| uint(t.running_task_count())),
        target_requested: target.map_or(0, |t| uint(t.requested_task_count())),
        production_traffic: target
            .and_then(ecs::ServiceRevisionSummary::requested_production_traffic_weight)
            .map(Percent::from_f64),
        created_at: secs(d.created_at()),
        started_at: secs(d.started_at()),
        updated_at: secs(d.updated_at()),
        finished_at: secs(d.finished_at()),
        rollback: d.rollback().map(|r| DeploymentRollback {
            reason: r.reason().map(str::to_owned),
            started_at: secs(r.started_at()),
            revision: r.service_revision_arn().map(str::to_owned),
        }),
        circuit_breaker: d
            .deployment_circuit_breaker()
            .filter(|b| b.status().is_some_and(|s| s.as_str() == "MONITORING" || s.as_str() == "TRIGGERED"))
            .map(|b| (uint(b.failure_count()), uint(b.threshold()))),
        triggered_alarms: d.alarms().map(|a| a.triggered_alarm_names().to_vec()).unwrap_or_default(),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .map(|h| HookStatus {
                id: h.hook_id().unwrap_or_default().to_owned(),
                target_arn: h.target_arn().unwrap_or_default().to_owned(),
                status: h.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            })
            .collect(),
    }
}

fn placement_to(items: &[PlacementStrategy]) -> Vec<ecs::PlacementStrategy> {
    items
        .iter()
        .map(|p| {
            ecs::PlacementStrategy::builder()
                .r#type(ecs::PlacementStrategyType::from(p.kind.as_str()))
                .field(&p.field)
                .build()
        })
        .collect()
}

/// A service in the graph's shape and its status. The desired count's owner cannot be
/// read from AWS: it reads as [`CountOwner::Stack`]. The grace period reads as `Some`
/// only with load balancers (the graph sets it only then).
fn live_service(s: &ecs::Service) -> LiveService {
    let name = s.service_name().unwrap_or_default().to_owned();
    let load_balancers: Vec<ServiceLoadBalancer> = s
        .load_balancers()
        .iter()
        .map(|lb| ServiceLoadBalancer {
            target_group_arn: value(lb.target_group_arn()),
            container_name: lb.container_name().unwrap_or_default().to_owned(),
            container_port: port(lb.container_port()),
            advanced: lb.advanced_configuration().map(|a| AdvancedLoadBalancer {
                alternate_target_group_arn: value(a.alternate_target_group_arn()),
                production_listener_rule: value(a.production_listener_rule()),
                test_listener_rule: a.test_listener_rule().map(|t| value(Some(t))),
                role_arn: value(a.role_arn()),
            }),
        })
        .collect();
    let props = ServiceProps {
        service_name: name.clone(),
        cluster: value(s.cluster_arn()),
        task_definition: value(s.task_definition()),
        desired_count: uint(s.desired_count()),
        desired_count_owner: CountOwner::Stack,
        capacity_provider_strategy: strategy_from(s.capacity_provider_strategy()),
        health_check_grace_period_seconds: if load_balancers.is_empty() {
            None
        } else {
            Some(s.health_check_grace_period_seconds().map_or(0, uint))
        },
        load_balancers,
        deployment_configuration: deployment_configuration_from(s.deployment_configuration()),
        placement_strategy: s
            .placement_strategy()
            .iter()
            .map(|p| PlacementStrategy {
                kind: p.r#type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
                field: p.field().unwrap_or_default().to_owned(),
            })
            .collect(),
        propagate_tags: s.propagate_tags().map_or("NONE", ecs::PropagateTags::as_str).to_owned(),
        enable_ecs_managed_tags: s.enable_ecs_managed_tags(),
        network_mode: network_from(s.network_configuration()).map(|_| "awsvpc".to_owned()),
        network_configuration: network_from(s.network_configuration()),
        platform_version: s.platform_version().map(str::to_owned),
    };
    let mut deployments: Vec<Deployment> = s
        .deployments()
        .iter()
        .map(|d| Deployment {
            id: d.id().unwrap_or_default().to_owned(),
            status: d.status().unwrap_or_default().to_owned(),
            task_definition: d.task_definition().unwrap_or_default().to_owned(),
            desired: uint(d.desired_count()),
            running: uint(d.running_count()),
            pending: uint(d.pending_count()),
            rollout_state: d.rollout_state().map(|r| r.as_str().to_owned()),
            rollout_reason: d.rollout_state_reason().map(str::to_owned),
            failed_tasks: uint(d.failed_tasks()),
            created_at: d.created_at().map(aws_smithy_types::DateTime::secs),
        })
        .collect();
    // Primary first, the others in AWS's order.
    deployments.sort_by_key(|d| d.status != "PRIMARY");
    let mut events: Vec<ServiceEvent> = s
        .events()
        .iter()
        .map(|e| ServiceEvent {
            id: e.id().unwrap_or_default().to_owned(),
            at_epoch_seconds: e.created_at().map_or(0, aws_smithy_types::DateTime::secs),
            message: e.message().unwrap_or_default().to_owned(),
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.at_epoch_seconds));
    let status = ServiceStatus {
        status: s.status().unwrap_or_default().to_owned(),
        desired: uint(s.desired_count()),
        running: uint(s.running_count()),
        pending: uint(s.pending_count()),
        deployments,
        events,
    };
    let mut found = Found::new(name, props);
    found.arn = s.service_arn().map(str::to_owned);
    found.state = s.status().map(str::to_owned);
    found.tags = tags_from(s.tags());
    LiveService { found, status }
}

#[async_trait]
impl EcsApi for EcsSdk {
    async fn describe_capacity_providers(&self, names: Vec<String>) -> AwsResult<Vec<Found<CapacityProviderProps>>> {
        let mut found = Vec::new();
        // An empty list would describe every provider of the account.
        for chunk in names.chunks(NAMES_PER_DESCRIBE) {
            let out = self
                .client
                .describe_capacity_providers()
                .set_capacity_providers(Some(chunk.to_vec()))
                .include(ecs::CapacityProviderField::Tags)
                .send()
                .await
                .map_err(err(SERVICE, "DescribeCapacityProviders"))?;
            for cp in out.capacity_providers() {
                let props = capacity_provider_props(cp);
                let mut item = Found::new(props.name.clone(), props);
                item.arn = cp.capacity_provider_arn().map(str::to_owned);
                item.state = cp.status().map(|s| s.as_str().to_owned());
                item.tags = tags_from(cp.tags());
                if let Some(update) = cp.update_status() {
                    item.attrs.insert("update_status".into(), update.as_str().to_owned());
                }
                if let Some(reason) = cp.update_status_reason() {
                    item.attrs.insert("update_status_reason".into(), reason.to_owned());
                }
                found.push(item);
            }
        }
        Ok(found)
    }

    async fn create_capacity_provider(&self, props: CapacityProviderProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateCapacityProvider";
        let provider = ecs::AutoScalingGroupProvider::builder()
            .auto_scaling_group_arn(literal(&props.auto_scaling_group_arn, SERVICE, OP)?)
            .managed_scaling(managed_scaling_to(&props.managed_scaling))
            .managed_termination_protection(ecs::ManagedTerminationProtection::from(
                props.managed_termination_protection.as_str(),
            ))
            .managed_draining(ecs::ManagedDraining::from(props.managed_draining.as_str()))
            .build()
            .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, OP, e.to_string()))?;
        let out = self
            .client
            .create_capacity_provider()
            .name(&props.name)
            .auto_scaling_group_provider(provider)
            .set_tags(tags_to(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.capacity_provider()
            .and_then(ecs::CapacityProvider::capacity_provider_arn)
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, OP, "capacityProvider.capacityProviderArn"))
    }

    async fn update_capacity_provider(&self, props: CapacityProviderProps) -> AwsResult<()> {
        let update = ecs::AutoScalingGroupProviderUpdate::builder()
            .managed_scaling(managed_scaling_to(&props.managed_scaling))
            .managed_termination_protection(ecs::ManagedTerminationProtection::from(
                props.managed_termination_protection.as_str(),
            ))
            .managed_draining(ecs::ManagedDraining::from(props.managed_draining.as_str()))
            .build();
        self.client
            .update_capacity_provider()
            .name(&props.name)
            .auto_scaling_group_provider(update)
            .send()
            .await
            .map_err(err(SERVICE, "UpdateCapacityProvider"))?;
        Ok(())
    }

    async fn delete_capacity_provider(&self, name: String) -> AwsResult<()> {
        self.client
            .delete_capacity_provider()
            .capacity_provider(name)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteCapacityProvider"))?;
        Ok(())
    }

    async fn describe_clusters(&self, names: Vec<String>) -> AwsResult<Vec<Found<ClusterProps>>> {
        let mut found = Vec::new();
        // An empty list would describe the `default` cluster.
        for chunk in names.chunks(NAMES_PER_DESCRIBE) {
            let out = self
                .client
                .describe_clusters()
                .set_clusters(Some(chunk.to_vec()))
                .include(ecs::ClusterField::Settings)
                .include(ecs::ClusterField::Tags)
                .send()
                .await
                .map_err(err(SERVICE, "DescribeClusters"))?;
            for c in out.clusters() {
                let props = cluster_props(c);
                let mut item = Found::new(props.cluster_name.clone(), props);
                item.arn = c.cluster_arn().map(str::to_owned);
                item.state = c.status().map(str::to_owned);
                item.tags = tags_from(c.tags());
                item.attrs.insert("registered_instances".into(), c.registered_container_instances_count().to_string());
                item.attrs.insert("active_services".into(), c.active_services_count().to_string());
                item.attrs.insert("running_tasks".into(), c.running_tasks_count().to_string());
                found.push(item);
            }
        }
        Ok(found)
    }

    async fn create_cluster(&self, props: ClusterProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateCluster";
        let out = self
            .client
            .create_cluster()
            .cluster_name(&props.cluster_name)
            .settings(
                ecs::ClusterSetting::builder()
                    .name(ecs::ClusterSettingName::ContainerInsights)
                    .value(&props.container_insights)
                    .build(),
            )
            .set_tags(tags_to(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.cluster()
            .and_then(ecs::Cluster::cluster_arn)
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, OP, "cluster.clusterArn"))
    }

    // UpdateCluster rather than UpdateClusterSettings: both set `containerInsights` on
    // AWS, and local emulators (moto) implement only UpdateCluster.
    async fn update_cluster_settings(&self, cluster: String, container_insights: String) -> AwsResult<()> {
        self.client
            .update_cluster()
            .cluster(cluster)
            .settings(
                ecs::ClusterSetting::builder()
                    .name(ecs::ClusterSettingName::ContainerInsights)
                    .value(container_insights)
                    .build(),
            )
            .send()
            .await
            .map_err(err(SERVICE, "UpdateCluster"))?;
        Ok(())
    }

    async fn put_cluster_capacity_providers(
        &self,
        cluster: String,
        providers: Vec<String>,
        strategy: Vec<StrategyItem>,
    ) -> AwsResult<()> {
        const OP: &str = "PutClusterCapacityProviders";
        let strategy = strategy_to(&strategy, OP)?;
        self.client
            .put_cluster_capacity_providers()
            .cluster(cluster)
            .set_capacity_providers(Some(providers))
            .set_default_capacity_provider_strategy(Some(strategy))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn delete_cluster(&self, cluster: String) -> AwsResult<()> {
        self.client.delete_cluster().cluster(cluster).send().await.map_err(err(SERVICE, "DeleteCluster"))?;
        Ok(())
    }

    async fn describe_task_definition(&self, task_definition: String) -> AwsResult<Option<Found<TaskDefinitionProps>>> {
        const OP: &str = "DescribeTaskDefinition";
        let out = match self
            .client
            .describe_task_definition()
            .task_definition(task_definition)
            .include(ecs::TaskDefinitionField::Tags)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = sdk_error(SERVICE, OP, e);
                // ECS answers an unknown family or revision with a ClientException.
                let unknown = e.kind == ErrorKind::NotFound
                    || (e.code.as_deref() == Some("ClientException")
                        && e.message.as_deref().is_some_and(|m| m.contains("Unable to describe task definition")));
                return if unknown { Ok(None) } else { Err(e) };
            }
        };
        let Some(td) = out.task_definition() else { return Ok(None) };
        let props = task_definition_props(td);
        let mut item = Found::new(format!("{}:{}", props.family, td.revision()), props);
        item.arn = td.task_definition_arn().map(str::to_owned);
        item.state = td.status().map(|s| s.as_str().to_owned());
        item.tags = tags_from(out.tags());
        Ok(Some(item))
    }

    async fn register_task_definition(&self, props: TaskDefinitionProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "RegisterTaskDefinition";
        let containers =
            props.container_definitions.iter().map(|c| container_to(c, OP)).collect::<AwsResult<Vec<_>>>()?;
        let volumes = props.volumes.iter().map(|v| volume_to(v, OP)).collect::<AwsResult<Vec<_>>>()?;
        let task_role = literal(&props.task_role_arn, SERVICE, OP)?;
        let execution_role = literal(&props.execution_role_arn, SERVICE, OP)?;
        let out = self
            .client
            .register_task_definition()
            .family(&props.family)
            .set_task_role_arn(Some(task_role.to_owned()).filter(|s| !s.is_empty()))
            .set_execution_role_arn(Some(execution_role.to_owned()).filter(|s| !s.is_empty()))
            .network_mode(ecs::NetworkMode::from(props.network_mode.as_str()))
            .set_requires_compatibilities(Some(
                props.requires_compatibilities.iter().map(|c| ecs::Compatibility::from(c.as_str())).collect(),
            ))
            .set_container_definitions(Some(containers))
            .set_volumes(Some(volumes))
            .set_cpu(props.cpu.clone())
            .set_memory(props.memory.clone())
            .set_tags(tags_to(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.task_definition()
            .and_then(ecs::TaskDefinition::task_definition_arn)
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, OP, "taskDefinition.taskDefinitionArn"))
    }

    async fn list_task_definitions(&self, family: String, status: String) -> AwsResult<Vec<String>> {
        self.client
            .list_task_definitions()
            .family_prefix(family)
            .status(ecs::TaskDefinitionStatus::from(status.as_str()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "ListTaskDefinitions"))
    }

    async fn list_task_definition_families(&self, prefix: String, status: String) -> AwsResult<Vec<String>> {
        self.client
            .list_task_definition_families()
            .family_prefix(prefix)
            .status(ecs::TaskDefinitionFamilyStatus::from(status.as_str()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "ListTaskDefinitionFamilies"))
    }

    async fn deregister_task_definition(&self, arn: String) -> AwsResult<()> {
        self.client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(err(SERVICE, "DeregisterTaskDefinition"))?;
        Ok(())
    }

    async fn delete_task_definitions(&self, arns: Vec<String>) -> AwsResult<()> {
        const OP: &str = "DeleteTaskDefinitions";
        if arns.is_empty() {
            return Ok(());
        }
        let out = self
            .client
            .delete_task_definitions()
            .set_task_definitions(Some(arns))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        // Per-revision failures come back in the answer, not as an error.
        if let Some(f) = out.failures().first() {
            let reason = f.reason().unwrap_or_default();
            let kind = ErrorKind::classify(Some(reason), None);
            let kind = if kind == ErrorKind::Other { ErrorKind::Invalid } else { kind };
            return Err(AwsError::new(
                kind,
                SERVICE,
                OP,
                format!("{}: {reason} {}", f.arn().unwrap_or_default(), f.detail().unwrap_or_default()).trim_end(),
            ));
        }
        Ok(())
    }

    async fn list_services(&self, cluster: String) -> AwsResult<Vec<String>> {
        self.client
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "ListServices"))
    }

    async fn describe_services(&self, cluster: String, names: Vec<String>) -> AwsResult<Vec<LiveService>> {
        let mut found = Vec::new();
        for chunk in names.chunks(SERVICES_PER_DESCRIBE) {
            let out = match self
                .client
                .describe_services()
                .cluster(&cluster)
                .set_services(Some(chunk.to_vec()))
                .include(ecs::ServiceField::Tags)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let e = sdk_error(SERVICE, "DescribeServices", e);
                    // No cluster: none of its services exists.
                    if e.kind == ErrorKind::NotFound {
                        return Ok(Vec::new());
                    }
                    return Err(e);
                }
            };
            // Unknown names come back in `failures` (reason MISSING): left out.
            found.extend(out.services().iter().map(live_service));
        }
        Ok(found)
    }

    async fn create_service(&self, props: ServiceProps, client_token: String, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateService";
        if client_token.is_empty()
            || client_token.len() > MAX_CLIENT_TOKEN
            || !client_token.bytes().all(|b| (33..=126).contains(&b))
        {
            return Err(AwsError::new(
                ErrorKind::Invalid,
                SERVICE,
                OP,
                format!("client token `{client_token}`: ECS takes 1 to {MAX_CLIENT_TOKEN} printable ASCII characters"),
            ));
        }
        let out = self
            .client
            .create_service()
            .cluster(literal(&props.cluster, SERVICE, OP)?)
            .service_name(&props.service_name)
            .task_definition(literal(&props.task_definition, SERVICE, OP)?)
            .desired_count(int(props.desired_count))
            .set_capacity_provider_strategy(
                Some(strategy_to(&props.capacity_provider_strategy, OP)?).filter(|s| !s.is_empty()),
            )
            .set_load_balancers(Some(load_balancers_to(&props.load_balancers, OP)?).filter(|l| !l.is_empty()))
            .deployment_configuration(deployment_configuration_to(&props.deployment_configuration, OP)?)
            .set_health_check_grace_period_seconds(props.health_check_grace_period_seconds.map(int))
            .set_placement_strategy(Some(placement_to(&props.placement_strategy)).filter(|p| !p.is_empty()))
            .propagate_tags(ecs::PropagateTags::from(props.propagate_tags.as_str()))
            .enable_ecs_managed_tags(props.enable_ecs_managed_tags)
            .set_network_configuration(props.network_configuration.as_ref().map(|n| network_to(n, OP)).transpose()?)
            .set_platform_version(props.platform_version.clone())
            .set_tags(tags_to(&tags))
            .client_token(client_token)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.service()
            .and_then(ecs::Service::service_arn)
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, OP, "service.serviceArn"))
    }

    async fn update_service(&self, update: ServiceUpdate) -> AwsResult<()> {
        const OP: &str = "UpdateService";
        let strategy = update.capacity_provider_strategy.as_deref().map(|s| strategy_to(s, OP)).transpose()?;
        let load_balancers = update.load_balancers.as_deref().map(|l| load_balancers_to(l, OP)).transpose()?;
        let network = update.network_configuration.as_ref().map(|n| network_to(n, OP)).transpose()?;
        let deployment =
            update.deployment_configuration.as_ref().map(|d| deployment_configuration_to(d, OP)).transpose()?;
        self.client
            .update_service()
            .cluster(update.cluster)
            .service(update.service)
            .set_task_definition(update.task_definition)
            .set_desired_count(update.desired_count.map(int))
            .set_deployment_configuration(deployment)
            .set_capacity_provider_strategy(strategy)
            .set_load_balancers(load_balancers)
            .set_health_check_grace_period_seconds(update.health_check_grace_period_seconds.map(int))
            .set_placement_strategy(update.placement_strategy.as_deref().map(placement_to))
            .set_propagate_tags(update.propagate_tags.as_deref().map(ecs::PropagateTags::from))
            .set_enable_ecs_managed_tags(update.enable_ecs_managed_tags)
            .set_network_configuration(network)
            .set_platform_version(update.platform_version)
            .force_new_deployment(update.force_new_deployment)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn list_service_deployments(&self, cluster: String, service: String) -> AwsResult<Vec<String>> {
        const OP: &str = "ListServiceDeployments";
        let out = self
            .client
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        let mut briefs: Vec<&ecs::ServiceDeploymentBrief> = out.service_deployments().iter().collect();
        briefs.sort_by_key(|b| std::cmp::Reverse(b.created_at().map(aws_smithy_types::DateTime::secs)));
        Ok(briefs.iter().filter_map(|b| b.service_deployment_arn().map(str::to_owned)).collect())
    }

    async fn describe_service_deployments(&self, arns: Vec<String>) -> AwsResult<Vec<ServiceDeployment>> {
        const OP: &str = "DescribeServiceDeployments";
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_service_deployments()
            .set_service_deployment_arns(Some(arns))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(out.service_deployments().iter().map(service_deployment_from).collect())
    }

    async fn stopped_tasks(&self, cluster: String, service: String) -> AwsResult<Vec<StoppedTask>> {
        let listed = self
            .client
            .list_tasks()
            .cluster(&cluster)
            .service_name(service)
            .desired_status(ecs::DesiredStatus::Stopped)
            .send()
            .await
            .map_err(err(SERVICE, "ListTasks"))?;
        let arns: Vec<String> = listed.task_arns().iter().take(100).cloned().collect();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let secs = |t: Option<&aws_smithy_types::DateTime>| t.map(aws_smithy_types::DateTime::secs);
        let mut tasks = Vec::new();
        for chunk in arns.chunks(100) {
            let out = self
                .client
                .describe_tasks()
                .cluster(&cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(err(SERVICE, "DescribeTasks"))?;
            tasks.extend(out.tasks().iter().map(|t| {
                StoppedTask {
                    arn: t.task_arn().unwrap_or_default().to_owned(),
                    task_definition: t.task_definition_arn().unwrap_or_default().to_owned(),
                    reason: t.stopped_reason().map(str::to_owned),
                    stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
                    containers: t
                        .containers()
                        .iter()
                        .map(|c| {
                            (c.name().unwrap_or_default().to_owned(), c.exit_code(), c.reason().map(str::to_owned))
                        })
                        .collect(),
                    stopped_at: secs(t.stopped_at()),
                }
            }));
        }
        tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
        Ok(tasks)
    }

    async fn delete_service(&self, cluster: String, service: String, force: bool) -> AwsResult<()> {
        self.client
            .delete_service()
            .cluster(cluster)
            .service(service)
            .force(force)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteService"))?;
        Ok(())
    }

    async fn tag_resource(&self, arn: String, tags: Tags) -> AwsResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(tags_to(&tags))
            .send()
            .await
            .map_err(err(SERVICE, "TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: String, keys: Vec<String>) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(err(SERVICE, "UntagResource"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_ecs::operation::create_service::{CreateServiceInput, CreateServiceOutput};
    use aws_sdk_ecs::operation::delete_cluster::DeleteClusterError;
    use aws_sdk_ecs::operation::delete_task_definitions::DeleteTaskDefinitionsOutput;
    use aws_sdk_ecs::operation::describe_capacity_providers::DescribeCapacityProvidersOutput;
    use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
    use aws_sdk_ecs::operation::describe_services::{DescribeServicesError, DescribeServicesOutput};
    use aws_sdk_ecs::operation::describe_task_definition::{DescribeTaskDefinitionError, DescribeTaskDefinitionOutput};
    use aws_sdk_ecs::operation::list_services::ListServicesOutput;
    use aws_sdk_ecs::operation::put_cluster_capacity_providers::PutClusterCapacityProvidersOutput;
    use aws_sdk_ecs::operation::register_task_definition::{RegisterTaskDefinitionInput, RegisterTaskDefinitionOutput};
    use aws_sdk_ecs::operation::update_service::{UpdateServiceInput, UpdateServiceOutput};
    use aws_sdk_ecs::types::error::{ClientException, ClusterContainsServicesException, ClusterNotFoundException};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;
    use aws_smithy_types::DateTime;

    use super::*;
    use crate::graph::props::{Attr, Ref};

    const ACCOUNT: &str = "arn:aws:ecs:us-west-2:123456789012";

    fn v(s: &str) -> RefOr<String> {
        RefOr::Value(s.to_owned())
    }

    fn tag(k: &str, val: &str) -> ecs::Tag {
        ecs::Tag::builder().key(k).value(val).build()
    }

    fn strategy(cp: &str, weight: i32, base: i32) -> ecs::CapacityProviderStrategyItem {
        ecs::CapacityProviderStrategyItem::builder().capacity_provider(cp).weight(weight).base(base).build().unwrap()
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    /// Records the input of the last call a rule answered.
    fn recorder<I>() -> (Arc<Mutex<Option<I>>>, impl Fn(&I) + Send + Sync + 'static)
    where
        I: Clone + Send + 'static,
    {
        let seen = Arc::new(Mutex::new(None));
        let sink = seen.clone();
        (seen, move |input: &I| *sink.lock().unwrap() = Some(input.clone()))
    }

    #[tokio::test]
    async fn describe_clusters_reads_settings_sorted_providers_counts_and_tags() {
        let rule = mock!(Client::describe_clusters)
            .match_requests(|r| {
                r.clusters() == ["shop", "other", "gone"]
                    && r.include().contains(&ecs::ClusterField::Settings)
                    && r.include().contains(&ecs::ClusterField::Tags)
            })
            .then_output(|| {
                DescribeClustersOutput::builder()
                    .clusters(
                        ecs::Cluster::builder()
                            .cluster_name("shop")
                            .cluster_arn(format!("{ACCOUNT}:cluster/shop"))
                            .status("ACTIVE")
                            .registered_container_instances_count(2)
                            .active_services_count(3)
                            .running_tasks_count(5)
                            .pending_tasks_count(1)
                            .settings(
                                ecs::ClusterSetting::builder()
                                    .name(ecs::ClusterSettingName::ContainerInsights)
                                    .value("enabled")
                                    .build(),
                            )
                            .capacity_providers("shop-cp")
                            .capacity_providers("FARGATE")
                            .default_capacity_provider_strategy(strategy("shop-cp", 1, 0))
                            .tags(tag("ecs-kit:stack", "shop"))
                            .build(),
                    )
                    .clusters(
                        ecs::Cluster::builder()
                            .cluster_name("other")
                            .cluster_arn(format!("{ACCOUNT}:cluster/other"))
                            .status("INACTIVE")
                            .build(),
                    )
                    .failures(ecs::Failure::builder().arn(format!("{ACCOUNT}:cluster/gone")).reason("MISSING").build())
                    .build()
            });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let found =
            EcsSdk::new(client).describe_clusters(vec!["shop".into(), "other".into(), "gone".into()]).await.unwrap();
        assert_eq!(found.len(), 2, "the missing cluster is left out");
        let shop = &found[0];
        assert_eq!(shop.id, "shop");
        assert_eq!(shop.arn.as_deref(), Some("arn:aws:ecs:us-west-2:123456789012:cluster/shop"));
        assert_eq!(shop.state.as_deref(), Some("ACTIVE"));
        assert_eq!(
            shop.props,
            ClusterProps {
                cluster_name: "shop".into(),
                container_insights: "enabled".into(),
                capacity_providers: vec![v("FARGATE"), v("shop-cp")],
                default_capacity_provider_strategy: vec![StrategyItem {
                    capacity_provider: v("shop-cp"),
                    weight: 1,
                    base: 0
                }],
            }
        );
        assert_eq!(shop.tags, Tags::from([("ecs-kit:stack".into(), "shop".into())]));
        assert_eq!(
            shop.attrs,
            BTreeMap::from([
                ("active_services".into(), "3".into()),
                ("registered_instances".into(), "2".into()),
                ("running_tasks".into(), "5".into()),
            ])
        );
        let other = &found[1];
        assert_eq!(other.props.container_insights, "disabled", "no setting reads as disabled");
        assert!(other.props.capacity_providers.is_empty());
        assert_eq!(other.state.as_deref(), Some("INACTIVE"));
    }

    #[tokio::test]
    async fn describe_clusters_batches_by_100_and_skips_empty_lists() {
        let rule = mock!(Client::describe_clusters).then_compute_output(|r| {
            DescribeClustersOutput::builder()
                .set_clusters(Some(
                    r.clusters()
                        .iter()
                        .map(|n| ecs::Cluster::builder().cluster_name(n).status("ACTIVE").build())
                        .collect(),
                ))
                .build()
        });
        let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
        let sdk = EcsSdk::new(client);
        assert!(sdk.describe_clusters(Vec::new()).await.unwrap().is_empty());
        assert_eq!(rule.num_calls(), 0, "an empty list would describe the default cluster");
        let names: Vec<String> = (0..150).map(|i| format!("c{i:03}")).collect();
        let found = sdk.describe_clusters(names.clone()).await.unwrap();
        assert_eq!(rule.num_calls(), 2);
        assert_eq!(found.iter().map(|f| f.id.clone()).collect::<Vec<_>>(), names);
    }

    #[tokio::test]
    async fn describe_capacity_providers_maps_asg_provider_and_update_status() {
        let rule = mock!(Client::describe_capacity_providers)
            .match_requests(|r| r.capacity_providers() == ["shop-cp"] && r.include() == [ecs::CapacityProviderField::Tags])
            .then_output(|| {
                DescribeCapacityProvidersOutput::builder()
                    .capacity_providers(
                        ecs::CapacityProvider::builder()
                            .name("shop-cp")
                            .capacity_provider_arn(format!("{ACCOUNT}:capacity-provider/shop-cp"))
                            .status(ecs::CapacityProviderStatus::Active)
                            .update_status(ecs::CapacityProviderUpdateStatus::UpdateFailed)
                            .update_status_reason("the ASG is gone")
                            .auto_scaling_group_provider(
                                ecs::AutoScalingGroupProvider::builder()
                                    .auto_scaling_group_arn("arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:u:autoScalingGroupName/shop")
                                    .managed_scaling(
                                        ecs::ManagedScaling::builder()
                                            .status(ecs::ManagedScalingStatus::Enabled)
                                            .target_capacity(90)
                                            .minimum_scaling_step_size(1)
                                            .maximum_scaling_step_size(10000)
                                            .instance_warmup_period(300)
                                            .build(),
                                    )
                                    .managed_termination_protection(ecs::ManagedTerminationProtection::Disabled)
                                    .managed_draining(ecs::ManagedDraining::Enabled)
                                    .build()
                                    .unwrap(),
                            )
                            .tags(tag("ecs-kit:stack", "shop"))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let sdk = EcsSdk::new(client);
        assert!(sdk.describe_capacity_providers(Vec::new()).await.unwrap().is_empty());
        assert_eq!(rule.num_calls(), 0, "an empty list would describe every provider");
        let found = sdk.describe_capacity_providers(vec!["shop-cp".into()]).await.unwrap();
        assert_eq!(found.len(), 1);
        let cp = &found[0];
        assert_eq!(cp.id, "shop-cp");
        assert_eq!(cp.state.as_deref(), Some("ACTIVE"));
        assert_eq!(cp.arn.as_deref(), Some("arn:aws:ecs:us-west-2:123456789012:capacity-provider/shop-cp"));
        assert_eq!(
            cp.props,
            CapacityProviderProps {
                name: "shop-cp".into(),
                auto_scaling_group_arn: v(
                    "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:u:autoScalingGroupName/shop"
                ),
                managed_scaling: ManagedScaling {
                    status: "ENABLED".into(),
                    target_capacity: 90,
                    minimum_scaling_step_size: 1,
                    maximum_scaling_step_size: 10000,
                    instance_warmup_period: 300,
                },
                managed_termination_protection: "DISABLED".into(),
                managed_draining: "ENABLED".into(),
            }
        );
        assert_eq!(cp.tags.get("ecs-kit:stack").map(String::as_str), Some("shop"));
        assert_eq!(cp.attrs.get("update_status").map(String::as_str), Some("UPDATE_FAILED"));
        assert_eq!(cp.attrs.get("update_status_reason").map(String::as_str), Some("the ASG is gone"));
    }

    fn desired_task_definition() -> TaskDefinitionProps {
        TaskDefinitionProps {
            family: "shop-web".into(),
            task_role_arn: v("arn:aws:iam::123456789012:role/shop-us-west-2-task-web"),
            execution_role_arn: v("arn:aws:iam::123456789012:role/shop-us-west-2-execution"),
            network_mode: "bridge".into(),
            requires_compatibilities: vec!["EC2".into()],
            container_definitions: vec![ContainerDefinition {
                name: "web".into(),
                image: "nginx:1.27".into(),
                cpu: 256,
                memory: 512,
                essential: true,
                port_mappings: vec![PortMapping { container_port: 8080, host_port: 0, protocol: "tcp".into() }],
                environment: vec![
                    EnvVar { name: "API_URL".into(), value: v("http://lb") },
                    EnvVar { name: "MODE".into(), value: v("prod") },
                ],
                secrets: vec![
                    SecretVar { name: "DB_PASSWORD".into(), value_from: "/shop/db".into() },
                    SecretVar { name: "TOKEN".into(), value_from: "/shop/token".into() },
                ],
                log_configuration: LogConfiguration {
                    log_driver: "awslogs".into(),
                    options: BTreeMap::from([
                        ("awslogs-group".to_owned(), v("/ecs/shop/web")),
                        ("awslogs-region".to_owned(), v("us-west-2")),
                        ("awslogs-stream-prefix".to_owned(), v("web")),
                    ]),
                },
                mount_points: vec![MountPoint {
                    source_volume: "efs".into(),
                    container_path: "/mnt".into(),
                    read_only: false,
                }],
            }],
            volumes: vec![Volume {
                name: "efs".into(),
                efs_volume_configuration: EfsVolume {
                    file_system_id: v("fs-0123"),
                    transit_encryption: "ENABLED".into(),
                    access_point_id: v("fsap-0456"),
                    iam: "ENABLED".into(),
                },
            }],
            cpu: None,
            memory: None,
            image_owner: ImageOwner::Stack,
        }
    }

    /// A task definition as DescribeTaskDefinition returns it: AWS's defaults filled
    /// in, lists in an order of its own, read-only fields, a host volume.
    fn described_task_definition() -> ecs::TaskDefinition {
        ecs::TaskDefinition::builder()
            .task_definition_arn(format!("{ACCOUNT}:task-definition/shop-web:7"))
            .family("shop-web")
            .revision(7)
            .status(ecs::TaskDefinitionStatus::Active)
            .task_role_arn("arn:aws:iam::123456789012:role/shop-us-west-2-task-web")
            .execution_role_arn("arn:aws:iam::123456789012:role/shop-us-west-2-execution")
            .network_mode(ecs::NetworkMode::Bridge)
            .requires_compatibilities(ecs::Compatibility::Ec2)
            .compatibilities(ecs::Compatibility::External)
            .compatibilities(ecs::Compatibility::Ec2)
            .registered_at(DateTime::from_secs(1_700_000_000))
            .container_definitions(
                ecs::ContainerDefinition::builder()
                    .name("web")
                    .image("nginx:1.27")
                    .cpu(256)
                    .memory(512)
                    .essential(true)
                    .port_mappings(
                        ecs::PortMapping::builder()
                            .container_port(8080)
                            .host_port(0)
                            .protocol(ecs::TransportProtocol::Tcp)
                            .build(),
                    )
                    .environment(ecs::KeyValuePair::builder().name("MODE").value("prod").build())
                    .environment(ecs::KeyValuePair::builder().name("API_URL").value("http://lb").build())
                    .secrets(ecs::Secret::builder().name("TOKEN").value_from("/shop/token").build().unwrap())
                    .secrets(ecs::Secret::builder().name("DB_PASSWORD").value_from("/shop/db").build().unwrap())
                    .log_configuration(
                        ecs::LogConfiguration::builder()
                            .log_driver(ecs::LogDriver::Awslogs)
                            .options("awslogs-stream-prefix", "web")
                            .options("awslogs-group", "/ecs/shop/web")
                            .options("awslogs-region", "us-west-2")
                            .build()
                            .unwrap(),
                    )
                    .mount_points(
                        ecs::MountPoint::builder().source_volume("efs").container_path("/mnt").read_only(false).build(),
                    )
                    .set_volumes_from(Some(Vec::new()))
                    .build(),
            )
            .volumes(
                ecs::Volume::builder()
                    .name("efs")
                    .efs_volume_configuration(
                        ecs::EfsVolumeConfiguration::builder()
                            .file_system_id("fs-0123")
                            .root_directory("/")
                            .transit_encryption(ecs::EfsTransitEncryption::Enabled)
                            .authorization_config(
                                ecs::EfsAuthorizationConfig::builder()
                                    .access_point_id("fsap-0456")
                                    .iam(ecs::EfsAuthorizationConfigIam::Enabled)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .volumes(
                ecs::Volume::builder()
                    .name("scratch")
                    .host(ecs::HostVolumeProperties::builder().source_path("/tmp").build())
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn describe_task_definition_reads_back_what_the_graph_declares() {
        let rule = mock!(Client::describe_task_definition)
            .match_requests(|r| {
                r.task_definition() == Some("shop-web") && r.include() == [ecs::TaskDefinitionField::Tags]
            })
            .then_output(|| {
                DescribeTaskDefinitionOutput::builder()
                    .task_definition(described_task_definition())
                    .tags(tag("ecs-kit:stack", "shop"))
                    .tags(tag("ecs-kit:id", "task-definition/web"))
                    .build()
            });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let td = EcsSdk::new(client).describe_task_definition("shop-web".into()).await.unwrap().unwrap();
        assert_eq!(td.id, "shop-web:7");
        assert_eq!(td.arn.as_deref(), Some("arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:7"));
        assert_eq!(td.state.as_deref(), Some("ACTIVE"));
        assert_eq!(td.props, desired_task_definition(), "env and secrets sorted, the host volume left out");
        assert_eq!(
            td.tags,
            Tags::from([("ecs-kit:id".into(), "task-definition/web".into()), ("ecs-kit:stack".into(), "shop".into())])
        );
    }

    #[test]
    fn task_definition_defaults_read_as_the_graph_writes_them() {
        // What AWS may leave out: essential, protocol, hostPort, readOnly, networkMode.
        let td = ecs::TaskDefinition::builder()
            .family("f")
            .container_definitions(
                ecs::ContainerDefinition::builder()
                    .name("c")
                    .image("i")
                    .memory_reservation(128)
                    .port_mappings(ecs::PortMapping::builder().container_port(80).build())
                    .mount_points(ecs::MountPoint::builder().source_volume("v").container_path("/p").build())
                    .build(),
            )
            .build();
        let props = task_definition_props(&td);
        assert_eq!(props.network_mode, "bridge");
        let c = &props.container_definitions[0];
        assert!(c.essential);
        assert_eq!((c.cpu, c.memory), (0, 128));
        assert_eq!(c.port_mappings, vec![PortMapping { container_port: 80, host_port: 0, protocol: "tcp".into() }]);
        assert!(!c.mount_points[0].read_only);
        assert_eq!(c.log_configuration, LogConfiguration { log_driver: String::new(), options: BTreeMap::new() });
        assert_eq!(props.task_role_arn, v(""));
    }

    #[tokio::test]
    async fn an_unknown_task_definition_is_none_other_client_errors_are_not() {
        let rule = mock!(Client::describe_task_definition)
            .sequence()
            .error(|| {
                DescribeTaskDefinitionError::ClientException(
                    ClientException::builder()
                        .message("Unable to describe task definition.")
                        .meta(meta("ClientException", "Unable to describe task definition."))
                        .build(),
                )
            })
            .error(|| {
                DescribeTaskDefinitionError::ClientException(
                    ClientException::builder()
                        .message("Task definition family is invalid")
                        .meta(meta("ClientException", "Task definition family is invalid"))
                        .build(),
                )
            })
            .build();
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let sdk = EcsSdk::new(client);
        assert_eq!(sdk.describe_task_definition("shop-gone".into()).await.unwrap(), None);
        let e = sdk.describe_task_definition("bad name".into()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.operation, "DescribeTaskDefinition");
        assert_eq!(e.code.as_deref(), Some("ClientException"));
    }

    #[tokio::test]
    async fn register_task_definition_sends_every_field() {
        let (seen, record) = recorder::<RegisterTaskDefinitionInput>();
        let rule = mock!(Client::register_task_definition).then_compute_output(move |r| {
            record(r);
            RegisterTaskDefinitionOutput::builder().task_definition(described_task_definition()).build()
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let tags = Tags::from([("ecs-kit:stack".into(), "shop".into())]);
        let arn = EcsSdk::new(client).register_task_definition(desired_task_definition(), tags).await.unwrap();
        assert_eq!(arn, "arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:7");
        let input = seen.lock().unwrap().clone().unwrap();
        assert_eq!(input.family(), Some("shop-web"));
        assert_eq!(input.task_role_arn(), Some("arn:aws:iam::123456789012:role/shop-us-west-2-task-web"));
        assert_eq!(input.execution_role_arn(), Some("arn:aws:iam::123456789012:role/shop-us-west-2-execution"));
        assert_eq!(input.network_mode(), Some(&ecs::NetworkMode::Bridge));
        assert_eq!(input.requires_compatibilities(), [ecs::Compatibility::Ec2]);
        assert_eq!(input.tags(), [tag("ecs-kit:stack", "shop")]);
        let c = &input.container_definitions()[0];
        assert_eq!(
            (c.name(), c.image(), c.cpu(), c.memory(), c.essential()),
            (Some("web"), Some("nginx:1.27"), 256, Some(512), Some(true))
        );
        assert_eq!(
            c.port_mappings(),
            [ecs::PortMapping::builder()
                .container_port(8080)
                .host_port(0)
                .protocol(ecs::TransportProtocol::Tcp)
                .build()]
        );
        let env: Vec<(Option<&str>, Option<&str>)> = c.environment().iter().map(|e| (e.name(), e.value())).collect();
        assert_eq!(env, [(Some("API_URL"), Some("http://lb")), (Some("MODE"), Some("prod"))]);
        assert_eq!(c.secrets().len(), 2);
        let log = c.log_configuration().unwrap();
        assert_eq!(log.log_driver(), &ecs::LogDriver::Awslogs);
        assert_eq!(log.options().unwrap().get("awslogs-group").map(String::as_str), Some("/ecs/shop/web"));
        assert_eq!(c.mount_points()[0].container_path(), Some("/mnt"));
        let efs = input.volumes()[0].efs_volume_configuration().unwrap();
        assert_eq!(efs.file_system_id(), "fs-0123");
        assert_eq!(efs.transit_encryption(), Some(&ecs::EfsTransitEncryption::Enabled));
        let auth = efs.authorization_config().unwrap();
        assert_eq!(
            (auth.access_point_id(), auth.iam()),
            (Some("fsap-0456"), Some(&ecs::EfsAuthorizationConfigIam::Enabled))
        );
    }

    #[tokio::test]
    async fn an_unresolved_reference_is_invalid_before_any_call() {
        let rule =
            mock!(Client::register_task_definition).then_output(|| RegisterTaskDefinitionOutput::builder().build());
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let mut td = desired_task_definition();
        td.volumes[0].efs_volume_configuration.access_point_id =
            RefOr::Ref(Ref { id: crate::graph::LogicalId::new("access-point/web"), attr: Attr::Id });
        let e = EcsSdk::new(client).register_task_definition(td, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(rule.num_calls(), 0);
    }

    fn service(name: &str) -> ecs::Service {
        ecs::Service::builder()
            .service_name(name)
            .service_arn(format!("{ACCOUNT}:service/shop/{name}"))
            .cluster_arn(format!("{ACCOUNT}:cluster/shop"))
            .status("ACTIVE")
            .desired_count(2)
            .running_count(1)
            .pending_count(1)
            .task_definition(format!("{ACCOUNT}:task-definition/shop-{name}:7"))
            .build()
    }

    /// A service as DescribeServices returns it, with two deployments and events.
    fn described_service() -> ecs::Service {
        let mut s = service("web");
        s.capacity_provider_strategy = Some(vec![strategy("shop-cp", 1, 0)]);
        s.load_balancers = Some(vec![ecs::LoadBalancer::builder()
            .target_group_arn("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-web/abc")
            .container_name("web")
            .container_port(8080)
            .build()]);
        s.deployment_configuration = Some(
            ecs::DeploymentConfiguration::builder()
                .minimum_healthy_percent(50)
                .maximum_percent(200)
                .deployment_circuit_breaker(
                    ecs::DeploymentCircuitBreaker::builder().enable(true).rollback(true).build(),
                )
                .build(),
        );
        s.health_check_grace_period_seconds = Some(60);
        s.placement_strategy = Some(vec![
            ecs::PlacementStrategy::builder()
                .r#type(ecs::PlacementStrategyType::Spread)
                .field("attribute:ecs.availability-zone")
                .build(),
            ecs::PlacementStrategy::builder().r#type(ecs::PlacementStrategyType::Spread).field("instanceId").build(),
        ]);
        s.propagate_tags = Some(ecs::PropagateTags::Service);
        s.enable_ecs_managed_tags = true;
        s.tags = Some(vec![tag("ecs-kit:stack", "shop"), tag("ecs-kit:id", "service/web")]);
        s.deployments = Some(vec![
            ecs::Deployment::builder()
                .id("ecs-svc/1")
                .status("ACTIVE")
                .task_definition(format!("{ACCOUNT}:task-definition/shop-web:6"))
                .desired_count(2)
                .running_count(1)
                .rollout_state(ecs::DeploymentRolloutState::Completed)
                .build(),
            ecs::Deployment::builder()
                .id("ecs-svc/2")
                .status("PRIMARY")
                .task_definition(format!("{ACCOUNT}:task-definition/shop-web:7"))
                .desired_count(2)
                .pending_count(1)
                .rollout_state(ecs::DeploymentRolloutState::Failed)
                .rollout_state_reason("tasks failed to start")
                .build(),
        ]);
        s.events = Some(vec![
            ecs::ServiceEvent::builder().id("e1").created_at(DateTime::from_secs(100)).message("older").build(),
            ecs::ServiceEvent::builder().id("e2").created_at(DateTime::from_secs(200)).message("newer").build(),
        ]);
        s
    }

    #[tokio::test]
    async fn describe_services_maps_props_status_and_leaves_missing_out() {
        let rule = mock!(Client::describe_services)
            .match_requests(|r| r.cluster() == Some("shop") && r.include() == [ecs::ServiceField::Tags])
            .then_output(|| {
                DescribeServicesOutput::builder()
                    .services(described_service())
                    .services(service("worker"))
                    .failures(
                        ecs::Failure::builder().arn(format!("{ACCOUNT}:service/shop/gone")).reason("MISSING").build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let found = EcsSdk::new(client)
            .describe_services("shop".into(), vec!["web".into(), "worker".into(), "gone".into()])
            .await
            .unwrap();
        assert_eq!(found.len(), 2);
        let web = &found[0];
        assert_eq!(web.found.id, "web");
        assert_eq!(web.found.arn.as_deref(), Some("arn:aws:ecs:us-west-2:123456789012:service/shop/web"));
        assert_eq!(web.found.state.as_deref(), Some("ACTIVE"));
        assert_eq!(
            web.found.props,
            ServiceProps {
                service_name: "web".into(),
                cluster: v("arn:aws:ecs:us-west-2:123456789012:cluster/shop"),
                task_definition: v("arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:7"),
                desired_count: 2,
                desired_count_owner: CountOwner::Stack,
                capacity_provider_strategy: vec![StrategyItem { capacity_provider: v("shop-cp"), weight: 1, base: 0 }],
                load_balancers: vec![ServiceLoadBalancer {
                    target_group_arn: v("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-web/abc"),
                    container_name: "web".into(),
                    container_port: 8080,
                    advanced: None,
                }],
                deployment_configuration: DeploymentConfiguration::rolling(
                    50,
                    200,
                    DeploymentCircuitBreaker { enable: true, rollback: true }
                ),
                health_check_grace_period_seconds: Some(60),
                placement_strategy: vec![
                    PlacementStrategy { kind: "spread".into(), field: "attribute:ecs.availability-zone".into() },
                    PlacementStrategy { kind: "spread".into(), field: "instanceId".into() },
                ],
                propagate_tags: "SERVICE".into(),
                enable_ecs_managed_tags: true,
                network_mode: None,
                network_configuration: None,
                platform_version: None,
            }
        );
        assert_eq!(web.found.tags.get("ecs-kit:id").map(String::as_str), Some("service/web"));
        assert_eq!(
            web.status,
            ServiceStatus {
                status: "ACTIVE".into(),
                desired: 2,
                running: 1,
                pending: 1,
                deployments: vec![
                    Deployment {
                        id: "ecs-svc/2".into(),
                        status: "PRIMARY".into(),
                        task_definition: "arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:7".into(),
                        desired: 2,
                        running: 0,
                        pending: 1,
                        rollout_state: Some("FAILED".into()),
                        rollout_reason: Some("tasks failed to start".into()),
                        failed_tasks: 0,
                        created_at: None,
                    },
                    Deployment {
                        id: "ecs-svc/1".into(),
                        status: "ACTIVE".into(),
                        task_definition: "arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:6".into(),
                        desired: 2,
                        running: 1,
                        pending: 0,
                        rollout_state: Some("COMPLETED".into()),
                        rollout_reason: None,
                        failed_tasks: 0,
                        created_at: None,
                    },
                ],
                events: vec![
                    ServiceEvent { id: "e2".into(), at_epoch_seconds: 200, message: "newer".into() },
                    ServiceEvent { id: "e1".into(), at_epoch_seconds: 100, message: "older".into() },
                ],
            }
        );
        // Without load balancers and what AWS leaves out: its defaults.
        let worker = &found[1].found.props;
        assert_eq!(worker.health_check_grace_period_seconds, None);
        assert_eq!(
            worker.deployment_configuration,
            DeploymentConfiguration::rolling(100, 200, DeploymentCircuitBreaker { enable: false, rollback: false })
        );
        assert_eq!(worker.propagate_tags, "NONE");
        assert!(!worker.enable_ecs_managed_tags);
    }

    #[tokio::test]
    async fn describe_services_batches_by_10() {
        let rule = mock!(Client::describe_services).then_compute_output(|r| {
            assert!(r.services().len() <= 10, "{} names in one call", r.services().len());
            DescribeServicesOutput::builder()
                .set_services(Some(r.services().iter().map(|n| service(n)).collect()))
                .build()
        });
        let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
        let names: Vec<String> = (0..25).map(|i| format!("s{i:02}")).collect();
        let found = EcsSdk::new(client).describe_services("shop".into(), names.clone()).await.unwrap();
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(found.iter().map(|s| s.found.id.clone()).collect::<Vec<_>>(), names);
    }

    #[tokio::test]
    async fn services_of_a_missing_cluster_are_absent() {
        let rule = mock!(Client::describe_services).then_error(|| {
            DescribeServicesError::ClusterNotFoundException(
                ClusterNotFoundException::builder()
                    .message("Cluster not found.")
                    .meta(meta("ClusterNotFoundException", "Cluster not found."))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let found = EcsSdk::new(client).describe_services("gone".into(), vec!["web".into()]).await.unwrap();
        assert!(found.is_empty());
    }

    #[tokio::test]
    async fn list_services_follows_pages() {
        let rule = mock!(Client::list_services)
            .sequence()
            .output(|| {
                ListServicesOutput::builder().service_arns(format!("{ACCOUNT}:service/shop/a")).next_token("t1").build()
            })
            .output(|| ListServicesOutput::builder().service_arns(format!("{ACCOUNT}:service/shop/b")).build())
            .build();
        let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
        let arns = EcsSdk::new(client).list_services("shop".into()).await.unwrap();
        assert_eq!(
            arns,
            ["arn:aws:ecs:us-west-2:123456789012:service/shop/a", "arn:aws:ecs:us-west-2:123456789012:service/shop/b"]
        );
        assert_eq!(rule.num_calls(), 2);
    }

    fn desired_service() -> ServiceProps {
        ServiceProps {
            service_name: "web".into(),
            cluster: v("shop"),
            task_definition: v("arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:7"),
            desired_count: 2,
            desired_count_owner: CountOwner::External,
            capacity_provider_strategy: vec![StrategyItem { capacity_provider: v("shop-cp"), weight: 1, base: 0 }],
            load_balancers: vec![ServiceLoadBalancer {
                target_group_arn: v("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-web/abc"),
                container_name: "web".into(),
                container_port: 8080,
                advanced: None,
            }],
            deployment_configuration: DeploymentConfiguration::rolling(
                50,
                200,
                DeploymentCircuitBreaker { enable: true, rollback: false },
            ),
            health_check_grace_period_seconds: Some(60),
            placement_strategy: vec![PlacementStrategy { kind: "spread".into(), field: "instanceId".into() }],
            propagate_tags: "SERVICE".into(),
            enable_ecs_managed_tags: true,
            network_mode: None,
            network_configuration: None,
            platform_version: None,
        }
    }

    #[tokio::test]
    async fn create_service_sends_every_field_and_the_token() {
        let (seen, record) = recorder::<CreateServiceInput>();
        let rule = mock!(Client::create_service).then_compute_output(move |r| {
            record(r);
            CreateServiceOutput::builder().service(service("web")).build()
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let tags = Tags::from([("ecs-kit:stack".into(), "shop".into())]);
        let arn = EcsSdk::new(client)
            .create_service(desired_service(), "shop-web-0123456789abcdef".into(), tags)
            .await
            .unwrap();
        assert_eq!(arn, "arn:aws:ecs:us-west-2:123456789012:service/shop/web");
        let r = seen.lock().unwrap().clone().unwrap();
        assert_eq!(r.cluster(), Some("shop"));
        assert_eq!(r.service_name(), Some("web"));
        assert_eq!(r.task_definition(), Some("arn:aws:ecs:us-west-2:123456789012:task-definition/shop-web:7"));
        assert_eq!(r.desired_count(), Some(2));
        assert_eq!(r.client_token(), Some("shop-web-0123456789abcdef"));
        assert_eq!(r.launch_type(), None, "the capacity provider strategy decides");
        assert_eq!(r.capacity_provider_strategy(), [strategy("shop-cp", 1, 0)]);
        assert_eq!(
            r.load_balancers()[0].target_group_arn(),
            Some("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-web/abc")
        );
        assert_eq!(r.load_balancers()[0].container_port(), Some(8080));
        let dc = r.deployment_configuration().unwrap();
        assert_eq!((dc.minimum_healthy_percent(), dc.maximum_percent()), (Some(50), Some(200)));
        let breaker = dc.deployment_circuit_breaker().unwrap();
        assert_eq!((breaker.enable(), breaker.rollback()), (true, false));
        assert_eq!(r.health_check_grace_period_seconds(), Some(60));
        assert_eq!(r.placement_strategy()[0].field(), Some("instanceId"));
        assert_eq!(r.propagate_tags(), Some(&ecs::PropagateTags::Service));
        assert_eq!(r.enable_ecs_managed_tags(), Some(true));
        assert_eq!(r.tags(), [tag("ecs-kit:stack", "shop")]);
    }

    #[tokio::test]
    async fn a_fargate_service_sends_its_awsvpc_configuration_and_platform_version() {
        let (seen, record) = recorder::<CreateServiceInput>();
        let rule = mock!(Client::create_service).then_compute_output(move |r| {
            record(r);
            CreateServiceOutput::builder().service(service("web")).build()
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let mut props = desired_service();
        props.network_mode = Some("awsvpc".into());
        props.network_configuration = Some(AwsVpcConfiguration {
            subnets: vec![v("subnet-1"), v("subnet-2")],
            security_groups: vec![v("sg-1")],
            assign_public_ip: "DISABLED".into(),
        });
        props.platform_version = Some("LATEST".into());
        EcsSdk::new(client).create_service(props, "shop-web-0123456789abcdef".into(), Tags::new()).await.unwrap();
        let r = seen.lock().unwrap().clone().unwrap();
        let awsvpc = r.network_configuration().and_then(ecs::NetworkConfiguration::awsvpc_configuration).unwrap();
        assert_eq!(awsvpc.subnets(), ["subnet-1", "subnet-2"]);
        assert_eq!(awsvpc.security_groups(), ["sg-1"]);
        assert_eq!(awsvpc.assign_public_ip(), Some(&ecs::AssignPublicIp::Disabled));
        assert_eq!(r.platform_version(), Some("LATEST"));
        // And it reads back the same.
        let live = ecs::Service::builder()
            .service_name("web")
            .network_configuration(r.network_configuration().unwrap().clone())
            .platform_version("LATEST")
            .build();
        let back = live_service(&live).found.props;
        assert_eq!(back.network_mode.as_deref(), Some("awsvpc"));
        assert_eq!(back.network_configuration.unwrap().subnets, vec![v("subnet-1"), v("subnet-2")]);
        assert_eq!(back.platform_version.as_deref(), Some("LATEST"));
    }

    #[tokio::test]
    async fn a_strategy_is_sent_and_read_back_in_the_graphs_shape() {
        let (seen, record) = recorder::<CreateServiceInput>();
        let rule = mock!(Client::create_service).then_compute_output(move |r| {
            record(r);
            CreateServiceOutput::builder().service(service("web")).build()
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let mut props = desired_service();
        let tg = |n: &str| v(&format!("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/{n}/abc"));
        props.load_balancers[0].advanced = Some(AdvancedLoadBalancer {
            alternate_target_group_arn: tg("shop-web-alt"),
            production_listener_rule: v("arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/x/1/2"),
            test_listener_rule: None,
            role_arn: v("arn:aws:iam::123456789012:role/shop-ecs-load-balancers"),
        });
        let c = &mut props.deployment_configuration;
        c.strategy = DeploymentStrategy::Canary;
        c.bake_time_in_minutes = Some(15);
        c.canary = Some(TrafficStep { percent: Percent::tenths(55), bake_time_in_minutes: 10 });
        c.alarms = Some(DeploymentAlarms { alarm_names: vec!["web-5xx".into()], rollback: true });
        EcsSdk::new(client).create_service(props.clone(), "t".into(), Tags::new()).await.unwrap();
        let r = seen.lock().unwrap().clone().unwrap();
        let a = r.load_balancers()[0].advanced_configuration().unwrap();
        assert_eq!(
            a.alternate_target_group_arn(),
            Some("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-web-alt/abc")
        );
        assert_eq!(a.role_arn(), Some("arn:aws:iam::123456789012:role/shop-ecs-load-balancers"));
        assert!(a.production_listener_rule().unwrap().contains(":listener-rule/"));
        let dc = r.deployment_configuration().unwrap();
        assert_eq!(dc.strategy(), Some(&ecs::DeploymentStrategy::Canary));
        assert_eq!(dc.bake_time_in_minutes(), Some(15));
        let k = dc.canary_configuration().unwrap();
        assert_eq!((k.canary_percent(), k.canary_bake_time_in_minutes()), (Some(5.5), Some(10)));
        let alarms = dc.alarms().unwrap();
        assert_eq!(
            (alarms.alarm_names(), alarms.enable(), alarms.rollback()),
            (&["web-5xx".to_owned()][..], true, true)
        );
        // Read back as sent.
        assert_eq!(deployment_configuration_from(Some(dc)), props.deployment_configuration);
        // Rolling is said too (a switch back must be), without a bake.
        let rolling =
            deployment_configuration_to(&desired_service().deployment_configuration, "CreateService").unwrap();
        assert_eq!(
            (rolling.strategy(), rolling.bake_time_in_minutes()),
            (Some(&ecs::DeploymentStrategy::Rolling), None)
        );
    }

    #[tokio::test]
    async fn lifecycle_hooks_are_sent_as_lambda_hooks_and_read_back_in_the_graphs_shape() {
        let (seen, record) = recorder::<UpdateServiceInput>();
        let rule = mock!(Client::update_service).then_compute_output(move |r| {
            record(r);
            UpdateServiceOutput::builder().build()
        });
        let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
        let smoke = "arn:aws:lambda:us-west-2:123456789012:function:shop-smoke:live";
        let mut c = desired_service().deployment_configuration;
        c.strategy = DeploymentStrategy::BlueGreen;
        c.bake_time_in_minutes = Some(5);
        c.lifecycle_hooks = vec![LifecycleHookProps {
            hook_target_arn: smoke.into(),
            role_arn: v("arn:aws:iam::123456789012:role/shop-us-west-2-ecs-hooks"),
            lifecycle_stages: vec![HookStage::PreScaleUp, HookStage::PostTestTrafficShift],
            hook_details: Some(
                serde_json::json!({"path": "/health", "tries": 3, "ratio": 0.5, "tags": ["a", null], "strict": true, "offset": -2}),
            ),
        }];
        let update = |c: DeploymentConfiguration| ServiceUpdate {
            cluster: "shop".into(),
            service: "web".into(),
            deployment_configuration: Some(c),
            ..ServiceUpdate::default()
        };
        let sdk = EcsSdk::new(client);
        sdk.update_service(update(c.clone())).await.unwrap();
        let r = seen.lock().unwrap().clone().unwrap();
        let dc = r.deployment_configuration().unwrap();
        let [hook] = dc.lifecycle_hooks() else { panic!("{dc:?}") };
        assert_eq!(hook.target_type(), Some(&ecs::DeploymentLifecycleHookTargetType::AwsLambda));
        assert_eq!(hook.hook_target_arn(), Some(smoke));
        assert_eq!(hook.role_arn(), Some("arn:aws:iam::123456789012:role/shop-us-west-2-ecs-hooks"));
        assert_eq!(
            hook.lifecycle_stages(),
            [ecs::DeploymentLifecycleHookStage::PreScaleUp, ecs::DeploymentLifecycleHookStage::PostTestTrafficShift]
        );
        let details = hook.hook_details().unwrap().as_object().unwrap();
        assert_eq!(details["path"].as_string(), Some("/health"));
        assert_eq!(details["tries"].as_number(), Some(&aws_smithy_types::Number::PosInt(3)));
        // Read back as sent, the details' JSON included.
        assert_eq!(deployment_configuration_from(Some(dc)), c);

        // Without hooks an empty list is sent: hooks no longer declared are removed.
        c.lifecycle_hooks.clear();
        sdk.update_service(update(c.clone())).await.unwrap();
        let r = seen.lock().unwrap().clone().unwrap();
        assert_eq!(r.deployment_configuration().unwrap().lifecycle_hooks, Some(Vec::new()));

        // A role not yet resolved is refused before the call.
        c.lifecycle_hooks = vec![LifecycleHookProps {
            hook_target_arn: smoke.into(),
            role_arn: RefOr::to(&crate::graph::LogicalId::new("role/ecs-hooks"), crate::graph::props::Attr::Arn),
            lifecycle_stages: vec![HookStage::PostScaleUp],
            hook_details: None,
        }];
        let e = sdk.update_service(update(c)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(rule.num_calls(), 2);
    }

    #[test]
    fn a_service_deployment_reads_the_hooks_of_its_stage() {
        let d = ecs::ServiceDeployment::builder()
            .status(ecs::ServiceDeploymentStatus::InProgress)
            .lifecycle_stage(ecs::ServiceDeploymentLifecycleStage::PostTestTrafficShift)
            .deployment_configuration(
                ecs::DeploymentConfiguration::builder().strategy(ecs::DeploymentStrategy::BlueGreen).build(),
            )
            .lifecycle_hook_details(
                ecs::DeploymentLifecycleHookDetail::builder()
                    .hook_id("h-1")
                    .target_arn("arn:aws:lambda:us-west-2:1:function:shop-smoke")
                    .status(ecs::DeploymentLifecycleHookStatus::InProgress)
                    .build(),
            )
            .build();
        let d = service_deployment_from(&d);
        assert_eq!(
            d.hooks,
            [HookStatus {
                id: "h-1".into(),
                target_arn: "arn:aws:lambda:us-west-2:1:function:shop-smoke".into(),
                status: "IN_PROGRESS".into()
            }]
        );
        assert_eq!(
            d.progress(0),
            "blue/green, post test traffic shift, hook shop-smoke in progress (0/0 new tasks running)"
        );
    }

    #[test]
    fn a_service_deployment_reads_status_stage_traffic_and_rollback() {
        let d = ecs::ServiceDeployment::builder()
            .service_deployment_arn("arn:aws:ecs:us-west-2:1:service-deployment/shop/web/abc")
            .status(ecs::ServiceDeploymentStatus::RollbackInProgress)
            .status_reason("alarm")
            .lifecycle_stage(ecs::ServiceDeploymentLifecycleStage::ProductionTrafficShift)
            .created_at(DateTime::from_secs(100))
            .updated_at(DateTime::from_secs(160))
            .target_service_revision(
                ecs::ServiceRevisionSummary::builder()
                    .arn("arn:aws:ecs:us-west-2:1:service-revision/shop/web/2")
                    .running_task_count(2)
                    .requested_task_count(2)
                    .requested_production_traffic_weight(5.0)
                    .build(),
            )
            .rollback(ecs::Rollback::builder().reason("CloudWatch alarm web-5xx in ALARM").build())
            .alarms(ecs::ServiceDeploymentAlarms::builder().triggered_alarm_names("web-5xx").build())
            .build();
        let d = service_deployment_from(&d);
        assert_eq!(
            (d.status.as_str(), d.lifecycle_stage.as_deref()),
            ("ROLLBACK_IN_PROGRESS", Some("PRODUCTION_TRAFFIC_SHIFT"))
        );
        assert_eq!((d.target_running, d.production_traffic, d.created_at), (2, Some(Percent::tenths(50)), Some(100)));
        assert!(d.failed());
        assert_eq!(d.triggered_alarms, ["web-5xx"]);
        assert_eq!(d.progress(200), "rolling rolled back (ROLLBACK_IN_PROGRESS): CloudWatch alarm web-5xx in ALARM");
    }

    #[tokio::test]
    async fn a_client_token_ecs_refuses_is_invalid_before_the_call() {
        let rule = mock!(Client::create_service).then_output(|| CreateServiceOutput::builder().build());
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let sdk = EcsSdk::new(client);
        for token in ["x".repeat(37), "has space".into(), String::new()] {
            let e = sdk.create_service(desired_service(), token.clone(), Tags::new()).await.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid, "{token:?}");
        }
        assert_eq!(rule.num_calls(), 0);
    }

    #[tokio::test]
    async fn update_service_sends_only_what_changes() {
        let (seen, record) = recorder::<UpdateServiceInput>();
        let rule = mock!(Client::update_service).then_compute_output(move |r| {
            record(r);
            UpdateServiceOutput::builder().build()
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        EcsSdk::new(client)
            .update_service(ServiceUpdate {
                cluster: "shop".into(),
                service: "web".into(),
                desired_count: Some(4),
                load_balancers: Some(Vec::new()),
                force_new_deployment: true,
                ..ServiceUpdate::default()
            })
            .await
            .unwrap();
        let r = seen.lock().unwrap().clone().unwrap();
        assert_eq!((r.cluster(), r.service(), r.desired_count()), (Some("shop"), Some("web"), Some(4)));
        assert_eq!(r.force_new_deployment(), Some(true));
        assert_eq!(r.load_balancers, Some(Vec::new()), "an empty list removes the load balancers");
        assert_eq!(r.task_definition(), None);
        assert_eq!(r.deployment_configuration(), None);
        assert_eq!(r.capacity_provider_strategy, None);
        assert_eq!(r.placement_strategy, None);
        assert_eq!(r.health_check_grace_period_seconds(), None);
        assert_eq!(r.propagate_tags(), None);
        assert_eq!(r.enable_ecs_managed_tags(), None);
    }

    #[tokio::test]
    async fn put_cluster_capacity_providers_sends_empty_lists_to_clear() {
        let rule = mock!(Client::put_cluster_capacity_providers)
            .match_requests(|r| {
                r.cluster() == Some("shop")
                    && r.capacity_providers.as_deref() == Some(&[][..])
                    && r.default_capacity_provider_strategy.as_deref() == Some(&[][..])
            })
            .then_output(|| PutClusterCapacityProvidersOutput::builder().build());
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        EcsSdk::new(client).put_cluster_capacity_providers("shop".into(), Vec::new(), Vec::new()).await.unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_cluster_with_services_is_a_conflict() {
        let rule = mock!(Client::delete_cluster).then_error(|| {
            DeleteClusterError::ClusterContainsServicesException(
                ClusterContainsServicesException::builder()
                    .message("The Cluster cannot be deleted while Services are active.")
                    .meta(meta(
                        "ClusterContainsServicesException",
                        "The Cluster cannot be deleted while Services are active.",
                    ))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let e = EcsSdk::new(client).delete_cluster("shop".into()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.operation, "DeleteCluster");
        assert_eq!(e.code.as_deref(), Some("ClusterContainsServicesException"));
    }

    #[tokio::test]
    async fn delete_task_definitions_reports_failures() {
        let rule = mock!(Client::delete_task_definitions).then_output(|| {
            DeleteTaskDefinitionsOutput::builder()
                .failures(
                    ecs::Failure::builder()
                        .arn(format!("{ACCOUNT}:task-definition/shop-web:3"))
                        .reason("The specified task definition is still in use.")
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_ecs, [&rule]);
        let sdk = EcsSdk::new(client);
        sdk.delete_task_definitions(Vec::new()).await.unwrap();
        assert_eq!(rule.num_calls(), 0);
        let e = sdk.delete_task_definitions(vec![format!("{ACCOUNT}:task-definition/shop-web:3")]).await.unwrap_err();
        assert_eq!(e.operation, "DeleteTaskDefinitions");
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.message.unwrap().contains("shop-web:3"));
    }
}
