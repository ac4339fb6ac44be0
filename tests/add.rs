//! `awskeep add`: every way a key comes in, every refusal, and that a refusal leaves the config
//! file, the credentials file and the store exactly as they were.

use crate::common;

use common::{Moto, TestEnv, run_with_stdin};

const AWSKEEP: &str = env!("CARGO_BIN_EXE_awskeep");

fn process_line(profile: &str) -> String {
    let program = std::fs::canonicalize(AWSKEEP).unwrap();
    format!(
        "{} credential-process --profile {profile}",
        program.display()
    )
}

fn served_key_id(env: &TestEnv, profile: &str) -> String {
    let run = env.run(&["credential-process", "--profile", profile], "");
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("credential JSON");
    json["AccessKeyId"].as_str().unwrap().to_string()
}

#[test]
fn add_appends_one_section_and_keeps_every_other_byte() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let before = "# team settings\r\n[default]\r\nregion = eu-west-1 # home region\r\n\r\n; SSO\r\n[sso-session corp]\r\nsso_region = us-east-1\r\n[profile ci]\r\nregion = us-west-2\r\ns3 =\r\n  max_concurrent_requests = 20\r\n";
    env.write_config(before);
    set_mode(&env.config_path(), 0o640);
    let key = moto.new_user_with_key("bytes");
    env.add("dev", &key, &[]).assert_ok();
    let expected = format!(
        "{before}\r\n[profile dev]\r\ncredential_process = {}\r\nregion = us-east-1\r\n",
        process_line("dev")
    );
    assert_eq!(env.read_config(), expected);
    assert_eq!(
        mode(&env.config_path()),
        0o640,
        "an existing file keeps its mode"
    );
}

#[test]
fn add_creates_a_private_config_and_stores_the_key_where_libsecret_finds_it() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("fresh");
    let run = env.add("dev", &key, &[]);
    run.assert_ok();
    assert!(
        run.stdout.is_empty(),
        "add prints nothing on stdout: {}",
        run.stdout
    );
    assert!(run.stderr.contains(&key.arn), "{}", run.stderr);
    assert_eq!(
        env.read_config(),
        format!(
            "[profile dev]\ncredential_process = {}\nregion = us-east-1\n",
            process_line("dev")
        )
    );
    assert_eq!(mode(&env.config_path()), 0o600);
    let item = env
        .secret_tool_lookup("dev")
        .expect("item in the Secret Service");
    let item: serde_json::Value = serde_json::from_str(&item).unwrap();
    assert_eq!(item["access_key_id"], key.id.as_str());
    assert_eq!(item["arn"], key.arn.as_str());
    assert_eq!(served_key_id(&env, "dev"), key.id);
}

#[test]
fn add_reads_credential_process_json_from_stdin() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("json");
    // The shape `aws configure export-credentials` prints.
    let json = format!(
        "{{\n  \"Version\": 1,\n  \"AccessKeyId\": \"{}\",\n  \"SecretAccessKey\": \"{}\"\n}}\n",
        key.id, key.secret
    );
    env.run(&["add", "dev"], &json).assert_ok();
    assert_eq!(served_key_id(&env, "dev"), key.id);
}

#[test]
fn add_reads_the_console_csv_files() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("csv");
    let csv = env.path("accessKeys.csv");
    std::fs::write(
        &csv,
        format!(
            "\u{feff}Access key ID,Secret access key\r\n{},{}\r\n",
            key.id, key.secret
        ),
    )
    .unwrap();
    let run = env.run(&["add", "dev", "--csv", csv.to_str().unwrap()], "");
    run.assert_ok();
    assert!(
        run.stderr.contains("still holds the secret"),
        "{}",
        run.stderr
    );
    assert_eq!(served_key_id(&env, "dev"), key.id);

    let other = moto.new_user_with_key("newuser");
    let csv = env.path("new_user_credentials.csv");
    std::fs::write(
        &csv,
        format!("\u{feff}User name,Password,Access key ID,Secret access key,Console login link\n{},,{},{},https://123456789012.signin.aws.amazon.com/console\n", other.user, other.id, other.secret),
    )
    .unwrap();
    env.run(&["add", "ops", "--csv", csv.to_str().unwrap()], "")
        .assert_ok();
    assert_eq!(served_key_id(&env, "ops"), other.id);
}

#[test]
fn re_adding_asks_and_force_replaces() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let first = moto.new_user_with_key("first");
    let second = moto.new_user_with_key("second");
    env.add("dev", &first, &[]).assert_ok();
    let config = env.read_config();

    env.add("dev", &second, &[]).assert_fails(2, "--force");
    assert_eq!(
        served_key_id(&env, "dev"),
        first.id,
        "the old key is still served"
    );
    assert_eq!(env.read_config(), config);

    env.add("dev", &second, &["--force"]).assert_ok();
    assert_eq!(served_key_id(&env, "dev"), second.id);
    assert_eq!(env.read_config(), config, "the same line, not a second one");
}

fn shared_warning(profile: &str, holders: &str, them: &str) -> String {
    format!(
        "awskeep: warning: key AKIA…MPLE of profile {profile} is also stored as {holders}. A key two profiles hold cannot be rotated (rotating it for one would break {them}: `awskeep rotate` refuses it), and `awskeep remove` leaves it in IAM while another profile holds it. Keep one profile per key (`awskeep remove NAME`), or give each its own key.\n"
    )
}

/// A key another profile already holds is stored (two names for one key may be meant), with a
/// warning at once naming that profile and what sharing means, not only at a later `list`; import
/// (which adds through add) warns too. A key no other profile holds, or the profile's own key
/// added again, gets none.
#[test]
fn adding_a_key_another_profile_holds_warns_naming_it() {
    let env = TestEnv::new();
    let key = "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n";
    let run = env.run(&["add", "a", "--no-verify"], key);
    run.assert_ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let run = env.run(&["add", "a", "--no-verify", "--force"], key);
    run.assert_ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    let run = env.run(&["add", "b", "--no-verify"], key);
    run.assert_ok();
    let warning = shared_warning("b", "profile a", "the other");
    assert!(
        run.stderr.contains(&warning),
        "{warning}in:\n{}",
        run.stderr
    );
    assert_eq!(
        served_key_id(&env, "b"),
        "AKIAIOSFODNN7EXAMPLE",
        "stored anyway"
    );

    let run = env.run(
        &["add", "c", "--no-verify"],
        "AKIAI44QH8DHBEXAMPLE\nsecretsecret\n",
    );
    run.assert_ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    let csv = env.path("d.csv");
    std::fs::write(
        &csv,
        "Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,secretsecret\n",
    )
    .unwrap();
    let run = env.run(
        &[
            "import",
            "--csv",
            csv.to_str().unwrap(),
            "--profile",
            "d",
            "--no-verify",
        ],
        "",
    );
    run.assert_ok();
    let warning = shared_warning("d", "profiles a, b", "the others");
    assert!(
        run.stderr.contains(&warning),
        "{warning}in:\n{}",
        run.stderr
    );
}

#[test]
fn keys_in_the_credentials_file_are_refused_with_the_fix() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("plain");
    let credentials = format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.id, key.secret
    );
    env.write_credentials(&credentials);
    let run = env.add("dev", &key, &[]);
    run.assert_fails(1, "would win over awskeep");
    assert!(
        run.stderr
            .contains("`awskeep migrate dev` moves them into the keychain in one step"),
        "names the fix: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(&key.secret));
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        credentials
    );
    assert!(!env.config_path().exists());
    assert_eq!(env.secret_tool_lookup("dev"), None);

    // The fix the hint names works as said (`--yes` answers its question without a terminal).
    env.run(&["migrate", "dev", "--yes"], "").assert_ok();
    assert!(
        !std::fs::read_to_string(env.credentials_path())
            .unwrap()
            .contains(&key.secret)
    );
    assert!(env.secret_tool_lookup("dev").is_some());
}

#[test]
fn a_profile_with_another_credential_source_is_refused() {
    let env = TestEnv::new();
    let config =
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n";
    env.write_config(config);
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecret\n",
    )
    .assert_fails(1, "role_arn");
    assert_eq!(env.read_config(), config);
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

#[test]
fn a_rejected_key_is_not_stored() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let mut key = moto.new_user_with_key("wrong");
    key.secret = format!("{}x", &key.secret[..key.secret.len() - 1]);
    env.add("dev", &key, &[])
        .assert_fails(5, "AWS rejected the key");
    assert!(!env.config_path().exists());
    assert_eq!(env.secret_tool_lookup("dev"), None);

    let deleted = moto.new_user_with_key("deleted");
    moto.delete_key(&deleted);
    env.add("dev", &deleted, &[])
        .assert_fails(5, "AWS rejected the key");
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

#[test]
fn a_network_failure_stores_nothing_and_no_verify_works_offline() {
    let env = TestEnv::new();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let mut command = env.awskeep();
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    command
        .args(["add", "dev"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    run_with_stdin(command, key).assert_fails(6, "cannot reach AWS STS");
    assert!(!env.config_path().exists());
    assert_eq!(env.secret_tool_lookup("dev"), None);

    let mut command = env.awskeep();
    command
        .args(["add", "dev", "--no-verify"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    run_with_stdin(command, key).assert_ok();
    assert_eq!(served_key_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");
}

#[test]
fn a_malformed_config_is_reported_and_left_untouched() {
    let env = TestEnv::new();
    let config = "[profile a]\nregion = us-east-1\nthis line is broken\n";
    env.write_config(config);
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecret\n",
    )
    .assert_fails(1, "config:3");
    assert_eq!(env.read_config(), config);
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

#[test]
fn profile_names_that_could_break_the_file_are_refused() {
    let env = TestEnv::new();
    for name in ["a]b", "a b", "a\nb", "a#b", "[x", "a;b", ""] {
        let run = env.run(
            &["add", name, "--no-verify"],
            "AKIAIOSFODNN7EXAMPLE\nsecret\n",
        );
        assert_eq!(run.code(), 2, "{name:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("profile name") || run.stderr.contains("invalid value"),
            "{name:?}: {}",
            run.stderr
        );
    }
    assert!(!env.config_path().exists());
    env.run(&["credential-process", "--profile=-x"], "")
        .assert_fails(2, "would read as an option");
}

#[test]
fn bad_stdin_is_refused_without_echoing_it() {
    let env = TestEnv::new();
    for input in [
        "",
        "only-one-line\n",
        "AKIAIOSFODNN7EXAMPLE\nsecret with spaces\n",
        "{\"Version\":1,",
    ] {
        let run = env.run(&["add", "dev", "--no-verify"], input);
        assert_eq!(run.code(), 2, "{input:?}: {}", run.stderr);
        assert!(!run.stderr.contains("secret with spaces"));
    }
    assert!(!env.config_path().exists());
}

/// Protects the README's exit-code table: a temporary key (ASIA..., or JSON with a SessionToken) on
/// stdin is bad input on stdin, exit 2, and nothing is written.
#[test]
fn a_temporary_key_on_stdin_is_bad_input_exit_2() {
    let env = TestEnv::new();
    let json = "{\"Version\":1,\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\"}";
    let lines = "ASIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    for input in [json, lines] {
        env.run(&["add", "dev", "--no-verify"], input)
            .assert_fails(2, "temporary credentials");
    }
    assert!(!env.config_path().exists());
}

#[test]
fn credential_process_prints_only_json_and_never_reads_stdin() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("hot");
    env.add("dev", &key, &[]).assert_ok();

    // JS and Java give the helper a pipe that is never closed: awskeep must not wait on it.
    let mut command = env.awskeep();
    command
        .args(["credential-process", "--profile", "dev"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let _open_stdin = child.stdin.take();
    let run = common::wait_for(child, std::time::Duration::from_secs(20));
    run.assert_ok();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["AccessKeyId"], key.id.as_str());
    assert_eq!(json["SecretAccessKey"], key.secret.as_str());
    assert_eq!(json["AccountId"], "123456789012");
    // A long-term key carries its lease (docs/CLIENTS.md, "Rotation reaches running programs"), never a SessionToken.
    assert!(json.get("SessionToken").is_none(), "{json}");
    let expiration = humantime::parse_rfc3339(json["Expiration"].as_str().unwrap()).unwrap();
    let left = expiration
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(
        left > std::time::Duration::from_secs(59 * 60)
            && left <= std::time::Duration::from_secs(3600),
        "an hour's lease: {json}"
    );

    // Without --profile: AWS_PROFILE, as the SDKs set it.
    let mut command = env.awskeep();
    command.arg("credential-process").env("AWS_PROFILE", "dev");
    let run = run_with_stdin(command, "");
    run.assert_ok();
    assert!(run.stdout.contains(&key.id));
}

#[test]
fn credential_process_for_an_unknown_profile_names_the_fix() {
    let env = TestEnv::new();
    env.run(&["credential-process", "--profile", "nope"], "")
        .assert_fails(3, "awskeep add nope");
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
