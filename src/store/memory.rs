//! An in-memory store for unit tests, which can be told to fail a given call, as keyring-core's mock
//! can. Never used by the binary. `MemoryStore` is the typed facade over `MemoryItems`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::facade::CredentialStore;
use super::item::{ItemKind, ItemStore};
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;

/// The items, shared by every clone.
#[derive(Clone, Default)]
pub struct MemoryItems(Rc<Inner>);

type Items = BTreeMap<(ProfileName, ItemKind), Zeroizing<Vec<u8>>>;

#[derive(Default)]
struct Inner {
    items: RefCell<Items>,
    calls: RefCell<usize>,
    fail_at: RefCell<Option<(usize, Error)>>,
}

impl MemoryItems {
    /// Makes call number `call` (1-based, counted from now) fail with `error`.
    pub fn fail_call(&self, call: usize, error: Error) {
        *self.0.calls.borrow_mut() = 0;
        *self.0.fail_at.borrow_mut() = Some((call, error));
    }

    fn check(&self) -> Result<()> {
        *self.0.calls.borrow_mut() += 1;
        let now = *self.0.calls.borrow();
        let due = matches!(&*self.0.fail_at.borrow(), Some((at, _)) if *at == now);
        match due.then(|| self.0.fail_at.borrow_mut().take()).flatten() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

impl ItemStore for MemoryItems {
    fn display_name(&self) -> &'static str {
        "memory store"
    }

    fn get(&self, profile: &ProfileName, kind: ItemKind) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.check()?;
        Ok(self.0.items.borrow().get(&(profile.clone(), kind)).cloned())
    }

    fn set(&self, profile: &ProfileName, kind: ItemKind, bytes: &[u8]) -> Result<()> {
        self.check()?;
        let bytes = Zeroizing::new(bytes.to_vec());
        self.0
            .items
            .borrow_mut()
            .insert((profile.clone(), kind), bytes);
        Ok(())
    }

    fn delete(&self, profile: &ProfileName, kind: ItemKind) -> Result<bool> {
        self.check()?;
        Ok(self
            .0
            .items
            .borrow_mut()
            .remove(&(profile.clone(), kind))
            .is_some())
    }

    fn list(&self) -> Result<Vec<ProfileName>> {
        self.check()?;
        let items = self.0.items.borrow();
        let keys = items.keys().filter(|(_, kind)| *kind == ItemKind::Key);
        Ok(keys.map(|(profile, _)| profile.clone()).collect())
    }
}

/// A memory store as commands take it (`&store` is a `&CredentialStore`), and its items.
pub struct MemoryStore {
    store: CredentialStore,
    pub items: MemoryItems,
}

impl Default for MemoryStore {
    fn default() -> Self {
        let items = MemoryItems::default();
        Self {
            store: CredentialStore::new(Box::new(items.clone())),
            items,
        }
    }
}

impl MemoryStore {
    /// Makes call number `call` (1-based, counted from now) fail with `error`.
    pub fn fail_call(&self, call: usize, error: Error) {
        self.items.fail_call(call, error);
    }
}

impl std::ops::Deref for MemoryStore {
    type Target = CredentialStore;
    fn deref(&self) -> &CredentialStore {
        &self.store
    }
}
