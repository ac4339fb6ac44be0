//! The keychain not being there, being locked, or holding an item awskeep did not write: one clear
//! line, the right exit code, and nothing half-written.

mod common;

use common::TestEnv;

const KEY: &str = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

#[test]
fn no_session_bus_is_one_line_with_a_hint_and_writes_nothing() {
    let env = TestEnv::without_keyring();
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "cannot reach the Secret Service");
    let run = env.run(&["add", "dev", "--no-verify"], KEY);
    run.assert_fails(4, "gnome-keyring-daemon");
    assert!(!run.stderr.contains("wJalrXUtnFEMI"));
    assert!(
        !env.config_path().exists(),
        "no config written when the store is unreachable"
    );
    env.run(&["list"], "").assert_fails(4, "Secret Service");
}

#[test]
fn a_locked_keyring_is_reported_as_locked_and_writes_nothing() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let config = env.read_config();
    env.lock_keyring();
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "locked");
    env.run(&["add", "other", "--no-verify"], KEY)
        .assert_fails(4, "locked");
    env.run(&["remove", "dev", "--yes"], "")
        .assert_fails(4, "locked");
    assert_eq!(env.read_config(), config, "nothing changed while locked");
}

#[test]
fn an_item_awskeep_did_not_write_is_reported_without_its_content() {
    let env = TestEnv::new();
    let mut store = env.command("secret-tool");
    store.args([
        "store",
        "--label=not awskeep",
        "service",
        "awskeep",
        "username",
        "dev",
    ]);
    common::run_with_stdin(store, "hunter2-not-json").assert_ok();
    let run = env.run(&["credential-process", "--profile", "dev"], "");
    run.assert_fails(1, "is not an awskeep key");
    assert!(
        run.stderr.contains("awskeep add dev --force"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"));
    // --force replaces it.
    env.run(&["add", "dev", "--no-verify", "--force"], KEY)
        .assert_ok();
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_ok();
}
