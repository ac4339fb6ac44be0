//! STS sessions: the cached session (kept in the same store as the key,
//! as a separate item), and the single-flight lock that makes N processes with a cold cache cause one
//! GetSessionToken and one MFA prompt.
//!
//! The lock is an advisory `flock` on a file under the user's runtime (else cache) dir: the kernel
//! releases it when its holder dies, even by SIGKILL. The lock file holds nothing secret.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::settings::SessionSettings;

/// How long a process waits for another one's refresh (which may include an MFA prompt).
const LOCK_WAIT: Duration = Duration::from_secs(180);

/// STS credentials for one profile, cached in the store.
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    pub expiration: SystemTime,
    /// The long-term key it came from: a session of a replaced key is never served.
    pub source_key_id: String,
    pub mfa_serial: Option<String>,
    /// A role session: what it answers to (the role chain's settings, `credentials::role_fingerprint`);
    /// one made under other settings is never served. `None` for a GetSessionToken session.
    pub role: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field(
                "expiration",
                &humantime::format_rfc3339_seconds(self.expiration).to_string(),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct SessionOut<'a> {
    version: u32,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
    source_key_id: &'a str,
    mfa_serial: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
}

#[derive(Deserialize)]
struct SessionIn {
    version: u32,
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: SecretString,
    expiration: String,
    source_key_id: String,
    mfa_serial: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

impl Session {
    pub fn to_item_bytes(&self) -> Zeroizing<Vec<u8>> {
        let out = SessionOut {
            version: 1,
            access_key_id: &self.access_key_id,
            secret_access_key: self.secret_access_key.expose_secret(),
            session_token: self.session_token.expose_secret(),
            expiration: humantime::format_rfc3339_seconds(self.expiration).to_string(),
            source_key_id: &self.source_key_id,
            mfa_serial: self.mfa_serial.as_deref(),
            role: self.role.as_deref(),
        };
        Zeroizing::new(serde_json::to_vec(&out).unwrap_or_default())
    }

    pub fn from_item_bytes(bytes: &[u8]) -> std::result::Result<Self, &'static str> {
        let item: SessionIn =
            serde_json::from_slice(bytes).map_err(|_| "its content is not an awskeep session")?;
        if item.version != 1 {
            return Err("it was written by a newer awskeep");
        }
        Ok(Self {
            access_key_id: item.access_key_id,
            secret_access_key: item.secret_access_key,
            session_token: item.session_token,
            expiration: humantime::parse_rfc3339(&item.expiration)
                .map_err(|_| "its expiration is invalid")?,
            source_key_id: item.source_key_id,
            mfa_serial: item.mfa_serial,
            role: item.role,
        })
    }

    /// Fit to serve: from this key, for this MFA device, with more than `margin` left.
    pub fn usable(&self, key_id: &str, settings: &SessionSettings, now: SystemTime) -> bool {
        self.source_key_id == key_id
            && self.mfa_serial == settings.mfa_serial
            && self
                .expiration
                .duration_since(now)
                .is_ok_and(|left| left > settings.margin())
    }
}

/// Held while one process refreshes a profile's session; dropped (or the holder's death) releases it.
pub struct RefreshLock {
    _lock: crate::lock::FileLock,
}

/// Where lock files live: `$XDG_RUNTIME_DIR/awskeep` when that folder is usable (it exists and is
/// the user's own), else the user's cache dir's `awskeep`.
pub fn lock_dir(runtime_dir: Option<PathBuf>, cache_dir: Option<PathBuf>) -> Option<PathBuf> {
    runtime_dir
        .filter(|d| crate::lock::usable_base(d))
        .or(cache_dir)
        .map(|d| d.join("awskeep"))
}

impl RefreshLock {
    pub fn acquire(dir: &std::path::Path, profile: &ProfileName) -> Result<Self> {
        Self::acquire_named(dir, &format!("{profile}.lock"), profile)
    }

    /// The same kind of per-profile lock under another name (a rotation's).
    pub fn acquire_named(
        dir: &std::path::Path,
        file_name: &str,
        profile: &ProfileName,
    ) -> Result<Self> {
        let lock = crate::lock::FileLock::acquire(dir, file_name, LOCK_WAIT).map_err(|e| {
            e.into_error(|path| Error::LockTimeout {
                profile: profile.to_string(),
                path,
            })
        })?;
        Ok(Self { _lock: lock })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DEFAULT_DURATION;

    fn session(expires_in: Duration) -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: SystemTime::now() + expires_in,
            source_key_id: "AKIAKEY".into(),
            mfa_serial: None,
            role: None,
        }
    }

    #[test]
    fn a_session_with_less_than_the_margin_left_is_not_served() {
        let s = SessionSettings {
            enabled: true,
            duration: DEFAULT_DURATION,
            mfa_serial: None,
            mfa_process: None,
            mfa_prompt: None,
        };
        let now = SystemTime::now();
        assert!(session(Duration::from_secs(3600)).usable("AKIAKEY", &s, now));
        assert!(!session(Duration::from_secs(19 * 60)).usable("AKIAKEY", &s, now));
        assert!(
            !session(Duration::from_secs(3600)).usable("AKIAOTHER", &s, now),
            "another key's session"
        );
        let with_mfa = SessionSettings {
            mfa_serial: Some("arn".into()),
            ..s
        };
        assert!(
            !session(Duration::from_secs(3600)).usable("AKIAKEY", &with_mfa, now),
            "MFA device changed"
        );
    }

    #[test]
    fn session_item_round_trips_and_debug_hides_secrets() {
        let s = session(Duration::from_secs(3600));
        let back = Session::from_item_bytes(&s.to_item_bytes()).unwrap();
        assert_eq!(back.session_token.expose_secret(), "t");
        assert!(!format!("{s:?}").contains("\"t\""));
    }

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let profile = ProfileName::parse("dev").unwrap();
        let held = RefreshLock::acquire(dir.path(), &profile).unwrap();
        let path = dir.path().join("dev.lock");
        let other = std::fs::File::open(&path).unwrap();
        assert!(other.try_lock().is_err());
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
