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
    /// The lock directory or file could not be created or locked.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FileLock {
    /// Takes the exclusive lock on `dir/file_name`, creating both (0700 / 0600), waiting up to `wait`.
    pub fn acquire(dir: &Path, file_name: &str, wait: Duration) -> Result<Self, LockError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(file_name);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let held = FileLock::acquire(dir.path(), "x.lock", Duration::ZERO).unwrap();
        assert!(matches!(
            FileLock::acquire(dir.path(), "x.lock", Duration::from_millis(50)),
            Err(LockError::TimedOut { .. })
        ));
        drop(held);
        FileLock::acquire(dir.path(), "x.lock", Duration::ZERO).unwrap();
    }
}
