//! `awskeep exec PROFILE -- CMD ARGS...`: runs CMD with the profile's credentials in its
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and for a session `AWS_SESSION_TOKEN`
//! and `AWS_CREDENTIAL_EXPIRATION`; `AWS_REGION` / `AWS_DEFAULT_REGION` when the profile has a
//! region), for tools that read only the environment. The credentials are what
//! `credentials::resolve` serves, as credential_process would, without a long-term key's lease:
//! CMD cannot refresh its environment, so it keeps the key it started with (see `export`).
//!
//! CMD gets exactly those credentials and otherwise the caller's world:
//! - every AWS variable that would point it at other credentials or another identity is removed
//!   (`POINTS_ELSEWHERE`), and so is every awskeep variable that carries a secret or a way to get
//!   one (`context::SECRET_BEARING`: the file store's passphrase and passphrase command);
//!   `AWSKEEP_EXEC=PROFILE` marks the environment, and an exec inside one is refused;
//! - a signal the caller ignored stays ignored (awskeep installs no handler for it, so CMD inherits
//!   the ignore) and is not forwarded; one it did not ignore reaches CMD from the terminal
//!   (SIGINT, SIGQUIT: awskeep waits for CMD's decision) or from awskeep (SIGTERM, SIGHUP);
//! - CMD starts with the caller's resource limits, not awskeep's hardened ones (`hygiene`).
//!
//! awskeep spawns CMD and waits. CMD's exit code is awskeep's (a signal N is 128+N), so awskeep
//! exits the process itself once CMD has finished, as a shell does.

use std::process::{Command, ExitStatus};

use crate::cli::ExecArgs;
use crate::context::{Context, SECRET_BEARING};
use crate::credentials::{self, Refresh};
use crate::error::{Error, Result};
use crate::output;
use crate::store::facade::CredentialStore;

/// AWS variables that would point CMD at other credentials or another identity, removed before the
/// profile's credentials go in:
/// - a profile to read instead (`AWS_DEFAULT_PROFILE`: the AWS CLI v1, boto2 and older SDKs);
/// - other credentials, and what describes them (the ones exec hands over are set again);
/// - the providers further down every SDK's chain, which a tool may also pick explicitly: the
///   container / EKS Pod Identity endpoint and its token, web identity (a role assumed with a
///   token file);
/// - another account for account-based endpoints (`AWS_ACCOUNT_ID`).
///
/// Kept, as the caller's world: `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` (where the
/// files are; with no profile variable left, the environment credentials win over them in every
/// SDK, and a tool inside that is given `--profile` deliberately, or awskeep itself, needs them),
/// the endpoint and region variables (where requests go, not who signs them: a region the profile
/// sets replaces them), `AWS_EC2_METADATA_DISABLED`, `AWS_CA_BUNDLE` and the like.
pub const POINTS_ELSEWHERE: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ACCOUNT_ID",
];

/// Families of AWS variables removed by prefix: `AWS_BEARER_TOKEN_BEDROCK` and its kin are API
/// keys the SDKs use instead of signing with the credentials.
pub const POINTS_ELSEWHERE_PREFIXES: &[&str] = &["AWS_BEARER_TOKEN_"];

/// Whether exec removes the caller's variable `name` from CMD's environment.
pub fn removed_from_child(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    POINTS_ELSEWHERE.contains(&name)
        || SECRET_BEARING.contains(&name)
        || POINTS_ELSEWHERE_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: ExecArgs,
) -> Result<()> {
    if let Some(profile) = &ctx.exec_profile {
        return Err(Error::ExecNested {
            profile: profile.clone(),
        });
    }
    // Named, never from AWS_PROFILE: `exec -- COMMAND` would otherwise read COMMAND as the profile.
    let profile = args.profile;
    let resolved = credentials::resolve(
        ctx,
        store,
        aws,
        &profile,
        args.mfa.mfa_process.as_deref(),
        Refresh::IfNeeded,
    )?;
    // clap requires a COMMAND; an empty one is refused as env(1) refuses a missing program.
    let Some((program, rest)) = args.command.split_first() else {
        return Err(Error::ExecFailed {
            program: String::new(),
            reason: "no command given after --".into(),
            code: 127,
        });
    };
    let mut command = Command::new(program);
    command.args(rest);
    for name in POINTS_ELSEWHERE.iter().chain(SECRET_BEARING) {
        command.env_remove(name);
    }
    for name in ctx.env_names.iter().filter(|n| removed_from_child(n)) {
        command.env_remove(name);
    }
    resolved
        .credentials
        .for_each_var(resolved.region.as_deref(), |name, value| {
            command.env(name, value);
        });
    command.env("AWSKEEP_EXEC", profile.as_str());
    output::trace(
        ctx.verbose,
        &format!(
            "running {} with the credentials of profile {}",
            program.to_string_lossy(),
            profile
        ),
    );
    drop(resolved);
    let status = spawn_and_wait(ctx, command, &program.to_string_lossy())?;
    match exit_code(status) {
        0 => Ok(()),
        code => std::process::exit(code),
    }
}

fn spawn_failed(program: &str, error: &std::io::Error) -> Error {
    Error::ExecFailed {
        program: program.to_string(),
        reason: error.to_string(),
        // As env(1) and shells do: 127 not found, 126 found but not runnable.
        code: if error.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        },
    }
}

/// The signals this process ignores, as the kernel's mask (bit N-1 for signal N); `None` when it
/// cannot be told. Read before exec installs any handler, so it is what the caller handed over.
///
/// Rust offers no safe way to read a signal's disposition (`sigaction` with no new action is an
/// FFI call, and this crate forbids `unsafe`): Linux reports the mask in /proc/self/status
/// (`SigIgn`), and the BSDs and macOS through `ps -o sigignore`.
#[cfg(unix)]
fn ignored_signals() -> Option<u64> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let hex = {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))?
            .trim()
            .to_string()
    };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let hex = {
        let output = Command::new("ps")
            .args(["-o", "sigignore=", "-p", &std::process::id().to_string()])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
}

#[cfg(unix)]
fn spawn_and_wait(ctx: &Context, mut command: Command, program: &str) -> Result<ExitStatus> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::Signals;
    // A signal the caller ignored gets no handler: it stays ignored here and in CMD (a caught
    // signal would be reset to its default action in CMD), and so it is never forwarded. When the
    // mask cannot be read, no signal gets one: the caller's dispositions stand, none is forwarded.
    let ignored = ignored_signals().unwrap_or(u64::MAX);
    let caught: Vec<i32> = [SIGTERM, SIGHUP, SIGINT, SIGQUIT]
        .into_iter()
        .filter(|&n| ignored & (1u64 << (n - 1)) == 0)
        .collect();
    // Registered before the spawn so none is lost in between; CMD starts with default handlers.
    let mut signals = Signals::new(&caught).map_err(|e| Error::ExecFailed {
        program: program.to_string(),
        reason: format!("cannot handle signals: {e}"),
        code: 126,
    })?;
    let mut child = ctx
        .caller_limits
        .around_spawn(|| command.spawn())
        .map_err(|e| spawn_failed(program, &e))?;
    drop(command);
    let pid = rustix::process::Pid::from_child(&child);
    let handle = signals.handle();
    let forwarder = std::thread::spawn(move || {
        for signal in signals.forever() {
            let pass_on = match signal {
                SIGTERM => rustix::process::Signal::TERM,
                SIGHUP => rustix::process::Signal::HUP,
                // SIGINT / SIGQUIT: the terminal sent them to CMD too; it decides.
                _ => continue,
            };
            let _ = rustix::process::kill_process(pid, pass_on);
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    status.map_err(|e| spawn_failed(program, &e))
}

#[cfg(not(unix))]
fn spawn_and_wait(_ctx: &Context, mut command: Command, program: &str) -> Result<ExitStatus> {
    // Ctrl-C reaches CMD through the console; awskeep waits for it to decide.
    let _ = ctrlc::set_handler(|| {});
    let mut child = command.spawn().map_err(|e| spawn_failed(program, &e))?;
    child.wait().map_err(|e| spawn_failed(program, &e))
}

#[cfg(unix)]
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|n| 128 + n))
        .unwrap_or(1)
}

#[cfg(not(unix))]
fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}
