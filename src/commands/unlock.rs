//! `awskeep unlock` and `awskeep lock`, for the store this machine uses (`--store` names another).
//! On the encrypted file store, `unlock` asks its passphrase once and keeps the master key in the
//! user's kernel keyring for a bounded time, which every login of the user shares, and `lock`
//! forgets it at once, for all of them. Other stores are unlocked by their own keyring (the desktop
//! login, Seahorse, the OS): there `unlock` creates nothing and only makes sure the store is open
//! (in a desktop session, its own keyring asks for its password), and `lock` drops awskeep's
//! credential cache in front of the Secret Service. `lock` always forgets everything awskeep keeps
//! open, whichever store is in use, and its message names the store in use first.

use crate::cli::UnlockArgs;
use crate::context::Context;
use crate::error::Result;
use crate::output;
use crate::store::{self, CredentialStore, StoreKind};

pub fn unlock(ctx: &Context, store: &dyn CredentialStore, args: UnlockArgs) -> Result<()> {
    let Some(file) = store.as_file_store() else {
        // Reading the store is what opens it: where its keyring is locked, a desktop session
        // shows that keyring's own unlock prompt, and elsewhere this fails as locked.
        store.list()?;
        output::say(&format!(
            "awskeep keeps its keys in the {} here, which its own keyring unlocks (your login, or its keyring app); it is unlocked, so there is nothing for `awskeep unlock` to do (`awskeep --store file unlock` acts on the file store, which awskeep does not use here).",
            store.display_name()
        ));
        return Ok(());
    };
    // Already unlocked: say so, and for how long, rather than ask again (login scripts run
    // `awskeep unlock || exit`). `--timeout` unlocks again for that long; so does a passphrase
    // given in the environment, which is checked rather than taken on trust.
    if args.timeout.is_none()
        && file.passphrase_from_environment().is_none()
        && let Some(left) = file.unlocked_for()?
    {
        let left = left.map(|l| format!(" for {l}")).unwrap_or_default();
        output::say(&format!(
            "The file store ({}) is already unlocked{left}, for every login of yours; `awskeep lock` locks it now, `awskeep unlock --timeout DURATION` unlocks it again for that long.",
            file.dir().display()
        ));
        return Ok(());
    }
    let timeout = match args.timeout {
        Some(t) => t,
        None => crate::store::unlock_timeout(ctx)?,
    };
    let unlocked = file.unlock(timeout)?;
    if let Err(reason) = unlocked.kept {
        return Err(crate::error::Error::UnlockNotKept { reason });
    }
    output::say(&format!(
        "The file store ({}) is unlocked for {} ({}), for every login of yours; `awskeep lock` locks it now.",
        file.dir().display(),
        timeout,
        unlocked.cache
    ));
    Ok(())
}

/// Forgets the file store's kept key and drops the Secret Service's credential cache, whichever
/// store is in use; says what that meant for the store in use. Opens no store: a locked or
/// unreachable Secret Service does not stop a lock.
pub fn lock(ctx: &Context, asked: Option<StoreKind>) -> Result<()> {
    // A bus that does not answer leaves the store in use unknown; everything is locked anyway.
    let in_use = store::choose(asked, ctx).ok().map(|(kind, _)| kind);
    let cache_dropped = store::drop_credential_cache(ctx)?;
    let file = store::open_file_store(ctx, None)?;
    let file_locked = file.lock_now()?;
    let dir = file.dir().display();
    let file_message = if file_locked {
        format!(
            "The file store ({dir}) is locked, for every login of yours: the next command asks for its passphrase (`awskeep unlock` keeps it open again)."
        )
    } else if file.exists() {
        format!("The file store ({dir}) was not unlocked; it stays locked.")
    } else {
        format!("There is no file store in {dir} yet; nothing to lock.")
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
