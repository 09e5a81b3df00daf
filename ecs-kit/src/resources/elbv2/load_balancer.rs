//! `elbv2:load-balancer`: created `provisioning`, usable once `active`.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::LoadBalancerProps;
use crate::graph::LogicalId;
use crate::graph::Resource;
use crate::resources::LiveResource;
use crate::resources::{
    gone_ok, is_gone, lits, step_error, until_gone, wait_until, Cx, Kind, Physical, Schema, Tagging,
};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct LoadBalancer;

#[async_trait]
impl Kind for LoadBalancer {
    type Props = LoadBalancerProps;
    const SCHEMA: Schema = Schema {
        replace_on: &["name", "scheme", "type"],
        // Tags with the listeners', rules' and target groups', in one DescribeTags.
        late_tags: true,
        ..Schema::new(Tagging::Elb, 3)
    };

    fn summary(p: &LoadBalancerProps) -> String {
        p.scheme.clone()
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<LoadBalancerProps>, AwsError> {
        // By its name, unique in the region; whether it is ours, or a foreign one holding
        // the name, is decided when its tags come (see `Schema::late_tags`).
        let Some(name) = cx.desired_name("load-balancer") else { return Ok(Read::default()) };
        let mut read = Read::default();
        for lb in cx.clients.elb.describe_load_balancers(vec![name]).await? {
            if !is_gone(lb.state.as_deref()) {
                read.claims.push((lb.id.clone(), LogicalId::new("load-balancer")));
                read.found.push(lb);
            }
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: LoadBalancerProps) -> Result<Physical, StepError> {
        let elb = &cx.clients.elb;
        let (lb_name, idle) = (p.name.clone(), p.idle_timeout_seconds);
        let (arn, dns) = elb.create_load_balancer(p, r.tags.clone()).await.map_err(step_error)?;
        elb.set_idle_timeout(arn.clone(), idle).await.map_err(step_error)?;
        wait_until(&format!("load balancer {lb_name} to be active"), cx.waits, || async {
            let found = elb.describe_load_balancers(vec![lb_name.clone()]).await.map_err(step_error)?;
            Ok(found.first().and_then(|l| l.state.as_deref()) == Some("active"))
        })
        .await?;
        Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: Some(dns), digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: LoadBalancerProps,
        h: LoadBalancerProps,
    ) -> Result<Option<Physical>, StepError> {
        let elb = &cx.clients.elb;
        let arn = live.arn.clone().unwrap_or_else(|| live.aws_id.clone());
        if w.idle_timeout_seconds != h.idle_timeout_seconds {
            elb.set_idle_timeout(arn.clone(), w.idle_timeout_seconds).await.map_err(step_error)?;
        }
        let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
        let groups = lits(&w.security_groups)?;
        if set(groups.clone()) != set(lits(&h.security_groups)?) {
            elb.set_security_groups(arn.clone(), groups).await.map_err(step_error)?;
        }
        let subnets = lits(&w.subnets)?;
        if set(subnets.clone()) != set(lits(&h.subnets)?) {
            elb.set_subnets(arn, subnets).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, p: LoadBalancerProps) -> Result<(), StepError> {
        let elb = &cx.clients.elb;
        gone_ok(elb.delete_load_balancer(live.aws_id.clone()).await)?;
        let name = p.name;
        until_gone(&format!("load balancer {name}"), cx.waits, || async {
            Ok(elb.describe_load_balancers(vec![name.clone()]).await?.is_empty())
        })
        .await
    }
}
