//! `awskeep store show` and `awskeep store move --to KIND`. A move is crash-safe: every item is
//! copied and read back from the new store first, then the choice is recorded, and only then are
//! the items deleted from the old store. A re-run finishes an interrupted move: what the new store
//! already holds is not copied again, and once the choice names the new store, its items win over
//! the old store's (they may have changed since).

use crate::cli::{StoreArgs, StoreCommand};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::store::{self, CredentialStore, StoreKind, choice};

pub fn run(ctx: &Context, asked: Option<StoreKind>, args: StoreArgs) -> Result<()> {
    match args.command {
        StoreCommand::Show => {
            let opened = store::open(asked, ctx, store::Opening::Now)?;
            output::say(&format!(
                "{} ({})",
                opened.store.display_name(),
                opened.reason.describe()
            ));
            Ok(())
        }
        StoreCommand::Move { to } => {
            let from = match asked {
                Some(kind) => kind,
                None if to == StoreKind::File => StoreKind::platform_default().unwrap_or(to),
                None => StoreKind::File,
            };
            if from == to {
                return Err(Error::StoreMoveSame { store: display(to) });
            }
            let dir = store::data_dir(ctx)?;
            let source = store::open_kind(from, ctx)?;
            let target = store::open_kind(to, ctx)?;
            let target_in_use = choice::recorded(&dir)? == Some(to);
            let report = move_items(source.as_ref(), target.as_ref(), target_in_use)?;
            super::crash_point(ctx, "store-move:after-copy");
            choice::record(&dir, to)?;
            super::crash_point(ctx, "store-move:after-record");
            for profile in &report.profiles {
                source.delete_session(profile)?;
                source.delete(profile)?;
            }
            for profile in &report.kept_target {
                output::say(&format!(
                    "Kept the {}'s key for profile {profile} (it changed after the move began); the {}'s older one was dropped.",
                    target.display_name(),
                    source.display_name()
                ));
            }
            output::say(&format!(
                "Moved {} profile(s) from the {} to the {}; awskeep uses the {} from now on.",
                report.profiles.len(),
                source.display_name(),
                target.display_name(),
                target.display_name()
            ));
            Ok(())
        }
    }
}

fn display(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::File => store::file::NAME,
        #[allow(unreachable_patterns, reason = "every other kind is an OS keychain")]
        _ => "OS keychain",
    }
}

/// What a copy did.
#[derive(Debug, Default)]
pub struct MoveReport {
    /// Every profile of the old store (to delete there once the choice is recorded).
    pub profiles: Vec<ProfileName>,
    /// Profiles whose new-store item differed and was kept.
    pub kept_target: Vec<ProfileName>,
}

/// Copies every key (and cached session) from `source` to `target` and reads each back. Where the
/// target holds a different key: the source's replaces it, unless `target_in_use` (the choice
/// already names the target, so its item is the newer one).
pub fn move_items(
    source: &dyn CredentialStore,
    target: &dyn CredentialStore,
    target_in_use: bool,
) -> Result<MoveReport> {
    let mut report = MoveReport::default();
    for profile in source.list()? {
        report.profiles.push(profile.clone());
        let Some(key) = source.get(&profile)? else {
            continue;
        };
        let wanted = key.to_item_bytes();
        match target.get(&profile)? {
            Some(held) if held.to_item_bytes() == wanted => {}
            Some(_) if target_in_use => {
                report.kept_target.push(profile);
                continue;
            }
            _ => target.set(&profile, &key)?,
        }
        let back = target.get(&profile)?;
        if back.map(|k| k.to_item_bytes()) != Some(wanted) {
            return Err(Error::StoreFailed {
                store: target.display_name(),
                reason: format!(
                    "profile \"{profile}\" read back differently after the copy; nothing was deleted"
                ),
            });
        }
        if let Some(session) = source.get_session(&profile)?
            && target.get_session(&profile)?.is_none()
        {
            target.set_session(&profile, &session)?;
        }
    }
    Ok(report)
}
