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
        let url = required_env("AWSKEEP_TEST_MOTO_URL");
        let credentials = Credentials::new(
            required_env("AWSKEEP_TEST_ADMIN_KEY_ID"),
            required_env("AWSKEEP_TEST_ADMIN_SECRET"),
            None,
            None,
            "test-admin",
        );
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
        let user = format!(
            "{hint}-{}-{}",
            std::process::id(),
            USER_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        self.runtime.block_on(async {
            let created = self
                .client
                .create_user()
                .user_name(&user)
                .send()
                .await
                .expect("CreateUser");
            let arn = created.user().expect("user").arn().to_string();
            let key = self
                .client
                .create_access_key()
                .user_name(&user)
                .send()
                .await
                .expect("CreateAccessKey");
            let key = key.access_key().expect("key");
            TestKey {
                user: user.clone(),
                id: key.access_key_id().to_string(),
                secret: key.secret_access_key().to_string(),
                arn,
            }
        })
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
