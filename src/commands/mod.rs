//! One module per subcommand, each `run(&Context, ..., Args) -> Result<()>`, given its dependencies
//! (the store, the AWS target) by `lib::run`. Helpers shared by several commands live here.

pub mod add;
pub mod credential_process;
pub mod list;
pub mod remove;

use std::path::Path;

use crate::error::Result;
use crate::profile_name::ProfileName;

/// Checks an edited config text with the SDKs' own parser before it is written.
pub(crate) fn confirm_config_edit(
    path: &Path,
    text: &str,
    profile: &ProfileName,
    key: &str,
    expected: Option<&str>,
) -> Result<()> {
    #[cfg(feature = "aws")]
    return crate::aws::confirm_profile_setting(path, text, profile, key, expected);
    #[cfg(not(feature = "aws"))]
    {
        let _ = (path, text, profile, key, expected);
        Ok(())
    }
}
