//! What a deployed stack offers and how its services are doing: the `outputs` and
//! `status` verbs, as data for embedding tools and as text for people.
//!
//! ```no_run
//! # async fn example(stack: &ecs_kit::Stack, clients: &ecs_kit::aws::Clients) -> Result<(), Box<dyn std::error::Error>> {
//! let live = ecs_kit::observe::observe(stack, clients).await?;
//! let outputs = ecs_kit::status::outputs(stack, &live)?;
//! println!("{}", outputs.url.as_deref().unwrap_or("no load balancer"));
//! let status = ecs_kit::status::status(stack, clients).await?;
//! assert!(status.services.iter().all(|s| s.running == s.desired));
//! # Ok(()) }
//! ```

use std::fmt::Write as _;

use serde::Serialize;

use crate::aws::{Clients, Deployment, ServiceEvent, TargetHealth};
use crate::graph::Graph;
use crate::model::Stack;
use crate::observe::{observe, LiveStack, ObserveError};

/// How many of a service's latest ECS events [`status`] reports.
pub const EVENTS: usize = 5;

/// Errors of [`outputs`] and [`status`].
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Reading the live stack failed.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// Nothing of the stack is live.
    #[error("stack {0} is not deployed in this account and region: run `apply` first")]
    NotDeployed(String),
    /// The graph could not be built (a bug of ecs-kit).
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    /// Reading target health failed.
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
}

/// What a deployed stack offers: addresses and names to use from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
    /// Stack name.
    pub stack: String,
    /// Region.
    pub region: String,
    /// The load balancer's base URL, `http://DNS[:PORT]/` (`None` without a live one).
    pub url: Option<String>,
    /// The load balancer's DNS name: the `ENDPOINT` every container gets.
    pub dns_name: Option<String>,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    /// The ECS cluster's name.
    pub cluster: String,
    /// The EFS file system's id, when it is live.
    pub file_system_id: Option<String>,
    /// Per service, in declaration order.
    pub services: Vec<ServiceOutput>,
}

/// One service's outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceOutput {
    /// Service name.
    pub name: String,
    /// Its URL through the load balancer (`None` when it has no path or no live load balancer).
    pub url: Option<String>,
    /// Its URL on the test listener, where a deployment's new tasks take test traffic
    /// first (a strategy shifting traffic, with a live test listener); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_url: Option<String>,
    /// Its log group.
    pub log_group: String,
}

/// The outputs of `stack` from what is live.
///
/// # Errors
/// [`StatusError::NotDeployed`] when nothing of the stack is live.
pub fn outputs(stack: &Stack, live: &LiveStack) -> Result<Outputs, StatusError> {
    if live.is_empty() {
        return Err(StatusError::NotDeployed(stack.name.clone()));
    }
    let graph = Graph::from_stack(stack)?;
    let name = |id: &str| graph.get(id).map(|r| r.name.clone()).unwrap_or_default();
    let lb = live.get("load-balancer");
    let dns_name = lb.and_then(|r| r.attrs.get("dns_name").cloned());
    let scheme = lb
        .and(stack.load_balancer.as_ref())
        .map(|l| serde_json::to_value(l.scheme).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default());
    // With HTTPS, the HTTPS listener's URL; the HTTP port only redirects there.
    let (scheme_of_url, port, default_port) = match stack.load_balancer.as_ref() {
        Some(l) => match &l.https {
            Some(https) => ("https", https.port, 443),
            None => ("http", l.port, 80),
        },
        None => ("http", 80, 80),
    };
    let at = |host: &str, port: u16| {
        if port == default_port {
            format!("{scheme_of_url}://{host}/")
        } else {
            format!("{scheme_of_url}://{host}:{port}/")
        }
    };
    let base = |host: &str| at(host, port);
    let url = dns_name.as_deref().map(base);
    // The test listener speaks the production listener's protocol on its own port.
    let test_port = stack.load_balancer.as_ref().and_then(|l| l.test_listener.as_ref()).map(|t| t.port);
    let test_port = test_port.filter(|_| live.get("listener/test").is_some());
    let services = stack
        .services
        .iter()
        .map(|s| ServiceOutput {
            name: s.name.clone(),
            // A service behind a host is reached by that name (a wildcard host has no one URL).
            url: url.as_ref().zip(s.routing.as_ref()).map(|(u, r)| {
                let root = match &r.host {
                    Some(host) if !host.contains(['*', '?']) => base(host),
                    _ => u.clone(),
                };
                format!("{root}{}", r.path.trim_start_matches('/'))
            }),
            test_url: dns_name
                .as_deref()
                .zip(test_port)
                .zip(s.routing.as_ref())
                .filter(|_| s.deployment.strategy.shifts_traffic())
                .map(|((dns, port), r)| {
                    let host = r.host.as_deref().filter(|h| !h.contains(['*', '?'])).unwrap_or(dns);
                    format!("{}{}", at(host, port), r.path.trim_start_matches('/'))
                }),
            log_group: name(&format!("log-group/{}", s.name)),
        })
        .collect();
    Ok(Outputs {
        stack: stack.name.clone(),
        region: stack.region.clone(),
        url,
        dns_name,
        scheme,
        cluster: name("cluster"),
        file_system_id: live.get("file-system").map(|r| r.aws_id.clone()),
        services,
    })
}

impl Outputs {
    /// The human form.
    #[must_use]
    pub fn render(&self) -> String {
        let mut lines: Vec<(String, String)> = Vec::new();
        lines.push((
            "load balancer".into(),
            match (&self.url, self.scheme.as_deref()) {
                (Some(url), Some("internal")) => format!("{url} (internal: reachable from the VPC only)"),
                (Some(url), _) => url.clone(),
                (None, _) => "none live".into(),
            },
        ));
        for s in &self.services {
            lines.push((s.name.clone(), s.url.clone().unwrap_or_else(|| "no path on the load balancer".into())));
            if let Some(test) = &s.test_url {
                lines.push((format!("{} (test)", s.name), test.clone()));
            }
        }
        lines.push(("cluster".into(), self.cluster.clone()));
        if let Some(fs) = &self.file_system_id {
            lines.push(("file system".into(), fs.clone()));
        }
        for s in &self.services {
            lines.push((format!("logs of {}", s.name), s.log_group.clone()));
        }
        let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        let mut out = format!("Stack {} in {}\n", self.stack, self.region);
        for (label, value) in lines {
            let _ = writeln!(out, "  {label:<width$}  {value}");
        }
        out
    }
}

/// How a stack's services are doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackStatus {
    /// Stack name.
    pub stack: String,
    /// Per declared service, in declaration order.
    pub services: Vec<ServiceState>,
}

/// How one service is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceState {
    /// Service name.
    pub name: String,
    /// ECS status (`ACTIVE`, `DRAINING`), or `MISSING` when the service is not live.
    pub status: String,
    /// Desired tasks.
    pub desired: u32,
    /// Running tasks.
    pub running: u32,
    /// Pending tasks.
    pub pending: u32,
    /// Its deployments, the primary first.
    pub deployments: Vec<Deployment>,
    /// The health of its load balancer targets.
    pub targets: Vec<TargetHealth>,
    /// Its latest ECS events, newest first.
    pub events: Vec<ServiceEvent>,
    /// Where its latest deployment is (`canary 5%, baking, 4 min left`), when AWS reports
    /// service deployments and one is under way or the service shifts traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

impl ServiceState {
    /// Whether the service is as AWS's services-stable waiter defines it: one
    /// deployment, running == desired.
    #[must_use]
    pub fn stable(&self) -> bool {
        self.status == "ACTIVE" && self.deployments.len() == 1 && self.running == self.desired
    }
}

/// Reads how `stack`'s services are doing: counts, deployments, target health and the
/// latest events.
///
/// # Errors
/// [`StatusError`]: not deployed, or an AWS failure.
pub async fn status(stack: &Stack, clients: &Clients) -> Result<StackStatus, StatusError> {
    let live = observe(stack, clients).await?;
    status_of(stack, &live, clients).await
}

/// [`status`] from a live stack already read: only target health is read from AWS.
///
/// # Errors
/// [`StatusError`]: not deployed, or an AWS failure.
pub async fn status_of(stack: &Stack, live: &LiveStack, clients: &Clients) -> Result<StackStatus, StatusError> {
    if live.is_empty() {
        return Err(StatusError::NotDeployed(stack.name.clone()));
    }
    let mut services = Vec::new();
    for s in &stack.services {
        let id = format!("service/{}", s.name);
        let Some(st) = live.services.iter().find(|(k, _)| k.as_str() == id).map(|(_, v)| v) else {
            services.push(ServiceState {
                name: s.name.clone(),
                status: "MISSING".into(),
                desired: 0,
                running: 0,
                pending: 0,
                deployments: Vec::new(),
                targets: Vec::new(),
                events: Vec::new(),
                deployment: None,
            });
            continue;
        };
        let targets = match live.get(&format!("target-group/{}", s.name)) {
            Some(tg) => clients.elb.describe_target_health(tg.aws_id.clone()).await?,
            None => Vec::new(),
        };
        let mut deployments = st.deployments.clone();
        deployments.sort_by_key(|d| d.status != "PRIMARY");
        let mut events = st.events.clone();
        events.sort_by_key(|e| std::cmp::Reverse(e.at_epoch_seconds));
        events.truncate(EVENTS);
        let cluster = live.get("cluster").map(|c| c.aws_id.clone());
        let deployment = match cluster {
            Some(cluster) if s.deployment.strategy.shifts_traffic() || deployments.len() > 1 => {
                deployment_progress(clients, &cluster, &s.name).await
            }
            _ => None,
        };
        services.push(ServiceState {
            name: s.name.clone(),
            status: st.status.clone(),
            desired: st.desired,
            running: st.running,
            pending: st.pending,
            deployments,
            targets,
            events,
            deployment,
        });
    }
    Ok(StackStatus { stack: stack.name.clone(), services })
}

/// Where the service's newest deployment is, when AWS reports service deployments
/// (emulators without ListServiceDeployments: `None`).
async fn deployment_progress(clients: &Clients, cluster: &str, service: &str) -> Option<String> {
    let arns = clients.ecs.list_service_deployments(cluster.to_owned(), service.to_owned()).await.ok()?;
    let newest = arns.into_iter().next()?;
    let found = clients.ecs.describe_service_deployments(vec![newest]).await.ok()?;
    found.first().map(|d| d.progress(crate::aws::epoch_now()))
}

/// `secs` since the epoch as `YYYY-MM-DD HH:MM:SS` UTC.
fn at(secs: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(time).to_string().replace('T', " ").trim_end_matches('Z').to_owned()
}

impl StackStatus {
    /// The human form.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in &self.services {
            let verdict = if s.status == "MISSING" {
                "not deployed"
            } else if s.stable() {
                "stable"
            } else {
                "changing"
            };
            let _ = writeln!(
                out,
                "{}: {verdict} ({}), {} desired, {} running, {} pending",
                s.name, s.status, s.desired, s.running, s.pending
            );
            if let Some(progress) = &s.deployment {
                let _ = writeln!(out, "  strategy   {progress}");
            }
            for d in &s.deployments {
                let family = d.task_definition.rsplit('/').next().unwrap_or(&d.task_definition);
                let rollout = d.rollout_state.as_deref().unwrap_or("-");
                let _ = write!(
                    out,
                    "  deployment {:<8} {family}  {}/{} running  rollout {rollout}",
                    d.status, d.running, d.desired
                );
                match &d.rollout_reason {
                    Some(reason) if !reason.is_empty() => {
                        let _ = writeln!(out, " ({reason})");
                    }
                    _ => out.push('\n'),
                }
            }
            if !s.targets.is_empty() {
                let healthy = s.targets.iter().filter(|t| t.state == "healthy").count();
                let others: Vec<String> = s
                    .targets
                    .iter()
                    .filter(|t| t.state != "healthy")
                    .map(|t| {
                        let reason = t.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                        format!("{}:{} {}{reason}", t.target_id, t.port.unwrap_or_default(), t.state)
                    })
                    .collect();
                let _ = write!(out, "  targets    {healthy}/{} healthy", s.targets.len());
                if others.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "; {}", others.join(", "));
                }
            } else if s.status != "MISSING" {
                let _ = writeln!(out, "  targets    none registered");
            }
            for e in &s.events {
                let _ = writeln!(out, "  {}  {}", at(e.at_epoch_seconds), e.message);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::LogicalId;
    use crate::model::seed;
    use crate::observe::LiveResource;

    fn live_resource(id: &str, aws_id: &str, attrs: &[(&str, &str)]) -> LiveResource {
        let graph = Graph::from_stack(&seed().build().unwrap()).unwrap();
        let r = graph.get(id).unwrap();
        LiveResource {
            id: r.id.clone(),
            resource_type: r.resource_type,
            aws_id: aws_id.into(),
            arn: None,
            state: None,
            properties: r.properties.clone(),
            tags: Default::default(),
            attrs: attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    fn live() -> LiveStack {
        LiveStack {
            stack: "mcsv-poc".into(),
            resources: vec![
                live_resource("load-balancer", "arn:lb", &[("dns_name", "mcsv-poc-1.us-west-2.elb.amazonaws.com")]),
                live_resource("file-system", "fs-0123", &[]),
                live_resource("target-group/products", "arn:tg/products", &[]),
            ],
            conflicts: Vec::new(),
            services: Default::default(),
        }
    }

    #[test]
    fn outputs_give_the_urls_of_the_load_balancer_and_each_path() {
        let stack = seed().build().unwrap();
        let o = outputs(&stack, &live()).unwrap();
        assert_eq!(o.url.as_deref(), Some("http://mcsv-poc-1.us-west-2.elb.amazonaws.com/"));
        let urls: Vec<_> = o.services.iter().map(|s| (s.name.as_str(), s.url.as_deref().unwrap())).collect();
        assert_eq!(
            urls,
            [
                ("product-web", "http://mcsv-poc-1.us-west-2.elb.amazonaws.com/"),
                ("products", "http://mcsv-poc-1.us-west-2.elb.amazonaws.com/products")
            ]
        );
        assert_eq!(o.file_system_id.as_deref(), Some("fs-0123"));
        assert_eq!(o.services[1].log_group, "/ecs/mcsv-poc/products");
        let text = o.render();
        assert!(
            text.contains("\n  products             http://mcsv-poc-1.us-west-2.elb.amazonaws.com/products\n"),
            "{text}"
        );
        assert!(text.contains("\n  logs of product-web  /ecs/mcsv-poc/product-web\n"), "{text}");
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["services"][1]["url"], "http://mcsv-poc-1.us-west-2.elb.amazonaws.com/products");
    }

    #[test]
    fn a_listener_port_other_than_80_is_in_the_url() {
        let stack = seed().load_balancer(crate::LoadBalancer::internal().port(8080)).build().unwrap();
        let o = outputs(&stack, &live()).unwrap();
        assert_eq!(o.services[1].url.as_deref(), Some("http://mcsv-poc-1.us-west-2.elb.amazonaws.com:8080/products"));
        assert!(o.render().contains(":8080/ (internal: reachable from the VPC only)"), "{}", o.render());
    }

    #[test]
    fn with_https_the_urls_are_https_and_a_host_is_its_own_url() {
        let stack = seed()
            .with_load_balancer(|_| {
                crate::LoadBalancer::public().https("arn:aws:iam::123456789012:server-certificate/shop")
            })
            .with_service("test", "products", |s| s.host("api.example.com"))
            .service(crate::Service::new("any", "nginx:1.27", 8002).host("*.example.com"))
            .build()
            .unwrap();
        let o = outputs(&stack, &live()).unwrap();
        assert_eq!(o.url.as_deref(), Some("https://mcsv-poc-1.us-west-2.elb.amazonaws.com/"));
        let urls: Vec<_> = o.services.iter().map(|s| s.url.as_deref().unwrap()).collect();
        assert_eq!(
            urls,
            [
                "https://mcsv-poc-1.us-west-2.elb.amazonaws.com/",
                "https://api.example.com/products",
                "https://mcsv-poc-1.us-west-2.elb.amazonaws.com/"
            ],
            "a wildcard host has no one URL: the load balancer's"
        );
    }

    #[test]
    fn outputs_of_a_stack_not_deployed_is_an_error() {
        let stack = seed().build().unwrap();
        let empty = LiveStack { resources: Vec::new(), ..live() };
        let e = outputs(&stack, &empty).unwrap_err().to_string();
        assert_eq!(e, "stack mcsv-poc is not deployed in this account and region: run `apply` first");
    }

    #[test]
    fn status_renders_deployments_targets_and_the_latest_events() {
        let deployment = |status: &str, td: &str, running, rollout: &str| Deployment {
            id: format!("ecs-svc/{td}"),
            status: status.into(),
            task_definition: format!("arn:aws:ecs:us-west-2:1:task-definition/{td}"),
            desired: 2,
            running,
            pending: 2 - running,
            rollout_state: Some(rollout.into()),
            rollout_reason: None,
            failed_tasks: 0,
            created_at: None,
        };
        let state = ServiceState {
            name: "products".into(),
            status: "ACTIVE".into(),
            desired: 2,
            running: 3,
            pending: 1,
            deployments: vec![
                deployment("PRIMARY", "mcsv-poc-products:4", 1, "IN_PROGRESS"),
                deployment("ACTIVE", "mcsv-poc-products:3", 2, "COMPLETED"),
            ],
            targets: vec![
                TargetHealth { target_id: "i-1".into(), port: Some(32768), state: "healthy".into(), reason: None },
                TargetHealth {
                    target_id: "i-2".into(),
                    port: Some(32769),
                    state: "unhealthy".into(),
                    reason: Some("Target.ResponseCodeMismatch".into()),
                },
            ],
            events: vec![ServiceEvent {
                id: "e1".into(),
                at_epoch_seconds: 1_764_054_000,
                message: "(service products) has started 1 tasks".into(),
            }],
            deployment: None,
        };
        assert!(!state.stable());
        let text = StackStatus { stack: "mcsv-poc".into(), services: vec![state] }.render();
        assert_eq!(
            text,
            "products: changing (ACTIVE), 2 desired, 3 running, 1 pending\n\
             \x20 deployment PRIMARY  mcsv-poc-products:4  1/2 running  rollout IN_PROGRESS\n\
             \x20 deployment ACTIVE   mcsv-poc-products:3  2/2 running  rollout COMPLETED\n\
             \x20 targets    1/2 healthy; i-2:32769 unhealthy: Target.ResponseCodeMismatch\n\
             \x20 2025-11-25 07:00:00  (service products) has started 1 tasks\n"
        );
    }

    #[tokio::test]
    async fn status_reads_target_health_and_keeps_the_latest_events() {
        use crate::aws::*;
        use std::sync::Arc;
        let stack = seed().build().unwrap();
        let mut lv = live();
        let events: Vec<ServiceEvent> = (0..8)
            .map(|i| ServiceEvent { id: format!("e{i}"), at_epoch_seconds: 1000 + i, message: format!("event {i}") })
            .collect();
        lv.services.insert(
            LogicalId::new("service/products"),
            ServiceStatus {
                status: "ACTIVE".into(),
                desired: 2,
                running: 2,
                pending: 0,
                deployments: Vec::new(),
                events,
            },
        );
        let mut elb = MockElbApi::new();
        elb.expect_describe_target_health().withf(|arn| arn == "arn:tg/products").times(1).returning(|_| {
            Ok(vec![TargetHealth { target_id: "i-1".into(), port: Some(1), state: "healthy".into(), reason: None }])
        });
        let clients = Clients {
            region: "us-west-2".into(),
            ec2: Arc::new(MockEc2Api::new()),
            ecs: Arc::new(MockEcsApi::new()),
            elb: Arc::new(elb),
            efs: Arc::new(MockEfsApi::new()),
            iam: Arc::new(MockIamApi::new()),
            logs: Arc::new(MockLogsApi::new()),
            ssm: Arc::new(MockSsmApi::new()),
            autoscaling: Arc::new(MockAutoScalingApi::new()),
            scaling: Arc::new(crate::aws::MockScalingApi::new()),
            tagging: Arc::new(crate::aws::MockTaggingApi::new()),
            calls: CallCounter::default(),
        };
        let st = status_of(&stack, &lv, &clients).await.unwrap();
        assert_eq!(st.services[0].status, "MISSING", "product-web is not live");
        let products = &st.services[1];
        assert_eq!(products.targets.len(), 1);
        let ids: Vec<&str> = products.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["e7", "e6", "e5", "e4", "e3"], "the {EVENTS} newest, newest first");
        assert!(st.render().starts_with("product-web: not deployed (MISSING)"), "{}", st.render());
    }
}
