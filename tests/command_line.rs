//! The command line itself: usage errors, help and version, through the real binary, and the
//! command-test builder (`common::expect`) checked against known output.

mod common;

use common::TestEnv;
use common::expect::diff;

#[test]
fn version_prints_the_crate_version_on_stdout() {
    let env = TestEnv::without_keyring();
    env.expect(["--version"])
        .stdout(&format!("awskeep {}\n", env!("CARGO_PKG_VERSION")))
        .stderr("")
        .run();
}

#[test]
fn the_builder_diff_marks_missing_and_extra_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nc\nd\n"), " a\n-b\n c\n+d\n");
    assert_eq!(diff("x\n", "x"), "-x\n+x⏎(no newline)\n");
}
