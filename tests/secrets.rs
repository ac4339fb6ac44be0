//! The secret never reaches stderr, a non-credential stdout, argv or any file outside the store,
//! even with --verbose and even on failures.

use crate::common;

use common::{Moto, Run, TestEnv};

/// `run` ended with `code`: a leak check over a command that failed early (or succeeded where it
/// should have been refused) would check nothing of the path it means to.
#[track_caller]
fn ended(run: Run, code: i32, what: &str) -> Run {
    assert_eq!(
        run.code(),
        code,
        "{what}\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    run
}

#[test]
fn no_secret_in_any_output_or_file_even_verbose() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let key = moto.new_user_with_key("leak");
    let mut outputs = Vec::new();

    let run = env.add("dev", &key, &["--verbose"]);
    run.assert_ok();
    assert!(
        run.stderr.contains("awskeep: "),
        "verbose says what it does: {}",
        run.stderr
    );
    outputs.push(run);
    outputs.push(ended(
        env.add("dev", &key, &["--verbose"]),
        2,
        "refused: dev exists",
    ));
    outputs.push(ended(
        env.add("dev", &key, &["--verbose", "--force"]),
        0,
        "add --force",
    ));
    let cp = env.run(&["--verbose", "credential-process", "--profile", "dev"], "");
    cp.assert_ok();
    assert!(
        cp.stdout.contains(&key.secret),
        "the JSON is the one place it goes"
    );
    assert!(!cp.stderr.contains(&key.secret));
    outputs.push(ended(env.run(&["--verbose", "list"], ""), 0, "list"));
    outputs.push(ended(
        env.run(&["--verbose", "list", "--json"], ""),
        0,
        "list --json",
    ));
    let mut wrong = key.clone();
    wrong.secret = format!("{}Z", &key.secret[..key.secret.len() - 1]);
    outputs.push(ended(
        env.add("bad", &wrong, &["--verbose"]),
        5,
        "a wrong secret is rejected by AWS",
    ));
    let csv = env.path("accessKeys.csv");
    std::fs::write(
        &csv,
        format!(
            "Access key ID,Secret access key\n{},{}\n",
            key.id, key.secret
        ),
    )
    .unwrap();
    outputs.push(ended(
        env.run(
            &[
                "--verbose",
                "add",
                "fromcsv",
                "--csv",
                csv.to_str().unwrap(),
            ],
            "",
        ),
        0,
        "add --csv",
    ));
    std::fs::remove_file(&csv).unwrap();
    outputs.push(ended(
        env.run(&["--verbose", "remove", "dev", "--yes"], ""),
        0,
        "remove",
    ));

    for run in &outputs {
        assert!(
            !run.stdout.contains(&key.secret),
            "secret on stdout: {run:?}"
        );
        assert!(
            !run.stderr.contains(&key.secret),
            "secret on stderr: {run:?}"
        );
        assert!(!run.stderr.contains(&wrong.secret));
    }
    // Everything under the temp root: HOME, the AWS files, XDG dirs, the keyring's own (encrypted) file.
    assert_eq!(
        env.files_containing(&key.secret),
        Vec::<std::path::PathBuf>::new()
    );
}
