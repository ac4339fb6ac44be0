//! The command line itself: usage errors, help and version, through the real binary, and the
//! command-test builder (`common::expect`) checked against known output.

use crate::common;

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

#[test]
fn a_mistyped_command_is_one_line_with_clap_suggestion_and_exit_2() {
    let env = TestEnv::without_keyring();
    env.expect(["lsit"])
        .stdout("")
        .stderr("awskeep: unrecognized subcommand 'lsit'. Hint: a similar subcommand exists: 'list'; see `awskeep --help`.\n")
        .status(2)
        .run();
    env.expect(["rotate", "dev", "--deactivate-onl"])
        .stdout("")
        .stderr("awskeep: unexpected argument '--deactivate-onl' found. Hint: a similar argument exists: '--deactivate-only'; see `awskeep rotate --help`.\n")
        .status(2)
        .run();
}

#[test]
fn rotate_without_a_profile_names_all_as_the_other_choice() {
    let env = TestEnv::without_keyring();
    env.expect(["rotate"])
        .stderr("awskeep: the following required arguments were not provided: <PROFILE|--profile <PROFILE>|--all>. Hint: see `awskeep rotate --help`.\n")
        .status(2)
        .run();
}

#[test]
fn two_different_profiles_are_a_usage_error_naming_the_command_help_and_the_same_one_twice_is_not()
{
    let env = TestEnv::without_keyring();
    for args in [
        ["add", "dev", "--profile", "prod"],
        ["remove", "dev", "--profile", "prod"],
        ["rotate", "dev", "--profile", "prod"],
        ["bootstrap", "dev", "--profile", "prod"],
        ["credential-process", "dev", "--profile", "prod"],
    ] {
        // The hint names the command's own help, as every other usage error's does.
        env.expect(args)
            .stdout("")
            .stderr(&format!("awskeep: two different profiles given, 'dev' and '--profile prod'; give one (either form). Hint: see `awskeep {} --help`.\n", args[0]))
            .status(2)
            .run();
    }
    env.expect(["-v", "session", "clear", "dev", "--profile", "prod"])
        .stderr("awskeep: two different profiles given, 'dev' and '--profile prod'; give one (either form). Hint: see `awskeep session clear --help`.\n")
        .status(2)
        .run();
    // The same name both ways is one profile: parsing passes and the command runs (with no bus
    // here, on the empty file store, which has no such profile).
    env.expect(["remove", "dev", "--profile", "dev", "--yes"])
        .stderr_contains("awskeep: no awskeep profile \"dev\": nothing in the file store")
        .status(3)
        .run();
}

#[test]
fn every_profile_command_takes_the_profile_either_way() {
    let env = TestEnv::new();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    env.expect(["add", "dev", "--no-verify", "--session", "off"])
        .stdin(key)
        .stdout("")
        .run();
    env.expect(["add", "--profile", "ops", "--no-verify", "--session", "off"])
        .stdin(key)
        .stdout("")
        .run();
    // Then the lease's Expiration (its own tests are in cred_cache.rs and rotate.rs).
    let json = "{\"Version\":1,\"AccessKeyId\":\"AKIAIOSFODNN7EXAMPLE\",\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\"Expiration\":\"";
    for args in [
        vec!["credential-process", "dev"],
        vec!["credential-process", "--profile", "dev"],
        vec!["credential-process", "ops"],
        vec!["credential-process", "--profile", "ops"],
    ] {
        env.expect(args).stdout_contains(json).stderr("").run();
    }
    // The line awskeep wrote into the config, `credential-process --profile NAME`, still works.
    let config = env.read_config();
    assert!(
        config.contains(" credential-process --profile dev\n"),
        "{config}"
    );
    env.expect(["session", "clear", "dev"])
        .stderr("No cached session to clear.\n")
        .run();
    env.expect(["session", "clear", "--profile", "dev"])
        .stderr("No cached session to clear.\n")
        .run();
    // bootstrap and rotate stop at the profile check, before any AWS call: each form names it.
    for args in [
        vec!["bootstrap", "dev", "--yes"],
        vec!["bootstrap", "--profile", "dev", "--yes"],
    ] {
        env.expect(args)
            .stderr_contains("Hint: run it in a terminal, or pass --force to answer it.")
            .status(2)
            .run();
    }
    env.expect(["remove", "dev", "--yes"]).stdout("").run();
    env.expect(["remove", "--profile", "ops", "--yes"])
        .stdout("")
        .run();
    // Both gone: no row on stdout, and list says so.
    env.expect(["list"])
        .stdout("")
        .stderr("No profiles in the Secret Service. Add one with `awskeep add PROFILE`.\n")
        .run();
    assert!(!env.read_config().contains("credential-process"));
}

#[test]
fn migrate_takes_profiles_as_arguments_or_flags() {
    let env = TestEnv::new();
    env.write_credentials(
        "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
         [prod]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\naws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n",
    );
    let by_argument = env.expect(["migrate", "--dry-run", "dev"]).run().stderr;
    assert!(
        by_argument.contains("dev") && !by_argument.contains("prod"),
        "{by_argument}"
    );
    env.expect(["migrate", "--dry-run", "--profile", "dev"])
        .stderr(&by_argument)
        .run();
    let both = env
        .expect(["migrate", "--dry-run", "dev", "--profile", "prod"])
        .run()
        .stderr;
    assert!(both.contains("dev") && both.contains("prod"), "{both}");
}

#[test]
fn completions_for_bash_complete_commands_flags_and_the_configs_profile_names() {
    let env = TestEnv::without_keyring();
    env.write_config("[profile dev]\nregion = eu-west-1\n\n[default]\nregion = us-east-1\n\n[profile \"odd name\"]\nregion = x\n");
    env.write_credentials("[prod]\naws_access_key_id = AKIAEXAMPLE\n");
    let bin = env!("CARGO_BIN_EXE_awskeep");
    // What bash does at a TAB: the registered function, with the words typed so far.
    let tab = |words: &[&str]| {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let script = format!(
            "source <('{bin}' completions bash) || exit 9; complete -p awskeep >&2; \
             COMP_WORDS=({words}); COMP_CWORD={cword}; \
             _clap_complete_awskeep awskeep {current} {previous}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words = quoted.join(" "),
            cword = words.len() - 1,
            current = quoted[words.len() - 1],
            previous = quoted[words.len() - 2],
        );
        let run = env
            .command("bash")
            .arg("-c")
            .arg(script)
            .output()
            .expect("bash runs");
        assert!(run.status.success(), "{run:?}");
        assert!(
            String::from_utf8_lossy(&run.stderr).contains("-F _clap_complete_awskeep awskeep"),
            "{run:?}"
        );
        String::from_utf8_lossy(&run.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let offered = tab(&["awskeep", "remove", ""]);
    for profile in ["dev", "default", "prod"] {
        assert!(
            offered.iter().any(|o| o == profile),
            "{profile} not in {offered:?}"
        );
    }
    assert!(
        !offered.iter().any(|o| o.contains("odd")),
        "a name awskeep refuses: {offered:?}"
    );
    assert_eq!(
        tab(&["awskeep", "exec", "--profile", "d"]),
        ["dev", "default"]
    );
    assert_eq!(tab(&["awskeep", "rot"]), ["rotate"]);
    assert!(tab(&["awskeep", "rotate", "--al"]).contains(&"--all".to_string()));
    // The profile list follows the config as it is now: no script to regenerate.
    env.append_config("\n[profile staging]\nregion = eu-west-1\n");
    assert!(tab(&["awskeep", "doctor", "st"]).contains(&"staging".to_string()));

    // The other shells' scripts register awskeep the same way, and its answers for them hold the
    // profile names (zsh, fish and PowerShell are not installed here to run their scripts).
    for (shell, needle) in [
        ("zsh", "#compdef awskeep"),
        (
            "fish",
            "complete --keep-order --exclusive --command awskeep",
        ),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = env.expect(["completions", shell]).stderr("").run().stdout;
        assert!(
            script.contains(needle) && script.contains("AWSKEEP_COMPLETE"),
            "{shell}: {script}"
        );
    }
    for shell in ["fish", "powershell"] {
        let mut command = env.awskeep();
        command
            .env("AWSKEEP_COMPLETE", shell)
            .args(["--", "awskeep", "remove", ""]);
        let output = command.output().unwrap();
        let answer = String::from_utf8_lossy(&output.stdout);
        assert!(
            answer.lines().any(|l| l == "dev") && answer.lines().any(|l| l == "prod"),
            "{shell}: {answer}"
        );
    }
}

#[test]
fn man_prints_roff_that_man_renders() {
    let env = TestEnv::without_keyring();
    let page = env.expect(["man"]).stderr("").run().stdout;
    assert!(
        page.lines().any(|l| l.starts_with(".TH awskeep 1 ")),
        "{page}"
    );
    let add = env.expect(["man", "add"]).stderr("").run().stdout;
    assert!(
        add.lines().any(|l| l.starts_with(".TH awskeep-add 1 ")),
        "{add}"
    );
    for roff in [page, add] {
        // groff -ww warns about anything it cannot typeset; -z renders without output.
        let mut groff = env.command("groff");
        groff.args(["-man", "-Tutf8", "-ww"]);
        let rendered = common::run_with_stdin(groff, &roff);
        assert_eq!(rendered.code(), 0, "{}", rendered.stderr);
        assert_eq!(rendered.stderr, "");
        assert!(
            rendered.stdout.contains("credential"),
            "{}",
            rendered.stdout
        );
    }
    env.expect(["man", "nope"])
        .stderr_contains("awskeep has no command \"nope\"")
        .status(2)
        .run();
}

#[test]
fn every_command_help_has_an_example_and_add_says_what_stdin_takes_and_its_region_default() {
    let env = TestEnv::without_keyring();
    for command in [
        vec!["add"],
        vec!["credential-process"],
        vec!["list"],
        vec!["remove"],
        vec!["bootstrap"],
        vec!["rotate"],
        vec!["migrate"],
        vec!["import"],
        vec!["session"],
        vec!["session", "clear"],
        vec!["session", "refresh"],
        vec!["unlock"],
        vec!["lock"],
        vec!["store"],
        vec!["store", "show"],
        vec!["store", "move"],
        vec!["completions"],
        vec!["man"],
        vec![],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let example = format!("  awskeep {}", command.join(" "));
        env.expect(args)
            .stdout_contains("Examples")
            .stdout_contains(example.trim_end())
            .stderr("")
            .run();
    }
    env.expect(["add", "--help"])
        .stdout_contains("the access key ID and the secret access key on two lines")
        .stdout_contains("a credential_process JSON object")
        .stdout_contains("--csv")
        // The region's default names both variables, as the README lists them.
        .stdout_contains("AWS_REGION / AWS_DEFAULT_REGION")
        .run();
}

#[test]
fn store_is_a_global_option_apart_from_each_command_own_options() {
    let env = TestEnv::without_keyring();
    let help = env.expect(["list", "--help"]).stderr("").run().stdout;
    let (own, global) = help
        .split_once("Global options:")
        .expect("a Global options heading");
    assert!(!own.contains("--store"), "{help}");
    assert!(global.contains("--store"), "{help}");
}

/// Protects the 128-character limit on a profile name, through the real binary: 128 is added
/// and served, 129 is refused before anything is read or written.
#[test]
fn a_profile_name_of_128_characters_is_served_and_of_129_refused() {
    let env = TestEnv::new();
    let key = "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let longest = "p".repeat(128);
    env.expect(["add", &longest, "--no-verify", "--session", "off"])
        .stdin(key)
        .stdout("")
        .run();
    env.expect(["credential-process", "--profile", &longest])
        .stdout_contains("\"AccessKeyId\":\"AKIAIOSFODNN7EXAMPLE\"")
        .stderr("")
        .run();
    let too_long = "p".repeat(129);
    for args in [
        vec!["add", too_long.as_str(), "--no-verify"],
        vec!["credential-process", "--profile", too_long.as_str()],
    ] {
        env.expect(args)
            .stdin(key)
            .stdout("")
            .stderr_contains("it is longer than 128 characters")
            .status(2)
            .run();
    }
    assert!(!env.read_config().contains(&too_long));
}

/// Runs `args` with stdout and/or stderr a pipe whose reader has already gone (what `| head -0`
/// becomes once head has exited): every write there fails with EPIPE. Returns the exit code and
/// what reached the other stream.
fn with_reader_gone(
    env: &TestEnv,
    args: &[&str],
    stdout_gone: bool,
    stderr_gone: bool,
) -> (i32, String) {
    use std::process::Stdio;
    let gone = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Stdio::from(writer)
    };
    let mut command = env.awskeep();
    command.args(args).stdin(Stdio::null());
    let capture_stderr = !stderr_gone;
    command.stdout(if stdout_gone { gone() } else { Stdio::null() });
    command.stderr(if stderr_gone { gone() } else { Stdio::piped() });
    let output = command.output().unwrap();
    let other = if capture_stderr {
        String::from_utf8_lossy(&output.stderr).into_owned()
    } else {
        String::new()
    };
    (output.status.code().unwrap_or(-1), other)
}

#[test]
fn a_reader_that_has_gone_ends_the_command_quietly_with_its_usual_status() {
    let env = TestEnv::without_keyring();
    env.write_config("[profile dev]\nregion = eu-west-1\n");
    for args in [
        &["doctor", "--json", "--offline"][..],
        &["doctor", "--offline"],
        &["list", "--json"],
        &["completions", "bash"],
        &["man"],
        &["man", "add"],
        &["--help"],
        &["store", "show"],
    ] {
        let usual = env
            .awskeep()
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let usual_code = usual.status.code().unwrap();
        assert_ne!(usual_code, 101, "{args:?}");
        // stdout gone: no error line about it, the same status.
        let (code, stderr) = with_reader_gone(&env, args, true, false);
        assert_eq!(
            code, usual_code,
            "{args:?} with stdout's reader gone: {stderr}"
        );
        assert_eq!(stderr, String::from_utf8_lossy(&usual.stderr), "{args:?}");
        // stderr gone too, with --verbose writing steps there: never a panic (101).
        let mut verbose = vec!["-v"];
        verbose.extend_from_slice(args);
        let (code, _) = with_reader_gone(&env, &verbose, true, true);
        assert_eq!(code, usual_code, "{verbose:?} with both readers gone");
    }
    // A failing command whose error line cannot be shown still exits with its status.
    let (code, _) = with_reader_gone(
        &env,
        &["credential-process", "--profile", "nosuch"],
        false,
        true,
    );
    let usual = env.run(&["credential-process", "--profile", "nosuch"], "");
    assert_ne!(usual.code(), 0);
    assert_eq!(code, usual.code());
    // And a usage error.
    let (code, _) = with_reader_gone(&env, &["lsit"], true, true);
    assert_eq!(code, 2);
}

/// Every page `awskeep man` can make, from its own error that lists them.
fn man_pages(env: &TestEnv) -> Vec<String> {
    let run = env.run(&["man", "no-such-page"], "");
    let listed = run
        .stderr
        .split("(it has ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("{}", run.stderr))
        .to_string();
    listed.split(", ").map(str::to_string).collect()
}

#[test]
fn every_page_a_man_page_names_can_be_generated_and_the_readme_loop_makes_them_all() {
    let env = TestEnv::without_keyring();
    let pages = man_pages(&env);
    for nested in [
        "session-clear",
        "session-refresh",
        "store-show",
        "store-move",
        "add",
    ] {
        assert!(pages.iter().any(|p| p == nested), "{pages:?}");
    }
    assert!(!pages.iter().any(|p| p.contains("help")), "{pages:?}");
    let mut all = vec![String::new()];
    all.extend(pages.iter().cloned());
    for page in &all {
        let args: Vec<&str> = std::iter::once("man")
            .chain(Some(page.as_str()).filter(|p| !p.is_empty()))
            .collect();
        let run = env.run(&args, "");
        run.assert_ok();
        let title = if page.is_empty() {
            "awskeep".to_string()
        } else {
            format!("awskeep-{page}")
        };
        assert!(
            run.stdout.contains(&format!(
                ".TH {title} 1  \"awskeep {}\"",
                env!("CARGO_PKG_VERSION")
            )),
            "{page}: {}",
            run.stdout.lines().take(4).collect::<Vec<_>>().join("\n")
        );
        // Each page it names (`awskeep\-session\-clear(1)`) is one awskeep man makes.
        for named in run.stdout.split("awskeep\\-").skip(1) {
            let length = named
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '\\' || c == '-'))
                .unwrap_or(named.len());
            if !named[length..].starts_with("(1)") {
                continue;
            }
            let name = named[..length].replace("\\-", "-");
            assert!(
                pages.contains(&name),
                "{page} names awskeep-{name}(1), which cannot be generated"
            );
        }
    }
    // The nested form works as well as the joined one.
    assert_eq!(
        env.run(&["man", "session", "clear"], "").stdout,
        env.run(&["man", "session-clear"], "").stdout
    );
    // The README's loop installs every page.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let loop_line = readme
        .lines()
        .find(|l| {
            l.starts_with("for c in ") && l.contains("awskeep man") || l.starts_with("for c in add")
        })
        .expect("the README's man page loop");
    let looped: Vec<&str> = loop_line
        .trim_start_matches("for c in ")
        .split(';')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    for page in &pages {
        assert!(
            looped.contains(&page.as_str()),
            "the README's loop misses {page}"
        );
    }
}

#[test]
fn every_region_flag_checks_its_value_and_session_takes_on_or_off() {
    let env = TestEnv::without_keyring();
    for args in [
        &["rotate", "dev", "--region", "eu west"][..],
        &["add", "dev", "--region", "eu west"],
        &["migrate", "--region", "eu west"],
        &["import", "--csv", "x.csv", "--region", "eu west"],
    ] {
        let run = env.run(args, "");
        assert_eq!(run.code(), 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("invalid value 'eu west' for '--region"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = env.run(&["add", "dev", "--session", "maybe"], "");
    assert_eq!(run.code(), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("[possible values: on, off]"),
        "{}",
        run.stderr
    );
}
