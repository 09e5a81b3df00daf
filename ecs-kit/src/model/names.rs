//! Deterministic AWS names derived from the stack name.
//!
//! AWS names are `<stack>-<suffix>`; past an AWS length limit, a prefix of the full
//! name plus `-` and the first 8 hex digits of the SHA-256 of the full name. These
//! names end up in AWS, so they must never drift between versions (golden tests pin
//! them).

use sha2::{Digest, Sha256};

/// Longest ALB and target group name.
pub const ELB_NAME_MAX: usize = 32;
/// Longest IAM role name.
pub const IAM_ROLE_NAME_MAX: usize = 64;
/// Longest EFS creation token.
pub const EFS_TOKEN_MAX: usize = 64;
/// Longest launch template name.
pub const LAUNCH_TEMPLATE_NAME_MAX: usize = 128;
/// Longest name of an ECS cluster, service, capacity provider or task family.
pub const ECS_NAME_MAX: usize = 255;

/// `full` if it fits in `max` characters, else a prefix of it, `-` and the first 8 hex
/// digits of its SHA-256: unique in practice, and the same every time.
///
/// ```
/// use ecs_kit::model::names::fit;
/// assert_eq!(fit("shop-products", 32), "shop-products");
/// let long = fit("a-rather-long-stack-name-products-catalogue", 32);
/// assert_eq!(long.len(), 32);
/// assert!(long.starts_with("a-rather-long-stack-nam-"));
/// ```
#[must_use]
pub fn fit(full: &str, max: usize) -> String {
    if full.len() <= max {
        return full.to_owned();
    }
    let hash = digest8(full);
    // Names here are ASCII (validated), so byte slicing is on a char boundary.
    let prefix = full[..max - hash.len() - 1].trim_end_matches('-');
    format!("{prefix}-{hash}")
}

/// The first 8 hex digits of the SHA-256 of `text`.
#[must_use]
pub fn digest8(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// `<stack>-<suffix>`, fitted to `max`.
#[must_use]
pub fn stack_name(stack: &str, suffix: &str, max: usize) -> String {
    fit(&format!("{stack}-{suffix}"), max)
}

/// The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
#[must_use]
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Capacity provider names may not start with `aws`, `ecs` or `fargate`.
#[must_use]
pub fn capacity_provider_name(stack: &str) -> String {
    let reserved = ["aws", "ecs", "fargate"].iter().any(|p| stack.starts_with(p));
    let full = if reserved { format!("cp-{stack}") } else { format!("{stack}-capacity") };
    fit(&full, ECS_NAME_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(stack_name("shop", "products", ELB_NAME_MAX), "shop-products");
    }

    #[test]
    fn long_names_are_hashed_deterministically() {
        let full = "mcsv-poc-with-a-long-name-inventory-service";
        let a = fit(full, ELB_NAME_MAX);
        assert_eq!(a, fit(full, ELB_NAME_MAX));
        assert_eq!(a.len(), ELB_NAME_MAX);
        // Golden: the first 8 hex digits of SHA-256 of the full name.
        assert_eq!(a, "mcsv-poc-with-a-long-na-8fb2b844");
        assert_ne!(a, fit("mcsv-poc-with-a-long-name-inventory-servicf", ELB_NAME_MAX));
    }

    #[test]
    fn hashed_names_never_have_a_double_hyphen() {
        let name = fit("abcdefghijklmnopqrstuvw-xyz-more-and-more", ELB_NAME_MAX);
        assert!(!name.contains("--"), "{name}");
        assert!(name.len() <= ELB_NAME_MAX);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-west-2"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn capacity_provider_avoids_reserved_prefixes() {
        assert_eq!(capacity_provider_name("shop"), "shop-capacity");
        assert_eq!(capacity_provider_name("ecs-alb-efs"), "cp-ecs-alb-efs");
    }
}
