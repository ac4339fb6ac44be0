//! What to do next, for every error: one line, true for the command that raised it (it names only
//! that command's flags and subcommands; the tests below check each against clap's definition).
//! Kept apart from `crate::error`, which is below everything, because a hint must know the command
//! line: this module sits above `cli`.

use crate::cli::CommandKind;
use crate::error::Error;
use crate::store::kind::{Flavor, IndexUnreadable};

/// What the user can do next, when there is something useful to say. `command` is the command
/// that raised the error (None where it is not known, e.g. a warning printed mid-way): a hint
/// names only the flags that command has, so it cannot send the user to a flag that is not
/// there. The tests below render every variant for every command and check each flag and
/// `awskeep SUBCOMMAND` a line names against the clap definition.
pub fn hint(error: &Error, command: Option<CommandKind>) -> Option<String> {
    use CommandKind as C;
    let cmd = command;
    let this = |kind: C| cmd == Some(kind);
    let adds_keys = matches!(cmd, Some(C::Add | C::Migrate | C::Import));
    Some(match error {
        Error::NoStoredKey { profile, .. } => {
            format!("run `awskeep add {profile}` to store a key for it")
        }
        Error::NoSuchProfile { .. } => "run `awskeep list` to see the profiles awskeep holds".into(),
        Error::StoreUnavailable { store, .. } => match store {
            Flavor::Keychain => "run awskeep in your own login session (the login keychain is not reachable from another user's or a daemon's context)".into(),
            Flavor::CredentialManager => "run awskeep as the signed-in Windows user (the Credential Manager is per user and needs a loaded profile)".into(),
            Flavor::SecretService => "awskeep needs a Secret Service (GNOME Keyring, KeePassXC) on the D-Bus session bus; run it in the desktop session that holds your keys, or, on a machine without one, use the encrypted file store (`--store file`; `awskeep store show` says which store awskeep uses and why)".into(),
        },
        Error::StoreLocked { store } => match store {
            Flavor::Keychain => "unlock the login keychain (Keychain Access, or `security unlock-keychain`) and try again".into(),
            Flavor::SecretService | Flavor::CredentialManager => "unlock the keyring (log in to the desktop session, or open Passwords and Keys / seahorse) and try again".into(),
        },
        Error::StoreItemTooLarge { .. } => {
            "nothing was written; if it is a cached session, set `awskeep_session = false` in the profile's section to serve the key without one".into()
        }
        Error::StoreIndexCorrupt {
            reason: IndexUnreadable::WrittenByNewer,
            ..
        } => {
            "upgrade awskeep: this one will not overwrite what a newer one wrote".into()
        }
        Error::StoreIndexCorrupt { .. } => {
            "nothing was changed; delete the store item `:index` (service awskeep), then `awskeep add` each profile again".into()
        }
        Error::UnprovenKey { user, keys } => format!(
            "if nothing uses {keys}, delete it (`{}`); then run `awskeep rotate` again",
            delete_key_line("ID", Some(user))
        ),
        Error::KeyLeftInIam { command, .. } => {
            format!("the key still works; delete it as a user allowed to: `{command}`")
        }
        Error::KeyShared { profile, others } => match others.split(", ").collect::<Vec<_>>().as_slice() {
            [other] => format!(
                "a rotation replaces the key of one profile only; keep one profile for this key: `awskeep remove {other}` (the key stays in IAM for {profile}; use {profile} where you used {other}), then `awskeep rotate {profile}`"
            ),
            _ => format!(
                "a rotation replaces the key of one profile only; keep one profile for this key: `awskeep remove NAME` for each of {others} (the key stays in IAM for {profile}; use {profile} in their place), then `awskeep rotate {profile}`"
            ),
        },
        Error::KeyHeldElsewhere { profile, others, flag, .. } if this(C::Remove) => format!(
            "pass --keep-key to remove {profile} alone (the key keeps working for {others}); to end the key, remove {others} first, then `awskeep remove {profile} {flag}`"
        ),
        Error::KeyHeldElsewhere { profile, others, .. } => format!(
            "remove {profile} alone and keep the key for {others}, or remove {others} first"
        ),
        Error::NoRoomToRotate { profile, held_by, .. } if !held_by.is_empty() => match held_by.as_slice() {
            [other] => format!(
                "{profile} and {other} hold keys of the same IAM user, so neither can rotate; keep one profile for the user: `awskeep remove {other} --delete-key` frees the room (use {profile} where you used {other}), then `awskeep rotate {profile}`"
            ),
            _ => format!(
                "{profile} and {} hold keys of the same IAM user, so no rotation has room; keep one profile for the user: `awskeep remove NAME` for each of them, the last with `awskeep remove NAME --delete-key`, then `awskeep rotate {profile}`",
                held_by.join(", ")
            ),
        },
        Error::NoRoomToRotate { delete_command, .. } => format!(
            "if nothing uses that key any more, delete it (`{delete_command}`), then run the command again; a program that still needs it is better given its own IAM user"
        ),
        Error::RotationsFailed { .. } => {
            "each still has the key it had; do what the line for it above says, then run the command again".into()
        }
        Error::RoleProfile {
            profile,
            awskeep_source: Some(source),
            ..
        } => format!(
            "`awskeep migrate {profile}` makes it an awskeep role profile: awskeep then assumes the role with {source}'s key (one MFA code for every role, cached in the keychain) for every tool, exec and export included"
        ),
        Error::RoleProfile { profile, .. } => match cmd {
            Some(C::Exec) => format!(
                "the AWS CLI and SDKs assume the role themselves: run the command with AWS_PROFILE={profile} set (`aws ... --profile {profile}` for the AWS CLI); for a tool that reads only the environment, `aws configure export-credentials --profile {profile} --format env` (AWS CLI v2) prints the role's credentials"
            ),
            Some(C::Export) => format!(
                "the AWS CLI and SDKs assume the role themselves: set AWS_PROFILE={profile}, or print the role's credentials with `aws configure export-credentials --profile {profile} --format env` (AWS CLI v2)"
            ),
            _ => format!(
                "the AWS CLI and SDKs assume the role themselves: use the profile directly (`aws ... --profile {profile}`, AWS_PROFILE={profile})"
            ),
        },
        Error::RoleRefused { source_profile, .. } => format!(
            "check that the role's trust policy lets {source_profile}'s IAM user assume it (and, if it requires MFA, that [profile {source_profile}] has mfa_serial), and that its maximum session duration is not below awskeep_role_duration"
        ),
        Error::RoleLoop { .. } => {
            "make the last role of the chain name a profile awskeep holds a key for (`awskeep list` shows them)".into()
        }
        Error::IsRoleProfile { profile, .. } if this(C::Remove) => format!(
            "a role profile has no key of its own: `awskeep remove {profile}` without a key flag removes it"
        ),
        Error::IsRoleProfile { profile, .. } => format!(
            "choose another profile name, or `awskeep remove {profile}` first (it takes out the role profile)"
        ),
        Error::HoldsKey { profile, .. } => format!(
            "choose another profile name, or `awskeep remove {profile}` first (the key stays in IAM unless you say otherwise)"
        ),
        Error::RoleChainTooLong { .. } => {
            "name a source nearer the key in one of them (awskeep_source_profile): AWS caps every chained role at 1h anyway".into()
        }
        Error::RoleSourceMissing { source_profile, .. } => format!(
            "make it an awskeep profile (`awskeep add {source_profile}`, or `awskeep migrate {source_profile}` where it has plaintext keys or a role_arn), or name another source profile"
        ),
        Error::RoleNeedsSession { source_profile, .. } => format!(
            "remove `awskeep_session = false` from [profile {source_profile}]: one MFA session of {source_profile} then serves every role it assumes"
        ),
        Error::FederationRefused { profile, has_mfa: true, .. } => format!(
            "a GetFederationToken session carries no MFA (STS takes no code for it), so a policy that requires MFA refuses it; sign in through a role profile, which keeps {profile}'s MFA session: `awskeep add-role NAME --role-arn ARN --source-profile {profile}`, then `awskeep login NAME`"
        ),
        Error::FederationRefused { profile, .. } => format!(
            "allow sts:GetFederationToken to {profile}'s IAM user (the console then gets what both allow), or sign in through a role profile: `awskeep add-role NAME --role-arn ARN --source-profile {profile}`, then `awskeep login NAME`"
        ),
        Error::SigninToken { .. } => {
            "run `awskeep login` again in a moment (AWS may take a few seconds to accept a session it just issued)".into()
        }
        Error::NoBrowser { .. } => {
            "print the sign-in URL instead and open it yourself: `awskeep login PROFILE --stdout` (the URL signs in whoever opens it: paste it only into your own browser)".into()
        }
        Error::UnsafeLockDir { path, .. } => format!(
            "remove {} (awskeep recreates it as a private folder of yours), then run the command again",
            path.display()
        ),
        Error::StoreIndexBusy { path } => format!(
            "another awskeep is writing to the store; if none is running, delete {} and try again",
            path.display()
        ),
        Error::StoreItemCorrupt { profile, .. } => {
            format!("run `awskeep add {profile} --force` to store the key again")
        }
        Error::StoreFailed { .. } => return None,
        Error::UnknownCommand { .. } => "name one of those, or none for awskeep's own page".into(),
        Error::UnknownStore { .. } => "pick one of the listed stores with --store or AWSKEEP_STORE".into(),
        Error::InvalidProfileName { .. } => crate::profile_name::NAME_RULE.into(),
        Error::ConfigMalformed { path, .. } => {
            format!("make that line of {} a `key = value`, a comment or a [section] (the AWS CLI reads those too), then run awskeep again", path.display())
        }
        Error::ConfigNotUtf8 { .. } => "save the file as UTF-8 (the AWS CLI and SDKs read it as UTF-8 too), then run awskeep again".into(),
        Error::ReadFile { .. } => "check that you may read that file (its owner and permissions), then run the command again".into(),
        Error::WriteFile { .. } => "check that you may write that file and its folder (owner, permissions, an immutable or read-only file system), then run the command again".into(),
        Error::ConfigEditRejected { .. } => "please report this as an awskeep bug".into(),
        Error::AmbiguousProfileSection { profile, .. } => {
            format!("make profile {profile} one section, headed [profile {profile}] at the start of its line (or rename a section that is not that profile), then run the command again")
        }
        Error::ConfigChanged { .. } => "check the file, then run the command again".into(),
        Error::ConfigKeepsChanging { .. } => {
            "stop the program that keeps rewriting it, then run the command again".into()
        }
        Error::EditLockBusy { path } => format!(
            "another awskeep is editing that file; if none is running, delete {} and try again",
            path.display()
        ),
        Error::ConflictingKeys { section, path, profile, .. } => format!(
            "`awskeep migrate {profile}` moves them into the keychain in one step; or delete them from [{section}] in {}",
            path.display()
        ),
        Error::ConflictingSource { profile, .. } => format!(
            "choose another profile name, or remove that line from [profile {profile}] first"
        ),
        // The flag comes from the code that asked; named only if this command has it.
        Error::NeedsAnswer { flag, .. } => match cmd {
            Some(kind) if kind.takes_flag(flag) => {
                format!("run it in a terminal, or pass {flag} to answer it")
            }
            _ => "run it in a terminal".into(),
        },
        Error::Cancelled => return None,
        Error::BadKeyInput { .. } if this(C::Add) => {
            "give the access key ID and the secret on two lines, or a credential_process JSON object, on stdin; or use --csv FILE (see `awskeep add --help`)".into()
        }
        Error::BadKeyInput { .. } => {
            "see `awskeep add --help` for the forms a key can take".into()
        }
        Error::ImportProfileCount { .. } | Error::ImportProfileTwice { .. } => {
            "give one profile per CSV file, in the same order (`awskeep import --csv a.csv --profile dev --csv b.csv --profile prod`), or none to be asked for each on the terminal".into()
        }
        Error::BadCsv { .. } => {
            "pass the CSV the AWS console downloaded when the key was created (header `Access key ID,Secret access key`)".into()
        }
        Error::TemporaryKey => {
            "add the IAM user's long-term access key (AKIA...), not credentials from STS".into()
        }
        Error::KeyRejected { .. } if adds_keys => {
            "check the key ID and secret (a deleted or mistyped key is rejected); --no-verify stores it without asking AWS".into()
        }
        Error::KeyRejected { .. } => {
            "check the key ID and secret (a deleted or mistyped key is rejected)".into()
        }
        Error::Network { .. } if adds_keys => {
            "check the network (or AWS_ENDPOINT_URL) and try again; --no-verify stores keys without asking AWS".into()
        }
        Error::Network { .. } => {
            "check the network (or AWS_ENDPOINT_URL) and try again".into()
        }
        Error::UnquotablePath { .. } if cfg!(windows) => {
            "install awskeep under a path without %, \", # or ; (e.g. `cargo install` into %USERPROFILE%\\.cargo\\bin)".into()
        }
        Error::UnquotablePath { .. } => {
            "install awskeep under a path without quotes, $, backquotes, backslashes, # or ; or control characters (e.g. `cargo install --path .` into ~/.cargo/bin)".into()
        }
        Error::NoSelfPath(_) | Error::Terminal(_) | Error::Output(_) => return None,
        Error::StoredKeyRefused { profile, .. } => format!(
            "if the plaintext key is the current one, keep it instead: `awskeep migrate {profile} --replace-stored`"
        ),
        Error::StoreHoldsOtherKey { .. } => {
            "`awskeep list` shows the stored key's age and owner; the key IAM no longer lists is the stale one".into()
        }
        Error::MigrationIncomplete { credentials, .. } => format!(
            "their keys are still in {} as they were; fix the cause above and run `awskeep migrate` again",
            credentials.display()
        ),
        Error::SourceCredentials { .. } if this(C::Bootstrap) => {
            "check --source-profile (e.g. run `aws sso login` for an SSO profile), or the AWS_* credential variables".into()
        }
        Error::SourceCredentials { .. } if this(C::Rotate) => {
            "the profile's stored key no longer works: store a working one with `awskeep add PROFILE --force`, then rotate".into()
        }
        Error::SourceCredentials { .. } => {
            "check the credentials named (e.g. run `aws sso login` for an SSO profile), or the AWS_* credential variables".into()
        }
        Error::AccessDenied { permission, .. } if this(C::Bootstrap) => format!(
            "ask an administrator to allow {permission}, or pass --source-profile with an identity that has it"
        ),
        Error::AccessDenied { permission, .. } if this(C::Rotate) => format!(
            "ask an administrator to allow {permission} to the key's IAM user on itself (a key rotates itself)"
        ),
        Error::AccessDenied { permission, .. } => {
            format!("ask an administrator to allow {permission}")
        }
        Error::NoSuchUser { .. } if this(C::Bootstrap) => {
            "check the name, or add --create-user to create the user".into()
        }
        Error::NoSuchUser { .. } => "check the name: the IAM user may have been deleted".into(),
        Error::UserExists { .. } if this(C::Bootstrap) => {
            "drop --create-user to give the existing user a key".into()
        }
        Error::UserExists { .. } => return None,
        Error::KeyQuotaFull {
            user,
            spare_inactive: true,
            ..
        } if this(C::Bootstrap) => format!(
            "delete a key you no longer use (`{}`), or pass --replace-inactive to delete the oldest inactive one",
            delete_key_line("ID", Some(user))
        ),
        Error::KeyQuotaFull { user, .. } => format!(
            "delete a key you no longer use (`{}`), then run the command again",
            delete_key_line("ID", Some(user))
        ),
        Error::RootCaller if this(C::Bootstrap) => {
            "create an IAM user and pass --user NAME (add --create-user to create it now)".into()
        }
        Error::RootCaller => "use an IAM user's access key, not the root user's".into(),
        Error::NeedsUser { .. } if this(C::Bootstrap) => {
            "pass --user NAME for the IAM user that gets the key".into()
        }
        Error::NeedsUser { .. } => {
            "`awskeep bootstrap PROFILE --user NAME` makes a key for a named IAM user".into()
        }
        Error::NewKeyRolledBack { .. } | Error::Interrupted { .. } => return None,
        Error::KeyNotYetAccepted { profile, region_flag, .. } if matches!(cmd, Some(C::Bootstrap | C::Rotate)) => format!(
            "new keys can take a while to work everywhere; try `aws sts get-caller-identity --profile {profile}{region_flag}` in a minute, or raise --verify-timeout"
        ),
        Error::KeyNotYetAccepted { profile, region_flag, .. } => format!(
            "new keys can take a while to work everywhere; try `aws sts get-caller-identity --profile {profile}{region_flag}` in a minute"
        ),
        Error::Aws { .. } => return None,
        Error::BadVariable { name, .. } => format!("fix or unset the environment variable {name}"),
        Error::BadSetting { key, .. } if key.starts_with("AWSKEEP_") => format!("fix or unset the environment variable {key}"),
        Error::BadSetting { key, .. } => format!("fix {key} in the profile's section of ~/.aws/config"),
        Error::LockTimeout { .. } => "another awskeep may be waiting for an MFA code; answer it, or run `awskeep session clear` and retry".into(),
        Error::MfaNoInput { profile } => format!("set `awskeep_mfa_process = ykman oath accounts code -s NAME` (a command that prints the code) in the profile, or run `awskeep session refresh --profile {profile}` in a terminal first"),
        Error::MfaPrompt { .. } => "enter the 6-digit code in the prompt, or set awskeep_mfa_prompt / awskeep_mfa_process in the profile".into(),
        Error::ServeNeedsSession { profile } if this(C::Exec) => format!("turn sessions on with `awskeep_session = true` in [profile {profile}] of ~/.aws/config, or leave out --server: the command then gets the long-term key in its environment"),
        Error::SessionsOff { profile } | Error::ServeNeedsSession { profile } => format!("turn sessions on with `awskeep_session = true` in [profile {profile}] of ~/.aws/config"),
        Error::ExecNested { .. } => "exit that shell first, or run the command directly: its environment already has the credentials".into(),
        Error::ExecFailed { .. } => "check the command's name and that it is on PATH".into(),
        Error::NoRandom { .. } => "try again; the operating system's random source failed".into(),
        Error::ServeListen { .. } if this(C::Serve) => "pick another --port, or leave it out for a free one".into(),
        Error::ServeListen { .. } => "pick another port".into(),
        Error::MfaProcess { .. } if matches!(cmd, Some(C::CredentialProcess | C::Exec | C::Export | C::Serve | C::SessionRefresh)) => "check awskeep_mfa_process / --mfa-process: it must print the 6-digit code on stdout".into(),
        Error::MfaProcess { .. } => "check awskeep_mfa_process in the profile: it must print the 6-digit code on stdout".into(),
        Error::MfaMalformed { .. } => "run the command again and type the 6 digits the device named by mfa_serial shows now".into(),
        Error::MfaRejected { .. } => "use the current code of the device named by mfa_serial, then try again".into(),
        Error::DoctorFound { .. } => "do what each finding's fix says, then run `awskeep doctor` again".into(),
        Error::FileStoreLocked { .. } if this(C::Serve) => "run `awskeep unlock` in a terminal: serve reads the store's key from the kernel keyring at each request and serves again at the next one (where there is no kernel keyring, start serve with AWSKEEP_FILE_PASSPHRASE_COMMAND set)".into(),
        Error::UnlockAgainNeedsPassphrase { .. } => "run `awskeep unlock --timeout DURATION` in a terminal, or give the passphrase to this command in AWSKEEP_FILE_PASSPHRASE; until then the store stays unlocked as it is".into(),
        Error::FileStoreLocked { .. } => "run `awskeep unlock` in a terminal (it keeps the store open for later commands), or set AWSKEEP_FILE_PASSPHRASE or AWSKEEP_FILE_PASSPHRASE_COMMAND for automation".into(),
        Error::FileStoreNeedsPassphrase { .. } => "run `awskeep unlock` in a terminal to create it, or set AWSKEEP_FILE_PASSPHRASE".into(),
        Error::WrongPassphrase { .. } => "nothing was changed; try again with the passphrase the store was created with".into(),
        Error::FileStoreDamaged { .. } => "restore the file from a backup, or move the folder away and `awskeep add` the profiles again".into(),
        Error::FileStoreForeign { .. } => "run awskeep as that user, or point XDG_DATA_HOME at a folder of your own".into(),
        Error::UnsafeStoreDir { path, .. } => format!("make {} a private folder of yours (or move it away), then run the command again", path.display()),
        Error::PassphraseEmpty => "choose a passphrase (AWSKEEP_FILE_PASSPHRASE must not be empty)".into(),
        Error::PassphraseMismatch => "run the command again and type the same passphrase twice".into(),
        Error::PassphraseCommand { .. } => "check AWSKEEP_FILE_PASSPHRASE_COMMAND: it must print the passphrase on stdout and exit 0".into(),
        Error::StoreChoiceUnreadable { .. } => "delete that file (awskeep chooses again), or run `awskeep store move --to file|secret-service`".into(),
        Error::StoreChoiceUnknown { .. } => "run the command again; if the session bus keeps failing, name the store: --store secret-service or --store file (AWSKEEP_STORE=file for every command)".into(),
        Error::UnlockNotKept { .. } => "each command will ask for the passphrase; set AWSKEEP_FILE_PASSPHRASE or AWSKEEP_FILE_PASSPHRASE_COMMAND for commands without a terminal".into(),
        Error::StoreMoveSame { .. } => "nothing to do".into(),
        Error::StoreMoving { .. } => {
            "wait for the move to finish (`awskeep store show` names the store in use) and run the command again".into()
        }
        Error::StoreInUse { .. } => {
            "stop `awskeep serve` and any awskeep waiting for an MFA code or a confirmation, then run the move again".into()
        }
        Error::NoHome => "set HOME, or point AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at your files".into(),
    })
}

/// The single line printed on stderr: cause, then the hint for `command` (None: not known).
pub fn one_line(error: &Error, command: Option<CommandKind>) -> String {
    format!("awskeep: {}", cause_and_hint(error, command))
}

/// `one_line` without its `awskeep: ` prefix, for a line about one of several profiles.
pub fn cause_and_hint(error: &Error, command: Option<CommandKind>) -> String {
    let cause = error.cause_line();
    match hint(error, command) {
        Some(hint) => format!("{cause}. Hint: {hint}."),
        None => format!("{cause}."),
    }
}

/// The AWS CLI line that deletes key `id` (or a placeholder) of `user`, when known: the one
/// builder of it, for every message and hint that names it (`aws::iam`'s messages too).
pub fn delete_key_line(id: &str, user: Option<&str>) -> String {
    let mut line = format!("aws iam delete-access-key --access-key-id {id}");
    if let Some(user) = user {
        line.push_str(&format!(" --user-name {user}"));
    }
    line
}

/// Every hint is true for the command that raised it: each variant (all of them: a new variant
/// without a sample fails `every_variant_has_a_sample`) is rendered for every command, and each
/// `--flag` and `awskeep SUBCOMMAND ...` the line names is checked against clap's definition.
#[cfg(test)]
mod hint_tests {
    use super::*;
    use crate::cli::{Cli, has_long};
    use crate::error::ErrorDiscriminants;
    use clap::CommandFactory;
    use std::path::PathBuf;
    use strum::IntoEnumIterator;

    fn io() -> std::io::Error {
        std::io::Error::other("boom")
    }

    /// At least one of each variant, and one per value a hint distinguishes (stores, flags).
    fn samples() -> Vec<Error> {
        let path = || PathBuf::from("/home/u/.aws/config");
        let s = |text: &str| text.to_string();
        let mut all = vec![
            Error::NoStoredKey {
                profile: s("dev"),
                store: "keyring",
            },
            Error::NoSuchProfile {
                profile: s("dev"),
                store: "keyring",
                config: path(),
            },
            Error::StoreItemCorrupt {
                store: "keyring",
                profile: s("dev"),
                reason: "bad",
            },
            Error::StoreItemTooLarge {
                store: "keyring",
                item: s("dev"),
                size: 9,
                limit: 1,
            },
            Error::UnprovenKey {
                user: s("alice"),
                keys: s("AKIA..."),
            },
            Error::KeyShared {
                profile: s("dev"),
                others: s("prod"),
            },
            Error::UnsafeLockDir {
                path: path(),
                reason: "not yours",
            },
            Error::StoreIndexCorrupt {
                store: "keyring",
                reason: IndexUnreadable::NotAwskeeps,
            },
            Error::StoreIndexCorrupt {
                store: "keyring",
                reason: IndexUnreadable::WrittenByNewer,
            },
            Error::StoreIndexBusy { path: path() },
            Error::StoreFailed {
                store: "keyring",
                reason: s("x"),
            },
            Error::UnknownStore {
                name: s("x"),
                available: s("y"),
            },
            Error::UnknownCommand {
                name: s("x"),
                available: s("add, list"),
            },
            Error::InvalidProfileName {
                name: s("-x"),
                reason: "dash",
            },
            Error::ConfigNotUtf8 {
                path: path(),
                line: 3,
            },
            Error::ConfigMalformed {
                path: path(),
                line: 3,
                reason: s("x"),
            },
            Error::ReadFile {
                path: path(),
                source: io(),
            },
            Error::WriteFile {
                path: path(),
                source: io(),
            },
            Error::ConfigEditRejected {
                path: path(),
                reason: s("x"),
            },
            Error::AmbiguousProfileSection {
                path: path(),
                line: 1,
                header: s(" profile dev "),
                profile: s("dev"),
                why: "is read differently",
            },
            Error::ConflictingKeys {
                profile: s("dev"),
                what: "keys",
                path: path(),
                section: s("dev"),
            },
            Error::ConflictingSource {
                profile: s("dev"),
                key: s("role_arn"),
                path: path(),
            },
            Error::ConfigChanged {
                path: path(),
                profile: s("dev"),
                key: s("region"),
            },
            Error::ConfigKeepsChanging { path: path() },
            Error::EditLockBusy { path: path() },
            Error::Cancelled,
            Error::BadKeyInput { reason: s("x") },
            Error::ImportProfileCount {
                csv_files: 2,
                profiles: 1,
            },
            Error::ImportProfileTwice { profile: s("dev") },
            Error::BadCsv {
                path: path(),
                reason: s("x"),
            },
            Error::TemporaryKey,
            Error::KeyRejected {
                code: s("InvalidClientTokenId"),
                message: s(""),
            },
            Error::Network {
                service: "STS",
                endpoint: s("https://sts"),
                reason: s("x"),
            },
            Error::SourceCredentials {
                source_label: s("profile admin"),
                reason: s("x"),
            },
            Error::AccessDenied {
                permission: "iam:CreateAccessKey",
                caller: s("arn"),
            },
            Error::NoSuchUser { user: s("alice") },
            Error::UserExists { user: s("alice") },
            Error::KeyQuotaFull {
                user: s("alice"),
                keys: s(""),
                spare_inactive: true,
            },
            Error::KeyQuotaFull {
                user: s("alice"),
                keys: s(""),
                spare_inactive: false,
            },
            Error::RootCaller,
            Error::NeedsUser { what: "a role" },
            Error::NewKeyRolledBack {
                cause_line: s("x"),
                outcome: s("y"),
            },
            Error::Interrupted { outcome: s("y") },
            Error::KeyLeftInIam {
                profile: s("dev"),
                key: s("AKIA…MPLE"),
                done: "deleted",
                cause: s("arn:aws:iam::123456789012:user/dev may not call iam:DeleteAccessKey"),
                command: s(
                    "aws iam delete-access-key --access-key-id AKIAIOSFODNN7EXAMPLE --user-name dev",
                ),
            },
            Error::KeyNotYetAccepted {
                profile: s("dev"),
                waited: s("60s"),
                region_flag: s(""),
            },
            Error::Aws {
                operation: "iam:ListAccessKeys",
                reason: s("x"),
            },
            Error::UnquotablePath {
                path: path(),
                reason: "quote",
            },
            Error::NoSelfPath(io()),
            Error::NoHome,
            Error::Terminal(io()),
            Error::Output(io()),
            Error::StoreHoldsOtherKey {
                profile: s("dev"),
                stored: s("AKIA..."),
                plaintext: s("AKIA..."),
            },
            Error::StoredKeyRefused {
                profile: s("dev"),
                stored: s("AKIA..."),
                cause: s("x"),
            },
            Error::MigrationIncomplete {
                failed: s("dev"),
                credentials: path(),
            },
            Error::BadSetting {
                profile: s("dev"),
                key: "mfa_serial",
                reason: s("x"),
            },
            Error::LockTimeout {
                profile: s("dev"),
                path: path(),
            },
            Error::MfaNoInput { profile: s("dev") },
            Error::MfaProcess {
                command: s("ykman"),
                reason: s("x"),
            },
            Error::MfaRejected { message: s("") },
            Error::MfaMalformed { attempts: 3 },
            Error::FileStoreLocked { dir: path() },
            Error::BadVariable {
                name: "AWSKEEP_UNLOCK_TIMEOUT",
                reason: s("x"),
            },
            Error::UnlockAgainNeedsPassphrase {
                dir: path(),
                left: s(" for 1h"),
            },
            Error::FileStoreNeedsPassphrase { dir: path() },
            Error::WrongPassphrase { path: path() },
            Error::FileStoreDamaged {
                path: path(),
                reason: "x",
            },
            Error::FileStoreForeign {
                path: path(),
                owner: 65534,
            },
            Error::UnsafeStoreDir {
                path: path(),
                reason: "x",
            },
            Error::PassphraseEmpty,
            Error::PassphraseMismatch,
            Error::PassphraseCommand {
                command: s("pass x"),
                reason: s("x"),
            },
            Error::StoreChoiceUnreadable { path: path() },
            Error::StoreChoiceUnknown { reason: s("x") },
            Error::UnlockNotKept { reason: s("x") },
            Error::StoreMoveSame {
                store: "file store",
            },
            Error::StoreMoving { path: path() },
            Error::StoreInUse { path: path() },
            Error::MfaPrompt {
                program: "zenity",
                reason: s("x"),
            },
            Error::SessionsOff { profile: s("dev") },
            Error::ExecNested { profile: s("dev") },
            Error::ExecFailed {
                program: s("x"),
                reason: s("x"),
                code: 127,
            },
            Error::ServeNeedsSession { profile: s("dev") },
            Error::NoRandom { reason: s("x") },
            Error::ServeListen {
                port: 1,
                source: io(),
            },
            Error::KeyHeldElsewhere {
                profile: s("a"),
                key: s("AKIA…MPLE"),
                others: s("b"),
                done: "deleted",
                flag: "--delete-key",
            },
            Error::KeyHeldElsewhere {
                profile: s("a"),
                key: s("AKIA…MPLE"),
                others: s("b, c"),
                done: "deactivated",
                flag: "--deactivate-key",
            },
            Error::KeyShared {
                profile: s("a"),
                others: s("b, c"),
            },
            Error::RotationsFailed {
                count: 2,
                total: 3,
                failed: s("a, b"),
            },
            Error::DoctorFound { failed: 2 },
        ];
        for held_by in [vec![], vec![s("b")], vec![s("b"), s("c")]] {
            all.push(Error::NoRoomToRotate {
                profile: s("a"),
                user: s("alice"),
                other: s("AKIA…WXYZ, active, which no awskeep profile holds"),
                held_by,
                delete_command: s(
                    "aws iam delete-access-key --access-key-id AKIAIOSFODNN7EXAMPLE --user-name alice",
                ),
            });
        }
        all.push(Error::RoleRefused {
            role_arn: "arn:aws:iam::123456789012:role/admin".into(),
            source_profile: "dev".into(),
            code: "AccessDenied".into(),
            message: "not authorized".into(),
        });
        all.push(Error::RoleLoop {
            chain: "a -> b -> a".into(),
        });
        all.push(Error::IsRoleProfile {
            profile: "prod".into(),
            role_arn: "arn:aws:iam::123456789012:role/admin".into(),
        });
        all.push(Error::HoldsKey {
            profile: "dev".into(),
            store: "Secret Service",
        });
        all.push(Error::RoleChainTooLong {
            chain: "a -> b -> ...".into(),
            max: 10,
        });
        all.push(Error::RoleSourceMissing {
            profile: "prod".into(),
            source_profile: "dev".into(),
            store: "Secret Service",
        });
        all.push(Error::RoleNeedsSession {
            profile: "prod".into(),
            source_profile: "dev".into(),
        });
        for has_mfa in [false, true] {
            all.push(Error::FederationRefused {
                profile: s("dev"),
                code: s("AccessDenied"),
                message: s(" (not authorized)"),
                has_mfa,
            });
        }
        all.push(Error::SigninToken {
            endpoint: s("https://signin.aws.amazon.com"),
            reason: s("HTTP 400"),
        });
        all.push(Error::NoBrowser {
            program: "xdg-open",
            reason: s("it is not on PATH"),
        });
        for awskeep_source in [None, Some(s("dev"))] {
            all.push(Error::RoleProfile {
                profile: s("deploy"),
                via: s("source_profile = dev"),
                awskeep_source,
            });
        }
        for store in [
            Flavor::Keychain,
            Flavor::CredentialManager,
            Flavor::SecretService,
        ] {
            all.push(Error::StoreUnavailable {
                store,
                reason: s("x"),
            });
            all.push(Error::StoreLocked { store });
        }
        // Every flag the code passes to NeedsAnswer (prompt::confirm callers, import).
        for flag in ["--yes", "--force", "--delete-csv", "--profile"] {
            all.push(Error::NeedsAnswer {
                question: s("Go?"),
                flag,
            });
        }
        all
    }

    fn commands() -> impl Iterator<Item = Option<CommandKind>> {
        std::iter::once(None).chain(CommandKind::iter().map(Some))
    }

    #[test]
    fn every_variant_has_a_sample() {
        let samples = samples();
        for variant in ErrorDiscriminants::iter() {
            assert!(
                samples
                    .iter()
                    .any(|e| ErrorDiscriminants::from(e) == variant),
                "no sample of Error::{variant:?} in hint_tests::samples"
            );
        }
    }

    /// The lies in `line`, said to a user of `command` (None: any command).
    fn lies(line: &str, command: Option<CommandKind>) -> Vec<String> {
        let root = Cli::command();
        let mut lies = Vec::new();
        for (index, part) in line.split('`').enumerate() {
            if index % 2 == 1 {
                let words: Vec<&str> = part.split_whitespace().collect();
                if words.first() == Some(&"awskeep") {
                    lies.extend(invocation_lies(&root, &words[1..], part));
                }
                continue;
            }
            for flag in flags_in(part) {
                let known = match command {
                    Some(kind) => kind.takes_flag(&flag),
                    None => has_long(&root, &flag),
                };
                if !known {
                    lies.push(format!("{flag} (not an option of {command:?})"));
                }
            }
        }
        lies
    }

    fn flags_in(prose: &str) -> Vec<String> {
        prose
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(str::to_string)
            .collect()
    }

    /// Checks `awskeep WORDS...`: the subcommands exist, every flag is theirs, and a bare word is a
    /// flag's value or a positional the command takes.
    fn invocation_lies(root: &clap::Command, words: &[&str], span: &str) -> Vec<String> {
        let mut cmd = root;
        let mut rest = words;
        while let Some((first, tail)) = rest.split_first() {
            match cmd.find_subcommand(first) {
                Some(sub) => {
                    cmd = sub;
                    rest = tail;
                }
                None => break,
            }
        }
        let mut lies = Vec::new();
        if cmd.has_subcommands() {
            lies.push(format!("`{span}` does not name a command"));
            return lies;
        }
        let mut words = rest.iter();
        while let Some(word) = words.next() {
            // What follows `--` is the command `exec` runs, not awskeep's.
            if *word == "--" {
                break;
            }
            if let Some(name) = word.strip_prefix("--") {
                let arg = cmd
                    .get_arguments()
                    .chain(root.get_arguments())
                    .find(|a| a.get_long() == Some(name));
                match arg {
                    None if name == "help" => {}
                    Some(arg) if arg.get_action().takes_values() => {
                        words.next();
                    }
                    Some(_) => {}
                    None => lies.push(format!("`{span}`: {word} is not an option of it")),
                }
            } else if cmd.get_positionals().next().is_none() {
                lies.push(format!("`{span}`: it takes no argument {word}"));
            }
        }
        lies
    }

    #[test]
    fn every_hint_names_only_flags_and_commands_the_running_command_has() {
        let mut found = Vec::new();
        for error in samples() {
            for command in commands() {
                let line = one_line(&error, command);
                for lie in lies(&line, command) {
                    found.push(format!("{command:?}: {lie}\n    in: {line}"));
                }
            }
        }
        assert!(found.is_empty(), "hints that lie:\n{}", found.join("\n"));
    }

    #[test]
    fn the_checker_catches_the_lies_it_exists_for() {
        let rotate = Some(CommandKind::Rotate);
        assert!(!lies("x. Hint: pass --replace-inactive.", rotate).is_empty());
        assert!(!lies("x. Hint: check --source-profile.", rotate).is_empty());
        assert!(!lies("x. Hint: run `awskeep lsit`.", rotate).is_empty());
        assert!(!lies("x. Hint: run `awskeep add --no-verfy`.", rotate).is_empty());
        assert!(!lies("x. Hint: run `awskeep list dev`.", rotate).is_empty());
        assert!(!lies("x. Hint: run `awskeep session`.", rotate).is_empty());
        assert!(!lies("x. Hint: run `awskeep exec dev --nope -- aws`.", rotate).is_empty());
        assert!(lies("x. Hint: run `awskeep exec dev -- aws --nope`.", rotate).is_empty());
        assert!(
            lies(
                "x. Hint: run `awskeep session clear dev`, or pass --yes.",
                rotate
            )
            .is_empty()
        );
        assert!(
            lies(
                "x. Hint: `aws iam delete-access-key --user-name u`; --store.",
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn every_hint_fits_on_its_line() {
        for error in samples() {
            for command in commands() {
                let line = one_line(&error, command);
                assert!(!line.contains('\n') && line.ends_with('.'), "{line}");
            }
        }
    }
}
