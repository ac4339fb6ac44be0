//! Opening the file store's master key: the passphrase file `master.age` (age, scrypt recipient)
//! holds an age X25519 identity, the key every item is encrypted to. scrypt is slow on purpose
//! (about a second), so it runs once per unlock, not once per call: the identity it yields waits in
//! the kernel keyring (`key_cache`) for the unlock timeout.
//!
//! Where the passphrase comes from, in order: `AWSKEEP_FILE_PASSPHRASE` (set by the user for
//! automation), `AWSKEEP_FILE_PASSPHRASE_COMMAND` (its stdout), the terminal. With none of them a
//! locked store is an error naming `awskeep unlock`, at once: nothing waits for input that cannot come.
//! A passphrase from the variables opens the store for the command it was given to only, and is
//! checked every time (`FileStore::identity`): only `awskeep unlock` and a passphrase typed at the
//! terminal keep the key for later commands.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use age::secrecy::SecretString as AgeSecret;
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use zeroize::Zeroizing;

use super::key_cache::KeyCache;
use super::kind::StoreKind;
use crate::error::{Error, Result};

pub use crate::settings::UnlockTimeout;

/// What `awskeep unlock` did.
pub enum Unlock {
    /// Not the file store: its own keyring unlocks it, and reading it made sure it is open.
    ByItsKeyring,
    /// The file store's key is kept already (for `left`, when the kernel can say).
    AlreadyUnlocked { dir: PathBuf, left: Option<String> },
    /// The file store's key is kept now, for `timeout`, in `cache`.
    Unlocked {
        dir: PathBuf,
        timeout: UnlockTimeout,
        cache: &'static str,
    },
}

/// What `awskeep lock` did to the file store's kept key.
#[derive(Debug, PartialEq, Eq)]
pub enum Locked {
    /// Forgotten, for every login of the user.
    Forgot,
    /// None was kept (or the store is not the file store, whose own keyring locks it).
    NoneKept,
    /// There is no file store yet.
    NoStore,
}

/// Where a passphrase may come from, as the environment and the terminal allow.
#[derive(Clone, Default)]
pub struct PassphraseSources {
    /// `AWSKEEP_FILE_PASSPHRASE`.
    pub env: Option<SecretString>,
    /// `AWSKEEP_FILE_PASSPHRASE_COMMAND`: a command that prints it.
    pub command: Option<String>,
    /// Whether the terminal may be asked (false in unit tests).
    pub terminal: bool,
    /// scrypt's work factor for a new passphrase file (debug builds: tests); default: age's own
    /// calibration to about one second on this machine.
    pub scrypt_log_n: Option<u8>,
    /// How long the passphrase command may take (`helper::Deadlines::command`).
    pub command_deadline: Duration,
}

impl PassphraseSources {
    /// The passphrase to open an existing store with; `None` when nothing can supply one.
    pub fn existing(&self, dir: &Path) -> Result<Option<SecretString>> {
        if let Some(p) = self.supplied()? {
            return Ok(Some(p));
        }
        if !self.terminal || !crate::prompt::terminal_available() {
            return Ok(None);
        }
        let answer = crate::prompt::ask_hidden(&format!(
            "Passphrase for the awskeep file store ({}): ",
            dir.display()
        ))?;
        Ok(Some(SecretString::from(answer.as_str().to_string())))
    }

    /// A passphrase for a new store: asked twice on the terminal.
    pub fn new_one(&self, dir: &Path) -> Result<SecretString> {
        if let Some(p) = self.supplied()? {
            return Ok(p);
        }
        if !self.terminal || !crate::prompt::terminal_available() {
            return Err(Error::FileStoreNeedsPassphrase {
                dir: dir.to_path_buf(),
            });
        }
        crate::output::say(&format!(
            "Creating the awskeep file store in {}; its passphrase protects every key in it.",
            dir.display()
        ));
        let first = crate::prompt::ask_hidden("New passphrase: ")?;
        if first.is_empty() {
            return Err(Error::PassphraseEmpty);
        }
        let second = crate::prompt::ask_hidden("The same passphrase again: ")?;
        if *first != *second {
            return Err(Error::PassphraseMismatch);
        }
        Ok(SecretString::from(first.as_str().to_string()))
    }

    /// Whether the environment supplies the passphrase (`AWSKEEP_FILE_PASSPHRASE` or `_COMMAND`):
    /// then it is used, and checked, instead of a kept key, and kept only by `awskeep unlock`.
    pub fn environment_variable(&self) -> Option<&'static str> {
        if self.env.is_some() {
            Some("AWSKEEP_FILE_PASSPHRASE")
        } else if self.command.is_some() {
            Some("AWSKEEP_FILE_PASSPHRASE_COMMAND")
        } else {
            None
        }
    }

    fn supplied(&self) -> Result<Option<SecretString>> {
        if let Some(p) = &self.env {
            if p.expose_secret().is_empty() {
                return Err(Error::PassphraseEmpty);
            }
            return Ok(Some(p.clone()));
        }
        match &self.command {
            Some(command) => run_command(command, self.command_deadline).map(Some),
            None => Ok(None),
        }
    }
}

/// Runs the passphrase command, bounded (`crate::helper`): its first line of stdout is the
/// passphrase, read as soon as it is there; it must come and the command exit within `deadline`.
fn run_command(command: &str, deadline: Duration) -> Result<SecretString> {
    let failed = |reason: String| Error::PassphraseCommand {
        command: command.to_string(),
        reason,
    };
    // Its stderr is relayed as our messages for a person are (never to credential-process's stderr
    // on success: output::keep_stderr_for_failure).
    let output = crate::helper::first_line(
        crate::helper::shell_command(command),
        deadline,
        crate::helper::Stderr::Capture,
    )
    .map_err(|f| {
        crate::output::relay(&f.stderr);
        failed(f.failure.to_string())
    })?;
    crate::output::relay(&output.stderr);
    if output.line.is_empty() {
        return Err(failed("it printed nothing".into()));
    }
    Ok(SecretString::from(output.line.as_str().to_string()))
}

/// The name the unlocked master key is kept under: a hash of the passphrase file, so each store
/// (each data folder, each re-created store) has its own, and the name says nothing secret.
pub fn cache_name(master_file: &[u8]) -> String {
    let digest = sha2::Sha256::digest(master_file);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("awskeep:file-store:{hex}")
}

/// A new master key and its passphrase file's bytes.
pub fn create_master(
    passphrase: &SecretString,
    log_n: Option<u8>,
) -> Result<(age::x25519::Identity, Vec<u8>)> {
    let identity = age::x25519::Identity::generate();
    let mut recipient =
        age::scrypt::Recipient::new(AgeSecret::from(passphrase.expose_secret().to_string()));
    if let Some(log_n) = log_n {
        recipient.set_work_factor(log_n);
    }
    let plain = Zeroizing::new(identity.to_string().expose_secret().as_bytes().to_vec());
    let bytes = age::encrypt(&recipient, &plain).map_err(|e| Error::StoreFailed {
        store: StoreKind::File.display_name(),
        reason: format!("cannot encrypt the master key: {e}"),
    })?;
    Ok((identity, bytes))
}

/// The master key in a passphrase file.
pub fn open_master(
    path: &Path,
    bytes: &[u8],
    passphrase: &SecretString,
) -> Result<age::x25519::Identity> {
    let identity =
        age::scrypt::Identity::new(AgeSecret::from(passphrase.expose_secret().to_string()));
    let plain = age::decrypt(&identity, bytes)
        .map(Zeroizing::new)
        .map_err(|e| {
            use age::DecryptError as D;
            match e {
                // The scrypt stanza did not open: the passphrase is not this file's.
                D::DecryptionFailed | D::KeyDecryptionFailed => Error::WrongPassphrase {
                    path: path.to_path_buf(),
                },
                D::ExcessiveWork { .. } => Error::FileStoreDamaged {
                    path: path.to_path_buf(),
                    reason: "its scrypt work factor is far above this machine's",
                },
                D::NoMatchingKeys => Error::FileStoreDamaged {
                    path: path.to_path_buf(),
                    reason: "it is not protected by a passphrase",
                },
                _ => Error::FileStoreDamaged {
                    path: path.to_path_buf(),
                    reason: "it is not a readable age file",
                },
            }
        })?;
    parse_identity(path, &plain)
}

/// The master key as the cache holds it (its age secret-key string).
pub fn identity_secret(identity: &age::x25519::Identity) -> SecretString {
    SecretString::from(identity.to_string().expose_secret().to_string())
}

pub fn parse_identity(path: &Path, text: &[u8]) -> Result<age::x25519::Identity> {
    let damaged = || Error::FileStoreDamaged {
        path: path.to_path_buf(),
        reason: "it does not hold an age key",
    };
    let text = std::str::from_utf8(text).map_err(|_| damaged())?;
    age::x25519::Identity::from_str(text.trim()).map_err(|_| damaged())
}

/// Reads the cached master key, if the cache has one for this passphrase file.
pub fn cached(cache: &dyn KeyCache, name: &str) -> Option<age::x25519::Identity> {
    let secret = cache.get(name)?;
    age::x25519::Identity::from_str(secret.expose_secret()).ok()
}

#[cfg(test)]
mod timeout_tests {
    use super::UnlockTimeout;

    #[test]
    fn the_unlock_timeout_is_whole_seconds_that_fit_the_kernels_unsigned_int() {
        let seconds = |text: &str| UnlockTimeout::parse(text).map(UnlockTimeout::seconds);
        assert_eq!(seconds("8h"), Ok(28_800));
        assert_eq!(
            seconds("1500ms"),
            Ok(2),
            "a fraction counts as a whole second"
        );
        assert_eq!(seconds("4294967295s"), Ok(u32::MAX));
        for too_long in ["4294967296s", "4294967297s", "200years"] {
            let err = UnlockTimeout::parse(too_long).unwrap_err();
            assert!(err.contains("at most 4294967295s"), "{too_long}: {err}");
        }
        for never in ["0s", "0ms"] {
            assert!(UnlockTimeout::parse(never).is_err(), "{never}");
        }
        assert_eq!(UnlockTimeout::DEFAULT.seconds(), 8 * 3600);
    }
}
