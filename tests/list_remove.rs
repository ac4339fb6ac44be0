//! `awskeep list` and `awskeep remove`: the table on stdout (`awskeep list | grep dev`), full key
//! IDs in `--json`, key ages from IAM (marked when IAM's date is unknown), one key under several
//! profiles; what `remove` says about the key in IAM, or does with it.

use crate::common;

use common::{Moto, TestEnv};

const UNKNOWN_AGE_NOTE: &str = "* IAM's creation date of this key is unknown (added with --no-verify, without iam:ListAccessKeys, or by an older awskeep): its age counts from when awskeep stored it.\n";

fn masked(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

fn listed(env: &TestEnv) -> Vec<serde_json::Value> {
    let run = env.expect(["list", "--json"]).stderr("").run();
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    rows.as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], profile: &str) -> &'a serde_json::Value {
    rows.iter().find(|r| r["profile"] == profile).unwrap()
}

/// The table is the command's product: stdout, so `awskeep list | grep dev` finds dev. The age of a
/// verified key is IAM's; an unverified key's age is marked, and the mark explained on stderr.
#[test]
fn list_prints_the_table_on_stdout_with_iams_dates_and_json_has_full_ids() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_allowed("listed", &["iam:ListAccessKeys"]);
    env.add("dev", &key, &[]).assert_ok();
    env.expect(["add", "offline", "--no-verify"])
        .stdin("AKIAIOSFODNN7EXAMPLE\nsecretsecret\n")
        .run();

    let rows = listed(&env);
    assert_eq!(rows.len(), 2);
    let dev = row(&rows, "dev");
    assert_eq!(dev["access_key_id"], key.id.as_str(), "the full ID");
    assert_eq!(dev["account_id"], "123456789012");
    assert_eq!(dev["arn"], key.arn.as_str());
    assert_eq!(dev["status"], "ok");
    assert_eq!(dev["age_from"], "iam");
    assert_eq!(dev["age_days"], 0);
    assert_eq!(dev["shared_with"], serde_json::json!([]));
    let created = dev["iam_created_at"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(created).is_ok(), "{created}");
    assert!(humantime::parse_rfc3339(dev["added_at"].as_str().unwrap()).is_ok());
    let offline = row(&rows, "offline");
    assert_eq!(offline["access_key_id"], "AKIAIOSFODNN7EXAMPLE");
    assert!(
        offline["account_id"].is_null(),
        "an unverified key has no account"
    );
    assert!(offline["iam_created_at"].is_null());
    assert_eq!(offline["age_from"], "awskeep");

    env.expect(["list"])
        .stdout(&format!(
            "PROFILE  KEY        ACCOUNT       CREATED     AGE  STATUS\n\
             dev      {}  123456789012  {}  0d   ok\n\
             offline  AKIA…MPLE  -             -           0d*  ok\n",
            masked(&key.id),
            &created[..10]
        ))
        .stderr(UNKNOWN_AGE_NOTE)
        .run();
    // A bare number is days: 0 days makes every key too old.
    env.expect(["list", "--max-age", "0"])
        .stdout_contains("too old: rotate")
        .stderr_contains("Keys older than 0s: dev, offline.")
        .run();
    env.expect(["list", "--max-age", "90"])
        .stdout_contains("0d   ok")
        .run();
}

/// A key that may not list its user's keys is still added; awskeep says once that IAM's date is
/// unknown, and list marks its age.
#[test]
fn a_key_without_list_access_keys_is_added_and_its_age_is_marked() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("nolist");
    let run = env
        .expect(["add", "dev"])
        .stdin(&format!("{}\n{}\n", key.id, key.secret))
        .stderr_contains("awskeep: IAM did not say when the key of dev was created (")
        .stderr_contains("iam:ListAccessKeys")
        .run();
    assert_eq!(
        run.stderr.matches("IAM did not say").count(),
        1,
        "said once: {}",
        run.stderr
    );
    assert_eq!(row(&listed(&env), "dev")["age_from"], "awskeep");
    env.expect(["list"])
        .stdout_contains("0d*")
        .stderr(UNKNOWN_AGE_NOTE)
        .run();
}

/// One key under two profiles: rotating or deleting it for one would break the other; list warns.
#[test]
fn list_warns_when_one_key_is_stored_under_several_profiles() {
    let env = TestEnv::new();
    for profile in ["a", "b", "c"] {
        let id = if profile == "c" {
            "AKIAI44QH8DHBEXAMPLE"
        } else {
            "AKIAIOSFODNN7EXAMPLE"
        };
        env.expect(["add", profile, "--no-verify"])
            .stdin(&format!("{id}\nsecretsecret\n"))
            .run();
    }
    env.expect(["list"])
        .stderr(&format!(
            "{UNKNOWN_AGE_NOTE}awskeep: key AKIA…MPLE is stored under profiles a, b: rotating or deleting it for one breaks the others (`awskeep rotate` refuses it). Keep one with `awskeep remove NAME`, or give each profile its own key.\n"
        ))
        .run();
    let rows = listed(&env);
    assert_eq!(row(&rows, "a")["shared_with"], serde_json::json!(["b"]));
    assert_eq!(row(&rows, "b")["shared_with"], serde_json::json!(["a"]));
    assert_eq!(row(&rows, "c")["shared_with"], serde_json::json!([]));
}

/// Without a terminal and without a key flag, remove neither asks nor fails: it says the key still
/// works in IAM and gives the exact command that deletes it.
#[test]
fn remove_says_the_key_still_works_and_how_to_delete_it() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_admin_with_key("rm-note");
    env.add("dev", &key, &[]).assert_ok();
    env.expect(["remove", "dev", "--yes"])
        .stdout("")
        .stderr(&format!(
            "Removed profile dev.\nKey {} is still active in IAM: awskeep only forgot it. To delete it: aws iam delete-access-key --access-key-id {} --user-name {}\n",
            masked(&key.id),
            key.id,
            key.user
        ))
        .run();
    assert_eq!(moto.key_ids(&key.user), vec![key.id.clone()]);
}

#[test]
fn remove_delete_key_deletes_it_in_iam_and_deactivate_key_deactivates_it() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_admin_with_key("rm-delete");
    env.add("dev", &key, &[]).assert_ok();
    env.expect(["remove", "dev", "--yes", "--delete-key"])
        .stderr(&format!(
            "Removed profile dev.\nDeleted key {} of IAM user {}.\n",
            masked(&key.id),
            key.user
        ))
        .run();
    assert_eq!(moto.key_ids(&key.user), Vec::<String>::new());
    assert_eq!(env.secret_tool_lookup("dev"), None);

    let key = moto.new_admin_with_key("rm-deactivate");
    env.add("dev", &key, &[]).assert_ok();
    env.expect(["remove", "dev", "--yes", "--deactivate-key"])
        .stderr(&format!(
            "Removed profile dev.\nDeactivated key {} of IAM user {}.\n",
            masked(&key.id),
            key.user
        ))
        .run();
    assert_eq!(
        moto.key_statuses(&key.user),
        vec![(key.id.clone(), "Inactive".to_string())]
    );
}

/// A key another profile holds is never deleted in IAM with the profile removed: `--delete-key`
/// asking for it is refused before anything changes (not silently ignored), and says what works;
/// without the flag the profile goes and the key stays, naming the profile that holds it. Once
/// that profile is the last holder, `--delete-key` deletes it.
#[test]
fn remove_delete_key_refuses_a_key_another_profile_holds() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_admin_with_key("rm-shared");
    env.add("a", &key, &[]).assert_ok();
    env.add("b", &key, &[]).assert_ok();
    let config = env.read_config();
    env.expect(["remove", "a", "--yes", "--delete-key"])
        .status(1)
        .stderr(&format!(
            "awskeep: key {} of profile a is also held by b: it would stop working for them if deleted in IAM, so nothing was changed. Hint: pass --keep-key to remove a alone (the key keeps working for b); to end the key, remove b first, then `awskeep remove a --delete-key`.\n",
            masked(&key.id)
        ))
        .run();
    env.expect(["remove", "a", "--yes", "--deactivate-key"])
        .status(1)
        .stderr_contains("if deactivated in IAM, so nothing was changed")
        .stderr_contains("then `awskeep remove a --deactivate-key`.")
        .run();
    assert_eq!(env.read_config(), config, "nothing was changed");
    assert!(env.secret_tool_lookup("a").is_some());
    assert_eq!(
        moto.key_statuses(&key.user),
        vec![(key.id.clone(), "Active".to_string())]
    );

    env.expect(["remove", "a", "--yes"])
        .stderr(&format!(
            "Removed profile a.\nKey {} stays in IAM: profile b still holds it.\n",
            masked(&key.id)
        ))
        .run();
    env.expect(["remove", "b", "--yes", "--delete-key"])
        .stderr(&format!(
            "Removed profile b.\nDeleted key {} of IAM user {}.\n",
            masked(&key.id),
            key.user
        ))
        .run();
    assert_eq!(moto.key_ids(&key.user), Vec::<String>::new());
}

/// Runs awskeep on a terminal (tests/support/pty_run.py), answering each prompt as it appears.
fn at_terminal(env: &TestEnv, dialogue: &[&str], args: &[&str]) -> common::Run {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = env.command("python3");
    command
        .arg(script)
        .args(dialogue)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(args);
    common::run_with_stdin(command, "")
}

/// On a terminal, remove asks whether to delete the key in IAM only when the answer can matter: a
/// key another profile holds stays whatever is answered, so it is not asked about (the `y` typed
/// ahead would answer it, and the key would still be there). A key no one else holds is asked about.
#[test]
fn remove_on_a_terminal_asks_about_the_key_only_when_no_other_profile_holds_it() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let shared = moto.new_admin_with_key("rm-tty-shared");
    env.add("a", &shared, &[]).assert_ok();
    env.add("b", &shared, &[]).assert_ok();
    // "y", then one more "y" typed ahead for a second question, were there one.
    let run = at_terminal(&env, &["Remove profile a", "y\ry"], &["remove", "a"]);
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("Delete key"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "Key {} stays in IAM: profile b still holds it.",
            masked(&shared.id)
        )),
        "{}",
        run.stdout
    );
    assert_eq!(moto.key_ids(&shared.user), vec![shared.id.clone()]);
    assert!(env.secret_tool_lookup("a").is_none());

    let own = moto.new_admin_with_key("rm-tty-own");
    env.add("c", &own, &[]).assert_ok();
    let run = at_terminal(
        &env,
        &["Remove profile c", "y", "Delete key", "y"],
        &["remove", "c"],
    );
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "Delete key {} in IAM too? It then stops working everywhere.",
            masked(&own.id)
        )),
        "{}",
        run.stdout
    );
    assert_eq!(moto.key_ids(&own.user), Vec::<String>::new());
}

/// remove takes out what awskeep wrote into the section (the credential_process line and every
/// `awskeep_*` setting) and keeps what other tools read (region, output, mfa_serial), comments and
/// the other sections; a section left with nothing else goes.
#[test]
fn remove_takes_out_awskeeps_settings_and_keeps_the_users() {
    let env = TestEnv::new();
    env.without_region();
    let before = "# mine\n\
        [profile dev]\n\
        region = eu-west-1\n\
        output = json\n\
        awskeep_cache = 5m\n\
        awskeep_mfa_prompt = terminal\n\
        awskeep_mfa_process = echo 123456\n\
        \n\
        [profile other]\n\
        region = us-east-1\n";
    env.write_config(before);
    let serial = "arn:aws:iam::123456789012:mfa/me";
    for (profile, extra) in [
        (
            "dev",
            &[
                "--session",
                "on",
                "--session-duration",
                "8h",
                "--mfa-serial",
                serial,
            ][..],
        ),
        ("solo", &["--session", "on"][..]),
    ] {
        let mut args = vec!["add", profile, "--no-verify"];
        args.extend_from_slice(extra);
        env.expect(args)
            .stdin("AKIAIOSFODNN7EXAMPLE\nsecretsecret\n")
            .run();
    }
    let added = env.read_config();
    for setting in [
        "awskeep_session = true",
        "awskeep_session_duration = 8h",
        "[profile solo]",
    ] {
        assert!(added.contains(setting), "{added}");
    }

    env.expect(["remove", "dev", "--yes"]).run();
    assert_eq!(
        env.read_config(),
        format!(
            "# mine\n\
             [profile dev]\n\
             region = eu-west-1\n\
             output = json\n\
             mfa_serial = {serial}\n\
             \n\
             [profile other]\n\
             region = us-east-1\n\
             \n\
             [profile solo]\n\
             credential_process = {}\n\
             awskeep_session = true\n",
            added
                .lines()
                .find_map(|l| l
                    .strip_prefix("credential_process = ")
                    .filter(|v| v.ends_with("--profile solo")))
                .unwrap()
        )
    );
    // The case: awskeep_session = true was left with no credential source.
    env.expect(["remove", "solo", "--yes"]).run();
    assert_eq!(
        env.read_config(),
        format!(
            "# mine\n\
             [profile dev]\n\
             region = eu-west-1\n\
             output = json\n\
             mfa_serial = {serial}\n\
             \n\
             [profile other]\n\
             region = us-east-1\n"
        )
    );
}

/// IAM refuses the deletion: the profile is gone from awskeep, and the one error line says the key
/// still works and gives the command to delete it.
#[test]
fn remove_delete_key_refused_by_iam_says_the_key_still_works() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_allowed("rm-denied", &["iam:ListAccessKeys"]);
    env.add("dev", &key, &[]).assert_ok();
    env.expect(["remove", "dev", "--yes", "--delete-key"])
        .status(1)
        .stderr(&format!(
            "Removed profile dev.\nawskeep: profile dev is removed from awskeep, but its key {} was not deleted in IAM: {} may not call iam:DeleteAccessKey. Hint: the key still works; delete it as a user allowed to: `aws iam delete-access-key --access-key-id {} --user-name {}`.\n",
            masked(&key.id),
            key.arn,
            key.id,
            key.user
        ))
        .run();
    assert_eq!(moto.key_ids(&key.user), vec![key.id.clone()]);
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

/// Protects `list --json`'s `in_store` and `in_config`: a profile in both, one whose item is gone
/// (configured only), and one whose config line is gone (stored only) each say where they are.
#[test]
fn list_json_says_whether_each_profile_is_in_the_store_and_in_the_config() {
    let env = TestEnv::new();
    for profile in ["both", "config-only", "store-only"] {
        env.run(
            &["add", profile, "--no-verify"],
            "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
        )
        .assert_ok();
    }
    env.secret_tool_clear("config-only");
    let config = env.read_config();
    let without: String = config
        .split_inclusive('\n')
        .filter(|line| !line.contains("--profile store-only"))
        .collect();
    assert_ne!(
        without, config,
        "store-only's credential_process line was there"
    );
    env.write_config(&without);

    let rows = listed(&env);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let where_ = |profile: &str| {
        let r = row(&rows, profile);
        (
            r["in_store"].clone(),
            r["in_config"].clone(),
            r["status"].clone(),
        )
    };
    use serde_json::json;
    assert_eq!(where_("both"), (json!(true), json!(true), json!("ok")));
    assert_eq!(
        where_("config-only"),
        (json!(false), json!(true), json!("no key in store"))
    );
    assert_eq!(
        where_("store-only"),
        (json!(true), json!(false), json!("not in config"))
    );
}

#[test]
fn remove_asks_and_without_a_terminal_names_yes() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();
    let config = env.read_config();
    env.run(&["remove", "dev"], "").assert_fails(2, "--yes");
    assert_eq!(env.read_config(), config);
    assert!(env.secret_tool_lookup("dev").is_some());
}

#[test]
fn remove_deletes_the_item_and_only_awskeeps_lines() {
    let env = TestEnv::new();
    let before = "# mine\n[default]\nregion = eu-west-1\n\n[profile keep]\noutput = json\n";
    env.write_config(before);
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();
    // A profile with its own region keeps its section and the region.
    env.write_config(&format!(
        "{}[profile ops]\nregion = us-west-2\n",
        env.read_config()
    ));
    env.run(
        &["add", "ops", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();

    env.run(&["remove", "dev", "--yes"], "").assert_ok();
    env.run(&["remove", "ops", "--yes"], "").assert_ok();
    // The region add wrote (from AWS_REGION) is the profile's setting, not awskeep's: it stays.
    assert_eq!(
        env.read_config(),
        format!("{before}\n[profile dev]\nregion = us-east-1\n[profile ops]\nregion = us-west-2\n")
    );
    assert_eq!(env.secret_tool_lookup("dev"), None);
    assert_eq!(env.secret_tool_lookup("ops"), None);

    env.run(&["remove", "dev", "--yes"], "")
        .assert_fails(3, "no awskeep profile");
}

#[test]
fn remove_leaves_a_credential_process_that_is_not_awskeeps() {
    let env = TestEnv::new();
    let config = "[profile dev]\ncredential_process = aws-vault export --format=json dev\n";
    env.write_config(config);
    env.run(&["remove", "dev", "--yes"], "")
        .assert_fails(3, "no awskeep profile");
    assert_eq!(env.read_config(), config);
}

/// The store suite's `other_programs_items_are_never_listed` (src/store/tests.rs) runs over the
/// contract doubles only; this is the same property on a real Secret Service (gnome-keyring):
/// items other programs keep, under other services or a service that merely starts with
/// awskeep, are never listed, whatever the real store's search returns.
#[test]
fn other_programs_items_in_the_real_secret_service_are_never_listed() {
    let env = TestEnv::new();
    for (service, user) in [
        ("git:https://example.com", "me"),
        ("other-app", "dev"),
        ("awskeep-backup", "prod"),
    ] {
        let mut store = env.command("secret-tool");
        store.args([
            "store",
            "--label=foreign",
            "service",
            service,
            "username",
            user,
        ]);
        common::run_with_stdin(store, "not awskeep's").assert_ok();
    }
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();
    let rows = listed(&env);
    let profiles: Vec<&str> = rows.iter().filter_map(|r| r["profile"].as_str()).collect();
    assert_eq!(profiles, ["dev"]);
}
