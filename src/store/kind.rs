//! Which credential stores exist (`--store`, `AWSKEEP_STORE`), the keychains behind them, and what
//! errors say about them. A leaf: the command line, the context and the errors name a store, and
//! hints tell keychains apart, by type and without opening one.

use clap::ValueEnum;

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
    /// An encrypted file under $XDG_DATA_HOME/awskeep, opened with a passphrase (`awskeep unlock`).
    File,
}

impl StoreKind {
    /// The platform's own keychain.
    pub fn platform_default() -> Option<Self> {
        Self::value_variants()
            .iter()
            .copied()
            .find(|k| *k != StoreKind::File)
    }

    /// The kind `--store` spells `name`.
    pub fn from_arg_name(name: &str) -> Option<Self> {
        Self::value_variants()
            .iter()
            .copied()
            .find(|k| k.arg_name() == name)
    }

    /// The store's name in messages, as its `display_name` says it once open.
    pub const fn display_name(self) -> &'static str {
        match self {
            StoreKind::File => "file store",
            #[cfg(target_os = "linux")]
            StoreKind::SecretService => "Secret Service",
            #[cfg(target_os = "macos")]
            StoreKind::Keychain => "macOS Keychain",
            #[cfg(target_os = "windows")]
            StoreKind::WindowsCredentialManager => "Windows Credential Manager",
        }
    }

    /// The name as `--store` spells it.
    pub fn arg_name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// The OS keychain behind a keyring-core store, on every platform: a build opens only its own,
/// but errors name each (their hints differ per keychain) and the contract tests run all three.
/// What awskeep may pass each keychain's store crate is `keyring.rs`'s (`impl Flavor` there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    dead_code,
    reason = "a build opens only its own platform's store; the tests construct all three"
)]
pub enum Flavor {
    /// zbus-secret-service-keyring-store (Linux).
    SecretService,
    /// apple-native-keyring-store's `keychain` (macOS).
    Keychain,
    /// windows-native-keyring-store (Windows).
    CredentialManager,
}

impl Flavor {
    pub const fn display_name(self) -> &'static str {
        match self {
            Flavor::SecretService => "Secret Service",
            Flavor::Keychain => "macOS Keychain",
            Flavor::CredentialManager => "Windows Credential Manager",
        }
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Why a store's profile index cannot be read (`index.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IndexUnreadable {
    #[error("its content is not awskeep's index JSON")]
    NotAwskeeps,
    /// Never overwritten, never rebuilt: only a newer awskeep may change it.
    #[error("it was written by a newer awskeep")]
    WrittenByNewer,
}
