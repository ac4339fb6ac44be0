//! A role profile's chain: from the role, through each `awskeep_source_profile` that is itself a
//! role profile, to the profile whose stored key starts it (the root). Read from the config alone
//! (no store, no network), so `credential-process`, `doctor` and `list` see the same chain, with
//! its loop or missing source named the same way. What a chain's session answers to (the
//! settings of every hop and the root's MFA device) is `parts`, for its fingerprint.

use crate::error::{Error, Result};
use crate::profile::Document;
use crate::profile_name::ProfileName;
use crate::settings::{CHAINED_ROLE_MAX, ProfileSettings, RoleSettings};

/// The longest chain awskeep follows; AWS itself has no fixed limit, but a longer one is a mistake.
const MAX_HOPS: usize = 10;

/// One role of the chain: its profile and settings.
pub struct Hop {
    pub profile: ProfileName,
    pub settings: ProfileSettings,
}

impl Hop {
    pub fn role(&self) -> &RoleSettings {
        self.settings
            .role
            .as_ref()
            .expect("a hop is read only from a profile with awskeep_role_arn")
    }
}

/// The chain of a role profile: `hops[0]` is the profile asked for, each next one its source,
/// and `root` the first profile that is not a role profile.
pub struct RoleChain {
    pub hops: Vec<Hop>,
    pub root: ProfileName,
    pub root_settings: ProfileSettings,
}

impl RoleChain {
    /// The chain starting at `profile`, whose settings (`settings.role` is `Some`) are read already.
    pub fn read(
        config: &Document,
        profile: &ProfileName,
        settings: ProfileSettings,
    ) -> Result<Self> {
        let mut hops = vec![Hop {
            profile: profile.clone(),
            settings,
        }];
        loop {
            let source = hops[hops.len() - 1].role().source_profile.clone();
            if let Some(seen) = hops.iter().position(|hop| hop.profile == source) {
                let mut names: Vec<String> =
                    hops[seen..].iter().map(|h| h.profile.to_string()).collect();
                names.push(source.to_string());
                return Err(Error::RoleLoop {
                    chain: names.join(" -> "),
                });
            }
            let source_settings = ProfileSettings::read(config, &source)?;
            if source_settings.role.is_none() {
                return Ok(Self {
                    hops,
                    root: source,
                    root_settings: source_settings,
                });
            }
            if hops.len() >= MAX_HOPS {
                let names: Vec<String> = hops.iter().map(|h| h.profile.to_string()).collect();
                return Err(Error::RoleChainTooLong {
                    chain: format!("{} -> {source} -> ...", names.join(" -> ")),
                    max: MAX_HOPS,
                });
            }
            hops.push(Hop {
                profile: source,
                settings: source_settings,
            });
        }
    }

    /// Whether hop `index` is assumed with another role's credentials (STS then caps it at 1h).
    pub fn chained(&self, index: usize) -> bool {
        index + 1 < self.hops.len()
    }

    /// How long hop `index`'s session is asked for: its setting, at most 1h when chained.
    pub fn duration(&self, index: usize) -> std::time::Duration {
        let asked = self.hops[index].role().duration;
        if self.chained(index) {
            asked.min(CHAINED_ROLE_MAX)
        } else {
            asked
        }
    }

    /// What hop `index`'s session answers to: its settings and every hop's below it, the root and
    /// the root's MFA device. A session made under other parts is not served.
    pub fn parts(&self, index: usize) -> Vec<String> {
        let mut parts = Vec::new();
        for hop in &self.hops[index..] {
            let role = hop.role();
            parts.extend([
                hop.profile.to_string(),
                role.role_arn.clone(),
                role.external_id.clone().unwrap_or_default(),
                role.session_name.clone().unwrap_or_default(),
                role.duration.as_secs().to_string(),
                role.source_identity.clone().unwrap_or_default(),
                hop.settings.region.clone().unwrap_or_default(),
            ]);
        }
        parts.push(self.root.to_string());
        parts.push(
            self.root_settings
                .session
                .mfa_serial
                .clone()
                .unwrap_or_default(),
        );
        parts
    }
}

/// Every awskeep role profile in the config (a section with `awskeep_role_arn`), in file order.
pub fn role_profiles(config: &Document) -> Vec<ProfileName> {
    let mut found: Vec<ProfileName> = Vec::new();
    for section in config.sections() {
        if let Some(name) = section.profile.as_deref()
            && config.get(name, "awskeep_role_arn").is_some()
            && let Ok(profile) = ProfileName::parse(name)
            && !found.contains(&profile)
        {
            found.push(profile);
        }
    }
    found
}

/// The role session name awskeep uses when the profile sets none: `awskeep-` and the IAM user
/// name from the root key's ARN (so CloudTrail shows who assumed the role), else `awskeep-` and
/// the current Unix time, as the AWS CLI's `botocore-session-` and a timestamp.
pub fn default_session_name(root_arn: Option<&str>, unix_now: u64) -> String {
    let user = root_arn
        .and_then(|arn| arn.rsplit_once(":user/"))
        .map(|(_, path)| path.rsplit('/').next().unwrap_or(path))
        .filter(|name| !name.is_empty());
    let mut name = match user {
        Some(user) => format!("awskeep-{user}"),
        None => format!("awskeep-{unix_now}"),
    };
    name.truncate(64);
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FileKind;

    fn chain(text: &str, profile: &str) -> Result<RoleChain> {
        let doc = Document::parse(text, FileKind::Config).unwrap();
        let name = ProfileName::parse(profile).unwrap();
        let settings = ProfileSettings::read(&doc, &name)?;
        RoleChain::read(&doc, &name, settings)
    }

    const ARN: &str = "arn:aws:iam::123456789012:role/";

    #[test]
    fn a_chain_runs_from_the_role_through_role_sources_to_the_key_profile() {
        let text = format!(
            "[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n\
             [profile a]\nawskeep_role_arn = {ARN}a\nawskeep_source_profile = dev\nawskeep_role_duration = 8h\n\
             [profile b]\nawskeep_role_arn = {ARN}b\nawskeep_source_profile = a\nawskeep_role_duration = 4h\n"
        );
        let chain = chain(&text, "b").unwrap();
        let names: Vec<_> = chain.hops.iter().map(|h| h.profile.to_string()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(chain.root.as_str(), "dev");
        assert_eq!(
            chain.duration(0).as_secs(),
            3600,
            "b is chained: capped at 1h"
        );
        assert_eq!(chain.duration(1).as_secs(), 8 * 3600, "a keeps its 8h");
        assert!(
            chain
                .parts(1)
                .contains(&"arn:aws:iam::123456789012:mfa/me".to_string())
        );
        assert_ne!(chain.parts(0), chain.parts(1));
    }

    #[test]
    fn a_loop_of_sources_is_named_from_where_it_starts() {
        let text = format!(
            "[profile a]\nawskeep_role_arn = {ARN}a\nawskeep_source_profile = b\n\
             [profile b]\nawskeep_role_arn = {ARN}b\nawskeep_source_profile = a\n"
        );
        let err = chain(&text, "a").err().unwrap();
        assert_eq!(
            err.to_string(),
            "role profiles name each other as their source in a loop: a -> b -> a"
        );
        let text = format!("[profile a]\nawskeep_role_arn = {ARN}a\nawskeep_source_profile = a\n");
        assert!(
            chain(&text, "a")
                .err()
                .unwrap()
                .to_string()
                .ends_with("a -> a")
        );
    }

    #[test]
    fn a_role_without_a_source_or_with_a_bad_arn_is_a_bad_setting() {
        let err = chain(&format!("[profile a]\nawskeep_role_arn = {ARN}a\n"), "a")
            .err()
            .unwrap();
        assert!(err.to_string().contains("awskeep_source_profile"), "{err}");
        let err = chain(
            "[profile a]\nawskeep_role_arn = arn:aws:iam::1:user/x\nawskeep_source_profile = dev\n",
            "a",
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("awskeep_role_arn"), "{err}");
        let err = chain(
            &format!(
                "[profile a]\nawskeep_role_arn = {ARN}a\nawskeep_source_profile = dev\nawskeep_role_duration = 13h\n"
            ),
            "a",
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("at most 12h"), "{err}");
    }

    #[test]
    fn the_default_session_name_is_the_iam_user_else_the_time() {
        assert_eq!(
            default_session_name(Some("arn:aws:iam::123456789012:user/team/alice"), 5),
            "awskeep-alice"
        );
        assert_eq!(default_session_name(None, 1700000000), "awskeep-1700000000");
        assert_eq!(
            default_session_name(Some("arn:aws:iam::123456789012:root"), 7),
            "awskeep-7"
        );
        assert_eq!(
            default_session_name(Some(&format!("arn:aws:iam::1:user/{}", "x".repeat(80))), 7).len(),
            64
        );
    }
}
