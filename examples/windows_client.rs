//! A credential_process line run as one Windows AWS client runs it, for the Wine tests:
//! `windows_client CLIENT LINE` hands cmd.exe exactly the command line that client builds
//! (`awskeep::process_line::windows_clients`: .NET/C++/CRT `cmd-unwrapped`, `node`, `go`, Rust/Java
//! `cmd-wrapped`), lets cmd's own quote rule decide, and exits with cmd's exit code (stdout and
//! stderr are cmd's).
#![allow(clippy::print_stderr)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client, line] = args.as_slice() else {
        eprintln!("usage: windows_client cmd-unwrapped|node|go|cmd-wrapped LINE");
        std::process::exit(2);
    };
    use awskeep::process_line::windows_clients::WindowsClient;
    let client = match client.as_str() {
        "cmd-unwrapped" => WindowsClient::CmdUnwrapped,
        "node" => WindowsClient::Node,
        "go" => WindowsClient::Go,
        "cmd-wrapped" => WindowsClient::CmdWrapped,
        other => {
            eprintln!("windows_client: unknown client {other}");
            std::process::exit(2);
        }
    };
    std::process::exit(run(client, line));
}

#[cfg(windows)]
fn run(client: awskeep::process_line::windows_clients::WindowsClient, line: &str) -> i32 {
    use std::os::windows::process::CommandExt;
    let (rest, slash_s) = awskeep::process_line::windows_clients::after_slash_c(client, line);
    let mut cmd = std::process::Command::new("cmd.exe");
    cmd.raw_arg(if slash_s { "/d /s /c" } else { "/c" })
        .raw_arg(rest);
    match cmd.status() {
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => {
            eprintln!("windows_client: {e}");
            1
        }
    }
}

#[cfg(not(windows))]
fn run(_: awskeep::process_line::windows_clients::WindowsClient, _: &str) -> i32 {
    eprintln!("windows_client: runs only on Windows (tests/windows.rs runs it under Wine)");
    2
}
