//! A moto server of the test's own, with auth enforcement off (GetSessionToken credentials are
//! rejected by moto's auth layer, and its fixed session key would make every session look alike
//! anyway), behind a counting proxy that tells how many GetSessionToken calls reached it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::clients::venv_bin;

pub struct PrivateMoto {
    server: Option<Child>,
    /// The proxy's URL: what AWS_ENDPOINT_URL should name.
    pub url: String,
    session_calls: Arc<AtomicUsize>,
    role_calls: Arc<AtomicUsize>,
    signers: Arc<Mutex<Vec<Signer>>>,
}

/// Who signed one request that reached the server.
#[derive(Clone, Debug, PartialEq)]
pub struct Signer {
    /// The access key ID of the SigV4 `Credential=ID/...`.
    pub key_id: String,
    /// Whether the signature covers an `X-Amz-Security-Token` header (a session's token was sent).
    pub with_session_token: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivateMoto {
    pub fn start() -> Self {
        Self::start_server(Command::new(venv_bin("moto_server")))
    }

    /// A private moto in which the first key of each IAM user named `aged-*` was created three
    /// years ago (tests/support/moto_aged.py).
    pub fn start_aged() -> Self {
        let mut command = Command::new(venv_bin("python"));
        command.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/moto_aged.py"
        ));
        Self::start_server(command)
    }

    fn start_server(mut command: Command) -> Self {
        let port = free_port();
        let server = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let session_calls = Arc::new(AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let role_calls = Arc::new(AtomicUsize::new(0));
        let counters = [
            (&b"Action=GetSessionToken"[..], Arc::clone(&session_calls)),
            (&b"Action=AssumeRole&"[..], Arc::clone(&role_calls)),
        ];
        let signers = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&signers);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counters = counters.clone();
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || proxy(client, port, &counters, &seen));
            }
        });
        Self {
            server: Some(server),
            url,
            session_calls,
            role_calls,
            signers,
        }
    }

    /// How many requests named the GetSessionToken action so far.
    pub fn session_token_calls(&self) -> usize {
        self.session_calls.load(Ordering::SeqCst)
    }

    /// How many requests named the AssumeRole action so far.
    pub fn assume_role_calls(&self) -> usize {
        self.role_calls.load(Ordering::SeqCst)
    }

    /// The access key IDs that signed the requests so far (SigV4 `Credential=ID/...`), in order.
    pub fn signed_with(&self) -> Vec<String> {
        self.signers().into_iter().map(|s| s.key_id).collect()
    }

    /// Who signed each request so far, in order.
    pub fn signers(&self) -> Vec<Signer> {
        self.signers.lock().unwrap().clone()
    }

    /// Stops the server (the proxy then refuses nothing but reaches nobody).
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the proxy counts: requests naming each action.
type Counters = [(&'static [u8], Arc<AtomicUsize>); 2];

fn proxy(mut client: TcpStream, port: u16, counters: &Counters, signers: &Mutex<Vec<Signer>>) {
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let (Ok(mut client_back), Ok(mut upstream_back)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let answers = std::thread::spawn(move || {
        let _ = std::io::copy(&mut upstream_back, &mut client_back);
        let _ = client_back.shutdown(std::net::Shutdown::Both);
    });
    let longest = counters.iter().map(|(n, _)| n.len()).max().unwrap_or(1);
    let mut window: Vec<u8> = Vec::new();
    let mut tail: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        window.extend_from_slice(&buffer[..n]);
        record_signers(&mut window, signers);
        tail.extend_from_slice(&buffer[..n]);
        let mut found_any = false;
        for (needle, counter) in counters {
            let found = tail.windows(needle.len()).filter(|w| w == needle).count();
            counter.fetch_add(found, Ordering::SeqCst);
            found_any |= found > 0;
        }
        // Keep only what could start a match split across reads.
        let keep = if found_any {
            0
        } else {
            (longest - 1).min(tail.len())
        };
        tail.drain(..tail.len() - keep);
        if upstream.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = upstream.shutdown(std::net::Shutdown::Write);
    let _ = answers.join();
}

/// Takes every complete `Credential=ID/...Signature=` out of `window`, keeping what may start one.
fn record_signers(window: &mut Vec<u8>, signers: &Mutex<Vec<Signer>>) {
    let marker = b"Credential=";
    let end = b"Signature=";
    let mut consumed = 0;
    let mut at = 0;
    while let Some(found) = window[at..].windows(marker.len()).position(|w| w == marker) {
        let start = at + found + marker.len();
        let Some(slash) = window[start..].iter().take(130).position(|b| *b == b'/') else {
            break;
        };
        // SignedHeaders sits between the credential scope and the signature.
        let Some(signature) = window[start..]
            .windows(end.len())
            .take(2000)
            .position(|w| w == end)
        else {
            break;
        };
        let id = String::from_utf8_lossy(&window[start..start + slash]).into_owned();
        let signed = String::from_utf8_lossy(&window[start..start + signature]).to_lowercase();
        signers.lock().unwrap().push(Signer {
            key_id: id,
            with_session_token: signed.contains("x-amz-security-token"),
        });
        at = start + signature;
        consumed = at;
    }
    let keep_from = consumed.max(window.len().saturating_sub(2200));
    window.drain(..keep_from);
}
