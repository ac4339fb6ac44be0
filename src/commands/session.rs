//! `awskeep session clear`: drops cached STS sessions, so the next call fetches a fresh one.
//! `awskeep session refresh`: fetches a new session now, asking for the MFA code where a person
//! is, so that programs without a terminal (an IDE's toolkit) find one cached.

use crate::cli::{SessionArgs, SessionCommand};
use crate::context::Context;
use crate::credentials::{self, Refresh};
use crate::error::Result;
use crate::output;
use crate::profile_name::ProfileName;
use crate::store::facade::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: SessionArgs,
) -> Result<()> {
    match args.command {
        SessionCommand::Clear { profile, all } => {
            let profiles: Vec<ProfileName> = if all {
                // Key profiles (the store's) and role profiles (the config's: they hold no key).
                let (config, _) = crate::config_file::read_leniently(
                    &ctx.config_file,
                    crate::profile::FileKind::Config,
                )?;
                let mut all = store.list()?;
                all.extend(crate::role_chain::role_profiles(&config));
                all.sort();
                all.dedup();
                all
            } else {
                vec![credentials::profile_or_default(ctx, profile)?]
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
        SessionCommand::Refresh { profile, mfa } => {
            let profile = credentials::profile_or_default(ctx, profile)?;
            let resolved = credentials::resolve(
                ctx,
                store,
                aws,
                &profile,
                mfa.mfa_process.as_deref(),
                Refresh::Force,
            )?;
            let until = resolved
                .credentials
                .expiration()
                .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                .unwrap_or_default();
            output::say(&format!(
                "New session for profile {profile}, valid until {until}."
            ));
            Ok(())
        }
    }
}
