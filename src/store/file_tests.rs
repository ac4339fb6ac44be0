//! What the encrypted file store promises beyond the shared suite: one unlock serves later
//! processes until `lock`; a passphrase from the environment opens it for its own process only,
//! and is checked even where a kept key exists; a wrong passphrase, a damaged file and another user's file are each
//! refused with their own error and change nothing; no file holds a secret or a profile name in
//! plain text; concurrent writers lose nothing.
#![cfg(test)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::facade::{CredentialStore, Openness};
use super::file::{ITEMS_FILE, MASTER_FILE};
use super::key_cache::MemoryCache;
use super::tests::{PASSPHRASE, file_backend, file_store, file_store_with};
use crate::error::Error;
use crate::profile_name::ProfileName;
use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey, StoredKey};

const ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn name(s: &str) -> ProfileName {
    ProfileName::parse(s).unwrap()
}

fn key() -> StoredKey {
    StoredKey::new(
        KeyPair {
            access_key_id: AccessKeyId::parse(ID).unwrap(),
            secret_access_key: SecretAccessKey::parse(SECRET).unwrap(),
        },
        None,
        SystemTime::now(),
    )
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir.join("awskeep"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn sixty_seconds() -> super::unlock::UnlockTimeout {
    super::unlock::UnlockTimeout::parse("60s").unwrap()
}

#[test]
fn one_unlock_serves_later_processes_until_lock() {
    let dir = tempfile::tempdir().unwrap();
    let cache = MemoryCache::default();
    let first = file_store(dir.path(), Box::new(cache.clone()));
    first.set(&name("dev"), &key()).unwrap();
    first.unlock(Some(sixty_seconds())).unwrap();
    // A later process with no passphrase source reads through the kept key.
    let later = file_store_with(dir.path(), Box::new(cache.clone()), None);
    assert!(later.get(&name("dev")).unwrap().is_some());
    let locking = file_backend(dir.path(), Box::new(cache.clone()), None);
    assert!(locking.lock_now().unwrap());
    assert!(!locking.lock_now().unwrap());
    let after_lock = file_store_with(dir.path(), Box::new(cache.clone()), None);
    let err = after_lock.get(&name("dev")).unwrap_err();
    assert!(matches!(err, Error::FileStoreLocked { .. }), "{err:?}");
    assert!(
        crate::hint::one_line(&err, Some(crate::cli::CommandKind::CredentialProcess))
            .contains("awskeep unlock"),
        "{}",
        crate::hint::one_line(&err, Some(crate::cli::CommandKind::CredentialProcess))
    );
    // Listing an empty or missing store needs no passphrase at all.
    let empty = tempfile::tempdir().unwrap();
    let fresh = file_store_with(empty.path(), Box::new(MemoryCache::default()), None);
    assert!(fresh.list().unwrap().is_empty());
    assert!(fresh.get(&name("dev")).unwrap().is_none());
}

/// Protects the passphrase variables' scope: given to one process they open the store for it
/// alone, and a wrong one is refused even while an `unlock` keeps the key for everyone else.
#[test]
fn a_passphrase_from_the_environment_opens_the_store_for_its_process_only() {
    let dir = tempfile::tempdir().unwrap();
    let cache = MemoryCache::default();
    // Created, written and read with the variable: nothing is kept for a later process.
    let with_variable = file_store(dir.path(), Box::new(cache.clone()));
    with_variable.set(&name("dev"), &key()).unwrap();
    assert!(with_variable.get(&name("dev")).unwrap().is_some());
    assert!(matches!(
        with_variable.openness(),
        Openness::File {
            passphrase_variable: Some("AWSKEEP_FILE_PASSPHRASE"),
            ..
        }
    ));
    let later = file_store_with(dir.path(), Box::new(cache.clone()), None);
    assert!(
        matches!(later.get(&name("dev")), Err(Error::FileStoreLocked { .. })),
        "the variable unlocked the store for later processes"
    );
    assert!(matches!(
        later.openness(),
        Openness::File {
            unlocked_for: None,
            ..
        }
    ));
    // After an explicit unlock, a wrong value is still refused, and a right one still opens it.
    file_store(dir.path(), Box::new(cache.clone()))
        .unlock(Some(sixty_seconds()))
        .unwrap();
    let wrong = file_store_with(dir.path(), Box::new(cache.clone()), Some("not it"));
    let err = wrong.get(&name("dev")).map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase { .. }), "{err:?}");
    let err = wrong.set(&name("prod"), &key()).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase { .. }), "{err:?}");
    assert!(
        file_store(dir.path(), Box::new(cache.clone()))
            .get(&name("dev"))
            .unwrap()
            .is_some()
    );
    assert!(later.get(&name("dev")).unwrap().is_some(), "still unlocked");
}

#[test]
fn a_wrong_passphrase_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    file_store(dir.path(), Box::new(MemoryCache::default()))
        .set(&name("dev"), &key())
        .unwrap();
    let before = files(dir.path());
    let cache = MemoryCache::default();
    let wrong = file_store_with(dir.path(), Box::new(cache.clone()), Some("not it"));
    for err in [
        wrong.get(&name("dev")).map(|_| ()).unwrap_err(),
        wrong.set(&name("prod"), &key()).unwrap_err(),
        wrong.unlock(Some(sixty_seconds())).map(|_| ()).unwrap_err(),
    ] {
        assert!(matches!(err, Error::WrongPassphrase { .. }), "{err:?}");
    }
    assert_eq!(files(dir.path()), before);
    // Nothing was kept for a later process either.
    let later = file_store_with(dir.path(), Box::new(cache), None);
    assert!(matches!(
        later.get(&name("dev")),
        Err(Error::FileStoreLocked { .. })
    ));
}

#[test]
fn no_file_holds_a_secret_or_a_profile_name_in_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path(), Box::new(MemoryCache::default()));
    store.set(&name("payments-prod"), &key()).unwrap();
    let found = files(dir.path());
    assert!(found.iter().any(|(n, _)| n == MASTER_FILE));
    assert!(found.iter().any(|(n, _)| n == ITEMS_FILE));
    for (file, bytes) in &found {
        for needle in [SECRET, ID, "payments-prod", PASSPHRASE, "AGE-SECRET-KEY"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{file} holds {needle}"
            );
            assert!(!file.contains("payments"), "{file}");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("awskeep")), 0o700);
        for file in [MASTER_FILE, ITEMS_FILE] {
            assert_eq!(
                mode(&dir.path().join("awskeep").join(file)),
                0o600,
                "{file}"
            );
        }
    }
}

#[test]
fn a_damaged_file_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path(), Box::new(MemoryCache::default()));
    store.set(&name("dev"), &key()).unwrap();
    let items = dir.path().join("awskeep").join(ITEMS_FILE);
    let mut bytes = std::fs::read(&items).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0x55;
    std::fs::write(&items, &bytes).unwrap();
    for err in [
        store.get(&name("dev")).map(|_| ()).unwrap_err(),
        store.set(&name("prod"), &key()).unwrap_err(),
    ] {
        assert!(matches!(err, Error::FileStoreDamaged { .. }), "{err:?}");
    }
    assert_eq!(std::fs::read(&items).unwrap(), bytes);
    // A passphrase file that is not one.
    let master = dir.path().join("awskeep").join(MASTER_FILE);
    std::fs::write(&master, b"not an age file").unwrap();
    let other = file_store(dir.path(), Box::new(MemoryCache::default()));
    let err = other.get(&name("dev")).unwrap_err();
    assert!(matches!(err, Error::FileStoreDamaged { .. }), "{err:?}");
}

#[cfg(unix)]
#[test]
fn another_users_file_is_refused() {
    if !rustix::process::geteuid().is_root() {
        // Handing a file to another user needs root; CI and the dev machines run as root.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path(), Box::new(MemoryCache::default()));
    store.set(&name("dev"), &key()).unwrap();
    let items = dir.path().join("awskeep").join(ITEMS_FILE);
    std::os::unix::fs::chown(&items, Some(65534), Some(65534)).unwrap();
    let err = store.get(&name("dev")).map(|_| ()).unwrap_err();
    assert!(
        matches!(err, Error::FileStoreForeign { owner: 65534, .. }),
        "{err:?}"
    );
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    file_store(dir.path(), Box::new(MemoryCache::default()))
        .set(&name("first"), &key())
        .unwrap();
    let root = dir.path().to_path_buf();
    let writers: Vec<_> = (0..6)
        .map(|i| {
            let root = root.clone();
            std::thread::spawn(move || {
                let store = file_store(&root, Box::new(MemoryCache::default()));
                store.set(&name(&format!("p{i}")), &key()).unwrap();
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let listed = file_store(dir.path(), Box::new(MemoryCache::default()))
        .list()
        .unwrap();
    assert_eq!(listed.len(), 7, "{listed:?}");
}

#[test]
fn a_move_copies_verifies_and_keeps_the_newer_item_once_recorded() {
    use crate::commands::store::{Kept, move_items};
    use crate::store::memory::MemoryStore;
    let dir = tempfile::tempdir().unwrap();
    let source = MemoryStore::default();
    source.set(&name("dev"), &key()).unwrap();
    source.set(&name("prod"), &key()).unwrap();
    let target = file_store(dir.path(), Box::new(MemoryCache::default()));
    let report = move_items(&source, &target, false).unwrap();
    assert_eq!(report.profiles, [name("dev"), name("prod")]);
    assert_eq!(target.list().unwrap(), [name("dev"), name("prod")]);
    // Re-run after the choice was recorded: the target's item, written later, wins.
    let other = KeyPair {
        access_key_id: AccessKeyId::parse("AKIAI44QH8DHBEXAMPLE").unwrap(),
        secret_access_key: SecretAccessKey::parse("other/secret").unwrap(),
    };
    let later = StoredKey::new(other, None, SystemTime::now() + Duration::from_secs(60));
    target.set(&name("dev"), &later).unwrap();
    let report = move_items(&source, &target, true).unwrap();
    assert_eq!(report.differed, [(name("dev"), Kept::TargetNewer)]);
    let held = |store: &CredentialStore| {
        store
            .get(&name("dev"))
            .unwrap()
            .unwrap()
            .key
            .access_key_id
            .as_str()
            .to_string()
    };
    assert_eq!(held(&target), "AKIAI44QH8DHBEXAMPLE");
    // The source's item written later still wins, even once the choice names the target.
    let latest = StoredKey::new(
        KeyPair {
            access_key_id: AccessKeyId::parse("AKIAJ55QH8DHBEXAMPLE").unwrap(),
            secret_access_key: SecretAccessKey::parse("third/secret").unwrap(),
        },
        None,
        SystemTime::now() + Duration::from_secs(120),
    );
    source.set(&name("dev"), &latest).unwrap();
    let report = move_items(&source, &target, true).unwrap();
    assert_eq!(report.differed, [(name("dev"), Kept::SourceNewer)]);
    assert_eq!(held(&target), "AKIAJ55QH8DHBEXAMPLE");
}

#[test]
fn a_store_that_holds_no_key_is_locked_by_another_process_lock_and_opened_by_its_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let cache = MemoryCache::default();
    let first = file_store(dir.path(), Box::new(cache.clone()));
    first.set(&name("dev"), &key()).unwrap();
    first.unlock(Some(sixty_seconds())).unwrap();
    // A long-running process (serve) with no passphrase source, and one that keeps its key.
    let serving = file_store_with(dir.path(), Box::new(cache.clone()), None);
    let keeping = file_store_with(dir.path(), Box::new(cache.clone()), None);
    assert!(serving.get(&name("dev")).unwrap().is_some());
    assert!(keeping.get(&name("dev")).unwrap().is_some());
    assert!(serving.hold_no_key());
    assert!(
        serving.get(&name("dev")).unwrap().is_some(),
        "still unlocked"
    );

    // `awskeep lock` in another process: the kept key outlives it, the one read each time does not.
    assert!(
        file_backend(dir.path(), Box::new(cache.clone()), None)
            .lock_now()
            .unwrap()
    );
    assert!(keeping.get(&name("dev")).unwrap().is_some());
    let before = files(dir.path());
    let err = serving.get(&name("dev")).unwrap_err();
    assert!(matches!(err, Error::FileStoreLocked { .. }), "{err:?}");
    let err = serving.set(&name("other"), &key()).unwrap_err();
    assert!(matches!(err, Error::FileStoreLocked { .. }), "{err:?}");
    assert_eq!(files(dir.path()), before, "nothing written");

    // `awskeep unlock` in another process: served again, and nothing of it is kept here.
    file_store(dir.path(), Box::new(cache.clone()))
        .unlock(Some(sixty_seconds()))
        .unwrap();
    serving.set(&name("other"), &key()).unwrap();
    assert!(serving.get(&name("other")).unwrap().is_some());
    assert!(
        file_backend(dir.path(), Box::new(cache.clone()), None)
            .lock_now()
            .unwrap()
    );
    assert!(serving.get(&name("other")).is_err());
}

/// Protects `unlock`'s honesty where the kernel keyring refuses the key (keyctl refused by a
/// container's seccomp filter, a keyring the process may not write): the passphrase is checked and
/// opens the store for this process, and `awskeep unlock` fails saying the key cannot be kept,
/// rather than claim an unlock later commands will not find.
#[test]
fn an_unlock_the_kernel_keyring_refuses_says_the_key_cannot_be_kept() {
    let dir = tempfile::tempdir().unwrap();
    file_store(dir.path(), Box::new(MemoryCache::default()))
        .set(&name("dev"), &key())
        .unwrap();
    let refusing = file_store(dir.path(), Box::new(super::key_cache::NoCache));
    let err = refusing
        .unlock(Some(sixty_seconds()))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, Error::UnlockNotKept { .. }), "{err:?}");
    assert!(refusing.get(&name("dev")).unwrap().is_some());
    let err = crate::commands::unlock::unlock(
        &file_store(dir.path(), Box::new(super::key_cache::NoCache)),
        crate::cli::UnlockArgs {
            timeout: Some(sixty_seconds()),
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::UnlockNotKept { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("the unlocked key cannot be kept for later commands"),
        "{err}"
    );
}
