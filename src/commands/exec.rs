//! `awskeep exec PROFILE -- CMD ARGS...`: runs CMD with the profile's credentials in its
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and for a session `AWS_SESSION_TOKEN`
//! and `AWS_CREDENTIAL_EXPIRATION`; `AWS_REGION` / `AWS_DEFAULT_REGION` when the profile has a
//! region), for tools that read only the environment. The credentials are what
//! `credentials::resolve` serves, as credential_process would, without a long-term key's lease:
//! CMD cannot refresh its environment, so it keeps the key it started with (see `export`). `AWS_PROFILE` is removed (the
//! variables are the credentials now), `AWSKEEP_EXEC=PROFILE` marks the environment, and an exec
//! inside one is refused.
//!
//! awskeep spawns CMD and waits: Ctrl-C and Ctrl-\ reach CMD from the terminal and awskeep leaves
//! them to it; SIGTERM and SIGHUP sent to awskeep are passed on. CMD's exit code is awskeep's (a
//! signal N is 128+N), so awskeep exits the process itself once CMD has finished, as a shell does.

use std::process::{Command, ExitStatus};

use crate::cli::ExecArgs;
use crate::context::Context;
use crate::credentials::{self, Refresh};
use crate::error::{Error, Result};
use crate::output;
use crate::store::CredentialStore;

/// Variables removed from CMD's environment before the credentials go in.
const REMOVED: &[&str] = &["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

pub fn run(
    ctx: &Context,
    store: &dyn CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: ExecArgs,
) -> Result<()> {
    if let Some(profile) = &ctx.exec_profile {
        return Err(Error::ExecNested {
            profile: profile.clone(),
        });
    }
    let resolved = credentials::resolve(
        ctx,
        store,
        aws,
        &args.profile,
        args.mfa_process.as_deref(),
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
    for name in REMOVED.iter().chain(resolved.credentials.stale_vars()) {
        command.env_remove(name);
    }
    resolved
        .credentials
        .for_each_var(resolved.region.as_deref(), |name, value| {
            command.env(name, value);
        });
    command.env("AWSKEEP_EXEC", args.profile.as_str());
    output::trace(
        ctx.verbose,
        &format!(
            "running {} with the credentials of profile {}",
            program.to_string_lossy(),
            args.profile
        ),
    );
    let status = spawn_and_wait(command, &program.to_string_lossy())?;
    drop(resolved);
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

#[cfg(unix)]
fn spawn_and_wait(mut command: Command, program: &str) -> Result<ExitStatus> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::Signals;
    // Registered before the spawn so none is lost in between; CMD starts with default handlers.
    let mut signals =
        Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT]).map_err(|e| Error::ExecFailed {
            program: program.to_string(),
            reason: format!("cannot handle signals: {e}"),
            code: 126,
        })?;
    let mut child = command.spawn().map_err(|e| spawn_failed(program, &e))?;
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
fn spawn_and_wait(mut command: Command, program: &str) -> Result<ExitStatus> {
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
