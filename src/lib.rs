//! awskeep: AWS access keys in the OS keychain, served to every AWS client as `credential_process`.
//!
//! Data flows one way: arguments (`cli`) -> a command (`commands`) -> the profile files (`profile`,
//! `config_file`), the credential store (`store`), AWS (`aws`) -> output (`output`). `run` is what
//! `main` and the tests call.
#![forbid(unsafe_code)]

mod aws;
pub mod cli;
mod commands;
pub mod completion;
mod config_file;
mod context;
mod credentials;
pub mod error;
mod helper;
mod hint;
pub mod hygiene;
mod interrupts;
mod key_age;
mod key_input;
mod lease;
mod lock;
mod mfa;
pub mod output;
pub mod process_line;
mod profile;
mod profile_name;
mod profile_setup;
mod prompt;
mod region_name;
mod region_plan;
mod rotation;
mod secret;
mod section_header;
mod session;
mod settings;
mod store;
mod test_points;

use cli::{Cli, Command};
use context::Context;
use error::Result;

/// Runs one parsed command line; `caller_limits` are the limits `hygiene` lowered at start.
pub fn run(cli: Cli, caller_limits: hygiene::CallerLimits) -> Result<()> {
    // These print what clap generates: no environment, store or AWS is needed (or opened).
    match cli.command {
        Command::Completions(args) => return commands::completions::run(args),
        Command::Man(args) => return commands::man::run(args),
        _ => {}
    }
    let mut ctx = Context::from_env(cli.verbose, caller_limits)?;
    // A rotation's detached finisher waits before it opens any store (it opens it itself).
    let cli = match cli.command {
        Command::Rotate(args) if args.finish_retirement_after.is_some() => {
            return commands::rotate::finish_in_background(&ctx, cli.store, args);
        }
        command => Cli { command, ..cli },
    };
    // doctor reports a store it cannot open as one of its findings, so it opens the store itself.
    if let Command::Doctor(args) = &cli.command {
        return commands::doctor::run_opening(&ctx, cli.store, &aws::SdkAws, args);
    }
    if let Command::Store(args) = cli.command {
        // Opens the stores it moves between itself.
        return commands::store::run(&ctx, cli.store, args);
    }
    // lock opens no store: it forgets what awskeep keeps open, whichever store is in use.
    if let Command::Lock = cli.command {
        return commands::unlock::lock(&ctx, cli.store);
    }
    let asked = cli.store;
    // credential-process may be answered by the credential cache: its store opens when used.
    let opening = match cli.command {
        Command::CredentialProcess(_) => store::open::Opening::WhenUsed,
        _ => store::open::Opening::Now,
    };
    let unlock_timeout = || commands::unlock::unlock_timeout(&ctx);
    let opened = store::open::open(asked, &ctx, opening, &unlock_timeout)?;
    ctx.opened_store = Some(opened.kind);
    output::trace(
        ctx.verbose,
        &format!(
            "using the {} ({})",
            opened.store.display_name(),
            opened.reason.describe()
        ),
    );
    run_with(&ctx, &opened.store, &aws::SdkAws, cli)
}

/// Runs a command against the given context, store and AWS: what `run` does once they are open,
/// and what unit tests call with a test store and a fake AWS.
pub fn run_with(
    ctx: &Context,
    store: &store::facade::CredentialStore,
    aws: &dyn aws::Aws,
    cli: Cli,
) -> Result<()> {
    match cli.command {
        Command::Add(args) => commands::add::run(ctx, store, aws, cli.store, args),
        Command::CredentialProcess(args) => {
            commands::credential_process::run(ctx, store, aws, args)
        }
        Command::List(args) => commands::list::run(ctx, store, args),
        Command::Remove(args) => commands::remove::run(ctx, store, aws, args),
        Command::Bootstrap(args) => commands::bootstrap::run(ctx, store, aws, cli.store, args),
        Command::Rotate(args) => commands::rotate::run(ctx, store, aws, args),
        Command::Migrate(args) => commands::migrate::run(ctx, store, aws, cli.store, args),
        Command::Session(args) => commands::session::run(ctx, store, aws, args),
        Command::Exec(args) => commands::exec::run(ctx, store, aws, args),
        Command::Export(args) => commands::export::run(ctx, store, aws, args),
        Command::Serve(args) => commands::serve::run(ctx, store, aws, args),
        Command::Import(args) => commands::import::run(ctx, store, aws, cli.store, args),
        Command::Doctor(args) => commands::doctor::run(ctx, store, aws, args),
        Command::Unlock(args) => commands::unlock::unlock(store, args),
        Command::Lock => commands::unlock::lock(ctx, cli.store),
        Command::Store(args) => commands::store::run(ctx, cli.store, args),
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
    }
}
