//! `iam:instance-profile`, holding the instances' role.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::ErrorKind;
use crate::graph::props::InstanceProfileProps;
use crate::graph::RefOr;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{adopt, gone_ok, lit, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct InstanceProfile;

#[async_trait]
impl Kind for InstanceProfile {
    type Props = InstanceProfileProps;
    const SCHEMA: Schema =
        Schema { replace_on: &["instance_profile_name", "path"], ..Schema::new(Tagging::IamInstanceProfile, 7) };

    async fn read(cx: &ReadCx<'_>) -> Result<Read<InstanceProfileProps>, AwsError> {
        let Some(name) = cx.desired_name("instance-profile") else { return Ok(Read::default()) };
        let found = cx.clients.iam.get_instance_profile(name).await?.into_iter().collect();
        Ok(cx.by_name("instance-profile", ResourceType::InstanceProfile, found))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: InstanceProfileProps) -> Result<Physical, StepError> {
        let iam = &cx.clients.iam;
        let name = p.instance_profile_name.clone();
        let role = lit(&p.role_name)?;
        let (arn, holds) = match iam.create_instance_profile(name.clone(), p.path, r.tags.clone()).await {
            // A retry after the profile was made (adding its role failed): ours if tagged.
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                let found = iam.get_instance_profile(name.clone()).await.map_err(step_error)?;
                adopt(e.clone(), found.as_ref().map(|f| &f.tags), cx.stack)?;
                let Some(found) = found else { return Err(StepError::Retryable(e.to_string())) };
                (found.arn.unwrap_or_default(), found.props.role_name)
            }
            other => (other.map_err(step_error)?, RefOr::Value(String::new())),
        };
        // A profile holds one role: add it unless the earlier attempt did.
        if holds != RefOr::Value(role.clone()) {
            iam.add_role_to_instance_profile(name.clone(), role).await.map_err(step_error)?;
        }
        Ok(Physical { id: name, arn: Some(arn), name: Some(r.name.clone()), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: InstanceProfileProps,
        h: InstanceProfileProps,
    ) -> Result<Option<Physical>, StepError> {
        let (new, old) = (lit(&w.role_name)?, lit(&h.role_name)?);
        if new != old {
            let (iam, profile) = (&cx.clients.iam, w.instance_profile_name.clone());
            // An apply stopped between creating the profile and adding its role left it
            // empty.
            if !old.is_empty() {
                iam.remove_role_from_instance_profile(profile.clone(), old).await.map_err(step_error)?;
            }
            iam.add_role_to_instance_profile(profile, new).await.map_err(step_error)?;
        }
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: InstanceProfileProps) -> Result<(), StepError> {
        let iam = &cx.clients.iam;
        if let Ok(role) = lit(&p.role_name) {
            gone_ok(iam.remove_role_from_instance_profile(p.instance_profile_name.clone(), role).await)?;
        }
        gone_ok(iam.delete_instance_profile(p.instance_profile_name.clone()).await)
    }
}
