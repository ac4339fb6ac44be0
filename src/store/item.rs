//! The byte-level item store each backend implements, as keyring-core's `CredentialApi`: get, set
//! and delete one item's bytes, and list the profiles it holds keys for. An item is a profile's
//! item of one kind; what its bytes mean is the typed facade's (`facade.rs`), once for every
//! backend. A new kind of item is a variant here and its methods in the facade.

use zeroize::Zeroizing;

use crate::error::Result;
use crate::profile_name::ProfileName;

/// What an item holds for its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    /// The long-term key and its metadata (`StoredKey`'s JSON).
    Key,
    /// The cached STS session (`Session`'s JSON).
    Session,
}

impl ItemKind {
    /// What follows the profile name in the item's name: a key is `PROFILE`, a session
    /// `PROFILE:session` (a colon cannot occur in a profile name, so no two items share a name).
    pub fn suffix(self) -> &'static str {
        match self {
            ItemKind::Key => "",
            ItemKind::Session => ":session",
        }
    }

    /// The label a keychain app shows for the item.
    pub fn label(self, profile: &ProfileName) -> String {
        match self {
            ItemKind::Key => format!("awskeep: AWS access key for profile {profile}"),
            ItemKind::Session => format!("awskeep: STS session for profile {profile}"),
        }
    }
}

pub trait ItemStore {
    /// A name for messages: "Secret Service", "macOS Keychain", ...
    fn display_name(&self) -> &'static str;
    /// The item's bytes, or `None` when the store holds no such item.
    fn get(&self, profile: &ProfileName, kind: ItemKind) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Creates or replaces the item.
    fn set(&self, profile: &ProfileName, kind: ItemKind, bytes: &[u8]) -> Result<()>;
    /// Deletes the item; `false` when there was none.
    fn delete(&self, profile: &ProfileName, kind: ItemKind) -> Result<bool>;
    /// Every profile this store may hold a key for (sorted). It may name a profile whose key is gone
    /// (an interrupted write); callers read each one and skip what `get` does not find.
    fn list(&self) -> Result<Vec<ProfileName>>;
}
