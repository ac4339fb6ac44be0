//! `awskeep remove PROFILE`: deletes the profile's store item and its awskeep `credential_process`
//! line (the section goes too when nothing else is in it). The config is edited first, so no client
//! is left pointing at a missing item if the store delete fails. A credential_process that is not
//! awskeep's is left alone.

use crate::cli::RemoveArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::process_line;
use crate::profile::FileKind;
use crate::prompt;
use crate::store::CredentialStore;

pub fn run(ctx: &Context, store: &dyn CredentialStore, args: RemoveArgs) -> Result<()> {
    let profile = &args.profile;
    let mut config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let in_config = config
        .document()
        .get(profile.as_str(), "credential_process")
        .and_then(process_line::awskeep_profile)
        .is_some_and(|p| p == profile.as_str());
    let in_store = match store.get(profile) {
        Ok(item) => item.is_some(),
        Err(Error::StoreItemCorrupt { .. }) => true,
        Err(e) => return Err(e),
    };
    if !in_config && !in_store {
        return Err(Error::NoSuchProfile {
            profile: profile.to_string(),
            store: store.display_name(),
            config: config.path.clone(),
        });
    }
    prompt::confirm(
        &format!(
            "Remove profile {profile}: its key from the {} and its awskeep line from {}?",
            store.display_name(),
            config.path.display()
        ),
        args.yes,
        "--yes",
        ctx.stdin_is_terminal,
    )?;
    if in_config {
        config.remove(profile.as_str(), "credential_process");
        super::save_process_line(&config, profile, None)?;
        output::trace(
            ctx.verbose,
            &format!("removed credential_process from {}", config.path.display()),
        );
    }
    if in_store {
        store.delete(profile)?;
        super::drop_session(store, profile);
        output::trace(
            ctx.verbose,
            &format!("deleted the {} item", store.display_name()),
        );
    }
    output::say(&format!("Removed profile {profile}."));
    Ok(())
}
