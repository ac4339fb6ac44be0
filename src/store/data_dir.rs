//! awskeep's data folder, `$XDG_DATA_HOME/awskeep`: the file store, the recorded store choice and
//! the credential cache's generation live there. Where it is, and what a lock or folder check
//! failing there means to the user.

use std::path::PathBuf;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::lock::LockError;

/// The folder of the file store and the recorded choice: `$XDG_DATA_HOME/awskeep`.
pub fn data_dir(ctx: &Context) -> Result<PathBuf> {
    ctx.store_env.data_dir.clone().ok_or(Error::NoHome)
}

/// What a lock or folder check on awskeep's data folder (the file store, the store choice record,
/// the credential cache's generation) failing means to the user.
pub(crate) fn data_dir_error(error: LockError) -> Error {
    match error {
        LockError::Unsafe { path, reason } => Error::UnsafeStoreDir { path, reason },
        other => other.into_error(|path| Error::StoreIndexBusy { path }),
    }
}
