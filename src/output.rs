//! The only code that writes to stdout and stderr. stdout carries a command's product alone: the
//! credential_process JSON, `--json` listings, `list`'s table, `store show`'s answer and `doctor`'s
//! report. Messages, questions' context, warnings and progress for a person go to stderr (for
//! credential-process: to the terminal, or to stderr only on failure).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::cli::CommandKind;
use crate::error::{Error, Result};
use secrecy::ExposeSecret;

use crate::secret::{KeyOwner, StoredKey};
use crate::session::Session;

/// The credential_process output (Version 1) of a long-term key: no `SessionToken`, and the
/// `Expiration` of its lease (`crate::lease`), RFC 3339 UTC ending in `Z` as a session's, so that
/// clients run awskeep again and a rotation reaches them. Never an empty `Expiration`: that breaks
/// botocore, Rust, Go and Java.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessCredentials<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    expiration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

/// Renders the JSON a credential_process helper prints for a long-term key leased until
/// `expiration`; zeroized when dropped.
pub fn credential_json(key: &StoredKey, expiration: SystemTime) -> Zeroizing<Vec<u8>> {
    let body = ProcessCredentials {
        version: 1,
        access_key_id: key.key.access_key_id.as_str(),
        secret_access_key: key.key.secret_access_key.expose_secret(),
        expiration: humantime::format_rfc3339_seconds(expiration).to_string(),
        account_id: key.owner.as_ref().map(|o| o.account_id.as_str()),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(256));
    // Writing plain strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &body);
    out.push(b'\n');
    out
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

/// Writes a `--json` listing to stdout, in one write, as `print_text`.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| Error::Output(e.into()))?;
    text.push(b'\n');
    write_stdout(&text)
}

/// Writes a listing (a command's product, for a person or `grep`) to stdout in one write.
pub fn print_text(text: &str) -> Result<()> {
    write_stdout(text.as_bytes())
}

/// Writes bytes to stdout as they are, in one write: generated text (a completion script, the man
/// page) or a product that may hold a secret (credential JSON, an export).
pub fn print_bytes(bytes: &[u8]) -> Result<()> {
    write_stdout(bytes)
}

/// One write to stdout. A reader that has gone (`awskeep doctor --json | head -1`: EPIPE) is not an
/// error: the command ends quietly with its usual status, as `cat` and `ls` do. (A closed stdout,
/// `>&-`, is a sink in Rust's std.) Any other failure, a full disk say, is.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output(e)),
        _ => Ok(()),
    }
}

/// Messages for a person that a machine-read command holds back from stderr (see
/// `keep_stderr_for_failure`); `None` for every other command, which writes them to stderr at once.
///
/// The one piece of process-wide state: where this process's messages for a person go is a fact
/// about the process (what its stderr is read as), set once by `main` before any command runs.
static HELD: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// For credential-process: on success stderr stays empty, because the C++ SDK reads the helper's
/// stderr merged into the JSON (`2>&1`). Messages for a person (`--verbose` steps, an MFA retry) go
/// where the prompts go, the terminal; with no terminal they are kept and written to stderr only if
/// the command fails, before its error line, where every client that shows stderr shows them.
pub fn keep_stderr_for_failure() {
    if let Ok(mut held) = HELD.lock() {
        *held = Some(Vec::new());
    }
}

/// A message for the person at the terminal.
pub fn say(message: &str) {
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match held.as_mut() {
        None => try_say(message),
        Some(kept) => {
            if !crate::prompt::tell(message) {
                kept.push(message.to_string());
            }
        }
    }
}

/// A message for the person at the terminal, written straight to stderr; a write that fails (its
/// reader gone: EPIPE; a full disk) is ignored, never a panic: a message that cannot be shown must
/// not end the process (a long-running `serve` above all).
pub fn try_say(message: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{message}").and_then(|()| stderr.flush());
}

/// What a helper command (`awskeep_mfa_process`, the passphrase command) wrote to its stderr,
/// passed on line by line as our own messages for a person.
pub fn relay(stderr: &[u8]) {
    for line in String::from_utf8_lossy(stderr).lines() {
        say(line);
    }
}

/// A step, shown with `--verbose`. Callers pass names and paths, never key material.
pub fn trace(verbose: bool, message: &str) {
    if verbose {
        say(&format!("awskeep: {message}"));
    }
}

/// A command-line mistake, as one line on stderr.
pub fn usage_error_line(rendered: &str, command: &str) {
    try_say(&usage_line(rendered, command));
}

/// clap's rendered usage error as one line: its first paragraph without the `error: ` prefix, then
/// as the hint its tips ("a similar subcommand exists: 'list'") and the help of the command that
/// was being parsed (from its `Usage:` line, or `command`, as `cli::command_path` reads it from the
/// command line, when that names a deeper command).
pub fn usage_line(rendered: &str, command: &str) -> String {
    let first_paragraph: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = first_paragraph.join(" ");
    let cause = joined.strip_prefix("error: ").unwrap_or(&joined);
    if cause.contains("Hint:") {
        return format!("awskeep: {cause}");
    }
    let mut hints: Vec<String> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .map(str::to_string)
        .collect();
    let command_in_usage: Vec<&str> = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .map(|usage| {
            usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect()
        })
        .unwrap_or_default();
    // An error raised while the parsed arguments are read (two different profiles) carries the
    // root's usage: the deeper of the two names the command being run.
    let command = if command_in_usage.len() >= command.split_whitespace().count() {
        command_in_usage.join(" ")
    } else {
        command.to_string()
    };
    // `awskeep exec dev aws sts get-caller-identity`: the command's words reached clap as
    // awskeep's own arguments. What helps is the `--` that hands them to the command.
    if command == "awskeep exec" && cause.starts_with("unexpected argument '") {
        hints.push(
            "put `--` before the command to run: `awskeep exec PROFILE -- COMMAND [ARGS...]`"
                .into(),
        );
    }
    hints.push(format!("see `{command} --help`"));
    format!("awskeep: {cause}. Hint: {}.", hints.join("; "))
}

/// The one line main prints for an error raised by `command`.
pub fn error_line(error: &Error, command: CommandKind) {
    let kept = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    for message in kept.unwrap_or_default() {
        try_say(&message);
    }
    try_say(&crate::hint::one_line(error, Some(command)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{AccessKeyId, KeyOwner, KeyPair, SecretAccessKey};

    #[test]
    fn exec_without_the_double_dash_is_told_to_add_it() {
        let rendered = "error: unexpected argument 'sts' found\n\nUsage: awskeep exec [OPTIONS] [PROFILE] -- <COMMAND>...\n";
        assert_eq!(
            usage_line(rendered, "awskeep exec"),
            "awskeep: unexpected argument 'sts' found. Hint: put `--` before the command to run: `awskeep exec PROFILE -- COMMAND [ARGS...]`; see `awskeep exec --help`."
        );
    }

    #[test]
    fn a_usage_error_keeps_clap_tips_and_names_the_command_help() {
        let rendered = "error: unrecognized subcommand 'lsit'\n\n  tip: a similar subcommand exists: 'list'\n\nUsage: awskeep [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(rendered, "awskeep"),
            "awskeep: unrecognized subcommand 'lsit'. Hint: a similar subcommand exists: 'list'; see `awskeep --help`."
        );
        let rendered = "error: unexpected argument '--al' found\n\nUsage: awskeep session clear [OPTIONS] [PROFILE]\n";
        assert_eq!(
            usage_line(rendered, "awskeep"),
            "awskeep: unexpected argument '--al' found. Hint: see `awskeep session clear --help`."
        );
        let rendered = "error: two different profiles given, 'dev' and '--profile prod'; give one (either form)\n\nUsage: awskeep [OPTIONS] <COMMAND>\n";
        assert_eq!(
            usage_line(rendered, "awskeep add"),
            "awskeep: two different profiles given, 'dev' and '--profile prod'; give one (either form). Hint: see `awskeep add --help`."
        );
    }

    #[test]
    fn json_has_integer_version_and_the_lease_as_expiration_for_long_term_keys() {
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
            iam_created_at: None,
            rotation: Default::default(),
        };
        let until = humantime::parse_rfc3339("2026-11-28T02:03:04Z").unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&credential_json(&key, until)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "Version": 1,
                "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
                "SecretAccessKey": "abc/def+ghi",
                "Expiration": "2026-11-28T02:03:04Z",
                "AccountId": "123456789012"
            })
        );
    }
}
