//! Which store a command uses when `--store` / `AWSKEEP_STORE` says nothing. On Linux: the store
//! recorded in `$XDG_DATA_HOME/awskeep/store` if there is one; else the file store if one exists
//! there; else the Secret Service when one runs on the session bus (or the bus starts one on demand
//! in a graphical session), else the file store. The choice is recorded by the first write to the
//! chosen store, so a machine's items never end up split across two stores because one login had a
//! desktop and another did not; `awskeep store move` is the way to change it.
//!
//! The choice depends on what the bus says, never on how fast a Secret Service starts: right after
//! `gnome-keyring-daemon --unlock` returns, the daemon takes its bus name some milliseconds later,
//! so a bus that could start one (but nothing runs yet, and no desktop could unlock a daemon the bus
//! started) is given `OWNER_WAIT` for a starting daemon to take the name. A bus that does not answer
//! (within `PROBE_LIMIT`, or with an error) decides nothing: the command fails and says how to
//! choose, so no write records the file store, or creates one, on the strength of a slow moment.
//!
//! The probe never starts a service and never waits past its limits: it asks the bus only
//! `NameHasOwner` / `ListActivatableNames`, on a thread that is abandoned when it is late (the peers'
//! hangs on `dbus-launch` and on WSL are what this avoids).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::data_dir::data_dir_error;
use super::kind::StoreKind;
use crate::error::{Error, Result};

/// How long the session bus may take to answer. Generous: a bus that is only slow (a loaded
/// machine; CI caught 200 ms being too short for 8 parallel first writes) must not fail a command.
/// A bus that does not answer in time fails the command (`Error::StoreChoiceUnknown`), which says
/// how to choose a store; it never picks one.
#[cfg(target_os = "linux")]
pub const PROBE_LIMIT: Duration = Duration::from_secs(2);

/// How long a bus that could start a Secret Service, where none runs and no desktop session could
/// unlock one it started, is watched for a starting one to take the name (gnome-keyring takes it a
/// few milliseconds after `gnome-keyring-daemon --unlock` returns; this allows for a loaded machine).
/// Only machines with no recorded choice and no file store pay it, once per command until the first
/// write records the choice.
#[cfg(target_os = "linux")]
pub const OWNER_WAIT: Duration = Duration::from_secs(2);

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
    #[cfg(not(target_os = "linux"))]
    PlatformDefault,
}

impl Reason {
    pub fn describe(&self) -> String {
        match self {
            Reason::Asked => "as --store / AWSKEEP_STORE asked".into(),
            Reason::Recorded(path) => format!("as recorded in {}", path.display()),
            Reason::Probed(why) => format!("{why}; recorded at the first write"),
            #[cfg(not(target_os = "linux"))]
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
        other => data_dir_error(other),
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
        other => data_dir_error(other),
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
        .map_err(data_dir_error)?;
    crate::config_file::write_atomically(
        &dir.join(RECORD_FILE),
        format!("{}\n", kind.arg_name()).as_bytes(),
    )
}

/// What the probe found (elsewhere than Linux, nothing is probed: `Absent`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    not(target_os = "linux"),
    allow(dead_code, reason = "probed on Linux only")
)]
pub enum Probe {
    /// A Secret Service owns its name on the session bus.
    Running,
    /// None runs, but the bus would start one.
    Activatable,
    /// No bus, or no Secret Service on it: a fact that holds until the user changes something.
    Absent(&'static str),
    /// The bus did not answer in time, or answered with an error: nothing can be concluded.
    Unknown(String),
}

/// Asks the session bus, within `limit`, whether a Secret Service is there. With `owner_wait`, a
/// Secret Service the bus could start but that does not run yet is given that long to take its
/// name (one that is starting right now), polled on the same thread.
#[cfg(target_os = "linux")]
pub fn probe_secret_service(limit: Duration, owner_wait: Option<Duration>) -> Probe {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("secret-service-probe".into())
        .spawn(move || ask_bus(owner_wait, &tx));
    if spawned.is_err() {
        return Probe::Unknown("the probe of the session bus could not start".into());
    }
    let first = rx.recv_timeout(limit).unwrap_or_else(|_| {
        Probe::Unknown(format!(
            "the session bus did not answer within {} s",
            limit.as_secs()
        ))
    });
    match (first, owner_wait) {
        // The thread sends `Running` once the name has an owner, and nothing otherwise.
        (Probe::Activatable, Some(wait)) => match rx.recv_timeout(wait) {
            Ok(Probe::Running) => Probe::Running,
            _ => Probe::Activatable,
        },
        (first, _) => first,
    }
}

#[cfg(target_os = "linux")]
fn ask_bus(owner_wait: Option<Duration>, tx: &std::sync::mpsc::Sender<Probe>) {
    const NAME: &str = "org.freedesktop.secrets";
    let send = |probe| {
        let _ = tx.send(probe);
    };
    let connection = match zbus::blocking::Connection::session() {
        Ok(connection) => connection,
        Err(e) if no_bus(&e) => return send(Probe::Absent("there is no session bus")),
        Err(e) => {
            return send(Probe::Unknown(format!(
                "the session bus did not answer ({e})"
            )));
        }
    };
    fn unknown(e: impl std::fmt::Display) -> Probe {
        Probe::Unknown(format!("the session bus did not answer ({e})"))
    }
    let dbus = match zbus::blocking::fdo::DBusProxy::new(&connection) {
        Ok(dbus) => dbus,
        Err(e) => return send(unknown(e)),
    };
    let name =
        || zbus::names::BusName::from(zbus::names::WellKnownName::from_static_str_unchecked(NAME));
    match dbus.name_has_owner(name()) {
        Ok(true) => return send(Probe::Running),
        Ok(false) => {}
        Err(e) => return send(unknown(e)),
    }
    match dbus.list_activatable_names() {
        Ok(names) if names.iter().any(|n| n.as_str() == NAME) => {}
        Ok(_) => return send(Probe::Absent("no Secret Service runs on the session bus")),
        Err(e) => return send(unknown(e)),
    }
    send(Probe::Activatable);
    let Some(wait) = owner_wait else {
        return;
    };
    let deadline = std::time::Instant::now() + wait;
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        if dbus.name_has_owner(name()).unwrap_or(false) {
            return send(Probe::Running);
        }
    }
}

/// Whether connecting failed because there is no session bus at all (no address, no socket, or
/// nobody listening on it), as opposed to a bus that is there but did not answer.
#[cfg(target_os = "linux")]
fn no_bus(error: &zbus::Error) -> bool {
    use std::io::ErrorKind as K;
    let gone = |io: &std::io::Error| {
        matches!(
            io.kind(),
            K::NotFound | K::ConnectionRefused | K::PermissionDenied | K::AddrNotAvailable
        )
    };
    match error {
        zbus::Error::Address(_) => true,
        zbus::Error::InputOutput(io) | zbus::Error::Connection(io, _) => gone(io),
        _ => false,
    }
}

/// The store to use without `--store`, given the recorded choice and a probe to run if needed.
/// A file store that exists (made by `awskeep unlock` before any write recorded it) is used
/// without probing. A probe that learnt nothing (`Probe::Unknown`) is an error: guessing the file
/// store there would let this command's first write create it, and tie the machine to it.
pub fn decide(
    recorded: Option<StoreKind>,
    record_path: &Path,
    file_store_exists: bool,
    graphical: bool,
    probe: impl FnOnce() -> Probe,
) -> Result<(StoreKind, Reason)> {
    if let Some(kind) = recorded {
        return Ok((kind, Reason::Recorded(record_path.to_path_buf())));
    }
    if file_store_exists {
        return Ok((
            StoreKind::File,
            Reason::Probed("a file store exists here".into()),
        ));
    }
    #[cfg(target_os = "linux")]
    {
        Ok(match probe() {
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
            Probe::Unknown(reason) => return Err(Error::StoreChoiceUnknown { reason }),
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (probe, graphical);
        Ok(match StoreKind::platform_default() {
            Some(kind) => (kind, Reason::PlatformDefault),
            None => (StoreKind::File, Reason::PlatformDefault),
        })
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_record_wins_and_the_probe_decides_otherwise() {
        let path = Path::new("/x/store");
        let kind = |recorded, exists, graphical, probe: Probe| {
            decide(recorded, path, exists, graphical, || probe)
                .unwrap()
                .0
        };
        let never = || panic!("probed despite a record");
        assert_eq!(
            decide(Some(StoreKind::File), path, false, true, never)
                .unwrap()
                .0,
            StoreKind::File
        );
        assert_eq!(
            kind(None, false, false, Probe::Running),
            StoreKind::SecretService
        );
        assert_eq!(
            kind(None, false, true, Probe::Activatable),
            StoreKind::SecretService
        );
        assert_eq!(
            kind(None, false, false, Probe::Activatable),
            StoreKind::File
        );
        assert_eq!(
            kind(None, false, true, Probe::Absent("none")),
            StoreKind::File
        );
        assert_eq!(
            decide(None, path, true, true, || panic!(
                "probed despite a file store"
            ))
            .unwrap()
            .0,
            StoreKind::File
        );
    }

    /// Protects the store choice from a bus that did not answer: no store is guessed (a guessed
    /// file store would be created and recorded by the first write).
    #[test]
    fn a_probe_that_learnt_nothing_chooses_no_store() {
        let path = Path::new("/x/store");
        for graphical in [false, true] {
            let decided = decide(None, path, false, graphical, || {
                Probe::Unknown("the session bus did not answer within 2 s".into())
            });
            assert!(
                matches!(&decided, Err(Error::StoreChoiceUnknown { reason }) if reason.contains("within 2 s")),
                "{decided:?}"
            );
        }
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
