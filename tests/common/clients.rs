//! The real AWS clients, run as a user's machine runs them: each resolves a profile through
//! ~/.aws/config (and so through awskeep's credential_process) and prints the caller's ARN.

use std::path::PathBuf;

use super::{Run, TestEnv, required_env, run_with_stdin};

#[derive(Clone, Copy, Debug)]
pub enum Client {
    AwsCli,
    Boto3,
    JsSdk,
    RustSdk,
}

pub fn venv_bin(name: &str) -> PathBuf {
    PathBuf::from(required_env("AWSKEEP_TEST_VENV"))
        .join("bin")
        .join(name)
}

/// Runs `client`'s GetCallerIdentity with `profile`, as a user's program would.
pub fn caller_arn(env: &TestEnv, client: Client, profile: &str) -> Run {
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
    };
    // The SDKs hand the helper a stdin of their own; ours is an empty pipe like a CI job's.
    command.current_dir(env.root.path());
    run_with_stdin(command, "")
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
