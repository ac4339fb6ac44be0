//! What went wrong with one AWS call, sorted into the kinds a user acts on differently: the network,
//! the caller's own credentials, a refusal (403), or a named service error. Callers turn it into an
//! `Error` that says which call and which permission.

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug)]
pub enum AwsFailure {
    /// No answer: connection refused, DNS, timeout.
    Network(String),
    /// The SDK could not load credentials for the caller (no profile, expired SSO session, ...).
    Credentials(String),
    /// The service refused the caller: AccessDenied, a rejected signature or key.
    Denied {
        code: String,
        message: String,
    },
    /// Any other named service error: NoSuchEntity, LimitExceeded, EntityAlreadyExists, ...
    Service {
        code: String,
        message: String,
    },
    Other(String),
}

/// Codes that mean "the caller or its key is not allowed", whichever service says them.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
];

pub fn classify<E>(error: SdkError<E, HttpResponse>) -> AwsFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let context = || error_chain(&error);
    match &error {
        SdkError::TimeoutError(_) => AwsFailure::Network("timed out".into()),
        SdkError::DispatchFailure(failure) => {
            if failure.is_timeout() {
                AwsFailure::Network("timed out".into())
            } else if failure.is_io() {
                AwsFailure::Network("connection failed".into())
            } else {
                AwsFailure::Credentials(context())
            }
        }
        SdkError::ServiceError(service) => {
            let err = service.err();
            let message = err.message().map(|m| format!(" ({m})")).unwrap_or_default();
            match err.code() {
                Some(code) if DENIED_CODES.contains(&code) => AwsFailure::Denied {
                    code: code.to_string(),
                    message,
                },
                Some(code) => AwsFailure::Service {
                    code: code.to_string(),
                    message,
                },
                // A 403 body the SDK cannot parse (some emulators): still a refusal.
                None if service.raw().status().as_u16() == 403 => AwsFailure::Denied {
                    code: "AccessDenied".into(),
                    message: " (the error response could not be parsed)".into(),
                },
                None => AwsFailure::Other(context()),
            }
        }
        _ => AwsFailure::Other(context()),
    }
}

/// "outer: inner: innermost", each cause's Display once, without the SDK's Debug dump.
pub(super) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
