//! IAM, acting as one identity: the `Iam` trait every IAM call of awskeep goes through (bootstrap
//! acts as its source identity, rotate and remove as a profile's own key), its SDK implementation,
//! whose failures name the permission they needed, and what is written once over it: deleting a
//! new key that could not be stored, and the AWS CLI line that deletes a key.

use std::sync::Arc;
use std::time::SystemTime;

use secrecy::SecretString;

use super::failure::{AwsFailure, classify};
use crate::error::{Error, Result};
use crate::secret::{AccessKeyId, KeyOwner, KeyPair, NewKey, SecretAccessKey};

/// One of a user's access keys, as ListAccessKeys shows it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub id: AccessKeyId,
    pub active: bool,
    pub created: Option<SystemTime>,
}

/// What kind of principal the caller is; only an IAM user can be the target of its own key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    User(String),
    Root,
    /// An assumed role or a federated user: no IAM user of its own.
    NotAUser(&'static str),
}

/// Who an identity is, as STS named it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub arn: String,
    pub kind: CallerKind,
}

impl Caller {
    /// The IAM user the caller is; an error for the root user or a role.
    pub fn user(&self) -> Result<String> {
        match &self.kind {
            CallerKind::User(name) => Ok(name.clone()),
            CallerKind::Root => Err(Error::RootCaller),
            CallerKind::NotAUser(what) => Err(Error::NeedsUser { what }),
        }
    }
}

/// The IAM calls awskeep makes, each acting as the one identity this was made for (see
/// `Aws::source` and `Aws::acting_as`).
pub trait Iam {
    fn caller(&self) -> &Caller;
    /// "profile admin", "the default credential chain", "profile dev's key": for messages.
    fn label(&self) -> &str;
    fn create_user(&self, user: &str) -> Result<()>;
    fn add_user_to_group(&self, user: &str, group: &str) -> Result<()>;
    fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<()>;
    fn list_access_keys(&self, user: &str) -> Result<Vec<KeyInfo>>;
    /// When IAM last saw key `id` used (`None`: never); an error when IAM will not say.
    fn last_used(&self, id: &AccessKeyId) -> Result<Option<SystemTime>>;
    /// A new key for `user`, with IAM's CreateDate of it.
    fn create_access_key(&self, user: &str) -> Result<NewKey>;
    fn delete_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()>;
    fn deactivate_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()>;

    /// After `cause` kept a just-created key from being stored: deletes it in IAM again, so no key
    /// exists whose secret nobody holds, and says which way it went.
    fn roll_back(&self, user: &str, id: &AccessKeyId, cause: Error) -> Error {
        let outcome = match self.delete_access_key(user, id) {
            Ok(()) => format!(
                "the new key {id} was deleted in IAM again, so no key is left that nobody holds"
            ),
            Err(e) => format!(
                "and deleting the new key failed too ({}): delete it with `{}`",
                e.cause_line(),
                crate::hint::delete_key_line(id.as_str(), Some(user))
            ),
        };
        Error::NewKeyRolledBack {
            cause_line: cause.cause_line(),
            outcome,
        }
    }
}

/// The AWS CLI line that deletes key `id` in IAM (`--user-name` when its owner is a known IAM user).
pub fn delete_key_command(id: &AccessKeyId, owner: Option<&KeyOwner>) -> String {
    let user = owner.and_then(|o| match caller_kind(&o.arn) {
        CallerKind::User(name) => Some(name),
        _ => None,
    });
    crate::hint::delete_key_line(id.as_str(), user.as_deref())
}

/// `arn:aws:iam::123:user/path/name` -> User(name); `...:root` -> Root; roles and federated users
/// have no IAM user of their own.
pub fn caller_kind(arn: &str) -> CallerKind {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    if resource == "root" {
        CallerKind::Root
    } else if let Some(path) = resource.strip_prefix("user/") {
        CallerKind::User(path.rsplit('/').next().unwrap_or(path).to_string())
    } else if resource.starts_with("federated-user/") {
        CallerKind::NotAUser("a federated user")
    } else {
        CallerKind::NotAUser("an assumed role")
    }
}

/// `Iam` through the SDK, signed as one identity, on its command's runtime.
pub struct SdkIam {
    client: aws_sdk_iam::Client,
    runtime: Arc<tokio::runtime::Runtime>,
    caller: Caller,
    label: String,
}

impl SdkIam {
    pub fn new(
        config: &aws_config::SdkConfig,
        runtime: Arc<tokio::runtime::Runtime>,
        caller: Caller,
        label: String,
    ) -> Self {
        Self {
            client: aws_sdk_iam::Client::new(config),
            runtime,
            caller,
            label,
        }
    }

    fn fail(&self, failure: AwsFailure, permission: &'static str, user: &str) -> Error {
        match failure {
            AwsFailure::Denied { .. } => Error::AccessDenied {
                permission,
                caller: self.caller.arn.clone(),
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
                spare_inactive: false,
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
}

impl Iam for SdkIam {
    fn caller(&self) -> &Caller {
        &self.caller
    }

    fn label(&self) -> &str {
        &self.label
    }

    fn create_user(&self, user: &str) -> Result<()> {
        self.runtime
            .block_on(self.client.create_user().user_name(user).send())
            .map(|_| ())
            .map_err(|e| self.fail(classify(e), "iam:CreateUser", user))
    }

    fn add_user_to_group(&self, user: &str, group: &str) -> Result<()> {
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

    fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<()> {
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

    fn list_access_keys(&self, user: &str) -> Result<Vec<KeyInfo>> {
        self.list_access_keys_of(Some(user))
    }

    fn last_used(&self, id: &AccessKeyId) -> Result<Option<SystemTime>> {
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

    fn create_access_key(&self, user: &str) -> Result<NewKey> {
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

    fn delete_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()> {
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

    fn deactivate_access_key(&self, user: &str, id: &AccessKeyId) -> Result<()> {
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
}

#[cfg(test)]
mod tests {
    use crate::aws::iam::{CallerKind, caller_kind, delete_key_command};
    use crate::secret::{AccessKeyId, KeyOwner};

    #[test]
    fn reads_the_caller_kind_from_its_arn() {
        assert_eq!(
            caller_kind("arn:aws:iam::123456789012:root"),
            CallerKind::Root
        );
        assert_eq!(
            caller_kind("arn:aws:iam::123456789012:user/division/team/alice"),
            CallerKind::User("alice".into())
        );
        assert_eq!(
            caller_kind("arn:aws:sts::123456789012:assumed-role/Admin/session"),
            CallerKind::NotAUser("an assumed role")
        );
        assert_eq!(
            caller_kind("arn:aws:sts::123456789012:federated-user/bob"),
            CallerKind::NotAUser("a federated user")
        );
    }

    #[test]
    fn the_delete_command_names_the_user_only_when_the_owner_is_an_iam_user() {
        let id = AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap();
        let owner = |arn: &str| KeyOwner {
            account_id: "123456789012".into(),
            arn: arn.into(),
        };
        assert_eq!(
            delete_key_command(&id, Some(&owner("arn:aws:iam::123456789012:user/team/dev"))),
            "aws iam delete-access-key --access-key-id AKIAIOSFODNN7EXAMPLE --user-name dev"
        );
        assert_eq!(
            delete_key_command(&id, Some(&owner("arn:aws:iam::123456789012:root"))),
            "aws iam delete-access-key --access-key-id AKIAIOSFODNN7EXAMPLE"
        );
        assert_eq!(
            delete_key_command(&id, None),
            "aws iam delete-access-key --access-key-id AKIAIOSFODNN7EXAMPLE"
        );
    }
}
