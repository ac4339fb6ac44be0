//! `awskeep login [PROFILE]`: the AWS console in the browser, signed in with the profile's
//! credentials through AWS's federation endpoint (getSigninToken), as aws-vault, granted and
//! awskeyring do.
//!
//! A role profile signs in with its role session, as `credentials::resolve` serves it (cached, or
//! assumed now with one MFA code for its source), and asks the console session's length
//! (SessionDuration). A key profile cannot sign in with its key, nor with a GetSessionToken session
//! (the endpoint refuses both): login asks GetFederationToken, signed by the stored long-term key
//! itself (STS refuses session credentials for it), for a federated user named after the key's IAM
//! user, with a session policy allowing everything, so the console gets exactly what the user's own
//! policies allow (as aws-vault does). A key profile's sessions are not used, so no MFA code is
//! asked for a session that would be thrown away. A GetFederationToken session carries no MFA: a
//! profile with `mfa_serial` is still tried (with a note), and a refusal says why and that a role
//! profile keeps the MFA.
//!
//! The sign-in URL is a bearer credential for the console session: it goes to stdout with
//! `--stdout`, else into the command line of the platform's opener only (xdg-open, open,
//! rundll32), and never into a trace or an error.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::aws::signin::Federation;
use crate::aws::{Aws, AwsTarget, FederationRequest};
use crate::cli::LoginArgs;
use crate::context::Context;
use crate::credentials::{self, Credentials, Refresh};
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::secret::StoredKey;
use crate::session::Session;
use crate::settings::ProfileSettings;
use crate::store::facade::CredentialStore;

/// The console session's length without `--duration`: aws-vault's default, and short, since the
/// URL signs in whoever opens it.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);

/// The federated user's session policy: everything, so the session gets what the IAM user's own
/// policies allow (a session's permissions are the intersection of both).
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

pub fn run(ctx: &Context, store: &CredentialStore, aws: &dyn Aws, args: LoginArgs) -> Result<()> {
    let profile = credentials::profile_or_default(ctx, args.profile.clone())?;
    let url = sign_in_url(ctx, store, aws, &profile, &args)?;
    if args.stdout {
        let mut line = Zeroizing::new(String::with_capacity(url.expose_secret().len() + 1));
        line.push_str(url.expose_secret());
        line.push('\n');
        return output::print_bytes(line.as_bytes());
    }
    let opener = open_in_browser(ctx, &url)?;
    output::say(&format!(
        "awskeep: opened the AWS console as profile {profile} in your browser ({opener})"
    ));
    Ok(())
}

/// The console sign-in URL for `profile`, with the sign-in token the federation endpoint gave.
pub fn sign_in_url(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn Aws,
    profile: &ProfileName,
    args: &LoginArgs,
) -> Result<SecretString> {
    let config = credentials::read_config(ctx, profile)?;
    let read = ProfileSettings::read(&config, profile)?;
    let duration = args.duration.unwrap_or(DEFAULT_DURATION);
    // The console's region, as the AWS CLI picks one: the flag, the environment, the profile's.
    let region = args
        .region
        .clone()
        .or_else(|| ctx.env_region.clone())
        .or_else(|| read.region.clone());
    let federation = Federation::for_region(region.as_deref(), ctx.federation_endpoint.as_deref())?;
    let served = if read.role.is_some() {
        credentials::resolve_in(
            ctx,
            store,
            aws,
            profile,
            &config,
            args.mfa.mfa_process.as_deref(),
            Refresh::IfNeeded,
        )?
        .credentials
    } else {
        // A key profile: the key itself, not what `resolve` would serve (see above).
        Credentials::LongTerm(credentials::long_term_key(store, profile, &config)?)
    };
    let federated = |key: &StoredKey| {
        federation_session(
            ctx,
            aws,
            profile,
            key,
            &read,
            args.region.as_deref(),
            duration,
        )
    };
    let (session, console_session) = match served {
        // A session the endpoint takes as it is (a role's): straight to getSigninToken.
        Credentials::Role { session, .. } => (session, Some(duration)),
        // The federation endpoint refuses a long-term key and a GetSessionToken session alike.
        Credentials::LongTerm(key) => (federated(&key)?, None),
        Credentials::Session { .. } => (
            federated(&credentials::long_term_key(store, profile, &config)?)?,
            None,
        ),
    };
    let destination = federation.destination(region.as_deref(), args.path.as_deref());
    let token = signin_token(ctx, aws, &federation, &session, console_session)?;
    Ok(federation.login_url(&destination, &token))
}

/// The federation endpoint's sign-in token for a session that can sign in (a role's, a federated
/// user's): its access key ID, secret and token go to the endpoint, nowhere else.
fn signin_token(
    ctx: &Context,
    aws: &dyn Aws,
    federation: &Federation,
    session: &Session,
    console_session: Option<Duration>,
) -> Result<SecretString> {
    output::trace(
        ctx.verbose,
        &format!(
            "asking the federation endpoint {} for a sign-in token",
            federation.endpoint
        ),
    );
    aws.signin_token(federation, session, console_session)
}

/// A GetFederationToken session of `key`'s IAM user, lasting `duration`.
fn federation_session(
    ctx: &Context,
    aws: &dyn Aws,
    profile: &ProfileName,
    key: &StoredKey,
    read: &ProfileSettings,
    flag_region: Option<&str>,
    duration: Duration,
) -> Result<Session> {
    let has_mfa = read.session.mfa_serial.is_some();
    if has_mfa {
        output::say(&format!(
            "awskeep: note: a console session of profile {profile}'s key carries no MFA (GetFederationToken takes no code), so what its policies allow only with MFA stays closed there; a role profile signs in with its MFA session"
        ));
    }
    let name = federated_name(key.owner.as_ref().map(|owner| owner.arn.as_str()));
    let target = AwsTarget::resolve(ctx, flag_region, read.region.as_deref());
    output::trace(
        ctx.verbose,
        &format!(
            "asking sts:GetFederationToken for federated user {name} with profile {profile}'s key {} at {}",
            key.key.access_key_id,
            target.sts_endpoint_for_messages()
        ),
    );
    let request = FederationRequest {
        name: &name,
        policy: ALLOW_ALL,
        duration,
    };
    aws.federation_token(&target, &key.key, &request)
        .map_err(|error| match error {
            Error::FederationRefused { code, message, .. } => Error::FederationRefused {
                profile: profile.to_string(),
                code,
                message,
                has_mfa,
            },
            other => other,
        })
}

/// The federated user's name: the IAM user's (`arn:aws:iam::1:user/path/alice` -> `alice`), as
/// GetFederationToken takes names (2 to 32 of `[A-Za-z0-9+=,.@_-]`), else `awskeep`.
fn federated_name(owner_arn: Option<&str>) -> String {
    let user = match owner_arn.map(crate::aws::iam::caller_kind) {
        Some(crate::aws::iam::CallerKind::User(name)) => name,
        _ => String::new(),
    };
    let name: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c))
        .take(32)
        .collect();
    if name.len() < 2 {
        return "awskeep".into();
    }
    name
}

/// Opens `url` with the platform's opener, whose command line is the only place it goes; waits a
/// while for the opener to say it failed (a browser it starts itself may keep it running: then it
/// is left to run). Returns the opener's name.
fn open_in_browser(ctx: &Context, url: &SecretString) -> Result<&'static str> {
    use std::process::Stdio;
    let (program, mut command) = opener(ctx)?;
    command
        .arg(url.expose_secret())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let failed = |reason: String| Error::NoBrowser { program, reason };
    let mut child = command
        .spawn()
        .map_err(|e| failed(format!("it could not be started ({e})")))?;
    let deadline = std::time::Instant::now() + OPENER_WAIT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(program),
            Ok(Some(status)) => return Err(failed(format!("it failed ({status})"))),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            // Still running: the browser itself, started in the foreground; it has the URL.
            Ok(None) => return Ok(program),
            Err(e) => return Err(failed(e.to_string())),
        }
    }
}

/// How long the opener may take to say it failed.
const OPENER_WAIT: Duration = Duration::from_secs(10);

/// The platform's opener: `open` on macOS, `rundll32 url.dll,FileProtocolHandler` on Windows (no
/// `cmd /C start`, which would read the URL's `&` as its own), else `xdg-open` from PATH.
fn opener(ctx: &Context) -> Result<(&'static str, std::process::Command)> {
    use std::process::Command;
    if cfg!(target_os = "macos") {
        return Ok(("open", Command::new("/usr/bin/open")));
    }
    if cfg!(windows) {
        let mut command = Command::new("rundll32");
        command.arg("url.dll,FileProtocolHandler");
        return Ok(("rundll32", command));
    }
    let path = ctx
        .find_on_path("xdg-open")
        .ok_or_else(|| Error::NoBrowser {
            program: "xdg-open",
            reason: "it is not on PATH".into(),
        })?;
    Ok(("xdg-open", Command::new(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::FakeAws;
    use crate::cli::MfaProcessFlag;
    use crate::secret::{AccessKeyId, KeyOwner, KeyPair, SecretAccessKey};
    use crate::store::memory::MemoryStore;
    use std::time::SystemTime;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";

    fn context(dir: &std::path::Path, config: &str) -> Context {
        std::fs::write(dir.join("config"), config).unwrap();
        Context {
            lock_dir: Some(dir.join("locks")),
            ..Context::for_test(dir)
        }
    }

    fn args() -> LoginArgs {
        LoginArgs {
            profile: None,
            stdout: true,
            path: None,
            region: None,
            duration: None,
            mfa: MfaProcessFlag::default(),
        }
    }

    fn store_key(store: &MemoryStore, profile: &str, owner: Option<&str>) {
        let key = StoredKey {
            key: KeyPair {
                access_key_id: AccessKeyId::parse(ID).unwrap(),
                secret_access_key: SecretAccessKey::parse("secret").unwrap(),
            },
            owner: owner.map(|arn| KeyOwner {
                account_id: "123456789012".into(),
                arn: arn.into(),
            }),
            added_at: SystemTime::now(),
            iam_created_at: None,
            rotation: Default::default(),
        };
        store
            .set(&ProfileName::parse(profile).unwrap(), &key)
            .unwrap();
    }

    fn url(
        ctx: &Context,
        store: &MemoryStore,
        aws: &FakeAws,
        profile: &str,
        args: &LoginArgs,
    ) -> Result<String> {
        let profile = ProfileName::parse(profile).unwrap();
        sign_in_url(ctx, store, aws, &profile, args).map(|url| url.expose_secret().to_string())
    }

    #[test]
    fn a_key_profile_signs_in_with_a_federation_token_of_its_long_term_key() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), "[profile dev]\nregion = eu-west-1\n");
        let store = MemoryStore::default();
        store_key(
            &store,
            "dev",
            Some("arn:aws:iam::123456789012:user/team/alice"),
        );
        let aws = FakeAws::default();
        let args = LoginArgs {
            path: Some("/s3".into()),
            duration: Some(Duration::from_secs(4 * 3600)),
            ..args()
        };
        let url = url(&ctx, &store, &aws, "dev", &args).unwrap();
        assert_eq!(
            url,
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=awskeep&Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fs3%3Fregion%3Deu-west-1&SigninToken=signin-token-for-ASIAFAKEFEDERATED001"
        );
        assert_eq!(
            *aws.federations.borrow(),
            [(
                ID.to_string(),
                "alice".to_string(),
                ALLOW_ALL.to_string(),
                Duration::from_secs(4 * 3600)
            )]
        );
        assert_eq!(
            *aws.signins.borrow(),
            [("ASIAFAKEFEDERATED001".to_string(), None)],
            "no SessionDuration for a federated user's session"
        );
    }

    #[test]
    fn a_key_profile_with_sessions_and_mfa_asks_no_code_and_no_session_token() {
        let dir = tempfile::tempdir().unwrap();
        // An MFA process that fails: were a code asked, login would fail.
        let ctx = context(
            dir.path(),
            "[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/me\nawskeep_session = true\nawskeep_mfa_process = false\n",
        );
        let store = MemoryStore::default();
        store_key(&store, "dev", None);
        let aws = FakeAws::default();
        let url = url(&ctx, &store, &aws, "dev", &args()).unwrap();
        assert!(
            url.ends_with("SigninToken=signin-token-for-ASIAFAKEFEDERATED001"),
            "{url}"
        );
        assert_eq!(
            aws.calls.get(),
            1,
            "GetFederationToken only: no GetSessionToken"
        );
        let federations = aws.federations.borrow();
        assert_eq!(federations[0].0, ID, "signed by the long-term key");
        assert_eq!(federations[0].1, "awskeep", "no owner known: awskeep");
        assert_eq!(federations[0].3, DEFAULT_DURATION);
        assert!(
            store
                .get_session(&ProfileName::parse("dev").unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_refusal_names_the_profile_and_whether_it_has_an_mfa_device() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(
            dir.path(),
            "[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n",
        );
        let store = MemoryStore::default();
        store_key(&store, "dev", None);
        let aws = FakeAws::default();
        aws.refuse_federation.set(true);
        let error = url(&ctx, &store, &aws, "dev", &args()).unwrap_err();
        assert!(
            matches!(&error, Error::FederationRefused { profile, has_mfa: true, .. } if profile == "dev"),
            "{error:?}"
        );
        assert!(aws.signins.borrow().is_empty());
    }

    #[test]
    fn a_role_profile_signs_in_with_its_role_session_and_asks_the_console_session_length() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(
            dir.path(),
            "[profile dev]\n[profile prod]\nawskeep_role_arn = arn:aws:iam::123456789012:role/admin\nawskeep_source_profile = dev\n",
        );
        let store = MemoryStore::default();
        store_key(&store, "dev", None);
        let aws = FakeAws::default();
        let args = LoginArgs {
            region: Some("us-gov-west-1".into()),
            duration: Some(Duration::from_secs(2 * 3600)),
            ..args()
        };
        let url = url(&ctx, &store, &aws, "prod", &args).unwrap();
        assert!(
            url.starts_with("https://signin.amazonaws-us-gov.com/federation?Action=login&Issuer=awskeep&Destination=https%3A%2F%2Fus-gov-west-1.console.amazonaws-us-gov.com%2Fconsole%2Fhome%3Fregion%3Dus-gov-west-1&SigninToken=signin-token-for-ASIAFAKEROLE"),
            "{url}"
        );
        assert!(aws.federations.borrow().is_empty(), "no GetFederationToken");
        assert_eq!(aws.roles_assumed.borrow().len(), 1);
        let signins = aws.signins.borrow();
        assert_eq!(signins.len(), 1);
        assert!(signins[0].0.starts_with("ASIAFAKEROLE"));
        assert_eq!(signins[0].1, Some(Duration::from_secs(2 * 3600)));
    }

    #[test]
    fn a_profile_without_a_key_is_the_usual_error() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), "");
        let store = MemoryStore::default();
        let aws = FakeAws::default();
        let error = url(&ctx, &store, &aws, "dev", &args()).unwrap_err();
        assert!(matches!(error, Error::NoStoredKey { .. }), "{error:?}");
        assert_eq!(aws.calls.get(), 0);
    }

    #[test]
    fn the_federated_user_is_named_after_the_iam_user() {
        assert_eq!(federated_name(Some("arn:aws:iam::1:user/alice")), "alice");
        assert_eq!(
            federated_name(Some("arn:aws:iam::1:user/a/b/bob.smith@x")),
            "bob.smith@x"
        );
        assert_eq!(federated_name(Some("arn:aws:iam::1:root")), "awskeep");
        assert_eq!(federated_name(Some("arn:aws:iam::1:user/x")), "awskeep");
        assert_eq!(federated_name(None), "awskeep");
        assert_eq!(
            federated_name(Some(&format!("arn:aws:iam::1:user/{}", "n".repeat(64)))).len(),
            32
        );
    }
}
