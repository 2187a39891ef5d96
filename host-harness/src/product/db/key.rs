//! The key that encrypts the stored credentials (see [`super::secrets`]): 32 random
//! bytes, given by `USERSYNC_SECRET_KEY` or kept in a key file apart from the database
//! (by default `<database>.key`), so that a copy of the database alone opens no
//! credential. A key file is created owner-only, with a new random key, when the first
//! credential is stored; one that other users may read is refused. The key is never shown:
//! [`SecretKey`]'s `Debug` is its id (a fingerprint), and it is wiped from memory when
//! dropped.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable that gives the key itself (instead of a key file).
pub const ENV: &str = "USERSYNC_SECRET_KEY";

/// A key's id: the first 8 bytes of its SHA-256 (with a label), shown in hex. Stored
/// with each encrypted credential, so that a wrong key is told from a damaged value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// The id written as 16 hex digits.
    pub fn parse(hex_id: &str) -> Option<KeyId> {
        let mut id = [0; 8];
        hex::decode_to_slice(hex_id, &mut id).ok()?;
        Some(KeyId(id))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A 256-bit key of XChaCha20-Poly1305. `Debug` shows its id only.
#[derive(Clone)]
pub struct SecretKey {
    id: KeyId,
    key: Zeroizing<[u8; 32]>,
}

impl SecretKey {
    /// A new random key (from `rand`'s cryptographic generator, seeded by the system's).
    pub fn generate() -> SecretKey {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::Rng::fill(&mut rand::rng(), key.as_mut_slice());
        SecretKey::from_bytes(key)
    }

    fn from_bytes(key: Zeroizing<[u8; 32]>) -> SecretKey {
        let digest = Sha256::new()
            .chain_update(b"usersync secret key id\0")
            .chain_update(key.as_slice())
            .finalize();
        let mut id = [0; 8];
        id.copy_from_slice(&digest[..8]);
        SecretKey { id: KeyId(id), key }
    }

    /// Read a key written as base64 (44 characters, as key files hold it) or hex (64),
    /// surrounding whitespace ignored; `None` if it is neither.
    pub fn parse(text: &str) -> Option<SecretKey> {
        let text = text.trim();
        let mut bytes = Zeroizing::new([0u8; 32]);
        let decoded = if text.len() == 64 {
            hex::decode_to_slice(text, bytes.as_mut_slice()).is_ok()
        } else {
            matches!(STANDARD.decode_slice(text, bytes.as_mut_slice()), Ok(32)) && text.len() == 44
        };
        decoded.then(|| SecretKey::from_bytes(bytes))
    }

    /// Its id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The cipher keyed with it.
    pub fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new_from_slice(self.key.as_slice()).expect("a key is 32 bytes")
    }

    /// The key as a key file holds it: base64 and a line break.
    fn file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.key.as_slice()) + "\n")
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The keys a credential may be encrypted with: the current one, and during a rotation
/// the one before (the key file's `.old` copy).
#[derive(Debug)]
pub struct KeyRing {
    /// What new values are encrypted with.
    pub current: SecretKey,
    /// The key before a rotation, until the rotation is done.
    pub previous: Option<SecretKey>,
}

impl KeyRing {
    /// The key with this id, if the ring has it.
    pub fn find(&self, id: KeyId) -> Option<&SecretKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// Why the key cannot be had. The messages name the file or the variable, never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file does not exist.
    #[error("the secret key file {} does not exist", .0.display())]
    Missing(PathBuf),
    /// The key file cannot be read.
    #[error("cannot read the secret key file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file cannot be written.
    #[error("cannot write the secret key file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Other users may read or write the key file.
    #[error(
        "the secret key file {} is accessible to other users (mode {mode:04o}); make it owner-only: chmod 600 {}",
        path.display(),
        path.display()
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The text is no key.
    #[error(
        "{0} does not hold a secret key: expected 32 bytes in base64 (44 characters) or hex (64 characters)"
    )]
    Malformed(String),
}

/// Where the key comes from.
pub enum KeySource {
    /// A key file (and its `.old` copy while a rotation runs).
    File(PathBuf),
    /// The value of `USERSYNC_SECRET_KEY`, read when needed.
    Env(Zeroizing<String>),
    /// A key held in memory only (an in-memory database).
    Memory(SecretKey),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            KeySource::Env(_) => f.write_str("Env(USERSYNC_SECRET_KEY)"),
            KeySource::Memory(k) => f.debug_tuple("Memory").field(&k.id).finish(),
        }
    }
}

impl KeySource {
    /// The key of the database at `db`: `USERSYNC_SECRET_KEY` if set, else the key file
    /// beside the database, `<db>.key`.
    pub fn for_database(db: &Path) -> KeySource {
        match std::env::var(ENV) {
            Ok(text) if !text.is_empty() => KeySource::Env(Zeroizing::new(text)),
            _ => KeySource::File(default_file(db)),
        }
    }

    /// Where the key is, as error messages name it.
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(p) => format!("the secret key file {}", p.display()),
            KeySource::Env(_) => ENV.to_string(),
            KeySource::Memory(_) => "the in-memory key".to_string(),
        }
    }

    /// The keys, as they are now (a key file is read each time: another process may
    /// have rotated it).
    pub fn ring(&self) -> Result<KeyRing, KeyError> {
        match self {
            KeySource::File(path) => Ok(KeyRing {
                current: read_file(path)?,
                previous: match read_file(&old_file(path)) {
                    Err(KeyError::Missing(_)) => None,
                    other => Some(other?),
                },
            }),
            KeySource::Env(text) => SecretKey::parse(text)
                .map(|current| KeyRing {
                    current,
                    previous: None,
                })
                .ok_or_else(|| KeyError::Malformed(ENV.into())),
            KeySource::Memory(key) => Ok(KeyRing {
                current: key.clone(),
                previous: None,
            }),
        }
    }

    /// The keys, a key file created with a new random key if there is none yet.
    pub fn ring_or_create(&self) -> Result<KeyRing, KeyError> {
        match (self.ring(), self) {
            (Err(KeyError::Missing(_)), KeySource::File(path)) => {
                create_file(path, &SecretKey::generate())?;
                self.ring()
            }
            (ring, _) => ring,
        }
    }
}

/// The default key file of the database at `db`: `<db>.key`.
pub fn default_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// The copy of the key before a rotation, kept until the rotation is done.
pub fn old_file(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".old");
    PathBuf::from(name)
}

/// The permission bits of a secret's file (a key, the admin password) when its group or
/// others may access it: such a file must be its owner's alone. `None` when it is, or
/// off Unix.
pub fn exposed_mode(metadata: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        None
    }
}

fn read_file(path: &Path) -> Result<SecretKey, KeyError> {
    let read = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => KeyError::Missing(path.to_path_buf()),
        _ => KeyError::Read {
            path: path.to_path_buf(),
            source,
        },
    };
    let file = std::fs::File::open(path).map_err(read)?;
    if let Some(mode) = exposed_mode(&file.metadata().map_err(read)?) {
        return Err(KeyError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut text = Zeroizing::new(String::new());
    // A key file is one line; more than that is not one.
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 1024), &mut text).map_err(read)?;
    SecretKey::parse(&text)
        .ok_or_else(|| KeyError::Malformed(format!("the secret key file {}", path.display())))
}

/// Write `key` to a new temporary file beside `path`, owner-only and synced to disk; the
/// caller renames or links it into place.
fn write_temp(path: &Path, key: &SecretKey) -> Result<PathBuf, KeyError> {
    let failed = |source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let temp = PathBuf::from(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut f| {
        f.write_all(key.file_text().as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(failed(e));
    }
    Ok(temp)
}

/// Sync the directory holding `path`, so that a rename into it survives a crash.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
}

/// Replace the file at `path` by one holding `key`, atomically (a temporary file
/// renamed over it): a crash leaves the old file or the new one, never a part.
pub fn replace_file(path: &Path, key: &SecretKey) -> Result<(), KeyError> {
    let temp = write_temp(path, key)?;
    std::fs::rename(&temp, path).map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        KeyError::Write {
            path: path.to_path_buf(),
            source,
        }
    })?;
    sync_dir(path);
    Ok(())
}

/// Create the file at `path` holding `key`, unless a file is there already (then it
/// stays as it is): two processes creating the key at once agree on one.
pub fn create_file(path: &Path, key: &SecretKey) -> Result<(), KeyError> {
    let temp = write_temp(path, key)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(KeyError::Write {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => {
            sync_dir(path);
            Ok(())
        }
    }
}

/// Create the file at `path` holding `key`; refused if a file is there.
pub fn create_new_file(path: &Path, key: &SecretKey) -> Result<(), KeyError> {
    let temp = write_temp(path, key)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    linked.map_err(|source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    sync_dir(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_from_base64_or_hex_and_shows_only_its_id() {
        let key = SecretKey::generate();
        let base64 = key.file_text();
        let hex_text = hex::encode(key.key.as_slice());
        for text in [base64.as_str(), &hex_text, &format!("  {hex_text}\n")] {
            assert_eq!(SecretKey::parse(text).map(|k| k.id()), Some(key.id()));
        }
        for bad in [
            "",
            "abc",
            &hex_text[2..],
            &base64[..40],
            &STANDARD.encode([7; 31]),
        ] {
            assert!(SecretKey::parse(bad).is_none(), "{bad}");
        }
        let shown = format!(
            "{key:?} {key:#?} {:?} {:?}",
            KeySource::Memory(key.clone()),
            KeySource::Env(Zeroizing::new(base64.to_string()))
        );
        assert!(shown.contains(&key.id().to_string()), "{shown}");
        for secret in [base64.trim(), &hex_text, &base64[..20], &hex_text[..20]] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_ne!(SecretKey::generate().id(), key.id());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_is_created_owner_only_once_and_refused_when_others_can_read_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = default_file(&dir.path().join("u.db"));
        assert_eq!(path.file_name().unwrap(), "u.db.key");
        let source = KeySource::File(path.clone());
        assert!(matches!(source.ring(), Err(KeyError::Missing(p)) if p == path));
        let first = source.ring_or_create().unwrap().current.id();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Created once: a second call (another process) finds it.
        assert_eq!(source.ring_or_create().unwrap().current.id(), first);
        assert!(create_new_file(&path, &SecretKey::generate()).is_err());
        assert_eq!(source.ring().unwrap().current.id(), first);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file stays");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = source.ring().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the secret key file {0} is accessible to other users (mode 0640); make it owner-only: chmod 600 {0}",
                path.display()
            )
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "not a key\n").unwrap();
        let e = source.ring().unwrap_err().to_string();
        assert!(e.ends_with("does not hold a secret key: expected 32 bytes in base64 (44 characters) or hex (64 characters)"), "{e}");
    }
}
