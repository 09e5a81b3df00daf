//! `elbv2:listener-rule`: a service's path and host, at a priority unique on its listener;
//! forwarding to its target group, or to it and its alternate when ECS shifts the
//! service's traffic (blue/green, canary, linear).

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::ListenerRuleProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct ListenerRule;

/// `want`'s two target groups in the order `have` reads them (the heavier first), when
/// they are the same pair.
fn heavier_first(want: &mut ListenerRuleProps, have: &ListenerRuleProps) {
    if let (Some(wa), Some(ha)) = (want.alternate_target_group_arn.as_mut(), have.alternate_target_group_arn.as_ref()) {
        if *wa == have.target_group_arn && want.target_group_arn == *ha {
            std::mem::swap(wa, &mut want.target_group_arn);
        }
    }
}

#[async_trait]
impl Kind for ListenerRule {
    type Props = ListenerRuleProps;
    const SCHEMA: Schema = Schema {
        read_after: &[crate::graph::ResourceType::Listener],
        replace_on: &["listener_arn"],
        ..Schema::new(Tagging::Elb, 1)
    };

    /// ECS moves the weights of a rule forwarding to two target groups: the heavier one
    /// reads first, and the pair is what is declared.
    fn normalise(w: &mut ListenerRuleProps, h: &ListenerRuleProps, _ctx: &crate::resources::Context) {
        heavier_first(w, h);
    }

    fn summary(p: &ListenerRuleProps) -> String {
        let mut on: Vec<&str> = p.host_headers.iter().map(String::as_str).collect();
        on.extend(p.path_patterns.iter().map(String::as_str));
        format!("{} (priority {})", on.join(" "), p.priority)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ListenerRuleProps>, AwsError> {
        // Those of the stack's listeners.
        let mut read = Read::default();
        for listener in cx.earlier(ResourceType::Listener) {
            read.found.extend(cx.clients.elb.describe_rules(listener.id.clone()).await?);
        }
        Ok(read)
    }

    /// A priority is unique on its listener.
    fn unique_key(p: &ListenerRuleProps) -> Option<String> {
        Some(format!("{} {}", serde_json::to_string(&p.listener_arn).unwrap_or_default(), p.priority))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ListenerRuleProps) -> Result<Physical, StepError> {
        let arn = cx.clients.elb.create_rule(p, r.tags.clone()).await.map_err(step_error)?;
        Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: ListenerRuleProps,
        h: ListenerRuleProps,
    ) -> Result<Option<Physical>, StepError> {
        let mut w = w;
        // Keep production traffic where ECS put it.
        heavier_first(&mut w, &h);
        let (elb, arn) = (&cx.clients.elb, live.arn.clone().unwrap_or_else(|| live.aws_id.clone()));
        if w.priority != h.priority {
            elb.set_rule_priorities(vec![(arn.clone(), w.priority)]).await.map_err(step_error)?;
        }
        if w.path_patterns != h.path_patterns
            || w.host_headers != h.host_headers
            || w.target_group_arn != h.target_group_arn
            || w.alternate_target_group_arn != h.alternate_target_group_arn
        {
            elb.modify_rule(arn, w).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: ListenerRuleProps) -> Result<(), StepError> {
        gone_ok(cx.clients.elb.delete_rule(live.aws_id.clone()).await)
    }
}
