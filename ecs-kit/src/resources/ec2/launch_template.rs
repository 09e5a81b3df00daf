//! `ec2:launch-template`: a change is a new default version.

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::graph::props::{ImageSource, LaunchTemplateProps};
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{client_token, gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct LaunchTemplate;

/// The AMI the SSM parameter `name` names.
async fn ami(cx: &Cx<'_>, name: &str) -> Result<String, StepError> {
    cx.clients.ssm.get_parameter(name.to_owned()).await.map_err(step_error)?.ok_or_else(|| {
        StepError::Fatal(format!("the SSM parameter {name} naming the AMI does not exist in this region"))
    })
}

#[async_trait]
impl Kind for LaunchTemplate {
    type Props = LaunchTemplateProps;
    const SCHEMA: Schema = Schema { replace_on: &["launch_template_name"], ..Schema::new(Tagging::Ec2, 6) };

    fn normalise(w: &mut LaunchTemplateProps, h: &LaunchTemplateProps, ctx: &Context) {
        if let ImageSource::SsmParameter { follow_latest, .. } = &w.image {
            w.image = match (&ctx.latest_ami, follow_latest) {
                (Some(ami), true) => ImageSource::ImageId(ami.clone()),
                // Keep the AMI the template has.
                _ => h.image.clone(),
            };
        }
    }

    fn summary(p: &LaunchTemplateProps) -> String {
        let image = match &p.image {
            ImageSource::ImageId(id) => id.clone(),
            ImageSource::SsmParameter { follow_latest: true, .. } => "latest ECS-optimized AMI".into(),
            ImageSource::SsmParameter { follow_latest: false, .. } => "ECS-optimized AMI, kept once chosen".into(),
        };
        format!("{}, {image}", p.instance_type)
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<LaunchTemplateProps>, AwsError> {
        // By its name, unique in the region: a foreign template holding it is a conflict.
        let name = cx.desired_name("launch-template").unwrap_or_default();
        let filter = vec![crate::aws::Filter::new("launch-template-name", [name])];
        let found = cx.clients.ec2.describe_launch_templates(filter).await?;
        Ok(cx.by_name("launch-template", ResourceType::LaunchTemplate, found))
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: LaunchTemplateProps) -> Result<Physical, StepError> {
        let image_id = match &p.image {
            ImageSource::ImageId(id) => id.clone(),
            ImageSource::SsmParameter { name, .. } => ami(cx, name).await?,
        };
        let (token, _) = client_token(cx.stack, r, &p);
        let id = cx.clients.ec2.create_launch_template(p, image_id, token, r.tags.clone()).await.map_err(step_error)?;
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: LaunchTemplateProps,
        h: LaunchTemplateProps,
    ) -> Result<Option<Physical>, StepError> {
        let mut comparable = w.clone();
        comparable.image = h.image.clone();
        let image_changed = match (&w.image, &h.image) {
            (ImageSource::ImageId(a), ImageSource::ImageId(b)) => a != b,
            _ => false,
        };
        if comparable == h && !image_changed {
            return Ok(None);
        }
        let image_id = match (&w.image, &h.image) {
            (ImageSource::ImageId(a), _) => a.clone(),
            (_, ImageSource::ImageId(b)) => b.clone(),
            (ImageSource::SsmParameter { name, .. }, _) => ami(cx, name).await?,
        };
        // One token per content: a retried step does not add a second version.
        let content = serde_json::to_string(&w).unwrap_or_default();
        let token = crate::model::names::fit(&format!("{}-{content}", w.launch_template_name), 64);
        let (ec2, id) = (&cx.clients.ec2, live.aws_id.clone());
        let version = ec2.create_launch_template_version(id.clone(), w, image_id, token).await.map_err(step_error)?;
        ec2.set_default_launch_template_version(id, version).await.map_err(step_error)?;
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: LaunchTemplateProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ec2.delete_launch_template(live.aws_id.clone()).await)
    }
}
