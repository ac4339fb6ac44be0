//! Build-time choices that depend on the machine awskeep is built on.
//!
//! Linux with glibc 2.36 or later: the binary is linked with its ~34,000 relative relocations (the
//! AWS SDK's vtables and string tables) packed as DT_RELR (`-z pack-relative-relocs`). The loader
//! then reads a few KB instead of an 800 KB table before `main`, so `credential-process`, which
//! every AWS CLI and SDK process runs, starts sooner (scripts/bench measures it). The binary stays
//! position independent: ASLR is kept. An older glibc cannot load such a binary, so there (and when
//! cross-compiling, where this machine's glibc says nothing about the target's) nothing is added.

#![allow(
    clippy::print_stdout,
    reason = "cargo reads a build script's instructions from its stdout"
)]

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && glibc_loads_relr()
    {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc is 2.36 or later (`getconf GNU_LIBC_VERSION` says `glibc 2.36`).
fn glibc_loads_relr() -> bool {
    let Ok(output) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut numbers = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
