//! `awskeep serve --profile P`: a credential endpoint on 127.0.0.1 that speaks the container
//! credential provider protocol, so containers and long-running programs get the profile's
//! sessions with `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
//!
//! Each run draws a new 256-bit token from the OS's CSPRNG; a request without it is answered 401,
//! with another one 403 (compared in constant time), and only then is anything resolved. Every
//! answered request goes through `credentials::resolve`, so the endpoint serves exactly what
//! credential_process would: the cached session while it has more than the margin left, else a
//! new one (an MFA code is asked where `session refresh` would ask). Only sessions are served:
//! the protocol is for temporary credentials (botocore requires `Token` and `Expiration`), and a
//! long-term key handed to a container would outlive the container.
//!
//! It listens on loopback only (the SDKs accept plain http only from a loopback host), handles one
//! request at a time with a 5-second read timeout, closes each connection after its answer, and
//! keeps no secret between requests beyond the store's own cached session.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::cli::{CommandKind, ServeArgs, ServeFormat};
use crate::commands::export::Shell;
use crate::context::Context;
use crate::credentials::{self, Credentials, Refresh};
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::store::CredentialStore;

/// The one path credentials are served on.
const PATH: &str = "/";
/// A request's head is a few hundred bytes; anything larger is refused.
const MAX_HEAD: usize = 16 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(
    ctx: &Context,
    store: &dyn CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: ServeArgs,
) -> Result<()> {
    let profile = credentials::profile_or_default(ctx, args.profile)?;
    let mfa_process = args.mfa_process.as_deref();
    // Resolve once before listening: a profile that cannot be served fails here, and an MFA code
    // is asked now, while the person who started serve is at its terminal.
    let first = credentials::resolve(ctx, store, aws, &profile, mfa_process, Refresh::IfNeeded)?;
    if matches!(first.credentials, Credentials::LongTerm(_)) {
        return Err(Error::ServeNeedsSession {
            profile: profile.to_string(),
        });
    }
    drop(first);
    let listener =
        TcpListener::bind(("127.0.0.1", args.port)).map_err(|source| Error::ServeListen {
            port: args.port,
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| Error::ServeListen {
            port: args.port,
            source,
        })?
        .port();
    let token = new_token()?;
    let uri = format!("http://127.0.0.1:{port}{PATH}");
    let shell = match args.format {
        ServeFormat::Env => Shell::Sh,
        ServeFormat::Fish => Shell::Fish,
        ServeFormat::Powershell => Shell::Powershell,
    };
    let mut text = Zeroizing::new(String::new());
    shell.set(&mut text, "AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri);
    shell.set(
        &mut text,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        token.expose_secret(),
    );
    text.push_str("# docker run --network host -e AWS_CONTAINER_CREDENTIALS_FULL_URI -e AWS_CONTAINER_AUTHORIZATION_TOKEN IMAGE\n");
    output::print_bytes(text.as_bytes())?;
    drop(text);
    output::say(&format!(
        "awskeep: serving sessions of profile {profile} at {uri} until stopped (Ctrl-C)."
    ));
    let server = Server {
        ctx,
        store,
        aws,
        profile: &profile,
        mfa_process,
        token: &token,
    };
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => server.handle(stream),
            Err(e) => output::say(&format!("awskeep: a connection failed: {e}")),
        }
    }
    Ok(())
}

/// 32 bytes from the OS, hex-encoded: what a client must send as `Authorization`.
fn new_token() -> Result<SecretString> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *bytes).map_err(|e| Error::NoRandom {
        reason: e.to_string(),
    })?;
    let mut hex = String::with_capacity(64);
    for b in bytes.iter() {
        hex.push_str(&format!("{b:02x}"));
    }
    Ok(SecretString::from(hex))
}

struct Server<'a> {
    ctx: &'a Context,
    store: &'a dyn CredentialStore,
    aws: &'a dyn crate::aws::Aws,
    profile: &'a ProfileName,
    mfa_process: Option<&'a str>,
    token: &'a SecretString,
}

/// What a request asked, as far as the endpoint cares.
struct Request {
    method: String,
    path: String,
    authorization: Option<Zeroizing<String>>,
}

/// The body the container provider reads (botocore's ContainerProvider, the SDKs' ECS providers).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

impl Server<'_> {
    fn handle(&self, mut stream: TcpStream) {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let response = match read_request(&mut stream) {
            Ok(request) => self.respond(&request, &peer),
            Err(reason) => plain(400, "Bad Request", reason),
        };
        let _ = stream.write_all(&response).and_then(|()| stream.flush());
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    fn respond(&self, request: &Request, peer: &str) -> Zeroizing<Vec<u8>> {
        let Some(given) = &request.authorization else {
            output::say(&format!(
                "awskeep: refused a request from {peer} without the token."
            ));
            return plain(401, "Unauthorized", "the Authorization token is missing");
        };
        let matches: bool = given
            .as_bytes()
            .ct_eq(self.token.expose_secret().as_bytes())
            .into();
        if !matches {
            output::say(&format!(
                "awskeep: refused a request from {peer} with a wrong token."
            ));
            return plain(403, "Forbidden", "the Authorization token is wrong");
        }
        if request.method != "GET" {
            return plain(405, "Method Not Allowed", "only GET is served");
        }
        if request.path != PATH {
            return plain(404, "Not Found", "credentials are served at /");
        }
        match self.credentials() {
            Ok(body) => {
                output::trace(
                    self.ctx.verbose,
                    &format!("served profile {} to {peer}", self.profile),
                );
                response(200, "OK", "application/json", &body)
            }
            Err(error) => {
                output::error_line(&error, CommandKind::Serve);
                let body = serde_json::json!({
                    "Code": "CredentialsUnavailable",
                    "Message": error.one_line(Some(CommandKind::Serve)),
                });
                response(
                    500,
                    "Internal Server Error",
                    "application/json",
                    body.to_string().as_bytes(),
                )
            }
        }
    }

    fn credentials(&self) -> Result<Zeroizing<Vec<u8>>> {
        let resolved = credentials::resolve(
            self.ctx,
            self.store,
            self.aws,
            self.profile,
            self.mfa_process,
            Refresh::IfNeeded,
        )?;
        let Credentials::Session { session, owner } = &resolved.credentials else {
            return Err(Error::ServeNeedsSession {
                profile: self.profile.to_string(),
            });
        };
        let body = ContainerCredentials {
            access_key_id: &session.access_key_id,
            secret_access_key: session.secret_access_key.expose_secret(),
            token: session.session_token.expose_secret(),
            expiration: humantime::format_rfc3339_seconds(session.expiration).to_string(),
            account_id: owner.as_ref().map(|o| o.account_id.as_str()),
        };
        let mut out = Zeroizing::new(Vec::with_capacity(1024));
        serde_json::to_writer(&mut *out, &body).map_err(|e| Error::Output(e.into()))?;
        Ok(out)
    }
}

/// Reads the request line and headers (the body of a GET is ignored).
fn read_request(stream: &mut TcpStream) -> std::result::Result<Request, &'static str> {
    let mut head = Zeroizing::new(Vec::with_capacity(1024));
    let mut buffer = [0u8; 1024];
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if head.len() > MAX_HEAD {
            return Err("the request head is too large");
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return Err("the request ended early"),
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    };
    let text = std::str::from_utf8(&head[..end]).map_err(|_| "the request is not text")?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Err("the request line is malformed");
    };
    if !version.starts_with("HTTP/1.") {
        return Err("only HTTP/1.x is served");
    }
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| Zeroizing::new(value.trim().to_string()));
    Ok(Request {
        method: method.to_string(),
        path: target.to_string(),
        authorization,
    })
}

fn plain(status: u16, reason: &str, message: &str) -> Zeroizing<Vec<u8>> {
    let body = serde_json::json!({ "Code": reason, "Message": message }).to_string();
    response(status, reason, "application/json", body.as_bytes())
}

fn response(status: u16, reason: &str, content_type: &str, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 160));
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}
