//! The AWS clients a user runs get the key awskeep holds through credential_process exactly as on a
//! user's machine, and fail once the key is gone (the AWS CLI, boto3, JS SDK v3 and Rust SDK with
//! awskeep's own message). The client matrix runs every client on this machine (those four, the Go
//! SDK v1 and v2, Ruby, the CRT, PHP's provider) with awskeep installed at a plain path and at paths
//! that need quoting, for a long-term key and for a session.

use crate::common;

use std::time::Instant;

use common::clients::{Client, caller_arn, client_command};
use common::private_moto::PrivateMoto;
use common::{Moto, Run, TestEnv, run_with_stdin};

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
    for client in Client::ALL {
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

/// A long-term key for the session column: the private moto does not check signatures, and its
/// GetSessionToken answers with a session key of its own.
const SESSION_SOURCE_KEY: &str = "AKIAAWSKEEPMATRIXKEY\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYMATRIXKEY\n";
/// The ARN moto's GetCallerIdentity names for a key it did not issue through IAM (the session key).
const SESSION_ARN: &str = "arn:aws:sts::123456789012:user/moto";

/// The client matrix: awskeep installed at `installed` (under the temp root, through `awskeep add`
/// run from there), then every client on this machine, run as a user runs it, resolves
///
/// - profile `dev`, a long-term key, against the shared moto (auth enforced, so a wrong key or
///   signature fails): it must act as the key's IAM user;
/// - profile `sess`, a session (`--session on`), against a private moto (moto rejects its own
///   session keys once auth is on): it must succeed, and the request that reached moto must be
///   signed with the session's key and carry its token.
///
/// Each client is run in both columns whatever the others did; the test fails with the whole
/// table, so one run shows every client that cannot run the line awskeep wrote.
fn matrix_with_awskeep_installed_under(folder_name: &str) {
    let started = Instant::now();
    let moto = Moto::connect();
    let private = PrivateMoto::start();
    let env = TestEnv::new();
    let folder = env.path(folder_name);
    std::fs::create_dir_all(&folder).unwrap();
    let installed = folder.join("awskeep");
    std::fs::copy(env!("CARGO_BIN_EXE_awskeep"), &installed).unwrap();

    let key = moto.new_user_with_key("matrix");
    let mut add = env.command(&installed);
    add.args(["add", "dev"]);
    run_with_stdin(add, &format!("{}\n{}\n", key.id, key.secret)).assert_ok();
    let mut add = env.command(&installed);
    add.args(["add", "sess", "--session", "on", "--no-verify"]);
    run_with_stdin(add, SESSION_SOURCE_KEY).assert_ok();

    // Go SDK v1, and v2 before late 2023, keep only the quoted part of a value that starts with `"`.
    let config = env.read_config();
    let lines: Vec<&str> = config
        .lines()
        .filter_map(|l| l.strip_prefix("credential_process = "))
        .collect();
    assert_eq!(lines.len(), 2, "{config}");
    // Checked after the clients ran, so a failure shows which clients that line breaks.
    let starts_with_a_double_quote = lines.iter().any(|line| line.starts_with('"'));
    if folder_name.chars().all(|c| c.is_ascii_alphanumeric()) {
        assert_eq!(
            lines[0],
            format!("{} credential-process --profile dev", installed.display()),
            "a path that needs no quotes is written bare"
        );
    }

    // A decoy where an unquoted `a&q/awskeep` would lead `sh -c` (the clients run in the temp root).
    let decoy = env.path("q");
    std::fs::create_dir_all(&decoy).unwrap();
    std::fs::write(
        decoy.join("awskeep"),
        "#!/bin/sh\necho decoy ran >&2\nexit 9\n",
    )
    .unwrap();
    std::fs::set_permissions(
        decoy.join("awskeep"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    // The session key awskeep serves (and caches) for `sess`: what every client must sign with.
    let mut serve = env.command(&installed);
    serve
        .args(["credential-process", "--profile", "sess"])
        .env("AWS_ENDPOINT_URL", &private.url);
    let served = run_with_stdin(serve, "");
    served.assert_ok();
    let served: serde_json::Value = serde_json::from_str(&served.stdout).unwrap();
    let session_key = served["AccessKeyId"].as_str().unwrap().to_string();
    assert!(served["SessionToken"].is_string(), "{served}");
    assert!(!SESSION_SOURCE_KEY.starts_with(&session_key));

    let mut table = Vec::new();
    let mut failed = false;
    for client in Client::ALL {
        let run = caller_arn(&env, client, "dev");
        let long_term = if run.status.success() && run.stdout.trim() == key.arn {
            "ok".to_string()
        } else {
            failed = true;
            format!("FAIL {}", outcome(&run))
        };

        let before = private.signers().len();
        let mut command = client_command(&env, client, "sess");
        command.env("AWS_ENDPOINT_URL", &private.url);
        let run = run_with_stdin(command, "");
        let calls = private.signers().split_off(before);
        let session = match calls.last() {
            _ if !run.status.success() || run.stdout.trim() != SESSION_ARN => {
                format!("FAIL {}", outcome(&run))
            }
            Some(last) if last.key_id == session_key && last.with_session_token => "ok".to_string(),
            other => {
                format!("FAIL signed with {other:?}, not the session {session_key} and its token")
            }
        };
        failed |= session != "ok";
        table.push(format!(
            "{client:?}: long-term {long_term}; session {session}"
        ));
    }
    assert!(
        !failed,
        "with awskeep at {}, written as\n  {}\nsome clients failed ({:.1} s):\n  {}",
        installed.display(),
        lines.join("\n  "),
        started.elapsed().as_secs_f64(),
        table.join("\n  ")
    );
    assert!(
        !starts_with_a_double_quote,
        "a line starting with `\"` breaks the Go SDKs' INI parser: {}",
        lines.join("\n  ")
    );
}

/// A client's exit status and its last stderr line (or stdout, if it printed the wrong ARN).
fn outcome(run: &Run) -> String {
    let last = run.stderr.trim().lines().last().unwrap_or_default();
    format!(
        "(exit {}: {})",
        run.code(),
        if last.is_empty() {
            run.stdout.trim()
        } else {
            last
        }
    )
}

#[test]
fn matrix_awskeep_at_a_plain_path() {
    matrix_with_awskeep_installed_under("bin");
}

#[test]
fn matrix_awskeep_under_a_folder_with_a_space() {
    matrix_with_awskeep_installed_under("My Tools");
}

#[test]
fn matrix_awskeep_under_a_folder_with_parentheses() {
    matrix_with_awskeep_installed_under("Program Files (x86)");
}

#[test]
fn matrix_awskeep_under_a_folder_with_a_single_quote() {
    matrix_with_awskeep_installed_under("it's");
}

#[test]
fn matrix_awskeep_under_a_folder_with_a_tilde() {
    matrix_with_awskeep_installed_under("~backup");
}

#[test]
fn matrix_awskeep_under_a_folder_with_an_exclamation_mark() {
    matrix_with_awskeep_installed_under("wow!");
}

#[test]
fn matrix_awskeep_under_a_folder_with_a_shell_operator() {
    matrix_with_awskeep_installed_under("a&q");
}

#[test]
fn matrix_awskeep_under_a_folder_with_non_ascii_letters() {
    matrix_with_awskeep_installed_under("Ünïcode");
}
