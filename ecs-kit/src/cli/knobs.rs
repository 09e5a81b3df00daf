//! Flags a program adds after the verb to override its declaration, each with an
//! `ECS_KIT_<FLAG>` environment fallback: precedence is flag, then environment, then
//! the code's value.

use std::str::FromStr;

use clap::Args;

use crate::dsl::{Scheme, StackBuilder};

/// One `SERVICE=VALUE` pair of a per-service flag such as `--image product-web=REF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceValue<T> {
    /// The service's name.
    pub service: String,
    /// The value for it.
    pub value: T,
}

impl<T: FromStr> FromStr for ServiceValue<T>
where
    T::Err: std::fmt::Display,
{
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (service, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not SERVICE=VALUE: write the service's name, `=`, then the value"))?;
        if service.is_empty() {
            return Err(format!("`{s}` names no service: write SERVICE=VALUE"));
        }
        let value = value.parse().map_err(|e| format!("`{value}` for service `{service}`: {e}"))?;
        Ok(ServiceValue { service: service.to_owned(), value })
    }
}

/// The `MIN:MAX` of `--autoscale SERVICE=MIN:MAX`: the fewest and most tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRange {
    /// Fewest tasks.
    pub min: u32,
    /// Most tasks.
    pub max: u32,
}

impl FromStr for TaskRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (min, max) = s.split_once(':').ok_or_else(|| {
            format!("`{s}` is not MIN:MAX: write the fewest and the most tasks, separated by `:` (e.g. 2:6)")
        })?;
        let number = |n: &str, what: &str| {
            n.trim().parse::<u32>().map_err(|e| format!("the {what} `{n}` of `{s}` is not a task count ({e})"))
        };
        Ok(TaskRange { min: number(min, "minimum")?, max: number(max, "maximum")? })
    }
}

/// Applies the per-service values of flag `field` to `builder` with `set`: an unknown
/// service, or one given twice, becomes a validation error on `field` listing the
/// services.
#[must_use]
pub fn per_service<T: Clone>(
    mut builder: StackBuilder,
    field: &str,
    values: &[ServiceValue<T>],
    set: impl Fn(crate::Service, T) -> crate::Service,
) -> StackBuilder {
    for (i, v) in values.iter().enumerate() {
        if values[..i].iter().any(|w| w.service == v.service) {
            let names = builder.service_names().join(", ");
            builder = builder.invalid(
                field,
                format!(
                    "service {} is given twice: give each service once (services: {names})",
                    crate::model::image::quoted(&v.service)
                ),
            );
            continue;
        }
        builder = builder.with_service(field, &v.service, |s| set(s, v.value.clone()));
    }
    builder
}

/// The seed template's CI variables as flags: what `examples/product-web` takes, and
/// what any program declaring the standard platform can flatten into its own knobs.
///
/// ```
/// use ecs_kit::cli::{parse, StackKnobs};
///
/// let cli = parse::<StackKnobs, _, _>(["deploy", "plan", "--image", "web=nginx:1.27", "--asg-max", "8"])?;
/// let knobs = cli.verb.knobs();
/// assert_eq!(knobs.asg_max, Some(8));
/// assert_eq!(knobs.image[0].service, "web");
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Stack knobs (precedence: flag, then ECS_KIT_* environment, then code)")]
pub struct StackKnobs {
    /// EC2 key pair for SSH to the instances (needs --admin-cidr).
    #[arg(long, env = "ECS_KIT_KEY_NAME", value_name = "NAME", requires = "admin_cidr")]
    pub key_name: Option<String>,
    /// The only CIDR SSH is opened to (needs --key-name).
    #[arg(long, env = "ECS_KIT_ADMIN_CIDR", value_name = "CIDR", requires = "key_name")]
    pub admin_cidr: Option<String>,
    /// Make the load balancer internal (reachable from the VPC only).
    #[arg(long, env = "ECS_KIT_INTERNAL", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub internal: bool,
    /// A service's image, a full reference (repeatable; comma-separated in the environment).
    #[arg(long, env = "ECS_KIT_IMAGE", value_name = "SERVICE=REF", value_delimiter = ',')]
    pub image: Vec<ServiceValue<String>>,
    /// A service's task count (repeatable; comma-separated in the environment).
    #[arg(long, env = "ECS_KIT_COUNT", value_name = "SERVICE=N", value_delimiter = ',')]
    pub count: Vec<ServiceValue<u32>>,
    /// The cluster's EC2 instance type.
    #[arg(long, env = "ECS_KIT_INSTANCE_TYPE", value_name = "TYPE")]
    pub instance_type: Option<String>,
    /// Minimum size of the Auto Scaling group.
    #[arg(long, env = "ECS_KIT_ASG_MIN", value_name = "N")]
    pub asg_min: Option<u32>,
    /// Maximum size of the Auto Scaling group.
    #[arg(long, env = "ECS_KIT_ASG_MAX", value_name = "N")]
    pub asg_max: Option<u32>,
    /// Desired size of the Auto Scaling group when it is created.
    #[arg(long, env = "ECS_KIT_ASG_DESIRED", value_name = "N")]
    pub asg_desired: Option<u32>,
    /// Terminate TLS with this certificate (ACM or IAM ARN); repeatable: the first is the
    /// default certificate, the others are served by SNI (comma-separated in the environment).
    #[arg(long, env = "ECS_KIT_CERTIFICATE", value_name = "ARN", value_delimiter = ',')]
    pub certificate: Vec<String>,
    /// The host name a service answers on the load balancer (repeatable; comma-separated
    /// in the environment).
    #[arg(long, env = "ECS_KIT_HOST", value_name = "SERVICE=HOST", value_delimiter = ',')]
    pub host: Vec<ServiceValue<String>>,
    /// Run a service on Fargate instead of the cluster's instances (repeatable;
    /// comma-separated in the environment).
    #[arg(long, env = "ECS_KIT_FARGATE", value_name = "SERVICE", value_delimiter = ',')]
    pub fargate: Vec<String>,
    /// Autoscale a service's task count between MIN and MAX (target tracking on CPU at
    /// 60 % unless the code says otherwise; repeatable; comma-separated in the environment).
    #[arg(long, env = "ECS_KIT_AUTOSCALE", value_name = "SERVICE=MIN:MAX", value_delimiter = ',')]
    pub autoscale: Vec<ServiceValue<TaskRange>>,
}

impl StackKnobs {
    /// `builder` with every knob that was given (flag or environment) applied.
    #[must_use]
    pub fn apply(&self, builder: StackBuilder) -> StackBuilder {
        let mut b = builder.with_cluster(|mut c| {
            if let Some(t) = &self.instance_type {
                c = c.instance_type(t);
            }
            if let (Some(key), Some(cidr)) = (&self.key_name, &self.admin_cidr) {
                c = c.key_name(key).admin_cidr(cidr);
            }
            if let Some(n) = self.asg_min {
                c = c.min_instances(n);
            }
            if let Some(n) = self.asg_max {
                c = c.max_instances(n);
            }
            if let Some(n) = self.asg_desired {
                c = c.desired_instances(n);
            }
            c
        });
        if self.internal && b.load_balancer.is_none() {
            b = b.invalid("--internal", "the stack declares no load balancer: drop the flag, or declare one");
        } else if self.internal {
            b = b.with_load_balancer(|lb| lb.scheme(Scheme::Internal));
        }
        if let Some((default, extra)) = self.certificate.split_first() {
            if b.load_balancer.is_none() {
                b = b.invalid("--certificate", "the stack declares no load balancer: drop the flag, or declare one");
            } else {
                // The flags replace the code's certificates: the first is the default.
                b = b.with_load_balancer(|mut lb| {
                    lb.certificates.clear();
                    extra.iter().fold(lb.https(default), |lb, arn| lb.certificate(arn))
                });
            }
        }
        b = per_service(b, "--host", &self.host, |s, host| s.host(host));
        let fargate: Vec<ServiceValue<()>> =
            self.fargate.iter().map(|name| ServiceValue { service: name.clone(), value: () }).collect();
        b = per_service(b, "--fargate", &fargate, |s, ()| s.fargate());
        b = per_service(b, "--autoscale", &self.autoscale, |s, r| s.autoscale(r.min, r.max));
        b = per_service(b, "--image", &self.image, |s, image| s.image(image));
        per_service(b, "--count", &self.count, |s, n| s.count(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::DesiredCount;
    use crate::model::seed;

    fn knobs(args: &[&str]) -> Result<StackKnobs, clap::Error> {
        let mut all = vec!["x", "synth"];
        all.extend_from_slice(args);
        crate::cli::parse::<StackKnobs, _, _>(all).map(|cli| cli.verb.knobs().clone())
    }

    fn build(args: &[&str]) -> Result<crate::Stack, crate::ValidationErrors> {
        knobs(args).expect("flags parse").apply(seed()).build()
    }

    #[test]
    fn flags_override_the_code() {
        let stack = build(&[
            "--image",
            "products=registry.example.com/p:1.5",
            "--count",
            "product-web=4,products=3",
            "--instance-type",
            "m6i.large",
            "--asg-min",
            "1",
            "--asg-max",
            "9",
            "--asg-desired",
            "3",
            "--internal",
            "--key-name",
            "ops",
            "--admin-cidr",
            "203.0.113.0/24",
        ])
        .unwrap();
        let svc = |n: &str| stack.services.iter().find(|s| s.name == n).unwrap();
        assert_eq!(svc("products").image, "registry.example.com/p:1.5");
        assert_eq!(svc("product-web").image, "registry.example.com/microservices/product-web:latest");
        assert_eq!(svc("product-web").desired_count, DesiredCount::Fixed(4));
        assert_eq!(svc("products").desired_count, DesiredCount::Fixed(3));
        let c = &stack.cluster;
        assert_eq!(
            (c.instance_type.as_str(), c.min_instances, c.max_instances, c.desired_instances),
            ("m6i.large", 1, 9, 3)
        );
        let ssh = c.ssh.as_ref().unwrap();
        assert_eq!((ssh.key_name.as_str(), ssh.admin_cidr.to_string().as_str()), ("ops", "203.0.113.0/24"));
        assert_eq!(stack.load_balancer.as_ref().unwrap().scheme, Scheme::Internal);
    }

    #[test]
    fn fargate_and_autoscale_flags_and_their_environment() {
        let stack = build(&["--fargate", "products", "--autoscale", "products=2:6"]).unwrap();
        let products = stack.service("products").unwrap();
        assert_eq!(products.capacity, crate::dsl::Capacity::Fargate);
        let a = products.autoscaling.as_ref().unwrap();
        assert_eq!((a.min, a.max), (2, 6));
        assert_eq!(products.desired_count, DesiredCount::External(2), "starts at the minimum, then the autoscaler's");
        assert_eq!(stack.service("product-web").unwrap().capacity, crate::dsl::Capacity::Ec2);
        let knobs = knobs(&["--fargate", "products", "--fargate", "product-web"]).unwrap();
        assert_eq!(knobs.fargate, ["products", "product-web"]);
        let value = |s: &str| s.parse::<ServiceValue<TaskRange>>();
        assert_eq!(value("web=1:3").unwrap().value, TaskRange { min: 1, max: 3 });
        assert!(value("web=3").unwrap_err().contains("is not MIN:MAX"));
        assert!(value("web=a:3").unwrap_err().contains("the minimum `a`"));
    }

    #[test]
    fn without_knobs_the_code_stands() {
        let stack = build(&[]).unwrap();
        assert_eq!(stack.services, seed().build().unwrap().services);
        assert_eq!(stack.cluster, seed().build().unwrap().cluster);
        assert_eq!(stack.load_balancer.as_ref().unwrap().scheme, Scheme::InternetFacing);
    }

    #[test]
    fn unknown_and_repeated_services_are_errors_listing_the_names() {
        let errors = build(&["--image", "web=nginx:1", "--image", "products=a:1", "--count", "products=1,products=2"])
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("--image: no service is named `web`: the services are `product-web`, `products`"),
            "{errors}"
        );
        assert!(
            errors.contains(
                "--count: service `products` is given twice: give each service once (services: product-web, products)"
            ),
            "{errors}"
        );
        assert!(!errors.contains("--image: service"), "products given once to --image: {errors}");
    }

    #[test]
    fn malformed_values_are_usage_errors_naming_the_flag() {
        let e = knobs(&["--count", "products=many"]).unwrap_err().to_string();
        assert!(e.contains("'--count <SERVICE=N>'") && e.contains("`many` for service `products`"), "{e}");
        let e = knobs(&["--image", "nginx:1"]).unwrap_err().to_string();
        assert!(e.contains("'--image <SERVICE=REF>'") && e.contains("is not SERVICE=VALUE"), "{e}");
        let e = knobs(&["--image", "=nginx:1"]).unwrap_err().to_string();
        assert!(e.contains("names no service"), "{e}");
    }

    #[test]
    fn certificates_and_hosts_from_flags() {
        let cert =
            |n: u8| format!("arn:aws:acm:us-west-2:123456789012:certificate/0000000{n}-aaaa-bbbb-cccc-dddddddddddd");
        let stack =
            build(&["--certificate", &cert(1), "--certificate", &cert(2), "--host", "products=API.example.com"])
                .unwrap();
        let https = stack.load_balancer.as_ref().unwrap().https.as_ref().unwrap();
        assert_eq!(
            (https.certificate_arn.clone(), https.extra_certificates.clone()),
            (cert(1), vec![cert(2)]),
            "the first is the default"
        );
        let routing = stack.service("products").unwrap().routing.as_ref().unwrap();
        assert_eq!((routing.host.as_deref(), routing.path.as_str()), (Some("api.example.com"), "/products"));
        let e =
            build(&["--certificate", "arn:aws:acm:nowhere", "--host", "web=x.example.com"]).unwrap_err().to_string();
        assert!(e.contains("load_balancer.https: `arn:aws:acm:nowhere` is not a certificate ARN"), "{e}");
        assert!(e.contains("--host: no service is named `web`"), "{e}");
        let mut declared = seed();
        declared.load_balancer = None;
        let e = knobs(&["--certificate", &cert(1)]).unwrap().apply(declared).build().unwrap_err().to_string();
        assert!(e.contains("--certificate: the stack declares no load balancer"), "{e}");
    }

    #[test]
    fn internal_without_a_load_balancer_is_an_error() {
        let mut declared = seed();
        declared.load_balancer = None;
        let e = knobs(&["--internal"]).unwrap().apply(declared).build().unwrap_err().to_string();
        assert!(e.contains("--internal: the stack declares no load balancer: drop the flag, or declare one"), "{e}");
    }

    #[test]
    fn help_shows_every_environment_fallback() {
        let help = crate::cli::parse::<StackKnobs, _, _>(["x", "plan", "--help"]).unwrap_err().to_string();
        for var in [
            "KEY_NAME",
            "ADMIN_CIDR",
            "INTERNAL",
            "IMAGE",
            "COUNT",
            "INSTANCE_TYPE",
            "ASG_MIN",
            "ASG_MAX",
            "ASG_DESIRED",
            "CERTIFICATE",
            "HOST",
            "FARGATE",
            "AUTOSCALE",
        ] {
            assert!(help.contains(&format!("[env: ECS_KIT_{var}")), "ECS_KIT_{var} in:\n{help}");
        }
        assert!(help.contains("precedence: flag, then ECS_KIT_* environment, then code"), "{help}");
    }

    #[test]
    fn key_name_and_admin_cidr_come_together() {
        let e = knobs(&["--key-name", "ops"]).unwrap_err().to_string();
        assert!(e.contains("--admin-cidr <CIDR>"), "{e}");
        let e = knobs(&["--admin-cidr", "203.0.113.0/24"]).unwrap_err().to_string();
        assert!(e.contains("--key-name <NAME>"), "{e}");
    }

    /// Environment fallbacks, checked in a child process of this test binary so that no
    /// test changes the environment of the others.
    #[test]
    fn environment_fallbacks() {
        if std::env::var_os("ECS_KIT_KNOBS_CHILD").is_some() {
            let stack = build(&["--asg-max", "7"]).unwrap();
            let svc = |n: &str| stack.services.iter().find(|s| s.name == n).unwrap();
            assert_eq!(svc("products").image, "registry.example.com/p:2");
            assert_eq!(svc("product-web").image, "registry.example.com/w:3");
            assert_eq!(svc("products").desired_count, DesiredCount::External(5), "5 to start, then the autoscaler's");
            assert_eq!(svc("products").capacity, crate::dsl::Capacity::Fargate);
            let a = svc("products").autoscaling.as_ref().unwrap();
            assert_eq!((a.min, a.max), (2, 6));
            assert_eq!(stack.cluster.max_instances, 7, "the flag wins over ECS_KIT_ASG_MAX");
            assert_eq!(stack.cluster.min_instances, 1, "ECS_KIT_ASG_MIN wins over the code");
            assert_eq!(stack.load_balancer.as_ref().unwrap().scheme, Scheme::Internal);
            let https = stack.load_balancer.as_ref().unwrap().https.as_ref().unwrap();
            assert_eq!(https.certificate_arn, "arn:aws:iam::123456789012:server-certificate/a");
            assert_eq!(https.extra_certificates, ["arn:aws:iam::123456789012:server-certificate/b"]);
            assert_eq!(svc("products").routing.as_ref().unwrap().host.as_deref(), Some("api.example.com"));
            let e = knobs(&["--admin-cidr", "203.0.113.0/24"]).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains("--key-name <NAME>"), "no key name in flags or environment: {e}");
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["cli::knobs::tests::environment_fallbacks", "--exact", "--nocapture", "--test-threads=1"])
            .env("ECS_KIT_KNOBS_CHILD", "1")
            .env("ECS_KIT_IMAGE", "products=registry.example.com/p:2,product-web=registry.example.com/w:3")
            .env("ECS_KIT_COUNT", "products=5")
            .env("ECS_KIT_ASG_MAX", "9")
            .env("ECS_KIT_ASG_MIN", "1")
            .env("ECS_KIT_INTERNAL", "yes")
            .env(
                "ECS_KIT_CERTIFICATE",
                "arn:aws:iam::123456789012:server-certificate/a,arn:aws:iam::123456789012:server-certificate/b",
            )
            .env("ECS_KIT_HOST", "products=api.example.com")
            .env("ECS_KIT_FARGATE", "products")
            .env("ECS_KIT_AUTOSCALE", "products=2:6")
            .env_remove("ECS_KIT_KEY_NAME")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the child ran the test: {text}");
    }
}
