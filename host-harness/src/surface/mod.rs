//! What admins use: the command line, the REST API and admin page, the scheduler,
//! export/import, run reports and the demo.

pub mod approvals;
pub mod cli;
#[cfg(feature = "demo")]
pub mod demo;
pub mod report;
pub mod scheduler;
pub mod transfer;
pub mod web;
