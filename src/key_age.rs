//! How old a stored key is, and the one parser for ages on the command line (`list --max-age`,
//! `rotate --older-than`), where a bare number means days. A key's age is its age in IAM (its
//! CreateDate, which `add`, `bootstrap`, `migrate` and `rotate` record in the store item); when IAM
//! never said, the time the key entered awskeep stands in, and the age says so (`AgeFrom::Stored`)
//! so that no reader takes it for IAM's.

use std::time::{Duration, SystemTime};

use crate::secret::StoredKey;

const DAY: Duration = Duration::from_secs(86_400);

/// Where a key's age was counted from; `iam` or `awskeep` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AgeFrom {
    /// IAM's CreateDate of the key.
    #[serde(rename = "iam")]
    Iam,
    /// IAM's date is unknown: the time awskeep stored the key (a lower bound on its real age).
    #[serde(rename = "awskeep")]
    Stored,
}

/// A stored key's age and what it was counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAge {
    /// The moment the age counts from.
    pub since: SystemTime,
    pub age: Duration,
    pub from: AgeFrom,
}

impl KeyAge {
    pub fn of(item: &StoredKey, now: SystemTime) -> Self {
        let (since, from) = match item.iam_created_at {
            Some(created) => (created, AgeFrom::Iam),
            None => (item.added_at, AgeFrom::Stored),
        };
        Self {
            since,
            age: now.duration_since(since).unwrap_or_default(),
            from,
        }
    }

    /// Whole days.
    pub fn days(&self) -> u64 {
        self.age.as_secs() / DAY.as_secs()
    }
}

/// `90` (days), or a duration with units: `90d`, `12w`, `36h`, `0s`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let days: u64 = text
            .parse()
            .map_err(|_| format!("{text} days is more than awskeep can count"))?;
        return days
            .checked_mul(DAY.as_secs())
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{text} days is more than awskeep can count"));
    }
    humantime::parse_duration(text).map_err(|e| {
        format!("{e}; give days (`90`) or a duration with its unit (`90d`, `12w`, `36h`)")
    })
}

/// An age as a person reads it: whole days when it is at least one day (`90 days`), else as given.
pub fn describe(age: Duration) -> String {
    if age >= DAY && age.as_secs().is_multiple_of(DAY.as_secs()) {
        let days = age.as_secs() / DAY.as_secs();
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    } else {
        humantime::format_duration(age).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{AccessKeyId, KeyPair, SecretAccessKey};

    #[test]
    fn a_bare_number_means_days_and_units_still_work() {
        assert_eq!(parse_age("90"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_age("0"), Ok(Duration::ZERO));
        assert_eq!(parse_age("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_age("36h"), Ok(Duration::from_secs(36 * 3600)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
        assert!(parse_age("ninety").unwrap_err().contains("`90d`"));
        assert!(parse_age("99999999999999999999").is_err());
        assert!(parse_age("").is_err());
    }

    #[test]
    fn ages_read_in_days() {
        assert_eq!(describe(Duration::from_secs(90 * 86_400)), "90 days");
        assert_eq!(describe(Duration::from_secs(86_400)), "1 day");
        assert_eq!(describe(Duration::from_secs(36 * 3600)), "1day 12h");
    }

    fn item(added: SystemTime, created: Option<SystemTime>) -> StoredKey {
        StoredKey::new(
            KeyPair {
                access_key_id: AccessKeyId::parse("AKIAIOSFODNN7EXAMPLE").unwrap(),
                secret_access_key: SecretAccessKey::parse("secret").unwrap(),
            },
            None,
            added,
        )
        .created_in_iam(created)
    }

    /// A migrated three-year-old key is three years old, not as old as its store item.
    #[test]
    fn the_age_is_iams_when_known_and_says_so_when_not() {
        let now = SystemTime::now();
        let three_years = Duration::from_secs(3 * 365 * 86_400);
        let age = KeyAge::of(&item(now, Some(now - three_years)), now);
        assert_eq!((age.days(), age.from), (3 * 365, AgeFrom::Iam));
        let age = KeyAge::of(&item(now - DAY * 2, None), now);
        assert_eq!((age.days(), age.from), (2, AgeFrom::Stored));
        // A date in the future (clock skew) is age zero, not an underflow.
        let age = KeyAge::of(&item(now, Some(now + DAY)), now);
        assert_eq!(age.age, Duration::ZERO);
    }
}
