//! The only code that writes to stdout and stderr. stdout carries a command's product alone: the
//! credential_process JSON, `--json` listings and `doctor`'s report. Everything else for a person
//! goes to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use secrecy::ExposeSecret;

use crate::secret::{KeyOwner, StoredKey};
use crate::session::Session;

/// The credential_process output (Version 1). Long-term keys carry no `Expiration`: an empty one
/// breaks botocore, Rust, Go and Java.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessCredentials<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

/// Renders the JSON a credential_process helper prints; zeroized when dropped.
pub fn credential_json(key: &StoredKey) -> Zeroizing<Vec<u8>> {
    let body = ProcessCredentials {
        version: 1,
        access_key_id: key.key.access_key_id.as_str(),
        secret_access_key: key.key.secret_access_key.expose_secret(),
        account_id: key.owner.as_ref().map(|o| o.account_id.as_str()),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(256));
    // Writing plain strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &body);
    out.push(b'\n');
    out
}

/// Writes the credential JSON to stdout in one write.
pub fn print_credentials(key: &StoredKey) -> Result<()> {
    let json = credential_json(key);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&json)
        .and_then(|()| stdout.flush())
        .map_err(Error::Output)
}

/// STS session credentials: `SessionToken` and `Expiration` (RFC 3339 UTC ending in `Z`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SessionCredentials<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

pub fn session_json(session: &Session, owner: Option<&KeyOwner>) -> Zeroizing<Vec<u8>> {
    let body = SessionCredentials {
        version: 1,
        access_key_id: &session.access_key_id,
        secret_access_key: session.secret_access_key.expose_secret(),
        session_token: session.session_token.expose_secret(),
        expiration: humantime::format_rfc3339_seconds(session.expiration).to_string(),
        account_id: owner.map(|o| o.account_id.as_str()),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(1024));
    let _ = serde_json::to_writer(&mut *out, &body);
    out.push(b'\n');
    out
}

/// Writes a session's credential JSON to stdout in one write.
pub fn print_session(session: &Session, owner: Option<&KeyOwner>) -> Result<()> {
    let json = session_json(session, owner);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&json)
        .and_then(|()| stdout.flush())
        .map_err(Error::Output)
}

/// Writes a `--json` listing to stdout.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value).map_err(|e| Error::Output(e.into()))?;
    writeln!(stdout).map_err(Error::Output)
}

/// A readable report on stdout, when the report is the command's product (`doctor`).
pub fn print_text(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Error::Output)
}

/// A message for the person at the terminal.
pub fn say(message: &str) {
    eprintln!("{message}");
}

/// A step, shown with `--verbose`. Callers pass names and paths, never key material.
pub fn trace(verbose: bool, message: &str) {
    if verbose {
        eprintln!("awskeep: {message}");
    }
}

/// A command-line mistake, as one line: clap's first line, without its `error: ` prefix.
pub fn usage_error_line(rendered: &str) {
    let first_paragraph: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = first_paragraph.join(" ");
    let cause = joined.strip_prefix("error: ").unwrap_or(&joined);
    let hint = if cause.contains("Hint:") {
        ""
    } else {
        ". Hint: see `awskeep --help`."
    };
    eprintln!("awskeep: {cause}{hint}");
}

/// The one line main prints for an error.
pub fn error_line(error: &Error) {
    eprintln!("{}", error.one_line());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{AccessKeyId, KeyOwner, KeyPair, SecretAccessKey};

    #[test]
    fn json_has_integer_version_and_no_expiration_for_long_term_keys() {
        let key = StoredKey {
            key: KeyPair {
                access_key_id: AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap(),
                secret_access_key: SecretAccessKey::parse("abc/def+ghi").unwrap(),
            },
            owner: Some(KeyOwner {
                account_id: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/dev".into(),
            }),
            added_at: std::time::SystemTime::now(),
            rotation: Default::default(),
        };
        let json: serde_json::Value = serde_json::from_slice(&credential_json(&key)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "Version": 1,
                "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
                "SecretAccessKey": "abc/def+ghi",
                "AccountId": "123456789012"
            })
        );
    }
}
