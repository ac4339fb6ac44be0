//! An in-memory store for unit tests, with a switch that makes the next call fail, as keyring-core's
//! mock does. Never used by the binary.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::CredentialStore;
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;

#[derive(Default)]
pub struct MemoryStore {
    items: RefCell<BTreeMap<ProfileName, zeroize::Zeroizing<Vec<u8>>>>,
    fail_next: RefCell<Option<Error>>,
}

impl MemoryStore {
    pub fn fail_next_call(&self, error: Error) {
        *self.fail_next.borrow_mut() = Some(error);
    }

    fn check(&self) -> Result<()> {
        match self.fail_next.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl CredentialStore for MemoryStore {
    fn display_name(&self) -> &'static str {
        "memory store"
    }

    fn get(&self, profile: &ProfileName) -> Result<Option<StoredKey>> {
        self.check()?;
        self.items
            .borrow()
            .get(profile)
            .map(|bytes| {
                StoredKey::from_item_bytes(bytes).map_err(|reason| Error::StoreItemCorrupt {
                    store: "memory store",
                    profile: profile.to_string(),
                    reason,
                })
            })
            .transpose()
    }

    fn set(&self, profile: &ProfileName, key: &StoredKey) -> Result<()> {
        self.check()?;
        self.items
            .borrow_mut()
            .insert(profile.clone(), key.to_item_bytes());
        Ok(())
    }

    fn delete(&self, profile: &ProfileName) -> Result<bool> {
        self.check()?;
        Ok(self.items.borrow_mut().remove(profile).is_some())
    }

    fn list(&self) -> Result<Option<Vec<ProfileName>>> {
        self.check()?;
        Ok(Some(self.items.borrow().keys().cloned().collect()))
    }
}
