//! `ec2:route-table` with its routes (besides `local`) and subnet associations.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use crate::aws::{AwsError, ErrorKind, Filter};
use crate::graph::props::{Route, RouteTableProps, RouteTarget};
use crate::graph::{Properties, Resource};
use crate::resources::LiveResource;
use crate::resources::{client_token, gone_ok, lit, lits, shown, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct RouteTable;

fn target(route: &Route) -> Result<String, StepError> {
    match &route.target {
        RouteTarget::GatewayId(g) | RouteTarget::NatGatewayId(g) => lit(g),
    }
}

#[async_trait]
impl Kind for RouteTable {
    type Props = RouteTableProps;
    const SCHEMA: Schema = Schema { replace_on: &["vpc_id"], ..Schema::new(Tagging::Ec2, 10) };

    fn summary(p: &RouteTableProps) -> String {
        p.routes.iter().map(|r| r.destination_cidr_block.clone()).collect::<Vec<_>>().join(", ")
            + " -> "
            + &p.routes
                .iter()
                .map(|r| match &r.target {
                    RouteTarget::GatewayId(g) | RouteTarget::NatGatewayId(g) => shown(g),
                })
                .collect::<Vec<_>>()
                .join(", ")
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<RouteTableProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_route_tables(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: RouteTableProps) -> Result<Physical, StepError> {
        let ec2 = &cx.clients.ec2;
        let (token, _) = client_token(cx.stack, r, &p);
        let id = ec2.create_route_table(lit(&p.vpc_id)?, token, r.tags.clone()).await.map_err(step_error)?;
        let subnets = lits(&p.subnet_ids)?;
        let filled = async {
            for route in p.routes.clone() {
                ec2.create_route(id.clone(), route).await?;
            }
            for subnet in subnets {
                ec2.associate_route_table(id.clone(), subnet).await?;
            }
            Ok::<(), crate::aws::AwsError>(())
        };
        match filled.await {
            // A retried create (the token gave back the table an earlier attempt made,
            // partly filled): converge it from what it holds.
            Err(e) if e.kind == ErrorKind::AlreadyExists || e.code.as_deref() == Some("Resource.AlreadyAssociated") => {
                let filter = vec![Filter::new("route-table-id", [id.clone()])];
                let found = ec2.describe_route_tables(filter).await.map_err(step_error)?;
                let Some(have) = found.into_iter().next() else { return Err(step_error(e)) };
                let live = LiveResource {
                    id: r.id.clone(),
                    resource_type: r.resource_type,
                    aws_id: id.clone(),
                    arn: None,
                    state: None,
                    properties: Properties::RouteTable(have.props.clone()).into(),
                    tags: have.tags,
                    attrs: have.attrs,
                };
                Self::update(cx, r, &live, p, have.props).await?;
            }
            other => other.map_err(step_error)?,
        }
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: RouteTableProps,
        h: RouteTableProps,
    ) -> Result<Option<Physical>, StepError> {
        let (ec2, id) = (&cx.clients.ec2, live.aws_id.clone());
        let have_routes: BTreeMap<&str, &Route> =
            h.routes.iter().map(|r| (r.destination_cidr_block.as_str(), r)).collect();
        for route in &w.routes {
            match have_routes.get(route.destination_cidr_block.as_str()) {
                None => ec2.create_route(id.clone(), route.clone()).await.map_err(step_error)?,
                Some(old) if target(old)? != target(route)? => {
                    ec2.replace_route(id.clone(), route.clone()).await.map_err(step_error)?;
                }
                Some(_) => {}
            }
        }
        for route in
            h.routes.iter().filter(|r| !w.routes.iter().any(|x| x.destination_cidr_block == r.destination_cidr_block))
        {
            ec2.delete_route(id.clone(), route.destination_cidr_block.clone()).await.map_err(step_error)?;
        }
        let want: BTreeSet<String> = lits(&w.subnet_ids)?.into_iter().collect();
        let have: BTreeSet<String> = lits(&h.subnet_ids)?.into_iter().collect();
        for subnet in want.difference(&have) {
            ec2.associate_route_table(id.clone(), subnet.clone()).await.map_err(step_error)?;
        }
        for subnet in have.difference(&want) {
            let association = live.attrs.get(&format!("assoc:{subnet}")).cloned().ok_or_else(|| {
                StepError::Fatal(format!("no association id of subnet {subnet} with route table {id}"))
            })?;
            ec2.disassociate_route_table(association).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: RouteTableProps) -> Result<(), StepError> {
        for association in live.attrs.iter().filter(|(k, _)| k.starts_with("assoc:")).map(|(_, v)| v.clone()) {
            gone_ok(cx.clients.ec2.disassociate_route_table(association).await)?;
        }
        gone_ok(cx.clients.ec2.delete_route_table(live.aws_id.clone()).await)
    }
}
