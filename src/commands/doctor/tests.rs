//! doctor's checks over the memory store and FakeAws: each problem is named with its fix and its
//! severity, and only a `fail` makes the verdict an error.
#![cfg(test)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use clap::Parser;

use super::*;
use crate::aws::fake::FakeAws;
use crate::cli::{Cli, Command};
use crate::secret::{AccessKeyId, KeyOwner, KeyPair, SecretAccessKey, StoredKey};
use crate::session::Session;
use crate::store::memory::MemoryStore;

const DAY: Duration = Duration::from_secs(86_400);

fn context(dir: &Path) -> Context {
    Context::for_test(dir)
}

fn args(extra: &[&str]) -> DoctorArgs {
    let cli = Cli::try_parse_from(["awskeep", "doctor"].iter().chain(extra)).unwrap();
    match cli.command {
        Command::Doctor(args) => args,
        other => panic!("parsed as {other:?}"),
    }
}

fn name(profile: &str) -> ProfileName {
    ProfileName::parse(profile).unwrap()
}

fn pair(id: &str) -> KeyPair {
    KeyPair {
        access_key_id: AccessKeyId::parse(id).unwrap(),
        secret_access_key: SecretAccessKey::parse("secret").unwrap(),
    }
}

fn stored(id: &str, account: &str, age: Duration) -> StoredKey {
    StoredKey::new(
        pair(id),
        Some(KeyOwner {
            account_id: account.into(),
            arn: format!("arn:aws:iam::{account}:user/me"),
        }),
        SystemTime::now() - DAY,
    )
    .created_in_iam(Some(SystemTime::now() - age))
}

/// An executable named awskeep in `dir`, standing in for the installed one.
fn installed(dir: &Path) -> std::path::PathBuf {
    let program = dir.join("bin/awskeep");
    std::fs::create_dir_all(program.parent().unwrap()).unwrap();
    std::fs::write(&program, "#!/bin/sh\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    program
}

/// The fix doctor proposes: this awskeep's own line for `profile` (in tests, the test binary).
fn own_line(profile: &str) -> String {
    let program = Context::for_test(Path::new("/")).own_program().unwrap();
    crate::process_line::build(&program, &name(profile), None)
        .unwrap()
        .as_str()
        .to_string()
}

/// A healthy profile: awskeep's line, a region, a fresh key in the store.
fn healthy(dir: &Path, store: &MemoryStore, profile: &str, account: &str) -> String {
    store
        .set(
            &name(profile),
            &stored("AKIAIOSFODNN7EXAMPLE", account, DAY),
        )
        .unwrap();
    let line = crate::process_line::build(&installed(dir), &name(profile), None).unwrap();
    let section = format!(
        "[profile {profile}]\nregion = eu-west-1\ncredential_process = {}\n",
        line.as_str()
    );
    let config = std::fs::read_to_string(dir.join("config")).unwrap_or_default();
    std::fs::write(dir.join("config"), format!("{config}{section}")).unwrap();
    section
}

fn examine_with(dir: &Path, store: &MemoryStore, aws: &FakeAws, extra: &[&str]) -> Report {
    examine(
        &context(dir),
        Ok(store),
        aws,
        &args(extra),
        SystemTime::now(),
    )
}

/// The one finding of `check` (for `profile`), failing the test when there is none or several.
fn only<'a>(report: &'a Report, check: &str, profile: Option<&str>) -> &'a Finding {
    let found: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == check && f.profile.as_deref() == profile)
        .collect();
    assert_eq!(found.len(), 1, "{check} {profile:?}: {}", report.text());
    found[0]
}

fn worst(report: &Report) -> Severity {
    report
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok)
}

#[test]
fn all_well_is_all_ok_and_the_verdict_passes() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    let aws = FakeAws::default();
    let report = examine_with(dir.path(), &store, &aws, &[]);
    assert_eq!(worst(&report), Severity::Ok, "{}", report.text());
    assert!(report.ok && report.verdict().is_ok());
    for check in [
        "credential_process",
        "shadowing",
        "region",
        "key",
        "key_age",
        "session",
    ] {
        only(&report, check, Some("dev"));
    }
    only(&report, "store", None);
    assert_eq!(only(&report, "clock", None).severity, Severity::Ok);
    assert_eq!(aws.calls.get(), 1, "one network call: the clock");
    assert!(
        report.text().ends_with("0 fail, 0 warn, 0 info, 8 ok\n"),
        "{}",
        report.text()
    );
}

#[test]
fn the_clock_is_judged_against_sigv4s_five_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    for (ahead, severity, needle) in [
        (30, Severity::Ok, "within"),
        (-150, Severity::Warn, "2m 30s ahead of AWS's"),
        (600, Severity::Fail, "10m behind AWS's"),
    ] {
        let aws = FakeAws {
            clock_ahead_secs: ahead,
            ..FakeAws::default()
        };
        let report = examine_with(dir.path(), &store, &aws, &[]);
        let clock = only(&report, "clock", None);
        assert_eq!(clock.severity, severity, "{ahead}: {}", clock.message);
        assert!(clock.message.contains(needle), "{ahead}: {}", clock.message);
        assert_eq!(clock.fix.is_some(), severity != Severity::Ok);
        assert_eq!(report.verdict().is_err(), severity == Severity::Fail);
    }
}

#[test]
fn an_unreachable_sts_warns_and_offline_makes_no_call() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    let aws = FakeAws {
        offline: true,
        ..FakeAws::default()
    };
    let report = examine_with(dir.path(), &store, &aws, &[]);
    let clock = only(&report, "clock", None);
    assert_eq!(clock.severity, Severity::Warn);
    assert!(clock.fix.as_deref().unwrap().contains("--offline"));
    assert!(report.verdict().is_ok(), "a warning alone passes");

    let aws = FakeAws::default();
    let report = examine_with(dir.path(), &store, &aws, &["--offline"]);
    assert_eq!(only(&report, "clock", None).severity, Severity::Info);
    assert_eq!(aws.calls.get(), 0);
}

#[test]
fn a_missing_program_is_a_failure_whose_fix_is_the_exact_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    store
        .set(
            &name("dev"),
            &stored("AKIAIOSFODNN7EXAMPLE", "123456789012", DAY),
        )
        .unwrap();
    std::fs::write(
        dir.path().join("config"),
        "[profile dev]\nregion = eu-west-1\ncredential_process = /gone/awskeep credential-process --profile dev\n",
    )
    .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["dev"]);
    let line = only(&report, "credential_process", Some("dev"));
    assert_eq!(line.severity, Severity::Fail);
    assert!(line.message.contains("/gone/awskeep, which does not exist"));
    let fix = line.fix.as_deref().unwrap();
    assert!(
        fix.contains(&format!("`credential_process = {}`", own_line("dev"))),
        "{fix}"
    );
    assert!(matches!(
        report.verdict(),
        Err(Error::DoctorFound { failed: 1 })
    ));
}

#[test]
fn an_unquoted_path_with_spaces_and_a_missing_line_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    for profile in ["dev", "ops"] {
        store
            .set(
                &name(profile),
                &stored("AKIAIOSFODNN7EXAMPLE", "123456789012", DAY),
            )
            .unwrap();
    }
    std::fs::write(
        dir.path().join("config"),
        "[profile dev]\nregion = eu-west-1\ncredential_process = /opt/my tools/awskeep credential-process --profile dev\n",
    )
    .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let dev = only(&report, "credential_process", Some("dev"));
    assert_eq!(dev.severity, Severity::Fail);
    assert!(
        dev.message.contains("some AWS clients cannot run the line"),
        "{}",
        dev.message
    );
    let ops = only(&report, "credential_process", Some("ops"));
    assert_eq!(ops.severity, Severity::Fail);
    assert!(
        ops.message.contains("has no credential_process line"),
        "{}",
        ops.message
    );
}

#[test]
fn plaintext_keys_and_other_sources_shadowing_awskeep_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    healthy(dir.path(), &store, "ops", "123456789012");
    std::fs::write(
        dir.path().join("credentials"),
        "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!("{config}role_arn = arn:aws:iam::123456789012:role/r\n"),
    )
    .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let dev = only(&report, "shadowing", Some("dev"));
    assert_eq!(dev.severity, Severity::Fail);
    assert!(dev.message.contains("plaintext keys"), "{}", dev.message);
    assert!(
        dev.fix
            .as_deref()
            .unwrap()
            .contains("`awskeep migrate dev`")
    );
    let ops = only(&report, "shadowing", Some("ops"));
    assert_eq!(ops.severity, Severity::Fail);
    assert!(
        ops.fix
            .as_deref()
            .unwrap()
            .contains("remove the `role_arn` line")
    );
}

#[test]
fn no_region_warns_with_the_line_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    store
        .set(
            &name("dev"),
            &stored("AKIAIOSFODNN7EXAMPLE", "123456789012", DAY),
        )
        .unwrap();
    let line = crate::process_line::build(&installed(dir.path()), &name("dev"), None).unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!("[profile dev]\ncredential_process = {}\n", line.as_str()),
    )
    .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let region = only(&report, "region", Some("dev"));
    assert_eq!(region.severity, Severity::Warn);
    assert_eq!(
        region.fix.as_deref().unwrap(),
        format!(
            "add `region = us-east-1` to [profile dev] in {} (or run `aws configure set region us-east-1 --profile dev`)",
            dir.path().join("config").display()
        )
    );
    assert!(report.verdict().is_ok());
}

#[test]
fn an_old_key_warns_and_an_unfinished_rotation_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    let mut key = stored("AKIAIOSFODNN7EXAMPLE", "123456789012", 120 * DAY);
    key.rotation = crate::secret::Rotation::Pending {
        started: None,
        key: pair("AKIAI44QH8DHBEXAMPLE"),
        created: None,
    };
    store.set(&name("dev"), &key).unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let age = only(&report, "key_age", Some("dev"));
    assert_eq!(age.severity, Severity::Warn);
    assert!(
        age.message.contains("120 days old, older than 90 days"),
        "{}",
        age.message
    );
    assert!(
        !age.message.contains("unknown"),
        "IAM's date: {}",
        age.message
    );
    let rotation = only(&report, "rotation", Some("dev"));
    assert_eq!(rotation.severity, Severity::Fail);
    assert!(
        rotation.message.contains("AKIA…MPLE"),
        "masked: {}",
        rotation.message
    );
    assert_eq!(
        rotation.fix.as_deref(),
        Some("finish it: `awskeep rotate --profile dev`")
    );
    // Without IAM's date the age counts from the store item, and says so.
    store
        .set(
            &name("dev"),
            &StoredKey::new(
                pair("AKIAIOSFODNN7EXAMPLE"),
                None,
                SystemTime::now() - 100 * DAY,
            ),
        )
        .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let age = only(&report, "key_age", Some("dev"));
    assert_eq!(age.severity, Severity::Warn);
    assert!(
        age.message
            .contains("100 days old (counted from when awskeep stored it: IAM's creation date of this key is unknown)"),
        "{}",
        age.message
    );
    store.set(&name("dev"), &key).unwrap();
    // --max-age moves the line (a bare number is days, as for list).
    let report = examine_with(
        dir.path(),
        &store,
        &FakeAws::default(),
        &["--offline", "--max-age", "200"],
    );
    assert_eq!(only(&report, "key_age", Some("dev")).severity, Severity::Ok);
}

#[test]
fn a_locked_store_fails_and_the_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    store.fail_call(
        1,
        Error::StoreLocked {
            store: crate::store::kind::Flavor::SecretService,
        },
    );
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let locked = only(&report, "store", None);
    assert_eq!(locked.severity, Severity::Fail);
    assert_eq!(locked.message, "the Secret Service is locked");
    assert!(locked.fix.as_deref().unwrap().contains("unlock"));
    assert_eq!(
        only(&report, "credential_process", Some("dev")).severity,
        Severity::Ok
    );
    assert!(report.findings.iter().all(|f| f.check != "key"));
}

#[test]
fn a_store_that_did_not_open_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let error = Error::StoreUnavailable {
        store: crate::store::kind::Flavor::SecretService,
        reason: "no bus".into(),
    };
    let report = examine(
        &context(dir.path()),
        Err(&error),
        &FakeAws::default(),
        &args(&["--offline"]),
        SystemTime::now(),
    );
    let store = only(&report, "store", None);
    assert_eq!(store.severity, Severity::Fail);
    assert!(store.fix.as_deref().unwrap().contains("--store file"));
}

#[test]
fn many_profiles_or_accounts_get_the_sso_advice() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "111111111111");
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    assert!(report.findings.iter().all(|f| f.check != "profiles"));
    healthy(dir.path(), &store, "prod", "222222222222");
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let advice = only(&report, "profiles", None);
    assert_eq!(advice.severity, Severity::Info);
    assert!(
        advice.message.contains("2 profiles across 2 accounts"),
        "{}",
        advice.message
    );
    assert!(advice.fix.as_deref().unwrap().contains("aws configure sso"));
    assert!(report.verdict().is_ok());
}

#[test]
fn a_named_profile_is_checked_alone_and_an_unknown_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    healthy(dir.path(), &store, "ops", "123456789012");
    let report = examine_with(
        dir.path(),
        &store,
        &FakeAws::default(),
        &["--profile", "ops", "--offline"],
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.profile.as_deref() != Some("dev"))
    );
    assert!(report.ok);
    let report = examine_with(
        dir.path(),
        &store,
        &FakeAws::default(),
        &["nobody", "--offline"],
    );
    let unknown = only(&report, "profile", Some("nobody"));
    assert_eq!(unknown.severity, Severity::Fail);
    assert_eq!(
        unknown.fix.as_deref(),
        Some("store its key with `awskeep add nobody`")
    );
    assert!(Cli::try_parse_from(["awskeep", "doctor", "a", "--profile", "b"]).is_err());
}

#[test]
fn the_session_state_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    let section = healthy(dir.path(), &store, "dev", "123456789012");
    std::fs::write(
        dir.path().join("config"),
        format!("{section}mfa_serial = arn:aws:iam::123456789012:mfa/me\n"),
    )
    .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let session: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == "session")
        .collect();
    assert!(
        session[0].message.contains("none cached"),
        "{}",
        session[0].message
    );
    assert_eq!(
        session[1].severity,
        Severity::Info,
        "MFA without awskeep_mfa_process"
    );

    store
        .set_session(
            &name("dev"),
            &Session {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: "s".into(),
                session_token: "t".into(),
                expiration: SystemTime::now() + Duration::from_secs(3 * 3600),
                source_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                mfa_serial: Some("arn:aws:iam::123456789012:mfa/me".into()),
                role: None,
            },
        )
        .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let cached = report
        .findings
        .iter()
        .find(|f| f.check == "session")
        .unwrap();
    assert!(cached.message.contains("good until"), "{}", cached.message);
}

#[test]
fn the_json_has_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &["--offline"]);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["summary"]["info"], 1);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), report.findings.len());
    assert_eq!(findings[0]["severity"], "ok");
    assert_eq!(findings[0]["check"], "store");
    assert!(findings[0]["profile"].is_null());
    assert!(
        findings
            .iter()
            .any(|f| f["profile"] == "dev" && f["check"] == "region")
    );
}

#[test]
fn a_byte_order_mark_is_a_finding_because_botocore_refuses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    healthy(dir.path(), &store, "dev", "123456789012");
    let config = std::fs::read(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config"),
        [b"\xef\xbb\xbf".as_slice(), &config].concat(),
    )
    .unwrap();
    let report = examine_with(dir.path(), &store, &FakeAws::default(), &[]);
    let finding = only(&report, "files", None);
    assert_eq!(finding.severity, Severity::Fail);
    assert!(
        finding.message.contains("byte order mark"),
        "{}",
        report.text()
    );
    assert!(!report.ok);
    // The profile itself still checks out: awskeep reads past the mark.
    assert_eq!(only(&report, "key", Some("dev")).severity, Severity::Ok);
}
