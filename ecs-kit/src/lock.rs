//! The stack lock: one apply or destroy of a stack at a time, held in AWS itself.
//!
//! [`crate::apply::apply`] and [`crate::destroy::destroy`] take it before they read
//! the live stack and release it when they end, whether they succeed or fail; `plan`
//! takes none. The lock is the SSM parameter `/ecs-kit/<stack>/lock` (in the stack's
//! account and region), written create-only (`PutParameter` with `Overwrite=false`,
//! atomic in AWS: a second writer gets `ParameterAlreadyExists`). Its value is JSON: a
//! random token and who holds it ([`Holder`]: user, host, process id, operation,
//! since when). Nothing is kept on the local disk.
//!
//! - A second [`Lock::acquire`] fails at once with [`LockError::Held`], naming the
//!   holder.
//! - [`Lock::release`] deletes the parameter only if it still holds this lock's token
//!   (read, compare, delete): a lock broken by `unlock` and taken by someone else is left
//!   alone.
//! - A [`Lock`] dropped without `release` (the apply future dropped on Ctrl-C, a panic)
//!   is released by a background task on the current tokio runtime;
//!   [`wait_for_releases`] waits for those (a front end calls it before it exits).
//! - A lock left by a killed process stays until [`break_lock`] (the `unlock` verb)
//!   deletes it, after a person has seen its [`holder`].
//!
//! Between the read and the delete of a release, SSM has no conditional delete; a lock
//! broken and taken by another process in that window would be deleted. `unlock` is
//! for locks whose process is gone, which closes that window in practice.
//!
//! ```
//! use ecs_kit::lock::{self, Lock, LockError, Operation};
//! use ecs_kit::testing::FakeCloud;
//! use ecs_kit::Stack;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let stack = Stack::builder("shop").region("us-west-2").build()?;
//! let clients = FakeCloud::new("us-west-2").clients();
//! let held = Lock::acquire(&clients, &stack, Operation::Apply).await?;
//! let second = Lock::acquire(&clients, &stack, Operation::Destroy).await.unwrap_err();
//! assert!(matches!(&second, LockError::Held { holder, .. } if holder.operation == "apply"));
//! held.release().await?;
//! assert_eq!(lock::holder(&clients, &stack).await?, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, Clients, ErrorKind};
use crate::model::Stack;

/// The SSM parameter holding `stack`'s lock: `/ecs-kit/<stack>/lock`.
#[must_use]
pub fn parameter_name(stack: &str) -> String {
    format!("/ecs-kit/{stack}/lock")
}

/// What the holder of a lock is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// An apply (of the declaration or of a saved plan).
    Apply,
    /// A destroy.
    Destroy,
    /// A rollback of services to earlier revisions.
    Rollback,
}

impl Operation {
    /// Its name in a lock: `apply`, `destroy`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "apply",
            Operation::Destroy => "destroy",
            Operation::Rollback => "rollback",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who holds a lock: what the lock parameter's JSON value says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Random, one per acquisition: only its holder releases the lock.
    pub token: String,
    /// The user name of the process (`USER`, `LOGNAME` or `USERNAME`).
    pub user: String,
    /// The host name of the machine.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The operation (`apply`, `destroy`; kept as text so locks of newer versions read).
    pub operation: String,
    /// When the lock was taken, in seconds since the Unix epoch.
    pub since: u64,
    /// The ecs-kit version that took it.
    #[serde(default)]
    pub version: String,
}

impl Holder {
    /// This process, about to do `operation`, with a fresh token.
    #[must_use]
    pub fn this_process(operation: Operation) -> Holder {
        let env = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()));
        let host = env(&["HOSTNAME", "COMPUTERNAME"])
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "an unknown host".to_owned());
        Holder {
            token: token(),
            user: env(&["USER", "LOGNAME", "USERNAME"]).unwrap_or_else(|| "an unknown user".to_owned()),
            host,
            pid: std::process::id(),
            operation: operation.as_str().to_owned(),
            since: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// When the lock was taken, as RFC 3339 (`2026-12-01T20:21:36Z`).
    #[must_use]
    pub fn since_rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(self.since)).to_string()
    }
}

impl fmt::Display for Holder {
    /// `alice on build-7 (process 4242, apply) since 2026-12-01T20:21:36Z, 3m ago`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} (process {}, {}) since {}",
            self.user,
            self.host,
            self.pid,
            self.operation,
            self.since_rfc3339()
        )?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some(age) = now.checked_sub(self.since) {
            write!(f, ", {} ago", humantime::format_duration(Duration::from_secs(age)))?;
        }
        Ok(())
    }
}

/// 128 random bits as 32 hex digits, from the standard library's randomly keyed hasher.
fn token() -> String {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u64(serial);
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

/// Errors of the stack lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another apply or destroy holds the stack's lock.
    #[error(
        "stack {stack} is locked by {holder}: wait for that {} to finish, or if that process is gone, run `unlock`",
        holder.operation
    )]
    Held {
        /// The stack.
        stack: String,
        /// Who holds it.
        holder: Box<Holder>,
    },
    /// The lock parameter holds something ecs-kit did not write.
    #[error("the lock of stack {stack} ({parameter}) holds `{value}`, not an ecs-kit lock: delete that SSM parameter, or run `unlock`")]
    Unreadable {
        /// The stack.
        stack: String,
        /// The parameter.
        parameter: String,
        /// Its value (at most 200 characters).
        value: String,
    },
    /// `break_lock` was asked to break a lock that is no longer the one shown.
    #[error("the lock of stack {stack} changed since it was shown ({}): nothing was broken; run unlock again", .now.as_ref().map_or_else(|| "it is gone".to_owned(), |h| format!("now held by {h}")))]
    Changed {
        /// The stack.
        stack: String,
        /// Who holds it now, if anyone.
        now: Option<Box<Holder>>,
    },
    /// Reading, writing or deleting the lock parameter failed.
    #[error("the lock of stack {stack}: {error}")]
    Aws {
        /// The stack.
        stack: String,
        /// The AWS failure.
        error: Box<AwsError>,
    },
}

impl LockError {
    /// The AWS failure, when the error is one.
    #[must_use]
    pub fn aws(&self) -> Option<&AwsError> {
        match self {
            LockError::Aws { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// How a release ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// The lock parameter held this lock's token and was deleted.
    Deleted,
    /// The lock parameter was gone already (broken by `unlock`).
    Gone,
    /// Someone else holds the lock now (it was broken and taken): left as it is.
    TakenBy(Holder),
}

/// A held stack lock; see the [module documentation](self).
#[derive(Debug)]
#[must_use = "a lock is held until it is released"]
pub struct Lock {
    clients: Clients,
    stack: String,
    holder: Holder,
    released: bool,
}

impl Lock {
    /// Takes `stack`'s lock for `operation`, or fails at once when someone holds it.
    ///
    /// # Errors
    /// [`LockError::Held`] naming the holder; [`LockError::Unreadable`] when the
    /// parameter holds something else; [`LockError::Aws`] when SSM fails (the SDK has
    /// retried transient failures already).
    pub async fn acquire(clients: &Clients, stack: &Stack, operation: Operation) -> Result<Lock, LockError> {
        Lock::acquire_as(clients, &stack.name, Holder::this_process(operation)).await
    }

    /// [`Lock::acquire`] for the stack named `stack`, as `holder`.
    ///
    /// # Errors
    /// As [`Lock::acquire`].
    pub async fn acquire_as(clients: &Clients, stack: &str, holder: Holder) -> Result<Lock, LockError> {
        let name = parameter_name(stack);
        let value = serde_json::to_string(&holder).unwrap_or_default();
        let aws = |error| LockError::Aws { stack: stack.to_owned(), error: Box::new(error) };
        // A lock released between the write that failed and the read is tried again,
        // a few times: taking it is still one atomic create.
        for _ in 0..3 {
            // Throttled or failed writes are tried again: a write that did go through
            // meets its own token below.
            let put = crate::aws::retry_transient(|| clients.ssm.put_parameter(name.clone(), value.clone(), false));
            match put.await {
                Ok(()) => {
                    tracing::debug!(stack, token = %holder.token, "took the stack lock");
                    return Ok(Lock { clients: clients.clone(), stack: stack.to_owned(), holder, released: false });
                }
                Err(e) if e.kind == ErrorKind::AlreadyExists => match read(clients, stack).await? {
                    // An SDK retry of a write that had succeeded meets our own lock.
                    Some(current) if current.token == holder.token => {
                        return Ok(Lock { clients: clients.clone(), stack: stack.to_owned(), holder, released: false });
                    }
                    Some(current) => {
                        return Err(LockError::Held { stack: stack.to_owned(), holder: Box::new(current) })
                    }
                    None => continue,
                },
                Err(e) => return Err(aws(e)),
            }
        }
        Err(aws(AwsError::new(
            ErrorKind::Conflict,
            "ssm",
            "PutParameter",
            format!("{name} was taken and released three times while this process tried to take it"),
        )))
    }

    /// Who holds this lock: this process.
    #[must_use]
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Releases the lock: deletes the parameter if it still holds this lock's token.
    ///
    /// # Errors
    /// [`LockError::Aws`] when SSM fails; the lock may then still be held, and `unlock`
    /// breaks it.
    pub async fn release(mut self) -> Result<Released, LockError> {
        self.released = true;
        release(&self.clients, &self.stack, &self.holder.token).await
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (clients, stack, token) = (self.clients.clone(), self.stack.clone(), self.holder.token.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let in_flight = InFlight::start();
                runtime.spawn(async move {
                    let _in_flight = in_flight;
                    if let Err(e) = release(&clients, &stack, &token).await {
                        tracing::warn!("{e}: the lock may still be held; `unlock` breaks it");
                    }
                });
            }
            Err(_) => tracing::warn!(
                stack,
                "a stack lock was dropped outside a tokio runtime and is still held; `unlock` breaks it"
            ),
        }
    }
}

/// Releases of locks dropped without [`Lock::release`] still running, and a
/// notification each time one ends.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static SETTLED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// One background release: counted from its start until its task ends or is dropped
/// (a runtime shut down before it ran).
struct InFlight;

impl InFlight {
    fn start() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        SETTLED.notify_waiters();
    }
}

/// Waits until no lock dropped without [`Lock::release`] (its future dropped on
/// Ctrl-C, a panic) is still being released in the background. A front end calls it
/// after dropping an interrupted apply or destroy, before its runtime ends.
pub async fn wait_for_releases() {
    loop {
        let settled = SETTLED.notified();
        tokio::pin!(settled);
        // Registered before the count is read, so no release can end unnoticed.
        settled.as_mut().enable();
        if IN_FLIGHT.load(Ordering::SeqCst) == 0 {
            return;
        }
        settled.await;
    }
}

/// The current lock parameter of `stack`, parsed.
async fn read(clients: &Clients, stack: &str) -> Result<Option<Holder>, LockError> {
    let name = parameter_name(stack);
    let value = crate::aws::retry_transient(|| clients.ssm.get_parameter(name.clone()))
        .await
        .map_err(|error| LockError::Aws { stack: stack.to_owned(), error: Box::new(error) })?;
    match value {
        None => Ok(None),
        Some(v) => serde_json::from_str(&v).map(Some).map_err(|_| LockError::Unreadable {
            stack: stack.to_owned(),
            parameter: name,
            value: v.chars().take(200).collect(),
        }),
    }
}

async fn release(clients: &Clients, stack: &str, token: &str) -> Result<Released, LockError> {
    let outcome = match read(clients, stack).await? {
        None => Released::Gone,
        Some(current) if current.token != token => Released::TakenBy(current),
        Some(_) => {
            let deleted = crate::aws::retry_transient(|| clients.ssm.delete_parameter(parameter_name(stack)))
                .await
                .map_err(|error| LockError::Aws { stack: stack.to_owned(), error: Box::new(error) })?;
            if deleted {
                Released::Deleted
            } else {
                Released::Gone
            }
        }
    };
    match &outcome {
        Released::Deleted => tracing::debug!(stack, "released the stack lock"),
        Released::Gone => {
            tracing::warn!(stack, "the stack lock had been broken (by `unlock`) before this process released it")
        }
        Released::TakenBy(h) => {
            tracing::warn!(stack, "the stack lock had been broken and is now held by {h}: left as it is");
        }
    }
    Ok(outcome)
}

/// Who holds `stack`'s lock, if anyone.
///
/// # Errors
/// [`LockError::Unreadable`] when the parameter holds something else;
/// [`LockError::Aws`] when SSM fails.
pub async fn holder(clients: &Clients, stack: &Stack) -> Result<Option<Holder>, LockError> {
    read(clients, &stack.name).await
}

/// Breaks `stack`'s lock held by `shown` (the [`holder`] a person was shown): deletes
/// the lock parameter if it still holds `shown`'s token. For a lock left by a process
/// that was killed; breaking the lock of a running apply lets a second one start.
///
/// # Errors
/// [`LockError::Changed`] when the lock is gone or held by someone else now (nothing is
/// deleted); [`LockError::Aws`] when SSM fails.
pub async fn break_lock(clients: &Clients, stack: &Stack, shown: &Holder) -> Result<(), LockError> {
    match read(clients, &stack.name).await {
        Ok(Some(current)) if current.token == shown.token => {}
        Ok(now) => return Err(LockError::Changed { stack: stack.name.clone(), now: now.map(Box::new) }),
        Err(e) => return Err(e),
    }
    crate::aws::retry_transient(|| clients.ssm.delete_parameter(parameter_name(&stack.name)))
        .await
        .map_err(|error| LockError::Aws { stack: stack.name.clone(), error: Box::new(error) })?;
    tracing::info!(stack = %stack.name, "broke the lock of {shown}");
    Ok(())
}

/// Deletes `stack`'s lock parameter whatever it holds (an unreadable one included).
///
/// # Errors
/// [`LockError::Aws`] when SSM fails.
pub async fn force_break(clients: &Clients, stack: &Stack) -> Result<bool, LockError> {
    crate::aws::retry_transient(|| clients.ssm.delete_parameter(parameter_name(&stack.name)))
        .await
        .map_err(|error| LockError::Aws { stack: stack.name.clone(), error: Box::new(error) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeCloud;

    fn shop() -> Stack {
        Stack::builder("shop").region("us-west-2").build().unwrap()
    }

    fn held_by(cloud: &FakeCloud) -> Option<Holder> {
        cloud.parameter("/ecs-kit/shop/lock").map(|v| serde_json::from_str(&v).unwrap())
    }

    #[tokio::test]
    async fn a_second_acquire_fails_at_once_naming_the_holder() {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let first = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap();
        cloud.clear_call_log();
        let err = Lock::acquire(&clients, &shop(), Operation::Destroy).await.unwrap_err();
        // One write refused, one read of the holder: no waiting, no retries.
        assert_eq!(cloud.call_log(), ["PutParameter", "GetParameter"]);
        let LockError::Held { stack, holder } = &err else { panic!("{err}") };
        assert_eq!((stack.as_str(), &**holder), ("shop", first.holder()));
        let text = err.to_string();
        let me = first.holder();
        assert!(
            text.starts_with(&format!(
                "stack shop is locked by {} on {} (process {}, apply) since {}",
                me.user,
                me.host,
                std::process::id(),
                me.since_rfc3339()
            )),
            "{text}"
        );
        assert!(text.ends_with("wait for that apply to finish, or if that process is gone, run `unlock`"), "{text}");
        // The refused attempt changed nothing.
        assert_eq!(held_by(&cloud).as_ref(), Some(first.holder()));
        assert_eq!(first.release().await.unwrap(), Released::Deleted);
        assert_eq!(held_by(&cloud), None);
        // Free again: the next one takes it.
        let again = Lock::acquire(&clients, &shop(), Operation::Destroy).await.unwrap();
        assert_eq!(held_by(&cloud).unwrap().operation, "destroy");
        again.release().await.unwrap();
    }

    #[tokio::test]
    async fn only_the_token_holder_releases_and_a_stale_token_cannot_delete_a_newer_lock() {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let stale = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap();
        // A person breaks it (its process looked gone) and another apply takes it.
        let shown = holder(&clients, &shop()).await.unwrap().unwrap();
        break_lock(&clients, &shop(), &shown).await.unwrap();
        let newer = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap();
        assert_ne!(newer.holder().token, stale.holder().token);
        // The old holder's release leaves the newer lock alone.
        assert_eq!(stale.release().await.unwrap(), Released::TakenBy(newer.holder().clone()));
        assert_eq!(held_by(&cloud).as_ref(), Some(newer.holder()));
        // Breaking with what was shown before refuses: it is not that lock any more.
        let err = break_lock(&clients, &shop(), &shown).await.unwrap_err();
        assert!(matches!(&err, LockError::Changed { now: Some(h), .. } if **h == *newer.holder()), "{err}");
        assert!(err.to_string().contains("changed since it was shown (now held by"), "{err}");
        assert_eq!(held_by(&cloud).as_ref(), Some(newer.holder()));
        assert_eq!(newer.release().await.unwrap(), Released::Deleted);
        assert_eq!(holder(&clients, &shop()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_release_after_the_lock_was_broken_reports_it_gone() {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let lock = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap();
        assert!(force_break(&clients, &shop()).await.unwrap());
        assert_eq!(lock.release().await.unwrap(), Released::Gone);
        assert!(!force_break(&clients, &shop()).await.unwrap());
    }

    #[tokio::test]
    async fn a_dropped_lock_is_released_in_the_background() {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let lock = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap();
        drop(lock);
        wait_for_releases().await;
        assert_eq!(held_by(&cloud), None);
    }

    /// Two front ends waiting at once (or a test beside another) both wait for the
    /// release in flight: none returns while the lock is still there.
    #[tokio::test(start_paused = true)]
    async fn every_waiter_waits_for_the_release_in_flight() {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        let lock = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap();
        cloud.set_latency_of("GetParameter", std::time::Duration::from_secs(10));
        drop(lock);
        let first = tokio::spawn(wait_for_releases());
        tokio::task::yield_now().await;
        wait_for_releases().await;
        assert_eq!(held_by(&cloud), None);
        first.await.unwrap();
    }

    #[tokio::test]
    async fn someone_elses_parameter_is_unreadable_not_overwritten() {
        let cloud = FakeCloud::new("us-west-2");
        let clients = cloud.clients();
        cloud.set_parameter("/ecs-kit/shop/lock", "hello");
        let err = Lock::acquire(&clients, &shop(), Operation::Apply).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the lock of stack shop (/ecs-kit/shop/lock) holds `hello`, not an ecs-kit lock: delete that SSM \
             parameter, or run `unlock`"
        );
        assert_eq!(cloud.parameter("/ecs-kit/shop/lock").as_deref(), Some("hello"));
    }

    #[tokio::test]
    async fn an_ssm_failure_is_an_aws_error_of_the_lock() {
        let cloud = FakeCloud::new("us-west-2");
        cloud.fail("PutParameter", ErrorKind::AccessDenied, 1);
        let err = Lock::acquire(&cloud.clients(), &shop(), Operation::Apply).await.unwrap_err();
        assert_eq!(err.aws().map(|e| e.kind), Some(ErrorKind::AccessDenied), "{err}");
        assert!(err.to_string().starts_with("the lock of stack shop: ssm PutParameter: access denied"), "{err}");
    }

    #[test]
    fn tokens_differ() {
        let tokens: std::collections::BTreeSet<String> = (0..1000).map(|_| token()).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())));
    }
}
