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

/// A target group's ARN for a person: its name, else the value as it is.
fn shown(arn: &crate::graph::RefOr<String>) -> String {
    match arn {
        crate::graph::RefOr::Value(v) => v.split('/').nth(1).unwrap_or(v).to_owned(),
        crate::graph::RefOr::Ref(r) => r.id.to_string(),
    }
}

/// The listener of the rule `arn` (`...:listener-rule/app/LB/ID/LISTENER/RULE` is a rule
/// of `...:listener/app/LB/ID/LISTENER`).
pub(crate) fn listener_of(rule_arn: &str) -> Option<String> {
    let (listener, _rule) = rule_arn
        .replacen(":listener-rule/", ":listener/", 1)
        .rsplit_once('/')
        .map(|(l, r)| (l.to_owned(), r.to_owned()))?;
    listener.contains(":listener/").then_some(listener)
}

/// Makes the production rule `rule_arn` forward to `target_group_arn` alone (a service
/// back on rolling, once ECS serves from that group): the step that kept both, because
/// ECS served from the other one, leaves this to the service's update. Only a rule of
/// `stack` (its ownership tag) is changed.
///
/// # Errors
/// What ELB answers.
pub(crate) async fn narrow_production_rule(
    elb: &dyn crate::aws::ElbApi,
    stack: &str,
    rule_arn: &str,
    target_group_arn: &str,
) -> Result<(), AwsError> {
    let Some((rule, tags)) = live_rule(elb, rule_arn).await? else { return Ok(()) };
    if rule.alternate_target_group_arn.is_none() || tags.get(crate::model::STACK_TAG).map(String::as_str) != Some(stack)
    {
        return Ok(());
    }
    let narrowed = ListenerRuleProps {
        target_group_arn: crate::graph::RefOr::Value(target_group_arn.to_owned()),
        alternate_target_group_arn: None,
        ..rule
    };
    elb.modify_rule(rule_arn.to_owned(), narrowed).await
}

/// The rule `rule_arn` as DescribeRules reads it (a forward over two target groups: the
/// heavier first) and its tags, if it exists.
///
/// # Errors
/// What ELB answers.
pub(crate) async fn live_rule(
    elb: &dyn crate::aws::ElbApi,
    rule_arn: &str,
) -> Result<Option<(ListenerRuleProps, crate::aws::Tags)>, AwsError> {
    let Some(listener) = listener_of(rule_arn) else { return Ok(None) };
    let rules = crate::aws::retry_transient(|| elb.describe_rules(listener.clone())).await?;
    let Some(rule) = rules.into_iter().find(|r| r.arn.as_deref().unwrap_or(&r.id) == rule_arn) else { return Ok(None) };
    let mut tags = crate::aws::retry_transient(|| elb.describe_tags(vec![rule_arn.to_owned()])).await?;
    Ok(Some((rule.props, tags.remove(rule_arn).unwrap_or_default())))
}

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
        // Tags with the target groups', in one DescribeTags.
        late_tags: true,
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
        // Back to one target group (a strategy switched back to rolling) while ECS
        // serves from the other: dropping that one now would send traffic where no task
        // is. The service's update moves traffic back with one more deployment first,
        // then narrows the rule itself (`narrow_production_rule`).
        if let (Some(alternate), None) = (&h.alternate_target_group_arn, &w.alternate_target_group_arn) {
            if h.target_group_arn != w.target_group_arn {
                crate::walk::note(&format!(
                    "keeps forwarding to both target groups while ECS serves from {}: the service moves traffic back first",
                    shown(&h.target_group_arn)
                ));
                w.alternate_target_group_arn = Some(alternate.clone());
                w.target_group_arn = h.target_group_arn.clone();
            }
        }
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
