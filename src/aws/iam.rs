//! The IAM calls `bootstrap` makes, typed, each failure naming the permission it needed.

use std::time::SystemTime;

use secrecy::SecretString;

use super::failure::{AwsFailure, classify};
use crate::error::{Error, Result};
use crate::secret::{AccessKeyId, KeyPair, NewKey, SecretAccessKey};

pub struct Iam<'a> {
    client: aws_sdk_iam::Client,
    runtime: &'a tokio::runtime::Runtime,
    caller_arn: &'a str,
}

/// One of a user's access keys, as ListAccessKeys shows it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub id: AccessKeyId,
    pub active: bool,
    pub created: Option<SystemTime>,
}

impl<'a> Iam<'a> {
    pub fn new(
        client: aws_sdk_iam::Client,
        runtime: &'a tokio::runtime::Runtime,
        caller_arn: &'a str,
    ) -> Self {
        Self {
            client,
            runtime,
            caller_arn,
        }
    }

    fn fail(&self, failure: AwsFailure, permission: &'static str, user: &str) -> Error {
        match failure {
            AwsFailure::Denied { .. } => Error::AccessDenied {
                permission,
                caller: self.caller_arn.to_string(),
            },
            AwsFailure::Service { code, .. } if code == "NoSuchEntity" => Error::NoSuchUser {
                user: user.to_string(),
            },
            AwsFailure::Service { code, .. } if code == "EntityAlreadyExists" => {
                Error::UserExists {
                    user: user.to_string(),
                }
            }
            AwsFailure::Service { code, .. } if code == "LimitExceeded" => Error::KeyQuotaFull {
                user: user.to_string(),
                keys: String::new(),
            },
            AwsFailure::Network(reason) => Error::Network {
                service: "IAM",
                endpoint: "iam.amazonaws.com (or AWS_ENDPOINT_URL)".into(),
                reason,
            },
            AwsFailure::Service { code, message } => Error::Aws {
                operation: permission,
                reason: format!("{code}{message}"),
            },
            AwsFailure::Credentials(reason) | AwsFailure::Other(reason) => Error::Aws {
                operation: permission,
                reason,
            },
        }
    }

    pub fn create_user(&self, user: &str) -> Result<()> {
        self.runtime
            .block_on(self.client.create_user().user_name(user).send())
            .map(|_| ())
            .map_err(|e| self.fail(classify(e), "iam:CreateUser", user))
    }

    pub fn add_user_to_group(&self, user: &str, group: &str) -> Result<()> {
        self.runtime
            .block_on(
                self.client
                    .add_user_to_group()
                    .user_name(user)
                    .group_name(group)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| match classify(e) {
                AwsFailure::Service { code, .. } if code == "NoSuchEntity" => Error::Aws {
                    operation: "iam:AddUserToGroup",
                    reason: format!("there is no group named {group}"),
                },
                other => self.fail(other, "iam:AddUserToGroup", user),
            })
    }

    pub fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<()> {
        self.runtime
            .block_on(
                self.client
                    .attach_user_policy()
                    .user_name(user)
                    .policy_arn(policy_arn)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| match classify(e) {
                AwsFailure::Service { code, .. } if code == "NoSuchEntity" => Error::Aws {
                    operation: "iam:AttachUserPolicy",
                    reason: format!("there is no policy {policy_arn}"),
                },
                other => self.fail(other, "iam:AttachUserPolicy", user),
            })
    }

    pub fn list_access_keys(&self, user: &str) -> Result<Vec<KeyInfo>> {
        self.list_access_keys_of(Some(user))
    }

    /// ListAccessKeys of `user`, or (`None`) of the caller itself, as IAM decides from the signing
    /// key: the account's root user has no user name to give.
    pub fn list_access_keys_of(&self, user: Option<&str>) -> Result<Vec<KeyInfo>> {
        let output = self
            .runtime
            .block_on(
                self.client
                    .list_access_keys()
                    .set_user_name(user.map(str::to_string))
                    .send(),
            )
            .map_err(|e| {
                self.fail(
                    classify(e),
                    "iam:ListAccessKeys",
                    user.unwrap_or("(the caller)"),
                )
            })?;
        Ok(output
            .access_key_metadata()
            .iter()
            .filter_map(|meta| {
                Some(KeyInfo {
                    id: AccessKeyId::parse(meta.access_key_id()?).ok()?,
                    active: meta.status().map(|s| s.as_str()) == Some("Active"),
                    created: meta
                        .create_date()
                        .and_then(|d| SystemTime::try_from(*d).ok()),
                })
            })
            .collect())
    }

    /// When the key was last used (`None`: never), or an error when IAM will not say.
    pub fn last_used_checked(&self, id: &AccessKeyId) -> Result<Option<SystemTime>> {
        let output = self
            .runtime
            .block_on(
                self.client
                    .get_access_key_last_used()
                    .access_key_id(id.as_str())
                    .send(),
            )
            .map_err(|e| self.fail(classify(e), "iam:GetAccessKeyLastUsed", ""))?;
        Ok(output
            .access_key_last_used()
            .and_then(|u| u.last_used_date())
            .and_then(|d| SystemTime::try_from(*d).ok()))
    }

    /// When the key was last used, if the caller may read it (iam:GetAccessKeyLastUsed); for
    /// display, where "cannot tell" and "never" may look alike.
    pub fn last_used(&self, id: &AccessKeyId) -> Option<SystemTime> {
        self.last_used_checked(id).ok().flatten()
    }

    /// A new key for `user`, with IAM's CreateDate of it.
    pub fn create_access_key(&self, user: &str) -> Result<NewKey> {
        let output = self
            .runtime
            .block_on(self.client.create_access_key().user_name(user).send())
            .map_err(|e| self.fail(classify(e), "iam:CreateAccessKey", user))?;
        let key = output.access_key().ok_or_else(|| Error::Aws {
            operation: "iam:CreateAccessKey",
            reason: "the answer held no key".into(),
        })?;
        // Into secrecy at once; the SDK's own copy is dropped with `output`.
        let secret = SecretString::from(key.secret_access_key());
        let invalid = |what: &str| Error::Aws {
            operation: "iam:CreateAccessKey",
            reason: format!("the new key's {what} is malformed"),
        };
        Ok(NewKey {
            key: KeyPair {
                access_key_id: AccessKeyId::parse(key.access_key_id())
                    .map_err(|_| invalid("ID"))?,
                secret_access_key: SecretAccessKey::parse(secrecy::ExposeSecret::expose_secret(
                    &secret,
                ))
                .map_err(|_| invalid("secret"))?,
            },
            created: key
                .create_date()
                .and_then(|d| SystemTime::try_from(*d).ok()),
        })
    }

    pub fn deactivate_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()> {
        self.runtime
            .block_on(
                self.client
                    .update_access_key()
                    .user_name(user)
                    .access_key_id(id.as_str())
                    .status(aws_sdk_iam::types::StatusType::Inactive)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| self.fail(classify(e), "iam:UpdateAccessKey", user))
    }

    pub fn delete_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()> {
        self.runtime
            .block_on(
                self.client
                    .delete_access_key()
                    .user_name(user)
                    .access_key_id(id.as_str())
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| self.fail(classify(e), "iam:DeleteAccessKey", user))
    }
}
