//! Role profiles served by awskeep (`add-role`, `awskeep_role_arn` + `awskeep_source_profile`),
//! through the real binary against a private moto (moto's session keys need its auth off): every
//! client of the matrix gets the role's credentials, one MFA code serves every role of a source,
//! parallel first calls make one AssumeRole, chains are capped at 1h, changed settings are not
//! served an old session, and a broken chain is one clear line.

use crate::common;

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use common::clients::{Client, caller_arn};
use common::private_moto::PrivateMoto;
use common::{Run, TestEnv, wait_for};

const KEY: &str = "AKIAAWSKEEPROLEKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const ROLE: &str = "arn:aws:iam::123456789012:role/admin";
const MFA: &str = "arn:aws:iam::123456789012:mfa/dev";

/// A keyring, a private moto, and profile `dev` holding a key (plus `extra` add flags).
fn setup(extra: &[&str]) -> (TestEnv, PrivateMoto) {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    let mut args = vec!["add", "dev", "--no-verify"];
    args.extend_from_slice(extra);
    env.run(&args, KEY).assert_ok();
    (env, moto)
}

fn add_role(env: &TestEnv, profile: &str, arn: &str, source: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "add-role",
        profile,
        "--role-arn",
        arn,
        "--source-profile",
        source,
    ];
    args.extend_from_slice(extra);
    env.run(&args, "")
}

fn json(run: &Run) -> serde_json::Value {
    run.assert_ok();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", run.stdout))
}

fn process(env: &TestEnv, profile: &str) -> serde_json::Value {
    json(&env.run(&["credential-process", "--profile", profile], ""))
}

fn expires_in(json: &serde_json::Value) -> Duration {
    humantime::parse_rfc3339(json["Expiration"].as_str().expect("Expiration"))
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap()
}

#[test]
fn add_role_writes_awskeeps_own_settings_and_every_client_gets_the_roles_credentials() {
    let (env, moto) = setup(&[]);
    env.expect(["add-role", "prod", "--role-arn", ROLE, "--source-profile", "dev"])
        .stderr(&format!(
            "awskeep: profile prod assumes {ROLE} with dev's credentials, in us-east-1 (as dev); try `aws sts get-caller-identity --profile prod`\n"
        ))
        .run();
    let config = env.read_config();
    let section = config
        .split("[profile prod]\n")
        .nth(1)
        .expect("a prod section");
    assert_eq!(
        section,
        format!(
            "credential_process = {} credential-process --profile prod\nawskeep_role_arn = {ROLE}\nawskeep_source_profile = dev\nregion = us-east-1\n",
            env!("CARGO_BIN_EXE_awskeep")
        ),
        "no role_arn an SDK would assume a second time"
    );
    assert_eq!(moto.assume_role_calls(), 1, "add-role assumed it once");
    let mut failed = Vec::new();
    for client in Client::ALL {
        let run = caller_arn(&env, client, "prod");
        if !run.stdout.contains(":assumed-role/admin/awskeep-") || run.code() != 0 {
            failed.push(format!("{client:?}: {} {}", run.stdout, run.stderr));
        }
    }
    assert!(
        failed.is_empty(),
        "clients without the role:\n{}",
        failed.join("\n")
    );
    assert_eq!(
        moto.assume_role_calls(),
        1,
        "every client was served the role session add-role cached"
    );
    assert!(
        !env.path(".aws/cli/cache").exists(),
        "nothing in the AWS CLI's plaintext cache"
    );
    let export = env.run(&["export", "prod"], "");
    export.assert_ok();
    assert!(
        export.stdout.contains("AWS_SESSION_TOKEN="),
        "{}",
        export.stdout
    );
    let exec = env.run(
        &[
            "exec",
            "prod",
            "--",
            "sh",
            "-c",
            "test -n \"$AWS_SESSION_TOKEN\" && echo ok",
        ],
        "",
    );
    assert_eq!(exec.stdout, "ok\n", "{}", exec.stderr);
}

#[test]
fn one_mfa_code_serves_every_role_of_a_source() {
    let (env, moto) = setup(&["--mfa-serial", MFA]);
    let asked = env.path("codes-asked");
    env.write_config(&env.read_config().replace(
        "mfa_serial = ",
        &format!(
            "awskeep_mfa_process = echo x >> {} && echo 123456\nmfa_serial = ",
            asked.display()
        ),
    ));
    add_role(&env, "a", ROLE, "dev", &["--no-verify"]).assert_ok();
    add_role(
        &env,
        "b",
        "arn:aws:iam::210987654321:role/audit",
        "dev",
        &["--no-verify"],
    )
    .assert_ok();
    for client in [Client::AwsCli, Client::Boto3, Client::GoV1] {
        for profile in ["a", "b"] {
            let run = caller_arn(&env, client, profile);
            assert_eq!(run.code(), 0, "{client:?} {profile}: {}", run.stderr);
        }
    }
    assert_eq!(
        std::fs::read_to_string(&asked).unwrap(),
        "x\n",
        "one code for both roles and every client"
    );
    assert_eq!(moto.session_token_calls(), 1, "one MFA session of dev");
    assert_eq!(moto.assume_role_calls(), 2, "one AssumeRole per role");
}

#[test]
fn sixteen_parallel_first_calls_make_one_assume_role() {
    let (env, moto) = setup(&[]);
    add_role(&env, "prod", ROLE, "dev", &["--no-verify"]).assert_ok();
    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut command = env.awskeep();
            command
                .args(["credential-process", "--profile", "prod"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().expect("spawn")
        })
        .collect();
    let keys: Vec<serde_json::Value> = children
        .into_iter()
        .map(|c| json(&wait_for(c, Duration::from_secs(120)))["AccessKeyId"].clone())
        .collect();
    assert!(keys.iter().all(|k| k == &keys[0]), "one session for all");
    assert_eq!(moto.assume_role_calls(), 1, "single flight");
}

#[test]
fn a_chained_role_is_capped_at_one_hour_while_the_first_hop_keeps_its_duration() {
    let (env, moto) = setup(&[]);
    add_role(&env, "a", ROLE, "dev", &["--no-verify", "--duration", "8h"]).assert_ok();
    add_role(
        &env,
        "b",
        "arn:aws:iam::123456789012:role/deep",
        "a",
        &["--no-verify", "--duration", "4h"],
    )
    .assert_ok();
    let b = process(&env, "b");
    assert!(expires_in(&b) <= Duration::from_secs(3600), "{b}");
    assert!(expires_in(&b) > Duration::from_secs(3500), "{b}");
    let a = process(&env, "a");
    assert!(expires_in(&a) > Duration::from_secs(7 * 3600), "{a}");
    assert_eq!(
        moto.assume_role_calls(),
        2,
        "a's session served b's AssumeRole and a"
    );
    let signers = moto.signers();
    let assume_b = &signers[signers.len() - 1];
    assert!(
        assume_b.key_id.starts_with("ASIA") && assume_b.with_session_token,
        "b was assumed with a's role session: {signers:?}"
    );
}

#[test]
fn a_role_whose_settings_changed_is_not_served_its_old_session() {
    let (env, moto) = setup(&[]);
    add_role(&env, "prod", ROLE, "dev", &[]).assert_ok();
    let before = process(&env, "prod");
    assert_eq!(moto.assume_role_calls(), 1);
    env.write_config(&env.read_config().replace(
        "awskeep_source_profile = dev",
        "awskeep_source_profile = dev\nawskeep_external_id = partner-7",
    ));
    let after = process(&env, "prod");
    assert_ne!(before["AccessKeyId"], after["AccessKeyId"]);
    assert_eq!(
        moto.assume_role_calls(),
        2,
        "the new settings made a new session"
    );
}

#[test]
fn a_broken_chain_is_one_line_saying_what_to_fix_and_nothing_is_written() {
    let (env, moto) = setup(&[]);
    let before = env.read_config();
    env.expect(["add-role", "prod", "--role-arn", ROLE, "--source-profile", "nobody"])
        .status(3)
        .stderr(
            "awskeep: role profile \"prod\" names \"nobody\" as its source, which is no awskeep role profile and has no key in the Secret Service. Hint: make it an awskeep profile (`awskeep add nobody`, or `awskeep migrate nobody` where it has plaintext keys or a role_arn), or name another source profile.\n"
        )
        .run();
    env.expect(["add-role", "prod", "--role-arn", ROLE, "--source-profile", "prod"])
        .status(1)
        .stderr("awskeep: role profiles name each other as their source in a loop: prod -> prod. Hint: make the last role of the chain name a profile awskeep holds a key for (`awskeep list` shows them).\n")
        .run();
    env.expect([
        "add-role",
        "dev",
        "--role-arn",
        ROLE,
        "--source-profile",
        "dev",
    ])
    .status(1)
    .stderr("awskeep: profile \"dev\" holds a key in the Secret Service; a role profile holds none. Hint: choose another profile name, or `awskeep remove dev` first (the key stays in IAM unless you say otherwise).\n")
    .run();
    assert_eq!(env.read_config(), before, "nothing written");
    // An MFA device without sessions: the code could only go with each AssumeRole.
    env.write_config(&before.replace(
        "[profile dev]\n",
        &format!("[profile dev]\nmfa_serial = {MFA}\nawskeep_session = false\n"),
    ));
    env.expect(["add-role", "prod", "--role-arn", ROLE, "--source-profile", "dev"])
        .status(1)
        .stderr("awskeep: role profile \"prod\" needs an MFA session of \"dev\", which has mfa_serial but awskeep_session = false. Hint: remove `awskeep_session = false` from [profile dev]: one MFA session of dev then serves every role it assumes.\n")
        .run();
    env.write_config(&before);
    assert_eq!(moto.assume_role_calls(), 0);
    // A loop written by hand is found when a client asks.
    env.append_config(&format!(
        "\n[profile x]\ncredential_process = awskeep credential-process --profile x\nawskeep_role_arn = {ROLE}\nawskeep_source_profile = y\n\
         [profile y]\nawskeep_role_arn = {ROLE}\nawskeep_source_profile = x\n"
    ));
    env.expect(["credential-process", "--profile", "x"])
        .status(1)
        .stderr("awskeep: role profiles name each other as their source in a loop: x -> y -> x. Hint: make the last role of the chain name a profile awskeep holds a key for (`awskeep list` shows them).\n")
        .run();
}

#[test]
fn list_doctor_and_remove_know_role_profiles() {
    let (env, _moto) = setup(&[]);
    add_role(&env, "prod", ROLE, "dev", &[]).assert_ok();
    let list = env.run(&["list", "--json"], "");
    list.assert_ok();
    let rows: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let prod = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile"] == "prod")
        .expect("prod listed");
    assert_eq!(prod["role_arn"], ROLE);
    assert_eq!(prod["source_profile"], "dev");
    assert_eq!(prod["account_id"], "123456789012");
    assert!(prod["session_expires_at"].is_string(), "{prod}");
    let table = env.run(&["list"], "");
    let line = table
        .stdout
        .lines()
        .find(|l| l.starts_with("prod "))
        .expect("a prod line");
    assert!(
        line.contains("role admin via dev, session until "),
        "{}",
        table.stdout
    );

    let doctor = env.run(&["doctor", "prod", "--offline"], "");
    assert!(
        doctor.stdout.contains(&format!(
            "assumes {ROLE} through prod -> dev (the last one's key is in the Secret Service)"
        )),
        "{}",
        doctor.stdout
    );
    env.write_config(&env.read_config().replace(
        "awskeep_source_profile = dev",
        "awskeep_source_profile = dev\nawskeep_mfa_process = echo 123456",
    ));
    let doctor = env.run(&["doctor", "prod", "--offline"], "");
    assert!(
        doctor.stdout.contains("warn  [prod] role: awskeep_mfa_process in [profile prod] is not used: a role's MFA code and session are its source's (dev)\n      fix: move it to [profile dev] (or remove it)\n"),
        "{}",
        doctor.stdout
    );
    env.write_config(&env.read_config().replace(
        "awskeep_mfa_process = echo 123456",
        "role_arn = arn:aws:iam::123456789012:role/x",
    ));
    let doctor = env.run(&["doctor", "prod", "--offline"], "");
    assert!(
        doctor
            .stdout
            .contains("[profile prod] also has `role_arn`, a credential source the SDKs prefer to"),
        "an SDK would assume it again: {}",
        doctor.stdout
    );
    assert_ne!(doctor.code(), 0);

    env.expect(["remove", "dev", "--yes"])
        .stderr_contains("Role profile(s) prod name dev as their source (awskeep_source_profile): they stop working until it is added again or they name another.")
        .run();
    env.expect(["remove", "prod", "--delete-key"])
        .status(1)
        .stderr(&format!("awskeep: profile \"prod\" is an awskeep role profile (it assumes {ROLE}): it holds no key. Hint: a role profile has no key of its own: `awskeep remove prod` without a key flag removes it.\n"))
        .run();
    env.expect(["remove", "prod", "--yes"])
        .stderr(&format!("Removed profile prod.\nTo keep its role without awskeep (the AWS CLI and SDKs then assume it themselves): aws configure set role_arn {ROLE} --profile prod && aws configure set source_profile dev --profile prod\n"))
        .run();
    let config = env.read_config();
    assert!(!config.contains("awskeep"), "{config}");
    assert!(
        config.contains("role_arn = arn:aws:iam::123456789012:role/x"),
        "a line awskeep did not write stays: {config}"
    );
}

#[test]
fn a_role_session_is_served_from_the_credential_cache_without_any_dbus_call_or_sts_call() {
    let (env, moto) = setup(&[]);
    add_role(&env, "prod", ROLE, "dev", &["--no-verify"]).assert_ok();
    let serve = || env.dbus_calls(|| env.run(&["credential-process", "--profile", "prod"], ""));
    let (first, first_calls) = serve();
    assert!(first_calls > 0, "the first call reads the store");
    let (second, second_calls) = serve();
    assert_eq!(second.stdout, first.stdout, "the same role session");
    assert_eq!(second_calls, 0, "served from the kernel keyring");
    assert_eq!(moto.assume_role_calls(), 1);
    // session clear drops the entry with the item: the next call assumes the role again.
    env.run(&["session", "clear", "prod"], "").assert_ok();
    let (third, third_calls) = serve();
    assert!(third_calls > 0, "session clear dropped the entry");
    assert_ne!(third.stdout, first.stdout);
    assert_eq!(moto.assume_role_calls(), 2);
}

#[test]
fn add_on_a_role_profile_is_refused_and_session_clear_all_clears_role_sessions_too() {
    let (env, moto) = setup(&[]);
    add_role(&env, "prod", ROLE, "dev", &[]).assert_ok();
    let before = env.read_config();
    env.expect(["add", "prod", "--no-verify"])
        .stdin(KEY)
        .status(1)
        .stderr(&format!("awskeep: profile \"prod\" is an awskeep role profile (it assumes {ROLE}): it holds no key. Hint: choose another profile name, or `awskeep remove prod` first (it takes out the role profile).\n"))
        .run();
    assert_eq!(env.read_config(), before);
    env.expect(["session", "clear", "--all"])
        .stderr("Cleared the cached session of prod.\n")
        .run();
    process(&env, "prod");
    assert_eq!(moto.assume_role_calls(), 2, "the role was assumed afresh");
}
