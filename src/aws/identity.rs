//! The identity IAM calls act as, loaded with aws-config and named by STS: bootstrap's source (any
//! profile the SDK can resolve: SSO, a role, an awskeep profile, environment variables through the
//! default chain), or a profile's own key.

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, Region};

use super::clients::{AwsTarget, CONNECT_TIMEOUT, Clients, OPERATION_TIMEOUT};
use super::failure::{AwsFailure, classify};
use super::iam::{Caller, SdkIam, caller_kind};
use crate::error::{Error, Result};
use crate::secret::{KeyOwner, KeyPair};

/// Loads the source's credentials and asks STS who they belong to. A named profile is exactly that
/// profile: its credentials come from the profile files alone, so `AWS_ACCESS_KEY_ID` and friends
/// in the environment cannot stand in for it (as in the AWS CLI and boto3, where an explicit
/// profile wins over the environment). Without one, the SDK's default chain.
pub fn source(source_profile: Option<&str>, clients: &Clients) -> Result<SdkIam> {
    let label = source_profile.map_or_else(
        || "the default credential chain".to_string(),
        |p| format!("profile {p}"),
    );
    let mut loader = loader(&clients.target);
    if let Some(profile) = source_profile {
        let from_files = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        loader = loader
            .profile_name(profile)
            .credentials_provider(from_files);
    }
    load(loader, label, clients)
}

/// Acts as the holder of `key` (a profile's own long-term key), once STS has named it.
pub fn key(key: &KeyPair, label: String, clients: &Clients) -> Result<SdkIam> {
    load(
        loader(&clients.target).credentials_provider(signing(key)),
        label,
        clients,
    )
}

/// Acts as `key`, whose owner STS already named: no second GetCallerIdentity. For `add` and
/// `migrate`, which ask IAM when the key was created.
pub fn known_key(key: &KeyPair, owner: &KeyOwner, clients: &Clients) -> SdkIam {
    let config = clients.runtime().block_on(
        loader(&clients.target)
            .credentials_provider(signing(key))
            .load(),
    );
    let caller = Caller {
        account_id: owner.account_id.clone(),
        arn: owner.arn.clone(),
        kind: caller_kind(&owner.arn),
    };
    SdkIam::new(&config, clients.shared_runtime(), caller, String::new())
}

fn signing(key: &KeyPair) -> Credentials {
    Credentials::new(
        key.access_key_id.as_str(),
        key.secret_access_key.expose_secret(),
        None,
        None,
        "awskeep",
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

fn load(loader: aws_config::ConfigLoader, label: String, clients: &Clients) -> Result<SdkIam> {
    let sts_endpoint = clients.target.sts_endpoint_for_messages();
    let runtime = clients.shared_runtime();
    let config = runtime.block_on(loader.load());
    let sts = aws_sdk_sts::Client::new(&config);
    let identity =
        runtime
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
    let caller = Caller {
        account_id,
        arn,
        kind,
    };
    Ok(SdkIam::new(&config, runtime, caller, label))
}
