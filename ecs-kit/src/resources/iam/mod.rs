//! IAM: the roles of the instances, the tasks and their execution, and the instances'
//! profile. IAM is global: names include the region.

pub(crate) mod instance_profile;
pub(crate) mod role;
