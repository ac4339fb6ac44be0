//! Config edits are transactions: awskeep processes take turns, a change another program makes
//! while awskeep waits is kept (or, when it touched the same setting, the edit is refused and the
//! store put back), and no value can smuggle a line into the file.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::clients::venv_bin;
use common::{Run, TestEnv, wait_for};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nconfig/transaction/secret\n";

/// Starts `awskeep -v add PROFILE --no-verify`, returns once it has read the config and waits for
/// the key on stdin (its trace says so), then runs `meanwhile`, then gives it the key.
fn add_with_a_change_meanwhile(env: &TestEnv, profile: &str, meanwhile: impl FnOnce()) -> Run {
    let mut command = env.awskeep();
    command
        .args(["-v", "add", profile, "--no-verify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("stderr") > 0,
            "awskeep ended early: {seen}"
        );
        seen.push_str(&line);
        if line.contains("reading the key from stdin") {
            break;
        }
    }
    meanwhile();
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(KEY.as_bytes()).expect("write key");
    drop(stdin);
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "awskeep hung");
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: seen + &rest.join().unwrap_or_default(),
    }
}

#[test]
fn parallel_adds_of_different_profiles_lose_none() {
    let env = TestEnv::new();
    env.write_config("# mine\n[default]\nregion = us-east-1\n");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut command = env.awskeep();
            command
                .args(["add", &format!("p{i}"), "--no-verify"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = command.spawn().expect("spawn");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(KEY.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        wait_for(child, Duration::from_secs(60)).assert_ok();
    }
    let config = env.read_config();
    assert!(
        config.starts_with("# mine\n[default]\nregion = us-east-1\n"),
        "{config}"
    );
    for i in 0..8 {
        assert!(
            config.contains(&format!("credential-process --profile p{i}\n")),
            "p{i} lost: {config}"
        );
    }
    let list = env.run(&["list", "--json"], "");
    let rows: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 8, "{}", list.stdout);
}

#[test]
fn a_change_another_program_made_while_add_waited_is_kept() {
    let env = TestEnv::new();
    env.write_config("[default]\nregion = us-east-1\n");
    let run = add_with_a_change_meanwhile(&env, "dev", || {
        let mut aws = env.command(venv_bin("aws"));
        aws.args([
            "configure",
            "set",
            "region",
            "eu-west-1",
            "--profile",
            "other",
        ]);
        let status = aws.status().expect("aws configure set");
        assert!(status.success());
    });
    run.assert_ok();
    let config = env.read_config();
    assert!(
        config.contains("[profile other]\nregion = eu-west-1"),
        "{config}"
    );
    assert!(
        config.contains("credential-process --profile dev"),
        "{config}"
    );
}

#[test]
fn a_change_to_the_same_setting_meanwhile_is_never_overwritten() {
    let env = TestEnv::new();
    let theirs = "[profile dev]\ncredential_process = /usr/bin/other-helper dev\n";
    let run = add_with_a_change_meanwhile(&env, "dev", || env.write_config(theirs));
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr.contains("changed while awskeep was working"),
        "{run:?}"
    );
    assert_eq!(env.read_config(), theirs);
    // The key stored for the edit was taken out again.
    let list = env.run(&["list", "--json"], "");
    assert_eq!(list.stdout.trim(), "[]", "{list:?}");
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

#[test]
fn a_value_with_a_line_break_never_reaches_the_config() {
    let env = TestEnv::new();
    env.write_config("[default]\nregion = us-east-1\n");
    let injected = "arn:aws:iam::123456789012:mfa/me\n[default]\ncredential_process = /tmp/evil";
    let run = env.run(
        &["add", "dev", "--no-verify", "--mfa-serial", injected],
        KEY,
    );
    assert_eq!(run.code(), 2, "{run:?}");
    assert!(run.stderr.contains("MFA device"), "{run:?}");
    assert_eq!(env.read_config(), "[default]\nregion = us-east-1\n");
    assert_eq!(env.secret_tool_lookup("dev"), None);
    // A well-formed device is written as given.
    env.run(
        &[
            "add",
            "dev",
            "--no-verify",
            "--mfa-serial",
            "arn:aws:iam::123456789012:mfa/me",
        ],
        KEY,
    )
    .assert_ok();
    assert!(
        env.read_config()
            .contains("mfa_serial = arn:aws:iam::123456789012:mfa/me\n")
    );
}
