//! A database this process may not write (a read-only mount, a copy kept for an audit):
//! the read-only commands work on it, a write fails saying the database is read-only,
//! and the file is left byte for byte as it was (#19 item 10). With the real binary, run
//! as an unprivileged user when the test runs as root (root may write any file).

use okta_sim::{GenSpec, Org, SimConfig, Simulator};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const TOKEN: &str = "read-only-token-4c3b2a";
const DOMAIN: &str = "acme.okta.com";
/// The credentials' key, given to both users (a key file would be the writer's alone).
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// `usersync --db DB --resolve … ARGS`, as a user who may not write the database or its
/// directory. As root, the binary runs as `nobody` from a copy beside the database (the
/// build's directory may be closed to other users).
fn usersync_without_write(db: &Path, sim: &Simulator, args: &[&str]) -> Output {
    let mut cmd = if rustix::process::geteuid().is_root() {
        let copy = db.with_file_name("usersync");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(copy);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_usersync"))
    };
    cmd.arg("--db")
        .arg(db)
        .args(["--resolve", &format!("{DOMAIN}={}", sim.addr())])
        .args(args)
        .env("HOME", "/nonexistent")
        .env("USERSYNC_SECRET_KEY", KEY)
        .output()
        .expect("usersync runs")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn read_only_commands_work_on_a_database_that_cannot_be_written() {
    let org = Org::generate(&GenSpec {
        users: 10,
        groups: 2,
        memberships_per_user: 1,
        seed: 5,
    });
    let sim = Simulator::start(
        org,
        SimConfig {
            tokens: vec![TOKEN.into()],
            ..SimConfig::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usersync.db");
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let resolve = format!("{DOMAIN}={}", sim.addr());
    let writer = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_usersync"))
            .arg("--db")
            .arg(&db)
            .args(["--resolve", &resolve])
            .args(args)
            .env("USERSYNC_SECRET_KEY", KEY)
            .output()
            .unwrap();
        ok(&o)
    };
    writer(&[
        "connector",
        "create",
        "--name",
        "okta",
        "--domain",
        DOMAIN,
        "--token-file",
        token.to_str().unwrap(),
    ]);
    writer(&["sync", "okta"]);
    // Readable by all, writable by none; the directory too (no -wal or -shm can be made).
    if rustix::process::geteuid().is_root() {
        std::fs::copy(
            env!("CARGO_BIN_EXE_usersync"),
            db.with_file_name("usersync"),
        )
        .unwrap();
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = std::fs::read(&db).unwrap();

    let list = ok(&usersync_without_write(&db, &sim, &["connector", "list"]));
    assert!(list.contains("okta"), "{list}");
    let runs = ok(&usersync_without_write(&db, &sim, &["runs"]));
    assert!(runs.contains("succeeded"), "{runs}");
    let log = ok(&usersync_without_write(&db, &sim, &["log", "1"]));
    assert!(log.contains("created"), "{log}");
    let export = ok(&usersync_without_write(&db, &sim, &["export"]));
    assert!(export.contains("\"okta\""), "{export}");

    let sync = usersync_without_write(&db, &sim, &["sync", "okta"]);
    assert!(!sync.status.success());
    let err = String::from_utf8_lossy(&sync.stderr);
    assert!(err.contains("readonly database"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "not a byte changed");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn a_database_file_deleted_under_a_running_harness_is_never_written_to() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usersync.db");
    let h = usersync::Harness::open(&db, usersync::harness::Options::default()).unwrap();
    for gone in ["usersync.db", "usersync.db-wal", "usersync.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(gone));
    }
    let patch = usersync::model::ConnectorPatch {
        name: Some("okta".into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(usersync::model::TokenText(TOKEN.into())),
        ..Default::default()
    };
    let e = h.create_connector(&patch).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "database: checking the database file {}: it was deleted or replaced while usersync was running; nothing more is written to it: restart usersync",
            db.display()
        )
    );
    let e = h.sync("okta", Default::default()).unwrap_err().to_string();
    assert!(e.contains("was deleted or replaced"), "{e}");
    assert!(!db.exists(), "nothing wrote the file back");
}
