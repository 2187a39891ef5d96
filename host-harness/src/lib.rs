//! `usersync`: a wasmtime host that plays an Atlassian Data Center product for the Okta
//! sync component. It loads the component, supplies the user store (SQLite), mediates
//! all outgoing HTTP, and offers the admin surfaces.

pub mod bindings;
pub mod cache;
pub mod cli;
pub mod db;
pub mod demo;
pub mod harness;
pub mod host;
pub mod model;
pub mod product;
pub mod report;
pub mod runtime;
pub mod scheduler;
pub mod token;
pub mod transfer;
pub mod web;

pub use harness::{ErrorKind, Harness, HarnessError, Options, SyncRequest};
pub use model::{ConnectorPatch, ConnectorSettings};
