//! Keeping Ctrl-C and SIGTERM from killing the process between two steps that must happen together:
//! for `bootstrap` and `rotate`, between CreateAccessKey and the store write (`aws::iam::Iam::roll_back`
//! deletes a key that could not be stored).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::output;

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
