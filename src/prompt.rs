//! Questions and key entry on the controlling terminal (`/dev/tty`), never on stdin or stdout: stdout
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

/// Prints `prompt` on the terminal and reads one echoed line from it.
pub fn ask_line(prompt: &str) -> Result<String> {
    let tty = open_tty()?;
    let mut writer = &tty;
    writer
        .write_all(prompt.as_bytes())
        .and_then(|()| writer.flush())
        .map_err(Error::Terminal)?;
    let mut line = String::new();
    BufReader::new(&tty)
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

#[cfg(unix)]
fn open_tty() -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(Error::Terminal)
}

#[cfg(windows)]
fn open_tty() -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("CONIN$")
        .map_err(Error::Terminal)
}
