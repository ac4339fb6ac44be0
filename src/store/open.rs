//! Opening the store a command uses: `--store`, else the recorded choice, else the probe's
//! (`choice.rs`), under the store-move lock; the backend for that kind, behind the typed facade;
//! on Linux the Secret Service behind the credential cache, opened when used. The user's settings
//! come from the caller: nothing here reads `~/.aws/config`.

use super::choice;
use super::cred_cache::CredCache;
use super::data_dir::data_dir;
use super::facade::CredentialStore;
use super::file::{FileStore, MASTER_FILE};
use super::key_cache;
use super::keyring;
use super::kind::StoreKind;
use super::unlock::{PassphraseSources, UnlockTimeout};
#[cfg(target_os = "linux")]
use super::{facade::Items, kind::Flavor, secret_service_check};
use crate::context::Context;
#[cfg(target_os = "linux")]
use crate::error::Error;
use crate::error::Result;

/// Whether the command about to run may leave the store unopened until it is used:
/// `credential-process`, whose cache hit needs no store at all. Every other command opens it at
/// once, so a store that does not open fails it before anything else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    Now,
    WhenUsed,
}

/// The file store's unlock timeout as the user set it, read by the caller only when the file store
/// is opened (no other store reads a setting).
pub type UnlockTimeoutSetting<'a> = &'a dyn Fn() -> Result<UnlockTimeout>;

/// An open store and how it was chosen.
pub struct Opened {
    pub store: CredentialStore,
    pub kind: StoreKind,
    pub reason: choice::Reason,
    /// Keeps `store move` out while this command runs (`choice::MOVE_LOCK`); `None` without a data
    /// folder, where no move can run either. Held for its `Drop`, never read.
    pub _in_use: Option<choice::InUse>,
}

/// Opens the store `--store` names, else the recorded one, else the one the probe picks (recorded
/// by its first write).
/// Waits first for a `store move` in progress, and keeps the next one out while the result lives.
pub fn open(
    asked: Option<StoreKind>,
    ctx: &Context,
    opening: Opening,
    unlock_timeout: UnlockTimeoutSetting<'_>,
) -> Result<Opened> {
    let in_use = match &ctx.store_env.data_dir {
        Some(dir) => Some(choice::in_use(dir)?),
        None => None,
    };
    let (kind, reason) = choose(asked, ctx)?;
    let store = open_kind(kind, ctx, opening, unlock_timeout)?;
    if let choice::Reason::Probed(_) = &reason {
        store.record.replace(Some((kind, data_dir(ctx)?)));
    }
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
        dir.join(MASTER_FILE).exists(),
        graphical,
        probe,
    )
}

/// Opens one store.
pub fn open_kind(
    kind: StoreKind,
    ctx: &Context,
    opening: Opening,
    unlock_timeout: UnlockTimeoutSetting<'_>,
) -> Result<CredentialStore> {
    match kind {
        StoreKind::File => {
            let env = &ctx.store_env;
            let sources = PassphraseSources {
                env: env.file_passphrase.clone(),
                command: env.file_passphrase_command.clone(),
                terminal: true,
                scrypt_log_n: env.test_scrypt_log_n,
                command_deadline: ctx.helper_deadlines.command,
            };
            let timeout = unlock_timeout()?;
            let (dir, cache) = (data_dir(ctx)?, key_cache::platform());
            let file = FileStore::new(dir, sources, cache, timeout, ctx.verbose);
            Ok(CredentialStore::file(file))
        }
        #[cfg(target_os = "linux")]
        StoreKind::SecretService => {
            let lock_dir = ctx.lock_dir.clone();
            let can_prompt = ctx.store_env.graphical_session;
            let open = move || {
                // Without a desktop session no unlock prompt can show, and the store crate would
                // wait for one forever: a locked store fails at once instead, as the first such
                // caller's dismissed prompt does; so does a Secret Service that does not answer.
                if !can_prompt {
                    let store = Flavor::SecretService;
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
                return open().map(CredentialStore::new);
            };
            let items = Items::WhenUsed {
                open: Box::new(open),
                opened: std::cell::OnceCell::new(),
            };
            let store = CredentialStore {
                cache: Some(cache),
                ..CredentialStore::with(kind.display_name(), items)
            };
            if opening == Opening::Now {
                store.items()?;
            }
            Ok(store)
        }
        #[allow(unreachable_patterns, reason = "every other kind is an OS keychain")]
        other => {
            let _ = (opening, unlock_timeout);
            keyring::open(other, ctx.lock_dir.clone()).map(CredentialStore::new)
        }
    }
}

/// The credential cache in front of this environment's Secret Service (its bus), without opening
/// it; `None` where there is none (no kernel keyring, no home folder, not Linux).
fn secret_service_cache(ctx: &Context) -> Option<CredCache> {
    #[cfg(target_os = "linux")]
    {
        let ring = key_cache::login_session()?;
        let scope = format!(
            "secret-service\n{}",
            ctx.store_env.session_bus.as_deref().unwrap_or("")
        );
        Some(CredCache::new(
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
