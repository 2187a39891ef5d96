//! Alerts (issue 16), one test per kind, each through the webhook and the SMTP sink on
//! loopback (`alert_sinks`): a failed sync, a sync the guard stopped (its plan pending),
//! no successful sync for the hours set, Okta rejecting the credential, repeated rate
//! limiting; and a delivery that fails is retried and shown, the sync untouched.

use crate::alert_sinks::Sinks;
use integration::{CONNECTOR, Env, TOKEN};
use okta_sim::{Fault, FaultKind};
use serde_json::{Value, json};
use usersync::SyncRequest;
use usersync::alerts::{self, deliver};

fn env_with_sinks() -> (Env, Sinks) {
    let env = Env::generated(30, 2);
    let sinks = Sinks::start();
    env.harness.update_console(&sinks.settings()).unwrap();
    (env, sinks)
}

fn fault(env: &Env, path: &str, times: usize, kind: FaultKind) {
    env.sim.add_fault(Fault {
        path_prefix: path.into(),
        nth: 1,
        times,
        kind,
    });
}

/// The one alert both sinks got: its webhook JSON and its e-mail.
fn the_alert(sinks: &Sinks) -> (Value, String) {
    sinks.wait_for(1, 1);
    let posts = sinks.posts.lock().unwrap();
    let mails = sinks.mails.lock().unwrap();
    assert_eq!((posts.len(), mails.len()), (1, 1), "{posts:?} {mails:?}");
    let post: Value = serde_json::from_str(&posts[0]).unwrap();
    let (to, mail) = &mails[0];
    assert_eq!(to, &["RCPT TO:<ops@acme.example>"]);
    assert!(
        !posts[0].contains(TOKEN) && !mail.contains(TOKEN),
        "no credential in an alert"
    );
    assert_eq!(post["connector"], CONNECTOR);
    assert_eq!(post["product"], "Jira");
    let subject = post["subject"].as_str().unwrap();
    assert!(mail.contains(&format!("Subject: {subject}")), "{mail}");
    assert_eq!(
        post["text"],
        format!("{subject}\n{}", post["message"].as_str().unwrap())
    );
    (post.clone(), mail.clone())
}

fn delivered(env: &Env) -> Vec<(String, String)> {
    alerts::deliveries(&env.harness, 10)
        .unwrap()
        .into_iter()
        .map(|d| (d.channel, d.status))
        .collect()
}

/// Wait until every queued delivery is sent (the run's sender runs in the background).
fn settled(env: &Env) {
    for _ in 0..200 {
        if delivered(env)
            .iter()
            .all(|(_, s)| s == "delivered" || s == "failed")
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("deliveries: {:?}", delivered(env));
}

#[test]
fn a_failed_sync_alerts() {
    let (env, sinks) = env_with_sinks();
    fault(&env, "/api/v1/groups", 1, FaultKind::Status(400));
    let e = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let (post, mail) = the_alert(&sinks);
    assert_eq!(post["kind"], "sync-failed");
    assert_eq!(
        post["subject"],
        "[Jira] User Sync: the sync of `okta` failed"
    );
    assert_eq!(
        post["message"],
        format!("The sync of `okta` failed (run #1); nothing was changed: {e}")
    );
    assert!(mail.contains("nothing was changed"), "{mail}");
    settled(&env);
    assert_eq!(
        delivered(&env),
        [
            ("email".into(), "delivered".into()),
            ("webhook".into(), "delivered".into())
        ]
    );
}

#[test]
fn a_sync_the_guard_stopped_alerts_that_its_plan_waits() {
    let (env, sinks) = env_with_sinks();
    env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    crate::approvals::suspend(&env.sim, 8);
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let (post, _) = the_alert(&sinks);
    assert_eq!(post["kind"], "pending-approval");
    let text = post["message"].as_str().unwrap();
    assert!(
        text.starts_with("The mass-deactivation guard stopped the sync of `okta` (run #2): it would deactivate or delete 8 of"),
        "{text}"
    );
    assert!(text.contains("`usersync runs approve 2`"), "{text}");
}

#[test]
fn no_successful_sync_for_the_hours_set_alerts_once() {
    let (env, sinks) = env_with_sinks();
    env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    let now = usersync::product::db::now();
    assert_eq!(
        alerts::check_stale(&env.harness, now + 25 * 3600).unwrap(),
        0,
        "no schedule on"
    );
    env.harness
        .update_connector(
            CONNECTOR,
            &serde_json::from_value(json!({"scheduleEnabled": true})).unwrap(),
        )
        .unwrap();
    assert_eq!(
        alerts::check_stale(&env.harness, now + 3600).unwrap(),
        0,
        "not stale yet"
    );
    assert_eq!(
        alerts::check_stale(&env.harness, now + 25 * 3600).unwrap(),
        2
    );
    assert_eq!(deliver::deliver_due(&env.harness, now + 25 * 3600), 2);
    let (post, mail) = the_alert(&sinks);
    assert_eq!(post["kind"], "no-success");
    assert_eq!(
        post["subject"],
        "[Jira] User Sync: no successful sync of `okta` for 24 hours"
    );
    assert!(mail.contains("last synced successfully at"), "{mail}");
    assert_eq!(
        alerts::check_stale(&env.harness, now + 26 * 3600).unwrap(),
        0,
        "once per outage"
    );
}

#[test]
fn okta_rejecting_the_credential_alerts() {
    let (env, sinks) = env_with_sinks();
    fault(&env, "/api/v1/users", 1, FaultKind::RevokedToken);
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let (post, mail) = the_alert(&sinks);
    assert_eq!(post["kind"], "credential-rejected");
    assert_eq!(
        post["subject"],
        "[Jira] User Sync: Okta rejected the credential of `okta`"
    );
    assert!(
        mail.contains("Give the connector a new API token"),
        "{mail}"
    );
}

#[test]
fn repeated_rate_limiting_alerts() {
    // A 2-second rate-limit window: each 429 waits for the window's reset.
    let config = okta_sim::SimConfig {
        rate_limits: okta_sim::RateLimits {
            window: std::time::Duration::from_secs(2),
            ..Default::default()
        },
        ..Default::default()
    };
    let env = Env::new(integration::generated_org(30, 2), config);
    let sinks = Sinks::start();
    env.harness.update_console(&sinks.settings()).unwrap();
    fault(&env, "/api/v1/users", 2, FaultKind::Status(429));
    let o = env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    assert_eq!(o.report.rate_limited, 2);
    let (post, _) = the_alert(&sinks);
    assert_eq!(post["kind"], "rate-limited");
    assert!(
        post["message"]
            .as_str()
            .unwrap()
            .starts_with("The sync of `okta` (run #1) met 2 rate-limited (429) answers"),
        "{post}"
    );
}

#[test]
fn a_failed_delivery_is_retried_and_shown_and_the_sync_is_untouched() {
    let (env, sinks) = env_with_sinks();
    sinks
        .fail_next
        .store(1, std::sync::atomic::Ordering::Release);
    // This connector's e-mail goes to its own recipient.
    env.harness
        .update_console(
            &json!({"alerts": {"connectors": {"okta": {"emailTo": ["oncall@acme.example"]}}}}),
        )
        .unwrap();
    fault(&env, "/api/v1/groups", 1, FaultKind::Status(400));
    let e = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    assert!(e.to_string().contains("400"), "the sync's own error: {e}");
    sinks.wait_for(1, 1);
    settled_or_pending(&env);
    let webhook = alerts::deliveries(&env.harness, 10)
        .unwrap()
        .into_iter()
        .find(|d| d.channel == "webhook")
        .unwrap();
    assert_eq!((webhook.status.as_str(), webhook.attempts), ("pending", 1));
    assert_eq!(
        webhook.last_error.as_deref(),
        Some("the webhook failed: it answered 500 Internal Server Error")
    );
    assert_eq!(
        sinks.mails.lock().unwrap()[0].0,
        ["RCPT TO:<oncall@acme.example>"]
    );
    let later = usersync::product::db::now() + 61;
    assert_eq!(deliver::deliver_due(&env.harness, later), 1);
    assert_eq!(sinks.posts.lock().unwrap().len(), 2, "tried again");
    assert_eq!(
        delivered(&env),
        [
            ("email".into(), "delivered".into()),
            ("webhook".into(), "delivered".into())
        ]
    );
}

/// Wait until no delivery is being sent.
fn settled_or_pending(env: &Env) {
    for _ in 0..200 {
        if delivered(env).iter().all(|(_, s)| s != "sending") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("deliveries: {:?}", delivered(env));
}
