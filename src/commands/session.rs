//! `awskeep session clear`: drops cached STS sessions, so the next call fetches a fresh one.

use crate::cli::{SessionArgs, SessionCommand};
use crate::context::Context;
use crate::error::Result;
use crate::output;
use crate::profile_name::ProfileName;
use crate::store::CredentialStore;

pub fn run(ctx: &Context, store: &dyn CredentialStore, args: SessionArgs) -> Result<()> {
    match args.command {
        SessionCommand::Clear { profile, all } => {
            let profiles: Vec<ProfileName> = if all {
                store.list()?
            } else {
                let name = profile.map_or_else(
                    || ctx.env_profile.clone().unwrap_or_else(|| "default".into()),
                    |p| p.to_string(),
                );
                vec![ProfileName::parse(&name)?]
            };
            let mut cleared = Vec::new();
            for profile in &profiles {
                if store.delete_session(profile)? {
                    cleared.push(profile.as_str());
                }
            }
            if cleared.is_empty() {
                output::say("No cached session to clear.");
            } else {
                output::say(&format!(
                    "Cleared the cached session of {}.",
                    cleared.join(", ")
                ));
            }
            Ok(())
        }
    }
}
