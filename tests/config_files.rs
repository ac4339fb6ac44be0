//! The file stays the file it was: a hard-linked or (dangling) symlinked `~/.aws/config` keeps being
//! that after an edit; the credential_process line names the stable link the user ran awskeep
//! through, not a versioned target; inputs are bounded; removing a section keeps its neighbours
//! apart by the blank lines that separated them.

use crate::common;

use std::os::unix::fs::MetadataExt;

use common::clients::{Client, caller_arn};
use common::{Moto, TestEnv, run_with_stdin};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nconfig/files/secret\n";

#[test]
fn a_hard_linked_config_keeps_its_other_name_and_mode() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path("dotfiles")).unwrap();
    env.write_config("# mine\n[default]\nregion = us-east-1\n");
    let other_name = env.path("dotfiles/aws-config");
    std::fs::hard_link(env.config_path(), &other_name).unwrap();
    std::fs::set_permissions(
        env.config_path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let seen_by_other = std::fs::read_to_string(&other_name).unwrap();
    assert!(seen_by_other.contains("--profile dev"), "{seen_by_other}");
    assert_eq!(seen_by_other, env.read_config());
    let meta = std::fs::metadata(env.config_path()).unwrap();
    assert_eq!(meta.nlink(), 2);
    assert_eq!(meta.mode() & 0o777, 0o640);
}

#[test]
fn a_dangling_symlink_is_written_through_and_stays_a_symlink() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path("dotfiles")).unwrap();
    std::fs::create_dir_all(env.config_path().parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(env.config_path());
    std::os::unix::fs::symlink("../../dotfiles/aws-config", env.config_path()).unwrap();
    assert!(!env.path("dotfiles/aws-config").exists());
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let link = std::fs::symlink_metadata(env.config_path()).unwrap();
    assert!(link.file_type().is_symlink());
    let text = std::fs::read_to_string(env.path("dotfiles/aws-config")).unwrap();
    assert!(text.contains("--profile dev"), "{text}");
}

#[test]
fn the_line_names_the_stable_link_the_user_ran_not_the_versioned_target() {
    let moto = Moto::connect();
    let env = TestEnv::new();
    let versioned = env.path("Cellar/awskeep/0.1.0/bin");
    std::fs::create_dir_all(&versioned).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_awskeep"), versioned.join("awskeep")).unwrap();
    std::fs::create_dir_all(env.path("bin")).unwrap();
    let link = env.path("bin/awskeep");
    std::os::unix::fs::symlink("../Cellar/awskeep/0.1.0/bin/awskeep", &link).unwrap();
    let key = moto.new_user_with_key("stable-link");

    // Run by its full link path, then by bare name through PATH.
    let mut add = env.command(&link);
    add.args(["add", "dev"]);
    run_with_stdin(add, &format!("{}\n{}\n", key.id, key.secret)).assert_ok();
    let expected = format!(
        "credential_process = {} credential-process --profile dev",
        link.display()
    );
    assert!(
        env.read_config().contains(&expected),
        "{}",
        env.read_config()
    );

    let mut add = env.command("awskeep");
    let path = format!(
        "{}:{}",
        env.path("bin").display(),
        std::env::var("PATH").unwrap()
    );
    add.args(["add", "prod"]).env("PATH", path);
    run_with_stdin(add, &format!("{}\n{}\n", key.id, key.secret)).assert_ok();
    let expected = format!(
        "credential_process = {} credential-process --profile prod",
        link.display()
    );
    assert!(
        env.read_config().contains(&expected),
        "{}",
        env.read_config()
    );

    assert_eq!(
        caller_arn(&env, Client::AwsCli, "dev").stdout.trim(),
        key.arn
    );
}

#[test]
fn a_csv_far_larger_than_a_key_download_is_refused() {
    let env = TestEnv::new();
    let big = env.path("big.csv");
    let mut text = String::from("Access key ID,Secret access key\n");
    while text.len() < 100 * 1024 {
        text.push_str("AKIAAWSKEEPTESTKEY01,padding/padding/padding/padding\n");
    }
    std::fs::write(&big, text).unwrap();
    let run = env.run(
        &["add", "dev", "--no-verify", "--csv", big.to_str().unwrap()],
        "",
    );
    run.assert_fails(2, "64 KiB");
    assert!(!env.read_config().contains("credential_process"));
}

/// An edit that cannot be written in full (here a file size limit, as a full disk or quota) leaves
/// a hard-linked credentials file exactly as it was, under every name.
#[test]
fn a_failed_write_leaves_a_hard_linked_credentials_file_whole() {
    let env = TestEnv::new();
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "[p{i}]\naws_access_key_id = AKIAOTHERPROFILE{i:04}\naws_secret_access_key = other/secret/{i}\n"
        ));
    }
    text.push_str(
        "[a]\naws_access_key_id = AKIAMIGRATEDKEY00001\naws_secret_access_key = a/secret\n",
    );
    env.write_credentials(&text);
    let other_name = env.path("credentials-link");
    std::fs::hard_link(env.credentials_path(), &other_name).unwrap();
    let mut command = env.command("bash");
    command.args([
        "-c",
        "ulimit -f 2; trap '' XFSZ; exec \"$0\" migrate --profile a --yes --no-verify",
        env!("CARGO_BIN_EXE_awskeep"),
    ]);
    let run = run_with_stdin(command, "");
    assert!(!run.status.success(), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        text
    );
    assert_eq!(std::fs::read_to_string(&other_name).unwrap(), text);
}

/// Processes with different runtime dirs (cron, sudo) still take turns on one config file.
#[test]
fn parallel_adds_with_different_runtime_dirs_lose_nothing() {
    let env = TestEnv::new();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let run_dir = env.path(&format!("run{i}"));
            std::fs::create_dir_all(&run_dir).unwrap();
            std::fs::set_permissions(
                &run_dir,
                std::os::unix::fs::PermissionsExt::from_mode(0o700),
            )
            .unwrap();
            let mut command = env.awskeep();
            command
                .args(["add", &format!("p{i}"), "--no-verify"])
                .env("XDG_RUNTIME_DIR", &run_dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = command.spawn().unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), KEY.as_bytes()).unwrap();
            child
        })
        .collect();
    for child in children {
        common::wait_for(child, std::time::Duration::from_secs(60)).assert_ok();
    }
    let config = env.read_config();
    for i in 0..8 {
        assert!(
            config.contains(&format!("--profile p{i}\n")),
            "p{i} lost: {config}"
        );
    }
}

/// Edited as root (sudo), a user's config stays the user's.
#[test]
fn the_owner_of_the_config_is_kept() {
    let env = TestEnv::new();
    env.write_config("[default]\nregion = us-east-1\n");
    std::os::unix::fs::chown(env.config_path(), Some(1234), Some(1234)).unwrap();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let meta = std::fs::metadata(env.config_path()).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1234, 1234));
}

fn awskeep_line(profile: &str) -> String {
    let program = std::fs::canonicalize(env!("CARGO_BIN_EXE_awskeep")).unwrap();
    format!(
        "{} credential-process --profile {profile}",
        program.display()
    )
}

/// `remove` of a section between two others: they stay apart by a blank line, not joined.
#[test]
fn remove_keeps_a_blank_line_between_the_sections_around_the_one_it_removes() {
    let env = TestEnv::new();
    env.write_config(&format!(
        "[profile a]\nregion = eu-west-1\n\n[profile dev]\ncredential_process = {}\n\n[profile b]\noutput = json\n",
        awskeep_line("dev")
    ));
    env.expect(["remove", "dev", "--yes"])
        .stderr("Removed profile dev.\n")
        .run();
    assert_eq!(
        env.read_config(),
        "[profile a]\nregion = eu-west-1\n\n[profile b]\noutput = json\n"
    );
}

/// `migrate` empties a credentials section between two others: they stay apart by a blank line.
#[test]
fn migrate_keeps_a_blank_line_between_the_credentials_sections_around_the_one_it_empties() {
    let env = TestEnv::new();
    let plaintext = |name: &str, n: u8| {
        format!(
            "[{name}]\naws_access_key_id = AKIAAWSKEEPBLANKS0{n}\naws_secret_access_key = blank/lines/secret/{n}\n"
        )
    };
    env.write_credentials(&format!(
        "{}\n{}\n{}",
        plaintext("a", 1),
        plaintext("dev", 2),
        plaintext("b", 3)
    ));
    env.write_config("[profile a]\noutput = json\n\n[profile b]\noutput = text\n");
    env.expect(["migrate", "--profile", "dev", "--yes", "--no-verify"])
        .stderr_contains("  migrated dev\n")
        .run();
    assert_eq!(
        std::fs::read_to_string(env.credentials_path()).unwrap(),
        format!("{}\n{}", plaintext("a", 1), plaintext("b", 3))
    );
    assert_eq!(
        env.read_config(),
        format!(
            "[profile a]\noutput = json\n\n[profile b]\noutput = text\n\n[profile dev]\ncredential_process = {}\nregion = us-east-1\n",
            awskeep_line("dev")
        )
    );
}

/// botocore's view of the config file: for each profile, its settings (`build_profile_map`).
fn botocore_profiles(env: &TestEnv) -> serde_json::Value {
    let mut python = env.command(common::clients::venv_bin("python"));
    python.args([
        "-c",
        "import json, sys\nfrom botocore.configloader import raw_config_parse, build_profile_map\nprint(json.dumps(build_profile_map(raw_config_parse(sys.argv[1]))['profiles']))",
    ]);
    python.arg(env.config_path());
    let run = run_with_stdin(python, "");
    run.assert_ok();
    serde_json::from_str(&run.stdout).unwrap()
}

/// Every header form botocore reads as `[profile dev]` is the profile awskeep edits: `add --force`
/// writes into it, so botocore still sees the old `region` and `mfa_serial` beside the new line,
/// and no second section that botocore would take as the whole profile is added; the header becomes
/// `[profile dev]`, which the Rust SDK (the edit's check) and the other SDKs read too. A header botocore
/// does not read the same way as other SDKs is refused with the line to fix.
#[test]
fn add_force_edits_the_section_botocore_reads_whatever_its_header_form() {
    for header in [
        "[profile \"dev\"]",
        "[profile 'dev']",
        "[profile\tdev]",
        "[profile  dev ]",
        "[profile d\\ev]",
        "[profile \"dev\"] # mine",
    ] {
        let env = TestEnv::new();
        let before = format!(
            "# mine\n{header}\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/me\nawskeep_session = false\n\n[profile other]\nregion = us-east-2\n"
        );
        env.write_config(&before);
        env.run(&["add", "dev", "--no-verify", "--force"], KEY)
            .assert_ok();
        let after = env.read_config();
        assert_eq!(
            after.matches("[profile").count(),
            2,
            "{header}: a section was added:\n{after}"
        );
        // Written into that very section, whose header is now the form every SDK reads; a comment
        // after the header stays.
        let comment = header.split_once(']').map_or("", |(_, rest)| rest);
        assert!(
            after.starts_with(&format!(
                "# mine\n[profile dev]{comment}\nregion = eu-west-1\n"
            )),
            "{header}:\n{after}"
        );
        let dev = &botocore_profiles(&env)["dev"];
        assert_eq!(dev["region"], "eu-west-1", "{header}:\n{after}");
        assert_eq!(
            dev["mfa_serial"], "arn:aws:iam::123456789012:mfa/me",
            "{header}"
        );
        assert!(
            dev["credential_process"]
                .as_str()
                .is_some_and(|l| l.ends_with("credential-process --profile dev")),
            "{header}:\n{after}"
        );
        // And remove finds it there too.
        env.run(&["remove", "dev", "--yes"], "").assert_ok();
        let dev = &botocore_profiles(&env)["dev"];
        assert!(dev.get("credential_process").is_none(), "{header}");
        assert_eq!(dev["region"], "eu-west-1", "{header}");
    }

    // Where clients disagree on which section is the profile, no edit reaches all of them: awskeep
    // names the line to fix and changes nothing. `[ profile dev ]` is dev to the Rust SDK and no
    // profile to botocore; botocore reads only the last of two sections (or refuses a repeated
    // header) where other SDKs merge them; an indented header can be botocore's continuation line.
    for (profile, before, line) in [
        ("dev", "[ profile dev ]\nregion = eu-west-1\n", 1),
        (
            "dev",
            "[profile dev]\nregion = eu-west-1\n[profile \"dev\"]\nmfa_serial = arn:aws:iam::123456789012:mfa/x\n",
            3,
        ),
        (
            "default",
            "[default]\nregion = eu-west-1\n# d\n[profile default]\noutput = json\n",
            4,
        ),
        (
            "dev",
            "[profile other]\nx = 1\n  [profile dev]\nregion = eu-west-1\n",
            3,
        ),
    ] {
        let env = TestEnv::new();
        env.write_config(before);
        let run = env.run(&["add", profile, "--no-verify", "--force"], KEY);
        run.assert_fails(1, &format!("line {line} of"));
        assert!(
            run.stderr
                .contains(&format!("make profile {profile} one section")),
            "{}",
            run.stderr
        );
        assert_eq!(env.read_config(), before);
        assert_eq!(
            env.run(&["list", "--json"], "").stdout.trim(),
            "[]",
            "nothing stored"
        );
    }
}

/// A config file that is not UTF-8: the line it breaks on, and what to do; nothing written.
#[test]
fn a_config_that_is_not_utf8_names_its_line_and_is_left_alone() {
    let env = TestEnv::new();
    let bytes = b"[profile a]\nregion = eu-west-1\nx = caf\xe9\n".to_vec();
    std::fs::create_dir_all(env.config_path().parent().unwrap()).unwrap();
    std::fs::write(env.config_path(), &bytes).unwrap();
    let run = env.run(
        &["add", "dev", "--no-verify"],
        "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "awskeep: {}:3: this line is not UTF-8 text. Hint: save the file as UTF-8 (the AWS CLI and SDKs read it as UTF-8 too), then run awskeep again.\n",
            env.config_path().display()
        )
    );
    assert_eq!(std::fs::read(env.config_path()).unwrap(), bytes);
}
