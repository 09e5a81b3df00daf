//! `ec2:launch-template`: a change is a new default version.

use async_trait::async_trait;

use crate::aws::{AwsError, Found, Tags};
use crate::graph::props::{ImageSource, LaunchTemplateProps};
use crate::graph::ResourceType;
use crate::graph::{Properties, Resource};
use crate::model::REVISION_TAG;
use crate::resources::Context;
use crate::resources::LiveResource;
use crate::resources::{client_token, content_digest, gone_ok, json_digest, step_error, Cx, Kind, Physical, Schema};
use crate::resources::{conflict, Read, ReadCx, Tagging};
use crate::walk::StepError;

pub(crate) struct LaunchTemplate;

/// The AMI the SSM parameter `name` names.
async fn ami(cx: &Cx<'_>, name: &str) -> Result<String, StepError> {
    cx.clients.ssm.get_parameter(name.to_owned()).await.map_err(step_error)?.ok_or_else(|| {
        StepError::Fatal(format!("the SSM parameter {name} naming the AMI does not exist in this region"))
    })
}

/// The record a template carries of its default version ([`REVISION_TAG`]): the
/// version, the AMI it boots and the digest of the declaration it was made from, its
/// references resolved (`content_digest` of the resolved properties).
fn record(version: i64, ami: &str, props: &LaunchTemplateProps) -> Tags {
    Tags::from([(REVISION_TAG.to_owned(), format!("{version} {ami} {}", content_digest(props)))])
}

/// The template `head` (from the listing: its name, tags and versions) as declared, when
/// its record names its default version and the declaration resolved with `physical`
/// has the recorded digest: versions are immutable, so its data is the declaration's,
/// booting the recorded AMI (see [`Read::as_declared`]).
fn from_record<'a>(
    head: &Found<String>,
    desired: &Resource,
    physical: impl Fn(&str, crate::graph::Attr) -> Option<&'a str>,
) -> Option<LaunchTemplateProps> {
    let mut parts = head.tags.get(REVISION_TAG)?.splitn(3, ' ');
    let (version, ami, digest) = (parts.next()?, parts.next()?, parts.next()?);
    if head.attrs.get("default_version").map(String::as_str) != Some(version) {
        return None;
    }
    if crate::resources::json_resolved(&desired.properties, physical, json_digest)? != digest {
        return None;
    }
    let Properties::LaunchTemplate(props) = &*desired.properties else { return None };
    Some(LaunchTemplateProps { image: ImageSource::ImageId(ami.to_owned()), ..props.clone() })
}

#[async_trait]
impl Kind for LaunchTemplate {
    type Props = LaunchTemplateProps;
    const SCHEMA: Schema = Schema {
        replace_on: &["launch_template_name"],
        // What its record's digest is resolved with: the instances' group and profile.
        read_after: &[ResourceType::SecurityGroup, ResourceType::InstanceProfile],
        ..Schema::new(Tagging::Ec2, 6)
    };

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

    /// By its name, unique in the region: a foreign template holding it is a conflict.
    /// The data of its default version is read unless the template records it (see
    /// [`from_record`]).
    async fn read(cx: &ReadCx<'_>) -> Result<Read<LaunchTemplateProps>, AwsError> {
        let Some(desired) = cx.graph.get("launch-template") else { return Ok(Read::default()) };
        let filter = vec![crate::aws::Filter::new("launch-template-name", [desired.name.clone()])];
        let ec2 = &cx.clients.ec2;
        let mut read = Read::default();
        let heads = ec2.list_launch_templates(filter).await?;
        // What the record's digest is resolved with, when there is a record.
        let recorded = heads.iter().any(|h| h.tags.contains_key(REVISION_TAG));
        let earlier = if recorded { cx.by_id() } else { crate::FastMap::default() };
        for head in heads {
            if !cx.owned(&head.tags) {
                read.conflicts.push(conflict("launch-template", ResourceType::LaunchTemplate, &desired.name));
                continue;
            }
            let props = match from_record(&head, desired, |id, attr| cx.physical(&earlier, id, attr)) {
                Some(props) => {
                    read.as_declared.insert(head.id.clone());
                    props
                }
                // Deleted since the listing: left out.
                None => match ec2.launch_template_data(head.id.clone(), head.props.clone()).await? {
                    Some(props) => props,
                    None => continue,
                },
            };
            let Found { id, arn, state, tags, attrs, .. } = head;
            read.found.push(Found { id, arn, state, props, tags, attrs });
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: LaunchTemplateProps) -> Result<Physical, StepError> {
        let image_id = match &p.image {
            ImageSource::ImageId(id) => id.clone(),
            ImageSource::SsmParameter { name, .. } => ami(cx, name).await?,
        };
        let (token, _) = client_token(cx.stack, r, &p);
        let tags = r.tags.clone().into_iter().chain(record(1, &image_id, &p)).collect();
        let id = cx.clients.ec2.create_launch_template(p, image_id, token, tags).await.map_err(step_error)?;
        Ok(Physical { id, name: Some(r.name.clone()), ..Physical::default() })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        live: &LiveResource,
        w: LaunchTemplateProps,
        h: LaunchTemplateProps,
    ) -> Result<Option<Physical>, StepError> {
        // The AMI to boot, as `normalise` chose it: the one declared, the latest one the
        // parameter names when following it, else the one the template boots.
        let image_id = match (&w.image, &h.image) {
            (ImageSource::ImageId(a), _) => a.clone(),
            (ImageSource::SsmParameter { name, follow_latest: true }, _) => ami(cx, name).await?,
            (_, ImageSource::ImageId(b)) => b.clone(),
            (ImageSource::SsmParameter { name, .. }, _) => ami(cx, name).await?,
        };
        let booting = LaunchTemplateProps { image: ImageSource::ImageId(image_id.clone()), ..w.clone() };
        if booting == h {
            return Ok(None);
        }
        // One token per content and AMI: a retried step does not add a second version,
        // and each newer AMI a template follows gets its own.
        let content = serde_json::to_string(&w).unwrap_or_default();
        let token = crate::model::names::fit(&format!("{}-{image_id}-{content}", w.launch_template_name), 64);
        let (ec2, id) = (&cx.clients.ec2, live.aws_id.clone());
        let made = |version| record(version, &image_id, &w);
        let version = ec2
            .create_launch_template_version(id.clone(), w.clone(), image_id.clone(), token)
            .await
            .map_err(step_error)?;
        ec2.set_default_launch_template_version(id.clone(), version).await.map_err(step_error)?;
        // The record of the new default version (a failure here leaves the older record,
        // which later reads see through).
        ec2.create_tags(vec![id], made(version)).await.map_err(step_error)?;
        Ok(None)
    }

    async fn delete(cx: &Cx<'_>, live: &LiveResource, _p: LaunchTemplateProps) -> Result<(), StepError> {
        gone_ok(cx.clients.ec2.delete_launch_template(live.aws_id.clone()).await)
    }
}
