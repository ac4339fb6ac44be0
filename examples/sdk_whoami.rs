//! The Rust SDK as an awskeep client in the integration tests: loads the default credential chain as
//! any Rust program would (AWS_PROFILE, AWS_CONFIG_FILE, credential_process) and prints the caller ARN.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use aws_config::BehaviorVersion;

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("rust-sdk: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
    });
    match result {
        Ok(identity) => println!("{}", identity.arn().unwrap_or_default()),
        Err(e) => {
            eprintln!("rust-sdk: {}", aws_sdk_sts::error::DisplayErrorContext(&e));
            std::process::exit(1);
        }
    }
}
