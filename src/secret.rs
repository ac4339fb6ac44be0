//! The key material and how it is typed: an access key ID that displays masked, a secret access key
//! that cannot be displayed at all (secrecy, zeroized on drop), and the stored record that holds both
//! with their metadata. `expose_secret()` is called only where the secret leaves the process: the
//! store serialiser here, the credential JSON writer and the signing client.

use std::fmt;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// An IAM access key ID (`AKIA...`). Not a secret by AWS's rules, but it names the key, so every
/// human-facing rendering is masked: `AKIA…MPLE`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// Accepts what AWS issues: 16 to 128 upper-case letters and digits.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.len() < 16 || text.len() > 128 {
            return Err("an access key ID is 16 to 128 characters long");
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err("an access key ID holds only upper-case letters and digits");
        }
        Ok(Self(text.to_string()))
    }

    /// The full ID, for the credential JSON and the signing client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `AKIA…MPLE`: enough to tell keys apart, not enough to name one.
    pub fn masked(&self) -> String {
        let (head, tail) = (&self.0[..4], &self.0[self.0.len() - 4..]);
        format!("{head}…{tail}")
    }

    /// Keys from STS start with ASIA and expire; awskeep stores long-term keys only.
    pub fn is_temporary(&self) -> bool {
        self.0.starts_with("ASIA")
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKeyId({})", self.masked())
    }
}

/// An IAM secret access key. No `Display`; `Debug` is redacted by secrecy; zeroized on drop.
pub struct SecretAccessKey(SecretString);

impl SecretAccessKey {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() || text.len() > 128 {
            return Err("a secret access key is 1 to 128 characters long");
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("a secret access key holds no spaces or control characters");
        }
        Ok(Self(SecretString::from(text)))
    }

    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAccessKey(** redacted **)")
    }
}

/// A long-term key as the user gave it, before awskeep knows whose it is.
#[derive(Debug)]
pub struct KeyPair {
    pub access_key_id: AccessKeyId,
    pub secret_access_key: SecretAccessKey,
}

/// A key IAM just created (CreateAccessKey), with the creation time IAM gave it.
#[derive(Debug)]
pub struct NewKey {
    pub key: KeyPair,
    pub created: Option<SystemTime>,
}

/// Who a key belongs to, from STS GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    pub account_id: String,
    pub arn: String,
}

/// What one store item holds: the key and what awskeep knows of it.
#[derive(Debug)]
pub struct StoredKey {
    /// The key credential_process serves.
    pub key: KeyPair,
    pub owner: Option<KeyOwner>,
    /// When this key became the profile's key in awskeep.
    pub added_at: SystemTime,
    /// When IAM created the key (its CreateDate): the key's age for rotation hygiene. `None` when
    /// IAM did not say (no iam:ListAccessKeys, `--no-verify`, an item from an older awskeep); see
    /// `crate::key_age`.
    pub iam_created_at: Option<SystemTime>,
    pub rotation: Rotation,
}

/// A key rotation in progress, written to the store before each step so an interrupted rotation can
/// be finished or undone by the next run.
#[derive(Debug, Default)]
pub struct Rotation {
    /// Set just before CreateAccessKey: a key IAM made after this that the store does not hold came
    /// from this rotation and nobody holds its secret.
    pub started_at: Option<SystemTime>,
    /// The new key: created and stored, not yet verified and switched to.
    pub pending: Option<KeyPair>,
    /// IAM's CreateDate of the pending key, when IAM gave it.
    pub pending_created_at: Option<SystemTime>,
    /// The old key after the switch, kept until IAM has deleted or deactivated it.
    pub previous: Option<KeyPair>,
    /// Set at the switch: the old key is retired no earlier than this, once every `Expiration`
    /// served with it has passed (`crate::lease::retire_grace`). `None` with `previous` set: an
    /// item written by an awskeep that retired at once; due now.
    pub delete_after: Option<SystemTime>,
    /// Set at the switch: the old key is to be marked Inactive rather than deleted.
    pub deactivate_only: bool,
}

impl Rotation {
    /// The pending key as CreateAccessKey returned it; the intent stays as it was.
    pub fn set_pending(&mut self, new: NewKey) {
        self.pending = Some(new.key);
        self.pending_created_at = new.created;
    }

    pub fn is_idle(&self) -> bool {
        self.started_at.is_none() && self.pending.is_none() && self.previous.is_none()
    }
}

impl StoredKey {
    /// A key with no rotation in progress, its IAM creation time not (yet) known.
    pub fn new(key: KeyPair, owner: Option<KeyOwner>, added_at: SystemTime) -> Self {
        Self {
            key,
            owner,
            added_at,
            iam_created_at: None,
            rotation: Rotation::default(),
        }
    }

    /// The same, with IAM's CreateDate of the key (`None`: unknown).
    pub fn created_in_iam(mut self, created: Option<SystemTime>) -> Self {
        self.iam_created_at = created;
        self
    }
}

/// The store item's JSON. Version 1; fields are added, never renamed.
#[derive(Serialize)]
struct StoredKeyOut<'a> {
    version: u32,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    added_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    iam_created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<KeyOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<KeyOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_after: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deactivate_only: bool,
}

#[derive(Serialize)]
struct KeyOut<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    iam_created_at: Option<String>,
}

impl<'a> KeyOut<'a> {
    fn of(key: &'a KeyPair, created: Option<SystemTime>) -> Self {
        Self {
            access_key_id: key.access_key_id.as_str(),
            secret_access_key: key.secret_access_key.expose_secret(),
            iam_created_at: created.map(rfc3339),
        }
    }
}

#[derive(Deserialize)]
struct StoredKeyIn {
    version: u32,
    access_key_id: String,
    secret_access_key: SecretString,
    account_id: Option<String>,
    arn: Option<String>,
    added_at: String,
    /// Absent in items written before awskeep recorded it.
    iam_created_at: Option<String>,
    rotation_started_at: Option<String>,
    pending: Option<KeyIn>,
    previous: Option<KeyIn>,
    /// Absent in items written before rotations deferred the old key's retirement.
    delete_after: Option<String>,
    #[serde(default)]
    deactivate_only: bool,
}

#[derive(Deserialize)]
struct KeyIn {
    access_key_id: String,
    secret_access_key: SecretString,
    #[serde(default)]
    iam_created_at: Option<String>,
}

impl KeyIn {
    fn into_pair(self) -> Result<KeyPair, &'static str> {
        Ok(KeyPair {
            access_key_id: AccessKeyId::parse(&self.access_key_id)
                .map_err(|_| "its access key ID is invalid")?,
            secret_access_key: SecretAccessKey::parse(self.secret_access_key.expose_secret())
                .map_err(|_| "its secret access key is invalid")?,
        })
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

impl StoredKey {
    /// The bytes written into the store item; zeroized when dropped.
    pub fn to_item_bytes(&self) -> Zeroizing<Vec<u8>> {
        let out = StoredKeyOut {
            version: 1,
            access_key_id: self.key.access_key_id.as_str(),
            secret_access_key: self.key.secret_access_key.expose_secret(),
            account_id: self.owner.as_ref().map(|o| o.account_id.as_str()),
            arn: self.owner.as_ref().map(|o| o.arn.as_str()),
            added_at: rfc3339(self.added_at),
            iam_created_at: self.iam_created_at.map(rfc3339),
            rotation_started_at: self.rotation.started_at.map(rfc3339),
            pending: self
                .rotation
                .pending
                .as_ref()
                .map(|k| KeyOut::of(k, self.rotation.pending_created_at)),
            previous: self.rotation.previous.as_ref().map(|k| KeyOut::of(k, None)),
            delete_after: self.rotation.delete_after.map(rfc3339),
            deactivate_only: self.rotation.deactivate_only,
        };
        // Serialising plain strings into a Vec cannot fail.
        Zeroizing::new(serde_json::to_vec(&out).unwrap_or_default())
    }

    /// Reads a store item back. The error says what is wrong without quoting the content.
    pub fn from_item_bytes(bytes: &[u8]) -> Result<Self, &'static str> {
        let item: StoredKeyIn =
            serde_json::from_slice(bytes).map_err(|_| "its content is not awskeep's JSON")?;
        if item.version != 1 {
            return Err("it was written by a newer awskeep");
        }
        let key = KeyIn {
            access_key_id: item.access_key_id,
            secret_access_key: item.secret_access_key,
            iam_created_at: None,
        }
        .into_pair()?;
        let time =
            |text: &str| humantime::parse_rfc3339(text).map_err(|_| "a time in it is invalid");
        let added_at = time(&item.added_at)?;
        let owner = match (item.account_id, item.arn) {
            (Some(account_id), Some(arn)) => Some(KeyOwner { account_id, arn }),
            _ => None,
        };
        let pending_created_at = item
            .pending
            .as_ref()
            .and_then(|p| p.iam_created_at.as_deref())
            .map(time)
            .transpose()?;
        let rotation = Rotation {
            started_at: item.rotation_started_at.as_deref().map(time).transpose()?,
            pending: item.pending.map(KeyIn::into_pair).transpose()?,
            pending_created_at,
            previous: item.previous.map(KeyIn::into_pair).transpose()?,
            delete_after: item.delete_after.as_deref().map(time).transpose()?,
            deactivate_only: item.deactivate_only,
        };
        Ok(Self {
            key,
            owner,
            added_at,
            iam_created_at: item.iam_created_at.as_deref().map(time).transpose()?,
            rotation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn sample() -> StoredKey {
        StoredKey {
            key: KeyPair {
                access_key_id: AccessKeyId::parse(ID).unwrap(),
                secret_access_key: SecretAccessKey::parse(SECRET).unwrap(),
            },
            owner: Some(KeyOwner {
                account_id: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/dev".into(),
            }),
            added_at: humantime::parse_rfc3339("2026-11-28T01:02:03Z").unwrap(),
            iam_created_at: Some(humantime::parse_rfc3339("2023-11-28T01:02:03Z").unwrap()),
            rotation: Rotation::default(),
        }
    }

    #[test]
    fn debug_of_every_secret_bearing_type_is_redacted() {
        let stored = sample();
        for rendered in [
            format!("{stored:?}"),
            format!("{:?}", stored.key),
            format!("{:?}", stored.key.secret_access_key),
        ] {
            assert!(!rendered.contains(SECRET), "secret leaked in {rendered}");
            assert!(!rendered.contains(ID), "full key ID leaked in {rendered}");
        }
        assert!(format!("{:?}", stored.key.secret_access_key).contains("redacted"));
    }

    #[test]
    fn key_id_displays_masked() {
        let id = AccessKeyId::parse(ID).unwrap();
        assert_eq!(id.to_string(), "AKIA…MPLE");
        assert_eq!(id.as_str(), ID);
    }

    #[test]
    fn item_bytes_round_trip() {
        let bytes = sample().to_item_bytes();
        let back = StoredKey::from_item_bytes(&bytes).unwrap();
        assert_eq!(back.key.access_key_id.as_str(), ID);
        assert_eq!(back.key.secret_access_key.expose_secret(), SECRET);
        assert_eq!(back.owner, sample().owner);
        assert_eq!(back.added_at, sample().added_at);
        assert_eq!(back.iam_created_at, sample().iam_created_at);
    }

    /// Items written before awskeep recorded IAM's creation date still read, with the date unknown.
    #[test]
    fn an_item_without_the_iam_creation_date_still_reads() {
        let old = format!(
            r#"{{"version":1,"access_key_id":"{ID}","secret_access_key":"{SECRET}","added_at":"2026-11-28T01:02:03Z","pending":{{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"p"}}}}"#
        );
        let back = StoredKey::from_item_bytes(old.as_bytes()).unwrap();
        assert_eq!(back.iam_created_at, None);
        assert_eq!(back.rotation.pending_created_at, None);
        assert!(back.rotation.pending.is_some());
    }

    #[test]
    fn rotation_state_round_trips() {
        let mut stored = sample();
        stored.rotation.started_at = Some(stored.added_at);
        stored.rotation.set_pending(NewKey {
            key: KeyPair {
                access_key_id: AccessKeyId::parse("AKIAI44QH8DHBEXAMPLE").unwrap(),
                secret_access_key: SecretAccessKey::parse("pending-secret").unwrap(),
            },
            created: Some(stored.added_at),
        });
        let back = StoredKey::from_item_bytes(&stored.to_item_bytes()).unwrap();
        assert_eq!(back.rotation.started_at, stored.rotation.started_at);
        assert_eq!(back.rotation.pending_created_at, Some(stored.added_at));
        let pending = back.rotation.pending.unwrap();
        assert_eq!(pending.access_key_id.as_str(), "AKIAI44QH8DHBEXAMPLE");
        assert_eq!(pending.secret_access_key.expose_secret(), "pending-secret");
        assert!(back.rotation.previous.is_none());
        assert!(format!("{:?}", stored.rotation).contains("redacted"));
        assert!(!format!("{:?}", stored.rotation).contains("pending-secret"));
    }

    /// A deferred retirement survives a store round trip: when the old key goes, and how.
    #[test]
    fn a_deferred_retirement_round_trips() {
        let mut stored = sample();
        stored.rotation.previous = Some(KeyPair {
            access_key_id: AccessKeyId::parse("AKIAI44QH8DHBEXAMPLE").unwrap(),
            secret_access_key: SecretAccessKey::parse("old-secret").unwrap(),
        });
        stored.rotation.delete_after = Some(stored.added_at + std::time::Duration::from_secs(3660));
        stored.rotation.deactivate_only = true;
        let back = StoredKey::from_item_bytes(&stored.to_item_bytes()).unwrap();
        assert_eq!(back.rotation.delete_after, stored.rotation.delete_after);
        assert!(back.rotation.deactivate_only);
        assert!(back.rotation.previous.is_some());
        // An item from before deferral: no date, deleted (not deactivated), due at once.
        let old = format!(
            r#"{{"version":1,"access_key_id":"{ID}","secret_access_key":"{SECRET}","added_at":"2026-11-28T01:02:03Z","previous":{{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"p"}}}}"#
        );
        let back = StoredKey::from_item_bytes(old.as_bytes()).unwrap();
        assert_eq!(back.rotation.delete_after, None);
        assert!(!back.rotation.deactivate_only);
    }

    #[test]
    fn corrupt_item_error_does_not_quote_content() {
        let err = StoredKey::from_item_bytes(format!("{SECRET} not json").as_bytes()).unwrap_err();
        assert!(!err.contains(SECRET));
    }

    #[test]
    fn rejects_malformed_keys() {
        assert!(AccessKeyId::parse("short").is_err());
        assert!(AccessKeyId::parse("akiaiosfodnn7example").is_err());
        assert!(SecretAccessKey::parse("has space inside").is_err());
        assert!(SecretAccessKey::parse("").is_err());
    }
}
