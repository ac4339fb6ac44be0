//! The AWS config and credentials files on disk: read them (a missing file reads as empty and is never
//! created by a read), and write an edited config atomically: temp file in the same folder, fsync,
//! rename over the original, folder fsync. The mode is kept (0600 for a new file), a symlinked file is
//! written through its link, and the new text is checked with the SDKs' own profile parser before it
//! replaces anything. An edit is a transaction: awskeep processes take turns (a file lock), and a
//! change another program made after the read is kept, or the edit is refused, never overwritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::lock::FileLock;
use crate::profile::{Document, FileKind, Malformed, SettingValue};
use crate::profile_name::ProfileName;

/// A file as read: where it is, its parsed text as read, and the edits made to it since. Edits go
/// through `set` and `remove`, which record what each key held before, so `save` can replay them on a
/// file another program changed in the meantime, or refuse when that program changed the same keys.
#[derive(Debug)]
pub struct LoadedFile {
    pub path: PathBuf,
    kind: FileKind,
    document: Document,
    /// The bytes as read; the credentials file's hold secrets, so they are zeroized on drop.
    original: Zeroizing<String>,
    edits: Vec<Edit>,
}

/// One change awskeep made, with the value the key held when the file was read (`None`: absent).
#[derive(Debug)]
enum Edit {
    Set {
        profile: ProfileName,
        key: &'static str,
        value: SettingValue,
        before: Option<Zeroizing<String>>,
    },
    Remove {
        profile: String,
        key: &'static str,
        before: Option<Zeroizing<String>>,
    },
}

impl Edit {
    fn target(&self) -> (&str, &'static str, Option<&str>) {
        match self {
            Edit::Set {
                profile,
                key,
                before,
                ..
            } => (profile.as_str(), key, before.as_ref().map(|b| b.as_str())),
            Edit::Remove {
                profile,
                key,
                before,
            } => (profile, key, before.as_ref().map(|b| b.as_str())),
        }
    }

    fn apply(&self, document: &mut Document) {
        match self {
            Edit::Set {
                profile,
                key,
                value,
                ..
            } => document.set(profile, key, value),
            Edit::Remove { profile, key, .. } => {
                document.remove(profile, key);
            }
        }
    }
}

/// awskeep's temp files beside the file being replaced.
const TEMP_PREFIX: &str = ".awskeep-";

/// The edit lock's file, beside the file being edited (not a temp file: it does not start with
/// `TEMP_PREFIX`).
const EDIT_LOCK_NAME: &str = ".awskeep.lock";
/// How often an edit is redone on a file another program keeps changing before giving up.
const EDIT_ATTEMPTS: usize = 5;

/// How long an edit waits for another awskeep's edit of the same files (a read, a parse, a write).
const EDIT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Reads and parses `path`; a missing file is an empty document.
pub fn load(path: &Path, kind: FileKind) -> Result<LoadedFile> {
    let (original, document) = read_and_parse(path, kind)?;
    Ok(LoadedFile {
        path: path.to_path_buf(),
        kind,
        document,
        original,
        edits: Vec::new(),
    })
}

/// Reads `path` for a reader that needs only `profile`'s settings (credential-process): lines it cannot
/// parse elsewhere in the file are skipped, as the AWS CLI would accept them; one inside the
/// profile's own section is an error.
pub fn read_profile_leniently(path: &Path, kind: FileKind, profile: &str) -> Result<Document> {
    read_profile_leniently_or_whole(path, kind, profile, |_| false)
}

/// `read_profile_leniently`, but the whole file (as leniently) when `whole` says the profile's
/// settings reach into other sections (a role profile's chain); the file is read once either way.
pub fn read_profile_leniently_or_whole(
    path: &Path,
    kind: FileKind,
    profile: &str,
    whole: impl Fn(&Document) -> bool,
) -> Result<Document> {
    let original = read_text(path)?;
    let body = original.strip_prefix('\u{feff}').unwrap_or(&original);
    let (document, skipped) = Document::parse_profile_leniently(body, kind, profile);
    if let Some(m) = skipped
        .into_iter()
        .find(|m| document.is_in_profile(m, profile))
    {
        return Err(Error::ConfigMalformed {
            path: path.to_path_buf(),
            line: m.line,
            reason: m.reason,
        });
    }
    if whole(&document) {
        return Ok(Document::parse_lenient(body, kind).0);
    }
    Ok(document)
}

/// Reads and parses `path` as the AWS CLI does, skipping the lines it cannot parse and returning
/// them (`doctor` reports them and checks the rest); a missing file is an empty document.
pub fn read_leniently(path: &Path, kind: FileKind) -> Result<(Document, Vec<Malformed>)> {
    let original = read_text(path)?;
    let body = original.strip_prefix('\u{feff}').unwrap_or(&original);
    Ok(Document::parse_lenient(body, kind))
}

fn read_and_parse(path: &Path, kind: FileKind) -> Result<(Zeroizing<String>, Document)> {
    let original = read_text(path)?;
    // A UTF-8 BOM from a Windows editor: keep it on write, ignore it when parsing.
    let body = original.strip_prefix('\u{feff}').unwrap_or(&original);
    let document = Document::parse(body, kind).map_err(|m| Error::ConfigMalformed {
        path: path.to_path_buf(),
        line: m.line,
        reason: m.reason,
    })?;
    Ok((original, document))
}

/// The file's text; a missing file is empty (and is not created).
fn read_text(path: &Path) -> Result<Zeroizing<String>> {
    let original = match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Zeroizing::new).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            Error::ConfigNotUtf8 {
                path: path.to_path_buf(),
                line: 1 + valid.iter().filter(|b| **b == b'\n').count(),
            }
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Zeroizing::new(String::new()),
        Err(source) => {
            return Err(Error::ReadFile {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    Ok(original)
}

/// The text to write for `document`, with `original`'s BOM if it had one.
fn text_with_bom(original: &str, document: &Document) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    if original.starts_with('\u{feff}') {
        text.push('\u{feff}');
    }
    text.push_str(&document.text());
    text
}

impl LoadedFile {
    /// The file as read, with awskeep's edits so far.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The text as read (the credentials file's holds secrets; it is zeroized on drop).
    #[cfg(test)]
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Sets `key = value` in the profile's section (see `Document::set`).
    pub fn set(&mut self, profile: &ProfileName, key: &'static str, value: &SettingValue) {
        let before = self.before(profile.as_str(), key);
        self.document.set(profile, key, value);
        self.edits.push(Edit::Set {
            profile: profile.clone(),
            key,
            value: value.clone(),
            before,
        });
    }

    /// Removes `key` from the profile (see `Document::remove`); whether anything was removed.
    pub fn remove(&mut self, profile: &str, key: &'static str) -> bool {
        let before = self.before(profile, key);
        let removed = self.document.remove(profile, key);
        if removed {
            self.edits.push(Edit::Remove {
                profile: profile.to_string(),
                key,
                before,
            });
        }
        removed
    }

    /// What `key` held as read, before any of awskeep's edits.
    fn before(&self, profile: &str, key: &str) -> Option<Zeroizing<String>> {
        match self
            .edits
            .iter()
            .find(|e| e.target().0 == profile && e.target().1 == key)
        {
            Some(edit) => edit.target().2.map(|v| Zeroizing::new(v.to_string())),
            None => self
                .document
                .get(profile, key)
                .map(|v| Zeroizing::new(v.to_string())),
        }
    }

    pub fn is_changed(&self) -> bool {
        *text_with_bom(&self.original, &self.document) != *self.original
    }

    /// Writes the edits, after `confirm` has checked the new text; nothing is written when they change
    /// nothing. Under an exclusive lock among awskeep processes (in `lock_dir`), the file is read
    /// again: if another program changed it since `load`, the edits are replayed on its new text, and
    /// if that program changed a key awskeep edits, nothing is written and the error says so.
    pub fn save(&self, confirm: impl Fn(&str) -> Result<()>) -> Result<()> {
        if !self.is_changed() {
            return Ok(());
        }
        // The lock lives beside the file, so every awskeep editing it agrees on one lock whatever
        // its runtime or cache dir (cron, sudo, another login).
        let target = follow_links(&self.path);
        let _lock = FileLock::acquire_beside(&target, EDIT_LOCK_NAME, EDIT_LOCK_WAIT)
            .map_err(|e| e.into_error(|path| Error::EditLockBusy { path }))?;
        remove_stale_temp_files(&target);
        // Another program may write between our read and the rename: read again right before the
        // rename, and redo the edit on what is there when it changed (a few times at most).
        for _ in 0..EDIT_ATTEMPTS {
            let (current, mut document) = read_and_parse(&self.path, self.kind)?;
            let text = if *current == *self.original {
                text_with_bom(&self.original, &self.document)
            } else {
                for edit in &self.edits {
                    let (profile, key, before) = edit.target();
                    if document.get(profile, key) != before {
                        return Err(Error::ConfigChanged {
                            path: self.path.clone(),
                            profile: profile.to_string(),
                            key: key.to_string(),
                        });
                    }
                    edit.apply(&mut document);
                }
                text_with_bom(&current, &document)
            };
            confirm(&text)?;
            let still_current = || Ok(*read_text(&self.path)? == *current);
            if write_checked(&self.path, text.as_bytes(), &current, still_current)? {
                return Ok(());
            }
        }
        Err(Error::ConfigKeepsChanging {
            path: self.path.clone(),
        })
    }
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_checked(path, bytes, "", || Ok(true)).map(|_| ())
}

/// Writes `bytes` to `path` (through its symlinks): a temp file in the same folder, fsynced, with
/// the file's mode and owner, then renamed over it, but only if `unchanged()` still holds right
/// before the rename; `false` when it did not and nothing was written. A hard-linked file is
/// rewritten in place instead (so its other names see the edit), after a full temp copy proved the
/// new text fits (disk, quota, size limit); if the in-place write fails anyway, `original` is put
/// back.
fn write_checked(
    path: &Path,
    bytes: &[u8],
    original: &str,
    unchanged: impl Fn() -> Result<bool>,
) -> Result<bool> {
    let write_err = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    // Write through a symlink (dotfile managers link ~/.aws/config) rather than replacing it, even
    // when it dangles (its target is then created).
    let target = follow_links(path);
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_folder(&folder).map_err(write_err)?;
    let mode = existing_mode(&target);
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(&folder)
        .map_err(write_err)?;
    set_mode(temp.as_file(), mode.unwrap_or(0o600)).map_err(write_err)?;
    keep_owner(temp.as_file(), &target);
    temp.write_all(bytes).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    if !unchanged()? {
        return Ok(false);
    }
    if is_hard_linked(&target) {
        drop(temp);
        if let Err(e) = write_in_place(&target, bytes) {
            let _ = write_in_place(&target, original.as_bytes());
            return Err(write_err(e));
        }
        return Ok(true);
    }
    persist(temp, &target).map_err(write_err)?;
    sync_folder(&folder);
    Ok(true)
}

/// A new file replacing `target` gets its owner too (awskeep run through sudo must not hand a
/// user's config to root). Best effort: only root can give a file away.
#[cfg(unix)]
fn keep_owner(file: &fs::File, target: &Path) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(meta) = fs::metadata(target) {
        let _ = rustix::fs::fchown(
            file,
            Some(rustix::fs::Uid::from_raw(meta.uid())),
            Some(rustix::fs::Gid::from_raw(meta.gid())),
        );
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _target: &Path) {}

/// Deletes temp files an interrupted earlier write left beside the file (they may hold the
/// credentials file's secrets). Called under the edit lock, so no awskeep is writing one now.
fn remove_stale_temp_files(path: &Path) {
    let target = follow_links(path);
    let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(TEMP_PREFIX));
        if is_ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Where a chain of symlinks ends, whether or not that file exists (at most 40 links, as the OS).
fn follow_links(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(parent) if next.is_relative() => parent.join(next),
                    _ => next,
                };
            }
            Err(_) => break,
        }
    }
    current
}

/// A file with other names (hard links): replacing it by rename would leave them with the old text.
#[cfg(unix)]
fn is_hard_linked(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.nlink() > 1)
}

#[cfg(not(unix))]
fn is_hard_linked(_path: &Path) -> bool {
    false
}

/// Rewrites a hard-linked file's content in place, so every name sees the edit. Not atomic (a
/// crash mid-write can cut it short), which is the price of keeping the link; the mode is kept and
/// no temp copy (which could hold a secret) is left.
fn write_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Renames the temp file over `target`. On Windows the rename fails with "access denied" while
/// another program (an SDK reading the config) has the file open without delete sharing, so it is
/// retried for a moment; elsewhere a rename never waits on readers.
fn persist(temp: tempfile::NamedTempFile, target: &Path) -> std::io::Result<()> {
    let mut temp = temp;
    let mut attempts = 0;
    loop {
        match temp.persist(target) {
            Ok(_) => return Ok(()),
            Err(e)
                if cfg!(windows)
                    && e.error.kind() == std::io::ErrorKind::PermissionDenied
                    && attempts < 40 =>
            {
                attempts += 1;
                temp = e.file;
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => return Err(e.error),
        }
    }
}

fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    if folder.exists() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
fn set_mode(file: &fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes the rename durable. Best effort: not every platform can open a folder.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> SettingValue {
        SettingValue::new(text).unwrap()
    }

    #[test]
    fn missing_file_reads_empty_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let loaded = load(&path, FileKind::Config).unwrap();
        assert_eq!(loaded.original(), "");
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn new_file_is_0600_and_existing_mode_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws").join("config");
        let mut loaded = load(&path, FileKind::Config).unwrap();
        loaded.set(&ProfileName::parse("dev").unwrap(), "region", &value("x"));
        loaded.save(|_| Ok(())).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let mut loaded = load(&path, FileKind::Config).unwrap();
        loaded.set(&ProfileName::parse("dev").unwrap(), "region", &value("y"));
        loaded.save(|_| Ok(())).unwrap();
        assert_eq!(mode(&path), 0o640);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[profile dev]\nregion = y\n"
        );
    }

    /// Protects the last compare before the rename: a write another program makes after the
    /// edit was read (here while the edit is being confirmed, just before the rename) is kept,
    /// and the edit is made again on top of it.
    #[test]
    fn a_write_between_the_read_and_the_rename_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "# mine\n").unwrap();
        let mut loaded = load(&path, FileKind::Config).unwrap();
        loaded.set(&ProfileName::parse("dev").unwrap(), "region", &value("x"));
        let confirmed = std::cell::Cell::new(0);
        loaded
            .save(|_| {
                confirmed.set(confirmed.get() + 1);
                if confirmed.get() == 1 {
                    fs::write(&path, "# mine\n[profile other]\nregion = y\n").unwrap();
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(
            confirmed.get(),
            2,
            "the edit was made again on the new text"
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# mine\n[profile other]\nregion = y\n\n[profile dev]\nregion = x\n"
        );
    }

    #[test]
    fn a_rejected_edit_leaves_the_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "# mine\n").unwrap();
        let mut loaded = load(&path, FileKind::Config).unwrap();
        loaded.set(&ProfileName::parse("dev").unwrap(), "region", &value("x"));
        let err = loaded
            .save(|_| {
                Err(Error::ConfigEditRejected {
                    path: path.clone(),
                    reason: "test".into(),
                })
            })
            .unwrap_err();
        assert!(matches!(err, Error::ConfigEditRejected { .. }));
        assert_eq!(fs::read_to_string(&path).unwrap(), "# mine\n");
        let temps = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .count();
        assert_eq!(temps, 0, "no temp file left");
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-config");
        let link = dir.path().join("config");
        fs::write(&real, "").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut loaded = load(&link, FileKind::Config).unwrap();
        loaded.set(&ProfileName::parse("dev").unwrap(), "region", &value("x"));
        loaded.save(|_| Ok(())).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(fs::read_to_string(&real).unwrap().contains("region = x"));
    }

    #[test]
    fn keeps_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "\u{feff}[default]\nregion = x\n").unwrap();
        let mut loaded = load(&path, FileKind::Config).unwrap();
        assert_eq!(loaded.document().get("default", "region"), Some("x"));
        loaded.set(&ProfileName::parse("dev").unwrap(), "region", &value("y"));
        loaded.save(|_| Ok(())).unwrap();
        assert!(
            fs::read_to_string(&path)
                .unwrap()
                .starts_with("\u{feff}[default]")
        );
    }
}
