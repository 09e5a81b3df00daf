//! The `service!` macro of ecs-kit: a `Service` declaration written as a table of
//! `key: value` entries, checked at compile time where the values are literals.
//!
//! Use it through the main crate, as `ecs_kit::service!`; see the macro's own
//! documentation for the keys and the checks.

// How the macro works, in three steps:
//
// 1. parse the input into an `Invocation`: `key: value` entries whose value has the
//    shape the key needs (an expression, a `{ "NAME" => value }` map or a `[..]` list).
//    Malformed syntax stops here, with one error.
// 2. lower it into a `ServiceDecl`, the internal model: the three arguments of
//    `Service::new` and the setter calls to chain, in the order they were written.
//    Every check runs in this step and every error is collected in `Errors`, so one
//    compilation reports all of them.
// 3. expand the model into public builder calls with absolute paths:
//    `::ecs_kit::Service::new(name, image, port).count(2).path("/")...`.
//
// Only literals are checked: an expression (a variable, a call, a constant) passes
// through untouched, and the runtime validation of `StackBuilder::build` checks it.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    braced, bracketed, parse_macro_input, token, Expr, ExprLit, ExprUnary, Ident, Lit, LitInt, LitStr, Token, UnOp,
};

/// Declares a `Service` (a container image run as an ECS service) as a table of
/// `key: value` entries, checking literal values at compile time.
///
/// ```
/// let db_password = ecs_kit::Secret::ssm("/prod/shop/db-password");
/// let web = ecs_kit::service! {
///     name: "product-web",
///     image: "registry.example.com/shop/product-web:1.4",
///     port: 8000,
///     count: 2,
///     path: "/products",
///     health_check: "/health",
///     deregistration_delay: 10, // seconds
///     env: { "RUST_LOG" => "info" },
///     secrets: { "DB_PASSWORD" => db_password },
///     tags: { "team" => "shop" },
/// };
/// let _: ecs_kit::Service = web;
/// ```
///
/// expands to nothing but the public builder calls:
///
/// ```text
/// ::ecs_kit::Service::new("product-web", "registry.example.com/shop/product-web:1.4", 8000)
///     .count(2)
///     .path("/products")
///     .health_check("/health")
///     .deregistration_delay(::std::time::Duration::from_secs(10))
///     .env("RUST_LOG", "info")
///     .secret("DB_PASSWORD", db_password)
///     .tag("team", "shop")
/// ```
///
/// # Keys
///
/// Entries come in any order, separated by commas (a trailing comma is allowed), and
/// each key at most once. Every value is an expression unless said otherwise.
///
/// | key | becomes |
/// | --- | --- |
/// | `name`, `image`, `port` (required) | `Service::new(name, image, port)` |
/// | `external_image` (instead of `image`) | `.external_image(value)`: the initial image, then owned by a pipeline; not with `image` |
/// | `count` | `.count(value)`: tasks owned by the stack |
/// | `external_count` | `.external_count(value)`: initial tasks, then owned outside; not with `count` |
/// | `cpu`, `memory`, `log_retention_days`, `min_healthy_percent`, `max_percent`, `circuit_breaker` | the setter of the same name |
/// | `path`, `host`, `health_check` | `.path(value)`, `.host(value)`, `.health_check(value)` |
/// | `capacity` | `.capacity(value)`: `Capacity::Ec2` (default), `Capacity::Fargate` or `Capacity::FargateSpot` |
/// | `autoscaling` | `.autoscaling(value)`: an `Autoscaling::new(min, max)`, the count then the autoscaler's |
/// | `deregistration_delay` | `.deregistration_delay(value)`; an integer literal `N` means `N` seconds |
/// | `env: { "NAME" => value, ... }` | `.env("NAME", value)` for each entry |
/// | `secrets: { "NAME" => value, ... }` | `.secret("NAME", value)` for each entry |
/// | `tags: { "key" => value, ... }` | `.tag("key", value)` for each entry |
/// | `inline_policies: { "name" => value, ... }` | `.inline_policy("name", value)` for each entry |
/// | `policies: [value, ...]` | `.policy(value)` for each element |
/// | `deployment` | `.deployment(value)`: a `Deployment` (rolling, blue/green, canary, linear) |
/// | `rollback_alarms: [value, ...]` | `.rollback_alarm(value)` for each element |
/// | `lifecycle_hooks: [value, ...]` | `.lifecycle_hook(value)` for each element: a `LifecycleHook` |
///
/// The keys of `env`, `secrets`, `tags` and `inline_policies` must be string literals.
///
/// # Compile-time checks
///
/// Every error found is reported, each at the token it is about:
///
/// - unknown keys, keys given twice, `count` together with `external_count`, and
///   `image` together with `external_image`;
/// - a missing `name`, `image` (or `external_image`) or `port` (reported at the macro call);
/// - a literal `name` that is not lowercase letters, digits and `-`, starting with a
///   letter, at most 64 characters;
/// - a literal `image` or `external_image` that is empty or holds white space;
/// - a literal `port` outside 1 to 65535;
/// - a literal `path` or `health_check` that does not start with `/`;
/// - `env` and `secrets` names that are not `[A-Za-z_][A-Za-z0-9_]*`, and a name set
///   twice across `env` and `secrets`.
///
/// Values that are not literals are passed through as they are; the stack's `build()`
/// validates them when the program runs.
#[proc_macro]
pub fn service(input: TokenStream) -> TokenStream {
    let invocation = parse_macro_input!(input as Invocation);
    match lower(invocation) {
        Ok(decl) => expand(&decl).into(),
        // One `compile_error!` per error; the block makes them a single expression.
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote!({ #errors }).into()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

/// A key the macro knows, in the order error messages list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Name,
    Image,
    ExternalImage,
    Port,
    Count,
    ExternalCount,
    Cpu,
    Memory,
    LogRetentionDays,
    MinHealthyPercent,
    MaxPercent,
    CircuitBreaker,
    Deployment,
    Path,
    Host,
    Capacity,
    Autoscaling,
    HealthCheck,
    DeregistrationDelay,
    Env,
    Secrets,
    Tags,
    InlinePolicies,
    Policies,
    RollbackAlarms,
    LifecycleHooks,
}

/// The shape of value a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `key: expr`
    Expr,
    /// `key: { "NAME" => expr, ... }`
    Map,
    /// `key: [expr, ...]`
    List,
}

impl Key {
    /// Every key, in the order of the documentation and of the "expected one of" list.
    const ALL: [Key; 26] = [
        Key::Name,
        Key::Image,
        Key::ExternalImage,
        Key::Port,
        Key::Count,
        Key::ExternalCount,
        Key::Cpu,
        Key::Memory,
        Key::LogRetentionDays,
        Key::MinHealthyPercent,
        Key::MaxPercent,
        Key::CircuitBreaker,
        Key::Deployment,
        Key::Path,
        Key::Host,
        Key::Capacity,
        Key::Autoscaling,
        Key::HealthCheck,
        Key::DeregistrationDelay,
        Key::Env,
        Key::Secrets,
        Key::Tags,
        Key::InlinePolicies,
        Key::Policies,
        Key::RollbackAlarms,
        Key::LifecycleHooks,
    ];

    /// The keys `Service::new` needs.
    const REQUIRED: [Key; 3] = [Key::Name, Key::Image, Key::Port];

    /// The key as written in the macro input.
    fn as_str(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Image => "image",
            Key::ExternalImage => "external_image",
            Key::Port => "port",
            Key::Count => "count",
            Key::ExternalCount => "external_count",
            Key::Cpu => "cpu",
            Key::Memory => "memory",
            Key::LogRetentionDays => "log_retention_days",
            Key::MinHealthyPercent => "min_healthy_percent",
            Key::MaxPercent => "max_percent",
            Key::CircuitBreaker => "circuit_breaker",
            Key::Deployment => "deployment",
            Key::Path => "path",
            Key::Host => "host",
            Key::Capacity => "capacity",
            Key::Autoscaling => "autoscaling",
            Key::HealthCheck => "health_check",
            Key::DeregistrationDelay => "deregistration_delay",
            Key::Env => "env",
            Key::Secrets => "secrets",
            Key::Tags => "tags",
            Key::InlinePolicies => "inline_policies",
            Key::Policies => "policies",
            Key::RollbackAlarms => "rollback_alarms",
            Key::LifecycleHooks => "lifecycle_hooks",
        }
    }

    /// The key named `ident`, if the macro knows it.
    fn from_ident(ident: &Ident) -> Option<Key> {
        let name = ident.unraw().to_string();
        Key::ALL.into_iter().find(|key| key.as_str() == name)
    }

    /// The `Service` setter an entry of the key calls (once per element for maps and
    /// lists). `name`, `image` and `port` go to `Service::new` instead.
    fn method(self) -> &'static str {
        match self {
            Key::Secrets => "secret",
            Key::Tags => "tag",
            Key::InlinePolicies => "inline_policy",
            Key::Policies => "policy",
            Key::RollbackAlarms => "rollback_alarm",
            Key::LifecycleHooks => "lifecycle_hook",
            other => other.as_str(),
        }
    }

    /// The shape of value the key takes.
    fn shape(self) -> Shape {
        match self {
            Key::Env | Key::Secrets | Key::Tags | Key::InlinePolicies => Shape::Map,
            Key::Policies | Key::RollbackAlarms | Key::LifecycleHooks => Shape::List,
            _ => Shape::Expr,
        }
    }

    /// What an entry of the key looks like, for hints in error messages.
    fn example(self) -> &'static str {
        match self {
            Key::Name => "name: \"product-web\"",
            Key::Image => "image: \"registry.example.com/shop/product-web:1.4\"",
            Key::Port => "port: 8000",
            Key::Env => "env: { \"RUST_LOG\" => \"info\" }",
            Key::Secrets => "secrets: { \"DB_PASSWORD\" => ecs_kit::Secret::ssm(\"/prod/db-password\") }",
            Key::Tags => "tags: { \"team\" => \"shop\" }",
            Key::InlinePolicies => "inline_policies: { \"read-bucket\" => POLICY_JSON }",
            Key::Policies => "policies: [\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"]",
            Key::RollbackAlarms => "rollback_alarms: [\"web-5xx\"]",
            Key::LifecycleHooks => {
                "lifecycle_hooks: [ecs_kit::LifecycleHook::lambda(FUNCTION_ARN, [ecs_kit::HookStage::PostScaleUp])]"
            }
            _ => "",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Step 1: parse
// ---------------------------------------------------------------------------------------

/// The macro input as written: `key: value` entries separated by commas.
struct Invocation {
    entries: Vec<Entry>,
}

/// One `key: value` entry.
struct Entry {
    /// The key as written (kept for its span).
    key: Ident,
    /// The key, if the macro knows it.
    known: Option<Key>,
    value: Value,
}

/// The value of an entry, parsed in the shape its key takes.
enum Value {
    /// `expr`
    Expr(Expr),
    /// `{ KEY => expr, ... }`
    Map(Vec<MapEntry>),
    /// `[expr, ...]`
    List(Vec<Expr>),
    /// The value of an unknown key, skipped.
    Skipped,
}

/// One `KEY => value` entry of a map. The key is parsed as any expression so that a
/// key that is not a string literal is reported by the checks (with the others) rather
/// than as a syntax error.
struct MapEntry {
    key: Expr,
    value: Expr,
}

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let entries = Punctuated::<Entry, Token![,]>::parse_terminated(input)?;
        Ok(Invocation { entries: entries.into_iter().collect() })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // `parse_any`: a keyword used as a key (`type: ..`) is an unknown key, not a
        // syntax error.
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![:]>()?;
        let known = Key::from_ident(&key);
        let value = match known {
            Some(known) => parse_value(input, known)?,
            None => skip_value(input)?,
        };
        Ok(Entry { key, known, value })
    }
}

impl Parse for MapEntry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.parse()?;
        input.parse::<Token![=>]>()?;
        let value = input.parse()?;
        Ok(MapEntry { key, value })
    }
}

/// Parses the value of `key` in the shape `key` takes.
fn parse_value(input: ParseStream, key: Key) -> syn::Result<Value> {
    match key.shape() {
        Shape::Expr => Ok(Value::Expr(input.parse()?)),
        Shape::Map => {
            if !input.peek(token::Brace) {
                return Err(input.error(format!(
                    "`{}` takes a map of string literals to values, e.g. `{}`",
                    key.as_str(),
                    key.example()
                )));
            }
            let content;
            braced!(content in input);
            let entries = Punctuated::<MapEntry, Token![,]>::parse_terminated(&content)?;
            Ok(Value::Map(entries.into_iter().collect()))
        }
        Shape::List => {
            if !input.peek(token::Bracket) {
                return Err(input.error(format!(
                    "`{}` takes a list of values, e.g. `{}`",
                    key.as_str(),
                    key.example()
                )));
            }
            let content;
            bracketed!(content in input);
            let elements = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            Ok(Value::List(elements.into_iter().collect()))
        }
    }
}

/// Skips the value of an unknown key, which is reported later with the other errors:
/// a `{..}` or `[..]` group (what a mistyped `env`, `policies`, ... holds), or else an
/// expression.
fn skip_value(input: ParseStream) -> syn::Result<Value> {
    let fork = input.fork();
    if fork.peek(token::Brace) || fork.peek(token::Bracket) {
        fork.parse::<TokenTree>()?;
        if fork.is_empty() || fork.peek(Token![,]) {
            input.parse::<TokenTree>()?;
            return Ok(Value::Skipped);
        }
    }
    input.parse::<Expr>()?;
    Ok(Value::Skipped)
}

// ---------------------------------------------------------------------------------------
// Step 2: lower into the model, checking everything
// ---------------------------------------------------------------------------------------

/// A checked declaration: what the expansion writes.
struct ServiceDecl {
    name: Expr,
    image: Expr,
    port: Expr,
    /// The setter calls, in the order their entries were written.
    calls: Vec<Call>,
}

/// One setter call: `.method(args..)`.
struct Call {
    /// The method, spanned on the entry's key.
    method: Ident,
    args: Vec<Arg>,
}

/// One argument of a setter call.
enum Arg {
    /// A value, passed as written.
    Expr(Expr),
    /// The string literal key of a map entry.
    Str(LitStr),
    /// An integer literal meaning seconds: `::std::time::Duration::from_secs(N)`.
    Seconds(LitInt),
}

/// Collects every error of an invocation so that all are reported at once (as
/// serde_derive's `Ctxt` does).
#[derive(Default)]
struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error spanned on `span`.
    fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records an error spanned on all of `tokens` (from their first to their last
    /// token, which `push` with `Spanned::span` cannot do on stable Rust).
    fn push_spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// `Ok` if nothing was recorded, else all the errors combined into one.
    fn finish(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

/// Where an environment variable name was first set: in `env` or in `secrets`.
struct EnvName {
    name: String,
    key: Key,
}

/// Checks the invocation and turns it into the model, or returns every error found.
fn lower(invocation: Invocation) -> syn::Result<ServiceDecl> {
    let mut errors = Errors::default();
    let mut seen: Vec<Key> = Vec::new();
    let mut env_names: Vec<EnvName> = Vec::new();
    let (mut name, mut image, mut port) = (None, None, None);
    let mut calls = Vec::new();

    for Entry { key: ident, known, value } in invocation.entries {
        let Some(key) = known else {
            errors.push(ident.span(), unknown_key_message(&ident));
            continue;
        };
        if seen.contains(&key) {
            errors.push(ident.span(), format_args!("duplicate key `{}`", key.as_str()));
            continue;
        }
        if let Some((other, advice)) = conflicting_key(key).filter(|(other, _)| seen.contains(other)) {
            errors.push(
                ident.span(),
                format_args!("conflicting keys `{}` and `{}`: {advice}, not both", other.as_str(), key.as_str()),
            );
            continue;
        }
        seen.push(key);

        let method = Ident::new(key.method(), ident.span());
        match value {
            Value::Expr(expr) => match key {
                Key::Name => {
                    check_service_name(&expr, &mut errors);
                    name = Some(expr);
                }
                Key::Image => {
                    check_image(&expr, &mut errors);
                    image = Some(expr);
                }
                Key::ExternalImage => {
                    // `Service::new` takes an image; `.external_image` replaces it.
                    check_image(&expr, &mut errors);
                    image = Some(syn::parse_quote_spanned!(ident.span()=> ""));
                    calls.push(Call { method, args: vec![Arg::Expr(expr)] });
                }
                Key::Port => {
                    check_port(&expr, &mut errors);
                    port = Some(expr);
                }
                _ => {
                    if matches!(key, Key::Path | Key::HealthCheck) {
                        check_absolute_path(key, &expr, &mut errors);
                    }
                    let arg = match (key, int_literal(&expr)) {
                        (Key::DeregistrationDelay, Some(seconds)) => Arg::Seconds(seconds.clone()),
                        _ => Arg::Expr(expr),
                    };
                    calls.push(Call { method, args: vec![arg] });
                }
            },
            Value::Map(entries) => {
                for MapEntry { key: map_key, value } in entries {
                    let Some(literal) = str_literal(&map_key) else {
                        errors.push_spanned(
                            &map_key,
                            format_args!(
                                "the keys of `{}` must be string literals, e.g. `{}`",
                                key.as_str(),
                                key.example()
                            ),
                        );
                        continue;
                    };
                    if matches!(key, Key::Env | Key::Secrets) {
                        check_env_name(key, literal, &mut env_names, &mut errors);
                    }
                    calls
                        .push(Call { method: method.clone(), args: vec![Arg::Str(literal.clone()), Arg::Expr(value)] });
                }
            }
            Value::List(elements) => {
                calls.extend(
                    elements.into_iter().map(|element| Call { method: method.clone(), args: vec![Arg::Expr(element)] }),
                );
            }
            // Only unknown keys, already reported, have a skipped value.
            Value::Skipped => {}
        }
    }

    // `external_image` stands for `image`.
    let given = |key: &Key| seen.contains(key) || (*key == Key::Image && seen.contains(&Key::ExternalImage));
    let missing: Vec<Key> = Key::REQUIRED.into_iter().filter(|key| !given(key)).collect();
    if !missing.is_empty() {
        errors.push(Span::call_site(), missing_keys_message(&missing));
    }

    errors.finish()?;
    let (Some(name), Some(image), Some(port)) = (name, image, port) else {
        unreachable!("a missing required key was reported above")
    };
    Ok(ServiceDecl { name, image, port, calls })
}

/// The key that may not be given together with `key`, and which to use when.
fn conflicting_key(key: Key) -> Option<(Key, &'static str)> {
    const COUNT: &str =
        "use `count` for a task count the stack keeps, or `external_count` for an initial count owned outside ecs-kit";
    const IMAGE: &str = "use `image` for an image the stack deploys on every apply, or `external_image` for the \
                         initial image of a pipeline that owns it afterwards";
    match key {
        Key::Count => Some((Key::ExternalCount, COUNT)),
        Key::ExternalCount => Some((Key::Count, COUNT)),
        Key::Image => Some((Key::ExternalImage, IMAGE)),
        Key::ExternalImage => Some((Key::Image, IMAGE)),
        _ => None,
    }
}

/// "unknown key `foo`, expected one of `name`, `image`, ..."
fn unknown_key_message(ident: &Ident) -> String {
    let expected: Vec<String> = Key::ALL.iter().map(|key| format!("`{}`", key.as_str())).collect();
    format!("unknown key `{}`, expected one of {}", ident.unraw(), expected.join(", "))
}

/// Names the missing required keys and shows how to write them.
fn missing_keys_message(missing: &[Key]) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|key| match key {
            Key::Image => "`image` (or `external_image`)".to_owned(),
            key => format!("`{}`", key.as_str()),
        })
        .collect();
    let examples: Vec<&str> = missing.iter().map(|key| key.example()).collect();
    let (noun, pronoun) = if missing.len() == 1 { ("key", "it") } else { ("keys", "them") };
    format!(
        "missing required {noun} {} in `service!`; add {pronoun}, e.g. `{},`",
        names.join(", "),
        examples.join(", ")
    )
}

/// A name is a lowercase letter followed by lowercase letters, digits and `-`, at most
/// 64 characters (as the runtime validation requires).
fn check_service_name(expr: &Expr, errors: &mut Errors) {
    let Some(literal) = str_literal(expr) else { return };
    let name = literal.value();
    let problem = if name.is_empty() {
        "it is empty".to_owned()
    } else if name.chars().count() > 64 {
        format!("it has {} characters, at most 64 are allowed", name.chars().count())
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        "it must start with a lowercase letter".to_owned()
    } else if let Some(bad) = name.chars().find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')) {
        format!("it may only contain lowercase letters, digits and `-`, not `{bad}`")
    } else {
        return;
    };
    errors.push(literal.span(), format_args!("invalid service name {name:?}: {problem} (e.g. \"product-web\")"));
}

/// A literal image is not empty and holds no white space or control characters (the
/// rest of the reference grammar is checked by `build()`).
fn check_image(expr: &Expr, errors: &mut Errors) {
    let Some(literal) = str_literal(expr) else { return };
    let image = literal.value();
    let problem = if image.is_empty() {
        "it is empty"
    } else if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains white space or control characters"
    } else {
        return;
    };
    errors.push(
        literal.span(),
        format_args!(
            "invalid image {image:?}: {problem}; write a full reference `[registry/]repository:tag` \
             or `...@sha256:<digest>`, e.g. \"registry.example.com/shop/product-web:1.4\""
        ),
    );
}

/// A literal port is between 1 and 65535.
fn check_port(expr: &Expr, errors: &mut Errors) {
    // The port as written, if it is an integer literal outside the range.
    let out_of_range = match peel(expr) {
        // Too big for u64 is out of range too.
        Expr::Lit(ExprLit { lit: Lit::Int(literal), .. }) => {
            literal.base10_parse::<u64>().map_or(true, |port| !(1..=65535).contains(&port)).then(|| literal.to_string())
        }
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr: operand, .. }) => {
            int_literal(operand).map(|literal| format!("-{literal}"))
        }
        _ => None,
    };
    if let Some(port) = out_of_range {
        errors.push_spanned(expr, format_args!("port `{port}` is out of range: port must be between 1 and 65535"));
    }
}

/// A literal `path` or `health_check` starts with `/`.
fn check_absolute_path(key: Key, expr: &Expr, errors: &mut Errors) {
    let Some(literal) = str_literal(expr) else { return };
    let path = literal.value();
    if !path.starts_with('/') {
        errors.push(
            literal.span(),
            format_args!("`{}` must start with `/`: write {:?} instead of {path:?}", key.as_str(), format!("/{path}")),
        );
    }
}

/// An environment variable name (of `env` or `secrets`) is `[A-Za-z_][A-Za-z0-9_]*`,
/// and is set once across `env` and `secrets`.
fn check_env_name(key: Key, literal: &LitStr, seen: &mut Vec<EnvName>, errors: &mut Errors) {
    let name = literal.value();
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        errors.push(
            literal.span(),
            format_args!(
                "invalid environment variable name {name:?} in `{}`: use letters, digits and `_`, \
                 not starting with a digit, e.g. \"DATABASE_URL\"",
                key.as_str()
            ),
        );
    }
    if let Some(first) = seen.iter().find(|first| first.name == name) {
        errors.push(
            literal.span(),
            format_args!("environment variable {name:?} is set twice: it is already set in `{}`", first.key.as_str()),
        );
    } else {
        seen.push(EnvName { name, key });
    }
}

/// `expr` without the invisible groups `macro_rules!` wraps `$e:expr` in, and without
/// parentheses.
fn peel(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Group(group) => expr = &group.expr,
            Expr::Paren(paren) => expr = &paren.expr,
            other => return other,
        }
    }
}

/// The string literal `expr` is, if it is one.
fn str_literal(expr: &Expr) -> Option<&LitStr> {
    match peel(expr) {
        Expr::Lit(ExprLit { lit: Lit::Str(literal), .. }) => Some(literal),
        _ => None,
    }
}

/// The integer literal `expr` is, if it is one.
fn int_literal(expr: &Expr) -> Option<&LitInt> {
    match peel(expr) {
        Expr::Lit(ExprLit { lit: Lit::Int(literal), .. }) => Some(literal),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Step 3: expand
// ---------------------------------------------------------------------------------------

/// Writes the builder calls of a checked declaration.
fn expand(decl: &ServiceDecl) -> TokenStream2 {
    let ServiceDecl { name, image, port, calls } = decl;
    let calls = calls.iter().map(|Call { method, args }| quote!(.#method(#(#args),*)));
    quote! {
        ::ecs_kit::Service::new(#name, #image, #port) #(#calls)*
    }
}

impl ToTokens for Arg {
    fn to_tokens(&self, tokens: &mut TokenStream2) {
        match self {
            Arg::Expr(expr) => expr.to_tokens(tokens),
            Arg::Str(literal) => literal.to_tokens(tokens),
            Arg::Seconds(seconds) => {
                // The digits without any suffix: `10`, `10u32` and `10_u64` all mean 10 s.
                let digits = LitInt::new(seconds.base10_digits(), seconds.span());
                tokens.extend(quote_spanned!(seconds.span()=> ::std::time::Duration::from_secs(#digits)));
            }
        }
    }
}
