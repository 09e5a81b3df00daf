//! How apply and destroy show progress: live bars on a terminal (indicatif), plain
//! timestamped lines elsewhere, JSON lines for machines; and colour on terminals only.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedSender;

use crate::graph::LogicalId;
use crate::walk::{Event, Observer};

/// Whether to colour output written to a stream that `is_terminal`: never when
/// `NO_COLOR` is set to anything non-empty (<https://no-color.org>).
#[must_use]
pub fn colour_wanted(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` (a rendered plan) with each change line coloured by its action, and the
/// summary line bold.
#[must_use]
pub fn paint_plan(text: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let style = |line: &str| -> Option<Style> {
        let glyph = line.split_whitespace().next()?;
        let colour = match glyph {
            "+" => AnsiColor::Green,
            "~" => AnsiColor::Yellow,
            "-/+" | "+/-" => AnsiColor::Magenta,
            "-" => AnsiColor::Red,
            "conflict:" => AnsiColor::Red,
            "Plan:" | "No" | "Destroy:" | "Apply:" => return Some(Style::new().bold()),
            _ => return None,
        };
        Some(Style::new().fg_color(Some(colour.into())))
    };
    text.lines()
        .map(|line| match style(line) {
            Some(s) => format!("{}{line}{}\n", s.render(), s.render_reset()),
            None => format!("{line}\n"),
        })
        .collect()
}

/// Seconds since `start`, for lines and bars.
fn secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// One line of text per event, for people.
fn describe(event: &Event, actions: &BTreeMap<LogicalId, String>) -> String {
    let action = |id: &LogicalId| actions.get(id).map(String::as_str).unwrap_or("change");
    match event {
        Event::Started { id } => format!("{id}: {} started", action(id)),
        Event::Retrying { id, attempt, error, wait_ms } => {
            format!("{id}: attempt {attempt} failed ({error}); retrying in {:.1}s", *wait_ms as f64 / 1000.0)
        }
        Event::Done { id, elapsed_ms } => format!("{id}: {} done in {:.1}s", action(id), *elapsed_ms as f64 / 1000.0),
        Event::Failed { id, error } => format!("{id}: FAILED: {error}"),
        Event::Skipped { id, because } => format!("{id}: skipped ({because} failed)"),
        Event::Waiting { id, what } => format!("{id}: waiting for {what}"),
        Event::Note { id, message } => format!("{id}: {message}"),
    }
}

/// A line of progress and the stream it belongs on.
pub(crate) enum Line {
    /// Standard output (JSON events).
    Out(String),
    /// Standard error (lines for people).
    Err(String),
}

/// Where progress goes.
#[derive(Clone)]
pub(crate) enum Progress {
    /// Plain timestamped lines, for standard error.
    Lines { start: Instant, actions: Arc<BTreeMap<LogicalId, String>>, tx: UnboundedSender<Line> },
    /// One JSON object per line, for standard output.
    Json { start: Instant, tx: UnboundedSender<Line> },
    /// A live line per step in flight on the terminal.
    Bars(Arc<Bars>),
}

/// indicatif state: the bars of the steps in flight.
pub(crate) struct Bars {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<LogicalId, ProgressBar>>,
    actions: BTreeMap<LogicalId, String>,
    colour: bool,
}

impl Progress {
    /// The display for this run: JSON when asked, bars when a person watches a terminal,
    /// lines otherwise; lines and JSON go to `tx`. `actions` names each step's action
    /// (`create`, `update`, `delete`, ...).
    pub(crate) fn new(
        json: bool,
        bars: bool,
        colour: bool,
        actions: BTreeMap<LogicalId, String>,
        tx: UnboundedSender<Line>,
    ) -> Progress {
        if json {
            return Progress::Json { start: Instant::now(), tx };
        }
        if bars {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            return Progress::Bars(Arc::new(Bars { multi, bars: Mutex::new(BTreeMap::new()), actions, colour }));
        }
        Progress::Lines { start: Instant::now(), actions: Arc::new(actions), tx }
    }

    /// The JSON line of `event`, with the seconds since the start.
    pub(crate) fn json_line(start: Instant, event: &Event) -> String {
        let mut value = serde_json::to_value(event).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("t".into(), serde_json::json!((secs(start) * 1000.0).round() / 1000.0));
        }
        value.to_string()
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event) {
        match self {
            // A done line follows every start: plain lines leave starts out.
            Progress::Lines { .. } if matches!(event, Event::Started { .. }) => {}
            Progress::Lines { start, actions, tx } => {
                let _ = tx.send(Line::Err(format!("[{:7.1}s] {}", secs(*start), describe(event, actions))));
            }
            Progress::Json { start, tx } => {
                let _ = tx.send(Line::Out(Progress::json_line(*start, event)));
            }
            Progress::Bars(b) => b.event(event),
        }
    }
}

impl Bars {
    fn style() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed:>4}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
    }

    fn mark(&self, ok: bool) -> String {
        use anstyle::{AnsiColor, Style};
        let (glyph, colour) = if ok { ("✓", AnsiColor::Green) } else { ("✗", AnsiColor::Red) };
        if self.colour {
            let s = Style::new().fg_color(Some(colour.into())).bold();
            format!("{}{glyph}{}", s.render(), s.render_reset())
        } else {
            glyph.to_owned()
        }
    }

    fn event(&self, event: &Event) {
        let mut bars = self.bars.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Event::Started { id } => {
                let action = self.actions.get(id).map(String::as_str).unwrap_or("change");
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(Bars::style());
                bar.set_prefix(format!("{:<32} {:<8}", id.as_str(), action));
                bar.set_message("calling AWS");
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(id.clone(), bar);
            }
            Event::Waiting { id, what } => {
                if let Some(bar) = bars.get(id) {
                    bar.set_message(format!("waiting for {what}"));
                }
            }
            Event::Retrying { id, error, wait_ms, .. } => {
                if let Some(bar) = bars.get(id) {
                    bar.set_message(format!("retrying in {:.1}s: {error}", *wait_ms as f64 / 1000.0));
                }
            }
            Event::Note { id, message } => {
                let _ = self.multi.println(format!("  {id}: {message}"));
            }
            Event::Done { id, .. } | Event::Failed { id, .. } | Event::Skipped { id, .. } => {
                if let Some(bar) = bars.remove(id) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let ok = matches!(event, Event::Done { .. });
                let _ = self.multi.println(format!("{} {}", self.mark(ok), describe(event, &self.actions)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_painted_by_action() {
        let text = "Stack s:\n\n  + vpc  ec2:vpc  new\n  ~ service/a  ecs:service  image\n  - role/x  iam:role  gone\n\nPlan: 1 to add.\n";
        let painted = paint_plan(text);
        assert!(painted.contains("\u{1b}[32m  + vpc"), "{painted:?}");
        assert!(painted.contains("\u{1b}[33m  ~ service/a"), "{painted:?}");
        assert!(painted.contains("\u{1b}[31m  - role/x"), "{painted:?}");
        assert!(painted.contains("\u{1b}[1mPlan: 1 to add."), "{painted:?}");
        assert!(painted.contains("\nStack s:\n") || painted.starts_with("Stack s:\n"), "{painted:?}");
    }

    #[test]
    fn json_lines_carry_the_event_and_time() {
        let line =
            Progress::json_line(Instant::now(), &Event::Waiting { id: LogicalId::new("service/a"), what: "x".into() });
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "waiting");
        assert_eq!(v["id"], "service/a");
        assert!(v["t"].as_f64().unwrap() >= 0.0);
    }

    #[test]
    fn lines_name_the_action() {
        let actions = BTreeMap::from([(LogicalId::new("vpc"), "create".to_owned())]);
        assert_eq!(describe(&Event::Started { id: LogicalId::new("vpc") }, &actions), "vpc: create started");
        assert_eq!(
            describe(&Event::Done { id: LogicalId::new("vpc"), elapsed_ms: 1500 }, &actions),
            "vpc: create done in 1.5s"
        );
    }
}
