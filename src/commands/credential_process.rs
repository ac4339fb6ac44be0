//! `awskeep credential-process`: the hot path every AWS CLI and SDK call runs. It reads one store item
//! and prints the JSON. It reads no file, builds no AWS client or async runtime, makes no network
//! call, and never reads stdin (JS and Java hand the helper a pipe that never closes).

use crate::cli::CredentialProcessArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::store::CredentialStore;

pub fn run(ctx: &Context, store: &dyn CredentialStore, args: CredentialProcessArgs) -> Result<()> {
    let profile = match args.profile {
        Some(profile) => profile,
        None => ProfileName::parse(ctx.env_profile.as_deref().unwrap_or("default"))?,
    };
    output::trace(
        ctx.verbose,
        &format!(
            "reading profile {profile} from the {}",
            store.display_name()
        ),
    );
    let key = store.get(&profile)?.ok_or_else(|| Error::NoStoredKey {
        profile: profile.to_string(),
        store: store.display_name(),
    })?;
    output::trace(
        ctx.verbose,
        &format!(
            "serving key {} for profile {profile}",
            key.key.access_key_id
        ),
    );
    output::print_credentials(&key)
}
