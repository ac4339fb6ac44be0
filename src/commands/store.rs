//! `awskeep store show` and `awskeep store move --to KIND`. A move is a transaction: it holds the
//! store move lock (`choice::MOVE_LOCK`) exclusively throughout, so no other awskeep command reads
//! or writes a store meanwhile (they wait for it, and it waits for them). Every item is copied and
//! read back from the new store first, then the choice is recorded, then the credential_process
//! lines that name the old store (`--store FROM`) are rewritten to name the new one, and only then
//! are the items deleted from the old store. A re-run finishes an interrupted move: what the new
//! store already holds is not copied again, and where the two stores hold different items for a
//! profile, the one written later wins (`written_at`).

use std::time::SystemTime;

use crate::cli::{StoreArgs, StoreCommand};
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::process_line;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::store::data_dir::data_dir;
use crate::store::facade::CredentialStore;
use crate::store::kind::StoreKind;
use crate::store::open::{Opening, open, open_kind};
use crate::store::{choice, file};

pub fn run(ctx: &Context, asked: Option<StoreKind>, args: StoreArgs) -> Result<()> {
    match args.command {
        StoreCommand::Show => {
            let opened = open(asked, ctx, Opening::Now, &|| {
                super::unlock::unlock_timeout(ctx)
            })?;
            // The answer is the command's product: stdout (`awskeep store show | grep file`).
            output::print_text(&format!(
                "{} ({})\n",
                opened.store.display_name(),
                opened.reason.describe()
            ))
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
            let dir = data_dir(ctx)?;
            // No other awskeep uses a store until the move is done (see `choice::MOVE_LOCK`).
            let _moving = choice::moving(&dir)?;
            let unlock_timeout = || super::unlock::unlock_timeout(ctx);
            let source = open_kind(from, ctx, Opening::Now, &unlock_timeout)?;
            let target = open_kind(to, ctx, Opening::Now, &unlock_timeout)?;
            let target_in_use = choice::recorded(&dir)? == Some(to);
            let report = move_items(&source, &target, target_in_use)?;
            crate::test_points::pause_point(ctx, "store-move:after-copy");
            crate::test_points::crash_point(ctx, "store-move:after-copy");
            choice::record(&dir, to)?;
            crate::test_points::crash_point(ctx, "store-move:after-record");
            let repinned = repin_lines(ctx, from, to)?;
            crate::test_points::crash_point(ctx, "store-move:after-config");
            for profile in &report.profiles {
                source.delete_session(profile)?;
                source.delete(profile)?;
            }
            // Role profiles hold only a session, which is not moved: the next call assumes the
            // role again into the new store, and no live session stays behind in the old one.
            let (config, _) = crate::config_file::read_leniently(
                &ctx.config_file,
                crate::profile::FileKind::Config,
            )?;
            for profile in crate::role_chain::role_profiles(&config) {
                source.delete_session(&profile)?;
            }
            for (profile, outcome) in &report.differed {
                output::say(&outcome.describe(
                    profile,
                    source.display_name(),
                    target.display_name(),
                ));
            }
            if !repinned.is_empty() {
                output::say(&format!(
                    "Rewrote the credential_process line of {} in {} to name the {} (`--store {}`).",
                    repinned.join(", "),
                    ctx.config_file.display(),
                    target.display_name(),
                    to.arg_name()
                ));
            }
            output::say(&format!(
                "Moved {} profile(s) from the {} to the {}; awskeep uses the {} from now on.",
                report.profiles.len(),
                source.display_name(),
                target.display_name(),
                target.display_name()
            ));
            // A passphrase given to this command opened the file store for it alone: say that
            // AWS clients (other processes) find it locked until `awskeep unlock`.
            if let crate::store::facade::Openness::File {
                unlocked_for: None, ..
            } = target.openness()
            {
                output::say(
                    "The file store is locked for other commands: run `awskeep unlock` so AWS clients can read it.",
                );
            }
            Ok(())
        }
    }
}

/// Rewrites every awskeep credential_process line that names the old store (`--store FROM`, written
/// by `add --store` or under `AWSKEEP_STORE`) to name the new one, under the config transaction, so
/// clients of those profiles keep working. Returns the profiles rewritten.
fn repin_lines(ctx: &Context, from: StoreKind, to: StoreKind) -> Result<Vec<String>> {
    let mut config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let mut changed: Vec<(ProfileName, String)> = Vec::new();
    let sections: Vec<String> = config
        .document()
        .sections()
        .iter()
        .filter_map(|s| s.profile.clone())
        .collect();
    for section in sections {
        let Some(line) = config.document().get(&section, "credential_process") else {
            continue;
        };
        if changed.iter().any(|(p, _)| p.as_str() == section) {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let pinned = matches!(words.as_slice(), [.., "--store", kind] if *kind == from.arg_name());
        let (Some(served), Some(program)) = (
            process_line::awskeep_profile(line),
            process_line::program(line),
        ) else {
            continue;
        };
        if !pinned {
            continue;
        }
        let (Ok(section_name), Ok(served)) =
            (ProfileName::parse(&section), ProfileName::parse(&served))
        else {
            continue;
        };
        let new_line = process_line::build(std::path::Path::new(&program), &served, Some(to))?;
        config.set(&section_name, "credential_process", &new_line);
        changed.push((section_name, new_line.as_str().to_string()));
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let path = config.path.clone();
    config.save(|text| {
        for (profile, line) in &changed {
            crate::profile_setup::confirm_edit(
                &path,
                FileKind::Config,
                text,
                profile,
                "credential_process",
                Some(line),
            )?;
        }
        Ok(())
    })?;
    Ok(changed.into_iter().map(|(p, _)| p.to_string()).collect())
}

fn display(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::File => file::NAME,
        #[allow(unreachable_patterns, reason = "every other kind is an OS keychain")]
        _ => "OS keychain",
    }
}

/// What a copy did.
#[derive(Debug, Default)]
pub struct MoveReport {
    /// Every profile of the old store (to delete there once the choice is recorded).
    pub profiles: Vec<ProfileName>,
    /// Profiles whose two stores held different items, and which one was kept.
    pub differed: Vec<(ProfileName, Kept)>,
}

/// Which of two different items for a profile a move kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// The old store's, written later than the new store's.
    SourceNewer,
    /// The new store's, written later than the old store's.
    TargetNewer,
    /// Both written in the same second: the one in the store in use (the new store's once the
    /// choice names it, else the old store's).
    SameSecond { target: bool },
}

impl Kept {
    fn describe(self, profile: &ProfileName, source: &str, target: &str) -> String {
        match self {
            Kept::SourceNewer => format!(
                "Profile {profile}: the {source}'s key was written after the {target}'s; kept the {source}'s newer key, dropped the {target}'s older one."
            ),
            Kept::TargetNewer => format!(
                "Profile {profile}: the {target}'s key was written after the {source}'s; kept the {target}'s newer key, dropped the {source}'s older one."
            ),
            Kept::SameSecond { target: true } => format!(
                "Profile {profile}: both stores held a key written in the same second; kept the {target}'s (the store in use), dropped the {source}'s."
            ),
            Kept::SameSecond { target: false } => format!(
                "Profile {profile}: both stores held a key written in the same second; kept the {source}'s (the store in use), dropped the {target}'s."
            ),
        }
    }

    fn target_wins(self) -> bool {
        matches!(self, Kept::TargetNewer | Kept::SameSecond { target: true })
    }
}

/// When an item was last written, as far as it records: the later of when its key became the
/// profile's key (`add`, a rotation's switch) and when a rotation of it began.
pub fn written_at(item: &StoredKey) -> SystemTime {
    item.rotation
        .started_at()
        .map_or(item.added_at, |started| started.max(item.added_at))
}

/// Copies every key (and cached session) from `source` to `target` and reads each back. Where the
/// target holds a different key, the one written later wins; in the same second, the one in the
/// store in use (the target's when `target_in_use`: the choice already names it).
pub fn move_items(
    source: &CredentialStore,
    target: &CredentialStore,
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
            Some(held) => {
                let kept = match written_at(&key).cmp(&written_at(&held)) {
                    std::cmp::Ordering::Greater => Kept::SourceNewer,
                    std::cmp::Ordering::Less => Kept::TargetNewer,
                    std::cmp::Ordering::Equal => Kept::SameSecond {
                        target: target_in_use,
                    },
                };
                report.differed.push((profile.clone(), kept));
                if kept.target_wins() {
                    continue;
                }
                target.set(&profile, &key)?;
                // The target's session was fetched with its own key.
                target.delete_session(&profile)?;
            }
            None => target.set(&profile, &key)?,
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
