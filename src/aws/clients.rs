//! Where and how a command reaches AWS: the target (region, STS endpoint), resolved once, and the
//! client factory whose one runtime the calls made through it run on. Timeouts are bounded so a dead
//! network fails in seconds.

use std::time::Duration;

use crate::context::Context;
use crate::error::{Error, Result};

/// Where and how to reach AWS for one command.
#[derive(Debug, Clone)]
pub struct AwsTarget {
    pub region: String,
    pub sts_endpoint: Option<String>,
}

impl AwsTarget {
    /// The one place a command's region is decided, as the AWS CLI decides it: the command's
    /// `--region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the profile's own `region`, else
    /// us-east-1 (STS is global there; any region's endpoint answers GetCallerIdentity).
    pub fn resolve(ctx: &Context, flag_region: Option<&str>, profile_region: Option<&str>) -> Self {
        Self {
            region: flag_region
                .map(str::to_string)
                .or_else(|| ctx.env_region.clone())
                .or_else(|| profile_region.map(str::to_string))
                .unwrap_or_else(|| "us-east-1".to_string()),
            sts_endpoint: ctx.sts_endpoint.clone(),
        }
    }

    /// "AWS region R, STS at E", for `-v`.
    pub fn describe(&self) -> String {
        format!(
            "AWS region {}, STS at {}",
            self.region,
            self.sts_endpoint_for_messages()
        )
    }

    pub fn sts_endpoint_for_messages(&self) -> String {
        self.sts_endpoint
            .clone()
            .unwrap_or_else(|| format!("sts.{}.amazonaws.com", self.region))
    }
}

/// A client factory: where AWS is, and the one runtime every call made through it runs on (an
/// identity's IAM calls, a wait's retries).
pub struct Clients {
    pub target: AwsTarget,
    runtime: std::sync::Arc<tokio::runtime::Runtime>,
}

impl Clients {
    pub fn new(target: AwsTarget) -> Result<Self> {
        Ok(Self {
            target,
            runtime: std::sync::Arc::new(runtime()?),
        })
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    pub(crate) fn shared_runtime(&self) -> std::sync::Arc<tokio::runtime::Runtime> {
        std::sync::Arc::clone(&self.runtime)
    }
}

/// Bounded so a dead network fails in seconds, not minutes.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Aws {
            operation: "setup",
            reason: e.to_string(),
        })
}
