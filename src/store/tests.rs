//! The shared store tests: one suite run through the typed facade over every byte-level store
//! awskeep has here (the memory store, `KeyringBackedStore` over the contract double of each
//! platform's store crate, and the encrypted file store), then the store paths of every command run
//! against each of them, and what the facade adds (the credential cache, the recorded choice).
#![cfg(test)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Parser;

use super::contract_double::{ContractStore, Platform, as_keyring_store};
use super::facade::{CredentialStore, Items};
use super::file::FileStore;
use super::index::INDEX_USER;
use super::key_cache::MemoryCache;
use super::keyring::{KeyringBackedStore, SERVICE};
use super::kind::{Flavor, StoreKind};
use super::memory::{MemoryItems, MemoryStore};
use super::unlock::PassphraseSources;
use crate::context::Context;
use crate::error::Error;
use crate::profile_name::ProfileName;
use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey, StoredKey};
use crate::session::Session;

const ID: &str = "AKIAIOSFODNN7EXAMPLE";
const OTHER_ID: &str = "AKIAI44QH8DHBEXAMPLE";

fn flavor(platform: Platform) -> Flavor {
    match platform {
        Platform::Linux => Flavor::SecretService,
        Platform::MacOs => Flavor::Keychain,
        Platform::Windows => Flavor::CredentialManager,
    }
}

fn adapter(double: &Arc<ContractStore>, platform: Platform, lock_dir: &Path) -> CredentialStore {
    CredentialStore::new(Box::new(KeyringBackedStore::new(
        as_keyring_store(double.clone()),
        flavor(platform),
        Some(lock_dir.to_path_buf()),
    )))
}

pub(super) const PASSPHRASE: &str = "correct horse battery staple";

/// A file store in `dir` whose passphrase comes from the "environment" and whose kept key lives in
/// `cache` (share one cache between two stores to model two processes after an unlock).
pub(super) fn file_store(
    dir: &Path,
    cache: Box<dyn super::key_cache::KeyCache>,
) -> CredentialStore {
    file_store_with(dir, cache, Some(PASSPHRASE))
}

pub(super) fn file_store_with(
    dir: &Path,
    cache: Box<dyn super::key_cache::KeyCache>,
    passphrase: Option<&str>,
) -> CredentialStore {
    CredentialStore::file(file_backend(dir, cache, passphrase))
}

/// The file store itself, as `open::lock` uses it.
pub(super) fn file_backend(
    dir: &Path,
    cache: Box<dyn super::key_cache::KeyCache>,
    passphrase: Option<&str>,
) -> FileStore {
    FileStore::new(
        dir.join("awskeep"),
        PassphraseSources {
            env: passphrase.map(|p| secrecy::SecretString::from(p.to_string())),
            command: None,
            terminal: false,
            scrypt_log_n: Some(10),
            command_deadline: std::time::Duration::from_secs(30),
        },
        cache,
        super::unlock::UnlockTimeout::parse("1h").unwrap(),
        false,
    )
}

fn name(s: &str) -> ProfileName {
    ProfileName::parse(s).unwrap()
}

fn key(id: &str) -> StoredKey {
    StoredKey::new(
        KeyPair {
            access_key_id: AccessKeyId::parse(id).unwrap(),
            secret_access_key: SecretAccessKey::parse(&format!("secret/{id}")).unwrap(),
        },
        None,
        SystemTime::now(),
    )
}

fn session(token_len: usize) -> Session {
    Session {
        access_key_id: "ASIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "s".into(),
        session_token: "t".repeat(token_len).into(),
        expiration: SystemTime::now() + Duration::from_secs(3600),
        source_key_id: ID.into(),
        mfa_serial: None,
        role: None,
    }
}

fn stored_id(store: &CredentialStore, profile: &str) -> Option<String> {
    store
        .get(&name(profile))
        .unwrap()
        .map(|k| k.key.access_key_id.as_str().to_string())
}

/// What every store must do, whatever its backend.
fn store_suite(store: &CredentialStore) {
    let label = store.display_name();
    assert!(store.list().unwrap().is_empty(), "{label}");
    assert!(store.get(&name("dev")).unwrap().is_none(), "{label}");
    let odd = "a.b_c-d+e@f";
    let long = "p".repeat(128);
    for profile in ["dev", "prod", odd, &long, "default"] {
        store.set(&name(profile), &key(ID)).unwrap();
    }
    store.set(&name("dev"), &key(OTHER_ID)).unwrap();
    assert_eq!(
        stored_id(store, "dev").as_deref(),
        Some(OTHER_ID),
        "{label}"
    );
    // Profile names are case-sensitive in AWS: `Dev` is another profile, whatever the store.
    store.set(&name("Dev"), &key(ID)).unwrap();
    assert_eq!(stored_id(store, "Dev").as_deref(), Some(ID), "{label}");
    assert_eq!(
        stored_id(store, "dev").as_deref(),
        Some(OTHER_ID),
        "{label}"
    );
    assert!(store.delete(&name("Dev")).unwrap(), "{label}");
    assert_eq!(
        stored_id(store, "dev").as_deref(),
        Some(OTHER_ID),
        "{label}"
    );
    assert_eq!(stored_id(store, odd).as_deref(), Some(ID), "{label}");
    let stored = store.get(&name("dev")).unwrap().unwrap();
    assert_eq!(
        stored.key.secret_access_key.expose_secret(),
        format!("secret/{OTHER_ID}")
    );
    let mut expected = vec![
        name("default"),
        name("dev"),
        name(odd),
        name(&long),
        name("prod"),
    ];
    expected.sort();
    assert_eq!(store.list().unwrap(), expected, "{label}");

    // A session is its own item: it neither shows in the list nor replaces the key.
    assert!(store.get_session(&name("dev")).unwrap().is_none());
    store.set_session(&name("dev"), &session(400)).unwrap();
    assert!(
        store.get_session(&name("dev")).unwrap().is_some(),
        "{label}"
    );
    assert_eq!(
        stored_id(store, "dev").as_deref(),
        Some(OTHER_ID),
        "{label}"
    );
    assert_eq!(store.list().unwrap(), expected, "{label}");
    assert!(store.delete_session(&name("dev")).unwrap());
    assert!(!store.delete_session(&name("dev")).unwrap());

    assert!(store.delete(&name("prod")).unwrap(), "{label}");
    assert!(!store.delete(&name("prod")).unwrap(), "{label}");
    assert!(store.get(&name("prod")).unwrap().is_none());
    assert!(!store.list().unwrap().contains(&name("prod")), "{label}");
}

#[test]
fn the_memory_store_passes_the_suite() {
    store_suite(&MemoryStore::default());
}

#[test]
fn the_file_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    store_suite(&file_store(dir.path(), Box::new(MemoryCache::default())));
}

#[test]
fn the_keyring_adapter_passes_the_suite_on_every_platform_double() {
    for platform in Platform::ALL {
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::new(platform);
        store_suite(&adapter(&double, platform, dir.path()));
    }
}

#[test]
fn correctness_does_not_depend_on_search() {
    for platform in Platform::ALL {
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::without_search(platform);
        store_suite(&adapter(&double, platform, dir.path()));
    }
}

/// The first contract test: the `label` modifier every store call passed before 0.2 is refused by
/// the macOS and Windows crates (keyring-core's `parse_attributes`: "unknown key"), accepted only by
/// the Secret Service; and a search by `service`, which `list` made, is refused on Windows.
#[test]
fn the_label_modifier_awskeep_used_to_pass_fails_on_macos_and_windows() {
    let old_modifiers = HashMap::from([("label", "awskeep: AWS access key for profile dev")]);
    for platform in Platform::ALL {
        let double = ContractStore::new(platform);
        let built = double.build_entry(SERVICE, "dev", Some(&old_modifiers));
        match platform {
            Platform::Linux => assert!(built.is_ok()),
            Platform::MacOs | Platform::Windows => {
                let err = built.unwrap_err();
                assert!(
                    matches!(&err, keyring_core::Error::Invalid(k, why) if k == "label" && why == "unknown key"),
                    "{platform:?}: {err:?}"
                );
            }
        }
    }
    let windows = ContractStore::new(Platform::Windows);
    let err = windows
        .search_entries(&HashMap::from([("service", SERVICE)]))
        .unwrap_err();
    assert!(
        matches!(&err, keyring_core::Error::Invalid(k, why) if k == "service" && why == "unknown key"),
        "{err:?}"
    );
}

#[test]
fn windows_names_items_user_dot_service_and_limits_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let double = ContractStore::new(Platform::Windows);
    let store = adapter(&double, Platform::Windows, dir.path());
    store.set(&name("dev"), &key(ID)).unwrap();
    store.set_session(&name("dev"), &session(400)).unwrap();
    assert_eq!(
        double.item_names(),
        [":index.awskeep", "dev.awskeep", "dev:session.awskeep"]
    );
    // Kept on this machine: not the crate's default Enterprise persistence, which roams.
    assert_eq!(double.attributes_of("dev.awskeep")["persistence"], "Local");
    // A session larger than a Windows credential blob is refused before anything is written.
    let err = store.set_session(&name("dev"), &session(3000)).unwrap_err();
    assert!(
        matches!(err, Error::StoreItemTooLarge { limit: 2560, .. }),
        "{err:?}"
    );
    assert!(store.get_session(&name("dev")).unwrap().is_some());
    // The same session fits the other stores.
    for platform in [Platform::Linux, Platform::MacOs] {
        let double = ContractStore::new(platform);
        let store = adapter(&double, platform, dir.path());
        store.set_session(&name("dev"), &session(3000)).unwrap();
    }
}

/// Only the Secret Service can hold items from an awskeep that kept no index: on macOS and Windows
/// every earlier awskeep failed at its first store call.
#[test]
fn the_index_outgrows_one_windows_item_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let double = ContractStore::without_search(Platform::Windows);
    let store = adapter(&double, Platform::Windows, dir.path());
    let names: Vec<String> = (0..120)
        .map(|i| format!("{i:03}-{}", "p".repeat(100)))
        .collect();
    for n in &names {
        store.set(&name(n), &key(ID)).unwrap();
    }
    let chunks = double
        .item_names()
        .into_iter()
        .filter(|n| n.starts_with(":index"))
        .count();
    assert!(chunks > 1, "the index should span several items");
    let listed: Vec<String> = store
        .list()
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(listed, names);
    for n in names.iter().step_by(2) {
        store.delete(&name(n)).unwrap();
    }
    let listed: Vec<String> = store
        .list()
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    let kept: Vec<String> = names.iter().skip(1).step_by(2).cloned().collect();
    assert_eq!(listed, kept);
}

#[test]
fn an_unreadable_index_is_an_error_where_search_cannot_rebuild_it() {
    for platform in Platform::ALL {
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::new(platform);
        let store = adapter(&double, platform, dir.path());
        store.set(&name("dev"), &key(ID)).unwrap();
        let index_item = double
            .item_names()
            .into_iter()
            .find(|n| n.contains(INDEX_USER))
            .unwrap();
        double.overwrite(&index_item, b"garbage");
        match platform {
            // The Secret Service can search: the index is rebuilt and nothing is lost.
            Platform::Linux => {
                store.set(&name("prod"), &key(ID)).unwrap();
                assert_eq!(store.list().unwrap(), [name("dev"), name("prod")]);
            }
            Platform::MacOs | Platform::Windows => {
                let err = store.set(&name("prod"), &key(ID)).unwrap_err();
                assert!(matches!(err, Error::StoreIndexCorrupt { .. }), "{err:?}");
                assert!(store.get(&name("prod")).unwrap().is_none());
                assert!(matches!(store.list(), Err(Error::StoreIndexCorrupt { .. })));
            }
        }
        // A newer awskeep's index is never overwritten, on any store.
        double.overwrite(&index_item, br#"{"version":2,"profiles":[]}"#);
        let err = store.set(&name("qa"), &key(ID)).unwrap_err();
        assert!(
            matches!(err, Error::StoreIndexCorrupt { .. }),
            "{platform:?}: {err:?}"
        );
    }
}

#[test]
fn items_from_before_the_index_are_listed_and_then_recorded() {
    {
        let platform = Platform::Linux;
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::new(platform);
        // What an index-less awskeep left: key items and a session item, no index.
        double.add_foreign(SERVICE, "old", &key(ID).to_item_bytes());
        double.add_foreign(SERVICE, "old:session", b"{}");
        let store = adapter(&double, platform, dir.path());
        assert_eq!(store.list().unwrap(), [name("old")], "{platform:?}");
        assert!(
            double.item_names().iter().any(|n| n.contains(INDEX_USER)),
            "{platform:?}: the index was not written"
        );
        // Adding another profile keeps the old one listed.
        store.set(&name("new"), &key(OTHER_ID)).unwrap();
        assert_eq!(
            store.list().unwrap(),
            [name("new"), name("old")],
            "{platform:?}"
        );
    }
}

#[test]
fn other_programs_items_are_never_listed() {
    // Items under other services, and on Windows targets that merely look like awskeep's.
    for platform in Platform::ALL {
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::new(platform);
        double.add_foreign("git:https://example.com", "me", b"token");
        double.add_foreign("other-app", "dev", b"x");
        double.add_foreign("awskeep-backup", "prod", b"x");
        double.add_foreign("x", "y.awskeep", b"x");
        let store = adapter(&double, platform, dir.path());
        store.set(&name("dev"), &key(ID)).unwrap();
        assert_eq!(store.list().unwrap(), [name("dev")], "{platform:?}");
    }
}

#[test]
fn an_index_entry_whose_key_never_arrived_reads_as_no_key() {
    for platform in Platform::ALL {
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::without_search(platform);
        let store = adapter(&double, platform, dir.path());
        store.set(&name("dev"), &key(ID)).unwrap();
        // As if the process died after the index write and before the key write.
        let key_item = match platform {
            Platform::Windows => "dev.awskeep".to_string(),
            _ => double
                .item_names()
                .into_iter()
                .find(|n| n.starts_with("awskeep/dev"))
                .unwrap(),
        };
        double.remove_item(&key_item);
        assert_eq!(store.list().unwrap(), [name("dev")]);
        assert!(store.get(&name("dev")).unwrap().is_none());
        assert!(!store.delete(&name("dev")).unwrap());
        assert!(store.list().unwrap().is_empty(), "{platform:?}");
    }
}

// --- Every command's store path, against each platform's double -------------------------------

fn context(dir: &Path) -> Context {
    Context {
        lock_dir: Some(dir.join("locks")),
        ..Context::for_test(dir)
    }
}

fn run(ctx: &Context, store: &CredentialStore, args: &[&str]) -> crate::error::Result<()> {
    let cli =
        crate::cli::Cli::try_parse_from(std::iter::once("awskeep").chain(args.iter().copied()))
            .unwrap();
    crate::run_with(ctx, store, &crate::aws::fake::FakeAws::default(), cli)
}

fn write_csv(dir: &Path, id: &str) -> String {
    let path = dir.join(format!("{id}.csv"));
    std::fs::write(
        &path,
        format!("Access key ID,Secret access key\n{id},secret/{id}\n"),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn every_command_runs_its_store_path_on_every_platform_double() {
    for platform in Platform::ALL {
        let dir = tempfile::tempdir().unwrap();
        let double = ContractStore::without_search(platform);
        let store = adapter(&double, platform, &dir.path().join("locks"));
        every_command(dir.path(), &store, &format!("{platform:?}"));
        // The Windows crate's enumeration aborted under Wine; nothing on macOS needs it either.
        if platform != Platform::Linux {
            assert_eq!(double.searches(), 0, "{platform:?} was searched");
        }
    }
}

#[test]
fn every_command_runs_its_store_path_on_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path(), Box::new(MemoryCache::default()));
    every_command(dir.path(), &store, "file store");
}

fn every_command(dir: &Path, store: &CredentialStore, platform: &str) {
    {
        let ctx = context(dir);
        let dir = &dir;
        let on = |args: &[&str]| {
            run(&ctx, store, args).unwrap_or_else(|e| panic!("{platform:?} {args:?}: {e}"))
        };

        on(&["add", "dev", "--csv", &write_csv(dir, ID), "--no-verify"]);
        on(&[
            "import",
            "--csv",
            &write_csv(dir, OTHER_ID),
            "--profile",
            "ci",
            "--no-verify",
        ]);
        std::fs::write(
            &ctx.credentials_file,
            "[legacy]\naws_access_key_id = AKIAJ7EXAMPLEKEY1234\naws_secret_access_key = legacy/secret\n",
        )
        .unwrap();
        on(&["migrate", "--no-verify", "--yes"]);
        on(&["credential-process", "--profile", "dev"]);
        on(&["list"]);
        on(&["list", "--json"]);
        on(&["rotate", "--all", "--older-than", "3650d"]);
        store.set_session(&name("dev"), &session(400)).unwrap();
        on(&["session", "clear", "--all"]);
        assert!(
            store.get_session(&name("dev")).unwrap().is_none(),
            "{platform:?}"
        );
        assert_eq!(
            store.list().unwrap(),
            [name("ci"), name("dev"), name("legacy")],
            "{platform:?}"
        );
        assert_eq!(
            stored_id(store, "legacy").as_deref(),
            Some("AKIAJ7EXAMPLEKEY1234")
        );
        on(&["remove", "dev", "--yes"]);
        assert_eq!(
            store.list().unwrap(),
            [name("ci"), name("legacy")],
            "{platform:?}"
        );
        let err = run(&ctx, store, &["credential-process", "--profile", "dev"]).unwrap_err();
        assert!(
            matches!(err, Error::NoStoredKey { .. } | Error::NoSuchProfile { .. }),
            "{err:?}"
        );
    }
}

// --- The credential cache in front of a store -------------------------------------------------

struct Readable;

impl super::cred_cache::StoreCheck for Readable {
    fn items_readable(
        &self,
        _profile: &ProfileName,
        _source: super::cred_cache::Source,
    ) -> std::result::Result<bool, String> {
        Ok(true)
    }
}

/// Protects: a store delete through the cached store drops the credential cache, this login's
/// entry and another login's (`remove` also drops the session, which invalidates on its own;
/// this test does not lean on that).
#[test]
fn a_delete_through_the_cached_store_leaves_no_entry_served_in_any_login() {
    use super::cred_cache::{CredCache, CredentialJson, Source};
    let dir = tempfile::tempdir().unwrap();
    let login = |ring: &MemoryCache| {
        CredCache::new(
            Box::new(ring.clone()),
            Box::new(Readable),
            dir.path().join("awskeep"),
            "bus-a".into(),
        )
    };
    let (ring, other_ring) = (MemoryCache::default(), MemoryCache::default());
    let items = Items::WhenUsed {
        open: Box::new(|| Ok(Box::new(MemoryItems::default()) as Box<dyn super::item::ItemStore>)),
        opened: std::cell::OnceCell::new(),
    };
    let cached = CredentialStore {
        cache: Some(login(&ring)),
        ..CredentialStore::with("cached memory store", items)
    };
    let other = login(&other_ring);
    let dev = name("dev");
    cached.set(&dev, &key(ID)).unwrap();
    let json = CredentialJson::new(zeroize::Zeroizing::new(b"{}".to_vec()));
    for cache in [cached.cred_cache().unwrap(), &other] {
        assert!(cache.lookup(&dev, "fp").is_err(), "nothing kept yet");
        cache
            .keep(&dev, "fp", Source::Key, &json, Duration::from_secs(60))
            .unwrap();
        assert!(cache.lookup(&dev, "fp").is_ok(), "kept");
    }
    assert!(cached.delete(&dev).unwrap());
    assert!(
        cached.cred_cache().unwrap().lookup(&dev, "fp").is_err(),
        "this login's entry"
    );
    assert!(other.lookup(&dev, "fp").is_err(), "another login's entry");
}

/// A store the probe chose is recorded once a key write succeeded, not before.
#[test]
fn a_failed_first_write_records_no_choice_and_a_good_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::default();
    store.fail_call(
        1,
        Error::StoreLocked {
            store: Flavor::SecretService,
        },
    );
    store
        .record
        .replace(Some((StoreKind::File, dir.path().to_path_buf())));
    let profile = name("dev");
    assert!(store.set(&profile, &key(ID)).is_err());
    assert_eq!(super::choice::recorded(dir.path()).unwrap(), None);
    store.set(&profile, &key(ID)).unwrap();
    assert_eq!(
        super::choice::recorded(dir.path()).unwrap(),
        Some(StoreKind::File)
    );
}
