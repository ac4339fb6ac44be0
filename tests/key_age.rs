//! A key's age is its age in IAM, not the time it entered awskeep: a migrated three-year-old key is
//! three years old in `list` and `rotate --all --older-than 90` rotates it (and the new key is new).
//! Runs against a private moto whose first key of an `aged-*` user was made three years ago
//! (tests/support/moto_aged.py); its auth is off.

use crate::common;

use common::private_moto::PrivateMoto;
use common::{Moto, TestEnv};

fn listed(env: &TestEnv) -> Vec<serde_json::Value> {
    let run = env.expect(["list", "--json"]).stderr("").run();
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    rows.as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], profile: &str) -> &'a serde_json::Value {
    rows.iter().find(|r| r["profile"] == profile).unwrap()
}

#[test]
fn a_migrated_old_key_shows_its_iam_age_and_rotate_all_rotates_it() {
    let private = PrivateMoto::start_aged();
    let moto = Moto::connect_private(&private.url);
    let env = TestEnv::new();
    env.use_endpoint(&private.url);
    let old = moto.new_user_with_key("aged-dev");
    let fresh = moto.new_user_with_key("fresh");
    env.write_credentials(&format!(
        "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        old.id, old.secret
    ));
    env.expect(["migrate", "--yes"])
        .stderr_contains("migrated dev")
        .run();
    env.add("new", &fresh, &[]).assert_ok();

    let rows = listed(&env);
    let dev = row(&rows, "dev");
    assert_eq!(dev["age_days"], 3 * 365, "{dev}");
    assert_eq!(dev["age_from"], "iam");
    assert_eq!(dev["status"], "too old: rotate");
    assert_eq!(row(&rows, "new")["age_days"], 0);
    env.expect(["list"])
        .stdout_contains("1095d  too old: rotate")
        .stderr("Keys older than 90 days: dev. Rotate them with `awskeep rotate --profile NAME` (or `--all`).\n")
        .run();

    let masked = format!("{}…{}", &old.id[..4], &old.id[old.id.len() - 4..]);
    let run = env
        .expect(["rotate", "--all", "--older-than", "90", "--yes", "--now"])
        .stderr_contains(&format!("Deleted the old key {masked} of dev in IAM.\n"))
        .stderr_contains("Rotated dev: key ")
        .run();
    assert!(!run.stderr.contains("Rotated new"), "{}", run.stderr);

    let rows = listed(&env);
    let dev = row(&rows, "dev");
    assert_ne!(dev["access_key_id"], old.id.as_str());
    assert_eq!(
        moto.key_ids(&old.user),
        vec![dev["access_key_id"].as_str().unwrap().to_string()]
    );
    assert_eq!(dev["age_days"], 0, "the new key's age is its own: {dev}");
    assert_eq!(
        dev["age_from"], "iam",
        "rotate records CreateAccessKey's date"
    );
    assert_eq!(row(&rows, "new")["access_key_id"], fresh.id.as_str());
}
