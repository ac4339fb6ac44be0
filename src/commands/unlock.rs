//! `awskeep unlock` and `awskeep lock`, for the store this machine uses (`--store` names another).
//! On the encrypted file store, `unlock` asks its passphrase once and keeps the master key in the
//! user's kernel keyring for a bounded time, which every login of the user shares, and `lock`
//! forgets it at once, for all of them. Other stores are unlocked by their own keyring (the desktop
//! login, Seahorse, the OS): there `unlock` creates nothing and only makes sure the store is open
//! (in a desktop session, its own keyring asks for its password), and `lock` drops awskeep's
//! credential cache in front of the Secret Service. `lock` always forgets everything awskeep keeps
//! open, whichever store is in use, and its message names the store in use first.

use crate::cli::UnlockArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::Result;
use crate::output;
use crate::profile::{Document, FileKind};
use crate::settings::{self, UnlockTimeout};
use crate::store::data_dir::data_dir;
use crate::store::facade::CredentialStore;
use crate::store::kind::StoreKind;
use crate::store::open;
use crate::store::unlock::{Locked, Unlock};

pub fn unlock(store: &CredentialStore, args: UnlockArgs) -> Result<()> {
    let message = match store.unlock(args.timeout)? {
        Unlock::ByItsKeyring => format!(
            "awskeep keeps its keys in the {} here, which its own keyring unlocks (your login, or its keyring app); it is unlocked, so there is nothing for `awskeep unlock` to do (`awskeep --store file unlock` acts on the file store, which awskeep does not use here).",
            store.display_name()
        ),
        Unlock::AlreadyUnlocked { dir, left } => {
            let left = left.map(|l| format!(" for {l}")).unwrap_or_default();
            format!(
                "The file store ({}) is already unlocked{left}, for every login of yours; `awskeep lock` locks it now, `awskeep unlock --timeout DURATION` unlocks it again for that long.",
                dir.display()
            )
        }
        Unlock::Unlocked {
            dir,
            timeout,
            cache,
        } => format!(
            "The file store ({}) is unlocked for {} ({}), for every login of yours; `awskeep lock` locks it now.",
            dir.display(),
            timeout,
            cache
        ),
    };
    output::say(&message);
    Ok(())
}

/// The file store's unlock timeout as the user set it (`settings::unlock_timeout`), for the
/// commands that open a store to pass in: `~/.aws/config` is read only when the variable does
/// not say it.
pub fn unlock_timeout(ctx: &Context) -> Result<UnlockTimeout> {
    let from_env = ctx.store_env.unlock_timeout.as_deref();
    let config = match from_env {
        Some(_) => Document::parse_profile_leniently("", FileKind::Config, "default").0,
        None => config_file::read_profile_leniently(&ctx.config_file, FileKind::Config, "default")?,
    };
    settings::unlock_timeout(from_env, &config)
}

/// Forgets the file store's kept key and drops the Secret Service's credential cache, whichever
/// store is in use; says what that meant for the store in use. Opens no store: a locked or
/// unreachable Secret Service does not stop a lock.
pub fn lock(ctx: &Context, asked: Option<StoreKind>) -> Result<()> {
    // A bus that does not answer leaves the store in use unknown; everything is locked anyway.
    let in_use = open::choose(asked, ctx).ok().map(|(kind, _)| kind);
    let cache_dropped = open::drop_credential_cache(ctx)?;
    let timeout = || unlock_timeout(ctx);
    let file = open::open_kind(StoreKind::File, ctx, open::Opening::Now, &timeout)?;
    let locked = file.lock()?;
    let file_locked = locked == Locked::Forgot;
    let dir = data_dir(ctx)?;
    let dir = dir.display();
    let file_message = match locked {
        Locked::Forgot => format!(
            "The file store ({dir}) is locked, for every login of yours: the next command asks for its passphrase (`awskeep unlock` keeps it open again)."
        ),
        Locked::NoneKept => format!("The file store ({dir}) was not unlocked; it stays locked."),
        Locked::NoStore => format!("There is no file store in {dir} yet; nothing to lock."),
    };
    let message = match in_use {
        Some(StoreKind::File) => file_message,
        Some(kind) => {
            let name = kind.display_name();
            let cache = if cache_dropped {
                format!(
                    "`awskeep lock` dropped awskeep's credential cache, in every login of yours, so the next call reads the {name} again"
                )
            } else {
                "awskeep keeps no credential cache in front of it here, so there was nothing for `awskeep lock` to drop".into()
            };
            let also = if file_locked {
                format!(" The file store ({dir}), which awskeep does not use here, is locked too.")
            } else {
                String::new()
            };
            format!(
                "awskeep keeps its keys in the {name} here, which its own keyring locks (its keyring app, or your desktop's lock); {cache}.{also}"
            )
        }
        None => {
            let cache = if cache_dropped {
                " The credential cache in front of the Secret Service is dropped."
            } else {
                ""
            };
            format!("{file_message}{cache}")
        }
    };
    output::say(&message);
    Ok(())
}
