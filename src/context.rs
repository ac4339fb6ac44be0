//! The one place awskeep reads its environment: where the AWS files are, the default profile, the
//! region and endpoint override, and whether stdin is a terminal. Commands receive a `Context` and never
//! call `std::env` themselves, so tests can run them with any environment.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Context {
    pub config_file: PathBuf,
    pub credentials_file: PathBuf,
    /// `AWS_PROFILE`, the profile used when `--profile` is not given.
    pub env_profile: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub env_region: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`.
    pub sts_endpoint: Option<String>,
    pub stdin_is_terminal: bool,
    /// Where session refresh locks live: `$XDG_RUNTIME_DIR/awskeep`, else the cache dir's.
    pub lock_dir: Option<PathBuf>,
    pub verbose: bool,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set: a desktop prompt (zenity, kdialog) can be shown.
    pub display: bool,
    /// `PATH`, to tell whether a prompt program is installed.
    pub search_path: Option<std::ffi::OsString>,
    /// argv[0], as the user invoked awskeep (`own_program` keeps a package manager's link).
    pub argv0: Option<PathBuf>,
    /// `AWSKEEP_EXEC`: the profile of the `awskeep exec` this process runs inside.
    pub exec_profile: Option<String>,
    /// The user's shell, which `exec` starts when given no command: `SHELL`, on Windows `COMSPEC`.
    pub shell: Option<std::ffi::OsString>,
    /// `AWSKEEP_TEST_CRASH_AT`, read in debug builds only: where a test wants the process to die.
    pub test_crash_at: Option<String>,
    /// `AWSKEEP_TEST_FAIL_AT`, read in debug builds only: where a test wants a step to fail.
    pub test_fail_at: Option<String>,
    /// `AWSKEEP_TEST_PAUSE_AT=NAME=PATH`, read in debug builds only: at NAME the process creates
    /// PATH and waits until the test deletes it (a step held open while another command runs).
    pub test_pause_at: Option<String>,
    /// What the store choice and the encrypted file store read from the environment.
    pub store_env: StoreEnv,
    /// How long a served long-term key is leased for (`crate::lease`): `KEY_LEASE`, or in debug
    /// builds only `AWSKEEP_DEBUG_KEY_LEASE_SECS` (the tests' short lease; release builds ignore it).
    pub key_lease: std::time::Duration,
    /// The store this invocation opened, once `lib::run` opened it: a background finisher of a
    /// rotation (`rotation::background`) is told to open the same one.
    pub opened_store: std::cell::Cell<Option<crate::store::kind::StoreKind>>,
    /// The name of every variable in the environment, for `exec` to remove whole families from
    /// its child's (`AWS_BEARER_TOKEN_*`).
    pub env_names: Vec<std::ffi::OsString>,
    /// The resource limits the caller gave awskeep, before `hygiene` lowered its own.
    #[cfg_attr(
        not(unix),
        allow(dead_code, reason = "only Unix restores limits for exec's child")
    )]
    pub caller_limits: crate::hygiene::CallerLimits,
    /// How long the passphrase command, the MFA process and a desktop prompt may take; in debug
    /// builds only, `AWSKEEP_TEST_HELPER_DEADLINE` shortens them for tests.
    pub helper_deadlines: crate::helper::Deadlines,
    /// `AWSKEEP_FEDERATION_ENDPOINT`, read in debug builds only: the tests' stand-in for AWS's
    /// federation endpoint (`login`), which receives a session's secret; release builds ignore it.
    pub federation_endpoint: Option<String>,
}

/// The variables awskeep reads that carry a secret or a way to get one: the file store's
/// passphrase and the command that prints it. `exec` removes them from its child's environment:
/// with either, the child could open every profile's long-term key, after `lock` and past the
/// unlock timeout. Every `AWSKEEP_*` variable read below is in this list or in `NOT_SECRET`
/// (a unit test reads this file to hold that).
pub const SECRET_BEARING: &[&str] = &["AWSKEEP_FILE_PASSPHRASE", "AWSKEEP_FILE_PASSPHRASE_COMMAND"];

/// The other `AWSKEEP_*` variables awskeep reads: settings and markers, left in `exec`'s child as
/// the caller set them (an awskeep run inside sees the store and timeout its caller chose).
#[cfg(test)]
pub const NOT_SECRET: &[&str] = &[
    "AWSKEEP_STORE",
    "AWSKEEP_UNLOCK_TIMEOUT",
    "AWSKEEP_EXEC",
    "AWSKEEP_TEST_CRASH_AT",
    "AWSKEEP_TEST_FAIL_AT",
    "AWSKEEP_TEST_SCRYPT_LOG_N",
    "AWSKEEP_TEST_HELPER_DEADLINE",
    "AWSKEEP_DEBUG_KEY_LEASE_SECS",
    "AWSKEEP_TEST_PAUSE_AT",
    "AWSKEEP_COMPLETE",
    "AWSKEEP_FEDERATION_ENDPOINT",
];

#[cfg(test)]
impl Context {
    /// A context that reads nothing from the environment: the profile files in `dir`, no terminal,
    /// no region, no endpoint, no lock folder. Tests change what they need with struct update syntax.
    pub fn for_test(dir: &std::path::Path) -> Self {
        Self {
            config_file: dir.join("config"),
            credentials_file: dir.join("credentials"),
            env_profile: None,
            env_region: None,
            sts_endpoint: None,
            stdin_is_terminal: false,
            lock_dir: None,
            verbose: false,
            display: false,
            search_path: None,
            argv0: None,
            exec_profile: None,
            shell: None,
            test_crash_at: None,
            test_fail_at: None,
            test_pause_at: None,
            store_env: Default::default(),
            key_lease: crate::lease::KEY_LEASE,
            opened_store: std::cell::Cell::new(None),
            env_names: Vec::new(),
            caller_limits: Default::default(),
            helper_deadlines: Default::default(),
            federation_endpoint: None,
        }
    }
}

/// The environment of the store choice and the file store.
#[derive(Debug, Clone, Default)]
pub struct StoreEnv {
    /// `$XDG_DATA_HOME/awskeep` (the platform's data dir): the file store and the recorded choice.
    pub data_dir: Option<PathBuf>,
    /// `AWSKEEP_FILE_PASSPHRASE`: set explicitly by the user for automation.
    pub file_passphrase: Option<secrecy::SecretString>,
    /// `AWSKEEP_FILE_PASSPHRASE_COMMAND`: a command that prints the passphrase.
    pub file_passphrase_command: Option<String>,
    /// `AWSKEEP_UNLOCK_TIMEOUT`.
    pub unlock_timeout: Option<String>,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set: a desktop session that can unlock a Secret Service.
    pub graphical_session: bool,
    /// `AWSKEEP_TEST_SCRYPT_LOG_N`, debug builds only: a fast scrypt for new stores in tests.
    pub test_scrypt_log_n: Option<u8>,
    /// `DBUS_SESSION_BUS_ADDRESS`: which Secret Service the credential cache's entries belong to.
    #[cfg_attr(
        not(target_os = "linux"),
        allow(
            dead_code,
            reason = "the credential cache fronts the Secret Service, Linux only"
        )
    )]
    pub session_bus: Option<String>,
}

impl StoreEnv {
    fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            data_dir: dirs::data_dir().map(|d| d.join("awskeep")),
            // Read as given: a passphrase may start or end with spaces.
            file_passphrase: std::env::var("AWSKEEP_FILE_PASSPHRASE")
                .ok()
                .map(secrecy::SecretString::from),
            file_passphrase_command: var("AWSKEEP_FILE_PASSPHRASE_COMMAND"),
            unlock_timeout: var("AWSKEEP_UNLOCK_TIMEOUT"),
            graphical_session: var("DISPLAY").is_some() || var("WAYLAND_DISPLAY").is_some(),
            test_scrypt_log_n: var("AWSKEEP_TEST_SCRYPT_LOG_N")
                .filter(|_| cfg!(debug_assertions))
                .and_then(|v| v.parse().ok())
                .filter(|n| (1..30).contains(n)),
            session_bus: var("DBUS_SESSION_BUS_ADDRESS"),
        }
    }
}

impl Context {
    pub fn from_env(verbose: bool, caller_limits: crate::hygiene::CallerLimits) -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let home = dirs::home_dir();
        let aws_file = |env_name: &str, default_name: &str| -> Result<PathBuf> {
            match var(env_name) {
                Some(path) => Ok(expand_tilde(&path, home.as_deref())),
                None => Ok(home
                    .as_deref()
                    .ok_or(Error::NoHome)?
                    .join(".aws")
                    .join(default_name)),
            }
        };
        Ok(Self {
            config_file: aws_file("AWS_CONFIG_FILE", "config")?,
            credentials_file: aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")?,
            env_profile: var("AWS_PROFILE"),
            env_region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            sts_endpoint: var("AWS_ENDPOINT_URL_STS").or_else(|| var("AWS_ENDPOINT_URL")),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            lock_dir: crate::session::lock_dir(dirs::runtime_dir(), dirs::cache_dir()),
            verbose,
            display: var("DISPLAY").is_some() || var("WAYLAND_DISPLAY").is_some(),
            search_path: std::env::var_os("PATH"),
            argv0: std::env::args_os().next().map(PathBuf::from),
            exec_profile: var("AWSKEEP_EXEC"),
            shell: std::env::var_os(if cfg!(windows) { "COMSPEC" } else { "SHELL" })
                .filter(|v| !v.is_empty()),
            test_crash_at: var("AWSKEEP_TEST_CRASH_AT").filter(|_| cfg!(debug_assertions)),
            test_fail_at: var("AWSKEEP_TEST_FAIL_AT").filter(|_| cfg!(debug_assertions)),
            test_pause_at: var("AWSKEEP_TEST_PAUSE_AT").filter(|_| cfg!(debug_assertions)),
            store_env: StoreEnv::from_env(var),
            key_lease: crate::lease::from_debug_override(
                var("AWSKEEP_DEBUG_KEY_LEASE_SECS")
                    .filter(|_| cfg!(debug_assertions))
                    .as_deref(),
            ),
            opened_store: std::cell::Cell::new(None),
            env_names: std::env::vars_os().map(|(name, _)| name).collect(),
            caller_limits,
            helper_deadlines: crate::helper::Deadlines::from_debug_override(
                var("AWSKEEP_TEST_HELPER_DEADLINE")
                    .filter(|_| cfg!(debug_assertions))
                    .as_deref(),
            ),
            federation_endpoint: var("AWSKEEP_FEDERATION_ENDPOINT")
                .filter(|_| cfg!(debug_assertions)),
        })
    }
}

impl Context {
    /// Whether `program` is an executable file in a folder of `PATH`.
    pub fn on_path(&self, program: &str) -> bool {
        let Some(path) = &self.search_path else {
            return false;
        };
        std::env::split_paths(path).any(|dir| is_executable(&dir.join(program)))
    }

    /// Where `program` is found in `PATH`: the first folder's executable file of that name.
    pub fn find_on_path(&self, program: &str) -> Option<PathBuf> {
        let path = self.search_path.as_ref()?;
        std::env::split_paths(path)
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The SDKs expand a leading `~` in these variables (`~/`, and `~\` on Windows); so do we.
fn expand_tilde(path: &str, home: Option<&Path>) -> PathBuf {
    let rest = path
        .strip_prefix("~/")
        .or_else(|| path.strip_prefix("~\\").filter(|_| cfg!(windows)));
    match (rest, home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

impl Context {
    /// This awskeep's absolute path, for the credential_process line: on Windows the plain drive-letter
    /// form (`C:\Users\me\.cargo\bin\awskeep.exe`), never `\\?\C:\...`. When the user ran it through
    /// a link that leads to this very program (a package manager's `bin/awskeep` pointing into a
    /// versioned folder the next upgrade deletes), the line names the link.
    pub fn own_program(&self) -> Result<PathBuf> {
        let exe = std::env::current_exe()
            .and_then(dunce::canonicalize)
            .map_err(Error::NoSelfPath)?;
        let invoked = invoked_path(self.argv0.clone(), self.search_path.clone(), &exe);
        Ok(invoked.unwrap_or(exe))
    }
}

/// The path the user invoked (argv[0], looked up in PATH when it is a bare name), absolute but with
/// its links kept, if it leads to `exe`.
fn invoked_path(
    argv0: Option<PathBuf>,
    path_var: Option<std::ffi::OsString>,
    exe: &Path,
) -> Option<PathBuf> {
    let argv0 = argv0?;
    let candidate = if argv0.components().count() > 1 {
        std::path::absolute(&argv0).ok()?
    } else if cfg!(unix) {
        std::env::split_paths(&path_var?)
            .map(|dir| dir.join(&argv0))
            .find(|p| p.is_file())
            .and_then(|p| std::path::absolute(p).ok())?
    } else {
        return None;
    };
    (dunce::canonicalize(&candidate).ok()? == exe).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_awskeep_variable_read_is_classified_secret_or_not() {
        // This file, cli.rs (clap's `env = ...`) and the store: every AWSKEEP_ name in a string.
        let sources = [
            include_str!("context.rs"),
            include_str!("cli.rs"),
            include_str!("store/mod.rs"),
            include_str!("store/unlock.rs"),
        ];
        let mut seen = Vec::new();
        for source in sources {
            for piece in source.split('"') {
                if piece.starts_with("AWSKEEP_")
                    && !piece.ends_with('_')
                    && piece.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                {
                    seen.push(piece);
                }
            }
        }
        assert!(seen.contains(&"AWSKEEP_FILE_PASSPHRASE"), "{seen:?}");
        for name in seen {
            assert!(
                SECRET_BEARING.contains(&name) || NOT_SECRET.contains(&name),
                "{name} is read but neither SECRET_BEARING nor NOT_SECRET: decide whether exec's child keeps it"
            );
        }
    }

    #[test]
    fn expands_leading_tilde_only() {
        let home = Path::new("/home/u");
        assert_eq!(
            expand_tilde("~/x/config", Some(home)),
            PathBuf::from("/home/u/x/config")
        );
        assert_eq!(expand_tilde("/a/~/b", Some(home)), PathBuf::from("/a/~/b"));
    }
}
