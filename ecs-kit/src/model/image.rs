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
        return Some(format!("is empty: give a full image reference `[registry/]repository:tag` or `...@sha256:<digest>`, e.g. `{EXAMPLE}`"));
    }
    if reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "{} contains whitespace or control characters: remove them (e.g. `{EXAMPLE}`)",
            quoted(reference)
        ));
    }
    let Some((name, _, _)) = parts(reference) else {
        return Some(format!(
            "{} is not an image reference: expected `[registry/]repository[:tag][@digest]` \
             with a lowercase repository, e.g. `{EXAMPLE}`",
            quoted(reference)
        ));
    };
    if name.len() > 255 {
        return Some(format!("repository name is {} characters, at most 255 are allowed: shorten it", name.len()));
    }
    None
}

/// A valid reference's name, tag and digest; `None` when it is not valid. The grammar
/// decides validity (a match, no captures: every service's image is checked on every
/// build); the parts follow from it, since neither a tag nor a name holds `@`, and a
/// `:` after the name's last `/` starts the tag (a registry's port comes before one).
fn parts(reference: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    if !REFERENCE.is_match(reference) {
        return None;
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    let last = rest.rfind('/').map_or(0, |i| i + 1);
    Some(match rest[last..].find(':') {
        Some(i) => (&rest[..last + i], Some(&rest[last + i + 1..]), digest),
        None => (rest, None, digest),
    })
}

/// What may go wrong with a valid reference that names a mutable tag (`:latest`, or
/// no tag at all, which means `:latest`), or `None` when it names a version or a digest.
///
/// ```
/// use ecs_kit::model::image::mutable_tag;
/// assert!(mutable_tag("nginx:latest").unwrap().contains("version tag"));
/// assert!(mutable_tag("registry.example.com:5000/app").unwrap().contains("no tag"));
/// assert_eq!(mutable_tag("nginx:1.27.1"), None);
/// assert_eq!(mutable_tag("nginx@sha256:0123456789abcdef0123456789abcdef"), None);
/// ```
#[must_use]
pub fn mutable_tag(reference: &str) -> Option<String> {
    let (name, tag, digest) = parts(reference)?;
    if digest.is_some() {
        return None;
    }
    let fix = || {
        format!(
            "pin a version tag (`{name}:1.4.2`) or a digest (`{name}@sha256:...`) so that every task and every rollback runs the same build"
        )
    };
    match tag {
        None => Some(format!("`{reference}` has no tag, so it means `:latest`, which moves: {}", fix())),
        Some("latest") => Some(format!("`{reference}` uses the mutable tag `latest`: {}", fix())),
        Some(_) => None,
    }
}

/// A valid reference, for messages.
const EXAMPLE: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:1.4";

/// `text` in backquotes with control characters escaped (`\0`, `\n`), or its first
/// characters when it is long: a message should not repeat 10,000 characters back.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 80;
    let escape = |t: &str| -> String {
        t.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
    };
    let count = text.chars().count();
    if count <= MAX {
        format!("`{}`", escape(text))
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("`{}...` ({count} characters)", escape(&head))
    }
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
            "app\0",
        ] {
            assert!(problem(r).is_some(), "{r}");
        }
        assert!(problem("").unwrap().contains("e.g. `123456789012.dkr.ecr"), "an empty image says what a valid one is");
    }

    /// Name, tag and digest as the grammar captures them.
    fn captured(r: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
        let caps = super::REFERENCE.captures(r)?;
        Some((
            caps.name("name")?.as_str(),
            caps.name("tag").map(|t| t.as_str()),
            caps.name("digest").map(|d| d.as_str()),
        ))
    }

    #[test]
    fn parts_are_those_the_grammar_captures() {
        for r in [
            "nginx",
            "nginx:1.25-alpine",
            "registry.example.com:5000/team/app:v1.2.3",
            "registry.example.com:5000/team/app",
            "localhost:5000",
            "app:1@sha256:0123456789abcdef0123456789abcdef",
            "app@sha256:0123456789abcdef0123456789abcdef",
            "a.b:1/c:d@sha256:0123456789abcdef0123456789abcdef",
            "Bad Ref",
            "nginx:",
        ] {
            assert_eq!(super::parts(r), captured(r), "{r}");
        }
    }

    proptest::proptest! {
        /// Whatever the text, the parts read without captures are the grammar's captures.
        #[test]
        fn parts_agree_with_captures_on_any_text(r in "[a-zA-Z0-9:/@._-]{0,24}(@sha256:[0-9a-f]{32})?") {
            proptest::prop_assert_eq!(super::parts(&r), captured(&r));
        }
    }

    #[test]
    fn mutable_tags() {
        use super::mutable_tag;
        for r in ["nginx", "nginx:latest", "localhost:5000/team/app", "public.ecr.aws/nginx/nginx:latest"] {
            assert!(mutable_tag(r).is_some(), "{r}");
        }
        for r in ["nginx:1.25", "nginx:latest@sha256:0123456789abcdef0123456789abcdef", "app:stable", "Bad Ref"] {
            assert_eq!(mutable_tag(r), None, "{r}");
        }
    }

    #[test]
    fn long_values_are_quoted_short() {
        let long = "x".repeat(10_000);
        let q = super::quoted(&long);
        assert!(q.len() < 120 && q.ends_with("(10000 characters)"), "{q}");
        assert_eq!(super::quoted("a\0b\"'"), "`a\\u{0}b\"'`");
    }
}
