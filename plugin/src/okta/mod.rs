//! Okta Management API client: transport abstraction, Link-header pagination, typed
//! errors and the object shapes a sync reads.

pub mod client;
pub mod error;
pub mod link;
pub mod model;
pub mod pacing;
pub mod transport;

pub use client::OktaClient;
pub use error::{OktaError, OktaErrorKind};
pub use model::{AppAssignment, OktaGroup, OktaMember, OktaUser};
pub use transport::{HttpResponse, Transport, TransportError};
