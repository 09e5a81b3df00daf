//! Counts of AWS calls per service and operation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One line of a [`CallCounter`] snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct CallCount {
    /// AWS service, e.g. `EC2`.
    pub service: String,
    /// Operation, e.g. `DescribeVpcs`.
    pub operation: String,
    /// Calls made (every page of a paginated call counts).
    pub calls: u64,
}

/// A shared counter of AWS calls; clones count into the same table.
///
/// ```
/// let counter = ecs_kit::aws::CallCounter::default();
/// counter.record("EC2", "DescribeVpcs");
/// counter.record("EC2", "DescribeVpcs");
/// assert_eq!(counter.total(), 2);
/// assert_eq!(counter.snapshot()[0].calls, 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    table: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    /// Time spent in calls (waiting for AWS's answers), per service.
    time: Arc<Mutex<BTreeMap<String, Duration>>>,
}

/// Calls of one AWS service and the time spent waiting for their answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServiceCalls {
    /// AWS service, e.g. `EC2`.
    pub service: String,
    /// Calls made.
    pub calls: u64,
    /// Time from each call's start to its answer, summed (calls in flight together
    /// each count).
    #[serde(serialize_with = "millis")]
    pub time: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl CallCounter {
    /// Counts one call.
    pub fn record(&self, service: &str, operation: &str) {
        let mut table = self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *table.entry((service.to_owned(), operation.to_owned())).or_insert(0) += 1;
    }

    /// Adds `time` spent waiting for an answer of `service`.
    pub fn record_time(&self, service: &str, time: Duration) {
        let mut table = self.time.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *table.entry(service.to_owned()).or_default() += time;
    }

    /// Calls and time per service, by service.
    ///
    /// ```
    /// use std::time::Duration;
    /// let counter = ecs_kit::aws::CallCounter::default();
    /// counter.record("EC2", "DescribeVpcs");
    /// counter.record("EC2", "DescribeSubnets");
    /// counter.record_time("EC2", Duration::from_millis(30));
    /// let ec2 = &counter.by_service()[0];
    /// assert_eq!((ec2.service.as_str(), ec2.calls, ec2.time), ("EC2", 2, Duration::from_millis(30)));
    /// ```
    #[must_use]
    pub fn by_service(&self) -> Vec<ServiceCalls> {
        let mut out: BTreeMap<String, ServiceCalls> = BTreeMap::new();
        for c in self.snapshot() {
            let entry = out.entry(c.service.clone()).or_insert_with(|| ServiceCalls {
                service: c.service.clone(),
                calls: 0,
                time: Duration::ZERO,
            });
            entry.calls += c.calls;
        }
        let time = self.time.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (service, t) in time.iter() {
            out.entry(service.clone())
                .or_insert_with(|| ServiceCalls { service: service.clone(), calls: 0, time: Duration::ZERO })
                .time = *t;
        }
        out.into_values().collect()
    }

    /// Every count so far, by service then operation.
    #[must_use]
    pub fn snapshot(&self) -> Vec<CallCount> {
        let table = self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        table
            .iter()
            .map(|((service, operation), calls)| CallCount {
                service: service.clone(),
                operation: operation.clone(),
                calls: *calls,
            })
            .collect()
    }

    /// All calls so far.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().sum()
    }

    /// Forgets every count.
    pub fn reset(&self) {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        self.time.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}
