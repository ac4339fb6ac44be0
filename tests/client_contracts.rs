//! The clients that cannot run on this machine (the AWS CLI v2, the Java, .NET and C++ SDKs), each as
//! a transcription of how its source runs the credential_process line on Unix and which JSON it
//! accepts, applied to what the real binary prints through the line `awskeep add` wrote, for a
//! long-term key and for a session. Windows: `process_line::windows_clients` (unit tests) and
//! tests/windows.rs (Wine). docs/CLIENTS.md names each source.

use crate::common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::private_moto::PrivateMoto;
use common::{TestEnv, run_with_stdin};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

/// The credential_process line awskeep wrote for `profile`.
fn line_of(env: &TestEnv, profile: &str) -> String {
    let config = env.read_config();
    let section = config
        .split(&format!("[profile {profile}]"))
        .nth(1)
        .unwrap_or_else(|| panic!("no [profile {profile}]: {config}"));
    section
        .lines()
        .find_map(|l| l.strip_prefix("credential_process = "))
        .unwrap_or_else(|| panic!("no credential_process: {config}"))
        .to_string()
}

/// A key profile `key` and a session profile `session` (a private moto), awskeep installed under a
/// folder that needs quoting, so the transcribed splitting rules meet a quoted line.
fn profiles() -> (TestEnv, PrivateMoto) {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    let folder = env.path("Program Files (x86)/it's");
    std::fs::create_dir_all(&folder).unwrap();
    let installed = folder.join("awskeep");
    std::fs::copy(env!("CARGO_BIN_EXE_awskeep"), &installed).unwrap();
    for (profile, extra) in [("key", &[][..]), ("session", &["--session", "on"][..])] {
        let mut add = env.command(&installed);
        add.args(["add", profile, "--no-verify"]).args(extra);
        run_with_stdin(add, KEY).assert_ok();
    }
    (env, moto)
}

/// Runs `program args` as the client would, stdin a pipe it never closes (Java's and Node's
/// `ProcessBuilder`/`exec` give one), and returns stdout; fails the test on a hang.
fn run_like_a_client(env: &TestEnv, program: &str, args: &[&str]) -> (bool, Vec<u8>) {
    let mut command: Command = env.command(program);
    command
        .args(args)
        .current_dir(env.root.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let _stdin_held_open = child.stdin.take();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{program} {args:?} hung with stdin left open");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    (status.success(), out)
}

/// ISO 8601 / RFC 3339 as Java's `DateUtils.parseIso8601Date`, .NET's `DateTime` and the C++ SDK's
/// `DateTime(..., ISO_8601)` accept what awskeep prints: `YYYY-MM-DDTHH:MM:SSZ`.
fn iso8601_utc(text: &str) -> bool {
    text.len() == 20 && text.ends_with('Z') && humantime::parse_rfc3339(text).is_ok()
}

/// Java SDK v2 `ProcessCredentialsProvider` (aws-sdk-java-v2 @0877259): `ProcessBuilder("sh", "-c",
/// line)`; stdout read to at most 64 000 bytes; `Version` must be the number 1 (`asNumber()` equal to
/// "1", so `1.0` fails); `AccessKeyId` and `SecretAccessKey` non-empty; `SessionToken` and
/// `Expiration` (`DateUtils.parseIso8601Date`) when present.
fn java_accepts(stdout: &[u8]) -> Result<(), String> {
    if stdout.len() > 64_000 {
        return Err("more than 64 000 bytes".into());
    }
    let json: serde_json::Value = serde_json::from_slice(stdout).map_err(|e| e.to_string())?;
    let version = json.get("Version").ok_or("no Version")?;
    // `1.0` is a float to serde_json as to Java's `asNumber()`: only the integer 1 passes.
    if version.as_u64() != Some(1) {
        return Err(format!("Version {version}"));
    }
    for field in ["AccessKeyId", "SecretAccessKey"] {
        if json[field].as_str().is_none_or(str::is_empty) {
            return Err(format!("{field} missing or empty"));
        }
    }
    match json.get("Expiration") {
        None => Ok(()),
        Some(e) if e.as_str().is_some_and(iso8601_utc) => Ok(()),
        Some(e) => Err(format!("Expiration {e}")),
    }
}

/// .NET `ProcessAWSCredentials` / `ProcessCredentialVersion1` (aws-sdk-net @173ae69): `Version` read
/// with `GetInt32` (must be 1); `AccessKeyId`, `SecretAccessKey` `[JsonProperty(Required)]`;
/// `Expiration` a System.Text.Json `DateTime` (missing: `DateTime.MaxValue`).
fn dotnet_accepts(stdout: &[u8]) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_slice(stdout).map_err(|e| e.to_string())?;
    if json["Version"].as_i64() != Some(1) {
        return Err(format!("Version {}", json["Version"]));
    }
    for field in ["AccessKeyId", "SecretAccessKey"] {
        if !json[field].is_string() {
            return Err(format!("{field} missing"));
        }
    }
    match json.get("Expiration") {
        None => Ok(()),
        Some(e) if e.as_str().is_some_and(iso8601_utc) => Ok(()),
        Some(e) => Err(format!("Expiration {e}")),
    }
}

/// .NET on Unix runs `sh` with `Arguments = "-c \"" + escaped + "\""`, `\` and `"` escaped with a
/// backslash (`ProcessAWSCredentials.cs`); the runtime splits that string back into argv by the
/// MSVC rules (`ParseArgumentsIntoList`). What `sh` receives as its script must be the line itself.
fn dotnet_unix_argv(line: &str) -> Vec<String> {
    let escaped = line.replace('\\', "\\\\").replace('"', "\\\"");
    msvc_split(&format!("-c \"{escaped}\""))
}

/// The MSVC / .NET argument rules: 2n backslashes and a quote give n backslashes and toggle quoting;
/// 2n+1 give n backslashes and a literal quote; other backslashes are literal.
fn msvc_split(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut arg = String::new();
    let (mut quoted, mut in_arg) = (false, false);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let run = chars[i..].iter().take_while(|&&c| c == '\\').count();
            in_arg = true;
            if chars.get(i + run) == Some(&'"') {
                arg.extend(std::iter::repeat_n('\\', run / 2));
                if run % 2 == 1 {
                    arg.push('"');
                } else {
                    quoted = !quoted;
                }
                i += run + 1;
            } else {
                arg.extend(std::iter::repeat_n('\\', run));
                i += run;
            }
            continue;
        }
        match c {
            '"' => {
                quoted = !quoted;
                in_arg = true;
            }
            ' ' | '\t' if !quoted => {
                if in_arg {
                    args.push(std::mem::take(&mut arg));
                    in_arg = false;
                }
            }
            c => {
                arg.push(c);
                in_arg = true;
            }
        }
        i += 1;
    }
    if in_arg {
        args.push(arg);
    }
    args
}

/// The C++ SDK `GetCredentialsFromProcess` (aws-sdk-cpp `AWSCredentialsProvider.cpp`):
/// `popen(line + " 2>&1")`, the whole output parsed as the JSON; `Version` must be the integer 1;
/// `Expiration` ISO 8601 (a bad one marks the credentials expired).
fn cpp_accepts(merged: &[u8]) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_slice(merged)
        .map_err(|e| format!("stdout+stderr is not one JSON document: {e}"))?;
    if json["Version"].as_i64() != Some(1) {
        return Err(format!("Version {}", json["Version"]));
    }
    match json.get("Expiration") {
        None => Ok(()),
        Some(e) if e.as_str().is_some_and(iso8601_utc) => Ok(()),
        Some(e) => Err(format!("Expiration {e}")),
    }
}

#[test]
fn java_runs_the_line_with_sh_and_accepts_the_json() {
    let (env, _moto) = profiles();
    for profile in ["key", "session"] {
        let line = line_of(&env, profile);
        let (ok, stdout) = run_like_a_client(&env, "sh", &["-c", &line]);
        assert!(ok, "{profile}: {line}");
        java_accepts(&stdout).unwrap_or_else(|e| panic!("{profile}: Java refuses: {e}"));
    }
}

#[test]
fn dotnet_hands_sh_the_line_intact_and_accepts_the_json() {
    let (env, _moto) = profiles();
    for profile in ["key", "session"] {
        let line = line_of(&env, profile);
        let argv = dotnet_unix_argv(&line);
        assert_eq!(argv, vec!["-c".to_string(), line.clone()], "{profile}");
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (ok, stdout) = run_like_a_client(&env, "sh", &args);
        assert!(ok, "{profile}: {line}");
        dotnet_accepts(&stdout).unwrap_or_else(|e| panic!("{profile}: .NET refuses: {e}"));
    }
}

#[test]
fn the_cpp_sdk_reads_stdout_and_stderr_merged_as_the_json() {
    let (env, _moto) = profiles();
    for profile in ["key", "session"] {
        let line = line_of(&env, profile);
        // setsid: no controlling terminal, as under an IDE; popen runs `sh -c LINE 2>&1`.
        let merged = format!("{line} 2>&1");
        let (ok, out) = run_like_a_client(&env, "setsid", &["-w", "sh", "-c", &merged]);
        assert!(ok, "{profile}: {line}");
        cpp_accepts(&out).unwrap_or_else(|e| {
            panic!(
                "{profile}: C++ refuses: {e}: {}",
                String::from_utf8_lossy(&out)
            )
        });
    }
}

/// The AWS CLI v2 bundles botocore's `ProcessProvider` (awscli v2 `awscli/botocore/credentials.py`):
/// `compat_shell_split` then argv without a shell, with the bundle's `LD_LIBRARY_PATH` undone. The
/// venv's botocore is that code: its split of the line must be the program and its arguments.
#[test]
fn the_cli_v2s_botocore_splits_the_line_into_the_program_and_its_arguments() {
    let (env, _moto) = profiles();
    let line = line_of(&env, "key");
    let mut python = env.command(common::clients::venv_bin("python"));
    python.args([
        "-c",
        "import json, sys\nfrom botocore.compat import compat_shell_split\nprint(json.dumps(compat_shell_split(sys.argv[1])))",
        &line,
    ]);
    let run = run_with_stdin(python, "");
    run.assert_ok();
    let argv: Vec<String> = serde_json::from_str(&run.stdout).unwrap();
    let installed = env.path("Program Files (x86)/it's/awskeep");
    assert_eq!(
        argv,
        vec![
            installed.display().to_string(),
            "credential-process".into(),
            "--profile".into(),
            "key".into()
        ]
    );
}

#[test]
fn the_transcribed_rules_refuse_what_those_clients_refuse() {
    assert!(java_accepts(br#"{"Version":1.0,"AccessKeyId":"a","SecretAccessKey":"b"}"#).is_err());
    assert!(java_accepts(br#"{"Version":1,"AccessKeyId":"","SecretAccessKey":"b"}"#).is_err());
    assert!(
        java_accepts(br#"{"Version":1,"AccessKeyId":"a","SecretAccessKey":"b","Expiration":""}"#)
            .is_err()
    );
    assert!(dotnet_accepts(br#"{"Version":"1","AccessKeyId":"a","SecretAccessKey":"b"}"#).is_err());
    assert!(cpp_accepts(b"awskeep: a note\n{\"Version\":1}").is_err());
    assert_eq!(
        msvc_split(r#"-c "a \"b\" c\\\\d""#),
        vec!["-c", r#"a "b" c\\\\d"#]
    );
}
