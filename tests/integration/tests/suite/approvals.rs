//! Approvals of plans the mass-deactivation guard refused (issue 16): the refused run is
//! kept as a pending plan with its whole diff; an approval re-checks it against Okta
//! (the plugin's `approved-plan`) and applies exactly it, or, when Okta changed in
//! between, applies nothing and keeps the new plan pending; rejection and expiry; who
//! acted; through the harness, the REST API and the CLI.

use crate::cli_support::Cli;
use crate::web_support::{REST, Resp, Server, call, wait_for_run};
use integration::{CONNECTOR, Env};
use okta_sim::GenSpec;
use usersync::model::{ChangeAction, PlanStatus, Trigger};
use usersync::product::db::run_changes::ChangeQuery;
use usersync::{HarnessError, SyncRequest};

/// Suspend `n` more active users in the simulator.
pub(crate) fn suspend(sim: &okta_sim::Simulator, n: usize) {
    sim.with_org(|o| {
        let ids: Vec<String> = o
            .users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .take(n)
            .map(|u| u.id.clone())
            .collect();
        for id in ids {
            o.set_status(&id, "SUSPENDED");
        }
    });
}

fn inactive(env: &Env) -> usize {
    env.store().users.iter().filter(|u| !u.active).count()
}

/// Move a plan's expiry into the past (as if its hours had gone by).
fn age(db: &usersync::product::db::Db, run: i64) {
    db.lock()
        .execute(
            "UPDATE pending_plans SET expires_at = 0 WHERE run_id = ?1",
            [run],
        )
        .unwrap();
}

/// The id of the run a refused sync left (the newest run).
fn last_run(env: &Env) -> i64 {
    env.harness.runs(None, 1).unwrap()[0].id
}

#[test]
fn an_approval_re_checks_the_plan_when_okta_changed_in_between() {
    let env = Env::generated(40, 3);
    env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    let before = env.store();
    suspend(&env.sim, 10);
    let refused = env.harness.sync(CONNECTOR, SyncRequest::default());
    assert!(
        matches!(
            refused,
            Err(HarnessError::Sync(usersync::model::SyncError::Guard(_)))
        ),
        "{refused:?}"
    );
    let first = last_run(&env);
    let plan = env.harness.plan(first).unwrap().expect("kept as a plan");
    assert_eq!((plan.status, plan.would_remove), (PlanStatus::Pending, 10));
    let totals = env.harness.run_action_totals(first).unwrap();
    assert_eq!(
        totals,
        [(ChangeAction::DeactivateUser, 10)],
        "the whole plan is the refused run's changes"
    );
    assert_eq!(env.store(), before, "nothing applied");

    // Okta changes before the approval: one more user suspended.
    suspend(&env.sim, 1);
    let changed = env
        .harness
        .approve(first, "alice (test)", Trigger::Manual)
        .unwrap()
        .run();
    let Err(HarnessError::Sync(usersync::model::SyncError::PlanChanged(now))) = changed else {
        panic!("the plan changed: {changed:?}");
    };
    assert_eq!(now.would_remove, 11);
    assert_eq!(env.store(), before, "the changed plan is not applied");
    let second = last_run(&env);
    let old = env.harness.plan(first).unwrap().unwrap();
    assert_eq!(
        (old.status, old.next_run, old.decided_by.as_deref()),
        (PlanStatus::Changed, Some(second), Some("alice (test)"))
    );
    let new = env
        .harness
        .plan(second)
        .unwrap()
        .expect("the new plan waits");
    assert_eq!((new.status, new.would_remove), (PlanStatus::Pending, 11));
    assert_eq!(
        env.harness
            .run_changes(second, ChangeQuery::first(100))
            .unwrap()
            .total,
        11
    );

    let applied = env
        .harness
        .approve(second, "bob (test)", Trigger::Manual)
        .unwrap()
        .run()
        .expect("the same plan: applied");
    assert_eq!(applied.report.counts.users_deactivated, 11);
    assert_eq!(inactive(&env), 11);
    let done = env.harness.plan(second).unwrap().unwrap();
    assert_eq!(
        (done.status, done.next_run, done.decided_by.as_deref()),
        (
            PlanStatus::Applied,
            Some(applied.run_id),
            Some("bob (test)")
        )
    );
    assert_eq!(
        env.harness.run_actor(applied.run_id).unwrap().as_deref(),
        Some("bob (test)")
    );
    let again = env
        .harness
        .approve(second, "bob (test)", Trigger::Manual)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        again.to_string(),
        format!(
            "the plan of run #{second} was approved by bob (test) and applied (run #{}): only a pending plan can be approved or rejected",
            applied.run_id
        )
    );
}

fn post(s: &Server, path: &str) -> Resp {
    call("POST", s.url(&format!("{REST}{path}")))
        .admin()
        .header("X-Atlassian-Token", "no-check")
        .send()
}

fn get(s: &Server, path: &str) -> serde_json::Value {
    let r = call("GET", s.url(&format!("{REST}{path}"))).admin().send();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// A sync over REST that the guard refuses: its run id.
fn refused_over_rest(s: &Server) -> i64 {
    let r = call(
        "POST",
        s.url(&format!("{REST}/connectors/{CONNECTOR}/sync")),
    )
    .admin()
    .json("{}")
    .send();
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json()["runId"].as_i64().unwrap();
    let run = wait_for_run(s, id);
    assert_eq!(
        (&run["status"], &run["failure"]),
        (&"failed".into(), &"guard".into())
    );
    id
}

#[test]
fn approve_reject_and_expire_through_the_rest_api() {
    let s = Server::start(40, 3);
    s.env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    suspend(&s.env.sim, 10);

    let first = refused_over_rest(&s);
    let pending = get(&s, "/approvals");
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["runId"], first);
    assert_eq!(pending[0]["wouldRemove"], 10);
    assert_eq!(pending[0]["requestedBy"], "admin (REST API)");
    // The diff, paged like any run's changes.
    let page = get(&s, &format!("/runs/{first}?action=deactivate-user&limit=4"));
    assert_eq!(page["changes"]["total"], 10);
    assert_eq!(page["changes"]["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        page["changes"]["next"],
        format!("{REST}/runs/{first}?offset=4&limit=4&action=deactivate-user")
    );

    let r = post(&s, &format!("/runs/{first}/reject"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "rejected");
    assert_eq!(r.json()["decidedBy"], "admin (REST API)");
    let r = post(&s, &format!("/runs/{first}/approve"));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        r.json()["error"],
        format!(
            "the plan of run #{first} was rejected by admin (REST API): only a pending plan can be approved or rejected"
        )
    );
    assert_eq!(get(&s, "/approvals").as_array().unwrap().len(), 0);

    let second = refused_over_rest(&s);
    age(s.env.harness.db(), second);
    let r = post(&s, &format!("/runs/{second}/approve"));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("expired before anyone approved it"),
        "{}",
        r.body
    );
    assert_eq!(
        get(&s, &format!("/runs/{second}/plan"))["status"],
        "expired"
    );

    let third = refused_over_rest(&s);
    let r = post(&s, &format!("/runs/{third}/approve"));
    assert_eq!(r.status, 202, "{}", r.body);
    let applying = r.json()["runId"].as_i64().unwrap();
    let run = wait_for_run(&s, applying);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["startedBy"], "admin (REST API)");
    assert_eq!(run["report"]["counts"]["usersDeactivated"], 10);
    assert_eq!(inactive(&s.env), 10);
    let plan = get(&s, &format!("/runs/{third}/plan"));
    assert_eq!(
        (&plan["status"], &plan["nextRun"]),
        (&"applied".into(), &applying.into())
    );
    let all = get(&s, "/approvals?status=any");
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied", "expired", "rejected"]);

    let r = post(&s, &format!("/runs/{applying}/approve"));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        r.json()["error"],
        format!(
            "run #{applying} was not stopped by the mass-deactivation guard: it has no plan to approve or reject"
        )
    );
    assert_eq!(post(&s, "/runs/99999/approve").status, 404);
    let r = call("GET", s.url(&format!("{REST}/approvals?state=pending")))
        .admin()
        .send();
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["field"], "state");
}

#[test]
fn approve_reject_and_expire_through_the_cli() {
    let cli = Cli::new(GenSpec {
        users: 40,
        groups: 3,
        memberships_per_user: 2,
        seed: 16,
    });
    cli.ok(&[
        "connector",
        "create",
        "--name",
        "okta",
        "--domain",
        "acme.okta.com",
        "--token-file",
        "TOKEN_FILE",
    ]);
    cli.ok(&["sync", "okta"]);
    suspend(&cli.sim, 10);
    let refused = |expect_run: i64| {
        let o = cli.run(&["sync", "okta"]);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(
            o.stderr
                .contains(&format!("`usersync runs approve {expect_run}` applies it")),
            "{}",
            o.stderr
        );
    };
    refused(2);
    let listed = cli.ok(&["runs", "pending"]);
    assert!(
        listed
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("2  okta  pending  10 of "),
        "{listed}"
    );
    let user = usersync::surface::approvals::cli_actor();
    let out = cli.ok(&["runs", "reject", "2"]);
    assert_eq!(
        out,
        format!("The plan of run #2 (okta) is rejected by {user}.\n")
    );
    let o = cli.run(&["runs", "approve", "2"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("was rejected by"), "{}", o.stderr);

    refused(3);
    let db = usersync::product::db::Db::open(std::path::Path::new(&cli.path("u.db"))).unwrap();
    age(&db, 3);
    let o = cli.run(&["runs", "approve", "3"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("expired before anyone approved it"),
        "{}",
        o.stderr
    );

    refused(4);
    let out = cli.ok(&["--json", "runs", "approve", "4"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runId"], 5);
    assert_eq!(v["report"]["counts"]["usersDeactivated"], 10);
    let all: serde_json::Value =
        serde_json::from_str(&cli.ok(&["--json", "runs", "pending", "--all"])).unwrap();
    assert_eq!(all[0]["status"], "applied");
    assert_eq!(all[0]["decidedBy"], user.as_str());
    assert_eq!(
        cli.ok(&["runs", "pending"]),
        "No plans wait for approval.\n"
    );
}
