//! `efs:file-system`: data, kept unless `--delete-data`.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::FileSystemProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{gone_ok, step_error, wait_until, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct FileSystem;

#[async_trait]
impl Kind for FileSystem {
    type Props = FileSystemProps;
    const SCHEMA: Schema = Schema {
        replace_on: &["creation_token", "encrypted", "kms_key_id", "performance_mode"],
        holds_data: true,
        ..Schema::new(Tagging::Efs, 10)
    };

    /// Encrypted without a declared key: AWS uses its default EFS key and reports it.
    fn normalise(w: &mut FileSystemProps, h: &FileSystemProps, _ctx: &Context) {
        if w.encrypted && w.kms_key_id.is_none() {
            w.kms_key_id.clone_from(&h.kms_key_id);
        }
    }

    fn summary(p: &FileSystemProps) -> String {
        format!("encrypted, {}", p.throughput_mode)
    }

    /// The throughput mode is the one field ecs-kit cannot change in place yet.
    fn can_update(paths: &[&str]) -> bool {
        paths.iter().all(|p| p.starts_with("tags"))
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<FileSystemProps>, AwsError> {
        // By creation token.
        let Some(token) = cx.desired_name("file-system") else { return Ok(Read::default()) };
        let found = cx.clients.efs.describe_file_systems(token).await?;
        Ok(cx.by_name("file-system", ResourceType::FileSystem, found))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: FileSystemProps) -> Result<Physical, StepError> {
        let efs = &cx.clients.efs;
        let creation_token = p.creation_token.clone();
        let id = efs.create_file_system(p, r.tags.clone()).await.map_err(step_error)?;
        wait_until(&format!("file system {id} to be available"), cx.waits, || async {
            let found = efs.describe_file_systems(creation_token.clone()).await.map_err(step_error)?;
            Ok(found.iter().find(|f| f.id == id).and_then(|f| f.state.as_deref()) == Some("available"))
        })
        .await?;
        let found = efs.describe_file_systems(creation_token).await.map_err(step_error)?;
        let arn = found.into_iter().find(|f| f.id == id).and_then(|f| f.arn);
        Ok(Physical { id, arn, name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    /// Only tags change in place (see [`Kind::can_update`]).
    async fn update(
        _cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        _w: FileSystemProps,
        _h: FileSystemProps,
    ) -> Result<Option<Physical>, StepError> {
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: FileSystemProps) -> Result<(), StepError> {
        gone_ok(cx.clients.efs.delete_file_system(live.aws_id.clone()).await)
    }
}
