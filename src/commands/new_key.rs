//! What `bootstrap` and `rotate` share once IAM has made a key: waiting until AWS accepts it, and
//! keeping Ctrl-C from killing the process between CreateAccessKey and the store write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::aws::iam::Iam;
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::secret::AccessKeyId;
use crate::secret::{KeyOwner, KeyPair};

/// New keys take seconds to work everywhere: retry GetCallerIdentity with backoff and a spinner on
/// stderr (hidden when stderr is not a terminal), up to `timeout`.
pub fn wait_until_accepted(
    clients: &crate::aws::Clients,
    key: &KeyPair,
    timeout: Duration,
    profile: &ProfileName,
    interrupted: &AtomicBool,
) -> Result<KeyOwner> {
    let spinner =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.set_message(format!(
        "waiting for IAM to accept the new key {}",
        key.access_key_id
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(500);
    let result = loop {
        match crate::aws::caller_identity(clients, key) {
            Ok(owner) => break Ok(owner),
            Err(Error::KeyRejected { .. })
                if Instant::now() + delay < deadline && !interrupted.load(Ordering::SeqCst) =>
            {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(Error::KeyRejected { .. }) => {
                break Err(Error::KeyNotYetAccepted {
                    profile: profile.to_string(),
                    waited: humantime::format_duration(timeout).to_string(),
                });
            }
            Err(other) => break Err(other),
        }
    };
    spinner.finish_and_clear();
    result
}

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
pub fn roll_back(iam: &Iam<'_>, user: &str, key_id: &AccessKeyId, cause: Error) -> Error {
    let outcome = match iam.delete_access_key(user, key_id) {
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
