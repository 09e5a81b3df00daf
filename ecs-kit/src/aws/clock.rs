//! Seconds since the epoch for an instant of `tokio::time`, so that times AWS reports
//! (deployment stages, events) compare with the engine's own clock, and a fake cloud
//! under `tokio::time::pause()` reports times that agree with it.

use std::sync::LazyLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The wall clock and the monotonic clock read together once.
static ANCHOR: LazyLock<(i64, Instant)> = LazyLock::new(|| {
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    (wall, Instant::now())
});

/// Seconds since the epoch at `at` (a `tokio::time::Instant`: virtual time in paused tests).
#[must_use]
pub fn epoch_seconds(at: tokio::time::Instant) -> i64 {
    let (wall, anchor) = *ANCHOR;
    let at = at.into_std();
    if at >= anchor {
        wall + i64::try_from(at.duration_since(anchor).as_secs()).unwrap_or(0)
    } else {
        wall - i64::try_from(anchor.duration_since(at).as_secs()).unwrap_or(0)
    }
}

/// Seconds since the epoch now, by `tokio::time`.
#[must_use]
pub fn epoch_now() -> i64 {
    epoch_seconds(tokio::time::Instant::now())
}
