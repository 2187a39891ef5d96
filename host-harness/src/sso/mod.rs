//! Single sign-on with Okta (OpenID Connect), as the products' SSO does it: an
//! identity provider per connector's Okta org (client id and secret of an Okta OIDC web
//! app), a *user update method* (`none`: only existing active users; *Update with
//! UserSync*: the login sync of the user runs first and its result admits or refuses
//! the login), and the record of every login with its steps (the login tracker).
//!
//! [`oidc`] is the relying party (discovery, code exchange, ID token verification),
//! [`flow`] the logins between the redirect and the callback. The HTTP side (login
//! page, callback, product sessions, settings page, tracker) is
//! `surface::web::sso`.

pub mod flow;
pub mod oidc;

use crate::harness::{Harness, HarnessError};
use crate::host::bindings::wit;
use crate::model::idp::{
    IdentityProvider, IdpPatch, LoginRecord, LoginStep, UpdateMethod, check_client_id,
    check_client_secret,
};
use crate::model::{FieldError, REDACTED};
use crate::product::db::idp::{self as db_idp, IdpRow, StoredIdp};
use crate::product::db::{self, directory};

/// Why a login failed before its decision; each is one sentence for the admin (the
/// tracker, the log) and, shortened, for the user's page. None holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// A URL of the login is not on the org's host over https.
    #[error(
        "`{0}` is not on the connector's Okta host over https; the client secret goes nowhere else"
    )]
    OffHost(String),
    /// Okta could not be reached, or answered something unusable.
    #[error("Okta could not be reached at {url}: {reason}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The discovery document is another issuer's.
    #[error("the discovery document's issuer is `{got}`, not `{expected}`")]
    DiscoveryIssuer {
        /// The org's issuer.
        expected: String,
        /// What it said.
        got: String,
    },
    /// Okta redirected back with an error.
    #[error("Okta refused the sign-in: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Authorize {
        /// The OAuth `error`.
        error: String,
        /// Its `error_description`.
        description: Option<String>,
    },
    /// The callback's `state` is not a login this browser started (or it was used).
    #[error(
        "the callback's state does not match a login started in this browser (a forged or replayed callback, or a login older than 10 minutes); start the login again"
    )]
    StateMismatch,
    /// The callback carries no code.
    #[error("the callback carries no authorization code")]
    NoCode,
    /// The token endpoint refused the code.
    #[error("Okta refused the code exchange ({status} {error}{}); {}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(), token_hint(.error))]
    Token {
        /// HTTP status.
        status: u16,
        /// The OAuth `error`.
        error: String,
        /// Its description.
        description: Option<String>,
    },
    /// The ID token is malformed or unusable.
    #[error("the ID token is refused: {0}")]
    IdToken(String),
    /// Its signature does not verify.
    #[error("the ID token is refused: its signature does not verify with the org's key")]
    BadSignature,
    /// Its `kid` is not in the JWKS, even fetched again.
    #[error(
        "the ID token is refused: its key `{0}` is not in the org's JWKS (fetched again to be sure)"
    )]
    UnknownKid(String),
    /// Another issuer.
    #[error("the ID token is refused: its issuer is `{got}`, not `{expected}`")]
    WrongIssuer {
        /// The org.
        expected: String,
        /// The token's.
        got: String,
    },
    /// For another client.
    #[error(
        "the ID token is refused: its audience is `{got}`, not this identity provider's client id `{expected}`"
    )]
    WrongAudience {
        /// The client id.
        expected: String,
        /// The token's.
        got: String,
    },
    /// Expired.
    #[error(
        "the ID token is refused: it expired (exp {0}), beyond the minute of clock skew allowed"
    )]
    Expired(String),
    /// Issued in the future.
    #[error(
        "the ID token is refused: it was issued {0} s in the future, beyond the minute of clock skew allowed (is a clock wrong?)"
    )]
    IssuedInFuture(i64),
    /// No nonce.
    #[error("the ID token is refused: it carries no nonce, and the login sent one")]
    MissingNonce,
    /// Another login's nonce.
    #[error(
        "the ID token is refused: its nonce is not this login's (a token of another login, replayed)"
    )]
    WrongNonce,
    /// The harness failed (no such provider, the database, the secret).
    #[error(transparent)]
    Harness(#[from] HarnessError),
}

/// What to check after a refused code exchange, by its OAuth `error`.
fn token_hint(error: &str) -> &'static str {
    match error {
        "invalid_client" => {
            "the identity provider's client id and secret must be the Okta OIDC app's"
        }
        "invalid_grant" => {
            "an authorization code works once and for minutes: a replayed or expired code is refused"
        }
        _ => "see the Okta OIDC app's settings",
    }
}

/// What a login's decision is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Log in as this product user, a member of these groups.
    Admitted {
        /// The product's username.
        username: String,
        /// Its groups in the connector's directory.
        groups: Vec<String>,
    },
    /// Refused, saying why (to the user and in the record).
    Refused(String),
}

/// What a login needs of its identity provider. `Debug` masks the secret.
#[derive(Clone)]
pub struct LoginConfig {
    /// The stored provider.
    pub idp: StoredIdp,
    /// The connector's Okta domain.
    pub domain: String,
    /// The client secret.
    pub client_secret: String,
}

impl std::fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginConfig")
            .field("idp", &self.idp)
            .field("domain", &self.domain)
            .field("client_secret", &REDACTED)
            .finish()
    }
}

impl Harness {
    fn idp_view(&self, idp: StoredIdp) -> Result<IdentityProvider, HarnessError> {
        let c = self.stored(&idp.connector)?;
        Ok(IdentityProvider {
            connector: idp.connector,
            okta_domain: c.settings.okta_domain,
            client_id: idp.client_id,
            client_secret: REDACTED,
            update_method: idp.update_method,
            sync_connector: idp.sync_connector.map(|(_, name)| name),
            redirect_to_sso: idp.redirect_to_sso,
        })
    }

    fn stored_idp(&self, connector: &str) -> Result<StoredIdp, HarnessError> {
        let c = self.stored(connector)?;
        db_idp::get(&self.db().lock(), c.id)?
            .ok_or_else(|| HarnessError::NoIdentityProvider(c.settings.name))
    }

    /// Every identity provider, by connector name.
    pub fn identity_providers(&self) -> Result<Vec<IdentityProvider>, HarnessError> {
        let list = db_idp::list(&self.db().lock())?;
        list.into_iter().map(|i| self.idp_view(i)).collect()
    }

    /// The identity provider of `connector`'s Okta org.
    pub fn identity_provider(&self, connector: &str) -> Result<IdentityProvider, HarnessError> {
        let idp = self.stored_idp(connector)?;
        self.idp_view(idp)
    }

    /// Set (create or change) the identity provider of `connector`'s org: the patch's
    /// settings over the stored ones; a new one needs its client id and secret. Every
    /// bad field is refused by name and nothing is stored.
    pub fn set_identity_provider(
        &self,
        connector: &str,
        patch: &IdpPatch,
    ) -> Result<IdentityProvider, HarnessError> {
        self.db().still_there()?;
        let c = self.stored(connector)?;
        let old = db_idp::get(&self.db().lock(), c.id)?;
        let client_id = match (&patch.client_id, &old) {
            (Some(id), _) => id.trim().to_string(),
            (None, Some(o)) => o.client_id.clone(),
            (None, None) => String::new(),
        };
        let mut errors: Vec<FieldError> = check_client_id(&client_id).err().into_iter().collect();
        let secret = patch.new_secret();
        match secret {
            Some(s) => errors.extend(check_client_secret(s).err()),
            None if old.is_none() => errors.push(FieldError {
                field: "clientSecret".into(),
                message: "clientSecret is needed for a new identity provider: copy it from the Okta OIDC app (General › Client Credentials)".into(),
            }),
            None => {}
        }
        let method = patch
            .update_method
            .or(old.as_ref().map(|o| o.update_method))
            .unwrap_or_default();
        let sync = self.sync_connector(c.id, patch, old.as_ref(), &mut errors);
        if !errors.is_empty() {
            return Err(HarnessError::InvalidConfig(errors));
        }
        let redirect = patch
            .redirect_to_sso
            .or(old.as_ref().map(|o| o.redirect_to_sso))
            .unwrap_or(false);
        let row = IdpRow {
            client_id: &client_id,
            client_secret: secret,
            update_method: method,
            sync_connector_id: sync,
            redirect_to_sso: redirect,
        };
        db_idp::put(&mut self.db().lock(), self.db().key(), c.id, &row)?;
        self.identity_provider(connector)
    }

    /// The login sync's connector of a patch: the one it names (an empty name: the
    /// provider's own, `own`), else the stored one, else the provider's own; a name of
    /// no connector is added to `errors`.
    fn sync_connector(
        &self,
        own: i64,
        patch: &IdpPatch,
        old: Option<&StoredIdp>,
        errors: &mut Vec<FieldError>,
    ) -> Option<i64> {
        match (&patch.sync_connector, old) {
            (Some(name), _) if name.trim().is_empty() => Some(own),
            (Some(name), _) => match self.stored(name) {
                Ok(s) => Some(s.id),
                Err(_) => {
                    errors.push(FieldError {
                        field: "syncConnector".into(),
                        message: format!(
                            "syncConnector: there is no connector named `{}`",
                            name.trim()
                        ),
                    });
                    None
                }
            },
            (None, Some(o)) => o.sync_connector.as_ref().map(|(id, _)| *id),
            (None, None) => Some(own),
        }
    }

    /// Remove the identity provider of `connector`'s org (its logins' records stay).
    pub fn delete_identity_provider(&self, connector: &str) -> Result<(), HarnessError> {
        let c = self.stored(connector)?;
        if db_idp::delete(&self.db().lock(), c.id)? {
            Ok(())
        } else {
            Err(HarnessError::NoIdentityProvider(c.settings.name))
        }
    }

    /// The identity provider the login page redirects to, if one is set so.
    pub fn sso_redirect_target(&self) -> Result<Option<String>, HarnessError> {
        let list = db_idp::list(&self.db().lock())?;
        Ok(list
            .into_iter()
            .find(|i| i.redirect_to_sso)
            .map(|i| i.connector))
    }

    /// What a login with `connector`'s identity provider needs, its secret decrypted.
    pub fn login_config(&self, connector: &str) -> Result<LoginConfig, HarnessError> {
        let c = self.stored(connector)?;
        let idp = self.stored_idp(connector)?;
        let conn = self.db().lock();
        let client_secret = db_idp::client_secret(&conn, self.db().key(), c.id, &c.settings.name)?;
        Ok(LoginConfig {
            idp,
            domain: c.settings.okta_domain,
            client_secret,
        })
    }

    /// Start the record of a login with `connector`'s provider (a test login from the
    /// tracker with `test`).
    pub fn start_sso_login(&self, connector: &str, test: bool) -> Result<i64, HarnessError> {
        let c = self.stored(connector)?;
        Ok(db_idp::start_login(&self.db().lock(), c.id, test)?)
    }

    /// Add a step to login `record`.
    pub fn sso_step(&self, record: i64, step: &str, ok: bool, detail: &str) {
        let step = LoginStep {
            step: step.into(),
            ok,
            detail: detail.into(),
            at: db::now(),
        };
        if let Err(e) = db_idp::add_step(&self.db().lock(), record, &step) {
            tracing::warn!("SSO login {record}: {e}");
        }
    }

    /// Record login `record`'s decision (and log it).
    pub fn finish_sso_login(&self, record: i64, admission: &Admission) {
        let (username, refusal) = match admission {
            Admission::Admitted { username, .. } => (Some(username.as_str()), None),
            Admission::Refused(reason) => (None, Some(reason.as_str())),
        };
        match refusal {
            None => tracing::info!(login = record, user = ?username, "SSO login admitted"),
            Some(r) => tracing::warn!(login = record, "SSO login refused: {r}"),
        }
        if let Err(e) = db_idp::finish_login(&self.db().lock(), record, username, refusal) {
            tracing::warn!("SSO login {record}: {e}");
        }
    }

    /// Login `record` with its steps.
    pub fn sso_login(&self, record: i64) -> Result<Option<LoginRecord>, HarnessError> {
        Ok(db_idp::login(&self.db().lock(), record)?)
    }

    /// The latest SSO logins, newest first.
    pub fn sso_logins(&self, limit: u32) -> Result<Vec<LoginRecord>, HarnessError> {
        Ok(db_idp::recent_logins(&self.db().lock(), limit)?)
    }

    /// The decision on the Okta user `sub` signing in with `idp`, and what the step
    /// did: with *Update with UserSync*, the login sync by Okta id, whose refusal (not
    /// active in Okta, unknown and denied, no seat) refuses; with `none`, the user must
    /// exist in the provider's connector's directory, active.
    pub fn admit(&self, idp: &StoredIdp, sub: &str) -> (Admission, String) {
        match idp.update_method {
            UpdateMethod::Usersync => self.admit_synced(idp, sub),
            UpdateMethod::None => self.admit_existing(idp, sub),
        }
    }

    fn admit_synced(&self, idp: &StoredIdp, sub: &str) -> (Admission, String) {
        let Some((_, connector)) = &idp.sync_connector else {
            let why = "the identity provider's login sync connector was deleted; an admin must choose another".to_string();
            return (Admission::Refused(why.clone()), why);
        };
        let report = match self.sync_user_by(connector, &wit::UserRef::OktaId(sub.to_string())) {
            Ok(r) => r,
            Err(e) => {
                let why = format!(
                    "the login sync with `{connector}` failed, so nothing is known of the user: {e}"
                );
                return (Admission::Refused(why.clone()), why);
            }
        };
        let detail = format!(
            "login sync with `{connector}`: {} in Okta, username {}, {} in the product, {} change(s), {} request(s)",
            if report.found { "found" } else { "not found" },
            report.username.as_deref().unwrap_or("none"),
            if report.active { "active" } else { "inactive" },
            report.changes.len(),
            report.requests,
        );
        let admission = match (&report.refusal, report.username) {
            (None, Some(username)) => self.admitted(connector, username),
            (Some(why), _) => Admission::Refused(format!("the user is {why}")),
            (None, None) => Admission::Refused("the user is not synced to the product".into()),
        };
        (admission, detail)
    }

    fn admit_existing(&self, idp: &StoredIdp, sub: &str) -> (Admission, String) {
        let found = self.stored(&idp.connector).and_then(|c| {
            let conn = self.db().lock();
            let user = directory::find_by_okta_id(&conn, sub)?;
            Ok(user.filter(|u| u.directory == c.directory_id.to_string()))
        });
        let (admission, detail) = match found {
            Ok(Some(u)) if u.active => {
                // Inactivity cleanup judges by the last login, whichever way it came.
                let at = db::now();
                let recorded = self.stored(&idp.connector).and_then(|c| {
                    Ok(directory::record_login(&self.db().lock(), c.directory_id, &u.username, at)?)
                });
                match recorded {
                    Ok(()) => (self.admitted(&idp.connector, u.username.clone()), format!("user method none: {} exists, active", u.username)),
                    Err(e) => (Admission::Refused(format!("the login could not be recorded: {e}")), e.to_string()),
                }
            }
            Ok(Some(u)) => (Admission::Refused(format!("the user {} is inactive in the product", u.username)), format!("user method none: {} exists, inactive", u.username)),
            Ok(None) => (Admission::Refused("the user does not exist in the product (the user update method is none: only existing users may log in)".into()), "user method none: no product user has this Okta id".into()),
            Err(e) => (Admission::Refused(format!("the product's users could not be read: {e}")), e.to_string()),
        };
        (admission, detail)
    }

    fn admitted(&self, connector: &str, username: String) -> Admission {
        let groups = self.stored(connector).and_then(|c| {
            Ok(directory::user_memberships(
                &self.db().lock(),
                c.directory_id,
                &username,
            )?)
        });
        match groups {
            Ok(groups) => Admission::Admitted { username, groups },
            Err(e) => Admission::Refused(format!("the user's groups could not be read: {e}")),
        }
    }
}
