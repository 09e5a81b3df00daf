//! The ready-made command line: hand your stack to [`run`] (or, with knobs of your own
//! program, to [`run_with`]) in `main`.
//!
//! | verb | flags |
//! |---|---|
//! | `synth` | `--json` |
//! | `plan` | `--json`, `--detailed-exitcode`, `--out FILE`, `--stats` |
//! | `apply [FILE]` | `--auto-approve`, `--delete-data`, `--parallelism N` (10), `--timeout D` (15m), `--json`, `--stats` |
//! | `destroy` | `--auto-approve`, `--delete-data`, `--parallelism N` (10), `--timeout D` (15m), `--json` |
//! | `status` | `--json` |
//! | `outputs` | `--json` |
//! | `unlock` | `--auto-approve` |
//! | `rollback [SERVICE...]` | `--auto-approve`, `--parallelism N` (10), `--timeout D` (15m), `--json` |
//! | `verify` | `--json` |
//! | `logs SERVICE` | `--since D` (10m), `--follow`, `--filter TEXT` |
//!
//! Global flags: `--region`, `--profile`, `--endpoint-url` (and the standard `AWS_*`
//! variables), `-v`/`--verbose` (the SDK's own detail of a failure, and debug logs;
//! `RUST_LOG` overrides the filter). Exit codes: 0 success, 1 any error (usage errors,
//! refusals, a held lock and failed steps included), 2 changes present under
//! `plan --detailed-exitcode`, 130 (143) when Ctrl-C (SIGTERM) stopped an apply or
//! destroy.
//!
//! apply and destroy ask for confirmation on a terminal unless `--auto-approve`; without
//! a person at a terminal they refuse and change nothing. `apply FILE` executes a plan
//! saved by `plan --out FILE`, and refuses when the declaration or AWS changed since.
//! apply and destroy hold the stack's [lock](crate::lock) while they work: a second one
//! fails at once naming the holder; Ctrl-C abandons the steps in flight (as a crash
//! would: the next apply completes them), releases the lock and exits 130. `unlock`
//! shows who holds a lock left by a killed process and, once confirmed (`yes`, or
//! `--auto-approve`; without a terminal it refuses), breaks it. A closed standard
//! output (`plan --json | head -1`) ends quietly; during apply or destroy a failed write
//! stops the writing, never the work.
//!
//! `rollback` puts services back on the revision they ran before their last deploy
//! ([`crate::rollback`]): it shows what it will do, asks like apply and holds the lock.
//! `verify` checks the deployed stack with read calls only ([`crate::verify`]) and exits
//! 1 when a check fails. `logs` prints a service's CloudWatch lines ([`crate::logs`]);
//! `--follow` polls until Ctrl-C (then exits 0).
//! Progress is live bars on a terminal, timestamped lines elsewhere, and JSON lines with
//! `--json`; colour only on a terminal without `NO_COLOR`. [`StackKnobs`] are the seed
//! template's CI variables as flags with `ECS_KIT_*` fallbacks.
//!
//! ```no_run
//! use ecs_kit::{service, Stack};
//!
//! fn main() -> std::process::ExitCode {
//!     let stack = Stack::builder("shop")
//!         .region("us-west-2")
//!         .service(service! { name: "worker", image: "busybox:1.36", port: 8080 });
//!     ecs_kit::cli::run(stack)
//! }
//! ```

mod knobs;

pub use knobs::{per_service, ServiceValue, StackKnobs};

mod progress;

pub use progress::{colour_wanted, paint_plan};

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, FromArgMatches, Parser, Subcommand};

use crate::aws::Clients;
use crate::dsl::StackBuilder;
use crate::graph::{Graph, LogicalId, Resource};
use crate::model::{Stack, ValidationErrors};

/// Flags every verb takes.
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    /// AWS region; must match the stack's region (AWS_REGION is not compared: the
    /// stack's own region wins over the environment's default).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS credentials profile (default: AWS_PROFILE, then `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Also print the AWS SDK's own detail of a failure, and debug logs (RUST_LOG, when
    /// set, chooses the logs instead).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// A program without knobs of its own.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct NoKnobs {}

/// The verbs; `K` is the program's own flags, accepted after the verb.
#[derive(Debug, Clone, Subcommand)]
pub enum Verb<K: Args> {
    /// Print the desired resources without touching AWS.
    Synth {
        /// One JSON object: {"stack", "resources": [{"id", "type", "depends_on", "properties", ...}]}.
        #[arg(long)]
        json: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Show what apply would change, without changing anything.
    Plan {
        /// One JSON object: {"stack", "changes": [...], "summary": {...}, "conflicts", "live_digest"}.
        #[arg(long)]
        json: bool,
        /// Exit 0 when there are no changes, 2 when there are, 1 on any error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also save the plan to FILE, for `apply FILE` to execute exactly it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Then, on standard error: AWS calls per service and the time spent waiting for AWS.
        #[arg(long)]
        stats: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Change AWS to match the declaration (or execute a saved plan).
    Apply {
        /// A plan saved by `plan --out FILE`: executed only if AWS and the declaration
        /// still give exactly that plan; then no confirmation is asked.
        #[arg(value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Apply without asking; required without a terminal.
        #[arg(long)]
        auto_approve: bool,
        /// Allow the plan to delete or replace the file system or log groups.
        #[arg(long)]
        delete_data: bool,
        /// Steps talking to AWS at once (steps only waiting for AWS, between polls, do not count).
        #[arg(long, default_value_t = 10, value_name = "N")]
        parallelism: usize,
        /// Longest wait for AWS in one step (a service to be stable, a NAT gateway to be
        /// available), and longest retrying of one step, e.g. `90s`, `20m`.
        #[arg(long, default_value = "15m", value_name = "DURATION")]
        timeout: humantime::Duration,
        /// Machine-readable: the plan, then one JSON event per line, then the summary, on stdout.
        #[arg(long)]
        json: bool,
        /// Then, on standard error: AWS calls per service and the time spent waiting for
        /// AWS (in calls, and in steps waiting for objects to settle).
        #[arg(long)]
        stats: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Delete every resource the stack owns; the file system and log groups are kept
    /// unless --delete-data.
    Destroy {
        /// Destroy without asking; required without a terminal.
        #[arg(long)]
        auto_approve: bool,
        /// Delete the EFS file system and the log groups too.
        #[arg(long)]
        delete_data: bool,
        /// Steps talking to AWS at once (steps only waiting for AWS, between polls, do not count).
        #[arg(long, default_value_t = 10, value_name = "N")]
        parallelism: usize,
        /// Longest wait for AWS in one step (a service to drain, a NAT gateway to be
        /// gone), and longest retrying of one step, e.g. `90s`, `20m`.
        #[arg(long, default_value = "15m", value_name = "DURATION")]
        timeout: humantime::Duration,
        /// Machine-readable: the targets, then one JSON event per line, then the summary, on stdout.
        #[arg(long)]
        json: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Per service: desired, running and pending tasks, deployments and their rollout,
    /// target health and the latest events.
    Status {
        /// One JSON object: {"stack", "services": [...]}.
        #[arg(long)]
        json: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// The load balancer's URL, each service's URL, the cluster, file system and log groups.
    Outputs {
        /// One JSON object: {"stack", "url", "dns_name", "services": [{"name", "url", "log_group"}], ...}.
        #[arg(long)]
        json: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Put services (all when none are named) back on the task definition revision they
    /// ran before their last deploy, and wait until they are stable; shows what it will
    /// do and asks first. The declaration is unchanged: the next plan shows the
    /// difference.
    Rollback {
        /// The services to roll back (default: every declared service).
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
        /// Roll back without asking; required without a terminal.
        #[arg(long)]
        auto_approve: bool,
        /// Services rolled back at once.
        #[arg(long, default_value_t = 10, value_name = "N")]
        parallelism: usize,
        /// Longest wait for a service to be stable, and longest retrying, e.g. `90s`, `20m`.
        #[arg(long, default_value = "15m", value_name = "DURATION")]
        timeout: humantime::Duration,
        /// Machine-readable: the targets, then one JSON event per line, then the summary, on stdout.
        #[arg(long)]
        json: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Check against AWS, changing nothing, that the deployed stack can run: roles and
    /// their trust, secrets and their permissions, log groups, target group ports.
    /// Exits 1 when a check fails.
    Verify {
        /// One JSON object: {"stack", "checks": [{"name", "ok", "reason"}], "passed", "failed", "skipped"}.
        #[arg(long)]
        json: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// A service's CloudWatch log lines across its tasks, oldest first.
    Logs {
        /// The service.
        #[arg(value_name = "SERVICE")]
        service: String,
        /// How far back to start, e.g. `10m`, `1h`, `2d`.
        #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = crate::logs::parse_since)]
        since: std::time::Duration,
        /// Keep printing new lines as they come, until Ctrl-C.
        #[arg(short, long)]
        follow: bool,
        /// Only lines matching this CloudWatch filter pattern (a word, or a "quoted phrase").
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
    /// Break the stack's lock left by an apply or destroy that was killed: shows who
    /// holds it and asks first.
    Unlock {
        /// Break it without asking; required without a terminal.
        #[arg(long)]
        auto_approve: bool,
        /// The program's own flags.
        #[command(flatten)]
        knobs: K,
    },
}

impl<K: Args> Verb<K> {
    /// The program's own flags given with the verb.
    #[must_use]
    pub fn knobs(&self) -> &K {
        match self {
            Verb::Synth { knobs, .. }
            | Verb::Plan { knobs, .. }
            | Verb::Apply { knobs, .. }
            | Verb::Destroy { knobs, .. }
            | Verb::Status { knobs, .. }
            | Verb::Outputs { knobs, .. }
            | Verb::Rollback { knobs, .. }
            | Verb::Verify { knobs, .. }
            | Verb::Logs { knobs, .. }
            | Verb::Unlock { knobs, .. } => knobs,
        }
    }
}

/// The parsed command line.
#[derive(Debug, Clone, Parser)]
#[command(version, about = "Plan, apply and inspect an ecs-kit stack")]
pub struct Cli<K: Args> {
    /// Global flags.
    #[command(flatten)]
    pub global: Global,
    /// The verb.
    #[command(subcommand)]
    pub verb: Verb<K>,
    /// Whether a person is at a terminal: confirmations are asked and progress is
    /// drawn as live bars. `None` decides by whether standard input and standard error
    /// are terminals. Embedding tools and tests set it.
    #[arg(skip)]
    pub interactive: Option<bool>,
    /// Whether to colour the output: `None` colours when standard output is a terminal
    /// and `NO_COLOR` is not set.
    #[arg(skip)]
    pub colour: Option<bool>,
    /// Whether Ctrl-C (and SIGTERM) stop an apply or destroy cleanly: the steps in
    /// flight abandoned, the stack lock released, exit 130 (143). `None` means yes;
    /// tests that run many command lines in one process set `Some(false)`.
    #[arg(skip)]
    pub signals: Option<bool>,
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The declaration is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The stack's resources are inconsistent (a bug of ecs-kit).
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    /// `--region` names another region than the stack's.
    #[error("--region {given} disagrees with the stack's region {stack}: a stack lives in one region; drop --region or change the stack's region")]
    RegionMismatch {
        /// The flag's region.
        given: String,
        /// The stack's region.
        stack: String,
    },
    /// Writing the output (or reading the answer to a question) failed.
    #[error("cannot write the output: {0}")]
    Io(std::io::Error),
    /// Planning failed.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// Foreign resources hold names the stack needs.
    #[error("{0} conflict(s) with resources this stack does not own: see above")]
    Conflicts(usize),
    /// Applying failed before changing anything.
    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),
    /// Destroying failed before deleting anything.
    #[error(transparent)]
    Destroy(#[from] crate::destroy::DestroyError),
    /// apply or destroy not confirmed: no terminal to ask on and no `--auto-approve`, or
    /// an answer other than `yes`.
    #[error("{0} needs confirmation: answer `yes` on a terminal, or pass --auto-approve; nothing was changed")]
    NotApproved(&'static str),
    /// Some steps of an apply or destroy failed.
    #[error("{failed} step(s) failed and {skipped} were skipped (see above)")]
    Failed {
        /// Steps that failed.
        failed: usize,
        /// Steps skipped because a dependency failed.
        skipped: usize,
    },
    /// `status` or `outputs` failed.
    #[error(transparent)]
    Status(#[from] crate::status::StatusError),
    /// A saved plan cannot be used.
    #[error("saved plan {path}: {reason}; nothing was changed")]
    SavedPlan {
        /// The file.
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// AWS or the declaration changed since the plan was saved.
    #[error("AWS or the declaration changed since {path} was saved ({}); nothing was changed: run plan --out again", .differences.join("; "))]
    StalePlan {
        /// The file.
        path: String,
        /// How the fresh plan differs.
        differences: Vec<String>,
    },
    /// A verb needs AWS but ecs-kit was built without its `aws` feature.
    #[error("this verb talks to AWS: build ecs-kit with its default `aws` feature")]
    NoAws,
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// Reading or breaking the stack lock failed (`unlock`).
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// `rollback` could not start, or its lock is held.
    #[error(transparent)]
    Rollback(#[from] crate::rollback::RollbackError),
    /// `logs` failed.
    #[error(transparent)]
    Logs(#[from] crate::logs::LogsError),
    /// Ctrl-C or SIGTERM stopped an apply or destroy.
    #[error("{signal}: {verb} stopped; the steps in flight were abandoned and the stack lock was released: run {verb} again to finish")]
    Interrupted {
        /// `apply` or `destroy`.
        verb: &'static str,
        /// What stopped it.
        signal: Signal,
    },
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Io(e)
    }
}

/// A signal that stops an apply or destroy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM (a CI job cancelled).
    Terminate,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "interrupted (Ctrl-C)",
            Signal::Terminate => "terminated (SIGTERM)",
        })
    }
}

impl CliError {
    /// What a person can do about an AWS failure, when the error is one.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        self.aws().map(crate::aws::AwsError::hint)
    }

    /// The AWS failure behind this error, when it is one.
    #[must_use]
    pub fn aws(&self) -> Option<&crate::aws::AwsError> {
        use crate::apply::ApplyError;
        use crate::destroy::DestroyError;
        use crate::observe::ObserveError;
        use crate::plan::PlanError;
        match self {
            CliError::Plan(PlanError::Aws(e) | PlanError::Observe(ObserveError::Aws(e)))
            | CliError::Apply(ApplyError::Plan(PlanError::Aws(e) | PlanError::Observe(ObserveError::Aws(e))))
            | CliError::Destroy(DestroyError::Plan(PlanError::Aws(e) | PlanError::Observe(ObserveError::Aws(e))))
            | CliError::Status(
                crate::status::StatusError::Aws(e) | crate::status::StatusError::Observe(ObserveError::Aws(e)),
            ) => Some(e),
            CliError::Apply(ApplyError::Locked(l))
            | CliError::Destroy(DestroyError::Locked(l))
            | CliError::Lock(l)
            | CliError::Rollback(crate::rollback::RollbackError::Locked(l)) => l.aws(),
            CliError::Rollback(crate::rollback::RollbackError::Aws(e))
            | CliError::Logs(crate::logs::LogsError::Aws(e)) => Some(e),
            _ => None,
        }
    }

    /// The exit code for this error: 130 (143) when Ctrl-C (SIGTERM) stopped the work,
    /// else 1.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Interrupted { signal: Signal::Interrupt, .. } => 130,
            CliError::Interrupted { signal: Signal::Terminate, .. } => 143,
            _ => 1,
        }
    }
}

/// Runs the command line of the process on `stack`, printing to stdout and stderr.
#[must_use]
pub fn run(stack: StackBuilder) -> ExitCode {
    run_with::<NoKnobs, _>(|_| stack)
}

/// Runs the command line of the process; `build` makes the stack from the program's
/// own flags `K` (a `clap::Args` type, accepted after the verb).
#[must_use]
pub fn run_with<K, F>(build: F) -> ExitCode
where
    K: Args,
    F: FnOnce(&K) -> StackBuilder,
{
    // Not locked for the whole run: progress lines come from other threads.
    let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
    ExitCode::from(run_inner(std::env::args_os(), build, &mut stdout, &mut stderr, None))
}

/// Runs the command line `args` (program name first), writing to `out` and `err`, and
/// returns the exit code: what [`run_with`] does, for tests and embedding, without
/// colour and without asking (apply and destroy need `--auto-approve`).
pub fn run_from<K, F, I, T>(args: I, build: F, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    K: Args,
    F: FnOnce(&K) -> StackBuilder,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_inner(args, build, out, err, Some(false))
}

fn run_inner<K, F, I, T>(args: I, build: F, out: &mut dyn Write, err: &mut dyn Write, person: Option<bool>) -> u8
where
    K: Args,
    F: FnOnce(&K) -> StackBuilder,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cli = match parse::<K, _, _>(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and exit 0; usage errors exit 1.
            return if e.use_stderr() {
                let _ = write!(err, "{}", e.render());
                1
            } else {
                let _ = write!(out, "{}", e.render());
                0
            };
        }
    };
    if person == Some(false) {
        cli.interactive = Some(false);
        cli.colour = Some(false);
        cli.signals = Some(false);
    }
    init_logging(cli.global.verbose);
    match execute(&cli, build(cli.verb.knobs()), out, err) {
        Ok(code) => code,
        Err(e) => {
            // One line: the cause, then what to do about it.
            let _ = match e.hint() {
                Some(hint) => writeln!(err, "error: {e} (hint: {hint})"),
                None => writeln!(err, "error: {e}"),
            };
            e.exit_code()
        }
    }
}

/// Logs to standard error: warnings of ecs-kit; with `verbose`, debug logs of ecs-kit
/// and the AWS SDK (a failure's full detail among them); `RUST_LOG`, when set, decides
/// instead. A subscriber set already (by an embedding program) is kept.
fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ if verbose => EnvFilter::new("warn,ecs_kit=debug,aws_config=debug"),
        _ => EnvFilter::new("ecs_kit=warn"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose)
        .without_time()
        .try_init();
}

/// Parses `args` into a [`Cli`].
///
/// # Errors
/// clap's error for a usage error, `--help` or `--version`.
pub fn parse<K, I, T>(args: I) -> Result<Cli<K>, clap::Error>
where
    K: Args,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = <Cli<K> as clap::CommandFactory>::command().try_get_matches_from(args)?;
    Cli::<K>::from_arg_matches(&matches)
}

/// Executes a parsed command line on `stack`, with AWS clients from the environment
/// (and `--profile`, `--endpoint-url`) for the verbs that need them.
///
/// # Errors
/// [`CliError`]: an invalid declaration, a region mismatch, an AWS failure, an output
/// failure.
pub fn execute<K: Args>(
    cli: &Cli<K>,
    stack: StackBuilder,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, CliError> {
    execute_with(cli, stack, None, out, err)
}

/// [`execute`] with the AWS clients given (mocks, a fake, an emulator): `None` builds
/// them from the environment when a verb needs them.
///
/// A failed write to `out` never stops the work: writing stops, the verb goes on and
/// its exit code is kept. A closed pipe (`plan --json | head -1`) is no error at all;
/// another failure is a warning on `err` after apply, destroy or unlock, and
/// [`CliError::Io`] after the verbs whose output is their product.
///
/// # Errors
/// As [`execute`].
pub fn execute_with<K: Args>(
    cli: &Cli<K>,
    stack: StackBuilder,
    clients: Option<Clients>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, CliError> {
    let (mut out, mut err) = (Sink::new(out), Sink::new(err));
    let result = execute_verb(cli, stack, clients, &mut out, &mut err);
    match out.failed.take() {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            if matches!(
                cli.verb,
                Verb::Apply { .. } | Verb::Destroy { .. } | Verb::Unlock { .. } | Verb::Rollback { .. }
            ) {
                let _ = writeln!(err, "warning: cannot write the output ({e}): stopped writing it; the work went on");
                result
            } else {
                result.and(Err(CliError::Io(e)))
            }
        }
        _ => result,
    }
}

/// A writer that stops writing after its first failure and remembers it, so that a
/// closed or failing output never stops the work.
struct Sink<'a> {
    inner: &'a mut dyn Write,
    failed: Option<std::io::Error>,
}

impl<'a> Sink<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Sink { inner, failed: None }
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed.is_none() {
            match self.inner.write(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
                Err(e) => self.failed = Some(e),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failed.is_none() {
            if let Err(e) = self.inner.flush() {
                self.failed = Some(e);
            }
        }
        Ok(())
    }
}

fn execute_verb<K: Args>(
    cli: &Cli<K>,
    stack: StackBuilder,
    clients: Option<Clients>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, CliError> {
    let stack = stack.build()?;
    for warning in stack.warnings() {
        writeln!(err, "warning: {warning}")?;
    }
    if let Some(given) = cli.global.region.as_deref().filter(|r| *r != stack.region) {
        return Err(CliError::RegionMismatch { given: given.to_owned(), stack: stack.region.clone() });
    }
    use std::io::IsTerminal;
    let colour = cli.colour.unwrap_or_else(|| colour_wanted(std::io::stdout().is_terminal()));
    let person = cli.interactive.unwrap_or_else(|| std::io::stdin().is_terminal() && std::io::stderr().is_terminal());
    let signals = if cli.signals.unwrap_or(true) { Stop::Signals } else { Stop::Never };
    let show_plan = |plan: &crate::plan::Plan, out: &mut dyn Write| -> std::io::Result<()> {
        let text = plan.render();
        out.write_all(if colour { paint_plan(&text) } else { text }.as_bytes())
    };
    match &cli.verb {
        Verb::Synth { json, .. } => {
            let graph = Graph::from_stack(&stack)?;
            if *json {
                json_out(out, &graph)?;
            } else {
                out.write_all(render_tree(&stack, &graph).as_bytes())?;
            }
            Ok(0)
        }
        Verb::Plan { json, detailed_exitcode, out: file, stats, .. } => {
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let started = std::time::Instant::now();
            let plan = runtime.block_on(stack.plan(&clients))?;
            if *stats {
                print_stats(err, &clients, started.elapsed(), None)?;
            }
            if *json {
                json_out(out, &plan)?;
            } else {
                show_plan(&plan, out)?;
            }
            if !plan.conflicts.is_empty() {
                return Err(CliError::Conflicts(plan.conflicts.len()));
            }
            if let Some(path) = file {
                save_plan(path, &stack, &plan)?;
                if !*json {
                    writeln!(
                        out,
                        "Saved the plan to {}: `apply {}` executes exactly it.",
                        path.display(),
                        path.display()
                    )?;
                }
            }
            Ok(if *detailed_exitcode && plan.has_changes() { 2 } else { 0 })
        }
        Verb::Apply { plan: file, auto_approve, delete_data, parallelism, timeout, json, stats, .. } => {
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let started = std::time::Instant::now();
            let saved = file.as_deref().map(|p| load_plan(p, &stack)).transpose()?;
            let plan = runtime.block_on(stack.plan(&clients))?;
            if let (Some(path), Some(saved)) = (file, &saved) {
                let mut differences = desired_differences(&saved["desired"], &Graph::from_stack(&stack)?);
                differences.extend(plan_differences(&saved["plan"], &plan));
                if !differences.is_empty() {
                    return Err(CliError::StalePlan { path: path.display().to_string(), differences });
                }
            }
            if *json {
                writeln!(out, "{}", serde_json::json!({"event": "plan", "plan": plan}))?;
            } else {
                show_plan(&plan, out)?;
            }
            if !plan.conflicts.is_empty() {
                return Err(CliError::Conflicts(plan.conflicts.len()));
            }
            if !plan.has_changes() {
                return Ok(0);
            }
            // Refusals come before the question, not after a `yes`.
            crate::apply::check(&plan, *delete_data)?;
            // A saved plan was reviewed when it was made.
            if saved.is_none() && !auto_approve && !confirm(person, "Apply these changes?", err)? {
                return Err(CliError::NotApproved("apply"));
            }
            let options = crate::apply::ApplyOptions {
                parallelism: *parallelism,
                delete_data: *delete_data,
                waits: crate::apply::Waits { timeout: **timeout, ..Default::default() },
                retry: crate::walk::RetryPolicy { budget: **timeout, ..Default::default() },
                stop_after: None,
            };
            let actions = crate::apply::step_actions(&plan);
            let view = View { json: *json, person, colour, signals };
            let settling = Settling::default();
            let (work_clients, watch) = (clients.clone(), settling.clone());
            let applied = with_progress(&runtime, view, "apply", actions, out, err, |progress| async move {
                let observer = Watched { inner: progress, settling: watch };
                crate::apply::apply(&stack, &work_clients, options, Some(&plan), &observer).await
            })?;
            let code = finish("Apply", "done", &applied.report, "", *json, colour, out);
            if *stats {
                print_stats(err, &clients, started.elapsed(), Some(settling.total()))?;
            }
            code
        }
        Verb::Destroy { auto_approve, delete_data, parallelism, timeout, json, .. } => {
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let (doomed, kept) = runtime.block_on(crate::destroy::targets(&stack, &clients, *delete_data))?;
            let kept_note = if kept.is_empty() {
                String::new()
            } else {
                format!(
                    "; kept: {} (pass --delete-data to delete them)",
                    kept.iter().map(LogicalId::as_str).collect::<Vec<_>>().join(", ")
                )
            };
            if *json {
                let ids = |v: &[LiveResourceRef]| v.iter().map(|r| r.id.as_str().to_owned()).collect::<Vec<_>>();
                writeln!(out, "{}", serde_json::json!({"event": "targets", "destroy": ids(&doomed), "keep": kept}))?;
            } else {
                let mut text = String::new();
                for r in &doomed {
                    let _ = writeln!(text, "  - {:<30} {}", r.id.as_str(), r.resource_type);
                }
                let _ = writeln!(text, "\nDestroy: {} to destroy{kept_note}.", doomed.len());
                out.write_all(if colour { paint_plan(&text) } else { text }.as_bytes())?;
            }
            if doomed.is_empty() {
                return Ok(0);
            }
            if !auto_approve && !confirm(person, "Destroy these resources?", err)? {
                return Err(CliError::NotApproved("destroy"));
            }
            let options = crate::destroy::DestroyOptions {
                delete_data: *delete_data,
                parallelism: *parallelism,
                waits: crate::apply::Waits { timeout: **timeout, ..Default::default() },
                retry: crate::walk::RetryPolicy { budget: **timeout, ..Default::default() },
            };
            let approved: Vec<LogicalId> = doomed.iter().map(|r| r.id.clone()).collect();
            let actions = doomed.iter().map(|r| (r.id.clone(), "delete".to_owned())).collect();
            let view = View { json: *json, person, colour, signals };
            let destroyed = with_progress(&runtime, view, "destroy", actions, out, err, |progress| async move {
                crate::destroy::destroy(&stack, &clients, options, Some(&approved), &progress).await
            })?;
            finish("Destroy", "deleted", &destroyed.report, &kept_note, *json, colour, out)
        }
        Verb::Status { json, .. } => {
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let status = runtime.block_on(crate::status::status(&stack, &clients))?;
            if *json {
                json_out(out, &status)?;
            } else {
                out.write_all(status.render().as_bytes())?;
            }
            Ok(0)
        }
        Verb::Unlock { auto_approve, .. } => {
            use crate::lock::LockError;
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let shown = match runtime.block_on(crate::lock::holder(&clients, &stack)) {
                Ok(None) => {
                    writeln!(out, "Stack {} is not locked.", stack.name)?;
                    return Ok(0);
                }
                Ok(Some(holder)) => {
                    writeln!(out, "Stack {} is locked by {holder}.", stack.name)?;
                    Some(holder)
                }
                Err(LockError::Unreadable { parameter, value, .. }) => {
                    writeln!(
                        out,
                        "The lock of stack {} ({parameter}) holds `{value}`, not an ecs-kit lock.",
                        stack.name
                    )?;
                    None
                }
                Err(e) => return Err(e.into()),
            };
            writeln!(
                out,
                "Break it only if that process is gone: an apply or destroy still running would then share the stack."
            )?;
            if !auto_approve && !confirm(person, "Break this lock?", err)? {
                return Err(CliError::NotApproved("unlock"));
            }
            match &shown {
                Some(holder) => runtime.block_on(crate::lock::break_lock(&clients, &stack, holder))?,
                None => {
                    runtime.block_on(crate::lock::force_break(&clients, &stack))?;
                }
            }
            writeln!(out, "Unlocked stack {}.", stack.name)?;
            Ok(0)
        }
        Verb::Rollback { services, auto_approve, parallelism, timeout, json, .. } => {
            // Unknown services are refused before any AWS call.
            crate::rollback::check_names(&stack, services)?;
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let crate::rollback::Targets { targets, skipped } =
                runtime.block_on(crate::rollback::targets(&stack, &clients, services))?;
            if *json {
                let event = serde_json::json!({"event": "targets", "rollback": targets, "skipped": skipped});
                writeln!(out, "{event}")?;
            } else {
                let mut text = format!("Roll back stack {}:\n\n", stack.name);
                for t in &targets {
                    let _ = writeln!(text, "{}", t.render());
                }
                for s in &skipped {
                    let _ = writeln!(text, "    {:<30} skipped: {}", format!("service/{}", s.service), s.reason);
                }
                let _ = writeln!(
                    text,
                    "\nRollback: {} service(s) to roll back. The declaration is unchanged: the next plan shows the difference.",
                    targets.len()
                );
                out.write_all(if colour { paint_plan(&text) } else { text }.as_bytes())?;
            }
            if !auto_approve && !confirm(person, "Roll these services back?", err)? {
                return Err(CliError::NotApproved("rollback"));
            }
            let options = crate::rollback::RollbackOptions {
                parallelism: *parallelism,
                waits: crate::apply::Waits { timeout: **timeout, ..Default::default() },
                retry: crate::walk::RetryPolicy { budget: **timeout, ..Default::default() },
            };
            let actions = targets.iter().map(|t| (t.id.clone(), "rollback".to_owned())).collect();
            let view = View { json: *json, person, colour, signals };
            let report = with_progress(&runtime, view, "rollback", actions, out, err, |progress| async move {
                crate::rollback::rollback(&stack, &clients, targets, options, &progress).await
            })?;
            finish("Rollback", "rolled back", &report, "", *json, colour, out)
        }
        Verb::Verify { json, .. } => {
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let verification = runtime.block_on(crate::verify::verify(&stack, &clients))?;
            if *json {
                json_out(out, &verification)?;
            } else {
                out.write_all(verification.render().as_bytes())?;
            }
            Ok(u8::from(!verification.ok()))
        }
        Verb::Logs { service, since, follow, filter, .. } => {
            let group = crate::logs::group_of(&stack, service)?;
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let missing = |e: crate::aws::AwsError| -> CliError {
                if e.kind == crate::aws::ErrorKind::NotFound {
                    crate::logs::LogsError::NoGroup { service: service.clone(), group: group.clone() }.into()
                } else {
                    crate::logs::LogsError::Aws(e).into()
                }
            };
            let mut cursor = crate::logs::Cursor::since(Some(*since));
            let filter = filter.as_deref();
            if *follow {
                let stop = async move {
                    signals.wait().await;
                };
                // A failed write (the reader went away) ends the following, as an error.
                let mut failed = None;
                runtime
                    .block_on(crate::logs::follow(
                        &clients,
                        &group,
                        &mut cursor,
                        filter,
                        crate::logs::POLL,
                        stop,
                        |e| match writeln!(out, "{}", crate::logs::render(e)).and_then(|()| out.flush()) {
                            Ok(()) => std::ops::ControlFlow::Continue(()),
                            Err(e) => {
                                failed = Some(e);
                                std::ops::ControlFlow::Break(())
                            }
                        },
                    ))
                    .map_err(missing)?;
                if let Some(e) = failed {
                    return Err(e.into());
                }
            } else {
                let events =
                    runtime.block_on(crate::logs::read(&clients, &group, &mut cursor, filter)).map_err(missing)?;
                for e in &events {
                    writeln!(out, "{}", crate::logs::render(e))?;
                }
            }
            Ok(0)
        }
        Verb::Outputs { json, .. } => {
            let (runtime, clients) = aws(&cli.global, &stack, clients)?;
            let live =
                runtime.block_on(crate::observe::observe(&stack, &clients)).map_err(crate::plan::PlanError::from)?;
            let outputs = crate::status::outputs(&stack, &live)?;
            if *json {
                json_out(out, &outputs)?;
            } else {
                out.write_all(outputs.render().as_bytes())?;
            }
            Ok(0)
        }
    }
}

type LiveResourceRef = crate::observe::LiveResource;

/// `value` as pretty JSON and a newline.
fn json_out(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// How apply and destroy show their progress, and what stops them.
#[derive(Debug, Clone, Copy)]
struct View {
    json: bool,
    person: bool,
    colour: bool,
    signals: Stop,
}

/// What stops an apply or destroy early.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// Ctrl-C and SIGTERM.
    Signals,
    /// Nothing.
    Never,
    /// `Signal::Interrupt` once the fake cloud has seen the operation (tests).
    #[cfg(test)]
    After(&'static crate::testing::FakeCloud, &'static str),
}

impl Stop {
    /// What stops the wait for the lock's release after a first stop: a second signal.
    fn again(self) -> Stop {
        match self {
            Stop::Signals => Stop::Signals,
            #[cfg(test)]
            Stop::Never | Stop::After(..) => Stop::Never,
            #[cfg(not(test))]
            Stop::Never => Stop::Never,
        }
    }

    /// Resolves when the work is to stop.
    async fn wait(self) -> Signal {
        match self {
            Stop::Never => std::future::pending().await,
            Stop::Signals => next_signal().await,
            #[cfg(test)]
            Stop::After(cloud, operation) => loop {
                if cloud.call_log().iter().any(|op| op == operation) {
                    break Signal::Interrupt;
                }
                tokio::task::yield_now().await;
            },
        }
    }
}

/// The next Ctrl-C or SIGTERM; never, if they cannot be listened to.
async fn next_signal() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return std::future::pending().await;
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => match r {
                Ok(()) => Signal::Interrupt,
                Err(_) => std::future::pending().await,
            },
            _ = terminate.recv() => Signal::Terminate,
        }
    }
    #[cfg(not(unix))]
    {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

/// Runs `work` (the `verb`) with a progress display, writing its lines to `out` (JSON)
/// or `err` (people) as they come. A failed write never stops the work (the writers
/// are [`Sink`]s). When `view.signals` fires, the work is dropped where it is (as a
/// crash would leave it), the stack lock released and [`CliError::Interrupted`]
/// returned.
fn with_progress<T, E, F, Fut>(
    runtime: &tokio::runtime::Runtime,
    view: View,
    verb: &'static str,
    actions: BTreeMap<LogicalId, String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    work: F,
) -> Result<T, CliError>
where
    F: FnOnce(progress::Progress) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    CliError: From<E>,
{
    use progress::Line;
    use std::io::IsTerminal;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let bars = view.person && std::io::stderr().is_terminal();
    let display = progress::Progress::new(view.json, bars, view.colour, actions, tx);
    let mut write = |line: Line| {
        let _ = match line {
            Line::Out(l) => writeln!(out, "{l}"),
            Line::Err(l) => writeln!(err, "{l}"),
        };
    };
    let result = runtime.block_on(async {
        let mut work = Box::pin(work(display));
        let mut stop = Box::pin(view.signals.wait());
        let result = loop {
            tokio::select! {
                result = &mut work => break Ok(result),
                Some(line) = rx.recv() => write(line),
                signal = &mut stop => break Err(signal),
            }
        };
        if result.is_err() {
            // Dropping the work abandons its steps and releases the lock in the
            // background; a second signal gives up waiting for that.
            drop(work);
            tokio::select! {
                () = crate::lock::wait_for_releases() => {}
                _ = view.signals.again().wait() => {}
            }
        }
        result
    });
    while let Ok(line) = rx.try_recv() {
        write(line);
    }
    match result {
        Ok(result) => Ok(result?),
        Err(signal) => Err(CliError::Interrupted { verb, signal }),
    }
}

/// How long the steps of a walk waited for objects to settle (from each step's first
/// [`Event::Waiting`](crate::walk::Event) to its end), summed over steps.
#[derive(Debug, Clone, Default)]
struct Settling(Arc<Mutex<(BTreeMap<LogicalId, std::time::Instant>, Duration)>>);

impl Settling {
    fn total(&self) -> Duration {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1
    }
}

/// An observer that also times the waits of the steps.
#[derive(Clone)]
struct Watched<O> {
    inner: O,
    settling: Settling,
}

impl<O: crate::walk::Observer> crate::walk::Observer for Watched<O> {
    fn event(&self, event: &crate::walk::Event) {
        use crate::walk::Event;
        {
            let mut s = self.settling.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match event {
                Event::Waiting { id, .. } => {
                    s.0.entry(id.clone()).or_insert_with(std::time::Instant::now);
                }
                Event::Done { id, .. } | Event::Failed { id, .. } => {
                    if let Some(since) = s.0.remove(id) {
                        s.1 += since.elapsed();
                    }
                }
                _ => {}
            }
        }
        self.inner.event(event);
    }
}

/// `--stats`: calls per AWS service and the time spent waiting for AWS, as lines.
fn print_stats(
    err: &mut dyn Write,
    clients: &Clients,
    wall: Duration,
    settling: Option<Duration>,
) -> Result<(), CliError> {
    let by_service = clients.calls.by_service();
    let total: u64 = by_service.iter().map(|s| s.calls).sum();
    let in_calls: Duration = by_service.iter().map(|s| s.time).sum();
    writeln!(
        err,
        "Stats: {total} AWS calls in {:.1}s (calls, seconds waiting for answers, service: calls per operation):",
        wall.as_secs_f64()
    )?;
    let operations = clients.calls.snapshot();
    for s in &by_service {
        let ops: Vec<String> = operations
            .iter()
            .filter(|c| c.service == s.service)
            .map(|c| format!("{} {}", c.operation, c.calls))
            .collect();
        writeln!(err, "  {:>6} {:>8.1}s  {}: {}", s.calls, s.time.as_secs_f64(), s.service, ops.join(", "))?;
    }
    let settled = settling.map_or(String::new(), |d| {
        format!(", {:.1}s in steps waiting for objects to settle (summed over steps)", d.as_secs_f64())
    });
    writeln!(err, "  waiting for AWS: {:.1}s in calls (summed over calls in flight){settled}", in_calls.as_secs_f64())?;
    Ok(())
}

/// The end of an apply or destroy: the summary line (or JSON object) and the exit code.
fn finish(
    verb: &str,
    done_word: &str,
    report: &crate::walk::Report,
    kept_note: &str,
    json: bool,
    colour: bool,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let (done, failed, skipped) = tally(report);
    let retries = report.retries();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"event": "summary", "done": done, "failed": failed, "skipped": skipped, "retries": retries, "outcomes": report.outcomes})
        )?;
    } else {
        let mut text = String::new();
        for (id, outcome) in &report.outcomes {
            if let crate::walk::Outcome::Failed { error, .. } = outcome {
                let _ = write!(text, "\nfailed: {id}: {error}");
            }
        }
        let retried = if retries > 0 { format!(", {retries} retries") } else { String::new() };
        let _ = writeln!(text, "\n{verb}: {done} {done_word}, {failed} failed, {skipped} skipped{retried}{kept_note}.");
        out.write_all(if colour { paint_plan(&text) } else { text }.as_bytes())?;
    }
    if failed + skipped > 0 {
        return Err(CliError::Failed { failed, skipped });
    }
    Ok(0)
}

/// The saved-plan file: the plan and what it was made for.
const PLAN_FORMAT: &str = "ecs-kit-plan/1";

fn save_plan(path: &Path, stack: &Stack, plan: &crate::plan::Plan) -> Result<(), CliError> {
    let desired = Graph::from_stack(stack)?;
    let doc = serde_json::json!({
        "format": PLAN_FORMAT, "stack": stack.name, "region": stack.region, "desired": desired, "plan": plan,
    });
    let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::from)?;
    std::fs::write(path, text + "\n")
        .map_err(|e| CliError::SavedPlan { path: path.display().to_string(), reason: format!("cannot write it ({e})") })
}

fn load_plan(path: &Path, stack: &Stack) -> Result<serde_json::Value, CliError> {
    let bad = |reason: String| CliError::SavedPlan { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a saved plan ({e}): make one with plan --out")))?;
    if doc["format"] != PLAN_FORMAT {
        return Err(bad(format!(
            "not a saved plan of this ecs-kit (format {}): make one with plan --out",
            doc["format"]
        )));
    }
    if doc["stack"] != stack.name.as_str() || doc["region"] != stack.region.as_str() {
        return Err(bad(format!(
            "made for stack {} in {}, not {} in {}",
            doc["stack"], doc["region"], stack.name, stack.region
        )));
    }
    if !(doc["desired"]["resources"].is_array() && doc["plan"]["changes"].is_array()) {
        return Err(
            bad("incomplete: it lacks the desired resources or the plan: make it again with plan --out".into()),
        );
    }
    Ok(doc)
}

/// The resources whose declaration differs from the one the plan was saved with.
fn desired_differences(saved: &serde_json::Value, desired: &Graph) -> Vec<String> {
    let resources = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r.clone()))
            .collect()
    };
    let (old, new) = (resources(saved), resources(&serde_json::to_value(desired).unwrap_or_default()));
    old.keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|id| old.get(*id) != new.get(*id))
        .map(|id| match (old.contains_key(id), new.contains_key(id)) {
            (true, true) => format!("{id}: declared differently"),
            (true, false) => format!("{id}: no longer declared"),
            _ => format!("{id}: newly declared"),
        })
        .collect()
}

/// How `fresh` differs from the `saved` plan: changed resources, or a live digest.
fn plan_differences(saved: &serde_json::Value, fresh: &crate::plan::Plan) -> Vec<String> {
    let fresh_json = serde_json::to_value(fresh).unwrap_or_default();
    if &fresh_json == saved {
        return Vec::new();
    }
    let by_id = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (c["id"].as_str().unwrap_or_default().to_owned(), c.clone()))
            .collect()
    };
    let (old, new) = (by_id(saved), by_id(&fresh_json));
    let mut out: Vec<String> = old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|id| old.get(*id) != new.get(*id))
        .map(|id| {
            let action = |m: &BTreeMap<String, serde_json::Value>| {
                m.get(id).map_or("absent".to_owned(), |c| c["action"].as_str().unwrap_or_default().to_owned())
            };
            format!("{id}: {} then, {} now", action(&old), action(&new))
        })
        .collect();
    if out.is_empty() {
        out.push("the live resources differ from those the plan was made from".to_owned());
    }
    out
}

/// An async runtime and the AWS clients (`given`, or from the environment and flags).
fn aws(global: &Global, stack: &Stack, given: Option<Clients>) -> Result<(tokio::runtime::Runtime, Clients), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CliError::Runtime)?;
    let clients = match given {
        Some(c) => c,
        None => runtime.block_on(connect(global, stack))?,
    };
    Ok((runtime, clients))
}

/// Steps done, failed and skipped.
fn tally(report: &crate::walk::Report) -> (usize, usize, usize) {
    use crate::walk::Outcome;
    let count = |f: fn(&Outcome) -> bool| report.outcomes.values().filter(|o| f(o)).count();
    (
        count(|o| matches!(o, Outcome::Done { .. })),
        count(|o| matches!(o, Outcome::Failed { .. })),
        count(|o| matches!(o, Outcome::Skipped { .. })),
    )
}

/// Asks `question` on the terminal; without a person there, the answer is no.
fn confirm(person: bool, question: &str, err: &mut dyn Write) -> Result<bool, CliError> {
    if !person {
        return Ok(false);
    }
    write!(err, "\n{question} Only 'yes' is accepted: ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// The real AWS clients for `stack`'s region, as the global flags say.
#[cfg(feature = "aws")]
async fn connect(global: &Global, stack: &Stack) -> Result<Clients, CliError> {
    let options = crate::aws::sdk::ConnectOptions {
        region: stack.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    Ok(Clients::from_env(&options).await)
}

#[cfg(not(feature = "aws"))]
async fn connect(_global: &Global, _stack: &Stack) -> Result<Clients, CliError> {
    Err(CliError::NoAws)
}

/// A few words on what a resource is, for the tree.
fn detail(resource: &Resource) -> String {
    crate::resources::summary(&resource.properties)
}

/// The human form of `synth`: platform resources by area, then each service's own.
#[must_use]
pub fn render_tree(stack: &Stack, graph: &Graph) -> String {
    use crate::graph::ResourceType as T;
    let area = |r: &Resource| match r.resource_type {
        T::Vpc | T::InternetGateway | T::Subnet | T::Eip | T::NatGateway | T::RouteTable | T::SecurityGroup => {
            "network"
        }
        T::IamRole | T::InstanceProfile => "identity",
        T::LaunchTemplate | T::AutoScalingGroup | T::CapacityProvider | T::Cluster => "compute",
        T::FileSystem | T::MountTarget | T::AccessPoint => "storage",
        T::LoadBalancer | T::TargetGroup | T::Listener | T::ListenerRule | T::ListenerCertificate => "load balancing",
        T::LogGroup | T::TaskDefinition | T::EcsService | T::ScalableTarget | T::ScalingPolicy => "services",
    };
    // A service's own resources end in its name; its scaling policies add the metric.
    let owner = |r: &Resource| {
        let id = r.id.as_str();
        stack
            .services
            .iter()
            .find(|s| id.ends_with(&format!("/{}", s.name)) || id.starts_with(&format!("scaling-policy/{}/", s.name)))
            .map(|s| s.name.clone())
    };
    let mut groups: Vec<(String, Vec<&Resource>)> = Vec::new();
    for name in ["network", "identity", "compute", "storage", "load balancing"] {
        groups.push((
            name.to_owned(),
            graph.resources().iter().filter(|r| owner(r).is_none() && area(r) == name).collect(),
        ));
    }
    for s in &stack.services {
        groups.push((
            format!("service {}", s.name),
            graph.resources().iter().filter(|r| owner(r).as_deref() == Some(&s.name)).collect(),
        ));
    }
    for (_, resources) in &mut groups {
        resources.sort_by_key(|r| (T::ALL.iter().position(|t| *t == r.resource_type), r.id.clone()));
    }
    // Columns as wide as the longest id and type, and never narrower than these.
    let id_width = graph.resources().iter().map(|r| r.id.as_str().len()).max().unwrap_or(0).max(28);
    let type_width = graph.resources().iter().map(|r| r.resource_type.as_str().len()).max().unwrap_or(0).max(22);
    let mut out = String::new();
    let _ = writeln!(out, "Stack {} in {}: {} resources", stack.name, stack.region, graph.resources().len());
    for (name, resources) in groups.into_iter().filter(|(_, r)| !r.is_empty()) {
        let _ = writeln!(out, "\n{name}");
        for (i, r) in resources.iter().enumerate() {
            let branch = if i + 1 == resources.len() { "└─" } else { "├─" };
            let line =
                format!("{branch} {:<id_width$} {:<type_width$} {}", r.id.as_str(), r.resource_type.as_str(), r.name);
            let detail = detail(r);
            if detail.is_empty() {
                let _ = writeln!(out, "{}", line.trim_end());
            } else {
                let _ = writeln!(out, "{line}  ({detail})");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::seed;

    fn run_args(args: &[&str], stack: StackBuilder) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_from::<NoKnobs, _, _, _>(args.iter().copied(), |_| stack, &mut out, &mut err);
        (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn synth_prints_a_tree() {
        let (code, out, err) = run_args(&["x", "synth"], seed());
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("Stack mcsv-poc in us-west-2: 41 resources\n"), "{out}");
        assert!(out.contains("\nservice products\n"), "{out}");
        assert!(out.contains("listener-rule/products"), "{out}");
        let network = out.split("\n\n").nth(1).unwrap();
        assert!(network.starts_with("network\n├─ vpc "), "resources sorted by type then id: {network}");
    }

    #[test]
    fn synth_json_parses_and_lists_every_resource() {
        let (code, out, _) = run_args(&["x", "synth", "--json"], seed());
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["stack"], "mcsv-poc");
        assert_eq!(v["resources"].as_array().unwrap().len(), 41);
        let endpoint =
            &v["resources"].as_array().unwrap().iter().find(|r| r["id"] == "task-definition/products").unwrap()
                ["properties"]["container_definitions"][0]["environment"][0];
        assert_eq!(
            endpoint,
            &serde_json::json!({"name": "ENDPOINT", "value": {"ref": "load-balancer", "attr": "dns_name"}})
        );
    }

    #[test]
    fn an_invalid_declaration_exits_1_naming_fields() {
        let (code, out, err) = run_args(&["x", "synth"], seed().service(crate::Service::new("products", "nginx", 1)));
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert!(err.contains("services[2].name: `products` is also the name of services[1]"), "{err}");
    }

    #[test]
    fn usage_errors_exit_1_and_help_exits_0() {
        let (code, _, err) = run_args(&["x", "synth", "--bogus"], seed());
        assert_eq!(code, 1, "{err}");
        let (code, _, err) = run_args(&["x"], seed());
        assert_eq!(code, 1, "{err}");
        let (code, out, _) = run_args(&["x", "--help"], seed());
        assert_eq!(code, 0);
        assert!(out.contains("synth"), "{out}");
    }

    #[test]
    fn a_disagreeing_region_is_an_error() {
        let (code, _, err) = run_args(&["x", "--region", "eu-west-1", "synth"], seed());
        assert_eq!(code, 1);
        assert!(err.contains("--region eu-west-1 disagrees with the stack's region us-west-2"), "{err}");
        let (code, _, _) = run_args(&["x", "synth", "--region", "us-west-2"], seed());
        assert_eq!(code, 0);
    }

    #[derive(Debug, Clone, clap::Args)]
    struct Knobs {
        /// Tasks per service.
        #[arg(long, env = "ECS_KIT_TEST_TASKS", default_value_t = 1)]
        tasks: u32,
    }

    #[test]
    fn aws_failures_carry_a_hint() {
        use crate::aws::{AwsError, ErrorKind};
        let denied = AwsError::new(ErrorKind::AccessDenied, "iam", "GetRole", "no");
        let e = CliError::Plan(crate::plan::PlanError::Aws(denied.clone()));
        assert!(e.hint().unwrap().starts_with("the credentials lack this permission"), "{:?}", e.hint());
        let e = CliError::Status(crate::status::StatusError::Observe(crate::observe::ObserveError::Aws(denied)));
        assert!(e.hint().is_some());
        assert_eq!(CliError::NotApproved("apply").hint(), None);
    }

    #[test]
    fn saved_plans_name_what_differs() {
        let stack = seed().build().unwrap();
        let graph = Graph::from_stack(&stack).unwrap();
        let saved = serde_json::to_value(&graph).unwrap();
        assert!(desired_differences(&saved, &graph).is_empty());
        let other = Graph::from_stack(&crate::model::seed_with_image("products", "nginx:2").build().unwrap()).unwrap();
        assert_eq!(desired_differences(&saved, &other), ["task-definition/products: declared differently"]);
        let fewer = Graph::from_stack(&crate::model::seed_without("products").build().unwrap()).unwrap();
        let d = desired_differences(&saved, &fewer);
        assert!(d.contains(&"service/products: no longer declared".to_owned()), "{d:?}");
    }

    /// A writer that fails every write after its first `ok` bytes with `kind`.
    struct Failing {
        ok: usize,
        written: Vec<u8>,
        kind: std::io::ErrorKind,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = self.ok.saturating_sub(self.written.len());
            if room == 0 {
                return Err(std::io::Error::new(self.kind, "the reader went away"));
            }
            let n = room.min(buf.len());
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Only the declaration's own warnings, if any.
    fn quiet(err: &str) -> bool {
        err.lines().all(|l| l.starts_with("warning: ") && !l.contains("cannot write"))
    }

    fn parsed(args: &[&str]) -> Cli<NoKnobs> {
        let mut cli = parse::<NoKnobs, _, _>(std::iter::once("x").chain(args.iter().copied())).unwrap();
        cli.interactive = Some(false);
        cli.colour = Some(false);
        cli.signals = Some(false);
        cli
    }

    /// Runs `args` on the seed stack against `cloud`: the result, stdout as far as it
    /// was written, and stderr.
    fn on_cloud(
        args: &[&str],
        cloud: &crate::testing::FakeCloud,
        out: &mut dyn Write,
    ) -> (Result<u8, CliError>, String) {
        let mut err = Vec::new();
        let result = execute_with(&parsed(args), seed(), Some(cloud.clients()), out, &mut err);
        (result, String::from_utf8(err).unwrap())
    }

    fn instant_cloud() -> crate::testing::FakeCloud {
        crate::testing::FakeCloud::new("us-west-2").with_timing(crate::testing::Timing::instant())
    }

    fn holder(operation: &str) -> crate::lock::Holder {
        crate::lock::Holder {
            token: "0123456789abcdef0123456789abcdef".into(),
            user: "ci".into(),
            host: "runner-3".into(),
            pid: 4242,
            operation: operation.into(),
            since: 1_764_620_496,
            version: "0.1.0".into(),
        }
    }

    /// Plants `holder` as the lock of the seed stack, as a killed process leaves it.
    fn plant(cloud: &crate::testing::FakeCloud, holder: &crate::lock::Holder) {
        cloud.set_parameter("/ecs-kit/mcsv-poc/lock", &serde_json::to_string(holder).unwrap());
    }

    /// Issue #10: retries are counted in the summary, human and JSON.
    #[test]
    fn the_summary_counts_the_retries() {
        let cloud = instant_cloud();
        cloud.fail("CreateVpc", crate::aws::ErrorKind::Throttled, 2);
        cloud.fail("CreateLogGroup", crate::aws::ErrorKind::Unavailable, 1);
        let mut out = Vec::new();
        let (result, err) = on_cloud(&["apply", "--auto-approve"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0, "{err}");
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("0 failed, 0 skipped, 3 retries."), "{out}");
        let cloud = instant_cloud();
        cloud.fail("CreateVpc", crate::aws::ErrorKind::Throttled, 1);
        let mut out = Vec::new();
        let (result, err) = on_cloud(&["apply", "--auto-approve", "--json"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0, "{err}");
        let summary = String::from_utf8(out).unwrap().lines().last().unwrap().to_owned();
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert_eq!((summary["event"].as_str(), summary["retries"].as_u64()), (Some("summary"), Some(1)), "{summary}");
    }

    #[test]
    fn plan_to_a_closed_pipe_ends_quietly_and_keeps_its_exit_code() {
        let cloud = instant_cloud();
        let mut out = Failing { ok: 100, written: Vec::new(), kind: std::io::ErrorKind::BrokenPipe };
        let (result, err) = on_cloud(&["plan", "--json"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0, "{err}");
        assert!(quiet(&err), "nothing about the closed pipe: {err}");
        assert_eq!(out.written.len(), 100);
        let mut out = Failing { ok: 0, written: Vec::new(), kind: std::io::ErrorKind::BrokenPipe };
        let (result, err) = on_cloud(&["plan", "--detailed-exitcode"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 2, "{err}");
        assert!(quiet(&err), "{err}");
        // Another failure of the output of plan is an error: its output is its product.
        let mut out = Failing { ok: 10, written: Vec::new(), kind: std::io::ErrorKind::Other };
        let (result, _) = on_cloud(&["plan"], &cloud, &mut out);
        let e = result.unwrap_err();
        assert_eq!(e.to_string(), "cannot write the output: the reader went away");
    }

    #[test]
    fn a_failing_output_never_stops_apply_or_destroy_half_way() {
        let cloud = instant_cloud();
        let stack = seed().build().unwrap();
        let resources = Graph::from_stack(&stack).unwrap().resources().len();
        // The plan is shown, then the output fails: the apply goes on to the end.
        let mut out = Failing { ok: 500, written: Vec::new(), kind: std::io::ErrorKind::Other };
        let (result, err) = on_cloud(&["apply", "--auto-approve"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0, "{err}");
        assert_eq!(
            err.matches(
                "warning: cannot write the output (the reader went away): stopped writing it; the work went on"
            )
            .count(),
            1,
            "{err}"
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        let plan = rt.block_on(stack.plan(&cloud.clients())).unwrap();
        assert!(!plan.has_changes(), "every step ran: {}", plan.render());
        assert_eq!(cloud.snapshot().count(crate::graph::ResourceType::Vpc), 1);
        // JSON events to a closed pipe: quiet, and the destroy deletes everything.
        let mut out = Failing { ok: 0, written: Vec::new(), kind: std::io::ErrorKind::BrokenPipe };
        let (result, err) = on_cloud(&["destroy", "--auto-approve", "--delete-data", "--json"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0, "{err}");
        assert!(!err.contains("error") && !err.contains("cannot write"), "{err}");
        assert_eq!(cloud.snapshot().of_stack("mcsv-poc").count(), 0, "{} resources were applied", resources);
        // A failed step still fails the run when the output is gone: the code is kept.
        cloud.fail("CreateVpc", crate::aws::ErrorKind::Invalid, 1);
        let mut out = Failing { ok: 0, written: Vec::new(), kind: std::io::ErrorKind::BrokenPipe };
        let (result, _) = on_cloud(&["apply", "--auto-approve"], &cloud, &mut out);
        assert!(matches!(result, Err(CliError::Failed { failed: 1, .. })), "{result:?}");
        assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None, "released after the failure");
    }

    fn writes(cloud: &crate::testing::FakeCloud) -> Vec<String> {
        let reads = ["Describe", "List", "Get"];
        cloud.call_log().into_iter().filter(|op| !reads.iter().any(|r| op.starts_with(r))).collect()
    }

    #[test]
    fn apply_and_destroy_fail_at_once_while_another_holds_the_lock_and_plan_does_not_care() {
        let cloud = instant_cloud();
        let planted = serde_json::to_string(&holder("apply")).unwrap();
        plant(&cloud, &holder("apply"));
        cloud.clear_call_log();
        let (result, err) = on_cloud(&["apply", "--auto-approve"], &cloud, &mut Vec::new());
        let e = result.unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let text = e.to_string();
        assert!(
            text.starts_with(
                "stack mcsv-poc is locked by ci on runner-3 (process 4242, apply) since 2025-12-01T20:21:36Z, "
            ),
            "{text}"
        );
        assert!(text.ends_with("wait for that apply to finish, or if that process is gone, run `unlock`"), "{text}");
        assert!(quiet(&err), "no step started: {err}");
        assert_eq!(writes(&cloud), ["PutParameter"], "the refused lock write is the only write");
        assert_eq!(cloud.snapshot().of_stack("mcsv-poc").count(), 0);
        assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock").as_ref(), Some(&planted), "the holder's lock stays");
        let (result, _) = on_cloud(&["plan", "--detailed-exitcode"], &cloud, &mut Vec::new());
        assert_eq!(result.unwrap(), 2, "plan takes no lock");

        // Once it is released, apply runs; a destroy meeting a lock deletes nothing.
        let (result, _) = on_cloud(&["unlock", "--auto-approve"], &cloud, &mut Vec::new());
        assert_eq!(result.unwrap(), 0);
        let (result, err) = on_cloud(&["apply", "--auto-approve"], &cloud, &mut Vec::new());
        assert_eq!(result.unwrap(), 0, "{err}");
        let owned = cloud.snapshot().of_stack("mcsv-poc").count();
        plant(&cloud, &holder("apply"));
        cloud.clear_call_log();
        let (result, _) = on_cloud(&["destroy", "--auto-approve", "--delete-data"], &cloud, &mut Vec::new());
        let e = result.unwrap_err();
        assert!(e.to_string().starts_with("stack mcsv-poc is locked by ci on runner-3 (process 4242, apply)"), "{e}");
        assert_eq!(writes(&cloud), ["PutParameter"]);
        assert_eq!(cloud.snapshot().of_stack("mcsv-poc").count(), owned, "nothing was deleted");
    }

    #[test]
    fn unlock_shows_the_holder_and_refuses_without_a_terminal_unless_auto_approve() {
        let cloud = instant_cloud();
        let mut out = Vec::new();
        let (result, _) = on_cloud(&["unlock"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0);
        assert_eq!(String::from_utf8(out).unwrap(), "Stack mcsv-poc is not locked.\n");

        plant(&cloud, &holder("destroy"));
        let mut out = Vec::new();
        let (result, _) = on_cloud(&["unlock"], &cloud, &mut out);
        let e = result.unwrap_err();
        assert!(matches!(e, CliError::NotApproved("unlock")), "{e}");
        assert_eq!(
            e.to_string(),
            "unlock needs confirmation: answer `yes` on a terminal, or pass --auto-approve; nothing was changed"
        );
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with(
                "Stack mcsv-poc is locked by ci on runner-3 (process 4242, destroy) since 2025-12-01T20:21:36Z, "
            ),
            "{out}"
        );
        assert!(cloud.parameter("/ecs-kit/mcsv-poc/lock").is_some(), "refused: the lock stays");

        let mut out = Vec::new();
        let (result, err) = on_cloud(&["unlock", "--auto-approve"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0, "{err}");
        assert!(String::from_utf8(out).unwrap().ends_with("Unlocked stack mcsv-poc.\n"));
        assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None);

        // Something ecs-kit did not write is shown as it is, and broken only when confirmed.
        cloud.set_parameter("/ecs-kit/mcsv-poc/lock", "manual hold");
        let mut out = Vec::new();
        let (result, _) = on_cloud(&["unlock", "--auto-approve"], &cloud, &mut out);
        assert_eq!(result.unwrap(), 0);
        assert!(String::from_utf8(out).unwrap().contains("holds `manual hold`, not an ecs-kit lock"));
        assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None);
    }

    #[test]
    fn ctrl_c_abandons_the_steps_in_flight_releases_the_lock_and_exits_130() {
        let cloud: &'static crate::testing::FakeCloud = Box::leak(Box::new(instant_cloud()));
        // The VPC's create hangs: the interruption comes while it is in flight.
        cloud.set_latency_of("CreateVpc", std::time::Duration::from_secs(3600));
        let stack = seed().build().unwrap();
        let clients = cloud.clients();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let view = View { json: true, person: false, colour: false, signals: Stop::After(cloud, "CreateVpc") };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = with_progress(&runtime, view, "apply", BTreeMap::new(), &mut out, &mut err, |progress| {
            let (stack, clients) = (stack.clone(), clients.clone());
            async move { crate::apply::apply(&stack, &clients, Default::default(), None, &progress).await }
        });
        let e = result.map(|_| ()).unwrap_err();
        assert!(matches!(e, CliError::Interrupted { verb: "apply", signal: Signal::Interrupt }), "{e}");
        assert_eq!(e.exit_code(), 130);
        assert_eq!(
            e.to_string(),
            "interrupted (Ctrl-C): apply stopped; the steps in flight were abandoned and the stack lock was \
             released: run apply again to finish"
        );
        assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None, "the lock was released before returning");
        assert_eq!(cloud.snapshot().count(crate::graph::ResourceType::Vpc), 0, "the hanging create was abandoned");
        // As after a crash, the next apply completes the stack.
        cloud.set_latency_of("CreateVpc", std::time::Duration::ZERO);
        let report = runtime.block_on(crate::apply::apply(&stack, &clients, Default::default(), None, &())).unwrap();
        assert!(report.report.succeeded(), "{:#?}", report.report);
        assert!(!runtime.block_on(stack.plan(&clients)).unwrap().has_changes());
        assert_eq!(cloud.snapshot().count(crate::graph::ResourceType::Vpc), 1);
    }

    /// The AWS failures a person meets first, as the process prints them: one line
    /// naming the cause and the fix; the SDK's detail only with `-v`. Each case runs
    /// this test's own binary again with a controlled environment (no AWS variables,
    /// no profile files, instance metadata off) and the arguments in
    /// `ECS_KIT_TEST_CLI_ARGS`.
    #[test]
    #[cfg(feature = "aws")]
    fn credential_profile_and_endpoint_failures_print_one_line_with_the_fix() {
        if let Ok(args) = std::env::var("ECS_KIT_TEST_CLI_ARGS") {
            let args: Vec<String> = serde_json::from_str(&args).unwrap();
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            let code = run_from::<NoKnobs, _, _, _>(args, |_| seed(), &mut out, &mut err);
            std::process::exit(i32::from(code));
        }
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
        };
        let dir = std::env::temp_dir().join(format!("ecs-kit-cli-errors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        std::fs::write(&config, "[profile other]\nregion = us-west-2\n").unwrap();
        let credentials = dir.join("credentials");
        std::fs::write(&credentials, "[other]\naws_access_key_id = x\naws_secret_access_key = y\n").unwrap();
        let run = |args: &[&str], env: &[(&str, &str)]| -> (i32, String) {
            let mut all = vec!["x", "--endpoint-url", closed.as_str()];
            all.extend_from_slice(args);
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "cli::tests::credential_profile_and_endpoint_failures_print_one_line_with_the_fix"])
                .args(["--nocapture", "--test-threads=1", "-q"])
                .env_clear()
                .env("ECS_KIT_TEST_CLI_ARGS", serde_json::to_string(&all).unwrap())
                .env("HOME", &dir)
                .env("AWS_CONFIG_FILE", dir.join("none"))
                .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .envs(env.iter().copied())
                .output()
                .unwrap();
            let err = String::from_utf8(output.stderr).unwrap();
            (output.status.code().unwrap_or(-1), err)
        };
        let one_line = |err: &str| -> String {
            // The declaration's own warnings (`:latest` images) aside.
            let lines: Vec<&str> =
                err.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("warning: ")).collect();
            assert_eq!(lines.len(), 1, "one line:\n{err}");
            assert!(
                !err.contains("DispatchFailure") && !err.contains("ConnectorError") && !err.contains("{ "),
                "{err}"
            );
            lines[0].to_owned()
        };

        // No credentials anywhere.
        let (code, err) = run(&["plan"], &[]);
        assert_eq!(code, 1, "{err}");
        let line = one_line(&err);
        assert!(line.starts_with("error: "), "{line}");
        assert!(
            line.contains(": access denied (NoCredentials): no AWS credentials were found in the environment"),
            "{line}"
        );
        assert!(line.ends_with("(hint: set AWS_PROFILE or pass --profile, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` or `aws sso login`)"), "{line}");

        // A profile that is not defined.
        let config = config.to_str().unwrap();
        let credentials = credentials.to_str().unwrap();
        let files = [("AWS_CONFIG_FILE", config), ("AWS_SHARED_CREDENTIALS_FILE", credentials)];
        let (code, err) = run(&["--profile", "nosuch", "plan"], &files);
        assert_eq!(code, 1, "{err}");
        let line = one_line(&err);
        assert!(line.contains("(ProfileNotFound): the profile `nosuch` is not defined in ~/.aws/config or ~/.aws/credentials (hint: pass --profile"), "{line}");
        let (code, err) = run(&["plan"], &[files[0], files[1], ("AWS_PROFILE", "nosuch")]);
        assert_eq!(code, 1, "{err}");
        assert!(one_line(&err).contains("the profile `nosuch` is not defined"), "{err}");

        // Credentials, but nothing listens at the endpoint.
        let keys = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")];
        let (code, err) = run(&["plan"], &keys);
        assert_eq!(code, 1, "{err}");
        let line = one_line(&err);
        assert!(
            line.starts_with("error: ") && line.contains(": unavailable (Unreachable): cannot reach the endpoint: "),
            "{line}"
        );
        assert!(line.to_lowercase().contains("connection refused"), "{line}");
        assert!(line.ends_with("(hint: check the network connection, and the endpoint (--endpoint-url or AWS_ENDPOINT_URL) if one is set, then run again; apply resumes)"), "{line}");

        // -v adds the SDK's own detail.
        let (code, err) = run(&["-v", "plan"], &keys);
        assert_eq!(code, 1, "{err}");
        assert!(err.lines().count() > 1, "{err}");
        assert!(err.contains("AWS call failed: dispatch failure"), "{err}");
        let last = err.lines().last().unwrap();
        assert!(last.starts_with("error: ") && last.contains("unavailable (Unreachable)"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn program_knobs_come_after_the_verb() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_from::<Knobs, _, _, _>(
            ["x", "synth", "--json", "--tasks", "3"],
            |k| seed().service(crate::Service::new("extra", "nginx", 1).count(k.tasks)),
            &mut out,
            &mut err,
        );
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let svc = v["resources"].as_array().unwrap().iter().find(|r| r["id"] == "service/extra").unwrap().clone();
        assert_eq!(svc["properties"]["desired_count"], 3);
    }
}
