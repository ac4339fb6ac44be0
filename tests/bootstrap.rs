//! `awskeep bootstrap` against moto with auth enforcement: the key is created in IAM and lands in the
//! keychain without ever being shown; quota, failures and refusals create nothing and orphan nothing.

use crate::common;

use common::clients::{Client, caller_arn};
use common::{Moto, Run, TestEnv, TestKey, run_with_stdin};

/// Runs bootstrap with the source identity in the environment (the SDK's default chain).
fn bootstrap_as(env: &TestEnv, source: &TestKey, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let mut command = env.awskeep();
    command
        .arg("bootstrap")
        .args(args)
        .env("AWS_ACCESS_KEY_ID", &source.id)
        .env("AWS_SECRET_ACCESS_KEY", &source.secret)
        .envs(extra_env.iter().copied());
    run_with_stdin(command, "")
}

/// The secret the store holds for `profile`, read the one way it is meant to leave: credential-process.
fn stored_secret(env: &TestEnv, profile: &str) -> (String, String) {
    let run = env.run(&["credential-process", "--profile", profile], "");
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    (
        json["AccessKeyId"].as_str().unwrap().into(),
        json["SecretAccessKey"].as_str().unwrap().into(),
    )
}

fn assert_secret_nowhere(env: &TestEnv, secret: &str, runs: &[&Run]) {
    for run in runs {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret printed: {run:?}"
        );
    }
    assert_eq!(
        env.files_containing(secret),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn bootstrap_for_self_through_an_awskeep_source_profile() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-self");
    env.add("admin", &admin, &[]).assert_ok();

    let run = env.run(
        &[
            "bootstrap",
            "--profile",
            "dev",
            "--source-profile",
            "admin",
            "--yes",
        ],
        "",
    );
    run.assert_ok();
    assert!(
        run.stderr.contains(&format!("Acting as {}", admin.arn)),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let ids = moto.key_ids(&admin.user);
    assert_eq!(ids.len(), 2, "the user now has its old key and the new one");
    let (new_id, new_secret) = stored_secret(&env, "dev");
    assert!(ids.contains(&new_id) && new_id != admin.id);
    for client in [Client::AwsCli, Client::Boto3] {
        assert_eq!(
            caller_arn(&env, client, "dev").stdout.trim(),
            admin.arn,
            "{client:?}"
        );
    }
    assert_secret_nowhere(&env, &new_secret, &[&run]);
}

#[test]
fn bootstrap_for_another_user_and_the_clients_use_it() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-admin");
    let (user, arn) = moto.new_user("bs-target");
    let run = bootstrap_as(
        &env,
        &admin,
        &["--profile", "dev", "--user", &user, "--yes", "--verbose"],
        &[],
    );
    run.assert_ok();
    assert_eq!(moto.key_ids(&user).len(), 1);
    for client in [Client::AwsCli, Client::Boto3] {
        assert_eq!(
            caller_arn(&env, client, "dev").stdout.trim(),
            arn,
            "{client:?}"
        );
    }
    let (_, secret) = stored_secret(&env, "dev");
    assert_secret_nowhere(&env, &secret, &[&run]);
    let listed = env.run(&["list", "--json"], "");
    assert!(listed.stdout.contains(&arn), "{}", listed.stdout);
    // The key's age comes from CreateAccessKey's date.
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows[0]["age_from"], "iam", "{rows}");
    assert!(rows[0]["iam_created_at"].is_string(), "{rows}");
}

#[test]
fn create_user_with_a_group_and_refuse_an_existing_user() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-create");
    let group = moto.create_group("devs");
    let user = moto.unique_name("newguy");
    bootstrap_as(
        &env,
        &admin,
        &[
            "--profile",
            "dev",
            "--user",
            &user,
            "--create-user",
            "--group",
            &group,
            "--yes",
        ],
        &[],
    )
    .assert_ok();
    assert_eq!(moto.groups_of(&user), vec![group.clone()]);
    assert!(
        caller_arn(&env, Client::AwsCli, "dev")
            .stdout
            .trim()
            .ends_with(&format!(":user/{user}"))
    );

    let run = bootstrap_as(
        &env,
        &admin,
        &[
            "--profile",
            "other",
            "--user",
            &user,
            "--create-user",
            "--yes",
        ],
        &[],
    );
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("already exists") && run.stderr.contains("drop --create-user"),
        "{}",
        run.stderr
    );
    assert_eq!(moto.key_ids(&user).len(), 1, "no key was created");
    assert_eq!(env.secret_tool_lookup("other"), None);
}

#[test]
fn two_active_keys_stop_before_anything_is_created() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-quota");
    let first = moto.new_user_with_key("bs-full");
    let second = moto.new_key(&first.user, &first.arn);
    let run = bootstrap_as(
        &env,
        &admin,
        &[
            "--profile",
            "dev",
            "--user",
            &first.user,
            "--yes",
            "--replace-inactive",
        ],
        &[],
    );
    assert!(!run.status.success());
    let masked = format!("{}…{}", &second.id[..4], &second.id[second.id.len() - 4..]);
    assert!(
        run.stderr.contains("already has two access keys") && run.stderr.contains(&masked),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("active"), "{}", run.stderr);
    // The hint's delete line is built where every other one is: the key, then its user. Both keys
    // are active, so --replace-inactive (given, at that) is not offered.
    assert!(
        run.stderr.ends_with(&format!(
            " Hint: delete a key you no longer use (`aws iam delete-access-key --access-key-id ID --user-name {}`), then run the command again.\n",
            first.user
        )),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(&second.id),
        "key IDs are masked: {}",
        run.stderr
    );
    let mut ids = moto.key_ids(&first.user);
    ids.sort();
    let mut expected = vec![first.id.clone(), second.id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "no key created, none deleted");
    assert!(!env.config_path().exists());
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

#[test]
fn replace_inactive_deletes_the_inactive_key_only() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-inactive");
    let active = moto.new_user_with_key("bs-two");
    let inactive = moto.new_key(&active.user, &active.arn);
    moto.deactivate(&inactive);

    let run = bootstrap_as(
        &env,
        &admin,
        &["--profile", "dev", "--user", &active.user, "--yes"],
        &[],
    );
    assert!(run.stderr.contains("--replace-inactive"), "{}", run.stderr);
    assert_eq!(moto.key_ids(&active.user).len(), 2);

    bootstrap_as(
        &env,
        &admin,
        &[
            "--profile",
            "dev",
            "--user",
            &active.user,
            "--yes",
            "--replace-inactive",
        ],
        &[],
    )
    .assert_ok();
    let ids = moto.key_ids(&active.user);
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&active.id), "the active key is kept");
    assert!(!ids.contains(&inactive.id), "the inactive key is gone");
    assert_eq!(
        caller_arn(&env, Client::Boto3, "dev").stdout.trim(),
        active.arn
    );
}

#[test]
fn a_failing_store_write_deletes_the_new_key_in_iam() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-fault");
    let (user, _) = moto.new_user("bs-orphan");
    let run = bootstrap_as(
        &env,
        &admin,
        &["--profile", "dev", "--user", &user, "--yes"],
        &[("AWSKEEP_TEST_FAIL_AT", "bootstrap:store-write")],
    );
    assert!(!run.status.success());
    assert!(
        run.stderr.contains("deleted in IAM again"),
        "{}",
        run.stderr
    );
    assert_eq!(
        moto.key_ids(&user),
        Vec::<String>::new(),
        "no key left that nobody holds"
    );
    assert!(!env.config_path().exists());
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

#[test]
fn dry_run_and_missing_yes_create_nothing() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-dry");
    let (user, _) = moto.new_user("bs-dry-target");
    let run = bootstrap_as(
        &env,
        &admin,
        &["--profile", "dev", "--user", &user, "--dry-run"],
        &[],
    );
    run.assert_ok();
    assert!(
        run.stderr.contains("iam:CreateAccessKey") && run.stderr.contains("dry run"),
        "{}",
        run.stderr
    );
    let run = bootstrap_as(&env, &admin, &["--profile", "dev", "--user", &user], &[]);
    assert_eq!(run.code(), 2, "{}", run.stderr);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(moto.key_ids(&user), Vec::<String>::new());
    assert!(!env.config_path().exists());
}

#[test]
fn a_source_without_iam_permissions_is_told_which_one_it_lacks() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let weak = moto.new_user_with_key("bs-weak");
    let run = bootstrap_as(&env, &weak, &["--profile", "dev", "--yes"], &[]);
    assert_eq!(run.code(), 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("may not call iam:ListAccessKeys"),
        "{}",
        run.stderr
    );
    assert_eq!(moto.key_ids(&weak.user), vec![weak.id.clone()]);
    assert!(!env.config_path().exists());
}

#[test]
fn an_unknown_source_profile_or_a_dead_network_is_one_clear_line() {
    let env = TestEnv::new();
    env.run(
        &[
            "bootstrap",
            "--profile",
            "dev",
            "--source-profile",
            "nope",
            "--yes",
        ],
        "",
    )
    .assert_fails(5, "no such profile");
    let mut command = env.awskeep();
    command
        .args(["bootstrap", "--profile", "dev", "--yes"])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let run = run_with_stdin(command, "");
    run.assert_fails(6, "cannot reach AWS STS");
    assert!(!run.stderr.contains("wJalrXUtnFEMI"));
    assert!(!env.config_path().exists());
}

/// An explicit `--source-profile` is that profile, whatever AWS_* keys the environment holds: as in
/// the AWS CLI and boto3, the named profile wins.
#[test]
fn an_explicit_source_profile_wins_over_keys_in_the_environment() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-explicit");
    env.add("admin", &admin, &[]).assert_ok();
    let bystander = moto.new_admin_with_key("bs-bystander");
    let user = moto.unique_name("bs-explicit-target");
    let run = bootstrap_as(
        &env,
        &bystander,
        &[
            "--profile",
            "dev",
            "--source-profile",
            "admin",
            "--user",
            &user,
            "--create-user",
            "--yes",
        ],
        &[],
    );
    run.assert_ok();
    assert!(
        run.stderr.contains(&format!("Acting as {}", admin.arn)),
        "{run:?}"
    );
    assert!(!run.stderr.contains(&bystander.arn), "{run:?}");
    assert_eq!(moto.key_ids(&user).len(), 1);
}

/// `--region` wins over AWS_REGION for every call of the command, the new key's check included.
#[test]
fn the_region_flag_wins_over_the_environment() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let admin = moto.new_admin_with_key("bs-region");
    env.add("admin", &admin, &[]).assert_ok();
    let user = moto.unique_name("bs-region-target");
    let run = bootstrap_as(
        &env,
        &admin,
        &[
            "-v",
            "--profile",
            "dev",
            "--user",
            &user,
            "--create-user",
            "--region",
            "us-west-2",
            "--yes",
        ],
        &[
            ("AWS_REGION", "eu-central-1"),
            ("AWS_DEFAULT_REGION", "eu-central-1"),
        ],
    );
    run.assert_ok();
    assert!(run.stderr.contains("AWS region us-west-2"), "{run:?}");
    assert!(!run.stderr.contains("eu-central-1"), "{run:?}");
}
