//! The credential store: a trait with one implementation per backend. Commands receive a
//! `&dyn CredentialStore` and never know which backend they got. Each profile's key is one item,
//! named by the service `awskeep` and the profile name, holding the key and its metadata as JSON;
//! its cached session is a second item (`PROFILE:session`), and one index item (`:index`) lists the
//! profiles, so enumerating them never depends on a store's search.

#[cfg(test)]
mod contract_double;
mod index;
mod keyring;
#[cfg(test)]
pub mod memory;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use clap::ValueEnum;

use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::Session;

pub use index::NEWER as NEWER_INDEX;

/// The service name every awskeep item is filed under.
pub const SERVICE: &str = "awskeep";

pub trait CredentialStore {
    /// A name for messages: "Secret Service", "macOS Keychain", ...
    fn display_name(&self) -> &'static str;
    /// The profile's key, or `None` when the store holds no item for it.
    fn get(&self, profile: &ProfileName) -> Result<Option<StoredKey>>;
    /// Creates or replaces the profile's item.
    fn set(&self, profile: &ProfileName, key: &StoredKey) -> Result<()>;
    /// Deletes the profile's item; `false` when there was none.
    fn delete(&self, profile: &ProfileName) -> Result<bool>;
    /// Every profile this store may hold a key for (sorted). It may name a profile whose key is gone
    /// (an interrupted write); callers read each one and skip what `get` does not find.
    fn list(&self) -> Result<Vec<ProfileName>>;
    /// The profile's cached STS session (a separate item), if any.
    fn get_session(&self, profile: &ProfileName) -> Result<Option<Session>>;
    fn set_session(&self, profile: &ProfileName, session: &Session) -> Result<()>;
    /// Drops the cached session; `false` when there was none.
    fn delete_session(&self, profile: &ProfileName) -> Result<bool>;
}

/// The stores this build can open. `--store` / `AWSKEEP_STORE` picks one; the default is the
/// platform's own keychain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The freedesktop Secret Service (GNOME Keyring, KeePassXC), over D-Bus.
    #[cfg(target_os = "linux")]
    SecretService,
    /// The macOS login keychain.
    #[cfg(target_os = "macos")]
    Keychain,
    /// The Windows Credential Manager.
    #[cfg(target_os = "windows")]
    WindowsCredentialManager,
}

impl StoreKind {
    pub fn platform_default() -> Option<Self> {
        Self::value_variants().first().copied()
    }

    /// The name as `--store` spells it.
    pub fn arg_name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// Opens the chosen store; `lock_dir` is where its index lock lives.
pub fn open(
    kind: Option<StoreKind>,
    lock_dir: Option<PathBuf>,
) -> Result<Box<dyn CredentialStore>> {
    let Some(kind) = kind.or_else(StoreKind::platform_default) else {
        return Err(Error::UnknownStore {
            name: "(default)".into(),
            available: "none on this platform".into(),
        });
    };
    keyring::open(kind, lock_dir)
}
