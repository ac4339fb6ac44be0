//! `awskeep add PROFILE`: takes a key from the terminal, stdin or a console CSV, checks it with STS,
//! stores it, and points the profile's `credential_process` at awskeep. Every check that can refuse
//! runs before the secret is read; the store write and the config edit succeed together or the store
//! is put back as it was.

use std::time::SystemTime;

use crate::cli::AddArgs;
use crate::config_file::LoadedFile;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::key_input;
use crate::output;
use crate::prompt;
use crate::region_plan::RegionPlan;
use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey, StoredKey};
use crate::store::facade::CredentialStore;
use crate::store::kind::StoreKind;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    store_choice: Option<StoreKind>,
    args: AddArgs,
) -> Result<()> {
    add_profile(ctx, store, aws, store_choice, args, CsvAdvice::Give)
}

/// Whether add ends by saying the CSV still holds the secret: `import` says it once for all its
/// files, with its offer to delete them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvAdvice {
    Give,
    LeaveToCaller,
}

pub fn add_profile(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    store_choice: Option<StoreKind>,
    args: AddArgs,
    csv_advice: CsvAdvice,
) -> Result<()> {
    let profile = &args.profile;
    let crate::profile_setup::NewProfile {
        mut config,
        credentials,
        line,
        previous,
    } = crate::profile_setup::prepare_new_profile(ctx, store, store_choice, profile, args.force)?;
    let region = crate::region_plan::plan(
        ctx,
        config.document(),
        credentials.document(),
        profile,
        args.region.as_deref(),
        None,
    );

    let key = read_key(ctx, &args)?;
    let owner = if args.no_verify {
        output::trace(ctx.verbose, "skipping the STS check (--no-verify)");
        None
    } else {
        Some(crate::profile_setup::verify_key(
            ctx,
            aws,
            args.region.as_deref(),
            region.region(),
            &key,
        )?)
    };
    let created = match &owner {
        Some(owner) => match crate::profile_setup::key_created(
            ctx,
            aws,
            args.region.as_deref(),
            region.region(),
            &key,
            owner,
        ) {
            Ok(created) => created,
            Err(e) => {
                crate::profile_setup::say_creation_unknown(&[profile.to_string()], &e.cause_line());
                None
            }
        },
        None => None,
    };
    let stored = StoredKey::new(key, owner, SystemTime::now()).created_in_iam(created);

    output::trace(
        ctx.verbose,
        &format!("writing profile {profile} to the {}", store.display_name()),
    );
    config.set(profile, "credential_process", &line);
    crate::profile_setup::apply_session_flags(&mut config, profile, &args.session);
    region.apply(&mut config, profile);
    crate::profile_setup::store_then_configure(store, profile, &stored, previous.as_ref(), || {
        crate::profile_setup::save_profile(&config, profile, Some(line.as_str()), region.written())
    })?;
    crate::profile_setup::drop_session(store, profile);
    crate::profile_setup::warn_shared_key(store, profile, &stored.key.access_key_id);
    output::trace(
        ctx.verbose,
        &format!("wrote credential_process to {}", config.path.display()),
    );
    report(
        &args,
        &stored,
        store.display_name(),
        &config,
        &region,
        csv_advice,
    );
    Ok(())
}

fn read_key(ctx: &Context, args: &AddArgs) -> Result<KeyPair> {
    if let Some(path) = &args.csv {
        return key_input::read_csv(path);
    }
    if !ctx.stdin_is_terminal {
        output::trace(ctx.verbose, "reading the key from stdin");
        return key_input::read_stdin();
    }
    let id = prompt::ask_line("Access key ID: ")?;
    let access_key_id = AccessKeyId::parse(&id).map_err(|r| Error::BadKeyInput {
        reason: format!("the access key ID is not valid: {r}"),
    })?;
    if access_key_id.is_temporary() {
        return Err(Error::TemporaryKey);
    }
    let secret = prompt::ask_hidden("Secret access key (not shown): ")?;
    let secret_access_key = SecretAccessKey::parse(&secret).map_err(|r| Error::BadKeyInput {
        reason: format!("the secret is not valid: {r}"),
    })?;
    Ok(KeyPair {
        access_key_id,
        secret_access_key,
    })
}

fn report(
    args: &AddArgs,
    stored: &StoredKey,
    store: &str,
    config: &LoadedFile,
    region: &RegionPlan,
    csv_advice: CsvAdvice,
) {
    let profile = &args.profile;
    let whose = match &stored.owner {
        Some(owner) => format!("{} (account {})", owner.arn, owner.account_id),
        None => "an unverified owner".to_string(),
    };
    output::say(&format!(
        "Stored key {} of {whose} in the {store} as profile {profile}; {} now runs awskeep for it.",
        stored.key.access_key_id,
        config.path.display()
    ));
    region.report(profile, args.region.as_deref());
    output::say(&format!("Try: {}", region.suggestion(profile)));
    if let Some(csv) = args.csv.as_ref().filter(|_| csv_advice == CsvAdvice::Give) {
        output::say(&format!(
            "The CSV file {} still holds the secret in plain text; delete it once the profile works.",
            csv.display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile_name::ProfileName;
    use crate::profile_setup::store_then_configure;
    use crate::store::memory::MemoryStore;
    use std::path::Path;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const OTHER_ID: &str = "AKIAI44QH8DHBEXAMPLE";

    fn context(dir: &Path, config_file: std::path::PathBuf) -> Context {
        Context {
            config_file,
            ..Context::for_test(dir)
        }
    }

    fn csv(dir: &Path, id: &str) -> std::path::PathBuf {
        let path = dir.join(format!("{id}.csv"));
        std::fs::write(
            &path,
            format!("Access key ID,Secret access key\n{id},secret/{id}\n"),
        )
        .unwrap();
        path
    }

    fn args(dir: &Path, id: &str, force: bool) -> AddArgs {
        AddArgs {
            profile: ProfileName::parse("dev").unwrap(),
            csv: Some(csv(dir, id)),
            no_verify: true,
            force,
            region: None,
            session: Default::default(),
        }
    }

    fn stored_id(store: &MemoryStore) -> Option<String> {
        store
            .get(&ProfileName::parse("dev").unwrap())
            .unwrap()
            .map(|k| k.key.access_key_id.as_str().to_string())
    }

    fn key(id: &str) -> StoredKey {
        StoredKey {
            key: KeyPair {
                access_key_id: AccessKeyId::parse(id).unwrap(),
                secret_access_key: SecretAccessKey::parse("secret").unwrap(),
            },
            owner: None,
            added_at: SystemTime::now(),
            iam_created_at: None,
            rotation: Default::default(),
        }
    }

    fn config_write_fails() -> Result<()> {
        Err(Error::WriteFile {
            path: "config".into(),
            source: std::io::Error::other("disk full"),
        })
    }

    #[test]
    fn a_failed_config_write_takes_the_new_item_out_again() {
        let store = MemoryStore::default();
        let profile = ProfileName::parse("dev").unwrap();
        let err =
            store_then_configure(&store, &profile, &key(ID), None, config_write_fails).unwrap_err();
        assert!(matches!(err, Error::WriteFile { .. }), "{err:?}");
        assert_eq!(stored_id(&store), None);
    }

    #[test]
    fn a_failed_config_write_puts_the_previous_key_back() {
        let store = MemoryStore::default();
        let profile = ProfileName::parse("dev").unwrap();
        let previous = key(ID);
        store.set(&profile, &previous).unwrap();
        store_then_configure(
            &store,
            &profile,
            &key(OTHER_ID),
            Some(&previous),
            config_write_fails,
        )
        .unwrap_err();
        assert_eq!(stored_id(&store).as_deref(), Some(ID));
    }

    #[test]
    fn add_through_run_writes_both_and_re_add_with_force_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), dir.path().join("config"));
        let store = MemoryStore::default();
        run(
            &ctx,
            &store,
            &crate::aws::SdkAws,
            None,
            args(dir.path(), ID, false),
        )
        .unwrap();
        assert_eq!(stored_id(&store).as_deref(), Some(ID));
        let err = run(
            &ctx,
            &store,
            &crate::aws::SdkAws,
            None,
            args(dir.path(), OTHER_ID, false),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NeedsAnswer {
                    flag: "--force",
                    ..
                }
            ),
            "{err:?}"
        );
        run(
            &ctx,
            &store,
            &crate::aws::SdkAws,
            None,
            args(dir.path(), OTHER_ID, true),
        )
        .unwrap();
        assert_eq!(stored_id(&store).as_deref(), Some(OTHER_ID));
        let config = std::fs::read_to_string(&ctx.config_file).unwrap();
        assert_eq!(config.matches("credential_process").count(), 1, "{config}");
    }

    #[test]
    fn a_verified_key_records_its_owner_and_a_rejected_one_changes_nothing() {
        use crate::aws::fake::{ARN, FakeAws};
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), dir.path().join("config"));
        let store = MemoryStore::default();
        let aws = FakeAws::default();
        let mut verified = args(dir.path(), ID, false);
        verified.no_verify = false;
        run(&ctx, &store, &aws, None, verified).unwrap();
        assert_eq!(aws.calls.get(), 2, "GetCallerIdentity, then ListAccessKeys");
        let stored = store
            .get(&ProfileName::parse("dev").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(stored.owner.unwrap().arn, ARN);
        assert_eq!(
            stored.iam_created_at,
            humantime::parse_rfc3339(crate::aws::fake::CREATED).ok(),
            "the key's age is IAM's"
        );

        let other = tempfile::tempdir().unwrap();
        let ctx = context(other.path(), other.path().join("config"));
        let store = MemoryStore::default();
        let mut rejected = args(other.path(), "AKIAREJECTEDKEY00001", false);
        rejected.no_verify = false;
        let err = run(&ctx, &store, &aws, None, rejected).unwrap_err();
        assert!(matches!(err, Error::KeyRejected { .. }), "{err:?}");
        assert_eq!(stored_id(&store), None);
        assert!(!ctx.config_file.exists());
    }

    /// A key that may not list its own keys is still added; its IAM date is then unknown.
    #[test]
    fn a_key_without_list_access_keys_is_added_with_its_date_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), dir.path().join("config"));
        let store = MemoryStore::default();
        let mut denied = args(dir.path(), "AKIANOLISTKEY0000001", false);
        denied.no_verify = false;
        run(
            &ctx,
            &store,
            &crate::aws::fake::FakeAws::default(),
            None,
            denied,
        )
        .unwrap();
        let stored = store
            .get(&ProfileName::parse("dev").unwrap())
            .unwrap()
            .unwrap();
        assert!(stored.owner.is_some());
        assert_eq!(stored.iam_created_at, None);
    }

    #[test]
    fn a_store_write_failure_leaves_the_config_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), dir.path().join("config"));
        std::fs::write(&ctx.config_file, "# mine\n").unwrap();
        let store = MemoryStore::default();
        // Call 1 is the existence check; call 2, the write, fails.
        store.fail_call(
            2,
            Error::StoreLocked {
                store: crate::store::kind::Flavor::SecretService,
            },
        );
        let err = run(
            &ctx,
            &store,
            &crate::aws::SdkAws,
            None,
            args(dir.path(), ID, false),
        )
        .unwrap_err();
        assert!(matches!(err, Error::StoreLocked { .. }), "{err:?}");
        assert_eq!(
            std::fs::read_to_string(&ctx.config_file).unwrap(),
            "# mine\n"
        );
    }
}
