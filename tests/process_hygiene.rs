//! Process hygiene: no core dump can hold a secret, and awskeep's lock folder is the user's own.

use crate::common;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use common::{TestEnv, run_with_stdin, wait_for};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nprocess/hygiene/secret\n";

/// The hard core size limit in a /proc/PID/limits text ("unlimited" or bytes).
fn hard_core_limit(limits: &str) -> Option<String> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?;
    line.split_whitespace().nth(5).map(str::to_string)
}

#[test]
fn a_running_awskeep_can_write_no_core_dump_and_keeps_the_callers_hard_limit() {
    let env = TestEnv::new();
    let mut command = env.awskeep();
    command
        .args(["add", "dev", "--no-verify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // awskeep waits on stdin for the key: look at it while it runs.
    let mut child = command.spawn().expect("spawn");
    let limits_path = format!("/proc/{}/limits", child.id());
    let mut limits = String::new();
    let mut problems = Vec::new();
    // Up to 30 s: a debug build of awskeep can take seconds to start on a loaded machine.
    for _ in 0..3000 {
        limits.clear();
        match std::fs::File::open(&limits_path) {
            Ok(mut f) => {
                if let Err(e) = f.read_to_string(&mut limits) {
                    problems.push(format!("read: {e}"));
                }
            }
            Err(e) => problems.push(format!("open: {e}")),
        }
        // The soft limit 0: awskeep has started and lowered it (it may have been 0 already).
        let core = limits.lines().find(|l| l.starts_with("Max core file size"));
        if core.is_some_and(|l| l.split_whitespace().nth(4) == Some("0")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_default()
        .to_string();
    drop(child.stdin.take());
    let _ = wait_for(child, Duration::from_secs(30));
    let fields: Vec<&str> = core.split_whitespace().collect();
    problems.dedup();
    // The hard limit stays the caller's (this test's): `exec` gives it back to its child, and an
    // unprivileged process could never raise it again. Not dumpable is what keeps the core away.
    let ours = hard_core_limit(&std::fs::read_to_string("/proc/self/limits").unwrap());
    assert_eq!(fields.get(4), Some(&"0"), "{core} {problems:?}");
    assert_eq!(fields.get(5).map(|f| f.to_string()), ours, "{core}");
}

#[test]
fn an_unusable_runtime_dir_falls_back_to_the_cache_dir() {
    let env = TestEnv::new();
    let mut command = env.awskeep();
    command
        .args(["add", "dev", "--no-verify"])
        .env("XDG_RUNTIME_DIR", env.path("no-such-dir"));
    run_with_stdin(command, KEY).assert_ok();
    assert!(env.read_config().contains("--profile dev"));
    assert!(!env.path("no-such-dir").exists());
    assert!(
        env.path("cache/awskeep").is_dir(),
        "locks not in the cache dir"
    );
}

#[test]
fn a_symlinked_lock_folder_is_refused_and_its_target_untouched() {
    let env = TestEnv::new();
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.path("run/awskeep")).unwrap();
    let run = env.run(&["add", "dev", "--no-verify"], KEY);
    run.assert_fails(1, "symbolic link");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert!(!env.read_config().contains("credential_process"));
    assert_eq!(env.secret_tool_lookup("dev"), None);
}
