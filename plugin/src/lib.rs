//! The Okta user & group sync core.
//!
//! Plain modules hold the logic and build natively (`cargo test -p plugin`); on
//! wasm32 the `component` module binds them to the WIT world `connector-core`.

pub mod config;
pub mod host;
pub mod inactivity;
pub mod mapping;
pub mod memory;
pub mod okta;
pub mod plan;
pub mod preview;
pub mod pseudonym;
pub mod report;
pub mod rules;
pub mod schedule;
pub mod seats;
pub mod settings;
pub mod state;
pub mod store;
pub mod sync;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;

#[cfg(feature = "test-faults")]
pub mod faults;
