//! What the commands that set up a profile awskeep serves (add, bootstrap, migrate, import, and
//! rotate's config side) share: the checks before (plaintext keys, other credential sources, the
//! replace question), the STS check of a key and its IAM creation date, and the store write and
//! config edit that succeed together or leave the store as it was.
use std::path::Path;

use crate::config_file::LoadedFile;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::process_line;
use crate::profile::{Document, FileKind, SettingValue};
use crate::profile_name::ProfileName;
use crate::secret::{KeyOwner, KeyPair, StoredKey};
use crate::store::facade::CredentialStore;

/// Settings that make a profile get credentials some other way; adding credential_process beside them
/// would leave which one wins to each SDK.
pub(crate) const OTHER_SOURCES: &[&str] = &[
    "role_arn",
    "source_profile",
    "credential_source",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
];

pub(crate) fn refuse_plaintext_keys(
    config: &LoadedFile,
    credentials: &LoadedFile,
    profile: &ProfileName,
) -> Result<()> {
    plaintext_keys(
        (&config.path, config.document()),
        (&credentials.path, credentials.document()),
        profile,
    )
}

/// `refuse_plaintext_keys` over parsed documents and their paths (doctor reads them leniently).
pub(crate) fn plaintext_keys(
    config: (&Path, &Document),
    credentials: (&Path, &Document),
    profile: &ProfileName,
) -> Result<()> {
    let has_keys = |document: &Document| {
        [
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
        ]
        .iter()
        .any(|k| document.get(profile.as_str(), k).is_some())
    };
    for ((path, document), section) in [
        (credentials, profile.to_string()),
        (
            config,
            if profile.is_default() {
                "default".into()
            } else {
                format!("profile {profile}")
            },
        ),
    ] {
        if has_keys(document) {
            return Err(Error::ConflictingKeys {
                profile: profile.to_string(),
                what: "plaintext keys",
                path: path.to_path_buf(),
                section,
            });
        }
    }
    Ok(())
}

pub(crate) fn refuse_other_sources(config: &LoadedFile, profile: &ProfileName) -> Result<()> {
    other_sources(&config.path, config.document(), profile)
}

/// `refuse_other_sources` over a parsed document and its path.
pub(crate) fn other_sources(path: &Path, config: &Document, profile: &ProfileName) -> Result<()> {
    match OTHER_SOURCES
        .iter()
        .find(|key| config.get(profile.as_str(), key).is_some())
    {
        Some(key) => Err(Error::ConflictingSource {
            profile: profile.to_string(),
            key: key.to_string(),
            path: path.to_path_buf(),
        }),
        None => Ok(()),
    }
}

pub(crate) fn replace_question(
    profile: &ProfileName,
    previous: Option<&StoredKey>,
    configured: Option<&str>,
    store: &str,
) -> Option<String> {
    let foreign = configured.filter(|line| process_line::awskeep_profile(line).is_none());
    match (previous, foreign) {
        (_, Some(_)) => Some(format!(
            "Profile {profile} already has a credential_process that is not awskeep's. Replace it?"
        )),
        (Some(old), None) => Some(format!(
            "Profile {profile} already holds key {} in the {store}. Replace it?",
            old.key.access_key_id
        )),
        (None, None) => None,
    }
}

/// Saves an edited config whose `credential_process` for `profile` must read back as `expected`
/// (`None`: absent), checked with the SDK's own parser before the file is replaced.
pub(crate) fn save_process_line(
    config: &LoadedFile,
    profile: &ProfileName,
    expected: Option<&str>,
) -> Result<()> {
    save_profile(config, profile, expected, None)
}

/// `save_process_line`, for a profile that also gets `region = expected_region` (when `Some`), which
/// must read back too.
pub(crate) fn save_profile(
    config: &LoadedFile,
    profile: &ProfileName,
    expected: Option<&str>,
    expected_region: Option<&str>,
) -> Result<()> {
    config.save(|text| {
        confirm_edit(
            &config.path,
            FileKind::Config,
            text,
            profile,
            "credential_process",
            expected,
        )?;
        match expected_region {
            Some(region) => confirm_edit(
                &config.path,
                FileKind::Config,
                text,
                profile,
                "region",
                Some(region),
            ),
            None => Ok(()),
        }
    })
}

/// Writes `add`/`bootstrap`'s session flags into the profile's section (nothing when none is given).
pub(crate) fn apply_session_flags(
    config: &mut LoadedFile,
    profile: &ProfileName,
    flags: &crate::cli::SessionFlags,
) {
    if let Some(mode) = flags.session {
        config.set(
            profile,
            "awskeep_session",
            &SettingValue::flag(mode == crate::cli::SessionMode::On),
        );
    }
    if let Some(duration) = flags.session_duration {
        config.set(
            profile,
            "awskeep_session_duration",
            &SettingValue::duration(duration),
        );
    }
    if let Some(serial) = &flags.mfa_serial {
        config.set(profile, "mfa_serial", serial);
    }
}

/// Warns when other profiles already hold key `id`, just stored as `profile` (add, import,
/// migrate): a shared key cannot be rotated, nor deleted with one of its profiles. Best effort: a
/// store that cannot list its profiles says nothing here.
pub(crate) fn warn_shared_key(
    store: &CredentialStore,
    profile: &ProfileName,
    id: &crate::secret::AccessKeyId,
) {
    let Ok(others) = crate::rotation::profiles_holding(store, id, profile) else {
        return;
    };
    if others.is_empty() {
        return;
    }
    let (profiles, them) = match others.as_slice() {
        [one] => (format!("profile {one}"), "the other"),
        _ => (format!("profiles {}", others.join(", ")), "the others"),
    };
    output::say(&format!(
        "awskeep: warning: key {id} of profile {profile} is also stored as {profiles}. A key two profiles hold cannot be rotated (rotating it for one would break {them}: `awskeep rotate` refuses it), and `awskeep remove` leaves it in IAM while another profile holds it. Keep one profile per key (`awskeep remove NAME`), or give each its own key."
    ));
}

/// Drops the profile's cached session after its key changed; a failure only warns.
pub(crate) fn drop_session(store: &CredentialStore, profile: &ProfileName) {
    if let Err(e) = store.delete_session(profile) {
        output::say(&format!(
            "awskeep: could not drop the cached session of {profile}: {}",
            crate::hint::one_line(&e, None)
        ));
    }
}

/// What `add` and `bootstrap` know once the local checks passed, before any key is read or made.
pub(crate) struct NewProfile {
    pub config: LoadedFile,
    /// Read by `bootstrap` (its `--source-profile` check).
    pub credentials: LoadedFile,
    /// The credential_process value to write.
    pub line: SettingValue,
    /// The store's item for the profile before this command, to put back if the config write fails.
    pub previous: Option<StoredKey>,
}

/// The checks `add` and `bootstrap` share: both files parse, no plaintext keys or other credential
/// source would shadow awskeep, and replacing an existing profile was confirmed (`--force`).
pub(crate) fn prepare_new_profile(
    ctx: &Context,
    store: &CredentialStore,
    store_choice: Option<crate::store::kind::StoreKind>,
    profile: &ProfileName,
    force: bool,
) -> Result<NewProfile> {
    let config = crate::config_file::load(&ctx.config_file, FileKind::Config)?;
    let credentials = crate::config_file::load(&ctx.credentials_file, FileKind::Credentials)?;
    refuse_plaintext_keys(&config, &credentials, profile)?;
    refuse_other_sources(&config, profile)?;
    if let Some(role_arn) = config.document().get(profile.as_str(), "awskeep_role_arn") {
        return Err(Error::IsRoleProfile {
            profile: profile.to_string(),
            role_arn: role_arn.trim().to_string(),
        });
    }
    let line = process_line::build(&ctx.own_program()?, profile, store_choice)?;
    if let Some(caveat) = process_line::caveat(&line) {
        crate::output::say(&format!("awskeep: warning: {caveat}"));
    }
    let previous = match store.get(profile) {
        Ok(previous) => previous,
        Err(Error::StoreItemCorrupt { .. }) => None,
        Err(e) => return Err(e),
    };
    let configured = config
        .document()
        .get(profile.as_str(), "credential_process");
    if let Some(question) =
        replace_question(profile, previous.as_ref(), configured, store.display_name())
    {
        crate::prompt::confirm(&question, force, "--force", ctx.stdin_is_terminal)?;
    }
    Ok(NewProfile {
        config,
        credentials,
        line,
        previous,
    })
}

/// Asks STS whose key this is; a rejected key or an unreachable STS is an error.
pub(crate) fn verify_key(
    ctx: &Context,
    aws: &dyn crate::aws::Aws,
    flag_region: Option<&str>,
    profile_region: Option<&str>,
    key: &KeyPair,
) -> Result<KeyOwner> {
    let target = crate::aws::AwsTarget::resolve(ctx, flag_region, profile_region);
    output::trace(
        ctx.verbose,
        &format!(
            "checking key {} with sts:GetCallerIdentity in {} at {}",
            key.access_key_id,
            target.region,
            target.sts_endpoint_for_messages()
        ),
    );
    aws.verify_key(&target, key)
}

/// When IAM created `key` (CreateDate), asked as the key itself (iam:ListAccessKeys on its own
/// user). Best effort: a key may lack that permission and is still stored; the error is returned
/// for the caller to mention once, never to fail on.
pub(crate) fn key_created(
    ctx: &Context,
    aws: &dyn crate::aws::Aws,
    flag_region: Option<&str>,
    profile_region: Option<&str>,
    key: &KeyPair,
    owner: &KeyOwner,
) -> Result<Option<std::time::SystemTime>> {
    let target = crate::aws::AwsTarget::resolve(ctx, flag_region, profile_region);
    output::trace(
        ctx.verbose,
        &format!(
            "asking IAM (iam:ListAccessKeys) when key {} was created",
            key.access_key_id
        ),
    );
    aws.key_created(&target, key, owner)
}

/// Why IAM's creation date of the keys of `profiles` is unknown, said once: their age then counts
/// from when awskeep stored them.
pub(crate) fn say_creation_unknown(profiles: &[String], why: &str) {
    if profiles.is_empty() {
        return;
    }
    let (keys, were, its) = if profiles.len() == 1 {
        ("key", "was", "its age counts")
    } else {
        ("keys", "were", "their ages count")
    };
    output::say(&format!(
        "awskeep: IAM did not say when the {keys} of {} {were} created ({why}); {its} from today, and `awskeep list` marks {} with *.",
        profiles.join(", "),
        if profiles.len() == 1 { "it" } else { "them" }
    ));
}

/// Writes the store item, then runs `write_config`; if that fails, the store is put back as it was,
/// so a failed command leaves neither a new item nor a config line behind.
pub(crate) fn store_then_configure(
    store: &CredentialStore,
    profile: &ProfileName,
    stored: &StoredKey,
    previous: Option<&StoredKey>,
    write_config: impl FnOnce() -> Result<()>,
) -> Result<()> {
    store.set(profile, stored)?;
    write_config().inspect_err(|_| restore(store, profile, previous))
}

/// Puts the store back as it was: the old key, or no item.
fn restore(store: &CredentialStore, profile: &ProfileName, previous: Option<&StoredKey>) {
    let restored = match previous {
        Some(old) => store.set(profile, old),
        None => store.delete(profile).map(|_| ()),
    };
    if let Err(e) = restored {
        output::say(&format!(
            "awskeep: could not undo the store write for profile {profile}: {}",
            crate::hint::one_line(&e, None)
        ));
    }
}

/// Checks an edited config or credentials text with the SDKs' own parser before it is written.
pub(crate) fn confirm_edit(
    path: &Path,
    kind: FileKind,
    text: &str,
    profile: &ProfileName,
    key: &str,
    expected: Option<&str>,
) -> Result<()> {
    if let Ok(document) = crate::profile::Document::parse(text, kind)
        && let Some((line, header, why)) = document.ambiguous_section(profile.as_str())
    {
        return Err(Error::AmbiguousProfileSection {
            path: path.to_path_buf(),
            line,
            header: header.to_string(),
            profile: profile.to_string(),
            why,
        });
    }
    crate::aws::confirm_profile_setting(path, kind, text, profile, key, expected)
}
