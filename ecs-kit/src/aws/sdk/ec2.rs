//! Ec2Api adapter (scaffolding: being written).
#![allow(unused_variables)]

use async_trait::async_trait;
use aws_sdk_ec2::Client;

use crate::aws::*;
use crate::graph::props::*;

/// [`Ec2Api`] over `aws-sdk-ec2`.
#[derive(Debug, Clone)]
pub struct Ec2Sdk {
    #[allow(dead_code)]
    client: Client,
}

impl Ec2Sdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Ec2Sdk { client }
    }
}

#[async_trait]
impl Ec2Api for Ec2Sdk {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<String>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_vpcs(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<VpcProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_vpc(&self, props: VpcProps, tags: Tags) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn modify_vpc_dns(&self, vpc_id: String, dns_support: bool, dns_hostnames: bool) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_vpc(&self, vpc_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_internet_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<InternetGatewayProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_internet_gateway(&self, tags: Tags) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn attach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn detach_internet_gateway(&self, igw_id: String, vpc_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_internet_gateway(&self, igw_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_subnets(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SubnetProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_subnet(&self, props: SubnetProps, tags: Tags) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn modify_subnet_public_ip(&self, subnet_id: String, map_public_ip_on_launch: bool) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_subnet(&self, subnet_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_addresses(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<EipProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn allocate_address(&self, tags: Tags) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn release_address(&self, allocation_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_nat_gateways(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<NatGatewayProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_nat_gateway(&self, props: NatGatewayProps, client_token: String, tags: Tags) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_nat_gateway(&self, nat_gateway_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_route_tables(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<RouteTableProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_route_table(&self, vpc_id: String, client_token: String, tags: Tags) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_route(&self, route_table_id: String, route: Route) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn replace_route(&self, route_table_id: String, route: Route) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_route(&self, route_table_id: String, destination_cidr_block: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn associate_route_table(&self, route_table_id: String, subnet_id: String) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn disassociate_route_table(&self, association_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_route_table(&self, route_table_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_security_groups(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<SecurityGroupProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_security_group(
        &self,
        group_name: String,
        description: String,
        vpc_id: String,
        tags: Tags,
    ) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn authorize_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn authorize_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn revoke_ingress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn revoke_egress(&self, group_id: String, rules: Vec<SecurityGroupRule>) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_security_group(&self, group_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn describe_launch_templates(&self, filters: Vec<Filter>) -> AwsResult<Vec<Found<LaunchTemplateProps>>> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_launch_template(
        &self,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
        tags: Tags,
    ) -> AwsResult<String> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_launch_template_version(
        &self,
        launch_template_id: String,
        props: LaunchTemplateProps,
        image_id: String,
        client_token: String,
    ) -> AwsResult<i64> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn set_default_launch_template_version(&self, launch_template_id: String, version: i64) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_launch_template(&self, launch_template_id: String) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn create_tags(&self, resource_ids: Vec<String>, tags: Tags) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }

    async fn delete_tags(&self, resource_ids: Vec<String>, keys: Vec<String>) -> AwsResult<()> {
        todo!("Ec2Sdk: not written yet")
    }
}
