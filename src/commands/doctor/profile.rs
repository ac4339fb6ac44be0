//! The checks of one awskeep profile: its credential_process line (awskeep's, for this profile, a
//! program that exists, is executable and is quoted so every client runs it), nothing shadowing it
//! (plaintext keys, another credential source), a region, the stored key (there, its age, an
//! unfinished rotation) and its session state. Reads only; never writes.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::report::{Finding, Severity};
use crate::context::Context;
use crate::error::Error;
use crate::key_age::{AgeFrom, KeyAge};
use crate::process_line;
use crate::profile::Document;
use crate::profile_name::ProfileName;
use crate::secret::{Rotation, StoredKey};
use crate::settings::SessionSettings;
use crate::store::facade::CredentialStore;

/// The AWS files as doctor read them (leniently: a line the AWS CLI would skip is reported, not
/// fatal).
pub struct Files {
    pub config_path: PathBuf,
    pub config: Document,
    pub credentials_path: PathBuf,
    pub credentials: Document,
}

/// What the profile checks learnt that the checks across profiles need.
#[derive(Default)]
pub struct Facts {
    pub account_id: Option<String>,
    pub region: Option<String>,
}

/// Every check of `profile`; `store` is `None` when the store cannot be read (already reported).
pub fn check(
    ctx: &Context,
    files: &Files,
    store: Option<&CredentialStore>,
    profile: &ProfileName,
    max_age: Duration,
    now: SystemTime,
) -> (Vec<Finding>, Facts) {
    let mut findings = Vec::new();
    let mut facts = Facts::default();
    let line = files.config.get(profile.as_str(), "credential_process");
    let item = store.map(|store| store.get(profile));
    let known = line.is_some_and(|l| process_line::awskeep_profile(l).is_some())
        || matches!(item, Some(Ok(Some(_))) | Some(Err(_)));
    if !known {
        findings.push(
            Finding::new(
                Severity::Fail,
                "profile",
                "not an awskeep profile: no awskeep credential_process line and no stored key",
            )
            .fix(format!("store its key with `awskeep add {profile}`")),
        );
        return (tag(findings, profile), facts);
    }

    findings.push(process_line_finding(ctx, files, profile, line));
    let stored_id = match &item {
        Some(Ok(Some(key))) => Some(&key.key.access_key_id),
        _ => None,
    };
    findings.push(shadowing_finding(files, profile, stored_id));
    let region = files.config.get(profile.as_str(), "region");
    facts.region = region.map(str::to_string);
    findings.push(region_finding(ctx, files, profile, region));
    if files
        .config
        .get(profile.as_str(), "awskeep_role_arn")
        .is_some()
        && !matches!(item, Some(Ok(Some(_))))
    {
        findings.extend(role_findings(files, store, profile, now));
        return (tag(findings, profile), facts);
    }

    match item {
        None => {}
        Some(Ok(None)) => findings.push(
            Finding::new(
                Severity::Fail,
                "key",
                format!(
                    "no key is stored for it in the {}",
                    store.map_or("store", |s| s.display_name())
                ),
            )
            .fix(format!("store its key again with `awskeep add {profile}`")),
        ),
        Some(Err(error)) => findings.push(Finding::from_error(Severity::Fail, "key", &error)),
        Some(Ok(Some(key))) => {
            facts.account_id = key.owner.as_ref().map(|o| o.account_id.clone());
            findings.push(Finding::ok(
                "key",
                format!(
                    "key {} is in the {}{}",
                    key.key.access_key_id,
                    store.map_or("store", |s| s.display_name()),
                    key.owner
                        .as_ref()
                        .map(|o| format!(" ({})", o.arn))
                        .unwrap_or_default()
                ),
            ));
            findings.push(age_finding(&key, profile, max_age, now));
            if let Some(finding) = rotation_finding(&key, profile) {
                findings.push(finding);
            }
            if let Some(store) = store {
                findings.extend(session_findings(files, store, profile, &key, now));
            }
        }
    }
    (tag(findings, profile), facts)
}

/// A role profile's chain: it reads (no loop, settings that parse), it ends at a profile with a
/// stored key, and its cached role session.
fn role_findings(
    files: &Files,
    store: Option<&CredentialStore>,
    profile: &ProfileName,
    now: SystemTime,
) -> Vec<Finding> {
    let chain = crate::settings::ProfileSettings::read(&files.config, profile)
        .and_then(|settings| crate::role_chain::RoleChain::read(&files.config, profile, settings));
    let chain = match chain {
        Ok(chain) => chain,
        Err(error) => return vec![Finding::from_error(Severity::Fail, "role", &error)],
    };
    let names: Vec<String> = chain
        .hops
        .iter()
        .map(|hop| hop.profile.to_string())
        .chain(std::iter::once(chain.root.to_string()))
        .collect();
    let role_arn = &chain.hops[0].role().role_arn;
    let Some(store) = store else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    match store.get(&chain.root) {
        Ok(Some(_)) => findings.push(Finding::ok(
            "role",
            format!(
                "assumes {role_arn} through {} (the last one's key is in the {})",
                names.join(" -> "),
                store.display_name()
            ),
        )),
        Ok(None) => findings.push(
            Finding::new(
                Severity::Fail,
                "role",
                format!(
                    "assumes {role_arn} through {}, but no key is stored for {} in the {}",
                    names.join(" -> "),
                    chain.root,
                    store.display_name()
                ),
            )
            .fix(format!(
                "store it with `awskeep add {}`, or name another source in awskeep_source_profile",
                chain.root
            )),
        ),
        Err(error) => findings.push(Finding::from_error(Severity::Fail, "role", &error)),
    }
    // Settings of the source's session that a role's own section does not change.
    let unused: Vec<&str> = [
        "awskeep_mfa_process",
        "awskeep_mfa_prompt",
        "awskeep_session",
        "awskeep_session_duration",
    ]
    .into_iter()
    .filter(|key| files.config.get(profile.as_str(), key).is_some())
    .chain(
        files
            .config
            .get(profile.as_str(), "mfa_serial")
            .filter(|serial| Some(*serial) != chain.root_settings.session.mfa_serial.as_deref())
            .map(|_| "mfa_serial"),
    )
    .collect();
    if !unused.is_empty() {
        findings.push(
            Finding::new(
                Severity::Warn,
                "role",
                format!(
                    "{} in {} is not used: a role's MFA code and session are its source's ({})",
                    unused.join(", "),
                    section(profile),
                    chain.root
                ),
            )
            .fix(format!(
                "move it to {} (or remove it)",
                section(&chain.root)
            )),
        );
    }
    let session = store
        .get_session(profile)
        .ok()
        .flatten()
        .filter(|s| s.role.is_some() && s.expiration > now);
    findings.push(Finding::new(
        Severity::Info,
        "session",
        match session {
            Some(session) => format!(
                "role session cached until {}",
                crate::lease::clock_time(session.expiration)
            ),
            None => "no role session cached: the next call assumes the role".into(),
        },
    ));
    findings
}

fn tag(findings: Vec<Finding>, profile: &ProfileName) -> Vec<Finding> {
    findings
        .into_iter()
        .map(|mut f| {
            f.profile = Some(profile.to_string());
            f
        })
        .collect()
}

/// `[default]` or `[profile NAME]`: the config section as the user sees it.
fn section(profile: &ProfileName) -> String {
    if profile.is_default() {
        "[default]".into()
    } else {
        format!("[profile {profile}]")
    }
}

/// "set `credential_process = LINE` in [profile P] of FILE", with this awskeep's own line.
fn line_fix(ctx: &Context, files: &Files, profile: &ProfileName) -> String {
    match ctx
        .own_program()
        .and_then(|program| process_line::build(&program, profile, None))
    {
        Ok(line) => format!(
            "set `credential_process = {}` in {} of {}",
            line.as_str(),
            section(profile),
            files.config_path.display()
        ),
        Err(error) => crate::hint::hint(&error, Some(crate::cli::CommandKind::Doctor))
            .unwrap_or_else(|| format!("run `awskeep add {profile} --force`")),
    }
}

/// The same program and arguments, whatever `--store` the line adds.
fn same_command(ours: &str, line: &str) -> bool {
    let without_store = |l: &str| l.split(" --store ").next().unwrap_or(l).trim().to_string();
    without_store(ours) == without_store(line)
}

fn process_line_finding(
    ctx: &Context,
    files: &Files,
    profile: &ProfileName,
    line: Option<&str>,
) -> Finding {
    let check = "credential_process";
    let Some(line) = line else {
        return Finding::new(
            Severity::Fail,
            check,
            format!(
                "{} of {} has no credential_process line, so AWS clients never ask awskeep",
                section(profile),
                files.config_path.display()
            ),
        )
        .fix(line_fix(ctx, files, profile));
    };
    match process_line::awskeep_profile(line) {
        None => {
            return Finding::new(
                Severity::Warn,
                check,
                "runs another program, not awskeep; the stored key is unused",
            )
            .fix(format!(
                "{}, or `awskeep remove {profile}` if the other program is meant",
                line_fix(ctx, files, profile)
            ));
        }
        Some(served) if served != profile.as_str() => {
            return Finding::new(
                Severity::Fail,
                check,
                format!("the line serves profile {served}, not {profile}"),
            )
            .fix(line_fix(ctx, files, profile));
        }
        Some(_) => {}
    }
    if let Some(reason) = process_line::client_problem(line) {
        // Where this awskeep's own line would be the same (a Windows path that needs quotes on a
        // volume without short names), rewriting it helps nobody: moving awskeep does.
        let ours = ctx
            .own_program()
            .and_then(|program| process_line::build(&program, profile, None))
            .ok();
        if ours
            .as_ref()
            .is_some_and(|ours| same_command(ours.as_str(), line))
        {
            return Finding::new(
                Severity::Warn,
                check,
                format!("some AWS clients cannot run the line: {reason}"),
            )
            .fix(format!(
                "install awskeep in a folder whose path has no spaces or ( ) & ^ < > @, then run `awskeep add {profile} --force`"
            ));
        }
        return Finding::new(
            Severity::Fail,
            check,
            format!("some AWS clients cannot run the line: {reason}"),
        )
        .fix(line_fix(ctx, files, profile));
    }
    let Some(program) = process_line::program(line) else {
        return Finding::new(Severity::Fail, check, "the line is empty")
            .fix(line_fix(ctx, files, profile));
    };
    let path = Path::new(&program);
    if !path.is_absolute() {
        return Finding::new(
            Severity::Warn,
            check,
            format!(
                "runs `{program}` from PATH; a client started without your shell's PATH (an IDE, a GUI) cannot find it"
            ),
        )
        .fix(line_fix(ctx, files, profile));
    }
    match std::fs::metadata(path) {
        Err(_) => Finding::new(
            Severity::Fail,
            check,
            format!("runs {program}, which does not exist (awskeep moved or was uninstalled?)"),
        )
        .fix(line_fix(ctx, files, profile)),
        Ok(meta) if !meta.is_file() || !is_executable(&meta) => Finding::new(
            Severity::Fail,
            check,
            format!("runs {program}, which is not an executable file"),
        )
        .fix(line_fix(ctx, files, profile)),
        Ok(_) => Finding::ok(
            check,
            format!("runs {program} (exists, executable, quoted safely)"),
        ),
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

fn shadowing_finding(
    files: &Files,
    profile: &ProfileName,
    stored: Option<&crate::secret::AccessKeyId>,
) -> Finding {
    let check = "shadowing";
    // Plaintext lines holding another key than the stored one: the SDKs use that one, and which
    // of the two is current is for the user to say; each way out is named.
    let plaintext = [
        (
            &files.credentials_path,
            &files.credentials,
            profile.to_string(),
        ),
        (&files.config_path, &files.config, section(profile)),
    ]
    .into_iter()
    .find_map(|(path, document, where_)| {
        let id = document.get(profile.as_str(), "aws_access_key_id")?;
        Some((path, where_, crate::secret::AccessKeyId::parse(id).ok()))
    });
    if let (Some(stored), Some((path, where_, Some(plaintext)))) = (stored, &plaintext)
        && *stored != *plaintext
    {
        return Finding::new(
            Severity::Fail,
            check,
            format!(
                "[{}] in {} holds key {plaintext} in plain text, which the AWS CLI and SDKs use instead of the stored key {stored}",
                where_.trim_start_matches('[').trim_end_matches(']'),
                path.display()
            ),
        )
        .fix(format!(
            "to keep the stored key {stored}: `awskeep migrate {profile} --discard-plaintext` (deletes the plaintext lines); to keep {plaintext}: `awskeep migrate {profile} --replace-stored`"
        ));
    }
    if let Err(error) = crate::profile_setup::plaintext_keys(
        (&files.config_path, &files.config),
        (&files.credentials_path, &files.credentials),
        profile,
    ) {
        return Finding::from_error(Severity::Fail, check, &error);
    }
    if let Err(Error::ConflictingSource { key, path, .. }) =
        crate::profile_setup::other_sources(&files.config_path, &files.config, profile)
    {
        return Finding::new(
            Severity::Fail,
            check,
            format!(
                "{} also has `{key}`, a credential source the SDKs prefer to (or mix with) credential_process",
                section(profile)
            ),
        )
        .fix(format!(
            "remove the `{key}` line from {} in {}",
            section(profile),
            path.display()
        ));
    }
    Finding::ok(
        check,
        "no plaintext key or other credential source shadows awskeep",
    )
}

fn region_finding(
    ctx: &Context,
    files: &Files,
    profile: &ProfileName,
    region: Option<&str>,
) -> Finding {
    if let Some(region) = region {
        return Finding::ok("region", format!("region {region}"));
    }
    let example = ctx.env_region.as_deref().unwrap_or("us-east-1");
    let only_env = match &ctx.env_region {
        Some(env) => format!(" (only AWS_REGION={env} in this shell sets one)"),
        None => String::new(),
    };
    let command_flag = if profile.is_default() {
        String::new()
    } else {
        format!(" --profile {profile}")
    };
    Finding::new(
        Severity::Warn,
        "region",
        format!(
            "no region in {}{only_env}; AWS clients without one refuse to call regional services",
            section(profile)
        ),
    )
    .fix(format!(
        "add `region = {example}` to {} in {} (or run `aws configure set region {example}{command_flag}`)",
        section(profile),
        files.config_path.display()
    ))
}

fn age_finding(
    key: &StoredKey,
    profile: &ProfileName,
    max_age: Duration,
    now: SystemTime,
) -> Finding {
    let age = KeyAge::of(key, now);
    let counted = match age.from {
        AgeFrom::Iam => "",
        AgeFrom::Stored => {
            " (counted from when awskeep stored it: IAM's creation date of this key is unknown)"
        }
    };
    let age_text = days(age.days());
    if age.age > max_age {
        Finding::new(
            Severity::Warn,
            "key_age",
            format!(
                "key {} is {age_text} old{counted}, older than {}",
                key.key.access_key_id,
                if max_age.as_secs().is_multiple_of(86_400) {
                    days(max_age.as_secs() / 86_400)
                } else {
                    humantime::format_duration(max_age).to_string()
                }
            ),
        )
        .fix(format!("rotate it: `awskeep rotate --profile {profile}`"))
    } else {
        Finding::ok("key_age", format!("key is {age_text} old{counted}"))
    }
}

fn days(n: u64) -> String {
    match n {
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

/// A rotation left half-done: the profile works (credential_process serves the current key), but a
/// key that should be gone may still be live in IAM, or one nobody holds may have been created.
fn rotation_finding(key: &StoredKey, profile: &ProfileName) -> Option<Finding> {
    let what = match &key.rotation {
        Rotation::Idle => return None,
        // A retirement waiting for the lease of programs served the old key is a rotation going as
        // planned (docs/CLIENTS.md, "Rotation reaches running programs"), not a half-done one.
        Rotation::Retiring {
            old,
            delete_after: Some(after),
            deactivate_only,
        } if !crate::rotation::is_due(Some(*after), std::time::SystemTime::now()) => {
            let verb = if *deactivate_only {
                "deactivates"
            } else {
                "deletes"
            };
            return Some(
                Finding::new(
                    Severity::Info,
                    "rotation",
                    format!(
                        "the old key {} stays in IAM until {} for programs that were served it; a background awskeep {verb} it then",
                        old.access_key_id,
                        crate::lease::clock_time(*after)
                    ),
                )
                .fix(format!(
                    "only for a leaked key: `awskeep rotate --profile {profile} --now`"
                )),
            );
        }
        Rotation::Retiring { old, .. } => format!(
            "an interrupted rotation switched to the new key, but the old key {} is still live in IAM",
            old.access_key_id
        ),
        Rotation::Pending { key, .. } => format!(
            "an interrupted rotation created key {} but never switched to it",
            key.access_key_id
        ),
        Rotation::Intent { .. } => {
            "an interrupted rotation may have left a new key in IAM that nobody holds".to_string()
        }
    };
    Some(
        Finding::new(Severity::Fail, "rotation", what)
            .fix(format!("finish it: `awskeep rotate --profile {profile}`")),
    )
}

fn session_findings(
    files: &Files,
    store: &CredentialStore,
    profile: &ProfileName,
    key: &StoredKey,
    now: SystemTime,
) -> Vec<Finding> {
    let check = "session";
    let settings = match SessionSettings::from_config(&files.config, profile) {
        Ok(settings) => settings,
        Err(error) => return vec![Finding::from_error(Severity::Fail, check, &error)],
    };
    if !settings.enabled {
        return vec![Finding::ok(
            check,
            "sessions off: AWS clients get the stored key itself",
        )];
    }
    let mut findings = vec![match store.get_session(profile) {
        Ok(None) => Finding::ok(
            check,
            "sessions on; none cached: the next AWS call gets one",
        ),
        Ok(Some(session)) if session.usable(key.key.access_key_id.as_str(), &settings, now) => {
            let left = session.expiration.duration_since(now).unwrap_or_default();
            Finding::ok(
                check,
                format!(
                    "sessions on; the cached session is good until {} ({} left)",
                    humantime::format_rfc3339_seconds(session.expiration),
                    humantime::format_duration(Duration::from_secs(left.as_secs() / 60 * 60))
                ),
            )
        }
        Ok(Some(_)) => Finding::ok(
            check,
            "sessions on; the cached session is spent or from an earlier key: the next AWS call replaces it",
        ),
        Err(error) => Finding::from_error(Severity::Warn, check, &error).fix(format!(
            "drop it: `awskeep session clear --profile {profile}`"
        )),
    }];
    if settings.mfa_serial.is_some() && settings.mfa_process.is_none() {
        findings.push(
            Finding::new(
                Severity::Info,
                check,
                "MFA codes are asked on the terminal; a client without one (an IDE, a GUI) cannot answer",
            )
            .fix(format!(
                "set `awskeep_mfa_process = COMMAND` (a command that prints the code, e.g. `ykman oath accounts code -s NAME`) in {}",
                section(profile)
            )),
        );
    }
    findings
}

#[cfg(test)]
mod rotation_tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey};

    fn retiring(delete_after: Option<SystemTime>) -> StoredKey {
        let pair = |id: &str| KeyPair {
            access_key_id: AccessKeyId::parse(id).unwrap(),
            secret_access_key: SecretAccessKey::parse("s").unwrap(),
        };
        let mut key = StoredKey::new(pair("AKIAIOSFODNN7EXAMPLE"), None, SystemTime::now());
        key.rotation = Rotation::Retiring {
            old: pair("AKIAI44QH8DHBEXAMPLE"),
            delete_after,
            deactivate_only: false,
        };
        key
    }

    /// After every rotation the old key waits an hour for the lease of programs served it: doctor
    /// says so (info), and fails only a retirement that is overdue or was interrupted.
    #[test]
    fn a_retirement_waiting_for_its_time_is_info_and_an_overdue_one_fails() {
        let dev = ProfileName::parse("dev").unwrap();
        let hour = Duration::from_secs(3600);
        let waiting = rotation_finding(&retiring(Some(SystemTime::now() + hour)), &dev).unwrap();
        assert_eq!(waiting.severity, Severity::Info, "{}", waiting.message);
        assert!(waiting.message.contains("stays in IAM until"));
        for overdue in [Some(SystemTime::now() - hour), None] {
            let finding = rotation_finding(&retiring(overdue), &dev).unwrap();
            assert_eq!(finding.severity, Severity::Fail, "{}", finding.message);
        }
    }
}
