//! Counts of AWS calls per service and operation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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
}

impl CallCounter {
    /// Counts one call.
    pub fn record(&self, service: &str, operation: &str) {
        let mut table = self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *table.entry((service.to_owned(), operation.to_owned())).or_insert(0) += 1;
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
    }
}
