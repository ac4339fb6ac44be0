//! Which `region` `add`, `bootstrap` and `migrate` write into a profile, and what they say about it.
//!
//! The AWS CLI v1 and boto3 read `AWS_DEFAULT_REGION` (not `AWS_REGION`), and no client falls back to
//! `[default]`'s region for a named profile, so a profile without a region of its own fails ("You
//! must specify a region") in a shell without `AWS_DEFAULT_REGION`. These commands write the region
//! they know of (`--region`, the source profile's, the environment's, `[default]`'s, in that order),
//! never replace one the profile already has, and when they know none, say how to set one and name a
//! region in the command they suggest, so it works as printed.

use crate::config_file::LoadedFile;
use crate::context::Context;
use crate::output;
use crate::profile::{Document, SettingValue};
use crate::profile_name::ProfileName;
use crate::region_name::is_region_name;

/// The region a suggested `aws` command names when the profile has none: STS answers
/// GetCallerIdentity there for every account, and it is the region awskeep's own calls then use.
pub(crate) const SUGGESTED_REGION: &str = "us-east-1";

/// What a command does about the profile's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegionPlan {
    /// The profile already has a region (in the config or the credentials file): it stays.
    Kept(String),
    /// The profile gets `region = VALUE`, learnt from `from`.
    Write { region: SettingValue, from: String },
    /// No region is known anywhere.
    Unknown,
}

/// The region `name` has in either file (the SDKs merge the two; the credentials file's is read too).
pub(crate) fn profile_region<'a>(
    config: &'a Document,
    credentials: &'a Document,
    name: &str,
) -> Option<&'a str> {
    config
        .get(name, "region")
        .or_else(|| credentials.get(name, "region"))
}

/// Decides what to do about `profile`'s region. `flag` is the command's `--region`; `source_profile`
/// is bootstrap's `--source-profile`, whose region comes before the environment's.
pub(crate) fn plan(
    ctx: &Context,
    config: &Document,
    credentials: &Document,
    profile: &ProfileName,
    flag: Option<&str>,
    source_profile: Option<&str>,
) -> RegionPlan {
    if let Some(existing) = profile_region(config, credentials, profile.as_str()) {
        return RegionPlan::Kept(existing.to_string());
    }
    let candidates = [
        flag.map(|r| (r, "--region".to_string())),
        source_profile.and_then(|source| {
            profile_region(config, credentials, source)
                .map(|r| (r, format!("profile {source}, the --source-profile")))
        }),
        ctx.env_region
            .as_deref()
            .map(|r| (r, "AWS_REGION / AWS_DEFAULT_REGION".to_string())),
        profile_region(config, credentials, "default").map(|r| (r, "[default]".to_string())),
    ];
    candidates
        .into_iter()
        .flatten()
        // A value that is no region name (a typo in the environment) is not copied into the file.
        .find(|(region, _)| is_region_name(region))
        .and_then(|(region, from)| {
            SettingValue::new(region)
                .ok()
                .map(|region| RegionPlan::Write { region, from })
        })
        .unwrap_or(RegionPlan::Unknown)
}

impl RegionPlan {
    /// The region the profile has once the command is done, if any.
    pub fn region(&self) -> Option<&str> {
        match self {
            RegionPlan::Kept(region) => Some(region),
            RegionPlan::Write { region, .. } => Some(region.as_str()),
            RegionPlan::Unknown => None,
        }
    }

    /// The value the edited config must read back for `region` (checked with the SDK's parser), when
    /// this command writes one.
    pub fn written(&self) -> Option<&str> {
        match self {
            RegionPlan::Write { region, .. } => Some(region.as_str()),
            _ => None,
        }
    }

    /// Adds the `region` line to the profile's section, when there is one to write.
    pub fn apply(&self, config: &mut LoadedFile, profile: &ProfileName) {
        if let RegionPlan::Write { region, .. } = self {
            config.set(profile, "region", region);
        }
    }

    /// One line about the profile's region for stderr, if there is anything to say: what was written
    /// and from where, a kept region that differs from `--region`, or how to set a missing one.
    pub fn describe(&self, profile: &ProfileName, flag: Option<&str>) -> Option<String> {
        match self {
            RegionPlan::Write { region, from } => Some(format!(
                "Wrote region = {} to profile {profile} (from {from}).",
                region.as_str()
            )),
            RegionPlan::Kept(region) => flag.filter(|f| f != region).map(|f| {
                format!(
                    "Profile {profile} keeps its region {region}; --region {f} was used for this command only."
                )
            }),
            RegionPlan::Unknown => Some(format!(
                "Profile {profile} has no region, which the AWS CLI and SDKs need unless AWS_DEFAULT_REGION is set: set one with `aws configure set region REGION{}`.",
                profile_flag(profile)
            )),
        }
    }

    /// Says `describe`'s line on stderr.
    pub fn report(&self, profile: &ProfileName, flag: Option<&str>) {
        if let Some(line) = self.describe(profile, flag) {
            output::say(&line);
        }
    }

    /// `aws sts get-caller-identity` for the profile, as it works when printed: with `--region` when
    /// the profile has none.
    pub fn suggestion(&self, profile: &ProfileName) -> String {
        let region = match self {
            RegionPlan::Unknown => format!(" --region {SUGGESTED_REGION}"),
            _ => String::new(),
        };
        format!(
            "aws sts get-caller-identity{}{region}",
            profile_flag(profile)
        )
    }
}

/// ` --profile NAME`, or nothing for the default profile.
pub(crate) fn profile_flag(profile: &ProfileName) -> String {
    if profile.is_default() {
        String::new()
    } else {
        format!(" --profile {profile}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FileKind;
    use crate::region_name::parse_region;

    fn ctx(env_region: Option<&str>) -> Context {
        Context {
            env_region: env_region.map(str::to_string),
            ..Context::for_test(std::path::Path::new(""))
        }
    }

    fn doc(text: &str, kind: FileKind) -> Document {
        Document::parse(text, kind).unwrap()
    }

    fn name(n: &str) -> ProfileName {
        ProfileName::parse(n).unwrap()
    }

    fn written(plan: &RegionPlan) -> Option<(&str, &str)> {
        match plan {
            RegionPlan::Write { region, from } => Some((region.as_str(), from.as_str())),
            _ => None,
        }
    }

    #[test]
    fn the_region_comes_from_the_flag_then_the_source_then_the_environment_then_default() {
        let config = doc(
            "[default]\nregion = eu-central-1\n[profile admin]\nregion = ap-south-1\n",
            FileKind::Config,
        );
        let none = doc("", FileKind::Credentials);
        let dev = name("dev");
        let env = ctx(Some("eu-north-1"));
        let plan = |ctx: &Context, flag, source| plan(ctx, &config, &none, &dev, flag, source);
        assert_eq!(
            written(&plan(&env, Some("us-west-2"), Some("admin"))),
            Some(("us-west-2", "--region"))
        );
        assert_eq!(
            written(&plan(&env, None, Some("admin"))),
            Some(("ap-south-1", "profile admin, the --source-profile"))
        );
        assert_eq!(
            written(&plan(&env, None, None)),
            Some(("eu-north-1", "AWS_REGION / AWS_DEFAULT_REGION"))
        );
        assert_eq!(
            written(&plan(&ctx(None), None, None)),
            Some(("eu-central-1", "[default]"))
        );
        // A source profile without a region falls through to the environment.
        assert_eq!(
            written(&plan(&env, None, Some("nosuch"))),
            Some(("eu-north-1", "AWS_REGION / AWS_DEFAULT_REGION"))
        );
    }

    #[test]
    fn a_region_the_profile_has_is_kept_in_either_file() {
        let dev = name("dev");
        let config = doc("[profile dev]\nregion = eu-west-1\n", FileKind::Config);
        let none = doc("", FileKind::Credentials);
        let plan_kept = plan(
            &ctx(Some("us-east-2")),
            &config,
            &none,
            &dev,
            Some("us-west-2"),
            None,
        );
        assert_eq!(plan_kept, RegionPlan::Kept("eu-west-1".into()));
        assert_eq!(plan_kept.written(), None);
        assert_eq!(
            plan_kept.describe(&dev, Some("us-west-2")).as_deref(),
            Some(
                "Profile dev keeps its region eu-west-1; --region us-west-2 was used for this command only."
            )
        );
        assert_eq!(plan_kept.describe(&dev, Some("eu-west-1")), None);
        assert_eq!(plan_kept.describe(&dev, None), None);

        let empty = doc("", FileKind::Config);
        let credentials = doc(
            "[dev]\naws_access_key_id = A\nregion = sa-east-1\n",
            FileKind::Credentials,
        );
        assert_eq!(
            plan(
                &ctx(None),
                &empty,
                &credentials,
                &dev,
                Some("us-west-2"),
                None
            ),
            RegionPlan::Kept("sa-east-1".into())
        );
    }

    #[test]
    fn no_region_anywhere_says_how_to_set_one_and_the_suggestion_names_one() {
        let none_config = doc("", FileKind::Config);
        let none = doc("", FileKind::Credentials);
        let dev = name("dev");
        let plan_none = plan(&ctx(None), &none_config, &none, &dev, None, None);
        assert_eq!(plan_none, RegionPlan::Unknown);
        assert_eq!(
            plan_none.suggestion(&dev),
            "aws sts get-caller-identity --profile dev --region us-east-1"
        );
        assert!(
            plan_none
                .describe(&dev, None)
                .unwrap()
                .contains("`aws configure set region REGION --profile dev`")
        );
        let default = name("default");
        assert_eq!(
            plan_none.suggestion(&default),
            "aws sts get-caller-identity --region us-east-1"
        );
        let known = RegionPlan::Kept("eu-west-1".into());
        assert_eq!(
            known.suggestion(&dev),
            "aws sts get-caller-identity --profile dev"
        );
    }

    #[test]
    fn an_environment_region_that_is_no_region_name_is_not_written() {
        let config = doc("[default]\nregion = eu-central-1\n", FileKind::Config);
        let none = doc("", FileKind::Credentials);
        let plan = plan(
            &ctx(Some("eu west 1")),
            &config,
            &none,
            &name("dev"),
            None,
            None,
        );
        assert_eq!(written(&plan), Some(("eu-central-1", "[default]")));
        assert!(parse_region("eu-west-1").is_ok());
        assert!(parse_region("EU-WEST-1").is_err());
        assert!(parse_region("eu-west-1\n[default]").is_err());
        assert!(parse_region("").is_err());
    }
}
