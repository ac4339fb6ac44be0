//! The `credential_process` value awskeep writes, and recognising one it wrote earlier.
//!
//! botocore splits the value with shlex; Rust, Go, JS and Java run it through `sh -c`; Go strips quotes
//! around a value quoted as a whole. So the program path is quoted only when it must be (spaces), then
//! the arguments follow unquoted (profile names are validated to need no quoting), and no trailing
//! comment is ever written.

use std::path::Path;

use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::store::StoreKind;

/// `<awskeep> credential-process --profile NAME [--store KIND]`.
pub fn build(program: &Path, profile: &ProfileName, store: Option<StoreKind>) -> Result<String> {
    let mut line = quote_program(program)?;
    line.push_str(" credential-process --profile ");
    line.push_str(profile.as_str());
    if let Some(kind) = store {
        line.push_str(" --store ");
        line.push_str(&kind.arg_name());
    }
    Ok(line)
}

fn quote_program(program: &Path) -> Result<String> {
    let unquotable = |reason| Error::UnquotablePath {
        path: program.to_path_buf(),
        reason,
    };
    let text = program
        .to_str()
        .ok_or_else(|| unquotable("it is not UTF-8"))?;
    if text
        .chars()
        .any(|c| matches!(c, '"' | '\'' | '$' | '`' | '\\' | '#' | ';' | '\n' | '\r'))
        && !cfg!(windows)
    {
        return Err(unquotable(
            "it holds a character that shells and INI parsers treat specially",
        ));
    }
    if text.chars().any(|c| c.is_whitespace()) {
        Ok(format!("\"{text}\""))
    } else {
        Ok(text.to_string())
    }
}

/// If `value` is an awskeep credential_process line, the profile it serves.
pub fn awskeep_profile(value: &str) -> Option<String> {
    let words = split_words(value);
    let program = words.first()?;
    let file_name = Path::new(program).file_name()?.to_str()?;
    let stem = file_name.strip_suffix(".exe").unwrap_or(file_name);
    if stem != "awskeep" || words.get(1).map(String::as_str) != Some("credential-process") {
        return None;
    }
    let at = words.iter().position(|w| w == "--profile")?;
    words.get(at + 1).cloned()
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
        assert_eq!(
            line,
            "/usr/local/bin/awskeep credential-process --profile dev"
        );
        assert_eq!(awskeep_profile(&line).as_deref(), Some("dev"));
    }

    #[cfg(unix)]
    #[test]
    fn path_with_spaces_is_quoted_and_arguments_follow() {
        let line = build(Path::new("/opt/my tools/awskeep"), &dev(), None).unwrap();
        assert_eq!(
            line,
            "\"/opt/my tools/awskeep\" credential-process --profile dev"
        );
        assert_eq!(awskeep_profile(&line).as_deref(), Some("dev"));
    }

    #[cfg(unix)]
    #[test]
    fn shell_specials_are_refused() {
        for path in ["/opt/$x/awskeep", "/opt/a\"b/awskeep", "/opt/a #b/awskeep"] {
            assert!(build(Path::new(path), &dev(), None).is_err(), "{path}");
        }
    }

    #[test]
    fn recognises_only_awskeep_lines() {
        assert_eq!(awskeep_profile("aws-vault exec dev --json"), None);
        assert_eq!(awskeep_profile("/x/awskeep list"), None);
        assert_eq!(
            awskeep_profile("awskeep credential-process --profile prod --store secret-service")
                .as_deref(),
            Some("prod")
        );
    }
}
