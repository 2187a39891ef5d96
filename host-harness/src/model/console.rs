//! The admin console's own settings, apart from any connector's: how long a refused plan
//! waits for approval, and where and when alerts go. Stored as one versioned JSON
//! document (`product::db::console`); the REST API, the CLI and the page read and patch
//! it in camelCase, like the connector settings.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The console's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Approvals of plans the mass-deactivation guard refused.
    pub approvals: ApprovalSettings,
    /// Alerts.
    pub alerts: AlertSettings,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            approvals: ApprovalSettings { expiry_hours: 72 },
            alerts: AlertSettings::default(),
        }
    }
}

/// Approvals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalSettings {
    /// A refused plan not approved or rejected within this many hours expires (Okta has
    /// moved on by then: approving it would only report the plan changed).
    pub expiry_hours: u32,
}

/// What an alert is about.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AlertKind {
    /// A sync failed (other than the guard).
    SyncFailed,
    /// The mass-deactivation guard refused a sync; its plan waits for approval.
    PendingApproval,
    /// No successful sync of the connector for the hours set.
    NoSuccess,
    /// Okta rejected the connector's credential (401/403).
    CredentialRejected,
    /// A sync met more 429 answers than the threshold.
    RateLimited,
}

impl AlertKind {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where and when alerts go: globally, with per-connector overrides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AlertSettings {
    /// The kinds of alert sent (all by default).
    pub kinds: Vec<AlertKind>,
    /// A URL the alerts are POSTed to as JSON (`{"text": ...}`, as Slack's and Teams'
    /// incoming webhooks take it, with the alert's fields beside it).
    pub webhook_url: Option<String>,
    /// E-mail through an SMTP relay.
    pub email: Option<EmailSettings>,
    /// Alert when a connector with an enabled schedule has had no successful sync for
    /// this many hours (`null`: never).
    pub no_success_hours: Option<u32>,
    /// Alert when one sync meets at least this many 429 (rate limited) answers.
    pub rate_limit_threshold: u32,
    /// Per connector (by name): other kinds, or other recipients.
    pub connectors: BTreeMap<String, ConnectorAlerts>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            kinds: <AlertKind as strum::VariantArray>::VARIANTS.to_vec(),
            webhook_url: None,
            email: None,
            no_success_hours: Some(24),
            rate_limit_threshold: 5,
            connectors: BTreeMap::new(),
        }
    }
}

/// A connector's alerts where they differ from the global ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ConnectorAlerts {
    /// The kinds sent for this connector (`null`: the global ones; `[]`: none).
    pub kinds: Option<Vec<AlertKind>>,
    /// Another webhook for this connector's alerts.
    pub webhook_url: Option<String>,
    /// Other recipients for this connector's alerts.
    pub email_to: Option<Vec<String>>,
}

/// An SMTP relay (the product's mail server; no authentication: an internal relay).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailSettings {
    /// The relay's host name or address.
    pub smtp_host: String,
    /// Its port (25, 587 with STARTTLS, 465 with TLS).
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on loopback or the local network).
    #[default]
    None,
    /// STARTTLS, required.
    Starttls,
    /// TLS from the start (SMTPS).
    Tls,
}

/// A refused console setting, naming it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConsoleError {
    /// The setting, e.g. `alerts.webhookUrl`.
    pub field: String,
    /// Why.
    pub message: String,
}

fn refuse(field: &str, message: impl Into<String>) -> ConsoleError {
    ConsoleError {
        field: field.into(),
        message: message.into(),
    }
}

impl ConsoleSettings {
    /// These settings with `patch` (any part of the document) over them, checked.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<ConsoleSettings, ConsoleError> {
        let mut doc = serde_json::to_value(self).expect("settings serialize");
        merge(&mut doc, patch);
        let next: ConsoleSettings =
            serde_json::from_value(doc).map_err(|e| refuse("settings", e.to_string()))?;
        next.check()?;
        Ok(next)
    }

    /// Every setting in range; URLs and addresses that parse.
    pub fn check(&self) -> Result<(), ConsoleError> {
        if self.approvals.expiry_hours == 0 {
            return Err(refuse(
                "approvals.expiryHours",
                "a plan must wait at least 1 hour for approval",
            ));
        }
        if self.alerts.no_success_hours == Some(0) {
            return Err(refuse(
                "alerts.noSuccessHours",
                "give at least 1 hour, or null for never",
            ));
        }
        if let Some(url) = &self.alerts.webhook_url {
            check_webhook("alerts.webhookUrl", url)?;
        }
        if let Some(e) = &self.alerts.email {
            check_email(e)?;
        }
        for (name, c) in &self.alerts.connectors {
            if let Some(url) = &c.webhook_url {
                check_webhook(&format!("alerts.connectors.{name}.webhookUrl"), url)?;
            }
            for to in c.email_to.iter().flatten() {
                check_address(&format!("alerts.connectors.{name}.emailTo"), to)?;
            }
        }
        Ok(())
    }
}

/// A webhook is https, or http to loopback only (a test receiver): alerts say which
/// connector failed and why, which should not cross a network in the clear.
fn check_webhook(field: &str, url: &str) -> Result<(), ConsoleError> {
    let parsed =
        url::Url::parse(url).map_err(|e| refuse(field, format!("`{url}` is not a URL: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refuse(
            field,
            "a webhook must be an https:// URL (http:// only to a loopback address)",
        )),
    }
}

fn check_address(field: &str, address: &str) -> Result<(), ConsoleError> {
    address
        .parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|e| refuse(field, format!("`{address}` is not an e-mail address: {e}")))
}

fn check_email(e: &EmailSettings) -> Result<(), ConsoleError> {
    if e.smtp_host.trim().is_empty() {
        return Err(refuse(
            "alerts.email.smtpHost",
            "give the SMTP relay's host",
        ));
    }
    if e.smtp_port == 0 {
        return Err(refuse(
            "alerts.email.smtpPort",
            "give the SMTP relay's port",
        ));
    }
    check_address("alerts.email.from", &e.from)?;
    if e.to.is_empty() {
        return Err(refuse("alerts.email.to", "give at least one recipient"));
    }
    e.to.iter()
        .try_for_each(|to| check_address("alerts.email.to", to))
}

/// JSON merge patch (RFC 7386): objects merge, anything else replaces.
fn merge(doc: &mut serde_json::Value, patch: &serde_json::Value) {
    match (doc, patch) {
        (serde_json::Value::Object(d), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    d.insert(k.clone(), serde_json::Value::Null);
                } else {
                    merge(d.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (d, p) => *d = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_changes_only_what_it_holds_and_is_checked() {
        let s = ConsoleSettings::default()
            .patched(&json!({"approvals": {"expiryHours": 4}, "alerts": {"webhookUrl": "https://hooks.example.com/x"}}))
            .unwrap();
        assert_eq!(s.approvals.expiry_hours, 4);
        assert_eq!(s.alerts.no_success_hours, Some(24));
        let e = s
            .patched(&json!({"alerts": {"webhookUrl": "http://hooks.example.com/x"}}))
            .unwrap_err();
        assert_eq!(e.field, "alerts.webhookUrl");
        let e = s
            .patched(&json!({"alerts": {"email": {"smtpHost": "mail", "smtpPort": 25, "from": "nope", "to": ["a@b.c"]}}}))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "alerts.email.from: `nope` is not an e-mail address: Missing domain or user"
        );
        let e = s.patched(&json!({"approvals": {"expiry": 4}})).unwrap_err();
        assert!(e.message.contains("unknown field `expiry`"), "{e}");
    }
}
