//! Event Hooks: Okta pushes System Log events to a registered endpoint
//! (okta-oauth-events.md §3). Registration verifies the endpoint once (`GET` with
//! `x-okta-verification-challenge`); each batch of changes is then `POST`ed as
//! `com.okta.event_hook` with the hook's authorization header, retried once after a
//! timeout or a 5xx, and recorded in a delivery log tests read. Faults duplicate,
//! reorder or drop deliveries, because Okta's delivery is at least once and unordered.

mod http;
mod worker;

use std::time::Duration;

use crate::syslog::EventType;

pub(crate) use worker::{Hooks, spawn};

/// Okta's limit of event hooks per org.
pub const MAX_HOOKS: usize = 25;

/// An event hook registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventHook {
    /// The receiver (`http://…`; Okta requires HTTPS, the simulator calls loopback).
    pub url: String,
    /// The authorization header's name and secret, sent on every call (no HMAC).
    pub auth: Option<(String, String)>,
    /// Further custom headers sent on every call.
    pub headers: Vec<(String, String)>,
    /// The event types delivered.
    pub event_types: Vec<EventType>,
    /// How long the receiver may take (Okta: 3 s), then one retry.
    pub timeout: Duration,
}

impl EventHook {
    /// A hook for these event types, without an authorization header, 3 s timeout.
    pub fn new(url: &str, event_types: &[EventType]) -> EventHook {
        EventHook {
            url: url.to_string(),
            auth: None,
            headers: Vec::new(),
            event_types: event_types.to_vec(),
            timeout: Duration::from_secs(3),
        }
    }

    /// The same hook sending `name: secret` on every call.
    pub fn with_auth(mut self, name: &str, secret: &str) -> EventHook {
        self.auth = Some((name.to_string(), secret.to_string()));
        self
    }

    /// The same hook with another receiver timeout (tests shorten Okta's 3 s).
    pub fn with_timeout(mut self, timeout: Duration) -> EventHook {
        self.timeout = timeout;
        self
    }

    /// The `--event-hook URL[,auth=NAME:SECRET][,events=TYPE+TYPE][,timeout-ms=N]`
    /// form (default events: every type the simulator logs).
    pub fn parse_cli(spec: &str) -> Result<EventHook, HookError> {
        let mut parts = spec.split(',');
        let url = parts.next().unwrap_or_default();
        let mut hook = EventHook::new(url, &EventType::ALL);
        for opt in parts {
            let bad = || HookError::Option(opt.to_string());
            let (key, value) = opt.split_once('=').ok_or_else(bad)?;
            match key {
                "auth" => {
                    let (name, secret) = value.split_once(':').ok_or_else(bad)?;
                    hook = hook.with_auth(name, secret);
                }
                "events" => {
                    let types = value
                        .split('+')
                        .map(|t| EventType::parse(t).ok_or_else(bad));
                    hook.event_types = types.collect::<Result<_, _>>()?;
                }
                "timeout-ms" => {
                    let ms = value.parse().map_err(|_| bad())?;
                    hook.timeout = Duration::from_millis(ms);
                }
                _ => return Err(bad()),
            }
        }
        Ok(hook)
    }

    /// The headers of every call: JSON content type, the authorization header, custom ones.
    fn call_headers(&self) -> Vec<(String, String)> {
        let mut h = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Accept".to_string(), "application/json".to_string()),
        ];
        h.extend(self.auth.iter().cloned());
        h.extend(self.headers.iter().cloned());
        h
    }
}

/// A fault for one delivery of a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookFault {
    /// The delivery is sent twice (same `eventId`, same events).
    Duplicate,
    /// The delivery is held back and sent after the hook's next one.
    Reorder,
    /// The delivery is never sent (logged as a failed `event_hook.delivery`).
    Drop,
}

/// One attempt to deliver (or a dropped delivery), in the order they happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The hook's id (`who…`).
    pub hook_id: String,
    /// The delivery's `eventId` (kept by its retry).
    pub event_id: String,
    /// 1 for the first try, 2 for the retry.
    pub attempt: u32,
    /// The `uuid`s of the events it carried, in order.
    pub event_uuids: Vec<String>,
    /// What came of it.
    pub outcome: DeliveryOutcome,
}

/// What came of a delivery attempt (its `Display` is the `outcome.reason` of a
/// failed delivery's `event_hook.delivery` event).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryOutcome {
    /// The receiver answered with this status (2xx: delivered).
    #[error("HTTP {0}")]
    Answered(u16),
    /// No answer within the timeout.
    #[error("timeout")]
    Timeout,
    /// The receiver could not be reached (connection refused, …).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// Not sent: [`HookFault::Drop`].
    #[error("dropped")]
    Dropped,
}

/// Why a hook could not be registered or called.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The URL cannot be called.
    #[error("bad hook URL: {0}")]
    Url(String),
    /// A `--event-hook` option that does not exist or has a bad value.
    #[error("--event-hook: unknown or bad option {0:?}")]
    Option(String),
    /// Okta's limit of 25 hooks per org.
    #[error("an org has at most {MAX_HOOKS} event hooks")]
    TooMany,
    /// The receiver could not be reached.
    #[error("receiver unreachable: {0}")]
    Unreachable(std::io::Error),
    /// The receiver did not answer in time.
    #[error("receiver timed out")]
    Timeout,
    /// The receiver's answer is not HTTP.
    #[error("not an HTTP response: {0:?}")]
    BadResponse(String),
    /// The verification answer was not 200 `{"verification": <challenge>}`.
    #[error("verification failed: status {status}, body {body:?}")]
    Verification {
        /// The status answered.
        status: u16,
        /// The body answered.
        body: String,
    },
}

/// The one-time verification: `GET url` with `x-okta-verification-challenge`, the
/// authorization and custom headers; the answer must be 200 with
/// `{"verification": "<challenge>"}`.
pub(crate) fn verify(hook: &EventHook) -> Result<(), HookError> {
    let url = url::Url::parse(&hook.url).map_err(|e| HookError::Url(e.to_string()))?;
    let challenge = crate::ids::base62(&mut rand::rng(), 32);
    let mut headers = hook.call_headers();
    headers.push(("x-okta-verification-challenge".into(), challenge.clone()));
    let answer = http::call("GET", &url, &headers, b"", hook.timeout)?;
    let echoed = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| {
            v.get("verification")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        });
    if answer.status == 200 && echoed.as_deref() == Some(challenge.as_str()) {
        Ok(())
    } else {
        Err(HookError::Verification {
            status: answer.status,
            body: answer.body,
        })
    }
}
