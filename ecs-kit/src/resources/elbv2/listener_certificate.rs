//! `elbv2:listener-certificate`: a certificate an HTTPS listener (the services' one, or
//! the test listener) serves by SNI beside its default one. Untaggable: owned through its listener; its logical id comes from
//! the certificate's ARN.

use async_trait::async_trait;

use crate::aws::{AwsError, Found};
use crate::graph::props::ListenerCertificateProps;
use crate::graph::props::RefOr;
use crate::graph::{listener_certificate_id, test_listener_certificate_id, Graph, LogicalId, Resource, ResourceType};
use crate::resources::{gone_ok, lit, step_error, Cx, Kind, LiveResource, Physical, PhysicalIndex, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct ListenerCertificate;

#[async_trait]
impl Kind for ListenerCertificate {
    type Props = ListenerCertificateProps;
    const SCHEMA: Schema = Schema {
        read_after: &[ResourceType::Listener],
        replace_on: &["listener_arn", "certificate_arn"],
        ..Schema::new(Tagging::None, 1)
    };

    fn summary(p: &ListenerCertificateProps) -> String {
        p.certificate_arn.clone()
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<ListenerCertificateProps>, AwsError> {
        // The extra certificates of the stack's HTTPS listeners.
        let mut read = Read::default();
        for listener in cx.earlier(ResourceType::Listener) {
            let is_https = matches!(&listener.props, crate::graph::Properties::Listener(p) if p.protocol == "HTTPS");
            if is_https {
                read.found.extend(cx.clients.elb.describe_listener_certificates(listener.id.clone()).await?);
            }
        }
        Ok(read)
    }

    /// By the certificate's ARN, and the listener: the test listener's copy has an id of
    /// its own. None on a listener that is not the stack's (someone's own listener on the
    /// stack's load balancer, or a foreign load balancer holding its name): its
    /// certificates are not the stack's either.
    fn identify(
        found: &Found<ListenerCertificateProps>,
        _graph: &Graph,
        index: &PhysicalIndex<'_>,
    ) -> Option<LogicalId> {
        let on_test = match &found.props.listener_arn {
            RefOr::Value(arn) => {
                let mut owners = index.get(arn).peekable();
                owners.peek()?;
                owners.any(|(id, _)| id.as_str() == "listener/test")
            }
            RefOr::Ref(r) => r.id.as_str() == "listener/test",
        };
        let arn = &found.props.certificate_arn;
        Some(if on_test { test_listener_certificate_id(arn) } else { listener_certificate_id(arn) })
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: ListenerCertificateProps) -> Result<Physical, StepError> {
        let listener = lit(&p.listener_arn)?;
        // AddListenerCertificates is idempotent: a retried step adds nothing new.
        cx.clients
            .elb
            .add_listener_certificates(listener.clone(), vec![p.certificate_arn.clone()])
            .await
            .map_err(step_error)?;
        let id = certificate_key(&listener, &p.certificate_arn);
        Ok(Physical { id, arn: Some(p.certificate_arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    async fn update(
        _cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        _w: ListenerCertificateProps,
        _h: ListenerCertificateProps,
    ) -> Result<Option<Physical>, StepError> {
        // Both fields force a replacement: nothing changes in place.
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: ListenerCertificateProps) -> Result<(), StepError> {
        let listener = lit(&p.listener_arn)?;
        gone_ok(cx.clients.elb.remove_listener_certificates(listener, vec![p.certificate_arn]).await)
    }
}

/// The AWS id ecs-kit gives a listener certificate (AWS has none): the listener's ARN
/// and the certificate's, space-separated.
pub(crate) fn certificate_key(listener_arn: &str, certificate_arn: &str) -> String {
    format!("{listener_arn} {certificate_arn}")
}
