//! Connectors: their settings (a versioned JSON document, no secret), their credential
//! (encrypted in a separate table: `db::secrets`) and their directory. Their sync state:
//! `db::sync_state`.

use super::key::KeySource;
use super::secrets::{self, SecretsError};
use super::{Context, DbError, now};
use crate::model::ConnectorSettings;
use crate::model::stored::{self, StoredError};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// A stored connector.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredConnector {
    /// Row id.
    pub id: i64,
    /// Settings, normalized by the plugin.
    pub settings: ConnectorSettings,
    /// The directory it owns.
    pub directory_id: i64,
    /// Created, Unix seconds.
    pub created_at: i64,
    /// Last edited, Unix seconds.
    pub updated_at: i64,
}

/// A stored document that does not read, as the column's conversion error.
pub(super) fn unreadable(column: usize, e: StoredError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredConnector> {
    let json: String = r.get(1)?;
    let settings = stored::read_settings(&json).map_err(|e| unreadable(1, e))?;
    Ok(StoredConnector {
        id: r.get(0)?,
        settings,
        directory_id: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

const COLUMNS: &str = "id, config, directory_id, created_at, updated_at";

/// Store a new connector with its own new directory, and its credential's secret (API
/// token or private key) encrypted with the key of `key`, in one transaction.
pub fn insert(
    conn: &mut Connection,
    key: &KeySource,
    settings: &ConnectorSettings,
    secret: &str,
) -> Result<StoredConnector, SecretsError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    let dir = super::directory::create_directory(&tx, &format!("Okta: {}", settings.name), "okta")?;
    let t = now();
    tx.execute(
        "INSERT INTO connectors (name, config, directory_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![settings.name, stored::settings_json(settings), dir, t],
    )
    .ctx("storing the connector")?;
    let id = tx.last_insert_rowid();
    secrets::store(&tx, key, id, &settings.credential, secret)?;
    tx.commit().ctx("committing the connector")?;
    Ok(StoredConnector {
        id,
        settings: settings.clone(),
        directory_id: dir,
        created_at: t,
        updated_at: t,
    })
}

/// Replace a connector's settings, and its secret when one is given (encrypted with the
/// key of `key`).
pub fn update(
    conn: &mut Connection,
    key: &KeySource,
    id: i64,
    settings: &ConnectorSettings,
    secret: Option<&str>,
) -> Result<(), SecretsError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    tx.execute(
        "UPDATE connectors SET name = ?2, config = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, settings.name, stored::settings_json(settings), now()],
    )
    .ctx("updating the connector")?;
    tx.execute(
        "UPDATE directories SET name = ?2 WHERE id = (SELECT directory_id FROM connectors WHERE id = ?1)",
        params![id, format!("Okta: {}", settings.name)],
    )
    .ctx("renaming the directory")?;
    if let Some(secret) = secret {
        secrets::store(&tx, key, id, &settings.credential, secret)?;
    }
    Ok(tx.commit().ctx("committing the connector")?)
}

/// Delete a connector, its token, state and runs. Its directory and users stay (the
/// product's history references them); the directory is marked as no longer synced, and
/// renamed with the time and its id (unique, as a connector of the same name may have
/// been deleted in the same second).
pub fn delete(conn: &mut Connection, id: i64) -> Result<(), DbError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    tx.execute(
        "UPDATE directories SET kind = 'other', \
         name = name || ' (connector deleted ' || ?2 || ', directory ' || id || ')' \
         WHERE id = (SELECT directory_id FROM connectors WHERE id = ?1)",
        params![
            id,
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
        ],
    )
    .ctx("detaching the directory")?;
    tx.execute("DELETE FROM connectors WHERE id = ?1", [id])
        .ctx("deleting the connector")?;
    tx.commit().ctx("committing the deletion")
}

/// A connector by name (case-insensitive), spelled in any Unicode normal form (names
/// are stored in NFC, as the plugin normalizes them).
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<StoredConnector>, DbError> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.trim().nfc().collect();
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM connectors WHERE name = ?1"),
        [name],
        from_row,
    )
    .optional()
    .ctx("reading a connector")
}

/// All connectors by name.
pub fn list(conn: &Connection) -> Result<Vec<StoredConnector>, DbError> {
    let mut st = conn
        .prepare(&format!("SELECT {COLUMNS} FROM connectors ORDER BY name"))
        .ctx("listing connectors")?;
    st.query_map([], from_row)
        .ctx("listing connectors")?
        .collect::<Result<_, _>>()
        .ctx("reading connectors")
}

/// Settings stored by an earlier version, rewritten as the current document in one
/// transaction; `defaults` (the plugin's) fill the sections a version-1 row left unset.
pub fn upgrade_stored(
    conn: &mut Connection,
    defaults: &mut dyn FnMut() -> Option<ConnectorSettings>,
) -> Result<(), DbError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    let old: Vec<(i64, String, String)> = tx
        .prepare(
            "SELECT id, name, config FROM connectors \
             WHERE COALESCE(json_extract(config, '$.version'), 1) < ?1",
        )
        .and_then(|mut st| {
            st.query_map([stored::VERSION], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .ctx("reading connectors to upgrade")?;
    for (id, name, json) in old {
        let context = format!("upgrading the stored settings of connector `{name}`");
        let new = stored::upgrade_settings(&json, defaults)
            .map_err(|e| unreadable(2, e))
            .ctx(&context)?;
        if let Some(new) = new {
            tx.execute(
                "UPDATE connectors SET config = ?2 WHERE id = ?1",
                params![id, new],
            )
            .ctx(&context)?;
        }
    }
    tx.commit().ctx("committing the upgrade of connectors")
}

#[cfg(test)]
mod tests {
    use crate::product::db::Db;

    #[test]
    fn connectors_of_one_name_deleted_in_the_same_second_keep_their_directories_apart() {
        let db = Db::in_memory().unwrap();
        let mut conn = db.lock();
        for id in 1..=3 {
            conn.execute_batch(&format!(
                "INSERT INTO directories (name, kind, position) VALUES ('Okta: c', 'okta', {id});
                 INSERT INTO connectors (id, name, config, directory_id, created_at, updated_at)
                 VALUES ({id}, 'c', '{{}}', last_insert_rowid(), 0, 0);"
            ))
            .unwrap();
            super::delete(&mut conn, id).expect("deleted");
        }
        let mut st = conn
            .prepare("SELECT id, name, kind FROM directories WHERE id > 1 ORDER BY id")
            .unwrap();
        let rows: Vec<(i64, String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 3, "{rows:?}");
        for (id, name, kind) in rows {
            assert_eq!(kind, "other");
            assert!(
                name.starts_with("Okta: c (connector deleted ")
                    && name.ends_with(&format!(", directory {id})")),
                "{name}"
            );
        }
    }
}
