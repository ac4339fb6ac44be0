//! Which profile a `[section]` header names, exactly as botocore reads it (`configparser` for the
//! header text, then `build_profile_map` in `botocore/configloader.py`), so awskeep edits the
//! section the AWS CLI and boto3 will use and never adds a second one they would take instead.
//!
//! botocore, for the config file: the header is the text between `[` and the last `]`, not trimmed;
//! `default` alone is the default profile; a header that starts with `profile` is split with
//! `shlex.split` and names a profile only when that gives exactly two words (so `[profile "dev"]`,
//! `[profile\tdev]` and `[profile  dev ]` are all `dev`, `[ profile dev ]` and `[profiledev]` are no
//! profile at all). In the credentials file the header text is the profile name as it stands.
//! Among sections with different headers for one profile, botocore keeps only the last.
//!
//! Other SDKs read fewer forms (the Rust, Go and JS SDKs do not take `[profile "dev"]` for `dev`),
//! so the section awskeep writes a setting into gets the plain header `[profile dev]`
//! (`profile::Document::set`): botocore still reads the same section, and now so does every SDK.

/// The profile `header` (the text between the brackets, untrimmed) names in the config file.
pub fn config_profile(header: &str) -> Option<String> {
    if header == "default" {
        return Some(header.to_string());
    }
    if !header.starts_with("profile") {
        return None;
    }
    match shlex_split(header)?.as_slice() {
        [_, name] => Some(name.clone()),
        _ => None,
    }
}

/// The profile a header names for SDKs that trim it and take `profile` plus white space (the Rust,
/// Go and JS SDKs), where that differs from what botocore reads (`[ profile dev ]`).
pub fn read_differently(header: &str) -> Option<String> {
    let trimmed = header.trim();
    let other = if trimmed == "default" {
        Some(trimmed.to_string())
    } else {
        trimmed
            .strip_prefix("profile")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map(|rest| rest.trim().to_string())
    };
    other.filter(|name| config_profile(header).as_ref() != Some(name))
}

/// Python's `shlex.split` (POSIX mode, no comments); `None` where it raises (an open quote, a
/// trailing backslash).
fn shlex_split(text: &str) -> Option<Vec<String>> {
    const WHITESPACE: &str = " \t\r\n";
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        // Inside double quotes a backslash escapes only `"` and itself.
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c if WHITESPACE.contains(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair checked against botocore 1.44.18 (`build_profile_map(raw_config_parse(...))`) on
    /// Python 3.11; tests/config_files.rs asks the real botocore the same through the binary.
    #[test]
    fn headers_name_the_profile_botocore_sees() {
        for (header, profile) in [
            ("default", Some("default")),
            ("profile dev", Some("dev")),
            ("profile  dev ", Some("dev")),
            ("profile\tdev", Some("dev")),
            ("profile \"dev\"", Some("dev")),
            ("profile 'dev'", Some("dev")),
            ("profile \"my dev\"", Some("my dev")),
            ("profile d\\ev", Some("dev")),
            ("profile default", Some("default")),
            (" default", None),
            (" profile dev", None),
            (" profile dev ", None),
            ("profiledev", None),
            ("profile", None),
            ("profile dev extra", None),
            ("profile \"dev", None),
            ("profile dev\\", None),
            ("Profile dev", None),
            ("sso-session corp", None),
        ] {
            assert_eq!(config_profile(header).as_deref(), profile, "[{header}]");
        }
    }

    #[test]
    fn headers_other_sdks_read_as_a_profile_botocore_does_not() {
        assert_eq!(read_differently(" profile dev ").as_deref(), Some("dev"));
        assert_eq!(read_differently(" default").as_deref(), Some("default"));
        assert_eq!(read_differently("profile dev"), None);
        assert_eq!(read_differently("profile  dev "), None);
        assert_eq!(read_differently("sso-session x"), None);
    }
}
