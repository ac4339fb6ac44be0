//! Named points where a debug build, told so by the tests (`AWSKEEP_TEST_CRASH_AT`,
//! `AWSKEEP_TEST_FAIL_AT`, `AWSKEEP_TEST_PAUSE_AT`, read once into `Context`), crashes, fails or
//! waits. A low module: commands and the credential path both call it, and it calls nothing above
//! the context and the errors. Release builds never set the fields, so every point is a no-op there.

use std::path::Path;

use crate::context::Context;
use crate::error::{Error, Result};

/// A crash point for tests: with `AWSKEEP_TEST_CRASH_AT=NAME` (honoured by debug builds only, see
/// `Context`) the process aborts here, as a kill -9 or a power cut would.
pub fn crash_point(ctx: &Context, name: &str) {
    if ctx.test_crash_at.as_deref() == Some(name) {
        std::process::abort();
    }
}

/// A pause point for tests: with `AWSKEEP_TEST_PAUSE_AT=NAME=PATH` (debug builds only) the process
/// creates PATH here and waits (two minutes at most) until the test deletes it.
pub fn pause_point(ctx: &Context, name: &str) {
    let Some((at, path)) = ctx.test_pause_at.as_deref().and_then(|v| v.split_once('=')) else {
        return;
    };
    if at != name {
        return;
    }
    let path = Path::new(path);
    if std::fs::write(path, b"").is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while path.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A failure point for tests: with `AWSKEEP_TEST_FAIL_AT=NAME` (debug builds only) the step fails
/// here as a store that refuses a write would.
pub fn fail_point(ctx: &Context, name: &str) -> Result<()> {
    if ctx.test_fail_at.as_deref() == Some(name) {
        return Err(Error::StoreFailed {
            store: "store",
            reason: format!("test fault injected at {name}"),
        });
    }
    Ok(())
}
