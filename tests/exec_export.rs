//! `awskeep exec` and `awskeep export` through the real binary: the AWS CLI and boto3 get the
//! profile's credentials from the environment (the long-term key against the shared moto with auth
//! enforced, a session against a private moto that records which key signed each request), exit
//! codes and signals pass through, AWS_PROFILE and stale session variables are removed, nesting is
//! refused, and each export format is exact (and the env form works under `eval` in bash).

mod common;

use common::clients::venv_bin;
use common::private_moto::PrivateMoto;
use common::{Moto, Run, TestEnv, TestKey, run_with_stdin};

fn awskeep_exec(env: &TestEnv, profile: &str, command: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut c = env.awskeep();
    c.args(["exec", profile, "--"]).args(command);
    for (name, value) in vars {
        c.env(name, value);
    }
    run_with_stdin(c, "")
}

fn aws() -> String {
    venv_bin("aws").display().to_string()
}

fn user_profile(hint: &str) -> (TestEnv, TestKey) {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key(hint);
    env.add("dev", &key, &[]).assert_ok();
    (env, key)
}

#[test]
fn exec_gives_the_aws_cli_the_stored_key_and_removes_aws_profile_and_stale_tokens() {
    let (env, key) = user_profile("exec");
    let cli = aws();
    // A stale session token and AWS_PROFILE in the caller's environment: with either left in, the
    // CLI would sign with the wrong token (moto refuses) or read the profile instead.
    let stale = [
        ("AWS_PROFILE", "nosuchprofile"),
        ("AWS_SESSION_TOKEN", "stale-token"),
    ];
    let run = awskeep_exec(
        &env,
        "dev",
        &[
            &cli,
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ],
        &stale,
    );
    run.assert_ok();
    assert_eq!(run.stdout.trim(), key.arn, "{}", run.stderr);

    let run = awskeep_exec(&env, "dev", &["env"], &stale);
    run.assert_ok();
    let vars: Vec<&str> = run.stdout.lines().collect();
    assert!(vars.contains(&format!("AWS_ACCESS_KEY_ID={}", key.id).as_str()));
    assert!(vars.contains(&format!("AWS_SECRET_ACCESS_KEY={}", key.secret).as_str()));
    assert!(vars.contains(&"AWSKEEP_EXEC=dev"));
    for gone in [
        "AWS_PROFILE=",
        "AWS_SESSION_TOKEN=",
        "AWS_CREDENTIAL_EXPIRATION=",
    ] {
        assert!(
            !vars.iter().any(|v| v.starts_with(gone)),
            "{gone} is in the environment: {vars:?}"
        );
    }
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(
        env.files_containing(&key.secret).is_empty(),
        "exec wrote the secret nowhere"
    );
}

#[test]
fn exec_sets_the_profiles_region() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify", "--region", "eu-central-1"],
        "AKIAAWSKEEPTESTKEY01\nsecret\n",
    )
    .assert_ok();
    let run = awskeep_exec(
        &env,
        "dev",
        &["sh", "-c", "echo $AWS_REGION $AWS_DEFAULT_REGION"],
        &[],
    );
    assert_eq!(run.stdout, "eu-central-1 eu-central-1\n", "{}", run.stderr);
}

#[test]
fn exec_passes_exit_codes_and_signals_and_refuses_to_nest() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAAWSKEEPTESTKEY01\nsecret\n",
    )
    .assert_ok();
    let code = |command: &[&str]| awskeep_exec(&env, "dev", command, &[]).code();
    assert_eq!(code(&["true"]), 0);
    assert_eq!(code(&["sh", "-c", "exit 7"]), 7);
    assert_eq!(
        code(&["sh", "-c", "kill -TERM $$"]),
        128 + 15,
        "SIGTERM is 128+15"
    );
    // Arguments that look like awskeep's own flags belong to the command.
    let run = awskeep_exec(&env, "dev", &["echo", "--profile", "-v"], &[]);
    assert_eq!(run.stdout, "--profile -v\n");

    awskeep_exec(&env, "dev", &["no-such-program-awskeep"], &[])
        .assert_fails(127, "cannot run no-such-program-awskeep");

    let inner = env!("CARGO_BIN_EXE_awskeep");
    awskeep_exec(&env, "dev", &[inner, "exec", "dev", "--", "true"], &[])
        .assert_fails(2, "already inside `awskeep exec dev`");

    // A SIGTERM sent to awskeep reaches the command, whose exit is then awskeep's.
    let marker = env.path("started");
    let mut c = env.awskeep();
    c.args(["exec", "dev", "--", "sh", "-c"])
        .arg(format!(
            "trap 'exit 42' TERM; touch {}; while true; do sleep 0.1; done",
            marker.display()
        ))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = env
        .command("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = common::wait_for(child, std::time::Duration::from_secs(20));
    assert_eq!(run.code(), 42, "the command's trap ran: {}", run.stderr);
}

#[test]
fn export_formats_are_exact() {
    let env = TestEnv::new();
    // No region anywhere, so add writes none and export sets none.
    env.expect(["add", "dev", "--no-verify"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .stdin("AKIAAWSKEEPTESTKEY01\nse'cret\\x\n")
        .run();
    env.expect(["export", "dev"])
        .stdout(concat!(
            "export AWS_ACCESS_KEY_ID='AKIAAWSKEEPTESTKEY01'\n",
            "export AWS_SECRET_ACCESS_KEY='se'\\''cret\\x'\n",
            "unset AWS_SESSION_TOKEN\n",
            "unset AWS_SECURITY_TOKEN\n",
            "unset AWS_CREDENTIAL_EXPIRATION\n",
        ))
        .stderr("")
        .run();
    env.expect(["export", "dev", "--format", "fish"])
        .stdout(concat!(
            "set -gx AWS_ACCESS_KEY_ID 'AKIAAWSKEEPTESTKEY01'\n",
            "set -gx AWS_SECRET_ACCESS_KEY 'se\\'cret\\\\x'\n",
            "set -e AWS_SESSION_TOKEN\n",
            "set -e AWS_SECURITY_TOKEN\n",
            "set -e AWS_CREDENTIAL_EXPIRATION\n",
        ))
        .run();
    env.expect(["export", "dev", "--format", "powershell"])
        .stdout(concat!(
            "$env:AWS_ACCESS_KEY_ID = 'AKIAAWSKEEPTESTKEY01'\n",
            "$env:AWS_SECRET_ACCESS_KEY = 'se''cret\\x'\n",
            "Remove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue\n",
            "Remove-Item Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue\n",
            "Remove-Item Env:AWS_CREDENTIAL_EXPIRATION -ErrorAction SilentlyContinue\n",
        ))
        .run();
    let process = env.run(&["credential-process", "--profile", "dev"], "");
    env.expect(["export", "dev", "--format", "json"])
        .stdout(&process.assert_ok().stdout)
        .run();
    env.expect(["export", "nosuch"])
        .status(3)
        .stdout("")
        .stderr_contains("no key is stored for profile \"nosuch\"")
        .run();
}

#[test]
fn export_powershell_doubles_every_quote_powershell_ends_a_string_at() {
    let env = TestEnv::new();
    env.expect(["add", "dev", "--no-verify"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .stdin("AKIAAWSKEEPTESTKEY01\nsecret\n")
        .run();
    // A region from a hand-edited config: with a typographic quote left single, PowerShell would
    // end the string there and run the rest as a command.
    env.append_config("region = a\u{2018}b\u{2019};calc;\u{201A}c\u{201B}d'e\n");
    let run = env.run(&["export", "dev", "--format", "powershell"], "");
    run.assert_ok();
    let region = "a\u{2018}\u{2018}b\u{2019}\u{2019};calc;\u{201A}\u{201A}c\u{201B}\u{201B}d''e";
    assert!(
        run.stdout
            .contains(&format!("$env:AWS_REGION = '{region}'\n")),
        "{}",
        run.stdout
    );
}

#[test]
fn export_env_evaluated_in_bash_lets_the_aws_cli_act_as_the_key() {
    let (env, key) = user_profile("export");
    let script = format!(
        "eval \"$({} export dev)\" && unset AWS_PROFILE && {} sts get-caller-identity --query Arn --output text",
        env!("CARGO_BIN_EXE_awskeep"),
        aws()
    );
    let mut c = env.command("bash");
    c.args(["-c", &script])
        .env("AWS_SESSION_TOKEN", "stale-token")
        .env("AWS_PROFILE", "nosuchprofile");
    let run = run_with_stdin(c, "");
    run.assert_ok();
    assert_eq!(run.stdout.trim(), key.arn);
}

/// Sessions on, against a private moto: exec and export hand out the cached session, the very one
/// credential-process serves, and the clients sign with it.
#[test]
fn exec_and_export_serve_the_session_credential_process_serves() {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    env.run(
        &["add", "dev", "--no-verify", "--session", "on"],
        "AKIAAWSKEEPTESTKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .assert_ok();
    let process = env.run(&["credential-process", "--profile", "dev"], "");
    let json: serde_json::Value = serde_json::from_str(&process.assert_ok().stdout).unwrap();
    let session_id = json["AccessKeyId"].as_str().unwrap().to_string();
    // moto's sessions all carry one fixed key ID; it is not the stored key's.
    assert_ne!(session_id, "AKIAAWSKEEPTESTKEY01");

    let boto3 = "import boto3; s = boto3.Session(); s.client('sts').get_caller_identity(); c = s.get_credentials(); print(c.access_key, c.method)";
    let python = venv_bin("python").display().to_string();
    let run = awskeep_exec(&env, "dev", &[&python, "-c", boto3], &[]);
    run.assert_ok();
    assert_eq!(run.stdout, format!("{session_id} env\n"), "{}", run.stderr);

    let run = awskeep_exec(&env, "dev", &["env"], &[]);
    let vars = run.assert_ok().stdout.clone();
    assert!(vars.contains(&format!(
        "AWS_SESSION_TOKEN={}\n",
        json["SessionToken"].as_str().unwrap()
    )));
    assert!(vars.contains(&format!(
        "AWS_CREDENTIAL_EXPIRATION={}\n",
        json["Expiration"].as_str().unwrap()
    )));

    let script = format!(
        "eval \"$({} export dev)\" && {} sts get-caller-identity --output text >/dev/null && echo $AWS_ACCESS_KEY_ID",
        env!("CARGO_BIN_EXE_awskeep"),
        aws()
    );
    let mut c = env.command("bash");
    c.args(["-c", &script]);
    let run = run_with_stdin(c, "");
    assert_eq!(run.assert_ok().stdout, format!("{session_id}\n"));
    assert_eq!(
        env.run(&["export", "dev", "--format", "json"], "").stdout,
        process.stdout
    );
    assert_eq!(moto.session_token_calls(), 1, "one session for all of them");
    let signers = moto.signed_with();
    assert_eq!(
        signers.iter().filter(|s| **s == session_id).count(),
        2,
        "boto3 and the CLI signed with the session: {signers:?}"
    );
}
