//! `awskeep unlock` and `awskeep lock`: open the encrypted file store for every login of the user
//! (its passphrase asked once, the master key kept in the user's kernel keyring for a bounded time)
//! and close it again at once, for all of them. Other stores are opened by the system and have nothing to unlock here; `lock`
//! also drops the credential cache in front of the Secret Service (every login's entries at once),
//! whichever store it locks.

use crate::cli::UnlockArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::store::CredentialStore;

pub fn unlock(ctx: &Context, store: &dyn CredentialStore, args: UnlockArgs) -> Result<()> {
    let file = store.as_file_store().ok_or(Error::NotFileStore {
        store: store.display_name(),
    })?;
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
        return Err(Error::UnlockNotKept { reason });
    }
    output::say(&format!(
        "The file store ({}) is unlocked for {} ({}), for every login of yours; `awskeep lock` locks it now.",
        file.dir().display(),
        timeout,
        unlocked.cache
    ));
    Ok(())
}

pub fn lock(ctx: &Context, store: &dyn CredentialStore) -> Result<()> {
    // Whichever store is locked, the Secret Service's credential cache goes too (every login's).
    if crate::store::drop_credential_cache(ctx)? {
        output::say("The credential cache is dropped; the next call reads the Secret Service.");
    }
    if store.cred_cache().is_some() {
        return Ok(());
    }
    let file = store.as_file_store().ok_or(Error::NotFileStore {
        store: store.display_name(),
    })?;
    if file.lock_now()? {
        output::say("The file store is locked.");
    } else {
        output::say("The file store was not unlocked.");
    }
    Ok(())
}
