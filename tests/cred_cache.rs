//! The per-login credential cache in front of the Secret Service (docs/SECURITY.md, "The credential
//! cache"): a second `credential-process` makes no D-Bus call, every change through awskeep drops
//! the cache first, an entry expires at its bound, a locked keyring or a deleted item stops it at
//! the next recheck, and another login session's keyring does not see it. D-Bus calls are counted with dbus-monitor on the test's own bus, as scripts/bench does.
use crate::common;

use std::time::{Duration, SystemTime};

use common::{Run, TestEnv, run_with_stdin};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const OTHER_KEY: &str = "AKIAI44QH8DHBEXAMPLE\nje7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";

fn serve(env: &TestEnv) -> (Run, usize) {
    env.dbus_calls(|| env.run(&["credential-process", "--profile", "dev"], ""))
}

fn key_id(run: &Run) -> String {
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("credential JSON");
    json["AccessKeyId"].as_str().unwrap_or_default().to_string()
}

/// A session far from expiry for `dev`, as an earlier refresh would have stored it.
fn store_session(env: &TestEnv, access_key_id: &str) {
    let expires =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(11 * 3600));
    let item = format!(
        r#"{{"version":1,"access_key_id":"{access_key_id}","secret_access_key":"s","session_token":"t","expiration":"{expires}","source_key_id":"AKIAIOSFODNN7EXAMPLE","mfa_serial":null}}"#
    );
    let mut store = env.command("secret-tool");
    store.args([
        "store",
        "--label=s",
        "service",
        "awskeep",
        "username",
        "dev:session",
    ]);
    run_with_stdin(store, &item).assert_ok();
}

fn with_key() -> TestEnv {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    env
}

#[test]
fn a_second_call_is_served_from_the_cache_without_any_dbus_call() {
    let env = with_key();
    let (first, first_calls) = serve(&env);
    assert_eq!(key_id(&first), "AKIAIOSFODNN7EXAMPLE");
    assert!(first_calls > 0, "the first call reads the Secret Service");
    let (second, second_calls) = serve(&env);
    assert_eq!(second.stdout, first.stdout, "the same JSON");
    assert_eq!(second_calls, 0, "served from the kernel keyring");
}

#[test]
fn a_cached_session_is_served_without_any_dbus_call() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify", "--session", "on"], KEY)
        .assert_ok();
    store_session(&env, "ASIACACHEDSESSION001");

    let (first, first_calls) = serve(&env);
    assert_eq!(key_id(&first), "ASIACACHEDSESSION001");
    assert!(first_calls > 0);
    let (second, second_calls) = serve(&env);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(second_calls, 0);

    // session clear drops it: the next call reads the store (and, with no STS here, fails).
    env.run(&["session", "clear", "--profile", "dev"], "")
        .assert_ok();
    let (_, calls) = serve(&env);
    assert!(calls > 0, "session clear dropped the cached session");
}

#[test]
fn every_change_through_awskeep_drops_the_cache_first() {
    let env = with_key();
    key_id(&serve(&env).0);

    // add --force: the new key at once.
    env.run(&["add", "dev", "--no-verify", "--force"], OTHER_KEY)
        .assert_ok();
    let (run, calls) = serve(&env);
    assert_eq!(key_id(&run), "AKIAI44QH8DHBEXAMPLE");
    assert!(calls > 0);
    assert_eq!(serve(&env).1, 0, "cached again");

    // lock: dropped, in every login (the generation changed).
    env.expect(["lock"])
        .stderr_contains("credential cache")
        .run();
    assert!(serve(&env).1 > 0, "lock dropped it");

    // Another profile's change drops this one's entry too (one generation for the store).
    env.run(&["add", "other", "--no-verify"], KEY).assert_ok();
    assert!(serve(&env).1 > 0);

    // remove: never served again.
    serve(&env);
    env.run(&["remove", "dev", "--yes"], "").assert_ok();
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(3, "no key is stored for profile \"dev\"");
}

/// Longer than the cache's recheck interval (5 s): the next hit asks the Secret Service again.
const PAST_RECHECK: Duration = Duration::from_millis(5300);

#[test]
fn a_delete_behind_awskeeps_back_is_seen_at_the_next_recheck() {
    let env = with_key();
    key_id(&serve(&env).0);
    env.secret_tool_clear("dev");
    // Within the recheck interval the entry answers (Seahorse's delete is not seen yet)...
    let (run, calls) = serve(&env);
    assert_eq!(key_id(&run), "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(calls, 0);
    // ...and once it is over, the Secret Service is asked (well inside the 1 min bound) and the
    // key is gone.
    std::thread::sleep(PAST_RECHECK);
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(3, "no key is stored for profile \"dev\"");
}

#[test]
fn a_recheck_asks_without_reading_a_secret_and_holds_for_the_next_interval() {
    let env = with_key();
    key_id(&serve(&env).0);
    std::thread::sleep(PAST_RECHECK);
    let log = env.path("run/recheck-monitor.log");
    let (run, calls) = env.dbus_calls_logged(&log, || {
        env.run(&["credential-process", "--profile", "dev"], "")
    });
    assert_eq!(key_id(&run), "AKIAIOSFODNN7EXAMPLE");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("member=SearchItems"), "{text}");
    for reads_a_secret in ["OpenSession", "GetSecret", "GetSecrets", "Unlock"] {
        assert!(
            !text.contains(&format!("member={reads_a_secret}")),
            "a recheck called {reads_a_secret}: {text}"
        );
    }
    assert!(calls <= 2, "Hello and SearchItems only: {text}");
    // The answer holds: the next call makes no call at all.
    assert_eq!(serve(&env).1, 0);
}

#[test]
fn locking_the_keyring_stops_the_cache_at_the_next_recheck() {
    let env = with_key();
    key_id(&serve(&env).0);
    env.lock_keyring();
    std::thread::sleep(PAST_RECHECK);
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "locked");
}

#[test]
fn a_cached_session_is_not_served_from_a_locked_keyring_either() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify", "--session", "on"], KEY)
        .assert_ok();
    store_session(&env, "ASIALOCKEDSESSION001");
    assert_eq!(key_id(&serve(&env).0), "ASIALOCKEDSESSION001");
    assert_eq!(serve(&env).1, 0, "cached");
    env.lock_keyring();
    std::thread::sleep(PAST_RECHECK);
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(4, "locked");
}

#[test]
fn with_the_cache_off_every_call_reads_the_store_and_the_old_entry_is_gone() {
    let env = with_key();
    let (name, _) = entry_of(&env);
    env.append_config("awskeep_cache = off\n");
    key_id(&serve(&env).0);
    assert!(
        !proc_keys_contain(&name),
        "the entry made before `off` is forgotten, not left to its timeout"
    );
    let (run, calls) = serve(&env);
    key_id(&run);
    assert!(calls > 0);
    env.secret_tool_clear("dev");
    env.run(&["credential-process", "--profile", "dev"], "")
        .assert_fails(3, "no key is stored");
}

#[test]
fn a_change_from_a_login_with_another_environment_drops_this_logins_entry() {
    let env = with_key();
    key_id(&serve(&env).0);
    assert_eq!(serve(&env).1, 0, "cached in this login");
    // Another login: its own session keyring, and no XDG_RUNTIME_DIR (ssh without pam_systemd,
    // su, cron), so its lock folder is another one.
    let mut other = env.command("keyctl");
    other.args(["session", "-", "env", "-u", "XDG_RUNTIME_DIR"]);
    other.arg(env!("CARGO_BIN_EXE_awskeep"));
    other.args(["add", "dev", "--no-verify", "--force"]);
    run_with_stdin(other, OTHER_KEY).assert_ok();
    let (run, calls) = serve(&env);
    assert_eq!(key_id(&run), "AKIAI44QH8DHBEXAMPLE", "the new key at once");
    assert!(calls > 0);
    assert_eq!(serve(&env).1, 0, "cached again");

    // Another login that spells the same bus differently (`//` in the path): the same Secret
    // Service, so its change drops this login's entry too.
    let respelled = env.bus_address().replacen("/run/bus", "/run//bus", 1);
    assert_ne!(respelled, env.bus_address());
    let mut other = env.command("keyctl");
    other.args(["session", "-", "env"]);
    other.arg(format!("DBUS_SESSION_BUS_ADDRESS={respelled}"));
    other.arg(env!("CARGO_BIN_EXE_awskeep"));
    other.args(["add", "dev", "--no-verify", "--force"]);
    run_with_stdin(other, KEY).assert_ok();
    assert_eq!(key_id(&serve(&env).0), "AKIAIOSFODNN7EXAMPLE");
}

fn proc_keys_contain(name: &str) -> bool {
    std::fs::read_to_string("/proc/keys")
        .expect("/proc/keys")
        .contains(name)
}

/// The entry the verbose trace names, and its line in /proc/keys.
fn entry_of(env: &TestEnv) -> (String, String) {
    // On success credential-process's stderr stays empty; `--verbose` steps go to the terminal.
    let mut at_terminal = env.command("python3");
    at_terminal
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/pty_run.py"
        ))
        .args(["--", env!("CARGO_BIN_EXE_awskeep")])
        .args(["--verbose", "credential-process", "--profile", "dev"]);
    let run = common::run_with_stdin(at_terminal, "");
    run.assert_ok();
    let name = run
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("awskeep:cred:"))
        .unwrap_or_else(|| panic!("no entry named: {}", run.stdout))
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != ':')
        .to_string();
    let keys = std::fs::read_to_string("/proc/keys").expect("/proc/keys");
    let line = keys
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("{name} not in /proc/keys"))
        .to_string();
    (name, line)
}

#[test]
fn the_entry_is_possessor_only_has_a_timeout_and_names_no_profile() {
    let env = with_key();
    let (name, line) = entry_of(&env);
    // /proc/keys: ID flags usage timeout perm uid gid type description
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        fields[4], "003f0000",
        "all for the owner uid, nothing for a possessor of another uid: {line}"
    );
    assert_eq!(fields[7], "user", "{line}");
    assert!(
        fields[3].ends_with('s') || fields[3].ends_with('m'),
        "a timeout, not perm: {line}"
    );
    assert!(!name.contains("dev"), "the name is a hash: {name}");
    assert!(!line.contains("AKIA"), "{line}");

    // lock removes it from this login's keyring at once (the kernel collects it shortly after).
    env.run(&["lock"], "").assert_ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string("/proc/keys")
        .unwrap()
        .contains(&name)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{name} still in /proc/keys after lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn another_login_session_keyring_does_not_see_the_entry() {
    let env = with_key();
    let (name, _) = entry_of(&env);
    assert_eq!(serve(&env).1, 0, "this login is served from the cache");

    // `keyctl session -` runs a command in a new session keyring, as another login would get
    // from pam_keyinit: the entry is not there and its search finds nothing.
    let mut search = env.command("keyctl");
    search.args(["session", "-", "keyctl", "search", "@s", "user", &name]);
    let run = run_with_stdin(search, "");
    assert!(
        !run.status.success(),
        "found from another session: {}",
        run.stdout
    );

    // awskeep in that session reads the Secret Service, and keeps its own entry there.
    let (run, calls) = env.dbus_calls(|| {
        let mut other = env.command("keyctl");
        other.args(["session", "-"]);
        other.arg(env!("CARGO_BIN_EXE_awskeep"));
        other.args(["credential-process", "--profile", "dev"]);
        run_with_stdin(other, "")
    });
    assert_eq!(key_id(&run), "AKIAIOSFODNN7EXAMPLE");
    assert!(
        calls > 0,
        "another login session is not served from this one's cache"
    );
}

/// `Expiration` of a credential_process JSON, and how long from now it is.
fn expiration_left(run: &Run) -> Duration {
    run.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("credential JSON");
    assert!(
        json.get("SessionToken").is_none(),
        "a long-term key: {json}"
    );
    let text = json["Expiration"].as_str().expect("an Expiration");
    assert!(text.ends_with('Z'), "RFC 3339 UTC: {text}");
    humantime::parse_rfc3339(text)
        .expect("RFC 3339")
        .duration_since(SystemTime::now())
        .unwrap_or_default()
}

/// The lease (docs/CLIENTS.md, "Rotation reaches running programs"): a long-term key is served with `Expiration` an hour ahead,
/// so running clients come back for the key a rotation switched to; a cache hit serves the same
/// answer, and an entry is kept no longer than leaves more than the 20-minute refresh margin of
/// that Expiration (40 minutes, even where `awskeep_cache` allows an hour), so no hit hands a
/// client an Expiration inside botocore's refresh window.
#[test]
fn a_long_term_key_carries_its_lease_and_a_cache_hit_leaves_more_than_the_margin() {
    let env = with_key();
    let (first, _) = serve(&env);
    let left = expiration_left(&first);
    assert!(
        left > Duration::from_secs(59 * 60) && left <= Duration::from_secs(3600),
        "an hour's lease: {left:?}"
    );
    let (hit, calls) = serve(&env);
    assert_eq!(calls, 0, "served from the cache");
    assert_eq!(hit.stdout, first.stdout);
    assert!(expiration_left(&hit) > Duration::from_secs(20 * 60));

    env.append_config("awskeep_cache = 1h\n");
    // The `--verbose` steps go to the terminal (stderr stays empty on success): run it at one.
    let mut at_terminal = env.command("python3");
    at_terminal
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/pty_run.py"
        ))
        .args(["--", env!("CARGO_BIN_EXE_awskeep")])
        .args(["--verbose", "credential-process", "--profile", "dev"]);
    let kept = common::run_with_stdin(at_terminal, "");
    kept.assert_ok();
    assert!(
        kept.stdout.contains(" for 40m"),
        "the entry lives 40 minutes, not the hour awskeep_cache allows: {}",
        kept.stdout
    );
    let hit = env.run(&["credential-process", "--profile", "dev"], "");
    assert!(expiration_left(&hit) > Duration::from_secs(59 * 60));
}

#[test]
fn another_user_in_this_logins_session_keyring_cannot_read_the_entry() {
    common::ensure_user("awskeep-other");
    let env = with_key();
    // This login (a session keyring with the user keyring linked in, as pam_keyinit makes it)
    // serves `dev` and caches it; awskeep-other, entered with `su` (no -l) from this login,
    // possesses the session keyring and tries the entry. The entry's owner is root here (the
    // harness's Secret Service runs as root); the attacker is a uid without any privilege.
    let script = format!(
        r#"
other=$1 awskeep=$2
{tries}
keyctl link @u @s
"$awskeep" credential-process --profile dev >/dev/null || echo "FAILED first call"
for id in $(keyctl rlist @s); do
    case $(keyctl rdescribe "$id") in
        "user;"*";awskeep:cred:"*) entry=$id; name=$(keyctl rdescribe "$id" | sed 's/.*;//') ;;
    esac
done
echo "ENTRY $entry $name"
echo "OWNER SESSION $(keyctl id @s)"
echo "OWNER FINDS $(keyctl search @s user "$name")"
other_tries
echo "OWNER SERVED $("$awskeep" credential-process --profile dev)"
"#,
        tries = common::OTHER_USER_TRIES
    );
    let mut command = env.command("keyctl");
    command
        .args(["session", "-", "sh", "-c", &script, "sh"])
        .args(["awskeep-other", env!("CARGO_BIN_EXE_awskeep")]);
    let run = run_with_stdin(command, "");
    let out = &run.stdout;
    let line = |marker: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(marker))
            .unwrap_or_else(|| panic!("no `{marker}` line in:\n{out}"))
            .trim()
            .to_string()
    };
    assert!(!out.contains("FAILED"), "{out}\n{}", run.stderr);
    let entry = line("ENTRY ");
    assert!(entry.contains(" awskeep:cred:"), "{out}");
    assert_eq!(line("OTHER SESSION "), line("OWNER SESSION "), "{out}");
    assert!(!out.contains("OTHER COULD"), "{out}");
    assert!(out.contains("other refused print"), "{out}");
    assert!(
        out.lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("other"))
            .all(|l| !l.contains("wJalrXUtnFEMI")),
        "{out}"
    );
    assert!(entry.starts_with(&line("OWNER FINDS ")), "{out}");
    assert!(
        line("OWNER SERVED ").contains("AKIAIOSFODNN7EXAMPLE"),
        "{out}"
    );
}
