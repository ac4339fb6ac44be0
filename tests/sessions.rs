//! STS sessions through the real binary: the JSON clients get, the cache served with the network
//! gone, refresh near expiry, single flight across 32 processes, a SIGKILLed lock holder, MFA codes
//! from a command and from a terminal, and a role profile on top of an awskeep profile.

use crate::common;

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use common::clients::{Client, caller_arn};
use common::private_moto::PrivateMoto;
use common::{Run, TestEnv, run_with_stdin, wait_for};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const KEY_ID: &str = "AKIAAWSKEEPTESTKEY01";

/// A keyring, a private moto, and profile `dev` with sessions on (plus `extra` flags).
fn setup(extra: &[&str]) -> (TestEnv, PrivateMoto) {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    let mut args = vec!["add", "dev", "--no-verify", "--session", "on"];
    args.extend_from_slice(extra);
    env.run(&args, KEY).assert_ok();
    (env, moto)
}

fn credentials(env: &TestEnv, extra: &[&str]) -> Run {
    let mut args = vec!["credential-process", "--profile", "dev"];
    args.extend_from_slice(extra);
    env.run(&args, "")
}

fn json(run: &Run) -> serde_json::Value {
    run.assert_ok();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", run.stdout))
}

fn expires_in(json: &serde_json::Value) -> Duration {
    let text = json["Expiration"].as_str().expect("Expiration");
    assert!(
        text.ends_with('Z') && text.len() == 20,
        "RFC 3339 UTC: {text}"
    );
    humantime::parse_rfc3339(text)
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap()
}

#[test]
fn sessions_are_fetched_once_and_served_from_the_cache_with_the_network_gone() {
    let (env, mut moto) = setup(&[]);
    let first = json(&credentials(&env, &[]));
    assert!(
        first["SessionToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_ne!(
        first["AccessKeyId"], KEY_ID,
        "a session, not the long-term key"
    );
    let left = expires_in(&first);
    assert!(
        left > Duration::from_secs(11 * 3600) && left <= Duration::from_secs(12 * 3600 + 60),
        "{left:?}"
    );
    assert_eq!(moto.session_token_calls(), 1);

    assert_eq!(
        json(&credentials(&env, &[]))["SessionToken"],
        first["SessionToken"]
    );
    assert_eq!(
        moto.session_token_calls(),
        1,
        "the second call is served from the cache"
    );

    moto.stop();
    let offline = json(&credentials(&env, &[]));
    assert_eq!(
        offline["SessionToken"], first["SessionToken"],
        "the cached path needs no network"
    );
}

#[test]
fn a_session_near_expiry_or_of_a_replaced_key_is_refreshed() {
    let (env, moto) = setup(&[]);
    // A session with 5 minutes left, as an earlier run would have left it.
    let expiring = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(300));
    let item = format!(
        r#"{{"version":1,"access_key_id":"ASIAOLDSESSION000000","secret_access_key":"old","session_token":"old-token","expiration":"{expiring}","source_key_id":"{KEY_ID}","mfa_serial":null}}"#
    );
    let mut store = env.command("secret-tool");
    store.args([
        "store",
        "--label=awskeep session",
        "service",
        "awskeep",
        "username",
        "dev:session",
    ]);
    run_with_stdin(store, &item).assert_ok();

    let fresh = json(&credentials(&env, &[]));
    assert_ne!(fresh["SessionToken"], "old-token");
    assert!(expires_in(&fresh) > Duration::from_secs(11 * 3600));
    assert_eq!(moto.session_token_calls(), 1);

    // A new key for the profile: its old session is dropped, the next call fetches anew.
    env.run(
        &["add", "dev", "--no-verify", "--force"],
        "AKIAI44QH8DHBEXAMPLE\nanothersecret\n",
    )
    .assert_ok();
    assert!(
        env.secret_tool_lookup("dev:session").is_none(),
        "add --force drops the session"
    );
    json(&credentials(&env, &[]));
    assert_eq!(moto.session_token_calls(), 2);

    env.run(&["session", "clear", "--profile", "dev"], "")
        .assert_ok();
    json(&credentials(&env, &[]));
    assert_eq!(
        moto.session_token_calls(),
        3,
        "session clear forces a fetch"
    );

    env.run(&["remove", "dev", "--yes"], "").assert_ok();
    assert!(
        env.secret_tool_lookup("dev:session").is_none(),
        "remove drops the session"
    );
}

#[test]
fn thirty_two_processes_on_a_cold_cache_make_one_sts_call() {
    let (env, moto) = setup(&[]);
    let children: Vec<_> = (0..32)
        .map(|_| {
            let mut command = env.awskeep();
            command
                .args(["credential-process", "--profile", "dev"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().expect("spawn")
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| wait_for(c, Duration::from_secs(120)))
        .collect();
    let tokens: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| json(r)["SessionToken"].clone())
        .collect();
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "every process printed the same session"
    );
    assert_eq!(moto.session_token_calls(), 1, "single flight");
}

#[test]
fn a_lock_holder_killed_with_sigkill_does_not_block_the_next_call() {
    let (env, moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"]);
    let marker = env.path("holding");
    let mut holder = env.awskeep();
    holder
        .args(["credential-process", "--profile", "dev", "--mfa-process"])
        .arg(format!("touch {}; sleep 60; echo 123456", marker.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut holder = holder.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the holder never reached its MFA prompt"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    holder.kill().unwrap(); // SIGKILL, with the lock held
    holder.wait().unwrap();

    let started = std::time::Instant::now();
    let run = credentials(&env, &["--mfa-process", "echo 123456"]);
    json(&run);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited on a dead holder's lock"
    );
    assert_eq!(moto.session_token_calls(), 1);
}

#[test]
fn mfa_codes_come_from_a_command_and_without_one_the_error_says_how() {
    let (env, _moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"]);
    // No command, no terminal (setsid: no controlling tty): one clear line.
    let mut command = env.command("setsid");
    command.args([
        "-w",
        env!("CARGO_BIN_EXE_awskeep"),
        "credential-process",
        "--profile",
        "dev",
    ]);
    run_with_stdin(command, "").assert_fails(1, "awskeep_mfa_process");

    json(&credentials(&env, &["--mfa-process", "echo 123456"]));
    env.run(&["session", "clear", "--all"], "").assert_ok();
    let config = env.read_config().replace(
        "mfa_serial = ",
        "awskeep_mfa_process = printf 654321\nmfa_serial = ",
    );
    env.write_config(&config);
    json(&credentials(&env, &[]));
    let bad = credentials(&env, &["--mfa-process", "echo 12"]);
    assert_eq!(
        bad.code(),
        0,
        "the cache still serves: the command was not needed"
    );
}

#[test]
fn mfa_code_typed_at_the_terminal() {
    let (env, _moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = env.command("python3");
    command
        .arg(script)
        .args(["MFA code for", "123456", "--"])
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(["credential-process", "--profile", "dev"]);
    let run = run_with_stdin(command, "");
    assert!(run.status.success(), "{}", run.stdout);
    assert!(run.stdout.contains("\"SessionToken\""), "{}", run.stdout);
}

#[test]
fn a_code_of_the_wrong_shape_is_caught_before_aws_and_asked_again() {
    let (env, moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    // Each pair: what the terminal shows, then what is typed. "Try again." stays in what the
    // terminal showed, so a later answer after it is typed ahead; the terminal keeps it for the next
    // question, as a fast typist's line would be.
    let at_terminal = |pairs: &[&str]| {
        let mut command = env.command("python3");
        command
            .arg(script)
            .args(pairs)
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_awskeep"))
            .args(["credential-process", "--profile", "dev"]);
        run_with_stdin(command, "")
    };
    let run = at_terminal(&["MFA code for", "12345", "Try again.", "123456"]);
    assert!(run.status.success(), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "awskeep: That is not an MFA code (an MFA code is 6 digits); it was not sent to AWS. Try again."
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("AWS refused"), "{}", run.stdout);
    assert!(run.stdout.contains("\"SessionToken\""), "{}", run.stdout);
    assert_eq!(
        moto.session_token_calls(),
        1,
        "only the good code reached STS"
    );

    // Three wrong shapes: one line saying none was sent, and still no further STS call.
    env.run(&["session", "clear", "--all"], "").assert_ok();
    let run = at_terminal(&[
        "MFA code for",
        "abc",
        "Try again.",
        "1234567",
        "Try again.",
        "12 456",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains("no MFA code of the right shape was typed (3 tries; a code is 6 digits), so none was sent to AWS"),
        "{}",
        run.stdout
    );
    assert_eq!(
        moto.session_token_calls(),
        1,
        "no malformed code reached STS"
    );
}

#[test]
fn a_role_profile_sourced_from_an_awskeep_profile_works_in_the_cli_and_boto3() {
    let (env, moto) = setup(&[]);
    env.write_config(&format!(
        "{}\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/deployer\nsource_profile = dev\n",
        env.read_config()
    ));
    for client in [Client::AwsCli, Client::Boto3] {
        let run = caller_arn(&env, client, "role");
        assert!(
            run.stdout.contains(":assumed-role/deployer/"),
            "{client:?}: {} {}",
            run.stdout,
            run.stderr
        );
    }
    assert_eq!(
        moto.session_token_calls(),
        1,
        "both clients used the one cached session"
    );
}

#[test]
fn a_changed_mfa_serial_does_not_serve_the_old_devices_session() {
    let (env, moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/old"]);
    json(&credentials(&env, &["--mfa-process", "echo 123456"]));
    json(&credentials(&env, &["--mfa-process", "echo 123456"]));
    assert_eq!(moto.session_token_calls(), 1);
    let config = env.read_config().replace("mfa/old", "mfa/new");
    env.write_config(&config);
    json(&credentials(&env, &["--mfa-process", "echo 123456"]));
    assert_eq!(
        moto.session_token_calls(),
        2,
        "a new device means a new session"
    );
}

/// Refresh storms: botocore (and .NET) refresh from 15 minutes before `Expiration`, and botocore
/// re-runs the helper on every call inside that window. A session awskeep hands out never has less
/// than 20 minutes left, and a duration too short for that is refused with the reason, so six calls
/// of one boto3 process run credential_process once, not seven times.
#[test]
fn one_boto3_process_runs_credential_process_once_for_six_calls() {
    let (env, moto) = setup(&["--session-duration", "1h"]);
    let runs = env.path("runs.log");
    let wrapper = env.path("counting-awskeep");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            runs.display(),
            env!("CARGO_BIN_EXE_awskeep")
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let config = env.read_config();
    let line = config
        .lines()
        .find(|l| l.starts_with("credential_process"))
        .unwrap()
        .to_string();
    env.write_config(&config.replace(
        &line,
        &format!(
            "credential_process = {} credential-process --profile dev",
            wrapper.display()
        ),
    ));
    let mut boto3 = env.command(common::clients::venv_bin("python"));
    boto3.args([
        "-c",
        "import boto3\nsts = boto3.Session(profile_name='dev').client('sts')\nfor _ in range(6):\n    sts.get_caller_identity()\nprint('ok')",
    ]);
    let run = run_with_stdin(boto3, "");
    assert_eq!(run.stdout.trim(), "ok", "{}", run.stderr);
    let count = std::fs::read_to_string(&runs).unwrap().lines().count();
    assert_eq!(count, 1, "credential_process runs for 6 calls");
    assert_eq!(moto.session_token_calls(), 1);
}

#[test]
fn a_session_duration_inside_the_clients_refresh_window_is_refused_with_the_reason() {
    let env = TestEnv::new();
    for short in ["15m", "30m", "59m"] {
        let run = env.run(
            &[
                "add",
                "dev",
                "--no-verify",
                "--session",
                "on",
                "--session-duration",
                short,
            ],
            KEY,
        );
        assert_eq!(run.status.code(), Some(2), "{short}: {}", run.stderr);
        assert!(
            run.stderr.contains("use 1h or more") && run.stderr.contains("15 minutes"),
            "{short}: {}",
            run.stderr
        );
    }
    assert!(!env.read_config().contains("credential_process"));
    // A config written by an earlier version: credential-process says what is wrong, on one line.
    env.run(&["add", "dev", "--no-verify", "--session", "on"], KEY)
        .assert_ok();
    let config = env.read_config();
    env.write_config(&format!("{config}awskeep_session_duration = 30m\n"));
    let run = credentials(&env, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("awskeep_session_duration") && run.stderr.contains("use 1h or more"),
        "{}",
        run.stderr
    );
}

/// The C++ SDK reads `LINE 2>&1` as the JSON: on success credential-process writes nothing to
/// stderr, not the `--verbose` steps, not what an MFA command says on its stderr. Without a terminal
/// to show them on, those messages are written only when the call fails, before its error line.
#[test]
fn on_success_stderr_stays_empty_even_verbose_and_with_a_chatty_mfa_command() {
    let (env, _moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"]);
    let chatty = "echo 'asking the token app' >&2; echo 123456";
    let mut args = vec!["--verbose", "credential-process", "--profile", "dev"];
    args.extend(["--mfa-process", chatty]);
    // setsid: no controlling terminal, as under an IDE or CI.
    let mut command = env.command("setsid");
    command
        .args(["-w", env!("CARGO_BIN_EXE_awskeep")])
        .args(&args);
    let run = run_with_stdin(command, "");
    run.assert_ok();
    assert_eq!(run.stderr, "", "stderr on success");
    json(&run);
    // As the C++ SDK runs it: stdout and stderr merged, parsed as one JSON document.
    let mut merged = env.command("sh");
    merged.args([
        "-c",
        &format!(
            "setsid -w '{}' --verbose credential-process --profile dev 2>&1",
            env!("CARGO_BIN_EXE_awskeep")
        ),
    ]);
    let run = run_with_stdin(merged, "");
    let parsed: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("2>&1 is not one JSON document ({e}): {}", run.stdout));
    assert_eq!(parsed["Version"], 1);

    // A failure: the held steps come first, then the one error line, last.
    env.run(&["session", "clear", "--all"], "").assert_ok();
    let mut failing = env.command("setsid");
    failing
        .args(["-w", env!("CARGO_BIN_EXE_awskeep")])
        .args(["--verbose", "credential-process", "--profile", "dev"])
        .args(["--mfa-process", "echo 'no token app' >&2; exit 3"]);
    let run = run_with_stdin(failing, "");
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("no token app"), "{}", run.stderr);
    assert!(run.stderr.contains("awskeep: "), "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("Hint:"),
        "the error line is last: {}",
        run.stderr
    );
}

#[test]
fn the_mfa_command_does_not_get_the_file_store_passphrase() {
    let (env, _moto) = setup(&["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"]);
    let seen = env.path("mfa-env");
    let mut command = env.awskeep();
    command
        .args([
            "credential-process",
            "--profile",
            "dev",
            "--mfa-process",
            &format!("env > {} && echo 123456", seen.display()),
        ])
        .env("AWSKEEP_FILE_PASSPHRASE", "pw-not-for-the-mfa-command")
        .env("AWSKEEP_FILE_PASSPHRASE_COMMAND", "echo pw-command");
    json(&run_with_stdin(command, ""));
    let environment = std::fs::read_to_string(&seen).unwrap();
    assert!(environment.contains("\nPATH="), "{environment}");
    assert!(
        !environment.contains("AWSKEEP_FILE_PASSPHRASE"),
        "{environment}"
    );
}
