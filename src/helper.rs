//! Running a helper program whose answer is one line on its stdout: the passphrase command
//! (`AWSKEEP_FILE_PASSPHRASE_COMMAND`), the MFA process (`awskeep_mfa_process`, `--mfa-process`)
//! and the desktop prompt (zenity, kdialog, osascript, PowerShell).
//!
//! What it promises, whatever the helper does:
//! - **Bounded memory.** It reads the first line of stdout and no more: at most `MAX_LINE` bytes,
//!   and it stops reading at the first newline (a helper that keeps writing, `yes pw`, then gets
//!   SIGPIPE, as under `head -n1`; that is not counted as a failure once its line was read). Of
//!   stderr it keeps `MAX_STDERR` bytes to relay and reads at most `STDERR_DRAIN` in all.
//! - **A deadline.** The helper must answer and exit within its deadline (`Deadlines`: short for
//!   commands, long for a person at a prompt). Past it the helper is killed and the caller gets
//!   `Failure::TimedOut`, for one clear line.
//! - **No waiting on grandchildren.** A helper may leave a background process holding its stdout
//!   or stderr (`daemon &`): once the helper itself has exited, what it wrote is already in the
//!   pipes, so its answer is taken after a short grace and nothing waits for those pipes to close.
//!   The readers of such a pipe are left blocked in their own threads, never joined.
//!
//! It never prints: stderr is handed back to the caller, which relays it (`output::relay`), and the
//! answer is a `Zeroizing` string the caller checks.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// The longest first line a helper may print: a passphrase, an MFA code, an answer typed at a
/// prompt. A longer line is refused, never read on.
pub const MAX_LINE: usize = 4096;
/// How much of a helper's stderr is kept to relay.
const MAX_STDERR: usize = 16 * 1024;
/// How much of a helper's stderr is read in all (the rest discarded) before the pipe is closed.
const STDERR_DRAIN: usize = 1024 * 1024;
/// How long, once the helper has exited, its pipes may take to hand over what it wrote.
const GRACE: Duration = Duration::from_secs(1);
const CHUNK: usize = 1024;
const TICK: Duration = Duration::from_millis(10);

/// How long a helper may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// A command that prints its answer (the passphrase command, the MFA process): 30 s, well
    /// inside the 60 s the Go SDK (Terraform) gives a whole `credential_process`.
    pub command: Duration,
    /// A desktop prompt, which waits for a person: 3 minutes.
    pub prompt: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            command: Duration::from_secs(30),
            prompt: Duration::from_secs(180),
        }
    }
}

impl Deadlines {
    /// The deadlines, or in debug builds `AWSKEEP_TEST_HELPER_DEADLINE` (humantime) for both, so
    /// tests need not wait 30 s; `Context::from_env` passes `None` in release builds.
    pub fn from_debug_override(text: Option<&str>) -> Self {
        match text.and_then(|t| humantime::parse_duration(t).ok()) {
            Some(both) => Self {
                command: both,
                prompt: both,
            },
            None => Self::default(),
        }
    }
}

/// Why a helper gave no answer.
#[derive(Debug)]
pub enum Failure {
    /// It could not be started.
    Start(std::io::Error),
    /// It exited unsuccessfully.
    Exited(ExitStatus),
    /// It printed no answer and did not exit within the deadline; it was killed.
    TimedOut(Duration),
    /// It printed its answer but did not exit within the deadline; it was killed.
    DidNotExit(Duration),
    /// Its first line is longer than `MAX_LINE`.
    TooLong,
    /// Its first line is not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = |d: &Duration| humantime::format_duration(*d);
        match self {
            Self::Start(e) => write!(f, "it could not be started ({e})"),
            Self::Exited(status) => write!(f, "it exited with {status}"),
            Self::TimedOut(d) => write!(f, "it gave no answer within {} and was stopped", secs(d)),
            Self::DidNotExit(d) => write!(
                f,
                "it printed a line but did not exit within {} and was stopped",
                secs(d)
            ),
            Self::TooLong => write!(f, "its first line is longer than {MAX_LINE} bytes"),
            Self::NotUtf8 => write!(f, "its output is not UTF-8"),
        }
    }
}

/// What the helper's stderr is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// Read (bounded) and handed back with the answer, for the caller to relay.
    Capture,
    /// Not read at all (GTK and Qt chatter).
    Discard,
}

/// What a helper said: its first line (without the line ending; empty when it printed nothing)
/// and the stderr it wrote (empty with `Stderr::Discard`).
pub struct Output {
    pub line: Zeroizing<String>,
    pub stderr: Vec<u8>,
}

/// A helper's run that failed, with the stderr it wrote meanwhile (to relay all the same).
pub struct Failed {
    pub failure: Failure,
    pub stderr: Vec<u8>,
}

enum Event {
    Out(Zeroizing<Vec<u8>>),
    OutEnd,
    Err(Vec<u8>),
    ErrEnd,
}

/// Runs `command` with stdin closed and reads its first line of stdout, within `deadline`.
pub fn first_line(
    mut command: Command,
    deadline: Duration,
    stderr: Stderr,
) -> std::result::Result<Output, Failed> {
    let started = Instant::now();
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    command.stderr(match stderr {
        Stderr::Capture => Stdio::piped(),
        Stderr::Discard => Stdio::null(),
    });
    let mut child = command.spawn().map_err(|e| Failed {
        failure: Failure::Start(e),
        stderr: Vec::new(),
    })?;
    let (events, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        let events = events.clone();
        std::thread::spawn(move || read_first_line(out, &events));
    }
    if let Some(err) = child.stderr.take() {
        let events = events.clone();
        std::thread::spawn(move || read_stderr(err, &events));
    }
    drop(events);
    let mut run = Run {
        child,
        rx,
        out: Zeroizing::new(Vec::with_capacity(MAX_LINE + CHUNK)),
        out_done: false,
        err: Vec::new(),
        err_done: stderr == Stderr::Discard,
    };
    run.wait(started + deadline, deadline)
}

struct Run {
    child: Child,
    rx: mpsc::Receiver<Event>,
    out: Zeroizing<Vec<u8>>,
    out_done: bool,
    err: Vec<u8>,
    err_done: bool,
}

impl Run {
    fn wait(&mut self, deadline: Instant, limit: Duration) -> std::result::Result<Output, Failed> {
        let mut exited: Option<(ExitStatus, Instant)> = None;
        loop {
            let answered = self.out_done || self.out.contains(&b'\n') || self.out.len() > MAX_LINE;
            if let Some((status, at)) = exited {
                // Once it has exited, what it wrote is in the pipes: a short grace to take it, and
                // no waiting for a background process that still holds them.
                let settled = answered && self.err_done;
                if settled || at.elapsed() >= GRACE {
                    return self.finish(status, answered);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                // Only the helper itself is killed and reaped; a grandchild holding its pipes is
                // not waited for.
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.take_pending();
                let failure = if answered {
                    Failure::DidNotExit(limit)
                } else {
                    Failure::TimedOut(limit)
                };
                return Err(self.failed(failure));
            }
            match self.rx.recv_timeout(TICK.min(deadline - now)) {
                Ok(event) => self.take(event),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // Both readers are done: only the exit is left to wait for.
                Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(TICK),
            }
            if exited.is_none() {
                match self.child.try_wait() {
                    Ok(Some(status)) => exited = Some((status, Instant::now())),
                    Ok(None) => {}
                    Err(e) => {
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        return Err(self.failed(Failure::Start(e)));
                    }
                }
            }
        }
    }

    fn take(&mut self, event: Event) {
        match event {
            Event::Out(chunk) => {
                // The reader stops past MAX_LINE, so this stays within the capacity reserved
                // up front (no reallocation leaves a copy of a secret behind).
                let room = (MAX_LINE + CHUNK).saturating_sub(self.out.len());
                self.out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Event::OutEnd => self.out_done = true,
            Event::Err(chunk) => {
                let room = MAX_STDERR.saturating_sub(self.err.len());
                self.err.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Event::ErrEnd => self.err_done = true,
        }
    }

    fn take_pending(&mut self) {
        while let Ok(event) = self.rx.try_recv() {
            self.take(event);
        }
    }

    fn failed(&mut self, failure: Failure) -> Failed {
        Failed {
            failure,
            stderr: std::mem::take(&mut self.err),
        }
    }

    fn finish(
        &mut self,
        status: ExitStatus,
        answered: bool,
    ) -> std::result::Result<Output, Failed> {
        self.take_pending();
        // Ended by the closed pipe after its line was read: as `head -n1` would have ended it.
        let cut_short = answered && stopped_by_closed_stdout(status);
        if !status.success() && !cut_short {
            return Err(self.failed(Failure::Exited(status)));
        }
        let end = self
            .out
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(self.out.len());
        if end > MAX_LINE {
            return Err(self.failed(Failure::TooLong));
        }
        let line = &self.out[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(text) = std::str::from_utf8(line) else {
            return Err(self.failed(Failure::NotUtf8));
        };
        Ok(Output {
            line: Zeroizing::new(text.to_string()),
            stderr: std::mem::take(&mut self.err),
        })
    }
}

/// Whether the helper ended because it wrote on after its first line, which was read and the
/// pipe closed: SIGPIPE, or a shell's 128+13 for a command it ran that SIGPIPE ended.
#[cfg(unix)]
fn stopped_by_closed_stdout(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    const SIGPIPE: i32 = 13;
    status.signal() == Some(SIGPIPE) || status.code() == Some(128 + SIGPIPE)
}

#[cfg(not(unix))]
fn stopped_by_closed_stdout(_: ExitStatus) -> bool {
    false
}

/// Reads stdout up to its first newline (or `MAX_LINE` bytes), then closes it.
fn read_first_line(mut out: impl Read, events: &mpsc::Sender<Event>) {
    let mut buf = Zeroizing::new([0u8; CHUNK]);
    let mut total = 0;
    loop {
        let n = match out.read(&mut buf[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n;
        if events
            .send(Event::Out(Zeroizing::new(buf[..n].to_vec())))
            .is_err()
        {
            return;
        }
        if buf[..n].contains(&b'\n') || total > MAX_LINE {
            return;
        }
    }
    let _ = events.send(Event::OutEnd);
}

/// Reads stderr up to `STDERR_DRAIN` bytes, handing each chunk over.
fn read_stderr(mut err: impl Read, events: &mpsc::Sender<Event>) {
    let mut buf = [0u8; CHUNK];
    let mut total = 0;
    while total < STDERR_DRAIN {
        let n = match err.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n;
        if total <= MAX_STDERR + CHUNK && events.send(Event::Err(buf[..n].to_vec())).is_err() {
            return;
        }
    }
    let _ = events.send(Event::ErrEnd);
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        shell_command(script)
    }

    fn line(script: &str, limit: Duration) -> std::result::Result<String, String> {
        first_line(sh(script), limit, Stderr::Capture)
            .map(|o| o.line.to_string())
            .map_err(|f| f.failure.to_string())
    }

    #[test]
    fn the_first_line_is_the_answer_and_the_rest_is_not_read() {
        let limit = Duration::from_secs(20);
        assert_eq!(line("printf 'pw\\nmore\\n'", limit), Ok("pw".into()));
        assert_eq!(line("printf 'pw\\r\\n'", limit), Ok("pw".into()));
        assert_eq!(line("printf pw", limit), Ok("pw".into()));
        assert_eq!(line("true", limit), Ok(String::new()));
        let started = Instant::now();
        assert_eq!(
            line("yes pw", limit),
            Ok("pw".into()),
            "SIGPIPE after the line"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            line("echo pw; exit 3", limit)
                .unwrap_err()
                .contains("exited")
        );
        let long = format!("printf '%0{}d\\n' 0", MAX_LINE + 1);
        assert!(line(&long, limit).unwrap_err().contains("longer than"));
        let exact = format!("printf '%0{MAX_LINE}d\\n' 0");
        assert_eq!(line(&exact, limit).map(|l| l.len()), Ok(MAX_LINE));
    }

    #[test]
    fn a_background_process_holding_the_pipes_is_not_waited_for() {
        let started = Instant::now();
        let out = first_line(
            sh("sleep 30 & echo oops >&2; printf pw"),
            Duration::from_secs(20),
            Stderr::Capture,
        )
        .map_err(|f| f.failure.to_string())
        .unwrap();
        assert_eq!(out.line.as_str(), "pw");
        assert_eq!(out.stderr, b"oops\n");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_helper_past_its_deadline_is_stopped() {
        let started = Instant::now();
        let err = line("sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("no answer within 300ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let err = line("echo pw; sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("did not exit"), "{err}");
    }
}

/// `sh -c COMMAND` on Unix. On Windows `cmd.exe /C "COMMAND"` with the command line passed verbatim
/// (as the Rust SDK runs credential_process): the C-runtime escaping a normal argument gets turns
/// quotes into `\"`, which cmd does not understand, so a quoted `C:\Program Files\...` path would
/// break. No `/bin/sh` is needed on Windows.
#[cfg(not(windows))]
pub fn shell_command(command: &str) -> Command {
    let mut shell = Command::new("sh");
    shell.args(["-c", command]);
    shell
}

#[cfg(windows)]
pub fn shell_command(command: &str) -> Command {
    use std::os::windows::process::CommandExt;
    let mut shell = Command::new("cmd.exe");
    shell.arg("/C").raw_arg(format!("\"{command}\""));
    shell
}
