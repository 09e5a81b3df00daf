//! The fake's EC2: VPCs, gateways, subnets, addresses, NAT gateways, route tables,
//! security groups and launch templates.

use std::collections::BTreeMap;

use async_trait::async_trait;
use ipnet::Ipv4Net;
use tokio::time::Instant;

use super::{aws_error, matches, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, Timing};
use crate::aws::{literal, AwsResult, Ec2Api, Filter, Found, Tags};
use crate::graph::props::{
    AvailabilityZone, EipProps, ImageSource, InternetGatewayProps, LaunchTemplateProps, NatGatewayProps, Peer, RefOr,
    Route, RouteTableProps, RouteTarget, SecurityGroupProps, SecurityGroupRule, SubnetProps, VpcProps,
};
use crate::graph::ResourceType;

const SERVICE: &str = "ec2";

#[derive(Debug, Clone)]
pub(crate) struct Vpc {
    cidr: String,
    dns_support: bool,
    dns_hostnames: bool,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Igw {
    vpc: Option<String>,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Subnet {
    pub vpc: String,
    cidr: String,
    pub zone: String,
    map_public: bool,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Address {
    public_ip: String,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Nat {
    pub subnet: String,
    allocation: String,
    connectivity: String,
    pub vpc: String,
    token: String,
    state: String,
    failure: Option<String>,
    since: Instant,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct RouteTable {
    vpc: String,
    routes: Vec<Route>,
    /// (association id, subnet id)
    associations: Vec<(String, String)>,
    main: bool,
    token: Option<String>,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    name: String,
    description: String,
    pub vpc: String,
    ingress: Vec<SecurityGroupRule>,
    egress: Vec<SecurityGroupRule>,
    default: bool,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Template {
    name: String,
    /// Versions from 1: the data and the AMI.
    versions: Vec<(LaunchTemplateProps, String)>,
    default_version: i64,
    /// Client tokens seen: of the create, and of each version.
    tokens: BTreeMap<String, i64>,
    meta: Meta,
}

impl Template {
    /// The security groups of its versions.
    pub fn groups(&self) -> impl Iterator<Item = String> + '_ {
        self.versions.iter().flat_map(|(p, _)| p.security_group_ids.iter()).filter_map(|g| match g {
            RefOr::Value(v) => Some(v.clone()),
            RefOr::Ref(_) => None,
        })
    }
}

/// EC2 objects by id.
#[derive(Debug, Default)]
pub(crate) struct Ec2State {
    pub zones: Vec<String>,
    pub vpcs: BTreeMap<String, Vpc>,
    pub igws: BTreeMap<String, Igw>,
    pub subnets: BTreeMap<String, Subnet>,
    pub addresses: BTreeMap<String, Address>,
    pub nats: BTreeMap<String, Nat>,
    pub tables: BTreeMap<String, RouteTable>,
    pub groups: BTreeMap<String, Group>,
    pub templates: BTreeMap<String, Template>,
}

impl Ec2State {
    pub fn advance(&mut self, now: Instant, timing: Timing) {
        let attached: Vec<String> = self.igws.values().filter_map(|g| g.vpc.clone()).collect();
        for nat in self.nats.values_mut() {
            let due = now.saturating_duration_since(nat.since) >= timing.nat_gateway;
            match nat.state.as_str() {
                "pending" if due => {
                    if attached.contains(&nat.vpc) {
                        nat.state = "available".into();
                    } else {
                        nat.state = "failed".into();
                        nat.failure = Some(format!("Network {} has no Internet gateway attached", nat.vpc));
                    }
                    nat.since = now;
                }
                "deleting" if due => {
                    nat.state = "deleted".into();
                    nat.since = now;
                }
                _ => {}
            }
        }
    }

    /// Whether an internet gateway is attached to `vpc`.
    pub fn igw_attached(&self, vpc: &str) -> bool {
        self.igws.values().any(|g| g.vpc.as_deref() == Some(vpc))
    }

    /// The user data of a launch template's default version.
    pub fn user_data(&self, template: &str) -> Option<&str> {
        let t = self.templates.get(template)?;
        let index = usize::try_from(t.default_version - 1).ok()?;
        t.versions.get(index).map(|(p, _)| p.user_data.as_str())
    }

    /// The NAT gateways that are not `deleted` or `failed`.
    fn live_nats(&self) -> impl Iterator<Item = (&String, &Nat)> {
        self.nats.iter().filter(|(_, n)| !matches!(n.state.as_str(), "deleted" | "failed"))
    }

    fn tags_of(&mut self, id: &str) -> Option<&mut Tags> {
        let prefix = id.split('-').next().unwrap_or_default();
        let meta = match prefix {
            "vpc" => self.vpcs.get_mut(id).map(|o| &mut o.meta),
            "igw" => self.igws.get_mut(id).map(|o| &mut o.meta),
            "subnet" => self.subnets.get_mut(id).map(|o| &mut o.meta),
            "eipalloc" => self.addresses.get_mut(id).map(|o| &mut o.meta),
            "nat" => self.nats.get_mut(id).map(|o| &mut o.meta),
            "rtb" => self.tables.get_mut(id).map(|o| &mut o.meta),
            "sg" => self.groups.get_mut(id).map(|o| &mut o.meta),
            "lt" => self.templates.get_mut(id).map(|o| &mut o.meta),
            _ => None,
        };
        meta.map(|m| &mut m.tags)
    }

    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        let name = |t: &Tags| t.get("Name").cloned();
        for (id, v) in &self.vpcs {
            push(out, ResourceType::Vpc, id, name(&v.meta.tags).as_deref(), Some("available"), &v.meta.tags);
        }
        for (id, g) in &self.igws {
            let state = g.vpc.as_ref().map(|_| "available");
            push(out, ResourceType::InternetGateway, id, name(&g.meta.tags).as_deref(), state, &g.meta.tags);
        }
        for (id, s) in &self.subnets {
            push(out, ResourceType::Subnet, id, name(&s.meta.tags).as_deref(), Some("available"), &s.meta.tags);
        }
        for (id, a) in &self.addresses {
            push(out, ResourceType::Eip, id, name(&a.meta.tags).as_deref(), None, &a.meta.tags);
        }
        for (id, n) in &self.nats {
            push(out, ResourceType::NatGateway, id, name(&n.meta.tags).as_deref(), Some(&n.state), &n.meta.tags);
        }
        for (id, t) in self.tables.iter().filter(|(_, t)| !t.main) {
            push(out, ResourceType::RouteTable, id, name(&t.meta.tags).as_deref(), None, &t.meta.tags);
        }
        for (id, g) in self.groups.iter().filter(|(_, g)| !g.default) {
            push(out, ResourceType::SecurityGroup, id, Some(&g.name), None, &g.meta.tags);
        }
        for (id, t) in &self.templates {
            push(out, ResourceType::LaunchTemplate, id, Some(&t.name), None, &t.meta.tags);
        }
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> crate::aws::AwsError {
    aws_error(SERVICE, operation, code, message)
}

fn lit(v: &RefOr<String>, operation: &str) -> AwsResult<String> {
    literal(v, SERVICE, operation).map(str::to_owned)
}

fn one(v: &str) -> Option<Vec<String>> {
    Some(vec![v.to_owned()])
}

/// The sort key the real adapter gives rules.
fn rule_key(rule: &SecurityGroupRule) -> (String, i32, i32, u8, String, String) {
    let (kind, peer) = match &rule.peer {
        Peer::CidrIpv4(c) => (0, c.clone()),
        Peer::SecurityGroupId(RefOr::Value(g)) => (1, g.clone()),
        Peer::SecurityGroupId(RefOr::Ref(r)) => (2, format!("{r:?}")),
    };
    (rule.ip_protocol.clone(), rule.from_port, rule.to_port, kind, peer, rule.description.clone())
}

/// A rule as EC2 stores it: protocol `-1` has ports -1.
fn canonical(mut rule: SecurityGroupRule) -> SecurityGroupRule {
    if rule.ip_protocol == "-1" {
        rule.from_port = -1;
        rule.to_port = -1;
    }
    rule
}

/// Whether two rules are the same permission (EC2 ignores the description).
fn same_permission(a: &SecurityGroupRule, b: &SecurityGroupRule) -> bool {
    a.ip_protocol == b.ip_protocol && a.from_port == b.from_port && a.to_port == b.to_port && a.peer == b.peer
}

fn sorted(mut rules: Vec<SecurityGroupRule>) -> Vec<SecurityGroupRule> {
    rules.sort_by_key(rule_key);
    rules
}

impl Fake {
    fn change_rules(
        &self,
        s: &mut super::State,
        operation: &str,
        group_id: &str,
        rules: Vec<SecurityGroupRule>,
        egress: bool,
        add: bool,
    ) -> AwsResult<()> {
        let rules = rules.into_iter().map(canonical).collect::<Vec<_>>();
        for r in &rules {
            if let Peer::SecurityGroupId(peer) = &r.peer {
                let peer = lit(peer, operation)?;
                if !s.ec2.groups.contains_key(&peer) {
                    return Err(err(
                        operation,
                        "InvalidGroup.NotFound",
                        format!("The security group '{peer}' does not exist"),
                    ));
                }
            }
        }
        let group = s.ec2.groups.get_mut(group_id).ok_or_else(|| {
            err(operation, "InvalidGroup.NotFound", format!("The security group '{group_id}' does not exist"))
        })?;
        let list = if egress { &mut group.egress } else { &mut group.ingress };
        for r in rules {
            let existing = list.iter().position(|x| same_permission(x, &r));
            match (add, existing) {
                (true, Some(_)) => {
                    return Err(err(operation, "InvalidPermission.Duplicate", "the specified rule already exists"))
                }
                (true, None) => list.push(r),
                (false, Some(i)) => {
                    list.remove(i);
                }
                (false, None) => {
                    return Err(err(
                        operation,
                        "InvalidPermission.NotFound",
                        "The specified rule does not exist in this security group.",
                    ))
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Ec2Api for Fake {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<String>> {
        let s = self.begin(SERVICE, "DescribeAvailabilityZones").await?;
        Ok(s.ec2.zones.clone())
    }

    async fn describe_vpcs(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<VpcProps>>> {
        let mut s = self.begin(SERVICE, "DescribeVpcs").await?;
        let mut out = Vec::new();
        for (id, v) in &mut s.ec2.vpcs {
            let field = |name: &str| match name {
                "vpc-id" => one(id),
                "cidr" | "cidr-block" => one(&v.cidr),
                "state" => one("available"),
                _ => None,
            };
            if !matches(&filters, &v.meta.tags, field)? || !visible(&mut v.meta) {
                continue;
            }
            let mut f = Found::new(
                id.clone(),
                VpcProps {
                    cidr_block: v.cidr.clone(),
                    enable_dns_support: v.dns_support,
                    enable_dns_hostnames: v.dns_hostnames,
                },
            );
            f.state = Some("available".into());
            f.tags = v.meta.tags.clone();
            out.push(f);
        }
        Ok(out)
    }

    async fn create_vpc(&self, props: VpcProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateVpc";
        let mut s = self.begin(SERVICE, OP).await?;
        let net: Ipv4Net = props.cidr_block.parse().map_err(|_| {
            err(OP, "InvalidParameterValue", format!("Value ({}) for parameter cidrBlock is invalid", props.cidr_block))
        })?;
        let id = s.id("vpc");
        let meta = s.meta(OP, tags);
        // Every VPC comes with a default security group and a main route table.
        let group = s.id("sg");
        let table = s.id("rtb");
        let created = Instant::now();
        let bare = Meta { created, hidden: 0, tags: Tags::new() };
        s.ec2.groups.insert(
            group,
            Group {
                name: "default".into(),
                description: "default VPC security group".into(),
                vpc: id.clone(),
                ingress: vec![],
                egress: vec![],
                default: true,
                meta: bare.clone(),
            },
        );
        s.ec2.tables.insert(
            table,
            RouteTable { vpc: id.clone(), routes: vec![], associations: vec![], main: true, token: None, meta: bare },
        );
        s.ec2
            .vpcs
            .insert(id.clone(), Vpc { cidr: net.trunc().to_string(), dns_support: true, dns_hostnames: false, meta });
        Ok(id)
    }

    async fn modify_vpc_dns(&self, vpc_id: String, dns_support: bool, dns_hostnames: bool) -> AwsResult<()> {
        const OP: &str = "ModifyVpcAttribute";
        let mut s = self.begin(SERVICE, OP).await?;
        if dns_hostnames && !dns_support {
            return Err(err(OP, "InvalidParameterValue", "DNS host names need DNS support"));
        }
        let vpc = s
            .ec2
            .vpcs
            .get_mut(&vpc_id)
            .ok_or_else(|| err(OP, "InvalidVpcID.NotFound", format!("The vpc ID '{vpc_id}' does not exist")))?;
        vpc.dns_support = dns_support;
        vpc.dns_hostnames = dns_hostnames;
        Ok(())
    }

    async fn delete_vpc(&self, vpc_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteVpc";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.ec2.vpcs.contains_key(&vpc_id) {
            return Err(err(OP, "InvalidVpcID.NotFound", format!("The vpc ID '{vpc_id}' does not exist")));
        }
        let e = &s.ec2;
        let busy = e.subnets.values().any(|x| x.vpc == vpc_id)
            || e.igws.values().any(|g| g.vpc.as_deref() == Some(vpc_id.as_str()))
            || e.groups.values().any(|g| g.vpc == vpc_id && !g.default)
            || e.tables.values().any(|t| t.vpc == vpc_id && !t.main)
            || e.live_nats().any(|(_, n)| n.vpc == vpc_id)
            || s.lingers(&vpc_id);
        if busy {
            return Err(err(
                OP,
                "DependencyViolation",
                format!("The vpc '{vpc_id}' has dependencies and cannot be deleted."),
            ));
        }
        s.ec2.groups.retain(|_, g| g.vpc != vpc_id);
        s.ec2.tables.retain(|_, t| t.vpc != vpc_id);
        s.ec2.vpcs.remove(&vpc_id);
        Ok(())
    }

    async fn describe_internet_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<InternetGatewayProps>>> {
        let mut s = self.begin(SERVICE, "DescribeInternetGateways").await?;
        let mut out = Vec::new();
        for (id, g) in &mut s.ec2.igws {
            let field = |name: &str| match name {
                "internet-gateway-id" => one(id),
                "attachment.vpc-id" => Some(g.vpc.clone().into_iter().collect()),
                _ => None,
            };
            if !matches(&filters, &g.meta.tags, field)? || !visible(&mut g.meta) {
                continue;
            }
            let mut f = Found::new(
                id.clone(),
                InternetGatewayProps { vpc_id: RefOr::Value(g.vpc.clone().unwrap_or_default()) },
            );
            f.state = g.vpc.as_ref().map(|_| "available".to_owned());
            f.tags = g.meta.tags.clone();
            out.push(f);
        }
        Ok(out)
    }

    async fn create_internet_gateway(&self, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateInternetGateway";
        let mut s = self.begin(SERVICE, OP).await?;
        let id = s.id("igw");
        let meta = s.meta(OP, tags);
        s.ec2.igws.insert(id.clone(), Igw { vpc: None, meta });
        Ok(id)
    }

    async fn attach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()> {
        const OP: &str = "AttachInternetGateway";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.ec2.vpcs.contains_key(&vpc_id) {
            return Err(err(OP, "InvalidVpcID.NotFound", format!("The vpc ID '{vpc_id}' does not exist")));
        }
        if s.ec2.igws.values().any(|g| g.vpc.as_deref() == Some(vpc_id.as_str())) {
            let attached_here = s.ec2.igws.get(&igw_id).and_then(|g| g.vpc.clone()) == Some(vpc_id.clone());
            return Err(if attached_here {
                err(
                    OP,
                    "Resource.AlreadyAssociated",
                    format!("resource {igw_id} is already attached to network {vpc_id}"),
                )
            } else {
                err(OP, "InvalidParameterValue", format!("Network {vpc_id} already has an internet gateway attached"))
            });
        }
        let igw = s.ec2.igws.get_mut(&igw_id).ok_or_else(|| {
            err(OP, "InvalidInternetGatewayID.NotFound", format!("The internetGateway ID '{igw_id}' does not exist"))
        })?;
        if igw.vpc.is_some() {
            return Err(err(OP, "Resource.AlreadyAssociated", format!("resource {igw_id} is already attached")));
        }
        igw.vpc = Some(vpc_id);
        Ok(())
    }

    async fn detach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()> {
        const OP: &str = "DetachInternetGateway";
        let mut s = self.begin(SERVICE, OP).await?;
        // Public addresses mapped in the VPC: NAT gateways, internet-facing load balancers.
        let mapped =
            s.ec2.live_nats().any(|(_, n)| n.vpc == vpc_id) || s.elb.public_in(&vpc_id, &s.ec2) || s.lingers(&vpc_id);
        let igw = s.ec2.igws.get(&igw_id).ok_or_else(|| {
            err(OP, "InvalidInternetGatewayID.NotFound", format!("The internetGateway ID '{igw_id}' does not exist"))
        })?;
        if igw.vpc.as_deref() != Some(vpc_id.as_str()) {
            return Err(err(
                OP,
                "Gateway.NotAttached",
                format!("resource {igw_id} is not attached to network {vpc_id}"),
            ));
        }
        if mapped {
            return Err(err(
                OP,
                "DependencyViolation",
                format!("Network {vpc_id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."),
            ));
        }
        if let Some(igw) = s.ec2.igws.get_mut(&igw_id) {
            igw.vpc = None;
        }
        Ok(())
    }

    async fn delete_internet_gateway(&self, igw_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteInternetGateway";
        let mut s = self.begin(SERVICE, OP).await?;
        let igw = s.ec2.igws.get(&igw_id).ok_or_else(|| {
            err(OP, "InvalidInternetGatewayID.NotFound", format!("The internetGateway ID '{igw_id}' does not exist"))
        })?;
        if igw.vpc.is_some() {
            return Err(err(
                OP,
                "DependencyViolation",
                format!("The internetGateway '{igw_id}' has dependencies and cannot be deleted."),
            ));
        }
        s.ec2.igws.remove(&igw_id);
        Ok(())
    }

    async fn describe_subnets(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SubnetProps>>> {
        let mut s = self.begin(SERVICE, "DescribeSubnets").await?;
        let arn = |id: &str| self.arn("ec2", &format!("subnet/{id}"));
        let mut out = Vec::new();
        for (id, x) in &mut s.ec2.subnets {
            let field = |name: &str| match name {
                "subnet-id" => one(id),
                "vpc-id" => one(&x.vpc),
                "availability-zone" => one(&x.zone),
                "state" => one("available"),
                _ => None,
            };
            if !matches(&filters, &x.meta.tags, field)? || !visible(&mut x.meta) {
                continue;
            }
            let mut f = Found::new(
                id.clone(),
                SubnetProps {
                    vpc_id: RefOr::Value(x.vpc.clone()),
                    cidr_block: x.cidr.clone(),
                    availability_zone: AvailabilityZone::Name(x.zone.clone()),
                    map_public_ip_on_launch: x.map_public,
                },
            );
            f.arn = Some(arn(id));
            f.state = Some("available".into());
            f.tags = x.meta.tags.clone();
            out.push(f);
        }
        Ok(out)
    }

    async fn create_subnet(&self, props: SubnetProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateSubnet";
        let mut s = self.begin(SERVICE, OP).await?;
        let vpc_id = lit(&props.vpc_id, OP)?;
        let AvailabilityZone::Name(zone) = props.availability_zone else {
            return Err(err(OP, "InvalidParameterValue", "availability zone index not resolved to a zone name"));
        };
        if !s.ec2.zones.contains(&zone) {
            return Err(err(
                OP,
                "InvalidParameterValue",
                format!("Value ({zone}) for parameter availabilityZone is invalid"),
            ));
        }
        let vpc = s
            .ec2
            .vpcs
            .get(&vpc_id)
            .ok_or_else(|| err(OP, "InvalidVpcID.NotFound", format!("The vpc ID '{vpc_id}' does not exist")))?;
        let bad = || err(OP, "InvalidSubnet.Range", format!("The CIDR '{}' is invalid.", props.cidr_block));
        let net: Ipv4Net = props.cidr_block.parse().map_err(|_| bad())?;
        let outer: Ipv4Net = vpc.cidr.parse().map_err(|_| bad())?;
        if !outer.contains(&net) {
            return Err(bad());
        }
        let overlaps = s
            .ec2
            .subnets
            .values()
            .filter(|x| x.vpc == vpc_id)
            .any(|x| x.cidr.parse::<Ipv4Net>().is_ok_and(|other| other.contains(&net) || net.contains(&other)));
        if overlaps {
            return Err(err(
                OP,
                "InvalidSubnet.Conflict",
                format!("The CIDR '{}' conflicts with another subnet", props.cidr_block),
            ));
        }
        let id = s.id("subnet");
        let meta = s.meta(OP, tags);
        s.ec2
            .subnets
            .insert(id.clone(), Subnet { vpc: vpc_id, cidr: net.trunc().to_string(), zone, map_public: false, meta });
        Ok(id)
    }

    async fn modify_subnet_public_ip(&self, subnet_id: String, map_public_ip_on_launch: bool) -> AwsResult<()> {
        const OP: &str = "ModifySubnetAttribute";
        let mut s = self.begin(SERVICE, OP).await?;
        let subnet = s.ec2.subnets.get_mut(&subnet_id).ok_or_else(|| {
            err(OP, "InvalidSubnetID.NotFound", format!("The subnet ID '{subnet_id}' does not exist"))
        })?;
        subnet.map_public = map_public_ip_on_launch;
        Ok(())
    }

    async fn delete_subnet(&self, subnet_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteSubnet";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.ec2.subnets.contains_key(&subnet_id) {
            return Err(err(OP, "InvalidSubnetID.NotFound", format!("The subnet ID '{subnet_id}' does not exist")));
        }
        // Network interfaces in the subnet: NAT gateways, mount targets, load balancers,
        // instances of Auto Scaling groups.
        let busy = s.ec2.live_nats().any(|(_, n)| n.subnet == subnet_id)
            || s.efs.uses_subnet(&subnet_id)
            || s.elb.uses_subnet(&subnet_id)
            || s.autoscaling.uses_subnet(&subnet_id)
            || s.lingers(&subnet_id);
        if busy {
            return Err(err(
                OP,
                "DependencyViolation",
                format!("The subnet '{subnet_id}' has dependencies and cannot be deleted."),
            ));
        }
        s.ec2.subnets.remove(&subnet_id);
        for t in s.ec2.tables.values_mut() {
            t.associations.retain(|(_, subnet)| *subnet != subnet_id);
        }
        Ok(())
    }

    /// The interfaces of EFS mount targets (the only ones ecs-kit reads).
    async fn describe_network_interface_groups(&self, ids: Vec<String>) -> AwsResult<BTreeMap<String, Vec<String>>> {
        let s = self.begin(SERVICE, "DescribeNetworkInterfaces").await?;
        Ok(ids.into_iter().filter_map(|id| Some((id.clone(), s.efs.interface_groups(&id)?))).collect())
    }

    async fn describe_addresses(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<EipProps>>> {
        let mut s = self.begin(SERVICE, "DescribeAddresses").await?;
        let users: BTreeMap<String, String> =
            s.ec2.live_nats().map(|(id, n)| (n.allocation.clone(), id.clone())).collect();
        let mut out = Vec::new();
        for (id, a) in &mut s.ec2.addresses {
            let field = |name: &str| match name {
                "allocation-id" => one(id),
                "public-ip" => one(&a.public_ip),
                "domain" => one("vpc"),
                _ => None,
            };
            if !matches(&filters, &a.meta.tags, field)? || !visible(&mut a.meta) {
                continue;
            }
            let mut f = Found::new(id.clone(), EipProps { domain: "vpc".into() });
            f.tags = a.meta.tags.clone();
            f.attrs.insert("public_ip".into(), a.public_ip.clone());
            if let Some(nat) = users.get(id) {
                f.attrs.insert("association_id".into(), format!("eipassoc-{}", &nat[4..]));
                f.attrs.insert("network_interface_id".into(), format!("eni-{}", &nat[4..]));
            }
            out.push(f);
        }
        Ok(out)
    }

    async fn allocate_address(&self, tags: Tags) -> AwsResult<String> {
        const OP: &str = "AllocateAddress";
        let mut s = self.begin(SERVICE, OP).await?;
        let id = s.id("eipalloc");
        let n = s.next();
        let public_ip = format!("54.{}.{}.{}", 100 + n / 65536 % 100, n / 256 % 256, n % 256);
        let meta = s.meta(OP, tags);
        s.ec2.addresses.insert(id.clone(), Address { public_ip, meta });
        Ok(id)
    }

    async fn release_address(&self, allocation_id: String) -> AwsResult<()> {
        const OP: &str = "ReleaseAddress";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.ec2.addresses.contains_key(&allocation_id) {
            return Err(err(
                OP,
                "InvalidAllocationID.NotFound",
                format!("The allocation ID '{allocation_id}' does not exist"),
            ));
        }
        if s.ec2.live_nats().any(|(_, n)| n.allocation == allocation_id) {
            return Err(err(OP, "InvalidIPAddress.InUse", format!("Address {allocation_id} is in use.")));
        }
        s.ec2.addresses.remove(&allocation_id);
        Ok(())
    }

    async fn describe_nat_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<NatGatewayProps>>> {
        let mut s = self.begin(SERVICE, "DescribeNatGateways").await?;
        let ips: BTreeMap<String, String> =
            s.ec2.addresses.iter().map(|(id, a)| (id.clone(), a.public_ip.clone())).collect();
        let mut out = Vec::new();
        for (id, n) in &mut s.ec2.nats {
            let field = |name: &str| match name {
                "nat-gateway-id" => one(id),
                "subnet-id" => one(&n.subnet),
                "vpc-id" => one(&n.vpc),
                "state" => one(&n.state),
                _ => None,
            };
            if !matches(&filters, &n.meta.tags, field)? || !visible(&mut n.meta) {
                continue;
            }
            let mut f = Found::new(
                id.clone(),
                NatGatewayProps {
                    subnet_id: RefOr::Value(n.subnet.clone()),
                    allocation_id: RefOr::Value(n.allocation.clone()),
                    connectivity_type: n.connectivity.clone(),
                },
            );
            f.state = Some(n.state.clone());
            f.tags = n.meta.tags.clone();
            f.attrs.insert("vpc_id".into(), n.vpc.clone());
            if let Some(ip) = ips.get(&n.allocation) {
                f.attrs.insert("public_ip".into(), ip.clone());
            }
            if let Some(message) = &n.failure {
                f.attrs.insert("failure_code".into(), "Gateway.NotAttached".into());
                f.attrs.insert("failure_message".into(), message.clone());
            }
            out.push(f);
        }
        Ok(out)
    }

    async fn create_nat_gateway(&self, props: NatGatewayProps, client_token: String, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateNatGateway";
        let mut s = self.begin(SERVICE, OP).await?;
        let subnet = lit(&props.subnet_id, OP)?;
        let allocation = lit(&props.allocation_id, OP)?;
        if let Some((id, n)) = s.ec2.nats.iter().find(|(_, n)| !client_token.is_empty() && n.token == client_token) {
            if n.subnet == subnet && n.allocation == allocation {
                return Ok(id.clone());
            }
            return Err(err(OP, "IdempotentParameterMismatch", "the client token was used with other parameters"));
        }
        let vpc =
            s.ec2.subnets.get(&subnet).map(|x| x.vpc.clone()).ok_or_else(|| {
                err(OP, "InvalidSubnetID.NotFound", format!("The subnet ID '{subnet}' does not exist"))
            })?;
        if !s.ec2.addresses.contains_key(&allocation) {
            return Err(err(
                OP,
                "InvalidAllocationID.NotFound",
                format!("The allocation ID '{allocation}' does not exist"),
            ));
        }
        if s.ec2.live_nats().any(|(_, n)| n.allocation == allocation) {
            return Err(err(
                OP,
                "Resource.AlreadyAssociated",
                format!("Elastic IP address [{allocation}] is already associated"),
            ));
        }
        let id = s.id("nat");
        let meta = s.meta(OP, tags);
        s.ec2.nats.insert(
            id.clone(),
            Nat {
                subnet,
                allocation,
                connectivity: props.connectivity_type,
                vpc,
                token: client_token,
                state: "pending".into(),
                failure: None,
                since: Instant::now(),
                meta,
            },
        );
        // A zero delay makes the gateway available at once.
        let timing = s.timing;
        s.ec2.advance(Instant::now(), timing);
        Ok(id)
    }

    async fn delete_nat_gateway(&self, nat_gateway_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteNatGateway";
        let mut s = self.begin(SERVICE, OP).await?;
        let timing = s.timing;
        let nat =
            s.ec2.nats.get_mut(&nat_gateway_id).ok_or_else(|| {
                err(OP, "NatGatewayNotFound", format!("The Nat Gateway {nat_gateway_id} was not found"))
            })?;
        if nat.state == "deleted" {
            return Err(err(OP, "NatGatewayNotFound", format!("The Nat Gateway {nat_gateway_id} was not found")));
        }
        nat.state = "deleting".into();
        nat.since = Instant::now();
        s.ec2.advance(Instant::now(), timing);
        Ok(())
    }

    async fn describe_route_tables(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<RouteTableProps>>> {
        let mut s = self.begin(SERVICE, "DescribeRouteTables").await?;
        let mut out = Vec::new();
        for (id, t) in &mut s.ec2.tables {
            let field = |name: &str| match name {
                "route-table-id" => one(id),
                "vpc-id" => one(&t.vpc),
                "association.subnet-id" => Some(t.associations.iter().map(|(_, s)| s.clone()).collect()),
                "association.main" => one(&t.main.to_string()),
                _ => None,
            };
            if !matches(&filters, &t.meta.tags, field)? || !visible(&mut t.meta) {
                continue;
            }
            let mut routes = t.routes.clone();
            routes.sort_by(|a, b| a.destination_cidr_block.cmp(&b.destination_cidr_block));
            let mut subnets: Vec<String> = t.associations.iter().map(|(_, s)| s.clone()).collect();
            subnets.sort();
            let mut f = Found::new(
                id.clone(),
                RouteTableProps {
                    vpc_id: RefOr::Value(t.vpc.clone()),
                    routes,
                    subnet_ids: subnets.into_iter().map(RefOr::Value).collect(),
                },
            );
            for (association, subnet) in &t.associations {
                f.attrs.insert(format!("assoc:{subnet}"), association.clone());
            }
            f.attrs.insert("main".into(), t.main.to_string());
            f.tags = t.meta.tags.clone();
            out.push(f);
        }
        Ok(out)
    }

    async fn create_route_table(&self, vpc_id: String, client_token: String, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateRouteTable";
        let mut s = self.begin(SERVICE, OP).await?;
        if let Some((id, t)) = s
            .ec2
            .tables
            .iter()
            .find(|(_, t)| !client_token.is_empty() && t.token.as_deref() == Some(client_token.as_str()))
        {
            if t.vpc == vpc_id {
                return Ok(id.clone());
            }
            return Err(err(OP, "IdempotentParameterMismatch", "the client token was used with other parameters"));
        }
        if !s.ec2.vpcs.contains_key(&vpc_id) {
            return Err(err(OP, "InvalidVpcID.NotFound", format!("The vpc ID '{vpc_id}' does not exist")));
        }
        let id = s.id("rtb");
        let meta = s.meta(OP, tags);
        s.ec2.tables.insert(
            id.clone(),
            RouteTable {
                vpc: vpc_id,
                routes: vec![],
                associations: vec![],
                main: false,
                token: Some(client_token),
                meta,
            },
        );
        Ok(id)
    }

    async fn create_route(&self, route_table_id: String, route: Route) -> AwsResult<()> {
        const OP: &str = "CreateRoute";
        let mut s = self.begin(SERVICE, OP).await?;
        let route = resolve_route(&s, route, OP)?;
        let table = s.ec2.tables.get_mut(&route_table_id).ok_or_else(|| {
            err(OP, "InvalidRouteTableID.NotFound", format!("The routeTable ID '{route_table_id}' does not exist"))
        })?;
        if table.routes.iter().any(|r| r.destination_cidr_block == route.destination_cidr_block) {
            return Err(err(
                OP,
                "RouteAlreadyExists",
                format!("The route identified by {} already exists.", route.destination_cidr_block),
            ));
        }
        table.routes.push(route);
        Ok(())
    }

    async fn replace_route(&self, route_table_id: String, route: Route) -> AwsResult<()> {
        const OP: &str = "ReplaceRoute";
        let mut s = self.begin(SERVICE, OP).await?;
        let route = resolve_route(&s, route, OP)?;
        let table = s.ec2.tables.get_mut(&route_table_id).ok_or_else(|| {
            err(OP, "InvalidRouteTableID.NotFound", format!("The routeTable ID '{route_table_id}' does not exist"))
        })?;
        let existing = table
            .routes
            .iter_mut()
            .find(|r| r.destination_cidr_block == route.destination_cidr_block)
            .ok_or_else(|| err(OP, "InvalidRoute.NotFound", "no route with that destination"))?;
        *existing = route;
        Ok(())
    }

    async fn delete_route(&self, route_table_id: String, destination_cidr_block: String) -> AwsResult<()> {
        const OP: &str = "DeleteRoute";
        let mut s = self.begin(SERVICE, OP).await?;
        let table = s.ec2.tables.get_mut(&route_table_id).ok_or_else(|| {
            err(OP, "InvalidRouteTableID.NotFound", format!("The routeTable ID '{route_table_id}' does not exist"))
        })?;
        let before = table.routes.len();
        table.routes.retain(|r| r.destination_cidr_block != destination_cidr_block);
        if table.routes.len() == before {
            return Err(err(OP, "InvalidRoute.NotFound", "no route with that destination"));
        }
        Ok(())
    }

    async fn associate_route_table(&self, route_table_id: String, subnet_id: String) -> AwsResult<String> {
        const OP: &str = "AssociateRouteTable";
        let mut s = self.begin(SERVICE, OP).await?;
        let subnet_vpc = s.ec2.subnets.get(&subnet_id).map(|x| x.vpc.clone()).ok_or_else(|| {
            err(OP, "InvalidSubnetID.NotFound", format!("The subnet ID '{subnet_id}' does not exist"))
        })?;
        if s.ec2.tables.values().any(|t| t.associations.iter().any(|(_, x)| *x == subnet_id)) {
            return Err(err(
                OP,
                "Resource.AlreadyAssociated",
                format!(
                    "the specified association for route table {route_table_id} conflicts with an existing association"
                ),
            ));
        }
        let association = s.id("rtbassoc");
        let table = s.ec2.tables.get_mut(&route_table_id).ok_or_else(|| {
            err(OP, "InvalidRouteTableID.NotFound", format!("The routeTable ID '{route_table_id}' does not exist"))
        })?;
        if table.vpc != subnet_vpc {
            return Err(err(OP, "InvalidParameterValue", "route table and subnet belong to different networks"));
        }
        table.associations.push((association.clone(), subnet_id));
        Ok(association)
    }

    async fn disassociate_route_table(&self, association_id: String) -> AwsResult<()> {
        const OP: &str = "DisassociateRouteTable";
        let mut s = self.begin(SERVICE, OP).await?;
        for t in s.ec2.tables.values_mut() {
            if let Some(i) = t.associations.iter().position(|(a, _)| *a == association_id) {
                t.associations.remove(i);
                return Ok(());
            }
        }
        Err(err(OP, "InvalidAssociationID.NotFound", format!("The association ID '{association_id}' does not exist")))
    }

    async fn delete_route_table(&self, route_table_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteRouteTable";
        let mut s = self.begin(SERVICE, OP).await?;
        let table = s.ec2.tables.get(&route_table_id).ok_or_else(|| {
            err(OP, "InvalidRouteTableID.NotFound", format!("The routeTable ID '{route_table_id}' does not exist"))
        })?;
        if table.main || !table.associations.is_empty() {
            return Err(err(
                OP,
                "DependencyViolation",
                format!("The routeTable '{route_table_id}' has dependencies and cannot be deleted."),
            ));
        }
        s.ec2.tables.remove(&route_table_id);
        Ok(())
    }

    async fn describe_security_groups(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SecurityGroupProps>>> {
        let mut s = self.begin(SERVICE, "DescribeSecurityGroups").await?;
        let arn = |id: &str| self.arn("ec2", &format!("security-group/{id}"));
        let mut out = Vec::new();
        for (id, g) in &mut s.ec2.groups {
            let field = |name: &str| match name {
                "group-id" => one(id),
                "group-name" => one(&g.name),
                "vpc-id" => one(&g.vpc),
                _ => None,
            };
            if !matches(&filters, &g.meta.tags, field)? || !visible(&mut g.meta) {
                continue;
            }
            let mut f = Found::new(
                id.clone(),
                SecurityGroupProps {
                    group_name: g.name.clone(),
                    description: g.description.clone(),
                    vpc_id: RefOr::Value(g.vpc.clone()),
                    ingress: sorted(g.ingress.clone()),
                    egress: sorted(g.egress.clone()),
                },
            );
            f.arn = Some(arn(id));
            f.tags = g.meta.tags.clone();
            out.push(f);
        }
        Ok(out)
    }

    async fn create_security_group(
        &self,
        group_name: String,
        description: String,
        vpc_id: String,
        tags: Tags,
    ) -> AwsResult<String> {
        const OP: &str = "CreateSecurityGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        if group_name.starts_with("sg-") {
            return Err(err(OP, "InvalidParameterValue", "Group names may not be in the format sg-*"));
        }
        if !s.ec2.vpcs.contains_key(&vpc_id) {
            return Err(err(OP, "InvalidVpcID.NotFound", format!("The vpc ID '{vpc_id}' does not exist")));
        }
        if s.ec2.groups.values().any(|g| g.vpc == vpc_id && g.name.eq_ignore_ascii_case(&group_name)) {
            return Err(err(
                OP,
                "InvalidGroup.Duplicate",
                format!("The security group '{group_name}' already exists for VPC '{vpc_id}'"),
            ));
        }
        let id = s.id("sg");
        let meta = s.meta(OP, tags);
        let default_egress = SecurityGroupRule {
            ip_protocol: "-1".into(),
            from_port: -1,
            to_port: -1,
            peer: Peer::CidrIpv4("0.0.0.0/0".into()),
            description: String::new(),
        };
        s.ec2.groups.insert(
            id.clone(),
            Group {
                name: group_name,
                description,
                vpc: vpc_id,
                ingress: vec![],
                egress: vec![default_egress],
                default: false,
                meta,
            },
        );
        Ok(id)
    }

    async fn authorize_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        const OP: &str = "AuthorizeSecurityGroupIngress";
        let mut s = self.begin(SERVICE, OP).await?;
        self.change_rules(&mut s, OP, &group_id, rules, false, true)
    }

    async fn authorize_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        const OP: &str = "AuthorizeSecurityGroupEgress";
        let mut s = self.begin(SERVICE, OP).await?;
        self.change_rules(&mut s, OP, &group_id, rules, true, true)
    }

    async fn revoke_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        const OP: &str = "RevokeSecurityGroupIngress";
        let mut s = self.begin(SERVICE, OP).await?;
        self.change_rules(&mut s, OP, &group_id, rules, false, false)
    }

    async fn revoke_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        const OP: &str = "RevokeSecurityGroupEgress";
        let mut s = self.begin(SERVICE, OP).await?;
        self.change_rules(&mut s, OP, &group_id, rules, true, false)
    }

    async fn delete_security_group(&self, group_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteSecurityGroup";
        let mut s = self.begin(SERVICE, OP).await?;
        let group = s.ec2.groups.get(&group_id).ok_or_else(|| {
            err(OP, "InvalidGroup.NotFound", format!("The security group '{group_id}' does not exist"))
        })?;
        if group.default {
            return Err(err(OP, "CannotDelete", "the default security group cannot be deleted"));
        }
        let refers =
            |r: &SecurityGroupRule| matches!(&r.peer, Peer::SecurityGroupId(RefOr::Value(g)) if *g == group_id);
        let referenced = s
            .ec2
            .groups
            .iter()
            .any(|(id, g)| *id != group_id && (g.ingress.iter().any(refers) || g.egress.iter().any(refers)));
        let instances = s
            .autoscaling
            .templates_in_use()
            .iter()
            .filter_map(|t| s.ec2.templates.get(t))
            .any(|t| t.groups().any(|g| g == group_id));
        if referenced || instances || s.efs.uses_group(&group_id) || s.elb.uses_group(&group_id) || s.lingers(&group_id)
        {
            return Err(err(OP, "DependencyViolation", format!("resource {group_id} has a dependent object")));
        }
        s.ec2.groups.remove(&group_id);
        Ok(())
    }

    async fn list_launch_templates(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<String>>> {
        let mut s = self.begin(SERVICE, "DescribeLaunchTemplates").await?;
        let mut out = Vec::new();
        for (id, t) in &mut s.ec2.templates {
            let field = |name: &str| match name {
                "launch-template-id" => one(id),
                "launch-template-name" => one(&t.name),
                _ => None,
            };
            if !matches(&filters, &t.meta.tags, field)? || !visible(&mut t.meta) {
                continue;
            }
            let mut f = Found::new(id.clone(), t.name.clone());
            f.tags = t.meta.tags.clone();
            f.attrs.insert("default_version".into(), t.default_version.to_string());
            f.attrs.insert("latest_version".into(), t.versions.len().to_string());
            out.push(f);
        }
        Ok(out)
    }

    async fn launch_template_data(
        &self,
        launch_template_id: String,
        _name: String,
    ) -> AwsResult<Option<LaunchTemplateProps>> {
        let s = self.begin(SERVICE, "DescribeLaunchTemplateVersions").await?;
        let Some(t) = s.ec2.templates.get(&launch_template_id) else { return Ok(None) };
        let index = usize::try_from(t.default_version - 1).unwrap_or(0);
        Ok(t.versions.get(index).map(|(props, image)| {
            let mut props = props.clone();
            props.image = ImageSource::ImageId(image.clone());
            props
        }))
    }

    async fn create_launch_template(
        &self,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
        tags: Tags,
    ) -> AwsResult<String> {
        const OP: &str = "CreateLaunchTemplate";
        let mut s = self.begin(SERVICE, OP).await?;
        let props = template_props(&s, props, OP)?;
        if let Some((id, _)) = s.ec2.templates.iter().find(|(_, t)| t.tokens.get(&client_token) == Some(&1)) {
            return Ok(id.clone());
        }
        if s.ec2.templates.values().any(|t| t.name == props.launch_template_name) {
            return Err(err(
                OP,
                "InvalidLaunchTemplateName.AlreadyExistsException",
                format!("Launch template name already in use: {}", props.launch_template_name),
            ));
        }
        let id = s.id("lt");
        let meta = s.meta(OP, tags);
        let name = props.launch_template_name.clone();
        s.ec2.templates.insert(
            id.clone(),
            Template {
                name,
                versions: vec![(props, image_id)],
                default_version: 1,
                tokens: BTreeMap::from([(client_token, 1)]),
                meta,
            },
        );
        Ok(id)
    }

    async fn create_launch_template_version(
        &self,
        launch_template_id: String,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
    ) -> AwsResult<i64> {
        const OP: &str = "CreateLaunchTemplateVersion";
        let mut s = self.begin(SERVICE, OP).await?;
        let props = template_props(&s, props, OP)?;
        let template = s.ec2.templates.get_mut(&launch_template_id).ok_or_else(|| {
            err(
                OP,
                "InvalidLaunchTemplateId.NotFound",
                format!("The launch template ID '{launch_template_id}' does not exist"),
            )
        })?;
        if let Some(version) = template.tokens.get(&client_token) {
            return Ok(*version);
        }
        template.versions.push((props, image_id));
        let version = i64::try_from(template.versions.len()).unwrap_or(i64::MAX);
        template.tokens.insert(client_token, version);
        Ok(version)
    }

    async fn set_default_launch_template_version(&self, launch_template_id: String, version: i64) -> AwsResult<()> {
        const OP: &str = "ModifyLaunchTemplate";
        let mut s = self.begin(SERVICE, OP).await?;
        let template = s.ec2.templates.get_mut(&launch_template_id).ok_or_else(|| {
            err(
                OP,
                "InvalidLaunchTemplateId.NotFound",
                format!("The launch template ID '{launch_template_id}' does not exist"),
            )
        })?;
        if version < 1 || version > i64::try_from(template.versions.len()).unwrap_or(0) {
            return Err(err(
                OP,
                "InvalidLaunchTemplateId.VersionNotFound",
                format!("version {version} does not exist"),
            ));
        }
        template.default_version = version;
        Ok(())
    }

    async fn delete_launch_template(&self, launch_template_id: String) -> AwsResult<()> {
        const OP: &str = "DeleteLaunchTemplate";
        let mut s = self.begin(SERVICE, OP).await?;
        s.ec2.templates.remove(&launch_template_id).ok_or_else(|| {
            err(
                OP,
                "InvalidLaunchTemplateId.NotFound",
                format!("The launch template ID '{launch_template_id}' does not exist"),
            )
        })?;
        Ok(())
    }

    async fn create_tags(&self, resource_ids: Vec<String>, tags: Tags) -> AwsResult<()> {
        const OP: &str = "CreateTags";
        let mut s = self.begin(SERVICE, OP).await?;
        for id in &resource_ids {
            if s.ec2.tags_of(id).is_none() {
                return Err(err(OP, "InvalidID", format!("The ID '{id}' is not valid")));
            }
        }
        for id in &resource_ids {
            if let Some(t) = s.ec2.tags_of(id) {
                merge_tags(t, tags.clone());
            }
        }
        Ok(())
    }

    async fn delete_tags(&self, resource_ids: Vec<String>, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "DeleteTags";
        let mut s = self.begin(SERVICE, OP).await?;
        for id in &resource_ids {
            let t = s.ec2.tags_of(id).ok_or_else(|| err(OP, "InvalidID", format!("The ID '{id}' is not valid")))?;
            remove_tags(t, &keys);
        }
        Ok(())
    }
}

/// A route whose target exists.
fn resolve_route(s: &super::State, route: Route, operation: &str) -> AwsResult<Route> {
    match &route.target {
        RouteTarget::GatewayId(g) => {
            let g = lit(g, operation)?;
            if !s.ec2.igws.contains_key(&g) {
                return Err(err(
                    operation,
                    "InvalidGatewayID.NotFound",
                    format!("The gateway ID '{g}' does not exist"),
                ));
            }
        }
        RouteTarget::NatGatewayId(n) => {
            let n = lit(n, operation)?;
            if !s.ec2.live_nats().any(|(id, _)| *id == n) {
                return Err(err(
                    operation,
                    "InvalidNatGatewayID.NotFound",
                    format!("The nat gateway ID '{n}' does not exist"),
                ));
            }
        }
    }
    Ok(route)
}

/// Launch template data with literal references that exist.
fn template_props(s: &super::State, props: LaunchTemplateProps, operation: &str) -> AwsResult<LaunchTemplateProps> {
    let profile = lit(&props.iam_instance_profile_arn, operation)?;
    if !profile.is_empty() && !s.iam.profile_arn_exists(&profile) {
        return Err(err(
            operation,
            "InvalidParameterValue",
            format!(
                "Value ({profile}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
            ),
        ));
    }
    for g in &props.security_group_ids {
        let g = lit(g, operation)?;
        if !s.ec2.groups.contains_key(&g) {
            return Err(err(
                operation,
                "InvalidGroupId.NotFound",
                format!("The security group ID '{g}' does not exist"),
            ));
        }
    }
    Ok(props)
}
