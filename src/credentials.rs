//! The one path from a profile name to the credentials awskeep serves for it: `credential-process`,
//! `exec`, `export`, `serve` and `session refresh` all call `resolve`, so each serves exactly what
//! the others would. It reads the profile's settings (leniently, as the hot path must), the store
//! item, and, with sessions on, the cached session while it has more than the margin left; only a
//! miss (or `Refresh::Force`) takes the per-profile lock and asks STS, with an MFA code when the
//! profile has `mfa_serial`.
//!
//! `process_json` is `credential-process`'s way in: it asks the credential cache in front of the
//! store (`store::cred_cache`) first, and on a miss resolves as above and keeps what it serves (a
//! long-term key for the profile's `awskeep_cache` bound, a session until its refresh margin).
//!
//! A long-term key is served with the `Expiration` of its lease (`crate::lease`), so clients run
//! awskeep again and a rotation reaches them; its cache entry lives at most `lease::cache_cap`,
//! so a hit still has more than the refresh margin of that Expiration left. Reading a profile's
//! item whose rotation's retirement is due starts its finisher (`rotation::background::nudge`).
//!
//! It never prints: the secret stays typed (`StoredKey`, `Session`, `CredentialJson`) until a
//! caller writes it out through `output` or into a child's environment (`Credentials::for_each_var`).

use std::time::{Duration, SystemTime};

use secrecy::ExposeSecret;

use crate::aws::{RoleRequest, Signer};
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile::{Document, FileKind};
use crate::profile_name::ProfileName;
use crate::role_chain::RoleChain;
use crate::secret::{KeyOwner, StoredKey};
use crate::session::{RefreshLock, Session};
use crate::settings::{CacheSetting, ProfileSettings, SessionSettings};
use crate::store::cred_cache::{self, CredentialJson, Miss, Source};
use crate::store::facade::CredentialStore;

/// What a profile serves right now.
pub enum Credentials {
    /// Sessions off: the long-term key itself.
    LongTerm(StoredKey),
    /// An STS session from the profile's key, and whose key it is.
    Session {
        session: Session,
        owner: Option<KeyOwner>,
    },
    /// A role profile's role session (AssumeRole), and the role (its account, its ARN).
    Role { session: Session, role: KeyOwner },
}

/// A profile's credentials and its `region` setting (for `exec` and `export`).
pub struct Resolved {
    pub credentials: Credentials,
    pub region: Option<String>,
}

/// Whether a usable cached session may be served (`IfNeeded`), or a new one must be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    IfNeeded,
    Force,
}

/// The profile to serve when none is named: `AWS_PROFILE`, else `default`.
pub fn profile_or_default(ctx: &Context, named: Option<ProfileName>) -> Result<ProfileName> {
    match named {
        Some(profile) => Ok(profile),
        None => ProfileName::parse(ctx.env_profile.as_deref().unwrap_or("default")),
    }
}

/// The credential_process JSON for `profile`: from the credential cache when it holds a current
/// entry (no store is opened then), else as `resolve` finds it, which is then kept in the cache.
pub fn process_json(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    profile: &ProfileName,
    mfa_process: Option<&str>,
) -> Result<CredentialJson> {
    let config = read_config(ctx, profile)?;
    let read = ProfileSettings::read(&config, profile)?;
    let (settings, caching) = (&read.session, read.cache);
    let cache = store.cred_cache().filter(|_| caching != CacheSetting::Off);
    if caching == CacheSetting::Off
        && let Some(cache) = store.cred_cache()
    {
        cache.forget(profile);
    }
    // An entry made under other settings (sessions turned on, another MFA device, another bound)
    // is not this profile's answer any more.
    let chain = match &read.role {
        Some(_) => Some(RoleChain::read(&config, profile, read.clone())?),
        None => None,
    };
    let role_parts = chain
        .as_ref()
        .map(|chain| chain.parts(0))
        .unwrap_or_default();
    let mut parts = vec![
        format!("{caching:?}"),
        format!("{:?}", settings.enabled),
        settings.duration.as_secs().to_string(),
        settings.mfa_serial.clone().unwrap_or_default(),
        ctx.key_lease.as_secs().to_string(),
    ];
    parts.extend(role_parts);
    let fingerprint =
        cred_cache::fingerprint(&parts.iter().map(String::as_str).collect::<Vec<_>>());
    if let Some(cache) = cache {
        match cache.lookup(profile, &fingerprint) {
            Ok(json) => {
                output::trace(
                    ctx.verbose,
                    &format!("serving profile {profile} from the credential cache"),
                );
                return Ok(json);
            }
            Err(Miss::Missing) => {}
            Err(Miss::StoreSaysNo) => output::trace(
                ctx.verbose,
                "dropped the credential cache's entry: the store says its item is locked or gone",
            ),
            Err(Miss::CouldNotAsk(why)) => output::trace(
                ctx.verbose,
                &format!(
                    "not served from the credential cache: the store could not confirm its item ({why})"
                ),
            ),
        }
    }
    let resolved = match &chain {
        Some(chain) => resolve_role(
            ctx,
            store,
            aws,
            chain,
            &config,
            mfa_process,
            Refresh::IfNeeded,
        )?,
        None => resolve_from(
            ctx,
            store,
            aws,
            profile,
            mfa_process,
            Refresh::IfNeeded,
            &config,
            &read,
        )?,
    };
    let session_bound = chain
        .as_ref()
        .map_or(settings.duration, |chain| chain.duration(0));
    let json = CredentialJson::new(resolved.credentials.process_json(ctx.key_lease));
    if let Some(cache) = cache {
        // A session is kept until its refresh margin, and never longer than the profile's session
        // duration allows (a session made under a longer duration setting is not kept for it).
        let usable_for = resolved.credentials.expiration().map(|expiration| {
            expiration
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .min(session_bound)
                .saturating_sub(settings.margin())
        });
        let mut lifetime = caching.lifetime(usable_for);
        if let Credentials::LongTerm(_) = resolved.credentials {
            lifetime = lifetime
                .zip(crate::lease::cache_cap(ctx.key_lease))
                .map(|(bound, cap)| bound.min(cap));
        }
        if let Some(lifetime) = lifetime {
            let source = match resolved.credentials {
                Credentials::LongTerm(_) => Source::Key,
                Credentials::Session { .. } => Source::Session,
                Credentials::Role { .. } => Source::Role,
            };
            match cache.keep(profile, &fingerprint, source, &json, lifetime) {
                Ok(()) => output::trace(
                    ctx.verbose,
                    &format!(
                        "kept in the credential cache as {} for {}",
                        cache.entry_name(profile),
                        humantime::format_duration(Duration::from_secs(lifetime.as_secs()))
                    ),
                ),
                Err(why) => output::trace(
                    ctx.verbose,
                    &format!("not kept in the credential cache: {why}"),
                ),
            }
        }
    }
    Ok(json)
}

/// The profile's section (only it is parsed: the hot path); a role profile's chain runs through
/// other sections, so for one the whole file is read (as leniently).
pub fn read_config(ctx: &Context, profile: &ProfileName) -> Result<Document> {
    config_file::read_profile_leniently_or_whole(
        &ctx.config_file,
        FileKind::Config,
        profile.as_str(),
        |own| own.get(profile.as_str(), "awskeep_role_arn").is_some(),
    )
}

pub fn resolve(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    profile: &ProfileName,
    mfa_process: Option<&str>,
    refresh: Refresh,
) -> Result<Resolved> {
    let config = read_config(ctx, profile)?;
    resolve_in(ctx, store, aws, profile, &config, mfa_process, refresh)
}

/// `resolve` over a config already read (`add-role` checks a profile before writing it).
pub fn resolve_in(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    profile: &ProfileName,
    config: &Document,
    mfa_process: Option<&str>,
    refresh: Refresh,
) -> Result<Resolved> {
    let settings = ProfileSettings::read(config, profile)?;
    if settings.role.is_some() {
        let chain = RoleChain::read(config, profile, settings)?;
        return resolve_role(ctx, store, aws, &chain, config, mfa_process, refresh);
    }
    resolve_from(
        ctx,
        store,
        aws,
        profile,
        mfa_process,
        refresh,
        config,
        &settings,
    )
}

#[allow(
    clippy::too_many_arguments,
    reason = "resolve's arguments and the profile's settings it has read"
)]
fn resolve_from(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    profile: &ProfileName,
    mfa_process: Option<&str>,
    refresh: Refresh,
    config: &Document,
    read: &ProfileSettings,
) -> Result<Resolved> {
    let settings = &read.session;
    let resolved = |credentials| Resolved {
        credentials,
        region: read.region.clone(),
    };
    output::trace(
        ctx.verbose,
        &format!(
            "reading profile {profile} from the {}",
            store.display_name()
        ),
    );
    let key = long_term_key(store, profile, config)?;
    crate::rotation::background::nudge(ctx, profile, &key);
    if !settings.enabled {
        if refresh == Refresh::Force {
            return Err(Error::SessionsOff {
                profile: profile.to_string(),
            });
        }
        output::trace(
            ctx.verbose,
            &format!(
                "serving key {} for profile {profile}",
                key.key.access_key_id
            ),
        );
        return Ok(resolved(Credentials::LongTerm(key)));
    }
    let session = |session| {
        resolved(Credentials::Session {
            session,
            owner: key.owner.clone(),
        })
    };
    let fresh = single_flight(
        ctx,
        store,
        profile,
        refresh,
        || cached(store, profile, &key, settings),
        || fetch(ctx, aws, profile, &key, read, mfa_process),
    )?;
    Ok(session(fresh))
}

/// Single flight over a profile's cached session: the cached one while it is usable (with
/// `Refresh::IfNeeded`); else, under the profile's lock, the one another process fetched while
/// this one waited; else `fetch`'s, kept in the store for the next caller.
fn single_flight(
    ctx: &Context,
    store: &CredentialStore,
    profile: &ProfileName,
    refresh: Refresh,
    cached: impl Fn() -> Result<Option<Session>>,
    fetch: impl FnOnce() -> Result<Session>,
) -> Result<Session> {
    if refresh == Refresh::IfNeeded
        && let Some(session) = cached()?
    {
        output::trace(
            ctx.verbose,
            &format!("serving the cached session of {profile}"),
        );
        return Ok(session);
    }
    let lock_dir = ctx.lock_dir.as_deref().ok_or(Error::NoHome)?;
    let _lock = RefreshLock::acquire(lock_dir, profile)?;
    crate::test_points::crash_point(ctx, "session:holding-lock");
    if refresh == Refresh::IfNeeded
        && let Some(session) = cached()?
    {
        output::trace(
            ctx.verbose,
            &format!("serving the session of {profile} another awskeep just fetched"),
        );
        return Ok(session);
    }
    let fresh = fetch()?;
    store.set_session(profile, &fresh)?;
    Ok(fresh)
}

/// A role profile's credentials: its cached role session while it has more than the margin
/// left, else (under the profile's lock, checked again) a new AssumeRole signed by its source: the
/// next role's session (a chain), or the root profile's own credentials as `resolve_from` serves
/// them, so a root with `mfa_serial` asks for one code, for its cached MFA session, whichever
/// role needs it.
fn resolve_role(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    chain: &RoleChain,
    config: &Document,
    mfa_process: Option<&str>,
    refresh: Refresh,
) -> Result<Resolved> {
    let root_key = store
        .get(&chain.root)?
        .ok_or_else(|| Error::RoleSourceMissing {
            profile: chain.hops[chain.hops.len() - 1].profile.to_string(),
            source_profile: chain.root.to_string(),
            store: store.display_name(),
        })?;
    let root = chain.root_settings.session.clone();
    if root.mfa_serial.is_some() && !root.enabled {
        return Err(Error::RoleNeedsSession {
            profile: chain.hops[chain.hops.len() - 1].profile.to_string(),
            source_profile: chain.root.to_string(),
        });
    }
    let session = role_session(
        ctx,
        store,
        aws,
        chain,
        0,
        (&root_key, config, mfa_process),
        refresh,
    )?;
    let role_arn = chain.hops[0].role().role_arn.clone();
    Ok(Resolved {
        credentials: Credentials::Role {
            session,
            role: KeyOwner {
                account_id: role_arn.split(':').nth(4).unwrap_or_default().to_string(),
                arn: role_arn,
            },
        },
        region: chain.hops[0].settings.region.clone(),
    })
}

/// Hop `index`'s role session, cached or new. `root` is the chain's stored key, the config and
/// the `--mfa-process` its credentials are resolved with.
fn role_session(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    chain: &RoleChain,
    index: usize,
    root: (&StoredKey, &Document, Option<&str>),
    refresh: Refresh,
) -> Result<Session> {
    let root_key = root.0;
    let hop = &chain.hops[index];
    let profile = &hop.profile;
    let parts = chain.parts(index);
    let fingerprint =
        cred_cache::fingerprint(&parts.iter().map(String::as_str).collect::<Vec<_>>());
    let root_key_id = root_key.key.access_key_id.as_str();
    let cached = || -> Result<Option<Session>> {
        Ok(store.get_session(profile)?.filter(|s| {
            s.role.as_deref() == Some(fingerprint.as_str())
                && s.source_key_id == root_key_id
                && s.expiration
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > hop.settings.session.margin())
        }))
    };
    single_flight(ctx, store, profile, refresh, cached, || {
        assume_hop(ctx, store, aws, chain, index, root, fingerprint.clone())
    })
}

/// A new role session for hop `index`, signed by its source (the next hop's session, or the
/// root's credentials as `resolve_from` serves them), answering to `fingerprint`.
fn assume_hop(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    chain: &RoleChain,
    index: usize,
    root: (&StoredKey, &Document, Option<&str>),
    fingerprint: String,
) -> Result<Session> {
    let (root_key, config, mfa_process) = root;
    let hop = &chain.hops[index];
    let source = hop.role().source_profile.clone();
    let signer_session;
    let signer_key;
    let signer = if chain.chained(index) {
        signer_session = role_session(ctx, store, aws, chain, index + 1, root, Refresh::IfNeeded)?;
        Signer::Session(&signer_session)
    } else {
        let resolved = resolve_from(
            ctx,
            store,
            aws,
            &chain.root,
            mfa_process,
            Refresh::IfNeeded,
            config,
            &chain.root_settings,
        )?;
        match resolved.credentials {
            Credentials::LongTerm(key) => {
                signer_key = key;
                Signer::Key(&signer_key.key)
            }
            Credentials::Session { session, .. } | Credentials::Role { session, .. } => {
                signer_session = session;
                Signer::Session(&signer_session)
            }
        }
    };
    let role = hop.role();
    let session_name = role.session_name.clone().unwrap_or_else(|| {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        crate::role_chain::default_session_name(
            root_key.owner.as_ref().map(|owner| owner.arn.as_str()),
            now,
        )
    });
    let target = crate::aws::AwsTarget::resolve(ctx, None, hop.settings.region.as_deref());
    output::trace(
        ctx.verbose,
        &format!(
            "asking sts:AssumeRole for {} as {source} at {}",
            role.role_arn,
            target.sts_endpoint_for_messages()
        ),
    );
    let request = RoleRequest {
        role_arn: &role.role_arn,
        session_name: &session_name,
        duration: chain.duration(index),
        external_id: role.external_id.as_deref(),
        source_identity: role.source_identity.as_deref(),
    };
    let mut fresh = aws
        .assume_role(&target, signer, &request)
        .map_err(|error| match error {
            Error::RoleRefused {
                role_arn,
                code,
                message,
                ..
            } => Error::RoleRefused {
                role_arn,
                source_profile: source.to_string(),
                code,
                message,
            },
            other => other,
        })?;
    fresh.source_key_id = root_key.key.access_key_id.as_str().to_string();
    fresh.mfa_serial = chain.root_settings.session.mfa_serial.clone();
    fresh.role = Some(fingerprint);
    Ok(fresh)
}

/// A key profile's stored long-term key, found as `resolve` finds it (with its errors: no key
/// stored, or a standard role profile awskeep holds no key for), but neither served nor traded for
/// a session: `login` signs GetFederationToken with the key itself, which no session can.
pub fn long_term_key(
    store: &CredentialStore,
    profile: &ProfileName,
    config: &Document,
) -> Result<StoredKey> {
    store.get(profile)?.ok_or_else(|| {
        role_profile(store, profile, config).unwrap_or_else(|| Error::NoStoredKey {
            profile: profile.to_string(),
            store: store.display_name(),
        })
    })
}

/// A profile awskeep holds no key for that is a standard role profile (`role_arn` with
/// `source_profile`, `credential_source` or `web_identity_token_file`): the AWS CLI and SDKs assume the role themselves, so
/// the error says that instead of offering to store a long-term key for it.
fn role_profile(
    store: &CredentialStore,
    profile: &ProfileName,
    config: &Document,
) -> Option<Error> {
    config.get(profile.as_str(), "role_arn")?;
    let setting = |key: &str| {
        config
            .get(profile.as_str(), key)
            .map(|value| (key.to_string(), value.to_string()))
    };
    let (key, value) = setting("source_profile")
        .or_else(|| setting("credential_source"))
        .or_else(|| setting("web_identity_token_file"))?;
    let awskeep_source = (key == "source_profile")
        .then(|| ProfileName::parse(&value).ok())
        .flatten()
        .filter(|source| source != profile && matches!(store.get(source), Ok(Some(_))))
        .map(|source| source.to_string());
    Some(Error::RoleProfile {
        profile: profile.to_string(),
        via: format!("{key} = {value}"),
        awskeep_source,
    })
}

fn cached(
    store: &CredentialStore,
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
    read: &ProfileSettings,
    mfa_process: Option<&str>,
) -> Result<Session> {
    use crate::mfa::{CodeSource, read_code};
    let settings = &read.session;
    let target = crate::aws::AwsTarget::resolve(ctx, None, read.region.as_deref());
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
    let mut attempt = 1;
    loop {
        let (code, source) = read_code(ctx, profile, serial, settings, mfa_process)?;
        match aws.session_token(
            &target,
            &key.key,
            settings.duration,
            Some((serial, code.as_str())),
        ) {
            Err(Error::MfaRejected { message })
                if source == CodeSource::Interactive && attempt < 3 =>
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

impl Credentials {
    /// The STS session served (GetSessionToken's or a role's) and the account it acts in; `None`
    /// for a long-term key.
    pub fn session(&self) -> Option<(&Session, Option<&KeyOwner>)> {
        match self {
            Credentials::LongTerm(_) => None,
            Credentials::Session { session, owner } => Some((session, owner.as_ref())),
            Credentials::Role { session, role } => Some((session, Some(role))),
        }
    }

    pub fn access_key_id(&self) -> &str {
        match self {
            Credentials::LongTerm(key) => key.key.access_key_id.as_str(),
            Credentials::Session { session, .. } | Credentials::Role { session, .. } => {
                &session.access_key_id
            }
        }
    }

    pub fn expiration(&self) -> Option<SystemTime> {
        match self {
            Credentials::LongTerm(_) => None,
            Credentials::Session { session, .. } | Credentials::Role { session, .. } => {
                Some(session.expiration)
            }
        }
    }

    /// The credential_process JSON, as `credential-process` prints it; a long-term key leased for
    /// `lease` from now.
    pub fn process_json(&self, lease: Duration) -> zeroize::Zeroizing<Vec<u8>> {
        match self {
            Credentials::LongTerm(key) => {
                output::credential_json(key, crate::lease::expiration(lease, SystemTime::now()))
            }
            Credentials::Session { session, owner } => {
                output::session_json(session, owner.as_ref())
            }
            Credentials::Role { session, role } => output::session_json(session, Some(role)),
        }
    }

    /// Calls `set` with each environment variable an AWS client reads these credentials from, then
    /// the region's (when the profile has one). The secret is exposed only inside this call.
    pub fn for_each_var(&self, region: Option<&str>, mut set: impl FnMut(&'static str, &str)) {
        set("AWS_ACCESS_KEY_ID", self.access_key_id());
        match self {
            Credentials::LongTerm(key) => {
                set(
                    "AWS_SECRET_ACCESS_KEY",
                    key.key.secret_access_key.expose_secret(),
                );
            }
            Credentials::Session { session, .. } | Credentials::Role { session, .. } => {
                set(
                    "AWS_SECRET_ACCESS_KEY",
                    session.secret_access_key.expose_secret(),
                );
                set("AWS_SESSION_TOKEN", session.session_token.expose_secret());
                set(
                    "AWS_CREDENTIAL_EXPIRATION",
                    &humantime::format_rfc3339_seconds(session.expiration).to_string(),
                );
            }
        }
        if let Some(region) = region {
            set("AWS_REGION", region);
            set("AWS_DEFAULT_REGION", region);
        }
    }

    /// Variables a long-term key must not be mixed with (a stale session's), to unset.
    pub fn stale_vars(&self) -> &'static [&'static str] {
        match self {
            Credentials::LongTerm(_) => &[
                "AWS_SESSION_TOKEN",
                "AWS_SECURITY_TOKEN",
                "AWS_CREDENTIAL_EXPIRATION",
            ],
            Credentials::Session { .. } | Credentials::Role { .. } => &[],
        }
    }
}
