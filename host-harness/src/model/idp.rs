//! Single sign-on's model: an OpenID Connect identity provider (one per connector's
//! Okta org), the patch that sets it, and the record of an SSO login with its steps
//! (what the login tracker shows). The REST API, the CLI and the SSO settings page all
//! read and write these.

use super::{FieldError, REDACTED};
use serde::{Deserialize, Serialize};

/// How an SSO login treats the product's user, as Atlassian's SSO names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateMethod {
    /// Only users that already exist, active, may log in; nothing is synced.
    #[default]
    None,
    /// *Update with UserSync*: the login sync of the user (by the ID token's `sub`)
    /// runs first, and its result admits or refuses the login.
    Usersync,
}

impl UpdateMethod {
    /// The value as stored and shown (`none`, `usersync`).
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateMethod::None => "none",
            UpdateMethod::Usersync => "usersync",
        }
    }

    /// The stored value.
    pub fn parse(s: &str) -> Option<UpdateMethod> {
        match s {
            "none" => Some(UpdateMethod::None),
            "usersync" => Some(UpdateMethod::Usersync),
            _ => None,
        }
    }
}

/// An identity provider as every surface shows it; the client secret is never shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProvider {
    /// The connector whose Okta org signs users in.
    pub connector: String,
    /// The Okta domain users sign in at (the connector's).
    pub okta_domain: String,
    /// The OIDC app's client id.
    pub client_id: String,
    /// Always [`REDACTED`].
    pub client_secret: &'static str,
    /// How a login treats the product's user.
    pub update_method: UpdateMethod,
    /// The connector whose login sync runs with *Update with UserSync*; `None` after
    /// that connector was deleted (logins are then refused, saying so).
    pub sync_connector: Option<String>,
    /// The product's login page goes straight to Okta (`?nosso` shows the local login).
    pub redirect_to_sso: bool,
}

/// The settings to change (the others keep their value); for a new identity provider
/// `clientId` and `clientSecret` are needed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdpPatch {
    /// The OIDC app's client id.
    pub client_id: Option<String>,
    /// The client secret (write only; [`REDACTED`] or absent keeps the stored one).
    pub client_secret: Option<String>,
    /// How a login treats the product's user.
    pub update_method: Option<UpdateMethod>,
    /// The connector of the login sync (default: the identity provider's own).
    pub sync_connector: Option<String>,
    /// Redirect the login page to Okta.
    pub redirect_to_sso: Option<bool>,
}

impl IdpPatch {
    /// The new client secret, if the patch sets one (a redacted or empty value keeps it).
    pub fn new_secret(&self) -> Option<&str> {
        self.client_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != REDACTED)
    }
}

/// Longest client id taken (Okta's are 20 characters).
const MAX_CLIENT_ID: usize = 100;
/// Longest client secret taken (Okta's are 40 to 64 characters).
const MAX_CLIENT_SECRET: usize = 512;

fn visible_ascii(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

/// A client id: 1 to 100 visible ASCII characters.
pub fn check_client_id(id: &str) -> Result<(), FieldError> {
    let why = if id.is_empty() {
        "is empty: copy the Client ID of the Okta OIDC app (Applications › your app › General)"
    } else if id.len() > MAX_CLIENT_ID || !visible_ascii(id) {
        "is not an Okta client id (1 to 100 visible ASCII characters, e.g. 0oa1b2c3d4EXAMPLE)"
    } else {
        return Ok(());
    };
    Err(FieldError {
        field: "clientId".into(),
        message: format!("clientId {why}"),
    })
}

/// A client secret: 1 to 512 visible ASCII characters. The message never quotes it.
pub fn check_client_secret(secret: &str) -> Result<(), FieldError> {
    if !secret.is_empty() && secret.len() <= MAX_CLIENT_SECRET && visible_ascii(secret) {
        return Ok(());
    }
    Err(FieldError {
        field: "clientSecret".into(),
        message: "clientSecret is not an Okta client secret (1 to 512 visible ASCII characters): copy it from the Okta OIDC app (General › Client Credentials)".into(),
    })
}

/// One step of an SSO login, as the login tracker shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginStep {
    /// `redirect`, `callback`, `token`, `claims`, `user-sync` or `decision`.
    pub step: String,
    /// Whether the step succeeded.
    pub ok: bool,
    /// What happened (or why it failed), in one sentence.
    pub detail: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// How an SSO login ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// A session for the user was opened.
    Admitted,
    /// Refused, with the reason.
    Refused,
}

/// An SSO login (a real one, or an admin's test login), with its steps so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecord {
    /// Its id.
    pub id: i64,
    /// The identity provider's connector.
    pub connector: String,
    /// A test login started from the tracker.
    pub test: bool,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// The product user admitted or refused, once known.
    pub username: Option<String>,
    /// How it ended (`None`: not finished, e.g. still at Okta's sign-in).
    pub decision: Option<Decision>,
    /// Why it was refused.
    pub reason: Option<String>,
    /// Its steps, in order.
    pub steps: Vec<LoginStep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_and_secrets_are_checked_without_quoting_the_secret() {
        assert_eq!(check_client_id("0oa1b2c3d4EXAMPLE"), Ok(()));
        assert!(
            check_client_id("")
                .unwrap_err()
                .message
                .contains("is empty")
        );
        assert_eq!(check_client_id("0oa 1").unwrap_err().field, "clientId");
        assert_eq!(check_client_secret("s3cr3t-Value_1"), Ok(()));
        for bad in ["", "with space", &"x".repeat(513)] {
            let e = check_client_secret(bad).unwrap_err();
            assert_eq!(e.field, "clientSecret");
            assert!(bad.is_empty() || !e.message.contains(bad), "{}", e.message);
        }
        let keep = IdpPatch {
            client_secret: Some(REDACTED.into()),
            ..IdpPatch::default()
        };
        assert_eq!(keep.new_secret(), None);
    }
}
