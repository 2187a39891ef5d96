//! The registry of hooks and the thread that delivers to them.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use super::{Delivery, DeliveryOutcome, EventHook, HookError, HookFault, MAX_HOOKS, http};
use crate::server::{Shared, lock};
use crate::syslog::{EventType, NewEvent, Target};

/// The registered hooks and every delivery attempt so far.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    registered: Vec<Registered>,
    pub deliveries: Vec<Delivery>,
}

#[derive(Debug)]
struct Registered {
    id: String,
    hook: EventHook,
    url: url::Url,
    /// Deliveries planned so far (what a fault's `nth` counts).
    planned: usize,
    faults: Vec<(usize, HookFault)>,
    /// A delivery held back by [`HookFault::Reorder`].
    held: Option<Envelope>,
}

/// One delivery: its `eventId` and events.
#[derive(Clone, Debug)]
struct Envelope {
    event_id: String,
    events: Vec<Value>,
}

/// The deliveries of one batch to one hook, worked out under the lock.
struct Plan {
    id: String,
    hook: EventHook,
    url: url::Url,
    envelopes: Vec<Envelope>,
    /// Dropped by [`HookFault::Drop`]: logged as a failed delivery, not sent.
    dropped: bool,
}

impl Hooks {
    /// Adds a verified hook; returns its id.
    pub fn register(&mut self, hook: EventHook) -> Result<String, HookError> {
        if self.registered.len() >= MAX_HOOKS {
            return Err(HookError::TooMany);
        }
        let url = url::Url::parse(&hook.url).map_err(|e| HookError::Url(e.to_string()))?;
        let id = format!("who{}", crate::ids::base62(&mut rand::rng(), 17));
        self.registered.push(Registered {
            id: id.clone(),
            hook,
            url,
            planned: 0,
            faults: Vec::new(),
            held: None,
        });
        Ok(id)
    }

    /// Makes the hook's `nth` delivery from now on (1-based) fail this way.
    pub fn add_fault(&mut self, hook_id: &str, nth: usize, fault: HookFault) {
        if let Some(r) = self.registered.iter_mut().find(|r| r.id == hook_id) {
            r.faults.push((r.planned + nth.max(1), fault));
        }
    }

    /// What to send for a batch of event JSON, per hook, with faults applied.
    fn plan(&mut self, events: &[Value]) -> Vec<Plan> {
        let mut plans = Vec::new();
        for r in &mut self.registered {
            let wanted: Vec<Value> = (events.iter())
                .filter(|e| {
                    let t = e["eventType"].as_str().and_then(EventType::parse);
                    t.is_some_and(|t| r.hook.event_types.contains(&t))
                })
                .cloned()
                .collect();
            if wanted.is_empty() {
                continue;
            }
            r.planned += 1;
            let envelope = Envelope {
                event_id: crate::ids::uuid_v4(),
                events: wanted,
            };
            let fault = (r.faults.iter())
                .find(|(n, _)| *n == r.planned)
                .map(|(_, f)| *f);
            let dropped = fault == Some(HookFault::Drop);
            let mut envelopes = match fault {
                None => vec![envelope],
                Some(HookFault::Duplicate) => vec![envelope.clone(), envelope],
                Some(HookFault::Reorder) => {
                    r.held = Some(envelope);
                    continue;
                }
                Some(HookFault::Drop) => {
                    self.deliveries
                        .push(record(&r.id, &envelope, 1, DeliveryOutcome::Dropped));
                    Vec::new()
                }
            };
            envelopes.extend(r.held.take());
            plans.push(Plan {
                id: r.id.clone(),
                hook: r.hook.clone(),
                url: r.url.clone(),
                envelopes,
                dropped,
            });
        }
        plans
    }
}

fn record(hook_id: &str, e: &Envelope, attempt: u32, outcome: DeliveryOutcome) -> Delivery {
    Delivery {
        hook_id: hook_id.to_string(),
        event_id: e.event_id.clone(),
        attempt,
        event_uuids: (e.events.iter())
            .map(|v| v["uuid"].as_str().unwrap_or_default().to_string())
            .collect(),
        outcome,
    }
}

/// Starts the delivery thread; it ends when the returned sender is dropped.
pub(crate) fn spawn(shared: Arc<Shared>) -> std::io::Result<(Sender<Vec<Value>>, JoinHandle<()>)> {
    let (tx, rx) = channel::<Vec<Value>>();
    let thread = std::thread::Builder::new()
        .name("okta-sim-hooks".into())
        .spawn(move || deliver_all(&shared, &rx))?;
    Ok((tx, thread))
}

fn deliver_all(shared: &Shared, rx: &Receiver<Vec<Value>>) {
    while let Ok(events) = rx.recv() {
        let plans = lock(&shared.hooks).plan(&events);
        for plan in plans {
            if plan.dropped {
                log_failure(shared, &plan, &DeliveryOutcome::Dropped.to_string());
            }
            for envelope in &plan.envelopes {
                deliver(shared, &plan, envelope);
            }
        }
    }
}

/// POSTs one delivery; after a timeout or a 5xx, exactly one retry. A delivery that
/// finally fails is logged as a FAILURE `event_hook.delivery` event (as Okta does).
fn deliver(shared: &Shared, plan: &Plan, envelope: &Envelope) {
    let body = json!({
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": format!("{}/api/v1/eventHooks/{}", shared.origin(), plan.id),
        "eventId": envelope.event_id,
        "eventTime": crate::dates::format(&shared.now()),
        "contentType": "application/json",
        "data": {"events": envelope.events},
    })
    .to_string();
    let headers = plan.hook.call_headers();
    for attempt in 1..=2 {
        let outcome = match http::call(
            "POST",
            &plan.url,
            &headers,
            body.as_bytes(),
            plan.hook.timeout,
        ) {
            Ok(answer) => DeliveryOutcome::Answered(answer.status),
            Err(HookError::Timeout) => DeliveryOutcome::Timeout,
            Err(e) => DeliveryOutcome::Unreachable(e.to_string()),
        };
        let retry = matches!(outcome, DeliveryOutcome::Timeout)
            || matches!(outcome, DeliveryOutcome::Answered(s) if s >= 500);
        let delivered = matches!(outcome, DeliveryOutcome::Answered(s) if (200..300).contains(&s));
        let reason = outcome.to_string();
        lock(&shared.hooks)
            .deliveries
            .push(record(&plan.id, envelope, attempt, outcome));
        if delivered || !retry || attempt == 2 {
            if !delivered {
                log_failure(shared, plan, &reason);
            }
            return;
        }
    }
}

fn log_failure(shared: &Shared, plan: &Plan, reason: &str) {
    let target = Target::new(&plan.id, "EventHook", &plan.hook.url, "event hook");
    let event =
        NewEvent::success(EventType::EventHookDelivery, vec![target], shared.now()).failed(reason);
    shared.store_events(&[event]);
}
