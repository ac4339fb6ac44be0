//! Every failure awskeep can report: a one-line cause, an optional one-line hint of what to do next,
//! and an exit code. No variant carries a secret, so neither `Display` nor `Debug` can print one.

use std::path::PathBuf;

use crate::cli::CommandKind;

pub type Result<T> = std::result::Result<T, Error>;

/// Exit codes, documented in the README.
pub mod exit {
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const STORE_UNAVAILABLE: i32 = 4;
    pub const AWS_REJECTED: i32 = 5;
    pub const NETWORK: i32 = 6;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
#[cfg_attr(
    test,
    derive(strum::EnumDiscriminants),
    strum_discriminants(derive(strum::EnumIter))
)]
pub enum Error {
    #[error("no key is stored for profile \"{profile}\" in the {store}")]
    NoStoredKey {
        profile: String,
        store: &'static str,
    },

    #[error(
        "no awskeep profile \"{profile}\": nothing in the {store} and no awskeep line in {config}"
    )]
    NoSuchProfile {
        profile: String,
        store: &'static str,
        config: PathBuf,
    },

    #[error("cannot reach the {store}: {reason}")]
    StoreUnavailable { store: &'static str, reason: String },

    #[error("the {store} is locked")]
    StoreLocked { store: &'static str },

    #[error("the {store} item for profile \"{profile}\" is not an awskeep key ({reason})")]
    StoreItemCorrupt {
        store: &'static str,
        profile: String,
        reason: &'static str,
    },

    #[error(
        "the {store} cannot hold the item for {item}: it is {size} bytes, the limit is {limit}"
    )]
    StoreItemTooLarge {
        store: &'static str,
        item: String,
        size: usize,
        limit: usize,
    },

    #[error(
        "IAM user {user} has key {keys} that no awskeep item holds, and awskeep cannot prove an interrupted rotation made it; it was left alone and nothing was rotated"
    )]
    UnprovenKey { user: String, keys: String },

    #[error(
        "profile \"{profile}\" shares its key with {others}; rotating it would delete the key they use, so nothing was changed"
    )]
    KeyShared { profile: String, others: String },

    #[error("awskeep will not keep its locks in {path}: {reason}")]
    UnsafeLockDir { path: PathBuf, reason: &'static str },

    #[error("the {store}'s awskeep index cannot be read: {reason}")]
    StoreIndexCorrupt {
        store: &'static str,
        reason: &'static str,
    },

    #[error("another awskeep held the store's profile index lock ({path}) for too long")]
    StoreIndexBusy { path: PathBuf },

    #[error("the {store} failed: {reason}")]
    StoreFailed { store: &'static str, reason: String },

    #[error("store \"{name}\" is not available on this platform (available: {available})")]
    UnknownStore { name: String, available: String },

    #[error("awskeep has no command \"{name}\" (it has {available})")]
    UnknownCommand { name: String, available: String },

    #[error("invalid profile name {name:?}: {reason}")]
    InvalidProfileName { name: String, reason: &'static str },

    #[error("{path}:{line}: {reason}; awskeep reads only `key = value` settings")]
    ConfigMalformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "the edited {path} did not parse as the AWS SDKs read it ({reason}); the file was left unchanged"
    )]
    ConfigEditRejected { path: PathBuf, reason: String },

    #[error(
        "line {line} of {path}, [{header}], {why}, so no edit of profile {profile} would reach every client"
    )]
    AmbiguousProfileSection {
        path: PathBuf,
        line: usize,
        header: String,
        profile: String,
        why: &'static str,
    },

    #[error(
        "profile \"{profile}\" has {what} in {path}, which would win over awskeep in botocore, the JS and the Go SDKs"
    )]
    ConflictingKeys {
        profile: String,
        what: &'static str,
        path: PathBuf,
        section: String,
    },

    #[error("profile \"{profile}\" in {path} already gets credentials from `{key}`")]
    ConflictingSource {
        profile: String,
        key: String,
        path: PathBuf,
    },

    #[error(
        "{path} changed while awskeep was working: another program changed {key} of profile \"{profile}\"; nothing was written to it"
    )]
    ConfigChanged {
        path: PathBuf,
        profile: String,
        key: String,
    },

    #[error("{path} kept changing while awskeep tried to write it; nothing was written to it")]
    ConfigKeepsChanging { path: PathBuf },

    #[error("another awskeep held the edit lock of {path} for too long")]
    EditLockBusy { path: PathBuf },

    #[error("cannot ask \"{question}\": stdin is not a terminal")]
    NeedsAnswer {
        question: String,
        flag: &'static str,
    },

    #[error("cancelled; nothing was changed")]
    Cancelled,

    #[error("cannot read the key: {reason}")]
    BadKeyInput { reason: String },

    #[error("{csv_files} CSV files but {profiles} profile names")]
    ImportProfileCount { csv_files: usize, profiles: usize },

    #[error("two CSV files are meant for profile {profile}")]
    ImportProfileTwice { profile: String },

    #[error("cannot use {path}: {reason}")]
    BadCsv { path: PathBuf, reason: String },

    #[error(
        "the key holds temporary credentials (it has a session token); awskeep stores long-term IAM user keys only"
    )]
    TemporaryKey,

    #[error("AWS rejected the key: {code}{message}")]
    KeyRejected { code: String, message: String },

    #[error("cannot reach AWS {service} at {endpoint}: {reason}")]
    Network {
        service: &'static str,
        endpoint: String,
        reason: String,
    },

    #[error("cannot use the source identity ({source_label}): {reason}")]
    SourceCredentials {
        source_label: String,
        reason: String,
    },

    #[error("{caller} may not call {permission}")]
    AccessDenied {
        permission: &'static str,
        caller: String,
    },

    #[error("there is no IAM user named {user}")]
    NoSuchUser { user: String },

    #[error("IAM user {user} already exists")]
    UserExists { user: String },

    #[error("IAM user {user} already has two access keys, the most AWS allows{keys}")]
    KeyQuotaFull { user: String, keys: String },

    #[error(
        "the source identity is the account's root user; AWS advises against access keys for root"
    )]
    RootCaller,

    #[error("the source identity is {what}, which has no access keys of its own")]
    NeedsUser { what: &'static str },

    #[error("{cause_line}; {outcome}")]
    NewKeyRolledBack { cause_line: String, outcome: String },

    #[error("interrupted; {outcome}")]
    Interrupted { outcome: String },

    #[error(
        "the new key is stored and configured as profile {profile}, but AWS did not accept it within {waited}"
    )]
    KeyNotYetAccepted {
        profile: String,
        waited: String,
        /// ` --region R` when the profile has no region, so the suggested command works as printed.
        region_flag: String,
    },

    #[error("AWS {operation} failed: {reason}")]
    Aws {
        operation: &'static str,
        reason: String,
    },

    #[error(
        "awskeep's own path {} cannot be written into credential_process safely ({reason})",
        path.display().to_string().escape_debug()
    )]
    UnquotablePath { path: PathBuf, reason: &'static str },

    #[error("cannot find awskeep's own path: {0}")]
    NoSelfPath(std::io::Error),

    #[error("cannot find the home directory")]
    NoHome,

    #[error("cannot use the terminal: {0}")]
    Terminal(std::io::Error),

    #[error("cannot write the output: {0}")]
    Output(std::io::Error),

    #[error(
        "the {store_name} holds key {stored} for profile \"{profile}\", the plaintext lines another, {plaintext} (the one the AWS CLI and SDKs use while those lines exist): run `awskeep migrate {profile} --discard-plaintext` to keep {stored} and delete the plaintext lines, or `--replace-stored` to keep {plaintext}",
        store_name = "keychain"
    )]
    StoreHoldsOtherKey {
        profile: String,
        stored: String,
        plaintext: String,
    },

    #[error(
        "the stored key {stored} of profile \"{profile}\" was not accepted ({cause}), so its plaintext lines were kept"
    )]
    StoredKeyRefused {
        profile: String,
        stored: String,
        cause: String,
    },

    #[error("some profiles were not migrated: {failed}")]
    MigrationIncomplete {
        failed: String,
        credentials: PathBuf,
    },

    #[error("profile \"{profile}\" has an invalid {key}: {reason}")]
    BadSetting {
        profile: String,
        key: &'static str,
        reason: String,
    },

    #[error("another awskeep held the session lock {path} for profile \"{profile}\" too long")]
    LockTimeout { profile: String, path: PathBuf },

    #[error("profile \"{profile}\" needs an MFA code and there is no terminal to ask on")]
    MfaNoInput { profile: String },

    #[error("the MFA code command `{command}` failed: {reason}")]
    MfaProcess { command: String, reason: String },

    #[error("AWS refused the MFA code{message}")]
    MfaRejected { message: String },

    #[error(
        "no MFA code of the right shape was typed ({attempts} tries; a code is 6 digits), so none was sent to AWS"
    )]
    MfaMalformed { attempts: u32 },

    #[error(
        "the awskeep file store ({dir}) is locked and there is no terminal to ask for its passphrase"
    )]
    FileStoreLocked { dir: PathBuf },

    #[error(
        "there is no awskeep file store in {dir} yet, and no terminal to choose its passphrase on"
    )]
    FileStoreNeedsPassphrase { dir: PathBuf },

    #[error("the passphrase does not open {path}")]
    WrongPassphrase { path: PathBuf },

    #[error("{path} cannot be used: {reason}; awskeep left it as it was")]
    FileStoreDamaged { path: PathBuf, reason: &'static str },

    #[error("{path} belongs to another user (uid {owner}); awskeep left it as it was")]
    FileStoreForeign { path: PathBuf, owner: u32 },

    #[error("awskeep will not keep its file store in {path}: {reason}")]
    UnsafeStoreDir { path: PathBuf, reason: &'static str },

    #[error("the passphrase is empty")]
    PassphraseEmpty,

    #[error("the two passphrases differ; nothing was created")]
    PassphraseMismatch,

    #[error("the passphrase command `{command}` failed: {reason}")]
    PassphraseCommand { command: String, reason: String },

    #[error("{path} does not name a store awskeep knows")]
    StoreChoiceUnreadable { path: PathBuf },

    /// No store was recorded or asked for, and the session bus did not say whether a Secret
    /// Service is there: awskeep does not guess (`store::choice`).
    #[error("awskeep cannot tell which store to use here: {reason}")]
    StoreChoiceUnknown { reason: String },

    #[error(
        "the passphrase is right, but the unlocked key cannot be kept for later commands: {reason}"
    )]
    UnlockNotKept { reason: String },

    #[error("the items are already in the {store}")]
    StoreMoveSame { store: &'static str },
    /// A command waited for a `store move` to finish for longer than `choice::MOVE_WAIT`.
    #[error("`awskeep store move` held the store ({path}) for too long; nothing was written")]
    StoreMoving { path: PathBuf },
    /// `store move` waited for other awskeep commands using the store for longer than allowed.
    #[error("other awskeep commands kept using the store ({path}); nothing was moved")]
    StoreInUse { path: PathBuf },
    #[error("the MFA prompt ({program}) gave no code: {reason}")]
    MfaPrompt {
        program: &'static str,
        reason: String,
    },

    #[error(
        "profile \"{profile}\" has sessions off: it serves its long-term key, which has no session to refresh"
    )]
    SessionsOff { profile: String },

    #[error("already inside `awskeep exec {profile}` (AWSKEEP_EXEC is set)")]
    ExecNested { profile: String },

    #[error("cannot run {program}: {reason}")]
    ExecFailed {
        program: String,
        reason: String,
        code: i32,
    },

    #[error(
        "profile \"{profile}\" has sessions off, and `serve` hands out only short-lived sessions, never the long-term key"
    )]
    ServeNeedsSession { profile: String },

    #[error("the operating system gave no random bytes: {reason}")]
    NoRandom { reason: String },

    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    ServeListen { port: u16, source: std::io::Error },

    #[error(
        "profile {profile} is removed from awskeep, but its key {key} was not {done} in IAM: {cause}"
    )]
    KeyLeftInIam {
        profile: String,
        key: String,
        done: &'static str,
        cause: String,
        command: String,
    },

    /// `remove --delete-key` (or `--deactivate-key`) of a key another profile holds too.
    #[error(
        "key {key} of profile {profile} is also held by {others}: it would stop working for them if {done} in IAM, so nothing was changed"
    )]
    KeyHeldElsewhere {
        profile: String,
        key: String,
        others: String,
        /// "deleted" or "deactivated".
        done: &'static str,
        /// The flag that asked for it: `--delete-key` or `--deactivate-key`.
        flag: &'static str,
    },

    /// A rotation finds the IAM user at two keys, and the other one is not free to delete.
    #[error(
        "IAM user {user} already has two access keys, the most AWS allows: {profile}'s and {other}; a rotation needs room for a new one, so nothing was changed"
    )]
    NoRoomToRotate {
        profile: String,
        user: String,
        /// The other key, masked, and whose it is: `AKIA…WXYZ, active, which no awskeep profile
        /// holds`.
        other: String,
        /// The awskeep profiles that hold the other key.
        held_by: Vec<String>,
        /// The AWS CLI line that deletes the other key.
        delete_command: String,
    },

    /// `rotate --all`: some profiles were not rotated (each said why on its own line).
    #[error("{count} of {total} profiles were not rotated: {failed}")]
    RotationsFailed {
        count: usize,
        total: usize,
        failed: String,
    },

    /// A standard role profile (`role_arn` + `source_profile` / `credential_source`) named where
    /// awskeep serves credentials: it holds no key for it and does not assume roles itself.
    #[error(
        "profile \"{profile}\" is a role profile (role_arn, {via}): awskeep holds no key for it and does not assume roles"
    )]
    RoleProfile {
        profile: String,
        /// How it gets its source credentials: `source_profile = dev`, `credential_source = ...`.
        via: String,
        /// The source profile, when it is one awskeep holds a key for.
        awskeep_source: Option<String>,
    },

    #[error("doctor found {failed} problem(s)")]
    DoctorFound { failed: usize },
}

impl Error {
    /// What the user can do next, when there is something useful to say. `command` is the command
    /// that raised the error (None where it is not known, e.g. a warning printed mid-way): a hint
    /// names only the flags that command has, so it cannot send the user to a flag that is not
    /// there. The tests below render every variant for every command and check each flag and
    /// `awskeep SUBCOMMAND` a line names against the clap definition.
    pub fn hint(&self, command: Option<CommandKind>) -> Option<String> {
        use CommandKind as C;
        let cmd = command;
        let this = |kind: C| cmd == Some(kind);
        let adds_keys = matches!(cmd, Some(C::Add | C::Migrate | C::Import));
        Some(match self {
            Error::NoStoredKey { profile, .. } => {
                format!("run `awskeep add {profile}` to store a key for it")
            }
            Error::NoSuchProfile { .. } => "run `awskeep list` to see the profiles awskeep holds".into(),
            Error::StoreUnavailable { store, .. } => match *store {
                "macOS Keychain" => "run awskeep in your own login session (the login keychain is not reachable from another user's or a daemon's context)".into(),
                "Windows Credential Manager" => "run awskeep as the signed-in Windows user (the Credential Manager is per user and needs a loaded profile)".into(),
                _ => "awskeep needs a Secret Service (GNOME Keyring, KeePassXC) on the D-Bus session bus; run it in the desktop session that holds your keys, or, on a machine without one, use the encrypted file store (`--store file`; `awskeep store show` says which store awskeep uses and why)".into(),
            },
            Error::StoreLocked { store } => match *store {
                "macOS Keychain" => "unlock the login keychain (Keychain Access, or `security unlock-keychain`) and try again".into(),
                _ => "unlock the keyring (log in to the desktop session, or open Passwords and Keys / seahorse) and try again".into(),
            },
            Error::StoreItemTooLarge { .. } => {
                "nothing was written; if it is a cached session, set `awskeep_session = false` in the profile's section to serve the key without one".into()
            }
            Error::StoreIndexCorrupt { reason, .. } if *reason == crate::store::NEWER_INDEX => {
                "upgrade awskeep: this one will not overwrite what a newer one wrote".into()
            }
            Error::StoreIndexCorrupt { .. } => {
                "nothing was changed; delete the store item `:index` (service awskeep), then `awskeep add` each profile again".into()
            }
            Error::UnprovenKey { user, keys } => format!(
                "if nothing uses {keys}, delete it (`aws iam delete-access-key --user-name {user} --access-key-id ID`); then run `awskeep rotate` again"
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
            Error::RoleProfile { profile, awskeep_source, .. } => {
                let from = awskeep_source
                    .as_ref()
                    .map_or(String::new(), |source| format!(" from {source}'s awskeep key"));
                match (cmd, awskeep_source) {
                    (Some(C::Exec), source) => format!(
                        "the AWS CLI and SDKs assume the role themselves{from}: run the command with AWS_PROFILE={profile} set (`aws ... --profile {profile}` for the AWS CLI); for a tool that reads only the environment, `aws configure export-credentials --profile {profile} --format env` (AWS CLI v2) prints the role's credentials{}",
                        source.as_ref().map_or(String::new(), |source| format!(
                            "; `awskeep exec {source} -- COMMAND` runs it as {source} itself"
                        ))
                    ),
                    (Some(C::Export), source) => format!(
                        "the AWS CLI and SDKs assume the role themselves{from}: set AWS_PROFILE={profile}, or print the role's credentials with `aws configure export-credentials --profile {profile} --format env` (AWS CLI v2){}",
                        source.as_ref().map_or(String::new(), |source| format!(
                            "; `awskeep export {source}` prints {source}'s own"
                        ))
                    ),
                    _ => format!(
                        "the AWS CLI and SDKs assume the role themselves{from}: use the profile directly (`aws ... --profile {profile}`, AWS_PROFILE={profile})"
                    ),
                }
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
            Error::InvalidProfileName { .. } => {
                "use letters, digits and . _ - + @ only, not starting with - (e.g. dev, prod-admin)".into()
            }
            Error::ConfigMalformed { path, .. } => {
                format!("make that line of {} a `key = value`, a comment or a [section] (the AWS CLI reads those too), then run awskeep again", path.display())
            }
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
            Error::KeyQuotaFull { user, .. } if this(C::Bootstrap) => format!(
                "delete a key you no longer use (`aws iam delete-access-key --user-name {user} --access-key-id ID`), or pass --replace-inactive to delete the oldest inactive one"
            ),
            Error::KeyQuotaFull { user, .. } => format!(
                "delete a key you no longer use (`aws iam delete-access-key --user-name {user} --access-key-id ID`), then run the command again"
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
            Error::BadSetting { key, .. } if key.starts_with("AWSKEEP_") => format!("fix or unset the environment variable {key}"),
            Error::BadSetting { key, .. } => format!("fix {key} in the profile's section of ~/.aws/config"),
            Error::LockTimeout { .. } => "another awskeep may be waiting for an MFA code; answer it, or run `awskeep session clear` and retry".into(),
            Error::MfaNoInput { profile } => format!("set `awskeep_mfa_process = ykman oath accounts code -s NAME` (a command that prints the code) in the profile, or run `awskeep session refresh --profile {profile}` in a terminal first"),
            Error::MfaPrompt { .. } => "enter the 6-digit code in the prompt, or set awskeep_mfa_prompt / awskeep_mfa_process in the profile".into(),
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

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoStoredKey { .. }
            | Error::NoSuchProfile { .. }
            | Error::NoSuchUser { .. }
            | Error::RoleProfile { .. } => exit::NOT_FOUND,
            Error::StoreUnavailable { .. }
            | Error::StoreChoiceUnknown { .. }
            | Error::StoreLocked { .. }
            | Error::FileStoreLocked { .. }
            | Error::FileStoreNeedsPassphrase { .. }
            | Error::WrongPassphrase { .. }
            | Error::FileStoreDamaged { .. }
            | Error::FileStoreForeign { .. }
            | Error::UnlockNotKept { .. }
            | Error::StoreIndexCorrupt { .. } => exit::STORE_UNAVAILABLE,
            Error::KeyRejected { .. }
            | Error::AccessDenied { .. }
            | Error::SourceCredentials { .. } => exit::AWS_REJECTED,
            Error::Interrupted { .. } => exit::INTERRUPTED,
            Error::Network { .. } => exit::NETWORK,
            Error::InvalidProfileName { .. }
            | Error::UnknownStore { .. }
            | Error::UnknownCommand { .. }
            | Error::NeedsAnswer { .. }
            | Error::BadKeyInput { .. }
            | Error::TemporaryKey
            | Error::ImportProfileCount { .. }
            | Error::ImportProfileTwice { .. }
            | Error::BadCsv { .. }
            | Error::RootCaller
            | Error::NeedsUser { .. } => exit::USAGE,
            Error::StoreItemCorrupt { .. }
            | Error::StoreItemTooLarge { .. }
            | Error::UnprovenKey { .. }
            | Error::KeyShared { .. }
            | Error::KeyHeldElsewhere { .. }
            | Error::NoRoomToRotate { .. }
            | Error::RotationsFailed { .. }
            | Error::UnsafeLockDir { .. }
            | Error::StoreIndexBusy { .. }
            | Error::StoreMoving { .. }
            | Error::StoreInUse { .. }
            | Error::StoreFailed { .. }
            | Error::ConfigMalformed { .. }
            | Error::ReadFile { .. }
            | Error::WriteFile { .. }
            | Error::ConfigEditRejected { .. }
            | Error::AmbiguousProfileSection { .. }
            | Error::ConflictingKeys { .. }
            | Error::ConflictingSource { .. }
            | Error::ConfigChanged { .. }
            | Error::ConfigKeepsChanging { .. }
            | Error::EditLockBusy { .. }
            | Error::Cancelled
            | Error::UserExists { .. }
            | Error::KeyQuotaFull { .. }
            | Error::NewKeyRolledBack { .. }
            | Error::KeyLeftInIam { .. }
            | Error::KeyNotYetAccepted { .. }
            | Error::Aws { .. }
            | Error::UnquotablePath { .. }
            | Error::NoSelfPath(_)
            | Error::NoHome
            | Error::Terminal(_)
            | Error::Output(_)
            | Error::StoreHoldsOtherKey { .. }
            | Error::StoredKeyRefused { .. }
            | Error::MigrationIncomplete { .. }
            | Error::BadSetting { .. }
            | Error::LockTimeout { .. }
            | Error::MfaNoInput { .. }
            | Error::MfaProcess { .. }
            | Error::MfaRejected { .. }
            | Error::MfaMalformed { .. }
            | Error::UnsafeStoreDir { .. }
            | Error::PassphraseEmpty
            | Error::PassphraseMismatch
            | Error::PassphraseCommand { .. }
            | Error::StoreChoiceUnreadable { .. }
            | Error::StoreMoveSame { .. }
            | Error::MfaPrompt { .. }
            | Error::SessionsOff { .. }
            | Error::NoRandom { .. }
            | Error::ServeListen { .. }
            | Error::DoctorFound { .. } => exit::FAILURE,
            Error::ExecNested { .. } | Error::ServeNeedsSession { .. } => exit::USAGE,
            Error::ExecFailed { code, .. } => *code,
        }
    }

    /// The cause alone, for quoting inside another message.
    pub fn cause_line(&self) -> String {
        self.to_string().replace(['\n', '\r'], " ")
    }

    /// The single line printed on stderr: cause, then the hint for `command` (None: not known).
    pub fn one_line(&self, command: Option<CommandKind>) -> String {
        format!("awskeep: {}", self.cause_and_hint(command))
    }

    /// `one_line` without its `awskeep: ` prefix, for a line about one of several profiles.
    pub fn cause_and_hint(&self, command: Option<CommandKind>) -> String {
        let cause = self.cause_line();
        match self.hint(command) {
            Some(hint) => format!("{cause}. Hint: {hint}."),
            None => format!("{cause}."),
        }
    }
}

/// Every hint is true for the command that raised it: each variant (all of them: a new variant
/// without a sample fails `every_variant_has_a_sample`) is rendered for every command, and each
/// `--flag` and `awskeep SUBCOMMAND ...` the line names is checked against clap's definition.
#[cfg(test)]
mod hint_tests {
    use super::*;
    use crate::cli::{Cli, CommandKind, has_long};
    use clap::CommandFactory;
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
                reason: "bad",
            },
            Error::StoreIndexCorrupt {
                store: "keyring",
                reason: crate::store::NEWER_INDEX,
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
        for awskeep_source in [None, Some(s("dev"))] {
            all.push(Error::RoleProfile {
                profile: s("deploy"),
                via: s("source_profile = dev"),
                awskeep_source,
            });
        }
        for store in [
            "macOS Keychain",
            "Windows Credential Manager",
            "Secret Service",
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
                let line = error.one_line(command);
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
                let line = error.one_line(command);
                assert!(!line.contains('\n') && line.ends_with('.'), "{line}");
            }
        }
    }
}
