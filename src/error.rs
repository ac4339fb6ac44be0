//! Every failure awskeep can report: a one-line cause and an exit code (what to do next, the hint,
//! is `crate::hint`'s). No variant carries a secret, so neither `Display` nor `Debug` can print one.

use std::path::PathBuf;

use crate::store::kind::{Flavor, IndexUnreadable};

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
    StoreUnavailable { store: Flavor, reason: String },

    #[error("the {store} is locked")]
    StoreLocked { store: Flavor },

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
        reason: IndexUnreadable,
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

    #[error("{path}:{line}: this line is not UTF-8 text")]
    ConfigNotUtf8 { path: PathBuf, line: usize },

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
    KeyQuotaFull {
        user: String,
        keys: String,
        /// An inactive key no awskeep profile holds is among them: `--replace-inactive` would
        /// delete it.
        spare_inactive: bool,
    },

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

    #[error("the environment variable {name} is invalid: {reason}")]
    BadVariable { name: &'static str, reason: String },

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
        "the awskeep file store ({dir}) is unlocked{left}, but a new timeout takes its passphrase again, and there is no terminal to ask for it"
    )]
    UnlockAgainNeedsPassphrase { dir: PathBuf, left: String },

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
        "profile \"{profile}\" has sessions off, and the credential endpoint (`serve`, `exec --server`) hands out only short-lived sessions, never the long-term key"
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
    /// awskeep serves credentials: it holds no key for it (its own role profiles use
    /// `awskeep_role_arn`, which `migrate` writes).
    #[error(
        "profile \"{profile}\" is a standard role profile (role_arn, {via}), which the AWS CLI and SDKs assume themselves; awskeep holds no key for it"
    )]
    RoleProfile {
        profile: String,
        /// How it gets its source credentials: `source_profile = dev`, `credential_source = ...`.
        via: String,
        /// The source profile, when it is one awskeep holds a key for.
        awskeep_source: Option<String>,
    },

    /// STS refused an AssumeRole of a role profile.
    #[error(
        "AWS refused to let profile \"{source_profile}\" assume {role_arn} ({code}: {message})"
    )]
    RoleRefused {
        role_arn: String,
        source_profile: String,
        code: String,
        message: String,
    },

    /// A role profile's chain of `awskeep_source_profile`s comes back to itself.
    #[error("role profiles name each other as their source in a loop: {chain}")]
    RoleLoop { chain: String },

    /// `add` (bootstrap, import) naming an awskeep role profile: it would store a key nothing serves.
    #[error(
        "profile \"{profile}\" is an awskeep role profile (it assumes {role_arn}): it holds no key"
    )]
    IsRoleProfile { profile: String, role_arn: String },

    /// `add-role` naming a profile that holds a key.
    #[error("profile \"{profile}\" holds a key in the {store}; a role profile holds none")]
    HoldsKey {
        profile: String,
        store: &'static str,
    },

    /// A chain of role profiles longer than awskeep follows.
    #[error("the chain of role profiles {chain} is longer than {max} roles")]
    RoleChainTooLong { chain: String, max: usize },

    /// A role profile's source is neither a role profile nor a profile awskeep holds a key for.
    #[error(
        "role profile \"{profile}\" names \"{source_profile}\" as its source, which is no awskeep role profile and has no key in the {store}"
    )]
    RoleSourceMissing {
        profile: String,
        source_profile: String,
        store: &'static str,
    },

    /// The source has an MFA device and its sessions are turned off: the code could only be sent
    /// with each AssumeRole, once per role and process.
    #[error(
        "role profile \"{profile}\" needs an MFA session of \"{source_profile}\", which has mfa_serial but awskeep_session = false"
    )]
    RoleNeedsSession {
        profile: String,
        source_profile: String,
    },

    /// `login`: STS refused GetFederationToken for a profile's long-term key.
    #[error(
        "AWS refused sts:GetFederationToken, which `login` needs for profile \"{profile}\" ({code}{message})"
    )]
    FederationRefused {
        profile: String,
        code: String,
        message: String,
        /// The profile has `mfa_serial`: a GetFederationToken session carries no MFA.
        has_mfa: bool,
    },

    /// `login`: AWS's federation endpoint gave no sign-in token.
    #[error("the AWS federation endpoint {endpoint} gave no sign-in token: {reason}")]
    SigninToken { endpoint: String, reason: String },

    /// `login`: the browser could not be opened (no opener, or it failed).
    #[error("cannot open the browser with {program}: {reason}")]
    NoBrowser {
        program: &'static str,
        reason: String,
    },

    #[error("doctor found {failed} problem(s)")]
    DoctorFound { failed: usize },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoStoredKey { .. }
            | Error::NoSuchProfile { .. }
            | Error::NoSuchUser { .. }
            | Error::RoleProfile { .. }
            | Error::RoleSourceMissing { .. } => exit::NOT_FOUND,
            Error::StoreUnavailable { .. }
            | Error::StoreChoiceUnknown { .. }
            | Error::StoreLocked { .. }
            | Error::FileStoreLocked { .. }
            | Error::UnlockAgainNeedsPassphrase { .. }
            | Error::FileStoreNeedsPassphrase { .. }
            | Error::WrongPassphrase { .. }
            | Error::FileStoreDamaged { .. }
            | Error::FileStoreForeign { .. }
            | Error::UnlockNotKept { .. }
            | Error::StoreIndexCorrupt { .. } => exit::STORE_UNAVAILABLE,
            Error::KeyRejected { .. }
            | Error::AccessDenied { .. }
            | Error::RoleRefused { .. }
            | Error::FederationRefused { .. }
            | Error::SigninToken { .. }
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
            | Error::ConfigNotUtf8 { .. }
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
            | Error::BadVariable { .. }
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
            | Error::RoleLoop { .. }
            | Error::IsRoleProfile { .. }
            | Error::HoldsKey { .. }
            | Error::RoleChainTooLong { .. }
            | Error::RoleNeedsSession { .. }
            | Error::NoRandom { .. }
            | Error::ServeListen { .. }
            | Error::NoBrowser { .. }
            | Error::DoctorFound { .. } => exit::FAILURE,
            Error::ExecNested { .. } | Error::ServeNeedsSession { .. } => exit::USAGE,
            Error::ExecFailed { code, .. } => *code,
        }
    }

    /// The cause alone, for quoting inside another message.
    pub fn cause_line(&self) -> String {
        self.to_string().replace(['\n', '\r'], " ")
    }
}
