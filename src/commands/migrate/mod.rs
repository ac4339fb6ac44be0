//! `awskeep migrate`: moves every static key out of `~/.aws/credentials` (and `aws_access_key_id`
//! lines in `~/.aws/config`) into the store, one profile at a time:
//! verify -> store -> read back and compare -> config edit -> plaintext removal.
//! Each step is durable before the next begins, so a crash at any point leaves every key in at least
//! one of the two places, and a re-run finishes the job: a profile already pointing at awskeep whose
//! stored key equals its plaintext key just has the plaintext removed. Nothing it writes holds a secret
//! (no backup copies); the rewritten files keep their comments, other settings and mode.

mod roles;

use std::time::SystemTime;

use crate::cli::MigrateArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::process_line;
use crate::profile::{Document, FileKind, SettingValue};
use crate::profile_name::ProfileName;
use crate::prompt;
use crate::region_plan::RegionPlan;
use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey, StoredKey};
use crate::store::facade::CredentialStore;
use crate::store::kind::StoreKind;

const KEY_LINES: [&str; 2] = ["aws_access_key_id", "aws_secret_access_key"];

/// A profile with a static key that migrate will move.
struct Candidate {
    profile: ProfileName,
    key: KeyPair,
    in_credentials: bool,
    in_config: bool,
    already_configured: bool,
    /// Another key the store holds for the profile (the plaintext one then shadows it: the SDKs
    /// read plaintext first). Which to keep is the user's call: `Resolution`.
    stored_other: Option<AccessKeyId>,
}

/// What becomes of a profile whose store already holds another key than its plaintext lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    /// No other key stored: the plaintext key moves in.
    Move,
    /// `--replace-stored`: the plaintext key moves in, replacing the stored one.
    ReplaceStored,
    /// `--discard-plaintext` (or yes at the terminal): the stored key stays, the plaintext lines go.
    DiscardPlaintext,
    /// Neither: asked at the terminal, else left as it is with the choice named.
    Undecided,
}

impl Resolution {
    fn of(candidate: &Candidate, args: &MigrateArgs) -> Self {
        match (
            &candidate.stored_other,
            args.replace_stored,
            args.discard_plaintext,
        ) {
            (None, _, _) => Self::Move,
            (Some(_), true, _) => Self::ReplaceStored,
            (Some(_), _, true) => Self::DiscardPlaintext,
            (Some(_), false, false) => Self::Undecided,
        }
    }
}

/// A profile migrate leaves alone, and why.
struct Skipped {
    profile: String,
    reason: String,
}

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    store_choice: Option<StoreKind>,
    args: MigrateArgs,
) -> Result<()> {
    // `migrate dev prod` and `migrate --profile dev --profile prod` name the same thing.
    let wanted: Vec<ProfileName> = args.names.iter().chain(&args.profiles).cloned().collect();
    let config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let credentials = config_file::load(&ctx.credentials_file, FileKind::Credentials)?;
    let (mut candidates, mut skipped) = find(config.document(), credentials.document(), &wanted);
    let moving: Vec<ProfileName> = candidates.iter().map(|c| c.profile.clone()).collect();
    // Role profiles are turned only when named: `migrate` alone offers them.
    let (roles, roles_left) = if wanted.is_empty() {
        let (offered, _) = roles::find(config.document(), store, &moving, &wanted);
        for role in &offered {
            // A role whose source is a role turned with it: both are named.
            let mut names = vec![role.profile.to_string()];
            let mut source = &role.source;
            while let Some(next) = offered.iter().find(|other| &other.profile == source) {
                if names.contains(&next.profile.to_string()) {
                    break;
                }
                names.insert(0, next.profile.to_string());
                source = &next.source;
            }
            output::say(&format!(
                "Role profile {} (source {}) can be served by awskeep too: `awskeep migrate {}` turns it into an awskeep role profile.",
                role.profile,
                role.source,
                names.join(" ")
            ));
        }
        (Vec::new(), Vec::new())
    } else {
        roles::find(config.document(), store, &moving, &wanted)
    };
    // A named role profile has no plaintext keys: what is said of it is the role half's.
    skipped.retain(|s| {
        config.document().get(&s.profile, "role_arn").is_none()
            || !s.reason.contains("no plaintext keys")
    });
    skipped.extend(
        roles_left
            .into_iter()
            .map(|(profile, reason)| Skipped { profile, reason }),
    );
    for candidate in &mut candidates {
        candidate.stored_other = match store.get(&candidate.profile) {
            Ok(Some(stored)) if stored.key.access_key_id != candidate.key.access_key_id => {
                Some(stored.key.access_key_id)
            }
            // Unreadable: reported when the profile is migrated.
            _ => None,
        };
    }
    let program = ctx.own_program()?;

    if !(candidates.is_empty() && skipped.is_empty() && !roles.is_empty()) {
        show_plan(ctx, store, &candidates, &skipped, &args);
    }
    if !roles.is_empty() {
        output::say(
            "Role profiles awskeep will serve (role_arn becomes awskeep_role_arn; an SDK no longer assumes them itself):",
        );
        for role in &roles {
            output::say(&format!(
                "  {:<20} {}  with {}'s credentials",
                role.profile.as_str(),
                role.role_arn,
                role.source
            ));
        }
    }
    if candidates.is_empty() && roles.is_empty() {
        return Ok(());
    }
    if args.dry_run {
        output::say("Dry run: nothing was changed.");
        return Ok(());
    }
    let question = if args.keep_plaintext {
        format!(
            "Store {} key(s) in the {} (keeping the plaintext copies)?",
            candidates.len(),
            store.display_name()
        )
    } else {
        format!(
            "Move {} key(s) into the {} and delete them from the plaintext files?",
            candidates.len(),
            store.display_name()
        )
    };
    let question = match (candidates.is_empty(), roles.len()) {
        (_, 0) => question,
        (true, n) => format!("Serve {n} role profile(s) through awskeep?"),
        (false, n) => format!(
            "{} Then serve {n} role profile(s) through awskeep?",
            question.trim_end_matches('?').to_string() + "."
        ),
    };
    prompt::confirm(&question, args.yes, "--yes", ctx.stdin_is_terminal)?;

    let mut migrated = Vec::new();
    let mut failed = Vec::new();
    // The check to run, for the first profile migrated.
    let mut suggestion = None;
    let mut undated = Vec::new();
    let mut undated_why = (String::new(), String::new());
    for candidate in candidates {
        let profile = candidate.profile.clone();
        let line = process_line::build(&program, &profile, store_choice)?;
        if let Some(caveat) = process_line::caveat(&line) {
            crate::output::say(&format!("awskeep: warning: {caveat}"));
        }
        let outcome = match Resolution::of(&candidate, &args) {
            Resolution::Move | Resolution::ReplaceStored => {
                migrate_one(ctx, store, aws, candidate, &line, &args)
            }
            Resolution::DiscardPlaintext => {
                discard_plaintext(ctx, store, aws, candidate, &line, &args)
            }
            Resolution::Undecided => match ask_discard(ctx, store, &candidate) {
                Ok(()) => discard_plaintext(ctx, store, aws, candidate, &line, &args),
                Err(error) => Err(error),
            },
        };
        match outcome {
            Ok(Migrated {
                whose,
                undated: why,
                region,
            }) => {
                output::say(&format!("  migrated {profile}{whose}"));
                if let Some(note) = region.describe(&profile, args.region.as_deref()) {
                    output::say(&format!("    {note}"));
                }
                if suggestion.is_none() {
                    suggestion = Some(region.suggestion(&profile));
                }
                migrated.push(profile.to_string());
                if let Some(why) = why {
                    undated.push(profile.to_string());
                    undated_why = (profile.to_string(), why);
                }
            }
            Err(error) => {
                output::say(&format!("  FAILED {profile}: {}", error.cause_line()));
                failed.push(profile.to_string());
            }
        }
    }
    let mut role_error = None;
    for role in &roles {
        let line = process_line::build(&program, &role.profile, store_choice)?;
        match roles::turn(ctx, store, aws, role, &line, args.no_verify) {
            Ok(()) => {
                output::say(&format!(
                    "  role profile {}: assumes {} with {}'s credentials",
                    role.profile, role.role_arn, role.source
                ));
                migrated.push(format!("{} (role)", role.profile));
            }
            Err(error) => {
                output::say(&format!(
                    "  FAILED {}: {}; it stays as it was",
                    role.profile,
                    error.cause_line()
                ));
                role_error = Some(error);
            }
        }
    }
    summarize(ctx, &migrated, &skipped, &failed);
    // Said once, with the last reason IAM gave (keys of one user fail alike).
    let why = match undated.as_slice() {
        [_] => undated_why.1,
        _ => format!("for {}: {}", undated_why.0, undated_why.1),
    };
    crate::profile_setup::say_creation_unknown(&undated, &why);
    if let Some(suggestion) = suggestion {
        output::say(&format!("Try: {suggestion}"));
    }
    match role_error {
        _ if !failed.is_empty() => Err(Error::MigrationIncomplete {
            failed: failed.join(", "),
            credentials: ctx.credentials_file.clone(),
        }),
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Every profile with plaintext keys, split into what can move and what is left, and why.
fn find(
    config: &Document,
    credentials: &Document,
    only: &[ProfileName],
) -> (Vec<Candidate>, Vec<Skipped>) {
    let mut names: Vec<String> = Vec::new();
    for section in credentials.sections().iter().chain(config.sections()) {
        if let Some(name) = &section.profile
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    }
    if !only.is_empty() {
        names = only.iter().map(ToString::to_string).collect();
    }
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for name in names {
        let has_keys = |doc: &Document| KEY_LINES.iter().any(|k| doc.get(&name, k).is_some());
        let (in_credentials, in_config) = (has_keys(credentials), has_keys(config));
        if !in_credentials && !in_config {
            if !only.is_empty() {
                skipped.push(Skipped {
                    profile: name,
                    reason: "it has no plaintext keys".into(),
                });
            }
            continue;
        }
        match candidate(config, credentials, &name, in_credentials, in_config) {
            Ok(c) => candidates.push(c),
            Err(reason) => skipped.push(Skipped {
                profile: name,
                reason,
            }),
        }
    }
    (candidates, skipped)
}

fn candidate(
    config: &Document,
    credentials: &Document,
    name: &str,
    in_credentials: bool,
    in_config: bool,
) -> std::result::Result<Candidate, String> {
    if credentials.get(name, "aws_session_token").is_some()
        || config.get(name, "aws_session_token").is_some()
    {
        return Err(
            "temporary keys (aws_session_token): they expire, so there is nothing to keep".into(),
        );
    }
    let profile = ProfileName::parse(name)
        .map_err(|_| "its name has characters awskeep cannot write safely".to_string())?;
    // Keys in two sections of one name: the SDKs read the last, deleting would take both.
    for doc in [credentials, config] {
        let with_keys = doc
            .profile_sections(name)
            .filter(|s| KEY_LINES.iter().any(|k| s.get(k).is_some()))
            .count();
        if with_keys > 1 {
            return Err(format!(
                "its keys are in {with_keys} sections of that name; merge them by hand first"
            ));
        }
    }
    let pick = |key: &str| credentials.get(name, key).or_else(|| config.get(name, key));
    if in_credentials
        && in_config
        && credentials.get(name, "aws_access_key_id") != config.get(name, "aws_access_key_id")
    {
        return Err(
            "the config and credentials files hold different keys for it; remove one by hand"
                .into(),
        );
    }
    let (Some(id), Some(secret)) = (pick("aws_access_key_id"), pick("aws_secret_access_key"))
    else {
        return Err("it has only one of aws_access_key_id and aws_secret_access_key".into());
    };
    let access_key_id =
        AccessKeyId::parse(id).map_err(|r| format!("its access key ID is malformed: {r}"))?;
    let secret_access_key =
        SecretAccessKey::parse(secret).map_err(|r| format!("its secret is malformed: {r}"))?;
    if let Some(source) = crate::profile_setup::OTHER_SOURCES
        .iter()
        .find(|k| config.get(name, k).is_some())
    {
        return Err(format!(
            "it also has {source}; which one wins differs between SDKs"
        ));
    }
    let already_configured = match config.get(name, "credential_process") {
        None => false,
        Some(line) if process_line::awskeep_profile(line).as_deref() == Some(name) => true,
        Some(_) => return Err("it has a credential_process that is not awskeep's".into()),
    };
    Ok(Candidate {
        profile,
        key: KeyPair {
            access_key_id,
            secret_access_key,
        },
        in_credentials,
        in_config,
        already_configured,
        stored_other: None,
    })
}

fn show_plan(
    ctx: &Context,
    store: &CredentialStore,
    candidates: &[Candidate],
    skipped: &[Skipped],
    args: &MigrateArgs,
) {
    if candidates.is_empty() && skipped.is_empty() {
        output::say(&format!(
            "No plaintext keys in {} or {}: nothing to migrate.",
            ctx.credentials_file.display(),
            ctx.config_file.display()
        ));
        return;
    }
    if !candidates.is_empty() {
        output::say(&format!("Keys to move into the {}:", store.display_name()));
        for c in candidates {
            let from = match (c.in_credentials, c.in_config) {
                (true, true) => "credentials + config",
                (true, false) => "credentials",
                _ => "config",
            };
            let note = match (&c.stored_other, Resolution::of(c, args)) {
                (Some(stored), Resolution::ReplaceStored) => format!(
                    " (replacing key {stored}, which the {} holds)",
                    store.display_name()
                ),
                (Some(stored), Resolution::DiscardPlaintext) => format!(
                    " (not moved: the {} keeps key {stored}; these plaintext lines are deleted)",
                    store.display_name()
                ),
                (Some(stored), _) => format!(
                    " (the {} holds another key, {stored}: {})",
                    store.display_name(),
                    if ctx.stdin_is_terminal && !args.dry_run {
                        "asked below which to keep"
                    } else {
                        "--discard-plaintext keeps it, --replace-stored keeps this one"
                    }
                ),
                (None, _) if c.already_configured => {
                    " (already points at awskeep: finishing)".to_string()
                }
                (None, _) => String::new(),
            };
            output::say(&format!(
                "  {:<20} {}  from {from}{note}",
                c.profile.as_str(),
                c.key.access_key_id
            ));
        }
        if !args.keep_plaintext {
            output::say(
                "The key lines are then deleted from those files; comments and other settings stay.",
            );
        }
    }
    for s in skipped {
        output::say(&format!("  skip {:<15} {}", s.profile, s.reason));
    }
}

/// What `migrate_one` reports: whose key it was, why IAM's creation date of it is unknown (`None`:
/// known, or not asked with `--no-verify`), and what became of the profile's region.
struct Migrated {
    whose: String,
    undated: Option<String>,
    region: RegionPlan,
}

/// Moves one profile's key; returns what the report says about it.
fn migrate_one(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    candidate: Candidate,
    line: &SettingValue,
    args: &MigrateArgs,
) -> Result<Migrated> {
    let (no_verify, keep_plaintext) = (args.no_verify, args.keep_plaintext);
    let profile = &candidate.profile;
    let (mut config, region) = reload(ctx, &candidate, args)?;
    let owner = if no_verify {
        None
    } else {
        Some(crate::profile_setup::verify_key(
            ctx,
            aws,
            args.region.as_deref(),
            region.region(),
            &candidate.key,
        )?)
    };
    let previous = store.get(profile)?;
    let replacing = previous
        .as_ref()
        .is_some_and(|old| old.key.access_key_id != candidate.key.access_key_id);
    if replacing && !args.replace_stored {
        // Stored since the plan was shown: the same choice as there.
        return Err(other_key_error(
            profile,
            previous.as_ref().map(|p| &p.key.access_key_id),
            &candidate.key.access_key_id,
        ));
    }
    // What is known of the stored key (when it was added, created in IAM, whose) is carried over
    // only for that same key, never to the key replacing it.
    let previous_same = previous.as_ref().filter(|_| !replacing);
    let whose = owner
        .as_ref()
        .map(|o| format!(" ({})", o.arn))
        .unwrap_or_default();
    // The key's age is its age in IAM, however long it sat in the plaintext file.
    let (created, undated) = match &owner {
        Some(owner) => match crate::profile_setup::key_created(
            ctx,
            aws,
            args.region.as_deref(),
            region.region(),
            &candidate.key,
            owner,
        ) {
            Ok(created) => (created, None),
            Err(e) => (None, Some(e.cause_line())),
        },
        None => (None, None),
    };
    let created = created.or_else(|| previous_same.and_then(|p| p.iam_created_at));
    let undated = undated.filter(|_| created.is_none());
    let stored = StoredKey::new(
        candidate.key,
        owner.or_else(|| previous_same.and_then(|p| p.owner.clone())),
        previous_same.map_or_else(SystemTime::now, |p| p.added_at),
    )
    .created_in_iam(created);

    config.set(profile, "credential_process", line);
    region.apply(&mut config, profile);
    if candidate.in_config && !keep_plaintext {
        for key in KEY_LINES {
            config.remove(profile.as_str(), key);
        }
    }
    crate::profile_setup::store_then_configure(store, profile, &stored, previous.as_ref(), || {
        read_back_matches(store, profile, &stored)?;
        crate::test_points::crash_point(ctx, "migrate:after-store-write");
        crate::profile_setup::save_profile(&config, profile, Some(line.as_str()), region.written())
    })?;
    crate::profile_setup::drop_session(store, profile);
    crate::profile_setup::warn_shared_key(store, profile, &stored.key.access_key_id);
    if let Some(old) = previous.as_ref().filter(|_| replacing) {
        // The replaced key leaves the store, not IAM: say so, as `remove` does.
        output::say(&format!(
            "  Key {} that the {} held for {profile} stays in IAM (it may still be active); once nothing uses it: `{}`",
            old.key.access_key_id,
            store.display_name(),
            crate::aws::iam::delete_key_command(&old.key.access_key_id, old.owner.as_ref())
        ));
    }
    crate::test_points::crash_point(ctx, "migrate:after-config-write");

    if candidate.in_credentials && !keep_plaintext {
        // Only lines holding exactly the key that was stored and read back go.
        delete_plaintext_lines(ctx, profile, &stored.key)?;
    }
    Ok(Migrated {
        whose,
        undated,
        region,
    })
}

fn other_key_error(
    profile: &ProfileName,
    stored: Option<&AccessKeyId>,
    plaintext: &AccessKeyId,
) -> Error {
    Error::StoreHoldsOtherKey {
        profile: profile.to_string(),
        stored: stored.map(ToString::to_string).unwrap_or_default(),
        plaintext: plaintext.to_string(),
    }
}

/// For a profile whose store holds another key than its plaintext lines: asks at the terminal
/// whether to keep the stored key and delete the plaintext lines. `--yes` does not answer it: the
/// plaintext key may be the current one. Without a terminal, or on no, the profile stays as it is
/// and the error names both keys and both flags.
fn ask_discard(ctx: &Context, store: &CredentialStore, candidate: &Candidate) -> Result<()> {
    let refused = || {
        other_key_error(
            &candidate.profile,
            candidate.stored_other.as_ref(),
            &candidate.key.access_key_id,
        )
    };
    if !ctx.stdin_is_terminal {
        return Err(refused());
    }
    let stored = candidate
        .stored_other
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let question = format!(
        "Profile {}: the {} holds key {stored}, the plaintext lines key {} (which the AWS CLI and SDKs use now). Keep {stored} and delete the plaintext lines? (No changes nothing; `--replace-stored` keeps the plaintext key instead.)",
        candidate.profile,
        store.display_name(),
        candidate.key.access_key_id,
    );
    prompt::confirm(&question, false, "--discard-plaintext", true).map_err(|_| refused())
}

/// Keeps the stored key and deletes the profile's plaintext key lines (the stale copy that shadows
/// it), pointing the profile at awskeep if it is not yet. The stored key is checked with STS first
/// (unless `--no-verify`): a stored key AWS refuses is not the one to keep.
fn discard_plaintext(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn crate::aws::Aws,
    candidate: Candidate,
    line: &SettingValue,
    args: &MigrateArgs,
) -> Result<Migrated> {
    let profile = &candidate.profile;
    let (mut config, region) = reload(ctx, &candidate, args)?;
    let Some(stored) = store.get(profile)? else {
        return Err(Error::NoStoredKey {
            profile: profile.to_string(),
            store: store.display_name(),
        });
    };
    if candidate.stored_other.as_ref() != Some(&stored.key.access_key_id) {
        // The store changed since the plan: nothing is deleted on the strength of an old answer.
        return Err(other_key_error(
            profile,
            Some(&stored.key.access_key_id),
            &candidate.key.access_key_id,
        ));
    }
    let whose = if args.no_verify {
        String::new()
    } else {
        let owner = crate::profile_setup::verify_key(
            ctx,
            aws,
            args.region.as_deref(),
            region.region(),
            &stored.key,
        )
        .map_err(|e| Error::StoredKeyRefused {
            profile: profile.to_string(),
            stored: stored.key.access_key_id.to_string(),
            cause: e.cause_line(),
        })?;
        format!(" ({})", owner.arn)
    };
    config.set(profile, "credential_process", line);
    region.apply(&mut config, profile);
    if candidate.in_config {
        for key in KEY_LINES {
            config.remove(profile.as_str(), key);
        }
    }
    crate::profile_setup::save_profile(&config, profile, Some(line.as_str()), region.written())?;
    if candidate.in_credentials {
        delete_plaintext_lines(ctx, profile, &candidate.key)?;
    }
    Ok(Migrated {
        whose: format!(
            "{whose}: kept the stored key {}, deleted the plaintext lines of key {}",
            stored.key.access_key_id, candidate.key.access_key_id
        ),
        undated: None,
        region,
    })
}

/// The config, loaded again for the edit, and the region plan, once the files are seen to hold the
/// key the plan showed: a file changed since (another key, a rotated secret) is not touched. A region
/// the plaintext section already has stays where it is (the key lines go, it does not).
fn reload(
    ctx: &Context,
    candidate: &Candidate,
    args: &MigrateArgs,
) -> Result<(config_file::LoadedFile, RegionPlan)> {
    let profile = &candidate.profile;
    let config = config_file::load(&ctx.config_file, FileKind::Config)?;
    let credentials = config_file::load(&ctx.credentials_file, FileKind::Credentials)?;
    if candidate.in_config {
        still_holds(&config, profile, &candidate.key)?;
    }
    if candidate.in_credentials {
        still_holds(&credentials, profile, &candidate.key)?;
    }
    let region = crate::region_plan::plan(
        ctx,
        config.document(),
        credentials.document(),
        profile,
        args.region.as_deref(),
        None,
    );
    Ok((config, region))
}

/// Deletes `profile`'s key lines from the credentials file, only while they hold exactly `key`.
fn delete_plaintext_lines(ctx: &Context, profile: &ProfileName, key: &KeyPair) -> Result<()> {
    let mut credentials = config_file::load(&ctx.credentials_file, FileKind::Credentials)?;
    still_holds(&credentials, profile, key)?;
    for line in KEY_LINES {
        credentials.remove(profile.as_str(), line);
    }
    credentials.save(|text| {
        crate::profile_setup::confirm_edit(
            &credentials.path,
            FileKind::Credentials,
            text,
            profile,
            "aws_secret_access_key",
            None,
        )
    })
}

/// The file's key lines for `profile` still hold exactly `key`; otherwise another program changed
/// them since the plan, and they are left alone.
fn still_holds(file: &config_file::LoadedFile, profile: &ProfileName, key: &KeyPair) -> Result<()> {
    let doc = file.document();
    let same = doc.get(profile.as_str(), "aws_access_key_id") == Some(key.access_key_id.as_str())
        && doc.get(profile.as_str(), "aws_secret_access_key")
            == Some(key.secret_access_key.expose_secret());
    if same {
        Ok(())
    } else {
        Err(Error::ConfigChanged {
            path: file.path.clone(),
            profile: profile.to_string(),
            key: "aws_secret_access_key".into(),
        })
    }
}

/// The store must give back exactly what was written before any plaintext copy is touched.
fn read_back_matches(
    store: &CredentialStore,
    profile: &ProfileName,
    stored: &StoredKey,
) -> Result<()> {
    let back = store.get(profile)?;
    let same = back.as_ref().is_some_and(|b| {
        b.key.access_key_id == stored.key.access_key_id
            && b.key.secret_access_key.expose_secret()
                == stored.key.secret_access_key.expose_secret()
    });
    if same {
        Ok(())
    } else {
        Err(Error::StoreFailed {
            store: store.display_name(),
            reason: "the key read back differs from the key written".into(),
        })
    }
}

fn summarize(ctx: &Context, migrated: &[String], skipped: &[Skipped], failed: &[String]) {
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    output::say(&format!("Migrated: {}.", list(migrated)));
    if !skipped.is_empty() {
        let names: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} ({})", s.profile, s.reason))
            .collect();
        output::say(&format!(
            "Skipped (left as they were): {}.",
            names.join("; ")
        ));
    }
    if !failed.is_empty() {
        output::say(&format!(
            "Failed (left in {} as they were): {}.",
            ctx.credentials_file.display(),
            list(failed)
        ));
    }
}

#[cfg(test)]
mod tests {
    //! The two checks between the store write and the plaintext removal, against a store that
    //! does something behind migrate's back at the moment of the write.
    use std::path::Path;

    use clap::Parser;

    use super::*;
    use crate::secret::{AccessKeyId, SecretAccessKey};
    use crate::store::item::{ItemKind, ItemStore};
    use crate::store::memory::MemoryItems;

    const ID: &str = "AKIAJ7EXAMPLEKEY1234";
    const PLAINTEXT: &str = "[legacy]\naws_access_key_id = AKIAJ7EXAMPLEKEY1234\naws_secret_access_key = legacy/secret\n";

    /// A memory store that runs `after_set` once each key write has been stored.
    struct Meddling<F: Fn(&MemoryItems, &ProfileName)> {
        inner: MemoryItems,
        after_set: F,
    }

    impl<F: Fn(&MemoryItems, &ProfileName)> ItemStore for Meddling<F> {
        fn display_name(&self) -> &'static str {
            "meddling store"
        }
        fn get(
            &self,
            profile: &ProfileName,
            kind: ItemKind,
        ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
            self.inner.get(profile, kind)
        }
        fn set(&self, profile: &ProfileName, kind: ItemKind, bytes: &[u8]) -> Result<()> {
            self.inner.set(profile, kind, bytes)?;
            if kind == ItemKind::Key {
                (self.after_set)(&self.inner, profile);
            }
            Ok(())
        }
        fn delete(&self, profile: &ProfileName, kind: ItemKind) -> Result<bool> {
            self.inner.delete(profile, kind)
        }
        fn list(&self) -> Result<Vec<ProfileName>> {
            self.inner.list()
        }
    }

    fn migrate(dir: &Path, store: &CredentialStore) -> Result<()> {
        let ctx = Context {
            lock_dir: Some(dir.join("locks")),
            ..Context::for_test(dir)
        };
        let cli = crate::cli::Cli::try_parse_from(["awskeep", "migrate", "--no-verify", "--yes"])
            .unwrap();
        crate::run_with(&ctx, store, &crate::aws::fake::FakeAws::default(), cli)
    }

    /// Protects: plaintext goes only when the store gives back exactly the secret written. A
    /// store that keeps a different secret (a lossy backend) leaves the plaintext where it was.
    #[test]
    fn a_store_that_gives_back_another_secret_keeps_the_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        std::fs::write(&credentials, PLAINTEXT).unwrap();
        let store = CredentialStore::new(Box::new(Meddling {
            inner: MemoryItems::default(),
            after_set: |inner: &MemoryItems, profile: &ProfileName| {
                let mangled = StoredKey::new(
                    KeyPair {
                        access_key_id: AccessKeyId::parse(ID).unwrap(),
                        secret_access_key: SecretAccessKey::parse("legacy/secreT").unwrap(),
                    },
                    None,
                    SystemTime::now(),
                );
                let bytes = mangled.to_item_bytes();
                inner.set(profile, ItemKind::Key, &bytes).unwrap();
            },
        }));
        let err = migrate(dir.path(), &store).unwrap_err();
        assert!(matches!(err, Error::MigrationIncomplete { .. }), "{err:?}");
        assert_eq!(std::fs::read_to_string(&credentials).unwrap(), PLAINTEXT);
    }

    /// Protects: plaintext goes only when the credentials file still holds the key that was
    /// stored. Another program that puts a new key there while the store is written keeps it.
    #[test]
    fn a_key_written_to_the_credentials_file_during_the_store_write_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        std::fs::write(&credentials, PLAINTEXT).unwrap();
        let replaced = "[legacy]\naws_access_key_id = AKIANEWPLAINTEXT0001\naws_secret_access_key = new/secret\n";
        let path = credentials.clone();
        let store = CredentialStore::new(Box::new(Meddling {
            inner: MemoryItems::default(),
            after_set: move |_: &MemoryItems, _: &ProfileName| {
                std::fs::write(&path, replaced).unwrap();
            },
        }));
        let err = migrate(dir.path(), &store).unwrap_err();
        assert!(matches!(err, Error::MigrationIncomplete { .. }), "{err:?}");
        assert_eq!(std::fs::read_to_string(&credentials).unwrap(), replaced);
    }
}
