//! A model of how each AWS client on Windows hands a credential_process line to `cmd.exe`, and of
//! cmd's `/C` quote rule, so every line form is checked against every client on any platform. The
//! Wine tests (tests/windows.rs) hand the same command lines (`examples/windows_client.rs`) to a real
//! cmd.exe, where Wine follows the rule.
//!
//! Sources, transcribed:
//! - cmd's rule: `cmd /?` ("If /C or /K is specified ... the following logic is used to process
//!   quote characters"): quotes are kept only with no /S, exactly two quotes, none of `&<>()@^|`
//!   between them, whitespace between them, and an executable's name between them; otherwise the
//!   first character, if a quote, and the last quote are removed.
//! - .NET (`ProcessAWSCredentials.cs`), the C++ SDK (`_popen(line + " 2>&1")`) and aws-c-auth
//!   (`_popen(line + " 2> nul")`): `cmd.exe /c LINE`, unwrapped.
//! - Node (`child_process.exec`): `cmd.exe /d /s /c "LINE"`.
//! - Go (`exec.Command("cmd.exe", "/C", line)`): the argument goes through `syscall.EscapeArg`
//!   (quoted when it holds a space or tab; each `"` becomes `\"`, backslashes before it doubled).
//! - Rust (`aws-config` `credential_process.rs`, `raw_arg`) and Java (JDK `ProcessImpl` wraps an
//!   argument with spaces in quotes, inner quotes unescaped): `cmd.exe /C "LINE"`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowsClient {
    /// .NET, the C++ SDK and the CRT.
    CmdUnwrapped,
    Node,
    Go,
    /// The Rust and Java SDKs.
    CmdWrapped,
}

pub const ALL: [WindowsClient; 4] = [
    WindowsClient::CmdUnwrapped,
    WindowsClient::Node,
    WindowsClient::Go,
    WindowsClient::CmdWrapped,
];

/// What follows `/c` on cmd's command line for `client`, and whether `/s` was given.
pub fn after_slash_c(client: WindowsClient, line: &str) -> (String, bool) {
    match client {
        WindowsClient::CmdUnwrapped => (line.to_string(), false),
        WindowsClient::Node => (format!("\"{line}\""), true),
        WindowsClient::Go => (go_escape_arg(line), false),
        WindowsClient::CmdWrapped => (format!("\"{line}\""), false),
    }
}

/// Go's `syscall.EscapeArg`.
pub fn go_escape_arg(arg: &str) -> String {
    if arg.is_empty() {
        return "\"\"".into();
    }
    let has_space = arg.contains([' ', '\t']);
    if !has_space && !arg.contains('"') {
        return arg.to_string();
    }
    let mut out = String::new();
    if has_space {
        out.push('"');
    }
    let mut slashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => {
                slashes += 1;
                out.push(c);
            }
            '"' => {
                out.extend(std::iter::repeat_n('\\', slashes + 1));
                out.push(c);
                slashes = 0;
            }
            _ => {
                slashes = 0;
                out.push(c);
            }
        }
    }
    if has_space {
        out.extend(std::iter::repeat_n('\\', slashes));
        out.push('"');
    }
    out
}

/// The command cmd runs for `rest` (what follows `/c`), by the documented quote rule.
/// Used by the unit tests; Wine's cmd.exe is the other judge.
pub fn cmd_c_rule(rest: &str, slash_s: bool, is_executable: &dyn Fn(&str) -> bool) -> String {
    let quotes: Vec<usize> = rest.match_indices('"').map(|(at, _)| at).collect();
    if !slash_s && quotes.len() == 2 {
        let inner = &rest[quotes[0] + 1..quotes[1]];
        if !inner.contains(super::CMD_QUOTE_BREAKERS)
            && inner.contains(char::is_whitespace)
            && is_executable(inner)
        {
            return rest.to_string();
        }
    }
    match (rest.starts_with('"'), quotes.last()) {
        (true, Some(&last)) if last > 0 => format!("{}{}", &rest[1..last], &rest[last + 1..]),
        (true, _) => rest[1..].to_string(),
        _ => rest.to_string(),
    }
}

/// The program cmd starts for `command`: its first word, quotes toggling, whitespace or an operator
/// outside quotes ending it, the quotes themselves removed.
pub fn program_run(command: &str) -> String {
    let mut program = String::new();
    let mut quoted = false;
    for c in command.trim_start().chars() {
        match c {
            '"' => quoted = !quoted,
            c if !quoted && (c.is_whitespace() || "&|<>()".contains(c)) => break,
            c => program.push(c),
        }
    }
    program
}

/// Whether `client` runs `intended` for `line`.
pub fn runs(
    client: WindowsClient,
    line: &str,
    intended: &str,
    is_executable: &dyn Fn(&str) -> bool,
) -> bool {
    let (rest, slash_s) = after_slash_c(client, line);
    program_run(&cmd_c_rule(&rest, slash_s, is_executable)) == intended
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_line::client_problem_for;

    const LONG_X86: &str = r"C:\Program Files (x86)\awskeep\awskeep.exe";
    const SHORT_X86: &str = r"C:\PROGRA~2\awskeep\awskeep.exe";
    const SPACED_USER: &str = r"C:\Users\Ann Lee\.cargo\bin\awskeep.exe";
    const PLAIN: &str = r"C:\Users\ann\.cargo\bin\awskeep.exe";

    fn exists(path: &str) -> bool {
        [LONG_X86, SHORT_X86, SPACED_USER, PLAIN].contains(&path)
    }

    fn clients_running(line: &str, intended: &str) -> Vec<WindowsClient> {
        ALL.into_iter()
            .filter(|&client| runs(client, line, intended, &exists))
            .collect()
    }

    const ARGS: &str = " credential-process --profile dev";

    #[test]
    fn go_escapes_as_its_syscall_package_does() {
        assert_eq!(go_escape_arg("a b"), "\"a b\"");
        assert_eq!(
            go_escape_arg(r#""C:\a b\x.exe" y"#),
            r#""\"C:\a b\x.exe\" y""#
        );
        assert_eq!(go_escape_arg(r"C:\x.exe"), r"C:\x.exe");
        assert_eq!(go_escape_arg(r"a\\"), r"a\\");
    }

    #[test]
    fn cmd_keeps_or_strips_quotes_as_documented() {
        let quoted = format!("\"{SPACED_USER}\"{ARGS}");
        assert_eq!(cmd_c_rule(&quoted, false, &exists), quoted);
        assert_eq!(
            cmd_c_rule(&quoted, true, &exists),
            format!("{SPACED_USER}{ARGS}")
        );
        let x86 = format!("\"{LONG_X86}\"{ARGS}");
        assert_eq!(
            cmd_c_rule(&x86, false, &exists),
            format!("{LONG_X86}{ARGS}")
        );
    }

    /// The forms awskeep writes run in every client; the quoted fallbacks fail exactly where
    /// `client_problem` says they do.
    #[test]
    fn every_windows_client_runs_the_lines_awskeep_writes() {
        for path in [SHORT_X86, PLAIN] {
            let line = format!("{path}{ARGS}");
            assert_eq!(clients_running(&line, path), ALL.to_vec(), "{line}");
            assert_eq!(client_problem_for(&line, true), None);
        }
        let spaced = format!("\"{SPACED_USER}\"{ARGS}");
        assert_eq!(
            clients_running(&spaced, SPACED_USER),
            vec![
                WindowsClient::CmdUnwrapped,
                WindowsClient::Node,
                WindowsClient::CmdWrapped
            ]
        );
        assert!(client_problem_for(&spaced, true).unwrap().contains("Go"));
        let x86 = format!("\"{LONG_X86}\"{ARGS}");
        assert_eq!(
            clients_running(&x86, LONG_X86),
            vec![WindowsClient::Node, WindowsClient::CmdWrapped]
        );
        let problem = client_problem_for(&x86, true).unwrap();
        assert!(
            problem.contains(".NET") && problem.contains("Go"),
            "{problem}"
        );
        // Unquoted with spaces: nobody.
        let bare = format!("{LONG_X86}{ARGS}");
        assert!(clients_running(&bare, LONG_X86).is_empty());
        assert!(client_problem_for(&bare, true).is_some());
    }
}
