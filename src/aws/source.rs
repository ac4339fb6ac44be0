//! The source identity `bootstrap` acts as: any profile the SDK can resolve (SSO, a role, an awskeep
//! profile, environment variables through the default chain), loaded with aws-config, and who it is
//! according to STS.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, Region};

use super::failure::{AwsFailure, classify};
use super::iam::Iam;
use super::{CONNECT_TIMEOUT, OPERATION_TIMEOUT, runtime};
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
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
    pub caller: Caller,
    label: String,
}

impl SourceIdentity {
    /// Loads the source's credentials and asks STS who they belong to.
    pub fn connect(
        source_profile: Option<&str>,
        region: Option<&str>,
        sts_endpoint: String,
    ) -> Result<Self> {
        let label = source_profile.map_or_else(
            || "the default credential chain".to_string(),
            |p| format!("profile {p}"),
        );
        let mut loader = Self::loader(region);
        if let Some(profile) = source_profile {
            loader = loader.profile_name(profile);
        }
        Self::load(loader, label, sts_endpoint)
    }

    /// Acts as the holder of `key` (a profile's own long-term key, for rotation).
    pub fn with_key(
        key: &KeyPair,
        label: String,
        region: Option<&str>,
        sts_endpoint: String,
    ) -> Result<Self> {
        let credentials = Credentials::new(
            key.access_key_id.as_str(),
            key.secret_access_key.expose_secret(),
            None,
            None,
            "awskeep",
        );
        Self::load(
            Self::loader(region).credentials_provider(credentials),
            label,
            sts_endpoint,
        )
    }

    fn loader(region: Option<&str>) -> aws_config::ConfigLoader {
        let loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
        match region {
            Some(region) => loader.region(Region::new(region.to_string())),
            None => loader.region(RegionProviderChain::default_provider().or_else("us-east-1")),
        }
    }

    fn load(loader: aws_config::ConfigLoader, label: String, sts_endpoint: String) -> Result<Self> {
        let runtime = runtime()?;
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
