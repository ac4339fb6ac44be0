//! The one question the credential cache (`cred_cache`) asks the Secret Service before it serves an
//! entry again once `cred_cache::RECHECK_INTERVAL` is over: are the profile's items (its key, and
//! for a session entry the session too) still there and unlocked?
//!
//! It is `org.freedesktop.Secret.Service.SearchItems` on the item's attributes, which answers with
//! the unlocked and the locked matches: no encrypted session is opened and no secret is read, so
//! it costs one bus connection and one call per item, not the store's read. An item that is locked
//! (the keychain was locked in Seahorse, or by `secret-tool lock`) or gone (deleted behind
//! awskeep's back) is a no; the caller then drops the entry and reads the store, which answers as it
//! does without a cache.
//!
//! It also answers `readiness`, asked before the store is opened where no desktop session can show
//! an unlock prompt: there the store crate's `Unlock` would wait for a prompt that never comes
//! (every caller after the first one hangs), so a locked store fails at once instead; and a
//! Secret Service that does not answer within `CALL_TIMEOUT` fails too, where the store's own calls
//! (which have no timeout) would wait forever.

use std::collections::HashMap;
use std::time::Duration;

use zbus::zvariant::OwnedObjectPath;

use super::cred_cache::{Source, StoreCheck};
use super::keyring::SERVICE;
use super::kind::Flavor;
use crate::profile_name::ProfileName;

/// How long one answer may take before the cache gives up and the store is read instead.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// The check against the Secret Service on this environment's session bus.
pub struct SecretServiceCheck;

/// What the Secret Service says before awskeep opens it where no unlock prompt can show.
#[derive(Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Nothing awskeep needs is locked (or it could not tell: the store then reports the rest).
    Ready,
    /// An awskeep item, or the default collection (where new items go), is locked.
    Locked,
    /// The bus took the call but the Secret Service did not answer within `CALL_TIMEOUT`: a
    /// hung daemon, which the store's own calls (no timeout) would wait on forever.
    NotAnswering,
}

/// Whether the Secret Service would have to unlock something for awskeep, asked with a timeout.
pub fn readiness() -> Readiness {
    let Ok(connection) = connect() else {
        return Readiness::Ready;
    };
    let attributes = HashMap::from([("service", SERVICE)]);
    match search(&connection, &attributes) {
        Ok((_, locked)) if !locked.is_empty() => return Readiness::Locked,
        Ok(_) => {}
        Err(SearchError::TimedOut) => return Readiness::NotAnswering,
        Err(SearchError::Other(_)) => return Readiness::Ready,
    }
    // No default collection (or an alias this service does not serve): not locked as far as
    // awskeep can tell; the store reports the rest.
    let default_locked = connection
        .call_method(
            Some(SERVICE_NAME),
            "/org/freedesktop/secrets/aliases/default",
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.freedesktop.Secret.Collection", "Locked"),
        )
        .ok()
        .and_then(|reply| {
            reply
                .body()
                .deserialize::<zbus::zvariant::OwnedValue>()
                .ok()
        })
        .and_then(|value| bool::try_from(value).ok())
        .unwrap_or(false);
    if default_locked {
        Readiness::Locked
    } else {
        Readiness::Ready
    }
}

enum SearchError {
    TimedOut,
    Other(String),
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchError::TimedOut => write!(f, "SearchItems: no answer within {CALL_TIMEOUT:?}"),
            SearchError::Other(why) => f.write_str(why),
        }
    }
}

const SERVICE_NAME: &str = "org.freedesktop.secrets";

fn connect() -> Result<zbus::blocking::Connection, String> {
    zbus::blocking::connection::Builder::session()
        .and_then(|builder| builder.method_timeout(CALL_TIMEOUT).build())
        .map_err(|e| format!("the session bus: {e}"))
}

/// `SearchItems`: the unlocked and the locked items with these attributes.
fn search(
    connection: &zbus::blocking::Connection,
    attributes: &HashMap<&str, &str>,
) -> Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>), SearchError> {
    let reply = connection
        .call_method(
            Some(SERVICE_NAME),
            "/org/freedesktop/secrets",
            Some("org.freedesktop.Secret.Service"),
            "SearchItems",
            &(attributes,),
        )
        .map_err(|e| match e {
            zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                SearchError::TimedOut
            }
            other => SearchError::Other(format!("SearchItems: {other}")),
        })?;
    reply
        .body()
        .deserialize()
        .map_err(|e| SearchError::Other(format!("SearchItems' answer: {e}")))
}

impl StoreCheck for SecretServiceCheck {
    fn items_readable(&self, profile: &ProfileName, source: Source) -> Result<bool, String> {
        let connection = connect()?;
        for user in Flavor::SecretService.item_users(profile, source) {
            let attributes = HashMap::from([("service", SERVICE), ("username", user.as_str())]);
            let (unlocked, locked) = search(&connection, &attributes).map_err(|e| e.to_string())?;
            if unlocked.is_empty() || !locked.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
