//! Turns what the user hands `awskeep add` into a `KeyPair`: two lines on stdin, a credential_process
//! JSON object on stdin (`aws configure export-credentials` output), or the CSV the AWS console
//! downloads. Buffers that held the secret are zeroized; errors never quote the input.

use std::io::Read;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey};

/// More than any key input; stops a mistaken `awskeep add < bigfile` early.
const MAX_INPUT: u64 = 64 * 1024;

pub fn read_stdin() -> Result<KeyPair> {
    let mut buffer = Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut buffer)
        .map_err(|e| bad(format!("stdin could not be read ({e})")))?;
    if buffer.len() as u64 > MAX_INPUT {
        return Err(bad("stdin holds more than 64 KiB".into()));
    }
    let text = std::str::from_utf8(&buffer).map_err(|_| bad("stdin is not UTF-8 text".into()))?;
    parse_text(text)
}

/// Two lines (key ID, secret), or a credential_process JSON object.
pub fn parse_text(text: &str) -> Result<KeyPair> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(bad("stdin was empty".into()));
    }
    if text.starts_with('{') {
        return parse_json(text);
    }
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let (Some(id), Some(secret), None) = (lines.next(), lines.next(), lines.next()) else {
        return Err(bad(
            "expected exactly two lines: the access key ID, then the secret".into(),
        ));
    };
    pair(id, secret)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJson {
    version: Option<serde_json::Value>,
    access_key_id: Option<String>,
    secret_access_key: Option<SecretString>,
    session_token: Option<SecretString>,
}

fn parse_json(text: &str) -> Result<KeyPair> {
    let json: ProcessJson = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "the JSON on stdin is malformed at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    if json.version.as_ref().and_then(|v| v.as_u64()) != Some(1) {
        return Err(bad(
            "the JSON needs \"Version\": 1 as credential_process output has".into(),
        ));
    }
    if json.session_token.is_some() {
        return Err(Error::TemporaryKey);
    }
    let (Some(id), Some(secret)) = (json.access_key_id, json.secret_access_key) else {
        return Err(bad("the JSON needs AccessKeyId and SecretAccessKey".into()));
    };
    pair(&id, secret.expose_secret())
}

/// Reads a console CSV: `Access key ID,Secret access key` (access-key download) or the new-user
/// download with `User name,Password,Access key ID,Secret access key,Console login link`.
pub fn read_csv(path: &Path) -> Result<KeyPair> {
    let csv_err = |reason: String| Error::BadCsv {
        path: path.to_path_buf(),
        reason,
    };
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_INPUT + 1).read_to_end(&mut bytes))
        .map_err(|e| csv_err(e.to_string()))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(csv_err(
            "it is larger than 64 KiB, which no console key download is".into(),
        ));
    }
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = reader
        .headers()
        .map_err(|_| csv_err("its header line is not CSV".into()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(id_col), Some(secret_col)) = (column("Access key ID"), column("Secret access key"))
    else {
        return Err(csv_err(
            "it has no `Access key ID` and `Secret access key` columns".into(),
        ));
    };
    let mut rows = reader.records();
    let record = match rows.next() {
        Some(Ok(record)) => record,
        Some(Err(_)) => return Err(csv_err("its first row is not CSV".into())),
        None => return Err(csv_err("it has no key row".into())),
    };
    if rows.any(|r| {
        r.map(|r| r.iter().any(|f| !f.trim().is_empty()))
            .unwrap_or(true)
    }) {
        return Err(csv_err(
            "it holds more than one key; awskeep adds one per profile".into(),
        ));
    }
    let field = |i: usize| record.get(i).unwrap_or("");
    pair(field(id_col), field(secret_col)).map_err(|e| match e {
        Error::BadKeyInput { reason } => csv_err(reason),
        other => other,
    })
}

fn pair(id: &str, secret: &str) -> Result<KeyPair> {
    let access_key_id =
        AccessKeyId::parse(id).map_err(|r| bad(format!("the access key ID is not valid: {r}")))?;
    if access_key_id.is_temporary() {
        return Err(Error::TemporaryKey);
    }
    let secret_access_key =
        SecretAccessKey::parse(secret).map_err(|r| bad(format!("the secret is not valid: {r}")))?;
    Ok(KeyPair {
        access_key_id,
        secret_access_key,
    })
}

fn bad(reason: String) -> Error {
    Error::BadKeyInput { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn assert_pair(pair: KeyPair) {
        assert_eq!(pair.access_key_id.as_str(), ID);
        assert_eq!(pair.secret_access_key.expose_secret(), SECRET);
    }

    #[test]
    fn two_lines_with_crlf_and_blank_lines() {
        assert_pair(parse_text(&format!("\r\n{ID}\r\n{SECRET}\r\n\r\n")).unwrap());
    }

    #[test]
    fn export_credentials_json() {
        let json =
            format!(r#"{{"Version": 1, "AccessKeyId": "{ID}", "SecretAccessKey": "{SECRET}"}}"#);
        assert_pair(parse_text(&json).unwrap());
    }

    #[test]
    fn json_with_session_token_is_refused() {
        let json = format!(
            r#"{{"Version":1,"AccessKeyId":"{ID}","SecretAccessKey":"{SECRET}","SessionToken":"t","Expiration":"2026-01-01T00:00:00Z"}}"#
        );
        assert!(matches!(parse_text(&json), Err(Error::TemporaryKey)));
    }

    #[test]
    fn errors_never_quote_the_input() {
        for input in [
            format!("{SECRET}\n"),
            format!("{ID}\n{SECRET}\nextra\n"),
            format!("{ID}\n{SECRET} with space\n"),
            format!(r#"{{"Version":1,"AccessKeyId":"{ID}","SecretAccessKey":"{SECRET}""#),
        ] {
            let err = parse_text(&input).unwrap_err();
            assert!(
                !crate::hint::one_line(&err, None).contains(SECRET),
                "{}",
                crate::hint::one_line(&err, None)
            );
        }
    }

    #[test]
    fn console_csv_with_bom_and_new_user_csv() {
        let dir = tempfile::tempdir().unwrap();
        let simple = dir.path().join("accessKeys.csv");
        std::fs::write(
            &simple,
            format!("\u{feff}Access key ID,Secret access key\r\n{ID},{SECRET}\r\n"),
        )
        .unwrap();
        assert_pair(read_csv(&simple).unwrap());

        let new_user = dir.path().join("credentials.csv");
        std::fs::write(
            &new_user,
            format!("\u{feff}User name,Password,Access key ID,Secret access key,Console login link\ndev,,{ID},{SECRET},https://123456789012.signin.aws.amazon.com/console\n"),
        )
        .unwrap();
        assert_pair(read_csv(&new_user).unwrap());
    }

    #[test]
    fn csv_without_key_columns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        assert!(matches!(read_csv(&path), Err(Error::BadCsv { .. })));
    }
}
