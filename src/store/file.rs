//! The encrypted-file store (`--store file`), for Linux without a Secret Service (WSL, SSH sessions,
//! dev containers, servers) and anywhere else the user asks for it. Two files in a private folder,
//! `$XDG_DATA_HOME/awskeep` (0700):
//!
//! - `master.age`: an age X25519 identity (the master key), encrypted with the passphrase (age's
//!   scrypt recipient, as `rage -p`);
//! - `items.age`: every item (keys with their rotation state, cached sessions) as one JSON document,
//!   encrypted to that identity. Its map keys are the profile names (`NAME`, `NAME:session`), so the
//!   profile index is the map itself.
//!
//! File names say nothing about what is stored. Writes take `items.lock` (flock), read the document
//! again under it, and replace the file atomically (temp file 0600 in the folder, fsync, rename,
//! folder fsync); readers need no lock. Files that are symlinks or belong to another user are refused.
//! The master key comes from `unlock` (kernel keyring cache, passphrase sources); this module never
//! sees a passphrase beyond handing it to age.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::data_dir::data_dir_error;
use super::item::{ItemKind, ItemStore};
use super::key_cache::KeyCache;
use super::kind::StoreKind;
use super::unlock::{self, PassphraseSources, Unlock, UnlockTimeout};
use crate::error::{Error, Result};
use crate::lock::FileLock;
use crate::profile_name::ProfileName;

/// The store's name in messages.
pub const NAME: &str = StoreKind::File.display_name();
pub const MASTER_FILE: &str = "master.age";
pub const ITEMS_FILE: &str = "items.age";
const LOCK_FILE: &str = "items.lock";
/// How long a write waits for another awskeep's write (each is one small file).
const LOCK_WAIT: Duration = Duration::from_secs(20);

pub struct FileStore {
    dir: PathBuf,
    sources: PassphraseSources,
    cache: Box<dyn KeyCache>,
    /// How long an unlock made by a command (not `awskeep unlock`) lasts.
    timeout: UnlockTimeout,
    verbose: bool,
    /// The master key, once this process has it (never while `unattended`).
    identity: RefCell<Option<age::x25519::Identity>>,
    /// Set by `serve` (`hold_no_key`): every use takes the key anew, and no terminal is asked.
    unattended: Cell<bool>,
}

/// What `items.age` holds.
#[derive(Default, Serialize, Deserialize)]
struct Items {
    version: u32,
    items: BTreeMap<String, String>,
}

impl Drop for Items {
    fn drop(&mut self) {
        for value in self.items.values_mut() {
            value.zeroize();
        }
    }
}

impl FileStore {
    pub fn new(
        dir: PathBuf,
        sources: PassphraseSources,
        cache: Box<dyn KeyCache>,
        timeout: UnlockTimeout,
        verbose: bool,
    ) -> Self {
        Self {
            dir,
            sources,
            cache,
            timeout,
            verbose,
            identity: RefCell::new(None),
            unattended: Cell::new(false),
        }
    }

    /// For a long-running process (`serve`): from now on this process keeps no master key of its
    /// own. Each use takes it where `credential-process` would, the kernel keyring (or
    /// `AWSKEEP_FILE_PASSPHRASE` / `_COMMAND` when set), and never asks the terminal: once
    /// `awskeep lock` or the unlock timeout has dropped the keyring's entry, every use fails as
    /// locked, naming `awskeep unlock`, until the store is unlocked again.
    pub fn hold_no_key(&self) {
        self.unattended.set(true);
        *self.identity.borrow_mut() = None;
    }

    /// The passphrase sources a use may ask now: never the terminal once `unattended`.
    fn sources(&self) -> PassphraseSources {
        PassphraseSources {
            terminal: self.sources.terminal && !self.unattended.get(),
            ..self.sources.clone()
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a store exists here (its passphrase file does), without opening it.
    pub fn exists(&self) -> bool {
        std::fs::symlink_metadata(self.path(MASTER_FILE)).is_ok()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn trace(&self, message: &str) {
        crate::output::trace(self.verbose, message);
    }

    /// `awskeep unlock`: asks for the passphrase (or takes it from the environment) and keeps the
    /// master key in the kernel keyring for `timeout` (else the configured one); creates the store
    /// when there is none. Already unlocked, with neither a timeout nor a passphrase variable
    /// given, it says so rather than ask again (login scripts run `awskeep unlock || exit`); a
    /// variable's passphrase is checked rather than taken on trust. A key the kernel keyring
    /// refuses is `UnlockNotKept`, though the store is open for this process.
    pub fn unlock(&self, timeout: Option<UnlockTimeout>) -> Result<Unlock> {
        if timeout.is_none()
            && self.passphrase_from_environment().is_none()
            && let Some(left) = self.unlocked_for()?
        {
            let dir = self.dir.clone();
            return Ok(Unlock::AlreadyUnlocked { dir, left });
        }
        // Unlocked already, and asked for a new timeout: that takes the passphrase again, and
        // without a terminal the error must not say the store is locked.
        let unlocked_now = self.unlocked_for()?;
        let timeout = timeout.unwrap_or(self.timeout);
        let _lock = self.lock()?;
        let master_path = self.path(MASTER_FILE);
        let (identity, master) = match read_private(&master_path)? {
            Some(bytes) => {
                let passphrase =
                    self.sources.existing(&self.dir)?.ok_or_else(|| {
                        match unlocked_now.clone() {
                            Some(left) => Error::UnlockAgainNeedsPassphrase {
                                dir: self.dir.clone(),
                                left: left.map(|l| format!(" for {l}")).unwrap_or_default(),
                            },
                            None => Error::FileStoreLocked {
                                dir: self.dir.clone(),
                            },
                        }
                    })?;
                let identity = unlock::open_master(&master_path, &bytes, &passphrase)?;
                (identity, bytes)
            }
            None => self.create_master()?,
        };
        // The items must open with this key, or the folder holds files of two stores.
        if let Some(bytes) = read_private(&self.path(ITEMS_FILE))? {
            decrypt_items(&self.path(ITEMS_FILE), &bytes, &identity)?;
        }
        let name = unlock::cache_name(&master);
        let kept = self.cache.put(
            &name,
            &unlock::identity_secret(&identity),
            timeout.duration(),
        );
        *self.identity.borrow_mut() = Some(identity);
        kept.map_err(|reason| Error::UnlockNotKept { reason })?;
        Ok(Unlock::Unlocked {
            dir: self.dir.clone(),
            timeout,
            cache: self.cache.describe(),
        })
    }

    /// Whether the kernel keyring holds this store's master key (a later process needs no
    /// passphrase): `Some` with the time left when the cache can say it, `None` when locked.
    pub fn unlocked_for(&self) -> Result<Option<Option<String>>> {
        let Some(bytes) = read_private(&self.path(MASTER_FILE))? else {
            return Ok(None);
        };
        let name = unlock::cache_name(&bytes);
        Ok(unlock::cached(self.cache.as_ref(), &name).map(|_| self.cache.remaining(&name)))
    }

    /// Forgets the kept master key; `false` when it was not kept.
    pub fn lock_now(&self) -> Result<bool> {
        *self.identity.borrow_mut() = None;
        match read_private(&self.path(MASTER_FILE))? {
            Some(bytes) => Ok(self.cache.forget(&unlock::cache_name(&bytes))),
            None => Ok(false),
        }
    }

    /// Whether the passphrase comes from the environment (`AWSKEEP_FILE_PASSPHRASE` or `_COMMAND`),
    /// and which variable: it then opens the store for this process only (`identity`).
    pub fn passphrase_from_environment(&self) -> Option<&'static str> {
        self.sources.environment_variable()
    }

    /// The master key: this process's, or opened with a passphrase from the environment (checked
    /// every time, kept by nobody), or the kernel keyring's, or opened with a passphrase asked on
    /// the terminal now (and kept, as `awskeep unlock` keeps it). `create` makes a new store when
    /// there is none (a write); `Ok(None)` when there is none and `create` is false.
    ///
    /// A variable given to one command must not open the store for the user's later commands, nor
    /// be ignored in favour of a key kept by an earlier `unlock`: a wrong value fails here, and a
    /// right one leaves nothing in the kernel keyring.
    fn identity(&self, create: bool) -> Result<Option<age::x25519::Identity>> {
        let unattended = self.unattended.get();
        if !unattended && let Some(identity) = self.identity.borrow().as_ref() {
            return Ok(Some(identity.clone()));
        }
        let master_path = self.path(MASTER_FILE);
        let identity = match read_private(&master_path)? {
            Some(bytes) => {
                let name = unlock::cache_name(&bytes);
                if let Some(variable) = self.sources.environment_variable() {
                    let passphrase = self.sources().existing(&self.dir)?.ok_or_else(|| {
                        Error::FileStoreLocked {
                            dir: self.dir.clone(),
                        }
                    })?;
                    let identity = unlock::open_master(&master_path, &bytes, &passphrase)?;
                    self.trace(&format!(
                        "opened the file store with {variable}, for this command only"
                    ));
                    identity
                } else if let Some(identity) = unlock::cached(self.cache.as_ref(), &name) {
                    self.trace(&format!(
                        "the file store is unlocked ({})",
                        self.cache.describe()
                    ));
                    identity
                } else {
                    let passphrase = self.sources().existing(&self.dir)?.ok_or_else(|| {
                        Error::FileStoreLocked {
                            dir: self.dir.clone(),
                        }
                    })?;
                    let identity = unlock::open_master(&master_path, &bytes, &passphrase)?;
                    // Typed at the terminal: kept, as `awskeep unlock` would keep it.
                    match self.cache.put(
                        &name,
                        &unlock::identity_secret(&identity),
                        self.timeout.duration(),
                    ) {
                        Ok(()) => self.trace(&format!(
                            "unlocked the file store for {} ({})",
                            self.timeout,
                            self.cache.describe()
                        )),
                        Err(why) => self.trace(&format!(
                            "unlocked the file store for this process only: {why}"
                        )),
                    }
                    identity
                }
            }
            None if create => self.create_master()?.0,
            None => return Ok(None),
        };
        if !unattended {
            *self.identity.borrow_mut() = Some(identity.clone());
        }
        Ok(Some(identity))
    }

    /// Writes a new `master.age` (the caller holds the lock); keeps its key when its passphrase
    /// was typed at the terminal (not when it came from the environment: see `identity`).
    fn create_master(&self) -> Result<(age::x25519::Identity, Vec<u8>)> {
        let passphrase = self.sources().new_one(&self.dir)?;
        let (identity, bytes) = unlock::create_master(&passphrase, self.sources.scrypt_log_n)?;
        write_new(&self.path(MASTER_FILE), &bytes)?;
        if let Some(variable) = self.sources.environment_variable() {
            self.trace(&format!(
                "the new store is open with {variable}, for this command only"
            ));
        } else if let Err(why) = self.cache.put(
            &unlock::cache_name(&bytes),
            &unlock::identity_secret(&identity),
            self.timeout.duration(),
        ) {
            self.trace(&format!(
                "the new store's key is kept for this process only: {why}"
            ));
        }
        crate::output::say(&format!(
            "Created the awskeep file store in {}.",
            self.dir.display()
        ));
        Ok((identity, bytes))
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.dir, LOCK_FILE, LOCK_WAIT).map_err(data_dir_error)
    }

    /// The document as stored; empty when there is no store or no item yet (nothing is unlocked).
    fn read(&self) -> Result<Items> {
        let path = self.path(ITEMS_FILE);
        let Some(bytes) = read_private(&path)? else {
            return Ok(Items::default());
        };
        let identity = self
            .identity(false)?
            .ok_or_else(|| Error::FileStoreDamaged {
                path: self.path(MASTER_FILE),
                reason: "it is missing, so items.age beside it cannot be opened",
            })?;
        decrypt_items(&path, &bytes, &identity)
    }

    /// Read-modify-write under the lock; writes only when `change` says it changed something.
    fn modify<R>(&self, change: impl FnOnce(&mut Items) -> (bool, R)) -> Result<R> {
        let _lock = self.lock()?;
        let identity = self
            .identity(true)?
            .ok_or_else(|| Error::FileStoreDamaged {
                path: self.path(MASTER_FILE),
                reason: "it could not be created",
            })?;
        // Read with the key this write encrypts to: one look-up of the key per write.
        let path = self.path(ITEMS_FILE);
        let mut items = match read_private(&path)? {
            Some(bytes) => decrypt_items(&path, &bytes, &identity)?,
            None => Items::default(),
        };
        items.version = 1;
        let (changed, result) = change(&mut items);
        if changed {
            let json =
                Zeroizing::new(serde_json::to_vec(&items).map_err(|e| Error::StoreFailed {
                    store: NAME,
                    reason: e.to_string(),
                })?);
            let bytes =
                age::encrypt(&identity.to_public(), &json).map_err(|e| Error::StoreFailed {
                    store: NAME,
                    reason: format!("cannot encrypt: {e}"),
                })?;
            write_replace(&self.path(ITEMS_FILE), &bytes)?;
        }
        Ok(result)
    }
}

/// The item's key in the document: `NAME`, `NAME:session`.
fn item_name(profile: &ProfileName, kind: ItemKind) -> String {
    format!("{profile}{}", kind.suffix())
}

impl ItemStore for FileStore {
    fn display_name(&self) -> &'static str {
        NAME
    }

    fn get(&self, profile: &ProfileName, kind: ItemKind) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let items = self.read()?;
        let text = items.items.get(&item_name(profile, kind));
        Ok(text.map(|text| Zeroizing::new(text.as_bytes().to_vec())))
    }

    fn set(&self, profile: &ProfileName, kind: ItemKind, bytes: &[u8]) -> Result<()> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::StoreFailed {
                store: NAME,
                reason: "an item is not UTF-8 JSON".into(),
            })?
            .to_string();
        self.modify(|items| {
            if let Some(mut old) = items.items.insert(item_name(profile, kind), text) {
                old.zeroize();
            }
            (true, ())
        })
    }

    fn delete(&self, profile: &ProfileName, kind: ItemKind) -> Result<bool> {
        if read_private(&self.path(ITEMS_FILE))?.is_none() {
            return Ok(false);
        }
        self.modify(
            |items| match items.items.remove(&item_name(profile, kind)) {
                Some(mut old) => {
                    old.zeroize();
                    (true, true)
                }
                None => (false, false),
            },
        )
    }

    fn list(&self) -> Result<Vec<ProfileName>> {
        Ok(self
            .read()?
            .items
            .keys()
            .filter_map(|name| ProfileName::parse(name).ok())
            .collect())
    }
}

fn decrypt_items(path: &Path, bytes: &[u8], identity: &age::x25519::Identity) -> Result<Items> {
    let damaged = |reason| Error::FileStoreDamaged {
        path: path.to_path_buf(),
        reason,
    };
    let plain = age::decrypt(identity, bytes)
        .map(Zeroizing::new)
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => {
                damaged("it was not encrypted to the master key in master.age beside it")
            }
            _ => damaged("it is not a readable age file"),
        })?;
    let items: Items =
        serde_json::from_slice(&plain).map_err(|_| damaged("its content is not awskeep's"))?;
    if items.version != 1 {
        return Err(damaged("it was written by a newer awskeep"));
    }
    Ok(items)
}

/// A store file's bytes; `None` when it does not exist. A symlink, or a file of another user, is
/// refused: awskeep reads and writes only its own files.
fn read_private(path: &Path) -> Result<Option<Vec<u8>>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::ReadFile {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(Error::FileStoreDamaged {
            path: path.to_path_buf(),
            reason: "it is not a regular file (awskeep does not follow links here)",
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(Error::FileStoreForeign {
                path: path.to_path_buf(),
                owner: meta.uid(),
            });
        }
    }
    std::fs::read(path)
        .map(Some)
        .map_err(|source| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })
}

/// A temp file (0600) in the folder with `bytes`, fsynced.
fn temp_with(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let write_err = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".awskeep-tmp-")
        .tempfile_in(folder)
        .map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(write_err)?;
    }
    temp.write_all(bytes).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    Ok(temp)
}

/// Replaces `path` atomically: readers see the old file or the new one.
fn write_replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_with(path, bytes)?;
    temp.persist(path).map_err(|e| Error::WriteFile {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    sync_folder(path);
    Ok(())
}

/// Creates `path`, never replacing one that exists.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_with(path, bytes)?;
    temp.persist_noclobber(path).map_err(|e| Error::WriteFile {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    sync_folder(path);
    Ok(())
}

fn sync_folder(path: &Path) {
    #[cfg(unix)]
    if let Some(folder) = path.parent()
        && let Ok(dir) = std::fs::File::open(folder)
    {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}
