//! `awskeep exec PROFILE [-- CMD ARGS...]`: runs CMD with the profile's credentials in its
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and for a session `AWS_SESSION_TOKEN`,
//! `AWS_CREDENTIAL_EXPIRATION` and `AWS_SESSION_EXPIRATION`; `AWS_REGION` / `AWS_DEFAULT_REGION`
//! when the profile has a region), for tools that read only the environment. The credentials are
//! what `credentials::resolve` serves, as credential_process would, without a long-term key's
//! lease: CMD cannot refresh its environment, so it keeps the key it started with (see `export`).
//! Without CMD it starts the user's shell (`Context::shell`: `$SHELL`, `%COMSPEC%` on Windows;
//! else /bin/sh, cmd.exe), as aws-vault does.
//!
//! With `--server`, CMD gets no credentials but a credential endpoint of its own
//! (`crate::endpoint`, the one `serve` runs): `AWS_CONTAINER_CREDENTIALS_FULL_URI` on 127.0.0.1 and
//! a token drawn for this run (`AWS_CONTAINER_AUTHORIZATION_TOKEN`, in CMD's environment only,
//! never in an argv or on a stream), so a long-running CMD gets a fresh session each time its SDK
//! asks. The endpoint is answered on this thread (it owns the store) while another waits for CMD;
//! when CMD exits the port is closed, then awskeep exits with CMD's status. Sessions only, as
//! `serve`: a long-term key is refused before CMD starts.
//!
//! What prompts read: `AWS_VAULT=PROFILE` (starship's aws module and powerlevel10k's read it
//! before `AWS_PROFILE`, which exec removes: see `POINTS_ELSEWHERE`), the expiry in
//! `AWS_CREDENTIAL_EXPIRATION` (starship since 1.x) and `AWS_SESSION_EXPIRATION` (the name
//! aws-vault before 6 and older starships used; under `--server` neither, since the session CMD
//! gets changes), and awskeep's own marker `AWSKEEP_EXEC=PROFILE`. aws-vault refuses to start where
//! `AWS_VAULT` is set, which is what an aws-vault inside an awskeep exec should do: it would
//! replace the profile's credentials with others.
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

use std::ffi::OsString;
use std::process::{Command, ExitStatus};

use secrecy::ExposeSecret;

use crate::cli::{CommandKind, ExecArgs};
use crate::context::{Context, SECRET_BEARING};
use crate::credentials::{self, Refresh};
use crate::endpoint::{Endpoint, Source};
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
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
    let mfa_process = args.mfa.mfa_process.as_deref();
    let (program, rest) = match args.command.split_first() {
        Some((program, rest)) => (program.clone(), rest),
        None => (user_shell(ctx), &[][..]),
    };
    let shown = program.to_string_lossy().into_owned();
    let mut command = Command::new(&program);
    command.args(rest);
    for name in POINTS_ELSEWHERE.iter().chain(SECRET_BEARING) {
        command.env_remove(name);
    }
    for name in ctx.env_names.iter().filter(|n| removed_from_child(n)) {
        command.env_remove(name);
    }
    let say_started = || {
        if args.command.is_empty() {
            output::say(&format!(
                "awskeep: starting {shown} with the credentials of profile {profile}; `exit` ends it."
            ));
        } else {
            output::trace(
                ctx.verbose,
                &format!("running {shown} with the credentials of profile {profile}"),
            );
        }
    };
    let status = if args.server {
        let source = Source {
            ctx,
            store,
            aws,
            profile: &profile,
            mfa_process,
            command: CommandKind::Exec,
        };
        with_endpoint(&source, command, &shown, say_started)?
    } else {
        let resolved =
            credentials::resolve(ctx, store, aws, &profile, mfa_process, Refresh::IfNeeded)?;
        resolved
            .credentials
            .for_each_var(resolved.region.as_deref(), |name, value| {
                command.env(name, value);
            });
        if let Some(expiration) = resolved.credentials.expiration() {
            command.env(
                "AWS_SESSION_EXPIRATION",
                humantime::format_rfc3339_seconds(expiration).to_string(),
            );
        }
        drop(resolved);
        name_the_profile(&mut command, &profile);
        say_started();
        spawn(ctx, command, &shown)?.wait()?
    };
    match exit_code(status) {
        0 => Ok(()),
        code => std::process::exit(code),
    }
}

/// `exec --server`: runs `command` with an endpoint of its own in place of the credentials, and
/// answers it on this thread (which owns the store) while another waits for the command; when the
/// command exits the endpoint closes and its status is returned.
fn with_endpoint(
    source: &Source<'_>,
    mut command: Command,
    shown: &str,
    say_started: impl FnOnce(),
) -> Result<ExitStatus> {
    let region = source.check()?.region;
    let endpoint = Endpoint::listen(0)?;
    command.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.uri());
    command.env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        endpoint.token().expose_secret(),
    );
    if let Some(region) = &region {
        command.env("AWS_REGION", region);
        command.env("AWS_DEFAULT_REGION", region);
    }
    name_the_profile(&mut command, source.profile);
    say_started();
    let running = spawn(source.ctx, command, shown)?;
    let stopper = endpoint.stopper();
    let waiting = std::thread::Builder::new()
        .name("exec-wait".into())
        .spawn(move || {
            let status = running.wait();
            stopper.stop();
            status
        })
        .map_err(|e| spawn_failed(shown, &e))?;
    endpoint.serve(source);
    waiting.join().unwrap_or_else(|_| {
        Err(Error::ExecFailed {
            program: shown.to_string(),
            reason: "lost track of the command".into(),
            code: 1,
        })
    })
}

/// What tells the child, and its prompt, which profile it runs with.
fn name_the_profile(command: &mut Command, profile: &ProfileName) {
    command.env("AWS_VAULT", profile.as_str());
    command.env("AWSKEEP_EXEC", profile.as_str());
}

/// The shell `exec` starts when given no command.
fn user_shell(ctx: &Context) -> OsString {
    ctx.shell
        .clone()
        .unwrap_or_else(|| OsString::from(if cfg!(windows) { "cmd.exe" } else { "/bin/sh" }))
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

/// CMD, started; `wait` returns its status once it has exited.
struct Running {
    child: std::process::Child,
    program: String,
    #[cfg(unix)]
    signals: signal_hook::iterator::Handle,
    #[cfg(unix)]
    forwarder: std::thread::JoinHandle<()>,
}

#[cfg(unix)]
fn spawn(ctx: &Context, mut command: Command, program: &str) -> Result<Running> {
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
    let child = ctx
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
    Ok(Running {
        child,
        program: program.to_string(),
        signals: handle,
        forwarder,
    })
}

#[cfg(not(unix))]
fn spawn(_ctx: &Context, mut command: Command, program: &str) -> Result<Running> {
    // Ctrl-C reaches CMD through the console; awskeep waits for it to decide.
    let _ = ctrlc::set_handler(|| {});
    let child = command.spawn().map_err(|e| spawn_failed(program, &e))?;
    Ok(Running {
        child,
        program: program.to_string(),
    })
}

impl Running {
    fn wait(mut self) -> Result<ExitStatus> {
        let status = self.child.wait();
        #[cfg(unix)]
        {
            self.signals.close();
            let _ = self.forwarder.join();
        }
        status.map_err(|e| spawn_failed(&self.program, &e))
    }
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
