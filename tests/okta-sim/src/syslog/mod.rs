//! The System Log (`GET /api/v1/logs`) as a change feed: every change made through
//! the org's methods is stored as an event, in storage order, and served with Okta's
//! polling semantics (okta-oauth-events.md §2; README "System Log").

pub(crate) mod api;
mod event;
mod store;

pub use event::{EventType, NewEvent, Outcome, Target};
pub(crate) use store::EventLog;
pub use store::LogSettings;
