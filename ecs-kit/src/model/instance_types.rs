//! Approximate capacity of common EC2 instance types, to warn when the declared tasks
//! cannot fit the cluster's minimum size and to refuse a task bigger than any instance.

/// vCPUs and memory (MiB) of an instance type, when ecs-kit knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceCapacity {
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
}

impl InstanceCapacity {
    /// CPU units ECS can place on one instance (1024 per vCPU).
    #[must_use]
    pub fn cpu_units(self) -> u32 {
        self.vcpus * 1024
    }

    /// Memory ECS can place on one instance: the OS and the agent keep some (about 10%
    /// here; the real figure depends on the AMI).
    #[must_use]
    pub fn usable_memory_mib(self) -> u32 {
        self.memory_mib - self.memory_mib / 10
    }
}

/// The capacity of `instance_type`, for the burstable (t2, t3, t3a, t4g) and general,
/// compute and memory families (m, c, r of generation 5 and later); `None` otherwise.
///
/// ```
/// use ecs_kit::model::instance_types::capacity;
/// assert_eq!(capacity("t3.small").map(|c| (c.vcpus, c.memory_mib)), Some((2, 2048)));
/// assert_eq!(capacity("m6i.xlarge").map(|c| (c.vcpus, c.memory_mib)), Some((4, 16384)));
/// assert_eq!(capacity("x2iedn.metal"), None);
/// ```
#[must_use]
pub fn capacity(instance_type: &str) -> Option<InstanceCapacity> {
    let (family, size) = instance_type.split_once('.')?;
    let cap = |vcpus, memory_mib| Some(InstanceCapacity { vcpus, memory_mib });
    match family {
        "t2" => match size {
            "nano" => cap(1, 512),
            "micro" => cap(1, 1024),
            "small" => cap(1, 2048),
            "medium" => cap(2, 4096),
            "large" => cap(2, 8192),
            "xlarge" => cap(4, 16384),
            "2xlarge" => cap(8, 32768),
            _ => None,
        },
        "t3" | "t3a" | "t4g" => match size {
            "nano" => cap(2, 512),
            "micro" => cap(2, 1024),
            "small" => cap(2, 2048),
            "medium" => cap(2, 4096),
            "large" => cap(2, 8192),
            "xlarge" => cap(4, 16384),
            "2xlarge" => cap(8, 32768),
            _ => None,
        },
        _ => {
            let mut chars = family.chars();
            let gib_per_vcpu = match chars.next()? {
                'm' => 4,
                'c' => 2,
                'r' => 8,
                _ => return None,
            };
            let generation: String = chars.take_while(char::is_ascii_digit).collect();
            if generation.parse::<u32>().ok()? < 5 {
                return None;
            }
            let vcpus = match size {
                "medium" => 1,
                "large" => 2,
                "xlarge" => 4,
                _ => size.strip_suffix("xlarge")?.parse::<u32>().ok()? * 4,
            };
            cap(vcpus, vcpus * gib_per_vcpu * 1024)
        }
    }
}

/// Sizes of the burstable families.
const BURSTABLE_SIZES: [&str; 7] = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"];

/// Why `instance_type` (already of the shape `family.size`) deserves a warning: a size
/// its burstable family does not have (`t3.gigantic`), or a type outside ecs-kit's
/// table, whose task sizes cannot be checked. `None` for a type ecs-kit knows.
///
/// ```
/// use ecs_kit::model::instance_types::unknown;
/// assert!(unknown("t3.gigantic").unwrap().contains("nano, micro, small"));
/// assert!(unknown("p3.2xlarge").unwrap().contains("cannot check"));
/// assert_eq!(unknown("m6i.large"), None);
/// ```
#[must_use]
pub fn unknown(instance_type: &str) -> Option<String> {
    if capacity(instance_type).is_some() {
        return None;
    }
    let (family, size) = instance_type.split_once('.').unwrap_or((instance_type, ""));
    if matches!(family, "t2" | "t3" | "t3a" | "t4g") {
        return Some(format!(
            "`{instance_type}` is not an EC2 instance type: {family} comes in {}; check the spelling (e.g. `{family}.large`)",
            BURSTABLE_SIZES.join(", ")
        ));
    }
    Some(format!(
        "ecs-kit does not know `{family}.{size}`, so it cannot check that tasks fit it: check the spelling \
         (e.g. `t3.large`, `m6i.xlarge`), or ignore this warning if AWS offers it in the region"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types() {
        let c = capacity("c5.2xlarge").unwrap();
        assert_eq!((c.vcpus, c.memory_mib), (8, 16384));
        let r = capacity("r7g.medium").unwrap();
        assert_eq!((r.vcpus, r.memory_mib), (1, 8192));
        let t = capacity("t2.micro").unwrap();
        assert_eq!((t.cpu_units(), t.usable_memory_mib()), (1024, 922));
    }

    #[test]
    fn unknown_types() {
        for t in ["m4.large", "p3.2xlarge", "t3", "t3.huge", "m5.metal", ""] {
            assert_eq!(capacity(t), None, "{t}");
        }
    }
}
