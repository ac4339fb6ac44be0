//! `awskeep rotate` against moto with auth enforcement (a deleted key is rejected): the happy path, an
//! interruption after every step followed by one plain re-run, the key quota, --deactivate-only,
//! --all, and what `list` shows meanwhile. The lease (docs/CLIENTS.md, "Rotation reaches running programs"): the old key stays
//! in IAM until the lease of every program served it has ended and then goes with nobody running
//! anything, a boto3 process running across a rotation never fails and moves to the new key, and
//! `--now` deletes at once. Tests that check what happens in IAM right after a rotation pass
//! `--now`; the deferral has its own tests, with the debug-build lease override set short.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::clients::{Client, caller_arn, venv_bin};
use common::{Moto, Run, TestEnv, TestKey, run_with_stdin, wait_for};

/// The lease the deferral tests set with the debug-build override (`AWSKEEP_DEBUG_KEY_LEASE_SECS`):
/// the old key then stays `LEASE + LEASE / 4` after the switch (docs/CLIENTS.md, "Rotation reaches running programs").
const SHORT_LEASE: u64 = 20;
const SHORT_GRACE: Duration = Duration::from_secs(SHORT_LEASE + SHORT_LEASE / 4);
/// How late past its time a deferred retirement may be: the finisher wakes at it, then signs in
/// to IAM as the new key and deletes (a few seconds on a loaded machine).
const RETIRE_LATENESS: Duration = Duration::from_secs(15);

/// Whether AWS (moto) accepts this key right now, asked by boto3 with the key in its environment.
fn key_works(env: &TestEnv, id: &str, secret: &str) -> bool {
    let mut command = env.command(venv_bin("python"));
    command
        .args([
            "-c",
            "import boto3; boto3.client('sts').get_caller_identity()",
        ])
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret);
    run_with_stdin(command, "").status.success()
}

fn masked(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

fn current(env: &TestEnv, profile: &str) -> (String, String) {
    let run = env.run(&["credential-process", "--profile", profile], "");
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    (
        json["AccessKeyId"].as_str().unwrap().into(),
        json["SecretAccessKey"].as_str().unwrap().into(),
    )
}

fn rotate(env: &TestEnv, args: &[&str], crash_at: Option<&str>) -> Run {
    rotate_leased(env, args, crash_at, None)
}

/// `rotate`, with the debug lease override set to `lease` seconds.
fn rotate_leased(env: &TestEnv, args: &[&str], crash_at: Option<&str>, lease: Option<u64>) -> Run {
    let mut command = env.awskeep();
    command.arg("rotate").args(args);
    if let Some(point) = crash_at {
        command.env("AWSKEEP_TEST_CRASH_AT", point);
    }
    if let Some(lease) = lease {
        command.env("AWSKEEP_DEBUG_KEY_LEASE_SECS", lease.to_string());
    }
    run_with_stdin(command, "")
}

/// The detached finishers of this test's rotations still running (found by their command line and
/// this test's runtime folder in their environment; other tests run their own).
fn finishers_of(env: &TestEnv) -> Vec<u32> {
    let marker = format!("XDG_RUNTIME_DIR={}", env.path("run").display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
            has(&cmdline, b"--finish-retirement-after") && has(&environ, marker.as_bytes())
        })
        .collect()
}

/// Waits up to `limit` for this test's finishers to exit; fails naming those left.
#[track_caller]
fn assert_finishers_exit(env: &TestEnv, limit: Duration, context: &str) {
    let deadline = Instant::now() + limit;
    loop {
        let left = finishers_of(env);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{context}: finishers still running: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Takes the lock a finisher of `profile`'s retirement holds while it waits, so none can act while
/// the returned file is open (a finisher started meanwhile finds it held and exits).
fn hold_finisher_lock(env: &TestEnv, profile: &str) -> std::fs::File {
    std::fs::create_dir_all(env.path("run/awskeep")).unwrap();
    let held =
        std::fs::File::create(env.path(&format!("run/awskeep/retire={profile}.lock"))).unwrap();
    held.try_lock().expect("the finisher lock is free");
    held
}

/// Waits until IAM no longer lists `key`; how long that took from `since`.
fn wait_until_gone(moto: &Moto, key: &TestKey, since: Instant, limit: Duration) -> Duration {
    loop {
        if !moto.key_ids(&key.user).contains(&key.id) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < limit,
            "the old key {} is still in IAM {:?} after the rotation",
            key.id,
            since.elapsed()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Exactly one key in IAM, it is the one the store serves, and it works.
fn assert_one_working_key(env: &TestEnv, moto: &Moto, user: &TestKey, context: &str) {
    let (id, secret) = current(env, "dev");
    assert_eq!(
        moto.key_ids(&user.user),
        vec![id.clone()],
        "{context}: IAM holds exactly the stored key"
    );
    assert!(
        key_works(env, &id, &secret),
        "{context}: the current key works"
    );
    assert_eq!(
        caller_arn(env, Client::AwsCli, "dev").stdout.trim(),
        user.arn,
        "{context}"
    );
}

#[test]
fn rotation_replaces_the_key_and_the_old_one_is_rejected() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-happy");
    env.add("dev", &user, &[]).assert_ok();
    let run = rotate(&env, &["--profile", "dev", "--yes"], None);
    run.assert_ok();
    let (id, secret) = current(&env, "dev");
    assert_ne!(id, user.id);
    // The old key stays for programs that were served it; rotate says until when, and how to
    // delete it at once.
    assert!(
        run.stderr.contains(&format!(
            "The old key {} of dev stays in IAM until ",
            masked(&user.id)
        )) && run.stderr.contains("awskeep rotate --profile dev --now"),
        "rotate says when the old key goes: {}",
        run.stderr
    );
    assert!(key_works(&env, &user.id, &user.secret), "deleted at once");
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    assert_eq!(listed[0]["old_key_id"], user.id.as_str(), "{listed}");
    let status = listed[0]["status"].as_str().unwrap();
    assert!(
        status.starts_with(&format!("old key {} deleted after ", masked(&user.id))),
        "{status}"
    );

    // --now: a leaked key goes at once.
    let run = rotate(&env, &["--profile", "dev", "--now"], None);
    run.assert_ok();
    assert!(
        run.stderr.contains(&format!(
            "Deleted the old key {} of dev in IAM.\n",
            masked(&user.id)
        )),
        "rotate says what it did in IAM: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        !key_works(&env, &user.id, &user.secret),
        "the old key is deleted"
    );
    assert_one_working_key(&env, &moto, &user, "after rotate");
    assert!(!run.stderr.contains(&secret) && !run.stderr.contains(&user.secret));
    assert_eq!(
        env.files_containing(&secret),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        env.files_containing(&user.secret),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn an_interruption_after_any_step_is_finished_by_the_next_rotate() {
    let moto = Moto::connect();
    for (point, rerun_says) in [
        ("rotate:after-intent", "Rotated dev"),
        ("rotate:after-create", "created and never stored"),
        (
            "rotate:after-pending-stored",
            "finished an interrupted rotation",
        ),
        ("rotate:after-verify", "finished an interrupted rotation"),
        ("rotate:after-switch", "Finished the interrupted rotation"),
        ("rotate:after-retire", "Finished the interrupted rotation"),
    ] {
        let env = TestEnv::new();
        let user = moto.new_admin_with_key("rot-crash");
        env.add("dev", &user, &[]).assert_ok();
        // What is tested is the next rotate: no background finisher may finish it first (the
        // `credential-process` below would start one for a retirement that is due).
        let _no_finisher = hold_finisher_lock(&env, "dev");
        // --now in both runs: every step, the retirement included, runs in the one process.
        let run = rotate(&env, &["--profile", "dev", "--yes", "--now"], Some(point));
        assert!(
            run.status.code().is_none(),
            "{point}: should have died: {run:?}"
        );
        // Meanwhile the profile still has a working key.
        let (id, secret) = current(&env, "dev");
        assert!(
            key_works(&env, &id, &secret),
            "{point}: the current key must work meanwhile"
        );

        // --now: what is checked here is that the re-run finishes every step, the old key's
        // retirement included (its deferral is tested below).
        let rerun = rotate(&env, &["--profile", "dev", "--yes", "--now"], None);
        rerun.assert_ok();
        assert!(
            rerun.stderr.contains(rerun_says),
            "{point}: {}",
            rerun.stderr
        );
        assert_one_working_key(&env, &moto, &user, point);
        let listed = env.run(&["list", "--json"], "");
        assert!(
            listed.stdout.contains("\"rotation\": null"),
            "{point}: {}",
            listed.stdout
        );
    }
}

#[test]
fn list_shows_an_unfinished_rotation_and_old_keys() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-list");
    env.add("dev", &user, &[]).assert_ok();
    env.expect(["list", "--max-age", "0s"])
        .stdout_contains("too old: rotate")
        .stderr_contains("awskeep rotate")
        .run();
    let _ = rotate(
        &env,
        &["--profile", "dev", "--yes"],
        Some("rotate:after-pending-stored"),
    );
    let listed = env.run(&["list", "--json"], "");
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows[0]["rotation"], "pending");
    assert_eq!(rows[0]["status"], "rotation unfinished");
    assert_eq!(rows[0]["age_days"], 0);
}

#[test]
fn a_full_quota_stops_before_creating_and_an_inactive_key_can_go() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-quota");
    let other = moto.new_key(&user.user, &user.arn);
    env.add("dev", &user, &[]).assert_ok();
    let run = rotate(&env, &["--profile", "dev", "--yes"], None);
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("already has two access keys"),
        "{}",
        run.stderr
    );
    assert_eq!(moto.key_ids(&user.user).len(), 2, "nothing created");
    assert_eq!(current(&env, "dev").0, user.id);

    moto.deactivate(&other);
    let run = rotate(&env, &["--profile", "dev"], None);
    assert_eq!(
        run.code(),
        2,
        "deleting the inactive key needs --yes: {}",
        run.stderr
    );
    let run = rotate(&env, &["--profile", "dev", "--yes", "--now"], None);
    run.assert_ok();
    let expected = format!(
        "Deleted inactive key {} of {} to make room.\nDeleted the old key {} of dev in IAM.\nRotated dev: key {} is current.\n",
        masked(&other.id),
        user.user,
        masked(&user.id),
        masked(&current(&env, "dev").0)
    );
    assert!(
        run.stderr == expected,
        "{}",
        common::expect::diff(&expected, &run.stderr)
    );
    assert_one_working_key(&env, &moto, &user, "after making room");
}

#[test]
fn deactivate_only_keeps_the_old_key_inactive() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-deact");
    env.add("dev", &user, &[]).assert_ok();
    let run = rotate(
        &env,
        &["--profile", "dev", "--yes", "--deactivate-only", "--now"],
        None,
    );
    run.assert_ok();
    assert!(
        run.stderr.contains(&format!(
            "Deactivated the old key {} of dev in IAM (it still exists); delete it once nothing needs it: aws iam delete-access-key --access-key-id {} --user-name {}\n",
            masked(&user.id),
            user.id,
            user.user
        )),
        "{}",
        run.stderr
    );
    let (id, _) = current(&env, "dev");
    let mut statuses = moto.key_statuses(&user.user);
    statuses.sort();
    let mut expected = vec![
        (id, "Active".to_string()),
        (user.id.clone(), "Inactive".to_string()),
    ];
    expected.sort();
    assert_eq!(statuses, expected);
    // The next rotation offers to delete that inactive key and goes on.
    rotate(&env, &["--profile", "dev", "--yes", "--now"], None).assert_ok();
    assert_one_working_key(&env, &moto, &user, "after the next rotation");
}

#[test]
fn all_rotates_every_profile_old_enough() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let a = moto.new_admin_with_key("rot-all-a");
    let b = moto.new_admin_with_key("rot-all-b");
    env.add("dev", &a, &[]).assert_ok();
    env.add("ops", &b, &[]).assert_ok();
    // A bare number is days; the keys IAM made just now are younger.
    let run = rotate(&env, &["--all", "--older-than", "1", "--yes"], None);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("No key is older than 1 day; nothing to rotate."),
        "{}",
        run.stderr
    );
    rotate(
        &env,
        &["--all", "--older-than", "0s", "--yes", "--now"],
        None,
    )
    .assert_ok();
    for (profile, user) in [("dev", &a), ("ops", &b)] {
        let (id, _) = current(&env, profile);
        assert_ne!(id, user.id, "{profile} rotated");
        assert_eq!(moto.key_ids(&user.user), vec![id]);
    }
}

/// `rotate --all` that cannot rotate some profiles says, per profile, why and what helps (a shared
/// key, a user at two keys whose other key a profile holds, a user at two keys whose other key
/// nobody holds), rotates the rest, and ends with one error line whose hint is true for them. The
/// per-profile help then works: deleting the unused key lets that profile rotate.
#[test]
fn rotate_all_says_per_profile_why_nothing_rotated_and_what_helps() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let shared = moto.new_admin_with_key("rot-all-shared");
    env.add("a", &shared, &[]).assert_ok();
    env.add("b", &shared, &[]).assert_ok();
    let c = moto.new_admin_with_key("rot-all-two");
    let d = moto.new_key(&c.user, &c.arn);
    env.add("c", &c, &[]).assert_ok();
    env.add("d", &d, &[]).assert_ok();
    let e = moto.new_admin_with_key("rot-all-spare");
    let spare = moto.new_key(&e.user, &e.arn);
    env.add("e", &e, &[]).assert_ok();
    let f = moto.new_admin_with_key("rot-all-fine");
    env.add("f", &f, &[]).assert_ok();

    let run = rotate(
        &env,
        &["--all", "--older-than", "0s", "--yes", "--now"],
        None,
    );
    assert_eq!(run.code(), 1, "{}", run.stderr);
    let lines = [
        "  FAILED a: profile \"a\" shares its key with b; rotating it would delete the key they use, so nothing was changed. Hint: a rotation replaces the key of one profile only; keep one profile for this key: `awskeep remove b` (the key stays in IAM for a; use a where you used b), then `awskeep rotate a`.\n".to_string(),
        "  FAILED b: profile \"b\" shares its key with a; rotating it would delete the key they use, so nothing was changed. Hint: a rotation replaces the key of one profile only; keep one profile for this key: `awskeep remove a` (the key stays in IAM for b; use b where you used a), then `awskeep rotate b`.\n".to_string(),
        format!(
            "  FAILED c: IAM user {} already has two access keys, the most AWS allows: c's and {}, active, which awskeep profile d holds; a rotation needs room for a new one, so nothing was changed. Hint: c and d hold keys of the same IAM user, so neither can rotate; keep one profile for the user: `awskeep remove d --delete-key` frees the room (use c where you used d), then `awskeep rotate c`.\n",
            c.user,
            masked(&d.id)
        ),
        format!(
            "  FAILED e: IAM user {} already has two access keys, the most AWS allows: e's and {}, active, which no awskeep profile holds; a rotation needs room for a new one, so nothing was changed. Hint: if nothing uses that key any more, delete it (`aws iam delete-access-key --access-key-id {} --user-name {}`), then run the command again; a program that still needs it is better given its own IAM user.\n",
            e.user,
            masked(&spare.id),
            spare.id,
            e.user
        ),
    ];
    for line in &lines {
        assert!(
            run.stderr.contains(line.as_str()),
            "{line}\nin:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("Rotated f: key "), "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("awskeep: 5 of 6 profiles were not rotated: ")
            && last.ends_with(
                ". Hint: each still has the key it had; do what the line for it above says, then run the command again."
            ),
        "{last}"
    );
    assert!(!run.stderr.contains("--profile NAME"), "{}", run.stderr);
    for (profile, key) in [
        ("a", &shared),
        ("b", &shared),
        ("c", &c),
        ("d", &d),
        ("e", &e),
    ] {
        assert_eq!(current(&env, profile).0, key.id, "{profile} kept its key");
    }

    // What e's line says helps: delete the key nothing uses; then e rotates.
    moto.delete_key(&spare);
    rotate(&env, &["e", "--yes", "--now"], None).assert_ok();
    assert_one_working_key_of(&env, &moto, &e, "e");
    // What a's line says: keep one profile for the key.
    env.run(&["remove", "b", "--yes"], "").assert_ok();
    rotate(&env, &["a", "--yes", "--now"], None).assert_ok();
    assert_one_working_key_of(&env, &moto, &shared, "a");
}

#[test]
fn a_failing_pending_write_deletes_the_new_key_again() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-fault");
    env.add("dev", &user, &[]).assert_ok();
    let mut command = env.awskeep();
    command
        .args(["rotate", "--profile", "dev", "--yes"])
        .env("AWSKEEP_TEST_FAIL_AT", "rotate:store-pending");
    let run = run_with_stdin(command, "");
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("deleted in IAM again"),
        "{}",
        run.stderr
    );
    assert_eq!(moto.key_ids(&user.user), vec![user.id.clone()]);
    assert_eq!(current(&env, "dev").0, user.id);
}

/// The safety model's example: a rotation refused at CreateAccessKey leaves no intent behind, so a
/// second key of the same IAM user, stored later under another profile, is never taken for its
/// orphan; a plain rotate without --yes and without a terminal deletes nothing.
#[test]
fn a_refused_create_leaves_no_intent_and_another_profiles_key_is_never_an_orphan() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let a = moto.new_user_allowed(
        "rot-noperm",
        &["iam:ListAccessKeys", "sts:GetCallerIdentity"],
    );
    env.add("a", &a, &[]).assert_ok();
    let run = rotate(&env, &["--profile", "a", "--yes"], None);
    assert!(!run.status.success(), "{run:?}");
    assert!(run.stderr.contains("iam:CreateAccessKey"), "{run:?}");
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    assert_eq!(listed[0]["rotation"], serde_json::Value::Null, "{listed}");

    let b = moto.new_key(&a.user, &a.arn);
    env.add("b", &b, &[]).assert_ok();
    let run = rotate(&env, &["--profile", "a"], None);
    assert!(!run.status.success(), "{run:?}");
    assert!(run.stderr.contains("--yes"), "{run:?}");
    let mut ids = moto.key_ids(&a.user);
    ids.sort();
    let mut expected = vec![a.id.clone(), b.id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "a key was deleted");
    assert!(key_works(&env, &b.id, &b.secret));
}

/// An intent a crash left, then a key of the same user stored under another profile: held, so never
/// deleted. A key made after the intent that nobody holds is an orphan, deleted only with --yes.
#[test]
fn only_a_provable_orphan_is_deleted_and_only_when_confirmed() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let a = moto.new_admin_with_key("rot-orphan");
    env.add("a", &a, &[]).assert_ok();
    // The process dies right after recording its intent.
    let crashed = rotate(
        &env,
        &["--profile", "a", "--yes"],
        Some("rotate:after-intent"),
    );
    assert!(!crashed.status.success());

    // A second key, held by profile b: not an orphan, whatever its date.
    let b = moto.new_key(&a.user, &a.arn);
    env.add("b", &b, &[]).assert_ok();
    let run = rotate(&env, &["--profile", "a"], None);
    assert!(!run.status.success(), "{run:?}");
    assert!(
        moto.key_ids(&a.user).contains(&b.id),
        "b's key was deleted: {run:?}"
    );
    env.run(&["remove", "b", "--yes"], "").assert_ok();
    moto.delete_key(&b);

    // Another crash after the intent, and a key nobody holds: asked about, deleted only with --yes.
    let crashed = rotate(
        &env,
        &["--profile", "a", "--yes"],
        Some("rotate:after-intent"),
    );
    assert!(!crashed.status.success());
    let stray = moto.new_key(&a.user, &a.arn);
    let run = rotate(&env, &["--profile", "a"], None);
    assert!(!run.status.success(), "{run:?}");
    assert!(
        run.stderr.contains(&stray.id) && run.stderr.contains("--yes"),
        "{run:?}"
    );
    assert!(
        moto.key_ids(&a.user).contains(&stray.id),
        "deleted without confirmation"
    );
    let run = rotate(&env, &["--profile", "a", "--yes", "--now"], None);
    run.assert_ok();
    assert!(!moto.key_ids(&a.user).contains(&stray.id), "{run:?}");
    assert_one_working_key_of(&env, &moto, &a, "a");
}

fn assert_one_working_key_of(env: &TestEnv, moto: &Moto, user: &TestKey, profile: &str) {
    let (id, secret) = current(env, profile);
    assert_eq!(moto.key_ids(&user.user), vec![id.clone()]);
    assert!(key_works(env, &id, &secret));
}

/// One key stored under two profiles: rotating one would delete the key the other uses, so the
/// rotation is refused before anything changes.
#[test]
fn a_key_shared_by_two_profiles_is_not_rotated() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_admin_with_key("rot-shared");
    env.add("a", &key, &[]).assert_ok();
    env.add("b", &key, &[]).assert_ok();
    let run = rotate(&env, &["--profile", "a", "--yes"], None);
    run.assert_fails(1, "shares its key with b");
    assert_eq!(moto.key_ids(&key.user), vec![key.id.clone()]);
    assert_eq!(caller_arn(&env, Client::AwsCli, "b").stdout.trim(), key.arn);
}

/// An inactive key another awskeep profile holds is that profile's key: rotation never deletes it
/// to make room.
#[test]
fn an_inactive_key_another_profile_holds_is_never_deleted_for_room() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let a = moto.new_admin_with_key("rot-room");
    let b = moto.new_key(&a.user, &a.arn);
    env.add("a", &a, &[]).assert_ok();
    env.add("b", &b, &[]).assert_ok();
    moto.deactivate(&b);
    let run = rotate(&env, &["--profile", "a", "--yes"], None);
    assert!(!run.status.success(), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "IAM user {} already has two access keys, the most AWS allows: a's and {}, inactive, which awskeep profile b holds;",
            a.user,
            masked(&b.id)
        )),
        "{run:?}"
    );
    assert!(moto.key_ids(&a.user).contains(&b.id), "b's key was deleted");
}

/// THE proof issue 19 item 5 asks for: a boto3 process started before `rotate` calls STS every
/// second across the rotation and never fails; it moves from the old key to the new one without a
/// restart (the lease's Expiration makes botocore run awskeep again); and the old key is deleted in
/// IAM within the lease and its slack after the switch, with nobody running awskeep by hand.
#[test]
fn a_running_boto3_process_moves_to_the_new_key_and_the_old_one_goes_within_the_bound() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-lease");
    env.add("dev", &user, &[]).assert_ok();
    let stop = env.path("stop");
    let script = r#"
import os, sys, time
import boto3, botocore.credentials
# awskeep leases a long-term key for an hour, and botocore runs it again 15 minutes (advisory) or
# 10 minutes (mandatory) before the Expiration. This test leases for 20 s through the debug-build
# override, so botocore's windows are scaled down as well: with its defaults every call would
# run awskeep, and what carried the rotation would be that, not the lease.
botocore.credentials.RefreshableCredentials._advisory_refresh_timeout = 5
botocore.credentials.RefreshableCredentials._mandatory_refresh_timeout = 3
sts = boto3.Session(profile_name="dev").client("sts")
used = {}
def note_key(request, **kwargs):
    auth = request.headers.get("Authorization", b"")
    auth = auth.decode() if isinstance(auth, bytes) else auth
    used["id"] = auth.split("Credential=")[1].split("/")[0]
sts.meta.events.register("before-send.sts.GetCallerIdentity", note_key)
deadline = time.time() + 180
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    try:
        sts.get_caller_identity()
        print("OK", used["id"], flush=True)
    except Exception as e:
        print("FAIL", type(e).__name__, str(e).replace("\n", " "), flush=True)
    time.sleep(1)
"#;
    let mut python = env.command(venv_bin("python"));
    python
        .args(["-c", script])
        .arg(&stop)
        .env("AWSKEEP_DEBUG_KEY_LEASE_SECS", SHORT_LEASE.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = python.spawn().expect("python");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send((Instant::now(), line));
        }
    });
    // It runs with the old key before the rotation.
    let (_, first) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("boto3 started");
    assert_eq!(first, format!("OK {}", user.id));
    std::thread::sleep(Duration::from_secs(3));

    let started = Instant::now();
    let run = rotate_leased(
        &env,
        &["--profile", "dev", "--yes"],
        None,
        Some(SHORT_LEASE),
    );
    let returned = Instant::now();
    run.assert_ok();
    let (new_id, _) = current(&env, "dev");
    assert_ne!(new_id, user.id);
    // Right after rotate returns the old key is still in IAM and works: boto3 may still hold it.
    assert!(moto.key_ids(&user.user).contains(&user.id));
    assert!(key_works(&env, &user.id, &user.secret), "{run:?}");

    // Nobody runs awskeep now: the background finisher deletes the old key when the lease is over.
    let gone_after = wait_until_gone(
        &moto,
        &user,
        started,
        SHORT_GRACE + RETIRE_LATENESS + Duration::from_secs(30),
    );
    assert!(
        gone_after >= SHORT_GRACE,
        "deleted {gone_after:?} after the rotation began, before the lease and slack ({SHORT_GRACE:?}) were over"
    );
    assert!(
        gone_after <= (returned - started) + SHORT_GRACE + RETIRE_LATENESS,
        "deleted {gone_after:?} after the rotation began: later than the documented bound"
    );
    // boto3 goes on past the deletion, then stops.
    std::thread::sleep(Duration::from_secs(5));
    std::fs::write(&stop, b"").unwrap();
    let status = child.wait().expect("python");
    reader.join().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    let seen: Vec<(Instant, String)> = std::iter::once((started, first))
        .chain(rx.try_iter())
        .collect();
    let failed: Vec<&String> = seen
        .iter()
        .map(|(_, l)| l)
        .filter(|l| !l.starts_with("OK "))
        .collect();
    assert!(
        failed.is_empty(),
        "boto3 failed across the rotation: {failed:?}\n{stderr}"
    );
    let keys: Vec<&str> = seen.iter().map(|(_, l)| &l[3..]).collect();
    let switched_at = keys
        .iter()
        .position(|k| *k == new_id)
        .unwrap_or_else(|| panic!("boto3 never used the new key: {keys:?}"));
    assert!(
        keys[..switched_at].iter().all(|k| *k == user.id)
            && keys[switched_at..].iter().all(|k| *k == new_id),
        "old key, then the new one, never back: {keys:?}"
    );
    let after_deletion = seen
        .iter()
        .filter(|(at, _)| at.duration_since(started) > gone_after)
        .count();
    assert!(
        after_deletion >= 3,
        "boto3 kept calling after the deletion: {keys:?}"
    );
    assert_finishers_exit(&env, Duration::from_secs(10), "after the retirement");
}

/// The detached finisher alone: rotate, then nothing at all (no client, no awskeep command); the old
/// key is deleted within the lease, its slack and a few seconds, not before, and the finisher exits.
#[test]
fn the_old_key_goes_with_nobody_running_anything() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-bg");
    env.add("dev", &user, &[]).assert_ok();
    let started = Instant::now();
    let run = rotate_leased(
        &env,
        &["--profile", "dev", "--yes"],
        None,
        Some(SHORT_LEASE),
    );
    let returned = Instant::now();
    run.assert_ok();
    assert!(
        moto.key_ids(&user.user).contains(&user.id),
        "deleted at once: {run:?}"
    );
    assert_eq!(finishers_of(&env).len(), 1, "one finisher waits: {run:?}");
    let gone_after = wait_until_gone(
        &moto,
        &user,
        started,
        SHORT_GRACE + RETIRE_LATENESS + Duration::from_secs(30),
    );
    assert!(gone_after >= SHORT_GRACE, "too early: {gone_after:?}");
    assert!(
        gone_after <= (returned - started) + SHORT_GRACE + RETIRE_LATENESS,
        "too late: {gone_after:?}"
    );
    assert_finishers_exit(&env, Duration::from_secs(10), "after the retirement");
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    assert_eq!(listed[0]["rotation"], serde_json::Value::Null, "{listed}");
    assert_one_working_key(&env, &moto, &user, "after the deferred retirement");
}

/// A finisher waiting for a deferral (an hour, by default) exits when its login is gone (here the
/// runtime folder holding awskeep's locks, as logout removes `XDG_RUNTIME_DIR`): no test, and no
/// ended login, leaves one behind.
#[test]
fn a_waiting_finisher_exits_when_its_login_is_gone() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-logout");
    env.add("dev", &user, &[]).assert_ok();
    rotate(&env, &["--profile", "dev", "--yes"], None).assert_ok();
    assert_eq!(finishers_of(&env).len(), 1);
    std::fs::remove_dir_all(env.path("run/awskeep")).unwrap();
    // It checks every `WAKE_EVERY` (5 s); the rest is slack for a loaded machine (a debug build's
    // start under two other test binaries took more than 5 s).
    assert_finishers_exit(&env, Duration::from_secs(30), "after the lock folder went");
    assert!(moto.key_ids(&user.user).contains(&user.id), "deleted early");
}

/// A finisher that starts only after its login ended (its lock folder already gone, as a loaded
/// machine may start it late) exits at once, and does not make the folder again to wait in it.
#[test]
fn a_finisher_started_after_its_login_ended_exits_at_once() {
    let env = TestEnv::new();
    let lock_dir = env.path("run/awskeep");
    let _ = std::fs::remove_dir_all(&lock_dir);
    let in_an_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let mut command = env.awskeep();
    command
        .args(["rotate", "--profile", "dev", "--finish-retirement-after"])
        .arg(in_an_hour.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let run = wait_for(command.spawn().unwrap(), Duration::from_secs(30));
    assert!(run.status.success(), "{run:?}");
    assert!(
        !lock_dir.exists(),
        "the finisher made its lock folder again"
    );
}

/// The finisher keeps none of the descriptors its caller had beyond stdin, stdout and stderr: a
/// pipe handed to `rotate` on fd 5 (or fd 12) reaches its end when rotate exits, not an hour later
/// when the finisher does.
#[test]
fn the_finisher_holds_none_of_the_callers_other_descriptors() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-fds");
    env.add("dev", &user, &[]).assert_ok();
    let mut command = env.command("bash");
    command
        .arg("-c")
        .arg(format!(
            "'{}' rotate --profile dev --yes 5>&1 12>&1 >/dev/null 2>&1 | cat; echo pipeline-done",
            env!("CARGO_BIN_EXE_awskeep")
        ))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let run = wait_for(command.spawn().unwrap(), Duration::from_secs(60));
    assert!(run.stdout.contains("pipeline-done"), "{run:?}");
    let finishers = finishers_of(&env);
    assert_eq!(finishers.len(), 1, "one finisher waits: {run:?}");
    for pid in finishers {
        let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        for inherited in ["5", "12"] {
            assert!(
                !fds.iter().any(|fd| fd == inherited),
                "finisher {pid} holds fd {inherited}: {fds:?}"
            );
        }
    }
}

/// A rotation interrupted after its switch: the next `rotate` does not retire the old key before
/// its time (it says when, and does not need --now to be safe), and retires it once due; `--now`
/// would do it at once (tested above). No finisher acts meanwhile: the test holds the lock a
/// finisher needs, as a waiting finisher would.
#[test]
fn an_interrupted_deferral_is_finished_by_the_next_rotate_when_due_and_not_before() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-defer-crash");
    env.add("dev", &user, &[]).assert_ok();
    let lease = Some(4);
    let crashed = rotate_leased(
        &env,
        &["--profile", "dev", "--yes"],
        Some("rotate:after-switch"),
        lease,
    );
    assert!(
        crashed.status.code().is_none(),
        "should have died: {crashed:?}"
    );
    let held = hold_finisher_lock(&env, "dev");

    let early = rotate_leased(&env, &["--profile", "dev", "--yes"], None, lease);
    early.assert_ok();
    assert!(
        early.stderr.contains("The rotation of dev is finishing")
            && early.stderr.contains("stays in IAM until"),
        "{early:?}"
    );
    assert!(
        moto.key_ids(&user.user).contains(&user.id),
        "retired before its time: {early:?}"
    );

    // Until the time the switch recorded (4 s of lease and 1 s of slack after it, rounded up to a
    // whole second), and a second.
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    let after =
        humantime::parse_rfc3339(listed[0]["old_key_retired_after"].as_str().unwrap()).unwrap();
    let wait = after
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(wait <= Duration::from_secs(6), "{listed}");
    std::thread::sleep(wait + Duration::from_secs(1));
    assert!(
        moto.key_ids(&user.user).contains(&user.id),
        "something but the next rotate retired it"
    );
    let due = rotate_leased(&env, &["--profile", "dev", "--yes"], None, lease);
    due.assert_ok();
    assert!(
        due.stderr
            .contains("Finished the interrupted rotation of dev")
            && due.stderr.contains(&format!(
                "Deleted the old key {} of dev in IAM.",
                masked(&user.id)
            )),
        "{due:?}"
    );
    drop(held);
    assert_one_working_key(&env, &moto, &user, "after the due retirement");
}

/// A retirement whose finisher never ran (the rotation died after its switch) and that is due: the
/// next `credential-process` for the profile (an SDK's, the hot path) starts the finisher, and the
/// old key goes with no other command.
#[test]
fn a_due_retirement_is_started_by_the_next_credential_process() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let user = moto.new_admin_with_key("rot-nudge");
    env.add("dev", &user, &[]).assert_ok();
    let crashed = rotate_leased(
        &env,
        &["--profile", "dev", "--yes"],
        Some("rotate:after-switch"),
        Some(4),
    );
    assert!(
        crashed.status.code().is_none(),
        "should have died: {crashed:?}"
    );
    assert!(
        finishers_of(&env).is_empty(),
        "the crash came before any finisher"
    );
    // Every call reads the store (a credential cache hit opens no store, so it cannot see the
    // retirement; the first miss after its time does).
    env.append_config("awskeep_cache = off\n");
    // Not due yet: credential-process serves the new key and starts nothing.
    let (new_id, _) = current(&env, "dev");
    assert_ne!(new_id, user.id);
    assert!(
        finishers_of(&env).is_empty(),
        "started before the retirement was due"
    );
    std::thread::sleep(Duration::from_secs(7));
    assert!(moto.key_ids(&user.user).contains(&user.id));
    let since = Instant::now();
    assert_eq!(current(&env, "dev").0, new_id);
    wait_until_gone(
        &moto,
        &user,
        since,
        RETIRE_LATENESS + Duration::from_secs(15),
    );
    assert_finishers_exit(&env, Duration::from_secs(10), "after the retirement");
    assert_one_working_key(&env, &moto, &user, "after the hot path's finisher");
}
