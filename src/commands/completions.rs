//! `awskeep completions SHELL`: prints the script that registers awskeep as the shell's completer
//! for itself (`crate::completion`): at each TAB the shell asks this binary, which completes from the
//! same definition that parses the command line (never a flag awskeep lacks) and offers the profile
//! names of the AWS config. Needs no store and no network.

use crate::cli::CompletionsArgs;
use crate::error::{Error, Result};
use crate::output;

pub fn run(args: CompletionsArgs) -> Result<()> {
    // The binary that is running now: the script names it by its full path, so completion works
    // whatever PATH the shell has, and follows an upgrade in place.
    let completer = std::env::current_exe()
        .ok()
        .and_then(|path| path.to_str().map(str::to_string))
        .unwrap_or_else(|| "awskeep".to_string());
    let script = crate::completion::registration(args.shell, &completer).map_err(Error::Output)?;
    output::print_bytes(&script)
}
