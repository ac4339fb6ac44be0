//! An in-memory store for unit tests, which can be told to fail a given call, as keyring-core's mock
//! can. Never used by the binary.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::CredentialStore;
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::Session;

#[derive(Default)]
pub struct MemoryStore {
    items: RefCell<BTreeMap<ProfileName, zeroize::Zeroizing<Vec<u8>>>>,
    sessions: RefCell<BTreeMap<ProfileName, zeroize::Zeroizing<Vec<u8>>>>,
    calls: RefCell<usize>,
    fail_at: RefCell<Option<(usize, Error)>>,
}

impl MemoryStore {
    /// Makes call number `call` (1-based, counted from now) fail with `error`.
    pub fn fail_call(&self, call: usize, error: Error) {
        *self.calls.borrow_mut() = 0;
        *self.fail_at.borrow_mut() = Some((call, error));
    }

    fn check(&self) -> Result<()> {
        *self.calls.borrow_mut() += 1;
        let now = *self.calls.borrow();
        let due = matches!(&*self.fail_at.borrow(), Some((at, _)) if *at == now);
        match due.then(|| self.fail_at.borrow_mut().take()).flatten() {
            Some((_, e)) => Err(e),
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

    fn list(&self) -> Result<Vec<ProfileName>> {
        self.check()?;
        Ok(self.items.borrow().keys().cloned().collect())
    }

    fn get_session(&self, profile: &ProfileName) -> Result<Option<Session>> {
        self.check()?;
        Ok(self
            .sessions
            .borrow()
            .get(profile)
            .and_then(|b| Session::from_item_bytes(b).ok()))
    }

    fn set_session(&self, profile: &ProfileName, session: &Session) -> Result<()> {
        self.check()?;
        self.sessions
            .borrow_mut()
            .insert(profile.clone(), session.to_item_bytes());
        Ok(())
    }

    fn delete_session(&self, profile: &ProfileName) -> Result<bool> {
        self.check()?;
        Ok(self.sessions.borrow_mut().remove(profile).is_some())
    }
}
