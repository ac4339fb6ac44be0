//! `awskeep export PROFILE --format env|json|fish|powershell`: prints what `credentials::resolve`
//! serves for the profile on stdout, for `eval` in a shell or another tool's config. The secret is
//! on stdout because the user asked for it there; it is rendered into a zeroized buffer and written
//! in one write. `serve` prints its two variables with the same shell quoting.
//!
//! `--format json` is credential_process's JSON, a long-term key's lease (`Expiration`,
//! `crate::lease`) included. The shell forms carry no lease for a long-term key (no
//! `AWS_CREDENTIAL_EXPIRATION`): no SDK refreshes from its environment, and botocore raises once
//! that time has passed, so a lease there would only stop a long-running program at the hour.

use zeroize::Zeroizing;

use crate::cli::{ExportArgs, ExportFormat};
use crate::context::Context;
use crate::credentials::{self, Refresh};
use crate::error::Result;
use crate::output;
use crate::store::facade::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: ExportArgs,
) -> Result<()> {
    let profile = credentials::profile_or_default(ctx, args.profile)?;
    let resolved = credentials::resolve(
        ctx,
        store,
        aws,
        &profile,
        args.mfa.mfa_process.as_deref(),
        Refresh::IfNeeded,
    )?;
    let shell = match args.format {
        // The credential_process JSON, lease included; the shell forms carry no lease (see below).
        ExportFormat::Json => {
            return output::print_bytes(&resolved.credentials.process_json(ctx.key_lease));
        }
        ExportFormat::Env => Shell::Sh,
        ExportFormat::Fish => Shell::Fish,
        ExportFormat::Powershell => Shell::Powershell,
    };
    let mut text = Zeroizing::new(String::with_capacity(2048));
    resolved
        .credentials
        .for_each_var(resolved.region.as_deref(), |name, value| {
            shell.set(&mut text, name, value);
        });
    for name in resolved.credentials.stale_vars() {
        shell.unset(&mut text, name);
    }
    output::print_bytes(text.as_bytes())
}

/// The shells awskeep writes variable assignments for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Sh,
    Fish,
    Powershell,
}

impl Shell {
    /// Appends one line that sets `name` to `value` (quoted so any byte is taken literally).
    pub fn set(self, out: &mut String, name: &str, value: &str) {
        match self {
            Shell::Sh => {
                out.push_str("export ");
                out.push_str(name);
                out.push('=');
                // Inside '...' sh takes every byte literally but '.
                quote(out, value, |c, out| match c {
                    '\'' => out.push_str("'\\''"),
                    c => out.push(c),
                });
            }
            Shell::Fish => {
                out.push_str("set -gx ");
                out.push_str(name);
                out.push(' ');
                // Inside '...' fish also reads \' and \\ as escapes.
                quote(out, value, |c, out| match c {
                    '\'' => out.push_str("\\'"),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                });
            }
            Shell::Powershell => {
                out.push_str("$env:");
                out.push_str(name);
                out.push_str(" = ");
                // PowerShell's tokenizer ends a '...' string at any of its five single quotes
                // (' and the typographic ‘ ’ ‚ ‛, CharTraits.IsSingleQuote), and reads two in a row
                // as the second one: each is doubled, so every one is kept as it is.
                quote(out, value, |c, out| {
                    if POWERSHELL_SINGLE_QUOTES.contains(&c) {
                        out.push(c);
                    }
                    out.push(c);
                });
            }
        }
        out.push('\n');
    }

    /// Appends one line that removes `name` from the environment.
    pub fn unset(self, out: &mut String, name: &str) {
        let line = match self {
            Shell::Sh => format!("unset {name}\n"),
            Shell::Fish => format!("set -e {name}\n"),
            Shell::Powershell => {
                format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue\n")
            }
        };
        out.push_str(&line);
    }
}

/// Every character PowerShell reads as a single quote in a '...' string.
pub const POWERSHELL_SINGLE_QUOTES: [char; 5] =
    ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `value` in single quotes, each character written by `escape`.
fn quote(out: &mut String, value: &str, escape: impl Fn(char, &mut String)) {
    out.push('\'');
    for c in value.chars() {
        escape(c, out);
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_each_shell() {
        let line = |shell: Shell| {
            let mut out = String::new();
            shell.set(&mut out, "X", r"a'b\c");
            out
        };
        assert_eq!(line(Shell::Sh), "export X='a'\\''b\\c'\n");
        assert_eq!(line(Shell::Fish), "set -gx X 'a\\'b\\\\c'\n");
        assert_eq!(line(Shell::Powershell), "$env:X = 'a''b\\c'\n");
    }

    #[test]
    fn powershell_doubles_every_quote_it_ends_a_string_at() {
        let mut out = String::new();
        Shell::Powershell.set(&mut out, "X", "a\u{2018}b\u{2019}c\u{201A}d\u{201B}e'f\"g");
        assert_eq!(
            out,
            "$env:X = 'a\u{2018}\u{2018}b\u{2019}\u{2019}c\u{201A}\u{201A}d\u{201B}\u{201B}e''f\"g'\n"
        );
    }
}
