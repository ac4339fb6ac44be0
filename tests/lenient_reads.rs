//! The hot path reads leniently, editors refuse strictly and truthfully: credential-process needs
//! only its own profile, so a line elsewhere that the AWS CLI accepts (`key: value`, configparser's
//! other delimiter) does not fail it; an editing command still refuses the file, with a hint that
//! does not claim the AWS CLI cannot read it.

use crate::common;

use common::clients::venv_bin;
use common::{TestEnv, run_with_stdin};

const KEY: &str = "AKIAAWSKEEPTESTKEY01\nlenient/reads/secret\n";

#[test]
fn a_line_elsewhere_that_the_aws_cli_accepts_does_not_fail_credential_process() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let config = env.read_config();
    env.write_config(&format!("[profile other]\nregion: us-west-2\n\n{config}"));

    // The premise: the AWS CLI reads that line.
    let mut aws = env.command(venv_bin("aws"));
    aws.args(["configure", "get", "region", "--profile", "other"]);
    let read = run_with_stdin(aws, "");
    assert_eq!(read.stdout.trim(), "us-west-2", "{read:?}");

    let run = env.run(&["credential-process", "--profile", "dev"], "");
    run.assert_ok();
    assert!(run.stdout.contains("AKIAAWSKEEPTESTKEY01"), "{run:?}");

    // An editor refuses the file, and its hint is true.
    let before = env.read_config();
    let add = env.run(&["add", "qa", "--no-verify"], KEY);
    add.assert_fails(1, "config:2:");
    assert!(!add.stderr.contains("will not read it"), "{add:?}");
    assert!(add.stderr.contains("key = value"), "{add:?}");
    assert_eq!(env.read_config(), before);
}

#[test]
fn a_colon_setting_in_the_profiles_own_section_is_read_as_the_aws_cli_reads_it() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    // Read, `mfa_serial:` asks for an MFA session, which needs a code this run cannot get; ignored,
    // the long-term key would be served without MFA.
    let config = env.read_config().replace(
        "[profile dev]\n",
        "[profile dev]\nmfa_serial: arn:aws:iam::123456789012:mfa/me\n",
    );
    env.write_config(&config);
    let run = env.run(&["credential-process", "--profile", "dev"], "");
    run.assert_fails(1, "awskeep_mfa_process");
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn a_line_nobody_can_read_in_the_profiles_own_section_fails_it_with_one_line() {
    let env = TestEnv::new();
    env.run(&["add", "dev", "--no-verify"], KEY).assert_ok();
    let config = env
        .read_config()
        .replace("[profile dev]\n", "[profile dev]\nthis is not a setting\n");
    env.write_config(&config);
    let run = env.run(&["credential-process", "--profile", "dev"], "");
    run.assert_fails(1, "config:2:");
    assert!(run.stdout.is_empty());
}
