//! A builder for command tests in the style of just's `tests/test.rs`: say the arguments, the
//! environment and stdin, then what stdout, stderr and the exit status must be. A mismatch fails with
//! an exact line diff of what was expected against what the binary printed.
//!
//! ```ignore
//! env.expect(["list"]).stdout("PROFILE ...\n").stderr("").status(0).run();
//! ```
//! In expected text, `$ROOT` stands for the test's temp root and `$HOME` for its home directory, so
//! paths can be written out exactly.

use std::process::Command;

use super::{Run, TestEnv, run_with_stdin};

enum Text {
    Exact(String),
    Contains(Vec<String>),
}

#[must_use = "call .run() to run the command and check it"]
pub struct Expect<'env> {
    env: &'env TestEnv,
    args: Vec<String>,
    set: Vec<(String, String)>,
    removed: Vec<String>,
    stdin: String,
    stdout: Option<Text>,
    stderr: Option<Text>,
    status: i32,
}

impl TestEnv {
    /// Starts a command test of `awskeep ARGS`; by default it must exit 0.
    pub fn expect<I, S>(&self, args: I) -> Expect<'_>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Expect {
            env: self,
            args: args.into_iter().map(Into::into).collect(),
            set: Vec::new(),
            removed: Vec::new(),
            stdin: String::new(),
            stdout: None,
            stderr: None,
            status: 0,
        }
    }
}

impl Expect<'_> {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.set.push((name.into(), value.into()));
        self
    }

    pub fn env_remove(mut self, name: &str) -> Self {
        self.removed.push(name.into());
        self
    }

    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = text.into();
        self
    }

    /// stdout must be exactly `text`.
    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(Text::Exact(text.into()));
        self
    }

    /// stdout must contain `text` (repeatable).
    pub fn stdout_contains(mut self, text: &str) -> Self {
        self.stdout = Some(add_needle(self.stdout.take(), text));
        self
    }

    /// stderr must be exactly `text`.
    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = Some(Text::Exact(text.into()));
        self
    }

    /// stderr must contain `text` (repeatable).
    pub fn stderr_contains(mut self, text: &str) -> Self {
        self.stderr = Some(add_needle(self.stderr.take(), text));
        self
    }

    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    /// Runs the command and checks everything said; returns what it did for further checks.
    #[track_caller]
    pub fn run(self) -> Run {
        let mut command: Command = self.env.awskeep();
        command.args(&self.args);
        for (name, value) in &self.set {
            command.env(name, value);
        }
        for name in &self.removed {
            command.env_remove(name);
        }
        let run = run_with_stdin(command, &self.stdin);
        let shown = format!("awskeep {}", self.args.join(" "));
        let mut failures = Vec::new();
        if run.code() != self.status {
            failures.push(format!(
                "exit status: expected {}, got {}",
                self.status,
                run.code()
            ));
        }
        for (stream, expected, actual) in [
            ("stdout", &self.stdout, &run.stdout),
            ("stderr", &self.stderr, &run.stderr),
        ] {
            if let Some(problem) = self.check(stream, expected.as_ref(), actual) {
                failures.push(problem);
            }
        }
        assert!(
            failures.is_empty(),
            "{shown}\n{}\n--- full stdout ---\n{}--- full stderr ---\n{}",
            failures.join("\n"),
            run.stdout,
            run.stderr
        );
        run
    }

    fn check(&self, stream: &str, expected: Option<&Text>, actual: &str) -> Option<String> {
        match expected? {
            Text::Exact(text) => {
                let text = self.expand(text);
                (text != actual).then(|| format!("{stream} differs:\n{}", diff(&text, actual)))
            }
            Text::Contains(needles) => {
                let missing: Vec<String> = needles
                    .iter()
                    .map(|n| self.expand(n))
                    .filter(|n| !actual.contains(n.as_str()))
                    .collect();
                (!missing.is_empty()).then(|| format!("{stream} lacks {missing:?}"))
            }
        }
    }

    fn expand(&self, text: &str) -> String {
        text.replace("$HOME", &self.env.home.display().to_string())
            .replace("$ROOT", &self.env.root.path().display().to_string())
    }
}

fn add_needle(previous: Option<Text>, needle: &str) -> Text {
    match previous {
        Some(Text::Contains(mut needles)) => {
            needles.push(needle.into());
            Text::Contains(needles)
        }
        _ => Text::Contains(vec![needle.into()]),
    }
}

/// A line diff: `-` expected, `+` actual, ` ` both (longest common subsequence, fine for test output).
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.split_inclusive('\n').collect();
    let b: Vec<&str> = actual.split_inclusive('\n').collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    let mut line = |mark: char, text: &str| {
        out.push(mark);
        out.push_str(
            text.strip_suffix('\n')
                .unwrap_or(&format!("{text}⏎(no newline)")),
        );
        out.push('\n');
    };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line(' ', a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            line('+', b[j]);
            j += 1;
        } else {
            line('-', a[i]);
            i += 1;
        }
    }
    out
}
