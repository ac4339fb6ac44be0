//! Process hygiene, applied first thing in `main`: no core dump of awskeep can hold a secret. The core
//! size limit goes to 0 (soft and hard, so nothing later can raise it) and, on Linux, the process is
//! marked not dumpable, which also keeps other processes of the same user from attaching a debugger
//! or reading its memory through /proc. Best effort: a platform that refuses either still runs.

/// Applies both settings; what the platform refused is ignored (there is nothing better to do).
pub fn harden_process() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior};
        let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn no_core_dump_and_not_dumpable() {
        super::harden_process();
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
        #[cfg(target_os = "linux")]
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
