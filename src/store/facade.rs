//! The credential store as commands see it: one typed facade over a byte-level item store
//! (`item::ItemStore`), as aws-vault's credential and session keyrings sit over one keyring.
//! Commands receive a `&CredentialStore` and never know which backend they got. A profile's key is
//! one item (`StoredKey`'s JSON) and its cached session another (`Session`'s); reading, writing
//! and checking them is done here, once. Around the backend it keeps what every backend shares:
//! the credential cache in front of it (dropped before and after every change, `cred_cache.rs`),
//! an opening deferred until first use (the Secret Service behind that cache), and the recording
//! of a probed store choice at its first write (`choice.rs`).

use std::cell::{OnceCell, RefCell};
use std::path::PathBuf;

use super::choice;
use super::cred_cache::CredCache;
use super::file::FileStore;
use super::item::{ItemKind, ItemStore};
use super::kind::StoreKind;
use super::unlock::{Locked, Unlock, UnlockTimeout};
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::Session;

pub struct CredentialStore {
    pub(super) name: &'static str,
    pub(super) items: Items,
    /// The credential cache in front of this store, where it has one (the Secret Service on Linux).
    pub(super) cache: Option<CredCache>,
    /// A choice the probe made, recorded once a key write to this store succeeded: a failed first
    /// write (no passphrase, no terminal) must not tie the machine to a store that holds nothing.
    pub(super) record: RefCell<Option<(StoreKind, PathBuf)>>,
}

/// The backend, as the facade holds it.
pub(super) enum Items {
    /// The encrypted file store, which also has a key of its own to unlock and lock.
    File(FileStore),
    Open(Box<dyn ItemStore>),
    /// Opened on first use (`open::Opening::WhenUsed`), behind the credential cache.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "Linux only"))]
    WhenUsed {
        open: Box<dyn Fn() -> Result<Box<dyn ItemStore>>>,
        opened: OnceCell<Box<dyn ItemStore>>,
    },
}

/// Whether later commands find the store open.
pub enum Openness {
    /// Its own keyring opens it (the desktop login, the OS): awskeep keeps nothing open.
    ByItsKeyring,
    /// The file store in `dir`: whether there is one, whether its key is kept (for how long, when
    /// the kernel can say), and the variable that opens it for one command, if set.
    File {
        dir: PathBuf,
        exists: bool,
        unlocked_for: Option<Option<String>>,
        passphrase_variable: Option<&'static str>,
    },
}

impl CredentialStore {
    /// A store over an open backend, with nothing in front of it.
    pub fn new(items: Box<dyn ItemStore>) -> Self {
        Self::with(items.display_name(), Items::Open(items))
    }

    pub fn file(file: FileStore) -> Self {
        Self::with(super::file::NAME, Items::File(file))
    }

    pub(super) fn with(name: &'static str, items: Items) -> Self {
        Self {
            name,
            items,
            cache: None,
            record: RefCell::new(None),
        }
    }

    /// A name for messages: "Secret Service", "macOS Keychain", ...
    pub fn display_name(&self) -> &'static str {
        self.name
    }

    /// The credential cache in front of this store, where it has one.
    pub fn cred_cache(&self) -> Option<&CredCache> {
        self.cache.as_ref()
    }

    pub(super) fn items(&self) -> Result<&dyn ItemStore> {
        match &self.items {
            Items::File(file) => Ok(file),
            Items::Open(items) => Ok(items.as_ref()),
            Items::WhenUsed { open, opened } => {
                if let Some(items) = opened.get() {
                    return Ok(items.as_ref());
                }
                let items = open()?;
                Ok(opened.get_or_init(|| items).as_ref())
            }
        }
    }

    /// Every change to the store goes through here: the credential cache is dropped first, and
    /// once more after the change, for a reader that read the store in between.
    fn change<T>(
        &self,
        profile: &ProfileName,
        op: impl FnOnce(&dyn ItemStore) -> Result<T>,
    ) -> Result<T> {
        let Some(cache) = &self.cache else {
            return op(self.items()?);
        };
        cache.invalidate(Some(profile))?;
        let result = op(self.items()?);
        let after = cache.invalidate(Some(profile));
        let value = result?;
        after?;
        Ok(value)
    }

    /// The profile's key, or `None` when the store holds no item for it.
    pub fn get(&self, profile: &ProfileName) -> Result<Option<StoredKey>> {
        let Some(bytes) = self.items()?.get(profile, ItemKind::Key)? else {
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

    /// Creates or replaces the profile's key item.
    pub fn set(&self, profile: &ProfileName, key: &StoredKey) -> Result<()> {
        let bytes = key.to_item_bytes();
        self.change(profile, |items| items.set(profile, ItemKind::Key, &bytes))?;
        if let Some((kind, dir)) = &*self.record.borrow() {
            choice::record(dir, *kind)?;
        }
        self.record.replace(None);
        Ok(())
    }

    /// Deletes the profile's key item; `false` when there was none.
    pub fn delete(&self, profile: &ProfileName) -> Result<bool> {
        self.change(profile, |items| items.delete(profile, ItemKind::Key))
    }

    /// Every profile this store may hold a key for (sorted). It may name a profile whose key is gone
    /// (an interrupted write); callers read each one and skip what `get` does not find.
    pub fn list(&self) -> Result<Vec<ProfileName>> {
        self.items()?.list()
    }

    /// The profile's cached STS session, if any. An unreadable one is none: the next refresh
    /// overwrites it.
    pub fn get_session(&self, profile: &ProfileName) -> Result<Option<Session>> {
        let bytes = self.items()?.get(profile, ItemKind::Session)?;
        Ok(bytes.and_then(|bytes| Session::from_item_bytes(&bytes).ok()))
    }

    pub fn set_session(&self, profile: &ProfileName, session: &Session) -> Result<()> {
        let bytes = session.to_item_bytes();
        self.change(profile, |items| {
            items.set(profile, ItemKind::Session, &bytes)
        })
    }

    /// Drops the cached session; `false` when there was none.
    pub fn delete_session(&self, profile: &ProfileName) -> Result<bool> {
        self.change(profile, |items| items.delete(profile, ItemKind::Session))
    }

    /// `awskeep unlock`: on the file store, keeps its key for `timeout` (else the configured one)
    /// unless it is kept already and neither a timeout nor a passphrase variable was given; on
    /// another store, reads it, which is what opens it (where its keyring is locked, a desktop
    /// session shows that keyring's own unlock prompt, and elsewhere this fails as locked).
    pub fn unlock(&self, timeout: Option<UnlockTimeout>) -> Result<Unlock> {
        let Items::File(file) = &self.items else {
            self.list()?;
            return Ok(Unlock::ByItsKeyring);
        };
        file.unlock(timeout)
    }

    /// `awskeep lock`: forgets the file store's kept key. Opens nothing: a store that is not there
    /// or not unlocked stays as it is.
    pub fn lock(&self) -> Result<Locked> {
        let Items::File(file) = &self.items else {
            return Ok(Locked::NoneKept);
        };
        Ok(if file.lock_now()? {
            Locked::Forgot
        } else if file.exists() {
            Locked::NoneKept
        } else {
            Locked::NoStore
        })
    }

    /// Whether later commands find the store open (`doctor`, a rotation's deferred retirement).
    pub fn openness(&self) -> Openness {
        let Items::File(file) = &self.items else {
            return Openness::ByItsKeyring;
        };
        Openness::File {
            dir: file.dir().to_path_buf(),
            exists: file.exists(),
            unlocked_for: file.unlocked_for().ok().flatten(),
            passphrase_variable: file.passphrase_from_environment(),
        }
    }

    /// For a long-running process (`serve`): the file store keeps no key of its own from now on
    /// (`FileStore::hold_no_key`); `true` there, `false` on a store that never holds one.
    pub fn hold_no_key(&self) -> bool {
        let Items::File(file) = &self.items else {
            return false;
        };
        file.hold_no_key();
        true
    }
}
