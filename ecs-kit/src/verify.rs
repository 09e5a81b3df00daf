//! `verify`: checks against AWS, changing nothing, that what the stack deployed can run.
//!
//! Per service, from what is live (the task definition revision the family's latest
//! is, the service, its roles, log group and target group):
//! - the execution role and the service's task role exist and trust
//!   `ecs-tasks.amazonaws.com` to assume them;
//! - each secret exists (SSM parameters; Secrets Manager secrets are not checked:
//!   ecs-kit has no Secrets Manager client) and the execution role's inline policies
//!   allow reading it (`ssm:GetParameters`, `secretsmanager:GetSecretValue`; managed
//!   policies are not read, and moto has no `SimulatePrincipalPolicy`);
//! - the log group the container logs to exists;
//! - the target group's port is the container port the service registers, and the
//!   container maps that port;
//! - images are listed as not checked: that needs the ECR API (another SDK crate, and
//!   only for ECR images; a registry such as Docker Hub needs its own HTTP calls).
//!
//! Only read calls are made (the live stack's discovery and `GetParameter`).

use serde::Serialize;

use crate::aws::{retry_transient, Clients};
use crate::graph::props::{RoleProps, TaskDefinitionProps};
use crate::graph::{Properties, RefOr};
use crate::model::Stack;
use crate::observe::{LiveResource, LiveStack};

/// The service principal of ECS tasks.
pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What is checked (`role/task/products trusts ecs-tasks.amazonaws.com`).
    pub name: String,
    /// `true` passed, `false` failed, `None` not checked.
    pub ok: Option<bool>,
    /// Why (what was found, what to do), empty when it passed plainly.
    pub reason: String,
}

/// Every check of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The stack.
    pub stack: String,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Checks passed.
    pub passed: usize,
    /// Checks failed.
    pub failed: usize,
    /// Checks not made.
    pub skipped: usize,
}

impl Verification {
    /// Whether no check failed.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.failed == 0
    }

    /// The human form: `✓`, `✗` or `-` per check with its reason, and a summary line.
    #[must_use]
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("Verify stack {}:\n", self.stack);
        for c in &self.checks {
            let glyph = match c.ok {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "-",
            };
            let reason = if c.reason.is_empty() { String::new() } else { format!(": {}", c.reason) };
            let _ = writeln!(out, "  {glyph} {}{reason}", c.name);
        }
        let _ =
            writeln!(out, "\nVerify: {} passed, {} failed, {} not checked.", self.passed, self.failed, self.skipped);
        out
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn pass(&mut self, name: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Check { name: name.into(), ok: Some(true), reason: reason.into() });
    }
    fn fail(&mut self, name: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Check { name: name.into(), ok: Some(false), reason: reason.into() });
    }
    fn skip(&mut self, name: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Check { name: name.into(), ok: None, reason: reason.into() });
    }
    fn check(&mut self, name: impl Into<String>, result: Result<String, String>) {
        match result {
            Ok(reason) => self.pass(name, reason),
            Err(reason) => self.fail(name, reason),
        }
    }
}

/// `*` and `?` wildcards, as IAM matches actions (without regard to case: `ci`) and
/// resources.
fn glob(pattern: &str, text: &str, ci: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ci {
        (pattern.to_lowercase().chars().collect(), text.to_lowercase().chars().collect())
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A policy value that may be one string or a list of them.
fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn statements(document: &serde_json::Value) -> Vec<&serde_json::Value> {
    match &document["Statement"] {
        serde_json::Value::Array(items) => items.iter().collect(),
        s @ serde_json::Value::Object(_) => vec![s],
        _ => Vec::new(),
    }
}

/// Whether a trust policy lets the ECS tasks service assume the role; else what it trusts.
fn trusts_ecs_tasks(policy: &serde_json::Value) -> Result<String, String> {
    let mut trusted = Vec::new();
    for s in statements(policy) {
        let services = strings(&s["Principal"]["Service"]);
        let allows = s["Effect"] == "Allow" && strings(&s["Action"]).iter().any(|a| glob(a, "sts:AssumeRole", true));
        if allows && services.iter().any(|p| p == ECS_TASKS) {
            return Ok(String::new());
        }
        trusted.extend(services);
    }
    let trusted = if trusted.is_empty() { "no service".to_owned() } else { trusted.join(", ") };
    Err(format!(
        "its trust policy lets {trusted} assume it, not {ECS_TASKS}: tasks cannot use it; run apply to restore it"
    ))
}

/// Whether the inline policies allow `action` on `resource` (an explicit Deny wins).
fn allows(role: &RoleProps, action: &str, resource: &str) -> bool {
    let matching = |s: &serde_json::Value| {
        strings(&s["Action"]).iter().any(|a| glob(a, action, true))
            && strings(&s["Resource"]).iter().any(|r| glob(r, resource, false))
    };
    let all: Vec<&serde_json::Value> = role.inline_policies.values().flat_map(statements).collect();
    !all.iter().any(|s| s["Effect"] == "Deny" && matching(s))
        && all.iter().any(|s| s["Effect"] == "Allow" && matching(s))
}

fn role_of(live: &LiveStack, id: &str) -> Option<(RoleProps, String)> {
    live.get(id).and_then(|r| match &*r.properties {
        Properties::Role(p) => Some((p.clone(), r.arn.clone().unwrap_or_default())),
        _ => None,
    })
}

fn task_definition_of(r: &LiveResource) -> Option<&TaskDefinitionProps> {
    match &*r.properties {
        Properties::TaskDefinition(p) => Some(p),
        _ => None,
    }
}

/// The SSM parameter name of a secret's `valueFrom` (a name or an ARN).
fn parameter_name(value_from: &str) -> String {
    match value_from.split_once(":parameter") {
        Some((_, name)) if value_from.starts_with("arn:") => name.to_owned(),
        _ => value_from.to_owned(),
    }
}

/// The ARN IAM evaluates for a secret's `valueFrom`, in `account`.
fn secret_resource(stack: &Stack, account: &str, value_from: &str) -> String {
    if value_from.starts_with("arn:aws:secretsmanager:") || value_from.starts_with("arn:") {
        return value_from.split(':').take(7).collect::<Vec<_>>().join(":");
    }
    format!("arn:{}:ssm:{}:{account}:parameter/{}", stack.partition(), stack.region, value_from.trim_start_matches('/'))
}

/// Checks `stack` as deployed, through read calls only.
///
/// # Errors
/// [`crate::plan::PlanError`] when reading the live stack (or a parameter) fails.
pub async fn verify(stack: &Stack, clients: &Clients) -> Result<Verification, crate::plan::PlanError> {
    let live = crate::observe::observe(stack, clients).await?;
    let mut c = Checks(Vec::new());
    let role = |c: &mut Checks, id: &str| -> Option<(RoleProps, String)> {
        match role_of(&live, id) {
            Some(found) => {
                c.pass(format!("{id} exists"), found.0.role_name.clone());
                c.check(format!("{id} trusts {ECS_TASKS}"), trusts_ecs_tasks(&found.0.assume_role_policy));
                Some(found)
            }
            None => {
                c.fail(format!("{id} exists"), "not found in AWS: run apply");
                None
            }
        }
    };
    let execution = role(&mut c, "role/execution");
    for service in &stack.services {
        let name = &service.name;
        role(&mut c, &format!("role/task/{name}"));
        let td_id = format!("task-definition/{name}");
        let Some(td) = live.get(&td_id).and_then(task_definition_of) else {
            c.fail(format!("{td_id} exists"), "not found in AWS: run apply");
            continue;
        };
        let Some(container) = td.container_definitions.iter().find(|k| &k.name == name) else {
            c.fail(format!("{td_id} runs container {name}"), "no container of that name: run apply");
            continue;
        };
        // Secrets: there, and readable by the execution role.
        for secret in &container.secrets {
            let what = format!("{name} secret {} ({})", secret.name, secret.value_from);
            if secret.value_from.starts_with("arn:aws:secretsmanager:") {
                c.skip(format!("{what} exists"), "not checked: ecs-kit has no Secrets Manager client");
            } else {
                let parameter = parameter_name(&secret.value_from);
                match retry_transient(|| clients.ssm.get_parameter(parameter.clone())).await? {
                    Some(_) => c.pass(format!("{what} exists"), ""),
                    None => c.fail(
                        format!("{what} exists"),
                        format!("SSM parameter {parameter} does not exist: create it (aws ssm put-parameter --name {parameter} --type SecureString ...)"),
                    ),
                }
            }
            let action = if secret.value_from.starts_with("arn:aws:secretsmanager:") {
                "secretsmanager:GetSecretValue"
            } else {
                "ssm:GetParameters"
            };
            let check = format!("role/execution may read {name} secret {}", secret.name);
            match &execution {
                Some((props, arn)) => {
                    let account = arn.split(':').nth(4).unwrap_or("*");
                    let resource = secret_resource(stack, account, &secret.value_from);
                    if allows(props, action, &resource) {
                        c.pass(check, format!("{action} on {resource}"));
                    } else {
                        c.fail(check, format!("no inline policy of the execution role allows {action} on {resource} (managed policies are not read): run apply"));
                    }
                }
                None => c.fail(check, "the execution role does not exist"),
            }
        }
        // The log group the container logs to.
        let group = container.log_configuration.options.get("awslogs-group");
        let check = format!("{name} log group exists");
        match group {
            Some(RefOr::Ref(r)) if live.get(r.id.as_str()).is_some() => {
                c.pass(check, live.get(r.id.as_str()).map(|g| g.aws_id.clone()).unwrap_or_default());
            }
            Some(RefOr::Value(g)) => {
                let found = retry_transient(|| clients.logs.describe_log_groups(g.clone())).await?;
                if found.iter().any(|f| f.id == *g) {
                    c.pass(check, g.clone());
                } else {
                    c.fail(check, format!("{g} does not exist: tasks cannot start without it; run apply"));
                }
            }
            _ => c.fail(check, "the container names no log group: run apply"),
        }
        // Target group port = container port, and the container maps it.
        let Some(svc) = live.get(&format!("service/{name}")) else {
            c.fail(format!("service/{name} exists"), "not found in AWS: run apply");
            continue;
        };
        let Properties::Service(sp) = &*svc.properties else { continue };
        for lb in &sp.load_balancers {
            let check = format!("{name} target group port matches container port {}", lb.container_port);
            let mapped = container.port_mappings.iter().any(|p| p.container_port == lb.container_port);
            let tg = match &lb.target_group_arn {
                RefOr::Ref(r) => live.get(r.id.as_str()),
                RefOr::Value(arn) => live.resources.iter().find(|r| r.arn.as_deref() == Some(arn)),
            };
            match tg.map(|t| &*t.properties) {
                Some(Properties::TargetGroup(t)) if t.port == lb.container_port && mapped => {
                    c.pass(check, t.name.clone())
                }
                Some(Properties::TargetGroup(t)) if !mapped => c.fail(
                    check,
                    format!(
                        "the service registers container port {} with {}, but container {name} maps {}: run apply",
                        lb.container_port,
                        t.name,
                        container
                            .port_mappings
                            .iter()
                            .map(|p| p.container_port.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Some(Properties::TargetGroup(t)) => c.fail(
                    check,
                    format!(
                        "target group {} listens on port {}, the container on {}: run apply",
                        t.name, t.port, lb.container_port
                    ),
                ),
                _ => c.fail(check, "the service's target group does not exist: run apply"),
            }
        }
        c.skip(
            format!("{name} image {} exists", container.image),
            "not checked: that needs the ECR API (another SDK crate), and only covers ECR images",
        );
    }
    let checks = c.0;
    let count = |ok: Option<bool>| checks.iter().filter(|k| k.ok == ok).count();
    Ok(Verification {
        stack: stack.name.clone(),
        passed: count(Some(true)),
        failed: count(Some(false)),
        skipped: count(None),
        checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_iam_matches() {
        assert!(glob("ssm:GetParameter*", "ssm:GetParameters", true));
        assert!(glob("SSM:getparameters", "ssm:GetParameters", true));
        assert!(!glob("ssm:GetParameter", "ssm:GetParameters", true));
        assert!(glob("arn:aws:ssm:us-west-2:*:parameter/db/*", "arn:aws:ssm:us-west-2:1:parameter/db/pw", false));
        assert!(!glob("arn:aws:ssm:us-west-2:*:parameter/db/*", "arn:aws:ssm:us-west-2:1:parameter/other", false));
        assert!(glob("*", "anything", false));
        assert!(glob("a?c", "abc", false) && !glob("a?c", "ac", false));
    }

    #[test]
    fn trust_policies_name_what_they_trust() {
        let ok = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}, "Action": "sts:AssumeRole"}]});
        assert_eq!(trusts_ecs_tasks(&ok), Ok(String::new()));
        let ec2 = serde_json::json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        assert_eq!(
            trusts_ecs_tasks(&ec2).unwrap_err(),
            "its trust policy lets ec2.amazonaws.com assume it, not ecs-tasks.amazonaws.com: tasks cannot use it; run apply to restore it"
        );
        let denied = serde_json::json!({"Statement": [{"Effect": "Deny", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(trusts_ecs_tasks(&denied).is_err());
    }

    #[test]
    fn inline_policies_allow_unless_denied() {
        let mut role = RoleProps {
            role_name: "r".into(),
            path: "/".into(),
            description: String::new(),
            assume_role_policy: serde_json::Value::Null,
            managed_policy_arns: Vec::new(),
            inline_policies: std::collections::BTreeMap::from([(
                "s".to_owned(),
                serde_json::json!({"Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ["arn:aws:ssm:us-west-2:*:parameter/db"]}]}),
            )]),
        };
        let arn = "arn:aws:ssm:us-west-2:123456789012:parameter/db";
        assert!(allows(&role, "ssm:GetParameters", arn));
        assert!(!allows(&role, "ssm:GetParameters", "arn:aws:ssm:us-west-2:123456789012:parameter/other"));
        assert!(!allows(&role, "secretsmanager:GetSecretValue", arn));
        role.inline_policies.insert(
            "deny".into(),
            serde_json::json!({"Statement": [{"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}]}),
        );
        assert!(!allows(&role, "ssm:GetParameters", arn));
        assert_eq!(parameter_name("arn:aws:ssm:us-west-2:1:parameter/db/pw"), "/db/pw");
        assert_eq!(parameter_name("/db/pw"), "/db/pw");
    }
}
