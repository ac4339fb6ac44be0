//! Parses the command line, runs it, and turns an error into one stderr line and an exit code.
use clap::Parser;
use clap::error::ErrorKind;

fn main() {
    // At each TAB the shell runs awskeep to complete; one variable read otherwise.
    awskeep::completion::answer_if_asked();
    let caller_limits = awskeep::hygiene::harden_process();
    let cli = match awskeep::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        Err(e) => {
            let command = awskeep::cli::command_path(std::env::args_os());
            awskeep::output::usage_error_line(&e.render().to_string(), &command);
            std::process::exit(awskeep::error::exit::USAGE);
        }
    };
    let command = cli.command.kind();
    if command == awskeep::cli::CommandKind::CredentialProcess {
        awskeep::output::keep_stderr_for_failure();
    }
    if let Err(error) = awskeep::run(cli, caller_limits) {
        awskeep::output::error_line(&error, command);
        std::process::exit(error.exit_code());
    }
}
