//! Container image references, checked with the grammar of the OCI distribution
//! reference (`[domain[:port]/]path[:tag][@digest]`).

use std::sync::LazyLock;

use regex::Regex;

static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let alnum = "[a-z0-9]+";
    let separator = "(?:[._]|__|-+)";
    let component = format!("{alnum}(?:{separator}{alnum})*");
    let domain_component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(r"{domain_component}(?:\.{domain_component})*(?::[0-9]+)?");
    let name = format!("(?:{domain}/)?{component}(?:/{component})*");
    let tag = r"[\w][\w.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    Regex::new(&format!("^(?P<name>{name})(?::(?P<tag>{tag}))?(?:@(?P<digest>{digest}))?$"))
        .expect("the reference grammar compiles")
});

/// Why an image reference is not valid, or `None` when it is.
///
/// ```
/// use ecs_kit::model::image::problem;
/// assert_eq!(problem("123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:1.2"), None);
/// assert_eq!(problem("nginx@sha256:0123456789abcdef0123456789abcdef"), None);
/// assert!(problem("Shop/Web:latest").is_some());
/// ```
#[must_use]
pub fn problem(reference: &str) -> Option<String> {
    if reference.is_empty() {
        return Some("is empty".into());
    }
    if reference.chars().any(char::is_whitespace) {
        return Some(format!("`{reference}` contains whitespace"));
    }
    let Some(caps) = REFERENCE.captures(reference) else {
        return Some(format!(
            "`{reference}` is not an image reference: expected `[registry/]repository[:tag][@digest]` \
             with a lowercase repository, e.g. `123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:1.4`"
        ));
    };
    let name = &caps["name"];
    if name.len() > 255 {
        return Some(format!("repository name is {} characters, at most 255 are allowed", name.len()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn valid_references() {
        for r in [
            "nginx",
            "nginx:1.25-alpine",
            "library/nginx:latest",
            "registry.example.com:5000/team/app:v1.2.3",
            "localhost/app",
            "public.ecr.aws/nginx/nginx:stable",
            "ghcr.io/org/app_name__x:tag",
            "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "app:1@sha256:0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(problem(r), None, "{r}");
        }
    }

    #[test]
    fn invalid_references() {
        for r in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-bad",
            "registry/app:tag with space",
            "/app",
            "app/",
            "app@sha256:short",
            "a//b",
            "-registry/app",
        ] {
            assert!(problem(r).is_some(), "{r}");
        }
    }
}
