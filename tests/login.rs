//! `awskeep login`: the console sign-in URL, through the real binary against moto (GetFederationToken
//! for a key profile, AssumeRole for a role profile) and a stand-in federation endpoint on 127.0.0.1
//! (tests/support/federation_standin.py) that checks the session it is given and answers a sign-in
//! token. The URL goes to stdout with `--stdout`, else to the opener's command line only.

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::TestEnv;
use common::clients::venv_bin;
use common::moto::{Moto, TestKey};
use common::private_moto::PrivateMoto;

/// What moto's GetFederationToken always answers (moto/sts/responses.py): the stand-in checks
/// that exactly these reach it.
const MOTO_FEDERATED_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const MOTO_FEDERATED_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const MOTO_FEDERATED_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

/// The stand-in federation endpoint of one test.
struct Standin {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Standin {
    /// Accepts only the session moto's GetFederationToken issues.
    fn for_moto_federation(env: &TestEnv) -> Self {
        Self::start(
            env,
            &[
                "--expect",
                MOTO_FEDERATED_ID,
                MOTO_FEDERATED_SECRET,
                MOTO_FEDERATED_TOKEN,
            ],
        )
    }

    /// Accepts any complete session (the test compares what it got afterwards).
    fn start(env: &TestEnv, extra: &[&str]) -> Self {
        let log = env.path("standin.log");
        let mut child = Command::new(venv_bin("python"))
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/federation_standin.py"
            ))
            .arg("--log")
            .arg(&log)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the stand-in federation endpoint");
        let mut port = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut port)
            .expect("its port");
        let port = port.trim();
        assert!(!port.is_empty(), "the stand-in did not start");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Each request it got, as it logged it.
    fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sign-in URL the stand-in at `standin` leads to, for the console page `destination`
/// (already query-escaped) and its `n`th token.
fn login_url(standin: &Standin, destination: &str, n: u32) -> String {
    format!(
        "{}/federation?Action=login&Issuer=awskeep&Destination={destination}&SigninToken=standin-token-{n}",
        standin.url
    )
}

const S3_IN_EU_WEST_1: &str =
    "https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fs3%3Fregion%3Deu-west-1";

/// A keyring and profile dev holding a key of a new moto user allowed GetFederationToken.
fn setup() -> (TestEnv, TestKey) {
    let env = TestEnv::new();
    let key = Moto::connect().new_user_allowed("login", &["sts:GetFederationToken"]);
    env.add("dev", &key, &[]).assert_ok();
    (env, key)
}

#[test]
fn login_stdout_prints_one_sign_in_url_carrying_the_token_the_endpoint_gave_for_moto_s_federation_session()
 {
    let (env, _key) = setup();
    let standin = Standin::for_moto_federation(&env);
    env.expect([
        "login",
        "dev",
        "--stdout",
        "--region",
        "eu-west-1",
        "--path",
        "/s3",
    ])
    .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
    .stdout(&format!("{}\n", login_url(&standin, S3_IN_EU_WEST_1, 1)))
    .stderr("")
    .run();
    let requests = standin.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["action"], "getSigninToken");
    assert_eq!(requests[0]["accepted"], true, "{requests:?}");
    assert_eq!(
        requests[0]["session_duration"],
        serde_json::Value::Null,
        "AWS takes no SessionDuration for a GetFederationToken session"
    );
}

#[test]
fn login_verbose_explains_its_steps_without_the_token_or_the_session_s_secret() {
    let (env, _key) = setup();
    let standin = Standin::for_moto_federation(&env);
    let run = env
        .expect(["-v", "login", "dev", "--stdout"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
        .stderr_contains("asking sts:GetFederationToken for federated user login-")
        .stderr_contains(&format!(
            "asking the federation endpoint {} for a sign-in token",
            standin.url
        ))
        .run();
    for secret in [
        "standin-token-1",
        MOTO_FEDERATED_SECRET,
        MOTO_FEDERATED_TOKEN,
        "SigninToken",
    ] {
        assert!(!run.stderr.contains(secret), "{secret} in: {}", run.stderr);
    }
    assert_eq!(
        run.stdout,
        format!(
            "{}\n",
            login_url(
                &standin,
                "https%3A%2F%2Fus-east-1.console.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Dus-east-1",
                1
            )
        )
    );
}

/// A folder holding an executable `xdg-open` that appends each of its arguments, one a line, to
/// `argv` (the test's browser).
fn fake_opener(env: &TestEnv, status: i32) -> (PathBuf, PathBuf) {
    let bin = env.path("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let argv = env.path("opener-argv");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\nexit {status}\n",
            argv.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, argv)
}

fn path_with(first: &Path) -> String {
    format!(
        "{}:{}",
        first.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn login_hands_the_url_to_xdg_open_alone_and_prints_nothing_of_it() {
    let (env, _key) = setup();
    let standin = Standin::for_moto_federation(&env);
    let (bin, argv) = fake_opener(&env, 0);
    env.expect([
        "login",
        "dev",
        "--region",
        "eu-west-1",
        "--destination",
        "s3",
    ])
    .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
    .env("PATH", &path_with(&bin))
    .stdout("")
    .stderr("awskeep: opened the AWS console as profile dev in your browser (xdg-open)\n")
    .run();
    let url = login_url(&standin, S3_IN_EU_WEST_1, 1);
    assert_eq!(
        std::fs::read_to_string(&argv).unwrap(),
        format!("{url}\n"),
        "the opener got the URL as its one argument"
    );
    // Nothing awskeep wrote under the test's root holds the token: only the opener's record does.
    let holders = env.files_containing("standin-token-1");
    assert_eq!(holders, [argv], "{holders:?}");
}

#[test]
fn login_without_an_opener_says_so_and_names_stdout() {
    let (env, _key) = setup();
    let standin = Standin::for_moto_federation(&env);
    let empty = env.path("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    env.expect(["login", "dev"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
        .env("PATH", &empty.display().to_string())
        .stdout("")
        .stderr("awskeep: cannot open the browser with xdg-open: it is not on PATH. Hint: print the sign-in URL instead and open it yourself: `awskeep login PROFILE --stdout` (the URL signs in whoever opens it: paste it only into your own browser).\n")
        .status(1)
        .run();
}

#[test]
fn login_says_when_the_opener_fails() {
    let (env, _key) = setup();
    let standin = Standin::for_moto_federation(&env);
    let (bin, _argv) = fake_opener(&env, 3);
    env.expect(["login", "dev"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
        .env("PATH", &path_with(&bin))
        .stdout("")
        .stderr("awskeep: cannot open the browser with xdg-open: it failed (exit status: 3). Hint: print the sign-in URL instead and open it yourself: `awskeep login PROFILE --stdout` (the URL signs in whoever opens it: paste it only into your own browser).\n")
        .status(1)
        .run();
}

#[test]
fn login_of_a_profile_without_a_key_is_the_usual_one_line_error() {
    let env = TestEnv::new();
    env.expect(["login", "nokey", "--stdout"])
        .stdout("")
        .stderr("awskeep: no key is stored for profile \"nokey\" in the Secret Service. Hint: run `awskeep add nokey` to store a key for it.\n")
        .status(3)
        .run();
}

#[test]
fn login_duration_outside_what_the_console_takes_is_a_usage_error() {
    let env = TestEnv::without_keyring();
    for duration in ["13h", "10m"] {
        env.expect(["login", "dev", "--duration", duration])
            .stdout("")
            .stderr(&format!("awskeep: invalid value '{duration}' for '--duration <DURATION>': a console session lasts 15m to 12h, what AWS allows. Hint: see `awskeep login --help`.\n"))
            .status(2)
            .run();
    }
}

#[test]
fn login_refused_by_aws_says_why_and_that_a_role_profile_keeps_the_mfa() {
    let env = TestEnv::new();
    // A user with no policy: moto's auth refuses its GetFederationToken.
    let key = Moto::connect().new_user_with_key("nologin");
    env.add(
        "dev",
        &key,
        &["--mfa-serial", "arn:aws:iam::123456789012:mfa/dev"],
    )
    .assert_ok();
    let standin = Standin::for_moto_federation(&env);
    let run = env
        .expect(["login", "dev", "--stdout"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
        .stdout("")
        .stderr_contains("awskeep: note: a console session of profile dev's key carries no MFA")
        .stderr_contains("awskeep: AWS refused sts:GetFederationToken, which `login` needs for profile \"dev\" (AccessDenied")
        .stderr_contains("Hint: a GetFederationToken session carries no MFA (STS takes no code for it), so a policy that requires MFA refuses it; sign in through a role profile, which keeps dev's MFA session: `awskeep add-role NAME --role-arn ARN --source-profile dev`, then `awskeep login NAME`.\n")
        .status(5)
        .run();
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
    assert!(
        standin.requests().is_empty(),
        "nothing reached the endpoint"
    );
}

#[test]
fn login_of_a_role_profile_signs_in_with_its_cached_role_session_and_the_console_duration() {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAAWSKEEPLOGINKEY1\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .assert_ok();
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
    assert_eq!(moto.assume_role_calls(), 1);
    let standin = Standin::start(&env, &[]);
    env.expect(["login", "prod", "--stdout", "--duration", "2h"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
        .stdout(&format!(
            "{}\n",
            login_url(
                &standin,
                "https%3A%2F%2Fus-east-1.console.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Dus-east-1",
                1
            )
        ))
        .stderr("")
        .run();
    assert_eq!(
        moto.assume_role_calls(),
        1,
        "the cached role session, no new AssumeRole"
    );
    let requests = standin.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["session_duration"], "7200");
    let served = env.run(&["export", "prod", "--format", "json"], "");
    served.assert_ok();
    let served: serde_json::Value = serde_json::from_str(&served.stdout).unwrap();
    assert_eq!(
        requests[0]["session"],
        serde_json::json!({
            "sessionId": served["AccessKeyId"],
            "sessionKey": served["SecretAccessKey"],
            "sessionToken": served["SessionToken"],
        }),
        "the endpoint got the role session awskeep serves"
    );
}

#[test]
fn login_says_when_the_federation_endpoint_refuses_the_session_or_cannot_be_reached() {
    let (env, _key) = setup();
    // A stand-in that expects another session answers 400.
    let standin = Standin::start(&env, &["--expect", "ASIAOTHER", "x", "y"]);
    env.expect(["login", "dev", "--stdout"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &standin.url)
        .stdout("")
        .stderr(&format!("awskeep: the AWS federation endpoint {} gave no sign-in token: it answered HTTP 400. Hint: run `awskeep login` again in a moment (AWS may take a few seconds to accept a session it just issued).\n", standin.url))
        .status(5)
        .run();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    env.expect(["login", "dev", "--stdout"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", &closed)
        .stdout("")
        .stderr(&format!("awskeep: cannot reach AWS sign-in at {closed}: connection failed. Hint: check the network (or AWS_ENDPOINT_URL) and try again.\n"))
        .status(6)
        .run();
    env.expect(["login", "dev", "--stdout"])
        .env("AWSKEEP_FEDERATION_ENDPOINT", "http://example.com")
        .stdout("")
        .stderr("awskeep: the environment variable AWSKEEP_FEDERATION_ENDPOINT is invalid: plain http:// is only for 127.0.0.1 or localhost (the sign-in request carries a session's secret). Hint: fix or unset the environment variable AWSKEEP_FEDERATION_ENDPOINT.\n")
        .status(1)
        .run();
}
