//! Elastic Load Balancing v2: the Application Load Balancer, its listeners, their rules and extra certificates,
//! and a target group per service behind it.

pub(crate) mod listener;
pub(crate) mod listener_certificate;
pub(crate) mod listener_rule;
pub(crate) mod load_balancer;
pub(crate) mod target_group;
