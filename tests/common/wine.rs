//! Windows under Wine: the `x86_64-pc-windows-gnu` build of awskeep (and of the Rust SDK client
//! `sdk_whoami`) run by Debian's `wine64` with the Windows Credential Manager, against the moto
//! server `scripts/test` started. `scripts/test` cross-builds the binaries into
//! `AWSKEEP_TEST_WINE_BIN` (beside a test-only `bcryptprimitives.dll`, see tests/windows/) and makes
//! one Wine prefix, `AWSKEEP_TEST_WINEPREFIX`; each test gets its own copy of it (hard links, with
//! private registry files, which wineserver replaces by rename), so each has its own Credential
//! Manager and wineserver.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Run, TestKey, required_env, run_with_stdin};

pub const WINE: &str = "/usr/lib/wine/wine64";

pub struct WineEnv {
    pub root: tempfile::TempDir,
    pub prefix: PathBuf,
    /// Where the cross-built .exe files are (Linux path).
    pub bin: PathBuf,
    /// Set AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE to files under the temp root.
    pub own_config_files: bool,
    /// AWS_ENDPOINT_URL: the shared moto unless a test points elsewhere.
    pub endpoint: String,
}

/// `Z:\tmp\...`: how a Windows program sees a Linux path (Wine maps Z: to /).
pub fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

impl WineEnv {
    pub fn new() -> Self {
        let template = PathBuf::from(required_env("AWSKEEP_TEST_WINEPREFIX"));
        let bin = PathBuf::from(required_env("AWSKEEP_TEST_WINE_BIN"));
        let root = tempfile::Builder::new()
            .prefix("awskeep-wine.")
            .tempdir()
            .expect("temp dir");
        let prefix = root.path().join("prefix");
        let status = Command::new("cp")
            .arg("-al")
            .arg(&template)
            .arg(&prefix)
            .status()
            .expect("cp");
        assert!(status.success(), "copying the Wine prefix failed");
        for name in ["system.reg", "user.reg", "userdef.reg"] {
            let copy = prefix.join(name);
            std::fs::remove_file(&copy).expect("unlink registry file");
            std::fs::copy(template.join(name), &copy).expect("copy registry file");
        }
        std::fs::create_dir_all(root.path().join("aws")).expect("aws dir");
        Self {
            root,
            prefix,
            bin,
            own_config_files: true,
            endpoint: required_env("AWSKEEP_TEST_MOTO_URL"),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.path().join("aws").join("config")
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.root.path().join("aws").join("credentials")
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// The Windows user's profile folder inside the prefix (`C:\users\NAME`).
    pub fn user_profile_dir(&self) -> PathBuf {
        let users = self.prefix.join("drive_c").join("users");
        std::fs::read_dir(&users)
            .expect("users dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n != "Public"))
            .expect("a user profile in the prefix")
    }

    /// `program` (a Windows path or an .exe under `bin`) under Wine, with a clean environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(WINE);
        command
            .arg(program)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.root.path())
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .current_dir(self.root.path());
        if self.own_config_files {
            command
                .env("AWS_CONFIG_FILE", windows_path(&self.config_path()))
                .env(
                    "AWS_SHARED_CREDENTIALS_FILE",
                    windows_path(&self.credentials_path()),
                );
        }
        command
    }

    pub fn exe(&self, name: &str) -> String {
        windows_path(&self.bin.join(name))
    }

    /// Runs awskeep.exe with `args`, feeding `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = self.command(&self.exe("awskeep.exe"));
        command.args(args);
        run_with_stdin(command, stdin)
    }

    pub fn add(&self, profile: &str, key: &TestKey, extra: &[&str]) -> Run {
        let mut args = vec!["add", profile];
        args.extend_from_slice(extra);
        self.run(&args, &format!("{}\n{}\n", key.id, key.secret))
    }

    /// The Rust SDK, built for Windows, resolving `profile` through credential_process: it runs the
    /// line with `cmd.exe /C`, as on a user's Windows machine.
    pub fn rust_sdk_arn(&self, profile: &str) -> Run {
        let mut command = self.command(&self.exe("sdk_whoami.exe"));
        command.env("AWS_PROFILE", profile);
        run_with_stdin(command, "")
    }

    /// boto3 resolving `profile`, with botocore splitting the credential_process line by its Windows
    /// rules and each resulting argv started under Wine: how botocore runs it on Windows.
    pub fn boto3_arn(&self, profile: &str) -> Run {
        let venv = PathBuf::from(required_env("AWSKEEP_TEST_VENV"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/boto3_windows.py");
        let mut command = Command::new(venv.join("bin/python"));
        command
            .arg(script)
            .arg(profile)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.root.path())
            .env("WINE", WINE)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            // botocore reads the same file the Windows program wrote, through its Linux path.
            .env("AWS_CONFIG_FILE", self.config_path())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_path())
            // awskeep.exe (started by wine64) reads them through their Windows paths.
            .env(
                "AWSKEEP_WINDOWS_CONFIG_FILE",
                windows_path(&self.config_path()),
            )
            .env(
                "AWSKEEP_WINDOWS_CREDENTIALS_FILE",
                windows_path(&self.credentials_path()),
            );
        run_with_stdin(command, "")
    }
}

impl Drop for WineEnv {
    fn drop(&mut self) {
        // Stop this prefix's wineserver so the temp dir can go.
        let _ = Command::new("/usr/lib/wine/wineserver")
            .arg("-k")
            .env("WINEPREFIX", &self.prefix)
            .status();
    }
}
