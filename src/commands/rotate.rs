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

    if let Some(pending) = &state.rotation.pending {
        if keys.iter().any(|k| k.id == pending.access_key_id) {
            resumed = true;
        } else {
            // The pending key is gone from IAM (deleted by hand): nothing to finish.
            state.rotation = Rotation::default();
            store.set(profile, &state)?;
        }
    } else if let Some(started) = state.rotation.started_at {
        delete_orphans(&iam, &user, &state, started, &keys)?;
        state.rotation = Rotation::default();
        store.set(profile, &state)?;
        keys = iam.list_access_keys(&user)?;
    }

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
        make_room(ctx, &iam, &user, &state, &keys, args)?;
        state.rotation.started_at = Some(SystemTime::now());
        store.set(profile, &state)?;
        super::crash_point(ctx, "rotate:after-intent");
        if interrupted.load(Ordering::SeqCst) {
            state.rotation = Rotation::default();
            store.set(profile, &state)?;
            return Err(Error::Interrupted {
                outcome: format!("no key was created; profile {profile} is unchanged"),
            });
        }
        let new = iam.create_access_key(&user)?;
        super::crash_point(ctx, "rotate:after-create");
        let new_id = new.access_key_id.clone();
        state.rotation.pending = Some(new);
        if let Err(cause) =
            super::fail_point(ctx, "rotate:store-pending").and_then(|()| store.set(profile, &state))
        {
            return Err(super::new_key::roll_back(&iam, &user, &new_id, cause));
        }
        super::crash_point(ctx, "rotate:after-pending-stored");
    }

    let pending = state.rotation.pending.as_ref().ok_or_else(|| Error::Aws {
        operation: "rotate",
        reason: "no pending key to switch to".into(),
    })?;
    let owner = super::new_key::wait_until_accepted(
        &target,
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
        store.set(profile, &state)?;
        // A session of the old key must not outlive it (a fault of other tools).
        super::drop_session(store, profile);
    }
    super::crash_point(ctx, "rotate:after-switch");
    retire_previous(ctx, store, profile, &mut state, args, &act_as)?;
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

/// Keys IAM made after this profile's rotation intent that the store never got: nobody holds their
/// secret, so they go.
fn delete_orphans(
    iam: &Iam<'_>,
    user: &str,
    state: &StoredKey,
    started: SystemTime,
    keys: &[KeyInfo],
) -> Result<()> {
    let since = started.checked_sub(CLOCK_SKEW).unwrap_or(started);
    for key in keys {
        let ours = key.created.is_some_and(|c| c >= since);
        if key.id != state.key.access_key_id && ours {
            iam.delete_access_key(user, &key.id)?;
            output::say(&format!(
                "Deleted key {} that an interrupted rotation created and never stored.",
                key.id
            ));
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
