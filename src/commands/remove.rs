//! `awskeep remove PROFILE`: deletes the profile's store item and what awskeep wrote into its
//! section: the awskeep `credential_process` line and the `awskeep_*` settings (`SETTINGS`); the
//! section goes too when nothing else is in it. The AWS settings (`region`, `mfa_serial`, ...) stay:
//! other tools read them, and the user may have written them. The config is edited first, so no
//! client is left pointing at a missing item if the store delete fails. A credential_process that
//! is not awskeep's is left alone.
//!
//! Removing a profile does not touch IAM by itself: the key still works. Then awskeep says so and
//! prints the `aws iam delete-access-key` line; `--delete-key` (or `--deactivate-key`, or yes to the
//! question on a terminal) has awskeep do it, acting as the key itself, after the local removal. A
//! key another profile still holds is never deleted or deactivated: no question is asked about it,
//! and a flag asking for it is refused before anything changes.

use crate::aws::iam::delete_key_command;
use crate::aws::{Aws, AwsTarget};
use crate::cli::RemoveArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::process_line;
use crate::profile::FileKind;
use crate::prompt;
use crate::secret::{AccessKeyId, KeyOwner, StoredKey};
use crate::store::facade::CredentialStore;

/// The per-profile settings awskeep reads, all of them `awskeep_*`: `remove` takes them out with the
/// profile. (`awskeep_unlock_timeout` in `[default]` is the file store's, not a profile's: it stays.)
pub const SETTINGS: &[&str] = &[
    "awskeep_session",
    "awskeep_session_duration",
    "awskeep_mfa_prompt",
    "awskeep_mfa_process",
    "awskeep_cache",
    "awskeep_role_arn",
    "awskeep_source_profile",
    "awskeep_external_id",
    "awskeep_role_session_name",
    "awskeep_role_duration",
    "awskeep_source_identity",
];

/// What to do with the profile's keys in IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InIam {
    Delete,
    Deactivate,
    Keep,
}

pub fn run(ctx: &Context, store: &CredentialStore, aws: &dyn Aws, args: RemoveArgs) -> Result<()> {
    let profile = &args.profile;
    let mut config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let in_config = config
        .document()
        .get(profile.as_str(), "credential_process")
        .and_then(process_line::awskeep_profile)
        .is_some_and(|p| p == profile.as_str());
    let (item, corrupt) = match store.get(profile) {
        Ok(item) => (item, false),
        Err(Error::StoreItemCorrupt { .. }) => (None, true),
        Err(e) => return Err(e),
    };
    let in_store = item.is_some() || corrupt;
    if !in_config && !in_store {
        return Err(Error::NoSuchProfile {
            profile: profile.to_string(),
            store: store.display_name(),
            config: config.path.clone(),
        });
    }
    let in_iam = if args.delete_key {
        InIam::Delete
    } else if args.deactivate_key {
        InIam::Deactivate
    } else {
        InIam::Keep
    };
    // Every key the item holds, with the other profiles that hold it too (those keys stay in IAM).
    let keys = match &item {
        Some(item) => holders(store, profile, item)?,
        None => Vec::new(),
    };
    let shared: Vec<&(AccessKeyId, Vec<String>)> = keys
        .iter()
        .filter(|(_, others)| !others.is_empty())
        .collect();
    if in_iam != InIam::Keep
        && let Some((id, others)) = shared.first()
    {
        let (done, flag) = if in_iam == InIam::Delete {
            ("deleted", "--delete-key")
        } else {
            ("deactivated", "--deactivate-key")
        };
        return Err(Error::KeyHeldElsewhere {
            profile: profile.to_string(),
            key: id.to_string(),
            others: others.join(", "),
            done,
            flag,
        });
    }
    let loose: Vec<&AccessKeyId> = keys
        .iter()
        .filter(|(_, others)| others.is_empty())
        .map(|(id, _)| id)
        .collect();
    let also = match (in_iam, loose.as_slice()) {
        (InIam::Delete, [.., current]) => format!(", and delete key {current} in IAM"),
        (InIam::Deactivate, [.., current]) => format!(", and deactivate key {current} in IAM"),
        _ => String::new(),
    };
    let role = config
        .document()
        .get(profile.as_str(), "awskeep_role_arn")
        .map(str::to_string);
    if role.is_some() && !in_store && in_iam != InIam::Keep {
        return Err(Error::IsRoleProfile {
            profile: profile.to_string(),
            role_arn: role.clone().unwrap_or_default(),
        });
    }
    // What the role profile was, said after the removal: the settings are gone with it.
    let standard = role
        .as_ref()
        .filter(|_| !in_store)
        .map(|_| standard_role_lines(config.document(), profile));
    let question = match (&role, in_store) {
        (Some(arn), false) => format!(
            "Remove role profile {profile} (it assumes {arn}): its awskeep settings from {} and its cached role session?",
            config.path.display()
        ),
        _ => format!(
            "Remove profile {profile}: its key from the {} and its awskeep settings from {}{also}?",
            store.display_name(),
            config.path.display()
        ),
    };
    prompt::confirm(&question, args.yes, "--yes", ctx.stdin_is_terminal)?;
    // Asked only of a person at a terminal who gave neither --yes nor a key flag, and only about
    // keys no other profile holds (those stay whatever the answer); the safe answer (and the
    // answer without a terminal) is to keep the key and say how to delete it.
    let in_iam = match loose.as_slice() {
        [.., current]
            if in_iam == InIam::Keep
                && !args.keep_key
                && !args.yes
                && ctx.stdin_is_terminal
                && prompt::confirm(
                    &format!("Delete key {current} in IAM too? It then stops working everywhere."),
                    false,
                    "--delete-key",
                    true,
                )
                .is_ok() =>
        {
            InIam::Delete
        }
        _ => in_iam,
    };

    // What awskeep wrote into the section goes; a credential_process that is not awskeep's stays.
    if in_config {
        config.remove(profile.as_str(), "credential_process");
    }
    for key in SETTINGS {
        config.remove(profile.as_str(), key);
    }
    if config.is_changed() {
        let kept = config
            .document()
            .get(profile.as_str(), "credential_process")
            .map(str::to_string);
        crate::profile_setup::save_process_line(&config, profile, kept.as_deref())?;
        output::trace(
            ctx.verbose,
            &format!("removed awskeep's settings from {}", config.path.display()),
        );
    }
    if role.is_some() && !in_store {
        crate::profile_setup::drop_session(store, profile);
    }
    if in_store {
        store.delete(profile)?;
        crate::profile_setup::drop_session(store, profile);
        output::trace(
            ctx.verbose,
            &format!("deleted the {} item", store.display_name()),
        );
    }
    output::say(&format!("Removed profile {profile}."));
    if let Some(commands) = standard {
        output::say(&format!(
            "To keep its role without awskeep (the AWS CLI and SDKs then assume it themselves): {}",
            commands.join(" && ")
        ));
    }
    let sourced = roles_sourced_from(config.document(), profile);
    if !sourced.is_empty() {
        output::say(&format!(
            "Role profile(s) {} name {profile} as their source (awskeep_source_profile): they stop working until it is added again or they name another.",
            sourced.join(", ")
        ));
    }
    if corrupt {
        output::say(
            "Its store item could not be read, so awskeep cannot tell which IAM key it held; that key may still work (`aws iam list-access-keys` lists a user's keys).",
        );
    }
    match item {
        Some(item) => settle_in_iam(ctx, aws, &args, &item, &keys, in_iam, config.document()),
        None => Ok(()),
    }
}

/// The `aws configure set` commands that give `profile` back its role as a standard role profile
/// (the reverse of what `migrate` does).
fn standard_role_lines(
    config: &crate::profile::Document,
    profile: &crate::profile_name::ProfileName,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (ours, theirs) in [
        ("awskeep_role_arn", "role_arn"),
        ("awskeep_source_profile", "source_profile"),
        ("awskeep_external_id", "external_id"),
        ("awskeep_role_session_name", "role_session_name"),
        ("awskeep_role_duration", "duration_seconds"),
    ] {
        let Some(value) = config.get(profile.as_str(), ours).map(str::trim) else {
            continue;
        };
        let value = match theirs {
            "duration_seconds" => match humantime::parse_duration(value) {
                Ok(duration) => duration.as_secs().to_string(),
                Err(_) => continue,
            },
            _ => value.to_string(),
        };
        lines.push(format!(
            "aws configure set {theirs} {value} --profile {profile}"
        ));
    }
    lines
}

/// The role profiles whose `awskeep_source_profile` is `profile`.
fn roles_sourced_from(
    config: &crate::profile::Document,
    profile: &crate::profile_name::ProfileName,
) -> Vec<String> {
    crate::role_chain::role_profiles(config)
        .into_iter()
        .filter(|role| {
            config
                .get(role.as_str(), "awskeep_source_profile")
                .map(str::trim)
                == Some(profile.as_str())
        })
        .map(|role| role.to_string())
        .collect()
}

/// Each key `item` holds (a pending or previous key of an unfinished rotation first, the current
/// key last), with the other profiles whose items hold it too. An item that cannot be read serves
/// nothing, so it holds nothing here.
fn holders(
    store: &CredentialStore,
    profile: &crate::profile_name::ProfileName,
    item: &StoredKey,
) -> Result<Vec<(AccessKeyId, Vec<String>)>> {
    let mut others = Vec::new();
    for other in store.list()? {
        if &other == profile {
            continue;
        }
        match store.get(&other) {
            Ok(Some(held)) => others.push((other, held)),
            Ok(None) | Err(Error::StoreItemCorrupt { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let ids = |k: &StoredKey| -> Vec<AccessKeyId> {
        k.rotation
            .other_key()
            .into_iter()
            .chain(std::iter::once(&k.key))
            .map(|k| k.access_key_id.clone())
            .collect()
    };
    Ok(ids(item)
        .into_iter()
        .map(|id| {
            let holding = others
                .iter()
                .filter(|(_, held)| ids(held).contains(&id))
                .map(|(name, _)| name.to_string())
                .collect();
            (id, holding)
        })
        .collect())
}

/// After the local removal: deletes or deactivates the item's keys in IAM, or says they still work
/// and how to delete them. Keys another profile holds are left alone, and their holders named.
fn settle_in_iam(
    ctx: &Context,
    aws: &dyn Aws,
    args: &RemoveArgs,
    item: &StoredKey,
    keys: &[(AccessKeyId, Vec<String>)],
    in_iam: InIam,
    config: &crate::profile::Document,
) -> Result<()> {
    let profile = &args.profile;
    let mut loose = Vec::new();
    for (id, others) in keys {
        if others.is_empty() {
            loose.push(id);
        } else {
            output::say(&format!(
                "Key {id} stays in IAM: {} still {}.",
                held_by(others),
                if others.len() == 1 {
                    "holds it"
                } else {
                    "hold it"
                }
            ));
        }
    }
    let owner = item.owner.as_ref();
    if in_iam == InIam::Keep {
        for id in &loose {
            say_still_works(id, owner);
        }
        return Ok(());
    }
    let Some(&current) = loose.last() else {
        return Ok(());
    };
    let target = AwsTarget::resolve(ctx, None, config.get(profile.as_str(), "region"));
    output::trace(ctx.verbose, &target.describe());
    let done = if in_iam == InIam::Delete {
        "deleted"
    } else {
        "deactivated"
    };
    let left = |id: &AccessKeyId, e: Error| Error::KeyLeftInIam {
        profile: profile.to_string(),
        key: id.to_string(),
        done,
        cause: e.cause_line(),
        command: delete_key_command(id, owner),
    };
    let iam = aws
        .acting_as(&target, profile, &item.key)
        .map_err(|e| left(current, e))?;
    let user = iam.caller().user().map_err(|e| left(current, e))?;
    for id in loose {
        let result = if in_iam == InIam::Delete {
            iam.delete_access_key(&user, id)
        } else {
            iam.deactivate_access_key(&user, id)
        };
        match result {
            Ok(()) => output::say(&format!("{} key {id} of IAM user {user}.", capital(done))),
            // NoSuchEntity: IAM no longer has it.
            Err(Error::NoSuchUser { .. }) => {
                output::say(&format!("Key {id} was already gone from IAM."));
            }
            Err(e) => return Err(left(id, e)),
        }
    }
    Ok(())
}

/// "profile b" or "profiles b, c".
fn held_by(others: &[String]) -> String {
    match others {
        [one] => format!("profile {one}"),
        _ => format!("profiles {}", others.join(", ")),
    }
}

fn capital(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn say_still_works(id: &AccessKeyId, owner: Option<&KeyOwner>) {
    output::say(&format!(
        "Key {id} is still active in IAM: awskeep only forgot it. To delete it: {}",
        delete_key_command(id, owner)
    ));
}

#[cfg(test)]
mod tests {
    /// Every `awskeep_*` setting the source reads is one `remove` takes out with the profile, but
    /// the file store's `awskeep_unlock_timeout` (read from `[default]`, not a profile's).
    #[test]
    fn remove_knows_every_awskeep_setting() {
        fn walk(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (at, _) in text.match_indices("\"awskeep_") {
                        let name: String = text[at + 1..]
                            .chars()
                            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                            .collect();
                        if name.len() > "awskeep_".len()
                            && text[at + 1 + name.len()..].starts_with('"')
                        {
                            found.insert(name);
                        }
                    }
                }
            }
        }
        let mut found = std::collections::BTreeSet::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found.remove("awskeep_unlock_timeout");
        assert!(found.len() >= 5, "{found:?}");
        for name in &found {
            assert!(
                super::SETTINGS.contains(&name.as_str()),
                "{name} is missing from remove::SETTINGS"
            );
        }
    }
}
