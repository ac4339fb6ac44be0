//! `awskeep serve --profile P`: a credential endpoint on 127.0.0.1 that speaks the container
//! credential provider protocol, so containers and long-running programs get the profile's
//! sessions with `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
//!
//! The endpoint itself (the token, what it answers and refuses, how it keeps serving whoever
//! connects) is `crate::endpoint`, shared with `exec --server`. This command checks the profile,
//! prints the two variables on stdout for the caller to hand on, and answers until it is stopped.

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::cli::{CommandKind, ServeArgs, ServeFormat};
use crate::commands::export::Shell;
use crate::context::Context;
use crate::credentials;
use crate::endpoint::{Endpoint, Source};
use crate::error::Result;
use crate::output;
use crate::store::facade::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: ServeArgs,
) -> Result<()> {
    let profile = credentials::profile_or_default(ctx, args.profile)?;
    let source = Source {
        ctx,
        store,
        aws,
        profile: &profile,
        mfa_process: args.mfa.mfa_process.as_deref(),
        command: CommandKind::Serve,
    };
    drop(source.check()?);
    let endpoint = Endpoint::listen(args.port)?;
    let uri = endpoint.uri().to_string();
    let shell = match args.format {
        ServeFormat::Env => Shell::Sh,
        ServeFormat::Fish => Shell::Fish,
        ServeFormat::Powershell => Shell::Powershell,
    };
    let mut text = Zeroizing::new(String::new());
    shell.set(&mut text, "AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri);
    shell.set(
        &mut text,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        endpoint.token().expose_secret(),
    );
    text.push_str("# docker run --network host -e AWS_CONTAINER_CREDENTIALS_FULL_URI -e AWS_CONTAINER_AUTHORIZATION_TOKEN IMAGE\n");
    output::print_bytes(text.as_bytes())?;
    drop(text);
    output::try_say(&format!(
        "awskeep: serving sessions of profile {profile} at {uri} until stopped (Ctrl-C)."
    ));
    // Nothing stops it but a signal: it answers for as long as the process lives.
    endpoint.serve(&source);
    Ok(())
}
