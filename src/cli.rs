//! The command line, as clap derive types only: no logic here, and no flag ever takes a secret.
//! Besides the derive types: how a profile is given (`add dev` or `add --profile dev`, one clap
//! impl shared by every command) and `CommandKind`, the running command a hint is rendered for.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::profile_name::{ProfileName, parse_arg};
use crate::store::kind::StoreKind;

#[derive(Debug, Parser)]
#[command(
    name = "awskeep",
    version,
    about = "Keep AWS access keys in the OS keychain and serve them to every AWS client as credential_process",
    after_help = "Examples:\n  awskeep migrate                 move every plaintext key into the keychain\n  awskeep add dev                 store a key (asked on the terminal) as profile dev\n  awskeep list                    the profiles awskeep holds, with their keys' ages\n  awskeep rotate --all --yes      replace every key older than 90 days\n\nRun `awskeep COMMAND --help` for a command's options and examples."
)]
pub struct Cli {
    /// Which credential store to use (default: the platform's keychain; on Linux the Secret Service
    /// when one answers on the session bus, else the encrypted file store; see `awskeep store show`)
    #[arg(
        long,
        global = true,
        env = "AWSKEEP_STORE",
        value_enum,
        help_heading = "Global options"
    )]
    pub store: Option<StoreKind>,

    /// Explain each step on stderr (never prints key material)
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a profile's access key in the keychain and point ~/.aws/config at awskeep
    #[command(after_help = ADD_HELP)]
    Add(AddArgs),
    /// Make a role profile: awskeep assumes the role with another awskeep profile's credentials
    #[command(
        after_help = "Examples:\n  awskeep add-role prod --role-arn arn:aws:iam::123456789012:role/admin --source-profile dev\n  awskeep add-role audit --role-arn arn:aws:iam::210987654321:role/audit --source-profile prod --external-id partner-7\nThe source's MFA code (its mfa_serial's) is asked once, for its session; every role it assumes uses that session.\nAWS_PROFILE=prod aws ..., terraform, boto3: every client gets the role's credentials from awskeep."
    )]
    AddRole(AddRoleArgs),
    /// Print a profile's credentials as credential_process JSON (run by the AWS CLI and SDKs)
    #[command(
        after_help = "Examples:\n  awskeep credential-process --profile dev     what ~/.aws/config runs (credential_process = ...)\n  AWS_PROFILE=dev awskeep credential-process   the same profile, from AWS_PROFILE"
    )]
    CredentialProcess(CredentialProcessArgs),
    /// List the profiles awskeep holds
    #[command(
        after_help = "Examples:\n  awskeep list                      each profile, its key ID, owner and age in IAM\n  awskeep list | grep dev           the table is on stdout\n  awskeep list --json | jq '.[]'    for scripts (full key IDs)\n  awskeep list --max-age 30         warn about keys older than 30 days"
    )]
    List(ListArgs),
    /// Remove a profile's key from the keychain and its credential_process line from ~/.aws/config
    #[command(
        after_help = "Examples:\n  awskeep remove dev                       asks first (and whether to delete the key in IAM)\n  awskeep remove dev --yes                 without asking (scripts); the key stays in IAM\n  awskeep remove dev --yes --delete-key    and delete the key in IAM"
    )]
    Remove(RemoveArgs),
    /// Create a new IAM access key straight into the keychain (the secret is never shown)
    #[command(
        after_help = "Examples:\n  awskeep bootstrap dev --dry-run                     show the plan, change nothing\n  awskeep bootstrap dev --source-profile admin        a new key for admin's own IAM user\n  awskeep bootstrap ci --source-profile admin --user ci-bot --create-user --yes"
    )]
    Bootstrap(BootstrapArgs),
    /// Replace a profile's key with a new one (resumable; finishes an interrupted rotation)
    #[command(
        after_help = "Examples:\n  awskeep rotate dev                          asks first\n  awskeep rotate --all --older-than 90d --yes every key at least 90 days old\n  awskeep rotate dev --deactivate-only        keep the old key, Inactive, in IAM\n  awskeep rotate dev --now                    a leaked key: delete the old one at once\nThe old key stays in IAM for an hour after the switch (programs running with it switch to the new key meanwhile), then a background awskeep deletes it."
    )]
    Rotate(RotateArgs),
    /// Move every plaintext key from ~/.aws/credentials (and ~/.aws/config) into the keychain
    #[command(
        after_help = "Examples:\n  awskeep migrate --dry-run    show what would move\n  awskeep migrate              every profile with plaintext keys (asks first)\n  awskeep migrate dev prod     only these profiles\n  awskeep migrate dev --discard-plaintext   the keychain holds dev's current key: delete the stale plaintext one"
    )]
    Migrate(MigrateArgs),
    /// Add the keys of several AWS console CSV downloads
    #[command(
        after_help = "Examples:\n  awskeep import --csv dev_accessKeys.csv --csv prod_accessKeys.csv    asks each file's profile\n  awskeep import --csv a.csv --profile dev --csv b.csv --profile prod --delete-csv\n  awskeep import --csv dev_accessKeys.csv --profile dev --region eu-west-1"
    )]
    Import(ImportArgs),
    /// Manage cached STS sessions
    #[command(
        after_help = "Examples:\n  awskeep session clear dev      the next call of profile dev asks STS (and the MFA device) again\n  awskeep session refresh dev    a new session now, the MFA code asked on this terminal"
    )]
    Session(SessionArgs),
    /// Open the encrypted file store for all your logins: ask its passphrase once, keep the key a while
    ///
    /// Where awskeep uses the Secret Service, its own keyring unlocks it: `unlock` creates no file
    /// store, and succeeds once the Secret Service is open.
    #[command(
        after_help = "Examples:\n  awskeep unlock                 asks the passphrase once (the first time: choose one); 8 hours, every login of yours\n  awskeep unlock --timeout 2h    for two hours\n  awskeep unlock || exit         in a login script: succeeds at once when already unlocked"
    )]
    Unlock(UnlockArgs),
    /// Close the encrypted file store now, for all your logins (forget its kept key), and drop the
    /// Secret Service's credential cache
    #[command(
        after_help = "Examples:\n  awskeep lock                   the next call asks for the passphrase (or fails without a terminal)\n  awskeep lock && awskeep unlock --timeout 1h"
    )]
    Lock,
    /// Show or change the credential store this machine uses
    #[command(
        after_help = "Examples:\n  awskeep store show             which store awskeep uses here, and why\n  awskeep store move --to file   move every item into the encrypted file store"
    )]
    Store(StoreArgs),
    /// Run a command (or, with none, your shell) with the profile's credentials in its
    /// environment (AWS_ACCESS_KEY_ID, ...), or with --server from a credential endpoint
    #[command(
        after_help = "Examples:\n  awskeep exec dev                            your shell ($SHELL) with dev's credentials; `exit` returns\n  awskeep exec dev -- terraform plan\n  awskeep exec --profile dev -- aws sts get-caller-identity\n  awskeep exec --server dev -- terraform apply  refreshed sessions for as long as it runs\nThe command's exit code is awskeep's. AWS_PROFILE is removed from its environment; AWS_VAULT and\nAWSKEEP_EXEC name the profile (for prompts such as starship's)."
    )]
    Exec(ExecArgs),
    /// Print the profile's credentials as shell variables or credential_process JSON
    #[command(
        after_help = "Examples:\n  eval \"$(awskeep export dev)\"\n  awskeep export dev --format fish | source\n  awskeep export dev --format json\n  AWS_PROFILE=dev awskeep export     the profile from AWS_PROFILE"
    )]
    Export(ExportArgs),
    /// Serve the profile's sessions on 127.0.0.1 to containers and long-running programs (the
    /// container credential provider protocol)
    #[command(
        after_help = "Examples:\n  awskeep serve dev             prints AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN\n  awskeep serve dev --port 9911 --format fish"
    )]
    Serve(ServeArgs),
    /// Open the AWS console in the browser, signed in with the profile's credentials
    ///
    /// A role profile signs in with its role session; a profile with a stored key with a
    /// GetFederationToken session of that key (its permissions: what the key's IAM user may do).
    /// The sign-in URL goes to the browser opener's command line only (xdg-open, open, rundll32).
    #[command(
        after_help = "Examples:\n  awskeep login dev                            the console's home, in your browser\n  awskeep login prod --path /s3 --region eu-west-1\n  awskeep login dev --stdout                   print the sign-in URL instead (anyone who opens it is signed in as you)\n  awskeep login dev --duration 4h              the console session ends after 4 hours (default 1h)"
    )]
    Login(LoginArgs),
    /// Check the store, each awskeep profile and the clock, and say what to do about each problem
    #[command(
        after_help = "Examples:\n  awskeep doctor                 every awskeep profile, the store and the clock\n  awskeep doctor dev             one profile\n  awskeep doctor --json          the same findings for scripts (exit 1 on any fail)\n  awskeep doctor --offline       no network call (skips the clock check)"
    )]
    Doctor(DoctorArgs),
    /// Print a shell completion script on stdout
    #[command(
        after_help = "Examples (install the script where the shell finds it):\n  bash:       awskeep completions bash > ~/.local/share/bash-completion/completions/awskeep\n  zsh:        awskeep completions zsh > \"${fpath[1]}/_awskeep\"\n  fish:       awskeep completions fish > ~/.config/fish/completions/awskeep.fish\n  powershell: awskeep completions powershell >> $PROFILE"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout: awskeep(1), or a command's, e.g. awskeep-add(1)
    #[command(
        after_help = "Examples:\n  awskeep man | man -l -\n  awskeep man add | man -l -\n  awskeep man > ~/.local/share/man/man1/awskeep.1\n  for c in add add-role bootstrap credential-process doctor exec export import list lock login migrate remove rotate serve session session-clear session-refresh store store-show store-move unlock completions man; do awskeep man $c > ~/.local/share/man/man1/awskeep-$c.1; done"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
#[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile to check (default: every awskeep profile)")))]
pub struct DoctorArgs {
    #[command(flatten)]
    pub profile: Option<ProfileName>,

    /// Print the findings as JSON on stdout for scripts
    #[arg(long)]
    pub json: bool,

    /// Skip the one network call (comparing the local clock with AWS STS's)
    #[arg(long)]
    pub offline: bool,

    /// Warn about keys older than this in IAM (days, or a duration: 90, 90d, 12w; CIS: 90 days)
    #[arg(long, value_name = "AGE", default_value = "90", value_parser = crate::key_age::parse_age)]
    pub max_age: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// How long the store stays open (default: AWSKEEP_UNLOCK_TIMEOUT, else awskeep_unlock_timeout in
    /// [default] of ~/.aws/config, else 8h); at most 4294967295s, what the kernel keyring takes
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::UnlockTimeout::parse)]
    pub timeout: Option<crate::settings::UnlockTimeout>,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Say which store awskeep uses here and why
    #[command(
        after_help = "Examples:\n  awskeep store show                  on stdout: `file store (as recorded in ...)`\n  awskeep store show | grep -q '^file' && awskeep unlock"
    )]
    Show,
    /// Move every item into another store and use that one from now on (re-run to finish an
    /// interrupted move)
    ///
    /// Other awskeep commands wait for the move (at most a minute), and it waits for those already
    /// running. credential_process lines that name the old store (`--store KIND`) are rewritten to
    /// name the new one. Where both stores hold a different key for a profile, the one written
    /// later is kept.
    #[command(
        after_help = "Examples:\n  awskeep store move --to file              from the Secret Service to the file store\n  awskeep store move --to secret-service    back (re-run it to finish an interrupted move)"
    )]
    Move {
        /// The store to move to
        #[arg(long, value_enum)]
        to: StoreKind,
    },
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command whose own page to print, e.g. `add` or `session clear` (default: awskeep's page)
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

const ADD_HELP: &str = "\
What add reads: with --csv, the CSV the AWS console downloads; else, when stdin is a terminal, the key \
ID and the secret (not echoed) asked on it; else stdin, which may hold either
  the access key ID and the secret access key on two lines, or
  a credential_process JSON object ({\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}),
    as `aws configure export-credentials` (AWS CLI v2) prints it.
Temporary credentials (with a SessionToken) are refused: awskeep keeps long-term IAM user keys.

Examples:
  awskeep add dev                                   asks for the key on the terminal
  awskeep add dev --csv ~/Downloads/dev_accessKeys.csv
  awskeep add dev < key.txt                         two lines: key ID, secret
  aws configure export-credentials --profile old | awskeep add dev
  awskeep migrate --profile old                     (moves a plaintext profile in one step)";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    #[command(subcommand)]
    pub command: SessionCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Drop cached sessions; the next AWS call fetches a fresh one
    #[command(
        after_help = "Examples:\n  awskeep session clear dev    the next call of profile dev asks STS (and the MFA device) again\n  awskeep session clear --all"
    )]
    #[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile (default: AWS_PROFILE, else `default`)")))]
    Clear {
        #[command(flatten)]
        profile: Option<ProfileName>,
        /// Every profile's session
        #[arg(long, conflicts_with = PROFILE_GROUP)]
        all: bool,
    },
    /// Fetch a new session now (asking for the MFA code here), so programs without a terminal
    /// find one cached
    #[command(
        after_help = "Examples:\n  awskeep session refresh dev    asks for the MFA code on this terminal; an IDE then finds the session cached"
    )]
    #[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile (default: AWS_PROFILE, else `default`)")))]
    Refresh {
        #[command(flatten)]
        profile: Option<ProfileName>,
        #[command(flatten)]
        mfa: MfaProcessFlag,
    },
}

#[derive(Debug, Args)]
#[command(mut_group(PROFILE_GROUP, |g| g.required(true)))]
pub struct ExecArgs {
    #[command(flatten)]
    pub profile: ProfileName,

    #[command(flatten)]
    pub mfa: MfaProcessFlag,

    /// Hand the command a credential endpoint on 127.0.0.1 (AWS_CONTAINER_CREDENTIALS_FULL_URI and
    /// a token for it alone) instead of the credentials: it gets a fresh session whenever its SDK
    /// asks, for as long as it runs (sessions only)
    #[arg(long)]
    pub server: bool,

    /// The command and its arguments, after `--` (default: your shell, $SHELL; %COMSPEC% on
    /// Windows)
    #[arg(
        value_name = "COMMAND",
        last = true,
        value_parser = clap::value_parser!(std::ffi::OsString)
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// How `export` writes the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// `export NAME='value'` lines for sh, bash and zsh (`eval "$(awskeep export P)"`)
    Env,
    /// credential_process JSON
    Json,
    /// `set -gx NAME 'value'` lines for fish
    Fish,
    /// `$env:NAME = 'value'` lines for PowerShell
    Powershell,
}

#[derive(Debug, Args)]
#[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile (default: AWS_PROFILE, else `default`)")))]
pub struct ExportArgs {
    #[command(flatten)]
    pub profile: Option<ProfileName>,

    /// The output format
    #[arg(long, value_enum, default_value = "env")]
    pub format: ExportFormat,

    #[command(flatten)]
    pub mfa: MfaProcessFlag,
}

#[derive(Debug, Args)]
#[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile to serve (default: AWS_PROFILE, else `default`)")))]
pub struct ServeArgs {
    #[command(flatten)]
    pub profile: Option<ProfileName>,

    /// The port on 127.0.0.1 (default: a free one)
    #[arg(long, default_value = "0")]
    pub port: u16,

    /// How to print the two variables to set
    #[arg(long, value_enum, default_value = "env")]
    pub format: ServeFormat,

    #[command(flatten)]
    pub mfa: MfaProcessFlag,
}

#[derive(Debug, Args)]
#[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile (default: AWS_PROFILE, else `default`)")))]
pub struct LoginArgs {
    #[command(flatten)]
    pub profile: Option<ProfileName>,

    /// Print the sign-in URL on stdout instead of opening the browser (the URL is a credential:
    /// whoever opens it is signed in as the profile, until the console session ends)
    #[arg(long)]
    pub stdout: bool,

    /// The console page to open, e.g. /s3 or /ec2/home (default: the console's home)
    #[arg(long, visible_alias = "destination", value_name = "PATH", value_parser = crate::settings::parse_console_path)]
    pub path: Option<String>,

    /// The console's region (default: AWS_REGION / AWS_DEFAULT_REGION, else the profile's)
    #[arg(long, value_parser = crate::region_name::parse_region)]
    pub region: Option<String>,

    /// How long the console session lasts, 15m to 12h (default 1h)
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::parse_console_duration)]
    pub duration: Option<std::time::Duration>,

    #[command(flatten)]
    pub mfa: MfaProcessFlag,
}

/// The shells `serve` can print its variables for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeFormat {
    Env,
    Fish,
    Powershell,
}

/// The id of the group holding both ways to give a profile.
const PROFILE_GROUP: &str = "profile_given";
const PROFILE_POSITIONAL: &str = "profile_positional";
const PROFILE_FLAG: &str = "profile";

/// A profile, given either way: `awskeep add dev` or `awskeep add --profile dev`. Configs written
/// by awskeep hold `credential-process --profile NAME`, so the flag stays everywhere; both given and
/// different is a usage error. Flattened as `ProfileName` (required: the command marks the group
/// required) or `Option<ProfileName>`.
impl clap::FromArgMatches for ProfileName {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let positional = matches.get_one::<ProfileName>(PROFILE_POSITIONAL);
        let flag = matches.get_one::<ProfileName>(PROFILE_FLAG);
        match (positional, flag) {
            (Some(a), Some(b)) if a != b => Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "two different profiles given, '{a}' and '--profile {b}'; give one (either form)\n"
                ),
            )),
            (Some(name), _) | (None, Some(name)) => Ok(name.clone()),
            (None, None) => Err(clap::Error::raw(
                clap::error::ErrorKind::MissingRequiredArgument,
                "a profile is required: PROFILE or --profile PROFILE\n",
            )),
        }
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        if matches.contains_id(PROFILE_GROUP) {
            *self = Self::from_arg_matches(matches)?;
        }
        Ok(())
    }
}

impl clap::Args for ProfileName {
    fn group_id() -> Option<clap::Id> {
        Some(clap::Id::from(PROFILE_GROUP))
    }

    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.arg(
            clap::Arg::new(PROFILE_POSITIONAL)
                .value_name("PROFILE")
                .value_parser(parse_arg)
                .help("The profile, as in `aws --profile PROFILE`"),
        )
        .arg(
            clap::Arg::new(PROFILE_FLAG)
                .long("profile")
                .value_name("PROFILE")
                .value_parser(parse_arg)
                .help("The same, as a flag (what credential_process lines in ~/.aws/config use)"),
        )
        .group(
            ArgGroup::new(PROFILE_GROUP)
                .args([PROFILE_POSITIONAL, PROFILE_FLAG])
                .multiple(true),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// The command that is running, as a hint must know it: a hint names only flags and commands that
/// exist for it (checked for every error and every command by the tests in `error.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum CommandKind {
    Add,
    AddRole,
    CredentialProcess,
    List,
    Remove,
    Bootstrap,
    Rotate,
    Migrate,
    Import,
    SessionClear,
    SessionRefresh,
    Exec,
    Export,
    Serve,
    Login,
    Doctor,
    Completions,
    Man,
    Unlock,
    Lock,
    StoreShow,
    StoreMove,
}

impl CommandKind {
    /// The subcommand names after `awskeep`.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            CommandKind::Add => &["add"],
            CommandKind::AddRole => &["add-role"],
            CommandKind::CredentialProcess => &["credential-process"],
            CommandKind::List => &["list"],
            CommandKind::Remove => &["remove"],
            CommandKind::Bootstrap => &["bootstrap"],
            CommandKind::Rotate => &["rotate"],
            CommandKind::Migrate => &["migrate"],
            CommandKind::Import => &["import"],
            CommandKind::SessionClear => &["session", "clear"],
            CommandKind::SessionRefresh => &["session", "refresh"],
            CommandKind::Exec => &["exec"],
            CommandKind::Export => &["export"],
            CommandKind::Serve => &["serve"],
            CommandKind::Login => &["login"],
            CommandKind::Doctor => &["doctor"],
            CommandKind::Completions => &["completions"],
            CommandKind::Man => &["man"],
            CommandKind::Unlock => &["unlock"],
            CommandKind::Lock => &["lock"],
            CommandKind::StoreShow => &["store", "show"],
            CommandKind::StoreMove => &["store", "move"],
        }
    }

    /// Whether `--NAME` is one of this command's options (its own, or a global one), by clap's own
    /// definition of the command line.
    pub fn takes_flag(self, flag: &str) -> bool {
        use clap::CommandFactory;
        let root = Cli::command();
        let mut cmd = &root;
        for name in self.path() {
            match cmd.find_subcommand(name) {
                Some(sub) => cmd = sub,
                None => return false,
            }
        }
        has_long(cmd, flag) || has_long(&root, flag)
    }
}

/// The command a command line names (`awskeep session clear` for `awskeep -v session clear dev`),
/// by clap's own definition: each word that names a subcommand of the one so far, up to the first
/// that does not. For a usage error clap renders without a `Usage:` line (one raised while the
/// parsed arguments are read), so its hint still names the command's own `--help`.
pub fn command_path(args: impl IntoIterator<Item = std::ffi::OsString>) -> String {
    use clap::CommandFactory;
    let root = Cli::command();
    let mut cmd = &root;
    let mut path = vec!["awskeep".to_string()];
    for arg in args.into_iter().skip(1) {
        let Some(word) = arg.to_str() else { break };
        if word == "--" {
            break;
        }
        if word.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(word) {
            Some(sub) => {
                path.push(sub.get_name().to_string());
                cmd = sub;
            }
            None if cmd.has_subcommands() => continue,
            None => break,
        }
    }
    path.join(" ")
}

/// Whether `command` (not its subcommands) defines `--NAME`; `flag` is given with its dashes.
pub fn has_long(command: &clap::Command, flag: &str) -> bool {
    let Some(name) = flag.strip_prefix("--") else {
        return false;
    };
    name == "help"
        || command.get_arguments().any(|a| {
            a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
        })
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Add(_) => CommandKind::Add,
            Command::AddRole(_) => CommandKind::AddRole,
            Command::CredentialProcess(_) => CommandKind::CredentialProcess,
            Command::List(_) => CommandKind::List,
            Command::Remove(_) => CommandKind::Remove,
            Command::Bootstrap(_) => CommandKind::Bootstrap,
            Command::Rotate(_) => CommandKind::Rotate,
            Command::Migrate(_) => CommandKind::Migrate,
            Command::Import(_) => CommandKind::Import,
            Command::Session(SessionArgs {
                command: SessionCommand::Clear { .. },
            }) => CommandKind::SessionClear,
            Command::Session(SessionArgs {
                command: SessionCommand::Refresh { .. },
            }) => CommandKind::SessionRefresh,
            Command::Exec(_) => CommandKind::Exec,
            Command::Export(_) => CommandKind::Export,
            Command::Serve(_) => CommandKind::Serve,
            Command::Login(_) => CommandKind::Login,
            Command::Doctor(_) => CommandKind::Doctor,
            Command::Completions(_) => CommandKind::Completions,
            Command::Man(_) => CommandKind::Man,
            Command::Unlock(_) => CommandKind::Unlock,
            Command::Lock => CommandKind::Lock,
            Command::Store(StoreArgs {
                command: StoreCommand::Show,
            }) => CommandKind::StoreShow,
            Command::Store(StoreArgs {
                command: StoreCommand::Move { .. },
            }) => CommandKind::StoreMove,
        }
    }
}

/// `--mfa-process`, for every command that may need an MFA code (declared once).
#[derive(Debug, Clone, Default, Args)]
pub struct MfaProcessFlag {
    /// A command that prints the MFA code (overrides the profile's awskeep_mfa_process)
    #[arg(long, value_name = "COMMAND")]
    pub mfa_process: Option<String>,
}

/// `--session on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SessionMode {
    On,
    Off,
}

/// Session settings `add` and `bootstrap` write into the profile.
#[derive(Debug, Clone, Default, Args)]
pub struct SessionFlags {
    /// Serve short-lived STS sessions (on) or the key itself (off); default: on when the profile has
    /// mfa_serial
    #[arg(long, value_name = "on|off", value_enum)]
    pub session: Option<SessionMode>,

    /// How long each session lasts (1h to 36h; default 12h)
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::parse_duration)]
    pub session_duration: Option<std::time::Duration>,

    /// The MFA device's ARN (mfa_serial): sessions then carry an MFA code
    #[arg(long, value_name = "ARN", value_parser = crate::settings::parse_mfa_serial)]
    pub mfa_serial: Option<crate::profile::SettingValue>,
}

#[derive(Debug, Args)]
#[command(mut_group(PROFILE_GROUP, |g| g.required(true)))]
pub struct BootstrapArgs {
    #[command(flatten)]
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
    /// profile's, AWS_REGION / AWS_DEFAULT_REGION, [default]'s)
    #[arg(long, value_parser = crate::region_name::parse_region)]
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
#[command(group(
    ArgGroup::new("target")
        .args([PROFILE_POSITIONAL, PROFILE_FLAG, "all"])
        .multiple(true)
        .required(true)
))]
pub struct RotateArgs {
    #[command(flatten)]
    pub profile: Option<ProfileName>,

    /// Every profile in the store whose key is older than --older-than (and any unfinished rotation)
    #[arg(long, conflicts_with = PROFILE_GROUP)]
    pub all: bool,

    /// With --all: rotate keys at least this old in IAM (days, or a duration: 90, 90d, 12w)
    #[arg(long, value_name = "AGE", default_value = "90", value_parser = crate::key_age::parse_age)]
    pub older_than: std::time::Duration,

    /// Mark the old key Inactive in IAM instead of deleting it
    #[arg(long)]
    pub deactivate_only: bool,

    /// Delete (or deactivate) the old key at once, for a leaked key; running programs still using
    /// it fail (default: an hour after the switch, once every program that was served the old
    /// key has switched to the new one)
    #[arg(long)]
    pub now: bool,

    /// Internal: the detached finisher of a deferred retirement, started by rotate itself; it
    /// waits until this Unix time, then finishes the profile's retirement
    #[arg(long, hide = true, value_name = "UNIX_SECONDS", requires = PROFILE_GROUP, conflicts_with_all = ["all", "now"])]
    pub finish_retirement_after: Option<u64>,

    /// The region for the STS and IAM calls (default: AWS_REGION, the profile's, us-east-1)
    #[arg(long, value_parser = crate::region_name::parse_region)]
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
    /// Only these profiles (default: every profile with plaintext keys)
    #[arg(value_name = "PROFILE", value_parser = parse_arg)]
    pub names: Vec<ProfileName>,

    /// Only this profile (repeatable; the same as naming it as above)
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
    /// (default: AWS_REGION / AWS_DEFAULT_REGION, [default]'s)
    #[arg(long, value_parser = crate::region_name::parse_region)]
    pub region: Option<String>,

    /// Where the store already holds another key for a profile: keep the stored key (once STS
    /// accepts it) and delete the plaintext key lines
    #[arg(long, conflicts_with = "replace_stored")]
    pub discard_plaintext: bool,

    /// Where the store already holds another key for a profile: store the plaintext key in its
    /// place (then delete the plaintext lines, as for any profile)
    #[arg(long)]
    pub replace_stored: bool,

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

    /// The region written into each imported profile that has none, and used for the STS check
    /// (default: AWS_REGION / AWS_DEFAULT_REGION, [default]'s)
    #[arg(long, value_parser = crate::region_name::parse_region)]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
#[command(mut_group(PROFILE_GROUP, |g| g.required(true)))]
pub struct AddArgs {
    #[command(flatten)]
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
    /// AWS_REGION / AWS_DEFAULT_REGION, [default]'s)
    #[arg(long, value_parser = crate::region_name::parse_region)]
    pub region: Option<String>,

    #[command(flatten)]
    pub session: SessionFlags,
}

#[derive(Debug, Args)]
#[command(mut_group(PROFILE_GROUP, |g| g.required(true)))]
#[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The role profile to write")))]
#[command(mut_arg(PROFILE_FLAG, |a| a.help("The same, as a flag")))]
#[command(mut_arg("mfa_process", |a| a.help("A command that prints the source's MFA code, for the check this run makes (not saved: set awskeep_mfa_process in the source's section for the calls that follow)")))]
pub struct AddRoleArgs {
    #[command(flatten)]
    pub profile: ProfileName,

    /// The role to assume (arn:aws:iam::ACCOUNT:role/NAME)
    #[arg(long, value_name = "ARN", value_parser = crate::settings::parse_role_arn)]
    pub role_arn: String,

    /// The awskeep profile whose credentials assume the role (one with a stored key, or another
    /// role profile: a chain)
    #[arg(long, value_name = "PROFILE", value_parser = crate::profile_name::parse_arg)]
    pub source_profile: ProfileName,

    /// The external ID the role's trust policy asks for
    #[arg(long, value_name = "ID", value_parser = crate::settings::parse_external_id)]
    pub external_id: Option<String>,

    /// The role session's name (default: awskeep- and the source's IAM user name)
    #[arg(long, value_name = "NAME", value_parser = crate::settings::parse_role_session_name)]
    pub role_session_name: Option<String>,

    /// How long each role session lasts (1h to 12h; default 1h; a role assumed by a role gets at
    /// most 1h)
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::parse_role_duration)]
    pub duration: Option<std::time::Duration>,

    /// The source identity to set on the role session
    #[arg(long, value_name = "ID", value_parser = crate::settings::parse_role_session_name)]
    pub source_identity: Option<String>,

    /// The profile's region (written into its section; also where STS is asked)
    #[arg(long, value_parser = crate::region_name::parse_region)]
    pub region: Option<String>,

    /// Write the profile without assuming the role once first
    #[arg(long)]
    pub no_verify: bool,

    /// Replace an existing role profile without asking
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub mfa: MfaProcessFlag,
}

#[derive(Debug, Args)]
#[command(mut_arg(PROFILE_POSITIONAL, |a| a.help("The profile to serve (default: AWS_PROFILE, else `default`)")))]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub profile: Option<ProfileName>,

    #[command(flatten)]
    pub mfa: MfaProcessFlag,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON on stdout for scripts
    #[arg(long)]
    pub json: bool,

    /// Warn about keys older than this in IAM (days, or a duration: 90, 90d, 12w; CIS: 90 days)
    #[arg(long, value_name = "AGE", default_value = "90", value_parser = crate::key_age::parse_age)]
    pub max_age: std::time::Duration,
}

#[derive(Debug, Args)]
#[command(mut_group(PROFILE_GROUP, |g| g.required(true)))]
pub struct RemoveArgs {
    #[command(flatten)]
    pub profile: ProfileName,

    /// Remove without asking
    #[arg(short, long)]
    pub yes: bool,

    /// Also delete the key in IAM, acting as the key itself (default: ask on a terminal, else keep)
    #[arg(long, conflicts_with_all = ["deactivate_key", "keep_key"])]
    pub delete_key: bool,

    /// Also mark the key Inactive in IAM instead of deleting it
    #[arg(long, conflicts_with = "keep_key")]
    pub deactivate_key: bool,

    /// Leave the key in IAM without asking (awskeep prints the command that deletes it)
    #[arg(long)]
    pub keep_key: bool,
}
