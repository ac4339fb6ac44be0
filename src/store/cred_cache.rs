//! The per-login credential cache in front of the Secret Service: what `credential-process` last
//! printed for a profile, kept in the kernel's login session keyring (`@s`, through `key_cache`)
//! for a short while, so the next AWS CLI or SDK process is served without a D-Bus connection.
//!
//! What it owns and promises:
//! - **Where.** One `user` key per profile (and store), in the session keyring, permissions for this
//!   user's uid only, none for a possessor of another uid (`key_cache`'s), with a kernel timeout:
//!   a long-term key's entry lives `awskeep_cache`'s bound (default 1 minute), a session's until
//!   its refresh margin begins. A
//!   process of another login session (another `@s`) does not find it. Unlike the file store's
//!   master key (`@u`, where a miss means a passphrase prompt), a miss here costs one store read,
//!   so the narrower keyring is the right one. Where a process has no login session keyring, the
//!   kernel hands it the user-session keyring (`@us`), which every such process shares.
//! - **Names carry no secret.** An entry is named `awskeep:cred:` + 4 bytes of SHA-256 over the
//!   store's identity (its bus address) + `:` + 16 bytes of SHA-256 over that identity and the
//!   profile name. `lock` forgets the entries under its store's prefix, not another bus's.
//! - **Changes drop it first, in every login.** Every store write or delete (add, remove, rotate,
//!   session refresh and clear, store move) and `lock` goes through `invalidate`: it forgets this
//!   login's entry and writes a new random *generation* into `cache.generation` in awskeep's data
//!   folder (`$XDG_DATA_HOME/awskeep`, the same for every login of the user, whatever its session
//!   keyring, bus address spelling or `XDG_RUNTIME_DIR`), before the change and again after it. An entry is served only when it was
//!   made under the current generation (and for the profile's current settings), so an entry
//!   another login made before the change is never served after it. A change made behind awskeep's
//!   back (Seahorse, `secret-tool`) is seen once the entry's bound is over.
//! - **It never serves past its bound**: the kernel drops the key at its timeout, and the entry's
//!   own header repeats the deadline, checked on every read.
//! - **Locking the keychain stops it within `RECHECK_INTERVAL`.** An entry is served as it is only
//!   while the store confirmed, less than `RECHECK_INTERVAL` ago, that the items it came from are
//!   still there and unlocked (`StoreCheck`: one D-Bus call per item, no secret, no encrypted
//!   session). Past that, the next hit asks again; a locked or deleted item drops the entry and the
//!   call goes to the store, which answers as it would without a cache (locked, or no key). A burst
//!   of calls (Terraform, a parallel script) asks once.
//!
//! It never prints, and it never opens the store: the caller falls back to the store on a miss.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use zeroize::Zeroizing;

use super::data_dir::data_dir_error;
use super::key_cache::KeyCache;
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;

/// Every entry's name starts with this (then the store's own prefix: see `entry_name`).
pub const PREFIX: &str = "awskeep:cred:";
/// The file, in awskeep's data folder, that holds the current generation.
pub const GENERATION_FILE: &str = "cache.generation";
/// How long the store's word that an entry's items are there and unlocked holds: after this, the
/// next hit asks the store again before serving (so a locked keychain or an item deleted in
/// Seahorse stops the cache within this long).
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(5);
const HEADER: &str = "awskeep-cache 2";

/// What an entry was made from, so a recheck asks about those items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The profile's long-term key.
    Key,
    /// The profile's cached STS session (made with its key, which must still be there too).
    Session,
    /// A role profile's cached role session (it has no key of its own).
    Role,
}

impl Source {
    fn word(self) -> &'static str {
        match self {
            Source::Key => "key",
            Source::Session => "session",
            Source::Role => "role",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        match word {
            "key" => Some(Source::Key),
            "session" => Some(Source::Session),
            "role" => Some(Source::Role),
            _ => None,
        }
    }
}

/// The store's cheap answer to "are these items still there, and readable without unlocking?",
/// asked before an entry is served again after `RECHECK_INTERVAL`. It reads no secret.
pub trait StoreCheck {
    /// `Ok(true)`: every item `source` needs for `profile` is there and unlocked. `Ok(false)`: one
    /// is locked or gone. `Err`: the store could not be asked (said with `--verbose`).
    fn items_readable(
        &self,
        profile: &ProfileName,
        source: Source,
    ) -> std::result::Result<bool, String>;
}

/// Why a lookup served nothing (for `--verbose`); `Missing` covers every quiet miss.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// No current entry (none kept, expired, another generation or other settings).
    Missing,
    /// The store says an item the entry came from is locked or gone: the entry was dropped.
    StoreSaysNo,
    /// The store could not be asked: nothing served, the entry kept.
    CouldNotAsk(String),
}

/// The credential_process JSON as served: Debug shows none of it.
pub struct CredentialJson(Zeroizing<Vec<u8>>);

impl CredentialJson {
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The bytes, for the one writer of stdout.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for CredentialJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialJson(** redacted **)")
    }
}

/// The cache of one store, as one process sees it.
pub struct CredCache {
    ring: Box<dyn KeyCache>,
    check: Box<dyn StoreCheck>,
    /// Where the generation file lives: awskeep's data folder (`$XDG_DATA_HOME/awskeep`), the
    /// same for every login of the user whatever its session keyring, bus address spelling or
    /// `XDG_RUNTIME_DIR`.
    generation_dir: PathBuf,
    /// The store's identity: entries of another Secret Service (another bus) are other names.
    scope: String,
    /// The generation this process last read or wrote: an entry is kept only while it is still
    /// the current one, so nothing read from the store before a change is kept after it.
    known: RefCell<Option<String>>,
}

impl std::fmt::Debug for CredCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredCache")
            .field("ring", &self.ring.describe())
            .finish_non_exhaustive()
    }
}

impl CredCache {
    #[cfg_attr(
        not(target_os = "linux"),
        allow(
            dead_code,
            reason = "the credential cache fronts the Secret Service, Linux only"
        )
    )]
    pub fn new(
        ring: Box<dyn KeyCache>,
        check: Box<dyn StoreCheck>,
        generation_dir: PathBuf,
        scope: String,
    ) -> Self {
        Self {
            ring,
            check,
            generation_dir,
            scope,
            known: RefCell::new(None),
        }
    }

    /// The entry's name for `profile`: hashes, so `/proc/keys` shows no profile name.
    pub fn entry_name(&self, profile: &ProfileName) -> String {
        let mut hash = sha2::Sha256::new();
        hash.update(b"awskeep credential cache\0");
        hash.update(self.scope.as_bytes());
        hash.update(b"\0");
        hash.update(profile.as_str().as_bytes());
        format!("{}{}", self.store_prefix(), hex(&hash.finalize()[..16]))
    }

    fn store_hash(&self) -> String {
        let mut hash = sha2::Sha256::new();
        hash.update(b"awskeep credential cache store\0");
        hash.update(self.scope.as_bytes());
        hex(&hash.finalize()[..4])
    }

    /// What every entry of this store's starts with: `awskeep:cred:` and 4 bytes of SHA-256 over
    /// the store's identity, so `invalidate(None)` forgets this store's entries and no other's.
    fn store_prefix(&self) -> String {
        format!("{PREFIX}{}:", self.store_hash())
    }

    /// The JSON kept for `profile` under `fingerprint` (the profile's settings), if an entry of the
    /// current generation is there, within its deadline, and its items were confirmed readable less
    /// than `RECHECK_INTERVAL` ago (else the store is asked now).
    pub fn lookup(
        &self,
        profile: &ProfileName,
        fingerprint: &str,
    ) -> std::result::Result<CredentialJson, Miss> {
        let generation = self.current_generation().ok_or(Miss::Missing)?;
        *self.known.borrow_mut() = Some(generation.clone());
        let name = self.entry_name(profile);
        let text = self.ring.get(&name).ok_or(Miss::Missing)?;
        let entry = Entry::parse(text.expose_secret()).ok_or(Miss::Missing)?;
        let now = unix_now().ok_or(Miss::Missing)?;
        let now_ms = unix_now_ms().ok_or(Miss::Missing)?;
        if now >= entry.not_after
            || entry.generation != generation
            || entry.fingerprint != fingerprint
        {
            // Never served again: not left in the keyring until its timeout either.
            self.ring.forget(&name);
            return Err(Miss::Missing);
        }
        let checked_for = now_ms.saturating_sub(entry.checked_at_ms);
        if entry.checked_at_ms > now_ms || checked_for >= RECHECK_INTERVAL.as_millis() {
            match self.check.items_readable(profile, entry.source) {
                Ok(true) => {
                    // Best effort: a failed rewrite only means the next hit asks again.
                    let _ = self.ring.put(
                        &name,
                        &entry.with_checked_at(now_ms).render(),
                        Duration::from_secs(entry.not_after - now),
                    );
                }
                Ok(false) => {
                    self.ring.forget(&name);
                    return Err(Miss::StoreSaysNo);
                }
                Err(why) => return Err(Miss::CouldNotAsk(why)),
            }
        }
        Ok(CredentialJson(Zeroizing::new(
            entry.json.as_bytes().to_vec(),
        )))
    }

    /// Keeps `json` for `profile` for `lifetime`, unless the generation changed since this process
    /// read it (someone changed the store meanwhile: what it read may be stale). Best effort: `Err`
    /// says why nothing was kept, for `--verbose`.
    pub fn keep(
        &self,
        profile: &ProfileName,
        fingerprint: &str,
        source: Source,
        json: &CredentialJson,
        lifetime: Duration,
    ) -> std::result::Result<(), String> {
        let known = self.known.borrow().clone();
        let current = self.current_generation();
        let generation = match (known, current) {
            (Some(known), Some(current)) if known == current => current,
            _ => return Err("the store changed meanwhile".into()),
        };
        let now = unix_now().ok_or("the clock is before 1970")?;
        let now_ms = unix_now_ms().ok_or("the clock is before 1970")?;
        let json = std::str::from_utf8(json.expose_bytes()).map_err(|_| "not UTF-8")?;
        let entry = Entry {
            generation: &generation,
            not_after: now.saturating_add(lifetime.as_secs()),
            fingerprint,
            // The store was read just now: that is its word that the items are readable.
            checked_at_ms: now_ms,
            source,
            json,
        };
        self.ring
            .put(&self.entry_name(profile), &entry.render(), lifetime)
    }

    /// Forgets this login's entry for `profile` (`awskeep_cache = off`: nothing is kept, including
    /// what was kept before the setting changed).
    pub fn forget(&self, profile: &ProfileName) {
        self.ring.forget(&self.entry_name(profile));
    }

    /// Drops the cache before (and after) a change: forgets this login's entry for `profile` (every
    /// entry, for `None`) and starts a new generation, which every login's entries are checked
    /// against. Fails only when the new generation cannot be written: the change must not go ahead
    /// while other logins could still serve what it replaces.
    pub fn invalidate(&self, profile: Option<&ProfileName>) -> Result<()> {
        match profile {
            Some(profile) => {
                self.ring.forget(&self.entry_name(profile));
            }
            None => {
                self.ring.forget_prefixed(&self.store_prefix());
            }
        }
        let generation = self.new_generation()?;
        *self.known.borrow_mut() = Some(generation);
        Ok(())
    }

    fn generation_file(&self) -> PathBuf {
        self.generation_dir.join(GENERATION_FILE)
    }

    /// The current generation; one is made when there is none yet. `None`: the folder is not
    /// usable (a symlink, another user's, not creatable), so nothing is cached.
    fn current_generation(&self) -> Option<String> {
        // Checked as every write checks it: a generation someone else could write is none.
        crate::lock::private_dir(&self.generation_dir).ok()?;
        match std::fs::read_to_string(self.generation_file()) {
            Ok(text) if is_generation(text.trim()) => Some(text.trim().to_string()),
            Ok(_) => self.new_generation().ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.new_generation().ok(),
            Err(_) => None,
        }
    }

    fn new_generation(&self) -> Result<String> {
        crate::lock::private_dir(&self.generation_dir).map_err(data_dir_error)?;
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| Error::NoRandom {
            reason: e.to_string(),
        })?;
        let generation = hex(&bytes);
        crate::config_file::write_atomically(
            &self.generation_file(),
            format!("{generation}\n").as_bytes(),
        )?;
        Ok(generation)
    }
}

/// A fingerprint of what decides a profile's entry (its session and cache settings): an entry made
/// under other settings is not served.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash = sha2::Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update(b"\0");
    }
    hex(&hash.finalize()[..8])
}

/// One entry as the keyring holds it: a header line, then the JSON.
/// `awskeep-cache 2 GENERATION NOT_AFTER FINGERPRINT CHECKED_AT_MS SOURCE`.
#[derive(Clone, Copy)]
struct Entry<'a> {
    generation: &'a str,
    /// Unix seconds after which it is not served.
    not_after: u64,
    fingerprint: &'a str,
    /// Unix milliseconds when the store last said the entry's items were there and unlocked.
    checked_at_ms: u128,
    source: Source,
    json: &'a str,
}

impl<'a> Entry<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let (header, json) = text.split_once('\n')?;
        let rest = header.strip_prefix(HEADER)?.strip_prefix(' ')?;
        let mut fields = rest.split(' ');
        let (
            Some(generation),
            Some(not_after),
            Some(fingerprint),
            Some(checked_at_ms),
            Some(source),
            None,
        ) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        )
        else {
            return None;
        };
        Some(Self {
            generation,
            not_after: not_after.parse().ok()?,
            fingerprint,
            checked_at_ms: checked_at_ms.parse().ok()?,
            source: Source::from_word(source)?,
            json,
        })
    }

    fn with_checked_at(self, checked_at_ms: u128) -> Self {
        Self {
            checked_at_ms,
            ..self
        }
    }

    fn render(&self) -> SecretString {
        SecretString::from(format!(
            "{HEADER} {} {} {} {} {}\n{}",
            self.generation,
            self.not_after,
            self.fingerprint,
            self.checked_at_ms,
            self.source.word(),
            self.json
        ))
    }
}

fn is_generation(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now_ms() -> Option<u128> {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis())
}

fn unix_now() -> Option<u64> {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::profile::Document;
    use crate::settings::{CacheSetting, DEFAULT_KEY_BOUND};
    use crate::store::key_cache::MemoryCache;

    fn profile(name: &str) -> ProfileName {
        ProfileName::parse(name).unwrap()
    }

    fn json(text: &str) -> CredentialJson {
        CredentialJson::new(Zeroizing::new(text.as_bytes().to_vec()))
    }

    /// The store's answer to a recheck, and how many times it was asked.
    #[derive(Clone, Default)]
    struct FakeCheck {
        answer: Rc<RefCell<Option<std::result::Result<bool, String>>>>,
        asked: Rc<Cell<usize>>,
    }

    impl StoreCheck for FakeCheck {
        fn items_readable(
            &self,
            _profile: &ProfileName,
            _source: Source,
        ) -> std::result::Result<bool, String> {
            self.asked.set(self.asked.get() + 1);
            self.answer.borrow().clone().unwrap_or(Ok(true))
        }
    }

    /// The cache of one login (`ring`, its session keyring) of the user (`dir`, the data folder
    /// every login shares).
    fn cache(ring: &MemoryCache, dir: &std::path::Path) -> CredCache {
        cache_checked_by(ring, dir, FakeCheck::default())
    }

    fn cache_checked_by(ring: &MemoryCache, dir: &std::path::Path, check: FakeCheck) -> CredCache {
        CredCache::new(
            Box::new(ring.clone()),
            Box::new(check),
            dir.join("awskeep"),
            "bus-a".into(),
        )
    }

    /// Writes `dev`'s session entry with this deadline and time of the store's last word.
    fn put_entry(c: &CredCache, ring: &MemoryCache, not_after: u64, checked_at_ms: u128) {
        let generation = c.current_generation().unwrap();
        let entry = Entry {
            generation: &generation,
            not_after,
            fingerprint: "fp",
            checked_at_ms,
            source: Source::Session,
            json: "{}",
        };
        ring.put(
            &c.entry_name(&profile("dev")),
            &entry.render(),
            Duration::from_secs(60),
        )
        .unwrap();
    }

    #[test]
    fn an_entry_is_served_for_its_profile_settings_and_generation_only() {
        let dir = tempfile::tempdir().unwrap();
        let ring = MemoryCache::default();
        let one = cache(&ring, dir.path());
        let dev = profile("dev");
        assert!(one.lookup(&dev, "fp").is_err());
        one.keep(
            &dev,
            "fp",
            Source::Key,
            &json("{\"k\":1}\n"),
            Duration::from_secs(60),
        )
        .unwrap();

        // Another process of the same login.
        let two = cache(&ring, dir.path());
        let hit = two.lookup(&dev, "fp").expect("kept");
        assert_eq!(hit.expose_bytes(), b"{\"k\":1}\n");
        assert!(two.lookup(&dev, "other settings").is_err());
        assert!(two.lookup(&profile("prod"), "fp").is_err());

        // Another store (bus) has other names.
        let other_store = CredCache::new(
            Box::new(ring.clone()),
            Box::new(FakeCheck::default()),
            dir.path().join("awskeep"),
            "bus-b".into(),
        );
        assert!(other_store.lookup(&dev, "fp").is_err());
    }

    #[test]
    fn a_change_in_any_login_drops_every_entry_and_a_stale_read_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (login_a, login_b) = (MemoryCache::default(), MemoryCache::default());
        let dev = profile("dev");
        let a = cache(&login_a, dir.path());
        assert!(a.lookup(&dev, "fp").is_err());
        a.keep(
            &dev,
            "fp",
            Source::Key,
            &json("old"),
            Duration::from_secs(60),
        )
        .unwrap();

        // Login B reads the generation, then login A changes the store before B keeps its read.
        let b = cache(&login_b, dir.path());
        assert!(b.lookup(&dev, "fp").is_err());
        let writer = cache(&login_a, dir.path());
        writer.invalidate(Some(&dev)).unwrap();
        assert!(
            b.keep(
                &dev,
                "fp",
                Source::Key,
                &json("old"),
                Duration::from_secs(60)
            )
            .is_err(),
            "what B read before the change is not kept"
        );
        assert!(login_a.get(&a.entry_name(&dev)).is_none(), "dropped");

        // An entry another login kept before a change is there, but not served.
        let c = cache(&login_b, dir.path());
        assert!(c.lookup(&dev, "fp").is_err());
        c.keep(
            &dev,
            "fp",
            Source::Key,
            &json("old"),
            Duration::from_secs(60),
        )
        .unwrap();
        cache(&login_a, dir.path()).invalidate(None).unwrap();
        assert!(login_b.get(&c.entry_name(&dev)).is_some());
        assert!(cache(&login_b, dir.path()).lookup(&dev, "fp").is_err());
    }

    #[test]
    fn an_entry_past_its_deadline_is_not_served_even_if_the_keyring_still_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let ring = MemoryCache::default();
        let c = cache(&ring, dir.path());
        let dev = profile("dev");
        assert!(c.lookup(&dev, "fp").is_err());
        let now = unix_now().unwrap();
        put_entry(&c, &ring, now - 1, unix_now_ms().unwrap());
        assert_eq!(c.lookup(&dev, "fp").unwrap_err(), Miss::Missing);
    }

    #[test]
    fn the_store_is_asked_again_once_the_recheck_interval_is_over_and_its_no_drops_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let ring = MemoryCache::default();
        let check = FakeCheck::default();
        let c = cache_checked_by(&ring, dir.path(), check.clone());
        let dev = profile("dev");
        assert!(c.lookup(&dev, "fp").is_err());
        let now = unix_now().unwrap();
        let now_ms = unix_now_ms().unwrap();
        let interval = RECHECK_INTERVAL.as_millis();

        // Confirmed just now (as `keep` writes it): served without asking.
        put_entry(&c, &ring, now + 600, now_ms);
        assert!(c.lookup(&dev, "fp").is_ok());
        assert_eq!(check.asked.get(), 0);

        // Confirmed too long ago: asked; a yes serves it and restarts the interval.
        put_entry(&c, &ring, now + 600, now_ms - interval);
        assert!(c.lookup(&dev, "fp").is_ok());
        assert_eq!(check.asked.get(), 1);
        assert!(c.lookup(&dev, "fp").is_ok());
        assert_eq!(check.asked.get(), 1, "the yes was written back");

        // A clock that went back is not trusted either.
        put_entry(&c, &ring, now + 600, now_ms + 300_000);
        assert!(c.lookup(&dev, "fp").is_ok());
        assert_eq!(check.asked.get(), 2);

        // The store cannot be asked: nothing served, the entry stays for a later hit.
        put_entry(&c, &ring, now + 600, now_ms - 60_000);
        *check.answer.borrow_mut() = Some(Err("no bus".into()));
        assert_eq!(
            c.lookup(&dev, "fp").unwrap_err(),
            Miss::CouldNotAsk("no bus".into())
        );
        assert!(ring.get(&c.entry_name(&dev)).is_some());

        // Locked or gone: nothing served, and the entry is dropped.
        *check.answer.borrow_mut() = Some(Ok(false));
        assert_eq!(c.lookup(&dev, "fp").unwrap_err(), Miss::StoreSaysNo);
        assert!(ring.get(&c.entry_name(&dev)).is_none());
    }

    #[test]
    fn a_kept_entry_is_served_as_kept_and_a_damaged_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let ring = MemoryCache::default();
        let c = cache(&ring, dir.path());
        let dev = profile("dev");
        assert!(c.lookup(&dev, "fp").is_err());
        c.keep(
            &dev,
            "fp",
            Source::Session,
            &json("{\"a\":1}"),
            Duration::from_secs(60),
        )
        .unwrap();
        let text = ring.get(&c.entry_name(&dev)).unwrap();
        let entry = Entry::parse(text.expose_secret()).unwrap();
        assert_eq!(entry.source, Source::Session);
        assert_eq!(entry.json, "{\"a\":1}");
        assert!(unix_now_ms().unwrap() - entry.checked_at_ms < 1000);

        for damaged in [
            "awskeep-cache 1 x 1 fp\n{}",
            "awskeep-cache 2 g 1 fp 1\n{}",
            "{}",
        ] {
            ring.put(
                &c.entry_name(&dev),
                &SecretString::from(damaged.to_string()),
                Duration::from_secs(60),
            )
            .unwrap();
            assert_eq!(
                c.lookup(&dev, "fp").unwrap_err(),
                Miss::Missing,
                "{damaged}"
            );
        }
    }

    #[test]
    fn names_carry_no_profile_name_and_debug_shows_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(&MemoryCache::default(), dir.path());
        let name = c.entry_name(&profile("production-admin"));
        assert!(name.starts_with(PREFIX));
        assert!(!name.contains("production"));
        let secret = json("{\"SecretAccessKey\":\"wJalrXUtnFEMI\"}");
        assert_eq!(format!("{secret:?}"), "CredentialJson(** redacted **)");
    }

    #[test]
    fn the_setting_and_lifetimes() {
        use crate::profile::FileKind;
        let setting = |text: &str| {
            let doc =
                Document::parse(&format!("[profile dev]\n{text}\n"), FileKind::Config).unwrap();
            CacheSetting::from_config(&doc, &profile("dev"))
        };
        assert_eq!(setting("").unwrap(), CacheSetting::On(None));
        assert_eq!(setting("awskeep_cache = off").unwrap(), CacheSetting::Off);
        assert_eq!(
            setting("awskeep_cache = 5m").unwrap(),
            CacheSetting::On(Some(Duration::from_secs(300)))
        );
        assert!(setting("awskeep_cache = 2h").is_err());
        assert!(setting("awskeep_cache = sometimes").is_err());

        let hour = Duration::from_secs(3600);
        assert_eq!(
            CacheSetting::On(None).lifetime(None),
            Some(DEFAULT_KEY_BOUND)
        );
        assert_eq!(CacheSetting::On(None).lifetime(Some(hour)), Some(hour));
        assert_eq!(
            CacheSetting::On(Some(Duration::from_secs(300))).lifetime(Some(hour)),
            Some(Duration::from_secs(300))
        );
        assert_eq!(CacheSetting::Off.lifetime(None), None);
        assert_eq!(
            CacheSetting::On(None).lifetime(Some(Duration::from_secs(1))),
            None
        );
        let second = Duration::from_secs(1);
        assert_eq!(CacheSetting::On(Some(second)).lifetime(None), Some(second));
        assert_eq!(
            CacheSetting::On(Some(second)).lifetime(Some(hour)),
            Some(second)
        );
    }
}
