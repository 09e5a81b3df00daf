//! `efs:access-point`: a service's own directory; immutable, so any change replaces it.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::AccessPointProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{client_token, gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct AccessPoint;

#[async_trait]
impl Kind for AccessPoint {
    type Props = AccessPointProps;
    const SCHEMA: Schema = Schema {
        read_after: &[crate::graph::ResourceType::FileSystem],
        replace_on: &["file_system_id", "posix_user", "root_directory"],
        coexists: true,
        ..Schema::new(Tagging::Efs, 9)
    };

    /// The client token apply used carries a digest of the properties.
    fn normalise(w: &mut AccessPointProps, h: &AccessPointProps, _ctx: &Context) {
        w.client_token.clone_from(&h.client_token);
    }

    /// The client token is ecs-kit's bookkeeping: the declared one, to which apply added
    /// a digest of the properties (`<token>-<8 hex digits>`), reads as the declared one.
    fn declared(live: &mut AccessPointProps, desired: &AccessPointProps) {
        let declared = crate::model::names::fit(&desired.client_token, 55);
        let digest = live.client_token.strip_prefix(declared.as_str()).and_then(|t| t.strip_prefix('-'));
        if digest.is_some_and(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_hexdigit())) {
            live.client_token.clone_from(&desired.client_token);
        }
    }

    fn summary(p: &AccessPointProps) -> String {
        format!("root {}", p.root_directory.path)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<AccessPointProps>, AwsError> {
        // Those of the stack's file system.
        let mut read = Read::default();
        for fs in cx.earlier(ResourceType::FileSystem) {
            read.found.extend(cx.clients.efs.describe_access_points(fs.id.clone()).await?);
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, mut p: AccessPointProps) -> Result<Physical, StepError> {
        let (_, digest) = client_token(cx.stack, r, &p);
        // The token carries the properties' digest, as the others do (diff ignores it).
        p.client_token = format!("{}-{digest}", crate::model::names::fit(&p.client_token, 55));
        let (id, arn) = cx.clients.efs.create_access_point(p, r.tags.clone()).await.map_err(step_error)?;
        Ok(Physical { id, arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    /// Only tags change in place; the rest is replacement.
    async fn update(
        _cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        _w: AccessPointProps,
        _h: AccessPointProps,
    ) -> Result<Option<Physical>, StepError> {
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: AccessPointProps) -> Result<(), StepError> {
        gone_ok(cx.clients.efs.delete_access_point(live.aws_id.clone()).await)
    }
}
