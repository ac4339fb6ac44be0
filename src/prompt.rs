//! Questions and key entry on the controlling terminal (`/dev/tty`; the console's `CONIN$` and
//! `CONOUT$` on Windows), never on stdin or stdout: stdout
//! belongs to machine output, and stdin may be a pipe (the AWS SDKs give credential_process one).
//! A question that cannot be asked is an error naming the flag that answers it, never a hang.

use std::io::{BufRead, BufReader, Write};

use crate::error::{Error, Result};

/// Asks a yes/no question whose safe answer is no. `assume_yes` is the flag's answer.
pub fn confirm(
    question: &str,
    assume_yes: bool,
    flag: &'static str,
    stdin_is_terminal: bool,
) -> Result<()> {
    if assume_yes {
        return Ok(());
    }
    if !stdin_is_terminal {
        return Err(Error::NeedsAnswer {
            question: question.to_string(),
            flag,
        });
    }
    let answer = ask_line(&format!("{question} [y/N] ")).map_err(|_| Error::NeedsAnswer {
        question: question.to_string(),
        flag,
    })?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Cancelled)
    }
}

/// Whether there is a terminal to ask on (`/dev/tty` opens; on Windows, the console).
pub fn terminal_available() -> bool {
    open_terminal().is_ok()
}

/// Prints `prompt` on the terminal and reads one echoed line from it.
pub fn ask_line(prompt: &str) -> Result<String> {
    let (input, mut output) = open_terminal()?;
    output
        .write_all(prompt.as_bytes())
        .and_then(|()| output.flush())
        .map_err(Error::Terminal)?;
    let mut line = String::new();
    BufReader::new(input)
        .read_line(&mut line)
        .map_err(Error::Terminal)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Reads a line from the terminal without echo; the result is zeroized when dropped.
pub fn ask_hidden(prompt: &str) -> Result<zeroize::Zeroizing<String>> {
    rpassword::prompt_password(prompt)
        .map(zeroize::Zeroizing::new)
        .map_err(Error::Terminal)
}

/// Shows `message` (one line) on the terminal, where the questions go; false when there is none.
pub fn tell(message: &str) -> bool {
    use std::io::Write;
    open_terminal()
        .and_then(|(_, mut output)| writeln!(output, "{message}").map_err(Error::Terminal))
        .is_ok()
}

/// The controlling terminal as (input, output): `/dev/tty` both ways on Unix.
#[cfg(unix)]
fn open_terminal() -> Result<(std::fs::File, std::fs::File)> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(Error::Terminal)?;
    let output = tty.try_clone().map_err(Error::Terminal)?;
    Ok((tty, output))
}

/// The console as (input, output): Windows reads `CONIN$` and writes `CONOUT$`, which reach the
/// console even when stdin and stdout are pipes to an SDK. Without a console both fail to open.
#[cfg(windows)]
fn open_terminal() -> Result<(std::fs::File, std::fs::File)> {
    let open = |name: &str, write: bool| {
        std::fs::OpenOptions::new()
            .read(!write)
            .write(write)
            .open(name)
            .map_err(Error::Terminal)
    };
    Ok((open("CONIN$", false)?, open("CONOUT$", true)?))
}
