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

/// Where a key rotation stands, written to the store before each step so an interrupted rotation can
/// be finished or undone by the next run. The item stores it as optional fields (`rotation_started_at`,
/// `pending`, `previous`, `delete_after`, `deactivate_only`), read by precedence: `previous` over
/// `pending` over `rotation_started_at`; every item any awskeep wrote reads as one of these.
#[derive(Debug, Default)]
pub enum Rotation {
    #[default]
    Idle,
    /// Set just before CreateAccessKey: a key IAM made after `started` that the store does not hold
    /// came from this rotation and nobody holds its secret.
    Intent { started: SystemTime },
    /// The new key: created and stored, not yet verified and switched to; the intent's `started`
    /// stays, and `created` is IAM's CreateDate of the new key, when IAM gave it.
    Pending {
        started: Option<SystemTime>,
        key: KeyPair,
        created: Option<SystemTime>,
    },
    /// The old key after the switch, kept until IAM has deleted it, or marked it Inactive when
    /// `deactivate_only`. Retired no earlier than `delete_after`, once every `Expiration` served
    /// with it has passed (`crate::lease::retire_grace`); `None`: an item written by an awskeep
    /// that retired at once, due now.
    Retiring {
        old: KeyPair,
        delete_after: Option<SystemTime>,
        deactivate_only: bool,
    },
}

impl Rotation {
    pub fn is_idle(&self) -> bool {
        matches!(self, Rotation::Idle)
    }

    /// When the rotation's intent was recorded (kept while its new key is pending).
    pub fn started_at(&self) -> Option<SystemTime> {
        match self {
            Rotation::Intent { started } => Some(*started),
            Rotation::Pending { started, .. } => *started,
            Rotation::Idle | Rotation::Retiring { .. } => None,
        }
    }

    /// The key the item holds besides its current one: the pending new key, or the old one.
    pub fn other_key(&self) -> Option<&KeyPair> {
        match self {
            Rotation::Pending { key, .. } | Rotation::Retiring { old: key, .. } => Some(key),
            Rotation::Idle | Rotation::Intent { .. } => None,
        }
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
        let (pending, previous, delete_after, deactivate_only) = match &self.rotation {
            Rotation::Pending { key, created, .. } => {
                (Some(KeyOut::of(key, *created)), None, None, false)
            }
            Rotation::Retiring {
                old,
                delete_after,
                deactivate_only,
            } => (
                None,
                Some(KeyOut::of(old, None)),
                delete_after.map(rfc3339),
                *deactivate_only,
            ),
            Rotation::Idle | Rotation::Intent { .. } => (None, None, None, false),
        };
        let out = StoredKeyOut {
            version: 1,
            access_key_id: self.key.access_key_id.as_str(),
            secret_access_key: self.key.secret_access_key.expose_secret(),
            account_id: self.owner.as_ref().map(|o| o.account_id.as_str()),
            arn: self.owner.as_ref().map(|o| o.arn.as_str()),
            added_at: rfc3339(self.added_at),
            iam_created_at: self.iam_created_at.map(rfc3339),
            rotation_started_at: self.rotation.started_at().map(rfc3339),
            pending,
            previous,
            delete_after,
            deactivate_only,
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
        // Every field must parse, as before, whichever the precedence below then counts.
        let started = item.rotation_started_at.as_deref().map(time).transpose()?;
        let pending = match item.pending {
            Some(p) => {
                let created = p.iam_created_at.as_deref().map(time).transpose()?;
                Some((p.into_pair()?, created))
            }
            None => None,
        };
        let previous = item.previous.map(KeyIn::into_pair).transpose()?;
        let delete_after = item.delete_after.as_deref().map(time).transpose()?;
        let rotation = match (previous, pending, started) {
            (Some(old), _, _) => Rotation::Retiring {
                old,
                delete_after,
                deactivate_only: item.deactivate_only,
            },
            (None, Some((key, created)), started) => Rotation::Pending {
                started,
                key,
                created,
            },
            (None, None, Some(started)) => Rotation::Intent { started },
            (None, None, None) => Rotation::Idle,
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

    fn pair(id: &str, secret: &str) -> KeyPair {
        KeyPair {
            access_key_id: AccessKeyId::parse(id).unwrap(),
            secret_access_key: SecretAccessKey::parse(secret).unwrap(),
        }
    }

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    /// Everything a rotation record holds, secrets included, to compare two of them.
    fn spelled(rotation: &Rotation) -> String {
        let key = |k: &KeyPair| {
            format!(
                "{}:{}",
                k.access_key_id.as_str(),
                k.secret_access_key.expose_secret()
            )
        };
        match rotation {
            Rotation::Idle => "idle".into(),
            Rotation::Intent { started } => format!("intent {started:?}"),
            Rotation::Pending {
                started,
                key: new,
                created,
            } => {
                format!("pending {started:?} {} {created:?}", key(new))
            }
            Rotation::Retiring {
                old,
                delete_after,
                deactivate_only,
            } => {
                format!("retiring {} {delete_after:?} {deactivate_only}", key(old))
            }
        }
    }

    /// Items exactly as the awskeep before the rotation record was an enum wrote them, one per state
    /// it wrote (and the older shapes it still read), with the record each one is.
    fn stored_items() -> Vec<(&'static str, bool, Rotation)> {
        let started = Some(at("2026-11-29T00:00:00Z"));
        let old = || pair("AKIAI44QH8DHBEXAMPLE", "old/secret");
        let new = || pair("AKIAI44QH8DHBEXAMPLE", "pending/secret");
        vec![
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z"}"#,
                true,
                Rotation::Idle,
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","added_at":"2026-11-28T01:02:03Z"}"#,
                false,
                Rotation::Idle,
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z","rotation_started_at":"2026-11-29T00:00:00Z"}"#,
                true,
                Rotation::Intent {
                    started: at("2026-11-29T00:00:00Z"),
                },
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z","rotation_started_at":"2026-11-29T00:00:00Z","pending":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"pending/secret","iam_created_at":"2026-11-29T00:00:01Z"}}"#,
                true,
                Rotation::Pending {
                    started,
                    key: new(),
                    created: Some(at("2026-11-29T00:00:01Z")),
                },
            ),
            // A pending key from an awskeep that did not record its date.
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z","rotation_started_at":"2026-11-29T00:00:00Z","pending":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"pending/secret"}}"#,
                true,
                Rotation::Pending {
                    started,
                    key: new(),
                    created: None,
                },
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","added_at":"2026-11-28T01:02:03Z","pending":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"pending/secret"}}"#,
                false,
                Rotation::Pending {
                    started: None,
                    key: new(),
                    created: None,
                },
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z","previous":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"old/secret"},"delete_after":"2026-11-29T01:01:01Z","deactivate_only":true}"#,
                true,
                Rotation::Retiring {
                    old: old(),
                    delete_after: Some(at("2026-11-29T01:01:01Z")),
                    deactivate_only: true,
                },
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z","previous":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"old/secret"},"delete_after":"2026-11-29T01:01:01Z"}"#,
                true,
                Rotation::Retiring {
                    old: old(),
                    delete_after: Some(at("2026-11-29T01:01:01Z")),
                    deactivate_only: false,
                },
            ),
            // From an awskeep that retired at once: no date, deleted, due now.
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","account_id":"123456789012","arn":"arn:aws:iam::123456789012:user/dev","added_at":"2026-11-28T01:02:03Z","iam_created_at":"2023-11-28T01:02:03Z","previous":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"old/secret"}}"#,
                true,
                Rotation::Retiring {
                    old: old(),
                    delete_after: None,
                    deactivate_only: false,
                },
            ),
        ]
    }

    /// Each stored item reads as its state, and that state writes the same bytes again.
    #[test]
    fn every_rotation_state_reads_and_writes_the_stored_json_unchanged() {
        for (json, with_owner, rotation) in stored_items() {
            let back = StoredKey::from_item_bytes(json.as_bytes()).unwrap();
            assert_eq!(spelled(&back.rotation), spelled(&rotation), "{json}");
            assert_eq!(back.to_item_bytes().as_slice(), json.as_bytes());
            let mut written = sample();
            if !with_owner {
                written.owner = None;
                written.iam_created_at = None;
            }
            written.rotation = rotation;
            assert_eq!(written.to_item_bytes().as_slice(), json.as_bytes());
            assert!(
                !format!("{:?}", written.rotation).contains("secret/"),
                "{json}"
            );
        }
    }

    /// The precedence the fields were always read with: `previous` over `pending` over the intent;
    /// a retirement's time and mode count only with `previous`. A field that does not count must
    /// still be valid.
    #[test]
    fn the_stored_fields_are_read_by_precedence() {
        let item = |fields: &str| {
            format!(
                r#"{{"version":1,"access_key_id":"{ID}","secret_access_key":"{SECRET}","added_at":"2026-11-28T01:02:03Z"{fields}}}"#
            )
        };
        let read = |fields: &str| {
            StoredKey::from_item_bytes(item(fields).as_bytes()).map(|k| spelled(&k.rotation))
        };
        let started = r#","rotation_started_at":"2026-11-29T00:00:00Z""#;
        let pending =
            r#","pending":{"access_key_id":"AKIAI44QH8DHBEXAMPLE","secret_access_key":"p"}"#;
        let previous =
            r#","previous":{"access_key_id":"AKIAIOSFODNN7EXAMPL2","secret_access_key":"o"}"#;
        let retire = r#","delete_after":"2026-11-29T01:01:01Z","deactivate_only":true"#;
        let retiring = Rotation::Retiring {
            old: pair("AKIAIOSFODNN7EXAMPL2", "o"),
            delete_after: Some(at("2026-11-29T01:01:01Z")),
            deactivate_only: true,
        };
        let all = format!("{started}{pending}{previous}{retire}");
        assert_eq!(read(&all), Ok(spelled(&retiring)));
        assert_eq!(
            read(&format!("{started}{retire}")),
            Ok(spelled(&Rotation::Intent {
                started: at("2026-11-29T00:00:00Z")
            }))
        );
        assert_eq!(read(retire), Ok("idle".into()));
        let bad_pending = r#","pending":{"access_key_id":"short","secret_access_key":"p"}"#;
        assert!(read(&format!("{bad_pending}{previous}")).is_err());
        assert!(read(r#","delete_after":"soon""#).is_err());
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
