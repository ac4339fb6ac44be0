//! The `credential_process` value awskeep writes, and recognising one it wrote earlier.
//!
//! botocore splits the value with shlex (its own Windows rules on Windows); Rust, Go, JS and Java run
//! it through `sh -c` (`cmd.exe /C` on Windows); Go strips quotes around a value quoted as a whole.
//! So the program path is quoted only when it must be (spaces; on Windows also cmd's operators), then
//! the arguments follow unquoted (profile names are validated to need no quoting), and no trailing
//! comment is ever written. The rules for both platforms are plain functions, so both are unit-tested
//! on every platform.

use std::path::Path;

use crate::error::{Error, Result};
use crate::profile::SettingValue;
use crate::profile_name::ProfileName;
use crate::store::StoreKind;

/// `<awskeep> credential-process --profile NAME [--store KIND]`.
pub fn build(
    program: &Path,
    profile: &ProfileName,
    store: Option<StoreKind>,
) -> Result<SettingValue> {
    let mut line = quote_program(program)?;
    line.push_str(" credential-process --profile ");
    line.push_str(profile.as_str());
    if let Some(kind) = store {
        line.push_str(" --store ");
        line.push_str(&kind.arg_name());
    }
    SettingValue::new(&line).map_err(|reason| Error::UnquotablePath {
        path: program.to_path_buf(),
        reason,
    })
}

fn quote_program(program: &Path) -> Result<String> {
    let unquotable = |reason| Error::UnquotablePath {
        path: program.to_path_buf(),
        reason,
    };
    let text = program
        .to_str()
        .ok_or_else(|| unquotable("it is not UTF-8"))?;
    if let Some(reason) = refusal(text, cfg!(windows)) {
        return Err(unquotable(reason));
    }
    if needs_quotes(text, cfg!(windows)) {
        Ok(format!("\"{text}\""))
    } else {
        Ok(text.to_string())
    }
}

/// Why a program path cannot be written into a line every client runs the same way, if it cannot.
///
/// POSIX: the SDKs run the line with `sh -c` and botocore splits it with shlex, so nothing a shell
/// or shlex would interpret may appear. Windows: botocore splits with its Windows rules (backslashes
/// are literal), the SDKs run `cmd.exe /C`, which expands `%VAR%` even inside quotes; a path cannot
/// hold `"` there anyway. Both: `#` and `;` start an inline comment in some SDKs' INI parsers.
fn refusal(text: &str, windows: bool) -> Option<&'static str> {
    if text.chars().any(char::is_control) {
        return Some("it holds a control character");
    }
    // POSIX: what stays special inside double quotes for sh (`$`, backquote, backslash, `"`), and the
    // INI comment characters some SDK parsers strip a value at.
    let special: &[char] = if windows {
        &['"', '%', '#', ';']
    } else {
        &['"', '$', '`', '\\', '#', ';']
    };
    text.contains(special)
        .then_some("it holds a character that shells and INI parsers treat specially")
}

/// Quotes go around the path only when it must have them: Go's SDK passes the line to `cmd.exe`
/// with C-runtime escaping, which turns quotes into `\"` that cmd does not understand, so an
/// unquoted path works in strictly more clients.
fn needs_quotes(text: &str, windows: bool) -> bool {
    if windows {
        text.chars().any(char::is_whitespace)
            || text.contains(['&', '|', '<', '>', '(', ')', '^', ',', ';', '=', '!'])
    } else {
        // Anything but these is a shell operator, glob, tilde or quote somewhere.
        !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._+,@%=:-".contains(c))
    }
}

/// If `value` is an awskeep credential_process line, the profile it serves. A hand-written line whose
/// path has spaces and no quotes is recognised too (`doctor` then says to quote it).
pub fn awskeep_profile(value: &str) -> Option<String> {
    let words = split_words(value);
    let program = program(value)?;
    // Either separator, so a Windows line is recognised wherever the file is read.
    let file_name = program.rsplit(['/', '\\']).next()?;
    let lower = file_name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".exe").unwrap_or(&lower);
    let command = words.iter().position(|w| w == "credential-process")?;
    let program_words = if starts_quoted(value) { 1 } else { command };
    if stem != "awskeep" || command != program_words {
        return None;
    }
    let at = words.iter().position(|w| w == "--profile")?;
    words.get(at + 1).cloned()
}

/// The program a credential_process line runs, unquoted. An unquoted path with spaces is taken to
/// run up to the `credential-process` argument, as its writer meant (see `quoting_problem`).
pub fn program(value: &str) -> Option<String> {
    let words = split_words(value);
    if starts_quoted(value) {
        return words.into_iter().next();
    }
    match words.iter().position(|w| w == "credential-process") {
        Some(at) if at > 0 => Some(words[..at].join(" ")),
        _ => words.into_iter().next(),
    }
}

/// Why the program path of an awskeep line would not run the same way in every client, if it would
/// not: a path `build` refuses, one that needs quotes and has none, or one that has spaces and no
/// quotes (clients would run only its first word).
pub fn quoting_problem(value: &str) -> Option<&'static str> {
    quoting_problem_for(value, cfg!(windows))
}

fn quoting_problem_for(value: &str, windows: bool) -> Option<&'static str> {
    let program = program(value)?;
    if let Some(reason) = refusal(&program, windows) {
        return Some(reason);
    }
    if !starts_quoted(value) && needs_quotes(&program, windows) {
        return Some("its path needs quotes (it holds spaces or shell operators) and has none");
    }
    None
}

fn starts_quoted(value: &str) -> bool {
    value.trim_start().starts_with(['"', '\''])
}

/// Enough of shlex for lines awskeep writes and their hand-edited neighbours: quotes group words.
fn split_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in value.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> ProfileName {
        ProfileName::parse("dev").unwrap()
    }

    #[test]
    fn plain_path_is_unquoted() {
        let line = build(Path::new("/usr/local/bin/awskeep"), &dev(), None).unwrap();
        let line = line.as_str();
        assert_eq!(
            line,
            "/usr/local/bin/awskeep credential-process --profile dev"
        );
        assert_eq!(awskeep_profile(line).as_deref(), Some("dev"));
    }

    #[cfg(unix)]
    #[test]
    fn path_with_spaces_is_quoted_and_arguments_follow() {
        let line = build(Path::new("/opt/my tools/awskeep"), &dev(), None).unwrap();
        let line = line.as_str();
        assert_eq!(
            line,
            "\"/opt/my tools/awskeep\" credential-process --profile dev"
        );
        assert_eq!(awskeep_profile(line).as_deref(), Some("dev"));
    }

    #[test]
    fn posix_shell_operators_are_quoted() {
        for path in [
            "/opt/p&q/awskeep",
            "/opt/a|b/awskeep",
            "/opt/(x)/awskeep",
            "/opt/~x/awskeep",
            "/opt/it's/awskeep",
            "/opt/*/awskeep",
        ] {
            assert_eq!(refusal(path, false), None, "{path}");
            assert!(needs_quotes(path, false), "{path}");
        }
        assert!(!needs_quotes("/home/me/.cargo/bin/awskeep", false));
    }

    #[cfg(unix)]
    #[test]
    fn shell_specials_are_refused() {
        for path in ["/opt/$x/awskeep", "/opt/a\"b/awskeep", "/opt/a #b/awskeep"] {
            assert!(build(Path::new(path), &dev(), None).is_err(), "{path}");
        }
    }

    #[test]
    fn windows_paths_keep_backslashes_and_quote_only_with_spaces_or_operators() {
        let plain = r"C:\Users\me\.cargo\bin\awskeep.exe";
        assert_eq!(refusal(plain, true), None);
        assert!(!needs_quotes(plain, true));
        let spaced = r"C:\Program Files (x86)\awskeep\awskeep.exe";
        assert_eq!(refusal(spaced, true), None);
        assert!(needs_quotes(spaced, true));
        assert!(needs_quotes(r"C:\tools&more\awskeep.exe", true));
        assert!(refusal(r"C:\%TEMP%\awskeep.exe", true).is_some());
        assert!(refusal(r"C:\my #bin\awskeep.exe", true).is_some());
        // The same backslash path is refused on POSIX, where it would be a shell escape.
        assert!(refusal(plain, false).is_some());
        let line = format!("\"{spaced}\" credential-process --profile dev");
        assert_eq!(awskeep_profile(&line).as_deref(), Some("dev"));
    }

    #[test]
    fn the_program_of_a_line_and_its_quoting() {
        let line = "/usr/bin/awskeep credential-process --profile dev";
        assert_eq!(program(line).as_deref(), Some("/usr/bin/awskeep"));
        assert_eq!(quoting_problem_for(line, false), None);
        let quoted = "\"/opt/my tools/awskeep\" credential-process --profile dev";
        assert_eq!(program(quoted).as_deref(), Some("/opt/my tools/awskeep"));
        assert_eq!(quoting_problem_for(quoted, false), None);
        let bare = "/opt/my tools/awskeep credential-process --profile dev";
        assert_eq!(program(bare).as_deref(), Some("/opt/my tools/awskeep"));
        assert!(quoting_problem_for(bare, false).is_some());
        assert_eq!(awskeep_profile(bare).as_deref(), Some("dev"));
        assert!(
            quoting_problem_for("/opt/$x/awskeep credential-process --profile dev", false)
                .is_some()
        );
        let windows = r#""C:\Program Files\awskeep\awskeep.exe" credential-process --profile dev"#;
        assert_eq!(quoting_problem_for(windows, true), None);
        assert!(
            quoting_problem_for(
                r"C:\Program Files\awskeep.exe credential-process --profile dev",
                true
            )
            .is_some()
        );
    }

    #[test]
    fn recognises_only_awskeep_lines() {
        assert_eq!(awskeep_profile("aws-vault exec dev --json"), None);
        assert_eq!(awskeep_profile("/x/awskeep list"), None);
        assert_eq!(
            awskeep_profile("/x/awskeep list credential-process --profile dev"),
            None
        );
        assert_eq!(
            awskeep_profile("/x/other credential-process --profile dev"),
            None
        );
        assert_eq!(
            awskeep_profile("awskeep credential-process --profile prod --store secret-service")
                .as_deref(),
            Some("prod")
        );
    }
}
