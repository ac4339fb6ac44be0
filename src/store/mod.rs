//! The credential store: a byte-level item store per backend (`item.rs`) under one typed facade
//! (`facade.rs`), which is what commands receive; they never know which backend they got. Each
//! profile's key is one item, named by the service `awskeep` and the profile name, holding the key
//! and its metadata as JSON; its cached session is a second item (`PROFILE:session`). On the OS
//! keychains (`keyring.rs`) one index item (`:index`, `index.rs`) lists the profiles, so
//! enumerating them never depends on a store's search; the encrypted file store (`file.rs`) keeps
//! the same items in one encrypted file. `open.rs` opens the store a command uses (`choice.rs`
//! picks one when none was named). On Linux the Secret Service is opened behind the credential
//! cache (`cred_cache.rs`), which is dropped before and after every change, and (for
//! `credential-process`) the D-Bus connection is made only when the cache cannot answer.
//!
//! This file only declares the modules: each imports its siblings directly.

pub mod choice;
#[cfg(test)]
mod contract_double;
pub mod cred_cache;
pub mod data_dir;
pub mod facade;
pub mod file;
#[cfg(test)]
mod file_tests;
mod index;
pub mod item;
pub mod key_cache;
mod keyring;
pub mod kind;
#[cfg(test)]
pub mod memory;
pub mod open;
#[cfg(target_os = "linux")]
mod secret_service_check;
#[cfg(test)]
mod tests;
pub mod unlock;
