//! Every failure awskeep can report: a one-line cause, an optional one-line hint of what to do next,
//! and an exit code. No variant carries a secret, so neither `Display` nor `Debug` can print one.

use std::path::PathBuf;

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
        "awskeep's own path {path} cannot be written into credential_process safely ({reason})"
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
        "the {store_name} already holds a different key ({stored}) for profile \"{profile}\"",
        store_name = "keychain"
    )]
    StoreHoldsOtherKey { profile: String, stored: String },

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
}

impl Error {
    /// What the user can do next, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::NoStoredKey { profile, .. } => {
                format!("run `awskeep add {profile}` to store a key for it")
            }
            Error::NoSuchProfile { .. } => "run `awskeep list` to see the profiles awskeep holds".into(),
            Error::StoreUnavailable { store, .. } => match *store {
                "macOS Keychain" => "run awskeep in your own login session (the login keychain is not reachable from another user's or a daemon's context)".into(),
                "Windows Credential Manager" => "run awskeep as the signed-in Windows user (the Credential Manager is per user and needs a loaded profile)".into(),
                _ => "awskeep needs a Secret Service (GNOME Keyring, KeePassXC) on the D-Bus session bus; run it in a desktop session, or start one with `gnome-keyring-daemon --unlock --components=secrets`".into(),
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
            Error::KeyShared { others, .. } => format!(
                "give each profile its own key (`awskeep bootstrap --profile NAME --yes`), or `awskeep remove` the duplicates ({others}), then rotate"
            ),
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
            Error::UnknownStore { .. } => "pick one of the listed stores with --store or AWSKEEP_STORE".into(),
            Error::InvalidProfileName { .. } => {
                "use letters, digits and . _ - + @ only, not starting with - (e.g. dev, prod-admin)".into()
            }
            Error::ConfigMalformed { path, .. } => {
                format!("make that line of {} a `key = value`, a comment or a [section] (the AWS CLI reads those too), then run awskeep again", path.display())
            }
            Error::ConfigEditRejected { .. } => "please report this as an awskeep bug".into(),
            Error::ConfigChanged { .. } => "check the file, then run the command again".into(),
            Error::ConfigKeepsChanging { .. } => {
                "stop the program that keeps rewriting it, then run the command again".into()
            }
            Error::EditLockBusy { path } => format!(
                "another awskeep is editing that file; if none is running, delete {} and try again",
                path.display()
            ),
            Error::ConflictingKeys { section, path, profile, .. } => format!(
                "move those keys into awskeep: rename [{section}] in {} to e.g. [{profile}-plaintext], run `aws configure export-credentials --profile {profile}-plaintext | awskeep add {profile}`, then delete that section",
                path.display()
            ),
            Error::ConflictingSource { profile, .. } => format!(
                "choose another profile name, or remove that line from [profile {profile}] first"
            ),
            Error::NeedsAnswer { flag, .. } => format!("run it in a terminal, or pass {flag} to answer yes"),
            Error::BadKeyInput { .. } => {
                "give the access key ID and the secret on two lines, or a credential_process JSON object, on stdin; or use --csv FILE".into()
            }
            Error::BadCsv { .. } => {
                "pass the CSV the AWS console downloaded when the key was created (header `Access key ID,Secret access key`)".into()
            }
            Error::TemporaryKey => {
                "add the IAM user's long-term access key (AKIA...), not credentials from STS".into()
            }
            Error::KeyRejected { .. } => {
                "check the key ID and secret (a deleted or mistyped key is rejected); `--no-verify` stores it without asking AWS".into()
            }
            Error::Network { .. } => {
                "check the network (or AWS_ENDPOINT_URL) and try again; `awskeep add --no-verify` stores a key without asking AWS".into()
            }
            Error::UnquotablePath { .. } if cfg!(windows) => {
                "install awskeep under a path without %, \", # or ; (e.g. `cargo install` into %USERPROFILE%\\.cargo\\bin)".into()
            }
            Error::UnquotablePath { .. } => {
                "install awskeep under a path without quotes, $, backslashes, # or ; (e.g. `cargo install --path .` into ~/.cargo/bin)".into()
            }
            Error::StoreHoldsOtherKey { profile, .. } => format!(
                "check which key is current; `awskeep remove {profile}` first to migrate the plaintext one"
            ),
            Error::MigrationIncomplete { credentials, .. } => format!(
                "their keys are still in {} as they were; fix the cause above and run `awskeep migrate` again",
                credentials.display()
            ),
            Error::SourceCredentials { .. } => {
                "check --source-profile (e.g. run `aws sso login` for an SSO profile), or the AWS_* credential variables".into()
            }
            Error::AccessDenied { permission, .. } => format!(
                "ask an administrator to allow {permission}, or pass --source-profile with an identity that has it"
            ),
            Error::NoSuchUser { .. } => "check the name, or add --create-user to create the user".into(),
            Error::UserExists { .. } => "drop --create-user to give the existing user a key".into(),
            Error::KeyQuotaFull { user, .. } => format!(
                "delete a key you no longer use (`aws iam delete-access-key --user-name {user} --access-key-id ID`), or pass --replace-inactive to delete the oldest inactive one"
            ),
            Error::RootCaller => {
                "create an IAM user and pass --user NAME (add --create-user to create it now)".into()
            }
            Error::NeedsUser { .. } => "pass --user NAME for the IAM user that gets the key".into(),
            Error::KeyNotYetAccepted { profile, region_flag, .. } => format!(
                "new keys can take a while to work everywhere; try `aws sts get-caller-identity --profile {profile}{region_flag}` in a minute, or raise --verify-timeout"
            ),
            Error::BadSetting { key, .. } => format!("fix {key} in the profile's section of ~/.aws/config"),
            Error::LockTimeout { .. } => "another awskeep may be waiting for an MFA code; answer it, or run `awskeep session clear` and retry".into(),
            Error::MfaNoInput { .. } => "set `awskeep_mfa_process = ykman oath accounts code -s NAME` (a command that prints the code) in the profile, or run the command in a terminal".into(),
            Error::MfaProcess { .. } => "check awskeep_mfa_process / --mfa-process: it must print the 6-digit code on stdout".into(),
            Error::MfaRejected { .. } => "use the current code of the device named by mfa_serial, then try again".into(),
            Error::NoHome => "set HOME, or point AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at your files".into(),
            _ => return None,
        })
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoStoredKey { .. } | Error::NoSuchProfile { .. } => exit::NOT_FOUND,
            Error::StoreUnavailable { .. }
            | Error::StoreLocked { .. }
            | Error::StoreIndexCorrupt { .. } => exit::STORE_UNAVAILABLE,
            Error::KeyRejected { .. }
            | Error::AccessDenied { .. }
            | Error::SourceCredentials { .. } => exit::AWS_REJECTED,
            Error::Interrupted { .. } => exit::INTERRUPTED,
            Error::Network { .. } => exit::NETWORK,
            Error::InvalidProfileName { .. }
            | Error::UnknownStore { .. }
            | Error::NeedsAnswer { .. }
            | Error::BadKeyInput { .. }
            | Error::BadCsv { .. }
            | Error::RootCaller
            | Error::NeedsUser { .. } => exit::USAGE,
            Error::NoSuchUser { .. } => exit::NOT_FOUND,
            _ => exit::FAILURE,
        }
    }

    /// The cause alone, for quoting inside another message.
    pub fn cause_line(&self) -> String {
        self.to_string().replace(['\n', '\r'], " ")
    }

    /// The single line printed on stderr: cause, then hint.
    pub fn one_line(&self) -> String {
        let cause = self.to_string().replace(['\n', '\r'], " ");
        match self.hint() {
            Some(hint) => format!("awskeep: {cause}. Hint: {hint}."),
            None => format!("awskeep: {cause}."),
        }
    }
}
