//! `awskeep doctor` through the real binary, gnome-keyring and moto: all well exits 0; each broken
//! part of a profile is named with its fix and exits 1; `--json` carries the same findings.

use crate::common;

use common::{Moto, TestEnv, run_with_stdin};

const PROGRAM: &str = env!("CARGO_BIN_EXE_awskeep");
const FOUND: &str = "do what each finding's fix says, then run `awskeep doctor` again.\n";

fn masked(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

#[test]
fn all_well_is_every_check_ok_and_exit_0() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    // Allowed to list its own keys, so `add` records IAM's CreateDate and the age is IAM's.
    let key = moto.new_user_allowed("doctor-ok", &["iam:ListAccessKeys"]);
    env.write_config("[profile dev]\nregion = us-east-1\n");
    env.add("dev", &key, &[]).assert_ok();
    env.expect(["doctor"])
        .stdout_contains(&format!(
            "ok    store: the Secret Service is reachable and unlocked
ok    [dev] credential_process: runs {PROGRAM} (exists, executable, quoted safely)
ok    [dev] shadowing: no plaintext key or other credential source shadows awskeep
ok    [dev] region: region us-east-1
ok    [dev] key: key {} is in the Secret Service ({})
ok    [dev] key_age: key is 0 days old
ok    [dev] session: sessions off: AWS clients get the stored key itself
",
            masked(&key.id),
            key.arn
        ))
        // The clock is compared with moto's Date header (AWS_ENDPOINT_URL), without credentials.
        .stdout_contains("ok    clock: the local clock is within ")
        .stdout_contains("\n0 fail, 0 warn, 1 info, 8 ok\n")
        .stderr("")
        .status(0)
        .run();
}

/// A profile broken every way at once: its program gone, plaintext keys shadowing it, no region
/// in the profile and a rotation interrupted after the new key was stored.
fn broken_profile(moto: &Moto, env: &TestEnv) {
    let user = moto.new_admin_with_key("doctor-broken");
    env.add("dev", &user, &[]).assert_ok();
    let mut rotate = env.awskeep();
    rotate
        .args(["rotate", "--profile", "dev", "--yes"])
        .env("AWSKEEP_TEST_CRASH_AT", "rotate:after-pending-stored");
    let crashed = run_with_stdin(rotate, "");
    assert!(!crashed.status.success(), "the rotation was to crash");
    // add wrote the shell's AWS_REGION into the profile; this one is to have none.
    env.write_config(
        &env.read_config()
            .replace(PROGRAM, "/gone/awskeep")
            .replace("\nregion = us-east-1\n", "\n"),
    );
    env.write_credentials(
        "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = plaintext\n",
    );
}

#[test]
fn each_broken_part_is_named_with_its_fix_and_exit_is_1() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    broken_profile(&moto, &env);
    let run = env
        .expect(["doctor", "dev"])
        .stdout_contains(
            "FAIL  [dev] credential_process: runs /gone/awskeep, which does not exist (awskeep moved or was uninstalled?)\n",
        )
        .stdout_contains(&format!(
            "      fix: set `credential_process = {PROGRAM} credential-process --profile dev` in [profile dev] of $HOME/.aws/config\n"
        ))
        // The plaintext key is another than the stored one: which is which, and both ways out.
        .stdout_contains(
            "FAIL  [dev] shadowing: [dev] in $HOME/.aws/credentials holds key AKIA…MPLE in plain text, which the AWS CLI and SDKs use instead of the stored key AKIA…",
        )
        .stdout_contains("`awskeep migrate dev --discard-plaintext` (deletes the plaintext lines); to keep AKIA…MPLE: `awskeep migrate dev --replace-stored`\n")
        .stdout_contains(
            "warn  [dev] region: no region in [profile dev] (only AWS_REGION=us-east-1 in this shell sets one); AWS clients without one refuse to call regional services\n",
        )
        .stdout_contains("      fix: add `region = us-east-1` to [profile dev] in $HOME/.aws/config (or run `aws configure set region us-east-1 --profile dev`)\n")
        .stdout_contains("FAIL  [dev] rotation: an interrupted rotation created key AKIA")
        .stdout_contains("      fix: finish it: `awskeep rotate --profile dev`\n")
        .stdout_contains("\n3 fail, 1 warn, 1 info, ")
        .stderr(&format!("awskeep: doctor found 3 problem(s). Hint: {FOUND}"))
        .status(1)
        .run();
    assert!(
        !run.stdout.contains("plaintext\n") && !run.stdout.contains("AKIAIOSFODNN7EXAMPLE"),
        "no key material in the report: {}",
        run.stdout
    );

    // The same findings as JSON, for scripts.
    let run = env
        .expect(["doctor", "--json", "--offline"])
        .status(1)
        .run();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(report["ok"], false);
    assert_eq!(report["summary"]["fail"], 3);
    let findings = report["findings"].as_array().unwrap();
    let rotation = findings
        .iter()
        .find(|f| f["check"] == "rotation")
        .expect("a rotation finding");
    assert_eq!(rotation["severity"], "fail");
    assert_eq!(rotation["profile"], "dev");
    assert_eq!(rotation["fix"], "finish it: `awskeep rotate --profile dev`");
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "clock" && f["severity"] == "info")
    );
}

#[test]
fn a_locked_keyring_is_a_finding_and_the_files_are_still_checked() {
    let env = TestEnv::new();
    env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nsecretsecret\n",
    )
    .assert_ok();
    // add wrote the shell's AWS_REGION into the profile; this one is to have none.
    env.write_config(
        &env.read_config()
            .replace(PROGRAM, "/gone/awskeep")
            .replace("\nregion = us-east-1\n", "\n"),
    );
    env.lock_keyring();
    env.expect(["doctor", "--offline"])
        .stdout_contains("FAIL  store: the Secret Service is locked\n      fix: unlock the keyring")
        .stdout_contains("FAIL  [dev] credential_process: runs /gone/awskeep, which does not exist")
        .stdout_contains("info  clock: not compared with AWS (--offline)\n")
        .stderr(&format!(
            "awskeep: doctor found 2 problem(s). Hint: {FOUND}"
        ))
        .status(1)
        .run();
}

#[test]
fn no_keyring_and_no_sts_are_findings_not_a_crash() {
    let env = TestEnv::without_keyring();
    // Nothing listens on port 9 (discard): STS cannot be reached.
    env.use_endpoint("http://127.0.0.1:9");
    // Without --store the file store would be chosen (see tests/file_store.rs); ask for the keyring.
    env.expect(["doctor", "--store", "secret-service"])
        .stdout_contains("FAIL  store: cannot reach the Secret Service")
        .stdout_contains("      fix: awskeep needs a Secret Service")
        .stdout_contains("warn  clock: could not compare the local clock with AWS STS at http://127.0.0.1:9")
        .stdout_contains("      fix: check the network (or AWS_ENDPOINT_URL), or pass --offline to skip this check\n")
        .stderr(&format!("awskeep: doctor found 1 problem(s). Hint: {FOUND}"))
        .status(1)
        .run();
    // With no --store, doctor says which store it picked and why.
    env.expect(["doctor", "--offline"])
        .stdout_contains("info  store: using the file store (there is no session bus")
        .run();
}

/// Protects doctor's store finding on the file store (issue 21 item 8): on a fresh headless machine
/// it says there is no file store yet and what makes one, never "reachable and unlocked"; then
/// what later commands find (opened by the passphrase variable for doctor alone, or unlocked).
#[test]
fn doctor_says_whether_there_is_a_file_store_and_whether_it_is_unlocked() {
    const PASSPHRASE: &str = "a long test passphrase";
    let env = TestEnv::without_keyring();
    let fresh = env
        .expect(["doctor", "--offline"])
        .stdout_contains("info  store: there is no file store in $ROOT/data/awskeep yet\n")
        .stdout_contains(
            "      fix: `awskeep unlock` creates it (it asks for a new passphrase), and so does the first `awskeep add`\n",
        )
        .status(0)
        .run();
    assert!(!fresh.stdout.contains("reachable"), "{}", fresh.stdout);
    assert!(
        !env.path("data/awskeep/master.age").exists(),
        "doctor created a store"
    );

    let with_passphrase = |args: &[&str], stdin: &str| {
        let mut command = env.awskeep();
        command
            .args(args)
            .env("AWSKEEP_TEST_SCRYPT_LOG_N", "12")
            .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE);
        run_with_stdin(command, stdin)
    };
    with_passphrase(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .assert_ok();
    env.expect(["doctor", "--offline"])
        .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE)
        .stdout_contains(
            "ok    store: the file store ($ROOT/data/awskeep) opens with AWSKEEP_FILE_PASSPHRASE, for the command it is given to only\n",
        )
        .status(0)
        .run();
    with_passphrase(&["unlock"], "").assert_ok();
    env.expect(["doctor", "--offline"])
        .stdout_contains(
            "ok    store: the file store ($ROOT/data/awskeep) is reachable and unlocked for about ",
        )
        .status(0)
        .run();
    env.run(&["lock"], "").assert_ok();
}

/// A line an earlier awskeep wrote (`"PATH" credential-process ...`) is still recognised; doctor
/// names the clients it breaks (the Go SDKs keep only the quoted part) and gives the line to write,
/// and the next `add --force` writes the form every client runs.
#[test]
fn a_legacy_double_quoted_line_is_named_for_go_and_the_next_add_rewrites_it() {
    let env = TestEnv::new();
    let folder = env.path("My Tools");
    std::fs::create_dir_all(&folder).unwrap();
    let installed = folder.join("awskeep");
    std::fs::copy(PROGRAM, &installed).unwrap();
    let mut add = env.command(&installed);
    add.args(["add", "dev", "--no-verify"]);
    run_with_stdin(add, "AKIAAWSKEEPTESTKEY01\nlegacy/secret\n").assert_ok();
    let current = env.read_config();
    let single = format!("'{}' credential-process --profile dev", installed.display());
    assert!(current.contains(&single), "{current}");
    let legacy = format!(
        "\"{}\" credential-process --profile dev",
        installed.display()
    );
    env.write_config(&current.replace(&single, &legacy));

    let mut doctor = env.command(&installed);
    doctor.args(["doctor", "dev", "--offline"]);
    let run = run_with_stdin(doctor, "");
    assert_eq!(run.code(), 1, "{}", run.stdout);
    let finding = run
        .stdout
        .lines()
        .find(|l| l.contains("[dev] credential_process"))
        .unwrap_or_default()
        .to_string();
    assert!(
        finding.starts_with("FAIL")
            && finding.contains("Go SDK v1")
            && finding.contains("terraform"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("set `credential_process = {single}`")),
        "{}",
        run.stdout
    );
    // list and remove still know the profile is awskeep's.
    let mut list = env.command(&installed);
    list.args(["list", "--json"]);
    let listed = run_with_stdin(list, "");
    assert!(
        listed.stdout.contains("\"in_config\": true"),
        "{}",
        listed.stdout
    );

    let mut again = env.command(&installed);
    again.args(["add", "dev", "--no-verify", "--force"]);
    run_with_stdin(again, "AKIAAWSKEEPTESTKEY01\nlegacy/secret\n").assert_ok();
    let after = env.read_config();
    assert!(
        after.contains(&single) && !after.contains(&legacy),
        "{after}"
    );
}
