//! AWS's federation endpoint, for `login`: which one serves a region's partition, the one GET that
//! trades a session's credentials for a sign-in token (`getSigninToken`), and the console sign-in
//! URL that carries the token. The session's secret goes only into that GET, over TLS (plain http
//! only to a loopback stand-in, the tests'); the token and the URL are bearer credentials for the
//! console session, so both stay `SecretString`s and are never traced.
//!
//! The GET runs on the HTTP client the AWS SDK already links (`aws-smithy-http-client`: hyper,
//! rustls, the system's roots), with the SDK calls' connect and operation timeouts.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::clients::{CONNECT_TIMEOUT, OPERATION_TIMEOUT, runtime};
use super::failure::error_chain;
use crate::error::{Error, Result};
use crate::session::Session;

/// The variable that names a stand-in federation endpoint (debug builds only: `Context`).
pub const ENDPOINT_VARIABLE: &str = "AWSKEEP_FEDERATION_ENDPOINT";

/// The largest answer read from the endpoint (a sign-in token is a few kilobytes).
const MAX_ANSWER: usize = 64 * 1024;

/// A partition's federation endpoint and console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// `https://signin.aws.amazon.com`, without a trailing slash.
    pub endpoint: String,
    /// The console's host: `console.aws.amazon.com`.
    console_host: &'static str,
}

impl Federation {
    /// The endpoint and console of `region`'s partition (aws, aws-cn, aws-us-gov; the aws one when
    /// no region is known), or the stand-in `override_endpoint` names.
    pub fn for_region(region: Option<&str>, override_endpoint: Option<&str>) -> Result<Self> {
        let (endpoint, console_host) = match region {
            Some(region) if region.starts_with("cn-") => {
                ("https://signin.amazonaws.cn", "console.amazonaws.cn")
            }
            Some(region) if region.starts_with("us-gov-") => (
                "https://signin.amazonaws-us-gov.com",
                "console.amazonaws-us-gov.com",
            ),
            _ => ("https://signin.aws.amazon.com", "console.aws.amazon.com"),
        };
        let endpoint = match override_endpoint {
            Some(url) => checked_override(url)?,
            None => endpoint.to_string(),
        };
        Ok(Self {
            endpoint,
            console_host,
        })
    }

    /// The console page the sign-in lands on: `path` (default the console's home) on the region's
    /// console, with `region=` added to its query as the console reads it.
    pub fn destination(&self, region: Option<&str>, path: Option<&str>) -> String {
        let path = path.unwrap_or("/console/home");
        let Some(region) = region else {
            return format!("https://{}{path}", self.console_host);
        };
        let (page, fragment) = match path.split_once('#') {
            Some((page, fragment)) => (page, Some(fragment)),
            None => (path, None),
        };
        let separator = if page.contains('?') { '&' } else { '?' };
        let mut url = format!(
            "https://{region}.{}{page}{separator}region={region}",
            self.console_host
        );
        if let Some(fragment) = fragment {
            url.push('#');
            url.push_str(fragment);
        }
        url
    }

    /// The sign-in URL: whoever opens it is signed in to the console as the session's identity.
    pub fn login_url(&self, destination: &str, token: &SecretString) -> SecretString {
        let mut url = Zeroizing::new(String::with_capacity(
            self.endpoint.len() + destination.len() * 3 + token.expose_secret().len() * 3 + 80,
        ));
        url.push_str(&self.endpoint);
        url.push_str("/federation?Action=login&Issuer=awskeep&Destination=");
        query_escape(&mut url, destination);
        url.push_str("&SigninToken=");
        query_escape(&mut url, token.expose_secret());
        SecretString::from(url.as_str())
    }
}

/// A stand-in endpoint: https, or plain http to this machine only (127.0.0.1, localhost, [::1]);
/// no query or fragment; the trailing slash dropped.
fn checked_override(url: &str) -> Result<String> {
    let bad = |reason: &str| Error::BadVariable {
        name: ENDPOINT_VARIABLE,
        reason: reason.to_string(),
    };
    let url = url.trim_end_matches('/');
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it must be a plain URL, like https://signin.example"));
    }
    if let Some(rest) = url.strip_prefix("https://") {
        if rest.is_empty() {
            return Err(bad("it names no host"));
        }
        return Ok(url.to_string());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(bad(
            "it must start with https:// (http:// only for 127.0.0.1 or localhost)",
        ));
    };
    let host = rest.split('/').next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
        return Err(bad(
            "plain http:// is only for 127.0.0.1 or localhost (the sign-in request carries a session's secret)",
        ));
    }
    Ok(url.to_string())
}

/// The `Session` parameter of getSigninToken.
#[derive(Serialize)]
struct SessionParameter<'a> {
    #[serde(rename = "sessionId")]
    session_id: &'a str,
    #[serde(rename = "sessionKey")]
    session_key: &'a str,
    #[serde(rename = "sessionToken")]
    session_token: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SigninToken")]
    signin_token: SecretString,
}

/// getSigninToken for `session`. `console_session` is the SessionDuration parameter, which AWS
/// takes for a role session only (a GetFederationToken session's console session lasts as long as
/// the session itself).
pub fn signin_token(
    federation: &Federation,
    session: &Session,
    console_session: Option<Duration>,
) -> Result<SecretString> {
    let parameter = Zeroizing::new(
        serde_json::to_string(&SessionParameter {
            session_id: &session.access_key_id,
            session_key: session.secret_access_key.expose_secret(),
            session_token: session.session_token.expose_secret(),
        })
        .map_err(|e| Error::Aws {
            operation: "federation getSigninToken",
            reason: e.to_string(),
        })?,
    );
    let mut url = Zeroizing::new(String::with_capacity(parameter.len() * 3 + 128));
    url.push_str(&federation.endpoint);
    url.push_str("/federation?Action=getSigninToken");
    if let Some(duration) = console_session {
        url.push_str(&format!("&SessionDuration={}", duration.as_secs()));
    }
    url.push_str("&Session=");
    query_escape(&mut url, &parameter);
    let failed = |reason: String| Error::SigninToken {
        endpoint: federation.endpoint.clone(),
        reason,
    };
    let (status, body) = runtime()?
        .block_on(get(&url))
        .map_err(|failure| match failure {
            GetFailure::Network(reason) => Error::Network {
                service: "sign-in",
                endpoint: federation.endpoint.clone(),
                reason,
            },
            GetFailure::Other(reason) => failed(reason),
        })?;
    if status != 200 {
        return Err(failed(format!("it answered HTTP {status}")));
    }
    let body = Zeroizing::new(body);
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|_| failed("its answer held no SigninToken".into()))?;
    if answer.signin_token.expose_secret().is_empty() {
        return Err(failed("its SigninToken was empty".into()));
    }
    Ok(answer.signin_token)
}

enum GetFailure {
    Network(String),
    Other(String),
}

/// One GET on the SDK's HTTPS connector: the status and at most `MAX_ANSWER` bytes of body.
async fn get(url: &str) -> std::result::Result<(u16, Vec<u8>), GetFailure> {
    use aws_smithy_async::future::timeout::Timeout;
    use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, TokioSleep};
    use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::byte_stream::ByteStream;

    let sleep = SharedAsyncSleep::new(TokioSleep::new());
    let settings = HttpConnectorSettings::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(OPERATION_TIMEOUT)
        .build();
    let connector = aws_smithy_http_client::default_connector(&settings, Some(sleep.clone()))
        .ok_or_else(|| GetFailure::Other("this build has no HTTPS client".into()))?;
    let request = HttpRequest::get(url)
        .map_err(|_| GetFailure::Other("the endpoint is not a valid URL".into()))?;
    let exchange = async {
        let response = connector.call(request).await.map_err(|error| {
            if error.is_timeout() {
                GetFailure::Network("timed out".into())
            } else if error.is_io() {
                GetFailure::Network("connection failed".into())
            } else {
                // The connector's error names the host and the TLS or protocol failure, never the
                // request's URL.
                GetFailure::Network(error_chain(&error))
            }
        })?;
        let status = response.status().as_u16();
        let body = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|_| GetFailure::Network("the answer was cut off".into()))?
            .into_bytes();
        if body.len() > MAX_ANSWER {
            return Err(GetFailure::Other(format!(
                "its answer was larger than {MAX_ANSWER} bytes"
            )));
        }
        Ok((status, body.to_vec()))
    };
    Timeout::new(exchange, sleep.sleep(OPERATION_TIMEOUT))
        .await
        .unwrap_or_else(|_| Err(GetFailure::Network("timed out".into())))
}

/// Appends `text` percent-encoded for a query value: every byte but the unreserved
/// `A-Z a-z 0-9 - _ . ~` as `%XX`.
pub fn query_escape(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws() -> Federation {
        Federation::for_region(None, None).unwrap()
    }

    #[test]
    fn each_partition_has_its_own_endpoint_and_console() {
        let endpoint = |region| Federation::for_region(Some(region), None).unwrap();
        assert_eq!(
            endpoint("eu-west-1").endpoint,
            "https://signin.aws.amazon.com"
        );
        assert_eq!(
            endpoint("cn-north-1").endpoint,
            "https://signin.amazonaws.cn"
        );
        assert_eq!(
            endpoint("us-gov-west-1").endpoint,
            "https://signin.amazonaws-us-gov.com"
        );
        assert_eq!(
            endpoint("cn-north-1").destination(Some("cn-north-1"), None),
            "https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1"
        );
    }

    #[test]
    fn the_destination_carries_the_region_in_its_query_before_any_fragment() {
        let f = aws();
        assert_eq!(
            f.destination(None, None),
            "https://console.aws.amazon.com/console/home"
        );
        assert_eq!(
            f.destination(Some("eu-west-1"), Some("/s3")),
            "https://eu-west-1.console.aws.amazon.com/s3?region=eu-west-1"
        );
        assert_eq!(
            f.destination(Some("eu-west-1"), Some("/s3/buckets?tab=x")),
            "https://eu-west-1.console.aws.amazon.com/s3/buckets?tab=x&region=eu-west-1"
        );
        assert_eq!(
            f.destination(Some("eu-west-1"), Some("/ec2/home#Instances:")),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:"
        );
    }

    #[test]
    fn the_login_url_escapes_its_destination_and_token() {
        let url = aws().login_url(
            "https://eu-west-1.console.aws.amazon.com/s3?region=eu-west-1",
            &SecretString::from("a+b/c=="),
        );
        assert_eq!(
            url.expose_secret(),
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=awskeep&Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fs3%3Fregion%3Deu-west-1&SigninToken=a%2Bb%2Fc%3D%3D"
        );
    }

    #[test]
    fn a_stand_in_endpoint_is_https_or_plain_http_to_this_machine_only() {
        let endpoint = |url| Federation::for_region(None, Some(url)).map(|f| f.endpoint);
        assert_eq!(
            endpoint("http://127.0.0.1:4567/").unwrap(),
            "http://127.0.0.1:4567"
        );
        assert_eq!(
            endpoint("http://localhost:1").unwrap(),
            "http://localhost:1"
        );
        assert_eq!(endpoint("http://[::1]:80").unwrap(), "http://[::1]:80");
        assert_eq!(
            endpoint("https://signin.example").unwrap(),
            "https://signin.example"
        );
        for bad in [
            "http://example.com",
            "http://127.0.0.1.example.com",
            "http://localhost@example.com",
            "ftp://127.0.0.1",
            "https://",
            "https://x/?a=b",
        ] {
            assert!(
                matches!(endpoint(bad), Err(Error::BadVariable { .. })),
                "{bad} was taken"
            );
        }
    }

    #[test]
    fn only_unreserved_bytes_stay_as_they_are_in_a_query_value() {
        let mut out = String::new();
        query_escape(&mut out, "aZ0-_.~ {\"é&=+/");
        assert_eq!(out, "aZ0-_.~%20%7B%22%C3%A9%26%3D%2B%2F");
    }
}
