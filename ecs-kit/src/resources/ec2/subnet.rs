//! `ec2:subnet`.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::{AvailabilityZone, SubnetProps};
use crate::graph::Resource;
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Subnet;

#[async_trait]
impl Kind for Subnet {
    type Props = SubnetProps;
    const SCHEMA: Schema =
        Schema { replace_on: &["vpc_id", "cidr_block", "availability_zone"], ..Schema::new(Tagging::Ec2, 15) };

    /// A subnet placed by zone index keeps the zone it has: the region's list of zones
    /// (which plans of stacks whose subnets all exist do not read) never moves it.
    fn normalise(w: &mut SubnetProps, h: &SubnetProps, _ctx: &Context) {
        if let AvailabilityZone::Index { .. } = w.availability_zone {
            w.availability_zone = h.availability_zone.clone();
        }
    }

    fn summary(p: &SubnetProps) -> String {
        let zone = match &p.availability_zone {
            AvailabilityZone::Name(n) => n.clone(),
            AvailabilityZone::Index { zone_index } => format!("zone #{zone_index}"),
        };
        format!("{} in {zone}", p.cidr_block)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<SubnetProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_subnets(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, mut p: SubnetProps) -> Result<Physical, StepError> {
        if let AvailabilityZone::Index { zone_index } = p.availability_zone {
            let zone = cx.zones.get(usize::from(zone_index)).ok_or_else(|| {
                StepError::Fatal(format!(
                    "the region has {} available zones; zone #{zone_index} was asked for",
                    cx.zones.len()
                ))
            })?;
            p.availability_zone = AvailabilityZone::Name(zone.clone());
        }
        let public = p.map_public_ip_on_launch;
        let ec2 = &cx.clients.ec2;
        let earlier =
            if cx.retrying { ec2.describe_subnets(cx.made_earlier(r)).await.map_err(step_error)? } else { vec![] };
        let id = match earlier.into_iter().next() {
            Some(made) => made.id,
            None => ec2.create_subnet(p, r.tags.clone()).await.map_err(step_error)?,
        };
        if public {
            cx.clients.ec2.modify_subnet_public_ip(id.clone(), true).await.map_err(step_error)?;
        }
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: SubnetProps,
        h: SubnetProps,
    ) -> Result<Option<Physical>, StepError> {
        if w.map_public_ip_on_launch != h.map_public_ip_on_launch {
            cx.clients
                .ec2
                .modify_subnet_public_ip(live.aws_id.clone(), w.map_public_ip_on_launch)
                .await
                .map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: SubnetProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ec2.delete_subnet(live.aws_id.clone()).await)
    }
}
