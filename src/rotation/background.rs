//! The detached finisher of a deferred retirement: after a rotation's switch the old key stays in
//! IAM until the `delete_after` the switch recorded, and nobody should have to run anything more
//! for it to go. `rotate` starts one `awskeep rotate --profile P --finish-retirement-after T`
//! here, detached (stdin, stdout and stderr null; its own session on Unix, a detached process group
//! on Windows), which sleeps until T and then finishes the retirement under the rotation lock
//! (`commands::rotate::finish_in_background`).
//!
//! When that process cannot do it (the store was locked, the machine rebooted, the network was
//! down) the state stays recorded and the next awskeep command that reads the profile's item
//! starts another: `rotate` (which also finishes it itself when due) and `credential-process`,
//! `exec`, `export` through `nudge`, which only starts a process: the hot path makes no network
//! call and builds no AWS client. (A credential cache hit reads no item: the first miss does.) At most one finisher waits per profile (`finisher_lock`), and a
//! failed one is not started again for `RESTART_AFTER`.
//!
//! It never outlives its use: it exits once it retired the key, when the item is no longer
//! retiring, on any error, and when awskeep's lock folder disappears while it sleeps (the login
//! ended: `XDG_RUNTIME_DIR` is removed at logout, as a test's temp root is at its end).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::context::Context;
use crate::lock::FileLock;
use crate::profile_name::ProfileName;
use crate::secret::{Rotation, StoredKey};

/// The hidden `rotate` flag that makes a process the finisher (Unix seconds to wait for).
pub const FLAG: &str = "--finish-retirement-after";
/// A finisher started this recently (and gone) is not started again by `nudge`: it failed, and
/// the hot path must not start one per call.
const RESTART_AFTER: Duration = Duration::from_secs(60);
/// How often a sleeping finisher checks that its login still exists.
pub const WAKE_EVERY: Duration = Duration::from_secs(5);

/// The lock a finisher holds for its whole life: a second one for the profile sees it and exits.
pub fn finisher_lock(lock_dir: &Path, profile: &ProfileName) -> Option<FileLock> {
    // `=` cannot occur in a profile name, so this never names a session lock.
    FileLock::acquire(lock_dir, &format!("retire={profile}.lock"), Duration::ZERO).ok()
}

fn stamp_file(lock_dir: &Path, profile: &ProfileName) -> std::path::PathBuf {
    lock_dir.join(format!("retire={profile}.started"))
}

/// For a command that read `item`: when its rotation's retirement is due and no finisher is
/// waiting for it (or started within `RESTART_AFTER`), starts one. Best effort and silent: the
/// next command tries again.
pub fn nudge(ctx: &Context, profile: &ProfileName, item: &StoredKey) {
    let Rotation::Retiring { delete_after, .. } = item.rotation else {
        return;
    };
    if !super::is_due(delete_after, SystemTime::now()) {
        return;
    }
    let Some(lock_dir) = ctx.lock_dir.as_deref() else {
        return;
    };
    // Held by a waiting finisher: it will do it.
    let Some(_free) = finisher_lock(lock_dir, profile) else {
        return;
    };
    let stamp = stamp_file(lock_dir, profile);
    let recent = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .is_ok_and(|at| at.elapsed().is_ok_and(|age| age < RESTART_AFTER));
    if recent {
        return;
    }
    if std::fs::write(&stamp, b"").is_ok() {
        drop(_free);
        let _ = spawn(ctx, profile, SystemTime::now());
    }
}

/// Starts the finisher of `profile`'s retirement, detached, to act at `after`.
pub fn spawn(ctx: &Context, profile: &ProfileName, after: SystemTime) -> std::io::Result<()> {
    let exe = std::env::current_exe()?;
    let at = after
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
        .unwrap_or(0);
    let mut command = without_inherited_fds(exe);
    command
        .arg("rotate")
        .arg("--profile")
        .arg(profile.as_str())
        .arg(FLAG)
        .arg(at.to_string());
    if let Some(kind) = ctx.opened_store.get() {
        command.arg("--store").arg(kind.arg_name());
    }
    // The file store's passphrase (or its command) was given to this command, not to a process
    // that waits an hour: the finisher opens the store only as unlocked (the kernel keyring), and
    // otherwise the next awskeep command of the profile finishes the retirement.
    for name in crate::context::SECRET_BEARING {
        command.env_remove(name);
    }
    command
        // A test's fault injection is for the process it was given to.
        .env_remove("AWSKEEP_TEST_CRASH_AT")
        .env_remove("AWSKEEP_TEST_FAIL_AT")
        // Not the caller's folder: a process that waits an hour must not keep it in use.
        .current_dir(std::env::temp_dir())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    detach(command)
}

/// The finisher waits an hour: it must not hold open what awskeep's caller handed it beyond
/// stdin, stdout and stderr (a pipe's write end on fd 5 would keep the reader of that pipe, a CI
/// step or `make`, waiting the whole hour). Rust's own descriptors close at exec; the caller's do
/// not, and closing them in the child takes unsafe code (forbidden here), so on Unix the finisher
/// starts through the shell, whose `exec` closes each (`N>&-`). bash takes any N; a `sh` without
/// bash, only 3 to 9.
#[cfg(unix)]
fn without_inherited_fds(exe: std::path::PathBuf) -> std::process::Command {
    let bash = std::path::Path::new("/bin/bash");
    let (shell, highest) = if bash.exists() {
        (bash, u32::MAX)
    } else {
        (std::path::Path::new("/bin/sh"), 9)
    };
    let open: Vec<u32> = ["/proc/self/fd", "/dev/fd"]
        .iter()
        .find_map(|dir| std::fs::read_dir(dir).ok())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|fd| (3..=highest).contains(fd))
                .collect()
        })
        .unwrap_or_default();
    if open.is_empty() {
        return std::process::Command::new(exe);
    }
    let closes: Vec<String> = open.iter().map(|fd| format!("{fd}>&-")).collect();
    let mut command = std::process::Command::new(shell);
    command
        .arg("-c")
        .arg(format!("exec \"$0\" \"$@\" {}", closes.join(" ")))
        .arg(exe);
    command
}

#[cfg(not(unix))]
fn without_inherited_fds(exe: std::path::PathBuf) -> std::process::Command {
    std::process::Command::new(exe)
}

/// Unix: the child makes its own session first thing (`leave_session`); it is not a process group
/// leader, so `setsid` succeeds there, and it then has no controlling terminal (no signal from
/// it, and no terminal a store could ask a passphrase on). It is not waited for.
#[cfg(unix)]
fn detach(mut command: std::process::Command) -> std::io::Result<()> {
    command.spawn().map(drop)
}

/// Windows: a detached process (no console) in its own process group (no Ctrl-C from the
/// console), out of the caller's job when the job allows it (a terminal that closes its job would
/// end it), all with `CommandExt::creation_flags`: safe code.
#[cfg(windows)]
fn detach(mut command: std::process::Command) -> std::io::Result<()> {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    const CREATE_BREAKAWAY_FROM_JOB: u32 = 0x0100_0000;
    command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_BREAKAWAY_FROM_JOB);
    match command.spawn() {
        Ok(_detached) => Ok(()),
        // The caller's job does not allow breaking away: stay in it.
        Err(_) => {
            command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
            command.spawn().map(drop)
        }
    }
}

#[cfg(not(any(unix, windows)))]
fn detach(mut command: std::process::Command) -> std::io::Result<()> {
    command.spawn().map(drop)
}

/// The finisher's first step: its own session, away from the terminal of whoever started it.
pub fn leave_session() {
    #[cfg(unix)]
    {
        let _ = rustix::process::setsid();
    }
}

/// Sleeps until `until`, waking every `WAKE_EVERY`; `false` when the lock folder vanished meanwhile
/// (the login is over: the finisher exits).
pub fn sleep_until(lock_dir: &Path, until: SystemTime) -> bool {
    loop {
        if !lock_dir.is_dir() {
            return false;
        }
        let Ok(left) = until.duration_since(SystemTime::now()) else {
            return true;
        };
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(WAKE_EVERY));
    }
}
