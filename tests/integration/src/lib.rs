//! Shared fixtures of the integration tests: one compiled component per test binary, a
//! simulator with a generated org, a harness on a fresh SQLite file, and readers that
//! turn the store and the Okta org into comparable sets.

pub mod chromium;

use okta_sim::{GenSpec, Org, SimConfig, Simulator};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use usersync::host::runtime::{Limits, Runtime};
use usersync::model::{ConnectorPatch, GroupPatch, TokenText};
use usersync::{Harness, Options};

/// The Okta domain every test connector uses; the harness routes it to the simulator.
pub const DOMAIN: &str = "acme.okta.com";
/// The simulator's accepted token.
pub const TOKEN: &str = "test-token";
/// The test connector's name.
pub const CONNECTOR: &str = "okta";

/// The bundled component, compiled once per test binary.
pub fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(Runtime::load(Runtime::bundled_path()).expect("component loads")))
        .clone()
}

/// The test-only build with deliberate faults, compiled once per test binary.
pub fn faulty_runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Arc::new(Runtime::load(Runtime::faulty_test_path()).expect("component loads"))
        })
        .clone()
}

/// A simulator, a harness on a fresh database, and a connector `okta` between them.
pub struct Env {
    /// The Okta simulator.
    pub sim: Simulator,
    /// The host.
    pub harness: Harness,
    /// Holds the database file.
    pub dir: tempfile::TempDir,
}

/// The org [`Env::generated`] serves: `users` users, `groups` groups, 3 groups a user.
pub fn generated_org(users: usize, groups: usize) -> Org {
    Org::generate(&GenSpec {
        users,
        groups,
        memberships_per_user: 3,
        seed: 7,
    })
}

impl Env {
    /// A generated org of `users` users and `groups` groups.
    pub fn generated(users: usize, groups: usize) -> Env {
        Env::new(generated_org(users, groups), SimConfig::default())
    }

    /// An env around `org` with the shipped component and default limits.
    pub fn new(org: Org, config: SimConfig) -> Env {
        Env::build(org, config, runtime(), Limits::default())
    }

    /// An env around `org` with a given component and limits.
    pub fn build(org: Org, config: SimConfig, runtime: Arc<Runtime>, limits: Limits) -> Env {
        Env::with_options(
            org,
            config,
            runtime,
            Options {
                limits,
                ..Options::default()
            },
        )
    }

    /// An env around `org` for a product (`jira`, ..., `bamboo`) with a seat limit.
    pub fn product(org: Org, product: &str, seats: Option<u32>) -> Env {
        Env::with_options(
            org,
            SimConfig::default(),
            runtime(),
            Options {
                product: product.parse().expect("a product"),
                seats,
                ..Options::default()
            },
        )
    }

    /// An env around `org` with a given component and harness options (the simulator's
    /// address is added to `options.resolve`).
    pub fn with_options(
        org: Org,
        config: SimConfig,
        runtime: Arc<Runtime>,
        mut options: Options,
    ) -> Env {
        let sim = Simulator::start(org, config);
        let dir = tempfile::tempdir().expect("temp dir");
        options.resolve.insert(DOMAIN, sim.addr());
        let db =
            usersync::product::db::Db::open(&dir.path().join("usersync.db")).expect("db opens");
        let harness = Harness::with(db, runtime, options).expect("harness");
        harness
            .create_connector(&connector_input())
            .expect("connector is created");
        Env { sim, harness, dir }
    }

    /// What the connector's directory holds.
    pub fn store(&self) -> StoreState {
        StoreState::read(&self.harness)
    }

    /// A deep reconcile of the test connector: a full sync that reads every member list
    /// (a full sync skips the lists of groups whose membership did not change), so that
    /// a fault on any of them is met.
    pub fn deep_sync(&self) -> Result<usersync::harness::SyncOutcome, usersync::HarnessError> {
        let deep = usersync::SyncRequest {
            deep_reconcile: true,
            ..Default::default()
        };
        self.harness.sync(CONNECTOR, deep)
    }

    /// A dry run of the test connector.
    pub fn dry_run(&self) -> usersync::harness::SyncOutcome {
        self.harness
            .sync(
                CONNECTOR,
                usersync::SyncRequest {
                    dry_run: true,
                    ..Default::default()
                },
            )
            .expect("dry run")
    }
}

impl Env {
    /// Every change run `run_id` recorded, in apply order.
    pub fn changes(&self, run_id: i64) -> Vec<usersync::model::ChangeEntry> {
        let all = usersync::product::db::run_changes::ChangeQuery::first(usize::MAX);
        self.harness
            .run_changes(run_id, all)
            .expect("the run's changes read")
            .changes
    }
}

/// What a command line run printed.
pub struct CliOutput {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Run the `usersync` command line in process with `args` (after the program name).
pub fn run_cli<S: AsRef<str>>(args: &[S]) -> CliOutput {
    let argv =
        std::iter::once("usersync".to_string()).chain(args.iter().map(|a| a.as_ref().to_string()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = usersync::surface::cli::run(argv, &mut out, &mut err);
    CliOutput {
        code,
        stdout: String::from_utf8(out).expect("UTF-8 output"),
        stderr: String::from_utf8(err).expect("UTF-8 errors"),
    }
}

/// The test connector's settings.
pub fn connector_input() -> ConnectorPatch {
    ConnectorPatch {
        name: Some(CONNECTOR.into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(TokenText(TOKEN.into())),
        user_attributes: Some(vec!["department".into()]),
        groups: Some(groups_without_defaults()),
        ..Default::default()
    }
}

/// The default group settings, but no product default groups: most tests compare the
/// store with Okta alone (the default groups have their own tests).
pub fn groups_without_defaults() -> GroupPatch {
    GroupPatch {
        default_groups: Some(Some(vec![])),
        ..Default::default()
    }
}

/// A user as compared in tests.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UserRow {
    /// Okta id.
    pub okta_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Active.
    pub active: bool,
}

/// A directory's content as sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreState {
    /// Users.
    pub users: BTreeSet<UserRow>,
    /// Group names.
    pub groups: BTreeSet<String>,
    /// (username, group).
    pub memberships: BTreeSet<(String, String)>,
}

impl StoreState {
    /// Read the test connector's directory.
    pub fn read(h: &Harness) -> StoreState {
        let dir = h.connector(CONNECTOR).expect("connector").directory_id;
        let snap =
            usersync::product::db::directory::snapshot(&h.db().lock(), dir).expect("snapshot");
        StoreState {
            users: snap
                .users
                .into_iter()
                .map(|u| UserRow {
                    okta_id: u.okta_id.unwrap_or_default(),
                    username: u.username,
                    display_name: u.display_name,
                    email: u.email,
                    active: u.active,
                })
                .collect(),
            groups: snap.groups.into_iter().map(|g| g.name).collect(),
            memberships: snap
                .memberships
                .into_iter()
                .map(|m| (m.username, m.group))
                .collect(),
        }
    }
}

/// Whether a status makes a user active.
pub fn active_status(status: &str) -> bool {
    matches!(
        status,
        "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY"
    )
}

/// What a first full sync of `org` must produce: active-status users, non-built-in
/// groups, and those users' memberships.
pub fn first_sync_projection(org: &Org) -> StoreState {
    let mut s = StoreState::default();
    for u in org.users.iter().filter(|u| active_status(&u.status)) {
        let p = |k: &str| {
            u.profile
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        s.users.insert(UserRow {
            okta_id: u.id.clone(),
            username: p("login").to_lowercase(),
            display_name: format!("{} {}", p("firstName"), p("lastName"))
                .trim()
                .to_string(),
            email: p("email"),
            active: true,
        });
    }
    let present: std::collections::HashMap<&str, String> = s
        .users
        .iter()
        .map(|u| (u.okta_id.as_str(), u.username.clone()))
        .collect();
    for g in org
        .groups
        .iter()
        .filter(|g| g.group_type != okta_sim::GroupType::BuiltIn)
    {
        s.groups.insert(g.name.clone());
        for m in &g.members {
            if let Some(name) = present.get(m.as_str()) {
                s.memberships.insert((name.clone(), g.name.clone()));
            }
        }
    }
    s
}

/// Every row of every table of the database, for before/after comparisons.
pub fn dump(h: &Harness, tables: &[&str]) -> Vec<String> {
    let conn = h.db().lock();
    let mut out = Vec::new();
    for t in tables {
        let mut st = conn
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            .expect("dump query");
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                let mut cols = Vec::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    cols.push(format!("{v:?}"));
                }
                Ok(format!("{t}: {}", cols.join(" | ")))
            })
            .expect("dump rows");
        out.extend(rows.map(|r| r.expect("row")));
    }
    out
}

/// The directory tables.
pub const DIRECTORY_TABLES: &[&str] = &["directories", "users", "groups", "memberships", "history"];
