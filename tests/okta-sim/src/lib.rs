//! An Okta Management API simulator for tests: a real HTTP/1.1 server on
//! loopback serving the read-only user and group endpoints a sync client uses,
//! with Okta's authentication, `Link`-header pagination, page-size limits,
//! error bodies, rate-limit headers and DEPROVISIONED filtering; plus group
//! scoped tokens, injectable faults and request recording; and OAuth 2.0 service
//! apps ([`oauth`]): `private_key_jwt` at `POST /oauth2/v1/token`, DPoP-bound or
//! Bearer access tokens, Okta scopes, admin roles and per-app rate-limit shares;
//! the System Log (`/api/v1/logs`, [`syslog`]) fed by every change made through the
//! [`Org`] methods, Event Hooks ([`hooks`]) and applications with their user and
//! group assignments ([`apps`]); and Okta's OpenID Connect provider ([`oidc`]):
//! discovery, JWKS, the authorization code flow with PKCE behind a login form, ID
//! tokens, faults.
//!
//! ```no_run
//! use okta_sim::{GenSpec, Org, SimConfig, Simulator};
//! let org = Org::generate(&GenSpec { users: 1000, groups: 50, memberships_per_user: 3, seed: 42 });
//! let sim = Simulator::start(org, SimConfig::default());
//! println!("GET http://{}/api/v1/users with Authorization: SSWS test-token", sim.addr());
//! ```
//!
//! Generated orgs are deterministic per seed: users `00u…` with realistic
//! names, login = email = `first.last[n]@example.com`, `displayName`,
//! `department`, `title`, `employeeNumber`, `costCenter`; mostly ACTIVE with
//! ~2% each of SUSPENDED, DEPROVISIONED, STAGED, PROVISIONED, LOCKED_OUT and
//! PASSWORD_EXPIRED (orgs of at least 20 users); groups `00g…`: the BUILT_IN
//! `Everyone` and the requested OKTA_GROUPs, every tenth an APP_GROUP.

mod api;
pub mod apps;
mod auth;
pub mod cursor;
pub mod dates;
mod faults;
pub mod filter;
mod generate;
mod groups;
pub mod hooks;
mod ids;
mod index;
pub mod oauth;
pub mod oidc;
pub mod org;
mod paging;
mod ratelimit;
mod render;
mod reply;
pub mod server;
pub mod syslog;
mod users;

pub use apps::{AssignmentScope, OktaApp};
pub use hooks::{Delivery, DeliveryOutcome, EventHook, HookError, HookFault};
pub use oauth::{AdminRole, OAuthApp, OAuthConfig, TokenStats};
pub use oidc::{OidcClient, OidcConfig, OidcFault, OidcLogin};
pub use org::{GenSpec, GroupType, OktaGroup, OktaUser, Org};
pub use server::{
    Fault, FaultKind, OutOfScope, RateLimits, RecordedRequest, ScopedToken, SimConfig, Simulator,
};
pub use syslog::{EventType, LogSettings, NewEvent, Outcome, Target};
