//! `ec2:vpc`.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::VpcProps;
use crate::graph::Resource;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Vpc;

#[async_trait]
impl Kind for Vpc {
    type Props = VpcProps;
    const SCHEMA: Schema = Schema { replace_on: &["cidr_block"], coexists: true, ..Schema::new(Tagging::Ec2, 16) };

    fn summary(p: &VpcProps) -> String {
        p.cidr_block.clone()
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<VpcProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_vpcs(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: VpcProps) -> Result<Physical, StepError> {
        let ec2 = &cx.clients.ec2;
        let earlier =
            if cx.retrying { ec2.describe_vpcs(cx.made_earlier(r)).await.map_err(step_error)? } else { vec![] };
        let id = match earlier.into_iter().next() {
            Some(made) => made.id,
            None => ec2.create_vpc(p.clone(), r.tags.clone()).await.map_err(step_error)?,
        };
        ec2.modify_vpc_dns(id.clone(), p.enable_dns_support, p.enable_dns_hostnames).await.map_err(step_error)?;
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: VpcProps,
        h: VpcProps,
    ) -> Result<Option<Physical>, StepError> {
        if (w.enable_dns_support, w.enable_dns_hostnames) != (h.enable_dns_support, h.enable_dns_hostnames) {
            cx.clients
                .ec2
                .modify_vpc_dns(live.aws_id.clone(), w.enable_dns_support, w.enable_dns_hostnames)
                .await
                .map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: VpcProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ec2.delete_vpc(live.aws_id.clone()).await)
    }
}
