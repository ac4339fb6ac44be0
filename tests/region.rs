//! The first hour in a shell without AWS_REGION or AWS_DEFAULT_REGION: `add`, `bootstrap` and
//! `migrate` write the region they know of into the profile (and say where it came from), keep one
//! the profile has, and the `aws ...` command they suggest works exactly as printed with the real AWS
//! CLI v1 (which reads AWS_DEFAULT_REGION, never AWS_REGION) and boto3.

use crate::common;

use common::clients::{Client, caller_arn, venv_bin};
use common::{Moto, Run, TestEnv, TestKey, run_with_stdin};

const AWSKEEP: &str = env!("CARGO_BIN_EXE_awskeep");

fn process_line(profile: &str) -> String {
    let program = std::fs::canonicalize(AWSKEEP).unwrap();
    format!(
        "{} credential-process --profile {profile}",
        program.display()
    )
}

fn masked(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

/// `add`'s first line for `key` stored as `profile`.
fn stored_line(key: &TestKey, profile: &str) -> String {
    format!(
        "Stored key {} of {} (account 123456789012) in the Secret Service as profile {profile}; $HOME/.aws/config now runs awskeep for it.\n",
        masked(&key.id),
        key.arn
    )
}

/// A user whose key may read its own creation date (iam:ListAccessKeys), so `add` says nothing
/// about that and its stderr can be pinned exactly.
fn user_with_key(moto: &Moto, hint: &str) -> TestKey {
    moto.new_user_allowed(hint, &["iam:ListAccessKeys"])
}

fn stdin_for(key: &TestKey) -> String {
    format!("{}\n{}\n", key.id, key.secret)
}

/// Runs the line awskeep printed after `prefix` (`Try: `, `Next: `) word for word, with the AWS CLI
/// v1 of the test venv as `aws`; it must succeed as `key`'s owner.
#[track_caller]
fn run_as_printed(env: &TestEnv, stderr: &str, prefix: &str, key: &TestKey) -> String {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in: {stderr}"));
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("aws"), "{line}");
    let mut command = env.command(venv_bin("aws"));
    command.args(words);
    let run = run_with_stdin(command, "");
    assert!(
        run.status.success() && run.stdout.contains(&key.arn),
        "`{line}` does not work as printed: {run:?}"
    );
    line.to_string()
}

fn aws_cli(env: &TestEnv, args: &[&str]) -> Run {
    let mut command = env.command(venv_bin("aws"));
    command.args(args);
    run_with_stdin(command, "")
}

#[track_caller]
fn boto3_works(env: &TestEnv, profile: &str, key: &TestKey) {
    let run = caller_arn(env, Client::Boto3, profile);
    assert_eq!(run.stdout.trim(), key.arn, "boto3: {run:?}");
}

#[test]
fn add_with_no_region_anywhere_says_how_to_set_one_and_its_suggestion_names_one() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    let key = user_with_key(&moto, "no-region");
    let expected_stderr = format!(
        "{}Profile dev has no region, which the AWS CLI and SDKs need unless AWS_DEFAULT_REGION is set: set one with `aws configure set region REGION --profile dev`.\nTry: aws sts get-caller-identity --profile dev --region us-east-1\n",
        stored_line(&key, "dev")
    );
    let run = env
        .expect(["add", "dev"])
        .stdin(&stdin_for(&key))
        .stdout("")
        .stderr(&expected_stderr)
        .run();
    assert_eq!(
        env.read_config(),
        format!(
            "[profile dev]\ncredential_process = {}\n",
            process_line("dev")
        )
    );
    run_as_printed(&env, &run.stderr, "Try: ", &key);
    // What the suggestion said before: the environment really has no region for the AWS CLI.
    let bare = aws_cli(&env, &["sts", "get-caller-identity", "--profile", "dev"]);
    assert!(
        !bare.status.success() && bare.stderr.contains("You must specify a region"),
        "{bare:?}"
    );
}

#[test]
fn add_writes_the_region_flag_and_the_clients_need_no_environment() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    let key = user_with_key(&moto, "region-flag");
    let expected_stderr = format!(
        "{}Wrote region = eu-west-1 to profile dev (from --region).\nTry: aws sts get-caller-identity --profile dev\n",
        stored_line(&key, "dev")
    );
    let run = env
        .expect(["add", "dev", "--region", "eu-west-1"])
        .stdin(&stdin_for(&key))
        .stderr(&expected_stderr)
        .run();
    assert_eq!(
        env.read_config(),
        format!(
            "[profile dev]\ncredential_process = {}\nregion = eu-west-1\n",
            process_line("dev")
        )
    );
    run_as_printed(&env, &run.stderr, "Try: ", &key);
    boto3_works(&env, "dev", &key);
}

/// The shell: AWS_REGION set (the Rust and JS SDKs read it), AWS_DEFAULT_REGION not (the AWS
/// CLI v1 and boto3 read only that one).
#[test]
fn add_copies_aws_region_into_the_profile_for_the_aws_cli_v1() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    let key = user_with_key(&moto, "env-region");
    let run = env
        .expect(["add", "dev"])
        .env("AWS_REGION", "eu-west-2")
        .stdin(&stdin_for(&key))
        .stderr(&format!(
            "{}Wrote region = eu-west-2 to profile dev (from AWS_REGION / AWS_DEFAULT_REGION).\nTry: aws sts get-caller-identity --profile dev\n",
            stored_line(&key, "dev")
        ))
        .run();
    assert!(env.read_config().ends_with("\nregion = eu-west-2\n"));
    run_as_printed(&env, &run.stderr, "Try: ", &key);
    boto3_works(&env, "dev", &key);
}

#[test]
fn add_copies_the_default_profiles_region() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    env.write_config("[default]\nregion = eu-central-1\n");
    let key = user_with_key(&moto, "default-region");
    let run = env
        .expect(["add", "dev"])
        .stdin(&stdin_for(&key))
        .stderr(&format!(
            "{}Wrote region = eu-central-1 to profile dev (from [default]).\nTry: aws sts get-caller-identity --profile dev\n",
            stored_line(&key, "dev")
        ))
        .run();
    assert_eq!(
        env.read_config(),
        format!(
            "[default]\nregion = eu-central-1\n\n[profile dev]\ncredential_process = {}\nregion = eu-central-1\n",
            process_line("dev")
        )
    );
    run_as_printed(&env, &run.stderr, "Try: ", &key);
    boto3_works(&env, "dev", &key);
}

#[test]
fn add_keeps_the_region_the_profile_has_and_says_so() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    env.write_config("[profile dev]\nregion = eu-west-1\n");
    let key = user_with_key(&moto, "kept-region");
    let run = env
        .expect(["add", "dev", "--region", "us-west-2"])
        .stdin(&stdin_for(&key))
        .stderr(&format!(
            "{}Profile dev keeps its region eu-west-1; --region us-west-2 was used for this command only.\nTry: aws sts get-caller-identity --profile dev\n",
            stored_line(&key, "dev")
        ))
        .run();
    assert_eq!(
        env.read_config(),
        format!(
            "[profile dev]\nregion = eu-west-1\ncredential_process = {}\n",
            process_line("dev")
        )
    );
    run_as_printed(&env, &run.stderr, "Try: ", &key);
}

#[test]
fn bootstrap_writes_the_source_profiles_region_and_its_next_step_works() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    let admin = moto.new_admin_with_key("bs-region");
    env.add("admin", &admin, &["--region", "ap-southeast-2"])
        .assert_ok();
    let run = env
        .expect([
            "bootstrap",
            "--profile",
            "dev",
            "--source-profile",
            "admin",
            "--yes",
        ])
        .stderr_contains(
            "Wrote region = ap-southeast-2 to profile dev (from profile admin, the --source-profile).\n",
        )
        .stderr_contains("\nNext: aws sts get-caller-identity --profile dev\n")
        .run();
    assert!(
        env.read_config()
            .ends_with("credential-process --profile dev\nregion = ap-southeast-2\n"),
        "{}",
        env.read_config()
    );
    run_as_printed(&env, &run.stderr, "Next: ", &admin);
    boto3_works(&env, "dev", &admin);
}

#[test]
fn bootstrap_with_no_region_anywhere_names_one_in_its_next_step() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    let admin = moto.new_admin_with_key("bs-no-region");
    let run = env
        .expect(["bootstrap", "--profile", "dev", "--yes"])
        .env("AWS_ACCESS_KEY_ID", &admin.id)
        .env("AWS_SECRET_ACCESS_KEY", &admin.secret)
        .stderr_contains("Profile dev has no region")
        .stderr_contains("\nNext: aws sts get-caller-identity --profile dev --region us-east-1\n")
        .run();
    assert_eq!(
        env.read_config(),
        format!(
            "[profile dev]\ncredential_process = {}\n",
            process_line("dev")
        )
    );
    run_as_printed(&env, &run.stderr, "Next: ", &admin);
}

#[test]
fn migrate_writes_the_region_flag_where_none_is_and_keeps_a_plaintext_sections_region() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    env.without_region();
    let (a, b) = (
        moto.new_user_with_key("mig-region-a"),
        moto.new_user_with_key("mig-region-b"),
    );
    env.write_credentials(&format!(
        "[a]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = sa-east-1\n\n[b]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        a.id, a.secret, b.id, b.secret
    ));
    let run = env
        .expect(["migrate", "--region", "eu-west-1", "--yes"])
        .stderr_contains(&format!(
            "  migrated a ({})\n    Profile a keeps its region sa-east-1; --region eu-west-1 was used for this command only.\n",
            a.arn
        ))
        .stderr_contains(&format!(
            "  migrated b ({})\n    Wrote region = eu-west-1 to profile b (from --region).\n",
            b.arn
        ))
        .stderr_contains("\nTry: aws sts get-caller-identity --profile a\n")
        .run();
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        "[a]\nregion = sa-east-1\n"
    );
    assert_eq!(
        env.read_config(),
        format!(
            "[profile a]\ncredential_process = {}\n\n[profile b]\ncredential_process = {}\nregion = eu-west-1\n",
            process_line("a"),
            process_line("b")
        )
    );
    run_as_printed(&env, &run.stderr, "Try: ", &a);
    let b_line = aws_cli(&env, &["sts", "get-caller-identity", "--profile", "b"]);
    assert!(b_line.stdout.contains(&b.arn), "{b_line:?}");
    boto3_works(&env, "a", &a);
    boto3_works(&env, "b", &b);
}
