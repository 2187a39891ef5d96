//! The integration suite: component + host + Okta simulator, as one test binary (one link
//! of wasmtime, axum and SQLite instead of one per file), a module per area.

mod alert_sinks;
mod alerts;
mod approvals;
mod bad_input;
mod browser;
mod browser_admin;
mod browser_approvals;
mod cli;
mod cli_support;
mod cli_transfer;
mod credentials;
mod directory_admin;
mod full_sync;
mod group_marks;
mod incremental;
mod live_runs;
mod login_sync;
mod login_throttle;
mod metrics;
mod oauth;
mod okta_conditions;
mod policies;
mod rate_share;
mod rest;
mod sandbox;
mod schedule;
mod schedule_dst;
mod seats;
mod settings;
mod sso;
mod sso_browser;
#[allow(dead_code)]
mod sso_support;
mod store_failures;
mod stored_v1;
mod web;
#[allow(dead_code)]
mod web_support;
