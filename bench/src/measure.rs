//! One size, measured end to end: the org, the simulator and the native comparison in
//! this process, the syncs in a worker process (see [`crate::worker`]).

use crate::Args;
use crate::native;
use crate::procfs;
use crate::render::mib;
use crate::worker::{Ready, Worker, WorkerConfig};
use anyhow::Context as _;
use okta_sim::{GenSpec, GroupType, Org, RateLimits, RecordedRequest, SimConfig, Simulator};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use usersync::host::runtime::Limits;

/// The Okta domain of the bench connector (routed to the simulator).
pub const DOMAIN: &str = "acme.okta.com";
/// The simulator's token.
pub const TOKEN: &str = "test-token";
/// The bench connector.
pub const CONNECTOR: &str = "okta";
/// The name of the simulator's threads.
const SIM_THREADS: &str = "okta-sim";

/// The most linear memory a wasm32 guest can address, MiB.
pub const MAX_GUEST_MIB: u64 = 4096;

/// Okta's default per-minute limits of the buckets a sync uses.
pub const USERS_LIMIT: u32 = 600;
/// `/api/v1/groups*` (list and members).
pub const GROUPS_LIMIT: u32 = 500;

/// One sync call as measured: the worker fills what it sees of the call (times, the
/// report, its memory and CPU), this process what the simulator saw.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SyncRun {
    /// `full` or `incremental`: the mode the plugin reports it ran.
    pub mode: String,
    /// Whether incremental was asked for.
    pub asked_incremental: bool,
    /// Wall time of `Harness::sync`, ms (instantiation, fetch, plan, apply, report, run record).
    pub wall_ms: f64,
    /// The report's timings.
    pub fetch_ms: u64,
    /// Plan (desired state + store snapshot + diff).
    pub plan_ms: u64,
    /// Apply (batches of one SQLite transaction).
    pub apply_ms: u64,
    /// Requests the plugin counted.
    pub requests_report: u32,
    /// Requests the simulator saw.
    pub requests_sim: usize,
    /// Of those, in the users-list bucket.
    pub users_bucket: usize,
    /// In the groups bucket (`/api/v1/groups`, `/api/v1/groups/{id}/users`).
    pub groups_bucket: usize,
    /// Anything else.
    pub other_requests: usize,
    /// Answers other than 200.
    pub non_200: usize,
    /// Store rows written.
    pub writes: u32,
    /// Change entries in the report.
    pub changes: usize,
    /// The report's counts, as text.
    pub counts: String,
    /// The first warnings.
    pub warnings: Vec<String>,
    /// VmRSS of the sync process before the call, KiB.
    pub rss_before_kb: u64,
    /// VmHWM of the sync process during the call (reset just before), KiB.
    pub hwm_kb: u64,
    /// Highest resident size of the guest's linear memory seen (sampled every 50 ms), KiB.
    pub guest_kb: u64,
    /// The guest's linear memory after each step, from the run's debug log
    /// (`fetch 310 / mapping 420 / …`, MiB); empty when the log has none.
    pub guest_steps: String,
    /// CPU time of the sync process during the call, ms.
    pub cpu_ms: f64,
    /// CPU time of the simulator's threads (in the bench process) during the call, ms.
    pub sim_cpu_ms: f64,
}

/// The request lower bound of a full sync.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LowerBound {
    /// ⌈listed users / 200⌉ (at least 1).
    pub users_pages: usize,
    /// ⌈groups / 10000⌉ (at least 1).
    pub group_pages: usize,
    /// Σ over synced groups of ⌈members / 1000⌉ (at least 1 each: an empty group
    /// still takes one request to learn that it is empty).
    pub member_pages: usize,
    /// The sum.
    pub total: usize,
}

/// Login-sync latency.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Logins {
    /// Logins timed.
    pub n: usize,
    /// Median, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Slowest, µs.
    pub max_us: u64,
    /// Mean, µs.
    pub mean_us: u64,
    /// Requests per login (mean).
    pub requests_per_login: f64,
    /// Change entries over all logins (0 expected: the store is in sync).
    pub changes: usize,
    /// Failed logins.
    pub errors: usize,
    /// VmHWM of the sync process during the logins, KiB.
    pub hwm_kb: u64,
}

/// The plan step natively vs in the component.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NativePlan {
    /// Native `mapping::desired`, ms (median).
    pub desired_ms: f64,
    /// Native store lookups of the users to create, ms (median).
    pub lookups_ms: f64,
    /// How many lookups.
    pub lookups: usize,
    /// Native `plan::plan` against an empty store, ms (median).
    pub plan_ms: f64,
    /// The component's `plan-ms` of the first full sync (same data, empty store).
    pub component_ms: u64,
    /// Change entries of the native plan (must equal the component's).
    pub native_changes: usize,
    /// Change entries the component reported.
    pub component_changes: usize,
    /// No-change sync: reading the store snapshot from SQLite natively, ms.
    pub nochange_snapshot_ms: f64,
    /// No-change sync: native desired + plan against that snapshot, ms (median).
    pub nochange_plan_ms: f64,
    /// The component's `plan-ms` of the no-change full sync (includes the snapshot over WIT).
    pub nochange_component_ms: u64,
    /// Native no-change plan entries (must be 0).
    pub nochange_native_changes: usize,
    /// VmHWM of the bench process during the native comparison (not counted in any
    /// peak), KiB.
    pub hwm_kb: u64,
    /// The first sync's changes applied natively to a fresh SQLite store, ms (one run).
    pub apply_ms: f64,
    /// Rows that wrote.
    pub apply_writes: u32,
    /// Native heap held by the Okta snapshot (users, groups, member ids), MiB.
    pub snapshot_mb: f64,
    /// ... by the store snapshot after the first sync, MiB.
    pub store_mb: f64,
    /// ... by the desired state, MiB.
    pub desired_mb: f64,
    /// ... by the plan of the first sync (changes + report entries), MiB.
    pub plan_mb: f64,
    /// Peak heap of desired + plan above the snapshot, MiB.
    pub peak_mb: f64,
}

/// What was changed in Okta before the incremental sync.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Mutation {
    /// Users whose profile changed (title, department, last name, email).
    pub profiles: usize,
    /// Users suspended.
    pub suspended: usize,
    /// Users created (each in 3 groups).
    pub created: usize,
    /// Groups whose members changed (+2, -1).
    pub groups_members: usize,
    /// Of those, also with a new description.
    pub groups_described: usize,
}

/// The rate-limit view of a full sync.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RateFloor {
    /// Requests in the users bucket.
    pub users_requests: usize,
    /// Requests in the groups bucket.
    pub groups_requests: usize,
    /// Time the busiest bucket needs at Okta's default limit, s (buckets run side by side).
    pub floor_s: f64,
    /// Whether the enforced run below took place.
    pub enforced: bool,
    /// The compressed window (Okta: 60 s), ms.
    pub window_ms: u64,
    /// Fixed-window floor at that window and the connector's default share of each
    /// bucket (50 %): max over buckets of (⌈n/(limit × share)⌉ − 1) windows, ms.
    pub window_floor_ms: f64,
    /// The first full sync into an empty store against enforced limits.
    pub run: SyncRun,
    /// 429 answers met.
    pub n_429: usize,
    /// Why the sync failed, if it did.
    pub error: Option<String>,
}

/// Okta's default limits, enforced, in a compressed window.
fn enforced_limits(window: Duration) -> RateLimits {
    RateLimits::okta_defaults(window)
}

/// Limits so high that they never bind: what the plain measurements run with, so that
/// they show the sync's own cost, not Okta's pacing.
fn unbound_limits() -> RateLimits {
    let big = 1_000_000_000;
    RateLimits {
        users: big,
        user: big,
        groups: big,
        group: big,
        other: big,
        ..RateLimits::default()
    }
}

/// Everything measured for one size.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SizeResult {
    /// Users in the org (all statuses).
    pub users: usize,
    /// OKTA/APP groups (plus `Everyone`).
    pub groups: usize,
    /// Memberships in synced groups.
    pub memberships: usize,
    /// Users the users list returns (all but DEPROVISIONED).
    pub listed_users: usize,
    /// Generating the org, ms.
    pub gen_ms: f64,
    /// Loading the component, ms.
    pub runtime_ms: f64,
    /// The lower bound.
    pub lower: LowerBound,
    /// The guest memory limit the syncs ran with, MiB.
    pub guest_limit_mib: u64,
    /// Why the first full sync failed at the configured guest memory limit, if it did
    /// (it was then run again with the wasm32 maximum).
    pub full1_error: Option<String>,
    /// First full sync into the empty store.
    pub full1: SyncRun,
    /// Second full sync, nothing changed (member lists skipped by group marks).
    pub full2: SyncRun,
    /// A deep reconcile after it, nothing changed (every member list read).
    pub full2_deep: SyncRun,
    /// Incremental right after the full syncs, nothing changed.
    pub incr_first: SyncRun,
    /// Incremental after 1% of users and groups changed.
    pub incr_changed: SyncRun,
    /// Incremental after that, nothing changed.
    pub incr_nochange: SyncRun,
    /// A full sync after the incremental ones (writes 0 = incremental missed nothing).
    pub full_verify: SyncRun,
    /// What changed.
    pub mutation: Mutation,
    /// Login syncs.
    pub logins: Logins,
    /// Native vs component plan.
    pub native: NativePlan,
    /// Rate limits.
    pub rate: RateFloor,
    /// VmRSS of the sync process before the first sync (component loaded, connector
    /// created), KiB.
    pub rss_base_kb: u64,
    /// Highest VmHWM of the sync process (harness, wasm guest, SQLite) over its life up
    /// to the end of the login syncs, KiB.
    pub peak_kb: u64,
    /// Highest VmHWM of the bench process (generated org, simulator) up to the end of the
    /// login syncs, except the native-plan comparison, KiB.
    pub bench_peak_kb: u64,
}

fn active_status(s: &str) -> bool {
    matches!(s, "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY")
}

/// The lower bound of requests of a full sync of `org` with default page sizes.
pub fn lower_bound(org: &Org) -> LowerBound {
    let c = SimConfig::default();
    let pages = |n: usize, size: usize| n.div_ceil(size).max(1);
    let listed = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .count();
    let users_pages = pages(listed, c.max_users_limit);
    let group_pages = pages(org.groups.len(), c.max_groups_limit);
    let member_pages = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn)
        .map(|g| pages(g.members.len(), c.max_members_limit))
        .sum();
    LowerBound {
        users_pages,
        group_pages,
        member_pages,
        total: users_pages + group_pages + member_pages,
    }
}

/// One size's simulator (in this process) and the worker (a child process) that syncs
/// it into a fresh store.
struct Env {
    sim: Simulator,
    /// Declared before `_dir`: it exits before its store is deleted.
    worker: Worker,
    /// The worker's first answer.
    ready: Ready,
    /// The store.
    db: PathBuf,
    _dir: tempfile::TempDir,
}

fn log(start: Instant, what: &str) {
    eprintln!("[{:>7.1} s] {what}", start.elapsed().as_secs_f64());
}

impl Env {
    /// Serve `org` with these limits and start a worker whose connector syncs it.
    fn start(org: Org, limits: RateLimits, args: &Args, guest_mib: u64) -> anyhow::Result<Env> {
        let sim = Simulator::start(
            org,
            SimConfig {
                rate_limits: limits,
                ..SimConfig::default()
            },
        );
        let dir = tempfile::tempdir().context("temp dir")?;
        let db = dir.path().join("bench.db");
        let (worker, ready) = Worker::spawn(&WorkerConfig {
            sim_addr: sim.addr(),
            db: db.clone(),
            guest_mib,
            attributes: args.attributes.clone(),
        })?;
        Ok(Env {
            sim,
            worker,
            ready,
            db,
            _dir: dir,
        })
    }

    /// The worker's store, opened read-only in this process, with the harness's page
    /// cache size (so that native lookups compare with the component's).
    fn store(&self) -> anyhow::Result<Connection> {
        let db = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {}", self.db.display()))?;
        db.execute_batch("PRAGMA cache_size = -16384")?;
        Ok(db)
    }

    /// One sync in the worker, with the requests the simulator saw and its CPU time.
    fn sync(&mut self, incremental: bool) -> anyhow::Result<SyncRun> {
        self.measured(|w| w.sync(incremental))
    }

    /// A deep reconcile (every member list read), measured as [`Self::sync`].
    fn deep_sync(&mut self) -> anyhow::Result<SyncRun> {
        self.measured(Worker::deep_sync)
    }

    /// One sync of the worker, with the simulator's side of it.
    fn measured(
        &mut self,
        sync: impl FnOnce(&mut Worker) -> anyhow::Result<SyncRun>,
    ) -> anyhow::Result<SyncRun> {
        self.sim.clear_requests();
        let sim_cpu = procfs::threads_cpu_ms(SIM_THREADS);
        let mut run = sync(&mut self.worker)?;
        run.sim_cpu_ms = procfs::threads_cpu_ms(SIM_THREADS) - sim_cpu;
        run.count_requests(&self.sim.requests());
        Ok(run)
    }
}

impl SyncRun {
    /// Fill the request counts from what the simulator saw.
    fn count_requests(&mut self, reqs: &[RecordedRequest]) {
        self.requests_sim = reqs.len();
        self.users_bucket = reqs.iter().filter(|q| q.path == "/api/v1/users").count();
        self.groups_bucket = reqs
            .iter()
            .filter(|q| {
                q.path == "/api/v1/groups"
                    || (q.path.starts_with("/api/v1/groups/") && q.path.ends_with("/users"))
            })
            .count();
        self.other_requests = reqs.len() - self.users_bucket - self.groups_bucket;
        self.non_200 = reqs.iter().filter(|q| q.status != 200).count();
    }
}

fn describe(name: &str, s: &SyncRun) -> String {
    format!(
        "{name}: {:.0} ms (fetch {} / plan {} / apply {}), {} requests, {} writes, mode {}; CPU {:.1} s, simulator {:.1} s",
        s.wall_ms,
        s.fetch_ms,
        s.plan_ms,
        s.apply_ms,
        s.requests_sim,
        s.writes,
        s.mode,
        s.cpu_ms / 1e3,
        s.sim_cpu_ms / 1e3
    )
}

/// Change 1% of the users and 1% of the groups.
fn mutate(org: &mut Org, rng: &mut StdRng) -> Mutation {
    let mut m = Mutation::default();
    let active: Vec<String> = org
        .users
        .iter()
        .filter(|u| u.status == "ACTIVE")
        .map(|u| u.id.clone())
        .collect();
    let synced: Vec<String> = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn)
        .map(|g| g.id.clone())
        .collect();
    let n_users = (org.users.len() / 100).max(1);
    let picks: Vec<&String> = active.choose_multiple(rng, n_users).collect();
    for (k, id) in picks.into_iter().enumerate() {
        match k % 10 {
            0..=3 => org.set_profile(id, "title", format!("Principal {k}").into()),
            4 | 5 => org.set_profile(id, "lastName", format!("Changed{k}").into()),
            6 => org.set_profile(id, "department", "Reorganized".into()),
            7 => org.set_profile(id, "email", format!("moved{k}@example.org").into()),
            8 => {
                org.set_status(id, "SUSPENDED");
                m.suspended += 1;
                continue;
            }
            _ => {
                let login = format!("new.hire{k}@example.com");
                let nid = org.add_user(&login, "New", &format!("Hire{k}"), "ACTIVE");
                org.set_profile(&nid, "department", "Engineering".into());
                for g in synced.choose_multiple(rng, 3) {
                    org.add_member(g, &nid);
                }
                m.created += 1;
                continue;
            }
        }
        m.profiles += 1;
    }
    let n_groups = (synced.len() / 100).max(1);
    let gpicks: Vec<String> = synced.choose_multiple(rng, n_groups).cloned().collect();
    for (k, gid) in gpicks.iter().enumerate() {
        for _ in 0..2 {
            if let Some(u) = active.choose(rng) {
                org.add_member(gid, u);
            }
        }
        let first = org.group(gid).and_then(|g| g.members.first().cloned());
        if let Some(u) = first {
            org.remove_member(gid, &u);
        }
        if k % 2 == 0
            && let Some(g) = org.groups.iter_mut().find(|g| &g.id == gid)
        {
            g.description = Some(format!("Reorganized team {k}"));
            g.last_updated =
                chrono::Utc::now().max(g.last_updated + chrono::Duration::milliseconds(1));
            m.groups_described += 1;
        }
        m.groups_members += 1;
    }
    m
}

/// Measure one size.
pub fn run(args: &Args, users: usize, groups: usize) -> anyhow::Result<SizeResult> {
    let start = Instant::now();
    let mut res = SizeResult {
        users,
        groups,
        ..Default::default()
    };

    let t = Instant::now();
    let org = generate(args, users, groups);
    res.gen_ms = t.elapsed().as_secs_f64() * 1e3;
    res.lower = lower_bound(&org);
    res.listed_users = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .count();
    res.memberships = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn)
        .map(|g| g.members.len())
        .sum();
    let logins: Vec<String> = org
        .users
        .iter()
        .filter(|u| active_status(&u.status))
        .filter_map(|u| u.profile.get("login")?.as_str().map(str::to_string))
        .collect();
    log(
        start,
        &format!(
            "org: {users} users, {groups} groups, {} memberships; lower bound {} requests",
            res.memberships, res.lower.total
        ),
    );

    let default_mib = (Limits::default().memory_bytes >> 20) as u64;
    res.guest_limit_mib = if args.guest_memory_mib > 0 {
        args.guest_memory_mib
    } else {
        default_mib
    };
    let mut env = Env::start(org, unbound_limits(), args, res.guest_limit_mib)?;
    res.runtime_ms = env.ready.runtime_ms;
    res.rss_base_kb = env.ready.rss_kb;

    // ---- full syncs
    res.full1 = match env.sync(false) {
        Ok(run) => run,
        Err(e) if res.guest_limit_mib < MAX_GUEST_MIB && e.to_string().contains("memory limit") => {
            // Tell it, then go on with the most a wasm32 guest can have, so that the
            // other measures still exist.
            log(start, &format!("full sync (empty store) failed: {e}"));
            res.full1_error = Some(format!("{e} (guest limit {} MiB)", res.guest_limit_mib));
            res.guest_limit_mib = MAX_GUEST_MIB;
            let org = env.sim.with_org(std::mem::take);
            drop(env);
            env = Env::start(org, unbound_limits(), args, res.guest_limit_mib)?;
            res.rss_base_kb = env.ready.rss_kb;
            env.sync(false)?
        }
        Err(e) => return Err(e),
    };
    log(start, &describe("full sync (empty store)", &res.full1));
    res.rate = RateFloor {
        users_requests: res.full1.users_bucket,
        groups_requests: res.full1.groups_bucket,
        floor_s: (res.full1.users_bucket as f64 / USERS_LIMIT as f64)
            .max(res.full1.groups_bucket as f64 / GROUPS_LIMIT as f64)
            * 60.0,
        ..Default::default()
    };
    res.full2 = env.sync(false)?;
    log(start, &describe("full sync (no change)", &res.full2));
    res.full2_deep = env.deep_sync()?;
    log(
        start,
        &describe("deep reconcile (no change)", &res.full2_deep),
    );
    if let Some(path) = &args.keep_db {
        let _ = std::fs::remove_file(path);
        env.store()?
            .execute("VACUUM INTO ?1", [path])
            .context("copying the store")?;
    }

    // ---- the plan natively, on the same data: the bench's own work, not counted in the
    // bench process's peak either.
    res.bench_peak_kb = procfs::reset_hwm();
    res.native = native_plan(args, &env, &res.full1, &res.full2)?;
    res.native.hwm_kb = procfs::reset_hwm();
    log(start, &describe_native(&res.native));

    // ---- incremental
    res.incr_first = env.sync(true)?;
    log(start, &describe("incremental (no change)", &res.incr_first));
    // Changes in Okta come after the sync, not within the same instant.
    std::thread::sleep(Duration::from_millis(1100));
    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x5eed);
    res.mutation = env.sim.with_org(|org| mutate(org, &mut rng));
    res.incr_changed = env.sync(true)?;
    log(
        start,
        &describe("incremental (1% changed)", &res.incr_changed),
    );
    res.incr_nochange = env.sync(true)?;
    log(
        start,
        &describe("incremental (no change)", &res.incr_nochange),
    );
    res.full_verify = env.sync(false)?;
    log(
        start,
        &describe("full sync (after incremental)", &res.full_verify),
    );

    // ---- logins
    let picks: Vec<String> = (0..args.logins)
        .map(|_| {
            logins
                .get(rng.random_range(0..logins.len().max(1)))
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    res.logins = env.worker.logins(picks)?;
    log(
        start,
        &format!(
            "{} login syncs: p50 {:.2} ms, p99 {:.2} ms, {:.1} requests each",
            res.logins.n,
            res.logins.p50_us as f64 / 1e3,
            res.logins.p99_us as f64 / 1e3,
            res.logins.requests_per_login
        ),
    );
    res.peak_kb = env.worker.quit()?;
    res.bench_peak_kb = res.bench_peak_kb.max(procfs::hwm_kb());
    log(
        start,
        &format!(
            "peak RSS: sync process {}, bench process (simulator) {}",
            mib(res.peak_kb),
            mib(res.bench_peak_kb)
        ),
    );

    // ---- Okta-default limits, enforced, in a compressed window: a first full sync of
    // the same org into a fresh store. Memory of this phase is not counted in the peak.
    if args.rate_window_ms > 0 {
        let org = env.sim.with_org(std::mem::take);
        drop(env);
        enforced_run(args, org, &mut res)?;
        log(
            start,
            &format!(
                "{}; {} answers 429; fixed-window floor {:.1} s",
                describe(
                    &format!("enforced Okta limits, {} ms window", args.rate_window_ms),
                    &res.rate.run
                ),
                res.rate.n_429,
                res.rate.window_floor_ms / 1e3
            ),
        );
    }
    Ok(res)
}

/// The plan step (and the apply of the first sync) natively in this process, on the same
/// Okta data and the worker's store after the two full syncs `full1` and `full2`.
fn native_plan(
    args: &Args,
    env: &Env,
    full1: &SyncRun,
    full2: &SyncRun,
) -> anyhow::Result<NativePlan> {
    let mut res = NativePlan {
        component_ms: full1.plan_ms,
        component_changes: full1.changes,
        nochange_component_ms: full2.plan_ms,
        ..Default::default()
    };
    let cfg = plugin::config::ConnectorConfig {
        name: CONNECTOR.into(),
        okta_domain: DOMAIN.into(),
        user_attributes: args.attributes.clone(),
        ..Default::default()
    };
    let mb = |b: usize| b as f64 / 1048576.0;
    let live = crate::alloc::live();
    let snap = env.sim.with_org(|org| native::okta_snapshot(org));
    res.snapshot_mb = mb(crate::alloc::live().saturating_sub(live));
    let empty = plugin::store::DirectorySnapshot::default();
    let db = env.store()?;
    let live = crate::alloc::live();
    let t = Instant::now();
    let store = native::store_snapshot(&db, env.ready.directory)?;
    res.nochange_snapshot_ms = t.elapsed().as_secs_f64() * 1e3;
    res.store_mb = mb(crate::alloc::live().saturating_sub(live));
    let planner = native::Planner::new(&cfg)?;
    let (mut desired_ms, mut lookups_ms, mut plan_ms, mut nochange_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.native_runs.max(1) {
        let t = planner.time_plan(&snap, &empty, &db);
        desired_ms.push(t.desired_ms);
        lookups_ms.push(t.lookups_ms);
        plan_ms.push(t.plan_ms);
        res.lookups = t.lookups;
        res.native_changes = t.plan.entries.len();
        res.desired_mb = mb(t.desired_bytes);
        res.plan_mb = mb(t.plan_bytes);
        res.peak_mb = mb(t.peak_bytes);
        if res.apply_ms == 0.0 {
            (res.apply_ms, res.apply_writes) = native::time_apply(&t.plan.changes)?;
        }
        drop(t);
        let t = planner.time_plan(&snap, &store, &db);
        nochange_ms.push(t.desired_ms + t.lookups_ms + t.plan_ms);
        res.nochange_native_changes = t.plan.entries.len();
    }
    res.desired_ms = median(&mut desired_ms);
    res.plan_ms = median(&mut plan_ms);
    res.lookups_ms = median(&mut lookups_ms);
    res.nochange_plan_ms = median(&mut nochange_ms);
    Ok(res)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn describe_native(n: &NativePlan) -> String {
    format!(
        "native plan: desired {:.1} ms + {} lookups {:.1} ms + plan {:.1} ms vs component {} ms; no change: snapshot {:.1} + {:.1} ms vs component {} ms; apply natively {:.0} ms",
        n.desired_ms,
        n.lookups,
        n.lookups_ms,
        n.plan_ms,
        n.component_ms,
        n.nochange_snapshot_ms,
        n.nochange_plan_ms,
        n.nochange_component_ms,
        n.apply_ms
    )
}

/// A first full sync of `org` into a fresh store against Okta's default limits, enforced
/// in a compressed window: fills `res.rate`.
fn enforced_run(args: &Args, org: Org, res: &mut SizeResult) -> anyhow::Result<()> {
    let window = Duration::from_millis(args.rate_window_ms);
    // The connector uses its default share of each bucket: the floor is at that share.
    let share = plugin::config::DEFAULT_RATE_LIMIT_PERCENT;
    let windows = |n: usize, limit: u32| {
        let usable = (limit * share / 100).max(1) as usize;
        n.div_ceil(usable).saturating_sub(1)
    };
    let rate = &mut res.rate;
    rate.window_ms = args.rate_window_ms;
    rate.window_floor_ms = windows(res.full1.users_bucket, USERS_LIMIT)
        .max(windows(res.full1.groups_bucket, GROUPS_LIMIT)) as f64
        * args.rate_window_ms as f64;
    let mut env = Env::start(org, enforced_limits(window), args, res.guest_limit_mib)?;
    rate.enforced = true;
    match env.sync(false) {
        Ok(run) => rate.run = run,
        Err(e) => rate.error = Some(e.to_string()),
    }
    rate.n_429 = env
        .sim
        .requests()
        .iter()
        .filter(|q| q.status == 429)
        .count();
    Ok(())
}

/// The org of one size, as `args` describe it.
fn generate(args: &Args, users: usize, groups: usize) -> Org {
    Org::generate(&GenSpec {
        users,
        groups,
        memberships_per_user: args.memberships_per_user,
        seed: args.seed,
    })
}

/// The native plan and apply of a first sync of one size, alone (for profiling).
pub fn only_native(args: &Args, users: usize, groups: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    let org = generate(args, users, groups);
    let snap = native::okta_snapshot(&org);
    drop(org);
    log(start, "org and Okta snapshot");
    let cfg = plugin::config::ConnectorConfig {
        name: CONNECTOR.into(),
        okta_domain: DOMAIN.into(),
        user_attributes: args.attributes.clone(),
        ..Default::default()
    };
    let planner = native::Planner::new(&cfg)?;
    let dir = tempfile::tempdir()?;
    let db = usersync::product::db::Db::open(&dir.path().join("lookups.db"))?;
    let empty = plugin::store::DirectorySnapshot::default();
    let t = planner.time_plan(&snap, &empty, &db.lock());
    log(
        start,
        &format!(
            "desired {:.0} ms, {} lookups {:.0} ms, plan {:.0} ms ({} changes)",
            t.desired_ms,
            t.lookups,
            t.lookups_ms,
            t.plan_ms,
            t.plan.changes.len()
        ),
    );
    let (ms, writes) = native::time_apply(&t.plan.changes)?;
    log(start, &format!("apply {ms:.0} ms ({writes} rows)"));
    let (users_ms, members_ms) = native::time_apply_split(&t.plan.changes)?;
    log(
        start,
        &format!(
            "apply in two batches: users and groups {users_ms:.0} ms, memberships {members_ms:.0} ms"
        ),
    );
    Ok(())
}
