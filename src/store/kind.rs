//! Which credential stores exist (`--store`, `AWSKEEP_STORE`), and their names in messages. A leaf:
//! the command line, the context and the errors name a store kind without opening one.

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
