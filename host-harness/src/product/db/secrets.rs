//! The `secrets` table: each connector's credential (its API token or its service app's
//! private key), encrypted with XChaCha20-Poly1305 under the database's key
//! ([`super::key`]). A stored value is `v1:<key id>:<nonce>:<ciphertext>` (the nonce,
//! random for each value, and the ciphertext in URL-safe base64); the connector's id and
//! the credential's kind are its associated data, so that a value copied into another
//! connector's row, or read as the other kind, does not decrypt.
//!
//! An identity provider's OIDC client secret ([`super::idp`]) is sealed the same way,
//! in its own table, with its own associated data: [`Slot`] says which table and kind a
//! value is, so that opening, rotating and re-encrypting treat every secret alike.
//!
//! Plaintext values of earlier versions are encrypted when the database is opened
//! ([`upgrade_stored`]); [`rotate`] moves every value to a new key. Both, and any change
//! of the key file, run inside a write transaction: the key a value is stored with is
//! read while no rotation can run.

use super::key::{self, KeyError, KeyId, KeyRing, KeySource, SecretKey};
use super::{Context, DbError, connectors};
use crate::model::{ConnectorSettings, Credential};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use rusqlite::{Connection, TransactionBehavior, params};
use std::path::{Path, PathBuf};

/// The format tag of an encrypted value.
const TAG: &str = "v1";

/// Why a stored credential cannot be read or written. The messages name connectors,
/// files and key ids (fingerprints), never a key or a credential.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The key file cannot be read or written, or the key is malformed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Credentials are encrypted with another key than the one given.
    #[error(
        "the stored credentials of {} are encrypted with key {stored}, but {holder} holds key {given}; give the key they were encrypted with (--secret-key-file FILE or USERSYNC_SECRET_KEY)",
        names(.connectors)
    )]
    WrongKey {
        /// The connectors whose credentials are under the other key.
        connectors: Vec<String>,
        /// The id of the key they are encrypted with.
        stored: KeyId,
        /// Where the key given comes from.
        holder: String,
        /// The id of the key given.
        given: KeyId,
    },
    /// Credentials are encrypted and the key file does not exist.
    #[error(
        "the stored credentials of {} are encrypted, but {error}; give the key they were encrypted with (--secret-key-file FILE or USERSYNC_SECRET_KEY)",
        names(.connectors)
    )]
    MissingKey {
        /// The connectors with encrypted credentials.
        connectors: Vec<String>,
        /// The missing file.
        error: KeyError,
    },
    /// The value is under the right key but does not decrypt for its row.
    #[error(
        "the stored {what} of connector `{connector}` does not decrypt: it was altered, or copied from another connector's row; set the connector's {what} again"
    )]
    Undecryptable {
        /// The connector.
        connector: String,
        /// Its credential's secret (`API token`, `private key`).
        what: &'static str,
    },
    /// A plaintext value, written since the database was opened (by an earlier version).
    #[error(
        "the stored {what} of connector `{connector}` is not encrypted (written by an earlier version of usersync); open the database again to encrypt it"
    )]
    NotEncrypted {
        /// The connector.
        connector: String,
        /// Its credential's secret.
        what: &'static str,
    },
    /// An earlier rotation did not finish: a value is still under the previous key.
    #[error(
        "the stored {what} of connector `{connector}` is still encrypted with the previous key (an earlier rotation did not finish); run the command again"
    )]
    Unfinished {
        /// The connector.
        connector: String,
        /// Its credential's secret.
        what: &'static str,
    },
    /// The rotation was asked to write the new key where it cannot.
    #[error("{0}")]
    Target(&'static str),
}

fn names(connectors: &[String]) -> String {
    let quoted: Vec<String> = connectors.iter().map(|n| format!("`{n}`")).collect();
    format!("connector {}", quoted.join(", "))
}

/// An encrypted value as stored.
struct Sealed {
    key: KeyId,
    nonce: XNonce,
    ciphertext: Vec<u8>,
}

/// What a row of the table holds.
enum Stored<'a> {
    /// A value of an earlier version.
    Plain(&'a str),
    Sealed(Sealed),
    /// Tagged as encrypted but not a value of the format.
    Damaged,
}

impl Stored<'_> {
    fn of(value: &str) -> Stored<'_> {
        let Some(rest) = value.strip_prefix(TAG).and_then(|r| r.strip_prefix(':')) else {
            return Stored::Plain(value);
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let sealed = match parts[..] {
            [key, nonce, ciphertext] => KeyId::parse(key).and_then(|key| {
                let nonce = URL_SAFE_NO_PAD.decode(nonce).ok()?;
                Some(Sealed {
                    key,
                    nonce: XNonce::try_from(&nonce[..]).ok()?,
                    ciphertext: URL_SAFE_NO_PAD.decode(ciphertext).ok()?,
                })
            }),
            _ => None,
        };
        sealed.map_or(Stored::Damaged, Stored::Sealed)
    }
}

/// Which secret a stored value is: a connector's credential (in `secrets`) or the
/// OIDC client secret of the identity provider of that connector's org (in
/// `identity_providers`).
#[derive(Clone, Debug, PartialEq)]
pub enum Slot {
    /// The connector's API token or private key, as its settings' credential says.
    Connector(Credential),
    /// The identity provider's client secret.
    IdpClientSecret,
}

impl Slot {
    /// The secret's name as admins read it.
    fn name(&self) -> &'static str {
        match self {
            Slot::Connector(c) => c.secret_name(),
            Slot::IdpClientSecret => "SSO client secret",
        }
    }

    /// The statement that replaces the value of connector `?1`'s row by `?2`.
    fn update(&self) -> &'static str {
        match self {
            Slot::Connector(_) => "UPDATE secrets SET secret = ?2 WHERE connector_id = ?1",
            Slot::IdpClientSecret => {
                "UPDATE identity_providers SET client_secret = ?2 WHERE connector_id = ?1"
            }
        }
    }
}

/// The associated data of connector `id`'s secret: its row and its kind (a connector's
/// credential keeps the text of the releases before identity providers).
fn associated(id: i64, slot: &Slot) -> String {
    match slot {
        Slot::Connector(c) => format!(
            "usersync secret {TAG}: connector {id}, {}",
            c.secret_field()
        ),
        Slot::IdpClientSecret => {
            format!("usersync secret {TAG}: identity provider of connector {id}, client-secret")
        }
    }
}

fn seal(key: &SecretKey, id: i64, credential: &Slot, secret: &str) -> String {
    let mut nonce = [0u8; 24];
    rand::Rng::fill(&mut rand::rng(), &mut nonce[..]);
    let nonce = XNonce::from(nonce);
    let aad = associated(id, credential);
    let payload = Payload {
        msg: secret.as_bytes(),
        aad: aad.as_bytes(),
    };
    let ciphertext = key
        .cipher()
        .encrypt(&nonce, payload)
        .expect("XChaCha20-Poly1305 encrypts any credential");
    format!(
        "{TAG}:{}:{}:{}",
        key.id(),
        URL_SAFE_NO_PAD.encode(nonce),
        URL_SAFE_NO_PAD.encode(ciphertext)
    )
}

/// The credential `sealed` holds for connector `id`, if it decrypts for that row.
fn open(key: &SecretKey, sealed: &Sealed, id: i64, credential: &Slot) -> Option<String> {
    let aad = associated(id, credential);
    let payload = Payload {
        msg: &sealed.ciphertext,
        aad: aad.as_bytes(),
    };
    let plain = key.cipher().decrypt(&sealed.nonce, payload).ok()?;
    String::from_utf8(plain).ok()
}

/// A stored secret with its connector's name and its slot.
struct Row {
    id: i64,
    name: String,
    credential: Slot,
    value: String,
}

impl Row {
    fn undecryptable(&self) -> SecretsError {
        SecretsError::Undecryptable {
            connector: self.name.clone(),
            what: self.credential.name(),
        }
    }
}

/// Every stored secret: the connectors' credentials, then the identity providers'
/// client secrets.
fn rows(conn: &Connection) -> Result<Vec<Row>, DbError> {
    let connectors = connectors::list(conn)?;
    let read = |sql: &str| -> Result<Vec<(i64, String)>, DbError> {
        let mut st = conn.prepare(sql).ctx("reading the stored credentials")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .ctx("reading the stored credentials")
    };
    let credentials = read("SELECT connector_id, secret FROM secrets ORDER BY connector_id")?;
    let idps =
        read("SELECT connector_id, client_secret FROM identity_providers ORDER BY connector_id")?;
    let slotted = credentials
        .into_iter()
        .map(|v| (v, None))
        .chain(idps.into_iter().map(|v| (v, Some(Slot::IdpClientSecret))));
    Ok(slotted
        .filter_map(|((id, value), slot)| {
            let c = connectors.iter().find(|c| c.id == id)?;
            Some(Row {
                id,
                name: c.settings.name.clone(),
                credential: slot.unwrap_or_else(|| Slot::Connector(c.settings.credential.clone())),
                value,
            })
        })
        .collect())
}

/// The names of the connectors whose credentials are encrypted.
fn encrypted(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| !matches!(Stored::of(&r.value), Stored::Plain(_)))
        .map(|r| r.name.clone())
        .collect()
}

/// The keys, or why they cannot be had with encrypted credentials in `rows`.
fn ring(source: &KeySource, rows: &[Row]) -> Result<KeyRing, SecretsError> {
    source.ring().map_err(|error| match error {
        KeyError::Missing(_) => SecretsError::MissingKey {
            connectors: encrypted(rows),
            error,
        },
        other => other.into(),
    })
}

/// The keys to store a credential with: a key file is created (with a new key) when
/// there is none and no credential is encrypted yet.
fn ring_for_writing(source: &KeySource, rows: &[Row]) -> Result<KeyRing, SecretsError> {
    if encrypted(rows).is_empty() {
        Ok(source.ring_or_create()?)
    } else {
        ring(source, rows)
    }
}

/// Refused if the encrypted values of `rows` are all under keys the ring does not have:
/// the key given is the wrong one. (A value under another key among values the ring
/// opens, one copied from another database, is reported when its connector uses it.)
fn check_key(rows: &[Row], ring: &KeyRing, source: &KeySource) -> Result<(), SecretsError> {
    let foreign = |r: &Row| match Stored::of(&r.value) {
        Stored::Sealed(s) if ring.find(s.key).is_none() => Some(s.key),
        _ => None,
    };
    let Some(stored) = rows.iter().find_map(foreign) else {
        return Ok(());
    };
    let known =
        |r: &Row| matches!(Stored::of(&r.value), Stored::Sealed(s) if ring.find(s.key).is_some());
    if rows.iter().any(known) {
        return Ok(());
    }
    Err(SecretsError::WrongKey {
        connectors: rows
            .iter()
            .filter(|r| foreign(r) == Some(stored))
            .map(|r| r.name.clone())
            .collect(),
        stored,
        holder: source.describe(),
        given: ring.current.id(),
    })
}

/// Connector `id`'s credential (API token or private key), decrypted.
pub fn read(
    conn: &Connection,
    source: &KeySource,
    id: i64,
    settings: &ConnectorSettings,
) -> Result<String, SecretsError> {
    let slot = Slot::Connector(settings.credential.clone());
    read_slot(conn, source, id, &settings.name, &slot)
}

/// The client secret of the identity provider of connector `id` (named `name`),
/// decrypted.
pub fn read_idp(
    conn: &Connection,
    source: &KeySource,
    id: i64,
    name: &str,
) -> Result<String, SecretsError> {
    read_slot(conn, source, id, name, &Slot::IdpClientSecret)
}

fn read_slot(
    conn: &Connection,
    source: &KeySource,
    id: i64,
    name: &str,
    slot: &Slot,
) -> Result<String, SecretsError> {
    match read_once(conn, source, id, name, slot) {
        // Another process rotated the key between reading the value and the key file.
        Err(SecretsError::WrongKey { .. }) => read_once(conn, source, id, name, slot),
        result => result,
    }
}

fn read_once(
    conn: &Connection,
    source: &KeySource,
    id: i64,
    name: &str,
    slot: &Slot,
) -> Result<String, SecretsError> {
    let sql = match slot {
        Slot::Connector(_) => "SELECT secret FROM secrets WHERE connector_id = ?1",
        Slot::IdpClientSecret => {
            "SELECT client_secret FROM identity_providers WHERE connector_id = ?1"
        }
    };
    let value: String = conn
        .query_row(sql, [id], |r| r.get(0))
        .ctx("reading the connector's secret")?;
    let row = Row {
        id,
        name: name.to_string(),
        credential: slot.clone(),
        value,
    };
    let rows = std::slice::from_ref(&row);
    let sealed = match Stored::of(&row.value) {
        Stored::Sealed(s) => s,
        Stored::Damaged => return Err(row.undecryptable()),
        Stored::Plain(_) => {
            return Err(SecretsError::NotEncrypted {
                connector: row.name,
                what: row.credential.name(),
            });
        }
    };
    let ring = ring(source, rows)?;
    check_key(rows, &ring, source)?;
    let key = ring
        .find(sealed.key)
        .expect("check_key refuses a value under no key");
    open(key, &sealed, id, &row.credential).ok_or_else(|| row.undecryptable())
}

/// Store connector `id`'s credential, encrypted with the current key. Called inside the
/// write transaction that stores the connector, after its first write: the key is read
/// while no rotation can run.
pub fn store(
    tx: &Connection,
    source: &KeySource,
    id: i64,
    credential: &Credential,
    secret: &str,
) -> Result<(), SecretsError> {
    let sealed = sealed_for_writing(tx, source, id, &Slot::Connector(credential.clone()), secret)?;
    tx.execute(
        "INSERT INTO secrets (connector_id, secret) VALUES (?1, ?2) \
         ON CONFLICT (connector_id) DO UPDATE SET secret = excluded.secret",
        params![id, sealed],
    )
    .ctx("storing the connector's secret")?;
    Ok(())
}

/// `secret` sealed for connector `id`'s `slot` with the current key (creating the key
/// file when no secret is encrypted yet), to be written in the transaction `tx`.
pub fn sealed_for_writing(
    tx: &Connection,
    source: &KeySource,
    id: i64,
    slot: &Slot,
    secret: &str,
) -> Result<String, SecretsError> {
    let ring = ring_for_writing(source, &rows(tx)?)?;
    Ok(seal(&ring.current, id, slot, secret))
}

/// At open: refused if the credentials are under another key than the one given (then
/// nothing is written); plaintext values of earlier versions, and values left under the
/// previous key by a rotation that did not finish, are encrypted with the current key
/// in one transaction, and the previous key's file is removed once no value needs it.
pub fn upgrade_stored(conn: &mut Connection, source: &KeySource) -> Result<(), SecretsError> {
    let rows = rows(conn)?;
    if rows.is_empty() {
        return Ok(());
    }
    let plain = rows
        .iter()
        .any(|r| matches!(Stored::of(&r.value), Stored::Plain(_)));
    let ring = if plain {
        ring_for_writing(source, &rows)?
    } else {
        ring(source, &rows)?
    };
    check_key(&rows, &ring, source)?;
    let stale = |r: &Row| match Stored::of(&r.value) {
        Stored::Plain(_) => true,
        Stored::Sealed(s) => s.key != ring.current.id() && ring.find(s.key).is_some(),
        Stored::Damaged => false,
    };
    if rows.iter().any(stale) || ring.previous.is_some() {
        encrypt_stale(conn, source)?;
    }
    Ok(())
}

/// Encrypt with the current key every value not under it (plaintext, or under the
/// previous key) in one write transaction, with SQLite overwriting what it frees, and
/// write the pages to the database file: no plaintext is left in the file or its WAL.
/// Then remove the previous key's file.
fn encrypt_stale(conn: &mut Connection, source: &KeySource) -> Result<(), SecretsError> {
    let secure: i64 = conn
        .query_row("PRAGMA secure_delete", [], |r| r.get(0))
        .ctx("reading secure_delete")?;
    conn.execute_batch("PRAGMA secure_delete = ON")
        .ctx("setting secure_delete")?;
    let result = encrypt_stale_in(conn, source);
    let _ = conn.execute_batch(&format!("PRAGMA secure_delete = {secure}"));
    if result.is_ok() {
        // Best effort: readers of other processes may hold the WAL; their next
        // checkpoint writes the same pages.
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    result
}

fn encrypt_stale_in(conn: &mut Connection, source: &KeySource) -> Result<(), SecretsError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("starting the encryption of the stored credentials")?;
    let rows = rows(&tx)?;
    let ring = ring_for_writing(source, &rows)?;
    check_key(&rows, &ring, source)?;
    let mut encrypted = 0;
    for r in &rows {
        let plain = match Stored::of(&r.value) {
            Stored::Plain(p) => p.to_string(),
            Stored::Sealed(s) if s.key != ring.current.id() => {
                // Under no key of the ring, or damaged: left as it is, and reported
                // when the connector uses it.
                let Some(plain) = ring
                    .find(s.key)
                    .and_then(|previous| open(previous, &s, r.id, &r.credential))
                else {
                    continue;
                };
                plain
            }
            _ => continue,
        };
        tx.execute(
            r.credential.update(),
            params![r.id, seal(&ring.current, r.id, &r.credential, &plain)],
        )
        .ctx("encrypting the stored credentials")?;
        encrypted += 1;
    }
    tx.commit()
        .ctx("committing the encryption of the stored credentials")?;
    tracing::info!(
        "encrypted {encrypted} stored credentials with key {} ({})",
        ring.current.id(),
        source.describe()
    );
    if ring.previous.is_some() {
        remove_old_unused(conn, source)?;
    }
    Ok(())
}

fn remove_old(path: &Path) -> Result<(), KeyError> {
    let old = key::old_file(path);
    match std::fs::remove_file(&old) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(KeyError::Write {
            path: old,
            source: e,
        }),
        _ => Ok(()),
    }
}

/// What a key rotation did.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotation {
    /// How many credentials were encrypted with the new key.
    pub reencrypted: usize,
    /// The new key's id.
    pub key_id: KeyId,
    /// The file holding the new key.
    pub key_file: PathBuf,
}

/// Encrypt every credential with a new random key, in one transaction. With a key
/// file, the file is replaced (its key kept as `<file>.old` until the transaction is
/// committed); with `USERSYNC_SECRET_KEY`, the new key is written to `new_key_file`
/// (a new file). The key file is written before the transaction commits: a crash at
/// any point leaves every value under a key the files hold (the next open finishes an
/// interrupted rotation).
pub fn rotate(
    conn: &mut Connection,
    source: &KeySource,
    new_key_file: Option<&Path>,
) -> Result<Rotation, SecretsError> {
    let (path, in_place) = match (source, new_key_file) {
        (KeySource::File(path), None) => (path.as_path(), true),
        (KeySource::Env(_), Some(path)) => (path, false),
        (KeySource::File(_), Some(_)) => {
            return Err(SecretsError::Target(
                "--new-key-file is for a key given by USERSYNC_SECRET_KEY; a key file is rotated in place",
            ));
        }
        (KeySource::Env(_), None) => {
            return Err(SecretsError::Target(
                "the key comes from USERSYNC_SECRET_KEY: give --new-key-file FILE to write the new key to",
            ));
        }
        (KeySource::Memory(_), _) => {
            return Err(SecretsError::Target(
                "an in-memory database has no key to rotate",
            ));
        }
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("starting the key rotation")?;
    let rows = rows(&tx)?;
    let ring = match source.ring() {
        Err(KeyError::Missing(_)) if rows.is_empty() => None,
        _ => Some(ring(source, &rows)?),
    };
    let new = SecretKey::generate();
    let mut values = Vec::new();
    for r in &rows {
        let plain = match (Stored::of(&r.value), &ring) {
            (Stored::Plain(p), _) => p.to_string(),
            (Stored::Sealed(s), Some(ring)) if s.key == ring.current.id() => {
                open(&ring.current, &s, r.id, &r.credential).ok_or_else(|| r.undecryptable())?
            }
            (Stored::Sealed(_), Some(ring)) => {
                check_key(std::slice::from_ref(r), ring, source)?;
                return Err(SecretsError::Unfinished {
                    connector: r.name.clone(),
                    what: r.credential.name(),
                });
            }
            (Stored::Sealed(_) | Stored::Damaged, _) => return Err(r.undecryptable()),
        };
        values.push((r, seal(&new, r.id, &r.credential, &plain)));
    }
    let old = ring.as_ref().filter(|_| in_place).map(|r| &r.current);
    if let Some(old) = old {
        key::replace_file(&key::old_file(path), old)?;
    }
    if in_place {
        key::replace_file(path, &new)?;
    } else {
        key::create_new_file(path, &new)?;
    }
    // Undo the key file while the transaction (rolled back when dropped) holds the lock.
    let undo = |e: SecretsError| {
        match old {
            Some(_) => {
                let _ = std::fs::rename(key::old_file(path), path);
            }
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
        e
    };
    for (r, value) in &values {
        tx.execute(r.credential.update(), params![r.id, value])
            .ctx("re-encrypting the stored credentials")
            .map_err(|e| undo(e.into()))?;
    }
    tx.commit()
        .ctx("committing the key rotation")
        .map_err(|e| undo(e.into()))?;
    if old.is_some() {
        remove_old_unused(conn, source)?;
    }
    Ok(Rotation {
        reencrypted: values.len(),
        key_id: new.id(),
        key_file: path.to_path_buf(),
    })
}

/// Remove the previous key's file, in a write transaction (no rotation runs meanwhile)
/// and only if no value needs that key.
fn remove_old_unused(conn: &mut Connection, source: &KeySource) -> Result<(), SecretsError> {
    let KeySource::File(path) = source else {
        return Ok(());
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("finishing the key rotation")?;
    let rows = rows(&tx)?;
    let ring = ring(source, &rows)?;
    // (A value that does not decrypt with it either needs it no more than any other.)
    let under_previous = |r: &Row| match (Stored::of(&r.value), &ring.previous) {
        (Stored::Sealed(s), Some(p)) if s.key == p.id() && s.key != ring.current.id() => {
            open(p, &s, r.id, &r.credential).is_some()
        }
        _ => false,
    };
    if !rows.iter().any(under_previous) {
        remove_old(path)?;
    }
    tx.commit().ctx("finishing the key rotation")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(value: &str) -> Sealed {
        match Stored::of(value) {
            Stored::Sealed(s) => s,
            _ => panic!("not a sealed value: {value}"),
        }
    }

    #[test]
    fn a_value_decrypts_only_with_its_key_for_its_row_and_kind() {
        let key = SecretKey::generate();
        let token = Slot::Connector(Credential::ApiToken);
        let app = Slot::Connector(Credential::OauthServiceApp {
            client_id: "0oa1".into(),
            key_id: None,
            scopes: Vec::new(),
            dpop: true,
        });
        let value = seal(&key, 7, &token, "00secret-token");
        assert!(value.starts_with(&format!("v1:{}:", key.id())), "{value}");
        assert!(!value.contains("00secret"), "{value}");
        assert_ne!(
            seal(&key, 7, &token, "00secret-token"),
            value,
            "a nonce each"
        );
        let s = sealed(&value);
        assert_eq!(open(&key, &s, 7, &token).as_deref(), Some("00secret-token"));
        assert_eq!(open(&key, &s, 8, &token), None, "another connector's row");
        assert_eq!(open(&key, &s, 7, &app), None, "read as the other kind");
        let idp = Slot::IdpClientSecret;
        assert_eq!(open(&key, &s, 7, &idp), None, "read as a client secret");
        let client_secret = sealed(&seal(&key, 7, &idp, "oidc-secret"));
        assert_eq!(
            open(&key, &client_secret, 7, &idp).as_deref(),
            Some("oidc-secret")
        );
        assert_eq!(
            open(&key, &client_secret, 7, &token),
            None,
            "read as a token"
        );
        assert_eq!(open(&SecretKey::generate(), &s, 7, &token), None);
        // One character of the ciphertext changed.
        let at = value.len() - 8;
        let flipped = if &value[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{flipped}{}", &value[..at], &value[at + 1..]);
        assert_eq!(open(&key, &sealed(&tampered), 7, &token), None);

        assert!(matches!(Stored::of("00abc"), Stored::Plain("00abc")));
        assert!(matches!(
            Stored::of("-----BEGIN PRIVATE KEY-----\n"),
            Stored::Plain(_)
        ));
        for damaged in [
            "v1:",
            "v1:zz:AA:AA",
            &value[..value.len() - 60],
            &format!("{value}:x"),
        ] {
            assert!(matches!(Stored::of(damaged), Stored::Damaged), "{damaged}");
        }
    }
}
