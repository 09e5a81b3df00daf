//! `ec2:nat-gateway`: created `pending`, usable once `available`; deleting takes a
//! while, and its address and subnet are free only once it is `deleted`.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::Filter;
use crate::graph::props::NatGatewayProps;
use crate::graph::Resource;
use crate::resources::LiveResource;
use crate::resources::{
    client_token, gone_ok, step_error, until_gone, wait_until, Cx, Kind, Physical, Schema, Tagging,
};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct NatGateway;

#[async_trait]
impl Kind for NatGateway {
    type Props = NatGatewayProps;
    const SCHEMA: Schema = Schema {
        replace_on: &["subnet_id", "allocation_id", "connectivity_type"],
        coexists: true,
        ..Schema::new(Tagging::Ec2, 11)
    };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<NatGatewayProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_nat_gateways(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: NatGatewayProps) -> Result<Physical, StepError> {
        let ec2 = &cx.clients.ec2;
        let (token, _) = client_token(cx.stack, r, &p);
        let id = ec2.create_nat_gateway(p, token, r.tags.clone()).await.map_err(step_error)?;
        let filter = vec![Filter::new("nat-gateway-id", [id.clone()])];
        wait_until(&format!("NAT gateway {id} to be available"), cx.waits, || async {
            let found = ec2.describe_nat_gateways(filter.clone()).await.map_err(step_error)?;
            match found.first().and_then(|n| n.state.as_deref()) {
                Some("available") => Ok(true),
                Some("failed") => Err(StepError::Fatal(format!(
                    "NAT gateway {id} failed: {:?}",
                    found[0].attrs.get("failure_message")
                ))),
                _ => Ok(false),
            }
        })
        .await?;
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    /// Only tags change in place; the rest is replacement.
    async fn update(
        _cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        _w: NatGatewayProps,
        _h: NatGatewayProps,
    ) -> Result<Option<Physical>, StepError> {
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: NatGatewayProps) -> Result<(), StepError> {
        let id = live.aws_id.clone();
        gone_ok(cx.clients.ec2.delete_nat_gateway(id.clone()).await)?;
        let filter = vec![Filter::new("nat-gateway-id", [id.clone()])];
        until_gone(&format!("NAT gateway {id}"), cx.waits, || async {
            let found = cx.clients.ec2.describe_nat_gateways(filter.clone()).await?;
            Ok(found.iter().all(|n| n.state.as_deref() == Some("deleted")))
        })
        .await
    }
}
