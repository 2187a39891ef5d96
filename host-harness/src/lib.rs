//! `usersync`: a wasmtime host that plays an Atlassian Data Center product for the Okta
//! sync component. Three parts, each a module:
//!
//! - [`host`]: what any product embedding the component needs: the wasmtime runtime, the
//!   WIT bindings, one capability per imported interface, the HTTP policy and the
//!   credentials it adds to the plugin's Okta requests.
//! - [`product`]: the product this harness plays: its directory store (SQLite) and the
//!   product profiles (default and access groups, key prefixes, licence seats).
//! - [`surface`]: what admins use: the CLI, the REST API and admin page, the scheduler,
//!   export/import, reports and the demo.
//!
//! [`harness`] is the library API every surface goes through.

pub mod alerts;
pub mod harness;
pub mod host;
pub mod model;
pub mod product;
pub mod sso;
pub mod surface;

pub use harness::{ErrorKind, Harness, HarnessError, Options, SyncRequest};
pub use model::{ConnectorPatch, ConnectorSettings};
