//! Where an MFA code comes from, in order: a command that prints it (`--mfa-process`, then the
//! profile's `awskeep_mfa_process`, e.g. `ykman oath accounts code -s NAME`), else the terminal
//! (`/dev/tty`; never stdin or stdout, which belong to the calling SDK), else a clear error.

use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::profile_name::ProfileName;
use crate::prompt;

/// Where the code came from: a terminal may be asked again after a wrong code; a command may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    Process,
    Terminal,
}

pub fn read_code(
    profile: &ProfileName,
    serial: &str,
    process: Option<&str>,
) -> Result<(Zeroizing<String>, CodeSource)> {
    if let Some(command) = process {
        return run_process(command).map(|code| (code, CodeSource::Process));
    }
    let answer = prompt::ask_line(&format!("MFA code for {serial} (profile {profile}): "))
        .map_err(|_| Error::MfaNoInput {
            profile: profile.to_string(),
        })?;
    let code = Zeroizing::new(answer.trim().to_string());
    check(&code).map_err(|reason| Error::MfaRejected {
        message: format!(" ({reason})"),
    })?;
    Ok((code, CodeSource::Terminal))
}

fn run_process(command: &str) -> Result<Zeroizing<String>> {
    let failed = |reason: String| Error::MfaProcess {
        command: command.to_string(),
        reason,
    };
    // Its stderr goes where ours goes (shown by the SDKs on failure); its stdout is the code.
    let output = shell_command(command)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        return Err(failed(format!("it exited with {}", output.status)));
    }
    let code = Zeroizing::new(String::from_utf8_lossy(&output.stdout).trim().to_string());
    check(&code).map_err(|reason| failed(reason.to_string()))?;
    Ok(code)
}

/// `sh -c COMMAND` on Unix. On Windows `cmd.exe /C "COMMAND"` with the command line passed verbatim
/// (as the Rust SDK runs credential_process): the C-runtime escaping a normal argument gets turns
/// quotes into `\"`, which cmd does not understand, so a quoted `C:\Program Files\...` path would
/// break. No `/bin/sh` is needed on Windows.
#[cfg(not(windows))]
pub(crate) fn shell_command(command: &str) -> Command {
    let mut shell = Command::new("sh");
    shell.args(["-c", command]);
    shell
}

#[cfg(windows)]
pub(crate) fn shell_command(command: &str) -> Command {
    use std::os::windows::process::CommandExt;
    let mut shell = Command::new("cmd.exe");
    shell.arg("/C").raw_arg(format!("\"{command}\""));
    shell
}

fn check(code: &str) -> std::result::Result<(), &'static str> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("an MFA code is 6 digits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_prints_the_code() {
        let profile = ProfileName::parse("dev").unwrap();
        let (code, source) = read_code(&profile, "arn", Some("echo ' 123456 '")).unwrap();
        assert_eq!(code.as_str(), "123456");
        assert_eq!(source, CodeSource::Process);
        assert!(matches!(
            read_code(&profile, "arn", Some("echo nope")),
            Err(Error::MfaProcess { .. })
        ));
        assert!(matches!(
            read_code(&profile, "arn", Some("exit 3")),
            Err(Error::MfaProcess { .. })
        ));
    }
}
