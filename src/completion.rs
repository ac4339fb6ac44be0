//! What TAB offers beyond clap's static knowledge: the profile names in the AWS config and
//! credentials files, for every argument that takes a profile (`awskeep remove <TAB>`).
//!
//! Shell completion is clap_complete's dynamic kind: the script `awskeep completions SHELL` prints
//! registers awskeep itself as the completer, and at each TAB the shell runs
//! `AWSKEEP_COMPLETE=SHELL awskeep -- WORDS...`, which `main` hands to clap_complete before anything
//! else runs. So completions follow the config as it is now, and never list a flag awskeep lacks.
//! The variable is awskeep's own (not clap's default `COMPLETE`): a variable some other tool set
//! must never turn a credential_process call into a completion.

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;

use crate::context::Context;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;

/// The environment variable that asks awskeep to complete instead of run.
pub const COMPLETE_VAR: &str = "AWSKEEP_COMPLETE";

/// The candidates for a profile argument: each profile named in the config and credentials files,
/// once, in file order (names awskeep refuses, with a space say, are left out). A file that is missing or unreadable offers nothing; completion never fails
/// and never writes.
pub fn profile_candidates() -> Vec<CompletionCandidate> {
    let Ok(ctx) = Context::from_env(false, crate::hygiene::CallerLimits::default()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for (path, kind) in [
        (&ctx.config_file, FileKind::Config),
        (&ctx.credentials_file, FileKind::Credentials),
    ] {
        let Ok((document, _)) = crate::config_file::read_leniently(path, kind) else {
            continue;
        };
        for name in document
            .sections()
            .iter()
            .filter_map(|s| s.profile.as_deref())
        {
            // Only names awskeep takes: one it would refuse is no help at a TAB.
            if ProfileName::parse(name).is_ok() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
        .into_iter()
        .map(|name| CompletionCandidate::new(OsStr::new(&name)))
        .collect()
}

/// `command` (awskeep's clap definition) with the profile candidates on every argument whose value
/// is a PROFILE, in every subcommand. Attached here rather than in `cli`, so the command-line
/// definition stays free of file reading.
pub fn with_profile_candidates(command: clap::Command) -> clap::Command {
    let profile_args: Vec<clap::Id> = command
        .get_arguments()
        .filter(|arg| {
            arg.get_value_names()
                .is_some_and(|names| names.iter().any(|n| n.as_str() == "PROFILE"))
        })
        .map(|arg| arg.get_id().clone())
        .collect();
    let command = profile_args.into_iter().fold(command, |command, id| {
        command.mut_arg(id, |arg| {
            arg.add(clap_complete::engine::ArgValueCandidates::new(
                profile_candidates,
            ))
        })
    });
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    subcommands.iter().fold(command, |command, name| {
        command.mut_subcommand(name, with_profile_candidates)
    })
}

/// The completion request, when the shell made one (`AWSKEEP_COMPLETE` set): answered on stdout,
/// then the process exits. Otherwise returns at once, having read one variable.
pub fn answer_if_asked() {
    if std::env::var_os(COMPLETE_VAR).is_none() {
        return;
    }
    clap_complete::CompleteEnv::with_factory(|| {
        use clap::CommandFactory;
        with_profile_candidates(crate::cli::Cli::command())
    })
    .var(COMPLETE_VAR)
    .complete();
}

/// The script that registers awskeep as its own completer in `shell`, naming `completer` (this
/// binary's path) as the program to run at each TAB.
pub fn registration(shell: clap_complete::Shell, completer: &str) -> std::io::Result<Vec<u8>> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let adapter: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Elvish => &Elvish,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::PowerShell => &Powershell,
        clap_complete::Shell::Zsh => &Zsh,
        _ => &Bash,
    };
    let mut script = Vec::new();
    adapter.write_registration(COMPLETE_VAR, "awskeep", "awskeep", completer, &mut script)?;
    Ok(script)
}
