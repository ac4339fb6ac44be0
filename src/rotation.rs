//! Key rotation as a typed state machine. A profile's store item records where its rotation stands:
//! `Idle` (none), `Intent` (a CreateAccessKey is about to be made), `Pending` (the new key is stored,
//! not yet current), `Retiring` (the new key is current; the old one is still in IAM, until the
//! `delete_after` its switch recorded: clients that were served the old key keep it until the
//! `Expiration` of their lease, see `crate::lease`). `Retiring` becomes `Due` only once that time
//! has come (or `expedite`, for `rotate --now`, records that it has), and only `Due` retires. Each
//! transition is one function that consumes its state, makes at most one change in AWS, and writes
//! the next state to the store before it returns it, so an interruption anywhere leaves a recorded
//! state the next run resumes from, and the profile's current key works throughout.
//!
//! AWS comes in through `crate::aws::Aws`: IAM acting as one of the profile's keys (`Step::iam`),
//! and the wait for a new key; the store through `CredentialStore`. Every transition is
//! unit-tested over the memory store and `aws::fake::FakeAws`. The one rule that lets a rotation
//! delete a key it did not just create is `judge`: only a provable orphan, and only on
//! confirmation. `make_room` is the one way a command frees a place for a new key.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use crate::aws::iam::{Iam, KeyInfo};
use crate::aws::{Aws, AwsTarget, Waiting};
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::secret::{AccessKeyId, KeyPair, Rotation, StoredKey};
use crate::store::facade::CredentialStore;

/// IAM and our clock may disagree a little on when a key was made.
const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// How long after a recorded intent its CreateAccessKey can have reached IAM (a slow or retried
/// request); a key made later is not that rotation's.
const INTENT_WINDOW: Duration = Duration::from_secs(600);
/// An intent older than this proves nothing about the keys around it.
const INTENT_MAX_AGE: Duration = Duration::from_secs(3600);

/// What every transition works with.
pub struct Step<'a> {
    pub store: &'a CredentialStore,
    pub profile: &'a ProfileName,
    pub aws: &'a dyn Aws,
    /// Where AWS is, for every call of the rotation.
    pub target: AwsTarget,
    /// How long to wait for the new key, and the deferred Ctrl-C.
    pub waiting: Waiting<'a>,
    /// Named points the tests use to crash or fail the process there; `Ok` otherwise.
    pub checkpoint: &'a dyn Fn(&str) -> Result<()>,
    /// Asks before a key is deleted that this run did not create (`--yes` answers).
    pub confirm: &'a dyn Fn(&str) -> Result<()>,
    /// How long to keep retrying the old key's retirement while IAM propagates the new key.
    pub patience: Duration,
    /// How long after the switch the old key stays in IAM (`lease::retire_grace`; zero for
    /// `rotate --now`), recorded by the switch as `delete_after`.
    pub grace: Duration,
    /// Mark the old key Inactive instead of deleting it (`--deactivate-only`), recorded by the
    /// switch; a retirement deactivates when either this or the recorded choice says so.
    pub deactivate: bool,
}

impl<'a> Step<'a> {
    /// IAM acting as `key`, one of the profile's keys.
    pub fn iam(&self, key: &KeyPair) -> Result<Box<dyn Iam + 'a>> {
        self.aws.acting_as(&self.target, self.profile, key)
    }
}

/// No rotation in progress.
pub struct Idle {
    pub item: StoredKey,
}

/// An intent is recorded: a CreateAccessKey is being (or was, by an interrupted run) made.
pub struct Intent {
    pub item: StoredKey,
    pub started: SystemTime,
}

/// A new key is created and stored, not yet current. Built only with `item.rotation` `Pending`.
pub struct Pending {
    pub item: StoredKey,
}

/// The new key is current; the old one (`item.rotation` is `Retiring`) is still in IAM.
pub struct Retiring {
    pub item: StoredKey,
    /// The old key's ID, taken from `item.rotation` when the state is built.
    old_id: AccessKeyId,
}

/// Whether a `Retiring` state's time has come.
pub enum Retirement {
    Due(Due),
    NotYet(Retiring),
}

/// A `Retiring` whose `delete_after` has come: the only state that retires the old key.
pub struct Due {
    pub item: StoredKey,
    old_id: AccessKeyId,
}

/// A profile's rotation state, as its store item records it.
pub enum State {
    Idle(Idle),
    Intent(Intent),
    Pending(Pending),
    Retiring(Retiring),
}

impl State {
    pub fn of(item: StoredKey) -> Self {
        match &item.rotation {
            Rotation::Retiring { old, .. } => {
                let old_id = old.access_key_id.clone();
                State::Retiring(Retiring { item, old_id })
            }
            Rotation::Pending { .. } => State::Pending(Pending { item }),
            Rotation::Intent { started } => State::Intent(Intent {
                started: *started,
                item,
            }),
            Rotation::Idle => State::Idle(Idle { item }),
        }
    }
}

impl Idle {
    /// Idle -> Intent: records that a CreateAccessKey is about to be made. Refused when another
    /// profile holds the same key: retiring it would break that profile.
    pub fn record_intent(mut self, step: &Step<'_>) -> Result<Intent> {
        let sharing = profiles_holding(step.store, &self.item.key.access_key_id, step.profile)?;
        if !sharing.is_empty() {
            return Err(Error::KeyShared {
                profile: step.profile.to_string(),
                others: sharing.join(", "),
            });
        }
        let started = SystemTime::now();
        self.item.rotation = Rotation::Intent { started };
        step.store.set(step.profile, &self.item)?;
        (step.checkpoint)("rotate:after-intent")?;
        Ok(Intent {
            item: self.item,
            started,
        })
    }
}

impl Intent {
    /// Intent -> Idle, no key made (the run was interrupted before CreateAccessKey).
    pub fn cancel(mut self, step: &Step<'_>) -> Result<Idle> {
        self.item.rotation = Rotation::default();
        step.store.set(step.profile, &self.item)?;
        Ok(Idle { item: self.item })
    }

    /// Intent -> Pending: CreateAccessKey, acting as the current key, and the new key stored at
    /// once. A refused CreateAccessKey made nothing: the intent is cleared (so it can never be
    /// taken for the origin of someone else's key) and the error returned. A new key the store
    /// cannot take is deleted in IAM again.
    pub fn create_key(mut self, step: &Step<'_>, user: &str) -> Result<Pending> {
        let created = step
            .iam(&self.item.key)
            .and_then(|iam| Ok((iam.create_access_key(user)?, iam)));
        let (new, iam) = match created {
            Ok(created) => created,
            Err(e) => {
                self.item.rotation = Rotation::default();
                step.store.set(step.profile, &self.item)?;
                return Err(e);
            }
        };
        (step.checkpoint)("rotate:after-create")?;
        let new_id = new.key.access_key_id.clone();
        self.item.rotation = Rotation::Pending {
            started: Some(self.started),
            key: new.key,
            created: new.created,
        };
        let stored = (step.checkpoint)("rotate:store-pending")
            .and_then(|()| step.store.set(step.profile, &self.item));
        if let Err(cause) = stored {
            return Err(iam.roll_back(user, &new_id, cause));
        }
        (step.checkpoint)("rotate:after-pending-stored")?;
        Ok(Pending { item: self.item })
    }

    /// Intent (an interrupted run's) -> Idle: decides what IAM made around it. A provable orphan
    /// (see `judge`) is deleted on confirmation; a key nobody holds that cannot be proven one is
    /// named and left alone, and the rotation stops there (the intent is cleared either way).
    pub fn settle(mut self, step: &Step<'_>, user: &str, keys: &[KeyInfo]) -> Result<Idle> {
        let mut held = held_key_ids(step.store)?;
        held.insert(self.item.key.access_key_id.as_str().to_string());
        let now = SystemTime::now();
        let mut unproven = Vec::new();
        for key in keys {
            match verdict(step, &self.item.key, key, &held, self.started, now) {
                KeyVerdict::Orphan => delete_orphan(step, &self.item.key, user, key)?,
                KeyVerdict::Unproven => unproven.push(key.id.as_str().to_string()),
                KeyVerdict::Held | KeyVerdict::Older => {}
            }
        }
        self.item.rotation = Rotation::default();
        step.store.set(step.profile, &self.item)?;
        if unproven.is_empty() {
            Ok(Idle { item: self.item })
        } else {
            Err(Error::UnprovenKey {
                user: user.to_string(),
                keys: unproven.join(", "),
            })
        }
    }
}

impl Pending {
    /// Whether IAM still lists the pending key. Its CreateDate is taken from the listing when the
    /// item lacks it (written by an awskeep that did not record it), to be stored at the switch.
    pub fn is_listed(&mut self, keys: &[KeyInfo]) -> bool {
        let Rotation::Pending { key, created, .. } = &mut self.item.rotation else {
            return false;
        };
        let Some(listed) = keys.iter().find(|k| k.id == key.access_key_id) else {
            return false;
        };
        if created.is_none() {
            *created = listed.created;
        }
        true
    }

    /// Pending -> Idle: the pending key is gone from IAM (deleted by hand): nothing to finish.
    pub fn abandon(mut self, step: &Step<'_>) -> Result<Idle> {
        self.item.rotation = Rotation::default();
        step.store.set(step.profile, &self.item)?;
        Ok(Idle { item: self.item })
    }

    /// Pending -> Retiring: once AWS accepts the new key, one store write makes it current and
    /// keeps the old one as previous. A session of the old key is dropped with it.
    pub fn switch(mut self, step: &Step<'_>) -> Result<Retiring> {
        // Taken from this in-memory item only: the store still holds it until the write below.
        let Rotation::Pending {
            key: new, created, ..
        } = std::mem::take(&mut self.item.rotation)
        else {
            return Err(Error::StoreItemCorrupt {
                store: step.store.display_name(),
                profile: step.profile.to_string(),
                reason: "its rotation state names no pending key",
            });
        };
        let owner = step.aws.wait_accepted(&step.target, &new, &step.waiting)?;
        (step.checkpoint)("rotate:after-verify")?;
        let old = std::mem::replace(&mut self.item.key, new);
        let old_id = old.access_key_id.clone();
        self.item.iam_created_at = created;
        let switched = SystemTime::now();
        self.item.rotation = Rotation::Retiring {
            old,
            delete_after: Some(whole_second_up(switched + step.grace)),
            deactivate_only: step.deactivate,
        };
        self.item.owner = Some(owner);
        self.item.added_at = switched;
        step.store.set(step.profile, &self.item)?;
        if let Err(e) = step.store.delete_session(step.profile) {
            output::say(&format!(
                "awskeep: could not drop the cached session of {}: {}",
                step.profile,
                crate::hint::one_line(&e, None)
            ));
        }
        (step.checkpoint)("rotate:after-switch")?;
        Ok(Retiring {
            item: self.item,
            old_id,
        })
    }
}

impl Retiring {
    pub fn old_key_id(&self) -> &AccessKeyId {
        &self.old_id
    }

    /// When the old key may be retired; `None`: at once (an item from an awskeep that did not
    /// defer it).
    pub fn delete_after(&self) -> Option<SystemTime> {
        match self.item.rotation {
            Rotation::Retiring { delete_after, .. } => delete_after,
            _ => None,
        }
    }

    /// Whether the switch recorded that the old key is to be deactivated, not deleted.
    pub fn deactivate_only(&self) -> bool {
        matches!(
            self.item.rotation,
            Rotation::Retiring {
                deactivate_only: true,
                ..
            }
        )
    }

    /// Retiring -> Due, once `now` has reached `delete_after`; else the state back, unchanged.
    pub fn when_due(self, now: SystemTime) -> Retirement {
        if is_due(self.delete_after(), now) {
            Retirement::Due(Due {
                item: self.item,
                old_id: self.old_id,
            })
        } else {
            Retirement::NotYet(self)
        }
    }

    /// Retiring -> Due at once (`rotate --now`, for a leaked key): records `delete_after` as now,
    /// so what the store says stays what happens, and clients still holding the old key fail.
    pub fn expedite(mut self, step: &Step<'_>) -> Result<Due> {
        let now = SystemTime::now();
        if let Rotation::Retiring { delete_after, .. } = &mut self.item.rotation
            && !is_due(*delete_after, now)
        {
            *delete_after = Some(now);
            step.store.set(step.profile, &self.item)?;
        }
        Ok(Due {
            item: self.item,
            old_id: self.old_id,
        })
    }
}

/// `time` rounded up to a whole second: the store keeps whole seconds, and the time read back must
/// not be earlier than the one decided.
fn whole_second_up(time: SystemTime) -> SystemTime {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) if since.subsec_nanos() > 0 => {
            SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs() + 1)
        }
        _ => time,
    }
}

/// Whether a retirement recorded with `delete_after` may happen at `now`.
pub fn is_due(delete_after: Option<SystemTime>, now: SystemTime) -> bool {
    delete_after.is_none_or(|after| now >= after)
}

impl Due {
    pub fn old_key_id(&self) -> &AccessKeyId {
        &self.old_id
    }

    /// Due -> Idle: the old key is deleted (or deactivated) in IAM acting as the new key,
    /// retried while IAM propagates the new key, then dropped from the store. Says what IAM did.
    pub fn retire(mut self, step: &Step<'_>) -> Result<(Idle, Retired)> {
        let old_id = self.old_id.clone();
        let deactivate = step.deactivate
            || matches!(
                self.item.rotation,
                Rotation::Retiring {
                    deactivate_only: true,
                    ..
                }
            );
        let deadline = std::time::Instant::now() + step.patience;
        let mut delay = Duration::from_millis(500);
        let retired = loop {
            let attempt = step.iam(&self.item.key).and_then(|iam| {
                let user = iam.caller().user()?;
                let done = if deactivate {
                    iam.deactivate_access_key(&user, &old_id)
                } else {
                    iam.delete_access_key(&user, &old_id)
                };
                match done {
                    Ok(()) if deactivate => Ok(Retired::Deactivated),
                    Ok(()) => Ok(Retired::Deleted),
                    // Already gone: an earlier run deleted it before it could say so.
                    Err(Error::NoSuchUser { .. }) => Ok(Retired::AlreadyGone),
                    Err(e) => Err(e),
                }
            });
            match attempt {
                Ok(retired) => break retired,
                Err(Error::AccessDenied { .. } | Error::SourceCredentials { .. })
                    if std::time::Instant::now() + delay < deadline =>
                {
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(8));
                }
                Err(e) => return Err(e),
            }
        };
        (step.checkpoint)("rotate:after-retire")?;
        self.item.rotation = Rotation::default();
        step.store.set(step.profile, &self.item)?;
        Ok((Idle { item: self.item }, retired))
    }
}

/// What became of the old key in IAM when a rotation retired it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retired {
    Deleted,
    Deactivated,
    /// IAM no longer had it (an earlier run deleted it and was stopped before recording that).
    AlreadyGone,
}

/// What a key in IAM is to a rotation whose intent was recorded at `intent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    /// Some awskeep item holds it (any profile's current, pending or previous key).
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
pub fn judge(
    key: &KeyInfo,
    held: &HashSet<String>,
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

/// `judge`, and then IAM's word: a key that has ever been used is not an orphan, since nobody held
/// an orphan's secret to use it (a key made by hand and put to work is exactly that).
fn verdict(
    step: &Step<'_>,
    acting: &KeyPair,
    key: &KeyInfo,
    held: &HashSet<String>,
    intent: SystemTime,
    now: SystemTime,
) -> KeyVerdict {
    match judge(key, held, intent, now) {
        // Used, or IAM will not say: not provably an orphan.
        KeyVerdict::Orphan
            if !matches!(
                step.iam(acting).and_then(|iam| iam.last_used(&key.id)),
                Ok(None)
            ) =>
        {
            KeyVerdict::Unproven
        }
        other => other,
    }
}

/// Every key ID any awskeep item in the store holds.
pub fn held_key_ids(store: &CredentialStore) -> Result<HashSet<String>> {
    let mut held = HashSet::new();
    for profile in store.list()? {
        if let Some(item) = store.get(&profile)? {
            for key in std::iter::once(&item.key).chain(item.rotation.other_key()) {
                held.insert(key.access_key_id.as_str().to_string());
            }
        }
    }
    Ok(held)
}

/// The other profiles whose items hold `id` (as their key, pending or previous).
pub fn profiles_holding(
    store: &CredentialStore,
    id: &AccessKeyId,
    except: &ProfileName,
) -> Result<Vec<String>> {
    let mut holders = Vec::new();
    for profile in store.list()? {
        if &profile == except {
            continue;
        }
        if let Some(item) = store.get(&profile)? {
            let holds = std::iter::once(&item.key)
                .chain(item.rotation.other_key())
                .any(|k| &k.access_key_id == id);
            if holds {
                holders.push(profile.to_string());
            }
        }
    }
    Ok(holders)
}

fn delete_orphan(step: &Step<'_>, acting: &KeyPair, user: &str, key: &KeyInfo) -> Result<()> {
    (step.confirm)(&format!(
        "Key {} of IAM user {user} was created just after an interrupted rotation of profile {} began, has never been used, and no awskeep item holds it. Delete it?",
        key.id.as_str(),
        step.profile
    ))?;
    step.iam(acting)?.delete_access_key(user, &key.id)?;
    output::say(&format!(
        "Deleted key {} that an interrupted rotation created and never stored.",
        key.id.as_str()
    ));
    Ok(())
}

/// After a run that settled an earlier intent: a key that appeared since `first_listing` and is
/// provably that intent's orphan goes (on confirmation); one that cannot be proven is named.
pub fn late_orphans(
    step: &Step<'_>,
    acting: &KeyPair,
    user: &str,
    intent: SystemTime,
    first_listing: &[AccessKeyId],
) -> Result<()> {
    let held = held_key_ids(step.store)?;
    let now = SystemTime::now();
    for key in step.iam(acting)?.list_access_keys(user)? {
        if first_listing.contains(&key.id) {
            continue;
        }
        match verdict(step, acting, &key, &held, intent, now) {
            KeyVerdict::Orphan => delete_orphan(step, acting, user, &key)?,
            KeyVerdict::Unproven => output::say(&format!(
                "awskeep: key {} of IAM user {user} appeared during this run and no awskeep item holds it; it was left alone",
                key.id.as_str()
            )),
            KeyVerdict::Held | KeyVerdict::Older => {}
        }
    }
    Ok(())
}

/// Room for a new key of `user` under IAM's limit of two (`keys`, as listed). Only an inactive key
/// no awskeep item holds may go to make it (the oldest such, never `keep`), deleted by `iam` when
/// `allow` says so (a flag, or a question); otherwise `full` gives the error, from the keys besides
/// `keep` and the IDs held.
pub fn make_room(
    store: &CredentialStore,
    iam: &dyn Iam,
    user: &str,
    keys: &[KeyInfo],
    keep: Option<&AccessKeyId>,
    allow: impl FnOnce(&KeyInfo) -> Result<bool>,
    full: impl FnOnce(&[&KeyInfo], &HashSet<String>) -> Result<Error>,
) -> Result<()> {
    if keys.len() < 2 {
        return Ok(());
    }
    let others: Vec<&KeyInfo> = keys.iter().filter(|k| Some(&k.id) != keep).collect();
    // An inactive key some awskeep profile holds is still that profile's key: never deleted here.
    let held = held_key_ids(store)?;
    let spare = others
        .iter()
        .filter(|k| !k.active && !held.contains(k.id.as_str()))
        .min_by_key(|k| k.created);
    if let Some(spare) = spare
        && allow(spare)?
    {
        iam.delete_access_key(user, &spare.id)?;
        output::say(&format!(
            "Deleted inactive key {} of {user} to make room.",
            spare.id
        ));
        return Ok(());
    }
    Err(full(&others, &held)?)
}

pub mod background;
#[cfg(test)]
mod tests;
