//! The fake's IAM: roles with their policies, instance profiles.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use super::{aws_error, merge_tags, push, remove_tags, visible, Fake, FakeResource, Meta, ACCOUNT};
use crate::aws::{AwsResult, Found, IamApi, Tags};
use crate::graph::props::{InstanceProfileProps, RefOr, RoleProps};
use crate::graph::ResourceType;

const SERVICE: &str = "iam";

#[derive(Debug, Clone)]
pub(crate) struct Role {
    id: String,
    arn: String,
    path: String,
    trust: serde_json::Value,
    inline: BTreeMap<String, serde_json::Value>,
    managed: BTreeSet<String>,
    meta: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Profile {
    id: String,
    arn: String,
    path: String,
    role: Option<String>,
    meta: Meta,
}

/// IAM objects by name (names are unique case-insensitively).
#[derive(Debug, Default)]
pub(crate) struct IamState {
    roles: BTreeMap<String, Role>,
    profiles: BTreeMap<String, Profile>,
}

impl IamState {
    pub fn profile_arn_exists(&self, arn: &str) -> bool {
        self.profiles.values().any(|p| p.arn == arn)
    }

    /// Whether ECS may invoke the Lambda function `function` with the role `role_arn`:
    /// the role exists, trusts `ecs.amazonaws.com`, and an inline policy allows
    /// `lambda:InvokeFunction` on the function (by its ARN or `*`). Else what AWS says.
    pub fn may_invoke(&self, role_arn: &str, function: &str) -> Result<(), String> {
        let denied = || {
            format!("AccessDeniedException: {role_arn} is not authorized to perform lambda:InvokeFunction on resource {function}")
        };
        let Some(role) = self.roles.values().find(|r| r.arn == role_arn) else {
            return Err(format!("ECS was unable to assume the role {role_arn}: it does not exist"));
        };
        let named = |v: &serde_json::Value, wanted: &[&str]| match v {
            serde_json::Value::String(s) => wanted.contains(&s.as_str()),
            serde_json::Value::Array(items) => items.iter().any(|i| i.as_str().is_some_and(|s| wanted.contains(&s))),
            _ => false,
        };
        let statements = |doc: &serde_json::Value| match &doc["Statement"] {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let trusted = statements(&role.trust)
            .iter()
            .any(|st| st["Effect"] == "Allow" && named(&st["Principal"]["Service"], &["ecs.amazonaws.com"]));
        if !trusted {
            return Err(format!(
                "ECS was unable to assume the role {role_arn}: its trust policy does not name ecs.amazonaws.com"
            ));
        }
        let allowed = role.inline.values().flat_map(statements).any(|st| {
            st["Effect"] == "Allow"
                && named(&st["Action"], &["lambda:InvokeFunction", "lambda:*", "*"])
                && named(&st["Resource"], &[function, "*"])
        });
        if allowed {
            Ok(())
        } else {
            Err(denied())
        }
    }

    pub fn snapshot(&self, out: &mut Vec<FakeResource>) {
        for (name, r) in &self.roles {
            push(out, ResourceType::IamRole, &r.id, Some(name), None, &r.meta.tags);
        }
        for (name, p) in &self.profiles {
            push(out, ResourceType::InstanceProfile, &p.id, Some(name), None, &p.meta.tags);
        }
    }
}

fn err(operation: &str, code: &str, message: impl Into<String>) -> crate::aws::AwsError {
    aws_error(SERVICE, operation, code, message)
}

fn no_role(operation: &str, name: &str) -> crate::aws::AwsError {
    err(operation, "NoSuchEntity", format!("The role with name {name} cannot be found."))
}

fn no_profile(operation: &str, name: &str) -> crate::aws::AwsError {
    err(operation, "NoSuchEntity", format!("Instance Profile {name} cannot be found."))
}

fn upper(hex: &str) -> String {
    hex.to_ascii_uppercase()
}

#[async_trait]
impl IamApi for Fake {
    async fn get_roles(&self, names: Vec<String>, prefix: Option<String>) -> AwsResult<Vec<Found<RoleProps>>> {
        let mut s = self.begin(SERVICE, "GetAccountAuthorizationDetails").await?;
        let holders: BTreeMap<String, Vec<String>> = s.iam.profiles.iter().fold(BTreeMap::new(), |mut m, (p, x)| {
            if let Some(role) = &x.role {
                m.entry(role.clone()).or_default().push(p.clone());
            }
            m
        });
        let names: std::collections::BTreeSet<String> = names.into_iter().collect();
        let mut out = Vec::new();
        for (name, r) in &mut s.iam.roles {
            let wanted = names.contains(name) || prefix.as_deref().is_some_and(|p| name.starts_with(p));
            if !wanted || !visible(&mut r.meta) {
                continue;
            }
            let mut f = Found::new(
                r.id.clone(),
                RoleProps {
                    role_name: name.clone(),
                    path: r.path.clone(),
                    // As `GetAccountAuthorizationDetails` gives it (see `IamApi::get_roles`).
                    description: String::new(),
                    assume_role_policy: r.trust.clone(),
                    managed_policy_arns: r.managed.iter().cloned().collect(),
                    inline_policies: r.inline.clone(),
                },
            );
            f.arn = Some(r.arn.clone());
            f.tags = r.meta.tags.clone();
            f.attrs.insert("instance_profiles".into(), holders.get(name).cloned().unwrap_or_default().join(","));
            out.push(f);
        }
        Ok(out)
    }

    async fn create_role(&self, props: RoleProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateRole";
        let mut s = self.begin(SERVICE, OP).await?;
        if s.iam.roles.keys().any(|n| n.eq_ignore_ascii_case(&props.role_name)) {
            return Err(err(OP, "EntityAlreadyExists", format!("Role with name {} already exists.", props.role_name)));
        }
        if !props.assume_role_policy.is_object() {
            return Err(err(OP, "MalformedPolicyDocument", "the trust policy is not a JSON object"));
        }
        let id = format!("AROA{}", upper(&s.hex(17)));
        let arn = format!("arn:aws:iam::{ACCOUNT}:role{}{}", props.path, props.role_name);
        let meta = s.meta(OP, tags);
        s.iam.roles.insert(
            props.role_name,
            Role {
                id,
                arn: arn.clone(),
                path: props.path,
                trust: props.assume_role_policy,
                inline: BTreeMap::new(),
                managed: BTreeSet::new(),
                meta,
            },
        );
        Ok(arn)
    }

    async fn update_assume_role_policy(&self, role_name: String, document: serde_json::Value) -> AwsResult<()> {
        const OP: &str = "UpdateAssumeRolePolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?.trust = document;
        Ok(())
    }

    async fn put_role_policy(
        &self,
        role_name: String,
        policy_name: String,
        document: serde_json::Value,
    ) -> AwsResult<()> {
        const OP: &str = "PutRolePolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        if !document.is_object() {
            return Err(err(OP, "MalformedPolicyDocument", "the policy is not a JSON object"));
        }
        s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?.inline.insert(policy_name, document);
        Ok(())
    }

    async fn delete_role_policy(&self, role_name: String, policy_name: String) -> AwsResult<()> {
        const OP: &str = "DeleteRolePolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        let role = s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?;
        role.inline.remove(&policy_name).ok_or_else(|| {
            err(OP, "NoSuchEntity", format!("The role policy with name {policy_name} cannot be found."))
        })?;
        Ok(())
    }

    async fn attach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()> {
        const OP: &str = "AttachRolePolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        if !policy_arn.starts_with("arn:aws:iam::") {
            return Err(err(OP, "InvalidInput", format!("ARN {policy_arn} is not valid.")));
        }
        s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?.managed.insert(policy_arn);
        Ok(())
    }

    async fn detach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()> {
        const OP: &str = "DetachRolePolicy";
        let mut s = self.begin(SERVICE, OP).await?;
        let role = s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?;
        if !role.managed.remove(&policy_arn) {
            return Err(err(OP, "NoSuchEntity", format!("Policy {policy_arn} was not found.")));
        }
        Ok(())
    }

    async fn tag_role(&self, role_name: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagRole";
        let mut s = self.begin(SERVICE, OP).await?;
        merge_tags(&mut s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?.meta.tags, tags);
        Ok(())
    }

    async fn untag_role(&self, role_name: String, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "UntagRole";
        let mut s = self.begin(SERVICE, OP).await?;
        remove_tags(&mut s.iam.roles.get_mut(&role_name).ok_or_else(|| no_role(OP, &role_name))?.meta.tags, &keys);
        Ok(())
    }

    async fn tag_instance_profile(&self, profile_name: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagInstanceProfile";
        let mut s = self.begin(SERVICE, OP).await?;
        let profile = s.iam.profiles.get_mut(&profile_name).ok_or_else(|| no_profile(OP, &profile_name))?;
        merge_tags(&mut profile.meta.tags, tags);
        Ok(())
    }

    async fn untag_instance_profile(&self, profile_name: String, keys: Vec<String>) -> AwsResult<()> {
        const OP: &str = "UntagInstanceProfile";
        let mut s = self.begin(SERVICE, OP).await?;
        let profile = s.iam.profiles.get_mut(&profile_name).ok_or_else(|| no_profile(OP, &profile_name))?;
        remove_tags(&mut profile.meta.tags, &keys);
        Ok(())
    }

    async fn delete_role(&self, role_name: String) -> AwsResult<()> {
        const OP: &str = "DeleteRole";
        let mut s = self.begin(SERVICE, OP).await?;
        let role = s.iam.roles.get(&role_name).ok_or_else(|| no_role(OP, &role_name))?;
        if s.iam.profiles.values().any(|p| p.role.as_deref() == Some(role_name.as_str())) {
            return Err(err(
                OP,
                "DeleteConflict",
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        if !role.managed.is_empty() {
            return Err(err(OP, "DeleteConflict", "Cannot delete entity, must detach all policies first."));
        }
        if !role.inline.is_empty() {
            return Err(err(OP, "DeleteConflict", "Cannot delete entity, must delete policies first."));
        }
        s.iam.roles.remove(&role_name);
        Ok(())
    }

    async fn get_instance_profile(&self, name: String) -> AwsResult<Option<Found<InstanceProfileProps>>> {
        let mut s = self.begin(SERVICE, "GetInstanceProfile").await?;
        let Some(p) = s.iam.profiles.get_mut(&name) else { return Ok(None) };
        if !visible(&mut p.meta) {
            return Ok(None);
        }
        let mut f = Found::new(
            p.id.clone(),
            InstanceProfileProps {
                instance_profile_name: name.clone(),
                path: p.path.clone(),
                role_name: RefOr::Value(p.role.clone().unwrap_or_default()),
            },
        );
        f.arn = Some(p.arn.clone());
        f.tags = p.meta.tags.clone();
        Ok(Some(f))
    }

    async fn create_instance_profile(&self, name: String, path: String, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateInstanceProfile";
        let mut s = self.begin(SERVICE, OP).await?;
        if s.iam.profiles.keys().any(|n| n.eq_ignore_ascii_case(&name)) {
            return Err(err(OP, "EntityAlreadyExists", format!("Instance Profile {name} already exists.")));
        }
        let id = format!("AIPA{}", upper(&s.hex(17)));
        let arn = format!("arn:aws:iam::{ACCOUNT}:instance-profile{path}{name}");
        let meta = s.meta(OP, tags);
        s.iam.profiles.insert(name, Profile { id, arn: arn.clone(), path, role: None, meta });
        Ok(arn)
    }

    async fn add_role_to_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()> {
        const OP: &str = "AddRoleToInstanceProfile";
        let mut s = self.begin(SERVICE, OP).await?;
        if !s.iam.roles.contains_key(&role_name) {
            return Err(no_role(OP, &role_name));
        }
        let profile = s.iam.profiles.get_mut(&profile_name).ok_or_else(|| no_profile(OP, &profile_name))?;
        if profile.role.is_some() {
            return Err(err(
                OP,
                "LimitExceeded",
                format!("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1 ({profile_name})"),
            ));
        }
        profile.role = Some(role_name);
        Ok(())
    }

    async fn remove_role_from_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()> {
        const OP: &str = "RemoveRoleFromInstanceProfile";
        let mut s = self.begin(SERVICE, OP).await?;
        let profile = s.iam.profiles.get_mut(&profile_name).ok_or_else(|| no_profile(OP, &profile_name))?;
        if profile.role.as_deref() != Some(role_name.as_str()) {
            return Err(err(OP, "NoSuchEntity", format!("The role with name {role_name} is not in {profile_name}.")));
        }
        profile.role = None;
        Ok(())
    }

    async fn delete_instance_profile(&self, name: String) -> AwsResult<()> {
        const OP: &str = "DeleteInstanceProfile";
        let mut s = self.begin(SERVICE, OP).await?;
        let profile = s.iam.profiles.get(&name).ok_or_else(|| no_profile(OP, &name))?;
        if profile.role.is_some() {
            return Err(err(
                OP,
                "DeleteConflict",
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        s.iam.profiles.remove(&name);
        Ok(())
    }
}
