//! EC2 adapter: VPC, gateways, subnets, addresses, route tables, security groups,
//! launch templates and tags.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types as ec2;
use aws_sdk_ec2::Client;

use super::{err, missing, tag_pairs};
use crate::aws::{literal, AwsError, AwsResult, Ec2Api, ErrorKind, Filter, Found, Tags};
use crate::graph::props::{
    AvailabilityZone, EipProps, ImageSource, InternetGatewayProps, LaunchTemplateProps, MetadataOptions,
    NatGatewayProps, Peer, RefOr, Route, RouteTableProps, RouteTarget, SecurityGroupProps, SecurityGroupRule,
    SubnetProps, VpcProps,
};

const SERVICE: &str = "ec2";
/// The most values one filter of a describe takes.
const FILTER_VALUES: usize = 200;

/// [`Ec2Api`] over `aws-sdk-ec2`.
#[derive(Debug, Clone)]
pub struct Ec2Sdk {
    client: Client,
}

impl Ec2Sdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Ec2Sdk { client }
    }

    /// One boolean attribute of a VPC; `None` when the VPC is gone.
    async fn vpc_attribute(&self, vpc_id: &str, attribute: ec2::VpcAttributeName) -> AwsResult<Option<bool>> {
        let out = match self.client.describe_vpc_attribute().vpc_id(vpc_id).attribute(attribute.clone()).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = err(SERVICE, "DescribeVpcAttribute")(e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        let value = match attribute {
            ec2::VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
            _ => out.enable_dns_support(),
        };
        Ok(Some(value.and_then(ec2::AttributeBooleanValue::value).unwrap_or(false)))
    }

    async fn modify_vpc_attribute(&self, vpc_id: &str, attribute: ec2::VpcAttributeName, on: bool) -> AwsResult<()> {
        let value = ec2::AttributeBooleanValue::builder().value(on).build();
        let call = self.client.modify_vpc_attribute().vpc_id(vpc_id);
        let call = match attribute {
            ec2::VpcAttributeName::EnableDnsHostnames => call.enable_dns_hostnames(value),
            _ => call.enable_dns_support(value),
        };
        call.send().await.map_err(err(SERVICE, "ModifyVpcAttribute"))?;
        Ok(())
    }

    /// The data of the default version of a launch template; `None` when it is gone.
    async fn default_template_data(&self, template_id: &str) -> AwsResult<Option<ec2::ResponseLaunchTemplateData>> {
        let out = match self
            .client
            .describe_launch_template_versions()
            .launch_template_id(template_id)
            .versions("$Default")
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = err(SERVICE, "DescribeLaunchTemplateVersions")(e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        Ok(out.launch_template_versions().iter().find(|v| v.default_version() != Some(false)).map(|v| {
            v.launch_template_data().cloned().unwrap_or_else(|| ec2::ResponseLaunchTemplateData::builder().build())
        }))
    }

    async fn change_rules(&self, group_id: String, rules: Vec<SecurityGroupRule>, change: RuleChange) -> AwsResult<()> {
        if rules.is_empty() {
            return Ok(());
        }
        let operation = change.operation();
        let permissions = rules.iter().map(|r| permission(r, operation)).collect::<AwsResult<Vec<_>>>()?;
        let permissions = Some(permissions);
        match change {
            RuleChange::AuthorizeIngress => {
                self.client
                    .authorize_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(permissions)
                    .send()
                    .await
                    .map_err(err(SERVICE, operation))?;
            }
            RuleChange::AuthorizeEgress => {
                self.client
                    .authorize_security_group_egress()
                    .group_id(group_id)
                    .set_ip_permissions(permissions)
                    .send()
                    .await
                    .map_err(err(SERVICE, operation))?;
            }
            RuleChange::RevokeIngress => {
                self.client
                    .revoke_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(permissions)
                    .send()
                    .await
                    .map_err(err(SERVICE, operation))?;
            }
            RuleChange::RevokeEgress => {
                self.client
                    .revoke_security_group_egress()
                    .group_id(group_id)
                    .set_ip_permissions(permissions)
                    .send()
                    .await
                    .map_err(err(SERVICE, operation))?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum RuleChange {
    AuthorizeIngress,
    AuthorizeEgress,
    RevokeIngress,
    RevokeEgress,
}

impl RuleChange {
    fn operation(self) -> &'static str {
        match self {
            RuleChange::AuthorizeIngress => "AuthorizeSecurityGroupIngress",
            RuleChange::AuthorizeEgress => "AuthorizeSecurityGroupEgress",
            RuleChange::RevokeIngress => "RevokeSecurityGroupIngress",
            RuleChange::RevokeEgress => "RevokeSecurityGroupEgress",
        }
    }
}

/// The SDK's filters, `None` for none.
fn sdk_filters(filters: Vec<Filter>) -> Option<Vec<ec2::Filter>> {
    if filters.is_empty() {
        return None;
    }
    Some(filters.into_iter().map(|f| ec2::Filter::builder().name(f.name).set_values(Some(f.values)).build()).collect())
}

/// AWS tags as [`Tags`].
fn tags_of(tags: &[ec2::Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

/// [`Tags`] as AWS tags.
fn sdk_tags(tags: &Tags) -> Vec<ec2::Tag> {
    tag_pairs(tags).map(|(k, v)| ec2::Tag::builder().key(k).value(v).build()).collect()
}

/// Tag-on-create for `resource`; `None` without tags (AWS rejects an empty specification).
fn tag_spec(resource: ec2::ResourceType, tags: &Tags) -> Option<Vec<ec2::TagSpecification>> {
    if tags.is_empty() {
        return None;
    }
    Some(vec![ec2::TagSpecification::builder().resource_type(resource).set_tags(Some(sdk_tags(tags))).build()])
}

/// A protocol as the graph spells it: lower case names, `-1` for all.
fn protocol_name(protocol: &str) -> String {
    match protocol {
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        "all" | "ALL" => "-1".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Splits AWS permissions into one rule per (protocol, ports, peer), sorted.
fn rules_of(permissions: &[ec2::IpPermission]) -> Vec<SecurityGroupRule> {
    let mut rules = Vec::new();
    for p in permissions {
        let ip_protocol = protocol_name(p.ip_protocol().unwrap_or("-1"));
        let (from_port, to_port) =
            if ip_protocol == "-1" { (-1, -1) } else { (p.from_port().unwrap_or(-1), p.to_port().unwrap_or(-1)) };
        let rule = |peer, description: Option<&str>| SecurityGroupRule {
            ip_protocol: ip_protocol.clone(),
            from_port,
            to_port,
            peer,
            description: description.unwrap_or_default().to_owned(),
        };
        for range in p.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                rules.push(rule(Peer::CidrIpv4(cidr.to_owned()), range.description()));
            }
        }
        for pair in p.user_id_group_pairs() {
            if let Some(group) = pair.group_id() {
                rules.push(rule(Peer::SecurityGroupId(RefOr::Value(group.to_owned())), pair.description()));
            }
        }
    }
    rules.sort_by(|a, b| rule_key(a).cmp(&rule_key(b)));
    rules.dedup();
    rules
}

/// Sort key of a rule: protocol, ports, peer, description.
fn rule_key(rule: &SecurityGroupRule) -> (&str, i32, i32, u8, String, &str) {
    let (kind, peer) = match &rule.peer {
        Peer::CidrIpv4(c) => (0, c.clone()),
        Peer::SecurityGroupId(RefOr::Value(g)) => (1, g.clone()),
        Peer::SecurityGroupId(RefOr::Ref(r)) => (2, format!("{r:?}")),
    };
    (&rule.ip_protocol, rule.from_port, rule.to_port, kind, peer, &rule.description)
}

/// One rule as an AWS permission (ports left out for protocol `-1`).
fn permission(rule: &SecurityGroupRule, operation: &str) -> AwsResult<ec2::IpPermission> {
    let mut p = ec2::IpPermission::builder().ip_protocol(&rule.ip_protocol);
    if rule.ip_protocol != "-1" {
        p = p.from_port(rule.from_port).to_port(rule.to_port);
    }
    let description = (!rule.description.is_empty()).then(|| rule.description.clone());
    Ok(match &rule.peer {
        Peer::CidrIpv4(cidr) => p.ip_ranges(ec2::IpRange::builder().cidr_ip(cidr).set_description(description).build()),
        Peer::SecurityGroupId(group) => p.user_id_group_pairs(
            ec2::UserIdGroupPair::builder()
                .group_id(literal(group, SERVICE, operation)?)
                .set_description(description)
                .build(),
        ),
    }
    .build())
}

/// The launch template data for `props` booting `image_id`.
fn template_data(
    props: &LaunchTemplateProps,
    image_id: &str,
    operation: &str,
) -> AwsResult<ec2::RequestLaunchTemplateData> {
    let profile = literal(&props.iam_instance_profile_arn, SERVICE, operation)?;
    let groups = props
        .security_group_ids
        .iter()
        .map(|g| literal(g, SERVICE, operation).map(str::to_owned))
        .collect::<AwsResult<Vec<_>>>()?;
    let hop_limit = i32::try_from(props.metadata_options.http_put_response_hop_limit).map_err(|_| {
        AwsError::new(ErrorKind::Invalid, SERVICE, operation, "http_put_response_hop_limit is out of range")
    })?;
    let mut data = ec2::RequestLaunchTemplateData::builder()
        .image_id(image_id)
        .instance_type(ec2::InstanceType::from(props.instance_type.as_str()))
        .set_security_group_ids(Some(groups))
        .set_key_name(props.key_name.clone())
        .metadata_options(
            ec2::LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(ec2::LaunchTemplateHttpTokensState::from(props.metadata_options.http_tokens.as_str()))
                .http_put_response_hop_limit(hop_limit)
                .http_endpoint(ec2::LaunchTemplateInstanceMetadataEndpointState::from(
                    props.metadata_options.http_endpoint.as_str(),
                ))
                .build(),
        );
    if !profile.is_empty() {
        data = data.iam_instance_profile(
            ec2::LaunchTemplateIamInstanceProfileSpecificationRequest::builder().arn(profile).build(),
        );
    }
    if !props.user_data.is_empty() {
        data = data.user_data(aws_smithy_types::base64::encode(props.user_data.as_bytes()));
    }
    if !props.instance_tags.is_empty() {
        for resource in [ec2::ResourceType::Instance, ec2::ResourceType::Volume] {
            data = data.tag_specifications(
                ec2::LaunchTemplateTagSpecificationRequest::builder()
                    .resource_type(resource)
                    .set_tags(Some(sdk_tags(&props.instance_tags)))
                    .build(),
            );
        }
    }
    Ok(data.build())
}

/// Launch template data read back in the graph's shape (`image` as the AMI id).
fn template_props(name: &str, data: &ec2::ResponseLaunchTemplateData) -> LaunchTemplateProps {
    let metadata = data.metadata_options();
    let user_data = data.user_data().unwrap_or_default();
    let user_data = match aws_smithy_types::base64::decode(user_data) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(_) => user_data.to_owned(),
    };
    let instance_tags = data
        .tag_specifications()
        .iter()
        .filter(|s| s.resource_type() == Some(&ec2::ResourceType::Instance))
        .flat_map(|s| tags_of(s.tags()))
        .collect();
    LaunchTemplateProps {
        launch_template_name: name.to_owned(),
        image: ImageSource::ImageId(data.image_id().unwrap_or_default().to_owned()),
        instance_type: data.instance_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        iam_instance_profile_arn: RefOr::Value(
            data.iam_instance_profile().and_then(|p| p.arn()).unwrap_or_default().to_owned(),
        ),
        security_group_ids: data.security_group_ids().iter().map(|g| RefOr::Value(g.clone())).collect(),
        key_name: data.key_name().map(str::to_owned),
        // AWS's defaults where the template sets nothing.
        metadata_options: MetadataOptions {
            http_tokens: metadata.and_then(|m| m.http_tokens()).map_or("optional", |t| t.as_str()).to_owned(),
            http_put_response_hop_limit: metadata
                .and_then(|m| m.http_put_response_hop_limit())
                .and_then(|h| u32::try_from(h).ok())
                .unwrap_or(1),
            http_endpoint: metadata.and_then(|m| m.http_endpoint()).map_or("enabled", |e| e.as_str()).to_owned(),
        },
        user_data,
        instance_tags,
    }
}

#[async_trait]
impl Ec2Api for Ec2Sdk {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<String>> {
        let out = self
            .client
            .describe_availability_zones()
            .filters(ec2::Filter::builder().name("state").values("available").build())
            .filters(ec2::Filter::builder().name("zone-type").values("availability-zone").build())
            .send()
            .await
            .map_err(err(SERVICE, "DescribeAvailabilityZones"))?;
        let mut names: Vec<String> =
            out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_owned)).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn describe_vpcs(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<VpcProps>>> {
        let vpcs = self
            .client
            .describe_vpcs()
            .set_filters(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeVpcs"))?;
        let mut found = Vec::with_capacity(vpcs.len());
        for vpc in vpcs {
            let Some(id) = vpc.vpc_id() else { continue };
            let Some(dns_support) = self.vpc_attribute(id, ec2::VpcAttributeName::EnableDnsSupport).await? else {
                continue;
            };
            let Some(dns_hostnames) = self.vpc_attribute(id, ec2::VpcAttributeName::EnableDnsHostnames).await? else {
                continue;
            };
            let mut item = Found::new(
                id,
                VpcProps {
                    cidr_block: vpc.cidr_block().unwrap_or_default().to_owned(),
                    enable_dns_support: dns_support,
                    enable_dns_hostnames: dns_hostnames,
                },
            );
            item.state = vpc.state().map(|s| s.as_str().to_owned());
            item.tags = tags_of(vpc.tags());
            found.push(item);
        }
        Ok(found)
    }

    async fn create_vpc(&self, props: VpcProps, tags: Tags) -> AwsResult<String> {
        let out = self
            .client
            .create_vpc()
            .cidr_block(props.cidr_block)
            .set_tag_specifications(tag_spec(ec2::ResourceType::Vpc, &tags))
            .send()
            .await
            .map_err(err(SERVICE, "CreateVpc"))?;
        out.vpc().and_then(|v| v.vpc_id()).map(str::to_owned).ok_or_else(|| missing(SERVICE, "CreateVpc", "Vpc.VpcId"))
    }

    async fn modify_vpc_dns(&self, vpc_id: String, dns_support: bool, dns_hostnames: bool) -> AwsResult<()> {
        // Host names need DNS support: turn support on first, or host names off first.
        if dns_support {
            self.modify_vpc_attribute(&vpc_id, ec2::VpcAttributeName::EnableDnsSupport, true).await?;
            self.modify_vpc_attribute(&vpc_id, ec2::VpcAttributeName::EnableDnsHostnames, dns_hostnames).await
        } else {
            self.modify_vpc_attribute(&vpc_id, ec2::VpcAttributeName::EnableDnsHostnames, dns_hostnames).await?;
            self.modify_vpc_attribute(&vpc_id, ec2::VpcAttributeName::EnableDnsSupport, false).await
        }
    }

    async fn delete_vpc(&self, vpc_id: String) -> AwsResult<()> {
        self.client.delete_vpc().vpc_id(vpc_id).send().await.map_err(err(SERVICE, "DeleteVpc"))?;
        Ok(())
    }

    async fn describe_internet_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<InternetGatewayProps>>> {
        let gateways = self
            .client
            .describe_internet_gateways()
            .set_filters(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeInternetGateways"))?;
        let mut found = Vec::with_capacity(gateways.len());
        for igw in gateways {
            let Some(id) = igw.internet_gateway_id() else { continue };
            // An unattached gateway reads with an empty `vpc_id` and no state.
            let attachment = igw.attachments().iter().find(|a| a.vpc_id().is_some());
            let vpc_id = attachment.and_then(|a| a.vpc_id()).unwrap_or_default();
            let mut item = Found::new(id, InternetGatewayProps { vpc_id: RefOr::Value(vpc_id.to_owned()) });
            item.state = attachment.and_then(|a| a.state()).map(|s| s.as_str().to_owned());
            item.tags = tags_of(igw.tags());
            found.push(item);
        }
        Ok(found)
    }

    async fn create_internet_gateway(&self, tags: Tags) -> AwsResult<String> {
        let out = self
            .client
            .create_internet_gateway()
            .set_tag_specifications(tag_spec(ec2::ResourceType::InternetGateway, &tags))
            .send()
            .await
            .map_err(err(SERVICE, "CreateInternetGateway"))?;
        out.internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, "CreateInternetGateway", "InternetGateway.InternetGatewayId"))
    }

    async fn attach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()> {
        self.client
            .attach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(err(SERVICE, "AttachInternetGateway"))?;
        Ok(())
    }

    async fn detach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()> {
        self.client
            .detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(err(SERVICE, "DetachInternetGateway"))?;
        Ok(())
    }

    async fn delete_internet_gateway(&self, igw_id: String) -> AwsResult<()> {
        self.client
            .delete_internet_gateway()
            .internet_gateway_id(igw_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteInternetGateway"))?;
        Ok(())
    }

    async fn describe_subnets(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SubnetProps>>> {
        let subnets = self
            .client
            .describe_subnets()
            .set_filters(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeSubnets"))?;
        let mut found = Vec::with_capacity(subnets.len());
        for subnet in subnets {
            let Some(id) = subnet.subnet_id() else { continue };
            let mut item = Found::new(
                id,
                SubnetProps {
                    vpc_id: RefOr::Value(subnet.vpc_id().unwrap_or_default().to_owned()),
                    cidr_block: subnet.cidr_block().unwrap_or_default().to_owned(),
                    availability_zone: AvailabilityZone::Name(
                        subnet.availability_zone().unwrap_or_default().to_owned(),
                    ),
                    map_public_ip_on_launch: subnet.map_public_ip_on_launch().unwrap_or(false),
                },
            );
            item.arn = subnet.subnet_arn().map(str::to_owned);
            item.state = subnet.state().map(|s| s.as_str().to_owned());
            item.tags = tags_of(subnet.tags());
            found.push(item);
        }
        Ok(found)
    }

    async fn create_subnet(&self, props: SubnetProps, tags: Tags) -> AwsResult<String> {
        let zone = match &props.availability_zone {
            AvailabilityZone::Name(name) => name.clone(),
            AvailabilityZone::Index { zone_index } => {
                return Err(AwsError::new(
                    ErrorKind::Invalid,
                    SERVICE,
                    "CreateSubnet",
                    format!("availability zone index {zone_index} not resolved to a zone name before calling AWS"),
                ))
            }
        };
        let out = self
            .client
            .create_subnet()
            .vpc_id(literal(&props.vpc_id, SERVICE, "CreateSubnet")?)
            .cidr_block(props.cidr_block)
            .availability_zone(zone)
            .set_tag_specifications(tag_spec(ec2::ResourceType::Subnet, &tags))
            .send()
            .await
            .map_err(err(SERVICE, "CreateSubnet"))?;
        out.subnet()
            .and_then(|s| s.subnet_id())
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, "CreateSubnet", "Subnet.SubnetId"))
    }

    async fn modify_subnet_public_ip(&self, subnet_id: String, map_public_ip_on_launch: bool) -> AwsResult<()> {
        self.client
            .modify_subnet_attribute()
            .subnet_id(subnet_id)
            .map_public_ip_on_launch(ec2::AttributeBooleanValue::builder().value(map_public_ip_on_launch).build())
            .send()
            .await
            .map_err(err(SERVICE, "ModifySubnetAttribute"))?;
        Ok(())
    }

    async fn delete_subnet(&self, subnet_id: String) -> AwsResult<()> {
        self.client.delete_subnet().subnet_id(subnet_id).send().await.map_err(err(SERVICE, "DeleteSubnet"))?;
        Ok(())
    }

    async fn describe_network_interface_groups(&self, ids: Vec<String>) -> AwsResult<BTreeMap<String, Vec<String>>> {
        // A filter, not NetworkInterfaceIds: an id that no longer exists is left out
        // rather than failing the call.
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(FILTER_VALUES) {
            let interfaces: Vec<_> = self
                .client
                .describe_network_interfaces()
                .filters(ec2::Filter::builder().name("network-interface-id").set_values(Some(chunk.to_vec())).build())
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(err(SERVICE, "DescribeNetworkInterfaces"))?;
            for interface in interfaces {
                let Some(id) = interface.network_interface_id() else { continue };
                let groups = interface.groups().iter().filter_map(|g| g.group_id().map(str::to_owned)).collect();
                out.insert(id.to_owned(), groups);
            }
        }
        Ok(out)
    }

    async fn describe_addresses(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<EipProps>>> {
        // Not paginated: one call returns every address.
        let out = self
            .client
            .describe_addresses()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(err(SERVICE, "DescribeAddresses"))?;
        let mut found = Vec::new();
        for address in out.addresses() {
            let Some(id) = address.allocation_id() else { continue };
            let domain = address.domain().map_or("vpc", |d| d.as_str());
            let mut item = Found::new(id, EipProps { domain: domain.to_owned() });
            item.tags = tags_of(address.tags());
            for (key, value) in [
                ("public_ip", address.public_ip()),
                ("association_id", address.association_id()),
                ("network_interface_id", address.network_interface_id()),
            ] {
                if let Some(value) = value.filter(|v| !v.is_empty()) {
                    item.attrs.insert(key.to_owned(), value.to_owned());
                }
            }
            found.push(item);
        }
        Ok(found)
    }

    async fn allocate_address(&self, tags: Tags) -> AwsResult<String> {
        let out = self
            .client
            .allocate_address()
            .domain(ec2::DomainType::Vpc)
            .set_tag_specifications(tag_spec(ec2::ResourceType::ElasticIp, &tags))
            .send()
            .await
            .map_err(err(SERVICE, "AllocateAddress"))?;
        out.allocation_id().map(str::to_owned).ok_or_else(|| missing(SERVICE, "AllocateAddress", "AllocationId"))
    }

    async fn release_address(&self, allocation_id: String) -> AwsResult<()> {
        self.client
            .release_address()
            .allocation_id(allocation_id)
            .send()
            .await
            .map_err(err(SERVICE, "ReleaseAddress"))?;
        Ok(())
    }

    async fn describe_nat_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<NatGatewayProps>>> {
        let gateways = self
            .client
            .describe_nat_gateways()
            .set_filter(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeNatGateways"))?;
        let mut found = Vec::with_capacity(gateways.len());
        for nat in gateways {
            let Some(id) = nat.nat_gateway_id() else { continue };
            let addresses = nat.nat_gateway_addresses();
            let primary = addresses.iter().find(|a| a.is_primary() == Some(true)).or_else(|| addresses.first());
            let mut item = Found::new(
                id,
                NatGatewayProps {
                    subnet_id: RefOr::Value(nat.subnet_id().unwrap_or_default().to_owned()),
                    allocation_id: RefOr::Value(primary.and_then(|a| a.allocation_id()).unwrap_or_default().to_owned()),
                    connectivity_type: nat.connectivity_type().map_or("public", |c| c.as_str()).to_owned(),
                },
            );
            item.state = nat.state().map(|s| s.as_str().to_owned());
            item.tags = tags_of(nat.tags());
            for (key, value) in [
                ("vpc_id", nat.vpc_id()),
                ("public_ip", primary.and_then(|a| a.public_ip())),
                ("failure_code", nat.failure_code()),
                ("failure_message", nat.failure_message()),
            ] {
                if let Some(value) = value.filter(|v| !v.is_empty()) {
                    item.attrs.insert(key.to_owned(), value.to_owned());
                }
            }
            found.push(item);
        }
        Ok(found)
    }

    async fn create_nat_gateway(&self, props: NatGatewayProps, client_token: String, tags: Tags) -> AwsResult<String> {
        let op = "CreateNatGateway";
        let out = self
            .client
            .create_nat_gateway()
            .subnet_id(literal(&props.subnet_id, SERVICE, op)?)
            .allocation_id(literal(&props.allocation_id, SERVICE, op)?)
            .connectivity_type(ec2::ConnectivityType::from(props.connectivity_type.as_str()))
            .client_token(client_token)
            .set_tag_specifications(tag_spec(ec2::ResourceType::Natgateway, &tags))
            .send()
            .await
            .map_err(err(SERVICE, op))?;
        out.nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, op, "NatGateway.NatGatewayId"))
    }

    async fn delete_nat_gateway(&self, nat_gateway_id: String) -> AwsResult<()> {
        self.client
            .delete_nat_gateway()
            .nat_gateway_id(nat_gateway_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteNatGateway"))?;
        Ok(())
    }

    async fn describe_route_tables(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<RouteTableProps>>> {
        let tables = self
            .client
            .describe_route_tables()
            .set_filters(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeRouteTables"))?;
        let mut found = Vec::with_capacity(tables.len());
        for table in tables {
            let Some(id) = table.route_table_id() else { continue };
            let mut routes: Vec<Route> = table
                .routes()
                .iter()
                .filter_map(|r| {
                    let destination = r.destination_cidr_block()?.to_owned();
                    // The `local` route and targets the graph does not use are left out.
                    let target = match (r.gateway_id(), r.nat_gateway_id()) {
                        (Some("local"), _) => return None,
                        (Some(gateway), _) => RouteTarget::GatewayId(RefOr::Value(gateway.to_owned())),
                        (None, Some(nat)) => RouteTarget::NatGatewayId(RefOr::Value(nat.to_owned())),
                        (None, None) => return None,
                    };
                    Some(Route { destination_cidr_block: destination, target })
                })
                .collect();
            routes.sort_by(|a, b| a.destination_cidr_block.cmp(&b.destination_cidr_block));
            let mut attrs = BTreeMap::new();
            let mut subnets = Vec::new();
            let mut main = false;
            for association in table.associations() {
                if association.main() == Some(true) {
                    main = true;
                }
                if let (Some(subnet), Some(association_id)) =
                    (association.subnet_id(), association.route_table_association_id())
                {
                    subnets.push(subnet.to_owned());
                    attrs.insert(format!("assoc:{subnet}"), association_id.to_owned());
                }
            }
            subnets.sort();
            subnets.dedup();
            attrs.insert("main".to_owned(), main.to_string());
            let mut item = Found::new(
                id,
                RouteTableProps {
                    vpc_id: RefOr::Value(table.vpc_id().unwrap_or_default().to_owned()),
                    routes,
                    subnet_ids: subnets.into_iter().map(RefOr::Value).collect(),
                },
            );
            item.tags = tags_of(table.tags());
            item.attrs = attrs;
            found.push(item);
        }
        Ok(found)
    }

    async fn create_route_table(&self, vpc_id: String, client_token: String, tags: Tags) -> AwsResult<String> {
        let out = self
            .client
            .create_route_table()
            .vpc_id(vpc_id)
            .client_token(client_token)
            .set_tag_specifications(tag_spec(ec2::ResourceType::RouteTable, &tags))
            .send()
            .await
            .map_err(err(SERVICE, "CreateRouteTable"))?;
        out.route_table()
            .and_then(|t| t.route_table_id())
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, "CreateRouteTable", "RouteTable.RouteTableId"))
    }

    async fn create_route(&self, route_table_id: String, route: Route) -> AwsResult<()> {
        let op = "CreateRoute";
        let call = self
            .client
            .create_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(route.destination_cidr_block);
        let call = match &route.target {
            RouteTarget::GatewayId(id) => call.gateway_id(literal(id, SERVICE, op)?),
            RouteTarget::NatGatewayId(id) => call.nat_gateway_id(literal(id, SERVICE, op)?),
        };
        call.send().await.map_err(err(SERVICE, op))?;
        Ok(())
    }

    async fn replace_route(&self, route_table_id: String, route: Route) -> AwsResult<()> {
        let op = "ReplaceRoute";
        let call = self
            .client
            .replace_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(route.destination_cidr_block);
        let call = match &route.target {
            RouteTarget::GatewayId(id) => call.gateway_id(literal(id, SERVICE, op)?),
            RouteTarget::NatGatewayId(id) => call.nat_gateway_id(literal(id, SERVICE, op)?),
        };
        call.send().await.map_err(err(SERVICE, op))?;
        Ok(())
    }

    async fn delete_route(&self, route_table_id: String, destination_cidr_block: String) -> AwsResult<()> {
        self.client
            .delete_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(destination_cidr_block)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteRoute"))?;
        Ok(())
    }

    async fn associate_route_table(&self, route_table_id: String, subnet_id: String) -> AwsResult<String> {
        let out = self
            .client
            .associate_route_table()
            .route_table_id(route_table_id)
            .subnet_id(subnet_id)
            .send()
            .await
            .map_err(err(SERVICE, "AssociateRouteTable"))?;
        out.association_id().map(str::to_owned).ok_or_else(|| missing(SERVICE, "AssociateRouteTable", "AssociationId"))
    }

    async fn disassociate_route_table(&self, association_id: String) -> AwsResult<()> {
        self.client
            .disassociate_route_table()
            .association_id(association_id)
            .send()
            .await
            .map_err(err(SERVICE, "DisassociateRouteTable"))?;
        Ok(())
    }

    async fn delete_route_table(&self, route_table_id: String) -> AwsResult<()> {
        self.client
            .delete_route_table()
            .route_table_id(route_table_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteRouteTable"))?;
        Ok(())
    }

    async fn describe_security_groups(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SecurityGroupProps>>> {
        let groups = self
            .client
            .describe_security_groups()
            .set_filters(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeSecurityGroups"))?;
        let mut found = Vec::with_capacity(groups.len());
        for group in groups {
            let Some(id) = group.group_id() else { continue };
            let mut item = Found::new(
                id,
                SecurityGroupProps {
                    group_name: group.group_name().unwrap_or_default().to_owned(),
                    description: group.description().unwrap_or_default().to_owned(),
                    vpc_id: RefOr::Value(group.vpc_id().unwrap_or_default().to_owned()),
                    ingress: rules_of(group.ip_permissions()),
                    egress: rules_of(group.ip_permissions_egress()),
                },
            );
            item.arn = group.security_group_arn().map(str::to_owned);
            item.tags = tags_of(group.tags());
            found.push(item);
        }
        Ok(found)
    }

    async fn create_security_group(
        &self,
        group_name: String,
        description: String,
        vpc_id: String,
        tags: Tags,
    ) -> AwsResult<String> {
        let out = self
            .client
            .create_security_group()
            .group_name(group_name)
            .description(description)
            .vpc_id(vpc_id)
            .set_tag_specifications(tag_spec(ec2::ResourceType::SecurityGroup, &tags))
            .send()
            .await
            .map_err(err(SERVICE, "CreateSecurityGroup"))?;
        out.group_id().map(str::to_owned).ok_or_else(|| missing(SERVICE, "CreateSecurityGroup", "GroupId"))
    }

    async fn authorize_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        self.change_rules(group_id, rules, RuleChange::AuthorizeIngress).await
    }

    async fn authorize_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        self.change_rules(group_id, rules, RuleChange::AuthorizeEgress).await
    }

    async fn revoke_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        self.change_rules(group_id, rules, RuleChange::RevokeIngress).await
    }

    async fn revoke_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        self.change_rules(group_id, rules, RuleChange::RevokeEgress).await
    }

    async fn delete_security_group(&self, group_id: String) -> AwsResult<()> {
        self.client
            .delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteSecurityGroup"))?;
        Ok(())
    }

    async fn list_launch_templates(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<String>>> {
        let templates = self
            .client
            .describe_launch_templates()
            .set_filters(sdk_filters(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, "DescribeLaunchTemplates"))?;
        let mut found = Vec::with_capacity(templates.len());
        for template in templates {
            let Some(id) = template.launch_template_id() else { continue };
            let mut item = Found::new(id, template.launch_template_name().unwrap_or_default().to_owned());
            item.tags = tags_of(template.tags());
            if let Some(v) = template.default_version_number() {
                item.attrs.insert("default_version".into(), v.to_string());
            }
            if let Some(v) = template.latest_version_number() {
                item.attrs.insert("latest_version".into(), v.to_string());
            }
            found.push(item);
        }
        Ok(found)
    }

    async fn launch_template_data(
        &self,
        launch_template_id: String,
        name: String,
    ) -> AwsResult<Option<LaunchTemplateProps>> {
        Ok(self.default_template_data(&launch_template_id).await?.map(|data| template_props(&name, &data)))
    }

    async fn create_launch_template(
        &self,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
        tags: Tags,
    ) -> AwsResult<String> {
        let op = "CreateLaunchTemplate";
        let data = template_data(&props, &image_id, op)?;
        let out = self
            .client
            .create_launch_template()
            .launch_template_name(props.launch_template_name)
            .launch_template_data(data)
            .client_token(client_token)
            .set_tag_specifications(tag_spec(ec2::ResourceType::LaunchTemplate, &tags))
            .send()
            .await
            .map_err(err(SERVICE, op))?;
        out.launch_template()
            .and_then(|t| t.launch_template_id())
            .map(str::to_owned)
            .ok_or_else(|| missing(SERVICE, op, "LaunchTemplate.LaunchTemplateId"))
    }

    async fn create_launch_template_version(
        &self,
        launch_template_id: String,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
    ) -> AwsResult<i64> {
        let op = "CreateLaunchTemplateVersion";
        let data = template_data(&props, &image_id, op)?;
        let out = self
            .client
            .create_launch_template_version()
            .launch_template_id(launch_template_id)
            .launch_template_data(data)
            .client_token(client_token)
            .send()
            .await
            .map_err(err(SERVICE, op))?;
        out.launch_template_version()
            .and_then(|v| v.version_number())
            .ok_or_else(|| missing(SERVICE, op, "LaunchTemplateVersion.VersionNumber"))
    }

    async fn set_default_launch_template_version(&self, launch_template_id: String, version: i64) -> AwsResult<()> {
        self.client
            .modify_launch_template()
            .launch_template_id(launch_template_id)
            .default_version(version.to_string())
            .send()
            .await
            .map_err(err(SERVICE, "ModifyLaunchTemplate"))?;
        Ok(())
    }

    async fn delete_launch_template(&self, launch_template_id: String) -> AwsResult<()> {
        self.client
            .delete_launch_template()
            .launch_template_id(launch_template_id)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteLaunchTemplate"))?;
        Ok(())
    }

    async fn create_tags(&self, resource_ids: Vec<String>, tags: Tags) -> AwsResult<()> {
        if resource_ids.is_empty() || tags.is_empty() {
            return Ok(());
        }
        self.client
            .create_tags()
            .set_resources(Some(resource_ids))
            .set_tags(Some(sdk_tags(&tags)))
            .send()
            .await
            .map_err(err(SERVICE, "CreateTags"))?;
        Ok(())
    }

    async fn delete_tags(&self, resource_ids: Vec<String>, keys: Vec<String>) -> AwsResult<()> {
        // DeleteTags without keys would delete every tag: nothing to do instead.
        if resource_ids.is_empty() || keys.is_empty() {
            return Ok(());
        }
        self.client
            .delete_tags()
            .set_resources(Some(resource_ids))
            .set_tags(Some(keys.into_iter().map(|k| ec2::Tag::builder().key(k).build()).collect()))
            .send()
            .await
            .map_err(err(SERVICE, "DeleteTags"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput;
    use aws_sdk_ec2::operation::create_launch_template::{CreateLaunchTemplateInput, CreateLaunchTemplateOutput};
    use aws_sdk_ec2::operation::create_nat_gateway::CreateNatGatewayOutput;
    use aws_sdk_ec2::operation::create_security_group::CreateSecurityGroupError;
    use aws_sdk_ec2::operation::create_tags::CreateTagsOutput;
    use aws_sdk_ec2::operation::delete_vpc::DeleteVpcError;
    use aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput;
    use aws_sdk_ec2::operation::describe_availability_zones::DescribeAvailabilityZonesOutput;
    use aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput;
    use aws_sdk_ec2::operation::describe_launch_template_versions::{
        DescribeLaunchTemplateVersionsError, DescribeLaunchTemplateVersionsOutput,
    };
    use aws_sdk_ec2::operation::describe_launch_templates::DescribeLaunchTemplatesOutput;
    use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput;
    use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
    use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
    use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
    use aws_sdk_ec2::operation::describe_vpc_attribute::{DescribeVpcAttributeError, DescribeVpcAttributeOutput};
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::operation::modify_vpc_attribute::ModifyVpcAttributeOutput;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::graph::props::{Attr, Ref};
    use crate::graph::LogicalId;

    fn client(rules: &[&Rule]) -> Ec2Sdk {
        Ec2Sdk::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, rules.iter().copied()))
    }

    /// Inputs seen by a rule, for asserting requests.
    fn seen<I>() -> Arc<Mutex<Vec<I>>> {
        Arc::new(Mutex::new(Vec::new()))
    }

    fn tag(k: &str, v: &str) -> ec2::Tag {
        ec2::Tag::builder().key(k).value(v).build()
    }

    fn stack_tags() -> Tags {
        Tags::from([("ecs-kit:stack".to_owned(), "shop".to_owned())])
    }

    /// An EC2 error as the SDK's deserializer builds it (EC2 has no modeled errors).
    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(format!("{code} happened")).build()
    }

    fn vpc(id: &str, cidr: &str) -> ec2::Vpc {
        ec2::Vpc::builder()
            .vpc_id(id)
            .cidr_block(cidr)
            .state(ec2::VpcState::Available)
            .tags(tag("ecs-kit:stack", "shop"))
            .build()
    }

    fn attribute_output(attribute: &ec2::VpcAttributeName, on: bool) -> DescribeVpcAttributeOutput {
        let value = ec2::AttributeBooleanValue::builder().value(on).build();
        match attribute {
            ec2::VpcAttributeName::EnableDnsHostnames => {
                DescribeVpcAttributeOutput::builder().enable_dns_hostnames(value).build()
            }
            _ => DescribeVpcAttributeOutput::builder().enable_dns_support(value).build(),
        }
    }

    #[tokio::test]
    async fn availability_zones_are_available_zones_sorted() {
        let requests = seen();
        let log = requests.clone();
        let rule = mock!(Client::describe_availability_zones).then_compute_output(move |r| {
            log.lock().unwrap().push(r.clone());
            let zone = |n: &str| ec2::AvailabilityZone::builder().zone_name(n).build();
            DescribeAvailabilityZonesOutput::builder()
                .availability_zones(zone("us-west-2c"))
                .availability_zones(zone("us-west-2a"))
                .availability_zones(zone("us-west-2b"))
                .build()
        });
        let zones = client(&[&rule]).describe_availability_zones().await.unwrap();
        assert_eq!(zones, ["us-west-2a", "us-west-2b", "us-west-2c"]);
        let requests = requests.lock().unwrap();
        let filters: Vec<(&str, &[String])> =
            requests[0].filters().iter().map(|f| (f.name().unwrap(), f.values())).collect();
        assert_eq!(
            filters,
            [("state", &["available".to_owned()][..]), ("zone-type", &["availability-zone".to_owned()][..])]
        );
    }

    #[tokio::test]
    async fn describe_vpcs_follows_pages_and_reads_dns_attributes() {
        let pages = mock!(Client::describe_vpcs)
            .sequence()
            .output(|| DescribeVpcsOutput::builder().vpcs(vpc("vpc-1", "10.0.0.0/16")).next_token("t").build())
            .output(|| DescribeVpcsOutput::builder().vpcs(vpc("vpc-2", "10.1.0.0/16")).build())
            .build();
        // vpc-1: support on, host names on; vpc-2: support on, host names off.
        let attributes = mock!(Client::describe_vpc_attribute).then_compute_output(|r| {
            let attribute = r.attribute().unwrap();
            let on = r.vpc_id() == Some("vpc-1") || *attribute == ec2::VpcAttributeName::EnableDnsSupport;
            attribute_output(attribute, on)
        });
        let requests = seen();
        let log = requests.clone();
        let pages_seen = mock!(Client::describe_vpcs).match_requests(move |r| {
            log.lock().unwrap().push(r.clone());
            false
        });
        let rule_list = [&pages_seen.then_output(|| unreachable!()), &pages, &attributes];
        let found = client(&rule_list).describe_vpcs(vec![Filter::tag("ecs-kit:stack", "shop")]).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].id, "vpc-1");
        assert_eq!(
            found[0].props,
            VpcProps { cidr_block: "10.0.0.0/16".into(), enable_dns_support: true, enable_dns_hostnames: true }
        );
        assert_eq!(found[0].state.as_deref(), Some("available"));
        assert_eq!(found[0].tags, stack_tags());
        assert_eq!(found[0].arn, None);
        assert_eq!(
            found[1].props,
            VpcProps { cidr_block: "10.1.0.0/16".into(), enable_dns_support: true, enable_dns_hostnames: false }
        );
        assert_eq!(pages.num_calls(), 2);
        assert_eq!(attributes.num_calls(), 4, "two attributes per VPC");
        let requests = requests.lock().unwrap();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].filters()[0].name(), Some("tag:ecs-kit:stack"));
        assert_eq!(requests[0].filters()[0].values(), ["shop"]);
        assert_eq!(requests[1].next_token(), Some("t"));
    }

    #[tokio::test]
    async fn a_vpc_deleted_during_the_describe_is_left_out() {
        let listing = mock!(Client::describe_vpcs).then_output(|| {
            DescribeVpcsOutput::builder().vpcs(vpc("vpc-gone", "10.0.0.0/16")).vpcs(vpc("vpc-1", "10.1.0.0/16")).build()
        });
        let gone = mock!(Client::describe_vpc_attribute)
            .match_requests(|r| r.vpc_id() == Some("vpc-gone"))
            .then_error(|| DescribeVpcAttributeError::generic(meta("InvalidVpcID.NotFound")));
        let attributes = mock!(Client::describe_vpc_attribute)
            .then_compute_output(|r| attribute_output(r.attribute().unwrap(), false));
        let found = client(&[&listing, &gone, &attributes]).describe_vpcs(vec![]).await.unwrap();
        assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["vpc-1"]);
        assert_eq!(gone.num_calls(), 1);
    }

    #[tokio::test]
    async fn other_attribute_errors_fail_the_describe() {
        let listing = mock!(Client::describe_vpcs)
            .then_output(|| DescribeVpcsOutput::builder().vpcs(vpc("vpc-1", "10.0.0.0/16")).build());
        let denied = mock!(Client::describe_vpc_attribute)
            .then_error(|| DescribeVpcAttributeError::generic(meta("UnauthorizedOperation")));
        let e = client(&[&listing, &denied]).describe_vpcs(vec![]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert_eq!(e.operation, "DescribeVpcAttribute");
        assert_eq!(e.service, "ec2");
    }

    #[tokio::test]
    async fn modify_vpc_dns_orders_the_two_attributes() {
        let requests = seen();
        let log = requests.clone();
        let rule = mock!(Client::modify_vpc_attribute).then_compute_output(move |r| {
            log.lock().unwrap().push(r.clone());
            ModifyVpcAttributeOutput::builder().build()
        });
        let ec2 = client(&[&rule]);
        let calls =
            |requests: &Arc<Mutex<Vec<aws_sdk_ec2::operation::modify_vpc_attribute::ModifyVpcAttributeInput>>>| {
                requests
                    .lock()
                    .unwrap()
                    .drain(..)
                    .map(|r| {
                        assert_eq!(r.vpc_id(), Some("vpc-1"));
                        match (r.enable_dns_support(), r.enable_dns_hostnames()) {
                            (Some(v), None) => ("support", v.value().unwrap()),
                            (None, Some(v)) => ("hostnames", v.value().unwrap()),
                            other => panic!("one attribute per call: {other:?}"),
                        }
                    })
                    .collect::<Vec<_>>()
            };
        ec2.modify_vpc_dns("vpc-1".into(), true, true).await.unwrap();
        assert_eq!(calls(&requests), [("support", true), ("hostnames", true)]);
        ec2.modify_vpc_dns("vpc-1".into(), false, false).await.unwrap();
        assert_eq!(calls(&requests), [("hostnames", false), ("support", false)]);
    }

    #[tokio::test]
    async fn delete_vpc_with_dependencies_is_a_conflict() {
        let rule = mock!(Client::delete_vpc).then_error(|| DeleteVpcError::generic(meta("DependencyViolation")));
        let e = client(&[&rule]).delete_vpc("vpc-1".into()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.code.as_deref(), Some("DependencyViolation"));
        assert_eq!(e.operation, "DeleteVpc");
    }

    #[tokio::test]
    async fn internet_gateways_read_their_attachment() {
        let rule = mock!(Client::describe_internet_gateways).then_output(|| {
            DescribeInternetGatewaysOutput::builder()
                .internet_gateways(
                    ec2::InternetGateway::builder()
                        .internet_gateway_id("igw-1")
                        .attachments(
                            ec2::InternetGatewayAttachment::builder()
                                .vpc_id("vpc-1")
                                .state(ec2::AttachmentStatus::from("available"))
                                .build(),
                        )
                        .tags(tag("ecs-kit:stack", "shop"))
                        .build(),
                )
                .internet_gateways(ec2::InternetGateway::builder().internet_gateway_id("igw-2").build())
                .build()
        });
        let found = client(&[&rule]).describe_internet_gateways(vec![]).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].id, "igw-1");
        assert_eq!(found[0].props, InternetGatewayProps { vpc_id: RefOr::Value("vpc-1".into()) });
        assert_eq!(found[0].state.as_deref(), Some("available"));
        assert_eq!(found[0].tags, stack_tags());
        assert_eq!(found[1].props, InternetGatewayProps { vpc_id: RefOr::Value(String::new()) });
        assert_eq!(found[1].state, None);
    }

    #[tokio::test]
    async fn subnets_read_zone_names() {
        let rule = mock!(Client::describe_subnets).then_output(|| {
            DescribeSubnetsOutput::builder()
                .subnets(
                    ec2::Subnet::builder()
                        .subnet_id("subnet-1")
                        .subnet_arn("arn:aws:ec2:us-west-2:123456789012:subnet/subnet-1")
                        .vpc_id("vpc-1")
                        .cidr_block("10.0.0.0/24")
                        .availability_zone("us-west-2a")
                        .availability_zone_id("usw2-az1")
                        .map_public_ip_on_launch(false)
                        .state(ec2::SubnetState::Available)
                        .tags(tag("ecs-kit:stack", "shop"))
                        .build(),
                )
                .build()
        });
        let found = client(&[&rule]).describe_subnets(vec![Filter::new("vpc-id", ["vpc-1"])]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].props,
            SubnetProps {
                vpc_id: RefOr::Value("vpc-1".into()),
                cidr_block: "10.0.0.0/24".into(),
                availability_zone: AvailabilityZone::Name("us-west-2a".into()),
                map_public_ip_on_launch: false,
            }
        );
        assert_eq!(found[0].arn.as_deref(), Some("arn:aws:ec2:us-west-2:123456789012:subnet/subnet-1"));
        assert_eq!(found[0].state.as_deref(), Some("available"));
        assert_eq!(found[0].tags, stack_tags());
    }

    #[tokio::test]
    async fn create_subnet_needs_resolved_zone_and_vpc() {
        let rule = mock!(Client::create_subnet).then_output(|| unreachable!());
        let ec2 = client(&[&rule]);
        let props = SubnetProps {
            vpc_id: RefOr::Value("vpc-1".into()),
            cidr_block: "10.0.0.0/24".into(),
            availability_zone: AvailabilityZone::Index { zone_index: 0 },
            map_public_ip_on_launch: false,
        };
        let e = ec2.create_subnet(props.clone(), Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.operation, "CreateSubnet");
        let unresolved = SubnetProps {
            vpc_id: RefOr::Ref(Ref { id: LogicalId::new("vpc"), attr: Attr::Id }),
            availability_zone: AvailabilityZone::Name("us-west-2a".into()),
            ..props
        };
        let e = ec2.create_subnet(unresolved, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(rule.num_calls(), 0);
    }

    #[tokio::test]
    async fn addresses_are_read_in_one_call() {
        let rule = mock!(Client::describe_addresses).then_output(|| {
            DescribeAddressesOutput::builder()
                .addresses(
                    ec2::Address::builder()
                        .allocation_id("eipalloc-1")
                        .public_ip("203.0.113.7")
                        .domain(ec2::DomainType::Vpc)
                        .association_id("eipassoc-1")
                        // moto sends an empty interface id for an unassociated address.
                        .network_interface_id("")
                        .tags(tag("ecs-kit:stack", "shop"))
                        .build(),
                )
                .build()
        });
        let found = client(&[&rule]).describe_addresses(vec![Filter::tag("ecs-kit:stack", "shop")]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "eipalloc-1");
        assert_eq!(found[0].props, EipProps { domain: "vpc".into() });
        assert_eq!(found[0].tags, stack_tags());
        assert_eq!(
            found[0].attrs,
            BTreeMap::from([
                ("association_id".to_owned(), "eipassoc-1".to_owned()),
                ("public_ip".to_owned(), "203.0.113.7".to_owned()),
            ])
        );
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn network_interfaces_are_read_by_a_filter_200_ids_a_call() {
        use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
        let rule = mock!(Client::describe_network_interfaces)
            .match_requests(|r| {
                let filter = &r.filters()[0];
                filter.name() == Some("network-interface-id") && !filter.values().is_empty()
            })
            .then_output(|| {
                let group = |id: &str| ec2::GroupIdentifier::builder().group_id(id).build();
                DescribeNetworkInterfacesOutput::builder()
                    .network_interfaces(
                        ec2::NetworkInterface::builder()
                            .network_interface_id("eni-1")
                            .groups(group("sg-2"))
                            .groups(group("sg-1"))
                            .build(),
                    )
                    .build()
            });
        let ids: Vec<String> = (0..201).map(|i| format!("eni-{i}")).collect();
        let found = client(&[&rule]).describe_network_interface_groups(ids).await.unwrap();
        assert_eq!(found, BTreeMap::from([("eni-1".to_owned(), vec!["sg-2".to_owned(), "sg-1".to_owned()])]));
        assert_eq!(rule.num_calls(), 2, "201 ids: two calls");
    }

    #[tokio::test]
    async fn nat_gateways_keep_every_state() {
        let nat = |id: &str, state: ec2::NatGatewayState| {
            ec2::NatGateway::builder()
                .nat_gateway_id(id)
                .subnet_id("subnet-1")
                .vpc_id("vpc-1")
                .state(state)
                .connectivity_type(ec2::ConnectivityType::Public)
                .nat_gateway_addresses(
                    ec2::NatGatewayAddress::builder()
                        .allocation_id("eipalloc-1")
                        .public_ip("203.0.113.7")
                        .is_primary(true)
                        .build(),
                )
                .tags(tag("ecs-kit:stack", "shop"))
                .build()
        };
        let rule = mock!(Client::describe_nat_gateways).then_output(move || {
            DescribeNatGatewaysOutput::builder()
                .nat_gateways(nat("nat-1", ec2::NatGatewayState::Available))
                .nat_gateways(nat("nat-0", ec2::NatGatewayState::Deleted))
                .build()
        });
        let found = client(&[&rule]).describe_nat_gateways(vec![]).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].props,
            NatGatewayProps {
                subnet_id: RefOr::Value("subnet-1".into()),
                allocation_id: RefOr::Value("eipalloc-1".into()),
                connectivity_type: "public".into(),
            }
        );
        assert_eq!(found[0].state.as_deref(), Some("available"));
        assert_eq!(found[0].attrs.get("vpc_id").map(String::as_str), Some("vpc-1"));
        assert_eq!(found[0].tags, stack_tags());
        assert_eq!(found[1].id, "nat-0");
        assert_eq!(found[1].state.as_deref(), Some("deleted"));
    }

    #[tokio::test]
    async fn create_nat_gateway_sends_token_and_tags() {
        let requests = seen();
        let log = requests.clone();
        let rule = mock!(Client::create_nat_gateway).then_compute_output(move |r| {
            log.lock().unwrap().push(r.clone());
            CreateNatGatewayOutput::builder()
                .nat_gateway(ec2::NatGateway::builder().nat_gateway_id("nat-1").build())
                .build()
        });
        let props = NatGatewayProps {
            subnet_id: RefOr::Value("subnet-1".into()),
            allocation_id: RefOr::Value("eipalloc-1".into()),
            connectivity_type: "public".into(),
        };
        let id = client(&[&rule]).create_nat_gateway(props, "shop-nat-0".into(), stack_tags()).await.unwrap();
        assert_eq!(id, "nat-1");
        let r = requests.lock().unwrap().pop().unwrap();
        assert_eq!(r.subnet_id(), Some("subnet-1"));
        assert_eq!(r.allocation_id(), Some("eipalloc-1"));
        assert_eq!(r.client_token(), Some("shop-nat-0"));
        assert_eq!(r.connectivity_type(), Some(&ec2::ConnectivityType::Public));
        assert_eq!(r.tag_specifications().len(), 1);
        assert_eq!(r.tag_specifications()[0].resource_type(), Some(&ec2::ResourceType::Natgateway));
        assert_eq!(r.tag_specifications()[0].tags(), [tag("ecs-kit:stack", "shop")]);
    }

    #[tokio::test]
    async fn route_tables_read_routes_and_associations() {
        let rule = mock!(Client::describe_route_tables).then_output(|| {
            let route = |cidr: Option<&str>| ec2::Route::builder().set_destination_cidr_block(cidr.map(str::to_owned));
            let association = |id: &str, subnet: Option<&str>, main: bool| {
                ec2::RouteTableAssociation::builder()
                    .route_table_association_id(id)
                    .set_subnet_id(subnet.map(str::to_owned))
                    .main(main)
                    .build()
            };
            DescribeRouteTablesOutput::builder()
                .route_tables(
                    ec2::RouteTable::builder()
                        .route_table_id("rtb-1")
                        .vpc_id("vpc-1")
                        .routes(route(Some("10.0.0.0/16")).gateway_id("local").build())
                        .routes(route(Some("192.168.0.0/16")).nat_gateway_id("nat-1").build())
                        .routes(route(Some("0.0.0.0/0")).gateway_id("igw-1").build())
                        .routes(ec2::Route::builder().destination_prefix_list_id("pl-1").gateway_id("vpce-1").build())
                        .associations(association("rtbassoc-b", Some("subnet-b"), false))
                        .associations(association("rtbassoc-a", Some("subnet-a"), false))
                        .tags(tag("ecs-kit:stack", "shop"))
                        .build(),
                )
                .route_tables(
                    ec2::RouteTable::builder()
                        .route_table_id("rtb-main")
                        .vpc_id("vpc-1")
                        .routes(route(Some("10.0.0.0/16")).gateway_id("local").build())
                        .associations(association("rtbassoc-main", None, true))
                        .build(),
                )
                .build()
        });
        let found = client(&[&rule]).describe_route_tables(vec![]).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].props,
            RouteTableProps {
                vpc_id: RefOr::Value("vpc-1".into()),
                routes: vec![
                    Route {
                        destination_cidr_block: "0.0.0.0/0".into(),
                        target: RouteTarget::GatewayId(RefOr::Value("igw-1".into())),
                    },
                    Route {
                        destination_cidr_block: "192.168.0.0/16".into(),
                        target: RouteTarget::NatGatewayId(RefOr::Value("nat-1".into())),
                    },
                ],
                subnet_ids: vec![RefOr::Value("subnet-a".into()), RefOr::Value("subnet-b".into())],
            }
        );
        let attrs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        assert_eq!(
            found[0].attrs,
            attrs(&[("assoc:subnet-a", "rtbassoc-a"), ("assoc:subnet-b", "rtbassoc-b"), ("main", "false")])
        );
        assert_eq!(found[0].tags, stack_tags());
        assert_eq!(found[1].props.routes, []);
        assert_eq!(found[1].props.subnet_ids, []);
        assert_eq!(found[1].attrs, attrs(&[("main", "true")]));
    }

    fn sg_rule(protocol: &str, from: i32, to: i32, peer: Peer, description: &str) -> SecurityGroupRule {
        SecurityGroupRule {
            ip_protocol: protocol.into(),
            from_port: from,
            to_port: to,
            peer,
            description: description.into(),
        }
    }

    fn cidr(c: &str) -> Peer {
        Peer::CidrIpv4(c.into())
    }

    fn group(g: &str) -> Peer {
        Peer::SecurityGroupId(RefOr::Value(g.into()))
    }

    #[tokio::test]
    async fn security_group_rules_are_split_one_per_peer_and_sorted() {
        let rule = mock!(Client::describe_security_groups).then_output(|| {
            let range = |c: &str, d: Option<&str>| {
                ec2::IpRange::builder().cidr_ip(c).set_description(d.map(str::to_owned)).build()
            };
            let pair = |g: &str, d: &str| {
                ec2::UserIdGroupPair::builder().group_id(g).user_id("123456789012").description(d).build()
            };
            DescribeSecurityGroupsOutput::builder()
                .security_groups(
                    ec2::SecurityGroup::builder()
                        .group_id("sg-1")
                        .group_name("shop-instances")
                        .description("ecs-kit: container instances")
                        .vpc_id("vpc-1")
                        .security_group_arn("arn:aws:ec2:us-west-2:123456789012:security-group/sg-1")
                        .ip_permissions(
                            ec2::IpPermission::builder()
                                .ip_protocol("tcp")
                                .from_port(32768)
                                .to_port(65535)
                                .user_id_group_pairs(pair("sg-lb", "dynamic host ports from the load balancer"))
                                .ip_ranges(range("10.0.0.0/16", Some("from the VPC")))
                                .build(),
                        )
                        .ip_permissions(
                            ec2::IpPermission::builder()
                                .ip_protocol("tcp")
                                .from_port(22)
                                .to_port(22)
                                .ip_ranges(range("198.51.100.0/24", Some("SSH from the admin CIDR")))
                                .build(),
                        )
                        // AWS leaves the ports out for all protocols.
                        .ip_permissions_egress(
                            ec2::IpPermission::builder().ip_protocol("-1").ip_ranges(range("0.0.0.0/0", None)).build(),
                        )
                        .tags(tag("ecs-kit:stack", "shop"))
                        .build(),
                )
                .build()
        });
        let found = client(&[&rule]).describe_security_groups(vec![]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].props,
            SecurityGroupProps {
                group_name: "shop-instances".into(),
                description: "ecs-kit: container instances".into(),
                vpc_id: RefOr::Value("vpc-1".into()),
                ingress: vec![
                    sg_rule("tcp", 22, 22, cidr("198.51.100.0/24"), "SSH from the admin CIDR"),
                    sg_rule("tcp", 32768, 65535, cidr("10.0.0.0/16"), "from the VPC"),
                    sg_rule("tcp", 32768, 65535, group("sg-lb"), "dynamic host ports from the load balancer"),
                ],
                egress: vec![sg_rule("-1", -1, -1, cidr("0.0.0.0/0"), "")],
            }
        );
        assert_eq!(found[0].arn.as_deref(), Some("arn:aws:ec2:us-west-2:123456789012:security-group/sg-1"));
        assert_eq!(found[0].tags, stack_tags());
    }

    #[tokio::test]
    async fn authorize_sends_one_permission_per_rule() {
        let requests = seen();
        let log = requests.clone();
        let rule = mock!(Client::authorize_security_group_ingress).then_compute_output(move |r| {
            log.lock().unwrap().push(r.clone());
            AuthorizeSecurityGroupIngressOutput::builder().r#return(true).build()
        });
        let rules = vec![
            sg_rule("tcp", 2049, 2049, group("sg-2"), "NFS from the container instances"),
            sg_rule("-1", -1, -1, cidr("0.0.0.0/0"), ""),
        ];
        client(&[&rule]).authorize_ingress("sg-1".into(), rules).await.unwrap();
        let r = requests.lock().unwrap().pop().unwrap();
        assert_eq!(r.group_id(), Some("sg-1"));
        assert_eq!(
            r.ip_permissions(),
            [
                ec2::IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(2049)
                    .to_port(2049)
                    .user_id_group_pairs(
                        ec2::UserIdGroupPair::builder()
                            .group_id("sg-2")
                            .description("NFS from the container instances")
                            .build()
                    )
                    .build(),
                ec2::IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(ec2::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            ]
        );
    }

    #[tokio::test]
    async fn rule_changes_check_references_and_skip_empty_lists() {
        let revoke = mock!(Client::revoke_security_group_egress).then_output(|| unreachable!());
        let authorize = mock!(Client::authorize_security_group_egress).then_output(|| unreachable!());
        let ec2 = client(&[&revoke, &authorize]);
        ec2.revoke_egress("sg-1".into(), vec![]).await.unwrap();
        let unresolved = Peer::SecurityGroupId(RefOr::Ref(Ref { id: LogicalId::new("sg/lb"), attr: Attr::Id }));
        let e = ec2.authorize_egress("sg-1".into(), vec![sg_rule("tcp", 80, 80, unresolved, "")]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.operation, "AuthorizeSecurityGroupEgress");
        assert_eq!(revoke.num_calls() + authorize.num_calls(), 0);
    }

    #[tokio::test]
    async fn a_duplicate_security_group_already_exists() {
        let rule = mock!(Client::create_security_group)
            .then_error(|| CreateSecurityGroupError::generic(meta("InvalidGroup.Duplicate")));
        let e = client(&[&rule])
            .create_security_group("shop-instances".into(), "d".into(), "vpc-1".into(), stack_tags())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists);
        assert_eq!(e.operation, "CreateSecurityGroup");
    }

    fn template_props_fixture() -> LaunchTemplateProps {
        LaunchTemplateProps {
            launch_template_name: "shop-instances".into(),
            image: ImageSource::ImageId("ami-1".into()),
            instance_type: "t3.small".into(),
            iam_instance_profile_arn: RefOr::Value("arn:aws:iam::123456789012:instance-profile/shop".into()),
            security_group_ids: vec![RefOr::Value("sg-1".into())],
            key_name: Some("admin".into()),
            metadata_options: MetadataOptions {
                http_tokens: "required".into(),
                http_put_response_hop_limit: 1,
                http_endpoint: "enabled".into(),
            },
            user_data: "#!/bin/bash\necho ECS_CLUSTER=shop >> /etc/ecs/ecs.config\n".into(),
            instance_tags: BTreeMap::from([
                ("Name".to_owned(), "shop-instance".to_owned()),
                ("ecs-kit:stack".to_owned(), "shop".to_owned()),
            ]),
        }
    }

    /// What AWS answers for the data of a version created with `request`.
    fn echoed(request: &ec2::RequestLaunchTemplateData) -> ec2::ResponseLaunchTemplateData {
        let metadata = request.metadata_options().unwrap();
        ec2::ResponseLaunchTemplateData::builder()
            .set_image_id(request.image_id().map(str::to_owned))
            .set_instance_type(request.instance_type().cloned())
            .iam_instance_profile(
                ec2::LaunchTemplateIamInstanceProfileSpecification::builder()
                    .set_arn(request.iam_instance_profile().and_then(|p| p.arn()).map(str::to_owned))
                    .build(),
            )
            .set_security_group_ids(Some(request.security_group_ids().to_vec()))
            .set_key_name(request.key_name().map(str::to_owned))
            .metadata_options(
                ec2::LaunchTemplateInstanceMetadataOptions::builder()
                    .state(ec2::LaunchTemplateInstanceMetadataOptionsState::Applied)
                    .set_http_tokens(metadata.http_tokens().cloned())
                    .set_http_put_response_hop_limit(metadata.http_put_response_hop_limit())
                    .set_http_endpoint(metadata.http_endpoint().cloned())
                    .build(),
            )
            .set_user_data(request.user_data().map(str::to_owned))
            .set_tag_specifications(Some(
                request
                    .tag_specifications()
                    .iter()
                    .map(|s| {
                        ec2::LaunchTemplateTagSpecification::builder()
                            .set_resource_type(s.resource_type().cloned())
                            .set_tags(Some(s.tags().to_vec()))
                            .build()
                    })
                    .collect(),
            ))
            .build()
    }

    #[tokio::test]
    async fn create_launch_template_sends_the_data_and_reads_back_equal() {
        let requests: Arc<Mutex<Vec<CreateLaunchTemplateInput>>> = seen();
        let log = requests.clone();
        let create = mock!(Client::create_launch_template).then_compute_output(move |r| {
            log.lock().unwrap().push(r.clone());
            CreateLaunchTemplateOutput::builder()
                .launch_template(ec2::LaunchTemplate::builder().launch_template_id("lt-1").build())
                .build()
        });
        let props = template_props_fixture();
        let id = client(&[&create])
            .create_launch_template(props.clone(), "ami-1".into(), "shop-lt".into(), stack_tags())
            .await
            .unwrap();
        assert_eq!(id, "lt-1");
        let request = requests.lock().unwrap().pop().unwrap();
        assert_eq!(request.launch_template_name(), Some("shop-instances"));
        assert_eq!(request.client_token(), Some("shop-lt"));
        assert_eq!(request.tag_specifications()[0].resource_type(), Some(&ec2::ResourceType::LaunchTemplate));
        assert_eq!(request.tag_specifications()[0].tags(), [tag("ecs-kit:stack", "shop")]);
        let data = request.launch_template_data().unwrap().clone();
        assert_eq!(data.image_id(), Some("ami-1"));
        assert_eq!(data.instance_type(), Some(&ec2::InstanceType::T3Small));
        assert_eq!(
            data.user_data(),
            Some("IyEvYmluL2Jhc2gKZWNobyBFQ1NfQ0xVU1RFUj1zaG9wID4+IC9ldGMvZWNzL2Vjcy5jb25maWcK")
        );
        let resources: Vec<_> = data.tag_specifications().iter().map(|s| s.resource_type().cloned()).collect();
        assert_eq!(resources, [Some(ec2::ResourceType::Instance), Some(ec2::ResourceType::Volume)]);

        // Described back from what AWS stored:
        let listing = mock!(Client::describe_launch_templates).then_output(|| {
            DescribeLaunchTemplatesOutput::builder()
                .launch_templates(
                    ec2::LaunchTemplate::builder()
                        .launch_template_id("lt-1")
                        .launch_template_name("shop-instances")
                        .default_version_number(1)
                        .latest_version_number(2)
                        .tags(tag("ecs-kit:stack", "shop"))
                        .build(),
                )
                .build()
        });
        let version = mock!(Client::describe_launch_template_versions)
            .match_requests(|r| r.launch_template_id() == Some("lt-1") && r.versions() == ["$Default"])
            .then_output(move || {
                DescribeLaunchTemplateVersionsOutput::builder()
                    .launch_template_versions(
                        ec2::LaunchTemplateVersion::builder()
                            .launch_template_id("lt-1")
                            .version_number(1)
                            .default_version(true)
                            .launch_template_data(echoed(&data))
                            .build(),
                    )
                    .build()
            });
        let found = client(&[&listing, &version])
            .describe_launch_templates(vec![Filter::tag("ecs-kit:stack", "shop")])
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "lt-1");
        assert_eq!(found[0].props, props);
        assert_eq!(found[0].tags, stack_tags());
        assert_eq!(found[0].attrs.get("default_version").map(String::as_str), Some("1"));
        assert_eq!(found[0].attrs.get("latest_version").map(String::as_str), Some("2"));
    }

    #[tokio::test]
    async fn launch_templates_without_options_read_aws_defaults_and_gone_ones_are_left_out() {
        let listing = mock!(Client::describe_launch_templates).then_output(|| {
            let template = |id: &str| {
                ec2::LaunchTemplate::builder().launch_template_id(id).launch_template_name(format!("{id}-name")).build()
            };
            DescribeLaunchTemplatesOutput::builder()
                .launch_templates(template("lt-gone"))
                .launch_templates(template("lt-1"))
                .build()
        });
        let gone = mock!(Client::describe_launch_template_versions)
            .match_requests(|r| r.launch_template_id() == Some("lt-gone"))
            .then_error(|| DescribeLaunchTemplateVersionsError::generic(meta("InvalidLaunchTemplateId.NotFound")));
        let version = mock!(Client::describe_launch_template_versions).then_output(|| {
            DescribeLaunchTemplateVersionsOutput::builder()
                .launch_template_versions(
                    ec2::LaunchTemplateVersion::builder()
                        .default_version(true)
                        .launch_template_data(
                            ec2::ResponseLaunchTemplateData::builder()
                                .image_id("ami-2")
                                .instance_type(ec2::InstanceType::from("m7i.large"))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let found = client(&[&listing, &gone, &version]).describe_launch_templates(vec![]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].props,
            LaunchTemplateProps {
                launch_template_name: "lt-1-name".into(),
                image: ImageSource::ImageId("ami-2".into()),
                instance_type: "m7i.large".into(),
                iam_instance_profile_arn: RefOr::Value(String::new()),
                security_group_ids: vec![],
                key_name: None,
                metadata_options: MetadataOptions {
                    http_tokens: "optional".into(),
                    http_put_response_hop_limit: 1,
                    http_endpoint: "enabled".into(),
                },
                user_data: String::new(),
                instance_tags: BTreeMap::new(),
            }
        );
        assert_eq!(gone.num_calls(), 1);
    }

    #[tokio::test]
    async fn tags_are_set_and_removed_never_all_at_once() {
        let requests = seen();
        let log = requests.clone();
        let create = mock!(Client::create_tags).then_compute_output(move |r| {
            log.lock().unwrap().push(r.clone());
            CreateTagsOutput::builder().build()
        });
        let delete = mock!(Client::delete_tags).then_output(|| unreachable!());
        let ec2 = client(&[&create, &delete]);
        ec2.create_tags(vec!["vpc-1".into(), "subnet-1".into()], stack_tags()).await.unwrap();
        let r = requests.lock().unwrap().pop().unwrap();
        assert_eq!(r.resources(), ["vpc-1", "subnet-1"]);
        assert_eq!(r.tags(), [tag("ecs-kit:stack", "shop")]);
        // No keys: DeleteTags would remove every tag, so nothing is sent.
        ec2.delete_tags(vec!["vpc-1".into()], vec![]).await.unwrap();
        assert_eq!(delete.num_calls(), 0);
    }
}
