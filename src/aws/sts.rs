//! STS GetCallerIdentity with an explicit key: who does this key belong to, and does AWS accept it.

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region, timeout::TimeoutConfig};

use super::failure::{AwsFailure, classify};
use super::{AwsTarget, CONNECT_TIMEOUT, OPERATION_TIMEOUT, runtime};
use crate::error::{Error, Result};
use crate::secret::{KeyOwner, KeyPair};

pub fn caller_identity(target: &AwsTarget, key: &KeyPair) -> Result<KeyOwner> {
    let credentials = Credentials::new(
        key.access_key_id.as_str(),
        key.secret_access_key.expose_secret(),
        None,
        None,
        "awskeep",
    );
    let mut config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(target.region.clone()))
        .credentials_provider(credentials)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(endpoint) = &target.sts_endpoint {
        config = config.endpoint_url(endpoint);
    }
    let client = aws_sdk_sts::Client::from_conf(config.build());
    let output = runtime()?.block_on(client.get_caller_identity().send());
    match output {
        Ok(identity) => match (identity.account, identity.arn) {
            (Some(account_id), Some(arn)) => Ok(KeyOwner { account_id, arn }),
            _ => Err(Error::Aws {
                operation: "sts:GetCallerIdentity",
                reason: "the answer named no account or ARN".into(),
            }),
        },
        Err(error) => Err(match classify(error) {
            AwsFailure::Network(reason) => Error::Network {
                service: "STS",
                endpoint: target.sts_endpoint_for_messages(),
                reason,
            },
            AwsFailure::Denied { code, message } | AwsFailure::Service { code, message } => {
                Error::KeyRejected { code, message }
            }
            AwsFailure::Credentials(reason) | AwsFailure::Other(reason) => Error::Aws {
                operation: "sts:GetCallerIdentity",
                reason,
            },
        }),
    }
}
