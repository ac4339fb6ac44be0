//! `awskeep rotate`: a transactional, resumable key rotation, driven through the state machine in
//! `crate::rotation` (Idle -> Intent -> Pending -> Retiring -> Idle, each step recorded in the
//! profile's store item before the next). This module decides which transitions a run takes: it
//! finishes or settles what an interrupted run left, asks before rotating, makes room under IAM's
//! two-key limit, and reports. AWS comes in as the store does: the transitions act through
//! `Aws::acting_as`, as one of the profile's keys at a time.
//!
//! The old key is not retired at the switch: programs that were served it keep it until the
//! `Expiration` of their lease (`crate::lease`), so it stays in IAM until the `delete_after` the
//! switch records (an hour and a minute later), and a detached finisher started here
//! (`rotation::background`; `finish_in_background` below is that process) retires it then.
//! `--now` retires it at once (a leaked key). Every run that finds a retirement due finishes it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use crate::aws::iam::{KeyInfo, delete_key_command};
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
use crate::rotation::{Due, Idle, Retired, Retirement, Retiring, State, Step, late_orphans};
use crate::secret::{AccessKeyId, StoredKey};
use crate::store::facade::{CredentialStore, Openness};
use crate::store::open::Opening;

pub fn run(ctx: &Context, store: &CredentialStore, aws: &dyn Aws, args: RotateArgs) -> Result<()> {
    let interrupted = crate::interrupts::defer_interrupts();
    let Some(profile) = &args.profile else {
        return rotate_all(ctx, store, aws, &args, &interrupted);
    };
    let summary = rotate_profile(ctx, store, aws, profile, &args, &interrupted, true)?;
    output::say(&summary);
    Ok(())
}

fn rotate_all(
    ctx: &Context,
    store: &CredentialStore,
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
            // Why this profile was not rotated, and what helps it: its own hint, since what
            // helps a shared key, a user at two keys or a missing permission differs.
            Err(e) => {
                output::say(&format!(
                    "  FAILED {profile}: {}",
                    crate::hint::cause_and_hint(&e, Some(crate::cli::CommandKind::Rotate))
                ));
                failed.push(profile.to_string());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::RotationsFailed {
            count: failed.len(),
            total: due.len(),
            failed: failed.join(", "),
        })
    }
}

/// What becomes of the old keys, for the question before a rotation.
fn retire_verb(args: &RotateArgs) -> &'static str {
    match (args.deactivate_only, args.now) {
        (true, true) => "deactivated at once",
        (false, true) => "deleted at once",
        (true, false) => "deactivated an hour after the switch",
        (false, false) => "deleted an hour after the switch",
    }
}

/// Runs `body` on one profile's item under its rotation lock, with the `Step` the transitions use.
fn with_rotation<T>(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn Aws,
    profile: &ProfileName,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    body: impl FnOnce(&Step<'_>, StoredKey) -> Result<T>,
) -> Result<T> {
    // One rotation of a profile at a time (a background finisher included): a second one would
    // write back its stale copy of the item over the first one's result. Held until the rotation
    // is done; the kernel drops it on a crash.
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
    let checkpoint = |name: &str| {
        crate::test_points::crash_point(ctx, name);
        crate::test_points::fail_point(ctx, name)
    };
    let confirm =
        |question: &str| prompt::confirm(question, args.yes, "--yes", ctx.stdin_is_terminal);
    let step = Step {
        store,
        profile,
        aws,
        target,
        waiting: Waiting {
            profile,
            timeout: args.verify_timeout,
            interrupted,
        },
        checkpoint: &checkpoint,
        confirm: &confirm,
        patience: args.verify_timeout,
        grace: if args.now {
            Duration::ZERO
        } else {
            crate::lease::retire_grace(ctx.key_lease)
        },
        deactivate: args.deactivate_only,
    };
    body(&step, item)
}

/// Rotates one profile, or finishes the rotation an earlier run left; returns the line to report.
fn rotate_profile(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn Aws,
    profile: &ProfileName,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    ask: bool,
) -> Result<String> {
    with_rotation(ctx, store, aws, profile, args, interrupted, |step, item| {
        resume_or_rotate(ctx, step, item, args, interrupted, ask)
    })
}

fn resume_or_rotate(
    ctx: &Context,
    step: &Step<'_>,
    item: StoredKey,
    args: &RotateArgs,
    interrupted: &AtomicBool,
    ask: bool,
) -> Result<String> {
    let (store, profile) = (step.store, step.profile);
    let idle = match State::of(item) {
        // After the switch: only the old key's retirement is left, now or when it is due.
        State::Retiring(retiring) => {
            let current = retiring.item.key.access_key_id.clone();
            return Ok(match settle_retiring(ctx, step, retiring, args)? {
                Settled::Retired => format!(
                    "Finished the interrupted rotation of {profile}: key {current} is current."
                ),
                deferred @ Settled::Deferred(_) => format!(
                    "The rotation of {profile} is finishing: key {current} is current.{}",
                    deferred.note()
                ),
            });
        }
        State::Pending(mut pending) => {
            let iam = step.iam(&pending.item.key)?;
            let user = iam.caller().user()?;
            if pending.is_listed(&iam.list_access_keys(&user)?) {
                let retiring = pending.switch(step)?;
                let current = retiring.item.key.access_key_id.clone();
                let settled = settle_retiring(ctx, step, retiring, args)?;
                return Ok(format!(
                    "Rotated {profile}: key {current} is current (finished an interrupted rotation).{}",
                    settled.note()
                ));
            }
            pending.abandon(step)?
        }
        State::Intent(intent) => {
            let iam = step.iam(&intent.item.key)?;
            let user = iam.caller().user()?;
            let keys = iam.list_access_keys(&user)?;
            let started = intent.started;
            let first_listing: Vec<AccessKeyId> = keys.iter().map(|k| k.id.clone()).collect();
            let outcome = intent
                .settle(step, &user, &keys)
                .and_then(|idle| rotate_idle(ctx, step, idle, args, interrupted, ask));
            // A key the interrupted run asked for may reach IAM after this run listed the keys (a
            // request a proxy delivered late): look once more, whatever this run's outcome, as the
            // key that is current now.
            let current = store.get(profile)?.map(|item| item.key);
            if let Some(current) = current {
                let late = late_orphans(step, &current, &user, started, &first_listing);
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
    rotate_idle(ctx, step, idle, args, interrupted, ask)
}

/// What the background finisher found.
enum Finish {
    /// The old key was retired (or the item is no longer retiring): nothing is left to wait for.
    Done,
    /// Not due until then (a later rotation's retirement): wait again.
    NotBefore(SystemTime),
}

/// The detached finisher (`rotate --profile P --finish-retirement-after T`, started by
/// `rotation::background::spawn`): waits until T, then retires the old key once it is due, acting
/// as the new key, under the rotation lock. Opens the store only then, and never in a way that
/// asks anyone anything: no terminal (its own session), no desktop unlock prompt. Exits when done,
/// on any error (the next awskeep command for the profile starts another), and when its login is
/// gone.
pub fn finish_in_background(
    ctx: &Context,
    asked: Option<crate::store::kind::StoreKind>,
    args: RotateArgs,
) -> Result<()> {
    crate::rotation::background::leave_session();
    let Some(profile) = args.profile.clone() else {
        return Ok(());
    };
    let lock_dir = ctx.lock_dir.as_deref().ok_or(Error::NoHome)?;
    // rotate made the lock folder before starting this process: gone now, the login that ran it
    // is over. Taking the finisher lock would make the folder again and wait an hour in it.
    if !lock_dir.is_dir() {
        return Ok(());
    }
    // Another finisher waits for this profile already.
    let Some(_only_finisher) = crate::rotation::background::finisher_lock(lock_dir, &profile)
    else {
        return Ok(());
    };
    let mut ctx = ctx.clone();
    ctx.stdin_is_terminal = false;
    ctx.store_env.graphical_session = false;
    let mut after =
        SystemTime::UNIX_EPOCH + Duration::from_secs(args.finish_retirement_after.unwrap_or(0));
    // Each round waits for a later `delete_after` than the last, so this ends.
    loop {
        if !crate::rotation::background::sleep_until(lock_dir, after) {
            return Ok(());
        }
        let unlock_timeout = || super::unlock::unlock_timeout(&ctx);
        let opened = crate::store::open::open(asked, &ctx, Opening::Now, &unlock_timeout)?;
        ctx.opened_store.set(Some(opened.kind));
        let never = AtomicBool::new(false);
        let finish = with_rotation(
            &ctx,
            &opened.store,
            &crate::aws::SdkAws,
            &profile,
            &args,
            &never,
            |step, item| {
                let State::Retiring(retiring) = State::of(item) else {
                    return Ok(Finish::Done);
                };
                match retiring.when_due(SystemTime::now()) {
                    Retirement::Due(due) => retire(step, due).map(|_| Finish::Done),
                    Retirement::NotYet(waiting) => Ok(Finish::NotBefore(
                        waiting.delete_after().unwrap_or_else(SystemTime::now),
                    )),
                }
            },
        )?;
        match finish {
            Finish::Done => return Ok(()),
            Finish::NotBefore(at) if at > after => after = at,
            Finish::NotBefore(_) => return Ok(()),
        }
    }
}

/// What `settle_retiring` did with the old key.
enum Settled {
    /// Retired now (said on stderr as it happened).
    Retired,
    /// Left in IAM until its time: the line that says when, and how to retire it now.
    Deferred(String),
}

impl Settled {
    /// The line to add to a rotation's report: for a deferral, on a line of its own.
    fn note(&self) -> String {
        match self {
            Settled::Retired => String::new(),
            Settled::Deferred(when) => format!("\n{when}"),
        }
    }
}

/// Retiring: the old key is retired now when it is due (or with `--now`); otherwise a finisher is
/// started to retire it then, and the line that says so is returned.
fn settle_retiring(
    ctx: &Context,
    step: &Step<'_>,
    retiring: Retiring,
    args: &RotateArgs,
) -> Result<Settled> {
    let due = if args.now {
        Retirement::Due(retiring.expedite(step)?)
    } else {
        retiring.when_due(SystemTime::now())
    };
    match due {
        Retirement::Due(due) => retire(step, due).map(|_| Settled::Retired),
        Retirement::NotYet(waiting) => Ok(Settled::Deferred(defer(ctx, step, &waiting))),
    }
}

/// Starts the finisher that retires the old key at its time; says when, and how to do it now.
fn defer(ctx: &Context, step: &Step<'_>, waiting: &Retiring) -> String {
    let profile = step.profile;
    let old_id = waiting.old_key_id();
    let at = waiting.delete_after().unwrap_or_else(SystemTime::now);
    let (verb, now_verb) = if step.deactivate || waiting.deactivate_only() {
        ("deactivates", "deactivate")
    } else {
        ("deletes", "delete")
    };
    // The finisher has no passphrase and no terminal (`background::spawn`): on the file store it
    // can only use a key `awskeep unlock` keeps, and a passphrase variable keeps none.
    let store_locked = matches!(
        step.store.openness(),
        Openness::File {
            unlocked_for: None,
            ..
        }
    );
    let who = match crate::rotation::background::spawn(ctx, profile, at) {
        Ok(()) if store_locked => format!(
            "a background awskeep {verb} it then if the file store is unlocked at that time (`awskeep unlock`), otherwise `awskeep rotate --profile {profile}` after that time does"
        ),
        Ok(()) => format!("a background awskeep {verb} it then"),
        Err(e) => format!(
            "awskeep could not start the background process that {verb} it then ({e}); the next awskeep command for {profile} after that time does it"
        ),
    };
    format!(
        "The old key {old_id} of {profile} stays in IAM until {} ({}), so programs already running with it switch to the new key first; {who}. To {now_verb} it now: awskeep rotate --profile {profile} --now",
        crate::lease::clock_time(at),
        crate::lease::describe_wait(at),
    )
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
    let iam = step.iam(&idle.item.key)?;
    let user = iam.caller().user()?;
    let keys = iam.list_access_keys(&user)?;
    if ask {
        (step.confirm)(&format!(
            "Rotate the key of profile {profile} (IAM user {user}); the old key {} is then {}?",
            idle.item.key.access_key_id,
            retire_verb(args)
        ))?;
    }
    // Two keys is AWS's limit: an inactive other key may go, on confirmation.
    let may_delete = |spare: &KeyInfo| {
        let question = format!(
            "IAM user {user} already has a second, inactive key {}. Delete it to make room?",
            spare.id
        );
        prompt::confirm(&question, args.yes, "--yes", ctx.stdin_is_terminal).map(|()| true)
    };
    let full = |others: &[&KeyInfo], held: &HashSet<String>| {
        no_room(step, &user, &idle.item, others, held)
    };
    let current = Some(&idle.item.key.access_key_id);
    crate::rotation::make_room(
        step.store,
        iam.as_ref(),
        &user,
        &keys,
        current,
        may_delete,
        full,
    )?;
    let intent = idle.record_intent(step)?;
    if interrupted.load(Ordering::SeqCst) {
        intent.cancel(step)?;
        return Err(Error::Interrupted {
            outcome: format!("no key was created; profile {profile} is unchanged"),
        });
    }
    let retiring = intent.create_key(step, &user)?.switch(step)?;
    let current = retiring.item.key.access_key_id.clone();
    let settled = settle_retiring(ctx, step, retiring, args)?;
    Ok(format!(
        "Rotated {profile}: key {current} is current.{}",
        settled.note()
    ))
}

/// Due -> Idle, saying on stderr what happened to the old key in IAM.
fn retire(step: &Step<'_>, due: Due) -> Result<Idle> {
    let old_id = due.old_key_id().clone();
    let (done, retired) = due.retire(step)?;
    let delete = delete_key_command(&old_id, done.item.owner.as_ref());
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

/// Why a rotation of `state`'s key finds no room beside `others` (IAM's limit is two keys): an
/// active other key, or one another awskeep profile holds, stops it before anything is created,
/// with what helps: deleting a key nothing uses, or keeping one profile for the user.
fn no_room(
    step: &Step<'_>,
    user: &str,
    state: &StoredKey,
    others: &[&KeyInfo],
    held: &HashSet<String>,
) -> Result<Error> {
    if let [other] = others {
        let held_by = crate::rotation::profiles_holding(step.store, &other.id, step.profile)?;
        let status = if other.active { "active" } else { "inactive" };
        let whose = match held_by.as_slice() {
            [] => "which no awskeep profile holds".to_string(),
            [one] => format!("which awskeep profile {one} holds"),
            _ => format!("which awskeep profiles {} hold", held_by.join(", ")),
        };
        return Ok(Error::NoRoomToRotate {
            profile: step.profile.to_string(),
            user: user.to_string(),
            other: format!("{}, {status}, {whose}", other.id),
            held_by,
            delete_command: delete_key_command(&other.id, state.owner.as_ref()),
        });
    }
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
    Ok(Error::KeyQuotaFull {
        user: user.to_string(),
        keys: format!(
            " (besides this profile's: {}); rotation needs room for a new one",
            listing.join(", ")
        ),
        spare_inactive: false,
    })
}
