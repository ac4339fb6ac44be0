//! STS with an explicit key: GetCallerIdentity (whose key is this, does AWS accept it),
//! GetSessionToken (short-lived credentials, with an MFA code when the profile has a device) and
//! GetFederationToken (`login`'s console session for a key profile).

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region, timeout::TimeoutConfig};

use super::clients::{AwsTarget, CONNECT_TIMEOUT, Clients, OPERATION_TIMEOUT, runtime};
use super::failure::{AwsFailure, classify};
use crate::error::{Error, Result};
use crate::secret::{KeyOwner, KeyPair};

/// An STS client that signs with `key`, for the target's region and endpoint.
fn client(target: &AwsTarget, key: &KeyPair) -> aws_sdk_sts::Client {
    let credentials = Credentials::new(
        key.access_key_id.as_str(),
        key.secret_access_key.expose_secret(),
        None,
        None,
        "awskeep",
    );
    client_signing_with(target, credentials)
}

fn client_signing_with(target: &AwsTarget, credentials: Credentials) -> aws_sdk_sts::Client {
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
    aws_sdk_sts::Client::from_conf(config.build())
}

pub fn caller_identity(clients: &Clients, key: &KeyPair) -> Result<KeyOwner> {
    let target = &clients.target;
    let output = clients
        .runtime()
        .block_on(client(target, key).get_caller_identity().send());
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

/// GetSessionToken with the profile's long-term key (and an MFA code when the profile names a device).
pub fn session_token(
    target: &AwsTarget,
    key: &KeyPair,
    duration: std::time::Duration,
    mfa: Option<(&str, &str)>,
) -> Result<crate::session::Session> {
    let client = client(target, key);
    let mut request = client
        .get_session_token()
        .duration_seconds(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX));
    if let Some((serial, code)) = mfa {
        request = request.serial_number(serial).token_code(code);
    }
    let output = runtime()?
        .block_on(request.send())
        .map_err(|error| match classify(error) {
            AwsFailure::Network(reason) => Error::Network {
                service: "STS",
                endpoint: target.sts_endpoint_for_messages(),
                reason,
            },
            AwsFailure::Denied { message, .. } if mfa.is_some() => Error::MfaRejected { message },
            AwsFailure::Denied { code, message } | AwsFailure::Service { code, message } => {
                Error::KeyRejected { code, message }
            }
            AwsFailure::Credentials(reason) | AwsFailure::Other(reason) => Error::Aws {
                operation: "sts:GetSessionToken",
                reason,
            },
        })?;
    let mut session = session_from(output.credentials(), "sts:GetSessionToken")?;
    session.source_key_id = key.access_key_id.as_str().to_string();
    session.mfa_serial = mfa.map(|(serial, _)| serial.to_string());
    Ok(session)
}

/// The session an STS answer holds (its source and MFA device for the caller to fill in).
fn session_from(
    credentials: Option<&aws_sdk_sts::types::Credentials>,
    operation: &'static str,
) -> Result<crate::session::Session> {
    let missing = || Error::Aws {
        operation,
        reason: "the answer held no credentials".into(),
    };
    let credentials = credentials.ok_or_else(missing)?;
    let expiration =
        std::time::SystemTime::try_from(*credentials.expiration()).map_err(|_| missing())?;
    Ok(crate::session::Session {
        access_key_id: credentials.access_key_id().to_string(),
        secret_access_key: credentials.secret_access_key().into(),
        session_token: credentials.session_token().into(),
        expiration,
        source_key_id: String::new(),
        mfa_serial: None,
        role: None,
    })
}

/// Credentials that sign a call: a long-term key, or an STS session's.
#[derive(Clone, Copy)]
pub enum Signer<'a> {
    Key(&'a KeyPair),
    Session(&'a crate::session::Session),
}

/// What an AssumeRole asks for.
pub struct RoleRequest<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub duration: std::time::Duration,
    pub external_id: Option<&'a str>,
    pub source_identity: Option<&'a str>,
}

/// AssumeRole signed with a key or a session (a chained role's, or an MFA session's).
pub fn assume_role(
    target: &AwsTarget,
    signer: Signer<'_>,
    request: &RoleRequest<'_>,
) -> Result<crate::session::Session> {
    use secrecy::ExposeSecret;
    let credentials = match signer {
        Signer::Key(key) => Credentials::new(
            key.access_key_id.as_str(),
            key.secret_access_key.expose_secret(),
            None,
            None,
            "awskeep",
        ),
        Signer::Session(session) => Credentials::new(
            &session.access_key_id,
            session.secret_access_key.expose_secret(),
            Some(session.session_token.expose_secret().to_string()),
            None,
            "awskeep",
        ),
    };
    let output = runtime()?
        .block_on(
            client_signing_with(target, credentials)
                .assume_role()
                .role_arn(request.role_arn)
                .role_session_name(request.session_name)
                .duration_seconds(i32::try_from(request.duration.as_secs()).unwrap_or(i32::MAX))
                .set_external_id(request.external_id.map(str::to_string))
                .set_source_identity(request.source_identity.map(str::to_string))
                .send(),
        )
        .map_err(|error| match classify(error) {
            AwsFailure::Network(reason) => Error::Network {
                service: "STS",
                endpoint: target.sts_endpoint_for_messages(),
                reason,
            },
            AwsFailure::Denied { code, message } | AwsFailure::Service { code, message } => {
                Error::RoleRefused {
                    role_arn: request.role_arn.to_string(),
                    // The caller names the profile whose credentials signed.
                    source_profile: String::new(),
                    code,
                    message,
                }
            }
            AwsFailure::Credentials(reason) | AwsFailure::Other(reason) => Error::Aws {
                operation: "sts:AssumeRole",
                reason,
            },
        })?;
    session_from(output.credentials(), "sts:AssumeRole")
}

/// What a GetFederationToken asks for.
pub struct FederationRequest<'a> {
    /// The federated user's name (2 to 32 of `[A-Za-z0-9+=,.@_-]`).
    pub name: &'a str,
    /// The session policy: the session gets what both it and the key owner's own policies allow.
    pub policy: &'a str,
    pub duration: std::time::Duration,
}

/// GetFederationToken with a long-term key (STS takes no session credentials for it, and no MFA
/// code). A refusal is `FederationRefused`, without its profile, which the caller names.
pub fn federation_token(
    target: &AwsTarget,
    key: &KeyPair,
    request: &FederationRequest<'_>,
) -> Result<crate::session::Session> {
    let output = runtime()?
        .block_on(
            client(target, key)
                .get_federation_token()
                .name(request.name)
                .policy(request.policy)
                .duration_seconds(i32::try_from(request.duration.as_secs()).unwrap_or(i32::MAX))
                .send(),
        )
        .map_err(|error| match classify(error) {
            AwsFailure::Network(reason) => Error::Network {
                service: "STS",
                endpoint: target.sts_endpoint_for_messages(),
                reason,
            },
            // The key itself is not accepted (deleted, mistyped, a clock far off).
            AwsFailure::Denied { code, message } if !code.starts_with("AccessDenied") => {
                Error::KeyRejected { code, message }
            }
            AwsFailure::Denied { code, message } | AwsFailure::Service { code, message } => {
                Error::FederationRefused {
                    profile: String::new(),
                    code,
                    message,
                    has_mfa: false,
                }
            }
            AwsFailure::Credentials(reason) | AwsFailure::Other(reason) => Error::Aws {
                operation: "sts:GetFederationToken",
                reason,
            },
        })?;
    let mut session = session_from(output.credentials(), "sts:GetFederationToken")?;
    session.source_key_id = key.access_key_id.as_str().to_string();
    Ok(session)
}

/// A made-up key no AWS account has: the clock check needs an answer, not an identity.
const CLOCK_CHECK_KEY_ID: &str = "AKIAAWSKEEPCLOCKCHECK";

/// AWS's time: the `Date` header of STS's answer to a GetCallerIdentity signed with a made-up key.
/// AWS refuses the key (or, with a far-off clock, the signature's time), and every answer, refusal
/// or not, carries the header. No credentials of the user are read or sent.
pub fn server_time(clients: &Clients) -> Result<std::time::SystemTime> {
    use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};
    let target = &clients.target;
    let credentials = Credentials::new(
        CLOCK_CHECK_KEY_ID,
        "awskeep-clock-check-not-a-secret",
        None,
        None,
        "awskeep-clock-check",
    );
    let date = DateHeader::default();
    let sent = clients.runtime().block_on(
        client_signing_with(target, credentials)
            .get_caller_identity()
            .customize()
            .interceptor(date.clone())
            .send(),
    );
    let header = date.0.lock().ok().and_then(|d| d.clone());
    let no_date = |reason: String| Error::Aws {
        operation: "sts:GetCallerIdentity (clock check)",
        reason,
    };
    let Some(header) = header else {
        return Err(match sent {
            Err(error) => match classify(error) {
                AwsFailure::Network(reason) => Error::Network {
                    service: "STS",
                    endpoint: target.sts_endpoint_for_messages(),
                    reason,
                },
                _ => no_date("the answer had no Date header".into()),
            },
            Ok(_) => no_date("the answer had no Date header".into()),
        });
    };
    DateTime::from_str(&header, DateTimeFormat::HttpDate)
        .ok()
        .and_then(|time| std::time::SystemTime::try_from(time).ok())
        .ok_or_else(|| no_date(format!("its Date header {header:?} is not an HTTP date")))
}

/// Keeps the `Date` header of the last answer (each attempt's, so a retry's wins).
#[derive(Debug, Clone, Default)]
struct DateHeader(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl aws_sdk_sts::config::Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "awskeep-date-header"
    }

    fn read_before_deserialization(
        &self,
        context: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_sts::config::RuntimeComponents,
        _: &mut aws_sdk_sts::config::ConfigBag,
    ) -> std::result::Result<(), aws_sdk_sts::error::BoxError> {
        if let (Some(date), Ok(mut slot)) =
            (context.response().headers().get("date"), self.0.lock())
        {
            *slot = Some(date.to_string());
        }
        Ok(())
    }
}
