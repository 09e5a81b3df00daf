//! `ec2:internet-gateway`, attached to the VPC.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::InternetGatewayProps;
use crate::graph::{RefOr, Resource};
use crate::resources::LiveResource;
use crate::resources::{gone_ok, lit, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct InternetGateway;

#[async_trait]
impl Kind for InternetGateway {
    type Props = InternetGatewayProps;
    const SCHEMA: Schema = Schema { replace_on: &["vpc_id"], coexists: true, ..Schema::new(Tagging::Ec2, 13) };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<InternetGatewayProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_internet_gateways(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: InternetGatewayProps) -> Result<Physical, StepError> {
        let ec2 = &cx.clients.ec2;
        let earlier = if cx.retrying {
            ec2.describe_internet_gateways(cx.made_earlier(r)).await.map_err(step_error)?
        } else {
            vec![]
        };
        let (id, attached) = match earlier.into_iter().next() {
            Some(made) => (made.id, made.props.vpc_id == RefOr::Value(lit(&p.vpc_id)?)),
            None => (ec2.create_internet_gateway(r.tags.clone()).await.map_err(step_error)?, false),
        };
        if !attached {
            ec2.attach_internet_gateway(id.clone(), lit(&p.vpc_id)?).await.map_err(step_error)?;
        }
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    /// Only tags change in place; the rest is replacement.
    async fn update(
        _cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        _w: InternetGatewayProps,
        _h: InternetGatewayProps,
    ) -> Result<Option<Physical>, StepError> {
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, p: InternetGatewayProps) -> Result<(), StepError> {
        let id = live.aws_id.clone();
        if let Ok(vpc) = lit(&p.vpc_id) {
            if !vpc.is_empty() {
                // Detached already by an earlier attempt of this step: that is done.
                let detached = cx.clients.ec2.detach_internet_gateway(id.clone(), vpc).await;
                gone_ok(detached.or_else(|e| {
                    if e.code.as_deref() == Some("Gateway.NotAttached") {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }))?;
            }
        }
        gone_ok(cx.clients.ec2.delete_internet_gateway(id).await)
    }
}
