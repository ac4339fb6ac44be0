//! The lease on a long-term key: how long a client may keep the key `credential-process` handed it
//! before it must run awskeep again, and so how long a rotated-out key must stay in IAM.
//!
//! A long-term key served with no `Expiration` is kept by boto3, Go, Java, JS and .NET for the life
//! of the process, so a rotation could never reach a running program. Served with
//! `Expiration = now + lease` (no `SessionToken`: it is still the long-term key), every client runs
//! awskeep again before that time (botocore and .NET 15 min before, JS, Ruby and the CRT 5 min,
//! Java 15 s, Rust 10 s, Go at it) and gets whatever key is current then. A rotation keeps the old
//! key in IAM until `retire_grace` after its switch: every `Expiration` handed out with the old key
//! has passed by then, so every client has picked up the new one.
//!
//! Invariant: nothing is served with less than `settings::REFRESH_MARGIN` left (inside botocore's
//! window it would run awskeep on every call). A fresh answer has the whole lease left; an answer
//! from the credential cache is kept at most `cache_cap` (lease less the margin).

use std::time::{Duration, SystemTime};

use crate::settings::REFRESH_MARGIN;

/// How long a client may use the long-term key it was served.
pub const KEY_LEASE: Duration = Duration::from_secs(3600);
/// The most a rotation waits past the lease before it retires the old key: for a request signed
/// just before its Expiration to complete, and for a `credential-process` that read the store just
/// before the switch to print its answer.
const RETIRE_SLACK: Duration = Duration::from_secs(60);

/// `AWSKEEP_DEBUG_KEY_LEASE_SECS` as `Context` read it. Only debug builds (the tests') read it at
/// all (`Context::from_env` filters it on `cfg!(debug_assertions)`): a release build always leases
/// for `KEY_LEASE`.
pub fn from_debug_override(seconds: Option<&str>) -> Duration {
    seconds
        .filter(|_| cfg!(debug_assertions))
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| (1..=KEY_LEASE.as_secs()).contains(s))
        .map_or(KEY_LEASE, Duration::from_secs)
}

/// The `Expiration` of a long-term key served at `now`.
pub fn expiration(lease: Duration, now: SystemTime) -> SystemTime {
    now + lease
}

/// How long after the switch a rotation keeps the old key in IAM: the lease and a slack (a quarter
/// of the lease, at most a minute; 61 minutes in all with the default lease).
pub fn retire_grace(lease: Duration) -> Duration {
    lease + RETIRE_SLACK.min(lease / 4)
}

/// The longest the credential cache may keep a long-term key's answer, so that a hit still has
/// more than the refresh margin left of the `Expiration` in it (40 minutes with the default
/// lease). `None`: a lease too short to cache at all (only the tests' debug override).
pub fn cache_cap(lease: Duration) -> Option<Duration> {
    Some(lease.saturating_sub(REFRESH_MARGIN)).filter(|d| !d.is_zero())
}

/// `14:05 UTC`: when a deferred retirement happens, for a person (it is always within the next
/// lease, so the time of day is enough).
pub fn clock_time(at: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(at).to_string();
    format!("{} UTC", text.get(11..16).unwrap_or(&text))
}

/// `in 61 min`, `in 25 s`, or `now`: how far off `at` is (rounded up).
pub fn describe_wait(at: SystemTime) -> String {
    let secs = at.duration_since(SystemTime::now()).map_or(0, |left| {
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    });
    match secs {
        0 => "now".into(),
        1..120 => format!("in {secs} s"),
        _ => format!("in {} min", secs.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_lease_leaves_every_answer_more_than_the_margin() {
        assert_eq!(from_debug_override(None), KEY_LEASE);
        assert_eq!(from_debug_override(Some("nonsense")), KEY_LEASE);
        assert_eq!(from_debug_override(Some("0")), KEY_LEASE);
        assert_eq!(from_debug_override(Some("999999")), KEY_LEASE);
        // This test binary is a debug build: the override is read.
        assert_eq!(from_debug_override(Some("20")), Duration::from_secs(20));
        let cap = cache_cap(KEY_LEASE).unwrap();
        assert_eq!(cap, Duration::from_secs(40 * 60));
        assert!(KEY_LEASE - cap >= REFRESH_MARGIN);
        assert_eq!(cache_cap(Duration::from_secs(20)), None);
    }

    #[test]
    fn the_old_key_outlives_every_expiration_handed_out_with_it() {
        assert_eq!(retire_grace(KEY_LEASE), Duration::from_secs(61 * 60));
        assert_eq!(
            retire_grace(Duration::from_secs(20)),
            Duration::from_secs(25)
        );
        let switch = SystemTime::now();
        assert!(expiration(KEY_LEASE, switch) < switch + retire_grace(KEY_LEASE));
    }
}
