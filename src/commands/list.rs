//! `awskeep list`: the profiles awskeep holds, from the store and from `~/.aws/config`, so a profile
//! whose item is missing (or whose config line is gone) shows up too. The table goes to stderr (it is
//! for a person); `--json` prints to stdout for scripts.

use std::collections::BTreeSet;
use std::time::SystemTime;

use serde::Serialize;

use crate::cli::ListArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::process_line;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;
use crate::store::CredentialStore;

#[derive(Debug, Serialize)]
struct Row {
    profile: String,
    access_key_id: Option<String>,
    account_id: Option<String>,
    arn: Option<String>,
    added_at: Option<String>,
    age_days: Option<u64>,
    in_store: bool,
    in_config: bool,
    /// `pending` (a new key not yet switched to) or `finishing` (the old key not yet retired).
    rotation: Option<&'static str>,
    status: &'static str,
}

pub fn run(ctx: &Context, store: &dyn CredentialStore, args: ListArgs) -> Result<()> {
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

    let mut rows = Vec::new();
    for profile in profiles {
        let in_config = configured.contains(&profile);
        let row = match store.get(&profile) {
            Ok(Some(key)) => {
                let age = SystemTime::now()
                    .duration_since(key.added_at)
                    .unwrap_or_default();
                let rotation = if key.rotation.previous.is_some() {
                    Some("finishing")
                } else if key.rotation.pending.is_some() || key.rotation.started_at.is_some() {
                    Some("pending")
                } else {
                    None
                };
                Row {
                    profile: profile.to_string(),
                    access_key_id: Some(key.key.access_key_id.masked()),
                    account_id: key.owner.as_ref().map(|o| o.account_id.clone()),
                    arn: key.owner.as_ref().map(|o| o.arn.clone()),
                    added_at: Some(humantime::format_rfc3339_seconds(key.added_at).to_string()),
                    age_days: Some(age.as_secs() / 86_400),
                    in_store: true,
                    in_config,
                    rotation,
                    status: match (in_config, rotation, age > args.max_age) {
                        (false, _, _) => "not in config",
                        (true, Some(_), _) => "rotation unfinished",
                        (true, None, true) => "too old: rotate",
                        (true, None, false) => "ok",
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
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.profile.clone(),
                dash(&r.access_key_id),
                dash(&r.account_id),
                r.added_at
                    .as_deref()
                    .map_or("-".into(), |t| t.replace('T', " ").replace('Z', " UTC")),
                r.age_days.map_or("-".into(), |d| format!("{d}d")),
                r.status.to_string(),
            ]
        })
        .collect();
    let header = ["PROFILE", "KEY", "ACCOUNT", "ADDED", "AGE", "STATUS"].map(String::from);
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            std::iter::once(&header)
                .chain(&table)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&table) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        output::say(cells.join("  ").trim_end());
    }
    let old: Vec<&str> = rows
        .iter()
        .filter(|r| r.status == "too old: rotate")
        .map(|r| r.profile.as_str())
        .collect();
    if !old.is_empty() {
        output::say(&format!(
            "Keys older than {}: {}. Rotate them with `awskeep rotate --profile NAME` (or `--all`).",
            humantime::format_duration(args.max_age),
            old.join(", ")
        ));
    }
    if rows.iter().any(|r| r.rotation.is_some()) {
        output::say("A rotation was interrupted; `awskeep rotate --profile NAME` finishes it.");
    }
    Ok(())
}

fn empty_row(profile: &ProfileName, in_store: bool, in_config: bool, status: &'static str) -> Row {
    Row {
        profile: profile.to_string(),
        access_key_id: None,
        account_id: None,
        arn: None,
        added_at: None,
        age_days: None,
        rotation: None,
        in_store,
        in_config,
        status,
    }
}
