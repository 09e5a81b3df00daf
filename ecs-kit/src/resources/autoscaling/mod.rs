//! Auto Scaling: the instances' group.

pub(crate) mod group;
