//! `awskeep list`: the profiles awskeep holds, from the store and from `~/.aws/config`, so a profile
//! whose item is missing (or whose config line is gone) shows up too. The table goes to stderr (it is
//! for a person); `--json` prints to stdout for scripts.

use std::collections::BTreeSet;

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
    in_store: bool,
    in_config: bool,
    status: &'static str,
}

pub fn run(ctx: &Context, store: &dyn CredentialStore, args: ListArgs) -> Result<()> {
    let config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let configured: BTreeSet<ProfileName> = config
        .document
        .sections()
        .iter()
        .filter_map(|s| {
            let profile = ProfileName::parse(s.profile.as_deref()?).ok()?;
            let served = config
                .document
                .get(profile.as_str(), "credential_process")?;
            (process_line::awskeep_profile(served).as_deref() == Some(profile.as_str()))
                .then_some(profile)
        })
        .collect();
    let mut profiles = configured.clone();
    if let Some(stored) = store.list()? {
        profiles.extend(stored);
    }

    let mut rows = Vec::new();
    for profile in profiles {
        let in_config = configured.contains(&profile);
        let row = match store.get(&profile) {
            Ok(Some(key)) => Row {
                profile: profile.to_string(),
                access_key_id: Some(key.key.access_key_id.masked()),
                account_id: key.owner.as_ref().map(|o| o.account_id.clone()),
                arn: key.owner.as_ref().map(|o| o.arn.clone()),
                added_at: Some(humantime::format_rfc3339_seconds(key.added_at).to_string()),
                in_store: true,
                in_config,
                status: if in_config { "ok" } else { "not in config" },
            },
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
    let table: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.profile.clone(),
                dash(&r.access_key_id),
                dash(&r.account_id),
                r.added_at
                    .as_deref()
                    .map_or("-".into(), |t| t.replace('T', " ").replace('Z', " UTC")),
                r.status.to_string(),
            ]
        })
        .collect();
    let header = ["PROFILE", "KEY", "ACCOUNT", "ADDED", "STATUS"].map(String::from);
    let widths: Vec<usize> = (0..5)
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
    Ok(())
}

fn empty_row(profile: &ProfileName, in_store: bool, in_config: bool, status: &'static str) -> Row {
    Row {
        profile: profile.to_string(),
        access_key_id: None,
        account_id: None,
        arn: None,
        added_at: None,
        in_store,
        in_config,
        status,
    }
}
