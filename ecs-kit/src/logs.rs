//! `logs SERVICE`: the service's CloudWatch lines across its tasks (one stream per task
//! with the awslogs driver), oldest first, from FilterLogEvents over the service's log
//! group; [`follow`] polls with a cursor and prints each line once.
//!
//! The cursor re-reads a short window before the newest line it printed ([`LOOKBACK`]),
//! because CloudWatch may make a line visible after a later one; lines already printed
//! are recognised by their event id and skipped.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::aws::{retry_transient, AwsError, Clients, LogEvent};
use crate::graph::{Graph, ResourceType};
use crate::model::Stack;

/// How far before the newest printed line a poll reads again.
pub const LOOKBACK: Duration = Duration::from_secs(30);

/// How often `--follow` polls.
pub const POLL: Duration = Duration::from_secs(2);

/// Errors of `logs`.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// The service named is not declared.
    #[error("service `{given}` is not declared in stack {stack}: give one of {known}")]
    UnknownService {
        /// The name given.
        given: String,
        /// The stack.
        stack: String,
        /// The declared services.
        known: String,
    },
    /// The service's log group does not exist.
    #[error("the log group {group} of service {service} does not exist: run apply first")]
    NoGroup {
        /// The service.
        service: String,
        /// The group.
        group: String,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Parses a duration of `--since`: a number and a unit, `30s`, `10m`, `1h`, `2d`
/// (humantime's forms, `1h30m` too).
///
/// # Errors
/// A message naming the input and the expected form.
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration: write a number and a unit (s, m, h, d), e.g. 10m, 1h, 2d");
    let d = humantime::parse_duration(text.trim()).map_err(|_| bad())?;
    if d.is_zero() {
        return Err(bad());
    }
    Ok(d)
}

/// The log group of the declared service `service`.
///
/// # Errors
/// [`LogsError::UnknownService`] naming the declared services.
pub fn group_of(stack: &Stack, service: &str) -> Result<String, LogsError> {
    let graph = Graph::from_stack(stack).ok();
    let group = graph.as_ref().and_then(|g| {
        g.get(&format!("log-group/{service}"))
            .filter(|r| r.resource_type == ResourceType::LogGroup)
            .map(|r| r.name.clone())
    });
    group.ok_or_else(|| LogsError::UnknownService {
        given: service.to_owned(),
        stack: stack.name.clone(),
        known: stack.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// Where the next read starts, and the lines printed since that start.
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    /// The newest timestamp printed (or the start asked for), epoch milliseconds.
    newest_ms: Option<i64>,
    /// Ids of the lines printed within [`LOOKBACK`] of `newest_ms`, by timestamp.
    seen: BTreeMap<i64, Vec<String>>,
}

impl Cursor {
    /// A cursor starting `since` ago (from the beginning of the group without it).
    #[must_use]
    pub fn since(since: Option<Duration>) -> Cursor {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let start = since.map(|d| i64::try_from(now.saturating_sub(d).as_millis()).unwrap_or(i64::MAX));
        Cursor { newest_ms: start, seen: BTreeMap::new() }
    }

    /// A cursor starting at `start_ms` (epoch milliseconds).
    #[must_use]
    pub fn at(start_ms: i64) -> Cursor {
        Cursor { newest_ms: Some(start_ms), seen: BTreeMap::new() }
    }

    fn start(&self) -> Option<i64> {
        let lookback = i64::try_from(LOOKBACK.as_millis()).unwrap_or(0);
        // Before anything was printed, the start asked for; then a window before the newest.
        self.newest_ms.map(|n| if self.seen.is_empty() { n } else { n - lookback })
    }

    /// Keeps `e` unless it was printed already; remembers it.
    fn admit(&mut self, e: &LogEvent) -> bool {
        if self.seen.get(&e.timestamp_ms).is_some_and(|ids| ids.contains(&e.id)) {
            return false;
        }
        if self.seen.is_empty() && self.newest_ms.is_some_and(|n| e.timestamp_ms < n) {
            return false;
        }
        self.seen.entry(e.timestamp_ms).or_default().push(e.id.clone());
        self.newest_ms = Some(self.newest_ms.map_or(e.timestamp_ms, |n| n.max(e.timestamp_ms)));
        let lookback = i64::try_from(LOOKBACK.as_millis()).unwrap_or(0);
        let keep_from = self.newest_ms.unwrap_or_default() - lookback;
        self.seen = self.seen.split_off(&keep_from);
        true
    }
}

/// Every line of `group` after `cursor` (all pages), oldest first, each once across
/// calls; `pattern` is a CloudWatch filter pattern (a word, or a `"quoted phrase"`).
///
/// # Errors
/// The AWS failure (a missing group is [`crate::aws::ErrorKind::NotFound`]).
pub async fn read(
    clients: &Clients,
    group: &str,
    cursor: &mut Cursor,
    pattern: Option<&str>,
) -> Result<Vec<LogEvent>, AwsError> {
    let start = cursor.start();
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = retry_transient(|| {
            clients.logs.filter_log_events(group.to_owned(), start, pattern.map(str::to_owned), token.clone())
        })
        .await?;
        events.extend(page.events);
        match page.next_token {
            Some(next) if Some(&next) != token.as_ref() => token = Some(next),
            _ => break,
        }
    }
    events.sort_by_key(|e| e.timestamp_ms);
    Ok(events.into_iter().filter(|e| cursor.admit(e)).collect())
}

/// A line as `logs` prints it: the time (RFC 3339, milliseconds), the stream (which
/// task), the message.
#[must_use]
pub fn render(e: &LogEvent) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(e.timestamp_ms).unwrap_or(0));
    format!("{} {} {}", humantime::format_rfc3339_millis(at), e.stream, e.message.trim_end_matches('\n'))
}

/// Reads `group` every `every` until `stop` resolves or `line` breaks (its reader went
/// away), handing each new line to `line` once, oldest first.
///
/// # Errors
/// The first AWS failure that retries did not ride out.
pub async fn follow<S, F>(
    clients: &Clients,
    group: &str,
    cursor: &mut Cursor,
    pattern: Option<&str>,
    every: Duration,
    stop: S,
    mut line: F,
) -> Result<(), AwsError>
where
    S: std::future::Future<Output = ()>,
    F: FnMut(&LogEvent) -> std::ops::ControlFlow<()>,
{
    let mut stop = std::pin::pin!(stop);
    loop {
        let events = tokio::select! {
            read = read(clients, group, cursor, pattern) => read?,
            () = &mut stop => return Ok(()),
        };
        for e in &events {
            if line(e).is_break() {
                return Ok(());
            }
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = &mut stop => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeCloud, Timing};

    #[test]
    fn durations_parse_and_bad_ones_say_what_to_write() {
        assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_since("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert_eq!(parse_since("90s"), Ok(Duration::from_secs(90)));
        for bad in ["", "10", "ten minutes", "-5m", "0m", "5x"] {
            assert_eq!(
                parse_since(bad),
                Err(format!("`{bad}` is not a duration: write a number and a unit (s, m, h, d), e.g. 10m, 1h, 2d")),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_undeclared_service_is_named_with_the_declared_ones() {
        let stack = crate::model::seed().build().unwrap();
        assert_eq!(group_of(&stack, "products").unwrap(), "/ecs/mcsv-poc/products");
        let e = group_of(&stack, "nope").unwrap_err();
        assert_eq!(
            e.to_string(),
            "service `nope` is not declared in stack mcsv-poc: give one of product-web, products"
        );
    }

    async fn cloud_with_group() -> (FakeCloud, Clients) {
        let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
        let clients = cloud.clients();
        clients.logs.create_log_group("/ecs/s/web".into(), crate::aws::Tags::new()).await.unwrap();
        (cloud, clients)
    }

    #[tokio::test]
    async fn lines_of_every_task_come_oldest_first_across_pages_and_never_twice() {
        let (cloud, clients) = cloud_with_group().await;
        // More lines than a page, written by two tasks out of order.
        for i in 0..120 {
            let stream = if i % 2 == 0 { "web/web/task-a" } else { "web/web/task-b" };
            assert!(cloud.put_log_line(
                "/ecs/s/web",
                stream,
                1_000_000 + 1000 * (119 - i),
                &format!("line {}", 119 - i)
            ));
        }
        let mut cursor = Cursor::at(1_000_000 + 1000 * 20);
        let first = read(&clients, "/ecs/s/web", &mut cursor, None).await.unwrap();
        let messages: Vec<&str> = first.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 100, "from line 20 on, all pages");
        assert_eq!((messages[0], messages[99]), ("line 20", "line 119"));
        assert!(first.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
        assert_eq!(first.iter().filter(|e| e.stream.ends_with("task-a")).count(), 50);
        // Nothing new: nothing again. A new line, and one late within the look-back window.
        assert!(read(&clients, "/ecs/s/web", &mut cursor, None).await.unwrap().is_empty());
        cloud.put_log_line("/ecs/s/web", "web/web/task-a", 1_000_000 + 1000 * 130, "new");
        cloud.put_log_line("/ecs/s/web", "web/web/task-b", 1_000_000 + 1000 * 115, "late");
        let next: Vec<String> =
            read(&clients, "/ecs/s/web", &mut cursor, None).await.unwrap().into_iter().map(|e| e.message).collect();
        assert_eq!(next, ["late", "new"]);
        assert_eq!(render(&first[0]), "1970-01-01T00:17:00.000Z web/web/task-b line 20");
    }

    #[tokio::test]
    async fn a_filter_keeps_matching_lines_and_a_missing_group_is_not_found() {
        let (cloud, clients) = cloud_with_group().await;
        cloud.put_log_line("/ecs/s/web", "t1", 1, "GET /health 200");
        cloud.put_log_line("/ecs/s/web", "t1", 2, "POST /orders 500 boom");
        let mut cursor = Cursor::default();
        let hits = read(&clients, "/ecs/s/web", &mut cursor, Some("\"500 boom\"")).await.unwrap();
        assert_eq!(hits.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["POST /orders 500 boom"]);
        let e = read(&clients, "/ecs/s/nope", &mut Cursor::default(), None).await.unwrap_err();
        assert_eq!(e.kind, crate::aws::ErrorKind::NotFound, "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn follow_streams_lines_as_they_come_once_each_until_stopped() {
        let (cloud, clients) = cloud_with_group().await;
        cloud.put_log_line("/ecs/s/web", "t1", 10, "before");
        let cloud = std::sync::Arc::new(cloud);
        let writer = {
            let cloud = std::sync::Arc::clone(&cloud);
            tokio::spawn(async move {
                for (i, at) in [(1, 3), (2, 7)] {
                    tokio::time::sleep(Duration::from_secs(at)).await;
                    cloud.put_log_line("/ecs/s/web", "t2", 10 + i, &format!("line {i}"));
                }
            })
        };
        let mut lines = Vec::new();
        let mut cursor = Cursor::at(0);
        let stop = tokio::time::sleep(Duration::from_secs(20));
        let keep = |e: &LogEvent, lines: &mut Vec<String>| {
            lines.push(e.message.clone());
            std::ops::ControlFlow::Continue(())
        };
        follow(&clients, "/ecs/s/web", &mut cursor, None, POLL, stop, |e| keep(e, &mut lines)).await.unwrap();
        writer.await.unwrap();
        assert_eq!(lines, ["before", "line 1", "line 2"]);
        let polls = cloud.call_log().iter().filter(|op| *op == "FilterLogEvents").count();
        assert!((9..=11).contains(&polls), "a poll every 2 s for 20 s: {polls}");
    }

    #[tokio::test(start_paused = true)]
    async fn follow_ends_when_its_reader_goes_away() {
        let (cloud, clients) = cloud_with_group().await;
        cloud.put_log_line("/ecs/s/web", "t1", 10, "before");
        let started = tokio::time::Instant::now();
        let stop = tokio::time::sleep(Duration::from_secs(3600));
        let gone = |_: &LogEvent| std::ops::ControlFlow::Break(());
        follow(&clients, "/ecs/s/web", &mut Cursor::at(0), None, POLL, stop, gone).await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO, "no poll after the first line could not be written");
        assert_eq!(cloud.call_log().iter().filter(|op| *op == "FilterLogEvents").count(), 1);
    }
}
