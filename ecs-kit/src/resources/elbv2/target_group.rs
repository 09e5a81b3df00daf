//! `elbv2:target-group`: a service's tasks, registered by ECS on dynamic host ports.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::TargetGroupProps;
use crate::graph::Resource;
use crate::graph::{Properties, RefOr, ResourceType};
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct TargetGroup;

/// The name in a target group's ARN (`...:targetgroup/NAME/HASH`).
fn lit_name(arn: &RefOr<String>) -> Option<&str> {
    match arn {
        RefOr::Value(arn) => arn.split('/').nth(1),
        RefOr::Ref(_) => None,
    }
}

#[async_trait]
impl Kind for TargetGroup {
    type Props = TargetGroupProps;
    const SCHEMA: Schema = Schema {
        read_after: &[crate::graph::ResourceType::ListenerRule],
        replace_on: &["name", "protocol", "port", "vpc_id", "target_type"],
        // Tags with the listeners' and rules', in one DescribeTags.
        late_tags: true,
        ..Schema::new(Tagging::Elb, 3)
    };

    fn summary(p: &TargetGroupProps) -> String {
        let ip = if p.target_type == "ip" { ", ip targets" } else { "" };
        format!("port {}{ip}, health check {}", p.port, p.health_check.path)
    }

    /// The create sets every declared property, the deregistration delay included (the
    /// contract of `ElbApi::create_target_group`).
    async fn read(cx: &ReadCx<'_>) -> Result<Read<TargetGroupProps>, AwsError> {
        // By name; those that rules forward to (both groups of a strategy's rule) are
        // found too: ones no longer declared (an alternate group after a switch back to
        // rolling) are still ours to delete.
        let mut names: std::collections::BTreeSet<String> =
            cx.desired(ResourceType::TargetGroup).map(|r| r.name.clone()).collect();
        for rule in cx.earlier(ResourceType::ListenerRule) {
            if let Properties::ListenerRule(p) = &rule.props {
                for group in std::iter::once(&p.target_group_arn).chain(&p.alternate_target_group_arn) {
                    // arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/HASH
                    if let Some(name) = lit_name(group) {
                        names.insert(name.to_owned());
                    }
                }
            }
        }
        if names.is_empty() {
            return Ok(Read::default());
        }
        // Tags come late (with the listeners' and rules'): which of these are ours, and
        // which hold a declared group's name without being ours, is decided then.
        let found = cx.clients.elb.describe_target_groups(names.into_iter().collect()).await?;
        Ok(cx.claiming(ResourceType::TargetGroup, found, |tg| tg.id.split('/').nth(1)))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: TargetGroupProps) -> Result<Physical, StepError> {
        let arn = cx.clients.elb.create_target_group(p, r.tags.clone()).await.map_err(step_error)?;
        Ok(Physical { id: arn.clone(), arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: TargetGroupProps,
        h: TargetGroupProps,
    ) -> Result<Option<Physical>, StepError> {
        let elb = &cx.clients.elb;
        let arn = live.arn.clone().unwrap_or_else(|| live.aws_id.clone());
        if w.health_check != h.health_check {
            elb.modify_target_group(arn.clone(), w.health_check.clone()).await.map_err(step_error)?;
        }
        if w.deregistration_delay_seconds != h.deregistration_delay_seconds {
            elb.set_deregistration_delay(arn, w.deregistration_delay_seconds).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: TargetGroupProps) -> Result<(), StepError> {
        gone_ok(cx.clients.elb.delete_target_group(live.aws_id.clone()).await)
    }
}
