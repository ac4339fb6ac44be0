//! The profile index: one store item of awskeep's own that lists every profile it holds a key for.
//! `list`, `rotate --all`, `session clear --all` and `migrate` enumerate profiles from it, so they
//! work on every store whether or not its search works the way awskeep needs (the Windows store
//! searches target names by pattern, the macOS one by service and account, the Secret Service by
//! attributes). The index is kept a superset of the key items: a profile is added before its key is
//! written and removed after its key is deleted, so a crash in between lists a profile with no key
//! (shown as such), never hides a key.
//!
//! Its item name, `:index`, cannot be a profile name (a colon is not allowed in one), so it never
//! collides with a key item. It holds profile names only, nothing secret. Where a store limits an
//! item's size (Windows: 2,560 bytes), the index continues in further items, `:index:1`, ...

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::kind::IndexUnreadable;
use crate::profile_name::ProfileName;

/// The item's user name, under the service `awskeep` (further chunks: `:index:1`, `:index:2`, ...).
pub const INDEX_USER: &str = ":index";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProfileIndex {
    profiles: BTreeSet<ProfileName>,
}

#[derive(Serialize, Deserialize)]
struct IndexItem {
    version: u32,
    profiles: Vec<String>,
}

impl ProfileIndex {
    /// Reads the item back; names that are not valid profile names are dropped.
    pub fn from_item_bytes(bytes: &[u8]) -> Result<Self, IndexUnreadable> {
        let item: IndexItem =
            serde_json::from_slice(bytes).map_err(|_| IndexUnreadable::NotAwskeeps)?;
        if item.version != 1 {
            return Err(IndexUnreadable::WrittenByNewer);
        }
        Ok(Self {
            profiles: item
                .profiles
                .iter()
                .filter_map(|name| ProfileName::parse(name).ok())
                .collect(),
        })
    }

    pub fn to_item_bytes(&self) -> Vec<u8> {
        let item = IndexItem {
            version: 1,
            profiles: self.profiles.iter().map(ToString::to_string).collect(),
        };
        // Serialising a list of strings cannot fail.
        serde_json::to_vec(&item).unwrap_or_default()
    }

    /// `true` when the profile was not listed yet.
    pub fn insert(&mut self, profile: &ProfileName) -> bool {
        self.profiles.insert(profile.clone())
    }

    pub fn contains(&self, profile: &ProfileName) -> bool {
        self.profiles.contains(profile)
    }

    /// `true` when the profile was listed.
    pub fn remove(&mut self, profile: &ProfileName) -> bool {
        self.profiles.remove(profile)
    }

    /// Adds every profile of `others`; `true` when any was new.
    pub fn absorb(&mut self, others: impl IntoIterator<Item = ProfileName>) -> bool {
        let before = self.profiles.len();
        self.profiles.extend(others);
        self.profiles.len() != before
    }

    pub fn profiles(&self) -> impl Iterator<Item = &ProfileName> {
        self.profiles.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ProfileName {
        ProfileName::parse(s).unwrap()
    }

    #[test]
    fn round_trips_sorted_and_deduplicated() {
        let mut index = ProfileIndex::default();
        assert!(index.insert(&name("prod")));
        assert!(index.insert(&name("dev")));
        assert!(!index.insert(&name("dev")));
        let back = ProfileIndex::from_item_bytes(&index.to_item_bytes()).unwrap();
        let names: Vec<_> = back.profiles().map(ToString::to_string).collect();
        assert_eq!(names, ["dev", "prod"]);
        assert!(ProfileName::parse(INDEX_USER).is_err());
    }

    #[test]
    fn drops_names_that_are_not_profiles_and_refuses_other_content() {
        let back =
            ProfileIndex::from_item_bytes(br#"{"version":1,"profiles":["ok","a b",":index"]}"#)
                .unwrap();
        assert_eq!(back.profiles().count(), 1);
        assert!(ProfileIndex::from_item_bytes(b"[1,2]").is_err());
        assert!(ProfileIndex::from_item_bytes(br#"{"version":2,"profiles":[]}"#).is_err());
    }
}
