//! `awskeep rotate`: a transactional, resumable key rotation, driven through the state machine in
//! `crate::rotation` (Idle -> Intent -> Pending -> Retiring -> Idle, each step recorded in the
//! profile's store item before the next). This module decides which transitions a run takes: it
//! finishes or settles what an interrupted run left, asks before rotating, makes room under IAM's
//! two-key limit, and reports. AWS comes in as the store does: `Aws::rotation` gives the
//! `KeyAuthority` the transitions use, on one client factory for the command.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use crate::aws::iam::KeyInfo;
use crate::aws::{Aws, AwsTarget, Waiting};
use crate::cli::RotateArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::key_age::{self, AgeFrom, KeyAge};
use crate::output;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;
use crate::prompt;
use crate::rotation::{Idle, KeyAuthority, Retired, State, Step, late_orphans};
use crate::secret::{AccessKeyId, StoredKey};
use crate::store::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &dyn CredentialStore,
    aws: &dyn Aws,
    args: RotateArgs,
) -> Result<()> {
    let interrupted = super::new_key::defer_interrupts();
    let Some(profile) = &args.profile else {
        return rotate_all(ctx, store, aws, &args, &interrupted);
    };
    let summary = rotate_profile(ctx, store, aws, profile, &args, &interrupted, true)?;
    output::say(&summary);
    Ok(())
}

fn rotate_all(
    ctx: &Context,
    store: &dyn CredentialStore,
    aws: &dyn Aws,
    args: &RotateArgs,
    interrupted: &AtomicBool,
) -> Result<()> {
    let now = SystemTime::now();
    let mut due = Vec::new();
    let mut undated = Vec::new();
    for profile in store.list()? {
        let Some(state) = store.get(&profile)? else {
            continue;
        };
        // The key's age in IAM: a key migrated years after it was made is that old here too.
        let age = KeyAge::of(&state, now);
        if !state.rotation.is_idle() || age.age >= args.older_than {
            due.push(profile);
        } else if age.from == AgeFrom::Stored {
            undated.push(profile.to_string());
        }
    }
    if !undated.is_empty() {
        output::say(&format!(
            "awskeep: IAM's creation date of the key of {} is unknown; its age counts from when awskeep stored it, so it may be older.",
            undated.join(", ")
        ));
    }
    if due.is_empty() {
        output::say(&format!(
            "No key is older than {}; nothing to rotate.",
            key_age::describe(args.older_than)
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
        match rotate_profile(ctx, store, aws, profile, args, interrupted, false) {
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
    aws: &dyn Aws,
    profile: &ProfileName,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    ask: bool,
) -> Result<String> {
    // One rotation of a profile at a time: a second one would write back its stale copy of the item
    // over the first one's result. Held until the rotation is done; the kernel drops it on a crash.
    let lock_dir = ctx.lock_dir.as_deref().ok_or(Error::NoHome)?;
    let _one_at_a_time = crate::session::RefreshLock::acquire_named(
        lock_dir,
        // `=` cannot occur in a profile name, so this never names a session lock.
        &format!("rotate={profile}.lock"),
        profile,
    )?;
    let item = store.get(profile)?.ok_or_else(|| Error::NoStoredKey {
        profile: profile.to_string(),
        store: store.display_name(),
    })?;
    let config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let target = AwsTarget::resolve(
        ctx,
        args.region.as_deref(),
        config.document().get(profile.as_str(), "region"),
    );
    output::trace(ctx.verbose, &target.describe());
    let aws = aws.rotation(
        target,
        Waiting {
            profile,
            timeout: args.verify_timeout,
            interrupted,
        },
    )?;
    let checkpoint = |name: &str| {
        super::crash_point(ctx, name);
        super::fail_point(ctx, name)
    };
    let confirm =
        |question: &str| prompt::confirm(question, args.yes, "--yes", ctx.stdin_is_terminal);
    let step = Step {
        store,
        profile,
        aws: aws.as_ref(),
        checkpoint: &checkpoint,
        confirm: &confirm,
        patience: args.verify_timeout,
    };

    let idle = match State::of(item) {
        // Interrupted after the switch: only the old key's retirement is left.
        State::Retiring(retiring) => {
            let done = retire(&step, retiring, args)?;
            return Ok(format!(
                "Finished the interrupted rotation of {profile}: key {} is current.",
                done.item.key.access_key_id
            ));
        }
        State::Pending(mut pending) => {
            let user = aws.user_of(&pending.item.key)?;
            if pending.is_listed(&aws.list_keys(&pending.item.key, &user)?) {
                let done = retire(&step, pending.switch(&step)?, args)?;
                return Ok(format!(
                    "Rotated {profile}: key {} is current (finished an interrupted rotation).",
                    done.item.key.access_key_id
                ));
            }
            pending.abandon(&step)?
        }
        State::Intent(intent) => {
            let user = aws.user_of(&intent.item.key)?;
            let keys = aws.list_keys(&intent.item.key, &user)?;
            let started = intent.started;
            let first_listing: Vec<AccessKeyId> = keys.iter().map(|k| k.id.clone()).collect();
            let outcome = intent
                .settle(&step, &user, &keys)
                .and_then(|idle| rotate_idle(ctx, &step, idle, args, interrupted, ask));
            // A key the interrupted run asked for may reach IAM after this run listed the keys (a
            // request a proxy delivered late): look once more, whatever this run's outcome, as the
            // key that is current now.
            let current = store.get(profile)?.map(|item| item.key);
            if let Some(current) = current {
                let late = late_orphans(&step, &current, &user, started, &first_listing);
                if let Err(e) = late {
                    output::say(&format!(
                        "awskeep: could not check IAM once more for a late key of the interrupted rotation: {}",
                        e.cause_line()
                    ));
                }
            }
            return outcome;
        }
        State::Idle(idle) => idle,
    };
    rotate_idle(ctx, &step, idle, args, interrupted, ask)
}

/// A new rotation from Idle: ask, make room, then every transition to Idle again.
fn rotate_idle(
    ctx: &Context,
    step: &Step<'_>,
    idle: Idle,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    ask: bool,
) -> Result<String> {
    let profile = step.profile;
    let user = step.aws.user_of(&idle.item.key)?;
    let keys = step.aws.list_keys(&idle.item.key, &user)?;
    if ask {
        (step.confirm)(&format!(
            "Rotate the key of profile {profile} (IAM user {user}); the old key {} is then {}?",
            idle.item.key.access_key_id,
            retire_verb(args)
        ))?;
    }
    make_room(ctx, step.store, step.aws, &user, &idle.item, &keys, args)?;
    let intent = idle.record_intent(step)?;
    if interrupted.load(Ordering::SeqCst) {
        intent.cancel(step)?;
        return Err(Error::Interrupted {
            outcome: format!("no key was created; profile {profile} is unchanged"),
        });
    }
    let retiring = intent.create_key(step, &user)?.switch(step)?;
    let done = retire(step, retiring, args)?;
    Ok(format!(
        "Rotated {profile}: key {} is current.",
        done.item.key.access_key_id
    ))
}

/// Retiring -> Idle, saying on stderr what happened to the old key in IAM.
fn retire(step: &Step<'_>, retiring: crate::rotation::Retiring, args: &RotateArgs) -> Result<Idle> {
    let old_id = retiring.old_key_id().clone();
    let (done, retired) = retiring.retire(step, args.deactivate_only)?;
    let delete = super::delete_key_command(&old_id, done.item.owner.as_ref());
    output::say(&retired_line(step.profile, &old_id, retired, &delete));
    Ok(done)
}

/// What became of a profile's old key in IAM, for the person who rotated it.
fn retired_line(
    profile: &ProfileName,
    old_id: &AccessKeyId,
    retired: Retired,
    delete_command: &str,
) -> String {
    match retired {
        Retired::Deleted => format!("Deleted the old key {old_id} of {profile} in IAM."),
        Retired::Deactivated => format!(
            "Deactivated the old key {old_id} of {profile} in IAM (it still exists); delete it once nothing needs it: {delete_command}"
        ),
        Retired::AlreadyGone => {
            format!("The old key {old_id} of {profile} was already gone from IAM.")
        }
    }
}

/// Two keys is AWS's limit: an inactive other key may be deleted on confirmation; an active one stops
/// the rotation before anything is created.
fn make_room(
    ctx: &Context,
    store: &dyn CredentialStore,
    aws: &dyn KeyAuthority,
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
    // An inactive key some awskeep profile holds is still that profile's key: never deleted here.
    let held = crate::rotation::held_key_ids(store)?;
    match others.as_slice() {
        [other] if !other.active && !held.contains(other.id.as_str()) => {
            prompt::confirm(
                &format!(
                    "IAM user {user} already has a second, inactive key {}. Delete it to make room?",
                    other.id
                ),
                args.yes,
                "--yes",
                ctx.stdin_is_terminal,
            )?;
            aws.delete_key(&state.key, user, &other.id)?;
            output::say(&format!("Deleted inactive key {}.", other.id));
            Ok(())
        }
        _ => {
            let listing: Vec<String> = others
                .iter()
                .map(|k| {
                    let held_by_awskeep = if held.contains(k.id.as_str()) {
                        ", held by an awskeep profile"
                    } else {
                        ""
                    };
                    let status = if k.active { "active" } else { "inactive" };
                    format!("{} {status}{held_by_awskeep}", k.id)
                })
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
