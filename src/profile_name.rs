//! A validated AWS profile name. Validation happens once, when the argument is parsed; every later
//! use (an INI section header, a store item name, an argument in the credential_process line) can
//! rely on it holding only characters that need no quoting or escaping anywhere.

use std::fmt;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileName(String);

const MAX_LEN: usize = 128;

impl ProfileName {
    pub fn parse(name: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidProfileName {
            name: name.to_string(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > MAX_LEN {
            return Err(invalid("it is longer than 128 characters"));
        }
        if name.starts_with('-') {
            return Err(invalid("it starts with - and would read as an option"));
        }
        if name.chars().all(|c| c == '.') {
            return Err(invalid("dots alone read as a folder (. or ..), not a name"));
        }
        if let Some(bad) = name.chars().find(|c| !is_allowed(*c)) {
            return Err(invalid(match bad {
                '[' | ']' => "brackets would break the INI section header",
                '#' | ';' => "# and ; start comments in the AWS config file",
                c if c.is_whitespace() => {
                    "white space would break the INI file and the command line"
                }
                '=' | ',' => "the Rust and JS SDKs do not accept = or , in a profile name",
                _ => "it holds a character that is not a letter, digit or . _ - + @",
            }));
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        self.0 == "default"
    }
}

fn is_allowed(c: char) -> bool {
    // What every SDK accepts: the Rust SDK allows letters, digits and _ - / . % @ : + in a profile
    // name; `/`, `%` and `:` are left out for the shell, the keychain item names and the session
    // item suffix.
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@')
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a profile name may hold, as the hint of every refused name says it.
pub const NAME_RULE: &str =
    "use letters, digits and . _ - + @ only, not starting with - (e.g. dev, prod-admin)";

/// For clap's `value_parser`.
pub fn parse_arg(text: &str) -> Result<ProfileName, String> {
    ProfileName::parse(text).map_err(|e| format!("{e}. Hint: {NAME_RULE}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_alone_are_not_a_name() {
        for name in [".", "..", "..."] {
            assert!(ProfileName::parse(name).is_err(), "{name}");
        }
        assert!(ProfileName::parse("dev.eu").is_ok());
    }

    #[test]
    fn accepts_common_names() {
        for name in [
            "dev",
            "prod-admin",
            "team.a_b",
            "me@corp",
            "default",
            "x+y@z",
        ] {
            assert!(ProfileName::parse(name).is_ok(), "{name}");
        }
    }

    /// Protects the 128-character limit, at both sides of it.
    #[test]
    fn a_name_of_128_characters_is_accepted_and_of_129_refused() {
        assert!(ProfileName::parse(&"a".repeat(128)).is_ok());
        let err = ProfileName::parse(&"a".repeat(129)).unwrap_err();
        assert!(err.to_string().contains("longer than 128"), "{err}");
    }

    #[test]
    fn rejects_names_that_break_ini_or_argv() {
        for name in [
            "", "a]b", "[a", "a b", "a\nb", "a#b", "a;b", "-x", "a\"b", "a'b", "a$b", "a/b", "é",
            "a=b", "a,b",
        ] {
            assert!(ProfileName::parse(name).is_err(), "{name:?}");
        }
    }
}
