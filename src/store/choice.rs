//! Which store a command uses when `--store` / `AWSKEEP_STORE` says nothing. On Linux: the store
//! recorded in `$XDG_DATA_HOME/awskeep/store` if there is one; else the Secret Service when the
//! session bus answers within `PROBE_LIMIT` and a Secret Service is running there (or can be
//! started there in a graphical session), else the file store. The choice is recorded by the first
//! write to the chosen store, so a machine's items never end up split across two stores because one
//! login had a desktop and another did not; `awskeep store move` is the way to change it.
//!
//! The probe never starts a service and never waits past its limit: it asks the bus only
//! `NameHasOwner` / `ListActivatableNames`, on a thread that is abandoned when it is late (the peers'
//! hangs on `dbus-launch` and on WSL are what this avoids).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreKind;
use crate::error::{Error, Result};

/// How long the session bus may take to answer before the file store is chosen. Generous: a bus
/// that is only slow (a loaded machine; CI caught 200 ms being too short for 8 parallel first
/// writes) must not send a desktop user's first key to a new file store. A bus that hangs costs
/// this once per machine at most: the first write records the choice.
pub const PROBE_LIMIT: Duration = Duration::from_secs(2);

/// The file, in the store folder, that records the choice.
pub const RECORD_FILE: &str = "store";

/// How the store was picked, for `-v` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `--store` or `AWSKEEP_STORE`.
    Asked,
    /// Recorded in the store folder.
    Recorded(PathBuf),
    /// Chosen now by the probe; recorded at the first write.
    Probed(String),
    /// The only store this platform has by default.
    PlatformDefault,
}

impl Reason {
    pub fn describe(&self) -> String {
        match self {
            Reason::Asked => "as --store / AWSKEEP_STORE asked".into(),
            Reason::Recorded(path) => format!("as recorded in {}", path.display()),
            Reason::Probed(why) => format!("{why}; recorded at the first write"),
            Reason::PlatformDefault => "the platform's keychain".into(),
        }
    }
}

/// The recorded choice, if any.
pub fn recorded(dir: &Path) -> Result<Option<StoreKind>> {
    let path = dir.join(RECORD_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => match StoreKind::from_arg_name(text.trim()) {
            Some(kind) => Ok(Some(kind)),
            None => Err(Error::StoreChoiceUnreadable { path }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadFile { path, source }),
    }
}

/// The lock every command that opens a store holds (shared) while it runs, and `store move` holds
/// (exclusively) across its copy, read-back, choice record, config rewrite and delete: no command
/// reads or writes a store while its items change stores, so nothing written during a move is lost
/// and nothing reads a store the move is emptying. A command resolves the choice only once it holds
/// the lock, so one that waited for a move uses the store the move chose.
pub const MOVE_LOCK: &str = "store-move.lock";
/// Taken by a move before it waits for `MOVE_LOCK`, and briefly by every command before it takes
/// `MOVE_LOCK`: a move waiting for the commands already running is not starved by new ones.
const MOVE_GATE: &str = "store-move-gate.lock";
/// How long a command waits for a move to finish, and a move for running commands to finish.
pub const MOVE_WAIT: Duration = Duration::from_secs(60);

/// Held by a command while it uses a store (see `MOVE_LOCK`).
#[derive(Debug)]
pub struct InUse {
    _lock: crate::lock::FileLock,
}

/// Takes `MOVE_LOCK` shared, waiting for a move in progress.
pub fn in_use(dir: &Path) -> Result<InUse> {
    let moving = |e| match e {
        crate::lock::LockError::TimedOut { path } => Error::StoreMoving { path },
        other => super::data_dir_error(other),
    };
    let gate = match crate::lock::FileLock::acquire_shared(dir, MOVE_GATE, Duration::ZERO) {
        Ok(gate) => gate,
        Err(crate::lock::LockError::TimedOut { .. }) => {
            crate::output::say(&format!(
                "awskeep: waiting for `awskeep store move` to finish (at most {} s)...",
                MOVE_WAIT.as_secs()
            ));
            crate::lock::FileLock::acquire_shared(dir, MOVE_GATE, MOVE_WAIT).map_err(moving)?
        }
        Err(other) => return Err(moving(other)),
    };
    let lock = crate::lock::FileLock::acquire_shared(dir, MOVE_LOCK, MOVE_WAIT).map_err(moving)?;
    drop(gate);
    Ok(InUse { _lock: lock })
}

/// Held by `store move` from before it opens the stores until it is done.
#[derive(Debug)]
pub struct Moving {
    _gate: crate::lock::FileLock,
    _lock: crate::lock::FileLock,
}

/// Takes `MOVE_LOCK` exclusively, waiting for the commands that use a store to finish.
pub fn moving(dir: &Path) -> Result<Moving> {
    let busy = |e| match e {
        crate::lock::LockError::TimedOut { path } => Error::StoreInUse { path },
        other => super::data_dir_error(other),
    };
    let gate = crate::lock::FileLock::acquire(dir, MOVE_GATE, MOVE_WAIT).map_err(busy)?;
    let lock = crate::lock::FileLock::acquire(dir, MOVE_LOCK, MOVE_WAIT).map_err(busy)?;
    Ok(Moving {
        _gate: gate,
        _lock: lock,
    })
}

/// Records `kind` as this machine's store (atomic; the folder is made private).
pub fn record(dir: &Path, kind: StoreKind) -> Result<()> {
    // The lock's folder check makes the folder 0700 and refuses a foreign or linked one.
    let _lock = crate::lock::FileLock::acquire(dir, "store.lock", Duration::from_secs(20))
        .map_err(super::data_dir_error)?;
    crate::config_file::write_atomically(
        &dir.join(RECORD_FILE),
        format!("{}\n", kind.arg_name()).as_bytes(),
    )
}

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A Secret Service owns its name on the session bus.
    Running,
    /// None runs, but the bus would start one.
    Activatable,
    /// No bus, no Secret Service, or no answer in time.
    Absent(&'static str),
}

/// Asks the session bus, within `limit`, whether a Secret Service is there.
#[cfg(target_os = "linux")]
pub fn probe_secret_service(limit: Duration) -> Probe {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("secret-service-probe".into())
        .spawn(move || {
            let _ = tx.send(ask_bus());
        });
    if spawned.is_err() {
        return Probe::Absent("the probe could not start");
    }
    rx.recv_timeout(limit)
        .unwrap_or(Probe::Absent("the session bus did not answer in time"))
}

#[cfg(target_os = "linux")]
fn ask_bus() -> Probe {
    const NAME: &str = "org.freedesktop.secrets";
    let Ok(connection) = zbus::blocking::Connection::session() else {
        return Probe::Absent("there is no session bus");
    };
    let Ok(dbus) = zbus::blocking::fdo::DBusProxy::new(&connection) else {
        return Probe::Absent("the session bus did not answer");
    };
    let Ok(name) = zbus::names::BusName::try_from(NAME) else {
        return Probe::Absent("the Secret Service name is invalid");
    };
    if dbus.name_has_owner(name).unwrap_or(false) {
        return Probe::Running;
    }
    let activatable = dbus
        .list_activatable_names()
        .map(|names| names.iter().any(|n| n.as_str() == NAME))
        .unwrap_or(false);
    if activatable {
        Probe::Activatable
    } else {
        Probe::Absent("no Secret Service runs on the session bus")
    }
}

/// The store to use without `--store`, given the recorded choice and a probe to run if needed.
/// A file store that exists (made by `awskeep unlock` before any write recorded it) is used
/// without probing.
pub fn decide(
    recorded: Option<StoreKind>,
    record_path: &Path,
    file_store_exists: bool,
    graphical: bool,
    probe: impl FnOnce() -> Probe,
) -> (StoreKind, Reason) {
    if let Some(kind) = recorded {
        return (kind, Reason::Recorded(record_path.to_path_buf()));
    }
    if file_store_exists {
        return (
            StoreKind::File,
            Reason::Probed("a file store exists here".into()),
        );
    }
    #[cfg(target_os = "linux")]
    {
        match probe() {
            Probe::Running => (
                StoreKind::SecretService,
                Reason::Probed("a Secret Service answered on the session bus".into()),
            ),
            // In a desktop session the bus starts the keyring daemon on demand; without one the
            // started daemon could only wait for a password dialog nobody can see.
            Probe::Activatable if graphical => (
                StoreKind::SecretService,
                Reason::Probed("the session bus starts a Secret Service on demand".into()),
            ),
            Probe::Activatable => (
                StoreKind::File,
                Reason::Probed(
                    "the session bus could start a Secret Service, but there is no desktop session to unlock it".into(),
                ),
            ),
            Probe::Absent(why) => (StoreKind::File, Reason::Probed(why.into())),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (probe, graphical);
        match StoreKind::platform_default() {
            Some(kind) => (kind, Reason::PlatformDefault),
            None => (StoreKind::File, Reason::PlatformDefault),
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_record_wins_and_the_probe_decides_otherwise() {
        let path = Path::new("/x/store");
        let never = || panic!("probed despite a record");
        assert_eq!(
            decide(Some(StoreKind::File), path, false, true, never).0,
            StoreKind::File
        );
        assert_eq!(
            decide(None, path, false, false, || Probe::Running).0,
            StoreKind::SecretService
        );
        assert_eq!(
            decide(None, path, false, true, || Probe::Activatable).0,
            StoreKind::SecretService
        );
        assert_eq!(
            decide(None, path, false, false, || Probe::Activatable).0,
            StoreKind::File
        );
        assert_eq!(
            decide(None, path, false, true, || Probe::Absent("none")).0,
            StoreKind::File
        );
        assert_eq!(
            decide(None, path, true, true, || panic!(
                "probed despite a file store"
            ))
            .0,
            StoreKind::File
        );
    }

    #[test]
    fn the_record_round_trips_and_an_unknown_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("awskeep");
        assert_eq!(recorded(&store_dir).unwrap(), None);
        record(&store_dir, StoreKind::File).unwrap();
        assert_eq!(recorded(&store_dir).unwrap(), Some(StoreKind::File));
        std::fs::write(store_dir.join(RECORD_FILE), "floppy\n").unwrap();
        assert!(matches!(
            recorded(&store_dir),
            Err(Error::StoreChoiceUnreadable { .. })
        ));
    }
}
