//! `awskeep serve` through the real binary: the AWS CLI and boto3 get the profile's session with
//! the two printed variables (container credential provider protocol), requests without the token
//! or with another one are refused, it binds 127.0.0.1 only, and a client that keeps running gets a
//! refreshed session (after `session clear`, and when the cached one falls inside the margin).
//! On the file store it obeys `awskeep lock` and the unlock timeout at its next request, and serves
//! again after `awskeep unlock`. It keeps serving: a client trickling its request holds neither
//! the endpoint nor its own connection past the deadline, and a stderr whose reader is gone costs a
//! log line, not the server.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::clients::{BOTO3_CALL_PER_LINE, LongRunning, venv_bin};
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
        .stderr(Stdio::null());
    start(command)
}

/// Starts `command` (a serve) and reads the two variables it prints.
fn start(mut command: std::process::Command) -> Served {
    command.stdin(Stdio::null()).stdout(Stdio::piped());
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

fn address(served: &Served) -> &str {
    served
        .uri
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap()
}

/// boto3 as a container gets it: the two variables, no profile; prints the access key ID it got.
fn boto3_key_id(env: &TestEnv, served: &Served) -> common::Run {
    let mut boto3 = client(env, served, venv_bin("python"));
    boto3.args([
        "-c",
        "import boto3; s = boto3.Session(); s.client('sts').get_caller_identity(); print(s.get_credentials().access_key)",
    ]);
    run_with_stdin(boto3, "")
}

/// boto3 got a key, and not the long-term one (moto's sessions all have one ID).
fn assert_session_served(run: common::Run) {
    let id = run.assert_ok().stdout.trim().to_string();
    assert!(!id.is_empty() && id != "AKIAAWSKEEPTESTKEY01", "{id}");
}

/// One raw HTTP GET; returns (status, body).
fn get(served: &Served, path: &str, authorization: Option<&str>) -> (u16, String) {
    common::http_get(address(served), path, authorization)
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

    // Loopback only: the port is not open on the machine's other addresses. Its listening socket
    // is bound to 127.0.0.1 (checked on every machine, with or without a route out)...
    let port = served.uri.rsplit(':').next().unwrap().trim_end_matches('/');
    let bound = listening_addresses(port.parse().unwrap());
    assert_eq!(bound, ["0100007F"], "serve listens on {bound:?}");
    // ...and, where the machine has an address besides loopback, a connection to it is refused.
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

#[test]
fn a_client_that_keeps_running_gets_refreshed_sessions() {
    let (env, moto) = setup(&[]);
    let served = serve(&env);
    let mut program = client(&env, &served, venv_bin("python"));
    program
        .args(["-u", "-c", BOTO3_CALL_PER_LINE])
        .stderr(Stdio::inherit());
    let mut client = LongRunning::start(program);
    // Another awskeep drops the session: the next call gets a new one from serve.
    let (_, second) = client.gets_a_new_session_after_session_clear(&env, &moto);

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
        "profile \"plain\" has sessions off, and the credential endpoint (`serve`, `exec --server`) hands out only short-lived sessions",
    );
}

const PASSPHRASE: &str = "a long test passphrase";

/// awskeep on the file store, as tests/file_store.rs runs it (no D-Bus: the file store is chosen),
/// with a quick scrypt and a 15-minute unlock; the passphrase only where `passphrase` says.
fn on_file_store(env: &TestEnv, args: &[&str], passphrase: bool) -> std::process::Command {
    let mut command = env.awskeep();
    command
        .args(args)
        .env("AWSKEEP_TEST_SCRYPT_LOG_N", "12")
        .env("AWSKEEP_UNLOCK_TIMEOUT", "15m");
    if passphrase {
        command.env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE);
    }
    command
}

/// What `items.age` is now: its bytes and its modification time.
fn items_file(env: &TestEnv) -> (Vec<u8>, SystemTime) {
    let path = env.path("data/awskeep/items.age");
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    (std::fs::read(&path).unwrap(), modified)
}

/// A request refused because the store is locked: the container provider's error shape, naming the
/// command that unlocks it.
fn assert_locked_answer(served: &Served) {
    let (status, body) = get(served, "/", Some(&served.token));
    assert_eq!(status, 500, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["Code"], "CredentialsUnavailable", "{body}");
    let message = body["Message"].as_str().unwrap();
    assert!(message.contains("is locked"), "{message}");
    assert!(message.contains("`awskeep unlock`"), "{message}");
    assert!(body.get("SecretAccessKey").is_none(), "{body}");
}

#[test]
fn serve_on_the_file_store_stops_at_lock_and_at_the_unlock_timeout_and_serves_again_after_unlock() {
    let moto = PrivateMoto::start();
    let env = TestEnv::without_keyring();
    env.use_endpoint(&moto.url);
    let add = on_file_store(
        &env,
        &["add", "dev", "--no-verify", "--session", "on"],
        true,
    );
    run_with_stdin(add, KEY).assert_ok();
    // No passphrase in serve's environment: `awskeep unlock` is what opens the store for it (the
    // variable opened it for `add` alone).
    run_with_stdin(on_file_store(&env, &["unlock"], true), "").assert_ok();
    let mut command = on_file_store(&env, &["serve", "--profile", "dev"], false);
    command.stderr(Stdio::null());
    let mut served = start(command);
    let run = boto3_key_id(&env, &served);
    assert_session_served(run);
    assert_eq!(moto.session_token_calls(), 1);

    // The next request needs a new session (a fetch and a write), but the store is locked first.
    run_with_stdin(
        on_file_store(&env, &["session", "clear", "--profile", "dev"], false),
        "",
    )
    .assert_ok();
    run_with_stdin(on_file_store(&env, &["lock"], false), "").assert_ok();
    let before = items_file(&env);
    std::thread::sleep(Duration::from_millis(1100));
    assert_locked_answer(&served);
    let run = boto3_key_id(&env, &served);
    assert!(
        !run.status.success(),
        "boto3 got credentials: {}",
        run.stdout
    );
    assert_eq!(items_file(&env), before, "items.age was not rewritten");
    assert_eq!(moto.session_token_calls(), 1, "no session was fetched");
    run_with_stdin(
        on_file_store(&env, &["credential-process", "--profile", "dev"], false),
        "",
    )
    .assert_fails(4, "awskeep unlock");

    // `awskeep unlock`: the next request is served (a new session, written to the store).
    run_with_stdin(on_file_store(&env, &["unlock"], true), "").assert_ok();
    let (status, body) = get(&served, "/", Some(&served.token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(moto.session_token_calls(), 2);
    assert_ne!(items_file(&env), before);

    // The unlock timeout ends serving as `lock` does, the cached session included.
    run_with_stdin(on_file_store(&env, &["lock"], false), "").assert_ok();
    run_with_stdin(
        on_file_store(&env, &["unlock", "--timeout", "2s"], true),
        "",
    )
    .assert_ok();
    assert_eq!(get(&served, "/", Some(&served.token)).0, 200);
    std::thread::sleep(Duration::from_millis(3500));
    assert_locked_answer(&served);
    assert_eq!(moto.session_token_calls(), 2);
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "serve is still running"
    );
}

#[test]
fn a_client_trickling_its_request_holds_neither_the_endpoint_nor_its_connection_past_the_deadline()
{
    let (env, moto) = setup(&[]);
    let served = serve(&env);
    // Three slow clients without the token, each sending one byte of a header that never ends every
    // second (under the old per-read timeout of 5 s, each held the only worker for ever).
    let slow: Vec<_> = (0..3)
        .map(|_| {
            let stream = TcpStream::connect(address(&served)).unwrap();
            let mut writer = stream.try_clone().unwrap();
            std::thread::spawn(move || {
                for byte in b"GET / HTTP/1.1\r\nX-Slow: "
                    .iter()
                    .chain(b"a".repeat(60).iter())
                {
                    if writer.write_all(&[*byte]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
            (stream, Instant::now())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    // A client with the token is answered at once, while they hang on.
    let asked = Instant::now();
    assert_eq!(get(&served, "/", Some(&served.token)).0, 200);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "answered after {:?}",
        asked.elapsed()
    );
    let run = boto3_key_id(&env, &served);
    assert_session_served(run);
    assert_eq!(moto.session_token_calls(), 1);

    // Each slow connection is answered 408 and closed once its 5 s are up, however it trickles.
    for (mut stream, opened) in slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut answer = String::new();
        let read = stream.read_to_string(&mut answer);
        let after = opened.elapsed();
        assert!(read.is_ok(), "not closed within 20 s: {read:?}");
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
        assert!(
            after >= Duration::from_millis(4500) && after < Duration::from_secs(9),
            "closed after {after:?}"
        );
    }
}

#[test]
fn serve_keeps_serving_once_its_stderr_is_gone() {
    let (env, _moto) = setup(&[]);
    // -v: the steps of every answered request are logged as well.
    let mut command = env.awskeep();
    command
        .args(["-v", "serve", "--profile", "dev"])
        .stderr(Stdio::piped());
    let mut served = start(command);
    let mut log = BufReader::new(served.child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("awskeep: serving sessions of profile dev") {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "serve stopped");
    }
    // The log's reader goes away (EPIPE on every later write to stderr).
    drop(log);
    assert_eq!(
        get(&served, "/", None).0,
        401,
        "a request without the token"
    );
    assert_eq!(get(&served, "/", Some(&served.token)).0, 200);
    assert_eq!(get(&served, "/", None).0, 401);
    let (status, body) = get(&served, "/", Some(&served.token));
    assert_eq!(status, 200, "{body}");
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "serve is still running"
    );
}

/// The local addresses (hex, as /proc/net/tcp and tcp6 write them) of the sockets listening on
/// `port`.
fn listening_addresses(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((address, hex_port)) = local.rsplit_once(':') else {
                continue;
            };
            // 0A: LISTEN.
            if *state == "0A" && u16::from_str_radix(hex_port, 16) == Ok(port) {
                found.push(address.to_string());
            }
        }
    }
    found
}
