//! A contract double of the three keyring-core store crates awskeep ships with, for the platforms
//! whose real store cannot run here (macOS) and as a second check of the ones that can. It accepts
//! exactly the build modifiers, search keys, item naming, attribute names and size limits of each
//! crate, transcribed from that crate's source (versions below), independently of `Flavor` in
//! `keyring.rs`, so a mismatch between what the adapter passes and what a crate accepts fails here as
//! it would on that platform. `KeyringBackedStore` and the commands' store paths run against each
//! platform's profile of it.
//!
//! Sources read (cargo registry, locked versions):
//! - zbus-secret-service-keyring-store 1.0.1, `src/store.rs` `build` (modifiers `target`, `label`,
//!   neither empty), `search` (any attributes, matched exactly), `src/cred.rs` (items carry the
//!   attributes `service`, `username` and `target` when given; specifiers from `service`/`username`).
//! - apple-native-keyring-store 1.0.3, `src/keychain.rs`: `build` accepts only `keychain`; empty
//!   service or user are invalid; `search` accepts only `service` and `user`; `get_attributes` is
//!   keyring-core's default (no attributes); specifiers are (service, account).
//! - windows-native-keyring-store 1.1.0, `src/store.rs` `build` (only `target`, `persistence`),
//!   `search` (only `pattern`, a regex over the target names of every generic credential, awskeep's
//!   or not), `src/cred.rs` (target `{user}.{service}` with `Store::new()`), `src/utils.rs`
//!   (`validate_secret`: at most CRED_MAX_CREDENTIAL_BLOB_SIZE = 2560 bytes; user at most 513
//!   characters; attributes `target_name`, `username`, `target_alias`, `comment`, `persistence`;
//!   a searched item's specifiers parsed back from the target with `^(.*)\.(.*)$`). Windows itself
//!   compares target names without regard to case, so `dev.awskeep` and `Dev.awskeep` are one item.
#![cfg(test)]

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use keyring_core::api::{CredentialApi, CredentialStoreApi};
use keyring_core::attributes::parse_attributes;
use keyring_core::{Credential, CredentialStore as KeyringStore, Entry, Error, Result};

/// One platform's store crate, as its source defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Linux, Platform::MacOs, Platform::Windows];

    /// `parse_attributes` key lists exactly as each crate's `build` passes them.
    fn build_modifiers(self) -> &'static [&'static str] {
        match self {
            Platform::Linux => &["target", "label"],
            Platform::MacOs => &["keychain"],
            Platform::Windows => &["target", "persistence"],
        }
    }

    /// `None`: any attribute name may be searched (the Secret Service matches item attributes).
    fn search_keys(self) -> Option<&'static [&'static str]> {
        match self {
            Platform::Linux => None,
            Platform::MacOs => Some(&["service", "user"]),
            Platform::Windows => Some(&["pattern"]),
        }
    }

    fn max_secret_len(self) -> Option<usize> {
        (self == Platform::Windows).then_some(2560)
    }
}

/// One stored item: its secret and the attributes the platform keeps with it.
#[derive(Debug, Clone)]
struct Item {
    secret: Vec<u8>,
    attributes: HashMap<String, String>,
    /// (service, user) as the platform reports them on a built entry.
    specifiers: (String, String),
}

type Items = Arc<Mutex<BTreeMap<String, Item>>>;

/// The double's store: one per test, holding its items in memory.
#[derive(Debug)]
pub struct ContractStore {
    platform: Platform,
    items: Items,
    /// Off: `search` answers NotSupportedByStore, as the Windows crate built without its `search`
    /// feature does. Lets a test prove awskeep's correctness does not depend on search.
    search_supported: bool,
    searches: std::sync::atomic::AtomicUsize,
}

impl ContractStore {
    pub fn new(platform: Platform) -> Arc<Self> {
        Arc::new(Self {
            platform,
            items: Arc::default(),
            search_supported: true,
            searches: Default::default(),
        })
    }

    pub fn without_search(platform: Platform) -> Arc<Self> {
        Arc::new(Self {
            platform,
            items: Arc::default(),
            search_supported: false,
            searches: Default::default(),
        })
    }

    /// How many searches awskeep made.
    pub fn searches(&self) -> usize {
        self.searches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The attributes the platform reports for an item (`get_attributes`).
    pub fn attributes_of(&self, item_name: &str) -> HashMap<String, String> {
        self.items.lock().unwrap()[item_name].attributes.clone()
    }

    /// Item names in the platform's own terms (Windows target names, `service/user` elsewhere).
    pub fn item_names(&self) -> Vec<String> {
        self.items.lock().unwrap().keys().cloned().collect()
    }

    /// Replaces an item's stored bytes behind awskeep's back (corruption, another version).
    pub fn overwrite(&self, item_name: &str, secret: &[u8]) {
        let mut items = self.items.lock().unwrap();
        items.get_mut(item_name).expect("item exists").secret = secret.to_vec();
    }

    /// Puts in an item another program wrote (a web browser's, git's), as that platform files it.
    pub fn add_foreign(&self, service: &str, user: &str, secret: &[u8]) {
        let cred = self.cred(service, user, None);
        cred.set_secret(secret).unwrap();
    }

    /// `build` as keyring-core's `Entry::new_with_modifiers` reaches it.
    pub fn build_entry(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> Result<Entry> {
        self.build(service, user, modifiers)
    }

    pub fn search_entries(&self, spec: &HashMap<&str, &str>) -> Result<Vec<Entry>> {
        self.search(spec)
    }

    /// Deletes an item behind awskeep's back (a crash, or the user in the platform's own UI).
    pub fn remove_item(&self, item_name: &str) {
        self.items.lock().unwrap().remove(item_name);
    }

    fn cred(&self, service: &str, user: &str, target: Option<&str>) -> ContractCred {
        let key = match self.platform {
            Platform::Linux => format!("{service}/{user}/{}", target.unwrap_or("")),
            Platform::MacOs => format!("{service}/{user}"),
            // CredReadW and friends compare target names without regard to case.
            Platform::Windows => match target {
                Some(target) => target.to_ascii_lowercase(),
                None => format!("{user}.{service}").to_ascii_lowercase(),
            },
        };
        ContractCred {
            platform: self.platform,
            items: self.items.clone(),
            key,
            service: service.to_string(),
            user: user.to_string(),
            target: target.map(str::to_string),
            persistence: "Enterprise".into(),
        }
    }
}

impl CredentialStoreApi for ContractStore {
    fn vendor(&self) -> String {
        format!("awskeep contract double ({:?})", self.platform)
    }

    fn id(&self) -> String {
        self.vendor()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> Result<Entry> {
        let mods = parse_attributes(self.platform.build_modifiers(), modifiers)?;
        match self.platform {
            Platform::Linux => {
                for name in ["target", "label"] {
                    if mods.get(name).is_some_and(String::is_empty) {
                        return Err(Error::Invalid(name.into(), "cannot be empty".into()));
                    }
                }
            }
            Platform::MacOs => {
                if let Some(keychain) = mods.get("keychain")
                    && !["user", "system", "common", "dynamic"]
                        .contains(&keychain.to_ascii_lowercase().as_str())
                {
                    return Err(Error::Invalid("keychain".into(), keychain.clone()));
                }
                for (name, value) in [("service", service), ("user", user)] {
                    if value.is_empty() {
                        return Err(Error::Invalid(name.into(), "cannot be empty".into()));
                    }
                }
            }
            Platform::Windows => {
                if let Some(persistence) = mods.get("persistence")
                    && !["session", "local", "enterprise"]
                        .contains(&persistence.to_ascii_lowercase().as_str())
                {
                    return Err(Error::Invalid(
                        persistence.clone(),
                        "must be Session, Local, or Enterprise".into(),
                    ));
                }
                if user.len() > 513 {
                    return Err(Error::TooLong("user".into(), 513));
                }
            }
        }
        let target = mods.get("target").map(String::as_str);
        let mut cred = self.cred(service, user, target);
        if let Some(persistence) = mods.get("persistence") {
            let mut name = persistence.to_ascii_lowercase();
            name[..1].make_ascii_uppercase();
            cred.persistence = name;
        }
        Ok(Entry::new_with_credential(Arc::new(cred)))
    }

    fn search(&self, spec: &HashMap<&str, &str>) -> Result<Vec<Entry>> {
        self.searches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !self.search_supported {
            return Err(Error::NotSupportedByStore("search".into()));
        }
        let spec = match self.platform.search_keys() {
            Some(keys) => parse_attributes(keys, Some(spec))?,
            None => spec
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let items = self.items.lock().unwrap();
        let target_parts = regex::Regex::new(r"^(.*)\.(.*)$").unwrap();
        let mut found = Vec::new();
        for (key, item) in items.iter() {
            let (matches, specifiers) = match self.platform {
                Platform::Linux => (
                    spec.iter().all(|(k, v)| item.attributes.get(k) == Some(v)),
                    Some(item.specifiers.clone()),
                ),
                Platform::MacOs => (
                    spec.get("service").is_none_or(|s| *s == item.specifiers.0)
                        && spec.get("user").is_none_or(|u| *u == item.specifiers.1),
                    Some(item.specifiers.clone()),
                ),
                Platform::Windows => {
                    let pattern = match spec.get("pattern") {
                        Some(p) => Some(regex::Regex::new(p).map_err(|_| {
                            Error::Invalid(p.clone(), "is not a valid regular expression".into())
                        })?),
                        None => None,
                    };
                    let specifiers = target_parts
                        .captures(key)
                        .map(|c| (c[2].to_string(), c[1].to_string()));
                    (pattern.is_none_or(|p| p.is_match(key)), specifiers)
                }
            };
            if matches {
                found.push(Entry::new_with_credential(Arc::new(FoundCred {
                    items: self.items.clone(),
                    key: key.clone(),
                    specifiers,
                    platform: self.platform,
                })));
            }
        }
        Ok(found)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An entry built from (service, user): it names an item that may not exist yet.
#[derive(Debug)]
struct ContractCred {
    platform: Platform,
    items: Items,
    key: String,
    service: String,
    user: String,
    target: Option<String>,
    /// Windows: what `build`'s `persistence` modifier chose (the crate's default: Enterprise).
    persistence: String,
}

fn attributes_for(cred: &ContractCred) -> HashMap<String, String> {
    let (platform, key, service, user, target) = (
        cred.platform,
        cred.key.as_str(),
        cred.service.as_str(),
        cred.user.as_str(),
        cred.target.as_deref(),
    );
    let pairs: Vec<(&str, &str)> = match platform {
        Platform::Linux => {
            let mut pairs = vec![("service", service), ("username", user)];
            if let Some(target) = target {
                pairs.push(("target", target));
            }
            pairs
        }
        Platform::MacOs => Vec::new(),
        Platform::Windows => vec![
            ("target_name", key),
            ("username", user),
            ("target_alias", ""),
            ("comment", ""),
            ("persistence", cred.persistence.as_str()),
        ],
    };
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn check_size(platform: Platform, secret: &[u8]) -> Result<()> {
    match platform.max_secret_len() {
        Some(limit) if secret.len() > limit => Err(Error::TooLong("secret".into(), limit as u32)),
        _ => Ok(()),
    }
}

impl CredentialApi for ContractCred {
    fn set_secret(&self, secret: &[u8]) -> Result<()> {
        check_size(self.platform, secret)?;
        let attributes = attributes_for(self);
        self.items.lock().unwrap().insert(
            self.key.clone(),
            Item {
                secret: secret.to_vec(),
                attributes,
                specifiers: (self.service.clone(), self.user.clone()),
            },
        );
        Ok(())
    }

    fn get_secret(&self) -> Result<Vec<u8>> {
        read_item(&self.items, &self.key, |i| i.secret.clone())
    }

    fn get_attributes(&self) -> Result<HashMap<String, String>> {
        read_item(&self.items, &self.key, |i| i.attributes.clone())
    }

    fn delete_credential(&self) -> Result<()> {
        delete_item(&self.items, &self.key)
    }

    fn get_credential(&self) -> Result<Option<Arc<Credential>>> {
        self.get_secret().map(|_| None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        // Windows: an entry built with an explicit `target` has no specifiers.
        (self.platform != Platform::Windows || self.target.is_none())
            .then(|| (self.service.clone(), self.user.clone()))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An entry a search returned: it wraps an existing item.
#[derive(Debug)]
struct FoundCred {
    platform: Platform,
    items: Items,
    key: String,
    specifiers: Option<(String, String)>,
}

impl CredentialApi for FoundCred {
    fn set_secret(&self, secret: &[u8]) -> Result<()> {
        check_size(self.platform, secret)?;
        let mut items = self.items.lock().unwrap();
        let item = items.get_mut(&self.key).ok_or(Error::NoEntry)?;
        item.secret = secret.to_vec();
        Ok(())
    }

    fn get_secret(&self) -> Result<Vec<u8>> {
        read_item(&self.items, &self.key, |i| i.secret.clone())
    }

    fn get_attributes(&self) -> Result<HashMap<String, String>> {
        read_item(&self.items, &self.key, |i| i.attributes.clone())
    }

    fn delete_credential(&self) -> Result<()> {
        delete_item(&self.items, &self.key)
    }

    fn get_credential(&self) -> Result<Option<Arc<Credential>>> {
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        self.specifiers.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn read_item<T>(items: &Items, key: &str, read: impl FnOnce(&Item) -> T) -> Result<T> {
    items
        .lock()
        .unwrap()
        .get(key)
        .map(read)
        .ok_or(Error::NoEntry)
}

fn delete_item(items: &Items, key: &str) -> Result<()> {
    items
        .lock()
        .unwrap()
        .remove(key)
        .map(|_| ())
        .ok_or(Error::NoEntry)
}

/// The double as keyring-core's store type, for `KeyringBackedStore::new`.
pub fn as_keyring_store(store: Arc<ContractStore>) -> Arc<KeyringStore> {
    store
}
