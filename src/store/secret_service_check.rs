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

impl StoreCheck for SecretServiceCheck {
    fn items_readable(&self, profile: &ProfileName, source: Source) -> Result<bool, String> {
        let connection = zbus::blocking::connection::Builder::session()
            .and_then(|builder| builder.method_timeout(CALL_TIMEOUT).build())
            .map_err(|e| format!("the session bus: {e}"))?;
        for user in Flavor::SecretService.item_users(profile, source) {
            let attributes =
                HashMap::from([("service", super::SERVICE), ("username", user.as_str())]);
            let reply = connection
                .call_method(
                    Some("org.freedesktop.secrets"),
                    "/org/freedesktop/secrets",
                    Some("org.freedesktop.Secret.Service"),
                    "SearchItems",
                    &(attributes,),
                )
                .map_err(|e| format!("SearchItems: {e}"))?;
            let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = reply
                .body()
                .deserialize()
                .map_err(|e| format!("SearchItems' answer: {e}"))?;
            if unlocked.is_empty() || !locked.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
