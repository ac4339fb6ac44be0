//! Where an MFA code comes from. In order: `--mfa-process`; the profile's `awskeep_mfa_prompt`
//! when set (`terminal`, `zenity`, `kdialog`, `osascript`, `powershell`, or `process` for
//! `awskeep_mfa_process`); the profile's `awskeep_mfa_process` (e.g. `ykman oath accounts code -s
//! NAME`); the terminal (`/dev/tty`; never stdin or stdout, which belong to the calling SDK); a
//! desktop prompt when there is no terminal (an IDE runs credential_process without one): zenity or
//! kdialog on Linux when DISPLAY or WAYLAND_DISPLAY is set and the program is on PATH, osascript on
//! macOS, a PowerShell input box on Windows. When none can be asked, one clear error says how to
//! provide the code. Every code is checked to be 6 digits before it goes to STS.

use std::process::Command;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::helper;
use crate::output;
use crate::profile_name::ProfileName;
use crate::prompt;
use crate::settings::{MfaPrompt, SessionSettings};

/// Where the code came from: a person (terminal, desktop prompt) may be asked again after a wrong
/// code; a command may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    Process,
    Interactive,
}

enum Source<'a> {
    Process(&'a str),
    Prompt(MfaPrompt),
}

pub fn read_code(
    ctx: &Context,
    profile: &ProfileName,
    serial: &str,
    settings: &SessionSettings,
    flag_process: Option<&str>,
) -> Result<(Zeroizing<String>, CodeSource)> {
    let setting_process = settings.mfa_process.as_deref();
    let source = match (flag_process, settings.mfa_prompt) {
        (Some(command), _) => Source::Process(command),
        (None, Some(MfaPrompt::Process)) => {
            Source::Process(setting_process.ok_or_else(|| Error::BadSetting {
                profile: profile.to_string(),
                key: "awskeep_mfa_prompt",
                reason:
                    "`process` needs awskeep_mfa_process, the command that prints the code".into(),
            })?)
        }
        (None, Some(prompt)) => Source::Prompt(prompt),
        (None, None) => match setting_process {
            Some(command) => Source::Process(command),
            None => Source::Prompt(choose(ctx).ok_or_else(|| Error::MfaNoInput {
                profile: profile.to_string(),
            })?),
        },
    };
    let text = format!("MFA code for {serial} (profile {profile}): ");
    let deadlines = ctx.helper_deadlines;
    let prompt = match source {
        Source::Process(command) => {
            return run_process(command, deadlines.command).map(|code| (code, CodeSource::Process));
        }
        Source::Prompt(prompt) => prompt,
    };
    // A code of the wrong shape is caught here, before STS sees it: the person is told so (it was
    // not AWS that refused it) and asked again, as often as for a code AWS refuses.
    // A desktop prompt says it in its next question (stderr is not where its user looks).
    let mut question = text.clone();
    for attempt in 1..=MALFORMED_ATTEMPTS {
        let code = match prompt {
            MfaPrompt::Terminal => {
                let answer = prompt::ask_line(&question).map_err(|_| Error::MfaNoInput {
                    profile: profile.to_string(),
                })?;
                Zeroizing::new(answer.trim().to_string())
            }
            desktop => {
                let code = ask_desktop(desktop, question.trim_end(), deadlines.prompt)?;
                // Nothing at all is no answer (a prompt that could not show itself, or closed
                // empty), not a mistyped code: asking again would only repeat it.
                if code.is_empty() {
                    return Err(Error::MfaPrompt {
                        program: desktop.program(),
                        reason: "it answered nothing".into(),
                    });
                }
                code
            }
        };
        match check(&code) {
            Ok(()) => return Ok((code, CodeSource::Interactive)),
            Err(reason) if attempt < MALFORMED_ATTEMPTS => {
                let not_sent =
                    format!("That is not an MFA code ({reason}); it was not sent to AWS.");
                if prompt == MfaPrompt::Terminal {
                    output::say(&format!("awskeep: {not_sent} Try again."));
                } else {
                    question = format!("{not_sent} {text}");
                }
            }
            Err(_) => break,
        }
    }
    Err(Error::MfaMalformed {
        attempts: MALFORMED_ATTEMPTS,
    })
}

/// How often a person is asked for a code before a wrong shape ends the command.
const MALFORMED_ATTEMPTS: u32 = 3;

/// The automatic choice: the terminal when there is one, else the platform's desktop prompt when
/// one can be shown.
fn choose(ctx: &Context) -> Option<MfaPrompt> {
    if prompt::terminal_available() {
        return Some(MfaPrompt::Terminal);
    }
    if cfg!(windows) {
        return Some(MfaPrompt::Powershell);
    }
    if cfg!(target_os = "macos") {
        return ctx.on_path("osascript").then_some(MfaPrompt::Osascript);
    }
    if !ctx.display {
        return None;
    }
    [MfaPrompt::Zenity, MfaPrompt::Kdialog]
        .into_iter()
        .find(|p| ctx.on_path(p.program()))
}

/// Shows the prompt program and reads the code from its stdout. The question goes in as an
/// argument or variable: it names the profile and device, never a secret.
/// Bounded like every helper (`crate::helper`): the first line of its stdout is the answer, and a
/// prompt left unanswered past `deadline` is closed (killed) with a clear error.
fn ask_desktop(prompt: MfaPrompt, text: &str, deadline: Duration) -> Result<Zeroizing<String>> {
    let failed = |reason: String| Error::MfaPrompt {
        program: prompt.program(),
        reason,
    };
    // GTK and Qt chatter on stderr; the SDKs would show it as the helper's error: not read.
    let output = helper::first_line(
        desktop_command(prompt, text),
        deadline,
        helper::Stderr::Discard,
    )
    .map_err(|f| match f.failure {
        helper::Failure::Exited(status) => {
            failed(format!("it was cancelled or could not be shown ({status})"))
        }
        failure => failed(failure.to_string()),
    })?;
    Ok(Zeroizing::new(output.line.trim().to_string()))
}

fn desktop_command(prompt: MfaPrompt, text: &str) -> Command {
    let mut command = Command::new(prompt.program());
    match prompt {
        MfaPrompt::Zenity => {
            command
                .args(["--entry", "--title=awskeep", "--text"])
                .arg(zenity_literal(text));
        }
        MfaPrompt::Kdialog => {
            command
                .args(["--title", "awskeep", "--inputbox"])
                .arg(kdialog_literal(text));
        }
        MfaPrompt::Osascript => {
            command
                .args([
                    "-e",
                    "on run argv",
                    "-e",
                    "return text returned of (display dialog (item 1 of argv) default answer \"\" with title \"awskeep\")",
                    "-e",
                    "end run",
                ])
                .arg(text);
        }
        MfaPrompt::Powershell => {
            // A window of its own, independent of any console: the question comes in through a
            // variable so nothing needs quoting for PowerShell.
            command
                .args([
                    "-NoProfile",
                    "-NonInteractive",
                    "-Command",
                    "Add-Type -AssemblyName Microsoft.VisualBasic; [Microsoft.VisualBasic.Interaction]::InputBox($env:AWSKEEP_MFA_QUESTION, 'awskeep')",
                ])
                .env("AWSKEEP_MFA_QUESTION", text);
            no_console_window(&mut command);
        }
        MfaPrompt::Terminal | MfaPrompt::Process => {}
    }
    command
}

/// `text` as zenity's entry dialog shows it literally. Its `--text` is not markup there: zenity
/// runs it through `g_strcompress` (backslash escapes: `\n`, `\101`) and then
/// `gtk_label_set_text_with_mnemonic` (`_x` underlines x and drops the `_`), so a device named
/// `mfa/my_key` showed as "mykey". Backslashes and underscores are doubled, in that order of undoing.
fn zenity_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('_', "__")
}

/// `text` as kdialog's input box shows it literally. Its label is a Qt label in `AutoText` mode:
/// text that looks like rich text (a tag, or `&lt;`, before the first line break) is rendered as
/// HTML, so an `mfa_serial` holding `<a href=...>` or `<img>` would be markup. Text without `<` or
/// `&` cannot look like rich text and goes as it is; any other text is made rich text explicitly
/// (`<qt>`) with every markup character escaped, so it shows as written either way.
fn kdialog_literal(text: &str) -> String {
    if !text.contains(['<', '&']) {
        return text.to_string();
    }
    let mut out = String::from("<qt>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out.push_str("</qt>");
    out
}

#[cfg(windows)]
fn no_console_window(command: &mut Command) {
    use std::os::windows::process::CommandExt;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    command.creation_flags(CREATE_NO_WINDOW);
}

#[cfg(not(windows))]
fn no_console_window(_: &mut Command) {}

/// Runs the MFA process, bounded (`crate::helper`): its first line of stdout is the code, and it
/// must come and the process exit within `deadline`.
fn run_process(command: &str, deadline: Duration) -> Result<Zeroizing<String>> {
    let failed = |reason: String| Error::MfaProcess {
        command: command.to_string(),
        reason,
    };
    // Its stderr is relayed as our messages for a person are, so under credential-process it never
    // reaches our stderr on success (output::keep_stderr_for_failure).
    // It needs no way into the store: the file store's passphrase variables stay out of it.
    let mut process = helper::shell_command(command);
    for name in crate::context::SECRET_BEARING {
        process.env_remove(name);
    }
    let output = helper::first_line(process, deadline, helper::Stderr::Capture).map_err(|f| {
        crate::output::relay(&f.stderr);
        failed(f.failure.to_string())
    })?;
    crate::output::relay(&output.stderr);
    let code = Zeroizing::new(output.line.trim().to_string());
    check(&code).map_err(|reason| failed(reason.to_string()))?;
    Ok(code)
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

    fn settings(process: Option<&str>, prompt: Option<MfaPrompt>) -> SessionSettings {
        SessionSettings {
            enabled: true,
            duration: crate::settings::DEFAULT_DURATION,
            mfa_serial: Some("arn".into()),
            mfa_process: process.map(str::to_string),
            mfa_prompt: prompt,
        }
    }

    fn ctx() -> Context {
        Context::from_env(false, Default::default()).unwrap()
    }

    #[test]
    fn a_process_prints_the_code() {
        let profile = ProfileName::parse("dev").unwrap();
        let none = settings(None, None);
        let (code, source) =
            read_code(&ctx(), &profile, "arn", &none, Some("echo ' 123456 '")).unwrap();
        assert_eq!(code.as_str(), "123456");
        assert_eq!(source, CodeSource::Process);
        assert!(matches!(
            read_code(&ctx(), &profile, "arn", &none, Some("echo nope")),
            Err(Error::MfaProcess { .. })
        ));
        assert!(matches!(
            read_code(&ctx(), &profile, "arn", &none, Some("exit 3")),
            Err(Error::MfaProcess { .. })
        ));
        let from_setting = settings(Some("echo 654321"), Some(MfaPrompt::Process));
        let (code, _) = read_code(&ctx(), &profile, "arn", &from_setting, None).unwrap();
        assert_eq!(code.as_str(), "654321");
    }

    #[test]
    fn prompt_process_without_a_command_is_a_setting_error() {
        let profile = ProfileName::parse("dev").unwrap();
        assert!(matches!(
            read_code(
                &ctx(),
                &profile,
                "arn",
                &settings(None, Some(MfaPrompt::Process)),
                None
            ),
            Err(Error::BadSetting {
                key: "awskeep_mfa_prompt",
                ..
            })
        ));
    }

    #[test]
    fn desktop_prompts_show_the_serial_as_written_not_as_markup_or_mnemonics() {
        assert_eq!(zenity_literal(r"mfa/a_b\n<b>"), r"mfa/a__b\\n<b>");
        assert_eq!(
            kdialog_literal("MFA code for mfa/dev"),
            "MFA code for mfa/dev"
        );
        assert_eq!(
            kdialog_literal(r#"mfa/<img src="x">&amp;'"#),
            "<qt>mfa/&lt;img src=&quot;x&quot;&gt;&amp;amp;&#39;</qt>"
        );
        // `&lt;` alone makes Qt take the text as rich text: escaped too.
        assert_eq!(kdialog_literal("a&lt;b"), "<qt>a&amp;lt;b</qt>");
    }

    #[test]
    fn prompt_names_parse() {
        assert_eq!(MfaPrompt::parse("Zenity"), Ok(MfaPrompt::Zenity));
        assert!(MfaPrompt::parse("dialog").is_err());
    }
}
