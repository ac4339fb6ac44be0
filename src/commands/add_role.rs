//! `awskeep add-role PROFILE --role-arn ARN --source-profile SOURCE`: writes a role profile that
//! awskeep serves (its `credential_process` line and the `awskeep_role_*` settings, never
//! `role_arn`, which an SDK would assume a second time). Before writing, it assumes the role once
//! through the one resolution path (`--no-verify` skips that), so a profile that cannot work is not
//! written, and the first client call finds the role session cached.

use crate::cli::AddRoleArgs;
use crate::context::Context;
use crate::credentials::{self, Refresh};
use crate::error::{Error, Result};
use crate::output;
use crate::profile::{FileKind, SettingValue};
use crate::profile_name::ProfileName;
use crate::store::facade::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    store_choice: Option<crate::store::kind::StoreKind>,
    args: AddRoleArgs,
) -> Result<()> {
    let profile = &args.profile;
    let mut config = crate::config_file::load(&ctx.config_file, FileKind::Config)?;
    let credentials = crate::config_file::load(&ctx.credentials_file, FileKind::Credentials)?;
    crate::profile_setup::refuse_plaintext_keys(&config, &credentials, profile)?;
    crate::profile_setup::refuse_other_sources(&config, profile)?;
    if store.get(profile)?.is_some() {
        return Err(Error::HoldsKey {
            profile: profile.to_string(),
            store: store.display_name(),
        });
    }
    let document = config.document();
    let configured = document.get(profile.as_str(), "credential_process");
    let question = match (
        document.get(profile.as_str(), "awskeep_role_arn"),
        configured,
    ) {
        (Some(arn), _) => Some(format!(
            "Profile {profile} is a role profile already (it assumes {arn}). Replace it?"
        )),
        (None, Some(line)) if crate::process_line::awskeep_profile(line).is_none() => {
            Some(format!(
                "Profile {profile} already has a credential_process that is not awskeep's. Replace it?"
            ))
        }
        _ => None,
    };
    if let Some(question) = question {
        crate::prompt::confirm(&question, args.force, "--force", ctx.stdin_is_terminal)?;
    }
    // As `add`: a store named on the command line goes into the line, so clients open that one.
    let line = crate::process_line::build(&ctx.own_program()?, profile, store_choice)?;
    // Every value was checked by its parser already; this refuses a line break all the same.
    let value = |key: &'static str, text: &str| {
        SettingValue::new(text).map_err(|reason| Error::BadSetting {
            profile: profile.to_string(),
            key,
            reason: reason.into(),
        })
    };
    config.set(profile, "credential_process", &line);
    let settings: [(&'static str, Option<String>); 6] = [
        ("awskeep_role_arn", Some(args.role_arn.clone())),
        (
            "awskeep_source_profile",
            Some(args.source_profile.to_string()),
        ),
        ("awskeep_external_id", args.external_id.clone()),
        ("awskeep_role_session_name", args.role_session_name.clone()),
        (
            "awskeep_role_duration",
            args.duration
                .map(|d| SettingValue::duration(d).as_str().to_string()),
        ),
        ("awskeep_source_identity", args.source_identity.clone()),
    ];
    for (key, setting) in settings {
        match setting {
            Some(text) => config.set(profile, key, &value(key, &text)?),
            None => {
                config.remove(profile.as_str(), key);
            }
        }
    }
    // Clients need a region and the AWS CLI does not take the source's: without --region a new
    // role profile gets its source's, as the user most likely means.
    let region = match &args.region {
        Some(region) => Some(region.clone()),
        None if config.document().get(profile.as_str(), "region").is_none() => config
            .document()
            .get(args.source_profile.as_str(), "region")
            .map(str::to_string),
        None => None,
    };
    if let Some(region) = &region {
        config.set(profile, "region", &value("region", region)?);
    }
    if args.no_verify {
        // Still read the chain: a loop or a missing source is refused without asking AWS.
        check_chain(store, profile, &config)?;
    } else {
        // A replaced role profile's cached session answers to its old settings: not served again.
        let resolved = credentials::resolve_in(
            ctx,
            store,
            aws,
            profile,
            config.document(),
            args.mfa.mfa_process.as_deref(),
            Refresh::Force,
        )?;
        output::trace(
            ctx.verbose,
            &format!(
                "assumed the role: session key {}",
                resolved.credentials.access_key_id()
            ),
        );
    }
    crate::profile_setup::save_profile(&config, profile, Some(line.as_str()), region.as_deref())?;
    if region.is_none() && config.document().get(profile.as_str(), "region").is_none() {
        output::say(&format!(
            "awskeep: warning: profile {profile} has no region (nor has {}){}; AWS clients need one: `awskeep add-role {profile} ... --region REGION --force`, or `aws configure set region REGION --profile {profile}`",
            args.source_profile,
            match &ctx.env_region {
                Some(region) => format!(", only {region} from this shell's environment"),
                None => String::new(),
            }
        ));
    }
    let inherited = match (&args.region, &region) {
        (None, Some(region)) => format!(", in {region} (as {})", args.source_profile),
        _ => String::new(),
    };
    output::say(&format!(
        "awskeep: profile {profile} assumes {} with {}'s credentials{inherited}{}; try `aws sts get-caller-identity --profile {profile}`",
        args.role_arn,
        args.source_profile,
        if args.no_verify {
            " (not tried: --no-verify)"
        } else {
            ""
        }
    ));
    Ok(())
}

/// The chain's shape without AWS: no loop, and a source awskeep holds a key for at its end.
fn check_chain(
    store: &CredentialStore,
    profile: &ProfileName,
    config: &crate::config_file::LoadedFile,
) -> Result<()> {
    let document = config.document();
    let settings = crate::settings::ProfileSettings::read(document, profile)?;
    let chain = crate::role_chain::RoleChain::read(document, profile, settings)?;
    if store.get(&chain.root)?.is_none() {
        return Err(Error::RoleSourceMissing {
            profile: chain.hops[chain.hops.len() - 1].profile.to_string(),
            source_profile: chain.root.to_string(),
            store: store.display_name(),
        });
    }
    Ok(())
}
