//! Waiting for a new key: IAM takes seconds to make one work everywhere, so GetCallerIdentity is
//! retried with backoff, behind a spinner on stderr (hidden when stderr is not a terminal).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::clients::Clients;
use super::sts;
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::{KeyOwner, KeyPair};

/// How long to wait for a new key, for which profile (messages), and the deferred Ctrl-C.
#[derive(Clone, Copy)]
pub struct Waiting<'a> {
    pub profile: &'a ProfileName,
    pub timeout: Duration,
    pub interrupted: &'a AtomicBool,
}

/// New keys take seconds to work everywhere: retry GetCallerIdentity with backoff and a spinner on
/// stderr (hidden when stderr is not a terminal), up to `timeout`.
pub fn wait_until_accepted(
    clients: &Clients,
    key: &KeyPair,
    waiting: &Waiting<'_>,
) -> Result<KeyOwner> {
    let (timeout, profile, interrupted) = (waiting.timeout, waiting.profile, waiting.interrupted);
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
        match sts::caller_identity(clients, key) {
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
                    region_flag: String::new(),
                });
            }
            Err(other) => break Err(other),
        }
    };
    spinner.finish_and_clear();
    result
}
