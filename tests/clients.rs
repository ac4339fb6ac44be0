//! The four AWS clients a user runs (AWS CLI, boto3, JS SDK v3, Rust SDK) get the key awskeep holds
//! through credential_process exactly as on a user's machine, and fail with awskeep's own message
//! once the key is gone.

mod common;

use common::clients::{Client, caller_arn};
use common::{Moto, TestEnv, run_with_stdin};

fn client_gets_stored_key_then_fails_with_awskeeps_message(client: Client) {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key(&format!("{client:?}").to_lowercase());
    env.add("dev", &key, &[]).assert_ok();

    let run = caller_arn(&env, client, "dev");
    assert!(run.status.success(), "{client:?} failed: {}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        key.arn,
        "{client:?} acted as someone else"
    );

    // The item deleted behind awskeep's back (Seahorse, another machine's sync): once the credential
    // cache no longer answers (its bound passed; here `awskeep lock` drops it, see tests/cred_cache.rs)
    // the client fails and what it shows is awskeep's line.
    env.secret_tool_clear("dev");
    env.run(&["lock"], "").assert_ok();
    let run = caller_arn(&env, client, "dev");
    assert!(!run.status.success(), "{client:?} still got credentials");
    assert!(
        run.stderr
            .contains("awskeep: no key is stored for profile \"dev\"")
            && run.stderr.contains("awskeep add dev"),
        "{client:?} did not show awskeep's message: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(&key.secret));
}

fn client_fails_after_awskeep_remove(client: Client) {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("removed");
    env.add("dev", &key, &[]).assert_ok();
    env.run(&["remove", "dev", "--yes"], "").assert_ok();
    let run = caller_arn(&env, client, "dev");
    assert!(
        !run.status.success(),
        "{client:?} still got credentials after remove: {}",
        run.stdout
    );
    assert!(!run.stdout.contains(&key.arn));
}

#[test]
fn aws_cli_gets_the_stored_key() {
    client_gets_stored_key_then_fails_with_awskeeps_message(Client::AwsCli);
}

#[test]
fn boto3_gets_the_stored_key() {
    client_gets_stored_key_then_fails_with_awskeeps_message(Client::Boto3);
}

#[test]
fn js_sdk_gets_the_stored_key() {
    client_gets_stored_key_then_fails_with_awskeeps_message(Client::JsSdk);
}

#[test]
fn rust_sdk_gets_the_stored_key() {
    client_gets_stored_key_then_fails_with_awskeeps_message(Client::RustSdk);
}

#[test]
fn every_client_fails_after_remove() {
    for client in [
        Client::AwsCli,
        Client::Boto3,
        Client::JsSdk,
        Client::RustSdk,
    ] {
        client_fails_after_awskeep_remove(client);
    }
}

#[test]
fn clients_reach_the_default_profile_and_a_second_profile_independently() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let first = moto.new_user_with_key("first");
    let second = moto.new_user_with_key("second");
    env.add("default", &first, &[]).assert_ok();
    env.add("other", &second, &[]).assert_ok();
    assert_eq!(
        caller_arn(&env, Client::AwsCli, "default").stdout.trim(),
        first.arn
    );
    assert_eq!(
        caller_arn(&env, Client::Boto3, "other").stdout.trim(),
        second.arn
    );
    assert!(
        env.read_config().starts_with("[default]\n"),
        "{}",
        env.read_config()
    );
}

/// The program path is quoted for every way the clients run the line (botocore's shlex, `sh -c` in
/// the JS, Rust and Go SDKs): a space, or a shell operator such as `&` (unquoted, `sh -c` would run
/// `q/awskeep` from the current folder), in the folder name changes nothing.
fn awskeep_installed_under(folder_name: &str) {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let folder = env.path(folder_name);
    std::fs::create_dir_all(&folder).unwrap();
    let installed = folder.join("awskeep");
    std::fs::copy(env!("CARGO_BIN_EXE_awskeep"), &installed).unwrap();
    let key = moto.new_user_with_key("spaces");
    let mut add = env.command(&installed);
    add.args(["add", "dev"]);
    run_with_stdin(add, &format!("{}\n{}\n", key.id, key.secret)).assert_ok();
    assert!(
        env.read_config().contains(&format!(
            "credential_process = \"{}\" credential-process --profile dev",
            installed.display()
        )),
        "{}",
        env.read_config()
    );
    // A decoy where an unquoted `a&q/awskeep` would lead `sh -c` (the clients run in the temp root).
    let decoy = env.path("q");
    std::fs::create_dir_all(&decoy).unwrap();
    std::fs::write(
        decoy.join("awskeep"),
        "#!/bin/sh\necho decoy ran >&2\nexit 9\n",
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(decoy.join("awskeep"))
            .unwrap()
            .permissions(),
        0o755,
    );
    for client in [
        Client::AwsCli,
        Client::Boto3,
        Client::JsSdk,
        Client::RustSdk,
    ] {
        let run = caller_arn(&env, client, "dev");
        assert_eq!(run.stdout.trim(), key.arn, "{client:?}: {}", run.stderr);
    }
}

#[test]
fn awskeep_installed_under_a_path_with_spaces_works_in_every_client() {
    awskeep_installed_under("My Tools");
}

#[test]
fn awskeep_installed_under_a_path_with_shell_operators_works_in_every_client() {
    awskeep_installed_under("a&q");
}
