//! A fake `Aws` for unit tests: it knows which keys it accepts and answers without a network; its
//! IAM holds users' keys, and acting as one of them is `FakeIam`.
#![cfg(test)]

use std::cell::{Cell, RefCell};
use std::time::{Duration, SystemTime};

use super::iam::{Caller, CallerKind, Iam, KeyInfo};
use super::{Aws, AwsTarget, Waiting};
use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::secret::{AccessKeyId, KeyOwner, KeyPair, NewKey, SecretAccessKey};
use crate::session::Session;

/// Accepts every key except those whose ID starts with `AKIAREJECTED`; counts its calls. Its clock
/// runs `clock_ahead_secs` ahead of the local one (behind when negative); with `offline` every call
/// fails as an unreachable STS would. Its IAM knows only the keys `issue` made, and has switches
/// to refuse a call.
#[derive(Default)]
pub struct FakeAws {
    pub calls: Cell<usize>,
    pub clock_ahead_secs: i64,
    pub offline: bool,
    /// IAM's keys, each with its user.
    pub keys: RefCell<Vec<(String, KeyInfo)>>,
    /// Keys IAM has seen used.
    pub used: RefCell<Vec<AccessKeyId>>,
    pub issued: Cell<u32>,
    pub refuse_create: Cell<bool>,
    /// How many more DeleteAccessKey calls IAM refuses (a new key still propagating).
    pub deny_deletes: Cell<u32>,
    /// Each AssumeRole: the role, the signer's key ID, the duration asked.
    pub roles_assumed: RefCell<Vec<(String, String, Duration)>>,
    /// Each GetFederationToken: the signing key's ID, the name, the policy, the duration.
    pub federations: RefCell<Vec<(String, String, String, Duration)>>,
    /// GetFederationToken is refused (AccessDenied).
    pub refuse_federation: Cell<bool>,
    /// Each getSigninToken: the session's key ID and the SessionDuration asked.
    pub signins: RefCell<Vec<(String, Option<Duration>)>>,
}

pub const ARN: &str = "arn:aws:iam::123456789012:user/fake";
/// When IAM created every key the fake lists.
pub const CREATED: &str = "2023-01-02T03:04:05Z";

impl FakeAws {
    /// A new key of `user` in IAM, created at `created`.
    pub fn issue(&self, user: &str, created: SystemTime) -> KeyPair {
        self.issued.set(self.issued.get() + 1);
        let id = format!("AKIAFAKEKEY{:09}", self.issued.get());
        self.keys.borrow_mut().push((
            user.to_string(),
            KeyInfo {
                id: AccessKeyId::parse(&id).unwrap(),
                active: true,
                created: Some(created),
            },
        ));
        KeyPair {
            access_key_id: AccessKeyId::parse(&id).unwrap(),
            secret_access_key: SecretAccessKey::parse(&format!("secret/{id}")).unwrap(),
        }
    }

    /// What ListAccessKeys says of `user`.
    pub fn keys_of(&self, user: &str) -> Vec<KeyInfo> {
        self.keys
            .borrow()
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, k)| k.clone())
            .collect()
    }

    pub fn ids(&self, user: &str) -> Vec<String> {
        self.keys_of(user)
            .iter()
            .map(|k| k.id.as_str().to_string())
            .collect()
    }

    /// The user of `id`, an active key IAM has; otherwise AWS refuses it.
    fn user_of(&self, id: &AccessKeyId) -> Result<String> {
        let keys = self.keys.borrow();
        match keys.iter().find(|(_, k)| k.id == *id && k.active) {
            Some((user, _)) => Ok(user.clone()),
            None => Err(Error::KeyRejected {
                code: "InvalidClientTokenId".into(),
                message: String::new(),
            }),
        }
    }
}

/// The fake's IAM acting as one of its keys: every call fails once that key is gone or inactive.
struct FakeIam<'a> {
    aws: &'a FakeAws,
    acting: AccessKeyId,
    caller: Caller,
}

impl Iam for FakeIam<'_> {
    fn caller(&self) -> &Caller {
        &self.caller
    }
    fn label(&self) -> &str {
        "the fake's key"
    }
    fn create_user(&self, _: &str) -> Result<()> {
        Ok(())
    }
    fn add_user_to_group(&self, _: &str, _: &str) -> Result<()> {
        Ok(())
    }
    fn attach_user_policy(&self, _: &str, _: &str) -> Result<()> {
        Ok(())
    }
    fn list_access_keys(&self, user: &str) -> Result<Vec<KeyInfo>> {
        self.aws.user_of(&self.acting)?;
        Ok(self.aws.keys_of(user))
    }
    fn last_used(&self, id: &AccessKeyId) -> Result<Option<SystemTime>> {
        Ok(self.aws.used.borrow().contains(id).then(SystemTime::now))
    }
    fn create_access_key(&self, user: &str) -> Result<NewKey> {
        self.aws.user_of(&self.acting)?;
        if self.aws.refuse_create.get() {
            return Err(Error::AccessDenied {
                permission: "iam:CreateAccessKey",
                caller: self.caller.arn.clone(),
            });
        }
        // Whole seconds, as the store item records times.
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        let created = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs() - 1);
        Ok(NewKey {
            key: self.aws.issue(user, created),
            created: Some(created),
        })
    }
    fn delete_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()> {
        self.aws.user_of(&self.acting)?;
        let deny = &self.aws.deny_deletes;
        if deny.get() > 0 {
            deny.set(deny.get() - 1);
            return Err(Error::AccessDenied {
                permission: "iam:DeleteAccessKey",
                caller: self.caller.arn.clone(),
            });
        }
        let mut keys = self.aws.keys.borrow_mut();
        let before = keys.len();
        keys.retain(|(_, k)| k.id != *id);
        if keys.len() == before {
            // IAM's NoSuchEntity, as `SdkIam` maps it.
            return Err(Error::NoSuchUser { user: user.into() });
        }
        Ok(())
    }
    fn deactivate_access_key(&self, _: &str, id: &AccessKeyId) -> Result<()> {
        self.aws.user_of(&self.acting)?;
        for (_, k) in self.aws.keys.borrow_mut().iter_mut() {
            if k.id == *id {
                k.active = false;
            }
        }
        Ok(())
    }
}

fn arn_of(user: &str) -> String {
    format!("arn:aws:iam::123456789012:user/{user}")
}

impl Aws for FakeAws {
    fn verify_key(&self, _: &AwsTarget, key: &KeyPair) -> Result<KeyOwner> {
        self.calls.set(self.calls.get() + 1);
        if key.access_key_id.as_str().starts_with("AKIAREJECTED") {
            return Err(Error::KeyRejected {
                code: "InvalidClientTokenId".into(),
                message: String::new(),
            });
        }
        Ok(KeyOwner {
            account_id: "123456789012".into(),
            arn: ARN.into(),
        })
    }

    /// Keys whose ID starts with `AKIANOLIST` may not list their own keys; the others were
    /// created at `CREATED` (RFC 3339).
    fn key_created(
        &self,
        _: &AwsTarget,
        key: &KeyPair,
        owner: &KeyOwner,
    ) -> Result<Option<SystemTime>> {
        self.calls.set(self.calls.get() + 1);
        if key.access_key_id.as_str().starts_with("AKIANOLIST") {
            return Err(Error::AccessDenied {
                permission: "iam:ListAccessKeys",
                caller: owner.arn.clone(),
            });
        }
        Ok(humantime::parse_rfc3339(CREATED).ok())
    }

    fn session_token(
        &self,
        _: &AwsTarget,
        key: &KeyPair,
        duration: Duration,
        mfa: Option<(&str, &str)>,
    ) -> Result<Session> {
        self.calls.set(self.calls.get() + 1);
        Ok(Session {
            access_key_id: "ASIAFAKESESSION00001".into(),
            secret_access_key: "fake-session-secret".into(),
            session_token: "fake-token".into(),
            expiration: SystemTime::now() + duration,
            source_key_id: key.access_key_id.as_str().to_string(),
            mfa_serial: mfa.map(|(serial, _)| serial.to_string()),
            role: None,
        })
    }

    fn assume_role(
        &self,
        _: &AwsTarget,
        signer: super::Signer<'_>,
        request: &super::RoleRequest<'_>,
    ) -> Result<Session> {
        self.calls.set(self.calls.get() + 1);
        self.roles_assumed.borrow_mut().push((
            request.role_arn.to_string(),
            match signer {
                super::Signer::Key(key) => key.access_key_id.as_str().to_string(),
                super::Signer::Session(session) => session.access_key_id.clone(),
            },
            request.duration,
        ));
        if self.offline {
            return Err(Error::Network {
                service: "STS",
                endpoint: "https://sts.amazonaws.com".into(),
                reason: "offline".into(),
            });
        }
        Ok(Session {
            access_key_id: format!("ASIAFAKEROLE{:08}", self.roles_assumed.borrow().len()),
            secret_access_key: "fake-role-secret".into(),
            session_token: "fake-role-token".into(),
            expiration: SystemTime::now() + request.duration,
            source_key_id: String::new(),
            mfa_serial: None,
            role: None,
        })
    }

    fn federation_token(
        &self,
        _: &AwsTarget,
        key: &KeyPair,
        request: &super::FederationRequest<'_>,
    ) -> Result<Session> {
        self.calls.set(self.calls.get() + 1);
        self.federations.borrow_mut().push((
            key.access_key_id.as_str().to_string(),
            request.name.to_string(),
            request.policy.to_string(),
            request.duration,
        ));
        if self.refuse_federation.get() {
            return Err(Error::FederationRefused {
                profile: String::new(),
                code: "AccessDenied".into(),
                message: " (explicit deny)".into(),
                has_mfa: false,
            });
        }
        Ok(Session {
            access_key_id: "ASIAFAKEFEDERATED001".into(),
            secret_access_key: "fake-federated-secret".into(),
            session_token: "fake-federated-token".into(),
            expiration: SystemTime::now() + request.duration,
            source_key_id: key.access_key_id.as_str().to_string(),
            mfa_serial: None,
            role: None,
        })
    }

    fn signin_token(
        &self,
        _: &super::signin::Federation,
        session: &Session,
        console_session: Option<Duration>,
    ) -> Result<secrecy::SecretString> {
        self.signins
            .borrow_mut()
            .push((session.access_key_id.clone(), console_session));
        Ok(format!("signin-token-for-{}", session.access_key_id).into())
    }

    fn source(&self, _: &AwsTarget, _: Option<&str>) -> Result<Box<dyn Iam + '_>> {
        Err(Error::Aws {
            operation: "source",
            reason: "the fake AWS has no source identity".into(),
        })
    }

    /// IAM acting as `key`, one `issue` made and IAM still has active.
    fn acting_as(
        &self,
        _: &AwsTarget,
        _: &ProfileName,
        key: &KeyPair,
    ) -> Result<Box<dyn Iam + '_>> {
        let user = self.user_of(&key.access_key_id)?;
        Ok(Box::new(FakeIam {
            aws: self,
            acting: key.access_key_id.clone(),
            caller: Caller {
                account_id: "123456789012".into(),
                arn: arn_of(&user),
                kind: CallerKind::User(user),
            },
        }))
    }

    fn wait_accepted(&self, _: &AwsTarget, key: &KeyPair, _: &Waiting<'_>) -> Result<KeyOwner> {
        let user = self.user_of(&key.access_key_id)?;
        Ok(KeyOwner {
            account_id: "123456789012".into(),
            arn: arn_of(&user),
        })
    }

    fn server_time(&self, target: &AwsTarget) -> Result<SystemTime> {
        self.calls.set(self.calls.get() + 1);
        if self.offline {
            return Err(Error::Network {
                service: "STS",
                endpoint: target.sts_endpoint_for_messages(),
                reason: "the fake AWS is offline".into(),
            });
        }
        let offset = Duration::from_secs(self.clock_ahead_secs.unsigned_abs());
        let now = SystemTime::now();
        Ok(if self.clock_ahead_secs >= 0 {
            now + offset
        } else {
            now - offset
        })
    }
}
