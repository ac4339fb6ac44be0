//! The container credential endpoint that `serve` and `exec --server` run: a listener on
//! 127.0.0.1 that speaks the container credential provider protocol, so a program gets a
//! profile's sessions with `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
//!
//! Each endpoint draws a new 256-bit token from the OS's CSPRNG; a request without it is answered
//! 401, with another one 403 (compared in constant time), and only then is anything resolved.
//! Every answered request goes through `credentials::resolve`, so the endpoint serves exactly what
//! credential_process would: the cached session while it has more than the margin left, else a
//! new one (an MFA code is asked where `session refresh` would ask). Only sessions are served:
//! the protocol is for temporary credentials (botocore requires `Token` and `Expiration`), and a
//! long-term key handed to a container would outlive the container.
//!
//! It listens on loopback only (the SDKs accept plain http only from a loopback host) and closes
//! each connection after its answer. It keeps no secret between requests: each one reads the store
//! as `credential-process` would, and the encrypted file store's master key is taken from the
//! kernel keyring on every request (`FileStore::hold_no_key`), so `awskeep lock` or the unlock
//! timeout stops it at its next request (an error naming `awskeep unlock`), and `awskeep unlock`
//! lets it serve again.
//!
//! Keeping serving, whoever connects. Any local process can connect, token or not, so no
//! connection may hold the endpoint: each gets a thread of its own that reads its request head,
//! with one deadline for the whole head (not per read: a client trickling a byte every few seconds
//! is cut off at `HEAD_DEADLINE` all the same), and checks the token. Only a request with the
//! right token is handed to the one thread that owns the store (the command's own, in
//! `Endpoint::serve`), which answers them in turn. At most `MAX_CONNECTIONS` are read at once;
//! past that a connection is answered 503 at once, so a flood costs bounded threads and memory,
//! and each slot frees itself within the deadline. (A short deadline alone, on one thread, would
//! still let each slow client stall every other for that long; threads alone, unbounded, would let
//! a flood exhaust the process.) A log line that cannot be written (stderr's reader gone, a full
//! disk) is dropped, never fatal (`output::try_say`).
//!
//! `serve` answers until it is killed; `exec --server` stops its endpoint when its child exits
//! (`Stopper`): the port is closed before awskeep exits with the child's status.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::cli::CommandKind;
use crate::context::Context;
use crate::credentials::{self, Refresh, Resolved};
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

/// What the endpoint serves: one profile, resolved as the running command resolves it.
pub struct Source<'a> {
    pub ctx: &'a Context,
    pub store: &'a CredentialStore,
    pub aws: &'a dyn crate::aws::Aws,
    pub profile: &'a ProfileName,
    pub mfa_process: Option<&'a str>,
    /// The command that runs the endpoint, for the hint of a logged error.
    pub command: CommandKind,
}

impl Source<'_> {
    /// Resolves the profile once before anything listens: a profile that cannot be served fails
    /// here, and an MFA code is asked now, while the person who started the command is at its
    /// terminal. Then checks that the store opens as every request will open it.
    pub fn check(&self) -> Result<Resolved> {
        let first = self.resolve()?;
        if first.credentials.session().is_none() {
            return Err(Error::ServeNeedsSession {
                profile: self.profile.to_string(),
            });
        }
        // From here on the file store's master key is the kernel keyring's alone, read at each
        // request; a store that cannot be opened that way (no keyring, no passphrase source)
        // fails now, not there.
        if self.store.hold_no_key() {
            self.store.get_session(self.profile)?;
        }
        Ok(first)
    }

    fn resolve(&self) -> Result<Resolved> {
        credentials::resolve(
            self.ctx,
            self.store,
            self.aws,
            self.profile,
            self.mfa_process,
            Refresh::IfNeeded,
        )
    }

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
                let line = crate::hint::one_line(&error, Some(self.command));
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
        let resolved = self.resolve()?;
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

/// A listening endpoint: its port is open and its connections are read from `listen` on; requests
/// are answered once `serve` runs.
pub struct Endpoint {
    uri: String,
    token: Arc<SecretString>,
    address: SocketAddr,
    events: mpsc::Receiver<Event>,
    sender: mpsc::Sender<Event>,
    stopping: Arc<AtomicBool>,
    accepting: JoinHandle<()>,
}

/// What reaches the thread that owns the store.
enum Event {
    Request(Job),
    Stop,
}

/// Ends `Endpoint::serve` from another thread (exec's, when its child has exited).
pub struct Stopper(mpsc::Sender<Event>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.send(Event::Stop);
    }
}

impl Endpoint {
    /// Binds 127.0.0.1:`port` (0: a free port the OS picks), draws the token and starts reading
    /// connections.
    pub fn listen(port: u16) -> Result<Endpoint> {
        let listen_failed = |source| Error::ServeListen { port, source };
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(listen_failed)?;
        let address = listener.local_addr().map_err(listen_failed)?;
        let token = Arc::new(new_token()?);
        let (sender, events) = mpsc::channel::<Event>();
        let stopping = Arc::new(AtomicBool::new(false));
        let accepting = {
            let (token, jobs, stopping) =
                (Arc::clone(&token), sender.clone(), Arc::clone(&stopping));
            std::thread::Builder::new()
                .name("endpoint-accept".into())
                .spawn(move || accept(&listener, &token, &jobs, &stopping))
                .map_err(listen_failed)?
        };
        Ok(Endpoint {
            uri: format!("http://127.0.0.1:{}{PATH}", address.port()),
            token,
            address,
            events,
            sender,
            stopping,
            accepting,
        })
    }

    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`'s value.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`'s value.
    pub fn token(&self) -> &SecretString {
        &self.token
    }

    pub fn stopper(&self) -> Stopper {
        Stopper(self.sender.clone())
    }

    /// Answers the requests that showed the token, one at a time on this thread (the one that
    /// owns the store), until a `Stopper` says stop; then closes the port.
    pub fn serve(self, source: &Source<'_>) {
        let Endpoint {
            events,
            sender,
            stopping,
            address,
            accepting,
            ..
        } = self;
        // Only the accept thread and the stoppers send from here on.
        drop(sender);
        for event in &events {
            match event {
                Event::Request(job) => {
                    let _ = job.answer.send(source.answer(&job.peer));
                }
                Event::Stop => break,
            }
        }
        // The accept thread sees the flag at its next connection: this one. It then drops the
        // listener, closing the port; a connection still being read is answered 503 (`events`
        // is gone with this function).
        stopping.store(true, Ordering::Release);
        if TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok() {
            let _ = accepting.join();
        }
    }
}

/// A request that showed the token, for the thread that owns the store; the answer goes back on
/// `answer`.
struct Job {
    peer: String,
    answer: mpsc::SyncSender<Zeroizing<Vec<u8>>>,
}

/// Accepts connections until `stopping` is set, each read on a thread of its own while fewer
/// than `MAX_CONNECTIONS` are.
fn accept(
    listener: &TcpListener,
    token: &Arc<SecretString>,
    jobs: &mpsc::Sender<Event>,
    stopping: &AtomicBool,
) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::Acquire) {
            return;
        }
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
            .name("endpoint-connection".into())
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
fn connection(mut stream: TcpStream, token: &SecretString, jobs: &mpsc::Sender<Event>) {
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
                match jobs
                    .send(Event::Request(job))
                    .ok()
                    .and_then(|()| answered.recv().ok())
                {
                    Some(response) => response,
                    None => plain(503, "Service Unavailable", "the endpoint is stopping"),
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
