//! What `doctor` found: findings with a severity and a one-line fix, rendered as a readable list or
//! as JSON with the same data. Rendering only; the checks live beside this module.

use serde::Serialize;

use crate::cli::CommandKind;
use crate::error::{Error, Result};
use crate::output;

/// How bad a finding is. `fail`: something does not work (or leaves a key live that should not be);
/// doctor exits non-zero. `warn`: works now, needs doing (an old key, no region). `info`: advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Info,
    Warn,
    Fail,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// What was checked: `store`, `files`, `profiles`, `clock`, or a profile's check
    /// (`credential_process`, `shadowing`, `region`, `key`, `key_age`, `rotation`, `session`).
    pub check: &'static str,
    /// The profile it concerns, if any.
    pub profile: Option<String>,
    pub message: String,
    /// What to do, one line; `None` when there is nothing to do.
    pub fix: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, check: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            check,
            profile: None,
            message: message.into(),
            fix: None,
        }
    }

    pub fn ok(check: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Ok, check, message)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// A finding from an error: its cause as the message, its hint as the fix.
    pub fn from_error(severity: Severity, check: &'static str, error: &Error) -> Self {
        Self {
            severity,
            check,
            profile: None,
            message: error.cause_line(),
            fix: crate::hint::hint(error, Some(CommandKind::Doctor)),
        }
    }

    fn subject(&self) -> String {
        match &self.profile {
            Some(profile) => format!("[{profile}] {}", self.check),
            None => self.check.to_string(),
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub info: usize,
    pub warn: usize,
    pub fail: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// No `fail` finding.
    pub ok: bool,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn new(findings: Vec<Finding>) -> Self {
        let mut summary = Summary::default();
        for finding in &findings {
            *match finding.severity {
                Severity::Ok => &mut summary.ok,
                Severity::Info => &mut summary.info,
                Severity::Warn => &mut summary.warn,
                Severity::Fail => &mut summary.fail,
            } += 1;
        }
        Self {
            ok: summary.fail == 0,
            summary,
            findings,
        }
    }

    /// The readable list: one line per finding, its fix on the next, then a summary line.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for finding in &self.findings {
            text.push_str(&format!(
                "{:<4}  {}: {}\n",
                finding.severity.label(),
                finding.subject(),
                finding.message
            ));
            if let Some(fix) = &finding.fix {
                text.push_str(&format!("      fix: {fix}\n"));
            }
        }
        let s = &self.summary;
        text.push_str(&format!(
            "{} fail, {} warn, {} info, {} ok\n",
            s.fail, s.warn, s.info, s.ok
        ));
        text
    }

    pub fn print(&self, json: bool) -> Result<()> {
        if json {
            output::print_json(self)
        } else {
            output::print_text(&self.text())
        }
    }

    /// Success unless a finding failed; warnings alone exit 0 (see the README).
    pub fn verdict(&self) -> Result<()> {
        match self.summary.fail {
            0 => Ok(()),
            failed => Err(Error::DoctorFound { failed }),
        }
    }
}
