//! `awskeep list`: the profiles awskeep holds, from the store and from `~/.aws/config`, so a profile
//! whose item is missing (or whose config line is gone) shows up too. The table is the command's
//! product and goes to stdout (`awskeep list | grep dev`); notes about it (old keys, ages awskeep
//! could not learn from IAM, one key under several profiles) go to stderr. `--json` prints every
//! row with the full access key ID, as `aws iam list-access-keys` shows it.
//!
//! A key's age is its age in IAM (`crate::key_age`); when IAM's creation date is unknown the age
//! counts from when awskeep stored the key, and the table marks it with `*`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use serde::Serialize;

use crate::cli::ListArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::key_age::{self, AgeFrom, KeyAge};
use crate::output;
use crate::process_line;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;
use crate::secret::{AccessKeyId, Rotation};
use crate::store::facade::CredentialStore;

#[derive(Debug, Serialize)]
struct Row {
    profile: String,
    /// The full ID: scripts match it against `aws iam list-access-keys`.
    access_key_id: Option<String>,
    account_id: Option<String>,
    arn: Option<String>,
    /// When the key entered awskeep.
    added_at: Option<String>,
    /// When IAM created the key (CreateDate); `null` when IAM's date is unknown.
    iam_created_at: Option<String>,
    /// The key's age in whole days, counted from `age_from`.
    age_days: Option<u64>,
    /// `iam` (CreateDate) or `awskeep` (IAM's date unknown: counted from `added_at`).
    age_from: Option<AgeFrom>,
    /// Other profiles that hold the same key.
    shared_with: Vec<String>,
    in_store: bool,
    in_config: bool,
    /// `pending` (a new key not yet switched to) or `finishing` (the old key not yet retired).
    rotation: Option<&'static str>,
    /// The old key a rotation keeps in IAM until `old_key_retired_after` (full ID).
    old_key_id: Option<String>,
    /// When that old key is deleted (or deactivated): RFC 3339.
    old_key_retired_after: Option<String>,
    /// A role profile: the role it assumes (`arn` is then the role's), and with whose credentials.
    role_arn: Option<String>,
    source_profile: Option<String>,
    /// When the cached role session ends (RFC 3339); `null` when none is cached.
    session_expires_at: Option<String>,
    status: String,
    /// For the table only: the masked ID.
    #[serde(skip)]
    masked_key: Option<String>,
}

const TOO_OLD: &str = "too old: rotate";
const UNFINISHED: &str = "rotation unfinished";

pub fn run(ctx: &Context, store: &CredentialStore, args: ListArgs) -> Result<()> {
    let config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let configured: BTreeSet<ProfileName> = config
        .document()
        .sections()
        .iter()
        .filter_map(|s| {
            let profile = ProfileName::parse(s.profile.as_deref()?).ok()?;
            let served = config
                .document()
                .get(profile.as_str(), "credential_process")?;
            (process_line::awskeep_profile(served).as_deref() == Some(profile.as_str()))
                .then_some(profile)
        })
        .collect();
    let mut profiles = configured.clone();
    profiles.extend(store.list()?);

    let now = SystemTime::now();
    let rfc3339 = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    let mut rows = Vec::new();
    for profile in profiles {
        let in_config = configured.contains(&profile);
        if in_config && let Some(row) = role_row(store, config.document(), &profile, now)? {
            rows.push(row);
            continue;
        }
        let row = match store.get(&profile) {
            Ok(Some(key)) => {
                let age = KeyAge::of(&key, now);
                let (rotation, old_key, retired_after, deactivate_only) = match &key.rotation {
                    Rotation::Idle => (None, None, None, false),
                    Rotation::Intent { .. } | Rotation::Pending { .. } => {
                        (Some("pending"), None, None, false)
                    }
                    Rotation::Retiring {
                        old,
                        delete_after,
                        deactivate_only,
                    } => (
                        Some("finishing"),
                        Some(old),
                        *delete_after,
                        *deactivate_only,
                    ),
                };
                // A retirement waiting for clients' leases to end is not an interrupted rotation.
                let waiting = retired_after.filter(|at| *at > now);
                Row {
                    profile: profile.to_string(),
                    access_key_id: Some(key.key.access_key_id.as_str().to_string()),
                    masked_key: Some(key.key.access_key_id.masked()),
                    account_id: key.owner.as_ref().map(|o| o.account_id.clone()),
                    arn: key.owner.as_ref().map(|o| o.arn.clone()),
                    added_at: Some(rfc3339(key.added_at)),
                    iam_created_at: key.iam_created_at.map(rfc3339),
                    age_days: Some(age.days()),
                    age_from: Some(age.from),
                    shared_with: Vec::new(),
                    in_store: true,
                    in_config,
                    rotation,
                    old_key_id: old_key.map(|k| k.access_key_id.as_str().to_string()),
                    old_key_retired_after: retired_after.map(rfc3339),
                    role_arn: None,
                    source_profile: None,
                    session_expires_at: None,
                    status: match (in_config, rotation, age.age > args.max_age) {
                        (false, _, _) => "not in config".into(),
                        (true, Some(_), _) => match (waiting, old_key) {
                            (Some(at), Some(old)) => format!(
                                "old key {} {} after {}",
                                old.access_key_id.masked(),
                                if deactivate_only {
                                    "deactivated"
                                } else {
                                    "deleted"
                                },
                                crate::lease::clock_time(at)
                            ),
                            _ => UNFINISHED.into(),
                        },
                        (true, None, true) => TOO_OLD.into(),
                        (true, None, false) => "ok".into(),
                    },
                }
            }
            // The store's index may name a profile whose key an interrupted write never stored.
            Ok(None) if !in_config => continue,
            Ok(None) => empty_row(&profile, false, in_config, "no key in store"),
            Err(Error::StoreItemCorrupt { .. }) => {
                empty_row(&profile, true, in_config, "unreadable item")
            }
            Err(e) => return Err(e),
        };
        rows.push(row);
    }
    let shared = mark_shared(&mut rows);

    if args.json {
        return output::print_json(&rows);
    }
    if rows.is_empty() {
        output::say(&format!(
            "No profiles in the {}. Add one with `awskeep add PROFILE`.",
            store.display_name()
        ));
        return Ok(());
    }
    output::print_text(&table(&rows))?;
    notes(&rows, &shared, &args);
    Ok(())
}

/// Fills each row's `shared_with`; returns each key several profiles hold (masked), with them.
fn mark_shared(rows: &mut [Row]) -> Vec<(String, Vec<String>)> {
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows.iter() {
        if let Some(id) = &row.access_key_id {
            holders
                .entry(id.clone())
                .or_default()
                .push(row.profile.clone());
        }
    }
    for row in rows.iter_mut() {
        if let Some(all) = row.access_key_id.as_ref().and_then(|id| holders.get(id)) {
            row.shared_with = all.iter().filter(|p| **p != row.profile).cloned().collect();
        }
    }
    holders
        .into_iter()
        .filter(|(_, profiles)| profiles.len() > 1)
        .map(|(id, profiles)| {
            let masked = AccessKeyId::parse(&id).map_or(id, |k| k.masked());
            (masked, profiles)
        })
        .collect()
}

/// The table: one header line and one line per profile, columns padded to their widest cell.
fn table(rows: &[Row]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let marker = if r.age_from == Some(AgeFrom::Stored) {
                "*"
            } else {
                ""
            };
            [
                r.profile.clone(),
                dash(&r.masked_key),
                dash(&r.account_id),
                r.iam_created_at
                    .as_deref()
                    .map_or("-".into(), |t| t.get(..10).unwrap_or(t).to_string()),
                r.age_days.map_or("-".into(), |d| format!("{d}d{marker}")),
                r.status.clone(),
            ]
        })
        .collect();
    let header = ["PROFILE", "KEY", "ACCOUNT", "CREATED", "AGE", "STATUS"].map(String::from);
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            std::iter::once(&header)
                .chain(&cells)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    text
}

/// What the table alone does not say, on stderr.
fn notes(rows: &[Row], shared: &[(String, Vec<String>)], args: &ListArgs) {
    if rows.iter().any(|r| r.age_from == Some(AgeFrom::Stored)) {
        output::say(
            "* IAM's creation date of this key is unknown (added with --no-verify, without iam:ListAccessKeys, or by an older awskeep): its age counts from when awskeep stored it.",
        );
    }
    let old: Vec<&str> = rows
        .iter()
        .filter(|r| r.status == TOO_OLD)
        .map(|r| r.profile.as_str())
        .collect();
    if !old.is_empty() {
        output::say(&format!(
            "Keys older than {}: {}. Rotate them with `awskeep rotate --profile NAME` (or `--all`).",
            key_age::describe(args.max_age),
            old.join(", ")
        ));
    }
    for (key, profiles) in shared {
        output::say(&format!(
            "awskeep: key {key} is stored under profiles {}: rotating or deleting it for one breaks the others (`awskeep rotate` refuses it). Keep one with `awskeep remove NAME`, or give each profile its own key.",
            profiles.join(", ")
        ));
    }
    if rows.iter().any(|r| r.status == UNFINISHED) {
        output::say("A rotation was interrupted; `awskeep rotate --profile NAME` finishes it.");
    }
    if rows.iter().any(|r| r.status.starts_with("old key ")) {
        output::say(
            "An old key stays in IAM for an hour after its rotation, until programs running with it have switched to the new key; `awskeep rotate --profile NAME --now` deletes it at once.",
        );
    }
}

/// A role profile's row: its role, source and cached session (`None`: not a role profile).
fn role_row(
    store: &CredentialStore,
    config: &crate::profile::Document,
    profile: &ProfileName,
    now: SystemTime,
) -> Result<Option<Row>> {
    if config.get(profile.as_str(), "awskeep_role_arn").is_none() {
        return Ok(None);
    }
    let mut row = empty_row(profile, false, true, "");
    let role = match crate::settings::RoleSettings::from_config(config, profile) {
        Ok(Some(role)) => role,
        Ok(None) => return Ok(None),
        Err(e) => {
            row.status = format!("role profile with a bad setting: {}", e.cause_line());
            return Ok(Some(row));
        }
    };
    let session = store
        .get_session(profile)?
        .filter(|s| s.role.is_some())
        .map(|s| s.expiration)
        .filter(|at| *at > now);
    let name = role.role_arn.rsplit('/').next().unwrap_or(&role.role_arn);
    row.status = match session {
        Some(at) => format!(
            "role {name} via {}, session until {}",
            role.source_profile,
            crate::lease::clock_time(at)
        ),
        None => format!("role {name} via {}, no session cached", role.source_profile),
    };
    row.account_id = role.role_arn.split(':').nth(4).map(str::to_string);
    row.arn = Some(role.role_arn.clone());
    row.session_expires_at = session.map(|at| humantime::format_rfc3339_seconds(at).to_string());
    row.source_profile = Some(role.source_profile.to_string());
    row.role_arn = Some(role.role_arn);
    Ok(Some(row))
}

fn empty_row(profile: &ProfileName, in_store: bool, in_config: bool, status: &str) -> Row {
    Row {
        profile: profile.to_string(),
        access_key_id: None,
        masked_key: None,
        account_id: None,
        arn: None,
        added_at: None,
        iam_created_at: None,
        age_days: None,
        age_from: None,
        shared_with: Vec::new(),
        rotation: None,
        old_key_id: None,
        old_key_retired_after: None,
        role_arn: None,
        source_profile: None,
        session_expires_at: None,
        in_store,
        in_config,
        status: status.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(profile: &str, id: &str, age_from: AgeFrom, status: &'static str) -> Row {
        Row {
            profile: profile.into(),
            access_key_id: Some(id.into()),
            masked_key: AccessKeyId::parse(id).ok().map(|k| k.masked()),
            account_id: Some("123456789012".into()),
            arn: None,
            added_at: Some("2026-11-28T01:02:03Z".into()),
            iam_created_at: (age_from == AgeFrom::Iam).then(|| "2023-11-28T01:02:03Z".into()),
            age_days: Some(1096),
            age_from: Some(age_from),
            shared_with: Vec::new(),
            in_store: true,
            in_config: true,
            rotation: None,
            old_key_id: None,
            old_key_retired_after: None,
            role_arn: None,
            source_profile: None,
            session_expires_at: None,
            status: status.into(),
        }
    }

    #[test]
    fn the_table_shows_iams_date_and_marks_an_age_iam_did_not_give() {
        let rows = [
            row("dev", "AKIAIOSFODNN7EXAMPLE", AgeFrom::Iam, TOO_OLD),
            row("offline", "AKIAI44QH8DHBEXAMPLE", AgeFrom::Stored, "ok"),
            empty_row(
                &ProfileName::parse("gone").unwrap(),
                false,
                true,
                "no key in store",
            ),
        ];
        assert_eq!(
            table(&rows),
            "PROFILE  KEY        ACCOUNT       CREATED     AGE     STATUS\n\
             dev      AKIA…MPLE  123456789012  2023-11-28  1096d   too old: rotate\n\
             offline  AKIA…MPLE  123456789012  -           1096d*  ok\n\
             gone     -          -             -           -       no key in store\n"
        );
    }

    #[test]
    fn a_key_under_several_profiles_is_found_and_each_names_the_others() {
        let mut rows = [
            row("a", "AKIAIOSFODNN7EXAMPLE", AgeFrom::Iam, "ok"),
            row("b", "AKIAI44QH8DHBEXAMPLE", AgeFrom::Iam, "ok"),
            row("c", "AKIAIOSFODNN7EXAMPLE", AgeFrom::Iam, "ok"),
        ];
        let shared = mark_shared(&mut rows);
        assert_eq!(
            shared,
            vec![(
                "AKIA…MPLE".to_string(),
                vec!["a".to_string(), "c".to_string()]
            )]
        );
        assert_eq!(rows[0].shared_with, ["c"]);
        assert!(rows[1].shared_with.is_empty());
        assert_eq!(rows[2].shared_with, ["a"]);
    }
}
