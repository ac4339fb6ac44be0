//! `awskeep bootstrap`: asks IAM for a new access key and writes it straight into the store, so the
//! secret is never displayed, copied or saved in a file.
//!
//! The order guarantees no key exists whose secret nobody holds: every check and question comes
//! before CreateAccessKey; the key goes into the store at once; if the store or config write fails,
//! the key is deleted in IAM again. Ctrl-C and SIGTERM are deferred to safe points: before the key
//! exists (nothing is created) and after it is stored and configured (the check is skipped).

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use crate::aws::iam::{Iam, KeyInfo};
use crate::aws::{Aws, AwsTarget, Waiting};
use crate::cli::BootstrapArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output;
use crate::profile_name::ProfileName;
use crate::prompt;
use crate::region_plan::RegionPlan;
use crate::secret::{KeyOwner, StoredKey};
use crate::store::facade::CredentialStore;
use crate::store::kind::StoreKind;

pub fn run(
    ctx: &Context,
    store: &CredentialStore,
    aws: &dyn Aws,
    store_choice: Option<StoreKind>,
    args: BootstrapArgs,
) -> Result<()> {
    let profile = &args.profile;
    let crate::profile_setup::NewProfile {
        mut config,
        credentials,
        line,
        previous,
    } = crate::profile_setup::prepare_new_profile(ctx, store, store_choice, profile, args.force)?;
    if let Some(source) = &args.source_profile
        && config.document().profile_sections(source).next().is_none()
        && credentials
            .document()
            .profile_sections(source)
            .next()
            .is_none()
    {
        return Err(Error::SourceCredentials {
            source_label: format!("profile {source}"),
            reason: format!(
                "there is no such profile in {} or {}",
                config.path.display(),
                credentials.path.display()
            ),
        });
    }
    let interrupted = crate::interrupts::defer_interrupts();

    // One target for the whole command: the source is reached, and the new key checked, there.
    let source_region = args.source_profile.as_deref().and_then(|source| {
        crate::region_plan::profile_region(config.document(), credentials.document(), source)
    });
    let target = AwsTarget::resolve(ctx, args.region.as_deref(), source_region);
    let region = crate::region_plan::plan(
        ctx,
        config.document(),
        credentials.document(),
        profile,
        args.region.as_deref(),
        args.source_profile.as_deref(),
    );
    output::trace(ctx.verbose, &target.describe());
    let iam = aws.source(&target, args.source_profile.as_deref())?;
    let caller = iam.caller();
    output::say(&format!(
        "Acting as {} (account {}) from {}.",
        caller.arn,
        caller.account_id,
        iam.label()
    ));
    // Whose key it is: `--user`, else the caller itself when it is an IAM user.
    let user = match &args.user {
        Some(user) => user.clone(),
        None => caller.user()?,
    };

    let plan = plan(
        &args,
        &user,
        store.display_name(),
        &ctx.config_file.display().to_string(),
        region.written(),
    );
    if args.dry_run {
        output::say("Plan (dry run, nothing is changed):");
        for step in &plan {
            output::say(&format!("  {step}"));
        }
        return Ok(());
    }
    prompt::confirm(
        &format!(
            "Create a new access key for IAM user {user} in account {} and store it as profile {profile}?",
            caller.account_id
        ),
        args.yes,
        "--yes",
        ctx.stdin_is_terminal,
    )?;

    if args.create_user {
        iam.create_user(&user)?;
        output::say(&format!("Created IAM user {user}."));
        if let Some(group) = &args.group {
            iam.add_user_to_group(&user, group)?;
            output::say(&format!("Added {user} to group {group}."));
        }
        if let Some(policy) = &args.attach_policy {
            iam.attach_user_policy(&user, policy)?;
            output::say(&format!("Attached {policy} to {user}."));
        }
    }
    // Two keys is AWS's limit. With `--replace-inactive` the oldest inactive one goes; an active key
    // is never deleted. Otherwise stop before creating anything and show what is there.
    let keys = iam.list_access_keys(&user)?;
    let full = |keys: &[&KeyInfo], held: &std::collections::HashSet<String>| {
        let listing: Vec<String> = keys.iter().map(|k| describe(iam.as_ref(), k)).collect();
        Ok(Error::KeyQuotaFull {
            user: user.clone(),
            keys: format!(": {}", listing.join("; ")),
            // Without --replace-inactive, the key it would have deleted; with it, none is left.
            spare_inactive: keys
                .iter()
                .any(|k| !k.active && !held.contains(k.id.as_str())),
        })
    };
    let replace = |_: &KeyInfo| Ok(args.replace_inactive);
    crate::rotation::make_room(store, iam.as_ref(), &user, &keys, None, replace, full)?;
    if interrupted.load(Ordering::SeqCst) {
        return Err(Error::Interrupted {
            outcome: "no key was created".into(),
        });
    }

    // From here until the key is stored and configured, every path keeps or deletes the key.
    let new = iam.create_access_key(&user)?;
    let key_id = new.key.access_key_id.clone();
    output::trace(ctx.verbose, &format!("created key {key_id} for {user}"));
    let mut stored = StoredKey::new(new.key, None, SystemTime::now()).created_in_iam(new.created);
    config.set(profile, "credential_process", &line);
    crate::profile_setup::apply_session_flags(&mut config, profile, &args.session);
    region.apply(&mut config, profile);
    let written = crate::test_points::fail_point(ctx, "bootstrap:store-write").and_then(|()| {
        crate::profile_setup::store_then_configure(
            store,
            profile,
            &stored,
            previous.as_ref(),
            || {
                crate::test_points::crash_point(ctx, "bootstrap:after-store-write");
                crate::profile_setup::save_profile(
                    &config,
                    profile,
                    Some(line.as_str()),
                    region.written(),
                )
            },
        )
    });
    if let Err(cause) = written {
        return Err(iam.roll_back(&user, &key_id, cause));
    }
    // Said before the wait, whose timeout leaves the profile configured as it is now.
    region.report(profile, args.region.as_deref());

    let owner = aws
        .wait_accepted(
            &target,
            &stored.key,
            &Waiting {
                profile,
                timeout: args.verify_timeout,
                interrupted: &interrupted,
            },
        )
        .map_err(|e| match e {
            Error::KeyNotYetAccepted {
                profile, waited, ..
            } if region.region().is_none() => Error::KeyNotYetAccepted {
                profile,
                waited,
                region_flag: format!(" --region {}", crate::region_plan::SUGGESTED_REGION),
            },
            other => other,
        })?;
    stored.owner = Some(owner.clone());
    store.set(profile, &stored)?;
    summarize(&owner, &stored, profile, store.display_name(), &region);
    Ok(())
}

fn plan(
    args: &BootstrapArgs,
    user: &str,
    store: &str,
    config: &str,
    region: Option<&str>,
) -> Vec<String> {
    let mut steps = vec!["sts:GetCallerIdentity (done, above)".to_string()];
    if args.create_user {
        steps.push(format!("iam:CreateUser {user}"));
        if let Some(group) = &args.group {
            steps.push(format!("iam:AddUserToGroup {user} {group}"));
        }
        if let Some(policy) = &args.attach_policy {
            steps.push(format!("iam:AttachUserPolicy {user} {policy}"));
        }
    }
    steps.push(format!(
        "iam:ListAccessKeys {user} (stop if it already has two)"
    ));
    if args.replace_inactive {
        steps.push("iam:DeleteAccessKey of the oldest inactive key, if it has two".into());
    }
    steps.push(format!("iam:CreateAccessKey {user}"));
    steps.push(format!(
        "store the key in the {store} as profile {}",
        args.profile
    ));
    let region = region.map_or(String::new(), |r| format!(" and region = {r}"));
    steps.push(format!(
        "write credential_process{region} for {} to {config}",
        args.profile
    ));
    steps.push(format!(
        "sts:GetCallerIdentity with the new key, retrying for up to {}",
        humantime::format_duration(args.verify_timeout)
    ));
    steps
}

fn describe(iam: &dyn Iam, key: &KeyInfo) -> String {
    let age = |t: Option<SystemTime>| {
        t.and_then(|t| SystemTime::now().duration_since(t).ok())
            .map_or("unknown".to_string(), |d| {
                format!("{} days", d.as_secs() / 86_400)
            })
    };
    // For display, where "cannot tell" and "never" may look alike.
    let used = iam
        .last_used(&key.id)
        .ok()
        .flatten()
        .map_or("last use unknown".to_string(), |t| {
            format!("last used {} ago", age(Some(t)))
        });
    format!(
        "{} {} created {} ago, {used}",
        key.id,
        if key.active { "active" } else { "inactive" },
        age(key.created)
    )
}

fn summarize(
    owner: &KeyOwner,
    stored: &StoredKey,
    profile: &ProfileName,
    store: &str,
    region: &RegionPlan,
) {
    output::say(&format!(
        "Done. AWS accepts the new key for {} (account {}).",
        owner.arn, owner.account_id
    ));
    output::say(&format!(
        "  profile: {profile}  key: {}  store: {store}",
        stored.key.access_key_id
    ));
    output::say(&format!("Next: {}", region.suggestion(profile)));
}
