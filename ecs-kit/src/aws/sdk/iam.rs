//! IAM adapter: roles with their policies, and instance profiles.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_iam::types as iam;
use aws_sdk_iam::Client;

use super::{err, missing, sdk_error, tag_pairs};
use crate::aws::{AwsError, AwsResult, ErrorKind, Found, IamApi, Tags};
use crate::graph::props::{InstanceProfileProps, RefOr, RoleProps};

const SERVICE: &str = "iam";
/// Items per page of IAM listings (the most IAM allows).
const PAGE: i32 = 1000;

/// [`IamApi`] over `aws-sdk-iam`.
#[derive(Debug, Clone)]
pub struct IamSdk {
    client: Client,
}

impl IamSdk {
    /// An adapter over `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        IamSdk { client }
    }
}

/// Decodes `%XX` escapes (RFC 3986, as IAM encodes policy documents); anything else,
/// `+` included, is kept as it is.
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A policy document as IAM returns it (URL-encoded JSON; emulators may send it
/// plain), parsed; a document that is not JSON reads as a JSON string.
fn policy_document(raw: &str) -> serde_json::Value {
    let text = if raw.trim_start().starts_with('{') { raw.to_owned() } else { percent_decode(raw) };
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

fn tags_from(tags: &[iam::Tag]) -> Tags {
    tags.iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

fn tags_to(tags: &Tags, operation: &str) -> AwsResult<Option<Vec<iam::Tag>>> {
    if tags.is_empty() {
        return Ok(None);
    }
    tag_pairs(tags)
        .map(|(k, v)| {
            iam::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::new(ErrorKind::Invalid, SERVICE, operation, e.to_string()))
        })
        .collect::<AwsResult<Vec<_>>>()
        .map(Some)
}

/// A role from GetAccountAuthorizationDetails in the graph's shape. That API has no
/// description: `description` is the one ListRoles reported, if any.
/// A role as `GetAccountAuthorizationDetails` gives it: without its description (only
/// `ListRoles` and `GetRole` have it), which the contract of `IamApi::get_roles` leaves
/// empty.
fn role_found(role: &iam::RoleDetail) -> Found<RoleProps> {
    let mut managed: Vec<String> =
        role.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect();
    managed.sort();
    let inline: BTreeMap<String, serde_json::Value> = role
        .role_policy_list()
        .iter()
        .filter_map(|p| Some((p.policy_name()?.to_owned(), policy_document(p.policy_document().unwrap_or_default()))))
        .collect();
    let props = RoleProps {
        role_name: role.role_name().unwrap_or_default().to_owned(),
        path: role.path().unwrap_or("/").to_owned(),
        description: String::new(),
        assume_role_policy: role.assume_role_policy_document().map_or(serde_json::Value::Null, policy_document),
        managed_policy_arns: managed,
        inline_policies: inline,
    };
    let profiles: BTreeSet<&str> =
        role.instance_profile_list().iter().map(iam::InstanceProfile::instance_profile_name).collect();
    let mut found = Found::new(role.role_id().unwrap_or_default(), props);
    found.arn = role.arn().map(str::to_owned);
    found.tags = tags_from(role.tags());
    found.attrs.insert("instance_profiles".into(), profiles.into_iter().collect::<Vec<_>>().join(","));
    found
}

#[async_trait]
impl IamApi for IamSdk {
    // One paginated GetAccountAuthorizationDetails(Role) reads every role with its trust
    // policy, policies, tags and instance profiles; it lacks the description, which one
    // paginated ListRoles adds (only when a role was found). Two listings instead of
    // four calls per role.
    async fn get_roles(&self, names: Vec<String>, prefix: Option<String>) -> AwsResult<Vec<Found<RoleProps>>> {
        const OP: &str = "GetAccountAuthorizationDetails";
        if names.is_empty() && prefix.is_none() {
            return Ok(Vec::new());
        }
        let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let pages = self
            .client
            .get_account_authorization_details()
            .filter(iam::EntityType::Role)
            .max_items(PAGE)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(err(SERVICE, OP))?;
        let details: Vec<&iam::RoleDetail> = pages
            .iter()
            .flat_map(|p| p.role_detail_list())
            .filter(|r| {
                r.role_name().is_some_and(|n| wanted.contains(n) || prefix.as_deref().is_some_and(|p| n.starts_with(p)))
            })
            .collect();
        Ok(details.into_iter().map(role_found).collect())
    }

    async fn create_role(&self, props: RoleProps, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateRole";
        let out = self
            .client
            .create_role()
            .role_name(&props.role_name)
            .path(&props.path)
            .set_description(Some(props.description).filter(|d| !d.is_empty()))
            .assume_role_policy_document(props.assume_role_policy.to_string())
            .set_tags(tags_to(&tags, OP)?)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.role().map(|r| r.arn().to_owned()).ok_or_else(|| missing(SERVICE, OP, "Role.Arn"))
    }

    async fn update_assume_role_policy(&self, role_name: String, document: serde_json::Value) -> AwsResult<()> {
        self.client
            .update_assume_role_policy()
            .role_name(role_name)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(err(SERVICE, "UpdateAssumeRolePolicy"))?;
        Ok(())
    }

    async fn put_role_policy(
        &self,
        role_name: String,
        policy_name: String,
        document: serde_json::Value,
    ) -> AwsResult<()> {
        self.client
            .put_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(err(SERVICE, "PutRolePolicy"))?;
        Ok(())
    }

    async fn delete_role_policy(&self, role_name: String, policy_name: String) -> AwsResult<()> {
        self.client
            .delete_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteRolePolicy"))?;
        Ok(())
    }

    async fn attach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()> {
        self.client
            .attach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(err(SERVICE, "AttachRolePolicy"))?;
        Ok(())
    }

    async fn detach_role_policy(&self, role_name: String, policy_arn: String) -> AwsResult<()> {
        self.client
            .detach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(err(SERVICE, "DetachRolePolicy"))?;
        Ok(())
    }

    async fn tag_role(&self, role_name: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagRole";
        let Some(tags) = tags_to(&tags, OP)? else { return Ok(()) };
        self.client.tag_role().role_name(role_name).set_tags(Some(tags)).send().await.map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn untag_role(&self, role_name: String, keys: Vec<String>) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .untag_role()
            .role_name(role_name)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(err(SERVICE, "UntagRole"))?;
        Ok(())
    }

    async fn tag_instance_profile(&self, profile_name: String, tags: Tags) -> AwsResult<()> {
        const OP: &str = "TagInstanceProfile";
        let Some(tags) = tags_to(&tags, OP)? else { return Ok(()) };
        self.client
            .tag_instance_profile()
            .instance_profile_name(profile_name)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        Ok(())
    }

    async fn untag_instance_profile(&self, profile_name: String, keys: Vec<String>) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .untag_instance_profile()
            .instance_profile_name(profile_name)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(err(SERVICE, "UntagInstanceProfile"))?;
        Ok(())
    }

    async fn delete_role(&self, role_name: String) -> AwsResult<()> {
        self.client.delete_role().role_name(role_name).send().await.map_err(err(SERVICE, "DeleteRole"))?;
        Ok(())
    }

    async fn get_instance_profile(&self, name: String) -> AwsResult<Option<Found<InstanceProfileProps>>> {
        const OP: &str = "GetInstanceProfile";
        let out = match self.client.get_instance_profile().instance_profile_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = sdk_error(SERVICE, OP, e);
                return if e.kind == ErrorKind::NotFound { Ok(None) } else { Err(e) };
            }
        };
        let Some(p) = out.instance_profile() else { return Ok(None) };
        let props = InstanceProfileProps {
            instance_profile_name: p.instance_profile_name().to_owned(),
            path: p.path().to_owned(),
            role_name: RefOr::Value(p.roles().first().map(|r| r.role_name().to_owned()).unwrap_or_default()),
        };
        let mut found = Found::new(p.instance_profile_id(), props);
        found.arn = Some(p.arn().to_owned());
        found.tags = tags_from(p.tags());
        Ok(Some(found))
    }

    async fn create_instance_profile(&self, name: String, path: String, tags: Tags) -> AwsResult<String> {
        const OP: &str = "CreateInstanceProfile";
        let out = self
            .client
            .create_instance_profile()
            .instance_profile_name(name)
            .path(path)
            .set_tags(tags_to(&tags, OP)?)
            .send()
            .await
            .map_err(err(SERVICE, OP))?;
        out.instance_profile().map(|p| p.arn().to_owned()).ok_or_else(|| missing(SERVICE, OP, "InstanceProfile.Arn"))
    }

    async fn add_role_to_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()> {
        self.client
            .add_role_to_instance_profile()
            .instance_profile_name(profile_name)
            .role_name(role_name)
            .send()
            .await
            .map_err(err(SERVICE, "AddRoleToInstanceProfile"))?;
        Ok(())
    }

    async fn remove_role_from_instance_profile(&self, profile_name: String, role_name: String) -> AwsResult<()> {
        self.client
            .remove_role_from_instance_profile()
            .instance_profile_name(profile_name)
            .role_name(role_name)
            .send()
            .await
            .map_err(err(SERVICE, "RemoveRoleFromInstanceProfile"))?;
        Ok(())
    }

    async fn delete_instance_profile(&self, name: String) -> AwsResult<()> {
        self.client
            .delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(err(SERVICE, "DeleteInstanceProfile"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_iam::operation::create_role::{CreateRoleError, CreateRoleInput, CreateRoleOutput};
    use aws_sdk_iam::operation::delete_role::DeleteRoleError;
    use aws_sdk_iam::operation::get_instance_profile::{GetInstanceProfileError, GetInstanceProfileOutput};
    use aws_sdk_iam::operation::list_roles::ListRolesOutput;
    use aws_sdk_iam::types::error::{DeleteConflictException, EntityAlreadyExistsException, NoSuchEntityException};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;
    use aws_smithy_types::DateTime;
    use serde_json::json;

    use super::*;

    /// Trust policy of an EC2 role, URL-encoded as IAM sends it.
    const TRUST_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    /// An inline policy whose resource has a space, a `+` and a `*`, URL-encoded.
    const INLINE_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ssm%3AGetParameters%22%2C%22Resource%22%3A%22arn%3Aaws%3Assm%3Aus-west-2%3A%2A%3Aparameter%2Fshop%2Fdb%20pass%2Bword%22%7D%5D%7D";

    fn trust() -> serde_json::Value {
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]})
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    fn role_xml(name: &str, profiles: &[&str]) -> String {
        let profiles: String = profiles
            .iter()
            .map(|p| {
                format!(
                    "<member><Path>/</Path><InstanceProfileName>{p}</InstanceProfileName><InstanceProfileId>AIPA{p}</InstanceProfileId>\
                     <Arn>arn:aws:iam::123456789012:instance-profile/{p}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><Roles/></member>"
                )
            })
            .collect();
        format!(
            "<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>AROA{name}</RoleId>\
             <Arn>arn:aws:iam::123456789012:role/{name}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate>\
             <AssumeRolePolicyDocument>{TRUST_ENCODED}</AssumeRolePolicyDocument>\
             <InstanceProfileList>{profiles}</InstanceProfileList>\
             <RolePolicyList><member><PolicyName>secrets</PolicyName><PolicyDocument>{INLINE_ENCODED}</PolicyDocument></member></RolePolicyList>\
             <AttachedManagedPolicies>\
               <member><PolicyName>B</PolicyName><PolicyArn>arn:aws:iam::aws:policy/service-role/B</PolicyArn></member>\
               <member><PolicyName>A</PolicyName><PolicyArn>arn:aws:iam::aws:policy/A</PolicyArn></member>\
             </AttachedManagedPolicies>\
             <Tags><member><Key>ecs-kit:stack</Key><Value>shop</Value></member></Tags></member>"
        )
    }

    /// A GetAccountAuthorizationDetails page as IAM sends it on the wire.
    fn details_page(roles: &[String], marker: Option<&str>) -> Response {
        let paging = match marker {
            Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
            None => "<IsTruncated>false</IsTruncated>".to_owned(),
        };
        let body = format!(
            "<GetAccountAuthorizationDetailsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <GetAccountAuthorizationDetailsResult>{paging}<RoleDetailList>{}</RoleDetailList>\
             <UserDetailList/><GroupDetailList/><Policies/></GetAccountAuthorizationDetailsResult>\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>",
            roles.concat()
        );
        Response::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body))
    }

    fn listed_role(name: &str, description: Option<&str>) -> iam::Role {
        iam::Role::builder()
            .path("/")
            .role_name(name)
            .role_id(format!("AROA{name}"))
            .arn(format!("arn:aws:iam::123456789012:role/{name}"))
            .create_date(DateTime::from_secs(0))
            .set_description(description.map(str::to_owned))
            .build()
            .unwrap()
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%7B%22a%22%3A%22b%20c%2Bd%22%7D"), r#"{"a":"b c+d"}"#);
        assert_eq!(percent_decode("a+b"), "a+b", "`+` is not a space in RFC 3986");
        assert_eq!(percent_decode("%e2%82%ac"), "€", "UTF-8 sequences, lower-case hex");
        assert_eq!(percent_decode("100%"), "100%", "a lone `%` stays");
        assert_eq!(percent_decode("%zz%4"), "%zz%4", "invalid escapes stay");
        assert_eq!(policy_document(TRUST_ENCODED), trust());
        assert_eq!(policy_document(r#"{"a": "50%25"}"#), json!({"a": "50%25"}), "plain JSON is not decoded");
        assert_eq!(policy_document("not%20json"), json!("not json"));
    }

    #[tokio::test]
    async fn get_roles_reads_every_page_once_and_keeps_the_named_roles() {
        let first = mock!(Client::get_account_authorization_details)
            .match_requests(|r| {
                r.marker().is_none() && r.filter() == [iam::EntityType::Role] && r.max_items() == Some(1000)
            })
            .then_http_response(|| {
                details_page(&[role_xml("shop-instance", &["shop-profile"]), role_xml("someone-else", &[])], Some("m1"))
            });
        let second = mock!(Client::get_account_authorization_details)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_http_response(|| details_page(&[role_xml("shop-task-web", &[])], None));
        let list = mock!(Client::list_roles).then_output(|| {
            ListRolesOutput::builder()
                .roles(listed_role("shop-instance", Some("ecs-kit shop: container instances")))
                .roles(listed_role("someone-else", Some("not ours")))
                .roles(listed_role("shop-task-web", None))
                .build()
                .unwrap()
        });
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&first, &second, &list]);
        let roles = IamSdk::new(client)
            .get_roles(vec!["shop-instance".into(), "shop-task-web".into(), "shop-gone".into()], None)
            .await
            .unwrap();
        // Descriptions are not read: ListRoles pages through every role of the account.
        assert_eq!((first.num_calls(), second.num_calls(), list.num_calls()), (1, 1, 0));
        assert_eq!(roles.len(), 2, "a missing role is left out");
        let instance = &roles[0];
        assert_eq!(instance.id, "AROAshop-instance");
        assert_eq!(instance.arn.as_deref(), Some("arn:aws:iam::123456789012:role/shop-instance"));
        assert_eq!(instance.state, None);
        assert_eq!(
            instance.props,
            RoleProps {
                role_name: "shop-instance".into(),
                path: "/".into(),
                description: String::new(),
                assume_role_policy: trust(),
                managed_policy_arns: vec![
                    "arn:aws:iam::aws:policy/A".into(),
                    "arn:aws:iam::aws:policy/service-role/B".into()
                ],
                inline_policies: BTreeMap::from([(
                    "secrets".to_owned(),
                    json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters",
                        "Resource":"arn:aws:ssm:us-west-2:*:parameter/shop/db pass+word"}]})
                )]),
            }
        );
        assert_eq!(instance.tags, Tags::from([("ecs-kit:stack".into(), "shop".into())]));
        assert_eq!(instance.attrs, BTreeMap::from([("instance_profiles".into(), "shop-profile".into())]));
        let task = &roles[1];
        assert_eq!(task.props.role_name, "shop-task-web");
        assert_eq!(task.props.description, "", "descriptions are not read");
        assert_eq!(task.attrs.get("instance_profiles").map(String::as_str), Some(""));
    }

    #[tokio::test]
    async fn get_roles_calls_nothing_more_than_needed() {
        let details = mock!(Client::get_account_authorization_details)
            .then_http_response(|| details_page(&[role_xml("someone-else", &[])], None));
        let list = mock!(Client::list_roles).then_output(|| ListRolesOutput::builder().build().unwrap());
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&details, &list]);
        let sdk = IamSdk::new(client);
        assert!(sdk.get_roles(Vec::new(), None).await.unwrap().is_empty());
        assert_eq!(details.num_calls(), 0);
        assert!(sdk.get_roles(vec!["shop-instance".into()], None).await.unwrap().is_empty());
        assert_eq!((details.num_calls(), list.num_calls()), (1, 0), "descriptions are never read");
    }

    #[tokio::test]
    async fn create_role_sends_the_trust_policy_as_json_and_tags() {
        let seen: Arc<Mutex<Option<CreateRoleInput>>> = Arc::default();
        let sink = seen.clone();
        let rule = mock!(Client::create_role).then_compute_output(move |r| {
            *sink.lock().unwrap() = Some(r.clone());
            CreateRoleOutput::builder().role(listed_role("shop-instance", None)).build()
        });
        let client = mock_client!(aws_sdk_iam, [&rule]);
        let props = RoleProps {
            role_name: "shop-instance".into(),
            path: "/".into(),
            description: "ecs-kit shop: container instances".into(),
            assume_role_policy: trust(),
            managed_policy_arns: vec!["arn:aws:iam::aws:policy/A".into()],
            inline_policies: BTreeMap::from([("p".to_owned(), json!({}))]),
        };
        let tags = Tags::from([("ecs-kit:stack".into(), "shop".into())]);
        let arn = IamSdk::new(client).create_role(props, tags).await.unwrap();
        assert_eq!(arn, "arn:aws:iam::123456789012:role/shop-instance");
        let r = seen.lock().unwrap().clone().unwrap();
        assert_eq!(r.role_name(), Some("shop-instance"));
        assert_eq!(r.path(), Some("/"));
        assert_eq!(r.description(), Some("ecs-kit shop: container instances"));
        let sent: serde_json::Value = serde_json::from_str(r.assume_role_policy_document().unwrap()).unwrap();
        assert_eq!(sent, trust());
        assert_eq!(r.tags(), [iam::Tag::builder().key("ecs-kit:stack").value("shop").build().unwrap()]);
    }

    #[tokio::test]
    async fn an_existing_role_is_already_exists() {
        let rule = mock!(Client::create_role).then_error(|| {
            CreateRoleError::EntityAlreadyExistsException(
                EntityAlreadyExistsException::builder()
                    .message("Role with name shop-instance already exists.")
                    .meta(meta("EntityAlreadyExists", "Role with name shop-instance already exists."))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_iam, [&rule]);
        let props = RoleProps {
            role_name: "shop-instance".into(),
            path: "/".into(),
            description: String::new(),
            assume_role_policy: trust(),
            managed_policy_arns: Vec::new(),
            inline_policies: BTreeMap::new(),
        };
        let e = IamSdk::new(client).create_role(props, Tags::new()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists);
        assert_eq!(e.operation, "CreateRole");
        assert_eq!(e.code.as_deref(), Some("EntityAlreadyExists"));
    }

    #[tokio::test]
    async fn a_role_still_in_a_profile_is_a_conflict() {
        let rule = mock!(Client::delete_role).then_error(|| {
            DeleteRoleError::DeleteConflictException(
                DeleteConflictException::builder()
                    .message("Cannot delete entity, must remove roles from instance profile first.")
                    .meta(meta(
                        "DeleteConflict",
                        "Cannot delete entity, must remove roles from instance profile first.",
                    ))
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_iam, [&rule]);
        let e = IamSdk::new(client).delete_role("shop-instance".into()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.operation, "DeleteRole");
    }

    #[tokio::test]
    async fn get_instance_profile_maps_the_profile_and_a_missing_one_is_none() {
        let rule = mock!(Client::get_instance_profile)
            .sequence()
            .output(|| {
                GetInstanceProfileOutput::builder()
                    .instance_profile(
                        iam::InstanceProfile::builder()
                            .path("/")
                            .instance_profile_name("shop-profile")
                            .instance_profile_id("AIPA1")
                            .arn("arn:aws:iam::123456789012:instance-profile/shop-profile")
                            .create_date(DateTime::from_secs(0))
                            .roles(listed_role("shop-instance", None))
                            .tags(iam::Tag::builder().key("ecs-kit:stack").value("shop").build().unwrap())
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .error(|| {
                GetInstanceProfileError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("Instance Profile shop-gone cannot be found.")
                        .meta(meta("NoSuchEntity", "Instance Profile shop-gone cannot be found."))
                        .build(),
                )
            })
            .build();
        let client = mock_client!(aws_sdk_iam, [&rule]);
        let sdk = IamSdk::new(client);
        let p = sdk.get_instance_profile("shop-profile".into()).await.unwrap().unwrap();
        assert_eq!(p.id, "AIPA1");
        assert_eq!(p.arn.as_deref(), Some("arn:aws:iam::123456789012:instance-profile/shop-profile"));
        assert_eq!(
            p.props,
            InstanceProfileProps {
                instance_profile_name: "shop-profile".into(),
                path: "/".into(),
                role_name: RefOr::Value("shop-instance".into()),
            }
        );
        assert_eq!(p.tags, Tags::from([("ecs-kit:stack".into(), "shop".into())]));
        assert_eq!(sdk.get_instance_profile("shop-gone".into()).await.unwrap(), None);
    }
}
