//! The AWS side: the `Aws` calls commands make, passed into them the way the store is; one client
//! factory per call (region, endpoint override, timeouts) on a current-thread runtime; IAM through
//! the one `Iam` trait, acting as a given identity. Only commands that talk to AWS build a client;
//! the credential_process path never does.

mod clients;
mod config_check;
mod failure;
#[cfg(test)]
pub mod fake;
pub mod iam;
mod identity;
pub mod signin;
mod sts;
mod wait;

pub use clients::AwsTarget;
pub use config_check::confirm_profile_setting;
pub use sts::{FederationRequest, RoleRequest, Signer};
pub use wait::Waiting;

use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::{KeyOwner, KeyPair};
use crate::session::Session;
use clients::Clients;
use iam::{CallerKind, Iam};

/// The AWS calls awskeep's commands make. `SdkAws` is the real one: it builds no client and no
/// runtime until a call needs one (credential-process serving a stored key never does). Unit tests
/// pass `fake::FakeAws`.
pub trait Aws {
    /// sts:GetCallerIdentity signed with `key`: whose key it is; a rejected key is `KeyRejected`.
    fn verify_key(&self, target: &AwsTarget, key: &KeyPair) -> Result<KeyOwner>;
    /// When IAM created `key` (its CreateDate), asking iam:ListAccessKeys as the key itself for its
    /// owner's keys (`owner`, from `verify_key`). `Ok(None)`: IAM listed no date for it.
    fn key_created(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        owner: &KeyOwner,
    ) -> Result<Option<SystemTime>>;
    /// sts:GetSessionToken with `key`, with an MFA device's (serial, code) when the profile has one.
    fn session_token(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        duration: Duration,
        mfa: Option<(&str, &str)>,
    ) -> Result<Session>;
    /// sts:AssumeRole signed with `signer` (a key, or a session's credentials); the session it
    /// returns names `signer`'s key as its source (the caller records the chain's own).
    fn assume_role(
        &self,
        target: &AwsTarget,
        signer: Signer<'_>,
        request: &RoleRequest<'_>,
    ) -> Result<Session>;
    /// sts:GetFederationToken with `key`, a long-term key (STS takes no session credentials and no
    /// MFA code for it): a federated user's session, for `login`; a refusal is `FederationRefused`.
    fn federation_token(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        request: &FederationRequest<'_>,
    ) -> Result<Session>;
    /// The federation endpoint's getSigninToken for `session` (a role's or a federated user's):
    /// the token a console sign-in URL carries. `console_session`: its SessionDuration.
    fn signin_token(
        &self,
        federation: &signin::Federation,
        session: &Session,
        console_session: Option<Duration>,
    ) -> Result<secrecy::SecretString>;
    /// IAM acting as the identity `bootstrap` acts as: the named profile from the profile files
    /// only, else the SDK's default chain.
    fn source(&self, target: &AwsTarget, source_profile: Option<&str>)
    -> Result<Box<dyn Iam + '_>>;
    /// IAM acting as `key`, one of `profile`'s own keys (rotate, remove), once STS has named it.
    fn acting_as(
        &self,
        target: &AwsTarget,
        profile: &ProfileName,
        key: &KeyPair,
    ) -> Result<Box<dyn Iam + '_>>;
    /// Waits until AWS accepts the new `key` (a new key takes a while); whose it is.
    fn wait_accepted(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        waiting: &Waiting<'_>,
    ) -> Result<KeyOwner>;
    /// AWS's clock: the HTTP `Date` header of STS's answer to a request signed with a made-up key
    /// (no credentials needed; AWS refuses the key and still says the time). For `doctor`.
    fn server_time(&self, target: &AwsTarget) -> Result<SystemTime>;
}

/// `Aws` through the AWS SDK.
pub struct SdkAws;

impl Aws for SdkAws {
    fn verify_key(&self, target: &AwsTarget, key: &KeyPair) -> Result<KeyOwner> {
        sts::caller_identity(&Clients::new(target.clone())?, key)
    }

    fn key_created(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        owner: &KeyOwner,
    ) -> Result<Option<SystemTime>> {
        let user = match iam::caller_kind(&owner.arn) {
            CallerKind::User(name) => Some(name),
            CallerKind::Root => None,
            CallerKind::NotAUser(what) => return Err(Error::NeedsUser { what }),
        };
        let clients = Clients::new(target.clone())?;
        let keys =
            identity::known_key(key, owner, &clients).list_access_keys_of(user.as_deref())?;
        Ok(keys
            .into_iter()
            .find(|k| k.id == key.access_key_id)
            .and_then(|k| k.created))
    }

    fn session_token(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        duration: Duration,
        mfa: Option<(&str, &str)>,
    ) -> Result<Session> {
        sts::session_token(target, key, duration, mfa)
    }

    fn assume_role(
        &self,
        target: &AwsTarget,
        signer: Signer<'_>,
        request: &RoleRequest<'_>,
    ) -> Result<Session> {
        sts::assume_role(target, signer, request)
    }

    fn federation_token(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        request: &FederationRequest<'_>,
    ) -> Result<Session> {
        sts::federation_token(target, key, request)
    }

    fn signin_token(
        &self,
        federation: &signin::Federation,
        session: &Session,
        console_session: Option<Duration>,
    ) -> Result<secrecy::SecretString> {
        signin::signin_token(federation, session, console_session)
    }

    fn source(
        &self,
        target: &AwsTarget,
        source_profile: Option<&str>,
    ) -> Result<Box<dyn Iam + '_>> {
        let clients = Clients::new(target.clone())?;
        Ok(Box::new(identity::source(source_profile, &clients)?))
    }

    fn acting_as(
        &self,
        target: &AwsTarget,
        profile: &ProfileName,
        key: &KeyPair,
    ) -> Result<Box<dyn Iam + '_>> {
        let clients = Clients::new(target.clone())?;
        let label = format!("profile {profile}'s key");
        Ok(Box::new(identity::key(key, label, &clients)?))
    }

    fn wait_accepted(
        &self,
        target: &AwsTarget,
        key: &KeyPair,
        waiting: &Waiting<'_>,
    ) -> Result<KeyOwner> {
        wait::wait_until_accepted(&Clients::new(target.clone())?, key, waiting)
    }

    fn server_time(&self, target: &AwsTarget) -> Result<SystemTime> {
        sts::server_time(&Clients::new(target.clone())?)
    }
}
