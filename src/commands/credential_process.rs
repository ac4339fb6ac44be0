//! `awskeep credential-process`: the hot path every AWS CLI and SDK call runs. It reads the profile's
//! settings from `~/.aws/config` and its store item(s), and prints the JSON: the long-term key, or
//! (sessions on) a cached STS session while it has more than the refresh margin left. Only a cache
//! miss builds an AWS client, under a cross-process lock so that N processes make one STS call and one
//! MFA prompt. It never reads stdin (JS and Java hand the helper a pipe that never closes).

use std::time::SystemTime;

use crate::cli::CredentialProcessArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile::FileKind;
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::{RefreshLock, Session, SessionSettings};
use crate::store::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &dyn CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: CredentialProcessArgs,
) -> Result<()> {
    let profile = match args.profile {
        Some(profile) => profile,
        None => ProfileName::parse(ctx.env_profile.as_deref().unwrap_or("default"))?,
    };
    let config =
        config_file::read_profile_leniently(&ctx.config_file, FileKind::Config, profile.as_str())?;
    let settings = SessionSettings::from_config(&config, &profile)?;
    output::trace(
        ctx.verbose,
        &format!(
            "reading profile {profile} from the {}",
            store.display_name()
        ),
    );
    let key = store.get(&profile)?.ok_or_else(|| Error::NoStoredKey {
        profile: profile.to_string(),
        store: store.display_name(),
    })?;
    if !settings.enabled {
        output::trace(
            ctx.verbose,
            &format!(
                "serving key {} for profile {profile}",
                key.key.access_key_id
            ),
        );
        return output::print_credentials(&key);
    }
    if let Some(session) = cached(store, &profile, &key, &settings)? {
        output::trace(ctx.verbose, "serving the cached session");
        return output::print_session(&session, key.owner.as_ref());
    }
    let lock_dir = ctx.lock_dir.as_deref().ok_or(Error::NoHome)?;
    let _lock = RefreshLock::acquire(lock_dir, &profile)?;
    super::crash_point(ctx, "session:holding-lock");
    // Another process may have refreshed while this one waited.
    if let Some(session) = cached(store, &profile, &key, &settings)? {
        output::trace(
            ctx.verbose,
            "serving the session another awskeep just fetched",
        );
        return output::print_session(&session, key.owner.as_ref());
    }
    let session = fetch(
        ctx,
        aws,
        &profile,
        &key,
        &settings,
        args.mfa_process.as_deref(),
        &config,
    )?;
    store.set_session(&profile, &session)?;
    output::print_session(&session, key.owner.as_ref())
}

fn cached(
    store: &dyn CredentialStore,
    profile: &ProfileName,
    key: &StoredKey,
    settings: &SessionSettings,
) -> Result<Option<Session>> {
    Ok(store
        .get_session(profile)?
        .filter(|s| s.usable(key.key.access_key_id.as_str(), settings, SystemTime::now())))
}

fn fetch(
    ctx: &Context,
    aws: &dyn crate::aws::Aws,
    profile: &ProfileName,
    key: &StoredKey,
    settings: &SessionSettings,
    mfa_process: Option<&str>,
    config: &crate::profile::Document,
) -> Result<Session> {
    use crate::mfa::{CodeSource, read_code};
    let target = crate::aws::AwsTarget::resolve(ctx, None, config.get(profile.as_str(), "region"));
    output::trace(
        ctx.verbose,
        &format!(
            "asking sts:GetSessionToken at {}",
            target.sts_endpoint_for_messages()
        ),
    );
    let Some(serial) = settings.mfa_serial.as_deref() else {
        return aws.session_token(&target, &key.key, settings.duration, None);
    };
    let process = mfa_process.or(settings.mfa_process.as_deref());
    let mut attempt = 1;
    loop {
        let (code, source) = read_code(profile, serial, process)?;
        match aws.session_token(
            &target,
            &key.key,
            settings.duration,
            Some((serial, code.as_str())),
        ) {
            Err(Error::MfaRejected { message })
                if source == CodeSource::Terminal && attempt < 3 =>
            {
                output::say(&format!(
                    "awskeep: AWS refused the MFA code{message}; try again."
                ));
                attempt += 1;
            }
            other => return other,
        }
    }
}
