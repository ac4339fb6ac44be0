//! `awskeep exec` and `awskeep export` through the real binary: the AWS CLI and boto3 get the
//! profile's credentials from the environment (the long-term key against the shared moto with auth
//! enforced, a session against a private moto that records which key signed each request), exit
//! codes and signals pass through (and signals the caller ignored stay ignored), the child gets the
//! caller's environment less every variable that points elsewhere or at the stored keys, and the
//! caller's limits; nesting is refused, and each export format is exact (and the env form works
//! under `eval` in bash).

use crate::common;

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

/// What a caller may have set that would point the child at other credentials, another identity,
/// or a way to the stored keys: each must be gone from the child's environment. Written out here,
/// not taken from the source, so a name dropped from exec's list fails this test.
const POINTS_ELSEWHERE: &[(&str, &str)] = &[
    ("AWS_PROFILE", "nosuchprofile"),
    // The AWS CLI v1 reads it: left set, it fails "The config profile (other) could not be found".
    ("AWS_DEFAULT_PROFILE", "other"),
    ("AWS_ACCESS_KEY_ID", "AKIAOTHEROTHEROTHER1"),
    ("AWS_SECRET_ACCESS_KEY", "other-secret"),
    ("AWS_SESSION_TOKEN", "stale-token"),
    ("AWS_SECURITY_TOKEN", "stale-token"),
    ("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z"),
    ("AWS_SESSION_EXPIRATION", "2099-01-01T00:00:00Z"),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://127.0.0.1:9/creds",
    ),
    (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/other",
    ),
    ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "other-token"),
    ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/tmp/other-token"),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/other-web-identity"),
    ("AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/other"),
    ("AWS_ROLE_SESSION_NAME", "other"),
    ("AWS_ACCOUNT_ID", "999999999999"),
    ("AWS_BEARER_TOKEN_BEDROCK", "other-api-key"),
    ("AWSKEEP_FILE_PASSPHRASE", "the file store passphrase"),
    (
        "AWSKEEP_FILE_PASSPHRASE_COMMAND",
        "echo the file store passphrase",
    ),
];

/// The caller's world that exec must leave alone.
const KEPT: &[(&str, &str)] = &[
    ("AWSKEEP_UNLOCK_TIMEOUT", "15m"),
    ("AWS_MAX_ATTEMPTS", "2"),
    ("AWS_SDK_LOAD_CONFIG", "1"),
    ("CALLER_VARIABLE", "kept as it was"),
];

#[test]
fn exec_hands_the_child_only_the_profiles_credentials_and_otherwise_the_callers_environment() {
    let (env, key) = user_profile("exec");
    let planted: Vec<(&str, &str)> = POINTS_ELSEWHERE.iter().chain(KEPT).copied().collect();
    // The AWS CLI v1 signs as the stored key whatever else the caller had set.
    let run = awskeep_exec(
        &env,
        "dev",
        &[
            &aws(),
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ],
        &planted,
    );
    run.assert_ok();
    assert_eq!(run.stdout.trim(), key.arn, "{}", run.stderr);

    // The child's environment is exactly the caller's, less what points elsewhere, plus the
    // credentials and the marker.
    let run = awskeep_exec(&env, "dev", &["env"], &planted);
    run.assert_ok();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let child: std::collections::BTreeMap<String, String> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut expected: std::collections::BTreeMap<String, String> = env.vars().into_iter().collect();
    for (name, value) in KEPT {
        expected.insert(name.to_string(), value.to_string());
    }
    expected.insert("AWS_ACCESS_KEY_ID".into(), key.id.clone());
    expected.insert("AWS_SECRET_ACCESS_KEY".into(), key.secret.clone());
    expected.insert("AWSKEEP_EXEC".into(), "dev".into());
    expected.insert("AWS_VAULT".into(), "dev".into());
    assert_eq!(child, expected);
    for (name, _) in POINTS_ELSEWHERE {
        assert!(
            !child.contains_key(*name)
                || ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].contains(name),
            "{name} reached the child"
        );
    }
    assert!(
        env.files_containing(&key.secret).is_empty(),
        "exec wrote the secret nowhere"
    );
}

/// The standard signals (1 to 31) in the SigIgn mask `grep SigIgn /proc/PID/status` wrote to `path`.
/// The realtime signals glibc keeps for itself (32, 33) are left out: glibc's posix_spawn starts
/// every child with them ignored, whoever the parent is.
fn standard_signals_ignored(path: &std::path::Path) -> u64 {
    let line = std::fs::read_to_string(path).unwrap_or_default();
    let hex = line
        .trim()
        .strip_prefix("SigIgn:")
        .unwrap_or_else(|| panic!("no SigIgn line in {}: {line:?}", path.display()));
    u64::from_str_radix(hex.trim(), 16).unwrap() & 0x7fff_ffff
}

#[test]
fn exec_keeps_signals_the_caller_ignored_ignored_in_the_child_and_does_not_forward_them() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAAWSKEEPTESTKEY01\nsecret\n",
    )
    .assert_ok();
    // As `nohup awskeep exec ... &` (HUP) or a background job of a script (INT, QUIT) starts it:
    // the caller ignores the signal, then it is sent to awskeep and to the command, as a hangup or
    // a Ctrl-C would be.
    for signal in ["HUP", "INT", "QUIT", "TERM"] {
        let (caller_mask, child_mask, pid) = (
            env.path(&format!("caller-{signal}")),
            env.path(&format!("child-{signal}")),
            env.path(&format!("pid-{signal}")),
        );
        let child_script = format!(
            "grep SigIgn /proc/$$/status > {child}; echo $$ > {pid}.tmp; mv {pid}.tmp {pid}; sleep 1; echo survived",
            child = child_mask.display(),
            pid = pid.display()
        );
        let mut c = env.command("sh");
        c.arg("-c")
            .arg(format!(
                "trap '' {signal}; grep SigIgn /proc/$$/status > {}; exec \"$@\"",
                caller_mask.display()
            ))
            .args(["sh", env!("CARGO_BIN_EXE_awskeep"), "exec", "dev", "--"])
            .args(["sh", "-c", &child_script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let awskeep = c.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !pid.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "{signal}: never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let child_pid = std::fs::read_to_string(&pid).unwrap().trim().to_string();
        for target in [awskeep.id().to_string(), child_pid] {
            env.command("kill")
                .args([&format!("-{signal}"), &target])
                .status()
                .unwrap();
        }
        let run = common::wait_for(awskeep, std::time::Duration::from_secs(20));
        assert_eq!(
            (run.code(), run.stdout.as_str()),
            (0, "survived\n"),
            "SIG{signal} ignored by the caller: {}",
            run.stderr
        );
        let caller = standard_signals_ignored(&caller_mask);
        assert_ne!(caller, 0, "the caller ignores SIG{signal}");
        assert_eq!(
            standard_signals_ignored(&child_mask),
            caller,
            "SIG{signal}: the child ignores what the caller ignored"
        );
    }
}

#[test]
fn exec_gives_the_child_the_callers_core_limits_and_a_dumpable_process() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAAWSKEEPTESTKEY01\nsecret\n",
    )
    .assert_ok();
    let python = venv_bin("python").display().to_string();
    let child = format!(
        "ulimit -Sc; ulimit -Hc; {python} -c 'import ctypes; print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))'"
    );
    let mut c = env.command("sh");
    c.arg("-c")
        .arg("ulimit -Hc 4096 && ulimit -Sc 1024 && exec \"$@\"")
        .args(["sh", env!("CARGO_BIN_EXE_awskeep"), "exec", "dev", "--"])
        .args(["sh", "-c", &child]);
    let run = run_with_stdin(c, "");
    run.assert_ok();
    // Soft 1024, hard 4096 as the caller set them; PR_GET_DUMPABLE 1.
    assert_eq!(run.stdout, "1024\n4096\n1\n", "{}", run.stderr);
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
    // The credential_process JSON, lease included; the two leases were drawn a moment apart.
    let process = env.run(&["credential-process", "--profile", "dev"], "");
    let exported = env.run(&["export", "dev", "--format", "json"], "");
    let parse = |run: &common::Run| -> serde_json::Value {
        serde_json::from_str(&run.assert_ok().stdout).unwrap()
    };
    let (mut process, mut exported) = (parse(&process), parse(&exported));
    let lease = |json: &mut serde_json::Value| {
        let text = json
            .as_object_mut()
            .and_then(|o| o.remove("Expiration"))
            .and_then(|e| e.as_str().map(str::to_string))
            .expect("Expiration");
        humantime::parse_rfc3339(&text).unwrap()
    };
    let (a, b) = (lease(&mut process), lease(&mut exported));
    let apart = b.duration_since(a).unwrap_or_else(|e| e.duration());
    assert!(apart <= std::time::Duration::from_secs(5), "{apart:?}");
    assert_eq!(exported, process);
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

/// Without a profile named, export takes AWS_PROFILE, as credential-process, serve and session
/// refresh do; exec without `--` is told to add it.
#[test]
fn export_falls_back_to_aws_profile_and_exec_without_double_dash_says_where_it_goes() {
    let (env, key) = user_profile("envprof");
    let mut c = env.awskeep();
    c.args(["export", "--format", "json"])
        .env("AWS_PROFILE", "dev");
    let run = run_with_stdin(c, "");
    run.assert_ok();
    assert!(run.stdout.contains(&key.id), "{}", run.stdout);
    // AWS_PROFILE naming a profile awskeep does not hold fails naming it.
    let mut c = env.awskeep();
    c.args(["export"]).env("AWS_PROFILE", "nosuch");
    run_with_stdin(c, "").assert_fails(3, "nosuch");

    env.run(&["exec", "dev", "aws", "sts", "get-caller-identity"], "").assert_fails(
        2,
        "Hint: put `--` before the command to run: `awskeep exec PROFILE -- COMMAND [ARGS...]`; see `awskeep exec --help`.",
    );
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

/// A standard role profile (`role_arn` + `source_profile`) holds no awskeep key: exec, export and
/// credential-process say so, never "run `awskeep add deploy`" (a long-term key for a role
/// profile). Where its source is an awskeep profile they offer `awskeep migrate deploy`, which
/// works: the profile becomes an awskeep role profile, exec and the AWS CLI act as the role, and
/// the user's other settings stay.
#[test]
fn exec_and_export_of_a_role_profile_say_what_works_instead() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_admin_with_key("role-source");
    env.add("dev", &key, &[]).assert_ok();
    env.append_config(
        "\n[profile deploy]\n# the deploy role\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = dev\noutput = json\n\n[profile sso-deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = corp\n",
    );
    let line = "awskeep: profile \"deploy\" is a standard role profile (role_arn, source_profile = dev), which the AWS CLI and SDKs assume themselves; awskeep holds no key for it. Hint: `awskeep migrate deploy` makes it an awskeep role profile: awskeep then assumes the role with dev's key (one MFA code for every role, cached in the keychain) for every tool, exec and export included.\n";
    env.expect(["exec", "deploy", "--", "true"])
        .status(3)
        .stderr(line)
        .run();
    env.expect(["export", "deploy"])
        .status(3)
        .stdout("")
        .stderr(line)
        .run();
    env.expect(["credential-process", "--profile", "deploy"])
        .status(3)
        .stdout("")
        .stderr(line)
        .run();
    // A source awskeep does not hold: no awskeep command is offered for it.
    env.expect(["exec", "sso-deploy", "--", "true"])
        .status(3)
        .stderr(
            "awskeep: profile \"sso-deploy\" is a standard role profile (role_arn, source_profile = corp), which the AWS CLI and SDKs assume themselves; awskeep holds no key for it. Hint: the AWS CLI and SDKs assume the role themselves: run the command with AWS_PROFILE=sso-deploy set (`aws ... --profile sso-deploy` for the AWS CLI); for a tool that reads only the environment, `aws configure export-credentials --profile sso-deploy --format env` (AWS CLI v2) prints the role's credentials.\n",
        )
        .run();

    // What the hint says works: migrate turns it, and exec and the AWS CLI act as the role.
    env.expect(["migrate", "deploy", "--yes"])
        .stderr(
            "Role profiles awskeep will serve (role_arn becomes awskeep_role_arn; an SDK no longer assumes them itself):\n  deploy               arn:aws:iam::123456789012:role/deploy  with dev's credentials\n  role profile deploy: assumes arn:aws:iam::123456789012:role/deploy with dev's credentials\nMigrated: deploy (role).\n",
        )
        .run();
    let config = env.read_config();
    let section = config.split("[profile deploy]\n").nth(1).unwrap();
    let section = section.split("\n\n").next().unwrap();
    assert_eq!(
        section,
        format!(
            "# the deploy role\noutput = json\ncredential_process = {} credential-process --profile deploy\nawskeep_role_arn = arn:aws:iam::123456789012:role/deploy\nawskeep_source_profile = dev\nregion = us-east-1",
            env!("CARGO_BIN_EXE_awskeep")
        )
    );
    let exec = env.run(
        &[
            "exec",
            "deploy",
            "--",
            &aws(),
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ],
        "",
    );
    assert!(
        exec.stdout
            .starts_with("arn:aws:sts::123456789012:assumed-role/deploy/awskeep-"),
        "{exec:?}"
    );
    let mut cli = env.command(aws());
    cli.args([
        "sts",
        "get-caller-identity",
        "--profile",
        "deploy",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    let run = run_with_stdin(cli, "");
    assert!(
        run.stdout
            .starts_with("arn:aws:sts::123456789012:assumed-role/deploy/"),
        "{run:?}"
    );
}
