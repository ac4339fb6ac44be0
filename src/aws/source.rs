//! The source identity `bootstrap` acts as: any profile the SDK can resolve (SSO, a role, an awskeep
//! profile, environment variables through the default chain), loaded with aws-config, and who it is
//! according to STS.

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, Region};

use super::failure::{AwsFailure, classify};
use super::iam::Iam;
use super::{AwsTarget, CONNECT_TIMEOUT, Clients, OPERATION_TIMEOUT};
use crate::error::{Error, Result};
use crate::secret::KeyPair;

/// What kind of principal the caller is; only an IAM user can be the target of its own key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    User(String),
    Root,
    /// An assumed role or a federated user: no IAM user of its own.
    NotAUser(&'static str),
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub arn: String,
    pub kind: CallerKind,
}

pub struct SourceIdentity {
    runtime: std::sync::Arc<tokio::runtime::Runtime>,
    config: aws_config::SdkConfig,
    pub caller: Caller,
    label: String,
}

impl SourceIdentity {
    /// Loads the source's credentials and asks STS who they belong to. A named profile is exactly
    /// that profile: its credentials come from the profile files alone, so `AWS_ACCESS_KEY_ID` and
    /// friends in the environment cannot stand in for it (as in the AWS CLI and boto3, where an
    /// explicit profile wins over the environment). Without one, the SDK's default chain.
    pub fn connect(source_profile: Option<&str>, clients: &Clients) -> Result<Self> {
        let target = &clients.target;
        let label = source_profile.map_or_else(
            || "the default credential chain".to_string(),
            |p| format!("profile {p}"),
        );
        let mut loader = Self::loader(target);
        if let Some(profile) = source_profile {
            let from_files = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build();
            loader = loader
                .profile_name(profile)
                .credentials_provider(from_files);
        }
        Self::load(loader, label, clients)
    }

    /// Acts as the holder of `key` (a profile's own long-term key, for rotation).
    pub fn with_key(key: &KeyPair, label: String, clients: &Clients) -> Result<Self> {
        let credentials = Credentials::new(
            key.access_key_id.as_str(),
            key.secret_access_key.expose_secret(),
            None,
            None,
            "awskeep",
        );
        Self::load(
            Self::loader(&clients.target).credentials_provider(credentials),
            label,
            clients,
        )
    }

    /// IAM signed with `key`, whose owner (`owner_arn`) STS already named: no second
    /// GetCallerIdentity. For `add` and `migrate`, which ask IAM when the key was created.
    pub fn iam_with_key<'a>(key: &KeyPair, owner_arn: &'a str, clients: &'a Clients) -> Iam<'a> {
        let credentials = Credentials::new(
            key.access_key_id.as_str(),
            key.secret_access_key.expose_secret(),
            None,
            None,
            "awskeep",
        );
        let config = clients.runtime().block_on(
            Self::loader(&clients.target)
                .credentials_provider(credentials)
                .load(),
        );
        Iam::new(
            aws_sdk_iam::Client::new(&config),
            clients.runtime(),
            owner_arn,
        )
    }

    fn loader(target: &AwsTarget) -> aws_config::ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .region(Region::new(target.region.clone()))
    }

    fn load(loader: aws_config::ConfigLoader, label: String, clients: &Clients) -> Result<Self> {
        let sts_endpoint = clients.target.sts_endpoint_for_messages();
        let runtime = clients.shared_runtime();
        let config = runtime.block_on(loader.load());
        let sts = aws_sdk_sts::Client::new(&config);
        let identity = runtime
            .block_on(sts.get_caller_identity().send())
            .map_err(|e| match classify(e) {
                AwsFailure::Network(reason) => Error::Network {
                    service: "STS",
                    endpoint: sts_endpoint.clone(),
                    reason,
                },
                AwsFailure::Denied { code, message } => Error::SourceCredentials {
                    source_label: label.clone(),
                    reason: format!("AWS rejected them: {code}{message}"),
                },
                AwsFailure::Credentials(reason) | AwsFailure::Other(reason) => {
                    Error::SourceCredentials {
                        source_label: label.clone(),
                        reason,
                    }
                }
                AwsFailure::Service { code, message } => Error::SourceCredentials {
                    source_label: label.clone(),
                    reason: format!("{code}{message}"),
                },
            })?;
        let (Some(account_id), Some(arn)) = (identity.account, identity.arn) else {
            return Err(Error::Aws {
                operation: "sts:GetCallerIdentity",
                reason: "the answer named no account or ARN".into(),
            });
        };
        let kind = caller_kind(&arn);
        Ok(Self {
            runtime,
            config,
            caller: Caller {
                account_id,
                arn,
                kind,
            },
            label,
        })
    }

    pub fn iam(&self) -> Iam<'_> {
        Iam::new(
            aws_sdk_iam::Client::new(&self.config),
            &self.runtime,
            &self.caller.arn,
        )
    }

    pub fn label(&self) -> &str {
        &self.label
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
