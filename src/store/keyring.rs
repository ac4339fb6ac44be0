//! The OS keychains, reached through keyring-core and its per-platform store crates: the Secret Service
//! on Linux, the login keychain on macOS, the Credential Manager on Windows. One adapter serves all
//! three since keyring-core gives them one API; only `open` differs per platform.
//!
//! keyring-core errors that carry item bytes (`BadEncoding`, `BadDataFormat`) are mapped without them:
//! nothing from an item's content may reach a message.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore as KeyringStore, Entry, Error as KeyringError};
use zeroize::Zeroizing;

use super::{CredentialStore, SERVICE, StoreKind};
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::Session;

pub struct KeyringBackedStore {
    inner: Arc<KeyringStore>,
    name: &'static str,
}

pub fn open(kind: StoreKind) -> Result<Box<dyn CredentialStore>> {
    let (name, opened): (&'static str, keyring_core::Result<Arc<KeyringStore>>) = match kind {
        #[cfg(target_os = "linux")]
        StoreKind::SecretService => (
            "Secret Service",
            zbus_secret_service_keyring_store::Store::new().map(|s| s as Arc<KeyringStore>),
        ),
        #[cfg(target_os = "macos")]
        StoreKind::Keychain => (
            "macOS Keychain",
            apple_native_keyring_store::keychain::Store::new().map(|s| s as Arc<KeyringStore>),
        ),
        #[cfg(target_os = "windows")]
        StoreKind::WindowsCredentialManager => (
            "Windows Credential Manager",
            windows_native_keyring_store::Store::new().map(|s| s as Arc<KeyringStore>),
        ),
    };
    let inner = opened.map_err(|e| map_error(e, name, None))?;
    Ok(Box::new(KeyringBackedStore { inner, name }))
}

impl KeyringBackedStore {
    fn entry(&self, profile: &ProfileName) -> Result<Entry> {
        let label = format!("awskeep: AWS access key for profile {profile}");
        self.entry_named(profile, profile.as_str(), &label)
    }

    /// `PROFILE:session`: a colon cannot occur in a profile name, so it never names a key item.
    fn session_entry(&self, profile: &ProfileName) -> Result<Entry> {
        let label = format!("awskeep: STS session for profile {profile}");
        self.entry_named(profile, &format!("{profile}:session"), &label)
    }

    fn entry_named(&self, profile: &ProfileName, user: &str, label: &str) -> Result<Entry> {
        let modifiers = HashMap::from([("label", label)]);
        self.inner
            .build(SERVICE, user, Some(&modifiers))
            .map_err(|e| map_error(e, self.name, Some(profile)))
    }

    fn read(&self, entry: Entry, profile: &ProfileName) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match entry.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, self.name, Some(profile))),
        }
    }

    fn remove(&self, entry: Entry, profile: &ProfileName) -> Result<bool> {
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e, self.name, Some(profile))),
        }
    }
}

impl CredentialStore for KeyringBackedStore {
    fn display_name(&self) -> &'static str {
        self.name
    }

    fn get(&self, profile: &ProfileName) -> Result<Option<StoredKey>> {
        let Some(bytes) = self.read(self.entry(profile)?, profile)? else {
            return Ok(None);
        };
        StoredKey::from_item_bytes(&bytes)
            .map(Some)
            .map_err(|reason| Error::StoreItemCorrupt {
                store: self.name,
                profile: profile.to_string(),
                reason,
            })
    }

    fn set(&self, profile: &ProfileName, key: &StoredKey) -> Result<()> {
        let bytes = key.to_item_bytes();
        self.entry(profile)?
            .set_secret(&bytes)
            .map_err(|e| map_error(e, self.name, Some(profile)))
    }

    fn delete(&self, profile: &ProfileName) -> Result<bool> {
        self.remove(self.entry(profile)?, profile)
    }

    fn get_session(&self, profile: &ProfileName) -> Result<Option<Session>> {
        let Some(bytes) = self.read(self.session_entry(profile)?, profile)? else {
            return Ok(None);
        };
        // An unreadable cache entry is just a miss: the next refresh overwrites it.
        Ok(Session::from_item_bytes(&bytes).ok())
    }

    fn set_session(&self, profile: &ProfileName, session: &Session) -> Result<()> {
        self.session_entry(profile)?
            .set_secret(&session.to_item_bytes())
            .map_err(|e| map_error(e, self.name, Some(profile)))
    }

    fn delete_session(&self, profile: &ProfileName) -> Result<bool> {
        self.remove(self.session_entry(profile)?, profile)
    }

    fn list(&self) -> Result<Option<Vec<ProfileName>>> {
        let spec = HashMap::from([("service", SERVICE)]);
        let entries = match self.inner.search(&spec) {
            Ok(entries) => entries,
            Err(KeyringError::NotSupportedByStore(_)) => return Ok(None),
            Err(e) => return Err(map_error(e, self.name, None)),
        };
        let mut profiles = Vec::new();
        for entry in entries {
            let attributes = entry
                .get_attributes()
                .map_err(|e| map_error(e, self.name, None))?;
            // Items that are not a valid profile name were not written by awskeep; skip them.
            if let Some(profile) = attributes
                .get("username")
                .and_then(|u| ProfileName::parse(u).ok())
            {
                profiles.push(profile);
            }
        }
        profiles.sort();
        profiles.dedup();
        Ok(Some(profiles))
    }
}

/// Turns a keyring-core error into ours, keeping only text that cannot hold item content.
fn map_error(error: KeyringError, store: &'static str, profile: Option<&ProfileName>) -> Error {
    let profile_name = || profile.map(ToString::to_string).unwrap_or_default();
    match error {
        KeyringError::NoStorageAccess(cause) => {
            let reason = cause.to_string();
            if reason.contains("result not returned") {
                // secret-service's NoResult: no collection behind the `default` alias.
                Error::StoreUnavailable {
                    store,
                    reason: "it has no default keyring to store items in".into(),
                }
            } else if looks_locked(&reason) {
                Error::StoreLocked { store }
            } else {
                Error::StoreUnavailable { store, reason }
            }
        }
        KeyringError::PlatformFailure(cause) => {
            let reason = cause.to_string();
            if looks_unreachable(&reason) {
                Error::StoreUnavailable { store, reason }
            } else {
                Error::StoreFailed { store, reason }
            }
        }
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => Error::StoreItemCorrupt {
            store,
            profile: profile_name(),
            reason: "the store could not decode it",
        },
        KeyringError::Ambiguous(_) => Error::StoreItemCorrupt {
            store,
            profile: profile_name(),
            reason: "more than one item matches it",
        },
        other => Error::StoreFailed {
            store,
            reason: other.to_string(),
        },
    }
}

fn looks_locked(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("lock") || reason.contains("prompt")
}

fn looks_unreachable(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "d-bus",
        "dbus",
        "connect",
        "address",
        "no such file",
        "bus",
        "serviceunknown",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}
