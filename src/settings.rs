//! A profile's awskeep settings, read once from `~/.aws/config` into typed values, and the parsers
//! of every duration and name a setting or a flag takes. Nothing else reads an `awskeep_*` line:
//! commands, the credential path and the caches take these values. Below everything but the INI
//! model and the errors: it imports nothing else of awskeep.

use std::time::Duration;

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

/// Everything awskeep reads from a profile's section, read once per command: the credential path
/// and the caches take this value and never parse the section again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSettings {
    pub session: SessionSettings,
    pub cache: CacheSetting,
    /// `region`, when set and not empty.
    pub region: Option<String>,
    /// `awskeep_role_arn` and its settings: a role profile, served from its source's credentials.
    pub role: Option<RoleSettings>,
}

impl ProfileSettings {
    pub fn read(config: &Document, profile: &ProfileName) -> Result<Self> {
        Ok(Self {
            session: SessionSettings::from_config(config, profile)?,
            cache: CacheSetting::from_config(config, profile)?,
            region: config
                .get(profile.as_str(), "region")
                .filter(|r| !r.is_empty())
                .map(str::to_string),
            role: RoleSettings::from_config(config, profile)?,
        })
    }
}

/// The most STS allows for a chained AssumeRole (a role assumed with a role's credentials).
pub const CHAINED_ROLE_MAX: Duration = Duration::from_secs(3600);
/// What AssumeRole allows at most (a role's own maximum may be lower; AWS then refuses the call).
const ROLE_MAX_DURATION: Duration = Duration::from_secs(12 * 3600);

/// A role profile's settings (`awskeep_role_arn`, `awskeep_source_profile`, ...): awskeep's own
/// names, because an SDK that saw `role_arn` would assume the role itself, a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSettings {
    pub role_arn: String,
    pub source_profile: ProfileName,
    pub external_id: Option<String>,
    /// `awskeep_role_session_name`; else awskeep names the session after the IAM user.
    pub session_name: Option<String>,
    /// `awskeep_role_duration` (default 1h); a chained role gets at most `CHAINED_ROLE_MAX`.
    pub duration: Duration,
    pub source_identity: Option<String>,
}

impl RoleSettings {
    pub fn from_config(config: &Document, profile: &ProfileName) -> Result<Option<Self>> {
        let get = |key: &str| {
            config
                .get(profile.as_str(), key)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let bad = |key: &'static str, reason: String| Error::BadSetting {
            profile: profile.to_string(),
            key,
            reason,
        };
        let Some(role_arn) = get("awskeep_role_arn") else {
            return Ok(None);
        };
        let role_arn = parse_role_arn(role_arn).map_err(|r| bad("awskeep_role_arn", r))?;
        let source = get("awskeep_source_profile").ok_or_else(|| {
            bad(
                "awskeep_source_profile",
                "a role profile names the awskeep profile whose credentials assume the role".into(),
            )
        })?;
        let source_profile =
            ProfileName::parse(source).map_err(|e| bad("awskeep_source_profile", e.to_string()))?;
        let text = |key: &'static str, parse: fn(&str) -> std::result::Result<String, String>| {
            get(key).map(parse).transpose().map_err(|r| bad(key, r))
        };
        let duration = match get("awskeep_role_duration") {
            None => MIN_DURATION,
            Some(text) => parse_role_duration(text).map_err(|r| bad("awskeep_role_duration", r))?,
        };
        Ok(Some(Self {
            role_arn,
            source_profile,
            external_id: text("awskeep_external_id", parse_external_id)?,
            session_name: text("awskeep_role_session_name", parse_role_session_name)?,
            duration,
            source_identity: text("awskeep_source_identity", parse_role_session_name)?,
        }))
    }
}

/// For clap and the config: an IAM role ARN, `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
pub fn parse_role_arn(text: &str) -> std::result::Result<String, String> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let name_ok = |rest: &str| {
        rest.strip_prefix("role/").is_some_and(|name| {
            !name.is_empty()
                && name.len() <= 512
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
        })
    };
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, rest]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && name_ok(rest) =>
        {
            Ok(text.to_string())
        }
        _ => Err("a role is named by its ARN: arn:aws:iam::123456789012:role/NAME".into()),
    }
}

/// A role session name (and a source identity): 2 to 64 of `[A-Za-z0-9+=,.@_-]`, as STS takes it.
pub fn parse_role_session_name(text: &str) -> std::result::Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if (2..=64).contains(&text.len()) && text.chars().all(ok) {
        Ok(text.to_string())
    } else {
        Err("use 2 to 64 letters, digits and +=,.@_-".into())
    }
}

/// An external ID: 2 to 1224 of `[A-Za-z0-9+=,.@:/_-]`, as STS takes it.
pub fn parse_external_id(text: &str) -> std::result::Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c);
    if (2..=1224).contains(&text.len()) && text.chars().all(ok) {
        Ok(text.to_string())
    } else {
        Err("use 2 to 1224 letters, digits and +=,.@:/_-".into())
    }
}

/// A role session's duration: 1h (the shortest worth serving, as for sessions) to 12h.
pub fn parse_role_duration(text: &str) -> std::result::Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration > ROLE_MAX_DURATION {
        return Err("AssumeRole allows at most 12h (and a role's own maximum may be lower)".into());
    }
    Ok(duration)
}

/// A profile's session settings, from `~/.aws/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    pub enabled: bool,
    pub duration: Duration,
    pub mfa_serial: Option<String>,
    pub mfa_process: Option<String>,
    /// `awskeep_mfa_prompt`: how to ask for a code (else chosen automatically).
    pub mfa_prompt: Option<MfaPrompt>,
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
        let mfa_prompt = match get("awskeep_mfa_prompt").filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => Some(MfaPrompt::parse(&text).map_err(|reason| Error::BadSetting {
                profile: profile.to_string(),
                key: "awskeep_mfa_prompt",
                reason,
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

/// The console session `awskeep login` asks for: GetFederationToken takes 15m to 36h and the
/// federation endpoint's SessionDuration 15m to 12h, and AWS ends a console session after 12h at
/// most, so 15m to 12h.
pub const CONSOLE_MIN_DURATION: Duration = Duration::from_secs(15 * 60);
pub const CONSOLE_MAX_DURATION: Duration = Duration::from_secs(12 * 3600);

/// For clap: `login --duration`, checked against what AWS takes for a console session.
pub fn parse_console_duration(text: &str) -> std::result::Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| format!("{e} (e.g. 4h)"))?;
    if !(CONSOLE_MIN_DURATION..=CONSOLE_MAX_DURATION).contains(&duration) {
        return Err("a console session lasts 15m to 12h, what AWS allows".into());
    }
    Ok(duration)
}

/// For clap: `login --path`, a page of the console (`/s3`, `s3`, `/ec2/home#Instances:`): printable
/// ASCII without spaces, at most 1024 bytes, always under the console's own host.
pub fn parse_console_path(text: &str) -> std::result::Result<String, String> {
    if text.is_empty()
        || text.len() > 1024
        || !text.chars().all(|c| c.is_ascii_graphic())
        || text.contains("://")
    {
        return Err("a console page is a path like /s3 or /ec2/home (printable, no spaces)".into());
    }
    Ok(if text.starts_with('/') {
        text.to_string()
    } else {
        format!("/{text}")
    })
}

/// `awskeep_mfa_prompt`: how to ask for the code, instead of choosing automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPrompt {
    Terminal,
    Zenity,
    Kdialog,
    Osascript,
    Powershell,
    /// Only `awskeep_mfa_process`.
    Process,
}

impl MfaPrompt {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "terminal" => Self::Terminal,
            "zenity" => Self::Zenity,
            "kdialog" => Self::Kdialog,
            "osascript" => Self::Osascript,
            "powershell" => Self::Powershell,
            "process" => Self::Process,
            _ => {
                return Err(
                    "use terminal, zenity, kdialog, osascript, powershell or process".into(),
                );
            }
        })
    }

    pub fn program(self) -> &'static str {
        match self {
            Self::Terminal => "the terminal",
            Self::Zenity => "zenity",
            Self::Kdialog => "kdialog",
            Self::Osascript => "osascript",
            Self::Powershell => "powershell.exe",
            Self::Process => "awskeep_mfa_process",
        }
    }
}

/// How long an unlock lasts, in the type the kernel keyring takes: keyctl's `KEYCTL_SET_TIMEOUT`
/// takes whole seconds as an `unsigned int`, and 0 there means "never expire". So the timeout is
/// parsed once into 1..=u32::MAX seconds and a duration outside that is refused with its bounds:
/// nothing downstream truncates it (4294967297s would otherwise become 1s, 4294967296s never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockTimeout(std::num::NonZeroU32);

impl UnlockTimeout {
    /// How long an unlock lasts unless the user says otherwise: 8 hours.
    pub const DEFAULT: Self = match std::num::NonZeroU32::new(8 * 3600) {
        Some(s) => Self(s),
        None => unreachable!(),
    };

    /// `text` as humantime reads it (`90s`, `8h`, `1day 2h`); a fraction of a second counts as a
    /// whole one, so a timeout is never shorter than asked.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let duration = humantime::parse_duration(text.trim())
            .map_err(|_| format!("{text:?} is not a duration (e.g. 90m, 8h)"))?;
        let seconds = duration
            .as_secs()
            .saturating_add(u64::from(duration.subsec_nanos() > 0));
        let seconds = u32::try_from(seconds).map_err(|_| {
            format!(
                "{text} is longer than the kernel keyring keeps a key: at most {}s ({})",
                u32::MAX,
                humantime::format_duration(Duration::from_secs(u64::from(u32::MAX)))
            )
        })?;
        std::num::NonZeroU32::new(seconds)
            .map(Self)
            .ok_or_else(|| "an unlock lasts at least 1s (use `awskeep lock` to lock now)".into())
    }

    /// Whole seconds, exactly what the kernel keyring is given.
    pub fn seconds(self) -> u32 {
        self.0.get()
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(u64::from(self.seconds()))
    }
}

/// The file store's unlock timeout: `AWSKEEP_UNLOCK_TIMEOUT` (`from_env`), else
/// `awskeep_unlock_timeout` in the `[default]` section of `config`, else 8 hours.
pub fn unlock_timeout(from_env: Option<&str>, config: &Document) -> Result<UnlockTimeout> {
    let (text, key) = match (from_env, config.get("default", "awskeep_unlock_timeout")) {
        (Some(text), _) => (text, "AWSKEEP_UNLOCK_TIMEOUT"),
        (None, Some(text)) => (text, "awskeep_unlock_timeout"),
        (None, None) => return Ok(UnlockTimeout::DEFAULT),
    };
    UnlockTimeout::parse(text).map_err(|reason| match from_env {
        Some(_) => Error::BadVariable { name: key, reason },
        None => Error::BadSetting {
            profile: "default".into(),
            key,
            reason,
        },
    })
}

impl std::fmt::Display for UnlockTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_duration(self.duration()))
    }
}

/// How long a long-term key's entry lives unless `awskeep_cache` says otherwise.
pub const DEFAULT_KEY_BOUND: Duration = Duration::from_secs(60);
/// The longest bound `awskeep_cache` may set: a cache, not a second store.
pub const MAX_BOUND: Duration = Duration::from_secs(3600);
/// A session with less than this left before its margin is not kept.
const MIN_LIFETIME: Duration = Duration::from_secs(2);

/// A profile's `awskeep_cache` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSetting {
    /// `awskeep_cache = off`: every call reads the store.
    Off,
    /// On (the default); `Some(bound)` from `awskeep_cache = DURATION` caps every entry.
    On(Option<Duration>),
}

impl CacheSetting {
    pub fn from_config(config: &Document, profile: &ProfileName) -> Result<Self> {
        let Some(text) = config.get(profile.as_str(), "awskeep_cache") else {
            return Ok(Self::On(None));
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "on" | "true" | "yes" | "1" => return Ok(Self::On(None)),
            "off" | "false" | "no" | "0" => return Ok(Self::Off),
            _ => {}
        }
        let bad = || Error::BadSetting {
            profile: profile.to_string(),
            key: "awskeep_cache",
            reason: "use on, off, or how long a long-term key may be kept (1s to 1h, e.g. 5m)"
                .into(),
        };
        let bound = humantime::parse_duration(text.trim()).map_err(|_| bad())?;
        if bound < Duration::from_secs(1) || bound > MAX_BOUND {
            return Err(bad());
        }
        Ok(Self::On(Some(bound)))
    }

    /// How long an entry may live: a long-term key (`session_usable_for` is `None`) its bound, a
    /// session until its refresh margin begins (capped by an explicit bound). `None`: keep nothing.
    pub fn lifetime(self, session_usable_for: Option<Duration>) -> Option<Duration> {
        let Self::On(bound) = self else {
            return None;
        };
        match (session_usable_for, bound) {
            (None, bound) => Some(bound.unwrap_or(DEFAULT_KEY_BOUND)),
            // A session about to reach its margin is not worth the keyctl calls.
            (Some(left), _) if left < MIN_LIFETIME => None,
            (Some(left), None) => Some(left),
            (Some(left), Some(bound)) => Some(left.min(bound)),
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
            Some(MfaPrompt::Kdialog)
        );
        assert!(settings("[profile dev]\nawskeep_mfa_prompt = popup\n").is_err());
    }

    #[test]
    fn the_unlock_timeout_comes_from_the_variable_else_defaults_section_else_8_hours() {
        let config = |text: &str| Document::parse(text, FileKind::Config).unwrap();
        let set = config(
            "[default]\nawskeep_unlock_timeout = 30m\n[profile dev]\nawskeep_unlock_timeout = 1h\n",
        );
        let seconds = |t: Result<UnlockTimeout>| t.unwrap().seconds();
        assert_eq!(seconds(unlock_timeout(Some("90s"), &set)), 90);
        assert_eq!(seconds(unlock_timeout(None, &set)), 1800);
        assert_eq!(
            seconds(unlock_timeout(
                None,
                &config("[profile dev]\nawskeep_unlock_timeout = 1h\n")
            )),
            8 * 3600
        );
        for (from_env, text, key) in [
            (Some("soon"), "", "AWSKEEP_UNLOCK_TIMEOUT"),
            (
                None,
                "[default]\nawskeep_unlock_timeout = 0s\n",
                "awskeep_unlock_timeout",
            ),
        ] {
            let err = unlock_timeout(from_env, &config(text)).unwrap_err();
            assert!(
                matches!(&err, Error::BadSetting { key: k, .. } | Error::BadVariable { name: k, .. } if *k == key),
                "{err:?}"
            );
            // The variable is named as a variable, not as a setting of some profile.
            assert_eq!(
                matches!(err, Error::BadVariable { .. }),
                from_env.is_some(),
                "{err:?}"
            );
        }
    }
}
