//! A fake `Aws` for unit tests: it knows which keys it accepts and answers without a network.
#![cfg(test)]

use std::time::{Duration, SystemTime};

use super::{Aws, AwsTarget, Source, Waiting};
use crate::error::{Error, Result};
use crate::rotation::KeyAuthority;
use crate::secret::{KeyOwner, KeyPair};
use crate::session::Session;

/// Accepts every key except those whose ID starts with `AKIAREJECTED`; counts its calls. Its clock
/// runs `clock_ahead_secs` ahead of the local one (behind when negative); with `offline` every call
/// fails as an unreachable STS would.
#[derive(Default)]
pub struct FakeAws {
    pub calls: std::cell::Cell<usize>,
    pub clock_ahead_secs: i64,
    pub offline: bool,
}

pub const ARN: &str = "arn:aws:iam::123456789012:user/fake";
/// When IAM created every key the fake lists.
pub const CREATED: &str = "2023-01-02T03:04:05Z";

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
        })
    }

    fn source(&self, _: AwsTarget, _: Option<&str>) -> Result<Box<dyn Source>> {
        Err(Error::Aws {
            operation: "source",
            reason: "the fake AWS has no IAM".into(),
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

    fn rotation<'a>(&'a self, _: AwsTarget, _: Waiting<'a>) -> Result<Box<dyn KeyAuthority + 'a>> {
        Err(Error::Aws {
            operation: "rotation",
            reason: "the fake AWS has no IAM (rotation's own tests use a fake IAM)".into(),
        })
    }
}
