//! CloudWatch Logs: a log group per service.

pub(crate) mod log_group;
