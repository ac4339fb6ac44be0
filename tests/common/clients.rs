//! The real AWS clients, run as a user's machine runs them: each resolves a profile through
//! ~/.aws/config (and so through awskeep's credential_process) and prints the caller's ARN.
//! The programs for the Go, Ruby, CRT and PHP clients are in tests/clients/; `scripts/test` builds
//! the Go ones into AWSKEEP_TEST_CLIENTS_BIN.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Run, TestEnv, required_env, run_with_stdin};

#[derive(Clone, Copy, Debug)]
pub enum Client {
    AwsCli,
    Boto3,
    JsSdk,
    RustSdk,
    /// aws-sdk-go v1 (Debian's 1.44), as terraform's AWS provider up to 5.26 runs it.
    GoV1,
    /// aws-sdk-go-v2 (Debian's 1.17), with the INI parser it had before late 2023.
    GoV2,
    /// aws-sdk-core (Debian's Ruby SDK v3).
    Ruby,
    /// aws-c-auth through awscrt's `new_process` (the CLI v2's CRT paths, Mountpoint).
    Crt,
    /// The PHP SDK v3's credential_process provider, transcribed (tests/clients/php/whoami.php).
    Php,
}

impl Client {
    /// Every client that runs on this machine, in the order the matrix reports them.
    pub const ALL: [Client; 9] = [
        Client::AwsCli,
        Client::Boto3,
        Client::JsSdk,
        Client::RustSdk,
        Client::GoV1,
        Client::GoV2,
        Client::Ruby,
        Client::Crt,
        Client::Php,
    ];
}

/// A program under tests/clients/.
fn client_source(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(relative)
}

/// A Go client `scripts/test` built.
pub fn go_client(name: &str) -> PathBuf {
    let path = PathBuf::from(required_env("AWSKEEP_TEST_CLIENTS_BIN")).join(name);
    assert!(
        path.exists(),
        "{} is missing: scripts/test builds it",
        path.display()
    );
    path
}

pub fn venv_bin(name: &str) -> PathBuf {
    PathBuf::from(required_env("AWSKEEP_TEST_VENV"))
        .join("bin")
        .join(name)
}

/// Runs `client`'s GetCallerIdentity with `profile`, as a user's program would.
pub fn caller_arn(env: &TestEnv, client: Client, profile: &str) -> Run {
    // The SDKs hand the helper a stdin of their own; ours is an empty pipe like a CI job's.
    run_with_stdin(client_command(env, client, profile), "")
}

/// The command that runs `client`'s GetCallerIdentity with `profile`, in the temp root.
pub fn client_command(env: &TestEnv, client: Client, profile: &str) -> Command {
    let mut command = match client {
        Client::AwsCli => {
            let mut c = env.command(venv_bin("aws"));
            c.args([
                "sts",
                "get-caller-identity",
                "--profile",
                profile,
                "--query",
                "Arn",
                "--output",
                "text",
            ]);
            c
        }
        Client::Boto3 => {
            let mut c = env.command(venv_bin("python"));
            c.args([
                "-c",
                "import sys, boto3; print(boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])",
                profile,
            ]);
            c
        }
        Client::JsSdk => {
            let js = PathBuf::from(required_env("AWSKEEP_TEST_JS_DIR"));
            let mut c = env.command("node");
            c.arg("--no-warnings")
                .arg(js.join("whoami.mjs"))
                .env("AWS_PROFILE", profile);
            c
        }
        Client::RustSdk => {
            let mut c = env.command(rust_client());
            c.env("AWS_PROFILE", profile);
            c
        }
        Client::GoV1 | Client::GoV2 => {
            let name = match client {
                Client::GoV1 => "whoami-go-v1",
                _ => "whoami-go-v2",
            };
            let mut c = env.command(go_client(name));
            c.env("AWS_PROFILE", profile);
            c
        }
        Client::Ruby => {
            let mut c = env.command("ruby");
            c.arg(client_source("ruby/whoami.rb"))
                .env("AWS_PROFILE", profile);
            c
        }
        Client::Crt => {
            let mut c = env.command(venv_bin("python"));
            c.arg(client_source("crt/whoami.py")).arg(profile);
            c
        }
        Client::Php => {
            let mut c = env.command("php");
            c.arg(client_source("php/whoami.php"))
                .env("AWS_PROFILE", profile);
            c
        }
    };
    command.current_dir(env.root.path());
    command
}

/// The `sdk_whoami` example, which `cargo test` builds beside the test binaries.
fn rust_client() -> PathBuf {
    let deps = std::env::current_exe().expect("test exe");
    let example = deps
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("examples/sdk_whoami");
    assert!(
        example.exists(),
        "{} is missing: build it with `cargo build --examples`",
        example.display()
    );
    example
}

/// A boto3 program that keeps running: each line on its stdin makes one GetCallerIdentity and
/// prints the expiry of the credentials it signed with. botocore's advisory window is widened past
/// a session's whole life, so it asks its provider before every call and each call shows what is
/// served now. (awskeep refuses sessions short enough to put a real client in that state:
/// tests/sessions.rs.)
pub const BOTO3_CALL_PER_LINE: &str = "import sys, boto3, botocore.credentials\nbotocore.credentials.RefreshableCredentials._advisory_refresh_timeout = 13 * 3600\nsts = boto3.Session().client('sts')\nfor _ in sys.stdin:\n    sts.get_caller_identity()\n    print(sts._request_signer._credentials._expiry_time.isoformat(), flush=True)";

/// A running `BOTO3_CALL_PER_LINE` (directly, or as the command of an `awskeep exec`); killed
/// when dropped.
pub struct LongRunning {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl LongRunning {
    /// Starts `command` with stdin and stdout piped (stderr as `command` says).
    pub fn start(mut command: Command) -> Self {
        command.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = command.spawn().unwrap();
        LongRunning {
            input: child.stdin.take(),
            output: BufReader::new(child.stdout.take().unwrap()),
            child,
        }
    }

    /// One call; the expiry of the credentials it used.
    pub fn call(&mut self) -> String {
        let input = self.input.as_mut().expect("stdin open");
        input.write_all(b"\n").unwrap();
        input.flush().unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the client died");
        line.trim().to_string()
    }

    /// Two calls get the cached session of `dev`; after another awskeep drops it
    /// (`session clear`), the next call gets a new one. Returns the first and the new expiry.
    pub fn gets_a_new_session_after_session_clear(
        &mut self,
        env: &TestEnv,
        moto: &super::private_moto::PrivateMoto,
    ) -> (String, String) {
        let first = self.call();
        assert_eq!(self.call(), first, "the cached session, while it is fresh");
        assert_eq!(moto.session_token_calls(), 1);
        std::thread::sleep(Duration::from_millis(1100));
        env.run(&["session", "clear", "--profile", "dev"], "")
            .assert_ok();
        let second = self.call();
        assert_ne!(second, first);
        assert_eq!(moto.session_token_calls(), 2);
        (first, second)
    }

    /// Closes stdin (the program ends) and waits, at most 30 s, for the process to exit.
    pub fn finish(mut self) -> ExitStatus {
        drop(self.input.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "it did not end with its stdin");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LongRunning {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
