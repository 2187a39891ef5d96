//! Sending queued alerts: a webhook POST of JSON (`text` as Slack's incoming webhooks
//! take it, with the alert's fields beside it), or an e-mail through the SMTP relay
//! (lettre). Each try has a 10-second budget; failures are recorded on the delivery and
//! retried later (`product::db::alerts::failed`), never raised.

use crate::harness::Harness;
use crate::model::console::{AlertSettings, EmailSettings, SmtpSecurity};
use crate::product::db::alerts::{self as queue, Delivery};
use std::time::Duration;

/// One try's budget.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why one try failed (recorded on the delivery, shown to admins).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The channel is no longer configured.
    #[error("no {0} is configured any more")]
    NotConfigured(&'static str),
    /// The webhook failed or answered other than 2xx.
    #[error("the webhook failed: {0}")]
    Webhook(String),
    /// The e-mail could not be built (an address).
    #[error("the e-mail could not be written: {0}")]
    Message(String),
    /// The SMTP relay failed or refused.
    #[error("the SMTP relay failed: {0}")]
    Smtp(String),
}

/// Send every delivery due at `now`, one after the other; how many went through.
pub fn deliver_due(h: &Harness, now: i64) -> usize {
    let settings = match h.console() {
        Ok(s) => s.alerts,
        Err(e) => return log_failure(&e.to_string()),
    };
    let due = match queue::claim_due(&h.db().lock(), now, 100) {
        Ok(due) => due,
        Err(e) => return log_failure(&e.to_string()),
    };
    let mut sent = 0;
    for d in due {
        let result = send(&d, &settings, h.product().name);
        let conn = h.db().lock();
        let recorded = match &result {
            Ok(()) => queue::delivered(&conn, d.id, crate::product::db::now()),
            Err(e) => {
                tracing::warn!(
                    alert = d.id,
                    channel = d.channel,
                    "alert delivery failed: {e}"
                );
                queue::failed(&conn, &d, &e.to_string(), crate::product::db::now())
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(alert = d.id, "recording the alert's delivery failed: {e}");
        }
        sent += usize::from(result.is_ok());
    }
    sent
}

fn log_failure(e: &str) -> usize {
    tracing::warn!("alerts could not be read for delivery: {e}");
    0
}

/// Try one delivery once.
pub fn send(d: &Delivery, settings: &AlertSettings, product: &str) -> Result<(), DeliveryError> {
    let own = d
        .connector
        .as_deref()
        .and_then(|c| settings.connectors.get(c));
    match d.channel.as_str() {
        "webhook" => {
            let url = own
                .and_then(|c| c.webhook_url.as_deref())
                .or(settings.webhook_url.as_deref())
                .ok_or(DeliveryError::NotConfigured("webhook"))?;
            webhook(url, d, product)
        }
        _ => {
            let email = settings
                .email
                .as_ref()
                .ok_or(DeliveryError::NotConfigured("SMTP relay"))?;
            let to = own.and_then(|c| c.email_to.as_deref()).unwrap_or(&email.to);
            mail(email, to, d)
        }
    }
}

/// The webhook's JSON: `text` for Slack (and Teams' and Mattermost's incoming webhooks),
/// and the alert's fields for anything else.
pub fn webhook_body(d: &Delivery, product: &str) -> serde_json::Value {
    serde_json::json!({
        "text": format!("{}\n{}", d.subject, d.text),
        "kind": d.kind,
        "connector": d.connector,
        "product": product,
        "subject": d.subject,
        "message": d.text,
        "raisedAt": crate::harness::utc(d.created_at),
    })
}

fn webhook(url: &str, d: &Delivery, product: &str) -> Result<(), DeliveryError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let body = webhook_body(d, product).to_string();
    let resp = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .map_err(|e| DeliveryError::Webhook(e.to_string()))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    Err(DeliveryError::Webhook(format!("it answered {status}")))
}

fn mail(email: &EmailSettings, to: &[String], d: &Delivery) -> Result<(), DeliveryError> {
    use lettre::Transport;
    let bad = |e: &dyn std::fmt::Display| DeliveryError::Message(e.to_string());
    let mut message = lettre::Message::builder()
        .from(email.from.parse().map_err(|e| bad(&e))?)
        .subject(&d.subject);
    for rcpt in to {
        message = message.to(rcpt.parse().map_err(|e| bad(&e))?);
    }
    let message = message
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(d.text.clone())
        .map_err(|e| bad(&e))?;
    let smtp = |e: lettre::transport::smtp::Error| DeliveryError::Smtp(e.to_string());
    let builder = match email.security {
        SmtpSecurity::None => lettre::SmtpTransport::builder_dangerous(&email.smtp_host),
        SmtpSecurity::Starttls => {
            lettre::SmtpTransport::starttls_relay(&email.smtp_host).map_err(smtp)?
        }
        SmtpSecurity::Tls => lettre::SmtpTransport::relay(&email.smtp_host).map_err(smtp)?,
    };
    let transport = builder.port(email.smtp_port).timeout(Some(TIMEOUT)).build();
    transport.send(&message).map(|_| ()).map_err(smtp)
}
