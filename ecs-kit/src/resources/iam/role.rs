//! `iam:role` with its trust policy, inline and attached policies.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::ErrorKind;
use crate::graph::props::RoleProps;
use crate::graph::Resource;
use crate::graph::ResourceType;
use crate::resources::LiveResource;
use crate::resources::{adopt, gone_ok, step_error, Cx, Kind, Physical, Schema, Tagging};
use crate::resources::{conflict, Read, ReadCx};
use crate::walk::StepError;

pub(crate) struct Role;

#[async_trait]
impl Kind for Role {
    type Props = RoleProps;
    const SCHEMA: Schema =
        Schema { replace_on: &["role_name", "path"], names_only: true, ..Schema::new(Tagging::IamRole, 8) };

    /// The description is ecs-kit's label, written when the role is made and not read
    /// back: AWS lists it only in `ListRoles` (every role of the account, paged) or
    /// per role (`GetRole`), not with the policies and tags.
    fn declared(live: &mut RoleProps, desired: &RoleProps) {
        live.description.clone_from(&desired.description);
    }

    fn summary(p: &RoleProps) -> String {
        let mut parts: Vec<String> =
            p.managed_policy_arns.iter().map(|a| a.rsplit('/').next().unwrap_or(a).to_owned()).collect();
        parts.extend(p.inline_policies.keys().cloned());
        parts.join(", ")
    }

    async fn read(cx: &ReadCx<'_>) -> Result<Read<RoleProps>, AwsError> {
        // By their deterministic names; the prefix finds the task roles of services no
        // longer declared.
        let names: Vec<String> = cx.desired(ResourceType::IamRole).map(|r| r.name.clone()).collect();
        let prefix = crate::model::names::stack_name(&cx.stack.name, &cx.stack.region, usize::MAX) + "-";
        let mut read = Read::default();
        for role in cx.clients.iam.get_roles(names, Some(prefix)).await? {
            if cx.owned(&role.tags) {
                read.found.push(role);
            } else if let Some(r) = cx.desired(ResourceType::IamRole).find(|r| r.name == role.props.role_name) {
                read.conflicts.push(conflict(r.id.as_str(), ResourceType::IamRole, &role.props.role_name));
            }
        }
        Ok(read)
    }

    async fn create(cx: &Cx<'_>, r: &Resource, p: RoleProps) -> Result<Physical, StepError> {
        let iam = &cx.clients.iam;
        let role = p.role_name.clone();
        let arn = match iam.create_role(p.clone(), r.tags.clone()).await {
            // A retry after the role was made (a later call of this step failed).
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                let found = iam.get_roles(vec![role.clone()], None).await.map_err(step_error)?;
                let found = found.into_iter().find(|r| r.props.role_name == role);
                adopt(e, found.as_ref().map(|r| &r.tags), cx.stack)?;
                found.and_then(|r| r.arn).unwrap_or_default()
            }
            other => other.map_err(step_error)?,
        };
        for (policy, doc) in p.inline_policies {
            iam.put_role_policy(role.clone(), policy, doc).await.map_err(step_error)?;
        }
        for policy in p.managed_policy_arns {
            iam.attach_role_policy(role.clone(), policy).await.map_err(step_error)?;
        }
        Ok(Physical { id: role.clone(), arn: Some(arn), name: Some(role), dns_name: None, digest: None })
    }

    async fn update(
        cx: &Cx<'_>,
        _r: &Resource,
        _live: &LiveResource,
        w: RoleProps,
        h: RoleProps,
    ) -> Result<Option<Physical>, StepError> {
        let (iam, role) = (&cx.clients.iam, w.role_name.clone());
        if w.assume_role_policy != h.assume_role_policy {
            iam.update_assume_role_policy(role.clone(), w.assume_role_policy.clone()).await.map_err(step_error)?;
        }
        let want: BTreeSet<&String> = w.managed_policy_arns.iter().collect();
        let have: BTreeSet<&String> = h.managed_policy_arns.iter().collect();
        for policy in want.difference(&have) {
            iam.attach_role_policy(role.clone(), (*policy).clone()).await.map_err(step_error)?;
        }
        for policy in have.difference(&want) {
            iam.detach_role_policy(role.clone(), (*policy).clone()).await.map_err(step_error)?;
        }
        for (name, doc) in &w.inline_policies {
            if h.inline_policies.get(name) != Some(doc) {
                iam.put_role_policy(role.clone(), name.clone(), doc.clone()).await.map_err(step_error)?;
            }
        }
        for name in h.inline_policies.keys().filter(|n| !w.inline_policies.contains_key(*n)) {
            iam.delete_role_policy(role.clone(), name.clone()).await.map_err(step_error)?;
        }
        Ok(None)
    }

    /// The live policies as read: every one goes before the role can.
    async fn delete(cx: &Cx<'_>, _live: &LiveResource, p: RoleProps) -> Result<(), StepError> {
        let iam = &cx.clients.iam;
        for arn in &p.managed_policy_arns {
            gone_ok(iam.detach_role_policy(p.role_name.clone(), arn.clone()).await)?;
        }
        for name in p.inline_policies.keys() {
            gone_ok(iam.delete_role_policy(p.role_name.clone(), name.clone()).await)?;
        }
        gone_ok(iam.delete_role(p.role_name.clone()).await)
    }
}
