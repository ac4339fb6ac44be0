//! The integration tests: one binary, a module per area, each running the real `awskeep` binary
//! against the real parts (gnome-keyring in a private D-Bus session, moto on 127.0.0.1, the AWS
//! clients, Wine). `common` is the harness. Run one area with `cargo test --test integration
//! AREA::` (e.g. `scripts/test --test integration clients::`).

mod common;

mod add;
mod bootstrap;
mod client_contracts;
mod clients;
mod command_line;
mod config_files;
mod config_transactions;
mod cred_cache;
mod desktop_mfa;
mod doctor;
mod exec_export;
mod exec_shell_server;
mod file_store;
mod key_age;
mod lenient_reads;
mod list_remove;
mod login;
mod migrate;
mod process_hygiene;
mod region;
mod roles;
mod rotate;
mod secrets;
mod serve;
mod sessions;
mod store_failures;
mod tty;
mod windows;
