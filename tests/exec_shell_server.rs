//! `awskeep exec` as people use it, through the real binary: with no command it starts the user's
//! shell ($SHELL, else /bin/sh; an interactive bash at a terminal gets the terminal) with the
//! profile's credentials and the variables prompts read (`AWS_VAULT`, the expiry in
//! `AWS_CREDENTIAL_EXPIRATION` and `AWS_SESSION_EXPIRATION`), and an exec inside it is refused;
//! with `--server` the child gets a credential endpoint of its own instead of the credentials,
//! which boto3, the AWS CLI, the JS SDK and the Go SDK v2 use, which refuses a request without the
//! child's token, serves a fresh session to a child that keeps running, and closes when the child
//! exits (a SIGTERM to awskeep reaching the child first); a role profile serves its role session.

use crate::common;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::clients::{BOTO3_CALL_PER_LINE, LongRunning, go_client, venv_bin};
use common::private_moto::PrivateMoto;
use common::{TestEnv, required_env};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
/// What moto's GetCallerIdentity names for a session key it issued.
const SESSION_ARN: &str = "arn:aws:sts::123456789012:user/moto";

/// Profile `dev` with sessions on, against a private moto that records who signed what.
fn session_profile() -> (TestEnv, PrivateMoto) {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    env.run(&["add", "dev", "--no-verify", "--session", "on"], KEY)
        .assert_ok();
    (env, moto)
}

/// The session credential-process serves (and caches): what exec must hand on.
fn served_session(env: &TestEnv) -> serde_json::Value {
    let run = env.run(&["credential-process", "--profile", "dev"], "");
    serde_json::from_str(&run.assert_ok().stdout).unwrap()
}

/// A stand-in for the user's shell: records its arguments and environment, then exits 5.
fn recording_shell(env: &TestEnv) -> String {
    let script = env.path("shell.sh");
    write_script(
        &script,
        &format!(
            "echo \"$#\" > {args}\nenv > {vars}\nexit 5\n",
            args = env.path("shell-args").display(),
            vars = env.path("shell-env").display()
        ),
    );
    script.display().to_string()
}

/// An executable sh script at `path`.
fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(path, permissions).unwrap();
}

/// `env` output (or a file of it) as a map.
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the recording shell saw, less the `PWD` sh sets for itself.
fn shell_env(env: &TestEnv) -> BTreeMap<String, String> {
    let mut vars = parse_env(&std::fs::read_to_string(env.path("shell-env")).unwrap());
    vars.remove("PWD");
    vars
}

/// The environment every child starts from: the test's, plus what the test set.
fn base_env(env: &TestEnv, set: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = env.vars().into_iter().collect();
    for (name, value) in set {
        vars.insert(name.to_string(), value.to_string());
    }
    vars
}

#[test]
fn exec_without_a_command_starts_the_users_shell_with_the_credentials_and_the_prompt_variables() {
    let (env, moto) = session_profile();
    let session = served_session(&env);
    let shell = recording_shell(&env);
    env.expect(["exec", "dev"])
        .env("SHELL", &shell)
        .env("AWS_PROFILE", "other")
        .stdout("")
        .stderr(
            "awskeep: starting $ROOT/shell.sh with the credentials of profile dev; `exit` ends it.\n",
        )
        .status(5)
        .run();
    assert_eq!(
        std::fs::read_to_string(env.path("shell-args")).unwrap(),
        "0\n"
    );
    let mut expected = base_env(&env, &[("SHELL", &shell)]);
    let field = |name: &str| session[name].as_str().unwrap().to_string();
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", field("AccessKeyId")),
        ("AWS_SECRET_ACCESS_KEY", field("SecretAccessKey")),
        ("AWS_SESSION_TOKEN", field("SessionToken")),
        ("AWS_CREDENTIAL_EXPIRATION", field("Expiration")),
        ("AWS_SESSION_EXPIRATION", field("Expiration")),
        ("AWS_VAULT", "dev".into()),
        ("AWSKEEP_EXEC", "dev".into()),
    ] {
        expected.insert(name.into(), value);
    }
    let child = shell_env(&env);
    assert_eq!(child, expected, "AWS_PROFILE removed, the rest as said");

    // With --server the same shell gets the endpoint instead, and no expiry: the session it is
    // served changes while it runs.
    env.expect(["exec", "--server", "dev"])
        .env("SHELL", &shell)
        .stdout("")
        .stderr(
            "awskeep: starting $ROOT/shell.sh with the credentials of profile dev; `exit` ends it.\n",
        )
        .status(5)
        .run();
    let mut child = shell_env(&env);
    let uri = child.remove("AWS_CONTAINER_CREDENTIALS_FULL_URI").unwrap();
    let token = child.remove("AWS_CONTAINER_AUTHORIZATION_TOKEN").unwrap();
    assert_endpoint_shaped(&uri, &token);
    let mut expected = base_env(&env, &[("SHELL", &shell)]);
    expected.insert("AWS_VAULT".into(), "dev".into());
    expected.insert("AWSKEEP_EXEC".into(), "dev".into());
    assert_eq!(child, expected);
    assert_eq!(
        moto.session_token_calls(),
        1,
        "both from the cached session"
    );
}

fn assert_endpoint_shaped(uri: &str, token: &str) {
    let port = uri
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{uri}"));
    assert!(port.parse::<u16>().is_ok(), "{uri}");
    assert!(
        token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
}

/// No $SHELL: /bin/sh, here reading its commands from stdin; an exec inside is refused as before,
/// with or without a command, with or without --server.
#[test]
fn exec_without_shell_set_starts_bin_sh_and_an_exec_inside_it_is_refused() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let awskeep = env!("CARGO_BIN_EXE_awskeep");
    let refused = "awskeep: already inside `awskeep exec dev` (AWSKEEP_EXEC is set). Hint: exit that shell first, or run the command directly: its environment already has the credentials.\n";
    env.expect(["exec", "dev"])
        .env_remove("SHELL")
        .stdin(&format!(
            "echo $AWS_VAULT $AWSKEEP_EXEC $AWS_ACCESS_KEY_ID\n{awskeep} exec dev -- true; echo $?\n{awskeep} exec dev; echo $?\n{awskeep} exec --server dev -- true; echo $?\nexit 4\n"
        ))
        .stdout("dev dev AKIAAWSKEEPTESTKEY01\n2\n2\n2\n")
        .stderr(&format!(
            "awskeep: starting /bin/sh with the credentials of profile dev; `exit` ends it.\n{refused}{refused}{refused}"
        ))
        .status(4)
        .run();
}

#[test]
fn exec_server_refuses_a_long_term_key_and_says_what_to_do() {
    let env = TestEnv::new();
    env.run(&["add", "plain", "--no-verify"], KEY).assert_ok();
    env.expect(["exec", "--server", "plain", "--", "true"])
        .stdout("")
        .stderr("awskeep: profile \"plain\" has sessions off, and the credential endpoint (`serve`, `exec --server`) hands out only short-lived sessions, never the long-term key. Hint: turn sessions on with `awskeep_session = true` in [profile plain] of ~/.aws/config, or leave out --server: the command then gets the long-term key in its environment.\n")
        .status(2)
        .run();
}

/// Each client runs as `awskeep exec --server dev -- CLIENT` with no credentials and no profile in
/// its environment (planted ones are removed): it can only have used the endpoint.
#[test]
fn exec_server_children_boto3_the_aws_cli_the_js_sdk_and_the_go_sdk_get_the_session_from_the_endpoint()
 {
    let (env, moto) = session_profile();
    let session = served_session(&env);
    let session_id = session["AccessKeyId"].as_str().unwrap();
    let planted = [
        ("AWS_PROFILE", "dev"),
        ("AWS_ACCESS_KEY_ID", "AKIAOTHEROTHEROTHER1"),
        ("AWS_SECRET_ACCESS_KEY", "other-secret"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "other-token"),
    ];
    let exec = |client: &[&str]| {
        let mut expect = env.expect(
            ["exec", "--server", "dev", "--"]
                .iter()
                .chain(client)
                .copied(),
        );
        for (name, value) in planted {
            expect = expect.env(name, value);
        }
        expect.stderr("")
    };
    let python = venv_bin("python").display().to_string();
    exec(&[
        &python,
        "-c",
        "import boto3; s = boto3.Session(); s.client('sts').get_caller_identity(); c = s.get_credentials(); print(c.method, c.access_key)",
    ])
    .stdout(&format!("container-role {session_id}\n"))
    .run();
    let aws = venv_bin("aws").display().to_string();
    exec(&[
        &aws,
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ])
    .stdout(&format!("{SESSION_ARN}\n"))
    .run();
    // The JS SDK's default chain (fromIni would find no profile: none is named).
    let js = "import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';\nconst id = await new STSClient({}).send(new GetCallerIdentityCommand({}));\nconsole.log(id.Arn);";
    exec(&[
        "sh",
        "-c",
        "cd \"$1\" && exec node --no-warnings --input-type=module -e \"$2\"",
        "sh",
        &required_env("AWSKEEP_TEST_JS_DIR"),
        js,
    ])
    .stdout(&format!("{SESSION_ARN}\n"))
    .run();
    let go = go_client("whoami-go-v2").display().to_string();
    exec(&[&go]).stdout(&format!("{SESSION_ARN}\n")).run();

    assert_eq!(
        moto.signed_with(),
        [
            "AKIAAWSKEEPTESTKEY01",
            session_id,
            session_id,
            session_id,
            session_id
        ],
        "the key signed only GetSessionToken; each client signed with the session"
    );
    assert_eq!(moto.session_token_calls(), 1, "served from the cache");
}

/// Waits for `path` to appear (written by the child).
fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The status of a GET of `/`.
fn get_status(address: &str, authorization: Option<&str>) -> u16 {
    common::http_get(address, "/", authorization).0
}

#[test]
fn exec_server_answers_only_the_childs_token_passes_sigterm_on_and_closes_its_port_when_the_child_exits()
 {
    let (env, _moto) = session_profile();
    // The child hands the test what it got (a test's child may; awskeep never prints it), then
    // runs until a SIGTERM (which awskeep passes on) makes it exit 3.
    let script = format!(
        "trap 'exit 3' TERM; echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI $AWS_CONTAINER_AUTHORIZATION_TOKEN\" > {got}.tmp && mv {got}.tmp {got}; while true; do sleep 0.05; done",
        got = env.path("got").display(),
    );
    let mut command = env.awskeep();
    command
        .args(["exec", "--server", "dev", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let awskeep = command.spawn().unwrap();
    let got = wait_for_file(&env.path("got"));
    let (uri, token) = got.split_once(' ').unwrap();
    assert_endpoint_shaped(uri, token);
    let address = uri
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap()
        .to_string();
    assert_eq!(get_status(&address, None), 401, "no token");
    let other = if token.ends_with('0') { '1' } else { '0' };
    assert_eq!(
        get_status(&address, Some(&format!("{}{other}", &token[..63]))),
        403,
        "another token"
    );
    assert_eq!(get_status(&address, Some(token)), 200, "the child's token");

    let status = env
        .command("kill")
        .args(["-TERM", &awskeep.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = common::wait_for(awskeep, Duration::from_secs(30));
    assert_eq!(run.code(), 3, "the child's status: {}", run.stderr);
    assert_eq!(run.stdout, "");
    let refusals: Vec<String> = run
        .stderr
        .lines()
        .map(|l| {
            // The client's port varies.
            let (before, after) = l.split_once("127.0.0.1:").unwrap_or((l, ""));
            let after = after.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{before}127.0.0.1:PORT{after}")
        })
        .collect();
    assert_eq!(
        refusals,
        [
            "awskeep: refused a request from 127.0.0.1:PORT without the token.",
            "awskeep: refused a request from 127.0.0.1:PORT with a wrong token.",
        ]
    );
    assert!(!run.stderr.contains(token));
    assert_eq!(
        TcpStream::connect(&address).map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::ConnectionRefused),
        "the endpoint closed with the child"
    );
}

#[test]
fn exec_server_child_that_keeps_running_gets_a_fresh_session_after_the_cached_one_goes() {
    let (env, moto) = session_profile();
    let python = venv_bin("python").display().to_string();
    let mut command = env.awskeep();
    command
        .args(["exec", "--server", "dev", "--", &python, "-u", "-c"])
        .arg(BOTO3_CALL_PER_LINE)
        .stderr(std::fs::File::create(env.path("stderr")).unwrap());
    let mut client = LongRunning::start(command);
    client.gets_a_new_session_after_session_clear(&env, &moto);
    // stdin closed: the child ends, and awskeep with its status.
    assert_eq!(client.finish().code(), Some(0));
    assert_eq!(std::fs::read_to_string(env.path("stderr")).unwrap(), "");
}

/// An interactive bash at a terminal, as a person starts it: it takes the terminal (job control,
/// no warning), sees the profile, and its `exit N` is awskeep's.
#[test]
fn exec_without_a_command_gives_an_interactive_bash_the_terminal_and_takes_its_exit_status() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    // bash with an rc file of the test's instead of the system's: the prompt is known.
    let bash = env.path("bash");
    std::fs::write(env.path("bashrc"), "PS1='ready$ '\n").unwrap();
    write_script(
        &bash,
        &format!(
            "exec /bin/bash --noprofile --rcfile {}\n",
            env.path("bashrc").display()
        ),
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = env.command("python3");
    command
        .arg(script)
        .args(["ready$ ", "echo vault=$AWS_VAULT; exit 6"])
        .arg("--")
        .args([env!("CARGO_BIN_EXE_awskeep"), "exec", "dev"])
        .env("SHELL", &bash);
    let run = common::run_with_stdin(command, "");
    assert_eq!(run.code(), 6, "{}\n{}", run.stdout, run.stderr);
    let shown = run.stdout.replace('\r', "");
    assert!(
        shown.starts_with(&format!(
            "awskeep: starting {} with the credentials of profile dev; `exit` ends it.\n",
            bash.display()
        )),
        "{shown}"
    );
    assert!(!shown.contains("job control"), "{shown}");
    assert!(shown.contains("\nvault=dev\n"), "{shown}");
}

/// A role profile under --server: the child is served the role's session (assumed once, with the
/// source's long-term key), never the source's key.
#[test]
fn exec_server_serves_a_role_profiles_role_session() {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    env.run(
        &[
            "add-role",
            "prod",
            "--role-arn",
            "arn:aws:iam::123456789012:role/admin",
            "--source-profile",
            "dev",
        ],
        "",
    )
    .assert_ok();
    let python = venv_bin("python").display().to_string();
    env.expect([
            "exec",
            "--server",
            "prod",
            "--",
            &python,
            "-c",
            "import boto3; s = boto3.Session(); arn = s.client('sts').get_caller_identity()['Arn']; print(arn.rsplit('/', 1)[0], s.get_credentials().method)",
        ])
        .stdout("arn:aws:sts::123456789012:assumed-role/admin container-role\n")
        .stderr("")
        .run();
    let role = env.run(&["credential-process", "--profile", "prod"], "");
    let role: serde_json::Value = serde_json::from_str(&role.assert_ok().stdout).unwrap();
    assert_eq!(
        moto.signed_with(),
        [
            "AKIAAWSKEEPTESTKEY01",
            role["AccessKeyId"].as_str().unwrap()
        ],
        "the key signed AssumeRole (at add-role), the role session the child's call"
    );
    assert_eq!(moto.assume_role_calls(), 1);
}
