//! `awskeep serve` through the real binary: the AWS CLI and boto3 get the profile's session with
//! the two printed variables (container credential provider protocol), requests without the token
//! or with another one are refused, it binds 127.0.0.1 only, and a client that keeps running gets a
//! refreshed session (after `session clear`, and when the cached one falls inside the margin).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::{Duration, SystemTime};

use common::clients::venv_bin;
use common::private_moto::PrivateMoto;
use common::{TestEnv, run_with_stdin};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

struct Served {
    child: Child,
    uri: String,
    token: String,
    printed: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn setup(extra: &[&str]) -> (TestEnv, PrivateMoto) {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    let mut args = vec!["add", "dev", "--no-verify", "--session", "on"];
    args.extend_from_slice(extra);
    env.run(&args, KEY).assert_ok();
    (env, moto)
}

fn serve(env: &TestEnv) -> Served {
    let mut command = env.awskeep();
    command
        .args(["serve", "--profile", "dev"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    while !printed.contains("# docker run") {
        assert!(
            lines.read_line(&mut printed).unwrap() > 0,
            "serve stopped: {printed}"
        );
    }
    let value = |name: &str| {
        let prefix = format!("export {name}='");
        let line = printed
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{name} not printed: {printed}"));
        line.trim_end_matches('\'').to_string()
    };
    Served {
        uri: value("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        token: value("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        child,
        printed,
    }
}

/// A client's environment: the two variables, and no profile to fall back on.
fn client(
    env: &TestEnv,
    served: &Served,
    program: impl AsRef<std::ffi::OsStr>,
) -> std::process::Command {
    let mut c = env.command(program);
    c.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &served.uri)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &served.token)
        .env_remove("AWS_PROFILE");
    c
}

/// One raw HTTP GET; returns (status, body).
fn get(served: &Served, path: &str, authorization: Option<&str>) -> (u16, String) {
    let address = served
        .uri
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n");
    if let Some(token) = authorization {
        request.push_str(&format!("Authorization: {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn the_aws_cli_and_boto3_get_the_session_with_the_two_variables_and_nobody_else_does() {
    let (env, moto) = setup(&[]);
    let served = serve(&env);
    assert!(
        served.uri.starts_with("http://127.0.0.1:"),
        "{}",
        served.uri
    );
    assert_eq!(served.token.len(), 64);
    assert!(
        served.printed.ends_with(
            "# docker run --network host -e AWS_CONTAINER_CREDENTIALS_FULL_URI -e AWS_CONTAINER_AUTHORIZATION_TOKEN IMAGE\n"
        ),
        "{}",
        served.printed
    );
    assert_eq!(
        moto.session_token_calls(),
        1,
        "the session is fetched at start"
    );

    let mut cli = client(&env, &served, venv_bin("aws"));
    cli.args(["sts", "get-caller-identity", "--output", "text"]);
    run_with_stdin(cli, "").assert_ok();
    let mut boto3 = client(&env, &served, venv_bin("python"));
    boto3.args([
        "-c",
        "import boto3; s = boto3.Session(); s.client('sts').get_caller_identity(); print(s.get_credentials().method)",
    ]);
    let run = run_with_stdin(boto3, "");
    assert_eq!(run.assert_ok().stdout, "container-role\n");

    let session = env.run(&["credential-process", "--profile", "dev"], "");
    let session: serde_json::Value = serde_json::from_str(&session.assert_ok().stdout).unwrap();
    let session_id = session["AccessKeyId"].as_str().unwrap();
    assert_eq!(
        moto.signed_with(),
        ["AKIAAWSKEEPTESTKEY01", session_id, session_id],
        "the key signed only GetSessionToken; both clients signed with the session"
    );
    assert_eq!(moto.session_token_calls(), 1, "served from the cache");

    let (status, body) = get(&served, "/", Some(&served.token));
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    for (field, from) in [
        ("AccessKeyId", "AccessKeyId"),
        ("SecretAccessKey", "SecretAccessKey"),
        ("Token", "SessionToken"),
        ("Expiration", "Expiration"),
    ] {
        assert_eq!(body[field], session[from], "{field}");
    }

    assert_eq!(get(&served, "/", None).0, 401, "no token");
    // The last character changed (a token ending in 0 made "…0" the right one: a 1-in-16 flake).
    let last = if served.token.ends_with('0') {
        '1'
    } else {
        '0'
    };
    let wrong = format!("{}{last}", &served.token[..63]);
    assert_eq!(get(&served, "/", Some(&wrong)).0, 403, "another token");
    assert_eq!(get(&served, "/", Some("")).0, 403, "an empty token");
    assert_eq!(get(&served, "/other", Some(&served.token)).0, 404);
    let (status, body) = get(&served, "/other", None);
    assert_eq!((status, body.contains("Secret")), (401, false));

    // Loopback only: the port is not open on the machine's other addresses.
    let port = served.uri.rsplit(':').next().unwrap().trim_end_matches('/');
    let outside = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr());
    if let Ok(address) = outside
        && !address.ip().is_loopback()
        && !address.ip().is_unspecified()
    {
        assert!(
            TcpStream::connect((address.ip(), port.parse::<u16>().unwrap())).is_err(),
            "serve answered on {}",
            address.ip()
        );
    }
}

/// A boto3 program that keeps running: each line on its stdin makes one call and prints the
/// expiry of the credentials it used.
struct LongRunning {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl LongRunning {
    fn call(&mut self) -> String {
        self.input.write_all(b"\n").unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the client died");
        line.trim().to_string()
    }
}

impl Drop for LongRunning {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_client_that_keeps_running_gets_refreshed_sessions() {
    // botocore's advisory window widened past the session's whole life: it refetches from the
    // endpoint before every call, so each call shows what serve serves now. (awskeep refuses sessions
    // short enough to put a real client in that state: tests/sessions.rs.)
    let (env, moto) = setup(&[]);
    let served = serve(&env);
    let mut program = client(&env, &served, venv_bin("python"));
    program
        .args([
            "-u",
            "-c",
            "import sys, boto3, botocore.credentials\nbotocore.credentials.RefreshableCredentials._advisory_refresh_timeout = 13 * 3600\nsts = boto3.Session().client('sts')\nfor _ in sys.stdin:\n    sts.get_caller_identity()\n    print(sts._request_signer._credentials._expiry_time.isoformat(), flush=True)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = program.spawn().unwrap();
    let mut client = LongRunning {
        input: child.stdin.take().unwrap(),
        output: BufReader::new(child.stdout.take().unwrap()),
        child,
    };
    let first = client.call();
    assert_eq!(
        client.call(),
        first,
        "the cached session, while it is fresh"
    );
    assert_eq!(moto.session_token_calls(), 1);

    // Another awskeep drops the session: the next call gets a new one from serve.
    std::thread::sleep(Duration::from_millis(1100));
    env.run(&["session", "clear", "--profile", "dev"], "")
        .assert_ok();
    let second = client.call();
    assert_ne!(second, first);
    assert_eq!(moto.session_token_calls(), 2);

    // The cached session falls inside the refresh margin (20 minutes): serve fetches a new one
    // instead of serving it.
    let expiring =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(120)).to_string();
    let item = format!(
        r#"{{"version":1,"access_key_id":"ASIAOLDSESSION000000","secret_access_key":"old","session_token":"old-token","expiration":"{expiring}","source_key_id":"AKIAAWSKEEPTESTKEY01","mfa_serial":null}}"#
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
    std::thread::sleep(Duration::from_millis(1100));
    let third = client.call();
    assert_ne!(third, second);
    assert!(
        !third.starts_with(&expiring[..16]),
        "not the expiring session: {third}"
    );
    assert_eq!(moto.session_token_calls(), 3);
    assert!(
        !moto
            .signed_with()
            .iter()
            .any(|s| s == "ASIAOLDSESSION000000"),
        "the expiring session was never used"
    );
}

#[test]
fn serve_refuses_a_profile_with_sessions_off() {
    let env = TestEnv::new();
    env.run(&["add", "plain", "--no-verify"], KEY).assert_ok();
    env.run(&["serve", "--profile", "plain"], "").assert_fails(
        2,
        "profile \"plain\" has sessions off, and `serve` hands out only short-lived sessions",
    );
}
