//! The keychain not being there, being locked, or holding an item awskeep did not write: one clear
//! line, the right exit code, and nothing half-written.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::{TestEnv, wait_for};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

#[test]
fn no_session_bus_is_one_line_with_a_hint_and_writes_nothing() {
    let env = TestEnv::without_keyring();
    // The Secret Service asked for (or recorded as this machine's store) and no bus to reach it.
    env.run(
        &[
            "--store",
            "secret-service",
            "credential-process",
            "--profile",
            "dev",
        ],
        "",
    )
    .assert_fails(4, "cannot reach the Secret Service");
    let run = env.run(
        &["--store", "secret-service", "add", "dev", "--no-verify"],
        KEY,
    );
    run.assert_fails(4, "use the encrypted file store (`--store file`");
    assert!(!run.stderr.contains("wJalrXUtnFEMI"));
    assert!(
        !env.config_path().exists(),
        "no config written when the store is unreachable"
    );
    std::fs::create_dir_all(env.path("data/awskeep")).unwrap();
    std::fs::write(env.path("data/awskeep/store"), "secret-service\n").unwrap();
    env.run(&["list"], "").assert_fails(4, "Secret Service");
}

#[test]
fn no_session_bus_and_no_choice_is_the_file_store_which_needs_a_passphrase_to_start() {
    let env = TestEnv::without_keyring();
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(3, "no key is stored for profile \"dev\" in the file store");
    let run = env.run(&["add", "dev", "--no-verify"], KEY);
    run.assert_fails(4, "no terminal to choose its passphrase on");
    assert!(
        run.stderr.contains("AWSKEEP_FILE_PASSPHRASE"),
        "{}",
        run.stderr
    );
    assert!(!env.config_path().exists(), "no config written");
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
    // `unlock` names the keyring that unlocks it, and creates no file store; `lock` needs no
    // store open and says what it did for the one in use (issue 21 item 8).
    env.run(&["unlock"], "")
        .assert_fails(4, "the Secret Service is locked");
    assert!(!env.path("data/awskeep/master.age").exists());
    let locked = env.run(&["lock"], "");
    locked.assert_ok();
    assert!(
        locked
            .stderr
            .contains("awskeep keeps its keys in the Secret Service here"),
        "{}",
        locked.stderr
    );
}

/// `dev` stored, with `awskeep_cache = off`: every call goes to the Secret Service.
fn key_with_the_cache_off() -> TestEnv {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    env.append_config("awskeep_cache = off\n");
    env
}

/// `credential-process --profile dev` started as an AWS CLI would, with no desktop session (the
/// test environment is cleared anyway; said here because the behaviour depends on it).
fn spawn_without_desktop(env: &TestEnv) -> std::process::Child {
    let mut command = env.awskeep();
    command
        .args(["credential-process", "--profile", "dev"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("spawn")
}

#[test]
fn callers_of_a_locked_keyring_with_no_desktop_all_fail_at_once_and_none_waits_for_a_prompt() {
    let env = key_with_the_cache_off();
    env.lock_keyring();
    // Eight AWS CLI processes at once, as Terraform starts them. No DISPLAY: no unlock prompt can
    // show, and gnome-keyring answers every caller after the first with a prompt nobody completes.
    let children: Vec<_> = (0..8).map(|_| spawn_without_desktop(&env)).collect();
    for child in children {
        wait_for(child, Duration::from_secs(30)).assert_fails(4, "locked");
    }
    // And one more after them, as the next AWS CLI call would be.
    env.run(&["list"], "").assert_fails(4, "locked");
}

#[test]
fn a_secret_service_that_does_not_answer_fails_in_seconds_with_no_desktop() {
    let env = key_with_the_cache_off();
    let pid = env.secret_service_pid().to_string();
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    };
    // A stuck gnome-keyring-daemon: the bus takes the call, nothing answers.
    signal("-STOP");
    let run = wait_for(spawn_without_desktop(&env), Duration::from_secs(30));
    signal("-CONT");
    run.assert_fails(4, "did not answer within 2 s");
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
