//! Single sign-on's tables: the identity providers (one per connector, its OIDC client
//! secret sealed like the connectors' credentials: [`secrets::Slot::IdpClientSecret`])
//! and the SSO logins with their steps (the audit of every login, and what the login
//! tracker shows of a test login).

use super::key::KeySource;
use super::secrets::{self, SecretsError, Slot};
use super::{Context, DbError, now};
use crate::model::idp::{Decision, LoginRecord, LoginStep, UpdateMethod};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// A stored identity provider (its secret stays in the database until read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIdp {
    /// Its connector's row id.
    pub connector_id: i64,
    /// Its connector's name.
    pub connector: String,
    /// The OIDC app's client id.
    pub client_id: String,
    /// How a login treats the product's user.
    pub update_method: UpdateMethod,
    /// The login sync's connector (row id and name), if it still exists.
    pub sync_connector: Option<(i64, String)>,
    /// The login page redirects to it.
    pub redirect_to_sso: bool,
}

/// What to store (the secret sealed in the same transaction).
pub struct IdpRow<'a> {
    /// The OIDC app's client id.
    pub client_id: &'a str,
    /// A new client secret, or `None` to keep the stored one.
    pub client_secret: Option<&'a str>,
    /// How a login treats the product's user.
    pub update_method: UpdateMethod,
    /// The login sync's connector.
    pub sync_connector_id: Option<i64>,
    /// The login page redirects to it.
    pub redirect_to_sso: bool,
}

const SELECT: &str = "SELECT i.connector_id, c.name, i.client_id, i.update_method, \
     s.id, s.name, i.redirect_to_sso FROM identity_providers i \
     JOIN connectors c ON c.id = i.connector_id \
     LEFT JOIN connectors s ON s.id = i.sync_connector_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredIdp> {
    let method: String = r.get(3)?;
    let sync_id: Option<i64> = r.get(4)?;
    Ok(StoredIdp {
        connector_id: r.get(0)?,
        connector: r.get(1)?,
        client_id: r.get(2)?,
        update_method: UpdateMethod::parse(&method).unwrap_or_default(),
        sync_connector: sync_id.zip(r.get::<_, Option<String>>(5)?),
        redirect_to_sso: r.get(6)?,
    })
}

/// Every identity provider, by connector name.
pub fn list(conn: &Connection) -> Result<Vec<StoredIdp>, DbError> {
    let sql = format!("{SELECT} ORDER BY c.name");
    conn.prepare(&sql)
        .and_then(|mut st| st.query_map([], from_row)?.collect())
        .ctx("listing identity providers")
}

/// The identity provider of connector `id`.
pub fn get(conn: &Connection, id: i64) -> Result<Option<StoredIdp>, DbError> {
    let sql = format!("{SELECT} WHERE i.connector_id = ?1");
    conn.query_row(&sql, [id], from_row)
        .optional()
        .ctx("reading an identity provider")
}

/// Store connector `id`'s identity provider (creating or replacing it) in one
/// transaction; a new one needs its secret. With `redirect_to_sso`, the others stop
/// being the redirect target (the login page goes to one provider).
pub fn put(
    conn: &mut Connection,
    key: &KeySource,
    id: i64,
    row: &IdpRow<'_>,
) -> Result<(), SecretsError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    let sealed = match row.client_secret {
        Some(secret) => Some(secrets::sealed_for_writing(
            &tx,
            key,
            id,
            &Slot::IdpClientSecret,
            secret,
        )?),
        None => None,
    };
    if row.redirect_to_sso {
        tx.execute(
            "UPDATE identity_providers SET redirect_to_sso = 0 WHERE connector_id <> ?1",
            [id],
        )
        .ctx("moving the SSO redirect")?;
    }
    tx.execute(
        "INSERT INTO identity_providers (connector_id, client_id, client_secret, update_method, \
         sync_connector_id, redirect_to_sso, updated_at) VALUES (?1, ?2, COALESCE(?3, ''), ?4, ?5, ?6, ?7) \
         ON CONFLICT (connector_id) DO UPDATE SET client_id = excluded.client_id, \
         client_secret = COALESCE(?3, client_secret), update_method = excluded.update_method, \
         sync_connector_id = excluded.sync_connector_id, redirect_to_sso = excluded.redirect_to_sso, \
         updated_at = excluded.updated_at",
        params![
            id,
            row.client_id,
            sealed,
            row.update_method.as_str(),
            row.sync_connector_id,
            row.redirect_to_sso,
            now()
        ],
    )
    .ctx("storing the identity provider")?;
    tx.commit().ctx("committing the identity provider")?;
    Ok(())
}

/// Remove connector `id`'s identity provider; whether there was one.
pub fn delete(conn: &Connection, id: i64) -> Result<bool, DbError> {
    let n = conn
        .execute(
            "DELETE FROM identity_providers WHERE connector_id = ?1",
            [id],
        )
        .ctx("deleting the identity provider")?;
    Ok(n > 0)
}

/// The client secret of connector `id`'s identity provider (named `name`), decrypted.
pub fn client_secret(
    conn: &Connection,
    key: &KeySource,
    id: i64,
    name: &str,
) -> Result<String, SecretsError> {
    secrets::read_idp(conn, key, id, name)
}

/// Logins kept: anyone can start one (the login page is public), so the oldest go.
pub const KEPT_LOGINS: i64 = 10_000;

/// Start recording an SSO login of connector `id`'s provider; its id. Logins older
/// than the last [`KEPT_LOGINS`] are dropped.
pub fn start_login(conn: &Connection, id: i64, test: bool) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO sso_logins (connector_id, test, started_at) VALUES (?1, ?2, ?3)",
        params![id, test, now()],
    )
    .ctx("recording an SSO login")?;
    let login = conn.last_insert_rowid();
    conn.execute(
        "DELETE FROM sso_logins WHERE id <= ?1",
        [login - KEPT_LOGINS],
    )
    .ctx("dropping old SSO logins")?;
    Ok(login)
}

/// Add a step to login `login`.
pub fn add_step(conn: &Connection, login: i64, step: &LoginStep) -> Result<(), DbError> {
    let json = serde_json::to_string(step).expect("a step serializes");
    conn.execute(
        "UPDATE sso_logins SET steps = json_insert(steps, '$[#]', json(?2)) WHERE id = ?1",
        params![login, json],
    )
    .ctx("recording an SSO login's step")?;
    Ok(())
}

/// Record how login `login` ended.
pub fn finish_login(
    conn: &Connection,
    login: i64,
    username: Option<&str>,
    refusal: Option<&str>,
) -> Result<(), DbError> {
    let decision = if refusal.is_some() {
        "refused"
    } else {
        "admitted"
    };
    conn.execute(
        "UPDATE sso_logins SET finished_at = ?2, username = COALESCE(?3, username), \
         decision = ?4, reason = ?5 WHERE id = ?1",
        params![login, now(), username, decision, refusal],
    )
    .ctx("recording an SSO login's end")?;
    Ok(())
}

const LOGIN_SELECT: &str = "SELECT l.id, c.name, l.test, l.started_at, l.username, l.decision, \
     l.reason, l.steps FROM sso_logins l JOIN connectors c ON c.id = l.connector_id";

fn login_from_row(r: &Row<'_>) -> rusqlite::Result<LoginRecord> {
    let decision: Option<String> = r.get(5)?;
    let steps: String = r.get(7)?;
    Ok(LoginRecord {
        id: r.get(0)?,
        connector: r.get(1)?,
        test: r.get(2)?,
        started_at: r.get(3)?,
        username: r.get(4)?,
        decision: decision.map(|d| match d.as_str() {
            "admitted" => Decision::Admitted,
            _ => Decision::Refused,
        }),
        reason: r.get(6)?,
        steps: serde_json::from_str(&steps).unwrap_or_default(),
    })
}

/// Login `login`.
pub fn login(conn: &Connection, login: i64) -> Result<Option<LoginRecord>, DbError> {
    let sql = format!("{LOGIN_SELECT} WHERE l.id = ?1");
    conn.query_row(&sql, [login], login_from_row)
        .optional()
        .ctx("reading an SSO login")
}

/// The latest `limit` logins, newest first.
pub fn recent_logins(conn: &Connection, limit: u32) -> Result<Vec<LoginRecord>, DbError> {
    let sql = format!("{LOGIN_SELECT} ORDER BY l.id DESC LIMIT ?1");
    conn.prepare(&sql)
        .and_then(|mut st| st.query_map([limit], login_from_row)?.collect())
        .ctx("listing SSO logins")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConnectorSettings;
    use crate::product::db::{Db, connectors, key::KeySource};

    /// Jira's defaults, as the README shows them.
    const DEFAULTS: &str = r#"{
  "name": "Okta",
  "oktaDomain": "acme.okta.com",
  "customDomain": false,
  "schedule": "0 0 * * * ?",
  "scheduleTimeZone": "UTC",
  "scheduleEnabled": false,
  "includeBuiltInGroups": false,
  "userAttributes": [],
  "fullSyncIntervalHours": 24,
  "deepReconcileDays": 7,
  "unknownAtLogin": "keep",
  "memberConcurrency": 4,
  "rateLimitPercent": 50,
  "changeFeed": false,
  "appScope": null,
  "credential": {"type": "api-token"},
  "users": {
    "importUsers": true, "updateUsers": true, "syncStatus": true, "createStaged": false,
    "username": {"template": "{login}", "pattern": "", "replacement": "", "onNoMatch": "use-raw"},
    "lowercaseUsername": true,
    "displayName": {"template": "{firstName} {lastName}", "pattern": "", "replacement": "", "onNoMatch": "use-raw"},
    "email": {"template": "{email}", "pattern": "", "replacement": "", "onNoMatch": "use-raw"},
    "attributes": [],
    "migrate": "by-username"
  },
  "groups": {
    "types": ["OKTA_GROUP", "APP_GROUP"], "includePatterns": [], "excludePatterns": [],
    "required": [], "prefix": "", "suffix": "", "pattern": "", "replacement": "",
    "defaultGroups": ["jira-software-users"]
  },
  "lifecycle": {
    "missingUsers": "disable", "removeMembershipsOfMissing": true,
    "guardPercent": 10, "guardMinUsers": 5, "inactivity": null
  }
}"#;

    #[test]
    fn the_client_secret_is_sealed_and_survives_a_key_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.db");
        let db = Db::open(&path).unwrap();
        let settings: ConnectorSettings = serde_json::from_str(DEFAULTS).unwrap();
        let c = connectors::insert(&mut db.lock(), db.key(), &settings, "00token").unwrap();
        let row = IdpRow {
            client_id: "0oaApp",
            client_secret: Some("the-client-secret"),
            update_method: UpdateMethod::Usersync,
            sync_connector_id: Some(c.id),
            redirect_to_sso: true,
        };
        put(&mut db.lock(), db.key(), c.id, &row).unwrap();
        let stored: String = db
            .lock()
            .query_row("SELECT client_secret FROM identity_providers", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(
            stored.starts_with("v1:") && !stored.contains("the-client"),
            "{stored}"
        );
        let rotation = secrets::rotate(&mut db.lock(), db.key(), None).unwrap();
        assert_eq!(rotation.reencrypted, 2, "the token and the client secret");
        let reopened = Db::open_with_key(&path, KeySource::for_database(&path)).unwrap();
        let secret = client_secret(&reopened.lock(), reopened.key(), c.id, "Okta").unwrap();
        assert_eq!(secret, "the-client-secret");
        // A change without a secret keeps it.
        let keep = IdpRow {
            client_secret: None,
            redirect_to_sso: false,
            ..row
        };
        put(&mut reopened.lock(), reopened.key(), c.id, &keep).unwrap();
        let idp = get(&reopened.lock(), c.id).unwrap().unwrap();
        assert!(!idp.redirect_to_sso);
        let secret = client_secret(&reopened.lock(), reopened.key(), c.id, "Okta").unwrap();
        assert_eq!(secret, "the-client-secret");
    }
}
