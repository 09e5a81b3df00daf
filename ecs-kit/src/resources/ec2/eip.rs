//! `ec2:eip`, a NAT gateway's address.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::EipProps;
use crate::graph::Resource;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Eip;

#[async_trait]
impl Kind for Eip {
    type Props = EipProps;
    const SCHEMA: Schema = Schema { replace_on: &["domain"], coexists: true, ..Schema::new(Tagging::Ec2, 12) };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<EipProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_addresses(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, _p: EipProps) -> Result<Physical, StepError> {
        let ec2 = &cx.clients.ec2;
        let earlier =
            if cx.retrying { ec2.describe_addresses(cx.made_earlier(r)).await.map_err(step_error)? } else { vec![] };
        let id = match earlier.into_iter().next() {
            Some(made) => made.id,
            None => ec2.allocate_address(r.tags.clone()).await.map_err(step_error)?,
        };
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    /// Only tags change in place; the rest is replacement.
    async fn update(
        _cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        _w: EipProps,
        _h: EipProps,
    ) -> Result<Option<Physical>, StepError> {
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: EipProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ec2.release_address(live.aws_id.clone()).await)
    }
}
