//! Elastic Load Balancing v2 adapter.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, HostHeaderConditionConfig, IpAddressType, Listener,
    LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher,
    PathPatternConditionConfig, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, Rule, RuleCondition,
    RulePriorityPair, Tag, TargetGroup, TargetGroupAttribute, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};
use aws_sdk_elasticloadbalancingv2::Client;

use super::{err, missing, tag_pairs};
use crate::aws::{literal, AwsResult, ElbApi, Found, Tags, TargetHealth};
use crate::graph::props::{
    FixedResponse, ListenerCertificateProps, ListenerProps, ListenerRuleProps, LoadBalancerProps, Redirect, RefOr,
    TargetGroupProps, TargetHealthCheck,
};

const SERVICE: &str = "elbv2";

/// Names per DescribeLoadBalancers / DescribeTargetGroups call.
const NAMES_PER_CALL: usize = 20;
/// ARNs per DescribeTags / AddTags / RemoveTags call.
const ARNS_PER_CALL: usize = 20;

const IDLE_TIMEOUT: &str = "idle_timeout.timeout_seconds";
const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";
/// AWS's default idle timeout of a new load balancer.
const DEFAULT_IDLE_TIMEOUT: u32 = 60;
/// AWS's default deregistration delay of a new target group.
const DEFAULT_DEREGISTRATION_DELAY: u32 = 300;

/// [`ElbApi`] over `aws-sdk-elasticloadbalancingv2`.
#[derive(Debug, Clone)]
pub struct ElbSdk {
    client: Client,
}

impl ElbSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        ElbSdk { client }
    }

    /// Load balancers named `names` (≤ 20), all pages.
    async fn load_balancers_named(&self, names: Vec<String>) -> AwsResult<Vec<LoadBalancer>> {
        self.client
            .describe_load_balancers()
            .set_names(Some(names))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeLoadBalancers"))
    }

    /// Target groups named `names` (≤ 20), all pages.
    async fn target_groups_named(&self, names: Vec<String>) -> AwsResult<Vec<TargetGroup>> {
        self.client
            .describe_target_groups()
            .set_names(Some(names))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeTargetGroups"))
    }

    /// Tags by ARN, 20 ARNs per call. An object gone meanwhile has no entry.
    async fn tags_by_arn(&self, arns: Vec<String>) -> AwsResult<HashMap<String, Tags>> {
        let mut tags = HashMap::new();
        let fetch = |arns: Vec<String>| async move {
            let out = self
                .client
                .describe_tags()
                .set_resource_arns(Some(arns))
                .send()
                .await
                .map_err(err(SERVICE, "DescribeTags"))?;
            Ok(out
                .tag_descriptions()
                .iter()
                .filter_map(|d| Some((d.resource_arn()?.to_owned(), tags_of(d.tags()))))
                .collect::<Vec<_>>())
        };
        for (arn, t) in by_chunks_skipping_missing(&arns, ARNS_PER_CALL, fetch).await? {
            tags.insert(arn, t);
        }
        Ok(tags)
    }

    /// The value of `key` among a load balancer's attributes; `None` if it is gone.
    async fn load_balancer_attribute(&self, arn: &str, key: &str) -> AwsResult<Option<Option<String>>> {
        match self.client.describe_load_balancer_attributes().load_balancer_arn(arn).send().await {
            Ok(out) => Ok(Some(
                out.attributes().iter().find(|a| a.key() == Some(key)).and_then(|a| a.value()).map(str::to_owned),
            )),
            Err(e) => {
                let e = err(SERVICE, "DescribeLoadBalancerAttributes")(e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The value of `key` among a target group's attributes; `None` if it is gone.
    async fn target_group_attribute(&self, arn: &str, key: &str) -> AwsResult<Option<Option<String>>> {
        match self.client.describe_target_group_attributes().target_group_arn(arn).send().await {
            Ok(out) => Ok(Some(
                out.attributes().iter().find(|a| a.key() == Some(key)).and_then(|a| a.value()).map(str::to_owned),
            )),
            Err(e) => {
                let e = err(SERVICE, "DescribeTargetGroupAttributes")(e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn modify_load_balancer_attribute(&self, arn: &str, key: &str, value: String) -> AwsResult<()> {
        self.client
            .modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .attributes(LoadBalancerAttribute::builder().key(key).value(value).build())
            .send()
            .await
            .map_err(err(SERVICE, "ModifyLoadBalancerAttributes"))?;
        Ok(())
    }

    async fn modify_target_group_attribute(&self, arn: &str, key: &str, value: String) -> AwsResult<()> {
        self.client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(TargetGroupAttribute::builder().key(key).value(value).build())
            .send()
            .await
            .map_err(err(SERVICE, "ModifyTargetGroupAttributes"))?;
        Ok(())
    }
}

/// Calls `fetch` on `items` (sorted, deduplicated) in chunks of `size`. When a chunk
/// fails with "not found" (AWS fails the whole call if one name or ARN is missing), asks
/// again one item per call and leaves out the missing ones.
async fn by_chunks_skipping_missing<T, F, Fut>(items: &[String], size: usize, fetch: F) -> AwsResult<Vec<T>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = AwsResult<Vec<T>>>,
{
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    let mut out = Vec::new();
    for chunk in items.chunks(size) {
        match fetch(chunk.to_vec()).await {
            Ok(found) => out.extend(found),
            Err(e) if e.is_not_found() && chunk.len() > 1 => {
                for item in chunk {
                    match fetch(vec![item.clone()]).await {
                        Ok(found) => out.extend(found),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

fn sdk_tags(tags: &Tags) -> Option<Vec<Tag>> {
    if tags.is_empty() {
        None
    } else {
        Some(tag_pairs(tags).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
    }
}

fn u32_of(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn u16_of(n: Option<i32>) -> u16 {
    n.and_then(|n| u16::try_from(n).ok()).unwrap_or(0)
}

fn i32_of(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn sorted_values(values: impl IntoIterator<Item = String>) -> Vec<RefOr<String>> {
    let mut values: Vec<String> = values.into_iter().collect();
    values.sort();
    values.dedup();
    values.into_iter().map(RefOr::Value).collect()
}

fn literals(values: &[RefOr<String>], operation: &str) -> AwsResult<Vec<String>> {
    values.iter().map(|v| literal(v, SERVICE, operation).map(str::to_owned)).collect()
}

/// A forward action to one target group.
fn forward(target_group_arn: &str) -> Action {
    Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(target_group_arn).build()
}

/// A rule's forward action: to its target group alone, or weighted over it (100) and
/// its alternate (0), for ECS to shift traffic between them.
fn rule_forward(props: &ListenerRuleProps, operation: &str) -> AwsResult<Action> {
    let primary = literal(&props.target_group_arn, SERVICE, operation)?;
    let Some(alternate) = &props.alternate_target_group_arn else { return Ok(forward(primary)) };
    let alternate = literal(alternate, SERVICE, operation)?;
    let config = ForwardActionConfig::builder()
        .target_groups(TargetGroupTuple::builder().target_group_arn(primary).weight(100).build())
        .target_groups(TargetGroupTuple::builder().target_group_arn(alternate).weight(0).build())
        .build();
    Ok(Action::builder().r#type(ActionTypeEnum::Forward).forward_config(config).build())
}

/// The target groups of a forward over two: the heavier one first (the first on a tie),
/// `None` for a forward to one.
fn weighted_pair(actions: &[Action]) -> Option<(String, String)> {
    let action = actions.iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))?;
    let groups = action.forward_config()?.target_groups();
    let [a, b] = groups else { return None };
    let (a_arn, b_arn) = (a.target_group_arn()?.to_owned(), b.target_group_arn()?.to_owned());
    if b.weight().unwrap_or(1) > a.weight().unwrap_or(1) {
        Some((b_arn, a_arn))
    } else {
        Some((a_arn, b_arn))
    }
}

/// The one target group a forward action among `actions` sends to: its `TargetGroupArn`,
/// or the first of its `ForwardConfig` (AWS echoes both for a single-group forward).
fn forward_target(actions: &[Action]) -> Option<String> {
    let action = actions.iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))?;
    action
        .target_group_arn()
        .or_else(|| action.forward_config()?.target_groups().first()?.target_group_arn())
        .map(str::to_owned)
}

/// A `path-pattern` condition.
fn path_condition(patterns: &[String]) -> RuleCondition {
    RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(PathPatternConditionConfig::builder().set_values(Some(patterns.to_vec())).build())
        .build()
}

/// The path patterns of a rule's `path-pattern` condition, in order, without repeats: AWS
/// echoes them in `PathPatternConfig.Values` and in the legacy `Values`, or in one of them.
fn path_patterns(conditions: &[RuleCondition]) -> Vec<String> {
    let mut patterns: Vec<String> = Vec::new();
    for condition in conditions.iter().filter(|c| c.field() == Some("path-pattern")) {
        let config = condition.path_pattern_config().map(PathPatternConditionConfig::values).unwrap_or_default();
        for value in config.iter().chain(condition.values()) {
            if !patterns.contains(value) {
                patterns.push(value.clone());
            }
        }
    }
    patterns
}

/// A `host-header` condition.
fn host_condition(hosts: &[String]) -> RuleCondition {
    RuleCondition::builder()
        .field("host-header")
        .host_header_config(HostHeaderConditionConfig::builder().set_values(Some(hosts.to_vec())).build())
        .build()
}

/// The host names of a rule's `host-header` condition, in order, without repeats (AWS
/// echoes them in `HostHeaderConfig.Values` and in the legacy `Values`).
fn host_headers(conditions: &[RuleCondition]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for condition in conditions.iter().filter(|c| c.field() == Some("host-header")) {
        let config = condition.host_header_config().map(HostHeaderConditionConfig::values).unwrap_or_default();
        for value in config.iter().chain(condition.values()) {
            if !hosts.contains(value) {
                hosts.push(value.clone());
            }
        }
    }
    hosts
}

/// A rule's conditions: its path patterns and host names, each where given.
fn rule_conditions(props: &ListenerRuleProps) -> Vec<RuleCondition> {
    let mut conditions = Vec::new();
    if !props.host_headers.is_empty() {
        conditions.push(host_condition(&props.host_headers));
    }
    if !props.path_patterns.is_empty() {
        conditions.push(path_condition(&props.path_patterns));
    }
    conditions
}

/// A redirect to the same host, path and query on another protocol and port.
fn redirect(to: &Redirect) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol(&to.protocol)
                .port(&to.port)
                .host("#{host}")
                .path("/#{path}")
                .query("#{query}")
                .status_code(RedirectActionStatusCodeEnum::from(to.status_code.as_str()))
                .build(),
        )
        .build()
}

/// The redirect of a listener's default actions, if that is what they do.
fn redirect_of(actions: &[Action]) -> Option<Redirect> {
    let config = actions.iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Redirect))?.redirect_config()?;
    Some(Redirect {
        protocol: config.protocol().unwrap_or_default().to_owned(),
        port: config.port().unwrap_or_default().to_owned(),
        status_code: config.status_code().map(|c| c.as_str().to_owned()).unwrap_or_default(),
    })
}

/// A fixed response.
fn fixed(response: &FixedResponse) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code(&response.status_code)
                .content_type(&response.content_type)
                .message_body(&response.message_body)
                .build(),
        )
        .build()
}

/// The fixed response of a listener's default actions, if that is what they do.
fn fixed_of(actions: &[Action]) -> Option<FixedResponse> {
    let config =
        actions.iter().find(|a| a.r#type() == Some(&ActionTypeEnum::FixedResponse))?.fixed_response_config()?;
    Some(FixedResponse {
        status_code: config.status_code().unwrap_or_default().to_owned(),
        content_type: config.content_type().unwrap_or_default().to_owned(),
        message_body: config.message_body().unwrap_or_default().to_owned(),
    })
}

/// A listener's default action: its forward, else its redirect, else its fixed response.
fn default_action(props: &ListenerProps, operation: &str) -> AwsResult<Action> {
    match (&props.default_target_group_arn, &props.redirect, &props.fixed_response) {
        (Some(tg), _, _) => Ok(forward(literal(tg, SERVICE, operation)?)),
        (None, Some(to), _) => Ok(redirect(to)),
        (None, None, Some(response)) => Ok(fixed(response)),
        (None, None, None) => Err(missing(SERVICE, operation, "DefaultActions")),
    }
}

/// The listener's default certificate, as CreateListener and ModifyListener take it.
fn default_certificate(props: &ListenerProps) -> Option<Vec<Certificate>> {
    props.certificate_arn.as_ref().map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}

/// A listener in the graph's shape.
fn listener_props(l: &Listener, load_balancer_arn: &str) -> ListenerProps {
    ListenerProps {
        load_balancer_arn: RefOr::Value(l.load_balancer_arn().unwrap_or(load_balancer_arn).to_owned()),
        protocol: l.protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        port: u16_of(l.port()),
        default_target_group_arn: forward_target(l.default_actions()).map(RefOr::Value),
        redirect: redirect_of(l.default_actions()),
        fixed_response: fixed_of(l.default_actions()),
        // DescribeListeners names the default certificate only.
        certificate_arn: l.certificates().first().and_then(Certificate::certificate_arn).map(str::to_owned),
        // Only HTTPS listeners have a security policy; some endpoints (the emulator)
        // report their default one on plain HTTP listeners too.
        ssl_policy: l.ssl_policy().filter(|_| l.protocol() == Some(&ProtocolEnum::Https)).map(str::to_owned),
    }
}

fn load_balancer_props(lb: &LoadBalancer, idle_timeout_seconds: u32) -> LoadBalancerProps {
    LoadBalancerProps {
        name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        scheme: lb.scheme().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        lb_type: lb.r#type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        ip_address_type: lb.ip_address_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        subnets: sorted_values(lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_owned))),
        security_groups: sorted_values(lb.security_groups().iter().cloned()),
        idle_timeout_seconds,
    }
}

fn health_check_of(tg: &TargetGroup) -> TargetHealthCheck {
    TargetHealthCheck {
        protocol: tg.health_check_protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        port: tg.health_check_port().unwrap_or_default().to_owned(),
        path: tg.health_check_path().unwrap_or_default().to_owned(),
        interval_seconds: u32_of(tg.health_check_interval_seconds()),
        timeout_seconds: u32_of(tg.health_check_timeout_seconds()),
        healthy_threshold_count: u32_of(tg.healthy_threshold_count()),
        unhealthy_threshold_count: u32_of(tg.unhealthy_threshold_count()),
        matcher: tg.matcher().and_then(Matcher::http_code).unwrap_or_default().to_owned(),
    }
}

fn target_group_props(tg: &TargetGroup, deregistration_delay_seconds: u32) -> TargetGroupProps {
    TargetGroupProps {
        name: tg.target_group_name().unwrap_or_default().to_owned(),
        protocol: tg.protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        port: u16_of(tg.port()),
        vpc_id: RefOr::Value(tg.vpc_id().unwrap_or_default().to_owned()),
        target_type: tg.target_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        health_check: health_check_of(tg),
        deregistration_delay_seconds,
    }
}

/// A rule in the graph's shape; `None` for the listener's default rule.
fn rule_props(listener_arn: &str, rule: &Rule) -> Option<ListenerRuleProps> {
    if rule.is_default() == Some(true) {
        return None;
    }
    let priority = rule.priority()?.parse().ok()?;
    Some(ListenerRuleProps {
        listener_arn: RefOr::Value(listener_arn.to_owned()),
        priority,
        path_patterns: path_patterns(rule.conditions()),
        host_headers: host_headers(rule.conditions()),
        target_group_arn: RefOr::Value(match weighted_pair(rule.actions()) {
            Some((heavier, _)) => heavier,
            None => forward_target(rule.actions()).unwrap_or_default(),
        }),
        alternate_target_group_arn: weighted_pair(rule.actions()).map(|(_, lighter)| RefOr::Value(lighter)),
    })
}

fn parse_seconds(value: Option<String>, default: u32) -> u32 {
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

#[async_trait]
impl ElbApi for ElbSdk {
    async fn describe_load_balancers(&self, names: Vec<String>) -> AwsResult<Vec<Found<LoadBalancerProps>>> {
        let lbs = by_chunks_skipping_missing(&names, NAMES_PER_CALL, |n| self.load_balancers_named(n)).await?;
        let mut found = Vec::with_capacity(lbs.len());
        for lb in &lbs {
            let Some(arn) = lb.load_balancer_arn() else { continue };
            // Gone since it was listed: leave it out.
            let Some(idle) = self.load_balancer_attribute(arn, IDLE_TIMEOUT).await? else { continue };
            let mut item = Found::new(arn, load_balancer_props(lb, parse_seconds(idle, DEFAULT_IDLE_TIMEOUT)));
            item.arn = Some(arn.to_owned());
            item.state = lb.state().and_then(|s| s.code()).map(|c| c.as_str().to_owned());
            if let Some(dns) = lb.dns_name() {
                item.attrs.insert("dns_name".into(), dns.to_owned());
            }
            found.push(item);
        }
        Ok(found)
    }

    async fn create_load_balancer(&self, props: LoadBalancerProps, tags: Tags) -> AwsResult<(String, String)> {
        const OP: &str = "CreateLoadBalancer";
        let out = self
            .client
            .create_load_balancer()
            .name(&props.name)
            .set_subnets(Some(literals(&props.subnets, OP)?))
            .set_security_groups(Some(literals(&props.security_groups, OP)?))
            .scheme(LoadBalancerSchemeEnum::from(props.scheme.as_str()))
            .r#type(LoadBalancerTypeEnum::from(props.lb_type.as_str()))
            .ip_address_type(IpAddressType::from(props.ip_address_type.as_str()))
            .set_tags(sdk_tags(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        let lb = out.load_balancers().first().ok_or_else(|| missing(SERVICE, OP, "LoadBalancers"))?;
        let arn = lb.load_balancer_arn().ok_or_else(|| missing(SERVICE, OP, "LoadBalancerArn"))?.to_owned();
        let dns = lb.dns_name().ok_or_else(|| missing(SERVICE, OP, "DNSName"))?.to_owned();
        // So that the new load balancer reads back as `props`.
        if props.idle_timeout_seconds != DEFAULT_IDLE_TIMEOUT {
            self.set_idle_timeout(arn.clone(), props.idle_timeout_seconds).await?;
        }
        Ok((arn, dns))
    }

    async fn set_idle_timeout(&self, arn: String, seconds: u32) -> AwsResult<()> {
        self.modify_load_balancer_attribute(&arn, IDLE_TIMEOUT, seconds.to_string()).await
    }

    async fn set_security_groups(&self, arn: String, group_ids: Vec<String>) -> AwsResult<()> {
        self.client
            .set_security_groups()
            .load_balancer_arn(arn)
            .set_security_groups(Some(group_ids))
            .send()
            .await
            .map_err(err(SERVICE, "SetSecurityGroups"))?;
        Ok(())
    }

    async fn set_subnets(&self, arn: String, subnet_ids: Vec<String>) -> AwsResult<()> {
        self.client
            .set_subnets()
            .load_balancer_arn(arn)
            .set_subnets(Some(subnet_ids))
            .send()
            .await
            .map_err(err(SERVICE, "SetSubnets"))?;
        Ok(())
    }

    async fn delete_load_balancer(&self, arn: String) -> AwsResult<()> {
        self.client
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteLoadBalancer"))?;
        Ok(())
    }

    async fn describe_target_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<TargetGroupProps>>> {
        let tgs = by_chunks_skipping_missing(&names, NAMES_PER_CALL, |n| self.target_groups_named(n)).await?;
        let mut found = Vec::with_capacity(tgs.len());
        for tg in &tgs {
            let Some(arn) = tg.target_group_arn() else { continue };
            let Some(delay) = self.target_group_attribute(arn, DEREGISTRATION_DELAY).await? else { continue };
            let mut item = Found::new(arn, target_group_props(tg, parse_seconds(delay, DEFAULT_DEREGISTRATION_DELAY)));
            item.arn = Some(arn.to_owned());
            let mut lbs = tg.load_balancer_arns().to_vec();
            lbs.sort();
            item.attrs.insert("load_balancer_arns".into(), lbs.join(","));
            found.push(item);
        }
        Ok(found)
    }

    async fn create_target_group(&self, props: TargetGroupProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateTargetGroup";
        let hc = &props.health_check;
        let out = self
            .client
            .create_target_group()
            .name(&props.name)
            .protocol(ProtocolEnum::from(props.protocol.as_str()))
            .port(i32::from(props.port))
            .vpc_id(literal(&props.vpc_id, SERVICE, OP)?)
            .target_type(TargetTypeEnum::from(props.target_type.as_str()))
            .health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()))
            .health_check_port(&hc.port)
            .health_check_path(&hc.path)
            .health_check_interval_seconds(i32_of(hc.interval_seconds))
            .health_check_timeout_seconds(i32_of(hc.timeout_seconds))
            .healthy_threshold_count(i32_of(hc.healthy_threshold_count))
            .unhealthy_threshold_count(i32_of(hc.unhealthy_threshold_count))
            .matcher(Matcher::builder().http_code(&hc.matcher).build())
            .set_tags(sdk_tags(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(TargetGroup::target_group_arn)
            .ok_or_else(|| missing(SERVICE, OP, "TargetGroupArn"))?
            .to_owned();
        // So that the new target group reads back as `props`.
        if props.deregistration_delay_seconds != DEFAULT_DEREGISTRATION_DELAY {
            self.set_deregistration_delay(arn.clone(), props.deregistration_delay_seconds).await?;
        }
        Ok(arn)
    }

    async fn modify_target_group(&self, arn: String, health_check: TargetHealthCheck) -> AwsResult<()> {
        let hc = health_check;
        self.client
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()))
            .health_check_port(hc.port)
            .health_check_path(hc.path)
            .health_check_interval_seconds(i32_of(hc.interval_seconds))
            .health_check_timeout_seconds(i32_of(hc.timeout_seconds))
            .healthy_threshold_count(i32_of(hc.healthy_threshold_count))
            .unhealthy_threshold_count(i32_of(hc.unhealthy_threshold_count))
            .matcher(Matcher::builder().http_code(hc.matcher).build())
            .send()
            .await
            .map_err(err(SERVICE, "ModifyTargetGroup"))?;
        Ok(())
    }

    async fn set_deregistration_delay(&self, arn: String, seconds: u32) -> AwsResult<()> {
        self.modify_target_group_attribute(&arn, DEREGISTRATION_DELAY, seconds.to_string()).await
    }

    async fn delete_target_group(&self, arn: String) -> AwsResult<()> {
        self.client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteTargetGroup"))?;
        Ok(())
    }

    async fn describe_target_health(&self, arn: String) -> AwsResult<Vec<TargetHealth>> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(err(SERVICE, "DescribeTargetHealth"))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .filter_map(|d| {
                let target = d.target()?;
                let health = d.target_health();
                Some(TargetHealth {
                    target_id: target.id()?.to_owned(),
                    port: target.port(),
                    state: health.and_then(|h| h.state()).map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    reason: health.and_then(|h| h.reason()).map(|r| r.as_str().to_owned()),
                })
            })
            .collect())
    }

    async fn describe_listeners(&self, load_balancer_arn: String) -> AwsResult<Vec<Found<ListenerProps>>> {
        let listeners: Vec<_> = self
            .client
            .describe_listeners()
            .load_balancer_arn(&load_balancer_arn)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeListeners"))?;
        Ok(listeners
            .iter()
            .filter_map(|l| {
                let arn = l.listener_arn()?;
                let mut item = Found::new(arn, listener_props(l, &load_balancer_arn));
                item.arn = Some(arn.to_owned());
                Some(item)
            })
            .collect())
    }

    async fn create_listener(&self, props: ListenerProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateListener";
        let out = self
            .client
            .create_listener()
            .load_balancer_arn(literal(&props.load_balancer_arn, SERVICE, OP)?)
            .protocol(ProtocolEnum::from(props.protocol.as_str()))
            .port(i32::from(props.port))
            .default_actions(default_action(&props, OP)?)
            .set_certificates(default_certificate(&props))
            .set_ssl_policy(props.ssl_policy.clone())
            .set_tags(sdk_tags(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, OP, "ListenerArn"))
    }

    async fn modify_listener(&self, arn: String, props: ListenerProps) -> AwsResult<()> {
        const OP: &str = "ModifyListener";
        self.client
            .modify_listener()
            .listener_arn(arn)
            .protocol(ProtocolEnum::from(props.protocol.as_str()))
            .port(i32::from(props.port))
            .default_actions(default_action(&props, OP)?)
            .set_certificates(default_certificate(&props))
            .set_ssl_policy(props.ssl_policy.clone())
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn delete_listener(&self, arn: String) -> AwsResult<()> {
        self.client.delete_listener().listener_arn(arn).send().await.map_err(err(SERVICE, "DeleteListener"))?;
        Ok(())
    }

    async fn describe_listener_certificates(
        &self,
        listener_arn: String,
    ) -> AwsResult<Vec<Found<ListenerCertificateProps>>> {
        const OP: &str = "DescribeListenerCertificates";
        let mut certificates = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .client
                .describe_listener_certificates()
                .listener_arn(&listener_arn)
                .set_marker(marker)
                .send()
                .await
                .map_err(err(SERVICE, OP))?;
            certificates.extend(out.certificates().iter().cloned());
            marker = out.next_marker().map(str::to_owned);
            if marker.is_none() {
                break;
            }
        }
        Ok(certificates
            .iter()
            .filter(|c| c.is_default() != Some(true))
            .filter_map(|c| {
                let arn = c.certificate_arn()?;
                let mut item = Found::new(
                    format!("{listener_arn} {arn}"),
                    ListenerCertificateProps {
                        listener_arn: RefOr::Value(listener_arn.clone()),
                        certificate_arn: arn.to_owned(),
                    },
                );
                item.arn = Some(arn.to_owned());
                Some(item)
            })
            .collect())
    }

    async fn add_listener_certificates(&self, listener_arn: String, certificate_arns: Vec<String>) -> AwsResult<()> {
        let certificates = certificate_arns.iter().map(|arn| Certificate::builder().certificate_arn(arn).build());
        self.client
            .add_listener_certificates()
            .listener_arn(listener_arn)
            .set_certificates(Some(certificates.collect()))
            .send()
            .await
            .map_err(err(SERVICE, "AddListenerCertificates"))?;
        Ok(())
    }

    async fn remove_listener_certificates(&self, listener_arn: String, certificate_arns: Vec<String>) -> AwsResult<()> {
        let certificates = certificate_arns.iter().map(|arn| Certificate::builder().certificate_arn(arn).build());
        self.client
            .remove_listener_certificates()
            .listener_arn(listener_arn)
            .set_certificates(Some(certificates.collect()))
            .send()
            .await
            .map_err(err(SERVICE, "RemoveListenerCertificates"))?;
        Ok(())
    }

    async fn describe_rules(&self, listener_arn: String) -> AwsResult<Vec<Found<ListenerRuleProps>>> {
        let rules: Vec<Rule> = self
            .client
            .describe_rules()
            .listener_arn(&listener_arn)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeRules"))?;
        let rules: Vec<(String, ListenerRuleProps)> =
            rules.iter().filter_map(|r| Some((r.rule_arn()?.to_owned(), rule_props(&listener_arn, r)?))).collect();
        Ok(rules
            .into_iter()
            .map(|(arn, props)| {
                let mut item = Found::new(arn.clone(), props);
                item.arn = Some(arn);
                item
            })
            .collect())
    }

    async fn create_rule(&self, props: ListenerRuleProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateRule";
        let out = self
            .client
            .create_rule()
            .listener_arn(literal(&props.listener_arn, SERVICE, OP)?)
            .priority(i32_of(props.priority))
            .set_conditions(Some(rule_conditions(&props)))
            .actions(rule_forward(&props, OP)?)
            .set_tags(sdk_tags(&tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.rules().first().and_then(Rule::rule_arn).map(str::to_owned).ok_or_else(|| missing(SERVICE, OP, "RuleArn"))
    }

    async fn modify_rule(&self, arn: String, props: ListenerRuleProps) -> AwsResult<()> {
        const OP: &str = "ModifyRule";
        self.client
            .modify_rule()
            .rule_arn(arn)
            .set_conditions(Some(rule_conditions(&props)))
            .actions(rule_forward(&props, OP)?)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn set_rule_priorities(&self, priorities: Vec<(String, u32)>) -> AwsResult<()> {
        if priorities.is_empty() {
            return Ok(());
        }
        let pairs = priorities
            .into_iter()
            .map(|(arn, priority)| RulePriorityPair::builder().rule_arn(arn).priority(i32_of(priority)).build())
            .collect();
        self.client
            .set_rule_priorities()
            .set_rule_priorities(Some(pairs))
            .send()
            .await
            .map_err(err(SERVICE, "SetRulePriorities"))?;
        Ok(())
    }

    async fn delete_rule(&self, arn: String) -> AwsResult<()> {
        self.client.delete_rule().rule_arn(arn).send().await.map_err(err(SERVICE, "DeleteRule"))?;
        Ok(())
    }

    async fn describe_tags(&self, arns: Vec<String>) -> AwsResult<BTreeMap<String, Tags>> {
        Ok(self.tags_by_arn(arns).await?.into_iter().collect())
    }

    async fn add_tags(&self, arns: Vec<String>, tags: Tags) -> AwsResult<()> {
        let Some(sdk) = sdk_tags(&tags) else { return Ok(()) };
        for chunk in arns.chunks(ARNS_PER_CALL) {
            self.client
                .add_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .set_tags(Some(sdk.clone()))
                .send()
                .await
                .map_err(err(SERVICE, "AddTags"))?;
        }
        Ok(())
    }

    async fn remove_tags(&self, arns: Vec<String>, keys: Vec<String>) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        for chunk in arns.chunks(ARNS_PER_CALL) {
            self.client
                .remove_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .set_tag_keys(Some(keys.clone()))
                .send()
                .await
                .map_err(err(SERVICE, "RemoveTags"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_elasticloadbalancingv2::operation::create_load_balancer::CreateLoadBalancerOutput;
    use aws_sdk_elasticloadbalancingv2::operation::create_rule::{CreateRuleError, CreateRuleOutput};
    use aws_sdk_elasticloadbalancingv2::operation::create_target_group::{
        CreateTargetGroupError, CreateTargetGroupOutput,
    };
    use aws_sdk_elasticloadbalancingv2::operation::delete_target_group::DeleteTargetGroupError;
    use aws_sdk_elasticloadbalancingv2::operation::describe_listeners::DescribeListenersOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancer_attributes::DescribeLoadBalancerAttributesOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::{
        DescribeLoadBalancersError, DescribeLoadBalancersOutput,
    };
    use aws_sdk_elasticloadbalancingv2::operation::describe_rules::DescribeRulesOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::DescribeTargetGroupAttributesOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
    use aws_sdk_elasticloadbalancingv2::operation::modify_load_balancer_attributes::ModifyLoadBalancerAttributesOutput;
    use aws_sdk_elasticloadbalancingv2::types::error::{
        DuplicateTargetGroupNameException, LoadBalancerNotFoundException, PriorityInUseException,
        ResourceInUseException,
    };
    use aws_sdk_elasticloadbalancingv2::types::{
        AvailabilityZone, ForwardActionConfig, Listener, LoadBalancerState, LoadBalancerStateEnum, TagDescription,
        TargetDescription, TargetGroupStickinessConfig, TargetGroupTuple, TargetHealth as SdkTargetHealth,
        TargetHealthDescription, TargetHealthReasonEnum, TargetHealthStateEnum,
    };
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::ErrorKind;
    use crate::graph::props::{Attr, Ref};
    use crate::graph::LogicalId;

    const ACCOUNT: &str = "arn:aws:elasticloadbalancing:us-west-2:123456789012";

    fn lb_arn(name: &str) -> String {
        format!("{ACCOUNT}:loadbalancer/app/{name}/50dc6c495c0c9188")
    }

    fn tg_arn(name: &str) -> String {
        format!("{ACCOUNT}:targetgroup/{name}/73e2d6bc24d8a067")
    }

    fn listener_arn(port: u16) -> String {
        format!("{ACCOUNT}:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc52{port}")
    }

    fn rule_arn(n: u32) -> String {
        format!("{ACCOUNT}:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc5280/9683b2d02a6cab{n}")
    }

    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(format!("{code} happened")).build()
    }

    fn not_found() -> DescribeLoadBalancersError {
        DescribeLoadBalancersError::LoadBalancerNotFoundException(
            LoadBalancerNotFoundException::builder()
                .message("One or more load balancers not found")
                .meta(meta("LoadBalancerNotFound"))
                .build(),
        )
    }

    fn load_balancer(name: &str) -> LoadBalancer {
        LoadBalancer::builder()
            .load_balancer_arn(lb_arn(name))
            .load_balancer_name(name)
            .dns_name(format!("{name}-1234567890.us-west-2.elb.amazonaws.com"))
            .canonical_hosted_zone_id("Z1H1FL5HABSF5")
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .r#type(LoadBalancerTypeEnum::Application)
            .ip_address_type(IpAddressType::Ipv4)
            .vpc_id("vpc-0a1b2c3d")
            .state(LoadBalancerState::builder().code(LoadBalancerStateEnum::Provisioning).build())
            .availability_zones(AvailabilityZone::builder().zone_name("us-west-2b").subnet_id("subnet-0bbb").build())
            .availability_zones(AvailabilityZone::builder().zone_name("us-west-2a").subnet_id("subnet-0aaa").build())
            .security_groups("sg-0zzz")
            .security_groups("sg-0aaa")
            .build()
    }

    /// DescribeTags answering every ARN asked, with a `Name` tag for each.
    fn tags_rule() -> aws_smithy_mocks::Rule {
        mock!(Client::describe_tags).then_compute_output(|req| {
            assert!(req.resource_arns().len() <= 20, "DescribeTags takes at most 20 ARNs");
            let mut out = DescribeTagsOutput::builder();
            for arn in req.resource_arns() {
                let name = arn.rsplit('/').nth(1).unwrap_or_default();
                out = out.tag_descriptions(
                    TagDescription::builder()
                        .resource_arn(arn)
                        .tags(Tag::builder().key("Name").value(name).build())
                        .tags(Tag::builder().key("ecs-kit:stack").value("shop").build())
                        .build(),
                );
            }
            out.build()
        })
    }

    fn lb_attributes_rule(idle: &'static str) -> aws_smithy_mocks::Rule {
        mock!(Client::describe_load_balancer_attributes).then_output(move || {
            DescribeLoadBalancerAttributesOutput::builder()
                .attributes(LoadBalancerAttribute::builder().key("deletion_protection.enabled").value("false").build())
                .attributes(LoadBalancerAttribute::builder().key(IDLE_TIMEOUT).value(idle).build())
                .attributes(LoadBalancerAttribute::builder().key("routing.http2.enabled").value("true").build())
                .build()
        })
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn value(s: &str) -> RefOr<String> {
        RefOr::Value(s.to_owned())
    }

    #[test]
    fn a_rule_to_two_target_groups_is_weighted_and_reads_the_heavier_first() {
        let mut props = ListenerRuleProps {
            listener_arn: value(&listener_arn(80)),
            priority: 10,
            path_patterns: vec!["/api".into()],
            host_headers: Vec::new(),
            target_group_arn: value(&tg_arn("api")),
            alternate_target_group_arn: Some(value(&tg_arn("api-alt"))),
        };
        let action = rule_forward(&props, "CreateRule").unwrap();
        let groups = action.forward_config().unwrap().target_groups();
        let sent: Vec<_> = groups.iter().map(|g| (g.target_group_arn().unwrap().to_owned(), g.weight())).collect();
        assert_eq!(sent, [(tg_arn("api"), Some(100)), (tg_arn("api-alt"), Some(0))]);
        // After ECS shifted traffic, the alternate is the heavier one.
        let shifted = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn(tg_arn("api")).weight(0).build())
                    .target_groups(TargetGroupTuple::builder().target_group_arn(tg_arn("api-alt")).weight(100).build())
                    .build(),
            )
            .build();
        assert_eq!(weighted_pair(&[shifted]), Some((tg_arn("api-alt"), tg_arn("api"))));
        // One target group: a plain forward, read as before.
        props.alternate_target_group_arn = None;
        let plain = rule_forward(&props, "CreateRule").unwrap();
        assert_eq!(plain.target_group_arn(), Some(tg_arn("api").as_str()));
        assert_eq!(weighted_pair(&[plain]), None);
    }

    #[tokio::test]
    async fn load_balancers_map_to_props() {
        let lbs = mock!(Client::describe_load_balancers)
            .match_requests(|r| r.names() == ["shop"])
            .then_output(|| DescribeLoadBalancersOutput::builder().load_balancers(load_balancer("shop")).build());
        let attrs = lb_attributes_rule("120");
        let tags_rule = tags_rule();
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&lbs, &attrs, &tags_rule]);
        let found = ElbSdk::new(client).describe_load_balancers(vec!["shop".into()]).await.unwrap();
        let arn = lb_arn("shop");
        assert_eq!(
            found,
            vec![Found {
                id: arn.clone(),
                arn: Some(arn),
                state: Some("provisioning".into()),
                props: LoadBalancerProps {
                    name: "shop".into(),
                    scheme: "internet-facing".into(),
                    lb_type: "application".into(),
                    ip_address_type: "ipv4".into(),
                    subnets: vec![value("subnet-0aaa"), value("subnet-0bbb")],
                    security_groups: vec![value("sg-0aaa"), value("sg-0zzz")],
                    idle_timeout_seconds: 120,
                },
                // Read later, with those of other ELB objects (describe_tags).
                tags: Tags::new(),
                attrs: BTreeMap::from([(
                    "dns_name".to_owned(),
                    "shop-1234567890.us-west-2.elb.amazonaws.com".to_owned()
                )]),
            }]
        );
        assert_eq!((lbs.num_calls(), attrs.num_calls(), tags_rule.num_calls()), (1, 1, 0));
    }

    #[tokio::test]
    async fn a_missing_load_balancer_name_is_left_out() {
        // AWS fails the whole call when one name is missing: ask again one name per call.
        let all = mock!(Client::describe_load_balancers).match_requests(|r| r.names().len() > 1).then_error(not_found);
        let missing =
            mock!(Client::describe_load_balancers).match_requests(|r| r.names() == ["gone"]).then_error(not_found);
        let one = mock!(Client::describe_load_balancers).then_compute_output(|r| {
            DescribeLoadBalancersOutput::builder().load_balancers(load_balancer(&r.names()[0])).build()
        });
        let attrs = lb_attributes_rule("60");
        let tags_rule = tags_rule();
        let client = mock_client!(
            aws_sdk_elasticloadbalancingv2,
            RuleMode::MatchAny,
            [&all, &missing, &one, &attrs, &tags_rule]
        );
        let found =
            ElbSdk::new(client).describe_load_balancers(vec!["web".into(), "gone".into(), "api".into()]).await.unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.props.name.as_str()).collect();
        assert_eq!(names, ["api", "web"]);
        assert_eq!(found[0].props.idle_timeout_seconds, 60);
        assert_eq!((all.num_calls(), missing.num_calls(), one.num_calls()), (1, 1, 2));
        assert_eq!(tags_rule.num_calls(), 0, "tags are read later, with other objects'");
    }

    #[tokio::test]
    async fn no_names_make_no_calls() {
        let lbs = mock!(Client::describe_load_balancers)
            .then_output(|| DescribeLoadBalancersOutput::builder().load_balancers(load_balancer("x")).build());
        let tgs = mock!(Client::describe_target_groups).then_output(|| DescribeTargetGroupsOutput::builder().build());
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&lbs, &tgs]);
        let elb = ElbSdk::new(client);
        assert!(elb.describe_load_balancers(vec![]).await.unwrap().is_empty());
        assert!(elb.describe_target_groups(vec![]).await.unwrap().is_empty());
        assert_eq!((lbs.num_calls(), tgs.num_calls()), (0, 0));
    }

    fn target_group(name: &str) -> TargetGroup {
        TargetGroup::builder()
            .target_group_arn(tg_arn(name))
            .target_group_name(name)
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id("vpc-0a1b2c3d")
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_port("traffic-port")
            .health_check_enabled(true)
            .health_check_interval_seconds(15)
            .health_check_timeout_seconds(5)
            .healthy_threshold_count(3)
            .unhealthy_threshold_count(2)
            .health_check_path("/health")
            .matcher(Matcher::builder().http_code("200-299").build())
            .load_balancer_arns(lb_arn("shop"))
            .target_type(TargetTypeEnum::Instance)
            .protocol_version("HTTP1")
            .build()
    }

    #[tokio::test]
    async fn target_groups_are_asked_20_names_at_a_time_and_map_to_props() {
        let tgs = mock!(Client::describe_target_groups).then_compute_output(|r| {
            assert!(r.names().len() <= 20, "{} names in one call", r.names().len());
            let mut out = DescribeTargetGroupsOutput::builder();
            for name in r.names() {
                out = out.target_groups(target_group(name));
            }
            out.build()
        });
        let attrs = mock!(Client::describe_target_group_attributes).then_output(|| {
            DescribeTargetGroupAttributesOutput::builder()
                .attributes(TargetGroupAttribute::builder().key("stickiness.enabled").value("false").build())
                .attributes(TargetGroupAttribute::builder().key(DEREGISTRATION_DELAY).value("30").build())
                .build()
        });
        let tags_rule = tags_rule();
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&tgs, &attrs, &tags_rule]);
        let names: Vec<String> = (0..25).map(|i| format!("shop-svc-{i:02}")).collect();
        let found = ElbSdk::new(client).describe_target_groups(names).await.unwrap();
        assert_eq!(found.len(), 25);
        // Tags are left to describe_tags, with those of other ELB objects.
        assert_eq!((tgs.num_calls(), tags_rule.num_calls(), attrs.num_calls()), (2, 0, 25));
        let arn = tg_arn("shop-svc-00");
        assert_eq!(
            found[0],
            Found {
                id: arn.clone(),
                arn: Some(arn),
                state: None,
                props: TargetGroupProps {
                    name: "shop-svc-00".into(),
                    protocol: "HTTP".into(),
                    port: 8080,
                    vpc_id: value("vpc-0a1b2c3d"),
                    target_type: "instance".into(),
                    health_check: TargetHealthCheck {
                        protocol: "HTTP".into(),
                        port: "traffic-port".into(),
                        path: "/health".into(),
                        interval_seconds: 15,
                        timeout_seconds: 5,
                        healthy_threshold_count: 3,
                        unhealthy_threshold_count: 2,
                        matcher: "200-299".into(),
                    },
                    deregistration_delay_seconds: 30,
                },
                tags: Tags::new(),
                attrs: BTreeMap::from([("load_balancer_arns".to_owned(), lb_arn("shop"))]),
            }
        );
    }

    fn forward_config(arn: &str) -> ForwardActionConfig {
        ForwardActionConfig::builder()
            .target_groups(TargetGroupTuple::builder().target_group_arn(arn).weight(1).build())
            .target_group_stickiness_config(TargetGroupStickinessConfig::builder().enabled(false).build())
            .build()
    }

    #[tokio::test]
    async fn listeners_follow_pages_and_read_single_group_forwards() {
        let pages = mock!(Client::describe_listeners)
            .sequence()
            .output(|| {
                DescribeListenersOutput::builder()
                    .listeners(
                        Listener::builder()
                            .listener_arn(listener_arn(80))
                            .load_balancer_arn(lb_arn("shop"))
                            .port(80)
                            .protocol(ProtocolEnum::Http)
                            // As AWS echoes a forward sent with TargetGroupArn.
                            .default_actions(
                                Action::builder()
                                    .r#type(ActionTypeEnum::Forward)
                                    .target_group_arn(tg_arn("web"))
                                    .forward_config(forward_config(&tg_arn("web")))
                                    .build(),
                            )
                            .build(),
                    )
                    .next_marker("page-2")
                    .build()
            })
            .output(|| {
                DescribeListenersOutput::builder()
                    .listeners(
                        Listener::builder()
                            .listener_arn(listener_arn(8080))
                            .load_balancer_arn(lb_arn("shop"))
                            .port(8080)
                            .protocol(ProtocolEnum::Http)
                            .default_actions(
                                Action::builder()
                                    .r#type(ActionTypeEnum::Forward)
                                    .forward_config(forward_config(&tg_arn("api")))
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            })
            .build();
        let tags_rule = tags_rule();
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&pages, &tags_rule]);
        let found = ElbSdk::new(client).describe_listeners(lb_arn("shop")).await.unwrap();
        assert_eq!((pages.num_calls(), tags_rule.num_calls()), (2, 0), "tags are left to describe_tags");
        let mut first = Found::new(
            listener_arn(80),
            ListenerProps {
                load_balancer_arn: value(&lb_arn("shop")),
                protocol: "HTTP".into(),
                port: 80,
                default_target_group_arn: Some(value(&tg_arn("web"))),
                redirect: None,
                fixed_response: None,
                certificate_arn: None,
                ssl_policy: None,
            },
        );
        first.arn = Some(listener_arn(80));
        let mut second = Found::new(
            listener_arn(8080),
            ListenerProps {
                load_balancer_arn: value(&lb_arn("shop")),
                protocol: "HTTP".into(),
                port: 8080,
                default_target_group_arn: Some(value(&tg_arn("api"))),
                redirect: None,
                fixed_response: None,
                certificate_arn: None,
                ssl_policy: None,
            },
        );
        second.arn = Some(listener_arn(8080));
        assert_eq!(found, vec![first, second]);
    }

    fn forward_action(arn: &str) -> Action {
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(arn)
            .forward_config(forward_config(arn))
            .order(1)
            .build()
    }

    #[tokio::test]
    async fn rules_skip_the_default_and_read_path_patterns_once() {
        let rules = mock!(Client::describe_rules).then_output(|| {
            DescribeRulesOutput::builder()
                .rules(
                    Rule::builder()
                        .rule_arn(rule_arn(1))
                        .priority("10")
                        .is_default(false)
                        // As AWS echoes it: legacy Values and PathPatternConfig both filled.
                        .conditions(
                            RuleCondition::builder()
                                .field("path-pattern")
                                .values("/api")
                                .values("/api/*")
                                .path_pattern_config(
                                    PathPatternConditionConfig::builder().values("/api").values("/api/*").build(),
                                )
                                .build(),
                        )
                        .actions(forward_action(&tg_arn("api")))
                        .build(),
                )
                .rules(
                    Rule::builder()
                        .rule_arn(rule_arn(2))
                        .priority("20")
                        .is_default(false)
                        .conditions(RuleCondition::builder().field("path-pattern").values("/admin*").build())
                        .actions(forward_action(&tg_arn("admin")))
                        .build(),
                )
                .rules(
                    Rule::builder()
                        .rule_arn(rule_arn(3))
                        .priority("default")
                        .is_default(true)
                        .actions(forward_action(&tg_arn("web")))
                        .build(),
                )
                .build()
        });
        let tags_rule = tags_rule();
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&rules, &tags_rule]);
        let found = ElbSdk::new(client).describe_rules(listener_arn(80)).await.unwrap();
        assert_eq!(found.len(), 2, "the default rule is left out");
        assert_eq!(tags_rule.num_calls(), 0, "tags are left to describe_tags");
        assert_eq!(found[0].id, rule_arn(1));
        assert_eq!(found[0].arn.as_deref(), Some(rule_arn(1).as_str()));
        assert_eq!(
            found[0].props,
            ListenerRuleProps {
                listener_arn: value(&listener_arn(80)),
                priority: 10,
                path_patterns: vec!["/api".into(), "/api/*".into()],
                host_headers: Vec::new(),
                target_group_arn: value(&tg_arn("api")),
                alternate_target_group_arn: None,
            }
        );
        assert_eq!(found[1].props.priority, 20);
        assert_eq!(found[1].props.path_patterns, vec!["/admin*".to_owned()]);
        assert_eq!(found[1].props.target_group_arn, value(&tg_arn("admin")));
        assert!(found.iter().all(|f| f.tags.is_empty()));
    }

    #[tokio::test]
    async fn tags_of_any_elb_objects_are_read_20_at_a_time_and_a_gone_one_has_no_entry() {
        let gone = rule_arn(7);
        let tags_rule = mock!(Client::describe_tags).then_compute_output(move |req| {
            assert!(req.resource_arns().len() <= 20, "DescribeTags takes at most 20 ARNs");
            let mut out = DescribeTagsOutput::builder();
            for arn in req.resource_arns().iter().filter(|a| **a != rule_arn(7)) {
                let name = arn.rsplit('/').nth(1).unwrap_or_default();
                out = out.tag_descriptions(
                    TagDescription::builder()
                        .resource_arn(arn)
                        .tags(Tag::builder().key("Name").value(name).build())
                        .build(),
                );
            }
            out.build()
        });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&tags_rule]);
        let mut arns = vec![lb_arn("shop"), listener_arn(80), gone.clone()];
        arns.extend((0..22).map(|i| tg_arn(&format!("shop-svc-{i:02}"))));
        let found = ElbSdk::new(client).describe_tags(arns).await.unwrap();
        assert_eq!(tags_rule.num_calls(), 2, "25 objects: two calls");
        assert_eq!(found.len(), 24, "the one gone has no entry");
        assert!(!found.contains_key(&gone));
        assert_eq!(found[&tg_arn("shop-svc-21")], tags(&[("Name", "shop-svc-21")]));
        assert!(found.contains_key(&lb_arn("shop")) && found.contains_key(&listener_arn(80)));
    }

    #[tokio::test]
    async fn create_rule_sends_a_path_pattern_condition_and_a_forward() {
        let rule = mock!(Client::create_rule)
            .match_requests(|r| {
                let condition = &r.conditions()[0];
                r.listener_arn() == Some(listener_arn(80).as_str())
                    && r.priority() == Some(10)
                    && r.conditions().len() == 1
                    && condition.field() == Some("path-pattern")
                    && condition.values().is_empty()
                    && condition.path_pattern_config().map(PathPatternConditionConfig::values)
                        == Some(&["/api".to_owned(), "/api/*".to_owned()][..])
                    && r.actions().len() == 1
                    && r.actions()[0].r#type() == Some(&ActionTypeEnum::Forward)
                    && r.actions()[0].target_group_arn() == Some(tg_arn("api").as_str())
                    && r.tags().len() == 1
                    && r.tags()[0].key() == Some("service")
            })
            .then_output(|| CreateRuleOutput::builder().rules(Rule::builder().rule_arn(rule_arn(1)).build()).build());
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, [&rule]);
        let props = ListenerRuleProps {
            listener_arn: value(&listener_arn(80)),
            priority: 10,
            path_patterns: vec!["/api".into(), "/api/*".into()],
            host_headers: Vec::new(),
            target_group_arn: value(&tg_arn("api")),
            alternate_target_group_arn: None,
        };
        let arn = ElbSdk::new(client).create_rule(props, tags(&[("service", "api")])).await.unwrap();
        assert_eq!(arn, rule_arn(1));
    }

    #[tokio::test]
    async fn a_taken_priority_is_conflict_and_refs_are_refused() {
        let rule = mock!(Client::create_rule).then_error(|| {
            CreateRuleError::PriorityInUseException(
                PriorityInUseException::builder()
                    .message("Priority '10' is currently in use")
                    .meta(meta("PriorityInUse"))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&rule]);
        let elb = ElbSdk::new(client);
        let mut props = ListenerRuleProps {
            listener_arn: value(&listener_arn(80)),
            priority: 10,
            path_patterns: vec!["/api".into()],
            host_headers: Vec::new(),
            target_group_arn: value(&tg_arn("api")),
            alternate_target_group_arn: None,
        };
        let e = elb.create_rule(props.clone(), Tags::new()).await.unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_deref(), e.operation.as_str()),
            (ErrorKind::Conflict, Some("PriorityInUse"), "CreateRule")
        );
        props.target_group_arn = RefOr::Ref(Ref { id: LogicalId::new("target-group/api"), attr: Attr::Arn });
        let e = elb.create_rule(props, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(rule.num_calls(), 1, "an unresolved reference makes no call");
    }

    #[tokio::test]
    async fn a_duplicate_target_group_name_is_already_exists() {
        let rule = mock!(Client::create_target_group).then_error(|| {
            CreateTargetGroupError::DuplicateTargetGroupNameException(
                DuplicateTargetGroupNameException::builder()
                    .message("A target group with the same name 'web' exists")
                    .meta(meta("DuplicateTargetGroupName"))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, [&rule]);
        let props = target_group_props(&target_group("web"), 300);
        let e = ElbSdk::new(client).create_target_group(props, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists);
        assert_eq!(e.code.as_deref(), Some("DuplicateTargetGroupName"));
    }

    #[tokio::test]
    async fn a_target_group_in_use_is_conflict() {
        let rule = mock!(Client::delete_target_group).then_error(|| {
            DeleteTargetGroupError::ResourceInUseException(
                ResourceInUseException::builder()
                    .message("Target group is currently in use by a listener or a rule")
                    .meta(meta("ResourceInUse"))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, [&rule]);
        let e = ElbSdk::new(client).delete_target_group(tg_arn("web")).await.unwrap_err();
        assert_eq!((e.kind, e.operation.as_str()), (ErrorKind::Conflict, "DeleteTargetGroup"));
    }

    #[tokio::test]
    async fn create_target_group_sets_the_delay_only_when_not_the_default() {
        let create = mock!(Client::create_target_group)
            .match_requests(|r| {
                r.name() == Some("web")
                    && r.port() == Some(8080)
                    && r.vpc_id() == Some("vpc-0a1b2c3d")
                    && r.health_check_port() == Some("traffic-port")
                    && r.health_check_path() == Some("/health")
                    && r.matcher().and_then(Matcher::http_code) == Some("200-299")
                    && r.tags().is_empty()
            })
            .then_output(|| CreateTargetGroupOutput::builder().target_groups(target_group("web")).build());
        let modify = mock!(Client::modify_target_group_attributes)
            .match_requests(|r| {
                r.target_group_arn() == Some(tg_arn("web").as_str())
                    && r.attributes().len() == 1
                    && r.attributes()[0].key() == Some(DEREGISTRATION_DELAY)
                    && r.attributes()[0].value() == Some("30")
            })
            .then_output(|| {
                aws_sdk_elasticloadbalancingv2::operation::modify_target_group_attributes::ModifyTargetGroupAttributesOutput::builder().build()
            });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&create, &modify]);
        let elb = ElbSdk::new(client);
        let props = target_group_props(&target_group("web"), 30);
        assert_eq!(elb.create_target_group(props.clone(), Tags::new()).await.unwrap(), tg_arn("web"));
        let default = TargetGroupProps { deregistration_delay_seconds: 300, ..props };
        elb.create_target_group(default, Tags::new()).await.unwrap();
        assert_eq!((create.num_calls(), modify.num_calls()), (2, 1));
    }

    #[tokio::test]
    async fn create_load_balancer_returns_arn_and_dns_and_sets_the_idle_timeout() {
        let create = mock!(Client::create_load_balancer)
            .match_requests(|r| {
                r.name() == Some("shop")
                    && r.subnets() == ["subnet-0aaa", "subnet-0bbb"]
                    && r.security_groups() == ["sg-0aaa"]
                    && r.scheme() == Some(&LoadBalancerSchemeEnum::Internal)
                    && r.r#type() == Some(&LoadBalancerTypeEnum::Application)
                    && r.tags().len() == 1
            })
            .then_output(|| CreateLoadBalancerOutput::builder().load_balancers(load_balancer("shop")).build());
        let modify = mock!(Client::modify_load_balancer_attributes)
            .match_requests(|r| {
                r.attributes().len() == 1
                    && r.attributes()[0].key() == Some(IDLE_TIMEOUT)
                    && r.attributes()[0].value() == Some("300")
            })
            .then_output(|| ModifyLoadBalancerAttributesOutput::builder().build());
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&create, &modify]);
        let props = LoadBalancerProps {
            name: "shop".into(),
            scheme: "internal".into(),
            lb_type: "application".into(),
            ip_address_type: "ipv4".into(),
            subnets: vec![value("subnet-0aaa"), value("subnet-0bbb")],
            security_groups: vec![value("sg-0aaa")],
            idle_timeout_seconds: 300,
        };
        let (arn, dns) =
            ElbSdk::new(client).create_load_balancer(props, tags(&[("ecs-kit:stack", "shop")])).await.unwrap();
        assert_eq!(arn, lb_arn("shop"));
        assert_eq!(dns, "shop-1234567890.us-west-2.elb.amazonaws.com");
        assert_eq!(modify.num_calls(), 1);
    }

    #[tokio::test]
    async fn target_health_maps_state_and_reason() {
        let rule = mock!(Client::describe_target_health).then_output(|| {
            DescribeTargetHealthOutput::builder()
                .target_health_descriptions(
                    TargetHealthDescription::builder()
                        .target(TargetDescription::builder().id("i-0abc").port(32768).build())
                        .target_health(SdkTargetHealth::builder().state(TargetHealthStateEnum::Healthy).build())
                        .build(),
                )
                .target_health_descriptions(
                    TargetHealthDescription::builder()
                        .target(TargetDescription::builder().id("i-0def").port(32769).build())
                        .target_health(
                            SdkTargetHealth::builder()
                                .state(TargetHealthStateEnum::Unhealthy)
                                .reason(TargetHealthReasonEnum::FailedHealthChecks)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, [&rule]);
        let health = ElbSdk::new(client).describe_target_health(tg_arn("web")).await.unwrap();
        assert_eq!(
            health,
            vec![
                TargetHealth { target_id: "i-0abc".into(), port: Some(32768), state: "healthy".into(), reason: None },
                TargetHealth {
                    target_id: "i-0def".into(),
                    port: Some(32769),
                    state: "unhealthy".into(),
                    reason: Some("Target.FailedHealthChecks".into()),
                },
            ]
        );
    }

    #[tokio::test]
    async fn tags_are_added_20_arns_at_a_time() {
        let add = mock!(Client::add_tags)
            .match_requests(|r| r.resource_arns().len() <= 20 && r.tags().len() == 2)
            .then_output(|| aws_sdk_elasticloadbalancingv2::operation::add_tags::AddTagsOutput::builder().build());
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&add]);
        let elb = ElbSdk::new(client);
        let arns: Vec<String> = (0..21).map(|i| tg_arn(&format!("tg-{i}"))).collect();
        elb.add_tags(arns.clone(), tags(&[("a", "1"), ("b", "2")])).await.unwrap();
        assert_eq!(add.num_calls(), 2);
        elb.add_tags(arns, Tags::new()).await.unwrap();
        assert_eq!(add.num_calls(), 2, "no tags, no call");
    }

    #[tokio::test]
    async fn listener_certificates_leave_the_default_out_and_add_and_remove_by_arn() {
        use aws_sdk_elasticloadbalancingv2::operation::add_listener_certificates::AddListenerCertificatesOutput;
        use aws_sdk_elasticloadbalancingv2::operation::describe_listener_certificates::DescribeListenerCertificatesOutput;
        use aws_sdk_elasticloadbalancingv2::operation::remove_listener_certificates::RemoveListenerCertificatesOutput;
        fn acm(n: u8) -> String {
            format!("arn:aws:acm:us-west-2:123456789012:certificate/0000000{n}-aaaa-bbbb-cccc-dddddddddddd")
        }
        fn cert(n: u8, default: bool) -> Certificate {
            Certificate::builder().certificate_arn(acm(n)).is_default(default).build()
        }
        let first = mock!(Client::describe_listener_certificates)
            .match_requests(|r| r.listener_arn() == Some(listener_arn(443).as_str()) && r.marker().is_none())
            .then_output(move || {
                DescribeListenerCertificatesOutput::builder()
                    .certificates(cert(1, true))
                    .certificates(cert(2, false))
                    .next_marker("m")
                    .build()
            });
        let second = mock!(Client::describe_listener_certificates)
            .match_requests(|r| r.marker() == Some("m"))
            .then_output(move || DescribeListenerCertificatesOutput::builder().certificates(cert(3, false)).build());
        let add = mock!(Client::add_listener_certificates)
            .match_requests(move |r| {
                r.listener_arn() == Some(listener_arn(443).as_str())
                    && r.certificates().len() == 1
                    && r.certificates()[0].certificate_arn() == Some(acm(4).as_str())
            })
            .then_output(|| AddListenerCertificatesOutput::builder().build());
        let remove = mock!(Client::remove_listener_certificates)
            .match_requests(move |r| {
                r.certificates().len() == 1 && r.certificates()[0].certificate_arn() == Some(acm(2).as_str())
            })
            .then_output(|| RemoveListenerCertificatesOutput::builder().build());
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&first, &second, &add, &remove]);
        let elb = ElbSdk::new(client);
        let found = elb.describe_listener_certificates(listener_arn(443)).await.unwrap();
        let arns: Vec<&str> = found.iter().map(|f| f.props.certificate_arn.as_str()).collect();
        assert_eq!(arns, [acm(2), acm(3)], "the default certificate is the listener's, not an extra one");
        assert_eq!(found[0].props.listener_arn, value(&listener_arn(443)));
        assert_eq!(found[0].id, format!("{} {}", listener_arn(443), acm(2)));
        assert_eq!(found[0].arn.as_deref(), Some(acm(2).as_str()));
        elb.add_listener_certificates(listener_arn(443), vec![acm(4)]).await.unwrap();
        elb.remove_listener_certificates(listener_arn(443), vec![acm(2)]).await.unwrap();
        assert_eq!((first.num_calls(), second.num_calls(), add.num_calls(), remove.num_calls()), (1, 1, 1, 1));
    }

    #[tokio::test]
    async fn an_https_listener_sends_its_certificate_and_policy_and_a_redirect_reads_back() {
        use aws_sdk_elasticloadbalancingv2::operation::create_listener::CreateListenerOutput;
        let cert = "arn:aws:iam::123456789012:server-certificate/shop";
        let create = mock!(Client::create_listener)
            .match_requests(move |r| {
                r.protocol() == Some(&ProtocolEnum::Https)
                    && r.port() == Some(443)
                    && r.ssl_policy() == Some("ELBSecurityPolicy-TLS13-1-2-2021-06")
                    && r.certificates().len() == 1
                    && r.certificates()[0].certificate_arn() == Some(cert)
                    && r.default_actions()[0].target_group_arn() == Some(tg_arn("web").as_str())
            })
            .then_output(|| {
                CreateListenerOutput::builder()
                    .listeners(Listener::builder().listener_arn(listener_arn(443)).build())
                    .build()
            });
        let redirecting = mock!(Client::create_listener)
            .match_requests(|r| {
                let config = r.default_actions()[0].redirect_config();
                r.protocol() == Some(&ProtocolEnum::Http)
                    && r.certificates().is_empty()
                    && r.ssl_policy().is_none()
                    && r.default_actions()[0].r#type() == Some(&ActionTypeEnum::Redirect)
                    && config.and_then(RedirectActionConfig::protocol) == Some("HTTPS")
                    && config.and_then(RedirectActionConfig::port) == Some("443")
                    && config.and_then(RedirectActionConfig::status_code)
                        == Some(&RedirectActionStatusCodeEnum::Http301)
            })
            .then_output(|| {
                CreateListenerOutput::builder()
                    .listeners(Listener::builder().listener_arn(listener_arn(80)).build())
                    .build()
            });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&create, &redirecting]);
        let elb = ElbSdk::new(client);
        let https = ListenerProps {
            load_balancer_arn: value(&lb_arn("shop")),
            protocol: "HTTPS".into(),
            port: 443,
            default_target_group_arn: Some(value(&tg_arn("web"))),
            redirect: None,
            fixed_response: None,
            certificate_arn: Some(cert.into()),
            ssl_policy: Some("ELBSecurityPolicy-TLS13-1-2-2021-06".into()),
        };
        assert_eq!(elb.create_listener(https, Tags::new()).await.unwrap(), listener_arn(443));
        let to_https = Redirect { protocol: "HTTPS".into(), port: "443".into(), status_code: "HTTP_301".into() };
        let http = ListenerProps {
            load_balancer_arn: value(&lb_arn("shop")),
            protocol: "HTTP".into(),
            port: 80,
            default_target_group_arn: None,
            redirect: Some(to_https.clone()),
            fixed_response: None,
            certificate_arn: None,
            ssl_policy: None,
        };
        assert_eq!(elb.create_listener(http, Tags::new()).await.unwrap(), listener_arn(80));
        // Read back: the redirect AWS echoes, with its `#{host}` placeholders, is the props' redirect.
        let live = Listener::builder()
            .listener_arn(listener_arn(80))
            .protocol(ProtocolEnum::Http)
            .port(80)
            .ssl_policy("ELBSecurityPolicy-2016-08")
            .default_actions(redirect(&to_https))
            .build();
        let props = listener_props(&live, &lb_arn("shop"));
        assert_eq!((props.redirect, props.default_target_group_arn), (Some(to_https), None));
        assert_eq!(props.ssl_policy, None, "a plain HTTP listener has no security policy");
    }

    #[tokio::test]
    async fn the_test_listener_answers_404_with_a_fixed_response_and_reads_it_back() {
        use aws_sdk_elasticloadbalancingv2::operation::create_listener::CreateListenerOutput;
        let create = mock!(Client::create_listener)
            .match_requests(|r| {
                let config = r.default_actions()[0].fixed_response_config();
                r.port() == Some(8080)
                    && r.default_actions().len() == 1
                    && r.default_actions()[0].r#type() == Some(&ActionTypeEnum::FixedResponse)
                    && r.default_actions()[0].target_group_arn().is_none()
                    && config.and_then(FixedResponseActionConfig::status_code) == Some("404")
                    && config.and_then(FixedResponseActionConfig::content_type) == Some("text/plain")
            })
            .then_output(|| {
                CreateListenerOutput::builder()
                    .listeners(Listener::builder().listener_arn(listener_arn(8080)).build())
                    .build()
            });
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, [&create]);
        let not_found = FixedResponse {
            status_code: "404".into(),
            content_type: "text/plain".into(),
            message_body: "no test route".into(),
        };
        let props = ListenerProps {
            load_balancer_arn: value(&lb_arn("shop")),
            protocol: "HTTP".into(),
            port: 8080,
            default_target_group_arn: None,
            redirect: None,
            fixed_response: Some(not_found.clone()),
            certificate_arn: None,
            ssl_policy: None,
        };
        assert_eq!(ElbSdk::new(client).create_listener(props.clone(), Tags::new()).await.unwrap(), listener_arn(8080));
        assert_eq!(create.num_calls(), 1);
        let live = Listener::builder()
            .listener_arn(listener_arn(8080))
            .load_balancer_arn(lb_arn("shop"))
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .default_actions(fixed(&not_found))
            .build();
        assert_eq!(listener_props(&live, &lb_arn("shop")), props);
    }

    #[tokio::test]
    async fn a_host_rule_sends_a_host_header_condition_and_reads_it_back() {
        let rule = mock!(Client::create_rule)
            .match_requests(|r| {
                let c = r.conditions();
                c.len() == 2
                    && c[0].field() == Some("host-header")
                    && c[0].host_header_config().map(HostHeaderConditionConfig::values)
                        == Some(&["api.example.com".to_owned()][..])
                    && c[1].field() == Some("path-pattern")
            })
            .then_output(|| CreateRuleOutput::builder().rules(Rule::builder().rule_arn(rule_arn(1)).build()).build());
        let client = mock_client!(aws_sdk_elasticloadbalancingv2, [&rule]);
        let props = ListenerRuleProps {
            listener_arn: value(&listener_arn(443)),
            priority: 24001,
            path_patterns: vec!["/v1".into(), "/v1/*".into()],
            host_headers: vec!["api.example.com".into()],
            target_group_arn: value(&tg_arn("api")),
            alternate_target_group_arn: None,
        };
        ElbSdk::new(client).create_rule(props.clone(), Tags::new()).await.unwrap();
        // AWS echoes the host in the config and in the legacy `Values`: one host.
        let echoed = RuleCondition::builder()
            .field("host-header")
            .values("api.example.com")
            .host_header_config(HostHeaderConditionConfig::builder().values("api.example.com").build())
            .build();
        assert_eq!(host_headers(&[echoed, path_condition(&props.path_patterns)]), ["api.example.com"]);
    }
}
