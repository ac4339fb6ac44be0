//! The moto server `scripts/test` started: creates IAM users and keys for a test through the Rust
//! SDK, acting as the admin user the script made before turning auth enforcement on.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};

use super::required_env;

/// A key moto issued: the test feeds it to awskeep and expects clients to act as `arn`.
#[derive(Debug, Clone)]
pub struct TestKey {
    pub user: String,
    pub id: String,
    pub secret: String,
    pub arn: String,
}

pub struct Moto {
    client: aws_sdk_iam::Client,
    runtime: tokio::runtime::Runtime,
}

static USER_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Moto {
    pub fn connect() -> Self {
        Self::connect_as(
            &required_env("AWSKEEP_TEST_MOTO_URL"),
            Credentials::new(
                required_env("AWSKEEP_TEST_ADMIN_KEY_ID"),
                required_env("AWSKEEP_TEST_ADMIN_SECRET"),
                None,
                None,
                "test-admin",
            ),
        )
    }

    /// A moto of the test's own (`PrivateMoto`), whose auth is off: any key will do.
    pub fn connect_private(url: &str) -> Self {
        Self::connect_as(
            url,
            Credentials::new("AKIAPRIVATEMOTO00001", "private", None, None, "test"),
        )
    }

    fn connect_as(url: &str, credentials: Credentials) -> Self {
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(credentials)
            .build();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Self {
            client: aws_sdk_iam::Client::from_conf(config),
            runtime,
        }
    }

    /// A new IAM user (unique in this test run) with one access key.
    pub fn new_user_with_key(&self, hint: &str) -> TestKey {
        let (user, arn) = self.new_user(hint);
        self.new_key(&user, &arn)
    }

    pub fn delete_key(&self, key: &TestKey) {
        self.runtime.block_on(async {
            self.client
                .delete_access_key()
                .user_name(&key.user)
                .access_key_id(&key.id)
                .send()
                .await
                .expect("DeleteAccessKey");
        });
    }
}

impl Moto {
    /// A name no other test of this run uses.
    pub fn unique_name(&self, hint: &str) -> String {
        format!(
            "{hint}-{}-{}",
            std::process::id(),
            USER_COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// A new IAM user (unique in this test run) with no key; returns its name and ARN.
    pub fn new_user(&self, hint: &str) -> (String, String) {
        let user = self.unique_name(hint);
        let created = self
            .runtime
            .block_on(self.client.create_user().user_name(&user).send())
            .expect("CreateUser");
        let arn = created.user().expect("user").arn().to_string();
        (user, arn)
    }

    /// A new user allowed every action, with one key: a source identity for `bootstrap`.
    pub fn new_admin_with_key(&self, hint: &str) -> TestKey {
        let key = self.new_user_with_key(hint);
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        self.runtime
            .block_on(
                self.client
                    .put_user_policy()
                    .user_name(&key.user)
                    .policy_name("all")
                    .policy_document(policy)
                    .send(),
            )
            .expect("PutUserPolicy");
        key
    }

    /// A user allowed exactly `actions` (plus what moto always allows), with one key.
    pub fn new_user_allowed(&self, hint: &str, actions: &[&str]) -> TestKey {
        let key = self.new_user_with_key(hint);
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
        })
        .to_string();
        self.runtime
            .block_on(
                self.client
                    .put_user_policy()
                    .user_name(&key.user)
                    .policy_name("some")
                    .policy_document(policy)
                    .send(),
            )
            .expect("PutUserPolicy");
        key
    }

    pub fn new_key(&self, user: &str, arn: &str) -> TestKey {
        let key = self
            .runtime
            .block_on(self.client.create_access_key().user_name(user).send())
            .expect("CreateAccessKey");
        let key = key.access_key().expect("key");
        TestKey {
            user: user.to_string(),
            id: key.access_key_id().to_string(),
            secret: key.secret_access_key().to_string(),
            arn: arn.to_string(),
        }
    }

    pub fn deactivate(&self, key: &TestKey) {
        self.runtime
            .block_on(
                self.client
                    .update_access_key()
                    .user_name(&key.user)
                    .access_key_id(&key.id)
                    .status(aws_sdk_iam::types::StatusType::Inactive)
                    .send(),
            )
            .expect("UpdateAccessKey");
    }

    /// The IDs of the user's access keys, as IAM holds them now.
    pub fn key_ids(&self, user: &str) -> Vec<String> {
        let output = self
            .runtime
            .block_on(self.client.list_access_keys().user_name(user).send())
            .expect("ListAccessKeys");
        output
            .access_key_metadata()
            .iter()
            .filter_map(|m| m.access_key_id().map(str::to_string))
            .collect()
    }

    pub fn create_group(&self, hint: &str) -> String {
        let group = self.unique_name(hint);
        self.runtime
            .block_on(self.client.create_group().group_name(&group).send())
            .expect("CreateGroup");
        group
    }

    pub fn groups_of(&self, user: &str) -> Vec<String> {
        let output = self
            .runtime
            .block_on(self.client.list_groups_for_user().user_name(user).send())
            .expect("ListGroupsForUser");
        output
            .groups()
            .iter()
            .map(|g| g.group_name().to_string())
            .collect()
    }
}

impl Moto {
    /// (key ID, "Active"/"Inactive") for each of the user's keys.
    pub fn key_statuses(&self, user: &str) -> Vec<(String, String)> {
        let output = self
            .runtime
            .block_on(self.client.list_access_keys().user_name(user).send())
            .expect("ListAccessKeys");
        output
            .access_key_metadata()
            .iter()
            .map(|m| {
                (
                    m.access_key_id().unwrap_or_default().to_string(),
                    m.status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }
}
