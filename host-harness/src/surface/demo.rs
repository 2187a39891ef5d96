//! The demo: no Okta account needed. An Okta simulator with a generated org runs on
//! loopback; a connector is created against it; a full sync fills the embedded store;
//! then a few changes in "Okta" and a second sync, and a login sync.

use crate::harness::{Harness, Options, SyncRequest};
use crate::model::{ConnectorPatch, TokenText};
use crate::surface::cli::{CliError, DemoArgs};
use crate::surface::report;
use okta_sim::{GenSpec, GroupType, Org, SimConfig, Simulator};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The demo's Okta domain (routed to the simulator).
pub const DEMO_DOMAIN: &str = "acme.okta.com";
const DEMO_CONNECTOR: &str = "Okta (demo)";

/// The demo's own database, never the default one admins use.
fn demo_db(db: &Path) -> PathBuf {
    if db.file_name().is_some_and(|n| n == "usersync.db") {
        db.with_file_name("usersync-demo.db")
    } else {
        db.to_path_buf()
    }
}

fn io(e: std::io::Error) -> CliError {
    CliError {
        message: format!("writing output: {e}"),
        code: 1,
    }
}

/// Run a manual full sync of the demo connector and show its report.
fn sync_and_show(
    h: &Harness,
    out: &mut dyn Write,
    max_changes: usize,
) -> Result<crate::harness::SyncOutcome, CliError> {
    let o = h.sync(DEMO_CONNECTOR, SyncRequest::default())?;
    writeln!(
        out,
        "{}",
        report::sync_report(DEMO_CONNECTOR, o.run_id, &o.report, max_changes)
    )
    .map_err(io)?;
    Ok(o)
}

/// Run the demo, writing a readable account of it to `out`.
pub fn run(
    args: &DemoArgs,
    db: &Path,
    mut options: Options,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let db = demo_db(db);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let org = Org::generate(&GenSpec {
        users: args.users,
        groups: args.groups,
        memberships_per_user: 3,
        seed: args.seed,
    });
    let sim = Simulator::start(org, SimConfig::default());
    options.resolve.insert(DEMO_DOMAIN, sim.addr());
    let product = options.product.name;
    writeln!(out, "Okta simulator: https://{DEMO_DOMAIN} served on http://{} ({} users, {} groups + Everyone)", sim.addr(), args.users, args.groups).map_err(io)?;
    writeln!(out, "{product} user store: {}\n", db.display()).map_err(io)?;

    let h = Harness::open(&db, options)?;
    let input = ConnectorPatch {
        name: Some(DEMO_CONNECTOR.into()),
        okta_domain: Some(format!("https://{DEMO_DOMAIN}/")),
        api_token: Some(TokenText(SimConfig::default().tokens[0].clone())),
        schedule: Some("0 0 */2 ? * *".into()),
        schedule_enabled: Some(true),
        user_attributes: Some(vec!["department".into(), "title".into()]),
        ..Default::default()
    };
    let v = h.create_connector(&input)?;
    writeln!(out, "{}", report::connector(&v)).map_err(io)?;

    sync_and_show(&h, out, 8)?;

    // Changes in "Okta": a suspension, a rename, a new group with a member.
    let (suspended, renamed, member) = sim.with_org(|o| {
        let active: Vec<String> = o
            .users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .map(|u| u.id.clone())
            .collect();
        o.set_status(&active[0], "SUSPENDED");
        o.set_profile(&active[1], "lastName", serde_json::json!("Okonkwo-Smith"));
        let g = o.add_group("Demo Launch Team", GroupType::OktaGroup);
        o.add_member(&g, &active[2]);
        let login = |id: &str| {
            o.user(id)
                .and_then(|u| u.profile.get("login"))
                .and_then(|l| l.as_str())
                .unwrap_or_default()
                .to_string()
        };
        (login(&active[0]), login(&active[1]), login(&active[2]))
    });
    writeln!(out, "In Okta: {suspended} suspended, {renamed} renamed, {member} added to a new group \"Demo Launch Team\".\n").map_err(io)?;
    let second = sync_and_show(&h, out, 20)?;

    writeln!(out, "Login sync (what an SSO login calls) for {member}:").map_err(io)?;
    let login = h.sync_user(DEMO_CONNECTOR, &member)?;
    writeln!(out, "  {}", report::user_report(&login).trim_end()).map_err(io)?;

    let (users, active, groups, memberships) = {
        let conn = h.db().lock();
        let q = |sql: &str| {
            conn.query_row(sql, [v.directory_id], |r| r.get::<_, i64>(0))
                .unwrap_or(0)
        };
        (
            q("SELECT COUNT(*) FROM users WHERE directory_id = ?1"),
            q("SELECT COUNT(*) FROM users WHERE directory_id = ?1 AND active"),
            q("SELECT COUNT(*) FROM groups WHERE directory_id = ?1"),
            q(
                "SELECT COUNT(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.directory_id = ?1",
            ),
        )
    };
    writeln!(
        out,
        "\n{product} now holds {users} users ({active} active), {groups} groups and {memberships} memberships from Okta, in {:.1} s.",
        started.elapsed().as_secs_f64()
    )
    .map_err(io)?;
    writeln!(out, "Look around:\n  usersync --db {0} runs\n  usersync --db {0} log {1}\n  usersync --db {0} connector show \"{DEMO_CONNECTOR}\"\n  sqlite3 {0} 'SELECT key, username, active FROM users LIMIT 5'", db.display(), second.run_id).map_err(io)?;
    match &args.serve {
        Some(listen) => serve(h, listen, out),
        None => writeln!(out, "  usersync demo --serve 127.0.0.1:8080   (the admin page and REST API, with the simulator kept running)").map_err(io),
    }
}

/// Serve the admin page, REST API and scheduler over the demo store (the simulator
/// stays up in the caller), with a one-time admin password, until stopped.
fn serve(h: Harness, listen: &str, out: &mut dyn Write) -> Result<(), CliError> {
    use rand::distr::{Alphanumeric, SampleString};
    let password = Alphanumeric.sample_string(&mut rand::rng(), 16);
    let config = crate::surface::web::WebConfig {
        admin_user: "admin".into(),
        admin_password: crate::surface::web::auth::Password::new(&password).expect("16 characters"),
        throttle: Default::default(),
    };
    let server =
        crate::surface::web::WebServer::start(h.clone(), config, listen).map_err(|e| CliError {
            message: format!("cannot serve on {listen}: {e}"),
            code: 1,
        })?;
    writeln!(
        out,
        "\nAdmin page: {}{}  (user admin, password {password}, valid for this run only)\nREST API:   {}{}/\nStop with Ctrl-C.",
        server.url(),
        h.product().admin_path,
        server.url(),
        crate::surface::web::REST_BASE
    )
    .map_err(io)?;
    let _ = out.flush();
    let scheduler = crate::surface::scheduler::Scheduler::new(h);
    std::thread::spawn(move || {
        scheduler.run(
            std::time::Duration::from_secs(5),
            &std::sync::atomic::AtomicBool::new(false),
        )
    });
    server.wait();
    Ok(())
}
