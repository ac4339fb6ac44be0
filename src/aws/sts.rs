//! STS GetCallerIdentity with an explicit key: who does this key belong to, and does AWS accept it.

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region, timeout::TimeoutConfig};
use aws_sdk_sts::error::SdkError;

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
        Err(error) => Err(classify(error, target)),
    }
}

fn classify<E, R>(error: SdkError<E, R>, target: &AwsTarget) -> Error
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match &error {
        SdkError::DispatchFailure(failure) => Error::Network {
            endpoint: target.sts_endpoint_for_messages(),
            reason: if failure.is_timeout() {
                "timed out".into()
            } else {
                "connection failed".into()
            },
        },
        SdkError::TimeoutError(_) => Error::Network {
            endpoint: target.sts_endpoint_for_messages(),
            reason: "timed out".into(),
        },
        SdkError::ServiceError(service) => {
            let err = service.err();
            let message = err.message().map(|m| format!(" ({m})")).unwrap_or_default();
            match err.code() {
                Some(code) => Error::KeyRejected {
                    code: code.to_string(),
                    message,
                },
                // An error body the SDK cannot parse (some emulators' 403s): still a rejection.
                None => Error::KeyRejected {
                    code: "AccessDenied".into(),
                    message: " (the error response could not be parsed)".into(),
                },
            }
        }
        _ => Error::Aws {
            operation: "sts:GetCallerIdentity",
            reason: aws_sdk_sts::error::DisplayErrorContext(&error).to_string(),
        },
    }
}
