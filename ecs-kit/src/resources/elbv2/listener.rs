//! `elbv2:listener`: the load balancer's port, forwarding to the default service (HTTPS
//! with its default certificate and security policy), redirecting to HTTPS, or (the
//! test listener) answering 404 unless a test rule matches.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::ListenerProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Listener;

#[async_trait]
impl Kind for Listener {
    type Props = ListenerProps;
    const SCHEMA: Schema = Schema {
        read_after: &[crate::graph::ResourceType::LoadBalancer],
        replace_on: &["load_balancer_arn"],
        // Tags with the target groups', in one DescribeTags.
        late_tags: true,
        ..Schema::new(Tagging::Elb, 2)
    };

    fn summary(p: &ListenerProps) -> String {
        let fixed = p.fixed_response.as_ref().map(|f| format!(", else {}", f.status_code)).unwrap_or_default();
        match &p.redirect {
            Some(to) => format!("{} :{} -> {} :{} ({})", p.protocol, p.port, to.protocol, to.port, to.status_code),
            None => match &p.ssl_policy {
                Some(policy) => format!("{} :{}, {policy}{fixed}", p.protocol, p.port),
                None => format!("{} :{}{fixed}", p.protocol, p.port),
            },
        }
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ListenerProps>, AwsError> {
        // Those of the stack's load balancer.
        let mut read = Read::default();
        for lb in cx.earlier(ResourceType::LoadBalancer) {
            read.found.extend(cx.clients.elb.describe_listeners(lb.id.clone()).await?);
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ListenerProps) -> Result<Physical, StepError> {
        let arn = cx.clients.elb.create_listener(p, r.tags.clone()).await.map_err(step_error)?;
        Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: ListenerProps,
        h: ListenerProps,
    ) -> Result<Option<Physical>, StepError> {
        if w != h {
            let arn = live.arn.clone().unwrap_or_else(|| live.aws_id.clone());
            cx.clients.elb.modify_listener(arn, w).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: ListenerProps) -> Result<(), StepError> {
        gone_ok(cx.clients.elb.delete_listener(live.aws_id.clone()).await)
    }
}
