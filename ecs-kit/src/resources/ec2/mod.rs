//! EC2: the network and the instances' launch template.

pub(crate) mod eip;
pub(crate) mod internet_gateway;
pub(crate) mod launch_template;
pub(crate) mod nat_gateway;
pub(crate) mod route_table;
pub(crate) mod security_group;
pub(crate) mod subnet;
pub(crate) mod vpc;
