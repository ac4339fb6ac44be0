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
//! It also answers `store_locked`, asked before the store is opened where no desktop session can
//! show an unlock prompt: there the store crate's `Unlock` would wait for a prompt that never comes
//! (every caller after the first one hangs), so a locked store fails at once instead.

use std::collections::HashMap;
use std::time::Duration;

use zbus::zvariant::OwnedObjectPath;

use super::cred_cache::{Source, StoreCheck};
use super::keyring::Flavor;
use crate::profile_name::ProfileName;

/// How long one answer may take before the cache gives up and the store is read instead.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// The check against the Secret Service on this environment's session bus.
pub struct SecretServiceCheck;

/// Whether the Secret Service would have to unlock something for awskeep: an awskeep item is
/// locked, or the default collection (where new items go) is. `Err`: it could not be asked (the
/// caller then opens the store, which reports why).
pub fn store_locked() -> Result<bool, String> {
    let connection = connect()?;
    let attributes = HashMap::from([("service", super::SERVICE)]);
    let (_, locked) = search(&connection, &attributes)?;
    if !locked.is_empty() {
        return Ok(true);
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
    Ok(default_locked)
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
) -> Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>), String> {
    connection
        .call_method(
            Some(SERVICE_NAME),
            "/org/freedesktop/secrets",
            Some("org.freedesktop.Secret.Service"),
            "SearchItems",
            &(attributes,),
        )
        .map_err(|e| format!("SearchItems: {e}"))?
        .body()
        .deserialize()
        .map_err(|e| format!("SearchItems' answer: {e}"))
}

impl StoreCheck for SecretServiceCheck {
    fn items_readable(&self, profile: &ProfileName, source: Source) -> Result<bool, String> {
        let connection = connect()?;
        for user in Flavor::SecretService.item_users(profile, source) {
            let attributes =
                HashMap::from([("service", super::SERVICE), ("username", user.as_str())]);
            let (unlocked, locked) = search(&connection, &attributes)?;
            if unlocked.is_empty() || !locked.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
