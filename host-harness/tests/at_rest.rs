//! Credentials at rest: every stored credential is encrypted with a key kept apart from
//! the database (the key file `<db>.key`, or `USERSYNC_SECRET_KEY`). A value moved to
//! another connector's row does not decrypt; a wrong, missing or exposed key is refused
//! naming it, and changes nothing; `secrets rotate-key` re-encrypts everything and a
//! rotation stopped at any step leaves every credential readable. With the real binary
//! and the CLI in process, against the Okta simulator.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use okta_sim::{GenSpec, Org, SimConfig, Simulator};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOKEN: &str = "AT-REST-token-9f8e7d";
const DOMAIN: &str = "acme.okta.com";

struct World {
    sim: Simulator,
    dir: tempfile::TempDir,
}

/// What a command did: its exit code and its two outputs.
#[derive(Debug)]
struct Outcome {
    code: i32,
    out: String,
    err: String,
}

impl World {
    fn new() -> World {
        let org = Org::generate(&GenSpec {
            users: 12,
            groups: 2,
            memberships_per_user: 1,
            seed: 3,
        });
        let sim = Simulator::start(
            org,
            SimConfig {
                tokens: vec![TOKEN.into()],
                ..SimConfig::default()
            },
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
        World { sim, dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("usersync.db")
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("usersync.db.key")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec![
            "--db".to_string(),
            self.db().display().to_string(),
            "--resolve".into(),
            format!("{DOMAIN}={}", self.sim.addr()),
        ];
        let token = self.path("token").display().to_string();
        all.extend(args.iter().map(|a| a.replace("TOKEN_FILE", &token)));
        all
    }

    /// The CLI in process (the key from the key file: the test process has no
    /// USERSYNC_SECRET_KEY).
    fn cli(&self, args: &[&str]) -> Outcome {
        let argv = std::iter::once("usersync".to_string()).chain(self.args(args));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = usersync::surface::cli::run(argv, &mut out, &mut err);
        Outcome {
            code,
            out: String::from_utf8_lossy(&out).into_owned(),
            err: String::from_utf8_lossy(&err).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.cli(args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        o.out
    }

    /// The real binary, with `USERSYNC_SECRET_KEY` set to `env_key` if given.
    fn binary(&self, env_key: Option<&str>, args: &[&str]) -> Outcome {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_usersync"));
        cmd.args(self.args(args))
            .env_remove("USERSYNC_SECRET_KEY")
            .env_remove("USERSYNC_SECRET_KEY_FILE")
            .env_remove("OKTA_CLIENT_TOKEN");
        if let Some(k) = env_key {
            cmd.env("USERSYNC_SECRET_KEY", k);
        }
        let o = cmd.output().expect("usersync runs");
        Outcome {
            code: o.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    fn create(&self, name: &str) {
        self.ok(&[
            "connector",
            "create",
            "--name",
            name,
            "--domain",
            DOMAIN,
            "--token-file",
            "TOKEN_FILE",
        ]);
    }

    /// Every stored value by connector name.
    fn stored(&self) -> Vec<(String, String)> {
        let conn = Connection::open(self.db()).unwrap();
        let mut st = conn
            .prepare(
                "SELECT c.name, s.secret FROM secrets s JOIN connectors c ON c.id = s.connector_id ORDER BY c.name",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

/// A new random key as a key file holds it.
fn new_key() -> String {
    STANDARD.encode(rand::random::<[u8; 32]>())
}

/// The id a stored value names (`v1:<id>:…`).
fn key_id(value: &str) -> &str {
    let mut parts = value.split(':');
    assert_eq!(parts.next(), Some("v1"), "{value}");
    parts.next().unwrap()
}

fn write_key(path: &Path, text: &str) {
    std::fs::write(path, format!("{text}\n")).unwrap();
    set_mode(path, 0o600);
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The id of the key in a key file, as the first connector's value names it after a
/// credential is stored with it.
fn current_id(w: &World) -> String {
    key_id(&w.stored()[0].1).to_string()
}

#[test]
fn the_first_credential_creates_an_owner_only_key_file_beside_the_database() {
    let w = World::new();
    w.ok(&["connector", "list"]);
    assert!(
        !w.key_file().exists(),
        "no key before a credential is stored"
    );
    w.create("Okta");
    #[cfg(unix)]
    assert_eq!(mode(&w.key_file()), 0o600);
    let text = std::fs::read_to_string(w.key_file()).unwrap();
    assert_eq!(STANDARD.decode(text.trim()).unwrap().len(), 32);
    let stored = w.stored();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].1.contains(TOKEN), "{stored:?}");
    key_id(&stored[0].1);
    w.ok(&["sync", "Okta"]);
    assert!(
        w.sim
            .requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("SSWS {TOKEN}"))),
        "the decrypted token was sent"
    );
}

#[test]
fn a_value_copied_from_another_row_or_database_fails_only_its_connector() {
    let w = World::new();
    w.create("Alpha");
    w.create("Beta");
    let conn = Connection::open(w.db()).unwrap();
    conn.execute(
        "UPDATE secrets SET secret = (SELECT s.secret FROM secrets s JOIN connectors c \
         ON c.id = s.connector_id WHERE c.name = 'Alpha') \
         WHERE connector_id = (SELECT id FROM connectors WHERE name = 'Beta')",
        [],
    )
    .unwrap();
    drop(conn);
    let o = w.cli(&["connector", "test", "Beta"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(
        o.err,
        "error: the stored API token of connector `Beta` does not decrypt: it was altered, or copied from another connector's row; set the connector's API token again\n"
    );
    w.ok(&["connector", "test", "Alpha"]);
    // Set again, it works.
    w.ok(&["connector", "edit", "Beta", "--token-file", "TOKEN_FILE"]);
    w.ok(&["connector", "test", "Beta"]);

    // A value from another database (another key): only that connector is refused.
    let other = World::new();
    other.create("Beta");
    let foreign = other.stored()[0].1.clone();
    let conn = Connection::open(w.db()).unwrap();
    conn.execute(
        "UPDATE secrets SET secret = ?1 WHERE connector_id = (SELECT id FROM connectors WHERE name = 'Beta')",
        [&foreign],
    )
    .unwrap();
    drop(conn);
    w.ok(&["connector", "list"]);
    w.ok(&["connector", "test", "Alpha"]);
    let o = w.cli(&["connector", "test", "Beta"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.err.starts_with(&format!(
            "error: the stored credentials of connector `Beta` are encrypted with key {}, but the secret key file {} holds key {}",
            key_id(&foreign),
            w.key_file().display(),
            current_id(&w),
        )),
        "{o:?}"
    );
    let o = w.cli(&["secrets", "rotate-key"]);
    assert_eq!(o.code, 1, "a rotation cannot re-encrypt it: {o:?}");
    assert!(o.err.contains("connector `Beta`"), "{o:?}");
}

#[test]
fn a_wrong_missing_or_exposed_key_is_refused_naming_it_and_changes_nothing() {
    let w = World::new();
    w.create("Okta");
    let before = (w.stored(), std::fs::read(w.key_file()).unwrap());
    let stored_id = current_id(&w);
    let other = new_key();
    let refused = |o: &Outcome, expected: &str| {
        assert_eq!(o.code, 1, "{o:?}");
        assert_eq!(o.err.trim_end(), format!("error: {expected}"), "{o:?}");
        for secret in [TOKEN, other.as_str(), &STANDARD.encode(&before.1[..])] {
            assert!(!o.err.contains(secret) && !o.out.contains(secret), "{o:?}");
        }
    };
    let give =
        "give the key they were encrypted with (--secret-key-file FILE or USERSYNC_SECRET_KEY)";

    // Another key in the environment, or in another key file.
    let o = w.binary(Some(&other), &["runs"]);
    let other_id = {
        let e = &o.err;
        let at = e.find("holds key ").expect("names the key given") + 10;
        e[at..at + 16].to_string()
    };
    refused(
        &o,
        &format!(
            "the stored credentials of connector `Okta` are encrypted with key {stored_id}, but USERSYNC_SECRET_KEY holds key {other_id}; {give}"
        ),
    );
    let other_file = w.path("other.key");
    write_key(&other_file, &other);
    let file_arg = other_file.display().to_string();
    refused(
        &w.binary(None, &["--secret-key-file", &file_arg, "sync", "Okta"]),
        &format!(
            "the stored credentials of connector `Okta` are encrypted with key {stored_id}, but the secret key file {file_arg} holds key {other_id}; {give}"
        ),
    );
    // Not a key.
    refused(
        &w.binary(Some("hunter2"), &["runs"]),
        "USERSYNC_SECRET_KEY does not hold a secret key: expected 32 bytes in base64 (44 characters) or hex (64 characters)",
    );
    // Both ways at once.
    let o = w.binary(Some(&other), &["--secret-key-file", &file_arg, "runs"]);
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.err.contains("use one"), "{o:?}");
    // Readable by others.
    set_mode(&w.key_file(), 0o644);
    let key_file = w.key_file().display().to_string();
    #[cfg(unix)]
    refused(
        &w.binary(None, &["connector", "list"]),
        &format!(
            "the secret key file {key_file} is accessible to other users (mode 0644); make it owner-only: chmod 600 {key_file}"
        ),
    );
    set_mode(&w.key_file(), 0o600);
    // Gone: never replaced by a new key.
    let away = w.path("away.key");
    std::fs::rename(w.key_file(), &away).unwrap();
    refused(
        &w.binary(None, &["connector", "test", "Okta"]),
        &format!(
            "the stored credentials of connector `Okta` are encrypted, but the secret key file {key_file} does not exist; {give}"
        ),
    );
    assert!(!w.key_file().exists());
    let o = w.cli(&[
        "connector",
        "create",
        "--name",
        "Second",
        "--domain",
        DOMAIN,
        "--token-file",
        "TOKEN_FILE",
    ]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(!w.key_file().exists(), "no new key beside encrypted values");
    std::fs::rename(&away, w.key_file()).unwrap();

    assert_eq!(
        (w.stored(), std::fs::read(w.key_file()).unwrap()),
        before,
        "nothing changed"
    );
    w.ok(&["sync", "Okta"]);
}

#[test]
fn rotation_reencrypts_every_credential_and_the_old_key_opens_none() {
    let w = World::new();
    w.create("Okta");
    w.ok(&[
        "connector",
        "create",
        "--name",
        "App",
        "--domain",
        DOMAIN,
        "--auth",
        "oauth",
        "--client-id",
        "0oaApp1",
        "--generate-key",
    ]);
    let public_key = |w: &World| {
        let shown: serde_json::Value =
            serde_json::from_str(&w.ok(&["--json", "connector", "show", "App"])).unwrap();
        shown["publicKey"].clone()
    };
    let jwk = public_key(&w);
    assert!(jwk["x"].is_string(), "{jwk}");
    let old_key = std::fs::read_to_string(w.key_file()).unwrap();
    let old_values = w.stored();

    let out = w.ok(&["secrets", "rotate-key"]);
    let values = w.stored();
    let new_id = key_id(&values[0].1).to_string();
    assert_eq!(
        out,
        format!(
            "Re-encrypted 2 stored credentials with the new key {new_id} in {}.\n",
            w.key_file().display()
        )
    );
    for ((name, old), (_, new)) in old_values.iter().zip(&values) {
        assert_ne!(old, new, "{name}");
        assert_eq!(key_id(new), new_id, "{name}");
        assert_ne!(key_id(old), new_id, "{name}");
    }
    let new_key = std::fs::read_to_string(w.key_file()).unwrap();
    assert_ne!(new_key, old_key);
    #[cfg(unix)]
    assert_eq!(mode(&w.key_file()), 0o600);
    let files: Vec<String> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".key"))
        .collect();
    assert_eq!(
        files,
        ["usersync.db.key"],
        "no .old or temporary file stays"
    );
    assert!(!out.contains(new_key.trim()) && !out.contains(TOKEN));

    // The old key opens none of them; the new one works for both.
    let o = w.binary(Some(old_key.trim()), &["runs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.err.contains(&format!(
            "of connector `Okta`, `App` are encrypted with key {new_id}"
        )),
        "{o:?}"
    );
    w.ok(&["sync", "Okta"]);
    assert_eq!(public_key(&w), jwk, "the private key is the same");

    let json: serde_json::Value =
        serde_json::from_str(&w.ok(&["--json", "secrets", "rotate-key"])).unwrap();
    assert_eq!(json["reencrypted"], 2);
    assert_eq!(json["keyId"].as_str(), Some(key_id(&w.stored()[0].1)));
    assert_ne!(json["keyId"].as_str(), Some(new_id.as_str()));
    w.ok(&["connector", "test", "Okta"]);
}

#[test]
fn with_the_key_in_the_environment_rotation_writes_the_new_key_to_a_new_file() {
    let w = World::new();
    let key = new_key();
    let create = [
        "connector",
        "create",
        "--name",
        "Okta",
        "--domain",
        DOMAIN,
        "--token-file",
        "TOKEN_FILE",
    ];
    let o = w.binary(Some(&key), &create);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(!w.key_file().exists(), "the key is the environment's");
    let before = w.stored();

    let o = w.binary(Some(&key), &["secrets", "rotate-key"]);
    assert_eq!(o.code, 2, "{o:?}");
    assert_eq!(
        o.err,
        "error: the key comes from USERSYNC_SECRET_KEY: give --new-key-file FILE to write the new key to\n"
    );
    assert_eq!(w.stored(), before);

    let new_file = w.path("new.key");
    let arg = new_file.display().to_string();
    let o = w.binary(
        Some(&key),
        &["secrets", "rotate-key", "--new-key-file", &arg],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let new_key = std::fs::read_to_string(&new_file).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&new_file), 0o600);
    assert!(
        !o.out.contains(new_key.trim()) && !o.out.contains(&key),
        "{o:?}"
    );
    assert!(
        o.out.starts_with("Re-encrypted 1 stored credentials"),
        "{o:?}"
    );
    assert_ne!(key_id(&w.stored()[0].1), key_id(&before[0].1));

    assert_eq!(
        w.binary(Some(&key), &["runs"]).code,
        1,
        "the old key is refused"
    );
    let o = w.binary(Some(new_key.trim()), &["sync", "Okta"]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = w.binary(
        None,
        &["--secret-key-file", &arg, "connector", "test", "Okta"],
    );
    assert_eq!(o.code, 0, "{o:?}");
    // The new key's file is never overwritten.
    let o = w.binary(
        Some(new_key.trim()),
        &["secrets", "rotate-key", "--new-key-file", &arg],
    );
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.err.contains("cannot write the secret key file"), "{o:?}");
    assert_eq!(std::fs::read_to_string(&new_file).unwrap(), new_key);
    w.ok(&["--secret-key-file", &arg, "sync", "Okta"]);
}

/// A rotation writes `<key>.old` (the current key), then the new key file, then commits
/// the values, then removes `<key>.old`. Stopped after each step, every credential opens,
/// and the next open finishes the rotation.
#[test]
fn a_rotation_stopped_at_any_step_leaves_every_credential_readable() {
    let w = World::new();
    w.create("Okta");
    let old_file = w.path("usersync.db.key.old");
    let current = std::fs::read_to_string(w.key_file()).unwrap();
    let finished = |w: &World, id: &str| {
        w.ok(&["connector", "test", "Okta"]);
        assert_eq!(current_id(w), id, "under the key file's key");
        assert!(!old_file.exists(), "the old key is removed once unused");
    };

    // Stopped after writing `.old`: the key file is unchanged.
    let id = current_id(&w);
    write_key(&old_file, current.trim());
    finished(&w, &id);

    // Stopped after replacing the key file: the values are under `.old`'s key; the
    // open encrypts them with the new one.
    write_key(&old_file, current.trim());
    write_key(&w.key_file(), &new_key());
    w.ok(&["connector", "test", "Okta"]);
    let moved = current_id(&w);
    assert_ne!(moved, id);
    finished(&w, &moved);

    // Stopped after the commit: `.old` stays until the next open.
    let before = std::fs::read_to_string(w.key_file()).unwrap();
    w.ok(&["secrets", "rotate-key"]);
    let rotated = current_id(&w);
    write_key(&old_file, before.trim());
    finished(&w, &rotated);
}

/// A running harness (as `serve` is) reads the key file when it needs a credential: a
/// rotation by another process needs no restart, and what it stores next is under the
/// new key.
#[test]
fn a_running_harness_goes_on_across_a_rotation_by_another_process() {
    let w = World::new();
    w.create("Okta");
    let mut resolve = usersync::host::http::Resolve::default();
    resolve.insert(DOMAIN, w.sim.addr());
    let options = usersync::Options {
        resolve,
        ..Default::default()
    };
    let h = usersync::Harness::open(&w.db(), options).unwrap();
    h.test_connection("Okta").unwrap();
    let before = current_id(&w);

    let o = w.binary(None, &["secrets", "rotate-key"]);
    assert_eq!(o.code, 0, "{o:?}");
    let rotated = current_id(&w);
    assert_ne!(rotated, before);
    h.test_connection("Okta").unwrap();
    let patch = usersync::model::ConnectorPatch {
        api_token: Some(usersync::model::TokenText(TOKEN.into())),
        ..Default::default()
    };
    h.update_connector("Okta", &patch).unwrap();
    assert_eq!(current_id(&w), rotated, "stored under the new key");
    h.sync("Okta", usersync::SyncRequest::default()).unwrap();
}
