//! Each transition of the rotation state machine over the memory store and the fake AWS's IAM.
#![cfg(test)]

use std::sync::atomic::AtomicBool;

use super::*;
use crate::aws::fake::FakeAws;
use crate::secret::SecretAccessKey;
use crate::store::memory::MemoryStore;

const USER: &str = "alice";

fn ok(_: &str) -> Result<()> {
    Ok(())
}

fn refuse(_: &str) -> Result<()> {
    Err(Error::Cancelled)
}

fn profile(name: &str) -> ProfileName {
    ProfileName::parse(name).unwrap()
}

/// A store holding profile `a` with the user's first key, and that key in IAM.
fn setup() -> (MemoryStore, FakeAws, KeyPair) {
    let store = MemoryStore::default();
    let iam = FakeAws::default();
    let key = iam.issue(USER, SystemTime::now() - Duration::from_secs(86_400));
    let copy = KeyPair {
        access_key_id: key.access_key_id.clone(),
        secret_access_key: SecretAccessKey::parse(key.secret_access_key.expose_secret()).unwrap(),
    };
    store
        .set(&profile("a"), &StoredKey::new(key, None, SystemTime::now()))
        .unwrap();
    (store, iam, copy)
}

fn target() -> AwsTarget {
    AwsTarget {
        region: "us-east-1".into(),
        sts_endpoint: None,
    }
}

fn step<'a>(
    store: &'a MemoryStore,
    iam: &'a FakeAws,
    name: &'a ProfileName,
    confirm: &'a dyn Fn(&str) -> Result<()>,
) -> Step<'a> {
    static NEVER: AtomicBool = AtomicBool::new(false);
    Step {
        store,
        profile: name,
        aws: iam,
        target: target(),
        waiting: Waiting {
            profile: name,
            timeout: Duration::ZERO,
            interrupted: &NEVER,
        },
        checkpoint: &ok,
        confirm,
        patience: Duration::ZERO,
        // No grace: these tests retire right after the switch (as `rotate --now` does); the
        // deferral has its own tests below.
        grace: Duration::ZERO,
        deactivate: false,
    }
}

fn state(store: &MemoryStore, name: &str) -> State {
    State::of(store.get(&profile(name)).unwrap().unwrap())
}

/// A retirement whose time has come (every test step records no grace; the store rounds the
/// switch's time up to a whole second).
fn due(retiring: Retiring) -> Due {
    match retiring.when_due(SystemTime::now() + Duration::from_secs(1)) {
        Retirement::Due(due) => due,
        Retirement::NotYet(_) => panic!("not due"),
    }
}

/// IAM's CreateDate of the pending key, as the record holds it.
fn pending_created(rotation: &mut Rotation) -> &mut Option<SystemTime> {
    match rotation {
        Rotation::Pending { created, .. } => created,
        _ => panic!("not pending"),
    }
}

/// When the stored item of `a` says its old key may go.
fn recorded_delete_after(store: &MemoryStore) -> SystemTime {
    match state(store, "a") {
        State::Retiring(retiring) => retiring.delete_after().unwrap(),
        _ => panic!("not retiring"),
    }
}

fn idle(store: &MemoryStore) -> Idle {
    match state(store, "a") {
        State::Idle(idle) => idle,
        _ => panic!("not idle"),
    }
}

#[test]
fn the_store_item_says_which_state_a_rotation_is_in() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    assert!(matches!(state(&store, "a"), State::Idle(_)));
    idle(&store).record_intent(&s).unwrap();
    assert!(matches!(state(&store, "a"), State::Intent(_)));
    let State::Intent(intent) = state(&store, "a") else {
        panic!()
    };
    intent.create_key(&s, USER).unwrap();
    assert!(matches!(state(&store, "a"), State::Pending(_)));
    let State::Pending(pending) = state(&store, "a") else {
        panic!()
    };
    pending.switch(&s).unwrap();
    assert!(matches!(state(&store, "a"), State::Retiring(_)));
    let State::Retiring(retiring) = state(&store, "a") else {
        panic!()
    };
    due(retiring).retire(&s).unwrap();
    assert!(matches!(state(&store, "a"), State::Idle(_)));
}

#[test]
fn a_full_rotation_leaves_one_key_the_new_one() {
    let (store, iam, old) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    assert_eq!(iam.ids(USER).len(), 2);
    let retiring = pending.switch(&s).unwrap();
    assert_eq!(retiring.old_key_id(), &old.access_key_id);
    let (done, retired) = due(retiring).retire(&s).unwrap();
    assert_eq!(retired, Retired::Deleted);
    assert_eq!(iam.ids(USER), [done.item.key.access_key_id.as_str()]);
    assert_ne!(done.item.key.access_key_id, old.access_key_id);
    assert!(done.item.rotation.is_idle());
    assert!(store.get(&a).unwrap().unwrap().rotation.is_idle());
}

/// The new key's age is its age in IAM: CreateAccessKey's date, carried from pending to current.
#[test]
fn the_new_key_keeps_iams_creation_date() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    let mut pending = pending;
    let created = pending_created(&mut pending.item.rotation).unwrap();
    let mut stored = store.get(&a).unwrap().unwrap();
    assert_eq!(
        *pending_created(&mut stored.rotation),
        Some(created),
        "stored"
    );
    pending.switch(&s).unwrap();
    let stored = store.get(&a).unwrap().unwrap();
    assert_eq!(stored.iam_created_at, Some(created));
    assert!(matches!(stored.rotation, Rotation::Retiring { .. }));
}

/// A pending key stored without its date (an older awskeep) takes it from IAM's listing.
#[test]
fn a_resumed_pending_key_takes_its_date_from_the_listing() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let mut pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    let created = pending_created(&mut pending.item.rotation).take();
    let keys = iam.keys_of(USER);
    assert!(pending.is_listed(&keys));
    assert_eq!(*pending_created(&mut pending.item.rotation), created);
    pending.switch(&s).unwrap();
    assert_eq!(store.get(&a).unwrap().unwrap().iam_created_at, created);
}

#[test]
fn retiring_says_what_became_of_the_old_key() {
    for (deactivate, gone_first, expected) in [
        (false, false, Retired::Deleted),
        (true, false, Retired::Deactivated),
        (false, true, Retired::AlreadyGone),
    ] {
        let (store, iam, old) = setup();
        let a = profile("a");
        let s = Step {
            deactivate,
            ..step(&store, &iam, &a, &ok)
        };
        let retiring = idle(&store)
            .record_intent(&s)
            .unwrap()
            .create_key(&s, USER)
            .unwrap()
            .switch(&s)
            .unwrap();
        if gone_first {
            iam.keys
                .borrow_mut()
                .retain(|(_, k)| k.id != old.access_key_id);
        }
        let (done, retired) = due(retiring).retire(&s).unwrap();
        assert_eq!(retired, expected);
        assert!(done.item.rotation.is_idle());
    }
}

#[test]
fn deactivate_only_keeps_the_old_key_inactive() {
    let (store, iam, old) = setup();
    let a = profile("a");
    let s = Step {
        deactivate: true,
        ..step(&store, &iam, &a, &ok)
    };
    let pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    due(pending.switch(&s).unwrap()).retire(&s).unwrap();
    let keys = iam.keys_of(USER);
    let old_info = keys.iter().find(|k| k.id == old.access_key_id).unwrap();
    assert!(!old_info.active);
}

#[test]
fn a_refused_create_clears_the_intent_and_makes_nothing() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    iam.refuse_create.set(true);
    let intent = idle(&store).record_intent(&s).unwrap();
    let err = intent.create_key(&s, USER).err().unwrap();
    assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
    assert!(store.get(&a).unwrap().unwrap().rotation.is_idle());
    assert_eq!(iam.ids(USER).len(), 1);
}

#[test]
fn a_new_key_the_store_cannot_take_is_deleted_in_iam_again() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let intent = idle(&store).record_intent(&s).unwrap();
    // The next store call (the pending write) fails.
    store.fail_call(
        1,
        Error::StoreLocked {
            store: crate::store::kind::Flavor::SecretService,
        },
    );
    let err = intent.create_key(&s, USER).err().unwrap();
    assert!(matches!(err, Error::NewKeyRolledBack { .. }), "{err:?}");
    assert_eq!(iam.ids(USER).len(), 1, "the new key was left in IAM");
}

#[test]
fn a_pending_key_gone_from_iam_is_abandoned() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let mut pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    let new_id = pending
        .item
        .rotation
        .other_key()
        .unwrap()
        .access_key_id
        .clone();
    iam.keys.borrow_mut().retain(|(_, k)| k.id != new_id);
    let keys = iam.keys_of(USER);
    assert!(!pending.is_listed(&keys));
    let idle = pending.abandon(&s).unwrap();
    assert!(idle.item.rotation.is_idle());
    assert!(store.get(&a).unwrap().unwrap().rotation.is_idle());
}

#[test]
fn settling_an_intent_deletes_only_a_confirmed_orphan_never_a_held_key() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let intent = idle(&store).record_intent(&s).unwrap();
    // After the intent: a key another profile holds, and one nobody holds.
    let held = iam.issue(USER, SystemTime::now());
    let held_id = held.access_key_id.clone();
    store
        .set(
            &profile("b"),
            &StoredKey::new(held, None, SystemTime::now()),
        )
        .unwrap();
    let orphan = iam.issue(USER, SystemTime::now());
    let keys = iam.keys_of(USER);

    // Without confirmation nothing is deleted and the intent stays for a confirmed run.
    let refusing = step(&store, &iam, &a, &refuse);
    let State::Intent(intent_again) = state(&store, "a") else {
        panic!()
    };
    assert!(intent_again.settle(&refusing, USER, &keys).is_err());
    assert_eq!(iam.ids(USER).len(), 3);
    assert!(matches!(state(&store, "a"), State::Intent(_)));

    let idle = intent.settle(&s, USER, &keys).unwrap();
    assert!(idle.item.rotation.is_idle());
    let left = iam.ids(USER);
    assert!(
        left.contains(&held_id.as_str().to_string()),
        "a held key was deleted"
    );
    assert!(!left.contains(&orphan.access_key_id.as_str().to_string()));
}

#[test]
fn a_key_made_after_the_intent_that_has_been_used_is_never_an_orphan() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let intent = idle(&store).record_intent(&s).unwrap();
    // Made by hand just after the intent and put to work elsewhere (a CI job's credentials file).
    let by_hand = iam.issue(USER, SystemTime::now());
    iam.used.borrow_mut().push(by_hand.access_key_id.clone());
    let keys = iam.keys_of(USER);
    let err = intent.settle(&s, USER, &keys).err().unwrap();
    assert!(matches!(err, Error::UnprovenKey { .. }), "{err:?}");
    assert!(
        iam.ids(USER)
            .contains(&by_hand.access_key_id.as_str().to_string())
    );
}

#[test]
fn an_unproven_key_is_named_left_alone_and_stops_the_rotation() {
    let (store, iam, _) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let mut item = store.get(&a).unwrap().unwrap();
    // An intent two hours old: it proves nothing about a key made around it.
    let started = SystemTime::now() - 2 * INTENT_MAX_AGE;
    item.rotation = Rotation::Intent { started };
    store.set(&a, &item).unwrap();
    let stray = iam.issue(USER, started + Duration::from_secs(60));
    let keys = iam.keys_of(USER);
    let State::Intent(intent) = state(&store, "a") else {
        panic!()
    };
    let err = intent.settle(&s, USER, &keys).err().unwrap();
    assert!(
        matches!(&err, Error::UnprovenKey { keys, .. } if keys.contains(stray.access_key_id.as_str())),
        "{err:?}"
    );
    assert_eq!(iam.ids(USER).len(), 2, "the unproven key was deleted");
    assert!(store.get(&a).unwrap().unwrap().rotation.is_idle());
}

#[test]
fn a_key_another_profile_shares_is_not_rotated() {
    let (store, iam, first) = setup();
    let a = profile("a");
    let copy = KeyPair {
        access_key_id: first.access_key_id.clone(),
        secret_access_key: SecretAccessKey::parse(first.secret_access_key.expose_secret()).unwrap(),
    };
    store
        .set(
            &profile("b"),
            &StoredKey::new(copy, None, SystemTime::now()),
        )
        .unwrap();
    let s = step(&store, &iam, &a, &ok);
    let err = idle(&store).record_intent(&s).err().unwrap();
    assert!(
        matches!(&err, Error::KeyShared { others, .. } if others == "b"),
        "{err:?}"
    );
    assert!(store.get(&a).unwrap().unwrap().rotation.is_idle());
    assert_eq!(iam.ids(USER).len(), 1);
}

#[test]
fn a_key_that_reached_iam_late_is_found_at_the_end() {
    let (store, iam, first) = setup();
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let started = SystemTime::now();
    let listed: Vec<AccessKeyId> = vec![first.access_key_id.clone()];
    let late = iam.issue(USER, started + Duration::from_secs(5));
    late_orphans(&s, &first, USER, started, &listed).unwrap();
    assert!(
        !iam.ids(USER)
            .contains(&late.access_key_id.as_str().to_string())
    );
    assert_eq!(iam.ids(USER), [first.access_key_id.as_str()]);
}

#[test]
fn only_an_unheld_key_made_just_after_a_recent_intent_is_an_orphan() {
    let intent = SystemTime::now() - Duration::from_secs(120);
    let now = SystemTime::now();
    let held: HashSet<String> = ["AKIAHELDBYOTHER00001".to_string()].into();
    let minute = Duration::from_secs(60);
    let key = |id: &str, created| KeyInfo {
        id: AccessKeyId::parse(id).unwrap(),
        active: true,
        created,
    };
    let orphan = "AKIAORPHANKEY0000001";
    assert_eq!(
        judge(&key(orphan, Some(intent + minute)), &held, intent, now),
        KeyVerdict::Orphan
    );
    assert_eq!(
        judge(
            &key("AKIAHELDBYOTHER00001", Some(intent + minute)),
            &held,
            intent,
            now
        ),
        KeyVerdict::Held
    );
    assert_eq!(
        judge(&key(orphan, Some(intent - 10 * minute)), &held, intent, now),
        KeyVerdict::Older
    );
    assert_eq!(
        judge(
            &key(orphan, Some(intent + 30 * minute)),
            &held,
            intent,
            now + 30 * minute
        ),
        KeyVerdict::Unproven
    );
    let old_intent = now - 2 * INTENT_MAX_AGE;
    assert_eq!(
        judge(
            &key(orphan, Some(old_intent + minute)),
            &held,
            old_intent,
            now
        ),
        KeyVerdict::Unproven
    );
    assert_eq!(
        judge(&key(orphan, None), &held, intent, now),
        KeyVerdict::Unproven
    );
}

#[test]
fn every_key_of_every_item_counts_as_held() {
    let (store, iam, first) = setup();
    let bob = |rotation| {
        let mut item = StoredKey::new(iam.issue("bob", SystemTime::now()), None, SystemTime::now());
        item.rotation = rotation;
        item
    };
    let pending = bob(Rotation::Pending {
        started: None,
        key: iam.issue("bob", SystemTime::now()),
        created: None,
    });
    let retiring = bob(Rotation::Retiring {
        old: iam.issue("bob", SystemTime::now()),
        delete_after: None,
        deactivate_only: false,
    });
    let ids: Vec<String> = [&pending, &retiring]
        .into_iter()
        .flat_map(|item| std::iter::once(&item.key).chain(item.rotation.other_key()))
        .map(|k| k.access_key_id.as_str().to_string())
        .collect();
    assert_eq!(ids.len(), 4);
    store.set(&profile("b"), &pending).unwrap();
    store.set(&profile("c"), &retiring).unwrap();
    let held = held_key_ids(&store).unwrap();
    assert!(held.contains(first.access_key_id.as_str()));
    for id in ids {
        assert!(held.contains(&id), "{id}");
    }
}

const LEASE_GRACE: Duration = Duration::from_secs(61 * 60);

/// Rotates profile `a` up to the switch with `grace`, as `rotate` does without `--now`.
fn switched_with_grace(store: &MemoryStore, iam: &FakeAws, grace: Duration) -> Retiring {
    let a = profile("a");
    let s = Step {
        grace,
        ..step(store, iam, &a, &ok)
    };
    idle(store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap()
        .switch(&s)
        .unwrap()
}

/// The switch records when the old key may go: the grace after it, in the store, so a finisher
/// started later (or the next rotate) knows; before then the old key is not retired and stays in
/// IAM, working, for programs that were served it.
#[test]
fn the_switch_records_delete_after_and_the_old_key_is_not_retired_before_it() {
    let (store, iam, old) = setup();
    let before = SystemTime::now();
    let retiring = switched_with_grace(&store, &iam, LEASE_GRACE);
    let after = SystemTime::now();
    let recorded = recorded_delete_after(&store);
    // Whole seconds, rounded up: never earlier than the grace after the switch.
    assert!(recorded >= before + LEASE_GRACE);
    assert!(recorded <= after + LEASE_GRACE + Duration::from_secs(1));
    assert_eq!(retiring.delete_after(), Some(recorded));

    // A minute before: still Retiring, nothing asked of IAM, the old key still listed.
    let retiring = match retiring.when_due(recorded - Duration::from_secs(60)) {
        Retirement::NotYet(still) => still,
        Retirement::Due(_) => panic!("due a minute before delete_after"),
    };
    assert!(matches!(state(&store, "a"), State::Retiring(_)));
    assert!(
        iam.ids(USER)
            .contains(&old.access_key_id.as_str().to_string())
    );
    // At delete_after: due, and retiring it deletes the old key.
    let Retirement::Due(due) = retiring.when_due(recorded) else {
        panic!("not due at delete_after")
    };
    let a = profile("a");
    let (done, retired) = due.retire(&step(&store, &iam, &a, &ok)).unwrap();
    assert_eq!(retired, Retired::Deleted);
    assert_eq!(iam.ids(USER), [done.item.key.access_key_id.as_str()]);
    assert!(store.get(&a).unwrap().unwrap().rotation.is_idle());
}

/// A deferred retirement read back from the store (a finisher, the next rotate) is due only once
/// its recorded time has come; `expedite` (`rotate --now`) makes it due at once and records that.
#[test]
fn a_recorded_retirement_is_due_at_its_time_and_expedite_makes_it_due_now() {
    let (store, iam, old) = setup();
    switched_with_grace(&store, &iam, LEASE_GRACE);
    let a = profile("a");
    let s = step(&store, &iam, &a, &ok);
    let State::Retiring(read_back) = state(&store, "a") else {
        panic!("not retiring")
    };
    let Retirement::NotYet(read_back) = read_back.when_due(SystemTime::now()) else {
        panic!("due an hour early")
    };
    let due = read_back.expedite(&s).unwrap();
    let recorded = recorded_delete_after(&store);
    assert!(
        recorded <= SystemTime::now(),
        "expedite recorded no earlier time"
    );
    due.retire(&s).unwrap();
    assert!(
        !iam.ids(USER)
            .contains(&old.access_key_id.as_str().to_string())
    );
}

/// `--deactivate-only` at the switch is what the deferred retirement does, whoever finishes it.
#[test]
fn a_deferred_retirement_deactivates_when_the_switch_recorded_so() {
    let (store, iam, old) = setup();
    let a = profile("a");
    let s = Step {
        deactivate: true,
        grace: Duration::from_secs(1),
        ..step(&store, &iam, &a, &ok)
    };
    idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap()
        .switch(&s)
        .unwrap();
    assert!(matches!(
        store.get(&a).unwrap().unwrap().rotation,
        Rotation::Retiring {
            deactivate_only: true,
            ..
        }
    ));
    // A finisher's step knows nothing of the flag.
    let State::Retiring(retiring) = state(&store, "a") else {
        panic!()
    };
    let Retirement::Due(due) = retiring.when_due(SystemTime::now() + Duration::from_secs(2)) else {
        panic!("not due")
    };
    let (_, retired) = due.retire(&step(&store, &iam, &a, &ok)).unwrap();
    assert_eq!(retired, Retired::Deactivated);
    let keys = iam.keys_of(USER);
    assert!(
        !keys
            .iter()
            .find(|k| k.id == old.access_key_id)
            .unwrap()
            .active
    );
}

/// An item from an awskeep that retired at once (no delete_after) is due now.
#[test]
fn a_retirement_without_a_recorded_time_is_due_at_once() {
    assert!(is_due(None, SystemTime::now()));
    let now = SystemTime::now();
    assert!(!is_due(Some(now + Duration::from_secs(1)), now));
    assert!(is_due(Some(now), now));
}

/// IAM refuses the new key for a while after it is made: the retirement retries within its
/// patience and then deletes the old key.
#[test]
fn a_retirement_retries_while_iam_propagates_the_new_key() {
    let (store, iam, old) = setup();
    let a = profile("a");
    let mut s = step(&store, &iam, &a, &ok);
    s.patience = Duration::from_secs(10);
    let pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    iam.deny_deletes.set(2);
    due(pending.switch(&s).unwrap()).retire(&s).unwrap();
    assert_eq!(iam.deny_deletes.get(), 0);
    assert!(
        !iam.ids(USER)
            .contains(&old.access_key_id.as_str().to_string())
    );
}

/// Past its patience the retirement gives up with IAM's refusal (the next run finishes it) rather
/// than retrying for ever.
#[test]
fn a_retirement_gives_up_once_its_patience_is_spent() {
    let (store, iam, old) = setup();
    let a = profile("a");
    let mut s = step(&store, &iam, &a, &ok);
    s.patience = Duration::from_secs(1);
    let pending = idle(&store)
        .record_intent(&s)
        .unwrap()
        .create_key(&s, USER)
        .unwrap();
    // Four refusals take 7.5 s of back-off to outlast; a patience of 1 s allows two attempts.
    iam.deny_deletes.set(4);
    let err = due(pending.switch(&s).unwrap()).retire(&s).err().unwrap();
    assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
    assert!(
        iam.deny_deletes.get() >= 2,
        "gave up after {} refusals",
        4 - iam.deny_deletes.get()
    );
    assert!(
        iam.ids(USER)
            .contains(&old.access_key_id.as_str().to_string())
    );
}

#[test]
fn delete_after_is_rounded_up_to_a_whole_second_and_never_down() {
    let epoch = SystemTime::UNIX_EPOCH;
    assert_eq!(
        super::whole_second_up(epoch + Duration::from_secs(5)),
        epoch + Duration::from_secs(5)
    );
    assert_eq!(
        super::whole_second_up(epoch + Duration::from_millis(5_001)),
        epoch + Duration::from_secs(6)
    );
}

/// The one way bootstrap and rotate free a place under IAM's two keys: only an inactive key no
/// awskeep item holds goes (the oldest, never the one kept), and only when allowed; otherwise the
/// caller's error, given the keys besides the kept one.
#[test]
fn make_room_deletes_only_an_unheld_inactive_key_and_only_when_allowed() {
    let (store, iam, first) = setup();
    let acting = iam.acting_as(&target(), &profile("a"), &first).unwrap();
    let full = |others: &[&KeyInfo], _: &HashSet<String>| {
        Ok(Error::KeyQuotaFull {
            user: USER.into(),
            keys: others
                .iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            spare_inactive: false,
        })
    };
    let room = |allow: bool| {
        let keys = iam.keys_of(USER);
        make_room(
            &store,
            acting.as_ref(),
            USER,
            &keys,
            Some(&first.access_key_id),
            |_| Ok(allow),
            full,
        )
    };
    room(false).unwrap();
    // A second key: active, so it stays whatever is allowed.
    let second = iam.issue(USER, SystemTime::now() - Duration::from_secs(60));
    let err = room(true).err().unwrap();
    assert!(
        matches!(&err, Error::KeyQuotaFull { keys, .. } if keys == second.access_key_id.as_str()),
        "{err:?}"
    );
    // Inactive and held by profile b: still stays.
    acting
        .deactivate_access_key(USER, &second.access_key_id)
        .unwrap();
    let copy = KeyPair {
        access_key_id: second.access_key_id.clone(),
        secret_access_key: SecretAccessKey::parse("s").unwrap(),
    };
    store
        .set(
            &profile("b"),
            &StoredKey::new(copy, None, SystemTime::now()),
        )
        .unwrap();
    assert!(room(true).is_err());
    // Held by nobody: goes when allowed, and only then.
    store.delete(&profile("b")).unwrap();
    assert!(room(false).is_err());
    assert_eq!(iam.ids(USER).len(), 2);
    room(true).unwrap();
    assert_eq!(iam.ids(USER), [first.access_key_id.as_str()]);
}
