//! MFA codes without a terminal, through the real binary: run as an IDE runs credential_process
//! (setsid: no controlling terminal), awskeep asks with a desktop prompt. The prompts here are
//! stand-in `zenity` / `kdialog` scripts on PATH that log their arguments and print a code; the
//! AWS CLI and boto3 get a session that way. Without DISPLAY, or with the prompt cancelled, one line
//! says how to give the code; `awskeep session refresh` in a terminal fills the cache first.

use crate::common;

use std::path::PathBuf;

use common::clients::venv_bin;
use common::private_moto::PrivateMoto;
use common::{Run, TestEnv, run_with_stdin};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/dev";

struct Desktop {
    env: TestEnv,
    moto: PrivateMoto,
    bin: PathBuf,
}

fn setup() -> Desktop {
    let moto = PrivateMoto::start();
    let env = TestEnv::new();
    env.use_endpoint(&moto.url);
    env.run(&["add", "dev", "--no-verify", "--mfa-serial", SERIAL], KEY)
        .assert_ok();
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    Desktop { env, moto, bin }
}

impl Desktop {
    /// A stand-in prompt program: logs its arguments to `NAME.log`, prints `answer`, exits `code`.
    fn prompt_program(&self, name: &str, answer: &str, code: i32) {
        let path = self.bin.join(name);
        let log = self.env.path(&format!("{name}.log"));
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\nprintf '%s\\n' '{answer}'\nexit {code}\n",
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn log(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.env.path(&format!("{name}.log"))).ok()
    }

    /// `program ARGS` with no controlling terminal, the stand-ins first on PATH, and `display`.
    fn without_terminal(&self, display: Option<&str>, program: &str, args: &[&str]) -> Run {
        self.without_terminal_with(display, &[], program, args)
    }

    /// As `without_terminal`, with the variables `extra` set too.
    fn without_terminal_with(
        &self,
        display: Option<&str>,
        extra: &[(&str, &str)],
        program: &str,
        args: &[&str],
    ) -> Run {
        let mut command = self.env.command("setsid");
        command.envs(extra.iter().copied());
        command.arg("-w").arg(program).args(args).env(
            "PATH",
            format!(
                "{}:{}",
                self.bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
        if let Some(display) = display {
            command.env("DISPLAY", display);
        }
        run_with_stdin(command, "")
    }

    fn credential_process(&self, display: Option<&str>) -> Run {
        self.without_terminal(
            display,
            env!("CARGO_BIN_EXE_awskeep"),
            &["credential-process", "--profile", "dev"],
        )
    }
}

#[test]
fn without_a_terminal_zenity_asks_and_the_aws_cli_and_boto3_get_a_session() {
    let d = setup();
    d.prompt_program("zenity", "123456", 0);
    d.prompt_program("kdialog", "123456", 0);
    let aws = venv_bin("aws").display().to_string();
    let run = d.without_terminal(
        Some(":0"),
        &aws,
        &[
            "sts",
            "get-caller-identity",
            "--profile",
            "dev",
            "--output",
            "text",
        ],
    );
    run.assert_ok();
    assert_eq!(d.moto.session_token_calls(), 1);
    let log = d.log("zenity").expect("zenity was asked");
    assert_eq!(
        log,
        format!("--entry\n--title=awskeep\n--text\nMFA code for {SERIAL} (profile dev):\n")
    );
    assert!(d.log("kdialog").is_none(), "zenity is preferred");

    // boto3 gets the cached session: no second prompt.
    d.env
        .run(&["session", "clear", "--profile", "dev"], "")
        .assert_ok();
    let python = venv_bin("python").display().to_string();
    let run = d.without_terminal(
        Some(":0"),
        &python,
        &[
            "-c",
            "import boto3; print(boto3.Session(profile_name='dev').client('sts').get_caller_identity()['Account'])",
        ],
    );
    run.assert_ok();
    assert_eq!(d.moto.session_token_calls(), 2);
    assert_eq!(d.log("zenity").unwrap().matches("--entry").count(), 2);
}

#[test]
fn kdialog_when_zenity_is_missing_and_awskeep_mfa_prompt_chooses() {
    let d = setup();
    d.prompt_program("kdialog", "654321", 0);
    let run = d.credential_process(Some(":0"));
    run.assert_ok();
    assert!(run.stdout.contains("\"SessionToken\""));
    assert_eq!(
        d.log("kdialog").unwrap(),
        format!("--title\nawskeep\n--inputbox\nMFA code for {SERIAL} (profile dev):\n")
    );

    // Both installed, the profile says kdialog: kdialog it is. WAYLAND_DISPLAY is a display too.
    d.prompt_program("zenity", "123456", 0);
    d.env.run(&["session", "clear", "--all"], "").assert_ok();
    d.env.write_config(
        &d.env
            .read_config()
            .replace("mfa_serial", "awskeep_mfa_prompt = kdialog\nmfa_serial"),
    );
    let mut command = d.env.command("setsid");
    command
        .args([
            "-w",
            env!("CARGO_BIN_EXE_awskeep"),
            "credential-process",
            "--profile",
            "dev",
        ])
        .env(
            "PATH",
            format!("{}:{}", d.bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("WAYLAND_DISPLAY", "wayland-0");
    run_with_stdin(command, "").assert_ok();
    assert!(d.log("zenity").is_none());
    assert_eq!(d.log("kdialog").unwrap().matches("--inputbox").count(), 2);
}

#[test]
fn no_display_or_a_cancelled_prompt_fails_at_once_with_one_line() {
    let d = setup();
    d.prompt_program("zenity", "123456", 0);
    // No DISPLAY: zenity could not be shown, so it is not run.
    d.credential_process(None).assert_fails(
        1,
        "awskeep: profile \"dev\" needs an MFA code and there is no terminal to ask on. Hint: set `awskeep_mfa_process = ykman oath accounts code -s NAME` (a command that prints the code) in the profile, or run `awskeep session refresh --profile dev` in a terminal first.",
    );
    assert!(d.log("zenity").is_none());

    d.prompt_program("zenity", "", 1); // the user pressed Cancel
    d.credential_process(Some(":0"))
        .assert_fails(1, "the MFA prompt (zenity) gave no code: it was cancelled");
    d.prompt_program("zenity", "12345x", 0);
    std::fs::remove_file(d.env.path("zenity.log")).unwrap();
    d.credential_process(Some(":0")).assert_fails(
        1,
        "no MFA code of the right shape was typed (3 tries; a code is 6 digits), so none was sent to AWS",
    );
    assert_eq!(d.moto.session_token_calls(), 0, "no bad code reached STS");
    // Asked three times; the second and third questions say why, and that AWS never saw it.
    let log = d.log("zenity").unwrap();
    assert_eq!(log.matches("--entry").count(), 3, "{log}");
    assert_eq!(
        log.matches("That is not an MFA code (an MFA code is 6 digits); it was not sent to AWS.")
            .count(),
        2,
        "{log}"
    );

    // An empty answer is no answer (a prompt that could not show itself): said at once, not retried.
    d.prompt_program("zenity", "", 0);
    std::fs::remove_file(d.env.path("zenity.log")).unwrap();
    d.credential_process(Some(":0")).assert_fails(
        1,
        "the MFA prompt (zenity) gave no code: it answered nothing",
    );
    assert_eq!(d.log("zenity").unwrap().matches("--entry").count(), 1);

    // awskeep_mfa_prompt = terminal: no desktop prompt even with one available.
    d.prompt_program("zenity", "123456", 0);
    d.env.write_config(
        &d.env
            .read_config()
            .replace("mfa_serial", "awskeep_mfa_prompt = terminal\nmfa_serial"),
    );
    d.credential_process(Some(":0"))
        .assert_fails(1, "no terminal to ask on");
}

#[test]
fn session_refresh_in_a_terminal_fills_the_cache_for_programs_without_one() {
    let d = setup();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = d.env.command("python3");
    command
        .arg(script)
        .args(["MFA code for", "123456", "--"])
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(["session", "refresh", "--profile", "dev"]);
    let run = run_with_stdin(command, "");
    assert!(run.status.success(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("New session for profile dev, valid until "),
        "{}",
        run.stdout
    );
    assert_eq!(d.moto.session_token_calls(), 1);

    // No terminal, no display, no prompt program: served from the cache.
    let run = d.credential_process(None);
    run.assert_ok();
    assert!(run.stdout.contains("\"SessionToken\""));

    // refresh always fetches anew (here with a command for the code).
    d.env
        .run(
            &[
                "session",
                "refresh",
                "--profile",
                "dev",
                "--mfa-process",
                "echo 123456",
            ],
            "",
        )
        .assert_ok();
    assert_eq!(d.moto.session_token_calls(), 2);

    d.env
        .run(
            &["add", "plain", "--no-verify"],
            "AKIAAWSKEEPTESTKEY02\nsecret\n",
        )
        .assert_ok();
    d.env
        .run(&["session", "refresh", "--profile", "plain"], "")
        .assert_fails(1, "profile \"plain\" has sessions off");
}

#[test]
fn desktop_prompts_show_the_mfa_serial_as_written_not_as_markup() {
    let d = setup();
    // A hand-edited serial holding what each prompt program interprets: Qt rich text for kdialog,
    // backslash escapes and mnemonic underscores for zenity's entry text.
    let serial = r#"arn:aws:iam::123456789012:mfa/my_key<img src="x">&amp;\n"#;
    d.env
        .write_config(&d.env.read_config().replace(SERIAL, serial));
    d.prompt_program("zenity", "123456", 0);
    let _ = d.credential_process(Some(":0"));
    let zenity = d.log("zenity").expect("zenity was asked");
    assert_eq!(
        zenity,
        "--entry\n--title=awskeep\n--text\nMFA code for arn:aws:iam::123456789012:mfa/my__key<img src=\"x\">&amp;\\\\n (profile dev):\n"
    );

    d.env.run(&["session", "clear", "--all"], "").assert_ok();
    std::fs::remove_file(d.bin.join("zenity")).unwrap();
    d.prompt_program("kdialog", "123456", 0);
    let _ = d.credential_process(Some(":0"));
    let kdialog = d.log("kdialog").expect("kdialog was asked");
    assert_eq!(
        kdialog,
        "--title\nawskeep\n--inputbox\n<qt>MFA code for arn:aws:iam::123456789012:mfa/my_key&lt;img src=&quot;x&quot;&gt;&amp;amp;\\n (profile dev):</qt>\n"
    );
}

#[test]
fn an_mfa_process_or_prompt_that_never_answers_is_stopped_at_its_deadline() {
    let d = setup();
    // The deadlines (30 s for a command, 3 minutes for a prompt) are 2 s here, through the
    // debug-only override; a hung awskeep would fail the test at 60 s.
    let timed = |display: Option<&str>| {
        let started = std::time::Instant::now();
        let run = d.without_terminal_with(
            display,
            &[("AWSKEEP_TEST_HELPER_DEADLINE", "2s")],
            env!("CARGO_BIN_EXE_awskeep"),
            &["credential-process", "--profile", "dev"],
        );
        (run, started.elapsed())
    };
    let path = d.bin.join("zenity");
    std::fs::write(&path, "#!/bin/sh\nexec sleep 60\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (run, took) = timed(Some(":0"));
    run.assert_fails(
        1,
        "the MFA prompt (zenity) gave no code: it gave no answer within 2s and was stopped",
    );
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");

    let with_process = |command: &str| {
        d.env.write_config(&d.env.read_config().replace(
            "mfa_serial",
            &format!("awskeep_mfa_process = {command}\nmfa_serial"),
        ));
    };
    with_process("sleep 60");
    let (run, took) = timed(None);
    run.assert_fails(
        1,
        "the MFA code command `sleep 60` failed: it gave no answer within 2s and was stopped",
    );
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    assert_eq!(d.moto.session_token_calls(), 0);

    // A process that answers but leaves a background process holding its stdout and stderr: the
    // code is used as soon as the process itself has exited.
    let config = d
        .env
        .read_config()
        .replace("awskeep_mfa_process = sleep 60\n", "");
    d.env.write_config(&config);
    with_process("sleep 60 & echo 123456");
    let (run, took) = timed(None);
    run.assert_ok();
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    assert_eq!(d.moto.session_token_calls(), 1);
}
