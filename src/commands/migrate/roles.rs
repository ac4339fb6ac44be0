//! migrate's role half: a standard role profile (`role_arn` + `source_profile`) whose source awskeep
//! serves becomes an awskeep role profile: its `credential_process` line and the `awskeep_*` names
//! of its role settings, so no SDK assumes the role itself (caching it in plaintext, asking its
//! own MFA code). The user's other settings (region, output, comments) stay. Each is assumed once
//! before its section is rewritten (`--no-verify` skips that), so a role that cannot work is left.

use crate::context::Context;
use crate::credentials::{self, Refresh};
use crate::error::{Error, Result};
use crate::profile::{Document, FileKind, SettingValue};
use crate::profile_name::ProfileName;
use crate::store::facade::CredentialStore;

/// A standard role setting and the awskeep setting it becomes.
const RENAMED: [(&str, &str); 4] = [
    ("role_arn", "awskeep_role_arn"),
    ("source_profile", "awskeep_source_profile"),
    ("external_id", "awskeep_external_id"),
    ("role_session_name", "awskeep_role_session_name"),
];

/// A role profile migrate turns into an awskeep one.
pub struct RoleCandidate {
    pub profile: ProfileName,
    pub role_arn: String,
    pub source: ProfileName,
    /// `duration_seconds`, as awskeep_role_duration.
    pub duration: Option<std::time::Duration>,
}

/// The role profiles to turn (named ones only, when `only` names any), and the ones left (profile,
/// why). A source is served by awskeep when it holds a stored key, moves in now (`moving`),
/// is an awskeep role profile, or is itself turned now (a chain).
pub fn find(
    config: &Document,
    store: &CredentialStore,
    moving: &[ProfileName],
    only: &[ProfileName],
) -> (Vec<RoleCandidate>, Vec<(String, String)>) {
    let mut names: Vec<String> = Vec::new();
    for section in config.sections() {
        if let Some(name) = &section.profile
            && config.get(name, "role_arn").is_some()
            && !names.contains(name)
            && (only.is_empty() || only.iter().any(|o| o.as_str() == name))
        {
            names.push(name.clone());
        }
    }
    let served = |source: &ProfileName, turned: &[RoleCandidate]| {
        moving.contains(source)
            || matches!(store.get(source), Ok(Some(_)))
            || config.get(source.as_str(), "awskeep_role_arn").is_some()
            || turned.iter().any(|c| &c.profile == source)
    };
    let mut candidates: Vec<RoleCandidate> = Vec::new();
    let mut left: Vec<(String, String)> = Vec::new();
    // Until nothing changes: a role whose source is a role turned in this pass qualifies next.
    loop {
        let before = candidates.len();
        left.clear();
        for name in &names {
            if candidates.iter().any(|c| c.profile.as_str() == name) {
                continue;
            }
            match candidate(config, name) {
                Ok(c) if served(&c.source, &candidates) => candidates.push(c),
                Ok(c) => left.push((
                    name.clone(),
                    format!("its source_profile {} is not an awskeep profile", c.source),
                )),
                Err(reason) => left.push((name.clone(), reason)),
            }
        }
        if candidates.len() == before {
            break;
        }
    }
    let skipped = left
        .into_iter()
        .filter(|(name, _)| !only.is_empty() || config.get(name, "source_profile").is_some())
        .filter(|(_, reason)| !only.is_empty() || !reason.starts_with("its source_profile"))
        .collect();
    (candidates, skipped)
}

fn candidate(config: &Document, name: &str) -> std::result::Result<RoleCandidate, String> {
    let get = |key: &str| {
        config
            .get(name, key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let profile = ProfileName::parse(name).map_err(|e| e.cause_line())?;
    let Some(source) = get("source_profile") else {
        return Err(
            "its role_arn uses credential_source or a web identity, which awskeep does not serve"
                .into(),
        );
    };
    if get("credential_process").is_some() {
        return Err("it has a credential_process line too".into());
    }
    let source = ProfileName::parse(source).map_err(|e| e.cause_line())?;
    let role_arn = crate::settings::parse_role_arn(get("role_arn").unwrap_or_default())?;
    for (key, parse) in [
        (
            "external_id",
            crate::settings::parse_external_id as fn(&str) -> _,
        ),
        (
            "role_session_name",
            crate::settings::parse_role_session_name,
        ),
    ] {
        if let Some(value) = get(key) {
            parse(value).map_err(|reason| format!("its {key}: {reason}"))?;
        }
    }
    let duration = match get("duration_seconds") {
        None => None,
        Some(text) => Some(
            crate::settings::parse_role_duration(&format!("{text}s"))
                .map_err(|reason| format!("its duration_seconds: {reason}"))?,
        ),
    };
    if let Some(serial) = get("mfa_serial")
        && config.get(source.as_str(), "mfa_serial").map(str::trim) != Some(serial)
    {
        return Err(format!(
            "it asks for MFA device {serial}, which [profile {source}] does not name: set mfa_serial = {serial} there (awskeep asks one code, for {source}'s session) and run migrate again"
        ));
    }
    Ok(RoleCandidate {
        profile,
        role_arn,
        source,
        duration,
    })
}

/// Rewrites `candidate`'s section as an awskeep role profile with `line`, after assuming the role
/// once from the edited settings (unless `no_verify`).
pub fn turn(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    candidate: &RoleCandidate,
    line: &SettingValue,
    no_verify: bool,
) -> Result<()> {
    let profile = &candidate.profile;
    let mut config = crate::config_file::load(&ctx.config_file, FileKind::Config)?;
    let value = |key: &'static str, text: &str| {
        SettingValue::new(text).map_err(|reason| Error::BadSetting {
            profile: profile.to_string(),
            key,
            reason: reason.into(),
        })
    };
    let mut renamed = Vec::new();
    for (theirs, ours) in RENAMED {
        if let Some(text) = config.document().get(profile.as_str(), theirs) {
            renamed.push((ours, value(ours, text.trim())?));
        }
    }
    config.set(profile, "credential_process", line);
    for (theirs, _) in RENAMED {
        config.remove(profile.as_str(), theirs);
    }
    for (ours, text) in &renamed {
        config.set(profile, ours, text);
    }
    // As add-role: a role profile without a region gets its source's (clients need one).
    if config.document().get(profile.as_str(), "region").is_none()
        && let Some(region) = config
            .document()
            .get(candidate.source.as_str(), "region")
            .map(str::to_string)
    {
        config.set(profile, "region", &value("region", &region)?);
    }
    if let Some(duration) = candidate.duration {
        config.remove(profile.as_str(), "duration_seconds");
        config.set(
            profile,
            "awskeep_role_duration",
            &SettingValue::duration(duration),
        );
    }
    if !no_verify {
        credentials::resolve_in(
            ctx,
            store,
            aws,
            profile,
            config.document(),
            None,
            Refresh::Force,
        )?;
    }
    crate::profile_setup::save_process_line(&config, profile, Some(line.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    fn found(text: &str, moving: &[&str], only: &[&str]) -> (Vec<String>, Vec<(String, String)>) {
        let config = Document::parse(text, FileKind::Config).unwrap();
        let store = MemoryStore::default();
        let names = |list: &[&str]| -> Vec<ProfileName> {
            list.iter()
                .map(|n| ProfileName::parse(n).unwrap())
                .collect()
        };
        let (roles, left) = find(&config, &store, &names(moving), &names(only));
        (roles.iter().map(|r| r.profile.to_string()).collect(), left)
    }

    const ROLES: &str = "[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n\
        [profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = dev\nduration_seconds = 7200\n\
        [profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n\
        [profile other-mfa]\nrole_arn = arn:aws:iam::123456789012:role/c\nsource_profile = dev\nmfa_serial = arn:aws:iam::123456789012:mfa/other\n\
        [profile short]\nrole_arn = arn:aws:iam::123456789012:role/d\nsource_profile = dev\nduration_seconds = 900\n\
        [profile elsewhere]\nrole_arn = arn:aws:iam::123456789012:role/e\nsource_profile = sso\n";

    #[test]
    fn roles_whose_source_awskeep_serves_are_found_through_a_chain_and_the_rest_say_why() {
        let (roles, left) = found(ROLES, &["dev"], &[]);
        assert_eq!(roles, ["a", "b"], "b qualifies once a is turned");
        assert_eq!(
            left,
            [
                ("other-mfa".to_string(), "it asks for MFA device arn:aws:iam::123456789012:mfa/other, which [profile dev] does not name: set mfa_serial = arn:aws:iam::123456789012:mfa/other there (awskeep asks one code, for dev's session) and run migrate again".to_string()),
                ("short".to_string(), "its duration_seconds: use 1h or more: AWS clients start refreshing up to 15 minutes before a session ends and awskeep serves one only while it has more than 20 minutes left, so a shorter session would be fetched again every few minutes".to_string()),
            ],
            "a source awskeep does not serve is not mentioned unless named"
        );
        let (roles, left) = found(ROLES, &[], &["b", "elsewhere"]);
        assert!(roles.is_empty(), "{roles:?}");
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(
            left[0]
                .1
                .contains("its source_profile a is not an awskeep profile")
        );
        assert!(
            left[1]
                .1
                .contains("its source_profile sso is not an awskeep profile")
        );
    }
}
