//! The integration-test harness. Every test runs the real `awskeep` binary in a fresh temp root with
//! its own HOME, XDG dirs, AWS config files, private D-Bus session bus and unlocked gnome-keyring, and
//! every other `AWS_*` variable cleared. IAM and STS are the moto server `scripts/test` started on
//! 127.0.0.1 (auth enforced); the clients are the real AWS CLI, boto3, JS SDK v3 and Rust SDK, and
//! for the client matrix the Go SDK v1 and v2, Ruby, the CRT and PHP's provider (clients.rs).

pub mod clients;
pub mod expect;
pub mod moto;
pub mod private_moto;
pub mod wine;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use moto::{Moto, TestKey};

pub const KEYRING_PASSWORD: &str = "awskeep-test-keyring";

/// Fails loudly, naming the command to use, when a test needs what `scripts/test` provides.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests with `scripts/test`, which starts moto and installs the clients")
    })
}

pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub home: PathBuf,
    bus_address: String,
    bus: Option<Child>,
    /// AWS_ENDPOINT_URL for this test's processes, when not the shared moto.
    endpoint: std::cell::RefCell<Option<String>>,
    /// Whether this test's processes run without AWS_REGION and AWS_DEFAULT_REGION.
    no_region: std::cell::Cell<bool>,
    /// How many `dbus_calls` logs this test wrote.
    monitors: std::cell::Cell<u32>,
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.status.success(),
            "expected success, got {:?}\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Fails with `code`, printing exactly one line on stderr that contains `needle`.
    #[track_caller]
    pub fn assert_fails(&self, code: i32, needle: &str) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line on stderr: {}",
            self.stderr
        );
        assert!(self.stdout.is_empty(), "nothing on stdout: {}", self.stdout);
        self
    }
}

impl TestEnv {
    /// A temp root with a running, unlocked Secret Service.
    pub fn new() -> Self {
        let mut env = Self::without_keyring();
        env.start_keyring();
        env
    }

    /// A temp root whose gnome-keyring was started a moment ago: `gnome-keyring-daemon --unlock`
    /// has returned, and nothing waited for the daemon to take its bus name or to make its login
    /// keyring, as a script that starts the keyring and then runs awskeep at once sees it.
    pub fn keyring_just_started() -> Self {
        let mut env = Self::without_keyring();
        env.start_bus_and_daemon();
        env
    }

    /// A temp root with no session bus at all, as on a headless server.
    pub fn without_keyring() -> Self {
        let root = tempfile::Builder::new()
            .prefix("awskeep-it.")
            .tempdir_in("/tmp")
            .expect("temp root");
        let home = root.path().join("home");
        for dir in ["home", "data", "cache", "config", "run"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("temp dirs");
        }
        set_mode(&root.path().join("run"), 0o700);
        let bus_address = format!("unix:path={}", root.path().join("run/bus").display());
        Self {
            root,
            home,
            bus_address,
            bus: None,
            endpoint: Default::default(),
            no_region: Default::default(),
            monitors: Default::default(),
        }
    }

    /// Starts a session bus and an unlocked gnome-keyring. Now and then (seen under CI load) the
    /// daemon comes up without creating the login keyring, leaving no `default` collection for
    /// good; that start is thrown away and made again from scratch.
    fn start_keyring(&mut self) {
        // Up to 5 starts of up to 15 s each: on a loaded 2-core machine the daemon can take a while.
        for _attempt in 0..5 {
            self.start_bus_and_daemon();
            if self.wait_for_login_keyring(Duration::from_secs(15)) {
                return;
            }
            self.stop_bus();
            std::thread::sleep(Duration::from_millis(200));
            let _ = std::fs::remove_dir_all(self.path("data/keyrings"));
            let _ = std::fs::remove_dir_all(self.path("run/keyring"));
        }
        panic!("gnome-keyring never created its login keyring in 5 attempts");
    }

    fn stop_bus(&mut self) {
        // gnome-keyring-daemon exits when its bus goes away.
        if let Some(mut bus) = self.bus.take() {
            let _ = bus.kill();
            let _ = bus.wait();
        }
    }

    fn start_bus_and_daemon(&mut self) {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--address={}", self.bus_address))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (install dbus-daemon, or run scripts/test)");
        let mut first_line = String::new();
        BufReader::new(bus.stdout.take().expect("bus stdout"))
            .read_line(&mut first_line)
            .expect("dbus-daemon address");
        assert!(
            first_line.starts_with("unix:"),
            "dbus-daemon did not start: {first_line:?}"
        );
        // scripts/test stops, by PID, any bus a crashed test leaves behind (and no other program's).
        if let Ok(records) = std::env::var("AWSKEEP_TEST_DAEMON_RECORDS") {
            let _ = std::fs::write(
                Path::new(&records).join(bus.id().to_string()),
                &self.bus_address,
            );
        }
        self.bus = Some(bus);
        let mut keyring = self
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (install gnome-keyring, or run scripts/test)");
        keyring
            .stdin
            .take()
            .expect("keyring stdin")
            .write_all(KEYRING_PASSWORD.as_bytes())
            .expect("unlock password");
        // The daemon forks; the parent exits once the secrets component is up.
        assert!(
            keyring.wait().expect("keyring start").success(),
            "gnome-keyring-daemon failed"
        );
    }

    /// gnome-keyring creates the login keyring and points the `default` alias at it a moment after
    /// the daemon answers; under load a store write can land in between and find no default
    /// collection (a CI run caught that). Wait until the alias names the login keyring.
    fn wait_for_login_keyring(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let output = self
                .command("dbus-send")
                .args([
                    "--session",
                    "--dest=org.freedesktop.secrets",
                    "--type=method_call",
                    "--print-reply",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.ReadAlias",
                    "string:default",
                ])
                .output()
                .expect("dbus-send");
            let reply = String::from_utf8_lossy(&output.stdout);
            if output.status.success() && reply.contains("/collection/login") {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Points every later process of this test at `url` instead of the shared moto.
    pub fn use_endpoint(&self, url: &str) {
        *self.endpoint.borrow_mut() = Some(url.to_string());
    }

    /// Runs every later process of this test without AWS_REGION and AWS_DEFAULT_REGION, as a shell
    /// that never set them.
    pub fn without_region(&self) {
        self.no_region.set(true);
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.join(".aws/config")
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.home.join(".aws/credentials")
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.home.join(".aws")).unwrap();
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::create_dir_all(self.home.join(".aws")).unwrap();
        std::fs::write(self.credentials_path(), text).unwrap();
    }

    /// The clean environment every process of this test gets.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("LANG".into(), "C.UTF-8".into()),
            ("HOME".into(), self.home.display().to_string()),
            (
                "XDG_DATA_HOME".into(),
                self.path("data").display().to_string(),
            ),
            (
                "XDG_CACHE_HOME".into(),
                self.path("cache").display().to_string(),
            ),
            (
                "XDG_CONFIG_HOME".into(),
                self.path("config").display().to_string(),
            ),
            (
                "XDG_RUNTIME_DIR".into(),
                self.path("run").display().to_string(),
            ),
            (
                "AWS_CONFIG_FILE".into(),
                self.config_path().display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                self.credentials_path().display().to_string(),
            ),
            // No SDK may fall back to the EC2 metadata service: traffic stays on 127.0.0.1.
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ];
        if !self.no_region.get() {
            vars.push(("AWS_REGION".into(), "us-east-1".into()));
            vars.push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
        }
        if self.bus.is_some() {
            vars.push(("DBUS_SESSION_BUS_ADDRESS".into(), self.bus_address.clone()));
        }
        if let Some(url) = self
            .endpoint
            .borrow()
            .clone()
            .or_else(|| std::env::var("AWSKEEP_TEST_MOTO_URL").ok())
        {
            vars.push(("AWS_ENDPOINT_URL".into(), url));
        }
        vars
    }

    /// `program` with the clean environment and the temp root as working directory.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(self.vars())
            .current_dir(self.root.path());
        command
    }

    pub fn awskeep(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_awskeep"))
    }

    /// Runs awskeep with `args`, feeding `stdin` (and closing it).
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = self.awskeep();
        command.args(args);
        run_with_stdin(command, stdin)
    }

    /// Adds `profile` with `key` through stdin, as `awskeep add` from a script would.
    pub fn add(&self, profile: &str, key: &TestKey, extra: &[&str]) -> Run {
        let mut args = vec!["add", profile];
        args.extend_from_slice(extra);
        self.run(&args, &format!("{}\n{}\n", key.id, key.secret))
    }

    /// Appends `text` to ~/.aws/config (a setting lands in the last profile's section).
    pub fn append_config(&self, text: &str) {
        let mut config = self.read_config();
        config.push_str(text);
        self.write_config(&config);
    }

    /// This test's session bus address, as the awskeep it runs is given it.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// The PID of the process that owns `org.freedesktop.secrets` on this test's bus.
    pub fn secret_service_pid(&self) -> u32 {
        let output = self
            .command("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.DBus",
                "--print-reply",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .expect("dbus-send");
        let text = String::from_utf8_lossy(&output.stdout);
        text.split_whitespace()
            .skip_while(|w| *w != "uint32")
            .nth(1)
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no PID for the Secret Service: {text}"))
    }

    /// Locks the login collection over the session bus, as the screen locker does.
    pub fn lock_keyring(&self) {
        let status = self
            .command("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("dbus-send");
        assert!(status.success(), "locking the keyring failed");
    }

    /// What `secret-tool` (libsecret's client) finds for the profile's awskeep item.
    pub fn secret_tool_lookup(&self, profile: &str) -> Option<String> {
        let output = self
            .command("secret-tool")
            .args(["lookup", "service", "awskeep", "username", profile])
            .output()
            .expect("secret-tool");
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Deletes the profile's item behind awskeep's back, as a user might in Seahorse.
    pub fn secret_tool_clear(&self, profile: &str) {
        let status = self
            .command("secret-tool")
            .args(["clear", "service", "awskeep", "username", profile])
            .status()
            .expect("secret-tool");
        assert!(status.success());
    }

    /// Runs `f` while `dbus-monitor` watches this test's bus (as scripts/bench counts them):
    /// `f`'s result and the D-Bus method calls made meanwhile.
    pub fn dbus_calls<T>(&self, f: impl FnOnce() -> T) -> (T, usize) {
        let log = self.path(&format!("run/monitor-{}.log", self.monitors.get()));
        self.monitors.set(self.monitors.get() + 1);
        self.dbus_calls_logged(&log, f)
    }

    /// `dbus_calls`, keeping dbus-monitor's log at `log` for the test to read.
    pub fn dbus_calls_logged<T>(&self, log: &Path, f: impl FnOnce() -> T) -> (T, usize) {
        let log = log.to_path_buf();
        let mut monitor = self
            .command("dbus-monitor")
            .args(["--session", "type='method_call'"])
            .stdout(std::fs::File::create(&log).expect("monitor log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (install dbus)");
        // dbus-monitor prints its own NameAcquired signal once it watches; wait for that.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&log).map_or(true, |t| t.is_empty()) {
            assert!(Instant::now() < deadline, "dbus-monitor never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        let value = f();
        std::thread::sleep(Duration::from_millis(300));
        let _ = monitor.kill();
        let _ = monitor.wait();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (
            value,
            text.lines()
                .filter(|l| l.starts_with("method call"))
                .count(),
        )
    }

    /// Every file under the temp root whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        scan(self.root.path(), needle.as_bytes(), &mut found);
        found
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.stop_bus();
    }
}

fn scan(dir: &Path, needle: &[u8], found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            scan(&path, needle, found);
        } else if kind.is_file()
            && let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(path);
        }
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// One raw HTTP/1.1 GET of `path` from `address` (host:port), with `authorization` as its
/// Authorization header when given; returns (status, body).
pub fn http_get(address: &str, path: &str, authorization: Option<&str>) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n");
    if let Some(token) = authorization {
        request.push_str(&format!("Authorization: {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

/// Runs `command` with `stdin` written and closed; fails the test after 60 s instead of hanging.
pub fn run_with_stdin(mut command: Command, stdin: &str) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let output = wait_for(child, Duration::from_secs(60));
    let _ = writer.join();
    output
}

/// Waits for `child`, collecting its output; kills it and fails the test past `limit`.
pub fn wait_for(mut child: Child, limit: Duration) -> Run {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Makes sure the system user `name` exists (useradd, no home), for tests that check what another
/// uid can reach. It needs root: a test that calls it fails, loudly, when not run as root (CI runs
/// the tests as root), rather than passing without checking anything.
pub fn ensure_user(name: &str) {
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    assert!(
        is_root,
        "this test creates the users awskeep-owner and awskeep-other and switches to them: run it as root (CI does)"
    );
    // Tests run in parallel: another may be adding the same user (useradd then fails on its lock).
    for _ in 0..50 {
        let exists = Command::new("id")
            .arg("-u")
            .arg(name)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("id")
            .success();
        if exists {
            return;
        }
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/bin/sh", name])
            .status();
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("could not create the user {name} with useradd");
}

/// A shell script, run by root in a new session keyring as a login of its own would have one:
/// tries, as the user `other`, entered with `su` without `-l` (Debian's and Ubuntu's su runs no
/// pam_keyinit, so the session keyring is inherited), to view, find and read the key with the ID in
/// `$entry` and description `$name`. Prints `OTHER SESSION <id>` (the session keyring `other` is
/// in) and, for each attempt that succeeded, `OTHER COULD <what>`.
pub const OTHER_USER_TRIES: &str = r#"
other_tries() {
    echo "OTHER SESSION $(su "$other" -s /bin/sh -c 'keyctl id @s')"
    for try in "print $entry" "read $entry" "pipe $entry" "describe $entry" "search @s user $name"; do
        if out=$(su "$other" -s /bin/sh -c "keyctl $try" 2>&1); then
            echo "OTHER COULD $try: $out"
        else
            echo "other refused $try: $out"
        fi
    done
}
"#;

/// For a test (or the part of one) that only root can run: `true` as root. Otherwise it fails,
/// naming what it could not check, unless `AWSKEEP_TEST_SKIP_ROOT=1` says the skip is meant; then
/// it prints the skip on stderr and returns `false`. CI runs as root: nothing is skipped there.
#[cfg(unix)]
#[track_caller]
#[allow(
    clippy::print_stderr,
    reason = "the skip must be seen in the test's output"
)]
pub fn root_or_skip(what: &str) -> bool {
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if root {
        return true;
    }
    assert!(
        std::env::var_os("AWSKEEP_TEST_SKIP_ROOT").is_some_and(|v| v == "1"),
        "not root: cannot check that {what}; run the tests as root, or set AWSKEEP_TEST_SKIP_ROOT=1 to skip this knowingly"
    );
    eprintln!("SKIPPED (not root, AWSKEEP_TEST_SKIP_ROOT=1): {what}");
    false
}
