//! One module per subcommand, each `run(&Context, ..., Args) -> Result<()>`, given its dependencies
//! (the store, the AWS target) by `lib::run`, and nothing else: what several share in setting up a
//! profile is `crate::profile_setup`'s.

pub mod add;
pub mod add_role;
pub mod bootstrap;
pub mod completions;
pub mod credential_process;
pub mod doctor;
pub mod exec;
pub mod export;
pub mod import;
pub mod list;
pub mod login;
pub mod man;
pub mod migrate;
pub mod remove;
pub mod rotate;
pub mod serve;
pub mod session;
pub mod store;
pub mod unlock;
