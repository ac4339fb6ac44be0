//! awskeep on Windows, run for real: the Windows build under Wine with the Windows Credential Manager,
//! against moto (auth enforced). Every command's job: add (verified with STS), credential-process,
//! list, session cache, bootstrap, rotate, migrate, remove; the Windows Rust SDK (which runs the line
//! with `cmd.exe /C`) and boto3 (botocore's Windows split) consume the JSON.

use crate::common;

use awskeep::process_line::windows_clients::{WindowsClient, runs};
use common::private_moto::PrivateMoto;
use common::wine::{WineEnv, windows_path};
use common::{Moto, Run};

fn credential_json(run: &Run) -> serde_json::Value {
    run.assert_ok();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

fn process_line(config: &str, profile: &str) -> String {
    let header = format!("[profile {profile}]");
    let section = config
        .split(&header)
        .nth(1)
        .unwrap_or_else(|| panic!("no {header} in {config}"));
    section
        .lines()
        .find_map(|l| l.strip_prefix("credential_process = "))
        .unwrap_or_else(|| panic!("no credential_process for {profile}: {config}"))
        .trim_end()
        .to_string()
}

#[test]
fn add_verifies_with_sts_and_the_rust_sdk_and_boto3_get_the_key() {
    let moto = Moto::connect();
    let env = WineEnv::new();
    let key = moto.new_user_with_key("win-add");
    let run = env.add("dev", &key, &[]);
    run.assert_ok();
    assert!(run.stderr.contains(&key.arn), "not verified: {run:?}");
    assert!(run.stderr.contains("Windows Credential Manager"), "{run:?}");

    let line = process_line(&env.read_config(), "dev");
    let exe = env.exe("awskeep.exe");
    assert_eq!(line, format!("{exe} credential-process --profile dev"));
    assert!(!line.contains(r"\\?\"), "verbatim path: {line}");

    let json = credential_json(&env.run(&["credential-process", "--profile", "dev"], ""));
    assert_eq!(json["AccessKeyId"], key.id.as_str());
    assert_eq!(json["Version"], 1);

    let rust = env.rust_sdk_arn("dev");
    assert_eq!(rust.stdout.trim(), key.arn, "Windows Rust SDK: {rust:?}");
    let boto3 = env.boto3_arn("dev");
    assert_eq!(
        boto3.stdout.trim(),
        key.arn,
        "boto3 (win32 split): {boto3:?}"
    );

    let list = env.run(&["list"], "");
    list.assert_ok();
    assert!(
        list.stdout.contains("dev") || list.stderr.contains("dev"),
        "{list:?}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    assert_eq!(listed[0]["profile"], "dev");
    assert_eq!(listed[0]["arn"], key.arn.as_str());
    assert_eq!(listed[0]["status"], "ok");

    // The item deleted behind awskeep's back: the SDK fails showing awskeep's own line.
    env.run(&["remove", "dev", "--yes"], "").assert_ok();
    let rust = env.rust_sdk_arn("dev");
    assert!(!rust.status.success(), "{rust:?}");
    let json = env.run(&["list", "--json"], "");
    assert_eq!(json.stdout.trim(), "[]", "{json:?}");
}

/// How each Windows client hands `line` to cmd.exe (examples/windows_client.rs builds exactly that
/// command line; Wine's cmd.exe decides), by the names `process_line::windows_clients` gives them.
const WINDOWS_CLIENTS: [(&str, WindowsClient); 4] = [
    ("cmd-unwrapped", WindowsClient::CmdUnwrapped),
    ("node", WindowsClient::Node),
    ("go", WindowsClient::Go),
    ("cmd-wrapped", WindowsClient::CmdWrapped),
];

fn run_as_client(env: &WineEnv, client: &str, line: &str) -> Run {
    let mut command = env.command(&env.exe("windows_client.exe"));
    command.args([client, line]);
    common::run_with_stdin(command, "")
}

/// awskeep.exe copied to `folder` (under the test's root, seen by Windows as `Z:\...`).
fn install_under(env: &WineEnv, folder: &str) -> String {
    let dir = env.root.path().join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["awskeep.exe", "bcryptprimitives.dll"] {
        std::fs::copy(env.bin.join(name), dir.join(name)).unwrap();
    }
    windows_path(&dir.join("awskeep.exe"))
}

/// An install path that needs quoting (`Program Files (x86)`, a user name with a space) is written
/// as its 8.3 short name, unquoted: .NET/C++/CRT (`cmd /c LINE`), Node (`/d /s /c "LINE"`), Go
/// (escaped quotes) and Rust/Java (`/C "LINE"`) all run it, and so do the Windows Rust SDK itself
/// and botocore's Windows split. The quoted form earlier versions wrote fails in Wine's cmd.exe
/// exactly where the model of cmd's documented `/C` rule says it does.
#[test]
fn a_path_that_needs_quotes_is_written_short_and_every_windows_client_runs_it() {
    let moto = Moto::connect();
    for folder in ["Program Files (x86)/awskeep", "Users/Ann Lee/bin"] {
        let env = WineEnv::new();
        let exe = install_under(&env, folder);
        let key = moto.new_user_with_key("win-short");
        let mut command = env.command(&exe);
        command.args(["add", "dev"]);
        let add = common::run_with_stdin(command, &format!("{}\n{}\n", key.id, key.secret));
        add.assert_ok();
        assert!(!add.stderr.contains("warning"), "{add:?}");
        let line = process_line(&env.read_config(), "dev");
        let program = line.split(' ').next().unwrap();
        assert!(
            !line.contains('"') && !program.contains(['(', ')']) && program.contains('~'),
            "{folder}: not the short form: {line}"
        );
        assert_eq!(
            line,
            format!("{program} credential-process --profile dev"),
            "{folder}"
        );
        for (name, _) in WINDOWS_CLIENTS {
            let run = run_as_client(&env, name, &line);
            let json = credential_json(&run);
            assert_eq!(json["AccessKeyId"], key.id.as_str(), "{folder} {name}");
        }
        let rust = env.rust_sdk_arn("dev");
        assert_eq!(rust.stdout.trim(), key.arn, "{folder} Rust SDK: {rust:?}");
        let boto3 = env.boto3_arn("dev");
        assert_eq!(boto3.stdout.trim(), key.arn, "{folder} botocore: {boto3:?}");
        let doctor = env.run(&["doctor", "dev", "--offline"], "");
        assert!(
            doctor.stdout.contains("ok    [dev] credential_process"),
            "{folder}: {doctor:?}"
        );

        // The quoted line of earlier versions: Wine's cmd.exe agrees with the model, client by client.
        let quoted = format!("\"{exe}\" credential-process --profile dev");
        let is_exe = |path: &str| path == exe;
        for (name, client) in WINDOWS_CLIENTS {
            let predicted = runs(client, &quoted, &exe, &is_exe);
            let run = run_as_client(&env, name, &quoted);
            assert_eq!(
                run.status.success() && run.stdout.contains(&key.id),
                predicted,
                "{folder} {name}: Wine's cmd.exe and the model disagree: {run:?}"
            );
        }
    }
}

#[test]
fn without_aws_config_file_the_config_is_the_users_profile_folder() {
    let moto = Moto::connect();
    let mut env = WineEnv::new();
    env.own_config_files = false;
    let key = moto.new_user_with_key("win-home");
    let run = env.add("dev", &key, &[]);
    run.assert_ok();
    let config = env.user_profile_dir().join(".aws").join("config");
    let text = std::fs::read_to_string(&config).expect("config in %USERPROFILE%\\.aws");
    assert!(text.contains("credential-process --profile dev"), "{text}");
    assert!(run.stderr.contains(r"\.aws\config"), "{run:?}");
    let rust = env.rust_sdk_arn("dev");
    assert_eq!(rust.stdout.trim(), key.arn, "{rust:?}");
}

/// Sessions need a moto without auth enforcement (its GetSessionToken credentials fail the auth
/// layer), behind the counting proxy the Linux session tests use.
#[test]
fn sessions_are_cached_in_the_credential_manager_and_cleared() {
    let moto = PrivateMoto::start();
    let mut env = WineEnv::new();
    env.endpoint = moto.url.clone();
    env.run(
        &["add", "dev", "--no-verify", "--session", "on"],
        "AKIAAWSKEEPTESTKEY01\nwindows/session/test/secret\n",
    )
    .assert_ok();
    let first = credential_json(&env.run(&["credential-process", "--profile", "dev"], ""));
    assert!(
        first["SessionToken"].is_string() && first["Expiration"].is_string(),
        "{first}"
    );
    assert_eq!(moto.session_token_calls(), 1);
    let second = credential_json(&env.run(&["credential-process", "--profile", "dev"], ""));
    assert_eq!(second["SessionToken"], first["SessionToken"]);
    assert_eq!(
        moto.session_token_calls(),
        1,
        "the cached session was not served"
    );
    let clear = env.run(&["session", "clear", "--all"], "");
    clear.assert_ok();
    assert!(clear.stderr.contains("dev"), "{clear:?}");
    credential_json(&env.run(&["credential-process", "--profile", "dev"], ""));
    assert_eq!(moto.session_token_calls(), 2, "the cache was not cleared");
}

#[test]
fn bootstrap_rotate_migrate_and_remove() {
    let moto = Moto::connect();
    let env = WineEnv::new();
    let admin = moto.new_admin_with_key("win-admin");
    env.add("admin", &admin, &[]).assert_ok();

    // bootstrap: a key for a new user, created through IAM straight into the Credential Manager.
    let user = moto.unique_name("win-boot");
    let run = env.run(
        &[
            "bootstrap",
            "--profile",
            "boot",
            "--user",
            &user,
            "--create-user",
            "--source-profile",
            "admin",
            "--yes",
        ],
        "",
    );
    run.assert_ok();
    let boot_arn = env.rust_sdk_arn("boot");
    assert!(
        boot_arn.stdout.trim().ends_with(&format!(":user/{user}")),
        "{boot_arn:?}"
    );
    assert_eq!(moto.key_ids(&user).len(), 1);

    // rotate (the admin's own key, which may manage itself): a new key, the old one kept in IAM for
    // the lease (here the debug build's 20 s, 25 s with its slack), then deleted by the detached
    // finisher rotate started (a DETACHED_PROCESS under Wine) with nobody running anything; the
    // SDK acting as the same user.
    // Its output goes to files, not pipes: under Wine the detached finisher inherits the launcher's
    // Unix descriptors, so a reader of pipes would wait for the finisher too (real Windows hands it
    // NUL handles only). The lease is long enough that rotate under a loaded Wine returns within it.
    let before = moto.key_ids(&admin.user);
    let out = env.root.path().join("rotate.out");
    let err = env.root.path().join("rotate.err");
    let mut command = env.command(&env.exe("awskeep.exe"));
    command
        .args(["rotate", "--profile", "admin", "--yes"])
        .env("AWSKEEP_DEBUG_KEY_LEASE_SECS", "20")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    let started = std::time::Instant::now();
    let status = command.status().unwrap();
    let run = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(status.success(), "{run}");
    let returned_after = started.elapsed();
    assert!(
        returned_after < std::time::Duration::from_secs(20),
        "rotate waited for its finisher ({returned_after:?}): {run}"
    );
    assert_eq!(moto.key_ids(&admin.user).len(), 2, "deleted at once: {run}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while moto.key_ids(&admin.user).len() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the background finisher did not delete the old key: {run}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(20),
        "deleted before the lease passed: {run}"
    );
    let after = moto.key_ids(&admin.user);
    assert_eq!(after.len(), 1, "{run}");
    assert_ne!(after, before);
    let json = credential_json(&env.run(&["credential-process", "--profile", "admin"], ""));
    assert_eq!(json["AccessKeyId"], after[0].as_str());
    assert!(
        json["Expiration"]
            .as_str()
            .is_some_and(|e| e.ends_with('Z')),
        "{json}"
    );
    assert_eq!(env.rust_sdk_arn("admin").stdout.trim(), admin.arn);
    // --now deletes at once.
    let now = env.run(&["rotate", "--profile", "admin", "--yes", "--now"], "");
    now.assert_ok();
    let after = moto.key_ids(&admin.user);
    assert_eq!(after.len(), 1, "{now:?}");

    // migrate: a plaintext key in the credentials file moves into the Credential Manager.
    let legacy = moto.new_user_with_key("win-legacy");
    std::fs::write(
        env.credentials_path(),
        format!(
            "# mine\r\n[legacy]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}\r\n",
            legacy.id, legacy.secret
        ),
    )
    .unwrap();
    let run = env.run(&["migrate", "--yes"], "");
    run.assert_ok();
    let credentials = std::fs::read_to_string(env.credentials_path()).unwrap();
    assert!(!credentials.contains(&legacy.secret), "{credentials}");
    assert!(credentials.contains("# mine"), "{credentials}");
    assert_eq!(env.rust_sdk_arn("legacy").stdout.trim(), legacy.arn);
    assert_eq!(env.boto3_arn("legacy").stdout.trim(), legacy.arn);

    // list knows all three from the store's index (the Windows store is never enumerated).
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "boot", "legacy"]);

    // rotate --all with nothing due touches nothing.
    env.run(&["rotate", "--all", "--yes"], "").assert_ok();
    assert_eq!(moto.key_ids(&admin.user), after);

    // remove: gone from the store and the config; the SDK fails with awskeep's message.
    env.run(&["remove", "legacy", "--yes"], "").assert_ok();
    let fail = env.run(&["credential-process", "--profile", "legacy"], "");
    assert!(!fail.status.success());
    assert_eq!(fail.stderr.trim_end().lines().count(), 1, "{fail:?}");
    // The credential_process line goes; a region stays (awskeep cannot tell who wrote it).
    assert!(
        !env.read_config().contains("--profile legacy"),
        "{}",
        env.read_config()
    );
}

#[test]
fn a_deleted_key_is_refused_with_one_line() {
    let moto = Moto::connect();
    let env = WineEnv::new();
    let key = moto.new_user_with_key("win-deleted");
    moto.delete_key(&key);
    let run = env.add("dev", &key, &[]);
    run.assert_fails(5, "AWS rejected the key");
    assert!(!run.stderr.contains(&key.secret));
    assert!(!env.read_config().contains("credential_process"));
    let listed = env.run(&["list", "--json"], "");
    assert_eq!(listed.stdout.trim(), "[]", "{listed:?}");
}

/// `awskeep_mfa_process` runs through `cmd.exe` (no `/bin/sh` on Windows), with a quoted path that
/// has spaces passed through intact; without a console and without a command, the error says how.
#[test]
fn mfa_codes_come_from_a_windows_command_with_spaces_in_its_path() {
    let moto = PrivateMoto::start();
    let mut env = WineEnv::new();
    env.endpoint = moto.url.clone();
    env.run(
        &[
            "add",
            "dev",
            "--no-verify",
            "--session",
            "on",
            "--mfa-serial",
            "arn:aws:iam::123456789012:mfa/dev",
        ],
        "AKIAAWSKEEPTESTKEY01\nwindows/session/test/secret\n",
    )
    .assert_ok();
    let without = env.run(&["credential-process", "--profile", "dev"], "");
    without.assert_fails(1, "awskeep_mfa_process");

    let dir = env.root.path().join("My Tools");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mfa code.cmd"), "@echo off\r\necho 123456\r\n").unwrap();
    let command = format!(
        "\"{}\" --account dev",
        windows_path(&dir.join("mfa code.cmd"))
    );
    let config = env.read_config().replace(
        "mfa_serial = ",
        &format!("awskeep_mfa_process = {command}\nmfa_serial = "),
    );
    std::fs::write(env.config_path(), config).unwrap();
    let json = credential_json(&env.run(&["credential-process", "--profile", "dev"], ""));
    assert!(json["SessionToken"].is_string(), "{json}");
    assert_eq!(moto.session_token_calls(), 1);
}

/// Windows compares credential names without regard to case; AWS profile names are case-sensitive.
/// `dev` and `Dev` are two profiles with two keys, and removing one leaves the other.
#[test]
fn profiles_differing_only_in_case_keep_their_own_keys() {
    let moto = Moto::connect();
    let env = WineEnv::new();
    let lower = moto.new_user_with_key("win-lower");
    let upper = moto.new_user_with_key("win-upper");
    env.add("dev", &lower, &[]).assert_ok();
    env.add("Dev", &upper, &[]).assert_ok();
    assert_eq!(env.rust_sdk_arn("dev").stdout.trim(), lower.arn);
    assert_eq!(env.rust_sdk_arn("Dev").stdout.trim(), upper.arn);
    env.run(&["remove", "Dev", "--yes"], "").assert_ok();
    assert_eq!(env.rust_sdk_arn("dev").stdout.trim(), lower.arn);
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["profile"], "dev");
}

/// Parallel `add`s take turns on the config file and the store's index: none is lost.
#[test]
fn parallel_adds_lose_nothing() {
    let env = WineEnv::new();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut command = env.command(&env.exe("awskeep.exe"));
            command
                .args(["add", &format!("p{i}"), "--no-verify"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = command.spawn().expect("spawn");
            std::io::Write::write_all(
                &mut child.stdin.take().unwrap(),
                b"AKIAAWSKEEPTESTKEY01\nparallel/secret\n",
            )
            .unwrap();
            child
        })
        .collect();
    for child in children {
        common::wait_for(child, std::time::Duration::from_secs(120)).assert_ok();
    }
    let config = env.read_config();
    for i in 0..6 {
        assert!(
            config.contains(&format!("--profile p{i}")),
            "p{i} lost: {config}"
        );
    }
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--json"], "").stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 6, "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "ok"),
        "{listed}"
    );
}
