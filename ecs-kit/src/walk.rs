//! Running a DAG of steps concurrently: the executor's core, independent of AWS.
//!
//! A step starts when all its dependencies are done, ready steps in id order (so runs
//! are reproducible). `parallelism` bounds the steps *talking to AWS* at once, not the
//! steps alive: a step holds one of the `parallelism` slots while it runs, and lets go
//! of it while it only waits ([`idle`]: between the polls of a wait for AWS, during a
//! retry's backoff), so fifty services waiting to be stable do not hold up the rest of
//! the walk while the calls in flight stay bounded (AWS's API rate). A step that fails skips its
//! dependents, transitively; everything else that can still run does run. Retryable
//! failures are retried with exponential backoff and deterministic jitter, within a time
//! budget. Every start, retry, end, failure and skip is reported to an [`Observer`].
//!
//! ```
//! use ecs_kit::walk::{walk, Step, StepError, WalkOptions};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let steps = vec![Step::new("vpc", &[], ()), Step::new("subnet/public/0", &["vpc"], ())];
//! let report = walk(steps, &WalkOptions::default(), &(), |_step: &Step<()>| async { Ok::<(), StepError>(()) }).await;
//! assert!(report.succeeded());
//! # });
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::graph::LogicalId;

/// One unit of work and what it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<T> {
    /// Its id.
    pub id: LogicalId,
    /// Steps that must be done first (ids not among the steps count as done).
    pub deps: Vec<LogicalId>,
    /// What the runner needs to do the work.
    pub payload: T,
}

impl<T> Step<T> {
    /// A step `id` after `deps`.
    #[must_use]
    pub fn new(id: &str, deps: &[&str], payload: T) -> Self {
        Step { id: LogicalId::new(id), deps: deps.iter().map(|d| LogicalId::new(*d)).collect(), payload }
    }
}

/// Why a step's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Worth another attempt (throttling, AWS not consistent yet, a dependency draining).
    #[error("{0}")]
    Retryable(String),
    /// Final (invalid request, access denied, ...).
    #[error("{0}")]
    Fatal(String),
    /// Something the step needs is not found: worth retrying for AWS's eventual
    /// consistency (a fresh object not visible yet), but only for [`MISSING_WINDOW`]
    /// in a row, not the whole budget: a truly missing dependency fails early.
    #[error("{0}")]
    Missing(String),
}

/// How long a step retries while something it needs is not found.
pub const MISSING_WINDOW: Duration = Duration::from_secs(60);

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Done, after `attempts` attempts.
    Done {
        /// Attempts made.
        attempts: u32,
    },
    /// Failed for good.
    Failed {
        /// The last error.
        error: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Not run because a dependency failed or was skipped.
    Skipped {
        /// The failed step at the root of it.
        because: LogicalId,
    },
    /// Not run because the walk was stopped first.
    NotStarted,
}

/// What the walk reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// A step started.
    Started {
        /// Step.
        id: LogicalId,
    },
    /// An attempt failed and will be retried after `wait`.
    Retrying {
        /// Step.
        id: LogicalId,
        /// The attempt that failed (1 = the first).
        attempt: u32,
        /// Its error.
        error: String,
        /// Time before the next attempt.
        wait_ms: u64,
    },
    /// A step is done.
    Done {
        /// Step.
        id: LogicalId,
        /// Time it took, retries included.
        elapsed_ms: u64,
    },
    /// A step failed for good.
    Failed {
        /// Step.
        id: LogicalId,
        /// Its error.
        error: String,
    },
    /// A step will not run.
    Skipped {
        /// Step.
        id: LogicalId,
        /// The failed step at the root of it.
        because: LogicalId,
    },
    /// A running step waits for AWS (reported by the step through [`waiting`]).
    Waiting {
        /// Step.
        id: LogicalId,
        /// What it waits for, e.g. `service products to be stable`.
        what: String,
    },
    /// A running step has news, e.g. a new ECS service event (reported through [`note`]).
    Note {
        /// Step.
        id: LogicalId,
        /// The news.
        message: String,
    },
}

tokio::task_local! {
    /// The step the current task runs, where its news go, and its slot.
    static CURRENT: (LogicalId, Arc<dyn Observer>, Arc<Slot>);
}

/// A running step's share of the walk's `parallelism`: held while it works, given back
/// while it is [`idle`].
struct Slot {
    slots: Arc<Semaphore>,
    permit: std::sync::Mutex<Option<OwnedSemaphorePermit>>,
}

impl Slot {
    fn set(&self, permit: Option<OwnedSemaphorePermit>) -> Option<OwnedSemaphorePermit> {
        std::mem::replace(&mut *self.permit.lock().unwrap_or_else(std::sync::PoisonError::into_inner), permit)
    }
}

/// Awaits `wait` (a sleep between polls, a backoff) without holding one of the walk's
/// `parallelism` slots: other steps make their calls meanwhile; the step takes a slot
/// again, in turn, before it goes on. Outside a walk it just awaits `wait`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// use std::time::Duration;
/// use ecs_kit::walk::{idle, walk, Step, StepError, WalkOptions};
/// let steps: Vec<Step<()>> = (0..4).map(|i| Step::new(&format!("service/{i}"), &[], ())).collect();
/// let start = tokio::time::Instant::now();
/// let options = WalkOptions { parallelism: 1, ..WalkOptions::default() };
/// walk(steps, &options, &(), |_s: &Step<()>| async {
///     idle(tokio::time::sleep(Duration::from_secs(60))).await; // waits for AWS
///     Ok::<(), StepError>(())
/// })
/// .await;
/// // Four waits side by side, though one step at a time may call AWS.
/// assert_eq!(start.elapsed(), Duration::from_secs(60));
/// # });
/// ```
pub async fn idle<F: Future>(wait: F) -> F::Output {
    let Ok(slot) = CURRENT.try_with(|(_, _, slot)| Arc::clone(slot)) else { return wait.await };
    drop(slot.set(None));
    let out = wait.await;
    // The walk never closes its semaphore.
    let permit = Arc::clone(&slot.slots).acquire_owned().await.ok();
    slot.set(permit);
    out
}

/// Reports, from inside a running step, that it waits for `what`; outside a walk,
/// nothing happens.
pub fn waiting(what: &str) {
    let _ =
        CURRENT.try_with(|(id, observer, _)| observer.event(&Event::Waiting { id: id.clone(), what: what.to_owned() }));
}

/// Reports, from inside a running step, news such as an ECS service event; outside a
/// walk, nothing happens.
pub fn note(message: &str) {
    let _ = CURRENT
        .try_with(|(id, observer, _)| observer.event(&Event::Note { id: id.clone(), message: message.to_owned() }));
}

/// Receives the walk's events (a progress display, a JSON log, a test recorder).
pub trait Observer: Send + Sync {
    /// One event.
    fn event(&self, event: &Event);
}

/// Ignores every event.
impl Observer for () {
    fn event(&self, _event: &Event) {}
}

/// Backoff of retryable failures: delays grow from `initial` by doubling up to
/// `max_delay`, each drawn in `[delay/2, delay]`; attempts stop when the next one would
/// start after `budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First delay.
    pub initial: Duration,
    /// Longest delay.
    pub max_delay: Duration,
    /// Time after a step's first attempt past which it is not retried.
    pub budget: Duration,
    /// Seed of the jitter: the same seed gives the same delays.
    pub seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(15 * 60),
            seed: 0,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based) of step `id`.
    #[must_use]
    pub fn delay(&self, id: &LogicalId, attempt: u32) -> Duration {
        let doubled = self.initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let cap = doubled.min(self.max_delay);
        // SplitMix64 of the seed, the id and the attempt: deterministic jitter.
        let mut x = self.seed ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in id.as_str().bytes() {
            x = x.rotate_left(5) ^ u64::from(b);
        }
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        let half = cap / 2;
        let span = u64::try_from((cap - half).as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(if span == 0 { 0 } else { x % (span + 1) })
    }
}

/// Options of [`walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    /// Steps talking to AWS at once (at least 1); steps that only wait ([`idle`]) do
    /// not count.
    pub parallelism: usize,
    /// Retries of retryable failures.
    pub retry: RetryPolicy,
    /// Stop everything, as a crash would, once this many steps are done (tests of
    /// interrupted runs).
    pub stop_after: Option<usize>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions { parallelism: 10, retry: RetryPolicy::default(), stop_after: None }
    }
}

/// How every step ended.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Report {
    /// Outcome per step.
    pub outcomes: BTreeMap<LogicalId, Outcome>,
}

impl Report {
    /// How many attempts were retries (throttling, outages, AWS not consistent yet, a
    /// dependency draining), over every step.
    #[must_use]
    pub fn retries(&self) -> u32 {
        self.outcomes
            .values()
            .map(|o| match o {
                Outcome::Done { attempts } | Outcome::Failed { attempts, .. } => attempts.saturating_sub(1),
                _ => 0,
            })
            .sum()
    }

    /// Whether every step is done.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.outcomes.values().all(|o| matches!(o, Outcome::Done { .. }))
    }

    /// Ids of the steps with outcomes matching `pick`.
    pub fn ids(&self, pick: impl Fn(&Outcome) -> bool) -> Vec<&LogicalId> {
        self.outcomes.iter().filter(|(_, o)| pick(o)).map(|(id, _)| id).collect()
    }
}

/// Runs one step with retries; returns its outcome.
async fn attempt<T, F, Fut>(step: &Step<T>, retry: RetryPolicy, observer: &dyn Observer, run: &F) -> Outcome
where
    F: Fn(&Step<T>) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let start = Instant::now();
    let mut attempts = 0;
    let mut missing_since: Option<Instant> = None;
    loop {
        attempts += 1;
        let result = run(step).await;
        // Not found for the whole window in a row: as final as any other error.
        let result = match result {
            Err(StepError::Missing(error)) => {
                let since = *missing_since.get_or_insert_with(Instant::now);
                let wait = retry.delay(&step.id, attempts);
                if since.elapsed() + wait > MISSING_WINDOW {
                    let error = format!("{error} (still not found after {:?})", since.elapsed());
                    Err(StepError::Fatal(error))
                } else {
                    Err(StepError::Retryable(error))
                }
            }
            other => {
                missing_since = None;
                other
            }
        };
        match result {
            Ok(()) => {
                let elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                observer.event(&Event::Done { id: step.id.clone(), elapsed_ms });
                return Outcome::Done { attempts };
            }
            Err(StepError::Retryable(error)) => {
                let wait = retry.delay(&step.id, attempts);
                if start.elapsed() + wait > retry.budget {
                    let error = format!("{error} (gave up after {attempts} attempts in {:?})", start.elapsed());
                    observer.event(&Event::Failed { id: step.id.clone(), error: error.clone() });
                    return Outcome::Failed { error, attempts };
                }
                let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                observer.event(&Event::Retrying { id: step.id.clone(), attempt: attempts, error, wait_ms });
                idle(tokio::time::sleep(wait)).await;
            }
            Err(StepError::Fatal(error) | StepError::Missing(error)) => {
                observer.event(&Event::Failed { id: step.id.clone(), error: error.clone() });
                return Outcome::Failed { error, attempts };
            }
        }
    }
}

/// Runs `steps` with `run`, as the module describes.
pub async fn walk<T, F, Fut, O>(steps: Vec<Step<T>>, options: &WalkOptions, observer: &O, run: F) -> Report
where
    T: Send + Sync + 'static,
    F: Fn(&Step<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), StepError>> + Send,
    O: Observer + Clone + 'static,
{
    let ids: BTreeSet<LogicalId> = steps.iter().map(|s| s.id.clone()).collect();
    // Unfinished dependencies per step not started yet; ready ones in id order.
    let mut waiting: BTreeMap<LogicalId, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<LogicalId, Vec<LogicalId>> = BTreeMap::new();
    for s in &steps {
        let deps: BTreeSet<&LogicalId> = s.deps.iter().filter(|d| ids.contains(*d)).collect();
        for d in &deps {
            dependents.entry((*d).clone()).or_default().push(s.id.clone());
        }
        waiting.insert(s.id.clone(), deps.len());
    }
    let mut ready: BTreeSet<LogicalId> = waiting.iter().filter(|(_, n)| **n == 0).map(|(id, _)| id.clone()).collect();
    let mut pending: BTreeMap<LogicalId, Step<T>> = steps.into_iter().map(|s| (s.id.clone(), s)).collect();
    let run = Arc::new(run);
    let observer = observer.clone();
    let mut report = Report::default();
    let mut running: JoinSet<(LogicalId, Outcome)> = JoinSet::new();
    let mut done = 0usize;
    let slots = Arc::new(Semaphore::new(options.parallelism.max(1)));
    let start = |id: LogicalId,
                 permit: OwnedSemaphorePermit,
                 waiting: &mut BTreeMap<LogicalId, usize>,
                 pending: &mut BTreeMap<LogicalId, Step<T>>,
                 running: &mut JoinSet<(LogicalId, Outcome)>| {
        waiting.remove(&id);
        let step = pending.remove(&id).expect("a ready step is pending");
        let (run, observer, retry) = (Arc::clone(&run), observer.clone(), options.retry);
        observer.event(&Event::Started { id: id.clone() });
        let slot = Arc::new(Slot { slots: Arc::clone(&slots), permit: std::sync::Mutex::new(Some(permit)) });
        let current: (LogicalId, Arc<dyn Observer>, Arc<Slot>) = (id, Arc::new(observer.clone()), slot);
        running.spawn(CURRENT.scope(current, async move {
            let outcome = attempt(&step, retry, &observer, run.as_ref()).await;
            (step.id, outcome)
        }));
    };
    loop {
        // Start ready steps, smallest id first, while slots are free.
        while let Some(id) = ready.first().cloned() {
            let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else { break };
            ready.remove(&id);
            start(id, permit, &mut waiting, &mut pending, &mut running);
        }
        let joined = if running.is_empty() {
            break;
        } else if ready.is_empty() {
            running.join_next().await
        } else {
            // A slot may come free from a step going idle, not only from one ending.
            tokio::select! {
                biased;
                joined = running.join_next() => joined,
                permit = Arc::clone(&slots).acquire_owned() => {
                    let id = ready.pop_first().expect("a ready step");
                    start(id, permit.expect("the walk never closes its semaphore"), &mut waiting, &mut pending, &mut running);
                    continue;
                }
            }
        };
        let Some(joined) = joined else { break };
        let (id, outcome) = joined.expect("steps do not panic");
        let ok = matches!(outcome, Outcome::Done { .. });
        report.outcomes.insert(id.clone(), outcome);
        if ok {
            done += 1;
            for d in dependents.get(&id).into_iter().flatten() {
                if let Some(n) = waiting.get_mut(d) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(d.clone());
                    }
                }
            }
            if options.stop_after == Some(done) {
                running.abort_all();
                while let Some(Ok((id, outcome))) = running.join_next().await {
                    report.outcomes.insert(id, outcome);
                }
                break;
            }
        } else {
            // Skip everything downstream, once, naming the root failure.
            let mut stack = dependents.get(&id).cloned().unwrap_or_default();
            while let Some(d) = stack.pop() {
                if waiting.remove(&d).is_some() {
                    pending.remove(&d);
                    ready.remove(&d);
                    observer.event(&Event::Skipped { id: d.clone(), because: id.clone() });
                    report.outcomes.insert(d.clone(), Outcome::Skipped { because: id.clone() });
                    stack.extend(dependents.get(&d).cloned().unwrap_or_default());
                }
            }
        }
    }
    for id in pending.into_keys() {
        report.outcomes.entry(id).or_insert(Outcome::NotStarted);
    }
    report
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;

    /// Records events in order.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Event>>>);

    impl Observer for Recorder {
        fn event(&self, event: &Event) {
            self.0.lock().unwrap().push(event.clone());
        }
    }

    impl Recorder {
        fn started(&self) -> Vec<String> {
            self.0
                .lock()
                .unwrap()
                .iter()
                .filter_map(|e| if let Event::Started { id } = e { Some(id.to_string()) } else { None })
                .collect()
        }
    }

    fn diamond() -> Vec<Step<u64>> {
        // vpc -> a, b -> c; d is independent. Payload: milliseconds of work.
        vec![
            Step::new("vpc", &[], 10),
            Step::new("a", &["vpc"], 30),
            Step::new("b", &["vpc"], 10),
            Step::new("c", &["a", "b"], 10),
            Step::new("d", &[], 50),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn steps_start_after_their_dependencies_in_id_order() {
        let recorder = Recorder::default();
        let options = WalkOptions { parallelism: 10, ..WalkOptions::default() };
        let started = Instant::now();
        let report = walk(diamond(), &options, &recorder, |s: &Step<u64>| {
            let ms = s.payload;
            async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(())
            }
        })
        .await;
        assert!(report.succeeded(), "{report:?}");
        assert_eq!(recorder.started(), ["d", "vpc", "a", "b", "c"]);
        // c waited for a (the slower of its dependencies): vpc 10 + a 30 + c 10, while d
        // ran alongside for 50.
        assert_eq!(started.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_parallelism_steps_run_at_once() {
        let now = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let steps: Vec<Step<()>> = (0..20).map(|i| Step::new(&format!("s{i:02}"), &[], ())).collect();
        let (n, m) = (Arc::clone(&now), Arc::clone(&max));
        let started = Instant::now();
        let report =
            walk(steps, &WalkOptions { parallelism: 3, ..WalkOptions::default() }, &(), move |_s: &Step<()>| {
                let (n, m) = (Arc::clone(&n), Arc::clone(&m));
                async move {
                    let running = n.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(running, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    n.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }
            })
            .await;
        assert!(report.succeeded());
        assert_eq!(max.load(Ordering::SeqCst), 3);
        // 20 one-second steps, 3 at a time: 7 rounds.
        assert_eq!(started.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn steps_that_wait_for_aws_hold_no_slot_and_calls_stay_bounded() {
        // 50 steps: a one-second call, a 60 s wait for AWS, a one-second call. With the
        // 10 slots held for whole steps this took 5 rounds of 62 s; now the waits
        // overlap and only the calls queue, 10 at a time.
        let busy = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let steps: Vec<Step<()>> = (0..50).map(|i| Step::new(&format!("service/{i:02}"), &[], ())).collect();
        let (b, m) = (Arc::clone(&busy), Arc::clone(&max));
        let started = Instant::now();
        let report = walk(steps, &WalkOptions::default(), &(), move |_s: &Step<()>| {
            let (b, m) = (Arc::clone(&b), Arc::clone(&m));
            async move {
                let call = || async {
                    m.fetch_max(b.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    b.fetch_sub(1, Ordering::SeqCst);
                };
                call().await;
                idle(tokio::time::sleep(Duration::from_secs(60))).await;
                call().await;
                Ok(())
            }
        })
        .await;
        assert!(report.succeeded(), "{report:?}");
        assert_eq!(max.load(Ordering::SeqCst), 10, "calls in flight");
        // First calls in 5 rounds of 1 s, the waits side by side, each round's second
        // call 60 s after its first: 4 s + 1 s + 60 s + 1 s.
        assert_eq!(started.elapsed(), Duration::from_secs(66));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_skips_its_dependents_once_and_the_rest_runs() {
        let recorder = Recorder::default();
        let report = walk(diamond(), &WalkOptions::default(), &recorder, |s: &Step<u64>| {
            let fail = s.id.as_str() == "a";
            async move {
                if fail {
                    Err(StepError::Fatal("InvalidParameter: nope".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(!report.succeeded());
        assert_eq!(
            report.outcomes[&LogicalId::new("a")],
            Outcome::Failed { error: "InvalidParameter: nope".into(), attempts: 1 }
        );
        assert_eq!(report.outcomes[&LogicalId::new("c")], Outcome::Skipped { because: LogicalId::new("a") });
        assert_eq!(
            report.ids(|o| matches!(o, Outcome::Done { .. })),
            [&LogicalId::new("b"), &LogicalId::new("d"), &LogicalId::new("vpc")]
        );
        let skips = recorder.0.lock().unwrap().iter().filter(|e| matches!(e, Event::Skipped { .. })).count();
        assert_eq!(skips, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_failures_back_off_until_success_or_budget() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let retry = RetryPolicy {
            initial: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(60),
            seed: 7,
        };
        let recorder = Recorder::default();
        let started = Instant::now();
        let report = walk(
            vec![Step::new("nat-gateway/0", &[], ())],
            &WalkOptions { retry, ..WalkOptions::default() },
            &recorder,
            move |_s: &Step<()>| {
                let n = c.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        Err(StepError::Retryable("Throttling".into()))
                    } else {
                        Ok(())
                    }
                }
            },
        )
        .await;
        assert_eq!(report.outcomes[&LogicalId::new("nat-gateway/0")], Outcome::Done { attempts: 3 });
        let waits: Vec<u64> = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| if let Event::Retrying { wait_ms, .. } = e { Some(*wait_ms) } else { None })
            .collect();
        assert_eq!(waits.len(), 2);
        assert!((500..=1000).contains(&waits[0]) && (1000..=2000).contains(&waits[1]), "{waits:?}");
        assert_eq!(started.elapsed(), Duration::from_millis(waits[0] + waits[1]));

        // Never succeeding: gives up within the budget; fatal errors are not retried.
        let report = walk(
            vec![Step::new("x", &[], ())],
            &WalkOptions { retry, ..WalkOptions::default() },
            &(),
            |_s: &Step<()>| async { Err(StepError::Retryable("DependencyViolation".into())) },
        )
        .await;
        let Outcome::Failed { error, attempts } = &report.outcomes[&LogicalId::new("x")] else { panic!("{report:?}") };
        assert!(error.starts_with("DependencyViolation (gave up after"), "{error}");
        // Delays of 1, 2, 4, then 8 s, each jittered down to half: between 11 attempts
        // (full delays) and 18 (half delays) fit in 60 s.
        assert!((11..=18).contains(attempts), "{attempts}");
    }

    #[test]
    fn jitter_is_deterministic_and_bounded() {
        let p = RetryPolicy {
            initial: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
            budget: Duration::from_secs(60),
            seed: 1,
        };
        let id = LogicalId::new("service/web");
        for attempt in 1..10 {
            let d = p.delay(&id, attempt);
            assert_eq!(d, p.delay(&id, attempt));
            let cap = Duration::from_secs(2 * (1 << (attempt - 1))).min(Duration::from_secs(10));
            assert!(d >= cap / 2 && d <= cap, "{attempt}: {d:?}");
        }
        assert_ne!(p.delay(&id, 3), RetryPolicy { seed: 2, ..p }.delay(&id, 3));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_after_k_steps_leaves_the_rest_not_started() {
        for k in 1..=5 {
            let report = walk(
                diamond(),
                &WalkOptions { parallelism: 1, stop_after: Some(k), ..WalkOptions::default() },
                &(),
                |_s: &Step<u64>| async { Ok(()) },
            )
            .await;
            assert_eq!(report.ids(|o| matches!(o, Outcome::Done { .. })).len(), k, "{report:?}");
            assert_eq!(report.ids(|o| *o == Outcome::NotStarted).len(), 5 - k);
        }
    }
}
