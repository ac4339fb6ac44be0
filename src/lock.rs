//! Advisory cross-process locks: a file under awskeep's lock directory (`$XDG_RUNTIME_DIR/awskeep`,
//! else the user's cache dir), locked with the OS's own file lock (`flock` on Unix, `LockFileEx` on
//! Windows), so the lock is released when its holder dies, even by SIGKILL. A lock file holds nothing.
//! Callers turn a timeout into their own error, naming what was being waited for.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

#[derive(Debug)]
pub enum LockError {
    /// Another process held the lock for the whole wait.
    TimedOut { path: PathBuf },
    /// The lock directory is not the user's own private folder (a symlink, another owner, open to
    /// others): a lock there could be held or redirected by someone else.
    #[cfg_attr(
        not(unix),
        allow(dead_code, reason = "only Unix checks a lock folder's owner and mode")
    )]
    Unsafe { path: PathBuf, reason: &'static str },
    /// The lock directory or file could not be created or locked.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl LockError {
    /// The error a command reports: `timed_out` says what the wait was for (another awskeep editing
    /// the file, refreshing the session, moving the store); the other two are the same everywhere.
    pub fn into_error(
        self,
        timed_out: impl FnOnce(PathBuf) -> crate::error::Error,
    ) -> crate::error::Error {
        use crate::error::Error;
        match self {
            LockError::TimedOut { path } => timed_out(path),
            LockError::Io { path, source } => Error::WriteFile { path, source },
            LockError::Unsafe { path, reason } => Error::UnsafeLockDir { path, reason },
        }
    }
}

impl FileLock {
    /// Takes the exclusive lock on `dir/file_name`, creating both (0700 / 0600), waiting up to `wait`.
    pub fn acquire(dir: &Path, file_name: &str, wait: Duration) -> Result<Self, LockError> {
        private_dir(dir)?;
        Self::open_and_lock(dir, file_name, wait, false)
    }

    /// `acquire`, shared: any number of shared holders at once, none while one holds it exclusively.
    pub fn acquire_shared(dir: &Path, file_name: &str, wait: Duration) -> Result<Self, LockError> {
        private_dir(dir)?;
        Self::open_and_lock(dir, file_name, wait, true)
    }

    /// A lock file beside `file` (in its folder, which is created 0700 when missing), for a lock
    /// every process editing that file agrees on. The folder is the user's, not awskeep's: its
    /// mode is left alone; the lock file itself is opened without following links.
    pub fn acquire_beside(file: &Path, lock_name: &str, wait: Duration) -> Result<Self, LockError> {
        let folder = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&folder).map_err(|source| LockError::Io {
                path: folder.clone(),
                source,
            })?;
        }
        Self::open_and_lock(&folder, lock_name, wait, false)
    }

    fn open_and_lock(
        dir: &Path,
        file_name: &str,
        wait: Duration,
        shared: bool,
    ) -> Result<Self, LockError> {
        let path = dir.join(file_name);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // A lock file that is a symlink is not followed: the open fails instead.
            options
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        let file = options.open(&path).map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
        let deadline = Instant::now() + wait;
        loop {
            let attempt = if shared {
                file.try_lock_shared()
            } else {
                file.try_lock()
            };
            match attempt {
                Ok(()) => return Ok(Self { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(LockError::TimedOut { path }),
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(LockError::Io { path, source });
                }
            }
        }
    }
}

/// Creates awskeep's lock folder (0700) when missing and checks it is the user's own private
/// folder: what lives there (locks) must not be someone else's.
pub fn private_dir(dir: &Path) -> Result<(), LockError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| LockError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    check_private(dir)
}

/// The lock folder must be a real folder (not a symlink) and the user's own; it is made 0700.
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), LockError> {
    use std::os::unix::fs::MetadataExt;
    let unsafe_dir = |reason| LockError::Unsafe {
        path: dir.to_path_buf(),
        reason,
    };
    let meta = std::fs::symlink_metadata(dir).map_err(|source| LockError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_dir("it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a folder"));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(unsafe_dir("another user owns it"));
    }
    if meta.mode() & 0o077 != 0 {
        // Ours, but open to others: close it (what others may have put in it can only hold a lock).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| LockError::Io {
                path: dir.to_path_buf(),
                source,
            },
        )?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<(), LockError> {
    Ok(())
}

/// A folder fit to hold awskeep's lock folder: it exists, is a real folder and is the user's own.
/// `XDG_RUNTIME_DIR` that fails this (unset, gone, someone else's) is passed over for the cache dir.
pub fn usable_base(dir: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.is_dir() && meta.uid() == rustix::process::geteuid().as_raw()
    }
    #[cfg(not(unix))]
    meta.is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an acquisition that must succeed may wait: another test thread's spawned child holds a
    /// copy of every open descriptor between its fork and its exec (O_CLOEXEC closes it only then),
    /// so a lock just released can look held for that instant.
    const SURE: Duration = Duration::from_secs(2);

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let held = FileLock::acquire(dir.path(), "x.lock", SURE).unwrap();
        assert!(matches!(
            FileLock::acquire(dir.path(), "x.lock", Duration::from_millis(50)),
            Err(LockError::TimedOut { .. })
        ));
        drop(held);
        FileLock::acquire(dir.path(), "x.lock", SURE).unwrap();
    }

    #[test]
    fn shared_holders_coexist_and_exclude_an_exclusive_one() {
        let dir = tempfile::tempdir().unwrap();
        let one = FileLock::acquire_shared(dir.path(), "x.lock", SURE).unwrap();
        let two = FileLock::acquire_shared(dir.path(), "x.lock", SURE).unwrap();
        assert!(matches!(
            FileLock::acquire(dir.path(), "x.lock", Duration::from_millis(50)),
            Err(LockError::TimedOut { .. })
        ));
        drop((one, two));
        let held = FileLock::acquire(dir.path(), "x.lock", SURE).unwrap();
        assert!(matches!(
            FileLock::acquire_shared(dir.path(), "x.lock", Duration::from_millis(50)),
            Err(LockError::TimedOut { .. })
        ));
        drop(held);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_folder_and_a_symlinked_lock_file_are_refused_and_an_open_folder_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            FileLock::acquire(&link, "x.lock", Duration::ZERO),
            Err(LockError::Unsafe { .. })
        ));
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o777)).unwrap();
        FileLock::acquire(&real, "x.lock", SURE).unwrap();
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the folder was not closed to others");
        std::os::unix::fs::symlink("/tmp/elsewhere", real.join("y.lock")).unwrap();
        assert!(matches!(
            FileLock::acquire(&real, "y.lock", Duration::ZERO),
            Err(LockError::Io { .. })
        ));
    }
}
