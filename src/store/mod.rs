//! The credential store: a trait with one implementation per backend. Commands receive a
//! `&dyn CredentialStore` and never know which backend they got. Each profile's key is one item,
//! named by the service `awskeep` and the profile name, holding the key and its metadata as JSON;
//! its cached session is a second item (`PROFILE:session`), and one index item (`:index`) lists the
//! profiles, so enumerating them never depends on a store's search. The encrypted file store
//! (`file.rs`) keeps the same items in one encrypted file; `choice.rs` picks a store when none was
//! named. On Linux the Secret Service is opened behind `Cached`: the credential cache
//! (`cred_cache.rs`) is dropped before and after every change, and (for `credential-process`) the
//! D-Bus connection is made only when the cache cannot answer.

pub mod choice;
#[cfg(test)]
mod contract_double;
pub mod cred_cache;
pub mod file;
#[cfg(test)]
mod file_tests;
mod index;
pub mod key_cache;
mod keyring;
pub mod kind;
#[cfg(test)]
pub mod memory;
#[cfg(target_os = "linux")]
mod secret_service_check;
#[cfg(test)]
mod tests;
pub mod unlock;

use std::path::PathBuf;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::Session;

pub use index::NEWER as NEWER_INDEX;
pub use kind::StoreKind;

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
    /// The encrypted file store behind this one, for `unlock` and `lock`.
    fn as_file_store(&self) -> Option<&file::FileStore> {
        None
    }
    /// The credential cache in front of this store, where it has one (the Secret Service on Linux).
    fn cred_cache(&self) -> Option<&cred_cache::CredCache> {
        None
    }
}

/// Whether the command about to run may leave the store unopened until it is used:
/// `credential-process`, whose cache hit needs no store at all. Every other command opens it at
/// once, so a store that does not open fails it before anything else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    Now,
    WhenUsed,
}

/// An open store and how it was chosen.
pub struct Opened {
    pub store: Box<dyn CredentialStore>,
    pub kind: StoreKind,
    pub reason: choice::Reason,
    /// Keeps `store move` out while this command runs (`choice::MOVE_LOCK`); `None` without a data
    /// folder, where no move can run either. Held for its `Drop`, never read.
    pub _in_use: Option<choice::InUse>,
}

/// The folder of the file store and the recorded choice: `$XDG_DATA_HOME/awskeep`.
pub fn data_dir(ctx: &Context) -> Result<PathBuf> {
    ctx.store_env.data_dir.clone().ok_or(Error::NoHome)
}

/// What a lock or folder check on awskeep's data folder (the file store, the store choice record,
/// the credential cache's generation) failing means to the user.
pub(crate) fn data_dir_error(error: crate::lock::LockError) -> Error {
    match error {
        crate::lock::LockError::TimedOut { path } => Error::StoreIndexBusy { path },
        crate::lock::LockError::Io { path, source } => Error::WriteFile { path, source },
        crate::lock::LockError::Unsafe { path, reason } => Error::UnsafeStoreDir { path, reason },
    }
}

/// Opens the store `--store` names, else the recorded one, else the one the probe picks (recorded
/// by its first write).
/// Waits first for a `store move` in progress, and keeps the next one out while the result lives.
pub fn open(asked: Option<StoreKind>, ctx: &Context, opening: Opening) -> Result<Opened> {
    let in_use = match &ctx.store_env.data_dir {
        Some(dir) => Some(choice::in_use(dir)?),
        None => None,
    };
    let (kind, reason) = choose(asked, ctx)?;
    let store = open_kind_when(kind, ctx, opening)?;
    let store = match &reason {
        choice::Reason::Probed(_) => Box::new(RecordOnWrite {
            inner: store,
            kind,
            dir: data_dir(ctx)?,
            done: std::cell::Cell::new(false),
        }) as Box<dyn CredentialStore>,
        _ => store,
    };
    Ok(Opened {
        store,
        kind,
        reason,
        _in_use: in_use,
    })
}

/// The store `--store` names, else the recorded one, else the one the probe picks, and why; opens
/// nothing (`lock` needs no store open to forget what awskeep keeps).
pub fn choose(asked: Option<StoreKind>, ctx: &Context) -> Result<(StoreKind, choice::Reason)> {
    if let Some(kind) = asked {
        return Ok((kind, choice::Reason::Asked));
    }
    let dir = data_dir(ctx)?;
    let recorded = choice::recorded(&dir)?;
    let graphical = ctx.store_env.graphical_session;
    // Without a desktop, a Secret Service the bus could start is worth using only if one is
    // starting right now: it gets `OWNER_WAIT` to take its name.
    #[cfg(target_os = "linux")]
    let probe = || {
        choice::probe_secret_service(
            choice::PROBE_LIMIT,
            (!graphical).then_some(choice::OWNER_WAIT),
        )
    };
    #[cfg(not(target_os = "linux"))]
    let probe = || choice::Probe::Absent("not probed");
    choice::decide(
        recorded,
        &dir.join(choice::RECORD_FILE),
        dir.join(file::MASTER_FILE).exists(),
        graphical,
        probe,
    )
}

/// Opens one store.
pub fn open_kind(kind: StoreKind, ctx: &Context) -> Result<Box<dyn CredentialStore>> {
    open_kind_when(kind, ctx, Opening::Now)
}

fn open_kind_when(
    kind: StoreKind,
    ctx: &Context,
    opening: Opening,
) -> Result<Box<dyn CredentialStore>> {
    match kind {
        StoreKind::File => Ok(Box::new(open_file_store(ctx, None)?)),
        #[cfg(target_os = "linux")]
        StoreKind::SecretService => {
            let lock_dir = ctx.lock_dir.clone();
            let can_prompt = ctx.store_env.graphical_session;
            let open = move || {
                // Without a desktop session no unlock prompt can show, and the store crate would
                // wait for one forever: a locked store fails at once instead, as the first such
                // caller's dismissed prompt does; so does a Secret Service that does not answer.
                if !can_prompt {
                    let store = keyring::Flavor::SecretService.display_name();
                    match secret_service_check::readiness() {
                        secret_service_check::Readiness::Ready => {}
                        secret_service_check::Readiness::Locked => {
                            return Err(Error::StoreLocked { store });
                        }
                        secret_service_check::Readiness::NotAnswering => {
                            return Err(Error::StoreUnavailable {
                                store,
                                reason: format!(
                                    "it did not answer within {} s (is gnome-keyring-daemon stopped or stuck?)",
                                    secret_service_check::CALL_TIMEOUT.as_secs()
                                ),
                            });
                        }
                    }
                }
                keyring::open(StoreKind::SecretService, lock_dir.clone())
            };
            let Some(cache) = secret_service_cache(ctx) else {
                // No kernel keyring (keyctl refused) or no home folder: no cache.
                return open();
            };
            let cached = Cached {
                name: keyring::Flavor::SecretService.display_name(),
                open: Box::new(open),
                inner: std::cell::OnceCell::new(),
                cache,
            };
            if opening == Opening::Now {
                cached.store()?;
            }
            Ok(Box::new(cached))
        }
        #[allow(unreachable_patterns, reason = "every other kind is an OS keychain")]
        other => {
            let _ = opening;
            keyring::open(other, ctx.lock_dir.clone())
        }
    }
}

/// The credential cache in front of this environment's Secret Service (its bus), without opening
/// it; `None` where there is none (no kernel keyring, no home folder, not Linux).
fn secret_service_cache(ctx: &Context) -> Option<cred_cache::CredCache> {
    #[cfg(target_os = "linux")]
    {
        let ring = key_cache::login_session()?;
        let scope = format!(
            "secret-service\n{}",
            ctx.store_env.session_bus.as_deref().unwrap_or("")
        );
        Some(cred_cache::CredCache::new(
            ring,
            Box::new(secret_service_check::SecretServiceCheck),
            ctx.store_env.data_dir.clone()?,
            scope,
        ))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = ctx;
        None
    }
}

/// Drops the Secret Service's credential cache in every login (`awskeep lock`, whichever store it
/// locks); `false` where there is no cache.
pub fn drop_credential_cache(ctx: &Context) -> Result<bool> {
    match secret_service_cache(ctx) {
        Some(cache) => cache.invalidate(None).map(|()| true),
        None => Ok(false),
    }
}

/// A store with the credential cache in front: opened on first use, and every change drops the
/// cache first (and once more after it, for a reader that read the store in between).
#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "Linux only"))]
struct Cached {
    name: &'static str,
    open: Box<dyn Fn() -> Result<Box<dyn CredentialStore>>>,
    inner: std::cell::OnceCell<Box<dyn CredentialStore>>,
    cache: cred_cache::CredCache,
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "Linux only"))]
impl Cached {
    fn store(&self) -> Result<&dyn CredentialStore> {
        if let Some(store) = self.inner.get() {
            return Ok(store.as_ref());
        }
        let opened = (self.open)()?;
        Ok(self.inner.get_or_init(|| opened).as_ref())
    }

    /// Every change to the store goes through here.
    fn change<T>(
        &self,
        profile: &ProfileName,
        op: impl FnOnce(&dyn CredentialStore) -> Result<T>,
    ) -> Result<T> {
        self.cache.invalidate(Some(profile))?;
        let result = op(self.store()?);
        let after = self.cache.invalidate(Some(profile));
        let value = result?;
        after?;
        Ok(value)
    }
}

impl CredentialStore for Cached {
    fn display_name(&self) -> &'static str {
        self.name
    }
    fn get(&self, profile: &ProfileName) -> Result<Option<StoredKey>> {
        self.store()?.get(profile)
    }
    fn set(&self, profile: &ProfileName, key: &StoredKey) -> Result<()> {
        self.change(profile, |s| s.set(profile, key))
    }
    fn delete(&self, profile: &ProfileName) -> Result<bool> {
        self.change(profile, |s| s.delete(profile))
    }
    fn list(&self) -> Result<Vec<ProfileName>> {
        self.store()?.list()
    }
    fn get_session(&self, profile: &ProfileName) -> Result<Option<Session>> {
        self.store()?.get_session(profile)
    }
    fn set_session(&self, profile: &ProfileName, session: &Session) -> Result<()> {
        self.change(profile, |s| s.set_session(profile, session))
    }
    fn delete_session(&self, profile: &ProfileName) -> Result<bool> {
        self.change(profile, |s| s.delete_session(profile))
    }
    fn cred_cache(&self) -> Option<&cred_cache::CredCache> {
        Some(&self.cache)
    }
}

/// The file store with this environment's passphrase sources; `timeout` overrides the unlock
/// timeout setting.
pub fn open_file_store(
    ctx: &Context,
    timeout: Option<unlock::UnlockTimeout>,
) -> Result<file::FileStore> {
    let env = &ctx.store_env;
    let sources = unlock::PassphraseSources {
        env: env.file_passphrase.clone(),
        command: env.file_passphrase_command.clone(),
        terminal: true,
        scrypt_log_n: env.test_scrypt_log_n,
        command_deadline: ctx.helper_deadlines.command,
    };
    let timeout = match timeout {
        Some(t) => t,
        None => unlock_timeout(ctx)?,
    };
    Ok(file::FileStore::new(
        data_dir(ctx)?,
        sources,
        key_cache::platform(),
        timeout,
        ctx.verbose,
    ))
}

/// `AWSKEEP_UNLOCK_TIMEOUT`, else `awskeep_unlock_timeout` in the `[default]` section of
/// ~/.aws/config, else 8 hours.
pub fn unlock_timeout(ctx: &Context) -> Result<unlock::UnlockTimeout> {
    let parse = |text: &str, key: &'static str| {
        unlock::UnlockTimeout::parse(text).map_err(|reason| Error::BadSetting {
            profile: "default".into(),
            key,
            reason,
        })
    };
    if let Some(text) = &ctx.store_env.unlock_timeout {
        return parse(text, "AWSKEEP_UNLOCK_TIMEOUT");
    }
    let config = crate::config_file::read_profile_leniently(
        &ctx.config_file,
        crate::profile::FileKind::Config,
        "default",
    )?;
    match config.get("default", "awskeep_unlock_timeout") {
        Some(text) => parse(text, "awskeep_unlock_timeout"),
        None => Ok(unlock::UnlockTimeout::DEFAULT),
    }
}

/// A store the probe chose: the choice is recorded right before its first write, so later
/// commands keep using it whatever the next login's bus says.
struct RecordOnWrite {
    inner: Box<dyn CredentialStore>,
    kind: StoreKind,
    dir: PathBuf,
    done: std::cell::Cell<bool>,
}

impl RecordOnWrite {
    fn record(&self) -> Result<()> {
        if !self.done.get() {
            choice::record(&self.dir, self.kind)?;
            self.done.set(true);
        }
        Ok(())
    }
}

impl CredentialStore for RecordOnWrite {
    fn display_name(&self) -> &'static str {
        self.inner.display_name()
    }
    fn get(&self, profile: &ProfileName) -> Result<Option<StoredKey>> {
        self.inner.get(profile)
    }
    /// The choice is recorded only once a write succeeded: a failed first write (no passphrase, no
    /// terminal) must not tie the machine to a store that holds nothing.
    fn set(&self, profile: &ProfileName, key: &StoredKey) -> Result<()> {
        self.inner.set(profile, key)?;
        self.record()
    }
    fn delete(&self, profile: &ProfileName) -> Result<bool> {
        self.inner.delete(profile)
    }
    fn list(&self) -> Result<Vec<ProfileName>> {
        self.inner.list()
    }
    fn get_session(&self, profile: &ProfileName) -> Result<Option<Session>> {
        self.inner.get_session(profile)
    }
    fn set_session(&self, profile: &ProfileName, session: &Session) -> Result<()> {
        self.inner.set_session(profile, session)
    }
    fn delete_session(&self, profile: &ProfileName) -> Result<bool> {
        self.inner.delete_session(profile)
    }
    fn as_file_store(&self) -> Option<&file::FileStore> {
        self.inner.as_file_store()
    }
    fn cred_cache(&self) -> Option<&cred_cache::CredCache> {
        self.inner.cred_cache()
    }
}

#[cfg(test)]
mod record_on_write_tests {
    use super::*;
    use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey};

    fn key() -> StoredKey {
        StoredKey::new(
            KeyPair {
                access_key_id: AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap(),
                secret_access_key: SecretAccessKey::parse("secret").unwrap(),
            },
            None,
            std::time::SystemTime::now(),
        )
    }

    #[test]
    fn a_failed_first_write_records_no_choice_and_a_good_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let inner = memory::MemoryStore::default();
        inner.fail_call(
            1,
            Error::StoreLocked {
                store: "Secret Service",
            },
        );
        let store = RecordOnWrite {
            inner: Box::new(inner),
            kind: StoreKind::File,
            dir: dir.path().to_path_buf(),
            done: std::cell::Cell::new(false),
        };
        let profile = ProfileName::parse("dev").unwrap();
        assert!(store.set(&profile, &key()).is_err());
        assert_eq!(choice::recorded(dir.path()).unwrap(), None);
        store.set(&profile, &key()).unwrap();
        assert_eq!(choice::recorded(dir.path()).unwrap(), Some(StoreKind::File));
    }
}
