//! The OS keychains, reached through keyring-core and its per-platform store crates: the Secret Service
//! on Linux, the login keychain on macOS, the Credential Manager on Windows. One adapter serves all
//! three since keyring-core gives them one API; what differs per platform (the modifiers and search
//! keys each store crate accepts, its size limit) is `Flavor`.
//!
//! keyring-core errors that carry item bytes (`BadEncoding`, `BadDataFormat`) are mapped without them:
//! nothing from an item's content may reach a message.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore as KeyringStore, Entry, Error as KeyringError};
use zeroize::Zeroizing;

use super::cred_cache::Source;
use super::index::{INDEX_USER, ProfileIndex};
use super::item::{ItemKind, ItemStore};
use super::kind::{Flavor, IndexUnreadable, StoreKind};
use crate::error::{Error, Result};
use crate::lock::FileLock;
use crate::profile_name::ProfileName;

/// The service name every awskeep item is filed under.
pub const SERVICE: &str = "awskeep";

/// What awskeep may ask of each store crate. keyring-core's `parse_attributes` rejects every modifier
/// and search key a store does not name, so each call passes only what that crate's source accepts
/// (the contract double in `contract_double.rs` holds the same facts, transcribed independently, and
/// the shared store tests run this adapter against it for all three platforms):
/// - zbus-secret-service-keyring-store 1.0.1: `build` accepts the modifiers `target` and `label`;
///   `search` matches any item attributes (the store writes `service` and `username`).
/// - apple-native-keyring-store 1.0.3 (`keychain`): `build` accepts only `keychain`; `search` only
///   `service` and `user`; items have no attributes beyond their specifiers.
/// - windows-native-keyring-store 1.1.0: `build` accepts only `target` and `persistence`
///   (`Session`, `Local` or `Enterprise`, any case); `search` only `pattern`, a regex over every
///   generic credential's target name, which `Store::new()` makes `{user}.{service}`; a secret is
///   at most 2,560 bytes (CRED_MAX_CREDENTIAL_BLOB_SIZE).
impl Flavor {
    /// The modifiers for `build`: a readable label where the store keeps one (Seahorse, KeePassXC
    /// show it); on Windows, persistence `Local` rather than the crate's default `Enterprise`, which
    /// roams a credential to every machine the user signs in to in a domain with roaming profiles:
    /// a key stays on this machine, as in the Keychain and the Secret Service.
    fn modifiers(self, label: &str) -> Option<HashMap<&str, &str>> {
        match self {
            Flavor::SecretService => Some(HashMap::from([("label", label)])),
            Flavor::CredentialManager => Some(HashMap::from([("persistence", "Local")])),
            Flavor::Keychain => None,
        }
    }

    /// A search that finds at least every awskeep item an index-less awskeep wrote (callers filter
    /// by specifiers), where such items can exist. Only the Secret Service: every awskeep before the
    /// index failed at its first store call on macOS and Windows (the `label` modifier), so there is
    /// nothing to find there, and the Windows crate's enumeration dereferences the CREDENTIALW
    /// array without an alignment check (it aborted under Wine 8), so awskeep never enumerates there.
    fn legacy_search_spec(self) -> Option<HashMap<&'static str, &'static str>> {
        match self {
            Flavor::SecretService => Some(HashMap::from([("service", SERVICE)])),
            Flavor::Keychain | Flavor::CredentialManager => None,
        }
    }

    /// The item's user name for `name`. Windows compares credential names without regard to case,
    /// so `dev` and `Dev` (distinct AWS profiles) would share one item: there each capital letter is
    /// written as `^` and its lower case (`Dev` -> `^dev`). `^` cannot occur in a profile name, so the
    /// mapping is one to one. The other stores compare case-sensitively and get the name as it is.
    fn item_user(self, name: &str) -> String {
        match self {
            Flavor::CredentialManager => name
                .chars()
                .flat_map(|c| {
                    let marker = c.is_ascii_uppercase().then_some('^');
                    marker
                        .into_iter()
                        .chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect(),
            Flavor::SecretService | Flavor::Keychain => name.to_string(),
        }
    }

    /// The item user of a profile's item of `kind`: `PROFILE`, `PROFILE:session`.
    fn kind_user(self, profile: &ProfileName, kind: ItemKind) -> String {
        format!("{}{}", self.item_user(profile.as_str()), kind.suffix())
    }

    /// The items an entry of the credential cache made from `source` came from: the key, and for a
    /// session the session too (credential-process reads both).
    #[cfg_attr(
        not(target_os = "linux"),
        allow(dead_code, reason = "the cache is Linux's")
    )]
    pub fn item_users(self, profile: &ProfileName, source: Source) -> Vec<String> {
        let key = self.kind_user(profile, ItemKind::Key);
        match source {
            Source::Key => vec![key],
            Source::Session => vec![self.kind_user(profile, ItemKind::Session), key],
            Source::Role => vec![self.kind_user(profile, ItemKind::Session)],
        }
    }

    fn max_secret_len(self) -> Option<usize> {
        match self {
            Flavor::CredentialManager => Some(2560),
            Flavor::SecretService | Flavor::Keychain => None,
        }
    }
}

/// How long a command waits for another awskeep's index update (a store write or two).
const INDEX_LOCK_WAIT: Duration = Duration::from_secs(20);

pub struct KeyringBackedStore {
    inner: Arc<KeyringStore>,
    flavor: Flavor,
    /// Where the index lock lives; without one (no home, no cache dir) updates go unlocked.
    lock_dir: Option<PathBuf>,
}

pub fn open(kind: StoreKind, lock_dir: Option<PathBuf>) -> Result<Box<dyn ItemStore>> {
    let (flavor, opened): (Flavor, keyring_core::Result<Arc<KeyringStore>>) = match kind {
        #[cfg(target_os = "linux")]
        StoreKind::SecretService => (
            Flavor::SecretService,
            zbus_secret_service_keyring_store::Store::new().map(|s| s as Arc<KeyringStore>),
        ),
        #[cfg(target_os = "macos")]
        StoreKind::Keychain => (
            Flavor::Keychain,
            apple_native_keyring_store::keychain::Store::new().map(|s| s as Arc<KeyringStore>),
        ),
        #[cfg(target_os = "windows")]
        StoreKind::WindowsCredentialManager => (
            Flavor::CredentialManager,
            windows_native_keyring_store::Store::new().map(|s| s as Arc<KeyringStore>),
        ),
        // `open::open_kind` opens the file store itself.
        StoreKind::File => {
            return Err(Error::UnknownStore {
                name: kind.arg_name(),
                available: "not a keychain".into(),
            });
        }
    };
    let inner = opened.map_err(|e| map_error(e, flavor, None))?;
    Ok(Box::new(KeyringBackedStore::new(inner, flavor, lock_dir)))
}

impl KeyringBackedStore {
    pub fn new(inner: Arc<KeyringStore>, flavor: Flavor, lock_dir: Option<PathBuf>) -> Self {
        Self {
            inner,
            flavor,
            lock_dir,
        }
    }

    fn name(&self) -> &'static str {
        self.flavor.display_name()
    }

    fn entry(&self, profile: &ProfileName, kind: ItemKind) -> Result<Entry> {
        let user = self.flavor.kind_user(profile, kind);
        self.entry_named(Some(profile), &user, &kind.label(profile))
    }

    /// Chunk `n` of the index: `:index`, then `:index:1`, `:index:2`, ...
    fn index_entry(&self, n: usize) -> Result<Entry> {
        let user = match n {
            0 => INDEX_USER.to_string(),
            n => format!("{INDEX_USER}:{n}"),
        };
        self.entry_named(None, &user, "awskeep: index of stored profiles")
    }

    fn entry_named(&self, profile: Option<&ProfileName>, user: &str, label: &str) -> Result<Entry> {
        let modifiers = self.flavor.modifiers(label);
        self.inner
            .build(SERVICE, user, modifiers.as_ref())
            .map_err(|e| map_error(e, self.flavor, profile))
    }

    fn read(
        &self,
        entry: Entry,
        profile: Option<&ProfileName>,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match entry.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, self.flavor, profile)),
        }
    }

    fn write(&self, entry: Entry, bytes: &[u8], profile: Option<&ProfileName>) -> Result<()> {
        self.check_size(bytes.len(), profile)?;
        entry
            .set_secret(bytes)
            .map_err(|e| map_error(e, self.flavor, profile))
    }

    fn check_size(&self, size: usize, profile: Option<&ProfileName>) -> Result<()> {
        match self.flavor.max_secret_len() {
            Some(limit) if size > limit => Err(Error::StoreItemTooLarge {
                store: self.name(),
                item: profile.map_or_else(
                    || "the profile index".into(),
                    |p| format!("profile \"{p}\""),
                ),
                size,
                limit,
            }),
            _ => Ok(()),
        }
    }

    fn remove(&self, entry: Entry, profile: &ProfileName) -> Result<bool> {
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e, self.flavor, Some(profile))),
        }
    }

    /// The index as stored, chunk by chunk (one chunk unless the store limits an item's size);
    /// `None` when there is none, or when it cannot be read and search can rebuild it. An index this
    /// awskeep cannot read, on a store it never searches, is an error: guessing would lose profiles.
    fn read_index(&self) -> Result<Option<Vec<ProfileIndex>>> {
        let mut chunks = Vec::new();
        while let Some(bytes) = self.read(self.index_entry(chunks.len())?, None)? {
            match ProfileIndex::from_item_bytes(&bytes) {
                Ok(chunk) => chunks.push(chunk),
                Err(reason)
                    if reason != IndexUnreadable::WrittenByNewer
                        && self.flavor.legacy_search_spec().is_some() =>
                {
                    return Ok(None);
                }
                Err(reason) => {
                    return Err(Error::StoreIndexCorrupt {
                        store: self.name(),
                        reason,
                    });
                }
            }
        }
        Ok((!chunks.is_empty()).then_some(chunks))
    }

    /// Profiles whose key items the store's search finds: items an older awskeep wrote before it kept
    /// an index. Only items filed under our service whose user is a valid profile name count.
    fn search_profiles(&self) -> Result<Vec<ProfileName>> {
        let Some(spec) = self.flavor.legacy_search_spec() else {
            return Ok(Vec::new());
        };
        let entries = match self.inner.search(&spec) {
            Ok(entries) => entries,
            Err(KeyringError::NotSupportedByStore(_)) => return Ok(Vec::new()),
            Err(e) => return Err(map_error(e, self.flavor, None)),
        };
        Ok(entries
            .iter()
            .filter_map(|entry| {
                let (service, user) = entry.get_specifiers()?;
                (service == SERVICE)
                    .then(|| ProfileName::parse(&user).ok())
                    .flatten()
            })
            .collect())
    }

    /// Read-modify-write of the index under the index lock. Each change rewrites only the chunk it
    /// touches, so every step is one item write. A missing index (or an unreadable one on a store that
    /// can search) is rebuilt from search first, so an upgrade from an index-less awskeep keeps every
    /// profile listed.
    fn update_index(&self, change: IndexChange<'_>) -> Result<()> {
        let _lock = self.lock_index()?;
        let mut dirty = std::collections::BTreeSet::new();
        let mut chunks = match self.read_index()? {
            Some(chunks) => chunks,
            None => {
                let mut chunks = vec![ProfileIndex::default()];
                dirty.insert(0);
                for profile in self.search_profiles().unwrap_or_default() {
                    self.insert_into(&mut chunks, &profile, &mut dirty);
                }
                chunks
            }
        };
        match change {
            IndexChange::Insert(profile) => self.insert_into(&mut chunks, profile, &mut dirty),
            IndexChange::Remove(profile) => {
                for (n, chunk) in chunks.iter_mut().enumerate() {
                    if chunk.remove(profile) {
                        dirty.insert(n);
                    }
                }
            }
            IndexChange::Absorb(profiles) => {
                for profile in &profiles {
                    self.insert_into(&mut chunks, profile, &mut dirty);
                }
            }
        }
        for n in dirty {
            self.write(self.index_entry(n)?, &chunks[n].to_item_bytes(), None)?;
        }
        Ok(())
    }

    /// Adds `profile` to the first chunk it fits in (a new one when none has room).
    fn insert_into(
        &self,
        chunks: &mut Vec<ProfileIndex>,
        profile: &ProfileName,
        dirty: &mut std::collections::BTreeSet<usize>,
    ) {
        if chunks.iter().any(|chunk| chunk.contains(profile)) {
            return;
        }
        let fits = |chunk: &ProfileIndex| {
            self.flavor
                .max_secret_len()
                .is_none_or(|limit| chunk.to_item_bytes().len() <= limit)
        };
        for (n, chunk) in chunks.iter_mut().enumerate() {
            let mut grown = chunk.clone();
            grown.insert(profile);
            if fits(&grown) {
                *chunk = grown;
                dirty.insert(n);
                return;
            }
        }
        let mut chunk = ProfileIndex::default();
        chunk.insert(profile);
        chunks.push(chunk);
        dirty.insert(chunks.len() - 1);
    }

    fn lock_index(&self) -> Result<Option<FileLock>> {
        let Some(dir) = &self.lock_dir else {
            return Ok(None);
        };
        FileLock::acquire(dir, "store-index.lock", INDEX_LOCK_WAIT)
            .map(Some)
            .map_err(|e| e.into_error(|path| Error::StoreIndexBusy { path }))
    }
}

impl ItemStore for KeyringBackedStore {
    fn display_name(&self) -> &'static str {
        self.name()
    }

    fn get(&self, profile: &ProfileName, kind: ItemKind) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.read(self.entry(profile, kind)?, Some(profile))
    }

    /// A key is listed in the index before it is written (see `index.rs`).
    fn set(&self, profile: &ProfileName, kind: ItemKind, bytes: &[u8]) -> Result<()> {
        let entry = self.entry(profile, kind)?;
        if kind == ItemKind::Key {
            // Checked before the index changes, so a key the store cannot hold leaves nothing behind.
            self.check_size(bytes.len(), Some(profile))?;
            self.update_index(IndexChange::Insert(profile))?;
        }
        self.write(entry, bytes, Some(profile))
    }

    /// A key leaves the index after it is deleted.
    fn delete(&self, profile: &ProfileName, kind: ItemKind) -> Result<bool> {
        let existed = self.remove(self.entry(profile, kind)?, profile)?;
        if kind == ItemKind::Key {
            self.update_index(IndexChange::Remove(profile))?;
        }
        Ok(existed)
    }

    fn list(&self) -> Result<Vec<ProfileName>> {
        let index = self.read_index()?;
        let mut profiles = ProfileIndex::default();
        for chunk in index.iter().flatten() {
            profiles.absorb(chunk.profiles().cloned());
        }
        // Search is a second source only: a store whose search fails still lists its index.
        let found = self.search_profiles().unwrap_or_default();
        if profiles.absorb(found.clone()) || index.is_none() {
            // Items an older index missed get recorded, so the next list need not rely on search.
            let _ = self.update_index(IndexChange::Absorb(found));
        }
        Ok(profiles.profiles().cloned().collect())
    }
}

/// What a command changes in the index.
enum IndexChange<'a> {
    Insert(&'a ProfileName),
    Remove(&'a ProfileName),
    /// Profiles search found that the index may not list yet.
    Absorb(Vec<ProfileName>),
}

/// Turns a keyring-core error into ours, keeping only text that cannot hold item content.
fn map_error(error: KeyringError, flavor: Flavor, profile: Option<&ProfileName>) -> Error {
    let store = flavor.display_name();
    let profile_name = || profile.map(ToString::to_string).unwrap_or_default();
    match error {
        KeyringError::NoStorageAccess(cause) => {
            let reason = cause.to_string();
            if reason.contains("result not returned") {
                // secret-service's NoResult: no collection behind the `default` alias.
                Error::StoreUnavailable {
                    store: flavor,
                    reason: "it has no default keyring to store items in".into(),
                }
            } else if looks_locked(&reason) {
                Error::StoreLocked { store: flavor }
            } else {
                Error::StoreUnavailable {
                    store: flavor,
                    reason,
                }
            }
        }
        KeyringError::PlatformFailure(cause) => {
            let reason = cause.to_string();
            if looks_unreachable(&reason) {
                Error::StoreUnavailable {
                    store: flavor,
                    reason,
                }
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
