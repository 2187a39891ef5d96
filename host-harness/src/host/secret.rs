//! A connector's credential as the host holds it: the secret validated for its kind
//! ([`Secret`]), the checks of a service app's settings, and the sessions that keep a
//! service app's access token between calls ([`Sessions`]). What the HTTP policy sends
//! is made here ([`Sessions::access`]).

use crate::host::http::{Credential as Access, OktaAccess};
use crate::host::oauth::{self, AppSettings, ClientKey, ServiceApp};
use crate::host::token::ApiToken;
use crate::model::{ConnectorSettings, Credential, FieldError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A connector's secret, validated for its credential. `Debug` shows it masked.
#[derive(Clone, Debug, PartialEq)]
pub enum Secret {
    /// An SSWS API token.
    ApiToken(ApiToken),
    /// A service app's private key (boxed: it holds the key in three forms).
    PrivateKey(Box<ClientKey>),
}

impl Secret {
    /// Read `text` as the secret `credential` needs, or the settings error naming it.
    pub fn parse(credential: &Credential, text: &str) -> Result<Secret, FieldError> {
        let refused = |message: String| FieldError {
            field: credential.secret_field().into(),
            message,
        };
        match credential {
            Credential::ApiToken => ApiToken::parse(text)
                .map(Secret::ApiToken)
                .map_err(|e| refused(e.to_string())),
            Credential::OauthServiceApp { .. } => ClientKey::parse(text)
                .map(|k| Secret::PrivateKey(Box::new(k)))
                .map_err(|e| refused(e.to_string())),
        }
    }

    /// The secret itself, for the `secrets` table (and an export that asks for it).
    pub fn expose(&self) -> &str {
        match self {
            Secret::ApiToken(t) => t.expose(),
            Secret::PrivateKey(k) => k.expose(),
        }
    }
}

/// The refusals of a credential's settings (besides its secret), each naming its field.
pub fn check(credential: &Credential) -> Vec<FieldError> {
    let Credential::OauthServiceApp {
        client_id,
        key_id,
        scopes,
        ..
    } = credential
    else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: String| {
        errors.push(FieldError {
            field: format!("credential.{field}"),
            message,
        })
    };
    let id_like = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if client_id.trim().is_empty() {
        refuse(
            "client-id",
            "the client id is empty; copy the Client ID of the API service app from the Okta Admin Console".into(),
        );
    } else if !id_like(client_id) {
        refuse(
            "client-id",
            format!("`{client_id}` is not an Okta client id (letters, digits, - and _ only)"),
        );
    }
    if let Some(kid) = key_id.as_deref().filter(|k| !id_like(k)) {
        refuse(
            "key-id",
            format!("`{kid}` is not a key id (1 to 100 letters, digits, - and _)"),
        );
    }
    for scope in scopes.iter().filter(|s| !is_okta_scope(s)) {
        refuse(
            "scopes",
            format!(
                "`{scope}` is not an Okta API scope (e.g. okta.users.read); a sync needs okta.users.read and okta.groups.read"
            ),
        );
    }
    errors
}

fn is_okta_scope(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts[0] == "okta"
        && !parts[1].is_empty()
        && parts[1].chars().all(|c| c.is_ascii_alphabetic())
        && matches!(parts[2], "read" | "manage")
}

/// The scopes a connector requests: its own, or the defaults (with the System Log's when
/// the change feed is on, and the applications' when the connector is scoped to an app).
pub fn scopes(change_feed: bool, app_scope: bool, given: &[String]) -> Vec<String> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let mut scopes: Vec<String> = oauth::DEFAULT_SCOPES.map(String::from).to_vec();
    if change_feed {
        scopes.push(oauth::LOGS_SCOPE.into());
    }
    if app_scope {
        scopes.push(oauth::APPS_SCOPE.into());
    }
    scopes
}

/// The service-app sessions of saved connectors, by connector id: a session keeps its
/// access token (and its DPoP key) from call to call, so that a connector fetches one
/// token an hour however often it syncs.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<i64, Arc<ServiceApp>>>);

impl Sessions {
    /// The access to the Okta host of `settings` with `secret`: the token, or the
    /// connector's session (a new one for settings not saved, `connector` none, or when
    /// the settings or key changed).
    pub fn access(
        &self,
        connector: Option<i64>,
        settings: &ConnectorSettings,
        secret: Secret,
    ) -> OktaAccess {
        let access = match (secret, &settings.credential) {
            (
                Secret::PrivateKey(key),
                Credential::OauthServiceApp {
                    client_id,
                    key_id,
                    scopes: given,
                    dpop,
                },
            ) => {
                let app = AppSettings {
                    client_id: client_id.clone(),
                    key_id: key_id.clone(),
                    scopes: scopes(settings.change_feed, settings.app_scope.is_some(), given),
                    dpop: *dpop,
                };
                Access::ServiceApp(self.session(connector, &settings.okta_domain, app, *key))
            }
            (Secret::ApiToken(token), _) => Access::ApiToken(token),
            (Secret::PrivateKey(_), Credential::ApiToken) => {
                unreachable!("a secret is parsed for its credential")
            }
        };
        OktaAccess::new(&settings.okta_domain, access)
    }

    fn session(
        &self,
        connector: Option<i64>,
        domain: &str,
        app: AppSettings,
        key: ClientKey,
    ) -> Arc<ServiceApp> {
        let Some(id) = connector else {
            return Arc::new(ServiceApp::new(domain, app, key));
        };
        let mut sessions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match sessions.get(&id) {
            Some(s) if s.is_for(domain, &app, &key) => s.clone(),
            _ => {
                let s = Arc::new(ServiceApp::new(domain, app, key));
                sessions.insert(id, s.clone());
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(client_id: &str, key_id: Option<&str>, scopes: &[&str]) -> Credential {
        Credential::OauthServiceApp {
            client_id: client_id.into(),
            key_id: key_id.map(String::from),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            dpop: true,
        }
    }

    #[test]
    fn service_app_settings_are_checked_by_field() {
        assert_eq!(check(&Credential::ApiToken), []);
        assert_eq!(
            check(&app("0oa1abc_D-2", Some("k1"), &["okta.users.read"])),
            []
        );
        let errors = check(&app(
            " ",
            Some("a b"),
            &["okta.users.read", "users.read", "okta.logs.write"],
        ));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "credential.client-id",
                "credential.key-id",
                "credential.scopes",
                "credential.scopes"
            ]
        );
        assert!(
            errors[0].message.starts_with("the client id is empty"),
            "{errors:?}"
        );
        assert_eq!(errors[2].message.split(' ').next(), Some("`users.read`"));
        assert!(
            check(&app("0oa/../x", None, &[]))[0]
                .message
                .contains("not an Okta client id")
        );
    }

    #[test]
    fn a_secret_is_read_for_its_credential() {
        let token = Secret::parse(&Credential::ApiToken, "SSWS 00abc").unwrap();
        assert_eq!(token.expose(), "00abc");
        let e = Secret::parse(&Credential::ApiToken, " SSWS ").unwrap_err();
        assert_eq!(e.field, "api-token");
        assert!(e.message.starts_with("the API token is empty"), "{e:?}");
        let e = Secret::parse(&app("0oa1", None, &[]), "00abc").unwrap_err();
        assert_eq!(e.field, "private-key");
        assert!(
            e.message
                .starts_with("the private key is not a PEM private key"),
            "{e:?}"
        );
        let key = ClientKey::generate();
        let secret = Secret::parse(&app("0oa1", None, &[]), key.expose()).unwrap();
        assert!(!format!("{secret:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn default_scopes_add_the_system_log_for_the_change_feed() {
        assert_eq!(
            scopes(false, false, &[]),
            ["okta.users.read", "okta.groups.read"]
        );
        assert_eq!(
            scopes(true, false, &[]),
            ["okta.users.read", "okta.groups.read", "okta.logs.read"]
        );
        assert_eq!(
            scopes(false, true, &[]),
            ["okta.users.read", "okta.groups.read", "okta.apps.read"]
        );
        assert_eq!(
            scopes(true, true, &["okta.users.read".into()]),
            ["okta.users.read"]
        );
    }
}
