//! `awskeep rotate`: a transactional, resumable key rotation.
//!
//! Each step is recorded in the profile's store item before the next one runs:
//! intent (`started_at`) -> CreateAccessKey -> new key stored as *pending* -> verified with STS ->
//! switch (new key current, old key *previous*) -> old key deleted (or deactivated) in IAM using the
//! new key -> *previous* dropped. The current key works at every point, so an interruption anywhere
//! (Ctrl-C, kill -9, network down) leaves a working profile, and the next `awskeep rotate` reads the
//! recorded state and finishes or undoes it: a pending key IAM no longer lists is dropped; a key IAM
//! made after the intent that the store never got is deleted (nobody holds its secret).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use crate::aws::AwsTarget;
use crate::aws::iam::{Iam, KeyInfo};
use crate::aws::source::{CallerKind, SourceIdentity};
use crate::cli::RotateArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;
use crate::prompt;
use crate::secret::{KeyPair, Rotation, StoredKey};
use crate::store::CredentialStore;

/// IAM and our clock may disagree a little on when a key was made.
const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// How long after a recorded intent its CreateAccessKey can have reached IAM (a slow or retried
/// request); a key made later is not that rotation's.
const INTENT_WINDOW: Duration = Duration::from_secs(600);
/// An intent older than this proves nothing about the keys around it.
const INTENT_MAX_AGE: Duration = Duration::from_secs(3600);

pub fn run(ctx: &Context, store: &dyn CredentialStore, args: RotateArgs) -> Result<()> {
    let interrupted = super::new_key::defer_interrupts();
    let Some(profile) = &args.profile else {
        return rotate_all(ctx, store, &args, &interrupted);
    };
    let summary = rotate_profile(ctx, store, profile, &args, &interrupted, true)?;
    output::say(&summary);
    Ok(())
}

fn rotate_all(
    ctx: &Context,
    store: &dyn CredentialStore,
    args: &RotateArgs,
    interrupted: &AtomicBool,
) -> Result<()> {
    let now = SystemTime::now();
    let mut due = Vec::new();
    for profile in store.list()? {
        let Some(state) = store.get(&profile)? else {
            continue;
        };
        let age = now.duration_since(state.added_at).unwrap_or_default();
        if !state.rotation.is_idle() || age >= args.older_than {
            due.push(profile);
        }
    }
    if due.is_empty() {
        output::say(&format!(
            "No key is older than {}; nothing to rotate.",
            humantime::format_duration(args.older_than)
        ));
        return Ok(());
    }
    let names: Vec<&str> = due.iter().map(ProfileName::as_str).collect();
    prompt::confirm(
        &format!(
            "Rotate the keys of {} (old keys are {})?",
            names.join(", "),
            retire_verb(args)
        ),
        args.yes,
        "--yes",
        ctx.stdin_is_terminal,
    )?;
    let mut failed = Vec::new();
    for profile in &due {
        match rotate_profile(ctx, store, profile, args, interrupted, false) {
            Ok(summary) => output::say(&summary),
            Err(e) => {
                output::say(&format!("  FAILED {profile}: {}", e.cause_line()));
                failed.push(profile.to_string());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Aws {
            operation: "rotate",
            reason: format!(
                "not rotated: {}; each still has a working key, run `awskeep rotate --profile NAME` again",
                failed.join(", ")
            ),
        })
    }
}

fn retire_verb(args: &RotateArgs) -> &'static str {
    if args.deactivate_only {
        "deactivated"
    } else {
        "deleted"
    }
}

/// Rotates one profile, or finishes the rotation an earlier run left; returns the line to report.
fn rotate_profile(
    ctx: &Context,
    store: &dyn CredentialStore,
    profile: &ProfileName,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    ask: bool,
) -> Result<String> {
    let mut state = store.get(profile)?.ok_or_else(|| Error::NoStoredKey {
        profile: profile.to_string(),
        store: store.display_name(),
    })?;
    let config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let target = AwsTarget::resolve(
        ctx,
        args.region.as_deref(),
        config.document().get(profile.as_str(), "region"),
    );
    output::trace(
        ctx.verbose,
        &format!(
            "AWS region {}, STS at {}",
            target.region,
            target.sts_endpoint_for_messages()
        ),
    );
    let act_as =
        |key: &KeyPair| SourceIdentity::with_key(key, format!("profile {profile}'s key"), &target);

    // Interrupted after the switch: only the old key's retirement is left.
    if state.rotation.previous.is_some() {
        retire_previous(ctx, store, profile, &mut state, args, &act_as)?;
        return Ok(format!(
            "Finished the interrupted rotation of {profile}: key {} is current.",
            state.key.access_key_id
        ));
    }

    let identity = act_as(&state.key)?;
    let user = iam_user(&identity)?;
    let iam = identity.iam();
    let mut keys = iam.list_access_keys(&user)?;
    let mut resumed = false;
    let mut recovered = None;

    if let Some(pending) = &state.rotation.pending {
        if keys.iter().any(|k| k.id == pending.access_key_id) {
            resumed = true;
        } else {
            // The pending key is gone from IAM (deleted by hand): nothing to finish.
            state.rotation = Rotation::default();
            store.set(profile, &state)?;
        }
    } else if let Some(started) = state.rotation.started_at {
        recovered = Some((
            started,
            keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        ));
        let unproven = delete_orphans(
            ctx, store, &iam, &user, profile, &state, started, &keys, args,
        )?;
        state.rotation = Rotation::default();
        store.set(profile, &state)?;
        if !unproven.is_empty() {
            return Err(Error::UnprovenKey {
                user: user.clone(),
                keys: unproven.join(", "),
            });
        }
        keys = iam.list_access_keys(&user)?;
    }
    let outcome = finish_rotation(
        ctx,
        store,
        profile,
        args,
        interrupted,
        ask,
        &mut state,
        &target,
        &act_as,
        &iam,
        &user,
        &keys,
        resumed,
    );
    // A key the interrupted run asked for may reach IAM after this run listed the keys (a request
    // a proxy delivered late): look once more, whatever this run's outcome.
    // As the key that is current now: the one this run listed with may be retired already.
    if let Some((started, first_listing)) = recovered {
        let late = act_as(&state.key).and_then(|identity| {
            late_orphans(
                ctx,
                store,
                &identity.iam(),
                &user,
                profile,
                started,
                &first_listing,
                args,
            )
        });
        if let Err(e) = late {
            output::say(&format!(
                "awskeep: could not check IAM once more for a late key of the interrupted rotation: {}",
                e.cause_line()
            ));
        }
    }
    outcome
}

/// Everything after the recorded state has been read and any earlier intent settled: confirm, make
/// room, record the intent, create, store as pending, verify, switch, retire.
#[allow(clippy::too_many_arguments)]
fn finish_rotation(
    ctx: &Context,
    store: &dyn CredentialStore,
    profile: &ProfileName,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    ask: bool,
    state: &mut StoredKey,
    target: &AwsTarget,
    act_as: &dyn Fn(&KeyPair) -> Result<SourceIdentity>,
    iam: &Iam<'_>,
    user: &str,
    keys: &[KeyInfo],
    resumed: bool,
) -> Result<String> {
    let (iam, user) = (iam, user.to_string());

    if !resumed {
        if ask {
            prompt::confirm(
                &format!(
                    "Rotate the key of profile {profile} (IAM user {user}); the old key {} is then {}?",
                    state.key.access_key_id,
                    retire_verb(args)
                ),
                args.yes,
                "--yes",
                ctx.stdin_is_terminal,
            )?;
        }
        make_room(ctx, iam, &user, state, keys, args)?;
        state.rotation.started_at = Some(SystemTime::now());
        store.set(profile, state)?;
        super::crash_point(ctx, "rotate:after-intent");
        if interrupted.load(Ordering::SeqCst) {
            state.rotation = Rotation::default();
            store.set(profile, state)?;
            return Err(Error::Interrupted {
                outcome: format!("no key was created; profile {profile} is unchanged"),
            });
        }
        // A refused CreateAccessKey made nothing: the intent goes, so it can never later be taken
        // as the origin of someone else's key.
        let new = match iam.create_access_key(&user) {
            Ok(new) => new,
            Err(e) => {
                state.rotation = Rotation::default();
                store.set(profile, state)?;
                return Err(e);
            }
        };
        super::crash_point(ctx, "rotate:after-create");
        let new_id = new.access_key_id.clone();
        state.rotation.pending = Some(new);
        if let Err(cause) =
            super::fail_point(ctx, "rotate:store-pending").and_then(|()| store.set(profile, state))
        {
            return Err(super::new_key::roll_back(iam, &user, &new_id, cause));
        }
        super::crash_point(ctx, "rotate:after-pending-stored");
    }

    let pending = state.rotation.pending.as_ref().ok_or_else(|| Error::Aws {
        operation: "rotate",
        reason: "no pending key to switch to".into(),
    })?;
    let owner = super::new_key::wait_until_accepted(
        target,
        pending,
        args.verify_timeout,
        profile,
        interrupted,
    )?;
    super::crash_point(ctx, "rotate:after-verify");

    // The switch: one store write makes the new key current and keeps the old one as previous.
    if let Some(new) = state.rotation.pending.take() {
        let old = std::mem::replace(&mut state.key, new);
        state.rotation = Rotation {
            started_at: None,
            pending: None,
            previous: Some(old),
        };
        state.owner = Some(owner);
        state.added_at = SystemTime::now();
        store.set(profile, state)?;
        // A session of the old key must not outlive it (a fault of other tools).
        super::drop_session(store, profile);
    }
    super::crash_point(ctx, "rotate:after-switch");
    retire_previous(ctx, store, profile, state, args, act_as)?;
    Ok(format!(
        "Rotated {profile}: key {} is current{}.",
        state.key.access_key_id,
        if resumed {
            " (finished an interrupted rotation)"
        } else {
            ""
        }
    ))
}

/// The key's own IAM user: rotation acts as the key itself.
fn iam_user(identity: &SourceIdentity) -> Result<String> {
    match &identity.caller.kind {
        CallerKind::User(name) => Ok(name.clone()),
        CallerKind::Root => Err(Error::RootCaller),
        CallerKind::NotAUser(what) => Err(Error::NeedsUser { what }),
    }
}

/// What a key in IAM is to a rotation whose intent was recorded at `intent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyVerdict {
    /// Some awskeep item holds it (this profile's or another's, current, pending or previous).
    Held,
    /// It existed before the intent: not made by that rotation.
    Older,
    /// Provably made for the interrupted rotation and held by nobody: deletable on confirmation.
    Orphan,
    /// Not held, and nothing proves where it came from: never deleted.
    Unproven,
}

/// The only way a key is judged an orphan: no awskeep item holds it, IAM created it after the
/// intent (less clock skew) and within `INTENT_WINDOW` of it, and the intent is recent.
fn judge(
    key: &KeyInfo,
    held: &std::collections::HashSet<String>,
    intent: SystemTime,
    now: SystemTime,
) -> KeyVerdict {
    if held.contains(key.id.as_str()) {
        return KeyVerdict::Held;
    }
    let Some(created) = key.created else {
        return KeyVerdict::Unproven;
    };
    if created < intent.checked_sub(CLOCK_SKEW).unwrap_or(intent) {
        return KeyVerdict::Older;
    }
    let recent = now.duration_since(intent).unwrap_or_default() <= INTENT_MAX_AGE;
    if recent && created <= intent + INTENT_WINDOW {
        KeyVerdict::Orphan
    } else {
        KeyVerdict::Unproven
    }
}

/// Every key ID any awskeep item in the store holds.
fn held_key_ids(store: &dyn CredentialStore) -> Result<std::collections::HashSet<String>> {
    let mut held = std::collections::HashSet::new();
    for profile in store.list()? {
        if let Some(item) = store.get(&profile)? {
            for key in std::iter::once(&item.key)
                .chain(item.rotation.pending.as_ref())
                .chain(item.rotation.previous.as_ref())
            {
                held.insert(key.access_key_id.as_str().to_string());
            }
        }
    }
    Ok(held)
}

/// Deletes, on confirmation, the keys proven to be orphans of the interrupted rotation; returns the
/// keys that are held by nobody but cannot be proven orphans (they are named and never touched).
#[allow(clippy::too_many_arguments)]
fn delete_orphans(
    ctx: &Context,
    store: &dyn CredentialStore,
    iam: &Iam<'_>,
    user: &str,
    profile: &ProfileName,
    state: &StoredKey,
    intent: SystemTime,
    keys: &[KeyInfo],
    args: &RotateArgs,
) -> Result<Vec<String>> {
    let mut held = held_key_ids(store)?;
    held.insert(state.key.access_key_id.as_str().to_string());
    let now = SystemTime::now();
    let mut unproven = Vec::new();
    for key in keys {
        match judge(key, &held, intent, now) {
            KeyVerdict::Orphan => delete_orphan(ctx, iam, user, profile, key, args)?,
            KeyVerdict::Unproven => unproven.push(key.id.as_str().to_string()),
            KeyVerdict::Held | KeyVerdict::Older => {}
        }
    }
    Ok(unproven)
}

fn delete_orphan(
    ctx: &Context,
    iam: &Iam<'_>,
    user: &str,
    profile: &ProfileName,
    key: &KeyInfo,
    args: &RotateArgs,
) -> Result<()> {
    prompt::confirm(
        &format!(
            "Key {} of IAM user {user} was created for an interrupted rotation of profile {profile} and no awskeep item holds it. Delete it?",
            key.id.as_str()
        ),
        args.yes,
        "--yes",
        ctx.stdin_is_terminal,
    )?;
    iam.delete_access_key(user, &key.id)?;
    output::say(&format!(
        "Deleted key {} that an interrupted rotation created and never stored.",
        key.id.as_str()
    ));
    Ok(())
}

/// After a run that settled an earlier intent: a key that appeared since the first listing and is
/// provably that intent's orphan goes (on confirmation); one that cannot be proven is named.
#[allow(clippy::too_many_arguments)]
fn late_orphans(
    ctx: &Context,
    store: &dyn CredentialStore,
    iam: &Iam<'_>,
    user: &str,
    profile: &ProfileName,
    intent: SystemTime,
    first_listing: &[crate::secret::AccessKeyId],
    args: &RotateArgs,
) -> Result<()> {
    let held = held_key_ids(store)?;
    let now = SystemTime::now();
    for key in iam.list_access_keys(user)? {
        if first_listing.contains(&key.id) {
            continue;
        }
        match judge(&key, &held, intent, now) {
            KeyVerdict::Orphan => delete_orphan(ctx, iam, user, profile, &key, args)?,
            KeyVerdict::Unproven => output::say(&format!(
                "awskeep: key {} of IAM user {user} appeared during this run and no awskeep item holds it; it was left alone",
                key.id.as_str()
            )),
            KeyVerdict::Held | KeyVerdict::Older => {}
        }
    }
    Ok(())
}

/// Two keys is AWS's limit: an inactive other key may be deleted on confirmation; an active one stops
/// the rotation before anything is created.
fn make_room(
    ctx: &Context,
    iam: &Iam<'_>,
    user: &str,
    state: &StoredKey,
    keys: &[KeyInfo],
    args: &RotateArgs,
) -> Result<()> {
    if keys.len() < 2 {
        return Ok(());
    }
    let others: Vec<&KeyInfo> = keys
        .iter()
        .filter(|k| k.id != state.key.access_key_id)
        .collect();
    match others.as_slice() {
        [other] if !other.active => {
            prompt::confirm(
                &format!(
                    "IAM user {user} already has a second, inactive key {}. Delete it to make room?",
                    other.id
                ),
                args.yes,
                "--yes",
                ctx.stdin_is_terminal,
            )?;
            iam.delete_access_key(user, &other.id)?;
            output::say(&format!("Deleted inactive key {}.", other.id));
            Ok(())
        }
        _ => {
            let listing: Vec<String> = others
                .iter()
                .map(|k| format!("{} {}", k.id, if k.active { "active" } else { "inactive" }))
                .collect();
            Err(Error::KeyQuotaFull {
                user: user.to_string(),
                keys: format!(
                    " (besides this profile's: {}); rotation needs room for a new one",
                    listing.join(", ")
                ),
            })
        }
    }
}

/// Deletes (or deactivates) the previous key in IAM using the new key, retrying while IAM propagates
/// the new key, then drops it from the store.
fn retire_previous(
    ctx: &Context,
    store: &dyn CredentialStore,
    profile: &ProfileName,
    state: &mut StoredKey,
    args: &RotateArgs,
    act_as: &dyn Fn(&KeyPair) -> Result<SourceIdentity>,
) -> Result<()> {
    let Some(old) = state.rotation.previous.as_ref() else {
        return Ok(());
    };
    let old_id = old.access_key_id.clone();
    let deadline = std::time::Instant::now() + args.verify_timeout;
    let mut delay = Duration::from_millis(500);
    loop {
        let attempt = act_as(&state.key).and_then(|identity| {
            let user = iam_user(&identity)?;
            let iam = identity.iam();
            let done = if args.deactivate_only {
                iam.deactivate_access_key(&user, &old_id)
            } else {
                iam.delete_access_key(&user, &old_id)
            };
            match done {
                // Already gone: an earlier run deleted it before it could say so.
                Ok(()) | Err(Error::NoSuchUser { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        });
        match attempt {
            Ok(()) => break,
            Err(Error::AccessDenied { .. } | Error::SourceCredentials { .. })
                if std::time::Instant::now() + delay < deadline =>
            {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(e) => return Err(e),
        }
    }
    super::crash_point(ctx, "rotate:after-retire");
    state.rotation = Rotation::default();
    store.set(profile, state)?;
    if args.deactivate_only {
        output::say(&format!(
            "Old key {old_id} is now inactive in IAM; delete it once nothing needs it."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessKeyId;

    fn key(id: &str, created: Option<SystemTime>) -> KeyInfo {
        KeyInfo {
            id: AccessKeyId::parse(id).unwrap(),
            active: true,
            created,
        }
    }

    const ORPHAN: &str = "AKIAORPHANKEY0000001";

    #[test]
    fn only_an_unheld_key_made_just_after_a_recent_intent_is_an_orphan() {
        let intent = SystemTime::now() - Duration::from_secs(120);
        let now = SystemTime::now();
        let held: std::collections::HashSet<String> = ["AKIAHELDBYOTHER00001".to_string()].into();
        let minute = Duration::from_secs(60);
        assert_eq!(
            judge(&key(ORPHAN, Some(intent + minute)), &held, intent, now),
            KeyVerdict::Orphan
        );
        // Held by any awskeep item (the example: bootstrapped into another profile): never.
        assert_eq!(
            judge(
                &key("AKIAHELDBYOTHER00001", Some(intent + minute)),
                &held,
                intent,
                now
            ),
            KeyVerdict::Held
        );
        // Made before the intent: someone else's.
        assert_eq!(
            judge(&key(ORPHAN, Some(intent - 10 * minute)), &held, intent, now),
            KeyVerdict::Older
        );
        // Made long after the intent, or the intent is old, or IAM gave no date: not provable.
        assert_eq!(
            judge(
                &key(ORPHAN, Some(intent + 30 * minute)),
                &held,
                intent,
                now + 30 * minute
            ),
            KeyVerdict::Unproven
        );
        let old_intent = now - 2 * INTENT_MAX_AGE;
        assert_eq!(
            judge(
                &key(ORPHAN, Some(old_intent + minute)),
                &held,
                old_intent,
                now
            ),
            KeyVerdict::Unproven
        );
        assert_eq!(
            judge(&key(ORPHAN, None), &held, intent, now),
            KeyVerdict::Unproven
        );
    }

    #[test]
    fn every_key_of_every_item_counts_as_held() {
        use crate::store::memory::MemoryStore;
        let store = MemoryStore::default();
        let pair = |id: &str| crate::secret::KeyPair {
            access_key_id: AccessKeyId::parse(id).unwrap(),
            secret_access_key: crate::secret::SecretAccessKey::parse("s").unwrap(),
        };
        let mut item = StoredKey::new(pair("AKIACURRENTKEY000001"), None, SystemTime::now());
        item.rotation.pending = Some(pair("AKIAPENDINGKEY000001"));
        store.set(&ProfileName::parse("a").unwrap(), &item).unwrap();
        let mut other = StoredKey::new(pair("AKIAOTHERPROFILE0001"), None, SystemTime::now());
        other.rotation.previous = Some(pair("AKIAPREVIOUSKEY00001"));
        store
            .set(&ProfileName::parse("b").unwrap(), &other)
            .unwrap();
        let held = held_key_ids(&store).unwrap();
        for id in [
            "AKIACURRENTKEY000001",
            "AKIAPENDINGKEY000001",
            "AKIAOTHERPROFILE0001",
            "AKIAPREVIOUSKEY00001",
        ] {
            assert!(held.contains(id), "{id}");
        }
    }
}
