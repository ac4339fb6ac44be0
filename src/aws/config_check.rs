//! Confirms an edit of `~/.aws/config` with the SDKs' own profile parser (aws-runtime's, as used by
//! aws-config) before the edited text replaces the file: the profile must read back with exactly the
//! value awskeep meant to write.

use std::path::Path;

use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_runtime::env_config::section::EnvConfigSections;
use aws_types::os_shim_internal::{Env, Fs};

use super::clients::runtime;
use crate::error::{Error, Result};
use crate::profile::FileKind;
use crate::profile_name::ProfileName;

/// Checks that `text`, read as a file of `kind`, gives `profile` the setting `key = expected`
/// (`None`: no such setting).
pub fn confirm_profile_setting(
    path: &Path,
    kind: FileKind,
    text: &str,
    profile: &ProfileName,
    key: &str,
    expected: Option<&str>,
) -> Result<()> {
    // A BOM a Windows editor left is kept on write; whether a client copes with it does not depend on
    // awskeep's edit, which is what this checks.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rejected = |reason: String| Error::ConfigEditRejected {
        path: path.to_path_buf(),
        reason,
    };
    let files = EnvConfigFiles::builder()
        .with_contents(
            match kind {
                FileKind::Config => EnvConfigFileKind::Config,
                FileKind::Credentials => EnvConfigFileKind::Credentials,
            },
            text.to_string(),
        )
        .build();
    let source = runtime()?
        .block_on(aws_runtime::env_config::source::load(
            &Env::from_slice(&[]),
            &Fs::from_slice(&[]),
            &files,
        ))
        .map_err(|e| rejected(e.to_string()))?;
    let sections = EnvConfigSections::parse(source).map_err(|e| rejected(e.to_string()))?;
    let found = sections
        .get_profile(profile.as_str())
        .and_then(|p| p.get(key));
    if found == expected {
        Ok(())
    } else {
        Err(rejected(format!(
            "profile {profile} reads back {} for {key}",
            found.map_or("nothing".to_string(), |v| format!("\"{v}\""))
        )))
    }
}
