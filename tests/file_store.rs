//! The encrypted file store through the real binary, on a machine with no D-Bus at all (no
//! `DBUS_SESSION_BUS_ADDRESS`, no daemon): every command, one unlock serving later calls (16 at
//! once), `lock`, a wrong passphrase, a damaged file, no secret in any file, the automatic store
//! choice with and without a Secret Service, and `store move` interrupted and finished, with a
//! concurrent writer, with lines that name the old store, and with a newer item in either store.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::clients::{Client, caller_arn};
use common::{Moto, Run, TestEnv, TestKey, run_with_stdin, wait_for};

const PASSPHRASE: &str = "a long test passphrase";

/// awskeep with the settings every process here gets: a quick scrypt for new stores, a short unlock.
fn awskeep(env: &TestEnv, args: &[&str]) -> Command {
    let mut command = env.awskeep();
    command
        .args(args)
        .env("AWSKEEP_TEST_SCRYPT_LOG_N", "12")
        .env("AWSKEEP_UNLOCK_TIMEOUT", "15m");
    command
}

fn run(env: &TestEnv, args: &[&str], stdin: &str) -> Run {
    run_with_stdin(awskeep(env, args), stdin)
}

/// With the passphrase in the environment, as automation would pass it.
fn run_with_passphrase(env: &TestEnv, args: &[&str], stdin: &str) -> Run {
    let mut command = awskeep(env, args);
    command.env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE);
    run_with_stdin(command, stdin)
}

/// At a terminal (tests/support/pty_run.py), answering `dialogue`.
fn at_terminal(env: &TestEnv, dialogue: &[&str], args: &[&str]) -> Run {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = env.command("python3");
    command
        .arg(script)
        .args(dialogue)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(args)
        .env("AWSKEEP_TEST_SCRYPT_LOG_N", "12")
        .env("AWSKEEP_UNLOCK_TIMEOUT", "15m");
    run_with_stdin(command, "")
}

fn served_id(env: &TestEnv, profile: &str) -> String {
    let run = run(env, &["credential-process", "--profile", profile], "");
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    json["AccessKeyId"].as_str().unwrap().to_string()
}

fn key_stdin(key: &TestKey) -> String {
    format!("{}\n{}\n", key.id, key.secret)
}

fn recorded_choice(env: &TestEnv) -> Option<String> {
    std::fs::read_to_string(env.path("data/awskeep/store"))
        .ok()
        .map(|s| s.trim().to_string())
}

#[test]
fn the_whole_command_set_runs_on_the_file_store_without_dbus() {
    let moto = Moto::connect();
    let env = TestEnv::without_keyring();
    let dev = moto.new_admin_with_key("fs-dev");
    let sess = moto.new_user_allowed("fs-sess", &["sts:GetSessionToken"]);
    let legacy = moto.new_user_with_key("fs-legacy");

    // The first write creates the store with the passphrase from the environment.
    let add = run_with_passphrase(&env, &["-v", "add", "dev"], &key_stdin(&dev));
    add.assert_ok();
    assert!(
        add.stderr
            .contains("using the file store (there is no session bus"),
        "{}",
        add.stderr
    );
    assert!(add.stderr.contains("Created the awskeep file store"));
    assert_eq!(recorded_choice(&env).as_deref(), Some("file"));

    // Unlocked once (the variable opened the store for `add` alone): later calls need no
    // passphrase and no terminal.
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    assert_eq!(served_id(&env, "dev"), dev.id);
    assert_eq!(
        caller_arn(&env, Client::AwsCli, "dev").stdout.trim(),
        dev.arn
    );

    // 16 parallel credential_process calls, all correct.
    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut command = awskeep(&env, &["credential-process", "--profile", "dev"]);
            command
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    for child in children {
        let run = wait_for(child, Duration::from_secs(60));
        run.assert_ok();
        assert!(run.stdout.contains(&dev.id), "{}", run.stdout);
    }

    // Sessions: fetched once, then served from the file store's cache.
    run(&env, &["add", "sess", "--session", "on"], &key_stdin(&sess)).assert_ok();
    let first = run(&env, &["credential-process", "--profile", "sess"], "");
    first.assert_ok();
    assert!(first.stdout.contains("SessionToken"), "{}", first.stdout);
    let second = run(&env, &["credential-process", "--profile", "sess"], "");
    assert_eq!(first.stdout, second.stdout, "the cached session is served");

    // migrate: a plaintext key into the file store.
    env.write_credentials(&format!(
        "[legacy]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        legacy.id, legacy.secret
    ));
    run(&env, &["migrate", "--yes"], "").assert_ok();
    assert_eq!(served_id(&env, "legacy"), legacy.id);

    // rotate: a new key in IAM and in the store; the old one stays for the lease (the debug
    // build's, 4 s and 1 s of slack) and is then deleted by the detached finisher, which opens the
    // file store as unlocked above (it has no terminal to ask on).
    let mut rotate = awskeep(&env, &["rotate", "--profile", "dev", "--yes"]);
    rotate.env("AWSKEEP_DEBUG_KEY_LEASE_SECS", "4");
    let rotation = run_with_stdin(rotate, "");
    rotation.assert_ok();
    let rotated = served_id(&env, "dev");
    assert_ne!(rotated, dev.id);
    assert!(moto.key_ids(&dev.user).contains(&dev.id), "{rotation:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while moto.key_ids(&dev.user) != vec![rotated.clone()] {
        assert!(
            std::time::Instant::now() < deadline,
            "the finisher did not delete the old key: {:?}",
            moto.key_ids(&dev.user)
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }

    let list = run(&env, &["list", "--json"], "");
    list.assert_ok();
    for profile in ["dev", "legacy", "sess"] {
        assert!(
            list.stdout.contains(&format!("\"profile\": \"{profile}\"")),
            "{}",
            list.stdout
        );
    }

    run(&env, &["remove", "legacy", "--yes"], "").assert_ok();
    run(&env, &["credential-process", "--profile", "legacy"], "").assert_fails(3, "legacy");

    // No secret, and no profile name, in plain text in any file the test's processes wrote
    // (~/.aws/credentials was emptied by migrate).
    for secret in [&dev.secret, &sess.secret, &legacy.secret] {
        assert!(
            env.files_containing(secret).is_empty(),
            "{:?}",
            env.files_containing(secret)
        );
    }
    let store_dir = env.path("data/awskeep");
    for entry in std::fs::read_dir(&store_dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        for needle in [rotated.as_bytes(), b"sess".as_slice(), b"AKIA".as_slice()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{:?}",
                entry.path()
            );
        }
    }

    // lock: the next call fails at once, naming the command that unlocks.
    run(&env, &["lock"], "").assert_ok();
    let started = Instant::now();
    run(&env, &["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "Hint: run `awskeep unlock` in a terminal");
    assert!(started.elapsed() < Duration::from_secs(5), "it waited");
}

/// Protects the rotation's detached finisher on the file store now that a passphrase variable
/// unlocks only its own command (issue 21 item 6): the finisher gets no passphrase, so a rotation
/// given only the variable says the finisher needs the store unlocked, and an `awskeep unlock`
/// before the old key's time lets it delete the key.
#[test]
fn a_rotation_by_passphrase_variable_says_its_finisher_needs_an_unlock_and_one_suffices() {
    let moto = Moto::connect();
    let env = TestEnv::without_keyring();
    let dev = moto.new_admin_with_key("fs-rotate-var");
    run_with_passphrase(&env, &["add", "dev"], &key_stdin(&dev)).assert_ok();
    let mut rotate = awskeep(&env, &["rotate", "--profile", "dev", "--yes"]);
    rotate
        .env("AWSKEEP_DEBUG_KEY_LEASE_SECS", "4")
        .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE);
    let rotation = run_with_stdin(rotate, "");
    rotation.assert_ok();
    assert!(
        rotation.stderr.contains(
            "a background awskeep deletes it then if the file store is unlocked at that time (`awskeep unlock`), otherwise `awskeep rotate --profile dev` after that time does"
        ),
        "{}",
        rotation.stderr
    );
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    let rotated = served_id(&env, "dev");
    assert_ne!(rotated, dev.id);
    let deadline = Instant::now() + Duration::from_secs(30);
    while moto.key_ids(&dev.user) != vec![rotated.clone()] {
        assert!(
            Instant::now() < deadline,
            "the finisher did not delete the old key: {:?}",
            moto.key_ids(&dev.user)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    run(&env, &["lock"], "").assert_ok();
}

#[test]
fn one_unlock_at_the_terminal_serves_later_calls_and_a_wrong_passphrase_is_refused() {
    let env = TestEnv::without_keyring();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    run(&env, &["lock"], "").assert_ok();
    run(&env, &["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "is locked and there is no terminal");

    let wrong = at_terminal(
        &env,
        &["!Passphrase for the awskeep file store", "wrong"],
        &["unlock"],
    );
    assert_eq!(wrong.code(), 4, "{}", wrong.stdout);
    assert!(
        wrong.stdout.contains("the passphrase does not open"),
        "{}",
        wrong.stdout
    );
    run(&env, &["credential-process", "--profile", "dev"], "").assert_fails(4, "awskeep unlock");

    let unlock = at_terminal(
        &env,
        &["!Passphrase for the awskeep file store", PASSPHRASE],
        &["unlock"],
    );
    assert!(unlock.status.success(), "{}", unlock.stdout);
    assert!(
        unlock.stdout.contains("is unlocked for 15m"),
        "{}",
        unlock.stdout
    );
    // No prompt, no terminal, no passphrase in the environment.
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");

    // Locked again, the first command run at a terminal asks for the passphrase itself.
    run(&env, &["lock"], "").assert_ok();
    let asked = at_terminal(
        &env,
        &["!Passphrase for the awskeep file store", PASSPHRASE],
        &["credential-process", "--profile", "dev"],
    );
    assert!(asked.status.success(), "{}", asked.stdout);
    assert!(asked.stdout.contains("AKIAIOSFODNN7EXAMPLE"));
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");
    run(&env, &["lock"], "").assert_ok();
}

#[test]
fn a_damaged_or_foreign_store_file_is_one_line_and_left_alone() {
    let env = TestEnv::without_keyring();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    let items = env.path("data/awskeep/items.age");
    let mut bytes = std::fs::read(&items).unwrap();
    let at = bytes.len() - 3;
    bytes[at] ^= 0xff;
    std::fs::write(&items, &bytes).unwrap();
    run_with_passphrase(&env, &["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "items.age cannot be used");
    assert_eq!(std::fs::read(&items).unwrap(), bytes, "left as it was");
    run(&env, &["lock"], "").assert_ok();
    // A file of another user can only be made by root: this part needs root, and says so.
    #[cfg(unix)]
    if common::root_or_skip("a store file of another user is refused") {
        std::os::unix::fs::chown(&items, Some(65534), None).unwrap();
        run_with_passphrase(&env, &["credential-process", "--profile", "dev"], "")
            .assert_fails(4, "belongs to another user (uid 65534)");
    }
}

/// Protects the confirmation of a new passphrase: two different answers create nothing, and the
/// next start asks for a new passphrase again.
#[test]
fn a_new_passphrase_whose_confirmation_differs_creates_nothing() {
    let env = TestEnv::without_keyring();
    let differ = at_terminal(
        &env,
        &[
            "!New passphrase",
            PASSPHRASE,
            "!The same passphrase again",
            "another passphrase",
        ],
        &["unlock"],
    );
    assert_eq!(differ.code(), 1, "{}", differ.stdout);
    assert!(
        differ.stdout.contains("the two passphrases differ"),
        "{}",
        differ.stdout
    );
    assert!(
        !env.path("data/awskeep/master.age").exists(),
        "a store was created"
    );
    let again = at_terminal(
        &env,
        &[
            "!New passphrase",
            PASSPHRASE,
            "!The same passphrase again",
            PASSPHRASE,
        ],
        &["unlock"],
    );
    assert!(again.status.success(), "{}", again.stdout);
    run(&env, &["lock"], "").assert_ok();
}

/// Protects `unlock`'s check that the items file opens with the master key: a folder holding
/// another store's items.age (same passphrase, another master key) is refused, and nothing is
/// kept unlocked.
#[test]
fn unlock_refuses_an_items_file_of_another_store() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let (env, other) = (TestEnv::without_keyring(), TestEnv::without_keyring());
    for e in [&env, &other] {
        run_with_passphrase(e, &["add", "dev", "--no-verify"], key).assert_ok();
        run(e, &["lock"], "").assert_ok();
    }
    std::fs::copy(
        other.path("data/awskeep/items.age"),
        env.path("data/awskeep/items.age"),
    )
    .unwrap();
    run_with_passphrase(&env, &["unlock"], "").assert_fails(
        4,
        "was not encrypted to the master key in master.age beside it",
    );
    run(&env, &["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "is locked and there is no terminal");
}

/// Protects `unlock` on an unlocked file store: it says so and for how long (the kernel key's time
/// left), exit 0, with neither a passphrase nor a terminal (login scripts run `unlock || exit`).
#[test]
fn unlock_on_an_unlocked_store_says_for_how_long_and_succeeds() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let env = TestEnv::without_keyring();
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    run(&env, &["lock"], "").assert_ok();
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    let again = run(&env, &["unlock"], "");
    again.assert_ok();
    assert!(
        again.stderr.contains("is already unlocked for about 1")
            && again.stderr.contains(" more minutes"),
        "{}",
        again.stderr
    );
    // A new timeout takes the passphrase again: without a terminal, the error says the store is
    // unlocked (it is, and stays so), not that it is locked.
    let renew = run(&env, &["unlock", "--timeout", "90m"], "");
    renew.assert_fails(4, "is unlocked for about 1");
    assert!(
        renew.stderr.contains(
            "but a new timeout takes its passphrase again, and there is no terminal to ask for it"
        ) && !renew.stderr.contains("is locked"),
        "{}",
        renew.stderr
    );
    run(&env, &["list"], "").assert_ok();
    run(&env, &["lock"], "").assert_ok();
    run(&env, &["unlock"], "").assert_fails(4, "is locked and there is no terminal");
}

/// Protects `store show`'s answer going to stdout, the command's product, with nothing on stderr
/// (`awskeep store show | grep -q file`).
#[test]
fn store_show_prints_its_answer_on_stdout() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let env = TestEnv::without_keyring();
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    let shown = run_with_passphrase(&env, &["store", "show"], "");
    shown.assert_ok();
    assert!(
        shown.stdout.starts_with("file store ("),
        "stdout: {:?}, stderr: {:?}",
        shown.stdout,
        shown.stderr
    );
    assert_eq!(shown.stderr, "", "store show's answer is not a message");
}

#[test]
fn the_automatic_choice_follows_the_bus_and_then_the_record() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    // With a Secret Service on the bus.
    let env = TestEnv::new();
    let listed = run(&env, &["-v", "list"], "");
    assert!(
        listed
            .stderr
            .contains("using the Secret Service (a Secret Service answered on the session bus"),
        "{}",
        listed.stderr
    );
    assert_eq!(recorded_choice(&env), None, "a read records nothing");
    run(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));
    assert!(env.secret_tool_lookup("dev").is_some());
    let shown = run(&env, &["store", "show"], "");
    shown.assert_ok();
    assert!(
        shown.stdout.starts_with("Secret Service (as recorded in "),
        "{}",
        shown.stdout
    );

    // A recorded file store is used even with a Secret Service on the bus.
    let other = TestEnv::new();
    std::fs::create_dir_all(other.path("data/awskeep")).unwrap();
    std::fs::write(other.path("data/awskeep/store"), "file\n").unwrap();
    let listed = run(&other, &["-v", "list"], "");
    assert!(
        listed
            .stderr
            .contains("using the file store (as recorded in"),
        "{}",
        listed.stderr
    );

    // Without a bus: the file store, at once.
    let headless = TestEnv::without_keyring();
    let started = Instant::now();
    let listed = run(&headless, &["-v", "list"], "");
    assert!(
        listed
            .stderr
            .contains("using the file store (there is no session bus"),
        "{}",
        listed.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Protects the store choice from the keyring's start (issue 21 item 4): right after
/// `gnome-keyring-daemon --unlock` returns, the daemon takes its bus name a few milliseconds later,
/// and awskeep run at once then chose the file store about one time in three. Same machine, same
/// choice: every one of 20 fresh starts is the Secret Service.
#[test]
fn right_after_the_keyring_starts_the_choice_is_the_secret_service_every_time() {
    for start in 0..20 {
        let env = TestEnv::keyring_just_started();
        let listed = run(&env, &["-v", "list"], "");
        listed.assert_ok();
        assert!(
            listed.stderr.contains("using the Secret Service ("),
            "start {start}: {}",
            listed.stderr
        );
    }
}

/// Protects the machine's recorded store from that race (issue 21 item 4): with the file store's
/// passphrase exported, as a CI script has it, a first write right after the keyring starts
/// creates no file store and records none.
#[test]
fn a_passphrase_exported_while_the_keyring_starts_records_no_file_store() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    for start in 0..8 {
        let env = TestEnv::keyring_just_started();
        let added = run_with_passphrase(&env, &["-v", "add", "dev", "--no-verify"], key);
        assert!(
            added.stderr.contains("using the Secret Service ("),
            "start {start}: {}",
            added.stderr
        );
        assert!(
            !env.path("data/awskeep/master.age").exists(),
            "start {start}: a file store was created: {}",
            added.stderr
        );
        assert_ne!(
            recorded_choice(&env).as_deref(),
            Some("file"),
            "start {start}: {}",
            added.stderr
        );
    }
}

/// Protects the store choice from a session bus that does not answer (issue 21 item 4): nothing
/// can be concluded, so the command fails within seconds saying how to choose, and a passphrase in
/// the environment creates no file store and records none; named, the store works at once.
#[test]
fn a_bus_that_does_not_answer_chooses_no_store_and_creates_none() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let env = TestEnv::without_keyring();
    // Where a login's bus listens ($XDG_RUNTIME_DIR/bus): this one takes connections and never
    // says a word.
    let _silent_bus = std::os::unix::net::UnixListener::bind(env.path("run/bus")).unwrap();
    let started = Instant::now();
    let added = run_with_passphrase(&env, &["add", "dev", "--no-verify"], key);
    added.assert_fails(
        4,
        "awskeep cannot tell which store to use here: the session bus did not answer within 2 s",
    );
    assert!(added.stderr.contains("--store file"), "{}", added.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "it waited");
    assert!(!env.path("data/awskeep/master.age").exists());
    assert_eq!(recorded_choice(&env), None);
    run_with_passphrase(&env, &["--store", "file", "add", "dev", "--no-verify"], key).assert_ok();
}

#[test]
fn store_move_is_crash_safe_both_ways() {
    let env = TestEnv::new();
    let dev = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let prod = "AKIAI44QH8DHBEXAMPLE\nje7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";
    run(&env, &["add", "dev", "--no-verify"], dev).assert_ok();
    run(&env, &["add", "prod", "--no-verify"], prod).assert_ok();

    // Killed after the copy: both stores hold the items, the Secret Service is still the one used.
    let mut crashed = awskeep(&env, &["store", "move", "--to", "file"]);
    crashed
        .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWSKEEP_TEST_CRASH_AT", "store-move:after-copy");
    assert!(!run_with_stdin(crashed, "").status.success());
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));
    assert!(env.secret_tool_lookup("dev").is_some());
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");

    // A plain re-run finishes it, and says the store it moved to is locked for other commands (the
    // passphrase variable opened it for the move alone); unlocked once, it serves plain calls.
    let moved = run_with_passphrase(&env, &["store", "move", "--to", "file"], "");
    moved.assert_ok();
    assert!(
        moved.stderr.contains(
            "The file store is locked for other commands: run `awskeep unlock` so AWS clients can read it."
        ),
        "{}",
        moved.stderr
    );
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    assert_eq!(recorded_choice(&env).as_deref(), Some("file"));
    assert!(env.secret_tool_lookup("dev").is_none());
    assert!(env.secret_tool_lookup("prod").is_none());
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(served_id(&env, "prod"), "AKIAI44QH8DHBEXAMPLE");

    // And back, killed after the choice was recorded: a re-run deletes what is left in the file.
    let mut crashed = awskeep(&env, &["store", "move", "--to", "secret-service"]);
    crashed.env("AWSKEEP_TEST_CRASH_AT", "store-move:after-record");
    assert!(!run_with_stdin(crashed, "").status.success());
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));
    assert_eq!(served_id(&env, "prod"), "AKIAI44QH8DHBEXAMPLE");
    run(&env, &["store", "move", "--to", "secret-service"], "").assert_ok();
    assert!(env.secret_tool_lookup("dev").is_some());
    let left = run(&env, &["--store", "file", "list", "--json"], "");
    left.assert_ok();
    assert!(
        !left.stdout.contains("\"in_store\": true"),
        "{}",
        left.stdout
    );
    run(&env, &["--store", "file", "lock"], "").assert_ok();
}

/// Starts `args` with `stdin` written and closed, its output piped, for `wait_for`.
fn spawn_with_passphrase(
    env: &TestEnv,
    args: &[&str],
    stdin: &str,
    pause: Option<&str>,
) -> std::process::Child {
    use std::io::Write;
    let mut command = awskeep(env, args);
    command
        .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(pause) = pause {
        command.env("AWSKEEP_TEST_PAUSE_AT", pause);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child
}

/// Nothing written during a move is lost: an `add --force` that starts while the move is between
/// its copy and its delete waits for the move, then writes to the store the move chose.
#[test]
fn an_add_during_a_store_move_waits_for_it_and_is_not_lost() {
    let env = TestEnv::new();
    let old = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let new = "AKIAI44QH8DHBEXAMPLE\nje7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";
    run(&env, &["add", "dev", "--no-verify"], old).assert_ok();
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));

    let paused = env.path("move-paused");
    let pause = format!("store-move:after-copy={}", paused.display());
    let mover = spawn_with_passphrase(&env, &["store", "move", "--to", "file"], "", Some(&pause));
    let started = Instant::now();
    while !paused.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the move never reached its pause"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut adder =
        spawn_with_passphrase(&env, &["add", "dev", "--force", "--no-verify"], new, None);
    // The add waits while the move holds the store.
    std::thread::sleep(Duration::from_secs(2));
    let waited = adder.try_wait().unwrap().is_none();
    std::fs::remove_file(&paused).unwrap();
    let moved = wait_for(mover, Duration::from_secs(60));
    moved.assert_ok();
    let added = wait_for(adder, Duration::from_secs(60));
    added.assert_ok();
    run_with_passphrase(&env, &["unlock"], "").assert_ok();

    assert_eq!(recorded_choice(&env).as_deref(), Some("file"));
    assert!(env.secret_tool_lookup("dev").is_none());
    assert_eq!(
        served_id(&env, "dev"),
        "AKIAI44QH8DHBEXAMPLE",
        "the add was lost"
    );
    assert!(
        waited,
        "the add did not wait for the move: {}",
        added.stderr
    );
    assert!(
        added
            .stderr
            .contains("waiting for `awskeep store move` to finish"),
        "{}",
        added.stderr
    );
}

/// A line that names the old store (`--store file`, from `add --store file`) is rewritten to name
/// the new one, and an AWS client keeps working after the move.
#[test]
fn a_store_move_rewrites_the_lines_that_name_the_old_store_and_clients_keep_working() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let dev = moto.new_admin_with_key("mv-pinned");
    run_with_passphrase(&env, &["--store", "file", "add", "dev"], &key_stdin(&dev)).assert_ok();
    run_with_passphrase(&env, &["--store", "file", "unlock"], "").assert_ok();
    assert!(
        env.read_config().contains("--store file"),
        "{}",
        env.read_config()
    );
    assert_eq!(
        caller_arn(&env, Client::Boto3, "dev").stdout.trim(),
        dev.arn
    );

    let moved = run_with_passphrase(
        &env,
        &["--store", "file", "store", "move", "--to", "secret-service"],
        "",
    );
    moved.assert_ok();
    let config = env.read_config();
    assert!(
        config.contains("--profile dev --store secret-service"),
        "{config}"
    );
    assert!(!config.contains("--store file"), "{config}");
    assert!(
        moved
            .stderr
            .contains("Rewrote the credential_process line of dev"),
        "{}",
        moved.stderr
    );
    assert!(env.secret_tool_lookup("dev").is_some());
    let client = caller_arn(&env, Client::Boto3, "dev");
    assert_eq!(client.stdout.trim(), dev.arn, "{}", client.stderr);
}

/// Where both stores hold a different key for a profile, the one written later wins whichever store
/// the recorded choice names, and the message says which was newer.
#[test]
fn the_newer_item_wins_a_store_move_and_the_message_says_so() {
    let env = TestEnv::new();
    let first = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let second = "AKIAI44QH8DHBEXAMPLE\nje7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";
    let third = "AKIAJ55QH8DHBEXAMPLE\nKe7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";
    run(&env, &["add", "dev", "--no-verify"], first).assert_ok();

    // Killed once the choice names the file store: both stores hold the first key.
    let mut crashed = awskeep(&env, &["store", "move", "--to", "file"]);
    crashed
        .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWSKEEP_TEST_CRASH_AT", "store-move:after-record");
    assert!(!run_with_stdin(crashed, "").status.success());
    assert_eq!(recorded_choice(&env).as_deref(), Some("file"));
    // Then a newer key goes to the Secret Service (items record their time to the second).
    std::thread::sleep(Duration::from_millis(1100));
    run(
        &env,
        &[
            "--store",
            "secret-service",
            "add",
            "dev",
            "--force",
            "--no-verify",
        ],
        second,
    )
    .assert_ok();
    let finished = run_with_passphrase(&env, &["store", "move", "--to", "file"], "");
    finished.assert_ok();
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    assert!(
        finished.stderr.contains(
            "the Secret Service's key was written after the file store's; kept the Secret Service's newer key"
        ),
        "{}",
        finished.stderr
    );
    assert_eq!(served_id(&env, "dev"), "AKIAI44QH8DHBEXAMPLE");
    assert!(env.secret_tool_lookup("dev").is_none());

    // And the other way: the store the choice names holds the newer key, which stays.
    let mut crashed = awskeep(&env, &["store", "move", "--to", "secret-service"]);
    crashed
        .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE)
        .env("AWSKEEP_TEST_CRASH_AT", "store-move:after-record");
    assert!(!run_with_stdin(crashed, "").status.success());
    std::thread::sleep(Duration::from_millis(1100));
    run(
        &env,
        &[
            "--store",
            "secret-service",
            "add",
            "dev",
            "--force",
            "--no-verify",
        ],
        third,
    )
    .assert_ok();
    let finished = run_with_passphrase(&env, &["store", "move", "--to", "secret-service"], "");
    finished.assert_ok();
    assert!(
        finished.stderr.contains(
            "the Secret Service's key was written after the file store's; kept the Secret Service's newer key"
        ),
        "{}",
        finished.stderr
    );
    assert_eq!(served_id(&env, "dev"), "AKIAJ55QH8DHBEXAMPLE");
}

#[test]
fn a_failed_first_write_records_no_choice() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    // No bus, no passphrase, no terminal: the file store cannot be created, and nothing is recorded.
    let headless = TestEnv::without_keyring();
    let failed = run(&headless, &["add", "dev", "--no-verify"], key);
    failed.assert_fails(4, "awskeep unlock");
    assert_eq!(recorded_choice(&headless), None, "{}", failed.stderr);
}

/// Protects `unlock` and `lock` on a machine whose store is the Secret Service (issue 21 item 8):
/// `unlock` creates no file store and succeeds, naming the Secret Service (a login script's
/// `awskeep unlock || exit` passes); `lock` says what it did there (awskeep's credential cache),
/// not what it did not do to a file store; `--store file` still reaches the file store.
#[test]
fn unlock_and_lock_on_a_secret_service_machine_name_the_secret_service_and_create_nothing() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let env = TestEnv::new();
    run(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));
    let master = env.path("data/awskeep/master.age");
    // With the passphrase variable exported too, as a login script might have it.
    for unlock in [
        run(&env, &["unlock"], ""),
        run_with_passphrase(&env, &["unlock"], ""),
    ] {
        unlock.assert_ok();
        assert!(
            unlock.stderr.contains(
                "awskeep keeps its keys in the Secret Service here, which its own keyring unlocks"
            ) && unlock.stderr.contains("it is unlocked"),
            "{}",
            unlock.stderr
        );
        assert!(
            !master.exists(),
            "unlock created a file store: {}",
            unlock.stderr
        );
    }
    let locked = run(&env, &["lock"], "");
    locked.assert_ok();
    assert!(
        locked
            .stderr
            .contains("awskeep keeps its keys in the Secret Service here")
            && locked.stderr.contains("dropped awskeep's credential cache")
            && !locked.stderr.contains("file store"),
        "{}",
        locked.stderr
    );
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");

    // Named, the file store is unlocked (created here) and locked; the machine's choice stays.
    let unlocked = run_with_passphrase(&env, &["--store", "file", "unlock"], "");
    unlocked.assert_ok();
    assert!(
        unlocked.stderr.contains("The file store ("),
        "{}",
        unlocked.stderr
    );
    // A plain lock locks it too, and says so after what it did for the store in use.
    let locked = run(&env, &["lock"], "");
    locked.assert_ok();
    assert!(
        locked
            .stderr
            .starts_with("awskeep keeps its keys in the Secret Service here")
            && locked
                .stderr
                .contains("which awskeep does not use here, is locked too"),
        "{}",
        locked.stderr
    );
    assert_eq!(recorded_choice(&env).as_deref(), Some("secret-service"));
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");
}

/// Protects `lock`'s message without a Secret Service (issue 21 item 8): it names the file store
/// and what happened to it (none yet, locked now, was not unlocked), never the Secret Service.
#[test]
fn lock_on_a_headless_machine_names_the_file_store_and_what_it_did() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let env = TestEnv::without_keyring();
    let says = |expected: &str| {
        let locked = run(&env, &["lock"], "");
        locked.assert_ok();
        assert!(
            locked.stderr.contains(expected) && !locked.stderr.contains("Secret Service"),
            "expected {expected:?}: {}",
            locked.stderr
        );
    };
    says("There is no file store in ");
    assert!(
        !env.path("data/awskeep/master.age").exists(),
        "lock created a store"
    );
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    says("was not unlocked; it stays locked");
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    says("is locked, for every login of yours");
    says("was not unlocked; it stays locked");
}

/// Protects the scope of `AWSKEEP_FILE_PASSPHRASE` and `_COMMAND` (issue 21 item 6): given to one
/// command, they open the store for that command only (the next plain call is locked), and a
/// wrong value is refused even while `awskeep unlock` keeps the store open for everyone else.
#[test]
fn the_passphrase_variables_open_the_store_for_their_own_command_only() {
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let env = TestEnv::without_keyring();
    let plain_call_is_locked = || {
        run(&env, &["credential-process", "--profile", "dev"], "")
            .assert_fails(4, "is locked and there is no terminal");
    };
    // The command that creates the store with the variable keeps nothing either.
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    plain_call_is_locked();
    run(&env, &["lock"], "").assert_ok();
    let listed = run_with_passphrase(&env, &["list"], "");
    listed.assert_ok();
    assert!(listed.stdout.contains("dev"), "{}", listed.stdout);
    plain_call_is_locked();
    let mut by_command = awskeep(&env, &["credential-process", "--profile", "dev"]);
    by_command.env(
        "AWSKEEP_FILE_PASSPHRASE_COMMAND",
        format!("echo '{PASSPHRASE}'"),
    );
    let served = run_with_stdin(by_command, "");
    served.assert_ok();
    assert!(served.stdout.contains("AKIAIOSFODNN7EXAMPLE"));
    plain_call_is_locked();

    // Unlocked for every command: a wrong value in either variable is still refused.
    run_with_passphrase(&env, &["unlock"], "").assert_ok();
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");
    for (variable, value) in [
        ("AWSKEEP_FILE_PASSPHRASE", "not the passphrase"),
        (
            "AWSKEEP_FILE_PASSPHRASE_COMMAND",
            "echo 'not the passphrase'",
        ),
    ] {
        let mut wrong = awskeep(&env, &["credential-process", "--profile", "dev"]);
        wrong.env(variable, value);
        run_with_stdin(wrong, "").assert_fails(4, "the passphrase does not open");
        let mut wrong = awskeep(&env, &["unlock"]);
        wrong.env(variable, value);
        run_with_stdin(wrong, "").assert_fails(4, "the passphrase does not open");
    }
    // The right value still opens it, and the unlock still serves plain calls.
    let served = run_with_passphrase(&env, &["credential-process", "--profile", "dev"], "");
    served.assert_ok();
    assert_eq!(served_id(&env, "dev"), "AKIAIOSFODNN7EXAMPLE");
    run(&env, &["lock"], "").assert_ok();
    plain_call_is_locked();
}

/// The expiry /proc/keys shows for the file store's cached master key (`7101w`, `15m`).
fn cached_master_key_expiry() -> Vec<String> {
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    keys.lines()
        .filter(|l| l.contains(" awskeep:file-store:"))
        .map(|l| l.split_whitespace().nth(3).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn an_unlock_timeout_the_kernel_cannot_hold_is_refused_not_wrapped() {
    let env = TestEnv::without_keyring();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    run(&env, &["lock"], "").assert_ok();
    // 2^32+1 s wrapped to 1 s and 2^32 s to "never": both are refused, by flag and by variable.
    for timeout in ["4294967297s", "4294967296s", "200years"] {
        run_with_passphrase(&env, &["unlock", "--timeout", timeout], "")
            .assert_fails(2, "at most 4294967295s");
        let mut command = awskeep(&env, &["unlock"]);
        command
            .env("AWSKEEP_FILE_PASSPHRASE", PASSPHRASE)
            .env("AWSKEEP_UNLOCK_TIMEOUT", timeout);
        run_with_stdin(command, "").assert_fails(1, "at most 4294967295s");
        run(&env, &["credential-process", "--profile", "dev"], "").assert_fails(4, "is locked");
    }
    run_with_passphrase(&env, &["unlock", "--timeout", "0s"], "").assert_fails(2, "at least 1s");
    // The longest that fits is what the kernel is given, and what the message says.
    let before = cached_master_key_expiry();
    let longest = run_with_passphrase(&env, &["unlock", "--timeout", "4294967295s"], "");
    longest.assert_ok();
    assert!(longest.stderr.contains("136years"), "{}", longest.stderr);
    let after = cached_master_key_expiry();
    run(&env, &["lock"], "").assert_ok();
    let longest_kept = |expiries: &[String]| expiries.iter().filter(|e| *e == "7101w").count();
    assert!(
        longest_kept(&after) > longest_kept(&before),
        "the cached key's expiry: {after:?} (before: {before:?})"
    );
}

/// `credential-process` for `dev` on a locked store, with the passphrase from `passphrase_command`
/// and a 1 GiB address-space limit (`ulimit -v`); `extra` sets more variables. The run and how
/// long it took; the test fails past 20 s instead of waiting for a hung awskeep.
fn served_by_passphrase_command(
    env: &TestEnv,
    passphrase_command: &str,
    extra: &[(&str, &str)],
) -> (Run, Duration) {
    let mut command = env.command("sh");
    command
        .args(["-c", "ulimit -v 1048576 && exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(["credential-process", "--profile", "dev"])
        .env("AWSKEEP_TEST_SCRYPT_LOG_N", "12")
        .env("AWSKEEP_FILE_PASSPHRASE_COMMAND", passphrase_command)
        .envs(extra.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let run = wait_for(command.spawn().expect("sh"), Duration::from_secs(20));
    (run, started.elapsed())
}

#[test]
fn the_passphrase_command_is_read_to_its_first_line_within_a_deadline() {
    let env = TestEnv::without_keyring();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    run_with_passphrase(&env, &["add", "dev", "--no-verify"], key).assert_ok();
    let served = |run: &Run| {
        run.assert_ok();
        assert!(
            run.stdout.contains("AKIAIOSFODNN7EXAMPLE"),
            "{}",
            run.stdout
        );
    };

    // A command that never stops printing: its first line is the passphrase and nothing past it is
    // read (reading it to the end ran out of memory: 530 MB in 5 s, past the 1 GiB limit here).
    run(&env, &["lock"], "").assert_ok();
    let (done, took) = served_by_passphrase_command(&env, &format!("yes '{PASSPHRASE}'"), &[]);
    served(&done);
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // A command that leaves a background process holding its stdout and stderr, then answers: the
    // answer is taken once the command has exited, without waiting for the holder (60 s).
    run(&env, &["lock"], "").assert_ok();
    let holder = format!("sleep 60 & echo chatter >&2; echo '{PASSPHRASE}'");
    let (done, took) = served_by_passphrase_command(&env, &holder, &[]);
    served(&done);
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // A command that never answers is stopped at its deadline (30 s; 2 s here, through the
    // debug-only override) with one line that says so.
    run(&env, &["lock"], "").assert_ok();
    let (done, took) =
        served_by_passphrase_command(&env, "sleep 60", &[("AWSKEEP_TEST_HELPER_DEADLINE", "2s")]);
    done.assert_fails(
        1,
        "the passphrase command `sleep 60` failed: it gave no answer within 2s and was stopped",
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // A first line longer than a passphrase can be is refused, not read on.
    let (done, _) =
        served_by_passphrase_command(&env, "head -c 100000 /dev/zero | tr '\\0' x", &[]);
    done.assert_fails(1, "its first line is longer than 4096 bytes");
}

/// What the script printed after `marker ` on its line.
fn after<'a>(stdout: &'a str, marker: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(marker))
        .unwrap_or_else(|| panic!("no `{marker}` line in:\n{stdout}"))
        .trim()
}

#[test]
fn the_unlocked_master_key_is_readable_by_its_owner_only_even_from_a_shared_session_keyring() {
    common::ensure_user("awskeep-owner");
    common::ensure_user("awskeep-other");
    let env = TestEnv::without_keyring();
    let chown = Command::new("chown")
        .args(["-R", "awskeep-owner:"])
        .arg(env.path(""))
        .status()
        .unwrap();
    assert!(chown.success());
    // A login of awskeep-owner: a session keyring of its own with its user keyring linked in, as
    // pam_keyinit makes it. The owner unlocks the file store; awskeep-other, entered with `su`
    // (no -l) from that login, possesses the session keyring and through it the owner's user
    // keyring, and tries the cached master key.
    let script = format!(
        r#"
owner=$1 other=$2 awskeep=$3
{tries}
as_owner() {{ setpriv --reuid="$owner" --regid="$owner" --clear-groups -- "$@"; }}
keyctl chown @s "$(id -u "$owner")"
as_owner keyctl link @u @s
printf 'AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' |
    AWSKEEP_FILE_PASSPHRASE="$PW" as_owner "$awskeep" add dev --no-verify || echo "FAILED add"
AWSKEEP_FILE_PASSPHRASE="$PW" as_owner "$awskeep" unlock || echo "FAILED unlock"
# The entry's name: a hash of the passphrase file (the owner's user keyring may hold others').
name="awskeep:file-store:$(sha256sum "$XDG_DATA_HOME/awskeep/master.age" | cut -c1-32)"
entry=$(as_owner keyctl search @u user "$name")
echo "ENTRY $entry $name"
echo "OWNER SESSION $(keyctl id @s)"
echo "OWNER FINDS $(as_owner keyctl search @s user "$name")"
other_tries
echo "OWNER SERVED $(as_owner "$awskeep" credential-process --profile dev)"
as_owner "$awskeep" lock
"#,
        tries = common::OTHER_USER_TRIES
    );
    let mut command = env.command("keyctl");
    command
        .args(["session", "-", "sh", "-c", &script, "sh"])
        .args([
            "awskeep-owner",
            "awskeep-other",
            env!("CARGO_BIN_EXE_awskeep"),
        ])
        .env("PW", PASSPHRASE)
        .env("AWSKEEP_TEST_SCRYPT_LOG_N", "12");
    let run = run_with_stdin(command, "");
    let out = &run.stdout;
    assert!(!out.contains("FAILED"), "{out}\n{}", run.stderr);
    let entry = after(out, "ENTRY ");
    assert!(entry.contains(" awskeep:file-store:"), "{out}");
    // The precondition: awskeep-other is in the owner's session keyring (su kept it).
    assert_eq!(
        after(out, "OTHER SESSION "),
        after(out, "OWNER SESSION "),
        "{out}"
    );
    // The property: no right to view, find or read it, though it possesses the keyring.
    assert!(!out.contains("OTHER COULD"), "{out}");
    assert!(out.contains("other refused print"), "{out}");
    assert!(!out.contains("AGE-SECRET-KEY"), "{out}");
    // The owner still finds it from its session keyring and is served with it (no passphrase).
    assert!(
        entry.starts_with(after(out, "OWNER FINDS ")),
        "the owner's search finds the entry: {out}"
    );
    assert!(
        after(out, "OWNER SERVED ").contains("AKIAIOSFODNN7EXAMPLE"),
        "{out}\n{}",
        run.stderr
    );
}

/// A bad AWSKEEP_UNLOCK_TIMEOUT is named as the variable it is, with what a duration looks like.
#[test]
fn a_bad_unlock_timeout_variable_is_named_as_a_variable() {
    let env = TestEnv::without_keyring();
    let mut command = env.awskeep();
    command.arg("unlock").env("AWSKEEP_UNLOCK_TIMEOUT", "bogus");
    let run = run_with_stdin(command, "");
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "awskeep: the environment variable AWSKEEP_UNLOCK_TIMEOUT is invalid: \"bogus\" is not a duration (e.g. 90m, 8h). Hint: fix or unset the environment variable AWSKEEP_UNLOCK_TIMEOUT.\n"
    );
}
