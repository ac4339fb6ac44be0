//! The secret never reaches stderr, a non-credential stdout, argv or any file outside the store,
//! even with --verbose and even on failures.

mod common;

use common::{Moto, TestEnv};

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
    outputs.push(env.add("dev", &key, &["--verbose"])); // refused: exists
    outputs.push(env.add("dev", &key, &["--verbose", "--force"]));
    let cp = env.run(&["--verbose", "credential-process", "--profile", "dev"], "");
    cp.assert_ok();
    assert!(
        cp.stdout.contains(&key.secret),
        "the JSON is the one place it goes"
    );
    assert!(!cp.stderr.contains(&key.secret));
    outputs.push(env.run(&["--verbose", "list"], ""));
    outputs.push(env.run(&["--verbose", "list", "--json"], ""));
    let mut wrong = key.clone();
    wrong.secret = format!("{}Z", &key.secret[..key.secret.len() - 1]);
    outputs.push(env.add("bad", &wrong, &["--verbose"]));
    let csv = env.path("accessKeys.csv");
    std::fs::write(
        &csv,
        format!(
            "Access key ID,Secret access key\n{},{}\n",
            key.id, key.secret
        ),
    )
    .unwrap();
    outputs.push(env.run(
        &[
            "--verbose",
            "add",
            "fromcsv",
            "--csv",
            csv.to_str().unwrap(),
        ],
        "",
    ));
    std::fs::remove_file(&csv).unwrap();
    outputs.push(env.run(&["--verbose", "remove", "dev", "--yes"], ""));

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
