//! The fake's Elastic Load Balancing v2: load balancers, target groups, listeners, rules.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::ec2::Ec2State;
use super::{aws_error, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, Timing};
use crate::aws::{literal, AwsResult, ElbApi, Found, Tags, TargetHealth};
use crate::graph::props::{
    ListenerCertificateProps, ListenerProps, ListenerRuleProps, LoadBalancerProps, RefOr, TargetGroupProps,
    TargetHealthCheck,
};
use crate::graph::ResourceType;

const SERVICE: &str = "elbv2";

#[derive(Debug, Clone)]
pub(crate) struct Lb {
    props: LoadBalancerProps,
    dns: String,
    state: String,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Tg {
    props: TargetGroupProps,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Listener {
    props: ListenerProps,
    /// Certificates served by SNI beside the default one.
    extra_certificates: Vec<String>,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    props: ListenerRuleProps,
    meta: Meta,
    /// Weights of the target group and of the alternate one, when it forwards to both.
    weights: (u32, u32),
}

impl Rule {
    /// The properties as DescribeRules reads them: the heavier target group first.
    fn described(&self) -> ListenerRuleProps {
        let mut p = self.props.clone();
        if let Some(alternate) = p.alternate_target_group_arn.as_mut() {
            if self.weights.1 > self.weights.0 {
                std::mem::swap(alternate, &mut p.target_group_arn);
            }
        }
        p
    }
}

/// ELBv2 objects by ARN.
#[derive(Debug, Default)]
pub(crate) struct ElbState {
    lbs: BTreeMap<String, Lb>,
    tgs: BTreeMap<String, Tg>,
    listeners: BTreeMap<String, Listener>,
    rules: BTreeMap<String, Rule>,
}

fn value(v: &RefOr<String>) -> String {
    match v {
        RefOr::Value(v) => v.clone(),
        RefOr::Ref(r) => format!("{r:?}"),
    }
}

fn values(v: &[RefOr<String>]) -> BTreeSet<String> {
    v.iter().map(value).collect()
}

impl ElbState {
    /// For the target group `arn`: how long a new target takes to turn healthy
    /// (healthy threshold x interval) and an old one drains (deregistration delay).
    pub fn rollout_times(&self, arn: &str) -> Option<(Duration, Duration)> {
        let p = &self.tgs.get(arn)?.props;
        let healthy = u64::from(p.health_check.healthy_threshold_count) * u64::from(p.health_check.interval_seconds);
        Some((Duration::from_secs(healthy), Duration::from_secs(u64::from(p.deregistration_delay_seconds))))
    }

    pub fn advance(&mut self, now: Instant, timing: Timing) {
        for lb in self.lbs.values_mut() {
            if lb.state == "provisioning" && now.saturating_duration_since(lb.meta.created) >= timing.load_balancer {
                lb.state = "active".into();
            }
        }
    }

    /// Whether an internet-facing load balancer has addresses in `vpc`.
    pub fn public_in(&self, vpc: &str, ec2: &Ec2State) -> bool {
        self.lbs.values().any(|lb| {
            lb.props.scheme == "internet-facing"
                && lb.props.subnets.iter().any(|s| ec2.subnets.get(&value(s)).is_some_and(|x| x.vpc == vpc))
        })
    }

    /// Whether a load balancer sits in `subnet`.
    pub fn uses_subnet(&self, subnet: &str) -> bool {
        self.lbs.values().any(|lb| lb.props.subnets.iter().any(|s| value(s) == subnet))
    }

    /// Whether a load balancer has `group`.
    pub fn uses_group(&self, group: &str) -> bool {
        self.lbs.values().any(|lb| lb.props.security_groups.iter().any(|s| value(s) == group))
    }

    /// The load balancers forwarding to the target group `arn`.
    pub fn load_balancers_of(&self, tg: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for l in self.listeners.values() {
            if l.props.default_target_group_arn.as_ref().map(value).as_deref() == Some(tg) {
                out.insert(value(&l.props.load_balancer_arn));
            }
        }
        for r in self.rules.values() {
            if value(&r.props.target_group_arn) == tg
                || r.props.alternate_target_group_arn.as_ref().map(value).as_deref() == Some(tg)
            {
                if let Some(l) = self.listeners.get(&value(&r.props.listener_arn)) {
                    out.insert(value(&l.props.load_balancer_arn));
                }
            }
        }
        out
    }

    /// Sets the weights of the rule `arn` forwarding to two target groups: `weight` (of
    /// 1000) to the target group `tg`, the rest to the other one.
    pub fn set_weight(&mut self, arn: &str, tg: &str, weight: u32) {
        let Some(r) = self.rules.get_mut(arn) else { return };
        if r.props.alternate_target_group_arn.is_none() {
            return;
        }
        let rest = 1000u32.saturating_sub(weight);
        r.weights = if value(&r.props.target_group_arn) == tg { (weight, rest) } else { (rest, weight) };
    }

    /// The target groups the rule `arn` forwards to, with their weights.
    pub fn forwards(&self, arn: &str) -> Vec<(String, u32)> {
        let Some(r) = self.rules.get(arn) else { return Vec::new() };
        let mut out = vec![(value(&r.props.target_group_arn), r.weights.0)];
        if let Some(a) = &r.props.alternate_target_group_arn {
            out.push((value(a), r.weights.1));
        }
        out
    }

    /// Whether the target group `arn` exists.
    pub fn has_target_group(&self, arn: &str) -> bool {
        self.tgs.contains_key(arn)
    }

    /// The load balancers and target groups (type, ARN, tags), for the tagging index.
    pub fn indexed(&self, each: &mut dyn FnMut(&'static str, &str, &Tags)) {
        for (arn, x) in &self.lbs {
            each("elasticloadbalancing:loadbalancer", arn, &x.meta.tags);
        }
        for (arn, x) in &self.tgs {
            each("elasticloadbalancing:targetgroup", arn, &x.meta.tags);
        }
    }

    fn tags_of(&mut self, arn: &str) -> Option<&mut Tags> {
        if let Some(x) = self.lbs.get_mut(arn) {
            return Some(&mut x.meta.tags);
        }
        if let Some(x) = self.tgs.get_mut(arn) {
            return Some(&mut x.meta.tags);
        }
        if let Some(x) = self.listeners.get_mut(arn) {
            return Some(&mut x.meta.tags);
        }
        self.rules.get_mut(arn).map(|x| &mut x.meta.tags)
    }

    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (arn, x) in &self.lbs {
            push(out, ResourceType::LoadBalancer, arn, Some(&x.props.name), Some(&x.state), &x.meta.tags);
        }
        for (arn, x) in &self.tgs {
            push(out, ResourceType::TargetGroup, arn, Some(&x.props.name), None, &x.meta.tags);
        }
        for (arn, x) in &self.listeners {
            push(out, ResourceType::Listener, arn, None, None, &x.meta.tags);
            for cert in &x.extra_certificates {
                push(out, ResourceType::ListenerCertificate, &format!("{arn} {cert}"), None, None, &Tags::new());
            }
        }
        for (arn, x) in &self.rules {
            push(out, ResourceType::ListenerRule, arn, None, None, &x.meta.tags);
        }
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> crate::aws::AwsError {
    aws_error(SERVICE, operation, code, message)
}

fn lit(v: &RefOr<String>, operation: &str) -> AwsResult<String> {
    literal(v, SERVICE, operation).map(str::to_owned)
}

/// ELB names: up to 32 letters, digits and hyphens, not at either end.
fn check_name(name: &str, operation: &str) -> AwsResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.starts_with("internal-");
    if ok {
        Ok(())
    } else {
        Err(err(operation, "ValidationError", format!("name '{name}' is not valid")))
    }
}

fn no_lb(operation: &str) -> crate::aws::AwsError {
    err(operation, "LoadBalancerNotFound", "One or more load balancers not found")
}

fn no_tg(operation: &str) -> crate::aws::AwsError {
    err(operation, "TargetGroupNotFound", "One or more target groups not found")
}

fn no_listener(operation: &str) -> crate::aws::AwsError {
    err(operation, "ListenerNotFound", "One or more listeners not found")
}

fn no_rule(operation: &str) -> crate::aws::AwsError {
    err(operation, "RuleNotFound", "One or more rules not found")
}

/// What CreateListener and ModifyListener check of a listener's settings: one default
/// action, a target group that exists and belongs to no other load balancer, and for
/// HTTPS a certificate and a security policy.
fn check_listener(elb: &ElbState, props: &ListenerProps, lb_arn: Option<&str>, operation: &str) -> AwsResult<()> {
    match (&props.default_target_group_arn, &props.redirect, &props.fixed_response) {
        (Some(tg), None, None) => {
            let tg = lit(tg, operation)?;
            if !elb.tgs.contains_key(&tg) {
                return Err(no_tg(operation));
            }
            if elb.load_balancers_of(&tg).iter().any(|other| Some(other.as_str()) != lb_arn) {
                return Err(err(
                    operation,
                    "TargetGroupAssociationLimit",
                    "The target group is already used by another load balancer",
                ));
            }
        }
        (None, Some(_), None) => {}
        (None, None, Some(f)) => {
            if !(200..=599).contains(&f.status_code.parse::<u16>().unwrap_or(0)) {
                return Err(err(
                    operation,
                    "ValidationError",
                    "FixedResponseConfig.StatusCode must be 2XX, 4XX or 5XX",
                ));
            }
        }
        _ => return Err(err(operation, "ValidationError", "a listener needs exactly one default action")),
    }
    match (props.protocol.as_str(), &props.certificate_arn, &props.ssl_policy) {
        ("HTTPS", Some(cert), Some(_)) if cert.starts_with("arn:") => Ok(()),
        ("HTTPS", _, _) => Err(err(
            operation,
            "CertificateNotFound",
            "You must provide a list containing exactly one certificate if the listener protocol is HTTPS.",
        )),
        (_, Some(_), _) => Err(err(operation, "ValidationError", "certificates are for HTTPS listeners only")),
        _ => Ok(()),
    }
}

/// The sorted form AWS reads a load balancer back in.
fn normal_lb(mut props: LoadBalancerProps) -> LoadBalancerProps {
    props.subnets = values(&props.subnets).into_iter().map(RefOr::Value).collect();
    props.security_groups = values(&props.security_groups).into_iter().map(RefOr::Value).collect();
    props
}

#[async_trait]
impl ElbApi for Fake {
    async fn describe_load_balancers(&self, names: Vec<String>) -> AwsResult<Vec<Found<LoadBalancerProps>>> {
        let mut s = self.begin(SERVICE, "DescribeLoadBalancers").await?;
        let mut out = Vec::new();
        for (arn, lb) in &mut s.elb.lbs {
            if !names.contains(&lb.props.name) || !visible(&mut lb.meta) {
                continue;
            }
            let mut f = Found::new(arn.clone(), lb.props.clone());
            f.arn = Some(arn.clone());
            f.state = Some(lb.state.clone());
            f.attrs.insert("dns_name".into(), lb.dns.clone());
            out.push(f);
        }
        Ok(out)
    }

    async fn create_load_balancer(&self, props: LoadBalancerProps, tags: Tags) -> AwsResult<(String, String)> {
        const OP: &str = "CreateLoadBalancer";
        let mut s = self.begin(SERVICE, OP).await?;
        check_name(&props.name, OP)?;
        let mut props = normal_lb(props);
        props.idle_timeout_seconds = 60;
        if let Some((arn, lb)) = s.elb.lbs.iter().find(|(_, lb)| lb.props.name == props.name) {
            let same = LoadBalancerProps { idle_timeout_seconds: lb.props.idle_timeout_seconds, ..props.clone() };
            if lb.props == same {
                return Ok((arn.clone(), lb.dns.clone()));
            }
            return Err(err(
                OP,
                "DuplicateLoadBalancerName",
                "A load balancer with the same name exists but with different settings",
            ));
        }
        let subnets = props.subnets.iter().map(|x| lit(x, OP)).collect::<AwsResult<Vec<_>>>()?;
        let mut zones = BTreeSet::new();
        let mut vpcs = BTreeSet::new();
        for id in &subnets {
            let x = s
                .ec2
                .subnets
                .get(id)
                .ok_or_else(|| err(OP, "SubnetNotFound", format!("The subnet ID '{id}' is not valid")))?;
            if !zones.insert(x.zone.clone()) {
                return Err(err(
                    OP,
                    "InvalidConfigurationRequest",
                    "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
                ));
            }
            vpcs.insert(x.vpc.clone());
        }
        if zones.len() < 2 && props.lb_type == "application" {
            return Err(err(
                OP,
                "ValidationError",
                "At least two subnets in two different Availability Zones must be specified",
            ));
        }
        let vpc = vpcs.into_iter().next().unwrap_or_default();
        for g in &props.security_groups {
            let g = lit(g, OP)?;
            if s.ec2.groups.get(&g).is_none_or(|x| x.vpc != vpc) {
                return Err(err(OP, "InvalidSecurityGroup", format!("Security group '{g}' does not exist")));
            }
        }
        let attached = s.ec2.igw_attached(&vpc);
        if props.scheme == "internet-facing" && !attached {
            return Err(err(OP, "InvalidSubnet", format!("VPC {vpc} has no internet gateway")));
        }
        let hex = s.hex(16);
        let arn = self.arn("elasticloadbalancing", &format!("loadbalancer/app/{}/{hex}", props.name));
        let number = s.next() * 7_919 % 1_000_000_000;
        let internal = if props.scheme == "internal" { "internal-" } else { "" };
        let dns = format!("{internal}{}-{number}.{}.elb.amazonaws.com", props.name, self.region);
        let meta = s.meta(OP, tags);
        s.elb.lbs.insert(arn.clone(), Lb { props, dns: dns.clone(), state: "provisioning".into(), meta });
        let timing = s.timing;
        s.elb.advance(Instant::now(), timing);
        Ok((arn, dns))
    }

    async fn set_idle_timeout(&self, arn: String, seconds: u32) -> AwsResult<()> {
        const OP: &str = "ModifyLoadBalancerAttributes";
        let mut s = self.begin(SERVICE, OP).await?;
        if !(1..=4000).contains(&seconds) {
            return Err(err(OP, "InvalidConfigurationRequest", "idle timeout must be 1 to 4000 seconds"));
        }
        s.elb.lbs.get_mut(&arn).ok_or_else(|| no_lb(OP))?.props.idle_timeout_seconds = seconds;
        Ok(())
    }

    async fn set_security_groups(&self, arn: String, group_ids: Vec<String>) -> AwsResult<()> {
        const OP: &str = "SetSecurityGroups";
        let mut s = self.begin(SERVICE, OP).await?;
        for g in &group_ids {
            if !s.ec2.groups.contains_key(g) {
                return Err(err(OP, "InvalidSecurityGroup", format!("Security group '{g}' does not exist")));
            }
        }
        let lb = s.elb.lbs.get_mut(&arn).ok_or_else(|| no_lb(OP))?;
        lb.props.security_groups =
            group_ids.into_iter().collect::<BTreeSet<_>>().into_iter().map(RefOr::Value).collect();
        Ok(())
    }

    async fn set_subnets(&self, arn: String, subnet_ids: Vec<String>) -> AwsResult<()> {
        const OP: &str = "SetSubnets";
        let mut s = self.begin(SERVICE, OP).await?;
        for x in &subnet_ids {
            if !s.ec2.subnets.contains_key(x) {
                return Err(err(OP, "SubnetNotFound", format!("The subnet ID '{x}' is not valid")));
            }
        }
        let lb = s.elb.lbs.get_mut(&arn).ok_or_else(|| no_lb(OP))?;
        lb.props.subnets = subnet_ids.into_iter().collect::<BTreeSet<_>>().into_iter().map(RefOr::Value).collect();
        Ok(())
    }

    async fn delete_load_balancer(&self, arn: String) -> AwsResult<()> {
        const OP: &str = "DeleteLoadBalancer";
        let mut s = self.begin(SERVICE, OP).await?;
        // Deleting a load balancer that does not exist succeeds.
        let Some(lb) = s.elb.lbs.remove(&arn) else { return Ok(()) };
        let listeners: Vec<String> = s
            .elb
            .listeners
            .iter()
            .filter(|(_, l)| value(&l.props.load_balancer_arn) == arn)
            .map(|(a, _)| a.clone())
            .collect();
        s.elb.rules.retain(|_, r| !listeners.contains(&value(&r.props.listener_arn)));
        s.elb.listeners.retain(|a, _| !listeners.contains(a));
        // Its network interfaces linger a while.
        let mut held: Vec<String> = values(&lb.props.subnets).into_iter().collect();
        held.extend(values(&lb.props.security_groups));
        let vpcs: BTreeSet<String> = held.iter().filter_map(|x| s.ec2.subnets.get(x).map(|x| x.vpc.clone())).collect();
        held.extend(vpcs);
        let until = Instant::now() + s.timing.eni_linger;
        s.lingering.push((until, held));
        Ok(())
    }

    async fn describe_target_groups(&self, names: Vec<String>) -> AwsResult<Vec<Found<TargetGroupProps>>> {
        let mut s = self.begin(SERVICE, "DescribeTargetGroups").await?;
        let users: BTreeMap<String, BTreeSet<String>> =
            s.elb.tgs.keys().map(|arn| (arn.clone(), s.elb.load_balancers_of(arn))).collect();
        let mut out = Vec::new();
        for (arn, tg) in &mut s.elb.tgs {
            if !names.contains(&tg.props.name) || !visible(&mut tg.meta) {
                continue;
            }
            let mut f = Found::new(arn.clone(), tg.props.clone());
            f.arn = Some(arn.clone());
            let lbs: Vec<String> = users.get(arn).cloned().unwrap_or_default().into_iter().collect();
            f.attrs.insert("load_balancer_arns".into(), lbs.join(","));
            out.push(f);
        }
        Ok(out)
    }

    async fn create_target_group(&self, props: TargetGroupProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateTargetGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        check_name(&props.name, OP)?;
        // The contract of `ElbApi::create_target_group`: every declared property, the
        // deregistration delay included (the adapter sets it right after the create).
        if let Some((arn, tg)) = s.elb.tgs.iter().find(|(_, tg)| tg.props.name == props.name) {
            let same = TargetGroupProps {
                deregistration_delay_seconds: tg.props.deregistration_delay_seconds,
                ..props.clone()
            };
            if tg.props == same {
                return Ok(arn.clone());
            }
            return Err(err(
                OP,
                "DuplicateTargetGroupName",
                "A target group with the same name exists, but with different settings",
            ));
        }
        let vpc = lit(&props.vpc_id, OP)?;
        if !s.ec2.vpcs.contains_key(&vpc) {
            return Err(err(OP, "ValidationError", format!("The VPC ID '{vpc}' is not found")));
        }
        if props.health_check.timeout_seconds >= props.health_check.interval_seconds {
            return Err(err(OP, "ValidationError", "Health check timeout must be smaller than the interval"));
        }
        let hex = s.hex(16);
        let arn = self.arn("elasticloadbalancing", &format!("targetgroup/{}/{hex}", props.name));
        let meta = s.meta(OP, tags);
        s.elb.tgs.insert(arn.clone(), Tg { props, meta });
        Ok(arn)
    }

    async fn modify_target_group(&self, arn: String, health_check: TargetHealthCheck) -> AwsResult<()> {
        const OP: &str = "ModifyTargetGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        s.elb.tgs.get_mut(&arn).ok_or_else(|| no_tg(OP))?.props.health_check = health_check;
        Ok(())
    }

    async fn set_deregistration_delay(&self, arn: String, seconds: u32) -> AwsResult<()> {
        const OP: &str = "ModifyTargetGroupAttributes";
        let mut s = self.begin(SERVICE, OP).await?;
        if seconds > 3600 {
            return Err(err(OP, "InvalidConfigurationRequest", "deregistration delay must be 0 to 3600 seconds"));
        }
        s.elb.tgs.get_mut(&arn).ok_or_else(|| no_tg(OP))?.props.deregistration_delay_seconds = seconds;
        Ok(())
    }

    async fn delete_target_group(&self, arn: String) -> AwsResult<()> {
        const OP: &str = "DeleteTargetGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.elb.tgs.contains_key(&arn) {
            return Err(no_tg(OP));
        }
        if let Some(lb) = s.elb.load_balancers_of(&arn).into_iter().next() {
            return Err(err(
                OP,
                "ResourceInUse",
                format!("Target group '{arn}' is currently in use by a listener or a rule of {lb}"),
            ));
        }
        s.elb.tgs.remove(&arn);
        Ok(())
    }

    async fn describe_target_health(&self, arn: String) -> AwsResult<Vec<TargetHealth>> {
        const OP: &str = "DescribeTargetHealth";
        let s = self.begin(SERVICE, OP).await?;
        if !s.elb.tgs.contains_key(&arn) {
            return Err(no_tg(OP));
        }
        let running = s.ecs.tasks_behind(&arn);
        Ok((0..running)
            .map(|i| TargetHealth {
                target_id: format!("i-{:017x}", u64::from(i) + 1),
                port: Some(32768 + i32::try_from(i).unwrap_or(0)),
                state: "healthy".into(),
                reason: None,
            })
            .collect())
    }

    async fn describe_listeners(&self, load_balancer_arn: String) -> AwsResult<Vec<Found<ListenerProps>>> {
        const OP: &str = "DescribeListeners";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.elb.lbs.contains_key(&load_balancer_arn) {
            return Err(no_lb(OP));
        }
        let mut out = Vec::new();
        for (arn, l) in &mut s.elb.listeners {
            if value(&l.props.load_balancer_arn) != load_balancer_arn || !visible(&mut l.meta) {
                continue;
            }
            let mut f = Found::new(arn.clone(), l.props.clone());
            f.arn = Some(arn.clone());
            out.push(f);
        }
        Ok(out)
    }

    async fn create_listener(&self, props: ListenerProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateListener";
        let mut s = self.begin(SERVICE, OP).await?;
        let lb_arn = lit(&props.load_balancer_arn, OP)?;
        if !s.elb.lbs.contains_key(&lb_arn) {
            return Err(no_lb(OP));
        }
        check_listener(&s.elb, &props, Some(&lb_arn), OP)?;
        if let Some((arn, l)) = s
            .elb
            .listeners
            .iter()
            .find(|(_, l)| value(&l.props.load_balancer_arn) == lb_arn && l.props.port == props.port)
        {
            if l.props == props {
                return Ok(arn.clone());
            }
            return Err(err(OP, "DuplicateListener", "A listener already exists on this port for this load balancer"));
        }
        let suffix = lb_arn.split_once("loadbalancer/").map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        let hex = s.hex(16);
        let arn = self.arn("elasticloadbalancing", &format!("listener/{suffix}/{hex}"));
        let meta = s.meta(OP, tags);
        s.elb.listeners.insert(arn.clone(), Listener { props, extra_certificates: Vec::new(), meta });
        Ok(arn)
    }

    async fn modify_listener(&self, arn: String, props: ListenerProps) -> AwsResult<()> {
        const OP: &str = "ModifyListener";
        let mut s = self.begin(SERVICE, OP).await?;
        let lb_arn = value(&s.elb.listeners.get(&arn).ok_or_else(|| no_listener(OP))?.props.load_balancer_arn);
        check_listener(&s.elb, &props, Some(&lb_arn), OP)?;
        let l = s.elb.listeners.get_mut(&arn).ok_or_else(|| no_listener(OP))?;
        let load_balancer_arn = l.props.load_balancer_arn.clone();
        l.props = ListenerProps { load_balancer_arn, ..props };
        Ok(())
    }

    async fn delete_listener(&self, arn: String) -> AwsResult<()> {
        const OP: &str = "DeleteListener";
        let mut s = self.begin(SERVICE, OP).await?;
        s.elb.listeners.remove(&arn).ok_or_else(|| no_listener(OP))?;
        s.elb.rules.retain(|_, r| value(&r.props.listener_arn) != arn);
        Ok(())
    }

    async fn describe_listener_certificates(
        &self,
        listener_arn: String,
    ) -> AwsResult<Vec<Found<ListenerCertificateProps>>> {
        const OP: &str = "DescribeListenerCertificates";
        let s = self.begin(SERVICE, OP).await?;
        let l = s.elb.listeners.get(&listener_arn).ok_or_else(|| no_listener(OP))?;
        Ok(l.extra_certificates
            .iter()
            .map(|arn| {
                let props = ListenerCertificateProps {
                    listener_arn: RefOr::Value(listener_arn.clone()),
                    certificate_arn: arn.clone(),
                };
                let mut f = Found::new(format!("{listener_arn} {arn}"), props);
                f.arn = Some(arn.clone());
                f
            })
            .collect())
    }

    async fn add_listener_certificates(&self, listener_arn: String, certificate_arns: Vec<String>) -> AwsResult<()> {
        const OP: &str = "AddListenerCertificates";
        let mut s = self.begin(SERVICE, OP).await?;
        let l = s.elb.listeners.get_mut(&listener_arn).ok_or_else(|| no_listener(OP))?;
        if l.props.protocol != "HTTPS" {
            return Err(err(OP, "ValidationError", "certificates can only be added to HTTPS listeners"));
        }
        for arn in certificate_arns {
            if !arn.starts_with("arn:") {
                return Err(err(OP, "CertificateNotFound", format!("Certificate '{arn}' not found")));
            }
            if !l.extra_certificates.contains(&arn) {
                l.extra_certificates.push(arn);
            }
        }
        if l.extra_certificates.len() > 25 {
            return Err(err(
                OP,
                "TooManyCertificates",
                "You've reached the limit on the number of certificates per load balancer",
            ));
        }
        Ok(())
    }

    async fn remove_listener_certificates(&self, listener_arn: String, certificate_arns: Vec<String>) -> AwsResult<()> {
        const OP: &str = "RemoveListenerCertificates";
        let mut s = self.begin(SERVICE, OP).await?;
        let l = s.elb.listeners.get_mut(&listener_arn).ok_or_else(|| no_listener(OP))?;
        l.extra_certificates.retain(|c| !certificate_arns.contains(c));
        Ok(())
    }

    async fn describe_rules(&self, listener_arn: String) -> AwsResult<Vec<Found<ListenerRuleProps>>> {
        const OP: &str = "DescribeRules";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.elb.listeners.contains_key(&listener_arn) {
            return Err(no_listener(OP));
        }
        let mut out = Vec::new();
        for (arn, r) in &mut s.elb.rules {
            if value(&r.props.listener_arn) != listener_arn || !visible(&mut r.meta) {
                continue;
            }
            let mut f = Found::new(arn.clone(), r.described());
            f.arn = Some(arn.clone());
            out.push(f);
        }
        Ok(out)
    }

    async fn create_rule(&self, props: ListenerRuleProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateRule";
        let mut s = self.begin(SERVICE, OP).await?;
        let listener = lit(&props.listener_arn, OP)?;
        let tg = lit(&props.target_group_arn, OP)?;
        let Some(l) = s.elb.listeners.get(&listener) else { return Err(no_listener(OP)) };
        let lb_arn = value(&l.props.load_balancer_arn);
        let alternate = props.alternate_target_group_arn.as_ref().map(|a| lit(a, OP)).transpose()?;
        if !s.elb.tgs.contains_key(&tg) || alternate.as_ref().is_some_and(|a| !s.elb.tgs.contains_key(a)) {
            return Err(no_tg(OP));
        }
        if alternate.as_ref() == Some(&tg) {
            return Err(err(OP, "ValidationError", "A target group can be specified only once in a forward action"));
        }
        if s.elb.load_balancers_of(&tg).iter().any(|other| *other != lb_arn) {
            return Err(err(
                OP,
                "TargetGroupAssociationLimit",
                "The target group is already used by another load balancer",
            ));
        }
        if !(1..=50_000).contains(&props.priority) {
            return Err(err(OP, "ValidationError", "priority must be 1 to 50000"));
        }
        if s.elb.rules.values().any(|r| value(&r.props.listener_arn) == listener && r.props.priority == props.priority)
        {
            return Err(err(OP, "PriorityInUse", format!("Priority '{}' is currently in use", props.priority)));
        }
        let suffix = listener.split_once("listener/").map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        let hex = s.hex(16);
        let arn = self.arn("elasticloadbalancing", &format!("listener-rule/{suffix}/{hex}"));
        let meta = s.meta(OP, tags);
        s.elb.rules.insert(arn.clone(), Rule { props, meta, weights: (1000, 0) });
        Ok(arn)
    }

    async fn modify_rule(&self, arn: String, props: ListenerRuleProps) -> AwsResult<()> {
        const OP: &str = "ModifyRule";
        let mut s = self.begin(SERVICE, OP).await?;
        let tg = lit(&props.target_group_arn, OP)?;
        if !s.elb.tgs.contains_key(&tg) {
            return Err(no_tg(OP));
        }
        let alternate = props.alternate_target_group_arn.as_ref().map(|a| lit(a, OP)).transpose()?;
        if alternate.as_ref().is_some_and(|a| !s.elb.tgs.contains_key(a)) {
            return Err(no_tg(OP));
        }
        let r = s.elb.rules.get_mut(&arn).ok_or_else(|| no_rule(OP))?;
        r.props.path_patterns = props.path_patterns;
        r.props.host_headers = props.host_headers;
        r.props.target_group_arn = RefOr::Value(tg);
        r.props.alternate_target_group_arn = alternate.map(RefOr::Value);
        // As sent: the target group all, the alternate nothing.
        r.weights = (1000, 0);
        Ok(())
    }

    async fn set_rule_priorities(&self, priorities: Vec<(String, u32)>) -> AwsResult<()> {
        const OP: &str = "SetRulePriorities";
        let mut s = self.begin(SERVICE, OP).await?;
        for (arn, priority) in &priorities {
            let listener = value(&s.elb.rules.get(arn).ok_or_else(|| no_rule(OP))?.props.listener_arn);
            let taken = s.elb.rules.iter().any(|(other, r)| {
                other != arn
                    && value(&r.props.listener_arn) == listener
                    && r.props.priority == *priority
                    && !priorities.iter().any(|(a, _)| a == other)
            });
            if taken {
                return Err(err(OP, "PriorityInUse", format!("Priority '{priority}' is currently in use")));
            }
        }
        for (arn, priority) in priorities {
            if let Some(r) = s.elb.rules.get_mut(&arn) {
                r.props.priority = priority;
            }
        }
        Ok(())
    }

    async fn delete_rule(&self, arn: String) -> AwsResult<()> {
        const OP: &str = "DeleteRule";
        let mut s = self.begin(SERVICE, OP).await?;
        s.elb.rules.remove(&arn).ok_or_else(|| no_rule(OP))?;
        Ok(())
    }

    async fn describe_tags(&self, arns: Vec<String>) -> AwsResult<BTreeMap<String, Tags>> {
        let mut s = self.begin(SERVICE, "DescribeTags").await?;
        Ok(arns.into_iter().filter_map(|arn| Some((arn.clone(), s.elb.tags_of(&arn)?.clone()))).collect())
    }

    async fn add_tags(&self, arns: Vec<String>, tags: Tags) -> AwsResult<()> {
        const OP: &str = "AddTags";
        let mut s = self.begin(SERVICE, OP).await?;
        for arn in &arns {
            if s.elb.tags_of(arn).is_none() {
                return Err(err(OP, "LoadBalancerNotFound", format!("{arn} not found")));
            }
        }
        for arn in &arns {
            if let Some(t) = s.elb.tags_of(arn) {
                merge_tags(t, tags.clone());
            }
        }
        Ok(())
    }

    async fn remove_tags(&self, arns: Vec<String>, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "RemoveTags";
        let mut s = self.begin(SERVICE, OP).await?;
        for arn in &arns {
            let t = s.elb.tags_of(arn).ok_or_else(|| err(OP, "LoadBalancerNotFound", format!("{arn} not found")))?;
            remove_tags(t, &keys);
        }
        Ok(())
    }
}
