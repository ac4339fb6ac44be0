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
//! It listens on loopback only (the SDKs accept plain http only from a loopback host) and closes
//! each connection after its answer. It keeps no secret between requests: each one reads the store
//! as `credential-process` would, and the encrypted file store's master key is taken from the
//! kernel keyring on every request (`FileStore::hold_no_key`), so `awskeep lock` or the unlock
//! timeout stops serve at its next request (an error naming `awskeep unlock`), and `awskeep
//! unlock` lets it serve again.
//!
//! Keeping serving, whoever connects. Any local process can connect, token or not, so no
//! connection may hold the endpoint: each gets a thread of its own that reads its request head,
//! with one deadline for the whole head (not per read: a client trickling a byte every few seconds
//! is cut off at `HEAD_DEADLINE` all the same), and checks the token. Only a request with the
//! right token is handed to the one thread that owns the store (this command's own), which answers
//! them in turn. At most `MAX_CONNECTIONS` are read at once; past that a connection is answered 503
//! at once, so a flood costs bounded threads and memory, and each slot frees itself within the
//! deadline. (A short deadline alone, on one thread, would still let each slow client stall every
//! other for that long; threads alone, unbounded, would let a flood exhaust the process.) A log
//! line that cannot be written (stderr's reader gone, a full disk) is dropped, never fatal
//! (`output::try_say`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
use crate::store::facade::CredentialStore;

/// The one path credentials are served on.
const PATH: &str = "/";
/// A request's head is a few hundred bytes; anything larger is refused.
const MAX_HEAD: usize = 16 * 1024;
/// The time a connection has to send its whole request head (an SDK sends it in one write).
const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// The time an answer may take to be taken by its client.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections read at once; one more is answered 503 and closed.
const MAX_CONNECTIONS: usize = 64;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: ServeArgs,
) -> Result<()> {
    let profile = credentials::profile_or_default(ctx, args.profile)?;
    let mfa_process = args.mfa.mfa_process.as_deref();
    // Resolve once before listening: a profile that cannot be served fails here, and an MFA code
    // is asked now, while the person who started serve is at its terminal.
    let first = credentials::resolve(ctx, store, aws, &profile, mfa_process, Refresh::IfNeeded)?;
    if matches!(first.credentials, Credentials::LongTerm(_)) {
        return Err(Error::ServeNeedsSession {
            profile: profile.to_string(),
        });
    }
    drop(first);
    // From here on the file store's master key is the kernel keyring's alone, read at each
    // request; a store that cannot be opened that way (no keyring, no passphrase source) fails
    // now, not there.
    if store.hold_no_key() {
        store.get_session(&profile)?;
    }
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
    let (jobs, queue) = mpsc::channel::<Job>();
    let token = Arc::new(token);
    std::thread::Builder::new()
        .name("serve-accept".into())
        .spawn(move || accept(&listener, &token, &jobs))
        .map_err(|source| Error::ServeListen {
            port: args.port,
            source,
        })?;
    output::try_say(&format!(
        "awskeep: serving sessions of profile {profile} at {uri} until stopped (Ctrl-C)."
    ));
    let server = Server {
        ctx,
        store,
        aws,
        profile: &profile,
        mfa_process,
    };
    // The store is used on this thread only, one request at a time.
    for job in queue {
        let _ = job.answer.send(server.answer(&job.peer));
    }
    Ok(())
}

/// A request that showed the token, for the thread that owns the store; the answer goes back on
/// `answer`.
struct Job {
    peer: String,
    answer: mpsc::SyncSender<Zeroizing<Vec<u8>>>,
}

/// Accepts connections for ever, each read on a thread of its own while fewer than
/// `MAX_CONNECTIONS` are.
fn accept(listener: &TcpListener, token: &Arc<SecretString>, jobs: &mpsc::Sender<Job>) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                output::try_say(&format!("awskeep: a connection failed: {e}"));
                // Out of file descriptors, say: a moment before the next try, not a busy loop.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let Some(slot) = Slot::take(&open) else {
            let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
            let busy = plain(503, "Service Unavailable", "too many connections at once");
            let _ = stream.write_all(&busy);
            continue;
        };
        let token = Arc::clone(token);
        let jobs = jobs.clone();
        let spawned = std::thread::Builder::new()
            .name("serve-connection".into())
            .spawn(move || {
                let _slot = slot;
                connection(stream, &token, &jobs);
            });
        if let Err(e) = spawned {
            output::try_say(&format!("awskeep: a connection was dropped: {e}"));
        }
    }
}

/// One of the `MAX_CONNECTIONS` places; given back when dropped (whatever ends its thread).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>) -> Option<Slot> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_CONNECTIONS).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot(Arc::clone(open)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads one request within the deadline, checks it, has it answered, and closes the connection.
fn connection(mut stream: TcpStream, token: &SecretString, jobs: &mpsc::Sender<Job>) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into());
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let response = match read_request(&mut stream, Instant::now() + HEAD_DEADLINE) {
        Ok(request) => match check(&request, token, &peer) {
            Err(refused) => refused,
            Ok(()) => {
                let (answer, answered) = mpsc::sync_channel(1);
                let job = Job {
                    peer: peer.clone(),
                    answer,
                };
                match jobs.send(job).ok().and_then(|()| answered.recv().ok()) {
                    Some(response) => response,
                    None => plain(503, "Service Unavailable", "serve is stopping"),
                }
            }
        },
        Err(Unread::TimedOut) => {
            output::try_say(&format!(
                "awskeep: closed a connection from {peer} that sent no whole request within {} s.",
                HEAD_DEADLINE.as_secs()
            ));
            plain(
                408,
                "Request Timeout",
                "the request did not arrive within the deadline",
            )
        }
        Err(Unread::Bad(reason)) => plain(400, "Bad Request", reason),
    };
    let _ = stream.write_all(&response).and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// The token first (nothing else is looked at without it), then the method and path.
fn check(
    request: &Request,
    token: &SecretString,
    peer: &str,
) -> std::result::Result<(), Zeroizing<Vec<u8>>> {
    let Some(given) = &request.authorization else {
        output::try_say(&format!(
            "awskeep: refused a request from {peer} without the token."
        ));
        return Err(plain(
            401,
            "Unauthorized",
            "the Authorization token is missing",
        ));
    };
    let matches: bool = given
        .as_bytes()
        .ct_eq(token.expose_secret().as_bytes())
        .into();
    if !matches {
        output::try_say(&format!(
            "awskeep: refused a request from {peer} with a wrong token."
        ));
        return Err(plain(403, "Forbidden", "the Authorization token is wrong"));
    }
    if request.method != "GET" {
        return Err(plain(405, "Method Not Allowed", "only GET is served"));
    }
    if request.path != PATH {
        return Err(plain(404, "Not Found", "credentials are served at /"));
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
    store: &'a CredentialStore,
    aws: &'a dyn crate::aws::Aws,
    profile: &'a ProfileName,
    mfa_process: Option<&'a str>,
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
    /// The answer to a request that showed the token: the session, or the error as the container
    /// provider protocol carries one (`Code`, `Message`), logged as a failed command's line.
    fn answer(&self, peer: &str) -> Zeroizing<Vec<u8>> {
        match self.credentials() {
            Ok(body) => {
                output::trace(
                    self.ctx.verbose,
                    &format!("served profile {} to {peer}", self.profile),
                );
                response(200, "OK", "application/json", &body)
            }
            Err(error) => {
                let line = crate::hint::one_line(&error, Some(CommandKind::Serve));
                output::try_say(&line);
                let body = serde_json::json!({
                    "Code": "CredentialsUnavailable",
                    "Message": line,
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
        let Some((session, owner)) = resolved.credentials.session() else {
            return Err(Error::ServeNeedsSession {
                profile: self.profile.to_string(),
            });
        };
        let body = ContainerCredentials {
            access_key_id: &session.access_key_id,
            secret_access_key: session.secret_access_key.expose_secret(),
            token: session.session_token.expose_secret(),
            expiration: humantime::format_rfc3339_seconds(session.expiration).to_string(),
            account_id: owner.map(|o| o.account_id.as_str()),
        };
        let mut out = Zeroizing::new(Vec::with_capacity(1024));
        serde_json::to_writer(&mut *out, &body).map_err(|e| Error::Output(e.into()))?;
        Ok(out)
    }
}

/// Why no request was read.
enum Unread {
    /// The whole head did not arrive by the deadline.
    TimedOut,
    Bad(&'static str),
}

/// Reads the request line and headers (the body of a GET is ignored), all of them by `deadline`:
/// each read waits only for what is left of it.
fn read_request(stream: &mut TcpStream, deadline: Instant) -> std::result::Result<Request, Unread> {
    let mut head = Zeroizing::new(Vec::with_capacity(1024));
    let mut buffer = [0u8; 1024];
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if head.len() > MAX_HEAD {
            return Err(Unread::Bad("the request head is too large"));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(Unread::TimedOut);
        }
        match stream.read(&mut buffer) {
            Ok(n) if n > 0 => head.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Unread::TimedOut);
            }
            Ok(_) | Err(_) => return Err(Unread::Bad("the request ended early")),
        }
    };
    let text =
        std::str::from_utf8(&head[..end]).map_err(|_| Unread::Bad("the request is not text"))?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Err(Unread::Bad("the request line is malformed"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Unread::Bad("only HTTP/1.x is served"));
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
