//! Process hygiene, applied first thing in `main`: no core dump of awskeep can hold a secret. The
//! *soft* core size limit goes to 0 and, on Linux, the process is marked not dumpable, which also
//! keeps other processes of the same user from attaching a debugger or reading its memory through
//! /proc (and, with `fs.suid_dumpable` 0 or 2, writes no core a user can read whatever the limit).
//! Best effort: a platform that refuses either still runs.
//!
//! The *hard* limit stays the caller's, and the soft one the caller had is kept in `CallerLimits`:
//! `awskeep exec` gives both back to the command it runs (an unprivileged process can never raise a
//! hard limit again, so lowering it would leak awskeep's hygiene into every child). The caller's soft
//! limit is restored only around the spawn itself and lowered again at once; the child's exec resets
//! "not dumpable" by itself.

/// The resource limits awskeep found at start, before it lowered its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallerLimits {
    /// The caller's soft core size limit (`None` inside: unlimited); `None`: not known.
    core_soft: Option<Option<u64>>,
}

/// Applies both settings and returns the limits it changed, as the caller had them; what the
/// platform refused is ignored (there is nothing better to do).
pub fn harden_process() -> CallerLimits {
    #[cfg(unix)]
    let caller = {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Core);
        let lowered = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: limit.maximum,
            },
        );
        CallerLimits {
            core_soft: lowered.is_ok().then_some(limit.current),
        }
    };
    #[cfg(not(unix))]
    let caller = CallerLimits::default();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior};
        let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    }
    caller
}

impl CallerLimits {
    /// Runs `spawn` with the caller's soft core limit back in place, so the child starts with the
    /// caller's limits, and lowers it again as soon as `spawn` returns. The window is the spawn
    /// itself; on Linux awskeep stays not dumpable through it.
    pub fn around_spawn<T>(&self, spawn: impl FnOnce() -> T) -> T {
        #[cfg(unix)]
        {
            use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
            let Some(caller_soft) = self.core_soft else {
                return spawn();
            };
            let hard = getrlimit(Resource::Core).maximum;
            let set = |current| {
                setrlimit(
                    Resource::Core,
                    Rlimit {
                        current,
                        maximum: hard,
                    },
                )
            };
            let _ = set(caller_soft);
            let spawned = spawn();
            let _ = set(Some(0));
            spawned
        }
        #[cfg(not(unix))]
        spawn()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn no_core_dump_and_not_dumpable_and_the_hard_limit_is_the_callers() {
        use rustix::process::{Resource, getrlimit};
        let before = getrlimit(Resource::Core);
        let caller = super::harden_process();
        let limit = getrlimit(Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), before.maximum));
        assert_eq!(caller.core_soft, Some(before.current));
        let during = caller.around_spawn(|| getrlimit(Resource::Core).current);
        assert_eq!(during, before.current);
        assert_eq!(getrlimit(Resource::Core).current, Some(0));
        #[cfg(target_os = "linux")]
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
