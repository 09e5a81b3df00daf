//! EFS: the encrypted file system, a mount target per private subnet, and an access
//! point per service.

pub(crate) mod access_point;
pub(crate) mod file_system;
pub(crate) mod mount_target;
