//! What `bootstrap` shares about a key IAM made: keeping Ctrl-C from killing the process between
//! CreateAccessKey and the store write, and deleting the key again when it cannot be stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::aws::Source;
use crate::error::Error;
use crate::output;
use crate::secret::AccessKeyId;

/// Ctrl-C and SIGTERM set a flag that the commands check at safe points, instead of killing the
/// process between CreateAccessKey and the store write.
pub fn defer_interrupts() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let setter = Arc::clone(&flag);
    if ctrlc::set_handler(move || setter.store(true, Ordering::SeqCst)).is_err() {
        output::say(
            "awskeep: could not install the Ctrl-C handler; interrupting now may leave a key in IAM.",
        );
    }
    flag
}

/// After `cause` kept a just-created key from being stored: delete it in IAM again, so no key exists
/// whose secret nobody holds, and say which way it went.
pub fn roll_back(source: &dyn Source, user: &str, key_id: &AccessKeyId, cause: Error) -> Error {
    let outcome = match source.delete_access_key(user, key_id) {
        Ok(()) => format!(
            "the new key {key_id} was deleted in IAM again, so no key is left that nobody holds"
        ),
        Err(e) => format!(
            "and deleting the new key failed too ({}): delete it with `aws iam delete-access-key --user-name {user} --access-key-id {}`",
            e.cause_line(),
            key_id.as_str()
        ),
    };
    Error::NewKeyRolledBack {
        cause_line: cause.cause_line(),
        outcome,
    }
}
