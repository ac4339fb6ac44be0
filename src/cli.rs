//! The command line, as clap derive types only: no logic here, and no flag ever takes a secret.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::profile_name::{ProfileName, parse_arg};
use crate::store::StoreKind;

#[derive(Debug, Parser)]
#[command(
    name = "awskeep",
    version,
    about = "Keep AWS access keys in the OS keychain and serve them to every AWS client as credential_process"
)]
pub struct Cli {
    /// Which credential store to use (default: the platform's keychain)
    #[arg(long, global = true, env = "AWSKEEP_STORE", value_enum)]
    pub store: Option<StoreKind>,

    /// Explain each step on stderr (never prints key material)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a profile's access key in the keychain and point ~/.aws/config at awskeep
    Add(AddArgs),
    /// Print a profile's credentials as credential_process JSON (run by the AWS CLI and SDKs)
    CredentialProcess(CredentialProcessArgs),
    /// List the profiles awskeep holds
    List(ListArgs),
    /// Remove a profile's key from the keychain and its credential_process line from ~/.aws/config
    Remove(RemoveArgs),
    /// Create a new IAM access key straight into the keychain (the secret is never shown)
    Bootstrap(BootstrapArgs),
    /// Replace a profile's key with a new one (resumable; finishes an interrupted rotation)
    Rotate(RotateArgs),
    /// Move every plaintext key from ~/.aws/credentials (and ~/.aws/config) into the keychain
    Migrate(MigrateArgs),
    /// Add the keys of several AWS console CSV downloads
    Import(ImportArgs),
    /// Manage cached STS sessions
    Session(SessionArgs),
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    #[command(subcommand)]
    pub command: SessionCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Drop cached sessions; the next AWS call fetches a fresh one
    Clear {
        /// The profile (default: AWS_PROFILE, else `default`)
        #[arg(long, value_parser = parse_arg, conflicts_with = "all")]
        profile: Option<ProfileName>,
        /// Every profile's session
        #[arg(long)]
        all: bool,
    },
}

/// Session settings `add` and `bootstrap` write into the profile.
#[derive(Debug, Clone, Default, Args)]
pub struct SessionFlags {
    /// Serve short-lived STS sessions (on) or the key itself (off); default: on when the profile has
    /// mfa_serial
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub session: Option<String>,

    /// How long each session lasts (15m to 36h; default 12h)
    #[arg(long, value_name = "DURATION", value_parser = crate::session::parse_duration)]
    pub session_duration: Option<std::time::Duration>,

    /// The MFA device's ARN (mfa_serial): sessions then carry an MFA code
    #[arg(long, value_name = "ARN", value_parser = crate::session::parse_mfa_serial)]
    pub mfa_serial: Option<crate::profile::SettingValue>,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The profile to create, as in `aws --profile NAME`
    #[arg(long, value_parser = parse_arg)]
    pub profile: ProfileName,

    /// The IAM user that gets the key (default: the caller, when it is an IAM user)
    #[arg(long)]
    pub user: Option<String>,

    /// The identity that makes the IAM calls: any profile the AWS SDK can resolve (default: the
    /// default credential chain)
    #[arg(long, value_name = "PROFILE")]
    pub source_profile: Option<String>,

    /// Create the IAM user first
    #[arg(long, requires = "user")]
    pub create_user: bool,

    /// Add the new user to this group (with --create-user)
    #[arg(long, requires = "create_user", conflicts_with = "attach_policy")]
    pub group: Option<String>,

    /// Attach this managed policy to the new user (with --create-user)
    #[arg(long, value_name = "ARN", requires = "create_user")]
    pub attach_policy: Option<String>,

    /// With two keys already, delete the oldest inactive one first (never an active one)
    #[arg(long)]
    pub replace_inactive: bool,

    /// The region for the STS and IAM calls, written into the new profile (default: the source
    /// profile's, AWS_REGION, [default]'s)
    #[arg(long, value_parser = crate::commands::region::parse_region)]
    pub region: Option<String>,

    /// How long to wait for IAM to accept the new key
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub verify_timeout: std::time::Duration,

    /// Print the calls it would make and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Go ahead without asking
    #[arg(short, long)]
    pub yes: bool,

    /// Replace an existing profile without asking
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub session: SessionFlags,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The profile whose key to rotate
    #[arg(long, value_parser = parse_arg, required_unless_present = "all", conflicts_with = "all")]
    pub profile: Option<ProfileName>,

    /// Every profile in the store whose key is older than --older-than (and any unfinished rotation)
    #[arg(long)]
    pub all: bool,

    /// With --all: rotate keys at least this old
    #[arg(long, value_name = "AGE", default_value = "90d", value_parser = humantime::parse_duration)]
    pub older_than: std::time::Duration,

    /// Mark the old key Inactive in IAM instead of deleting it
    #[arg(long)]
    pub deactivate_only: bool,

    /// The region for the STS and IAM calls (default: AWS_REGION, the profile's, us-east-1)
    #[arg(long)]
    pub region: Option<String>,

    /// How long to wait for IAM to accept the new key
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub verify_timeout: std::time::Duration,

    /// Go ahead without asking
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only these profiles (repeatable; default: every profile with plaintext keys)
    #[arg(long = "profile", value_name = "PROFILE", value_parser = parse_arg)]
    pub profiles: Vec<ProfileName>,

    /// Show what would be moved, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Store keys without checking them with STS GetCallerIdentity
    #[arg(long)]
    pub no_verify: bool,

    /// Leave the credentials file untouched (a trial run; the plaintext stays)
    #[arg(long)]
    pub keep_plaintext: bool,

    /// The region written into each migrated profile that has none, and used for the STS check
    /// (default: AWS_REGION, [default]'s)
    #[arg(long, value_parser = crate::commands::region::parse_region)]
    pub region: Option<String>,

    /// Go ahead without asking
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A CSV the AWS console downloaded (repeatable)
    #[arg(long, value_name = "FILE", required = true)]
    pub csv: Vec<PathBuf>,

    /// The profile for each --csv, in the same order (asked on the terminal when absent)
    #[arg(long = "profile", value_name = "PROFILE", value_parser = parse_arg)]
    pub profiles: Vec<ProfileName>,

    /// Store keys without checking them with STS GetCallerIdentity
    #[arg(long)]
    pub no_verify: bool,

    /// Replace existing profiles without asking
    #[arg(long)]
    pub force: bool,

    /// Delete the CSV files once their keys are stored, without asking
    #[arg(long)]
    pub delete_csv: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The profile name, as in `aws --profile NAME`
    #[arg(value_parser = parse_arg)]
    pub profile: ProfileName,

    /// Read the key from the CSV the AWS console downloads (instead of the terminal or stdin)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Store the key without checking it with STS GetCallerIdentity (for offline use)
    #[arg(long)]
    pub no_verify: bool,

    /// Replace an existing profile without asking
    #[arg(long)]
    pub force: bool,

    /// The profile's region, written when it has none, and used for the STS check (default:
    /// AWS_REGION, [default]'s)
    #[arg(long, value_parser = crate::commands::region::parse_region)]
    pub region: Option<String>,

    #[command(flatten)]
    pub session: SessionFlags,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// The profile to serve (default: AWS_PROFILE, else `default`)
    #[arg(long, value_parser = parse_arg)]
    pub profile: Option<ProfileName>,

    /// A command that prints the MFA code (overrides the profile's awskeep_mfa_process)
    #[arg(long, value_name = "COMMAND")]
    pub mfa_process: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON on stdout for scripts
    #[arg(long)]
    pub json: bool,

    /// Warn about keys older than this (CIS: rotate every 90 days)
    #[arg(long, value_name = "AGE", default_value = "90d", value_parser = humantime::parse_duration)]
    pub max_age: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The profile to remove
    #[arg(value_parser = parse_arg)]
    pub profile: ProfileName,

    /// Remove without asking
    #[arg(short, long)]
    pub yes: bool,
}
