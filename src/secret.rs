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

/// Who a key belongs to, from STS GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    pub account_id: String,
    pub arn: String,
}

/// What one store item holds: the key and what awskeep knows of it.
#[derive(Debug)]
pub struct StoredKey {
    pub key: KeyPair,
    pub owner: Option<KeyOwner>,
    pub added_at: SystemTime,
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
}

#[derive(Deserialize)]
struct StoredKeyIn {
    version: u32,
    access_key_id: String,
    secret_access_key: SecretString,
    account_id: Option<String>,
    arn: Option<String>,
    added_at: String,
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
            added_at: humantime::format_rfc3339_seconds(self.added_at).to_string(),
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
        let access_key_id =
            AccessKeyId::parse(&item.access_key_id).map_err(|_| "its access key ID is invalid")?;
        let secret_access_key = SecretAccessKey::parse(item.secret_access_key.expose_secret())
            .map_err(|_| "its secret access key is invalid")?;
        let added_at =
            humantime::parse_rfc3339(&item.added_at).map_err(|_| "its added_at time is invalid")?;
        let owner = match (item.account_id, item.arn) {
            (Some(account_id), Some(arn)) => Some(KeyOwner { account_id, arn }),
            _ => None,
        };
        Ok(Self {
            key: KeyPair {
                access_key_id,
                secret_access_key,
            },
            owner,
            added_at,
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
