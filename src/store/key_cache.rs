//! Where the unlocked file store's master key waits between awskeep processes: the Linux kernel
//! keyring (keyctl), so `credential_process` calls after `awskeep unlock` need neither a prompt nor
//! a second scrypt run. The key is a `user` key in the caller's user keyring (`@u`), named after the
//! passphrase file it came from (a hash, nothing secret), with a timeout (the kernel drops it by
//! itself) and permissions for this user's uid only (`owner_only`: another uid gets no right to it
//! even when it possesses the keyring); `lock` invalidates it at once.
//!
//! Why the user keyring and not the session keyring: a login's session keyring is not shared with
//! the processes that run `credential_process` for it (an IDE's server started from another SSH
//! login, systemd user units, a new tmux server), while the user keyring is reachable from every
//! process of the user in the same user namespace, which is who may run `awskeep` anyway.
//!
//! The same layer keeps the credential cache's entries (`cred_cache`), in the login session's
//! keyring (`@s`) instead: see that module for why that one differs.
//!
//! It never holds the passphrase, only the X25519 master key the passphrase unwraps. Elsewhere
//! (macOS, Windows, or a container whose seccomp filter refuses keyctl) there is no cache: each
//! process unlocks for itself.

use std::time::Duration;

use secrecy::SecretString;

/// A place to keep the master key for a while.
pub trait KeyCache {
    /// A name for messages: "the kernel keyring".
    fn describe(&self) -> &'static str;
    /// The key stored under `name`, if it is still there.
    fn get(&self, name: &str) -> Option<SecretString>;
    /// Keeps `secret` under `name` for `timeout`; `Err` says why it could not.
    fn put(&self, name: &str, secret: &SecretString, timeout: Duration) -> Result<(), String>;
    /// Forgets the key; `true` when there was one.
    fn forget(&self, name: &str) -> bool;
    /// How much longer the key under `name` is kept ("59 minutes"), when the cache can say.
    fn remaining(&self, _name: &str) -> Option<String> {
        None
    }
    /// Forgets every key this cache's own keyring links whose name starts with `prefix`; how many.
    fn forget_prefixed(&self, prefix: &str) -> usize;
}

/// The cache this platform has for the file store's master key: the user keyring.
pub fn platform() -> Box<dyn KeyCache> {
    #[cfg(target_os = "linux")]
    return Box::new(kernel::KernelKeyring::user());
    #[cfg(not(target_os = "linux"))]
    return Box::new(NoCache);
}

/// The login session's keyring (`@s`), for the credential cache; `None` where there is no kernel
/// keyring or keyctl is refused (a container's seccomp filter).
#[cfg(target_os = "linux")]
pub fn login_session() -> Option<Box<dyn KeyCache>> {
    kernel::KernelKeyring::session().map(|k| Box::new(k) as Box<dyn KeyCache>)
}

/// The time left /proc/keys shows ("59m", "10h", "perm") in words; `None` for what it is not.
#[cfg(any(target_os = "linux", test))]
fn describe_expiry(left: &str) -> Option<String> {
    if left == "perm" {
        return Some("no time limit".into());
    }
    let split = left.find(|c: char| !c.is_ascii_digit())?;
    let (count, unit) = left.split_at(split);
    let count: u64 = count.parse().ok()?;
    let unit = match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        _ => return None,
    };
    let plural = if count == 1 { "" } else { "s" };
    Some(format!("about {count} more {unit}{plural}"))
}

/// No cache: every process asks for the passphrase (or reads it from the environment).
#[allow(
    dead_code,
    reason = "the cache of platforms without a kernel keyring; Linux builds use it in tests only"
)]
pub struct NoCache;

impl KeyCache for NoCache {
    fn describe(&self) -> &'static str {
        "no cache (this platform has no kernel keyring)"
    }
    fn get(&self, _name: &str) -> Option<SecretString> {
        None
    }
    fn put(&self, _name: &str, _secret: &SecretString, _timeout: Duration) -> Result<(), String> {
        Err("this platform has no kernel keyring".into())
    }
    fn forget(&self, _name: &str) -> bool {
        false
    }
    fn forget_prefixed(&self, _prefix: &str) -> usize {
        0
    }
}

#[cfg(target_os = "linux")]
mod kernel {
    use std::time::Duration;

    use linux_keyutils::{
        KeyPermissions, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, LinkNode, Permission,
    };
    use secrecy::{ExposeSecret, SecretString};
    use zeroize::Zeroizing;

    use super::KeyCache;

    /// A key's permissions: everything for its owner (this user), nothing for anyone else, not
    /// even a process that possesses it. The kernel gives a possessor the possessor rights on
    /// top of its own (user, group or other), and every process that inherits the login's session
    /// keyring possesses what it links, whatever its uid: `su other` without `-l` (Debian's
    /// `/etc/pam.d/su` runs no pam_keyinit), `sudo -u other`. "Possessor, if it is the owner" is not
    /// expressible, so the rights go to the owner's uid and possession adds none. Search is a
    /// right that matters as much as read: the kernel lets a process read a key it possesses, and
    /// finding it by search is what possessing it means.
    fn owner_only() -> KeyPermissions {
        KeyPermissionsBuilder::builder()
            .posessor(Permission::empty())
            .user(Permission::ALL)
            .group(Permission::empty())
            .world(Permission::empty())
            .build()
    }

    /// One of the calling process's keyrings.
    pub struct KernelKeyring {
        ring: KeyRingIdentifier,
    }

    impl KernelKeyring {
        /// The user keyring (`@u`): every process of the user.
        pub fn user() -> Self {
            Self {
                ring: KeyRingIdentifier::User,
            }
        }

        /// The session keyring (`@s`): the processes of one login. `None` when keyctl is refused.
        pub fn session() -> Option<Self> {
            let this = Self {
                ring: KeyRingIdentifier::Session,
            };
            this.keyring().ok().map(|_| this)
        }

        fn keyring(&self) -> Result<KeyRing, String> {
            // The user keyring is made when missing. The session keyring never is: a new one
            // would belong to this process alone (the kernel gives a process without one the
            // user-session keyring instead, `@us`, shared like a login's).
            let create = self.ring == KeyRingIdentifier::User;
            KeyRing::from_special_id(self.ring, create)
                .map_err(|e| format!("the kernel keyring is not reachable ({e:?})"))
        }
    }

    impl KeyCache for KernelKeyring {
        fn describe(&self) -> &'static str {
            "the kernel keyring"
        }

        fn get(&self, name: &str) -> Option<SecretString> {
            let key = self.keyring().ok()?.search(name).ok()?;
            // Only a key this user made: another user who possesses the keyring (its processes
            // share the login's session keyring) could link a key of the same name into it.
            if key.metadata().ok()?.get_uid() != rustix::process::geteuid().as_raw() {
                return None;
            }
            let bytes = Zeroizing::new(key.read_to_vec().ok()?);
            let text = std::str::from_utf8(&bytes).ok()?;
            Some(SecretString::from(text.to_string()))
        }

        fn put(&self, name: &str, secret: &SecretString, timeout: Duration) -> Result<(), String> {
            // keyctl takes whole seconds as an unsigned int, 0 meaning never: a longer timeout is
            // refused here, never wrapped (the unlock timeout is parsed into that range already).
            let secs = u32::try_from(timeout.as_secs().max(1))
                .ok()
                .and_then(|s| usize::try_from(s).ok())
                .ok_or_else(|| format!("the kernel keyring keeps a key at most {}s", u32::MAX))?;
            let ring = self.keyring()?;
            // The key is made in this thread's own keyring (`@t`), which no other process
            // possesses, and given its permissions and timeout there; only then is it linked
            // into the shared keyring, replacing any older key of that name in one step. A key
            // made in the shared keyring directly would be readable by its possessors until
            // `set_perms` ran.
            let staging = KeyRing::from_special_id(KeyRingIdentifier::Thread, true)
                .map_err(|e| format!("the kernel keyring is not reachable ({e:?})"))?;
            let key = staging
                .add_key(name, secret.expose_secret().as_bytes())
                .map_err(|e| format!("the kernel keyring refused the key ({e:?})"))?;
            let done = key
                .set_perms(owner_only())
                .and_then(|()| key.set_timeout(secs))
                .and_then(|()| ring.link_key(key));
            let _ = staging.unlink_key(key);
            if let Err(e) = done {
                let _ = key.invalidate();
                return Err(format!(
                    "the kernel keyring refused the key's permissions or timeout ({e:?})"
                ));
            }
            Ok(())
        }

        fn remaining(&self, name: &str) -> Option<String> {
            let key = self.keyring().ok()?.search(name).ok()?;
            // /proc/keys lists the keys this process may view, by serial in hex, with the time
            // left in the fourth column ("59m", "10h", "3d", "perm").
            let serial = format!("{:08x}", i32::from(key.get_id()));
            let keys = std::fs::read_to_string("/proc/keys").ok()?;
            let left = keys
                .lines()
                .find(|l| l.split_whitespace().next() == Some(serial.as_str()))?
                .split_whitespace()
                .nth(3)?
                .to_string();
            super::describe_expiry(&left)
        }

        fn forget(&self, name: &str) -> bool {
            let Ok(ring) = self.keyring() else {
                return false;
            };
            let mut forgot = false;
            // One name could have been added twice by racing unlocks: drop every copy.
            while let Ok(key) = ring.search(name) {
                if key.invalidate().is_err() {
                    break;
                }
                forgot = true;
            }
            forgot
        }

        fn forget_prefixed(&self, prefix: &str) -> usize {
            let Ok(ring) = self.keyring() else {
                return 0;
            };
            // Only this keyring's own links (a nested keyring, such as `@u` under `@us`, is
            // not this cache's). 4096 bytes of IDs: 1024 links, far more than a session holds.
            let Ok(links) = ring.get_links(4096) else {
                return 0;
            };
            links
                .iter()
                .filter_map(|node| match node {
                    LinkNode::Key(key) => Some(*key),
                    LinkNode::KeyRing(_) => None,
                })
                .filter(|key| {
                    key.metadata()
                        .is_ok_and(|m| m.get_description().starts_with(prefix))
                })
                .filter(|key| key.invalidate().is_ok())
                .count()
        }
    }
}

#[cfg(test)]
mod expiry_tests {
    #[test]
    fn the_time_proc_keys_shows_is_put_in_words() {
        let says = super::describe_expiry;
        assert_eq!(says("59m").as_deref(), Some("about 59 more minutes"));
        assert_eq!(says("1h").as_deref(), Some("about 1 more hour"));
        assert_eq!(says("perm").as_deref(), Some("no time limit"));
        assert_eq!(says("expd"), None);
    }
}

/// A cache in this process's memory, for unit tests; clones share it (two "processes" after one
/// unlock).
#[cfg(test)]
#[derive(Default, Clone)]
pub struct MemoryCache {
    keys: std::rc::Rc<std::cell::RefCell<std::collections::HashMap<String, String>>>,
}

#[cfg(test)]
impl KeyCache for MemoryCache {
    fn describe(&self) -> &'static str {
        "memory"
    }
    fn get(&self, name: &str) -> Option<SecretString> {
        self.keys
            .borrow()
            .get(name)
            .cloned()
            .map(SecretString::from)
    }
    fn put(&self, name: &str, secret: &SecretString, _timeout: Duration) -> Result<(), String> {
        use secrecy::ExposeSecret;
        self.keys
            .borrow_mut()
            .insert(name.into(), secret.expose_secret().to_string());
        Ok(())
    }
    fn forget(&self, name: &str) -> bool {
        self.keys.borrow_mut().remove(name).is_some()
    }
    fn forget_prefixed(&self, prefix: &str) -> usize {
        let mut keys = self.keys.borrow_mut();
        let before = keys.len();
        keys.retain(|name, _| !name.starts_with(prefix));
        before - keys.len()
    }
}
