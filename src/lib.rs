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
mod endpoint;
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
mod role_chain;
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
    // These print what clap generates: they need nothing of the environment (a package build may
    // make the man pages without a HOME), so they run before it is read.
    match cli.command {
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
        command => {
            let ctx = Context::from_env(cli.verbose, caller_limits)?;
            dispatch(&ctx, &Stores::Machine, &aws::SdkAws, cli.store, command)
        }
    }
}

/// Where the store of a command that runs over one comes from: the machine's, opened as that
/// command needs it (`run`), or one a unit test hands in.
pub(crate) enum Stores<'a> {
    Machine,
    #[cfg_attr(not(test), allow(dead_code, reason = "unit tests hand in their store"))]
    Given(&'a store::facade::CredentialStore),
}

/// A store a command runs over: opened for it (and, while it lives, keeping `store move` out), or
/// the one a test gave.
enum StoreFor<'a> {
    Opened(Box<store::open::Opened>),
    Given(&'a store::facade::CredentialStore),
}

impl std::ops::Deref for StoreFor<'_> {
    type Target = store::facade::CredentialStore;
    fn deref(&self) -> &Self::Target {
        match self {
            StoreFor::Opened(opened) => &opened.store,
            StoreFor::Given(store) => store,
        }
    }
}

impl Stores<'_> {
    fn open(
        &self,
        ctx: &Context,
        asked: Option<store::kind::StoreKind>,
        opening: store::open::Opening,
    ) -> Result<StoreFor<'_>> {
        let Stores::Given(store) = self else {
            let unlock_timeout = || commands::unlock::unlock_timeout(ctx);
            let opened = store::open::open(asked, ctx, opening, &unlock_timeout)?;
            ctx.opened_store.set(Some(opened.kind));
            output::trace(
                ctx.verbose,
                &format!(
                    "using the {} ({})",
                    opened.store.display_name(),
                    opened.reason.describe()
                ),
            );
            return Ok(StoreFor::Opened(Box::new(opened)));
        };
        Ok(StoreFor::Given(store))
    }
}

/// The one dispatch of every command that runs with an environment: each arm opens what its
/// command needs (the machine's store for most; for credential-process only when its cache misses;
/// doctor, store, lock and a rotation's detached finisher open theirs themselves) and runs it.
fn dispatch(
    ctx: &Context,
    stores: &Stores<'_>,
    aws: &dyn aws::Aws,
    asked: Option<store::kind::StoreKind>,
    command: Command,
) -> Result<()> {
    use store::open::Opening::{Now, WhenUsed};
    let store = |opening| stores.open(ctx, asked, opening);
    match command {
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
        // Waits before it opens any store (it opens it itself).
        Command::Rotate(args) if args.finish_retirement_after.is_some() => {
            commands::rotate::finish_in_background(ctx, asked, args)
        }
        // A store that cannot be opened is one of its findings, not the end of the report.
        Command::Doctor(args) => commands::doctor::run_opening(ctx, asked, aws, &args),
        // Opens the stores it moves between itself.
        Command::Store(args) => commands::store::run(ctx, asked, args),
        // Opens no store: it forgets what awskeep keeps open, whichever store is in use.
        Command::Lock => commands::unlock::lock(ctx, asked),
        Command::CredentialProcess(args) => {
            commands::credential_process::run(ctx, &*store(WhenUsed)?, aws, args)
        }
        Command::Add(args) => commands::add::run(ctx, &*store(Now)?, aws, asked, args),
        Command::AddRole(args) => commands::add_role::run(ctx, &*store(Now)?, aws, asked, args),
        Command::List(args) => commands::list::run(ctx, &*store(Now)?, args),
        Command::Remove(args) => commands::remove::run(ctx, &*store(Now)?, aws, args),
        Command::Bootstrap(args) => commands::bootstrap::run(ctx, &*store(Now)?, aws, asked, args),
        Command::Rotate(args) => commands::rotate::run(ctx, &*store(Now)?, aws, args),
        Command::Migrate(args) => commands::migrate::run(ctx, &*store(Now)?, aws, asked, args),
        Command::Session(args) => commands::session::run(ctx, &*store(Now)?, aws, args),
        Command::Exec(args) => commands::exec::run(ctx, &*store(Now)?, aws, args),
        Command::Export(args) => commands::export::run(ctx, &*store(Now)?, aws, args),
        Command::Serve(args) => commands::serve::run(ctx, &*store(Now)?, aws, args),
        Command::Login(args) => commands::login::run(ctx, &*store(Now)?, aws, args),
        Command::Import(args) => commands::import::run(ctx, &*store(Now)?, aws, asked, args),
        Command::Unlock(args) => commands::unlock::unlock(&*store(Now)?, args),
    }
}

/// `dispatch` over a store a unit test hands in, with its AWS.
#[cfg(test)]
pub(crate) fn run_with(
    ctx: &Context,
    store: &store::facade::CredentialStore,
    aws: &dyn aws::Aws,
    cli: Cli,
) -> Result<()> {
    dispatch(ctx, &Stores::Given(store), aws, cli.store, cli.command)
}
