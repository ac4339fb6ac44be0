//! `awskeep import --csv FILE...`: adds the keys of several AWS console CSV downloads, one profile
//! each (from `--profile`, in order, or asked on the terminal), through the same path as `add`, then
//! offers to delete the CSV files (default no; `--delete-csv` answers yes).

use crate::cli::{AddArgs, ImportArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::prompt;
use crate::store::facade::CredentialStore;
use crate::store::kind::StoreKind;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    store_choice: Option<StoreKind>,
    args: ImportArgs,
) -> Result<()> {
    if !args.profiles.is_empty() && args.profiles.len() != args.csv.len() {
        return Err(Error::ImportProfileCount {
            csv_files: args.csv.len(),
            profiles: args.profiles.len(),
        });
    }
    let mut profiles: Vec<ProfileName> = Vec::with_capacity(args.csv.len());
    for (index, file) in args.csv.iter().enumerate() {
        let profile = match args.profiles.get(index) {
            Some(profile) => profile.clone(),
            None => ask_profile(ctx, file)?,
        };
        // Two files for one profile: the second would replace the first, whose CSV would then be
        // deleted with its key stored nowhere. Refused before anything is added or deleted.
        if profiles.contains(&profile) {
            return Err(Error::ImportProfileTwice {
                profile: profile.to_string(),
            });
        }
        profiles.push(profile);
    }
    for (file, profile) in args.csv.iter().zip(profiles.iter().cloned()) {
        super::add::add_profile(
            ctx,
            store,
            aws,
            store_choice,
            AddArgs {
                profile,
                csv: Some(file.clone()),
                no_verify: args.no_verify,
                force: args.force,
                region: args.region.clone(),
                session: Default::default(),
            },
            super::add::CsvAdvice::LeaveToCaller,
        )?;
    }
    let names: Vec<String> = args.csv.iter().map(|p| p.display().to_string()).collect();
    let delete = args.delete_csv
        || (ctx.stdin_is_terminal
            && prompt::confirm(
                "Delete these CSV files now that the keys are stored?",
                false,
                "--delete-csv",
                true,
            )
            .is_ok());
    if delete {
        for (file, profile) in args.csv.iter().zip(&profiles) {
            // Only a file that still holds exactly the key now stored goes (it may have been
            // rewritten while awskeep worked).
            if still_stored(store, profile, file) {
                delete_csv(file)?;
                output::say(&format!("Deleted {}.", file.display()));
            } else {
                output::say(&format!(
                    "Kept {}: it no longer holds the key stored for {profile}.",
                    file.display()
                ));
            }
        }
    } else {
        let kept = if names.len() == 1 {
            "it still holds the secret in plain text; delete it once the profile works"
        } else {
            "they still hold the secrets in plain text; delete them once the profiles work"
        };
        output::say(&format!("Kept {}: {kept}.", names.join(", ")));
    }
    Ok(())
}

fn still_stored(store: &CredentialStore, profile: &ProfileName, file: &std::path::Path) -> bool {
    let (Ok(now), Ok(Some(stored))) = (crate::key_input::read_csv(file), store.get(profile)) else {
        return false;
    };
    now.access_key_id == stored.key.access_key_id
        && now.secret_access_key.expose_secret() == stored.key.secret_access_key.expose_secret()
}

/// Deletes the file that holds the secret: through a symlink, its target (and then the link).
fn delete_csv(file: &std::path::Path) -> Result<()> {
    let failed = |path: &std::path::Path, source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let holder = std::fs::canonicalize(file).map_err(|e| failed(file, e))?;
    std::fs::remove_file(&holder).map_err(|e| failed(&holder, e))?;
    if holder != file && std::fs::symlink_metadata(file).is_ok() {
        std::fs::remove_file(file).map_err(|e| failed(file, e))?;
    }
    Ok(())
}

fn ask_profile(ctx: &Context, file: &std::path::Path) -> Result<ProfileName> {
    if !ctx.stdin_is_terminal {
        return Err(Error::NeedsAnswer {
            question: format!("Profile name for {}", file.display()),
            flag: "--profile",
        });
    }
    let answer = prompt::ask_line(&format!("Profile name for {}: ", file.display()))?;
    ProfileName::parse(answer.trim())
}
