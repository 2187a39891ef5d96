//! A database written by the release on WIT `usersync:okta@0.1.0` (the fixture
//! `tests/fixtures/v1/usersync-v1.db`, made by `make.sh` beside it) opens with the
//! current code: every connector, token, run, report and log line is there, the settings
//! equal what that release was given, the reports' counts and changes equal what it
//! stored, and the failed runs carry their failure kind. Its plaintext tokens are
//! encrypted at the first open, and then found nowhere in the database's files.

use integration::runtime;
use rusqlite::Connection;
use serde_json::Value;
use usersync::model::{
    ConnectorPatch, ConnectorSettings, FailureKind, FieldMapping, LifecyclePatch, MigrateExisting,
    MissingUsers, NoMatch, Patch, RunKind, RunStatus, Trigger, UnknownAtLogin,
};
use usersync::product::db::{Db, secrets};
use usersync::{Harness, Options};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/v1/usersync-v1.db");

/// A copy of the fixture to open (the fixture stays as it was written).
fn copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usersync.db");
    std::fs::copy(FIXTURE, &path).unwrap();
    (dir, path)
}

fn raw(path: &std::path::Path, sql: &str) -> Vec<Vec<Value>> {
    let conn = Connection::open(path).unwrap();
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(v) => v.into(),
                    rusqlite::types::ValueRef::Text(t) => {
                        let s = String::from_utf8_lossy(t).to_string();
                        serde_json::from_str(&s).unwrap_or(Value::String(s))
                    }
                    other => panic!("unexpected {other:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn open(path: &std::path::Path) -> Harness {
    Harness::with(Db::open(path).unwrap(), runtime(), Options::default()).unwrap()
}

/// What `make.sh` gave "Acme Prod", as the plugin normalized it.
fn acme_prod(defaults: &ConnectorSettings) -> ConnectorSettings {
    let mut s = defaults.clone();
    s.name = "Acme Prod".into();
    s.okta_domain = "acme.okta.com".into();
    s.schedule = "0 */30 * * * *".into();
    s.schedule_enabled = true;
    s.include_built_in_groups = true;
    s.user_attributes = vec!["department".into(), "title".into()];
    s.full_sync_interval_hours = 12;
    s.unknown_at_login = UnknownAtLogin::Deny;
    s.member_concurrency = 6;
    s.users.create_staged = true;
    s.users.username = FieldMapping {
        template: "{email}".into(),
        pattern: "(.*)@.*".into(),
        replacement: "$1".into(),
        on_no_match: NoMatch::UseRaw,
    };
    s.users.display_name.template = "{displayName}".into();
    s.users.migrate = MigrateExisting::ByUsernameOrEmail;
    s.groups.exclude_patterns = vec!["^Secret".into()];
    s.groups.prefix = "okta-".into();
    s.groups.default_groups = Some(vec!["jira-software-users".into(), "okta-everyone".into()]);
    s.lifecycle.missing_users = MissingUsers::Disable;
    s.lifecycle.remove_memberships_of_missing = false;
    s.lifecycle.guard_percent = 20;
    s.lifecycle.guard_min_users = 3;
    s
}

fn named(
    defaults: &ConnectorSettings,
    name: &str,
    domain: &str,
    patch: ConnectorPatch,
) -> ConnectorSettings {
    let mut s = defaults.clone();
    s.name = name.into();
    s.okta_domain = domain.into();
    // 0.1.0 stored `null` default groups ("the product's"); the plugin's defaults now
    // spell them out, the upgrade keeps what was stored.
    s.groups.default_groups = None;
    s.apply(patch);
    s
}

#[test]
fn connectors_and_their_tokens_open_with_the_settings_they_were_given() {
    let (_dir, path) = copy();
    let tokens = raw(
        &path,
        "SELECT c.name, s.api_token FROM connectors c JOIN secrets s ON s.connector_id = c.id ORDER BY c.name",
    );
    let h = open(&path);
    let d = h.defaults().unwrap();
    let list = h.connectors().unwrap();
    let settings: Vec<&ConnectorSettings> = list.iter().map(|v| &v.settings).collect();
    let test = ConnectorPatch {
        lifecycle: Some(LifecyclePatch {
            missing_users: Some(MissingUsers::Delete),
            remove_memberships_of_missing: Some(true),
            guard_percent: Some(90),
            guard_min_users: Some(50),
            inactivity: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        settings,
        [
            &acme_prod(&d),
            &named(&d, "Acme Test", "acme.okta.com", test),
            &named(&d, "Broken", "broken.okta.com", ConnectorPatch::default()),
        ]
    );
    for (v, t) in list.iter().zip(&tokens) {
        assert_eq!(
            secrets::read(&h.db().lock(), h.db().key(), v.id, &v.settings).unwrap(),
            t[1].as_str().unwrap()
        );
    }
    // The plugin accepts them as they are: an empty edit changes nothing.
    let again = h
        .update_connector("Acme Prod", &ConnectorPatch::default())
        .unwrap();
    assert_eq!(again.settings, acme_prod(&d));
}

#[test]
fn every_run_keeps_its_kind_trigger_status_and_failure() {
    let (_dir, path) = copy();
    let h = open(&path);
    let mut runs = h.runs(None, 100).unwrap();
    runs.reverse();
    let shape: Vec<_> = runs
        .iter()
        .map(|r| {
            (
                r.id,
                r.connector.as_str(),
                r.kind,
                r.trigger,
                r.dry_run,
                r.status,
                r.failure.as_ref().map(|f| f.kind),
            )
        })
        .collect();
    use FailureKind as F;
    use RunStatus::{Failed, Succeeded};
    use Trigger::{Manual, Schedule};
    let (full, inc) = (RunKind::Full, RunKind::Incremental);
    assert_eq!(
        shape,
        [
            (1, "Acme Prod", full, Manual, true, Succeeded, None),
            (2, "Acme Prod", full, Manual, false, Succeeded, None),
            (3, "Acme Prod", inc, Manual, false, Succeeded, None),
            (4, "Acme Test", full, Manual, false, Succeeded, None),
            (5, "Broken", full, Manual, false, Failed, Some(F::Okta)),
            (6, "Acme Prod", full, Manual, false, Failed, Some(F::Guard)),
            (7, "Acme Test", full, Manual, true, Succeeded, None),
            (8, "Acme Test", full, Manual, false, Failed, Some(F::Okta)),
            (
                9,
                "Acme Prod",
                inc,
                Schedule,
                false,
                Failed,
                Some(F::Interrupted)
            ),
        ]
    );
    let guard = runs[5].failure.as_ref().unwrap();
    assert!(
        guard
            .message
            .contains("would deactivate or delete 18 of 26"),
        "{}",
        guard.message
    );
    assert!(
        runs[4]
            .failure
            .as_ref()
            .unwrap()
            .message
            .contains("E0000011")
    );
}

#[test]
fn every_report_keeps_its_counts_changes_and_seats() {
    let (_dir, path) = copy();
    let old = raw(
        &path,
        "SELECT id, report FROM runs WHERE report IS NOT NULL ORDER BY id",
    );
    let logs = raw(
        &path,
        "SELECT run_id, level, message FROM run_log ORDER BY rowid",
    );
    let users = raw(&path, "SELECT * FROM users ORDER BY key");
    let h = open(&path);
    assert_eq!(old.len(), 5);
    for row in &old {
        let (id, was) = (row[0].as_i64().unwrap(), &row[1]);
        let (run, log) = h.run(id).unwrap();
        let now = run.report.expect("the report is kept");
        let counts = serde_json::to_value(now.counts).unwrap();
        for (k, v) in was["counts"].as_object().unwrap() {
            let camel = k
                .split('_')
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        w.to_string()
                    } else {
                        w[..1].to_uppercase() + &w[1..]
                    }
                })
                .collect::<String>();
            assert_eq!(&counts[&camel], v, "run {id} {k}");
        }
        let changes = was["changes"].as_array().unwrap();
        // The run's changes, read apart from its report.
        let all = usersync::product::db::run_changes::ChangeQuery::first(usize::MAX);
        let now_changes = h.run_changes(id, all).unwrap().changes;
        assert_eq!(now_changes.len(), changes.len(), "run {id}");
        for (n, w) in now_changes.iter().zip(changes) {
            assert_eq!(format!("{:?}", n.action), w["action"].as_str().unwrap());
            assert_eq!(n.target, w["target"].as_str().unwrap());
            assert_eq!(n.group.as_deref(), w["group"].as_str());
            let fields: Vec<Value> = n
                .fields
                .iter()
                .map(|f| serde_json::json!({"field": f.field, "old": f.old, "new": f.new}))
                .collect();
            assert_eq!(Value::from(fields), w["fields"]);
        }
        assert_eq!(serde_json::json!(now.seats_denied), was["seats_denied"]);
        assert_eq!(now.dry_run, was["dry_run"].as_bool().unwrap());
        assert_eq!(
            u64::from(now.okta_users),
            was["okta_users"].as_u64().unwrap()
        );
        assert_eq!(u64::from(now.writes), was["writes"].as_u64().unwrap());
        let was_log: Vec<_> = logs
            .iter()
            .filter(|l| l[0].as_i64() == Some(id))
            .map(|l| l[2].clone())
            .collect();
        let now_log: Vec<_> = log
            .iter()
            .map(|l| Value::String(l.message.clone()))
            .collect();
        assert_eq!(now_log, was_log, "run {id} log");
    }
    let seats = h.run(2).unwrap().0.report.unwrap().seats_denied;
    assert_eq!(seats.len(), 14, "the seat-limited sync's report");
    drop(h);
    // Schema 4 added the users' last login (none yet); the rest is as it was.
    let now: Vec<Vec<Value>> = raw(&path, "SELECT * FROM users ORDER BY key")
        .into_iter()
        .map(|mut row| {
            assert_eq!(row.pop(), Some(Value::Null), "no login recorded");
            row
        })
        .collect();
    assert_eq!(now, users, "the directory is untouched");
}

#[test]
fn the_upgrade_is_written_once_and_a_second_open_changes_nothing() {
    let (_dir, path) = copy();
    drop(open(&path));
    let stored = |p: &std::path::Path| {
        raw(
            p,
            "SELECT config FROM connectors UNION ALL SELECT coalesce(report, failure) FROM runs",
        )
    };
    let first = stored(&path);
    assert!(
        first
            .iter()
            .all(|r| r[0]["version"] == usersync::model::stored::VERSION || r[0].is_string()),
        "{first:?}"
    );
    drop(open(&path));
    assert_eq!(stored(&path), first);
}

#[test]
fn the_plaintext_tokens_are_encrypted_at_the_first_open_and_left_nowhere_in_the_files() {
    let (dir, path) = copy();
    let tokens: Vec<String> = raw(&path, "SELECT api_token FROM secrets ORDER BY connector_id")
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tokens.len(), 3);
    let files = || {
        [path.clone(), path.with_extension("db-wal")]
            .iter()
            .filter(|p| p.exists())
            .map(|p| std::fs::read(p).unwrap())
            .collect::<Vec<_>>()
    };
    let holds = |files: &[Vec<u8>], token: &str| {
        files
            .iter()
            .any(|f| f.windows(token.len()).any(|w| w == token.as_bytes()))
    };
    assert!(
        tokens.iter().all(|t| holds(&files(), t)),
        "the fixture holds them"
    );

    let h = open(&path);
    let stored: Vec<String> = raw(&path, "SELECT secret FROM secrets ORDER BY connector_id")
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert!(stored.iter().all(|v| v.starts_with("v1:")), "{stored:?}");
    let key_file = dir.path().join("usersync.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Written to the database file with the freed space overwritten, while open and after.
    let leaked = |when: &str| {
        let now = files();
        for t in &tokens {
            assert!(!holds(&now, t), "a token is in the files {when}");
        }
    };
    leaked("while the harness is open");
    for v in h.connectors().unwrap() {
        let t = secrets::read(&h.db().lock(), h.db().key(), v.id, &v.settings).unwrap();
        assert!(tokens.contains(&t), "{}", v.settings.name);
    }
    drop(h);
    leaked("after it closed");
    // The next open leaves them as they are.
    drop(open(&path));
    let again: Vec<String> = raw(&path, "SELECT secret FROM secrets ORDER BY connector_id")
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(again, stored);
}
