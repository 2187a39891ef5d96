//! Event hooks: the one-time verification, deliveries with the authorization
//! secret, and each fault (duplicate, reorder, drop, slow receiver, 5xx).

mod common;

use std::time::Duration;

use common::receiver::{Answer, Receiver};
use okta_sim::{
    DeliveryOutcome, EventHook, EventType, GroupType, HookError, HookFault, Org, SimConfig,
    Simulator,
};

const WAIT: Duration = Duration::from_secs(10);

/// A simulator with one group, and a hook on membership events with a secret.
fn setup(receiver: &Receiver, timeout: Duration) -> (Simulator, String, String) {
    let sim = Simulator::start(Org::default(), SimConfig::default());
    let group = sim.with_org(|o| o.add_group("Engineers", GroupType::OktaGroup));
    let hook = EventHook::new(&receiver.url, &[EventType::GroupMemberAdd])
        .with_auth("Authorization", "s3cret")
        .with_timeout(timeout);
    let id = sim.register_event_hook(hook).unwrap();
    (sim, id, group)
}

/// Adds a new user to the group: one delivery's worth of events.
fn change(sim: &Simulator, group: &str) -> String {
    sim.with_org(|o| {
        let login = format!("u{}@example.com", o.users.len());
        let u = o.add_user(&login, "U", "V", "STAGED");
        o.add_member(group, &u);
        u
    })
}

#[test]
fn registration_verifies_the_endpoint_once() {
    let receiver = Receiver::start();
    let (_sim, id, _) = setup(&receiver, Duration::from_secs(3));
    assert!(id.starts_with("who") && id.len() == 20, "{id}");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "GET");
    assert_eq!(got[0].header("authorization"), Some("s3cret"));
    let challenge = got[0].header("x-okta-verification-challenge").unwrap();
    assert_eq!(challenge.len(), 32);

    receiver.then(&[Answer::WrongChallenge]);
    let sim = Simulator::start(Org::default(), SimConfig::default());
    match sim.register_event_hook(EventHook::new(&receiver.url, &EventType::ALL)) {
        Err(HookError::Verification { status, body }) => {
            assert_eq!((status, body.as_str()), (200, r#"{"verification":"nope"}"#));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        EventHook::new("http://x", &[]).timeout,
        Duration::from_secs(3)
    );
}

#[test]
fn a_delivery_carries_the_subscribed_events_and_the_secret() {
    let receiver = Receiver::start();
    let (sim, id, group) = setup(&receiver, Duration::from_secs(3));
    let user = change(&sim, &group);
    let deliveries = sim.wait_for_deliveries(1, WAIT);
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(
        (deliveries[0].hook_id.as_str(), deliveries[0].attempt),
        (id.as_str(), 1)
    );
    let post = &receiver.posts()[0];
    assert_eq!(post.header("authorization"), Some("s3cret"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    let body = post.json();
    assert_eq!(body["eventType"], "com.okta.event_hook");
    assert_eq!(body["eventTypeVersion"], "1.0");
    assert_eq!(body["eventId"], deliveries[0].event_id.as_str());
    assert_eq!(
        body["source"],
        format!("https://acme.okta.com/api/v1/eventHooks/{id}")
    );
    assert!(okta_sim::dates::parse(body["eventTime"].as_str().unwrap()).is_some());
    let events = body["data"]["events"].as_array().unwrap();
    // The Everyone membership and the group's: only the subscribed type.
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e["eventType"] == "group.user_membership.add")
    );
    assert_eq!(events[1]["target"][0]["id"], user.as_str());
    assert_eq!(events[1]["target"][1]["id"], group.as_str());
    let uuids: Vec<&str> = events.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    assert_eq!(deliveries[0].event_uuids, uuids);
    let logged: Vec<serde_json::Value> = sim.log_contents();
    assert!(
        events.iter().all(|e| logged.contains(e)),
        "the System Log's events"
    );
}

#[test]
fn duplicate_reorder_and_drop() {
    let receiver = Receiver::start();
    let (sim, id, group) = setup(&receiver, Duration::from_secs(3));
    sim.add_hook_fault(&id, 1, HookFault::Duplicate);
    sim.add_hook_fault(&id, 2, HookFault::Reorder);
    sim.add_hook_fault(&id, 4, HookFault::Drop);
    for _ in 0..4 {
        change(&sim, &group);
    }
    let d = sim.wait_for_deliveries(5, WAIT);
    let ids: Vec<&str> = d.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(ids[0], ids[1], "duplicate: the same eventId twice");
    assert_ne!(ids[2], ids[3]);
    let posts = receiver.posts();
    let posted: Vec<String> = posts
        .iter()
        .map(|p| p.json()["eventId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(posted, ids[..4], "the 4th was dropped, not sent");
    assert_eq!(d[4].outcome, DeliveryOutcome::Dropped);
    // Reorder: the 2nd change's delivery arrives after the 3rd's.
    let first_user = |p: &common::receiver::Received| {
        p.json()["data"]["events"][0]["target"][0]["alternateId"].clone()
    };
    assert_eq!(first_user(&posts[2]), "u2@example.com");
    assert_eq!(first_user(&posts[3]), "u1@example.com");
    let failed = wait_for_failure(&sim);
    assert_eq!(failed["outcome"]["reason"], "dropped");
    assert_eq!(failed["target"][0]["id"], id.as_str());
}

/// The `event_hook.delivery` FAILURE event, once logged.
fn wait_for_failure(sim: &Simulator) -> serde_json::Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let found =
            (sim.log_contents().into_iter()).find(|e| e["eventType"] == "event_hook.delivery");
        match found {
            Some(e) => {
                assert_eq!(e["outcome"]["result"], "FAILURE");
                return e;
            }
            None if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            None => panic!("no event_hook.delivery event"),
        }
    }
}

#[test]
fn a_slow_receiver_times_out_after_3_s_and_gets_one_retry() {
    let receiver = Receiver::start();
    let (sim, _, group) = setup(&receiver, Duration::from_secs(3));
    receiver.then(&[Answer::Slow(Duration::from_millis(3500))]);
    let started = std::time::Instant::now();
    change(&sim, &group);
    let d = sim.wait_for_deliveries(2, WAIT);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(d[0].outcome, DeliveryOutcome::Timeout);
    assert_eq!(
        (d[1].attempt, &d[1].outcome),
        (2, &DeliveryOutcome::Answered(200))
    );
    assert_eq!(d[0].event_id, d[1].event_id, "the retry keeps the eventId");
}

#[test]
fn a_5xx_gets_exactly_one_retry_and_a_4xx_none() {
    let receiver = Receiver::start();
    let (sim, _, group) = setup(&receiver, Duration::from_millis(500));
    receiver.then(&[
        Answer::Status(503),
        Answer::Status(500),
        Answer::Status(500),
        Answer::Status(400),
    ]);
    for _ in 0..3 {
        change(&sim, &group);
    }
    let d = sim.wait_for_deliveries(5, WAIT);
    let outcomes: Vec<(u32, DeliveryOutcome)> =
        d.iter().map(|d| (d.attempt, d.outcome.clone())).collect();
    assert_eq!(
        outcomes,
        [
            (1, DeliveryOutcome::Answered(503)),
            (2, DeliveryOutcome::Answered(500)),
            (1, DeliveryOutcome::Answered(500)),
            (2, DeliveryOutcome::Answered(400)),
            (1, DeliveryOutcome::Answered(200)),
        ]
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sim.hook_deliveries().len(), 5, "no third attempt");
    assert_eq!(wait_for_failure(&sim)["outcome"]["reason"], "HTTP 500");
}
