//! The `credential_process` value awskeep writes, and recognising one it (or an earlier version of it)
//! wrote.
//!
//! Every client must run the line the same way (docs/CLIENTS.md has the evidence, client by client):
//! - botocore / AWS CLI split it with shlex (no shell; their own rules on Windows); the Rust, Go, JS,
//!   Ruby and C++ SDKs and the CRT run it through `sh -c` (Windows: `cmd.exe /c`, each in its own way).
//! - The Go SDK v1 (every version) and the Go SDK v2 before its INI rewrite (late 2023; terraform's AWS
//!   provider up to 5.26) keep only the quoted part of a value that *starts* with `"`, so a line
//!   `"/opt/my tools/awskeep" credential-process ...` runs `/opt/my tools/awskeep` with no arguments.
//!   A POSIX path that needs quoting is therefore written in single quotes, which no INI parser of
//!   any client touches; a `'` inside it is written `'"'"'`.
//! - On Windows, quotes fail somewhere whatever their form: Go escapes them (`\"`), which cmd does not
//!   understand, and clients that hand the line to `cmd.exe /c` unwrapped (.NET, the C++ SDK, the CRT)
//!   lose the quotes when the quoted path holds `( ) & ^ | < > @`. So a Windows path that needs
//!   quoting is written as its 8.3 short form (`C:\PROGRA~2\...`), unquoted, when the volume has one;
//!   only when it has none is the path quoted, and `caveat` says which clients will fail.
//! - The arguments follow unquoted (profile names are validated to need no quoting), and no trailing
//!   comment is ever written (botocore would pass it as arguments).
//!
//! The rules for both platforms are plain functions of the text, so both are unit-tested everywhere;
//! the only platform call is the short-name lookup, passed in.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::profile::SettingValue;
use crate::profile_name::ProfileName;
use crate::store::kind::StoreKind;

/// Where a line's program path may need a short name (Windows only; `None` when the volume has none).
type ShortName<'a> = &'a dyn Fn(&Path) -> Option<PathBuf>;

/// `<awskeep> credential-process --profile NAME [--store KIND]`, in the form every client runs.
pub fn build(
    program: &Path,
    profile: &ProfileName,
    store: Option<StoreKind>,
) -> Result<SettingValue> {
    build_for(program, profile, store, cfg!(windows), &short_name)
}

fn build_for(
    program: &Path,
    profile: &ProfileName,
    store: Option<StoreKind>,
    windows: bool,
    short_name: ShortName,
) -> Result<SettingValue> {
    let mut line = program_word(program, windows, short_name)?;
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

/// The program path as the line's first word.
fn program_word(program: &Path, windows: bool, short_name: ShortName) -> Result<String> {
    let unquotable = |reason| Error::UnquotablePath {
        path: program.to_path_buf(),
        reason,
    };
    let text = program
        .to_str()
        .ok_or_else(|| unquotable("it is not UTF-8"))?;
    if let Some(reason) = refusal(text, windows) {
        return Err(unquotable(reason));
    }
    if !needs_quotes(text, windows) {
        return Ok(text.to_string());
    }
    if windows {
        let short = short_name(program)
            .and_then(|short| short.to_str().map(str::to_string))
            .filter(|short| refusal(short, true).is_none() && !needs_quotes(short, true));
        return Ok(short.unwrap_or_else(|| format!("\"{text}\"")));
    }
    Ok(format!("'{}'", text.replace('\'', "'\"'\"'")))
}

/// The 8.3 short form of an existing path, from cmd's `%~sI` (GetShortPathName without unsafe code).
/// The long path comes back where the volume keeps no short names.
#[cfg(windows)]
fn short_name(path: &Path) -> Option<PathBuf> {
    use std::os::windows::process::CommandExt;
    let text = path.to_str()?;
    let output = std::process::Command::new("cmd.exe")
        .args(["/d", "/c"])
        // `for` takes the quoted path as one item whatever it holds; refused characters never get here.
        .raw_arg(format!("for %I in (\"{text}\") do @echo %~sI"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let short = String::from_utf8(output.stdout).ok()?;
    let short = short.trim();
    (output.status.success() && !short.is_empty()).then(|| PathBuf::from(short))
}

#[cfg(not(windows))]
fn short_name(_path: &Path) -> Option<PathBuf> {
    None
}

/// Why a program path cannot be written into a line every client runs the same way, if it cannot.
///
/// POSIX: the SDKs run the line with `sh -c` and botocore splits it with shlex; the Go SDKs' INI
/// parsers read `\` and `"` as escapes and quotes. Windows: botocore splits with its Windows rules
/// (backslashes are literal), the SDKs run `cmd.exe`, which expands `%VAR%` even inside quotes; a path
/// cannot hold `"` there anyway. Both: `#` and `;` start an inline comment in some SDKs' INI parsers.
fn refusal(text: &str, windows: bool) -> Option<&'static str> {
    if text.chars().any(char::is_control) {
        return Some("it holds a control character");
    }
    let special: &[char] = if windows {
        &['"', '%', '#', ';']
    } else {
        &['"', '$', '`', '\\', '#', ';']
    };
    text.contains(special)
        .then_some("it holds a character that shells and INI parsers treat specially")
}

/// Whether the path must be quoted (or, on Windows, shortened) to run as one word.
fn needs_quotes(text: &str, windows: bool) -> bool {
    if windows {
        text.chars().any(char::is_whitespace) || text.contains(CMD_SPECIALS)
    } else {
        // Anything but these is a shell operator, glob, tilde or quote somewhere.
        !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._+,@%=:-".contains(c))
    }
}

/// What cmd.exe treats specially outside quotes, and (the first eight) what makes `cmd /c` strip the
/// quotes of a line that starts with one.
const CMD_SPECIALS: [char; 11] = ['&', '<', '>', '(', ')', '@', '^', '|', ',', '=', '!'];
const CMD_QUOTE_BREAKERS: [char; 8] = ['&', '<', '>', '(', ')', '@', '^', '|'];

/// If `value` is an awskeep credential_process line, the profile it serves. A hand-written line whose
/// path has spaces and no quotes is recognised too (`doctor` then says to quote it), and so is every
/// form earlier versions wrote (`"PATH" credential-process ...`).
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
/// run up to the `credential-process` argument, as its writer meant (see `client_problem`).
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

/// Which clients would not run an awskeep line as meant, and why, if any would not: a path `build`
/// refuses, one that needs quotes and has none, or a quoting form some client misreads.
pub fn client_problem(value: &str) -> Option<&'static str> {
    client_problem_for(value, cfg!(windows))
}

fn client_problem_for(value: &str, windows: bool) -> Option<&'static str> {
    let program = program(value)?;
    if let Some(reason) = refusal(&program, windows) {
        return Some(reason);
    }
    let first = value.trim_start().chars().next();
    if !starts_quoted(value) && needs_quotes(&program, windows) {
        return Some(
            "its path needs quotes (it holds spaces or shell operators) and has none, so clients run only part of it",
        );
    }
    let words = split_words(value);
    let after_program = if starts_quoted(value) {
        1
    } else {
        words.iter().position(|w| w == "credential-process")?
    };
    let arguments: Vec<&str> = words[after_program..].iter().map(String::as_str).collect();
    if !matches!(
        arguments.as_slice(),
        ["credential-process", "--profile", _]
            | ["credential-process", "--profile", _, "--store", _]
    ) {
        return Some(
            "it has words after awskeep's arguments (a comment, a redirection), which the AWS CLI and boto3 pass to awskeep as arguments while the other SDKs' shells read them otherwise",
        );
    }
    if !starts_quoted(value) {
        return None;
    }
    match (windows, first) {
        (false, Some('"')) => Some(
            "it starts with a double quote, which the Go SDK v1 and the Go SDK v2 before late 2023 (terraform's AWS provider up to 5.26) cut at the closing quote, running the path with no arguments",
        ),
        (true, Some('\'')) => Some(
            "it is in single quotes, which cmd.exe does not treat as quotes, so no client on Windows runs it",
        ),
        (true, _) if program.contains(CMD_QUOTE_BREAKERS) => Some(
            "its path is quoted and holds one of ( ) & ^ < > @: Go programs (terraform) and clients that run it through `cmd /c` unwrapped (the .NET and C++ SDKs, the CRT) cannot run it",
        ),
        (true, _) => Some(
            "its path is quoted: Go programs (terraform) escape the quotes for cmd.exe, which then cannot run it",
        ),
        _ => None,
    }
}

/// What to tell a user about a line `build` wrote, when some client will still fail on it (a Windows
/// path that needs quotes on a volume without 8.3 short names).
pub fn caveat(line: &SettingValue) -> Option<String> {
    client_problem(line.as_str()).map(|reason| {
        format!(
            "the credential_process line cannot be written so that every client runs it: {reason}. \
             Install awskeep in a folder whose path has no spaces or ( ) & ^ < > @ (e.g. C:\\tools\\awskeep) and run the command again"
        )
    })
}

fn starts_quoted(value: &str) -> bool {
    value.trim_start().starts_with(['"', '\''])
}

/// Enough of shlex for lines awskeep writes and their hand-edited neighbours: quotes group words,
/// and quoted parts join the unquoted text around them (`'a'"'"'b'` is `a'b`).
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

pub mod windows_clients;

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> ProfileName {
        ProfileName::parse("dev").unwrap()
    }

    fn no_short_name(_: &Path) -> Option<PathBuf> {
        None
    }

    fn posix(path: &str) -> String {
        build_for(Path::new(path), &dev(), None, false, &no_short_name)
            .unwrap()
            .as_str()
            .to_string()
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

    /// Go SDK v1 and old v2 keep only the quoted part of a value that starts with `"`: a POSIX path
    /// that needs quoting is single-quoted, and a `'` in it closes, adds `"'"` and reopens.
    #[test]
    fn posix_paths_that_need_quotes_are_single_quoted() {
        assert_eq!(
            posix("/opt/my tools/awskeep"),
            "'/opt/my tools/awskeep' credential-process --profile dev"
        );
        assert_eq!(
            posix("/opt/it's/awskeep"),
            "'/opt/it'\"'\"'s/awskeep' credential-process --profile dev"
        );
        for path in [
            "/opt/my tools/awskeep",
            "/opt/Program Files (x86)/awskeep",
            "/opt/it's/awskeep",
            "/opt/~x/awskeep",
            "/opt/wow!/awskeep",
            "/opt/p&q/awskeep",
            "/opt/a|b/awskeep",
            "/opt/*/awskeep",
            "/opt/Ünïcode/awskeep",
        ] {
            let line = posix(path);
            assert!(line.starts_with('\''), "{line}");
            assert_eq!(program(&line).as_deref(), Some(path), "{line}");
            assert_eq!(awskeep_profile(&line).as_deref(), Some("dev"), "{line}");
            assert_eq!(client_problem_for(&line, false), None, "{line}");
        }
    }

    #[test]
    fn shell_specials_are_refused() {
        for path in [
            "/opt/$x/awskeep",
            "/opt/a\"b/awskeep",
            "/opt/a #b/awskeep",
            "/opt/a\\b/awskeep",
        ] {
            assert!(
                build_for(Path::new(path), &dev(), None, false, &no_short_name).is_err(),
                "{path}"
            );
        }
    }

    /// Lines earlier versions wrote stay recognised, and doctor names the clients they break.
    #[test]
    fn a_legacy_double_quoted_posix_line_is_recognised_and_named_for_go() {
        let legacy = "\"/opt/my tools/awskeep\" credential-process --profile dev";
        assert_eq!(awskeep_profile(legacy).as_deref(), Some("dev"));
        assert_eq!(program(legacy).as_deref(), Some("/opt/my tools/awskeep"));
        let problem = client_problem_for(legacy, false).unwrap();
        assert!(problem.contains("Go SDK v1"), "{problem}");
        let bare = "/opt/my tools/awskeep credential-process --profile dev";
        assert_eq!(program(bare).as_deref(), Some("/opt/my tools/awskeep"));
        assert_eq!(awskeep_profile(bare).as_deref(), Some("dev"));
        assert!(client_problem_for(bare, false).is_some());
        assert!(
            client_problem_for("/opt/$x/awskeep credential-process --profile dev", false).is_some()
        );
    }

    #[test]
    fn windows_paths_that_need_quotes_use_their_short_name() {
        let short = |_: &Path| Some(PathBuf::from(r"C:\PROGRA~2\awskeep\awskeep.exe"));
        let long = Path::new(r"C:\Program Files (x86)\awskeep\awskeep.exe");
        let line = build_for(long, &dev(), None, true, &short).unwrap();
        assert_eq!(
            line.as_str(),
            r"C:\PROGRA~2\awskeep\awskeep.exe credential-process --profile dev"
        );
        assert_eq!(client_problem_for(line.as_str(), true), None);
        assert_eq!(awskeep_profile(line.as_str()).as_deref(), Some("dev"));
        // A plain path is written as it is; the lookup is not even needed.
        let plain = Path::new(r"C:\Users\me\.cargo\bin\awskeep.exe");
        let line = build_for(plain, &dev(), None, true, &|_: &Path| unreachable!()).unwrap();
        assert_eq!(
            line.as_str(),
            r"C:\Users\me\.cargo\bin\awskeep.exe credential-process --profile dev"
        );
    }

    #[test]
    fn without_a_short_name_a_windows_path_is_quoted_and_the_failing_clients_are_named() {
        let spaced = Path::new(r"C:\Users\Ann Lee\.cargo\bin\awskeep.exe");
        let line = build_for(spaced, &dev(), None, true, &no_short_name).unwrap();
        assert_eq!(
            line.as_str(),
            r#""C:\Users\Ann Lee\.cargo\bin\awskeep.exe" credential-process --profile dev"#
        );
        let problem = client_problem_for(line.as_str(), true).unwrap();
        assert!(
            problem.contains("Go") && !problem.contains(".NET"),
            "{problem}"
        );
        let x86 = Path::new(r"C:\Program Files (x86)\awskeep\awskeep.exe");
        // A "short" name that still needs quotes (8.3 names off: the long path comes back) is no help.
        let same = |p: &Path| Some(p.to_path_buf());
        let line = build_for(x86, &dev(), None, true, &same).unwrap();
        assert!(line.as_str().starts_with('"'), "{}", line.as_str());
        let problem = client_problem_for(line.as_str(), true).unwrap();
        assert!(
            problem.contains(".NET") && problem.contains("Go"),
            "{problem}"
        );
    }

    #[test]
    fn windows_refusals_and_quoting() {
        let plain = r"C:\Users\me\.cargo\bin\awskeep.exe";
        assert_eq!(refusal(plain, true), None);
        assert!(!needs_quotes(plain, true));
        assert!(needs_quotes(r"C:\tools&more\awskeep.exe", true));
        assert!(refusal(r"C:\%TEMP%\awskeep.exe", true).is_some());
        assert!(refusal(r"C:\my #bin\awskeep.exe", true).is_some());
        // The same backslash path is refused on POSIX, where it would be a shell escape.
        assert!(refusal(plain, false).is_some());
        // Single quotes mean nothing to cmd.exe.
        let single = r"'C:\Program Files\awskeep.exe' credential-process --profile dev";
        assert!(client_problem_for(single, true).is_some());
        assert!(
            client_problem_for(
                r"C:\Program Files\awskeep.exe credential-process --profile dev",
                true
            )
            .is_some()
        );
    }

    /// botocore hands ` # note` or `2>/dev/null` to awskeep as arguments; shells read them otherwise.
    #[test]
    fn words_after_the_arguments_are_a_problem_for_some_client() {
        for tail in [" # note", " ; fast", " 2>/dev/null", " | cat"] {
            let line = format!("/usr/bin/awskeep credential-process --profile dev{tail}");
            assert!(client_problem_for(&line, false).is_some(), "{line}");
        }
        let stored = "/usr/bin/awskeep credential-process --profile dev --store file";
        assert_eq!(client_problem_for(stored, false), None);
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
        assert_eq!(
            awskeep_profile("'/a b/awskeep' credential-process --profile prod").as_deref(),
            Some("prod")
        );
    }
}
