//! `awskeep list` and `awskeep remove`.

mod common;

use common::{Moto, TestEnv};

#[test]
fn list_shows_masked_keys_and_accounts_and_json_is_on_stdout() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("listed");
    env.add("dev", &key, &[]).assert_ok();
    env.run(
        &["add", "offline", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();

    let run = env.run(&["list"], "");
    run.assert_ok();
    assert!(run.stdout.is_empty(), "the table is for a person: stderr");
    let masked = format!("{}…{}", &key.id[..4], &key.id[key.id.len() - 4..]);
    assert!(
        run.stderr.contains(&masked) && run.stderr.contains("123456789012"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(&key.id),
        "full key ID shown: {}",
        run.stderr
    );

    let run = env.run(&["list", "--json"], "");
    run.assert_ok();
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let dev = rows.iter().find(|r| r["profile"] == "dev").unwrap();
    assert_eq!(dev["access_key_id"], masked.as_str());
    assert_eq!(dev["account_id"], "123456789012");
    assert_eq!(dev["arn"], key.arn.as_str());
    assert_eq!(dev["status"], "ok");
    assert!(humantime::parse_rfc3339(dev["added_at"].as_str().unwrap()).is_ok());
    let offline = rows.iter().find(|r| r["profile"] == "offline").unwrap();
    assert!(
        offline["account_id"].is_null(),
        "an unverified key has no account"
    );
}

#[test]
fn list_shows_a_configured_profile_whose_item_is_gone() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();
    env.secret_tool_clear("dev");
    let run = env.run(&["list", "--json"], "");
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rows[0]["profile"], "dev");
    assert_eq!(rows[0]["status"], "no key in store");
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
