//! Elastic Load Balancing v2: the Application Load Balancer, its listener and rules,
//! and a target group per service behind it.

pub(crate) mod listener;
pub(crate) mod listener_rule;
pub(crate) mod load_balancer;
pub(crate) mod target_group;
