//! `awskeep add` at a terminal: the key ID and the secret are asked on the tty, the secret without
//! echo, and questions are answered there.

use crate::common;

use common::{Moto, TestEnv, run_with_stdin};

fn at_terminal(env: &TestEnv, dialogue: &[&str], args: &[&str]) -> common::Run {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_run.py");
    let mut command = env.command("python3");
    command
        .arg(script)
        .args(dialogue)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_awskeep"))
        .args(args);
    run_with_stdin(command, "")
}

#[test]
fn add_prompts_on_the_terminal_without_echoing_the_secret() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("tty");
    let run = at_terminal(
        &env,
        &["Access key ID:", &key.id, "!Secret access key", &key.secret],
        &["add", "dev"],
    );
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&key.id),
        "the key ID is echoed: {}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(&key.secret),
        "the secret was echoed: {}",
        run.stdout
    );
    assert!(run.stdout.contains(&key.arn));

    // Re-adding asks on the terminal; "n" keeps the old key.
    let other = moto.new_user_with_key("tty2");
    let run = at_terminal(&env, &["Replace it? [y/N]", "n"], &["add", "dev"]);
    assert!(!run.status.success());
    assert!(run.stdout.contains("cancelled"), "{}", run.stdout);
    let run = at_terminal(
        &env,
        &[
            "Replace it? [y/N]",
            "y",
            "Access key ID:",
            &other.id,
            "!Secret access key",
            &other.secret,
        ],
        &["add", "dev"],
    );
    assert!(run.status.success(), "{}", run.stdout);
    assert!(!run.stdout.contains(&other.secret));
    assert!(
        env.run(&["credential-process", "--profile", "dev"], "")
            .stdout
            .contains(&other.id)
    );
}
