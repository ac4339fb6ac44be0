//! The local clock against AWS's: SigV4 refuses a request signed more than 5 minutes off AWS's time,
//! which looks like a broken key. One STS request, read through `Aws::server_time` (no credentials).

use std::time::{Duration, SystemTime};

use super::report::{Finding, Severity};
use crate::aws::{Aws, AwsTarget};

/// SigV4's limit: past it every AWS call fails.
const SIGV4_LIMIT: Duration = Duration::from_secs(300);
/// Beyond this the clock is drifting towards the limit; below it, a second of Date-header rounding
/// and the round trip are noise.
const DRIFT: Duration = Duration::from_secs(60);

pub fn check(aws: &dyn Aws, target: &AwsTarget) -> Finding {
    let server = match aws.server_time(target) {
        Ok(server) => server,
        Err(error) => {
            return Finding::new(
                Severity::Warn,
                "clock",
                format!(
                    "could not compare the local clock with AWS STS at {}: {}",
                    target.sts_endpoint_for_messages(),
                    error.cause_line()
                ),
            )
            .fix("check the network (or AWS_ENDPOINT_URL), or pass --offline to skip this check");
        }
    };
    judge(server, SystemTime::now())
}

/// The finding for AWS's time `server` read when the local clock said `local`.
pub fn judge(server: SystemTime, local: SystemTime) -> Finding {
    let (skew, direction) = match local.duration_since(server) {
        Ok(ahead) => (ahead, "ahead of"),
        Err(behind) => (behind.duration(), "behind"),
    };
    // To the nearest second: the header has whole seconds, and the round trip is noise.
    let seconds = (skew + Duration::from_millis(500)).as_secs();
    if skew <= DRIFT {
        return Finding::ok(
            "clock",
            format!("the local clock is within {}s of AWS's", seconds.max(1)),
        );
    }
    let severity = if skew > SIGV4_LIMIT {
        Severity::Fail
    } else {
        Severity::Warn
    };
    let consequence = if severity == Severity::Fail {
        "AWS refuses every request signed more than 5 minutes off its time"
    } else {
        "AWS refuses requests once it is more than 5 minutes off"
    };
    Finding::new(
        severity,
        "clock",
        format!(
            "the local clock is {} {direction} AWS's; {consequence}",
            humantime::format_duration(Duration::from_secs(seconds))
        ),
    )
    .fix(sync_clock_fix())
}

fn sync_clock_fix() -> &'static str {
    if cfg!(target_os = "macos") {
        "set the clock automatically: System Settings > General > Date & Time > Set time and date automatically"
    } else if cfg!(windows) {
        "sync the clock: Settings > Time & language > Date & time > Sync now (or `w32tm /resync`)"
    } else {
        "sync the clock with NTP: `sudo timedatectl set-ntp true` (or start chronyd / ntpd)"
    }
}
