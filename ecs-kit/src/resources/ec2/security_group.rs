//! `ec2:security-group` with its rules.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::Found;
use crate::graph::props::{Peer, SecurityGroupProps, SecurityGroupRule};
use crate::graph::{Properties, Resource};
use crate::resources::live_from;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, lit, shown, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct SecurityGroup;

/// Whether two rules allow the same traffic (AWS keeps one rule per permission, whatever
/// its description).
fn same_permission(a: &SecurityGroupRule, b: &SecurityGroupRule) -> bool {
    (&a.ip_protocol, a.from_port, a.to_port, &a.peer) == (&b.ip_protocol, b.from_port, b.to_port, &b.peer)
}

/// Rules in `a` whose permission `b` lacks.
fn missing(a: &[SecurityGroupRule], b: &[SecurityGroupRule]) -> Vec<SecurityGroupRule> {
    a.iter().filter(|r| !b.iter().any(|x| same_permission(r, x))).cloned().collect()
}

/// Rules of `want` that `have` holds with another description, as (have's, want's).
fn redescribed(
    want: &[SecurityGroupRule],
    have: &[SecurityGroupRule],
) -> (Vec<SecurityGroupRule>, Vec<SecurityGroupRule>) {
    want.iter()
        .filter_map(|w| {
            have.iter()
                .find(|h| same_permission(w, h) && h.description != w.description)
                .map(|h| (h.clone(), w.clone()))
        })
        .unzip()
}

#[async_trait]
impl Kind for SecurityGroup {
    type Props = SecurityGroupProps;
    const SCHEMA: Schema =
        Schema { replace_on: &["group_name", "description", "vpc_id"], ..Schema::new(Tagging::Ec2, 14) };

    fn summary(p: &SecurityGroupProps) -> String {
        let rules: Vec<String> = p
            .ingress
            .iter()
            .map(|r| {
                let from = match &r.peer {
                    Peer::CidrIpv4(c) => c.clone(),
                    Peer::SecurityGroupId(g) => shown(g),
                };
                if r.from_port == r.to_port {
                    format!("{} {} from {from}", r.ip_protocol, r.from_port)
                } else {
                    format!("{} {}-{} from {from}", r.ip_protocol, r.from_port, r.to_port)
                }
            })
            .collect();
        if rules.is_empty() {
            "no inbound".into()
        } else {
            rules.join("; ")
        }
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<SecurityGroupProps>, AwsError> {
        Ok(Read::of(cx.clients.ec2.describe_security_groups(cx.ours()).await?))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: SecurityGroupProps) -> Result<Physical, StepError> {
        let ec2 = &cx.clients.ec2;
        if cx.retrying {
            // The group an earlier attempt made (its name is taken): converge its rules.
            if let Some(made) = ec2.describe_security_groups(cx.made_earlier(r)).await.map_err(step_error)?.pop() {
                let have = made.props.clone();
                let id = made.id.clone();
                let found = Found {
                    id: made.id,
                    arn: made.arn,
                    state: made.state,
                    props: Properties::SecurityGroup(made.props),
                    tags: made.tags,
                    attrs: made.attrs,
                };
                Self::update(cx, r, &live_from(r, found), p, have).await?;
                return Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() });
            }
        }
        let id = ec2
            .create_security_group(p.group_name, p.description, lit(&p.vpc_id)?, r.tags.clone())
            .await
            .map_err(step_error)?;
        if !p.ingress.is_empty() {
            ec2.authorize_ingress(id.clone(), p.ingress).await.map_err(step_error)?;
        }
        // AWS gives a new group an allow-all egress rule without a description: replace
        // it with the declared rules.
        let default = SecurityGroupRule {
            ip_protocol: "-1".into(),
            from_port: -1,
            to_port: -1,
            peer: Peer::CidrIpv4("0.0.0.0/0".into()),
            description: String::new(),
        };
        ec2.revoke_egress(id.clone(), vec![default]).await.map_err(step_error)?;
        if !p.egress.is_empty() {
            ec2.authorize_egress(id.clone(), p.egress).await.map_err(step_error)?;
        }
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: SecurityGroupProps,
        h: SecurityGroupProps,
    ) -> Result<Option<Physical>, StepError> {
        let (ec2, id) = (&cx.clients.ec2, live.aws_id.clone());
        // Authorize first, so traffic allowed in both versions never drops.
        let (add_in, add_out) = (missing(&w.ingress, &h.ingress), missing(&w.egress, &h.egress));
        if !add_in.is_empty() {
            ec2.authorize_ingress(id.clone(), add_in).await.map_err(step_error)?;
        }
        if !add_out.is_empty() {
            ec2.authorize_egress(id.clone(), add_out).await.map_err(step_error)?;
        }
        // A new description is the same permission again: out, then in.
        let (old_in, new_in) = redescribed(&w.ingress, &h.ingress);
        if !old_in.is_empty() {
            ec2.revoke_ingress(id.clone(), old_in).await.map_err(step_error)?;
            ec2.authorize_ingress(id.clone(), new_in).await.map_err(step_error)?;
        }
        let (old_out, new_out) = redescribed(&w.egress, &h.egress);
        if !old_out.is_empty() {
            ec2.revoke_egress(id.clone(), old_out).await.map_err(step_error)?;
            ec2.authorize_egress(id.clone(), new_out).await.map_err(step_error)?;
        }
        let (drop_in, drop_out) = (missing(&h.ingress, &w.ingress), missing(&h.egress, &w.egress));
        if !drop_in.is_empty() {
            ec2.revoke_ingress(id.clone(), drop_in).await.map_err(step_error)?;
        }
        if !drop_out.is_empty() {
            ec2.revoke_egress(id, drop_out).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: SecurityGroupProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ec2.delete_security_group(live.aws_id.clone()).await)
    }
}
