//! `awskeep credential-process`: the hot path every AWS CLI and SDK call runs. It prints the JSON
//! of what `credentials::resolve` finds: the long-term key, or (sessions on) a cached STS session
//! while it has more than the refresh margin left, through the per-login credential cache
//! (`credentials::process_json`), whose hit opens no store. Only a session miss builds an AWS client, under a
//! cross-process lock so that N processes make one STS call and one MFA prompt. It never reads stdin
//! (JS and Java hand the helper a pipe that never closes).

use crate::cli::CredentialProcessArgs;
use crate::context::Context;
use crate::credentials;
use crate::error::Result;
use crate::output;
use crate::store::facade::CredentialStore;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    args: CredentialProcessArgs,
) -> Result<()> {
    let profile = credentials::profile_or_default(ctx, args.profile)?;
    let json =
        credentials::process_json(ctx, store, aws, &profile, args.mfa.mfa_process.as_deref())?;
    output::print_bytes(json.expose_bytes())
}
