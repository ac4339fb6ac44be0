//! STS sessions: the per-profile settings, the cached session (kept in the same store as the key,
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
use crate::profile::Document;
use crate::profile_name::ProfileName;

/// Serve nothing with less than this left: the widest client refresh window is 15 minutes
/// (botocore / the AWS CLI and .NET start refreshing 15 minutes before `Expiration`, and botocore
/// runs the helper on every API call inside that window; docs/CLIENTS.md has every client's), so a
/// session handed out with less would make clients re-run awskeep call after call.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(20 * 60);
pub const DEFAULT_DURATION: Duration = Duration::from_secs(12 * 3600);
/// The shortest session worth having: served until `REFRESH_MARGIN` before its end, a shorter one
/// would be fetched again (an STS call, perhaps an MFA code) every few minutes. STS itself allows 15m.
const MIN_DURATION: Duration = Duration::from_secs(3600);
/// What STS allows for GetSessionToken.
const MAX_DURATION: Duration = Duration::from_secs(36 * 3600);
/// How long a process waits for another one's refresh (which may include an MFA prompt).
const LOCK_WAIT: Duration = Duration::from_secs(180);

/// A profile's session settings, from `~/.aws/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    pub enabled: bool,
    pub duration: Duration,
    pub mfa_serial: Option<String>,
    pub mfa_process: Option<String>,
    /// `awskeep_mfa_prompt`: how to ask for a code (else chosen automatically).
    pub mfa_prompt: Option<crate::mfa::MfaPrompt>,
}

impl SessionSettings {
    /// `awskeep_session` on or off; when absent, on exactly when the profile has `mfa_serial`
    /// (an MFA session can do everything the key can, IAM included; a session without MFA cannot
    /// call IAM, so it is opt-in).
    pub fn from_config(config: &Document, profile: &ProfileName) -> Result<Self> {
        let get = |key: &str| config.get(profile.as_str(), key).map(str::to_string);
        let mfa_serial = get("mfa_serial").filter(|s| !s.is_empty());
        let enabled = match get("awskeep_session")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => mfa_serial.is_some(),
            Some("true" | "on" | "yes" | "1") => true,
            Some("false" | "off" | "no" | "0") => false,
            Some(_) => {
                return Err(Error::BadSetting {
                    profile: profile.to_string(),
                    key: "awskeep_session",
                    reason: "use true or false".into(),
                });
            }
        };
        let duration = match get("awskeep_session_duration") {
            None => DEFAULT_DURATION,
            Some(text) => parse_duration(&text).map_err(|reason| Error::BadSetting {
                profile: profile.to_string(),
                key: "awskeep_session_duration",
                reason,
            })?,
        };
        let mfa_prompt =
            match get("awskeep_mfa_prompt").filter(|s| !s.is_empty()) {
                None => None,
                Some(text) => Some(crate::mfa::MfaPrompt::parse(&text).map_err(|reason| {
                    Error::BadSetting {
                        profile: profile.to_string(),
                        key: "awskeep_mfa_prompt",
                        reason,
                    }
                })?),
            };
        Ok(Self {
            enabled,
            duration,
            mfa_serial,
            mfa_process: get("awskeep_mfa_process").filter(|s| !s.is_empty()),
            mfa_prompt,
        })
    }

    /// How much a served session must have left: the same for every duration (durations shorter
    /// than `MIN_DURATION` are refused), so no client ever receives one inside its refresh window.
    pub fn margin(&self) -> Duration {
        REFRESH_MARGIN
    }
}

/// For clap: an MFA device as STS's SerialNumber takes it, an ARN (`arn:aws:iam::123456789012:mfa/me`)
/// or a hardware serial number (`GAHT12345678`): 9 to 256 of `[A-Za-z0-9_+=/:,.@-]`. Anything else
/// (a line break above all) never reaches the config file.
pub fn parse_mfa_serial(text: &str) -> std::result::Result<crate::profile::SettingValue, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c);
    if !(9..=256).contains(&text.len()) || !text.chars().all(allowed) {
        return Err("an MFA device is its ARN (arn:aws:iam::ACCOUNT:mfa/NAME) or a hardware serial number (9 to 256 letters, digits and _+=/:,.@-)".into());
    }
    crate::profile::SettingValue::new(text).map_err(str::to_string)
}

pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| format!("{e} (e.g. 12h)"))?;
    if duration < MIN_DURATION {
        return Err("use 1h or more: AWS clients start refreshing up to 15 minutes before a session ends and awskeep serves one only while it has more than 20 minutes left, so a shorter session would be fetched again every few minutes".into());
    }
    if duration > MAX_DURATION {
        return Err("STS allows sessions of at most 36h".into());
    }
    Ok(duration)
}

/// STS credentials for one profile, cached in the store.
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    pub expiration: SystemTime,
    /// The long-term key it came from: a session of a replaced key is never served.
    pub source_key_id: String,
    pub mfa_serial: Option<String>,
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
        use crate::lock::{FileLock, LockError};
        match FileLock::acquire(dir, file_name, LOCK_WAIT) {
            Ok(lock) => Ok(Self { _lock: lock }),
            Err(LockError::TimedOut { path }) => Err(Error::LockTimeout {
                profile: profile.to_string(),
                path,
            }),
            Err(LockError::Io { path, source }) => Err(Error::WriteFile { path, source }),
            Err(LockError::Unsafe { path, reason }) => Err(Error::UnsafeLockDir { path, reason }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FileKind;

    fn settings(text: &str) -> Result<SessionSettings> {
        let doc = Document::parse(text, FileKind::Config).unwrap();
        SessionSettings::from_config(&doc, &ProfileName::parse("dev").unwrap())
    }

    #[test]
    fn sessions_default_on_only_with_mfa() {
        assert!(!settings("[profile dev]\n").unwrap().enabled);
        let mfa = settings("[profile dev]\nmfa_serial = arn:aws:iam::1:mfa/me\n").unwrap();
        assert!(mfa.enabled);
        assert_eq!(mfa.duration, DEFAULT_DURATION);
        assert!(
            !settings("[profile dev]\nmfa_serial = x\nawskeep_session = false\n")
                .unwrap()
                .enabled
        );
        let on = settings("[profile dev]\nawskeep_session = true\nawskeep_session_duration = 1h\n")
            .unwrap();
        assert!(on.enabled);
        assert_eq!(on.duration, Duration::from_secs(3600));
        assert!(settings("[profile dev]\nawskeep_session = maybe\n").is_err());
        assert!(settings("[profile dev]\nawskeep_session_duration = 5m\n").is_err());
        // Shorter than an hour: inside the widest client window too soon (refresh storms).
        for short in ["15m", "30m", "59m"] {
            let reason = parse_duration(short).unwrap_err();
            assert!(reason.contains("15 minutes"), "{short}: {reason}");
        }
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(
            settings("[profile dev]\nawskeep_mfa_prompt = kdialog\n")
                .unwrap()
                .mfa_prompt,
            Some(crate::mfa::MfaPrompt::Kdialog)
        );
        assert!(settings("[profile dev]\nawskeep_mfa_prompt = popup\n").is_err());
    }

    fn session(expires_in: Duration) -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: SystemTime::now() + expires_in,
            source_key_id: "AKIAKEY".into(),
            mfa_serial: None,
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
