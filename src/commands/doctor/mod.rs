//! `awskeep doctor`: the one command to run when something is wrong. It checks the AWS files, the
//! store (reachable, unlocked), each awskeep profile (`profile.rs`), the local clock against AWS's
//! (`clock.rs`) and, for many profiles or accounts, advises IAM Identity Center; each finding says
//! what to do (`report.rs`). It only reads: no store write, no config edit, no key made, and its one
//! network call (the clock) sends no credentials. Any `fail` finding makes it exit non-zero.

mod clock;
mod profile;
mod report;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::time::SystemTime;

pub use report::{Finding, Report, Severity};

use crate::aws::{Aws, AwsTarget};
use crate::cli::DoctorArgs;
use crate::config_file;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::process_line;
use crate::profile::{Document, FileKind};
use crate::profile_name::ProfileName;
use crate::store::facade::{CredentialStore, Openness};
use crate::store::kind::StoreKind;
use crate::store::open::Opening;
use profile::Files;

/// From this many awskeep profiles (or 2 accounts) on, long-lived keys are worth replacing with SSO.
const SSO_PROFILES: usize = 3;
const SSO_ACCOUNTS: usize = 2;

/// doctor: opens the store itself, so a store that cannot be opened (no D-Bus
/// session, an unknown `--store`) is a finding, not the end of the report.
pub fn run_opening(
    ctx: &Context,
    choice: Option<StoreKind>,
    aws: &dyn Aws,
    args: &DoctorArgs,
) -> Result<()> {
    let unlock_timeout = || super::unlock::unlock_timeout(ctx);
    let opened = crate::store::open::open(choice, ctx, Opening::Now, &unlock_timeout);
    let report = examine(
        ctx,
        opened.as_ref().map(|o| &o.store),
        aws,
        args,
        SystemTime::now(),
    );
    let mut findings = report.findings;
    if let Ok(opened) = &opened {
        // Which store this machine uses and why: the first thing to know when keys seem missing.
        findings.insert(
            0,
            Finding::new(
                Severity::Info,
                "store",
                format!(
                    "using the {} ({})",
                    opened.store.display_name(),
                    opened.reason.describe()
                ),
            ),
        );
    }
    finish(Report::new(findings), args)
}

fn finish(report: Report, args: &DoctorArgs) -> Result<()> {
    report.print(args.json)?;
    report.verdict()
}

/// Every check, in the order the report lists them. `store` is the store, or why it did not open.
pub fn examine(
    ctx: &Context,
    store: std::result::Result<&CredentialStore, &Error>,
    aws: &dyn Aws,
    args: &DoctorArgs,
    now: SystemTime,
) -> Report {
    let mut findings = Vec::new();
    let config = read(&ctx.config_file, FileKind::Config, &mut findings);
    let credentials = read(&ctx.credentials_file, FileKind::Credentials, &mut findings);
    let files = Files {
        config_path: ctx.config_file.clone(),
        config,
        credentials_path: ctx.credentials_file.clone(),
        credentials,
    };

    let listed = store
        .map_err(|e| Finding::from_error(Severity::Fail, "store", e))
        .and_then(|store| {
            let listed = store
                .list()
                .map_err(|e| Finding::from_error(Severity::Fail, "store", &e))?;
            Ok((store, listed))
        });
    let (readable, listed) = match listed {
        Ok((store, listed)) => {
            findings.push(store_state(store));
            (Some(store), Some(listed))
        }
        Err(finding) => {
            findings.push(finding);
            (None, None)
        }
    };

    let chosen = args.profile.clone();
    let profiles: Vec<ProfileName> = match &chosen {
        Some(profile) => vec![profile.clone()],
        None => {
            let mut all = configured_profiles(&files.config);
            all.extend(listed.iter().flatten().cloned());
            all.into_iter().collect()
        }
    };
    if profiles.is_empty() {
        findings.push(
            Finding::new(Severity::Info, "profiles", "awskeep holds no profiles yet").fix(
                "add one with `awskeep add PROFILE`, or move plaintext keys in with `awskeep migrate`",
            ),
        );
    }

    let mut accounts = HashSet::new();
    let mut region = None;
    // Profiles holding a long-lived key (a role profile holds none).
    let mut examined = 0;
    for profile in &profiles {
        // The store's index may name a profile whose item an interrupted write never stored.
        if chosen.is_none()
            && !in_config(&files.config, profile)
            && let Some(store) = readable
            && matches!(store.get(profile), Ok(None))
        {
            continue;
        }
        if files
            .config
            .get(profile.as_str(), "awskeep_role_arn")
            .is_none()
        {
            examined += 1;
        }
        let (profile_findings, facts) =
            profile::check(ctx, &files, readable, profile, args.max_age, now);
        findings.extend(profile_findings);
        accounts.extend(facts.account_id);
        region = region.or(facts.region);
    }

    if chosen.is_none() && (examined >= SSO_PROFILES || accounts.len() >= SSO_ACCOUNTS) {
        findings.push(sso_advice(examined, accounts.len()));
    }

    if args.offline {
        findings.push(Finding::new(
            Severity::Info,
            "clock",
            "not compared with AWS (--offline)",
        ));
    } else {
        let target = AwsTarget::resolve(ctx, None, region.as_deref());
        findings.push(clock::check(aws, &target));
    }
    Report::new(findings)
}

/// What the store that answered is like: for the file store, whether there is one yet and whether
/// later commands find it unlocked, which a listing alone does not tell (an empty or missing file
/// store lists without a passphrase).
fn store_state(store: &CredentialStore) -> Finding {
    let Openness::File {
        dir,
        exists,
        unlocked_for,
        passphrase_variable,
    } = store.openness()
    else {
        return Finding::ok(
            "store",
            format!("the {} is reachable and unlocked", store.display_name()),
        );
    };
    let dir = dir.display();
    if !exists {
        return Finding::new(
            Severity::Info,
            "store",
            format!("there is no file store in {dir} yet"),
        )
        .fix("`awskeep unlock` creates it (it asks for a new passphrase), and so does the first `awskeep add`");
    }
    if let Some(left) = unlocked_for {
        let left = left.map(|l| format!(" for {l}")).unwrap_or_default();
        return Finding::ok(
            "store",
            format!("the file store ({dir}) is reachable and unlocked{left}"),
        );
    }
    match passphrase_variable {
        Some(variable) => Finding::ok(
            "store",
            format!(
                "the file store ({dir}) opens with {variable}, for the command it is given to only"
            ),
        ),
        None => Finding::new(
            Severity::Info,
            "store",
            format!("the file store ({dir}) is locked for later commands"),
        )
        .fix("`awskeep unlock` keeps it open for them"),
    }
}

/// The file, parsed as the AWS CLI reads it; what cannot be read or parsed is a finding.
fn read(path: &Path, kind: FileKind, findings: &mut Vec<Finding>) -> Document {
    // awskeep and the Rust/JS SDKs skip a UTF-8 byte order mark; botocore (the AWS CLI, boto3)
    // refuses the whole file over it.
    if std::fs::read(path).is_ok_and(|bytes| bytes.starts_with(b"\xef\xbb\xbf")) {
        let mut finding = Finding::new(
            Severity::Fail,
            "files",
            format!(
                "{} starts with a UTF-8 byte order mark, which the AWS CLI and boto3 cannot parse",
                path.display()
            ),
        );
        finding.fix = Some("save the file as UTF-8 without a byte order mark (BOM)".into());
        findings.push(finding);
    }
    match config_file::read_leniently(path, kind) {
        Ok((document, malformed)) => {
            if let Some(first) = malformed.first() {
                let error = Error::ConfigMalformed {
                    path: path.to_path_buf(),
                    line: first.line,
                    reason: first.reason.clone(),
                };
                let more = match malformed.len() {
                    1 => String::new(),
                    n => format!(" ({} more such lines)", n - 1),
                };
                let mut finding = Finding::from_error(Severity::Fail, "files", &error);
                finding.message.push_str(&more);
                findings.push(finding);
            }
            document
        }
        Err(error) => {
            findings.push(Finding::from_error(Severity::Fail, "files", &error));
            Document::parse_lenient("", kind).0
        }
    }
}

/// Profiles whose credential_process is awskeep's line for them.
fn configured_profiles(config: &Document) -> BTreeSet<ProfileName> {
    config
        .sections()
        .iter()
        .filter_map(|s| ProfileName::parse(s.profile.as_deref()?).ok())
        .filter(|profile| in_config(config, profile))
        .collect()
}

fn in_config(config: &Document, profile: &ProfileName) -> bool {
    config
        .get(profile.as_str(), "credential_process")
        .and_then(process_line::awskeep_profile)
        .is_some()
}

fn sso_advice(profiles: usize, accounts: usize) -> Finding {
    let spread = match accounts {
        0 | 1 => String::new(),
        n => format!(" across {n} accounts"),
    };
    Finding::new(
        Severity::Info,
        "profiles",
        format!(
            "{profiles} profiles{spread} hold long-lived access keys; IAM Identity Center (SSO) gives short-lived credentials for every account and role from one login, with no keys to keep or rotate"
        ),
    )
    .fix("if your organisation has IAM Identity Center (AWS Organizations), set each profile up with `aws configure sso`")
}
