//! The AWS side: one factory that builds SDK clients (region, endpoint override, timeouts) on a
//! current-thread runtime, and thin typed calls on top. Only commands that talk to AWS build it; the
//! credential_process path never does.

mod config_check;
mod failure;
#[cfg(test)]
pub mod fake;
pub mod iam;
pub mod source;
mod sts;
mod wait;

pub use config_check::confirm_profile_setting;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::rotation::KeyAuthority;
use crate::secret::{AccessKeyId, KeyOwner, KeyPair, NewKey};
use crate::session::Session;
use iam::KeyInfo;
use source::{Caller, CallerKind, SourceIdentity};

/// The AWS calls awskeep's commands make, passed into them the way the store is. `SdkAws` is the
/// real one: it builds no client and no runtime until a call needs one (credential-process serving a
/// stored key never does). Unit tests pass fakes.
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
    /// The identity `bootstrap` acts as: the named profile from the profile files only, else the
    /// SDK's default chain.
    fn source(&self, target: AwsTarget, source_profile: Option<&str>) -> Result<Box<dyn Source>>;
    /// The calls a rotation makes, acting as a profile's keys.
    fn rotation<'a>(
        &'a self,
        target: AwsTarget,
        waiting: Waiting<'a>,
    ) -> Result<Box<dyn KeyAuthority + 'a>>;
    /// AWS's clock: the HTTP `Date` header of STS's answer to a request signed with a made-up key
    /// (no credentials needed; AWS refuses the key and still says the time). For `doctor`.
    fn server_time(&self, target: &AwsTarget) -> Result<SystemTime>;
}

/// How long to wait for a new key, for which profile (messages), and the deferred Ctrl-C.
#[derive(Clone, Copy)]
pub struct Waiting<'a> {
    pub profile: &'a ProfileName,
    pub timeout: Duration,
    pub interrupted: &'a AtomicBool,
}

/// The IAM calls `bootstrap` makes as its source identity.
pub trait Source {
    fn caller(&self) -> &Caller;
    /// "profile admin", "the default credential chain": for messages.
    fn label(&self) -> &str;
    fn create_user(&self, user: &str) -> Result<()>;
    fn add_user_to_group(&self, user: &str, group: &str) -> Result<()>;
    fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<()>;
    fn list_access_keys(&self, user: &str) -> Result<Vec<KeyInfo>>;
    fn last_used(&self, id: &AccessKeyId) -> Option<SystemTime>;
    fn create_access_key(&self, user: &str) -> Result<NewKey>;
    fn delete_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()>;
    /// Waits until AWS accepts the new `key`.
    fn wait_accepted(&self, key: &KeyPair, waiting: &Waiting<'_>) -> Result<KeyOwner>;
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
        let user = match source::caller_kind(&owner.arn) {
            CallerKind::User(name) => Some(name),
            CallerKind::Root => None,
            CallerKind::NotAUser(what) => return Err(Error::NeedsUser { what }),
        };
        let clients = Clients::new(target.clone())?;
        let keys = SourceIdentity::iam_with_key(key, &owner.arn, &clients)
            .list_access_keys_of(user.as_deref())?;
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

    fn source(&self, target: AwsTarget, source_profile: Option<&str>) -> Result<Box<dyn Source>> {
        let clients = Clients::new(target)?;
        let identity = SourceIdentity::connect(source_profile, &clients)?;
        Ok(Box::new(SdkSource { clients, identity }))
    }

    fn rotation<'a>(
        &'a self,
        target: AwsTarget,
        waiting: Waiting<'a>,
    ) -> Result<Box<dyn KeyAuthority + 'a>> {
        Ok(Box::new(SdkAuthority {
            clients: Clients::new(target)?,
            waiting,
        }))
    }

    fn server_time(&self, target: &AwsTarget) -> Result<SystemTime> {
        sts::server_time(&Clients::new(target.clone())?)
    }
}

struct SdkSource {
    clients: Clients,
    identity: SourceIdentity,
}

impl Source for SdkSource {
    fn caller(&self) -> &Caller {
        &self.identity.caller
    }
    fn label(&self) -> &str {
        self.identity.label()
    }
    fn create_user(&self, user: &str) -> Result<()> {
        self.identity.iam().create_user(user)
    }
    fn add_user_to_group(&self, user: &str, group: &str) -> Result<()> {
        self.identity.iam().add_user_to_group(user, group)
    }
    fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<()> {
        self.identity.iam().attach_user_policy(user, policy_arn)
    }
    fn list_access_keys(&self, user: &str) -> Result<Vec<KeyInfo>> {
        self.identity.iam().list_access_keys(user)
    }
    fn last_used(&self, id: &AccessKeyId) -> Option<SystemTime> {
        self.identity.iam().last_used(id)
    }
    fn create_access_key(&self, user: &str) -> Result<NewKey> {
        self.identity.iam().create_access_key(user)
    }
    fn delete_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()> {
        self.identity.iam().delete_access_key(user, id)
    }
    fn wait_accepted(&self, key: &KeyPair, waiting: &Waiting<'_>) -> Result<KeyOwner> {
        wait::wait_until_accepted(&self.clients, key, waiting)
    }
}

/// `KeyAuthority` through the SDK: each call signed with the key it acts as, on one factory.
struct SdkAuthority<'a> {
    clients: Clients,
    waiting: Waiting<'a>,
}

impl SdkAuthority<'_> {
    fn acting_as(&self, key: &KeyPair) -> Result<SourceIdentity> {
        SourceIdentity::with_key(
            key,
            format!("profile {}'s key", self.waiting.profile),
            &self.clients,
        )
    }
}

impl KeyAuthority for SdkAuthority<'_> {
    fn user_of(&self, key: &KeyPair) -> Result<String> {
        match self.acting_as(key)?.caller.kind {
            CallerKind::User(name) => Ok(name),
            CallerKind::Root => Err(Error::RootCaller),
            CallerKind::NotAUser(what) => Err(Error::NeedsUser { what }),
        }
    }
    fn list_keys(&self, acting: &KeyPair, user: &str) -> Result<Vec<KeyInfo>> {
        self.acting_as(acting)?.iam().list_access_keys(user)
    }
    fn create_key(&self, acting: &KeyPair, user: &str) -> Result<NewKey> {
        self.acting_as(acting)?.iam().create_access_key(user)
    }
    fn delete_key(&self, acting: &KeyPair, user: &str, id: &AccessKeyId) -> Result<()> {
        self.acting_as(acting)?.iam().delete_access_key(user, id)
    }
    fn deactivate_key(&self, acting: &KeyPair, user: &str, id: &AccessKeyId) -> Result<()> {
        self.acting_as(acting)?
            .iam()
            .deactivate_access_key(user, id)
    }
    fn last_used(&self, acting: &KeyPair, id: &AccessKeyId) -> Result<Option<SystemTime>> {
        self.acting_as(acting)?.iam().last_used_checked(id)
    }
    fn wait_accepted(&self, key: &KeyPair) -> Result<KeyOwner> {
        wait::wait_until_accepted(&self.clients, key, &self.waiting)
    }
}

/// Where and how to reach AWS for one command.
#[derive(Debug, Clone)]
pub struct AwsTarget {
    pub region: String,
    pub sts_endpoint: Option<String>,
}

impl AwsTarget {
    /// The one place a command's region is decided, as the AWS CLI decides it: the command's
    /// `--region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the profile's own `region`, else
    /// us-east-1 (STS is global there; any region's endpoint answers GetCallerIdentity).
    pub fn resolve(ctx: &Context, flag_region: Option<&str>, profile_region: Option<&str>) -> Self {
        Self {
            region: flag_region
                .map(str::to_string)
                .or_else(|| ctx.env_region.clone())
                .or_else(|| profile_region.map(str::to_string))
                .unwrap_or_else(|| "us-east-1".to_string()),
            sts_endpoint: ctx.sts_endpoint.clone(),
        }
    }

    /// "AWS region R, STS at E", for `-v`.
    pub fn describe(&self) -> String {
        format!(
            "AWS region {}, STS at {}",
            self.region,
            self.sts_endpoint_for_messages()
        )
    }

    pub fn sts_endpoint_for_messages(&self) -> String {
        self.sts_endpoint
            .clone()
            .unwrap_or_else(|| format!("sts.{}.amazonaws.com", self.region))
    }
}

/// The one client factory of a command that talks to AWS: where AWS is (resolved once), and the one
/// runtime every call of the command runs on.
pub struct Clients {
    pub target: AwsTarget,
    runtime: std::sync::Arc<tokio::runtime::Runtime>,
}

impl Clients {
    pub fn new(target: AwsTarget) -> Result<Self> {
        Ok(Self {
            target,
            runtime: std::sync::Arc::new(runtime()?),
        })
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    pub(crate) fn shared_runtime(&self) -> std::sync::Arc<tokio::runtime::Runtime> {
        std::sync::Arc::clone(&self.runtime)
    }
}

/// Bounded so a dead network fails in seconds, not minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Aws {
            operation: "setup",
            reason: e.to_string(),
        })
}
