//! `awskeep migrate` and `awskeep import`: plaintext keys move into the keychain, clients still resolve
//! every profile to the same identity, no secret is left in any file, comments and other settings stay,
//! and an interruption at any point loses nothing.

use crate::common;

use common::clients::{Client, caller_arn};
use common::{Moto, TestEnv, TestKey, run_with_stdin};

struct Fixture {
    env: TestEnv,
    default: TestKey,
    ci: TestKey,
    done: TestKey,
    ops: TestKey,
}

const TEMP_SECRET: &str = "temporarySecretKeyThatExpiresSoon0000000";

fn credentials_text(f: &Fixture, eol: &str) -> String {
    let lines = [
        "# Team credentials: keep this comment".to_string(),
        "[default]".into(),
        format!("aws_access_key_id = {}", f.default.id),
        format!("aws_secret_access_key = {}", f.default.secret),
        "".into(),
        "# the CI robot".into(),
        "[ci]".into(),
        format!("aws_access_key_id = {}", f.ci.id),
        format!("aws_secret_access_key = {}", f.ci.secret),
        "region = eu-west-1".into(),
        "".into(),
        "[temp]".into(),
        "aws_access_key_id = ASIAIOSFODNN7EXAMPLE".into(),
        format!("aws_secret_access_key = {TEMP_SECRET}"),
        "aws_session_token = FQoGZXIvYXdzEXAMPLE".into(),
        "".into(),
        "[done]".into(),
        format!("aws_access_key_id = {}", f.done.id),
        format!("aws_secret_access_key = {}", f.done.secret),
        "".into(),
        "[ops]".into(),
        format!("aws_access_key_id = {}", f.ops.id),
        format!("aws_secret_access_key = {}", f.ops.secret),
        "".into(),
    ];
    lines.join(eol)
}

const CONFIG_BEFORE: &str = "# my config\n[default]\nregion = us-east-1\noutput = json\n\n[profile ci]\nregion = eu-west-1\n\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = ops\n";

/// Five profiles in ~/.aws/credentials; `done` is already in awskeep from an earlier run.
fn fixture(eol: &str) -> Fixture {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let f = Fixture {
        default: moto.new_user_with_key("mig-default"),
        ci: moto.new_user_with_key("mig-ci"),
        done: moto.new_user_with_key("mig-done"),
        ops: moto.new_user_with_key("mig-ops"),
        env,
    };
    f.env.write_config(CONFIG_BEFORE);
    f.env.add("done", &f.done, &[]).assert_ok();
    f.env.write_credentials(&credentials_text(&f, eol));
    f
}

fn migrate(env: &TestEnv, extra: &[&str]) -> common::Run {
    let mut args = vec!["migrate", "--yes"];
    args.extend_from_slice(extra);
    env.run(&args, "")
}

fn assert_fully_migrated(f: &Fixture, eol: &str) {
    let env = &f.env;
    for (profile, key) in [
        ("default", &f.default),
        ("ci", &f.ci),
        ("done", &f.done),
        ("ops", &f.ops),
    ] {
        for client in [Client::AwsCli, Client::Boto3] {
            let run = caller_arn(env, client, profile);
            assert_eq!(
                run.stdout.trim(),
                key.arn,
                "{client:?} --profile {profile}: {}",
                run.stderr
            );
        }
        assert_eq!(
            env.files_containing(&key.secret),
            Vec::<std::path::PathBuf>::new(),
            "{profile}'s secret left in a file"
        );
    }
    let credentials = std::fs::read_to_string(env.credentials_path()).unwrap();
    let expected = [
        "# Team credentials: keep this comment",
        "",
        "# the CI robot",
        "[ci]",
        "region = eu-west-1",
        "",
        "[temp]",
        "aws_access_key_id = ASIAIOSFODNN7EXAMPLE",
        &format!("aws_secret_access_key = {TEMP_SECRET}"),
        "aws_session_token = FQoGZXIvYXdzEXAMPLE",
        "",
    ]
    .join(eol);
    assert_eq!(
        credentials, expected,
        "comments, region and the session-token profile stay; empty sections go"
    );
    let config = env.read_config();
    assert!(
        config.starts_with(
            CONFIG_BEFORE
                .split("\n\n[profile admin]")
                .next()
                .unwrap()
                .lines()
                .next()
                .unwrap()
        )
    );
    for kept in [
        "# my config",
        "output = json",
        "role_arn = arn:aws:iam::123456789012:role/admin",
        "source_profile = ops",
    ] {
        assert!(config.contains(kept), "lost {kept:?}: {config}");
    }
}

#[test]
fn migrate_moves_every_key_and_clients_resolve_the_same_identities() {
    let f = fixture("\n");
    // Before: the clients use the plaintext keys.
    assert_eq!(
        caller_arn(&f.env, Client::AwsCli, "ops").stdout.trim(),
        f.ops.arn
    );
    let run = migrate(&f.env, &[]);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("Skipped (left as they were): temp (temporary keys"),
        "the summary says what was skipped and why: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    for key in [&f.default, &f.ci, &f.done, &f.ops] {
        assert!(!run.stderr.contains(&key.secret));
    }
    // These users may not list their own keys: IAM's creation dates are unknown, said once.
    assert_eq!(
        run.stderr
            .matches("awskeep: IAM did not say when the keys of ")
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert_fully_migrated(&f, "\n");
    // A second run has nothing left to do and changes nothing.
    let config = f.env.read_config();
    migrate(&f.env, &[]).assert_ok();
    assert_eq!(f.env.read_config(), config);
}

#[test]
fn migrate_keeps_windows_line_endings() {
    let f = fixture("\r\n");
    migrate(&f.env, &[]).assert_ok();
    assert_fully_migrated(&f, "\r\n");
}

#[test]
fn dry_run_and_keep_plaintext_leave_the_credentials_file_alone() {
    let f = fixture("\n");
    let credentials = std::fs::read_to_string(f.env.credentials_path()).unwrap();
    let config = f.env.read_config();
    let run = f.env.run(&["migrate", "--dry-run"], "");
    run.assert_ok();
    assert!(run.stderr.contains("Dry run"), "{}", run.stderr);
    assert_eq!(f.env.read_config(), config);
    assert_eq!(f.env.secret_tool_lookup("ops"), None);

    migrate(&f.env, &["--keep-plaintext", "--profile", "ops"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(f.env.credentials_path()).unwrap(),
        credentials
    );
    assert!(f.env.secret_tool_lookup("ops").is_some());
}

#[test]
fn without_a_terminal_migrate_asks_for_yes() {
    let f = fixture("\n");
    let run = f.env.run(&["migrate"], "");
    assert_eq!(run.code(), 2, "{}", run.stderr);
    let last = run.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("awskeep: cannot ask") && last.contains("--yes"),
        "{}",
        run.stderr
    );
    assert_eq!(f.env.secret_tool_lookup("ops"), None);
}

#[test]
fn a_crash_at_any_step_loses_nothing_and_a_rerun_finishes() {
    for crash_at in ["migrate:after-store-write", "migrate:after-config-write"] {
        let f = fixture("\n");
        let mut command = f.env.awskeep();
        command
            .args(["migrate", "--yes"])
            .env("AWSKEEP_TEST_CRASH_AT", crash_at);
        let run = run_with_stdin(command, "");
        assert!(
            run.status.code().is_none(),
            "{crash_at}: the process should have died: {run:?}"
        );
        // The first profile was in flight: its key is in the store, the plaintext is still there.
        let credentials = std::fs::read_to_string(f.env.credentials_path()).unwrap();
        assert!(
            credentials.contains(&f.default.secret),
            "{crash_at}: plaintext gone before the move finished"
        );
        assert!(f.env.secret_tool_lookup("default").is_some(), "{crash_at}");
        // Every client still gets a working key meanwhile.
        assert_eq!(
            caller_arn(&f.env, Client::Boto3, "default").stdout.trim(),
            f.default.arn,
            "{crash_at}"
        );

        migrate(&f.env, &[]).assert_ok();
        assert_fully_migrated(&f, "\n");
    }
}

#[test]
fn a_rejected_key_is_reported_and_left_in_place_while_the_others_move() {
    let mut f = fixture("\n");
    let wrong = format!("{}Q", &f.ops.secret[..f.ops.secret.len() - 1]);
    let text = credentials_text(&f, "\n").replace(&f.ops.secret, &wrong);
    f.env.write_credentials(&text);
    f.ops.secret = wrong.clone();
    let run = migrate(&f.env, &[]);
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("FAILED ops") && run.stderr.contains("AWS rejected the key"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&wrong));
    let credentials = std::fs::read_to_string(f.env.credentials_path()).unwrap();
    assert!(credentials.contains(&format!(
        "[ops]\naws_access_key_id = {}\naws_secret_access_key = {wrong}\n",
        f.ops.id
    )));
    assert!(!credentials.contains(&f.default.secret) && !credentials.contains(&f.ci.secret));
    assert_eq!(f.env.secret_tool_lookup("ops"), None);
    assert_eq!(
        caller_arn(&f.env, Client::AwsCli, "ci").stdout.trim(),
        f.ci.arn
    );
}

#[test]
fn import_adds_several_console_csvs_and_deletes_them_when_told() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let a = moto.new_user_with_key("imp-a");
    let b = moto.new_user_with_key("imp-b");
    let write = |name: &str, key: &TestKey| {
        let path = env.path(name);
        std::fs::write(
            &path,
            format!(
                "\u{feff}Access key ID,Secret access key\r\n{},{}\r\n",
                key.id, key.secret
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let (csv_a, csv_b) = (write("a_accessKeys.csv", &a), write("b_accessKeys.csv", &b));

    env.run(&["import", "--csv", &csv_a, "--csv", &csv_b], "")
        .assert_fails(2, "--profile");
    let run = env.run(
        &[
            "import",
            "--csv",
            &csv_a,
            "--csv",
            &csv_b,
            "--profile",
            "a",
            "--profile",
            "b",
            "--region",
            "eu-west-2",
        ],
        "",
    );
    run.assert_ok();
    assert!(
        run.stderr.contains("Kept") && std::path::Path::new(&csv_a).exists(),
        "default is to keep: {}",
        run.stderr
    );
    // One message about the kept files, not one per add and another at the end.
    assert_eq!(
        run.stderr.matches("in plain text").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "they still hold the secrets in plain text; delete them once the profiles work."
        ),
        "{}",
        run.stderr
    );
    // --region reaches each imported profile, as add's and migrate's do.
    let config = env.read_config();
    for profile in ["a", "b"] {
        let section = config
            .split("[profile ")
            .find(|s| s.starts_with(&format!("{profile}]")))
            .unwrap_or_else(|| panic!("{config}"));
        assert!(section.contains("region = eu-west-2"), "{config}");
    }
    assert_eq!(caller_arn(&env, Client::AwsCli, "a").stdout.trim(), a.arn);
    assert_eq!(caller_arn(&env, Client::Boto3, "b").stdout.trim(), b.arn);

    env.run(
        &[
            "import",
            "--csv",
            &csv_a,
            "--profile",
            "a",
            "--force",
            "--delete-csv",
        ],
        "",
    )
    .assert_ok();
    assert!(!std::path::Path::new(&csv_a).exists());
}

/// Plaintext goes only when exactly that secret is safe in the store: a key replaced in the
/// credentials file while migrate waited at its prompt is neither stored nor deleted.
#[test]
fn a_key_replaced_while_migrate_waited_is_neither_stored_nor_deleted() {
    let env = TestEnv::new();
    let old =
        "[legacy]\naws_access_key_id = AKIAOLDPLAINTEXT0001\naws_secret_access_key = old/secret\n";
    let new =
        "[legacy]\naws_access_key_id = AKIANEWPLAINTEXT0001\naws_secret_access_key = new/secret\n";
    env.write_credentials(old);
    let replacement = env.path("replacement");
    std::fs::write(&replacement, new).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = env.command("python3");
    command
        .arg(script)
        .arg("Move 1 key(s)")
        .arg(format!(
            "run:cp {} {};;y",
            replacement.display(),
            env.credentials_path().display()
        ))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(["migrate", "--no-verify"]);
    let run = run_with_stdin(command, "");
    assert!(!run.status.success(), "{}", run.stdout);
    assert!(
        run.stdout.contains("changed while awskeep was working"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        new
    );
    assert_eq!(env.secret_tool_lookup("legacy"), None, "a key was stored");
}

/// A stale temp file an interrupted write left beside the credentials file (it may hold secrets) is
/// gone after the next edit.
#[test]
fn a_temp_file_an_interrupted_write_left_is_removed_by_the_next_edit() {
    let env = TestEnv::new();
    env.write_credentials(
        "[legacy]\naws_access_key_id = AKIAOLDPLAINTEXT0001\naws_secret_access_key = old/secret\n",
    );
    let stale = env.credentials_path().with_file_name(".awskeep-AbC123");
    std::fs::write(&stale, "aws_secret_access_key = leftover/secret\n").unwrap();
    migrate(&env, &["--no-verify"]).assert_ok();
    assert!(!stale.exists(), "the stale temp file is still there");
    assert_eq!(
        env.files_containing("leftover/secret"),
        Vec::<std::path::PathBuf>::new()
    );
}

/// A section migrate empties goes with the comment right above it (it described the section); the
/// comment of the next section, and one set apart by a blank line, stay.
#[test]
fn an_emptied_section_takes_the_comment_above_it() {
    let env = TestEnv::new();
    env.write_credentials(
        "# keys of this laptop\n\n[keep]\nregion = eu-west-1\n\n# the legacy account, from 2019\n[legacy]\naws_access_key_id = AKIAOLDPLAINTEXT0001\naws_secret_access_key = old/secret\n\n# the other one\n[other]\nregion = us-east-1\n",
    );
    migrate(&env, &["--no-verify", "legacy"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        "# keys of this laptop\n\n[keep]\nregion = eu-west-1\n\n# the other one\n[other]\nregion = us-east-1\n"
    );
}

/// `AKIA…WXYZ`, as awskeep shows a key ID.
fn masked(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

/// The stored key of `profile`, as credential-process serves it.
fn served_key_id(env: &TestEnv, profile: &str) -> String {
    let run = env.run(&["credential-process", "--profile", profile], "");
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    json["AccessKeyId"].as_str().unwrap().to_string()
}

/// Plaintext lines holding another key than the stored one shadow it (the SDKs read them first).
/// doctor and migrate say which key is which and lead to either way out; nothing is deleted
/// without the user saying so, and the stored key must work before the plaintext one is dropped.
#[test]
fn plaintext_lines_with_another_key_than_the_stored_one_are_resolved_either_way() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let stored = moto.new_user_with_key("shadow");
    let plain = moto.new_key(&stored.user, &stored.arn);
    env.add("dev", &stored, &[]).assert_ok();
    let plaintext = format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        plain.id, plain.secret
    );
    env.write_credentials(&plaintext);

    let doctor = env.run(&["doctor", "dev", "--offline"], "");
    assert_eq!(doctor.code(), 1, "{}", doctor.stdout);
    for needle in [
        format!("holds key {} in plain text", masked(&plain.id)),
        format!("instead of the stored key {}", masked(&stored.id)),
        "awskeep migrate dev --discard-plaintext".to_string(),
        "awskeep migrate dev --replace-stored".to_string(),
    ] {
        assert!(
            doctor.stdout.contains(&needle),
            "{needle}: {}",
            doctor.stdout
        );
    }

    // The dry run tells the truth: not "finishing".
    let dry = migrate(&env, &["--dry-run", "dev"]);
    dry.assert_ok();
    assert!(!dry.stderr.contains("finishing"), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains(&format!("holds another key, {}", masked(&stored.id))),
        "{}",
        dry.stderr
    );
    // Without a terminal and without a choice: both keys and both flags named, nothing changed.
    let undecided = migrate(&env, &["dev"]);
    assert_ne!(undecided.code(), 0);
    assert!(
        undecided.stderr.contains("--discard-plaintext")
            && undecided.stderr.contains("--replace-stored"),
        "{}",
        undecided.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        plaintext
    );

    // Keep the stored key: the plaintext lines go, the stored key still serves.
    let discard = migrate(&env, &["dev", "--discard-plaintext"]);
    discard.assert_ok();
    assert!(
        discard.stderr.contains(&format!(
            "kept the stored key {}, deleted the plaintext lines of key {}",
            masked(&stored.id),
            masked(&plain.id)
        )),
        "{}",
        discard.stderr
    );
    assert_eq!(
        env.files_containing(&plain.secret),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(served_key_id(&env, "dev"), stored.id);
    env.run(&["doctor", "dev", "--offline"], "").assert_ok();

    // Keep the plaintext key: it replaces the stored one.
    env.write_credentials(&plaintext);
    let replaced = migrate(&env, &["dev", "--replace-stored"]);
    replaced.assert_ok();
    assert!(
        replaced.stderr.contains(&format!(
            "Key {} that the Secret Service held for dev stays in IAM (it may still be active); once nothing uses it: `aws iam delete-access-key --access-key-id {}",
            masked(&stored.id),
            stored.id
        )),
        "{}",
        replaced.stderr
    );
    assert_eq!(served_key_id(&env, "dev"), plain.id);
    assert_eq!(
        env.files_containing(&plain.secret),
        Vec::<std::path::PathBuf>::new()
    );

    // A stored key AWS refuses is not kept at the plaintext one's expense.
    moto.delete_key(&plain);
    let newest = moto.new_key(&stored.user, &stored.arn);
    env.write_credentials(&format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        newest.id, newest.secret
    ));
    let refused = migrate(&env, &["dev", "--discard-plaintext"]);
    assert_ne!(refused.code(), 0);
    assert!(
        refused.stderr.contains("was not accepted") && !refused.stderr.contains(&newest.secret),
        "{}",
        refused.stderr
    );
    assert!(
        std::fs::read_to_string(env.credentials_path())
            .unwrap()
            .contains(&newest.secret)
    );
}

/// At a terminal, migrate asks which key to keep; `n` keeps both where they are.
#[test]
fn at_a_terminal_migrate_offers_to_delete_the_stale_plaintext_lines() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let stored = moto.new_user_with_key("shadow-tty");
    let plain = moto.new_key(&stored.user, &stored.arn);
    env.add("dev", &stored, &[]).assert_ok();
    let plaintext = format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        plain.id, plain.secret
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let at_terminal = |answer: &str| {
        let mut command = env.command("python3");
        command
            .arg(script)
            .args([
                "Move 1 key(s)",
                "y",
                "and delete the plaintext lines?",
                answer,
                "--",
            ])
            .arg(env!("CARGO_BIN_EXE_awskeep"))
            .args(["migrate", "dev"]);
        common::run_with_stdin(command, "")
    };
    env.write_credentials(&plaintext);
    let no = at_terminal("n");
    assert_ne!(no.code(), 0, "{}", no.stdout);
    assert!(
        no.stdout.contains(&format!(
            "holds key {}, the plaintext lines key {} (which the AWS CLI and SDKs use now). Keep {} and delete the plaintext lines? (No changes nothing; `--replace-stored` keeps the plaintext key instead.) [y/N]",
            masked(&stored.id),
            masked(&plain.id),
            masked(&stored.id)
        )),
        "{}",
        no.stdout
    );
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        plaintext
    );
    let yes = at_terminal("y");
    assert_eq!(yes.code(), 0, "{}", yes.stdout);
    assert_eq!(
        env.files_containing(&plain.secret),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(served_key_id(&env, "dev"), stored.id);
}

/// --keep-plaintext keeps keys in ~/.aws/config too.
#[test]
fn keep_plaintext_keeps_keys_in_the_config_file_too() {
    let env = TestEnv::new();
    env.write_config(
        "[profile legacy]\naws_access_key_id = AKIAOLDPLAINTEXT0001\naws_secret_access_key = old/secret\n",
    );
    migrate(&env, &["--no-verify", "--keep-plaintext"]).assert_ok();
    let config = env.read_config();
    assert!(
        config.contains("aws_secret_access_key = old/secret"),
        "{config}"
    );
    assert!(config.contains("--profile legacy"), "{config}");
}

/// import refuses two files for one profile before it adds or deletes anything, and deleting a CSV
/// reached through a symlink deletes the file that holds the secret.
#[test]
fn import_refuses_two_files_for_one_profile_and_deletes_through_symlinks() {
    let env = TestEnv::new();
    let write = |name: &str, id: &str| {
        let path = env.path(name);
        std::fs::write(
            &path,
            format!("Access key ID,Secret access key\n{id},secret/{id}\n"),
        )
        .unwrap();
        path
    };
    let a = write("a.csv", "AKIAIMPORTCSVKEY0001");
    let b = write("b.csv", "AKIAIMPORTCSVKEY0002");
    let run = env.run(
        &[
            "import",
            "--csv",
            a.to_str().unwrap(),
            "--csv",
            b.to_str().unwrap(),
            "--profile",
            "x",
            "--profile",
            "x",
            "--no-verify",
            "--delete-csv",
        ],
        "",
    );
    assert!(!run.status.success(), "{run:?}");
    assert!(run.stderr.contains("profile x"), "{run:?}");
    assert!(a.exists() && b.exists());
    assert_eq!(env.secret_tool_lookup("x"), None);

    let link = env.path("link.csv");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    env.run(
        &[
            "import",
            "--csv",
            link.to_str().unwrap(),
            "--profile",
            "x",
            "--no-verify",
            "--delete-csv",
        ],
        "",
    )
    .assert_ok();
    assert!(!a.exists(), "the file holding the secret is still there");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the link is still there"
    );
}

/// A hard-linked credentials file is edited in place: no other name of it keeps the secret.
#[test]
fn no_other_name_of_a_hard_linked_credentials_file_keeps_the_secret() {
    let env = TestEnv::new();
    env.write_credentials(
        "[legacy]\naws_access_key_id = AKIAOLDPLAINTEXT0001\naws_secret_access_key = linked/secret\n",
    );
    let other_name = env.path("credentials-backup-link");
    std::fs::hard_link(env.credentials_path(), &other_name).unwrap();
    migrate(&env, &["--no-verify"]).assert_ok();
    assert!(
        !std::fs::read_to_string(&other_name)
            .unwrap()
            .contains("linked/secret")
    );
    assert_eq!(
        env.files_containing("linked/secret"),
        Vec::<std::path::PathBuf>::new()
    );
    assert!(env.secret_tool_lookup("legacy").is_some());
}

/// Keys in two sections of one name: the SDKs read the last; deleting would take both. Skipped.
#[test]
fn keys_in_two_sections_of_one_name_are_left_alone() {
    let env = TestEnv::new();
    let text = "[dev]\naws_access_key_id = AKIAFIRSTSECTION0001\naws_secret_access_key = first/secret\n[other]\nregion = x\n[dev]\naws_access_key_id = AKIASECONDSECTION001\naws_secret_access_key = second/secret\n";
    env.write_credentials(text);
    let run = migrate(&env, &["--no-verify"]);
    assert!(run.stderr.contains("2 sections"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        text
    );
    assert_eq!(env.secret_tool_lookup("dev"), None);
}

/// Two plaintext profiles with one key: both move (nothing is lost), and migrate warns at the
/// second that the key is now stored under both, as `add` does.
#[test]
fn migrating_one_key_under_two_profiles_warns_that_they_share_it() {
    let env = TestEnv::new();
    env.write_credentials(
        "[x]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = secretsecret\n\n[y]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = secretsecret\n",
    );
    let run = env.run(&["migrate", "--yes", "--no-verify"], "");
    run.assert_ok();
    assert!(
        run.stderr.contains(
            "awskeep: warning: key AKIA…MPLE of profile y is also stored as profile x. A key two profiles hold cannot be rotated"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("warning: key").count(),
        1,
        "{}",
        run.stderr
    );
}
