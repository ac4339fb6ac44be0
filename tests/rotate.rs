//! `awskeep rotate` against moto with auth enforcement (a deleted key is rejected): the happy path, an
//! interruption after every step followed by one plain re-run, the key quota, --deactivate-only,
//! --all, and what `list` shows meanwhile.

mod common;

use common::clients::{Client, caller_arn, venv_bin};
use common::{Moto, Run, TestEnv, TestKey, run_with_stdin};

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
    let mut command = env.awskeep();
    command.arg("rotate").args(args);
    if let Some(point) = crash_at {
        command.env("AWSKEEP_TEST_CRASH_AT", point);
    }
    run_with_stdin(command, "")
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
        let run = rotate(&env, &["--profile", "dev", "--yes"], Some(point));
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

        let rerun = rotate(&env, &["--profile", "dev", "--yes"], None);
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
    rotate(&env, &["--profile", "dev", "--yes"], None).assert_ok();
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
        &["--profile", "dev", "--yes", "--deactivate-only"],
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
    rotate(&env, &["--profile", "dev", "--yes"], None).assert_ok();
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
    rotate(&env, &["--all", "--older-than", "0s", "--yes"], None).assert_ok();
    for (profile, user) in [("dev", &a), ("ops", &b)] {
        let (id, _) = current(&env, profile);
        assert_ne!(id, user.id, "{profile} rotated");
        assert_eq!(moto.key_ids(&user.user), vec![id]);
    }
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
    let run = rotate(&env, &["--profile", "a", "--yes"], None);
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
    assert!(run.stderr.contains("held by an awskeep profile"), "{run:?}");
    assert!(moto.key_ids(&a.user).contains(&b.id), "b's key was deleted");
}
