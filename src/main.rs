//! Parses the command line, runs it, and turns an error into one stderr line and an exit code.
use clap::Parser;

fn main() {
    let cli = awskeep::cli::Cli::parse();
    if let Err(error) = awskeep::run(cli) {
        awskeep::output::error_line(&error);
        std::process::exit(error.exit_code());
    }
}
